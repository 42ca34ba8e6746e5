/* SPDX-License-Identifier: BSD-2-Clause
 * Copyright (c) 2026 The nvmf developers */
/*
 * decimal.c - decimal numbers and group ids from command lines and files.
 */
#include <grp.h>
#include <stddef.h>

#include "decimal.h"

int
decimal_scan(const char *s, uint64_t max, uint64_t *out, const char **end)
{
	uint64_t v = 0;
	const char *p;

	if (s == NULL)
		return -1;
	for (p = s; *p >= '0' && *p <= '9'; p++) {
		uint64_t d = (uint64_t)(*p - '0');

		if (d > max || v > (max - d) / 10)
			return -1;
		v = v * 10 + d;
	}
	if (p == s)
		return -1;
	*out = v;
	*end = p;
	return 0;
}

int
decimal_parse(const char *s, uint64_t max, uint64_t *out)
{
	const char *end;
	uint64_t v;

	if (decimal_scan(s, max, &v, &end) != 0 || *end != '\0')
		return -1;
	*out = v;
	return 0;
}

bool
group_lookup(const char *arg, gid_t *gid)
{
	struct group *gr = arg[0] != '\0' ? getgrnam(arg) : NULL;
	uint64_t v;

	if (gr != NULL) {
		*gid = gr->gr_gid;
		return true;
	}
	if (decimal_parse(arg, (uint64_t)(gid_t)-1 - 1, &v) != 0)
		return false;
	*gid = (gid_t)v;
	return true;
}
