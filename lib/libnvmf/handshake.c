/* SPDX-License-Identifier: BSD-2-Clause
 * Copyright (c) 2026 The nvmf developers */
/*
 * handshake.c - associations and the ICReq/ICResp exchange that turns a
 * TCP connection into an NVMe/TCP queue pair.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <netinet/in.h>
#include <netinet/tcp.h>

#include "nvmf_qpair.h"

#define DEFAULT_MAX_H2C_DATA	(256 * 1024)
#define DEFAULT_IO_ICD_SIZE	8192
#define DEFAULT_MAX_TRANSFER	(1024 * 1024)

struct nvmf_association *
nvmf_association_create(const struct nvmf_association_params *params, char *err,
    size_t errlen)
{
	struct nvmf_association *na;

	if (params->size < offsetof(struct nvmf_association_params, max_transfer) +
	    sizeof(params->max_transfer)) {
		snprintf(err, errlen, "association parameters from an older library");
		return NULL;
	}
	if (params->pda > NVME_TCP_MAX_CPDA) {
		snprintf(err, errlen, "PDU data alignment %u out of range (0-31)",
		    params->pda);
		return NULL;
	}
	if (params->controller && params->max_h2c_data != 0 &&
	    (params->max_h2c_data < NVME_TCP_MIN_MAXH2CDATA ||
	    params->max_h2c_data % 4 != 0)) {
		snprintf(err, errlen, "MAXH2CDATA %u must be a multiple of 4, at least 4096",
		    params->max_h2c_data);
		return NULL;
	}
	/* Fields past the caller's size (an older header) keep their defaults. */
	if (params->size >= offsetof(struct nvmf_association_params, tcp_congestion) +
	    sizeof(params->tcp_congestion) && params->tcp_congestion[0] != '\0' &&
	    nvmf_tcp_congestion_check(params->tcp_congestion, err, errlen) != 0)
		return NULL;
	na = calloc(1, sizeof(*na));
	if (na == NULL) {
		snprintf(err, errlen, "out of memory");
		return NULL;
	}
	atomic_init(&na->refs, 1);
	memcpy(&na->params, params, params->size < sizeof(na->params) ? params->size :
	    sizeof(na->params));
	na->params.size = sizeof(na->params);
	if (na->params.max_h2c_data == 0)
		na->params.max_h2c_data = DEFAULT_MAX_H2C_DATA;
	if (na->params.io_icd_size == 0 && params->controller)
		na->params.io_icd_size = DEFAULT_IO_ICD_SIZE;
	if (na->params.max_transfer == 0)
		na->params.max_transfer = DEFAULT_MAX_TRANSFER;
	return na;
}

void
nvmf_association_free(struct nvmf_association *na)
{
	if (na != NULL && atomic_fetch_sub(&na->refs, 1) == 1)
		free(na);
}

const struct nvmf_association_params *
nvmf_association_params(const struct nvmf_association *na)
{
	return &na->params;
}

int
nvmf_socket_setup(int fd)
{
	int one = 1, fl = fcntl(fd, F_GETFL);

	if (fl < 0 || fcntl(fd, F_SETFL, fl | O_NONBLOCK) < 0)
		return -1;
	/* Small PDUs (responses, R2Ts) must not wait for Nagle. */
	(void)setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	return 0;
}

static const char *
io_error(int rc)
{
	if (rc == -ETIMEDOUT)
		return "timed out";
	if (rc == -ECONNRESET)
		return "connection closed by peer";
	return strerror(-rc);
}

/* Reads one handshake PDU of at most 128 bytes whose common header is valid. */
static int
read_handshake_pdu(struct nvmf_stream *s, void *buf, const struct nvmf_pdu_rules *rules,
    struct nvmf_pdu_fault *fault, char *err, size_t errlen, int timeout_ms)
{
	struct nvme_tcp_common_hdr *ch = buf;
	int rc;

