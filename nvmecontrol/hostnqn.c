/*
 * hostnqn.c - the host NQN and host ID, derived as nvme-cli (libnvme) does:
 *
 *   host NQN: -q, else $LIBNVME_HOSTNQN, else /etc/nvme/hostnqn, else
 *             nqn.2014-08.org.nvmexpress:uuid:<host ID>
 *   host ID:  -I, else $LIBNVME_HOSTID, else /etc/nvme/hostid, else the UUID
 *             in the host NQN ("...:uuid:<uuid>"), else generated from the
 *             machine ID as systemd's sd_id128_get_machine_app_specific()
 *             does for libnvme's application ID c7f46181-12be-4932-8c83-
 *             106f9dddd86b: HMAC-SHA256 keyed with /etc/machine-id over the
 *             application ID, first 16 bytes, made a version 4 UUID.
 *
 * libnvme consults the DMI system UUID before the machine ID; we do not,
 * so the identity does not depend on who may read /sys/class/dmi.
 */
#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "nvmecontrol.h"

#define HOSTNQN_FILE	"/etc/nvme/hostnqn"
#define HOSTID_FILE	"/etc/nvme/hostid"
#define MACHINE_ID_FILE	"/etc/machine-id"
#define NQN_UUID_PREFIX	"nqn.2014-08.org.nvmexpress:uuid:"

static const uint8_t nvme_hostnqn_app_id[16] = {
	0xc7, 0xf4, 0x61, 0x81, 0x12, 0xbe, 0x49, 0x32,
	0x8c, 0x83, 0x10, 0x6f, 0x9d, 0xdd, 0xd8, 0x6b,
};

/* ------------------------------------------------------------------ SHA-256 */
struct sha256 {
	uint32_t h[8];
	uint64_t len;
	uint8_t buf[64];
	size_t fill;
};

static const uint32_t sha256_k[64] = {
	0x428a2f98, 0x71374491, 0xb5c0fbcf, 0xe9b5dba5, 0x3956c25b, 0x59f111f1,
	0x923f82a4, 0xab1c5ed5, 0xd807aa98, 0x12835b01, 0x243185be, 0x550c7dc3,
	0x72be5d74, 0x80deb1fe, 0x9bdc06a7, 0xc19bf174, 0xe49b69c1, 0xefbe4786,
	0x0fc19dc6, 0x240ca1cc, 0x2de92c6f, 0x4a7484aa, 0x5cb0a9dc, 0x76f988da,
	0x983e5152, 0xa831c66d, 0xb00327c8, 0xbf597fc7, 0xc6e00bf3, 0xd5a79147,
	0x06ca6351, 0x14292967, 0x27b70a85, 0x2e1b2138, 0x4d2c6dfc, 0x53380d13,
	0x650a7354, 0x766a0abb, 0x81c2c92e, 0x92722c85, 0xa2bfe8a1, 0xa81a664b,
	0xc24b8b70, 0xc76c51a3, 0xd192e819, 0xd6990624, 0xf40e3585, 0x106aa070,
	0x19a4c116, 0x1e376c08, 0x2748774c, 0x34b0bcb5, 0x391c0cb3, 0x4ed8aa4a,
	0x5b9cca4f, 0x682e6ff3, 0x748f82ee, 0x78a5636f, 0x84c87814, 0x8cc70208,
	0x90befffa, 0xa4506ceb, 0xbef9a3f7, 0xc67178f2,
};

#define ROR(x, n) (((x) >> (n)) | ((x) << (32 - (n))))

static void
sha256_block(struct sha256 *s, const uint8_t *p)
{
	uint32_t w[64], a, b, c, d, e, f, g, h;

	for (int i = 0; i < 16; i++)
		w[i] = (uint32_t)p[4 * i] << 24 | (uint32_t)p[4 * i + 1] << 16 |
		    (uint32_t)p[4 * i + 2] << 8 | p[4 * i + 3];
	for (int i = 16; i < 64; i++) {
		uint32_t s0 = ROR(w[i - 15], 7) ^ ROR(w[i - 15], 18) ^ (w[i - 15] >> 3);
		uint32_t s1 = ROR(w[i - 2], 17) ^ ROR(w[i - 2], 19) ^ (w[i - 2] >> 10);

		w[i] = w[i - 16] + s0 + w[i - 7] + s1;
	}
	a = s->h[0]; b = s->h[1]; c = s->h[2]; d = s->h[3];
	e = s->h[4]; f = s->h[5]; g = s->h[6]; h = s->h[7];
	for (int i = 0; i < 64; i++) {
		uint32_t t1 = h + (ROR(e, 6) ^ ROR(e, 11) ^ ROR(e, 25)) +
		    ((e & f) ^ (~e & g)) + sha256_k[i] + w[i];
		uint32_t t2 = (ROR(a, 2) ^ ROR(a, 13) ^ ROR(a, 22)) +
		    ((a & b) ^ (a & c) ^ (b & c));

		h = g; g = f; f = e; e = d + t1;
		d = c; c = b; b = a; a = t1 + t2;
	}
	s->h[0] += a; s->h[1] += b; s->h[2] += c; s->h[3] += d;
	s->h[4] += e; s->h[5] += f; s->h[6] += g; s->h[7] += h;
}

