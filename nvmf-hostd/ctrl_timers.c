/* SPDX-License-Identifier: BSD-2-Clause
 * Copyright (c) 2026 The nvmf developers */
/*
 * ctrl_timers.c - a controller's life on the loop thread once it exists:
 * keep-alive and AERs while connected; on a loss the queues go and the
 * loss timers run (RECONNECT events, fast I/O failure, controller loss),
 * and the controller loss timer detaches it (on the task thread).
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "hostd.h"

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
	if ((cqe->cdw0 & 0x7) == NVME_AER_TYPE_NOTICE && !c->discovery &&
	    ((cqe->cdw0 >> 8) & 0xff) == NVME_AER_NOTICE_NS_CHANGED) {
		daemon_log(LOG_INFO, "%s: namespaces changed", c->name);
		hd_ctrl_ref(c);
		hd_task_queue(rescan_task, c);
	}
	if ((cqe->cdw0 & 0x7) == NVME_AER_TYPE_NOTICE && c->discovery &&
	    ((cqe->cdw0 >> 8) & 0xff) == NVME_AER_NOTICE_DISC_CHANGED)
		hd_discovery_changed(c, "Discovery Log Page Change notice");
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
		hd_loop_kick();
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
			hd_loop_kick();
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
			hd_ctrl_ref(c);
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
		hd_state_remove(c);
		hd_ns_remove_all(c);
		hd_registry_remove(c);
		hd_event_raise("DETACHED", c->name);
		hd_ctrl_put(c);		/* the registry's reference */
	}
	hd_ctrl_put(c);			/* the task's */
}

void
hd_ctrl_start_loop_work(struct hd_ctrl *c)
{
	c->ka_next_ms = hd_now_ms();	/* first Keep Alive at once */
	aer_submit(c);
	hd_loop_timers_changed();
}
