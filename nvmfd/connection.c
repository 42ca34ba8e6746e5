/* SPDX-License-Identifier: BSD-2-Clause
 * Copyright (c) 2026 The nvmf developers */
/*
 * connection.c - one thread per NVMe/TCP connection: the ICReq exchange,
 * Fabrics Connect binding it to a controller as its admin or an I/O queue,
 * then commands until the host leaves, breaks a rule or goes silent.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <poll.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <syslog.h>
#include <time.h>
#include <unistd.h>

#include "nvmfd.h"

/*
 * How often a connection's thread looks up from its socket when nothing
 * arrives. Before Connect: for connect_timeout. The admin queue: for the
 * keep-alive deadline (exactly) and notices a reload queued (within a
 * second). An I/O queue has nothing timed (a dying controller shuts its
 * sockets down, which wakes it): rarely, as a safety net. Two thousand
 * idle connections then cost a thousand wake-ups a second, not 20,000.
 */
#define POLL_CONNECT_MS		100
#define POLL_ADMIN_MS		1000
#define POLL_IO_MS		5000

static void
describe_peer(const struct sockaddr_storage *ss, char *buf, size_t len)
{
	char host[INET6_ADDRSTRLEN] = "?";
	unsigned port = 0;

	if (ss->ss_family == AF_INET) {
		const struct sockaddr_in *in = (const void *)ss;

		inet_ntop(AF_INET, &in->sin_addr, host, sizeof(host));
		port = ntohs(in->sin_port);
		snprintf(buf, len, "%s:%u", host, port);
	} else if (ss->ss_family == AF_INET6) {
		const struct sockaddr_in6 *in6 = (const void *)ss;

		inet_ntop(AF_INET6, &in6->sin6_addr, host, sizeof(host));
		port = ntohs(in6->sin6_port);
		/* An IPv4 peer on a dual-stack socket reads better without ::ffff:. */
		if (strncmp(host, "::ffff:", 7) == 0 && strchr(host + 7, ':') == NULL)
			snprintf(buf, len, "%s:%u", host + 7, port);
		else
			snprintf(buf, len, "[%s]:%u", host, port);
	} else {
		snprintf(buf, len, "unknown peer");
	}
}

void
nvmfd_complete(struct nvmf_capsule *nc, uint16_t status)
{
	if (status != 0)
		status |= NVME_STATUS_DNR;
	nvmf_capsule_complete(nc, status, 0, 0, 0);
}

/* A host NQN as the log shows it: quoted when empty. */
static const char *
shown_nqn(const char *nqn)
{
	return *nqn != '\0' ? nqn : "\"\"";
}

/*
 * Refuses a Connect: one log line naming the peer, the host, the field and
 * its value, and the status sent. sc is a Fabrics command-specific status;
 * for Connect Invalid Parameters the field's place goes into cdw0.
 */
static void __attribute__((format(printf, 7, 8)))
refuse_connect(struct nvmfd_conn *conn, struct nvmf_capsule *nc, const char *hostnqn,
    uint16_t status, int iattr, uint16_t ipo, const char *fmt, ...)
{
	char what[384], where[40] = "";
	uint32_t cdw0 = 0;
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(what, sizeof(what), fmt, ap);
	va_end(ap);
	if (iattr >= 0) {
		cdw0 = NVMF_CONNECT_INVALID_PARAM(iattr, ipo);
		snprintf(where, sizeof(where), ", IATTR %d IPO %u", iattr, ipo);
	}
	daemon_log(LOG_WARNING, "%s: host %s: Connect refused: %s; sent %s (SCT %u SC 0x%02x%s)",
	    conn->peer, shown_nqn(hostnqn), what, nvmf_status_string(status),
	    NVME_STATUS_SCT(status), status & 0xff, where);
	nvmf_capsule_complete(nc, status | NVME_STATUS_DNR, cdw0, 0, 0);
}

#define INVALID_PARAMETERS \
	NVME_STATUS(NVME_SCT_COMMAND_SPECIFIC, NVME_SC_CONNECT_INVALID_PARAMETERS)
