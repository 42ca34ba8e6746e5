/* SPDX-License-Identifier: BSD-2-Clause
 * Copyright (c) 2026 The nvmf developers */
/*
 * ctrl_io.c - a controller's I/O path on the loop thread: the queue pairs
 * adopted from a hand-off, commands spread over them, the backlog of
 * commands waiting for a free slot, and I/O held while the association is
 * lost and replayed on the next. io.c builds a namespace's requests; this
 * file runs their commands.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "hostd.h"

char hd_tcp_congestion[NVMF_TCP_CONGESTION_LEN];

/* Reports a finished command to whoever waits for it. */
static void
cmd_finish(struct hd_cmd *cmd)
{
	struct hd_waiter *w = cmd->waiter;

	cmd->done = true;
	if (cmd->cb != NULL) {
		cmd->cb(cmd);
		return;
	}
	if (w != NULL) {
		pthread_mutex_lock(&w->lock);
		if (--w->pending == 0)
			pthread_cond_broadcast(&w->cond);
		pthread_mutex_unlock(&w->lock);
	}
}

/* Appends cmd to one of a controller's lists (backlog, dropped, held). */
static void
cmd_append(struct hd_cmd **head, struct hd_cmd **tail, struct hd_cmd *cmd)
{
	cmd->next = NULL;
	if (*tail != NULL)
		(*tail)->next = cmd;
	else
		*head = cmd;
	*tail = cmd;
}

/*
 * Parks a command whose queue pair failed while the controller still counts
 * as connected: the poll group takes a failed queue pair's commands back
 * before it reports the failure, and the loss decides their fate
 * (hd_ctrl_settle_dropped), as it would have had it come first.
 */
static void
cmd_park_dropped(struct hd_ctrl *c, struct hd_cmd *cmd)
{
	cmd_append(&c->dropped, &c->dropped_tail, cmd);
}

/* A command that cannot run now: I/O waits for the next association if held. */
static void
cmd_hold_or_fail(struct hd_ctrl *c, struct hd_cmd *cmd, int error)
{
	cmd->next = NULL;
	if (!cmd->admin && hd_ctrl_holds_io(c))
		hd_ctrl_hold(c, cmd);
	else
		hd_cmd_fail(cmd, error);
}

static void
cmd_completed(void *arg, const struct nvme_completion *cqe)
{
	struct hd_cmd *cmd = arg;
	struct hd_ctrl *c = cmd->ctrl;

	c->inflight--;
	if (cqe == NULL) {
		if (c->state == HD_CTRL_CONNECTED)
			cmd_park_dropped(c, cmd);
		else
			cmd_hold_or_fail(c, cmd, -EIO);
		return;
	}
	cmd->cqe = *cqe;
	/*
	 * A slot is free: the oldest command waiting for one goes now. Before
	 * the report, which may drop the last reference to the controller.
	 */
	if (c->backlog != NULL && c->state == HD_CTRL_CONNECTED) {
		struct hd_cmd *next = c->backlog;

		c->backlog = next->next;
		if (c->backlog == NULL)
			c->backlog_tail = NULL;
		next->next = NULL;
		hd_cmd_dispatch(next);
	}
	cmd_finish(cmd);
}

void
hd_ctrl_settle_dropped(struct hd_ctrl *c)
{
	struct hd_cmd *cmd = c->dropped;

	c->dropped = c->dropped_tail = NULL;
	while (cmd != NULL) {
		struct hd_cmd *next = cmd->next;

		cmd_hold_or_fail(c, cmd, -EIO);
		cmd = next;
	}
}

void
hd_cmd_fail(struct hd_cmd *cmd, int error)
{
	cmd->error = error;
	cmd_finish(cmd);
}

