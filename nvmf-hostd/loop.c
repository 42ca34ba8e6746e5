/* SPDX-License-Identifier: BSD-2-Clause
 * Copyright (c) 2026 The nvmf developers */
/*
 * loop.c - the event loop that drives every queue pair of every controller:
 * one thread, epoll over the sockets, an inbox for commands from other
 * threads, and the controllers' timers. Other threads wake the loop (an
 * eventfd) only when it sleeps; each turn takes the whole inbox, and the
 * PDUs the turn queued go out once at its end, one send per queue pair.
 *
 * Whoever holds the turn lock is the loop: the loop thread holds it except
 * while it sleeps, and a thread submitting while it sleeps takes it and
 * sends its commands itself. Waking the loop thread to send them would
 * cost a context switch per request, the dearest step of a QD1 read.
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

#define MAX_EVENTS	64
#define TIMER_MAX_MS	1000
#define MAX_WATCHES	4

/* A descriptor other than a queue pair's socket (hd_loop_watch). */
struct loop_watch {
	int fd;
	void (*cb)(void *arg);
	void *arg;
	bool live;
};

struct loop_call {
	struct loop_call *next;
	void (*fn)(void *);
	void *arg;
	bool done;
};

struct hd_loop {
	pthread_mutex_t turn;			/* held by whoever runs the loop */
	int epfd;
	int evfd;
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
	bool timers_changed;			/* since the turn was taken inline */
	struct hd_queue *dirty;			/* queues with PDUs to send (loop) */
	struct loop_watch watches[MAX_WATCHES];
};

/* Set while this thread holds the turn: it may do the loop's work inline. */
static __thread bool on_loop;

static void
turn_take(struct hd_loop *loop)
{
	pthread_mutex_lock(&loop->turn);
	on_loop = true;
}

static void
turn_give(struct hd_loop *loop)
{
	on_loop = false;
	pthread_mutex_unlock(&loop->turn);
}

bool
hd_loop_on_loop(void)
{
	return on_loop;
}

uint64_t
hd_now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
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

static void
queue_sync_out(struct hd_loop *loop, struct hd_queue *q)
{
	struct epoll_event ev = { .data.ptr = q };
	bool want;

	if (q->qp == NULL || !q->registered)
		return;
	want = nvmf_qpair_tx_pending(q->qp);
	if (want == q->want_out)
		return;
	ev.events = EPOLLIN | (want ? EPOLLOUT : 0);
	epoll_ctl(loop->epfd, EPOLL_CTL_MOD, nvmf_qpair_fd(q->qp), &ev);
	q->want_out = want;
}

/* Queued PDUs: the queue pair is sent to at the end of the turn (loop_flush). */
static void
queue_mark(struct hd_loop *loop, struct hd_queue *q)
{
	if (q->dirty)
		return;
	q->dirty = true;
	q->dirty_next = loop->dirty;
	loop->dirty = q;
}

/* Takes a controller's queues off the list to send to: they are going. */
static void
queues_unmark(struct hd_loop *loop, struct hd_ctrl *c)
{
	for (struct hd_queue **pp = &loop->dirty; *pp != NULL;) {
		struct hd_queue *q = *pp;

		if (q->ctrl == c) {
			*pp = q->dirty_next;
			q->dirty = false;
			q->dirty_next = NULL;
		} else {
			pp = &q->dirty_next;
		}
	}
}

/*
 * Sends what this turn queued, one batch per queue pair, and takes what
 * came back meanwhile; a socket that will not take it all gets EPOLLOUT.
 */
static void
loop_flush(struct hd_loop *loop)
{
	struct hd_queue *q;

	/* Completions may queue more (backlog): taken from the head until none. */
	while ((q = loop->dirty) != NULL) {
		loop->dirty = q->dirty_next;
		q->dirty = false;
		q->dirty_next = NULL;
		if (q->qp == NULL)
			continue;
		if (nvmf_qpair_process(q->qp) != 0) {
			hd_ctrl_lost(q->ctrl, nvmf_qpair_error(q->qp));
			continue;
		}
		queue_sync_out(loop, q);
	}
}

