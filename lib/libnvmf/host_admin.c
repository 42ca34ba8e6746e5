/* SPDX-License-Identifier: BSD-2-Clause
 * Copyright (c) 2026 The nvmf developers */
/*
 * host_admin.c - admin commands with a callback (property get/set,
 * identify, get log page, set features, enabling the controller as a state
 * machine), and the one wait loop and error wording that the blocking
 * helpers built on them share.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "nvmf_qpair.h"

#define CSTS_POLL_MS	10

/* ------------------------------------------------------ shared wording */

int
nvmf_lost_rc(const struct nvmf_qpair *qp)
{
	if (qp->timed_out)
		return -ETIMEDOUT;
	return qp->protocol_error ? -EPROTO : -ECONNRESET;
}

void
nvmf_err_lost(const struct nvmf_qpair *qp, const char *what, char *err, size_t errlen)
{
	if (qp->timed_out)
		snprintf(err, errlen, "%s: no answer from the controller", what);
	else
		snprintf(err, errlen, "%s: %s", what, nvmf_qpair_error(qp));
}

void
nvmf_err_status(uint16_t status, const char *what, char *err, size_t errlen)
{
	snprintf(err, errlen, "%s failed: %s (status 0x%04x)", what,
	    nvmf_status_string(status & ~NVME_STATUS_DNR), status);
}

void
nvmf_host_time_out(struct nvmf_qpair *qp, const char *why)
{
	if (!qp->failed)
		qp->timed_out = true;
	/*
	 * A late C2HData could still land in the command's buffer: the
	 * connection is no longer trustworthy, so end it.
	 */
	nvmf_qpair_terminate(qp, NVME_TCP_FES_PDU_SEQUENCE_ERROR, 0, why);
	nvmf_host_drop_all(qp);
}

int
nvmf_host_wait(struct nvmf_qpair *qp, const bool *done, long deadline)
{
	while (!*done) {
		int left = nvmf_ms_left(deadline), wait = left;

		if (left <= 0) {
			nvmf_host_time_out(qp, "command timed out");
			return -ETIMEDOUT;
		}
		/* A step's pause (CSTS polling) wakes us before the deadline. */
		if (qp->wake_armed) {
			long w = qp->wake_at - nvmf_now_ms();

			wait = w <= 0 ? 0 : w < wait ? (int)w : wait;
		}
		if (nvmf_qpair_poll(qp, wait) != 0) {
			nvmf_host_drop_all(qp);
			break;
		}
		(void)nvmf_qpair_wake_due(qp, nvmf_now_ms());
	}
	return *done ? 0 : nvmf_lost_rc(qp);
}

/* ------------------------------------------------------ one admin command */

struct admin_op {
	struct nvmf_qpair *qp;
	nvmf_admin_cb cb;
	void *arg;
	bool eight;			/* Property Get of 8 bytes: CDW1 too */
	char what[48];
};

/* The name a command goes by in error lines. */
static void
name_command(const struct nvme_command *sqe, char *what, size_t n)
{
	const struct nvmf_fabrics_cmd *f = (const void *)sqe;

	if (sqe->opc == NVME_ADMIN_FABRICS && f->fctype == NVMF_FCTYPE_PROPERTY_GET)
		snprintf(what, n, "Property Get");
	else if (sqe->opc == NVME_ADMIN_FABRICS && f->fctype == NVMF_FCTYPE_PROPERTY_SET)
		snprintf(what, n, "Property Set");
	else if (sqe->opc == NVME_ADMIN_IDENTIFY)
		snprintf(what, n, "Identify (CNS %u)", sqe->cdw10 & 0xff);
	else if (sqe->opc == NVME_ADMIN_GET_LOG_PAGE)
		snprintf(what, n, "Get Log Page 0x%02x", sqe->cdw10 & 0xff);
	else
		snprintf(what, n, "admin command 0x%02x", sqe->opc);
}

