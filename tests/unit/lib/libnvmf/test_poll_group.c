/* SPDX-License-Identifier: BSD-2-Clause
 * Copyright (c) 2026 The nvmf developers */
/*
 * test_poll_group.c - many host queue pairs in one poll group against
 * controller queue pairs in another, over socket pairs, in one thread.
 * The streams are wrapped to count sendmsg calls: submissions made in a
 * turn leave in one call per queue pair, and EPOLLOUT is only watched
 * while a socket refuses output.
 */
#include <errno.h>
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cmocka.h>

#include "nvmf_qpair.h"

#define NQ		8
#define DEPTH		16
#define TIMEOUT_MS	3000
#define BLOCK		4096

/* A stream that counts the sends of the socket stream it wraps. */
struct counting {
	struct nvmf_stream_ops ops;
	const struct nvmf_stream_ops *real;
	unsigned sends;
};

static struct counting counters[NQ];

static struct counting *
counter_of(struct nvmf_stream *s)
{
	for (int i = 0; i < NQ; i++)
		if (s->ops == &counters[i].ops)
			return &counters[i];
	return NULL;
}

static ssize_t
counting_sendv(struct nvmf_stream *s, const struct iovec *iov, int n)
{
	struct counting *c = counter_of(s);

	c->sends++;
	return c->real->sendv(s, iov, n);
}

static void
count_sends(struct nvmf_qpair *qp, int i)
{
	counters[i].real = qp->stream->ops;
	counters[i].ops = *qp->stream->ops;
	counters[i].ops.sendv = counting_sendv;
	counters[i].sends = 0;
	qp->stream->ops = &counters[i].ops;
}

struct fixture {
	struct nvmf_association *hna, *cna;
	struct nvmf_qpair *host[NQ], *ctrl[NQ];
	struct nvmf_poll_group *hg, *cg;
	unsigned failed_calls;
	struct nvmf_qpair *failed_qp;
	uint8_t store[BLOCK];
};

struct io {
	struct fixture *f;
	int q;
	unsigned done, lost;
	bool resubmit;
	uint8_t buf[BLOCK];
};

static struct io ios[NQ][DEPTH];

static void
handler(void *arg, struct nvmf_capsule *nc)
{
	struct fixture *f = arg;
	uint8_t *data = nvmf_capsule_data(nc);
	uint32_t len = nvmf_capsule_data_len(nc);

	if (data != NULL && len <= BLOCK)
		memcpy(data, f->store, len);
	nvmf_capsule_complete(nc, 0, 0, 0, len);
}

struct accept_job {
	struct nvmf_association *na;
	int fd;
	struct nvmf_qpair *qp;
};

static void *
accept_thread(void *arg)
{
	struct accept_job *j = arg;
	char err[256];

	j->qp = nvmf_controller_qpair_accept(j->na, j->fd, TIMEOUT_MS, err, sizeof(err));
	return NULL;
}

static void
on_failed(void *arg, struct nvmf_qpair *qp)
{
	struct fixture *f = arg;

	f->failed_calls++;
	f->failed_qp = qp;
}

