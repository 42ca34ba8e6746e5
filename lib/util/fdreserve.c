/* SPDX-License-Identifier: BSD-2-Clause
 * Copyright (c) 2026 The nvmf developers */
/*
 * fdreserve.c - the descriptor kept for when accept finds none left
 * (why: fdreserve.h).
 */
#include <errno.h>
#include <fcntl.h>
#include <unistd.h>

#include "fdreserve.h"

bool
fd_reserve_hold(struct fd_reserve *r)
{
	if (r->fd < 0)
		r->fd = open("/dev/null", O_RDONLY | O_CLOEXEC);
	return r->fd >= 0;
}

int
fd_reserve_accept(struct fd_reserve *r, int listen_fd, int flags, struct sockaddr *addr,
    socklen_t *addrlen)
{
	int fd;

	if (!fd_reserve_hold(r)) {
		errno = EMFILE;
		return -1;
	}
	close(r->fd);
	r->fd = -1;
	fd = accept4(listen_fd, addr, addrlen, flags);
	if (fd < 0) {
		/*
		 * Nobody came after all (accept says EMFILE before it looks
		 * for a client): the reserve is taken back at once, or the next
		 * client would get its place and the reserve would be gone.
		 */
		int e = errno;

		(void)fd_reserve_hold(r);
		errno = e;
	}
	return fd;
}

bool
fd_reserve_turn_away(struct fd_reserve *r, int listen_fd, int flags)
{
	int fd = fd_reserve_accept(r, listen_fd, flags, NULL, NULL);

	if (fd < 0) {
		if (errno == EMFILE || errno == ENFILE)
			usleep(100000);
		return false;		/* or nobody was waiting after all */
	}
	close(fd);
	(void)fd_reserve_hold(r);
	return true;
}

void
fd_reserve_release(struct fd_reserve *r)
{
	if (r->fd >= 0)
		close(r->fd);
	r->fd = -1;
}
