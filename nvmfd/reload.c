/* SPDX-License-Identifier: BSD-2-Clause
 * Copyright (c) 2026 The nvmf developers */
/*
 * reload.c - SIGHUP: the configuration file read again and applied to the
 * running target without dropping what did not change.
 *
 * The file is loaded into a private configuration first (devices opened
 * and all): a file that does not load changes nothing. Then, with the
 * configuration lock held for writing, the running subsystems are compared
 * with the new ones and only pointers move: added subsystems go in, removed
 * ones out, a kept subsystem takes the new allow-list, ports and changed
 * namespaces, and what it gives up lands in the new file's copy of it (the
 * "shell"), freed once the lock is released and the last user is done.
 * After the lock: the associations the change shuts out are ended, the
 * NS-changed and discovery-log-change notices queued, one summary line.
 * What cannot change live (listen addresses, digests, limits...) is kept
 * as it is, one line each saying it takes a restart.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <syslog.h>

#include "nvmfd.h"

/* What happened to one subsystem, for the work after the lock. */
struct change {
	struct nvmfd_subsystem *ss;	/* the running one (removed: ours to put) */
	struct nvmfd_subsystem *shell;	/* the new file's copy: old parts, put at the end */
	bool added, removed, hosts, ports;
	uint32_t nsids[NVMFD_MAX_NAMESPACES];
	uint32_t nnsids;
};

struct reload {
	const char *file;
	struct nvmfd_config *cfg;
	struct nvmfd_config next;
	struct change *changes;
	uint32_t nchanges;
	uint32_t added, removed, changed, ns_added, ns_removed, ns_changed;
	uint32_t hosts_changed, ports_changed, ended;
	bool discovery_changed;
};

/* ------------------------------------------------- what needs a restart */

static void
restart_needed(const struct reload *r, const char *key, const char *was, const char *now)
{
	daemon_log(LOG_WARNING, "reload: %s: \"%s\" changed (%s to %s): takes effect at "
	    "restart", r->file, key, was, now);
}

static void
restart_needed_u(const struct reload *r, const char *key, uint64_t was, uint64_t now)
{
	char a[24], b[24];

	if (was == now)
		return;
	snprintf(a, sizeof(a), "%llu", (unsigned long long)was);
	snprintf(b, sizeof(b), "%llu", (unsigned long long)now);
	restart_needed(r, key, a, b);
}

static void
restart_needed_b(const struct reload *r, const char *key, bool was, bool now)
{
	if (was != now)
		restart_needed(r, key, was ? "on" : "off", now ? "on" : "off");
}

static void
describe_ports(const struct nvmfd_config *cfg, bool discovery, char *buf, size_t len)
{
	size_t used = 0;

	buf[0] = '\0';
	for (uint32_t i = 0; i < cfg->nports && used < len; i++) {
		const struct nvmfd_port *p = &cfg->ports[i];

		if (p->discovery_only != discovery)
			continue;
		used += (size_t)snprintf(buf + used, len - used, "%s%s:%u", used ? " " : "",
		    p->address[0] ? p->address : "*", p->port);
	}
	if (buf[0] == '\0')
		snprintf(buf, len, "none");
}

/* Top-level keys: fixed for the life of the process. */
static void
check_fixed(const struct reload *r)
{
	const struct nvmfd_config *a = r->cfg, *b = &r->next;
	char was[256], now[256];

	for (int discovery = 0; discovery < 2; discovery++) {
		describe_ports(a, discovery, was, sizeof(was));
		describe_ports(b, discovery, now, sizeof(now));
		if (strcmp(was, now) != 0)
			restart_needed(r, discovery ? "discovery" : "listen", was, now);
	}
	restart_needed_b(r, "strict", a->strict, b->strict);
	restart_needed_b(r, "header_digests", a->header_digests, b->header_digests);
	restart_needed_b(r, "data_digests", a->data_digests, b->data_digests);
	restart_needed_b(r, "allow_disable_sq_flow_control",
	    nvmfd_sq_fc_disable_permitted(a, NULL), nvmfd_sq_fc_disable_permitted(b, NULL));
	restart_needed_u(r, "max_h2c_data", a->max_h2c_data, b->max_h2c_data);
	if (strcmp(a->tcp_congestion, b->tcp_congestion) != 0)
		restart_needed(r, "tcp_congestion", a->tcp_congestion[0] ? a->tcp_congestion :
		    "the system's", b->tcp_congestion[0] ? b->tcp_congestion : "the system's");
	for (int i = 0; i < NVMFD_NLIMITS; i++)
		restart_needed_u(r, nvmfd_limit_defs[i].key, a->limit[i], b->limit[i]);
}

