/* SPDX-License-Identifier: BSD-2-Clause
 * Copyright (c) 2026 The nvmf developers */
/*
 * deadline.c - the one monotonic clock the library's waits use, so every
 * blocking helper and set-up step measures its timeout the same way.
 */
#include <limits.h>
#include <time.h>

#include "nvmf_qpair.h"

long
nvmf_now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

long
nvmf_deadline(int timeout_ms)
{
	return nvmf_now_ms() + (timeout_ms > 0 ? timeout_ms : 0);
}

int
nvmf_ms_left(long deadline)
{
	long left = deadline - nvmf_now_ms();

	if (left <= 0)
		return 0;
	return left > INT_MAX ? INT_MAX : (int)left;
}
