/* SPDX-License-Identifier: BSD-2-Clause
 * Copyright (c) 2026 The nvmf developers */
/*
 * main.c - nvmfd: an NVMe over Fabrics (TCP) target.
 *
 *   nvmfd [-dFGg] [-H maxh2cdata] [-P discovery-port] [-p port] [-n SubNQN]
 *         [-a address] [-c config.json] [-v] [--LIMIT value ...] device ...
 *
 * FreeBSD's nvmfd command line, plus -c (several subsystems, ports and host
 * allow-lists from a JSON file), -a (listen address) and the resource
 * limits as long options. Numbers are decimal only.
 */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <syslog.h>
#include <systemd/sd-daemon.h>
#include <unistd.h>

#include "daemon.h"
#include "fdlimit.h"
#include "nvmfd.h"
#include "text.h"

static void
usage(FILE *f)
{
	fprintf(f,
	    "usage: nvmfd [-dFGgv] [--strict] [--tcp-congestion NAME] [-H maxh2cdata]\n"
	    "             [-P discovery-port] [-p port]\n"
	    "             [-n SubNQN] [-a address] [--limit value ...] device ...\n"
	    "       nvmfd [-dFGgv] [--strict] [--limit value ...] -c config.json\n"
	    "  device       a file or block device path, or ramdisk:SIZE (e.g. ramdisk:64M)\n"
	    "  -d           stay in the foreground and log to stderr\n"
	    "  -F           permit hosts to disable SQ flow control (granted anyway\n"
	    "               unless --strict, as Linux nvmet does)\n"
	    "  -G / -g      permit hosts to enable data / header digests (likewise)\n"
	    "  --strict     refuse hosts' deviations from the specification that\n"
	    "               are served by default (see nvmfd(8), DEVIATIONS)\n"
	    "  -H bytes     MAXH2CDATA offered to hosts (default 262144)\n"
	    "  -P port      discovery service port (default 8009, 0: none)\n"
	    "  -p port      NVMe/TCP port (default 4420)\n"
	    "  -n SubNQN    the subsystem's NQN\n"
	    "  -a address   listen on this address only (default: all)\n"
	    "  -c file      JSON configuration: subsystems, listen ports, allowed hosts\n"
	    "  -v           log every connection\n"
	    "  --tcp-congestion NAME  TCP congestion control of the connections (e.g.\n"
	    "               cubic; default: the system's; also the JSON key tcp_congestion)\n"
	    "limits (also JSON keys, with '_'; see nvmfd(8), LIMITS):\n");
	for (int i = 0; i < NVMFD_NLIMITS; i++)
		fprintf(f, "  --%-27s %s, %u to %u (default %u)\n", nvmfd_limit_defs[i].option,
		    nvmfd_limit_defs[i].unit, nvmfd_limit_defs[i].min, nvmfd_limit_defs[i].max,
		    nvmfd_limit_defs[i].def);
}

static int
parse_port(const char *s, const char *what, bool zero_ok)
{
	uint64_t v;

	if (decimal_parse(s, 65535, &v) != 0 || v < (zero_ok ? 0 : 1)) {
		fprintf(stderr, "nvmfd: invalid %s '%s' (decimal, %d-65535)\n", what, s,
		    zero_ok ? 0 : 1);
		exit(2);
	}
	return (int)v;
}

