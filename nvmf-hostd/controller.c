/*
 * controller.c - the controllers nvmf-hostd holds: taking one over from
 * nvmecontrol (validated as FreeBSD's kernel validates a hand-off), naming
 * it, keep-alive and AERs on the loop, losing it, disconnecting it.
 */
#include <errno.h>
#include <json-c/json.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "base64.h"
#include "hostd.h"

static pthread_mutex_t registry = PTHREAD_MUTEX_INITIALIZER;
static struct hd_ctrl *controllers;

void
hd_registry_lock(void)
{
	pthread_mutex_lock(&registry);
}

void
hd_registry_unlock(void)
{
	pthread_mutex_unlock(&registry);
}

struct hd_ctrl *
hd_ctrls_first(void)
{
	return controllers;
}

static const char *
state_name(enum hd_ctrl_state s)
{
	switch (s) {
	case HD_CTRL_CONNECTED: return "connected";
	case HD_CTRL_DISCONNECTED: return "disconnected";
	case HD_CTRL_DELETING: return "deleting";
	}
	return "unknown";
}

static void
ctrl_free(struct hd_ctrl *c)
{
	nvmf_association_free(c->na);
	free(c);
}

void
hd_ctrl_put(struct hd_ctrl *c)
{
	int left;

	hd_registry_lock();
	left = --c->refs;
	hd_registry_unlock();
	if (left == 0)
		ctrl_free(c);
}

struct hd_ctrl *
hd_ctrl_find(const char *name)
{
	struct hd_ctrl *c;

	hd_registry_lock();
	for (c = controllers; c != NULL && strcmp(c->name, name) != 0; c = c->next)
		;
	if (c != NULL)
		c->refs++;
	hd_registry_unlock();
	return c;
}

unsigned
hd_ctrl_match(const char *target, struct hd_ctrl **out, unsigned max)
{
	unsigned n = 0;

	hd_registry_lock();
	for (struct hd_ctrl *c = controllers; c != NULL && n < max; c = c->next) {
		size_t len = strlen(c->name);
		bool match = strcmp(target, c->name) == 0 ||
		    strcmp(target, c->params.subnqn) == 0;

		/* nvme0ns1 names its controller nvme0. */
		if (!match && strncmp(target, c->name, len) == 0 &&
		    strncmp(target + len, "ns", 2) == 0)
			for (struct hd_namespace *ns = c->namespaces; ns; ns = ns->next)
				if (strcmp(ns->name, target) == 0)
					match = true;
		if (match) {
			c->refs++;
			out[n++] = c;
		}
	}
	hd_registry_unlock();
	return n;
}

/* ----------------------------------------------------------- loop thread */

static void
ka_done(struct hd_cmd *cmd)
{
	struct hd_ctrl *c = cmd->ctrl;

	c->ka_outstanding = false;
	if (cmd->error == 0 && NVME_CQE_STATUS(cmd->cqe.status) != 0)
		daemon_log(LOG_WARNING, "%s: Keep Alive failed: %s", c->name,
		    nvmf_status_string(NVME_CQE_STATUS(cmd->cqe.status)));
}

static void
ka_cmd_completed(void *arg, const struct nvme_completion *cqe)
{
	struct hd_cmd *cmd = arg;

	if (cqe != NULL)
		cmd->cqe = *cqe;
	cmd->error = cqe != NULL ? 0 : -EIO;
	ka_done(cmd);
}

static void aer_submit(struct hd_ctrl *c);

static void
rescan_task(void *arg)
{
	struct hd_ctrl *c = arg;
	char err[256];

	if (c->state == HD_CTRL_CONNECTED && hd_ns_scan(c, err, sizeof(err)) != 0)
		daemon_log(LOG_WARNING, "%s: namespace rescan: %s", c->name, err);
	hd_ctrl_put(c);
}

