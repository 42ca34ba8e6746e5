/* SPDX-License-Identifier: BSD-2-Clause
 * Copyright (c) 2026 The nvmf developers */
/*
 * qpair.c - the NVMe/TCP queue pair engine: a receive state machine that
 * reads PDUs in batches and places data straight into command buffers, and
 * a send queue flushed with one sendmsg for many PDUs.
 */
#include <errno.h>
#include <limits.h>
#include <poll.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <time.h>
#include <unistd.h>

#include "nvmf_digest.h"
#include "nvmf_qpair.h"

#define RXBUF_SIZE		(64 * 1024)
/* Data larger than this goes straight from the socket to its buffer. */
#define RX_DIRECT_MIN		(16 * 1024)
/*
 * After such data, the next read takes a header's worth: what it brings
 * of the next payload is copied out of rxbuf, and with a 64 KiB read that
 * was half of a 128 KiB read's data.
 */
#define RX_AFTER_LARGE		1024
#define TX_IOV_MAX		192
#define TX_FREE_MAX		64

struct nvmf_qpair *
nvmf_qpair_alloc(struct nvmf_association *na, struct nvmf_stream *stream,
    const struct nvmf_role *role)
{
	struct nvmf_qpair *qp = calloc(1, sizeof(*qp));

	if (qp == NULL)
		return NULL;
	qp->rxbuf = malloc(RXBUF_SIZE);
	if (qp->rxbuf == NULL) {
		free(qp);
		return NULL;
	}
	atomic_fetch_add(&na->refs, 1);
	qp->na = na;
	qp->stream = stream;
	qp->role = role;
	qp->sq_fc = true;
	qp->rules.controller = role->controller;
	qp->rules.max_data = UINT32_MAX;
	return qp;
}

void
nvmf_qpair_settle(struct nvmf_qpair *qp, const struct nvmf_qpair_info *info)
{
	qp->info = *info;
	/* Each side aligns the data it sends as the other asked. */
	qp->role->settle_pda(qp, info);
	qp->rules.connected = true;
	qp->rules.hdgst = info->header_digests;
	qp->rules.ddgst = info->data_digests;
}

void
nvmf_qpair_fail(struct nvmf_qpair *qp, const char *fmt, ...)
{
	va_list ap;

	if (qp->failed)
		return;
	qp->failed = true;
	va_start(ap, fmt);
	vsnprintf(qp->error, sizeof(qp->error), fmt, ap);
	va_end(ap);
}

static uint32_t tx_total(const struct tx_pdu *p);
static int iov_add(struct iovec *iov, int n, const void *base, uint32_t len,
    uint32_t *skip);

/*
 * Finishes the PDU that is half on the wire, so that what follows starts on
 * a PDU boundary; gives up after a short wait. True when it is complete.
 */
static bool
finish_partial_pdu(struct nvmf_qpair *qp)
{
	struct tx_pdu *p = qp->tx_head;
	uint32_t total;

	if (p == NULL || p->sent == 0)
		return true;
	total = tx_total(p);
	while (p->sent < total) {
		struct iovec iov[3];
		uint32_t skip = p->sent;
		int cnt = 0;
		ssize_t n;

		cnt = iov_add(iov, cnt, p->prefix, p->prefix_len, &skip);
		if (p->data_len > 0)
			cnt = iov_add(iov, cnt, p->data, p->data_len, &skip);
		if (p->has_ddgst)
			cnt = iov_add(iov, cnt, &p->ddgst, NVME_TCP_DIGEST_LEN, &skip);
		n = nvmf_stream_sendv(qp->stream, iov, cnt);
		if (n > 0) {
			p->sent += (uint32_t)n;
			continue;
		}
		if (n < 0 && errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR)
			return false;
		if (qp->stream->ops->wait(qp->stream, POLLOUT, 100) <= 0)
			return false;
	}
	return true;
}

static void
send_term_req(struct nvmf_qpair *qp, uint16_t fes, uint32_t fei,
    const void *bad, uint32_t bad_len)
{
	uint8_t pdu[NVMF_PDU_MAX_PREFIX];
	uint32_t len;

	/*
	 * Whatever was queued after the PDU on the wire is abandoned. If that
	 * one cannot be finished, no termination request: it would be read as
	 * the rest of the unfinished PDU.
	 */
	if (finish_partial_pdu(qp)) {
		len = nvmf_pdu_encode_term_req(pdu, qp->role->controller, fes, fei, bad, bad_len);
		struct iovec iov = { .iov_base = pdu, .iov_len = len };

		(void)nvmf_stream_sendv(qp->stream, &iov, 1);
	}
	qp->stream->ops->shutdown(qp->stream);
}

