/* SPDX-License-Identifier: BSD-2-Clause
 * Copyright (c) 2026 The nvmf developers */
/*
 * main.c - nvmf-hostd: the userspace NVMe/TCP host driver.
 *
 *   nvmf-hostd [-dv] [--rundir DIR] [--owner USER] [--group GROUP] [--mode MODE]
 *              [--reconnect-jitter MS]
 *
 * Takes over associations that nvmecontrol builds, keeps them alive, and
 * shows their namespaces as files in DIR/dev (DIR: --rundir, $NVMF_RUNDIR,
 * else /run/nvmf), root:disk 0660 unless --owner, --group, --mode say else.
 */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <systemd/sd-daemon.h>
#include <unistd.h>

#include "daemon.h"
#include "decimal.h"
#include "fdlimit.h"
#include "hostd.h"

/* The largest --reconnect-jitter: an hour, as long as any sane delay. */
#define JITTER_MAX_MS	3600000
/* The largest --busy-poll-us: a second, as nvmfd's. */
#define BUSY_POLL_MAX_US	1000000

struct hd_loop *hd_loop;
struct hd_rundir hd_rd = { .lock_fd = -1 };

static void
usage(FILE *f)
{
	fprintf(f, "usage: nvmf-hostd [-dv] [--rundir DIR] [--owner USER] [--group GROUP] "
	    "[--mode MODE]\n"
	    "                  [--reconnect-jitter MS] [--tcp-congestion NAME]\n"
	    "                  [--busy-poll-us US]\n"
	    "  -d, --foreground  stay in the foreground and log to stderr\n"
	    "  -v, --verbose     log more\n"
	    "  --rundir DIR      run directory (default $NVMF_RUNDIR, else /run/nvmf)\n"
	    "  --owner USER      owner of the namespace files, a name or UID (default root)\n"
	    "  --group GROUP     their group, a name or GID (default disk)\n"
	    "  --mode MODE       their permissions in octal (default 0660)\n"
	    "  --reconnect-jitter MS\n"
	    "                    spread a lost controller's RECONNECT events by up to MS\n"
	    "                    (default 10 %% of its reconnect delay; 0: none)\n"
	    "  --tcp-congestion NAME\n"
	    "                    TCP congestion control of the queues' connections\n"
	    "                    (e.g. cubic; default: the system's)\n"
	    "  --busy-poll-us US poll without sleeping for US microseconds after the last\n"
	    "                    request or reply (a core while busy; default 0: sleep)\n");
}

