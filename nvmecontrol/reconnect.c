/* SPDX-License-Identifier: BSD-2-Clause
 * Copyright (c) 2026 The nvmf developers */
/*
 * reconnect.c - "nvmecontrol reconnect nvmeX [address:port]": rebuild a lost
 * association. nvmf-hostd lends the controller (a lease, refused at once
 * when it is connected or another reconnect is under way) with the
 * parameters kept since connect, digests and queues included; options given
 * here replace them and become the kept ones. A discovery controller kept
 * by connect-all --persistent is rebuilt as one.
 */
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <json-c/json.h>

#include "nvmecontrol.h"

#define LEASE_TIMEOUT_MS	10000
#define NOT_GIVEN		INT_MIN

/* Fills every option not given on the command line from the kept parameters. */
void
fabric_opts_merge_kept(struct fabric_opts *o, struct json_object *kept)
{
	if (o->reconnect_delay == NOT_GIVEN)
		o->reconnect_delay = (int)json_get_int(kept, "reconnect_delay",
		    DEFAULT_RECONNECT_DELAY);
	if (o->ctrl_loss_tmo == NOT_GIVEN)
		o->ctrl_loss_tmo = (int)json_get_int(kept, "ctrl_loss_tmo", DEFAULT_CTRL_LOSS_TMO);
	if (o->fast_io_fail_tmo == NOT_GIVEN)
		o->fast_io_fail_tmo = (int)json_get_int(kept, "fast_io_fail_tmo",
		    NVMF_DEFAULT_FAST_IO_FAIL_TMO);
	if (o->nr_io_queues == 0)
		o->nr_io_queues = (uint32_t)json_get_int(kept, "nr_io_queues",
		    NVMF_DEFAULT_NR_IO_QUEUES);
	if (o->queue_size == 0)
		o->queue_size = (uint32_t)json_get_int(kept, "queue_size", 0);
	if (!o->kato_given)
		o->kato_ms = (uint32_t)json_get_int(kept, "kato_ms", DEFAULT_KATO_MS);
	/* Digests and flow control as connected, unless asked for here too. */
	{
		struct json_object *v;

		if (json_object_object_get_ex(kept, "hdr_digest", &v))
			o->hdr_digest |= json_object_get_boolean(v);
		if (json_object_object_get_ex(kept, "data_digest", &v))
			o->data_digest |= json_object_get_boolean(v);
		if (json_object_object_get_ex(kept, "sq_flow_control", &v))
			if (!o->flow_control_given)
				o->flow_control = json_object_get_boolean(v);
	}
	if (o->hostnqn == NULL)
		o->hostnqn = json_get_string(kept, "hostnqn", NULL);
	if (o->hostid == NULL) {
		const char *id = json_get_string(kept, "hostid", NULL);

		if (id != NULL && *id != '\0')
			o->hostid = id;
	}
}

void
reconnect_opts_init(struct fabric_opts *o)
{
	fabric_opts_init(o);
	/* Not given: the kept value. */
	o->reconnect_delay = o->ctrl_loss_tmo = o->fast_io_fail_tmo = NOT_GIVEN;
	o->nr_io_queues = 0;
}

void
fabric_opts_defaults(struct fabric_opts *o)
{
	if (o->reconnect_delay == NOT_GIVEN)
		o->reconnect_delay = DEFAULT_RECONNECT_DELAY;
	if (o->ctrl_loss_tmo == NOT_GIVEN)
		o->ctrl_loss_tmo = DEFAULT_CTRL_LOSS_TMO;
	if (o->fast_io_fail_tmo == NOT_GIVEN)
		o->fast_io_fail_tmo = NVMF_DEFAULT_FAST_IO_FAIL_TMO;
	if (o->nr_io_queues == 0)
		o->nr_io_queues = NVMF_DEFAULT_NR_IO_QUEUES;
}

static void
give_back(struct control *ctl, const char *name, const char *why)
{
	struct json_object *req = json_object_new_object(), *reply;
	char err[ERRLEN];

	json_object_object_add(req, "op", json_object_new_string("reconnect-abort"));
	json_object_object_add(req, "name", json_object_new_string(name));
	json_object_object_add(req, "error", json_object_new_string(why));
	reply = control_call(ctl, req, NULL, 0, LEASE_TIMEOUT_MS, NULL, 0, err, sizeof(err));
	json_object_put(reply);
	json_object_put(req);
}

