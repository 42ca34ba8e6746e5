/* SPDX-License-Identifier: BSD-2-Clause
 * Copyright (c) 2026 The nvmf developers */
/*
 * state.c - what survives nvmf-hostd's own restart: one file per controller,
 * $rundir/state/nvmeN.json, { "version": 1, "name": "nvmeN", "controller":
 * { the kept parameters, ctrl_params.c's schema } }. Written atomically
 * (temporary file, fsync, rename, fsync of the directory) when a controller
 * is announced and when a reconnect changes its parameters; removed when it
 * is disconnected or detached; kept at an orderly exit, so that a restart
 * for an upgrade keeps the controllers as a crash does. At start-up each
 * file becomes a disconnected controller of the same name, which reconnects
 * through the rule as after any loss.
 *
 * Files are written from the control and task threads and at start-up,
 * never on the loop thread (fsync would stall every queue).
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <json-c/json.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "hostd.h"
#include "text.h"

#define STATE_VERSION	1
#define STATE_MAX	65536		/* bytes: a state file is a few hundred */
#define RESTORE_MAX	4096		/* files looked at in one start-up */

/*
 * Orders every save and removal: a disconnect's removal comes after any
 * save under way, and nothing is written once the controller's file is
 * gone or the daemon is stopping (frozen).
 */
static pthread_mutex_t state_lock = PTHREAD_MUTEX_INITIALIZER;
static bool frozen;			/* state_lock */
static char dir[4200];

static void
state_path(char *buf, size_t len, const char *name, const char *suffix)
{
	snprintf(buf, len, "%s/%s.json%s", dir, name, suffix);
}

static int
fsync_dir(void)
{
	int fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	int rc;

	if (fd < 0)
		return -1;
	rc = fsync(fd);
	close(fd);
	return rc;
}

/* Writes text to name.json atomically; 0, or -1 with err and no file touched. */
static int
write_atomic(const char *name, const char *text, char *err, size_t errlen)
{
	char tmp[4300], path[4300];
	size_t len = strlen(text), off = 0;
	int fd;

	state_path(tmp, sizeof(tmp), name, ".tmp");
	state_path(path, sizeof(path), name, "");
	fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	if (fd < 0) {
		snprintf(err, errlen, "%s: %s", tmp, strerror(errno));
		return -1;
	}
	while (off < len) {
		ssize_t n = write(fd, text + off, len - off);

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0) {
			snprintf(err, errlen, "%s: %s", tmp, n < 0 ? strerror(errno) : "short write");
			goto fail;
		}
		off += (size_t)n;
	}
	/* The data on disk before the name points at it: a crash leaves old or new. */
	if (fsync(fd) != 0) {
		snprintf(err, errlen, "%s: fsync: %s", tmp, strerror(errno));
		goto fail;
	}
	close(fd);
	fd = -1;
	if (rename(tmp, path) != 0) {
		snprintf(err, errlen, "%s: %s", path, strerror(errno));
		goto fail;
	}
	if (fsync_dir() != 0) {
		snprintf(err, errlen, "%s: fsync: %s", dir, strerror(errno));
		return -1;	/* renamed: the file is whole, only its durability is unsure */
	}
	return 0;
fail:
	if (fd >= 0)
		close(fd);
	unlink(tmp);
	return -1;
}

static char *
state_text(const char *name, const struct hd_ctrl_params *p)
{
	struct json_object *o = json_object_new_object(), *ctrl = json_object_new_object();
	char *text;

	hd_json_add_int(o, "version", STATE_VERSION);
	hd_json_add_str(o, "name", name);
	hd_params_write(ctrl, p);
	json_object_object_add(o, "controller", ctrl);
	text = strdup(json_object_to_json_string_ext(o, JSON_C_TO_STRING_PRETTY));
	json_object_put(o);
	return text;
}

void
hd_state_save(struct hd_ctrl *c)
{
	struct hd_ctrl_params p;
	char name[sizeof(c->name)], err[4800];
	bool going;
	char *text;

	pthread_mutex_lock(&state_lock);
	hd_registry_lock();
	going = c->disconnecting || c->state_dropped;
	p = c->params;
	memcpy(name, c->name, sizeof(name));
	hd_registry_unlock();
	if (frozen || going || dir[0] == '\0') {
		pthread_mutex_unlock(&state_lock);
		return;
	}
	text = state_text(name, &p);
	if (text == NULL)
		snprintf(err, sizeof(err), "out of memory");
	if (text == NULL || write_atomic(name, text, err, sizeof(err)) != 0)
		daemon_log(LOG_ERR, "%s: its state is not kept (a restart of nvmf-hostd will "
		    "forget it): %s", name, err);
	pthread_mutex_unlock(&state_lock);
	free(text);
}

void
hd_state_remove(struct hd_ctrl *c)
{
	char path[4300];

	pthread_mutex_lock(&state_lock);
	hd_registry_lock();
	c->state_dropped = true;
	hd_registry_unlock();
	if (!frozen && dir[0] != '\0') {
		state_path(path, sizeof(path), c->name, "");
		if (unlink(path) != 0 && errno != ENOENT)
			daemon_log(LOG_WARNING, "%s: %s", path, strerror(errno));
		else
			(void)fsync_dir();
	}
	pthread_mutex_unlock(&state_lock);
}

