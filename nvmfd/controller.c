/* SPDX-License-Identifier: BSD-2-Clause
 * Copyright (c) 2026 The nvmf developers */
/*
 * controller.c - the controllers of an NVM subsystem (and the discovery
 * controller): their registers, features, queues and keep-alive timer.
 * Queues of one controller run on separate threads; ctrl->lock guards it.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <syslog.h>
#include <time.h>

#include "nvmfd.h"

/* Discovery controllers, for discovery log change notices. */
static pthread_mutex_t discovery_lock = PTHREAD_MUTEX_INITIALIZER;
static struct nvmfd_controller *discovery_ctrls;

uint64_t
nvmfd_now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

struct nvmfd_controller *
nvmfd_controller_create(struct nvmfd_subsystem *ss, const struct nvmfd_config *cfg,
    const char *hostnqn, const uint8_t hostid[16], uint32_t kato_ms)
{
	struct nvmfd_controller *c = calloc(1, sizeof(*c));

	if (c == NULL)
		return NULL;
	c->queues = calloc(cfg->max_io_queues + 1, sizeof(*c->queues));
	if (c->queues == NULL) {
		free(c);
		return NULL;
	}
	c->nqueues = cfg->max_io_queues + 1;
	c->ss = ss;
	c->cfg = cfg;
	snprintf(c->hostnqn, sizeof(c->hostnqn), "%s", hostnqn);
	memcpy(c->hostid, hostid, sizeof(c->hostid));
	pthread_mutex_init(&c->lock, NULL);
	c->refs = 1;
	c->kato_ms = kato_ms;
	c->feat[NVME_FEAT_VOLATILE_WC] = 1;
	atomic_store(&c->last_traffic_ms, (long)nvmfd_now_ms());
	if (ss != NULL) {
		nvmfd_subsystem_get(ss);	/* kept while the controller lives */
		pthread_mutex_lock(&ss->lock);
		/* Dynamic controller model: the next free ID in 1..0xFFEF. */
		for (;;) {
			struct nvmfd_controller *o;
			uint16_t id = ss->next_cntlid;

			ss->next_cntlid = id >= 0xffef ? 1 : id + 1;
			for (o = ss->controllers; o != NULL && o->cntlid != id; o = o->next)
				;
			if (o == NULL) {
				c->cntlid = id;
				break;
			}
		}
		c->next = ss->controllers;
		ss->controllers = c;
		pthread_mutex_unlock(&ss->lock);
	} else {
		static atomic_ushort discovery_ids;

		c->cntlid = (uint16_t)(atomic_fetch_add(&discovery_ids, 1) % 0xffef + 1);
		pthread_mutex_lock(&discovery_lock);
		c->disc_next = discovery_ctrls;
		discovery_ctrls = c;
		pthread_mutex_unlock(&discovery_lock);
	}
	return c;
}

struct nvmfd_controller *
nvmfd_controller_find(struct nvmfd_subsystem *ss, uint16_t cntlid)
{
	struct nvmfd_controller *c;

	pthread_mutex_lock(&ss->lock);
	for (c = ss->controllers; c != NULL; c = c->next) {
		if (c->cntlid == cntlid) {
			pthread_mutex_lock(&c->lock);
			if (c->dead) {
				pthread_mutex_unlock(&c->lock);
				c = NULL;
			} else {
				c->refs++;
				pthread_mutex_unlock(&c->lock);
			}
			break;
		}
	}
	pthread_mutex_unlock(&ss->lock);
	return c;
}

void
nvmfd_controller_release(struct nvmfd_controller *c)
{
	int left;

	if (c->ss != NULL)
		pthread_mutex_lock(&c->ss->lock);
	pthread_mutex_lock(&c->lock);
	left = --c->refs;
	pthread_mutex_unlock(&c->lock);
	if (left == 0 && c->ss != NULL) {
		struct nvmfd_controller **pp;

		for (pp = &c->ss->controllers; *pp != NULL; pp = &(*pp)->next)
			if (*pp == c) {
				*pp = c->next;
				break;
			}
	}
	if (c->ss != NULL)
		pthread_mutex_unlock(&c->ss->lock);
	if (left == 0 && c->ss == NULL) {
		struct nvmfd_controller **pp;

		pthread_mutex_lock(&discovery_lock);
		for (pp = &discovery_ctrls; *pp != NULL; pp = &(*pp)->disc_next)
			if (*pp == c) {
				*pp = c->disc_next;
				break;
			}
		pthread_mutex_unlock(&discovery_lock);
	}
	if (left == 0) {
		if (c->counted)
			nvmfd_limit_association_put(c->hostnqn, c->ss == NULL);
		if (c->ss != NULL)
			nvmfd_subsystem_put(c->ss);
		pthread_mutex_destroy(&c->lock);
		free(c->queues);
		free(c);
	}
}

const char *
nvmfd_controller_name(const struct nvmfd_controller *c)
{
	return c->ss != NULL ? c->ss->nqn : NVMF_DISCOVERY_NQN;
}

