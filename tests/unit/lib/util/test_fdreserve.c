/* SPDX-License-Identifier: BSD-2-Clause
 * Copyright (c) 2026 The nvmf developers */
/*
 * test_fdreserve.c - with every descriptor taken, the reserve still lets a
 * waiting client in; taken back after the client's close; EMFILE when it
 * could not be held.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <cmocka.h>

#include "fdreserve.h"

#define LIMIT	32

struct world {
	struct rlimit saved;
	int listen_fd;
	int pair_fd;		/* our end of the client's socket */
	int fill[LIMIT];
	int nfill;
};

/* A listening UNIX socket in the abstract namespace, then every descriptor left taken. */
static int
setup(void **state)
{
	static struct world w;
	struct rlimit low = { LIMIT, LIMIT };

	memset(&w, 0, sizeof(w));
	assert_int_equal(getrlimit(RLIMIT_NOFILE, &w.saved), 0);
	if (w.saved.rlim_max < LIMIT)
		low.rlim_max = low.rlim_cur = w.saved.rlim_max;
	w.listen_fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
	assert_true(w.listen_fd >= 0);
	{
		struct sockaddr_un sun = { .sun_family = AF_UNIX };
		int n = snprintf(sun.sun_path + 1, sizeof(sun.sun_path) - 1, "nvmf-fdreserve-%d",
		    (int)getpid());

		assert_int_equal(bind(w.listen_fd, (struct sockaddr *)&sun,
		    (socklen_t)(offsetof(struct sockaddr_un, sun_path) + 1 + (size_t)n)), 0);
		assert_int_equal(listen(w.listen_fd, 4), 0);
		w.pair_fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
		assert_true(w.pair_fd >= 0);
		assert_int_equal(connect(w.pair_fd, (struct sockaddr *)&sun,
		    (socklen_t)(offsetof(struct sockaddr_un, sun_path) + 1 + (size_t)n)), 0);
	}
	assert_int_equal(setrlimit(RLIMIT_NOFILE, &low), 0);
	*state = &w;
	return 0;
}

static int
teardown(void **state)
{
	struct world *w = *state;

	for (int i = 0; i < w->nfill; i++)
		close(w->fill[i]);
	close(w->listen_fd);
	close(w->pair_fd);
	setrlimit(RLIMIT_NOFILE, &w->saved);
	return 0;
}

static void
fill(struct world *w)
{
	int fd;

	while ((fd = dup(0)) >= 0) {
		assert_true(w->nfill < LIMIT);
		w->fill[w->nfill++] = fd;
	}
	assert_int_equal(errno, EMFILE);
}

static void
test_reserve_lets_the_client_in_at_the_limit(void **state)
{
	struct world *w = *state;
	struct fd_reserve r = FD_RESERVE_EMPTY;
	int fd;

	assert_true(fd_reserve_hold(&r));
	fill(w);
	/* Out of descriptors: accept itself cannot take the waiting client. */
	assert_int_equal(accept4(w->listen_fd, NULL, NULL, SOCK_CLOEXEC), -1);
	assert_int_equal(errno, EMFILE);
	fd = fd_reserve_accept(&r, w->listen_fd, SOCK_CLOEXEC, NULL, NULL);
	assert_true(fd >= 0);
	assert_int_equal(r.fd, -1);
	/* The client is there: what it hears is ours to say. */
	assert_int_equal(send(fd, "x", 1, MSG_NOSIGNAL), 1);
	{
		char c;

		assert_int_equal(recv(w->pair_fd, &c, 1, 0), 1);
		assert_int_equal(c, 'x');
	}
	close(fd);
	/* Taken back into the place the client's close made. */
	assert_true(fd_reserve_hold(&r));
	assert_int_equal(dup(0), -1);
	fd_reserve_release(&r);
	assert_int_equal(r.fd, -1);
}

static void
test_no_room_for_the_reserve_is_emfile(void **state)
{
	struct world *w = *state;
	struct fd_reserve r = FD_RESERVE_EMPTY;

	fill(w);
	assert_false(fd_reserve_hold(&r));
	errno = 0;
	assert_int_equal(fd_reserve_accept(&r, w->listen_fd, SOCK_CLOEXEC, NULL, NULL), -1);
	assert_int_equal(errno, EMFILE);
	fd_reserve_release(&r);
}

static void
test_nobody_waiting_keeps_the_reserve(void **state)
{
	struct world *w = *state;
	struct fd_reserve r = FD_RESERVE_EMPTY;
	int fd;

	/* The one client is taken first: then nobody waits on the non-blocking listener. */
	fd = accept4(w->listen_fd, NULL, NULL, SOCK_CLOEXEC);
	assert_true(fd >= 0);
	assert_true(fd_reserve_hold(&r));
	fill(w);
	assert_int_equal(fd_reserve_accept(&r, w->listen_fd, SOCK_CLOEXEC, NULL, NULL), -1);
	assert_int_equal(errno, EAGAIN);
	/* Held again: its place was not left for whoever came next. */
	assert_true(r.fd >= 0);
	assert_int_equal(dup(0), -1);
	fd_reserve_release(&r);
	close(fd);
}

static void
test_turn_away_closes_the_client_and_holds_again(void **state)
{
	struct world *w = *state;
	struct fd_reserve r = FD_RESERVE_EMPTY;
	char c;

	assert_true(fd_reserve_hold(&r));
	fill(w);
	assert_true(fd_reserve_turn_away(&r, w->listen_fd, SOCK_CLOEXEC));
	/* The client sees the end of the stream; the reserve is held again. */
	assert_int_equal(recv(w->pair_fd, &c, 1, 0), 0);
	assert_true(r.fd >= 0);
	assert_int_equal(dup(0), -1);
	/* Nobody waits now: nothing turned away, the reserve kept. */
	assert_false(fd_reserve_turn_away(&r, w->listen_fd, SOCK_CLOEXEC));
	assert_int_equal(errno, EAGAIN);
	assert_true(r.fd >= 0);
	fd_reserve_release(&r);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_reserve_lets_the_client_in_at_the_limit, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_no_room_for_the_reserve_is_emfile, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_nobody_waiting_keeps_the_reserve, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_turn_away_closes_the_client_and_holds_again,
		    setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
