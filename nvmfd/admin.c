/* SPDX-License-Identifier: BSD-2-Clause
 * Copyright (c) 2026 The nvmf developers */
/*
 * admin.c - admin commands of an I/O controller: Identify, Get Log Page,
 * Get/Set Features, Keep Alive, Asynchronous Event Request, Abort; and the
 * Fabrics commands every admin queue takes (Property Get/Set, Disconnect).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <syslog.h>

#include "nvmfd.h"

void
nvmfd_pad_copy(char *dst, size_t dstlen, const char *src)
{
	size_t n = strlen(src);

	memset(dst, ' ', dstlen);
	memcpy(dst, src, n < dstlen ? n : dstlen);
}

void *
nvmfd_capsule_buffer(struct nvmf_capsule *nc, uint32_t len, bool exact)
{
	uint32_t have = nvmf_capsule_data_len(nc);
	void *buf;

	if (have < len || (exact && have != len)) {
		nvmfd_complete(nc, NVME_STATUS(NVME_SCT_GENERIC,
		    NVME_SC_DATA_SGL_LENGTH_INVALID));
		return NULL;
	}
	buf = nvmf_capsule_data(nc);
	if (buf == NULL)
		nvmfd_complete(nc, NVME_STATUS(NVME_SCT_GENERIC, NVME_SC_INTERNAL));
	return buf;
}

/* Copies the requested window (offset and length) of a log page. */
uint16_t
nvmfd_get_log_common(struct nvmfd_conn *conn, struct nvmf_capsule *nc,
    const void *log, uint64_t loglen)
{
	const struct nvme_command *sqe = nvmf_capsule_sqe(nc);
	uint64_t off = sqe->cdw12 | ((uint64_t)sqe->cdw13 << 32);
	uint64_t len = ((uint64_t)NVME_LOG_NUMD(sqe->cdw10, sqe->cdw11) + 1) * 4;
	uint8_t *data;

	(void)conn;
	if (off % 4 != 0 || off > loglen)
		return NVME_STATUS(NVME_SCT_GENERIC, NVME_SC_INVALID_FIELD);
	if (len > nvmf_capsule_data_len(nc))
		return NVME_STATUS(NVME_SCT_GENERIC, NVME_SC_DATA_SGL_LENGTH_INVALID);
	data = nvmf_capsule_data(nc);
	if (data == NULL)
		return NVME_STATUS(NVME_SCT_GENERIC, NVME_SC_INTERNAL);
	if (loglen - off < len)
		len = loglen - off;	/* beyond the page reads as zeroes */
	memcpy(data, (const uint8_t *)log + off, len);
	nvmf_capsule_complete(nc, 0, 0, 0, nvmf_capsule_data_len(nc));
	return 0;
}

static void
identify_controller(struct nvmfd_conn *conn, struct nvme_identify_controller *id)
{
	const struct nvmfd_controller *c = conn->ctrl;
	const struct nvmfd_subsystem *ss = c->ss;

	memset(id, 0, sizeof(*id));
	nvmfd_pad_copy(id->sn, sizeof(id->sn), ss->serial);
	nvmfd_pad_copy(id->mn, sizeof(id->mn), ss->model);
	nvmfd_pad_copy(id->fr, sizeof(id->fr), NVMFD_VERSION);
	id->rab = 6;
	id->cmic = 0x2;			/* may have several controllers */
	id->mdts = NVMFD_MDTS;
	id->cntlid = c->cntlid;
	id->ver = NVME_VS(1, 3, 0);
	id->oaes = NVME_CTRL_OAES_NS_ATTR;
	id->ctratt = NVME_CTRL_CTRATT_HID_128 | NVME_CTRL_CTRATT_TBKAS;
	id->cntrltype = NVME_CTRL_TYPE_IO;
	id->acl = 3;
	id->aerl = NVMFD_MAX_AER - 1;
	id->frmw = 0x3;			/* one slot, read only */
	id->lpa = NVME_CTRL_LPA_EXTENDED;
	id->kas = 1;			/* 100 ms granularity */
	id->sqes = 0x66;
	id->cqes = 0x44;
	id->maxcmd = NVMFD_QUEUE_SIZE;
	id->nn = ss->nns;
	id->oncs = NVME_CTRL_ONCS_DSM | NVME_CTRL_ONCS_WRITE_ZEROES;
	id->vwc = NVME_CTRL_VWC_PRESENT;
	id->sgls = NVME_CTRL_SGLS_SUPPORTED | NVME_CTRL_SGLS_OFFSET;
	snprintf(id->subnqn, sizeof(id->subnqn), "%s", ss->nqn);
	id->ioccsz = (uint32_t)(sizeof(struct nvme_command) + conn->cfg->io_icd_size) / 16;
	id->iorcsz = sizeof(struct nvme_completion) / 16;
	id->icdoff = 0;
	id->msdbd = 1;
}

