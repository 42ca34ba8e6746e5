/* SPDX-License-Identifier: BSD-2-Clause
 * Copyright (c) 2026 The nvmf developers */
/*
 * commands.c - the table of nvmecontrol's commands and options (see
 * cli_table.h). FreeBSD's letters keep their meaning; nvme-cli's letters are
 * taken where FreeBSD leaves them free (-a, -s, -n, -D, -d, -I) and its long
 * names are accepted beside FreeBSD's; its -c (reconnect-delay) stays
 * FreeBSD's cntlid. The order here is the order of the synopsis.
 */
#include <stddef.h>
#include <string.h>

#include "cli_table.h"
#include "nvmecontrol.h"

/* ------------------------------------------------- the fabrics commands' options */
#define O_TRANSPORT { 't', { "transport" }, "tcp", "tcp", "transport type (only tcp)", 0 }
#define O_CNTLID { 'c', { "cntlid" }, "cntlid", "dynamic static", \
	"controller ID: dynamic (default), static or a number", 0 }
#define O_NR_IO_QUEUES { 'i', { "nr-io-queues" }, "nr-io-queues", NULL, \
	"number of I/O queues (1)", 0 }
#define O_QUEUE_SIZE { 'Q', { "queue-size" }, "queue-size", NULL, \
	"I/O queue size (the controller's maximum, at most 128)", 0 }
#define O_KATO { 'k', { "keep-alive-tmo" }, "keep-alive-tmo", NULL, \
	"keep-alive timeout (120 s)", 0 }
#define O_RECONNECT_DELAY { 'r', { "reconnect-delay" }, "reconnect-delay", NULL, \
	"seconds between reconnect attempts (10)", 0 }
#define O_CTRL_LOSS { 'l', { "ctrl-loss-tmo" }, "ctrl-loss-tmo", NULL, \
	"seconds before a lost controller is detached (600; 0 or -1: never)", 0 }
#define O_HOSTNQN { 'q', { "hostnqn" }, "hostnqn", NULL, "host NQN (libnvme's by default)", 0 }
#define O_HOSTID { 'I', { "hostid" }, "hostid", NULL, "host ID, a UUID (libnvme's by default)", 0 }
#define O_FLOW_CONTROL { 'F', { "flow_control" }, NULL, NULL, "request SQ flow control", 0 }
#define O_DISABLE_SQFLOW { 'd', { "disable-sqflow" }, NULL, NULL, \
	"ask to disable SQ flow control (the default)", 0 }
#define O_DUPLICATE { 'D', { "duplicate-connect" }, NULL, NULL, \
	"connect even when nvmf-hostd has this controller already", 0 }
#define O_HDR_DIGEST { 'g', { "hdr_digests", "hdr-digest" }, NULL, NULL, \
	"enable PDU header digests", 0 }
#define O_DATA_DIGEST { 'G', { "data_digests", "data-digest" }, NULL, NULL, \
	"enable PDU data digests", 0 }
#define O_VERBOSE { 'v', { "verbose" }, NULL, NULL, "say more", 0 }
#define O_OUTPUT { 'o', { "output-format" }, "normal|json", "normal json", "output format", 0 }
#define O_FAST_IO_FAIL { OPT_FAST_IO_FAIL, { "fast-io-fail-tmo", "fast_io_fail_tmo" }, "time", \
	NULL, "seconds after a loss before held I/O fails (-1: never)", 0 }
#define O_TIMEOUT { OPT_TIMEOUT, { "timeout" }, "time", NULL, \
	"bound on dialing and each exchange (10 s)", 0 }
#define O_PERSISTENT { 'p', { "persistent" }, NULL, NULL, \
	"keep the discovery controller in nvmf-hostd; connect what its log gains", 0 }
#define O_DEVICE { OPT_DEVICE, { "device" }, "nvmeX", NULL, \
	"read the log through this discovery controller of nvmf-hostd", CLI_OPERAND }
#define O_TRADDR { 'a', { "traddr" }, "address", NULL, "the target's address", CLI_OPERAND }
#define O_TRSVCID { 's', { "trsvcid" }, "port", NULL, "the target's port", CLI_OPERAND }
#define O_NQN { 'n', { "nqn" }, "SubNQN", NULL, "the subsystem's NQN", CLI_OPERAND }
#define O_END { 0, { NULL }, NULL, NULL, NULL, 0 }

