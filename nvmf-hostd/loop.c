/* SPDX-License-Identifier: BSD-2-Clause
 * Copyright (c) 2026 The nvmf developers */
/*
 * loop.c - the event loop that drives every queue pair of every controller:
 * one thread, one libnvmf poll group over the queue pairs, an inbox for
 * commands from other threads, and the controllers' timers. The loop's own
 * descriptors (the wake-up eventfd, /dev/fuse through hd_loop_watch) are
 * watched in the group's epoll set, so a turn waits in one epoll_wait.
 * Other threads wake the loop (the eventfd) only when it sleeps; each turn
 * serves what is ready (requests read from /dev/fuse are submitted from the
 * loop itself), takes the whole inbox, runs due timers, and sends what it
 * queued (one send per queue pair).
 */
#include <errno.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <time.h>
#include <unistd.h>

#include "hostd.h"

#define TIMER_MAX_MS	1000

struct loop_call {
	struct loop_call *next;
	void (*fn)(void *);
	void *arg;
	bool done;
};

struct hd_loop {
	int evfd;
	struct nvmf_poll_group *pg;
	pthread_t thread;
	pthread_mutex_t lock;
	pthread_cond_t call_done;
	struct hd_cmd *in_head, *in_tail;	/* lock */
	struct loop_call *calls;		/* lock */
	/*
	 * In epoll_wait with the inbox empty, or about to be: set under the
	 * lock by the loop, taken (exchanged for false) by the first submitter,
	 * which alone writes the eventfd.
	 */
	atomic_bool sleeping;
	bool stop;
	uint64_t next_timer_ms;
	/* Commands went to queue pairs since the group last ran (loop). */
	bool queued;
};

/* Set on the loop thread: what it submits is dispatched at once. */
static __thread bool on_loop;

unsigned hd_busy_poll_us;

bool
hd_loop_on_loop(void)
{
	return on_loop;
}

void
hd_waiter_init(struct hd_waiter *w)
{
	pthread_mutex_init(&w->lock, NULL);
	pthread_cond_init(&w->cond, NULL);
	w->pending = 0;
}

void
hd_waiter_wait(struct hd_waiter *w)
{
	pthread_mutex_lock(&w->lock);
	while (w->pending > 0)
		pthread_cond_wait(&w->cond, &w->lock);
	pthread_mutex_unlock(&w->lock);
}

void
hd_waiter_destroy(struct hd_waiter *w)
{
	pthread_mutex_destroy(&w->lock);
	pthread_cond_destroy(&w->cond);
}

/* Under loop->lock, after queueing work: whether the caller must wake the loop. */
static bool
must_wake(struct hd_loop *loop)
{
	return atomic_exchange(&loop->sleeping, false);
}

static void
wake(struct hd_loop *loop)
{
	uint64_t one = 1;
	ssize_t rc = write(loop->evfd, &one, sizeof(one));

	(void)rc;		/* a full counter still wakes the loop */
}

/*
 * The group took a failed queue pair out and gave its commands back (they
 * wait in the controller's dropped list): the association is lost.
 */
static void
queue_failed(void *arg, struct nvmf_qpair *qp)
{
	struct hd_queue *q = nvmf_qpair_context(qp);
	struct hd_ctrl *c = q->ctrl;

	(void)arg;
	hd_ctrl_lost(c, nvmf_qpair_error(qp));
	/* Settled by the loss already, unless a disconnect came first. */
	hd_ctrl_settle_dropped(c);
}

int
hd_loop_add_queue(struct hd_loop *loop, struct hd_ctrl *c, uint16_t qid)
{
	struct hd_queue *q = &c->queues[qid];

	q->ctrl = c;
	q->qid = qid;
	nvmf_qpair_set_context(q->qp, q);
	/* Whatever it holds already goes with the group's next turn. */
	loop->queued = true;
	return nvmf_poll_group_add(loop->pg, q->qp);
}

