/* SPDX-License-Identifier: BSD-2-Clause
 * Copyright (c) 2026 The nvmf developers */
/*
 * fuzz_pdu_rx.c - libFuzzer target: the input is the byte stream a hostile
 * peer sends after a valid ICReq/ICResp exchange, fed through a socket pair
 * into a real controller-side queue pair and then into a real host-side one.
 *
 * Input: byte 0 chooses the connection (digests, SQ flow control, PDA, how
 * the stream is cut into writes); the rest is the stream. The controller
 * answers every command it gets (some later, after the stream ends); the host
 * has commands of every kind outstanding so CIDs 0-4 exist. Either side may
 * fail the connection; nothing may crash, leak or read out of bounds.
 */
#include <errno.h>
#include <signal.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "nvmf/libnvmf.h"
#include "nvmf_pdu.h"

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

struct config {
	bool hdgst, ddgst, sq_fc;
	uint8_t pda;
	size_t chunk;
};

static struct config
parse_config(uint8_t b)
{
	static const size_t chunks[] = { 65536, 1, 7, 64, 512, 4096, 65536, 24 };
	static const uint8_t pdas[] = { 0, 0, 1, 3 };
	struct config c = {
		.hdgst = b & 0x01, .ddgst = b & 0x02, .sq_fc = !(b & 0x04),
		.pda = pdas[(b >> 3) & 3], .chunk = chunks[(b >> 5) & 7],
	};
	return c;
}

static void
drain(int fd)
{
	static uint8_t sink[65536];

	while (recv(fd, sink, sizeof(sink), MSG_DONTWAIT) > 0)
		;
}

/* Writes the stream into raw piece by piece, letting qp consume it. */
static void
feed(struct nvmf_qpair *qp, int raw, const uint8_t *d, size_t n, size_t chunk)
{
	size_t off = 0;
	unsigned guard = 0;

	while (off < n && !nvmf_qpair_failed(qp) && guard++ < 200000) {
		size_t want = n - off < chunk ? n - off : chunk;
		ssize_t w = send(raw, d + off, want, MSG_DONTWAIT | MSG_NOSIGNAL);

		if (w > 0)
			off += (size_t)w;
		else if (w < 0 && errno != EAGAIN && errno != EINTR)
			break;
		(void)nvmf_qpair_process(qp);
		drain(raw);
	}
	(void)nvmf_qpair_process(qp);
	drain(raw);
}

/* ------------------------------------------------------- controller side */

#define MAX_HELD 32

struct ctrl_state {
	struct nvmf_capsule *held[MAX_HELD];
	unsigned nheld;
};

static void
ctrl_handler(void *arg, struct nvmf_capsule *nc)
{
	struct ctrl_state *s = arg;
	const struct nvme_command *sqe = nvmf_capsule_sqe(nc);
	uint32_t len = nvmf_capsule_data_len(nc), c2h = len;
	uint8_t *buf = nvmf_capsule_data(nc);
	uint16_t status = 0;

	/* The stream decides how each command is answered. */
	if ((sqe->cdw15 & 1) && s->nheld < MAX_HELD) {
		s->held[s->nheld++] = nc;
		return;
	}
	if (buf != NULL && len > 0)
		memset(buf, 0x5a, len);
	if (sqe->cdw11 != 0 && sqe->cdw11 < len)
		c2h = sqe->cdw11;
	if (sqe->cdw13 & 1)
		status = NVME_STATUS(NVME_SCT_GENERIC, NVME_SC_INVALID_FIELD);
	nvmf_capsule_complete(nc, status, sqe->cdw14, 0, c2h);
}

static void
run_controller(const struct config *c, const uint8_t *d, size_t n)
{
	struct nvmf_association_params ap = {
		.size = sizeof(ap), .controller = true, .header_digests = true,
		.data_digests = true, .sq_flow_control = true, .pda = c->pda,
		.max_h2c_data = 4096, .io_icd_size = 4096, .max_transfer = 65536,
	};
	struct ctrl_state s = { .nheld = 0 };
	struct nvmf_association *na;
	struct nvmf_qpair *qp;
	uint8_t buf[NVMF_PDU_MAX_PREFIX];
	char err[256];
	int sv[2];

	na = nvmf_association_create(&ap, err, sizeof(err));
	if (na == NULL)
		abort();
	if (socketpair(AF_UNIX, SOCK_STREAM, 0, sv) != 0)
		abort();
	(void)send(sv[0], buf, nvmf_pdu_encode_icreq(buf, c->pda, c->hdgst, c->ddgst, 0),
	    MSG_NOSIGNAL);
	qp = nvmf_controller_qpair_accept(na, sv[1], 1000, err, sizeof(err));
	nvmf_association_free(na);
	if (qp == NULL)
		abort();			/* a valid ICReq must be accepted */
	drain(sv[0]);
	nvmf_controller_set_handler(qp, ctrl_handler, &s);
	nvmf_controller_qpair_setup(qp, 1, 32, c->sq_fc);

	feed(qp, sv[0], d, n, c->chunk);

	/* Answer what was kept back, whether or not the connection survived. */
	for (unsigned i = 0; i < s.nheld; i++)
		nvmf_capsule_complete(s.held[i], 0, 0, 0, nvmf_capsule_data_len(s.held[i]));
	(void)nvmf_qpair_process(qp);
	drain(sv[0]);
	nvmf_qpair_free(qp);
	close(sv[0]);
}

