/* SPDX-License-Identifier: BSD-2-Clause
 * Copyright (c) 2026 The nvmf developers */
/*
 * stream.c - the plain socket stream: every call is one system call on a
 * non-blocking socket, nothing buffered here (the engine batches).
 */
#include <errno.h>
#include <poll.h>
#include <stdlib.h>
#include <sys/socket.h>
#include <unistd.h>

#include "nvmf_stream.h"

struct socket_stream {
	struct nvmf_stream base;
	int fd;
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
	return &ss->base;
}
