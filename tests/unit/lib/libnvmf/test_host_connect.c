/* SPDX-License-Identifier: BSD-2-Clause
 * Copyright (c) 2026 The nvmf developers */
/*
 * test_host_connect.c - the non-blocking set-up and the callback admin
 * helpers against real controller queue pairs. A target thread accepts
 * the sockets the test's dial function hands it and serves them from a
 * poll group of its own: Connect, properties (CAP, CC, CSTS), Identify,
 * Number of Queues, Get Log Page, reads. Each failure the set-up can meet
 * is a knob on that target.
 */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cmocka.h>

#include "nvmf/libnvmf.h"

#define TIMEOUT_MS	2000
#define CNTLID		7

struct target {
	/* knobs */
	bool digests;			/* permit digests (false: refuse them) */
	uint16_t connect_status;	/* refuse Connect of queues >= connect_fail_qid */
	uint16_t connect_fail_qid;
	bool never_ready;
	bool silent_identify;
	uint32_t grant;			/* I/O queues granted */
	/* state */
	struct nvmf_association *na;
	struct nvmf_poll_group *pg;
	struct nvmf_qpair *qps[16];
	unsigned nqps;
	bool enabled;
	int fds[2];			/* pipe: sockets to accept */
	volatile bool stop;
	pthread_t th;
	struct nvmf_capsule *held;
};

static void
complete(struct nvmf_capsule *nc, uint16_t status, uint64_t value, uint32_t c2h)
{
	nvmf_capsule_complete(nc, status, (uint32_t)value, (uint32_t)(value >> 32), c2h);
}

static void
handler(void *arg, struct nvmf_capsule *nc)
{
	struct target *t = arg;
	const struct nvme_command *sqe = nvmf_capsule_sqe(nc);
	const struct nvmf_fabrics_cmd *f = (const void *)sqe;
	uint8_t *data;

	if (sqe->opc == NVME_ADMIN_FABRICS && f->fctype == NVMF_FCTYPE_CONNECT) {
		const struct nvmf_connect_cmd *c = (const void *)sqe;

		nvmf_controller_qpair_setup(nvmf_capsule_qpair(nc), c->qid,
		    (uint16_t)(c->sqsize + 1), true);
		if (t->connect_status != 0 && c->qid >= t->connect_fail_qid)
			complete(nc, t->connect_status, 0, 0);
		else
			complete(nc, 0, CNTLID, 0);
		return;
	}
	if (sqe->opc == NVME_ADMIN_FABRICS && f->fctype == NVMF_FCTYPE_PROPERTY_GET) {
		const struct nvmf_property_set_cmd *p = (const void *)sqe;
		uint64_t v = 0;

		if (p->ofst == NVME_REG_CAP)
			v = 63 | (1ull << NVME_CAP_TO_SHIFT);	/* MQES 63, CAP.TO 500 ms */
		else if (p->ofst == NVME_REG_CSTS)
			v = t->enabled && !t->never_ready ? NVME_CSTS_RDY : 0;
		complete(nc, 0, v, 0);
		return;
	}
	if (sqe->opc == NVME_ADMIN_FABRICS && f->fctype == NVMF_FCTYPE_PROPERTY_SET) {
		const struct nvmf_property_set_cmd *p = (const void *)sqe;

		if (p->ofst == NVME_REG_CC)
			t->enabled = p->value & NVME_CC_EN;
		complete(nc, 0, 0, 0);
		return;
	}
	if (nvmf_qpair_qid(nvmf_capsule_qpair(nc)) != 0 && sqe->opc == NVME_IO_READ) {
		data = nvmf_capsule_data(nc);
		if (data != NULL)
			memset(data, 0xa5, nvmf_capsule_data_len(nc));
		complete(nc, 0, 0, nvmf_capsule_data_len(nc));
		return;
	}
	switch (sqe->opc) {
	case NVME_ADMIN_IDENTIFY:
		if (t->silent_identify) {
			t->held = nc;
			return;
		}
		data = nvmf_capsule_data(nc);
		if (data != NULL) {
			struct nvme_identify_controller *id = (void *)data;

			id->cntlid = CNTLID;
			id->ioccsz = (64 + 4096) / 16;
			id->cntrltype = 1;
		}
		complete(nc, 0, 0, nvmf_capsule_data_len(nc));
		return;
	case NVME_ADMIN_SET_FEATURES:
		complete(nc, 0, (t->grant - 1) | (uint64_t)(t->grant - 1) << 16, 0);
		return;
	case NVME_ADMIN_GET_LOG_PAGE:
		if ((sqe->cdw10 & 0xff) != 0x02) {
			complete(nc, NVME_STATUS(NVME_SCT_COMMAND_SPECIFIC,
			    NVME_SC_INVALID_LOG_PAGE) | NVME_STATUS_DNR, 0, 0);
			return;
		}
		data = nvmf_capsule_data(nc);
		if (data != NULL)
			memset(data, 0x42, nvmf_capsule_data_len(nc));
		complete(nc, 0, 0, nvmf_capsule_data_len(nc));
		return;
	default:
		complete(nc, 0, 0, 0);
	}
}

