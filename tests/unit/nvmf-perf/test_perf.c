/* SPDX-License-Identifier: BSD-2-Clause
 * Copyright (c) 2026 The nvmf developers */
/*
 * test_perf.c - nvmf-perf's command line (spdk_nvme_perf's letters, the
 * transport ID string, one-line errors naming the option), its latency
 * histogram (bucket bounds, percentiles within the promised error) and the
 * verify pattern.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "histogram.h"
#include "perf.h"
#include "workload.h"

#define TRID "trtype:tcp traddr:127.0.0.1 trsvcid:4421 subnqn:nqn.2024-01.io.nvmf:x"

static int
parse(struct perf_opts *o, char *err, size_t errlen, ...)
{
	char *argv[32];
	int argc = 0;
	va_list ap;

	argv[argc++] = (char *)"nvmf-perf";
	va_start(ap, errlen);
	for (char *a; (a = va_arg(ap, char *)) != NULL;)
		argv[argc++] = a;
	va_end(ap);
	argv[argc] = NULL;
	err[0] = '\0';
	return perf_parse_options(argc, argv, o, err, errlen);
}

static void
test_defaults_and_trid(void **state)
{
	struct perf_opts o;
	char err[256];

	(void)state;
	assert_int_equal(parse(&o, err, sizeof(err), "-r", TRID, NULL), PERF_OPTS_OK);
	assert_string_equal(o.traddr, "127.0.0.1");
	assert_string_equal(o.trsvcid, "4421");
	assert_string_equal(o.subnqn, "nqn.2024-01.io.nvmf:x");
	assert_string_equal(o.hostnqn, "");
	assert_int_equal(o.depth, 1);
	assert_int_equal(o.io_size, 4096);
	assert_int_equal(o.pattern, PERF_RANDREAD);
	assert_true(o.random);
	assert_int_equal(o.read_pct, 100);
	assert_int_equal(o.threads, 1);
	assert_int_equal(o.queues, 1);
	assert_false(o.busy_poll);
}

static void
test_spdk_letters(void **state)
{
	struct perf_opts o;
	char err[256];

	(void)state;
	assert_int_equal(parse(&o, err, sizeof(err), "-r",
	    "trtype:TCP adrfam:IPv6 traddr:::1 trsvcid:4420 subnqn:nqn.a:b hostnqn:nqn.h:1 ns:3",
	    "-q", "32", "-o", "128k", "-w", "randrw", "-M", "70", "-t", "3", "-P", "2",
	    "-c", "0x5", "-H", "-I", "--busy-poll", "--json", "--verify", NULL), PERF_OPTS_OK);
	assert_string_equal(o.traddr, "::1");
	assert_string_equal(o.hostnqn, "nqn.h:1");
	assert_int_equal(o.nsid, 3);
	assert_int_equal(o.depth, 32);
	assert_int_equal(o.io_size, 131072);
	assert_int_equal(o.pattern, PERF_RANDRW);
	assert_int_equal(o.read_pct, 70);
	assert_int_equal(o.seconds, 3);
	assert_int_equal(o.queues, 2);
	assert_int_equal(o.threads, 2);		/* two bits of 0x5 */
	assert_true(o.cpu_mask == 0x5);
	assert_true(o.header_digest && o.data_digest && o.busy_poll && o.json && o.verify);

	/* -M before -w keeps its value; the pure workloads set their own mix. */
	assert_int_equal(parse(&o, err, sizeof(err), "-r", TRID, "-M", "10", "-w", "rw",
	    NULL), PERF_OPTS_OK);
	assert_int_equal(o.read_pct, 10);
	assert_int_equal(parse(&o, err, sizeof(err), "-r", TRID, "-w", "write", "-c", "3",
	    NULL), PERF_OPTS_OK);
	assert_int_equal(o.read_pct, 0);
	assert_false(o.random);
	assert_int_equal(o.threads, 3);
	assert_true(o.cpu_mask == 0);
	assert_int_equal(parse(&o, err, sizeof(err), "-h", NULL), PERF_OPTS_HELP);
}

