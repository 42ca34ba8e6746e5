/* SPDX-License-Identifier: BSD-2-Clause
 * Copyright (c) 2026 The nvmf developers */
/*
 * io.c - NVM I/O commands on a namespace: Read, Write (FUA), Flush,
 * Write Zeroes and Dataset Management (deallocate). A RAM namespace's data
 * is sent from and received into the ramdisk itself; a file's goes through
 * the connection's io_uring when there is one, else pread/pwrite.
 */
#include <errno.h>
#include <fcntl.h>
#include <linux/falloc.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <syslog.h>

#include "nvmfd.h"

#define DSM_MAX_RANGES	256

static uint16_t
errno_status(int rc)
{
	(void)rc;
	/* The backing store failed: the host sees a data transfer error. */
	return NVME_STATUS(NVME_SCT_GENERIC, NVME_SC_DATA_TRANSFER_ERROR);
}

/* Checks SLBA and NLB against the namespace; 0 or a status. */
static uint16_t
lba_range(const struct nvmfd_namespace *ns, uint64_t slba, uint64_t nlb)
{
	if (slba >= ns->nlbas || nlb > ns->nlbas - slba)
		return NVME_STATUS(NVME_SCT_GENERIC, NVME_SC_LBA_OUT_OF_RANGE);
	return 0;
}

/* The I/O statistics of SMART / Health Information. */
static void
count_io(struct nvmfd_controller *c, bool write, uint64_t bytes)
{
	pthread_mutex_lock(&c->lock);
	if (write) {
		c->host_writes++;
		c->data_units_written += bytes >> 9;
	} else {
		c->host_reads++;
		c->data_units_read += bytes >> 9;
	}
	pthread_mutex_unlock(&c->lock);
}

static void
log_rw_error(const struct nvmfd_namespace *ns, bool write, uint32_t nlb, uint64_t slba,
    int rc)
{
	daemon_log(LOG_ERR, "%s: namespace %u: %s of %u blocks at %llu: %s",
	    nvmfd_device_spec(ns->dev), ns->nsid, write ? "write" : "read", nlb,
	    (unsigned long long)slba, strerror(-rc));
}

/* A namespace reference a capsule's data buffer holds (ramdisk memory). */
static void
release_ns(void *arg)
{
	nvmfd_ns_put(arg);
}

/* Whether the SGL describes exactly len bytes; else the command is failed. */
static bool
sgl_exact(struct nvmf_capsule *nc, uint64_t len)
{
	if (nvmf_capsule_data_len(nc) == len)
		return true;
	nvmfd_complete(nc, NVME_STATUS(NVME_SCT_GENERIC, NVME_SC_DATA_SGL_LENGTH_INVALID));
	return false;
}

void
nvmfd_io_place(void *arg, struct nvmf_capsule *nc)
{
	struct nvmfd_conn *conn = arg;
	const struct nvme_command *sqe = nvmf_capsule_sqe(nc);
	uint64_t slba = sqe->cdw10 | ((uint64_t)sqe->cdw11 << 32);
	uint32_t nlb = (sqe->cdw12 & 0xffff) + 1;
	struct nvmfd_namespace *ns;
	uint8_t *mem;

	/*
	 * Only a RAM namespace, and only without data digests: a digest is
	 * checked after the data has landed, and a failed one must not have
	 * changed the blocks. Anything else goes to a buffer as before.
	 */
	if (sqe->opc != NVME_IO_WRITE || nvmf_qpair_info(conn->qp)->data_digests)
		return;
	ns = nvmfd_ns_get(conn->ctrl->ss, sqe->nsid);
	if (ns == NULL)
		return;
	mem = nvmfd_device_mem(ns->dev);
	if (mem == NULL || lba_range(ns, slba, nlb) != 0 ||
	    nvmf_capsule_data_len(nc) != (uint64_t)nlb << ns->lba_shift ||
	    !nvmfd_device_mem_touched(ns->dev, slba << ns->lba_shift,
	    (uint64_t)nlb << ns->lba_shift) ||
	    nvmf_capsule_set_data(nc, mem + (slba << ns->lba_shift), release_ns, ns) != 0)
		nvmfd_ns_put(ns);
}