void
nvmf_qpair_fault(struct nvmf_qpair *qp, const struct nvmf_pdu_fault *f)
{
	if (qp->failed)
		return;
	send_term_req(qp, f->fes, f->fei, qp->hdr, qp->hdr_got);
	qp->protocol_error = true;
	nvmf_qpair_fail(qp, "%s; sent %s (%s, field at byte %u)", f->what,
	    qp->role->term_req_name, nvmf_fes_string(f->fes),
	    f->fei);
}

void
nvmf_qpair_terminate(struct nvmf_qpair *qp, uint16_t fes, uint32_t fei,
    const char *why)
{
	if (qp->failed)
		return;
	send_term_req(qp, fes, fei, NULL, 0);
	nvmf_qpair_fail(qp, "%s", why);
}

void
nvmf_qpair_set_deviation_handler(struct nvmf_qpair *qp, nvmf_deviation_cb cb, void *arg)
{
	qp->deviation = cb;
	qp->deviation_arg = arg;
}

/* -------------------------------------------------------------------- send */

struct tx_pdu *
nvmf_tx_get(struct nvmf_qpair *qp)
{
	struct tx_pdu *p = qp->tx_free;

	if (p != NULL) {
		qp->tx_free = p->next;
		qp->tx_free_count--;
	} else {
		p = malloc(sizeof(*p));
		if (p == NULL)
			return NULL;
	}
	p->next = NULL;
	p->prefix_len = 0;
	p->data = NULL;
	p->data_len = 0;
	p->sent = 0;
	p->has_ddgst = false;
	p->done = NULL;
	p->done_arg = NULL;
	return p;
}

static void
tx_put(struct nvmf_qpair *qp, struct tx_pdu *p)
{
	if (qp->tx_free_count >= TX_FREE_MAX) {
		free(p);
		return;
	}
	p->next = qp->tx_free;
	qp->tx_free = p;
	qp->tx_free_count++;
}

void
nvmf_tx_queue(struct nvmf_qpair *qp, struct tx_pdu *p)
{
	const struct nvme_tcp_common_hdr *ch = (const void *)p->prefix;

	if (p->data_len > 0 && (ch->flags & NVME_TCP_F_DDGST)) {
		p->has_ddgst = true;
		p->ddgst = nvmf_crc32c(p->data, p->data_len);
	}
	if (qp->tx_tail != NULL)
		qp->tx_tail->next = p;
	else
		qp->tx_head = p;
	qp->tx_tail = p;
	/* In a poll group the group sends once per turn for every PDU queued. */
	if (qp->group != NULL && !qp->dirty)
		nvmf_poll_group_mark_dirty(qp);
}

static uint32_t
tx_total(const struct tx_pdu *p)
{
	return p->prefix_len + p->data_len + (p->has_ddgst ? NVME_TCP_DIGEST_LEN : 0);
}

/* Adds the unsent part of [base, base+len) at position pos of a PDU. */
static int
iov_add(struct iovec *iov, int n, const void *base, uint32_t len, uint32_t *skip)
{
	if (*skip >= len) {
		*skip -= len;
		return n;
	}
	iov[n].iov_base = (uint8_t *)base + *skip;
	iov[n].iov_len = len - *skip;
	*skip = 0;
	return n + 1;
}

