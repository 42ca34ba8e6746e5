/* SPDX-License-Identifier: BSD-2-Clause
 * Copyright (c) 2026 The nvmf developers */
/*
 * perf.h - nvmf-perf: what its parts share. options.c reads the command
 * line, target.c builds the association, workload.c runs the I/O of one
 * thread, histogram.c keeps latencies, output.c prints the result.
 */
#ifndef NVMF_PERF_H
#define NVMF_PERF_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "nvmf/libnvmf.h"

#define PERF_EXIT_ERROR		1	/* connection, I/O or verify failure */
#define PERF_EXIT_USAGE		2	/* a bad option, as nvmecontrol */

#define PERF_MAX_THREADS	64
#define PERF_MAX_QUEUES		1024	/* threads x queues per thread */
#define PERF_NQN_MAX		224	/* NVMF_NQN_MAX_LEN + 1 */

enum perf_pattern {
	PERF_READ,
	PERF_WRITE,
	PERF_RANDREAD,
	PERF_RANDWRITE,
	PERF_RW,
	PERF_RANDRW,
};

struct perf_opts {
	/* -r 'trtype:tcp traddr:A trsvcid:P subnqn:N [hostnqn:N] [ns:ID]' */
	char traddr[256];
	char trsvcid[32];
	char subnqn[PERF_NQN_MAX];
	char hostnqn[PERF_NQN_MAX];	/* "" : /etc/nvme/hostnqn or a new one */
	uint32_t nsid;			/* 0: the first active namespace */
	uint32_t depth;			/* -q: commands in flight per queue */
	uint32_t io_size;		/* -o: bytes per command */
	enum perf_pattern pattern;	/* -w */
	bool random;
	unsigned read_pct;		/* -M, or 100/0 for the pure workloads */
	uint32_t seconds;		/* -t */
	uint32_t queues;		/* -P: I/O queue pairs per thread */
	uint32_t threads;		/* -c: a count, or the bits of a mask */
	uint64_t cpu_mask;		/* -c 0x...: pin thread i to the i-th set CPU */
	bool header_digest;		/* -H */
	bool data_digest;		/* -I */
	bool busy_poll;			/* --busy-poll */
	bool json;			/* --json */
	bool verify;			/* --verify */
	uint32_t timeout_ms;		/* --timeout: each connection step */
	char tcp_congestion[NVMF_TCP_CONGESTION_LEN];	/* --tcp-congestion; "": the system's */
};

/* options.c */
#define PERF_OPTS_OK	0
#define PERF_OPTS_HELP	1		/* -h: usage printed, exit 0 */
#define PERF_OPTS_ERROR	(-1)		/* err holds the one line */
int perf_parse_options(int argc, char **argv, struct perf_opts *o, char *err,
    size_t errlen);
/* Parses -r's transport ID into o; -1 with err naming the bad key. */
int perf_parse_trid(const char *s, struct perf_opts *o, char *err, size_t errlen);
const char *perf_pattern_name(enum perf_pattern p);
void perf_usage(FILE *f);

/* target.c: the controller and its I/O queues. */
struct perf_target {
	struct nvmf_qpair *admin;
	struct nvmf_qpair **io;		/* threads x queues, thread-major */
	uint32_t nio;
	uint16_t cntlid;
	uint32_t nsid;
	uint64_t nlb;			/* namespace size in blocks */
	uint32_t lba_size;
	uint32_t max_transfer;		/* MDTS in bytes, 0 unlimited */
	uint32_t qsize;
};
int perf_target_connect(const struct perf_opts *o, struct perf_target *t, char *err,
    size_t errlen);
/* Keep-alive on the admin queue; -1 with err once it fails. */
int perf_target_keep_alive(struct perf_target *t, int timeout_ms, char *err,
    size_t errlen);
void perf_target_close(struct perf_target *t);

#endif /* NVMF_PERF_H */
