/* SPDX-License-Identifier: BSD-2-Clause
 * Copyright (c) 2026 The nvmf developers */
/*
 * rules.c - devd.conf syntax: notify/attach/detach/nomatch statements with
 * a priority, "match" substatements (regular expressions, anchored as devd
 * anchors them) and "action" commands; options blocks are skipped;
 * comments in #, // and C style. Reads a file or every *.conf of a folder.
 */
#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "devd.h"
#include "text.h"

enum tok_kind { T_EOF, T_WORD, T_STRING, T_NUMBER, T_LBRACE, T_RBRACE, T_SEMI, T_ERROR };

struct lexer {
	const char *p;
	const char *where;
	unsigned line;
	enum tok_kind kind;
	char text[4096];
	char *err;
	size_t errlen;
};

static int
lex_error(struct lexer *lx, const char *what)
{
	snprintf(lx->err, lx->errlen, "%s:%u: %s", lx->where, lx->line, what);
	/* Quoted rule text may hold control characters: the error stays one line. */
	text_one_line(lx->err);
	lx->kind = T_ERROR;
	return -1;
}

static void
skip_space(struct lexer *lx)
{
	for (;;) {
		while (isspace((unsigned char)*lx->p)) {
			if (*lx->p == '\n')
				lx->line++;
			lx->p++;
		}
		if (*lx->p == '#' || (lx->p[0] == '/' && lx->p[1] == '/')) {
			while (*lx->p != '\0' && *lx->p != '\n')
				lx->p++;
		} else if (lx->p[0] == '/' && lx->p[1] == '*') {
			lx->p += 2;
			while (*lx->p != '\0' && !(lx->p[0] == '*' && lx->p[1] == '/')) {
				if (*lx->p == '\n')
					lx->line++;
				lx->p++;
			}
			if (*lx->p != '\0')
				lx->p += 2;
		} else {
			return;
		}
	}
}

static int
next(struct lexer *lx)
{
	size_t n = 0;

	skip_space(lx);
	switch (*lx->p) {
	case '\0': lx->kind = T_EOF; return 0;
	case '{': lx->kind = T_LBRACE; lx->p++; return 0;
	case '}': lx->kind = T_RBRACE; lx->p++; return 0;
	case ';': lx->kind = T_SEMI; lx->p++; return 0;
	case '"':
		lx->p++;
		while (*lx->p != '"') {
			char c = *lx->p;

			if (c == '\0' || c == '\n')
				return lex_error(lx, "unterminated string");
			if (c == '\\' && lx->p[1] != '\0') {
				lx->p++;
				c = *lx->p == 'n' ? '\n' : *lx->p == 't' ? '\t' : *lx->p;
			}
			if (n + 1 >= sizeof(lx->text))
				return lex_error(lx, "string too long");
			lx->text[n++] = c;
			lx->p++;
		}
		lx->p++;
		lx->text[n] = '\0';
		lx->kind = T_STRING;
		return 0;
	}
	if (isdigit((unsigned char)*lx->p) || (*lx->p == '-' && isdigit((unsigned char)lx->p[1]))) {
		while ((isdigit((unsigned char)*lx->p) || (n == 0 && *lx->p == '-')) &&
		    n + 1 < sizeof(lx->text))
			lx->text[n++] = *lx->p++;
		lx->text[n] = '\0';
		lx->kind = T_NUMBER;
		return 0;
	}
	if (isalpha((unsigned char)*lx->p) || *lx->p == '_') {
		while ((isalnum((unsigned char)*lx->p) || *lx->p == '_' || *lx->p == '-') &&
		    n + 1 < sizeof(lx->text))
			lx->text[n++] = *lx->p++;
		lx->text[n] = '\0';
		lx->kind = T_WORD;
		return 0;
	}
	{
		char what[64];

		snprintf(what, sizeof(what), "unexpected character '%c'", *lx->p);
		return lex_error(lx, what);
	}
}

static int
expect(struct lexer *lx, enum tok_kind kind, const char *what)
{
	if (next(lx) != 0)
		return -1;
	if (lx->kind != kind) {
		char msg[96];

		snprintf(msg, sizeof(msg), "expected %s", what);
		return lex_error(lx, msg);
	}
	return 0;
}

/* Skips an options { ... }; block, nested braces included. */
static int
skip_block(struct lexer *lx)
{
	int depth = 0;

	if (expect(lx, T_LBRACE, "'{' after options") != 0)
		return -1;
	depth = 1;
	while (depth > 0) {
		if (next(lx) != 0)
			return -1;
		if (lx->kind == T_EOF)
			return lex_error(lx, "options block not closed");
		depth += lx->kind == T_LBRACE ? 1 : lx->kind == T_RBRACE ? -1 : 0;
	}
	return expect(lx, T_SEMI, "';' after '}'");
}

