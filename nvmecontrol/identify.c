/* SPDX-License-Identifier: BSD-2-Clause
 * Copyright (c) 2026 The nvmf developers */
/*
 * identify.c - "nvmecontrol identify nvmeX[nsY]": Identify Controller or
 * Identify Namespace through nvmf-hostd's admin queue, printed as FreeBSD's
 * nvmecontrol prints them, as a hex dump (-x), or as JSON with nvme-cli's
 * field names.
 */
#include <ctype.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <json-c/json.h>

#include "cli_table.h"
#include "nvmecontrol.h"

#define IDENTIFY_TIMEOUT_MS	30000
#define MPS			4096u	/* CAP.MPSMIN of a fabrics controller: 4 KiB */


/* ------------------------------------------------------------ the command */
static int
identify_fetch(const char *ctrl, uint8_t cns, uint32_t nsid, void *buf, char *err,
    size_t errlen)
{
	struct nvme_command sqe;
	uint16_t status;

	nvmf_cmd_identify(&sqe, cns, nsid);
	if (admin_read(ctrl, &sqe, buf, 4096, IDENTIFY_TIMEOUT_MS, &status, err, errlen) != 0)
		return -1;
	if (status != 0) {
		snprintf(err, errlen, "Identify (CNS %u%s) failed: %s (status 0x%04x)", cns,
		    cns == NVME_CNS_NAMESPACE ? ", namespace" : "",
		    nvmf_status_string(status & ~NVME_STATUS_DNR), status);
		return -1;
	}
	return 0;
}

static void
hexdump(const void *buf, size_t len)
{
	const uint8_t *p = buf;

	for (size_t i = 0; i < len; i += 32) {
		printf("%03zx: ", i);
		for (size_t j = 0; j < 32 && i + j < len; j += 4)
			printf("%08x ", (uint32_t)p[i + j] | (uint32_t)p[i + j + 1] << 8 |
			    (uint32_t)p[i + j + 2] << 16 | (uint32_t)p[i + j + 3] << 24);
		printf("\n");
	}
	printf("\n");
}

static const char *
yes_no(bool v, const char *yes, const char *no)
{
	return v ? yes : no;
}

static void
hexstr(const uint8_t *p, size_t n, char *out)
{
	for (size_t i = 0; i < n; i++)
		sprintf(out + 2 * i, "%02x", p[i]);
	out[2 * n] = '\0';
}

/* 128-bit little-endian counter as decimal (identify capacities). */
static void
u128_str(const uint8_t v[16], char *out, size_t len)
{
	uint8_t n[16];
	char tmp[48];
	size_t t = 0;
	bool zero;

	memcpy(n, v, 16);
	do {
		unsigned rem = 0;

		zero = true;
		for (int i = 15; i >= 0; i--) {
			unsigned cur = rem << 8 | n[i];

			n[i] = (uint8_t)(cur / 10);
			rem = cur % 10;
			if (n[i] != 0)
				zero = false;
		}
		tmp[t++] = (char)('0' + rem);
	} while (!zero);
	for (size_t i = 0; i < t && i + 1 < len; i++)
		out[i] = tmp[t - 1 - i];
	out[t < len ? t : len - 1] = '\0';
}

