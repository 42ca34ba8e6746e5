/* SPDX-License-Identifier: BSD-2-Clause
 * Copyright (c) 2026 The nvmf developers */
/*
 * fuse_fs.c - the namespaces as files: $rundir/dev/nvmeXnsY, served by
 * libfuse3's low-level API, requests read by the event loop (fuse_dispatch.c).
 * Every read and write goes to
 * the controller (direct I/O, no page cache), fsync is Flush, fallocate
 * punch-hole is Dataset Management and zero-range is Write Zeroes. Owner,
 * group and mode are those of access.c, and the kernel checks them
 * (default_permissions): hostd itself serves whoever the kernel lets in.
 */
#define FUSE_USE_VERSION 35
#include <errno.h>
#include <fcntl.h>
#include <fuse_lowlevel.h>
#include <linux/falloc.h>
#include <linux/fuse.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <time.h>
#include <unistd.h>

#include "hostd.h"

static struct fuse_session *session;
static bool fuse_running;
static char mount_path[4200];
static long conn_id = -1;		/* fusectl's name for our connection */

/*
 * An open namespace file: its reference to the namespace. Kept on a list so
 * that files still open when hostd stops (no RELEASE will come) give their
 * references back.
 */
struct open_file {
	struct open_file *prev, *next;	/* open_lock */
	struct hd_namespace *ns;
};

static pthread_mutex_t open_lock = PTHREAD_MUTEX_INITIALIZER;
static struct open_file *open_files;

static void
ns_attr(const struct hd_namespace *ns, struct stat *st)
{
	memset(st, 0, sizeof(*st));
	st->st_ino = ns->ino;
	st->st_mode = S_IFREG | hd_access.mode;
	st->st_uid = hd_access.uid;
	st->st_gid = hd_access.gid;
	st->st_nlink = 1;
	st->st_size = (off_t)hd_ns_size(ns);
	st->st_blksize = 1 << ns->lba_shift;
	st->st_blocks = (blkcnt_t)(hd_ns_size(ns) / 512);
	st->st_atim = st->st_mtim = st->st_ctim = ns->appeared;
}

static void
root_attr(struct stat *st)
{
	memset(st, 0, sizeof(*st));
	st->st_ino = FUSE_ROOT_ID;
	st->st_mode = S_IFDIR | hd_access_dir_mode();
	st->st_uid = hd_access.uid;
	st->st_gid = hd_access.gid;
	st->st_nlink = 2;
	hd_ns_dir_time(&st->st_mtim);
	st->st_atim = st->st_ctim = st->st_mtim;
}

static void
fs_lookup(fuse_req_t req, fuse_ino_t parent, const char *name)
{
	struct fuse_entry_param e;
	struct hd_namespace *ns;

	if (parent != FUSE_ROOT_ID || (ns = hd_ns_lookup_name(name)) == NULL) {
		fuse_reply_err(req, ENOENT);
		return;
	}
	memset(&e, 0, sizeof(e));
	e.ino = ns->ino;
	e.generation = 1;
	ns_attr(ns, &e.attr);
	/* No caching of names or sizes: namespaces come and go with controllers. */
	e.attr_timeout = 0;
	e.entry_timeout = 0;
	hd_ns_put(ns);
	fuse_reply_entry(req, &e);
}

static void
fs_getattr(fuse_req_t req, fuse_ino_t ino, struct fuse_file_info *fi)
{
	struct hd_namespace *ns;
	struct stat st;

	(void)fi;
	if (ino == FUSE_ROOT_ID) {
		root_attr(&st);
		fuse_reply_attr(req, &st, 0);
		return;
	}
	ns = hd_ns_lookup_ino(ino);
	if (ns == NULL) {
		fuse_reply_err(req, ENOENT);
		return;
	}
	ns_attr(ns, &st);
	hd_ns_put(ns);
	fuse_reply_attr(req, &st, 0);
}

static void
fs_setattr(fuse_req_t req, fuse_ino_t ino, struct stat *attr, int to_set,
    struct fuse_file_info *fi)
{
	struct hd_namespace *ns = hd_ns_lookup_ino(ino);
	struct stat st;

