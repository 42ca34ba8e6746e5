/* SPDX-License-Identifier: BSD-2-Clause
 * Copyright (c) 2026 The nvmf developers */
/*
 * disconnect.c - "nvmecontrol disconnect nvmeX|nvmeXnsY|SubNQN" and
 * "nvmecontrol disconnect-all": nvmf-hostd shuts the controllers down
 * (CC.SHN), closes their queues and removes their namespaces.
 */
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <json-c/json.h>

#include "cli_table.h"
#include "nvmecontrol.h"

#define DISCONNECT_TIMEOUT_MS	120000	/* waits for I/O in flight */

/* nvmeX or nvmeXnsY: 0 and the parts, or -1. */
static int
parse_devname(const char *s, unsigned *ctrl, unsigned *nsid, bool *has_ns)
{
	const char *p = s;
	unsigned long v;
	char *end;

	if (strncmp(p, "nvme", 4) != 0 || !isdigit((unsigned char)p[4]))
		return -1;
	v = strtoul(p + 4, &end, 10);
	if (v > 0xffff)
		return -1;
	*ctrl = (unsigned)v;
	*has_ns = false;
	if (*end == '\0')
		return 0;
	if (strncmp(end, "ns", 2) != 0 || !isdigit((unsigned char)end[2]))
		return -1;
	v = strtoul(end + 2, &end, 10);
	if (*end != '\0' || v == 0 || v > 0xfffffffful)
		return -1;
	*nsid = (unsigned)v;
	*has_ns = true;
	return 0;
}

static void
print_disconnected(struct json_object *reply)
{
	struct json_object *list;

	if (!json_object_object_get_ex(reply, "disconnected", &list) ||
	    !json_object_is_type(list, json_type_array))
		return;
	for (size_t i = 0; i < json_object_array_length(list); i++)
		printf("%s: disconnected\n",
		    json_object_get_string(json_object_array_get_idx(list, i)));
}

static int
run(const char *cmd, struct json_object *req, bool verbose)
{
	struct json_object *reply;
	struct control *c;
	char err[ERRLEN];

	c = control_open(err, sizeof(err));
	if (c == NULL) {
		errmsg("%s", err);
		json_object_put(req);
		return EXIT_ERROR;
	}
	reply = control_call(c, req, NULL, 0, DISCONNECT_TIMEOUT_MS, NULL, 0, err,
	    sizeof(err));
	control_close(c);
	json_object_put(req);
	if (reply == NULL) {
		errmsg("%s: %s", cmd, err);
		return EXIT_ERROR;
	}
	if (verbose)
		print_disconnected(reply);
	json_object_put(reply);
	return fflush(stdout) == 0 ? 0 : EXIT_ERROR;
}

int
cmd_disconnect(int argc, char **argv)
{
	struct json_object *req;
	const char *target = NULL;
	unsigned ctrl, nsid;
	bool has_ns, verbose = false;
	struct cli_parser p;
	int ch;

	cli_parse_begin(&p, "disconnect", argc, argv);
	while ((ch = cli_next(&p, argc, argv)) >= 0) {
		switch (ch) {
		case 'n':
		case 'd':
			if (target != NULL)
				return usage_error("disconnect", "more than one controller given");
			target = optarg;
			break;
		case 'v':
			verbose = true;
			break;
		}
	}
	if (ch != CLI_END)
		return ch == CLI_HELP ? 0 : EXIT_USAGE;
	if (target == NULL) {
		if (optind >= argc)
			return usage_error("disconnect", "missing controller or SubNQN");
		target = argv[optind++];
	}
	if (optind < argc)
		return usage_error("disconnect", "unexpected argument '%s'", argv[optind]);
	if (parse_devname(target, &ctrl, &nsid, &has_ns) != 0 && !nqn_valid(target))
		return usage_error("disconnect", "invalid target '%s' (nvmeX, nvmeXnsY or a "
		    "SubNQN)", target);

	req = json_object_new_object();
	json_object_object_add(req, "op", json_object_new_string("disconnect"));
	json_object_object_add(req, "target", json_object_new_string(target));
	return run("disconnect", req, verbose);
}

int
cmd_disconnect_all(int argc, char **argv)
{
	struct json_object *req;
	bool verbose = false;
	struct cli_parser p;
	int ch;

	cli_parse_begin(&p, "disconnect-all", argc, argv);
	while ((ch = cli_next(&p, argc, argv)) >= 0) {
		switch (ch) {
		case 'v':
			verbose = true;
			break;
		}
	}
	if (ch != CLI_END)
		return ch == CLI_HELP ? 0 : EXIT_USAGE;
	if (optind < argc)
		return usage_error("disconnect-all", "unexpected argument '%s'", argv[optind]);
	req = json_object_new_object();
	json_object_object_add(req, "op", json_object_new_string("disconnect-all"));
	return run("disconnect-all", req, verbose);
}
