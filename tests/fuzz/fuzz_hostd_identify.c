/* SPDX-License-Identifier: BSD-2-Clause
 * Copyright (c) 2026 The nvmf developers */
/*
 * fuzz_hostd_identify.c - libFuzzer target for how nvmf-hostd reads what a
 * target reports about itself: Identify Controller's MDTS (hd_max_transfer)
 * and Identify Namespace (hd_ns_usable: LBA format, block size, metadata,
 * size) on which the namespace files' sizes and every I/O are computed.
 * Either a namespace is refused with a one-line reason, or each value the
 * I/O path relies on holds: a block of 512 B to 64 KiB that one command can
 * carry, and a size in bytes that fits a file's off_t.
 *
 * Input: 4096 bytes of Identify Controller data, then 4096 of Identify
 * Namespace (short input is zero-filled).
 *
 * fuzz-sources: nvmf-hostd/[a-z]*.c lib/util/[a-z]*.c
 * fuzz-cflags: -Invmf-hostd -Ilib/util -I/usr/include/fuse3
 * fuzz-libs: -ljson-c -lfuse3
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "hostd.h"
#include "fuzz_check.h"

/* The daemon's globals live in its main.c, which a fuzzer replaces. */
struct hd_loop *hd_loop;
struct hd_rundir hd_rd = { .lock_fd = -1 };

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct nvme_identify_controller idc;
	static struct nvme_identify_namespace idn;
	char why[256];
	uint32_t max, shift = 0;

	memset(&idc, 0, sizeof(idc));
	memset(&idn, 0, sizeof(idn));
	memcpy(&idc, data, size < sizeof(idc) ? size : sizeof(idc));
	if (size > sizeof(idc))
		memcpy(&idn, data + sizeof(idc), size - sizeof(idc) < sizeof(idn) ?
		    size - sizeof(idc) : sizeof(idn));

	max = hd_max_transfer(&idc);
	CHECK(max >= 4096 && max <= 1024 * 1024);
	why[0] = '\0';
	if (hd_ns_usable(max, &idn, &shift, why, sizeof(why))) {
		CHECK(shift >= 9 && shift <= 16);
		CHECK((1u << shift) <= max);
		CHECK(idn.nsze <= ((uint64_t)INT64_MAX >> shift));
	} else {
		CHECK(why[0] != '\0' && strchr(why, '\n') == NULL);
	}
	return 0;
}
