/* SPDX-License-Identifier: BSD-2-Clause
 * Copyright (c) 2026 The nvmf developers */
/*
 * config.c - what nvmfd serves: subsystems, namespaces, listen ports and the
 * hosts allowed in, from FreeBSD's command line or a JSON file (-c).
 */
#include <arpa/inet.h>
#include <ctype.h>
#include <errno.h>
#include <json-c/json.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/time.h>
#include <unistd.h>

#include "nvmfd.h"
#include "text.h"

#define DEFAULT_IO_PORT		4420
#define DEFAULT_DISCOVERY_PORT	8009
#define CONFIG_MAX_BYTES	(4u << 20)	/* a configuration is text, not data */

/*
 * Defaults for a small machine: 128 connections of at most 4 MiB of command
 * data each (a queue of 32 reads of 128 KiB) bound data memory to 512 MiB.
 */
const struct nvmfd_limit_def nvmfd_limit_defs[NVMFD_NLIMITS] = {
	[NVMFD_LIMIT_CONNECTIONS] = { "max_connections", "max-connections",
	    "connections", 1, 65536, 128 },
	[NVMFD_LIMIT_HOST_ASSOCIATIONS] = { "max_host_associations",
	    "max-host-associations", "associations", 1, 65536, 16 },
	[NVMFD_LIMIT_DISCOVERY_ASSOCIATIONS] = { "max_discovery_associations",
	    "max-discovery-associations", "associations", 1, 65536, 16 },
	[NVMFD_LIMIT_QUEUE_DATA] = { "queue_data_limit", "queue-data-limit", "bytes",
	    NVMFD_MAX_TRANSFER, 1u << 30, 4u << 20 },
	[NVMFD_LIMIT_ICREQ_TIMEOUT] = { "icreq_timeout", "icreq-timeout", "seconds",
	    1, 3600, 10 },
	[NVMFD_LIMIT_CONNECT_TIMEOUT] = { "connect_timeout", "connect-timeout", "seconds",
	    1, 3600, 10 },
	/* nvmet's NVMET_DISC_KATO_MS; 0 keeps a host's KATO 0 (no timeout). */
	[NVMFD_LIMIT_DISCOVERY_KATO] = { "discovery_kato", "discovery-kato", "seconds",
	    0, 3600, 120 },
	/* Not a resource limit but a bound on spinning: 0 sleeps at once. */
	[NVMFD_LIMIT_BUSY_POLL] = { "busy_poll_us", "busy-poll-us", "microseconds",
	    0, 1000000, 0 },
};

int
nvmfd_limit_parse(enum nvmfd_limit l, const char *s, uint32_t *out, char *err,
    size_t errlen)
{
	const struct nvmfd_limit_def *d = &nvmfd_limit_defs[l];
	uint64_t v;

	if (decimal_parse(s, UINT32_MAX, &v) != 0 || v < d->min || v > d->max) {
		snprintf(err, errlen, "--%s '%s': a decimal number of %s from %u to %u",
		    d->option, s, d->unit, d->min, d->max);
		return -1;
	}
	*out = (uint32_t)v;
	return 0;
}

const char *
nvmfd_nqn_invalid(const char *nqn)
{
	if (strncmp(nqn, "nqn.", 4) != 0)
		return "does not start with \"nqn.\"";
	if (strlen(nqn) > NVMF_NQN_MAX_LEN)
		return "is longer than 223 bytes";
	for (const unsigned char *p = (const void *)nqn; *p != '\0'; p++)
		if (*p < 0x20 || *p == 0x7f)
			return "contains a control character";
	return NULL;
}

/*
 * Writer-preferring: I/O threads read it for every command, and a reload
 * must get in between them rather than wait for a quiet moment.
 */
static pthread_rwlock_t config_lock = PTHREAD_RWLOCK_WRITER_NONRECURSIVE_INITIALIZER_NP;

void
nvmfd_config_rdlock(void)
{
	pthread_rwlock_rdlock(&config_lock);
}

void
nvmfd_config_wrlock(void)
{
	pthread_rwlock_wrlock(&config_lock);
}

void
nvmfd_config_unlock(void)
{
	pthread_rwlock_unlock(&config_lock);
}

struct nvmfd_namespace *
nvmfd_ns_get(struct nvmfd_subsystem *ss, uint32_t nsid)
{
	struct nvmfd_namespace *ns;

	nvmfd_config_rdlock();
	ns = nvmfd_subsystem_ns(ss, nsid);
	if (ns != NULL)
		atomic_fetch_add_explicit(&ns->refs, 1, memory_order_relaxed);
	nvmfd_config_unlock();
	return ns;
}

void
nvmfd_ns_hold(struct nvmfd_namespace *ns)
{
	atomic_fetch_add_explicit(&ns->refs, 1, memory_order_relaxed);
}

void
nvmfd_ns_put(struct nvmfd_namespace *ns)
{
	if (ns == NULL || atomic_fetch_sub_explicit(&ns->refs, 1, memory_order_acq_rel) != 1)
		return;
	nvmfd_device_close(ns->dev);
	free(ns);
}