	(void)fi;
	if (ns == NULL) {
		fuse_reply_err(req, ENOENT);
		return;
	}
	ns_attr(ns, &st);
	hd_ns_put(ns);
	/* A namespace's size is the controller's to set, its owner and mode
	 * hostd's options; times are not kept. */
	if ((to_set & FUSE_SET_ATTR_SIZE) && attr->st_size != st.st_size) {
		fuse_reply_err(req, EPERM);
		return;
	}
	if (to_set & (FUSE_SET_ATTR_MODE | FUSE_SET_ATTR_UID | FUSE_SET_ATTR_GID)) {
		fuse_reply_err(req, EPERM);
		return;
	}
	fuse_reply_attr(req, &st, 0);
}

static void
fs_readdir(fuse_req_t req, fuse_ino_t ino, size_t size, off_t off,
    struct fuse_file_info *fi)
{
	char (*names)[32];
	uint64_t *inos;
	unsigned n, total;
	char *buf;
	size_t used = 0;

	(void)fi;
	if (ino != FUSE_ROOT_ID) {
		fuse_reply_err(req, ENOTDIR);
		return;
	}
	total = hd_ns_names(&names, &inos);
	buf = calloc(1, size);
	if (buf == NULL) {
		free(names);
		free(inos);
		fuse_reply_err(req, ENOMEM);
		return;
	}
	/* Entries 0 and 1 are "." and ".."; namespaces follow. */
	for (n = (unsigned)off; n < total + 2; n++) {
		struct stat st = { .st_mode = S_IFREG };
		const char *name = n == 0 ? "." : n == 1 ? ".." : names[n - 2];
		size_t len;

		if (n < 2)
			st.st_mode = S_IFDIR;
		st.st_ino = n < 2 ? FUSE_ROOT_ID : inos[n - 2];
		len = fuse_add_direntry(req, buf + used, size - used, name, &st, n + 1);
		if (len > size - used)
			break;
		used += len;
	}
	fuse_reply_buf(req, buf, used);
	free(buf);
	free(names);
	free(inos);
}

static void
file_close(struct open_file *of)
{
	pthread_mutex_lock(&open_lock);
	if (of->prev != NULL)
		of->prev->next = of->next;
	else
		open_files = of->next;
	if (of->next != NULL)
		of->next->prev = of->prev;
	pthread_mutex_unlock(&open_lock);
	hd_ns_put(of->ns);
	free(of);
}

static void
fs_open(fuse_req_t req, fuse_ino_t ino, struct fuse_file_info *fi)
{
	struct hd_namespace *ns = hd_ns_lookup_ino(ino);
	struct fuse_open_out out = { 0 };
	struct iovec iov = { .iov_base = &out, .iov_len = sizeof(out) };
	struct open_file *of;

	if (ns == NULL) {
		fuse_reply_err(req, ENOENT);
		return;
	}
	/* As a block device: O_TRUNC changes nothing, appending makes no sense. */
	if (fi->flags & O_APPEND) {
		hd_ns_put(ns);
		fuse_reply_err(req, EINVAL);
		return;
	}
	of = calloc(1, sizeof(*of));
	if (of == NULL) {
		hd_ns_put(ns);
		fuse_reply_err(req, ENOMEM);
		return;
	}
	of->ns = ns;			/* the open file keeps its reference */
	pthread_mutex_lock(&open_lock);
	of->next = open_files;
	if (open_files != NULL)
		open_files->prev = of;
	open_files = of;
	pthread_mutex_unlock(&open_lock);
	/*
	 * The reply is built here, not by fuse_reply_open: libfuse 3.14 cannot
	 * ask for parallel direct writes, and without them the kernel holds
	 * the file's inode lock across each direct write, so writers on
	 * several threads went one at a time (measured: fio psync x8 4 KiB
	 * randwrite, 12.3 k IOPS at 647 us each).
	 */
	out.fh = (uint64_t)(uintptr_t)of;
	out.open_flags = FOPEN_DIRECT_IO | FOPEN_PARALLEL_DIRECT_WRITES;
	if (fuse_reply_iov(req, &iov, 1) != 0)
		file_close(of);
}

