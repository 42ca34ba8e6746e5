/* SPDX-License-Identifier: BSD-2-Clause
 * Copyright (c) 2026 The nvmf developers */
/*
 * config_json.c - connect-all without an address, as nvme-cli's: the
 * controllers of libnvme's JSON configuration (config.json), each with its
 * host's NQN and ID. An entry naming the discovery subsystem is a discovery
 * controller whose log is connected in full; an entry naming an NVM
 * subsystem is connected as connect would, skipped when nvmf-hostd already
 * holds it. Each runs with this command line's options first, so that the
 * entry's own win, as a line of discovery.conf does.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "nvme_glue.h"
#include "nvmecontrol.h"

#define ENTRY_MAX_ARGS	64
#define ENTRY_EXTRA	12	/* what an entry adds: address, host, tuning */

struct walk {
	int argc;
	char **argv;
	unsigned ran, failed;
};

/* "--name=value" into the next of bufs, appended to args. */
static void
add_opt(char **args, int *n, char bufs[][NVMF_NQN_MAX_LEN + 32], const char *name,
    const char *value)
{
	snprintf(bufs[*n], sizeof(bufs[0]), "--%s=%s", name, value);
	args[*n] = bufs[*n];
	(*n)++;
}

static void
add_num(char **args, int *n, char bufs[][NVMF_NQN_MAX_LEN + 32], const char *name, int v)
{
	char num[16];

	if (v <= 0)
		return;		/* libnvme's 0: not given */
	snprintf(num, sizeof(num), "%d", v);
	add_opt(args, n, bufs, name, num);
}

static void
run_entry(const struct glue_config_ctrl *c, void *arg)
{
	static char bufs[ENTRY_MAX_ARGS + ENTRY_EXTRA][NVMF_NQN_MAX_LEN + 32];
	char *args[ENTRY_MAX_ARGS + ENTRY_EXTRA + 1];
	struct walk *w = arg;
	bool discovery = c->subnqn == NULL || c->subnqn[0] == '\0' ||
	    strcmp(c->subnqn, NVMF_DISCOVERY_NQN) == 0;
	int n = 0, rc;

	if (c->transport == NULL || strcmp(c->transport, "tcp") != 0) {
		errmsg("config.json: skipping %s: unsupported transport %s",
		    c->subnqn != NULL ? c->subnqn : "a controller",
		    c->transport != NULL ? c->transport : "(none)");
		return;
	}
	if (c->traddr == NULL || c->traddr[0] == '\0') {
		errmsg("config.json: %s has no traddr", c->subnqn != NULL ? c->subnqn :
		    "a controller");
		w->failed++;
		return;
	}
	/* Ours first, so that the entry's win; connect for an NVM subsystem. */
	args[n++] = discovery ? w->argv[0] : "connect";
	for (int i = 1; i < w->argc && n < ENTRY_MAX_ARGS; i++) {
		/* Keeping a discovery controller means nothing to connect. */
		if (!discovery && (strcmp(w->argv[i], "-p") == 0 ||
		    strcmp(w->argv[i], "--persistent") == 0))
			continue;
		args[n++] = w->argv[i];
	}
	add_opt(args, &n, bufs, "traddr", c->traddr);
	if (c->trsvcid != NULL && c->trsvcid[0] != '\0')
		add_opt(args, &n, bufs, "trsvcid", c->trsvcid);
	else if (!discovery)
		add_opt(args, &n, bufs, "trsvcid", DEFAULT_NVME_PORT);
	if (c->hostnqn != NULL && c->hostnqn[0] != '\0')
		add_opt(args, &n, bufs, "hostnqn", c->hostnqn);
	if (c->hostid != NULL && c->hostid[0] != '\0')
		add_opt(args, &n, bufs, "hostid", c->hostid);
	add_num(args, &n, bufs, "nr-io-queues", c->nr_io_queues);
	add_num(args, &n, bufs, "queue-size", c->queue_size);
	add_num(args, &n, bufs, "keep-alive-tmo", c->keep_alive_tmo);
	if (c->hdr_digest)
		args[n++] = "--hdr-digest";
	if (c->data_digest)
		args[n++] = "--data-digest";
	if (!discovery)
		add_opt(args, &n, bufs, "nqn", c->subnqn);
	args[n] = NULL;
	w->ran++;
	rc = discovery ? connect_all_discovery(n, args, "config.json") :
	    connect_entry(n, args, true);
	if (rc != 0)
		w->failed++;
}

int
connect_all_config_json(int argc, char **argv, unsigned *ran, unsigned *failed)
{
	struct walk w = { argc, argv, 0, 0 };
	char path[4096];
	int n;

	*ran = *failed = 0;
	if (nvme_conf_path("config.json", path, sizeof(path)) != 0)
		return -1;
	n = glue_config_each_ctrl(path, run_entry, &w);
	if (n < 0 && errno == ENOENT)
		return -1;
	if (n < 0) {
		/* libnvme says EPROTO for a file that is not its JSON. */
		errmsg("%s: libnvme cannot read it: %s", path, errno == EPROTO ?
		    "not valid JSON" : strerror(errno));
		*failed = 1;
		return 0;
	}
	*ran = w.ran;
	*failed = w.failed;
	return 0;
}
