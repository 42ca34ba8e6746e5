/* SPDX-License-Identifier: BSD-2-Clause
 * Copyright (c) 2026 The nvmf developers */
/*
 * options.c - nvmf-perf's command line, in spdk_nvme_perf's letters: the
 * transport ID string of -r, the workload (-q -o -w -M -t), the queues and
 * threads (-P -c), digests (-H -I) and nvmf-perf's own long options.
 * Every error is one line naming the option.
 */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "decimal.h"
#include "perf.h"

static const struct {
	const char *name;
	enum perf_pattern pattern;
	bool random;
	unsigned read_pct;
} patterns[] = {
	{ "read", PERF_READ, false, 100 },
	{ "write", PERF_WRITE, false, 0 },
	{ "randread", PERF_RANDREAD, true, 100 },
	{ "randwrite", PERF_RANDWRITE, true, 0 },
	{ "rw", PERF_RW, false, 50 },
	{ "randrw", PERF_RANDRW, true, 50 },
};
#define NPATTERNS (sizeof(patterns) / sizeof(patterns[0]))

const char *
perf_pattern_name(enum perf_pattern p)
{
	for (size_t i = 0; i < NPATTERNS; i++)
		if (patterns[i].pattern == p)
			return patterns[i].name;
	return "?";
}

void
perf_usage(FILE *f)
{
	fprintf(f,
	    "usage: nvmf-perf -r 'trtype:tcp traddr:ADDR trsvcid:PORT subnqn:NQN [hostnqn:NQN] [ns:ID]'\n"
	    "                 [-q depth] [-o io-size] [-w read|write|randread|randwrite|rw|randrw]\n"
	    "                 [-M read-percent] [-t seconds] [-P queues] [-c threads|0xmask]\n"
	    "                 [-HI] [--busy-poll] [--json] [--verify] [--timeout ms]\n"
	    "                 [--tcp-congestion NAME]\n");
}

/* Copies value into dst of size n; -1 when it does not fit or is empty. */
static int
copy_value(char *dst, size_t n, const char *value, size_t len)
{
	if (len == 0 || len >= n)
		return -1;
	memcpy(dst, value, len);
	dst[len] = '\0';
	return 0;
}

int
perf_parse_trid(const char *s, struct perf_opts *o, char *err, size_t errlen)
{
	bool have_type = false;
	const char *p = s;

	o->traddr[0] = o->subnqn[0] = '\0';
	while (*p != '\0') {
		const char *tok, *sep, *val;
		size_t klen, vlen, tlen;
		char key[16], vbuf[PERF_NQN_MAX];

		while (*p == ' ' || *p == '\t')
			p++;
		if (*p == '\0')
			break;
		tok = p;
		while (*p != '\0' && *p != ' ' && *p != '\t')
			p++;
		tlen = (size_t)(p - tok);
		/* key:value or key=value; an IPv6 traddr keeps its colons. */
		sep = tok;
		while (sep < p && *sep != ':' && *sep != '=')
			sep++;
		if (sep == p) {
			snprintf(err, errlen, "-r: '%.*s' is not key:value", (int)tlen, tok);
			return -1;
		}
		klen = (size_t)(sep - tok);
		val = sep + 1;
		vlen = (size_t)(p - val);
		if (copy_value(key, sizeof(key), tok, klen) != 0) {
			snprintf(err, errlen, "-r: unknown key '%.*s'", (int)klen, tok);
			return -1;
		}
		if (vlen == 0) {
			snprintf(err, errlen, "-r: %s has no value", key);
			return -1;
		}
		if (strcasecmp(key, "trtype") == 0) {
			if (vlen != 3 || strncasecmp(val, "tcp", 3) != 0) {
				snprintf(err, errlen, "-r: trtype '%.*s' is not supported (tcp only)",
				    (int)vlen, val);
				return -1;
			}
			have_type = true;
		} else if (strcasecmp(key, "adrfam") == 0) {
			/* The address says which; accepted for spdk's strings. */
			if (!((vlen == 4 && (strncasecmp(val, "ipv4", 4) == 0 ||
			    strncasecmp(val, "ipv6", 4) == 0)))) {
				snprintf(err, errlen, "-r: adrfam '%.*s' (ipv4 or ipv6)",
				    (int)vlen, val);
				return -1;
			}
		} else if (strcasecmp(key, "traddr") == 0) {
			if (copy_value(o->traddr, sizeof(o->traddr), val, vlen) != 0) {
				snprintf(err, errlen, "-r: traddr is too long");
				return -1;
			}
		} else if (strcasecmp(key, "trsvcid") == 0) {
			uint64_t port;

			if (copy_value(vbuf, sizeof(vbuf), val, vlen) != 0 ||
			    decimal_parse(vbuf, 65535, &port) != 0 || port == 0) {
				snprintf(err, errlen, "-r: trsvcid '%.*s' is not a port number",
				    (int)vlen, val);
				return -1;
			}
			snprintf(o->trsvcid, sizeof(o->trsvcid), "%u", (unsigned)port);
		} else if (strcasecmp(key, "subnqn") == 0 || strcasecmp(key, "hostnqn") == 0) {
			bool sub = strcasecmp(key, "subnqn") == 0;
			char *dst = sub ? o->subnqn : o->hostnqn;

			if (copy_value(dst, PERF_NQN_MAX, val, vlen) != 0) {
				snprintf(err, errlen, "-r: %s is longer than %d bytes", key,
				    PERF_NQN_MAX - 1);
				return -1;
			}
		} else if (strcasecmp(key, "ns") == 0) {
			uint64_t nsid;

			if (copy_value(vbuf, sizeof(vbuf), val, vlen) != 0 ||
			    decimal_parse(vbuf, 0xfffffffe, &nsid) != 0 || nsid == 0) {
				snprintf(err, errlen, "-r: ns '%.*s' is not a namespace ID",
				    (int)vlen, val);
				return -1;
			}
			o->nsid = (uint32_t)nsid;
		} else {
			snprintf(err, errlen, "-r: unknown key '%s'", key);
			return -1;
		}
	}
	if (!have_type) {
		snprintf(err, errlen, "-r: trtype:tcp is missing");
		return -1;
	}
	if (o->traddr[0] == '\0') {
		snprintf(err, errlen, "-r: traddr is missing");
		return -1;
	}
	if (o->subnqn[0] == '\0') {
		snprintf(err, errlen, "-r: subnqn is missing");
		return -1;
	}
	return 0;
}

