/* SPDX-License-Identifier: BSD-2-Clause
 * Copyright (c) 2026 The nvmf developers */
/*
 * workers.c - pools of threads that run queued jobs: the FUSE requests that
 * may wait, the control clients, the host's lifecycle tasks (a pool of one
 * thread: in order). A pool keeps its minimum of threads, starts one more
 * while every thread is busy, up to its maximum, and lets the extra ones go
 * after some idle seconds. A thread that finished a job takes the next: a
 * reconnect storm's thousand short control clients cost no thread creation
 * each, which on this kind of machine is as dear as the request itself.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "hostd.h"

struct job {
	struct job *next;
	void (*fn)(void *arg);
	void *arg;
};

struct hd_workers {
	pthread_mutex_t lock;
	pthread_cond_t work;		/* a job was queued, or the pool stops */
	pthread_cond_t gone;		/* a thread left */
	struct job *head, *tail;
	unsigned queued;		/* jobs no thread has taken yet */
	unsigned threads, idle;
	unsigned starting;		/* created, not yet looking for work */
	unsigned min, max, idle_s;	/* idle_s 0: the extra threads stay */
	size_t stack;			/* 0: the default */
	bool stopping;
};

static void *
worker_main(void *arg)
{
	struct hd_workers *w = arg;

	pthread_mutex_lock(&w->lock);
	w->starting--;
	for (;;) {
		struct job *j;

		while (w->head == NULL && !w->stopping) {
			int rc = 0;

			w->idle++;
			if (w->idle_s == 0 || w->threads <= w->min) {
				pthread_cond_wait(&w->work, &w->lock);
			} else {
				struct timespec dl;

				hd_realtime_deadline(&dl, (int)w->idle_s * 1000);
				rc = pthread_cond_timedwait(&w->work, &w->lock, &dl);
			}
			w->idle--;
			/* Threads a burst called up go when it is over. */
			if (rc == ETIMEDOUT && w->head == NULL && w->threads > w->min)
				goto out;
		}
		if (w->head == NULL)
			break;			/* stopping, and nothing left */
		j = w->head;
		w->head = j->next;
		if (w->head == NULL)
			w->tail = NULL;
		w->queued--;
		pthread_mutex_unlock(&w->lock);
		j->fn(j->arg);
		free(j);
		pthread_mutex_lock(&w->lock);
	}
out:
	w->threads--;
	pthread_cond_broadcast(&w->gone);
	pthread_mutex_unlock(&w->lock);
	return NULL;
}

/* Under the lock: one more thread; false if none could start. */
static bool
thread_add(struct hd_workers *w)
{
	pthread_attr_t attr;
	pthread_t t;
	int rc;

	pthread_attr_init(&attr);
	pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
	if (w->stack != 0)
		pthread_attr_setstacksize(&attr, w->stack);
	rc = pthread_create(&t, &attr, worker_main, w);
	pthread_attr_destroy(&attr);
	if (rc != 0)
		return false;
	w->threads++;
	w->starting++;
	return true;
}

struct hd_workers *
hd_workers_new(unsigned min, unsigned max, unsigned idle_s, size_t stack, char *err,
    size_t errlen)
{
	struct hd_workers *w = calloc(1, sizeof(*w));

	if (w == NULL) {
		snprintf(err, errlen, "out of memory");
		return NULL;
	}
	pthread_mutex_init(&w->lock, NULL);
	pthread_cond_init(&w->work, NULL);
	pthread_cond_init(&w->gone, NULL);
	w->min = min;
	w->max = max > 0 ? max : 1;
	w->idle_s = idle_s;
	w->stack = stack;
	pthread_mutex_lock(&w->lock);
	while (w->threads < min && thread_add(w))
		;
	pthread_mutex_unlock(&w->lock);
	if (w->threads < min) {
		snprintf(err, errlen, "cannot start threads: %s", strerror(EAGAIN));
		(void)hd_workers_stop(w, -1);
		hd_workers_free(w);
		return NULL;
	}
	return w;
}

int
hd_workers_run(struct hd_workers *w, void (*fn)(void *arg), void *arg)
{
	struct job *j = malloc(sizeof(*j));

	if (j == NULL)
		return -ENOMEM;
	*j = (struct job){ .fn = fn, .arg = arg };
	pthread_mutex_lock(&w->lock);
	if (w->stopping) {
		pthread_mutex_unlock(&w->lock);
		free(j);
		return -ESHUTDOWN;
	}
	if (w->tail != NULL)
		w->tail->next = j;
	else
		w->head = j;
	w->tail = j;
	w->queued++;
	/*
	 * More jobs waiting than threads free to take them (some jobs may wait a
	 * long time): one more thread, if allowed.
	 */
	if (w->queued > w->idle + w->starting && w->threads < w->max && !thread_add(w) &&
	    w->threads == 0) {
		/* No thread at all to run it: taken back off the tail. */
		struct job **pp = &w->head, *prev = NULL;

		while (*pp != j) {
			prev = *pp;
			pp = &(*pp)->next;
		}
		*pp = NULL;
		w->tail = prev;
		w->queued--;
		pthread_mutex_unlock(&w->lock);
		free(j);
		return -EAGAIN;
	}
	pthread_cond_signal(&w->work);
	pthread_mutex_unlock(&w->lock);
	return 0;
}

bool
hd_workers_stop(struct hd_workers *w, int timeout_ms)
{
	struct timespec dl;
	bool all;

	if (timeout_ms >= 0)
		hd_realtime_deadline(&dl, timeout_ms);
	pthread_mutex_lock(&w->lock);
	w->stopping = true;
	pthread_cond_broadcast(&w->work);
	/* Threads finish what was queued; one in a long job may not in time. */
	while (w->threads > 0) {
		if (timeout_ms < 0)
			pthread_cond_wait(&w->gone, &w->lock);
		else if (pthread_cond_timedwait(&w->gone, &w->lock, &dl) == ETIMEDOUT)
			break;
	}
	all = w->threads == 0;
	pthread_mutex_unlock(&w->lock);
	return all;
}

void
hd_workers_free(struct hd_workers *w)
{
	if (w == NULL)
		return;
	pthread_mutex_destroy(&w->lock);
	pthread_cond_destroy(&w->work);
	pthread_cond_destroy(&w->gone);
	free(w);
}
