/* SPDX-License-Identifier: BSD-2-Clause
 * Copyright (c) 2026 The nvmf developers */
/*
 * host_setup.c - the blocking steps a tool takes to build an association:
 * dial, ICReq + Connect, enable the controller, identify, ask for queues,
 * read the discovery log. Each step names its failure in one line.
 */
#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "nvmf_qpair.h"

/* Non-blocking connect bounded by the time left; 0 or an errno value. */
static int
dial_one(const struct addrinfo *ai, long deadline, int *out)
{
	struct pollfd pfd;
	socklen_t len = sizeof(int);
	int fd, soerr = 0, rc;

	fd = socket(ai->ai_family, ai->ai_socktype | SOCK_CLOEXEC | SOCK_NONBLOCK,
	    ai->ai_protocol);
	if (fd < 0)
		return errno;
	if (connect(fd, ai->ai_addr, ai->ai_addrlen) != 0 && errno != EINPROGRESS) {
		rc = errno;
		close(fd);
		return rc;
	}
	pfd.fd = fd;
	pfd.events = POLLOUT;
	for (;;) {
		long left = deadline - nvmf_now_ms();

		if (left <= 0) {
			close(fd);
			return ETIMEDOUT;
		}
		rc = poll(&pfd, 1, (int)left);
		if (rc > 0)
			break;
		if (rc < 0 && errno != EINTR) {
			rc = errno;
			close(fd);
			return rc;
		}
	}
	if (getsockopt(fd, SOL_SOCKET, SO_ERROR, &soerr, &len) != 0 || soerr != 0) {
		close(fd);
		return soerr != 0 ? soerr : errno;
	}
	*out = fd;
	return 0;
}

int
nvmf_tcp_dial(const char *address, const char *port, int timeout_ms, char *err,
    size_t errlen)
{
	struct addrinfo hints = { .ai_socktype = SOCK_STREAM, .ai_family = AF_UNSPEC };
	struct addrinfo *res, *ai;
	long deadline = nvmf_now_ms() + timeout_ms;
	int rc, fd = -1, last = 0;

	rc = getaddrinfo(address, port, &hints, &res);
	if (rc != 0) {
		snprintf(err, errlen, "%s port %s: %s", address, port, gai_strerror(rc));
		return -1;
	}
	for (ai = res; ai != NULL && fd < 0; ai = ai->ai_next) {
		last = dial_one(ai, deadline, &fd);
		if (last == ETIMEDOUT)
			break;
	}
	freeaddrinfo(res);
	if (fd < 0) {
		if (last == ETIMEDOUT)
			snprintf(err, errlen, "%s port %s: no answer within %d ms", address, port,
			    timeout_ms);
		else
			snprintf(err, errlen, "%s port %s: %s", address, port, strerror(last));
		return -1;
	}
	/* Back to blocking mode: queue pair creation sets what it needs. */
	fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) & ~O_NONBLOCK);
	return fd;
}

/* ------------------------------------------------ blocking, over the callbacks */

/* What a blocking helper waits for: the callback version's result. */
struct sync_admin {
	bool done;
	int rc;
	uint16_t status;
	uint64_t value;
	char err[256];
};

static void
sync_admin_done(void *arg, const struct nvmf_admin_result *r)
{
	struct sync_admin *w = arg;

	w->done = true;
	w->rc = r->rc;
	w->status = r->status;
	w->value = r->value;
	snprintf(w->err, sizeof(w->err), "%s", r->err);
}

/*
 * Waits for a callback helper started with submit_rc; fills err as the
 * helper words it, or names what went unanswered. 0 or -1.
 */
static int
sync_admin_wait(struct nvmf_qpair *qp, int submit_rc, struct sync_admin *w,
    const char *what, int timeout_ms, char *err, size_t errlen)
{
	if (submit_rc != 0) {
		if (submit_rc == -ENOTCONN)
			nvmf_err_lost(qp, what, err, errlen);
		else
			snprintf(err, errlen, "%s: %s", what, strerror(-submit_rc));
		return -1;
	}
	(void)nvmf_host_wait(qp, &w->done, nvmf_deadline(timeout_ms));
	if (w->rc != 0) {
		snprintf(err, errlen, "%s", w->err);
		return -1;
	}
	return 0;
}

int
nvmf_host_property_get(struct nvmf_qpair *admin, uint32_t offset, bool eight,
    uint64_t *value, int timeout_ms, char *err, size_t errlen)
{
	struct sync_admin w = { 0 };
	int rc = nvmf_host_property_get_async(admin, offset, eight, sync_admin_done, &w);

	if (sync_admin_wait(admin, rc, &w, "Property Get", timeout_ms, err, errlen) != 0)
		return -1;
	*value = w.value;
	return 0;
}

static int
property_set(struct nvmf_qpair *admin, uint32_t offset, uint32_t value, int timeout_ms,
    char *err, size_t errlen)
{
	struct sync_admin w = { 0 };
	int rc = nvmf_host_property_set_async(admin, offset, false, value, sync_admin_done,
	    &w);

	return sync_admin_wait(admin, rc, &w, "Property Set", timeout_ms, err, errlen);
}