static void
admin_done(void *arg, const struct nvme_completion *cqe)
{
	struct admin_op *op = arg;
	struct nvmf_admin_result r = { .err = "" };
	char err[256];

	if (cqe == NULL) {
		r.rc = nvmf_lost_rc(op->qp);
		nvmf_err_lost(op->qp, op->what, err, sizeof(err));
		r.err = err;
	} else if (NVME_CQE_STATUS(cqe->status) != 0) {
		r.rc = -EIO;
		r.status = NVME_CQE_STATUS(cqe->status);
		nvmf_err_status(r.status, op->what, err, sizeof(err));
		r.err = err;
	} else {
		r.value = cqe->cdw0 | (op->eight ? (uint64_t)cqe->cdw1 << 32 : 0);
	}
	op->cb(op->arg, &r);
	free(op);
}

static int
admin_submit(struct nvmf_qpair *qp, const struct nvme_command *sqe, void *buf,
    uint32_t len, bool to_controller, bool eight, nvmf_admin_cb cb, void *arg)
{
	struct admin_op *op = calloc(1, sizeof(*op));
	int rc;

	if (op == NULL)
		return -ENOMEM;
	op->qp = qp;
	op->cb = cb;
	op->arg = arg;
	op->eight = eight;
	name_command(sqe, op->what, sizeof(op->what));
	rc = nvmf_host_submit(qp, sqe, buf, len, to_controller, admin_done, op);
	if (rc != 0)
		free(op);
	return rc;
}

int
nvmf_host_admin_cmd_async(struct nvmf_qpair *admin, const struct nvme_command *sqe,
    void *buf, uint32_t len, bool to_controller, nvmf_admin_cb cb, void *arg)
{
	return admin_submit(admin, sqe, buf, len, to_controller, false, cb, arg);
}

int
nvmf_host_property_get_async(struct nvmf_qpair *admin, uint32_t offset, bool eight,
    nvmf_admin_cb cb, void *arg)
{
	struct nvme_command sqe;

	nvmf_cmd_property_get(&sqe, offset, eight);
	return admin_submit(admin, &sqe, NULL, 0, false, eight, cb, arg);
}

int
nvmf_host_property_set_async(struct nvmf_qpair *admin, uint32_t offset, bool eight,
    uint64_t value, nvmf_admin_cb cb, void *arg)
{
	struct nvme_command sqe;

	nvmf_cmd_property_set(&sqe, offset, eight, value);
	return admin_submit(admin, &sqe, NULL, 0, false, false, cb, arg);
}

int
nvmf_host_identify_async(struct nvmf_qpair *admin, uint8_t cns, uint32_t nsid, void *buf,
    uint32_t len, nvmf_admin_cb cb, void *arg)
{
	struct nvme_command sqe;

	nvmf_cmd_identify(&sqe, cns, nsid);
	return admin_submit(admin, &sqe, buf, len, false, false, cb, arg);
}

int
nvmf_host_get_log_page_async(struct nvmf_qpair *admin, uint8_t lid, uint32_t nsid,
    uint64_t offset, void *buf, uint32_t len, nvmf_admin_cb cb, void *arg)
{
	struct nvme_command sqe;

	nvmf_cmd_get_log_page(&sqe, lid, nsid, offset, len);
	return admin_submit(admin, &sqe, buf, len, false, false, cb, arg);
}

int
nvmf_host_set_features_async(struct nvmf_qpair *admin, uint8_t fid, uint32_t cdw11,
    nvmf_admin_cb cb, void *arg)
{
	struct nvme_command sqe;

	nvmf_cmd_set_features(&sqe, fid, cdw11);
	return admin_submit(admin, &sqe, NULL, 0, false, false, cb, arg);
}

/* -------------------------------------------------- enabling, as states */

enum enable_state { EN_CAP, EN_CC, EN_CSTS, EN_PAUSE };

struct enable_op {
	struct nvmf_qpair *qp;
	nvmf_admin_cb cb;
	void *arg;
	enum enable_state state;
	int timeout_ms;
	long deadline;			/* for CSTS.RDY, from CAP.TO */
	long step_deadline;		/* for the answer in flight */
	uint64_t cap;
};

static void enable_step(void *arg, const struct nvmf_admin_result *r);

static void
enable_finish(struct enable_op *e, int rc, uint16_t status, const char *err)
{
	struct nvmf_admin_result r = { .rc = rc, .status = status, .value = e->cap,
	    .err = err };

	if (e->qp->wake_cb != NULL && e->qp->wake_arg == e)
		nvmf_qpair_wake(e->qp, 0, NULL, NULL);
	e->cb(e->arg, &r);
	free(e);
}

