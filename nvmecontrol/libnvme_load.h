/* SPDX-License-Identifier: BSD-2-Clause
 * Copyright (c) 2026 The nvmf developers */
/*
 * libnvme_load.h - libnvme, loaded the first time a command needs it.
 *
 * nvmf-devd runs `nvmecontrol reconnect` once a controller and a
 * reconnect-delay while the target is away: 1,000 controllers mean 1,000
 * processes a second. Linking libnvme (and with it libcrypto) at start-up
 * cost each of them 3.2 ms of this machine's 5.4, and reconnect, devlist or
 * disconnect never call it. Only commands that read the host's identity or
 * config.json load it, as systemd loads its optional libraries.
 *
 * Included by nvme_glue.c and nvme_config.c alone, after libnvme's headers
 * (see nvme_glue.h): each pointer has the type of the function it stands for.
 */
#ifndef LIBNVME_LOAD_H
#define LIBNVME_LOAD_H

#define LIBNVME_SONAME "libnvme.so.1"

struct libnvme {
	__typeof__(nvmf_hostnqn_from_file) *nvmf_hostnqn_from_file;
	__typeof__(nvmf_hostid_from_file) *nvmf_hostid_from_file;
	__typeof__(nvmf_hostnqn_generate) *nvmf_hostnqn_generate;
	__typeof__(nvme_uuid_random) *nvme_uuid_random;
	__typeof__(nvme_get_version) *nvme_get_version;
	__typeof__(nvme_create_root) *nvme_create_root;
	__typeof__(nvme_read_config) *nvme_read_config;
	__typeof__(nvme_free_tree) *nvme_free_tree;
	__typeof__(nvme_first_host) *nvme_first_host;
	__typeof__(nvme_next_host) *nvme_next_host;
	__typeof__(nvme_first_subsystem) *nvme_first_subsystem;
	__typeof__(nvme_next_subsystem) *nvme_next_subsystem;
	__typeof__(nvme_subsystem_first_ctrl) *nvme_subsystem_first_ctrl;
	__typeof__(nvme_subsystem_next_ctrl) *nvme_subsystem_next_ctrl;
	__typeof__(nvme_host_get_hostnqn) *nvme_host_get_hostnqn;
	__typeof__(nvme_host_get_hostid) *nvme_host_get_hostid;
	__typeof__(nvme_subsystem_get_nqn) *nvme_subsystem_get_nqn;
	__typeof__(nvme_ctrl_get_config) *nvme_ctrl_get_config;
	__typeof__(nvme_ctrl_get_transport) *nvme_ctrl_get_transport;
	__typeof__(nvme_ctrl_get_traddr) *nvme_ctrl_get_traddr;
	__typeof__(nvme_ctrl_get_trsvcid) *nvme_ctrl_get_trsvcid;
};

/*
 * libnvme's functions, loaded on the first call. A command that needs
 * libnvme cannot go on without it: when it cannot be loaded, libnvme() says
 * why on one line (the file, or the missing function) and exits with 1;
 * libnvme_try() returns NULL instead.
 */
const struct libnvme *libnvme(void);
const struct libnvme *libnvme_try(void);

#endif /* LIBNVME_LOAD_H */