void
nvmfd_controller_kill(struct nvmfd_controller *c, const char *why)
{
	pthread_mutex_lock(&c->lock);
	if (!c->dead) {
		c->dead = true;
		if (why != NULL)
			daemon_log(LOG_WARNING, "controller %u of %s (host %s): %s; "
			    "ending the association", c->cntlid, nvmfd_controller_name(c),
			    c->hostnqn, why);
	}
	/* Wake every queue's thread; each closes its own connection. */
	for (uint32_t i = 0; i < c->nqueues; i++)
		if (c->queues[i] != NULL)
			shutdown(c->queues[i]->fd, SHUT_RDWR);
	pthread_mutex_unlock(&c->lock);
}

void
nvmfd_controller_touch(struct nvmfd_controller *c)
{
	atomic_store(&c->last_traffic_ms, (long)nvmfd_now_ms());
}

bool
nvmfd_controller_first_deviation(struct nvmfd_controller *c, enum nvmfd_deviation d)
{
	bool first;

	pthread_mutex_lock(&c->lock);
	first = !(c->deviations_logged & d);
	c->deviations_logged |= d;
	pthread_mutex_unlock(&c->lock);
	return first;
}

bool
nvmfd_controller_kato_expired(struct nvmfd_controller *c)
{
	uint32_t kato = c->kato_ms;

	if (kato == 0)
		return false;
	return nvmfd_now_ms() - (uint64_t)atomic_load(&c->last_traffic_ms) > kato;
}

int
nvmfd_controller_attach_queue(struct nvmfd_controller *c, uint16_t qid,
    struct nvmfd_conn *conn)
{
	int rc = -1;

	pthread_mutex_lock(&c->lock);
	if (!c->dead && qid < c->nqueues && c->queues[qid] == NULL) {
		c->queues[qid] = conn;
		rc = 0;
	}
	pthread_mutex_unlock(&c->lock);
	return rc;
}

void
nvmfd_controller_detach_queue(struct nvmfd_controller *c, uint16_t qid,
    struct nvmfd_conn *conn)
{
	pthread_mutex_lock(&c->lock);
	if (qid < c->nqueues && c->queues[qid] == conn)
		c->queues[qid] = NULL;
	if (qid == 0) {
		/* Held AERs belong to the admin queue that goes away now. */
		for (uint32_t i = 0; i < c->naer; i++)
			nvmf_capsule_free(c->aer[i]);
		c->naer = 0;
	}
	pthread_mutex_unlock(&c->lock);
}

bool
nvmfd_controller_notice(struct nvmfd_controller *c, uint32_t aec_bit, uint8_t info,
    uint8_t lid)
{
	bool queued = false;

	pthread_mutex_lock(&c->lock);
	/*
	 * As nvmet: a notice the host did not enable is not sent, and one of a
	 * kind already reported waits until its log page is read (masked).
	 */
	if (!c->dead && (c->aec & aec_bit) && !(c->aen_masked & aec_bit) &&
	    c->nevents < NVMFD_MAX_EVENTS) {
		c->aen_masked |= aec_bit;
		c->events[c->nevents++] = NVME_AER_CDW0(NVME_AER_TYPE_NOTICE, info, lid);
		queued = true;
	}
	pthread_mutex_unlock(&c->lock);
	return queued;
}

bool
nvmfd_controller_ns_changed(struct nvmfd_controller *c, const uint32_t *nsids, uint32_t n)
{
	pthread_mutex_lock(&c->lock);
	for (uint32_t i = 0; i < n && c->nchanged_ns != UINT32_MAX; i++) {
		uint32_t k;

		for (k = 0; k < c->nchanged_ns && c->changed_ns[k] != nsids[i]; k++)
			;
		if (k < c->nchanged_ns)
			continue;
		if (c->nchanged_ns == NVMFD_MAX_CHANGED_NS) {
			/* More than the log holds: FFFFFFFFh says "rescan them all". */
			c->changed_ns[0] = 0xffffffffu;
			c->nchanged_ns = UINT32_MAX;
			break;
		}
		c->changed_ns[c->nchanged_ns++] = nsids[i];
	}
	pthread_mutex_unlock(&c->lock);
	return nvmfd_controller_notice(c, NVMFD_AEN_NS_ATTR, NVME_AER_NOTICE_NS_CHANGED,
	    NVME_LOG_CHANGED_NS);
}

void
nvmfd_controller_deliver_events(struct nvmfd_controller *c)
{
	struct nvmf_capsule *aer[NVMFD_MAX_AER];
	uint32_t cdw0[NVMFD_MAX_AER], n = 0;

	pthread_mutex_lock(&c->lock);
	while (c->naer > 0 && c->nevents > 0) {
		aer[n] = c->aer[--c->naer];
		cdw0[n++] = c->events[0];
		memmove(c->events, c->events + 1, --c->nevents * sizeof(c->events[0]));
	}
	pthread_mutex_unlock(&c->lock);
	for (uint32_t i = 0; i < n; i++)
		nvmf_capsule_complete(aer[i], 0, cdw0[i], 0, 0);
}

