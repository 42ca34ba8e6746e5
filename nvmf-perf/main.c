/* SPDX-License-Identifier: BSD-2-Clause
 * Copyright (c) 2026 The nvmf developers */
/*
 * main.c - nvmf-perf: spdk_nvme_perf's measurement on libnvmf. Connects,
 * hands each thread its I/O queues, keeps the admin queue alive while they
 * run, then prints the figures. Exit 0, 1 (connection, I/O or data error)
 * or 2 (a bad option).
 */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "output.h"
#include "text.h"

#define KEEP_ALIVE_NS		(5ull * 1000000000)
#define ADMIN_POLL_MS		200

static void
errmsg(const char *what)
{
	char line[1024];

	snprintf(line, sizeof(line), "%s", what);
	text_one_line(line);
	fprintf(stderr, "nvmf-perf: %s\n", line);
}

static void
on_signal(int sig)
{
	(void)sig;
	perf_interrupted = 1;
}

/* The CPU of thread i: the i-th set bit of the mask, or -1 unpinned. */
static int
thread_cpu(const struct perf_opts *o, unsigned i)
{
	if (o->cpu_mask == 0)
		return -1;
	for (int cpu = 0; cpu < 64; cpu++)
		if ((o->cpu_mask >> cpu) & 1) {
			if (i == 0)
				return cpu;
			i--;
		}
	return -1;
}

/* Drives the admin queue while the threads run; -1 with err once it fails. */
static int
watch_admin(struct perf_target *t, const struct perf_thread *threads, unsigned n,
    char *err, size_t errlen)
{
	uint64_t next_ka = perf_now_ns() + KEEP_ALIVE_NS;

	for (;;) {
		bool running = false;

		for (unsigned i = 0; i < n; i++)
			if (__atomic_load_n(&threads[i].done, __ATOMIC_ACQUIRE) == 0)
				running = true;
		if (!running)
			return 0;
		if (nvmf_qpair_poll(t->admin, ADMIN_POLL_MS) != 0) {
			snprintf(err, errlen, "admin queue: %s", nvmf_qpair_error(t->admin));
			return -1;
		}
		if (perf_now_ns() >= next_ka) {
			if (perf_target_keep_alive(t, 5000, err, errlen) != 0)
				return -1;
			next_ka = perf_now_ns() + KEEP_ALIVE_NS;
		}
	}
}

int
main(int argc, char **argv)
{
	struct perf_opts o;
	struct perf_target target;
	struct perf_thread *threads;
	struct perf_summary sum;
	struct sigaction sa;
	char err[1024];
	unsigned started = 0;
	int rc, status = 0;

	rc = perf_parse_options(argc, argv, &o, err, sizeof(err));
	if (rc == PERF_OPTS_HELP) {
		perf_usage(stdout);
		return 0;
	}
	if (rc != PERF_OPTS_OK) {
		errmsg(err);
		return PERF_EXIT_USAGE;
	}
	if (o.tcp_congestion[0] != '\0') {
		/* Tried now: a name this system lacks is a bad option. */
		char why[400];

		if (nvmf_tcp_congestion_check(o.tcp_congestion, why, sizeof(why)) != 0) {
			snprintf(err, sizeof(err), "--tcp-congestion: %s", why);
			errmsg(err);
			return PERF_EXIT_USAGE;
		}
	}
	/* A target going away mid-send is an error to report, not a kill. */
	signal(SIGPIPE, SIG_IGN);
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_signal;
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);

	if (perf_target_connect(&o, &target, err, sizeof(err)) != 0) {
		errmsg(err);
		return PERF_EXIT_ERROR;
	}
	threads = calloc(o.threads, sizeof(*threads));
	if (threads == NULL) {
		errmsg("out of memory");
		perf_target_close(&target);
		return PERF_EXIT_ERROR;
	}
	for (unsigned i = 0; i < o.threads; i++) {
		if (perf_thread_init(&threads[i], &o, &target, i, &target.io[i * o.queues],
		    o.queues, thread_cpu(&o, i), err, sizeof(err)) != 0) {
			errmsg(err);
			status = PERF_EXIT_ERROR;
			goto out;
		}
	}
	for (; started < o.threads; started++) {
		if (pthread_create(&threads[started].tid, NULL, perf_thread_run,
		    &threads[started]) != 0) {
			errmsg("cannot start a thread");
			perf_interrupted = 1;
			status = PERF_EXIT_ERROR;
			break;
		}
	}
	if (status == 0 && watch_admin(&target, threads, started, err, sizeof(err)) != 0) {
		errmsg(err);
		perf_interrupted = 1;
		status = PERF_EXIT_ERROR;
	}
	for (unsigned i = 0; i < started; i++)
		pthread_join(threads[i].tid, NULL);
	if (status != 0)
		goto out;
	for (unsigned i = 0; i < o.threads; i++) {
		if (threads[i].failed) {
			errmsg(threads[i].error);
			status = PERF_EXIT_ERROR;
			goto out;
		}
	}
	perf_summarize(&o, threads, o.threads, &sum);
	if (o.json)
		perf_print_json(stdout, &o, &target, &sum);
	else
		perf_print_text(stdout, &o, &target, &sum);
	fflush(stdout);
	for (unsigned i = 0; i < o.threads; i++) {
		if (threads[i].r.io_errors + threads[i].r.verify_errors > 0) {
			snprintf(err, sizeof(err), "%llu I/O errors, %llu verify errors; first: %s",
			    (unsigned long long)sum.io_errors,
			    (unsigned long long)sum.verify_errors, threads[i].r.first_error);
			errmsg(err);
			status = PERF_EXIT_ERROR;
			break;
		}
	}
out:
	for (unsigned i = 0; i < o.threads; i++)
		perf_thread_fini(&threads[i]);
	free(threads);
	perf_target_close(&target);
	return status;
}
