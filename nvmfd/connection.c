/*
 * connection.c - one thread per NVMe/TCP connection: the ICReq exchange,
 * Fabrics Connect binding it to a controller as its admin or an I/O queue,
 * then commands until the host leaves, breaks a rule or goes silent.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <syslog.h>
#include <unistd.h>

#include "nvmfd.h"

#define HANDSHAKE_TIMEOUT_MS	10000
#define CONNECT_TIMEOUT_MS	10000
#define POLL_INTERVAL_MS	100

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

static void
complete_connect_error(struct nvmf_capsule *nc, uint16_t sc, uint32_t cdw0)
{
	nvmf_capsule_complete(nc, NVME_STATUS(NVME_SCT_COMMAND_SPECIFIC, sc) |
	    NVME_STATUS_DNR, cdw0, 0, 0);
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

static bool
nqn_field(char *dst, const char *src)
{
	size_t n = strnlen(src, 256);

	if (n == 0 || n > NVMF_NQN_MAX_LEN)
		return false;
	memcpy(dst, src, n);
	dst[n] = '\0';
	return true;
}

void
nvmfd_handle_connect(struct nvmfd_conn *conn, struct nvmf_capsule *nc)
{
	const struct nvmf_connect_cmd *cmd = (const void *)nvmf_capsule_sqe(nc);
	const struct nvmf_connect_data *d = nvmf_capsule_data(nc);
	char subnqn[NVMF_NQN_MAX_LEN + 1], hostnqn[NVMF_NQN_MAX_LEN + 1];
	struct nvmfd_subsystem *ss = NULL;
	struct nvmfd_controller *ctrl;
	bool disable_fc = (cmd->cattr & NVMF_CONNECT_ATTR_DISABLE_SQ_FC) != 0;

	if (cmd->opc != NVME_ADMIN_FABRICS || cmd->fctype != NVMF_FCTYPE_CONNECT) {
		daemon_log(LOG_WARNING, "%s: command 0x%02x before Connect", conn->peer,
		    cmd->opc);
		nvmfd_complete(nc, NVME_STATUS(NVME_SCT_GENERIC,
		    NVME_SC_COMMAND_SEQUENCE_ERROR));
		return;
	}
	if (d == NULL || nvmf_capsule_data_len(nc) != sizeof(*d)) {
		complete_connect_error(nc, NVME_SC_CONNECT_INVALID_PARAMETERS,
		    NVMF_CONNECT_INVALID_PARAM(0, offsetof(struct nvmf_connect_cmd, sgl)));
		return;
	}
	if (cmd->recfmt != 0) {
		complete_connect_error(nc, NVME_SC_CONNECT_INCOMPATIBLE_FORMAT, 0);
		return;
	}
	if (!nqn_field(subnqn, d->subnqn)) {
		complete_connect_error(nc, NVME_SC_CONNECT_INVALID_PARAMETERS,
		    NVMF_CONNECT_INVALID_PARAM(1, offsetof(struct nvmf_connect_data, subnqn)));
		return;
	}
	if (!nqn_field(hostnqn, d->hostnqn)) {
		complete_connect_error(nc, NVME_SC_CONNECT_INVALID_PARAMETERS,
		    NVMF_CONNECT_INVALID_PARAM(1, offsetof(struct nvmf_connect_data, hostnqn)));
		return;
	}
	if (strcmp(subnqn, NVMF_DISCOVERY_NQN) != 0) {
		ss = find_subsystem(conn, subnqn);
		if (ss == NULL) {
			daemon_log(LOG_NOTICE, "%s: host %s asked for unknown subsystem %s",
			    conn->peer, hostnqn, subnqn);
			complete_connect_error(nc, NVME_SC_CONNECT_INVALID_PARAMETERS,
			    NVMF_CONNECT_INVALID_PARAM(1,
			    offsetof(struct nvmf_connect_data, subnqn)));
			return;
		}
		if (!nvmfd_subsystem_allows(ss, hostnqn)) {
			daemon_log(LOG_WARNING, "%s: host %s is not allowed into %s: refused "
			    "(Connect Invalid Host)", conn->peer, hostnqn, subnqn);
			complete_connect_error(nc, NVME_SC_CONNECT_INVALID_HOST, 0);
			return;
		}
	}
	if (cmd->sqsize == 0 || cmd->sqsize > NVMFD_QUEUE_SIZE - 1) {
		complete_connect_error(nc, NVME_SC_CONNECT_INVALID_PARAMETERS,
		    NVMF_CONNECT_INVALID_PARAM(0, offsetof(struct nvmf_connect_cmd, sqsize)));
		return;
	}
	if (disable_fc && !conn->cfg->allow_disable_sq_fc) {
		complete_connect_error(nc, NVME_SC_CONNECT_INVALID_PARAMETERS,
		    NVMF_CONNECT_INVALID_PARAM(0, offsetof(struct nvmf_connect_cmd, cattr)));
		return;
	}

	if (cmd->qid == 0) {
		if (d->cntlid != NVMF_CNTLID_DYNAMIC && d->cntlid != NVMF_CNTLID_STATIC_ANY) {
			complete_connect_error(nc, NVME_SC_CONNECT_INVALID_PARAMETERS,
			    NVMF_CONNECT_INVALID_PARAM(1,
			    offsetof(struct nvmf_connect_data, cntlid)));
			return;
		}
		ctrl = nvmfd_controller_create(ss, conn->cfg, hostnqn, d->hostid, cmd->kato);
		if (ctrl == NULL) {
			nvmfd_complete(nc, NVME_STATUS(NVME_SCT_GENERIC, NVME_SC_INTERNAL));
			return;
		}
	} else {
		if (ss == NULL) {	/* discovery controllers have no I/O queues */
			complete_connect_error(nc, NVME_SC_CONNECT_INVALID_PARAMETERS,
			    NVMF_CONNECT_INVALID_PARAM(0,
			    offsetof(struct nvmf_connect_cmd, qid)));
			return;
		}
		ctrl = nvmfd_controller_find(ss, d->cntlid);
		if (ctrl == NULL || strcmp(ctrl->hostnqn, hostnqn) != 0 ||
		    memcmp(ctrl->hostid, d->hostid, sizeof(d->hostid)) != 0) {
			if (ctrl != NULL)
				nvmfd_controller_release(ctrl);
			complete_connect_error(nc, NVME_SC_CONNECT_INVALID_PARAMETERS,
			    NVMF_CONNECT_INVALID_PARAM(1,
			    offsetof(struct nvmf_connect_data, cntlid)));
			return;
		}
		if (!(ctrl->csts & NVME_CSTS_RDY)) {
			nvmfd_controller_release(ctrl);
			nvmfd_complete(nc, NVME_STATUS(NVME_SCT_GENERIC,
			    NVME_SC_COMMAND_SEQUENCE_ERROR));
			return;
		}
		if (cmd->qid > ctrl->num_io_queues) {
			nvmfd_controller_release(ctrl);
			complete_connect_error(nc, NVME_SC_CONNECT_INVALID_PARAMETERS,
			    NVMF_CONNECT_INVALID_PARAM(0,
			    offsetof(struct nvmf_connect_cmd, qid)));
			return;
		}
	}
	if (nvmfd_controller_attach_queue(ctrl, cmd->qid, conn) != 0) {
		nvmfd_controller_release(ctrl);
		nvmfd_complete(nc, NVME_STATUS(NVME_SCT_GENERIC,
		    NVME_SC_COMMAND_SEQUENCE_ERROR));
		return;
	}
	conn->ctrl = ctrl;
	conn->qid = cmd->qid;
	conn->connected = true;
	nvmf_controller_qpair_setup(conn->qp, cmd->qid, (uint16_t)(cmd->sqsize + 1),
	    !disable_fc);
	daemon_log(cmd->qid == 0 ? LOG_INFO : LOG_DEBUG,
	    "%s: host %s connected to %s, controller %u queue %u (size %u, KATO %u ms%s%s)",
	    conn->peer, hostnqn, nvmfd_controller_name(ctrl), ctrl->cntlid, cmd->qid,
	    cmd->sqsize + 1, cmd->qid == 0 ? cmd->kato : ctrl->kato_ms,
	    nvmf_qpair_info(conn->qp)->header_digests ? ", header digest" : "",
	    nvmf_qpair_info(conn->qp)->data_digests ? ", data digest" : "");
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

