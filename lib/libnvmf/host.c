/* SPDX-License-Identifier: BSD-2-Clause
 * Copyright (c) 2026 The nvmf developers */
/*
 * host.c - the host side of a queue pair: submitting commands, in-capsule
 * data, answering R2Ts with H2CData, taking C2HData and responses.
 */
#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "nvmf_qpair.h"

struct nvmf_qpair *
nvmf_host_qpair_ready(struct nvmf_qpair *qp, char *err, size_t errlen)
{
	qp->cmds = calloc(qp->qsize, sizeof(*qp->cmds));
	if (qp->cmds == NULL) {
		qp->stream = NULL;	/* the caller keeps its stream */
		nvmf_qpair_free(qp);
		snprintf(err, errlen, "out of memory");
		return NULL;
	}
	for (int i = qp->qsize - 1; i >= 0; i--) {
		qp->cmds[i].next_free = qp->free_cmds;
		qp->free_cmds = &qp->cmds[i];
	}
	return qp;
}

void
nvmf_host_qpair_set_icd_size(struct nvmf_qpair *qp, uint32_t bytes)
{
	qp->icd_size = bytes;
}

unsigned
nvmf_host_outstanding(const struct nvmf_qpair *qp)
{
	return qp->outstanding;
}

static void
cmd_finish(struct nvmf_qpair *qp, struct host_cmd *c, const struct nvme_completion *cqe)
{
	nvmf_completion_cb cb = c->cb;
	void *arg = c->arg;
	struct nvme_completion copy;

	if (cqe != NULL)
		copy = *cqe;
	c->busy = false;
	c->cb = NULL;
	c->next_free = qp->free_cmds;
	qp->free_cmds = c;
	qp->outstanding--;
	if (cb != NULL)
		cb(arg, cqe != NULL ? &copy : NULL);
}

/* Completes a command whose response arrived, once we no longer send its data. */
static void
cmd_respond(struct nvmf_qpair *qp, struct host_cmd *c, const struct nvme_completion *cqe)
{
	c->cqe = *cqe;
	if (c->data_corrupt && NVME_CQE_STATUS(cqe->status) == 0)
		c->cqe.status = NVME_CQE_STATUS_FIELD(NVME_STATUS(NVME_SCT_GENERIC,
		    NVME_SC_TRANSIENT_TRANSPORT_ERROR));
	if (c->tx_refs > 0) {
		c->resp_pending = true;
		return;
	}
	cmd_finish(qp, c, &c->cqe);
}

static void
tx_done_cmd(struct nvmf_qpair *qp, void *arg, bool sent)
{
	struct host_cmd *c = arg;

	(void)sent;
	c->tx_refs--;
	if (c->tx_refs == 0 && c->resp_pending && c->busy) {
		c->resp_pending = false;
		cmd_finish(qp, c, &c->cqe);
	}
}

int
nvmf_host_submit(struct nvmf_qpair *qp, const struct nvme_command *sqe, void *data,
    uint32_t len, bool to_controller, nvmf_completion_cb cb, void *arg)
{
	struct host_cmd *c;
	struct tx_pdu *p;
	struct nvme_command cmd = *sqe;
	uint32_t icd = 0;

	if (qp->failed)
		return -ENOTCONN;
	if (qp->free_cmds == NULL)
		return -EBUSY;
	if (qp->sq_fc && (uint16_t)((qp->sqtail + 1) % qp->qsize) == qp->sqhd)
		return -EBUSY;
	p = nvmf_tx_get(qp);
	if (p == NULL)
		return -ENOMEM;
	c = qp->free_cmds;
	qp->free_cmds = c->next_free;
	c->busy = true;
	c->to_controller = to_controller;
	c->data_corrupt = false;
	c->resp_pending = false;
	c->buf = data;
	c->len = data != NULL ? len : 0;
	c->c2h_got = 0;
	c->tx_refs = 0;
	c->cb = cb;
	c->arg = arg;
	qp->outstanding++;

	cmd.cid = (uint16_t)(c - qp->cmds);
	cmd.flags = (uint8_t)((cmd.flags & 0x3) |
	    (NVME_PSDT_SGL_MPTR_CONTIG << NVME_CMD_PSDT_SHIFT));
	memset(&cmd.sgl, 0, sizeof(cmd.sgl));
	cmd.sgl.length = c->len;
	if (to_controller && c->len > 0 && c->len <= qp->icd_size) {
		cmd.sgl.type = NVME_SGL_ICD;
		icd = c->len;
	} else {
		cmd.sgl.type = NVME_SGL_TRANSPORT;
	}
	p->prefix_len = nvmf_pdu_encode_capsule_cmd(p->prefix, &cmd,
	    qp->info.header_digests, qp->info.data_digests, (uint8_t)qp->tx_pda, icd);
	if (icd > 0) {
		p->data = data;
		p->data_len = icd;
		p->done = tx_done_cmd;
		p->done_arg = c;
		c->tx_refs++;
	}
	nvmf_tx_queue(qp, p);
	qp->sqtail = (uint16_t)((qp->sqtail + 1) % qp->qsize);
	return 0;
}