int
nvmf_tx_flush(struct nvmf_qpair *qp)
{
	struct iovec iov[TX_IOV_MAX];

	while (qp->tx_head != NULL && !qp->failed) {
		struct tx_pdu *p;
		ssize_t n;
		int cnt = 0;

		for (p = qp->tx_head; p != NULL && cnt <= TX_IOV_MAX - 3; p = p->next) {
			uint32_t skip = p->sent;

			cnt = iov_add(iov, cnt, p->prefix, p->prefix_len, &skip);
			if (p->data_len > 0)
				cnt = iov_add(iov, cnt, p->data, p->data_len, &skip);
			if (p->has_ddgst)
				cnt = iov_add(iov, cnt, &p->ddgst, NVME_TCP_DIGEST_LEN, &skip);
		}
		n = nvmf_stream_sendv(qp->stream, iov, cnt);
		if (n < 0) {
			if (errno == EAGAIN || errno == EWOULDBLOCK)
				return 0;
			if (errno == EINTR)
				continue;
			nvmf_qpair_fail(qp, "send failed: %s", strerror(errno));
			return -1;
		}
		while (n > 0 && qp->tx_head != NULL) {
			p = qp->tx_head;
			uint32_t left = tx_total(p) - p->sent;

			if ((size_t)n < left) {
				p->sent += (uint32_t)n;
				break;
			}
			n -= left;
			qp->tx_head = p->next;
			if (qp->tx_head == NULL)
				qp->tx_tail = NULL;
			if (p->done != NULL)
				p->done(qp, p->done_arg, true);
			tx_put(qp, p);
		}
	}
	return qp->failed ? -1 : 0;
}

static void
tx_drop_all(struct nvmf_qpair *qp)
{
	struct tx_pdu *p;

	while ((p = qp->tx_head) != NULL) {
		qp->tx_head = p->next;
		if (p->done != NULL)
			p->done(qp, p->done_arg, false);
		free(p);
	}
	qp->tx_tail = NULL;
	while ((p = qp->tx_free) != NULL) {
		qp->tx_free = p->next;
		free(p);
	}
	qp->tx_free_count = 0;
}

bool
nvmf_qpair_tx_pending(const struct nvmf_qpair *qp)
{
	return qp->tx_head != NULL && !qp->failed;
}

/* ----------------------------------------------------------------- receive */

/* Starts the data phase once the header has been accepted. */
static void
rx_begin_payload(struct nvmf_qpair *qp)
{
	const struct nvme_tcp_common_hdr *ch = (const void *)qp->hdr;
	uint32_t hend = nvmf_pdu_header_len(ch);

	qp->data_left = nvmf_pdu_data_len(ch);
	if (qp->data_left > 0) {
		qp->rx_large = qp->data_left >= RX_DIRECT_MIN;
		qp->skip_left = ch->pdo - hend;
		qp->rx_state = RX_PAD;
		qp->crc = nvmf_crc32c_begin();
		qp->ddgst_got = 0;
	} else {
		qp->skip_left = ch->plen - hend;
		qp->rx_state = RX_TRAILER;
	}
}

static void
rx_dispatch(struct nvmf_qpair *qp)
{
	qp->role->rx_done(qp);
	qp->rx_state = RX_COMMON;
	qp->hdr_got = 0;
}