/* What connect, connect-all and reconnect share, in synopsis order. */
#define CONNECT_FLAGS O_DISABLE_SQFLOW, O_FLOW_CONTROL, O_HDR_DIGEST, O_DATA_DIGEST, O_VERBOSE
#define CONNECT_VALUES O_TRANSPORT
#define CONNECT_TUNING O_NR_IO_QUEUES, O_QUEUE_SIZE, O_KATO, O_RECONNECT_DELAY, O_CTRL_LOSS, \
	O_HOSTNQN, O_HOSTID, O_FAST_IO_FAIL, O_TIMEOUT

static const struct cli_option discover_options[] = {
	O_VERBOSE, O_TRANSPORT, O_HOSTNQN, O_HOSTID, O_OUTPUT, O_TIMEOUT, O_TRADDR, O_TRSVCID,
	O_END,
};

static const struct cli_option connect_options[] = {
	O_DUPLICATE, CONNECT_FLAGS, CONNECT_VALUES, O_CNTLID, CONNECT_TUNING,
	O_TRADDR, O_TRSVCID, O_NQN, O_END,
};

static const struct cli_option connect_all_options[] = {
	O_DISABLE_SQFLOW, O_FLOW_CONTROL, O_HDR_DIGEST, O_DATA_DIGEST, O_PERSISTENT, O_VERBOSE,
	CONNECT_VALUES, CONNECT_TUNING, O_TRADDR, O_TRSVCID, O_DEVICE, O_END,
};

static const struct cli_option reconnect_options[] = {
	CONNECT_FLAGS, CONNECT_VALUES, CONNECT_TUNING, O_TRADDR, O_TRSVCID, O_END,
};

/* ------------------------------------------------------ the other commands' */
static const struct cli_option disconnect_options[] = {
	O_VERBOSE,
	{ 'n', { "nqn" }, "SubNQN", NULL, "every controller of this subsystem", CLI_OPERAND },
	{ 'd', { "device" }, "nvmeX", NULL, "this controller", CLI_OPERAND },
	O_END,
};

static const struct cli_option verbose_only[] = { O_VERBOSE, O_END };
static const struct cli_option output_only[] = { O_OUTPUT, O_END };
static const struct cli_option no_options[] = { O_END };

static const struct cli_option identify_options[] = {
	O_VERBOSE,
	{ 'x', { "hex" }, NULL, NULL, "print the data in hex (-v: all of it)", 0 },
	{ 'n', { "namespace-id" }, "nsid", NULL, "the namespace to identify", 0 },
	O_OUTPUT, O_END,
};

static const struct cli_option get_log_options[] = {
	{ 'b', { "raw-binary" }, NULL, NULL, "write the log page as it came", 0 },
	{ 'r', { "rae" }, NULL, NULL, "retain an asynchronous event", 0 },
	{ 'i', { "log-id" }, "log-id", NULL, "the log page identifier", CLI_REQUIRED },
	{ 'l', { "log-len" }, "log-len", NULL, "bytes to read (a multiple of 4)", 0 },
	{ 'n', { "namespace-id" }, "nsid", NULL, "namespace (all by default)", 0 },
	{ 's', { "lsp" }, "lsp", NULL, "log specific parameter", 0 },
	{ 'L', { "lpo" }, "lpo", NULL, "log page offset in bytes", 0 },
	{ 'o', { "output-format" }, "normal|json|binary", "normal json binary", "output format", 0 },
	O_END,
};

const struct cli_option cli_common_options[] = {
	{ OPT_RUNDIR, { "rundir" }, "dir", NULL, "nvmf-hostd's run directory (/run/nvmf)",
	  CLI_DIR },
	{ 'h', { "help" }, NULL, NULL, "this help", 0 },
	O_END,
};

const struct cli_option cli_global_options[] = {
	{ OPT_RUNDIR, { "rundir" }, "dir", NULL, "nvmf-hostd's run directory (/run/nvmf)",
	  CLI_DIR },
	{ 'V', { "version" }, NULL, NULL, "print the versions of nvmecontrol and libnvme", 0 },
	{ 'h', { "help" }, NULL, NULL, "the commands", 0 },
	O_END,
};

