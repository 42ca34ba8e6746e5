/* SPDX-License-Identifier: BSD-2-Clause
 * Copyright (c) 2026 The nvmf developers */
/*
 * association.c - building an association as FreeBSD's nvmecontrol does
 * before it hands the queues to the kernel: dial (bounded), ICReq/ICResp and
 * Fabrics Connect on the admin queue (with KATO), CC.EN and CSTS.RDY,
 * Identify Controller, Set Features Number of Queues, one connection and
 * Connect per I/O queue; then the sockets and what was negotiated go to
 * nvmf-hostd over nvmf.sock. On any failure every queue is closed again, so
 * nothing is left half connected. A discovery controller kept by nvmf-hostd
 * (connect-all --persistent) is the admin queue alone, with its Discovery
 * Log Page Change notices enabled.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <json-c/json.h>

#include "nvmecontrol.h"

#define HANDOFF_TIMEOUT_MS	60000	/* hostd scans namespaces before it answers */
#define SHUTDOWN_TIMEOUT_MS	1000

static struct nvmf_association *
make_association(bool hdgst, bool ddgst, bool sq_fc, char *err, size_t errlen)
{
	struct nvmf_association_params p;
	struct nvmf_association *na;
	char e[ERRLEN];

	memset(&p, 0, sizeof(p));
	p.size = sizeof(p);
	p.controller = false;
	p.header_digests = hdgst;
	p.data_digests = ddgst;
	p.sq_flow_control = sq_fc;
	p.pda = 0;
	p.maxr2t = 0;
	na = nvmf_association_create(&p, e, sizeof(e));
	if (na == NULL)
		snprintf(err, errlen, "association parameters refused: %s", e);
	return na;
}

/* Dials addr; -1 with err naming the address. */
static int
dial(const struct target_addr *addr, int timeout_ms, char *err, size_t errlen)
{
	char e[ERRLEN];
	int fd;

	fd = nvmf_tcp_dial(addr->address, addr->port, timeout_ms, e, sizeof(e));
	if (fd < 0)
		snprintf(err, errlen, "cannot connect to %s", e);
	return fd;
}

/* Dial + ICReq + Connect for one queue; the queue pair or NULL (socket closed). */
static struct nvmf_qpair *
open_queue(struct nvmf_association *na, const struct target_addr *addr,
    const struct nvmf_connect_params *cp, uint16_t qid, uint16_t qsize,
    uint16_t *cntlid, char *err, size_t errlen)
{
	struct nvmf_qpair *qp;
	char e[ERRLEN], where[300];
	int fd;

	uint16_t status = 0;

	fd = dial(addr, cp->timeout_ms, err, errlen);
	if (fd < 0)
		return NULL;
	qp = nvmf_host_connect_queue(na, fd, cp, qid, qsize, cntlid, &status, e, sizeof(e));
	if (qp == NULL) {
		close(fd);
		format_address(addr->address, addr->port, where, sizeof(where));
		if (strcmp(cp->subnqn, NVMF_DISCOVERY_NQN) == 0)
			snprintf(err, errlen, "discovery service at %s: %s", where, e);
		else
			snprintf(err, errlen, "%s at %s: %s", cp->subnqn, where, e);
		/* The one parameter a user chooses that targets commonly refuse. */
		if (!nvmf_association_params(na)->sq_flow_control &&
		    (status & 0x7ff) == NVME_STATUS(NVME_SCT_COMMAND_SPECIFIC,
		    NVME_SC_CONNECT_INVALID_PARAMETERS)) {
			size_t n = strlen(err);

			snprintf(err + n, errlen - n, " (the host asked to disable SQ flow "
			    "control; -F requests it)");
		}
	}
	return qp;
}