static void *
target_thread(void *arg)
{
	struct target *t = arg;

	while (!t->stop) {
		int fd;

		while (read(t->fds[0], &fd, sizeof(fd)) == sizeof(fd)) {
			char err[256];
			struct nvmf_qpair *qp = nvmf_controller_qpair_accept(t->na, fd,
			    TIMEOUT_MS, err, sizeof(err));

			if (qp == NULL) {
				close(fd);	/* a refused handshake: the host sees EOF */
				continue;
			}
			nvmf_controller_set_handler(qp, handler, t);
			assert_int_equal(nvmf_poll_group_add(t->pg, qp), 0);
			t->qps[t->nqps++] = qp;
		}
		(void)nvmf_poll_group_poll(t->pg, 5);
	}
	return NULL;
}

static struct target *
target_start(struct target *t)
{
	struct nvmf_association_params p = { .size = sizeof(p), .controller = true,
	    .sq_flow_control = true, .header_digests = t->digests,
	    .data_digests = t->digests };
	char err[256];

	if (t->grant == 0)
		t->grant = 4;
	t->na = nvmf_association_create(&p, err, sizeof(err));
	t->pg = nvmf_poll_group_create(NULL, NULL, err, sizeof(err));
	assert_non_null(t->na);
	assert_non_null(t->pg);
	assert_int_equal(pipe2(t->fds, O_NONBLOCK | O_CLOEXEC), 0);
	assert_int_equal(pthread_create(&t->th, NULL, target_thread, t), 0);
	return t;
}

static void
target_stop(struct target *t)
{
	t->stop = true;
	pthread_join(t->th, NULL);
	if (t->held != NULL)
		nvmf_capsule_free(t->held);
	for (unsigned i = 0; i < t->nqps; i++)
		nvmf_qpair_free(t->qps[i]);
	nvmf_poll_group_free(t->pg);
	nvmf_association_free(t->na);
	close(t->fds[0]);
	close(t->fds[1]);
}

/* The dial function: one end for the host, the other to the target. */
static int
dial(void *arg, uint16_t qid, char *err, size_t errlen)
{
	struct target *t = arg;
	int sv[2];

	(void)qid;
	if (socketpair(AF_UNIX, SOCK_STREAM, 0, sv) != 0) {
		snprintf(err, errlen, "socketpair: %s", strerror(errno));
		return -1;
	}
	assert_int_equal(write(t->fds[1], &sv[1], sizeof(sv[1])), sizeof(sv[1]));
	return sv[0];
}

struct outcome {
	bool done;
	int rc;
	char err[256];
	struct nvmf_ctrl_connect *cc;
};

static void
connected(void *arg, struct nvmf_ctrl_connect *cc, int rc, const char *err)
{
	struct outcome *o = arg;

	o->done = true;
	o->rc = rc;
	o->cc = cc;
	snprintf(o->err, sizeof(o->err), "%s", err);
}

