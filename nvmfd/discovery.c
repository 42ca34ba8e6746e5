/* SPDX-License-Identifier: BSD-2-Clause
 * Copyright (c) 2026 The nvmf developers */
/*
 * discovery.c - the discovery controller: its Identify data and the
 * discovery log page listing every subsystem and port the host may use.
 */
#include <arpa/inet.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "nvmfd.h"

void
nvmfd_identify_discovery_controller(const struct nvmfd_controller *c,
    struct nvme_identify_controller *id)
{
	memset(id, 0, sizeof(*id));
	nvmfd_pad_copy(id->sn, sizeof(id->sn), "nvmfd-discovery");
	nvmfd_pad_copy(id->mn, sizeof(id->mn), "nvmf nvmfd discovery");
	nvmfd_pad_copy(id->fr, sizeof(id->fr), NVMFD_VERSION);
	id->cntlid = c->cntlid;
	id->ver = NVME_VS(1, 3, 0);
	id->cntrltype = NVME_CTRL_TYPE_DISCOVERY;
	id->lpa = NVME_CTRL_LPA_EXTENDED;
	id->oaes = NVMFD_AEN_DISC_CHANGE;	/* discovery log change notices */
	id->kas = 1;
	id->maxcmd = NVMFD_QUEUE_SIZE;
	id->sgls = NVME_CTRL_SGLS_SUPPORTED | NVME_CTRL_SGLS_OFFSET;
	id->mdts = NVMFD_MDTS;
	id->aerl = NVMFD_MAX_AER - 1;
	snprintf(id->subnqn, sizeof(id->subnqn), "%s", NVMF_DISCOVERY_NQN);
	id->ioccsz = sizeof(struct nvme_command) / 16;
	id->iorcsz = sizeof(struct nvme_completion) / 16;
	id->msdbd = 1;
}

/* The address a host should dial for a port: its own, or the one it reached us on. */
static void
port_address(const struct nvmfd_conn *conn, const struct nvmfd_port *p, char *buf,
    size_t len, uint8_t *adrfam)
{
	struct sockaddr_storage ss;
	socklen_t sl = sizeof(ss);
	struct in6_addr a6;

	if (p->address[0] != '\0') {
		snprintf(buf, len, "%s", p->address);
		*adrfam = inet_pton(AF_INET6, p->address, &a6) == 1 ? NVMF_ADRFAM_IPV6 :
		    NVMF_ADRFAM_IPV4;
		return;
	}
	*adrfam = NVMF_ADRFAM_IPV4;
	snprintf(buf, len, "0.0.0.0");
	if (getsockname(conn->fd, (struct sockaddr *)&ss, &sl) != 0)
		return;
	if (ss.ss_family == AF_INET) {
		inet_ntop(AF_INET, &((struct sockaddr_in *)&ss)->sin_addr, buf, (socklen_t)len);
	} else if (ss.ss_family == AF_INET6) {
		inet_ntop(AF_INET6, &((struct sockaddr_in6 *)&ss)->sin6_addr, buf,
		    (socklen_t)len);
		if (strncmp(buf, "::ffff:", 7) == 0 && strchr(buf + 7, ':') == NULL)
			memmove(buf, buf + 7, strlen(buf + 7) + 1);
		else
			*adrfam = NVMF_ADRFAM_IPV6;
	}
}

uint32_t
nvmfd_discovery_log(struct nvmfd_conn *conn, uint8_t **out, bool clear_aen)
{
	const struct nvmfd_config *cfg = conn->cfg;
	const char *hostnqn = conn->ctrl->hostnqn;
	struct nvmf_discovery_log_header *h;
	struct nvmf_discovery_log_entry *e;
	uint32_t n = 0, cap = 0;
	uint8_t *buf;

	/* The subsystems, their ports and allow-lists may be reloaded. */
	nvmfd_config_rdlock();
	for (uint32_t i = 0; i < cfg->nsubsystems; i++)
		cap += cfg->subsystems[i]->nports;
	buf = calloc(1, sizeof(*h) + (size_t)cap * sizeof(*e));
	if (buf == NULL) {
		nvmfd_config_unlock();
		return 0;
	}
	h = (void *)buf;
	e = (void *)(buf + sizeof(*h));
	for (uint32_t i = 0; i < cfg->nsubsystems; i++) {
		const struct nvmfd_subsystem *ss = cfg->subsystems[i];

		/* A host sees only the subsystems it may connect to. */
		if (!nvmfd_subsystem_allows(ss, hostnqn))
			continue;
		for (uint32_t k = 0; k < ss->nports; k++) {
			const struct nvmfd_port *p = &cfg->ports[ss->ports[k] - 1];

			e[n].trtype = NVMF_TRTYPE_TCP;
			e[n].subtype = NVMF_SUBTYPE_NVME;
			e[n].treq = NVMF_TREQ_SECURE_NOT_REQUIRED |
			    (nvmfd_sq_fc_disable_permitted(cfg, ss) ? NVMF_TREQ_DISABLE_SQFLOW : 0);
			e[n].portid = p->id;
			e[n].cntlid = NVMF_CNTLID_DYNAMIC;
			e[n].asqsz = 32;
			snprintf(e[n].trsvcid, sizeof(e[n].trsvcid), "%u", p->port);
			snprintf(e[n].subnqn, sizeof(e[n].subnqn), "%s", ss->nqn);
			port_address(conn, p, e[n].traddr, sizeof(e[n].traddr), &e[n].adrfam);
			e[n].tsas[0] = NVMF_TCP_SECTYPE_NONE;
			n++;
		}
	}
	h->genctr = cfg->genctr;
	/*
	 * Unmasked under the lock a reload writes with: a change made after
	 * this read is notified, one it already shows need not be.
	 */
	if (clear_aen)
		nvmfd_controller_aen_clear(conn->ctrl, NVMFD_AEN_DISC_CHANGE);
	nvmfd_config_unlock();
	h->numrec = n;
	h->recfmt = 0;
	*out = buf;
	return (uint32_t)(sizeof(*h) + (size_t)n * sizeof(*e));
}

