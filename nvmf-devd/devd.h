/*
 * devd.h - nvmf-devd: the host's events in, devd.conf rules, actions out.
 */
#ifndef NVMF_DEVD_H
#define NVMF_DEVD_H

#include <regex.h>
#include <stdbool.h>
#include <stddef.h>

/* --------------------------------------------------------------- events */
#define EVENT_MAX_VARS	16

/* "!system=nvme subsystem=controller type=RECONNECT name=\"nvme0\"" */
struct event {
	char kind;			/* '!' notify, '+' attach, '-' detach, '?' nomatch */
	unsigned nvars;
	char *keys[EVENT_MAX_VARS];
	char *values[EVENT_MAX_VARS];
	char buf[1024];			/* keys and values point in here */
};

/* Parses one line (without its newline); 0 or -1 when it is not an event. */
int event_parse(const char *line, struct event *ev);
/* The value of key, or NULL. */
const char *event_get(const struct event *ev, const char *key);
/*
 * Copies cmd into out replacing $key (and ${key}) with the event's value,
 * shell-quoted, so that no value can inject a command; an unknown variable
 * becomes ''. Returns 0, or -1 when out is too small.
 */
int event_expand(const struct event *ev, const char *cmd, char *out, size_t outlen);

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
/* Starts "/bin/sh -c cmd" without waiting for it; 0 or -1. */
int action_start(const char *cmd, const char *where);
/* Collects finished actions and logs their exit status. */
void action_reap(void);
unsigned action_running(void);

/* ----------------------------------------------------------- devd.pipe */
int broadcast_open(const char *path, char *err, size_t errlen);
int broadcast_fd(void);
void broadcast_accept(void);
void broadcast_line(const char *line);
void broadcast_close(void);

#endif /* NVMF_DEVD_H */
