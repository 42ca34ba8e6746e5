/*
 * log.c - one line per event: to stderr in the foreground (-d), else syslog.
 */
#include <stdarg.h>
#include <stdio.h>
#include <syslog.h>
#include <time.h>

#include "nvmfd.h"

static bool log_stderr = true;
static int log_verbosity;

void
nvmfd_log_init(bool foreground, int verbosity)
{
	log_stderr = foreground;
	log_verbosity = verbosity;
	if (!foreground)
		openlog("nvmfd", LOG_PID, LOG_DAEMON);
}

void
nvmfd_log(int priority, const char *fmt, ...)
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

		clock_gettime(CLOCK_REALTIME, &ts);
		/* One write per line so threads do not interleave mid-line. */
		fprintf(stderr, "nvmfd[%ld.%03ld]: %s\n", (long)ts.tv_sec,
		    ts.tv_nsec / 1000000, line);
	} else {
		syslog(priority, "%s", line);
	}
}