#define IN_DATA(field)	1, offsetof(struct nvmf_connect_data, field)
#define IN_SQE(field)	0, offsetof(struct nvmf_connect_cmd, field)

/*
 * A deviation Linux nvmet serves: in strict mode refused (the caller sends
 * the status), otherwise logged once per association and served.
 */
static bool
serve_deviation(struct nvmfd_conn *conn, const struct nvmfd_subsystem *ss,
    struct nvmfd_controller *ctrl, enum nvmfd_deviation d, const char *hostnqn,
    const char *what)
{
	if (nvmfd_strict(conn->cfg, ss))
		return false;
	if (ctrl != NULL ? !nvmfd_controller_first_deviation(ctrl, d) :
	    (conn->deviations_logged & d) != 0)
		return true;
	conn->deviations_logged |= d;
	daemon_log(LOG_WARNING, "%s: host %s: deviation served as Linux nvmet does "
	    "(--strict refuses it): %s", conn->peer, shown_nqn(hostnqn), what);
	return true;
}

static struct nvmfd_subsystem *
find_subsystem(const struct nvmfd_conn *conn, const char *nqn)
{
	const struct nvmfd_port *port = conn->listener->port;

	if (port->discovery_only)
		return NULL;
	for (uint32_t i = 0; i < conn->cfg->nsubsystems; i++) {
		struct nvmfd_subsystem *ss = conn->cfg->subsystems[i];

		if (strcmp(ss->nqn, nqn) == 0 && nvmfd_subsystem_on_port(ss, port->id))
			return ss;
	}
	return NULL;
}

/*
 * An NQN field as nvmet reads it: up to the first NUL, at most 255 bytes.
 * The specification's form: "nqn." and at most 223 bytes.
 */
static void
nqn_field(char *dst, const char *src)
{
	size_t n = strnlen(src, NVMF_NQN_FIELD_LEN - 1);

	memcpy(dst, src, n);
	dst[n] = '\0';
}

static bool
nqn_conforms(const char *nqn)
{
	return strlen(nqn) <= NVMF_NQN_MAX_LEN && strncmp(nqn, "nqn.", 4) == 0;
}

static void
hex16(char out[33], const uint8_t id[16])
{
	for (int i = 0; i < 16; i++)
		snprintf(out + 2 * i, 3, "%02x", id[i]);
}

/* Connect on the admin queue: a new controller (or the discovery one). */
static struct nvmfd_controller *
connect_admin(struct nvmfd_conn *conn, struct nvmf_capsule *nc, struct nvmfd_subsystem *ss,
    const char *hostnqn, bool hostnqn_deviates)
{
	const struct nvmf_connect_cmd *cmd = (const void *)nvmf_capsule_sqe(nc);
	const struct nvmf_connect_data *d = nvmf_capsule_data(nc);
	struct nvmfd_controller *ctrl;
	uint32_t kato = cmd->kato;
	char why[160];

	if (d->cntlid != NVMF_CNTLID_DYNAMIC && d->cntlid != NVMF_CNTLID_STATIC_ANY) {
		refuse_connect(conn, nc, hostnqn, INVALID_PARAMETERS, IN_DATA(cntlid),
		    "CNTLID 0x%04x on an admin queue (0xffff or 0xfffe)", d->cntlid);
		return NULL;
	}
	/* As nvmet: out of controllers for this host is Controller Busy. */
	if (nvmfd_limit_association_take(conn->cfg, hostnqn, ss == NULL, why,
	    sizeof(why)) != 0) {
		refuse_connect(conn, nc, hostnqn, NVME_STATUS(NVME_SCT_COMMAND_SPECIFIC,
		    NVME_SC_CONNECT_CONTROLLER_BUSY), -1, 0, "%s", why);
		return NULL;
	}
	/* A discovery association nobody ends would stay forever: nvmet's KATO. */
	if (ss == NULL && kato == 0)
		kato = conn->cfg->limit[NVMFD_LIMIT_DISCOVERY_KATO] * 1000;
	ctrl = nvmfd_controller_create(ss, conn->cfg, hostnqn, d->hostid, kato);
	if (ctrl == NULL) {
		nvmfd_limit_association_put(hostnqn, ss == NULL);
		refuse_connect(conn, nc, hostnqn, NVME_STATUS(NVME_SCT_GENERIC,
		    NVME_SC_INTERNAL), -1, 0, "out of memory for a controller");
		return NULL;
	}
	ctrl->counted = true;
	ctrl->port_id = conn->listener->port->id;
	if (hostnqn_deviates)
		(void)nvmfd_controller_first_deviation(ctrl, NVMFD_DEV_HOSTNQN);
	return ctrl;
}