static void
aer_completed(void *arg, const struct nvme_completion *cqe)
{
	struct hd_ctrl *c = arg;

	c->aer_outstanding = false;
	if (cqe == NULL || NVME_CQE_STATUS(cqe->status) != 0)
		return;		/* queue gone, or the controller refused AERs */
	if ((cqe->cdw0 & 0x7) == NVME_AER_TYPE_NOTICE &&
	    ((cqe->cdw0 >> 8) & 0xff) == NVME_AER_NOTICE_NS_CHANGED) {
		daemon_log(LOG_INFO, "%s: namespaces changed", c->name);
		hd_registry_lock();
		c->refs++;
		hd_registry_unlock();
		hd_task_queue(rescan_task, c);
	}
	aer_submit(c);
}

static void
aer_submit(struct hd_ctrl *c)
{
	struct nvme_command sqe = { .opc = NVME_ADMIN_ASYNC_EVENT_REQUEST };

	if (c->state != HD_CTRL_CONNECTED || c->aer_outstanding || c->queues[0].qp == NULL)
		return;
	if (nvmf_host_submit(c->queues[0].qp, &sqe, NULL, 0, false, aer_completed, c) == 0) {
		c->aer_outstanding = true;
		hd_loop_kick(&c->queues[0]);
	}
}

void
hd_ctrl_timers(struct hd_ctrl *c, uint64_t now)
{
	uint32_t kato = c->params.kato_ms;
	struct nvme_command sqe;

	if (c->state != HD_CTRL_CONNECTED || kato == 0)
		return;
	/* Keep Alive every KATO/2; no answer by the next one is a lost association. */
	if (c->ka_outstanding) {
		if (now >= c->ka_sent_ms + kato / 2) {
			char why[96];

			snprintf(why, sizeof(why), "no Keep Alive response within %u ms",
			    kato / 2);
			hd_ctrl_lost(c, why);
		}
		return;
	}
	if (now < c->ka_next_ms)
		return;
	nvmf_cmd_keep_alive(&sqe);
	c->ka_cmd.ctrl = c;
	if (nvmf_host_submit(c->queues[0].qp, &sqe, NULL, 0, false, ka_cmd_completed,
	    &c->ka_cmd) == 0) {
		c->ka_outstanding = true;
		c->ka_sent_ms = now;
		hd_loop_kick(&c->queues[0]);
	}
	c->ka_next_ms = now + kato / 2;
}

void
hd_ctrl_lost(struct hd_ctrl *c, const char *why)
{
	if (c->state != HD_CTRL_CONNECTED)
		return;
	snprintf(c->lost_reason, sizeof(c->lost_reason), "%s", why);
	daemon_log(LOG_WARNING, "%s: association with %s at %s:%s lost: %s", c->name,
	    c->params.subnqn, c->params.traddr, c->params.trsvcid, why);
	c->state = HD_CTRL_DISCONNECTED;
	c->ka_outstanding = false;
	c->aer_outstanding = false;
	/* Every queue goes; commands in flight and waiting fail with EIO. */
	hd_loop_remove_queues(hd_loop, c);
}

struct start_args {
	struct hd_ctrl *c;
	int rc;
};

static void
start_on_loop(void *arg)
{
	struct start_args *a = arg;
	struct hd_ctrl *c = a->c;

	for (uint32_t i = 0; i < c->nqueues; i++) {
		a->rc = hd_loop_add_queue(hd_loop, c, (uint16_t)i);
		if (a->rc != 0)
			return;
	}
	c->ka_next_ms = hd_now_ms();	/* first Keep Alive at once */
	aer_submit(c);
}

static void
stop_on_loop(void *arg)
{
	hd_loop_remove_queues(hd_loop, arg);
}

/* --------------------------------------------------------------- hand-off */

static const char *
jstr(struct json_object *o, const char *key)
{
	struct json_object *v;

	if (!json_object_object_get_ex(o, key, &v) || !json_object_is_type(v, json_type_string))
		return NULL;
	return json_object_get_string(v);
}

