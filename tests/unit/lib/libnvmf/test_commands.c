/* SPDX-License-Identifier: BSD-2-Clause
 * Copyright (c) 2026 The nvmf developers */
/*
 * test_commands.c - the SQE builders of commands.c and the status / PDU /
 * FES names of strings.c.
 *
 * Each builder runs on an SQE full of 0xff and the whole 64 bytes are
 * compared with an expected image written byte by byte at the offsets of
 * the NVMe Base and NVMe over Fabrics specifications: a field in the wrong
 * place, a wrong width or a byte the builder forgot to clear all fail.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "nvmf/libnvmf.h"

static void
put16(uint8_t *b, size_t off, uint16_t v)
{
	b[off] = (uint8_t)v;
	b[off + 1] = (uint8_t)(v >> 8);
}

static void
put32(uint8_t *b, size_t off, uint32_t v)
{
	for (int i = 0; i < 4; i++)
		b[off + i] = (uint8_t)(v >> (8 * i));
}

static void
put64(uint8_t *b, size_t off, uint64_t v)
{
	for (int i = 0; i < 8; i++)
		b[off + i] = (uint8_t)(v >> (8 * i));
}

/* An SQE the builder must overwrite completely. */
static struct nvme_command
dirty_sqe(void)
{
	struct nvme_command sqe;

	memset(&sqe, 0xff, sizeof(sqe));
	return sqe;
}

static void
expect_sqe(const struct nvme_command *sqe, const uint8_t want[64])
{
	const uint8_t *got = (const uint8_t *)sqe;

	for (int i = 0; i < 64; i++) {
		if (got[i] != want[i])
			print_error("SQE byte %d: got 0x%02x, want 0x%02x\n", i, got[i],
			    want[i]);
	}
	assert_memory_equal(got, want, 64);
}

/* ------------------------------------------------------- fabrics commands */

static void
test_connect_admin_queue(void **state)
{
	struct nvme_command sqe = dirty_sqe();
	uint8_t want[64] = { 0 };

	(void)state;
	nvmf_cmd_connect(&sqe, 0, 31, 120000, false);
	want[0] = 0x7f;				/* Fabrics opcode */
	want[4] = 0x01;				/* FCTYPE Connect */
	put16(want, 40, 0);			/* RECFMT */
	put16(want, 42, 0);			/* QID */
	put16(want, 44, 31);			/* SQSIZE, zero-based */
	want[46] = 0;				/* CATTR */
	put32(want, 48, 120000);		/* KATO in ms */
	expect_sqe(&sqe, want);
}

static void
test_connect_io_queue_disabling_sq_flow_control(void **state)
{
	struct nvme_command sqe = dirty_sqe();
	uint8_t want[64] = { 0 };

	(void)state;
	nvmf_cmd_connect(&sqe, 0x1234, 0x7ff, 0, true);
	want[0] = 0x7f;
	want[4] = 0x01;
	put16(want, 42, 0x1234);
	put16(want, 44, 0x7ff);
	want[46] = 0x04;			/* CATTR bit 2: disable SQ flow control */
	expect_sqe(&sqe, want);
}

static void
test_connect_data_layout(void **state)
{
	static const uint8_t hostid[16] = {
		0x01, 0x02, 0x03, 0x04, 0x05, 0x06, 0x07, 0x08,
		0x09, 0x0a, 0x0b, 0x0c, 0x0d, 0x0e, 0x0f, 0x10,
	};
	const char *sub = "nqn.2014-08.org.example:subsys";
	const char *host = "nqn.2014-08.org.nvmexpress:uuid:0123";
	struct nvmf_connect_data d;
	uint8_t want[1024] = { 0 };

	(void)state;
	memset(&d, 0xff, sizeof(d));
	nvmf_connect_data_init(&d, hostid, 0xffff, sub, host);
	memcpy(want, hostid, 16);		/* HOSTID */
	put16(want, 16, 0xffff);		/* CNTLID: dynamic */
	memcpy(want + 256, sub, strlen(sub));	/* SUBNQN */
	memcpy(want + 512, host, strlen(host));	/* HOSTNQN */
	assert_memory_equal(&d, want, sizeof(want));
}

