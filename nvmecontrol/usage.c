/* SPDX-License-Identifier: BSD-2-Clause
 * Copyright (c) 2026 The nvmf developers */
/*
 * usage.c - usage lines, help and `help --all`, all made from the command
 * table: a command's synopsis is its flags as one cluster, its options with
 * a value, its long-only options, then its operands.
 */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "cli_table.h"
#include "nvmecontrol.h"

#define USAGE_WIDTH	96	/* as the hand-written lines were: a usage error fits 5 lines */
#define USAGE_INDENT	"                   "	/* under the command, past "usage: nvmecontrol " */

/* Writes words of a synopsis, breaking lines before width (0: one line). */
struct line {
	FILE *f;
	int col, width;
};

static void
put_word(struct line *l, const char *word, size_t len)
{
	if (l->width > 0 && l->col + 1 + (int)len > l->width &&
	    l->col > (int)sizeof(USAGE_INDENT) - 1) {
		l->col = fprintf(l->f, "\n%s", USAGE_INDENT) - 1;
	} else {
		fputc(' ', l->f);
		l->col++;
	}
	l->col += fprintf(l->f, "%.*s", (int)len, word);
}

/* Operand text word by word, so that a long one wraps. */
static void
put_words(struct line *l, const char *text)
{
	while (*text != '\0') {
		size_t n;

		text += strspn(text, " ");
		n = strcspn(text, " ");
		if (n > 0)
			put_word(l, text, n);
		text += n;
	}
}

static void
put_option(struct line *l, const struct cli_option *o)
{
	char buf[128];
	const char *open = o->flags & CLI_REQUIRED ? "" : "[";
	const char *close = o->flags & CLI_REQUIRED ? "" : "]";

	if (o->val < 256)
		snprintf(buf, sizeof(buf), "%s-%c %s%s", open, o->val, o->value, close);
	else if (o->value != NULL)
		snprintf(buf, sizeof(buf), "%s--%s %s%s", open, o->names[0], o->value, close);
	else
		snprintf(buf, sizeof(buf), "%s--%s%s", open, o->names[0], close);
	put_word(l, buf, strlen(buf));
}

static bool
shown_alone(const struct cli_option *o)
{
	return !(o->flags & CLI_OPERAND);
}

void
cli_print_synopsis(FILE *f, const struct cli_command *cmd, const char *first_prefix,
    int width)
{
	struct line l = { f, 0, width };
	char cluster[CLI_MAX_OPTIONS + 4] = "[-";
	size_t cl = 2;
	const struct cli_option *o;

	l.col = fprintf(f, "%snvmecontrol %s", first_prefix, cmd->name);
	for (o = cmd->options; o->val != 0; o++)
		if (shown_alone(o) && o->val < 256 && o->value == NULL)
			cluster[cl++] = (char)o->val;
	if (cl > 2) {
		cluster[cl++] = ']';
		put_word(&l, cluster, cl);
	}
	for (o = cmd->options; o->val != 0; o++)
		if (shown_alone(o) && o->val < 256 && o->value != NULL)
			put_option(&l, o);
	for (o = cmd->options; o->val != 0; o++)
		if (shown_alone(o) && o->val >= 256)
			put_option(&l, o);
	put_words(&l, cmd->forms[0]);
	fputc('\n', f);
	for (int i = 1; i < CLI_MAX_FORMS && cmd->forms[i] != NULL; i++) {
		l.col = fprintf(f, "%*snvmecontrol %s [options]", (int)strlen(first_prefix), "",
		    cmd->name);
		put_words(&l, cmd->forms[i]);
		fputc('\n', f);
	}
}

void
cli_print_options(FILE *f, const struct cli_command *cmd)
{
	fprintf(f, "\noptions:\n");
	for (const struct cli_option *o = cli_option_next(cmd, NULL); o != NULL;
	    o = cli_option_next(cmd, o)) {
		char names[128];
		int n = 0;

		if (o->val < 256)
			n = snprintf(names, sizeof(names), "-%c, ", o->val);
		else
			n = snprintf(names, sizeof(names), "    ");
		for (int i = 0; i < CLI_MAX_NAMES && o->names[i] != NULL; i++)
			n += snprintf(names + n, sizeof(names) - (size_t)n, "%s--%s",
			    i > 0 ? ", " : "", o->names[i]);
		if (o->value != NULL)
			snprintf(names + n, sizeof(names) - (size_t)n, " %s", o->value);
		/* Names too long for the column get the help on a line of their own. */
		if (strlen(names) > 36)
			fprintf(f, "  %s\n  %-36s %s\n", names, "", o->help);
		else
			fprintf(f, "  %-36s %s\n", names, o->help);
	}
}

void
print_usage(const char *cmd, bool to_stderr)
{
	FILE *f = to_stderr ? stderr : stdout;
	const struct cli_command *c = cmd != NULL ? cli_command_find(cmd) : NULL;

	if (c != NULL) {
		cli_print_synopsis(f, c, "usage: ", USAGE_WIDTH);
		if (!to_stderr)
			cli_print_options(f, c);
		return;
	}
	fprintf(f, "usage: %s [--rundir dir] command [options] [arguments]\n"
	    "       %s --version\n", progname, progname);
	if (to_stderr)
		return;
	fprintf(f, "\ncommands:\n");
	for (size_t i = 0; i < cli_ncommands; i++)
		fprintf(f, "  %-15s %s\n", cli_commands[i].name, cli_commands[i].summary);
	fprintf(f, "\n'%s command -h' shows a command's options; '%s help --all' every "
	    "command's synopsis.\n", progname, progname);
}

void
print_all_synopses(void)
{
	for (size_t i = 0; i < cli_ncommands; i++)
		cli_print_synopsis(stdout, &cli_commands[i], "", 0);
}

int
usage_error(const char *cmd, const char *fmt, ...)
{
	if (fmt != NULL) {
		char buf[1024];
		va_list ap;

		va_start(ap, fmt);
		vsnprintf(buf, sizeof(buf), fmt, ap);
		va_end(ap);
		errmsg("%s", buf);
	}
	print_usage(cmd, true);
	return EXIT_USAGE;
}
