/* SPDX-License-Identifier: BSD-2-Clause
 * Copyright (c) 2026 The nvmf developers */
/*
 * controller.c - the controller side of a queue pair: command capsules in,
 * R2T for data the capsule did not carry, C2HData and responses out.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "nvmf_qpair.h"

void
nvmf_controller_set_handler(struct nvmf_qpair *qp, nvmf_command_cb cb, void *arg)
{
	qp->handler = cb;
	qp->handler_arg = arg;
}

static int
r2t_table_resize(struct nvmf_qpair *qp, uint16_t slots)
{
	struct nvmf_capsule **t;

	if (slots <= qp->r2t_slots)
		return 0;
	t = realloc(qp->r2t_table, slots * sizeof(*t));
	if (t == NULL)
		return -1;
	memset(t + qp->r2t_slots, 0, (slots - qp->r2t_slots) * sizeof(*t));
	qp->r2t_table = t;
	qp->r2t_slots = slots;
	return 0;
}

void
nvmf_controller_qpair_setup(struct nvmf_qpair *qp, uint16_t qid, uint16_t qsize,
    bool sq_flow_control)
{
	qp->qid = qid;
	qp->qsize = qsize;
	qp->admin = qid == 0;
	qp->sq_fc = sq_flow_control;
	qp->icd_size = qp->admin ? NVME_TCP_ADMIN_ICD_SIZE :
	    qp->na->params.io_icd_size;
	if (qp->ctrl_sqhd >= qsize)
		qp->ctrl_sqhd = 0;
	if (r2t_table_resize(qp, qsize) != 0)
		nvmf_qpair_fail(qp, "out of memory for %u queue entries", qsize);
}

const struct nvme_command *
nvmf_capsule_sqe(const struct nvmf_capsule *nc)
{
	return &nc->sqe;
}

struct nvmf_qpair *
nvmf_capsule_qpair(const struct nvmf_capsule *nc)
{
	return nc->qp;
}

uint32_t
nvmf_capsule_data_len(const struct nvmf_capsule *nc)
{
	return nc->data_len;
}

void
nvmf_controller_set_placement(struct nvmf_qpair *qp, nvmf_placement_cb cb, void *arg)
{
	qp->placement = cb;
	qp->placement_arg = arg;
}

/* Gives the data buffer back: to the pool, or to its owner. */
static void
data_release(struct nvmf_capsule *nc)
{
	void (*release)(void *) = nc->release;

	if (nc->data_pooled)
		nvmf_bufpool_put(&nc->qp->pool, nc->data, nc->data_len);
	nc->data = NULL;
	nc->data_pooled = false;
	nc->release = NULL;
	if (release != NULL)
		release(nc->release_arg);
}

/* A buffer from the queue's pool for the command's data, or NULL. */
static uint8_t *
data_alloc(struct nvmf_capsule *nc)
{
	nc->data = nvmf_bufpool_get(&nc->qp->pool, nc->data_len);
	nc->data_pooled = nc->data != NULL;
	return nc->data;
}

void *
nvmf_capsule_data_nozero(struct nvmf_capsule *nc)
{
	if (nc->data == NULL && nc->data_len > 0)
		(void)data_alloc(nc);
	return nc->data;
}

void *
nvmf_capsule_data(struct nvmf_capsule *nc)
{
	/* A pooled buffer held someone else's data: nothing of it may leak. */
	if (nc->data == NULL && nc->data_len > 0 && data_alloc(nc) != NULL)
		memset(nc->data, 0, nc->data_len);
	return nc->data;
}

int
nvmf_capsule_set_data(struct nvmf_capsule *nc, void *buf, void (*release)(void *arg),
    void *arg)
{
	/* Host data is received once: only before it starts may it go elsewhere. */
	if (nc->h2c && !nc->placing)
		return -1;
	data_release(nc);
	nc->data = buf;
	nc->release = release;
	nc->release_arg = arg;
	return 0;
}

/* Lets the placement callback give the command's H2C data a home. */
static void
data_place(struct nvmf_qpair *qp, struct nvmf_capsule *nc)
{
	if (qp->placement == NULL)
		return;
	nc->placing = true;
	qp->placement(qp->placement_arg, nc);
	nc->placing = false;
}

void
nvmf_capsule_free(struct nvmf_capsule *nc)
{
	if (nc == NULL)
		return;
	nc->qp->ctrl_outstanding--;
	nc->qp->data_held -= nc->data_held;
	data_release(nc);
	free(nc);
}

