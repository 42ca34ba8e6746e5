/* SPDX-License-Identifier: BSD-2-Clause
 * Copyright (c) 2026 The nvmf developers */
/*
 * ctrl_list.c - controllers as JSON for clients: the list reply (what
 * devlist and list-subsys show) and reconnect-begin's kept parameters.
 * The parameters themselves are written by ctrl_params.c's schema.
 */
#include <json-c/json.h>
#include <stdio.h>
#include <string.h>

#include "hostd.h"

struct json_object *
hd_ctrl_params_json(const struct hd_ctrl *c)
{
	struct hd_ctrl_params kept;
	struct json_object *o = json_object_new_object();

	hd_ctrl_params_get(c, &kept);
	hd_params_write(o, &kept);
	return o;
}

/* An Identify string as text: the spec says ASCII, a target may send anything. */
static void
trimmed(char *dst, const char *src, size_t len)
{
	memcpy(dst, src, len);
	dst[len] = '\0';
	for (size_t i = len; i > 0 && (dst[i - 1] == ' ' || dst[i - 1] == '\0'); i--)
		dst[i - 1] = '\0';
	for (char *p = dst; *p != '\0'; p++)
		if (*p < 0x20 || *p > 0x7e)
			*p = '?';
}

/* What a lost association looks like so far (registry lock held). */
static void
add_loss(struct json_object *o, const struct hd_ctrl *c)
{
	uint64_t now = hd_now_ms();
	const struct hd_ctrl_params *p = &c->params;

	hd_json_add_str(o, "reason", c->lost_reason);
	hd_json_add_int(o, "disconnected_ms", (int64_t)(now - c->lost_at_ms));
	hd_json_add_int(o, "reconnect_events", c->events);
	hd_json_add_int(o, "reconnect_attempts", c->attempts);
	hd_json_add_int(o, "held_io", c->nheld);
	if (p->reconnect_delay > 0)
		hd_json_add_int(o, "next_event_ms", c->next_event_ms > now ?
		    (int64_t)(c->next_event_ms - now) : 0);
	if (p->ctrl_loss_tmo > 0) {
		uint64_t due = c->lost_at_ms + (uint64_t)p->ctrl_loss_tmo * 1000;

		hd_json_add_int(o, "detach_in_ms", due > now ? (int64_t)(due - now) : 0);
	}
	json_object_object_add(o, "io_failing", json_object_new_boolean(c->fast_failed));
}

static struct json_object *
namespaces_json(const struct hd_ctrl *c)
{
	struct json_object *nss = json_object_new_array();

	for (struct hd_namespace *ns = c->namespaces; ns != NULL; ns = ns->next) {
		struct json_object *n;
		char path[4300];

		if (ns->gone)
			continue;
		n = json_object_new_object();
		snprintf(path, sizeof(path), "%s/%s", hd_rd.dev, ns->name);
		hd_json_add_str(n, "name", ns->name);
		hd_json_add_int(n, "nsid", ns->nsid);
		hd_json_add_str(n, "path", path);
		hd_json_add_int(n, "size", (int64_t)hd_ns_size(ns));
		hd_json_add_int(n, "lba_size", 1 << ns->lba_shift);
		json_object_array_add(nss, n);
	}
	return nss;
}

struct json_object *
hd_ctrl_list_json(void)
{
	struct json_object *arr = json_object_new_array();

	hd_registry_lock();
	for (struct hd_ctrl *c = hd_ctrls_first(); c != NULL; c = c->next) {
		struct json_object *o;
		char buf[64];

		if (!c->announced)
			continue;
		o = json_object_new_object();
		hd_json_add_str(o, "name", c->name);
		hd_json_add_str(o, "state", hd_ctrl_state_name(c->state));
		hd_params_write(o, &c->params);
		/* devlist's older name for nr_io_queues */
		hd_json_add_int(o, "io_queues", c->params.nr_io_queues);
		hd_json_add_int(o, "cntlid", c->cntlid);
		trimmed(buf, c->id.mn, sizeof(c->id.mn));
		hd_json_add_str(o, "model", buf);
		trimmed(buf, c->id.sn, sizeof(c->id.sn));
		hd_json_add_str(o, "serial", buf);
		trimmed(buf, c->id.fr, sizeof(c->id.fr));
		hd_json_add_str(o, "firmware", buf);
		if (c->state == HD_CTRL_DISCONNECTED || c->state == HD_CTRL_RECONNECTING)
			add_loss(o, c);
		json_object_object_add(o, "namespaces", namespaces_json(c));
		json_object_array_add(arr, o);
	}
	hd_registry_unlock();
	return arr;
}
