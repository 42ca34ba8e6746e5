/* SPDX-License-Identifier: BSD-2-Clause
 * Copyright (c) 2026 The nvmf developers */
/*
 * host_connect.c - association set-up as states a poll group drives, in
 * the manner of SPDK's: a queue pair's ICReq/ICResp and Connect, then a
 * whole controller (admin queue, CC.EN and CSTS.RDY, Identify, Number of
 * Queues, every I/O queue at once). Results are delivered at the end of a
 * group turn, outside any queue pair's processing, so callees may free.
 */
#include <errno.h>
#include <netdb.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "nvmf_qpair.h"

/* ------------------------------------------------------- one queue pair */

enum cq_state { CQ_ICREQ, CQ_CONNECT, CQ_DONE };

struct connect_op {
	struct nvmf_poll_group *pg;
	struct nvmf_qpair *qp;
	nvmf_connect_cb cb;
	void *arg;
	enum cq_state state;
	uint16_t qid;
	uint32_t kato_ms;
	int timeout_ms;
	bool keep_fd;			/* on failure the socket stays the caller's */
	bool cancelled;
	bool failed;
	struct nvmf_connect_data data;
	struct nvmf_connect_result r;
	char err[256];
};

static void
cq_deliver(void *arg)
{
	struct connect_op *op = arg;

	if (op->cancelled) {
		free(op);
		return;
	}
	op->r.err = op->err;
	if (op->failed) {
		op->qp->keep_fd = op->keep_fd;
		nvmf_qpair_free(op->qp);
		op->qp = NULL;
		op->cb(op->arg, NULL, &op->r);
	} else {
		op->qp->on_failed = NULL;
		op->qp->ic_done = NULL;
		op->cb(op->arg, op->qp, &op->r);
	}
	free(op);
}

static void
cq_finish(struct connect_op *op, bool failed)
{
	if (op->state == CQ_DONE)
		return;
	op->state = CQ_DONE;
	op->failed = failed;
	op->r.rc = failed ? -1 : 0;
	if (op->qp != NULL && !op->cancelled) {
		nvmf_qpair_wake(op->qp, 0, NULL, NULL);
		op->qp->on_failed = NULL;
	}
	if (nvmf_poll_group_defer(op->pg, cq_deliver, op) != 0) {
		/* Out of memory for the deferral: deliver now, the best we can. */
		cq_deliver(op);
	}
}