/* Why the loop ended, or NULL to go on. */
static const char *
conn_step(struct nvmfd_conn *conn, uint64_t started)
{
	struct pollfd pfd = { .fd = conn->fd, .events = POLLIN };
	struct nvmfd_controller *c;

	if (nvmf_qpair_tx_pending(conn->qp))
		pfd.events |= POLLOUT;
	if (poll(&pfd, 1, POLL_INTERVAL_MS) < 0 && errno != EINTR)
		return "poll failed";
	if (nvmf_qpair_process(conn->qp) != 0)
		return nvmf_qpair_error(conn->qp);
	if (conn->close_after_flush && !nvmf_qpair_tx_pending(conn->qp))
		return "host sent Disconnect";
	c = conn->ctrl;
	if (!conn->connected) {
		if (nvmfd_now_ms() - started > CONNECT_TIMEOUT_MS)
			return "no Connect command within 10 s";
		return NULL;
	}
	if (c->dead)
		return "association ended";
	if (conn->qid == 0 && nvmfd_controller_kato_expired(c)) {
		char why[96];

		snprintf(why, sizeof(why), "no keep-alive within KATO (%u ms)", c->kato_ms);
		nvmfd_controller_kill(c, why);
		return "keep-alive timeout";
	}
	return NULL;
}