struct nvmf_qpair *
discovery_connect(const struct target_addr *addr, const struct host_ids *ids,
    int timeout_ms, char *err, size_t errlen)
{
	struct nvmf_connect_params cp;
	struct nvmf_association *na;
	struct nvmf_qpair *qp;
	char e[ERRLEN];

	na = make_association(false, false, true, err, errlen);
	if (na == NULL)
		return NULL;
	memset(&cp, 0, sizeof(cp));
	cp.size = sizeof(cp);
	cp.subnqn = NVMF_DISCOVERY_NQN;
	cp.hostnqn = ids->hostnqn;
	memcpy(cp.hostid, ids->hostid, sizeof(cp.hostid));
	cp.cntlid = NVMF_CNTLID_DYNAMIC;
	cp.kato_ms = DISCOVERY_KATO_MS;
	cp.timeout_ms = timeout_ms;
	qp = open_queue(na, addr, &cp, 0, ADMIN_QUEUE_SIZE, NULL, err, errlen);
	nvmf_association_free(na);	/* the queue pair holds its own reference */
	if (qp == NULL)
		return NULL;
	if (nvmf_host_enable_controller(qp, timeout_ms, e, sizeof(e)) != 0) {
		snprintf(err, errlen, "discovery controller: %s", e);
		nvmf_qpair_free(qp);
		return NULL;
	}
	return qp;
}

bool
identify_is_discovery(const struct nvme_identify_controller *id)
{
	/* CNTRLTYPE is reserved before NVMe 1.4: then the well-known NQN says. */
	return id->cntrltype == NVME_CTRL_TYPE_DISCOVERY ||
	    (id->cntrltype == 0 && strncmp(id->subnqn, NVMF_DISCOVERY_NQN,
	    sizeof(id->subnqn)) == 0);
}

/*
 * Asks a discovery controller for Discovery Log Page Change notices, when
 * it says it sends them (OAES): nvmf-hostd keeps an AER outstanding. One
 * that has none, or refuses, is still kept; its log is read once.
 */
static void
enable_discovery_notices(struct nvmf_qpair *admin, const struct nvme_identify_controller *id,
    const struct assoc_request *r, const char *where)
{
	struct nvme_completion cqe;
	struct nvme_command sqe;
	int rc;

	if (!(id->oaes & NVME_ASYNC_EVENT_DISC_CHANGE)) {
		if (r->opts->verbose)
			printf("discovery controller at %s sends no log change notices\n", where);
		return;
	}
	nvmf_cmd_set_features(&sqe, NVME_FEAT_ASYNC_EVENT, NVME_ASYNC_EVENT_DISC_CHANGE);
	rc = nvmf_host_execute(admin, &sqe, NULL, 0, false, &cqe, r->opts->timeout_ms);
	if (rc == 0 && NVME_CQE_STATUS(cqe.status) != 0)
		errmsg("discovery controller at %s: enabling log change notices: %s", where,
		    nvmf_status_string(NVME_CQE_STATUS(cqe.status)));
}

/* ------------------------------------------------------------------ hand-off */
static struct json_object *
queue_json(const struct nvmf_qpair_handoff *h)
{
	struct json_object *q = json_object_new_object();

	json_object_object_add(q, "qid", json_object_new_int(h->qid));
	json_object_object_add(q, "qsize", json_object_new_int(h->qsize));
	json_object_object_add(q, "sq_flow_control", json_object_new_boolean(h->sq_flow_control));
	json_object_object_add(q, "sqhd", json_object_new_int(h->sqhd));
	json_object_object_add(q, "sqtail", json_object_new_int(h->sqtail));
	json_object_object_add(q, "icd_size", json_object_new_int64(h->icd_size));
	json_object_object_add(q, "hdgst", json_object_new_boolean(h->info.header_digests));
	json_object_object_add(q, "ddgst", json_object_new_boolean(h->info.data_digests));
	json_object_object_add(q, "hpda", json_object_new_int(h->info.hpda));
	json_object_object_add(q, "cpda", json_object_new_int(h->info.cpda));
	json_object_object_add(q, "max_h2c_data", json_object_new_int64(h->info.max_h2c_data));
	json_object_object_add(q, "maxr2t", json_object_new_int64(h->info.maxr2t));
	return q;
}

