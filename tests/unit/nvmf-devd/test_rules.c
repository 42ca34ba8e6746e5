/* SPDX-License-Identifier: BSD-2-Clause
 * Copyright (c) 2026 The nvmf developers */
/*
 * test_rules.c - nvmf-devd's event lines, devd.conf rules and the quoting
 * of event values into actions.
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
#include <sys/wait.h>
#include <unistd.h>

#include "devd.h"

static const char freebsd_rule[] =
    "#\n# comment\n#\n"
    "notify 100 {\n"
    "\tmatch \"system\" \"nvme\";\n"
    "\tmatch \"subsystem\" \"controller\";\n"
    "\tmatch \"type\" \"RECONNECT\";\n"
    "\taction \"nvmecontrol reconnect $name\";\n"
    "};\n";

static const char reconnect_line[] =
    "!system=nvme subsystem=controller type=RECONNECT name=\"nvme0\"";

static void
test_event_parses_freebsd_notation(void **state)
{
	struct event ev;

	(void)state;
	assert_int_equal(event_parse(reconnect_line, &ev), 0);
	assert_int_equal(ev.kind, '!');
	assert_int_equal(ev.nvars, 4);
	assert_string_equal(event_get(&ev, "system"), "nvme");
	assert_string_equal(event_get(&ev, "subsystem"), "controller");
	assert_string_equal(event_get(&ev, "type"), "RECONNECT");
	assert_string_equal(event_get(&ev, "name"), "nvme0");
	assert_null(event_get(&ev, "nope"));
}

static void
test_event_quoted_value_keeps_spaces(void **state)
{
	struct event ev;

	(void)state;
	assert_int_equal(event_parse("!system=nvme reason=\"no answer in 2 s\"", &ev), 0);
	assert_string_equal(event_get(&ev, "reason"), "no answer in 2 s");
}

static void
test_event_rejects_non_events(void **state)
{
	struct event ev;

	(void)state;
	assert_int_equal(event_parse("", &ev), -1);
	assert_int_equal(event_parse("system=nvme", &ev), -1);	/* no kind */
	assert_int_equal(event_parse("!", &ev), -1);
	assert_int_equal(event_parse("!novalue", &ev), -1);
	assert_int_equal(event_parse("!name=\"unterminated", &ev), -1);
	assert_int_equal(event_parse("!=x", &ev), -1);
}

static void
test_freebsd_rule_matches_reconnect_only(void **state)
{
	struct ruleset rs = { 0 };
	struct event ev;
	char err[256];
	const struct rule *r;

	(void)state;
	assert_int_equal(ruleset_parse(&rs, freebsd_rule, "nvmf.conf", err, sizeof(err)), 0);
	ruleset_sort(&rs);
	assert_int_equal(rs.nrules, 1);
	assert_int_equal(event_parse(reconnect_line, &ev), 0);
	r = ruleset_match(&rs, &ev);
	assert_non_null(r);
	assert_int_equal(r->nactions, 1);
	assert_string_equal(r->actions[0], "nvmecontrol reconnect $name");
	assert_int_equal(event_parse("!system=nvme subsystem=controller type=DETACHED "
	    "name=\"nvme0\"", &ev), 0);
	assert_null(ruleset_match(&rs, &ev));
	/* Regular expressions are anchored: RECONNECTED is not RECONNECT. */
	assert_int_equal(event_parse("!system=nvme subsystem=controller type=RECONNECTED "
	    "name=\"nvme0\"", &ev), 0);
	assert_null(ruleset_match(&rs, &ev));
	ruleset_free(&rs);
}

static void
test_highest_priority_rule_wins_ties_in_file_order(void **state)
{
	static const char text[] =
	    "notify 10 { match \"system\" \"nvme\"; action \"low\"; };\n"
	    "notify 50 { match \"system\" \"nvme\"; action \"first-50\"; };\n"
	    "notify 50 { match \"system\" \"nvme\"; action \"second-50\"; };\n"
	    "/* attach rules never match notify events */\n"
	    "attach 99 { match \"system\" \"nvme\"; action \"attach\"; };\n";
	struct ruleset rs = { 0 };
	struct event ev;
	char err[256];

	(void)state;
	assert_int_equal(ruleset_parse(&rs, text, "t.conf", err, sizeof(err)), 0);
	ruleset_sort(&rs);
	assert_int_equal(event_parse("!system=nvme", &ev), 0);
	assert_string_equal(ruleset_match(&rs, &ev)->actions[0], "first-50");
	ruleset_free(&rs);
}

