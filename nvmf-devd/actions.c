/* SPDX-License-Identifier: BSD-2-Clause
 * Copyright (c) 2026 The nvmf developers */
/*
 * actions.c - running a rule's action without waiting for it: the event
 * stream never stalls behind a command that hangs. Finished actions are
 * reaped later and their exit status logged.
 */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "daemon_log.h"
#include "devd.h"

#define MAX_RUNNING	256

struct running {
	pid_t pid;
	char cmd[512];
	char where[300];
};

static struct running running[MAX_RUNNING];
static unsigned nrunning;

int
action_start(const char *cmd, const char *where)
{
	pid_t pid;

	if (nrunning == MAX_RUNNING) {
		daemon_log(LOG_ERR, "%s: %u actions still running: not starting \"%s\"", where,
		    nrunning, cmd);
		return -1;
	}
	pid = fork();
	if (pid < 0) {
		daemon_log(LOG_ERR, "%s: cannot start \"%s\": %s", where, cmd, strerror(errno));
		return -1;
	}
	if (pid == 0) {
		int devnull = open("/dev/null", O_RDONLY);
		sigset_t none;

		sigemptyset(&none);
		sigprocmask(SIG_SETMASK, &none, NULL);
		if (devnull >= 0)
			dup2(devnull, STDIN_FILENO);
		setpgid(0, 0);
		execl("/bin/sh", "sh", "-c", cmd, (char *)NULL);
		_exit(127);
	}
	running[nrunning].pid = pid;
	snprintf(running[nrunning].cmd, sizeof(running[nrunning].cmd), "%s", cmd);
	snprintf(running[nrunning].where, sizeof(running[nrunning].where), "%s", where);
	nrunning++;
	daemon_log(LOG_INFO, "action started (pid %d, %s): %s", (int)pid, where, cmd);
	return 0;
}

void
action_reap(void)
{
	for (;;) {
		int status;
		pid_t pid = waitpid(-1, &status, WNOHANG);

		if (pid <= 0)
			return;
		for (unsigned i = 0; i < nrunning; i++) {
			if (running[i].pid != pid)
				continue;
			if (WIFEXITED(status))
				daemon_log(WEXITSTATUS(status) == 0 ? LOG_INFO : LOG_WARNING,
				    "action exited with status %d (pid %d, %s): %s",
				    WEXITSTATUS(status), (int)pid, running[i].where, running[i].cmd);
			else
				daemon_log(LOG_WARNING, "action killed by signal %d (pid %d, %s): %s",
				    WTERMSIG(status), (int)pid, running[i].where, running[i].cmd);
			running[i] = running[--nrunning];
			break;
		}
	}
}

unsigned
action_running(void)
{
	return nrunning;
}
