/* SPDX-License-Identifier: BSD-2-Clause
 * Copyright (c) 2026 The nvmf developers */
/*
 * namespace.c - a controller's namespaces: found with Identify (what the
 * controller reports checked before use: a namespace the host cannot use is
 * skipped with one log line, the controller stays), named nvmeXnsY, read and
 * written through the event loop in commands no larger than MDTS, with
 * read-modify-write for bytes that are not whole blocks.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "hostd.h"

#define MAX_NLB		65536u		/* NLB is a 16-bit zero-based field */
#define INLINE_CMDS	16

static uint64_t next_ino = 2;		/* 1 is the FUSE root */

uint64_t
hd_ns_size(const struct hd_namespace *ns)
{
	return ns->nlbas << ns->lba_shift;
}

struct hd_namespace *
hd_ns_lookup_name(const char *name)
{
	struct hd_namespace *found = NULL;

	hd_registry_lock();
	for (struct hd_ctrl *c = hd_ctrls_first(); c != NULL && !found; c = c->next)
		for (struct hd_namespace *ns = c->namespaces; ns != NULL && c->announced;
		    ns = ns->next)
			if (!ns->gone && strcmp(ns->name, name) == 0) {
				ns->refs++;
				found = ns;
				break;
			}
	hd_registry_unlock();
	return found;
}

struct hd_namespace *
hd_ns_lookup_ino(uint64_t ino)
{
	struct hd_namespace *found = NULL;

	hd_registry_lock();
	for (struct hd_ctrl *c = hd_ctrls_first(); c != NULL && !found; c = c->next)
		for (struct hd_namespace *ns = c->namespaces; ns != NULL && c->announced;
		    ns = ns->next)
			if (!ns->gone && ns->ino == ino) {
				ns->refs++;
				found = ns;
				break;
			}
	hd_registry_unlock();
	return found;
}

static void
ns_free(struct hd_namespace *ns)
{
	struct hd_ctrl *c = ns->ctrl;

	pthread_mutex_destroy(&ns->rmw_lock);
	free(ns);
	hd_ctrl_put(c);
}

void
hd_ns_get(struct hd_namespace *ns)
{
	hd_registry_lock();
	ns->refs++;
	hd_registry_unlock();
}

void
hd_ns_put(struct hd_namespace *ns)
{
	int left;

	hd_registry_lock();
	left = --ns->refs;
	hd_registry_unlock();
	if (left == 0)
		ns_free(ns);
}

unsigned
hd_ns_names(char (**names)[32], uint64_t **inos)
{
	unsigned n = 0, cap = 0;

	*names = NULL;
	*inos = NULL;
	hd_registry_lock();
	for (struct hd_ctrl *c = hd_ctrls_first(); c != NULL; c = c->next)
		for (struct hd_namespace *ns = c->namespaces; ns != NULL && c->announced;
		    ns = ns->next)
			cap += !ns->gone;
	if (cap > 0) {
		*names = calloc(cap, sizeof(**names));
		*inos = calloc(cap, sizeof(**inos));
	}
	for (struct hd_ctrl *c = hd_ctrls_first(); c != NULL && *names && *inos; c = c->next)
		for (struct hd_namespace *ns = c->namespaces; ns != NULL && c->announced;
		    ns = ns->next)
			if (!ns->gone) {
				snprintf((*names)[n], sizeof((*names)[n]), "%s", ns->name);
				(*inos)[n++] = ns->ino;
			}
	hd_registry_unlock();
	return n;
}

/* dev/'s mtime (registry lock): set when a file appears or goes. */
static struct timespec dir_changed;

static void
dir_touch(void)
{
	clock_gettime(CLOCK_REALTIME, &dir_changed);
}

void
hd_ns_dir_time(struct timespec *ts)
{
	hd_registry_lock();
	if (dir_changed.tv_sec == 0)
		dir_touch();	/* the first look, at start-up: dev/ appeared then */
	*ts = dir_changed;
	hd_registry_unlock();
}