int
cmd_reconnect(int argc, char **argv)
{
	struct json_object *req, *reply, *kept;
	struct fabric_opts o;
	struct control *ctl;
	char err[ERRLEN], code[32];
	const char *ctrl_name, *addr_arg = NULL;
	int first, rc;

	reconnect_opts_init(&o);
	rc = fabric_opts_parse("reconnect", argc, argv, &o, &first);
	if (rc != 0)
		return rc < 0 ? 0 : rc;
	if (first >= argc)
		return usage_error("reconnect", "missing controller name (nvmeX)");
	ctrl_name = argv[first++];
	if (strncmp(ctrl_name, "nvme", 4) != 0 || strstr(ctrl_name, "ns") != NULL)
		return usage_error("reconnect", "'%s' is not a controller name (nvmeX)",
		    ctrl_name);
	if (o.address != NULL)
		addr_arg = o.address;
	if (first < argc)
		addr_arg = argv[first++];
	if (first < argc)
		return unexpected_argument("reconnect", argv[first]);

	ctl = control_open(err, sizeof(err));
	if (ctl == NULL) {
		errmsg("%s", err);
		return EXIT_ERROR;
	}
	/* The lease first: nothing is dialed for a connected or busy controller. */
	req = json_object_new_object();
	json_object_object_add(req, "op", json_object_new_string("reconnect-begin"));
	json_object_object_add(req, "name", json_object_new_string(ctrl_name));
	reply = control_call(ctl, req, NULL, 0, LEASE_TIMEOUT_MS, code, sizeof(code), err,
	    sizeof(err));
	json_object_put(req);
	if (reply == NULL) {
		control_close(ctl);
		errmsg("%s", err);
		if (strcmp(code, "connected") == 0)
			return EXIT_CONNECTED;
		if (strcmp(code, "busy") == 0)
			return EXIT_BUSY;
		return EXIT_ERROR;
	}
	if (!json_object_object_get_ex(reply, "controller", &kept)) {
		json_object_put(reply);
		control_close(ctl);
		errmsg("nvmf-hostd sent no parameters for %s", ctrl_name);
		return EXIT_ERROR;
	}
	rc = reconnect_leased(ctl, "reconnect", ctrl_name, kept, &o, addr_arg);
	json_object_put(reply);
	control_close(ctl);
	return rc;
}

int
reconnect_leased(struct control *ctl, const char *cmd, const char *ctrl_name,
    struct json_object *kept, struct fabric_opts *o, const char *addr_arg)
{
	struct assoc_request r;
	struct host_ids ids;
	char err[ERRLEN], name[64], where[300];
	int rc;

	fabric_opts_merge_kept(o, kept);
	memset(&r, 0, sizeof(r));
	if (addr_arg != NULL) {
		if (parse_address(addr_arg, o->trsvcid != NULL ? o->trsvcid :
		    json_get_string(kept, "trsvcid", DEFAULT_NVME_PORT), &r.addr, err,
		    sizeof(err)) != 0) {
			give_back(ctl, ctrl_name, err);
			return usage_error(cmd, "%s", err);
		}
	} else {
		snprintf(r.addr.address, sizeof(r.addr.address), "%s",
		    json_get_string(kept, "traddr", ""));
		snprintf(r.addr.port, sizeof(r.addr.port), "%s",
		    o->trsvcid != NULL ? o->trsvcid : json_get_string(kept, "trsvcid", ""));
		r.addr.port_given = true;
	}
	rc = host_ids_get(o->hostnqn, o->hostid, &ids, err, sizeof(err));
	if (rc == 0) {
		r.subnqn = json_get_string(kept, "subnqn", "");
		r.ids = &ids;
		r.opts = o;
		r.cntlid = NVMF_CNTLID_DYNAMIC;
		/* A discovery controller comes back as one: its admin queue alone. */
		r.discovery = strcmp(json_get_string(kept, "kind", "nvm"), "discovery") == 0;
		r.reconnect_name = ctrl_name;
		r.ctl = ctl;
		rc = association_connect(&r, name, sizeof(name), NULL, err, sizeof(err));
	}
	if (rc != 0) {
		/* The lease goes back; the timers and held I/O stay as they were. */
		give_back(ctl, ctrl_name, err);
		errmsg("%s: %s", ctrl_name, err);
		return EXIT_ERROR;
	}
	format_address(r.addr.address, r.addr.port, where, sizeof(where));
	printf("%s: %s to %s at %s\n", name, strcmp(cmd, "reset") == 0 ?
	    "reset, reconnected" : "reconnected", r.subnqn, where);
	return fflush(stdout) == 0 ? 0 : EXIT_ERROR;
}
