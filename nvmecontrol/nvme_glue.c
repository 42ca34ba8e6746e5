/* SPDX-License-Identifier: BSD-2-Clause
 * Copyright (c) 2026 The nvmf developers */
/*
 * nvme_glue.c - libnvme's host identity and UUID helpers, behind
 * nvme_glue.h (why: see there), loaded on first use (libnvme_load.h).
 */
#include <string.h>

#include <libnvme.h>

#include "libnvme_load.h"
#include "nvme_glue.h"

char *
glue_hostnqn_from_file(void)
{
	const struct libnvme *l = libnvme();

	return l->nvmf_hostnqn_from_file();
}

char *
glue_hostid_from_file(void)
{
	const struct libnvme *l = libnvme();

	return l->nvmf_hostid_from_file();
}

char *
glue_hostnqn_generate(void)
{
	const struct libnvme *l = libnvme();

	return l->nvmf_hostnqn_generate();
}

int
glue_uuid_random(uint8_t out[16])
{
	const struct libnvme *l = libnvme();
	unsigned char u[NVME_UUID_LEN];

	if (l->nvme_uuid_random(u) != 0)
		return -1;
	memcpy(out, u, sizeof(u));
	return 0;
}

const char *
glue_libnvme_version(void)
{
	/* --version names what it finds, and does not fail without it. */
	const struct libnvme *l = libnvme_try();

	return l != NULL ? l->nvme_get_version(NVME_VERSION_PROJECT) : "not found";
}