int
nvmf_host_enable_controller(struct nvmf_qpair *admin, int timeout_ms, char *err,
    size_t errlen)
{
	struct sync_admin w = { 0 };
	int rc = nvmf_host_enable_controller_async(admin, timeout_ms, sync_admin_done, &w);

	/* Each exchange has timeout_ms, and CSTS.RDY as long again at most. */
	return sync_admin_wait(admin, rc, &w, "Property Get", 3 * timeout_ms, err, errlen);
}

int
nvmf_host_shutdown_controller(struct nvmf_qpair *admin, int timeout_ms)
{
	char err[160];
	uint64_t cc, csts;
	long deadline = nvmf_now_ms() + timeout_ms;

	if (nvmf_host_property_get(admin, NVME_REG_CC, false, &cc, timeout_ms, err,
	    sizeof(err)) != 0)
		return -1;
	cc = (cc & ~NVME_CC_SHN_MASK) | (1u << NVME_CC_SHN_SHIFT);
	if (property_set(admin, NVME_REG_CC, (uint32_t)cc, timeout_ms, err, sizeof(err)) != 0)
		return -1;
	while (nvmf_now_ms() < deadline) {
		if (nvmf_host_property_get(admin, NVME_REG_CSTS, false, &csts, timeout_ms, err,
		    sizeof(err)) != 0)
			return -1;
		if ((csts & (3u << NVME_CSTS_SHST_SHIFT)) == NVME_CSTS_SHST_COMPLETE)
			return 0;
		usleep(10000);
	}
	return -1;
}

int
nvmf_host_admin_read(struct nvmf_qpair *admin, const struct nvme_command *sqe,
    void *buf, uint32_t len, uint32_t *cdw0, int timeout_ms, char *err, size_t errlen)
{
	struct sync_admin w = { 0 };
	int rc = nvmf_host_admin_cmd_async(admin, sqe, buf, len, false, sync_admin_done, &w);

	if (sync_admin_wait(admin, rc, &w, "admin command", timeout_ms, err, errlen) != 0)
		return -1;
	if (cdw0 != NULL)
		*cdw0 = (uint32_t)w.value;
	return 0;
}

int
nvmf_host_request_queues(struct nvmf_qpair *admin, uint32_t *count, int timeout_ms,
    char *err, size_t errlen)
{
	struct sync_admin w = { 0 };
	uint32_t cdw0, nsq, ncq;
	int rc;

	if (*count == 0 || *count > 0xffff) {
		snprintf(err, errlen, "I/O queue count %u out of range", *count);
		return -1;
	}
	rc = nvmf_host_set_features_async(admin, NVME_FEAT_NUM_QUEUES,
	    NVME_FEAT_NUM_QUEUES_VALUE(*count, *count), sync_admin_done, &w);
	if (sync_admin_wait(admin, rc, &w, "admin command 0x09", timeout_ms, err,
	    errlen) != 0)
		return -1;
	cdw0 = (uint32_t)w.value;
	nsq = (cdw0 & 0xffff) + 1;
	ncq = (cdw0 >> 16) + 1;
	if (nsq < *count)
		*count = nsq;
	if (ncq < *count)
		*count = ncq;
	return 0;
}

int
nvmf_host_discovery_log(struct nvmf_qpair *admin, struct nvmf_discovery_log_header **log,
    int timeout_ms, char *err, size_t errlen)
{
	struct nvmf_discovery_log_header hdr;
	struct nvme_command sqe;

	for (int attempt = 0; attempt < 10; attempt++) {
		uint64_t genctr, numrec;
		size_t len;
		uint8_t *buf;

		nvmf_cmd_get_log_page(&sqe, NVME_LOG_DISCOVERY, 0, 0, sizeof(hdr));
		if (nvmf_host_admin_read(admin, &sqe, &hdr, sizeof(hdr), NULL, timeout_ms, err,
		    errlen) != 0)
			return -1;
		genctr = hdr.genctr;
		numrec = hdr.numrec;
		if (numrec > 4096) {
			snprintf(err, errlen, "discovery log claims %llu records",
			    (unsigned long long)numrec);
			return -1;
		}
		len = sizeof(hdr) + numrec * sizeof(struct nvmf_discovery_log_entry);
		buf = calloc(1, len);
		if (buf == NULL) {
			snprintf(err, errlen, "out of memory");
			return -1;
		}
		/* Entries in chunks the controller can return in one transfer. */
		for (size_t off = 0; off < len;) {
			size_t n = len - off > 64 * 1024 ? 64 * 1024 : len - off;

			nvmf_cmd_get_log_page(&sqe, NVME_LOG_DISCOVERY, 0, off, (uint32_t)n);
			if (nvmf_host_admin_read(admin, &sqe, buf + off, (uint32_t)n, NULL,
			    timeout_ms, err, errlen) != 0) {
				free(buf);
				return -1;
			}
			off += n;
		}
		memcpy(&hdr, buf, sizeof(hdr));
		if (hdr.genctr == genctr && hdr.numrec == numrec) {
			*log = (struct nvmf_discovery_log_header *)buf;
			return 0;
		}
		free(buf);		/* changed while we read it: again */
	}
	snprintf(err, errlen, "discovery log keeps changing");
	return -1;
}
