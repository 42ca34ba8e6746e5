/* SPDX-License-Identifier: BSD-2-Clause
 * Copyright (c) 2026 The nvmf developers */
/*
 * list_subsys.c - "list-subsys [-o json]": nvmf-hostd's controllers grouped
 * by host NQN and subsystem in nvme-cli's shape, so that scripts written
 * for "nvme list-subsys -o json" read it: an array of hosts (HostNQN,
 * HostID, Subsystems), each subsystem (Name, NQN, Paths), each path a
 * controller (Name, Transport, Address, State) with the kernel's states.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <json-c/json.h>

#include "cli_table.h"
#include "nvmecontrol.h"


/* nvmf-hostd's states as the kernel names a fabrics controller's. */
static const char *
kernel_state(const char *state)
{
	if (strcmp(state, "connected") == 0)
		return "live";
	if (strcmp(state, "disconnected") == 0 || strcmp(state, "reconnecting") == 0)
		return "connecting";
	if (strcmp(state, "detached") == 0)
		return "dead";
	return state;	/* "deleting" is the kernel's word too */
}

/* The element of arr whose key is value, or NULL. */
static struct json_object *
find_by(struct json_object *arr, const char *key, const char *value)
{
	for (size_t i = 0; i < json_object_array_length(arr); i++) {
		struct json_object *o = json_object_array_get_idx(arr, i);

		if (strcmp(json_get_string(o, key, ""), value) == 0)
			return o;
	}
	return NULL;
}

static struct json_object *
subsystems_json(struct json_object *ctrls)
{
	struct json_object *hosts = json_object_new_array(), *nqns = json_object_new_array();

	for (size_t i = 0; i < json_object_array_length(ctrls); i++) {
		struct json_object *c = json_object_array_get_idx(ctrls, i);
		const char *hostnqn = json_get_string(c, "hostnqn", "");
		const char *subnqn = json_get_string(c, "subnqn", "");
		struct json_object *host, *subs, *sub, *paths, *path;
		char addr[400];
		size_t k;

		host = find_by(hosts, "HostNQN", hostnqn);
		if (host == NULL) {
			host = json_object_new_object();
			json_object_object_add(host, "HostNQN", json_object_new_string(hostnqn));
			if (json_get_string(c, "hostid", NULL) != NULL)
				json_object_object_add(host, "HostID",
				    json_object_new_string(json_get_string(c, "hostid", "")));
			json_object_object_add(host, "Subsystems", json_object_new_array());
			json_object_array_add(hosts, host);
		}
		json_object_object_get_ex(host, "Subsystems", &subs);
		sub = find_by(subs, "NQN", subnqn);
		if (sub == NULL) {
			char sname[32];

			/* One number per subsystem NQN, whichever host reaches it. */
			for (k = 0; k < json_object_array_length(nqns); k++)
				if (strcmp(json_object_get_string(json_object_array_get_idx(nqns,
				    k)), subnqn) == 0)
					break;
			if (k == json_object_array_length(nqns))
				json_object_array_add(nqns, json_object_new_string(subnqn));
			snprintf(sname, sizeof(sname), "nvme-subsys%zu", k);
			sub = json_object_new_object();
			json_object_object_add(sub, "Name", json_object_new_string(sname));
			json_object_object_add(sub, "NQN", json_object_new_string(subnqn));
			json_object_object_add(sub, "Paths", json_object_new_array());
			json_object_array_add(subs, sub);
		}
		json_object_object_get_ex(sub, "Paths", &paths);
		/* The kernel's address attribute: traddr=...,trsvcid=... */
		snprintf(addr, sizeof(addr), "traddr=%s,trsvcid=%s",
		    json_get_string(c, "traddr", ""), json_get_string(c, "trsvcid", ""));
		path = json_object_new_object();
		json_object_object_add(path, "Name",
		    json_object_new_string(json_get_string(c, "name", "")));
		json_object_object_add(path, "Transport",
		    json_object_new_string(json_get_string(c, "transport", "tcp")));
		json_object_object_add(path, "Address", json_object_new_string(addr));
		json_object_object_add(path, "State", json_object_new_string(
		    kernel_state(json_get_string(c, "state", "connected"))));
		json_object_array_add(paths, path);
	}
	json_object_put(nqns);
	return hosts;
}

static void
print_text(struct json_object *hosts)
{
	for (size_t h = 0; h < json_object_array_length(hosts); h++) {
		struct json_object *subs;

		json_object_object_get_ex(json_object_array_get_idx(hosts, h), "Subsystems",
		    &subs);
		for (size_t s = 0; s < json_object_array_length(subs); s++) {
			struct json_object *sub = json_object_array_get_idx(subs, s), *paths;

			printf("%s - NQN=%s\n\\\n", json_get_string(sub, "Name", ""),
			    json_get_string(sub, "NQN", ""));
			json_object_object_get_ex(sub, "Paths", &paths);
			for (size_t p = 0; p < json_object_array_length(paths); p++) {
				struct json_object *path = json_object_array_get_idx(paths, p);

				printf(" +- %s %s %s %s\n", json_get_string(path, "Name", ""),
				    json_get_string(path, "Transport", ""),
				    json_get_string(path, "Address", ""),
				    json_get_string(path, "State", ""));
			}
		}
	}
}

int
cmd_list_subsys(int argc, char **argv)
{
	enum output_format fmt = OUTPUT_NORMAL;
	struct json_object *ctrls, *hosts;
	char err[ERRLEN];
	struct cli_parser p;
	int ch;

	cli_parse_begin(&p, "list-subsys", argc, argv);
	while ((ch = cli_next(&p, argc, argv)) >= 0) {
		switch (ch) {
		case 'o':
			if (parse_output_format(optarg, &fmt) != 0)
				return usage_error("list-subsys", "invalid output format '%s' "
				    "(normal or json)", optarg);
			break;
		}
	}
	if (ch != CLI_END)
		return ch == CLI_HELP ? 0 : EXIT_USAGE;
	if (optind < argc)
		return usage_error("list-subsys", "unexpected argument '%s'", argv[optind]);
	ctrls = control_list(err, sizeof(err));
	if (ctrls == NULL) {
		errmsg("%s", err);
		return EXIT_ERROR;
	}
	hosts = subsystems_json(ctrls);
	if (fmt == OUTPUT_JSON)
		print_json(hosts);
	else
		print_text(hosts);
	json_object_put(hosts);
	json_object_put(ctrls);
	return fflush(stdout) == 0 ? 0 : EXIT_ERROR;
}
