/* SPDX-License-Identifier: BSD-2-Clause
 * Copyright (c) 2026 The nvmf developers */
/*
 * histogram.h - latencies in a log-linear histogram: each power of two is
 * split into HIST_SUB equal buckets, so a percentile is known to within
 * 1/HIST_SUB of its value whatever the run's length, in fixed memory.
 */
#ifndef NVMF_PERF_HISTOGRAM_H
#define NVMF_PERF_HISTOGRAM_H

#include <stdint.h>

#define HIST_SUB_BITS	6
#define HIST_SUB	(1u << HIST_SUB_BITS)	/* 64 buckets: under 1.6 % error */
#define HIST_LEVELS	40			/* up to 2^45 ns, far beyond any I/O */
#define HIST_BUCKETS	(HIST_LEVELS * HIST_SUB)

struct histogram {
	uint64_t count;
	uint64_t sum;
	uint64_t min;
	uint64_t max;
	uint64_t bucket[HIST_BUCKETS];
};

void hist_init(struct histogram *h);
void hist_record(struct histogram *h, uint64_t value);
/* Adds every sample of from into into. */
void hist_merge(struct histogram *into, const struct histogram *from);
/*
 * The value below which pct percent of the samples lie (pct in [0, 100]),
 * as the middle of its bucket, kept within [min, max]; 0 when empty.
 */
uint64_t hist_percentile(const struct histogram *h, double pct);
double hist_mean(const struct histogram *h);

/* Bucket arithmetic, exposed for the unit test. */
unsigned hist_index(uint64_t value);
uint64_t hist_bucket_low(unsigned index);
uint64_t hist_bucket_high(unsigned index);	/* inclusive */

#endif /* NVMF_PERF_HISTOGRAM_H */
