/* SPDX-License-Identifier: BSD-2-Clause
 * Copyright (c) 2026 The nvmf developers */
/*
 * reconnect.c - what happens between losing an association and the next:
 * I/O held (not failed) and replayed on the new queues, and the lease that
 * lets one `nvmecontrol reconnect` at a time rebuild the association from
 * the parameters kept since connect.
 */
#include <errno.h>
#include <json-c/json.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>

#include "hostd.h"

int hd_reconnect_jitter_ms = -1;

/* splitmix64's finaliser: a well-mixed number from a few that are not. */
static uint64_t
mix(uint64_t x)
{
	x += 0x9e3779b97f4a7c15ull;
	x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ull;
	x = (x ^ (x >> 27)) * 0x94d049bb133111ebull;
	return x ^ (x >> 31);
}

/*
 * The phase is a hash of the controller and the moment of its loss with a
 * secret drawn at start: random across controllers and hostd runs, the
 * same for every RECONNECT of one loss, so that they stay reconnect-delay
 * apart (the wait from a target's return to the next attempt is still at
 * most the delay) and nothing needs storing per controller.
 */
unsigned
hd_reconnect_event_delay(const char *name)
{
	static uint64_t secret;
	uint64_t jitter, lost, period;
	unsigned index;
	struct hd_ctrl *c;

	if (hd_reconnect_jitter_ms == 0)
		return 0;
	c = hd_ctrl_find(name);
	if (c == NULL)
		return 0;
	hd_registry_lock();
	if (secret == 0 && getrandom(&secret, sizeof(secret), GRND_NONBLOCK) !=
	    (ssize_t)sizeof(secret))
		secret = mix(hd_now_ms() ^ (uint64_t)(uintptr_t)&secret);
	lost = c->lost_at_ms;
	period = (uint64_t)c->params.reconnect_delay * 1000;
	index = c->index;
	hd_registry_unlock();
	hd_ctrl_put(c);
	jitter = hd_reconnect_jitter_ms < 0 ? period / 10 : (uint64_t)hd_reconnect_jitter_ms;
	if (jitter > period)
		jitter = period;
	if (jitter == 0)
		return 0;
	return (unsigned)(mix(secret ^ mix(((uint64_t)index << 40) ^ lost)) % jitter);
}

/* Registry lock held: the lease's holder ends it (the owner's count follows). */
static void
lease_end(struct hd_ctrl *c)
{
	struct hd_lease_owner *owner = c->lease;

	if (owner != NULL && owner->held > 0)
		owner->held--;
	c->lease = NULL;
}

enum hd_lease_result
hd_reconnect_begin(struct hd_ctrl *c, struct hd_lease_owner *owner)
{
	enum hd_lease_result r = HD_LEASE_OK;

	hd_registry_lock();
	if (c->disconnecting || c->state == HD_CTRL_DELETING || c->state == HD_CTRL_DETACHED)
		r = HD_LEASE_GONE;
	else if (c->state == HD_CTRL_CONNECTED)
		r = HD_LEASE_CONNECTED;
	else if (c->state == HD_CTRL_RECONNECTING)
		r = HD_LEASE_BUSY;
	else {
		c->state = HD_CTRL_RECONNECTING;
		c->lease = owner;
		owner->held++;
		c->attempts++;
	}
	hd_registry_unlock();
	return r;
}

void
hd_reconnect_abort(struct hd_ctrl *c, struct hd_lease_owner *owner, const char *why)
{
	bool released = false;

	hd_registry_lock();
	if (c->state == HD_CTRL_RECONNECTING && c->lease == owner) {
		c->state = HD_CTRL_DISCONNECTED;
		lease_end(c);
		released = true;
	}
	hd_registry_unlock();
	if (released && why != NULL)
		daemon_log(LOG_WARNING, "%s: reconnect failed: %s", c->name, why);
}

void
hd_reconnect_release_owner(struct hd_lease_owner *owner)
{
	hd_registry_lock();
	/* Most clients ended their leases themselves (or took none): no walk. */
	if (owner->held > 0) {
		for (struct hd_ctrl *c = hd_ctrls_first(); c != NULL; c = c->next) {
			if (c->state == HD_CTRL_RECONNECTING && c->lease == owner) {
				c->state = HD_CTRL_DISCONNECTED;
				c->lease = NULL;
			}
		}
		owner->held = 0;
	}
	hd_registry_unlock();
}

struct install_args {
	struct hd_ctrl *c;
	struct hd_lease_owner *owner;
	const struct hd_ctrl_params *params;
	struct hd_queue *queues;
	uint32_t nqueues;
	struct nvmf_association *na;
	const struct nvme_identify_controller *id;
	uint16_t cntlid;
	bool changed;			/* the kept parameters are not what they were */
	int rc;
};