void
hd_cmd_dispatch(struct hd_cmd *cmd)
{
	struct hd_ctrl *c = cmd->ctrl;
	uint32_t nio = c->nqueues - 1;
	int rc = -EBUSY;

	if (c->state != HD_CTRL_CONNECTED) {
		cmd_hold_or_fail(c, cmd, c->state == HD_CTRL_DELETING ? -ENODEV : -EIO);
		return;
	}
	if (cmd->admin) {
		rc = nvmf_host_submit(c->queues[0].qp, &cmd->sqe, cmd->buf, cmd->len,
		    cmd->to_controller, cmd_completed, cmd);
	} else {
		/* Spread commands over the I/O queues, skipping full ones. */
		for (uint32_t i = 0; i < nio && rc == -EBUSY; i++) {
			struct hd_queue *q = &c->queues[1 + (c->rr + i) % nio];

			rc = nvmf_host_submit(q->qp, &cmd->sqe, cmd->buf, cmd->len,
			    cmd->to_controller, cmd_completed, cmd);
			if (rc == 0)
				c->rr = (c->rr + i + 1) % nio;
		}
	}
	if (rc == 0) {
		c->inflight++;
		hd_loop_kick();
		return;
	}
	if (rc == -ENOTCONN) {
		/* A queue pair failed in this turn; the group reports it at its end. */
		cmd_park_dropped(c, cmd);
		return;
	}
	if (rc == -EBUSY) {
		cmd_append(&c->backlog, &c->backlog_tail, cmd);
		return;
	}
	hd_cmd_fail(cmd, rc);
}

void
hd_ctrl_drop_backlog(struct hd_ctrl *c, int error)
{
	struct hd_cmd *cmd;

	while ((cmd = c->backlog) != NULL) {
		c->backlog = cmd->next;
		cmd_hold_or_fail(c, cmd, error);
	}
	c->backlog_tail = NULL;
}

bool
hd_ctrl_holds_io(const struct hd_ctrl *c)
{
	return (c->state == HD_CTRL_DISCONNECTED || c->state == HD_CTRL_RECONNECTING) &&
	    !c->fast_failed;
}

/* The held list is the loop's; devlist counts it under the registry lock. */
void
hd_ctrl_hold(struct hd_ctrl *c, struct hd_cmd *cmd)
{
	hd_registry_lock();
	cmd_append(&c->held, &c->held_tail, cmd);
	c->nheld++;
	hd_registry_unlock();
}

static struct hd_cmd *
take_held(struct hd_ctrl *c)
{
	struct hd_cmd *list;

	hd_registry_lock();
	list = c->held;
	c->held = c->held_tail = NULL;
	c->nheld = 0;
	hd_registry_unlock();
	return list;
}

void
hd_ctrl_fail_held(struct hd_ctrl *c, int error)
{
	struct hd_cmd *cmd = take_held(c);

	while (cmd != NULL) {
		struct hd_cmd *next = cmd->next;

		cmd->next = NULL;
		hd_cmd_fail(cmd, error);
		cmd = next;
	}
}

void
hd_ctrl_replay_held(struct hd_ctrl *c)
{
	struct hd_cmd *cmd = take_held(c);
	unsigned n = 0;

	/* In the order they were first submitted; each completes exactly once. */
	while (cmd != NULL) {
		struct hd_cmd *next = cmd->next;

		cmd->next = NULL;
		hd_cmd_dispatch(cmd);
		cmd = next;
		n++;
	}
	if (n > 0)
		daemon_log(LOG_INFO, "%s: %u held command%s resubmitted", c->name, n,
		    n == 1 ? "" : "s");
}

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
	memcpy(ap.tcp_congestion, hd_tcp_congestion, sizeof(ap.tcp_congestion));
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

struct start_args {
	struct hd_ctrl *c;
	int rc;
};

/* Loop thread: a new controller's queues join the loop, keep-alive starts. */
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

int
hd_ctrl_queues_start(struct hd_ctrl *c)
{
	struct start_args sa = { .c = c };

	hd_loop_call(hd_loop, start_on_loop, &sa);
	return sa.rc;
}

static void
stop_on_loop(void *arg)
{
	struct hd_ctrl *c = arg;

	hd_loop_remove_queues(hd_loop, c);
	/* I/O held for a reconnect that will not come now. */
	hd_ctrl_fail_held(c, -ENODEV);
}

void
hd_ctrl_queues_stop(struct hd_ctrl *c)
{
	hd_loop_call(hd_loop, stop_on_loop, c);
}

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

bool
hd_ctrl_idle(struct hd_ctrl *c)
{
	struct drain_args da = { .c = c };

	hd_loop_call(hd_loop, drain_check, &da);
	return da.idle;
}
