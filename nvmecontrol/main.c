/*
 * main.c - nvmecontrol: dispatch to the fabrics commands, usage, messages.
 */
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "nvmecontrol.h"
#include "nvme_glue.h"

#ifndef NVMF_VERSION
#define NVMF_VERSION "0.1"
#endif

const char *progname = "nvmecontrol";

struct command {
	const char *name;
	int (*fn)(int argc, char **argv);
	const char *usage;
	const char *descr;
};

static const struct command commands[] = {
	{ "discover", cmd_discover,
	  "discover [-v] [-t tcp] [-q hostnqn] [-I hostid] [-o normal|json]\n"
	  "                   [--timeout time] address[:port] | -a address [-s port]",
	  "List the discovery log page of a discovery controller (port 8009 by default)" },
	{ "connect", cmd_connect,
	  "connect [-DdFgGv] [-t tcp] [-c cntlid] [-i nr-io-queues] [-Q queue-size]\n"
	  "                   [-k keep-alive-tmo] [-r reconnect-delay] [-l ctrl-loss-tmo]\n"
	  "                   [-q hostnqn] [-I hostid] [--fast-io-fail-tmo time]\n"
	  "                   [--timeout time] address:port SubNQN | -a address -s port -n SubNQN",
	  "Connect to an NVM subsystem and hand the controller to nvmf-hostd" },
	{ "connect-all", cmd_connect_all,
	  "connect-all [-dFgGv] [-t tcp] [-i nr-io-queues] [-Q queue-size]\n"
	  "                   [-k keep-alive-tmo] [-r reconnect-delay] [-l ctrl-loss-tmo]\n"
	  "                   [-q hostnqn] [-I hostid] [--fast-io-fail-tmo time]\n"
	  "                   [--timeout time] [address[:port] | -a address [-s port]]",
	  "Connect to every NVM subsystem a discovery controller lists\n"
	  "                  (without an address: those of /etc/nvme/discovery.conf)" },
	{ "reconnect", cmd_reconnect,
	  "reconnect [-dFgGv] [-t tcp] [-i nr-io-queues] [-Q queue-size]\n"
	  "                   [-k keep-alive-tmo] [-r reconnect-delay] [-l ctrl-loss-tmo]\n"
	  "                   [-q hostnqn] [-I hostid] [--fast-io-fail-tmo time]\n"
	  "                   [--timeout time] nvmeX [address:port | -a address -s port]",
	  "Rebuild a lost association, from the kept parameters or these" },
	{ "disconnect", cmd_disconnect,
	  "disconnect [-v] nvmeX|nvmeXnsY|SubNQN | -n SubNQN | -d nvmeX",
	  "Disconnect a controller, or every controller of a subsystem" },
	{ "disconnect-all", cmd_disconnect_all,
	  "disconnect-all [-v]",
	  "Disconnect every controller" },
	{ "devlist", cmd_devlist,
	  "devlist [-o normal|json]",
	  "List the controllers and namespaces of nvmf-hostd" },
	{ "identify", cmd_identify,
	  "identify [-vx] [-n nsid] [-o normal|json] nvmeX[nsY]",
	  "Print the Identify Controller or Identify Namespace data" },
	{ "reset", cmd_reset,
	  "reset nvmeX",
	  "Reset a controller: a new association from the kept parameters" },
	{ "ns-rescan", cmd_ns_rescan,
	  "ns-rescan nvmeX",
	  "Read a controller's namespaces again" },
	{ "get-log", cmd_get_log,
	  "get-log -i log-id [-l log-len] [-n nsid] [-s lsp] [-L lpo] [-br]\n"
	  "                   [-o normal|json|binary] nvmeX",
	  "Print a log page of a controller (Get Log Page)" },
	{ "list-subsys", cmd_list_subsys,
	  "list-subsys [-o normal|json]",
	  "List the subsystems and their controllers as nvme-cli does" },
	{ "gen-hostnqn", cmd_gen_hostnqn,
	  "gen-hostnqn",
	  "Print a new host NQN, made by libnvme (for /etc/nvme/hostnqn)" },
	{ "show-hostnqn", cmd_show_hostnqn,
	  "show-hostnqn",
	  "Print the host NQN connect uses" },
};

#define NCOMMANDS (sizeof(commands) / sizeof(commands[0]))

void
errmsg(const char *fmt, ...)
{
	char buf[2048];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(buf, sizeof(buf), fmt, ap);
	va_end(ap);
	/* One line, whatever a peer or a library put into the message. */
	for (char *p = buf; *p != '\0'; p++)
		if (*p == '\n' || *p == '\r')
			*p = ' ';
	fprintf(stderr, "%s: %s\n", progname, buf);
}

static const struct command *
find_command(const char *name)
{
	for (size_t i = 0; i < NCOMMANDS; i++)
		if (strcmp(commands[i].name, name) == 0)
			return &commands[i];
	return NULL;
}

void
print_usage(const char *cmd, bool to_stderr)
{
	FILE *f = to_stderr ? stderr : stdout;
	const struct command *c = cmd != NULL ? find_command(cmd) : NULL;

	if (c != NULL) {
		fprintf(f, "usage: %s %s\n", progname, c->usage);
		return;
	}
	fprintf(f, "usage: %s [--rundir dir] command [options] [arguments]\n"
	    "       %s --version\n", progname, progname);
	if (to_stderr)
		return;
	fprintf(f, "\ncommands:\n");
	for (size_t i = 0; i < NCOMMANDS; i++)
		fprintf(f, "  %-15s %s\n", commands[i].name, commands[i].descr);
	fprintf(f, "\n'%s command -h' shows a command's options.\n", progname);
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
	const struct command *c;
	int i = 1;

	/* A target or nvmf-hostd going away mid-write is an error, not a kill. */
	signal(SIGPIPE, SIG_IGN);

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
		if (i + 1 < argc && find_command(argv[i + 1]) != NULL)
			print_usage(argv[i + 1], false);
		else
			print_usage(NULL, false);
		return 0;
	}
	c = find_command(argv[i]);
	if (c == NULL)
		return usage_error(NULL, "unknown command %s", argv[i]);
	/* The command sees itself as argv[0]. */
	return c->fn(argc - i, argv + i);
}
