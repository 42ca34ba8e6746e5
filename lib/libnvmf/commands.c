/* SPDX-License-Identifier: BSD-2-Clause
 * Copyright (c) 2026 The nvmf developers */
/*
 * commands.c - builders for the admin, fabrics and I/O commands a host sends.
 */
#include <string.h>

#include "nvmf/libnvmf.h"

static void
fabrics_init(struct nvme_command *sqe, uint8_t fctype)
{
	memset(sqe, 0, sizeof(*sqe));
	sqe->opc = NVME_ADMIN_FABRICS;
	((struct nvmf_fabrics_cmd *)sqe)->fctype = fctype;
}

void
nvmf_cmd_connect(struct nvme_command *sqe, uint16_t qid, uint16_t sqsize,
    uint32_t kato_ms, bool disable_sq_fc)
{
	struct nvmf_connect_cmd *c = (struct nvmf_connect_cmd *)sqe;

	fabrics_init(sqe, NVMF_FCTYPE_CONNECT);
	c->recfmt = 0;
	c->qid = qid;
	c->sqsize = sqsize;
	c->cattr = disable_sq_fc ? NVMF_CONNECT_ATTR_DISABLE_SQ_FC : 0;
	c->kato = kato_ms;
}

void
nvmf_connect_data_init(struct nvmf_connect_data *d, const uint8_t hostid[16],
    uint16_t cntlid, const char *subnqn, const char *hostnqn)
{
	memset(d, 0, sizeof(*d));
	memcpy(d->hostid, hostid, sizeof(d->hostid));
	d->cntlid = cntlid;
	strncpy(d->subnqn, subnqn, sizeof(d->subnqn) - 1);
	strncpy(d->hostnqn, hostnqn, sizeof(d->hostnqn) - 1);
}

void
nvmf_cmd_property_get(struct nvme_command *sqe, uint32_t offset, bool eight_bytes)
{
	struct nvmf_property_get_cmd *c = (struct nvmf_property_get_cmd *)sqe;

	fabrics_init(sqe, NVMF_FCTYPE_PROPERTY_GET);
	c->attrib = eight_bytes ? 1 : 0;
	c->ofst = offset;
}

void
nvmf_cmd_property_set(struct nvme_command *sqe, uint32_t offset, bool eight_bytes,
    uint64_t value)
{
	struct nvmf_property_set_cmd *c = (struct nvmf_property_set_cmd *)sqe;

	fabrics_init(sqe, NVMF_FCTYPE_PROPERTY_SET);
	c->attrib = eight_bytes ? 1 : 0;
	c->ofst = offset;
	c->value = value;
}

void
nvmf_cmd_identify(struct nvme_command *sqe, uint8_t cns, uint32_t nsid)
{
	memset(sqe, 0, sizeof(*sqe));
	sqe->opc = NVME_ADMIN_IDENTIFY;
	sqe->nsid = nsid;
	sqe->cdw10 = cns;
}

void
nvmf_cmd_get_log_page(struct nvme_command *sqe, uint8_t lid, uint32_t nsid,
    uint64_t offset, uint32_t len)
{
	uint32_t numd = len / 4 - 1;

	memset(sqe, 0, sizeof(*sqe));
	sqe->opc = NVME_ADMIN_GET_LOG_PAGE;
	sqe->nsid = nsid;
	sqe->cdw10 = NVME_LOG_CDW10(lid, numd & 0xffff);
	sqe->cdw11 = numd >> 16;
	sqe->cdw12 = (uint32_t)offset;
	sqe->cdw13 = (uint32_t)(offset >> 32);
}

void
nvmf_cmd_set_features(struct nvme_command *sqe, uint8_t fid, uint32_t cdw11)
{
	memset(sqe, 0, sizeof(*sqe));
	sqe->opc = NVME_ADMIN_SET_FEATURES;
	sqe->cdw10 = fid;
	sqe->cdw11 = cdw11;
}

void
nvmf_cmd_get_features(struct nvme_command *sqe, uint8_t fid)
{
	memset(sqe, 0, sizeof(*sqe));
	sqe->opc = NVME_ADMIN_GET_FEATURES;
	sqe->cdw10 = fid;
}

void
nvmf_cmd_keep_alive(struct nvme_command *sqe)
{
	memset(sqe, 0, sizeof(*sqe));
	sqe->opc = NVME_ADMIN_KEEP_ALIVE;
}

void
nvmf_cmd_rw(struct nvme_command *sqe, uint8_t opc, uint32_t nsid, uint64_t slba,
    uint32_t nlb)
{
	memset(sqe, 0, sizeof(*sqe));
	sqe->opc = opc;
	sqe->nsid = nsid;
	sqe->cdw10 = (uint32_t)slba;
	sqe->cdw11 = (uint32_t)(slba >> 32);
	sqe->cdw12 = (nlb - 1) & 0xffff;
}