void
hd_loop_remove_queues(struct hd_loop *loop, struct hd_ctrl *c)
{
	(void)loop;
	for (uint32_t i = 0; i < c->nqueues; i++) {
		struct hd_queue *q = &c->queues[i];
		struct nvmf_qpair *qp = q->qp;

		if (qp == NULL)
			continue;
		q->qp = NULL;
		/* It leaves the group; outstanding commands come back with no
		 * completion (cmd_completed). */
		nvmf_qpair_free(qp);
	}
	/* With what a failed queue pair gave back before the loss was told. */
	hd_ctrl_settle_dropped(c);
	hd_ctrl_drop_backlog(c, c->state == HD_CTRL_DELETING ? -ENODEV : -EIO);
}

static void
run_inbox(struct hd_loop *loop)
{
	struct hd_cmd *cmds;
	struct loop_call *calls;

	pthread_mutex_lock(&loop->lock);
	cmds = loop->in_head;
	loop->in_head = loop->in_tail = NULL;
	calls = loop->calls;
	loop->calls = NULL;
	pthread_mutex_unlock(&loop->lock);

	while (cmds != NULL) {
		struct hd_cmd *next = cmds->next;

		cmds->next = NULL;
		hd_cmd_dispatch(cmds);
		cmds = next;
	}
	if (calls == NULL)
		return;
	/* Calls were pushed newest first: run them in arrival order. */
	{
		struct loop_call *rev = NULL;

		while (calls != NULL) {
			struct loop_call *next = calls->next;

			calls->next = rev;
			rev = calls;
			calls = next;
		}
		calls = rev;
	}
	while (calls != NULL) {
		struct loop_call *next = calls->next;

		calls->fn(calls->arg);
		pthread_mutex_lock(&loop->lock);
		calls->done = true;
		pthread_cond_broadcast(&loop->call_done);
		pthread_mutex_unlock(&loop->lock);
		calls = next;
	}
	loop->next_timer_ms = 0;	/* new controllers may have timers */
}

static void
run_timers(struct hd_loop *loop, uint64_t now)
{
	uint64_t next = now + TIMER_MAX_MS;
	struct hd_ctrl **all = NULL;
	unsigned n = 0, cap = 0;

	/* Timer work may complete commands whose callbacks take the registry
	 * lock: walk a referenced snapshot, not the locked list. */
	hd_registry_lock();
	for (struct hd_ctrl *c = hd_ctrls_first(); c != NULL; c = c->next)
		cap++;
	if (cap > 0)
		all = malloc(cap * sizeof(*all));
	for (struct hd_ctrl *c = hd_ctrls_first(); c != NULL && all != NULL; c = c->next) {
		c->refs++;
		all[n++] = c;
	}
	hd_registry_unlock();
	for (unsigned i = 0; i < n; i++) {
		struct hd_ctrl *c = all[i];

		uint64_t due = hd_ctrl_timers(c, now);

		if (due < next)
			next = due;
		hd_ctrl_put(c);
	}
	free(all);
	loop->next_timer_ms = all == NULL && cap > 0 ? now + 10 : next;
}

void
hd_loop_timers_changed(void)
{
	hd_loop->next_timer_ms = 0;	/* loop thread: recompute before sleeping */
}

void
hd_loop_kick(void)
{
	hd_loop->queued = true;
}

/* The group's turn: the eventfd was written (the wait is over, that is all). */
static void
drain_wake(void *arg, uint32_t events)
{
	struct hd_loop *loop = arg;
	uint64_t v;
	ssize_t rc = read(loop->evfd, &v, sizeof(v));

	(void)events;
	(void)rc;
}

