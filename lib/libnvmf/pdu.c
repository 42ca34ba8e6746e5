/* SPDX-License-Identifier: BSD-2-Clause
 * Copyright (c) 2026 The nvmf developers */
/*
 * pdu.c - NVMe/TCP PDU encoders and header checks (no I/O, no state).
 */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "nvmf/libnvmf.h"
#include "nvmf_pdu.h"

/* The header of a termination request carries at most this much data. */
#define TERM_REQ_MAX_DATA	NVME_TCP_TERM_REQ_MAX_DATA

void
nvmf_pdu_fault_set(struct nvmf_pdu_fault *f, uint16_t fes, uint32_t fei,
    const char *fmt, ...)
{
	va_list ap;

	f->fes = fes;
	f->fei = fei;
	va_start(ap, fmt);
	vsnprintf(f->what, sizeof(f->what), fmt, ap);
	va_end(ap);
}

uint8_t
nvmf_pdu_hlen(uint8_t pdu_type)
{
	switch (pdu_type) {
	case NVME_TCP_PDU_ICREQ:
	case NVME_TCP_PDU_ICRESP:
		return 128;
	case NVME_TCP_PDU_H2C_TERM_REQ:
	case NVME_TCP_PDU_C2H_TERM_REQ:
	case NVME_TCP_PDU_CAPSULE_RESP:
	case NVME_TCP_PDU_H2C_DATA:
	case NVME_TCP_PDU_C2H_DATA:
	case NVME_TCP_PDU_R2T:
		return 24;
	case NVME_TCP_PDU_CAPSULE_CMD:
		return 72;
	default:
		return 0;
	}
}

bool
nvmf_pdu_has_hdgst(uint8_t pdu_type)
{
	switch (pdu_type) {
	case NVME_TCP_PDU_CAPSULE_CMD:
	case NVME_TCP_PDU_CAPSULE_RESP:
	case NVME_TCP_PDU_H2C_DATA:
	case NVME_TCP_PDU_C2H_DATA:
	case NVME_TCP_PDU_R2T:
		return true;
	default:
		return false;
	}
}

bool
nvmf_pdu_may_carry_data(uint8_t pdu_type)
{
	return pdu_type == NVME_TCP_PDU_CAPSULE_CMD ||
	    pdu_type == NVME_TCP_PDU_H2C_DATA ||
	    pdu_type == NVME_TCP_PDU_C2H_DATA;
}

/* Which PDU types a side may receive, before and after ICReq/ICResp. */
static bool
pdu_expected(uint8_t t, const struct nvmf_pdu_rules *r)
{
	if (r->controller) {
		if (!r->connected)
			return t == NVME_TCP_PDU_ICREQ;
		return t == NVME_TCP_PDU_H2C_TERM_REQ ||
		    t == NVME_TCP_PDU_CAPSULE_CMD || t == NVME_TCP_PDU_H2C_DATA;
	}
	if (!r->connected)
		return t == NVME_TCP_PDU_ICRESP || t == NVME_TCP_PDU_C2H_TERM_REQ;
	return t == NVME_TCP_PDU_C2H_TERM_REQ || t == NVME_TCP_PDU_CAPSULE_RESP ||
	    t == NVME_TCP_PDU_C2H_DATA || t == NVME_TCP_PDU_R2T;
}

uint32_t
nvmf_pdu_header_len(const struct nvme_tcp_common_hdr *ch)
{
	return ch->hlen + ((ch->flags & NVME_TCP_F_HDGST) &&
	    nvmf_pdu_has_hdgst(ch->pdu_type) ? NVME_TCP_DIGEST_LEN : 0);
}