/* ------------------------------------------------------------- controller */
static void
print_controller(const struct nvme_identify_controller *id)
{
	char sn[21], mn[41], fr[9], subnqn[257], tnvm[48], unvm[48];

	id_string(sn, sizeof(sn), id->sn, sizeof(id->sn));
	id_string(mn, sizeof(mn), id->mn, sizeof(id->mn));
	id_string(fr, sizeof(fr), id->fr, sizeof(id->fr));
	id_string(subnqn, sizeof(subnqn), id->subnqn, sizeof(id->subnqn));

	printf("Controller Capabilities/Features\n");
	printf("================================\n");
	printf("Vendor ID:                   %04x\n", id->vid);
	printf("Subsystem Vendor ID:         %04x\n", id->ssvid);
	printf("Serial Number:               %s\n", sn);
	printf("Model Number:                %s\n", mn);
	printf("Firmware Version:            %s\n", fr);
	printf("Recommended Arb Burst:       %u\n", id->rab);
	printf("IEEE OUI Identifier:         %02x %02x %02x\n", id->ieee[2], id->ieee[1],
	    id->ieee[0]);
	printf("Multi-Path I/O Capabilities: ");
	if ((id->cmic & 0xf) == 0) {
		printf("Not Supported\n");
	} else {
		static const char *const cmic_names[] = {
			"Multiple ports", "Multiple controllers", "SR-IOV VF", "Asymmetric",
		};
		const char *sep = "";

		for (int bit = 3; bit >= 0; bit--) {
			if (id->cmic & (1u << bit)) {
				printf("%s%s", sep, cmic_names[bit]);
				sep = ", ";
			}
		}
		printf("\n");
	}
	printf("Max Data Transfer Size:      ");
	if (id->mdts == 0)
		printf("Unlimited\n");
	else
		printf("%" PRIu64 " bytes\n", (uint64_t)MPS << id->mdts);
	printf("Controller ID:               0x%04x\n", id->cntlid);
	printf("Version:                     %u.%u.%u\n", id->ver >> 16,
	    (id->ver >> 8) & 0xff, id->ver & 0xff);
	printf("Traffic Based Keep Alive:    %sSupported\n",
	    id->ctratt & NVME_CTRL_CTRATT_TBKAS ? "" : "Not ");
	printf("Controller Type:             ");
	switch (id->cntrltype) {
	case 0: printf("Not Reported\n"); break;
	case 1: printf("I/O Controller\n"); break;
	case 2: printf("Discovery Controller\n"); break;
	case 3: printf("Administrative Controller\n"); break;
	default: printf("%u (Reserved)\n", id->cntrltype); break;
	}
	printf("Keep Alive Timer:            ");
	if (id->kas == 0)
		printf("Not Supported\n");
	else
		printf("%u ms granularity\n", id->kas * 100u);
	printf("Maximum Outstanding Commands: ");
	if (id->maxcmd == 0)
		printf("Not Specified\n");
	else
		printf("%u\n", id->maxcmd);
	printf("\n");

	printf("Admin Command Set Attributes\n");
	printf("============================\n");
	printf("Security Send/Receive:       %s\n",
	    yes_no(id->oacs & 0x1, "Supported", "Not Supported"));
	printf("Format NVM:                  %s\n",
	    yes_no(id->oacs & 0x2, "Supported", "Not Supported"));
	printf("Firmware Activate/Download:  %s\n",
	    yes_no(id->oacs & 0x4, "Supported", "Not Supported"));
	printf("Namespace Management:        %s\n",
	    yes_no(id->oacs & 0x8, "Supported", "Not Supported"));
	printf("Abort Command Limit:         %u\n", id->acl + 1u);
	printf("Async Event Request Limit:   %u\n", id->aerl + 1u);
	printf("Number of Firmware Slots:    %u\n", (id->frmw >> 1) & 0x7);
	printf("Firmware Slot 1 Read-Only:   %s\n", yes_no(id->frmw & 0x1, "Yes", "No"));
	printf("Per-Namespace SMART Log:     %s\n", yes_no(id->lpa & 0x1, "Yes", "No"));
	printf("Error Log Page Entries:      %u\n", id->elpe + 1u);
	printf("Number of Power States:      %u\n", id->npss + 1u);
	if (id->ver >= NVME_VS(1, 2, 0)) {
		u128_str(id->tnvmcap, tnvm, sizeof(tnvm));
		u128_str(id->unvmcap, unvm, sizeof(unvm));
		printf("Total NVM Capacity:          %s bytes\n", tnvm);
		printf("Unallocated NVM Capacity:    %s bytes\n", unvm);
	}
	printf("\n");

	printf("NVM Command Set Attributes\n");
	printf("==========================\n");
	printf("Submission Queue Entry Size\n");
	printf("  Max:                       %u\n", 1u << ((id->sqes >> 4) & 0xf));
	printf("  Min:                       %u\n", 1u << (id->sqes & 0xf));
	printf("Completion Queue Entry Size\n");
	printf("  Max:                       %u\n", 1u << ((id->cqes >> 4) & 0xf));
	printf("  Min:                       %u\n", 1u << (id->cqes & 0xf));
	printf("Number of Namespaces:        %u\n", id->nn);
	printf("Compare Command:             %s\n",
	    yes_no(id->oncs & 0x1, "Supported", "Not Supported"));
	printf("Write Uncorrectable Command: %s\n",
	    yes_no(id->oncs & 0x2, "Supported", "Not Supported"));
	printf("Dataset Management Command:  %s\n",
	    yes_no(id->oncs & NVME_CTRL_ONCS_DSM, "Supported", "Not Supported"));
	printf("Write Zeroes Command:        %s\n",
	    yes_no(id->oncs & NVME_CTRL_ONCS_WRITE_ZEROES, "Supported", "Not Supported"));
	printf("Volatile Write Cache:        %s\n",
	    yes_no(id->vwc & NVME_CTRL_VWC_PRESENT, "Present", "Not Present"));
	printf("\nNVM Subsystem Name:          %s\n", subnqn);

	if (id->ioccsz != 0) {
		printf("\nFabrics Attributes\n");
		printf("==================\n");
		printf("I/O Command Capsule Size:    %u bytes\n", id->ioccsz * 16u);
		printf("I/O Response Capsule Size:   %u bytes\n", id->iorcsz * 16u);
		printf("In Capsule Data Offset:      %u bytes\n", id->icdoff * 16u);
		printf("Controller Model:            %s\n",
		    yes_no(id->fcatt & 0x1, "Static", "Dynamic"));
		printf("Max SGL Descriptors:         ");
		if (id->msdbd == 0)
			printf("Unlimited\n");
		else
			printf("%u\n", id->msdbd);
		printf("Disconnect of I/O Queues:    %sSupported\n",
		    id->ofcs & 0x1 ? "" : "Not ");
	}
}