static void
cq_fail(struct connect_op *op, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static void
cq_fail(struct connect_op *op, const char *fmt, ...)
{
	va_list ap;

	if (op->state == CQ_DONE)
		return;
	va_start(ap, fmt);
	vsnprintf(op->err, sizeof(op->err), fmt, ap);
	va_end(ap);
	cq_finish(op, true);
}

static void
cq_connect_done(void *arg, const struct nvme_completion *cqe)
{
	struct connect_op *op = arg;
	struct nvmf_qpair *qp = op->qp;
	char what[64];
	uint16_t st;

	snprintf(what, sizeof(what), "Connect (queue %u)", op->qid);
	if (op->qid != 0 && qp != NULL)
		qp->icd_size = 0;	/* until the caller knows the controller's IOCCSZ */
	if (cqe == NULL) {
		char err[256];

		nvmf_err_lost(qp, what, err, sizeof(err));
		cq_fail(op, "%s", err);
		return;
	}
	st = NVME_CQE_STATUS(cqe->status);
	if (st != 0) {
		size_t n;
		uint16_t ipo = NVMF_CONNECT_IPO(cqe->cdw0);
		bool in_data = NVMF_CONNECT_IATTR(cqe->cdw0) == 1;

		op->r.status = st;
		nvmf_err_status(st, what, op->err, sizeof(op->err));
		n = strlen(op->err);
		if ((st & 0xff) == NVME_SC_CONNECT_INVALID_PARAMETERS &&
		    NVME_STATUS_SCT(st) == NVME_SCT_COMMAND_SPECIFIC)
			snprintf(op->err + n, sizeof(op->err) - n, ": %s",
			    in_data && ipo == offsetof(struct nvmf_connect_data, subnqn) ?
			    "the target has no such subsystem here" :
			    in_data && ipo == offsetof(struct nvmf_connect_data, cntlid) ?
			    "no such controller" :
			    in_data && ipo == offsetof(struct nvmf_connect_data, hostnqn) ?
			    "the target refused the host NQN" :
			    in_data && ipo == offsetof(struct nvmf_connect_data, hostid) ?
			    "the target refused the host ID" :
			    !in_data && ipo == offsetof(struct nvmf_connect_cmd, qid) ?
			    "the target refused the queue ID" :
			    !in_data && ipo == offsetof(struct nvmf_connect_cmd, sqsize) ?
			    "the target refused the queue size" :
			    !in_data && ipo == offsetof(struct nvmf_connect_cmd, cattr) ?
			    "the target refused to disable SQ flow control" :
			    "a parameter was refused");
		cq_finish(op, true);
		return;
	}
	op->r.cntlid = NVMF_CONNECT_RSP_CNTLID(cqe->cdw0);
	qp->qid = op->qid;
	cq_finish(op, false);
}

static void
cq_wake(struct nvmf_qpair *qp, void *arg)
{
	struct connect_op *op = arg;

	if (op->state == CQ_ICREQ) {
		if (!qp->failed) {
			qp->timed_out = true;
			nvmf_qpair_fail(qp, "timed out");
			qp->stream->ops->shutdown(qp->stream);
		}
		cq_fail(op, "waiting for ICResp: %s", nvmf_qpair_error(qp));
		return;
	}
	/* Connect is overdue: its callback hears it and fails the set-up. */
	nvmf_host_time_out(qp, "command timed out");
}

/* ICResp settled the queue pair: Connect goes out in the same turn. */
static void
cq_icresp(struct nvmf_qpair *qp, void *arg)
{
	struct connect_op *op = arg;
	const struct nvmf_association_params *ap = &qp->na->params;
	struct nvme_command sqe;
	int rc;

	op->state = CQ_CONNECT;
	nvmf_cmd_connect(&sqe, op->qid, (uint16_t)(qp->qsize - 1), op->kato_ms,
	    !ap->sq_flow_control);
	/* Connect's data always travels in the capsule, before IOCCSZ is known. */
	if (qp->icd_size < sizeof(op->data))
		qp->icd_size = sizeof(op->data);
	rc = nvmf_host_submit(qp, &sqe, &op->data, sizeof(op->data), true, cq_connect_done,
	    op);
	if (rc != 0) {
		cq_fail(op, "Connect (queue %u): %s", op->qid, strerror(-rc));
		return;
	}
	nvmf_qpair_wake(qp, nvmf_deadline(op->timeout_ms), cq_wake, op);
}

/* The group saw the connection fail before ICResp (Connect hears it itself). */
static void
cq_qp_failed(struct nvmf_qpair *qp, void *arg)
{
	struct connect_op *op = arg;
	const char *e = nvmf_qpair_error(qp);

	if (op->state != CQ_ICREQ)
		return;
	if (qp->protocol_error || strncmp(e, "controller refused", 18) == 0)
		cq_fail(op, "%s", e);
	else
		cq_fail(op, "waiting for ICResp: %s", e);
}

/* Starts a queue; NULL with err (fd untouched) when it cannot. */
static struct connect_op *
cq_start(struct nvmf_poll_group *pg, struct nvmf_association *na, int fd,
    const struct nvmf_connect_params *cp, uint16_t qid, uint16_t qsize, bool keep_fd,
    nvmf_connect_cb cb, void *arg, char *err, size_t errlen)
{
	const struct nvmf_association_params *ap = &na->params;
	struct nvmf_stream *s;
	struct connect_op *op;
	struct nvmf_qpair *qp;
	struct tx_pdu *p;
	int rc;

	if (ap->controller) {
		snprintf(err, errlen, "a controller association cannot open host queues");
		return NULL;
	}
	if (qsize < 2) {
		snprintf(err, errlen, "queue size %u too small (at least 2)", qsize);
		return NULL;
	}
	if (cp->subnqn == NULL || strlen(cp->subnqn) > NVMF_NQN_MAX_LEN ||
	    cp->hostnqn == NULL || strlen(cp->hostnqn) > NVMF_NQN_MAX_LEN) {
		snprintf(err, errlen, "NQNs must be 1 to %d characters", NVMF_NQN_MAX_LEN);
		return NULL;
	}
	if (nvmf_socket_setup(fd) != 0) {
		snprintf(err, errlen, "socket setup: %s", strerror(errno));
		return NULL;
	}
	if (nvmf_socket_congestion(fd, na->params.tcp_congestion, err, errlen) != 0)
		return NULL;
	op = calloc(1, sizeof(*op));
	s = op != NULL ? nvmf_stream_socket(fd) : NULL;
	qp = s != NULL ? nvmf_qpair_alloc(na, s, &nvmf_host_role) : NULL;
	if (qp == NULL) {
		if (s != NULL)
			s->ops->close(s, true);
		free(op);
		snprintf(err, errlen, "out of memory");
		return NULL;
	}
	qp->admin = qid == 0;
	qp->qsize = qsize;
	qp->sq_fc = ap->sq_flow_control;
	qp->icd_size = qid == 0 ? NVME_TCP_ADMIN_ICD_SIZE : 0;
	if (nvmf_host_qpair_ready(qp, err, errlen) == NULL) {
		s->ops->close(s, true);
		free(op);
		return NULL;
	}
	p = nvmf_tx_get(qp);
	if (p == NULL) {
		snprintf(err, errlen, "out of memory");
		goto fail;
	}
	p->prefix_len = nvmf_pdu_encode_icreq(p->prefix, ap->pda, ap->header_digests,
	    ap->data_digests, ap->maxr2t);
	nvmf_tx_queue(qp, p);
	op->pg = pg;
	op->qp = qp;
	op->cb = cb;
	op->arg = arg;
	op->qid = qid;
	op->kato_ms = qid == 0 ? cp->kato_ms : 0;
	op->timeout_ms = cp->timeout_ms;
	op->keep_fd = keep_fd;
	nvmf_connect_data_init(&op->data, cp->hostid, cp->cntlid, cp->subnqn, cp->hostnqn);
	qp->ic_pending = true;
	qp->ic_done = cq_icresp;
	qp->ic_arg = op;
	qp->on_failed = cq_qp_failed;
	qp->on_failed_arg = op;
	rc = nvmf_poll_group_add(pg, qp);
	if (rc != 0) {
		snprintf(err, errlen, "poll group: %s", strerror(-rc));
		goto fail;
	}
	nvmf_qpair_wake(qp, nvmf_deadline(cp->timeout_ms), cq_wake, op);
	return op;
fail:
	qp->keep_fd = true;
	nvmf_qpair_free(qp);
	free(op);
	return NULL;
}

/* Abandons a queue in set-up: its queue pair goes, its callback never runs. */
static void
cq_cancel(struct connect_op *op)
{
	struct nvmf_qpair *qp = op->qp;

	op->cancelled = true;
	if (qp != NULL)
		nvmf_qpair_free(qp);	/* finishes the op, which frees it when delivered */
	op->qp = NULL;
}

int
nvmf_host_connect_queue_async(struct nvmf_poll_group *pg, struct nvmf_association *na,
    int fd, const struct nvmf_connect_params *cp, uint16_t qid, uint16_t qsize,
    nvmf_connect_cb cb, void *arg, char *err, size_t errlen)
{
	return cq_start(pg, na, fd, cp, qid, qsize, false, cb, arg, err, errlen) != NULL ?
	    0 : -1;
}

/* Blocking: nvmf_host_connect_queue drives the same states in a group of its own. */
struct cq_wait {
	bool done;
	struct nvmf_qpair *qp;
	uint16_t status, cntlid;
	char err[256];
};

static void
cq_wait_done(void *arg, struct nvmf_qpair *qp, const struct nvmf_connect_result *r)
{
	struct cq_wait *w = arg;

	w->done = true;
	w->qp = qp;
	w->status = r->status;
	w->cntlid = r->cntlid;
	snprintf(w->err, sizeof(w->err), "%s", r->err);
}

struct nvmf_qpair *
nvmf_host_connect_queue(struct nvmf_association *na, int fd,
    const struct nvmf_connect_params *cp, uint16_t qid, uint16_t qsize,
    uint16_t *cntlid, uint16_t *status, char *err, size_t errlen)
{
	struct cq_wait w = { 0 };
	struct nvmf_poll_group *pg;
	struct connect_op *op;

	if (status != NULL)
		*status = 0;
	pg = nvmf_poll_group_create(NULL, NULL, err, errlen);
	if (pg == NULL)
		return NULL;
	op = cq_start(pg, na, fd, cp, qid, qsize, true, cq_wait_done, &w, err, errlen);
	while (op != NULL && !w.done) {
		if (nvmf_poll_group_poll(pg, -1) < 0) {
			snprintf(w.err, sizeof(w.err), "poll: %s", strerror(errno));
			cq_cancel(op);
			break;
		}
	}
	if (w.qp != NULL)
		(void)nvmf_poll_group_remove(pg, w.qp);
	nvmf_poll_group_free(pg);
	if (op == NULL)
		return NULL;
	if (w.qp == NULL) {
		snprintf(err, errlen, "%s", w.err);
		if (status != NULL)
			*status = w.status;
		return NULL;
	}
	if (cntlid != NULL)
		*cntlid = w.cntlid;
	return w.qp;
}

/* ------------------------------------------------------ a whole controller */

enum cc_state { CC_ADMIN, CC_ENABLE, CC_IDENTIFY, CC_QUEUES, CC_IO, CC_DONE, CC_FAILED };

struct io_slot {
	struct nvmf_ctrl_connect *cc;
	uint32_t index;
	struct connect_op *op;
};

struct nvmf_ctrl_connect {
	struct nvmf_poll_group *pg;
	struct nvmf_association *na;
	nvmf_ctrl_connect_cb cb;
	void *arg;
	enum cc_state state;
	bool deliver_pending;
	bool freed;
	bool taken;
	struct nvmf_ctrl_connect_params p;
	char *subnqn, *hostnqn, *address, *port;
	struct sockaddr_storage addr;
	socklen_t addrlen;
	struct connect_op *admin_op;
	struct nvmf_qpair *admin;
	struct io_slot *slots;
	struct nvmf_qpair **io;
	uint32_t nio, io_left;
	uint16_t cntlid;
	uint64_t cap;
	uint32_t icd;
	struct nvme_identify_controller *id;
	char err[256];
};

static void
cc_release(struct nvmf_ctrl_connect *cc)
{
	if (cc->admin_op != NULL)
		cq_cancel(cc->admin_op);
	cc->admin_op = NULL;
	for (uint32_t i = 0; cc->slots != NULL && i < cc->nio; i++) {
		if (cc->slots[i].op != NULL)
			cq_cancel(cc->slots[i].op);
		cc->slots[i].op = NULL;
	}
	if (!cc->taken) {
		for (uint32_t i = 0; cc->io != NULL && i < cc->nio; i++)
			nvmf_qpair_free(cc->io[i]);
		nvmf_qpair_free(cc->admin);
		free(cc->io);
	}
	cc->admin = NULL;
	cc->io = NULL;
}

static void
cc_destroy(struct nvmf_ctrl_connect *cc)
{
	cc_release(cc);
	nvmf_association_free(cc->na);
	free(cc->slots);
	free(cc->id);
	free(cc->subnqn);
	free(cc->hostnqn);
	free(cc->address);
	free(cc->port);
	free(cc);
}

static void
cc_deliver(void *arg)
{
	struct nvmf_ctrl_connect *cc = arg;

	cc->deliver_pending = false;
	if (cc->freed) {
		cc_destroy(cc);
		return;
	}
	if (cc->state == CC_FAILED)
		cc_release(cc);	/* outside every queue pair's processing now */
	cc->cb(cc->arg, cc, cc->state == CC_DONE ? 0 : -1, cc->state == CC_DONE ? "" :
	    cc->err);
}

static void
cc_end(struct nvmf_ctrl_connect *cc, enum cc_state st)
{
	cc->state = st;
	if (cc->admin != NULL)
		nvmf_qpair_wake(cc->admin, 0, NULL, NULL);
	cc->deliver_pending = true;
	if (nvmf_poll_group_defer(cc->pg, cc_deliver, cc) != 0)
		cc_deliver(cc);
}

static void
cc_fail(struct nvmf_ctrl_connect *cc, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

static void
cc_fail(struct nvmf_ctrl_connect *cc, const char *fmt, ...)
{
	va_list ap;

	if (cc->state == CC_DONE || cc->state == CC_FAILED)
		return;
	va_start(ap, fmt);
	vsnprintf(cc->err, sizeof(cc->err), fmt, ap);
	va_end(ap);
	/* Queues still in set-up are dropped now; the rest once delivered. */
	for (uint32_t i = 0; cc->slots != NULL && i < cc->nio; i++) {
		if (cc->slots[i].op != NULL)
			cq_cancel(cc->slots[i].op);
		cc->slots[i].op = NULL;
	}
	cc_end(cc, CC_FAILED);
}

/* A connected queue pair of ours failed during set-up. */
static void
cc_qp_failed(struct nvmf_qpair *qp, void *arg)
{
	cc_fail(arg, "queue %u: %s", nvmf_qpair_qid(qp), nvmf_qpair_error(qp));
}

/* An admin step's answer is overdue: its callback hears it. */
static void
cc_step_wake(struct nvmf_qpair *qp, void *arg)
{
	(void)arg;
	nvmf_host_time_out(qp, "command timed out");
}

static int
cc_dial(struct nvmf_ctrl_connect *cc, uint16_t qid, char *err, size_t errlen)
{
	int fd;

	if (cc->p.dial != NULL)
		return cc->p.dial(cc->p.dial_arg, qid, err, errlen);
	/* Non-blocking: ICReq waits in the queue until the socket is writable. */
	fd = socket(cc->addr.ss_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0) {
		snprintf(err, errlen, "socket: %s", strerror(errno));
		return -1;
	}
	if (connect(fd, (struct sockaddr *)&cc->addr, cc->addrlen) != 0 &&
	    errno != EINPROGRESS) {
		snprintf(err, errlen, "%s port %s: %s", cc->address, cc->port, strerror(errno));
		close(fd);
		return -1;
	}
	return fd;
}

static void
cc_io_connected(void *arg, struct nvmf_qpair *qp, const struct nvmf_connect_result *r)
{
	struct io_slot *slot = arg;
	struct nvmf_ctrl_connect *cc = slot->cc;

	slot->op = NULL;
	if (qp == NULL) {
		cc_fail(cc, "queue %u: %s", slot->index + 1, r->err);
		return;
	}
	cc->io[slot->index] = qp;
	nvmf_host_qpair_set_icd_size(qp, cc->icd);
	qp->on_failed = cc_qp_failed;
	qp->on_failed_arg = cc;
	if (--cc->io_left == 0)
		cc_end(cc, CC_DONE);
}

static void
cc_start_io(struct nvmf_ctrl_connect *cc)
{
	struct nvmf_connect_params cp = cc->p.connect;
	char err[256];

	cp.cntlid = cc->cntlid;
	cp.kato_ms = 0;
	cc->state = CC_IO;
	cc->io_left = cc->nio;
	for (uint32_t i = 0; i < cc->nio && cc->state == CC_IO; i++) {
		struct io_slot *slot = &cc->slots[i];
		int fd = cc_dial(cc, (uint16_t)(i + 1), err, sizeof(err));

		slot->cc = cc;
		slot->index = i;
		if (fd < 0) {
			cc_fail(cc, "queue %u: %s", i + 1, err);
			return;
		}
		slot->op = cq_start(cc->pg, cc->na, fd, &cp, (uint16_t)(i + 1), cc->p.io_qsize,
		    false, cc_io_connected, slot, err, sizeof(err));
		if (slot->op == NULL) {
			close(fd);
			cc_fail(cc, "queue %u: %s", i + 1, err);
			return;
		}
	}
}

static void
cc_admin_step(void *arg, const struct nvmf_admin_result *r)
{
	struct nvmf_ctrl_connect *cc = arg;
	uint32_t granted, nsq, ncq;
	int rc = 0;

	if (cc->state == CC_FAILED || cc->state == CC_DONE)
		return;
	nvmf_qpair_wake(cc->admin, 0, NULL, NULL);
	if (r->rc != 0) {
		cc_fail(cc, "%s%s", cc->state == CC_ENABLE ? "enabling the controller: " : "",
		    r->err);
		return;
	}
	switch (cc->state) {
	case CC_ENABLE:
		cc->cap = r->value;
		cc->state = CC_IDENTIFY;
		rc = nvmf_host_identify_async(cc->admin, NVME_CNS_CONTROLLER, 0, cc->id,
		    sizeof(*cc->id), cc_admin_step, cc);
		break;
	case CC_IDENTIFY:
		cc->icd = cc->id->ioccsz * 16u > sizeof(struct nvme_command) ?
		    cc->id->ioccsz * 16u - (uint32_t)sizeof(struct nvme_command) : 0;
		if (cc->p.io_queues == 0) {
			cc_end(cc, CC_DONE);
			return;
		}
		cc->state = CC_QUEUES;
		rc = nvmf_host_set_features_async(cc->admin, NVME_FEAT_NUM_QUEUES,
		    NVME_FEAT_NUM_QUEUES_VALUE(cc->p.io_queues, cc->p.io_queues),
		    cc_admin_step, cc);
		break;
	case CC_QUEUES:
		nsq = (uint32_t)(r->value & 0xffff) + 1;
		ncq = (uint32_t)(r->value >> 16) + 1;
		granted = cc->p.io_queues;
		if (nsq < granted)
			granted = nsq;
		if (ncq < granted)
			granted = ncq;
		cc->nio = granted;
		cc->io = calloc(granted, sizeof(*cc->io));
		cc->slots = calloc(granted, sizeof(*cc->slots));
		if (cc->io == NULL || cc->slots == NULL) {
			cc_fail(cc, "out of memory");
			return;
		}
		cc_start_io(cc);
		return;
	default:
		return;
	}
	if (rc != 0) {
		cc_fail(cc, "admin queue: %s", rc == -ENOTCONN ?
		    nvmf_qpair_error(cc->admin) : strerror(-rc));
		return;
	}
	nvmf_qpair_wake(cc->admin, nvmf_deadline(cc->p.connect.timeout_ms), cc_step_wake, cc);
}

static void
cc_admin_connected(void *arg, struct nvmf_qpair *qp, const struct nvmf_connect_result *r)
{
	struct nvmf_ctrl_connect *cc = arg;
	int rc;

	cc->admin_op = NULL;
	if (qp == NULL) {
		cc_fail(cc, "queue 0: %s", r->err);
		return;
	}
	cc->admin = qp;
	cc->cntlid = r->cntlid;
	qp->on_failed = cc_qp_failed;
	qp->on_failed_arg = cc;
	cc->state = CC_ENABLE;
	rc = nvmf_host_enable_controller_async(qp, cc->p.connect.timeout_ms, cc_admin_step, cc);
	if (rc != 0)
		cc_fail(cc, "enabling the controller: %s", strerror(-rc));
}

static char *
dup_or_null(const char *s)
{
	return s != NULL ? strdup(s) : NULL;
}

struct nvmf_ctrl_connect *
nvmf_host_ctrl_connect_async(struct nvmf_poll_group *pg, struct nvmf_association *na,
    const struct nvmf_ctrl_connect_params *p, nvmf_ctrl_connect_cb cb, void *arg,
    char *err, size_t errlen)
{
	struct nvmf_ctrl_connect *cc;
	struct nvmf_connect_params cp;
	int fd;

	if (p->size < sizeof(*p)) {
		snprintf(err, errlen, "set-up parameters from an older library");
		return NULL;
	}
	if (p->dial == NULL && (p->address == NULL || p->port == NULL)) {
		snprintf(err, errlen, "an address and port, or a dial function, are needed");
		return NULL;
	}
	cc = calloc(1, sizeof(*cc));
	if (cc == NULL || (cc->id = calloc(1, sizeof(*cc->id))) == NULL) {
		free(cc);
		snprintf(err, errlen, "out of memory");
		return NULL;
	}
	cc->pg = pg;
	cc->na = na;
	atomic_fetch_add(&na->refs, 1);
	cc->cb = cb;
	cc->arg = arg;
	cc->p = *p;
	cc->subnqn = dup_or_null(p->connect.subnqn);
	cc->hostnqn = dup_or_null(p->connect.hostnqn);
	cc->address = dup_or_null(p->address);
	cc->port = dup_or_null(p->port);
	cc->p.connect.subnqn = cc->subnqn;
	cc->p.connect.hostnqn = cc->hostnqn;
	if (cc->p.admin_qsize == 0)
		cc->p.admin_qsize = 32;
	if (cc->p.io_qsize == 0)
		cc->p.io_qsize = 32;
	if (p->dial == NULL) {
		struct addrinfo hints = { .ai_socktype = SOCK_STREAM };
		struct addrinfo *res;
		int rc = getaddrinfo(p->address, p->port, &hints, &res);

		if (rc != 0) {
			snprintf(err, errlen, "%s port %s: %s", p->address, p->port,
			    gai_strerror(rc));
			cc_destroy(cc);
			return NULL;
		}
		memcpy(&cc->addr, res->ai_addr, res->ai_addrlen);
		cc->addrlen = res->ai_addrlen;
		freeaddrinfo(res);
	}
	fd = cc_dial(cc, 0, err, errlen);
	if (fd < 0) {
		cc_destroy(cc);
		return NULL;
	}
	cp = cc->p.connect;
	cp.cntlid = NVMF_CNTLID_DYNAMIC;
	cc->state = CC_ADMIN;
	cc->admin_op = cq_start(pg, na, fd, &cp, 0, cc->p.admin_qsize, false,
	    cc_admin_connected, cc, err, errlen);
	if (cc->admin_op == NULL) {
		close(fd);
		cc_destroy(cc);
		return NULL;
	}
	return cc;
}

int
nvmf_ctrl_connect_take(struct nvmf_ctrl_connect *cc, struct nvmf_ctrl_result *r)
{
	if (cc->state != CC_DONE || cc->taken || r->size < sizeof(*r))
		return -EINVAL;
	r->admin = cc->admin;
	r->io = cc->io;
	r->nio = cc->nio;
	r->cntlid = cc->cntlid;
	r->cap = cc->cap;
	memcpy(&r->id, cc->id, sizeof(r->id));
	/* From now on their failures are the group owner's to hear. */
	cc->admin->on_failed = NULL;
	for (uint32_t i = 0; i < cc->nio; i++)
		cc->io[i]->on_failed = NULL;
	cc->taken = true;
	cc->admin = NULL;
	cc->io = NULL;
	return 0;
}

void
nvmf_ctrl_connect_free(struct nvmf_ctrl_connect *cc)
{
	if (cc == NULL)
		return;
	if (cc->deliver_pending) {
		/* The group still holds its delivery: it finishes the job. */
		cc->freed = true;
		cc_release(cc);
		return;
	}
	cc_destroy(cc);
}
