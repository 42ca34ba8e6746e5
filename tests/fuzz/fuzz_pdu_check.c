/* SPDX-License-Identifier: BSD-2-Clause
 * Copyright (c) 2026 The nvmf developers */
/*
 * fuzz_pdu_check.c - libFuzzer target for the header checks of pdu.c:
 * nvmf_pdu_check_common, nvmf_pdu_check_icreq and nvmf_pdu_check_icresp on
 * random headers under random rules, and the encoders on random fields.
 *
 * Input: byte 0 rule flags, byte 1 the PDA we asked for, bytes 2-5 the data
 * limit, then the header bytes (the rest of a 256-byte buffer is zero).
 * Besides never crashing, a header that is accepted must be self-consistent
 * (what the receive engine relies on), a refusal must say why, and whatever
 * the encoders produce must be accepted by the receiving side's rules.
 */
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "nvmf/libnvmf.h"
#include "nvmf_pdu.h"
#include "fuzz_check.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static uint32_t
get32(const uint8_t *p)
{
	return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 |
	    (uint32_t)p[3] << 24;
}

/* An accepted header obeys everything the receive engine assumes. */
static void
check_accepted(const struct nvme_tcp_common_hdr *ch, const struct nvmf_pdu_rules *r)
{
	uint32_t hlen = nvmf_pdu_hlen(ch->pdu_type), hend = nvmf_pdu_header_len(ch);
	uint32_t data = nvmf_pdu_data_len(ch), dd;

	CHECK(hlen != 0 && ch->hlen == hlen);
	CHECK(hend >= hlen && hend <= NVMF_PDU_MAX_HDR);
	CHECK(ch->plen >= hend);
	if (nvmf_pdu_has_hdgst(ch->pdu_type))
		CHECK(!!(ch->flags & NVME_TCP_F_HDGST) == r->hdgst);
	if (!nvmf_pdu_may_carry_data(ch->pdu_type) || ch->pdo == 0) {
		CHECK(data == 0);
		CHECK(ch->pdo == 0);
		CHECK(!(ch->flags & NVME_TCP_F_DDGST) || nvmf_pdu_has_hdgst(ch->pdu_type));
		return;
	}
	dd = (ch->flags & NVME_TCP_F_DDGST) ? NVME_TCP_DIGEST_LEN : 0;
	CHECK(!!dd == r->ddgst);
	CHECK(ch->pdo >= hend);
	CHECK(ch->pdo % (((uint32_t)r->rx_pda + 1) * 4) == 0);
	CHECK(data > 0 && data <= r->max_data);
	CHECK((uint64_t)ch->pdo + data + dd == ch->plen);
	if (ch->pdu_type == NVME_TCP_PDU_C2H_DATA && (ch->flags & NVME_TCP_F_DATA_SUCCESS))
		CHECK(ch->flags & NVME_TCP_F_DATA_LAST);
}

static void
check_fault(const struct nvmf_pdu_fault *f, uint32_t max_fei)
{
	CHECK(f->fes >= NVME_TCP_FES_INVALID_HEADER_FIELD &&
	    f->fes <= NVME_TCP_FES_UNSUPPORTED_PARAMETER);
	CHECK(f->fei < max_fei);
	CHECK(f->what[0] != '\0');
	CHECK(memchr(f->what, '\0', sizeof(f->what)) != NULL);
}