static int
setup(void **state)
{
	struct nvmf_association_params hp = { .size = sizeof(hp), .sq_flow_control = true };
	struct nvmf_association_params cp = { .size = sizeof(cp), .controller = true,
	    .sq_flow_control = true };
	struct fixture *f = calloc(1, sizeof(*f));
	char err[256];

	assert_non_null(f);
	memset(f->store, 0x5a, sizeof(f->store));
	f->hna = nvmf_association_create(&hp, err, sizeof(err));
	f->cna = nvmf_association_create(&cp, err, sizeof(err));
	assert_non_null(f->hna);
	assert_non_null(f->cna);
	for (int i = 0; i < NQ; i++) {
		struct accept_job j = { .na = f->cna };
		pthread_t th;
		int sv[2];

		assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM, 0, sv), 0);
		j.fd = sv[1];
		assert_int_equal(pthread_create(&th, NULL, accept_thread, &j), 0);
		f->host[i] = nvmf_host_qpair_create(f->hna, sv[0], DEPTH + 1, false, TIMEOUT_MS,
		    err, sizeof(err));
		pthread_join(th, NULL);
		assert_non_null(f->host[i]);
		assert_non_null(j.qp);
		f->ctrl[i] = j.qp;
		nvmf_controller_qpair_setup(f->ctrl[i], 1, DEPTH + 1, true);
		nvmf_controller_set_handler(f->ctrl[i], handler, f);
		count_sends(f->host[i], i);
	}
	f->hg = nvmf_poll_group_create(on_failed, f, err, sizeof(err));
	f->cg = nvmf_poll_group_create(NULL, NULL, err, sizeof(err));
	assert_non_null(f->hg);
	assert_non_null(f->cg);
	for (int i = 0; i < NQ; i++) {
		assert_int_equal(nvmf_poll_group_add(f->hg, f->host[i]), 0);
		assert_int_equal(nvmf_poll_group_add(f->cg, f->ctrl[i]), 0);
	}
	*state = f;
	return 0;
}

static int
teardown(void **state)
{
	struct fixture *f = *state;

	for (int i = 0; i < NQ; i++) {
		nvmf_qpair_free(f->host[i]);
		nvmf_qpair_free(f->ctrl[i]);
	}
	nvmf_poll_group_free(f->hg);
	nvmf_poll_group_free(f->cg);
	nvmf_association_free(f->hna);
	nvmf_association_free(f->cna);
	free(f);
	return 0;
}

static void io_done(void *arg, const struct nvme_completion *cqe);

static void
submit(struct fixture *f, int q, int slot)
{
	struct io *io = &ios[q][slot];
	struct nvme_command sqe;

	io->f = f;
	io->q = q;
	nvmf_cmd_rw(&sqe, NVME_IO_READ, 1, 0, 8);
	assert_int_equal(nvmf_host_submit(f->host[q], &sqe, io->buf, BLOCK, false, io_done,
	    io), 0);
}

static void
io_done(void *arg, const struct nvme_completion *cqe)
{
	struct io *io = arg;

	if (cqe == NULL) {
		io->lost++;
		return;
	}
	assert_int_equal(NVME_CQE_STATUS(cqe->status), 0);
	io->done++;
	if (io->resubmit) {
		io->resubmit = false;
		submit(io->f, io->q, (int)(io - ios[io->q]));
	}
}

static unsigned
total_done(void)
{
	unsigned n = 0;

	for (int q = 0; q < NQ; q++)
		for (int s = 0; s < DEPTH; s++)
			n += ios[q][s].done;
	return n;
}

static void
drive(struct fixture *f, unsigned want)
{
	long deadline = nvmf_now_ms() + TIMEOUT_MS;

	while (total_done() < want) {
		assert_true(nvmf_now_ms() < deadline);
		assert_true(nvmf_poll_group_poll(f->cg, 0) >= 0);
		assert_true(nvmf_poll_group_poll(f->hg, 1) >= 0);
	}
}

/* Submissions between turns are only queued; one sendmsg per queue pair sends them. */
static void
test_submissions_flushed_once_per_turn(void **state)
{
	struct fixture *f = *state;

	memset(ios, 0, sizeof(ios));
	for (int q = 0; q < NQ; q++)
		for (int s = 0; s < DEPTH; s++)
			submit(f, q, s);
	for (int q = 0; q < NQ; q++) {
		assert_int_equal(counters[q].sends, 0);	/* nothing sent yet */
		assert_true(nvmf_qpair_tx_pending(f->host[q]));
	}
	assert_true(nvmf_poll_group_poll(f->hg, 0) >= 0);
	for (int q = 0; q < NQ; q++) {
		assert_int_equal(counters[q].sends, 1);	/* 16 capsules, one sendmsg */
		assert_false(nvmf_qpair_tx_pending(f->host[q]));
		assert_false(f->host[q]->watching_out);
	}
	drive(f, NQ * DEPTH);
	for (int q = 0; q < NQ; q++)
		for (int s = 0; s < DEPTH; s++)
			assert_memory_equal(ios[q][s].buf, f->store, BLOCK);
}