static const char *
socket_adrfam(int fd)
{
	struct sockaddr_storage ss;
	socklen_t len = sizeof(ss);

	if (getpeername(fd, (struct sockaddr *)&ss, &len) == 0 && ss.ss_family == AF_INET6)
		return "ipv6";
	return "ipv4";
}

/* nqueues: what h holds; nio and qsize: the controller's kept values. */
static struct json_object *
handoff_json(const struct assoc_request *r, const char *adrfam, uint16_t cntlid,
    uint32_t nio, uint32_t qsize, const struct nvme_identify_controller *id,
    const struct nvmf_qpair_handoff *h, uint32_t nqueues)
{
	const struct fabric_opts *o = r->opts;
	struct json_object *req, *ctrl, *queues;
	char *id64;

	ctrl = json_object_new_object();
	json_object_object_add(ctrl, "transport", json_object_new_string("tcp"));
	json_object_object_add(ctrl, "traddr", json_object_new_string(r->addr.address));
	json_object_object_add(ctrl, "trsvcid", json_object_new_string(r->addr.port));
	json_object_object_add(ctrl, "adrfam", json_object_new_string(adrfam));
	json_object_object_add(ctrl, "subnqn", json_object_new_string(r->subnqn));
	json_object_object_add(ctrl, "hostnqn", json_object_new_string(r->ids->hostnqn));
	json_object_object_add(ctrl, "hostid", json_object_new_string(r->ids->hostid_str));
	json_object_object_add(ctrl, "cntlid", json_object_new_int(cntlid));
	json_object_object_add(ctrl, "kato_ms", json_object_new_int64(o->kato_ms));
	json_object_object_add(ctrl, "reconnect_delay", json_object_new_int(o->reconnect_delay));
	json_object_object_add(ctrl, "ctrl_loss_tmo", json_object_new_int(o->ctrl_loss_tmo));
	json_object_object_add(ctrl, "fast_io_fail_tmo",
	    json_object_new_int(o->fast_io_fail_tmo));
	json_object_object_add(ctrl, "nr_io_queues", json_object_new_int64(nio));
	json_object_object_add(ctrl, "queue_size", json_object_new_int64(qsize));
	json_object_object_add(ctrl, "hdr_digest", json_object_new_boolean(o->hdr_digest));
	json_object_object_add(ctrl, "data_digest", json_object_new_boolean(o->data_digest));
	json_object_object_add(ctrl, "sq_flow_control",
	    json_object_new_boolean(o->flow_control));
	json_object_object_add(ctrl, "kind",
	    json_object_new_string(r->discovery ? "discovery" : "nvm"));
	id64 = base64_encode(id, sizeof(*id));
	json_object_object_add(ctrl, "identify", json_object_new_string(id64 ? id64 : ""));
	free(id64);

	queues = json_object_new_array();
	for (uint32_t i = 0; i < nqueues; i++)
		json_object_array_add(queues, queue_json(&h[i]));

	req = json_object_new_object();
	if (r->reconnect_name != NULL) {
		json_object_object_add(req, "op", json_object_new_string("reconnect"));
		json_object_object_add(req, "name", json_object_new_string(r->reconnect_name));
	} else {
		json_object_object_add(req, "op", json_object_new_string("handoff"));
	}
	json_object_object_add(req, "controller", ctrl);
	json_object_object_add(req, "queues", queues);
	return req;
}

/* ------------------------------------------------------------------- connect */
static void
close_queues(struct nvmf_qpair *admin, struct nvmf_qpair **io, uint32_t nio)
{
	for (uint32_t i = 0; i < nio; i++)
		nvmf_qpair_free(io[i]);
	if (admin != NULL) {
		/* Tell the controller we are leaving, as FreeBSD does; best effort. */
		if (!nvmf_qpair_failed(admin) && nvmf_host_outstanding(admin) == 0)
			(void)nvmf_host_shutdown_controller(admin, SHUTDOWN_TIMEOUT_MS);
		nvmf_qpair_free(admin);
	}
}