static void
test_regex_alternatives_and_missing_key(void **state)
{
	static const char text[] =
	    "notify 0 { match \"type\" \"(RECONNECT|DETACHED)\"; match \"name\" \"nvme[0-9]+\";"
	    " action \"x $type\"; };\n";
	struct ruleset rs = { 0 };
	struct event ev;
	char err[256];

	(void)state;
	assert_int_equal(ruleset_parse(&rs, text, "t.conf", err, sizeof(err)), 0);
	assert_int_equal(event_parse("!type=DETACHED name=nvme12", &ev), 0);
	assert_non_null(ruleset_match(&rs, &ev));
	assert_int_equal(event_parse("!type=DETACHED name=nvme12ns1", &ev), 0);
	assert_null(ruleset_match(&rs, &ev));
	assert_int_equal(event_parse("!type=DETACHED", &ev), 0);	/* no name at all */
	assert_null(ruleset_match(&rs, &ev));
	ruleset_free(&rs);
}

static void
test_options_blocks_and_comments_are_skipped(void **state)
{
	static const char text[] =
	    "options { directory \"/etc/devd\"; set x \"y\"; };\n"
	    "// a comment\n"
	    "notify 1 { match \"system\" \"nvme\"; action \"a\"; }; # trailing\n";
	struct ruleset rs = { 0 };
	char err[256];

	(void)state;
	assert_int_equal(ruleset_parse(&rs, text, "t.conf", err, sizeof(err)), 0);
	assert_int_equal(rs.nrules, 1);
	ruleset_free(&rs);
}

static void
expect_parse_error(const char *text, const char *want)
{
	struct ruleset rs = { 0 };
	char err[256] = "";

	assert_int_equal(ruleset_parse(&rs, text, "bad.conf", err, sizeof(err)), -1);
	if (strstr(err, want) == NULL)
		fail_msg("error \"%s\" does not contain \"%s\"", err, want);
	ruleset_free(&rs);
}

static void
test_errors_name_file_and_line(void **state)
{
	(void)state;
	expect_parse_error("notify 1 {\n match \"a\" \"b\"\n};", "bad.conf:3: expected ';'");
	expect_parse_error("\n\nnotfy 1 { };", "bad.conf:3: unknown statement 'notfy'");
	expect_parse_error("notify { };", "bad.conf:1: expected a priority number");
	expect_parse_error("notify 1 { match \"a\" \"(\"; };", "bad regular expression");
	expect_parse_error("notify 1 { action \"x; };", "unterminated string");
	expect_parse_error("notify 1 { match \"a\" \"b\"; }", "expected ';' after '}'");
	expect_parse_error("notify 1 { @ };", "unexpected character '@'");
}

static void
test_expand_quotes_values_against_injection(void **state)
{
	struct event ev;
	char out[512];

	(void)state;
	assert_int_equal(event_parse("!name=\"nvme0; touch /tmp/pwned\" who=\"it's\"", &ev), 0);
	assert_int_equal(event_expand(&ev, "nvmecontrol reconnect $name", out, sizeof(out)), 0);
	assert_string_equal(out, "nvmecontrol reconnect 'nvme0; touch /tmp/pwned'");
	assert_int_equal(event_expand(&ev, "echo ${who}x $missing $", out, sizeof(out)), 0);
	assert_string_equal(out, "echo 'it'\\''s'x '' $");
	assert_int_equal(event_expand(&ev, "echo $name", out, 10), -1);
}

