/* SPDX-License-Identifier: BSD-2-Clause
 * Copyright (c) 2026 The nvmf developers */
/*
 * main.c - nvmecontrol: dispatch to the fabrics commands, usage.
 */
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli_table.h"
#include "fdlimit.h"
#include "nvmecontrol.h"
#include "nvme_glue.h"

#ifndef NVMF_VERSION
#define NVMF_VERSION "0.1"
#endif

/* As nvme-cli's "version": ours, then the libnvme we run with. */
static int
main_version(void)
{
	printf("%s version %s (nvmf)\nlibnvme version %s\n", progname, NVMF_VERSION,
	    glue_libnvme_version());
	return fflush(stdout) == 0 ? 0 : EXIT_ERROR;
}

int
main(int argc, char **argv)
{
	const struct cli_command *c;
	int i = 1;

	/* A target or nvmf-hostd going away mid-write is an error, not a kill. */
	signal(SIGPIPE, SIG_IGN);
	/* connect-all may dial many subsystems; descriptors are cheap to allow. */
	(void)fdlimit_raise();

	/* Options before the command: --rundir, help. */
	while (i < argc && argv[i][0] == '-') {
		if (strcmp(argv[i], "--rundir") == 0) {
			if (i + 1 >= argc)
				return usage_error(NULL, "option --rundir needs an argument");
			rundir_set(argv[i + 1]);
			i += 2;
		} else if (strncmp(argv[i], "--rundir=", 9) == 0) {
			rundir_set(argv[i] + 9);
			i++;
		} else if (strcmp(argv[i], "--version") == 0 || strcmp(argv[i], "-V") == 0) {
			/* As nvme-cli's: ours, then the libnvme we run with. */
			printf("%s version %s (nvmf)\nlibnvme version %s\n", progname, NVMF_VERSION,
			    glue_libnvme_version());
			return fflush(stdout) == 0 ? 0 : EXIT_ERROR;
		} else if (strcmp(argv[i], "-h") == 0 || strcmp(argv[i], "--help") == 0) {
			print_usage(NULL, false);
			return 0;
		} else {
			return usage_error(NULL, "unknown option %s", argv[i]);
		}
	}
	if (i >= argc)
		return usage_error(NULL, "no command given");
	if (strcmp(argv[i], "version") == 0)
		return main_version();
	if (strcmp(argv[i], "help") == 0) {
		if (i + 1 < argc && strcmp(argv[i + 1], "--all") == 0) {
			print_all_synopses();
			return fflush(stdout) == 0 ? 0 : EXIT_ERROR;
		}
		if (i + 1 < argc && cli_command_find(argv[i + 1]) != NULL)
			print_usage(argv[i + 1], false);
		else
			print_usage(NULL, false);
		return 0;
	}
	/* Hidden: what make writes to build/completion/nvmecontrol. */
	if (strcmp(argv[i], "__bash-completion") == 0) {
		cli_print_bash_completion(stdout);
		return fflush(stdout) == 0 ? 0 : EXIT_ERROR;
	}
	c = cli_command_find(argv[i]);
	if (c == NULL)
		return usage_error(NULL, "unknown command %s", argv[i]);
	/* The command sees itself as argv[0]. */
	return c->fn(argc - i, argv + i);
}