/* Consumes bytes from the receive buffer; returns -1 once the qpair failed. */
static int
rx_consume(struct nvmf_qpair *qp)
{
	const struct nvme_tcp_common_hdr *ch = (const void *)qp->hdr;
	struct nvmf_pdu_fault fault;

	while (!qp->failed) {
		uint32_t avail = qp->rx_end - qp->rx_pos, n;
		uint8_t *src = qp->rxbuf + qp->rx_pos;

		switch (qp->rx_state) {
		case RX_COMMON:
		case RX_HEADER:
			if (qp->rx_state == RX_COMMON)
				qp->hdr_need = sizeof(struct nvme_tcp_common_hdr);
			n = qp->hdr_need - qp->hdr_got;
			if (n > avail)
				n = avail;
			if (n == 0)
				return 0;
			memcpy(qp->hdr + qp->hdr_got, src, n);
			qp->hdr_got += n;
			qp->rx_pos += n;
			if (qp->hdr_got < qp->hdr_need)
				return 0;
			if (qp->rx_state == RX_COMMON) {
				int rc = nvmf_pdu_check_common(ch, &qp->rules, &fault);

				if (rc < 0 || (rc == NVMF_PDU_DEVIATION &&
				    qp->deviation != NULL && !qp->deviation(qp->deviation_arg,
				    fault.what, fault.fes, fault.fei))) {
					nvmf_qpair_fault(qp, &fault);
					return -1;
				}
				qp->hdr_need = nvmf_pdu_header_len(ch);
				qp->rx_state = RX_HEADER;
				if (qp->hdr_got < qp->hdr_need)
					break;
			}
			if (qp->hdr_need > ch->hlen && !nvmf_pdu_hdgst_ok(qp->hdr, ch->hlen)) {
				nvmf_pdu_fault_set(&fault, NVME_TCP_FES_HEADER_DIGEST_ERROR, 0,
				    "%s header digest mismatch",
				    nvmf_pdu_type_name(ch->pdu_type));
				nvmf_qpair_fault(qp, &fault);
				return -1;
			}
			qp->data_dst = NULL;
			if (qp->role->rx_header(qp) != 0)
				return -1;
			rx_begin_payload(qp);
			if (qp->rx_state == RX_TRAILER && qp->skip_left == 0)
				rx_dispatch(qp);
			break;
		case RX_PAD:
		case RX_TRAILER:
			n = qp->skip_left < avail ? qp->skip_left : avail;
			qp->rx_pos += n;
			qp->skip_left -= n;
			if (qp->skip_left > 0)
				return 0;
			if (qp->rx_state == RX_TRAILER)
				rx_dispatch(qp);
			else
				qp->rx_state = RX_DATA;
			break;
		case RX_DATA:
			if (avail == 0 && qp->data_left >= RX_DIRECT_MIN &&
			    qp->data_dst != NULL) {
				/* Large payload: let the caller read it in place. */
				return 0;
			}
			n = qp->data_left < avail ? qp->data_left : avail;
			if (n == 0)
				return 0;
			if (qp->data_dst != NULL) {
				memcpy(qp->data_dst, src, n);
				if (qp->rules.ddgst)
					qp->crc = nvmf_crc32c_update(qp->crc, qp->data_dst, n);
				qp->data_dst += n;
			}
			qp->rx_pos += n;
			qp->data_left -= n;
			if (qp->data_left == 0)
				qp->rx_state = qp->rules.ddgst ? RX_DDGST : RX_TRAILER;
			qp->skip_left = 0;
			if (qp->rx_state == RX_TRAILER)
				rx_dispatch(qp);
			break;
		case RX_DDGST:
			n = NVME_TCP_DIGEST_LEN - qp->ddgst_got;
			if (n > avail)
				n = avail;
			if (n == 0)
				return 0;
			memcpy(qp->ddgst + qp->ddgst_got, src, n);
			qp->ddgst_got += n;
			qp->rx_pos += n;
			if (qp->ddgst_got < NVME_TCP_DIGEST_LEN)
				return 0;
			{
				uint32_t got;

				memcpy(&got, qp->ddgst, sizeof(got));
				if (qp->data_dst != NULL &&
				    got != nvmf_crc32c_end(qp->crc))
					qp->role->rx_data_corrupt(qp);
			}
			rx_dispatch(qp);
			break;
		}
	}
	return -1;
}

/* Reads a large payload straight into its destination buffer. */
static int
rx_direct(struct nvmf_qpair *qp, int wait_ms)
{
	ssize_t n = nvmf_stream_recv_wait(qp->stream, qp->data_dst, qp->data_left, wait_ms);

	if (n <= 0)
		return (int)n;
	if (qp->rules.ddgst)
		qp->crc = nvmf_crc32c_update(qp->crc, qp->data_dst, (size_t)n);
	qp->data_dst += n;
	qp->data_left -= (uint32_t)n;
	if (qp->data_left == 0) {
		qp->rx_state = qp->rules.ddgst ? RX_DDGST : RX_TRAILER;
		qp->skip_left = 0;
		if (qp->rx_state == RX_TRAILER)
			rx_dispatch(qp);
	}
	return (int)n;
}

/*
 * Reads and consumes until the socket is drained. A read shorter than asked
 * means it was: the next one would only say EAGAIN, a system call per turn
 * that level-triggered polling makes needless (bytes arriving meanwhile
 * wake the caller's poll again). wait_ms (0: none) lets the first read wait
 * for bytes, unless what is already buffered gave something to send.
 */
