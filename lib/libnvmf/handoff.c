/* SPDX-License-Identifier: BSD-2-Clause
 * Copyright (c) 2026 The nvmf developers */
/*
 * handoff.c - moving a connected host queue pair to another process, as
 * FreeBSD's nvmecontrol hands queues to the kernel: the socket travels
 * (SCM_RIGHTS, the caller's business) with the state described here.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "nvmf_qpair.h"

int
nvmf_host_qpair_export(const struct nvmf_qpair *qp, struct nvmf_qpair_handoff *h)
{
	if (qp->role->controller || qp->failed)
		return -EINVAL;
	if (qp->outstanding != 0 || qp->tx_head != NULL || qp->rx_state != RX_COMMON ||
	    qp->hdr_got != 0 || qp->rx_pos != qp->rx_end)
		return -EBUSY;
	memset(h, 0, sizeof(*h));
	h->size = sizeof(*h);
	h->qid = qp->qid;
	h->qsize = qp->qsize;
	h->sq_flow_control = qp->sq_fc;
	h->sqhd = qp->sqhd;
	h->sqtail = qp->sqtail;
	h->icd_size = qp->icd_size;
	h->info = qp->info;
	return 0;
}

int
nvmf_qpair_release_fd(struct nvmf_qpair *qp)
{
	int fd = nvmf_qpair_fd(qp);

	qp->keep_fd = true;
	nvmf_qpair_free(qp);
	return fd;
}

struct nvmf_qpair *
nvmf_host_qpair_adopt(struct nvmf_association *na, int fd,
    const struct nvmf_qpair_handoff *h, char *err, size_t errlen)
{
	struct nvmf_stream *s;
	struct nvmf_qpair *qp;
	int fl;

	if (h->size < sizeof(*h)) {
		snprintf(err, errlen, "hand-off from an older library");
		return NULL;
	}
	if (na->params.controller) {
		snprintf(err, errlen, "a controller association cannot adopt host queues");
		return NULL;
	}
	if (h->qsize < 2 || h->sqhd >= h->qsize || h->sqtail >= h->qsize ||
	    h->info.cpda > NVME_TCP_MAX_CPDA || h->info.hpda > NVME_TCP_MAX_CPDA ||
	    h->info.max_h2c_data < NVME_TCP_MIN_MAXH2CDATA) {
		snprintf(err, errlen, "queue %u: inconsistent hand-off parameters", h->qid);
		return NULL;
	}
	fl = fcntl(fd, F_GETFL);
	if (fl < 0 || fcntl(fd, F_SETFL, fl | O_NONBLOCK) < 0) {
		snprintf(err, errlen, "queue %u: bad socket: %s", h->qid, strerror(errno));
		return NULL;
	}
	if (nvmf_socket_congestion(fd, na->params.tcp_congestion, err, errlen) != 0)
		return NULL;
	s = nvmf_stream_socket(fd);
	qp = s != NULL ? nvmf_qpair_alloc(na, s, &nvmf_host_role) : NULL;
	if (qp == NULL) {
		if (s != NULL)
			s->ops->close(s, true);
		snprintf(err, errlen, "out of memory");
		return NULL;
	}
	qp->qid = h->qid;
	qp->admin = h->qid == 0;
	qp->qsize = h->qsize;
	qp->sq_fc = h->sq_flow_control;
	qp->sqhd = h->sqhd;
	qp->sqtail = h->sqtail;
	qp->icd_size = h->icd_size;
	nvmf_qpair_settle(qp, &h->info);
	qp = nvmf_host_qpair_ready(qp, err, errlen);
	if (qp == NULL)
		s->ops->close(s, true);
	return qp;
}
