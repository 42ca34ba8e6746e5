/* SPDX-License-Identifier: BSD-2-Clause
 * Copyright (c) 2026 The nvmf developers */
/*
 * make_corpus.c - writes the seed corpora of the fuzzers under
 * tests/fuzz/corpus/ from the library's own encoders: valid PDU streams for
 * fuzz_pdu_rx, valid headers with matching rules for fuzz_pdu_check.
 *
 *   cc -std=gnu11 -D_GNU_SOURCE -Iinclude -Ilib/libnvmf tests/fuzz/make_corpus.c \
 *       lib/libnvmf/[a-z]*.c -o /tmp/make_corpus -lisal -pthread && /tmp/make_corpus
 *
 * The seeds are committed; run this again only when the formats change.
 */
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "nvmf/libnvmf.h"
#include "nvmf_pdu.h"

struct stream {
	uint8_t buf[80000];
	size_t len;
};

static void
put(struct stream *s, const void *p, size_t n)
{
	if (s->len + n > sizeof(s->buf))
		abort();
	memcpy(s->buf + s->len, p, n);
	s->len += n;
}

static void
save(const char *dir, const char *name, const struct stream *s)
{
	char path[512];
	FILE *f;

	snprintf(path, sizeof(path), "tests/fuzz/corpus/%s/%s", dir, name);
	f = fopen(path, "wb");
	if (f == NULL || fwrite(s->buf, 1, s->len, f) != s->len || fclose(f) != 0) {
		perror(path);
		exit(1);
	}
}

static struct nvme_command
sqe_of(uint8_t opc, uint16_t cid, uint8_t sgl_type, uint32_t len)
{
	struct nvme_command sqe;

	memset(&sqe, 0, sizeof(sqe));
	sqe.opc = opc;
	sqe.flags = NVME_PSDT_SGL_MPTR_CONTIG << NVME_CMD_PSDT_SHIFT;
	sqe.cid = cid;
	sqe.nsid = 1;
	sqe.sgl.type = sgl_type;
	sqe.sgl.length = len;
	return sqe;
}

/* A CapsuleCmd with optional in-capsule data, digests as negotiated. */
static void
capsule(struct stream *s, const struct nvme_command *sqe, uint32_t icd, bool hd, bool dd)
{
	uint8_t hdr[NVMF_PDU_MAX_PREFIX], data[4096];
	uint32_t crc;

	memset(data, 0xa5, sizeof(data));
	put(s, hdr, nvmf_pdu_encode_capsule_cmd(hdr, sqe, hd, dd, 0, icd));
	if (icd > 0) {
		put(s, data, icd);
		crc = nvmf_crc32c(data, icd);
		if (dd)
			put(s, &crc, 4);
	}
}

static void
h2c(struct stream *s, uint16_t cid, uint16_t ttag, uint32_t off, uint32_t len, bool last)
{
	uint8_t hdr[NVMF_PDU_MAX_PREFIX], data[4096];

	memset(data, 0x3c, sizeof(data));
	put(s, hdr, nvmf_pdu_encode_h2c_data(hdr, cid, ttag, off, len, last, false, false, 0));
	put(s, data, len);
}

static void
c2h(struct stream *s, uint16_t cid, uint32_t off, uint32_t len, bool last, bool success)
{
	static uint8_t data[65536];
	uint8_t hdr[NVMF_PDU_MAX_PREFIX];

	put(s, hdr, nvmf_pdu_encode_c2h_data(hdr, cid, off, len, last, success, false,
	    false, 0));
	put(s, data, len);
}

static void
resp(struct stream *s, uint16_t cid, uint16_t sqhd)
{
	uint8_t hdr[NVMF_PDU_MAX_PREFIX];
	struct nvme_completion cqe = { .cid = cid, .sqhd = sqhd, .sqid = 1 };

	put(s, hdr, nvmf_pdu_encode_capsule_resp(hdr, &cqe, false));
}