/* Unlinks a namespace from its controller (registry lock held). */
static void
ns_unlink(struct hd_namespace *ns)
{
	struct hd_namespace **pp;

	dir_touch();
	for (pp = &ns->ctrl->namespaces; *pp != NULL; pp = &(*pp)->next)
		if (*pp == ns) {
			*pp = ns->next;
			break;
		}
	ns->gone = true;
}

void
hd_ns_remove_all(struct hd_ctrl *c)
{
	struct hd_namespace *list;

	hd_registry_lock();
	list = c->namespaces;
	c->namespaces = NULL;
	if (list != NULL)
		dir_touch();
	for (struct hd_namespace *ns = list; ns != NULL; ns = ns->next)
		ns->gone = true;
	hd_registry_unlock();
	while (list != NULL) {
		struct hd_namespace *next = list->next;

		hd_fuse_forget_name(list->name);
		hd_ns_put(list);
		list = next;
	}
}

/* 0; 1 when the controller answered with an error; -1 when it did not answer. */
static int
admin_read(struct hd_ctrl *c, struct nvme_command *sqe, void *buf, uint32_t len,
    const char *what, char *err, size_t errlen)
{
	struct nvme_completion cqe;
	int rc;

	/* A short transfer must not leave the last scan's bytes behind. */
	memset(buf, 0, len);
	rc = hd_admin_sync(hd_loop, c, sqe, buf, len, &cqe);
	if (rc != 0) {
		snprintf(err, errlen, "%s: %s", what, strerror(-rc));
		return -1;
	}
	if (NVME_CQE_STATUS(cqe.status) != 0) {
		snprintf(err, errlen, "%s: %s", what,
		    nvmf_status_string(NVME_CQE_STATUS(cqe.status) & ~NVME_STATUS_DNR));
		return 1;
	}
	return 0;
}

/*
 * Whether the host can use a namespace as Identify describes it; if not,
 * why, in why. Every value the rest of this file computes with is checked
 * here, on the first scan and on every rescan alike.
 */
bool
hd_ns_usable(uint32_t max_transfer, const struct nvme_identify_namespace *id,
    uint32_t *shift, char *why, size_t whylen)
{
	unsigned nformats = id->nlbaf + 1u, fmt = id->flbas & 0xf;
	const struct nvme_lba_format *f;

	/* Past 16 formats, FLBAS bits 6:5 are the index's upper bits. */
	if (nformats > 16)
		fmt |= ((id->flbas >> 5) & 0x3u) << 4;
	if (fmt >= nformats || fmt >= sizeof(id->lbaf) / sizeof(id->lbaf[0])) {
		snprintf(why, whylen, "its LBA format %u is not among the %u it lists", fmt,
		    nformats);
		return false;
	}
	f = &id->lbaf[fmt];
	if (f->lbads < 9 || f->lbads > 16) {
		snprintf(why, whylen, "LBA data size 2^%u is outside 512 bytes to 64 KiB",
		    f->lbads);
		return false;
	}
	if (f->ms != 0) {
		snprintf(why, whylen, "its blocks carry %u bytes of metadata, which this host "
		    "does not transfer", f->ms);
		return false;
	}
	/* The file's size is an off_t. */
	if (id->nsze > ((uint64_t)INT64_MAX >> f->lbads)) {
		snprintf(why, whylen, "%llu blocks of %u bytes overflow a file size",
		    (unsigned long long)id->nsze, 1u << f->lbads);
		return false;
	}
	if (max_transfer < (1u << f->lbads)) {
		snprintf(why, whylen, "a block of %u bytes exceeds the controller's MDTS "
		    "(%u bytes per command)", 1u << f->lbads, max_transfer);
		return false;
	}
	*shift = f->lbads;
	return true;
}

static struct hd_namespace *
ns_find(struct hd_ctrl *c, uint32_t nsid)
{
	for (struct hd_namespace *ns = c->namespaces; ns != NULL; ns = ns->next)
		if (ns->nsid == nsid)
			return ns;
	return NULL;
}

