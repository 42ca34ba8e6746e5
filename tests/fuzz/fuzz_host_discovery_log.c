/* SPDX-License-Identifier: BSD-2-Clause
 * Copyright (c) 2026 The nvmf developers */
/*
 * fuzz_host_discovery_log.c - libFuzzer target for libnvmf's reading of a
 * discovery log (nvmf_host_discovery_log, what nvmecontrol discover and
 * connect-all and every program on the library use): the header first, then
 * the records in chunks, again while the generation counter moves. A real
 * host queue pair talks to a real controller queue pair over a socketpair;
 * the controller (on its own thread) serves the log the input holds, which
 * may claim any record count, change between reads, fail a command or send
 * less data than asked. Either the read fails with one line saying why, or
 * the log returned is one the target held still: no more than 4096 records,
 * every one of them in the buffer (ASan sees each byte read), header and
 * generation consistent. The host asks only for dword-aligned chunks within
 * the log it was told of, none over 64 KiB.
 *
 * Input: byte 0 flags (bit 0: the log changes on each read of its start,
 * byte 1 % 16 times; bit 1: its record count grows with it), byte 2 the
 * command (1-based) answered with an error, 0 none; byte 3 the command
 * whose data is cut short, 0 none; then the log page as the target holds
 * it (header and records, zero past the input's end).
 *
 * The library alone: run-fuzz.sh links every lib/libnvmf source.
 */
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "nvmf/libnvmf.h"
#include "fuzz_check.h"

#define TIMEOUT_MS	2000

struct target {
	const uint8_t *log;		/* the log page as the target holds it */
	size_t log_len;
	uint8_t flags;
	unsigned changes_left;		/* times its start may still change */
	uint64_t genctr_add, numrec_add;
	unsigned fail_at, short_at;	/* 1-based command numbers, 0 never */
	unsigned commands;
	uint64_t asked_numrec;		/* the count the host was last told */
	struct nvmf_qpair *qp;
};

static uint8_t
log_byte(const struct target *t, uint64_t off)
{
	uint64_t v;

	/* The header's genctr and numrec move as the flags say. */
	if (off < 8) {
		v = t->genctr_add;
		for (unsigned i = 0; i < 8; i++)
			v += (uint64_t)(i < t->log_len ? t->log[i] : 0) << (8 * i);
		return (uint8_t)(v >> (8 * off));
	}
	if (off < 16) {
		v = t->numrec_add;
		for (unsigned i = 8; i < 16; i++)
			v += (uint64_t)(i < t->log_len ? t->log[i] : 0) << (8 * (i - 8));
		return (uint8_t)(v >> (8 * (off - 8)));
	}
	return off < t->log_len ? t->log[off] : 0;
}

static void
serve(void *arg, struct nvmf_capsule *nc)
{
	struct target *t = arg;
	const struct nvme_command *sqe = nvmf_capsule_sqe(nc);
	uint32_t len = nvmf_capsule_data_len(nc), numd;
	uint64_t off;
	uint8_t *data;

	t->commands++;
	CHECK(sqe->opc == NVME_ADMIN_GET_LOG_PAGE && (sqe->cdw10 & 0xff) == NVME_LOG_DISCOVERY);
	numd = ((sqe->cdw10 >> 16) | (sqe->cdw11 & 0xffff) << 16) + 1;
	off = sqe->cdw12 | (uint64_t)sqe->cdw13 << 32;
	CHECK(len == numd * 4 && len <= 64 * 1024 && off % 4 == 0);
	if (off == 0 && len == 1024) {
		/* The header alone: the log may have changed since the last one. */
		if (t->changes_left > 0 && t->commands > 1) {
			t->changes_left--;
			t->genctr_add++;
			if (t->flags & 2)
				t->numrec_add++;
		}
		t->asked_numrec = 0;
		for (unsigned i = 0; i < 8; i++)
			t->asked_numrec |= (uint64_t)log_byte(t, 8 + i) << (8 * i);
	} else {
		/* The host reads no further than the count it was told. */
		CHECK(t->asked_numrec <= 4096);
		CHECK(off + len <= 1024 + t->asked_numrec * 1024);
	}
	if (t->commands == t->fail_at) {
		nvmf_capsule_complete(nc, NVME_SC_INTERNAL << 1, 0, 0, 0);
		return;
	}
	data = nvmf_capsule_data(nc);
	if (data == NULL) {
		nvmf_capsule_complete(nc, NVME_SC_INTERNAL << 1, 0, 0, 0);
		return;
	}
	for (uint32_t i = 0; i < len; i++)
		data[i] = log_byte(t, off + i);
	nvmf_capsule_complete(nc, 0, 0, 0, t->commands == t->short_at ? len / 2 : len);
}

