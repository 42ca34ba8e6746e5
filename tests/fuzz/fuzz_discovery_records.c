/* SPDX-License-Identifier: BSD-2-Clause
 * Copyright (c) 2026 The nvmf developers */
/*
 * fuzz_discovery_records.c - libFuzzer target for what nvmecontrol makes of
 * discovery log records a target sends (discover -o json, connect-all): each
 * 1024-byte record becomes a JSON object that parses back, whose strings are
 * printable and bounded whatever the record's fields hold (NQN and address
 * fields need not be NUL-terminated), and whose address formats for a dial.
 *
 * fuzz-sources: nvmecontrol/discover.c nvmecontrol/util.c nvmecontrol/options.c nvmecontrol/control.c nvmecontrol/association.c nvmecontrol/hostnqn.c nvmecontrol/nvme_glue.c nvmecontrol/libnvme_load.c lib/util/base64.c lib/util/log.c lib/util/decimal.c
 * fuzz-cflags: -Invmecontrol -Ilib/util
 * fuzz-libs: -ljson-c
 */
#include <json-c/json.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli_table.h"
#include "nvmecontrol.h"
#include "fuzz_check.h"

/* main.c's diagnostics, which the harness replaces; cmd_* are not run here. */
void
errmsg(const char *fmt, ...)
{
	(void)fmt;
}

int
usage_error(const char *cmd, const char *fmt, ...)
{
	(void)cmd;
	(void)fmt;
	return 2;
}

void
print_usage(const char *cmd, bool to_stderr)
{
	(void)cmd;
	(void)to_stderr;
}

/* The command table's parser (cli_parse.c, commands.c): no command line is parsed here. */
void
cli_parse_begin(struct cli_parser *p, const char *cmd, int argc, char **argv)
{
	(void)p;
	(void)cmd;
	(void)argc;
	(void)argv;
}

int
cli_next(struct cli_parser *p, int argc, char **argv)
{
	(void)p;
	(void)argc;
	(void)argv;
	return CLI_ERROR;
}

void
cli_option_label(const char *cmd, int val, char *buf, size_t len)
{
	(void)cmd;
	(void)val;
	snprintf(buf, len, "?");
}

int
unexpected_argument(const char *cmd, const char *surplus)
{
	(void)cmd;
	(void)surplus;
	return 2;
}

static void
check_printable(const char *s, size_t max)
{
	size_t n = strlen(s);

	CHECK(n <= max);
	for (size_t i = 0; i < n; i++)
		CHECK((unsigned char)s[i] >= 0x20 && (unsigned char)s[i] < 0x7f);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct nvmf_discovery_log_entry e;
	char where[400];

	for (size_t off = 0; off < size; off += sizeof(e)) {
		size_t n = size - off < sizeof(e) ? size - off : sizeof(e);
		struct json_object *o, *back;
		const char *text;

		memset(&e, 0, sizeof(e));
		memcpy(&e, data + off, n);
		o = discover_entry_json(&e);
		CHECK(o != NULL);
		text = json_object_to_json_string_ext(o, JSON_C_TO_STRING_PLAIN);
		back = json_tokener_parse(text);
		CHECK(back != NULL && json_object_is_type(back, json_type_object));
		check_printable(json_get_string(back, "subnqn", ""), 256);
		check_printable(json_get_string(back, "traddr", ""), 256);
		check_printable(json_get_string(back, "trsvcid", ""), 32);
		format_address(json_get_string(back, "traddr", ""),
		    json_get_string(back, "trsvcid", ""), where, sizeof(where));
		CHECK(strlen(where) < sizeof(where));
		json_object_put(back);
		json_object_put(o);
	}
	return 0;
}