int
main(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "foreground", no_argument, NULL, 'd' },
		{ "verbose", no_argument, NULL, 'v' },
		{ "rundir", required_argument, NULL, 'R' },
		{ "owner", required_argument, NULL, 'O' },
		{ "group", required_argument, NULL, 'G' },
		{ "mode", required_argument, NULL, 'M' },
		{ "reconnect-jitter", required_argument, NULL, 'J' },
		{ "tcp-congestion", required_argument, NULL, 'C' },
		{ "busy-poll-us", required_argument, NULL, 'B' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	const char *rundir = hd_rundir_default();
	bool foreground = false, group_given = false;
	int verbose = 0, ch, sig, report_fd = -1;
	unsigned long fd_limit;
	char err[512];
	sigset_t sigs;

	while ((ch = getopt_long(argc, argv, "dvh", longopts, NULL)) != -1) {
		switch (ch) {
		case 'd': foreground = true; break;
		case 'v': verbose++; break;
		case 'R': rundir = optarg; break;
		case 'O':
		case 'G':
		case 'M':
			/* A bad value is one line naming it, nothing else. */
			if ((ch == 'O' ? hd_access_owner(optarg, err, sizeof(err)) :
			    ch == 'G' ? hd_access_group(optarg, err, sizeof(err)) :
			    hd_access_mode(optarg, err, sizeof(err))) != 0) {
				fprintf(stderr, "nvmf-hostd: %s\n", err);
				return 2;
			}
			group_given |= ch == 'G';
			break;
		case 'J': {
			uint64_t v;

			if (decimal_parse(optarg, JITTER_MAX_MS, &v) != 0) {
				fprintf(stderr, "nvmf-hostd: --reconnect-jitter '%s': milliseconds, "
				    "0 to %d\n", optarg, JITTER_MAX_MS);
				return 2;
			}
			hd_reconnect_jitter_ms = (int)v;
			break;
		}
		case 'C':
			/* Tried now: a name this system lacks is a usage error. */
			if (nvmf_tcp_congestion_check(optarg, err, sizeof(err)) != 0) {
				fprintf(stderr, "nvmf-hostd: --tcp-congestion: %s\n", err);
				return 2;
			}
			snprintf(hd_tcp_congestion, sizeof(hd_tcp_congestion), "%s", optarg);
			break;
		case 'B': {
			uint64_t v;

			if (decimal_parse(optarg, BUSY_POLL_MAX_US, &v) != 0) {
				fprintf(stderr, "nvmf-hostd: --busy-poll-us '%s': microseconds, "
				    "0 to %d\n", optarg, BUSY_POLL_MAX_US);
				return 2;
			}
			hd_busy_poll_us = (unsigned)v;
			break;
		}
		case 'h': usage(stdout); return 0;
		default: usage(stderr); return 2;
		}
	}
	if (optind != argc) {
		fprintf(stderr, "nvmf-hostd: unexpected argument '%s'\n", argv[optind]);
		usage(stderr);
		return 2;
	}
	if (!group_given)
		hd_access_default_group();
	/* Whatever hostd creates is private unless it says otherwise. */
	umask(077);
	/* Two sockets a controller (admin and I/O queue): 1024 is 500 controllers. */
	fd_limit = fdlimit_raise();
	if (hd_rundir_open(&hd_rd, rundir, err, sizeof(err)) != 0)
		daemon_fail("nvmf-hostd", -1, err);
	if (!foreground)
		report_fd = daemon_detach("nvmf-hostd");
	daemon_log_init("nvmf-hostd", foreground, verbose);
	daemon_block_signals(&sigs);
	if (fd_limit != 0 && fd_limit < 4096)
		daemon_log(LOG_WARNING, "RLIMIT_NOFILE is %lu (its hard limit): room for about "
		    "%lu controllers of one I/O queue", fd_limit,
		    fd_limit > 64 ? (fd_limit - 64) / 2 : 0);

	hd_io_init();
	hd_loop = hd_loop_start(err, sizeof(err));
	if (hd_loop == NULL || hd_tasks_start(err, sizeof(err)) != 0 ||
	    hd_events_start(hd_rd.devctl, err, sizeof(err)) != 0 ||
	    hd_fuse_start(hd_rd.dev, err, sizeof(err)) != 0)
		daemon_fail("nvmf-hostd", report_fd, err);
	/* The names of the controllers kept before a restart are taken before any
	 * hand-off can ask for one; they are lost from when clients can reconnect them. */
	if (hd_state_restore(err, sizeof(err)) != 0 ||
	    hd_control_start(hd_rd.sock, err, sizeof(err)) != 0) {
		hd_fuse_stop();
		daemon_fail("nvmf-hostd", report_fd, err);
	}
	hd_state_announce();
	hd_rundir_write_pid(&hd_rd);
	daemon_log(LOG_INFO, "ready: %s (namespaces in %s)", hd_rd.sock, hd_rd.dev);
	daemon_ready(report_fd);
	/* Under systemd (Type=notify): nvmf.sock answers, dev/ is mounted. */
	sd_notify(0, "READY=1");

	sig = daemon_wait_for_exit(&sigs);
	daemon_log(LOG_INFO, "signal %d: disconnecting and shutting down", sig);
	sd_notify(0, "STOPPING=1");
	/*
	 * Each step stops what uses the ones after it: requests (their threads
	 * joined), then the controllers, the lifecycle tasks (a detach under
	 * way removes files), the files, the loop, and the events last.
	 */
	hd_control_stop();
	/* An orderly stop (an upgrade, a restart) keeps the controllers for the
	 * next start, as a crash does; only disconnect removes them. */
	hd_state_freeze();
	hd_ctrls_disconnect_all();
	hd_tasks_stop();
	hd_fuse_stop();
	hd_loop_stop(hd_loop);
	hd_events_stop();
	hd_state_close();
	hd_rundir_close(&hd_rd);
	return 0;
}
