/* SPDX-License-Identifier: BSD-2-Clause
 * Copyright (c) 2026 The nvmf developers */
/*
 * tasks.c - the host's own task thread: lifecycle work (namespace rescans
 * after an AEN, later reconnect and detach) runs here, never on the event
 * loop or a FUSE thread, in the order it was queued.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "hostd.h"

struct task {
	struct task *next;
	void (*fn)(void *);
	void *arg;
};

static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t cond = PTHREAD_COND_INITIALIZER;
static struct task *head, *tail;
static bool stopping;
static pthread_t thread;

static void *
task_main(void *arg)
{
	(void)arg;
	pthread_mutex_lock(&lock);
	for (;;) {
		struct task *t;

		while (head == NULL && !stopping)
			pthread_cond_wait(&cond, &lock);
		if (head == NULL)
			break;
		t = head;
		head = t->next;
		if (head == NULL)
			tail = NULL;
		pthread_mutex_unlock(&lock);
		t->fn(t->arg);
		free(t);
		pthread_mutex_lock(&lock);
	}
	pthread_mutex_unlock(&lock);
	return NULL;
}

int
hd_tasks_start(char *err, size_t errlen)
{
	errno = pthread_create(&thread, NULL, task_main, NULL);
	if (errno != 0) {
		snprintf(err, errlen, "task thread: %s", strerror(errno));
		return -1;
	}
	return 0;
}

void
hd_task_queue(void (*fn)(void *), void *arg)
{
	struct task *t = malloc(sizeof(*t));

	if (t == NULL) {
		daemon_log(LOG_ERR, "out of memory queueing a task: running it here");
		fn(arg);
		return;
	}
	t->fn = fn;
	t->arg = arg;
	t->next = NULL;
	pthread_mutex_lock(&lock);
	if (tail != NULL)
		tail->next = t;
	else
		head = t;
	tail = t;
	pthread_cond_signal(&cond);
	pthread_mutex_unlock(&lock);
}

void
hd_tasks_stop(void)
{
	pthread_mutex_lock(&lock);
	stopping = true;
	pthread_cond_signal(&cond);
	pthread_mutex_unlock(&lock);
	pthread_join(thread, NULL);	/* finishes what was queued first */
}
