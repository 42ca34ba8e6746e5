/* SPDX-License-Identifier: BSD-2-Clause
 * Copyright (c) 2026 The nvmf developers */
/*
 * control.c - the control socket, $rundir/nvmf.sock: SOCK_SEQPACKET, one
 * JSON request and one JSON reply per message (a reply larger than a
 * message in pieces, for clients that ask so), sockets of a hand-off as
 * SCM_RIGHTS (docs/control-protocol.md). Only root or hostd's own user
 * may talk to it. A client turned away at a limit gets a reply saying
 * which, and hostd logs it.
 */
#include <errno.h>
#include <json-c/json.h>
#include <poll.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include "base64.h"
#include "fdlimit.h"
#include "fdreserve.h"
#include "hostd.h"

#define MSG_MAX		65536
#define MAX_FDS		(HOSTD_MAX_IO_QUEUES + 1)
/* Clients at once, each a thread (devd runs at most 256 actions at once). */
#define MAX_CLIENTS	1024
#define CLIENT_STACK	(256 * 1024)
#define CLIENT_IDLE_S	10
/* A client that takes no part of a reply for this long is dropped. */
#define SEND_TIMEOUT_S	30

/* A client's thread; the list lets hd_control_stop end them all and wait. */
struct client {
	struct client *next;
	int fd;
	bool on_reserve;	/* holds serve_reserve's slot */
};

static int listen_fd = -1;
static pthread_t control_thread;
static struct hd_workers *client_threads;
static pthread_mutex_t clients_lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t clients_gone = PTHREAD_COND_INITIALIZER;
static struct client *clients;		/* clients_lock */
static unsigned nclients;		/* clients_lock */
static bool stopping;			/* clients_lock */
/*
 * Two descriptors kept open for when accept finds none left. The first
 * makes room for a client that is then served like any other: devlist
 * and disconnect need no more descriptors, and disconnect frees some, so
 * a full nvmf-hostd can still be looked at and relieved. It is taken back
 * when that client goes. The second makes room to tell a client that
 * finds the first still lent why it is turned away.
 */
static struct fd_reserve serve_reserve = FD_RESERVE_EMPTY;	/* clients_lock */
static bool serve_reserve_lent;					/* clients_lock */
static struct fd_reserve refuse_reserve = FD_RESERVE_EMPTY;	/* the control thread's */
/* A client served on the reserve usually ends at once: the next waits this long for it. */
#define RESERVE_WAIT_MS	1000