int
hd_loop_add_queue(struct hd_loop *loop, struct hd_ctrl *c, uint16_t qid)
{
	struct hd_queue *q = &c->queues[qid];
	struct epoll_event ev = { .events = EPOLLIN, .data.ptr = q };

	q->ctrl = c;
	q->qid = qid;
	q->dirty = false;
	q->dirty_next = NULL;
	if (epoll_ctl(loop->epfd, EPOLL_CTL_ADD, nvmf_qpair_fd(q->qp), &ev) != 0)
		return -errno;
	q->registered = true;
	q->want_out = false;
	return 0;
}

void
hd_loop_remove_queues(struct hd_loop *loop, struct hd_ctrl *c)
{
	queues_unmark(loop, c);
	for (uint32_t i = 0; i < c->nqueues; i++) {
		struct hd_queue *q = &c->queues[i];
		struct nvmf_qpair *qp = q->qp;

		if (qp == NULL)
			continue;
		if (q->registered)
			epoll_ctl(loop->epfd, EPOLL_CTL_DEL, nvmf_qpair_fd(qp), NULL);
		q->registered = false;
		q->qp = NULL;
		/* Outstanding commands come back with no completion: -EIO. */
		nvmf_qpair_free(qp);
	}
	hd_ctrl_drop_backlog(c, c->state == HD_CTRL_DELETING ? -ENODEV : -EIO);
}

static void
queue_event(struct hd_loop *loop, struct hd_queue *q)
{
	if (q->qp == NULL)
		return;			/* its controller lost the queues earlier */
	if (nvmf_qpair_process(q->qp) != 0) {
		hd_ctrl_lost(q->ctrl, nvmf_qpair_error(q->qp));
		return;
	}
	queue_sync_out(loop, q);
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
	/* Before the calls: one may end a controller these queues belong to. */
	loop_flush(loop);
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
	hd_loop->timers_changed = true;
}

int
hd_loop_watch(struct hd_loop *loop, int fd, void (*cb)(void *arg), void *arg)
{
	struct epoll_event ev = { .events = EPOLLIN };

	for (unsigned i = 0; i < MAX_WATCHES; i++) {
		struct loop_watch *w = &loop->watches[i];

		if (w->live || w->cb != NULL)
			continue;	/* a slot once used stays its descriptor's */
		*w = (struct loop_watch){ .fd = fd, .cb = cb, .arg = arg, .live = true };
		ev.data.ptr = w;
		if (epoll_ctl(loop->epfd, EPOLL_CTL_ADD, fd, &ev) != 0) {
			int rc = -errno;

			w->live = false;
			return rc;
		}
		return 0;
	}
	return -ENOSPC;
}

void
hd_loop_unwatch(struct hd_loop *loop, int fd)
{
	for (unsigned i = 0; i < MAX_WATCHES; i++) {
		struct loop_watch *w = &loop->watches[i];

		if (w->live && w->fd == fd) {
			epoll_ctl(loop->epfd, EPOLL_CTL_DEL, fd, NULL);
			w->live = false;
		}
	}
}

void
hd_loop_kick(struct hd_queue *q)
{
	queue_mark(hd_loop, q);
}

