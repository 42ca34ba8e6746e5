/* SPDX-License-Identifier: BSD-2-Clause
 * Copyright (c) 2026 The nvmf developers */
/*
 * nullfuse.c - make bench's FUSE floor: one file, MOUNTPOINT/null, of
 * SIZE_MIB MiB, whose reads are answered from one buffer in memory and
 * whose writes are taken and dropped, over libfuse3's low-level API with
 * the options of nvmf-hostd's namespace files (nvmf-hostd/fuse_fs.c):
 * direct_io, async DIO, 1 MiB reads and writes, the multi-threaded loop.
 * What fio gets from it is what FUSE costs, with no storage behind it.
 *
 *   nullfuse MOUNTPOINT [SIZE_MIB]     runs until SIGTERM or SIGINT
 */
#define FUSE_USE_VERSION 35
#include <errno.h>
#include <fuse_lowlevel.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define FILE_INO	2
#define FILE_NAME	"null"
#define MAX_IO		(1u << 20)	/* as nvmf-hostd asks: 1 MiB per request */

static uint64_t file_size;
static char *data;			/* MAX_IO bytes every read answers from */

static void
file_attr(fuse_ino_t ino, struct stat *st)
{
	memset(st, 0, sizeof(*st));
	st->st_ino = ino;
	if (ino == FUSE_ROOT_ID) {
		st->st_mode = S_IFDIR | 0755;
		st->st_nlink = 2;
	} else {
		st->st_mode = S_IFREG | 0666;
		st->st_nlink = 1;
		st->st_size = (off_t)file_size;
		st->st_blksize = 4096;
		st->st_blocks = (blkcnt_t)(file_size / 512);
	}
}

static void
null_lookup(fuse_req_t req, fuse_ino_t parent, const char *name)
{
	struct fuse_entry_param e;

	if (parent != FUSE_ROOT_ID || strcmp(name, FILE_NAME) != 0) {
		fuse_reply_err(req, ENOENT);
		return;
	}
	memset(&e, 0, sizeof(e));
	e.ino = FILE_INO;
	e.attr_timeout = 1;
	e.entry_timeout = 1;
	file_attr(FILE_INO, &e.attr);
	fuse_reply_entry(req, &e);
}

static void
null_getattr(fuse_req_t req, fuse_ino_t ino, struct fuse_file_info *fi)
{
	struct stat st;

	(void)fi;
	if (ino != FUSE_ROOT_ID && ino != FILE_INO) {
		fuse_reply_err(req, ENOENT);
		return;
	}
	file_attr(ino, &st);
	fuse_reply_attr(req, &st, 1);
}

static void
null_open(fuse_req_t req, fuse_ino_t ino, struct fuse_file_info *fi)
{
	if (ino != FILE_INO) {
		fuse_reply_err(req, EISDIR);
		return;
	}
	fi->direct_io = 1;
	fi->keep_cache = 0;
	fuse_reply_open(req, fi);
}

static void
null_read(fuse_req_t req, fuse_ino_t ino, size_t size, off_t off,
    struct fuse_file_info *fi)
{
	(void)ino;
	(void)fi;
	if ((uint64_t)off >= file_size)
		size = 0;
	else if ((uint64_t)off + size > file_size)
		size = (size_t)(file_size - (uint64_t)off);
	if (size > MAX_IO)
		size = MAX_IO;
	fuse_reply_buf(req, data, size);
}

static void
null_write(fuse_req_t req, fuse_ino_t ino, const char *buf, size_t size, off_t off,
    struct fuse_file_info *fi)
{
	(void)ino;
	(void)buf;
	(void)off;
	(void)fi;
	fuse_reply_write(req, size);
}

static void
null_init(void *userdata, struct fuse_conn_info *conn)
{
	(void)userdata;
	conn->max_read = MAX_IO;
	if (conn->max_write < MAX_IO)
		conn->max_write = MAX_IO;
	conn->max_background = 64;
	if (conn->capable & FUSE_CAP_ASYNC_DIO)
		conn->want |= FUSE_CAP_ASYNC_DIO;
}

static const struct fuse_lowlevel_ops null_ops = {
	.init = null_init,
	.lookup = null_lookup,
	.getattr = null_getattr,
	.open = null_open,
	.read = null_read,
	.write = null_write,
};

int
main(int argc, char **argv)
{
	char *fargv[] = { argv[0], "-o", "fsname=nullfuse,subtype=nullfuse,max_read=1048576",
	    NULL };
	struct fuse_args args = FUSE_ARGS_INIT(3, fargv);
	struct fuse_loop_config cfg = { .clone_fd = 0, .max_idle_threads = 16 };
	struct fuse_session *se;
	int rc;

	if (argc < 2 || argc > 3) {
		fprintf(stderr, "usage: nullfuse MOUNTPOINT [SIZE_MIB]\n");
		return 2;
	}
	file_size = (uint64_t)(argc == 3 ? strtoull(argv[2], NULL, 10) : 1024) << 20;
	if (file_size == 0) {
		fprintf(stderr, "nullfuse: SIZE_MIB must be a positive number\n");
		return 2;
	}
	data = malloc(MAX_IO);
	if (data == NULL)
		return 1;
	memset(data, 0x5a, MAX_IO);
	se = fuse_session_new(&args, &null_ops, sizeof(null_ops), NULL);
	fuse_opt_free_args(&args);
	if (se == NULL) {
		fprintf(stderr, "nullfuse: cannot start FUSE\n");
		return 1;
	}
	if (fuse_set_signal_handlers(se) != 0 || fuse_session_mount(se, argv[1]) != 0) {
		fprintf(stderr, "nullfuse: cannot mount on %s\n", argv[1]);
		fuse_session_destroy(se);
		return 1;
	}
	rc = fuse_session_loop_mt(se, &cfg);
	fuse_session_unmount(se);
	fuse_remove_signal_handlers(se);
	fuse_session_destroy(se);
	free(data);
	return rc == 0 ? 0 : 1;
}
