/* SPDX-License-Identifier: BSD-2-Clause
 * Copyright (c) 2026 The nvmf developers */
/*
 * nvmf_bufpool.h - a queue pair's cache of command data buffers, so that
 * large transfers reuse memory already faulted in instead of asking malloc
 * (which hands out and gives back fresh mmap'd pages: a page fault per 4 KiB
 * on every command). Internal to libnvmf; one thread at a time, as the
 * queue pair.
 */
#ifndef NVMF_BUFPOOL_H
#define NVMF_BUFPOOL_H

#include <stdint.h>

/* Size classes are powers of two from 4 KiB; larger ones are not cached. */
#define NVMF_BUFPOOL_CLASSES	10	/* 4 KiB .. 2 MiB */
/* What one queue keeps cached at most: eight 1 MiB transfers in flight. */
#define NVMF_BUFPOOL_CACHE_MAX	(8u << 20)

struct nvmf_bufpool {
	void *free[NVMF_BUFPOOL_CLASSES];	/* singly linked through the buffers */
	uint64_t cached;			/* bytes on the free lists */
};

/* A buffer of at least len bytes (contents unspecified) or NULL. */
void *nvmf_bufpool_get(struct nvmf_bufpool *bp, uint32_t len);
/* Returns a buffer nvmf_bufpool_get gave for len bytes. */
void nvmf_bufpool_put(struct nvmf_bufpool *bp, void *buf, uint32_t len);
/* Frees every cached buffer. */
void nvmf_bufpool_drain(struct nvmf_bufpool *bp);

#endif /* NVMF_BUFPOOL_H */
