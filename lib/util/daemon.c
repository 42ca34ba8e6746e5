/* SPDX-License-Identifier: BSD-2-Clause
 * Copyright (c) 2026 The nvmf developers */
/*
 * daemon.c - a daemon that detaches only once it is ready, so that an
 * unusable port or a locked run directory is one line from the command
 * that started it, with a non-zero exit status.
 */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "daemon.h"

int
daemon_detach(const char *name)
{
	int p[2];
	pid_t pid;
	char msg[512];
	ssize_t n;

	if (pipe(p) != 0 || (pid = fork()) < 0) {
		fprintf(stderr, "%s: cannot detach: %s\n", name, strerror(errno));
		exit(1);
	}
	if (pid > 0) {
		close(p[1]);
		n = read(p[0], msg, sizeof(msg) - 1);
		if (n > 0) {
			msg[n] = '\0';
			fprintf(stderr, "%s: %s\n", name, msg);
			exit(1);
		}
		exit(0);
	}
	close(p[0]);
	setsid();
	return p[1];
}

void
daemon_fail(const char *name, int report_fd, const char *err)
{
	if (report_fd >= 0) {
		ssize_t rc = write(report_fd, err, strlen(err));

		(void)rc;
	} else {
		fprintf(stderr, "%s: %s\n", name, err);
	}
	exit(1);
}

void
daemon_ready(int report_fd)
{
	int devnull;

	if (report_fd < 0)
		return;
	devnull = open("/dev/null", O_RDWR);
	if (devnull >= 0) {
		dup2(devnull, STDIN_FILENO);
		dup2(devnull, STDOUT_FILENO);
		dup2(devnull, STDERR_FILENO);
		close(devnull);
	}
	close(report_fd);	/* the parent reads end-of-file: success */
}

void
daemon_block_signals(sigset_t *set)
{
	signal(SIGPIPE, SIG_IGN);
	sigemptyset(set);
	sigaddset(set, SIGTERM);
	sigaddset(set, SIGINT);
	sigaddset(set, SIGHUP);
	pthread_sigmask(SIG_BLOCK, set, NULL);
}

int
daemon_wait_for_exit(const sigset_t *set)
{
	int sig = SIGTERM;

	/* SIGHUP does not end a daemon (nothing to reload yet). */
	do {
		if (sigwait(set, &sig) != 0)
			return SIGTERM;
	} while (sig == SIGHUP);
	return sig;
}
