/* SPDX-License-Identifier: BSD-2-Clause
 * Copyright (c) 2026 The nvmf developers */
/*
 * tasks.c - the host's own task thread: lifecycle work (namespace rescans
 * after an AEN, later reconnect and detach) runs here, never on the event
 * loop or a FUSE thread, in the order it was queued.
 */
#include <errno.h>
#include <stdio.h>

#include "hostd.h"

/* One thread: tasks run in the order they were queued. */
static struct hd_workers *tasks;

int
hd_tasks_start(char *err, size_t errlen)
{
	char why[128];

	tasks = hd_workers_new(1, 1, 0, 0, why, sizeof(why));
	if (tasks == NULL) {
		snprintf(err, errlen, "task thread: %s", why);
		return -1;
	}
	return 0;
}

void
hd_task_queue(void (*fn)(void *), void *arg)
{
	int rc = hd_workers_run(tasks, fn, arg);

	if (rc == -ESHUTDOWN)
		return;		/* shutting down: lifecycle work is moot */
	if (rc != 0) {
		daemon_log(LOG_ERR, "out of memory queueing a task: running it here");
		fn(arg);
	}
}

void
hd_tasks_stop(void)
{
	(void)hd_workers_stop(tasks, -1);	/* finishes what was queued first */
}