static struct hd_namespace *
file_ns(struct fuse_file_info *fi)
{
	return ((struct open_file *)(uintptr_t)fi->fh)->ns;
}

static void
fs_release(fuse_req_t req, fuse_ino_t ino, struct fuse_file_info *fi)
{
	(void)ino;
	file_close((struct open_file *)(uintptr_t)fi->fh);
	fuse_reply_err(req, 0);
}

/*
 * Reads, writes and fsync are taken by the loop and answered from their
 * completion (libfuse's replies may come from any thread): nothing waits.
 */
static void
reply_data(void *arg, ssize_t result, const void *data)
{
	if (result < 0)
		fuse_reply_err(arg, (int)-result);
	else
		fuse_reply_buf(arg, data, (size_t)result);
}

static void
reply_written(void *arg, ssize_t result, const void *data)
{
	(void)data;
	if (result < 0)
		fuse_reply_err(arg, (int)-result);
	else
		fuse_reply_write(arg, (size_t)result);
}

static void
reply_status(void *arg, ssize_t result, const void *data)
{
	(void)data;
	fuse_reply_err(arg, result < 0 ? (int)-result : 0);
}

static void
fs_read(fuse_req_t req, fuse_ino_t ino, size_t size, off_t off, struct fuse_file_info *fi)
{
	(void)ino;
	hd_io_read(file_ns(fi), size, (uint64_t)off, reply_data, req);
}

/* A write that must wait (partial blocks), taken off the loop. */
struct slow_write {
	fuse_req_t req;
	struct hd_namespace *ns;
	uint64_t off;
	size_t size;
	char data[];
};

static void
slow_write_run(void *arg)
{
	struct slow_write *w = arg;

	hd_io_write(w->ns, w->data, w->size, w->off, reply_written, w->req);
	free(w);
}

static void
fs_write(fuse_req_t req, fuse_ino_t ino, const char *buf, size_t size, off_t off,
    struct fuse_file_info *fi)
{
	struct hd_namespace *ns = file_ns(fi);
	struct slow_write *w;

	(void)ino;
	if (!hd_loop_on_loop() || hd_io_write_async(ns, size, (uint64_t)off)) {
		hd_io_write(ns, buf, size, (uint64_t)off, reply_written, req);
		return;
	}
	/* The loop's buffer is reused at once: the bytes go with the job. */
	w = malloc(sizeof(*w) + size);
	if (w == NULL) {
		fuse_reply_err(req, ENOMEM);
		return;
	}
	*w = (struct slow_write){ .req = req, .ns = ns, .off = (uint64_t)off, .size = size };
	memcpy(w->data, buf, size);
	if (hd_fuse_defer(slow_write_run, w) != 0) {
		free(w);
		fuse_reply_err(req, EAGAIN);
	}
}

static void
fs_fsync(fuse_req_t req, fuse_ino_t ino, int datasync, struct fuse_file_info *fi)
{
	(void)ino;
	(void)datasync;
	hd_io_flush(file_ns(fi), reply_status, req);
}

static void
fs_flush(fuse_req_t req, fuse_ino_t ino, struct fuse_file_info *fi)
{
	(void)ino;
	(void)fi;
	fuse_reply_err(req, 0);		/* close(2): writes are already with the controller */
}

static void
fs_fallocate(fuse_req_t req, fuse_ino_t ino, int mode, off_t off, off_t len,
    struct fuse_file_info *fi)
{
	struct hd_namespace *ns = file_ns(fi);
	int rc;

	(void)ino;
	if (ns->gone) {
		fuse_reply_err(req, ENODEV);
		return;
	}
	if (off < 0 || len <= 0) {
		fuse_reply_err(req, EINVAL);
		return;
	}
	if (mode == (FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE))
		rc = hd_ns_deallocate(ns, (uint64_t)off, (uint64_t)len);
	else if (mode == FALLOC_FL_ZERO_RANGE ||
	    mode == (FALLOC_FL_ZERO_RANGE | FALLOC_FL_KEEP_SIZE))
		rc = hd_ns_write_zeroes(ns, (uint64_t)off, (uint64_t)len);
	else if (mode == 0 || mode == FALLOC_FL_KEEP_SIZE)
		/* Every block of a namespace is there already; beyond its end is not. */
		rc = (uint64_t)off + (uint64_t)len > hd_ns_size(ns) && mode == 0 ? -ENOSPC : 0;
	else
		rc = -EOPNOTSUPP;
	fuse_reply_err(req, -rc);
}

