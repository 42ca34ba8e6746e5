/* SPDX-License-Identifier: BSD-2-Clause
 * Copyright (c) 2026 The nvmf developers */
/*
 * broadcast.c - devd.pipe: every event line, as read, to a bounded number
 * of readers. Events name the host's controllers, so the socket is root's,
 * or root's and one group's. A reader that cannot keep up is dropped, never
 * waited for; a reader beyond the limit is turned away, and the readers
 * already there keep their places. Some places are kept for root, so that
 * the group's members cannot take them all.
 */
#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include "daemon_log.h"
#include "decimal.h"
#include "devd.h"
#include "fdlimit.h"
#include "fdreserve.h"

static int listen_fd = -1;
/* Lets a reader in to be turned away when accept finds no descriptor left. */
static struct fd_reserve reserve = FD_RESERVE_EMPTY;
static int readers[BROADCAST_MAX_READERS];
static unsigned nreaders;
static char sock_path[108];

int
broadcast_parse_group(const char *arg, gid_t *gid, char *err, size_t errlen)
{
	if (group_lookup(arg, gid))
		return 0;
	snprintf(err, errlen, "--group: no group named '%s' (a group name or a decimal GID)",
	    arg);
	return -1;
}

int
broadcast_open(const char *path, gid_t group, char *err, size_t errlen)
{
	struct sockaddr_un sun = { .sun_family = AF_UNIX };
	mode_t old;
	int rc;

	if (strlen(path) >= sizeof(sun.sun_path)) {
		snprintf(err, errlen, "%s: path too long for a socket", path);
		return -1;
	}
	snprintf(sun.sun_path, sizeof(sun.sun_path), "%s", path);
	snprintf(sock_path, sizeof(sock_path), "%s", path);
	listen_fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
	if (listen_fd < 0) {
		snprintf(err, errlen, "socket: %s", strerror(errno));
		return -1;
	}
	unlink(path);
	/* Born 0600: never open to others, not even until the chmod below. */
	old = umask(0177);
	rc = bind(listen_fd, (struct sockaddr *)&sun, sizeof(sun));
	umask(old);
	if (rc != 0 || listen(listen_fd, 16) != 0) {
		snprintf(err, errlen, "%s: %s", path, strerror(errno));
		goto fail;
	}
	if (group != BROADCAST_NO_GROUP &&
	    (chown(path, (uid_t)-1, group) != 0 || chmod(path, 0660) != 0)) {
		snprintf(err, errlen, "%s: cannot open to group %u: %s", path, (unsigned)group,
		    strerror(errno));
		unlink(path);
		goto fail;
	}
	(void)fd_reserve_hold(&reserve);
	return 0;
fail:
	close(listen_fd);
	listen_fd = -1;
	return -1;
}

int
broadcast_fd(void)
{
	return listen_fd;
}

static void
drop_reader(unsigned i)
{
	close(readers[i]);
	readers[i] = readers[--nreaders];
}

/* Readers that hung up free their places before anyone is refused one. */
static void
drop_gone_readers(void)
{
	struct pollfd pfd[BROADCAST_MAX_READERS];

	for (unsigned i = 0; i < nreaders; i++)
		pfd[i] = (struct pollfd){ .fd = readers[i], .events = 0 };
	if (poll(pfd, nreaders, 0) <= 0)
		return;
	for (unsigned i = nreaders; i-- > 0;)
		if (pfd[i].revents & (POLLHUP | POLLERR | POLLNVAL))
			drop_reader(i);
}

static void
admit(int fd)
{
	struct ucred cred = { .pid = 0, .uid = (uid_t)-1, .gid = (gid_t)-1 };
	socklen_t len = sizeof(cred);
	unsigned limit;

	if (getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &cred, &len) != 0)
		cred.uid = (uid_t)-1;
	limit = cred.uid == 0 ? BROADCAST_MAX_READERS :
	    BROADCAST_MAX_READERS - BROADCAST_ROOT_RESERVED;
	if (nreaders >= limit)
		drop_gone_readers();
	if (nreaders >= limit) {
		daemon_log(LOG_WARNING, "%s: refused a reader (pid %d, uid %d): %u readers "
		    "already, at most %u %s", sock_path, (int)cred.pid, (int)cred.uid, nreaders,
		    limit, cred.uid == 0 ? "in all" : "for users other than root");
		close(fd);
		return;
	}
	/* Readers only listen: anything they send is refused, never buffered. */
	shutdown(fd, SHUT_RD);
	readers[nreaders++] = fd;
}

/* accept found no descriptor left (err): the reserve lets the reader in to be turned away. */
static void
refuse_without_descriptors(int err)
{
	if (fd_reserve_turn_away(&reserve, listen_fd, SOCK_CLOEXEC | SOCK_NONBLOCK))
		daemon_log(LOG_WARNING, "%s: refused a reader: out of file descriptors (%s, "
		    "RLIMIT_NOFILE %lu)", sock_path, strerror(err), fdlimit_current());
}

void
broadcast_accept(void)
{
	for (;;) {
		int fd = accept4(listen_fd, NULL, NULL, SOCK_CLOEXEC | SOCK_NONBLOCK);

		if (fd < 0) {
			if (errno == EINTR || errno == ECONNABORTED)
				continue;
			if (errno == EMFILE || errno == ENFILE)
				refuse_without_descriptors(errno);
			return;
		}
		admit(fd);
	}
}

void
broadcast_line(const char *line)
{
	size_t len = strlen(line);

	for (unsigned i = 0; i < nreaders;) {
		ssize_t n = send(readers[i], line, len, MSG_NOSIGNAL | MSG_DONTWAIT);

		if (n == (ssize_t)len) {
			i++;
			continue;
		}
		/* Gone, or so far behind that its buffer is full: let it go. */
		drop_reader(i);
	}
}

void
broadcast_close(void)
{
	while (nreaders > 0)
		drop_reader(nreaders - 1);
	if (listen_fd >= 0) {
		close(listen_fd);
		unlink(sock_path);
	}
	listen_fd = -1;
	fd_reserve_release(&reserve);
}