const struct cli_command cli_commands[] = {
	{ "discover", cmd_discover,
	  "List the discovery log page of a discovery controller (port 8009 by default)",
	  { "address[:port] | -a address [-s port]" }, discover_options },
	{ "connect", cmd_connect,
	  "Connect to an NVM subsystem and hand the controller to nvmf-hostd",
	  { "address:port SubNQN", "-a address -s port -n SubNQN" }, connect_options },
	{ "connect-all", cmd_connect_all,
	  "Connect to every NVM subsystem a discovery controller lists\n"
	  "                  (without an address: those of /etc/nvme/discovery.conf and\n"
	  "                  /etc/nvme/config.json; --device: a discovery controller kept\n"
	  "                  by nvmf-hostd)",
	  { "[address[:port] | -a address [-s port] | --device nvmeX]" }, connect_all_options },
	{ "reconnect", cmd_reconnect,
	  "Rebuild a lost association, from the kept parameters or these",
	  { "nvmeX [address:port | -a address -s port]" }, reconnect_options },
	{ "disconnect", cmd_disconnect,
	  "Disconnect a controller, or every controller of a subsystem",
	  { "nvmeX|nvmeXnsY|SubNQN | -n SubNQN | -d nvmeX" }, disconnect_options },
	{ "disconnect-all", cmd_disconnect_all, "Disconnect every controller",
	  { "" }, verbose_only },
	{ "devlist", cmd_devlist, "List the controllers and namespaces of nvmf-hostd",
	  { "" }, output_only },
	{ "identify", cmd_identify, "Print the Identify Controller or Identify Namespace data",
	  { "nvmeX[nsY]" }, identify_options },
	{ "reset", cmd_reset, "Reset a controller: a new association from the kept parameters",
	  { "nvmeX" }, no_options },
	{ "ns-rescan", cmd_ns_rescan, "Read a controller's namespaces again",
	  { "nvmeX" }, no_options },
	{ "get-log", cmd_get_log, "Print a log page of a controller (Get Log Page)",
	  { "nvmeX" }, get_log_options },
	{ "list-subsys", cmd_list_subsys,
	  "List the subsystems and their controllers as nvme-cli does",
	  { "" }, output_only },
	{ "gen-hostnqn", cmd_gen_hostnqn,
	  "Print a new host NQN, made by libnvme (for /etc/nvme/hostnqn)",
	  { "" }, no_options },
	{ "show-hostnqn", cmd_show_hostnqn, "Print the host NQN connect uses",
	  { "" }, no_options },
};

const size_t cli_ncommands = sizeof(cli_commands) / sizeof(cli_commands[0]);

const struct cli_command *
cli_command_find(const char *name)
{
	for (size_t i = 0; i < cli_ncommands; i++)
		if (strcmp(cli_commands[i].name, name) == 0)
			return &cli_commands[i];
	return NULL;
}

const struct cli_option *
cli_option_next(const struct cli_command *cmd, const struct cli_option *o)
{
	static const size_t ncommon = sizeof(cli_common_options) /
	    sizeof(cli_common_options[0]) - 1;

	o = o == NULL ? cmd->options : o + 1;
	if (o->val != 0)
		return o;
	/* The end of the common ones is the end; the end of cmd's own leads to them. */
	return o == &cli_common_options[ncommon] ? NULL : cli_common_options;
}

const struct cli_option *
cli_option_find(const struct cli_command *cmd, int val)
{
	for (const struct cli_option *o = cli_option_next(cmd, NULL); o != NULL;
	    o = cli_option_next(cmd, o))
		if (o->val == val)
			return o;
	return NULL;
}

const struct cli_option *
cli_option_by_name(const struct cli_command *cmd, const char *name)
{
	for (const struct cli_option *o = cli_option_next(cmd, NULL); o != NULL;
	    o = cli_option_next(cmd, o))
		for (int i = 0; i < CLI_MAX_NAMES && o->names[i] != NULL; i++)
			if (strcmp(o->names[i], name) == 0)
				return o;
	return NULL;
}
