/* SPDX-License-Identifier: BSD-2-Clause
 * Copyright (c) 2026 The nvmf developers */
/*
 * listener.c - one listening socket and accept thread per port; every
 * accepted connection gets a thread of its own (connection.c).
 */
#include <arpa/inet.h>
#include <errno.h>
#include <netdb.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <syslog.h>
#include <unistd.h>

#include "fdlimit.h"
#include "fdreserve.h"
#include "nvmfd.h"

static int
listen_on(const struct nvmfd_port *p, char *err, size_t errlen)
{
	struct addrinfo hints = { .ai_socktype = SOCK_STREAM,
	    .ai_flags = AI_PASSIVE | AI_NUMERICHOST | AI_NUMERICSERV };
	struct addrinfo *res, *ai;
	char service[8];
	int fd = -1, rc, one = 1, zero = 0, saved = 0;

	snprintf(service, sizeof(service), "%u", p->port);
	rc = getaddrinfo(p->address[0] ? p->address : NULL, service, &hints, &res);
	if (rc != 0) {
		snprintf(err, errlen, "%s port %u: %s", p->address, p->port, gai_strerror(rc));
		return -1;
	}
	/* For every address: prefer IPv6 dual stack, fall back to IPv4. */
	for (int pass = 0; pass < 2 && fd < 0; pass++) {
		for (ai = res; ai != NULL; ai = ai->ai_next) {
			if ((pass == 0) != (ai->ai_family == AF_INET6))
				continue;
			fd = socket(ai->ai_family, ai->ai_socktype | SOCK_CLOEXEC, 0);
			if (fd < 0)
				continue;
			setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
			if (ai->ai_family == AF_INET6)
				setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &zero, sizeof(zero));
			if (bind(fd, ai->ai_addr, ai->ai_addrlen) == 0 && listen(fd, 128) == 0)
				break;
			saved = errno;
			close(fd);
			fd = -1;
		}
	}
	freeaddrinfo(res);
	if (fd < 0)
		snprintf(err, errlen, "cannot listen on %s port %u: %s",
		    p->address[0] ? p->address : "*", p->port, strerror(saved));
	return fd;
}

/*
 * accept found no descriptor left: a reserve, given up for the moment,
 * lets the waiting host in to be closed at once (and this logged) rather
 * than left waiting for an ICResp. false when that could not be done.
 */
static bool
refuse_without_descriptors(struct nvmfd_listener *l, struct fd_reserve *reserve, int err)
{
	struct sockaddr_storage peer;
	socklen_t len = sizeof(peer);
	char who[INET6_ADDRSTRLEN + 8] = "a host";
	int fd;

	fd = fd_reserve_accept(reserve, l->fd, SOCK_CLOEXEC, (struct sockaddr *)&peer, &len);
	if (fd >= 0) {
		char host[INET6_ADDRSTRLEN];
		const void *a = peer.ss_family == AF_INET6 ?
		    (const void *)&((struct sockaddr_in6 *)&peer)->sin6_addr :
		    (const void *)&((struct sockaddr_in *)&peer)->sin_addr;

		if (inet_ntop(peer.ss_family, a, host, sizeof(host)) != NULL)
			snprintf(who, sizeof(who), "%s", host);
		daemon_log(LOG_WARNING, "%s: connection refused: out of file descriptors (%s, "
		    "RLIMIT_NOFILE %lu)", who, strerror(err), fdlimit_current());
		close(fd);
	}
	(void)fd_reserve_hold(reserve);
	return fd >= 0;
}