/* The wake-up: the pause before the next CSTS read, or an overdue answer. */
static void
enable_wake(struct nvmf_qpair *qp, void *arg)
{
	struct enable_op *e = arg;
	int rc;

	if (e->state != EN_PAUSE) {
		/* Overdue (or the queue pair is being freed): its command hears it. */
		nvmf_host_time_out(qp, "command timed out");
		return;
	}
	if (qp->failed) {
		enable_finish(e, nvmf_lost_rc(qp), 0, "Property Get: queue pair closed");
		return;
	}
	e->state = EN_CSTS;
	e->step_deadline = nvmf_deadline(e->timeout_ms);
	nvmf_qpair_wake(qp, e->step_deadline, enable_wake, e);
	rc = nvmf_host_property_get_async(qp, NVME_REG_CSTS, false, enable_step, e);
	if (rc != 0) {
		char err[160];

		snprintf(err, sizeof(err), "Property Get: %s", strerror(-rc));
		enable_finish(e, rc, 0, err);
	}
}

static void
enable_step(void *arg, const struct nvmf_admin_result *r)
{
	struct enable_op *e = arg;
	struct nvmf_qpair *qp = e->qp;
	uint32_t cc = NVME_CC_EN | (6u << NVME_CC_IOSQES_SHIFT) | (4u << NVME_CC_IOCQES_SHIFT);
	long to;
	int rc = 0;

	nvmf_qpair_wake(qp, 0, NULL, NULL);
	if (r->rc != 0) {
		enable_finish(e, r->rc, r->status, r->err);
		return;
	}
	switch (e->state) {
	case EN_CAP:
		e->cap = r->value;
		/* CAP.TO is in 500 ms units; wait no longer than the caller allows. */
		to = (long)((e->cap >> NVME_CAP_TO_SHIFT) & 0xff) * 500;
		e->deadline = nvmf_now_ms() + (to < e->timeout_ms ? to + 500 : e->timeout_ms);
		e->state = EN_CC;
		rc = nvmf_host_property_set_async(qp, NVME_REG_CC, false, cc, enable_step, e);
		break;
	case EN_CC:
		e->state = EN_CSTS;
		rc = nvmf_host_property_get_async(qp, NVME_REG_CSTS, false, enable_step, e);
		break;
	case EN_CSTS:
		if (r->value & NVME_CSTS_CFS) {
			enable_finish(e, -EIO, 0,
			    "controller reports a fatal status (CSTS.CFS)");
			return;
		}
		if (r->value & NVME_CSTS_RDY) {
			enable_finish(e, 0, 0, "");
			return;
		}
		if (nvmf_now_ms() >= e->deadline) {
			enable_finish(e, -ETIMEDOUT, 0,
			    "controller not ready (CSTS.RDY) in time");
			return;
		}
		e->state = EN_PAUSE;
		nvmf_qpair_wake(qp, nvmf_now_ms() + CSTS_POLL_MS, enable_wake, e);
		return;
	case EN_PAUSE:
		return;
	}
	if (rc != 0) {
		char err[160];

		snprintf(err, sizeof(err), "%s: %s", e->state == EN_CC ? "Property Set" :
		    "Property Get", rc == -ENOTCONN ? nvmf_qpair_error(qp) : strerror(-rc));
		enable_finish(e, rc, 0, err);
		return;
	}
	e->step_deadline = nvmf_deadline(e->timeout_ms);
	nvmf_qpair_wake(qp, e->step_deadline, enable_wake, e);
}

int
nvmf_host_enable_controller_async(struct nvmf_qpair *admin, int timeout_ms,
    nvmf_admin_cb cb, void *arg)
{
	struct enable_op *e = calloc(1, sizeof(*e));
	int rc;

	if (e == NULL)
		return -ENOMEM;
	e->qp = admin;
	e->cb = cb;
	e->arg = arg;
	e->timeout_ms = timeout_ms;
	e->state = EN_CAP;
	rc = nvmf_host_property_get_async(admin, NVME_REG_CAP, true, enable_step, e);
	if (rc != 0) {
		free(e);
		return rc;
	}
	e->step_deadline = nvmf_deadline(timeout_ms);
	nvmf_qpair_wake(admin, e->step_deadline, enable_wake, e);
	return 0;
}