/* Connect on an I/O queue: joins the controller the host named. */
static struct nvmfd_controller *
connect_io(struct nvmfd_conn *conn, struct nvmf_capsule *nc, struct nvmfd_subsystem *ss,
    const char *hostnqn)
{
	const struct nvmf_connect_cmd *cmd = (const void *)nvmf_capsule_sqe(nc);
	const struct nvmf_connect_data *d = nvmf_capsule_data(nc);
	struct nvmfd_controller *ctrl;
	char want[33], got[33], what[160];

	if (ss == NULL) {
		refuse_connect(conn, nc, hostnqn, INVALID_PARAMETERS, IN_SQE(qid),
		    "QID %u: a discovery controller has no I/O queues", cmd->qid);
		return NULL;
	}
	if (cmd->qid > conn->cfg->max_io_queues) {
		refuse_connect(conn, nc, hostnqn, INVALID_PARAMETERS, IN_SQE(qid),
		    "QID %u beyond the %u I/O queues nvmfd serves", cmd->qid,
		    conn->cfg->max_io_queues);
		return NULL;
	}
	ctrl = nvmfd_controller_find(ss, d->cntlid);
	if (ctrl == NULL) {
		refuse_connect(conn, nc, hostnqn, INVALID_PARAMETERS, IN_DATA(cntlid),
		    "CNTLID %u: no such controller of %s", d->cntlid, ss->nqn);
		return NULL;
	}
	if (strcmp(ctrl->hostnqn, hostnqn) != 0) {
		refuse_connect(conn, nc, hostnqn, INVALID_PARAMETERS, IN_DATA(hostnqn),
		    "HOSTNQN %s differs from controller %u's %s", shown_nqn(hostnqn),
		    ctrl->cntlid, shown_nqn(ctrl->hostnqn));
		goto fail;
	}
	if (memcmp(ctrl->hostid, d->hostid, sizeof(d->hostid)) != 0) {
		hex16(want, ctrl->hostid);
		hex16(got, d->hostid);
		snprintf(what, sizeof(what), "HOSTID %s on I/O queue %u differs from the "
		    "admin queue's %s", got, cmd->qid, want);
		if (!serve_deviation(conn, ss, ctrl, NVMFD_DEV_HOSTID, hostnqn, what)) {
			refuse_connect(conn, nc, hostnqn, INVALID_PARAMETERS,
			    IN_DATA(hostid), "%s", what);
			goto fail;
		}
	}
	if (!(ctrl->csts & NVME_CSTS_RDY)) {
		refuse_connect(conn, nc, hostnqn, NVME_STATUS(NVME_SCT_GENERIC,
		    NVME_SC_COMMAND_SEQUENCE_ERROR), -1, 0,
		    "QID %u: controller %u is not enabled (CC.EN 0)", cmd->qid, ctrl->cntlid);
		goto fail;
	}
	snprintf(what, sizeof(what), "QID %u beyond the %u I/O queues granted by Set "
	    "Features Number of Queues", cmd->qid, ctrl->num_io_queues);
	if (cmd->qid > ctrl->num_io_queues &&
	    !serve_deviation(conn, ss, ctrl, NVMFD_DEV_QID, hostnqn, what)) {
		refuse_connect(conn, nc, hostnqn, INVALID_PARAMETERS, IN_SQE(qid), "%s", what);
		goto fail;
	}
	return ctrl;
fail:
	nvmfd_controller_release(ctrl);
	return NULL;
}

/*
 * The checks of a Connect that depend on the configuration, then the
 * controller it binds to; NULL once refused. Configuration lock held.
 */
