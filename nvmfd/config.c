/*
 * config.c - what nvmfd serves: subsystems, namespaces, listen ports and the
 * hosts allowed in, from FreeBSD's command line or a JSON file (-c).
 */
#include <arpa/inet.h>
#include <errno.h>
#include <json-c/json.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "nvmfd.h"

#define DEFAULT_IO_PORT		4420
#define DEFAULT_DISCOVERY_PORT	8009

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
	cfg->genctr = 1;
	cfg->header_digests_key = cfg->data_digests_key = cfg->disable_sq_fc_key = -1;
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

static int
get_bool(struct json_object *o, const char *key, bool *out, const char *path,
    char *err, size_t errlen)
{
	struct json_object *v;

	if (!json_object_object_get_ex(o, key, &v))
		return 0;
	if (!json_object_is_type(v, json_type_boolean)) {
		snprintf(err, errlen, "%s: \"%s\" must be true or false", path, key);
		return -1;
	}
	*out = json_object_get_boolean(v);
	return 0;
}

/* A boolean key that may be absent: *out is then left at -1. */
static int
get_tristate(struct json_object *o, const char *key, int8_t *out, const char *path,
    char *err, size_t errlen)
{
	bool v;

	if (!json_object_object_get_ex(o, key, NULL))
		return 0;
	if (get_bool(o, key, &v, path, err, errlen) != 0)
		return -1;
	*out = v;
	return 0;
}

/* A key not in known is a mistake worth an error, not a silent default. */
static int
check_keys(struct json_object *o, const char *const *known, const char *path,
    char *err, size_t errlen)
{
	json_object_object_foreach(o, key, val) {
		size_t i;

		(void)val;
		for (i = 0; known[i] != NULL && strcmp(known[i], key) != 0; i++)
			;
		if (known[i] == NULL) {
			snprintf(err, errlen, "%s: unknown key \"%s\"", path, key);
			return -1;
		}
	}
	return 0;
}

static int
get_uint(struct json_object *o, const char *key, uint64_t max, uint64_t *out,
    const char *path, char *err, size_t errlen)
{
	struct json_object *v;
	int64_t n;

	if (!json_object_object_get_ex(o, key, &v))
		return 0;
	n = json_object_get_int64(v);
	if (!json_object_is_type(v, json_type_int) || n < 0 || (uint64_t)n > max) {
		snprintf(err, errlen, "%s: \"%s\" must be an integer from 0 to %llu", path,
		    key, (unsigned long long)max);
		return -1;
	}
	*out = (uint64_t)n;
	return 0;
}

static const char *
get_str(struct json_object *o, const char *key)
{
	struct json_object *v;

	if (!json_object_object_get_ex(o, key, &v) ||
	    !json_object_is_type(v, json_type_string))
		return NULL;
	return json_object_get_string(v);
}

static int
json_address(struct nvmfd_config *cfg, struct json_object *o, bool discovery_only,
    const char *path, char *err, size_t errlen)
{
	static const char *const known[] = { "address", "port", NULL };
	uint64_t port = discovery_only ? DEFAULT_DISCOVERY_PORT : DEFAULT_IO_PORT;
	const char *addr = get_str(o, "address");

	if (!json_object_is_type(o, json_type_object)) {
		snprintf(err, errlen, "%s: a listen entry must be an object "
		    "{\"address\": ..., \"port\": ...}", path);
		return -1;
	}
	if (check_keys(o, known, path, err, errlen) != 0)
		return -1;
	if (get_uint(o, "port", 65535, &port, path, err, errlen) != 0)
		return -1;
	return add_port(cfg, addr, (int)port, discovery_only, err, errlen);
}

