/* SPDX-License-Identifier: BSD-2-Clause
 * Copyright (c) 2026 The nvmf developers */
/*
 * workload.c - the I/O generator of one thread. Its queue pairs sit in one
 * libnvmf poll group (polled without sleeping with --busy-poll); every
 * completion records its latency and, while the run lasts, submits the
 * slot's next command from the callback, which the group sends with the
 * others of the same turn in one sendmsg per queue pair.
 */
#include <errno.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "workload.h"

#define DRAIN_NS		(10ull * 1000000000)	/* in-flight commands after the end */
#define PATTERN_KEY		0x6e766d662d706572ull	/* "nvmf-per": not offset-like */

volatile sig_atomic_t perf_interrupted;

uint64_t
perf_now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

void
perf_pattern_fill(uint8_t *buf, uint32_t len, uint64_t byte_offset)
{
	for (uint32_t i = 0; i + 8 <= len; i += 8) {
		uint64_t v = (byte_offset + i) ^ PATTERN_KEY;

		memcpy(buf + i, &v, 8);
	}
}

int64_t
perf_pattern_check(const uint8_t *buf, uint32_t len, uint64_t byte_offset)
{
	for (uint32_t i = 0; i + 8 <= len; i += 8) {
		uint64_t v = (byte_offset + i) ^ PATTERN_KEY, got;

		memcpy(&got, buf + i, 8);
		if (got != v)
			return i;
	}
	return -1;
}

/* xorshift64*: cheap, and good enough to spread offsets and the read/write mix. */
static uint64_t
rng_next(uint64_t *s)
{
	*s ^= *s >> 12;
	*s ^= *s << 25;
	*s ^= *s >> 27;
	return *s * 0x2545f4914f6cdd1dull;
}

static void
thread_fail(struct perf_thread *t, const char *fmt, const char *why)
{
	if (!t->failed)
		snprintf(t->error, sizeof(t->error), fmt, why);
	t->failed = true;
	t->stopping = true;
}

static void io_done(void *arg, const struct nvme_completion *cqe);

/* now: when the slot became free, which is when its next command starts. */
static int
submit(struct perf_slot *s, uint64_t now)
{
	struct perf_queue *q = s->q;
	struct perf_thread *t = q->t;
	const struct perf_opts *o = t->o;
	struct nvme_command sqe;
	uint64_t units = t->target->nlb / t->blocks_per_io;
	int rc;

	s->write = o->read_pct == 0 ||
	    (o->read_pct < 100 && rng_next(&t->rng) % 100 >= o->read_pct);
	if (o->random) {
		s->slba = (rng_next(&t->rng) % units) * t->blocks_per_io;
	} else {
		if (q->next_lba + t->blocks_per_io > t->target->nlb)
			q->next_lba = 0;
		s->slba = q->next_lba;
		q->next_lba += t->blocks_per_io;
	}
	if (s->write && o->verify)
		perf_pattern_fill(s->buf, o->io_size, s->slba * t->target->lba_size);
	nvmf_cmd_rw(&sqe, s->write ? NVME_IO_WRITE : NVME_IO_READ, t->target->nsid, s->slba,
	    (uint32_t)t->blocks_per_io);
	s->start_ns = now;
	rc = nvmf_host_submit(q->qp, &sqe, s->buf, o->io_size, s->write, io_done, s);
	if (rc != 0) {
		thread_fail(t, "submitting a command: %s", rc == -ENOTCONN ?
		    nvmf_qpair_error(q->qp) : strerror(-rc));
		return -1;
	}
	q->inflight++;
	return 0;
}

static void
io_done(void *arg, const struct nvme_completion *cqe)
{
	struct perf_slot *s = arg;
	struct perf_queue *q = s->q;
	struct perf_thread *t = q->t;
	const struct perf_opts *o = t->o;
	uint64_t now = perf_now_ns();
	uint16_t status;
	bool measured;

	q->inflight--;
	if (cqe == NULL) {
		thread_fail(t, "%s", "a command was lost with its queue pair");
		return;
	}
	measured = !t->stopping && now < t->end_ns;
	status = NVME_CQE_STATUS(cqe->status) & (uint16_t)~NVME_STATUS_DNR;
	if (status != 0) {
		if (t->r.io_errors++ == 0)
			snprintf(t->r.first_error, sizeof(t->r.first_error), "%s of LBA %llu: %s",
			    s->write ? "write" : "read", (unsigned long long)s->slba,
			    nvmf_status_string(status));
	} else if (!s->write && o->verify) {
		int64_t at = perf_pattern_check(s->buf, o->io_size,
		    s->slba * t->target->lba_size);

		if (at >= 0 && t->r.verify_errors++ == 0)
			snprintf(t->r.first_error, sizeof(t->r.first_error),
			    "read of LBA %llu: data differs from the pattern at byte %lld",
			    (unsigned long long)s->slba, (long long)at);
	}
	if (measured) {
		hist_record(&t->r.hist, now - s->start_ns);
		if (s->write)
			t->r.writes++;
		else
			t->r.reads++;
		/* The completion's clock reading starts the next command: one
		 * clock_gettime per I/O instead of two. */
		(void)submit(s, now);
	}
}

static unsigned
inflight(const struct perf_thread *t)
{
	unsigned n = 0;

	for (unsigned i = 0; i < t->nqueues; i++)
		n += t->queues[i].inflight;
	return n;
}