/* Loop thread: the new queues replace the lost ones and held I/O goes. */
static void
install_on_loop(void *arg)
{
	struct install_args *a = arg;
	struct hd_ctrl *c = a->c;
	struct nvmf_association *old = c->na;
	bool still_ours;

	/*
	 * The dial took time: a disconnect or the loss timer may have taken the
	 * controller meanwhile. Then the new queues are not installed.
	 */
	hd_registry_lock();
	still_ours = c->state == HD_CTRL_RECONNECTING && c->lease == a->owner &&
	    !c->disconnecting;
	if (still_ours) {
		/* The command line's parameters become the kept ones. */
		a->changed = memcmp(&c->params, a->params, sizeof(c->params)) != 0;
		c->params = *a->params;
		c->id = *a->id;
		c->cntlid = a->cntlid;
		c->max_transfer = hd_max_transfer(a->id);
	}
	hd_registry_unlock();
	if (!still_ours) {
		a->rc = -ECANCELED;
		return;
	}

	hd_loop_remove_queues(hd_loop, c);	/* nothing left, but be sure */
	for (uint32_t i = 0; i < a->nqueues; i++)
		c->queues[i] = a->queues[i];
	c->nqueues = a->nqueues;
	c->na = a->na;
	nvmf_association_free(old);
	for (uint32_t i = 0; i < c->nqueues; i++) {
		a->rc = hd_loop_add_queue(hd_loop, c, (uint16_t)i);
		if (a->rc != 0) {
			/* Still disconnected: the held I/O stays held. */
			hd_loop_remove_queues(hd_loop, c);
			hd_registry_lock();
			c->state = HD_CTRL_DISCONNECTED;
			lease_end(c);
			hd_registry_unlock();
			return;
		}
	}
	hd_registry_lock();
	c->state = HD_CTRL_CONNECTED;
	lease_end(c);
	c->fast_failed = false;
	hd_registry_unlock();
	c->ka_outstanding = false;
	c->ka_next_ms = hd_now_ms();
	c->rr = 0;
	hd_ctrl_start_loop_work(c);
	hd_ctrl_replay_held(c);
	hd_loop_timers_changed();
}

static void
rescan_after_reconnect(void *arg)
{
	struct hd_ctrl *c = arg;
	char err[256];

	if (c->state == HD_CTRL_CONNECTED && hd_ns_scan(c, err, sizeof(err)) != 0)
		daemon_log(LOG_WARNING, "%s: namespace rescan after reconnect: %s", c->name, err);
	hd_ctrl_put(c);
}

int
hd_reconnect_finish(struct hd_ctrl *c, struct hd_lease_owner *owner, struct json_object *req,
    int *fds, unsigned nfds, bool *invalid, char *err, size_t errlen)
{
	struct hd_queue *queues = calloc(HOSTD_MAX_IO_QUEUES + 1, sizeof(*queues));
	struct hd_handoff_msg *m = malloc(sizeof(*m));
	struct install_args a = { .c = c, .queues = queues };
	char kept_subnqn[NVMF_NQN_MAX_LEN + 1];
	bool leased, never_scanned;

	*invalid = false;
	if (queues == NULL || m == NULL) {
		free(queues);
		free(m);
		snprintf(err, errlen, "out of memory");
		return -1;
	}
	/* A bad request is that, whatever state the controller is in. */
	if (hd_handoff_parse(req, nfds, m, err, errlen) != 0) {
		*invalid = true;
		goto fail;
	}
	hd_registry_lock();
	leased = c->state == HD_CTRL_RECONNECTING && c->lease == owner;
	memcpy(kept_subnqn, c->params.subnqn, sizeof(kept_subnqn));
	hd_registry_unlock();
	if (!leased) {
		snprintf(err, errlen, "%s: no reconnect lease (begin the reconnect first)",
		    c->name);
		goto fail;
	}
	if (strcmp(m->params.subnqn, kept_subnqn) != 0) {
		snprintf(err, errlen, "SubNQN %s is not %s's (%s)", m->params.subnqn, c->name,
		    kept_subnqn);
		goto fail;
	}
	if (m->params.discovery != c->discovery) {
		snprintf(err, errlen, "%s is %s controller, the new association %s one",
		    c->name, c->discovery ? "a discovery" : "an NVM",
		    m->params.discovery ? "a discovery" : "an NVM");
		goto fail;
	}
	if (hd_adopt_queues(c, m, &a.na, queues, fds, err, errlen) != 0)
		goto fail;
	/* The loop installs the parameters with the queues: its timers read them. */
	a.params = &m->params;
	a.nqueues = m->nqueues;
	a.owner = owner;
	a.id = &m->id;
	a.cntlid = m->cntlid;
	hd_loop_call(hd_loop, install_on_loop, &a);
	if (a.rc == -ECANCELED) {
		/* Not installed: these queues were never the controller's. */
		for (uint32_t i = 0; i < a.nqueues; i++)
			nvmf_qpair_free(queues[i].qp);
		nvmf_association_free(a.na);
		snprintf(err, errlen, "%s was disconnected or detached during the reconnect",
		    c->name);
		goto out;
	}
	if (a.rc != 0) {
		snprintf(err, errlen, "event loop: %s", strerror(-a.rc));
		goto out;
	}
	/* Connected again, it is the loop's to lose: log what was installed. */
	daemon_log(LOG_INFO, "%s: reconnected to %s at %s:%s, controller %u, %u I/O queue%s",
	    c->name, m->params.subnqn, m->params.traddr, m->params.trsvcid, a.cntlid,
	    a.nqueues - 1, a.nqueues == 2 ? "" : "s");
	hd_event_raise("RECONNECTED", c->name);
	if (a.changed)
		hd_state_save(c);
	if (c->discovery) {
		/* Subsystems may have come while it was away: connect-all looks. */
		hd_discovery_changed(c, "reconnected");
		free(queues);
		free(m);
		return 0;
	}
	hd_registry_lock();
	c->refs++;
	never_scanned = c->namespaces == NULL;
	hd_registry_unlock();
	/*
	 * A controller kept across a restart of nvmf-hostd has no files yet:
	 * like connect, the reconnect that makes it usable returns with them
	 * there. Otherwise the files stayed, and the rescan (namespaces may have
	 * changed meanwhile) need not hold up the reply.
	 */
	if (never_scanned)
		rescan_after_reconnect(c);
	else
		hd_task_queue(rescan_after_reconnect, c);
	free(queues);
	free(m);
	return 0;
fail:
	hd_reconnect_abort(c, owner, err);
out:
	free(queues);
	free(m);
	return -1;
}