	rc = nvmf_io_exact(s, ch, sizeof(*ch), false, timeout_ms);
	if (rc != 0) {
		snprintf(err, errlen, "waiting for %s: %s",
		    rules->controller ? "ICReq" : "ICResp", io_error(rc));
		return -1;
	}
	if (nvmf_pdu_check_common(ch, rules, fault) < 0) {
		snprintf(err, errlen, "%s", fault->what);
		return -2;
	}
	if (ch->pdu_type == NVME_TCP_PDU_C2H_TERM_REQ) {
		nvmf_read_term_req(s, ch, err, errlen, timeout_ms);
		return -1;
	}
	rc = nvmf_io_exact(s, (uint8_t *)buf + sizeof(*ch), ch->plen - sizeof(*ch),
	    false, timeout_ms);
	if (rc != 0) {
		snprintf(err, errlen, "reading %s: %s",
		    nvmf_pdu_type_name(ch->pdu_type), io_error(rc));
		return -1;
	}
	return 0;
}

static struct nvmf_qpair *
host_handshake(struct nvmf_association *na, struct nvmf_stream *s, uint16_t qsize,
    bool admin, int timeout_ms, char *err, size_t errlen)
{
	const struct nvmf_association_params *p = &na->params;
	struct nvmf_pdu_rules rules = { .controller = false, .max_data = 0 };
	struct nvmf_pdu_fault fault;
	union {
		struct nvme_tcp_icreq req;
		struct nvme_tcp_icresp rsp;
		uint8_t raw[NVMF_PDU_MAX_PREFIX];
	} u;
	struct nvmf_qpair *qp;
	uint32_t len;
	int rc;

	len = nvmf_pdu_encode_icreq(u.raw, p->pda, p->header_digests, p->data_digests,
	    p->maxr2t);
	rc = nvmf_io_exact(s, u.raw, len, true, timeout_ms);
	if (rc != 0) {
		snprintf(err, errlen, "sending ICReq: %s", io_error(rc));
		return NULL;
	}
	rc = read_handshake_pdu(s, u.raw, &rules, &fault, err, errlen, timeout_ms);
	if (rc == -2 || (rc == 0 && nvmf_pdu_check_icresp(&u.rsp, p->header_digests,
	    p->data_digests, &fault) != 0)) {
		uint8_t term[NVMF_PDU_MAX_PREFIX];

		len = nvmf_pdu_encode_term_req(term, false, fault.fes, fault.fei, u.raw,
		    sizeof(struct nvme_tcp_common_hdr));
		(void)nvmf_io_exact(s, term, len, true, 100);
		snprintf(err, errlen, "bad ICResp: %s", fault.what);
		return NULL;
	}
	if (rc != 0)
		return NULL;
	if ((p->header_digests && !(u.rsp.dgst & NVME_TCP_DGST_HDR)) ||
	    (p->data_digests && !(u.rsp.dgst & NVME_TCP_DGST_DATA))) {
		snprintf(err, errlen, "controller refused %s digests",
		    p->header_digests && !(u.rsp.dgst & NVME_TCP_DGST_HDR) ?
		    "header" : "data");
		return NULL;
	}

	qp = nvmf_qpair_alloc(na, s, &nvmf_host_role);
	if (qp == NULL) {
		snprintf(err, errlen, "out of memory");
		return NULL;
	}
	qp->admin = admin;
	qp->qsize = qsize;
	qp->sq_fc = p->sq_flow_control;
	qp->icd_size = admin ? NVME_TCP_ADMIN_ICD_SIZE : 0;
	nvmf_qpair_settle(qp, &(struct nvmf_qpair_info) {
		.header_digests = (u.rsp.dgst & NVME_TCP_DGST_HDR) != 0,
		.data_digests = (u.rsp.dgst & NVME_TCP_DGST_DATA) != 0,
		.hpda = p->pda,
		.cpda = u.rsp.cpda,
		.max_h2c_data = u.rsp.maxh2cdata,
		.maxr2t = p->maxr2t,
	});
	return nvmf_host_qpair_ready(qp, err, errlen);
}

