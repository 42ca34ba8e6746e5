/* SPDX-License-Identifier: BSD-2-Clause
 * Copyright (c) 2026 The nvmf developers */
/*
 * main.c - nvmf-devd: reads nvmf-hostd's events from $rundir/devctl, runs
 * the actions of the rules they match (devd.conf syntax) and re-broadcasts
 * every event on $rundir/devd.pipe.
 *
 *   nvmf-devd [-dv] [--rundir DIR] [-f FILE|DIR] [--group GROUP] [--max-actions N]
 */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <limits.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <systemd/sd-daemon.h>
#include <unistd.h>

#include "daemon_log.h"
#include "decimal.h"
#include "devd.h"

#ifndef NVMF_SYSCONFDIR
#define NVMF_SYSCONFDIR "/etc"
#endif
#define DEFAULT_RULES	NVMF_SYSCONFDIR "/nvmf/nvmf.conf"
#define RETRY_MS	250

static struct ruleset rules;
static const char *rules_path = DEFAULT_RULES;

static void
usage(FILE *f)
{
	fprintf(f, "usage: nvmf-devd [-dv] [--rundir DIR] [-f FILE|DIR] [--group GROUP] "
	    "[--max-actions N]\n"
	    "  -d            stay in the foreground and log to stderr\n"
	    "  -f FILE|DIR   rules in devd.conf syntax (default %s)\n"
	    "  --group GROUP who besides root may read devd.pipe, a name or GID\n"
	    "                (default: root only)\n"
	    "  --max-actions N  actions running at once, 1 to %d; later ones wait\n"
	    "                (default %d)\n"
	    "  --rundir DIR  nvmf-hostd's run directory (default $NVMF_RUNDIR, else /run/nvmf)\n",
	    DEFAULT_RULES, ACTIONS_MAX_MAX, ACTIONS_DEFAULT_MAX);
}

static int
load_rules(char *err, size_t errlen)
{
	struct ruleset fresh = { 0 };

	if (ruleset_load(&fresh, rules_path, err, errlen) != 0) {
		ruleset_free(&fresh);
		return -1;
	}
	ruleset_free(&rules);
	rules = fresh;
	return 0;
}

static int
devctl_connect(const char *path)
{
	struct sockaddr_un sun = { .sun_family = AF_UNIX };
	int fd;

	if (strlen(path) >= sizeof(sun.sun_path))
		return -1;
	memcpy(sun.sun_path, path, strlen(path) + 1);
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -1;
	if (connect(fd, (struct sockaddr *)&sun, sizeof(sun)) != 0) {
		close(fd);
		return -1;
	}
	return fd;
}

/* A line as a log can show it: control characters would forge lines or colours. */
static void
printable(const char *line, char *out, size_t outlen)
{
	size_t i;

	for (i = 0; line[i] != '\0' && i + 1 < outlen; i++)
		out[i] = (unsigned char)line[i] < 0x20 || line[i] == 0x7f ? '?' : line[i];
	out[i] = '\0';
}

static void
handle_line(const char *line, size_t len)
{
	struct event ev;
	const struct rule *r;
	char with_nl[EVENT_LINE_MAX + 2], shown[EVENT_LINE_MAX + 1];

	memcpy(with_nl, line, len);
	memcpy(with_nl + len, "\n", 2);
	broadcast_line(with_nl);
	printable(line, shown, sizeof(shown));
	if (event_parse(line, &ev) != 0) {
		daemon_log(LOG_WARNING, "not an event line: %s", shown);
		return;
	}
	daemon_log(LOG_DEBUG, "event: %s", shown);
	r = ruleset_match(&rules, &ev);
	if (r == NULL)
		return;
	for (unsigned i = 0; i < r->nactions; i++) {
		char cmd[4096];

		if (event_expand(&ev, r->actions[i], cmd, sizeof(cmd)) != 0) {
			daemon_log(LOG_ERR, "%s: action too long once expanded", r->where);
			continue;
		}
		action_start(cmd, r->where);
	}
}

/* Each line the framer completes: handled, or refused whole with one log line. */
static void
on_frame(void *arg, enum frame_kind kind, const char *line, size_t len)
{
	const char *devctl = arg;

	switch (kind) {
	case FRAME_LINE:
		handle_line(line, len);
		break;
	case FRAME_NUL:
		daemon_log(LOG_WARNING, "%s: refused a line of %zu bytes holding a NUL byte",
		    devctl, len);
		break;
	case FRAME_TOO_LONG:
		daemon_log(LOG_WARNING, "%s: refused a line of %zu bytes (longer than %d)",
		    devctl, len, EVENT_LINE_MAX);
		break;
	}
}

/* The directory of this program comes first in PATH: its nvmecontrol. */
static void
path_with_own_dir(void)
{
	char exe[PATH_MAX], path[PATH_MAX * 2];
	ssize_t n = readlink("/proc/self/exe", exe, sizeof(exe) - 1);
	char *slash;
	const char *old = getenv("PATH");

	if (n <= 0)
		return;
	exe[n] = '\0';
	slash = strrchr(exe, '/');
	if (slash == NULL)
		return;
	*slash = '\0';
	snprintf(path, sizeof(path), "%s:%s", exe, old ? old : "/usr/sbin:/usr/bin:/sbin:/bin");
	setenv("PATH", path, 1);
}