static void
identify_namespace(const struct nvmfd_namespace *ns, struct nvme_identify_namespace *id)
{
	memset(id, 0, sizeof(*id));
	if (ns == NULL)
		return;			/* inactive: all zeroes */
	id->nsze = id->ncap = id->nuse = ns->nlbas;
	id->nlbaf = 0;
	id->flbas = 0;
	id->nmic = 1;			/* may be shared by controllers */
	id->dlfeat = NVME_NS_DLFEAT_READ_ZEROES | NVME_NS_DLFEAT_WRITE_ZEROES_DEALLOC;
	memcpy(id->nguid, ns->nguid, sizeof(id->nguid));
	memcpy(id->eui64, ns->eui64, sizeof(id->eui64));
	id->lbaf[0].lbads = (uint8_t)ns->lba_shift;
	{
		uint64_t bytes = ns->nlbas << ns->lba_shift;

		memcpy(id->nvmcap, &bytes, sizeof(bytes));
	}
}

static uint32_t
ns_descriptors(const struct nvmfd_namespace *ns, uint8_t *buf)
{
	uint32_t off = 0;
	struct { uint8_t type, len; const void *id; } d[] = {
		{ NVME_NIDT_EUI64, 8, ns->eui64 },
		{ NVME_NIDT_NGUID, 16, ns->nguid },
		{ NVME_NIDT_UUID, 16, ns->uuid },
	};
	uint8_t csi = NVME_CSI_NVM;

	for (size_t i = 0; i < sizeof(d) / sizeof(d[0]); i++) {
		buf[off] = d[i].type;
		buf[off + 1] = d[i].len;
		memcpy(buf + off + 4, d[i].id, d[i].len);
		off += 4 + d[i].len;
	}
	buf[off] = NVME_NIDT_CSI;
	buf[off + 1] = 1;
	buf[off + 4] = csi;
	return off + 5;
}

/* The Identify data for cns into buf; 0 or the status to fail with. */
static uint16_t
identify_data(struct nvmfd_conn *conn, const struct nvme_command *sqe, uint8_t cns,
    uint8_t csi, uint8_t *buf)
{
	const struct nvmfd_subsystem *ss = conn->ctrl->ss;

	switch (cns) {
	case NVME_CNS_CONTROLLER:
		identify_controller(conn, (void *)buf);
		break;
	case NVME_CNS_NAMESPACE:
		if (sqe->nsid == 0 || sqe->nsid > NVMFD_MAX_NAMESPACES)
			return NVME_STATUS(NVME_SCT_GENERIC, NVME_SC_INVALID_NAMESPACE);
		identify_namespace(nvmfd_subsystem_ns(ss, sqe->nsid), (void *)buf);
		break;
	case NVME_CNS_ACTIVE_NS_LIST: {
		uint32_t *list = (uint32_t *)buf, n = 0;

		if (sqe->nsid >= 0xfffffffe)
			return NVME_STATUS(NVME_SCT_GENERIC, NVME_SC_INVALID_NAMESPACE);
		for (uint32_t id = sqe->nsid + 1; id <= ss->nns && n < 1024; id++)
			if (nvmfd_subsystem_ns(ss, id) != NULL)
				list[n++] = id;
		break;
	}
	case NVME_CNS_NS_DESC_LIST: {
		const struct nvmfd_namespace *ns = nvmfd_subsystem_ns(ss, sqe->nsid);

		if (ns == NULL)
			return NVME_STATUS(NVME_SCT_GENERIC, NVME_SC_INVALID_NAMESPACE);
		ns_descriptors(ns, buf);
		break;
	}
	case NVME_CNS_CSI_NAMESPACE:
	case NVME_CNS_CSI_CONTROLLER:
		/* The NVM command set has no specific limits to report: zeroes. */
		if (csi != NVME_CSI_NVM)
			return NVME_STATUS(NVME_SCT_GENERIC, NVME_SC_INVALID_FIELD);
		if (cns == NVME_CNS_CSI_NAMESPACE && nvmfd_subsystem_ns(ss, sqe->nsid) == NULL)
			return NVME_STATUS(NVME_SCT_GENERIC, NVME_SC_INVALID_NAMESPACE);
		break;
	default:
		return NVME_STATUS(NVME_SCT_GENERIC, NVME_SC_INVALID_FIELD);
	}
	return 0;
}

