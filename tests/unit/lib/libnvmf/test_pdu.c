/* SPDX-License-Identifier: BSD-2-Clause
 * Copyright (c) 2026 The nvmf developers */
/*
 * test_pdu.c - NVMe/TCP PDU encoders and header checks (lib/libnvmf/pdu.c),
 * CRC32C and the wire structure sizes.
 *
 * Every expectation is written against the NVMe/TCP 1.0 byte layout with
 * literal offsets and values, not against the library's own constants, so a
 * wrong constant in nvmf_proto.h shows up here as a failure.
 *
 * Common header: 0 PDU-Type, 1 FLAGS, 2 HLEN, 3 PDO, 4..7 PLEN.
 * FLAGS: 0x01 HDGSTF, 0x02 DDGSTF, 0x04 LAST_PDU, 0x08 SUCCESS.
 * FES: 0x01 invalid header field, 0x02 PDU sequence error, 0x03 header
 * digest error, 0x04 data out of range, 0x05 data limit exceeded,
 * 0x06 unsupported parameter. FEI: byte offset of the offending field.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "nvmf/libnvmf.h"
#include "nvmf_digest.h"
#include "nvmf_pdu.h"

/* Field offsets in the common header (FEI values). */
#define FEI_TYPE	0
#define FEI_FLAGS	1
#define FEI_HLEN	2
#define FEI_PDO		3
#define FEI_PLEN	4

/* ------------------------------------------------------------- helpers */

static uint16_t
le16(const uint8_t *p)
{
	return (uint16_t)(p[0] | p[1] << 8);
}

static uint32_t
le32(const uint8_t *p)
{
	return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 |
	    (uint32_t)p[3] << 24;
}

static void
put_le32(uint8_t *p, uint32_t v)
{
	p[0] = (uint8_t)v;
	p[1] = (uint8_t)(v >> 8);
	p[2] = (uint8_t)(v >> 16);
	p[3] = (uint8_t)(v >> 24);
}

/* Rules of the receiving side after ICReq/ICResp. */
static struct nvmf_pdu_rules
rules_for(bool controller, bool hdgst, bool ddgst, uint8_t pda)
{
	struct nvmf_pdu_rules r = {
		.controller = controller, .connected = true, .hdgst = hdgst,
		.ddgst = ddgst, .rx_pda = pda, .max_data = UINT32_MAX,
	};
	return r;
}

#define HOST_RULES		rules_for(false, false, false, 0)
#define CTRL_RULES		rules_for(true, false, false, 0)

static void
set_common(uint8_t *buf, uint8_t type, uint8_t flags, uint8_t hlen, uint8_t pdo,
    uint32_t plen)
{
	buf[0] = type;
	buf[1] = flags;
	buf[2] = hlen;
	buf[3] = pdo;
	put_le32(buf + 4, plen);
}

static void
expect_accept(const void *hdr, struct nvmf_pdu_rules r)
{
	struct nvmf_pdu_fault f = { 0 };
	int rc = nvmf_pdu_check_common(hdr, &r, &f);

	if (rc != 0)
		print_error("refused: FES 0x%x FEI %u: %s\n", f.fes, f.fei, f.what);
	assert_int_equal(rc, 0);
}

static void
expect_fault_at(const void *hdr, struct nvmf_pdu_rules r, uint16_t fes, uint32_t fei,
    const char *file, int line)
{
	struct nvmf_pdu_fault f;
	int rc;

	memset(&f, 0xa5, sizeof(f));
	f.what[0] = '\0';
	rc = nvmf_pdu_check_common(hdr, &r, &f);
	if (rc != -1 || f.fes != fes || f.fei != fei)
		print_error("%s:%d: expected FES 0x%x FEI %u, got rc %d FES 0x%x FEI %u (%s)\n",
		    file, line, fes, fei, rc, rc ? f.fes : 0, rc ? f.fei : 0,
		    rc ? f.what : "accepted");
	assert_int_equal(rc, -1);
	assert_int_equal(f.fes, fes);
	assert_int_equal(f.fei, fei);
	assert_true(strlen(f.what) > 0);
}
#define expect_fault(hdr, rules, fes, fei) \
	expect_fault_at(hdr, rules, fes, fei, __FILE__, __LINE__)

static struct nvme_command
sample_sqe(void)
{
	struct nvme_command sqe;

	memset(&sqe, 0, sizeof(sqe));
	sqe.opc = 0x01;
	sqe.flags = 0x40;
	sqe.cid = 0x1234;
	sqe.nsid = 0xdeadbeef;
	sqe.sgl.length = 512;
	sqe.sgl.type = 0x01;
	sqe.cdw10 = 0x11223344;
	sqe.cdw15 = 0x55667788;
	return sqe;
}

/* ------------------------------------------------------- sizes and CRC */

static void
test_wire_struct_sizes(void **state)
{
	(void)state;
	assert_int_equal(sizeof(struct nvme_tcp_common_hdr), 8);
	assert_int_equal(sizeof(struct nvme_tcp_icreq), 128);
	assert_int_equal(sizeof(struct nvme_tcp_icresp), 128);
	assert_int_equal(sizeof(struct nvme_tcp_term_req_hdr), 24);
	assert_int_equal(sizeof(struct nvme_tcp_cmd), 72);
	assert_int_equal(sizeof(struct nvme_tcp_rsp), 24);
	assert_int_equal(sizeof(struct nvme_tcp_h2c_data_hdr), 24);
	assert_int_equal(sizeof(struct nvme_tcp_c2h_data_hdr), 24);
	assert_int_equal(sizeof(struct nvme_tcp_r2t_hdr), 24);
	assert_int_equal(sizeof(struct nvme_command), 64);
	assert_int_equal(sizeof(struct nvme_completion), 16);
	assert_int_equal(sizeof(struct nvmf_connect_data), 1024);
	assert_int_equal(sizeof(struct nvme_identify_controller), 4096);
}

static void
test_fixed_header_lengths_per_type(void **state)
{
	(void)state;
	assert_int_equal(nvmf_pdu_hlen(0x00), 128);
	assert_int_equal(nvmf_pdu_hlen(0x01), 128);
	assert_int_equal(nvmf_pdu_hlen(0x02), 24);
	assert_int_equal(nvmf_pdu_hlen(0x03), 24);
	assert_int_equal(nvmf_pdu_hlen(0x04), 72);
	assert_int_equal(nvmf_pdu_hlen(0x05), 24);
	assert_int_equal(nvmf_pdu_hlen(0x06), 24);
	assert_int_equal(nvmf_pdu_hlen(0x07), 24);
	assert_int_equal(nvmf_pdu_hlen(0x08), 0);
	assert_int_equal(nvmf_pdu_hlen(0x09), 24);
	assert_int_equal(nvmf_pdu_hlen(0x0a), 0);
	assert_int_equal(nvmf_pdu_hlen(0xff), 0);
	/* Only capsules, data and R2T carry a header digest. */
	assert_false(nvmf_pdu_has_hdgst(0x00));
	assert_false(nvmf_pdu_has_hdgst(0x01));
	assert_false(nvmf_pdu_has_hdgst(0x02));
	assert_false(nvmf_pdu_has_hdgst(0x03));
	assert_true(nvmf_pdu_has_hdgst(0x04));
	assert_true(nvmf_pdu_has_hdgst(0x05));
	assert_true(nvmf_pdu_has_hdgst(0x06));
	assert_true(nvmf_pdu_has_hdgst(0x07));
	assert_true(nvmf_pdu_has_hdgst(0x09));
	assert_true(nvmf_pdu_may_carry_data(0x04));
	assert_true(nvmf_pdu_may_carry_data(0x06));
	assert_true(nvmf_pdu_may_carry_data(0x07));
	assert_false(nvmf_pdu_may_carry_data(0x05));
	assert_false(nvmf_pdu_may_carry_data(0x09));
}