static void
fs_statfs(fuse_req_t req, fuse_ino_t ino)
{
	struct statvfs sv = { .f_bsize = 4096, .f_frsize = 4096, .f_namemax = 31 };

	(void)ino;
	fuse_reply_statfs(req, &sv);
}

static void
fs_init(void *userdata, struct fuse_conn_info *conn)
{
	(void)userdata;
	/* Large transfers in one request: MDTS splitting happens below us. */
	conn->max_read = 1u << 20;
	if (conn->max_write < (1u << 20))
		conn->max_write = 1u << 20;
	/*
	 * Async direct I/O is background requests to the kernel: past this many
	 * a process's I/O waits in the kernel. hostd answers from completions,
	 * so the queue pairs, not FUSE, should bound what is in flight.
	 */
	conn->max_background = 256;
	conn->congestion_threshold = 192;
	if (conn->capable & FUSE_CAP_ASYNC_DIO)
		conn->want |= FUSE_CAP_ASYNC_DIO;	/* O_DIRECT I/O in parallel */
	/* O_TRUNC arrives with open, where it is ignored, not as a size change. */
	if (conn->capable & FUSE_CAP_ATOMIC_O_TRUNC)
		conn->want |= FUSE_CAP_ATOMIC_O_TRUNC;
}

static const struct fuse_lowlevel_ops fs_ops = {
	.init = fs_init,
	.lookup = fs_lookup,
	.getattr = fs_getattr,
	.setattr = fs_setattr,
	.readdir = fs_readdir,
	.open = fs_open,
	.release = fs_release,
	.read = fs_read,
	.write = fs_write,
	.flush = fs_flush,
	.fsync = fs_fsync,
	.fallocate = fs_fallocate,
	.statfs = fs_statfs,
};

/*
 * The FUSE connection's number, as fusectl names it: the mount's device,
 * read from mountinfo (a stat of the mount would be a request to ourselves).
 */
static long
connection_id(void)
{
	unsigned dev_major, dev_minor;
	long id = -1;
	char line[8192], point[4200];
	FILE *f = fopen("/proc/self/mountinfo", "re");

	if (f == NULL)
		return -1;
	/* "ID PARENT MAJOR:MINOR ROOT MOUNTPOINT ...": the last mount there wins. */
	while (fgets(line, sizeof(line), f) != NULL)
		if (sscanf(line, "%*u %*u %u:%u %*s %4199s", &dev_major, &dev_minor, point) == 3 &&
		    strcmp(point, mount_path) == 0)
			id = (long)(dev_major << 20 | dev_minor);
	fclose(f);
	return id;
}

static void
abort_connection(long id)
{
	char path[64];
	int fd;

	snprintf(path, sizeof(path), "/sys/fs/fuse/connections/%ld/abort", id);
	fd = open(path, O_WRONLY | O_CLOEXEC);
	if (fd < 0)
		return;		/* fusectl not mounted: the join's timeout covers it */
	if (write(fd, "1", 1) != 1)
		daemon_log(LOG_WARNING, "%s: %s", path, strerror(errno));
	close(fd);
}

/* Whether the FUSE connection ended (unmounted everywhere, or aborted). */
static bool
connection_ended(int timeout_ms)
{
	struct pollfd p = { .fd = fuse_session_fd(session), .events = POLLIN };
	uint64_t deadline = hd_now_ms() + (uint64_t)timeout_ms;

	/* A live connection polls writable, and readable with requests; a dead one errs. */
	do {
		if (poll(&p, 1, 50) > 0 && (p.revents & (POLLERR | POLLHUP | POLLNVAL)))
			return true;
		if (p.revents & POLLIN)
			usleep(50000);	/* requests nobody will read: do not spin */
	} while (hd_now_ms() < deadline);
	return false;
}

