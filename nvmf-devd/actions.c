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
 *
 * An action is spawned (posix_spawn: no copy of nvmf-devd's memory map
 * per action) through /bin/sh -c, unless it is plain words and
 * single-quoted strings, as the shipped rule is once $name is expanded:
 * those are split here and run directly, which saves the shell's start.
 */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "daemon_log.h"
#include "devd.h"

#define MAX_WAITING	4096

extern char **environ;

struct action {
	pid_t pid;
	char *cmd;			/* owned: as long as an expanded action */
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

/* Characters a word may hold outside quotes without meaning anything to sh. */
static bool
plain_char(char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
	    strchr("_-./:=@%+,", c) != NULL;
}

int
action_split(const char *cmd, char *buf, size_t buflen, char **argv)
{
	size_t o = 0;
	int argc = 0;
	const char *p = cmd;

	for (;;) {
		while (*p == ' ' || *p == '\t')
			p++;
		if (*p == '\0')
			break;
		if (argc == ACTION_MAX_WORDS - 1)
			return -1;
		argv[argc++] = buf + o;
		while (*p != '\0' && *p != ' ' && *p != '\t') {
			if (*p == '\'') {
				const char *end = strchr(p + 1, '\'');

				if (end == NULL || o + (size_t)(end - p - 1) >= buflen)
					return -1;
				memcpy(buf + o, p + 1, (size_t)(end - p - 1));
				o += (size_t)(end - p - 1);
				p = end + 1;
			} else if (plain_char(*p) && o + 1 < buflen) {
				buf[o++] = *p++;
			} else {
				return -1;
			}
		}
		if (o + 1 >= buflen)
			return -1;
		buf[o++] = '\0';
	}
	argv[argc] = NULL;
	/* A first word with '=' is an assignment to sh: let sh have it. */
	return argc > 0 && strchr(argv[0], '=') == NULL ? argc : -1;
}

static int
spawn(struct action *a)
{
	static char words[8192];
	char *argv[ACTION_MAX_WORDS];
	posix_spawn_file_actions_t fa;
	posix_spawnattr_t attr;
	sigset_t none;
	pid_t pid;
	int rc;

	sigemptyset(&none);
	posix_spawn_file_actions_init(&fa);
	posix_spawn_file_actions_addopen(&fa, STDIN_FILENO, "/dev/null", O_RDONLY, 0);
	posix_spawnattr_init(&attr);
	posix_spawnattr_setsigmask(&attr, &none);
	posix_spawnattr_setpgroup(&attr, 0);
	posix_spawnattr_setflags(&attr, POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETPGROUP);
	if (action_split(a->cmd, words, sizeof(words), argv) > 0) {
		rc = posix_spawnp(&pid, argv[0], &fa, &attr, argv, environ);
	} else {
		char *sh[] = { "sh", "-c", a->cmd, NULL };

		rc = posix_spawn(&pid, "/bin/sh", &fa, &attr, sh, environ);
	}
	posix_spawnattr_destroy(&attr);
	posix_spawn_file_actions_destroy(&fa);
	if (rc != 0) {
		daemon_log(LOG_ERR, "%s: cannot start \"%s\": %s", a->where, a->cmd, strerror(rc));
		free(a->cmd);
		return -1;
	}
	a->pid = pid;
	running[nrunning++] = *a;
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
	struct action a = { 0 };
	const char *state;

	if (tables_alloc() != 0 || (a.cmd = strdup(cmd)) == NULL) {
		daemon_log(LOG_ERR, "%s: out of memory: not starting \"%s\"", where, cmd);
		return -1;
	}
	snprintf(a.where, sizeof(a.where), "%s", where);
	if ((state = already(cmd)) != NULL) {
		daemon_log(LOG_INFO, "%s: \"%s\" is %s already: not started twice", where, cmd,
		    state);
		free(a.cmd);
		return 0;
	}
	if (nrunning < max_running && nwaiting == 0)
		return spawn(&a);
	if (nwaiting == MAX_WAITING) {
		daemon_log(LOG_ERR, "%s: %u actions running and %u waiting: not starting \"%s\"",
		    where, nrunning, nwaiting, cmd);
		free(a.cmd);
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
			free(running[i].cmd);
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

void
action_forget_all(void)
{
	for (unsigned i = 0; i < nrunning; i++)
		free(running[i].cmd);
	for (unsigned i = 0; i < nwaiting; i++)
		free(waiting[(waiting_head + i) % MAX_WAITING].cmd);
	free(running);
	free(waiting);
	running = waiting = NULL;
	nrunning = nwaiting = waiting_head = 0;
}