static void
test_crc32c_known_vector(void **state)
{
	(void)state;
	assert_int_equal(nvmf_crc32c("123456789", 9), 0xE3069283u);
	assert_int_equal(nvmf_crc32c("", 0), 0x00000000u);
}

static void
test_crc32c_of_32_zero_bytes(void **state)
{
	uint8_t zeros[32] = { 0 }, ones[32];

	(void)state;
	/* RFC 3720 B.4 test vectors. */
	memset(ones, 0xff, sizeof(ones));
	assert_int_equal(nvmf_crc32c(zeros, sizeof(zeros)), 0x8A9136AAu);
	assert_int_equal(nvmf_crc32c(ones, sizeof(ones)), 0x62A8AB43u);
}

static void
test_crc32c_incremental_matches_one_shot(void **state)
{
	uint8_t buf[1000];
	uint32_t s;

	(void)state;
	for (size_t i = 0; i < sizeof(buf); i++)
		buf[i] = (uint8_t)(i * 7 + 3);
	s = nvmf_crc32c_begin();
	s = nvmf_crc32c_update(s, buf, 1);
	s = nvmf_crc32c_update(s, buf + 1, 499);
	s = nvmf_crc32c_update(s, buf + 500, 500);
	assert_int_equal(nvmf_crc32c_end(s), nvmf_crc32c(buf, sizeof(buf)));
}

static void
test_header_digest_verification(void **state)
{
	uint8_t buf[NVMF_PDU_MAX_PREFIX];
	struct nvme_completion cqe = { .cid = 9, .status = 0x2 };
	uint32_t n;

	(void)state;
	n = nvmf_pdu_encode_capsule_resp(buf, &cqe, true);
	assert_int_equal(n, 28);
	assert_int_equal(le32(buf + 24), nvmf_crc32c(buf, 24));
	assert_true(nvmf_pdu_hdgst_ok(buf, 24));
	buf[12] ^= 0x01;		/* one bit of the header */
	assert_false(nvmf_pdu_hdgst_ok(buf, 24));
	buf[12] ^= 0x01;
	buf[27] ^= 0x80;		/* one bit of the digest */
	assert_false(nvmf_pdu_hdgst_ok(buf, 24));
}

/* --------------------------------------------------------- data offset */

static void
test_data_offset_follows_pda(void **state)
{
	(void)state;
	/* PDO is the header end rounded up to (PDA + 1) * 4. */
	assert_int_equal(nvmf_pdu_data_offset(72, false, 0), 72);
	assert_int_equal(nvmf_pdu_data_offset(72, true, 0), 76);
	assert_int_equal(nvmf_pdu_data_offset(24, false, 0), 24);
	assert_int_equal(nvmf_pdu_data_offset(24, true, 0), 28);
	assert_int_equal(nvmf_pdu_data_offset(72, false, 1), 72);	/* 8 */
	assert_int_equal(nvmf_pdu_data_offset(72, true, 1), 80);
	assert_int_equal(nvmf_pdu_data_offset(72, false, 3), 80);	/* 16 */
	assert_int_equal(nvmf_pdu_data_offset(24, true, 3), 32);
	assert_int_equal(nvmf_pdu_data_offset(72, true, 15), 128);	/* 64 */
	assert_int_equal(nvmf_pdu_data_offset(72, true, 31), 128);	/* 128 */
	assert_int_equal(nvmf_pdu_data_offset(24, false, 31), 128);
}

/* ---------------------------------------------------------- ICReq/ICResp */

static void
test_icreq_encoding(void **state)
{
	uint8_t buf[NVMF_PDU_MAX_PREFIX];
	struct nvmf_pdu_rules r = { .controller = true, .connected = false };
	struct nvmf_pdu_fault f;

	(void)state;
	memset(buf, 0xee, sizeof(buf));
	assert_int_equal(nvmf_pdu_encode_icreq(buf, 5, true, true, 0x01020304), 128);
	assert_int_equal(buf[0], 0x00);
	assert_int_equal(buf[1], 0x00);
	assert_int_equal(buf[2], 128);
	assert_int_equal(buf[3], 0);
	assert_int_equal(le32(buf + 4), 128);
	assert_int_equal(le16(buf + 8), 0);		/* PFV 1.0 */
	assert_int_equal(buf[10], 5);			/* HPDA */
	assert_int_equal(buf[11], 0x03);		/* DGST: HDGST_ENABLE | DDGST_ENABLE */
	assert_int_equal(le32(buf + 12), 0x01020304);	/* MAXR2T */
	for (int i = 16; i < 128; i++)
		assert_int_equal(buf[i], 0);
	expect_accept(buf, r);
	assert_int_equal(nvmf_pdu_check_icreq((void *)buf, &f), 0);

	nvmf_pdu_encode_icreq(buf, 0, true, false, 0);
	assert_int_equal(buf[11], 0x01);
	nvmf_pdu_encode_icreq(buf, 0, false, true, 0);
	assert_int_equal(buf[11], 0x02);
	nvmf_pdu_encode_icreq(buf, 0, false, false, 0);
	assert_int_equal(buf[11], 0x00);
}

static void
test_icresp_encoding(void **state)
{
	uint8_t buf[NVMF_PDU_MAX_PREFIX];
	struct nvmf_pdu_rules r = { .controller = false, .connected = false };
	struct nvmf_pdu_fault f;

	(void)state;
	memset(buf, 0xee, sizeof(buf));
	assert_int_equal(nvmf_pdu_encode_icresp(buf, 7, true, false, 131072), 128);
	assert_int_equal(buf[0], 0x01);
	assert_int_equal(buf[1], 0x00);
	assert_int_equal(buf[2], 128);
	assert_int_equal(buf[3], 0);
	assert_int_equal(le32(buf + 4), 128);
	assert_int_equal(le16(buf + 8), 0);		/* PFV */
	assert_int_equal(buf[10], 7);			/* CPDA */
	assert_int_equal(buf[11], 0x01);		/* DGST */
	assert_int_equal(le32(buf + 12), 131072);	/* MAXH2CDATA */
	for (int i = 16; i < 128; i++)
		assert_int_equal(buf[i], 0);
	expect_accept(buf, r);
	assert_int_equal(nvmf_pdu_check_icresp((void *)buf, true, false, &f), 0);
}

static void
test_icreq_accepted_by_controller_only_before_icresp(void **state)
{
	uint8_t buf[NVMF_PDU_MAX_PREFIX];
	struct nvmf_pdu_rules before = { .controller = true, .connected = false };

	(void)state;
	nvmf_pdu_encode_icreq(buf, 0, false, false, 0);
	expect_accept(buf, before);
	/* A second ICReq on a connected queue is a sequence error. */
	expect_fault(buf, CTRL_RULES, 0x02, FEI_TYPE);
	/* The host never receives an ICReq. */
	expect_fault(buf, HOST_RULES, 0x02, FEI_TYPE);
}

static void
test_icresp_accepted_by_host_only_before_connected(void **state)
{
	uint8_t buf[NVMF_PDU_MAX_PREFIX];
	struct nvmf_pdu_rules before = { .controller = false, .connected = false };
	struct nvmf_pdu_rules ctrl_before = { .controller = true, .connected = false };

	(void)state;
	nvmf_pdu_encode_icresp(buf, 0, false, false, 4096);
	expect_accept(buf, before);
	expect_fault(buf, HOST_RULES, 0x02, FEI_TYPE);
	expect_fault(buf, ctrl_before, 0x02, FEI_TYPE);
}

