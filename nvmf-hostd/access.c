/* SPDX-License-Identifier: BSD-2-Clause
 * Copyright (c) 2026 The nvmf developers */
/*
 * access.c - who may use what nvmf-hostd offers. The namespace files are
 * owned and moded like block devices (root:disk 0660 unless --owner,
 * --group and --mode say otherwise) and the kernel enforces that (FUSE
 * default_permissions); the sockets are for root and hostd's own user.
 */
#include <errno.h>
#include <grp.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "decimal.h"
#include "hostd.h"

/* The usual number of the "disk" group (Debian, Fedora, Alpine, ...). */
#define DISK_GID_USUAL	6

struct hd_access hd_access = { .uid = 0, .gid = 0, .mode = 0660 };

/* As chown(1): a name first, then a number. */
int
hd_access_owner(const char *arg, char *err, size_t errlen)
{
	struct passwd *pw = arg[0] != '\0' ? getpwnam(arg) : NULL;
	uint64_t id;

	/* A number below (uid_t)-1, which means "none". */
	if (pw != NULL)
		hd_access.uid = pw->pw_uid;
	else if (decimal_parse(arg, (uint64_t)(uid_t)-1 - 1, &id) == 0)
		hd_access.uid = (uid_t)id;
	else {
		snprintf(err, errlen, "--owner: no user named '%s' (a user name or a UID)", arg);
		return -1;
	}
	return 0;
}

int
hd_access_group(const char *arg, char *err, size_t errlen)
{
	if (!group_lookup(arg, &hd_access.gid)) {
		snprintf(err, errlen, "--group: no group named '%s' (a group name or a GID)", arg);
		return -1;
	}
	return 0;
}

/* Permission bits in octal, as chmod takes them; no setuid, setgid or sticky. */
int
hd_access_mode(const char *arg, char *err, size_t errlen)
{
	size_t len = strlen(arg);
	unsigned long m;

	if (len == 0 || len > 4 || strspn(arg, "01234567") != len ||
	    (m = strtoul(arg, NULL, 8)) > 0777) {
		snprintf(err, errlen, "--mode: '%s' is not an octal mode from 0000 to 0777 "
		    "(e.g. 0660)", arg);
		return -1;
	}
	hd_access.mode = (mode_t)m;
	return 0;
}

/*
 * The "disk" group by name. Without one, gid 6 (its usual number) only while
 * no other group holds it; else root's group: never hand the disks to a
 * stranger's group.
 */
void
hd_access_default_group(void)
{
	struct group *gr = getgrnam("disk");

	if (gr != NULL)
		hd_access.gid = gr->gr_gid;
	else if (getgrgid(DISK_GID_USUAL) == NULL)
		hd_access.gid = DISK_GID_USUAL;
	else
		hd_access.gid = 0;
}

/* dev/ opens for exactly the classes the files are open to, read and search only. */
mode_t
hd_access_dir_mode(void)
{
	mode_t m = 0700;

	if (hd_access.mode & 0070)
		m |= 0050;
	if (hd_access.mode & 0007)
		m |= 0005;
	return m;
}

bool
hd_peer_allowed(int fd)
{
	struct ucred cred;
	socklen_t len = sizeof(cred);

	if (getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &cred, &len) != 0)
		return false;
	return cred.uid == 0 || cred.uid == geteuid();
}