/* What reads of never-written RAM send; only ever read (bss: faulted in once). */
static uint8_t unwritten_zeroes[NVMFD_MAX_TRANSFER];

/* RAM: reads are sent from the ramdisk itself (a copy under data digests), writes
 * usually landed in place. */
static void
ram_read_write(struct nvmfd_conn *conn, struct nvmf_capsule *nc,
    struct nvmfd_namespace *ns, bool write, uint64_t slba, uint32_t nlb)
{
	uint64_t bytes = (uint64_t)nlb << ns->lba_shift;
	uint8_t *at = nvmfd_device_mem(ns->dev) + (slba << ns->lba_shift);
	uint8_t *buf;

	if (!sgl_exact(nc, bytes))
		return;
	if (write) {
		buf = nvmf_capsule_data(nc);
		if (buf == NULL) {
			nvmfd_complete(nc, NVME_STATUS(NVME_SCT_GENERIC, NVME_SC_INTERNAL));
			return;
		}
		/* Not placed: data digests, or memory not faulted in yet. */
		if (buf != at) {
			memcpy(at, buf, bytes);
			nvmfd_device_mem_touch(ns->dev, slba << ns->lba_shift, bytes);
		}
	} else if (nvmfd_device_mem_unwritten(ns->dev, slba << ns->lba_shift, bytes)) {
		/*
		 * Never written: zeroes. Sent from one buffer, not from the
		 * ramdisk, whose untouched pages would each be faulted in inside
		 * the socket's copy (on a fresh ramdisk, nearly every random read).
		 */
		(void)nvmf_capsule_set_data(nc, unwritten_zeroes, NULL, NULL);
	} else if (nvmf_qpair_info(conn->qp)->data_digests) {
		/*
		 * The digest must cover the bytes sent: a write to these blocks
		 * before the send (a later command of this turn, or another
		 * queue's) would change them under it, and the host would see a
		 * digest error, a transport error. A copy cannot change.
		 */
		buf = nvmf_capsule_data(nc);
		if (buf == NULL) {
			nvmfd_complete(nc, NVME_STATUS(NVME_SCT_GENERIC, NVME_SC_INTERNAL));
			return;
		}
		memcpy(buf, at, bytes);
	} else {
		nvmfd_ns_hold(ns);
		(void)nvmf_capsule_set_data(nc, at, release_ns, ns);
	}
	count_io(conn->ctrl, write, bytes);
	nvmf_capsule_complete(nc, 0, 0, 0, write ? 0 : (uint32_t)bytes);
}

/* A file command on the connection's ring. */
struct io_sub;
struct io_req {
	struct nvmfd_conn *conn;
	struct nvmf_capsule *nc;
	struct nvmfd_namespace *ns;	/* held until the command completes */
	uint8_t opc;
	bool fua;
	uint64_t slba;
	uint32_t nlb;
	unsigned pending;		/* sub-operations not done */
	int error;			/* the first one's -errno */
	unsigned nsub;
	struct io_sub {
		struct nvmfd_ring_op op;	/* first: the ring gives it back */
		struct io_req *req;
		uint8_t *buf;		/* read or write: what is left */
		uint64_t off, len;
		bool syncing;		/* FUA Write Zeroes: the fdatasync after */
	} sub[];
};

static void sub_done(struct nvmfd_ring_op *op, int res);

/* Prepares what a sub-operation has left; -errno when the ring cannot take it. */
static int
sub_start(struct io_sub *s)
{
	struct io_req *rq = s->req;
	struct nvmfd_ring *r = rq->conn->ring;
	int fd = nvmfd_device_fd(rq->ns->dev);
	uint32_t n = (uint32_t)s->len;

	s->op.done = sub_done;
	if (s->syncing || rq->opc == NVME_IO_FLUSH)
		return nvmfd_ring_fdatasync(r, &s->op, fd);
	switch (rq->opc) {
	case NVME_IO_READ:
		return nvmfd_ring_read(r, &s->op, fd, s->buf, n, s->off);
	case NVME_IO_WRITE:
		return nvmfd_ring_write(r, &s->op, fd, s->buf, n, s->off, rq->fua);
	case NVME_IO_WRITE_ZEROES:
		return nvmfd_ring_fallocate(r, &s->op, fd, FALLOC_FL_ZERO_RANGE |
		    FALLOC_FL_KEEP_SIZE, s->off, s->len);
	default:			/* Dataset Management: deallocate */
		return nvmfd_ring_fallocate(r, &s->op, fd, FALLOC_FL_PUNCH_HOLE |
		    FALLOC_FL_KEEP_SIZE, s->off, s->len);
	}
}