int
association_connect(const struct assoc_request *r, char *name, size_t namelen,
    struct json_object **namespaces, char *err, size_t errlen)
{
	const struct fabric_opts *o = r->opts;
	struct nvmf_qpair *admin = NULL, *io[MAX_IO_QUEUES] = { NULL };
	struct nvmf_qpair_handoff h[MAX_IO_QUEUES + 1];
	struct nvme_identify_controller id;
	struct nvmf_connect_params cp;
	struct nvmf_association *na;
	struct json_object *req = NULL, *reply;
	struct nvme_command sqe;
	struct control *ctl;
	char e[ERRLEN], got[NVMF_NQN_MAX_LEN + 1], where[300];
	int fds[MAX_IO_QUEUES + 1];
	uint32_t nio = 0, want, qsize = 0, icd;
	uint64_t cap;
	uint16_t cntlid = 0;
	const char *adrfam;

	format_address(r->addr.address, r->addr.port, where, sizeof(where));
	na = make_association(o->hdr_digest, o->data_digest, o->flow_control, err, errlen);
	if (na == NULL)
		return -1;
	memset(&cp, 0, sizeof(cp));
	cp.size = sizeof(cp);
	cp.subnqn = r->subnqn;
	cp.hostnqn = r->ids->hostnqn;
	memcpy(cp.hostid, r->ids->hostid, sizeof(cp.hostid));
	cp.cntlid = r->cntlid;
	cp.kato_ms = o->kato_ms;
	cp.timeout_ms = o->timeout_ms;

	/* Admin queue, then the controller's capabilities and CC.EN. */
	admin = open_queue(na, &r->addr, &cp, 0, ADMIN_QUEUE_SIZE, &cntlid, err, errlen);
	if (admin == NULL)
		goto fail;
	if (nvmf_host_property_get(admin, NVME_REG_CAP, true, &cap, o->timeout_ms, e,
	    sizeof(e)) != 0) {
		snprintf(err, errlen, "%s at %s: reading CAP: %s", r->subnqn, where, e);
		goto fail;
	}
	if (!r->discovery && !(cap & NVME_CAP_CSS_NVM)) {
		snprintf(err, errlen, "%s at %s does not support the NVM command set",
		    r->subnqn, where);
		goto fail;
	}
	if (nvmf_host_enable_controller(admin, o->timeout_ms, e, sizeof(e)) != 0) {
		snprintf(err, errlen, "%s at %s: enabling the controller: %s", r->subnqn,
		    where, e);
		goto fail;
	}

	/* Identify Controller: what hostd keeps and checks. */
	nvmf_cmd_identify(&sqe, NVME_CNS_CONTROLLER, 0);
	if (nvmf_host_admin_read(admin, &sqe, &id, sizeof(id), NULL, o->timeout_ms, e,
	    sizeof(e)) != 0) {
		snprintf(err, errlen, "%s at %s: %s", r->subnqn, where, e);
		goto fail;
	}
	if (identify_is_discovery(&id) != r->discovery) {
		if (r->discovery)
			snprintf(err, errlen, "%s at %s is not a discovery controller",
			    r->subnqn, where);
		else
			snprintf(err, errlen, "%s at %s is a discovery controller "
			    "(use discover or connect-all)", r->subnqn, where);
		goto fail;
	}
	id_string(got, sizeof(got), id.subnqn, sizeof(id.subnqn));
	if (strcmp(got, r->subnqn) != 0) {
		snprintf(err, errlen, "controller at %s reports SubNQN '%s', not '%s'", where,
		    got, r->subnqn);
		goto fail;
	}

	if (r->discovery) {
		enable_discovery_notices(admin, &id, r, where);
		goto export;
	}

	/* I/O queue size: MQES+1 unless asked for, never more than MQES+1. */
	if (o->queue_size == 0) {
		qsize = NVME_CAP_MQES(cap) + 1;
		if (qsize > DEFAULT_QUEUE_SIZE_CAP)
			qsize = DEFAULT_QUEUE_SIZE_CAP;
	} else if (o->queue_size > NVME_CAP_MQES(cap) + 1) {
		snprintf(err, errlen, "I/O queue size %u exceeds the controller's maximum (%u)",
		    o->queue_size, NVME_CAP_MQES(cap) + 1);
		goto fail;
	} else {
		qsize = o->queue_size;
	}
	if (qsize < 2) {
		snprintf(err, errlen, "controller allows I/O queues of %u entries only", qsize);
		goto fail;
	}

