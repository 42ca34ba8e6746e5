/* SPDX-License-Identifier: BSD-2-Clause
 * Copyright (c) 2026 The nvmf developers */
/*
 * test_broadcast.c - devd.pipe: root's (or root's and one group's) alone,
 * a reader beyond the limit turned away without costing anyone already
 * there an event, and --group read as a name or a decimal GID only.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <errno.h>
#include <grp.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include "devd.h"

static void
test_group_by_name_or_decimal_gid(void **state)
{
	struct group *root = getgrgid(0);
	char err[256];
	gid_t gid;

	(void)state;
	assert_int_equal(broadcast_parse_group("65534", &gid, err, sizeof(err)), 0);
	assert_int_equal(gid, 65534);
	assert_int_equal(broadcast_parse_group("0070", &gid, err, sizeof(err)), 0);
	assert_int_equal(gid, 70);		/* decimal, as every number we read */
	if (root != NULL) {
		assert_int_equal(broadcast_parse_group(root->gr_name, &gid, err, sizeof(err)),
		    0);
		assert_int_equal(gid, 0);
	}
	static const char *bad[] = { "", "0x10", "-1", "+5", " 5", "5 ", "12abc",
	    "4294967295", "99999999999999999999999", "no-such-group-here" };
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		err[0] = '\0';
		assert_int_equal(broadcast_parse_group(bad[i], &gid, err, sizeof(err)), -1);
		assert_non_null(strstr(err, "--group"));
		assert_non_null(strstr(err, bad[i]));
	}
}

static char dir[] = "/tmp/nvmf-devd-pipe.XXXXXX";
static char path[96];

static int
setup(void **state)
{
	(void)state;
	strcpy(dir, "/tmp/nvmf-devd-pipe.XXXXXX");
	assert_non_null(mkdtemp(dir));
	snprintf(path, sizeof(path), "%s/devd.pipe", dir);
	return 0;
}

static int
teardown(void **state)
{
	(void)state;
	broadcast_close();
	unlink(path);
	rmdir(dir);
	return 0;
}

static void
test_root_only_without_group(void **state)
{
	struct stat st;
	char err[256];

	(void)state;
	umask(0);		/* the socket's mode must not depend on the caller's */
	assert_int_equal(broadcast_open(path, BROADCAST_NO_GROUP, err, sizeof(err)), 0);
	umask(022);
	assert_int_equal(stat(path, &st), 0);
	assert_true(S_ISSOCK(st.st_mode));
	assert_int_equal(st.st_mode & 07777, 0600);
}

static void
test_group_readable_with_group(void **state)
{
	struct stat st;
	char err[256];

	(void)state;
	assert_int_equal(broadcast_open(path, getegid(), err, sizeof(err)), 0);
	assert_int_equal(stat(path, &st), 0);
	assert_int_equal(st.st_mode & 07777, 0660);
	assert_int_equal(st.st_gid, getegid());
}

static int
dial(void)
{
	struct sockaddr_un sun = { .sun_family = AF_UNIX };
	int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);

	assert_true(fd >= 0);
	snprintf(sun.sun_path, sizeof(sun.sun_path), "%s", path);
	assert_int_equal(connect(fd, (struct sockaddr *)&sun, sizeof(sun)), 0);
	return fd;
}

/* What a reader has now: 1 = data, 0 = EOF, -1 = nothing yet. */
static int
peek(int fd, char *buf, size_t len)
{
	struct pollfd p = { .fd = fd, .events = POLLIN };
	ssize_t n;

	if (poll(&p, 1, 0) <= 0)
		return -1;
	n = recv(fd, buf, len, MSG_DONTWAIT);
	return n > 0 ? 1 : n == 0 ? 0 : -1;
}

static void
test_limit_refuses_newcomers_never_evicts(void **state)
{
	unsigned limit = geteuid() == 0 ? BROADCAST_MAX_READERS :
	    BROADCAST_MAX_READERS - BROADCAST_ROOT_RESERVED;
	int fds[BROADCAST_MAX_READERS + 2];
	char err[256], buf[256];

	(void)state;
	assert_int_equal(broadcast_open(path, BROADCAST_NO_GROUP, err, sizeof(err)), 0);
	for (unsigned i = 0; i < limit; i++) {
		fds[i] = dial();
		broadcast_accept();
	}
	fds[limit] = dial();
	fds[limit + 1] = dial();
	broadcast_accept();
	/* Turned away at once: the newcomers read EOF ... */
	assert_int_equal(peek(fds[limit], buf, sizeof(buf)), 0);
	assert_int_equal(peek(fds[limit + 1], buf, sizeof(buf)), 0);
	/* ... and every reader already there gets the next event. */
	broadcast_line("!system=nvme type=RECONNECT name=\"nvme0\"\n");
	for (unsigned i = 0; i < limit; i++) {
		memset(buf, 0, sizeof(buf));
		assert_int_equal(peek(fds[i], buf, sizeof(buf) - 1), 1);
		assert_string_equal(buf, "!system=nvme type=RECONNECT name=\"nvme0\"\n");
	}
	/* A reader that leaves frees its place for the next one. */
	close(fds[0]);
	fds[0] = dial();
	broadcast_accept();
	broadcast_line("!x=2\n");
	for (unsigned i = 0; i < limit; i++) {
		memset(buf, 0, sizeof(buf));
		assert_int_equal(peek(fds[i], buf, sizeof(buf) - 1), 1);
		assert_string_equal(buf, "!x=2\n");
	}
	for (unsigned i = 0; i < limit + 2; i++)
		close(fds[i]);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_group_by_name_or_decimal_gid),
		cmocka_unit_test_setup_teardown(test_root_only_without_group, setup, teardown),
		cmocka_unit_test_setup_teardown(test_group_readable_with_group, setup, teardown),
		cmocka_unit_test_setup_teardown(test_limit_refuses_newcomers_never_evicts, setup,
		    teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