static void
rx_seeds(void)
{
	static struct stream s;
	struct nvme_command sqe;
	uint8_t hdr[NVMF_PDU_MAX_PREFIX];
	uint8_t cfg;

	/* Byte 0 of each seed: fuzz_pdu_rx's connection settings. */
	s.len = 0, cfg = 0x00, put(&s, &cfg, 1);
	sqe = sqe_of(NVME_ADMIN_KEEP_ALIVE, 3, 0, 0);
	capsule(&s, &sqe, 0, false, false);
	save("fuzz_pdu_rx", "cmd_keep_alive", &s);

	s.len = 0, put(&s, &cfg, 1);
	sqe = sqe_of(NVME_IO_WRITE, 1, NVME_SGL_ICD, 512);
	capsule(&s, &sqe, 512, false, false);
	save("fuzz_pdu_rx", "cmd_write_in_capsule", &s);

	s.len = 0, put(&s, &cfg, 1);
	sqe = sqe_of(NVME_IO_WRITE, 2, NVME_SGL_TRANSPORT, 8192);
	capsule(&s, &sqe, 0, false, false);
	h2c(&s, 2, 0, 0, 4096, false);
	h2c(&s, 2, 0, 4096, 4096, true);
	save("fuzz_pdu_rx", "cmd_write_r2t_h2c_data", &s);

	s.len = 0, put(&s, &cfg, 1);
	sqe = sqe_of(NVME_IO_READ, 4, NVME_SGL_TRANSPORT, 4096);
	sqe.cdw11 = 1000;			/* answered with 1000 bytes */
	capsule(&s, &sqe, 0, false, false);
	sqe = sqe_of(NVME_IO_READ, 5, NVME_SGL_TRANSPORT, 512);
	sqe.cdw15 = 1;				/* answered after the stream */
	capsule(&s, &sqe, 0, false, false);
	sqe = sqe_of(NVME_ADMIN_IDENTIFY, 6, NVME_SGL_TRANSPORT, 4096);
	sqe.cdw13 = 1;				/* answered with an error */
	capsule(&s, &sqe, 0, false, false);
	save("fuzz_pdu_rx", "cmd_reads", &s);

	s.len = 0, cfg = 0x01, put(&s, &cfg, 1);
	sqe = sqe_of(NVME_ADMIN_KEEP_ALIVE, 7, 0, 0);
	capsule(&s, &sqe, 0, true, false);
	save("fuzz_pdu_rx", "cmd_header_digest", &s);

	s.len = 0, cfg = 0x03, put(&s, &cfg, 1);
	sqe = sqe_of(NVME_IO_WRITE, 8, NVME_SGL_ICD, 256);
	capsule(&s, &sqe, 256, true, true);
	save("fuzz_pdu_rx", "cmd_both_digests", &s);

	s.len = 0, cfg = 0x20, put(&s, &cfg, 1);	/* one byte per write */
	sqe = sqe_of(NVME_IO_WRITE, 1, NVME_SGL_ICD, 64);
	capsule(&s, &sqe, 64, false, false);
	sqe = sqe_of(NVME_ADMIN_KEEP_ALIVE, 2, 0, 0);
	capsule(&s, &sqe, 0, false, false);
	save("fuzz_pdu_rx", "cmd_byte_by_byte", &s);

	/* What a controller sends to fuzz_pdu_rx's host (CIDs 0-4 exist). */
	s.len = 0, cfg = 0x00, put(&s, &cfg, 1);
	resp(&s, 3, 1);
	c2h(&s, 0, 0, 512, true, false);
	resp(&s, 0, 2);
	put(&s, hdr, nvmf_pdu_encode_r2t(hdr, 1, 9, 0, 8192, false));
	resp(&s, 2, 3);
	save("fuzz_pdu_rx", "host_responses_r2t", &s);

	s.len = 0, cfg = 0x04, put(&s, &cfg, 1);	/* no SQ flow control */
	c2h(&s, 4, 0, 16384, false, false);	/* part of a 64 KiB read */
	c2h(&s, 0, 0, 512, true, true);
	save("fuzz_pdu_rx", "host_success_flag", &s);

	s.len = 0, cfg = 0x00, put(&s, &cfg, 1);
	put(&s, hdr, nvmf_pdu_encode_term_req(hdr, true, NVME_TCP_FES_PDU_SEQUENCE_ERROR,
	    0, NULL, 0));
	save("fuzz_pdu_rx", "c2h_term_req", &s);

	s.len = 0, put(&s, &cfg, 1);
	put(&s, hdr, nvmf_pdu_encode_term_req(hdr, false,
	    NVME_TCP_FES_INVALID_HEADER_FIELD, 2, hdr, 24));
	save("fuzz_pdu_rx", "h2c_term_req", &s);
}

