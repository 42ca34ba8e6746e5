/* SPDX-License-Identifier: BSD-2-Clause
 * Copyright (c) 2026 The nvmf developers */
/*
 * control.c - the client side of nvmf-hostd's control socket ($rundir/nvmf.sock,
 * SOCK_SEQPACKET): one JSON request per message, sockets as SCM_RIGHTS, one
 * JSON reply per request, which a reply larger than a message (devlist of a
 * thousand controllers) sends in pieces put together here. See
 * docs/control-protocol.md.
 */
#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <json-c/json.h>

#include "nvmecontrol.h"

#define CONTROL_SOCK		"nvmf.sock"
#define CONTROL_MAX_FDS		(MAX_IO_QUEUES + 1)
#define LIST_TIMEOUT_MS		10000
/* No reply in pieces is larger (a controller's entry is about 1 KiB). */
#define CHUNKED_MAX		(256u << 20)

struct control {
	int fd;
	char path[sizeof(((struct sockaddr_un *)0)->sun_path)];
};

struct control *
control_open(char *err, size_t errlen)
{
	struct sockaddr_un sun = { .sun_family = AF_UNIX };
	const char *dir = rundir_get();
	struct control *c;
	int n;

	c = calloc(1, sizeof(*c));
	if (c == NULL) {
		snprintf(err, errlen, "out of memory");
		return NULL;
	}
	n = snprintf(c->path, sizeof(c->path), "%s/%s", dir, CONTROL_SOCK);
	if (n < 0 || (size_t)n >= sizeof(c->path)) {
		snprintf(err, errlen, "run directory path too long: %s", dir);
		free(c);
		return NULL;
	}
	memcpy(sun.sun_path, c->path, strlen(c->path) + 1);
	c->fd = socket(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0);
	if (c->fd < 0) {
		snprintf(err, errlen, "socket: %s", strerror(errno));
		free(c);
		return NULL;
	}
	if (connect(c->fd, (struct sockaddr *)&sun, sizeof(sun)) != 0) {
		int e = errno;

		if (e == ENOENT || e == ECONNREFUSED || e == ENOTDIR)
			snprintf(err, errlen, "nvmf-hostd is not running (%s: %s)", c->path,
			    strerror(e));
		else
			snprintf(err, errlen, "cannot reach nvmf-hostd at %s: %s", c->path,
			    strerror(e));
		close(c->fd);
		free(c);
		return NULL;
	}
	return c;
}

void
control_close(struct control *c)
{
	if (c == NULL)
		return;
	close(c->fd);
	free(c);
}

static int
send_request(struct control *c, const char *msg, const int *fds, unsigned nfds,
    char *err, size_t errlen)
{
	union {
		struct cmsghdr hdr;
		char buf[CMSG_SPACE(sizeof(int) * CONTROL_MAX_FDS)];
	} u;
	struct iovec iov = { .iov_base = (void *)msg, .iov_len = strlen(msg) };
	struct msghdr mh = { .msg_iov = &iov, .msg_iovlen = 1 };
	ssize_t n;

	if (nfds > CONTROL_MAX_FDS) {
		snprintf(err, errlen, "too many queues to hand over (%u)", nfds);
		return -1;
	}
	if (nfds > 0) {
		struct cmsghdr *cm;

		memset(&u, 0, sizeof(u));
		mh.msg_control = u.buf;
		mh.msg_controllen = CMSG_SPACE(sizeof(int) * nfds);
		cm = CMSG_FIRSTHDR(&mh);
		cm->cmsg_level = SOL_SOCKET;
		cm->cmsg_type = SCM_RIGHTS;
		cm->cmsg_len = CMSG_LEN(sizeof(int) * nfds);
		memcpy(CMSG_DATA(cm), fds, sizeof(int) * nfds);
	}
	do {
		n = sendmsg(c->fd, &mh, MSG_NOSIGNAL);
	} while (n < 0 && errno == EINTR);
	if (n < 0) {
		int e = errno;

		snprintf(err, errlen, "sending to nvmf-hostd: %s", strerror(e));
		return -e;
	}
	return 0;
}