static void
req_finish(struct io_req *rq)
{
	struct nvmf_capsule *nc = rq->nc;
	bool rw = rq->opc == NVME_IO_READ || rq->opc == NVME_IO_WRITE;
	uint64_t bytes = (uint64_t)rq->nlb << rq->ns->lba_shift;

	if (rq->error != 0) {
		if (rw)
			log_rw_error(rq->ns, rq->opc == NVME_IO_WRITE, rq->nlb, rq->slba,
			    rq->error);
		nvmfd_complete(nc, errno_status(rq->error));
	} else if (rw) {
		count_io(rq->conn->ctrl, rq->opc == NVME_IO_WRITE, bytes);
		nvmf_capsule_complete(nc, 0, 0, 0, rq->opc == NVME_IO_READ ?
		    (uint32_t)bytes : 0);
	} else {
		nvmfd_complete(nc, 0);
	}
	nvmfd_ns_put(rq->ns);
	free(rq);
}

static void
sub_end(struct io_sub *s, int rc)
{
	struct io_req *rq = s->req;

	if (rc != 0 && rq->error == 0)
		rq->error = rc;
	if (--rq->pending == 0)
		req_finish(rq);
}

static void
sub_done(struct nvmfd_ring_op *op, int res)
{
	struct io_sub *s = (struct io_sub *)op;
	struct io_req *rq = s->req;
	bool rw = rq->opc == NVME_IO_READ || rq->opc == NVME_IO_WRITE;
	int rc;

	if (res == -EINTR || res == -EAGAIN)
		goto again;		/* nothing done: ask again */
	if (res < 0 && !s->syncing && !rw && rq->opc != NVME_IO_FLUSH) {
		/* No fallocate for this file: zeroes written the synchronous way. */
		res = rq->opc == NVME_IO_WRITE_ZEROES ?
		    nvmfd_device_write_zeroes(rq->ns->dev, s->off, s->len) :
		    nvmfd_device_deallocate(rq->ns->dev, s->off, s->len);
	}
	if (res < 0) {
		sub_end(s, res);
		return;
	}
	if (rw) {
		if (res == 0 && rq->opc == NVME_IO_WRITE) {
			sub_end(s, -EIO);	/* a write that takes nothing will not */
			return;
		}
		if (res == 0) {
			memset(s->buf, 0, s->len);	/* the file shrank: zeroes */
			res = (int)s->len;
		}
		s->buf += res;
		s->off += (uint64_t)res;
		s->len -= (uint64_t)res;
		if (s->len == 0) {
			sub_end(s, 0);
			return;
		}
	} else if (rq->opc == NVME_IO_WRITE_ZEROES && rq->fua && !s->syncing) {
		s->syncing = true;	/* FUA: durable before the completion */
	} else {
		sub_end(s, 0);
		return;
	}
again:
	rc = sub_start(s);
	if (rc != 0)
		sub_end(s, rc);
}