/*
 * The new file numbers its "listen" entries itself: its subsystems' port
 * IDs become the running listener on the same address and port; one that
 * is not open yet is left out until a restart opens it.
 */
static void
map_ports(struct reload *r, struct nvmfd_subsystem *ss)
{
	uint32_t n = 0;

	for (uint32_t i = 0; i < ss->nports; i++) {
		const struct nvmfd_port *want = &r->next.ports[ss->ports[i] - 1];
		uint32_t k;

		for (k = 0; k < r->cfg->nports; k++) {
			const struct nvmfd_port *p = &r->cfg->ports[k];

			if (!p->discovery_only && p->port == want->port &&
			    strcmp(p->address, want->address) == 0)
				break;
		}
		if (k == r->cfg->nports) {
			daemon_log(LOG_WARNING, "reload: %s: %s: port %s:%u is not open: served "
			    "there after a restart", r->file, ss->nqn,
			    want->address[0] ? want->address : "*", want->port);
			continue;
		}
		ss->ports[n++] = r->cfg->ports[k].id;
	}
	ss->nports = n;
}

/* ------------------------------------------------------------ comparing */

static bool
in_list(char *const *list, uint32_t n, const char *s)
{
	for (uint32_t i = 0; i < n; i++)
		if (strcmp(list[i], s) == 0)
			return true;
	return false;
}

static bool
same_hosts(const struct nvmfd_subsystem *a, const struct nvmfd_subsystem *b)
{
	if (a->nhosts != b->nhosts)
		return false;
	for (uint32_t i = 0; i < b->nhosts; i++)
		if (!in_list(a->hosts, a->nhosts, b->hosts[i]))
			return false;
	return true;
}

static bool
same_ports(const struct nvmfd_subsystem *a, const struct nvmfd_subsystem *b)
{
	if (a->nports != b->nports)
		return false;
	for (uint32_t i = 0; i < b->nports; i++)
		if (!nvmfd_subsystem_on_port(a, b->ports[i]))
			return false;
	return true;
}

static bool
same_namespace(const struct nvmfd_namespace *a, const struct nvmfd_namespace *b)
{
	return strcmp(nvmfd_device_spec(a->dev), nvmfd_device_spec(b->dev)) == 0 &&
	    a->lba_shift == b->lba_shift && a->nlbas == b->nlbas;
}

/* What of a kept subsystem cannot change under its hosts. */
static void
check_fixed_subsystem(const struct reload *r, const struct nvmfd_subsystem *a,
    const struct nvmfd_subsystem *b)
{
	char key[NVMF_NQN_MAX_LEN + 32];

	snprintf(key, sizeof(key), "%s\" \"serial", a->nqn);
	if (strcmp(a->serial, b->serial) != 0)
		restart_needed(r, key, a->serial, b->serial);
	snprintf(key, sizeof(key), "%s\" \"model", a->nqn);
	if (strcmp(a->model, b->model) != 0)
		restart_needed(r, key, a->model, b->model);
	snprintf(key, sizeof(key), "%s\" \"strict", a->nqn);
	if (a->strict != b->strict)
		restart_needed(r, key, a->strict < 0 ? "unset" : a->strict ? "true" : "false",
		    b->strict < 0 ? "unset" : b->strict ? "true" : "false");
}

/*
 * A kept subsystem takes the new file's live parts; what it had goes to the
 * shell. Configuration lock held for writing.
 */
