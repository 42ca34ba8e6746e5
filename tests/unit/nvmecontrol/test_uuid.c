/* SPDX-License-Identifier: BSD-2-Clause
 * Copyright (c) 2026 The nvmf developers */
/*
 * test_uuid.c - nvmecontrol's host ID parser and formatter (hostnqn.c): the
 * 8-4-4-4-12 shape in either case, round trips, and every malformed form
 * refused without touching the output.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <string.h>

#include "nvmecontrol.h"

static void
test_parses_both_cases(void **state)
{
	static const uint8_t want[16] = { 0x0b, 0xad, 0xc0, 0xde, 0x00, 0x01, 0x40, 0x00,
	    0x80, 0x00, 0x12, 0x34, 0x56, 0x78, 0x9a, 0xbc };
	uint8_t got[16];

	(void)state;
	assert_int_equal(uuid_parse("0badc0de-0001-4000-8000-123456789abc", got), 0);
	assert_memory_equal(got, want, 16);
	memset(got, 0, sizeof(got));
	assert_int_equal(uuid_parse("0BADC0DE-0001-4000-8000-123456789ABC", got), 0);
	assert_memory_equal(got, want, 16);
}

static void
test_formats_lower_case_and_round_trips(void **state)
{
	static const char *ids[] = { "00000000-0000-0000-0000-000000000000",
	    "ffffffff-ffff-ffff-ffff-ffffffffffff", "f082aa21-2ef1-4222-aabf-e7254da7ea8f" };
	uint8_t bytes[16];
	char text[37];

	(void)state;
	for (size_t i = 0; i < sizeof(ids) / sizeof(ids[0]); i++) {
		assert_int_equal(uuid_parse(ids[i], bytes), 0);
		uuid_format(bytes, text);
		assert_string_equal(text, ids[i]);
	}
}

static void
test_refuses_malformed(void **state)
{
	static const char *bad[] = {
		"",
		"0badc0de-0001-4000-8000-123456789ab",		/* one digit short */
		"0badc0de-0001-4000-8000-123456789abcd",	/* one too many */
		"0badc0de00001-4000-8000-123456789abc",		/* a dash missing */
		"0badc0d-e0001-4000-8000-123456789abc",		/* a dash moved */
		"0badc0de-0001-4000-8000-123456789abg",		/* not hex */
		"0badc0de-0001-4000-8000-12345678 abc",		/* a space */
		"{badc0de-0001-4000-8000-123456789ab}",		/* braces */
	};
	uint8_t out[16], untouched[16];

	(void)state;
	memset(out, 0xa5, sizeof(out));
	memcpy(untouched, out, sizeof(out));
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		assert_int_equal(uuid_parse(bad[i], out), -1);
		assert_memory_equal(out, untouched, 16);
	}
	assert_int_equal(uuid_parse(NULL, out), -1);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_parses_both_cases),
		cmocka_unit_test(test_formats_lower_case_and_round_trips),
		cmocka_unit_test(test_refuses_malformed),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
