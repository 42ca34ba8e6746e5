/* SPDX-License-Identifier: BSD-2-Clause
 * Copyright (c) 2026 The nvmf developers */
/*
 * crc32c.c - CRC32C for NVMe/TCP header and data digests.
 *
 * isa-l's crc32_iscsi runs the raw CRC register; NVMe/TCP (like iSCSI)
 * starts it at all ones and sends the complement.
 */
#include <isa-l/crc.h>

#include "nvmf/libnvmf.h"
#include "nvmf_digest.h"

uint32_t
nvmf_crc32c_begin(void)
{
	return 0xffffffffu;
}

uint32_t
nvmf_crc32c_update(uint32_t state, const void *buf, size_t len)
{
	/* crc32_iscsi takes an int length: feed very large buffers in pieces. */
	const unsigned char *p = buf;

	while (len > 0) {
		int n = len > (1u << 30) ? (1 << 30) : (int)len;

		state = crc32_iscsi((unsigned char *)p, n, state);
		p += n;
		len -= (size_t)n;
	}
	return state;
}

uint32_t
nvmf_crc32c_end(uint32_t state)
{
	return state ^ 0xffffffffu;
}

uint32_t
nvmf_crc32c(const void *buf, size_t len)
{
	return nvmf_crc32c_end(nvmf_crc32c_update(nvmf_crc32c_begin(), buf, len));
}
