/* SPDX-License-Identifier: BSD-2-Clause
 * Copyright (c) 2026 The nvmf developers */
/*
 * message.c - nvmecontrol's one-line error messages.
 */
#include <stdarg.h>
#include <stdio.h>

#include "nvmecontrol.h"

const char *progname = "nvmecontrol";

void
errmsg(const char *fmt, ...)
{
	char buf[2048];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(buf, sizeof(buf), fmt, ap);
	va_end(ap);
	/* One line, whatever a peer or a library put into the message. */
	for (char *p = buf; *p != '\0'; p++)
		if (*p == '\n' || *p == '\r')
			*p = ' ';
	fprintf(stderr, "%s: %s\n", progname, buf);
}