static void
admin_identify(struct nvmfd_conn *conn, struct nvmf_capsule *nc)
{
	const struct nvme_command *sqe = nvmf_capsule_sqe(nc);
	uint8_t cns = sqe->cdw10 & 0xff, csi = (uint8_t)(sqe->cdw11 >> 24);
	uint16_t status;
	uint8_t *buf;

	buf = nvmfd_capsule_buffer(nc, 4096, false);
	if (buf == NULL)
		return;
	/* Namespaces may be reloaded: look at them with the configuration held. */
	nvmfd_config_rdlock();
	status = identify_data(conn, sqe, cns, csi, buf);
	nvmfd_config_unlock();
	if (status != 0)
		nvmfd_complete(nc, status);
	else
		nvmf_capsule_complete(nc, 0, 0, 0, 4096);
}

static void
u128_set(uint8_t out[16], uint64_t v)
{
	memset(out, 0, 16);
	memcpy(out, &v, sizeof(v));
}

static void
admin_get_log_page(struct nvmfd_conn *conn, struct nvmf_capsule *nc)
{
	const struct nvme_command *sqe = nvmf_capsule_sqe(nc);
	struct nvmfd_controller *c = conn->ctrl;
	uint16_t status;

	switch (NVME_LOG_LID(sqe->cdw10)) {
	case NVME_LOG_ERROR: {
		struct nvme_error_log_entry e[1] = { 0 };

		status = nvmfd_get_log_common(conn, nc, e, sizeof(e));
		break;
	}
	case NVME_LOG_HEALTH: {
		struct nvme_health_log h = { 0 };
		uint16_t kelvin = 300;

		memcpy(h.temperature, &kelvin, sizeof(kelvin));
		h.avail_spare = 100;
		h.spare_thresh = 10;
		pthread_mutex_lock(&c->lock);
		/* Data units are thousands of 512-byte units, rounded up. */
		u128_set(h.data_units_read, (c->data_units_read + 999) / 1000);
		u128_set(h.data_units_written, (c->data_units_written + 999) / 1000);
		u128_set(h.host_reads, c->host_reads);
		u128_set(h.host_writes, c->host_writes);
		pthread_mutex_unlock(&c->lock);
		u128_set(h.power_cycles, 1);
		status = nvmfd_get_log_common(conn, nc, &h, sizeof(h));
		break;
	}
	case NVME_LOG_FIRMWARE_SLOT: {
		uint8_t fw[512] = { 0 };

		fw[0] = 1;		/* active slot 1 */
		nvmfd_pad_copy((char *)fw + 8, 8, NVMFD_VERSION);
		status = nvmfd_get_log_common(conn, nc, fw, sizeof(fw));
		break;
	}
	case NVME_LOG_CHANGED_NS: {
		struct nvme_changed_ns_list l;

		/* Read and cleared; without RAE the next change is notified again. */
		nvmfd_controller_take_changed_ns(c, &l);
		if (!(sqe->cdw10 & NVMFD_LOG_RAE))
			nvmfd_controller_aen_clear(c, NVMFD_AEN_NS_ATTR);
		status = nvmfd_get_log_common(conn, nc, &l, sizeof(l));
		break;
	}
	default:
		status = NVME_STATUS(NVME_SCT_COMMAND_SPECIFIC, NVME_SC_INVALID_LOG_PAGE);
		break;
	}
	if (status != 0)
		nvmfd_complete(nc, status);
}

