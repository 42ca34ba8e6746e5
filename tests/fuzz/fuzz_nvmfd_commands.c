/* SPDX-License-Identifier: BSD-2-Clause
 * Copyright (c) 2026 The nvmf developers */
/*
 * fuzz_nvmfd_commands.c - libFuzzer target for nvmfd's command handling:
 * admin, fabrics and I/O commands on a RAM namespace, served by nvmfd's own
 * connection code on a socket pair. The harness does the handshake (ICReq,
 * Connect, CC.EN) so that the fuzzed commands reach the handlers, then sends
 * each 64 bytes of input as the SQE of a well-framed command capsule, with
 * in-capsule data when the SQE asks for some. nvmfd must answer or end the
 * connection; never crash, hang, leak or touch memory it does not own.
 *
 * Input: byte 0 picks the queue (even: admin, odd: I/O queue 1), the rest
 * is SQEs (a short last one is zero-filled).
 *
 * fuzz-sources: nvmfd/[a-z]*.c lib/util/[a-z]*.c
 * fuzz-cflags: -Invmfd -Ilib/util
 * fuzz-libs: -ljson-c -luring
 */
#include <poll.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "nvmf_pdu.h"
#include "nvmfd.h"
#include "fuzz_check.h"

#define SUBNQN	"nqn.2014-08.org.example:fuzz"
#define HOSTNQN	"nqn.2014-08.org.example:host"
#define ICD_MAX	4096

static struct nvmfd_config cfg;
static struct nvmfd_listener listener;
static struct nvmfd_port port = { .id = 1, .port = 4420 };

static void
setup_once(void)
{
	static char dev[] = "ramdisk:1M";
	static char *devs[] = { dev };
	struct nvmfd_options o = { .discovery_port = 0, .subnqn = SUBNQN, .devices = devs,
	    .ndevices = 1 };
	struct nvmf_association_params params = { .size = sizeof(params),
	    .controller = true, .header_digests = true, .data_digests = true,
	    .max_h2c_data = 65536, .io_icd_size = ICD_MAX, .max_transfer = NVMFD_MAX_TRANSFER };
	char err[256];

	for (int i = 0; i < NVMFD_NLIMITS; i++)
		o.limit[i] = -1;
	CHECK(nvmfd_config_from_options(&cfg, &o, err, sizeof(err)) == 0);
	nvmfd_config_resolve(&cfg, &o);
	listener.port = &port;
	listener.cfg = &cfg;
	listener.na = nvmf_association_create(&params, err, sizeof(err));
	CHECK(listener.na != NULL);
	daemon_log_init("fuzz", false, 0);	/* to syslog: not the fuzzer's output */
}

static void
send_all(int fd, const void *buf, size_t len)
{
	const uint8_t *p = buf;

	while (len > 0) {
		ssize_t n = send(fd, p, len, MSG_NOSIGNAL);

		if (n <= 0)
			return;		/* nvmfd ended the connection: fine */
		p += n;
		len -= (size_t)n;
	}
}

/* Reads until n bytes came or the peer is gone; false when it is gone early. */
static bool
recv_n(int fd, size_t n)
{
	uint8_t buf[4096];

	while (n > 0) {
		struct pollfd pfd = { .fd = fd, .events = POLLIN };
		ssize_t got;

		if (poll(&pfd, 1, 5000) <= 0)
			return false;
		got = recv(fd, buf, n < sizeof(buf) ? n : sizeof(buf), 0);
		if (got <= 0)
			return false;
		n -= (size_t)got;
	}
	return true;
}

static bool
recv_exact(int fd, uint8_t *buf, size_t n)
{
	while (n > 0) {
		struct pollfd pfd = { .fd = fd, .events = POLLIN };
		ssize_t got;

		if (poll(&pfd, 1, 5000) <= 0)
			return false;
		got = recv(fd, buf, n, 0);
		if (got <= 0)
			return false;
		buf += got;
		n -= (size_t)got;
	}
	return true;
}

static void
send_capsule(int fd, const struct nvme_command *sqe, const void *data, uint32_t len)
{
	uint8_t pdu[NVMF_PDU_MAX_PREFIX];
	uint32_t n = nvmf_pdu_encode_capsule_cmd(pdu, sqe, false, false, 0, len);

	send_all(fd, pdu, n);
	if (len > 0)
		send_all(fd, data, len);
}