static int64_t
jint(struct json_object *o, const char *key, int64_t dflt)
{
	struct json_object *v;

	if (!json_object_object_get_ex(o, key, &v) || !json_object_is_type(v, json_type_int))
		return dflt;
	return json_object_get_int64(v);
}

static bool
jbool(struct json_object *o, const char *key)
{
	struct json_object *v;

	return json_object_object_get_ex(o, key, &v) && json_object_get_boolean(v);
}

static int
parse_params(struct json_object *jc, struct hd_ctrl_params *p, char *err, size_t errlen)
{
	const char *traddr = jstr(jc, "traddr"), *trsvcid = jstr(jc, "trsvcid");
	const char *subnqn = jstr(jc, "subnqn"), *hostnqn = jstr(jc, "hostnqn");
	const char *hostid = jstr(jc, "hostid"), *transport = jstr(jc, "transport");

	if (traddr == NULL || trsvcid == NULL || subnqn == NULL || hostnqn == NULL) {
		snprintf(err, errlen, "hand-off lacks traddr, trsvcid, subnqn or hostnqn");
		return -1;
	}
	if (strlen(subnqn) > NVMF_NQN_MAX_LEN || strlen(hostnqn) > NVMF_NQN_MAX_LEN ||
	    strlen(traddr) >= sizeof(p->traddr) || strlen(trsvcid) >= sizeof(p->trsvcid)) {
		snprintf(err, errlen, "hand-off field too long");
		return -1;
	}
	memset(p, 0, sizeof(*p));
	snprintf(p->transport, sizeof(p->transport), "%s", transport ? transport : "tcp");
	snprintf(p->traddr, sizeof(p->traddr), "%s", traddr);
	snprintf(p->trsvcid, sizeof(p->trsvcid), "%s", trsvcid);
	snprintf(p->subnqn, sizeof(p->subnqn), "%s", subnqn);
	snprintf(p->hostnqn, sizeof(p->hostnqn), "%s", hostnqn);
	snprintf(p->hostid, sizeof(p->hostid), "%s", hostid ? hostid : "");
	p->kato_ms = (uint32_t)jint(jc, "kato_ms", 120000);
	p->reconnect_delay = (int)jint(jc, "reconnect_delay", 10);
	p->ctrl_loss_tmo = (int)jint(jc, "ctrl_loss_tmo", 600);
	p->fast_io_fail_tmo = (int)jint(jc, "fast_io_fail_tmo", -1);
	p->nr_io_queues = (uint32_t)jint(jc, "nr_io_queues", 1);
	p->queue_size = (uint32_t)jint(jc, "queue_size", 0);
	p->hdr_digest = jbool(jc, "hdr_digest");
	p->data_digest = jbool(jc, "data_digest");
	p->sq_flow_control = !json_object_object_get_ex(jc, "sq_flow_control", NULL) ||
	    jbool(jc, "sq_flow_control");
	return 0;
}

static int
parse_queue(struct json_object *jq, struct nvmf_qpair_handoff *h)
{
	memset(h, 0, sizeof(*h));
	h->size = sizeof(*h);
	h->qid = (uint16_t)jint(jq, "qid", -1);
	h->qsize = (uint16_t)jint(jq, "qsize", 0);
	h->sq_flow_control = jbool(jq, "sq_flow_control");
	h->sqhd = (uint16_t)jint(jq, "sqhd", 0);
	h->sqtail = (uint16_t)jint(jq, "sqtail", 0);
	h->icd_size = (uint32_t)jint(jq, "icd_size", 0);
	h->info.header_digests = jbool(jq, "hdgst");
	h->info.data_digests = jbool(jq, "ddgst");
	h->info.hpda = (uint8_t)jint(jq, "hpda", 0);
	h->info.cpda = (uint8_t)jint(jq, "cpda", 0);
	h->info.max_h2c_data = (uint32_t)jint(jq, "max_h2c_data", 0);
	h->info.maxr2t = (uint32_t)jint(jq, "maxr2t", 0);
	return jint(jq, "qid", -1) < 0 ? -1 : 0;
}