static struct host_cmd *
cmd_lookup(struct nvmf_qpair *qp, uint16_t cid)
{
	if (cid >= qp->qsize || !qp->cmds[cid].busy)
		return NULL;
	return &qp->cmds[cid];
}

static int
fault(struct nvmf_qpair *qp, uint16_t fes, uint32_t fei, const char *what, uint16_t cid)
{
	struct nvmf_pdu_fault f;

	nvmf_pdu_fault_set(&f, fes, fei, "%s (CID %u)", what, cid);
	nvmf_qpair_fault(qp, &f);
	return -1;
}

/* Queues H2CData PDUs for [off, off+len) of a command's buffer. */
static int
send_h2c(struct nvmf_qpair *qp, struct host_cmd *c, uint16_t cid, uint16_t ttag,
    uint32_t off, uint32_t len)
{
	uint32_t max = qp->info.max_h2c_data;

	while (len > 0) {
		uint32_t n = len < max ? len : max;
		struct tx_pdu *p = nvmf_tx_get(qp);

		if (p == NULL) {
			nvmf_qpair_fail(qp, "out of memory queueing H2CData");
			return -1;
		}
		p->prefix_len = nvmf_pdu_encode_h2c_data(p->prefix, cid, ttag, off, n,
		    n == len, qp->info.header_digests, qp->info.data_digests,
		    (uint8_t)qp->tx_pda);
		p->data = c->buf + off;
		p->data_len = n;
		p->done = tx_done_cmd;
		p->done_arg = c;
		c->tx_refs++;
		nvmf_tx_queue(qp, p);
		off += n;
		len -= n;
	}
	return 0;
}

