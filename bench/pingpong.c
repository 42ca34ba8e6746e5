/* SPDX-License-Identifier: BSD-2-Clause
 * Copyright (c) 2026 The nvmf developers */
/*
 * pingpong.c - the TCP loopback floor make bench measures against, a client
 * and a server in two processes, as a host and a target are:
 *
 *   pingpong [-t seconds] [-s request] [-r reply]     QD1 round trips: the
 *       client sends a request (72 B, a command capsule with its header),
 *       the server answers with a reply (4120 B: a 4 KiB C2HData PDU and a
 *       response); prints the average and median round trip and the rate.
 *   pingpong -S [-t seconds] [-b block]                a one-way stream of
 *       block-sized writes (128 KiB); prints MiB/s.
 *   -C name  both ends' TCP congestion control (default: the system's), to
 *       compare with nvmf's --tcp-congestion.
 *
 * Both ends are blocking sockets with TCP_NODELAY: what any host and target
 * pay for the same bytes. Output is one JSON object.
 */
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

struct server {
	int listen_fd;
	bool stream;
	size_t request, reply, block;
	const char *congestion;		/* NULL: the system's */
};

static uint64_t
now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

static void
die(const char *what)
{
	fprintf(stderr, "pingpong: %s: %s\n", what, strerror(errno));
	exit(1);
}

/* Reads exactly len bytes; false at end of stream. */
static bool
read_full(int fd, void *buf, size_t len)
{
	uint8_t *p = buf;

	while (len > 0) {
		ssize_t n = recv(fd, p, len, 0);

		if (n == 0)
			return false;
		if (n < 0) {
			if (errno == EINTR)
				continue;
			return false;
		}
		p += n;
		len -= (size_t)n;
	}
	return true;
}

static bool
write_full(int fd, const void *buf, size_t len)
{
	const uint8_t *p = buf;

	while (len > 0) {
		ssize_t n = send(fd, p, len, MSG_NOSIGNAL);

		if (n < 0) {
			if (errno == EINTR)
				continue;
			return false;
		}
		p += n;
		len -= (size_t)n;
	}
	return true;
}

static void
nodelay(int fd, const char *congestion)
{
	int one = 1;

	(void)setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	if (congestion != NULL && setsockopt(fd, IPPROTO_TCP, TCP_CONGESTION, congestion,
	    (socklen_t)strlen(congestion)) != 0)
		die(congestion);
}

static void
serve(struct server *s)
{
	size_t size = s->stream ? s->block : (s->request > s->reply ? s->request : s->reply);
	uint8_t *buf = calloc(1, size);
	int fd = accept(s->listen_fd, NULL, NULL);

	if (fd < 0 || buf == NULL)
		die("accept");
	nodelay(fd, s->congestion);
	if (s->stream) {
		/* Drain whatever arrives, as a receiver with a block-sized buffer. */
		while (recv(fd, buf, s->block, 0) > 0)
			;
	} else {
		while (read_full(fd, buf, s->request) && write_full(fd, buf, s->reply))
			;
	}
	close(fd);
	free(buf);
}

static int
cmp_u64(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;

	return x < y ? -1 : x > y;
}

int
main(int argc, char **argv)
{
	struct server s = { .request = 72, .reply = 4120, .block = 128 * 1024 };
	struct sockaddr_in sin = { .sin_family = AF_INET };
	socklen_t len = sizeof(sin);
	double seconds = 2;
	pid_t pid;
	uint8_t *buf;
	int c, fd;

	while ((c = getopt(argc, argv, "C:St:s:r:b:")) != -1) {
		switch (c) {
		case 'C': s.congestion = optarg; break;
		case 'S': s.stream = true; break;
		case 't': seconds = atof(optarg); break;
		case 's': s.request = (size_t)atol(optarg); break;
		case 'r': s.reply = (size_t)atol(optarg); break;
		case 'b': s.block = (size_t)atol(optarg); break;
		default:
			fprintf(stderr, "usage: pingpong [-S] [-C congestion] [-t seconds] "
			    "[-s request] [-r reply] [-b block]\n");
			return 2;
		}
	}
	if (seconds <= 0 || s.request == 0 || s.reply == 0 || s.block == 0) {
		fprintf(stderr, "pingpong: sizes and time must be positive\n");
		return 2;
	}
	sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	s.listen_fd = socket(AF_INET, SOCK_STREAM, 0);
	if (s.listen_fd < 0 || bind(s.listen_fd, (struct sockaddr *)&sin, sizeof(sin)) != 0 ||
	    listen(s.listen_fd, 1) != 0 ||
	    getsockname(s.listen_fd, (struct sockaddr *)&sin, &len) != 0)
		die("listen");
	pid = fork();
	if (pid < 0)
		die("fork");
	if (pid == 0) {
		serve(&s);
		_exit(0);
	}
	close(s.listen_fd);
	fd = socket(AF_INET, SOCK_STREAM, 0);
	if (fd < 0 || connect(fd, (struct sockaddr *)&sin, sizeof(sin)) != 0)
		die("connect");
	nodelay(fd, s.congestion);
	buf = calloc(1, s.stream ? s.block : (s.request > s.reply ? s.request : s.reply));
	if (buf == NULL)
		die("memory");

	if (s.stream) {
		uint64_t start = now_ns(), end = start + (uint64_t)(seconds * 1e9), bytes = 0, t;

		while ((t = now_ns()) < end) {
			if (!write_full(fd, buf, s.block))
				die("send");
			bytes += s.block;
		}
		printf("{\"stream_mibs\": %.2f, \"block\": %zu, \"seconds\": %.2f}\n",
		    (double)bytes / ((double)(t - start) / 1e9) / (1024.0 * 1024.0), s.block,
		    (double)(t - start) / 1e9);
	} else {
		size_t cap = 1u << 20, n = 0;
		uint64_t *rtt = malloc(cap * sizeof(*rtt));
		uint64_t start = now_ns(), end = start + (uint64_t)(seconds * 1e9), sum = 0, t;

		if (rtt == NULL)
			die("memory");
		/* A few round trips to settle the connection first. */
		for (int i = 0; i < 100; i++)
			if (!write_full(fd, buf, s.request) || !read_full(fd, buf, s.reply))
				die("warm-up");
		while ((t = now_ns()) < end) {
			if (!write_full(fd, buf, s.request) || !read_full(fd, buf, s.reply))
				die("round trip");
			if (n < cap)
				rtt[n++] = now_ns() - t;
		}
		for (size_t i = 0; i < n; i++)
			sum += rtt[i];
		qsort(rtt, n, sizeof(*rtt), cmp_u64);
		printf("{\"rtt_avg_us\": %.2f, \"rtt_p50_us\": %.2f, \"rate\": %.1f, "
		    "\"round_trips\": %zu, \"request\": %zu, \"reply\": %zu}\n",
		    (double)sum / (double)n / 1000.0, (double)rtt[n / 2] / 1000.0,
		    (double)n / ((double)sum / 1e9), n, s.request, s.reply);
		free(rtt);
	}
	shutdown(fd, SHUT_RDWR);
	close(fd);
	waitpid(pid, NULL, 0);
	free(buf);
	return 0;
}
