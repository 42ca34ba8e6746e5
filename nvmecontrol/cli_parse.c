/* SPDX-License-Identifier: BSD-2-Clause
 * Copyright (c) 2026 The nvmf developers */
/*
 * cli_parse.c - getopt_long driven by the command table: the option strings
 * of a command, -h and --rundir, and the usage errors every command reports
 * the same way.
 */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli_table.h"
#include "nvmecontrol.h"

/*
 * argv as given, before getopt_long moved the operands to the end: a
 * surplus operand right after an option that takes no value ("-F 5") is
 * reported as that option's value.
 */
static char **given_argv;
static int given_argc;

static void
remember_argv(int argc, char **argv)
{
	free(given_argv);
	given_argv = malloc(sizeof(*argv) * (size_t)(argc + 1));
	given_argc = given_argv != NULL ? argc : 0;
	if (given_argv != NULL)
		memcpy(given_argv, argv, sizeof(*argv) * (size_t)argc);
}

void
cli_parse_begin(struct cli_parser *p, const char *cmd, int argc, char **argv)
{
	size_t n = 0, sl = 0;

	p->cmd = cli_command_find(cmd);
	p->shortopts[sl++] = ':';	/* report a missing argument as ':' */
	for (const struct cli_option *o = cli_option_next(p->cmd, NULL); o != NULL;
	    o = cli_option_next(p->cmd, o)) {
		for (int i = 0; i < CLI_MAX_NAMES && o->names[i] != NULL; i++) {
			p->longopts[n].name = o->names[i];
			p->longopts[n].has_arg = o->value != NULL ? required_argument :
			    no_argument;
			p->longopts[n].flag = NULL;
			p->longopts[n].val = o->val;
			n++;
		}
		if (o->val < 256) {
			p->shortopts[sl++] = (char)o->val;
			if (o->value != NULL)
				p->shortopts[sl++] = ':';
		}
	}
	p->shortopts[sl] = '\0';
	memset(&p->longopts[n], 0, sizeof(p->longopts[n]));
	remember_argv(argc, argv);
	opterr = 0;
	optind = 0;			/* full reset of GNU getopt */
}

int
cli_next(struct cli_parser *p, int argc, char **argv)
{
	for (;;) {
		int ch = getopt_long(argc, argv, p->shortopts, p->longopts, NULL);

		switch (ch) {
		case -1:
			return CLI_END;
		case OPT_RUNDIR:
			rundir_set(optarg);
			continue;
		case 'h':
			print_usage(p->cmd->name, false);
			return CLI_HELP;
		case '?':
		case ':':
			getopt_error(p->cmd->name, ch, argv);
			return CLI_ERROR;
		default:
			return ch;
		}
	}
}

int
getopt_error(const char *cmd, int ch, char **argv)
{
	const char *arg = optind > 0 ? argv[optind - 1] : "?";

	if (ch == ':') {
		if (optopt > 0 && optopt < 256 && arg[0] == '-' && arg[1] != '-')
			return usage_error(cmd, "option -%c needs an argument", optopt);
		return usage_error(cmd, "option %s needs an argument", arg);
	}
	/* GNU getopt sets optopt for a known long option given a value it does not take. */
	if (strncmp(arg, "--", 2) == 0 && optopt != 0 && strchr(arg, '=') != NULL)
		return usage_error(cmd, "option %.*s takes no value", (int)strcspn(arg, "="),
		    arg);
	if (strncmp(arg, "--", 2) == 0)
		return usage_error(cmd, "unknown option %s", arg);
	if (optopt > 0 && optopt < 256)
		return usage_error(cmd, "unknown option -%c", optopt);
	return usage_error(cmd, "unknown option %s", arg);
}

bool
option_takes_no_value(const char *cmd, int letter)
{
	const struct cli_option *o = cli_option_find(cli_command_find(cmd), letter);

	return o != NULL && o->value == NULL;
}

/* The option just before argv[i] as given, when it takes no value: its name, else NULL. */
static const char *
flag_before(const char *cmd, int i, char *buf, size_t len)
{
	const char *prev = given_argv[i - 1];
	size_t j = 1;

	if (i < 2 || prev[0] != '-' || prev[1] == '\0' || strcmp(prev, "--") == 0)
		return NULL;
	if (prev[1] == '-') {
		/* A long option's operand would be joined by '=' or be a value it takes. */
		const struct cli_option *o = cli_option_by_name(cli_command_find(cmd), prev + 2);

		return o != NULL && o->value == NULL ? prev : NULL;
	}
	/* "-F", "-gF": walk the cluster; a letter that takes a value ends it. */
	while (prev[j + 1] != '\0' && option_takes_no_value(cmd, prev[j]))
		j++;
	if (prev[j + 1] != '\0' || !option_takes_no_value(cmd, prev[j]))
		return NULL;
	snprintf(buf, len, "-%c", prev[j]);
	return buf;
}

int
unexpected_argument(const char *cmd, const char *surplus)
{
	char buf[8];

	/* An operand right after a flag is what the user meant as the flag's value. */
	for (int i = 2; i < given_argc; i++) {
		const char *flag;

		if (given_argv[i][0] == '-' && given_argv[i][1] != '\0')
			continue;
		if (strcmp(given_argv[i - 1], "--") == 0)
			break;
		flag = flag_before(cmd, i, buf, sizeof(buf));
		if (flag != NULL)
			return usage_error(cmd, "option %s takes no value (got '%s')", flag,
			    given_argv[i]);
	}
	return usage_error(cmd, "unexpected argument '%s'", surplus);
}

void
cli_option_label(const char *cmd, int val, char *buf, size_t len)
{
	const struct cli_option *o = cli_option_find(cli_command_find(cmd), val);

	if (o == NULL)
		snprintf(buf, len, "-%c", val);
	else if (val < 256)
		snprintf(buf, len, "-%c/--%s", val, o->names[0]);
	else
		snprintf(buf, len, "--%s", o->names[0]);
}
