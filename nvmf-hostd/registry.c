/* SPDX-License-Identifier: BSD-2-Clause
 * Copyright (c) 2026 The nvmf developers */
/*
 * registry.c - the controllers nvmf-hostd holds, by name: the registry lock,
 * naming (nvme<lowest free index>, or the name a restored controller had),
 * lookups and the references that keep a controller while someone uses it.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "hostd.h"

static pthread_mutex_t registry = PTHREAD_MUTEX_INITIALIZER;
static struct hd_ctrl *controllers;	/* in index order (registry lock) */
/*
 * by_index[i] is nvme<i> (registry lock): control requests name their
 * controller, and with a thousand of them a walk of the list per request
 * was a fair part of a reconnect storm's CPU in nvmf-hostd. Should it ever
 * fail to grow, lookups walk the list as before.
 */
static struct hd_ctrl **by_index;
static unsigned by_index_len;
static bool by_index_broken;

void
hd_registry_lock(void)
{
	pthread_mutex_lock(&registry);
}

void
hd_registry_unlock(void)
{
	pthread_mutex_unlock(&registry);
}

struct hd_ctrl *
hd_ctrls_first(void)
{
	return controllers;
}

void
hd_ctrl_params_get(const struct hd_ctrl *c, struct hd_ctrl_params *p)
{
	hd_registry_lock();
	*p = c->params;		/* a reconnect's install may replace them */
	hd_registry_unlock();
}

const char *
hd_ctrl_state_name(enum hd_ctrl_state s)
{
	switch (s) {
	case HD_CTRL_CONNECTED: return "connected";
	case HD_CTRL_DISCONNECTED: return "disconnected";
	case HD_CTRL_RECONNECTING: return "reconnecting";
	case HD_CTRL_DETACHED: return "detached";
	case HD_CTRL_DELETING: return "deleting";
	}
	return "unknown";
}

static void
ctrl_free(struct hd_ctrl *c)
{
	nvmf_association_free(c->na);
	pthread_mutex_destroy(&c->scan_lock);
	free(c);
}

void
hd_ctrl_ref(struct hd_ctrl *c)
{
	hd_registry_lock();
	c->refs++;
	hd_registry_unlock();
}

void
hd_ctrl_put(struct hd_ctrl *c)
{
	int left;

	hd_registry_lock();
	left = --c->refs;
	hd_registry_unlock();
	if (left == 0)
		ctrl_free(c);
}

/* The index "nvme<i>" names, or -1: every name is made by link_at. */
static long
name_index(const char *name)
{
	char *end, again[16];
	unsigned long i;

	if (strncmp(name, "nvme", 4) != 0 || name[4] < '0' || name[4] > '9')
		return -1;
	i = strtoul(name + 4, &end, 10);
	if (*end != '\0' || i > UINT32_MAX)
		return -1;
	/* nvme01 is not nvme1's name. */
	snprintf(again, sizeof(again), "nvme%lu", i);
	return strcmp(again, name) == 0 ? (long)i : -1;
}

struct hd_ctrl *
hd_ctrl_find(const char *name)
{
	struct hd_ctrl *c;
	long i = name_index(name);

	hd_registry_lock();
	if (!by_index_broken) {
		c = i >= 0 && (unsigned long)i < by_index_len ? by_index[i] : NULL;
		if (c != NULL && !c->announced)
			c = NULL;
	} else {
		for (c = controllers; c != NULL && (!c->announced || strcmp(c->name, name) != 0);
		    c = c->next)
			;
	}
	if (c != NULL)
		c->refs++;
	hd_registry_unlock();
	return c;
}

unsigned
hd_ctrl_match(const char *target, struct hd_ctrl **out, unsigned max)
{
	unsigned n = 0;

	hd_registry_lock();
	for (struct hd_ctrl *c = controllers; c != NULL && n < max; c = c->next) {
		size_t len = strlen(c->name);
		bool match = c->announced && (strcmp(target, c->name) == 0 ||
		    strcmp(target, c->params.subnqn) == 0);

		/* nvme0ns1 names its controller nvme0. */
		if (!match && c->announced && strncmp(target, c->name, len) == 0 &&
		    strncmp(target + len, "ns", 2) == 0)
			for (struct hd_namespace *ns = c->namespaces; ns; ns = ns->next)
				if (strcmp(ns->name, target) == 0)
					match = true;
		if (match) {
			c->refs++;
			out[n++] = c;
		}
	}
	hd_registry_unlock();
	return n;
}

unsigned
hd_ctrls_snapshot(struct hd_ctrl **out, unsigned max)
{
	unsigned n = 0;

	hd_registry_lock();
	for (struct hd_ctrl *c = controllers; c != NULL && n < max; c = c->next) {
		c->refs++;
		out[n++] = c;
	}
	hd_registry_unlock();
	return n;
}

/* Links c under index (registry lock held); false if the index is taken. */
static bool
link_at(struct hd_ctrl *c, unsigned idx)
{
	struct hd_ctrl **pp;

	for (pp = &controllers; *pp != NULL && (*pp)->index < idx; pp = &(*pp)->next)
		;
	if (*pp != NULL && (*pp)->index == idx)
		return false;
	if (!by_index_broken && idx >= by_index_len) {
		unsigned len = idx < 64 ? 128 : idx * 2;
		struct hd_ctrl **grown = realloc(by_index, len * sizeof(*grown));

		if (grown != NULL) {
			memset(grown + by_index_len, 0, (len - by_index_len) * sizeof(*grown));
			by_index = grown;
			by_index_len = len;
		} else {
			by_index_broken = true;
		}
	}
	if (!by_index_broken)
		by_index[idx] = c;
	c->index = idx;
	snprintf(c->name, sizeof(c->name), "nvme%u", idx);
	c->next = *pp;
	*pp = c;
	return true;
}

void
hd_registry_add(struct hd_ctrl *c)
{
	unsigned idx = 0;

	hd_registry_lock();
	/* The lowest free number, as the kernel names nvme devices: the list is in order. */
	for (struct hd_ctrl *o = controllers; o != NULL && o->index == idx; o = o->next)
		idx++;
	link_at(c, idx);
	hd_registry_unlock();
}

bool
hd_registry_add_at(struct hd_ctrl *c, unsigned idx)
{
	bool ok;

	hd_registry_lock();
	ok = link_at(c, idx);
	hd_registry_unlock();
	return ok;
}

void
hd_registry_remove(struct hd_ctrl *c)
{
	hd_registry_lock();
	for (struct hd_ctrl **pp = &controllers; *pp != NULL; pp = &(*pp)->next)
		if (*pp == c) {
			*pp = c->next;
			if (c->index < by_index_len && by_index[c->index] == c)
				by_index[c->index] = NULL;
			break;
		}
	hd_registry_unlock();
}