static void
test_icreq_with_bad_plen_or_flags_refused(void **state)
{
	uint8_t buf[NVMF_PDU_MAX_PREFIX];
	struct nvmf_pdu_rules r = { .controller = true, .connected = false };

	(void)state;
	nvmf_pdu_encode_icreq(buf, 0, false, false, 0);
	put_le32(buf + 4, 129);
	expect_fault(buf, r, 0x01, FEI_PLEN);
	put_le32(buf + 4, 127);
	expect_fault(buf, r, 0x01, FEI_PLEN);
	put_le32(buf + 4, 128);
	buf[3] = 128;				/* PDO on a PDU without data */
	expect_fault(buf, r, 0x01, FEI_PDO);
	buf[3] = 0;
	buf[1] = 0x01;				/* HDGSTF on an ICReq */
	expect_fault(buf, r, 0x01, FEI_FLAGS);
	buf[1] = 0x02;
	expect_fault(buf, r, 0x01, FEI_FLAGS);
	buf[1] = 0;
	buf[2] = 72;
	expect_fault(buf, r, 0x01, FEI_HLEN);
}

static void
test_icreq_field_checks(void **state)
{
	uint8_t buf[NVMF_PDU_MAX_PREFIX];
	struct nvme_tcp_icreq *req = (void *)buf;
	struct nvmf_pdu_fault f;

	(void)state;
	nvmf_pdu_encode_icreq(buf, 31, true, true, 0xffffffff);
	assert_int_equal(nvmf_pdu_check_icreq(req, &f), 0);	/* HPDA 31 is the maximum */

	req->pfv = 1;
	assert_int_equal(nvmf_pdu_check_icreq(req, &f), -1);
	assert_int_equal(f.fes, 0x06);
	assert_int_equal(f.fei, 8);

	nvmf_pdu_encode_icreq(buf, 32, false, false, 0);
	assert_int_equal(nvmf_pdu_check_icreq(req, &f), -1);
	assert_int_equal(f.fes, 0x01);
	assert_int_equal(f.fei, 10);

	nvmf_pdu_encode_icreq(buf, 0, false, false, 0);
	req->dgst = 0x04;			/* reserved bit */
	assert_int_equal(nvmf_pdu_check_icreq(req, &f), -1);
	assert_int_equal(f.fes, 0x01);
	assert_int_equal(f.fei, 11);
	req->dgst = 0x80;
	assert_int_equal(nvmf_pdu_check_icreq(req, &f), -1);
	assert_int_equal(f.fei, 11);
}

static void
test_icresp_field_checks(void **state)
{
	uint8_t buf[NVMF_PDU_MAX_PREFIX];
	struct nvme_tcp_icresp *rsp = (void *)buf;
	struct nvmf_pdu_fault f;

	(void)state;
	nvmf_pdu_encode_icresp(buf, 31, true, true, 4096);
	assert_int_equal(nvmf_pdu_check_icresp(rsp, true, true, &f), 0);

	rsp->pfv = 2;
	assert_int_equal(nvmf_pdu_check_icresp(rsp, true, true, &f), -1);
	assert_int_equal(f.fes, 0x06);
	assert_int_equal(f.fei, 8);

	nvmf_pdu_encode_icresp(buf, 32, false, false, 4096);
	assert_int_equal(nvmf_pdu_check_icresp(rsp, false, false, &f), -1);
	assert_int_equal(f.fes, 0x01);
	assert_int_equal(f.fei, 10);

	nvmf_pdu_encode_icresp(buf, 0, false, false, 4092);	/* below 4096 */
	assert_int_equal(nvmf_pdu_check_icresp(rsp, false, false, &f), -1);
	assert_int_equal(f.fes, 0x01);
	assert_int_equal(f.fei, 12);

	nvmf_pdu_encode_icresp(buf, 0, false, false, 4098);	/* not a multiple of 4 */
	assert_int_equal(nvmf_pdu_check_icresp(rsp, false, false, &f), -1);
	assert_int_equal(f.fes, 0x01);
	assert_int_equal(f.fei, 12);

	nvmf_pdu_encode_icresp(buf, 0, false, false, 0);
	assert_int_equal(nvmf_pdu_check_icresp(rsp, false, false, &f), -1);
	assert_int_equal(f.fei, 12);

	nvmf_pdu_encode_icresp(buf, 0, false, false, 0x100000);
	assert_int_equal(nvmf_pdu_check_icresp(rsp, false, false, &f), 0);
}

static void
test_icresp_enabling_unrequested_digest_refused(void **state)
{
	uint8_t buf[NVMF_PDU_MAX_PREFIX];
	struct nvme_tcp_icresp *rsp = (void *)buf;
	struct nvmf_pdu_fault f;

	(void)state;
	nvmf_pdu_encode_icresp(buf, 0, true, false, 8192);
	assert_int_equal(nvmf_pdu_check_icresp(rsp, false, false, &f), -1);
	assert_int_equal(f.fes, 0x01);
	assert_int_equal(f.fei, 11);

	nvmf_pdu_encode_icresp(buf, 0, false, true, 8192);
	assert_int_equal(nvmf_pdu_check_icresp(rsp, true, false, &f), -1);
	assert_int_equal(f.fes, 0x01);
	assert_int_equal(f.fei, 11);

	nvmf_pdu_encode_icresp(buf, 0, false, false, 8192);
	rsp->dgst = 0x04;			/* reserved */
	assert_int_equal(nvmf_pdu_check_icresp(rsp, true, true, &f), -1);
	assert_int_equal(f.fei, 11);
}

static void
test_icresp_refusing_requested_digest_passes_field_check(void **state)
{
	uint8_t buf[NVMF_PDU_MAX_PREFIX];
	struct nvmf_pdu_fault f;

	(void)state;
	/* A controller may refuse: the host decides whether that is fatal. */
	nvmf_pdu_encode_icresp(buf, 0, false, false, 8192);
	assert_int_equal(nvmf_pdu_check_icresp((void *)buf, true, true, &f), 0);
	nvmf_pdu_encode_icresp(buf, 0, true, false, 8192);
	assert_int_equal(nvmf_pdu_check_icresp((void *)buf, true, true, &f), 0);
}

/* ---------------------------------------------------- termination requests */

static void
test_h2c_term_req_encoding(void **state)
{
	uint8_t buf[NVMF_PDU_MAX_PREFIX], bad[72];
	uint32_t n;

	(void)state;
	for (size_t i = 0; i < sizeof(bad); i++)
		bad[i] = (uint8_t)(0x80 + i);
	n = nvmf_pdu_encode_term_req(buf, false, 0x0003, 0x00000000, bad, sizeof(bad));
	assert_int_equal(n, 24 + 72);
	assert_int_equal(buf[0], 0x02);
	assert_int_equal(buf[1], 0);
	assert_int_equal(buf[2], 24);
	assert_int_equal(buf[3], 0);
	assert_int_equal(le32(buf + 4), 96);
	assert_int_equal(le16(buf + 8), 0x0003);
	assert_int_equal(le32(buf + 10), 0);
	for (int i = 14; i < 24; i++)
		assert_int_equal(buf[i], 0);
	assert_memory_equal(buf + 24, bad, sizeof(bad));
	expect_accept(buf, CTRL_RULES);
	expect_accept(buf, rules_for(true, true, true, 3));	/* no digests on TermReq */
}

