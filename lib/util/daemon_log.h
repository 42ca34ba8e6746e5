/* SPDX-License-Identifier: BSD-2-Clause
 * Copyright (c) 2026 The nvmf developers */
/* daemon_log.h - logging shared by nvmfd and nvmf-hostd. */
#ifndef DAEMON_LOG_H
#define DAEMON_LOG_H

#include <stdbool.h>
#include <syslog.h>

/* foreground: to stderr with a timestamp; otherwise syslog under name. */
void daemon_log_init(const char *name, bool foreground, int verbosity);
/* LOG_DEBUG lines appear only with verbosity >= 1. */
void daemon_log(int priority, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

#endif