/* fuzz_pdu_check input: rule flags, PDA, data limit, then the header. */
static void
check_seed(const char *name, uint8_t flags, uint8_t pda, uint32_t max_data,
    const uint8_t *hdr, size_t len)
{
	static struct stream s;

	s.len = 0;
	put(&s, &flags, 1);
	put(&s, &pda, 1);
	put(&s, &max_data, 4);
	put(&s, hdr, len);
	save("fuzz_pdu_check", name, &s);
}

static void
check_seeds(void)
{
	enum { CTRL = 1, CONN = 2, HD = 4, DD = 8, REQ_HD = 16, REQ_DD = 32 };
	uint8_t h[NVMF_PDU_MAX_PREFIX + 64];
	struct nvme_command sqe = sqe_of(NVME_IO_WRITE, 1, NVME_SGL_ICD, 512);
	struct nvme_completion cqe = { .cid = 1 };
	uint32_t n;

	memset(h, 0, sizeof(h));
	n = nvmf_pdu_encode_icreq(h, 0, true, true, 0);
	check_seed("icreq", CTRL, 0, 0, h, n);
	n = nvmf_pdu_encode_icresp(h, 0, true, false, 65536);
	check_seed("icresp", REQ_HD | REQ_DD, 0, 0, h, n);
	memset(h, 0, sizeof(h));
	n = nvmf_pdu_encode_capsule_cmd(h, &sqe, true, true, 3, 512);
	check_seed("capsule_cmd_icd", CTRL | CONN | HD | DD, 3, 8192, h, 80);
	n = nvmf_pdu_encode_capsule_cmd(h, &sqe, false, false, 0, 0);
	check_seed("capsule_cmd", CTRL | CONN, 0, 8192, h, n);
	memset(h, 0, sizeof(h));
	n = nvmf_pdu_encode_capsule_resp(h, &cqe, true);
	check_seed("capsule_resp", CONN | HD, 0, 0, h, n + 16);
	memset(h, 0, sizeof(h));
	n = nvmf_pdu_encode_h2c_data(h, 1, 2, 0, 4096, true, false, true, 0);
	check_seed("h2c_data", CTRL | CONN | DD, 0, 4096, h, n + 20);
	memset(h, 0, sizeof(h));
	n = nvmf_pdu_encode_c2h_data(h, 1, 0, 4096, true, true, true, false, 1);
	check_seed("c2h_data_success", CONN | HD, 1, 65536, h, n + 12);
	memset(h, 0, sizeof(h));
	n = nvmf_pdu_encode_r2t(h, 1, 2, 0, 8192, false);
	check_seed("r2t", CONN, 0, 0, h, n + 20);
	memset(h, 0, sizeof(h));
	n = nvmf_pdu_encode_term_req(h, true, NVME_TCP_FES_HEADER_DIGEST_ERROR, 0, NULL, 0);
	check_seed("c2h_term_req", CONN, 0, 0, h, n + 20);
}

int
main(void)
{
	mkdir("tests/fuzz/corpus", 0755);
	mkdir("tests/fuzz/corpus/fuzz_pdu_rx", 0755);
	mkdir("tests/fuzz/corpus/fuzz_pdu_check", 0755);
	rx_seeds();
	check_seeds();
	return 0;
}