/* Sends a file command to the ring; false when there is none (synchronous path). */
static bool
ring_command(struct nvmfd_conn *conn, struct nvmf_capsule *nc, struct nvmfd_namespace *ns,
    const struct nvme_dsm_range *ranges, unsigned nsub)
{
	const struct nvme_command *sqe = nvmf_capsule_sqe(nc);
	struct io_req *rq;

	if (!conn->ring_tried) {
		conn->ring_tried = true;
		conn->ring = nvmfd_ring_create();
	}
	if (conn->ring == NULL)
		return false;
	rq = calloc(1, sizeof(*rq) + nsub * sizeof(rq->sub[0]));
	if (rq == NULL)
		return false;
	rq->conn = conn;
	rq->nc = nc;
	rq->ns = ns;
	nvmfd_ns_hold(ns);
	rq->opc = sqe->opc;
	rq->slba = sqe->cdw10 | ((uint64_t)sqe->cdw11 << 32);
	rq->nlb = (sqe->cdw12 & 0xffff) + 1;
	rq->fua = (sqe->cdw12 & NVME_RW_FUA) != 0;
	rq->nsub = rq->pending = nsub;
	for (unsigned i = 0; i < nsub; i++) {
		struct io_sub *s = &rq->sub[i];

		s->req = rq;
		if (ranges != NULL) {
			s->off = ranges[i].slba << ns->lba_shift;
			s->len = (uint64_t)ranges[i].nlb << ns->lba_shift;
		} else {
			s->off = rq->slba << ns->lba_shift;
			s->len = (uint64_t)rq->nlb << ns->lba_shift;
		}
	}
	if (rq->opc == NVME_IO_READ || rq->opc == NVME_IO_WRITE)
		rq->sub[0].buf = rq->opc == NVME_IO_READ ? nvmf_capsule_data_nozero(nc) :
		    nvmf_capsule_data(nc);
	/* The last sub-operation may finish the request: nothing of rq after it. */
	for (unsigned i = 0, n = nsub; i < n; i++) {
		int rc = sub_start(&rq->sub[i]);

		if (rc != 0)
			sub_end(&rq->sub[i], rc);
	}
	return true;
}

static void
io_read_write(struct nvmfd_conn *conn, struct nvmf_capsule *nc,
    struct nvmfd_namespace *ns, bool write)
{
	const struct nvme_command *sqe = nvmf_capsule_sqe(nc);
	uint64_t slba = sqe->cdw10 | ((uint64_t)sqe->cdw11 << 32);
	uint32_t nlb = (sqe->cdw12 & 0xffff) + 1;
	uint64_t bytes = (uint64_t)nlb << ns->lba_shift;
	uint16_t status = lba_range(ns, slba, nlb);
	void *buf;
	int rc;

	if (status != 0) {
		nvmfd_complete(nc, status);
		return;
	}
	if (nvmfd_device_mem(ns->dev) != NULL) {
		ram_read_write(conn, nc, ns, write, slba, nlb);
		return;
	}
	if (!sgl_exact(nc, bytes))
		return;
	/* The read buffer is filled whole (short reads as zeroes): no need to clear it. */
	buf = write ? nvmf_capsule_data(nc) : nvmf_capsule_data_nozero(nc);
	if (buf == NULL) {
		nvmfd_complete(nc, NVME_STATUS(NVME_SCT_GENERIC, NVME_SC_INTERNAL));
		return;
	}
	if (ring_command(conn, nc, ns, NULL, 1))
		return;
	if (write)
		rc = nvmfd_device_write(ns->dev, buf, slba << ns->lba_shift, (uint32_t)bytes,
		    (sqe->cdw12 & NVME_RW_FUA) != 0);
	else
		rc = nvmfd_device_read(ns->dev, buf, slba << ns->lba_shift, (uint32_t)bytes);
	if (rc != 0) {
		log_rw_error(ns, write, nlb, slba, rc);
		nvmfd_complete(nc, errno_status(rc));
		return;
	}
	count_io(conn->ctrl, write, bytes);
	nvmf_capsule_complete(nc, 0, 0, 0, write ? 0 : (uint32_t)bytes);
}

static void
io_flush(struct nvmfd_conn *conn, struct nvmf_capsule *nc, struct nvmfd_namespace *ns)
{
	int rc;

	if (nvmfd_device_is_file(ns->dev) && ring_command(conn, nc, ns, NULL, 1))
		return;
	rc = nvmfd_device_flush(ns->dev);
	nvmfd_complete(nc, rc == 0 ? 0 : errno_status(rc));
}

static void
io_write_zeroes(struct nvmfd_conn *conn, struct nvmf_capsule *nc,
    struct nvmfd_namespace *ns)
{
	const struct nvme_command *sqe = nvmf_capsule_sqe(nc);
	uint64_t slba = sqe->cdw10 | ((uint64_t)sqe->cdw11 << 32);
	uint32_t nlb = (sqe->cdw12 & 0xffff) + 1;
	uint16_t status = lba_range(ns, slba, nlb);
	int rc;

