/* SPDX-License-Identifier: BSD-2-Clause
 * Copyright (c) 2026 The nvmf developers */
/*
 * fuse_dispatch.c - the namespace files' requests, read from /dev/fuse by
 * the event loop itself. A read, write or fsync becomes commands on queue
 * pairs the loop owns: taken there, from a descriptor the loop polls with
 * its sockets, it costs no thread hop and no wake-up, and a burst of
 * requests read in one turn leaves in one send per queue pair. Whatever
 * may wait (lookup and open take locks, fallocate and writes of partial
 * blocks wait for the controller) goes to a pool of worker threads: a
 * request that waits must never hold up the loop that would answer it.
 */
#define FUSE_USE_VERSION 35
#include <errno.h>
#include <fcntl.h>
#include <fuse_lowlevel.h>
#include <linux/fuse.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "hostd.h"

/* Requests taken per loop turn at most: the queue pairs get their turn between. */
#define BURST		32
#define WORKERS_MIN	2
#define WORKERS_MAX	64
#define WORKER_IDLE_S	10

struct job {
	struct job *next;
	void (*fn)(void *arg);
	void *arg;
};

static struct fuse_session *session;
static struct fuse_buf loop_buf;	/* the loop's receive buffer, reused */
static int fuse_fd = -1;
static bool watching;			/* loop thread */

static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t work = PTHREAD_COND_INITIALIZER;
static pthread_cond_t gone = PTHREAD_COND_INITIALIZER;
static struct job *head, *tail;		/* lock */
static unsigned nworkers, nidle;	/* lock */
static bool stopping;			/* lock */

static void *
worker_main(void *arg)
{
	(void)arg;
	pthread_mutex_lock(&lock);
	for (;;) {
		struct job *j;

		while (head == NULL && !stopping) {
			struct timespec dl;
			int rc;

			hd_realtime_deadline(&dl, WORKER_IDLE_S * 1000);
			nidle++;
			rc = pthread_cond_timedwait(&work, &lock, &dl);
			nidle--;
			/* Workers a burst of slow requests called up go when idle. */
			if (rc == ETIMEDOUT && head == NULL && nworkers > WORKERS_MIN)
				goto out;
		}
		if (head == NULL)
			break;			/* stopping, and nothing left */
		j = head;
		head = j->next;
		if (head == NULL)
			tail = NULL;
		pthread_mutex_unlock(&lock);
		j->fn(j->arg);
		free(j);
		pthread_mutex_lock(&lock);
	}
out:
	nworkers--;
	pthread_cond_broadcast(&gone);
	pthread_mutex_unlock(&lock);
	return NULL;
}

/* Under lock: one more worker; false if none could start. */
static bool
worker_add(void)
{
	pthread_attr_t attr;
	pthread_t t;
	int rc;

	pthread_attr_init(&attr);
	pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
	rc = pthread_create(&t, &attr, worker_main, NULL);
	pthread_attr_destroy(&attr);
	if (rc != 0)
		return false;
	nworkers++;
	return true;
}

int
hd_fuse_defer(void (*fn)(void *arg), void *arg)
{
	struct job *j = malloc(sizeof(*j));

	if (j == NULL)
		return -ENOMEM;
	j->next = NULL;
	j->fn = fn;
	j->arg = arg;
	pthread_mutex_lock(&lock);
	if (tail != NULL)
		tail->next = j;
	else
		head = j;
	tail = j;
	/* Every worker busy (some may wait for a controller): one more. */
	if (nidle == 0 && nworkers < WORKERS_MAX && !worker_add() && nworkers == 0) {
		/* No thread at all to run it: taken back off the tail. */
		struct job **pp = &head, *prev = NULL;

		while (*pp != j) {
			prev = *pp;
			pp = &(*pp)->next;
		}
		*pp = NULL;
		tail = prev;
		pthread_mutex_unlock(&lock);
		free(j);
		return -EAGAIN;
	}
	pthread_cond_signal(&work);
	pthread_mutex_unlock(&lock);
	return 0;
}

/* A worker: one request, from its own copy of the bytes read. */
static void
process_copy(void *arg)
{
	struct fuse_buf *buf = arg;

	fuse_session_process_buf(session, buf);
	free(buf);
}

/*
 * No memory or no thread for a request that may wait: it fails (ENOMEM)
 * rather than run on the loop, where waiting for the loop would never end.
 */