static void
test_c2h_term_req_encoding(void **state)
{
	uint8_t buf[NVMF_PDU_MAX_PREFIX];
	struct nvmf_pdu_rules before = { .controller = false, .connected = false };
	uint32_t n;

	(void)state;
	n = nvmf_pdu_encode_term_req(buf, true, 0x0001, 0x00000014, NULL, 0);
	assert_int_equal(n, 24);
	assert_int_equal(buf[0], 0x03);
	assert_int_equal(buf[2], 24);
	assert_int_equal(le32(buf + 4), 24);
	assert_int_equal(le16(buf + 8), 0x0001);
	assert_int_equal(le32(buf + 10), 0x14);	/* FEI, little endian */
	expect_accept(buf, HOST_RULES);
	/* The controller may refuse the ICReq with a C2HTermReq. */
	expect_accept(buf, before);
}

static void
test_term_req_direction_enforced(void **state)
{
	uint8_t buf[NVMF_PDU_MAX_PREFIX];

	(void)state;
	nvmf_pdu_encode_term_req(buf, true, 1, 0, NULL, 0);
	expect_fault(buf, CTRL_RULES, 0x02, FEI_TYPE);
	nvmf_pdu_encode_term_req(buf, false, 1, 0, NULL, 0);
	expect_fault(buf, HOST_RULES, 0x02, FEI_TYPE);
}

static void
test_term_req_data_limited_to_128_bytes(void **state)
{
	uint8_t buf[NVMF_PDU_MAX_PREFIX], bad[200];
	uint32_t n;

	(void)state;
	memset(bad, 0x5a, sizeof(bad));
	/* The data field holds at most 128 bytes: PLEN never exceeds 152. */
	n = nvmf_pdu_encode_term_req(buf, true, 1, 0, bad, sizeof(bad));
	assert_true(n <= 152);
	assert_int_equal(le32(buf + 4), n);
	n = nvmf_pdu_encode_term_req(buf, true, 1, 0, bad, 128);
	assert_int_equal(n, 152);
}

static void
test_term_req_plen_bounds(void **state)
{
	uint8_t buf[NVMF_PDU_MAX_PREFIX];

	(void)state;
	nvmf_pdu_encode_term_req(buf, true, 1, 0, NULL, 0);
	put_le32(buf + 4, 152);			/* 24 + 128: the largest allowed */
	expect_accept(buf, HOST_RULES);
	put_le32(buf + 4, 23);
	expect_fault(buf, HOST_RULES, 0x01, FEI_PLEN);
	put_le32(buf + 4, 153);			/* NVMe/TCP: PLEN at most 152 */
	expect_fault(buf, HOST_RULES, 0x01, FEI_PLEN);
	put_le32(buf + 4, 176);
	expect_fault(buf, HOST_RULES, 0x01, FEI_PLEN);
	put_le32(buf + 4, 24);
	buf[3] = 24;
	expect_fault(buf, HOST_RULES, 0x01, FEI_PDO);
	buf[3] = 0;
	buf[1] = 0x02;				/* DDGSTF on a TermReq */
	expect_fault(buf, HOST_RULES, 0x01, FEI_FLAGS);
}

/* -------------------------------------------------------------- CapsuleCmd */

static void
test_capsule_cmd_without_data(void **state)
{
	uint8_t buf[NVMF_PDU_MAX_PREFIX];
	struct nvme_command sqe = sample_sqe();
	uint32_t n;

	(void)state;
	n = nvmf_pdu_encode_capsule_cmd(buf, &sqe, false, false, 0, 0);
	assert_int_equal(n, 72);
	assert_int_equal(buf[0], 0x04);
	assert_int_equal(buf[1], 0x00);
	assert_int_equal(buf[2], 72);
	assert_int_equal(buf[3], 0);			/* no data: PDO 0 */
	assert_int_equal(le32(buf + 4), 72);
	assert_memory_equal(buf + 8, &sqe, 64);
	assert_int_equal(buf[8], 0x01);			/* OPC */
	assert_int_equal(le16(buf + 10), 0x1234);	/* CID */
	assert_int_equal(le32(buf + 12), 0xdeadbeef);	/* NSID */
	assert_int_equal(le32(buf + 8 + 40), 0x11223344);	/* CDW10 */
	expect_accept(buf, CTRL_RULES);
	assert_int_equal(nvmf_pdu_header_len((void *)buf), 72);
	assert_int_equal(nvmf_pdu_data_len((void *)buf), 0);
}

static void
test_capsule_cmd_without_data_header_digest(void **state)
{
	uint8_t buf[NVMF_PDU_MAX_PREFIX];
	struct nvme_command sqe = sample_sqe();
	uint32_t n;

	(void)state;
	/* Data digests negotiated but no data: DDGSTF stays clear. */
	n = nvmf_pdu_encode_capsule_cmd(buf, &sqe, true, true, 3, 0);
	assert_int_equal(n, 76);
	assert_int_equal(buf[1], 0x01);
	assert_int_equal(buf[3], 0);
	assert_int_equal(le32(buf + 4), 76);
	assert_int_equal(le32(buf + 72), nvmf_crc32c(buf, 72));
	expect_accept(buf, rules_for(true, true, true, 3));
	assert_int_equal(nvmf_pdu_header_len((void *)buf), 76);
}

static void
test_capsule_cmd_in_capsule_data(void **state)
{
	uint8_t buf[NVMF_PDU_MAX_PREFIX];
	struct nvme_command sqe = sample_sqe();
	uint32_t n;

	(void)state;
	n = nvmf_pdu_encode_capsule_cmd(buf, &sqe, false, false, 0, 512);
	assert_int_equal(n, 72);			/* data starts right after */
	assert_int_equal(buf[1], 0x00);
	assert_int_equal(buf[3], 72);
	assert_int_equal(le32(buf + 4), 72 + 512);
	expect_accept(buf, CTRL_RULES);
	assert_int_equal(nvmf_pdu_data_len((void *)buf), 512);
}

static void
test_capsule_cmd_in_capsule_data_with_digests(void **state)
{
	uint8_t buf[NVMF_PDU_MAX_PREFIX];
	struct nvme_command sqe = sample_sqe();
	uint32_t n;

	(void)state;
	n = nvmf_pdu_encode_capsule_cmd(buf, &sqe, true, true, 0, 512);
	assert_int_equal(n, 76);
	assert_int_equal(buf[1], 0x03);
	assert_int_equal(buf[3], 76);
	assert_int_equal(le32(buf + 4), 76 + 512 + 4);
	assert_int_equal(le32(buf + 72), nvmf_crc32c(buf, 72));
	expect_accept(buf, rules_for(true, true, true, 0));
	assert_int_equal(nvmf_pdu_header_len((void *)buf), 76);
	assert_int_equal(nvmf_pdu_data_len((void *)buf), 512);
}