void
hd_state_freeze(void)
{
	pthread_mutex_lock(&state_lock);
	frozen = true;
	pthread_mutex_unlock(&state_lock);
}

void
hd_state_close(void)
{
	/* Empty, it goes with the sockets; with controllers kept, it stays. */
	if (dir[0] != '\0')
		(void)rmdir(dir);
}

/* ------------------------------------------------------------- restore */

/* A state file read and checked; ok false with why otherwise. */
struct entry {
	char file[256];
	char name[16];
	unsigned index;
	struct hd_ctrl_params params;
	bool canonical;			/* file is name.json */
	bool ok;
	char why[400];
};

static struct json_object *
read_json(const char *path, char *why, size_t whylen)
{
	struct json_tokener *tok;
	struct json_object *o;
	enum json_tokener_error e;
	char *buf = malloc(STATE_MAX + 1);
	ssize_t n;
	size_t end;
	int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);

	if (fd < 0 || buf == NULL) {
		snprintf(why, whylen, "%s", fd < 0 ? strerror(errno) : "out of memory");
		if (fd >= 0)
			close(fd);
		free(buf);
		return NULL;
	}
	n = read(fd, buf, STATE_MAX + 1);
	close(fd);
	if (n < 0 || n > STATE_MAX) {
		snprintf(why, whylen, "%s", n < 0 ? strerror(errno) : "larger than 64 KiB");
		free(buf);
		return NULL;
	}
	buf[n] = '\0';
	tok = json_tokener_new_ex(16);
	if (tok == NULL) {
		snprintf(why, whylen, "out of memory");
		free(buf);
		return NULL;
	}
	json_tokener_set_flags(tok, JSON_TOKENER_STRICT | JSON_TOKENER_VALIDATE_UTF8);
	o = json_tokener_parse_ex(tok, buf, (int)n + 1);
	e = json_tokener_get_error(tok);
	end = json_tokener_get_parse_end(tok);
	json_tokener_free(tok);
	free(buf);
	if (e != json_tokener_success) {
		snprintf(why, whylen, "not JSON: %s at byte %zu",
		    e == json_tokener_continue ? "it ends too early" : json_tokener_error_desc(e),
		    end);
		json_object_put(o);
		return NULL;
	}
	if (end < (size_t)n || o == NULL || !json_object_is_type(o, json_type_object)) {
		snprintf(why, whylen, "not one JSON object");
		json_object_put(o);
		return NULL;
	}
	return o;
}

/* "nvme<N>" as the registry names it (no sign, no leading zero); false if not. */
static bool
parse_name(const char *name, unsigned *index)
{
	char again[16];
	char *end;
	unsigned long v;

	if (strncmp(name, "nvme", 4) != 0 || name[4] < '0' || name[4] > '9')
		return false;
	errno = 0;
	v = strtoul(name + 4, &end, 10);
	if (errno != 0 || *end != '\0' || v > 65535)
		return false;
	snprintf(again, sizeof(again), "nvme%lu", v);
	*index = (unsigned)v;
	return strcmp(again, name) == 0;
}

static void
read_entry(struct entry *e)
{
	char path[4600];
	struct json_object *o;
	struct hd_jf top, jc;
	const char *name;
	int64_t version;

	snprintf(path, sizeof(path), "%s/%s", dir, e->file);
	o = read_json(path, e->why, sizeof(e->why));
	if (o == NULL)
		return;
	hd_jf_init(&top, o, "", e->why, sizeof(e->why));
	version = hd_jf_int(&top, "version", 0, INT32_MAX);
	if (hd_jf_ok(&top) && version != STATE_VERSION) {
		snprintf(e->why, sizeof(e->why), "unknown version %lld (this nvmf-hostd reads %d)",
		    (long long)version, STATE_VERSION);
		goto out;
	}
	name = hd_jf_str(&top, "name", sizeof(e->name) - 1);
	if (hd_jf_ok(&top) && !parse_name(name, &e->index))
		snprintf(e->why, sizeof(e->why), "\"name\" must be nvme<N>, not \"%s\"", name);
	snprintf(e->name, sizeof(e->name), "%s", name);
	if (hd_jf_object(&top, "controller", &jc))
		hd_params_read(&jc, &e->params);
	if (!hd_jf_ok(&top))
		goto out;
	snprintf(path, sizeof(path), "%s.json", e->name);
	e->canonical = strcmp(path, e->file) == 0;
	e->ok = true;
out:
	json_object_put(o);
}

static int
entry_order(const void *a, const void *b)
{
	const struct entry *x = a, *y = b;

	/* nvme0.json before a stray copy naming nvme0 too: the copy is the duplicate. */
	if (x->ok && y->ok && x->canonical != y->canonical)
		return x->canonical ? -1 : 1;
	return strcmp(x->file, y->file);
}