int
perf_thread_init(struct perf_thread *t, const struct perf_opts *o,
    const struct perf_target *target, unsigned index, struct nvmf_qpair **qps,
    unsigned nqps, int cpu, char *err, size_t errlen)
{
	uint64_t units;

	memset(t, 0, sizeof(*t));
	t->o = o;
	t->target = target;
	t->index = index;
	t->cpu = cpu;
	t->blocks_per_io = o->io_size / target->lba_size;
	t->rng = 0x9e3779b97f4a7c15ull * (index + 1) ^ perf_now_ns();
	if (t->rng == 0)
		t->rng = 1;
	hist_init(&t->r.hist);
	units = target->nlb / t->blocks_per_io;
	t->queues = calloc(nqps, sizeof(*t->queues));
	if (t->queues == NULL)
		goto oom;
	t->nqueues = nqps;
	for (unsigned i = 0; i < nqps; i++) {
		struct perf_queue *q = &t->queues[i];
		unsigned global = index * nqps + i, total = o->threads * o->queues;

		q->qp = qps[i];
		q->t = t;
		/* Sequential streams start spread over the namespace. */
		q->next_lba = (units * global / total) * t->blocks_per_io;
		q->slots = calloc(o->depth, sizeof(*q->slots));
		if (q->slots == NULL)
			goto oom;
		for (unsigned j = 0; j < o->depth; j++) {
			struct perf_slot *s = &q->slots[j];

			s->q = q;
			if (posix_memalign((void **)&s->buf, 4096, o->io_size) != 0) {
				s->buf = NULL;
				goto oom;
			}
			/* Writes without --verify send this, filled once. */
			perf_pattern_fill(s->buf, o->io_size, 0);
		}
	}
	return 0;
oom:
	snprintf(err, errlen, "out of memory for %u x %u-byte buffers", o->depth, o->io_size);
	perf_thread_fini(t);
	return -1;
}

void
perf_thread_fini(struct perf_thread *t)
{
	for (unsigned i = 0; t->queues != NULL && i < t->nqueues; i++) {
		for (unsigned j = 0; t->queues[i].slots != NULL && j < t->o->depth; j++)
			free(t->queues[i].slots[j].buf);
		free(t->queues[i].slots);
	}
	free(t->queues);
	t->queues = NULL;
}

/* The group took a failed queue pair out; its commands were called back first. */
static void
queue_failed(void *arg, struct nvmf_qpair *qp)
{
	thread_fail(arg, "%s", nvmf_qpair_error(qp));
}

static void
run_loop(struct perf_thread *t, struct nvmf_poll_group *pg)
{
	for (;;) {
		uint64_t now = perf_now_ns();
		int timeout = 100;

		if (!t->stopping && (now >= t->end_ns || perf_interrupted)) {
			t->stopping = true;
			t->stopped_ns = now < t->end_ns ? now : t->end_ns;
		}
		if (t->stopping && inflight(t) == 0)
			return;
		if (t->stopping && now > t->stopped_ns + DRAIN_NS) {
			thread_fail(t, "%s", "commands still in flight 10 s after the end");
			return;
		}
		if (t->o->busy_poll)
			timeout = 0;
		else if (!t->stopping && t->end_ns - now < 100000000ull)
			timeout = (int)((t->end_ns - now) / 1000000) + 1;
		/* One turn: completions, their resubmissions, one send per queue. */
		if (nvmf_poll_group_poll(pg, timeout) < 0) {
			thread_fail(t, "poll group: %s", strerror(errno));
			return;
		}
	}
}

void *
perf_thread_run(void *arg)
{
	struct perf_thread *t = arg;
	struct nvmf_poll_group *pg;
	char err[256];

	if (t->cpu >= 0) {
		cpu_set_t set;

		CPU_ZERO(&set);
		CPU_SET(t->cpu, &set);
		/* A CPU outside our affinity is the user's to see, not fatal. */
		(void)pthread_setaffinity_np(pthread_self(), sizeof(set), &set);
	}
	/* One poll group per thread: its queue pairs are this thread's alone. */
	pg = nvmf_poll_group_create(queue_failed, t, err, sizeof(err));
	if (pg == NULL) {
		thread_fail(t, "%s", err);
		__atomic_store_n(&t->done, 1, __ATOMIC_RELEASE);
		return NULL;
	}
	for (unsigned i = 0; i < t->nqueues && !t->failed; i++) {
		int rc = nvmf_poll_group_add(pg, t->queues[i].qp);

		if (rc != 0)
			thread_fail(t, "poll group: %s", rc == -ENOTCONN ?
			    nvmf_qpair_error(t->queues[i].qp) : strerror(-rc));
	}
	t->start_ns = perf_now_ns();
	t->end_ns = t->start_ns + (uint64_t)t->o->seconds * 1000000000ull;
	/* Queued only: the group's first turn sends each queue's batch at once. */
	for (unsigned i = 0; i < t->nqueues && !t->failed; i++) {
		struct perf_queue *q = &t->queues[i];

		for (unsigned j = 0; j < t->o->depth && !t->failed; j++)
			(void)submit(&q->slots[j], perf_now_ns());
	}
	if (!t->failed)
		run_loop(t, pg);
	if (t->stopped_ns == 0)
		t->stopped_ns = perf_now_ns();
	/* The queue pairs leave the group; main frees them. */
	nvmf_poll_group_free(pg);
	__atomic_store_n(&t->done, 1, __ATOMIC_RELEASE);
	return NULL;
}