void
nvmfd_subsystem_get(struct nvmfd_subsystem *ss)
{
	atomic_fetch_add_explicit(&ss->refs, 1, memory_order_relaxed);
}

void
nvmfd_subsystem_put(struct nvmfd_subsystem *ss)
{
	if (ss == NULL || atomic_fetch_sub_explicit(&ss->refs, 1, memory_order_acq_rel) != 1)
		return;
	for (uint32_t n = 0; n < NVMFD_MAX_NAMESPACES; n++)
		nvmfd_ns_put(ss->ns[n]);
	for (uint32_t h = 0; h < ss->nhosts; h++)
		free(ss->hosts[h]);
	free(ss->hosts);
	free(ss->ports);
	pthread_mutex_destroy(&ss->lock);
	free(ss);
}

uint64_t
nvmfd_genctr_next(uint64_t prev)
{
	struct timeval tv;
	uint64_t now;

	gettimeofday(&tv, NULL);
	now = (uint64_t)tv.tv_sec * 1000000 + (uint64_t)tv.tv_usec;
	return now > prev ? now : prev + 1;
}

/* FNV-1a, 64 bits: stable identifiers derived from names, not a security hash. */
static uint64_t
fnv1a(const void *buf, size_t len, uint64_t h)
{
	const uint8_t *p = buf;

	for (size_t i = 0; i < len; i++) {
		h ^= p[i];
		h *= 0x100000001b3ull;
	}
	return h;
}

static void
derive_id(uint8_t *out, size_t len, const char *a, uint32_t b)
{
	uint64_t h = 0xcbf29ce484222325ull;

	for (size_t i = 0; i < len; i += 8) {
		uint64_t v;

		h = fnv1a(a, strlen(a), h ^ i);
		h = fnv1a(&b, sizeof(b), h);
		v = h;
		memcpy(out + i, &v, len - i < 8 ? len - i : 8);
	}
}

struct nvmfd_subsystem *
nvmfd_subsystem_new(const char *nqn)
{
	struct nvmfd_subsystem *ss = calloc(1, sizeof(*ss));
	uint8_t sn[10];

	if (ss == NULL)
		return NULL;
	snprintf(ss->nqn, sizeof(ss->nqn), "%s", nqn);
	derive_id(sn, sizeof(sn), nqn, 0);
	for (int i = 0; i < 10; i++)
		snprintf(ss->serial + 2 * i, 3, "%02x", sn[i]);
	snprintf(ss->model, sizeof(ss->model), "nvmf nvmfd");
	pthread_mutex_init(&ss->lock, NULL);
	atomic_init(&ss->refs, 1);
	ss->next_cntlid = 1;
	ss->strict = -1;
	return ss;
}

bool
nvmfd_subsystem_on_port(const struct nvmfd_subsystem *ss, uint16_t port_id)
{
	for (uint32_t i = 0; i < ss->nports; i++)
		if (ss->ports[i] == port_id)
			return true;
	return false;
}

bool
nvmfd_subsystem_allows(const struct nvmfd_subsystem *ss, const char *hostnqn)
{
	if (ss->nhosts == 0)
		return true;
	for (uint32_t i = 0; i < ss->nhosts; i++)
		if (strcmp(ss->hosts[i], hostnqn) == 0)
			return true;
	return false;
}

struct nvmfd_namespace *
nvmfd_subsystem_ns(const struct nvmfd_subsystem *ss, uint32_t nsid)
{
	if (nsid == 0 || nsid > NVMFD_MAX_NAMESPACES)
		return NULL;
	return ss->ns[nsid - 1];
}

int
nvmfd_subsystem_add_namespace(struct nvmfd_subsystem *ss, uint32_t nsid,
    const char *spec, uint32_t block_size, char *err, size_t errlen)
{
	struct nvmfd_namespace *ns;

	if (block_size != 512 && block_size != 4096) {
		snprintf(err, errlen, "%s: block size %u (512 or 4096)", spec, block_size);
		return -1;
	}
	if (nsid == 0)
		for (nsid = 1; nsid <= NVMFD_MAX_NAMESPACES && ss->ns[nsid - 1]; nsid++)
			;
	if (nsid > NVMFD_MAX_NAMESPACES || ss->ns[nsid - 1] != NULL) {
		snprintf(err, errlen, "%s: namespace ID %u unavailable in %s", spec, nsid,
		    ss->nqn);
		return -1;
	}
	ns = calloc(1, sizeof(*ns));
	if (ns == NULL) {
		snprintf(err, errlen, "out of memory");
		return -1;
	}
	ns->dev = nvmfd_device_open(spec, block_size, err, errlen);
	if (ns->dev == NULL) {
		free(ns);
		return -1;
	}
	atomic_init(&ns->refs, 1);
	ns->nsid = nsid;
	ns->lba_shift = block_size == 4096 ? 12 : 9;
	ns->nlbas = nvmfd_device_size(ns->dev) >> ns->lba_shift;
	derive_id(ns->nguid, sizeof(ns->nguid), ss->nqn, nsid);
	derive_id(ns->uuid, sizeof(ns->uuid), ss->nqn, nsid + 0x10000);
	ns->uuid[6] = (uint8_t)((ns->uuid[6] & 0x0f) | 0x80);	/* version 8: custom */
	ns->uuid[8] = (uint8_t)((ns->uuid[8] & 0x3f) | 0x80);	/* RFC 4122 variant */
	memcpy(ns->eui64, ns->nguid + 8, sizeof(ns->eui64));
	ss->ns[nsid - 1] = ns;
	if (nsid > ss->nns)
		ss->nns = nsid;
	return 0;
}