static void
ns_drop(struct hd_namespace *ns)
{
	hd_fuse_forget_name(ns->name);
	hd_ns_put(ns);
}

/* A usable namespace: its size follows the controller; new ones get a file. */
static int
ns_add_or_update(struct hd_ctrl *c, uint32_t nsid, uint64_t nlbas, uint32_t shift,
    char *err, size_t errlen)
{
	struct hd_namespace *ns, *old;
	uint32_t old_shift = 0;

	hd_registry_lock();
	old = ns_find(c, nsid);
	if (old != NULL && old->lba_shift == shift) {
		if (old->nlbas != nlbas)
			daemon_log(LOG_INFO, "%s: now %llu blocks of %u bytes", old->name,
			    (unsigned long long)nlbas, 1u << shift);
		old->nlbas = nlbas;
		hd_registry_unlock();
		return 0;
	}
	/* A new block size under I/O in flight would mix units: a new file instead. */
	if (old != NULL) {
		old_shift = old->lba_shift;
		ns_unlink(old);
	}
	hd_registry_unlock();
	if (old != NULL) {
		daemon_log(LOG_INFO, "%s: block size changed from %u to %u bytes", old->name,
		    1u << old_shift, 1u << shift);
		ns_drop(old);
	}
	ns = calloc(1, sizeof(*ns));
	if (ns == NULL) {
		snprintf(err, errlen, "out of memory");
		return -1;
	}
	ns->ctrl = c;
	ns->nsid = nsid;
	ns->nlbas = nlbas;
	ns->lba_shift = shift;
	snprintf(ns->name, sizeof(ns->name), "%sns%u", c->name, ns->nsid);
	pthread_mutex_init(&ns->rmw_lock, NULL);
	hd_registry_lock();
	if (c->disconnecting || c->state != HD_CTRL_CONNECTED) {
		/* Removed while we asked: adding it now would outlive its controller. */
		hd_registry_unlock();
		pthread_mutex_destroy(&ns->rmw_lock);
		free(ns);
		snprintf(err, errlen, "%s is going away", c->name);
		return -1;
	}
	ns->ino = next_ino++;
	ns->refs = 1;		/* the controller's */
	dir_touch();
	ns->appeared = dir_changed;
	c->refs++;		/* the namespace keeps its controller */
	{
		struct hd_namespace **pp = &c->namespaces;

		while (*pp != NULL && (*pp)->nsid < ns->nsid)	/* in NSID order */
			pp = &(*pp)->next;
		ns->next = *pp;
		*pp = ns;
	}
	hd_registry_unlock();
	daemon_log(LOG_INFO, "%s: %llu blocks of %u bytes", ns->name,
	    (unsigned long long)ns->nlbas, 1u << ns->lba_shift);
	return 0;
}

/* Whether list[] holds nsid as a usable entry. */
static bool
listed(const uint32_t *list, const bool *usable, uint32_t nsid, bool *present)
{
	*present = false;
	for (uint32_t i = 0; i < 1024 && list[i] != 0; i++) {
		if (list[i] != nsid)
			continue;
		*present = true;
		if (usable[i])
			return true;
	}
	return false;
}

/* One line for a namespace the host will not show, naming it and why. */
static void
ns_refuse(struct hd_ctrl *c, uint32_t nsid, const char *why)
{
	bool shown;

	hd_registry_lock();
	shown = ns_find(c, nsid) != NULL;
	hd_registry_unlock();
	daemon_log(LOG_WARNING, "%sns%u: %s: namespace %s", c->name, nsid, why,
	    shown ? "removed" : "skipped");
}

static int
scan_locked(struct hd_ctrl *c, uint32_t *list, bool *usable,
    struct nvme_identify_namespace *id, char *err, size_t errlen)
{
	uint32_t nn, max_transfer, prev = 0;
	struct nvme_command sqe;
	char why[160];

	/* A reconnect installs them on the loop, under the lock. */
	hd_registry_lock();
	nn = c->id.nn;
	max_transfer = c->max_transfer;
	hd_registry_unlock();