static char
statement_kind(const char *word)
{
	if (strcmp(word, "notify") == 0)
		return '!';
	if (strcmp(word, "attach") == 0)
		return '+';
	if (strcmp(word, "detach") == 0)
		return '-';
	if (strcmp(word, "nomatch") == 0)
		return '?';
	return 0;
}

/*
 * Repetition operators in a row ("a++", "a*{2}") are undefined in POSIX EREs,
 * and glibc compiles long runs of them, or large counts, into automata of
 * gigabytes: refused.
 */
#define REPEAT_MAX	32
static bool
stacked_repetition(const char *re)
{
	bool after_repeat = false;

	for (const char *p = re; *p != '\0'; p++) {
		if (*p == '\\' && p[1] != '\0') {
			p++;
			after_repeat = false;
		} else if (*p == '[') {
			/* A bracket expression: "]" first is a member, not its end. */
			p += p[1] == '^' ? 2 : 1;
			if (*p == ']')
				p++;
			while (*p != '\0' && *p != ']')
				p++;
			if (*p == '\0')
				return false;	/* regcomp reports the unclosed bracket */
			after_repeat = false;
		} else if (*p == '*' || *p == '+' || *p == '?' || *p == '{') {
			if (after_repeat)
				return true;
			if (*p == '{') {
				/* Counts multiply the automaton: a rule needs few. */
				for (unsigned n = 0; p[1] != '\0' && p[1] != '}'; p++) {
					n = p[1] >= '0' && p[1] <= '9' ? n * 10 + (unsigned)(p[1] - '0') : 0;
					if (n > REPEAT_MAX)
						return true;
				}
			}
			after_repeat = true;
		} else {
			after_repeat = false;
		}
	}
	return false;
}

static int
add_match(struct lexer *lx, struct rule *r, const char *key, const char *regex)
{
	struct rule_match *m;
	size_t len = strlen(regex) + 5;
	char *anchored;
	int rc;

	if (stacked_repetition(regex))
		return lex_error(lx, "repetition operators in a row (undefined in POSIX "
		    "regular expressions) or a count above 32");
	m = realloc(r->matches, (r->nmatches + 1) * sizeof(*m));
	anchored = malloc(len);

	if (m == NULL || anchored == NULL) {
		free(anchored);
		if (m != NULL)
			r->matches = m;
		return lex_error(lx, "out of memory");
	}
	r->matches = m;
	snprintf(anchored, len, "^(%s)$", regex);
	rc = regcomp(&m[r->nmatches].re, anchored, REG_EXTENDED | REG_NOSUB);
	free(anchored);
	if (rc != 0) {
		char buf[128], msg[200];

		regerror(rc, &m[r->nmatches].re, buf, sizeof(buf));
		snprintf(msg, sizeof(msg), "bad regular expression \"%.60s\": %.100s", regex, buf);
		return lex_error(lx, msg);
	}
	m[r->nmatches].key = strdup(key);
	r->nmatches++;
	return 0;
}

static int
add_action(struct lexer *lx, struct rule *r, const char *cmd)
{
	char **a = realloc(r->actions, (r->nactions + 1) * sizeof(*a));

	if (a == NULL)
		return lex_error(lx, "out of memory");
	r->actions = a;
	a[r->nactions++] = strdup(cmd);
	return 0;
}

static void
rule_free(struct rule *r)
{
	for (unsigned i = 0; i < r->nmatches; i++) {
		regfree(&r->matches[i].re);
		free(r->matches[i].key);
	}
	for (unsigned i = 0; i < r->nactions; i++)
		free(r->actions[i]);
	free(r->matches);
	free(r->actions);
}

/* Parses "PRIORITY { sub; ... };" after the statement's keyword. */
static int
parse_statement(struct lexer *lx, struct rule *r)
{
	if (expect(lx, T_NUMBER, "a priority number") != 0)
		return -1;
	r->priority = atoi(lx->text);
	snprintf(r->where, sizeof(r->where), "%s:%u", lx->where, lx->line);
	if (expect(lx, T_LBRACE, "'{'") != 0)
		return -1;
	for (;;) {
		char key[256];

		if (next(lx) != 0)
			return -1;
		if (lx->kind == T_RBRACE)
			break;
		if (lx->kind != T_WORD)
			return lex_error(lx, "expected match, action or '}'");
		if (strcmp(lx->text, "match") == 0) {
			if (expect(lx, T_STRING, "a quoted key after match") != 0)
				return -1;
			snprintf(key, sizeof(key), "%.255s", lx->text);
			if (expect(lx, T_STRING, "a quoted regular expression") != 0 ||
			    add_match(lx, r, key, lx->text) != 0)
				return -1;
		} else if (strcmp(lx->text, "action") == 0) {
			if (expect(lx, T_STRING, "a quoted command after action") != 0 ||
			    add_action(lx, r, lx->text) != 0)
				return -1;
		} else {
			/* devd's shorthand: device-name "x" is match "device-name" "x". */
			snprintf(key, sizeof(key), "%.255s", lx->text);
			if (expect(lx, T_STRING, "a quoted value") != 0 ||
			    add_match(lx, r, key, lx->text) != 0)
				return -1;
		}
		if (expect(lx, T_SEMI, "';'") != 0)
			return -1;
	}
	return expect(lx, T_SEMI, "';' after '}'");
}

