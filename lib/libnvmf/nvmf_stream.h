/* SPDX-License-Identifier: BSD-2-Clause
 * Copyright (c) 2026 The nvmf developers */
/*
 * nvmf_stream.h - the byte stream under the PDU engine. The engine frames
 * and parses PDUs; how bytes move is this table's business: a plain socket
 * today (stream.c), TLS or io_uring later, without the engine changing.
 * Internal to libnvmf.
 */
#ifndef NVMF_STREAM_H
#define NVMF_STREAM_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>
#include <sys/uio.h>

struct nvmf_stream;

struct nvmf_stream_ops {
	/* As recv(2) without blocking: bytes read, 0 at end of stream, or -1
	 * with errno (EAGAIN when nothing is there). */
	ssize_t (*recv)(struct nvmf_stream *s, void *buf, size_t len);
	/* As recv, but waits up to timeout_ms (-1: for ever; 0: exactly recv)
	 * for the first bytes: -1 with EAGAIN when none came, EINTR on a signal. */
	ssize_t (*recv_wait)(struct nvmf_stream *s, void *buf, size_t len, int timeout_ms);
	/* As sendmsg(2) without blocking and without SIGPIPE: bytes taken
	 * (possibly fewer than offered) or -1 with errno. */
	ssize_t (*sendv)(struct nvmf_stream *s, const struct iovec *iov, int iovcnt);
	/* Waits up to timeout_ms for POLLIN and/or POLLOUT, as poll(2). */
	int (*wait)(struct nvmf_stream *s, short events, int timeout_ms);
	/* Ends both directions now: the peer sees the end of the stream. */
	void (*shutdown)(struct nvmf_stream *s);
	/* Frees the stream; the descriptor is closed unless keep_fd. */
	void (*close)(struct nvmf_stream *s, bool keep_fd);
	/* The descriptor an event loop polls for this stream. */
	int (*fd)(const struct nvmf_stream *s);
};

struct nvmf_stream {
	const struct nvmf_stream_ops *ops;
};

/* A stream over a connected socket (made non-blocking); NULL without memory. */
struct nvmf_stream *nvmf_stream_socket(int fd);

static inline ssize_t
nvmf_stream_recv(struct nvmf_stream *s, void *buf, size_t len)
{
	return s->ops->recv(s, buf, len);
}

static inline ssize_t
nvmf_stream_recv_wait(struct nvmf_stream *s, void *buf, size_t len, int timeout_ms)
{
	return s->ops->recv_wait(s, buf, len, timeout_ms);
}

static inline ssize_t
nvmf_stream_sendv(struct nvmf_stream *s, const struct iovec *iov, int iovcnt)
{
	return s->ops->sendv(s, iov, iovcnt);
}

static inline int
nvmf_stream_fd(const struct nvmf_stream *s)
{
	return s->ops->fd(s);
}

#endif /* NVMF_STREAM_H */
