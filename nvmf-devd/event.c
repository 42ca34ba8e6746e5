/* SPDX-License-Identifier: BSD-2-Clause
 * Copyright (c) 2026 The nvmf developers */
/*
 * event.c - devctl event lines in devd's notation, and putting their
 * values into action commands safely quoted.
 */
#include <ctype.h>
#include <stdio.h>
#include <string.h>

#include "devd.h"

int
event_parse(const char *line, struct event *ev)
{
	char *p;

	memset(ev, 0, sizeof(*ev));
	if (strchr("!+-?", line[0]) == NULL || line[0] == '\0')
		return -1;
	/* Cut short, a value could read as another (name="nvme12" as "nvme1"). */
	if (strlen(line) > EVENT_LINE_MAX)
		return -1;
	ev->kind = line[0];
	memcpy(ev->buf, line + 1, strlen(line));
	p = ev->buf;
	while (*p != '\0') {
		char *key, *val;

		while (*p == ' ' || *p == '\t')
			p++;
		if (*p == '\0')
			break;
		key = p;
		while (*p != '\0' && *p != '=' && *p != ' ')
			p++;
		if (*p != '=' || p == key || ev->nvars == EVENT_MAX_VARS)
			return -1;
		*p++ = '\0';
		if (*p == '"') {	/* a quoted value may hold spaces */
			val = ++p;
			while (*p != '\0' && *p != '"')
				p++;
			if (*p != '"')
				return -1;
			*p++ = '\0';
		} else {
			val = p;
			while (*p != '\0' && *p != ' ' && *p != '\t')
				p++;
			if (*p != '\0')
				*p++ = '\0';
		}
		ev->keys[ev->nvars] = key;
		ev->values[ev->nvars++] = val;
	}
	return ev->nvars > 0 ? 0 : -1;
}

const char *
event_get(const struct event *ev, const char *key)
{
	for (unsigned i = 0; i < ev->nvars; i++)
		if (strcmp(ev->keys[i], key) == 0)
			return ev->values[i];
	return NULL;
}

/* Appends s to out as one shell word in single quotes ('\'' for a quote). */
static int
put_quoted(char *out, size_t outlen, size_t *o, const char *s)
{
	if (*o + 1 >= outlen)
		return -1;
	out[(*o)++] = '\'';
	for (; *s != '\0'; s++) {
		if (*s == '\'') {
			if (*o + 4 >= outlen)
				return -1;
			memcpy(out + *o, "'\\''", 4);
			*o += 4;
		} else {
			if (*o + 1 >= outlen)
				return -1;
			out[(*o)++] = *s;
		}
	}
	if (*o + 1 >= outlen)
		return -1;
	out[(*o)++] = '\'';
	return 0;
}

int
event_expand(const struct event *ev, const char *cmd, char *out, size_t outlen)
{
	size_t o = 0;

	for (const char *p = cmd; *p != '\0';) {
		char name[64];
		size_t n = 0;
		bool braced = false;
		const char *v;

		if (*p != '$' || !(isalpha((unsigned char)p[1]) || p[1] == '_' || p[1] == '{')) {
			if (o + 1 >= outlen)
				return -1;
			out[o++] = *p++;
			continue;
		}
		p++;
		if (*p == '{') {
			braced = true;
			p++;
		}
		while ((isalnum((unsigned char)*p) || *p == '_' || *p == '-') &&
		    n < sizeof(name) - 1)
			name[n++] = *p++;
		name[n] = '\0';
		if (braced && *p == '}')
			p++;
		v = event_get(ev, name);
		if (put_quoted(out, outlen, &o, v != NULL ? v : "") != 0)
			return -1;
	}
	out[o] = '\0';
	return 0;
}