static void *
conn_main(void *arg)
{
	struct nvmfd_conn *conn = arg;
	char err[256];
	const char *why;
	uint64_t started = nvmfd_now_ms();

	conn->qp = nvmf_controller_qpair_accept(conn->listener->na, conn->fd,
	    HANDSHAKE_TIMEOUT_MS, err, sizeof(err));
	if (conn->qp == NULL) {
		daemon_log(strstr(err, "C2HTermReq") ? LOG_WARNING : LOG_DEBUG, "%s: %s",
		    conn->peer, err);
		close(conn->fd);
		free(conn);
		return NULL;
	}
	nvmf_controller_set_handler(conn->qp, on_command, conn);
	while ((why = conn_step(conn, started)) == NULL)
		;

	if (strstr(why, "TermReq") != NULL)
		daemon_log(LOG_WARNING, "%s: %s", conn->peer, why);
	else if (conn->ctrl != NULL)
		daemon_log(conn->qid == 0 ? LOG_INFO : LOG_DEBUG,
		    "%s: controller %u queue %u closed: %s", conn->peer,
		    conn->ctrl->cntlid, conn->qid, why);
	else
		daemon_log(LOG_DEBUG, "%s: closed before Connect: %s", conn->peer, why);

	if (conn->ctrl != NULL) {
		nvmfd_controller_detach_queue(conn->ctrl, conn->qid, conn);
		/* The admin queue carries the association: without it, all goes. */
		if (conn->qid == 0)
			nvmfd_controller_kill(conn->ctrl, NULL);
	}
	nvmf_qpair_free(conn->qp);
	if (conn->ctrl != NULL)
		nvmfd_controller_release(conn->ctrl);
	free(conn);
	return NULL;
}

void
nvmfd_conn_spawn(struct nvmfd_listener *l, int fd, const struct sockaddr_storage *peer)
{
	struct nvmfd_conn *conn = calloc(1, sizeof(*conn));
	pthread_attr_t attr;
	pthread_t t;

	if (conn == NULL) {
		close(fd);
		return;
	}
	conn->listener = l;
	conn->cfg = l->cfg;
	conn->fd = fd;
	describe_peer(peer, conn->peer, sizeof(conn->peer));
	pthread_attr_init(&attr);
	pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
	pthread_attr_setstacksize(&attr, 256 * 1024);
	if (pthread_create(&t, &attr, conn_main, conn) != 0) {
		daemon_log(LOG_ERR, "%s: cannot start a thread: refusing the connection",
		    conn->peer);
		close(fd);
		free(conn);
	}
	pthread_attr_destroy(&attr);
}
