/* SPDX-License-Identifier: BSD-2-Clause
 * Copyright (c) 2026 The nvmf developers */
/*
 * nvmf_pdu.h - NVMe/TCP PDU encoding and header validation, free of I/O.
 *
 * Internal to libnvmf (and its unit tests and fuzzers): the queue pair engine
 * builds every PDU it sends and checks every header it receives here.
 */
#ifndef NVMF_PDU_H
#define NVMF_PDU_H

#include <stdbool.h>
#include <stdint.h>

#include "nvmf/nvmf_proto.h"

/* Largest header we ever hold: ICReq/ICResp (128) + a header digest. */
#define NVMF_PDU_MAX_HDR	(128 + NVME_TCP_DIGEST_LEN)
/* Header, digest and padding up to the largest PDA alignment. */
#define NVMF_PDU_MAX_PREFIX	256

/* What the receiver of a PDU negotiated: the rules its headers must obey. */
struct nvmf_pdu_rules {
	bool controller;		/* receiving side is the controller */
	bool connected;			/* ICReq/ICResp done */
	bool hdgst;
	bool ddgst;
	uint8_t rx_pda;			/* alignment we asked of data sent to us */
	uint32_t max_data;		/* largest data section we accept */
};

/* Why a header was refused: what goes into the termination request. */
struct nvmf_pdu_fault {
	uint16_t fes;
	uint32_t fei;			/* byte offset of the offending field */
	char what[96];
};

/* Fixed header length of a PDU type, 0 for an unknown type. */
uint8_t nvmf_pdu_hlen(uint8_t pdu_type);
/* Whether a PDU type carries a header digest / may carry data. */
bool nvmf_pdu_has_hdgst(uint8_t pdu_type);
bool nvmf_pdu_may_carry_data(uint8_t pdu_type);

/*
 * Checks the common header of a received PDU against the negotiated rules.
 * Returns 0; -1 with *fault filled; or NVMF_PDU_DEVIATION when the header
 * breaks a rule that Linux nvmet does not enforce: *fault then says what
 * and, should the receiver refuse it, the FES and FEI to send.
 */
#define NVMF_PDU_DEVIATION	1
int nvmf_pdu_check_common(const struct nvme_tcp_common_hdr *ch,
    const struct nvmf_pdu_rules *rules, struct nvmf_pdu_fault *fault);

/* Bytes of header (with its digest when the PDU carries one). */
uint32_t nvmf_pdu_header_len(const struct nvme_tcp_common_hdr *ch);
/* Bytes of data in a PDU that passed nvmf_pdu_check_common. */
uint32_t nvmf_pdu_data_len(const struct nvme_tcp_common_hdr *ch);

/* Checks a header digest: hdr holds hlen bytes followed by the digest. */
bool nvmf_pdu_hdgst_ok(const void *hdr, uint8_t hlen);

/* ICReq / ICResp field checks; 0 or -1 with *fault filled. */
int nvmf_pdu_check_icreq(const struct nvme_tcp_icreq *req, struct nvmf_pdu_fault *fault);
int nvmf_pdu_check_icresp(const struct nvme_tcp_icresp *rsp, bool want_hdgst,
    bool want_ddgst, struct nvmf_pdu_fault *fault);

/*
 * Encoders. Each writes a complete header (and header digest, and padding up
 * to the data offset) into buf of NVMF_PDU_MAX_PREFIX bytes, sets plen for
 * data_len bytes of data (plus data digest), and returns the bytes written.
 */
uint32_t nvmf_pdu_encode_icreq(void *buf, uint8_t hpda, bool hdgst, bool ddgst,
    uint32_t maxr2t);
uint32_t nvmf_pdu_encode_icresp(void *buf, uint8_t cpda, bool hdgst, bool ddgst,
    uint32_t maxh2cdata);
uint32_t nvmf_pdu_encode_term_req(void *buf, bool from_controller, uint16_t fes,
    uint32_t fei, const void *bad_hdr, uint32_t bad_len);
uint32_t nvmf_pdu_encode_capsule_cmd(void *buf, const struct nvme_command *sqe,
    bool hdgst, bool ddgst, uint8_t pda, uint32_t data_len);
uint32_t nvmf_pdu_encode_capsule_resp(void *buf, const struct nvme_completion *cqe,
    bool hdgst);
uint32_t nvmf_pdu_encode_h2c_data(void *buf, uint16_t cccid, uint16_t ttag,
    uint32_t datao, uint32_t datal, bool last, bool hdgst, bool ddgst, uint8_t pda);
uint32_t nvmf_pdu_encode_c2h_data(void *buf, uint16_t cccid, uint32_t datao,
    uint32_t datal, bool last, bool success, bool hdgst, bool ddgst, uint8_t pda);
uint32_t nvmf_pdu_encode_r2t(void *buf, uint16_t cccid, uint16_t ttag,
    uint32_t r2to, uint32_t r2tl, bool hdgst);

/* Data offset for a PDU with header length hlen under alignment pda. */
uint8_t nvmf_pdu_data_offset(uint8_t hlen, bool hdgst, uint8_t pda);

void nvmf_pdu_fault_set(struct nvmf_pdu_fault *f, uint16_t fes, uint32_t fei,
    const char *fmt, ...) __attribute__((format(printf, 4, 5)));

#endif /* NVMF_PDU_H */
