/* SPDX-License-Identifier: BSD-2-Clause
 * Copyright (c) 2026 The nvmf developers */
/*
 * test_actions.c - how nvmf-devd runs actions: which ones it splits and
 * spawns itself (words exactly as sh would pass them) and which go to
 * /bin/sh; then real actions of both kinds, started and reaped, leaving the
 * files they were asked to make.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "devd.h"

static int
split(const char *cmd, char **argv)
{
	static char buf[1024];

	return action_split(cmd, buf, sizeof(buf), argv);
}

static void
test_plain_words_and_quoted_strings_are_split(void **state)
{
	char *argv[ACTION_MAX_WORDS];

	(void)state;
	assert_int_equal(split("nvmecontrol reconnect 'nvme0'", argv), 3);
	assert_string_equal(argv[0], "nvmecontrol");
	assert_string_equal(argv[1], "reconnect");
	assert_string_equal(argv[2], "nvme0");
	assert_null(argv[3]);
	/* What event_expand makes of a value with spaces: one word, as sh. */
	assert_int_equal(split("  touch\t'/tmp/a b'x'' ''  ", argv), 3);
	assert_string_equal(argv[1], "/tmp/a bx");
	assert_string_equal(argv[2], "");
	assert_int_equal(split("x a=b,c:d@e%f+g -h ./i", argv), 4);
	assert_string_equal(argv[1], "a=b,c:d@e%f+g");
}

static void
test_anything_else_goes_to_sh(void **state)
{
	const char *shell[] = {
		"echo a; echo b", "echo a | cat", "echo a > f", "echo $HOME", "echo `id`",
		"echo \"a\"", "echo a\\ b", "echo 'it'\\''s'", "echo 'open", "X=1 env",
		"echo ~", "echo *", "echo a &", "(echo a)", "echo #c", "", "   ",
	};
	char *argv[ACTION_MAX_WORDS], many[400] = "w";

	(void)state;
	for (size_t i = 0; i < sizeof(shell) / sizeof(shell[0]); i++)
		assert_int_equal(split(shell[i], argv), -1);
	for (int i = 0; i < ACTION_MAX_WORDS; i++)
		strcat(many, " w");
	assert_int_equal(split(many, argv), -1);	/* more words than argv holds */
}

static void
wait_all(void)
{
	for (int i = 0; i < 500 && action_running() > 0; i++) {
		usleep(10000);
		action_reap();
	}
	assert_int_equal(action_running(), 0);
}

static void
test_both_kinds_run_and_make_their_files(void **state)
{
	char dir[] = "/tmp/nvmf-test-actions.XXXXXX", cmd[512], path[512];
	struct stat st;

	(void)state;
	assert_non_null(mkdtemp(dir));
	/* Direct: a name with a space reaches touch as one word. */
	snprintf(cmd, sizeof(cmd), "touch '%s/a b'", dir);
	assert_int_equal(action_start(cmd, "test"), 0);
	/* Through sh: a redirection. */
	snprintf(cmd, sizeof(cmd), "echo hi > '%s/c'", dir);
	assert_int_equal(action_start(cmd, "test"), 0);
	/* A command that is not there: refused or exit 127, never a hang. */
	assert_true(action_start("no-such-command-nvmf-test 'x'", "test") <= 0);
	wait_all();
	snprintf(path, sizeof(path), "%s/a b", dir);
	assert_int_equal(stat(path, &st), 0);
	unlink(path);
	snprintf(path, sizeof(path), "%s/c", dir);
	assert_int_equal(stat(path, &st), 0);
	assert_int_equal(st.st_size, 3);
	unlink(path);
	assert_int_equal(rmdir(dir), 0);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_plain_words_and_quoted_strings_are_split),
		cmocka_unit_test(test_anything_else_goes_to_sh),
		cmocka_unit_test(test_both_kinds_run_and_make_their_files),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