	nvmf_cmd_identify(&sqe, NVME_CNS_ACTIVE_NS_LIST, 0);
	if (admin_read(c, &sqe, list, 4096, "Identify active namespaces", err, errlen) != 0)
		return -1;
	for (uint32_t i = 0; i < 1024 && list[i] != 0; i++) {
		uint32_t nsid = list[i], shift;
		int rc;

		/* NSIDs are 1..NN, listed in increasing order (NVMe Base, CNS 02h). */
		if (nsid <= prev || nsid > nn || nsid == 0xffffffff) {
			snprintf(why, sizeof(why), nsid <= prev ? "listed out of order after %u" :
			    "beyond the controller's NN (%u)", nsid <= prev ? prev : nn);
			ns_refuse(c, nsid, why);
			continue;
		}
		prev = nsid;
		nvmf_cmd_identify(&sqe, NVME_CNS_NAMESPACE, nsid);
		rc = admin_read(c, &sqe, id, sizeof(*id), "Identify Namespace", why, sizeof(why));
		if (rc < 0) {
			snprintf(err, errlen, "%s", why);
			return -1;
		}
		if (rc > 0) {
			ns_refuse(c, nsid, why);
			continue;
		}
		if (id->nsze == 0) {
			ns_refuse(c, nsid, "listed as active but of size 0");
			continue;
		}
		if (!hd_ns_usable(max_transfer, id, &shift, why, sizeof(why))) {
			ns_refuse(c, nsid, why);
			continue;
		}
		usable[i] = true;
		if (ns_add_or_update(c, nsid, id->nsze, shift, err, errlen) != 0)
			return -1;
	}
	/* Namespaces no longer listed, or no longer usable, go away. */
	for (;;) {
		struct hd_namespace *gone = NULL;
		bool present = false;

		hd_registry_lock();
		for (struct hd_namespace *ns = c->namespaces; ns != NULL && !gone; ns = ns->next)
			if (!listed(list, usable, ns->nsid, &present))
				gone = ns;
		if (gone != NULL)
			ns_unlink(gone);
		hd_registry_unlock();
		if (gone == NULL)
			break;
		if (!present)		/* the unusable ones were named above */
			daemon_log(LOG_INFO, "%s: namespace removed", gone->name);
		ns_drop(gone);
	}
	return 0;
}

int
hd_ns_scan(struct hd_ctrl *c, char *err, size_t errlen)
{
	uint32_t *list = calloc(1024, sizeof(uint32_t));
	bool *usable = calloc(1024, sizeof(bool));
	struct nvme_identify_namespace *id = malloc(sizeof(*id));
	int rc = -1;

	if (c->discovery)
		rc = 0;		/* no namespaces: nothing to ask a discovery controller */
	else if (list == NULL || usable == NULL || id == NULL)
		snprintf(err, errlen, "out of memory");
	else {
		/* An AEN's rescan may meet the hand-off's first one. */
		pthread_mutex_lock(&c->scan_lock);
		rc = scan_locked(c, list, usable, id, err, errlen);
		pthread_mutex_unlock(&c->scan_lock);
	}
	free(list);
	free(usable);
	free(id);
	return rc;
}

/* ----------------------------------------------------------------- I/O */

int
hd_cmd_errno(const struct hd_cmd *cmd)
{
	uint16_t st;

	if (cmd->error != 0)
		return cmd->error;
	st = NVME_CQE_STATUS(cmd->cqe.status) & ~NVME_STATUS_DNR;
	if (st == 0)
		return 0;
	if (NVME_STATUS_SCT(st) == NVME_SCT_GENERIC &&
	    NVME_STATUS_SC(st) == NVME_SC_LBA_OUT_OF_RANGE)
		return -ENOSPC;
	return -EIO;
}

