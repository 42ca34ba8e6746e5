/* SPDX-License-Identifier: BSD-2-Clause
 * Copyright (c) 2026 The nvmf developers */
/*
 * connect.c - "nvmecontrol connect address:port SubNQN": build an
 * association with one NVM subsystem and hand it to nvmf-hostd.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <json-c/json.h>

#include "nvmecontrol.h"

int
connect_entry(int argc, char **argv, bool skip_existing)
{
	struct json_object *ctrls, *namespaces = NULL;
	struct assoc_request r;
	struct fabric_opts o;
	struct host_ids ids;
	char err[ERRLEN], name[64], where[300];
	int first, rc;

	fabric_opts_init(&o);
	rc = fabric_opts_parse("connect", argc, argv, &o, &first);
	if (rc != 0)
		return rc < 0 ? 0 : rc;
	if (o.address == NULL) {
		if (first >= argc)
			return usage_error("connect", "missing address:port and SubNQN");
		o.address = argv[first++];
	}
	if (o.subnqn == NULL) {
		if (first >= argc)
			return usage_error("connect", "missing SubNQN");
		o.subnqn = argv[first++];
	}
	if (first < argc)
		return unexpected_argument("connect", argv[first]);

	memset(&r, 0, sizeof(r));
	if (parse_address(o.address, o.trsvcid, &r.addr, err, sizeof(err)) != 0)
		return usage_error("connect", "%s", err);
	if (o.trsvcid != NULL && r.addr.port_given)
		return usage_error("connect", "port given twice (--trsvcid and address)");
	if (!nqn_valid(o.subnqn))
		return usage_error("connect", "invalid SubNQN '%s'", o.subnqn);
	if (strcmp(o.subnqn, NVMF_DISCOVERY_NQN) == 0)
		return usage_error("connect", "%s is the discovery service (use discover or "
		    "connect-all)", o.subnqn);
	if (host_ids_get(o.hostnqn, o.hostid, &ids, err, sizeof(err)) != 0) {
		errmsg("%s", err);
		return EXIT_ERROR;
	}

	/* No nvmf-hostd, no point in dialing: fail before touching the target. */
	if (o.duplicate_connect) {
		/*
		 * Nothing to compare with: that hostd listens is enough, and a
		 * thousand connects do not each fetch the list of the others.
		 */
		struct control *ctl = control_open(err, sizeof(err));

		if (ctl == NULL) {
			errmsg("%s", err);
			return EXIT_ERROR;
		}
		control_close(ctl);
	} else {
		const char *dup;

		/* As nvme-cli: the same association twice only when asked for. */
		ctrls = control_list_subsystem(o.subnqn, err, sizeof(err));
		if (ctrls == NULL) {
			errmsg("%s", err);
			return EXIT_ERROR;
		}
		dup = existing_controller(ctrls, o.subnqn, r.addr.address, r.addr.port,
		    ids.hostnqn);
		if (dup != NULL && skip_existing) {
			if (o.verbose) {
				format_address(r.addr.address, r.addr.port, where, sizeof(where));
				printf("%s: already connected to %s at %s\n", dup, o.subnqn, where);
			}
			json_object_put(ctrls);
			return 0;
		}
		if (dup != NULL) {
			format_address(r.addr.address, r.addr.port, where, sizeof(where));
			errmsg("%s is already connected to %s at %s (-D/--duplicate-connect "
			    "connects again)", dup, o.subnqn, where);
			json_object_put(ctrls);
			return EXIT_ERROR;
		}
		json_object_put(ctrls);
	}

	r.subnqn = o.subnqn;
	r.ids = &ids;
	r.opts = &o;
	r.cntlid = o.cntlid;
	if (association_connect(&r, name, sizeof(name), &namespaces, err, sizeof(err)) != 0) {
		errmsg("%s", err);
		return EXIT_ERROR;
	}
	format_address(r.addr.address, r.addr.port, where, sizeof(where));
	printf("%s: connected to %s at %s", name, o.subnqn, where);
	print_namespace_names(namespaces);
	printf("\n");
	json_object_put(namespaces);
	return fflush(stdout) == 0 ? 0 : EXIT_ERROR;
}

int
cmd_connect(int argc, char **argv)
{
	return connect_entry(argc, argv, false);
}