static struct nvmfd_controller *
bind_controller(struct nvmfd_conn *conn, struct nvmf_capsule *nc, const char *subnqn,
    const char *hostnqn)
{
	const struct nvmf_connect_cmd *cmd = (const void *)nvmf_capsule_sqe(nc);
	bool disable_fc = (cmd->cattr & NVMF_CONNECT_ATTR_DISABLE_SQ_FC) != 0;
	struct nvmfd_subsystem *ss = NULL;
	bool hostnqn_deviates = false;
	char what[320];

	if (strcmp(subnqn, NVMF_DISCOVERY_NQN) != 0) {
		ss = find_subsystem(conn, subnqn);
		if (ss == NULL) {
			refuse_connect(conn, nc, hostnqn, INVALID_PARAMETERS, IN_DATA(subnqn),
			    "SUBNQN %s: no such subsystem on this port", shown_nqn(subnqn));
			return NULL;
		}
		if (!nvmfd_subsystem_allows(ss, hostnqn)) {
			refuse_connect(conn, nc, hostnqn, NVME_STATUS(NVME_SCT_COMMAND_SPECIFIC,
			    NVME_SC_CONNECT_INVALID_HOST), -1, 0,
			    "HOSTNQN %s is not allowed into %s", shown_nqn(hostnqn), ss->nqn);
			return NULL;
		}
	}
	/* Only the admin Connect can deviate first: I/O queues must match it. */
	if (!nqn_conforms(hostnqn) && cmd->qid == 0) {
		snprintf(what, sizeof(what), "HOSTNQN %s is not an NQN (\"nqn.\", at most "
		    "%d bytes)", shown_nqn(hostnqn), NVMF_NQN_MAX_LEN);
		if (!serve_deviation(conn, ss, NULL, NVMFD_DEV_HOSTNQN, hostnqn, what)) {
			refuse_connect(conn, nc, hostnqn, INVALID_PARAMETERS, IN_DATA(hostnqn),
			    "%s", what);
			return NULL;
		}
		hostnqn_deviates = true;
	}
	if (cmd->sqsize == 0 || cmd->sqsize > NVMFD_QUEUE_SIZE - 1) {
		refuse_connect(conn, nc, hostnqn, INVALID_PARAMETERS, IN_SQE(sqsize),
		    "SQSIZE %u (1 to %u, zero-based)", cmd->sqsize, NVMFD_QUEUE_SIZE - 1);
		return NULL;
	}
	if (disable_fc && !nvmfd_sq_fc_disable_permitted(conn->cfg, ss)) {
		refuse_connect(conn, nc, hostnqn, INVALID_PARAMETERS, IN_SQE(cattr),
		    "CATTR 0x%02x asks to disable SQ flow control (permitted by -F)",
		    cmd->cattr);
		return NULL;
	}
	return cmd->qid == 0 ? connect_admin(conn, nc, ss, hostnqn, hostnqn_deviates) :
	    connect_io(conn, nc, ss, hostnqn);
}