static int
rx_pump(struct nvmf_qpair *qp, int wait_ms)
{
	for (;;) {
		size_t want;
		ssize_t n;

		if (rx_consume(qp) != 0)
			return -1;
		if (wait_ms != 0 && nvmf_qpair_tx_pending(qp))
			wait_ms = 0;
		if (qp->rx_state == RX_DATA && qp->data_left >= RX_DIRECT_MIN &&
		    qp->data_dst != NULL) {
			want = qp->data_left;
			n = rx_direct(qp, wait_ms);
		} else {
			want = qp->rx_large ? RX_AFTER_LARGE : RXBUF_SIZE;
			qp->rx_pos = qp->rx_end = 0;
			n = nvmf_stream_recv_wait(qp->stream, qp->rxbuf, want, wait_ms);
			if (n > 0)
				qp->rx_end = (uint32_t)n;
		}
		if (n > 0)
			qp->rx_reads++;
		if (n > 0 && (size_t)n < want)
			return rx_consume(qp);
		if (n == 0) {
			nvmf_qpair_fail(qp, "connection closed by peer");
			return -1;
		}
		if (n < 0) {
			if (errno == EAGAIN || errno == EWOULDBLOCK)
				return 0;
			if (errno == EINTR && wait_ms != 0)
				return 0;	/* as poll's EINTR: the caller decides */
			if (errno == EINTR)
				continue;
			nvmf_qpair_fail(qp, "receive failed: %s", strerror(errno));
			return -1;
		}
		wait_ms = 0;	/* the first read waited; the rest drain */
	}
}

int
nvmf_qpair_flush_resume(struct nvmf_qpair *qp)
{
	int rc = nvmf_tx_flush(qp);

	/* Sends free data memory: commands that waited for it run now. */
	while (rc == 0 && qp->role->resume(qp))
		rc = nvmf_tx_flush(qp);
	return rc;
}

int
nvmf_qpair_receive_wait(struct nvmf_qpair *qp, int wait_ms)
{
	uint64_t reads = qp->rx_reads;
	int rc;

	if (qp->failed)
		return -1;
	if (qp->in_process)
		return 0;
	qp->in_process = true;
	rc = rx_pump(qp, wait_ms);
	qp->in_process = false;
	return rc != 0 ? -1 : qp->rx_reads != reads;
}

int
nvmf_qpair_receive(struct nvmf_qpair *qp)
{
	return nvmf_qpair_receive_wait(qp, 0) < 0 ? -1 : 0;
}

int
nvmf_qpair_process(struct nvmf_qpair *qp)
{
	int rc = -1;

	if (qp->failed)
		return -1;
	if (qp->in_process)	/* called from a callback: the outer call goes on */
		return 0;
	qp->in_process = true;
	if (nvmf_tx_flush(qp) == 0 && rx_pump(qp, 0) == 0)
		rc = nvmf_qpair_flush_resume(qp);
	qp->in_process = false;
	return rc;
}

void
nvmf_qpair_cork(struct nvmf_qpair *qp)
{
	qp->corked = true;
}

int
nvmf_qpair_uncork(struct nvmf_qpair *qp)
{
	int rc;

	qp->corked = false;
	if (qp->failed)
		return -1;
	if (qp->in_process || qp->group != NULL)
		return 0;	/* the outer turn, or the group, sends */
	qp->in_process = true;
	rc = nvmf_qpair_flush_resume(qp);
	qp->in_process = false;
	return rc;
}

void
nvmf_qpair_wake(struct nvmf_qpair *qp, long at_ms,
    void (*cb)(struct nvmf_qpair *qp, void *arg), void *arg)
{
	qp->wake_armed = cb != NULL;
	qp->wake_at = at_ms;
	qp->wake_cb = cb;
	qp->wake_arg = arg;
	if (qp->group != NULL)
		nvmf_poll_group_wake_changed(qp);
}

bool
nvmf_qpair_wake_due(struct nvmf_qpair *qp, long now)
{
	void (*cb)(struct nvmf_qpair *, void *) = qp->wake_cb;

	if (!qp->wake_armed || now < qp->wake_at)
		return false;
	qp->wake_armed = false;
	qp->wake_cb = NULL;
	cb(qp, qp->wake_arg);
	return true;
}