int
ruleset_parse(struct ruleset *rs, const char *text, const char *where, char *err,
    size_t errlen)
{
	struct lexer lx = { .p = text, .where = where, .line = 1, .err = err,
	    .errlen = errlen };

	for (;;) {
		struct rule r;
		struct rule *grown;
		char kind;

		if (next(&lx) != 0)
			return -1;
		if (lx.kind == T_EOF)
			return 0;
		if (lx.kind != T_WORD)
			return lex_error(&lx, "expected notify, attach, detach, nomatch or options");
		if (strcmp(lx.text, "options") == 0) {
			if (skip_block(&lx) != 0)
				return -1;
			continue;
		}
		kind = statement_kind(lx.text);
		if (kind == 0) {
			char msg[300];

			snprintf(msg, sizeof(msg), "unknown statement '%.200s'", lx.text);
			return lex_error(&lx, msg);
		}
		memset(&r, 0, sizeof(r));
		r.kind = kind;
		r.order = rs->nrules;
		if (parse_statement(&lx, &r) != 0) {
			rule_free(&r);
			return -1;
		}
		grown = realloc(rs->rules, (rs->nrules + 1) * sizeof(*grown));
		if (grown == NULL) {
			rule_free(&r);
			return lex_error(&lx, "out of memory");
		}
		rs->rules = grown;
		rs->rules[rs->nrules++] = r;
	}
}

static int
by_priority(const void *a, const void *b)
{
	const struct rule *x = a, *y = b;

	if (x->priority != y->priority)
		return x->priority > y->priority ? -1 : 1;
	return x->order < y->order ? -1 : x->order > y->order;
}

void
ruleset_sort(struct ruleset *rs)
{
	if (rs->nrules > 1)
		qsort(rs->rules, rs->nrules, sizeof(*rs->rules), by_priority);
}

static int
load_file(struct ruleset *rs, const char *path, char *err, size_t errlen)
{
	FILE *f = fopen(path, "r");
	char *text;
	long len;
	int rc;

	if (f == NULL) {
		snprintf(err, errlen, "%s: %s", path, strerror(errno));
		return -1;
	}
	fseek(f, 0, SEEK_END);
	len = ftell(f);
	rewind(f);
	text = malloc((size_t)(len > 0 ? len : 0) + 1);
	if (text == NULL || (len > 0 && fread(text, 1, (size_t)len, f) != (size_t)len)) {
		snprintf(err, errlen, "%s: cannot read", path);
		free(text);
		fclose(f);
		return -1;
	}
	fclose(f);
	text[len > 0 ? len : 0] = '\0';
	rc = ruleset_parse(rs, text, path, err, errlen);
	free(text);
	return rc;
}

static int
conf_file(const struct dirent *d)
{
	size_t n = strlen(d->d_name);

	return n > 5 && strcmp(d->d_name + n - 5, ".conf") == 0 && d->d_name[0] != '.';
}

int
ruleset_load(struct ruleset *rs, const char *path, char *err, size_t errlen)
{
	struct dirent **list;
	struct stat st;
	int n, rc = 0;

	if (stat(path, &st) != 0) {
		snprintf(err, errlen, "%s: %s", path, strerror(errno));
		return -1;
	}
	if (!S_ISDIR(st.st_mode)) {
		rc = load_file(rs, path, err, errlen);
	} else {
		n = scandir(path, &list, conf_file, alphasort);
		if (n < 0) {
			snprintf(err, errlen, "%s: %s", path, strerror(errno));
			return -1;
		}
		for (int i = 0; i < n; i++) {
			char file[4096];

			snprintf(file, sizeof(file), "%s/%s", path, list[i]->d_name);
			if (rc == 0)
				rc = load_file(rs, file, err, errlen);
			free(list[i]);
		}
		free(list);
	}
	ruleset_sort(rs);
	return rc;
}

void
ruleset_free(struct ruleset *rs)
{
	for (unsigned i = 0; i < rs->nrules; i++)
		rule_free(&rs->rules[i]);
	free(rs->rules);
	rs->rules = NULL;
	rs->nrules = 0;
}

const struct rule *
ruleset_match(const struct ruleset *rs, const struct event *ev)
{
	for (unsigned i = 0; i < rs->nrules; i++) {
		const struct rule *r = &rs->rules[i];
		bool all = r->kind == ev->kind;

		for (unsigned m = 0; all && m < r->nmatches; m++) {
			const char *v = event_get(ev, r->matches[m].key);

			all = v != NULL && regexec(&r->matches[m].re, v, 0, NULL, 0) == 0;
		}
		if (all)
			return r;
	}
	return NULL;
}