static struct nvmf_qpair *
ctrl_handshake(struct nvmf_association *na, struct nvmf_stream *s, int timeout_ms,
    char *err, size_t errlen)
{
	const struct nvmf_association_params *p = &na->params;
	struct nvmf_pdu_rules rules = { .controller = true, .max_data = 0 };
	struct nvmf_pdu_fault fault;
	union {
		struct nvme_tcp_icreq req;
		uint8_t raw[NVMF_PDU_MAX_PREFIX];
	} u;
	uint8_t out[NVMF_PDU_MAX_PREFIX];
	struct nvmf_qpair *qp;
	bool hdgst, ddgst;
	uint32_t len;
	int rc;

	rc = read_handshake_pdu(s, u.raw, &rules, &fault, err, errlen, timeout_ms);
	if (rc == -2 || (rc == 0 && nvmf_pdu_check_icreq(&u.req, &fault) != 0)) {
		len = nvmf_pdu_encode_term_req(out, true, fault.fes, fault.fei, u.raw,
		    sizeof(struct nvme_tcp_common_hdr));
		(void)nvmf_io_exact(s, out, len, true, 100);
		snprintf(err, errlen, "bad ICReq: %s; sent C2HTermReq (%s)", fault.what,
		    nvmf_fes_string(fault.fes));
		return NULL;
	}
	if (rc != 0)
		return NULL;

	hdgst = (u.req.dgst & NVME_TCP_DGST_HDR) && p->header_digests;
	ddgst = (u.req.dgst & NVME_TCP_DGST_DATA) && p->data_digests;
	len = nvmf_pdu_encode_icresp(out, p->pda, hdgst, ddgst, p->max_h2c_data);
	rc = nvmf_io_exact(s, out, len, true, timeout_ms);
	if (rc != 0) {
		snprintf(err, errlen, "sending ICResp: %s", io_error(rc));
		return NULL;
	}

	qp = nvmf_qpair_alloc(na, s, &nvmf_ctrl_role);
	if (qp == NULL) {
		snprintf(err, errlen, "out of memory");
		return NULL;
	}
	nvmf_qpair_settle(qp, &(struct nvmf_qpair_info) {
		.header_digests = hdgst,
		.data_digests = ddgst,
		.icreq_dgst = u.req.dgst,
		.hpda = u.req.hpda,
		.cpda = p->pda,
		.max_h2c_data = p->max_h2c_data,
		.maxr2t = u.req.maxr2t,
	});
	/* Until Connect says which queue this is, take the larger admin limit. */
	qp->icd_size = p->io_icd_size > NVME_TCP_ADMIN_ICD_SIZE ? p->io_icd_size :
	    NVME_TCP_ADMIN_ICD_SIZE;
	qp->qsize = 32;
	return qp;
}

/* Runs a handshake on a stream over fd; the caller keeps fd on failure. */
static struct nvmf_qpair *
with_stream(struct nvmf_association *na, int fd, uint16_t qsize, bool admin,
    int timeout_ms, char *err, size_t errlen)
{
	struct nvmf_stream *s;
	struct nvmf_qpair *qp;

	if (nvmf_socket_setup(fd) != 0) {
		snprintf(err, errlen, "socket setup: %s", strerror(errno));
		return NULL;
	}
	if (nvmf_socket_congestion(fd, na->params.tcp_congestion, err, errlen) != 0)
		return NULL;
	s = nvmf_stream_socket(fd);
	if (s == NULL) {
		snprintf(err, errlen, "out of memory");
		return NULL;
	}
	qp = na->params.controller ? ctrl_handshake(na, s, timeout_ms, err, errlen) :
	    host_handshake(na, s, qsize, admin, timeout_ms, err, errlen);
	if (qp == NULL)
		s->ops->close(s, true);
	return qp;
}

struct nvmf_qpair *
nvmf_host_qpair_create(struct nvmf_association *na, int fd, uint16_t qsize,
    bool admin, int timeout_ms, char *err, size_t errlen)
{
	if (na->params.controller) {
		snprintf(err, errlen, "a controller association cannot open host queues");
		return NULL;
	}
	if (qsize < 2) {
		snprintf(err, errlen, "queue size %u too small (at least 2)", qsize);
		return NULL;
	}
	return with_stream(na, fd, qsize, admin, timeout_ms, err, errlen);
}

struct nvmf_qpair *
nvmf_controller_qpair_accept(struct nvmf_association *na, int fd, int timeout_ms,
    char *err, size_t errlen)
{
	if (!na->params.controller) {
		snprintf(err, errlen, "a host association cannot accept queues");
		return NULL;
	}
	return with_stream(na, fd, 0, false, timeout_ms, err, errlen);
}