static struct json_object *
controller_json(const struct nvme_identify_controller *id)
{
	struct json_object *o = json_object_new_object();
	char s[257], tnvm[48], unvm[48];

#define ADD_INT(name, v) json_object_object_add(o, name, json_object_new_int64((int64_t)(v)))
#define ADD_STR(name, v) json_object_object_add(o, name, json_object_new_string(v))
	ADD_INT("vid", id->vid);
	ADD_INT("ssvid", id->ssvid);
	id_string(s, sizeof(s), id->sn, sizeof(id->sn));
	ADD_STR("sn", s);
	id_string(s, sizeof(s), id->mn, sizeof(id->mn));
	ADD_STR("mn", s);
	id_string(s, sizeof(s), id->fr, sizeof(id->fr));
	ADD_STR("fr", s);
	ADD_INT("rab", id->rab);
	ADD_INT("ieee", id->ieee[0] | id->ieee[1] << 8 | id->ieee[2] << 16);
	ADD_INT("cmic", id->cmic);
	ADD_INT("mdts", id->mdts);
	ADD_INT("cntlid", id->cntlid);
	ADD_INT("ver", id->ver);
	ADD_INT("rtd3r", id->rtd3r);
	ADD_INT("rtd3e", id->rtd3e);
	ADD_INT("oaes", id->oaes);
	ADD_INT("ctratt", id->ctratt);
	ADD_INT("cntrltype", id->cntrltype);
	hexstr(id->fguid, sizeof(id->fguid), s);
	ADD_STR("fguid", s);
	ADD_INT("oacs", id->oacs);
	ADD_INT("acl", id->acl);
	ADD_INT("aerl", id->aerl);
	ADD_INT("frmw", id->frmw);
	ADD_INT("lpa", id->lpa);
	ADD_INT("elpe", id->elpe);
	ADD_INT("npss", id->npss);
	u128_str(id->tnvmcap, tnvm, sizeof(tnvm));
	u128_str(id->unvmcap, unvm, sizeof(unvm));
	json_object_object_add(o, "tnvmcap", json_object_new_double_s(0, tnvm));
	json_object_object_add(o, "unvmcap", json_object_new_double_s(0, unvm));
	ADD_INT("kas", id->kas);
	ADD_INT("sqes", id->sqes);
	ADD_INT("cqes", id->cqes);
	ADD_INT("maxcmd", id->maxcmd);
	ADD_INT("nn", id->nn);
	ADD_INT("oncs", id->oncs);
	ADD_INT("fuses", id->fuses);
	ADD_INT("fna", id->fna);
	ADD_INT("vwc", id->vwc);
	ADD_INT("awun", id->awun);
	ADD_INT("awupf", id->awupf);
	ADD_INT("acwu", id->acwu);
	ADD_INT("sgls", id->sgls);
	ADD_INT("mnan", id->mnan);
	id_string(s, sizeof(s), id->subnqn, sizeof(id->subnqn));
	ADD_STR("subnqn", s);
	ADD_INT("ioccsz", id->ioccsz);
	ADD_INT("iorcsz", id->iorcsz);
	ADD_INT("icdoff", id->icdoff);
	ADD_INT("fcatt", id->fcatt);
	ADD_INT("msdbd", id->msdbd);
	ADD_INT("ofcs", id->ofcs);
	return o;
}