/* Waits for and reads one whole message; malloc'd, NUL-terminated, *lenp its length. */
static char *
receive_message(struct control *c, int timeout_ms, size_t *lenp, char *err, size_t errlen)
{
	struct pollfd pfd = { .fd = c->fd, .events = POLLIN };
	ssize_t len, n;
	char *buf;
	int rc;

	do {
		rc = poll(&pfd, 1, timeout_ms);
	} while (rc < 0 && errno == EINTR);
	if (rc == 0) {
		snprintf(err, errlen, "nvmf-hostd did not answer within %d ms", timeout_ms);
		return NULL;
	}
	if (rc < 0) {
		snprintf(err, errlen, "waiting for nvmf-hostd: %s", strerror(errno));
		return NULL;
	}
	/*
	 * SOCK_SEQPACKET: MSG_TRUNC on a peek gives the whole message's length.
	 * A refusal closed with our request unread says ECONNRESET once, then
	 * the reply that came before it can still be read.
	 */
	do {
		len = recv(c->fd, NULL, 0, MSG_PEEK | MSG_TRUNC);
	} while (len < 0 && errno == EINTR);
	if (len < 0 && errno == ECONNRESET)
		len = recv(c->fd, NULL, 0, MSG_PEEK | MSG_TRUNC | MSG_DONTWAIT);
	if (len < 0) {
		snprintf(err, errlen, "reading from nvmf-hostd: %s", strerror(errno));
		return NULL;
	}
	if (len == 0) {
		snprintf(err, errlen, "nvmf-hostd closed the connection without answering");
		return NULL;
	}
	buf = malloc((size_t)len + 1);
	if (buf == NULL) {
		snprintf(err, errlen, "out of memory");
		return NULL;
	}
	do {
		n = recv(c->fd, buf, (size_t)len, 0);
	} while (n < 0 && errno == EINTR);
	if (n <= 0) {
		snprintf(err, errlen, "reading from nvmf-hostd: %s",
		    n == 0 ? "connection closed" : strerror(errno));
		free(buf);
		return NULL;
	}
	buf[n] = '\0';
	*lenp = (size_t)n;
	return buf;
}

/*
 * The reply whose header said it comes in pieces: the messages that
 * follow, put together, are its text. NULL with err.
 */
static struct json_object *
receive_pieces(struct control *c, struct json_object *chunked, int timeout_ms, char *err,
    size_t errlen)
{
	struct json_object *bytes_o, *msgs_o, *reply;
	int64_t bytes, msgs;
	size_t have = 0;
	char *text;

	if (!json_object_object_get_ex(chunked, "bytes", &bytes_o) ||
	    !json_object_object_get_ex(chunked, "messages", &msgs_o) ||
	    (bytes = json_object_get_int64(bytes_o)) <= 0 || bytes > CHUNKED_MAX ||
	    (msgs = json_object_get_int64(msgs_o)) <= 0 || msgs > bytes) {
		snprintf(err, errlen, "nvmf-hostd announced a reply in pieces it does not "
		    "describe");
		return NULL;
	}
	text = malloc((size_t)bytes + 1);
	if (text == NULL) {
		snprintf(err, errlen, "out of memory for a reply of %lld bytes", (long long)bytes);
		return NULL;
	}
	for (int64_t i = 0; i < msgs; i++) {
		size_t n;
		char *piece = receive_message(c, timeout_ms, &n, err, errlen);

		if (piece == NULL) {
			free(text);
			return NULL;
		}
		if (n > (size_t)bytes - have) {
			snprintf(err, errlen, "nvmf-hostd's reply is longer than it announced "
			    "(%lld bytes)", (long long)bytes);
			free(piece);
			free(text);
			return NULL;
		}
		memcpy(text + have, piece, n);
		have += n;
		free(piece);
	}
	if (have != (size_t)bytes) {
		snprintf(err, errlen, "nvmf-hostd's reply is %zu bytes, not the %lld it announced",
		    have, (long long)bytes);
		free(text);
		return NULL;
	}
	text[have] = '\0';
	reply = json_tokener_parse(text);
	free(text);
	if (reply == NULL)
		snprintf(err, errlen, "nvmf-hostd sent a reply that is not a JSON object");
	return reply;
}