static void *
loop_main(void *arg)
{
	struct hd_loop *loop = arg;
	uint64_t last_busy_us = 0;	/* --busy-poll-us: when a turn last had work */

	on_loop = true;
	while (!loop->stop) {
		uint64_t now = hd_now_ms();
		int timeout = 0, busy;

		if (loop->next_timer_ms > now)
			timeout = (int)(loop->next_timer_ms - now);
		/*
		 * Asleep only with nothing to do: what comes later wakes us. Output
		 * queued after the group's last send (by its own callbacks) makes
		 * one more turn at once.
		 */
		pthread_mutex_lock(&loop->lock);
		if (loop->in_head != NULL || loop->calls != NULL || loop->queued)
			timeout = 0;
		else if (hd_busy_poll_us != 0 && hd_now_us() - last_busy_us < hd_busy_poll_us)
			timeout = 0;	/* --busy-poll-us: the next request or reply comes soon */
		else if (timeout != 0)
			atomic_store(&loop->sleeping, true);
		pthread_mutex_unlock(&loop->lock);
		/*
		 * One wait for the sockets, the wake-up and /dev/fuse; what the
		 * ready ones submit leaves at the end of the group's turn.
		 */
		loop->queued = false;
		busy = nvmf_poll_group_poll(loop->pg, timeout);
		atomic_store(&loop->sleeping, false);
		if (busy > 0 && hd_busy_poll_us != 0)
			last_busy_us = hd_now_us();
		run_inbox(loop);
		now = hd_now_ms();
		if (now >= loop->next_timer_ms)
			run_timers(loop, now);
		/* What the inbox, calls and timers queued leaves now. */
		if (loop->queued) {
			loop->queued = false;
			(void)nvmf_poll_group_flush(loop->pg);
		}
	}
	return NULL;
}

struct hd_loop *
hd_loop_start(char *err, size_t errlen)
{
	struct hd_loop *loop = calloc(1, sizeof(*loop));
	int rc;

	if (loop == NULL) {
		snprintf(err, errlen, "out of memory");
		return NULL;
	}
	loop->evfd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	if (loop->evfd < 0) {
		snprintf(err, errlen, "event loop: %s", strerror(errno));
		goto fail;
	}
	loop->pg = nvmf_poll_group_create(queue_failed, loop, err, errlen);
	if (loop->pg == NULL)
		goto fail;
	rc = nvmf_poll_group_watch(loop->pg, loop->evfd, EPOLLIN, drain_wake, loop);
	if (rc != 0) {
		snprintf(err, errlen, "event loop: %s", strerror(-rc));
		goto fail;
	}
	pthread_mutex_init(&loop->lock, NULL);
	pthread_cond_init(&loop->call_done, NULL);
	errno = pthread_create(&loop->thread, NULL, loop_main, loop);
	if (errno != 0) {
		snprintf(err, errlen, "event loop thread: %s", strerror(errno));
		pthread_mutex_destroy(&loop->lock);
		pthread_cond_destroy(&loop->call_done);
		goto fail;
	}
	return loop;
fail:
	nvmf_poll_group_free(loop->pg);
	if (loop->evfd >= 0)
		close(loop->evfd);
	free(loop);
	return NULL;
}

static void
set_stop(void *arg)
{
	((struct hd_loop *)arg)->stop = true;
}

void
hd_loop_stop(struct hd_loop *loop)
{
	hd_loop_call(loop, set_stop, loop);
	pthread_join(loop->thread, NULL);
	nvmf_poll_group_free(loop->pg);
	close(loop->evfd);
	free(loop);
}

struct watch_call {
	struct hd_loop *loop;
	int fd;
	nvmf_poll_group_fd_cb cb;
	void *arg;
	int rc;
};

/* Loop thread: the group is the loop's alone. */
static void
watch_on_loop(void *arg)
{
	struct watch_call *wc = arg;

	wc->rc = nvmf_poll_group_watch(wc->loop->pg, wc->fd, EPOLLIN, wc->cb, wc->arg);
}

