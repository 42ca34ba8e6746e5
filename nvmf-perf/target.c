/* SPDX-License-Identifier: BSD-2-Clause
 * Copyright (c) 2026 The nvmf developers */
/*
 * target.c - the association nvmf-perf drives by itself: dial, ICReq and
 * Connect on the admin queue, CC.EN, Identify (controller, then the
 * namespace), Set Features Number of Queues, then one connection and
 * Connect per I/O queue, each sized for the queue depth asked.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "perf.h"

#define PERF_KATO_MS		30000	/* main thread sends Keep Alive every 5 s */
#define HOSTNQN_FILE		"/etc/nvme/hostnqn"

/* A random host ID, and a host NQN made of it when none is given or set up. */
static void
host_identity(const struct perf_opts *o, char *hostnqn, size_t n, uint8_t hostid[16])
{
	FILE *f;
	uint64_t seed;
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	seed = (uint64_t)ts.tv_nsec ^ ((uint64_t)ts.tv_sec << 20) ^ (uint64_t)getpid() << 40;
	for (int i = 0; i < 16; i++) {
		seed ^= seed << 13;
		seed ^= seed >> 7;
		seed ^= seed << 17;
		hostid[i] = (uint8_t)(seed >> 24);
	}
	hostid[6] = (uint8_t)((hostid[6] & 0x0f) | 0x40);	/* UUID version 4 */
	hostid[8] = (uint8_t)((hostid[8] & 0x3f) | 0x80);
	if (o->hostnqn[0] != '\0') {
		snprintf(hostnqn, n, "%s", o->hostnqn);
		return;
	}
	f = fopen(HOSTNQN_FILE, "r");
	if (f != NULL) {
		char line[PERF_NQN_MAX + 2];

		if (fgets(line, sizeof(line), f) != NULL) {
			line[strcspn(line, "\r\n \t")] = '\0';
			if (line[0] != '\0' && strlen(line) < n) {
				/* Its length is checked: a copy (gcc -O1 saw truncation in snprintf). */
				memcpy(hostnqn, line, strlen(line) + 1);
				fclose(f);
				return;
			}
		}
		fclose(f);
	}
	snprintf(hostnqn, n, "nqn.2014-08.org.nvmexpress:uuid:"
	    "%02x%02x%02x%02x-%02x%02x-%02x%02x-%02x%02x-%02x%02x%02x%02x%02x%02x",
	    hostid[0], hostid[1], hostid[2], hostid[3], hostid[4], hostid[5], hostid[6],
	    hostid[7], hostid[8], hostid[9], hostid[10], hostid[11], hostid[12], hostid[13],
	    hostid[14], hostid[15]);
}

static struct nvmf_qpair *
open_queue(struct nvmf_association *na, const struct perf_opts *o,
    const struct nvmf_connect_params *cp, uint16_t qid, uint16_t qsize, uint16_t *cntlid,
    char *err, size_t errlen)
{
	struct nvmf_qpair *qp;
	char e[256];
	int fd;

	fd = nvmf_tcp_dial(o->traddr, o->trsvcid, (int)o->timeout_ms, e, sizeof(e));
	if (fd < 0) {
		snprintf(err, errlen, "cannot connect to %s", e);
		return NULL;
	}
	qp = nvmf_host_connect_queue(na, fd, cp, qid, qsize, cntlid, NULL, e, sizeof(e));
	if (qp == NULL) {
		close(fd);
		snprintf(err, errlen, "%s at %s port %s, queue %u: %s", o->subnqn, o->traddr,
		    o->trsvcid, qid, e);
	}
	return qp;
}

/* The first active namespace (Identify CNS 02h). */
static int
first_namespace(struct nvmf_qpair *admin, int timeout_ms, uint32_t *nsid, char *err,
    size_t errlen)
{
	struct nvme_command sqe;
	uint32_t *list;
	char e[256];

	list = calloc(1, 4096);
	if (list == NULL) {
		snprintf(err, errlen, "out of memory");
		return -1;
	}
	nvmf_cmd_identify(&sqe, NVME_CNS_ACTIVE_NS_LIST, 0);
	if (nvmf_host_admin_read(admin, &sqe, list, 4096, NULL, timeout_ms, e,
	    sizeof(e)) != 0) {
		snprintf(err, errlen, "listing the active namespaces: %s", e);
		free(list);
		return -1;
	}
	*nsid = list[0];
	free(list);
	if (*nsid == 0) {
		snprintf(err, errlen, "the controller has no active namespace");
		return -1;
	}
	return 0;
}

