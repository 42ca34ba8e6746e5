/* SPDX-License-Identifier: BSD-2-Clause
 * Copyright (c) 2026 The nvmf developers */
/*
 * discover.c - "nvmecontrol discover": the discovery log page of a discovery
 * controller, printed as FreeBSD's nvmecontrol prints it, or as JSON with
 * nvme-cli's field names.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <json-c/json.h>

#include "nvmecontrol.h"

const char *
trtype_name(uint8_t trtype)
{
	static char buf[8];

	switch (trtype) {
	case 1: return "RDMA";
	case 2: return "Fibre Channel";
	case NVMF_TRTYPE_TCP: return "TCP";
	case 254: return "Intra-host";
	default:
		snprintf(buf, sizeof(buf), "0x%02x", trtype);
		return buf;
	}
}

const char *
adrfam_name(uint8_t adrfam)
{
	static char buf[8];

	switch (adrfam) {
	case NVMF_ADRFAM_IPV4: return "AF_INET";
	case NVMF_ADRFAM_IPV6: return "AF_INET6";
	case 3: return "InfiniBand";
	case 4: return "Fibre Channel";
	case 254: return "Intra-host";
	default:
		snprintf(buf, sizeof(buf), "0x%02x", adrfam);
		return buf;
	}
}

static const char *
subtype_name(uint8_t subtype)
{
	static char buf[8];

	switch (subtype) {
	case NVMF_SUBTYPE_DISCOVERY_REFERRAL: return "Discovery";
	case NVMF_SUBTYPE_NVME: return "NVMe";
	case NVMF_SUBTYPE_CURRENT_DISCOVERY: return "Current Discovery";
	default:
		snprintf(buf, sizeof(buf), "0x%02x", subtype);
		return buf;
	}
}

static const char *
secure_channel_name(uint8_t treq)
{
	switch (treq & 0x3) {
	case 0: return "Not specified";
	case 1: return "Required";
	case 2: return "Not required";
	default: return "0x03";
	}
}

static const char *
sectype_name(uint8_t sectype)
{
	static char buf[8];

	switch (sectype) {
	case 0: return "None";
	case 1: return "TLS 1.2";
	case 2: return "TLS 1.3";
	default:
		snprintf(buf, sizeof(buf), "0x%02x", sectype);
		return buf;
	}
}

static void
cntlid_text(uint16_t cntlid, char *buf, size_t len)
{
	if (cntlid == NVMF_CNTLID_DYNAMIC)
		snprintf(buf, len, "Dynamic");
	else if (cntlid == NVMF_CNTLID_STATIC_ANY)
		snprintf(buf, len, "Static");
	else
		snprintf(buf, len, "%u", cntlid);
}

static void
print_entry(unsigned i, const struct nvmf_discovery_log_entry *e)
{
	char subnqn[257], traddr[257], trsvcid[33], cntlid[16];

	id_string(subnqn, sizeof(subnqn), e->subnqn, sizeof(e->subnqn));
	id_string(traddr, sizeof(traddr), e->traddr, sizeof(e->traddr));
	id_string(trsvcid, sizeof(trsvcid), e->trsvcid, sizeof(e->trsvcid));
	cntlid_text(e->cntlid, cntlid, sizeof(cntlid));
	printf("Entry %02u\n", i + 1);
	printf("========\n");
	printf(" Transport type:       %s\n", trtype_name(e->trtype));
	printf(" Address family:       %s\n", adrfam_name(e->adrfam));
	printf(" Subsystem type:       %s\n", subtype_name(e->subtype));
	printf(" SQ flow control:      %s\n",
	    (e->treq & NVMF_TREQ_DISABLE_SQFLOW) ? "optional" : "required");
	printf(" Secure Channel:       %s\n", secure_channel_name(e->treq));
	printf(" Port ID:              %u\n", e->portid);
	printf(" Controller ID:        %s\n", cntlid);
	printf(" Max Admin SQ Size:    %u\n", e->asqsz);
	printf(" Sub NQN:              %s\n", subnqn);
	printf(" Transport address:    %s\n", traddr);
	printf(" Service identifier:   %s\n", trsvcid);
	if (e->trtype == NVMF_TRTYPE_TCP)
		printf(" Security Type:        %s\n", sectype_name(e->tsas[0]));
}

/* ------------------------------------------------------------------ JSON */
static const char *
json_trtype(uint8_t t)
{
	switch (t) {
	case 1: return "rdma";
	case 2: return "fc";
	case NVMF_TRTYPE_TCP: return "tcp";
	case 254: return "loop";
	default: return "unrecognized";
	}
}