	/* A block device has no zero-range fallocate here: written synchronously. */
	if (status == 0 && nvmfd_device_is_file(ns->dev) && !nvmfd_device_is_block(ns->dev) &&
	    ring_command(conn, nc, ns, NULL, 1))
		return;
	if (status == 0) {
		rc = nvmfd_device_write_zeroes(ns->dev, slba << ns->lba_shift,
		    (uint64_t)nlb << ns->lba_shift);
		if (rc == 0 && (sqe->cdw12 & NVME_RW_FUA))
			rc = nvmfd_device_flush(ns->dev);
		if (rc != 0)
			status = errno_status(rc);
	}
	nvmfd_complete(nc, status);
}

static void
io_dataset_management(struct nvmfd_conn *conn, struct nvmf_capsule *nc,
    struct nvmfd_namespace *ns)
{
	const struct nvme_command *sqe = nvmf_capsule_sqe(nc);
	uint32_t nr = (sqe->cdw10 & 0xff) + 1;
	const struct nvme_dsm_range *r = nvmf_capsule_data(nc);
	uint16_t status = 0;

	if (nvmf_capsule_data_len(nc) < nr * sizeof(*r) || r == NULL) {
		nvmfd_complete(nc, NVME_STATUS(NVME_SCT_GENERIC,
		    NVME_SC_DATA_SGL_LENGTH_INVALID));
		return;
	}
	/* Only deallocation changes anything; the other attributes are hints. */
	if (!(sqe->cdw11 & NVME_DSM_ATTR_DEALLOCATE)) {
		nvmfd_complete(nc, 0);
		return;
	}
	for (uint32_t i = 0; i < nr && status == 0; i++)
		status = lba_range(ns, r[i].slba, r[i].nlb);
	if (status == 0 && nvmfd_device_is_file(ns->dev) && ring_command(conn, nc, ns, r, nr))
		return;
	for (uint32_t i = 0; i < nr && status == 0; i++) {
		int rc = nvmfd_device_deallocate(ns->dev, r[i].slba << ns->lba_shift,
		    (uint64_t)r[i].nlb << ns->lba_shift);

		if (rc != 0)
			status = errno_status(rc);
	}
	nvmfd_complete(nc, status);
}

void
nvmfd_io_command(struct nvmfd_conn *conn, struct nvmf_capsule *nc)
{
	const struct nvme_command *sqe = nvmf_capsule_sqe(nc);
	struct nvmfd_namespace *ns;

	if (sqe->opc == NVME_ADMIN_FABRICS) {
		/* Only Disconnect makes sense on an I/O queue. */
		if (((const struct nvmf_fabrics_cmd *)sqe)->fctype == NVMF_FCTYPE_DISCONNECT) {
			conn->close_after_flush = true;
			nvmfd_complete(nc, 0);
		} else {
			nvmfd_complete(nc, NVME_STATUS(NVME_SCT_GENERIC, NVME_SC_INVALID_OPCODE));
		}
		return;
	}
	/* Referenced: a reload may remove the namespace while this runs. */
	ns = nvmfd_ns_get(conn->ctrl->ss, sqe->nsid);
	if (ns == NULL) {
		nvmfd_complete(nc, NVME_STATUS(NVME_SCT_GENERIC, NVME_SC_INVALID_NAMESPACE));
		return;
	}
	switch (sqe->opc) {
	case NVME_IO_READ:
		io_read_write(conn, nc, ns, false);
		break;
	case NVME_IO_WRITE:
		io_read_write(conn, nc, ns, true);
		break;
	case NVME_IO_FLUSH:
		io_flush(conn, nc, ns);
		break;
	case NVME_IO_WRITE_ZEROES:
		io_write_zeroes(conn, nc, ns);
		break;
	case NVME_IO_DATASET_MANAGEMENT:
		io_dataset_management(conn, nc, ns);
		break;
	default:
		nvmfd_complete(nc, NVME_STATUS(NVME_SCT_GENERIC, NVME_SC_INVALID_OPCODE));
		break;
	}
	nvmfd_ns_put(ns);
}