static int
json_subsystem(struct nvmfd_config *cfg, struct json_object *o, const char *path,
    char *err, size_t errlen)
{
	static const char *const known[] = { "nqn", "serial", "model", "allowed_hosts",
		"ports", "namespaces", "strict", NULL };
	static const char *const ns_known[] = { "device", "nsid", "block_size", NULL };
	const char *nqn = get_str(o, "nqn"), *s;
	struct json_object *arr;
	struct nvmfd_subsystem *ss;

	if (!json_object_is_type(o, json_type_object)) {
		snprintf(err, errlen, "%s: a subsystem must be an object {\"nqn\": ...}", path);
		return -1;
	}
	if (check_keys(o, known, path, err, errlen) != 0)
		return -1;

	if (nqn == NULL || strlen(nqn) > NVMF_NQN_MAX_LEN || strncmp(nqn, "nqn.", 4) != 0) {
		snprintf(err, errlen, "%s: a subsystem needs \"nqn\": \"nqn....\" "
		    "(at most %d characters)", path, NVMF_NQN_MAX_LEN);
		return -1;
	}
	if (strcmp(nqn, NVMF_DISCOVERY_NQN) == 0) {
		snprintf(err, errlen, "%s: %s is the discovery subsystem's NQN", path, nqn);
		return -1;
	}
	for (uint32_t i = 0; i < cfg->nsubsystems; i++)
		if (strcmp(cfg->subsystems[i]->nqn, nqn) == 0) {
			snprintf(err, errlen, "%s: subsystem %s given twice", path, nqn);
			return -1;
		}
	ss = nvmfd_subsystem_new(nqn);
	if (ss == NULL || add_subsystem(cfg, ss) != 0) {
		snprintf(err, errlen, "out of memory");
		return -1;
	}
	if (get_tristate(o, "strict", &ss->strict, path, err, errlen) != 0)
		return -1;
	if ((s = get_str(o, "serial")) != NULL)
		snprintf(ss->serial, sizeof(ss->serial), "%s", s);
	if ((s = get_str(o, "model")) != NULL)
		snprintf(ss->model, sizeof(ss->model), "%s", s);

	if (json_object_object_get_ex(o, "allowed_hosts", &arr)) {
		size_t n = json_object_array_length(arr);

		if (!json_object_is_type(arr, json_type_array)) {
			snprintf(err, errlen, "%s: \"allowed_hosts\" must be a list of host NQNs",
			    path);
			return -1;
		}
		ss->hosts = calloc(n + 1, sizeof(*ss->hosts));
		for (size_t i = 0; ss->hosts != NULL && i < n; i++) {
			const char *h = json_object_get_string(json_object_array_get_idx(arr, i));

			if (h == NULL || strncmp(h, "nqn.", 4) != 0) {
				snprintf(err, errlen, "%s: allowed host %zu is not an NQN", path, i);
				return -1;
			}
			ss->hosts[ss->nhosts++] = strdup(h);
		}
	}

	if (json_object_object_get_ex(o, "ports", &arr)) {
		size_t n = json_object_array_length(arr);

		ss->ports = calloc(n + 1, sizeof(*ss->ports));
		for (size_t i = 0; ss->ports != NULL && i < n; i++) {
			int id = json_object_get_int(json_object_array_get_idx(arr, i));

			if (id < 1 || (uint32_t)id > cfg->nports ||
			    cfg->ports[id - 1].discovery_only) {
				snprintf(err, errlen, "%s: port %d is not one of the \"listen\" "
				    "entries (numbered from 1)", path, id);
				return -1;
			}
			ss->ports[ss->nports++] = (uint16_t)id;
		}
	} else {
		ss->ports = calloc(cfg->nports + 1, sizeof(*ss->ports));
		for (uint32_t i = 0; ss->ports != NULL && i < cfg->nports; i++)
			if (!cfg->ports[i].discovery_only)
				ss->ports[ss->nports++] = cfg->ports[i].id;
	}

	if (!json_object_object_get_ex(o, "namespaces", &arr) ||
	    !json_object_is_type(arr, json_type_array) ||
	    json_object_array_length(arr) == 0) {
		snprintf(err, errlen, "%s: \"namespaces\" must list at least one "
		    "{\"device\": ...}", path);
		return -1;
	}
	for (size_t i = 0; i < json_object_array_length(arr); i++) {
		struct json_object *n = json_object_array_get_idx(arr, i);
		uint64_t nsid = 0, bs = 512;
		const char *dev = get_str(n, "device");
		char npath[128];

		snprintf(npath, sizeof(npath), "%s.namespaces[%zu]", path, i);
		if (!json_object_is_type(n, json_type_object)) {
			snprintf(err, errlen, "%s: must be an object {\"device\": ...}", npath);
			return -1;
		}
		if (check_keys(n, ns_known, npath, err, errlen) != 0)
			return -1;
		if (dev == NULL) {
			snprintf(err, errlen, "%s: needs \"device\" (a path or ramdisk:SIZE)", npath);
			return -1;
		}
		if (get_uint(n, "nsid", NVMFD_MAX_NAMESPACES, &nsid, npath, err, errlen) != 0 ||
		    get_uint(n, "block_size", 4096, &bs, npath, err, errlen) != 0)
			return -1;
		if (nvmfd_subsystem_add_namespace(ss, (uint32_t)nsid, dev, (uint32_t)bs, err,
		    errlen) != 0)
			return -1;
	}
	return 0;
}