/* A decimal number in [min, max]; -1 with err naming the option. */
static int
number(const char *opt, const char *what, const char *arg, uint64_t min, uint64_t max,
    uint64_t *out, char *err, size_t errlen)
{
	if (decimal_parse(arg, max, out) != 0 || *out < min) {
		snprintf(err, errlen, "%s: %s must be a number from %llu to %llu, not '%s'",
		    opt, what, (unsigned long long)min, (unsigned long long)max, arg);
		return -1;
	}
	return 0;
}

/* -o: bytes, or with a k or m suffix (KiB, MiB). */
static int
io_size(const char *arg, uint32_t *out, char *err, size_t errlen)
{
	const char *end;
	uint64_t v, mult = 1;

	if (decimal_scan(arg, UINT32_MAX, &v, &end) == 0) {
		if (*end == 'k' || *end == 'K')
			mult = 1024, end++;
		else if (*end == 'm' || *end == 'M')
			mult = 1024 * 1024, end++;
		if (*end == '\0' && v > 0 && v * mult <= 64u * 1024 * 1024 &&
		    (v * mult) % 512 == 0) {
			*out = (uint32_t)(v * mult);
			return 0;
		}
	}
	snprintf(err, errlen, "-o: I/O size must be a multiple of 512 bytes up to 64m, "
	    "not '%s'", arg);
	return -1;
}

/* -c: a thread count, or a hex CPU mask 0x... whose bits pin the threads. */
static int
threads(const char *arg, struct perf_opts *o, char *err, size_t errlen)
{
	uint64_t v;

	if (arg[0] == '0' && (arg[1] == 'x' || arg[1] == 'X')) {
		char *end;

		if (arg[2] != '\0' && strspn(arg + 2, "0123456789abcdefABCDEF") ==
		    strlen(arg + 2) && strlen(arg + 2) <= 16) {
			v = strtoull(arg + 2, &end, 16);
			if (v != 0) {
				o->cpu_mask = v;
				o->threads = (uint32_t)__builtin_popcountll(v);
				return 0;
			}
		}
		snprintf(err, errlen, "-c: CPU mask must be 0x followed by 1 to 16 hex "
		    "digits, not zero, not '%s'", arg);
		return -1;
	}
	if (number("-c", "thread count", arg, 1, PERF_MAX_THREADS, &v, err, errlen) != 0)
		return -1;
	o->cpu_mask = 0;
	o->threads = (uint32_t)v;
	return 0;
}

enum { OPT_BUSY_POLL = 256, OPT_JSON, OPT_VERIFY, OPT_TIMEOUT, OPT_TCP_CONGESTION };

static const struct option long_opts[] = {
	{ "busy-poll", no_argument, NULL, OPT_BUSY_POLL },
	{ "json", no_argument, NULL, OPT_JSON },
	{ "verify", no_argument, NULL, OPT_VERIFY },
	{ "timeout", required_argument, NULL, OPT_TIMEOUT },
	{ "tcp-congestion", required_argument, NULL, OPT_TCP_CONGESTION },
	{ "help", no_argument, NULL, 'h' },
	{ NULL, 0, NULL, 0 },
};