void
nvmfd_controller_aen_clear(struct nvmfd_controller *c, uint32_t aec_bit)
{
	pthread_mutex_lock(&c->lock);
	c->aen_masked &= ~aec_bit;
	pthread_mutex_unlock(&c->lock);
}

void
nvmfd_controller_take_changed_ns(struct nvmfd_controller *c, struct nvme_changed_ns_list *l)
{
	pthread_mutex_lock(&c->lock);
	memset(l, 0, sizeof(*l));
	if (c->nchanged_ns == UINT32_MAX)
		l->nsid[0] = 0xffffffffu;
	else
		memcpy(l->nsid, c->changed_ns, c->nchanged_ns * sizeof(l->nsid[0]));
	c->nchanged_ns = 0;
	pthread_mutex_unlock(&c->lock);
}

void
nvmfd_controllers_foreach(struct nvmfd_subsystem *ss,
    void (*fn)(struct nvmfd_controller *c, void *arg), void *arg)
{
	pthread_mutex_t *lock = ss != NULL ? &ss->lock : &discovery_lock;

	pthread_mutex_lock(lock);
	for (struct nvmfd_controller *c = ss != NULL ? ss->controllers : discovery_ctrls;
	    c != NULL; c = ss != NULL ? c->next : c->disc_next)
		fn(c, arg);
	pthread_mutex_unlock(lock);
}

static uint64_t
cap_value(void)
{
	return (uint64_t)(NVMFD_QUEUE_SIZE - 1) | NVME_CAP_CQR |
	    ((uint64_t)2 << NVME_CAP_TO_SHIFT) |	/* 1 s to become ready */
	    NVME_CAP_CSS_NVM;
}

uint16_t
nvmfd_controller_property_get(struct nvmfd_controller *c, uint32_t ofst, bool eight,
    uint64_t *value)
{
	pthread_mutex_lock(&c->lock);
	switch (ofst) {
	case NVME_REG_CAP:
		*value = cap_value();
		if (!eight)
			*value &= 0xffffffffu;
		break;
	case NVME_REG_CAP + 4:
		*value = cap_value() >> 32;
		break;
	case NVME_REG_VS:
		*value = NVME_VS(1, 3, 0);
		break;
	case NVME_REG_CC:
		*value = c->cc;
		break;
	case NVME_REG_CSTS:
		*value = c->csts;
		break;
	default:
		pthread_mutex_unlock(&c->lock);
		return NVME_STATUS(NVME_SCT_GENERIC, NVME_SC_INVALID_FIELD);
	}
	pthread_mutex_unlock(&c->lock);
	if (eight && ofst != NVME_REG_CAP)
		return NVME_STATUS(NVME_SCT_GENERIC, NVME_SC_INVALID_FIELD);
	return 0;
}

uint16_t
nvmfd_controller_property_set(struct nvmfd_controller *c, uint32_t ofst, bool eight,
    uint64_t value)
{
	uint32_t cc = (uint32_t)value, old;
	bool reset = false;

	if (ofst != NVME_REG_CC || eight)
		return NVME_STATUS(NVME_SCT_GENERIC, NVME_SC_INVALID_FIELD);
	pthread_mutex_lock(&c->lock);
	old = c->cc;
	c->cc = cc;
	if ((cc & NVME_CC_EN) && !(old & NVME_CC_EN)) {
		uint32_t sqes = (cc >> NVME_CC_IOSQES_SHIFT) & 0xf;
		uint32_t cqes = (cc >> NVME_CC_IOCQES_SHIFT) & 0xf;

		if (c->ss != NULL && (sqes != 6 || cqes != 4))
			c->csts |= NVME_CSTS_CFS;	/* entry sizes we cannot use */
		else
			c->csts |= NVME_CSTS_RDY;
	} else if (!(cc & NVME_CC_EN) && (old & NVME_CC_EN)) {
		c->csts &= ~(NVME_CSTS_RDY | NVME_CSTS_CFS);
		c->csts &= ~(3u << NVME_CSTS_SHST_SHIFT);
		reset = true;
	}
	if (cc & NVME_CC_SHN_MASK)
		c->csts = (c->csts & ~(3u << NVME_CSTS_SHST_SHIFT)) | NVME_CSTS_SHST_COMPLETE;
	if (reset) {
		/*
		 * A controller reset deletes the I/O queues, and the reset is over
		 * once CSTS.RDY reads 0: free their slots now rather than when each
		 * queue's thread gets round to leaving, so the host can set the queue
		 * count and connect I/O queues again at once. The old threads' own
		 * detach finds the slot no longer theirs and leaves it alone.
		 */
		for (uint32_t i = 1; i < c->nqueues; i++) {
			if (c->queues[i] != NULL) {
				shutdown(c->queues[i]->fd, SHUT_RDWR);
				c->queues[i] = NULL;
			}
		}
		c->num_io_queues = 0;
	}
	pthread_mutex_unlock(&c->lock);
	return 0;
}