uint32_t
nvmf_pdu_data_len(const struct nvme_tcp_common_hdr *ch)
{
	uint32_t dd, hend;

	if (!nvmf_pdu_may_carry_data(ch->pdu_type) || ch->pdo == 0)
		return 0;
	dd = (ch->flags & NVME_TCP_F_DDGST) ? NVME_TCP_DIGEST_LEN : 0;
	/* A PDO with no data after it (a deviation the checks let through). */
	hend = nvmf_pdu_header_len(ch);
	if (ch->pdo < hend || ch->plen <= (uint32_t)ch->pdo + dd)
		return 0;
	return ch->plen - ch->pdo - dd;
}

int
nvmf_pdu_check_common(const struct nvme_tcp_common_hdr *ch,
    const struct nvmf_pdu_rules *r, struct nvmf_pdu_fault *f)
{
	uint8_t t = ch->pdu_type, hlen = nvmf_pdu_hlen(t);
	uint32_t hd, dd, align, data;

	if (hlen == 0) {
		nvmf_pdu_fault_set(f, NVME_TCP_FES_INVALID_HEADER_FIELD,
		    offsetof(struct nvme_tcp_common_hdr, pdu_type),
		    "unknown PDU type 0x%02x", t);
		return -1;
	}
	if (!pdu_expected(t, r)) {
		nvmf_pdu_fault_set(f, NVME_TCP_FES_PDU_SEQUENCE_ERROR,
		    offsetof(struct nvme_tcp_common_hdr, pdu_type),
		    "unexpected %s PDU", nvmf_pdu_type_name(t));
		return -1;
	}
	if (ch->hlen != hlen) {
		nvmf_pdu_fault_set(f, NVME_TCP_FES_INVALID_HEADER_FIELD,
		    offsetof(struct nvme_tcp_common_hdr, hlen),
		    "%s with HLEN %u (must be %u)", nvmf_pdu_type_name(t),
		    ch->hlen, hlen);
		return -1;
	}
	if (nvmf_pdu_has_hdgst(t)) {
		if (!!(ch->flags & NVME_TCP_F_HDGST) != r->hdgst) {
			nvmf_pdu_fault_set(f, NVME_TCP_FES_INVALID_HEADER_FIELD,
			    offsetof(struct nvme_tcp_common_hdr, flags),
			    "%s header digest flag %s negotiated setting",
			    nvmf_pdu_type_name(t), r->hdgst ? "missing, against the" :
			    "set, against the");
			return -1;
		}
		if (!nvmf_pdu_may_carry_data(t) && (ch->flags & NVME_TCP_F_DDGST)) {
			nvmf_pdu_fault_set(f, NVME_TCP_FES_INVALID_HEADER_FIELD,
			    offsetof(struct nvme_tcp_common_hdr, flags),
			    "%s with a data digest flag but no data", nvmf_pdu_type_name(t));
			return -1;
		}
	} else if (ch->flags & (NVME_TCP_F_HDGST | NVME_TCP_F_DDGST)) {
		nvmf_pdu_fault_set(f, NVME_TCP_FES_INVALID_HEADER_FIELD,
		    offsetof(struct nvme_tcp_common_hdr, flags),
		    "%s with digest flags 0x%02x", nvmf_pdu_type_name(t), ch->flags);
		return -1;
	}
	hd = nvmf_pdu_header_len(ch) - hlen;
	if (ch->plen < hlen + hd) {
		nvmf_pdu_fault_set(f, NVME_TCP_FES_INVALID_HEADER_FIELD,
		    offsetof(struct nvme_tcp_common_hdr, plen),
		    "%s with PLEN %u shorter than its header", nvmf_pdu_type_name(t),
		    ch->plen);
		return -1;
	}
	if (t == NVME_TCP_PDU_C2H_DATA && (ch->flags & NVME_TCP_F_DATA_SUCCESS) &&
	    !(ch->flags & NVME_TCP_F_DATA_LAST)) {
		nvmf_pdu_fault_set(f, NVME_TCP_FES_INVALID_HEADER_FIELD,
		    offsetof(struct nvme_tcp_common_hdr, flags),
		    "C2HData with SUCCESS but not LAST_PDU");
		return -1;
	}

	if (!nvmf_pdu_may_carry_data(t)) {
		uint32_t max = hlen + hd;

		if (t == NVME_TCP_PDU_H2C_TERM_REQ || t == NVME_TCP_PDU_C2H_TERM_REQ)
			max += TERM_REQ_MAX_DATA;
		if (ch->pdo != 0) {
			nvmf_pdu_fault_set(f, NVME_TCP_FES_INVALID_HEADER_FIELD,
			    offsetof(struct nvme_tcp_common_hdr, pdo),
			    "%s with PDO %u (must be 0)", nvmf_pdu_type_name(t), ch->pdo);
			return -1;
		}
		if (ch->plen > max || (max == hlen + hd && ch->plen != max)) {
			nvmf_pdu_fault_set(f, NVME_TCP_FES_INVALID_HEADER_FIELD,
			    offsetof(struct nvme_tcp_common_hdr, plen),
			    "%s with PLEN %u (must be %u)", nvmf_pdu_type_name(t),
			    ch->plen, max);
			return -1;
		}
		return 0;
	}

	if (ch->pdo == 0) {
		if (t != NVME_TCP_PDU_CAPSULE_CMD) {
			nvmf_pdu_fault_set(f, NVME_TCP_FES_INVALID_HEADER_FIELD,
			    offsetof(struct nvme_tcp_common_hdr, pdo),
			    "%s without data (PDO 0)", nvmf_pdu_type_name(t));
			return -1;
		}
		if ((ch->flags & NVME_TCP_F_DDGST) || ch->plen != hlen + hd) {
			nvmf_pdu_fault_set(f, NVME_TCP_FES_INVALID_HEADER_FIELD,
			    offsetof(struct nvme_tcp_common_hdr, plen),
			    "CapsuleCmd with PLEN %u but no data offset", ch->plen);
			return -1;
		}
		return 0;
	}
	/*
	 * A command capsule with PDO set but nothing after the header (some
	 * hosts set PDO in every capsule): Linux nvmet ignores PDO there and
	 * FreeBSD takes a PDO up to PLEN. Served, but the caller hears of it.
	 */
	if (t == NVME_TCP_PDU_CAPSULE_CMD && !(ch->flags & NVME_TCP_F_DDGST) &&
	    ch->plen == (ch->pdo > hlen + hd ? ch->pdo : hlen + hd)) {
		nvmf_pdu_fault_set(f, NVME_TCP_FES_INVALID_HEADER_FIELD,
		    offsetof(struct nvme_tcp_common_hdr, pdo),
		    "CapsuleCmd PDO %u with no data (PLEN %u)", ch->pdo, ch->plen);
		return NVMF_PDU_DEVIATION;
	}
	align = ((uint32_t)r->rx_pda + 1) * 4;
	if (ch->pdo < hlen + hd || ch->pdo % align != 0) {
		nvmf_pdu_fault_set(f, NVME_TCP_FES_INVALID_HEADER_FIELD,
		    offsetof(struct nvme_tcp_common_hdr, pdo),
		    "%s with PDO %u (header ends at %u, alignment %u)",
		    nvmf_pdu_type_name(t), ch->pdo, hlen + hd, align);
		return -1;
	}
	if (!!(ch->flags & NVME_TCP_F_DDGST) != r->ddgst) {
		nvmf_pdu_fault_set(f, NVME_TCP_FES_INVALID_HEADER_FIELD,
		    offsetof(struct nvme_tcp_common_hdr, flags),
		    "%s data digest flag %s", nvmf_pdu_type_name(t),
		    r->ddgst ? "missing" : "set but not negotiated");
		return -1;
	}
	dd = r->ddgst ? NVME_TCP_DIGEST_LEN : 0;
	if (ch->plen <= (uint32_t)ch->pdo + dd) {
		nvmf_pdu_fault_set(f, NVME_TCP_FES_INVALID_HEADER_FIELD,
		    offsetof(struct nvme_tcp_common_hdr, pdo),
		    "%s with PDO %u but PLEN %u leaves no data",
		    nvmf_pdu_type_name(t), ch->pdo, ch->plen);
		return -1;
	}
	data = ch->plen - ch->pdo - dd;
	if (data > r->max_data) {
		nvmf_pdu_fault_set(f, NVME_TCP_FES_R2T_LIMIT_EXCEEDED,
		    offsetof(struct nvme_tcp_common_hdr, plen),
		    "%s carries %u bytes of data, limit %u", nvmf_pdu_type_name(t),
		    data, r->max_data);
		return -1;
	}
	return 0;
}