int
perf_parse_options(int argc, char **argv, struct perf_opts *o, char *err, size_t errlen)
{
	const char *trid = NULL;
	bool have_mix = false;
	uint64_t v;
	int c;

	memset(o, 0, sizeof(*o));
	snprintf(o->trsvcid, sizeof(o->trsvcid), "4420");
	o->depth = 1;
	o->io_size = 4096;
	o->pattern = PERF_RANDREAD;
	o->random = true;
	o->read_pct = 100;
	o->seconds = 10;
	o->queues = 1;
	o->threads = 1;
	o->timeout_ms = 5000;

	optind = 1;
	opterr = 0;		/* our own one-line messages */
	while ((c = getopt_long(argc, argv, ":r:q:o:w:M:t:P:c:HIh", long_opts, NULL)) != -1) {
		switch (c) {
		case 'r':
			trid = optarg;
			break;
		case 'q':
			if (number("-q", "queue depth", optarg, 1, 65535, &v, err, errlen) != 0)
				return PERF_OPTS_ERROR;
			o->depth = (uint32_t)v;
			break;
		case 'o':
			if (io_size(optarg, &o->io_size, err, errlen) != 0)
				return PERF_OPTS_ERROR;
			break;
		case 'w': {
			size_t i;

			for (i = 0; i < NPATTERNS; i++)
				if (strcmp(optarg, patterns[i].name) == 0)
					break;
			if (i == NPATTERNS) {
				snprintf(err, errlen, "-w: workload must be read, write, randread, "
				    "randwrite, rw or randrw, not '%s'", optarg);
				return PERF_OPTS_ERROR;
			}
			o->pattern = patterns[i].pattern;
			o->random = patterns[i].random;
			if (!have_mix)
				o->read_pct = patterns[i].read_pct;
			break;
		}
		case 'M':
			if (number("-M", "read percentage", optarg, 0, 100, &v, err, errlen) != 0)
				return PERF_OPTS_ERROR;
			o->read_pct = (unsigned)v;
			have_mix = true;
			break;
		case 't':
			if (number("-t", "run time in seconds", optarg, 1, 86400, &v, err,
			    errlen) != 0)
				return PERF_OPTS_ERROR;
			o->seconds = (uint32_t)v;
			break;
		case 'P':
			if (number("-P", "queues per thread", optarg, 1, PERF_MAX_QUEUES, &v, err,
			    errlen) != 0)
				return PERF_OPTS_ERROR;
			o->queues = (uint32_t)v;
			break;
		case 'c':
			if (threads(optarg, o, err, errlen) != 0)
				return PERF_OPTS_ERROR;
			break;
		case 'H':
			o->header_digest = true;
			break;
		case 'I':
			o->data_digest = true;
			break;
		case OPT_BUSY_POLL:
			o->busy_poll = true;
			break;
		case OPT_JSON:
			o->json = true;
			break;
		case OPT_VERIFY:
			o->verify = true;
			break;
		case OPT_TCP_CONGESTION:
			/* The name itself is tried by main, once the options are read. */
			if (copy_value(o->tcp_congestion, sizeof(o->tcp_congestion), optarg,
			    strlen(optarg)) != 0) {
				snprintf(err, errlen, "--tcp-congestion '%s': empty, or longer than "
				    "%zu characters", optarg, sizeof(o->tcp_congestion) - 1);
				return PERF_OPTS_ERROR;
			}
			break;
		case OPT_TIMEOUT:
			if (number("--timeout", "milliseconds", optarg, 1, 3600000, &v, err,
			    errlen) != 0)
				return PERF_OPTS_ERROR;
			o->timeout_ms = (uint32_t)v;
			break;
		case 'h':
			return PERF_OPTS_HELP;
		case ':':
			if (optopt != 0)
				snprintf(err, errlen, "option -%c needs an argument", optopt);
			else
				snprintf(err, errlen, "option %s needs an argument",
				    argv[optind - 1]);
			return PERF_OPTS_ERROR;
		default:
			if (optopt != 0)
				snprintf(err, errlen, "unknown option -%c", optopt);
			else
				snprintf(err, errlen, "unknown option %s", argv[optind - 1]);
			return PERF_OPTS_ERROR;
		}
	}
	if (optind < argc) {
		snprintf(err, errlen, "unexpected argument '%s'", argv[optind]);
		return PERF_OPTS_ERROR;
	}
	if (trid == NULL) {
		snprintf(err, errlen, "-r: the target is missing "
		    "('trtype:tcp traddr:ADDR trsvcid:PORT subnqn:NQN')");
		return PERF_OPTS_ERROR;
	}
	if (perf_parse_trid(trid, o, err, errlen) != 0)
		return PERF_OPTS_ERROR;
	if (have_mix && o->pattern != PERF_RW && o->pattern != PERF_RANDRW) {
		snprintf(err, errlen, "-M: a read percentage applies to -w rw and randrw only");
		return PERF_OPTS_ERROR;
	}
	if ((uint64_t)o->threads * o->queues > PERF_MAX_QUEUES) {
		snprintf(err, errlen, "-P: %u threads x %u queues exceeds %u I/O queues",
		    o->threads, o->queues, PERF_MAX_QUEUES);
		return PERF_OPTS_ERROR;
	}
	return PERF_OPTS_OK;
}