static void
test_expanded_action_runs_as_one_argument(void **state)
{
	char dir[] = "/tmp/nvmf-devd-test.XXXXXX", cmd[1024], out[1024], line[256];
	struct event ev;
	FILE *f;

	(void)state;
	assert_non_null(mkdtemp(dir));
	snprintf(line, sizeof(line), "!name=\"x'; touch %s/pwned; echo '\"", dir);
	assert_int_equal(event_parse(line, &ev), 0);
	snprintf(cmd, sizeof(cmd), "printf '%%s' $name > %s/arg", dir);
	assert_int_equal(event_expand(&ev, cmd, out, sizeof(out)), 0);
	assert_int_equal(WEXITSTATUS(system(out)), 0);
	snprintf(cmd, sizeof(cmd), "%s/pwned", dir);
	assert_int_equal(access(cmd, F_OK), -1);	/* nothing was injected */
	snprintf(cmd, sizeof(cmd), "%s/arg", dir);
	f = fopen(cmd, "r");
	assert_non_null(f);
	assert_non_null(fgets(out, sizeof(out), f));
	fclose(f);
	snprintf(line, sizeof(line), "x'; touch %s/pwned; echo '", dir);
	assert_string_equal(out, line);
	snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
	assert_int_equal(system(cmd), 0);
}

static void
test_directory_loads_conf_files_in_name_order(void **state)
{
	char dir[] = "/tmp/nvmf-devd-rules.XXXXXX", path[512], err[256];
	struct ruleset rs = { 0 };
	struct event ev;
	FILE *f;

	(void)state;
	assert_non_null(mkdtemp(dir));
	snprintf(path, sizeof(path), "%s/20-b.conf", dir);
	f = fopen(path, "w");
	fputs("notify 5 { match \"system\" \"nvme\"; action \"b\"; };\n", f);
	fclose(f);
	snprintf(path, sizeof(path), "%s/10-a.conf", dir);
	f = fopen(path, "w");
	fputs("notify 5 { match \"system\" \"nvme\"; action \"a\"; };\n", f);
	fclose(f);
	snprintf(path, sizeof(path), "%s/README", dir);	/* not a .conf: ignored */
	f = fopen(path, "w");
	fputs("this is not devd syntax\n", f);
	fclose(f);
	assert_int_equal(ruleset_load(&rs, dir, err, sizeof(err)), 0);
	assert_int_equal(rs.nrules, 2);
	assert_int_equal(event_parse("!system=nvme", &ev), 0);
	assert_string_equal(ruleset_match(&rs, &ev)->actions[0], "a");
	ruleset_free(&rs);
	snprintf(path, sizeof(path), "rm -rf %s", dir);
	assert_int_equal(system(path), 0);
	assert_int_equal(ruleset_load(&rs, "/nonexistent/nvmf.conf", err, sizeof(err)), -1);
	assert_non_null(strstr(err, "/nonexistent/nvmf.conf: No such file"));
}

static void
test_shipped_rule_file_loads(void **state)
{
	struct ruleset rs = { 0 };
	struct event ev;
	char err[256];

	(void)state;
	assert_int_equal(ruleset_load(&rs, "etc/nvmf.conf", err, sizeof(err)), 0);
	assert_int_equal(event_parse(reconnect_line, &ev), 0);
	assert_non_null(ruleset_match(&rs, &ev));
	ruleset_free(&rs);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_event_parses_freebsd_notation),
		cmocka_unit_test(test_event_quoted_value_keeps_spaces),
		cmocka_unit_test(test_event_rejects_non_events),
		cmocka_unit_test(test_freebsd_rule_matches_reconnect_only),
		cmocka_unit_test(test_highest_priority_rule_wins_ties_in_file_order),
		cmocka_unit_test(test_regex_alternatives_and_missing_key),
		cmocka_unit_test(test_options_blocks_and_comments_are_skipped),
		cmocka_unit_test(test_errors_name_file_and_line),
		cmocka_unit_test(test_expand_quotes_values_against_injection),
		cmocka_unit_test(test_expanded_action_runs_as_one_argument),
		cmocka_unit_test(test_directory_loads_conf_files_in_name_order),
		cmocka_unit_test(test_shipped_rule_file_loads),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
