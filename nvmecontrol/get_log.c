/* SPDX-License-Identifier: BSD-2-Clause
 * Copyright (c) 2026 The nvmf developers */
/*
 * get_log.c - "get-log nvmeX --log-id N": a log page read with Get Log Page
 * through nvmf-hostd, with nvme-cli's options; printed as a hex dump, as
 * JSON (the raw bytes, and the fields of the Error Information, SMART /
 * Health and Firmware Slot logs), or as the raw bytes (-o binary, -b).
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <json-c/json.h>

#include "cli_table.h"
#include "nvmecontrol.h"

#define GET_LOG_TIMEOUT_MS	30000
#define GET_LOG_MAX_LEN		65536	/* what nvmf-hostd's admin operation moves */

enum log_format { LOG_NORMAL, LOG_JSON, LOG_BINARY };

static uint64_t
le(const uint8_t *p, unsigned n)
{
	uint64_t v = 0;

	for (unsigned i = n; i > 0; i--)
		v = v << 8 | p[i - 1];
	return v;
}

static void
add_u64(struct json_object *o, const char *k, uint64_t v)
{
	json_object_object_add(o, k, json_object_new_uint64(v));
}

/* The fields nvme-cli's error-log, smart-log and fw-log print, by their names. */
static void
decode(uint8_t lid, const uint8_t *b, uint32_t len, struct json_object *out)
{
	if (lid == NVME_LOG_ERROR) {
		struct json_object *errors = json_object_new_array();

		for (uint32_t off = 0; off + 64 <= len; off += 64) {
			struct json_object *e = json_object_new_object();

			add_u64(e, "error_count", le(b + off, 8));
			add_u64(e, "sqid", le(b + off + 8, 2));
			add_u64(e, "cmdid", le(b + off + 10, 2));
			add_u64(e, "status_field", le(b + off + 12, 2) >> 1);
			add_u64(e, "parm_error_location", le(b + off + 14, 2));
			add_u64(e, "lba", le(b + off + 16, 8));
			add_u64(e, "nsid", le(b + off + 24, 4));
			json_object_array_add(errors, e);
		}
		json_object_object_add(out, "errors", errors);
	} else if (lid == NVME_LOG_HEALTH && len >= 512) {
		struct json_object *h = json_object_new_object();

		add_u64(h, "critical_warning", b[0]);
		add_u64(h, "temperature", le(b + 1, 2));
		add_u64(h, "avail_spare", b[3]);
		add_u64(h, "spare_thresh", b[4]);
		add_u64(h, "percent_used", b[5]);
		/* 128-bit counters: their low 64 bits, all a real count reaches. */
		add_u64(h, "data_units_read", le(b + 32, 8));
		add_u64(h, "data_units_written", le(b + 48, 8));
		add_u64(h, "host_read_commands", le(b + 64, 8));
		add_u64(h, "host_write_commands", le(b + 80, 8));
		add_u64(h, "controller_busy_time", le(b + 96, 8));
		add_u64(h, "power_cycles", le(b + 112, 8));
		add_u64(h, "power_on_hours", le(b + 128, 8));
		add_u64(h, "unsafe_shutdowns", le(b + 144, 8));
		add_u64(h, "media_errors", le(b + 160, 8));
		add_u64(h, "num_err_log_entries", le(b + 176, 8));
		json_object_object_add(out, "smart", h);
	} else if (lid == NVME_LOG_FIRMWARE_SLOT && len >= 64) {
		struct json_object *f = json_object_new_object();

		add_u64(f, "afi", b[0]);
		for (unsigned slot = 1; slot <= 7; slot++) {
			char key[16], rev[9];

			id_string(rev, sizeof(rev), (const char *)b + 8 * slot, 8);
			if (rev[0] == '\0')
				continue;
			snprintf(key, sizeof(key), "frs%u", slot);
			json_object_object_add(f, key, json_object_new_string(rev));
		}
		json_object_object_add(out, "firmware_slots", f);
	}
}

static void
hexdump(const uint8_t *b, uint32_t len)
{
	for (uint32_t i = 0; i < len; i += 16) {
		printf("%04" PRIx32 ":", i);
		for (uint32_t j = 0; j < 16 && i + j < len; j++)
			printf(" %02x", b[i + j]);
		printf("\n");
	}
}

/* Log pages whose length nvme-cli users need not know: the fixed-size ones. */
static uint32_t
default_len(uint8_t lid)
{
	switch (lid) {
	case NVME_LOG_ERROR:
		return 64;
	case NVME_LOG_HEALTH:
	case NVME_LOG_FIRMWARE_SLOT:
		return 512;
	default:
		return 0;
	}
}

static int
number(const char *cmd, const char *opt, const char *arg, uint64_t max, uint64_t *v)
{
	if (decimal_parse(arg, max, v) != 0)
		return usage_error(cmd, "invalid value '%s' for %s (a decimal number from 0 "
		    "to %" PRIu64 ")", arg, opt, max);
	return 0;
}

