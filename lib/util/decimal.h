/* SPDX-License-Identifier: BSD-2-Clause
 * Copyright (c) 2026 The nvmf developers */
/*
 * decimal.h - numbers as a user reads them, shared by every program's
 * command line and configuration: decimal digits only (a leading zero is
 * not octal, no 0x, sign or blank) and no silent wrap past a maximum.
 */
#ifndef NVMF_UTIL_DECIMAL_H
#define NVMF_UTIL_DECIMAL_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

/*
 * The leading decimal digits of s, at most max; *end points past them.
 * -1 for no digits (or s NULL) or a value above max, overflow included.
 */
int decimal_scan(const char *s, uint64_t max, uint64_t *out, const char **end);
/* All of s as one decimal number at most max: 0, or -1. */
int decimal_parse(const char *s, uint64_t max, uint64_t *out);
/*
 * A group as chgrp(1) takes it: a name first, then a decimal GID below
 * (gid_t)-1, which means "none". False when it is neither.
 */
bool group_lookup(const char *arg, gid_t *gid);

#endif /* NVMF_UTIL_DECIMAL_H */
