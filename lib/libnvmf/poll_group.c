/* SPDX-License-Identifier: BSD-2-Clause
 * Copyright (c) 2026 The nvmf developers */
/*
 * poll_group.c - many queue pairs, one thread, one epoll set. Queueing a
 * PDU on a grouped queue pair only marks it dirty; the group flushes each
 * dirty queue pair once per turn, so a burst of submissions (from
 * completions or from the caller between turns) costs one sendmsg per
 * queue pair. EPOLLOUT is asked for only while a socket refused output.
 */
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <unistd.h>

#include "nvmf_qpair.h"

#define EVENT_BATCH	64

struct deferred {
	struct deferred *next;
	void (*fn)(void *arg);
	void *arg;
};

/*
 * A descriptor of the caller's in the group's epoll set (eventfds, /dev/fuse):
 * the caller's loop then waits once a turn, not in its own epoll_wait and
 * then in the group's. Its epoll data is the watch's address with the low bit
 * set, which no queue pair's address has.
 */
struct fd_watch {
	struct fd_watch *next;
	int fd;
	nvmf_poll_group_fd_cb cb;
	void *arg;
};

#define WATCH_TAG	((uintptr_t)1)

struct nvmf_poll_group {
	int ep;
	nvmf_qpair_failed_cb on_failed;
	void *on_failed_arg;
	unsigned count;
	struct nvmf_qpair *members;
	struct nvmf_qpair *dirty_head, *dirty_tail;
	struct nvmf_qpair *wake_head;	/* queue pairs with an armed wake-up */
	struct nvmf_qpair *failed_head;	/* to report at the end of the turn */
	struct deferred *deferred_head, *deferred_tail;
	struct fd_watch *watches;
	/* The events of the turn in progress: a queue pair removed meanwhile
	 * is blanked here so it is not touched after it was freed. */
	struct epoll_event evs[EVENT_BATCH];
	int nevs;
};

static void unlink_from(struct nvmf_qpair **head, struct nvmf_qpair *qp, size_t next_off);

struct nvmf_poll_group *
nvmf_poll_group_create(nvmf_qpair_failed_cb on_failed, void *arg, char *err,
    size_t errlen)
{
	struct nvmf_poll_group *pg = calloc(1, sizeof(*pg));

	if (pg == NULL) {
		snprintf(err, errlen, "out of memory");
		return NULL;
	}
	pg->ep = epoll_create1(EPOLL_CLOEXEC);
	if (pg->ep < 0) {
		snprintf(err, errlen, "epoll: %s", strerror(errno));
		free(pg);
		return NULL;
	}
	pg->on_failed = on_failed;
	pg->on_failed_arg = arg;
	return pg;
}

int
nvmf_poll_group_fd(const struct nvmf_poll_group *pg)
{
	return pg->ep;
}

void
nvmf_poll_group_mark_dirty(struct nvmf_qpair *qp)
{
	struct nvmf_poll_group *pg = qp->group;

	if (qp->failed_reported)
		return;			/* leaving the group: nothing more to send */
	qp->dirty = true;
	if (qp->dirty_listed)
		return;
	qp->dirty_listed = true;
	qp->dirty_next = NULL;
	if (pg->dirty_tail != NULL)
		pg->dirty_tail->dirty_next = qp;
	else
		pg->dirty_head = qp;
	pg->dirty_tail = qp;
}

void
nvmf_poll_group_wake_changed(struct nvmf_qpair *qp)
{
	struct nvmf_poll_group *pg = qp->group;

	/* Listed once; a disarmed entry is dropped when the list is walked. */
	for (struct nvmf_qpair *w = pg->wake_head; w != NULL; w = w->wake_next)
		if (w == qp)
			return;
	if (qp->wake_armed) {
		qp->wake_next = pg->wake_head;
		pg->wake_head = qp;
	}
}

int
nvmf_poll_group_defer(struct nvmf_poll_group *pg, void (*fn)(void *arg), void *arg)
{
	struct deferred *d = malloc(sizeof(*d));

	if (d == NULL)
		return -ENOMEM;
	d->next = NULL;
	d->fn = fn;
	d->arg = arg;
	if (pg->deferred_tail != NULL)
		pg->deferred_tail->next = d;
	else
		pg->deferred_head = d;
	pg->deferred_tail = d;
	return 0;
}

