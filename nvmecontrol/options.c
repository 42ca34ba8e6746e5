/* SPDX-License-Identifier: BSD-2-Clause
 * Copyright (c) 2026 The nvmf developers */
/*
 * options.c - the command line shared by the fabrics commands: FreeBSD
 * nvmecontrol's short options and long names, with nvme-cli's spellings
 * alongside (its long names, and its letters where FreeBSD leaves them
 * free), addresses (address:port, [IPv6]:port) and durations.
 */
#include <ctype.h>
#include <getopt.h>
#include <inttypes.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "cli_table.h"
#include "nvmecontrol.h"

/* ------------------------------------------------------------- run directory */
static const char *rundir_opt;

void
rundir_set(const char *dir)
{
	rundir_opt = dir;
}

const char *
rundir_get(void)
{
	const char *env;

	if (rundir_opt != NULL && rundir_opt[0] != '\0')
		return rundir_opt;
	env = getenv("NVMF_RUNDIR");
	if (env != NULL && env[0] != '\0')
		return env;
	return DEFAULT_RUNDIR;
}

/* ------------------------------------------------------------------ numbers */
int
parse_duration_ms(const char *s, int64_t default_unit_ms, int64_t *ms)
{
	static const struct { const char *suffix; int64_t ms; } units[] = {
		{ "ms", 1 }, { "s", 1000 }, { "sec", 1000 }, { "m", 60000 },
		{ "min", 60000 }, { "h", 3600000 },
	};
	uint64_t v;
	int64_t unit = default_unit_ms;
	const char *end;

	if (decimal_scan(s, INT64_MAX, &v, &end) != 0)
		return -1;
	if (*end != '\0') {
		size_t i;

		for (i = 0; i < sizeof(units) / sizeof(units[0]); i++)
			if (strcmp(end, units[i].suffix) == 0)
				break;
		if (i == sizeof(units) / sizeof(units[0]))
			return -1;
		unit = units[i].ms;
	}
	if (v > (uint64_t)(INT64_MAX / unit))
		return -1;
	*ms = (int64_t)v * unit;
	return 0;
}

int
parse_output_format(const char *s, enum output_format *out)
{
	if (strcmp(s, "normal") == 0 || strcmp(s, "text") == 0) {
		*out = OUTPUT_NORMAL;
		return 0;
	}
	if (strcmp(s, "json") == 0) {
		*out = OUTPUT_JSON;
		return 0;
	}
	return -1;
}

/* ---------------------------------------------------------------- addresses */
int
parse_address(const char *in, const char *defport, struct target_addr *out,
    char *err, size_t errlen)
{
	const char *host = in, *port = NULL, *colon;
	size_t hostlen;

	memset(out, 0, sizeof(*out));
	if (in == NULL || *in == '\0') {
		snprintf(err, errlen, "empty address");
		return -1;
	}
	if (in[0] == '[') {
		const char *close = strchr(in, ']');

		if (close == NULL || close == in + 1) {
			snprintf(err, errlen, "invalid address %s", in);
			return -1;
		}
		host = in + 1;
		hostlen = (size_t)(close - host);
		if (close[1] == ':') {
			if (close[2] == '\0') {
				snprintf(err, errlen, "invalid address %s: empty port", in);
				return -1;
			}
			port = close + 2;
		} else if (close[1] != '\0') {
			snprintf(err, errlen, "invalid address %s", in);
			return -1;
		}
	} else {
		colon = strchr(in, ':');
		if (colon != NULL && strchr(colon + 1, ':') != NULL) {
			/* More than one colon: a bare IPv6 address, no port. */
			hostlen = strlen(in);
		} else if (colon != NULL) {
			if (colon == in || colon[1] == '\0') {
				snprintf(err, errlen, "invalid address %s", in);
				return -1;
			}
			hostlen = (size_t)(colon - in);
			port = colon + 1;
		} else {
			hostlen = strlen(in);
		}
	}
	if (hostlen >= sizeof(out->address)) {
		snprintf(err, errlen, "address too long");
		return -1;
	}
	memcpy(out->address, host, hostlen);
	out->address[hostlen] = '\0';
	for (const char *p = out->address; *p != '\0'; p++) {
		if (isspace((unsigned char)*p) || *p == '[' || *p == ']' || *p == '/') {
			snprintf(err, errlen, "invalid address %s", in);
			return -1;
		}
	}
	if (port != NULL) {
		uint64_t v;

		/* A service is a port number (TCP); names are not NVMe/TCP's way. */
		if (decimal_parse(port, 65535, &v) != 0 || v == 0) {
			snprintf(err, errlen, "invalid port '%s' in address %s (a decimal number "
			    "from 1 to 65535)", port, in);
			return -1;
		}
		snprintf(out->port, sizeof(out->port), "%" PRIu64, v);
		out->port_given = true;
	} else if (defport != NULL) {
		snprintf(out->port, sizeof(out->port), "%s", defport);
	} else {
		snprintf(err, errlen, "address %s has no port (address:port)", in);
		return -1;
	}
	return 0;
}