int
main(int argc, char **argv)
{
	enum { LIMIT_OPT = 0x100 };
	struct option longopts[4 + NVMFD_NLIMITS] = {
		{ "help", no_argument, NULL, 'h' },
		{ "strict", no_argument, NULL, 'S' },
		{ "tcp-congestion", required_argument, NULL, 'C' },
	};
	struct nvmfd_options o = { .discovery_port = -1 };
	struct nvmfd_config cfg;
	struct nvmfd_listener *ls;
	uint32_t nls;
	char err[512];
	sigset_t sigs;
	char *config_abs = NULL;
	int ch, sig, report_fd = -1;
	const char *why;

	for (int i = 0; i < NVMFD_NLIMITS; i++) {
		longopts[3 + i] = (struct option){ nvmfd_limit_defs[i].option,
		    required_argument, NULL, LIMIT_OPT + i };
		o.limit[i] = -1;
	}
	while ((ch = getopt_long(argc, argv, "a:c:dFGgH:hn:P:p:v", longopts, NULL)) != -1) {
		if (ch >= LIMIT_OPT && ch < LIMIT_OPT + NVMFD_NLIMITS) {
			uint32_t v;

			if (nvmfd_limit_parse(ch - LIMIT_OPT, optarg, &v, err, sizeof(err)) != 0) {
				fprintf(stderr, "nvmfd: invalid %s\n", err);
				return 2;
			}
			o.limit[ch - LIMIT_OPT] = v;
			continue;
		}
		switch (ch) {
		case 'a': o.address = optarg; break;
		case 'c': o.config_file = optarg; break;
		case 'd': o.foreground = true; break;
		case 'F': o.allow_disable_sq_fc = true; break;
		case 'G': o.data_digests = true; break;
		case 'g': o.header_digests = true; break;
		case 'H': {
			uint64_t v;

			if (decimal_parse(optarg, 1ul << 24, &v) != 0 || v < 4096 || v % 4 != 0) {
				fprintf(stderr, "nvmfd: invalid MAXH2CDATA '%s' (a multiple of 4, "
				    "4096 to 16777216)\n", optarg);
				return 2;
			}
			o.max_h2c_data = (uint32_t)v;
			break;
		}
		case 'h': usage(stdout); return 0;
		case 'S': o.strict = true; break;
		case 'C':
			/* Tried now: a name this system lacks is a usage error. */
			if (nvmf_tcp_congestion_check(optarg, err, sizeof(err)) != 0) {
				fprintf(stderr, "nvmfd: invalid --tcp-congestion: %s\n", err);
				return 2;
			}
			o.tcp_congestion = optarg;
			break;
		case 'n':
			if ((why = nvmfd_nqn_invalid(optarg)) != NULL) {
				text_one_line(optarg);	/* shown on one line */
				fprintf(stderr, "nvmfd: invalid SubNQN '%.*s': it %s (nqn...., at "
				    "most %d characters)\n", NVMF_NQN_FIELD_LEN, optarg, why,
				    NVMF_NQN_MAX_LEN);
				return 2;
			}
			o.subnqn = optarg;
			break;
		case 'P': o.discovery_port = parse_port(optarg, "discovery port", true); break;
		case 'p': o.port = parse_port(optarg, "port", false); break;
		case 'v': o.verbose++; break;
		default: usage(stderr); return 2;
		}
	}
	o.devices = argv + optind;
	o.ndevices = argc - optind;
	if (o.config_file != NULL && (o.ndevices > 0 || o.subnqn || o.port ||
	    o.discovery_port >= 0 || o.address)) {
		fprintf(stderr, "nvmfd: -c takes subsystems, devices and ports from the file; "
		    "give none on the command line\n");
		return 2;
	}

	if (o.config_file != NULL) {
		/* A reload reads the same file, whatever the working directory then. */
		config_abs = realpath(o.config_file, NULL);
		if (config_abs != NULL)
			o.config_file = config_abs;
		if (nvmfd_config_load_json(&cfg, o.config_file, err, sizeof(err)) != 0)
			daemon_fail("nvmfd", -1, err);
	} else if (nvmfd_config_from_options(&cfg, &o, err, sizeof(err)) != 0) {
		if (o.ndevices == 0)
			usage(stderr);
		daemon_fail("nvmfd", -1, err);
	}
	nvmfd_config_resolve(&cfg, &o);

	if (!o.foreground)
		report_fd = daemon_detach("nvmfd");
	daemon_log_init("nvmfd", o.foreground, o.verbose);
	daemon_block_signals(&sigs);
	{
		/* A socket a connection, and a few for the rest: say so if they do not fit. */
		unsigned long fds = fdlimit_raise();
		uint32_t maxc = cfg.limit[NVMFD_LIMIT_CONNECTIONS];

		if (fds != 0 && fds < (unsigned long)maxc + 64)
			daemon_log(LOG_WARNING, "RLIMIT_NOFILE is %lu (its hard limit): fewer than "
			    "max_connections %u needs; connections past it are refused", fds, maxc);
	}

	if (nvmfd_listeners_start(&cfg, &ls, &nls, err, sizeof(err)) != 0)
		daemon_fail("nvmfd", report_fd, err);
	for (uint32_t i = 0; i < cfg.nsubsystems; i++) {
		const struct nvmfd_subsystem *ss = cfg.subsystems[i];

		for (uint32_t n = 0; n < NVMFD_MAX_NAMESPACES; n++)
			if (ss->ns[n] != NULL)
				daemon_log(LOG_INFO, "%s namespace %u: %s (%llu blocks of %u bytes)",
				    ss->nqn, ss->ns[n]->nsid, nvmfd_device_spec(ss->ns[n]->dev),
				    (unsigned long long)ss->ns[n]->nlbas, 1u << ss->ns[n]->lba_shift);
	}
	daemon_ready(report_fd);
	/* Under systemd (Type=notify): listening, namespaces open. */
	sd_notify(0, "READY=1");

	/* SIGHUP reloads the configuration file; SIGTERM and SIGINT end it all. */
	for (;;) {
		if (sigwait(&sigs, &sig) != 0)
			sig = SIGTERM;
		if (sig != SIGHUP)
			break;
		if (o.config_file == NULL) {
			daemon_log(LOG_INFO, "SIGHUP: the configuration comes from the command "
			    "line (no -c): nothing to reload");
			continue;
		}
		sd_notify(0, "RELOADING=1");
		nvmfd_reload(&cfg, &o);
		sd_notify(0, "READY=1");
	}
	daemon_log(LOG_INFO, "signal %d: shutting down", sig);
	sd_notify(0, "STOPPING=1");
	nvmfd_listeners_stop(ls, nls);
	/*
	 * Every association ends; what they use is freed once their threads are
	 * done with it (a thread still stuck after the wait keeps it: the process
	 * ends anyway, and file data is written through already).
	 */
	if (!nvmfd_conns_stop(5000)) {
		daemon_log(LOG_WARNING, "connections still ending after 5 s: exiting anyway");
		return 0;
	}
	for (uint32_t i = 0; i < cfg.nsubsystems; i++)
		for (uint32_t n = 0; n < NVMFD_MAX_NAMESPACES; n++)
			if (cfg.subsystems[i]->ns[n] != NULL)
				nvmfd_device_flush(cfg.subsystems[i]->ns[n]->dev);
	nvmfd_listeners_free(ls, nls);
	nvmfd_config_free(&cfg);
	free(config_abs);
	return 0;
}