int
hd_loop_watch(struct hd_loop *loop, int fd, nvmf_poll_group_fd_cb cb, void *arg)
{
	struct watch_call wc = { .loop = loop, .fd = fd, .cb = cb, .arg = arg };

	hd_loop_call(loop, watch_on_loop, &wc);
	return wc.rc;
}

/* The group forgets it, events of this turn included. */
static void
unwatch_on_loop(void *arg)
{
	struct watch_call *wc = arg;

	(void)nvmf_poll_group_unwatch(wc->loop->pg, wc->fd);
}

void
hd_loop_unwatch(struct hd_loop *loop, int fd)
{
	struct watch_call wc = { .loop = loop, .fd = fd };

	hd_loop_call(loop, unwatch_on_loop, &wc);
}

void
hd_loop_submit(struct hd_loop *loop, struct hd_cmd *cmds, unsigned n)
{
	bool woken;

	for (unsigned i = 0; i < n; i++) {
		cmds[i].next = NULL;
		cmds[i].done = false;
		cmds[i].error = 0;
	}
	/* From the loop (a request read from /dev/fuse): no inbox, no wake-up. */
	if (on_loop) {
		for (unsigned i = 0; i < n; i++)
			hd_cmd_dispatch(&cmds[i]);
		return;
	}
	pthread_mutex_lock(&loop->lock);
	for (unsigned i = 0; i < n; i++) {
		if (loop->in_tail != NULL)
			loop->in_tail->next = &cmds[i];
		else
			loop->in_head = &cmds[i];
		loop->in_tail = &cmds[i];
	}
	woken = must_wake(loop);
	pthread_mutex_unlock(&loop->lock);
	if (woken)
		wake(loop);
}

void
hd_loop_call(struct hd_loop *loop, void (*fn)(void *), void *arg)
{
	struct loop_call call = { .fn = fn, .arg = arg };
	bool woken;

	if (on_loop) {
		fn(arg);
		return;
	}
	pthread_mutex_lock(&loop->lock);
	call.next = loop->calls;
	loop->calls = &call;
	woken = must_wake(loop);
	pthread_mutex_unlock(&loop->lock);
	if (woken)
		wake(loop);
	pthread_mutex_lock(&loop->lock);
	while (!call.done)
		pthread_cond_wait(&loop->call_done, &loop->lock);
	pthread_mutex_unlock(&loop->lock);
}

/* True once the waiter is done, false if timeout_ms passed first. */
static bool
waiter_wait_for(struct hd_waiter *w, int timeout_ms)
{
	struct timespec dl;
	bool done;

	hd_realtime_deadline(&dl, timeout_ms);
	pthread_mutex_lock(&w->lock);
	while (w->pending > 0)
		if (pthread_cond_timedwait(&w->cond, &w->lock, &dl) == ETIMEDOUT)
			break;
	done = w->pending == 0;
	pthread_mutex_unlock(&w->lock);
	return done;
}

static void
lose_on_timeout(void *arg)
{
	hd_ctrl_lost(arg, "admin command timed out");
}

int
hd_admin_sync(struct hd_loop *loop, struct hd_ctrl *c, const struct nvme_command *sqe,
    void *buf, uint32_t len, struct nvme_completion *cqe)
{
	struct hd_waiter w;
	struct hd_cmd cmd = { .ctrl = c, .admin = true, .sqe = *sqe, .buf = buf,
	    .len = len, .to_controller = false, .waiter = &w };

	hd_waiter_init(&w);
	w.pending = 1;
	hd_loop_submit(loop, &cmd, 1);
	if (!waiter_wait_for(&w, HOSTD_ADMIN_TIMEOUT_MS)) {
		/* A controller that does not answer loses its association; that
		 * returns every command it holds, this one included. */
		hd_loop_call(loop, lose_on_timeout, c);
		hd_waiter_wait(&w);
	}
	hd_waiter_destroy(&w);
	if (cmd.error != 0)
		return cmd.error;
	*cqe = cmd.cqe;
	return 0;
}
