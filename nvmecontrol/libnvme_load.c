/* SPDX-License-Identifier: BSD-2-Clause
 * Copyright (c) 2026 The nvmf developers */
/*
 * libnvme_load.c - dlopen of libnvme on first use (why: libnvme_load.h).
 */
#include <dlfcn.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>

#include <libnvme.h>

#include "libnvme_load.h"

#define FN(name) { #name, offsetof(struct libnvme, name) }

static const struct {
	const char *name;
	size_t off;
} symbols[] = {
	FN(nvmf_hostnqn_from_file), FN(nvmf_hostid_from_file), FN(nvmf_hostnqn_generate),
	FN(nvme_uuid_random),
	FN(nvme_get_version), FN(nvme_create_root), FN(nvme_read_config), FN(nvme_free_tree),
	FN(nvme_first_host), FN(nvme_next_host), FN(nvme_first_subsystem),
	FN(nvme_next_subsystem), FN(nvme_subsystem_first_ctrl), FN(nvme_subsystem_next_ctrl),
	FN(nvme_host_get_hostnqn), FN(nvme_host_get_hostid), FN(nvme_subsystem_get_nqn),
	FN(nvme_ctrl_get_config), FN(nvme_ctrl_get_transport), FN(nvme_ctrl_get_traddr),
	FN(nvme_ctrl_get_trsvcid),
};

/* Every pointer is listed above, and nothing else is in the struct. */
_Static_assert(sizeof(symbols) / sizeof(symbols[0]) * sizeof(void (*)(void)) ==
    sizeof(struct libnvme), "struct libnvme and symbols[] list the same functions");

static char load_error[256];

const struct libnvme *
libnvme_try(void)
{
	static struct libnvme fns;
	static int state;	/* 0 not tried, 1 loaded, -1 failed */
	void *lib;

	if (state != 0)
		return state > 0 ? &fns : NULL;
	state = -1;
	lib = dlopen(LIBNVME_SONAME, RTLD_NOW | RTLD_LOCAL);
	if (lib == NULL) {
		snprintf(load_error, sizeof(load_error), "cannot load libnvme: %s", dlerror());
		return NULL;
	}
	for (size_t i = 0; i < sizeof(symbols) / sizeof(symbols[0]); i++) {
		void *p = dlsym(lib, symbols[i].name);

		if (p == NULL) {
			snprintf(load_error, sizeof(load_error), "cannot load libnvme: %s has no "
			    "%s (libnvme 1.3 or later is needed)", LIBNVME_SONAME, symbols[i].name);
			dlclose(lib);
			return NULL;
		}
		/* POSIX: a function's address converts to and from void *. */
		*(void **)((char *)&fns + symbols[i].off) = p;
	}
	state = 1;
	return &fns;
}

const struct libnvme *
libnvme(void)
{
	const struct libnvme *l = libnvme_try();

	if (l == NULL) {
		fprintf(stderr, "nvmecontrol: %s\n", load_error);
		exit(1);
	}
	return l;
}