static int
add_port(struct nvmfd_config *cfg, const char *address, int port, bool discovery_only,
    char *err, size_t errlen)
{
	struct nvmfd_port *p;
	struct in6_addr a6;
	struct in_addr a4;

	if (port <= 0 || port > 65535) {
		snprintf(err, errlen, "port %d out of range", port);
		return -1;
	}
	if (address != NULL && *address != '\0' && inet_pton(AF_INET, address, &a4) != 1 &&
	    inet_pton(AF_INET6, address, &a6) != 1) {
		snprintf(err, errlen, "listen address '%s' is not a numeric IPv4 or IPv6 address",
		    address);
		return -1;
	}
	p = realloc(cfg->ports, (cfg->nports + 1) * sizeof(*p));
	if (p == NULL) {
		snprintf(err, errlen, "out of memory");
		return -1;
	}
	cfg->ports = p;
	p = &cfg->ports[cfg->nports];
	memset(p, 0, sizeof(*p));
	p->id = (uint16_t)(cfg->nports + 1);
	snprintf(p->address, sizeof(p->address), "%s", address ? address : "");
	p->port = (uint16_t)port;
	p->discovery_only = discovery_only;
	cfg->nports++;
	return 0;
}

static int
add_subsystem(struct nvmfd_config *cfg, struct nvmfd_subsystem *ss)
{
	struct nvmfd_subsystem **v = realloc(cfg->subsystems,
	    (cfg->nsubsystems + 1) * sizeof(*v));

	if (v == NULL)
		return -1;
	cfg->subsystems = v;
	v[cfg->nsubsystems++] = ss;
	return 0;
}

static void
config_defaults(struct nvmfd_config *cfg)
{
	memset(cfg, 0, sizeof(*cfg));
	cfg->max_h2c_data = 256 * 1024;
	cfg->io_icd_size = 8192;
	cfg->max_io_queues = NVMFD_MAX_IO_QUEUES;
	cfg->genctr = nvmfd_genctr_next(0);
	cfg->header_digests_key = cfg->data_digests_key = cfg->disable_sq_fc_key = -1;
	for (int i = 0; i < NVMFD_NLIMITS; i++)
		cfg->limit[i] = nvmfd_limit_defs[i].def;
}

void
nvmfd_config_resolve(struct nvmfd_config *cfg, const struct nvmfd_options *o)
{
	cfg->strict |= o->strict;
	/* ICReq comes before Connect names a subsystem: the global mode decides. */
	cfg->header_digests = o->header_digests || cfg->header_digests_key == 1 ||
	    (cfg->header_digests_key < 0 && !cfg->strict);
	cfg->data_digests = o->data_digests || cfg->data_digests_key == 1 ||
	    (cfg->data_digests_key < 0 && !cfg->strict);
	cfg->allow_disable_sq_fc = o->allow_disable_sq_fc || cfg->disable_sq_fc_key == 1;
	if (o->max_h2c_data != 0)
		cfg->max_h2c_data = o->max_h2c_data;
	/* The command line wins over the file. */
	for (int i = 0; i < NVMFD_NLIMITS; i++)
		if (o->limit[i] >= 0)
			cfg->limit[i] = (uint32_t)o->limit[i];
	if (o->tcp_congestion != NULL)
		snprintf(cfg->tcp_congestion, sizeof(cfg->tcp_congestion), "%s", o->tcp_congestion);
}

bool
nvmfd_strict(const struct nvmfd_config *cfg, const struct nvmfd_subsystem *ss)
{
	return ss != NULL && ss->strict >= 0 ? ss->strict != 0 : cfg->strict;
}

bool
nvmfd_sq_fc_disable_permitted(const struct nvmfd_config *cfg,
    const struct nvmfd_subsystem *ss)
{
	return cfg->allow_disable_sq_fc ||
	    (cfg->disable_sq_fc_key < 0 && !nvmfd_strict(cfg, ss));
}

static void
default_subnqn(char *buf, size_t len)
{
	char host[256] = "localhost";
	uint8_t id[16];
	FILE *f = fopen("/etc/machine-id", "r");

	if (f != NULL) {
		if (fgets(host, sizeof(host), f) == NULL)
			snprintf(host, sizeof(host), "localhost");
		fclose(f);
	} else {
		gethostname(host, sizeof(host) - 1);
	}
	derive_id(id, sizeof(id), host, 0);
	snprintf(buf, len, "nqn.2014-08.org.nvmexpress:uuid:%02x%02x%02x%02x-%02x%02x-"
	    "%02x%02x-%02x%02x-%02x%02x%02x%02x%02x%02x", id[0], id[1], id[2], id[3],
	    id[4], id[5], id[6], id[7], id[8], id[9], id[10], id[11], id[12], id[13],
	    id[14], id[15]);
}

