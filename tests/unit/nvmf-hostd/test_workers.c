/* SPDX-License-Identifier: BSD-2-Clause
 * Copyright (c) 2026 The nvmf developers */
/*
 * test_workers.c - nvmf-hostd's thread pools: a pool of one runs jobs in
 * order; a pool grows while its threads are busy, up to its maximum, and a
 * job beyond it waits its turn; stop runs what was queued, says false while
 * a job outlasts the timeout, and refuses new jobs; threads beyond the
 * minimum go once idle, and a finished thread takes the next job.
 */
#include <dirent.h>
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "hostd.h"

static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static int main_threads;	/* the test's own, before any pool */
static pthread_cond_t changed = PTHREAD_COND_INITIALIZER;
static int order[64], ran, running, gate_open;

static void
reset(void)
{
	pthread_mutex_lock(&lock);
	memset(order, 0, sizeof(order));
	ran = running = gate_open = 0;
	pthread_mutex_unlock(&lock);
}

/* Notes its number in the order it ran. */
static void
record(void *arg)
{
	pthread_mutex_lock(&lock);
	order[ran++] = (int)(intptr_t)arg;
	pthread_cond_broadcast(&changed);
	pthread_mutex_unlock(&lock);
}

/* Holds its thread until the gate opens. */
static void
wait_gate(void *arg)
{
	pthread_mutex_lock(&lock);
	running++;
	pthread_cond_broadcast(&changed);
	while (!gate_open)
		pthread_cond_wait(&changed, &lock);
	running--;
	order[ran++] = (int)(intptr_t)arg;
	pthread_cond_broadcast(&changed);
	pthread_mutex_unlock(&lock);
}

static void
open_gate(void)
{
	pthread_mutex_lock(&lock);
	gate_open = 1;
	pthread_cond_broadcast(&changed);
	pthread_mutex_unlock(&lock);
}

/* Waits (up to 5 s) until *what reaches want. */
static void
await(const int *what, int want)
{
	struct timespec dl;

	hd_realtime_deadline(&dl, 5000);
	pthread_mutex_lock(&lock);
	while (*what != want)
		if (pthread_cond_timedwait(&changed, &lock, &dl) == ETIMEDOUT)
			break;
	assert_int_equal(*what, want);
	pthread_mutex_unlock(&lock);
}

static int
threads_now(void)
{
	DIR *d = opendir("/proc/self/task");
	int n = 0;

	assert_non_null(d);
	for (struct dirent *e; (e = readdir(d)) != NULL;)
		n += e->d_name[0] != '.';
	closedir(d);
	return n;
}

/* Threads gone from the pool's count leave the process a moment later. */
static void
await_threads(int want)
{
	for (int tries = 0; threads_now() != want && tries < 250; tries++)
		usleep(20 * 1000);
	assert_int_equal(threads_now(), want);
}

/* The threads of the test before are gone: the count starts from the test's own. */
static int
settled_threads(void)
{
	await_threads(main_threads);
	return main_threads;
}

static void
test_one_thread_keeps_order(void **state)
{
	char err[128];
	struct hd_workers *w = hd_workers_new(1, 1, 0, 0, err, sizeof(err));

	(void)state;
	reset();
	assert_non_null(w);
	for (int i = 1; i <= 20; i++)
		assert_int_equal(hd_workers_run(w, record, (void *)(intptr_t)i), 0);
	await(&ran, 20);
	for (int i = 0; i < 20; i++)
		assert_int_equal(order[i], i + 1);
	assert_true(hd_workers_stop(w, -1));
	assert_int_equal(hd_workers_run(w, record, NULL), -ESHUTDOWN);
	hd_workers_free(w);
}

static void
test_grows_to_its_most_then_queues(void **state)
{
	char err[128];
	int base = settled_threads();
	struct hd_workers *w = hd_workers_new(0, 3, 0, 0, err, sizeof(err));

	(void)state;
	reset();
	assert_non_null(w);
	assert_int_equal(threads_now(), base);	/* no minimum: none yet */
	for (int i = 1; i <= 4; i++)
		assert_int_equal(hd_workers_run(w, wait_gate, (void *)(intptr_t)i), 0);
	await(&running, 3);			/* three at once, the fourth waits */
	assert_int_equal(threads_now(), base + 3);
	usleep(100 * 1000);
	pthread_mutex_lock(&lock);
	assert_int_equal(running, 3);
	assert_int_equal(ran, 0);
	pthread_mutex_unlock(&lock);
	/* A stop that times out while jobs hold their threads says so. */
	assert_false(hd_workers_stop(w, 100));
	assert_int_equal(hd_workers_run(w, record, NULL), -ESHUTDOWN);
	open_gate();
	await(&ran, 4);				/* the queued one ran too */
	assert_true(hd_workers_stop(w, 5000));
	hd_workers_free(w);
	await_threads(base);
}

static void
test_idle_threads_go_and_are_reused(void **state)
{
	char err[128];
	int base = settled_threads();
	struct hd_workers *w = hd_workers_new(1, 8, 1, 64 * 1024, err, sizeof(err));

	(void)state;
	reset();
	assert_non_null(w);
	assert_int_equal(threads_now(), base + 1);
	for (int i = 1; i <= 4; i++)
		assert_int_equal(hd_workers_run(w, wait_gate, (void *)(intptr_t)i), 0);
	await(&running, 4);
	assert_int_equal(threads_now(), base + 4);
	open_gate();
	await(&ran, 4);
	/* Short jobs one after another: the idle threads take them, none is started. */
	for (int i = 5; i <= 40; i++) {
		assert_int_equal(hd_workers_run(w, record, (void *)(intptr_t)i), 0);
		await(&ran, i);
		assert_true(threads_now() <= base + 4);
	}
	/* After a second idle, the pool is back to its minimum. */
	sleep(1);
	await_threads(base + 1);
	assert_true(hd_workers_stop(w, 5000));
	hd_workers_free(w);
	await_threads(base);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_one_thread_keeps_order),
		cmocka_unit_test(test_grows_to_its_most_then_queues),
		cmocka_unit_test(test_idle_threads_go_and_are_reused),
	};

	main_threads = threads_now();
	return cmocka_run_group_tests(tests, NULL, NULL);
}
