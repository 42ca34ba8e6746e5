/* SPDX-License-Identifier: BSD-2-Clause
 * Copyright (c) 2026 The nvmf developers */
/*
 * discovery.c - what a discovery controller kept by nvmf-hostd (connect-all
 * --persistent) does when its log changes: its header is read (Get Log Page
 * without Retain Asynchronous Event, so that the controller notifies the
 * next change) and DISCOVERY_CHANGE is raised. Connecting what appeared is
 * the rule's work (nvmecontrol connect-all --device nvmeX): it runs the
 * same dialing and hand-off as every connect, out of this daemon. What
 * vanished is left to its controllers' loss timers.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "hostd.h"

struct change {
	struct hd_ctrl *c;
	char why[64];
};

/* Task thread: admin commands wait for the loop. */
static void
change_task(void *arg)
{
	struct change *ch = arg;
	struct hd_ctrl *c = ch->c;
	struct nvmf_discovery_log_header *hdr = calloc(1, sizeof(*hdr));
	struct nvme_completion cqe;
	struct nvme_command sqe;
	int rc = -1;

	if (hdr != NULL && c->state == HD_CTRL_CONNECTED) {
		nvmf_cmd_get_log_page(&sqe, NVME_LOG_DISCOVERY, 0, 0, sizeof(*hdr));
		rc = hd_admin_sync(hd_loop, c, &sqe, hdr, sizeof(*hdr), &cqe);
		if (rc == 0 && NVME_CQE_STATUS(cqe.status) != 0) {
			daemon_log(LOG_WARNING, "%s: reading the discovery log: %s", c->name,
			    nvmf_status_string(NVME_CQE_STATUS(cqe.status)));
			rc = -1;
		}
	}
	if (rc == 0)
		daemon_log(LOG_INFO, "%s: %s: discovery log generation %llu, %llu record%s",
		    c->name, ch->why, (unsigned long long)hdr->genctr,
		    (unsigned long long)hdr->numrec, hdr->numrec == 1 ? "" : "s");
	/*
	 * Raised even when the header could not be read: connect-all reads the
	 * whole log itself and says why it cannot. Not for a controller gone.
	 */
	hd_registry_lock();
	rc = c->announced && !c->disconnecting && c->state != HD_CTRL_DELETING &&
	    c->state != HD_CTRL_DETACHED;
	hd_registry_unlock();
	if (rc)
		hd_event_raise("DISCOVERY_CHANGE", c->name);
	free(hdr);
	free(ch);
	hd_ctrl_put(c);
}

void
hd_discovery_changed(struct hd_ctrl *c, const char *why)
{
	struct change *ch = malloc(sizeof(*ch));

	if (ch == NULL) {
		daemon_log(LOG_ERR, "%s: out of memory: discovery log change not handled",
		    c->name);
		return;
	}
	hd_ctrl_ref(c);
	ch->c = c;
	snprintf(ch->why, sizeof(ch->why), "%s", why);
	hd_task_queue(change_task, ch);
}