int
nvmfd_config_from_options(struct nvmfd_config *cfg, const struct nvmfd_options *o,
    char *err, size_t errlen)
{
	struct nvmfd_subsystem *ss;
	char nqn[NVMF_NQN_MAX_LEN + 1];

	config_defaults(cfg);
	if (o->ndevices == 0) {
		snprintf(err, errlen, "no device given (a file path or ramdisk:SIZE)");
		return -1;
	}
	if (add_port(cfg, o->address, o->port > 0 ? o->port : DEFAULT_IO_PORT, false,
	    err, errlen) != 0)
		return -1;
	if (o->discovery_port != 0 && add_port(cfg, o->address, o->discovery_port > 0 ?
	    o->discovery_port : DEFAULT_DISCOVERY_PORT, true, err, errlen) != 0)
		return -1;
	if (o->subnqn != NULL)
		snprintf(nqn, sizeof(nqn), "%s", o->subnqn);
	else
		default_subnqn(nqn, sizeof(nqn));
	ss = nvmfd_subsystem_new(nqn);
	if (ss == NULL || add_subsystem(cfg, ss) != 0) {
		snprintf(err, errlen, "out of memory");
		return -1;
	}
	ss->ports = calloc(1, sizeof(*ss->ports));
	if (ss->ports == NULL)
		return -1;
	ss->ports[0] = 1;
	ss->nports = 1;
	for (int i = 0; i < o->ndevices; i++)
		if (nvmfd_subsystem_add_namespace(ss, 0, o->devices[i], 512, err, errlen) != 0)
			return -1;
	return 0;
}

/* ------------------------------------------------------------------ JSON */

/*
 * Where a value sits, for errors: "FILE: subsystems[0].allowed_hosts[2]: ...".
 * Every error names the key; json-c keeps no positions for values, so only
 * syntax errors carry a line number.
 */
struct jctx {
	const char *file;
	char *err;
	size_t errlen;
};

static int __attribute__((format(printf, 3, 4)))
jfail(const struct jctx *j, const char *where, const char *fmt, ...)
{
	char msg[384];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	snprintf(j->err, j->errlen, "%s: %s: %s", j->file, where, msg);
	/* Keys and values are the user's: the error stays one line whatever they hold. */
	text_one_line(j->err);
	return -1;
}

static const char *
jtype(struct json_object *v)
{
	switch (json_object_get_type(v)) {
	case json_type_null: return "null";
	case json_type_boolean: return "a boolean";
	case json_type_double: return "a fractional number";
	case json_type_int: return "an integer";
	case json_type_object: return "an object";
	case json_type_array: return "a list";
	case json_type_string: return "a string";
	}
	return "something else";
}

/* "parent.key" or "key" at the top; cut short if need be (it only names a place). */
static void
jpath(char *buf, size_t len, const char *parent, const char *key)
{
	size_t used = 0;

	for (const char *part[3] = { parent, *parent != '\0' ? "." : "", key }, **p = part;
	    p < part + 3; p++)
		for (const char *c = *p; *c != '\0' && used + 1 < len; c++)
			buf[used++] = *c;
	if (len > 0)
		buf[used] = '\0';
}

/* A key not in known is a mistake worth an error, not a silent default. */
static int
check_keys(const struct jctx *j, struct json_object *o, const char *const *known,
    const char *where)
{
	json_object_object_foreach(o, key, val) {
		char kp[192];
		size_t i;

		(void)val;
		for (i = 0; known[i] != NULL && strcmp(known[i], key) != 0; i++)
			;
		if (known[i] == NULL) {
			jpath(kp, sizeof(kp), where, key);
			return jfail(j, kp, "unknown key");
		}
	}
	return 0;
}

static int
get_bool(const struct jctx *j, struct json_object *o, const char *parent,
    const char *key, bool *out)
{
	struct json_object *v;
	char kp[192];

	if (!json_object_object_get_ex(o, key, &v))
		return 0;
	jpath(kp, sizeof(kp), parent, key);
	if (!json_object_is_type(v, json_type_boolean))
		return jfail(j, kp, "must be true or false, not %s", jtype(v));
	*out = json_object_get_boolean(v);
	return 0;
}

/* A boolean key that may be absent: *out is then left at -1. */
static int
get_tristate(const struct jctx *j, struct json_object *o, const char *parent,
    const char *key, int8_t *out)
{
	bool v;

	if (!json_object_object_get_ex(o, key, NULL))
		return 0;
	if (get_bool(j, o, parent, key, &v) != 0)
		return -1;
	*out = v;
	return 0;
}