struct accept_job {
	struct nvmf_association *na;
	int fd;
	struct target *t;
};

/* The controller: accept, then serve until the host goes away. */
static void *
controller_thread(void *arg)
{
	struct accept_job *j = arg;
	char err[256];

	j->t->qp = nvmf_controller_qpair_accept(j->na, j->fd, TIMEOUT_MS, err, sizeof(err));
	if (j->t->qp == NULL) {
		close(j->fd);
		return NULL;
	}
	nvmf_controller_qpair_setup(j->t->qp, 0, 32, true);
	nvmf_controller_set_handler(j->t->qp, serve, j->t);
	while (nvmf_qpair_poll(j->t->qp, TIMEOUT_MS) == 0)
		;
	return NULL;
}

static struct nvmf_association *
association(bool controller)
{
	struct nvmf_association_params p = {
		.size = sizeof(p),
		.controller = controller,
		.sq_flow_control = true,
		.max_h2c_data = 64 * 1024,
		.max_transfer = 64 * 1024,
	};
	char err[256];

	return nvmf_association_create(&p, err, sizeof(err));
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct nvmf_association *hna, *cna;
	struct target t = { 0 };
	struct nvmf_discovery_log_header *log = NULL;
	struct accept_job job;
	struct nvmf_qpair *host;
	pthread_t th;
	char err[256];
	int sv[2];

	if (size < 4 || size > 64 * 1024)
		return 0;
	if (hna == NULL) {
		hna = association(false);
		cna = association(true);
		CHECK(hna != NULL && cna != NULL);
	}
	t.flags = data[0];
	t.changes_left = (data[0] & 1) ? data[1] % 16 : 0;
	t.fail_at = data[2];
	t.short_at = data[3];
	t.log = data + 4;
	t.log_len = size - 4;
	CHECK(socketpair(AF_UNIX, SOCK_STREAM, 0, sv) == 0);
	job = (struct accept_job){ .na = cna, .fd = sv[1], .t = &t };
	CHECK(pthread_create(&th, NULL, controller_thread, &job) == 0);
	host = nvmf_host_qpair_create(hna, sv[0], 32, true, TIMEOUT_MS, err, sizeof(err));
	CHECK(host != NULL);

	err[0] = '\0';
	if (nvmf_host_discovery_log(host, &log, TIMEOUT_MS, err, sizeof(err)) == 0) {
		uint64_t sum = 0;

		CHECK(log != NULL && log->numrec <= 4096);
		/* What the target held when it stopped changing. */
		CHECK(log->numrec == t.asked_numrec);
		for (uint64_t i = 0; i < log->numrec * sizeof(struct nvmf_discovery_log_entry); i++)
			sum += ((const uint8_t *)(log + 1))[i];
		(void)sum;
		free(log);
	} else {
		CHECK(err[0] != '\0' && strchr(err, '\n') == NULL);
	}
	nvmf_qpair_free(host);	/* the controller sees the end and stops */
	pthread_join(th, NULL);
	if (t.qp != NULL)
		nvmf_qpair_free(t.qp);
	return 0;
}
