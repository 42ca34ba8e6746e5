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

static long
now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

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
		long left = deadline - now_ms();

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
	long deadline = now_ms() + timeout_ms;
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

static int
exec_error(struct nvmf_qpair *qp, int rc, const char *what, char *err, size_t errlen)
{
	if (rc == -ETIMEDOUT)
		snprintf(err, errlen, "%s: no answer from the controller", what);
	else
		snprintf(err, errlen, "%s: %s", what, nvmf_qpair_error(qp));
	return -1;
}

static int
status_error(uint16_t status, const char *what, char *err, size_t errlen)
{
	snprintf(err, errlen, "%s failed: %s (status 0x%04x)", what,
	    nvmf_status_string(status & ~NVME_STATUS_DNR), status);
	return -1;
}

struct nvmf_qpair *
nvmf_host_connect_queue(struct nvmf_association *na, int fd,
    const struct nvmf_connect_params *cp, uint16_t qid, uint16_t qsize,
    uint16_t *cntlid, uint16_t *status, char *err, size_t errlen)
{
	const struct nvmf_association_params *ap = nvmf_association_params(na);
	struct nvmf_connect_data data;
	struct nvme_completion cqe;
	struct nvme_command sqe;
	struct nvmf_qpair *qp;
	char what[64];
	int rc;

	if (status != NULL)
		*status = 0;
	if (cp->subnqn == NULL || strlen(cp->subnqn) > NVMF_NQN_MAX_LEN ||
	    cp->hostnqn == NULL || strlen(cp->hostnqn) > NVMF_NQN_MAX_LEN) {
		snprintf(err, errlen, "NQNs must be 1 to %d characters", NVMF_NQN_MAX_LEN);
		return NULL;
	}
	qp = nvmf_host_qpair_create(na, fd, qsize, qid == 0, cp->timeout_ms, err, errlen);
	if (qp == NULL)
		return NULL;
	nvmf_cmd_connect(&sqe, qid, (uint16_t)(qsize - 1), qid == 0 ? cp->kato_ms : 0,
	    !ap->sq_flow_control);
	nvmf_connect_data_init(&data, cp->hostid, cp->cntlid, cp->subnqn, cp->hostnqn);
	snprintf(what, sizeof(what), "Connect (queue %u)", qid);
	/* Connect's data always travels in the capsule, before IOCCSZ is known. */
	if (qp->icd_size < sizeof(data))
		qp->icd_size = sizeof(data);
	rc = nvmf_host_execute(qp, &sqe, &data, sizeof(data), true, &cqe, cp->timeout_ms);
	if (qid != 0)
		qp->icd_size = 0;	/* until the caller knows the controller's IOCCSZ */
	if (rc != 0) {
		exec_error(qp, rc, what, err, errlen);
		goto fail;
	}
	if (NVME_CQE_STATUS(cqe.status) != 0) {
		uint16_t st = NVME_CQE_STATUS(cqe.status);

		if (status != NULL)
			*status = st;
		status_error(st, what, err, errlen);
		if ((st & 0xff) == NVME_SC_CONNECT_INVALID_PARAMETERS &&
		    NVME_STATUS_SCT(st) == NVME_SCT_COMMAND_SPECIFIC) {
			size_t n = strlen(err);
			uint16_t ipo = NVMF_CONNECT_IPO(cqe.cdw0);
			bool in_data = NVMF_CONNECT_IATTR(cqe.cdw0) == 1;

			snprintf(err + n, errlen - n, ": %s",
			    in_data && ipo == offsetof(struct nvmf_connect_data, subnqn) ?
			    "the target has no such subsystem here" :
			    in_data && ipo == offsetof(struct nvmf_connect_data, cntlid) ?
			    "no such controller" :
			    in_data && ipo == offsetof(struct nvmf_connect_data, hostnqn) ?
			    "the target refused the host NQN" :
			    in_data && ipo == offsetof(struct nvmf_connect_data, hostid) ?
			    "the target refused the host ID" :
			    !in_data && ipo == offsetof(struct nvmf_connect_cmd, qid) ?
			    "the target refused the queue ID" :
			    !in_data && ipo == offsetof(struct nvmf_connect_cmd, sqsize) ?
			    "the target refused the queue size" :
			    !in_data && ipo == offsetof(struct nvmf_connect_cmd, cattr) ?
			    "the target refused to disable SQ flow control" :
			    "a parameter was refused");
		}
		goto fail;
	}
	if (cntlid != NULL)
		*cntlid = NVMF_CONNECT_RSP_CNTLID(cqe.cdw0);
	qp->qid = qid;
	return qp;
fail:
	/* The caller keeps the socket: detach it from the queue pair first. */
	qp->keep_fd = true;
	nvmf_qpair_free(qp);
	return NULL;
}

