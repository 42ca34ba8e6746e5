/* SPDX-License-Identifier: BSD-2-Clause
 * Copyright (c) 2026 The nvmf developers */
/*
 * test_stream.c - the socket stream under the PDU engine, over a socket
 * pair: recv_wait waits as long as asked and no longer, returns at once
 * what is there, and sees the end of the stream; once it has made the
 * descriptor blocking, recv and sendv still never block.
 */
#include <errno.h>
#include <fcntl.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>

#include "nvmf_stream.h"

struct pair {
	struct nvmf_stream *s;
	int fd, peer;
};

static long
now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1000L + ts.tv_nsec / 1000000L;
}

static int
setup(void **state)
{
	static struct pair p;
	int sv[2];

	if (socketpair(AF_UNIX, SOCK_STREAM, 0, sv) != 0)
		return -1;
	p.fd = sv[0];
	p.peer = sv[1];
	fcntl(p.fd, F_SETFL, fcntl(p.fd, F_GETFL) | O_NONBLOCK);
	p.s = nvmf_stream_socket(p.fd);
	*state = &p;
	/* A call that blocked by mistake fails the test instead of hanging it. */
	alarm(10);
	return p.s != NULL ? 0 : -1;
}

static int
teardown(void **state)
{
	struct pair *p = *state;

	alarm(0);
	p->s->ops->close(p->s, false);
	close(p->peer);
	return 0;
}

static void
test_zero_timeout_does_not_wait(void **state)
{
	struct pair *p = *state;
	char buf[16];
	long t0 = now_ms();

	assert_int_equal(nvmf_stream_recv_wait(p->s, buf, sizeof(buf), 0), -1);
	assert_int_equal(errno, EAGAIN);
	assert_true(now_ms() - t0 < 50);
	/* Nothing waited, so the descriptor was left as it was. */
	assert_true(fcntl(p->fd, F_GETFL) & O_NONBLOCK);
}

static void
test_waits_as_long_as_asked(void **state)
{
	struct pair *p = *state;
	char buf[16];
	long t0 = now_ms(), took;

	assert_int_equal(nvmf_stream_recv_wait(p->s, buf, sizeof(buf), 120), -1);
	took = now_ms() - t0;
	assert_true(errno == EAGAIN || errno == EWOULDBLOCK);
	assert_true(took >= 100);
	assert_true(took < 2000);
	assert_false(fcntl(p->fd, F_GETFL) & O_NONBLOCK);
	/* A shorter timeout next is honoured too (SO_RCVTIMEO is set again). */
	t0 = now_ms();
	assert_int_equal(nvmf_stream_recv_wait(p->s, buf, sizeof(buf), 20), -1);
	assert_true(now_ms() - t0 < 100);
}

static void
test_returns_what_is_there_at_once(void **state)
{
	struct pair *p = *state;
	char buf[16];
	long t0;

	assert_int_equal(write(p->peer, "abc", 3), 3);
	t0 = now_ms();
	assert_int_equal(nvmf_stream_recv_wait(p->s, buf, sizeof(buf), 5000), 3);
	assert_memory_equal(buf, "abc", 3);
	assert_true(now_ms() - t0 < 1000);
}

static void
test_sees_the_end_of_the_stream(void **state)
{
	struct pair *p = *state;
	char buf[16];

	shutdown(p->peer, SHUT_WR);
	assert_int_equal(nvmf_stream_recv_wait(p->s, buf, sizeof(buf), 5000), 0);
}

static void
test_other_calls_never_block_after(void **state)
{
	struct pair *p = *state;
	static char big[65536];
	struct iovec iov = { .iov_base = big, .iov_len = sizeof(big) };
	char buf[16];
	ssize_t n;

	/* Makes the descriptor blocking. */
	assert_int_equal(nvmf_stream_recv_wait(p->s, buf, sizeof(buf), 10), -1);
	assert_false(fcntl(p->fd, F_GETFL) & O_NONBLOCK);
	assert_int_equal(nvmf_stream_recv(p->s, buf, sizeof(buf)), -1);
	assert_int_equal(errno, EAGAIN);
	/* Fill the socket until it refuses: sendv says so instead of waiting. */
	do
		n = nvmf_stream_sendv(p->s, &iov, 1);
	while (n > 0);
	assert_int_equal(n, -1);
	assert_true(errno == EAGAIN || errno == EWOULDBLOCK);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_zero_timeout_does_not_wait, setup, teardown),
		cmocka_unit_test_setup_teardown(test_waits_as_long_as_asked, setup, teardown),
		cmocka_unit_test_setup_teardown(test_returns_what_is_there_at_once, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_sees_the_end_of_the_stream, setup, teardown),
		cmocka_unit_test_setup_teardown(test_other_calls_never_block_after, setup,
		    teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