bool
nvmf_pdu_hdgst_ok(const void *hdr, uint8_t hlen)
{
	uint32_t want;

	memcpy(&want, (const uint8_t *)hdr + hlen, sizeof(want));
	return nvmf_crc32c(hdr, hlen) == want;
}

int
nvmf_pdu_check_icreq(const struct nvme_tcp_icreq *req, struct nvmf_pdu_fault *f)
{
	if (req->pfv != NVME_TCP_PFV_1_0) {
		nvmf_pdu_fault_set(f, NVME_TCP_FES_UNSUPPORTED_PARAMETER,
		    offsetof(struct nvme_tcp_icreq, pfv),
		    "ICReq PFV %u not supported", req->pfv);
		return -1;
	}
	if (req->hpda > NVME_TCP_MAX_CPDA) {
		nvmf_pdu_fault_set(f, NVME_TCP_FES_INVALID_HEADER_FIELD,
		    offsetof(struct nvme_tcp_icreq, hpda),
		    "ICReq HPDA %u out of range", req->hpda);
		return -1;
	}
	if (req->dgst & ~(NVME_TCP_DGST_HDR | NVME_TCP_DGST_DATA)) {
		nvmf_pdu_fault_set(f, NVME_TCP_FES_INVALID_HEADER_FIELD,
		    offsetof(struct nvme_tcp_icreq, dgst),
		    "ICReq DGST 0x%02x has reserved bits", req->dgst);
		return -1;
	}
	return 0;
}

