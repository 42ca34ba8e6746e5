/* SPDX-License-Identifier: BSD-2-Clause
 * Copyright (c) 2026 The nvmf developers */
/*
 * events.c - $rundir/devctl, the host's event stream, as FreeBSD's devctl:
 * lines in devd's notation, one reader at a time (nvmf-devd). Events raised
 * while nobody reads wait in a bounded queue; raising never blocks. A
 * RECONNECT event may wait a little first (reconnect.c's jitter), so that
 * the controllers of one lost target do not all reconnect at once.
 *
 * A reader slower than the events (1,000 controllers away, each raising
 * RECONNECT every reconnect-delay, and nvmf-devd starting a process for
 * each) must not be fed a backlog of stale requests: a RECONNECT not yet
 * sent is not queued twice for one controller, and any other news of the
 * controller (RECONNECTED, DETACHED) withdraws it. The socket's send buffer
 * is kept small so that the backlog waits here, where this can be done.
 */
#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include "fdlimit.h"
#include "fdreserve.h"
#include "hostd.h"

#define QUEUE_MAX	8192	/* a thousand controllers lost at once: two events each, and more */
#define READER_SNDBUF	(16 * 1024)	/* a few dozen lines in the socket; the rest queue here */

struct line {
	struct line *next;
	size_t len, sent;
	uint64_t due;			/* when a delayed RECONNECT goes out */
	bool reconnect;
	char name[16];			/* the controller's, to drop it when it heals */
	char text[];
};

/* lock guards the queue and stopping; the sockets are the events thread's. */
static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static struct line *head, *tail;
static struct line *delayed;		/* RECONNECTs waiting for their time, by due */
static unsigned queued, dropped;
static bool stopping;
static int listen_fd = -1, reader_fd = -1, wake_fd = -1;
/* Lets a reader in to be turned away when accept finds no descriptor left. */
static struct fd_reserve reserve = FD_RESERVE_EMPTY;	/* the events thread's */
static pthread_t thread;
static char path[4200];

/* A RECONNECT of the controller of which nothing has been sent yet. */
static bool
unsent_reconnect_of(const struct line *l, const char *name)
{
	return l->reconnect && l->sent == 0 && strcmp(l->name, name) == 0;
}

/* lock held: the controller's RECONNECT waiting in the queue, none of it sent. */
static struct line *
queued_reconnect(const char *name)
{
	for (struct line *l = head; l != NULL; l = l->next)
		if (unsent_reconnect_of(l, name))
			return l;
	return NULL;
}

/* lock held: the controller's unsent RECONNECTs leave the queue. */
static void
withdraw_queued(const char *name)
{
	struct line *prev = NULL;

	for (struct line *l = head; l != NULL;) {
		struct line *next = l->next;

		if (unsent_reconnect_of(l, name)) {
			if (prev != NULL)
				prev->next = next;
			else
				head = next;
			if (tail == l)
				tail = prev;
			free(l);
			queued--;
		} else {
			prev = l;
		}
		l = next;
	}
}

/*
 * lock held: a line at the queue's end, the oldest dropped if it is full;
 * a RECONNECT the queue already holds unsent is not queued again.
 */
static void
enqueue(struct line *l)
{
	if (l->reconnect && queued_reconnect(l->name) != NULL) {
		free(l);
		return;
	}
	l->next = NULL;
	if (queued >= QUEUE_MAX) {
		/* Nobody has read for a long time: the oldest events go first. */
		struct line *old = head;

		head = old->next;
		if (head == NULL)
			tail = NULL;
		free(old);
		queued--;
		dropped++;
	}
	if (tail != NULL)
		tail->next = l;
	else
		head = l;
	tail = l;
	queued++;
}

/* lock held: a controller's delayed RECONNECT is moot once it heals or goes. */
static void
drop_delayed(const char *name)
{
	for (struct line **pp = &delayed; *pp != NULL;) {
		struct line *l = *pp;

		if (strcmp(l->name, name) == 0) {
			*pp = l->next;
			free(l);
		} else {
			pp = &l->next;
		}
	}
}