int
nvmfd_config_load_json(struct nvmfd_config *cfg, const char *path, char *err,
    size_t errlen)
{
	static const char *const known[] = { "listen", "discovery", "subsystems",
		"strict", "header_digests", "data_digests", "allow_disable_sq_flow_control",
		"max_h2c_data", NULL };
	struct json_object *root, *v;
	uint64_t n;
	int rc = -1;

	config_defaults(cfg);
	if (access(path, R_OK) != 0) {
		snprintf(err, errlen, "%s: %s", path, strerror(errno));
		return -1;
	}
	root = json_object_from_file(path);
	if (root == NULL || !json_object_is_type(root, json_type_object)) {
		const char *why = root == NULL ? json_util_get_last_err() : NULL;
		size_t len;

		if (root == NULL)
			snprintf(err, errlen, "%s: invalid JSON: %s", path,
			    why != NULL ? why : "parse error");
		else
			snprintf(err, errlen, "%s: not a JSON object (the top level must be "
			    "{...})", path);
		/* json-c ends its message with a newline: the error stays one line. */
		len = strlen(err);
		while (len > 0 && (err[len - 1] == '\n' || err[len - 1] == ' '))
			err[--len] = '\0';
		if (root != NULL)
			json_object_put(root);
		return -1;
	}
	if (check_keys(root, known, path, err, errlen) ||
	    get_bool(root, "strict", &cfg->strict, path, err, errlen) ||
	    get_tristate(root, "header_digests", &cfg->header_digests_key, path, err,
	    errlen) ||
	    get_tristate(root, "data_digests", &cfg->data_digests_key, path, err, errlen) ||
	    get_tristate(root, "allow_disable_sq_flow_control", &cfg->disable_sq_fc_key,
	    path, err, errlen))
		goto out;
	n = cfg->max_h2c_data;
	if (get_uint(root, "max_h2c_data", 1u << 24, &n, path, err, errlen) != 0)
		goto out;
	cfg->max_h2c_data = (uint32_t)n;

	if (!json_object_object_get_ex(root, "listen", &v) ||
	    !json_object_is_type(v, json_type_array) || json_object_array_length(v) == 0) {
		snprintf(err, errlen, "%s: \"listen\" must list at least one "
		    "{\"address\": ..., \"port\": ...}", path);
		goto out;
	}
	for (size_t i = 0; i < json_object_array_length(v); i++)
		if (json_address(cfg, json_object_array_get_idx(v, i), false, path, err,
		    errlen) != 0)
			goto out;
	if (json_object_object_get_ex(root, "discovery", &v) &&
	    !json_object_is_type(v, json_type_boolean) &&
	    json_address(cfg, v, true, path, err, errlen) != 0)
		goto out;

	if (!json_object_object_get_ex(root, "subsystems", &v) ||
	    !json_object_is_type(v, json_type_array) || json_object_array_length(v) == 0) {
		snprintf(err, errlen, "%s: \"subsystems\" must list at least one subsystem",
		    path);
		goto out;
	}
	for (size_t i = 0; i < json_object_array_length(v); i++) {
		char spath[64];

		snprintf(spath, sizeof(spath), "subsystems[%zu]", i);
		if (json_subsystem(cfg, json_object_array_get_idx(v, i), spath, err,
		    errlen) != 0)
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
	for (uint32_t i = 0; i < cfg->nsubsystems; i++) {
		struct nvmfd_subsystem *ss = cfg->subsystems[i];

		for (uint32_t n = 0; n < NVMFD_MAX_NAMESPACES; n++) {
			if (ss->ns[n] != NULL) {
				nvmfd_device_close(ss->ns[n]->dev);
				free(ss->ns[n]);
			}
		}
		for (uint32_t h = 0; h < ss->nhosts; h++)
			free(ss->hosts[h]);
		free(ss->hosts);
		free(ss->ports);
		pthread_mutex_destroy(&ss->lock);
		free(ss);
	}
	free(cfg->subsystems);
	free(cfg->ports);
	memset(cfg, 0, sizeof(*cfg));
}