/* nvmf_poll_group_flush sends what was queued, one sendmsg a queue pair, and reads nothing. */
static void
test_flush_sends_without_receiving(void **state)
{
	struct fixture *f = *state;

	memset(ios, 0, sizeof(ios));
	for (int q = 0; q < NQ; q++)
		for (int s = 0; s < DEPTH; s++)
			submit(f, q, s);
	assert_int_equal(nvmf_poll_group_flush(f->hg), 0);
	for (int q = 0; q < NQ; q++) {
		assert_int_equal(counters[q].sends, 1);
		assert_false(nvmf_qpair_tx_pending(f->host[q]));
	}
	/* Every controller answers; a flush of the host's group takes none of it. */
	for (int i = 0; i < 20; i++)
		assert_true(nvmf_poll_group_poll(f->cg, 1) >= 0);
	assert_int_equal(nvmf_poll_group_flush(f->hg), 0);
	assert_int_equal(total_done(), 0);
	drive(f, NQ * DEPTH);
	for (int q = 0; q < NQ; q++)
		for (int s = 0; s < DEPTH; s++)
			assert_memory_equal(ios[q][s].buf, f->store, BLOCK);
}

/* Commands submitted from completions go out together at the end of the turn. */
static void
test_resubmissions_from_callbacks_batched(void **state)
{
	struct fixture *f = *state;
	unsigned before[NQ];

	memset(ios, 0, sizeof(ios));
	for (int q = 0; q < NQ; q++)
		for (int s = 0; s < DEPTH; s++)
			submit(f, q, s);
	assert_true(nvmf_poll_group_poll(f->hg, 0) >= 0);
	/* Let every controller answer everything before the host looks. */
	for (int i = 0; i < 20; i++)
		assert_true(nvmf_poll_group_poll(f->cg, 1) >= 0);
	for (int q = 0; q < NQ; q++) {
		before[q] = counters[q].sends;
		for (int s = 0; s < DEPTH; s++)
			ios[q][s].resubmit = true;
	}
	/* One host turn: every response read, every resubmission sent at once. */
	while (total_done() < NQ * DEPTH)
		assert_true(nvmf_poll_group_poll(f->hg, TIMEOUT_MS) > 0);
	for (int q = 0; q < NQ; q++)
		assert_true(counters[q].sends - before[q] <= 2);
	drive(f, 2 * NQ * DEPTH);
}

/* EPOLLOUT is watched while the socket refuses output, and dropped after. */
static void
test_epollout_only_while_blocked(void **state)
{
	struct fixture *f = *state;
	static uint8_t big[DEPTH][64 * 1024];
	int small = 4096;
	struct nvme_command sqe;
	long deadline = nvmf_now_ms() + TIMEOUT_MS;

	memset(ios, 0, sizeof(ios));
	assert_int_equal(setsockopt(nvmf_qpair_fd(f->host[0]), SOL_SOCKET, SO_SNDBUF, &small,
	    sizeof(small)), 0);
	nvmf_host_qpair_set_icd_size(f->host[0], 0);
	nvmf_cmd_rw(&sqe, NVME_IO_WRITE, 1, 0, 128);
	for (int s = 0; s < DEPTH; s++) {
		ios[0][s].f = f;
		assert_int_equal(nvmf_host_submit(f->host[0], &sqe, big[s], sizeof(big[s]), true,
		    io_done, &ios[0][s]), 0);
	}
	/* The controller asks for all the data (R2T) before the host polls again. */
	assert_true(nvmf_poll_group_poll(f->hg, 0) >= 0);
	for (int i = 0; i < 5; i++)
		assert_true(nvmf_poll_group_poll(f->cg, 1) >= 0);
	assert_true(nvmf_poll_group_poll(f->hg, 10) >= 0);
	assert_true(nvmf_qpair_tx_pending(f->host[0]));
	assert_true(f->host[0]->watching_out);
	while (total_done() < DEPTH) {
		assert_true(nvmf_now_ms() < deadline);
		assert_true(nvmf_poll_group_poll(f->cg, 0) >= 0);
		assert_true(nvmf_poll_group_poll(f->hg, 1) >= 0);
	}
	assert_false(nvmf_qpair_tx_pending(f->host[0]));
	assert_false(f->host[0]->watching_out);
}