void
nvmfd_handle_connect(struct nvmfd_conn *conn, struct nvmf_capsule *nc)
{
	const struct nvmf_connect_cmd *cmd = (const void *)nvmf_capsule_sqe(nc);
	const struct nvmf_connect_data *d = nvmf_capsule_data(nc);
	char subnqn[NVMF_NQN_FIELD_LEN], hostnqn[NVMF_NQN_FIELD_LEN];
	struct nvmfd_controller *ctrl;
	bool disable_fc = (cmd->cattr & NVMF_CONNECT_ATTR_DISABLE_SQ_FC) != 0;

	if (cmd->opc != NVME_ADMIN_FABRICS || cmd->fctype != NVMF_FCTYPE_CONNECT) {
		refuse_connect(conn, nc, "", NVME_STATUS(NVME_SCT_GENERIC,
		    NVME_SC_COMMAND_SEQUENCE_ERROR), -1, 0,
		    "opcode 0x%02x before Connect", cmd->opc);
		return;
	}
	if (d == NULL || nvmf_capsule_data_len(nc) != sizeof(*d)) {
		refuse_connect(conn, nc, "", INVALID_PARAMETERS, IN_SQE(sgl),
		    "Connect data of %u bytes (must be %zu)", nvmf_capsule_data_len(nc),
		    sizeof(*d));
		return;
	}
	nqn_field(subnqn, d->subnqn);
	nqn_field(hostnqn, d->hostnqn);
	if (cmd->recfmt != 0) {
		refuse_connect(conn, nc, hostnqn, NVME_STATUS(NVME_SCT_COMMAND_SPECIFIC,
		    NVME_SC_CONNECT_INCOMPATIBLE_FORMAT), -1, 0, "RECFMT %u (must be 0)",
		    cmd->recfmt);
		return;
	}
	/*
	 * The subsystem, its allow-list and the controller it gets are settled
	 * under the configuration lock: a reload either comes before (and this
	 * Connect sees it) or after (and finds the controller to end).
	 */
	nvmfd_config_rdlock();
	ctrl = bind_controller(conn, nc, subnqn, hostnqn);
	nvmfd_config_unlock();
	if (ctrl == NULL)
		return;
	if (nvmfd_controller_attach_queue(ctrl, cmd->qid, conn) != 0) {
		nvmfd_controller_release(ctrl);
		refuse_connect(conn, nc, hostnqn, NVME_STATUS(NVME_SCT_GENERIC,
		    NVME_SC_COMMAND_SEQUENCE_ERROR), -1, 0,
		    "QID %u: already connected, or the controller is going away", cmd->qid);
		return;
	}
	conn->ctrl = ctrl;
	conn->qid = cmd->qid;
	conn->connected = true;
	nvmf_controller_qpair_setup(conn->qp, cmd->qid, (uint16_t)(cmd->sqsize + 1),
	    !disable_fc);
	if (cmd->qid != 0)
		nvmf_controller_set_placement(conn->qp, nvmfd_io_place, conn);
	daemon_log(cmd->qid == 0 ? LOG_INFO : LOG_DEBUG,
	    "%s: host %s connected to %s, controller %u queue %u (size %u, KATO %u ms%s%s%s)",
	    conn->peer, shown_nqn(hostnqn), nvmfd_controller_name(ctrl), ctrl->cntlid,
	    cmd->qid, cmd->sqsize + 1, ctrl->kato_ms,
	    nvmf_qpair_info(conn->qp)->header_digests ? ", header digest" : "",
	    nvmf_qpair_info(conn->qp)->data_digests ? ", data digest" : "",
	    disable_fc ? ", SQ flow control off" : "");
	nvmf_capsule_complete(nc, 0, ctrl->cntlid, 0, 0);
}

static void
on_command(void *arg, struct nvmf_capsule *nc)
{
	struct nvmfd_conn *conn = arg;

	if (!conn->connected) {
		nvmfd_handle_connect(conn, nc);
		return;
	}
	nvmfd_controller_touch(conn->ctrl);
	if (conn->qid != 0)
		nvmfd_io_command(conn, nc);
	else if (nvmfd_fabrics_command(conn, nc))
		return;
	else if (conn->ctrl->ss == NULL)
		nvmfd_discovery_command(conn, nc);
	else
		nvmfd_admin_command(conn, nc);
}

/* A PDU breaking a rule nvmet does not enforce (libnvmf asks). */
static bool
on_pdu_deviation(void *arg, const char *what, uint16_t fes, uint32_t fei)
{
	struct nvmfd_conn *conn = arg;
	struct nvmfd_controller *c = conn->ctrl;

	(void)fes;
	(void)fei;
	if (serve_deviation(conn, c != NULL ? c->ss : NULL, c, NVMFD_DEV_PDO,
	    c != NULL ? c->hostnqn : "", what))
		return true;
	conn->strict_refusal = true;	/* conn_main logs the termination request */
	return false;
}

