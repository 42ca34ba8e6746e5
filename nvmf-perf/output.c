/* SPDX-License-Identifier: BSD-2-Clause
 * Copyright (c) 2026 The nvmf developers */
/*
 * output.c - what nvmf-perf prints: a header naming the run and one line of
 * figures, or (--json) one object whose keys the benchmark driver reads.
 */
#include <stdlib.h>
#include <string.h>

#include <json-c/json.h>

#include "output.h"

void
perf_summarize(const struct perf_opts *o, const struct perf_thread *threads,
    unsigned n, struct perf_summary *s)
{
	struct histogram *h = malloc(sizeof(*h));
	uint64_t ios;

	memset(s, 0, sizeof(*s));
	if (h != NULL)
		hist_init(h);
	for (unsigned i = 0; i < n; i++) {
		const struct perf_thread *t = &threads[i];
		double secs = (double)(t->stopped_ns - t->start_ns) / 1e9;

		if (secs > s->seconds)
			s->seconds = secs;
		s->reads += t->r.reads;
		s->writes += t->r.writes;
		s->io_errors += t->r.io_errors;
		s->verify_errors += t->r.verify_errors;
		if (h != NULL)
			hist_merge(h, &t->r.hist);
	}
	ios = s->reads + s->writes;
	if (s->seconds > 0) {
		s->iops = (double)ios / s->seconds;
		s->read_iops = (double)s->reads / s->seconds;
		s->write_iops = (double)s->writes / s->seconds;
		s->bandwidth_mibs = s->iops * o->io_size / (1024.0 * 1024.0);
	}
	if (h != NULL && h->count > 0) {
		s->avg_us = hist_mean(h) / 1000.0;
		s->min_us = (double)h->min / 1000.0;
		s->p50_us = (double)hist_percentile(h, 50.0) / 1000.0;
		s->p99_us = (double)hist_percentile(h, 99.0) / 1000.0;
		s->p999_us = (double)hist_percentile(h, 99.9) / 1000.0;
		s->max_us = (double)h->max / 1000.0;
	}
	free(h);
}

void
perf_print_text(FILE *f, const struct perf_opts *o, const struct perf_target *t,
    const struct perf_summary *s)
{
	fprintf(f, "nvmf-perf: %s", perf_pattern_name(o->pattern));
	if (o->pattern == PERF_RW || o->pattern == PERF_RANDRW)
		fprintf(f, " (%u%% reads)", o->read_pct);
	fprintf(f, ", %u-byte I/O, queue depth %u, %u thread%s x %u queue%s, "
	    "namespace %u, %.1f s, %s\n", o->io_size, o->depth, o->threads,
	    o->threads == 1 ? "" : "s", o->queues, o->queues == 1 ? "" : "s", t->nsid,
	    s->seconds, o->busy_poll ? "busy-poll" : "epoll");
	fprintf(f, "%12s %10s %9s %9s %9s %10s %9s\n", "IOPS", "MiB/s", "avg(us)",
	    "p50(us)", "p99(us)", "p99.9(us)", "max(us)");
	fprintf(f, "%12.1f %10.2f %9.2f %9.2f %9.2f %10.2f %9.2f\n", s->iops,
	    s->bandwidth_mibs, s->avg_us, s->p50_us, s->p99_us, s->p999_us, s->max_us);
	if (s->reads > 0 && s->writes > 0)
		fprintf(f, "reads %.1f IOPS, writes %.1f IOPS\n", s->read_iops, s->write_iops);
}

static struct json_object *
number(double v)
{
	char text[64];

	/* Two decimals: what a reader compares, without binary noise. */
	snprintf(text, sizeof(text), "%.2f", v);
	return json_object_new_double_s(v, text);
}

void
perf_print_json(FILE *f, const struct perf_opts *o, const struct perf_target *t,
    const struct perf_summary *s)
{
	struct json_object *j = json_object_new_object();

	json_object_object_add(j, "workload",
	    json_object_new_string(perf_pattern_name(o->pattern)));
	json_object_object_add(j, "read_percent", json_object_new_int((int)o->read_pct));
	json_object_object_add(j, "io_size", json_object_new_int64(o->io_size));
	json_object_object_add(j, "queue_depth", json_object_new_int64(o->depth));
	json_object_object_add(j, "threads", json_object_new_int64(o->threads));
	json_object_object_add(j, "queues_per_thread", json_object_new_int64(o->queues));
	json_object_object_add(j, "busy_poll", json_object_new_boolean(o->busy_poll));
	json_object_object_add(j, "tcp_congestion", o->tcp_congestion[0] != '\0' ?
	    json_object_new_string(o->tcp_congestion) : NULL);
	json_object_object_add(j, "header_digest", json_object_new_boolean(o->header_digest));
	json_object_object_add(j, "data_digest", json_object_new_boolean(o->data_digest));
	json_object_object_add(j, "nsid", json_object_new_int64(t->nsid));
	json_object_object_add(j, "seconds", number(s->seconds));
	json_object_object_add(j, "ios", json_object_new_int64((int64_t)(s->reads + s->writes)));
	json_object_object_add(j, "reads", json_object_new_int64((int64_t)s->reads));
	json_object_object_add(j, "writes", json_object_new_int64((int64_t)s->writes));
	json_object_object_add(j, "io_errors", json_object_new_int64((int64_t)s->io_errors));
	json_object_object_add(j, "verify_errors",
	    json_object_new_int64((int64_t)s->verify_errors));
	json_object_object_add(j, "iops", number(s->iops));
	json_object_object_add(j, "read_iops", number(s->read_iops));
	json_object_object_add(j, "write_iops", number(s->write_iops));
	json_object_object_add(j, "bandwidth_mibs", number(s->bandwidth_mibs));
	json_object_object_add(j, "avg_latency_us", number(s->avg_us));
	json_object_object_add(j, "min_latency_us", number(s->min_us));
	json_object_object_add(j, "p50_latency_us", number(s->p50_us));
	json_object_object_add(j, "p99_latency_us", number(s->p99_us));
	json_object_object_add(j, "p999_latency_us", number(s->p999_us));
	json_object_object_add(j, "max_latency_us", number(s->max_us));
	fprintf(f, "%s\n", json_object_to_json_string_ext(j, JSON_C_TO_STRING_PLAIN));
	json_object_put(j);
}
