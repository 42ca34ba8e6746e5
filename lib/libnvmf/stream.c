/* SPDX-License-Identifier: BSD-2-Clause
 * Copyright (c) 2026 The nvmf developers */
/*
 * stream.c - the plain socket stream: every call is one system call,
 * nothing buffered here (the engine batches). Every call but recv_wait's
 * says MSG_DONTWAIT, so none blocks whatever the descriptor's O_NONBLOCK.
 */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdlib.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

#include "nvmf_stream.h"

struct socket_stream {
	struct nvmf_stream base;
	int fd;
	bool blocking;		/* O_NONBLOCK cleared for recv_wait */
	int rcvtimeo_ms;	/* SO_RCVTIMEO as last set (-1: none, for ever) */
};

static int
sock_fd_of(const struct nvmf_stream *s)
{
	return ((const struct socket_stream *)s)->fd;
}

static ssize_t
sock_recv(struct nvmf_stream *s, void *buf, size_t len)
{
	return recv(sock_fd_of(s), buf, len, MSG_DONTWAIT);
}

static ssize_t
sock_sendv(struct nvmf_stream *s, const struct iovec *iov, int iovcnt)
{
	struct msghdr msg = { .msg_iov = (struct iovec *)iov, .msg_iovlen = (size_t)iovcnt };

	/* MSG_NOSIGNAL: a library must not kill its caller with SIGPIPE. */
	return sendmsg(sock_fd_of(s), &msg, MSG_NOSIGNAL | MSG_DONTWAIT);
}

static int
sock_wait(struct nvmf_stream *s, short events, int timeout_ms)
{
	struct pollfd pfd = { .fd = sock_fd_of(s), .events = events };

	return poll(&pfd, 1, timeout_ms);
}

/* recv_wait where the descriptor would not take a timeout: poll, then recv. */
static ssize_t
poll_then_recv(struct nvmf_stream *s, void *buf, size_t len, int timeout_ms)
{
	int n = sock_wait(s, POLLIN, timeout_ms);

	if (n <= 0) {
		if (n == 0)
			errno = EAGAIN;
		return -1;
	}
	return sock_recv(s, buf, len);
}

/*
 * Waiting in recv itself: one system call where poll and recv were two,
 * which on a machine whose system calls cost a microsecond is a tenth of
 * a loopback round trip. The timeout is SO_RCVTIMEO, set when it changes.
 */
static ssize_t
sock_recv_wait(struct nvmf_stream *s, void *buf, size_t len, int timeout_ms)
{
	struct socket_stream *ss = (struct socket_stream *)s;

	if (timeout_ms == 0)
		return sock_recv(s, buf, len);
	if (!ss->blocking) {
		int fl = fcntl(ss->fd, F_GETFL);

		if (fl < 0 || fcntl(ss->fd, F_SETFL, fl & ~O_NONBLOCK) < 0)
			return poll_then_recv(s, buf, len, timeout_ms);
		ss->blocking = true;
	}
	if (timeout_ms != ss->rcvtimeo_ms) {
		struct timeval tv = { 0, 0 };	/* zero: for ever */

		if (timeout_ms > 0) {
			tv.tv_sec = timeout_ms / 1000;
			tv.tv_usec = (timeout_ms % 1000) * 1000;
		}
		if (setsockopt(ss->fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv)) != 0)
			return poll_then_recv(s, buf, len, timeout_ms);
		ss->rcvtimeo_ms = timeout_ms;
	}
	return recv(ss->fd, buf, len, 0);
}

static void
sock_shutdown(struct nvmf_stream *s)
{
	shutdown(sock_fd_of(s), SHUT_RDWR);
}

static void
sock_close(struct nvmf_stream *s, bool keep_fd)
{
	if (!keep_fd && sock_fd_of(s) >= 0)
		close(sock_fd_of(s));
	free(s);
}

static const struct nvmf_stream_ops socket_ops = {
	.recv = sock_recv,
	.recv_wait = sock_recv_wait,
	.sendv = sock_sendv,
	.wait = sock_wait,
	.shutdown = sock_shutdown,
	.close = sock_close,
	.fd = sock_fd_of,
};

struct nvmf_stream *
nvmf_stream_socket(int fd)
{
	struct socket_stream *ss = calloc(1, sizeof(*ss));

	if (ss == NULL)
		return NULL;
	ss->base.ops = &socket_ops;
	ss->fd = fd;
	ss->rcvtimeo_ms = -1;
	return &ss->base;
}