static void
test_connect_data_truncates_long_nqn(void **state)
{
	static const uint8_t hostid[16] = { 0 };
	char longnqn[400];
	struct nvmf_connect_data d;
	const uint8_t *b = (const uint8_t *)&d;

	(void)state;
	memset(longnqn, 'a', sizeof(longnqn) - 1);
	longnqn[sizeof(longnqn) - 1] = '\0';
	nvmf_connect_data_init(&d, hostid, 1, longnqn, longnqn);
	/* 255 characters and a NUL; nothing spills into the next field. */
	assert_int_equal(b[256 + 254], 'a');
	assert_int_equal(b[256 + 255], 0);
	assert_int_equal(b[512 + 254], 'a');
	assert_int_equal(b[512 + 255], 0);
	for (int i = 768; i < 1024; i++)
		assert_int_equal(b[i], 0);
}

static void
test_property_get_four_and_eight_bytes(void **state)
{
	struct nvme_command sqe = dirty_sqe();
	uint8_t want[64] = { 0 };

	(void)state;
	nvmf_cmd_property_get(&sqe, 0x1c, false);	/* CSTS */
	want[0] = 0x7f;
	want[4] = 0x04;				/* FCTYPE Property Get */
	want[40] = 0;				/* ATTRIB: 4 bytes */
	put32(want, 44, 0x1c);			/* OFST */
	expect_sqe(&sqe, want);

	sqe = dirty_sqe();
	nvmf_cmd_property_get(&sqe, 0x00, true);	/* CAP */
	want[40] = 1;				/* ATTRIB: 8 bytes */
	put32(want, 44, 0);
	expect_sqe(&sqe, want);
}

static void
test_property_set(void **state)
{
	struct nvme_command sqe = dirty_sqe();
	uint8_t want[64] = { 0 };

	(void)state;
	nvmf_cmd_property_set(&sqe, 0x14, false, 0x00460001);	/* CC */
	want[0] = 0x7f;
	want[4] = 0x00;				/* FCTYPE Property Set */
	want[40] = 0;
	put32(want, 44, 0x14);
	put64(want, 48, 0x00460001);		/* VALUE */
	expect_sqe(&sqe, want);

	sqe = dirty_sqe();
	nvmf_cmd_property_set(&sqe, 0x20, true, 0x0123456789abcdefull);
	want[40] = 1;
	put32(want, 44, 0x20);
	put64(want, 48, 0x0123456789abcdefull);
	expect_sqe(&sqe, want);
}

/* ----------------------------------------------------------- admin commands */

static void
test_identify(void **state)
{
	struct nvme_command sqe = dirty_sqe();
	uint8_t want[64] = { 0 };

	(void)state;
	nvmf_cmd_identify(&sqe, 0x01, 0);	/* controller */
	want[0] = 0x06;
	want[40] = 0x01;			/* CDW10.CNS */
	expect_sqe(&sqe, want);

	sqe = dirty_sqe();
	nvmf_cmd_identify(&sqe, 0x00, 7);	/* namespace 7 */
	want[40] = 0x00;
	put32(want, 4, 7);			/* NSID */
	expect_sqe(&sqe, want);

	sqe = dirty_sqe();
	nvmf_cmd_identify(&sqe, 0x03, 0xffffffff);
	want[40] = 0x03;
	put32(want, 4, 0xffffffff);
	expect_sqe(&sqe, want);
}

static void
test_get_log_page_small(void **state)
{
	struct nvme_command sqe = dirty_sqe();
	uint8_t want[64] = { 0 };

	(void)state;
	nvmf_cmd_get_log_page(&sqe, 0x02, 0xffffffff, 0, 512);	/* SMART */
	want[0] = 0x02;
	put32(want, 4, 0xffffffff);
	want[40] = 0x02;			/* CDW10.LID */
	put16(want, 42, 127);			/* CDW10.NUMDL: 128 dwords, zero-based */
	put16(want, 44, 0);			/* CDW11.NUMDU */
	expect_sqe(&sqe, want);
	assert_int_equal(NVME_LOG_NUMD(sqe.cdw10, sqe.cdw11), 127);
}