static void
move_aside(const struct entry *e)
{
	char path[4600], bad[4700];

	snprintf(path, sizeof(path), "%s/%s", dir, e->file);
	snprintf(bad, sizeof(bad), "%s.bad", path);
	if (rename(path, bad) != 0)
		snprintf(bad, sizeof(bad), "not moved aside: %s", strerror(errno));
	/* Values quoted from the file may hold newlines: one line. */
	{
		char why[sizeof(e->why)];

		snprintf(why, sizeof(why), "%s", e->why);
		text_one_line(why);
		daemon_log(LOG_ERR, "%s: %s: skipped (%s)", path, why, bad);
	}
}

static struct hd_ctrl *
restored_ctrl(const struct entry *e)
{
	struct hd_ctrl *c = calloc(1, sizeof(*c));

	if (c == NULL)
		return NULL;
	c->refs = 1;			/* the registry's */
	c->params = e->params;
	c->discovery = e->params.discovery;
	pthread_mutex_init(&c->scan_lock, NULL);
	c->state = HD_CTRL_DISCONNECTED;
	snprintf(c->lost_reason, sizeof(c->lost_reason), "nvmf-hostd restarted");
	return c;
}

/* The state files in the directory, read; *n of them. */
static struct entry *
read_dir(unsigned *n)
{
	struct entry *all = NULL;
	struct dirent *d;
	DIR *dp = opendir(dir);

	*n = 0;
	if (dp == NULL)
		return NULL;
	while ((d = readdir(dp)) != NULL && *n < RESTORE_MAX) {
		size_t len = strlen(d->d_name);
		struct entry *more;

		if (len > 9 && strcmp(d->d_name + len - 9, ".json.tmp") == 0) {
			/* A save a crash interrupted: the .json beside it is whole. */
			(void)unlinkat(dirfd(dp), d->d_name, 0);
			continue;
		}
		if (len <= 5 || strcmp(d->d_name + len - 5, ".json") != 0 ||
		    len >= sizeof(all->file) || d->d_name[0] == '.')
			continue;
		more = realloc(all, (*n + 1) * sizeof(*all));
		if (more == NULL)
			break;
		all = more;
		memset(&all[*n], 0, sizeof(all[*n]));
		snprintf(all[*n].file, sizeof(all[*n].file), "%s", d->d_name);
		read_entry(&all[*n]);
		(*n)++;
	}
	closedir(dp);
	if (all != NULL)	/* qsort of NULL is undefined, even for 0 entries */
		qsort(all, *n, sizeof(*all), entry_order);
	return all;
}

static unsigned nrestored;
static struct hd_ctrl **restored;

int
hd_state_restore(char *err, size_t errlen)
{
	struct entry *all;
	unsigned n;

	snprintf(dir, sizeof(dir), "%s/state", hd_rd.path);
	if (mkdir(dir, 0700) != 0 && errno != EEXIST) {
		snprintf(err, errlen, "%s: %s", dir, strerror(errno));
		return -1;
	}
	all = read_dir(&n);
	restored = n > 0 ? calloc(n, sizeof(*restored)) : NULL;
	for (unsigned i = 0; i < n; i++) {
		struct entry *e = &all[i];
		struct hd_ctrl *c;

		if (!e->ok) {
			move_aside(e);
			continue;
		}
		c = restored_ctrl(e);
		if (c == NULL || restored == NULL) {
			free(c);
			daemon_log(LOG_ERR, "%s/%s: out of memory: not restored", dir, e->file);
			continue;
		}
		/* Linked, not announced: the name is taken, nobody sees it yet. */
		if (!hd_registry_add_at(c, e->index)) {
			snprintf(e->why, sizeof(e->why), "names %s, as another state file does",
			    e->name);
			pthread_mutex_destroy(&c->scan_lock);
			free(c);
			move_aside(e);
			continue;
		}
		restored[nrestored++] = c;
		if (!e->canonical) {
			char path[4600];

			/* Kept under its own name from now on. */
			hd_state_save(c);
			snprintf(path, sizeof(path), "%s/%s", dir, e->file);
			unlink(path);
		}
		daemon_log(LOG_INFO, "%s: restored from %s/%s: %s at %s:%s", c->name, dir,
		    e->file, c->params.subnqn, c->params.traddr, c->params.trsvcid);
	}
	free(all);
	return 0;
}

/* Loop thread: the restored controllers are lost from now on, as any loss. */
static void
announce_on_loop(void *arg)
{
	uint64_t now = hd_now_ms();

	(void)arg;
	hd_registry_lock();
	for (unsigned i = 0; i < nrestored; i++) {
		struct hd_ctrl *c = restored[i];

		c->announced = true;
		c->lost_at_ms = now;
		c->next_event_ms = now;		/* RECONNECT at once (loss timers) */
	}
	hd_registry_unlock();
	for (unsigned i = 0; i < nrestored; i++)
		hd_event_raise("DISCONNECTED", restored[i]->name);
	hd_loop_timers_changed();
}

void
hd_state_announce(void)
{
	hd_loop_call(hd_loop, announce_on_loop, NULL);
	free(restored);
	restored = NULL;
	nrestored = 0;
}
