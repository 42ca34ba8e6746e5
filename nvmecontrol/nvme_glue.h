/* SPDX-License-Identifier: BSD-2-Clause
 * Copyright (c) 2026 The nvmf developers */
/*
 * nvme_glue.h - what nvmecontrol takes from libnvme. libnvme's headers
 * define NVMe names that include/nvmf/nvmf_proto.h defines too, so they
 * are included in nvme_glue.c alone and this header names no type of theirs.
 */
#ifndef NVME_GLUE_H
#define NVME_GLUE_H

#include <stdbool.h>
#include <stdint.h>

/* Each returns a string the caller frees, or NULL. */
char *glue_hostnqn_from_file(void);	/* /etc/nvme/hostnqn */
char *glue_hostid_from_file(void);	/* /etc/nvme/hostid */
char *glue_hostnqn_generate(void);
/* 0 or -1. */
int glue_uuid_random(uint8_t out[16]);
const char *glue_libnvme_version(void);

/* nvme_config.c: one controller of libnvme's JSON configuration (config.json). */
struct glue_config_ctrl {
	const char *hostnqn, *hostid;	/* its host's; NULL when not given */
	const char *subnqn;		/* NULL when not given */
	const char *transport, *traddr, *trsvcid;
	int nr_io_queues, queue_size, keep_alive_tmo;	/* 0 when not given */
	bool hdr_digest, data_digest;
};
/*
 * Reads path with libnvme (nvme_read_config, no scan of this machine) and
 * calls fn for each controller of each subsystem of each host, in order.
 * Returns the number of controllers, or -1 with errno when path could not
 * be read or parsed.
 */
int glue_config_each_ctrl(const char *path,
    void (*fn)(const struct glue_config_ctrl *c, void *arg), void *arg);

#endif /* NVME_GLUE_H */
