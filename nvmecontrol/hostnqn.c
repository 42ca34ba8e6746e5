/* SPDX-License-Identifier: BSD-2-Clause
 * Copyright (c) 2026 The nvmf developers */
/*
 * hostnqn.c - the host NQN and host ID, found and made by libnvme as nvme-cli
 * does:
 *
 *   host NQN: -q, else $LIBNVME_HOSTNQN, else /etc/nvme/hostnqn, else
 *             made from the host ID when there is one
 *             (nqn.2014-08.org.nvmexpress:uuid:<host ID>), else
 *             nvmf_hostnqn_generate() (from the DMI system UUID where the
 *             machine has one, else a random UUID);
 *   host ID:  -I, else $LIBNVME_HOSTID, else /etc/nvme/hostid, else the UUID
 *             of a "...:uuid:<uuid>" host NQN, else a random UUID.
 *
 * $NVMF_NVME_CONFDIR replaces /etc/nvme (hostnqn, hostid, discovery.conf,
 * config.json): libnvme reads a path fixed at its build, so a directory
 * given this way is read here, line for line as libnvme reads it.
 */
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "nvmecontrol.h"
#include "nvme_glue.h"

#define DEFAULT_NVME_CONFDIR	"/etc/nvme"
#define NQN_UUID_PREFIX		"nqn.2014-08.org.nvmexpress:uuid:"

/* -------------------------------------------------------------------- UUIDs */
/*
 * Ours, not libnvme's: reconnect and devlist read the host ID in every
 * reply, and loading libnvme with libcrypto for 16 bytes of hex cost each
 * of nvmf-devd's reconnect actions 3.7 ms.
 */
static int
hex_value(char c)
{
	return c <= '9' ? c - '0' : (c | 0x20) - 'a' + 10;
}

int
uuid_parse(const char *s, uint8_t out[16])
{
	unsigned n = 0;

	if (s == NULL || strlen(s) != 36 || s[8] != '-' || s[13] != '-' || s[18] != '-' ||
	    s[23] != '-')
		return -1;
	for (int i = 0; i < 36; i++)
		if (i != 8 && i != 13 && i != 18 && i != 23 && !isxdigit((unsigned char)s[i]))
			return -1;
	for (int i = 0; i < 36; i += 2) {
		if (s[i] == '-')
			i++;
		out[n++] = (uint8_t)(hex_value(s[i]) << 4 | hex_value(s[i + 1]));
	}
	return 0;
}

void
uuid_format(const uint8_t in[16], char out[37])
{
	snprintf(out, 37, "%02x%02x%02x%02x-%02x%02x-%02x%02x-%02x%02x-"
	    "%02x%02x%02x%02x%02x%02x", in[0], in[1], in[2], in[3], in[4], in[5], in[6],
	    in[7], in[8], in[9], in[10], in[11], in[12], in[13], in[14], in[15]);
}

/* ---------------------------------------------------------------------- NQNs */
bool
nqn_valid(const char *nqn)
{
	size_t len;

	if (nqn == NULL)
		return false;
	len = strlen(nqn);
	if (len < 5 || len > NVMF_NQN_MAX_LEN || strncmp(nqn, "nqn.", 4) != 0)
		return false;
	for (const char *p = nqn; *p != '\0'; p++)
		if ((unsigned char)*p <= ' ' || (unsigned char)*p == 0x7f)
			return false;
	return true;
}

/* ------------------------------------------------------------------ files */
const char *
nvme_confdir(void)
{
	const char *d = getenv("NVMF_NVME_CONFDIR");

	return d != NULL && d[0] != '\0' ? d : DEFAULT_NVME_CONFDIR;
}

int
nvme_conf_path(const char *name, char *buf, size_t len)
{
	int n = snprintf(buf, len, "%s/%s", nvme_confdir(), name);

	return n < 0 || (size_t)n >= len ? -1 : 0;
}