/* Digests a host asked for in ICReq and did not get: worth a line. */
static void
log_digests_withheld(const struct nvmfd_conn *conn)
{
	const struct nvmf_qpair_info *qi = nvmf_qpair_info(conn->qp);
	bool hd = (qi->icreq_dgst & NVME_TCP_DGST_HDR) && !qi->header_digests;
	bool dd = (qi->icreq_dgst & NVME_TCP_DGST_DATA) && !qi->data_digests;

	if (!hd && !dd)
		return;
	daemon_log(LOG_WARNING, "%s: ICReq DGST 0x%02x asks for %s%s%s digests: not granted "
	    "(%s)", conn->peer, qi->icreq_dgst, hd ? "header" : "", hd && dd ? " and " : "",
	    dd ? "data" : "", conn->cfg->strict ? "--strict grants digests only with -g/-G" :
	    "forbidden by the configuration");
}

/* How long the connection's poll may sleep (see POLL_CONNECT_MS). */
static int
poll_timeout(const struct nvmfd_conn *conn)
{
	const struct nvmfd_controller *c = conn->ctrl;
	uint64_t idle, kato;

	if (!conn->connected || c == NULL)
		return POLL_CONNECT_MS;
	if (conn->qid != 0)
		return POLL_IO_MS;
	kato = c->kato_ms;
	if (kato == 0)
		return POLL_ADMIN_MS;
	/* Just past the deadline, if nothing comes before. */
	idle = nvmfd_now_ms() - (uint64_t)atomic_load(&c->last_traffic_ms);
	if (idle >= kato)
		return 1;
	return kato - idle + 1 < POLL_ADMIN_MS ? (int)(kato - idle + 1) : POLL_ADMIN_MS;
}

/*
 * One turn with file I/O on the ring: its completions and the commands the
 * socket brought are answered together. Completions are corked, so what a
 * turn answers leaves in one sendmsg (or as few as the socket takes); the
 * commands received are submitted to the kernel in one call, and whatever
 * that call finished at once (page-cache hits) is answered in this turn.
 */
static int
ring_turn(struct nvmfd_conn *conn)
{
	struct nvmfd_ring *r = conn->ring;
	int rc;

	nvmf_qpair_cork(conn->qp);
	(void)nvmfd_ring_reap(r);
	rc = nvmf_qpair_process(conn->qp);
	nvmfd_ring_submit(r);
	(void)nvmfd_ring_reap(r);
	nvmfd_ring_submit(r);		/* what completions asked for (short transfers) */
	if (nvmf_qpair_uncork(conn->qp) != 0)
		rc = -1;
	return rc;
}

static uint64_t
now_us(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000 + (uint64_t)ts.tv_nsec / 1000;
}

/*
 * --busy-poll-us: an I/O queue that had traffic in the last so many
 * microseconds polls without sleeping. The host's next command usually
 * comes within a few microseconds of the last completion, and finding it
 * there saves the wake-up that is most of a round trip's time on
 * loopback; the price is a core while the queue is busy, as with SPDK's
 * polling target. Idle queues sleep as ever.
 */
static int
busy_timeout(struct nvmfd_conn *conn, int timeout)
{
	uint32_t window = conn->cfg->limit[NVMFD_LIMIT_BUSY_POLL];

	if (window == 0 || conn->qid == 0 || !conn->connected)
		return timeout;
	return now_us() - conn->last_traffic_us < window ? 0 : timeout;
}

