/* SPDX-License-Identifier: BSD-2-Clause
 * Copyright (c) 2026 The nvmf developers */
/*
 * nvme_glue.c - libnvme's host identity and UUID helpers, behind
 * nvme_glue.h (why: see there).
 */
#include <string.h>

#include <nvme/fabrics.h>
#include <nvme/util.h>

#include "nvme_glue.h"

char *
glue_hostnqn_from_file(void)
{
	return nvmf_hostnqn_from_file();
}

char *
glue_hostid_from_file(void)
{
	return nvmf_hostid_from_file();
}

char *
glue_hostnqn_generate(void)
{
	return nvmf_hostnqn_generate();
}

int
glue_uuid_from_string(const char *s, uint8_t out[16])
{
	unsigned char u[NVME_UUID_LEN];

	if (nvme_uuid_from_string(s, u) != 0)
		return -1;
	memcpy(out, u, sizeof(u));
	return 0;
}

int
glue_uuid_to_string(const uint8_t in[16], char out[37])
{
	unsigned char u[NVME_UUID_LEN];

	memcpy(u, in, sizeof(u));
	return nvme_uuid_to_string(u, out) == 0 ? 0 : -1;
}

int
glue_uuid_random(uint8_t out[16])
{
	unsigned char u[NVME_UUID_LEN];

	if (nvme_uuid_random(u) != 0)
		return -1;
	memcpy(out, u, sizeof(u));
	return 0;
}

const char *
glue_libnvme_version(void)
{
	return nvme_get_version(NVME_VERSION_PROJECT);
}