/* Runs n prepared commands on the namespace's controller and waits. */
static int
run_cmds(struct hd_namespace *ns, struct hd_cmd *cmds, unsigned n)
{
	struct hd_waiter w;
	int rc = 0;

	if (ns->gone)
		return -ENODEV;
	hd_waiter_init(&w);
	w.pending = n;
	for (unsigned i = 0; i < n; i++) {
		cmds[i].ctrl = ns->ctrl;
		cmds[i].waiter = &w;
	}
	hd_loop_submit(hd_loop, cmds, n);
	hd_waiter_wait(&w);
	hd_waiter_destroy(&w);
	for (unsigned i = 0; i < n && rc == 0; i++)
		rc = hd_cmd_errno(&cmds[i]);
	return rc;
}

/*
 * Blocks per command: MDTS, and what the 16-bit NLB field holds. Read once
 * per request: a reconnect may change MDTS under it.
 */
uint32_t
hd_ns_blocks_per_cmd(const struct hd_namespace *ns)
{
	uint32_t per = ns->ctrl->max_transfer >> ns->lba_shift;

	if (per > MAX_NLB)
		per = MAX_NLB;
	return per == 0 ? 1 : per;
}

unsigned
hd_ns_rw_fill(const struct hd_namespace *ns, uint32_t per, bool write, void *buf,
    uint64_t slba, uint64_t nblocks, struct hd_cmd *cmds)
{
	unsigned n = (unsigned)((nblocks + per - 1) / per);

	for (unsigned i = 0; cmds != NULL && i < n; i++) {
		uint64_t lba = slba + (uint64_t)i * per;
		uint32_t nlb = (uint32_t)(nblocks - (uint64_t)i * per < per ?
		    nblocks - (uint64_t)i * per : per);

		nvmf_cmd_rw(&cmds[i].sqe, write ? NVME_IO_WRITE : NVME_IO_READ, ns->nsid, lba, nlb);
		cmds[i].buf = (uint8_t *)buf + ((uint64_t)i * per << ns->lba_shift);
		cmds[i].len = nlb << ns->lba_shift;
		cmds[i].to_controller = write;
	}
	return n;
}

/* Whole blocks: split by MDTS into commands that run at once. */
static int
rw_blocks(struct hd_namespace *ns, bool write, void *buf, uint64_t slba, uint64_t nblocks)
{
	uint32_t per = hd_ns_blocks_per_cmd(ns);
	struct hd_cmd inline_cmds[INLINE_CMDS], *cmds = inline_cmds;
	unsigned n;
	int rc;

	n = hd_ns_rw_fill(ns, per, write, buf, slba, nblocks, NULL);
	if (n > INLINE_CMDS && (cmds = calloc(n, sizeof(*cmds))) == NULL)
		return -ENOMEM;
	memset(cmds, 0, (n > INLINE_CMDS ? n : INLINE_CMDS) * sizeof(*cmds));
	hd_ns_rw_fill(ns, per, write, buf, slba, nblocks, cmds);
	rc = run_cmds(ns, cmds, n);
	if (cmds != inline_cmds)
		free(cmds);
	return rc;
}

size_t
hd_ns_clamp(const struct hd_namespace *ns, size_t len, uint64_t off)
{
	uint64_t size = hd_ns_size(ns);

	if (off >= size)
		return 0;
	return len > size - off ? (size_t)(size - off) : len;
}

/* Writes bytes that do not cover whole blocks: read, merge, write back. */
static int
write_partial(struct hd_namespace *ns, const void *src, size_t len, uint64_t off)
{
	uint64_t bs = 1ull << ns->lba_shift;
	uint64_t start = off & ~(bs - 1), end = (off + len + bs - 1) & ~(bs - 1);
	uint8_t *bounce = malloc(end - start);
	int rc = 0;

	if (bounce == NULL)
		return -ENOMEM;
	pthread_mutex_lock(&ns->rmw_lock);
	/* Only the first and last blocks hold bytes we keep. */
	if (off != start)
		rc = rw_blocks(ns, false, bounce, start >> ns->lba_shift, 1);
	if (rc == 0 && (off + len) != end && (end - bs != start || off == start))
		rc = rw_blocks(ns, false, bounce + (end - bs - start), (end - bs) >> ns->lba_shift, 1);
	if (rc == 0) {
		if (src != NULL)
			memcpy(bounce + (off - start), src, len);
		else
			memset(bounce + (off - start), 0, len);
		rc = rw_blocks(ns, true, bounce, start >> ns->lba_shift,
		    (end - start) >> ns->lba_shift);
	}
	pthread_mutex_unlock(&ns->rmw_lock);
	free(bounce);
	return rc;
}