/* Each bad command line: an error naming the option, on one line. */
static void
test_errors_name_the_option(void **state)
{
	static const struct {
		const char *opt, *arg, *expect;
	} bad[] = {
		{ "-q", "0", "-q: queue depth" },
		{ "-q", "x", "-q: queue depth" },
		{ "-o", "1000", "-o: I/O size" },
		{ "-o", "4q", "-o: I/O size" },
		{ "-w", "trim", "-w: workload" },
		{ "-M", "101", "-M: read percentage" },
		{ "-t", "0", "-t: run time" },
		{ "-P", "0", "-P: queues" },
		{ "-c", "0x", "-c: CPU mask" },
		{ "-c", "0", "-c: thread count" },
		{ "--timeout", "-1", "--timeout:" },
	};
	struct perf_opts o;
	char err[256];

	(void)state;
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		assert_int_equal(parse(&o, err, sizeof(err), "-r", TRID, bad[i].opt, bad[i].arg,
		    NULL), PERF_OPTS_ERROR);
		assert_non_null(strstr(err, bad[i].expect));
		assert_null(strchr(err, '\n'));
	}
	assert_int_equal(parse(&o, err, sizeof(err), "-r", TRID, "-Z", NULL), PERF_OPTS_ERROR);
	assert_string_equal(err, "unknown option -Z");
	assert_int_equal(parse(&o, err, sizeof(err), "-r", TRID, "--fast", NULL),
	    PERF_OPTS_ERROR);
	assert_string_equal(err, "unknown option --fast");
	assert_int_equal(parse(&o, err, sizeof(err), "-r", NULL), PERF_OPTS_ERROR);
	assert_string_equal(err, "option -r needs an argument");
	assert_int_equal(parse(&o, err, sizeof(err), "-q", "4", NULL), PERF_OPTS_ERROR);
	assert_non_null(strstr(err, "-r: the target is missing"));
	assert_int_equal(parse(&o, err, sizeof(err), "-r", TRID, "-M", "50", NULL),
	    PERF_OPTS_ERROR);
	assert_non_null(strstr(err, "-M:"));
	assert_int_equal(parse(&o, err, sizeof(err), "-r", TRID, "extra", NULL),
	    PERF_OPTS_ERROR);
	assert_non_null(strstr(err, "unexpected argument 'extra'"));
}

static void
test_trid_errors(void **state)
{
	static const struct {
		const char *trid, *expect;
	} bad[] = {
		{ "trtype:rdma traddr:1.2.3.4 subnqn:n", "trtype 'rdma'" },
		{ "traddr:1.2.3.4 subnqn:n", "trtype:tcp is missing" },
		{ "trtype:tcp subnqn:n", "traddr is missing" },
		{ "trtype:tcp traddr:1.2.3.4", "subnqn is missing" },
		{ "trtype:tcp traddr:1.2.3.4 subnqn:n trsvcid:99999", "trsvcid '99999'" },
		{ "trtype:tcp traddr:1.2.3.4 subnqn:n color:red", "unknown key 'color'" },
		{ "trtype:tcp traddr:1.2.3.4 subnqn:n ns:0", "ns '0'" },
		{ "trtype:tcp traddr:1.2.3.4 subnqn:n junk", "'junk' is not key:value" },
		{ "trtype:tcp traddr: subnqn:n", "traddr has no value" },
	};
	struct perf_opts o;
	char err[256];

	(void)state;
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		memset(&o, 0, sizeof(o));
		assert_int_equal(perf_parse_trid(bad[i].trid, &o, err, sizeof(err)), -1);
		if (strstr(err, bad[i].expect) == NULL)
			fail_msg("'%s': got '%s', expected '%s'", bad[i].trid, err, bad[i].expect);
		assert_memory_equal(err, "-r: ", 4);
	}
	/* key=value as spdk also takes it. */
	memset(&o, 0, sizeof(o));
	assert_int_equal(perf_parse_trid("trtype=tcp traddr=10.0.0.1 subnqn=nqn.x:y", &o, err,
	    sizeof(err)), 0);
	assert_string_equal(o.traddr, "10.0.0.1");
}