/* Takes a queue pair off the dirty list (rare: leaving or failing). */
static void
unlist_dirty(struct nvmf_poll_group *pg, struct nvmf_qpair *qp)
{
	qp->dirty = false;
	if (!qp->dirty_listed)
		return;
	qp->dirty_listed = false;
	unlink_from(&pg->dirty_head, qp, offsetof(struct nvmf_qpair, dirty_next));
	pg->dirty_tail = NULL;
	for (struct nvmf_qpair *d = pg->dirty_head; d != NULL; d = d->dirty_next)
		pg->dirty_tail = d;
}

static int
watch(struct nvmf_poll_group *pg, struct nvmf_qpair *qp, int op, bool out)
{
	struct epoll_event ev = { .events = EPOLLIN | (out ? EPOLLOUT : 0), .data.ptr = qp };

	if (epoll_ctl(pg->ep, op, nvmf_qpair_fd(qp), &ev) != 0)
		return -errno;
	qp->watching_out = out;
	return 0;
}

int
nvmf_poll_group_add(struct nvmf_poll_group *pg, struct nvmf_qpair *qp)
{
	int rc;

	if (qp->group != NULL)
		return -EBUSY;
	if (qp->failed)
		return -ENOTCONN;
	rc = watch(pg, qp, EPOLL_CTL_ADD, false);
	if (rc != 0)
		return rc;
	qp->group = pg;
	qp->failed_reported = false;
	qp->member_prev = NULL;
	qp->member_next = pg->members;
	if (pg->members != NULL)
		pg->members->member_prev = qp;
	pg->members = qp;
	pg->count++;
	/* Output queued before it joined goes out with the next turn. */
	if (qp->tx_head != NULL)
		nvmf_poll_group_mark_dirty(qp);
	if (qp->wake_armed)
		nvmf_poll_group_wake_changed(qp);
	return 0;
}

static void
unlink_from(struct nvmf_qpair **head, struct nvmf_qpair *qp, size_t next_off)
{
	for (struct nvmf_qpair **pp = head; *pp != NULL;
	    pp = (struct nvmf_qpair **)((char *)*pp + next_off)) {
		if (*pp == qp) {
			*pp = *(struct nvmf_qpair **)((char *)qp + next_off);
			return;
		}
	}
}

int
nvmf_poll_group_remove(struct nvmf_poll_group *pg, struct nvmf_qpair *qp)
{
	if (qp->group != pg)
		return -ENOENT;
	/* What the caller queued before leaving is not lost with the group. */
	if (qp->dirty && !qp->failed)
		(void)nvmf_qpair_flush_resume(qp);
	unlist_dirty(pg, qp);
	unlink_from(&pg->wake_head, qp, offsetof(struct nvmf_qpair, wake_next));
	if (qp->failed_reported)
		unlink_from(&pg->failed_head, qp, offsetof(struct nvmf_qpair, failed_next));
	for (int i = 0; i < pg->nevs; i++)
		if (pg->evs[i].data.ptr == qp)
			pg->evs[i].data.ptr = NULL;
	(void)epoll_ctl(pg->ep, EPOLL_CTL_DEL, nvmf_qpair_fd(qp), NULL);
	if (qp->member_prev != NULL)
		qp->member_prev->member_next = qp->member_next;
	else
		pg->members = qp->member_next;
	if (qp->member_next != NULL)
		qp->member_next->member_prev = qp->member_prev;
	qp->group = NULL;
	qp->watching_out = false;
	pg->count--;
	return 0;
}

int
nvmf_poll_group_watch(struct nvmf_poll_group *pg, int fd, uint32_t events,
    nvmf_poll_group_fd_cb cb, void *arg)
{
	struct fd_watch *w = malloc(sizeof(*w));
	struct epoll_event ev = { .events = events };

	if (w == NULL)
		return -ENOMEM;
	*w = (struct fd_watch){ .next = pg->watches, .fd = fd, .cb = cb, .arg = arg };
	ev.data.ptr = (void *)((uintptr_t)w | WATCH_TAG);
	if (epoll_ctl(pg->ep, EPOLL_CTL_ADD, fd, &ev) != 0) {
		int rc = -errno;

		free(w);
		return rc;
	}
	pg->watches = w;
	return 0;
}