static struct nvmf_association *
host_na(bool digests)
{
	struct nvmf_association_params p = { .size = sizeof(p), .sq_flow_control = true,
	    .header_digests = digests };
	char err[256];
	struct nvmf_association *na = nvmf_association_create(&p, err, sizeof(err));

	assert_non_null(na);
	return na;
}

static struct nvmf_ctrl_connect_params
params(struct target *t, uint32_t io_queues, int timeout_ms)
{
	struct nvmf_ctrl_connect_params p = { .size = sizeof(p) };

	p.dial = dial;
	p.dial_arg = t;
	p.connect.size = sizeof(p.connect);
	p.connect.subnqn = "nqn.2014-08.org.example:test";
	p.connect.hostnqn = "nqn.2014-08.org.example:host";
	p.connect.kato_ms = 30000;
	p.connect.timeout_ms = timeout_ms;
	p.io_queues = io_queues;
	p.io_qsize = 16;
	return p;
}

/* What a test that took a set-up's queue pairs frees, in order. */
static void
teardown(struct nvmf_ctrl_result *r, struct nvmf_poll_group *pg, struct nvmf_association *na,
    struct target *t)
{
	for (uint32_t i = 0; i < r->nio; i++)
		nvmf_qpair_free(r->io[i]);
	free(r->io);
	nvmf_qpair_free(r->admin);
	nvmf_poll_group_free(pg);
	nvmf_association_free(na);
	target_stop(t);
}

/* Runs a set-up to its end; returns how long it took. */
static long
run_setup(struct nvmf_poll_group *pg, struct nvmf_association *na, struct target *t,
    uint32_t io_queues, int timeout_ms, struct outcome *o)
{
	struct nvmf_ctrl_connect_params p = params(t, io_queues, timeout_ms);
	struct timespec a, b;
	char err[256];
	struct nvmf_ctrl_connect *cc;

	clock_gettime(CLOCK_MONOTONIC, &a);
	cc = nvmf_host_ctrl_connect_async(pg, na, &p, connected, o, err, sizeof(err));
	if (cc == NULL)
		fail_msg("start: %s", err);
	while (!o->done)
		assert_true(nvmf_poll_group_poll(pg, 100) >= 0);
	assert_ptr_equal(o->cc, cc);
	clock_gettime(CLOCK_MONOTONIC, &b);
	return (b.tv_sec - a.tv_sec) * 1000 + (b.tv_nsec - a.tv_nsec) / 1000000;
}

static void
expect_failure(struct target *t, bool host_digests, uint32_t io_queues, int timeout_ms,
    const char *want, long max_ms)
{
	struct nvmf_association *na = host_na(host_digests);
	struct nvmf_poll_group *pg = nvmf_poll_group_create(NULL, NULL, NULL, 0);
	struct outcome o = { 0 };
	long ms;

	assert_non_null(pg);
	target_start(t);
	ms = run_setup(pg, na, t, io_queues, timeout_ms, &o);
	assert_int_equal(o.rc, -1);
	if (strstr(o.err, want) == NULL)
		fail_msg("error \"%s\" does not say \"%s\"", o.err, want);
	assert_true(ms <= max_ms);
	nvmf_ctrl_connect_free(o.cc);
	/* Everything it opened is gone from the group. */
	assert_int_equal(nvmf_poll_group_poll(pg, 0), 0);
	nvmf_poll_group_free(pg);
	nvmf_association_free(na);
	target_stop(t);
}

static void
read_done(void *arg, const struct nvme_completion *cqe)
{
	unsigned *n = arg;

	assert_non_null(cqe);
	assert_int_equal(NVME_CQE_STATUS(cqe->status), 0);
	(*n)++;
}