static void
test_get_log_page_splits_numd_and_offset(void **state)
{
	struct nvme_command sqe = dirty_sqe();
	uint8_t want[64] = { 0 };

	(void)state;
	/* 512 KiB: NUMD 0x1ffff -> NUMDL 0xffff, NUMDU 0x0001. */
	nvmf_cmd_get_log_page(&sqe, 0x70, 0, 0x100000200ull, 512 * 1024);
	want[0] = 0x02;
	want[40] = 0x70;
	put16(want, 42, 0xffff);		/* NUMDL */
	put16(want, 44, 0x0001);		/* NUMDU */
	put32(want, 48, 0x00000200);		/* CDW12: LPOL */
	put32(want, 52, 0x00000001);		/* CDW13: LPOU */
	expect_sqe(&sqe, want);
	assert_int_equal(NVME_LOG_NUMD(sqe.cdw10, sqe.cdw11), 0x1ffff);
	assert_int_equal(NVME_LOG_LID(sqe.cdw10), 0x70);

	/* Exactly 64 Ki dwords: NUMDL 0xffff, NUMDU 0. */
	sqe = dirty_sqe();
	nvmf_cmd_get_log_page(&sqe, 0x70, 0, 4096, 256 * 1024);
	put16(want, 42, 0xffff);
	put16(want, 44, 0);
	put32(want, 48, 4096);
	put32(want, 52, 0);
	expect_sqe(&sqe, want);
}

static void
test_set_features(void **state)
{
	struct nvme_command sqe = dirty_sqe();
	uint8_t want[64] = { 0 };

	(void)state;
	nvmf_cmd_set_features(&sqe, 0x07, NVME_FEAT_NUM_QUEUES_VALUE(4, 4));
	want[0] = 0x09;
	want[40] = 0x07;			/* CDW10.FID, SV clear */
	put32(want, 44, 0x00030003);		/* CDW11: NCQR | NSQR, zero-based */
	expect_sqe(&sqe, want);

	sqe = dirty_sqe();
	nvmf_cmd_set_features(&sqe, 0x0f, 120000);	/* KATO */
	want[40] = 0x0f;
	put32(want, 44, 120000);
	expect_sqe(&sqe, want);
}

static void
test_get_features(void **state)
{
	struct nvme_command sqe = dirty_sqe();
	uint8_t want[64] = { 0 };

	(void)state;
	nvmf_cmd_get_features(&sqe, 0x06);	/* volatile write cache */
	want[0] = 0x0a;
	want[40] = 0x06;			/* FID, SEL 0 (current) */
	expect_sqe(&sqe, want);
	assert_int_equal(NVME_FEAT_SEL(sqe.cdw10), 0);
	assert_int_equal(NVME_FEAT_FID(sqe.cdw10), 6);
}

static void
test_keep_alive(void **state)
{
	struct nvme_command sqe = dirty_sqe();
	uint8_t want[64] = { 0 };

	(void)state;
	nvmf_cmd_keep_alive(&sqe);
	want[0] = 0x18;
	expect_sqe(&sqe, want);
}

/* -------------------------------------------------------------- I/O commands */

static void
test_read_write(void **state)
{
	struct nvme_command sqe = dirty_sqe();
	uint8_t want[64] = { 0 };

	(void)state;
	nvmf_cmd_rw(&sqe, 0x02, 1, 0x123456789aull, 8);
	want[0] = 0x02;
	put32(want, 4, 1);
	put32(want, 40, 0x3456789a);		/* CDW10: SLBA low */
	put32(want, 44, 0x12);			/* CDW11: SLBA high */
	put16(want, 48, 7);			/* CDW12.NLB, zero-based */
	expect_sqe(&sqe, want);

	sqe = dirty_sqe();
	nvmf_cmd_rw(&sqe, 0x01, 0xfffffffe, 0, 65536);
	memset(want, 0, sizeof(want));
	want[0] = 0x01;
	put32(want, 4, 0xfffffffe);
	put16(want, 48, 0xffff);		/* 65536 blocks */
	expect_sqe(&sqe, want);

	sqe = dirty_sqe();
	nvmf_cmd_rw(&sqe, 0x01, 2, 0xffffffffffffffffull, 1);
	memset(want, 0, sizeof(want));
	want[0] = 0x01;
	put32(want, 4, 2);
	put32(want, 40, 0xffffffff);
	put32(want, 44, 0xffffffff);
	put16(want, 48, 0);
	expect_sqe(&sqe, want);
}