static void
register_ctrl(struct hd_ctrl *c)
{
	struct hd_ctrl **pp;
	unsigned idx = 0;

	hd_registry_lock();
	/* The lowest free number, as the kernel names nvme devices. */
	for (bool taken = true; taken; idx += taken) {
		taken = false;
		for (struct hd_ctrl *o = controllers; o != NULL; o = o->next)
			if (o->index == idx)
				taken = true;
	}
	c->index = idx;
	snprintf(c->name, sizeof(c->name), "nvme%u", idx);
	for (pp = &controllers; *pp != NULL && (*pp)->index < idx; pp = &(*pp)->next)
		;
	c->next = *pp;
	*pp = c;
	hd_registry_unlock();
}

static void
unregister_ctrl(struct hd_ctrl *c)
{
	hd_registry_lock();
	for (struct hd_ctrl **pp = &controllers; *pp != NULL; pp = &(*pp)->next)
		if (*pp == c) {
			*pp = c->next;
			break;
		}
	hd_registry_unlock();
}

struct hd_ctrl *
hd_ctrl_handoff(struct json_object *req, int *fds, unsigned nfds, char *err,
    size_t errlen)
{
	struct nvmf_association_params ap = { .size = sizeof(ap) };
	struct json_object *jc, *jq;
	struct hd_ctrl *c;
	struct start_args sa;
	const char *idb64;
	size_t nq;
	uint32_t io_qsize = 0;

	if (!json_object_object_get_ex(req, "controller", &jc) ||
	    !json_object_object_get_ex(req, "queues", &jq) ||
	    !json_object_is_type(jq, json_type_array)) {
		snprintf(err, errlen, "hand-off needs \"controller\" and \"queues\"");
		return NULL;
	}
	nq = json_object_array_length(jq);
	if (nq < 2 || nq > HOSTD_MAX_IO_QUEUES + 1) {
		snprintf(err, errlen, "hand-off needs the admin queue and 1 to %d I/O queues",
		    HOSTD_MAX_IO_QUEUES);
		return NULL;
	}
	if (nfds != nq) {
		snprintf(err, errlen, "hand-off describes %zu queues but carries %u sockets",
		    nq, nfds);
		return NULL;
	}
	c = calloc(1, sizeof(*c));
	if (c == NULL) {
		snprintf(err, errlen, "out of memory");
		return NULL;
	}
	c->refs = 1;
	if (parse_params(jc, &c->params, err, errlen) != 0)
		goto fail;
	idb64 = jstr(jc, "identify");
	if (idb64 == NULL ||
	    base64_decode(idb64, (uint8_t *)&c->id, sizeof(c->id)) != sizeof(c->id)) {
		snprintf(err, errlen, "hand-off lacks the 4096-byte Identify Controller data");
		goto fail;
	}
	if (strncmp(c->id.subnqn, c->params.subnqn, sizeof(c->id.subnqn)) != 0) {
		snprintf(err, errlen, "SubNQN %s differs from the controller's own (%.*s)",
		    c->params.subnqn, (int)sizeof(c->id.subnqn), c->id.subnqn);
		goto fail;
	}
	c->cntlid = (uint16_t)jint(jc, "cntlid", -1);
	if (c->cntlid != c->id.cntlid) {
		snprintf(err, errlen, "controller ID %u differs from Identify's %u", c->cntlid,
		    c->id.cntlid);
		goto fail;
	}
	/* MDTS is in units of the minimum page size (4 KiB here); 0: no limit. */
	c->max_transfer = c->id.mdts == 0 || c->id.mdts > 8 ? 1024 * 1024 :
	    4096u << c->id.mdts;
	ap.header_digests = c->params.hdr_digest;
	ap.data_digests = c->params.data_digest;
	ap.sq_flow_control = c->params.sq_flow_control;
	c->na = nvmf_association_create(&ap, err, errlen);
	if (c->na == NULL)
		goto fail;

	for (size_t i = 0; i < nq; i++) {
		struct nvmf_qpair_handoff h;

		if (parse_queue(json_object_array_get_idx(jq, i), &h) != 0 || h.qid != i) {
			snprintf(err, errlen, "queue %zu: hand-off out of order or malformed", i);
			goto fail;
		}
		if (i == 1)
			io_qsize = h.qsize;
		else if (i > 1 && h.qsize != io_qsize) {
			snprintf(err, errlen, "I/O queues of unequal sizes (%u and %u)", io_qsize,
			    h.qsize);
			goto fail;
		}
		c->queues[i].qp = nvmf_host_qpair_adopt(c->na, fds[i], &h, err, errlen);
		if (c->queues[i].qp == NULL)
			goto fail;
		fds[i] = -1;	/* the queue pair owns it now */
		c->queues[i].ctrl = c;
		c->queues[i].qid = (uint16_t)i;
		c->nqueues = (uint32_t)i + 1;
	}
	c->params.nr_io_queues = c->nqueues - 1;
	c->params.queue_size = io_qsize;
	c->state = HD_CTRL_CONNECTED;

	register_ctrl(c);
	sa.c = c;
	sa.rc = 0;
	hd_loop_call(hd_loop, start_on_loop, &sa);
	if (sa.rc != 0) {
		snprintf(err, errlen, "event loop: %s", strerror(-sa.rc));
		goto fail_registered;
	}
	if (hd_ns_scan(c, err, errlen) != 0)
		goto fail_registered;
	daemon_log(LOG_INFO, "%s: %s at %s:%s, controller %u, %u I/O queue%s of %u%s%s",
	    c->name, c->params.subnqn, c->params.traddr, c->params.trsvcid, c->cntlid,
	    c->nqueues - 1, c->nqueues == 2 ? "" : "s", io_qsize,
	    c->params.hdr_digest ? ", header digest" : "",
	    c->params.data_digest ? ", data digest" : "");
	return c;

fail_registered:
	c->state = HD_CTRL_DELETING;
	hd_ns_remove_all(c);
	hd_loop_call(hd_loop, stop_on_loop, c);
	unregister_ctrl(c);
	hd_ctrl_put(c);
	return NULL;
fail:
	for (uint32_t i = 0; i < c->nqueues; i++)
		nvmf_qpair_free(c->queues[i].qp);
	ctrl_free(c);
	return NULL;
}

