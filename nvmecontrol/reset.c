/* SPDX-License-Identifier: BSD-2-Clause
 * Copyright (c) 2026 The nvmf developers */
/*
 * reset.c - "reset nvmeX" and "ns-rescan nvmeX", nvme-cli's commands on a
 * controller of nvmf-hostd. A fabrics reset is a new association: hostd
 * drops the current one as a loss does (I/O held) and lends the controller
 * to this command, which reconnects it from the kept parameters.
 */
#include <stdio.h>
#include <string.h>
#include <time.h>

#include <json-c/json.h>

#include "cli_table.h"
#include "nvmecontrol.h"

#define RESET_TIMEOUT_MS	10000

/* "cmd [--rundir dir] nvmeX" into name; 0, -1 after help, or the exit status. */
static int
parse_controller_command(const char *cmd, int argc, char **argv, char *name, size_t len)
{
	struct cli_parser p;
	int ch;

	cli_parse_begin(&p, cmd, argc, argv);
	/* No option of its own: all cli_next returns is the end, help or an error. */
	ch = cli_next(&p, argc, argv);
	if (ch != CLI_END)
		return ch == CLI_HELP ? -1 : EXIT_USAGE;
	if (optind >= argc)
		return usage_error(cmd, "missing controller name (nvmeX)");
	if (optind + 1 < argc)
		return usage_error(cmd, "unexpected argument '%s'", argv[optind + 1]);
	return controller_operand(cmd, argv[optind], name, len);
}

static const char *
controller_state(const char *name)
{
	static char state[32];
	struct json_object *ctrls;
	char err[ERRLEN];

	snprintf(state, sizeof(state), "gone");
	ctrls = control_list(err, sizeof(err));
	for (size_t i = 0; ctrls != NULL && i < json_object_array_length(ctrls); i++) {
		struct json_object *c = json_object_array_get_idx(ctrls, i);

		if (strcmp(json_get_string(c, "name", ""), name) == 0)
			snprintf(state, sizeof(state), "%s", json_get_string(c, "state", "?"));
	}
	json_object_put(ctrls);
	return state;
}

/* Another reconnect took the controller after the reset: wait for its outcome. */
static int
wait_reconnected(const char *name)
{
	struct timespec pause = { 0, 50 * 1000000L };

	for (int waited = 0; waited < RESET_TIMEOUT_MS; waited += 50) {
		const char *state = controller_state(name);

		if (strcmp(state, "connected") == 0) {
			printf("%s: reset, reconnected by another reconnect\n", name);
			return fflush(stdout) == 0 ? 0 : EXIT_ERROR;
		}
		if (strcmp(state, "disconnected") == 0 || strcmp(state, "gone") == 0)
			break;
		nanosleep(&pause, NULL);
	}
	errmsg("%s was reset, but another reconnect of it did not bring it back (%s)", name,
	    controller_state(name));
	return EXIT_ERROR;
}

int
cmd_reset(int argc, char **argv)
{
	struct json_object *req, *reply, *kept;
	struct fabric_opts o;
	struct control *ctl;
	char name[64], err[ERRLEN], code[32];
	int rc = parse_controller_command("reset", argc, argv, name, sizeof(name));

	if (rc != 0)
		return rc < 0 ? 0 : rc;
	ctl = control_open(err, sizeof(err));
	if (ctl == NULL) {
		errmsg("%s", err);
		return EXIT_ERROR;
	}
	req = json_object_new_object();
	json_object_object_add(req, "op", json_object_new_string("reset"));
	json_object_object_add(req, "name", json_object_new_string(name));
	reply = control_call(ctl, req, NULL, 0, RESET_TIMEOUT_MS, code, sizeof(code), err,
	    sizeof(err));
	json_object_put(req);
	if (reply == NULL) {
		control_close(ctl);
		if (strcmp(code, "busy") == 0)
			return wait_reconnected(name);
		errmsg("%s", err);
		return EXIT_ERROR;
	}
	if (!json_object_object_get_ex(reply, "controller", &kept)) {
		/* Already reconnected by the time hostd lent it. */
		json_object_put(reply);
		control_close(ctl);
		printf("%s: reset\n", name);
		return fflush(stdout) == 0 ? 0 : EXIT_ERROR;
	}
	reconnect_opts_init(&o);
	rc = reconnect_leased(ctl, "reset", name, kept, &o, NULL);
	json_object_put(reply);
	control_close(ctl);
	return rc;
}

int
cmd_ns_rescan(int argc, char **argv)
{
	struct json_object *req, *reply, *names;
	struct control *ctl;
	char name[64], err[ERRLEN];
	int rc = parse_controller_command("ns-rescan", argc, argv, name, sizeof(name));

	if (rc != 0)
		return rc < 0 ? 0 : rc;
	ctl = control_open(err, sizeof(err));
	if (ctl == NULL) {
		errmsg("%s", err);
		return EXIT_ERROR;
	}
	req = json_object_new_object();
	json_object_object_add(req, "op", json_object_new_string("rescan"));
	json_object_object_add(req, "name", json_object_new_string(name));
	reply = control_call(ctl, req, NULL, 0, RESET_TIMEOUT_MS * 3, NULL, 0, err, sizeof(err));
	json_object_put(req);
	control_close(ctl);
	if (reply == NULL) {
		errmsg("%s", err);
		return EXIT_ERROR;
	}
	printf("%s: namespaces rescanned", name);
	if (json_object_object_get_ex(reply, "namespaces", &names))
		print_namespace_names(names);
	printf("\n");
	json_object_put(reply);
	return fflush(stdout) == 0 ? 0 : EXIT_ERROR;
}
