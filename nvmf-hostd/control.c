/*
 * control.c - the control socket, $rundir/nvmf.sock: SOCK_SEQPACKET, one
 * JSON request and one JSON reply per message, sockets of a hand-off as
 * SCM_RIGHTS (docs/control-protocol.md). Only root or hostd's own user
 * may talk to it.
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
#include "hostd.h"

#define MSG_MAX		65536
#define MAX_FDS		(HOSTD_MAX_IO_QUEUES + 1)

/* A client's thread; the list lets hd_control_stop end them all and wait. */
struct client {
	struct client *next;
	int fd;
};

static int listen_fd = -1;
static pthread_t control_thread;
static pthread_mutex_t clients_lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t clients_gone = PTHREAD_COND_INITIALIZER;
static struct client *clients;		/* clients_lock */
static bool stopping;			/* clients_lock */

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

static struct json_object *
op_disconnect(struct hd_jf *f)
{
	const char *target = hd_jf_str(f, "target", 255);
	struct hd_ctrl *match[256];
	struct json_object *r, *done;
	unsigned n;
	char err[256];
	int failures = 0;

	if (!hd_jf_ok(f))
		return error_reply("invalid", "disconnect: %s", f->err);
	n = hd_ctrl_match(target, match, 256);
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
op_reconnect_begin(struct hd_jf *f, const void *owner)
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
op_reconnect(struct hd_jf *f, int *fds, unsigned nfds, const void *owner)
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
op_reconnect_abort(struct hd_jf *f, const void *owner)
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

/* list: what devlist and list-subsys show, the kept parameters included. */
static struct json_object *
op_list(void)
{
	struct json_object *r = ok_reply();

	json_object_object_add(r, "controllers", hd_ctrl_list_json());
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
op_reset(struct hd_jf *f, const void *owner)
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
dispatch(struct json_object *req, int *fds, unsigned nfds, const void *owner)
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
		return op_list();
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

/* One request: receive with descriptors, answer, close unused descriptors. */
static int
serve_one(int fd, char *buf, const void *owner)
{
	union {
		struct cmsghdr align;
		char space[CMSG_SPACE(sizeof(int) * MAX_FDS)];
	} cm;
	struct iovec iov = { .iov_base = buf, .iov_len = MSG_MAX - 1 };
	struct msghdr msg = { .msg_iov = &iov, .msg_iovlen = 1, .msg_control = cm.space,
	    .msg_controllen = sizeof(cm.space) };
	struct json_object *req, *reply;
	int fds[MAX_FDS];
	unsigned nfds = 0;
	const char *out;
	ssize_t n;

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
	if (msg.msg_flags & MSG_TRUNC)
		reply = error_reply("invalid", "request larger than %d bytes", MSG_MAX - 1);
	else if (msg.msg_flags & MSG_CTRUNC)
		reply = error_reply("invalid", "request carries more than %d descriptors",
		    MAX_FDS);
	else if ((req = parse_request(buf, (size_t)n, &reply)) != NULL)
		reply = dispatch(req, fds, nfds, owner);
	for (unsigned i = 0; i < nfds; i++)
		if (fds[i] >= 0)
			close(fds[i]);
	out = json_object_to_json_string_ext(reply, JSON_C_TO_STRING_PLAIN);
	n = send(fd, out, strlen(out), MSG_NOSIGNAL);
	json_object_put(reply);
	if (req != NULL)
		json_object_put(req);
	return n < 0 ? -1 : 0;
}

/*
 * One client: its requests one after another; a client that stalls is
 * dropped. hd_control_stop shuts its socket down, which ends the loop.
 */
static void *
client_main(void *arg)
{
	struct client *cl = arg;
	char *buf = malloc(MSG_MAX);
	char owner;		/* its address names this client's leases */

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
	/* Closed under the lock: hd_control_stop never shuts down a reused number. */
	close(cl->fd);
	pthread_cond_broadcast(&clients_gone);
	pthread_mutex_unlock(&clients_lock);
	free(cl);
	return NULL;
}

static void *
control_main(void *arg)
{
	pthread_attr_t attr;

	(void)arg;
	pthread_attr_init(&attr);
	pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
	for (;;) {
		/* hd_control_stop's shutdown makes accept fail: that ends the loop. */
		int fd = accept4(listen_fd, NULL, NULL, SOCK_CLOEXEC);
		struct client *cl;
		pthread_t t;

		if (fd < 0) {
			if (errno == EINTR || errno == ECONNABORTED)
				continue;
			break;
		}
		if (!hd_peer_allowed(fd)) {
			struct json_object *r = error_reply("invalid", "permission denied: "
			    "only root or nvmf-hostd's user may control it");
			const char *s = json_object_to_json_string(r);

			(void)send(fd, s, strlen(s), MSG_NOSIGNAL);
			json_object_put(r);
			close(fd);
			continue;
		}
		cl = malloc(sizeof(*cl));
		if (cl == NULL) {
			daemon_log(LOG_ERR, "control: out of memory for a client");
			close(fd);
			continue;
		}
		cl->fd = fd;
		pthread_mutex_lock(&clients_lock);
		if (stopping) {
			pthread_mutex_unlock(&clients_lock);
			free(cl);
			close(fd);
			break;
		}
		cl->next = clients;
		clients = cl;
		/* Each client on its own thread: a slow connect does not hold up devlist. */
		if (pthread_create(&t, &attr, client_main, cl) != 0) {
			daemon_log(LOG_ERR, "control: cannot start a thread for a client");
			clients = cl->next;
			close(fd);
			free(cl);
		}
		pthread_mutex_unlock(&clients_lock);
	}
	pthread_attr_destroy(&attr);
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
	    listen(listen_fd, 16) != 0 || chmod(path, 0600) != 0) {
		snprintf(err, errlen, "%s: %s", path, strerror(errno));
		close(listen_fd);
		listen_fd = -1;
		return -1;
	}
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
	pthread_mutex_lock(&clients_lock);
	for (struct client *cl = clients; cl != NULL; cl = cl->next)
		shutdown(cl->fd, SHUT_RDWR);
	while (clients != NULL)
		pthread_cond_wait(&clients_gone, &clients_lock);
	pthread_mutex_unlock(&clients_lock);
}
