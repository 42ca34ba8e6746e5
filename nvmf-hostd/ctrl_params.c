/* SPDX-License-Identifier: BSD-2-Clause
 * Copyright (c) 2026 The nvmf developers */
/*
 * ctrl_params.c - the one schema of a controller's kept parameters: read
 * from a hand-off's or reconnect's "controller" object and from a state
 * file, written into reconnect-begin's reply, the list reply and the state
 * file. Field names, ranges and defaults live here and nowhere else in
 * nvmf-hostd (docs/control-protocol.md describes them).
 */
#include <json-c/json.h>
#include <stdio.h>
#include <string.h>

#include "ctrl_defaults.h"
#include "hostd.h"

#define SECONDS_MAX	(INT32_MAX / 1000)	/* timers count milliseconds in int64 */

void
hd_params_read(struct hd_jf *f, struct hd_ctrl_params *p)
{
	const char *transport = hd_jf_str_or(f, "transport", sizeof(p->transport) - 1, "tcp");
	const char *kind;

	memset(p, 0, sizeof(*p));
	if (hd_jf_ok(f) && strcmp(transport, "tcp") != 0)
		snprintf(f->err, f->errlen, "\"%s.transport\" must be \"tcp\", not \"%s\"",
		    f->where, transport);
	snprintf(p->transport, sizeof(p->transport), "%s", transport);
	snprintf(p->traddr, sizeof(p->traddr), "%s",
	    hd_jf_str(f, "traddr", sizeof(p->traddr) - 1));
	snprintf(p->trsvcid, sizeof(p->trsvcid), "%s",
	    hd_jf_str(f, "trsvcid", sizeof(p->trsvcid) - 1));
	(void)hd_jf_str_or(f, "adrfam", 8, "ipv4");	/* informative: the socket says */
	snprintf(p->subnqn, sizeof(p->subnqn), "%s", hd_jf_str(f, "subnqn", NVMF_NQN_MAX_LEN));
	snprintf(p->hostnqn, sizeof(p->hostnqn), "%s",
	    hd_jf_str(f, "hostnqn", NVMF_NQN_MAX_LEN));
	snprintf(p->hostid, sizeof(p->hostid), "%s",
	    hd_jf_str_or(f, "hostid", sizeof(p->hostid) - 1, ""));
	p->kato_ms = (uint32_t)hd_jf_int_or(f, "kato_ms", 0, UINT32_MAX, NVMF_DEFAULT_KATO_MS);
	p->reconnect_delay = (int)hd_jf_int_or(f, "reconnect_delay", 0, SECONDS_MAX,
	    NVMF_DEFAULT_RECONNECT_DELAY);
	/* -1 as nvme-cli spells "never"; ours is 0, and both mean it. */
	p->ctrl_loss_tmo = (int)hd_jf_int_or(f, "ctrl_loss_tmo", -1, SECONDS_MAX,
	    NVMF_DEFAULT_CTRL_LOSS_TMO);
	p->fast_io_fail_tmo = (int)hd_jf_int_or(f, "fast_io_fail_tmo", -1, SECONDS_MAX,
	    NVMF_DEFAULT_FAST_IO_FAIL_TMO);
	p->nr_io_queues = (uint32_t)hd_jf_int_or(f, "nr_io_queues", 0, 65535,
	    NVMF_DEFAULT_NR_IO_QUEUES);
	p->queue_size = (uint32_t)hd_jf_int_or(f, "queue_size", 0, 65536, 0);
	p->hdr_digest = hd_jf_bool_or(f, "hdr_digest", false);
	p->data_digest = hd_jf_bool_or(f, "data_digest", false);
	p->sq_flow_control = hd_jf_bool_or(f, "sq_flow_control", true);
	kind = hd_jf_str_or(f, "kind", 16, "nvm");
	if (hd_jf_ok(f) && strcmp(kind, "nvm") != 0 && strcmp(kind, "discovery") != 0)
		snprintf(f->err, f->errlen, "\"%s.kind\" must be \"nvm\" or \"discovery\", "
		    "not \"%s\"", f->where, kind);
	p->discovery = strcmp(kind, "discovery") == 0;
}

void
hd_json_add_str(struct json_object *o, const char *k, const char *v)
{
	json_object_object_add(o, k, json_object_new_string(v));
}

void
hd_json_add_int(struct json_object *o, const char *k, int64_t v)
{
	json_object_object_add(o, k, json_object_new_int64(v));
}

static void
add_bool(struct json_object *o, const char *k, bool v)
{
	json_object_object_add(o, k, json_object_new_boolean(v));
}

void
hd_params_write(struct json_object *o, const struct hd_ctrl_params *p)
{
	hd_json_add_str(o, "transport", p->transport);
	hd_json_add_str(o, "traddr", p->traddr);
	hd_json_add_str(o, "trsvcid", p->trsvcid);
	hd_json_add_str(o, "subnqn", p->subnqn);
	hd_json_add_str(o, "hostnqn", p->hostnqn);
	hd_json_add_str(o, "hostid", p->hostid);
	hd_json_add_int(o, "kato_ms", p->kato_ms);
	hd_json_add_int(o, "reconnect_delay", p->reconnect_delay);
	hd_json_add_int(o, "ctrl_loss_tmo", p->ctrl_loss_tmo);
	hd_json_add_int(o, "fast_io_fail_tmo", p->fast_io_fail_tmo);
	hd_json_add_int(o, "nr_io_queues", p->nr_io_queues);
	hd_json_add_int(o, "queue_size", p->queue_size);
	add_bool(o, "hdr_digest", p->hdr_digest);
	add_bool(o, "data_digest", p->data_digest);
	add_bool(o, "sq_flow_control", p->sq_flow_control);
	hd_json_add_str(o, "kind", p->discovery ? "discovery" : "nvm");
}
