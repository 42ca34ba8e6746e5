/* SPDX-License-Identifier: BSD-2-Clause
 * Copyright (c) 2026 The nvmf developers */
/*
 * uring.c - a connection's io_uring for file namespaces: commands become
 * submissions, their completions come back through an eventfd the
 * connection polls beside its socket, so its thread never waits on a disk.
 * Where io_uring is missing or forbidden (old kernels, seccomp in
 * containers) or NVMFD_NO_URING is set, nvmfd_ring_create says so once and
 * the caller keeps the synchronous path.
 */
#include <errno.h>
#include <liburing.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <syslog.h>
#include <unistd.h>

#include "nvmfd.h"

/* Queue size x DSM ranges would be more; a full ring is submitted and reused. */
#define RING_ENTRIES	256

struct nvmfd_ring {
	struct io_uring ring;
	int efd;
	unsigned inflight;		/* operations the kernel has not answered */
	unsigned unsubmitted;		/* prepared since the last submit */
};

/* One line per process on the way file I/O goes, not one per connection. */
static atomic_bool told;

static void
tell_once(int prio, const char *fmt, const char *why)
{
	if (!atomic_exchange(&told, true))
		daemon_log(prio, fmt, why);
}

struct nvmfd_ring *
nvmfd_ring_create(void)
{
	struct nvmfd_ring *r;
	const char *off = getenv("NVMFD_NO_URING");
	int rc;

	if (off != NULL && *off != '\0' && strcmp(off, "0") != 0) {
		tell_once(LOG_INFO, "file I/O: synchronous pread/pwrite (%s)",
		    "io_uring disabled by NVMFD_NO_URING");
		return NULL;
	}
	r = calloc(1, sizeof(*r));
	if (r == NULL)
		return NULL;
	rc = io_uring_queue_init(RING_ENTRIES, &r->ring, 0);
	if (rc < 0) {
		free(r);
		tell_once(LOG_WARNING, "file I/O: synchronous pread/pwrite (io_uring "
		    "unavailable: %s)", strerror(-rc));
		return NULL;
	}
	r->efd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
	if (r->efd < 0 || io_uring_register_eventfd(&r->ring, r->efd) != 0) {
		rc = errno;
		if (r->efd >= 0)
			close(r->efd);
		io_uring_queue_exit(&r->ring);
		free(r);
		tell_once(LOG_WARNING, "file I/O: synchronous pread/pwrite (io_uring "
		    "eventfd: %s)", strerror(rc));
		return NULL;
	}
	tell_once(LOG_INFO, "file I/O: %s, one ring per connection", "io_uring");
	return r;
}

void
nvmfd_ring_free(struct nvmfd_ring *r)
{
	if (r == NULL)
		return;
	nvmfd_ring_drain(r);
	io_uring_queue_exit(&r->ring);
	close(r->efd);
	free(r);
}

int
nvmfd_ring_fd(const struct nvmfd_ring *r)
{
	return r->efd;
}

unsigned
nvmfd_ring_inflight(const struct nvmfd_ring *r)
{
	return r->inflight;
}

/* A free submission entry; a full ring is submitted first to make room. */
static struct io_uring_sqe *
next_sqe(struct nvmfd_ring *r, struct nvmfd_ring_op *op)
{
	struct io_uring_sqe *sqe = io_uring_get_sqe(&r->ring);

	if (sqe == NULL) {
		nvmfd_ring_submit(r);
		sqe = io_uring_get_sqe(&r->ring);
		if (sqe == NULL)
			return NULL;
	}
	io_uring_sqe_set_data(sqe, op);
	r->inflight++;
	r->unsubmitted++;
	return sqe;
}

int
nvmfd_ring_read(struct nvmfd_ring *r, struct nvmfd_ring_op *op, int fd, void *buf,
    uint32_t len, uint64_t off)
{
	struct io_uring_sqe *sqe = next_sqe(r, op);

	if (sqe == NULL)
		return -EBUSY;
	io_uring_prep_read(sqe, fd, buf, len, off);
	return 0;
}

int
nvmfd_ring_write(struct nvmfd_ring *r, struct nvmfd_ring_op *op, int fd, const void *buf,
    uint32_t len, uint64_t off, bool dsync)
{
	struct io_uring_sqe *sqe = next_sqe(r, op);

	if (sqe == NULL)
		return -EBUSY;
	io_uring_prep_write(sqe, fd, buf, len, off);
	/* FUA: the data is on stable storage before the completion, as pwritev2. */
	if (dsync)
		sqe->rw_flags = RWF_DSYNC;
	return 0;
}

int
nvmfd_ring_fdatasync(struct nvmfd_ring *r, struct nvmfd_ring_op *op, int fd)
{
	struct io_uring_sqe *sqe = next_sqe(r, op);

	if (sqe == NULL)
		return -EBUSY;
	io_uring_prep_fsync(sqe, fd, IORING_FSYNC_DATASYNC);
	return 0;
}

int
nvmfd_ring_fallocate(struct nvmfd_ring *r, struct nvmfd_ring_op *op, int fd, int mode,
    uint64_t off, uint64_t len)
{
	struct io_uring_sqe *sqe = next_sqe(r, op);

	if (sqe == NULL)
		return -EBUSY;
	io_uring_prep_fallocate(sqe, fd, mode, (off_t)off, (off_t)len);
	return 0;
}

void
nvmfd_ring_submit(struct nvmfd_ring *r)
{
	int rc;

	if (r->unsubmitted == 0)
		return;
	/* Page-cache hits complete inside this call: the reap that follows finds them. */
	do
		rc = io_uring_submit(&r->ring);
	while (rc == -EINTR || rc == -EAGAIN || rc == -EBUSY);
	r->unsubmitted = 0;
}

unsigned
nvmfd_ring_reap(struct nvmfd_ring *r)
{
	struct io_uring_cqe *cqe;
	unsigned n = 0;
	uint64_t junk;

	/* The counter only wakes poll: what completed is in the queue. */
	(void)!read(r->efd, &junk, sizeof(junk));
	while (io_uring_peek_cqe(&r->ring, &cqe) == 0) {
		struct nvmfd_ring_op *op = io_uring_cqe_get_data(cqe);
		int res = cqe->res;

		io_uring_cqe_seen(&r->ring, cqe);
		r->inflight--;
		n++;
		op->done(op, res);	/* may prepare more: they go with the next submit */
	}
	return n;
}

void
nvmfd_ring_drain(struct nvmfd_ring *r)
{
	while (r->inflight > 0) {
		struct io_uring_cqe *cqe;

		nvmfd_ring_submit(r);
		if (io_uring_wait_cqe(&r->ring, &cqe) != 0)
			continue;
		(void)nvmfd_ring_reap(r);
	}
}