/* lock held: delayed lines whose time has come join the queue; the next due. */
static uint64_t
release_due(uint64_t now)
{
	while (delayed != NULL && delayed->due <= now) {
		struct line *l = delayed;

		delayed = l->next;
		daemon_log(LOG_INFO, "%s: event RECONNECT", l->name);
		enqueue(l);
	}
	return delayed != NULL ? delayed->due : UINT64_MAX;
}

void
hd_event_raise(const char *type, const char *name)
{
	char text[256];
	struct line *l;
	int n = snprintf(text, sizeof(text),
	    "!system=nvme subsystem=controller type=%s name=\"%s\"\n", type, name);
	bool reconnect = strcmp(type, "RECONNECT") == 0;
	unsigned delay = reconnect ? hd_reconnect_event_delay(name) : 0;
	uint64_t one = 1;
	ssize_t rc;

	if (delay == 0)
		daemon_log(LOG_INFO, "%s: event %s", name, type);
	l = malloc(sizeof(*l) + (size_t)n + 1);
	if (l == NULL)
		return;
	memcpy(l->text, text, (size_t)n + 1);
	l->len = (size_t)n;
	l->sent = 0;
	l->next = NULL;
	l->due = hd_now_ms() + delay;
	l->reconnect = reconnect;
	snprintf(l->name, sizeof(l->name), "%s", name);
	pthread_mutex_lock(&lock);
	if (delay > 0) {
		struct line **pp = &delayed;

		while (*pp != NULL && (*pp)->due <= l->due)
			pp = &(*pp)->next;
		l->next = *pp;
		*pp = l;
	} else {
		/* Any other news of the controller makes a RECONNECT still waiting moot. */
		if (!reconnect) {
			drop_delayed(name);
			withdraw_queued(name);
		}
		enqueue(l);
	}
	pthread_mutex_unlock(&lock);
	rc = write(wake_fd, &one, sizeof(one));
	(void)rc;
}

/*
 * accept found no descriptor left (err): the reserve lets the reader in to
 * be closed. Logged once until a reader is accepted again: nvmf-devd
 * retries every second.
 */
static void
refuse_without_descriptors(int err, bool *logged)
{
	if (!fd_reserve_turn_away(&reserve, listen_fd, SOCK_CLOEXEC))
		return;
	if (!*logged)
		daemon_log(LOG_WARNING, "%s: refusing a reader: out of file descriptors (%s, "
		    "RLIMIT_NOFILE %lu)", path, strerror(err), fdlimit_current());
	*logged = true;
}

/* Writes what the reader takes; false when the reader has gone. */
static bool
drain(void)
{
	pthread_mutex_lock(&lock);
	while (head != NULL) {
		struct line *l = head;
		ssize_t n = send(reader_fd, l->text + l->sent, l->len - l->sent,
		    MSG_NOSIGNAL | MSG_DONTWAIT);

		if (n < 0) {
			bool alive = errno == EAGAIN || errno == EWOULDBLOCK;

			pthread_mutex_unlock(&lock);
			return alive;
		}
		l->sent += (size_t)n;
		if (l->sent < l->len)
			break;
		head = l->next;
		if (head == NULL)
			tail = NULL;
		queued--;
		free(l);
	}
	pthread_mutex_unlock(&lock);
	return true;
}