/* The encoders' output passes the receiver's checks. */
static void
check_round_trip(const uint8_t *p, size_t avail)
{
	uint8_t buf[NVMF_PDU_MAX_PREFIX + 8];
	struct nvmf_pdu_rules r = { .connected = true, .max_data = UINT32_MAX };
	struct nvmf_pdu_fault f;
	struct nvme_command sqe;
	struct nvme_completion cqe;
	bool hd = p[0] & 1, dd = p[0] & 2, last = p[0] & 4, success = p[0] & 8;
	uint8_t pda = p[1] & 31;
	uint32_t len = get32(p + 2) & 0xffffff, n;

	r.hdgst = hd;
	r.ddgst = dd;
	r.rx_pda = pda;
	memcpy(&sqe, p + 6, sizeof(sqe) < 32 ? sizeof(sqe) : 32);
	memset((uint8_t *)&sqe + 32, p[0], sizeof(sqe) - 32);
	memcpy(&cqe, p + 6, sizeof(cqe));

	switch ((p[0] >> 4) % 6) {
	case 0:
		r.controller = true;
		n = nvmf_pdu_encode_capsule_cmd(buf, &sqe, hd, dd, pda, len);
		break;
	case 1:
		r.controller = false;
		n = nvmf_pdu_encode_capsule_resp(buf, &cqe, hd);
		break;
	case 2:
		r.controller = true;
		if (len == 0)
			len = 1;
		n = nvmf_pdu_encode_h2c_data(buf, sqe.cid, (uint16_t)sqe.nsid, sqe.cdw10,
		    len, last, hd, dd, pda);
		break;
	case 3:
		r.controller = false;
		if (len == 0)
			len = 1;
		n = nvmf_pdu_encode_c2h_data(buf, sqe.cid, sqe.cdw10, len, last, success,
		    hd, dd, pda);
		break;
	case 4:
		r.controller = false;
		n = nvmf_pdu_encode_r2t(buf, sqe.cid, (uint16_t)sqe.nsid, sqe.cdw10,
		    sqe.cdw11, hd);
		break;
	default:
		r.controller = !last;
		n = nvmf_pdu_encode_term_req(buf, !r.controller, (uint16_t)sqe.cdw10,
		    sqe.cdw11, p + 6, (uint32_t)(len % 200 < avail - 6 ? len % 200 :
		    avail - 6));
		break;
	}
	CHECK(n <= NVMF_PDU_MAX_PREFIX);
	if (nvmf_pdu_check_common((const void *)buf, &r, &f) != 0) {
		fprintf(stderr, "encoded %s refused: %s\n",
		    nvmf_pdu_type_name(buf[0]), f.what);
		abort();
	}
	check_accepted((const void *)buf, &r);
	if (nvmf_pdu_has_hdgst(buf[0]) && hd)
		CHECK(nvmf_pdu_hdgst_ok(buf, buf[2]));
	/* The prefix the encoder returns is everything before the data. */
	if (nvmf_pdu_data_len((const void *)buf) > 0)
		CHECK(n == buf[3]);
	else
		CHECK(n == nvmf_pdu_header_len((const void *)buf) ||
		    buf[0] == NVME_TCP_PDU_H2C_TERM_REQ ||
		    buf[0] == NVME_TCP_PDU_C2H_TERM_REQ);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	uint8_t hdr[256] __attribute__((aligned(8)));
	const struct nvme_tcp_common_hdr *ch = (const void *)hdr;
	struct nvmf_pdu_rules r;
	struct nvmf_pdu_fault f;
	size_t n;
	int rc;

	if (size < 6)
		return 0;
	memset(&r, 0, sizeof(r));
	r.controller = data[0] & 1;
	r.connected = data[0] & 2;
	r.hdgst = data[0] & 4;
	r.ddgst = data[0] & 8;
	r.rx_pda = data[1];
	r.max_data = get32(data + 2);

	memset(hdr, 0, sizeof(hdr));
	n = size - 6 < NVMF_PDU_MAX_HDR ? size - 6 : NVMF_PDU_MAX_HDR;
	memcpy(hdr, data + 6, n);

	memset(&f, 0, sizeof(f));
	rc = nvmf_pdu_check_common(ch, &r, &f);
	if (rc == 0) {
		check_accepted(ch, &r);
	} else {
		check_fault(&f, sizeof(struct nvme_tcp_common_hdr));
		/* A deviation served as nvmet does is a capsule with no data. */
		if (rc == NVMF_PDU_DEVIATION)
			CHECK(ch->pdu_type == NVME_TCP_PDU_CAPSULE_CMD &&
			    nvmf_pdu_data_len(ch) == 0 && ch->pdo <= ch->plen &&
			    f.fei == offsetof(struct nvme_tcp_common_hdr, pdo));
		else
			CHECK(rc == -1);
	}
	(void)nvmf_pdu_hdgst_ok(hdr, hdr[2] < 128 ? hdr[2] : 128);

	memset(&f, 0, sizeof(f));
	if (nvmf_pdu_check_icreq((const void *)hdr, &f) == 0) {
		const struct nvme_tcp_icreq *req = (const void *)hdr;

		CHECK(req->pfv == 0 && req->hpda <= 31 && (req->dgst & ~3) == 0);
	} else {
		check_fault(&f, 16);
	}
	memset(&f, 0, sizeof(f));
	if (nvmf_pdu_check_icresp((const void *)hdr, data[0] & 16, data[0] & 32, &f) == 0) {
		const struct nvme_tcp_icresp *rsp = (const void *)hdr;

		CHECK(rsp->pfv == 0 && rsp->cpda <= 31);
		CHECK(rsp->maxh2cdata >= 4096 && rsp->maxh2cdata % 4 == 0);
		CHECK(!(rsp->dgst & 1) || (data[0] & 16));
		CHECK(!(rsp->dgst & 2) || (data[0] & 32));
		CHECK((rsp->dgst & ~3) == 0);
	} else {
		check_fault(&f, 16);
	}

	if (size >= 6 + 6 + 32)
		check_round_trip(data + 6, size - 6);
	return 0;
}