int
nvmf_host_property_get(struct nvmf_qpair *admin, uint32_t offset, bool eight,
    uint64_t *value, int timeout_ms, char *err, size_t errlen)
{
	struct nvme_completion cqe;
	struct nvme_command sqe;
	int rc;

	nvmf_cmd_property_get(&sqe, offset, eight);
	rc = nvmf_host_execute(admin, &sqe, NULL, 0, false, &cqe, timeout_ms);
	if (rc != 0)
		return exec_error(admin, rc, "Property Get", err, errlen);
	if (NVME_CQE_STATUS(cqe.status) != 0)
		return status_error(NVME_CQE_STATUS(cqe.status), "Property Get", err, errlen);
	*value = cqe.cdw0 | (eight ? (uint64_t)cqe.cdw1 << 32 : 0);
	return 0;
}

static int
property_set(struct nvmf_qpair *admin, uint32_t offset, uint32_t value, int timeout_ms,
    char *err, size_t errlen)
{
	struct nvme_completion cqe;
	struct nvme_command sqe;
	int rc;

	nvmf_cmd_property_set(&sqe, offset, false, value);
	rc = nvmf_host_execute(admin, &sqe, NULL, 0, false, &cqe, timeout_ms);
	if (rc != 0)
		return exec_error(admin, rc, "Property Set", err, errlen);
	if (NVME_CQE_STATUS(cqe.status) != 0)
		return status_error(NVME_CQE_STATUS(cqe.status), "Property Set", err, errlen);
	return 0;
}

int
nvmf_host_enable_controller(struct nvmf_qpair *admin, int timeout_ms, char *err,
    size_t errlen)
{
	uint64_t cap, csts;
	long deadline;
	uint32_t cc = NVME_CC_EN | (6u << NVME_CC_IOSQES_SHIFT) |
	    (4u << NVME_CC_IOCQES_SHIFT);

	if (nvmf_host_property_get(admin, NVME_REG_CAP, true, &cap, timeout_ms, err,
	    errlen) != 0)
		return -1;
	/* CAP.TO is in 500 ms units; wait no longer than the caller allows. */
	deadline = now_ms() + ((long)((cap >> NVME_CAP_TO_SHIFT) & 0xff) * 500 < timeout_ms ?
	    (long)((cap >> NVME_CAP_TO_SHIFT) & 0xff) * 500 + 500 : timeout_ms);
	if (property_set(admin, NVME_REG_CC, cc, timeout_ms, err, errlen) != 0)
		return -1;
	for (;;) {
		if (nvmf_host_property_get(admin, NVME_REG_CSTS, false, &csts, timeout_ms,
		    err, errlen) != 0)
			return -1;
		if (csts & NVME_CSTS_CFS) {
			snprintf(err, errlen, "controller reports a fatal status (CSTS.CFS)");
			return -1;
		}
		if (csts & NVME_CSTS_RDY)
			return 0;
		if (now_ms() >= deadline) {
			snprintf(err, errlen, "controller not ready (CSTS.RDY) in time");
			return -1;
		}
		usleep(10000);
	}
}

int
nvmf_host_shutdown_controller(struct nvmf_qpair *admin, int timeout_ms)
{
	char err[160];
	uint64_t cc, csts;
	long deadline = now_ms() + timeout_ms;

	if (nvmf_host_property_get(admin, NVME_REG_CC, false, &cc, timeout_ms, err,
	    sizeof(err)) != 0)
		return -1;
	cc = (cc & ~NVME_CC_SHN_MASK) | (1u << NVME_CC_SHN_SHIFT);
	if (property_set(admin, NVME_REG_CC, (uint32_t)cc, timeout_ms, err, sizeof(err)) != 0)
		return -1;
	while (now_ms() < deadline) {
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
	struct nvme_completion cqe;
	char what[48];
	int rc;

	snprintf(what, sizeof(what), "admin command 0x%02x", sqe->opc);
	if (sqe->opc == NVME_ADMIN_IDENTIFY)
		snprintf(what, sizeof(what), "Identify (CNS %u)", sqe->cdw10 & 0xff);
	else if (sqe->opc == NVME_ADMIN_GET_LOG_PAGE)
		snprintf(what, sizeof(what), "Get Log Page 0x%02x", sqe->cdw10 & 0xff);
	rc = nvmf_host_execute(admin, sqe, buf, len, false, &cqe, timeout_ms);
	if (rc != 0)
		return exec_error(admin, rc, what, err, errlen);
	if (NVME_CQE_STATUS(cqe.status) != 0)
		return status_error(NVME_CQE_STATUS(cqe.status), what, err, errlen);
	if (cdw0 != NULL)
		*cdw0 = cqe.cdw0;
	return 0;
}

int
nvmf_host_request_queues(struct nvmf_qpair *admin, uint32_t *count, int timeout_ms,
    char *err, size_t errlen)
{
	struct nvme_command sqe;
	uint32_t cdw0, nsq, ncq;

	if (*count == 0 || *count > 0xffff) {
		snprintf(err, errlen, "I/O queue count %u out of range", *count);
		return -1;
	}
	nvmf_cmd_set_features(&sqe, NVME_FEAT_NUM_QUEUES,
	    NVME_FEAT_NUM_QUEUES_VALUE(*count, *count));
	if (nvmf_host_admin_read(admin, &sqe, NULL, 0, &cdw0, timeout_ms, err, errlen) != 0)
		return -1;
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
