/* SPDX-License-Identifier: BSD-2-Clause
 * Copyright (c) 2026 The nvmf developers */
/*
 * log.c - the daemons' log: one line per event, to stderr in the foreground
 * (-d), else to syslog.
 */
#include <stdarg.h>
#include <stdio.h>
#include <syslog.h>
#include <time.h>

#include "daemon_log.h"

static bool log_stderr = true;
static const char *log_name = "nvmf";
static int log_verbosity;

void
daemon_log_init(const char *name, bool foreground, int verbosity)
{
	log_name = name;
	log_stderr = foreground;
	log_verbosity = verbosity;
	if (!foreground)
		openlog(name, LOG_PID, LOG_DAEMON);
}

void
daemon_log(int priority, const char *fmt, ...)
{
	char line[1024];
	va_list ap;

	if (priority >= LOG_DEBUG && log_verbosity < 1)
		return;
	va_start(ap, fmt);
	vsnprintf(line, sizeof(line), fmt, ap);
	va_end(ap);
	if (log_stderr) {
		struct timespec ts;
		struct tm tm;

		clock_gettime(CLOCK_REALTIME, &ts);
		localtime_r(&ts.tv_sec, &tm);
		/* One write per line so threads do not interleave mid-line. */
		fprintf(stderr, "%02d:%02d:%02d.%03ld %s: %s\n", tm.tm_hour, tm.tm_min,
		    tm.tm_sec, ts.tv_nsec / 1000000, log_name, line);
	} else {
		syslog(priority, "%s", line);
	}
}
