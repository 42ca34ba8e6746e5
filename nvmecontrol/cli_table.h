/* SPDX-License-Identifier: BSD-2-Clause
 * Copyright (c) 2026 The nvmf developers */
/*
 * cli_table.h - the one description of nvmecontrol's command line: each
 * command with its summary, operands and options. The parser's getopt_long
 * strings, usage and help, `help --all` (which test_cli_synopsis compares
 * with nvmecontrol.8) and the bash completion are all made from it, so
 * they cannot drift apart.
 */
#ifndef CLI_TABLE_H
#define CLI_TABLE_H

#include <getopt.h>
#include <stdbool.h>
#include <stdio.h>

/* Options without a letter: getopt_long values above any character. */
enum {
	OPT_FAST_IO_FAIL = 256,
	OPT_TIMEOUT,
	OPT_RUNDIR,
	OPT_DEVICE,
};

#define CLI_MAX_NAMES		3	/* long names of one option */
#define CLI_MAX_OPTIONS		32	/* options of one command, common ones included */
#define CLI_MAX_FORMS		2	/* synopsis lines of one command */

/* Option flags. */
#define CLI_OPERAND	0x1	/* shown in the operand forms (-a address), not on its own */
#define CLI_REQUIRED	0x2	/* shown without brackets */
#define CLI_DIR		0x4	/* the value is a directory (completion) */

struct cli_option {
	int val;			/* the short letter, or an OPT_* value */
	const char *names[CLI_MAX_NAMES]; /* long names: ours first, then nvme-cli's */
	const char *value;		/* the value's name in usage; NULL: a flag */
	const char *choices;		/* the values it takes, space separated, or NULL */
	const char *help;
	unsigned flags;
};

struct cli_command {
	const char *name;
	int (*fn)(int argc, char **argv);
	const char *summary;		/* one line of `help` (a second one indented) */
	/*
	 * What follows the options: the first form follows every option, the
	 * others follow "[options]" on a synopsis line of their own.
	 */
	const char *forms[CLI_MAX_FORMS];
	const struct cli_option *options; /* ends with val 0; --rundir and -h are added */
};

extern const struct cli_command cli_commands[];
extern const size_t cli_ncommands;
/* What every command takes besides its own: --rundir, -h/--help. */
extern const struct cli_option cli_common_options[];
/* What nvmecontrol takes before a command. */
extern const struct cli_option cli_global_options[];

const struct cli_command *cli_command_find(const char *name);
/* cmd's option with getopt value val (its own or a common one), or NULL. */
const struct cli_option *cli_option_find(const struct cli_command *cmd, int val);
/* cmd's option called --name (no dashes), or NULL. */
const struct cli_option *cli_option_by_name(const struct cli_command *cmd, const char *name);
/* cmd's options in order, its own then the common ones: NULL starts, NULL ends. */
const struct cli_option *cli_option_next(const struct cli_command *cmd,
    const struct cli_option *o);

/* ------------------------------------------------------------ cli_parse.c */
/* getopt_long's arguments for one command, made from the table. */
struct cli_parser {
	const struct cli_command *cmd;
	struct option longopts[CLI_MAX_OPTIONS * CLI_MAX_NAMES + 1];
	char shortopts[CLI_MAX_OPTIONS * 2 + 2];
};

#define CLI_END		(-1)	/* no more options: operands at optind */
#define CLI_HELP	(-2)	/* -h: help printed, the command exits 0 */
#define CLI_ERROR	(-3)	/* usage error reported, the command exits EXIT_USAGE */

/* Resets getopt for cmd (a name in the table) and remembers argv as given. */
void cli_parse_begin(struct cli_parser *p, const char *cmd, int argc, char **argv);
/*
 * The next option, as getopt_long gives it (optarg set); --rundir is applied
 * here. CLI_END, CLI_HELP or CLI_ERROR otherwise.
 */
int cli_next(struct cli_parser *p, int argc, char **argv);
/* "-i/--nr-io-queues" or "--timeout": how a message names option val of cmd. */
void cli_option_label(const char *cmd, int val, char *buf, size_t len);

/* ---------------------------------------------------------------- usage.c */
/* cmd's synopsis lines, each "nvmecontrol CMD ...", wrapped at width (0: never). */
void cli_print_synopsis(FILE *f, const struct cli_command *cmd, const char *first_prefix,
    int width);
/* cmd's options, one a line with their names and help. */
void cli_print_options(FILE *f, const struct cli_command *cmd);
/* `help --all`: every command's synopsis, one a line, unwrapped. */
void print_all_synopses(void);

/* ----------------------------------------------------------- completion.c */
/* The bash completion script for every command of the table. */
void cli_print_bash_completion(FILE *f);

#endif /* CLI_TABLE_H */