/* ------------------------------------------------------------- host side */

struct host_state {
	struct nvmf_qpair *qp;
	unsigned resubmits;
	unsigned completions;
};

static uint8_t rbuf0[512], rbuf1[65536], wbuf0[8192], wbuf1[512];

static void
host_done(void *arg, const struct nvme_completion *cqe)
{
	struct host_state *h = arg;
	struct nvme_command sqe;

	h->completions++;
	/* Reuse the slot at once, from inside the callback, a few times. */
	if (cqe != NULL && h->resubmits < 8) {
		h->resubmits++;
		nvmf_cmd_keep_alive(&sqe);
		(void)nvmf_host_submit(h->qp, &sqe, NULL, 0, false, host_done, h);
	}
}

static void
run_host(const struct config *c, const uint8_t *d, size_t n)
{
	struct nvmf_association_params ap = {
		.size = sizeof(ap), .controller = false, .header_digests = c->hdgst,
		.data_digests = c->ddgst, .sq_flow_control = c->sq_fc, .pda = c->pda,
	};
	struct host_state h = { 0 };
	struct nvmf_association *na;
	struct nvme_command sqe;
	uint8_t buf[NVMF_PDU_MAX_PREFIX];
	char err[256];
	int sv[2];

	na = nvmf_association_create(&ap, err, sizeof(err));
	if (na == NULL)
		abort();
	if (socketpair(AF_UNIX, SOCK_STREAM, 0, sv) != 0)
		abort();
	(void)send(sv[1], buf, nvmf_pdu_encode_icresp(buf, c->pda, c->hdgst, c->ddgst,
	    4096), MSG_NOSIGNAL);
	h.qp = nvmf_host_qpair_create(na, sv[0], 8, false, 1000, err, sizeof(err));
	nvmf_association_free(na);
	if (h.qp == NULL)
		abort();			/* a valid ICResp must be accepted */
	nvmf_host_qpair_set_icd_size(h.qp, 1024);

	/* CID 0: read 512; 1: write 8 KiB (R2T); 2: write 512 in the capsule;
	 * 3: no data; 4: read 64 KiB (received in place). */
	nvmf_cmd_rw(&sqe, NVME_IO_READ, 1, 0, 1);
	(void)nvmf_host_submit(h.qp, &sqe, rbuf0, sizeof(rbuf0), false, host_done, &h);
	nvmf_cmd_rw(&sqe, NVME_IO_WRITE, 1, 0, 16);
	(void)nvmf_host_submit(h.qp, &sqe, wbuf0, sizeof(wbuf0), true, host_done, &h);
	nvmf_cmd_rw(&sqe, NVME_IO_WRITE, 1, 0, 1);
	(void)nvmf_host_submit(h.qp, &sqe, wbuf1, sizeof(wbuf1), true, host_done, &h);
	nvmf_cmd_keep_alive(&sqe);
	(void)nvmf_host_submit(h.qp, &sqe, NULL, 0, false, host_done, &h);
	nvmf_cmd_rw(&sqe, NVME_IO_READ, 1, 0, 128);
	(void)nvmf_host_submit(h.qp, &sqe, rbuf1, sizeof(rbuf1), false, host_done, &h);
	(void)nvmf_qpair_process(h.qp);
	drain(sv[1]);

	feed(h.qp, sv[1], d, n, c->chunk);

	nvmf_qpair_free(h.qp);			/* the rest complete with NULL */
	close(sv[1]);
}

int
LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc;
	(void)argv;
	signal(SIGPIPE, SIG_IGN);
	return 0;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct config c;

	if (size < 1)
		return 0;
	c = parse_config(data[0]);
	run_controller(&c, data + 1, size - 1);
	run_host(&c, data + 1, size - 1);
	return 0;
}
