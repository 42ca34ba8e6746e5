/* SPDX-License-Identifier: BSD-2-Clause
 * Copyright (c) 2026 The nvmf developers */
/*
 * test_framing.c - the devctl stream cut into event lines: newline only,
 * a line with a NUL byte or over EVENT_LINE_MAX refused whole (its tail
 * never taken for an event), and no line after it lost, however the bytes
 * arrive.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "devd.h"

#define MAX_SEEN 16

struct seen {
	unsigned n;
	enum frame_kind kind[MAX_SEEN];
	size_t len[MAX_SEEN];
	char line[MAX_SEEN][EVENT_LINE_MAX + 1];
};

static void
record(void *arg, enum frame_kind kind, const char *line, size_t len)
{
	struct seen *s = arg;

	assert_true(s->n < MAX_SEEN);
	s->kind[s->n] = kind;
	s->len[s->n] = len;
	if (kind == FRAME_LINE) {
		assert_non_null(line);
		assert_int_equal(strlen(line), len);	/* terminated, no NUL inside */
		memcpy(s->line[s->n], line, len + 1);
	} else {
		assert_null(line);
		s->line[s->n][0] = '\0';
	}
	s->n++;
}

/* Feeds data whole, then again in pieces of every size from 1 to 7 bytes. */
static void
feed_every_way(const char *data, size_t n, void (*check)(const struct seen *))
{
	for (size_t piece = 0; piece <= 7; piece++) {
		struct framer *f = malloc(sizeof(*f));
		struct seen s = { 0 };

		assert_non_null(f);
		framer_reset(f);
		if (piece == 0) {
			framer_feed(f, data, n, record, &s);
		} else {
			for (size_t off = 0; off < n; off += piece)
				framer_feed(f, data + off, n - off < piece ? n - off : piece, record,
				    &s);
		}
		check(&s);
		assert_int_equal(framer_pending(f), 0);
		free(f);
	}
}

static const char reconnect[] =
    "!system=nvme subsystem=controller type=RECONNECT name=\"nvme0\"";

static void
check_two_events(const struct seen *s)
{
	assert_int_equal(s->n, 2);
	assert_int_equal(s->kind[0], FRAME_LINE);
	assert_string_equal(s->line[0], reconnect);
	assert_int_equal(s->kind[1], FRAME_LINE);
	assert_string_equal(s->line[1], "!system=nvme type=DETACHED name=\"nvme1\"");
}

static void
test_lines_split_at_newlines_only(void **state)
{
	char data[512];
	int n;

	(void)state;
	/* Empty lines are skipped; a line ends at its newline, wherever reads cut. */
	n = snprintf(data, sizeof(data), "\n%s\n\n!system=nvme type=DETACHED name=\"nvme1\"\n",
	    reconnect);
	feed_every_way(data, (size_t)n, check_two_events);
}

static void
check_nul_refused(const struct seen *s)
{
	assert_int_equal(s->n, 2);
	assert_int_equal(s->kind[0], FRAME_NUL);
	assert_int_equal(s->len[0], sizeof(reconnect) - 1 + 5);
	assert_int_equal(s->kind[1], FRAME_LINE);
	assert_string_equal(s->line[1], reconnect);
}

static void
test_line_with_nul_is_refused_whole_and_next_line_kept(void **state)
{
	char data[512];
	size_t n = 0;

	(void)state;
	/* A valid event before the NUL byte: C strings would have run it. */
	memcpy(data, reconnect, sizeof(reconnect) - 1);
	n += sizeof(reconnect) - 1;
	memcpy(data + n, "\0junk\n", 6);
	n += 6;
	memcpy(data + n, reconnect, sizeof(reconnect) - 1);
	n += sizeof(reconnect) - 1;
	data[n++] = '\n';
	feed_every_way(data, n, check_nul_refused);
}

static void
test_nul_alone_is_refused(void **state)
{
	struct framer f;
	struct seen s = { 0 };

	(void)state;
	framer_reset(&f);
	framer_feed(&f, "\0\n", 2, record, &s);
	assert_int_equal(s.n, 1);
	assert_int_equal(s.kind[0], FRAME_NUL);
	assert_int_equal(s.len[0], 1);
}

