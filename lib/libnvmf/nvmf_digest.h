/* SPDX-License-Identifier: BSD-2-Clause
 * Copyright (c) 2026 The nvmf developers */
/* nvmf_digest.h - incremental CRC32C, for data digests over split buffers. */
#ifndef NVMF_DIGEST_H
#define NVMF_DIGEST_H

#include <stddef.h>
#include <stdint.h>

uint32_t nvmf_crc32c_begin(void);
uint32_t nvmf_crc32c_update(uint32_t state, const void *buf, size_t len);
uint32_t nvmf_crc32c_end(uint32_t state);

#endif