static void
admin_features(struct nvmfd_conn *conn, struct nvmf_capsule *nc, bool set)
{
	const struct nvme_command *sqe = nvmf_capsule_sqe(nc);
	struct nvmfd_controller *c = conn->ctrl;
	uint8_t fid = NVME_FEAT_FID(sqe->cdw10);
	uint32_t value = 0;
	uint16_t status = 0;

	if (set && (sqe->cdw10 & (1u << 31))) {
		nvmfd_complete(nc, NVME_STATUS(NVME_SCT_COMMAND_SPECIFIC,
		    NVME_SC_FEATURE_NOT_SAVEABLE));
		return;
	}
	pthread_mutex_lock(&c->lock);
	switch (fid) {
	case NVME_FEAT_NUM_QUEUES: {
		uint32_t nsq = (sqe->cdw11 & 0xffff) + 1, ncq = (sqe->cdw11 >> 16) + 1;
		uint32_t want = nsq < ncq ? nsq : ncq;

		if (set) {
			if ((sqe->cdw11 & 0xffff) == 0xffff || (sqe->cdw11 >> 16) == 0xffff) {
				status = NVME_STATUS(NVME_SCT_GENERIC, NVME_SC_INVALID_FIELD);
				break;
			}
			for (uint32_t i = 1; i < c->nqueues; i++)
				if (c->queues[i] != NULL)
					status = NVME_STATUS(NVME_SCT_GENERIC,
					    NVME_SC_COMMAND_SEQUENCE_ERROR);
			if (status != 0)
				break;
			c->num_io_queues = want < conn->cfg->max_io_queues ? want :
			    conn->cfg->max_io_queues;
		}
		value = c->num_io_queues ? NVME_FEAT_NUM_QUEUES_VALUE(c->num_io_queues,
		    c->num_io_queues) : NVME_FEAT_NUM_QUEUES_VALUE(conn->cfg->max_io_queues,
		    conn->cfg->max_io_queues);
		break;
	}
	case NVME_FEAT_KATO:
		if (set)
			c->kato_ms = sqe->cdw11;
		value = c->kato_ms;
		break;
	case NVME_FEAT_ASYNC_EVENT:
		if (set)
			c->aec = sqe->cdw11;
		value = c->aec;
		break;
	case NVME_FEAT_VOLATILE_WC:
		/* The cache stays on: Flush and FUA make writes durable. */
		if (set && !(sqe->cdw11 & 1))
			status = NVME_STATUS(NVME_SCT_GENERIC, NVME_SC_INVALID_FIELD);
		value = 1;
		break;
	case NVME_FEAT_ARBITRATION:
	case NVME_FEAT_POWER_MGMT:
	case NVME_FEAT_TEMP_THRESHOLD:
	case NVME_FEAT_ERROR_RECOVERY:
	case NVME_FEAT_IRQ_COALESCE:
	case NVME_FEAT_WRITE_ATOMIC:
		if (set)
			c->feat[fid] = sqe->cdw11;
		value = c->feat[fid];
		if (fid == NVME_FEAT_TEMP_THRESHOLD && !set && value == 0)
			value = 0x157;	/* 343 K, a common default */
		break;
	default:
		status = NVME_STATUS(NVME_SCT_GENERIC, NVME_SC_INVALID_FIELD);
		break;
	}
	pthread_mutex_unlock(&c->lock);
	if (status != 0)
		nvmfd_complete(nc, status);
	else
		nvmf_capsule_complete(nc, 0, value, 0, 0);
}