/* Why the loop ended, or NULL to go on. */
static const char *
conn_step(struct nvmfd_conn *conn, uint64_t started)
{
	struct pollfd pfd[2] = { { .fd = conn->fd, .events = POLLIN } };
	struct nvmfd_controller *c;
	nfds_t nfds = 1;
	int rc, ready;

	if (conn->ring == NULL && conn->cfg->limit[NVMFD_LIMIT_BUSY_POLL] == 0) {
		/* Only the socket to wait for: the library waits in the receive. */
		rc = nvmf_qpair_poll(conn->qp, poll_timeout(conn));
		goto turned;
	}
	if (nvmf_qpair_tx_pending(conn->qp))
		pfd[0].events |= POLLOUT;
	if (conn->ring != NULL) {
		pfd[1].fd = nvmfd_ring_fd(conn->ring);
		pfd[1].events = POLLIN;
		nfds = 2;
	}
	ready = poll(pfd, nfds, busy_timeout(conn, poll_timeout(conn)));
	if (ready < 0 && errno != EINTR)
		return "poll failed";
	if (ready > 0 && conn->cfg->limit[NVMFD_LIMIT_BUSY_POLL] != 0)
		conn->last_traffic_us = now_us();
	if (conn->ring != NULL)
		rc = ring_turn(conn);
	else
		rc = nvmf_qpair_process(conn->qp);
turned:
	/* The first file command made the ring: what it submitted goes now. */
	if (rc == 0 && conn->ring != NULL && nfds == 1) {
		nvmf_qpair_cork(conn->qp);
		nvmfd_ring_submit(conn->ring);
		(void)nvmfd_ring_reap(conn->ring);
		nvmfd_ring_submit(conn->ring);
		rc = nvmf_qpair_uncork(conn->qp);
	}
	if (rc != 0)
		return nvmf_qpair_error(conn->qp);
	if (conn->close_after_flush && !nvmf_qpair_tx_pending(conn->qp))
		return "host sent Disconnect";
	c = conn->ctrl;
	if (!conn->connected) {
		if (nvmfd_now_ms() - started >
		    conn->cfg->limit[NVMFD_LIMIT_CONNECT_TIMEOUT] * 1000ull)
			return "no Connect command within connect_timeout";
		return NULL;
	}
	if (c->dead)
		return "association ended";
	if (conn->qid == 0)
		nvmfd_controller_deliver_events(c);	/* queued by a reload */
	if (conn->qid == 0 && nvmfd_controller_kato_expired(c)) {
		char why[96];

		snprintf(why, sizeof(why), "no keep-alive within KATO (%u ms)", c->kato_ms);
		nvmfd_controller_kill(c, why);
		return "keep-alive timeout";
	}
	return NULL;
}

/* Live connections: shutdown ends them and waits before freeing what they use. */
static pthread_mutex_t conns_lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t conns_gone = PTHREAD_COND_INITIALIZER;
static struct nvmfd_conn *conns;

static void
conn_link(struct nvmfd_conn *conn)
{
	pthread_mutex_lock(&conns_lock);
	conn->next = conns;
	if (conns != NULL)
		conns->prev = conn;
	conns = conn;
	pthread_mutex_unlock(&conns_lock);
}

static void
conn_free(struct nvmfd_conn *conn)
{
	pthread_mutex_lock(&conns_lock);
	if (conn->prev != NULL)
		conn->prev->next = conn->next;
	else
		conns = conn->next;
	if (conn->next != NULL)
		conn->next->prev = conn->prev;
	if (conns == NULL)
		pthread_cond_broadcast(&conns_gone);
	pthread_mutex_unlock(&conns_lock);
	free(conn);
	nvmfd_limit_connection_put();
}

bool
nvmfd_conns_stop(int timeout_ms)
{
	struct timespec until;
	bool all;

	clock_gettime(CLOCK_REALTIME, &until);
	until.tv_sec += timeout_ms / 1000;
	until.tv_nsec += (long)(timeout_ms % 1000) * 1000000;
	if (until.tv_nsec >= 1000000000) {
		until.tv_sec++;
		until.tv_nsec -= 1000000000;
	}
	pthread_mutex_lock(&conns_lock);
	/* Each thread sees its socket fail, ends its association and frees itself. */
	for (struct nvmfd_conn *c = conns; c != NULL; c = c->next)
		shutdown(c->fd, SHUT_RDWR);
	while (conns != NULL &&
	    pthread_cond_timedwait(&conns_gone, &conns_lock, &until) == 0)
		;
	all = conns == NULL;
	pthread_mutex_unlock(&conns_lock);
	return all;
}