int
nvmf_pdu_check_icresp(const struct nvme_tcp_icresp *rsp, bool want_hdgst,
    bool want_ddgst, struct nvmf_pdu_fault *f)
{
	if (rsp->pfv != NVME_TCP_PFV_1_0) {
		nvmf_pdu_fault_set(f, NVME_TCP_FES_UNSUPPORTED_PARAMETER,
		    offsetof(struct nvme_tcp_icresp, pfv),
		    "ICResp PFV %u not supported", rsp->pfv);
		return -1;
	}
	if (rsp->cpda > NVME_TCP_MAX_CPDA) {
		nvmf_pdu_fault_set(f, NVME_TCP_FES_INVALID_HEADER_FIELD,
		    offsetof(struct nvme_tcp_icresp, cpda),
		    "ICResp CPDA %u out of range", rsp->cpda);
		return -1;
	}
	if (rsp->maxh2cdata < NVME_TCP_MIN_MAXH2CDATA || rsp->maxh2cdata % 4 != 0) {
		nvmf_pdu_fault_set(f, NVME_TCP_FES_INVALID_HEADER_FIELD,
		    offsetof(struct nvme_tcp_icresp, maxh2cdata),
		    "ICResp MAXH2CDATA %u invalid", rsp->maxh2cdata);
		return -1;
	}
	/* A controller may refuse a digest we asked for; it may not add one. */
	if (((rsp->dgst & NVME_TCP_DGST_HDR) && !want_hdgst) ||
	    ((rsp->dgst & NVME_TCP_DGST_DATA) && !want_ddgst) ||
	    (rsp->dgst & ~(NVME_TCP_DGST_HDR | NVME_TCP_DGST_DATA))) {
		nvmf_pdu_fault_set(f, NVME_TCP_FES_INVALID_HEADER_FIELD,
		    offsetof(struct nvme_tcp_icresp, dgst),
		    "ICResp enables digests 0x%02x that were not requested", rsp->dgst);
		return -1;
	}
	return 0;
}