static void
update_subsystem(struct reload *r, struct change *ch)
{
	struct nvmfd_subsystem *ss = ch->ss, *nss = ch->shell;
	bool changed = false;

	if (!same_hosts(ss, nss)) {
		char **h = ss->hosts;
		uint32_t n = ss->nhosts;

		ss->hosts = nss->hosts;
		ss->nhosts = nss->nhosts;
		nss->hosts = h;
		nss->nhosts = n;
		ch->hosts = changed = true;
		r->hosts_changed++;
	}
	if (!same_ports(ss, nss)) {
		uint16_t *p = ss->ports;
		uint32_t n = ss->nports;

		ss->ports = nss->ports;
		ss->nports = nss->nports;
		nss->ports = p;
		nss->nports = n;
		ch->ports = changed = true;
		r->ports_changed++;
	}
	ss->nns = 0;
	for (uint32_t i = 0; i < NVMFD_MAX_NAMESPACES; i++) {
		struct nvmfd_namespace *was = ss->ns[i], *now = nss->ns[i];

		if (was != NULL && now != NULL && same_namespace(was, now)) {
			ss->nns = i + 1;
			continue;	/* the shell's copy is closed with it */
		}
		if (was == NULL && now == NULL)
			continue;
		/* Swapped: the shell holds the old one until its last command ends. */
		ss->ns[i] = now;
		nss->ns[i] = was;
		ch->nsids[ch->nnsids++] = i + 1;
		if (was == NULL)
			r->ns_added++;
		else if (now == NULL)
			r->ns_removed++;
		else
			r->ns_changed++;
		if (now != NULL)
			ss->nns = i + 1;
		changed = true;
	}
	if (changed)
		r->changed++;
}

/* Under the configuration lock held for writing: pointers move, nothing blocks. */
static void
apply(struct reload *r, struct nvmfd_subsystem **list)
{
	struct nvmfd_config *cfg = r->cfg;
	uint32_t n = 0;

	for (uint32_t i = 0; i < r->next.nsubsystems; i++) {
		struct nvmfd_subsystem *nss = r->next.subsystems[i];
		struct change *ch = &r->changes[r->nchanges++];
		uint32_t k;

		for (k = 0; k < cfg->nsubsystems && strcmp(cfg->subsystems[k]->nqn,
		    nss->nqn) != 0; k++)
			;
		if (k == cfg->nsubsystems) {
			ch->ss = nss;
			ch->added = true;
			r->next.subsystems[i] = NULL;	/* the configuration's now */
			r->added++;
		} else {
			ch->ss = cfg->subsystems[k];
			ch->shell = nss;
			update_subsystem(r, ch);
		}
		list[n++] = ch->ss;
	}
	for (uint32_t k = 0; k < cfg->nsubsystems; k++) {
		struct nvmfd_subsystem *ss = cfg->subsystems[k];
		uint32_t i;

		for (i = 0; i < n && list[i] != ss; i++)
			;
		if (i < n)
			continue;
		r->changes[r->nchanges].ss = ss;
		r->changes[r->nchanges++].removed = true;
		r->removed++;
	}
	free(cfg->subsystems);
	cfg->subsystems = list;
	cfg->nsubsystems = n;
	for (uint32_t i = 0; i < r->nchanges; i++) {
		const struct change *ch = &r->changes[i];

		if (ch->added || ch->removed || ch->hosts || ch->ports)
			r->discovery_changed = true;
	}
	/* Hosts caching the discovery log see the number move on. */
	if (r->discovery_changed)
		cfg->genctr = nvmfd_genctr_next(cfg->genctr);
}

/* ----------------------------------------------------- after the lock */

struct visit {
	struct reload *r;
	const struct change *ch;
};

static void
end_association(struct reload *r, struct nvmfd_controller *c, const char *why)
{
	bool dead;

	pthread_mutex_lock(&c->lock);
	dead = c->dead;
	pthread_mutex_unlock(&c->lock);
	if (dead)
		return;
	nvmfd_controller_kill(c, why);
	r->ended++;
}

static void
settle_controller(struct nvmfd_controller *c, void *arg)
{
	struct visit *v = arg;
	const struct change *ch = v->ch;
	char why[96];

	if (ch->removed) {
		end_association(v->r, c, "subsystem removed by a reload");
		return;
	}
	if (ch->hosts && !nvmfd_subsystem_allows(ch->ss, c->hostnqn)) {
		end_association(v->r, c, "host no longer in allowed_hosts (reload)");
		return;
	}
	if (ch->ports && !nvmfd_subsystem_on_port(ch->ss, c->port_id)) {
		snprintf(why, sizeof(why), "subsystem no longer on port %u (reload)", c->port_id);
		end_association(v->r, c, why);
		return;
	}
	if (ch->nnsids > 0)
		(void)nvmfd_controller_ns_changed(c, ch->nsids, ch->nnsids);
}

