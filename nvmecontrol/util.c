/* SPDX-License-Identifier: BSD-2-Clause
 * Copyright (c) 2026 The nvmf developers */
/*
 * util.c - small helpers: Identify strings, JSON access and printing.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <json-c/json.h>

#include "nvmecontrol.h"

void
id_string(char *dst, size_t dstlen, const char *src, size_t srclen)
{
	size_t n = 0;

	for (size_t i = 0; i < srclen && src[i] != '\0' && n + 1 < dstlen; i++) {
		unsigned char c = (unsigned char)src[i];

		dst[n++] = c >= 0x20 && c < 0x7f ? (char)c : '?';
	}
	while (n > 0 && dst[n - 1] == ' ')
		n--;
	dst[n] = '\0';
}

const char *
json_get_string(struct json_object *o, const char *key, const char *dflt)
{
	struct json_object *v;

	if (o == NULL || !json_object_object_get_ex(o, key, &v) ||
	    !json_object_is_type(v, json_type_string))
		return dflt;
	return json_object_get_string(v);
}

int64_t
json_get_int(struct json_object *o, const char *key, int64_t dflt)
{
	struct json_object *v;

	if (o == NULL || !json_object_object_get_ex(o, key, &v))
		return dflt;
	if (!json_object_is_type(v, json_type_int) && !json_object_is_type(v, json_type_boolean))
		return dflt;
	return json_object_get_int64(v);
}

void
print_json(struct json_object *o)
{
	printf("%s\n", json_object_to_json_string_ext(o,
	    JSON_C_TO_STRING_PRETTY | JSON_C_TO_STRING_SPACED |
	    JSON_C_TO_STRING_NOSLASHESCAPE));
}

/* The number after the last "ns" of a namespace name (nvme0ns12 -> 12). */
static unsigned long
ns_number(const char *name)
{
	const char *p = strrchr(name, 's');

	return p != NULL && p > name && p[-1] == 'n' ? strtoul(p + 1, NULL, 10) : 0;
}

static int
cmp_ns_names(const void *a, const void *b)
{
	const char *x = *(const char *const *)a, *y = *(const char *const *)b;
	unsigned long nx = ns_number(x), ny = ns_number(y);

	if (nx != ny)
		return nx < ny ? -1 : 1;
	return strcmp(x, y);
}

void
print_namespace_names(struct json_object *names)
{
	size_t n = names != NULL && json_object_is_type(names, json_type_array) ?
	    json_object_array_length(names) : 0;
	const char **v;

	if (n == 0)
		return;
	v = calloc(n, sizeof(*v));
	if (v == NULL)
		return;
	for (size_t i = 0; i < n; i++) {
		v[i] = json_object_get_string(json_object_array_get_idx(names, i));
		if (v[i] == NULL)
			v[i] = "?";
	}
	qsort(v, n, sizeof(*v), cmp_ns_names);
	printf(" (");
	for (size_t i = 0; i < n; i++)
		printf("%s%s", i ? ", " : "", v[i]);
	printf(")");
	free(v);
}

int
controller_operand(const char *cmd, const char *arg, char *out, size_t len)
{
	const char *name = strncmp(arg, "/dev/", 5) == 0 ? arg + 5 : arg;
	size_t digits = strspn(name + 4, "0123456789");

	if (strncmp(name, "nvme", 4) != 0 || digits == 0 || name[4 + digits] != '\0' ||
	    strlen(name) >= len)
		return usage_error(cmd, "'%s' is not a controller name (nvmeX)", arg);
	snprintf(out, len, "%s", name);
	return 0;
}