/* -------------------------------------------------------------- namespace */
static void
print_namespace(const struct nvme_identify_namespace *ns)
{
	unsigned fmt = ns->flbas & 0xf;
	char nguid[33], eui[17], cap[48];

	printf("Size:                        %" PRIu64 " blocks\n", ns->nsze);
	printf("Capacity:                    %" PRIu64 " blocks\n", ns->ncap);
	printf("Utilization:                 %" PRIu64 " blocks\n", ns->nuse);
	printf("Thin Provisioning:           %s\n",
	    yes_no(ns->nsfeat & NVME_NS_NSFEAT_THIN, "Supported", "Not Supported"));
	printf("Number of LBA Formats:       %u\n", ns->nlbaf + 1u);
	printf("Current LBA Format:          LBA Format #%02u\n", fmt);
	printf("Metadata Capabilities\n");
	printf("  Extended:                  %s\n",
	    yes_no(ns->mc & 0x1, "Supported", "Not Supported"));
	printf("  Separate:                  %s\n",
	    yes_no(ns->mc & 0x2, "Supported", "Not Supported"));
	printf("Data Protection Caps:        %s\n", ns->dpc == 0 ? "Not Supported" : "Supported");
	printf("Data Protection Settings:    %s\n", (ns->dps & 0x7) == 0 ? "Not Enabled" :
	    "Enabled");
	printf("Multi-Path I/O Capabilities: %s\n",
	    yes_no(ns->nmic & 0x1, "May be shared", "Not Supported"));
	printf("Reservation Capabilities:    %s\n",
	    ns->rescap == 0 ? "Not Supported" : "Supported");
	printf("Format Progress Indicator:   %s\n",
	    yes_no(ns->fpi & 0x80, "Supported", "Not Supported"));
	printf("Deallocate Logical Block:    Read %s%s\n",
	    (ns->dlfeat & 0x7) == 1 ? "00h" : (ns->dlfeat & 0x7) == 2 ? "FFh" : "Not Reported",
	    ns->dlfeat & NVME_NS_DLFEAT_WRITE_ZEROES_DEALLOC ? ", Write Zero" : "");
	printf("Optimal I/O Boundary:        %u blocks\n", ns->noiob);
	u128_str(ns->nvmcap, cap, sizeof(cap));
	printf("NVM Capacity:                %s bytes\n", cap);
	hexstr(ns->nguid, sizeof(ns->nguid), nguid);
	hexstr(ns->eui64, sizeof(ns->eui64), eui);
	printf("Globally Unique Identifier:  %s\n", nguid);
	printf("IEEE EUI64:                  %s\n", eui);
	for (unsigned i = 0; i <= ns->nlbaf && i < 64; i++)
		printf("LBA Format #%02u: Data Size: %5u  Metadata Size: %5u  Performance: %s\n",
		    i, ns->lbaf[i].lbads < 32 ? 1u << ns->lbaf[i].lbads : 0, ns->lbaf[i].ms,
		    (const char *[]){ "Best", "Better", "Good", "Degraded" }[ns->lbaf[i].rp & 3]);
}

static struct json_object *
namespace_json(const struct nvme_identify_namespace *ns)
{
	struct json_object *o = json_object_new_object(), *lbafs;
	char s[48];

	ADD_INT("nsze", ns->nsze);
	ADD_INT("ncap", ns->ncap);
	ADD_INT("nuse", ns->nuse);
	ADD_INT("nsfeat", ns->nsfeat);
	ADD_INT("nlbaf", ns->nlbaf);
	ADD_INT("flbas", ns->flbas);
	ADD_INT("mc", ns->mc);
	ADD_INT("dpc", ns->dpc);
	ADD_INT("dps", ns->dps);
	ADD_INT("nmic", ns->nmic);
	ADD_INT("rescap", ns->rescap);
	ADD_INT("fpi", ns->fpi);
	ADD_INT("dlfeat", ns->dlfeat);
	ADD_INT("nawun", ns->nawun);
	ADD_INT("nawupf", ns->nawupf);
	ADD_INT("nacwu", ns->nacwu);
	ADD_INT("noiob", ns->noiob);
	u128_str(ns->nvmcap, s, sizeof(s));
	json_object_object_add(o, "nvmcap", json_object_new_double_s(0, s));
	ADD_INT("anagrpid", ns->anagrpid);
	ADD_INT("nsattr", ns->nsattr);
	hexstr(ns->nguid, sizeof(ns->nguid), s);
	ADD_STR("nguid", s);
	hexstr(ns->eui64, sizeof(ns->eui64), s);
	ADD_STR("eui64", s);
	lbafs = json_object_new_array();
	for (unsigned i = 0; i <= ns->nlbaf && i < 64; i++) {
		struct json_object *l = json_object_new_object();

		json_object_object_add(l, "ms", json_object_new_int(ns->lbaf[i].ms));
		json_object_object_add(l, "ds", json_object_new_int(ns->lbaf[i].lbads));
		json_object_object_add(l, "rp", json_object_new_int(ns->lbaf[i].rp));
		json_object_array_add(lbafs, l);
	}
	json_object_object_add(o, "lbafs", lbafs);
	return o;
#undef ADD_INT
#undef ADD_STR
}