uint8_t
nvmf_pdu_data_offset(uint8_t hlen, bool hdgst, uint8_t pda)
{
	uint32_t align = ((uint32_t)pda + 1) * 4;
	uint32_t end = hlen + (hdgst ? NVME_TCP_DIGEST_LEN : 0);

	return (uint8_t)((end + align - 1) / align * align);
}

static void
encode_common(void *buf, uint8_t type, uint8_t flags, uint8_t hlen, uint8_t pdo,
    uint32_t plen)
{
	struct nvme_tcp_common_hdr *ch = buf;

	ch->pdu_type = type;
	ch->flags = flags;
	ch->hlen = hlen;
	ch->pdo = pdo;
	ch->plen = plen;
}

/* Adds the header digest after hlen bytes; returns bytes of header + digest. */
static uint32_t
seal_header(void *buf, uint8_t hlen, bool hdgst)
{
	uint32_t crc;

	if (!hdgst)
		return hlen;
	crc = nvmf_crc32c(buf, hlen);
	memcpy((uint8_t *)buf + hlen, &crc, sizeof(crc));
	return hlen + NVME_TCP_DIGEST_LEN;
}

/* Common tail of the data-carrying PDUs: flags, PDO, PLEN and padding. */
static uint32_t
encode_data_pdu(void *buf, uint8_t type, uint8_t flags, uint8_t hlen,
    bool hdgst, bool ddgst, uint8_t pda, uint32_t data_len)
{
	uint8_t pdo = 0;
	uint32_t plen, hend;

	if (hdgst)
		flags |= NVME_TCP_F_HDGST;
	plen = hlen + (hdgst ? NVME_TCP_DIGEST_LEN : 0);
	if (data_len > 0) {
		pdo = nvmf_pdu_data_offset(hlen, hdgst, pda);
		plen = pdo + data_len;
		if (ddgst) {
			flags |= NVME_TCP_F_DDGST;
			plen += NVME_TCP_DIGEST_LEN;
		}
	}
	encode_common(buf, type, flags, hlen, pdo, plen);
	hend = seal_header(buf, hlen, hdgst);
	if (pdo > hend) {
		memset((uint8_t *)buf + hend, 0, pdo - hend);
		return pdo;
	}
	return hend;
}

uint32_t
nvmf_pdu_encode_icreq(void *buf, uint8_t hpda, bool hdgst, bool ddgst, uint32_t maxr2t)
{
	struct nvme_tcp_icreq *req = buf;

	memset(req, 0, sizeof(*req));
	encode_common(req, NVME_TCP_PDU_ICREQ, 0, sizeof(*req), 0, sizeof(*req));
	req->pfv = NVME_TCP_PFV_1_0;
	req->hpda = hpda;
	req->dgst = (hdgst ? NVME_TCP_DGST_HDR : 0) | (ddgst ? NVME_TCP_DGST_DATA : 0);
	req->maxr2t = maxr2t;
	return sizeof(*req);
}

uint32_t
nvmf_pdu_encode_icresp(void *buf, uint8_t cpda, bool hdgst, bool ddgst,
    uint32_t maxh2cdata)
{
	struct nvme_tcp_icresp *rsp = buf;

	memset(rsp, 0, sizeof(*rsp));
	encode_common(rsp, NVME_TCP_PDU_ICRESP, 0, sizeof(*rsp), 0, sizeof(*rsp));
	rsp->pfv = NVME_TCP_PFV_1_0;
	rsp->cpda = cpda;
	rsp->dgst = (hdgst ? NVME_TCP_DGST_HDR : 0) | (ddgst ? NVME_TCP_DGST_DATA : 0);
	rsp->maxh2cdata = maxh2cdata;
	return sizeof(*rsp);
}

