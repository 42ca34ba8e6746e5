/* SPDX-License-Identifier: BSD-2-Clause
 * Copyright (c) 2026 The nvmf developers */
/*
 * nvme_config.c - libnvme's JSON configuration (/etc/nvme/config.json), read
 * by libnvme itself, so that nvmecontrol accepts what nvme-cli writes and
 * reads. Only the file is read: no scan of this machine's NVMe devices,
 * which are not nvmf-hostd's.
 */
#include <errno.h>
#include <stdio.h>
#include <syslog.h>

#include <libnvme.h>

#include "libnvme_load.h"
#include "nvme_glue.h"

int
glue_config_each_ctrl(const char *path,
    void (*fn)(const struct glue_config_ctrl *c, void *arg), void *arg)
{
	const struct libnvme *l;
	nvme_root_t r;
	FILE *f;
	int n = 0;

	/* libnvme takes a missing file for an empty one; the caller must know. */
	f = fopen(path, "re");
	if (f == NULL)
		return -1;
	fclose(f);
	l = libnvme();
	r = l->nvme_create_root(stderr, LOG_ERR);
	if (r == NULL)
		return -1;
	if (l->nvme_read_config(r, path) != 0) {
		int e = errno;

		l->nvme_free_tree(r);
		errno = e;
		return -1;
	}
	/* libnvme's nvme_for_each_* macros, spelled out through the loaded functions. */
	for (nvme_host_t h = l->nvme_first_host(r); h != NULL; h = l->nvme_next_host(r, h)) {
		for (nvme_subsystem_t s = l->nvme_first_subsystem(h); s != NULL;
		    s = l->nvme_next_subsystem(h, s)) {
			for (nvme_ctrl_t c = l->nvme_subsystem_first_ctrl(s); c != NULL;
			    c = l->nvme_subsystem_next_ctrl(s, c)) {
				const struct nvme_fabrics_config *cfg = l->nvme_ctrl_get_config(c);
				struct glue_config_ctrl gc = {
					.hostnqn = l->nvme_host_get_hostnqn(h),
					.hostid = l->nvme_host_get_hostid(h),
					.subnqn = l->nvme_subsystem_get_nqn(s),
					.transport = l->nvme_ctrl_get_transport(c),
					.traddr = l->nvme_ctrl_get_traddr(c),
					.trsvcid = l->nvme_ctrl_get_trsvcid(c),
				};

				if (cfg != NULL) {
					gc.nr_io_queues = cfg->nr_io_queues;
					gc.queue_size = cfg->queue_size;
					gc.keep_alive_tmo = cfg->keep_alive_tmo;
					gc.hdr_digest = cfg->hdr_digest;
					gc.data_digest = cfg->data_digest;
				}
				fn(&gc, arg);
				n++;
			}
		}
	}
	l->nvme_free_tree(r);
	return n;
}