static const char *
json_adrfam(uint8_t a)
{
	switch (a) {
	case 0: return "pci";
	case NVMF_ADRFAM_IPV4: return "ipv4";
	case NVMF_ADRFAM_IPV6: return "ipv6";
	case 3: return "infiniband";
	case 4: return "fibre-channel";
	default: return "unrecognized";
	}
}

static const char *
json_subtype(uint8_t s)
{
	switch (s) {
	case NVMF_SUBTYPE_DISCOVERY_REFERRAL: return "discovery subsystem referral";
	case NVMF_SUBTYPE_NVME: return "nvme subsystem";
	case NVMF_SUBTYPE_CURRENT_DISCOVERY: return "current discovery subsystem";
	default: return "unrecognized";
	}
}

static const char *
json_treq(uint8_t treq)
{
	static const char *const names[] = {
		"not specified", "required", "not required", "unrecognized",
	};
	static char buf[80];

	if (treq & NVMF_TREQ_DISABLE_SQFLOW) {
		snprintf(buf, sizeof(buf), "%s, sq flow control disable supported",
		    names[treq & 3]);
		return buf;
	}
	return names[treq & 3];
}

static const char *
json_sectype(uint8_t s)
{
	switch (s) {
	case 0: return "none";
	case 1: return "tls";
	case 2: return "tls13";
	default: return "unrecognized";
	}
}

struct json_object *
discover_entry_json(const struct nvmf_discovery_log_entry *e)
{
	struct json_object *o = json_object_new_object();
	char subnqn[257], traddr[257], trsvcid[33];

	id_string(subnqn, sizeof(subnqn), e->subnqn, sizeof(e->subnqn));
	id_string(traddr, sizeof(traddr), e->traddr, sizeof(e->traddr));
	id_string(trsvcid, sizeof(trsvcid), e->trsvcid, sizeof(e->trsvcid));
	json_object_object_add(o, "trtype", json_object_new_string(json_trtype(e->trtype)));
	json_object_object_add(o, "adrfam", json_object_new_string(json_adrfam(e->adrfam)));
	json_object_object_add(o, "subtype", json_object_new_string(json_subtype(e->subtype)));
	json_object_object_add(o, "treq", json_object_new_string(json_treq(e->treq)));
	json_object_object_add(o, "portid", json_object_new_int(e->portid));
	json_object_object_add(o, "trsvcid", json_object_new_string(trsvcid));
	json_object_object_add(o, "subnqn", json_object_new_string(subnqn));
	json_object_object_add(o, "traddr", json_object_new_string(traddr));
	json_object_object_add(o, "cntlid", json_object_new_int(e->cntlid));
	json_object_object_add(o, "asqsz", json_object_new_int(e->asqsz));
	json_object_object_add(o, "eflags", json_object_new_int(e->eflags));
	if (e->trtype == NVMF_TRTYPE_TCP)
		json_object_object_add(o, "sectype",
		    json_object_new_string(json_sectype(e->tsas[0])));
	return o;
}