struct json_object *
control_call(struct control *c, struct json_object *req, const int *fds, unsigned nfds,
    int timeout_ms, char *code, size_t codelen, char *err, size_t errlen)
{
	struct json_object *reply, *ok, *chunked;
	size_t len;
	char *text;
	int rc;

	if (code != NULL && codelen > 0)
		code[0] = '\0';
	/* Any reply may come in pieces (hostd sends a large one so, and only then). */
	json_object_object_add(req, "chunked", json_object_new_boolean(true));
	rc = send_request(c, json_object_to_json_string_ext(req, JSON_C_TO_STRING_PLAIN), fds,
	    nfds, err, errlen);
	if (rc == -EPIPE || rc == -ECONNRESET) {
		char unused[8];

		/* Turned away before it read the request: its reply may say why (err stays). */
		text = receive_message(c, 0, &len, unused, sizeof(unused));
	} else if (rc == 0) {
		text = receive_message(c, timeout_ms, &len, err, errlen);
	} else {
		return NULL;
	}
	if (text == NULL)
		return NULL;
	reply = json_tokener_parse(text);
	free(text);
	if (reply != NULL && json_object_is_type(reply, json_type_object) &&
	    json_object_object_get_ex(reply, "chunked", &chunked) &&
	    json_object_is_type(chunked, json_type_object)) {
		struct json_object *whole = receive_pieces(c, chunked, timeout_ms, err, errlen);

		json_object_put(reply);
		if (whole == NULL)
			return NULL;
		reply = whole;
	}
	if (reply == NULL || !json_object_is_type(reply, json_type_object)) {
		snprintf(err, errlen, "nvmf-hostd sent a reply that is not a JSON object");
		json_object_put(reply);
		return NULL;
	}
	if (!json_object_object_get_ex(reply, "ok", &ok) || !json_object_get_boolean(ok)) {
		const char *e = json_get_string(reply, "error", NULL);

		if (code != NULL && codelen > 0)
			snprintf(code, codelen, "%s", json_get_string(reply, "code", ""));
		snprintf(err, errlen, "%s", e != NULL && e[0] != '\0' ? e :
		    "nvmf-hostd refused the request without saying why");
		json_object_put(reply);
		return NULL;
	}
	return reply;
}

struct json_object *
control_list_subsystem(const char *subnqn, char *err, size_t errlen)
{
	struct json_object *req, *reply, *ctrls;
	struct control *c;

	c = control_open(err, errlen);
	if (c == NULL)
		return NULL;
	req = json_object_new_object();
	json_object_object_add(req, "op", json_object_new_string("list"));
	if (subnqn != NULL)
		json_object_object_add(req, "subnqn", json_object_new_string(subnqn));
	reply = control_call(c, req, NULL, 0, LIST_TIMEOUT_MS, NULL, 0, err, errlen);
	json_object_put(req);
	control_close(c);
	if (reply == NULL)
		return NULL;
	if (!json_object_object_get_ex(reply, "controllers", &ctrls) ||
	    !json_object_is_type(ctrls, json_type_array)) {
		snprintf(err, errlen, "nvmf-hostd's list has no controllers array");
		json_object_put(reply);
		return NULL;
	}
	json_object_get(ctrls);
	json_object_put(reply);
	return ctrls;
}

struct json_object *
control_list(char *err, size_t errlen)
{
	return control_list_subsystem(NULL, err, errlen);
}