/* An over-long line whose tail, cut off at any buffer size, reads as an event. */
static size_t
smuggling_line(char *data, size_t pad)
{
	static const char tail[] =
	    "!system=nvme subsystem=controller type=RECONNECT name=\"evil\"";
	size_t n = 0;

	memcpy(data, "!system=nvme pad=", 17);
	n = 17;
	memset(data + n, 'A', pad);
	n += pad;
	memcpy(data + n, tail, sizeof(tail) - 1);
	n += sizeof(tail) - 1;
	data[n++] = '\n';
	memcpy(data + n, reconnect, sizeof(reconnect) - 1);
	n += sizeof(reconnect) - 1;
	data[n++] = '\n';
	return n;
}

static size_t long_len;

static void
check_long_refused(const struct seen *s)
{
	assert_int_equal(s->n, 2);
	assert_int_equal(s->kind[0], FRAME_TOO_LONG);
	assert_int_equal(s->len[0], long_len);
	assert_int_equal(s->kind[1], FRAME_LINE);
	assert_string_equal(s->line[1], reconnect);
}

static void
test_long_line_is_refused_whole_tail_never_an_event(void **state)
{
	static char data[20000];
	size_t pads[] = { EVENT_LINE_MAX - 17, EVENT_LINE_MAX, 8191 - 17, 9000 };

	(void)state;
	for (size_t i = 0; i < sizeof(pads) / sizeof(pads[0]); i++) {
		size_t n = smuggling_line(data, pads[i]);

		long_len = (size_t)((char *)memchr(data, '\n', n) - data);
		assert_true(long_len > EVENT_LINE_MAX);
		feed_every_way(data, n, check_long_refused);
	}
}

static size_t edge_len;

static void
check_edge(const struct seen *s)
{
	assert_int_equal(s->n, 2);
	assert_int_equal(s->kind[0], edge_len <= EVENT_LINE_MAX ? FRAME_LINE : FRAME_TOO_LONG);
	assert_int_equal(s->len[0], edge_len);
	assert_int_equal(s->kind[1], FRAME_LINE);
	assert_string_equal(s->line[1], "!x=1");
}

static void
test_limit_is_exact(void **state)
{
	static char data[EVENT_LINE_MAX + 16];

	(void)state;
	for (edge_len = EVENT_LINE_MAX - 1; edge_len <= EVENT_LINE_MAX + 1; edge_len++) {
		data[0] = '!';
		memset(data + 1, 'a', edge_len - 1);
		memcpy(data + edge_len, "\n!x=1\n", 6);
		feed_every_way(data, edge_len + 6, check_edge);
	}
}

static void
test_pending_counts_an_unfinished_line(void **state)
{
	struct framer f;
	struct seen s = { 0 };
	static char big[EVENT_LINE_MAX + 100];

	(void)state;
	framer_reset(&f);
	framer_feed(&f, "!a=1\n!b=", 8, record, &s);
	assert_int_equal(s.n, 1);
	assert_int_equal(framer_pending(&f), 3);
	memset(big, 'b', sizeof(big));
	framer_feed(&f, big, sizeof(big), record, &s);
	assert_int_equal(framer_pending(&f), 3 + sizeof(big));
	framer_reset(&f);		/* the stream closed: a new one starts clean */
	framer_feed(&f, "!c=3\n", 5, record, &s);
	assert_int_equal(s.n, 2);
	assert_string_equal(s.line[1], "!c=3");
}

static void
test_event_parse_refuses_what_it_cannot_hold(void **state)
{
	static char line[EVENT_LINE_MAX + 2];
	struct event ev;
	size_t n;

	(void)state;
	/* name="nvme1" then padding: cut short, the line would still parse. */
	n = (size_t)snprintf(line, sizeof(line), "!name=nvme1 pad=");
	memset(line + n, 'p', sizeof(line) - 1 - n);
	line[sizeof(line) - 1] = '\0';
	assert_int_equal(strlen(line), EVENT_LINE_MAX + 1);
	assert_int_equal(event_parse(line, &ev), -1);
	line[EVENT_LINE_MAX] = '\0';
	assert_int_equal(event_parse(line, &ev), 0);
	assert_string_equal(event_get(&ev, "name"), "nvme1");
	assert_int_equal(strlen(event_get(&ev, "pad")), EVENT_LINE_MAX - n);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_lines_split_at_newlines_only),
		cmocka_unit_test(test_line_with_nul_is_refused_whole_and_next_line_kept),
		cmocka_unit_test(test_nul_alone_is_refused),
		cmocka_unit_test(test_long_line_is_refused_whole_tail_never_an_event),
		cmocka_unit_test(test_limit_is_exact),
		cmocka_unit_test(test_pending_counts_an_unfinished_line),
		cmocka_unit_test(test_event_parse_refuses_what_it_cannot_hold),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
