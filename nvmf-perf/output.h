/* SPDX-License-Identifier: BSD-2-Clause
 * Copyright (c) 2026 The nvmf developers */
/*
 * output.h - the result of a run, as a table line or one JSON object.
 */
#ifndef NVMF_PERF_OUTPUT_H
#define NVMF_PERF_OUTPUT_H

#include <stdio.h>

#include "workload.h"

struct perf_summary {
	double seconds;			/* the measured window */
	uint64_t reads, writes;
	uint64_t io_errors, verify_errors;
	double iops, read_iops, write_iops;
	double bandwidth_mibs;
	double avg_us, min_us, p50_us, p99_us, p999_us, max_us;
};

/* Adds up the threads' results: counts, histograms, the longest window. */
void perf_summarize(const struct perf_opts *o, const struct perf_thread *threads,
    unsigned n, struct perf_summary *s);
void perf_print_text(FILE *f, const struct perf_opts *o, const struct perf_target *t,
    const struct perf_summary *s);
void perf_print_json(FILE *f, const struct perf_opts *o, const struct perf_target *t,
    const struct perf_summary *s);

#endif /* NVMF_PERF_OUTPUT_H */
