/*
 * broadcast.c - devd.pipe: every event line, as read, to any number of
 * readers. A reader that cannot keep up is dropped, never waited for.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include "daemon_log.h"
#include "devd.h"

#define MAX_READERS	64

static int listen_fd = -1;
static int readers[MAX_READERS];
static unsigned nreaders;
static char sock_path[108];

int
broadcast_open(const char *path, char *err, size_t errlen)
{
	struct sockaddr_un sun = { .sun_family = AF_UNIX };

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
	if (bind(listen_fd, (struct sockaddr *)&sun, sizeof(sun)) != 0 ||
	    listen(listen_fd, 16) != 0) {
		snprintf(err, errlen, "%s: %s", path, strerror(errno));
		close(listen_fd);
		listen_fd = -1;
		return -1;
	}
	chmod(path, 0666);	/* events are for anyone who wants to read them */
	return 0;
}

int
broadcast_fd(void)
{
	return listen_fd;
}

void
broadcast_accept(void)
{
	int fd = accept4(listen_fd, NULL, NULL, SOCK_CLOEXEC | SOCK_NONBLOCK);

	if (fd < 0)
		return;
	if (nreaders == MAX_READERS) {
		close(fd);
		return;
	}
	shutdown(fd, SHUT_RD);
	readers[nreaders++] = fd;
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
		close(readers[i]);
		readers[i] = readers[--nreaders];
	}
}

void
broadcast_close(void)
{
	for (unsigned i = 0; i < nreaders; i++)
		close(readers[i]);
	nreaders = 0;
	if (listen_fd >= 0) {
		close(listen_fd);
		unlink(sock_path);
	}
	listen_fd = -1;
}