static void *
conn_main(void *arg)
{
	struct nvmfd_conn *conn = arg;
	char err[256];
	const char *why;
	uint64_t started = nvmfd_now_ms();
	bool fatal;

	conn->qp = nvmf_controller_qpair_accept(conn->listener->na, conn->fd,
	    (int)conn->cfg->limit[NVMFD_LIMIT_ICREQ_TIMEOUT] * 1000, err, sizeof(err));
	if (conn->qp == NULL) {
		if (strstr(err, "C2HTermReq") != NULL)
			daemon_log(LOG_WARNING, "%s: refused: %s", conn->peer, err);
		else if (strcmp(err, "waiting for ICReq: timed out") == 0)
			daemon_log(LOG_DEBUG, "%s: closed: no ICReq within icreq_timeout "
			    "(%u s)", conn->peer, conn->cfg->limit[NVMFD_LIMIT_ICREQ_TIMEOUT]);
		else
			daemon_log(LOG_DEBUG, "%s: %s", conn->peer, err);
		close(conn->fd);
		conn_free(conn);
		return NULL;
	}
	nvmf_controller_set_handler(conn->qp, on_command, conn);
	nvmf_qpair_set_deviation_handler(conn->qp, on_pdu_deviation, conn);
	log_digests_withheld(conn);
	while ((why = conn_step(conn, started)) == NULL)
		;

	/*
	 * A fatal transport error we found (we sent C2HTermReq) ends the
	 * association, on an I/O queue too, as nvmet's fatal errors do.
	 */
	fatal = strstr(why, "sent C2HTermReq") != NULL;
	if (strstr(why, "TermReq") != NULL)
		daemon_log(LOG_WARNING, "%s: host %s%s: PDU refused%s: %s%s", conn->peer,
		    conn->ctrl != NULL ? shown_nqn(conn->ctrl->hostnqn) : "(before Connect)",
		    conn->ctrl != NULL && conn->qid != 0 ? ", I/O queue" : "",
		    conn->strict_refusal ? " (--strict)" : "", why,
		    fatal && conn->ctrl != NULL ? "; association ended" : "");
	else if (conn->ctrl != NULL)
		daemon_log(conn->qid == 0 ? LOG_INFO : LOG_DEBUG,
		    "%s: controller %u queue %u closed: %s", conn->peer,
		    conn->ctrl->cntlid, conn->qid, why);
	else if (strstr(why, "connect_timeout") != NULL)
		daemon_log(LOG_DEBUG, "%s: closed: %s (%u s)", conn->peer, why,
		    conn->cfg->limit[NVMFD_LIMIT_CONNECT_TIMEOUT]);
	else
		daemon_log(LOG_DEBUG, "%s: closed before Connect: %s", conn->peer, why);

	/* The kernel may still write into command buffers: they go after it is done. */
	nvmfd_ring_free(conn->ring);
	conn->ring = NULL;
	if (conn->ctrl != NULL) {
		nvmfd_controller_detach_queue(conn->ctrl, conn->qid, conn);
		/* The admin queue carries the association: without it, all goes. */
		if (conn->qid == 0 || fatal)
			nvmfd_controller_kill(conn->ctrl, NULL);
	}
	nvmf_qpair_free(conn->qp);
	if (conn->ctrl != NULL)
		nvmfd_controller_release(conn->ctrl);
	conn_free(conn);
	return NULL;
}

void
nvmfd_conn_spawn(struct nvmfd_listener *l, int fd, const struct sockaddr_storage *peer)
{
	struct nvmfd_conn *conn;
	pthread_attr_t attr;
	pthread_t t;
	uint32_t open;
	char who[80];

	/* Each connection is a thread: refused before it costs one. */
	if (!nvmfd_limit_connection_take(l->cfg, &open)) {
		describe_peer(peer, who, sizeof(who));
		daemon_log(LOG_WARNING, "%s: connection refused: %u connections open "
		    "(max_connections %u)", who, open,
		    l->cfg->limit[NVMFD_LIMIT_CONNECTIONS]);
		close(fd);
		return;
	}
	conn = calloc(1, sizeof(*conn));
	if (conn == NULL) {
		nvmfd_limit_connection_put();
		close(fd);
		return;
	}
	conn->listener = l;
	conn->cfg = l->cfg;
	conn->fd = fd;
	describe_peer(peer, conn->peer, sizeof(conn->peer));
	conn_link(conn);
	pthread_attr_init(&attr);
	pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
	pthread_attr_setstacksize(&attr, 256 * 1024);
	if (pthread_create(&t, &attr, conn_main, conn) != 0) {
		daemon_log(LOG_ERR, "%s: cannot start a thread: refusing the connection",
		    conn->peer);
		close(fd);
		conn_free(conn);
	}
	pthread_attr_destroy(&attr);
}
