/* SPDX-License-Identifier: BSD-2-Clause
 * Copyright (c) 2026 The nvmf developers */
/*
 * bufpool.c - command data buffers cached per queue pair by power-of-two
 * size class, page aligned (file I/O with O_DIRECT may use them as they are).
 */
#include <stdlib.h>

#include "nvmf_bufpool.h"

#define MIN_SHIFT	12

/* The class of len, or -1 when it is too large to cache. */
static int
size_class(uint32_t len)
{
	int c = 0;

	while (c < NVMF_BUFPOOL_CLASSES && (1u << (MIN_SHIFT + c)) < len)
		c++;
	return c < NVMF_BUFPOOL_CLASSES ? c : -1;
}

void *
nvmf_bufpool_get(struct nvmf_bufpool *bp, uint32_t len)
{
	int c = size_class(len);
	void *buf;

	if (c < 0)
		return malloc(len);
	buf = bp->free[c];
	if (buf != NULL) {
		bp->free[c] = *(void **)buf;
		bp->cached -= 1u << (MIN_SHIFT + c);
		return buf;
	}
	return aligned_alloc(1u << MIN_SHIFT, 1u << (MIN_SHIFT + c));
}

void
nvmf_bufpool_put(struct nvmf_bufpool *bp, void *buf, uint32_t len)
{
	int c;

	if (buf == NULL)
		return;
	c = size_class(len);
	if (c < 0 || bp->cached + (1u << (MIN_SHIFT + c)) > NVMF_BUFPOOL_CACHE_MAX) {
		free(buf);
		return;
	}
	*(void **)buf = bp->free[c];
	bp->free[c] = buf;
	bp->cached += 1u << (MIN_SHIFT + c);
}

void
nvmf_bufpool_drain(struct nvmf_bufpool *bp)
{
	for (int c = 0; c < NVMF_BUFPOOL_CLASSES; c++) {
		while (bp->free[c] != NULL) {
			void *buf = bp->free[c];

			bp->free[c] = *(void **)buf;
			free(buf);
		}
	}
	bp->cached = 0;
}