/* ------------------------------------------------------ discovery controller */
static void
print_discovery_controller(const struct nvme_identify_controller *id)
{
	char sn[21], mn[41], fr[9], subnqn[257];

	id_string(sn, sizeof(sn), id->sn, sizeof(id->sn));
	id_string(mn, sizeof(mn), id->mn, sizeof(id->mn));
	id_string(fr, sizeof(fr), id->fr, sizeof(id->fr));
	id_string(subnqn, sizeof(subnqn), id->subnqn, sizeof(id->subnqn));
	printf("Discovery Controller\n");
	printf("====================\n");
	printf("Vendor ID:                   %04x\n", id->vid);
	printf("Serial Number:               %s\n", sn);
	printf("Model Number:                %s\n", mn);
	printf("Firmware Version:            %s\n", fr);
	printf("Controller ID:               0x%04x\n", id->cntlid);
	printf("Version:                     %u.%u.%u\n", id->ver >> 16,
	    (id->ver >> 8) & 0xff, id->ver & 0xff);
	printf("Maximum Data Transfer Size:  ");
	if (id->mdts == 0)
		printf("Unlimited\n");
	else
		printf("%lu bytes\n", 4096ul << id->mdts);
	printf("NVM Subsystem Name:          %s\n\n", subnqn);
}

int
cmd_discover(int argc, char **argv)
{
	struct nvmf_discovery_log_header *log = NULL;
	struct nvme_identify_controller id;
	struct fabric_opts o;
	struct target_addr addr;
	struct host_ids ids;
	struct nvmf_qpair *qp;
	const struct nvmf_discovery_log_entry *entries;
	char err[ERRLEN], e[ERRLEN];
	int first, rc;

	fabric_opts_init(&o);
	rc = fabric_opts_parse("discover", argc, argv, &o, &first);
	if (rc != 0)
		return rc < 0 ? 0 : rc;
	if (o.address != NULL && first < argc)
		return usage_error("discover", "address given twice (--traddr and argument)");
	if (o.address == NULL) {
		if (first >= argc)
			return usage_error("discover", "missing address");
		o.address = argv[first++];
	}
	if (first < argc)
		return unexpected_argument("discover", argv[first]);
	if (parse_address(o.address, o.trsvcid ? o.trsvcid : DEFAULT_DISCOVERY_PORT, &addr,
	    err, sizeof(err)) != 0)
		return usage_error("discover", "%s", err);
	if (o.trsvcid != NULL && addr.port_given)
		return usage_error("discover", "port given twice (--trsvcid and address)");
	if (host_ids_get(o.hostnqn, o.hostid, &ids, err, sizeof(err)) != 0) {
		errmsg("%s", err);
		return EXIT_ERROR;
	}

	qp = discovery_connect(&addr, &ids, o.timeout_ms, err, sizeof(err));
	if (qp == NULL) {
		errmsg("%s", err);
		return EXIT_ERROR;
	}
	if (o.verbose) {
		struct nvme_command sqe;

		nvmf_cmd_identify(&sqe, NVME_CNS_CONTROLLER, 0);
		if (nvmf_host_admin_read(qp, &sqe, &id, sizeof(id), NULL, o.timeout_ms, e,
		    sizeof(e)) != 0) {
			errmsg("discovery controller: %s", e);
			nvmf_qpair_free(qp);
			return EXIT_ERROR;
		}
	}
	if (nvmf_host_discovery_log(qp, &log, o.timeout_ms, e, sizeof(e)) != 0) {
		errmsg("reading the discovery log: %s", e);
		nvmf_qpair_free(qp);
		return EXIT_ERROR;
	}
	nvmf_qpair_free(qp);

	entries = (const struct nvmf_discovery_log_entry *)(log + 1);
	if (o.output == OUTPUT_JSON) {
		struct json_object *out = json_object_new_object(), *recs;

		json_object_object_add(out, "genctr", json_object_new_int64((int64_t)log->genctr));
		json_object_object_add(out, "numrec", json_object_new_int64((int64_t)log->numrec));
		recs = json_object_new_array();
		for (uint64_t i = 0; i < log->numrec; i++)
			json_object_array_add(recs, discover_entry_json(&entries[i]));
		json_object_object_add(out, "records", recs);
		print_json(out);
		json_object_put(out);
	} else {
		if (o.verbose)
			print_discovery_controller(&id);
		printf("Discovery\n");
		printf("=========\n");
		if (log->numrec == 0)
			printf("No entries found\n");
		for (uint64_t i = 0; i < log->numrec; i++)
			print_entry((unsigned)i, &entries[i]);
	}
	free(log);
	return fflush(stdout) == 0 ? 0 : EXIT_ERROR;
}