static int
host_rx_header(struct nvmf_qpair *qp)
{
	const struct nvme_tcp_common_hdr *ch = (const void *)qp->hdr;
	struct host_cmd *c;

	qp->rx_cmd = NULL;
	switch (ch->pdu_type) {
	case NVME_TCP_PDU_ICRESP: {
		const struct nvmf_association_params *ap = &qp->na->params;
		struct nvmf_pdu_fault f;
		char what[sizeof(f.what)];

		if (nvmf_pdu_check_icresp((const void *)qp->hdr, ap->header_digests,
		    ap->data_digests, &f) != 0) {
			memcpy(what, f.what, sizeof(what));
			nvmf_pdu_fault_set(&f, f.fes, f.fei, "bad ICResp: %.80s", what);
			nvmf_qpair_fault(qp, &f);
			return -1;
		}
		return 0;
	}
	case NVME_TCP_PDU_C2H_TERM_REQ: {
		const struct nvme_tcp_term_req_hdr *tr = (const void *)qp->hdr;

		qp->protocol_error = true;
		nvmf_qpair_fail(qp, "controller terminated the connection: %s (FES 0x%x)",
		    nvmf_fes_string(tr->fes), tr->fes);
		return -1;
	}
	case NVME_TCP_PDU_C2H_DATA: {
		const struct nvme_tcp_c2h_data_hdr *h = (const void *)qp->hdr;

		c = cmd_lookup(qp, h->cccid);
		if (c == NULL || c->to_controller)
			return fault(qp, NVME_TCP_FES_INVALID_HEADER_FIELD,
			    offsetof(struct nvme_tcp_c2h_data_hdr, cccid),
			    "C2HData for a command that reads no data", h->cccid);
		if (h->datal != nvmf_pdu_data_len(ch))
			return fault(qp, NVME_TCP_FES_INVALID_HEADER_FIELD,
			    offsetof(struct nvme_tcp_c2h_data_hdr, datal),
			    "C2HData DATAL differs from its PDU length", h->cccid);
		if (h->datao != c->c2h_got || (uint64_t)h->datao + h->datal > c->len)
			return fault(qp, NVME_TCP_FES_DATA_OUT_OF_RANGE,
			    offsetof(struct nvme_tcp_c2h_data_hdr, datao),
			    "C2HData outside the command's buffer", h->cccid);
		/* LAST_PDU may come early: a controller may return less than asked. */
		qp->rx_cmd = c;
		qp->data_dst = c->buf + h->datao;
		return 0;
	}
	case NVME_TCP_PDU_CAPSULE_RESP: {
		const struct nvme_tcp_rsp *r = (const void *)qp->hdr;

		c = cmd_lookup(qp, r->rccqe.cid);
		if (c == NULL || c->resp_pending)
			return fault(qp, NVME_TCP_FES_INVALID_HEADER_FIELD,
			    offsetof(struct nvme_tcp_rsp, rccqe) +
			    offsetof(struct nvme_completion, cid),
			    "response for an unknown command", r->rccqe.cid);
		return 0;
	}
	case NVME_TCP_PDU_R2T: {
		const struct nvme_tcp_r2t_hdr *h = (const void *)qp->hdr;

		c = cmd_lookup(qp, h->cccid);
		if (c == NULL || !c->to_controller || c->len <= qp->icd_size)
			return fault(qp, NVME_TCP_FES_PDU_SEQUENCE_ERROR,
			    offsetof(struct nvme_tcp_r2t_hdr, cccid),
			    "R2T for a command with no data to send", h->cccid);
		if (h->r2tl == 0 || (uint64_t)h->r2to + h->r2tl > c->len)
			return fault(qp, NVME_TCP_FES_DATA_OUT_OF_RANGE,
			    offsetof(struct nvme_tcp_r2t_hdr, r2to),
			    "R2T outside the command's data", h->cccid);
		return 0;
	}
	}
	return 0;
}

/* ICResp passed its checks: settle what it granted, or refuse a digest it denied. */
static void
host_icresp(struct nvmf_qpair *qp)
{
	const struct nvmf_association_params *ap = &qp->na->params;
	const struct nvme_tcp_icresp *r = (const void *)qp->hdr;

	qp->ic_pending = false;
	if ((ap->header_digests && !(r->dgst & NVME_TCP_DGST_HDR)) ||
	    (ap->data_digests && !(r->dgst & NVME_TCP_DGST_DATA))) {
		nvmf_qpair_fail(qp, "controller refused %s digests",
		    ap->header_digests && !(r->dgst & NVME_TCP_DGST_HDR) ? "header" : "data");
		qp->stream->ops->shutdown(qp->stream);
		return;
	}
	nvmf_qpair_settle(qp, &(struct nvmf_qpair_info) {
		.header_digests = (r->dgst & NVME_TCP_DGST_HDR) != 0,
		.data_digests = (r->dgst & NVME_TCP_DGST_DATA) != 0,
		.hpda = ap->pda,
		.cpda = r->cpda,
		.max_h2c_data = r->maxh2cdata,
		.maxr2t = ap->maxr2t,
	});
	if (qp->ic_done != NULL)
		qp->ic_done(qp, qp->ic_arg);
}