void
nvmfd_discovery_command(struct nvmfd_conn *conn, struct nvmf_capsule *nc)
{
	const struct nvme_command *sqe = nvmf_capsule_sqe(nc);
	struct nvmfd_controller *c = conn->ctrl;

	if (!(c->csts & NVME_CSTS_RDY) && sqe->opc != NVME_ADMIN_KEEP_ALIVE) {
		nvmfd_complete(nc, NVME_STATUS(NVME_SCT_GENERIC,
		    NVME_SC_COMMAND_SEQUENCE_ERROR));
		return;
	}
	switch (sqe->opc) {
	case NVME_ADMIN_IDENTIFY:
		if ((sqe->cdw10 & 0xff) != NVME_CNS_CONTROLLER) {
			nvmfd_complete(nc, NVME_STATUS(NVME_SCT_GENERIC, NVME_SC_INVALID_FIELD));
			return;
		}
		if (nvmfd_capsule_buffer(nc, 4096, false) == NULL)
			return;
		nvmfd_identify_discovery_controller(c, nvmf_capsule_data(nc));
		nvmf_capsule_complete(nc, 0, 0, 0, 4096);
		return;
	case NVME_ADMIN_GET_LOG_PAGE: {
		uint8_t *log = NULL;
		uint32_t len;
		uint16_t status;

		if (NVME_LOG_LID(sqe->cdw10) != NVME_LOG_DISCOVERY) {
			nvmfd_complete(nc, NVME_STATUS(NVME_SCT_COMMAND_SPECIFIC,
			    NVME_SC_INVALID_LOG_PAGE));
			return;
		}
		/* Read without Retain Asynchronous Event: the next change is news. */
		len = nvmfd_discovery_log(conn, &log, !(sqe->cdw10 & NVMFD_LOG_RAE));
		status = log == NULL ? NVME_STATUS(NVME_SCT_GENERIC, NVME_SC_INTERNAL) :
		    nvmfd_get_log_common(conn, nc, log, len);
		free(log);
		if (status != 0)
			nvmfd_complete(nc, status);
		return;
	}
	case NVME_ADMIN_SET_FEATURES:
	case NVME_ADMIN_GET_FEATURES: {
		uint8_t fid = NVME_FEAT_FID(sqe->cdw10);
		bool set = sqe->opc == NVME_ADMIN_SET_FEATURES;
		uint32_t value;

		pthread_mutex_lock(&c->lock);
		if (fid == NVME_FEAT_KATO) {
			/* KATO 0 on discovery gets the default, as at Connect. */
			if (set)
				c->kato_ms = sqe->cdw11 != 0 ? sqe->cdw11 :
				    conn->cfg->limit[NVMFD_LIMIT_DISCOVERY_KATO] * 1000;
			value = c->kato_ms;
		} else if (fid == NVME_FEAT_ASYNC_EVENT) {
			if (set)
				c->aec = sqe->cdw11;
			value = c->aec;
		} else {
			pthread_mutex_unlock(&c->lock);
			nvmfd_complete(nc, NVME_STATUS(NVME_SCT_GENERIC, NVME_SC_INVALID_FIELD));
			return;
		}
		pthread_mutex_unlock(&c->lock);
		nvmf_capsule_complete(nc, 0, value, 0, 0);
		return;
	}
	case NVME_ADMIN_ASYNC_EVENT_REQUEST:
		pthread_mutex_lock(&c->lock);
		if (c->naer < NVMFD_MAX_AER) {
			c->aer[c->naer++] = nc;
			pthread_mutex_unlock(&c->lock);
			nvmfd_controller_deliver_events(c);	/* one may be pended */
			return;
		}
		pthread_mutex_unlock(&c->lock);
		nvmfd_complete(nc, NVME_STATUS(NVME_SCT_COMMAND_SPECIFIC,
		    NVME_SC_ASYNC_EVENT_LIMIT));
		return;
	case NVME_ADMIN_KEEP_ALIVE:
		nvmfd_complete(nc, 0);
		return;
	default:
		nvmfd_complete(nc, NVME_STATUS(NVME_SCT_GENERIC, NVME_SC_INVALID_OPCODE));
		return;
	}
}