ssize_t
hd_ns_write(struct hd_namespace *ns, const void *buf, size_t len, uint64_t off)
{
	uint64_t bs = 1ull << ns->lba_shift;
	int rc;

	if (len == 0)
		return 0;
	len = hd_ns_clamp(ns, len, off);
	if (len == 0)
		return -ENOSPC;
	if (off % bs == 0 && len % bs == 0)
		rc = rw_blocks(ns, true, (void *)buf, off >> ns->lba_shift, len >> ns->lba_shift);
	else
		rc = write_partial(ns, buf, len, off);
	return rc != 0 ? rc : (ssize_t)len;
}

/*
 * Applies fn to the whole blocks inside [off, off+len) and zeroes the
 * partial blocks at either end by read-modify-write.
 */
static int
block_range(struct hd_namespace *ns, uint64_t off, uint64_t len,
    int (*fn)(struct hd_namespace *, uint64_t slba, uint64_t nlb))
{
	uint64_t bs = 1ull << ns->lba_shift, size = hd_ns_size(ns);
	uint64_t first, last;
	int rc = 0;

	if (off >= size)
		return 0;
	if (len > size - off)
		len = size - off;
	first = (off + bs - 1) & ~(bs - 1);
	last = (off + len) & ~(bs - 1);
	if (first >= last)
		return write_partial(ns, NULL, len, off);
	if (off < first)
		rc = write_partial(ns, NULL, first - off, off);
	if (rc == 0)
		rc = fn(ns, first >> ns->lba_shift, (last - first) >> ns->lba_shift);
	if (rc == 0 && off + len > last)
		rc = write_partial(ns, NULL, off + len - last, last);
	return rc;
}

static int
deallocate_blocks(struct hd_namespace *ns, uint64_t slba, uint64_t nlb)
{
	struct nvme_dsm_range range = { 0 };
	struct hd_cmd cmd;
	int rc = 0;

	while (nlb > 0 && rc == 0) {
		uint32_t n = nlb > 0xffffffffu ? 0xffffffffu : (uint32_t)nlb;

		memset(&cmd, 0, sizeof(cmd));
		range.slba = slba;
		range.nlb = n;
		cmd.sqe.opc = NVME_IO_DATASET_MANAGEMENT;
		cmd.sqe.nsid = ns->nsid;
		cmd.sqe.cdw10 = 0;			/* one range */
		cmd.sqe.cdw11 = NVME_DSM_ATTR_DEALLOCATE;
		cmd.buf = &range;
		cmd.len = sizeof(range);
		cmd.to_controller = true;
		rc = run_cmds(ns, &cmd, 1);
		slba += n;
		nlb -= n;
	}
	return rc;
}

static int
zero_blocks(struct hd_namespace *ns, uint64_t slba, uint64_t nlb)
{
	struct hd_cmd cmd;
	int rc = 0;

	while (nlb > 0 && rc == 0) {
		uint32_t n = nlb > MAX_NLB ? MAX_NLB : (uint32_t)nlb;

		memset(&cmd, 0, sizeof(cmd));
		nvmf_cmd_rw(&cmd.sqe, NVME_IO_WRITE_ZEROES, ns->nsid, slba, n);
		rc = run_cmds(ns, &cmd, 1);
		slba += n;
		nlb -= n;
	}
	return rc;
}

int
hd_ns_deallocate(struct hd_namespace *ns, uint64_t off, uint64_t len)
{
	return block_range(ns, off, len, deallocate_blocks);
}

int
hd_ns_write_zeroes(struct hd_namespace *ns, uint64_t off, uint64_t len)
{
	return block_range(ns, off, len, zero_blocks);
}