	want = o->nr_io_queues;
	nio = want;
	if (nvmf_host_request_queues(admin, &nio, o->timeout_ms, e, sizeof(e)) != 0) {
		nio = 0;
		snprintf(err, errlen, "%s at %s: asking for %u I/O queues: %s", r->subnqn,
		    where, want, e);
		goto fail;
	}
	if (nio == 0) {
		snprintf(err, errlen, "%s at %s granted no I/O queue", r->subnqn, where);
		goto fail;
	}
	if (nio > want)
		nio = want;

	/* I/O queues: their own connections, Connect with the admin's cntlid. */
	icd = id.ioccsz * 16u > sizeof(struct nvme_command) ?
	    id.ioccsz * 16u - (uint32_t)sizeof(struct nvme_command) : 0;
	cp.cntlid = cntlid;
	cp.kato_ms = 0;
	for (uint32_t i = 0; i < nio; i++) {
		io[i] = open_queue(na, &r->addr, &cp, (uint16_t)(i + 1), (uint16_t)qsize,
		    NULL, err, errlen);
		if (io[i] == NULL)
			goto fail;
		nvmf_host_qpair_set_icd_size(io[i], icd);
	}

	/* Describe every queue while the library still owns it. */
export:
	if (nvmf_host_qpair_export(admin, &h[0]) != 0) {
		snprintf(err, errlen, "admin queue cannot be handed over (busy)");
		goto fail;
	}
	for (uint32_t i = 0; i < nio; i++) {
		if (nvmf_host_qpair_export(io[i], &h[i + 1]) != 0) {
			snprintf(err, errlen, "I/O queue %u cannot be handed over (busy)", i + 1);
			goto fail;
		}
	}
	adrfam = socket_adrfam(nvmf_qpair_fd(admin));
	/* A discovery controller keeps -i and -Q for what connect-all --device connects. */
	req = r->discovery ?
	    handoff_json(r, adrfam, cntlid, o->nr_io_queues, o->queue_size, &id, h, 1) :
	    handoff_json(r, adrfam, cntlid, nio, qsize, &id, h, nio + 1);

	/* A reconnect goes over the connection that holds its lease. */
	ctl = r->ctl != NULL ? r->ctl : control_open(err, errlen);
	if (ctl == NULL)
		goto fail;
	nvmf_association_free(na);
	na = NULL;
	fds[0] = nvmf_qpair_release_fd(admin);
	admin = NULL;
	for (uint32_t i = 0; i < nio; i++) {
		fds[i + 1] = nvmf_qpair_release_fd(io[i]);
		io[i] = NULL;
	}
	reply = control_call(ctl, req, fds, nio + 1, HANDOFF_TIMEOUT_MS, NULL, 0, e,
	    sizeof(e));
	if (ctl != r->ctl)
		control_close(ctl);
	json_object_put(req);
	/* The message carried its own copies; hostd owns the queues now (or closed them). */
	for (uint32_t i = 0; i <= nio; i++)
		close(fds[i]);
	if (reply == NULL) {
		snprintf(err, errlen, "nvmf-hostd did not take %s at %s: %s", r->subnqn, where,
		    e);
		return -1;
	}
	snprintf(name, namelen, "%s", json_get_string(reply, "name", "?"));
	if (namespaces != NULL) {
		struct json_object *ns;

		if (json_object_object_get_ex(reply, "namespaces", &ns))
			*namespaces = json_object_get(ns);
		else
			*namespaces = json_object_new_array();
	}
	json_object_put(reply);
	return 0;

fail:
	json_object_put(req);
	close_queues(admin, io, nio);
	if (na != NULL)
		nvmf_association_free(na);
	return -1;
}