static void
admin_async_event(struct nvmfd_conn *conn, struct nvmf_capsule *nc)
{
	struct nvmfd_controller *c = conn->ctrl;

	pthread_mutex_lock(&c->lock);
	if (c->naer >= NVMFD_MAX_AER) {
		pthread_mutex_unlock(&c->lock);
		nvmfd_complete(nc, NVME_STATUS(NVME_SCT_COMMAND_SPECIFIC,
		    NVME_SC_ASYNC_EVENT_LIMIT));
		return;
	}
	/* Held until an event happens; freed when the admin queue closes. */
	c->aer[c->naer++] = nc;
	pthread_mutex_unlock(&c->lock);
	nvmfd_controller_deliver_events(c);	/* an event may be pended */
}

bool
nvmfd_fabrics_command(struct nvmfd_conn *conn, struct nvmf_capsule *nc)
{
	const struct nvme_command *sqe = nvmf_capsule_sqe(nc);
	const struct nvmf_fabrics_cmd *f = (const void *)sqe;
	uint16_t status;
	uint64_t value = 0;

	if (sqe->opc != NVME_ADMIN_FABRICS)
		return false;
	switch (f->fctype) {
	case NVMF_FCTYPE_PROPERTY_GET: {
		const struct nvmf_property_get_cmd *g = (const void *)sqe;

		status = nvmfd_controller_property_get(conn->ctrl, g->ofst,
		    g->attrib & 1, &value);
		if (status == 0) {
			nvmf_capsule_complete(nc, 0, (uint32_t)value,
			    (uint32_t)(value >> 32), 0);
			return true;
		}
		break;
	}
	case NVMF_FCTYPE_PROPERTY_SET: {
		const struct nvmf_property_set_cmd *s = (const void *)sqe;

		status = nvmfd_controller_property_set(conn->ctrl, s->ofst,
		    s->attrib & 1, s->value);
		break;
	}
	case NVMF_FCTYPE_DISCONNECT:
		conn->close_after_flush = true;
		status = 0;
		break;
	case NVMF_FCTYPE_CONNECT:
		status = NVME_STATUS(NVME_SCT_GENERIC, NVME_SC_COMMAND_SEQUENCE_ERROR);
		break;
	default:
		status = NVME_STATUS(NVME_SCT_GENERIC, NVME_SC_INVALID_OPCODE);
		break;
	}
	nvmfd_complete(nc, status);
	return true;
}

void
nvmfd_admin_command(struct nvmfd_conn *conn, struct nvmf_capsule *nc)
{
	const struct nvme_command *sqe = nvmf_capsule_sqe(nc);

	if (!(conn->ctrl->csts & NVME_CSTS_RDY) && sqe->opc != NVME_ADMIN_KEEP_ALIVE) {
		nvmfd_complete(nc, NVME_STATUS(NVME_SCT_GENERIC,
		    NVME_SC_COMMAND_SEQUENCE_ERROR));
		return;
	}
	switch (sqe->opc) {
	case NVME_ADMIN_IDENTIFY:
		admin_identify(conn, nc);
		break;
	case NVME_ADMIN_GET_LOG_PAGE:
		admin_get_log_page(conn, nc);
		break;
	case NVME_ADMIN_SET_FEATURES:
		admin_features(conn, nc, true);
		break;
	case NVME_ADMIN_GET_FEATURES:
		admin_features(conn, nc, false);
		break;
	case NVME_ADMIN_ASYNC_EVENT_REQUEST:
		admin_async_event(conn, nc);
		break;
	case NVME_ADMIN_KEEP_ALIVE:
		nvmfd_complete(nc, 0);
		break;
	case NVME_ADMIN_ABORT:
		/* Commands run to completion here: nothing is ever aborted. */
		nvmf_capsule_complete(nc, 0, 1, 0, 0);
		break;
	default:
		nvmfd_complete(nc, NVME_STATUS(NVME_SCT_GENERIC, NVME_SC_INVALID_OPCODE));
		break;
	}
}
