/* SPDX-License-Identifier: BSD-2-Clause
 * Copyright (c) 2026 The nvmf developers */
/*
 * fdreserve.h - a descriptor kept open to be given up when accept finds
 * none left (EMFILE), so that the client waiting can be let in and
 * answered or closed. Left waiting, it would keep the listener readable:
 * a poll loop would spin, and a blocking accept would wait for nothing.
 */
#ifndef NVMF_UTIL_FDRESERVE_H
#define NVMF_UTIL_FDRESERVE_H

#include <stdbool.h>
#include <sys/socket.h>

struct fd_reserve {
	int fd;			/* -1: given up, or there was no room for it */
};

#define FD_RESERVE_EMPTY	{ .fd = -1 }

/* Takes the reserve (again) if it is not held; false when there is no room. */
bool fd_reserve_hold(struct fd_reserve *r);
/*
 * Gives the reserve up and accepts into its place: the client's descriptor,
 * or -1 with errno (EMFILE when not even the reserve was there; EAGAIN from
 * a non-blocking listener nobody waits on, the reserve then held again).
 * With a client, the reserve stays given up: fd_reserve_hold takes it back
 * once the client is closed (or, for a client kept, once another
 * descriptor is free).
 */
int fd_reserve_accept(struct fd_reserve *r, int listen_fd, int flags, struct sockaddr *addr,
    socklen_t *addrlen);
/*
 * For a listener whose accept found no descriptor left: lets the waiting
 * client in on the reserve only to close it, and holds the reserve again.
 * True when a client was turned away (the caller says why). Without even
 * the reserve it sleeps 100 ms first, so that a poll loop on the listener,
 * still readable, does not spin.
 */
bool fd_reserve_turn_away(struct fd_reserve *r, int listen_fd, int flags);
/* Closes it for good. */
void fd_reserve_release(struct fd_reserve *r);

#endif /* NVMF_UTIL_FDRESERVE_H */
