/* SPDX-License-Identifier: BSD-2-Clause
 * Copyright (c) 2026 The nvmf developers */
/*
 * histogram.c - the log-linear latency histogram. Values below HIST_SUB
 * have a bucket each; above, a value's top HIST_SUB_BITS+1 bits choose its
 * bucket, so a bucket is never wider than 1/HIST_SUB of what it holds.
 */
#include <string.h>

#include "histogram.h"

void
hist_init(struct histogram *h)
{
	memset(h, 0, sizeof(*h));
	h->min = UINT64_MAX;
}

unsigned
hist_index(uint64_t v)
{
	unsigned msb, shift, index;

	if (v < HIST_SUB)
		return (unsigned)v;
	msb = 63u - (unsigned)__builtin_clzll(v);
	shift = msb - HIST_SUB_BITS;
	index = (shift + 1) * HIST_SUB + (unsigned)((v >> shift) - HIST_SUB);
	/* Beyond the last level: the last bucket (max still holds the truth). */
	return index < HIST_BUCKETS ? index : HIST_BUCKETS - 1;
}

uint64_t
hist_bucket_low(unsigned index)
{
	unsigned level = index / HIST_SUB, sub = index % HIST_SUB;

	if (level == 0)
		return sub;
	return ((uint64_t)HIST_SUB + sub) << (level - 1);
}

uint64_t
hist_bucket_high(unsigned index)
{
	unsigned level = index / HIST_SUB;

	if (level == 0)
		return hist_bucket_low(index);
	return hist_bucket_low(index) + (1ull << (level - 1)) - 1;
}

void
hist_record(struct histogram *h, uint64_t v)
{
	h->bucket[hist_index(v)]++;
	h->count++;
	h->sum += v;
	if (v < h->min)
		h->min = v;
	if (v > h->max)
		h->max = v;
}

void
hist_merge(struct histogram *into, const struct histogram *from)
{
	if (from->count == 0)
		return;
	for (unsigned i = 0; i < HIST_BUCKETS; i++)
		into->bucket[i] += from->bucket[i];
	into->count += from->count;
	into->sum += from->sum;
	if (from->min < into->min)
		into->min = from->min;
	if (from->max > into->max)
		into->max = from->max;
}

uint64_t
hist_percentile(const struct histogram *h, double pct)
{
	uint64_t rank, seen = 0, v;

	if (h->count == 0)
		return 0;
	if (pct <= 0)
		return h->min;
	if (pct >= 100)
		return h->max;
	/* The rank-th smallest sample, rank counted from 1 and rounded up. */
	rank = (uint64_t)(pct / 100.0 * (double)h->count);
	if ((double)rank < pct / 100.0 * (double)h->count)
		rank++;
	if (rank == 0)
		rank = 1;
	for (unsigned i = 0; i < HIST_BUCKETS; i++) {
		seen += h->bucket[i];
		if (seen >= rank) {
			v = hist_bucket_low(i) + (hist_bucket_high(i) - hist_bucket_low(i)) / 2;
			if (v < h->min)
				v = h->min;
			if (v > h->max)
				v = h->max;
			return v;
		}
	}
	return h->max;
}

double
hist_mean(const struct histogram *h)
{
	return h->count > 0 ? (double)h->sum / (double)h->count : 0.0;
}