/* nvmeX or nvmeXnsY: 0 with the controller's name and nsid (0: none), or -1. */
static int
parse_target(const char *s, char *ctrl, size_t ctrllen, uint32_t *nsid)
{
	unsigned long c, n = 0;
	char *end;

	if (strncmp(s, "nvme", 4) != 0 || !isdigit((unsigned char)s[4]))
		return -1;
	c = strtoul(s + 4, &end, 10);
	if (c > 0xffff)
		return -1;
	if (*end != '\0') {
		if (strncmp(end, "ns", 2) != 0 || !isdigit((unsigned char)end[2]))
			return -1;
		n = strtoul(end + 2, &end, 10);
		if (*end != '\0' || n == 0 || n > 0xfffffffeul)
			return -1;
	}
	snprintf(ctrl, ctrllen, "nvme%lu", c);
	*nsid = (uint32_t)n;
	return 0;
}

int
cmd_identify(int argc, char **argv)
{
	enum output_format fmt = OUTPUT_NORMAL;
	bool hex = false, verbose = false;
	uint32_t nsid = 0, nsopt = 0;
	uint8_t data[4096];
	char ctrl[32], err[ERRLEN];
	uint64_t v;
	struct cli_parser p;
	int ch;

	cli_parse_begin(&p, "identify", argc, argv);
	while ((ch = cli_next(&p, argc, argv)) >= 0) {
		switch (ch) {
		case 'o':
			if (parse_output_format(optarg, &fmt) != 0)
				return usage_error("identify", "invalid output format '%s' "
				    "(normal or json)", optarg);
			break;
		case 'n':
			if (decimal_parse(optarg, 0xfffffffe, &v) != 0 || v == 0)
				return usage_error("identify", "invalid value '%s' for "
				    "-n/--namespace-id (a decimal namespace ID from 1 to "
				    "4294967294)", optarg);
			nsopt = (uint32_t)v;
			break;
		case 'v':
			verbose = true;
			break;
		case 'x':
			hex = true;
			break;
		}
	}
	if (ch != CLI_END)
		return ch == CLI_HELP ? 0 : EXIT_USAGE;
	if (optind >= argc)
		return usage_error("identify", "missing controller or namespace");
	if (parse_target(argv[optind], ctrl, sizeof(ctrl), &nsid) != 0)
		return usage_error("identify", "invalid device '%s' (nvmeX or nvmeXnsY)",
		    argv[optind]);
	if (optind + 1 < argc)
		return usage_error("identify", "unexpected argument '%s'", argv[optind + 1]);
	if (nsopt != 0) {
		if (nsid != 0 && nsid != nsopt)
			return usage_error("identify", "namespace given twice (%s and -n %u)",
			    argv[optind], nsopt);
		nsid = nsopt;
	}
	if (verbose && !hex)
		return usage_error("identify", "-v is only supported with -x");
	if (hex && fmt == OUTPUT_JSON)
		return usage_error("identify", "-x and -o json exclude each other");

	if (identify_fetch(ctrl, nsid != 0 ? NVME_CNS_NAMESPACE : NVME_CNS_CONTROLLER, nsid,
	    data, err, sizeof(err)) != 0) {
		errmsg("%s: %s", ctrl, err);
		return EXIT_ERROR;
	}
	if (nsid != 0) {
		const struct nvme_identify_namespace *ns = (const void *)data;

		if (ns->nsze == 0) {
			errmsg("%sns%u: no such namespace (inactive)", ctrl, nsid);
			return EXIT_ERROR;
		}
		if (hex)
			hexdump(data, verbose ? sizeof(data) :
			    offsetof(struct nvme_identify_namespace, vs));
		else if (fmt == OUTPUT_JSON) {
			struct json_object *o = namespace_json(ns);

			print_json(o);
			json_object_put(o);
		} else
			print_namespace(ns);
	} else {
		const struct nvme_identify_controller *id = (const void *)data;

		if (hex)
			hexdump(data, verbose ? sizeof(data) :
			    offsetof(struct nvme_identify_controller, vs));
		else if (fmt == OUTPUT_JSON) {
			struct json_object *o = controller_json(id);

			print_json(o);
			json_object_put(o);
		} else
			print_controller(id);
	}
	return fflush(stdout) == 0 ? 0 : EXIT_ERROR;
}
