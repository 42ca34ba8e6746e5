/* SPDX-License-Identifier: BSD-2-Clause
 * Copyright (c) 2026 The nvmf developers */
/*
 * framing.c - cutting the devctl byte stream into event lines. Only a
 * newline ends a line: a NUL byte inside one does not (C string functions
 * would stop there and lose what follows), and a line too long to hold is
 * counted to its newline and refused whole, never cut into pieces that
 * could each pass for an event.
 */
#include <stdint.h>
#include <string.h>

#include "devd.h"

void
framer_reset(struct framer *f)
{
	f->len = 0;
	f->nul = false;
	f->buf[0] = '\0';
}

size_t
framer_pending(const struct framer *f)
{
	return f->len;
}

void
framer_feed(struct framer *f, const char *data, size_t n, frame_fn *fn, void *arg)
{
	while (n > 0) {
		const char *nl = memchr(data, '\n', n);
		size_t seg = nl != NULL ? (size_t)(nl - data) : n;

		if (!f->nul && memchr(data, '\0', seg) != NULL)
			f->nul = true;
		/* Past the limit only the count goes on: the line is refused anyway. */
		if (f->len <= EVENT_LINE_MAX && seg <= EVENT_LINE_MAX - f->len)
			memcpy(f->buf + f->len, data, seg);
		f->len = f->len + seg < f->len ? SIZE_MAX : f->len + seg;
		if (nl == NULL)
			return;
		data += seg + 1;
		n -= seg + 1;
		if (f->len > EVENT_LINE_MAX) {
			fn(arg, FRAME_TOO_LONG, NULL, f->len);
		} else if (f->nul) {
			fn(arg, FRAME_NUL, NULL, f->len);
		} else if (f->len > 0) {
			f->buf[f->len] = '\0';
			fn(arg, FRAME_LINE, f->buf, f->len);
		}
		framer_reset(f);
	}
}
