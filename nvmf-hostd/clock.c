/* SPDX-License-Identifier: BSD-2-Clause
 * Copyright (c) 2026 The nvmf developers */
/*
 * clock.c - the host's two clocks: the monotonic one its timers run on,
 * and the realtime deadlines pthread's timed waits take.
 */
#include <time.h>

#include "hostd.h"

uint64_t
hd_now_ms(void)
{
	return hd_now_us() / 1000;
}

uint64_t
hd_now_us(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000 + (uint64_t)ts.tv_nsec / 1000;
}

void
hd_realtime_deadline(struct timespec *dl, int timeout_ms)
{
	clock_gettime(CLOCK_REALTIME, dl);
	dl->tv_sec += timeout_ms / 1000;
	dl->tv_nsec += (long)(timeout_ms % 1000) * 1000000;
	if (dl->tv_nsec >= 1000000000) {
		dl->tv_sec++;
		dl->tv_nsec -= 1000000000;
	}
}