static void
capsule_tx_done(struct nvmf_qpair *qp, void *arg, bool sent)
{
	struct nvmf_capsule *nc = arg;

	(void)qp;
	(void)sent;
	if (--nc->tx_refs == 0)
		nvmf_capsule_free(nc);
}

static struct tx_pdu *
capsule_pdu(struct nvmf_qpair *qp, struct nvmf_capsule *nc)
{
	struct tx_pdu *p = nvmf_tx_get(qp);

	if (p == NULL)
		return NULL;
	p->done = capsule_tx_done;
	p->done_arg = nc;
	nc->tx_refs++;
	return p;
}

void
nvmf_capsule_complete(struct nvmf_capsule *nc, uint16_t status, uint32_t cdw0,
    uint32_t cdw1, uint32_t c2h_len)
{
	struct nvmf_qpair *qp = nc->qp;
	struct nvme_completion cqe = { 0 };
	bool success_flag;
	struct tx_pdu *p;

	if (qp->failed) {
		nvmf_capsule_free(nc);
		return;
	}
	if (c2h_len > nc->data_len || nc->h2c)
		c2h_len = 0;
	if (c2h_len > 0 && nvmf_capsule_data(nc) == NULL) {
		c2h_len = 0;
		status = NVME_STATUS(NVME_SCT_GENERIC, NVME_SC_INTERNAL);
	}
	/* Without SQ flow control the SUCCESS flag can replace the response. */
	success_flag = status == 0 && !qp->sq_fc && c2h_len > 0 && cdw0 == 0 && cdw1 == 0;

	/* A reference of our own keeps nc alive while its PDUs are queued. */
	nc->tx_refs++;
	if (c2h_len > 0 && (p = capsule_pdu(qp, nc)) != NULL) {
		p->prefix_len = nvmf_pdu_encode_c2h_data(p->prefix, nc->sqe.cid, 0, c2h_len,
		    true, success_flag, qp->info.header_digests, qp->info.data_digests,
		    (uint8_t)qp->tx_pda);
		p->data = nc->data;
		p->data_len = c2h_len;
		nvmf_tx_queue(qp, p);
	}
	if (!success_flag && (p = capsule_pdu(qp, nc)) != NULL) {
		cqe.cdw0 = cdw0;
		cqe.cdw1 = cdw1;
		cqe.sqhd = qp->sq_fc ? qp->ctrl_sqhd : 0xffff;
		cqe.sqid = qp->qid;
		cqe.cid = nc->sqe.cid;
		cqe.status = NVME_CQE_STATUS_FIELD(status);
		p->prefix_len = nvmf_pdu_encode_capsule_resp(p->prefix, &cqe,
		    qp->info.header_digests);
		nvmf_tx_queue(qp, p);
	}
	capsule_tx_done(qp, nc, false);
	/* Inside a turn, or in a poll group, the sends go out once at its end. */
	if (!qp->in_process && qp->group == NULL && !qp->corked)
		(void)nvmf_tx_flush(qp);
}

static int
fault(struct nvmf_qpair *qp, uint16_t fes, uint32_t fei, const char *fmt, uint32_t a,
    uint32_t b)
{
	struct nvmf_pdu_fault f;

	nvmf_pdu_fault_set(&f, fes, fei, fmt, a, b);
	nvmf_qpair_fault(qp, &f);
	return -1;
}

/* Direction of a command's data from its opcode (or fabrics command type). */
static uint8_t
data_direction(const struct nvme_command *sqe)
{
	if (sqe->opc == NVME_ADMIN_FABRICS)
		return ((const struct nvmf_fabrics_cmd *)sqe)->fctype & 0x3;
	return sqe->opc & 0x3;
}