/* A failed queue pair leaves the group; its commands hear it, then its owner. */
static void
test_failure_reported_once_after_commands(void **state)
{
	struct fixture *f = *state;
	long deadline = nvmf_now_ms() + TIMEOUT_MS;

	memset(ios, 0, sizeof(ios));
	for (int s = 0; s < 4; s++)
		submit(f, 3, s);
	assert_true(nvmf_poll_group_poll(f->hg, 0) >= 0);
	nvmf_qpair_free(f->ctrl[3]);		/* the controller goes away */
	f->ctrl[3] = NULL;
	while (f->failed_calls == 0) {
		assert_true(nvmf_now_ms() < deadline);
		assert_true(nvmf_poll_group_poll(f->hg, 10) >= 0);
	}
	assert_int_equal(f->failed_calls, 1);
	assert_ptr_equal(f->failed_qp, f->host[3]);
	for (int s = 0; s < 4; s++)
		assert_int_equal(ios[3][s].lost, 1);
	assert_null(f->host[3]->group);
	assert_int_equal(nvmf_poll_group_add(f->hg, f->host[3]), -ENOTCONN);
	for (int i = 0; i < 5; i++)
		assert_true(nvmf_poll_group_poll(f->hg, 0) >= 0);
	assert_int_equal(f->failed_calls, 1);
	/* The others go on. */
	for (int s = 0; s < DEPTH; s++)
		submit(f, 0, s);
	drive(f, DEPTH);
}

/* Adding twice is refused; removing sends what was queued; free leaves the group. */
static void
test_add_remove_free(void **state)
{
	struct fixture *f = *state;
	long deadline = nvmf_now_ms() + TIMEOUT_MS;

	memset(ios, 0, sizeof(ios));
	assert_int_equal(nvmf_poll_group_add(f->hg, f->host[1]), -EBUSY);
	assert_int_equal(nvmf_poll_group_add(f->cg, f->host[1]), -EBUSY);
	submit(f, 1, 0);
	assert_int_equal(nvmf_poll_group_remove(f->hg, f->host[1]), 0);
	assert_int_equal(nvmf_poll_group_remove(f->hg, f->host[1]), -ENOENT);
	assert_false(nvmf_qpair_tx_pending(f->host[1]));	/* sent on leaving */
	while (ios[1][0].done == 0) {
		assert_true(nvmf_now_ms() < deadline);
		assert_true(nvmf_poll_group_poll(f->cg, 1) >= 0);
		assert_int_equal(nvmf_qpair_process(f->host[1]), 0);
	}
	assert_int_equal(nvmf_poll_group_add(f->hg, f->host[1]), 0);
	/* Freed while grouped, with output queued: the group forgets it. */
	submit(f, 2, 0);
	nvmf_qpair_free(f->host[2]);
	f->host[2] = NULL;
	assert_int_equal(ios[2][0].lost, 1);
	assert_true(nvmf_poll_group_poll(f->hg, 0) >= 0);
	assert_true(nvmf_poll_group_fd(f->hg) >= 0);
}

/* One of the caller's descriptors, watched in the host's group. */
struct watched {
	struct fixture *f;
	int fd;
	unsigned calls;
	uint32_t events;
	struct watched *unwatch;	/* the callback unwatches this one */
	bool submit;			/* the callback submits a read on queue 3 */
};