static void
host_rx_done(struct nvmf_qpair *qp)
{
	const struct nvme_tcp_common_hdr *ch = (const void *)qp->hdr;
	struct host_cmd *c;

	switch (ch->pdu_type) {
	case NVME_TCP_PDU_ICRESP:
		host_icresp(qp);
		break;
	case NVME_TCP_PDU_C2H_DATA: {
		const struct nvme_tcp_c2h_data_hdr *h = (const void *)qp->hdr;

		c = qp->rx_cmd;
		qp->rx_cmd = NULL;
		c->c2h_got += h->datal;
		if (ch->flags & NVME_TCP_F_DATA_SUCCESS) {
			struct nvme_completion cqe = { .cid = h->cccid, .sqhd = qp->sqhd };

			/* SUCCESS stands in for the response, and for its SQHD. */
			if (qp->sq_fc)
				qp->sqhd = (uint16_t)((qp->sqhd + 1) % qp->qsize);
			cqe.sqhd = qp->sqhd;
			cmd_respond(qp, c, &cqe);
		}
		break;
	}
	case NVME_TCP_PDU_CAPSULE_RESP: {
		const struct nvme_tcp_rsp *r = (const void *)qp->hdr;

		if (qp->sq_fc && r->rccqe.sqhd < qp->qsize)
			qp->sqhd = r->rccqe.sqhd;
		c = &qp->cmds[r->rccqe.cid];
		cmd_respond(qp, c, &r->rccqe);
		break;
	}
	case NVME_TCP_PDU_R2T: {
		const struct nvme_tcp_r2t_hdr *h = (const void *)qp->hdr;

		c = &qp->cmds[h->cccid];
		send_h2c(qp, c, h->cccid, h->ttag, h->r2to, h->r2tl);
		break;
	}
	}
}

void
nvmf_host_drop_all(struct nvmf_qpair *qp)
{
	for (uint32_t i = 0; qp->cmds != NULL && i < qp->qsize; i++) {
		if (qp->cmds[i].busy)
			cmd_finish(qp, &qp->cmds[i], NULL);
	}
}

static void
host_settle_pda(struct nvmf_qpair *qp, const struct nvmf_qpair_info *info)
{
	qp->tx_pda = info->cpda;
	qp->rules.rx_pda = info->hpda;
}

static void
host_rx_data_corrupt(struct nvmf_qpair *qp)
{
	if (qp->rx_cmd != NULL)
		qp->rx_cmd->data_corrupt = true;
}

/* Nothing of the host's waits for send memory. */
static bool
host_resume(struct nvmf_qpair *qp)
{
	(void)qp;
	return false;
}

static void
host_teardown(struct nvmf_qpair *qp)
{
	nvmf_host_drop_all(qp);
	free(qp->cmds);
	qp->cmds = NULL;
}

const struct nvmf_role nvmf_host_role = {
	.controller = false,
	.term_req_name = "H2CTermReq",
	.settle_pda = host_settle_pda,
	.rx_header = host_rx_header,
	.rx_done = host_rx_done,
	.rx_data_corrupt = host_rx_data_corrupt,
	.resume = host_resume,
	.drop = nvmf_host_drop_all,
	.teardown = host_teardown,
};

/* ------------------------------------------------------------ blocking */

struct sync_wait {
	bool done;
	bool lost;
	struct nvme_completion cqe;
};

static void
sync_done(void *arg, const struct nvme_completion *cqe)
{
	struct sync_wait *w = arg;

	w->done = true;
	if (cqe != NULL)
		w->cqe = *cqe;
	else
		w->lost = true;
}

int
nvmf_host_execute(struct nvmf_qpair *qp, const struct nvme_command *sqe, void *data,
    uint32_t len, bool to_controller, struct nvme_completion *cqe, int timeout_ms)
{
	struct sync_wait w = { 0 };
	int rc;

	rc = nvmf_host_submit(qp, sqe, data, len, to_controller, sync_done, &w);
	if (rc != 0)
		return rc == -ENOTCONN ? -ECONNRESET : rc;
	rc = nvmf_host_wait(qp, &w.done, nvmf_deadline(timeout_ms));
	if (rc == -ETIMEDOUT)
		return rc;
	if (!w.done || w.lost)
		return qp->protocol_error ? -EPROTO : -ECONNRESET;
	*cqe = w.cqe;
	return 0;
}
