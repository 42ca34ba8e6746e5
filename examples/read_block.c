/* SPDX-License-Identifier: BSD-2-Clause
 * Copyright (c) 2026 The nvmf developers */
/*
 * read_block.c - the shortest whole use of libnvmf: connect to an NVMe/TCP
 * subsystem, read one logical block of a namespace, print it in hex,
 * disconnect. It uses only the installed header <nvmf/libnvmf.h>:
 *
 *   cc read_block.c $(pkg-config --cflags --libs libnvmf) -o read_block
 *   ./read_block 127.0.0.1 4420 nqn.2014-08.org.example:disk [NSID [LBA]]
 *
 * Exit status: 0 the block was read, 1 anything failed (one line says what).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <nvmf/libnvmf.h>

#define TIMEOUT_MS	5000
#define HOSTNQN		"nqn.2014-08.org.nvmexpress:uuid:5d1b7a5e-8c1f-4d2a-9b3c-0e6f7a8b9c0d"

static int
fail(const char *what, const char *err)
{
	fprintf(stderr, "read_block: %s: %s\n", what, err);
	return 1;
}

/* One queue (admin when qid is 0) on a new connection. */
static struct nvmf_qpair *
open_queue(struct nvmf_association *na, const char *addr, const char *port,
    struct nvmf_connect_params *cp, uint16_t qid, char *err, size_t errlen)
{
	struct nvmf_qpair *qp;
	uint16_t cntlid;
	int fd = nvmf_tcp_dial(addr, port, TIMEOUT_MS, err, errlen);

	if (fd < 0)
		return NULL;
	qp = nvmf_host_connect_queue(na, fd, cp, qid, qid == 0 ? 32 : 8, &cntlid, NULL, err,
	    errlen);
	if (qp == NULL) {
		close(fd);
		return NULL;
	}
	cp->cntlid = cntlid;	/* the I/O queue joins the admin queue's controller */
	return qp;
}

int
main(int argc, char **argv)
{
	struct nvmf_association_params ap = { .size = sizeof(ap), .sq_flow_control = true };
	struct nvmf_connect_params cp = { .size = sizeof(cp), .hostnqn = HOSTNQN,
	    .cntlid = NVMF_CNTLID_DYNAMIC, .kato_ms = 30000, .timeout_ms = TIMEOUT_MS };
	struct nvme_identify_namespace *ns = NULL;
	struct nvmf_association *na;
	struct nvmf_qpair *admin = NULL, *io = NULL;
	struct nvme_completion cqe;
	struct nvme_command sqe;
	uint32_t nsid = 1, queues = 1, block;
	uint64_t lba = 0;
	unsigned char *data = NULL;
	char err[256];
	int rc = 1;

	if (argc < 4 || argc > 6) {
		fprintf(stderr, "usage: read_block ADDRESS PORT SUBNQN [NSID [LBA]]\n");
		return 1;
	}
	cp.subnqn = argv[3];
	if (argc > 4)
		nsid = (uint32_t)strtoul(argv[4], NULL, 10);
	if (argc > 5)
		lba = strtoull(argv[5], NULL, 10);
	memcpy(cp.hostid, "\x5d\x1b\x7a\x5e\x8c\x1f\x4d\x2a\x9b\x3c\x0e\x6f\x7a\x8b\x9c\x0d", 16);

	na = nvmf_association_create(&ap, err, sizeof(err));
	if (na == NULL)
		return fail("association", err);
	admin = open_queue(na, argv[1], argv[2], &cp, 0, err, sizeof(err));
	if (admin == NULL) {
		fail("admin queue", err);
		goto out;
	}
	if (nvmf_host_enable_controller(admin, TIMEOUT_MS, err, sizeof(err)) != 0 ||
	    nvmf_host_request_queues(admin, &queues, TIMEOUT_MS, err, sizeof(err)) != 0) {
		fail("controller", err);
		goto out;
	}
	/* The block size is the namespace's current LBA format. */
	ns = malloc(sizeof(*ns));
	nvmf_cmd_identify(&sqe, NVME_CNS_NAMESPACE, nsid);
	if (ns == NULL || nvmf_host_admin_read(admin, &sqe, ns, sizeof(*ns), NULL, TIMEOUT_MS,
	    err, sizeof(err)) != 0) {
		fail("Identify Namespace", ns == NULL ? "out of memory" : err);
		goto out;
	}
	block = 1u << ns->lbaf[ns->flbas & 0xf].lbads;
	if (ns->nsze == 0 || block < 512 || block > 65536 || lba >= ns->nsze) {
		fail("namespace", "no such block");
		goto out;
	}
	io = open_queue(na, argv[1], argv[2], &cp, 1, err, sizeof(err));
	if (io == NULL) {
		fail("I/O queue", err);
		goto out;
	}
	data = malloc(block);
	nvmf_cmd_rw(&sqe, NVME_IO_READ, nsid, lba, 1);
	if (data == NULL || nvmf_host_execute(io, &sqe, data, block, false, &cqe,
	    TIMEOUT_MS) != 0) {
		fail("Read", data == NULL ? "out of memory" : nvmf_qpair_error(io));
		goto out;
	}
	if (NVME_CQE_STATUS(cqe.status) != 0) {
		fail("Read", nvmf_status_string(NVME_CQE_STATUS(cqe.status)));
		goto out;
	}
	for (uint32_t i = 0; i < block; i++)
		printf("%02x%s", data[i], i % 32 == 31 ? "\n" : "");
	rc = 0;
out:
	if (io != NULL)
		nvmf_qpair_free(io);
	if (admin != NULL) {
		nvmf_host_shutdown_controller(admin, TIMEOUT_MS);
		nvmf_qpair_free(admin);
	}
	nvmf_association_free(na);
	free(data);
	free(ns);
	return rc;
}