static void
test_capsule_cmd_in_capsule_data_with_pda(void **state)
{
	uint8_t buf[NVMF_PDU_MAX_PREFIX];
	struct nvme_command sqe = sample_sqe();
	uint32_t n;

	(void)state;
	memset(buf, 0xcc, sizeof(buf));
	/* PDA 3: data aligned to 16 bytes, header + digest ends at 76. */
	n = nvmf_pdu_encode_capsule_cmd(buf, &sqe, true, false, 3, 100);
	assert_int_equal(n, 80);
	assert_int_equal(buf[1], 0x01);
	assert_int_equal(buf[3], 80);
	assert_int_equal(le32(buf + 4), 80 + 100);
	for (int i = 76; i < 80; i++)
		assert_int_equal(buf[i], 0);		/* padding is zeroed */
	expect_accept(buf, rules_for(true, true, false, 3));
	assert_int_equal(nvmf_pdu_data_len((void *)buf), 100);

	/* PDA 31: 128-byte alignment. */
	memset(buf, 0xcc, sizeof(buf));
	n = nvmf_pdu_encode_capsule_cmd(buf, &sqe, false, true, 31, 4096);
	assert_int_equal(n, 128);
	assert_int_equal(buf[1], 0x02);
	assert_int_equal(buf[3], 128);
	assert_int_equal(le32(buf + 4), 128 + 4096 + 4);
	for (int i = 72; i < 128; i++)
		assert_int_equal(buf[i], 0);
	expect_accept(buf, rules_for(true, false, true, 31));
}

/* ------------------------------------------------------------- CapsuleResp */

static void
test_capsule_resp_encoding(void **state)
{
	uint8_t buf[NVMF_PDU_MAX_PREFIX];
	struct nvme_completion cqe = {
		.cdw0 = 0xa1a2a3a4, .cdw1 = 0xb1b2b3b4, .sqhd = 7, .sqid = 1,
		.cid = 0x4321, .status = 0x0004,
	};
	uint32_t n;

	(void)state;
	n = nvmf_pdu_encode_capsule_resp(buf, &cqe, false);
	assert_int_equal(n, 24);
	assert_int_equal(buf[0], 0x05);
	assert_int_equal(buf[1], 0);
	assert_int_equal(buf[2], 24);
	assert_int_equal(buf[3], 0);
	assert_int_equal(le32(buf + 4), 24);
	assert_int_equal(le32(buf + 8), 0xa1a2a3a4);
	assert_int_equal(le32(buf + 12), 0xb1b2b3b4);
	assert_int_equal(le16(buf + 16), 7);
	assert_int_equal(le16(buf + 18), 1);
	assert_int_equal(le16(buf + 20), 0x4321);
	assert_int_equal(le16(buf + 22), 0x0004);
	expect_accept(buf, HOST_RULES);

	n = nvmf_pdu_encode_capsule_resp(buf, &cqe, true);
	assert_int_equal(n, 28);
	assert_int_equal(buf[1], 0x01);
	assert_int_equal(buf[3], 0);
	assert_int_equal(le32(buf + 4), 28);
	assert_int_equal(le32(buf + 24), nvmf_crc32c(buf, 24));
	/* Data digests do not change a PDU that carries no data. */
	expect_accept(buf, rules_for(false, true, true, 31));
}

/* ----------------------------------------------------------------- H2CData */

static void
test_h2c_data_encoding(void **state)
{
	uint8_t buf[NVMF_PDU_MAX_PREFIX];
	uint32_t n;

	(void)state;
	n = nvmf_pdu_encode_h2c_data(buf, 0x0102, 0x0304, 8192, 4096, false, false,
	    false, 0);
	assert_int_equal(n, 24);
	assert_int_equal(buf[0], 0x06);
	assert_int_equal(buf[1], 0x00);
	assert_int_equal(buf[2], 24);
	assert_int_equal(buf[3], 24);
	assert_int_equal(le32(buf + 4), 24 + 4096);
	assert_int_equal(le16(buf + 8), 0x0102);	/* CCCID */
	assert_int_equal(le16(buf + 10), 0x0304);	/* TTAG */
	assert_int_equal(le32(buf + 12), 8192);		/* DATAO */
	assert_int_equal(le32(buf + 16), 4096);		/* DATAL */
	assert_int_equal(le32(buf + 20), 0);
	expect_accept(buf, CTRL_RULES);
	assert_int_equal(nvmf_pdu_data_len((void *)buf), 4096);

	n = nvmf_pdu_encode_h2c_data(buf, 1, 2, 0, 100, true, true, true, 1);
	assert_int_equal(n, 32);			/* 28 rounded up to 8 */
	assert_int_equal(buf[1], 0x01 | 0x02 | 0x04);
	assert_int_equal(buf[3], 32);
	assert_int_equal(le32(buf + 4), 32 + 100 + 4);
	assert_int_equal(le32(buf + 24), nvmf_crc32c(buf, 24));
	assert_int_equal(le32(buf + 28), 0);
	expect_accept(buf, rules_for(true, true, true, 1));
	assert_int_equal(nvmf_pdu_data_len((void *)buf), 100);
}

/* ----------------------------------------------------------------- C2HData */

static void
test_c2h_data_encoding(void **state)
{
	uint8_t buf[NVMF_PDU_MAX_PREFIX];
	uint32_t n;

	(void)state;
	n = nvmf_pdu_encode_c2h_data(buf, 0x0a0b, 4096, 512, false, false, false, false, 0);
	assert_int_equal(n, 24);
	assert_int_equal(buf[0], 0x07);
	assert_int_equal(buf[1], 0x00);
	assert_int_equal(buf[2], 24);
	assert_int_equal(buf[3], 24);
	assert_int_equal(le32(buf + 4), 24 + 512);
	assert_int_equal(le16(buf + 8), 0x0a0b);
	assert_int_equal(le16(buf + 10), 0);
	assert_int_equal(le32(buf + 12), 4096);
	assert_int_equal(le32(buf + 16), 512);
	expect_accept(buf, HOST_RULES);
}

static void
test_c2h_data_last_and_success_flags(void **state)
{
	uint8_t buf[NVMF_PDU_MAX_PREFIX];

	(void)state;
	nvmf_pdu_encode_c2h_data(buf, 1, 0, 512, true, false, false, false, 0);
	assert_int_equal(buf[1], 0x04);
	expect_accept(buf, HOST_RULES);
	nvmf_pdu_encode_c2h_data(buf, 1, 0, 512, true, true, false, false, 0);
	assert_int_equal(buf[1], 0x0c);
	expect_accept(buf, HOST_RULES);
	/* The encoder never sets SUCCESS without LAST_PDU. */
	nvmf_pdu_encode_c2h_data(buf, 1, 0, 512, false, true, false, false, 0);
	assert_int_equal(buf[1], 0x00);
}

static void
test_c2h_data_with_digests_and_pda(void **state)
{
	uint8_t buf[NVMF_PDU_MAX_PREFIX];
	uint32_t n;

	(void)state;
	n = nvmf_pdu_encode_c2h_data(buf, 3, 0, 4096, true, true, true, true, 7);
	assert_int_equal(n, 32);			/* 28 rounded up to 32 */
	assert_int_equal(buf[1], 0x0f);
	assert_int_equal(buf[3], 32);
	assert_int_equal(le32(buf + 4), 32 + 4096 + 4);
	assert_int_equal(le32(buf + 24), nvmf_crc32c(buf, 24));
	expect_accept(buf, rules_for(false, true, true, 7));
	assert_int_equal(nvmf_pdu_header_len((void *)buf), 28);
	assert_int_equal(nvmf_pdu_data_len((void *)buf), 4096);
}

/* --------------------------------------------------------------------- R2T */

