/*
 * controller.c - the controllers nvmf-hostd holds: taking one over from
 * nvmecontrol (validated as FreeBSD's kernel validates a hand-off), naming
 * it, keep-alive and AERs on the loop, losing it, disconnecting it.
 */
#include <errno.h>
#include <json-c/json.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "hostd.h"

static pthread_mutex_t registry = PTHREAD_MUTEX_INITIALIZER;
static struct hd_ctrl *controllers;

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

static const char *
state_name(enum hd_ctrl_state s)
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
hd_ctrl_put(struct hd_ctrl *c)
{
	int left;

	hd_registry_lock();
	left = --c->refs;
	hd_registry_unlock();
	if (left == 0)
		ctrl_free(c);
}

struct hd_ctrl *
hd_ctrl_find(const char *name)
{
	struct hd_ctrl *c;

	hd_registry_lock();
	for (c = controllers; c != NULL && (!c->announced || strcmp(c->name, name) != 0);
	    c = c->next)
		;
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

/* ----------------------------------------------------------- loop thread */

static void
ka_done(struct hd_cmd *cmd)
{
	struct hd_ctrl *c = cmd->ctrl;

	c->ka_outstanding = false;
	hd_loop_timers_changed();	/* the next one is due sooner than this deadline */
	if (cmd->error == 0 && NVME_CQE_STATUS(cmd->cqe.status) != 0)
		daemon_log(LOG_WARNING, "%s: Keep Alive failed: %s", c->name,
		    nvmf_status_string(NVME_CQE_STATUS(cmd->cqe.status)));
}

static void
ka_cmd_completed(void *arg, const struct nvme_completion *cqe)
{
	struct hd_cmd *cmd = arg;

	if (cqe != NULL)
		cmd->cqe = *cqe;
	cmd->error = cqe != NULL ? 0 : -EIO;
	ka_done(cmd);
}

static void aer_submit(struct hd_ctrl *c);

static void
rescan_task(void *arg)
{
	struct hd_ctrl *c = arg;
	struct nvme_changed_ns_list *log = calloc(1, sizeof(*log));
	struct nvme_completion cqe;
	struct nvme_command sqe;
	char err[256];

	/*
	 * Reading the Changed Namespace List clears the event: without it the
	 * controller sends no further namespace notices.
	 */
	if (log != NULL && c->state == HD_CTRL_CONNECTED) {
		nvmf_cmd_get_log_page(&sqe, NVME_LOG_CHANGED_NS, 0xffffffff, 0, sizeof(*log));
		if (hd_admin_sync(hd_loop, c, &sqe, log, sizeof(*log), &cqe) != 0 ||
		    NVME_CQE_STATUS(cqe.status) != 0)
			daemon_log(LOG_WARNING, "%s: reading the changed namespace list failed",
			    c->name);
	}
	free(log);
	if (c->state == HD_CTRL_CONNECTED && hd_ns_scan(c, err, sizeof(err)) != 0)
		daemon_log(LOG_WARNING, "%s: namespace rescan: %s", c->name, err);
	hd_ctrl_put(c);
}

static void
aer_completed(void *arg, const struct nvme_completion *cqe)
{
	struct hd_ctrl *c = arg;

	c->aer_outstanding = false;
	if (cqe == NULL || NVME_CQE_STATUS(cqe->status) != 0)
		return;		/* queue gone, or the controller refused AERs */
	if ((cqe->cdw0 & 0x7) == NVME_AER_TYPE_NOTICE &&
	    ((cqe->cdw0 >> 8) & 0xff) == NVME_AER_NOTICE_NS_CHANGED) {
		daemon_log(LOG_INFO, "%s: namespaces changed", c->name);
		hd_registry_lock();
		c->refs++;
		hd_registry_unlock();
		hd_task_queue(rescan_task, c);
	}
	aer_submit(c);
}

static void
aer_submit(struct hd_ctrl *c)
{
	struct nvme_command sqe = { .opc = NVME_ADMIN_ASYNC_EVENT_REQUEST };

	if (c->state != HD_CTRL_CONNECTED || c->aer_outstanding || c->queues[0].qp == NULL)
		return;
	if (nvmf_host_submit(c->queues[0].qp, &sqe, NULL, 0, false, aer_completed, c) == 0) {
		c->aer_outstanding = true;
		hd_loop_kick(&c->queues[0]);
	}
}

/*
 * Keep Alive every KATO/4, each answered within KATO/2: silence that starts
 * at any moment is noticed within 3/4 of KATO, never later than KATO.
 */
static uint64_t
keep_alive_timer(struct hd_ctrl *c, uint64_t now)
{
	uint32_t kato = c->params.kato_ms;
	struct nvme_command sqe;

	if (kato == 0)
		return UINT64_MAX;
	if (c->ka_outstanding) {
		if (now >= c->ka_sent_ms + kato / 2) {
			char why[96];

			snprintf(why, sizeof(why), "no Keep Alive response within %u ms",
			    kato / 2);
			hd_ctrl_lost(c, why);
			return now;
		}
		return c->ka_sent_ms + kato / 2;
	}
	if (now >= c->ka_next_ms) {
		nvmf_cmd_keep_alive(&sqe);
		c->ka_cmd.ctrl = c;
		c->ka_next_ms = now + kato / 4;
		if (nvmf_host_submit(c->queues[0].qp, &sqe, NULL, 0, false, ka_cmd_completed,
		    &c->ka_cmd) == 0) {
			c->ka_outstanding = true;
			c->ka_sent_ms = now;
			hd_loop_kick(&c->queues[0]);
			return now + kato / 2 < c->ka_next_ms ? now + kato / 2 : c->ka_next_ms;
		}
	}
	return c->ka_next_ms;
}

static void detach_task(void *arg);

/* While disconnected: RECONNECT events, fast I/O failure, controller loss. */
static uint64_t
loss_timers(struct hd_ctrl *c, uint64_t now)
{
	uint64_t next = UINT64_MAX;
	const struct hd_ctrl_params *p = &c->params;

	if (c->detach_queued)
		return UINT64_MAX;
	if (p->ctrl_loss_tmo > 0) {
		uint64_t due = c->lost_at_ms + (uint64_t)p->ctrl_loss_tmo * 1000;

		if (now >= due) {
			/* Detaching blocks: it is the task thread's work. */
			c->detach_queued = true;
			hd_registry_lock();
			c->refs++;
			hd_registry_unlock();
			hd_task_queue(detach_task, c);
			return UINT64_MAX;
		}
		next = due;
	}
	if (p->fast_io_fail_tmo >= 0 && !c->fast_failed) {
		uint64_t due = c->lost_at_ms + (uint64_t)p->fast_io_fail_tmo * 1000;

		if (now >= due) {
			daemon_log(LOG_WARNING, "%s: disconnected for %d s (fast_io_fail_tmo): "
			    "failing I/O with EIO while reconnecting goes on", c->name,
			    p->fast_io_fail_tmo);
			hd_registry_lock();
			c->fast_failed = true;
			hd_registry_unlock();
			hd_ctrl_fail_held(c, -EIO);
		} else if (due < next) {
			next = due;
		}
	}
	if (p->reconnect_delay > 0) {
		if (now >= c->next_event_ms) {
			hd_event_raise("RECONNECT", c->name);
			hd_registry_lock();
			c->events++;
			while (c->next_event_ms <= now)
				c->next_event_ms += (uint64_t)p->reconnect_delay * 1000;
			hd_registry_unlock();
		}
		if (c->next_event_ms < next)
			next = c->next_event_ms;
	}
	return next;
}

uint64_t
hd_ctrl_timers(struct hd_ctrl *c, uint64_t now)
{
	switch ((enum hd_ctrl_state)c->state) {	/* one atomic load */
	case HD_CTRL_CONNECTED:
		return keep_alive_timer(c, now);
	case HD_CTRL_DISCONNECTED:
	case HD_CTRL_RECONNECTING:
		/* Lost during its hand-off: that fails, no RECONNECT for it. */
		return c->announced ? loss_timers(c, now) : UINT64_MAX;
	default:
		return UINT64_MAX;
	}
}

void
hd_ctrl_lost(struct hd_ctrl *c, const char *why)
{
	if (c->state != HD_CTRL_CONNECTED)
		return;
	daemon_log(LOG_WARNING, "%s: association with %s at %s:%s lost: %s", c->name,
	    c->params.subnqn, c->params.traddr, c->params.trsvcid, why);
	/* devlist reads the loss's particulars under the lock. */
	hd_registry_lock();
	c->state = HD_CTRL_DISCONNECTED;
	snprintf(c->lost_reason, sizeof(c->lost_reason), "%s", why);
	c->lost_at_ms = hd_now_ms();
	c->next_event_ms = c->lost_at_ms;	/* RECONNECT at once (loss_timers) */
	c->events = 0;
	c->attempts = 0;
	c->fast_failed = false;
	hd_registry_unlock();
	c->detach_queued = false;
	c->ka_outstanding = false;
	c->aer_outstanding = false;
	/* Every queue goes; I/O in flight and waiting is held for the next one. */
	hd_loop_remove_queues(hd_loop, c);
	if (!c->announced)
		return;		/* the hand-off fails: nobody ever saw this controller */
	hd_event_raise("DISCONNECTED", c->name);
	hd_loop_timers_changed();	/* RECONNECT at once, then every reconnect_delay */
}

struct detach_args {
	struct hd_ctrl *c;
	bool detach;
};

static void
detach_on_loop(void *arg)
{
	struct detach_args *a = arg;
	struct hd_ctrl *c = a->c;

	/* A reconnect or a disconnect may have come first. */
	hd_registry_lock();
	if ((c->state != HD_CTRL_DISCONNECTED && c->state != HD_CTRL_RECONNECTING) ||
	    c->disconnecting) {
		hd_registry_unlock();
		return;
	}
	c->state = HD_CTRL_DETACHED;
	hd_registry_unlock();
	a->detach = true;
	hd_ctrl_fail_held(c, -EIO);
	hd_loop_remove_queues(hd_loop, c);	/* anything parked since */
}

static void unregister_ctrl(struct hd_ctrl *c);

/* The controller loss timer fired: held I/O fails, the files go, DETACHED. */
static void
detach_task(void *arg)
{
	struct detach_args a = { .c = arg };
	struct hd_ctrl *c = arg;
	int tmo;
	bool mine;

	hd_loop_call(hd_loop, detach_on_loop, &a);
	hd_registry_lock();
	mine = a.detach && !c->disconnecting;
	if (mine)
		c->disconnecting = true;	/* no disconnect can race us now */
	tmo = c->params.ctrl_loss_tmo;
	hd_registry_unlock();
	if (mine) {
		daemon_log(LOG_WARNING, "%s: disconnected for %d s (ctrl_loss_tmo): detaching",
		    c->name, tmo);
		hd_ns_remove_all(c);
		unregister_ctrl(c);
		hd_event_raise("DETACHED", c->name);
		hd_ctrl_put(c);		/* the registry's reference */
	}
	hd_ctrl_put(c);			/* the task's */
}

struct start_args {
	struct hd_ctrl *c;
	int rc;
};

static void
start_on_loop(void *arg)
{
	struct start_args *a = arg;
	struct hd_ctrl *c = a->c;

	for (uint32_t i = 0; i < c->nqueues; i++) {
		a->rc = hd_loop_add_queue(hd_loop, c, (uint16_t)i);
		if (a->rc != 0)
			return;
	}
	hd_ctrl_start_loop_work(c);
}

void
hd_ctrl_start_loop_work(struct hd_ctrl *c)
{
	c->ka_next_ms = hd_now_ms();	/* first Keep Alive at once */
	aer_submit(c);
	hd_loop_timers_changed();
}

static void
stop_on_loop(void *arg)
{
	struct hd_ctrl *c = arg;

	hd_loop_remove_queues(hd_loop, c);
	/* I/O held for a reconnect that will not come now. */
	hd_ctrl_fail_held(c, -ENODEV);
}

/* --------------------------------------------------------------- hand-off */

uint32_t
hd_max_transfer(const struct nvme_identify_controller *id)
{
	/*
	 * MDTS is in units of the minimum memory page size, 4 KiB or more
	 * (counting 4 KiB errs on the safe side); 0 is no limit. Past 1 MiB,
	 * 1 MiB: no FUSE request is larger.
	 */
	return id->mdts == 0 || id->mdts > 8 ? 1024 * 1024 : 4096u << id->mdts;
}

static void
register_ctrl(struct hd_ctrl *c)
{
	struct hd_ctrl **pp;
	unsigned idx = 0;

	hd_registry_lock();
	/* The lowest free number, as the kernel names nvme devices. */
	for (bool taken = true; taken; idx += taken) {
		taken = false;
		for (struct hd_ctrl *o = controllers; o != NULL; o = o->next)
			if (o->index == idx)
				taken = true;
	}
	c->index = idx;
	snprintf(c->name, sizeof(c->name), "nvme%u", idx);
	for (pp = &controllers; *pp != NULL && (*pp)->index < idx; pp = &(*pp)->next)
		;
	c->next = *pp;
	*pp = c;
	hd_registry_unlock();
}

static void
unregister_ctrl(struct hd_ctrl *c)
{
	hd_registry_lock();
	for (struct hd_ctrl **pp = &controllers; *pp != NULL; pp = &(*pp)->next)
		if (*pp == c) {
			*pp = c->next;
			break;
		}
	hd_registry_unlock();
}

/*
 * Adopts the sockets of a hand-off (read and checked by hd_handoff_parse).
 * On success the sockets belong to queues[] (fds[i] set to -1); on failure
 * nothing is adopted and the caller closes them.
 */
int
hd_adopt_queues(struct hd_ctrl *c, const struct hd_handoff_msg *m,
    struct nvmf_association **na, struct hd_queue *queues, int *fds, char *err,
    size_t errlen)
{
	struct nvmf_association_params ap = { .size = sizeof(ap) };
	uint32_t n = 0;

	for (uint32_t i = 0; i < m->nqueues; i++) {
		int type = 0;
		socklen_t len = sizeof(type);

		/* A queue is a connected TCP socket; anything else is a confused client. */
		if (getsockopt(fds[i], SOL_SOCKET, SO_TYPE, &type, &len) != 0 ||
		    type != SOCK_STREAM) {
			snprintf(err, errlen, "queue %u: the descriptor is not a stream socket", i);
			return -1;
		}
	}
	ap.header_digests = m->params.hdr_digest;
	ap.data_digests = m->params.data_digest;
	ap.sq_flow_control = m->params.sq_flow_control;
	*na = nvmf_association_create(&ap, err, errlen);
	if (*na == NULL)
		return -1;
	for (uint32_t i = 0; i < m->nqueues; i++) {
		memset(&queues[i], 0, sizeof(queues[i]));
		queues[i].qp = nvmf_host_qpair_adopt(*na, fds[i], &m->queues[i], err, errlen);
		if (queues[i].qp == NULL)
			goto fail;
		queues[i].ctrl = c;
		queues[i].qid = (uint16_t)i;
		n = i + 1;
	}
	for (uint32_t i = 0; i < n; i++)
		fds[i] = -1;	/* the queue pairs own them now */
	return 0;
fail:
	/* Give the sockets back: the caller closes them. */
	for (uint32_t i = 0; i < n; i++)
		(void)nvmf_qpair_release_fd(queues[i].qp);
	for (uint32_t i = 0; i < n; i++)
		queues[i].qp = NULL;
	nvmf_association_free(*na);
	*na = NULL;
	return -1;
}

struct announce_args {
	struct hd_ctrl *c;
	bool scanned;
	bool connected;
	char lost_reason[200];
};

/*
 * Loop thread: the hand-off is done. A controller whose association was
 * lost before this point never existed for anyone: no events, no name.
 */
static void
announce_on_loop(void *arg)
{
	struct announce_args *a = arg;

	hd_registry_lock();
	a->connected = a->c->state == HD_CTRL_CONNECTED;
	a->c->announced = a->connected && a->scanned;
	hd_registry_unlock();
	/* The loop writes the reason: it may read it without the lock. */
	memcpy(a->lost_reason, a->c->lost_reason, sizeof(a->lost_reason));
}

struct hd_ctrl *
hd_ctrl_handoff(struct json_object *req, int *fds, unsigned nfds, bool *invalid,
    char *err, size_t errlen)
{
	struct hd_handoff_msg *m = malloc(sizeof(*m));
	struct announce_args aa = { 0 };
	struct start_args sa;
	struct hd_ctrl *c;

	*invalid = false;
	c = calloc(1, sizeof(*c));
	if (c == NULL || m == NULL) {
		free(c);
		free(m);
		snprintf(err, errlen, "out of memory");
		return NULL;
	}
	if (hd_handoff_parse(req, nfds, m, err, errlen) != 0) {
		*invalid = true;
		goto fail_unregistered;
	}
	c->refs = 1;
	c->params = m->params;
	c->id = m->id;
	c->cntlid = m->cntlid;
	if (hd_adopt_queues(c, m, &c->na, c->queues, fds, err, errlen) != 0)
		goto fail_unregistered;
	c->nqueues = m->nqueues;
	pthread_mutex_init(&c->scan_lock, NULL);
	c->max_transfer = hd_max_transfer(&c->id);
	c->state = HD_CTRL_CONNECTED;

	register_ctrl(c);
	sa.c = c;
	sa.rc = 0;
	hd_loop_call(hd_loop, start_on_loop, &sa);
	if (sa.rc != 0) {
		snprintf(err, errlen, "event loop: %s", strerror(-sa.rc));
		goto fail_registered;
	}
	aa.c = c;
	aa.scanned = hd_ns_scan(c, err, errlen) == 0;
	hd_loop_call(hd_loop, announce_on_loop, &aa);
	if (!aa.connected) {
		snprintf(err, errlen, "the association was lost during the namespace scan: %s",
		    aa.lost_reason);
		goto fail_registered;
	}
	if (!aa.scanned)
		goto fail_registered;
	/* Announced, it may be reconnecting already: log what was handed off. */
	daemon_log(LOG_INFO, "%s: %s at %s:%s, controller %u, %u I/O queue%s of %u%s%s",
	    c->name, m->params.subnqn, m->params.traddr, m->params.trsvcid, m->cntlid,
	    m->nqueues - 1, m->nqueues == 2 ? "" : "s", m->params.queue_size,
	    m->params.hdr_digest ? ", header digest" : "",
	    m->params.data_digest ? ", data digest" : "");
	free(m);
	return c;

fail_unregistered:
	free(c);
	free(m);
	return NULL;
fail_registered:
	free(m);
	hd_registry_lock();
	c->state = HD_CTRL_DELETING;
	hd_registry_unlock();
	hd_ns_remove_all(c);
	hd_loop_call(hd_loop, stop_on_loop, c);
	unregister_ctrl(c);
	hd_ctrl_put(c);
	return NULL;
}

/* ------------------------------------------------------------ disconnect */

struct drain_args {
	struct hd_ctrl *c;
	bool idle;
};

static void
drain_check(void *arg)
{
	struct drain_args *a = arg;

	a->idle = a->c->inflight == 0 && a->c->backlog == NULL;
}

static void
shutdown_controller(struct hd_ctrl *c)
{
	struct nvme_completion cqe;
	struct nvme_command sqe;
	uint64_t deadline = hd_now_ms() + 5000;

	nvmf_cmd_property_get(&sqe, NVME_REG_CC, false);
	if (hd_admin_sync(hd_loop, c, &sqe, NULL, 0, &cqe) != 0 ||
	    NVME_CQE_STATUS(cqe.status) != 0)
		return;
	nvmf_cmd_property_set(&sqe, NVME_REG_CC, false,
	    (cqe.cdw0 & ~NVME_CC_SHN_MASK) | (1u << NVME_CC_SHN_SHIFT));
	if (hd_admin_sync(hd_loop, c, &sqe, NULL, 0, &cqe) != 0 ||
	    NVME_CQE_STATUS(cqe.status) != 0)
		return;
	while (hd_now_ms() < deadline) {
		nvmf_cmd_property_get(&sqe, NVME_REG_CSTS, false);
		if (hd_admin_sync(hd_loop, c, &sqe, NULL, 0, &cqe) != 0 ||
		    NVME_CQE_STATUS(cqe.status) != 0)
			return;
		if ((cqe.cdw0 & (3u << NVME_CSTS_SHST_SHIFT)) == NVME_CSTS_SHST_COMPLETE)
			return;
		usleep(10000);
	}
}

int
hd_ctrl_disconnect(struct hd_ctrl *c, char *err, size_t errlen)
{
	struct drain_args da = { .c = c };
	uint64_t deadline = hd_now_ms() + 10000;
	char subnqn[NVMF_NQN_MAX_LEN + 1];

	hd_registry_lock();
	if (c->state == HD_CTRL_DELETING || c->disconnecting) {
		hd_registry_unlock();
		snprintf(err, errlen, "%s is already being disconnected", c->name);
		return -1;
	}
	c->disconnecting = true;
	memcpy(subnqn, c->params.subnqn, sizeof(subnqn));
	hd_registry_unlock();
	/* Files first, so no new I/O starts; then what is in flight ends. */
	hd_ns_remove_all(c);
	do {
		hd_loop_call(hd_loop, drain_check, &da);
		if (!da.idle)
			usleep(5000);
	} while (!da.idle && hd_now_ms() < deadline);
	if (c->state == HD_CTRL_CONNECTED)
		shutdown_controller(c);
	hd_registry_lock();
	c->state = HD_CTRL_DELETING;
	hd_registry_unlock();
	hd_loop_call(hd_loop, stop_on_loop, c);
	unregister_ctrl(c);
	daemon_log(LOG_INFO, "%s: disconnected from %s", c->name, subnqn);
	hd_ctrl_put(c);		/* the registry's reference */
	return 0;
}

void
hd_ctrls_disconnect_all(void)
{
	struct hd_ctrl *all[256];
	unsigned n;
	char err[128];

	do {
		n = 0;
		hd_registry_lock();
		for (struct hd_ctrl *c = controllers; c != NULL && n < 256; c = c->next) {
			c->refs++;
			all[n++] = c;
		}
		hd_registry_unlock();
		for (unsigned i = 0; i < n; i++) {
			hd_ctrl_disconnect(all[i], err, sizeof(err));
			hd_ctrl_put(all[i]);
		}
	} while (n == 256);
}

/* ------------------------------------------------------------------ list */

void
hd_json_add_str(struct json_object *o, const char *k, const char *v)
{
	json_object_object_add(o, k, json_object_new_string(v));
}

void
hd_json_add_int(struct json_object *o, const char *k, int64_t v)
{
	json_object_object_add(o, k, json_object_new_int64(v));
}

/* An Identify string as text: the spec says ASCII, a target may send anything. */
static void
trimmed(char *dst, const char *src, size_t len)
{
	memcpy(dst, src, len);
	dst[len] = '\0';
	for (size_t i = len; i > 0 && (dst[i - 1] == ' ' || dst[i - 1] == '\0'); i--)
		dst[i - 1] = '\0';
	for (char *p = dst; *p != '\0'; p++)
		if (*p < 0x20 || *p > 0x7e)
			*p = '?';
}

struct json_object *
hd_ctrl_list_json(void)
{
	struct json_object *arr = json_object_new_array();

	hd_registry_lock();
	for (struct hd_ctrl *c = controllers; c != NULL; c = c->next) {
		struct json_object *o, *nss;
		char buf[64];

		if (!c->announced)
			continue;
		o = json_object_new_object();
		hd_json_add_str(o, "name", c->name);
		hd_json_add_str(o, "state", state_name(c->state));
		hd_json_add_str(o, "subnqn", c->params.subnqn);
		hd_json_add_str(o, "transport", c->params.transport);
		hd_json_add_str(o, "traddr", c->params.traddr);
		hd_json_add_str(o, "trsvcid", c->params.trsvcid);
		hd_json_add_int(o, "cntlid", c->cntlid);
		hd_json_add_str(o, "hostnqn", c->params.hostnqn);
		trimmed(buf, c->id.mn, sizeof(c->id.mn));
		hd_json_add_str(o, "model", buf);
		trimmed(buf, c->id.sn, sizeof(c->id.sn));
		hd_json_add_str(o, "serial", buf);
		trimmed(buf, c->id.fr, sizeof(c->id.fr));
		hd_json_add_str(o, "firmware", buf);
		hd_json_add_int(o, "io_queues", c->params.nr_io_queues);
		hd_json_add_int(o, "queue_size", c->params.queue_size);
		hd_json_add_int(o, "kato_ms", c->params.kato_ms);
		json_object_object_add(o, "hdr_digest", json_object_new_boolean(c->params.hdr_digest));
		json_object_object_add(o, "data_digest",
		    json_object_new_boolean(c->params.data_digest));
		hd_json_add_int(o, "reconnect_delay", c->params.reconnect_delay);
		hd_json_add_int(o, "ctrl_loss_tmo", c->params.ctrl_loss_tmo);
		hd_json_add_int(o, "fast_io_fail_tmo", c->params.fast_io_fail_tmo);
		if (c->state == HD_CTRL_DISCONNECTED || c->state == HD_CTRL_RECONNECTING) {
			uint64_t now = hd_now_ms();
			const struct hd_ctrl_params *p = &c->params;

			hd_json_add_str(o, "reason", c->lost_reason);
			hd_json_add_int(o, "disconnected_ms", (int64_t)(now - c->lost_at_ms));
			hd_json_add_int(o, "reconnect_events", c->events);
			hd_json_add_int(o, "reconnect_attempts", c->attempts);
			hd_json_add_int(o, "held_io", c->nheld);
			if (p->reconnect_delay > 0)
				hd_json_add_int(o, "next_event_ms", c->next_event_ms > now ?
				    (int64_t)(c->next_event_ms - now) : 0);
			if (p->ctrl_loss_tmo > 0) {
				uint64_t due = c->lost_at_ms + (uint64_t)p->ctrl_loss_tmo * 1000;

				hd_json_add_int(o, "detach_in_ms", due > now ? (int64_t)(due - now) : 0);
			}
			json_object_object_add(o, "io_failing",
			    json_object_new_boolean(c->fast_failed));
		}
		nss = json_object_new_array();
		for (struct hd_namespace *ns = c->namespaces; ns != NULL; ns = ns->next) {
			struct json_object *n = json_object_new_object();
			char path[4300];

			if (ns->gone)
				continue;
			snprintf(path, sizeof(path), "%s/%s", hd_rd.dev, ns->name);
			hd_json_add_str(n, "name", ns->name);
			hd_json_add_int(n, "nsid", ns->nsid);
			hd_json_add_str(n, "path", path);
			hd_json_add_int(n, "size", (int64_t)hd_ns_size(ns));
			hd_json_add_int(n, "lba_size", 1 << ns->lba_shift);
			json_object_array_add(nss, n);
		}
		json_object_object_add(o, "namespaces", nss);
		json_object_array_add(arr, o);
	}
	hd_registry_unlock();
	return arr;
}