/* Reads the capsule header; decides where its in-capsule data goes. */
static int
rx_capsule_cmd(struct nvmf_qpair *qp)
{
	const struct nvme_tcp_cmd *cmd = (const void *)qp->hdr;
	uint32_t data_in = nvmf_pdu_data_len(&cmd->common);
	const struct nvme_sgl_desc *sgl;
	struct nvmf_capsule *nc;

	/*
	 * A host keeps at most SQSIZE + 1 commands outstanding, whether it
	 * follows SQHD or has SQ flow control off. Counted here until the
	 * response is on the wire, so never more than the host itself counts;
	 * beyond the queue, as for nvmet running out of commands, the
	 * connection is over. Before Connect has set the size, only Connect
	 * itself may be outstanding.
	 */
	if (qp->qsize == 0 && qp->ctrl_outstanding > 0)
		return fault(qp, NVME_TCP_FES_PDU_SEQUENCE_ERROR, 0,
		    "%u commands outstanding before Connect completed (at most %u)",
		    qp->ctrl_outstanding + 1u, 1);
	if (qp->qsize != 0 && qp->ctrl_outstanding >= qp->qsize)
		return fault(qp, NVME_TCP_FES_PDU_SEQUENCE_ERROR, 0,
		    "%u commands outstanding, more than the queue's %u entries "
		    "(Connect SQSIZE + 1)", qp->ctrl_outstanding + 1u, qp->qsize);
	if (data_in > qp->icd_size)
		return fault(qp, NVME_TCP_FES_R2T_LIMIT_EXCEEDED,
		    offsetof(struct nvme_tcp_common_hdr, plen),
		    "in-capsule data of %u bytes exceeds the %u this queue takes",
		    data_in, qp->icd_size);
	nc = calloc(1, sizeof(*nc));
	if (nc == NULL) {
		nvmf_qpair_fail(qp, "out of memory for a command capsule");
		return -1;
	}
	nc->qp = qp;
	qp->ctrl_outstanding++;
	nc->sqe = cmd->ccsqe;
	nc->h2c = data_direction(&nc->sqe) == NVME_OPC_DIR_H2C;
	sgl = &nc->sqe.sgl;
	qp->rx_capsule = nc;
	if (qp->sq_fc)
		qp->ctrl_sqhd = (uint16_t)((qp->ctrl_sqhd + 1) % qp->qsize);

	if ((nc->sqe.flags >> NVME_CMD_PSDT_SHIFT) == 0)
		nc->pending_status = NVME_SC_INVALID_FIELD;	/* PRPs: not on fabrics */
	if (data_in > 0) {
		if (sgl->type != NVME_SGL_ICD)
			nc->pending_status = NVME_SC_SGL_DESC_TYPE_INVALID;
		else if (sgl->address != 0)
			nc->pending_status = NVME_SC_INVALID_SGL_OFFSET;
		else if (sgl->length != data_in || !nc->h2c)
			nc->pending_status = NVME_SC_DATA_SGL_LENGTH_INVALID;
		nc->data_len = data_in;
		if (nc->pending_status == 0)
			data_place(qp, nc);
		if (nc->data == NULL && data_alloc(nc) == NULL) {
			nc->data_len = 0;
			nc->pending_status = NVME_SC_INTERNAL;
			return 0;
		}
		nc->data_got = nc->data_held = data_in;
		qp->data_held += data_in;
		qp->data_dst = nc->data;
		return 0;
	}
	if (sgl->length == 0)
		return 0;
	if (sgl->type != NVME_SGL_TRANSPORT)
		nc->pending_status = sgl->type == NVME_SGL_ICD ?
		    NVME_SC_DATA_SGL_LENGTH_INVALID : NVME_SC_SGL_DESC_TYPE_INVALID;
	else if (sgl->length > qp->na->params.max_transfer)
		nc->pending_status = NVME_SC_DATA_SGL_LENGTH_INVALID;
	else
		nc->data_len = sgl->length;
	return 0;
}

static int
rx_h2c_data(struct nvmf_qpair *qp)
{
	const struct nvme_tcp_h2c_data_hdr *h = (const void *)qp->hdr;
	uint32_t end = h->datao + h->datal;
	struct nvmf_capsule *nc;

	if (h->ttag >= qp->r2t_slots || (nc = qp->r2t_table[h->ttag]) == NULL ||
	    nc->sqe.cid != h->cccid)
		return fault(qp, NVME_TCP_FES_INVALID_HEADER_FIELD,
		    offsetof(struct nvme_tcp_h2c_data_hdr, ttag),
		    "H2CData for unknown transfer tag %u (CID %u)", h->ttag, h->cccid);
	if (h->datal != nvmf_pdu_data_len(&h->common))
		return fault(qp, NVME_TCP_FES_INVALID_HEADER_FIELD,
		    offsetof(struct nvme_tcp_h2c_data_hdr, datal),
		    "H2CData DATAL %u differs from its PDU's %u data bytes", h->datal,
		    nvmf_pdu_data_len(&h->common));
	if (h->datal > qp->info.max_h2c_data)
		return fault(qp, NVME_TCP_FES_R2T_LIMIT_EXCEEDED,
		    offsetof(struct nvme_tcp_h2c_data_hdr, datal),
		    "H2CData of %u bytes exceeds MAXH2CDATA %u", h->datal,
		    qp->info.max_h2c_data);
	if (h->datao != nc->data_got || end < h->datao || end > nc->data_len)
		return fault(qp, NVME_TCP_FES_DATA_OUT_OF_RANGE,
		    offsetof(struct nvme_tcp_h2c_data_hdr, datao),
		    "H2CData at offset %u outside the requested transfer of %u bytes",
		    h->datao, nc->data_len);
	if (!!(h->common.flags & NVME_TCP_F_DATA_LAST) != (end == nc->data_len))
		return fault(qp, NVME_TCP_FES_INVALID_HEADER_FIELD,
		    offsetof(struct nvme_tcp_common_hdr, flags),
		    "H2CData LAST_PDU flag wrong at offset %u of %u", end, nc->data_len);
	qp->rx_capsule = nc;
	qp->data_dst = nc->data + h->datao;
	return 0;
}