static void
test_r2t_encoding(void **state)
{
	uint8_t buf[NVMF_PDU_MAX_PREFIX];
	uint32_t n;

	(void)state;
	n = nvmf_pdu_encode_r2t(buf, 0x0011, 0x0022, 4096, 16384, false);
	assert_int_equal(n, 24);
	assert_int_equal(buf[0], 0x09);
	assert_int_equal(buf[1], 0);
	assert_int_equal(buf[2], 24);
	assert_int_equal(buf[3], 0);
	assert_int_equal(le32(buf + 4), 24);
	assert_int_equal(le16(buf + 8), 0x0011);	/* CCCID */
	assert_int_equal(le16(buf + 10), 0x0022);	/* TTAG */
	assert_int_equal(le32(buf + 12), 4096);		/* R2TO */
	assert_int_equal(le32(buf + 16), 16384);	/* R2TL */
	assert_int_equal(le32(buf + 20), 0);
	expect_accept(buf, HOST_RULES);

	n = nvmf_pdu_encode_r2t(buf, 1, 2, 0, 8, true);
	assert_int_equal(n, 28);
	assert_int_equal(buf[1], 0x01);
	assert_int_equal(le32(buf + 4), 28);
	assert_int_equal(le32(buf + 24), nvmf_crc32c(buf, 24));
	expect_accept(buf, rules_for(false, true, true, 0));
}

/* ------------------------------------------------ malformed common headers */

static void
test_unknown_pdu_type_refused(void **state)
{
	static const uint8_t types[] = { 0x08, 0x0a, 0x0b, 0x10, 0x7f, 0xff };
	uint8_t buf[NVMF_PDU_MAX_PREFIX] = { 0 };

	(void)state;
	for (size_t i = 0; i < sizeof(types); i++) {
		set_common(buf, types[i], 0, 24, 0, 24);
		expect_fault(buf, HOST_RULES, 0x01, FEI_TYPE);
		expect_fault(buf, CTRL_RULES, 0x01, FEI_TYPE);
	}
}

static void
test_pdu_for_the_other_direction_refused(void **state)
{
	uint8_t buf[NVMF_PDU_MAX_PREFIX];
	struct nvme_command sqe = sample_sqe();
	struct nvme_completion cqe = { 0 };

	(void)state;
	/* The host never receives a command, H2CData or H2CTermReq. */
	nvmf_pdu_encode_capsule_cmd(buf, &sqe, false, false, 0, 0);
	expect_fault(buf, HOST_RULES, 0x02, FEI_TYPE);
	nvmf_pdu_encode_h2c_data(buf, 1, 1, 0, 8, true, false, false, 0);
	expect_fault(buf, HOST_RULES, 0x02, FEI_TYPE);
	/* The controller never receives a response, C2HData or R2T. */
	nvmf_pdu_encode_capsule_resp(buf, &cqe, false);
	expect_fault(buf, CTRL_RULES, 0x02, FEI_TYPE);
	nvmf_pdu_encode_c2h_data(buf, 1, 0, 8, true, false, false, false, 0);
	expect_fault(buf, CTRL_RULES, 0x02, FEI_TYPE);
	nvmf_pdu_encode_r2t(buf, 1, 1, 0, 8, false);
	expect_fault(buf, CTRL_RULES, 0x02, FEI_TYPE);
}

static void
test_pdu_before_icresp_refused(void **state)
{
	uint8_t buf[NVMF_PDU_MAX_PREFIX];
	struct nvme_command sqe = sample_sqe();
	struct nvme_completion cqe = { 0 };
	struct nvmf_pdu_rules host_before = { .controller = false, .connected = false };
	struct nvmf_pdu_rules ctrl_before = { .controller = true, .connected = false };

	(void)state;
	nvmf_pdu_encode_capsule_cmd(buf, &sqe, false, false, 0, 0);
	expect_fault(buf, ctrl_before, 0x02, FEI_TYPE);
	nvmf_pdu_encode_h2c_data(buf, 1, 1, 0, 8, true, false, false, 0);
	expect_fault(buf, ctrl_before, 0x02, FEI_TYPE);
	nvmf_pdu_encode_term_req(buf, false, 1, 0, NULL, 0);
	expect_fault(buf, ctrl_before, 0x02, FEI_TYPE);
	nvmf_pdu_encode_capsule_resp(buf, &cqe, false);
	expect_fault(buf, host_before, 0x02, FEI_TYPE);
	nvmf_pdu_encode_c2h_data(buf, 1, 0, 8, true, false, false, false, 0);
	expect_fault(buf, host_before, 0x02, FEI_TYPE);
	nvmf_pdu_encode_r2t(buf, 1, 1, 0, 8, false);
	expect_fault(buf, host_before, 0x02, FEI_TYPE);
}

static void
test_bad_hlen_refused(void **state)
{
	uint8_t buf[NVMF_PDU_MAX_PREFIX];
	struct nvme_command sqe = sample_sqe();
	struct nvme_completion cqe = { 0 };

	(void)state;
	nvmf_pdu_encode_capsule_cmd(buf, &sqe, false, false, 0, 0);
	buf[2] = 24;
	expect_fault(buf, CTRL_RULES, 0x01, FEI_HLEN);
	buf[2] = 76;
	expect_fault(buf, CTRL_RULES, 0x01, FEI_HLEN);
	nvmf_pdu_encode_capsule_resp(buf, &cqe, false);
	buf[2] = 72;
	expect_fault(buf, HOST_RULES, 0x01, FEI_HLEN);
	nvmf_pdu_encode_r2t(buf, 1, 1, 0, 8, false);
	buf[2] = 0;
	expect_fault(buf, HOST_RULES, 0x01, FEI_HLEN);
	nvmf_pdu_encode_term_req(buf, false, 1, 0, NULL, 0);
	buf[2] = 128;
	expect_fault(buf, CTRL_RULES, 0x01, FEI_HLEN);
}

static void
test_pdo_below_header_end_refused(void **state)
{
	uint8_t buf[NVMF_PDU_MAX_PREFIX];
	struct nvme_command sqe = sample_sqe();

	(void)state;
	nvmf_pdu_encode_capsule_cmd(buf, &sqe, false, false, 0, 64);
	buf[3] = 64;				/* inside the SQE */
	expect_fault(buf, CTRL_RULES, 0x01, FEI_PDO);
	/* With a header digest, data may not start on the digest. */
	nvmf_pdu_encode_capsule_cmd(buf, &sqe, true, false, 0, 64);
	buf[3] = 72;
	put_le32(buf + 4, 72 + 64);
	expect_fault(buf, rules_for(true, true, false, 0), 0x01, FEI_PDO);
	nvmf_pdu_encode_h2c_data(buf, 1, 1, 0, 8, true, false, false, 0);
	buf[3] = 16;
	expect_fault(buf, CTRL_RULES, 0x01, FEI_PDO);
	nvmf_pdu_encode_c2h_data(buf, 1, 0, 8, true, false, false, false, 0);
	buf[3] = 8;
	expect_fault(buf, HOST_RULES, 0x01, FEI_PDO);
}

static void
test_pdo_misaligned_refused(void **state)
{
	uint8_t buf[NVMF_PDU_MAX_PREFIX];
	struct nvme_command sqe = sample_sqe();

	(void)state;
	/* We asked for PDA 3 (16 bytes): PDO 72 or 76 is not aligned. */
	nvmf_pdu_encode_capsule_cmd(buf, &sqe, false, false, 0, 64);
	assert_int_equal(buf[3], 72);
	expect_fault(buf, rules_for(true, false, false, 3), 0x01, FEI_PDO);
	nvmf_pdu_encode_capsule_cmd(buf, &sqe, true, false, 0, 64);
	assert_int_equal(buf[3], 76);
	expect_fault(buf, rules_for(true, true, false, 3), 0x01, FEI_PDO);
	/* Not even 4-byte aligned with PDA 0. */
	nvmf_pdu_encode_h2c_data(buf, 1, 1, 0, 8, true, false, false, 0);
	buf[3] = 26;
	put_le32(buf + 4, 26 + 8);
	expect_fault(buf, CTRL_RULES, 0x01, FEI_PDO);
	/* Aligned to 16 when 128 was asked. */
	nvmf_pdu_encode_c2h_data(buf, 1, 0, 8, true, false, false, false, 3);
	assert_int_equal(buf[3], 32);
	expect_fault(buf, rules_for(false, false, false, 31), 0x01, FEI_PDO);
}