/* Whether the discovery log a host reads may differ from before. */
static bool
sees_change(const struct reload *r, const char *hostnqn)
{
	for (uint32_t i = 0; i < r->nchanges; i++) {
		const struct change *ch = &r->changes[i];

		if (!(ch->added || ch->removed || ch->hosts || ch->ports))
			continue;
		if (nvmfd_subsystem_allows(ch->ss, hostnqn) ||
		    (ch->shell != NULL && nvmfd_subsystem_allows(ch->shell, hostnqn)))
			return true;
	}
	return false;
}

static void
notify_discovery(struct nvmfd_controller *c, void *arg)
{
	struct reload *r = arg;

	/* As nvmet: only hosts that could see a changed subsystem are told. */
	if (sees_change(r, c->hostnqn))
		(void)nvmfd_controller_notice(c, NVMFD_AEN_DISC_CHANGE,
		    NVMFD_AER_NOTICE_DISC_CHANGED, NVME_LOG_DISCOVERY);
}

static void
summarize(const struct reload *r)
{
	if (r->added + r->removed + r->changed == 0) {
		daemon_log(LOG_INFO, "reload: %s: no change to subsystems, namespaces or "
		    "allowed hosts (%u subsystems)", r->file, r->cfg->nsubsystems);
		return;
	}
	daemon_log(LOG_INFO, "reload: %s: subsystems %u added, %u removed, %u changed "
	    "(%u now); allowed_hosts replaced in %u, ports in %u; namespaces %u added, "
	    "%u removed, %u changed; %u associations ended; discovery log generation "
	    "%llu%s", r->file, r->added, r->removed, r->changed, r->cfg->nsubsystems,
	    r->hosts_changed, r->ports_changed, r->ns_added, r->ns_removed, r->ns_changed,
	    r->ended, (unsigned long long)r->cfg->genctr,
	    r->discovery_changed ? " (changed)" : "");
}

void
nvmfd_reload(struct nvmfd_config *cfg, const struct nvmfd_options *o)
{
	struct reload r = { .file = o->config_file, .cfg = cfg };
	struct nvmfd_subsystem **list;
	char err[512];

	if (nvmfd_config_load_json(&r.next, o->config_file, err, sizeof(err)) != 0) {
		daemon_log(LOG_ERR, "reload: %s; keeping the running configuration", err);
		nvmfd_config_free(&r.next);
		return;
	}
	nvmfd_config_resolve(&r.next, o);
	check_fixed(&r);
	for (uint32_t i = 0; i < r.next.nsubsystems; i++)
		map_ports(&r, r.next.subsystems[i]);
	r.changes = calloc(cfg->nsubsystems + r.next.nsubsystems, sizeof(*r.changes));
	list = calloc(r.next.nsubsystems, sizeof(*list));
	if (r.changes == NULL || list == NULL) {
		daemon_log(LOG_ERR, "reload: %s: out of memory; keeping the running "
		    "configuration", r.file);
		free(r.changes);
		free(list);
		nvmfd_config_free(&r.next);
		return;
	}
	for (uint32_t i = 0; i < r.next.nsubsystems; i++)
		for (uint32_t k = 0; k < cfg->nsubsystems; k++)
			if (strcmp(cfg->subsystems[k]->nqn, r.next.subsystems[i]->nqn) == 0)
				check_fixed_subsystem(&r, cfg->subsystems[k],
				    r.next.subsystems[i]);

	nvmfd_config_wrlock();
	apply(&r, list);
	nvmfd_config_unlock();

	/* Connect now sees the new configuration: end what it shuts out. */
	for (uint32_t i = 0; i < r.nchanges; i++) {
		struct visit v = { &r, &r.changes[i] };

		if (r.changes[i].added)
			continue;
		nvmfd_controllers_foreach(r.changes[i].ss, settle_controller, &v);
	}
	if (r.discovery_changed)
		nvmfd_controllers_foreach(NULL, notify_discovery, &r);
	summarize(&r);

	/* The old parts go once their last user is done. */
	for (uint32_t i = 0; i < r.nchanges; i++) {
		if (r.changes[i].removed)
			nvmfd_subsystem_put(r.changes[i].ss);
		nvmfd_subsystem_put(r.changes[i].shell);
	}
	for (uint32_t i = 0; i < r.next.nsubsystems; i++)
		r.next.subsystems[i] = NULL;	/* put above or moved */
	r.next.nsubsystems = 0;
	nvmfd_config_free(&r.next);
	free(r.changes);
}