static int
check_uint(const struct jctx *j, struct json_object *v, const char *where, uint64_t min,
    uint64_t max, uint64_t *out)
{
	int64_t n;

	if (!json_object_is_type(v, json_type_int))
		return jfail(j, where, "must be an integer from %llu to %llu, not %s",
		    (unsigned long long)min, (unsigned long long)max, jtype(v));
	errno = 0;
	n = json_object_get_int64(v);
	if (errno != 0 || n < 0 || (uint64_t)n < min || (uint64_t)n > max)
		return jfail(j, where, "%s is not an integer from %llu to %llu",
		    json_object_to_json_string(v), (unsigned long long)min,
		    (unsigned long long)max);
	*out = (uint64_t)n;
	return 0;
}

static int
get_uint(const struct jctx *j, struct json_object *o, const char *parent,
    const char *key, uint64_t min, uint64_t max, uint64_t *out)
{
	struct json_object *v;
	char kp[192];

	if (!json_object_object_get_ex(o, key, &v))
		return 0;
	jpath(kp, sizeof(kp), parent, key);
	return check_uint(j, v, kp, min, max, out);
}

/* A string key; absent leaves *out alone. Empty strings mean nothing: errors. */
static int
get_str(const struct jctx *j, struct json_object *o, const char *parent,
    const char *key, const char **out)
{
	struct json_object *v;
	char kp[192];

	if (!json_object_object_get_ex(o, key, &v))
		return 0;
	jpath(kp, sizeof(kp), parent, key);
	if (!json_object_is_type(v, json_type_string))
		return jfail(j, kp, "must be a string, not %s", jtype(v));
	if (json_object_get_string_len(v) == 0)
		return jfail(j, kp, "must not be empty");
	if (strlen(json_object_get_string(v)) != (size_t)json_object_get_string_len(v))
		return jfail(j, kp, "contains a NUL character");
	*out = json_object_get_string(v);
	return 0;
}

/* A list key; an empty list would change the meaning of leaving it out. */
static int
get_list(const struct jctx *j, struct json_object *o, const char *parent,
    const char *key, const char *of, const char *one, struct json_object **out)
{
	struct json_object *v;
	char kp[192];

	*out = NULL;
	if (!json_object_object_get_ex(o, key, &v))
		return 0;
	jpath(kp, sizeof(kp), parent, key);
	if (!json_object_is_type(v, json_type_array))
		return jfail(j, kp, "must be a list of %s, not %s", of, jtype(v));
	if (json_object_array_length(v) == 0)
		return jfail(j, kp, "is an empty list: name at least one %s", one);
	*out = v;
	return 0;
}

static int
require_object(const struct jctx *j, struct json_object *v, const char *where,
    const char *what)
{
	if (!json_object_is_type(v, json_type_object))
		return jfail(j, where, "must be an object %s, not %s", what, jtype(v));
	return 0;
}

/* Printable ASCII of at most max bytes, as Identify's SN and MN fields take. */
static int
get_ascii(const struct jctx *j, struct json_object *o, const char *parent,
    const char *key, size_t max, char *dst, size_t dstlen)
{
	const char *s = NULL;
	char kp[192];

	if (get_str(j, o, parent, key, &s) != 0)
		return -1;
	if (s == NULL)
		return 0;
	jpath(kp, sizeof(kp), parent, key);
	if (strlen(s) > max)
		return jfail(j, kp, "longer than %zu characters", max);
	for (const char *p = s; *p != '\0'; p++)
		if (*p < 0x20 || *p > 0x7e)
			return jfail(j, kp, "only printable ASCII characters fit");
	snprintf(dst, dstlen, "%s", s);
	return 0;
}

static int
json_listener(const struct jctx *j, struct nvmfd_config *cfg, struct json_object *o,
    bool discovery_only, const char *where)
{
	static const char *const known[] = { "address", "port", NULL };
	uint64_t port = discovery_only ? DEFAULT_DISCOVERY_PORT : DEFAULT_IO_PORT;
	const char *addr = NULL;
	char kp[192];

	if (require_object(j, o, where, "{\"address\": ..., \"port\": ...}") != 0 ||
	    check_keys(j, o, known, where) != 0 ||
	    get_str(j, o, where, "address", &addr) != 0 ||
	    get_uint(j, o, where, "port", 1, 65535, &port) != 0)
		return -1;
	jpath(kp, sizeof(kp), where, "address");
	if (add_port(cfg, addr, (int)port, discovery_only, j->err, j->errlen) != 0)
		return jfail(j, addr != NULL ? kp : where, "%s", j->err);
	for (uint32_t i = 0; i + 1 < cfg->nports; i++) {
		const struct nvmfd_port *a = &cfg->ports[i], *b = &cfg->ports[cfg->nports - 1];

		if (a->port == b->port && strcmp(a->address, b->address) == 0)
			return jfail(j, where, "%s port %u is listed twice",
			    *b->address != '\0' ? b->address : "every address", b->port);
	}
	return 0;
}