static int
ctrl_rx_header(struct nvmf_qpair *qp)
{
	const struct nvme_tcp_common_hdr *ch = (const void *)qp->hdr;

	qp->rx_capsule = NULL;
	switch (ch->pdu_type) {
	case NVME_TCP_PDU_H2C_TERM_REQ: {
		const struct nvme_tcp_term_req_hdr *tr = (const void *)qp->hdr;

		qp->protocol_error = true;
		nvmf_qpair_fail(qp, "host terminated the connection: %s (FES 0x%x)",
		    nvmf_fes_string(tr->fes), tr->fes);
		return -1;
	}
	case NVME_TCP_PDU_CAPSULE_CMD:
		return rx_capsule_cmd(qp);
	case NVME_TCP_PDU_H2C_DATA:
		return rx_h2c_data(qp);
	}
	return 0;
}

static void
deliver(struct nvmf_qpair *qp, struct nvmf_capsule *nc)
{
	if (nc->data_corrupt)
		nc->pending_status = NVME_SC_TRANSIENT_TRANSPORT_ERROR;
	if (nc->pending_status != 0) {
		/* A damaged transfer may well succeed when the host tries again. */
		uint16_t dnr = nc->pending_status == NVME_SC_TRANSIENT_TRANSPORT_ERROR ? 0 :
		    NVME_STATUS_DNR;

		nvmf_capsule_complete(nc, NVME_STATUS(NVME_SCT_GENERIC,
		    nc->pending_status) | dnr, 0, 0, 0);
		return;
	}
	if (qp->handler == NULL) {
		nvmf_capsule_complete(nc, NVME_STATUS(NVME_SCT_GENERIC,
		    NVME_SC_INTERNAL), 0, 0, 0);
		return;
	}
	qp->handler(qp->handler_arg, nc);
}

/* Asks for the data of a write-type command that came without it. */
static void
request_data(struct nvmf_qpair *qp, struct nvmf_capsule *nc)
{
	struct tx_pdu *p;
	uint16_t tag;

	for (tag = 0; tag < qp->r2t_slots && qp->r2t_table[tag] != NULL; tag++)
		;
	if (tag == qp->r2t_slots) {
		nvmf_capsule_free(nc);
		fault(qp, NVME_TCP_FES_PDU_SEQUENCE_ERROR, 0,
		    "more commands waiting for data (%u) than queue entries (%u)",
		    tag, qp->qsize);
		return;
	}
	data_place(qp, nc);
	if (nc->data == NULL)
		(void)data_alloc(nc);
	p = nvmf_tx_get(qp);
	if (nc->data == NULL || p == NULL) {
		free(p);
		nc->pending_status = NVME_SC_INTERNAL;
		deliver(qp, nc);
		return;
	}
	nc->ttag = tag;
	nc->awaiting_h2c = true;
	qp->r2t_table[tag] = nc;
	/* One R2T for the whole transfer: the host splits it by MAXH2CDATA. */
	p->prefix_len = nvmf_pdu_encode_r2t(p->prefix, nc->sqe.cid, tag, 0, nc->data_len,
	    qp->info.header_digests);
	nvmf_tx_queue(qp, p);
}

/* Bytes of data memory a command still needs before it can run. */
static uint32_t
data_needed(const struct nvmf_capsule *nc)
{
	if (nc->pending_status != 0)
		return 0;
	return nc->data_len - nc->data_held;
}

