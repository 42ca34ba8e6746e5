/* SPDX-License-Identifier: BSD-2-Clause
 * Copyright (c) 2026 The nvmf developers */
/*
 * devlist.c - "nvmecontrol devlist": the controllers nvmf-hostd holds and
 * their namespaces, as FreeBSD's nvmecontrol lists them, or as JSON.
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <json-c/json.h>

#include "cli_table.h"
#include "nvmecontrol.h"


/* Namespaces in NSID order, whatever order nvmf-hostd keeps them in. */
static int
cmp_nsid(const void *a, const void *b)
{
	int64_t x = json_get_int(*(struct json_object *const *)a, "nsid", 0);
	int64_t y = json_get_int(*(struct json_object *const *)b, "nsid", 0);

	return x < y ? -1 : x > y;
}

static void
print_controller(struct json_object *c)
{
	struct json_object *nss;
	const char *state = json_get_string(c, "state", "connected");
	char where[320];

	format_address(json_get_string(c, "traddr", "?"), json_get_string(c, "trsvcid", "?"),
	    where, sizeof(where));
	printf("%6s: %s (Controller %" PRId64 " via %s %s", json_get_string(c, "name", "?"),
	    json_get_string(c, "model", ""), json_get_int(c, "cntlid", 0),
	    strcmp(json_get_string(c, "transport", "tcp"), "tcp") == 0 ? "TCP" :
	    json_get_string(c, "transport", "?"), where);
	/* Kept by connect-all --persistent: no namespaces, by design. */
	printf("%s)\n", strcmp(json_get_string(c, "kind", "nvm"), "discovery") == 0 ?
	    ", discovery" : "");
	if (strcmp(state, "disconnected") == 0 || strcmp(state, "reconnecting") == 0) {
		/* How the loss stands: since when, tries, what comes next. */
		printf("        %s for %.1f s (%s), %" PRId64 " attempt%s, %" PRId64
		    " held I/O%s", state, json_get_int(c, "disconnected_ms", 0) / 1000.0,
		    json_get_string(c, "reason", "lost"), json_get_int(c, "reconnect_attempts", 0),
		    json_get_int(c, "reconnect_attempts", 0) == 1 ? "" : "s",
		    json_get_int(c, "held_io", 0),
		    json_object_get_boolean(json_object_object_get(c, "io_failing")) ?
		    ", I/O failing" : "");
		if (json_object_object_get(c, "next_event_ms") != NULL)
			printf(", next event in %.1f s",
			    json_get_int(c, "next_event_ms", 0) / 1000.0);
		if (json_object_object_get(c, "detach_in_ms") != NULL)
			printf(", detach in %.1f s", json_get_int(c, "detach_in_ms", 0) / 1000.0);
		printf("\n");
	} else if (strcmp(state, "connected") != 0) {
		printf("        %s\n", state);
	}
	if (!json_object_object_get_ex(c, "namespaces", &nss) ||
	    !json_object_is_type(nss, json_type_array))
		return;
	for (size_t i = 0; i < json_object_array_length(nss); i++) {
		struct json_object *ns = json_object_array_get_idx(nss, i);

		printf("  %10s (%" PRId64 "MB)\n", json_get_string(ns, "name", "?"),
		    json_get_int(ns, "size", 0) / 1024 / 1024);
	}
}

int
cmd_devlist(int argc, char **argv)
{
	enum output_format fmt = OUTPUT_NORMAL;
	struct json_object *ctrls;
	char err[ERRLEN];
	size_t n;
	struct cli_parser p;
	int ch;

	cli_parse_begin(&p, "devlist", argc, argv);
	while ((ch = cli_next(&p, argc, argv)) >= 0) {
		switch (ch) {
		case 'o':
			if (parse_output_format(optarg, &fmt) != 0)
				return usage_error("devlist", "invalid output format '%s' "
				    "(normal or json)", optarg);
			break;
		}
	}
	if (ch != CLI_END)
		return ch == CLI_HELP ? 0 : EXIT_USAGE;
	if (optind < argc)
		return usage_error("devlist", "unexpected argument '%s'", argv[optind]);

	ctrls = control_list(err, sizeof(err));
	if (ctrls == NULL) {
		errmsg("%s", err);
		return EXIT_ERROR;
	}
	n = json_object_array_length(ctrls);
	for (size_t i = 0; i < n; i++) {
		struct json_object *nss;

		if (json_object_object_get_ex(json_object_array_get_idx(ctrls, i), "namespaces",
		    &nss) && json_object_is_type(nss, json_type_array))
			json_object_array_sort(nss, cmp_nsid);
	}
	if (fmt == OUTPUT_JSON) {
		struct json_object *out = json_object_new_object();

		json_object_object_add(out, "controllers", json_object_get(ctrls));
		print_json(out);
		json_object_put(out);
	} else if (n == 0) {
		/* As FreeBSD's nvmecontrol: said on stdout, and a failing status. */
		printf("No NVMe controllers found.\n");
	} else {
		for (size_t i = 0; i < n; i++)
			print_controller(json_object_array_get_idx(ctrls, i));
	}
	json_object_put(ctrls);
	if (fflush(stdout) != 0)
		return EXIT_ERROR;
	return n == 0 && fmt != OUTPUT_JSON ? EXIT_ERROR : 0;
}