static int
json_hosts(const struct jctx *j, struct nvmfd_subsystem *ss, struct json_object *o,
    const char *where)
{
	struct json_object *arr;
	char kp[192];
	size_t n;

	if (get_list(j, o, where, "allowed_hosts", "host NQNs", "host NQN", &arr) != 0)
		return -1;
	if (arr == NULL)
		return 0;
	n = json_object_array_length(arr);
	ss->hosts = calloc(n, sizeof(*ss->hosts));
	if (ss->hosts == NULL)
		return jfail(j, where, "out of memory");
	for (size_t i = 0; i < n; i++) {
		struct json_object *h = json_object_array_get_idx(arr, i);
		const char *why;

		snprintf(kp, sizeof(kp), "%s.allowed_hosts[%zu]", where, i);
		if (!json_object_is_type(h, json_type_string))
			return jfail(j, kp, "must be a host NQN string, not %s", jtype(h));
		if (strlen(json_object_get_string(h)) != (size_t)json_object_get_string_len(h))
			return jfail(j, kp, "contains a NUL character");
		if ((why = nvmfd_nqn_invalid(json_object_get_string(h))) != NULL)
			return jfail(j, kp, "not an NQN: %s", why);
		ss->hosts[ss->nhosts] = strdup(json_object_get_string(h));
		if (ss->hosts[ss->nhosts] == NULL)
			return jfail(j, kp, "out of memory");
		ss->nhosts++;
	}
	return 0;
}

static int
json_ports(const struct jctx *j, struct nvmfd_config *cfg, struct nvmfd_subsystem *ss,
    struct json_object *o, const char *where)
{
	struct json_object *arr;
	char kp[192];
	size_t n;

	if (get_list(j, o, where, "ports", "\"listen\" entry numbers",
	    "\"listen\" entry number", &arr) != 0)
		return -1;
	n = arr != NULL ? json_object_array_length(arr) : cfg->nports;
	ss->ports = calloc(n, sizeof(*ss->ports));
	if (ss->ports == NULL)
		return jfail(j, where, "out of memory");
	if (arr == NULL) {
		/* Absent: every NVMe/TCP listener. */
		for (uint32_t i = 0; i < cfg->nports; i++)
			if (!cfg->ports[i].discovery_only)
				ss->ports[ss->nports++] = cfg->ports[i].id;
		return 0;
	}
	for (size_t i = 0; i < n; i++) {
		uint64_t id;

		snprintf(kp, sizeof(kp), "%s.ports[%zu]", where, i);
		if (check_uint(j, json_object_array_get_idx(arr, i), kp, 1, 65535, &id) != 0)
			return -1;
		if (id > cfg->nports || cfg->ports[id - 1].discovery_only)
			return jfail(j, kp, "port %llu is not one of the \"listen\" entries "
			    "(numbered from 1)", (unsigned long long)id);
		ss->ports[ss->nports++] = (uint16_t)id;
	}
	return 0;
}

static int
json_namespaces(const struct jctx *j, struct nvmfd_subsystem *ss, struct json_object *o,
    const char *where)
{
	static const char *const known[] = { "device", "nsid", "block_size", NULL };
	struct json_object *arr;
	char np[192];

	if (get_list(j, o, where, "namespaces", "{\"device\": ...} objects",
	    "namespace", &arr) != 0)
		return -1;
	if (arr == NULL) {
		jpath(np, sizeof(np), where, "namespaces");
		return jfail(j, np, "missing: a subsystem lists at least one "
		    "{\"device\": ...}");
	}
	for (size_t i = 0; i < json_object_array_length(arr); i++) {
		struct json_object *n = json_object_array_get_idx(arr, i);
		uint64_t nsid = 0, bs = 512;
		const char *dev = NULL;

		snprintf(np, sizeof(np), "%s.namespaces[%zu]", where, i);
		if (require_object(j, n, np, "{\"device\": ...}") != 0 ||
		    check_keys(j, n, known, np) != 0 ||
		    get_str(j, n, np, "device", &dev) != 0 ||
		    get_uint(j, n, np, "nsid", 1, NVMFD_MAX_NAMESPACES, &nsid) != 0 ||
		    get_uint(j, n, np, "block_size", 512, 4096, &bs) != 0)
			return -1;
		if (dev == NULL)
			return jfail(j, np, "needs \"device\" (a path or ramdisk:SIZE)");
		if (nvmfd_subsystem_add_namespace(ss, (uint32_t)nsid, dev, (uint32_t)bs,
		    j->err, j->errlen) != 0)
			return jfail(j, np, "%s", j->err);
	}
	return 0;
}