int
main(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "rundir", required_argument, NULL, 'R' },
		{ "group", required_argument, NULL, 'G' },
		{ "max-actions", required_argument, NULL, 'M' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	const char *rundir = getenv("NVMF_RUNDIR");
	static struct framer framer;
	char devctl[4200], pipe_path[4200], err[512], buf[8192];
	bool foreground = false;
	int verbose = 0, ch, sfd, dfd = -1;
	gid_t group = BROADCAST_NO_GROUP;
	sigset_t sigs;

	if (rundir == NULL || *rundir == '\0')
		rundir = "/run/nvmf";
	while ((ch = getopt_long(argc, argv, "df:hv", longopts, NULL)) != -1) {
		switch (ch) {
		case 'd': foreground = true; break;
		case 'f': rules_path = optarg; break;
		case 'v': verbose++; break;
		case 'R': rundir = optarg; break;
		case 'G':
			if (broadcast_parse_group(optarg, &group, err, sizeof(err)) != 0) {
				fprintf(stderr, "nvmf-devd: %s\n", err);
				return 2;
			}
			break;
		case 'M': {
			uint64_t n;
			const char *end;

			if (decimal_scan(optarg, ACTIONS_MAX_MAX, &n, &end) != 0 || *end != '\0' ||
			    action_set_max((unsigned)n) != 0) {
				fprintf(stderr, "nvmf-devd: --max-actions '%s': a number from 1 to "
				    "%d\n", optarg, ACTIONS_MAX_MAX);
				return 2;
			}
			break;
		}
		case 'h': usage(stdout); return 0;
		default: usage(stderr); return 2;
		}
	}
	if (optind != argc) {
		fprintf(stderr, "nvmf-devd: unexpected argument '%s'\n", argv[optind]);
		return 2;
	}
	if (load_rules(err, sizeof(err)) != 0) {
		fprintf(stderr, "nvmf-devd: %s\n", err);
		return 1;
	}
	snprintf(devctl, sizeof(devctl), "%s/devctl", rundir);
	snprintf(pipe_path, sizeof(pipe_path), "%s/devd.pipe", rundir);
	if (broadcast_open(pipe_path, group, err, sizeof(err)) != 0) {
		fprintf(stderr, "nvmf-devd: %s\n", err);
		return 1;
	}
	if (!foreground && daemon(0, 0) != 0) {
		fprintf(stderr, "nvmf-devd: cannot detach: %s\n", strerror(errno));
		return 1;
	}
	daemon_log_init("nvmf-devd", foreground, verbose);
	/* Actions find nvmecontrol next to us, and talk to the same host. */
	setenv("NVMF_RUNDIR", rundir, 1);
	path_with_own_dir();

	sigemptyset(&sigs);
	sigaddset(&sigs, SIGCHLD);
	sigaddset(&sigs, SIGTERM);
	sigaddset(&sigs, SIGINT);
	sigaddset(&sigs, SIGHUP);
	sigprocmask(SIG_BLOCK, &sigs, NULL);
	signal(SIGPIPE, SIG_IGN);
	sfd = signalfd(-1, &sigs, SFD_CLOEXEC | SFD_NONBLOCK);
	daemon_log(LOG_INFO, "%u rule%s from %s; events from %s", rules.nrules,
	    rules.nrules == 1 ? "" : "s", rules_path, devctl);
	/* Under systemd (Type=notify): rules loaded, devd.pipe open. */
	sd_notify(0, "READY=1");

	for (;;) {
		struct pollfd pfd[3] = {
			{ .fd = sfd, .events = POLLIN },
			{ .fd = broadcast_fd(), .events = POLLIN },
			{ .fd = dfd, .events = POLLIN },
		};
		struct signalfd_siginfo si;
		bool quit = false;

		if (dfd < 0 && (dfd = devctl_connect(devctl)) >= 0) {
			daemon_log(LOG_INFO, "reading events from %s", devctl);
			pfd[2].fd = dfd;
			framer_reset(&framer);
		}
		if (poll(pfd, 3, dfd < 0 ? RETRY_MS : -1) < 0 && errno != EINTR)
			break;
		/* Once told to quit, reap nothing more: a reap starts waiting actions. */
		while (!quit && read(sfd, &si, sizeof(si)) == sizeof(si)) {
			if (si.ssi_signo == SIGCHLD) {
				action_reap();
			} else if (si.ssi_signo == SIGHUP) {
				if (load_rules(err, sizeof(err)) != 0)
					daemon_log(LOG_ERR, "keeping the old rules: %s", err);
				else
					daemon_log(LOG_INFO, "rules reloaded: %u", rules.nrules);
			} else {
				quit = true;
			}
		}
		if (quit)
			break;
		if (pfd[1].revents & POLLIN)
			broadcast_accept();
		if (dfd >= 0 && (pfd[2].revents & (POLLIN | POLLHUP | POLLERR))) {
			ssize_t n = read(dfd, buf, sizeof(buf));

			if (n < 0 && (errno == EINTR || errno == EAGAIN))
				continue;
			if (n <= 0) {
				if (framer_pending(&framer) > 0)
					daemon_log(LOG_WARNING, "%s: dropped %zu bytes of an unfinished "
					    "line", devctl, framer_pending(&framer));
				daemon_log(LOG_WARNING, "%s closed: waiting for nvmf-hostd", devctl);
				close(dfd);
				dfd = -1;
				continue;
			}
			framer_feed(&framer, buf, (size_t)n, on_frame, devctl);
		}
	}
	sd_notify(0, "STOPPING=1");
	daemon_log(LOG_INFO, "shutting down (%u action%s still running, %u not started)",
	    action_running(), action_running() == 1 ? "" : "s", action_waiting());
	action_forget_all();
	broadcast_close();
	ruleset_free(&rules);
	return 0;
}