static void
test_histogram_buckets(void **state)
{
	(void)state;
	/* Exact below HIST_SUB, then every bucket's bounds contain its values. */
	for (uint64_t v = 0; v < HIST_SUB; v++)
		assert_int_equal(hist_index(v), v);
	for (uint64_t v = 1; v < (1ull << 40); v = v * 3 / 2 + 1) {
		unsigned i = hist_index(v);

		assert_true(hist_bucket_low(i) <= v && v <= hist_bucket_high(i));
		/* Width within 1/HIST_SUB of the value. */
		assert_true((hist_bucket_high(i) - hist_bucket_low(i)) * HIST_SUB <= v);
		if (i + 1 < HIST_BUCKETS)
			assert_true(hist_bucket_low(i + 1) == hist_bucket_high(i) + 1);
	}
	assert_int_equal(hist_index(UINT64_MAX), HIST_BUCKETS - 1);
}

static void
assert_near(uint64_t got, uint64_t want)
{
	uint64_t diff = got > want ? got - want : want - got;

	if (diff * HIST_SUB > want)
		fail_msg("percentile %llu, expected %llu within 1/%u",
		    (unsigned long long)got, (unsigned long long)want, HIST_SUB);
}

static void
test_histogram_percentiles(void **state)
{
	struct histogram *h = malloc(sizeof(*h)), *g = malloc(sizeof(*g));

	(void)state;
	assert_non_null(h);
	assert_non_null(g);
	hist_init(h);
	assert_int_equal(hist_percentile(h, 50), 0);
	/* 1..100000 ns, each once: the p-th percentile is p% of 100000. */
	for (uint64_t v = 1; v <= 100000; v++)
		hist_record(h, v);
	assert_int_equal(h->count, 100000);
	assert_int_equal(h->min, 1);
	assert_int_equal(h->max, 100000);
	assert_true(hist_mean(h) == 50000.5);
	assert_near(hist_percentile(h, 50), 50000);
	assert_near(hist_percentile(h, 99), 99000);
	assert_near(hist_percentile(h, 99.9), 99900);
	assert_int_equal(hist_percentile(h, 100), 100000);
	assert_int_equal(hist_percentile(h, 0), 1);
	assert_true(hist_percentile(h, 50) <= hist_percentile(h, 99));
	assert_true(hist_percentile(h, 99) <= hist_percentile(h, 99.9));
	assert_true(hist_percentile(h, 99.9) <= h->max);

	/* One outlier among many equal samples moves max, not p99. */
	hist_init(g);
	for (int i = 0; i < 999; i++)
		hist_record(g, 20000);
	hist_record(g, 5000000);
	assert_near(hist_percentile(g, 50), 20000);
	assert_near(hist_percentile(g, 99), 20000);
	assert_int_equal(hist_percentile(g, 99.95), 5000000);
	assert_int_equal(g->max, 5000000);

	/* Merging adds counts and keeps the extremes. */
	hist_merge(h, g);
	assert_int_equal(h->count, 101000);
	assert_int_equal(h->min, 1);
	assert_int_equal(h->max, 5000000);
	free(h);
	free(g);
}

static void
test_pattern(void **state)
{
	uint8_t buf[4096];

	(void)state;
	perf_pattern_fill(buf, sizeof(buf), 1 << 20);
	assert_int_equal(perf_pattern_check(buf, sizeof(buf), 1 << 20), -1);
	/* The same data at another offset is not the pattern there. */
	assert_int_equal(perf_pattern_check(buf, sizeof(buf), 2 << 20), 0);
	buf[1000] ^= 1;
	assert_int_equal(perf_pattern_check(buf, sizeof(buf), 1 << 20), 1000 / 8 * 8);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_defaults_and_trid),
		cmocka_unit_test(test_spdk_letters),
		cmocka_unit_test(test_errors_name_the_option),
		cmocka_unit_test(test_trid_errors),
		cmocka_unit_test(test_histogram_buckets),
		cmocka_unit_test(test_histogram_percentiles),
		cmocka_unit_test(test_pattern),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