int
nvmf_qpair_poll(struct nvmf_qpair *qp, int timeout_ms)
{
	short events = POLLIN;

	if (qp->failed)
		return -1;
	/* Nothing to send: the receive itself waits (stream.c says why). */
	if (!nvmf_qpair_tx_pending(qp) && timeout_ms != 0 && !qp->in_process) {
		int rc = -1;

		if (nvmf_qpair_receive_wait(qp, timeout_ms) >= 0) {
			qp->in_process = true;
			rc = nvmf_qpair_flush_resume(qp);
			qp->in_process = false;
		}
		return rc;
	}
	if (nvmf_qpair_tx_pending(qp))
		events |= POLLOUT;
	if (qp->stream->ops->wait(qp->stream, events, timeout_ms) < 0 && errno != EINTR) {
		nvmf_qpair_fail(qp, "poll failed: %s", strerror(errno));
		return -1;
	}
	return nvmf_qpair_process(qp);
}

const char *
nvmf_qpair_error(const struct nvmf_qpair *qp)
{
	return qp->failed ? qp->error : "";
}

bool
nvmf_qpair_failed(const struct nvmf_qpair *qp)
{
	return qp->failed;
}

int
nvmf_qpair_fd(const struct nvmf_qpair *qp)
{
	return nvmf_stream_fd(qp->stream);
}

const struct nvmf_qpair_info *
nvmf_qpair_info(const struct nvmf_qpair *qp)
{
	return &qp->info;
}

void
nvmf_qpair_set_context(struct nvmf_qpair *qp, void *ctx)
{
	qp->ctx = ctx;
}

void *
nvmf_qpair_context(const struct nvmf_qpair *qp)
{
	return qp->ctx;
}

uint16_t
nvmf_qpair_qid(const struct nvmf_qpair *qp)
{
	return qp->qid;
}

void
nvmf_qpair_free(struct nvmf_qpair *qp)
{
	if (qp == NULL)
		return;
	if (qp->group != NULL)
		(void)nvmf_poll_group_remove(qp->group, qp);
	if (!qp->failed)
		nvmf_qpair_fail(qp, "queue pair closed");
	/* Whoever waits for a wake-up hears that the queue pair is gone. */
	if (qp->wake_armed)
		(void)nvmf_qpair_wake_due(qp, LONG_MAX);
	tx_drop_all(qp);
	qp->role->teardown(qp);
	nvmf_bufpool_drain(&qp->pool);
	if (qp->stream != NULL)
		qp->stream->ops->close(qp->stream, qp->keep_fd);
	free(qp->rxbuf);
	nvmf_association_free(qp->na);
	free(qp);
}

/* ------------------------------------------------------- blocking helpers */

/*
 * Sends or receives exactly len bytes on a non-blocking socket within
 * timeout_ms. Returns 0, -ETIMEDOUT, -ECONNRESET (peer closed) or -errno.
 */
int
nvmf_io_exact(struct nvmf_stream *s, void *buf, size_t len, bool do_send,
    int timeout_ms)
{
	long deadline = nvmf_deadline(timeout_ms);
	uint8_t *p = buf;

	while (len > 0) {
		ssize_t n;
		int left = nvmf_ms_left(deadline);

		if (left <= 0)
			return -ETIMEDOUT;
		if (s->ops->wait(s, do_send ? POLLOUT : POLLIN, left) < 0) {
			if (errno == EINTR)
				continue;
			return -errno;
		}
		if (do_send) {
			struct iovec iov = { .iov_base = p, .iov_len = len };

			n = nvmf_stream_sendv(s, &iov, 1);
		} else {
			n = nvmf_stream_recv(s, p, len);
		}
		if (n == 0)
			return -ECONNRESET;
		if (n < 0) {
			if (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR)
				continue;
			return -errno;
		}
		p += n;
		len -= (size_t)n;
	}
	return 0;
}

/* Reads the rest of a termination request and describes it in err. */
int
nvmf_read_term_req(struct nvmf_stream *s, const struct nvme_tcp_common_hdr *ch,
    char *err, size_t errlen, int timeout_ms)
{
	struct nvme_tcp_term_req_hdr tr;

	memcpy(&tr, ch, sizeof(*ch));
	if (nvmf_io_exact(s, (uint8_t *)&tr + sizeof(*ch), sizeof(tr) - sizeof(*ch),
	    false, timeout_ms) != 0) {
		snprintf(err, errlen, "peer sent a truncated %s",
		    nvmf_pdu_type_name(ch->pdu_type));
		return -1;
	}
	snprintf(err, errlen, "peer terminated the connection: %s (FES 0x%x)",
	    nvmf_fes_string(tr.fes), tr.fes);
	return 0;
}