static void
test_pdo_on_pdu_without_data_refused(void **state)
{
	uint8_t buf[NVMF_PDU_MAX_PREFIX];
	struct nvme_completion cqe = { 0 };

	(void)state;
	nvmf_pdu_encode_capsule_resp(buf, &cqe, false);
	buf[3] = 24;
	expect_fault(buf, HOST_RULES, 0x01, FEI_PDO);
	nvmf_pdu_encode_r2t(buf, 1, 1, 0, 8, false);
	buf[3] = 24;
	expect_fault(buf, HOST_RULES, 0x01, FEI_PDO);
	nvmf_pdu_encode_term_req(buf, false, 1, 0, NULL, 0);
	buf[3] = 24;
	expect_fault(buf, CTRL_RULES, 0x01, FEI_PDO);
}

static void
test_data_pdu_without_data_refused(void **state)
{
	uint8_t buf[NVMF_PDU_MAX_PREFIX];

	(void)state;
	/* H2CData and C2HData exist to carry data: PDO 0 is invalid. */
	nvmf_pdu_encode_h2c_data(buf, 1, 1, 0, 8, true, false, false, 0);
	buf[3] = 0;
	put_le32(buf + 4, 24);
	expect_fault(buf, CTRL_RULES, 0x01, FEI_PDO);
	nvmf_pdu_encode_c2h_data(buf, 1, 0, 8, true, false, false, false, 0);
	buf[3] = 0;
	put_le32(buf + 4, 24);
	expect_fault(buf, HOST_RULES, 0x01, FEI_PDO);
}

static void
test_plen_shorter_than_header_refused(void **state)
{
	uint8_t buf[NVMF_PDU_MAX_PREFIX];
	struct nvme_command sqe = sample_sqe();
	struct nvme_completion cqe = { 0 };

	(void)state;
	nvmf_pdu_encode_capsule_cmd(buf, &sqe, false, false, 0, 0);
	put_le32(buf + 4, 71);
	expect_fault(buf, CTRL_RULES, 0x01, FEI_PLEN);
	put_le32(buf + 4, 0);
	expect_fault(buf, CTRL_RULES, 0x01, FEI_PLEN);
	/* With a header digest the digest is part of the minimum. */
	nvmf_pdu_encode_capsule_resp(buf, &cqe, true);
	put_le32(buf + 4, 24);
	expect_fault(buf, rules_for(false, true, false, 0), 0x01, FEI_PLEN);
	nvmf_pdu_encode_r2t(buf, 1, 1, 0, 8, false);
	put_le32(buf + 4, 8);
	expect_fault(buf, HOST_RULES, 0x01, FEI_PLEN);
}

static void
test_plen_too_long_refused(void **state)
{
	uint8_t buf[NVMF_PDU_MAX_PREFIX];
	struct nvme_command sqe = sample_sqe();
	struct nvme_completion cqe = { 0 };

	(void)state;
	nvmf_pdu_encode_capsule_resp(buf, &cqe, false);
	put_le32(buf + 4, 28);			/* no digest negotiated */
	expect_fault(buf, HOST_RULES, 0x01, FEI_PLEN);
	put_le32(buf + 4, 0xffffffff);
	expect_fault(buf, HOST_RULES, 0x01, FEI_PLEN);
	nvmf_pdu_encode_r2t(buf, 1, 1, 0, 8, false);
	put_le32(buf + 4, 25);
	expect_fault(buf, HOST_RULES, 0x01, FEI_PLEN);
	/* A command without a data offset cannot have bytes after the SQE. */
	nvmf_pdu_encode_capsule_cmd(buf, &sqe, false, false, 0, 0);
	put_le32(buf + 4, 80);
	expect_fault(buf, CTRL_RULES, 0x01, FEI_PLEN);
}

static void
test_plen_with_no_data_after_pdo_refused(void **state)
{
	uint8_t buf[NVMF_PDU_MAX_PREFIX];
	struct nvme_command sqe = sample_sqe();

	(void)state;
	nvmf_pdu_encode_capsule_cmd(buf, &sqe, false, false, 0, 64);
	put_le32(buf + 4, 40);			/* PLEN before PDO */
	expect_fault(buf, CTRL_RULES, 0x01, FEI_PLEN);
	/* Data PDUs exist to carry data: PDO at PLEN names PDO. */
	nvmf_pdu_encode_h2c_data(buf, 1, 1, 0, 8, true, false, true, 0);
	put_le32(buf + 4, 24 + 4);		/* with a data digest, PDO + 4 */
	expect_fault(buf, rules_for(true, false, true, 0), 0x01, FEI_PDO);
	nvmf_pdu_encode_c2h_data(buf, 1, 0, 8, true, false, false, false, 0);
	put_le32(buf + 4, 24);
	expect_fault(buf, HOST_RULES, 0x01, FEI_PDO);
	/* A capsule whose PDO lies beyond its PLEN is malformed, not a deviation. */
	nvmf_pdu_encode_capsule_cmd(buf, &sqe, true, false, 0, 64);
	buf[3] = 80;
	put_le32(buf + 4, 76);
	expect_fault(buf, rules_for(true, true, false, 0), 0x01, FEI_PDO);
	/* Nor is a data digest flag on a capsule with no data. */
	nvmf_pdu_encode_capsule_cmd(buf, &sqe, false, true, 0, 64);
	put_le32(buf + 4, 72);
	expect_fault(buf, rules_for(true, false, true, 0), 0x01, FEI_PDO);
}

/* PDO set in a capsule without data: served as nvmet does, reported, no data. */
static void
expect_deviation(const void *hdr, struct nvmf_pdu_rules r)
{
	struct nvmf_pdu_fault f;

	memset(&f, 0, sizeof(f));
	assert_int_equal(nvmf_pdu_check_common(hdr, &r, &f), NVMF_PDU_DEVIATION);
	assert_int_equal(f.fes, 0x01);
	assert_int_equal(f.fei, FEI_PDO);
	assert_non_null(strstr(f.what, "PDO"));
	assert_int_equal(nvmf_pdu_data_len(hdr), 0);
}

static void
test_capsule_pdo_without_data_is_a_deviation(void **state)
{
	uint8_t buf[NVMF_PDU_MAX_PREFIX];
	struct nvme_command sqe = sample_sqe();

	(void)state;
	nvmf_pdu_encode_capsule_cmd(buf, &sqe, false, false, 0, 0);
	buf[3] = 72;				/* PDO = HLEN = PLEN */
	expect_deviation(buf, CTRL_RULES);
	/* With a header digest: PDO = PLEN = 76, or PDO = HLEN inside it. */
	nvmf_pdu_encode_capsule_cmd(buf, &sqe, true, false, 0, 0);
	buf[3] = 76;
	expect_deviation(buf, rules_for(true, true, false, 0));
	buf[3] = 72;
	expect_deviation(buf, rules_for(true, true, false, 0));
	/* Padding up to a PDO that equals PLEN, nothing after it. */
	nvmf_pdu_encode_capsule_cmd(buf, &sqe, false, false, 0, 0);
	buf[3] = 80;
	put_le32(buf + 4, 80);
	expect_deviation(buf, CTRL_RULES);
	assert_int_equal(nvmf_pdu_header_len((const void *)buf), 72);
}

