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
#include <unistd.h>

#include "hostd.h"

/* Requests taken per loop turn at most: the queue pairs get their turn between. */
#define BURST		32
/* Worker threads: kept, at most, and the idle seconds after which extra ones go. */
#define WORKERS_MIN	2
#define WORKERS_MAX	64
#define WORKER_IDLE_S	10

static struct fuse_session *session;
static struct fuse_buf loop_buf;	/* the loop's receive buffer, reused */
static int fuse_fd = -1;
static bool watching;			/* loop thread */
static struct hd_workers *workers;

int
hd_fuse_defer(void (*fn)(void *arg), void *arg)
{
	return workers != NULL ? hd_workers_run(workers, fn, arg) : -EAGAIN;
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
fuse_readable(void *arg, uint32_t events)
{
	unsigned limit = burst_limit();

	(void)arg;
	(void)events;
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
	char why[128];
	int flags, rc;

	session = se;
	fuse_fd = fuse_session_fd(se);
	flags = fcntl(fuse_fd, F_GETFL);
	if (flags < 0 || fcntl(fuse_fd, F_SETFL, flags | O_NONBLOCK) != 0) {
		snprintf(err, errlen, "/dev/fuse: %s", strerror(errno));
		return -1;
	}
	workers = hd_workers_new(WORKERS_MIN, WORKERS_MAX, WORKER_IDLE_S, 0, why, sizeof(why));
	if (workers == NULL) {
		snprintf(err, errlen, "FUSE worker threads: %s", why);
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
	bool all;

	hd_loop_call(hd_loop, unwatch_on_loop, NULL);
	/* Workers finish what was queued; one waiting for a controller may not. */
	all = hd_workers_stop(workers, timeout_ms);
	free(loop_buf.mem);
	loop_buf.mem = NULL;
	return all;
}