static void
sha256_init(struct sha256 *s)
{
	static const uint32_t iv[8] = {
		0x6a09e667, 0xbb67ae85, 0x3c6ef372, 0xa54ff53a,
		0x510e527f, 0x9b05688c, 0x1f83d9ab, 0x5be0cd19,
	};

	memcpy(s->h, iv, sizeof(iv));
	s->len = 0;
	s->fill = 0;
}

static void
sha256_update(struct sha256 *s, const void *data, size_t len)
{
	const uint8_t *p = data;

	s->len += len;
	while (len > 0) {
		size_t n = 64 - s->fill < len ? 64 - s->fill : len;

		memcpy(s->buf + s->fill, p, n);
		s->fill += n;
		p += n;
		len -= n;
		if (s->fill == 64) {
			sha256_block(s, s->buf);
			s->fill = 0;
		}
	}
}

static void
sha256_final(struct sha256 *s, uint8_t out[32])
{
	uint64_t bits = s->len * 8;
	uint8_t pad = 0x80, zero = 0, lenbuf[8];

	sha256_update(s, &pad, 1);
	while (s->fill != 56)
		sha256_update(s, &zero, 1);
	for (int i = 0; i < 8; i++)
		lenbuf[i] = (uint8_t)(bits >> (56 - 8 * i));
	sha256_update(s, lenbuf, 8);
	for (int i = 0; i < 8; i++) {
		out[4 * i] = (uint8_t)(s->h[i] >> 24);
		out[4 * i + 1] = (uint8_t)(s->h[i] >> 16);
		out[4 * i + 2] = (uint8_t)(s->h[i] >> 8);
		out[4 * i + 3] = (uint8_t)s->h[i];
	}
}

static void
hmac_sha256(const void *key, size_t keylen, const void *msg, size_t msglen,
    uint8_t out[32])
{
	uint8_t k[64] = { 0 }, pad[64], inner[32];
	struct sha256 s;

	if (keylen > 64) {
		sha256_init(&s);
		sha256_update(&s, key, keylen);
		sha256_final(&s, k);
	} else {
		memcpy(k, key, keylen);
	}
	for (int i = 0; i < 64; i++)
		pad[i] = k[i] ^ 0x36;
	sha256_init(&s);
	sha256_update(&s, pad, 64);
	sha256_update(&s, msg, msglen);
	sha256_final(&s, inner);
	for (int i = 0; i < 64; i++)
		pad[i] = k[i] ^ 0x5c;
	sha256_init(&s);
	sha256_update(&s, pad, 64);
	sha256_update(&s, inner, sizeof(inner));
	sha256_final(&s, out);
}

/* -------------------------------------------------------------------- UUIDs */
static int
hexval(int c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	c = tolower(c);
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	return -1;
}

int
uuid_parse(const char *s, uint8_t out[16])
{
	int n = 0;

	if (s == NULL || strlen(s) != 36)
		return -1;
	for (int i = 0; i < 36; i++) {
		if (i == 8 || i == 13 || i == 18 || i == 23) {
			if (s[i] != '-')
				return -1;
			continue;
		}
		if (hexval(s[i]) < 0 || hexval(s[i + 1]) < 0)
			return -1;
		out[n++] = (uint8_t)(hexval(s[i]) << 4 | hexval(s[i + 1]));
		i++;
	}
	return n == 16 ? 0 : -1;
}