static void
test_header_digest_flag_mismatch_refused(void **state)
{
	uint8_t buf[NVMF_PDU_MAX_PREFIX];
	struct nvme_command sqe = sample_sqe();
	struct nvme_completion cqe = { 0 };

	(void)state;
	/* HDGSTF set, not negotiated. */
	nvmf_pdu_encode_capsule_cmd(buf, &sqe, true, false, 0, 0);
	expect_fault(buf, CTRL_RULES, 0x01, FEI_FLAGS);
	nvmf_pdu_encode_capsule_resp(buf, &cqe, true);
	expect_fault(buf, HOST_RULES, 0x01, FEI_FLAGS);
	/* HDGSTF clear, negotiated. */
	nvmf_pdu_encode_capsule_cmd(buf, &sqe, false, false, 0, 0);
	expect_fault(buf, rules_for(true, true, false, 0), 0x01, FEI_FLAGS);
	nvmf_pdu_encode_r2t(buf, 1, 1, 0, 8, false);
	expect_fault(buf, rules_for(false, true, false, 0), 0x01, FEI_FLAGS);
	nvmf_pdu_encode_c2h_data(buf, 1, 0, 8, true, false, false, false, 0);
	expect_fault(buf, rules_for(false, true, false, 0), 0x01, FEI_FLAGS);
	nvmf_pdu_encode_h2c_data(buf, 1, 1, 0, 8, true, false, false, 0);
	expect_fault(buf, rules_for(true, true, false, 0), 0x01, FEI_FLAGS);
}

static void
test_data_digest_flag_mismatch_refused(void **state)
{
	uint8_t buf[NVMF_PDU_MAX_PREFIX];
	struct nvme_command sqe = sample_sqe();

	(void)state;
	/* DDGSTF set, not negotiated. */
	nvmf_pdu_encode_capsule_cmd(buf, &sqe, false, true, 0, 64);
	expect_fault(buf, CTRL_RULES, 0x01, FEI_FLAGS);
	nvmf_pdu_encode_c2h_data(buf, 1, 0, 64, true, false, false, true, 0);
	expect_fault(buf, HOST_RULES, 0x01, FEI_FLAGS);
	/* DDGSTF clear, negotiated. */
	nvmf_pdu_encode_capsule_cmd(buf, &sqe, false, false, 0, 64);
	expect_fault(buf, rules_for(true, false, true, 0), 0x01, FEI_FLAGS);
	nvmf_pdu_encode_h2c_data(buf, 1, 1, 0, 64, true, false, false, 0);
	expect_fault(buf, rules_for(true, false, true, 0), 0x01, FEI_FLAGS);
}

static void
test_success_without_last_refused(void **state)
{
	uint8_t buf[NVMF_PDU_MAX_PREFIX];

	(void)state;
	nvmf_pdu_encode_c2h_data(buf, 1, 0, 64, false, false, false, false, 0);
	buf[1] = 0x08;
	expect_fault(buf, HOST_RULES, 0x01, FEI_FLAGS);
}

static void
test_data_above_max_data_refused(void **state)
{
	uint8_t buf[NVMF_PDU_MAX_PREFIX];
	struct nvme_command sqe = sample_sqe();
	struct nvmf_pdu_rules r = CTRL_RULES;
	struct nvmf_pdu_rules h = HOST_RULES;

	(void)state;
	r.max_data = 8192;
	nvmf_pdu_encode_capsule_cmd(buf, &sqe, false, false, 0, 8192);
	expect_accept(buf, r);
	nvmf_pdu_encode_capsule_cmd(buf, &sqe, false, false, 0, 8196);
	expect_fault(buf, r, 0x05, FEI_PLEN);
	nvmf_pdu_encode_h2c_data(buf, 1, 1, 0, 8193, true, false, false, 0);
	expect_fault(buf, r, 0x05, FEI_PLEN);
	/* The data digest is not data. */
	r.ddgst = true;
	nvmf_pdu_encode_h2c_data(buf, 1, 1, 0, 8192, true, false, true, 0);
	expect_accept(buf, r);
	h.max_data = 4096;
	nvmf_pdu_encode_c2h_data(buf, 1, 0, 4100, true, false, false, false, 0);
	expect_fault(buf, h, 0x05, FEI_PLEN);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_wire_struct_sizes),
		cmocka_unit_test(test_fixed_header_lengths_per_type),
		cmocka_unit_test(test_crc32c_known_vector),
		cmocka_unit_test(test_crc32c_of_32_zero_bytes),
		cmocka_unit_test(test_crc32c_incremental_matches_one_shot),
		cmocka_unit_test(test_header_digest_verification),
		cmocka_unit_test(test_data_offset_follows_pda),
		cmocka_unit_test(test_icreq_encoding),
		cmocka_unit_test(test_icresp_encoding),
		cmocka_unit_test(test_icreq_accepted_by_controller_only_before_icresp),
		cmocka_unit_test(test_icresp_accepted_by_host_only_before_connected),
		cmocka_unit_test(test_icreq_with_bad_plen_or_flags_refused),
		cmocka_unit_test(test_icreq_field_checks),
		cmocka_unit_test(test_icresp_field_checks),
		cmocka_unit_test(test_icresp_enabling_unrequested_digest_refused),
		cmocka_unit_test(test_icresp_refusing_requested_digest_passes_field_check),
		cmocka_unit_test(test_h2c_term_req_encoding),
		cmocka_unit_test(test_c2h_term_req_encoding),
		cmocka_unit_test(test_term_req_direction_enforced),
		cmocka_unit_test(test_term_req_data_limited_to_128_bytes),
		cmocka_unit_test(test_term_req_plen_bounds),
		cmocka_unit_test(test_capsule_cmd_without_data),
		cmocka_unit_test(test_capsule_cmd_without_data_header_digest),
		cmocka_unit_test(test_capsule_cmd_in_capsule_data),
		cmocka_unit_test(test_capsule_cmd_in_capsule_data_with_digests),
		cmocka_unit_test(test_capsule_cmd_in_capsule_data_with_pda),
		cmocka_unit_test(test_capsule_resp_encoding),
		cmocka_unit_test(test_h2c_data_encoding),
		cmocka_unit_test(test_c2h_data_encoding),
		cmocka_unit_test(test_c2h_data_last_and_success_flags),
		cmocka_unit_test(test_c2h_data_with_digests_and_pda),
		cmocka_unit_test(test_r2t_encoding),
		cmocka_unit_test(test_unknown_pdu_type_refused),
		cmocka_unit_test(test_pdu_for_the_other_direction_refused),
		cmocka_unit_test(test_pdu_before_icresp_refused),
		cmocka_unit_test(test_bad_hlen_refused),
		cmocka_unit_test(test_pdo_below_header_end_refused),
		cmocka_unit_test(test_pdo_misaligned_refused),
		cmocka_unit_test(test_pdo_on_pdu_without_data_refused),
		cmocka_unit_test(test_data_pdu_without_data_refused),
		cmocka_unit_test(test_plen_shorter_than_header_refused),
		cmocka_unit_test(test_plen_too_long_refused),
		cmocka_unit_test(test_plen_with_no_data_after_pdo_refused),
		cmocka_unit_test(test_capsule_pdo_without_data_is_a_deviation),
		cmocka_unit_test(test_header_digest_flag_mismatch_refused),
		cmocka_unit_test(test_data_digest_flag_mismatch_refused),
		cmocka_unit_test(test_success_without_last_refused),
		cmocka_unit_test(test_data_above_max_data_refused),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