/* ------------------------------------------------------------ disconnect */

struct drain_args {
	struct hd_ctrl *c;
	bool idle;
};

static void
drain_check(void *arg)
{
	struct drain_args *a = arg;

	a->idle = a->c->inflight == 0 && a->c->backlog == NULL;
}

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
	struct drain_args da = { .c = c };
	uint64_t deadline = hd_now_ms() + 10000;

	hd_registry_lock();
	if (c->state == HD_CTRL_DELETING || c->disconnecting) {
		hd_registry_unlock();
		snprintf(err, errlen, "%s is already being disconnected", c->name);
		return -1;
	}
	c->disconnecting = true;
	hd_registry_unlock();
	/* Files first, so no new I/O starts; then what is in flight ends. */
	hd_ns_remove_all(c);
	do {
		hd_loop_call(hd_loop, drain_check, &da);
		if (!da.idle)
			usleep(5000);
	} while (!da.idle && hd_now_ms() < deadline);
	if (c->state == HD_CTRL_CONNECTED)
		shutdown_controller(c);
	hd_registry_lock();
	c->state = HD_CTRL_DELETING;
	hd_registry_unlock();
	hd_loop_call(hd_loop, stop_on_loop, c);
	unregister_ctrl(c);
	daemon_log(LOG_INFO, "%s: disconnected from %s", c->name, c->params.subnqn);
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
		n = 0;
		hd_registry_lock();
		for (struct hd_ctrl *c = controllers; c != NULL && n < 256; c = c->next) {
			c->refs++;
			all[n++] = c;
		}
		hd_registry_unlock();
		for (unsigned i = 0; i < n; i++) {
			hd_ctrl_disconnect(all[i], err, sizeof(err));
			hd_ctrl_put(all[i]);
		}
	} while (n == 256);
}

