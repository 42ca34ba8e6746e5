/*
 * nvme_glue.h - what nvmecontrol takes from libnvme. libnvme's headers
 * define NVMe names that include/nvmf/nvmf_proto.h defines too, so they
 * are included in nvme_glue.c alone and this header names no type of theirs.
 */
#ifndef NVME_GLUE_H
#define NVME_GLUE_H

#include <stdint.h>

/* Each returns a string the caller frees, or NULL. */
char *glue_hostnqn_from_file(void);	/* /etc/nvme/hostnqn */
char *glue_hostid_from_file(void);	/* /etc/nvme/hostid */
char *glue_hostnqn_generate(void);
/* 0 or -1. */
int glue_uuid_from_string(const char *s, uint8_t out[16]);
int glue_uuid_to_string(const uint8_t in[16], char out[37]);
int glue_uuid_random(uint8_t out[16]);
const char *glue_libnvme_version(void);

#endif /* NVME_GLUE_H */