static int
identify_namespace(struct nvmf_qpair *admin, const struct perf_opts *o,
    struct perf_target *t, char *err, size_t errlen)
{
	struct nvme_identify_namespace *ns;
	struct nvme_command sqe;
	unsigned lbads;
	char e[256];

	ns = calloc(1, sizeof(*ns));
	if (ns == NULL) {
		snprintf(err, errlen, "out of memory");
		return -1;
	}
	nvmf_cmd_identify(&sqe, NVME_CNS_NAMESPACE, t->nsid);
	if (nvmf_host_admin_read(admin, &sqe, ns, sizeof(*ns), NULL, (int)o->timeout_ms, e,
	    sizeof(e)) != 0) {
		snprintf(err, errlen, "identify namespace %u: %s", t->nsid, e);
		free(ns);
		return -1;
	}
	lbads = ns->lbaf[ns->flbas & 0xf].lbads;
	t->nlb = ns->nsze;
	free(ns);
	if (t->nlb == 0) {
		snprintf(err, errlen, "namespace %u is not active", t->nsid);
		return -1;
	}
	if (lbads < 9 || lbads > 16) {
		snprintf(err, errlen, "namespace %u has a block size of 2^%u bytes", t->nsid,
		    lbads);
		return -1;
	}
	t->lba_size = 1u << lbads;
	return 0;
}