static void *
loop_main(void *arg)
{
	struct hd_loop *loop = arg;
	struct epoll_event evs[MAX_EVENTS];

	turn_take(loop);
	while (!loop->stop) {
		uint64_t now = hd_now_ms();
		int timeout = 0, n;

		if (loop->next_timer_ms > now)
			timeout = (int)(loop->next_timer_ms - now);
		/* Asleep only with nothing to do: what comes later wakes us. */
		pthread_mutex_lock(&loop->lock);
		if (loop->in_head != NULL || loop->calls != NULL)
			timeout = 0;
		else if (timeout != 0)
			atomic_store(&loop->sleeping, true);
		pthread_mutex_unlock(&loop->lock);
		turn_give(loop);
		n = epoll_wait(loop->epfd, evs, MAX_EVENTS, timeout);
		turn_take(loop);
		atomic_store(&loop->sleeping, false);
		for (int i = 0; i < n; i++) {
			if (evs[i].data.ptr == loop) {
				uint64_t v;
				ssize_t rc = read(loop->evfd, &v, sizeof(v));

				(void)rc;
				continue;
			}
			if (evs[i].data.ptr >= (void *)loop->watches &&
			    evs[i].data.ptr < (void *)(loop->watches + MAX_WATCHES)) {
				struct loop_watch *w = evs[i].data.ptr;

				if (w->live)	/* not unwatched earlier in this turn */
					w->cb(w->arg);
				continue;
			}
			queue_event(loop, evs[i].data.ptr);
		}
		run_inbox(loop);
		now = hd_now_ms();
		if (now >= loop->next_timer_ms)
			run_timers(loop, now);
		loop_flush(loop);	/* what calls and timers queued */
	}
	turn_give(loop);
	return NULL;
}

struct hd_loop *
hd_loop_start(char *err, size_t errlen)
{
	struct hd_loop *loop = calloc(1, sizeof(*loop));
	struct epoll_event ev = { .events = EPOLLIN };

	if (loop == NULL) {
		snprintf(err, errlen, "out of memory");
		return NULL;
	}
	loop->epfd = epoll_create1(EPOLL_CLOEXEC);
	loop->evfd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	ev.data.ptr = loop;
	if (loop->epfd < 0 || loop->evfd < 0 ||
	    epoll_ctl(loop->epfd, EPOLL_CTL_ADD, loop->evfd, &ev) != 0) {
		snprintf(err, errlen, "event loop: %s", strerror(errno));
		free(loop);
		return NULL;
	}
	pthread_mutex_init(&loop->turn, NULL);
	pthread_mutex_init(&loop->lock, NULL);
	pthread_cond_init(&loop->call_done, NULL);
	errno = pthread_create(&loop->thread, NULL, loop_main, loop);
	if (errno != 0) {
		snprintf(err, errlen, "event loop thread: %s", strerror(errno));
		free(loop);
		return NULL;
	}
	return loop;
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
	close(loop->epfd);
	close(loop->evfd);
	free(loop);
}

/*
 * The loop thread sleeps (or another submitter holds the turn only
 * briefly): dispatch and send from here, no wake-up. A turn that changed
 * the timers still wakes the sleeper, which must recompute its timeout.
 */
static bool
submit_inline(struct hd_loop *loop, struct hd_cmd *cmds, unsigned n)
{
	bool timers_changed;

	if (on_loop) {
		for (unsigned i = 0; i < n; i++)
			hd_cmd_dispatch(&cmds[i]);
		return true;
	}
	/*
	 * Only while the loop thread sleeps: awake, it sends the inbox with
	 * everything else its turn queued, one send per queue pair, where
	 * submitters each sending their own would cost a send per command.
	 */
	if (!atomic_load_explicit(&loop->sleeping, memory_order_relaxed) ||
	    pthread_mutex_trylock(&loop->turn) != 0)
		return false;
	on_loop = true;
	loop->timers_changed = false;
	for (unsigned i = 0; i < n; i++)
		hd_cmd_dispatch(&cmds[i]);
	loop_flush(loop);
	timers_changed = loop->timers_changed;
	turn_give(loop);
	if (timers_changed) {
		bool woken;

		pthread_mutex_lock(&loop->lock);
		woken = must_wake(loop);
		pthread_mutex_unlock(&loop->lock);
		if (woken)
			wake(loop);
	}
	return true;
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
	if (submit_inline(loop, cmds, n))
		return;
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

	if (on_loop || pthread_equal(pthread_self(), loop->thread)) {
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

void
hd_realtime_deadline(struct timespec *dl, int timeout_ms)
{
	clock_gettime(CLOCK_REALTIME, dl);
	dl->tv_sec += timeout_ms / 1000;
	dl->tv_nsec += (long)(timeout_ms % 1000) * 1000000;
	if (dl->tv_nsec >= 1000000000) {
		dl->tv_sec++;
		dl->tv_nsec -= 1000000000;
	}
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