/* ------------------------------------------------------------------ list */

static void
add_str(struct json_object *o, const char *k, const char *v)
{
	json_object_object_add(o, k, json_object_new_string(v));
}

static void
add_int(struct json_object *o, const char *k, int64_t v)
{
	json_object_object_add(o, k, json_object_new_int64(v));
}

static void
trimmed(char *dst, const char *src, size_t len)
{
	memcpy(dst, src, len);
	dst[len] = '\0';
	for (size_t i = len; i > 0 && (dst[i - 1] == ' ' || dst[i - 1] == '\0'); i--)
		dst[i - 1] = '\0';
}

struct json_object *
hd_ctrl_list_json(void)
{
	struct json_object *arr = json_object_new_array();

	hd_registry_lock();
	for (struct hd_ctrl *c = controllers; c != NULL; c = c->next) {
		struct json_object *o = json_object_new_object(), *nss;
		char buf[64];

		add_str(o, "name", c->name);
		add_str(o, "state", state_name(c->state));
		add_str(o, "subnqn", c->params.subnqn);
		add_str(o, "transport", c->params.transport);
		add_str(o, "traddr", c->params.traddr);
		add_str(o, "trsvcid", c->params.trsvcid);
		add_int(o, "cntlid", c->cntlid);
		add_str(o, "hostnqn", c->params.hostnqn);
		trimmed(buf, c->id.mn, sizeof(c->id.mn));
		add_str(o, "model", buf);
		trimmed(buf, c->id.sn, sizeof(c->id.sn));
		add_str(o, "serial", buf);
		trimmed(buf, c->id.fr, sizeof(c->id.fr));
		add_str(o, "firmware", buf);
		add_int(o, "io_queues", c->params.nr_io_queues);
		add_int(o, "queue_size", c->params.queue_size);
		add_int(o, "kato_ms", c->params.kato_ms);
		json_object_object_add(o, "hdr_digest", json_object_new_boolean(c->params.hdr_digest));
		json_object_object_add(o, "data_digest",
		    json_object_new_boolean(c->params.data_digest));
		add_int(o, "reconnect_delay", c->params.reconnect_delay);
		add_int(o, "ctrl_loss_tmo", c->params.ctrl_loss_tmo);
		add_int(o, "fast_io_fail_tmo", c->params.fast_io_fail_tmo);
		if (c->state != HD_CTRL_CONNECTED && c->lost_reason[0] != '\0')
			add_str(o, "reason", c->lost_reason);
		nss = json_object_new_array();
		for (struct hd_namespace *ns = c->namespaces; ns != NULL; ns = ns->next) {
			struct json_object *n = json_object_new_object();
			char path[4300];

			if (ns->gone)
				continue;
			snprintf(path, sizeof(path), "%s/%s", hd_rd.dev, ns->name);
			add_str(n, "name", ns->name);
			add_int(n, "nsid", ns->nsid);
			add_str(n, "path", path);
			add_int(n, "size", (int64_t)hd_ns_size(ns));
			add_int(n, "lba_size", 1 << ns->lba_shift);
			json_object_array_add(nss, n);
		}
		json_object_object_add(o, "namespaces", nss);
		json_object_array_add(arr, o);
	}
	hd_registry_unlock();
	return arr;
}