int
hd_fuse_start(const char *mountpoint, char *err, size_t errlen)
{
	/* allow_other lets the files' group in at all; default_permissions has the
	 * kernel hold everyone to their owner, group and mode. */
	char *argv[] = { "nvmf-hostd", "-o", "fsname=nvmf,subtype=nvmf,allow_other,"
	    "default_permissions,max_read=1048576", NULL };
	struct fuse_args args = FUSE_ARGS_INIT(3, argv);

	struct timespec started;

	snprintf(mount_path, sizeof(mount_path), "%s", mountpoint);
	hd_ns_dir_time(&started);	/* dev/ dates from now until a file comes or goes */
	/* A hostd killed earlier leaves a dead mount behind: clear it. */
	umount2(mountpoint, MNT_DETACH);
	/* Private underneath: the mount's root (root_attr) says who gets in. */
	if (mkdir(mountpoint, 0700) != 0 && errno != EEXIST) {
		snprintf(err, errlen, "%s: %s", mountpoint, strerror(errno));
		return -1;
	}
	session = fuse_session_new(&args, &fs_ops, sizeof(fs_ops), NULL);
	fuse_opt_free_args(&args);	/* the session keeps copies of what it parsed */
	if (session == NULL) {
		snprintf(err, errlen, "cannot start FUSE (is /dev/fuse there?)");
		return -1;
	}
	if (fuse_session_mount(session, mountpoint) != 0) {
		snprintf(err, errlen, "cannot mount FUSE on %s (needs /dev/fuse and "
		    "CAP_SYS_ADMIN)", mountpoint);
		fuse_session_destroy(session);
		session = NULL;
		return -1;
	}
	conn_id = connection_id();
	if (hd_fuse_dispatch_start(session, err, errlen) != 0) {
		fuse_session_unmount(session);
		fuse_session_destroy(session);
		session = NULL;
		return -1;
	}
	fuse_running = true;
	return 0;
}

void
hd_fuse_forget_name(const char *name)
{
	/* Drops a removed file from the kernel's caches right away. */
	if (session != NULL)
		fuse_lowlevel_notify_inval_entry(session, FUSE_ROOT_ID, name, strlen(name));
}

void
hd_fuse_stop(void)
{
	bool ended;

	if (session == NULL)
		return;
	fuse_session_exit(session);
	/*
	 * Unmounting ends the connection when nothing else holds the mount.
	 * A mount namespace created since (ip netns exec, a container) keeps a
	 * copy of the mount alive, so the connection is also aborted through
	 * fusectl where it is mounted; where it is not, it is waited for a
	 * while and then left to the exit, whose closing of /dev/fuse ends it
	 * everywhere. The loop stops reading requests either way, and the
	 * workers finish theirs.
	 */
	if (umount2(mount_path, MNT_DETACH) != 0)
		daemon_log(LOG_WARNING, "%s: unmount: %s", mount_path, strerror(errno));
	if (conn_id >= 0)
		abort_connection(conn_id);
	ended = fuse_running && connection_ended(3000);
	if (fuse_running && !hd_fuse_dispatch_stop(3000)) {
		daemon_log(LOG_ERR, "FUSE requests still being served at exit");
		session = NULL;
		return;
	}
	if (fuse_running && !ended) {
		daemon_log(LOG_WARNING, "%s: the mount lives on in another mount namespace; "
		    "its FUSE connection ends when nvmf-hostd exits", mount_path);
		session = NULL;
		return;
	}
	/*
	 * Requests still with the loop reply through the session: it stays
	 * until they are done (every controller is gone by now, so they end
	 * soon). Should one not, the session is left rather than freed under it.
	 */
	if (!hd_io_drain(10000)) {
		daemon_log(LOG_ERR, "FUSE requests still unanswered at exit");
		session = NULL;
		return;
	}
	fuse_session_unmount(session);
	fuse_session_destroy(session);
	session = NULL;
	rmdir(mount_path);
	/* Files still open: the connection is gone, no RELEASE will come for them. */
	while (open_files != NULL)
		file_close(open_files);
}