uint32_t
nvmf_pdu_encode_term_req(void *buf, bool from_controller, uint16_t fes,
    uint32_t fei, const void *bad_hdr, uint32_t bad_len)
{
	struct nvme_tcp_term_req_hdr *tr = buf;

	if (bad_len > TERM_REQ_MAX_DATA)
		bad_len = TERM_REQ_MAX_DATA;
	if (bad_hdr == NULL)
		bad_len = 0;
	memset(tr, 0, sizeof(*tr));
	encode_common(tr, from_controller ? NVME_TCP_PDU_C2H_TERM_REQ :
	    NVME_TCP_PDU_H2C_TERM_REQ, 0, sizeof(*tr), 0, sizeof(*tr) + bad_len);
	tr->fes = fes;
	memcpy(tr->fei, &fei, sizeof(tr->fei));
	if (bad_len > 0)
		memcpy((uint8_t *)buf + sizeof(*tr), bad_hdr, bad_len);
	return sizeof(*tr) + bad_len;
}

uint32_t
nvmf_pdu_encode_capsule_cmd(void *buf, const struct nvme_command *sqe, bool hdgst,
    bool ddgst, uint8_t pda, uint32_t data_len)
{
	struct nvme_tcp_cmd *cmd = buf;

	cmd->ccsqe = *sqe;
	return encode_data_pdu(buf, NVME_TCP_PDU_CAPSULE_CMD, 0, sizeof(*cmd), hdgst,
	    ddgst, pda, data_len);
}

uint32_t
nvmf_pdu_encode_capsule_resp(void *buf, const struct nvme_completion *cqe, bool hdgst)
{
	struct nvme_tcp_rsp *rsp = buf;

	rsp->rccqe = *cqe;
	return encode_data_pdu(buf, NVME_TCP_PDU_CAPSULE_RESP, 0, sizeof(*rsp), hdgst,
	    false, 0, 0);
}

uint32_t
nvmf_pdu_encode_h2c_data(void *buf, uint16_t cccid, uint16_t ttag, uint32_t datao,
    uint32_t datal, bool last, bool hdgst, bool ddgst, uint8_t pda)
{
	struct nvme_tcp_h2c_data_hdr *h = buf;

	memset(h, 0, sizeof(*h));
	h->cccid = cccid;
	h->ttag = ttag;
	h->datao = datao;
	h->datal = datal;
	return encode_data_pdu(buf, NVME_TCP_PDU_H2C_DATA,
	    last ? NVME_TCP_F_DATA_LAST : 0, sizeof(*h), hdgst, ddgst, pda, datal);
}

uint32_t
nvmf_pdu_encode_c2h_data(void *buf, uint16_t cccid, uint32_t datao, uint32_t datal,
    bool last, bool success, bool hdgst, bool ddgst, uint8_t pda)
{
	struct nvme_tcp_c2h_data_hdr *h = buf;
	uint8_t flags = 0;

	memset(h, 0, sizeof(*h));
	h->cccid = cccid;
	h->datao = datao;
	h->datal = datal;
	if (last)
		flags |= NVME_TCP_F_DATA_LAST;
	if (last && success)
		flags |= NVME_TCP_F_DATA_SUCCESS;
	return encode_data_pdu(buf, NVME_TCP_PDU_C2H_DATA, flags, sizeof(*h), hdgst,
	    ddgst, pda, datal);
}

uint32_t
nvmf_pdu_encode_r2t(void *buf, uint16_t cccid, uint16_t ttag, uint32_t r2to,
    uint32_t r2tl, bool hdgst)
{
	struct nvme_tcp_r2t_hdr *h = buf;

	memset(h, 0, sizeof(*h));
	h->cccid = cccid;
	h->ttag = ttag;
	h->r2to = r2to;
	h->r2tl = r2tl;
	return encode_data_pdu(buf, NVME_TCP_PDU_R2T, 0, sizeof(*h), hdgst, false, 0, 0);
}
