/* SPDX-License-Identifier: BSD-2-Clause
 * Copyright (c) 2026 The nvmf developers */
/*
 * completion.c - the bash completion script, written from the command
 * table (make runs `nvmecontrol __bash-completion` once, at build time, so
 * the script needs no nvmecontrol to run). Plain bash: it does not need the
 * bash-completion package's helpers.
 */
#include <stdio.h>
#include <string.h>

#include "cli_table.h"

/* Every spelling of the options in list: -x and --name for each. */
static void
print_spellings(FILE *f, const struct cli_command *cmd, const struct cli_option *global,
    bool with_value)
{
	const char *sep = "";

	for (const struct cli_option *o = cmd != NULL ? cli_option_next(cmd, NULL) : global;
	    o != NULL && o->val != 0; o = cmd != NULL ? cli_option_next(cmd, o) : o + 1) {
		if ((o->value != NULL) != with_value)
			continue;
		if (o->val < 256) {
			fprintf(f, "%s-%c", sep, o->val);
			sep = " ";
		}
		for (int i = 0; i < CLI_MAX_NAMES && o->names[i] != NULL; i++) {
			fprintf(f, "%s--%s", sep, o->names[i]);
			sep = " ";
		}
	}
}

/* case arms: an option's spellings) what its value completes to. */
static void
print_value_arms(FILE *f, const struct cli_command *cmd, const struct cli_option *global)
{
	for (const struct cli_option *o = cmd != NULL ? cli_option_next(cmd, NULL) : global;
	    o != NULL && o->val != 0; o = cmd != NULL ? cli_option_next(cmd, o) : o + 1) {
		if (o->value == NULL || (o->choices == NULL && !(o->flags & CLI_DIR)))
			continue;
		fprintf(f, "\t\t\t");
		if (o->val < 256)
			fprintf(f, "-%c|", o->val);
		for (int i = 0; i < CLI_MAX_NAMES && o->names[i] != NULL; i++)
			fprintf(f, "%s--%s", i > 0 ? "|" : "", o->names[i]);
		if (o->flags & CLI_DIR)
			fprintf(f, ") COMPREPLY=($(compgen -d -- \"$cur\")); return ;;\n");
		else
			fprintf(f, ") COMPREPLY=($(compgen -W '%s' -- \"$cur\")); return ;;\n",
			    o->choices);
	}
}

void
cli_print_bash_completion(FILE *f)
{
	fprintf(f, "# bash completion for nvmecontrol(8), generated from its command table\n"
	    "# by `nvmecontrol __bash-completion`: do not edit.\n\n");
	/* Per command: the flags, the options taking a value, and value completions. */
	fprintf(f, "_nvmecontrol_command()\n{\n\tlocal cmd=$1 cur=$2 prev=$3\n"
	    "\tlocal flags valued\n\tcase $cmd in\n");
	for (size_t i = 0; i < cli_ncommands; i++) {
		const struct cli_command *c = &cli_commands[i];

		fprintf(f, "\t%s)\n\t\tflags='", c->name);
		print_spellings(f, c, NULL, false);
		fprintf(f, "'\n\t\tvalued='");
		print_spellings(f, c, NULL, true);
		fprintf(f, "'\n\t\tcase $prev in\n");
		print_value_arms(f, c, NULL);
		fprintf(f, "\t\tesac ;;\n");
	}
	fprintf(f, "\t'')\n\t\tflags='");
	print_spellings(f, NULL, cli_global_options, false);
	fprintf(f, "'\n\t\tvalued='");
	print_spellings(f, NULL, cli_global_options, true);
	fprintf(f, "'\n\t\tcase $prev in\n");
	print_value_arms(f, NULL, cli_global_options);
	fprintf(f, "\t\tesac ;;\n\t*) return ;;\n\tesac\n"
	    "\t# After an option that takes a value, the value: nothing to offer.\n"
	    "\tif [[ -n $prev && \" $valued \" == *\" $prev \"* ]]; then\n"
	    "\t\treturn\n\tfi\n"
	    "\tif [[ $cur == -* || -z $cmd ]]; then\n"
	    "\t\tCOMPREPLY=($(compgen -W \"$flags $valued\" -- \"$cur\"))\n\tfi\n}\n\n");

	fprintf(f, "_nvmecontrol()\n{\n"
	    "\tlocal cur=${COMP_WORDS[COMP_CWORD]} prev= cmd= i w\n"
	    "\tCOMPREPLY=()\n"
	    "\t# --name=value: bash splits at '=', so the option is two words back.\n"
	    "\tif [[ $cur == = ]]; then\n"
	    "\t\tcur= prev=${COMP_WORDS[COMP_CWORD-1]}\n"
	    "\telif ((COMP_CWORD >= 2)) && [[ ${COMP_WORDS[COMP_CWORD-1]} == = ]]; then\n"
	    "\t\tprev=${COMP_WORDS[COMP_CWORD-2]}\n"
	    "\telif ((COMP_CWORD >= 1)); then\n"
	    "\t\tprev=${COMP_WORDS[COMP_CWORD-1]}\n\tfi\n"
	    "\t# The command: the first word not an option nor --rundir's value.\n"
	    "\tfor ((i = 1; i < COMP_CWORD; i++)); do\n"
	    "\t\tw=${COMP_WORDS[i]}\n"
	    "\t\tcase $w in\n"
	    "\t\t--rundir) [[ ${COMP_WORDS[i+1]} == = ]] && ((i++)); ((i++)) ;;\n"
	    "\t\t-*) ;;\n"
	    "\t\t*) cmd=$w; break ;;\n"
	    "\t\tesac\n\tdone\n"
	    "\tif [[ -z $cmd && $cur != -* ]]; then\n"
	    "\t\tcase $prev in\n\t\t--rundir) COMPREPLY=($(compgen -d -- \"$cur\")); return ;;\n"
	    "\t\tesac\n"
	    "\t\tCOMPREPLY=($(compgen -W '");
	for (size_t i = 0; i < cli_ncommands; i++)
		fprintf(f, "%s ", cli_commands[i].name);
	fprintf(f, "help version' -- \"$cur\"))\n\t\treturn\n\tfi\n"
	    "\tif [[ $cmd == help ]]; then\n"
	    "\t\tCOMPREPLY=($(compgen -W '--all");
	for (size_t i = 0; i < cli_ncommands; i++)
		fprintf(f, " %s", cli_commands[i].name);
	fprintf(f, "' -- \"$cur\"))\n\t\treturn\n\tfi\n"
	    "\t_nvmecontrol_command \"$cmd\" \"$cur\" \"$prev\"\n}\n\n"
	    "complete -F _nvmecontrol nvmecontrol\n");
}