static struct json_object *
error_reply(const char *code, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static struct json_object *
error_reply(const char *code, const char *fmt, ...)
{
	struct json_object *r = json_object_new_object();
	char msg[512];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	json_object_object_add(r, "ok", json_object_new_boolean(false));
	json_object_object_add(r, "code", json_object_new_string(code));
	json_object_object_add(r, "error", json_object_new_string(msg));
	return r;
}

static struct json_object *
ok_reply(void)
{
	struct json_object *r = json_object_new_object();

	json_object_object_add(r, "ok", json_object_new_boolean(true));
	return r;
}

static struct json_object *
op_handoff(struct json_object *req, int *fds, unsigned nfds)
{
	char err[512];
	bool invalid;
	struct hd_ctrl *c = hd_ctrl_handoff(req, fds, nfds, &invalid, err, sizeof(err));
	struct json_object *r, *names;

	if (c == NULL) {
		daemon_log(LOG_WARNING, "hand-off refused: %s", err);
		return error_reply(invalid ? "invalid" : "failed", "%s", err);
	}
	r = ok_reply();
	json_object_object_add(r, "name", json_object_new_string(c->name));
	names = json_object_new_array();
	hd_registry_lock();
	for (struct hd_namespace *ns = c->namespaces; ns != NULL; ns = ns->next)
		json_object_array_add(names, json_object_new_string(ns->name));
	hd_registry_unlock();
	json_object_object_add(r, "namespaces", names);
	return r;
}

/*
 * Every controller target names, referenced, in a malloc'd array: a SubNQN
 * may name a thousand. NULL with *n 0 when none (or out of memory: *oom).
 */
static struct hd_ctrl **
match_all(const char *target, unsigned *n, bool *oom)
{
	unsigned cap = 64;

	*oom = false;
	for (;;) {
		struct hd_ctrl **all = malloc(cap * sizeof(*all));

		if (all == NULL) {
			*oom = true;
			*n = 0;
			return NULL;
		}
		*n = hd_ctrl_match(target, all, cap);
		if (*n < cap) {
			if (*n == 0) {
				free(all);
				return NULL;
			}
			return all;
		}
		/* Perhaps more than that: again, with room to spare. */
		for (unsigned i = 0; i < *n; i++)
			hd_ctrl_put(all[i]);
		free(all);
		cap *= 4;
	}
}

static struct json_object *
op_disconnect(struct hd_jf *f)
{
	const char *target = hd_jf_str(f, "target", 255);
	struct hd_ctrl **match;
	struct json_object *r, *done;
	unsigned n;
	char err[256];
	int failures = 0;
	bool oom;

	if (!hd_jf_ok(f))
		return error_reply("invalid", "disconnect: %s", f->err);
	match = match_all(target, &n, &oom);
	if (oom)
		return error_reply("failed", "out of memory");
	if (n == 0)
		return error_reply("not-found", "no controller or namespace named %s", target);
	done = json_object_new_array();
	for (unsigned i = 0; i < n; i++) {
		if (hd_ctrl_disconnect(match[i], err, sizeof(err)) == 0)
			json_object_array_add(done, json_object_new_string(match[i]->name));
		else
			failures++;
		hd_ctrl_put(match[i]);
	}
	free(match);
	if (failures > 0) {
		json_object_put(done);
		return error_reply("failed", "%s", err);
	}
	r = ok_reply();
	json_object_object_add(r, "disconnected", done);
	return r;
}

static struct json_object *
op_disconnect_all(void)
{
	struct json_object *list = hd_ctrl_list_json(), *done = json_object_new_array();
	struct json_object *r;
	char err[256];

	for (size_t i = 0; i < json_object_array_length(list); i++) {
		struct json_object *name;
		struct hd_ctrl *c;

		/* Our own list: every entry has its name. */
		json_object_object_get_ex(json_object_array_get_idx(list, i), "name", &name);
		c = hd_ctrl_find(json_object_get_string(name));
		if (c == NULL)
			continue;
		if (hd_ctrl_disconnect(c, err, sizeof(err)) == 0)
			json_object_array_add(done, json_object_new_string(c->name));
		hd_ctrl_put(c);
	}
	json_object_put(list);
	r = ok_reply();
	json_object_object_add(r, "disconnected", done);
	return r;
}

static struct json_object *
op_admin(struct hd_jf *f)
{
	const char *name = hd_jf_str(f, "name", 255);
	const char *sqe64 = hd_jf_str(f, "sqe", 128);
	int64_t len = hd_jf_int(f, "data_len", 0, 65536);
	struct nvme_command sqe;
	struct nvme_completion cqe;
	struct json_object *r;
	struct hd_ctrl *c;
	uint8_t *buf;
	char *b64;
	int rc;

	if (!hd_jf_ok(f))
		return error_reply("invalid", "admin: %s", f->err);
	if (base64_decode(sqe64, (uint8_t *)&sqe, sizeof(sqe)) != sizeof(sqe))
		return error_reply("invalid", "admin: \"sqe\" must be the base64 of a "
		    "%zu-byte command", sizeof(sqe));
	if (sqe.opc != NVME_ADMIN_IDENTIFY && sqe.opc != NVME_ADMIN_GET_LOG_PAGE &&
	    sqe.opc != NVME_ADMIN_GET_FEATURES)
		return error_reply("invalid", "admin: only Identify, Get Log Page and Get "
		    "Features may be sent this way");
	c = hd_ctrl_find(name);
	if (c == NULL)
		return error_reply("not-found", "no controller named %s", name);
	if (c->state != HD_CTRL_CONNECTED) {
		r = error_reply("failed", "%s is not connected", c->name);
		hd_ctrl_put(c);
		return r;
	}
	buf = calloc(1, len > 0 ? (size_t)len : 1);
	if (buf == NULL) {
		hd_ctrl_put(c);
		return error_reply("failed", "out of memory");
	}
	rc = hd_admin_sync(hd_loop, c, &sqe, len > 0 ? buf : NULL, (uint32_t)len, &cqe);
	hd_ctrl_put(c);
	if (rc != 0) {
		free(buf);
		return error_reply("failed", "admin command: %s", strerror(-rc));
	}
	r = ok_reply();
	json_object_object_add(r, "status", json_object_new_int(NVME_CQE_STATUS(cqe.status)));
	json_object_object_add(r, "cdw0", json_object_new_int64(cqe.cdw0));
	b64 = base64_encode(buf, (size_t)len);
	json_object_object_add(r, "data", json_object_new_string(b64 ? b64 : ""));
	free(b64);
	free(buf);
	return r;
}

/* The controller a request names in "name", referenced, or an error reply. */
static struct hd_ctrl *
named_ctrl(struct hd_jf *f, const char *op, struct json_object **reply)
{
	const char *name = hd_jf_str(f, "name", 255);
	struct hd_ctrl *c;

	if (!hd_jf_ok(f)) {
		*reply = error_reply("invalid", "%s: %s", op, f->err);
		return NULL;
	}
	c = hd_ctrl_find(name);
	if (c == NULL)
		*reply = error_reply("not-found", "no controller named %s", name);
	return c;
}

static struct json_object *
op_reconnect_begin(struct hd_jf *f, struct hd_lease_owner *owner)
{
	struct json_object *r = NULL;
	struct hd_ctrl *c = named_ctrl(f, "reconnect-begin", &r);

	if (c == NULL)
		return r;
	switch (hd_reconnect_begin(c, owner)) {
	case HD_LEASE_OK:
		r = ok_reply();
		json_object_object_add(r, "controller", hd_ctrl_params_json(c));
		break;
	case HD_LEASE_CONNECTED:
		r = error_reply("connected", "%s is connected", c->name);
		break;
	case HD_LEASE_BUSY:
		r = error_reply("busy", "a reconnect of %s is already under way", c->name);
		break;
	case HD_LEASE_GONE:
		r = error_reply("not-found", "%s is being removed", c->name);
		break;
	}
	hd_ctrl_put(c);
	return r;
}

static struct json_object *
op_reconnect(struct hd_jf *f, int *fds, unsigned nfds, struct hd_lease_owner *owner)
{
	struct json_object *r = NULL;
	struct hd_ctrl *c = named_ctrl(f, "reconnect", &r);
	char err[512];
	bool invalid;

	if (c == NULL)
		return r;
	if (hd_reconnect_finish(c, owner, f->obj, fds, nfds, &invalid, err, sizeof(err)) != 0)
		r = error_reply(invalid ? "invalid" : "failed", "%s", err);
	else {
		r = ok_reply();
		json_object_object_add(r, "name", json_object_new_string(c->name));
	}
	hd_ctrl_put(c);
	return r;
}

static struct json_object *
op_reconnect_abort(struct hd_jf *f, struct hd_lease_owner *owner)
{
	const char *why = hd_jf_str_or(f, "error", 400, "given up");
	struct json_object *r = NULL;
	struct hd_ctrl *c;

	/* Read every field before acting: a bad one leaves the lease alone. */
	c = named_ctrl(f, "reconnect-abort", &r);
	if (c == NULL)
		return r;
	hd_reconnect_abort(c, owner, why);
	hd_ctrl_put(c);
	return ok_reply();
}

/*
 * list: what devlist and list-subsys show, the kept parameters included.
 * "subnqn" keeps that subsystem's controllers only (connect's duplicate
 * check).
 */
static struct json_object *
op_list(struct hd_jf *f)
{
	const char *subnqn = hd_jf_str_or(f, "subnqn", NVMF_NQN_MAX_LEN, "");
	struct json_object *r, *list, *kept;

	if (!hd_jf_ok(f))
		return error_reply("invalid", "list: %s", f->err);
	list = hd_ctrl_list_json();
	if (subnqn[0] == '\0') {
		kept = list;
	} else {
		kept = json_object_new_array();
		for (size_t i = 0; i < json_object_array_length(list); i++) {
			struct json_object *o = json_object_array_get_idx(list, i), *sub;

			if (json_object_object_get_ex(o, "subnqn", &sub) &&
			    strcmp(json_object_get_string(sub), subnqn) == 0)
				json_object_array_add(kept, json_object_get(o));
		}
		json_object_put(list);
	}
	r = ok_reply();
	json_object_object_add(r, "controllers", kept);
	return r;
}

/* ns-rescan: read the namespaces again now, as a namespace-change notice does. */
static struct json_object *
op_rescan(struct hd_jf *f)
{
	struct json_object *r = NULL, *names;
	struct hd_ctrl *c = named_ctrl(f, "rescan", &r);
	char err[256];

	if (c == NULL)
		return r;
	if (c->state != HD_CTRL_CONNECTED) {
		r = error_reply("failed", "%s is not connected", c->name);
		hd_ctrl_put(c);
		return r;
	}
	if (hd_ns_scan(c, err, sizeof(err)) != 0) {
		r = error_reply("failed", "%s: namespace rescan: %s", c->name, err);
		hd_ctrl_put(c);
		return r;
	}
	r = ok_reply();
	names = json_object_new_array();
	hd_registry_lock();
	for (struct hd_namespace *ns = c->namespaces; ns != NULL; ns = ns->next)
		if (!ns->gone)
			json_object_array_add(names, json_object_new_string(ns->name));
	hd_registry_unlock();
	json_object_object_add(r, "namespaces", names);
	hd_ctrl_put(c);
	return r;
}

static void
reset_on_loop(void *arg)
{
	hd_ctrl_lost(arg, "reset by nvmecontrol");
}

/*
 * reset: drop the association as a loss does (I/O held, timers started)
 * and lend the controller to this client at once, as reconnect-begin
 * does, so that it rebuilds the association before any rule's reconnect.
 */
static struct json_object *
op_reset(struct hd_jf *f, struct hd_lease_owner *owner)
{
	struct json_object *r = NULL;
	struct hd_ctrl *c = named_ctrl(f, "reset", &r);

	if (c == NULL)
		return r;
	if (c->state != HD_CTRL_CONNECTED) {
		r = error_reply("failed", "%s is not connected (reconnect rebuilds a lost "
		    "association)", c->name);
		hd_ctrl_put(c);
		return r;
	}
	hd_loop_call(hd_loop, reset_on_loop, c);
	switch (hd_reconnect_begin(c, owner)) {
	case HD_LEASE_OK:
		r = ok_reply();
		json_object_object_add(r, "controller", hd_ctrl_params_json(c));
		break;
	case HD_LEASE_CONNECTED:
		/* Reconnected by someone else in between: the reset is done. */
		r = ok_reply();
		break;
	case HD_LEASE_BUSY:
		r = error_reply("busy", "%s was reset; another reconnect of it is under way",
		    c->name);
		break;
	case HD_LEASE_GONE:
		r = error_reply("not-found", "%s is being removed", c->name);
		break;
	}
	hd_ctrl_put(c);
	return r;
}

static struct json_object *
dispatch(struct json_object *req, int *fds, unsigned nfds, struct hd_lease_owner *owner)
{
	char err[400];
	struct hd_jf f;
	const char *op;

	hd_jf_init(&f, req, "", err, sizeof(err));
	op = hd_jf_str(&f, "op", 64);
	if (!hd_jf_ok(&f))
		return error_reply("invalid", "%s", err);
	if (strcmp(op, "handoff") == 0)
		return op_handoff(req, fds, nfds);
	if (strcmp(op, "reconnect") == 0)
		return op_reconnect(&f, fds, nfds, owner);
	if (nfds > 0)
		return error_reply("invalid", "%s takes no file descriptors", op);
	if (strcmp(op, "list") == 0)
		return op_list(&f);
	if (strcmp(op, "disconnect") == 0)
		return op_disconnect(&f);
	if (strcmp(op, "disconnect-all") == 0)
		return op_disconnect_all();
	if (strcmp(op, "admin") == 0)
		return op_admin(&f);
	if (strcmp(op, "reconnect-begin") == 0)
		return op_reconnect_begin(&f, owner);
	if (strcmp(op, "reconnect-abort") == 0)
		return op_reconnect_abort(&f, owner);
	if (strcmp(op, "reset") == 0)
		return op_reset(&f, owner);
	if (strcmp(op, "rescan") == 0)
		return op_rescan(&f);
	return error_reply("invalid", "unknown operation \"%s\"", op);
}

/*
 * The request's JSON, strictly: one object, nothing after it but white
 * space (or the NUL a C client may send), valid UTF-8, not absurdly deep.
 * buf[n] must be a NUL: it ends a bare number at the end of the message.
 */
static struct json_object *
parse_request(const char *buf, size_t n, struct json_object **reply)
{
	struct json_tokener *tok = json_tokener_new_ex(16);
	struct json_object *req;
	enum json_tokener_error e;
	size_t end;

	if (n > 0 && buf[n - 1] == '\0')
		n--;
	if (tok == NULL) {
		*reply = error_reply("failed", "out of memory");
		return NULL;
	}
	json_tokener_set_flags(tok, JSON_TOKENER_STRICT | JSON_TOKENER_VALIDATE_UTF8);
	req = json_tokener_parse_ex(tok, buf, (int)n + 1);
	e = json_tokener_get_error(tok);
	end = json_tokener_get_parse_end(tok);
	json_tokener_free(tok);
	if (e != json_tokener_success) {
		*reply = error_reply("invalid", "request is not JSON: %s at byte %zu",
		    e == json_tokener_continue ? "it ends too early" : json_tokener_error_desc(e),
		    end);
		return NULL;
	}
	if (end < n) {
		*reply = error_reply("invalid", "request is not JSON: a NUL at byte %zu", end);
		json_object_put(req);
		return NULL;
	}
	/* A JSON null parses to no object at all. */
	if (req == NULL || !json_object_is_type(req, json_type_object)) {
		*reply = error_reply("invalid", "request is not a JSON object");
		json_object_put(req);
		return NULL;
	}
	return req;
}

/* One message; false when the client has gone or stalled (logged by the caller). */
static bool
send_msg(int fd, const char *p, size_t len)
{
	ssize_t n;

	do {
		n = send(fd, p, len, MSG_NOSIGNAL);
	} while (n < 0 && errno == EINTR);
	return n == (ssize_t)len;
}

/*
 * A reply within one message goes as it always has. A larger one goes in
 * pieces to a client that asked for them ("chunked": true): a header
 * message saying how many bytes in how many messages, then the reply's
 * text cut into messages of at most MSG_MAX bytes. Anyone else is told
 * the reply does not fit, and hostd logs it.
 */
static int
send_reply(int fd, struct json_object *reply, bool chunked, const char *op)
{
	size_t len;
	const char *out = json_object_to_json_string_length(reply, JSON_C_TO_STRING_PLAIN, &len);
	char head[160];
	size_t messages = (len + MSG_MAX - 1) / MSG_MAX;

	if (len <= MSG_MAX)
		return send_msg(fd, out, len) ? 0 : -1;
	if (!chunked) {
		struct json_object *e;
		int rc;

		daemon_log(LOG_WARNING, "control: the %s reply is %zu bytes, more than one message "
		    "(%d): refused to a client that did not ask for \"chunked\"", op, len, MSG_MAX);
		e = error_reply("failed", "the %s reply is %zu bytes, more than one message holds "
		    "(%d): ask with \"chunked\": true", op, len, MSG_MAX);
		out = json_object_to_json_string_ext(e, JSON_C_TO_STRING_PLAIN);
		rc = send_msg(fd, out, strlen(out)) ? 0 : -1;
		json_object_put(e);
		return rc;
	}
	snprintf(head, sizeof(head), "{\"ok\":true,\"chunked\":{\"bytes\":%zu,\"messages\":%zu}}",
	    len, messages);
	if (!send_msg(fd, head, strlen(head)))
		return -1;
	for (size_t off = 0; off < len; off += MSG_MAX)
		if (!send_msg(fd, out + off, len - off < MSG_MAX ? len - off : MSG_MAX))
			return -1;
	return 0;
}

/* One request: receive with descriptors, answer, close unused descriptors. */
static int
serve_one(int fd, char *buf, struct hd_lease_owner *owner)
{
	union {
		struct cmsghdr align;
		char space[CMSG_SPACE(sizeof(int) * MAX_FDS)];
	} cm;
	struct iovec iov = { .iov_base = buf, .iov_len = MSG_MAX - 1 };
	struct msghdr msg = { .msg_iov = &iov, .msg_iovlen = 1, .msg_control = cm.space,
	    .msg_controllen = sizeof(cm.space) };
	struct json_object *req, *reply, *opv;
	int fds[MAX_FDS];
	unsigned nfds = 0;
	bool chunked = false;
	char op[32] = "";
	ssize_t n;
	int rc;

	n = recvmsg(fd, &msg, MSG_CMSG_CLOEXEC);
	if (n <= 0)
		return -1;
	for (struct cmsghdr *c = CMSG_FIRSTHDR(&msg); c != NULL; c = CMSG_NXTHDR(&msg, c)) {
		if (c->cmsg_level == SOL_SOCKET && c->cmsg_type == SCM_RIGHTS) {
			unsigned k = (unsigned)((c->cmsg_len - CMSG_LEN(0)) / sizeof(int));

			for (unsigned i = 0; i < k && nfds < MAX_FDS; i++)
				memcpy(&fds[nfds++], CMSG_DATA(c) + i * sizeof(int), sizeof(int));
		}
	}
	buf[n] = '\0';
	req = NULL;
	if (msg.msg_flags & MSG_TRUNC) {
		reply = error_reply("invalid", "request larger than %d bytes", MSG_MAX - 1);
	} else if (msg.msg_flags & MSG_CTRUNC) {
		/*
		 * The kernel cuts the descriptors short both for a request that
		 * carries too many and for a receiver that has no room for them.
		 */
		daemon_log(LOG_WARNING, "control: a request's descriptors were cut short: more "
		    "than %d, or none left (RLIMIT_NOFILE %lu)", MAX_FDS, fdlimit_current());
		reply = error_reply("failed", "the request's descriptors were cut short: more "
		    "than %d, or nvmf-hostd has none left (RLIMIT_NOFILE %lu)", MAX_FDS,
		    fdlimit_current());
	} else if ((req = parse_request(buf, (size_t)n, &reply)) != NULL) {
		struct hd_jf f;
		char err[200];

		if (json_object_object_get_ex(req, "op", &opv) &&
		    json_object_is_type(opv, json_type_string))
			snprintf(op, sizeof(op), "%s", json_object_get_string(opv));
		hd_jf_init(&f, req, "", err, sizeof(err));
		chunked = hd_jf_bool_or(&f, "chunked", false);
		reply = hd_jf_ok(&f) ? dispatch(req, fds, nfds, owner) :
		    error_reply("invalid", "%s", err);
	}
	for (unsigned i = 0; i < nfds; i++)
		if (fds[i] >= 0)
			close(fds[i]);
	rc = send_reply(fd, reply, chunked, op[0] != '\0' ? op : "request");
	if (rc != 0)
		daemon_log(LOG_WARNING, "control: the %s reply could not be sent: %s",
		    op[0] != '\0' ? op : "request", strerror(errno));
	json_object_put(reply);
	if (req != NULL)
		json_object_put(req);
	return rc;
}

/* The client that held the serve reserve's slot has closed it: take it back. */
static void
serve_reserve_back_locked(void)
{
	serve_reserve_lent = false;
	/* Fails if something else took the slot: accept_on_reserve tries again. */
	(void)fd_reserve_hold(&serve_reserve);
}

static void
serve_reserve_back(void)
{
	pthread_mutex_lock(&clients_lock);
	serve_reserve_back_locked();
	pthread_cond_broadcast(&clients_gone);
	pthread_mutex_unlock(&clients_lock);
}

/*
 * One client, on a thread of the client pool: its requests one after
 * another; a client that stalls is dropped. hd_control_stop shuts its
 * socket down, which ends the loop.
 */
static void
serve_client(void *arg)
{
	struct client *cl = arg;
	char *buf = malloc(MSG_MAX);
	struct hd_lease_owner owner = { 0 };

	if (buf == NULL)
		daemon_log(LOG_ERR, "control: out of memory for a client's request");
	while (buf != NULL) {
		struct pollfd pfd = { .fd = cl->fd, .events = POLLIN };

		if (poll(&pfd, 1, 30000) <= 0 || serve_one(cl->fd, buf, &owner) != 0)
			break;
	}
	/* A reconnect that went away without finishing gives its lease back. */
	hd_reconnect_release_owner(&owner);
	free(buf);
	pthread_mutex_lock(&clients_lock);
	for (struct client **pp = &clients; *pp != NULL; pp = &(*pp)->next)
		if (*pp == cl) {
			*pp = cl->next;
			break;
		}
	nclients--;
	/* Closed under the lock: hd_control_stop never shuts down a reused number. */
	close(cl->fd);
	if (cl->on_reserve)
		serve_reserve_back_locked();
	pthread_cond_broadcast(&clients_gone);
	pthread_mutex_unlock(&clients_lock);
	free(cl);
}

/* Turns a client away with a reply saying why (and one log line), and closes it. */
static void
refuse(int fd, const char *code, const char *fmt, ...) __attribute__((format(printf, 3, 4)));

static void
refuse(int fd, const char *code, const char *fmt, ...)
{
	struct json_object *r;
	const char *s;
	char msg[300];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	daemon_log(LOG_WARNING, "control: client refused: %s", msg);
	r = error_reply(code, "%s", msg);
	s = json_object_to_json_string_ext(r, JSON_C_TO_STRING_PLAIN);
	(void)send(fd, s, strlen(s), MSG_NOSIGNAL | MSG_DONTWAIT);
	json_object_put(r);
	/*
	 * A request left unread would make the close reset the connection,
	 * and the client's next read would say so instead of reading why.
	 */
	for (int i = 0; i < 4 && recv(fd, NULL, 0, MSG_DONTWAIT | MSG_TRUNC) >= 0; i++)
		;
	close(fd);
}

/*
 * accept found no descriptor left (err) for the client control_main's poll
 * saw waiting. The serve reserve's slot takes it, and it is served; if
 * another client holds that slot, this one waits for it a moment, then the
 * refuse reserve's slot takes it only to tell it. Returns the descriptor
 * of a client to serve, or -1.
 */
static int
accept_on_reserve(int err)
{
	struct timespec dl;
	int fd;

	pthread_mutex_lock(&clients_lock);
	hd_realtime_deadline(&dl, RESERVE_WAIT_MS);
	while (serve_reserve_lent && !stopping &&
	    pthread_cond_timedwait(&clients_gone, &clients_lock, &dl) == 0)
		;
	if (stopping) {
		pthread_mutex_unlock(&clients_lock);
		return -1;
	}
	/* Given back, or never held for want of room: there may be room now. */
	if (!serve_reserve_lent && fd_reserve_hold(&serve_reserve)) {
		/* Lent from here: nobody else touches the reserve until it is back. */
		serve_reserve_lent = true;
		pthread_mutex_unlock(&clients_lock);
		fd = fd_reserve_accept(&serve_reserve, listen_fd, SOCK_CLOEXEC, NULL, NULL);
		if (fd < 0)
			serve_reserve_back();
		return fd;
	}
	pthread_mutex_unlock(&clients_lock);
	fd = fd_reserve_accept(&refuse_reserve, listen_fd, SOCK_CLOEXEC, NULL, NULL);
	if (fd < 0) {
		/* No room even to tell it: the client waits in the backlog. */
		usleep(100000);
		return -1;
	}
	refuse(fd, "failed", "nvmf-hostd is out of file descriptors (%s, RLIMIT_NOFILE %lu)",
	    strerror(err), fdlimit_current());
	(void)fd_reserve_hold(&refuse_reserve);
	return -1;
}

static void *
control_main(void *arg)
{
	bool short_logged = false;

	(void)arg;
	for (;;) {
		struct pollfd pfd = { .fd = listen_fd, .events = POLLIN };
		struct timeval tv = { .tv_sec = SEND_TIMEOUT_S };
		bool on_reserve = false;
		struct client *cl;
		int fd, rc;

		/*
		 * Accept only once a client waits: an accept that waits holds a
		 * descriptor number all along, which at the limit is one another
		 * thread's reserve needed. hd_control_stop's shutdown wakes the
		 * poll and makes accept fail: that ends the loop.
		 */
		if (poll(&pfd, 1, -1) < 0 && errno == EINTR)
			continue;
		fd = accept4(listen_fd, NULL, NULL, SOCK_CLOEXEC);
		if (fd < 0 && (errno == EMFILE || errno == ENFILE)) {
			int e = errno;
			bool stop;

			/* accept says EMFILE even once shut down: only stopping ends this. */
			pthread_mutex_lock(&clients_lock);
			stop = stopping;
			pthread_mutex_unlock(&clients_lock);
			if (stop)
				break;
			/* Out of descriptors: never the end of the loop. */
			if (!short_logged)
				daemon_log(LOG_WARNING, "control: out of file descriptors (%s, "
				    "RLIMIT_NOFILE %lu): clients are served one at a time on a "
				    "reserved one", strerror(e), fdlimit_current());
			short_logged = true;
			fd = accept_on_reserve(e);
			if (fd < 0)
				continue;
			on_reserve = true;
		} else if (fd >= 0) {
			short_logged = false;
		}
		if (fd < 0) {
			int e = errno;

			if (e == EINTR || e == ECONNABORTED)
				continue;
			if (e == ENOBUFS || e == ENOMEM) {
				/* Out of memory for now: never the end of the loop. */
				daemon_log(LOG_ERR, "control: cannot accept a client: %s",
				    strerror(e));
				usleep(100000);
				continue;
			}
			pthread_mutex_lock(&clients_lock);
			if (!stopping)
				daemon_log(LOG_ERR, "control: accept: %s: no more clients",
				    strerror(e));
			pthread_mutex_unlock(&clients_lock);
			break;
		}
		if (!hd_peer_allowed(fd)) {
			struct json_object *r = error_reply("invalid", "permission denied: "
			    "only root or nvmf-hostd's user may control it");
			const char *s = json_object_to_json_string(r);

			(void)send(fd, s, strlen(s), MSG_NOSIGNAL);
			json_object_put(r);
			close(fd);
			if (on_reserve)
				serve_reserve_back();
			continue;
		}
		/* A client that stops reading a long reply does not hold its thread. */
		setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
		cl = malloc(sizeof(*cl));
		if (cl == NULL) {
			refuse(fd, "failed", "nvmf-hostd is out of memory for a client");
			if (on_reserve)
				serve_reserve_back();
			continue;
		}
		cl->fd = fd;
		cl->on_reserve = on_reserve;
		pthread_mutex_lock(&clients_lock);
		if (stopping) {
			close(fd);
			if (on_reserve)
				serve_reserve_back_locked();
			pthread_mutex_unlock(&clients_lock);
			free(cl);
			break;
		}
		if (nclients >= MAX_CLIENTS) {
			pthread_mutex_unlock(&clients_lock);
			free(cl);
			refuse(fd, "busy", "nvmf-hostd has %d clients connected, its most at once "
			    "(the control client limit): try again", MAX_CLIENTS);
			if (on_reserve)
				serve_reserve_back();
			continue;
		}
		cl->next = clients;
		clients = cl;
		nclients++;
		/* Each client on a thread of its own: a slow connect does not hold up devlist. */
		rc = hd_workers_run(client_threads, serve_client, cl);
		if (rc != 0) {
			unsigned open_now;

			clients = cl->next;
			open_now = --nclients;
			pthread_mutex_unlock(&clients_lock);
			free(cl);
			refuse(fd, "failed", "nvmf-hostd cannot start a thread for a client: %s "
			    "(%u clients connected)", strerror(-rc), open_now);
			if (on_reserve)
				serve_reserve_back();
			continue;
		}
		pthread_mutex_unlock(&clients_lock);
	}
	return NULL;
}

int
hd_control_start(const char *path, char *err, size_t errlen)
{
	struct sockaddr_un sun = { .sun_family = AF_UNIX };

	if (strlen(path) >= sizeof(sun.sun_path)) {
		snprintf(err, errlen, "%s: path too long for a socket", path);
		return -1;
	}
	snprintf(sun.sun_path, sizeof(sun.sun_path), "%s", path);
	listen_fd = socket(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0);
	if (listen_fd < 0) {
		snprintf(err, errlen, "socket: %s", strerror(errno));
		return -1;
	}
	unlink(path);		/* ours: the run directory lock is held */
	/* Born 0600 under main's umask: never reachable by others, not even briefly. */
	if (bind(listen_fd, (struct sockaddr *)&sun, sizeof(sun)) != 0 ||
	    listen(listen_fd, SOMAXCONN) != 0 || chmod(path, 0600) != 0) {
		snprintf(err, errlen, "%s: %s", path, strerror(errno));
		close(listen_fd);
		listen_fd = -1;
		return -1;
	}
	(void)fd_reserve_hold(&serve_reserve);
	(void)fd_reserve_hold(&refuse_reserve);
	/* Threads outlive their clients a while: a burst of short ones starts few. */
	client_threads = hd_workers_new(0, MAX_CLIENTS, CLIENT_IDLE_S, CLIENT_STACK, err, errlen);
	if (client_threads == NULL)
		return -1;
	errno = pthread_create(&control_thread, NULL, control_main, NULL);
	if (errno != 0) {
		snprintf(err, errlen, "control thread: %s", strerror(errno));
		return -1;
	}
	return 0;
}

/*
 * No request runs once this returns: the controllers, the loop and the
 * task thread that requests use may go. Clients are ended by shutting
 * their sockets down; one in the middle of a request finishes it first.
 */
void
hd_control_stop(void)
{
	if (listen_fd < 0)
		return;
	pthread_mutex_lock(&clients_lock);
	stopping = true;
	pthread_mutex_unlock(&clients_lock);
	/* Wakes accept; the descriptor is closed only once nobody waits in it. */
	shutdown(listen_fd, SHUT_RDWR);
	pthread_join(control_thread, NULL);
	close(listen_fd);
	listen_fd = -1;
	fd_reserve_release(&refuse_reserve);
	pthread_mutex_lock(&clients_lock);
	for (struct client *cl = clients; cl != NULL; cl = cl->next)
		shutdown(cl->fd, SHUT_RDWR);
	while (clients != NULL)
		pthread_cond_wait(&clients_gone, &clients_lock);
	/* The last client served on it has given it back. */
	fd_reserve_release(&serve_reserve);
	pthread_mutex_unlock(&clients_lock);
	(void)hd_workers_stop(client_threads, -1);	/* the idle threads go */
}
