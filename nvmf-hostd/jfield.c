/* SPDX-License-Identifier: BSD-2-Clause
 * Copyright (c) 2026 The nvmf developers */
/*
 * jfield.c - typed access to the fields of a control message. Every field
 * any request carries is read through these getters: each checks presence,
 * type and range, and the first failure becomes the one-line error the
 * reply carries, naming the field ("controller.kato_ms" ...). After a
 * failure the getters return harmless defaults (never NULL), so a caller
 * looks at hd_jf_ok() once, when it has read everything.
 */
#include <inttypes.h>
#include <json-c/json.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "hostd.h"

void
hd_jf_init(struct hd_jf *f, struct json_object *obj, const char *where, char *err,
    size_t errlen)
{
	f->obj = obj;
	snprintf(f->where, sizeof(f->where), "%s", where);
	f->err = err;
	f->errlen = errlen;
	if (errlen > 0)
		err[0] = '\0';
}

bool
hd_jf_ok(const struct hd_jf *f)
{
	return f->errlen == 0 || f->err[0] == '\0';
}

static void fail(struct hd_jf *f, const char *key, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* Keeps the first failure only: it is the cause, later ones its echoes. */
static void
fail(struct hd_jf *f, const char *key, const char *fmt, ...)
{
	size_t n;
	va_list ap;

	if (!hd_jf_ok(f))
		return;
	snprintf(f->err, f->errlen, "\"%s%s%s\" ", f->where, f->where[0] ? "." : "", key);
	n = strlen(f->err);
	va_start(ap, fmt);
	vsnprintf(f->err + n, f->errlen - n, fmt, ap);
	va_end(ap);
}

static const char *
type_name(struct json_object *v)
{
	switch (json_object_get_type(v)) {
	case json_type_null: return "null";
	case json_type_boolean: return "a boolean";
	case json_type_double: return "a fractional number";
	case json_type_int: return "an integer";
	case json_type_object: return "an object";
	case json_type_array: return "an array";
	case json_type_string: return "a string";
	}
	return "of an unknown type";
}

/* The field's value if present and of type t; NULL otherwise (failing if required). */
static struct json_object *
field(struct hd_jf *f, const char *key, json_type t, const char *want, bool required)
{
	struct json_object *v;

	if (!hd_jf_ok(f) || f->obj == NULL)
		return NULL;
	if (!json_object_object_get_ex(f->obj, key, &v)) {
		if (required)
			fail(f, key, "is missing");
		return NULL;
	}
	/* A null is a value of the wrong type, not an absent field. */
	if (v == NULL || !json_object_is_type(v, t)) {
		fail(f, key, "must be %s, not %s", want, v == NULL ? "null" : type_name(v));
		return NULL;
	}
	return v;
}

static const char *
str_field(struct hd_jf *f, const char *key, size_t maxlen, bool required)
{
	struct json_object *v = field(f, key, json_type_string, "a string", required);
	const char *s;
	size_t len;

	if (v == NULL)
		return NULL;
	s = json_object_get_string(v);
	len = (size_t)json_object_get_string_len(v);
	if (strlen(s) != len) {
		fail(f, key, "contains a NUL character");
		return NULL;
	}
	if (len > maxlen) {
		fail(f, key, "is longer than %zu characters", maxlen);
		return NULL;
	}
	if (required && len == 0) {
		fail(f, key, "is empty");
		return NULL;
	}
	return s;
}

const char *
hd_jf_str(struct hd_jf *f, const char *key, size_t maxlen)
{
	const char *s = str_field(f, key, maxlen, true);

	return s != NULL ? s : "";
}

const char *
hd_jf_str_or(struct hd_jf *f, const char *key, size_t maxlen, const char *dflt)
{
	const char *s;

	if (!hd_jf_ok(f))
		return dflt;
	s = str_field(f, key, maxlen, false);
	return s != NULL ? s : dflt;
}

static int64_t
int_field(struct hd_jf *f, const char *key, int64_t min, int64_t max, int64_t dflt,
    bool required)
{
	struct json_object *v = field(f, key, json_type_int, "an integer", required);
	int64_t x;

	if (v == NULL)
		return dflt;
	x = json_object_get_int64(v);
	/* Beyond int64 json-c saturates; the range check catches that too. */
	if (x < min || x > max) {
		fail(f, key, "must be from %" PRId64 " to %" PRId64 ", not %s", min, max,
		    json_object_to_json_string_ext(v, JSON_C_TO_STRING_PLAIN));
		return dflt;
	}
	return x;
}

int64_t
hd_jf_int(struct hd_jf *f, const char *key, int64_t min, int64_t max)
{
	return int_field(f, key, min, max, min, true);
}

int64_t
hd_jf_int_or(struct hd_jf *f, const char *key, int64_t min, int64_t max, int64_t dflt)
{
	return int_field(f, key, min, max, dflt, false);
}

bool
hd_jf_bool_or(struct hd_jf *f, const char *key, bool dflt)
{
	struct json_object *v = field(f, key, json_type_boolean, "true or false", false);

	return v != NULL ? json_object_get_boolean(v) : dflt;
}

/* A nested object's fields report into the parent's error, which stays as it is. */
static void
child_init(struct hd_jf *child, const struct hd_jf *parent, struct json_object *obj,
    const char *name)
{
	child->obj = obj;
	/* Messages nest two deep at most: halves of where are plenty. */
	snprintf(child->where, sizeof(child->where), "%.31s%s%.31s", parent->where,
	    parent->where[0] ? "." : "", name);
	child->err = parent->err;
	child->errlen = parent->errlen;
}

bool
hd_jf_object(struct hd_jf *f, const char *key, struct hd_jf *child)
{
	struct json_object *v = field(f, key, json_type_object, "an object", true);

	child_init(child, f, v, key);
	return v != NULL;
}

struct json_object *
hd_jf_array(struct hd_jf *f, const char *key, size_t min, size_t max)
{
	struct json_object *v = field(f, key, json_type_array, "an array", true);
	size_t n;

	if (v == NULL)
		return NULL;
	n = json_object_array_length(v);
	if (n < min || n > max) {
		fail(f, key, "must have %zu to %zu entries, not %zu", min, max, n);
		return NULL;
	}
	return v;
}

bool
hd_jf_element(struct hd_jf *f, const char *key, struct json_object *array, size_t i,
    struct hd_jf *child)
{
	struct json_object *v = array != NULL ? json_object_array_get_idx(array, i) : NULL;
	char idx[32];

	snprintf(idx, sizeof(idx), "%.10s[%zu]", key, i);
	if (hd_jf_ok(f) && (v == NULL || !json_object_is_type(v, json_type_object))) {
		fail(f, idx, "must be an object, not %s", v == NULL ? "null" : type_name(v));
		v = NULL;
	}
	child_init(child, f, hd_jf_ok(f) ? v : NULL, idx);
	return child->obj != NULL;
}
