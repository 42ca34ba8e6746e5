/* SPDX-License-Identifier: BSD-2-Clause
 * Copyright (c) 2026 The nvmf developers */
/*
 * controller.c - a controller's coming and going: taken over from
 * nvmecontrol (validated as FreeBSD's kernel validates a hand-off), named
 * and announced once its namespaces are read (a discovery controller has
 * none: its log is what it serves); disconnected on request
 * (CC.SHN, queues closed, files removed) or at nvmf-hostd's exit.
 */
#include <errno.h>
#include <json-c/json.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "hostd.h"

struct announce_args {
	struct hd_ctrl *c;
	bool scanned;
	bool connected;
	char lost_reason[200];
};

/*
 * Loop thread: the hand-off is done. A controller whose association was
 * lost before this point never existed for anyone: no events, no name.
 */
static void
announce_on_loop(void *arg)
{
	struct announce_args *a = arg;

	hd_registry_lock();
	a->connected = a->c->state == HD_CTRL_CONNECTED;
	a->c->announced = a->connected && a->scanned;
	hd_registry_unlock();
	/* The loop writes the reason: it may read it without the lock. */
	memcpy(a->lost_reason, a->c->lost_reason, sizeof(a->lost_reason));
}

struct hd_ctrl *
hd_ctrl_handoff(struct json_object *req, int *fds, unsigned nfds, bool *invalid,
    char *err, size_t errlen)
{
	struct hd_handoff_msg *m = malloc(sizeof(*m));
	struct announce_args aa = { 0 };
	struct hd_ctrl *c;
	int rc;

	*invalid = false;
	c = calloc(1, sizeof(*c));
	if (c == NULL || m == NULL) {
		free(c);
		free(m);
		snprintf(err, errlen, "out of memory");
		return NULL;
	}
	if (hd_handoff_parse(req, nfds, m, err, errlen) != 0) {
		*invalid = true;
		goto fail_unregistered;
	}
	c->refs = 1;
	c->params = m->params;
	c->discovery = m->params.discovery;
	c->id = m->id;
	c->cntlid = m->cntlid;
	if (hd_adopt_queues(c, m, &c->na, c->queues, fds, err, errlen) != 0)
		goto fail_unregistered;
	c->nqueues = m->nqueues;
	pthread_mutex_init(&c->scan_lock, NULL);
	c->max_transfer = hd_max_transfer(&c->id);
	c->state = HD_CTRL_CONNECTED;

	hd_registry_add(c);
	rc = hd_ctrl_queues_start(c);
	if (rc != 0) {
		snprintf(err, errlen, "event loop: %s", strerror(-rc));
		goto fail_registered;
	}
	aa.c = c;
	aa.scanned = hd_ns_scan(c, err, errlen) == 0;
	hd_loop_call(hd_loop, announce_on_loop, &aa);
	if (!aa.connected) {
		snprintf(err, errlen, "the association was lost during the namespace scan: %s",
		    aa.lost_reason);
		goto fail_registered;
	}
	if (!aa.scanned)
		goto fail_registered;
	hd_state_save(c);	/* before the reply: a client told "nvme0" may rely on it */
	/* Announced, it may be reconnecting already: log what was handed off. */
	if (c->discovery)
		daemon_log(LOG_INFO, "%s: discovery controller %s at %s:%s, controller %u, "
		    "KATO %u ms", c->name, m->params.subnqn, m->params.traddr,
		    m->params.trsvcid, m->cntlid, m->params.kato_ms);
	else
		daemon_log(LOG_INFO, "%s: %s at %s:%s, controller %u, %u I/O queue%s of %u%s%s",
		    c->name, m->params.subnqn, m->params.traddr, m->params.trsvcid, m->cntlid,
		    m->nqueues - 1, m->nqueues == 2 ? "" : "s", m->params.queue_size,
		    m->params.hdr_digest ? ", header digest" : "",
		    m->params.data_digest ? ", data digest" : "");
	free(m);
	return c;

fail_unregistered:
	free(c);
	free(m);
	return NULL;
fail_registered:
	free(m);
	hd_registry_lock();
	c->state = HD_CTRL_DELETING;
	hd_registry_unlock();
	hd_ns_remove_all(c);
	hd_ctrl_queues_stop(c);
	hd_registry_remove(c);
	hd_ctrl_put(c);
	return NULL;
}

/* ------------------------------------------------------------ disconnect */

static void
shutdown_controller(struct hd_ctrl *c)
{
	struct nvme_completion cqe;
	struct nvme_command sqe;
	uint64_t deadline = hd_now_ms() + 5000;

	nvmf_cmd_property_get(&sqe, NVME_REG_CC, false);
	if (hd_admin_sync(hd_loop, c, &sqe, NULL, 0, &cqe) != 0 ||
	    NVME_CQE_STATUS(cqe.status) != 0)
		return;
	nvmf_cmd_property_set(&sqe, NVME_REG_CC, false,
	    (cqe.cdw0 & ~NVME_CC_SHN_MASK) | (1u << NVME_CC_SHN_SHIFT));
	if (hd_admin_sync(hd_loop, c, &sqe, NULL, 0, &cqe) != 0 ||
	    NVME_CQE_STATUS(cqe.status) != 0)
		return;
	while (hd_now_ms() < deadline) {
		nvmf_cmd_property_get(&sqe, NVME_REG_CSTS, false);
		if (hd_admin_sync(hd_loop, c, &sqe, NULL, 0, &cqe) != 0 ||
		    NVME_CQE_STATUS(cqe.status) != 0)
			return;
		if ((cqe.cdw0 & (3u << NVME_CSTS_SHST_SHIFT)) == NVME_CSTS_SHST_COMPLETE)
			return;
		usleep(10000);
	}
}

int
hd_ctrl_disconnect(struct hd_ctrl *c, char *err, size_t errlen)
{
	uint64_t deadline = hd_now_ms() + 10000;
	char subnqn[NVMF_NQN_MAX_LEN + 1];

	hd_registry_lock();
	if (c->state == HD_CTRL_DELETING || c->disconnecting) {
		hd_registry_unlock();
		snprintf(err, errlen, "%s is already being disconnected", c->name);
		return -1;
	}
	c->disconnecting = true;
	memcpy(subnqn, c->params.subnqn, sizeof(subnqn));
	hd_registry_unlock();
	hd_state_remove(c);	/* a restart must not bring it back */
	/* Files first, so no new I/O starts; then what is in flight ends. */
	hd_ns_remove_all(c);
	while (!hd_ctrl_idle(c) && hd_now_ms() < deadline)
		usleep(5000);
	if (c->state == HD_CTRL_CONNECTED)
		shutdown_controller(c);
	hd_registry_lock();
	c->state = HD_CTRL_DELETING;
	hd_registry_unlock();
	hd_ctrl_queues_stop(c);
	hd_registry_remove(c);
	daemon_log(LOG_INFO, "%s: disconnected from %s", c->name, subnqn);
	hd_ctrl_put(c);		/* the registry's reference */
	return 0;
}

void
hd_ctrls_disconnect_all(void)
{
	struct hd_ctrl *all[256];
	unsigned n;
	char err[128];

	do {
		n = hd_ctrls_snapshot(all, 256);
		for (unsigned i = 0; i < n; i++) {
			hd_ctrl_disconnect(all[i], err, sizeof(err));
			hd_ctrl_put(all[i]);
		}
	} while (n == 256);
}
