/* SPDX-License-Identifier: BSD-2-Clause
 * Copyright (c) 2026 The nvmf developers */
/*
 * hostnqn_cmds.c - "gen-hostnqn" and "show-hostnqn", as nvme-cli's: a new
 * host NQN made by libnvme (to write to /etc/nvme/hostnqn), and the one
 * connect would use.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli_table.h"
#include "nvmecontrol.h"

/* Neither command takes an option of its own, nor an operand. */
static int
no_arguments(const char *cmd, int argc, char **argv, bool *help)
{
	struct cli_parser p;
	int ch;

	cli_parse_begin(&p, cmd, argc, argv);
	ch = cli_next(&p, argc, argv);
	*help = ch == CLI_HELP;
	if (ch == CLI_HELP)
		return 0;
	if (ch != CLI_END)
		return EXIT_USAGE;
	if (optind < argc)
		return usage_error(cmd, "unexpected argument '%s'", argv[optind]);
	return 0;
}

static int
print_nqn(char *nqn, const char *cmd)
{
	if (nqn == NULL) {
		errmsg("%s: libnvme could not make a host NQN", cmd);
		return EXIT_ERROR;
	}
	printf("%s\n", nqn);
	free(nqn);
	return fflush(stdout) == 0 ? 0 : EXIT_ERROR;
}

int
cmd_gen_hostnqn(int argc, char **argv)
{
	bool help;
	int rc = no_arguments("gen-hostnqn", argc, argv, &help);

	if (rc != 0 || help)
		return rc;
	return print_nqn(hostnqn_generate(), "gen-hostnqn");
}

int
cmd_show_hostnqn(int argc, char **argv)
{
	char *nqn;
	bool help;
	int rc = no_arguments("show-hostnqn", argc, argv, &help);

	if (rc != 0 || help)
		return rc;
	/* As nvme-cli: the configured one, else one made now (not saved). */
	nqn = hostnqn_configured();
	if (nqn != NULL && !nqn_valid(nqn)) {
		char path[4096];

		if (nvme_conf_path("hostnqn", path, sizeof(path)) != 0)
			snprintf(path, sizeof(path), "hostnqn");
		errmsg("host NQN '%s' (%s) is not a valid NQN", nqn,
		    getenv("LIBNVME_HOSTNQN") != NULL ? "LIBNVME_HOSTNQN" : path);
		free(nqn);
		return EXIT_ERROR;
	}
	return print_nqn(nqn != NULL ? nqn : hostnqn_generate(), "show-hostnqn");
}