static int
json_subsystem(const struct jctx *j, struct nvmfd_config *cfg, struct json_object *o,
    const char *where)
{
	static const char *const known[] = { "nqn", "serial", "model", "allowed_hosts",
		"ports", "namespaces", "strict", NULL };
	const char *nqn = NULL, *why;
	struct nvmfd_subsystem *ss;
	char kp[192];

	if (require_object(j, o, where, "{\"nqn\": ..., \"namespaces\": [...]}") != 0 ||
	    check_keys(j, o, known, where) != 0 ||
	    get_str(j, o, where, "nqn", &nqn) != 0)
		return -1;
	jpath(kp, sizeof(kp), where, "nqn");
	if (nqn == NULL)
		return jfail(j, kp, "missing: a subsystem needs \"nqn\": \"nqn....\"");
	if ((why = nvmfd_nqn_invalid(nqn)) != NULL)
		return jfail(j, kp, "not an NQN: %s", why);
	if (strcmp(nqn, NVMF_DISCOVERY_NQN) == 0)
		return jfail(j, kp, "%s is the discovery subsystem's NQN", nqn);
	for (uint32_t i = 0; i < cfg->nsubsystems; i++)
		if (strcmp(cfg->subsystems[i]->nqn, nqn) == 0)
			return jfail(j, kp, "subsystem %s given twice", nqn);
	ss = nvmfd_subsystem_new(nqn);
	if (ss == NULL || add_subsystem(cfg, ss) != 0) {
		free(ss);
		return jfail(j, where, "out of memory");
	}
	if (get_tristate(j, o, where, "strict", &ss->strict) != 0 ||
	    get_ascii(j, o, where, "serial", 20, ss->serial, sizeof(ss->serial)) != 0 ||
	    get_ascii(j, o, where, "model", 40, ss->model, sizeof(ss->model)) != 0 ||
	    json_hosts(j, ss, o, where) != 0 ||
	    json_ports(j, cfg, ss, o, where) != 0 ||
	    json_namespaces(j, ss, o, where) != 0)
		return -1;
	return 0;
}

/* Line of byte offset off, counted from 1. */
static unsigned
line_of(const char *text, size_t off)
{
	unsigned line = 1;

	for (size_t i = 0; i < off; i++)
		if (text[i] == '\n')
			line++;
	return line;
}

static struct json_object *
parse_strict(struct json_tokener *tok, const char *text, size_t len,
    enum json_tokener_error *jerr, size_t *end)
{
	struct json_object *o;

	json_tokener_set_flags(tok, JSON_TOKENER_STRICT | JSON_TOKENER_VALIDATE_UTF8);
	o = json_tokener_parse_ex(tok, text, (int)len);
	*jerr = json_tokener_get_error(tok);
	*end = json_tokener_get_parse_end(tok);
	return o;
}

/*
 * Reads and parses the whole file: standard JSON only (json-c's strict mode,
 * UTF-8 checked), one object, nothing after it but white space.
 */
static struct json_object *
parse_file(const char *file, char *err, size_t errlen)
{
	struct json_tokener *tok;
	struct json_object *root = NULL;
	enum json_tokener_error jerr;
	char *text;
	size_t len = 0, end;
	FILE *f = fopen(file, "r");

	if (f == NULL) {
		snprintf(err, errlen, "%s: %s", file, strerror(errno));
		return NULL;
	}
	text = malloc(CONFIG_MAX_BYTES + 1);
	if (text != NULL)
		len = fread(text, 1, CONFIG_MAX_BYTES + 1, f);
	if (text == NULL || ferror(f) || len > CONFIG_MAX_BYTES) {
		snprintf(err, errlen, "%s: %s", file, text == NULL ? "out of memory" :
		    ferror(f) ? strerror(errno) : "larger than 4 MiB");
		fclose(f);
		free(text);
		return NULL;
	}
	fclose(f);
	text[len] = '\0';
	tok = json_tokener_new();
	if (tok == NULL) {
		snprintf(err, errlen, "%s: out of memory", file);
		free(text);
		return NULL;
	}
	for (end = 0; end < len && isspace((unsigned char)text[end]); end++)
		;
	if (end == len || text[end] != '{') {
		snprintf(err, errlen, "%s:%u: the top level must be an object {...}", file,
		    line_of(text, end));
		goto done;
	}
	root = parse_strict(tok, text, len, &jerr, &end);
	if (root == NULL && jerr != json_tokener_continue && end > 0) {
		/* Strict mode fails on what follows a value: was there one before it? */
		json_tokener_reset(tok);
		root = parse_strict(tok, text, end, &jerr, &end);
		if (root != NULL) {
			json_object_put(root);
			root = NULL;
			snprintf(err, errlen, "%s:%u: text after the JSON object", file,
			    line_of(text, end));
			goto done;
		}
		json_tokener_reset(tok);
		root = parse_strict(tok, text, len, &jerr, &end);
	}
	if (root == NULL) {
		if (jerr == json_tokener_continue || jerr == json_tokener_success)
			snprintf(err, errlen, "%s:%u: invalid JSON: the file ends inside a "
			    "value", file, line_of(text, len));
		else
			snprintf(err, errlen, "%s:%u: invalid JSON: %s", file,
			    line_of(text, end), json_tokener_error_desc(jerr));
	} else {
		while (end < len && isspace((unsigned char)text[end]))
			end++;
		if (end < len) {
			snprintf(err, errlen, "%s:%u: text after the JSON object", file,
			    line_of(text, end));
			json_object_put(root);
			root = NULL;
		} else if (!json_object_is_type(root, json_type_object)) {
			snprintf(err, errlen, "%s: the top level must be an object {...}, "
			    "not %s", file, jtype(root));
			json_object_put(root);
			root = NULL;
		}
	}
done:
	json_tokener_free(tok);
	free(text);
	return root;
}

