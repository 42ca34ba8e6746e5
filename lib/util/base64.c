/* SPDX-License-Identifier: BSD-2-Clause
 * Copyright (c) 2026 The nvmf developers */
/*
 * base64.c - RFC 4648 base64 (standard alphabet, padded), for the binary
 * fields (SQEs, Identify data) of the control protocol's JSON messages.
 */
#include <stdlib.h>
#include <string.h>

#include "base64.h"

static const char alphabet[] =
    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

char *
base64_encode(const void *data, size_t len)
{
	const uint8_t *in = data;
	char *out = malloc((len + 2) / 3 * 4 + 1), *p = out;

	if (out == NULL)
		return NULL;
	for (size_t i = 0; i < len; i += 3) {
		uint32_t v = (uint32_t)in[i] << 16;

		if (i + 1 < len)
			v |= (uint32_t)in[i + 1] << 8;
		if (i + 2 < len)
			v |= in[i + 2];
		*p++ = alphabet[(v >> 18) & 63];
		*p++ = alphabet[(v >> 12) & 63];
		*p++ = i + 1 < len ? alphabet[(v >> 6) & 63] : '=';
		*p++ = i + 2 < len ? alphabet[v & 63] : '=';
	}
	*p = '\0';
	return out;
}

static int
sextet(char c)
{
	const char *p = c != '\0' ? strchr(alphabet, c) : NULL;

	return p != NULL ? (int)(p - alphabet) : -1;
}

long
base64_decode(const char *text, uint8_t *out, size_t outlen)
{
	size_t n = strlen(text), o = 0;

	if (n % 4 != 0)
		return -1;
	for (size_t i = 0; i < n; i += 4) {
		int a = sextet(text[i]), b = sextet(text[i + 1]);
		int c = text[i + 2] == '=' ? 0 : sextet(text[i + 2]);
		int d = text[i + 3] == '=' ? 0 : sextet(text[i + 3]);
		int bytes = text[i + 2] == '=' ? 1 : text[i + 3] == '=' ? 2 : 3;
		uint32_t v;

		if (a < 0 || b < 0 || c < 0 || d < 0 ||
		    (bytes < 3 && i + 4 != n) || (text[i + 2] == '=' && text[i + 3] != '='))
			return -1;
		if (o + (size_t)bytes > outlen)
			return -1;
		v = (uint32_t)a << 18 | (uint32_t)b << 12 | (uint32_t)c << 6 | (uint32_t)d;
		out[o++] = (uint8_t)(v >> 16);
		if (bytes > 1)
			out[o++] = (uint8_t)(v >> 8);
		if (bytes > 2)
			out[o++] = (uint8_t)v;
	}
	return (long)o;
}
