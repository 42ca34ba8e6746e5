/* SPDX-License-Identifier: BSD-2-Clause
 * Copyright (c) 2026 The nvmf developers */
/*
 * fuzz_hostd_ns_scan.c - libFuzzer target for nvmf-hostd's namespace scan
 * (hd_ns_scan: the active namespace list, then Identify Namespace for each
 * NSID it names), run once for a hand-off and again for every rescan a
 * namespace-changed AEN asks for. Whatever the target answers (NSIDs out of
 * order, beyond NN, zero or broadcast; an Identify that fails or is short;
 * formats, sizes and block sizes of any value; a target that stops
 * answering halfway), the files hostd shows stay consistent: in NSID order,
 * each usable (block of 512 B to 64 KiB within MDTS, a size that fits
 * off_t), the controller referenced once per file, nothing leaked, and a
 * failed scan says why in one line. hostd never asks Identify for an NSID
 * the list did not give it in range.
 *
 * The target's answers come from the input through hd_admin_sync, which
 * the link wraps (--wrap): the real one hands the command to the loop
 * thread and a queue pair; here the input is the controller.
 *
 * Input: byte 0 the number of scans (1-3), bytes 1-4 NN (LE), byte 5 the
 * MDTS as 4 KiB << (b % 9); then one answer per admin command: a byte c,
 * c == 0xff the controller is gone (-EIO), c & 0x80 an NVMe error status
 * (c & 0x7f), else a 16-bit LE byte count n and n bytes of data (the rest
 * of the buffer zero). The end of the input is a controller gone.
 *
 * fuzz-sources: nvmf-hostd/[a-z]*.c lib/util/[a-z]*.c
 * fuzz-cflags: -Invmf-hostd -Ilib/util -I/usr/include/fuse3
 * fuzz-libs: -ljson-c -lfuse3 -Wl,--wrap=hd_admin_sync
 */
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "daemon_log.h"
#include "hostd.h"
#include "fuzz_check.h"

/* The daemon's globals live in its main.c, which a fuzzer replaces. */
struct hd_loop *hd_loop;
struct hd_rundir hd_rd = { .lock_fd = -1 };

/* The target's answers, consumed in order by the wrapped hd_admin_sync. */
static const uint8_t *answers;
static size_t answers_left;
static uint32_t target_nn;
static uint32_t last_list[1024];

int __wrap_hd_admin_sync(struct hd_loop *loop, struct hd_ctrl *c,
    const struct nvme_command *sqe, void *buf, uint32_t len, struct nvme_completion *cqe);

int
__wrap_hd_admin_sync(struct hd_loop *loop, struct hd_ctrl *c,
    const struct nvme_command *sqe, void *buf, uint32_t len, struct nvme_completion *cqe)
{
	uint8_t code;
	uint32_t n;

	(void)loop;
	(void)c;
	CHECK(sqe->opc == NVME_ADMIN_IDENTIFY);
	if ((sqe->cdw10 & 0xff) == NVME_CNS_NAMESPACE) {
		bool asked = false;

		/* Only an NSID the last list gave, within NN. */
		CHECK(sqe->nsid >= 1 && sqe->nsid <= target_nn && sqe->nsid != 0xffffffff);
		for (unsigned i = 0; i < 1024 && last_list[i] != 0; i++)
			asked |= last_list[i] == sqe->nsid;
		CHECK(asked);
	}
	if (answers_left == 0)
		return -EIO;
	code = *answers++;
	answers_left--;
	if (code == 0xff)
		return -EIO;
	memset(cqe, 0, sizeof(*cqe));
	if (code & 0x80) {
		cqe->status = (uint16_t)((code & 0x7f) << 1);
		return 0;
	}
	if (answers_left < 2) {
		answers_left = 0;
		return -EIO;
	}
	n = (uint32_t)answers[0] | (uint32_t)answers[1] << 8;
	answers += 2;
	answers_left -= 2;
	if (n > len)
		n = len;
	if (n > answers_left)
		n = (uint32_t)answers_left;
	memcpy(buf, answers, n);
	answers += n;
	answers_left -= n;
	if ((sqe->cdw10 & 0xff) == NVME_CNS_ACTIVE_NS_LIST)
		memcpy(last_list, buf, sizeof(last_list));
	return 0;
}

/* What a user of the files relies on, after every scan. */
static void
check_namespaces(struct hd_ctrl *c, uint32_t max_transfer)
{
	uint32_t prev = 0;
	int files = 0;

	for (struct hd_namespace *ns = c->namespaces; ns != NULL; ns = ns->next) {
		char name[32];

		CHECK(ns->nsid > prev && ns->nsid <= target_nn);
		prev = ns->nsid;
		CHECK(ns->lba_shift >= 9 && ns->lba_shift <= 16);
		CHECK((1u << ns->lba_shift) <= max_transfer);
		CHECK(ns->nlbas > 0 && ns->nlbas <= ((uint64_t)INT64_MAX >> ns->lba_shift));
		CHECK(ns->ctrl == c && ns->refs >= 1 && !ns->gone);
		snprintf(name, sizeof(name), "%sns%u", c->name, ns->nsid);
		CHECK(strcmp(ns->name, name) == 0);
		files++;
	}
	CHECK(c->refs == 1 + files);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static bool quiet;
	struct hd_ctrl *c;
	unsigned scans;
	uint32_t max_transfer;
	char err[256];

	if (!quiet) {
		daemon_log_init("fuzz", false, 0);	/* not a line per refusal on stderr */
		quiet = true;
	}
	if (size < 6)
		return 0;
	scans = 1 + data[0] % 3;
	target_nn = (uint32_t)data[1] | (uint32_t)data[2] << 8 | (uint32_t)data[3] << 16 |
	    (uint32_t)data[4] << 24;
	max_transfer = 4096u << (data[5] % 9);
	answers = data + 6;
	answers_left = size - 6;
	memset(last_list, 0, sizeof(last_list));

	c = calloc(1, sizeof(*c));
	if (c == NULL)
		return 0;
	snprintf(c->name, sizeof(c->name), "nvme0");
	c->refs = 1;
	c->state = HD_CTRL_CONNECTED;
	c->id.nn = target_nn;
	c->max_transfer = max_transfer;
	pthread_mutex_init(&c->scan_lock, NULL);

	for (unsigned i = 0; i < scans; i++) {
		err[0] = '\0';
		if (hd_ns_scan(c, err, sizeof(err)) != 0)
			CHECK(err[0] != '\0' && strchr(err, '\n') == NULL);
		check_namespaces(c, max_transfer);
	}
	hd_ns_remove_all(c);
	CHECK(c->refs == 1 && c->namespaces == NULL);
	hd_ctrl_put(c);		/* frees it: a leak of a namespace would show here */
	return 0;
}