int
perf_target_connect(const struct perf_opts *o, struct perf_target *t, char *err,
    size_t errlen)
{
	struct nvmf_association_params p;
	struct nvme_identify_controller *id = NULL;
	struct nvmf_connect_params cp;
	struct nvmf_association *na;
	struct nvme_command sqe;
	char e[256], hostnqn[PERF_NQN_MAX];
	uint32_t want = o->threads * o->queues, granted, icd;
	uint64_t cap;

	memset(t, 0, sizeof(*t));
	memset(&p, 0, sizeof(p));
	p.size = sizeof(p);
	p.header_digests = o->header_digest;
	p.data_digests = o->data_digest;
	p.sq_flow_control = true;
	memcpy(p.tcp_congestion, o->tcp_congestion, sizeof(p.tcp_congestion));
	na = nvmf_association_create(&p, e, sizeof(e));
	if (na == NULL) {
		snprintf(err, errlen, "association parameters refused: %s", e);
		return -1;
	}
	memset(&cp, 0, sizeof(cp));
	cp.size = sizeof(cp);
	host_identity(o, hostnqn, sizeof(hostnqn), cp.hostid);
	cp.subnqn = o->subnqn;
	cp.hostnqn = hostnqn;
	cp.cntlid = NVMF_CNTLID_DYNAMIC;
	cp.kato_ms = PERF_KATO_MS;
	cp.timeout_ms = (int)o->timeout_ms;

	t->admin = open_queue(na, o, &cp, 0, 32, &t->cntlid, err, errlen);
	if (t->admin == NULL)
		goto fail;
	if (nvmf_host_property_get(t->admin, NVME_REG_CAP, true, &cap, (int)o->timeout_ms,
	    e, sizeof(e)) != 0) {
		snprintf(err, errlen, "reading CAP: %s", e);
		goto fail;
	}
	if (nvmf_host_enable_controller(t->admin, (int)o->timeout_ms, e, sizeof(e)) != 0) {
		snprintf(err, errlen, "enabling the controller: %s", e);
		goto fail;
	}
	id = calloc(1, sizeof(*id));
	if (id == NULL) {
		snprintf(err, errlen, "out of memory");
		goto fail;
	}
	nvmf_cmd_identify(&sqe, NVME_CNS_CONTROLLER, 0);
	if (nvmf_host_admin_read(t->admin, &sqe, id, sizeof(*id), NULL, (int)o->timeout_ms,
	    e, sizeof(e)) != 0) {
		snprintf(err, errlen, "identify controller: %s", e);
		goto fail;
	}
	if (id->cntrltype == NVME_CTRL_TYPE_DISCOVERY) {
		snprintf(err, errlen, "%s is a discovery controller", o->subnqn);
		goto fail;
	}
	/* MDTS counts pages of CAP.MPSMIN. */
	if (id->mdts != 0 && id->mdts < 20)
		t->max_transfer = (4096u << ((cap >> 48) & 0xf)) << id->mdts;
	icd = id->ioccsz * 16u > sizeof(struct nvme_command) ?
	    id->ioccsz * 16u - (uint32_t)sizeof(struct nvme_command) : 0;

	t->nsid = o->nsid;
	if (t->nsid == 0 && first_namespace(t->admin, (int)o->timeout_ms, &t->nsid, err,
	    errlen) != 0)
		goto fail;
	if (identify_namespace(t->admin, o, t, err, errlen) != 0)
		goto fail;
	if (o->io_size % t->lba_size != 0) {
		snprintf(err, errlen, "-o %u is not a multiple of namespace %u's block size %u",
		    o->io_size, t->nsid, t->lba_size);
		goto fail;
	}
	if (t->max_transfer != 0 && o->io_size > t->max_transfer) {
		snprintf(err, errlen, "-o %u exceeds the controller's largest transfer (MDTS) "
		    "of %u bytes", o->io_size, t->max_transfer);
		goto fail;
	}
	if ((uint64_t)o->io_size / t->lba_size > 65536 ||
	    o->io_size / t->lba_size > t->nlb) {
		snprintf(err, errlen, "-o %u is larger than namespace %u (%llu blocks of %u)",
		    o->io_size, t->nsid, (unsigned long long)t->nlb, t->lba_size);
		goto fail;
	}
	/* With SQ flow control a queue of n entries holds n - 1 commands. */
	if (o->depth > NVME_CAP_MQES(cap)) {
		snprintf(err, errlen, "-q %u exceeds what the controller's queues hold "
		    "(MQES+1 = %u entries, so %u commands)", o->depth,
		    NVME_CAP_MQES(cap) + 1, NVME_CAP_MQES(cap));
		goto fail;
	}
	t->qsize = o->depth + 1;
	granted = want;
	if (nvmf_host_request_queues(t->admin, &granted, (int)o->timeout_ms, e,
	    sizeof(e)) != 0) {
		snprintf(err, errlen, "asking for %u I/O queues: %s", want, e);
		goto fail;
	}
	if (granted < want) {
		snprintf(err, errlen, "the controller grants %u I/O queues, %u asked "
		    "(-c x -P)", granted, want);
		goto fail;
	}
	t->io = calloc(want, sizeof(*t->io));
	if (t->io == NULL) {
		snprintf(err, errlen, "out of memory");
		goto fail;
	}
	cp.cntlid = t->cntlid;
	cp.kato_ms = 0;
	for (uint32_t i = 0; i < want; i++) {
		t->io[i] = open_queue(na, o, &cp, (uint16_t)(i + 1), (uint16_t)t->qsize, NULL,
		    err, errlen);
		if (t->io[i] == NULL)
			goto fail;
		t->nio++;
		nvmf_host_qpair_set_icd_size(t->io[i], icd);
	}
	free(id);
	nvmf_association_free(na);	/* each queue pair holds its own reference */
	return 0;

fail:
	free(id);
	nvmf_association_free(na);
	perf_target_close(t);
	return -1;
}

int
perf_target_keep_alive(struct perf_target *t, int timeout_ms, char *err, size_t errlen)
{
	struct nvme_completion cqe;
	struct nvme_command sqe;
	int rc;

	nvmf_cmd_keep_alive(&sqe);
	rc = nvmf_host_execute(t->admin, &sqe, NULL, 0, false, &cqe, timeout_ms);
	if (rc != 0) {
		snprintf(err, errlen, "keep alive: %s", rc == -ETIMEDOUT ?
		    "no answer" : nvmf_qpair_error(t->admin));
		return -1;
	}
	if (NVME_CQE_STATUS(cqe.status) != 0) {
		snprintf(err, errlen, "keep alive: %s",
		    nvmf_status_string(NVME_CQE_STATUS(cqe.status)));
		return -1;
	}
	return 0;
}

void
perf_target_close(struct perf_target *t)
{
	for (uint32_t i = 0; i < t->nio; i++)
		nvmf_qpair_free(t->io[i]);
	free(t->io);
	t->io = NULL;
	t->nio = 0;
	if (t->admin != NULL) {
		/* Leave as a host should: CC.SHN, best effort. */
		if (!nvmf_qpair_failed(t->admin) && nvmf_host_outstanding(t->admin) == 0)
			(void)nvmf_host_shutdown_controller(t->admin, 1000);
		nvmf_qpair_free(t->admin);
		t->admin = NULL;
	}
}