static void *
events_main(void *arg)
{
	bool short_logged = false;

	(void)arg;
	for (;;) {
		struct pollfd pfd[3] = {
			{ .fd = listen_fd, .events = POLLIN },
			{ .fd = wake_fd, .events = POLLIN },
			{ .fd = reader_fd, .events = POLLIN },
		};
		uint64_t v, now, next;
		bool was_dropped;
		int timeout = -1;

		pthread_mutex_lock(&lock);
		if (stopping) {
			pthread_mutex_unlock(&lock);
			break;
		}
		now = hd_now_ms();
		next = release_due(now);
		if (next != UINT64_MAX)
			timeout = next - now > 60000 ? 60000 : (int)(next - now);
		if (reader_fd >= 0 && head != NULL)
			pfd[2].events |= POLLOUT;
		pthread_mutex_unlock(&lock);
		if (poll(pfd, 3, timeout) < 0 && errno != EINTR)
			break;
		if (pfd[1].revents & POLLIN) {
			ssize_t rc = read(wake_fd, &v, sizeof(v));

			(void)rc;
		}
		if (pfd[0].revents & POLLIN) {
			int fd = accept4(listen_fd, NULL, NULL, SOCK_CLOEXEC | SOCK_NONBLOCK);

			if (fd < 0 && (errno == EMFILE || errno == ENFILE))
				refuse_without_descriptors(errno, &short_logged);
			else if (fd >= 0)
				short_logged = false;
			if (fd >= 0 && !hd_peer_allowed(fd)) {
				/* The event stream is root's (and hostd's user's), as devctl. */
				daemon_log(LOG_WARNING, "%s: refusing a reader of another user", path);
				close(fd);
			} else if (fd >= 0 && reader_fd >= 0) {
				/* One reader, as devctl: the second is turned away. */
				daemon_log(LOG_WARNING, "%s already has a reader: refusing another",
				    path);
				close(fd);
			} else if (fd >= 0) {
				int sndbuf = READER_SNDBUF;

				/* Best effort: a larger buffer only lets the backlog grow stale. */
				(void)setsockopt(fd, SOL_SOCKET, SO_SNDBUF, &sndbuf, sizeof(sndbuf));
				reader_fd = fd;
				pthread_mutex_lock(&lock);
				was_dropped = dropped > 0;
				dropped = 0;
				pthread_mutex_unlock(&lock);
				daemon_log(LOG_INFO, "%s: reader connected%s", path,
				    was_dropped ? " (some old events were dropped)" : "");
			}
		}
		if (reader_fd >= 0 && (pfd[2].revents & (POLLHUP | POLLERR | POLLIN))) {
			char junk[256];

			if (recv(reader_fd, junk, sizeof(junk), MSG_DONTWAIT) == 0 ||
			    (pfd[2].revents & (POLLHUP | POLLERR))) {
				close(reader_fd);
				reader_fd = -1;
				daemon_log(LOG_INFO, "%s: reader gone", path);
				continue;
			}
		}
		if (reader_fd >= 0 && !drain()) {
			close(reader_fd);
			reader_fd = -1;
		}
	}
	return NULL;
}

int
hd_events_start(const char *sock_path, char *err, size_t errlen)
{
	struct sockaddr_un sun = { .sun_family = AF_UNIX };

	if (strlen(sock_path) >= sizeof(sun.sun_path)) {
		snprintf(err, errlen, "%s: path too long for a socket", sock_path);
		return -1;
	}
	memcpy(sun.sun_path, sock_path, strlen(sock_path) + 1);
	snprintf(path, sizeof(path), "%s", sock_path);
	wake_fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	listen_fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (wake_fd < 0 || listen_fd < 0) {
		snprintf(err, errlen, "devctl: %s", strerror(errno));
		return -1;
	}
	unlink(sock_path);
	/* Born 0600 under main's umask, and a stranger who connects anyway is refused. */
	if (bind(listen_fd, (struct sockaddr *)&sun, sizeof(sun)) != 0 ||
	    listen(listen_fd, 4) != 0 || chmod(sock_path, 0600) != 0) {
		snprintf(err, errlen, "%s: %s", sock_path, strerror(errno));
		return -1;
	}
	(void)fd_reserve_hold(&reserve);
	errno = pthread_create(&thread, NULL, events_main, NULL);
	if (errno != 0) {
		snprintf(err, errlen, "devctl thread: %s", strerror(errno));
		return -1;
	}
	return 0;
}

void
hd_events_stop(void)
{
	uint64_t one = 1;
	ssize_t rc;

	if (listen_fd < 0)
		return;
	pthread_mutex_lock(&lock);
	stopping = true;
	pthread_mutex_unlock(&lock);
	rc = write(wake_fd, &one, sizeof(one));
	(void)rc;
	pthread_join(thread, NULL);
	/* Nobody raises events now (main stops every raiser first): the queue
	 * and the reader are ours. Give the reader what is still queued, briefly. */
	if (reader_fd >= 0) {
		for (int i = 0; i < 20 && head != NULL && drain(); i++)
			usleep(5000);
		close(reader_fd);
	}
	while (delayed != NULL) {
		struct line *l = delayed;

		delayed = l->next;
		free(l);
	}
	close(listen_fd);
	close(wake_fd);
	fd_reserve_release(&reserve);
	unlink(path);
	listen_fd = -1;
}