void
uuid_format(const uint8_t in[16], char out[37])
{
	snprintf(out, 37, "%02x%02x%02x%02x-%02x%02x-%02x%02x-%02x%02x-"
	    "%02x%02x%02x%02x%02x%02x", in[0], in[1], in[2], in[3], in[4], in[5],
	    in[6], in[7], in[8], in[9], in[10], in[11], in[12], in[13], in[14], in[15]);
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

/* First line of a small file, without the newline; NULL when absent or empty. */
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
	/* Trailing blanks are an editing accident, not part of the name. */
	for (n = strlen(buf); n > 0 && isspace((unsigned char)buf[n - 1]); n--)
		buf[n - 1] = '\0';
	if (buf[0] == '\0')
		return NULL;
	return strdup(buf);
}

static char *
env_or_file(const char *env, const char *path)
{
	const char *v = getenv(env);

	if (v != NULL)
		return v[0] != '\0' ? strdup(v) : NULL;
	return read_first_line(path);
}

static int
hostid_from_machine_id(uint8_t out[16], char *err, size_t errlen)
{
	uint8_t mid[16], mac[32];
	char *line = read_first_line(MACHINE_ID_FILE);

	if (line == NULL) {
		snprintf(err, errlen, "no host NQN: %s, %s and %s are all missing or empty",
		    HOSTNQN_FILE, HOSTID_FILE, MACHINE_ID_FILE);
		return -1;
	}
	if (strlen(line) != 32) {
		snprintf(err, errlen, "%s is not a machine ID", MACHINE_ID_FILE);
		free(line);
		return -1;
	}
	for (int i = 0; i < 16; i++) {
		int hi = hexval(line[2 * i]), lo = hexval(line[2 * i + 1]);

		if (hi < 0 || lo < 0) {
			snprintf(err, errlen, "%s is not a machine ID", MACHINE_ID_FILE);
			free(line);
			return -1;
		}
		mid[i] = (uint8_t)(hi << 4 | lo);
	}
	free(line);
	hmac_sha256(mid, sizeof(mid), nvme_hostnqn_app_id, sizeof(nvme_hostnqn_app_id), mac);
	memcpy(out, mac, 16);
	out[6] = (uint8_t)((out[6] & 0x0f) | 0x40);	/* version 4 */
	out[8] = (uint8_t)((out[8] & 0x3f) | 0x80);	/* RFC 4122 variant */
	return 0;
}

int
host_ids_get(const char *hostnqn_arg, const char *hostid_arg, struct host_ids *ids,
    char *err, size_t errlen)
{
	char *nqn = NULL, *hid = NULL;
	bool have_id = false;
	int rc = -1;

	memset(ids, 0, sizeof(*ids));
	nqn = hostnqn_arg != NULL ? strdup(hostnqn_arg) :
	    env_or_file("LIBNVME_HOSTNQN", HOSTNQN_FILE);
	hid = hostid_arg != NULL ? strdup(hostid_arg) :
	    env_or_file("LIBNVME_HOSTID", HOSTID_FILE);

	if (hid != NULL) {
		if (uuid_parse(hid, ids->hostid) != 0) {
			snprintf(err, errlen, "host ID '%s' (%s) is not a UUID", hid,
			    hostid_arg != NULL ? "-I" : getenv("LIBNVME_HOSTID") != NULL ?
			    "LIBNVME_HOSTID" : HOSTID_FILE);
			goto out;
		}
		have_id = true;
	}
	if (!have_id && nqn != NULL) {
		/* The UUID of a "...:uuid:<uuid>" host NQN is its host ID. */
		const char *u = strstr(nqn, "uuid:");

		if (u != NULL && uuid_parse(u + 5, ids->hostid) == 0)
			have_id = true;
	}
	if (!have_id && hostid_from_machine_id(ids->hostid, err, errlen) != 0)
		goto out;
	uuid_format(ids->hostid, ids->hostid_str);

	if (nqn == NULL)
		snprintf(ids->hostnqn, sizeof(ids->hostnqn), NQN_UUID_PREFIX "%s",
		    ids->hostid_str);
	else if (!nqn_valid(nqn)) {
		snprintf(err, errlen, "host NQN '%s' (%s) is not a valid NQN", nqn,
		    hostnqn_arg != NULL ? "-q" : getenv("LIBNVME_HOSTNQN") != NULL ?
		    "LIBNVME_HOSTNQN" : HOSTNQN_FILE);
		goto out;
	} else
		snprintf(ids->hostnqn, sizeof(ids->hostnqn), "%s", nqn);
	rc = 0;
out:
	free(nqn);
	free(hid);
	return rc;
}