int
cmd_get_log(int argc, char **argv)
{
	const char *cmd = "get-log";
	enum log_format fmt = LOG_NORMAL;
	uint64_t lid = 256, len = 0, nsid = 0xffffffff, lsp = 0, lpo = 0;
	bool written = true;
	bool rae = false;
	struct nvme_command sqe;
	char name[64], err[ERRLEN];
	uint16_t status;
	uint8_t *buf;
	struct cli_parser p;
	int ch, rc;

	cli_parse_begin(&p, cmd, argc, argv);
	while ((ch = cli_next(&p, argc, argv)) >= 0) {
		switch (ch) {
		case 'i':
			if (number(cmd, "-i/--log-id", optarg, 255, &lid) != 0)
				return EXIT_USAGE;
			break;
		case 'l':
			if (number(cmd, "-l/--log-len", optarg, GET_LOG_MAX_LEN, &len) != 0)
				return EXIT_USAGE;
			if (len == 0 || len % 4 != 0)
				return usage_error(cmd, "invalid value '%s' for -l/--log-len (a "
				    "multiple of 4 from 4 to %d)", optarg, GET_LOG_MAX_LEN);
			break;
		case 'n':
			if (number(cmd, "-n/--namespace-id", optarg, 0xffffffff, &nsid) != 0)
				return EXIT_USAGE;
			break;
		case 's':
			if (number(cmd, "-s/--lsp", optarg, 127, &lsp) != 0)
				return EXIT_USAGE;
			break;
		case 'L':
			if (number(cmd, "-L/--lpo", optarg, UINT64_MAX, &lpo) != 0)
				return EXIT_USAGE;
			break;
		case 'r':
			rae = true;
			break;
		case 'b':
			fmt = LOG_BINARY;
			break;
		case 'o':
			if (strcmp(optarg, "binary") == 0)
				fmt = LOG_BINARY;
			else if (strcmp(optarg, "json") == 0)
				fmt = LOG_JSON;
			else if (strcmp(optarg, "normal") == 0)
				fmt = LOG_NORMAL;
			else
				return usage_error(cmd, "invalid output format '%s' (normal, json "
				    "or binary)", optarg);
			break;
		}
	}
	if (ch != CLI_END)
		return ch == CLI_HELP ? 0 : EXIT_USAGE;
	if (optind >= argc)
		return usage_error(cmd, "missing controller name (nvmeX)");
	if (optind + 1 < argc)
		return usage_error(cmd, "unexpected argument '%s'", argv[optind + 1]);
	rc = controller_operand(cmd, argv[optind], name, sizeof(name));
	if (rc != 0)
		return rc;
	if (lid > 255)
		return usage_error(cmd, "missing -i/--log-id");
	if (len == 0)
		len = default_len((uint8_t)lid);
	if (len == 0)
		return usage_error(cmd, "log page %" PRIu64 " needs -l/--log-len", lid);

	nvmf_cmd_get_log_page(&sqe, (uint8_t)lid, (uint32_t)nsid, lpo, (uint32_t)len);
	/* CDW10: Log Specific Parameter in bits 14:8, Retain Asynchronous Event in 15. */
	sqe.cdw10 |= (uint32_t)lsp << 8 | (rae ? 1u << 15 : 0);
	buf = calloc(1, len);
	if (buf == NULL) {
		errmsg("out of memory");
		return EXIT_ERROR;
	}
	if (admin_read(name, &sqe, buf, (uint32_t)len, GET_LOG_TIMEOUT_MS, &status, err,
	    sizeof(err)) != 0) {
		errmsg("%s: %s", name, err);
		free(buf);
		return EXIT_ERROR;
	}
	if (status != 0) {
		errmsg("%s: Get Log Page (log %" PRIu64 ") failed: %s (status 0x%04x)", name, lid,
		    nvmf_status_string(status & ~NVME_STATUS_DNR), status);
		free(buf);
		return EXIT_ERROR;
	}
	if (fmt == LOG_BINARY) {
		written = fwrite(buf, 1, len, stdout) == len;
	} else if (fmt == LOG_JSON) {
		struct json_object *o = json_object_new_object();
		char *b64 = base64_encode(buf, len);

		json_object_object_add(o, "device", json_object_new_string(name));
		add_u64(o, "log_id", lid);
		add_u64(o, "namespace_id", nsid);
		add_u64(o, "log_len", len);
		json_object_object_add(o, "data", json_object_new_string(b64 ? b64 : ""));
		free(b64);
		decode((uint8_t)lid, buf, (uint32_t)len, o);
		print_json(o);
		json_object_put(o);
	} else {
		printf("Device:%s log_id:%" PRIu64 " namespace_id:%#" PRIx64 "\n", name, lid, nsid);
		hexdump(buf, (uint32_t)len);
	}
	free(buf);
	return written && fflush(stdout) == 0 ? 0 : EXIT_ERROR;
}