static void
watched_ready(void *arg, uint32_t events)
{
	struct watched *w = arg;
	uint64_t v;

	w->calls++;
	w->events = events;
	assert_int_equal(read(w->fd, &v, sizeof(v)), (ssize_t)sizeof(v));
	if (w->unwatch != NULL)
		assert_int_equal(nvmf_poll_group_unwatch(w->f->hg, w->unwatch->fd), 0);
	if (w->submit)
		submit(w->f, 3, 0);
}

/*
 * A watched eventfd ends the turn's wait and has its callback; what the
 * callback submits leaves in that turn; one unwatched by a callback is not
 * called later in the turn; unwatching twice or a bad descriptor fails.
 */
static void
test_watched_descriptors(void **state)
{
	struct fixture *f = *state;
	struct watched a = { .f = f, .submit = true }, b = { .f = f };
	uint64_t one = 1;
	long t0;

	memset(ios, 0, sizeof(ios));
	a.fd = eventfd(0, EFD_NONBLOCK);
	b.fd = eventfd(0, EFD_NONBLOCK);
	assert_int_equal(nvmf_poll_group_watch(f->hg, a.fd, EPOLLIN, watched_ready, &a), 0);
	assert_int_equal(nvmf_poll_group_watch(f->hg, b.fd, EPOLLIN, watched_ready, &b), 0);
	assert_int_equal(nvmf_poll_group_watch(f->hg, -1, EPOLLIN, watched_ready, &b), -EBADF);
	assert_int_equal(nvmf_poll_group_poll(f->hg, 0), 0);	/* quiet: no call */
	assert_int_equal(a.calls + b.calls, 0);

	assert_int_equal(write(a.fd, &one, sizeof(one)), (ssize_t)sizeof(one));
	t0 = nvmf_now_ms();
	assert_int_equal(nvmf_poll_group_poll(f->hg, TIMEOUT_MS), 1);
	assert_true(nvmf_now_ms() - t0 < TIMEOUT_MS / 2);	/* the write ended the wait */
	assert_int_equal(a.calls, 1);
	assert_int_equal(a.events & EPOLLIN, EPOLLIN);
	assert_int_equal(counters[3].sends, 1);	/* submitted and sent in the turn */
	assert_false(nvmf_qpair_tx_pending(f->host[3]));
	drive(f, 1);
	assert_memory_equal(ios[3][0].buf, f->store, BLOCK);

	/* Both ready; whichever runs first unwatches the other. */
	a.submit = false;
	a.unwatch = &b;
	b.unwatch = &a;
	assert_int_equal(write(a.fd, &one, sizeof(one)), (ssize_t)sizeof(one));
	assert_int_equal(write(b.fd, &one, sizeof(one)), (ssize_t)sizeof(one));
	assert_true(nvmf_poll_group_poll(f->hg, TIMEOUT_MS) >= 1);
	assert_int_equal((a.calls - 1) + b.calls, 1);
	assert_int_equal(nvmf_poll_group_unwatch(f->hg, a.calls == 2 ? b.fd : a.fd), -ENOENT);
	/* The one left is freed with the group (teardown); closed after that. */
	assert_int_equal(nvmf_poll_group_unwatch(f->hg, 12345), -ENOENT);
	nvmf_poll_group_free(f->hg);
	f->hg = NULL;
	close(a.fd);
	close(b.fd);
}

int
main(void)
{
#define T(fn) cmocka_unit_test_setup_teardown(fn, setup, teardown)
	const struct CMUnitTest tests[] = {
		T(test_submissions_flushed_once_per_turn),
		T(test_flush_sends_without_receiving),
		T(test_resubmissions_from_callbacks_batched),
		T(test_epollout_only_while_blocked),
		T(test_failure_reported_once_after_commands),
		T(test_add_remove_free),
		T(test_watched_descriptors),
	};
#undef T

	return cmocka_run_group_tests(tests, NULL, NULL);
}