static void
test_setup_succeeds_and_queues_carry_io(void **state)
{
	struct target t = { .grant = 4 };
	struct nvmf_association *na = host_na(false);
	struct nvmf_poll_group *pg = nvmf_poll_group_create(NULL, NULL, NULL, 0);
	struct nvmf_ctrl_result r = { .size = sizeof(r) };
	struct outcome o = { 0 };
	static uint8_t buf[4][4096];
	struct nvme_command sqe;
	unsigned reads = 0;

	(void)state;
	target_start(&t);
	run_setup(pg, na, &t, 4, TIMEOUT_MS, &o);
	if (o.rc != 0)
		fail_msg("set-up: %s", o.err);
	assert_string_equal(o.err, "");
	assert_int_equal(nvmf_ctrl_connect_take(o.cc, &r), 0);
	assert_int_equal(nvmf_ctrl_connect_take(o.cc, &r), -EINVAL);
	nvmf_ctrl_connect_free(o.cc);
	assert_int_equal(r.cntlid, CNTLID);
	assert_int_equal(NVME_CAP_MQES(r.cap), 63);
	assert_int_equal(r.id.ioccsz, (64 + 4096) / 16);
	assert_int_equal(r.nio, 4);
	assert_int_equal(nvmf_qpair_qid(r.admin), 0);
	for (uint32_t i = 0; i < r.nio; i++) {
		assert_int_equal(nvmf_qpair_qid(r.io[i]), i + 1);
		nvmf_cmd_rw(&sqe, NVME_IO_READ, 1, 0, 8);
		assert_int_equal(nvmf_host_submit(r.io[i], &sqe, buf[i], 4096, false, read_done,
		    &reads), 0);
	}
	while (reads < 4)
		assert_true(nvmf_poll_group_poll(pg, 100) >= 0);
	assert_int_equal(buf[3][4095], 0xa5);
	teardown(&r, pg, na, &t);
}

static void
test_setup_takes_fewer_queues_when_granted_fewer(void **state)
{
	struct target t = { .grant = 2 };
	struct nvmf_association *na = host_na(false);
	struct nvmf_poll_group *pg = nvmf_poll_group_create(NULL, NULL, NULL, 0);
	struct nvmf_ctrl_result r = { .size = sizeof(r) };
	struct outcome o = { 0 };

	(void)state;
	target_start(&t);
	run_setup(pg, na, &t, 4, TIMEOUT_MS, &o);
	assert_int_equal(o.rc, 0);
	assert_int_equal(nvmf_ctrl_connect_take(o.cc, &r), 0);
	assert_int_equal(r.nio, 2);
	/* Freeing the set-up after take leaves the caller's queue pairs alone. */
	nvmf_ctrl_connect_free(o.cc);
	teardown(&r, pg, na, &t);
}

static void
test_setup_fails_when_icresp_refuses_digests(void **state)
{
	struct target t = { .digests = false };

	(void)state;
	expect_failure(&t, true, 1, TIMEOUT_MS, "queue 0: controller refused header digests",
	    TIMEOUT_MS);
}

static void
test_setup_fails_when_connect_refused(void **state)
{
	struct target t = { .connect_status = NVME_STATUS(NVME_SCT_COMMAND_SPECIFIC,
	    NVME_SC_CONNECT_INVALID_HOST) | NVME_STATUS_DNR };

	(void)state;
	expect_failure(&t, false, 1, TIMEOUT_MS,
	    "queue 0: Connect (queue 0) failed: Connect Invalid Host", TIMEOUT_MS);
}

static void
test_setup_fails_when_io_connect_refused(void **state)
{
	struct target t = { .connect_status = NVME_STATUS(NVME_SCT_COMMAND_SPECIFIC,
	    NVME_SC_CONNECT_INVALID_HOST), .connect_fail_qid = 2 };

	(void)state;
	expect_failure(&t, false, 3, TIMEOUT_MS, "Connect (queue 2) failed: Connect Invalid Host",
	    TIMEOUT_MS);
}

static void
test_setup_times_out_when_never_ready(void **state)
{
	struct target t = { .never_ready = true };

	(void)state;
	/* CAP.TO is 500 ms: the wait ends then, not at the step timeout. */
	expect_failure(&t, false, 1, TIMEOUT_MS,
	    "enabling the controller: controller not ready (CSTS.RDY) in time", 1500);
}

static void
test_setup_times_out_when_identify_unanswered(void **state)
{
	struct target t = { .silent_identify = true };

	(void)state;
	expect_failure(&t, false, 1, 300,
	    "Identify (CNS 1): no answer from the controller", 1500);
}

/* ------------------------------------------------- callback admin helpers */