int
nvmf_poll_group_unwatch(struct nvmf_poll_group *pg, int fd)
{
	for (struct fd_watch **pp = &pg->watches; *pp != NULL; pp = &(*pp)->next) {
		struct fd_watch *w = *pp;
		void *tagged = (void *)((uintptr_t)w | WATCH_TAG);

		if (w->fd != fd)
			continue;
		*pp = w->next;
		/* Not called later in the turn that unwatched it. */
		for (int i = 0; i < pg->nevs; i++)
			if (pg->evs[i].data.ptr == tagged)
				pg->evs[i].data.ptr = NULL;
		(void)epoll_ctl(pg->ep, EPOLL_CTL_DEL, fd, NULL);
		free(w);
		return 0;
	}
	return -ENOENT;
}

/*
 * Takes a failed queue pair out of the group and tells its owner (the
 * set-up in progress, else the group's owner), who may free it.
 */
static void
report_failed(struct nvmf_poll_group *pg, struct nvmf_qpair *qp)
{
	void (*own)(struct nvmf_qpair *, void *) = qp->on_failed;
	void *own_arg = qp->on_failed_arg;

	(void)nvmf_poll_group_remove(pg, qp);
	/* Commands cannot complete any more: their owners hear it now. */
	qp->role->drop(qp);
	if (own != NULL)
		own(qp, own_arg);
	else if (pg->on_failed != NULL)
		pg->on_failed(pg->on_failed_arg, qp);
}

static void
note_failed(struct nvmf_poll_group *pg, struct nvmf_qpair *qp)
{
	if (qp->failed_reported)
		return;
	qp->failed_reported = true;
	unlist_dirty(pg, qp);
	qp->failed_next = pg->failed_head;
	pg->failed_head = qp;
}

/* Sends what a queue pair holds; fixes EPOLLOUT when that changed. */
static void
flush_one(struct nvmf_poll_group *pg, struct nvmf_qpair *qp)
{
	bool pending;

	qp->dirty = false;
	if (qp->failed || nvmf_qpair_flush_resume(qp) != 0) {
		note_failed(pg, qp);
		return;
	}
	pending = qp->tx_head != NULL;
	if (pending != qp->watching_out && watch(pg, qp, EPOLL_CTL_MOD, pending) != 0) {
		nvmf_qpair_fail(qp, "epoll: %s", strerror(errno));
		note_failed(pg, qp);
	}
}

/* Sends what every dirty queue pair holds. */
static void
flush_dirty(struct nvmf_poll_group *pg)
{
	struct nvmf_qpair *qp;

	while ((qp = pg->dirty_head) != NULL) {
		pg->dirty_head = qp->dirty_next;
		if (pg->dirty_head == NULL)
			pg->dirty_tail = NULL;
		qp->dirty_listed = false;
		if (qp->dirty)
			flush_one(pg, qp);
	}
}

static int
next_timeout(struct nvmf_poll_group *pg, int timeout_ms)
{
	struct nvmf_qpair **pp = &pg->wake_head;
	long now = -1;

	while (*pp != NULL) {
		struct nvmf_qpair *qp = *pp;
		long left;

		if (!qp->wake_armed) {
			*pp = qp->wake_next;
			continue;
		}
		if (now < 0)
			now = nvmf_now_ms();
		left = qp->wake_at > now ? qp->wake_at - now : 0;
		if (timeout_ms < 0 || left < timeout_ms)
			timeout_ms = (int)left;
		pp = &qp->wake_next;
	}
	if (pg->deferred_head != NULL || pg->failed_head != NULL)
		timeout_ms = 0;
	return timeout_ms;
}