/* ------------------------------------------------------------------- names */

static void
test_status_strings(void **state)
{
	(void)state;
	assert_string_equal(nvmf_status_string(0x4184), "Connect Invalid Host");
	assert_string_equal(nvmf_status_string(0x0184), "Connect Invalid Host");
	assert_string_equal(nvmf_status_string(0x0000), "Success");
	assert_string_equal(nvmf_status_string(0x0022), "Transient Transport Error");
	assert_string_equal(nvmf_status_string(0x4002), "Invalid Field in Command");
	assert_string_equal(nvmf_status_string(0x0182), "Connect Invalid Parameters");
	assert_string_equal(nvmf_status_string(0x0181), "Connect Controller Busy");
	assert_string_equal(nvmf_status_string(0x0109), "Invalid Log Page");
	assert_string_equal(nvmf_status_string(0x0080), "LBA Out of Range");
	assert_string_equal(nvmf_status_string(0x0101), "Invalid Queue Identifier");
	/* The same SC under another SCT is another status. */
	assert_string_equal(nvmf_status_string(0x0001), "Invalid Command Opcode");
	assert_string_equal(nvmf_status_string(0x0084), "Unknown Status");
	assert_string_equal(nvmf_status_string(0x0702), "Unknown Status");
	assert_string_equal(nvmf_status_string(0x00ff), "Unknown Status");
}

static void
test_pdu_type_names(void **state)
{
	(void)state;
	assert_string_equal(nvmf_pdu_type_name(0x00), "ICReq");
	assert_string_equal(nvmf_pdu_type_name(0x01), "ICResp");
	assert_string_equal(nvmf_pdu_type_name(0x02), "H2CTermReq");
	assert_string_equal(nvmf_pdu_type_name(0x03), "C2HTermReq");
	assert_string_equal(nvmf_pdu_type_name(0x04), "CapsuleCmd");
	assert_string_equal(nvmf_pdu_type_name(0x05), "CapsuleResp");
	assert_string_equal(nvmf_pdu_type_name(0x06), "H2CData");
	assert_string_equal(nvmf_pdu_type_name(0x07), "C2HData");
	assert_string_equal(nvmf_pdu_type_name(0x09), "R2T");
	assert_string_equal(nvmf_pdu_type_name(0x08), "unknown");
	assert_string_equal(nvmf_pdu_type_name(0xff), "unknown");
}

static void
test_fes_strings(void **state)
{
	(void)state;
	assert_string_equal(nvmf_fes_string(0x01), "Invalid PDU Header Field");
	assert_string_equal(nvmf_fes_string(0x02), "PDU Sequence Error");
	assert_string_equal(nvmf_fes_string(0x03), "Header Digest Error");
	assert_string_equal(nvmf_fes_string(0x04), "Data Transfer Out of Range");
	assert_string_equal(nvmf_fes_string(0x05), "Data Transfer Limit Exceeded");
	assert_string_equal(nvmf_fes_string(0x06), "Unsupported Parameter");
	assert_string_equal(nvmf_fes_string(0x00), "Unknown Fatal Error");
	assert_string_equal(nvmf_fes_string(0x07), "Unknown Fatal Error");
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_connect_admin_queue),
		cmocka_unit_test(test_connect_io_queue_disabling_sq_flow_control),
		cmocka_unit_test(test_connect_data_layout),
		cmocka_unit_test(test_connect_data_truncates_long_nqn),
		cmocka_unit_test(test_property_get_four_and_eight_bytes),
		cmocka_unit_test(test_property_set),
		cmocka_unit_test(test_identify),
		cmocka_unit_test(test_get_log_page_small),
		cmocka_unit_test(test_get_log_page_splits_numd_and_offset),
		cmocka_unit_test(test_set_features),
		cmocka_unit_test(test_get_features),
		cmocka_unit_test(test_keep_alive),
		cmocka_unit_test(test_read_write),
		cmocka_unit_test(test_status_strings),
		cmocka_unit_test(test_pdu_type_names),
		cmocka_unit_test(test_fes_strings),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
