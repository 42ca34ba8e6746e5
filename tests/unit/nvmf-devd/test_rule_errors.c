/* SPDX-License-Identifier: BSD-2-Clause
 * Copyright (c) 2026 The nvmf developers */
/*
 * test_rule_errors.c - regressions the rule parser's fuzzer found: an error
 * about rule text stays one line whatever that text holds.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <string.h>

#include "devd.h"

static void
expect_one_line_error(const char *text, const char *contains)
{
	struct ruleset rs = { 0 };
	char err[512] = "";

	assert_int_equal(ruleset_parse(&rs, text, "bad.conf", err, sizeof(err)), -1);
	assert_non_null(strstr(err, contains));
	for (const char *p = err; *p != '\0'; p++)
		assert_true((unsigned char)*p >= 0x20 && *p != 0x7f);
	ruleset_free(&rs);
}

/* A regular expression with escaped newlines and tabs quoted into the error. */
static void
test_bad_regex_with_control_characters_is_one_line(void **state)
{
	(void)state;
	expect_one_line_error("notify 1 { match \"a\" \"x\\ny(\\tz\"; };",
	    "bad.conf:1: bad regular expression \"x?y(?z\"");
}

/* Found by the fuzzer: "o++++..." made glibc's regcomp take over 2 GiB. */
static void
test_stacked_repetition_operators_are_refused(void **state)
{
	struct ruleset rs = { 0 };
	char err[512];

	(void)state;
	expect_one_line_error("notify 1 { match \"a\" \"co+++++++++++++++x\"; };",
	    "bad.conf:1: repetition operators in a row");
	expect_one_line_error("notify 1 { match \"a\" \"x*{2}\"; };",
	    "repetition operators in a row");
	expect_one_line_error("notify 1 { match \"a\" \"(x{1,200}){9}\"; };",
	    "a count above 32");
	/* Escaped and bracketed ones are characters, not operators. */
	assert_int_equal(ruleset_parse(&rs, "notify 1 { match \"a\" \"a\\\\++[+*]+x{1,2}\"; };",
	    "ok.conf", err, sizeof(err)), 0);
	ruleset_free(&rs);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_bad_regex_with_control_characters_is_one_line),
		cmocka_unit_test(test_stacked_repetition_operators_are_refused),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