static int
fire_wakes(struct nvmf_poll_group *pg)
{
	long now = nvmf_now_ms();
	int n = 0;
	bool again = true;

	/* A wake-up may free or re-arm queue pairs: walk again after each. */
	while (again) {
		again = false;
		for (struct nvmf_qpair *qp = pg->wake_head; qp != NULL; qp = qp->wake_next) {
			if (qp->wake_armed && now >= qp->wake_at) {
				unlink_from(&pg->wake_head, qp,
				    offsetof(struct nvmf_qpair, wake_next));
				(void)nvmf_qpair_wake_due(qp, now);
				n++;
				again = true;
				break;
			}
		}
	}
	return n;
}

static void
run_deferred(struct nvmf_poll_group *pg)
{
	struct deferred *d;

	while ((d = pg->deferred_head) != NULL) {
		pg->deferred_head = d->next;
		if (pg->deferred_head == NULL)
			pg->deferred_tail = NULL;
		d->fn(d->arg);
		free(d);
	}
}

/*
 * A group of one queue pair with nothing to send waits in its receive:
 * one system call where epoll_wait and recv were two (stream.c says why
 * that matters). Returns 1 when bytes came, 0 when none, -1 on failure.
 */
static int
wait_alone(struct nvmf_poll_group *pg, struct nvmf_qpair *qp, int timeout_ms)
{
	int rc = nvmf_qpair_receive_wait(qp, timeout_ms);

	if (rc < 0)
		note_failed(pg, qp);
	else if (qp->dirty)
		flush_one(pg, qp);
	return rc;
}

/* The end of every turn (and the whole of a flush): wake-ups due, output,
 * failures, deferred calls. */
int
nvmf_poll_group_flush(struct nvmf_poll_group *pg)
{
	struct nvmf_qpair *qp;
	int busy = fire_wakes(pg);

	flush_dirty(pg);
	while ((qp = pg->failed_head) != NULL) {
		pg->failed_head = qp->failed_next;
		report_failed(pg, qp);
	}
	run_deferred(pg);
	return busy;
}

int
nvmf_poll_group_poll(struct nvmf_poll_group *pg, int timeout_ms)
{
	struct nvmf_qpair *qp;
	int n, busy = 0, wait;

	flush_dirty(pg);
	wait = next_timeout(pg, timeout_ms);
	qp = pg->members;
	if (pg->count == 1 && pg->watches == NULL && wait != 0 && qp != NULL &&
	    !qp->watching_out && !qp->failed && !qp->wake_armed) {
		busy = wait_alone(pg, qp, wait) != 0;
		goto turned;
	}
	n = epoll_wait(pg->ep, pg->evs, EVENT_BATCH, wait);
	if (n < 0) {
		if (errno != EINTR)
			return -errno;
		n = 0;
	}
	pg->nevs = n;
	for (int i = 0; i < n; i++) {
		void *ptr = pg->evs[i].data.ptr;

		if (ptr == NULL)
			continue;	/* removed by a callback of this turn */
		busy++;
		if ((uintptr_t)ptr & WATCH_TAG) {
			struct fd_watch *w = (void *)((uintptr_t)ptr & ~WATCH_TAG);

			w->cb(w->arg, pg->evs[i].events);
			continue;
		}
		qp = ptr;
		if ((pg->evs[i].events & ~(uint32_t)EPOLLOUT) != 0 &&
		    nvmf_qpair_receive(qp) != 0) {
			note_failed(pg, qp);
			continue;
		}
		if ((pg->evs[i].events & EPOLLOUT) && !qp->dirty)
			nvmf_poll_group_mark_dirty(qp);
		/*
		 * What its own completions submitted leaves now, while the next
		 * queue pair is read: the peer gets to work sooner. Output queued
		 * on others waits for the end of the turn.
		 */
		if (qp->dirty)
			flush_one(pg, qp);
	}
	pg->nevs = 0;
turned:
	return busy + nvmf_poll_group_flush(pg);
}

void
nvmf_poll_group_free(struct nvmf_poll_group *pg)
{
	if (pg == NULL)
		return;
	run_deferred(pg);
	while (pg->members != NULL)
		(void)nvmf_poll_group_remove(pg, pg->members);
	while (pg->watches != NULL)
		(void)nvmf_poll_group_unwatch(pg, pg->watches->fd);
	close(pg->ep);
	pg->ep = -1;
	free(pg);
}