void
format_address(const char *address, const char *port, char *buf, size_t len)
{
	if (strchr(address, ':') != NULL)
		snprintf(buf, len, "[%s]:%s", address, port);
	else
		snprintf(buf, len, "%s:%s", address, port);
}

/* ------------------------------------------------------------ fabric options */
void
fabric_opts_init(struct fabric_opts *o)
{
	memset(o, 0, sizeof(*o));
	o->transport = "tcp";
	o->cntlid = NVMF_CNTLID_DYNAMIC;
	o->nr_io_queues = NVMF_DEFAULT_NR_IO_QUEUES;
	o->queue_size = 0;
	o->kato_ms = DEFAULT_KATO_MS;
	o->reconnect_delay = DEFAULT_RECONNECT_DELAY;
	o->ctrl_loss_tmo = DEFAULT_CTRL_LOSS_TMO;
	o->fast_io_fail_tmo = NVMF_DEFAULT_FAST_IO_FAIL_TMO;
	o->flow_control = false;	/* FreeBSD's default: ask to disable it */
	o->timeout_ms = DEFAULT_TIMEOUT_MS;
	o->output = OUTPUT_NORMAL;
}

/* One line naming the option, the value and what it takes; EXIT_USAGE. */
static int
bad_value(const char *cmd, int val, const char *arg, const char *takes)
{
	char name[64];

	cli_option_label(cmd, val, name, sizeof(name));
	return usage_error(cmd, "invalid value '%s' for %s (%s)", arg, name, takes);
}

#define STRINGIFY_(x) #x
#define STRINGIFY(x) STRINGIFY_(x)
#define DURATION_TAKES(what) what ": decimal seconds, or with ms, s, m or h"

/* Whole seconds from a duration option; EXIT_USAGE after the message otherwise. */
static int
seconds_option(const char *cmd, int val, const char *arg, bool allow_minus_one, int *out)
{
	int64_t ms;

	if (allow_minus_one && strcmp(arg, "-1") == 0) {
		*out = -1;
		return 0;
	}
	if (parse_duration_ms(arg, 1000, &ms) != 0 || ms % 1000 != 0 ||
	    ms / 1000 > INT_MAX)
		return bad_value(cmd, val, arg, allow_minus_one ?
		    "whole seconds, decimal, or with s, m or h, at most 2147483647 s, or -1" :
		    "whole seconds, decimal, or with s, m or h, at most 2147483647 s");
	*out = (int)(ms / 1000);
	return 0;
}