static int
json_limits(const struct jctx *j, struct nvmfd_config *cfg, struct json_object *root)
{
	uint64_t v;

	for (int i = 0; i < NVMFD_NLIMITS; i++) {
		const struct nvmfd_limit_def *d = &nvmfd_limit_defs[i];

		v = cfg->limit[i];
		if (get_uint(j, root, "", d->key, d->min, d->max, &v) != 0)
			return -1;
		cfg->limit[i] = (uint32_t)v;
	}
	return 0;
}

int
nvmfd_config_load_json(struct nvmfd_config *cfg, const char *file, char *err,
    size_t errlen)
{
	static const char *known[9 + NVMFD_NLIMITS + 1] = { "listen", "discovery",
		"subsystems", "strict", "header_digests", "data_digests",
		"allow_disable_sq_flow_control", "max_h2c_data", "tcp_congestion" };
	const struct jctx j = { .file = file, .err = err, .errlen = errlen };
	struct json_object *root, *v;
	uint64_t n;
	int rc = -1;

	config_defaults(cfg);
	for (int i = 0; i < NVMFD_NLIMITS; i++)
		known[9 + i] = nvmfd_limit_defs[i].key;
	root = parse_file(file, err, errlen);
	if (root == NULL)
		return -1;
	if (check_keys(&j, root, known, "") ||
	    get_bool(&j, root, "", "strict", &cfg->strict) ||
	    get_tristate(&j, root, "", "header_digests", &cfg->header_digests_key) ||
	    get_tristate(&j, root, "", "data_digests", &cfg->data_digests_key) ||
	    get_tristate(&j, root, "", "allow_disable_sq_flow_control",
	    &cfg->disable_sq_fc_key) ||
	    json_limits(&j, cfg, root))
		goto out;
	n = cfg->max_h2c_data;
	if (get_uint(&j, root, "", "max_h2c_data", 4096, 1u << 24, &n) != 0)
		goto out;
	if (n % 4 != 0) {
		jfail(&j, "max_h2c_data", "%llu is not a multiple of 4", (unsigned long long)n);
		goto out;
	}
	cfg->max_h2c_data = (uint32_t)n;
	{
		const char *cc = NULL;

		if (get_str(&j, root, "", "tcp_congestion", &cc) != 0)
			goto out;
		char why[400];

		if (cc != NULL && strlen(cc) >= sizeof(cfg->tcp_congestion)) {
			jfail(&j, "tcp_congestion", "\"%s\" is longer than %zu characters", cc,
			    sizeof(cfg->tcp_congestion) - 1);
			goto out;
		}
		/* Tried now: a reload must not accept a name the next start would refuse. */
		if (cc != NULL && nvmf_tcp_congestion_check(cc, why, sizeof(why)) != 0) {
			jfail(&j, "tcp_congestion", "%s", why);
			goto out;
		}
		if (cc != NULL)
			snprintf(cfg->tcp_congestion, sizeof(cfg->tcp_congestion), "%s", cc);
	}

	if (get_list(&j, root, "", "listen", "{\"address\": ..., \"port\": ...} objects",
	    "listener", &v) != 0)
		goto out;
	if (v == NULL) {
		jfail(&j, "listen", "missing: list at least one {\"address\": ..., "
		    "\"port\": ...}");
		goto out;
	}
	for (size_t i = 0; i < json_object_array_length(v); i++) {
		char where[48];

		snprintf(where, sizeof(where), "listen[%zu]", i);
		if (json_listener(&j, cfg, json_object_array_get_idx(v, i), false, where) != 0)
			goto out;
	}
	/* "discovery": an object, or false for none (as leaving it out). */
	if (json_object_object_get_ex(root, "discovery", &v) &&
	    !(json_object_is_type(v, json_type_boolean) && !json_object_get_boolean(v))) {
		if (!json_object_is_type(v, json_type_object)) {
			jfail(&j, "discovery", "must be an object {\"address\": ..., \"port\": "
			    "...} or false, not %s", json_object_is_type(v, json_type_boolean) ?
			    "true" : jtype(v));
			goto out;
		}
		if (json_listener(&j, cfg, v, true, "discovery") != 0)
			goto out;
	}

	if (get_list(&j, root, "", "subsystems", "subsystem objects", "subsystem", &v) != 0)
		goto out;
	if (v == NULL) {
		jfail(&j, "subsystems", "missing: list at least one subsystem");
		goto out;
	}
	for (size_t i = 0; i < json_object_array_length(v); i++) {
		char where[48];

		snprintf(where, sizeof(where), "subsystems[%zu]", i);
		if (json_subsystem(&j, cfg, json_object_array_get_idx(v, i), where) != 0)
			goto out;
	}
	rc = 0;
out:
	json_object_put(root);
	return rc;
}

void
nvmfd_config_free(struct nvmfd_config *cfg)
{
	for (uint32_t i = 0; i < cfg->nsubsystems; i++)
		nvmfd_subsystem_put(cfg->subsystems[i]);
	free(cfg->subsystems);
	free(cfg->ports);
	memset(cfg, 0, sizeof(*cfg));
}
