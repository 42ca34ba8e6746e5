/* SPDX-License-Identifier: BSD-2-Clause
 * Copyright (c) 2026 The nvmf developers */
/*
 * devd.h - nvmf-devd: the host's events in, devd.conf rules, actions out.
 */
#ifndef NVMF_DEVD_H
#define NVMF_DEVD_H

#include <regex.h>
#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

/* --------------------------------------------------------------- events */
#define EVENT_MAX_VARS	16
/* The longest event line, its newline aside: FreeBSD's devctl buffer less one. */
#define EVENT_LINE_MAX	1023

/* "!system=nvme subsystem=controller type=RECONNECT name=\"nvme0\"" */
struct event {
	char kind;			/* '!' notify, '+' attach, '-' detach, '?' nomatch */
	unsigned nvars;
	char *keys[EVENT_MAX_VARS];
	char *values[EVENT_MAX_VARS];
	char buf[EVENT_LINE_MAX + 1];	/* keys and values point in here */
};

/*
 * Parses one line (without its newline); 0 or -1 when it is not an event,
 * a line longer than EVENT_LINE_MAX included (never parsed cut short).
 */
int event_parse(const char *line, struct event *ev);
/* The value of key, or NULL. */
const char *event_get(const struct event *ev, const char *key);
/*
 * Copies cmd into out replacing $key (and ${key}) with the event's value,
 * shell-quoted, so that no value can inject a command; an unknown variable
 * becomes ''. Returns 0, or -1 when out is too small.
 */
int event_expand(const struct event *ev, const char *cmd, char *out, size_t outlen);

/* -------------------------------------------------------------- framing */
/*
 * The devctl stream cut into lines at newlines, and nothing else: a line
 * holding a NUL byte or longer than EVENT_LINE_MAX is refused whole, so no
 * part of it is ever taken for an event, and the next line starts clean.
 */
enum frame_kind {
	FRAME_LINE,			/* a line to handle: NUL-terminated, len bytes */
	FRAME_NUL,			/* refused: it holds a NUL byte (line NULL) */
	FRAME_TOO_LONG,			/* refused: len > EVENT_LINE_MAX (line NULL) */
};

struct framer {
	size_t len;			/* the current line's bytes so far */
	bool nul;			/* it holds a NUL byte */
	char buf[EVENT_LINE_MAX + 1];	/* its first EVENT_LINE_MAX bytes */
};

typedef void frame_fn(void *arg, enum frame_kind kind, const char *line, size_t len);

void framer_reset(struct framer *f);
/* Calls fn for each line data completes; empty lines are skipped. */
void framer_feed(struct framer *f, const char *data, size_t n, frame_fn *fn, void *arg);
/* Bytes of a line not finished yet (what a closed stream cuts off). */
size_t framer_pending(const struct framer *f);

/* ---------------------------------------------------------------- rules */
struct rule_match {
	char *key;
	regex_t re;			/* anchored: the whole value must match */
};

struct rule {
	char kind;			/* as struct event's kind */
	int priority;
	unsigned order;			/* position among all rules read */
	struct rule_match *matches;
	unsigned nmatches;
	char **actions;
	unsigned nactions;
	char where[300];		/* file:line, for logs */
};

struct ruleset {
	struct rule *rules;		/* sorted: highest priority first */
	unsigned nrules;
};

/*
 * Reads a devd.conf file, or every *.conf file of a directory in name order.
 * Returns 0, or -1 with err as "file:line: what is wrong".
 */
int ruleset_load(struct ruleset *rs, const char *path, char *err, size_t errlen);
/* Parses rules from text (named where for messages); appends to rs. */
int ruleset_parse(struct ruleset *rs, const char *text, const char *where, char *err,
    size_t errlen);
void ruleset_sort(struct ruleset *rs);
void ruleset_free(struct ruleset *rs);
/* The highest-priority rule matching ev (devd runs that one only), or NULL. */
const struct rule *ruleset_match(const struct ruleset *rs, const struct event *ev);

/* -------------------------------------------------------------- actions */
/* How many actions may run at once (--max-actions): default, and most. */
#define ACTIONS_DEFAULT_MAX	256
#define ACTIONS_MAX_MAX		4096
/* Sets the limit: 0, or -1 when out of 1..ACTIONS_MAX_MAX. */
int action_set_max(unsigned max);
/* Starts "/bin/sh -c cmd" without waiting for it, or queues it while the
 * limit is reached; 0, or -1 when it was refused (logged). */
int action_start(const char *cmd, const char *where);
/*
 * Splits cmd into argv (words in buf, at most ACTION_MAX_WORDS - 1 and a
 * NULL) when it is only plain words and '...' strings: no backslash, other
 * quote, expansion, redirection, separator, or leading assignment. Returns
 * the word count (what sh would make of it, without sh), or -1: sh's job.
 */
#define ACTION_MAX_WORDS	64
int action_split(const char *cmd, char *buf, size_t buflen, char **argv);
/* Collects finished actions and logs their exit status. */
void action_reap(void);
unsigned action_running(void);
unsigned action_waiting(void);
/* At exit: forgets running actions (they run on, unwaited) and drops waiting ones. */
void action_forget_all(void);

/* ----------------------------------------------------------- devd.pipe */
#define BROADCAST_NO_GROUP	((gid_t)-1)
#define BROADCAST_MAX_READERS	64
#define BROADCAST_ROOT_RESERVED	8	/* of those, only root's readers may take */

/* --group: a group name, else a decimal GID. 0, or -1 with err. */
int broadcast_parse_group(const char *arg, gid_t *gid, char *err, size_t errlen);
/*
 * Listens on path, readable by root only (0600) or by root and group
 * (0660, group-owned) when group is not BROADCAST_NO_GROUP.
 */
int broadcast_open(const char *path, gid_t group, char *err, size_t errlen);
int broadcast_fd(void);
void broadcast_accept(void);
void broadcast_line(const char *line);
void broadcast_close(void);

#endif /* NVMF_DEVD_H */