int
fabric_opts_parse(const char *cmd, int argc, char **argv, struct fabric_opts *o,
    int *first)
{
	static char trsvcid[24];	/* o->trsvcid, once read as a number */
	struct cli_parser p;
	int ch;

	cli_parse_begin(&p, cmd, argc, argv);
	while ((ch = cli_next(&p, argc, argv)) >= 0) {
		uint64_t v;
		int64_t ms;

		switch (ch) {
		case 't':
			if (strcasecmp(optarg, "tcp") != 0)
				return usage_error(cmd, "unsupported transport '%s' (only tcp)",
				    optarg);
			o->transport = "tcp";
			break;
		case 'c':
			if (strcasecmp(optarg, "dynamic") == 0)
				o->cntlid = NVMF_CNTLID_DYNAMIC;
			else if (strcasecmp(optarg, "static") == 0)
				o->cntlid = NVMF_CNTLID_STATIC_ANY;
			else if (decimal_parse(optarg, 0xffef, &v) == 0)
				o->cntlid = (uint16_t)v;
			else
				return bad_value(cmd, ch, optarg, "dynamic, static or a decimal "
				    "controller ID from 0 to 65519");
			o->cntlid_given = true;
			break;
		case 'i':
			if (decimal_parse(optarg, MAX_IO_QUEUES, &v) != 0 || v == 0)
				return bad_value(cmd, ch, optarg, "a decimal number of I/O queues "
				    "from 1 to " STRINGIFY(MAX_IO_QUEUES));
			o->nr_io_queues = (uint32_t)v;
			break;
		case 'Q':
			if (decimal_parse(optarg, 65535, &v) != 0 || v < 2)
				return bad_value(cmd, ch, optarg, "a decimal queue size from 2 to "
				    "65535");
			o->queue_size = (uint32_t)v;
			break;
		case 'k':
			if (parse_duration_ms(optarg, 1000, &ms) != 0 || ms > UINT32_MAX)
				return bad_value(cmd, ch, optarg, DURATION_TAKES("a keep-alive "
				    "timeout") ", at most 4294967295 ms");
			o->kato_ms = (uint32_t)ms;
			o->kato_given = true;
			break;
		case 'r':
			if (seconds_option(cmd, ch, optarg, false, &o->reconnect_delay) != 0)
				return EXIT_USAGE;
			break;
		case 'l':
			/* nvme-cli's -1 (retry for ever) is our 0: never detach. */
			if (seconds_option(cmd, ch, optarg, true, &o->ctrl_loss_tmo) != 0)
				return EXIT_USAGE;
			if (o->ctrl_loss_tmo < 0)
				o->ctrl_loss_tmo = 0;
			break;
		case OPT_FAST_IO_FAIL:
			if (seconds_option(cmd, ch, optarg, true, &o->fast_io_fail_tmo) != 0)
				return EXIT_USAGE;
			break;
		case 'q':
			if (!nqn_valid(optarg))
				return usage_error(cmd, "invalid host NQN '%s'", optarg);
			o->hostnqn = optarg;
			break;
		case 'I': {
			uint8_t id[16];

			if (uuid_parse(optarg, id) != 0)
				return usage_error(cmd, "invalid host ID '%s' (a UUID)", optarg);
			o->hostid = optarg;
			break;
		}
		case 'F':
			o->flow_control = true;
			o->flow_control_given = true;
			break;
		case 'd':
			o->flow_control = false;
			o->flow_control_given = true;
			break;
		case 'D':
			o->duplicate_connect = true;
			break;
		case 'g':
			o->hdr_digest = true;
			break;
		case 'G':
			o->data_digest = true;
			break;
		case 'v':
			o->verbose = true;
			break;
		case 'p':
			o->persistent = true;
			break;
		case OPT_DEVICE:
			o->device = optarg;
			break;
		case 'o':
			if (parse_output_format(optarg, &o->output) != 0)
				return usage_error(cmd, "invalid output format '%s' (normal or json)",
				    optarg);
			break;
		case OPT_TIMEOUT:
			if (parse_duration_ms(optarg, 1000, &ms) != 0 || ms <= 0 ||
			    ms > INT_MAX)
				return bad_value(cmd, ch, optarg, DURATION_TAKES("a timeout above "
				    "0") ", at most 2147483647 ms");
			o->timeout_ms = (int)ms;
			break;
		case 'a':
			o->address = optarg;
			break;
		case 's':
			if (decimal_parse(optarg, 65535, &v) != 0 || v == 0)
				return bad_value(cmd, ch, optarg, "a decimal port from 1 to 65535");
			/* As the target will see it: 04420 is port 4420. */
			snprintf(trsvcid, sizeof(trsvcid), "%" PRIu64, v);
			o->trsvcid = trsvcid;
			break;
		case 'n':
			o->subnqn = optarg;
			break;
		}
	}
	if (ch == CLI_HELP)
		return -1;
	if (ch == CLI_ERROR)
		return EXIT_USAGE;
	*first = optind;
	return 0;
}