/* First line of a small file, trailing blanks dropped; NULL when absent or empty. */
static char *
read_first_line(const char *path)
{
	char buf[512];
	FILE *f;
	size_t n;

	f = fopen(path, "re");
	if (f == NULL)
		return NULL;
	n = fread(buf, 1, sizeof(buf) - 1, f);
	fclose(f);
	buf[n] = '\0';
	buf[strcspn(buf, "\r\n")] = '\0';
	for (n = strlen(buf); n > 0 && isspace((unsigned char)buf[n - 1]); n--)
		buf[n - 1] = '\0';
	return buf[0] != '\0' ? strdup(buf) : NULL;
}

/* $env, else the configuration file: libnvme's own reader for /etc/nvme. */
static char *
configured(const char *env, const char *name, char *(*libnvme_reader)(void))
{
	const char *v = getenv(env);
	char path[4096];

	if (v != NULL)
		return v[0] != '\0' ? strdup(v) : NULL;
	if (strcmp(nvme_confdir(), DEFAULT_NVME_CONFDIR) == 0)
		return libnvme_reader();
	if (nvme_conf_path(name, path, sizeof(path)) != 0)
		return NULL;
	return read_first_line(path);
}

char *
hostnqn_configured(void)
{
	return configured("LIBNVME_HOSTNQN", "hostnqn", glue_hostnqn_from_file);
}

char *
hostnqn_generate(void)
{
	return glue_hostnqn_generate();
}

/* Where a host NQN or ID came from, for the message that rejects it. */
static const char *
source(const char *arg, const char *opt, const char *env, const char *name, char *buf,
    size_t len)
{
	if (arg != NULL)
		return opt;
	if (getenv(env) != NULL)
		return env;
	if (nvme_conf_path(name, buf, len) != 0)
		return name;
	return buf;
}

int
host_ids_get(const char *hostnqn_arg, const char *hostid_arg, struct host_ids *ids,
    char *err, size_t errlen)
{
	char *nqn = NULL, *hid = NULL, where[4096];
	bool have_id = false;
	int rc = -1;

	memset(ids, 0, sizeof(*ids));
	nqn = hostnqn_arg != NULL ? strdup(hostnqn_arg) : hostnqn_configured();
	hid = hostid_arg != NULL ? strdup(hostid_arg) :
	    configured("LIBNVME_HOSTID", "hostid", glue_hostid_from_file);

	if (hid != NULL) {
		if (uuid_parse(hid, ids->hostid) != 0) {
			snprintf(err, errlen, "host ID '%s' (%s) is not a UUID", hid,
			    source(hostid_arg, "-I", "LIBNVME_HOSTID", "hostid", where,
			    sizeof(where)));
			goto out;
		}
		have_id = true;
	}
	if (nqn == NULL && have_id) {
		/* A host ID alone: the host NQN is made from it, as libnvme does. */
		char id[37];

		uuid_format(ids->hostid, id);
		if (asprintf(&nqn, NQN_UUID_PREFIX "%s", id) < 0)
			nqn = NULL;
	} else if (nqn == NULL) {
		nqn = hostnqn_generate();
	} else if (!nqn_valid(nqn)) {
		snprintf(err, errlen, "host NQN '%s' (%s) is not a valid NQN", nqn,
		    source(hostnqn_arg, "-q", "LIBNVME_HOSTNQN", "hostnqn", where,
		    sizeof(where)));
		goto out;
	}
	if (nqn == NULL) {
		snprintf(err, errlen, "no host NQN: none configured and libnvme could not "
		    "make one");
		goto out;
	}
	if (!have_id) {
		/* The UUID of a "...:uuid:<uuid>" host NQN is its host ID. */
		const char *u = strstr(nqn, ":uuid:");

		have_id = u != NULL && uuid_parse(u + 6, ids->hostid) == 0;
	}
	/* A host NQN of another form and no host ID: a random one, as the kernel makes. */
	if (!have_id && glue_uuid_random(ids->hostid) != 0) {
		snprintf(err, errlen, "no host ID: cannot make a random UUID");
		goto out;
	}
	uuid_format(ids->hostid, ids->hostid_str);
	snprintf(ids->hostnqn, sizeof(ids->hostnqn), "%s", nqn);
	rc = 0;
out:
	free(nqn);
	free(hid);
	return rc;
}
