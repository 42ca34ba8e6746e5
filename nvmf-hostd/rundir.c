/* SPDX-License-Identifier: BSD-2-Clause
 * Copyright (c) 2026 The nvmf developers */
/*
 * rundir.c - the run directory: created if missing (0755, so that the users
 * the namespace files are for can reach dev/), and locked so that a second
 * nvmf-hostd on the same directory refuses to start. A directory that is
 * there already keeps its mode: it is its owner's choice.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include "hostd.h"

const char *
hd_rundir_default(void)
{
	const char *env = getenv("NVMF_RUNDIR");

	return env != NULL && *env != '\0' ? env : "/run/nvmf";
}

/* mkdir 0755 whatever the umask; 0 also when it exists. */
static int
mkdir_0755(const char *dir)
{
	if (mkdir(dir, 0755) != 0)
		return errno == EEXIST ? 0 : -1;
	return chmod(dir, 0755);
}

static int
mkdirs(const char *path)
{
	char tmp[4096];

	snprintf(tmp, sizeof(tmp), "%s", path);
	for (char *p = tmp + 1; *p != '\0'; p++) {
		if (*p != '/')
			continue;
		*p = '\0';
		if (mkdir_0755(tmp) != 0)
			return -1;
		*p = '/';
	}
	return mkdir_0755(tmp);
}

int
hd_rundir_open(struct hd_rundir *rd, const char *path, char *err, size_t errlen)
{
	char pid[32];
	ssize_t n;

	if (strlen(path) >= sizeof(rd->path) - 32) {
		snprintf(err, errlen, "%s: run directory path too long", path);
		return -1;
	}
	snprintf(rd->path, sizeof(rd->path), "%s", path);
	snprintf(rd->sock, sizeof(rd->sock), "%s/nvmf.sock", path);
	snprintf(rd->dev, sizeof(rd->dev), "%s/dev", path);
	snprintf(rd->devctl, sizeof(rd->devctl), "%s/devctl", path);
	snprintf(rd->pidfile, sizeof(rd->pidfile), "%s/nvmf-hostd.pid", path);
	if (mkdirs(path) != 0) {
		snprintf(err, errlen, "%s: %s", path, strerror(errno));
		return -1;
	}
	rd->lock_fd = open(rd->pidfile, O_RDWR | O_CREAT | O_CLOEXEC, 0644);
	if (rd->lock_fd < 0 || fchmod(rd->lock_fd, 0644) != 0) {
		snprintf(err, errlen, "%s: %s", rd->pidfile, strerror(errno));
		return -1;
	}
	if (flock(rd->lock_fd, LOCK_EX | LOCK_NB) != 0) {
		n = pread(rd->lock_fd, pid, sizeof(pid) - 1, 0);
		pid[n > 0 ? n : 0] = '\0';
		pid[strcspn(pid, "\n")] = '\0';
		snprintf(err, errlen, "%s: another nvmf-hostd%s%s is using this run directory",
		    path, pid[0] ? " (pid " : "", pid[0] ? strcat(pid, ")") : "");
		close(rd->lock_fd);
		rd->lock_fd = -1;
		return -1;
	}
	return 0;
}

/* Records our pid once we are the process that stays (after detaching). */
void
hd_rundir_write_pid(struct hd_rundir *rd)
{
	char pid[32];
	int n = snprintf(pid, sizeof(pid), "%ld\n", (long)getpid());

	if (ftruncate(rd->lock_fd, 0) != 0 || pwrite(rd->lock_fd, pid, (size_t)n, 0) != n)
		daemon_log(LOG_WARNING, "%s: cannot record the pid", rd->pidfile);
}

void
hd_rundir_close(struct hd_rundir *rd)
{
	unlink(rd->sock);
	unlink(rd->pidfile);
	if (rd->lock_fd >= 0)
		close(rd->lock_fd);
	rd->lock_fd = -1;
}
