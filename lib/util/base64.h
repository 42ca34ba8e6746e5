/* SPDX-License-Identifier: BSD-2-Clause
 * Copyright (c) 2026 The nvmf developers */
/* base64.h - RFC 4648 base64, for binary fields in JSON messages. */
#ifndef UTIL_BASE64_H
#define UTIL_BASE64_H

#include <stddef.h>
#include <stdint.h>

/* Encodes len bytes; returns a malloc'd NUL-terminated string or NULL. */
char *base64_encode(const void *data, size_t len);
/* Decodes into out (room for outlen bytes); bytes written, or -1 if malformed. */
long base64_decode(const char *text, uint8_t *out, size_t outlen);

#endif
