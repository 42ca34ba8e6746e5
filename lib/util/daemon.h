/* SPDX-License-Identifier: BSD-2-Clause
 * Copyright (c) 2026 The nvmf developers */
/* daemon.h - detaching a daemon so that start-up errors still reach the caller. */
#ifndef UTIL_DAEMON_H
#define UTIL_DAEMON_H

#include <signal.h>

/*
 * Forks. The parent waits until the child is ready (and exits 0) or reports
 * an error (printed as "name: error", exit 1). The child, in a new session,
 * gets the descriptor to report on.
 */
int daemon_detach(const char *name);
/* A start-up error: to the waiting parent when detached (fd >= 0), else stderr; exits 1. */
void daemon_fail(const char *name, int report_fd, const char *err)
    __attribute__((noreturn));
/* Start-up done: standard streams to /dev/null, the parent exits 0. */
void daemon_ready(int report_fd);
/*
 * Blocks SIGTERM, SIGINT and SIGHUP (before any thread starts, so all
 * inherit it) and ignores SIGPIPE; the main thread then waits in
 * daemon_wait_for_exit, which returns the signal that ends the daemon.
 */
void daemon_block_signals(sigset_t *set);
int daemon_wait_for_exit(const sigset_t *set);

#endif
