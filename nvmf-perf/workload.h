/* SPDX-License-Identifier: BSD-2-Clause
 * Copyright (c) 2026 The nvmf developers */
/*
 * workload.h - one thread's I/O: its queue pairs, a slot per command in
 * flight (buffer allocated once), a new command submitted from each
 * completion, latencies into the thread's own histogram.
 */
#ifndef NVMF_PERF_WORKLOAD_H
#define NVMF_PERF_WORKLOAD_H

#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>

#include "histogram.h"
#include "perf.h"

struct perf_thread;

struct perf_slot {
	struct perf_queue *q;
	uint8_t *buf;
	uint64_t start_ns;
	uint64_t slba;
	bool write;
};

struct perf_queue {
	struct nvmf_qpair *qp;
	struct perf_thread *t;
	struct perf_slot *slots;	/* depth of them */
	uint64_t next_lba;		/* sequential workloads */
	unsigned inflight;
};

struct perf_result {
	uint64_t reads, writes;		/* completed in the measured time */
	uint64_t io_errors;
	uint64_t verify_errors;
	char first_error[256];
	struct histogram hist;		/* nanoseconds, every measured I/O */
};

struct perf_thread {
	const struct perf_opts *o;
	const struct perf_target *target;
	unsigned index;
	int cpu;			/* -1: not pinned */
	struct perf_queue *queues;
	unsigned nqueues;
	uint64_t blocks_per_io;
	uint64_t rng;
	uint64_t start_ns, end_ns;	/* the measured window */
	uint64_t stopped_ns;		/* when measuring stopped (end or a signal) */
	bool stopping;
	int done;			/* set last, read by main (__atomic) */
	bool failed;			/* a queue pair failed: the run is void */
	char error[300];
	struct perf_result r;
	pthread_t tid;
};

/* Set from a signal handler: every thread stops submitting. */
extern volatile sig_atomic_t perf_interrupted;

uint64_t perf_now_ns(void);
/* Allocates a thread's slots and buffers for its queues; -1 with err. */
int perf_thread_init(struct perf_thread *t, const struct perf_opts *o,
    const struct perf_target *target, unsigned index, struct nvmf_qpair **qps,
    unsigned nqps, int cpu, char *err, size_t errlen);
/* Runs from start_ns for o->seconds, then waits for what is in flight. */
void *perf_thread_run(void *arg);
void perf_thread_fini(struct perf_thread *t);

/* The verify pattern: a function of the byte offset in the namespace. */
void perf_pattern_fill(uint8_t *buf, uint32_t len, uint64_t byte_offset);
/* Offset in buf of the first 8 bytes that differ from the pattern, or -1. */
int64_t perf_pattern_check(const uint8_t *buf, uint32_t len, uint64_t byte_offset);

#endif /* NVMF_PERF_WORKLOAD_H */