static void
refuse(const struct fuse_buf *in)
{
	const struct fuse_in_header *h = in->mem;
	struct fuse_out_header out = { .len = sizeof(out), .error = -ENOMEM, .unique = h->unique };
	ssize_t n;

	daemon_log(LOG_ERR, "FUSE request %u refused: no memory or thread to serve it",
	    h->opcode);
	if (h->opcode == FUSE_FORGET || h->opcode == FUSE_BATCH_FORGET ||
	    h->opcode == FUSE_INTERRUPT)
		return;		/* these take no reply */
	n = write(fuse_fd, &out, sizeof(out));
	(void)n;
}

static void
to_worker(const struct fuse_buf *in)
{
	struct fuse_buf *copy = malloc(sizeof(*copy) + in->size);

	if (copy != NULL) {
		*copy = (struct fuse_buf){ .size = in->size, .mem = copy + 1 };
		memcpy(copy->mem, in->mem, in->size);
		if (hd_fuse_defer(process_copy, copy) == 0)
			return;
		free(copy);
	}
	refuse(in);
}

/* Requests that only build commands and return: the loop answers them. */
static bool
answered_on_loop(uint32_t opcode)
{
	switch (opcode) {
	case FUSE_READ:
	case FUSE_WRITE:		/* partial blocks: fs_write defers them */
	case FUSE_FSYNC:
	case FUSE_FLUSH:
		return true;
	default:
		return false;
	}
}

/*
 * Requests to take this turn. With none in flight (one request at a time,
 * QD1), one: the read after it would only say EAGAIN, a system call on
 * every request. Otherwise the whole burst, up to BURST: a second request
 * does not wait a turn. Too few costs a turn, never a request: the loop's
 * epoll is level-triggered.
 */
static unsigned
burst_limit(void)
{
	return hd_io_inflight() == 0 ? 1 : BURST;
}

/* The loop: /dev/fuse is readable. */
static void
fuse_readable(void *arg)
{
	unsigned limit = burst_limit();

	(void)arg;
	for (unsigned i = 0; i < limit && watching; i++) {
		int n = fuse_session_receive_buf(session, &loop_buf);
		const struct fuse_in_header *in = loop_buf.mem;

		if (n == -EAGAIN)
			return;
		if (n == -EINTR || n == -ENOENT)
			continue;	/* ENOENT: a request interrupted before it was read */
		if (n <= 0) {
			/* Unmounted (ENODEV), or the session was told to end. */
			hd_loop_unwatch(hd_loop, fuse_fd);
			watching = false;
			return;
		}
		if ((size_t)n < sizeof(*in))
			continue;	/* the kernel never sends less than a header */
		if (answered_on_loop(in->opcode))
			fuse_session_process_buf(session, &loop_buf);
		else
			to_worker(&loop_buf);
	}
}

int
hd_fuse_dispatch_start(struct fuse_session *se, char *err, size_t errlen)
{
	int flags, rc;

	session = se;
	fuse_fd = fuse_session_fd(se);
	flags = fcntl(fuse_fd, F_GETFL);
	if (flags < 0 || fcntl(fuse_fd, F_SETFL, flags | O_NONBLOCK) != 0) {
		snprintf(err, errlen, "/dev/fuse: %s", strerror(errno));
		return -1;
	}
	pthread_mutex_lock(&lock);
	stopping = false;
	while (nworkers < WORKERS_MIN && worker_add())
		;
	rc = nworkers > 0 ? 0 : -1;
	pthread_mutex_unlock(&lock);
	if (rc != 0) {
		snprintf(err, errlen, "FUSE worker threads: cannot start");
		return -1;
	}
	watching = true;
	rc = hd_loop_watch(hd_loop, fuse_fd, fuse_readable, NULL);
	if (rc != 0) {
		watching = false;
		snprintf(err, errlen, "watching /dev/fuse: %s", strerror(-rc));
		hd_fuse_dispatch_stop(1000);
		return -1;
	}
	return 0;
}

static void
unwatch_on_loop(void *arg)
{
	(void)arg;
	if (watching)
		hd_loop_unwatch(hd_loop, fuse_fd);
	watching = false;
}

bool
hd_fuse_dispatch_stop(int timeout_ms)
{
	struct timespec dl;
	bool all;

	hd_loop_call(hd_loop, unwatch_on_loop, NULL);
	hd_realtime_deadline(&dl, timeout_ms);
	pthread_mutex_lock(&lock);
	stopping = true;
	pthread_cond_broadcast(&work);
	/* Workers finish what was queued; one waiting for a controller may not. */
	while (nworkers > 0)
		if (pthread_cond_timedwait(&gone, &lock, &dl) == ETIMEDOUT)
			break;
	all = nworkers == 0;
	pthread_mutex_unlock(&lock);
	free(loop_buf.mem);
	loop_buf.mem = NULL;
	return all;
}