struct got {
	bool done;
	struct nvmf_admin_result r;
	char err[256];
};

static void
got_it(void *arg, const struct nvmf_admin_result *r)
{
	struct got *g = arg;

	g->done = true;
	g->r = *r;
	snprintf(g->err, sizeof(g->err), "%s", r->err);
	g->r.err = g->err;
}

static void
await(struct nvmf_poll_group *pg, struct got *g)
{
	for (int i = 0; !g->done && i < 100; i++)
		assert_true(nvmf_poll_group_poll(pg, 50) >= 0);
	assert_true(g->done);
}

static void
test_callback_admin_helpers(void **state)
{
	struct target t = { .grant = 3 };
	struct nvmf_association *na = host_na(false);
	struct nvmf_poll_group *pg = nvmf_poll_group_create(NULL, NULL, NULL, 0);
	struct nvmf_ctrl_result r = { .size = sizeof(r) };
	struct outcome o = { 0 };
	static struct nvme_identify_controller id;
	static uint8_t log[512];
	struct got g;

	(void)state;
	target_start(&t);
	run_setup(pg, na, &t, 0, TIMEOUT_MS, &o);
	assert_int_equal(o.rc, 0);
	assert_int_equal(nvmf_ctrl_connect_take(o.cc, &r), 0);
	nvmf_ctrl_connect_free(o.cc);
	assert_int_equal(r.nio, 0);

	g = (struct got){ 0 };
	assert_int_equal(nvmf_host_property_get_async(r.admin, NVME_REG_CAP, true, got_it, &g),
	    0);
	await(pg, &g);
	assert_int_equal(g.r.rc, 0);
	assert_int_equal(g.r.value, 63 | (1ull << NVME_CAP_TO_SHIFT));

	g = (struct got){ 0 };
	assert_int_equal(nvmf_host_property_set_async(r.admin, NVME_REG_CC, false, 0, got_it,
	    &g), 0);
	await(pg, &g);
	assert_int_equal(g.r.rc, 0);
	assert_false(t.enabled);

	g = (struct got){ 0 };
	assert_int_equal(nvmf_host_identify_async(r.admin, NVME_CNS_CONTROLLER, 0, &id,
	    sizeof(id), got_it, &g), 0);
	await(pg, &g);
	assert_int_equal(g.r.rc, 0);
	assert_int_equal(id.cntlid, CNTLID);

	g = (struct got){ 0 };
	assert_int_equal(nvmf_host_set_features_async(r.admin, NVME_FEAT_NUM_QUEUES,
	    NVME_FEAT_NUM_QUEUES_VALUE(8, 8), got_it, &g), 0);
	await(pg, &g);
	assert_int_equal(g.r.rc, 0);
	assert_int_equal(g.r.value, 0x00020002);

	g = (struct got){ 0 };
	assert_int_equal(nvmf_host_get_log_page_async(r.admin, 0x02, 0xffffffff, 0, log,
	    sizeof(log), got_it, &g), 0);
	await(pg, &g);
	assert_int_equal(g.r.rc, 0);
	assert_int_equal(log[511], 0x42);

	/* An error status is reported as the blocking helpers word it. */
	g = (struct got){ 0 };
	assert_int_equal(nvmf_host_get_log_page_async(r.admin, 0x7f, 0, 0, log, 64, got_it,
	    &g), 0);
	await(pg, &g);
	assert_int_equal(g.r.rc, -EIO);
	assert_int_equal(g.r.status & ~NVME_STATUS_DNR, NVME_STATUS(NVME_SCT_COMMAND_SPECIFIC,
	    NVME_SC_INVALID_LOG_PAGE));
	assert_string_equal(g.err, "Get Log Page 0x7f failed: Invalid Log Page (status 0x4109)");

	/* The connection going away reaches the callback with its reason. */
	g = (struct got){ 0 };
	assert_int_equal(nvmf_host_identify_async(r.admin, NVME_CNS_CONTROLLER, 0, &id,
	    sizeof(id), got_it, &g), 0);
	nvmf_qpair_free(r.admin);
	assert_true(g.done);
	assert_int_equal(g.r.rc, -ECONNRESET);
	assert_string_equal(g.err, "Identify (CNS 1): queue pair closed");
	free(r.io);
	nvmf_poll_group_free(pg);
	nvmf_association_free(na);
	target_stop(&t);
}

