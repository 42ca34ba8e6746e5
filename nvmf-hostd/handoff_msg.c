/* SPDX-License-Identifier: BSD-2-Clause
 * Copyright (c) 2026 The nvmf developers */
/*
 * handoff_msg.c - a hand-off or reconnect request read into what it
 * describes, every field typed and in range (jfield.c), and checked as
 * FreeBSD's kernel checks a hand-off: the admin queue and 1..N I/O queues
 * in qid order, of equal I/O sizes, one socket each, the SubNQN and cntlid
 * those of the Identify data. Nothing is acted on until all of it is read.
 * A discovery controller (its Identify data says which) comes with its
 * admin queue alone.
 */
#include <json-c/json.h>
#include <stdio.h>
#include <string.h>

#include "base64.h"
#include "hostd.h"
#include "text.h"

static void
parse_queue(struct hd_jf *f, struct nvmf_qpair_handoff *h)
{
	memset(h, 0, sizeof(*h));
	h->size = sizeof(*h);
	h->qid = (uint16_t)hd_jf_int(f, "qid", 0, HOSTD_MAX_IO_QUEUES);
	h->qsize = (uint16_t)hd_jf_int(f, "qsize", 2, 65535);
	h->sq_flow_control = hd_jf_bool_or(f, "sq_flow_control", false);
	h->sqhd = (uint16_t)hd_jf_int_or(f, "sqhd", 0, 65535, 0);
	h->sqtail = (uint16_t)hd_jf_int_or(f, "sqtail", 0, 65535, 0);
	h->icd_size = (uint32_t)hd_jf_int_or(f, "icd_size", 0, UINT32_MAX, 0);
	h->info.header_digests = hd_jf_bool_or(f, "hdgst", false);
	h->info.data_digests = hd_jf_bool_or(f, "ddgst", false);
	h->info.hpda = (uint8_t)hd_jf_int_or(f, "hpda", 0, 31, 0);
	h->info.cpda = (uint8_t)hd_jf_int_or(f, "cpda", 0, 31, 0);
	h->info.max_h2c_data = (uint32_t)hd_jf_int(f, "max_h2c_data", 4096, UINT32_MAX);
	h->info.maxr2t = (uint32_t)hd_jf_int_or(f, "maxr2t", 0, UINT32_MAX, 0);
}

bool
hd_identify_is_discovery(const struct nvme_identify_controller *id)
{
	/* Before NVMe 1.4 CNTRLTYPE was reserved: then the well-known NQN tells. */
	return id->cntrltype == NVME_CTRL_TYPE_DISCOVERY ||
	    (id->cntrltype == 0 && strncmp(id->subnqn, NVMF_DISCOVERY_NQN,
	    sizeof(id->subnqn)) == 0);
}

static int
parse_message(struct json_object *req, unsigned nfds, struct hd_handoff_msg *m,
    char *err, size_t errlen)
{
	struct hd_jf top, jc, jq;
	struct json_object *queues;
	const char *id64;
	int64_t cntlid;
	bool discovery, id_ok;

	memset(m, 0, sizeof(*m));
	hd_jf_init(&top, req, "", err, errlen);
	hd_jf_object(&top, "controller", &jc);
	hd_params_read(&jc, &m->params);
	cntlid = hd_jf_int(&jc, "cntlid", 0, 0xffff);
	id64 = hd_jf_str(&jc, "identify", 8192);
	/* The kind decides how many queues there must be: Identify first. */
	id_ok = base64_decode(id64, (uint8_t *)&m->id, sizeof(m->id)) == sizeof(m->id);
	discovery = id_ok && hd_identify_is_discovery(&m->id);
	queues = hd_jf_array(&top, "queues", discovery ? 1 : 2,
	    discovery ? 1 : HOSTD_MAX_IO_QUEUES + 1);
	for (size_t i = 0; queues != NULL && i < json_object_array_length(queues); i++) {
		hd_jf_element(&top, "queues", queues, i, &jq);
		parse_queue(&jq, &m->queues[i]);
		if (hd_jf_ok(&top) && m->queues[i].qid != i)
			snprintf(err, errlen, "\"queues[%zu].qid\" must be %zu (queues in order, "
			    "the admin queue first)", i, i);
		else if (hd_jf_ok(&top) && (m->queues[i].sqhd >= m->queues[i].qsize ||
		    m->queues[i].sqtail >= m->queues[i].qsize))
			snprintf(err, errlen, "\"queues[%zu].%s\" must be below its qsize %u", i,
			    m->queues[i].sqhd >= m->queues[i].qsize ? "sqhd" : "sqtail",
			    m->queues[i].qsize);
		else if (hd_jf_ok(&top) && i > 1 && m->queues[i].qsize != m->queues[1].qsize)
			snprintf(err, errlen, "\"queues[%zu].qsize\": I/O queues of unequal sizes "
			    "(%u and %u)", i, m->queues[1].qsize, m->queues[i].qsize);
	}
	if (!hd_jf_ok(&top))
		return -1;
	m->nqueues = (uint32_t)json_object_array_length(queues);
	m->cntlid = (uint16_t)cntlid;
	if (nfds != m->nqueues) {
		snprintf(err, errlen, "hand-off describes %u queues but carries %u sockets",
		    m->nqueues, nfds);
		return -1;
	}
	if (!id_ok) {
		snprintf(err, errlen, "\"controller.identify\" must be the base64 of the "
		    "%zu-byte Identify Controller data", sizeof(m->id));
		return -1;
	}
	if (strncmp(m->id.subnqn, m->params.subnqn, sizeof(m->id.subnqn)) != 0) {
		snprintf(err, errlen, "SubNQN %s differs from the controller's own (%.*s)",
		    m->params.subnqn, (int)sizeof(m->id.subnqn), m->id.subnqn);
		return -1;
	}
	if (m->cntlid != m->id.cntlid) {
		snprintf(err, errlen, "controller ID %u differs from Identify's %u", m->cntlid,
		    m->id.cntlid);
		return -1;
	}
	if (jc.obj != NULL && json_object_object_get_ex(jc.obj, "kind", NULL) &&
	    m->params.discovery != discovery) {
		snprintf(err, errlen, "\"controller.kind\" is %s, but Identify describes %s",
		    m->params.discovery ? "discovery" : "nvm",
		    discovery ? "a discovery controller" : "an NVM controller");
		return -1;
	}
	m->params.discovery = discovery;
	/*
	 * The queues say what an NVM controller has; a discovery controller has
	 * none, and keeps the request's values for what connect-all --device
	 * connects through it.
	 */
	if (!discovery) {
		m->params.nr_io_queues = m->nqueues - 1;
		m->params.queue_size = m->queues[1].qsize;
	}
	return 0;
}

int
hd_handoff_parse(struct json_object *req, unsigned nfds, struct hd_handoff_msg *m,
    char *err, size_t errlen)
{
	if (parse_message(req, nfds, m, err, errlen) == 0)
		return 0;
	/* Values quoted from the request may hold newlines: the error stays one line. */
	text_one_line(err);
	return -1;
}
