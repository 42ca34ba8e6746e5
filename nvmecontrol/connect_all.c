/* SPDX-License-Identifier: BSD-2-Clause
 * Copyright (c) 2026 The nvmf developers */
/*
 * connect_all.c - "nvmecontrol connect-all address[:port]": connect to every
 * NVM subsystem entry of a discovery log, skipping those already connected
 * (same SubNQN, address and port, and host NQN) and repeated entries.
 */
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <unistd.h>

#include <json-c/json.h>

#include "nvmecontrol.h"

struct seen {
	char subnqn[NVMF_NQN_MAX_LEN + 1];
	char traddr[256];	/* as struct target_addr */
	char trsvcid[32];
};

static int connect_all_conf(int argc, char **argv);

/*
 * connect-alls of one nvmf-hostd run one at a time: two DISCOVERY_CHANGE
 * rules racing would both find a new subsystem missing and connect it
 * twice. The lock is on the run directory itself (no file to leave
 * behind); without it (no directory yet) they run as they come.
 */
static int
serialize(void)
{
	int fd = open(rundir_get(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);

	if (fd >= 0 && flock(fd, LOCK_EX) != 0) {
		close(fd);
		fd = -1;
	}
	return fd;
}

static void
unserialize(int fd)
{
	if (fd >= 0)
		close(fd);	/* the lock goes with it */
}

/*
 * Connects every NVM subsystem entry of log that nvmf-hostd does not hold
 * yet (ctrls: its list). Returns how many failed.
 */
static unsigned
connect_entries(const struct nvmf_discovery_log_header *log, const struct host_ids *ids,
    const struct fabric_opts *o, struct json_object *ctrls)
{
	const struct nvmf_discovery_log_entry *entries =
	    (const struct nvmf_discovery_log_entry *)(log + 1);
	struct seen *seen = calloc(log->numrec + 1, sizeof(*seen));
	unsigned nseen = 0, failed = 0;
	char err[ERRLEN];

	if (seen == NULL) {
		errmsg("out of memory");
		return 1;
	}
	for (uint64_t i = 0; i < log->numrec; i++) {
		const struct nvmf_discovery_log_entry *ent = &entries[i];
		struct json_object *namespaces = NULL;
		struct assoc_request r;
		struct seen s;
		const char *dup;
		char name[64], where[300];
		bool again = false;

		id_string(s.subnqn, sizeof(s.subnqn), ent->subnqn, sizeof(ent->subnqn));
		id_string(s.traddr, sizeof(s.traddr), ent->traddr, sizeof(ent->traddr));
		id_string(s.trsvcid, sizeof(s.trsvcid), ent->trsvcid, sizeof(ent->trsvcid));
		format_address(s.traddr, s.trsvcid, where, sizeof(where));

		/* What FreeBSD skips: not an NVM subsystem, not TCP, not IP, TLS. */
		if (ent->subtype != NVMF_SUBTYPE_NVME)
			continue;
		if (ent->trtype != NVMF_TRTYPE_TCP) {
			errmsg("skipping %s: unsupported transport %s", s.subnqn,
			    trtype_name(ent->trtype));
			continue;
		}
		if (ent->adrfam != NVMF_ADRFAM_IPV4 && ent->adrfam != NVMF_ADRFAM_IPV6) {
			errmsg("skipping %s: unsupported address family %s", s.subnqn,
			    adrfam_name(ent->adrfam));
			continue;
		}
		if (ent->tsas[0] != NVMF_TCP_SECTYPE_NONE) {
			errmsg("skipping %s at %s: TLS is not supported", s.subnqn, where);
			continue;
		}
		for (unsigned k = 0; k < nseen; k++)
			if (strcmp(seen[k].subnqn, s.subnqn) == 0 &&
			    same_address(seen[k].traddr, s.traddr) &&
			    strcmp(seen[k].trsvcid, s.trsvcid) == 0)
				again = true;
		if (again)
			continue;
		seen[nseen++] = s;
		dup = existing_controller(ctrls, s.subnqn, s.traddr, s.trsvcid, ids->hostnqn);
		if (dup != NULL) {
			if (o->verbose)
				printf("%s: already connected to %s at %s\n", dup, s.subnqn, where);
			continue;
		}

		memset(&r, 0, sizeof(r));
		memcpy(r.addr.address, s.traddr, sizeof(s.traddr));
		memcpy(r.addr.port, s.trsvcid, sizeof(s.trsvcid));
		r.addr.port_given = true;
		r.subnqn = s.subnqn;
		r.ids = ids;
		r.opts = o;
		r.cntlid = ent->cntlid;		/* as FreeBSD: what the log says */
		if (!nqn_valid(s.subnqn)) {
			errmsg("skipping entry %u: invalid SubNQN '%s'", (unsigned)i + 1, s.subnqn);
			failed++;
			continue;
		}
		if (association_connect(&r, name, sizeof(name), &namespaces, err,
		    sizeof(err)) != 0) {
			errmsg("%s", err);
			failed++;
			continue;
		}
		printf("%s: connected to %s at %s", name, s.subnqn, where);
		print_namespace_names(namespaces);
		printf("\n");
		fflush(stdout);
		json_object_put(namespaces);
	}
	free(seen);
	return failed;
}

/* The discovery controller nvmf-hostd keeps for this address and host NQN, or NULL. */
static const char *
kept_discovery(struct json_object *ctrls, const struct target_addr *a, const char *hostnqn)
{
	for (size_t i = 0; i < json_object_array_length(ctrls); i++) {
		struct json_object *c = json_object_array_get_idx(ctrls, i);

		if (strcmp(json_get_string(c, "kind", "nvm"), "discovery") == 0 &&
		    same_address(json_get_string(c, "traddr", ""), a->address) &&
		    strcmp(json_get_string(c, "trsvcid", ""), a->port) == 0 &&
		    strcmp(json_get_string(c, "hostnqn", ""), hostnqn) == 0)
			return json_get_string(c, "name", "?");
	}
	return NULL;
}

/*
 * --persistent: the discovery controller goes to nvmf-hostd (or the one it
 * keeps already is used), which keeps it connected and raises
 * DISCOVERY_CHANGE when its log changes; the log is read through it.
 */
static int
persistent_log(const struct target_addr *daddr, const struct host_ids *ids,
    const struct fabric_opts *o, struct json_object *ctrls,
    struct nvmf_discovery_log_header **log)
{
	struct fabric_opts dopts = *o;
	struct assoc_request r;
	const char *kept = kept_discovery(ctrls, daddr, ids->hostnqn);
	char err[ERRLEN], name[64], where[300];

	format_address(daddr->address, daddr->port, where, sizeof(where));
	if (kept != NULL) {
		snprintf(name, sizeof(name), "%s", kept);
		if (o->verbose)
			printf("%s: already the discovery controller at %s\n", name, where);
	} else {
		/* Its own KATO: the I/O controllers' -k is theirs. */
		dopts.kato_ms = PERSISTENT_DISCOVERY_KATO_MS;
		memset(&r, 0, sizeof(r));
		r.addr = *daddr;
		r.subnqn = NVMF_DISCOVERY_NQN;
		r.ids = ids;
		r.opts = &dopts;
		r.cntlid = NVMF_CNTLID_DYNAMIC;
		r.discovery = true;
		if (association_connect(&r, name, sizeof(name), NULL, err, sizeof(err)) != 0) {
			errmsg("%s", err);
			return -1;
		}
		printf("%s: connected to %s at %s (persistent discovery controller)\n", name,
		    NVMF_DISCOVERY_NQN, where);
		fflush(stdout);
	}
	if (hostd_discovery_log(name, log, o->timeout_ms, err, sizeof(err)) != 0) {
		errmsg("%s", err);
		return -1;
	}
	return 0;
}

/*
 * --device nvmeX: the log of a discovery controller nvmf-hostd keeps, as
 * its DISCOVERY_CHANGE rule runs it. Options not given are those the
 * discovery controller was connected with (host NQN and ID, timers,
 * digests, queues), but its own KATO.
 */
static int
device_locked(struct fabric_opts *o, const char *name)
{
	struct nvmf_discovery_log_header *log = NULL;
	struct json_object *ctrls, *kept = NULL;
	struct host_ids ids;
	char err[ERRLEN];
	unsigned failed;

	ctrls = control_list(err, sizeof(err));
	if (ctrls == NULL) {
		errmsg("%s", err);
		return EXIT_ERROR;
	}
	for (size_t i = 0; i < json_object_array_length(ctrls); i++)
		if (strcmp(json_get_string(json_object_array_get_idx(ctrls, i), "name", ""),
		    name) == 0)
			kept = json_object_array_get_idx(ctrls, i);
	if (kept == NULL || strcmp(json_get_string(kept, "kind", "nvm"), "discovery") != 0) {
		errmsg("%s: %s", name, kept == NULL ? "no such controller" :
		    "not a discovery controller");
		json_object_put(ctrls);
		return EXIT_ERROR;
	}
	fabric_opts_merge_kept(o, kept);
	if (!o->kato_given)
		o->kato_ms = DEFAULT_KATO_MS;
	if (host_ids_get(o->hostnqn, o->hostid, &ids, err, sizeof(err)) != 0 ||
	    hostd_discovery_log(name, &log, o->timeout_ms, err, sizeof(err)) != 0) {
		errmsg("%s", err);
		json_object_put(ctrls);
		return EXIT_ERROR;
	}
	failed = connect_entries(log, &ids, o, ctrls);
	free(log);
	json_object_put(ctrls);
	return failed > 0 ? EXIT_ERROR : 0;
}

static int
connect_all_device(struct fabric_opts *o)
{
	char name[64];
	int lock, rc;

	rc = controller_operand("connect-all", o->device, name, sizeof(name));
	if (rc != 0)
		return rc;
	lock = serialize();
	rc = device_locked(o, name);
	unserialize(lock);
	return rc;
}

/* The log at daddr connected: from nvmf-hostd's list on, under serialize(). */
static int
address_locked(const struct target_addr *daddr, const struct host_ids *ids,
    const struct fabric_opts *o)
{
	struct nvmf_discovery_log_header *log = NULL;
	struct json_object *ctrls;
	struct nvmf_qpair *qp;
	char err[ERRLEN], e[ERRLEN];
	unsigned failed;
	int rc;

	/* nvmf-hostd first: its controllers tell which entries are duplicates. */
	ctrls = control_list(err, sizeof(err));
	if (ctrls == NULL) {
		errmsg("%s", err);
		return EXIT_ERROR;
	}

	if (o->persistent) {
		if (persistent_log(daddr, ids, o, ctrls, &log) != 0) {
			json_object_put(ctrls);
			return EXIT_ERROR;
		}
	} else {
		qp = discovery_connect(daddr, ids, o->timeout_ms, err, sizeof(err));
		if (qp == NULL) {
			errmsg("%s", err);
			json_object_put(ctrls);
			return EXIT_ERROR;
		}
		rc = nvmf_host_discovery_log(qp, &log, o->timeout_ms, e, sizeof(e));
		nvmf_qpair_free(qp);
		if (rc != 0) {
			errmsg("reading the discovery log: %s", e);
			json_object_put(ctrls);
			return EXIT_ERROR;
		}
	}
	failed = connect_entries(log, ids, o, ctrls);
	free(log);
	json_object_put(ctrls);
	return failed > 0 ? EXIT_ERROR : 0;
}

/* One discovery controller's log; from_conf: a line of discovery.conf, or config.json. */
int
connect_all_discovery(int argc, char **argv, const char *from_conf)
{
	struct target_addr daddr;
	struct fabric_opts o;
	struct host_ids ids;
	char err[ERRLEN];
	int first, rc, lock;

	/* Options not given stay unset: --device takes the kept ones. */
	reconnect_opts_init(&o);
	rc = fabric_opts_parse("connect-all", argc, argv, &o, &first);
	if (rc != 0)
		return rc < 0 ? 0 : rc;
	if (o.device != NULL) {
		if (o.address != NULL || first < argc)
			return usage_error("connect-all", "--device and an address given");
		return connect_all_device(&o);
	}
	fabric_opts_defaults(&o);
	if (o.address != NULL && first < argc)
		return usage_error("connect-all", "address given twice (--traddr and argument)");
	if (o.address == NULL && first >= argc && from_conf == NULL)
		return connect_all_conf(argc, argv);
	if (o.address == NULL) {
		if (first >= argc) {
			errmsg("%s: no --traddr", from_conf);
			return EXIT_ERROR;
		}
		o.address = argv[first++];
	}
	if (first < argc)
		return unexpected_argument("connect-all", argv[first]);
	if (parse_address(o.address, o.trsvcid ? o.trsvcid : DEFAULT_DISCOVERY_PORT, &daddr,
	    err, sizeof(err)) != 0)
		return usage_error("connect-all", "%s", err);
	if (o.trsvcid != NULL && daddr.port_given)
		return usage_error("connect-all", "port given twice (--trsvcid and address)");
	if (host_ids_get(o.hostnqn, o.hostid, &ids, err, sizeof(err)) != 0) {
		errmsg("%s", err);
		return EXIT_ERROR;
	}
	lock = serialize();
	rc = address_locked(&daddr, &ids, &o);
	unserialize(lock);
	return rc;
}

#define CONF_MAX_ARGS	64

/*
 * Without an address, as nvme-cli's: config.json's controllers (config_json.c),
 * then nvme-cli's discovery.conf: each line that is not blank or a comment is a
 * discover command line (--transport=tcp --traddr=... --trsvcid=...). Each
 * runs as connect-all with this command line's options first, so that the
 * line's own win; a line that fails is reported and the others still run.
 */
static int
connect_all_conf(int argc, char **argv)
{
	char path[4096], json[4096], line[2048], where[4200];
	unsigned lineno = 0, ran = 0, failed = 0;
	bool have_json;
	FILE *f;

	have_json = connect_all_config_json(argc, argv, &ran, &failed) == 0;
	if (nvme_conf_path("config.json", json, sizeof(json)) != 0)
		snprintf(json, sizeof(json), "config.json");
	if (nvme_conf_path("discovery.conf", path, sizeof(path)) != 0 ||
	    (f = fopen(path, "re")) == NULL) {
		if (!have_json)
			return usage_error("connect-all", "no discovery address given and no %s "
			    "or %s", path, json);
		if (ran == 0 && failed == 0)
			return usage_error("connect-all", "no discovery address given, and %s "
			    "lists none", json);
		return failed > 0 ? EXIT_ERROR : 0;
	}
	while (fgets(line, sizeof(line), f) != NULL) {
		char *args[CONF_MAX_ARGS + 2], *save = NULL, *w;
		int n = 0;

		lineno++;
		for (int i = 0; i < argc && n < CONF_MAX_ARGS; i++)
			args[n++] = argv[i];
		for (w = strtok_r(line, " \t\r\n", &save); w != NULL && *w != '#';
		    w = strtok_r(NULL, " \t\r\n", &save)) {
			if (n == CONF_MAX_ARGS)
				break;
			args[n++] = w;
		}
		if (n == argc)
			continue;	/* blank or a comment */
		args[n] = NULL;
		snprintf(where, sizeof(where), "%s:%u", path, lineno);
		ran++;
		if (connect_all_discovery(n, args, where) != 0)
			failed++;
	}
	fclose(f);
	if (ran == 0 && failed == 0)
		return usage_error("connect-all", "no discovery address given, and %s lists "
		    "none", have_json ? "neither config.json nor discovery.conf" : path);
	return failed > 0 ? EXIT_ERROR : 0;
}

int
cmd_connect_all(int argc, char **argv)
{
	return connect_all_discovery(argc, argv, NULL);
}