/* The blocking helpers are the same states, waited for. */
static void
test_blocking_helpers_over_callbacks(void **state)
{
	struct target t = { .grant = 2, .never_ready = false };
	struct nvmf_association *na = host_na(false);
	struct nvmf_connect_params cp = params(&t, 0, TIMEOUT_MS).connect;
	struct nvmf_qpair *admin;
	uint16_t cntlid = 0, status = 0;
	uint32_t count = 5, cdw0 = 0;
	static struct nvme_identify_controller id;
	struct nvme_command sqe;
	char err[256];
	int fd;

	(void)state;
	target_start(&t);
	fd = dial(&t, 0, err, sizeof(err));
	cp.cntlid = NVMF_CNTLID_DYNAMIC;
	admin = nvmf_host_connect_queue(na, fd, &cp, 0, 32, &cntlid, &status, err,
	    sizeof(err));
	if (admin == NULL)
		fail_msg("connect: %s", err);
	assert_int_equal(cntlid, CNTLID);
	assert_int_equal(nvmf_host_enable_controller(admin, TIMEOUT_MS, err, sizeof(err)), 0);
	assert_true(t.enabled);
	nvmf_cmd_identify(&sqe, NVME_CNS_CONTROLLER, 0);
	assert_int_equal(nvmf_host_admin_read(admin, &sqe, &id, sizeof(id), &cdw0, TIMEOUT_MS,
	    err, sizeof(err)), 0);
	assert_int_equal(id.cntlid, CNTLID);
	assert_int_equal(nvmf_host_request_queues(admin, &count, TIMEOUT_MS, err, sizeof(err)),
	    0);
	assert_int_equal(count, 2);
	nvmf_cmd_get_log_page(&sqe, 0x7f, 0, 0, 64);
	assert_int_equal(nvmf_host_admin_read(admin, &sqe, &id, 64, NULL, TIMEOUT_MS, err,
	    sizeof(err)), -1);
	assert_string_equal(err, "Get Log Page 0x7f failed: Invalid Log Page (status 0x4109)");
	t.silent_identify = true;
	nvmf_cmd_identify(&sqe, NVME_CNS_CONTROLLER, 0);
	assert_int_equal(nvmf_host_admin_read(admin, &sqe, &id, sizeof(id), NULL, 200, err,
	    sizeof(err)), -1);
	assert_string_equal(err, "Identify (CNS 1): no answer from the controller");
	nvmf_qpair_free(admin);

	/* A refused Connect leaves the socket to the caller and names the status. */
	t.connect_status = NVME_STATUS(NVME_SCT_COMMAND_SPECIFIC, NVME_SC_CONNECT_INVALID_HOST);
	fd = dial(&t, 0, err, sizeof(err));
	assert_null(nvmf_host_connect_queue(na, fd, &cp, 0, 32, &cntlid, &status, err,
	    sizeof(err)));
	assert_int_equal(status, t.connect_status);
	assert_non_null(strstr(err, "Connect (queue 0) failed: Connect Invalid Host"));
	assert_true(fcntl(fd, F_GETFD) >= 0);
	close(fd);
	nvmf_association_free(na);
	target_stop(&t);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_setup_succeeds_and_queues_carry_io),
		cmocka_unit_test(test_setup_takes_fewer_queues_when_granted_fewer),
		cmocka_unit_test(test_setup_fails_when_icresp_refuses_digests),
		cmocka_unit_test(test_setup_fails_when_connect_refused),
		cmocka_unit_test(test_setup_fails_when_io_connect_refused),
		cmocka_unit_test(test_setup_times_out_when_never_ready),
		cmocka_unit_test(test_setup_times_out_when_identify_unanswered),
		cmocka_unit_test(test_callback_admin_helpers),
		cmocka_unit_test(test_blocking_helpers_over_callbacks),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
