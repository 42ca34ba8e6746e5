/* SPDX-License-Identifier: BSD-2-Clause
 * Copyright (c) 2026 The nvmf developers */
/*
 * io.c - a namespace's reads, writes and flushes answered from their
 * completion. The submitting thread (a FUSE worker) builds the commands,
 * hands them to the loop and returns; the loop thread, finishing the last
 * of them, reports the request. No thread waits per request, so what bounds
 * the I/O in flight is the queue pairs, not the number of FUSE threads; and
 * a request costs one thread hop, not two.
 */
#include <errno.h>
#include <malloc.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "hostd.h"

/*
 * One request with its commands and its data in one allocation. The
 * submitter fills it in; from hd_loop_submit on it is the loop thread's.
 */
struct io {
	struct hd_namespace *ns;	/* referenced until done has run */
	hd_io_done done;
	void *arg;
	uint8_t *data;			/* read: where the blocks land; write: a copy */
	size_t skip;			/* read: where the bytes asked for begin in data */
	size_t len;			/* bytes reported on success */
	unsigned pending;		/* commands not finished yet */
	unsigned ncmds;
	struct hd_cmd cmds[];
};

/* Requests handed to the loop and not yet done: shutdown waits for them. */
static atomic_uint inflight;

void
hd_io_init(void)
{
	/*
	 * Requests of up to 1 MiB come and go by the thousand a second. Left
	 * to itself, malloc serves them with mmap, or trims the heaps they
	 * leave, and every one of their pages faults in again: some twenty
	 * faults per MiB read. Kept in the heap they are reused warm.
	 */
	mallopt(M_MMAP_THRESHOLD, 4 << 20);
	mallopt(M_TRIM_THRESHOLD, 64 << 20);
}

static struct io *
io_new(struct hd_namespace *ns, unsigned ncmds, size_t datalen, hd_io_done done, void *arg)
{
	/* The data starts on a cache line: large copies into and out of it go faster. */
	size_t head = (sizeof(struct io) + ncmds * sizeof(struct hd_cmd) + 63) & ~(size_t)63;
	struct io *io = malloc(head + datalen);

	if (io == NULL)
		return NULL;
	memset(io, 0, sizeof(*io) + ncmds * sizeof(struct hd_cmd));
	io->ns = ns;
	io->done = done;
	io->arg = arg;
	io->data = (uint8_t *)io + head;
	io->ncmds = ncmds;
	return io;
}

/* Loop thread: the request's last command is done. */
static void
io_finish(struct io *io)
{
	struct hd_namespace *ns = io->ns;
	ssize_t result = (ssize_t)io->len;

	/* A split request fails as its first failing part says, as before. */
	for (unsigned i = 0; i < io->ncmds; i++) {
		int rc = hd_cmd_errno(&io->cmds[i]);

		if (rc != 0) {
			result = rc;
			break;
		}
	}
	io->done(io->arg, result, result >= 0 ? io->data + io->skip : NULL);
	free(io);
	/* Last: the reference may be the namespace's (and its controller's) last. */
	hd_ns_put(ns);
	atomic_fetch_sub_explicit(&inflight, 1, memory_order_release);
}

static void
io_cmd_done(struct hd_cmd *cmd)
{
	struct io *io = cmd->owner;

	if (--io->pending == 0)
		io_finish(io);
}

static void
io_submit(struct io *io)
{
	struct hd_namespace *ns = io->ns;

	for (unsigned i = 0; i < io->ncmds; i++) {
		io->cmds[i].ctrl = ns->ctrl;
		io->cmds[i].cb = io_cmd_done;
		io->cmds[i].owner = io;
	}
	io->pending = io->ncmds;
	hd_ns_get(ns);
	atomic_fetch_add_explicit(&inflight, 1, memory_order_relaxed);
	hd_loop_submit(hd_loop, io->cmds, io->ncmds);
}

/* Whole blocks [start, end) of the namespace in one request. */
static struct io *
io_blocks(struct hd_namespace *ns, bool write, uint64_t start, uint64_t end, hd_io_done done,
    void *arg)
{
	uint32_t per = hd_ns_blocks_per_cmd(ns);
	uint64_t slba = start >> ns->lba_shift, nblocks = (end - start) >> ns->lba_shift;
	unsigned n = hd_ns_rw_fill(ns, per, write, NULL, slba, nblocks, NULL);
	struct io *io = io_new(ns, n, (size_t)(end - start), done, arg);

	if (io != NULL)
		hd_ns_rw_fill(ns, per, write, io->data, slba, nblocks, io->cmds);
	return io;
}

void
hd_io_read(struct hd_namespace *ns, size_t len, uint64_t off, hd_io_done done, void *arg)
{
	uint64_t bs = 1ull << ns->lba_shift, start, end;
	struct io *io;

	if (ns->gone) {
		done(arg, -ENODEV, NULL);
		return;
	}
	len = hd_ns_clamp(ns, len, off);
	if (len == 0) {
		done(arg, 0, NULL);
		return;
	}
	/* Bytes that are not whole blocks: the blocks around them, the bytes replied. */
	start = off & ~(bs - 1);
	end = (off + len + bs - 1) & ~(bs - 1);
	io = io_blocks(ns, false, start, end, done, arg);
	if (io == NULL) {
		done(arg, -ENOMEM, NULL);
		return;
	}
	io->skip = (size_t)(off - start);
	io->len = len;
	io_submit(io);
}

bool
hd_io_write_async(const struct hd_namespace *ns, size_t len, uint64_t off)
{
	uint64_t bs = 1ull << ns->lba_shift;

	return ns->gone || (len != 0 && off % bs == 0 && len % bs == 0 &&
	    hd_ns_clamp(ns, len, off) == len);
}

void
hd_io_write(struct hd_namespace *ns, const void *buf, size_t len, uint64_t off,
    hd_io_done done, void *arg)
{
	struct io *io;

	if (ns->gone) {
		done(arg, -ENODEV, NULL);
		return;
	}
	if (!hd_io_write_async(ns, len, off)) {
		/*
		 * Partial blocks are read, merged and written back under the
		 * namespace's lock, and end-of-namespace cases answered: the
		 * blocking path, rare with direct I/O.
		 */
		done(arg, hd_ns_write(ns, buf, len, off), NULL);
		return;
	}
	io = io_blocks(ns, true, off, off + len, done, arg);
	if (io == NULL) {
		done(arg, -ENOMEM, NULL);
		return;
	}
	/* The caller's buffer is FUSE's, reused once we return: a copy goes. */
	memcpy(io->data, buf, len);
	io->len = len;
	io_submit(io);
}

void
hd_io_flush(struct hd_namespace *ns, hd_io_done done, void *arg)
{
	struct io *io;

	if (ns->gone) {
		done(arg, -ENODEV, NULL);
		return;
	}
	io = io_new(ns, 1, 0, done, arg);
	if (io == NULL) {
		done(arg, -ENOMEM, NULL);
		return;
	}
	io->cmds[0].sqe.opc = NVME_IO_FLUSH;
	io->cmds[0].sqe.nsid = ns->nsid;
	io_submit(io);
}

unsigned
hd_io_inflight(void)
{
	return atomic_load_explicit(&inflight, memory_order_relaxed);
}

bool
hd_io_drain(int timeout_ms)
{
	uint64_t deadline = hd_now_ms() + (uint64_t)timeout_ms;

	while (atomic_load_explicit(&inflight, memory_order_acquire) > 0) {
		if (hd_now_ms() >= deadline)
			return false;
		usleep(1000);
	}
	return true;
}
