/* SPDX-License-Identifier: BSD-2-Clause
 * Copyright (c) 2026 The nvmf developers */
/*
 * fuzz_devd_rules.c - libFuzzer target for nvmf-devd's parsers: the rule
 * file (ruleset_parse), event lines (event_parse) and the expansion of an
 * action with an event's values (event_expand).
 *
 * Input: rule text, a NUL byte, then event lines. Beyond "no crash", it
 * checks what the daemon relies on: a rule that matches has every match
 * satisfied, and each $variable expands to exactly one shell word that
 * decodes back to the event's value, so no value can inject a command.
 *
 * fuzz-sources: nvmf-devd/rules.c nvmf-devd/event.c lib/util/log.c lib/util/text.c
 * fuzz-cflags: -Invmf-devd -Ilib/util
 */
#include <regex.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "devd.h"
#include "fuzz_check.h"

/*
 * Decodes one shell word made of single-quoted pieces joined by \' (the
 * only form event_expand writes); returns the rest of s after the word, or
 * NULL when s does not start with such a word.
 */
static const char *
shell_word(const char *s, char *out, size_t outlen)
{
	size_t o = 0;

	if (*s != '\'')
		return NULL;
	while (*s == '\'' || (s[0] == '\\' && s[1] == '\'')) {
		if (*s == '\\') {
			CHECK(o + 1 < outlen);
			out[o++] = '\'';
			s += 2;
			continue;
		}
		for (s++; *s != '\0' && *s != '\''; s++) {
			CHECK(o + 1 < outlen);
			out[o++] = *s;
		}
		if (*s != '\'')
			return NULL;
		s++;
	}
	out[o] = '\0';
	return s;
}

/* "<$key>" expands to "<" + one word + ">" that decodes to the value. */
static void
check_expansion(const struct event *ev)
{
	static char cmd[128], out[4096], word[2048];

	for (unsigned i = 0; i < ev->nvars; i++) {
		const char *rest;
		int rc;

		/* Only names a $variable can spell. */
		if (strlen(ev->keys[i]) > 60 || strspn(ev->keys[i], "abcdefghijklmnopqrstuvwxyz"
		    "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_") != strlen(ev->keys[i]) ||
		    (ev->keys[i][0] >= '0' && ev->keys[i][0] <= '9') || ev->keys[i][0] == '\0')
			continue;
		snprintf(cmd, sizeof(cmd), "<${%s}>", ev->keys[i]);
		rc = event_expand(ev, cmd, out, sizeof(out));
		if (rc != 0) {
			CHECK(rc == -1);
			continue;
		}
		CHECK(strlen(out) < sizeof(out));
		CHECK(out[0] == '<');
		rest = shell_word(out + 1, word, sizeof(word));
		CHECK(rest != NULL);
		CHECK(strcmp(rest, ">") == 0);
		/* The first key of that name wins, as event_get says. */
		CHECK(strcmp(word, event_get(ev, ev->keys[i])) == 0);
	}
}

static void
check_match(const struct ruleset *rs, const struct event *ev)
{
	const struct rule *r = ruleset_match(rs, ev);

	if (r == NULL)
		return;
	CHECK(r->kind == ev->kind);
	for (unsigned m = 0; m < r->nmatches; m++) {
		const char *v = event_get(ev, r->matches[m].key);

		CHECK(v != NULL);
		CHECK(regexec(&r->matches[m].re, v, 0, NULL, 0) == 0);
	}
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct event ev;
	struct ruleset rs = { 0 };
	char err[512], *text, *line, *save = NULL;
	size_t rules_len;

	if (size > 64 * 1024)
		return 0;
	text = malloc(size + 1);
	if (text == NULL)
		return 0;
	memcpy(text, data, size);
	text[size] = '\0';
	rules_len = strlen(text);

	err[0] = '\0';
	if (ruleset_parse(&rs, text, "fuzz.conf", err, sizeof(err)) != 0)
		CHECK(err[0] != '\0' && strchr(err, '\n') == NULL);
	ruleset_sort(&rs);
	for (unsigned i = 1; i < rs.nrules; i++)
		CHECK(rs.rules[i - 1].priority >= rs.rules[i].priority);

	if (rules_len < size) {
		for (line = strtok_r(text + rules_len + 1, "\n", &save); line != NULL;
		    line = strtok_r(NULL, "\n", &save)) {
			if (event_parse(line, &ev) != 0)
				continue;
			CHECK(ev.nvars > 0 && ev.nvars <= EVENT_MAX_VARS);
			check_expansion(&ev);
			check_match(&rs, &ev);
		}
	}
	ruleset_free(&rs);
	free(text);
	return 0;
}
