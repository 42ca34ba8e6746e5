/* SPDX-License-Identifier: BSD-2-Clause
 * Copyright (c) 2026 The nvmf developers */
/*
 * limits.c - what nvmfd serves at once: connections (each a thread),
 * associations per host NQN and discovery associations. Callers log the
 * refusal; here only the counting.
 */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "nvmfd.h"

/* Associations of one host NQN; the list holds only hosts with some. */
struct host_count {
	struct host_count *next;
	uint32_t n;
	char nqn[NVMF_NQN_FIELD_LEN];
};

static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static uint32_t connections;
static uint32_t discovery_associations;
static struct host_count *hosts;

bool
nvmfd_limit_connection_take(const struct nvmfd_config *cfg, uint32_t *open)
{
	bool ok;

	pthread_mutex_lock(&lock);
	ok = connections < cfg->limit[NVMFD_LIMIT_CONNECTIONS];
	if (ok)
		connections++;
	*open = connections;
	pthread_mutex_unlock(&lock);
	return ok;
}

void
nvmfd_limit_connection_put(void)
{
	pthread_mutex_lock(&lock);
	connections--;
	pthread_mutex_unlock(&lock);
}

static struct host_count **
find_host(const char *hostnqn)
{
	struct host_count **pp;

	for (pp = &hosts; *pp != NULL && strcmp((*pp)->nqn, hostnqn) != 0; pp = &(*pp)->next)
		;
	return pp;
}

int
nvmfd_limit_association_take(const struct nvmfd_config *cfg, const char *hostnqn,
    bool discovery, char *why, size_t len)
{
	uint32_t max;
	struct host_count **pp, *h;
	int rc = -1;

	pthread_mutex_lock(&lock);
	if (discovery) {
		/* Discovery is brief and anonymous: one pool for all hosts. */
		max = cfg->limit[NVMFD_LIMIT_DISCOVERY_ASSOCIATIONS];
		if (discovery_associations >= max) {
			snprintf(why, len, "%u discovery associations open "
			    "(max_discovery_associations %u)", discovery_associations, max);
		} else {
			discovery_associations++;
			rc = 0;
		}
		goto out;
	}
	max = cfg->limit[NVMFD_LIMIT_HOST_ASSOCIATIONS];
	pp = find_host(hostnqn);
	if (*pp != NULL && (*pp)->n >= max) {
		snprintf(why, len, "%u associations of this host open "
		    "(max_host_associations %u)", (*pp)->n, max);
		goto out;
	}
	if (*pp == NULL) {
		h = calloc(1, sizeof(*h));
		if (h == NULL) {
			snprintf(why, len, "out of memory to count associations");
			goto out;
		}
		snprintf(h->nqn, sizeof(h->nqn), "%s", hostnqn);
		*pp = h;
	}
	(*pp)->n++;
	rc = 0;
out:
	pthread_mutex_unlock(&lock);
	return rc;
}

void
nvmfd_limit_association_put(const char *hostnqn, bool discovery)
{
	struct host_count **pp, *h;

	pthread_mutex_lock(&lock);
	if (discovery) {
		discovery_associations--;
	} else if (*(pp = find_host(hostnqn)) != NULL && --(*pp)->n == 0) {
		h = *pp;
		*pp = h->next;
		free(h);
	}
	pthread_mutex_unlock(&lock);
}