/* A new connection served by nvmfd's thread; ICReq/ICResp done. */
static int
open_queue(void)
{
	struct sockaddr_storage peer = { .ss_family = AF_UNIX };
	uint8_t pdu[128];
	int sv[2];

	CHECK(socketpair(AF_UNIX, SOCK_STREAM, 0, sv) == 0);
	nvmfd_conn_spawn(&listener, sv[1], &peer);
	send_all(sv[0], pdu, nvmf_pdu_encode_icreq(pdu, 0, false, false, 0));
	if (!recv_n(sv[0], 128)) {
		close(sv[0]);
		return -1;
	}
	return sv[0];
}

/* Connect; the controller ID it returned, or -1 when refused or gone. */
static int
connect_queue(int fd, uint16_t qid, uint16_t cntlid)
{
	uint8_t rsp[24];
	uint16_t status;
	uint32_t cdw0;
	static const uint8_t hostid[16] = { 1, 2, 3 };
	struct nvmf_connect_data d;
	struct nvme_command sqe;

	memset(&sqe, 0, sizeof(sqe));
	nvmf_cmd_connect(&sqe, qid, 31, 0, false);
	sqe.sgl.type = NVME_SGL_ICD;
	sqe.sgl.length = sizeof(d);
	nvmf_connect_data_init(&d, hostid, cntlid, SUBNQN, HOSTNQN);
	send_capsule(fd, &sqe, &d, sizeof(d));
	if (!recv_exact(fd, rsp, sizeof(rsp)) || rsp[0] != NVME_TCP_PDU_CAPSULE_RESP)
		return -1;
	memcpy(&cdw0, rsp + 8, sizeof(cdw0));
	memcpy(&status, rsp + 8 + 14, sizeof(status));
	return (status >> 1) == 0 ? (int)(cdw0 & 0xffff) : -1;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static bool ready;
	struct nvme_command sqe;
	static uint8_t icd[ICD_MAX];
	int admin, io = -1, fd, cntlid;

	if (size < 1 || size > 64 * 64)
		return 0;
	if (!ready) {
		setup_once();
		ready = true;
	}
	admin = open_queue();
	if (admin < 0 || (cntlid = connect_queue(admin, 0, NVMF_CNTLID_DYNAMIC)) < 0)
		goto out;
	memset(&sqe, 0, sizeof(sqe));
	nvmf_cmd_property_set(&sqe, NVME_REG_CC, false, NVME_CC_EN |
	    (6u << NVME_CC_IOSQES_SHIFT) | (4u << NVME_CC_IOCQES_SHIFT));
	send_capsule(admin, &sqe, NULL, 0);
	if (!recv_n(admin, 24))
		goto out;
	fd = admin;
	if (data[0] & 1) {
		io = open_queue();
		if (io < 0 || connect_queue(io, 1, (uint16_t)cntlid) < 0)
			goto out;
		fd = io;
	}
	for (size_t off = 1; off < size; off += 64) {
		size_t n = size - off < 64 ? size - off : 64;

		memset(&sqe, 0, sizeof(sqe));
		memcpy(&sqe, data + off, n);
		sqe.flags = (uint8_t)((sqe.flags & 0x3f) | 0x40);	/* SGL, as fabrics needs */
		/* Data travels in the capsule (up to ICD_MAX) or not at all. */
		if (sqe.sgl.type == NVME_SGL_ICD) {
			uint32_t len = sqe.sgl.length % (ICD_MAX + 1);

			sqe.sgl.length = len;
			sqe.sgl.address = 0;
			memset(icd, 0xa5, len);
			send_capsule(fd, &sqe, icd, len);
		} else {
			send_capsule(fd, &sqe, NULL, 0);
		}
	}
out:
	/* Our side ends; nvmfd's threads end theirs and free what they held. */
	if (io >= 0)
		shutdown(io, SHUT_WR);
	if (admin >= 0)
		shutdown(admin, SHUT_WR);
	CHECK(nvmfd_conns_stop(10000));
	if (io >= 0)
		close(io);
	if (admin >= 0)
		close(admin);
	return 0;
}