static bool
data_fits(const struct nvmf_qpair *qp, uint32_t need)
{
	uint64_t limit = qp->na->params.max_queue_data;

	if (need == 0 || limit == 0 || qp->data_held == 0)
		return true;
	if (limit < qp->na->params.max_transfer)
		limit = qp->na->params.max_transfer;	/* one command always fits */
	return qp->data_held + need <= limit;
}

/* Reserves the command's data memory, then asks for its data or runs it. */
static void
start_command(struct nvmf_qpair *qp, struct nvmf_capsule *nc)
{
	uint32_t need = data_needed(nc);

	nc->data_held += need;
	qp->data_held += need;
	if (nc->pending_status == 0 && nc->h2c && nc->data_got < nc->data_len) {
		if (qp->r2t_slots == 0 && r2t_table_resize(qp, qp->qsize) != 0) {
			nc->pending_status = NVME_SC_INTERNAL;
			deliver(qp, nc);
			return;
		}
		request_data(qp, nc);
		return;
	}
	deliver(qp, nc);
}

/* Starts commands that waited for data memory; true when one started. */
static bool
ctrl_resume(struct nvmf_qpair *qp)
{
	struct nvmf_capsule *nc;
	bool started = false;

	while (!qp->failed && (nc = qp->deferred_head) != NULL &&
	    data_fits(qp, data_needed(nc))) {
		qp->deferred_head = nc->next_deferred;
		if (qp->deferred_head == NULL)
			qp->deferred_tail = NULL;
		nc->next_deferred = NULL;
		start_command(qp, nc);
		started = true;
	}
	return started;
}

static void
ctrl_rx_done(struct nvmf_qpair *qp)
{
	const struct nvme_tcp_common_hdr *ch = (const void *)qp->hdr;
	struct nvmf_capsule *nc = qp->rx_capsule;

	qp->rx_capsule = NULL;
	if (nc == NULL)
		return;
	if (ch->pdu_type == NVME_TCP_PDU_CAPSULE_CMD) {
		/*
		 * Over the data budget the command waits (and those after it, so
		 * that order holds) while we keep reading: capsules are small and
		 * the queue size bounds them.
		 */
		if (qp->deferred_head != NULL || !data_fits(qp, data_needed(nc))) {
			if (qp->deferred_tail != NULL)
				qp->deferred_tail->next_deferred = nc;
			else
				qp->deferred_head = nc;
			qp->deferred_tail = nc;
			return;
		}
		start_command(qp, nc);
		return;
	}
	/* H2CData */
	nc->data_got += ((const struct nvme_tcp_h2c_data_hdr *)qp->hdr)->datal;
	if (nc->data_got < nc->data_len)
		return;
	qp->r2t_table[nc->ttag] = NULL;
	nc->awaiting_h2c = false;
	deliver(qp, nc);
}

static void
ctrl_teardown(struct nvmf_qpair *qp)
{
	if (qp->rx_capsule != NULL && !qp->rx_capsule->awaiting_h2c)
		nvmf_capsule_free(qp->rx_capsule);
	qp->rx_capsule = NULL;
	for (uint16_t i = 0; i < qp->r2t_slots; i++) {
		nvmf_capsule_free(qp->r2t_table[i]);
		qp->r2t_table[i] = NULL;
	}
	while (qp->deferred_head != NULL) {
		struct nvmf_capsule *nc = qp->deferred_head;

		qp->deferred_head = nc->next_deferred;
		nvmf_capsule_free(nc);
	}
	qp->deferred_tail = NULL;
	free(qp->r2t_table);
	qp->r2t_table = NULL;
	qp->r2t_slots = 0;
}

/* Capsules the handler holds stay its own until it completes or frees them. */
static void
ctrl_drop(struct nvmf_qpair *qp)
{
	(void)qp;
}

static void
ctrl_settle_pda(struct nvmf_qpair *qp, const struct nvmf_qpair_info *info)
{
	qp->tx_pda = info->hpda;
	qp->rules.rx_pda = info->cpda;
}

static void
ctrl_rx_data_corrupt(struct nvmf_qpair *qp)
{
	if (qp->rx_capsule != NULL)
		qp->rx_capsule->data_corrupt = true;
}

const struct nvmf_role nvmf_ctrl_role = {
	.controller = true,
	.term_req_name = "C2HTermReq",
	.settle_pda = ctrl_settle_pda,
	.rx_header = ctrl_rx_header,
	.rx_done = ctrl_rx_done,
	.rx_data_corrupt = ctrl_rx_data_corrupt,
	.resume = ctrl_resume,
	.drop = ctrl_drop,
	.teardown = ctrl_teardown,
};