static void *
accept_loop(void *arg)
{
	struct nvmfd_listener *l = arg;
	struct fd_reserve reserve = FD_RESERVE_EMPTY;

	(void)fd_reserve_hold(&reserve);

	for (;;) {
		struct pollfd pfd = { .fd = l->fd, .events = POLLIN };
		struct sockaddr_storage peer;
		socklen_t len = sizeof(peer);
		int fd;

		/*
		 * Accept only once a host waits: an accept that waits holds a
		 * descriptor number all along, which at the limit is the other
		 * listener's reserve. The shutdown of nvmfd_listeners_stop wakes
		 * the poll and makes accept fail.
		 */
		if (poll(&pfd, 1, -1) < 0 && errno == EINTR)
			continue;
		fd = accept4(l->fd, (struct sockaddr *)&peer, &len, SOCK_CLOEXEC);
		if (fd < 0) {
			int e = errno;

			if (e == EINTR || e == ECONNABORTED)
				continue;
			if (e == EMFILE || e == ENFILE) {
				/* Out of descriptors, accept never says it was shut down. */
				if (atomic_load(&l->stopping))
					break;
				if (!refuse_without_descriptors(l, &reserve, e))
					usleep(100000);	/* out of descriptors: let some go */
				continue;
			}
			if (e == ENOBUFS || e == ENOMEM) {
				usleep(100000);
				continue;
			}
			break;			/* listener closed: shutting down */
		}
		nvmfd_conn_spawn(l, fd, &peer);
	}
	fd_reserve_release(&reserve);
	return NULL;
}

int
nvmfd_listeners_start(struct nvmfd_config *cfg, struct nvmfd_listener **out,
    uint32_t *count, char *err, size_t errlen)
{
	struct nvmfd_listener *ls = calloc(cfg->nports, sizeof(*ls));
	struct nvmf_association_params params = {
		.size = sizeof(params),
		.controller = true,
		.header_digests = cfg->header_digests,
		.data_digests = cfg->data_digests,
		.sq_flow_control = cfg->allow_disable_sq_fc,
		.max_h2c_data = cfg->max_h2c_data,
		.io_icd_size = cfg->io_icd_size,
		.max_transfer = NVMFD_MAX_TRANSFER,
		.max_queue_data = cfg->limit[NVMFD_LIMIT_QUEUE_DATA],
	};
	uint32_t i;

	if (ls == NULL) {
		snprintf(err, errlen, "out of memory");
		return -1;
	}
	memcpy(params.tcp_congestion, cfg->tcp_congestion, sizeof(params.tcp_congestion));
	for (i = 0; i < cfg->nports; i++) {
		ls[i].port = &cfg->ports[i];
		ls[i].cfg = cfg;
		ls[i].fd = listen_on(ls[i].port, err, errlen);
		if (ls[i].fd < 0)
			goto fail;
		ls[i].na = nvmf_association_create(&params, err, errlen);
		if (ls[i].na == NULL) {
			close(ls[i].fd);
			goto fail;
		}
	}
	for (i = 0; i < cfg->nports; i++) {
		errno = pthread_create(&ls[i].thread, NULL, accept_loop, &ls[i]);
		if (errno != 0) {
			snprintf(err, errlen, "cannot start a thread: %s", strerror(errno));
			return -1;
		}
		daemon_log(LOG_INFO, "listening on %s port %u (%s)",
		    ls[i].port->address[0] ? ls[i].port->address : "*", ls[i].port->port,
		    ls[i].port->discovery_only ? "discovery" : "NVMe/TCP");
	}
	*out = ls;
	*count = cfg->nports;
	return 0;
fail:
	while (i-- > 0) {
		close(ls[i].fd);
		nvmf_association_free(ls[i].na);
	}
	free(ls);
	return -1;
}

void
nvmfd_listeners_stop(struct nvmfd_listener *ls, uint32_t count)
{
	/* accept() fails once its socket is shut down: the thread ends, then the fd goes. */
	for (uint32_t i = 0; i < count; i++) {
		atomic_store(&ls[i].stopping, true);
		shutdown(ls[i].fd, SHUT_RDWR);
	}
	for (uint32_t i = 0; i < count; i++) {
		pthread_join(ls[i].thread, NULL);
		close(ls[i].fd);
	}
}

void
nvmfd_listeners_free(struct nvmfd_listener *ls, uint32_t count)
{
	for (uint32_t i = 0; i < count; i++)
		nvmf_association_free(ls[i].na);
	free(ls);
}
