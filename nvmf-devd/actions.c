/* SPDX-License-Identifier: BSD-2-Clause
 * Copyright (c) 2026 The nvmf developers */
/*
 * actions.c - running a rule's action without waiting for it: the event
 * stream never stalls behind a command that hangs. Finished actions are
 * reaped later and their exit status logged.
 *
 * At most max_running run at once (1,000 controllers losing their target
 * together raise 1,000 RECONNECTs); the rest wait in arrival order and
 * start as running ones end, so none is lost. An action identical to one
 * still running or waiting is not started again: a controller repeats
 * RECONNECT every reconnect-delay, and a second `nvmecontrol reconnect
 * nvme5` beside the first would only fail. The queue is bounded too: a
 * flood beyond it is refused with a log line, not kept without limit.
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

#define MAX_WAITING	4096

struct action {
	pid_t pid;
	char cmd[512];
	char where[300];
};

static struct action *running;
static unsigned nrunning, max_running = ACTIONS_DEFAULT_MAX;
/* A ring of waiting actions: the oldest at waiting_head. */
static struct action *waiting;
static unsigned waiting_head, nwaiting;

int
action_set_max(unsigned max)
{
	if (max < 1 || max > ACTIONS_MAX_MAX)
		return -1;
	max_running = max;
	return 0;
}

static int
tables_alloc(void)
{
	if (running == NULL)
		running = calloc(max_running, sizeof(*running));
	if (waiting == NULL)
		waiting = calloc(MAX_WAITING, sizeof(*waiting));
	return running != NULL && waiting != NULL ? 0 : -1;
}

static void
fill(struct action *a, const char *cmd, const char *where)
{
	snprintf(a->cmd, sizeof(a->cmd), "%s", cmd);
	snprintf(a->where, sizeof(a->where), "%s", where);
	a->pid = 0;
}

static int
spawn(const struct action *a)
{
	pid_t pid = fork();

	if (pid < 0) {
		daemon_log(LOG_ERR, "%s: cannot start \"%s\": %s", a->where, a->cmd,
		    strerror(errno));
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
		execl("/bin/sh", "sh", "-c", a->cmd, (char *)NULL);
		_exit(127);
	}
	running[nrunning] = *a;
	running[nrunning].pid = pid;
	nrunning++;
	daemon_log(LOG_INFO, "action started (pid %d, %s): %s", (int)pid, a->where, a->cmd);
	return 0;
}

/* "running" or "waiting" when the same command is, else NULL. */
static const char *
already(const char *cmd)
{
	for (unsigned i = 0; i < nrunning; i++)
		if (strcmp(running[i].cmd, cmd) == 0)
			return "running";
	for (unsigned i = 0; i < nwaiting; i++)
		if (strcmp(waiting[(waiting_head + i) % MAX_WAITING].cmd, cmd) == 0)
			return "waiting";
	return NULL;
}

int
action_start(const char *cmd, const char *where)
{
	struct action a;
	const char *state;

	if (tables_alloc() != 0) {
		daemon_log(LOG_ERR, "%s: out of memory: not starting \"%s\"", where, cmd);
		return -1;
	}
	fill(&a, cmd, where);
	if ((state = already(a.cmd)) != NULL) {
		daemon_log(LOG_INFO, "%s: \"%s\" is %s already: not started twice", where, cmd,
		    state);
		return 0;
	}
	if (nrunning < max_running && nwaiting == 0)
		return spawn(&a);
	if (nwaiting == MAX_WAITING) {
		daemon_log(LOG_ERR, "%s: %u actions running and %u waiting: not starting \"%s\"",
		    where, nrunning, nwaiting, cmd);
		return -1;
	}
	waiting[(waiting_head + nwaiting) % MAX_WAITING] = a;
	nwaiting++;
	daemon_log(LOG_INFO, "%s: %u actions running: \"%s\" waits (%u waiting)", where,
	    nrunning, cmd, nwaiting);
	return 0;
}

/* Starts waiting actions while there is room. */
static void
start_waiting(void)
{
	while (nwaiting > 0 && nrunning < max_running) {
		struct action a = waiting[waiting_head];

		waiting_head = (waiting_head + 1) % MAX_WAITING;
		nwaiting--;
		(void)spawn(&a);
	}
}

void
action_reap(void)
{
	for (;;) {
		int status;
		pid_t pid = waitpid(-1, &status, WNOHANG);

		if (pid <= 0)
			break;
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
	start_waiting();
}

unsigned
action_running(void)
{
	return nrunning;
}

unsigned
action_waiting(void)
{
	return nwaiting;
}
