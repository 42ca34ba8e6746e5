/* SPDX-License-Identifier: BSD-2-Clause
 * Copyright (c) 2026 The nvmf developers */
/*
 * nvmf_proto.h - NVMe, NVMe over Fabrics and NVMe/TCP wire formats.
 *
 * Every structure here is exactly what travels on the wire (little endian,
 * packed by construction). Sizes and field offsets are checked at compile
 * time so a mistake is a build failure, not a peer's parse error.
 * Layouts follow the NVMe Base 2.0, NVMe over Fabrics 1.1 and NVMe/TCP
 * Transport 1.0 specifications.
 */
#ifndef NVMF_PROTO_H
#define NVMF_PROTO_H

#include <stddef.h>
#include <stdint.h>

#if !defined(__BYTE_ORDER__) || __BYTE_ORDER__ != __ORDER_LITTLE_ENDIAN__
#error "nvmf maps wire structures directly and needs a little-endian machine"
#endif

#define NVMF_STATIC_SIZE(type, size) \
	_Static_assert(sizeof(type) == (size), #type " is " #size " bytes on the wire")
#define NVMF_STATIC_OFFSET(type, field, off) \
	_Static_assert(offsetof(type, field) == (off), #type "." #field " sits at byte " #off)

/* ------------------------------------------------------------------ NQNs */
#define NVMF_NQN_MAX_LEN        223	/* without the terminating NUL */
#define NVMF_NQN_FIELD_LEN      256	/* an NQN field in Connect data */
#define NVMF_DISCOVERY_NQN      "nqn.2014-08.org.nvmexpress.discovery"

/* ------------------------------------------------------- Submission entry */
/* SGL descriptor (Base 4.1.8). */
struct nvme_sgl_desc {
	uint64_t address;
	uint32_t length;
	uint8_t rsvd12[3];
	uint8_t type;			/* descriptor type << 4 | subtype */
};
NVMF_STATIC_SIZE(struct nvme_sgl_desc, 16);
NVMF_STATIC_OFFSET(struct nvme_sgl_desc, length, 8);
NVMF_STATIC_OFFSET(struct nvme_sgl_desc, type, 15);

#define NVME_SGL_TYPE_DATA_BLOCK	0x0
#define NVME_SGL_TYPE_TRANSPORT_DATA	0x5
#define NVME_SGL_SUBTYPE_ADDRESS	0x0
#define NVME_SGL_SUBTYPE_OFFSET		0x1
#define NVME_SGL_SUBTYPE_TRANSPORT	0xA
/* In-capsule data: data block, offset from the start of the capsule data. */
#define NVME_SGL_ICD		((NVME_SGL_TYPE_DATA_BLOCK << 4) | NVME_SGL_SUBTYPE_OFFSET)
/* Data moved by C2HData / R2T + H2CData. */
#define NVME_SGL_TRANSPORT	((NVME_SGL_TYPE_TRANSPORT_DATA << 4) | NVME_SGL_SUBTYPE_TRANSPORT)

#define NVME_PSDT_SGL_MPTR_CONTIG	0x1
#define NVME_CMD_PSDT_SHIFT		6

struct nvme_command {
	uint8_t opc;
	uint8_t flags;			/* FUSE 1:0, PSDT 7:6 */
	uint16_t cid;
	uint32_t nsid;
	uint32_t cdw2;
	uint32_t cdw3;
	uint64_t mptr;
	struct nvme_sgl_desc sgl;	/* DPTR: fabrics always use an SGL */
	uint32_t cdw10;
	uint32_t cdw11;
	uint32_t cdw12;
	uint32_t cdw13;
	uint32_t cdw14;
	uint32_t cdw15;
};
NVMF_STATIC_SIZE(struct nvme_command, 64);
NVMF_STATIC_OFFSET(struct nvme_command, cid, 2);
NVMF_STATIC_OFFSET(struct nvme_command, nsid, 4);
NVMF_STATIC_OFFSET(struct nvme_command, mptr, 16);
NVMF_STATIC_OFFSET(struct nvme_command, sgl, 24);
NVMF_STATIC_OFFSET(struct nvme_command, cdw10, 40);
NVMF_STATIC_OFFSET(struct nvme_command, cdw15, 60);

/* ------------------------------------------------------- Completion entry */
struct nvme_completion {
	uint32_t cdw0;
	uint32_t cdw1;
	uint16_t sqhd;
	uint16_t sqid;
	uint16_t cid;
	uint16_t status;		/* P 0, SC 8:1, SCT 11:9, CRD 13:12, M 14, DNR 15 */
};
NVMF_STATIC_SIZE(struct nvme_completion, 16);
NVMF_STATIC_OFFSET(struct nvme_completion, sqhd, 8);
NVMF_STATIC_OFFSET(struct nvme_completion, cid, 12);
NVMF_STATIC_OFFSET(struct nvme_completion, status, 14);

/*
 * Status values in this code are the 15-bit Status Field without the phase
 * bit: SC | SCT << 8 | DNR << 14 (the form nvme-cli prints, e.g. 0x4184).
 */
#define NVME_STATUS(sct, sc)		((uint16_t)(((sct) << 8) | (sc)))
#define NVME_STATUS_DNR			0x4000
#define NVME_STATUS_SC(s)		((s) & 0xff)
#define NVME_STATUS_SCT(s)		(((s) >> 8) & 0x7)
#define NVME_CQE_STATUS(cqe_status)	((uint16_t)((cqe_status) >> 1))
#define NVME_CQE_STATUS_FIELD(s)	((uint16_t)((s) << 1))

#define NVME_SCT_GENERIC		0x0
#define NVME_SCT_COMMAND_SPECIFIC	0x1

#define NVME_SC_SUCCESS			0x00
#define NVME_SC_INVALID_OPCODE		0x01
#define NVME_SC_INVALID_FIELD		0x02
#define NVME_SC_COMMAND_ID_CONFLICT	0x03
#define NVME_SC_DATA_TRANSFER_ERROR	0x04
#define NVME_SC_INTERNAL		0x06
#define NVME_SC_ABORTED_SQ_DELETION	0x08
#define NVME_SC_INVALID_NAMESPACE	0x0B
#define NVME_SC_COMMAND_SEQUENCE_ERROR	0x0C
#define NVME_SC_DATA_SGL_LENGTH_INVALID	0x0F
#define NVME_SC_SGL_DESC_TYPE_INVALID	0x11
#define NVME_SC_INVALID_SGL_OFFSET	0x16
#define NVME_SC_TRANSIENT_TRANSPORT_ERROR 0x22
#define NVME_SC_LBA_OUT_OF_RANGE	0x80
#define NVME_SC_CAPACITY_EXCEEDED	0x81
/* Command specific */
#define NVME_SC_INVALID_QUEUE_ID	0x01
#define NVME_SC_INVALID_QUEUE_SIZE	0x02
#define NVME_SC_ASYNC_EVENT_LIMIT	0x05
#define NVME_SC_INVALID_LOG_PAGE	0x09
#define NVME_SC_FEATURE_NOT_SAVEABLE	0x0D
#define NVME_SC_CONNECT_INCOMPATIBLE_FORMAT	0x80
#define NVME_SC_CONNECT_CONTROLLER_BUSY		0x81
#define NVME_SC_CONNECT_INVALID_PARAMETERS	0x82
#define NVME_SC_CONNECT_RESTART_DISCOVERY	0x83
#define NVME_SC_CONNECT_INVALID_HOST		0x84

/* ---------------------------------------------------------------- Opcodes */
enum nvme_admin_opcode {
	NVME_ADMIN_GET_LOG_PAGE		= 0x02,
	NVME_ADMIN_IDENTIFY		= 0x06,
	NVME_ADMIN_ABORT		= 0x08,
	NVME_ADMIN_SET_FEATURES		= 0x09,
	NVME_ADMIN_GET_FEATURES		= 0x0A,
	NVME_ADMIN_ASYNC_EVENT_REQUEST	= 0x0C,
	NVME_ADMIN_KEEP_ALIVE		= 0x18,
	NVME_ADMIN_FABRICS		= 0x7F,
};

enum nvme_io_opcode {
	NVME_IO_FLUSH			= 0x00,
	NVME_IO_WRITE			= 0x01,
	NVME_IO_READ			= 0x02,
	NVME_IO_WRITE_ZEROES		= 0x08,
	NVME_IO_DATASET_MANAGEMENT	= 0x09,
};

/* Data direction is encoded in the low two bits of an opcode (and fctype). */
#define NVME_OPC_DIR_H2C		0x1
#define NVME_OPC_DIR_C2H		0x2

#define NVME_RW_FUA			(1u << 30)	/* cdw12 */
#define NVME_DSM_ATTR_DEALLOCATE	(1u << 2)	/* cdw11 */

struct nvme_dsm_range {
	uint32_t cattr;
	uint32_t nlb;
	uint64_t slba;
};
NVMF_STATIC_SIZE(struct nvme_dsm_range, 16);
NVMF_STATIC_OFFSET(struct nvme_dsm_range, slba, 8);

/* ------------------------------------------------------- Fabrics commands */
enum nvmf_fabrics_type {
	NVMF_FCTYPE_PROPERTY_SET	= 0x00,
	NVMF_FCTYPE_CONNECT		= 0x01,
	NVMF_FCTYPE_PROPERTY_GET	= 0x04,
	NVMF_FCTYPE_AUTH_SEND		= 0x05,
	NVMF_FCTYPE_AUTH_RECV		= 0x06,
	NVMF_FCTYPE_DISCONNECT		= 0x08,
};

struct nvmf_fabrics_cmd {
	uint8_t opc;			/* 0x7F */
	uint8_t rsvd1;
	uint16_t cid;
	uint8_t fctype;
	uint8_t rsvd5[35];
	uint8_t specific[24];
};
NVMF_STATIC_SIZE(struct nvmf_fabrics_cmd, 64);
NVMF_STATIC_OFFSET(struct nvmf_fabrics_cmd, fctype, 4);
NVMF_STATIC_OFFSET(struct nvmf_fabrics_cmd, specific, 40);

struct nvmf_connect_cmd {
	uint8_t opc;
	uint8_t flags;
	uint16_t cid;
	uint8_t fctype;
	uint8_t rsvd5[19];
	struct nvme_sgl_desc sgl;
	uint16_t recfmt;
	uint16_t qid;
	uint16_t sqsize;		/* zero-based */
	uint8_t cattr;
	uint8_t rsvd47;
	uint32_t kato;			/* milliseconds */
	uint8_t rsvd52[12];
};
NVMF_STATIC_SIZE(struct nvmf_connect_cmd, 64);
NVMF_STATIC_OFFSET(struct nvmf_connect_cmd, sgl, 24);
NVMF_STATIC_OFFSET(struct nvmf_connect_cmd, recfmt, 40);
NVMF_STATIC_OFFSET(struct nvmf_connect_cmd, qid, 42);
NVMF_STATIC_OFFSET(struct nvmf_connect_cmd, sqsize, 44);
NVMF_STATIC_OFFSET(struct nvmf_connect_cmd, cattr, 46);
NVMF_STATIC_OFFSET(struct nvmf_connect_cmd, kato, 48);

#define NVMF_CONNECT_ATTR_PRIORITY_CLASS	0x3
#define NVMF_CONNECT_ATTR_DISABLE_SQ_FC		(1u << 2)
#define NVMF_CONNECT_ATTR_IO_QUEUE_DELETION	(1u << 3)

struct nvmf_connect_data {
	uint8_t hostid[16];
	uint16_t cntlid;
	uint8_t rsvd18[238];
	char subnqn[256];
	char hostnqn[256];
	uint8_t rsvd768[256];
};
NVMF_STATIC_SIZE(struct nvmf_connect_data, 1024);
NVMF_STATIC_OFFSET(struct nvmf_connect_data, cntlid, 16);
NVMF_STATIC_OFFSET(struct nvmf_connect_data, subnqn, 256);
NVMF_STATIC_OFFSET(struct nvmf_connect_data, hostnqn, 512);

#define NVMF_CNTLID_DYNAMIC	0xFFFF
#define NVMF_CNTLID_STATIC_ANY	0xFFFE

/* Connect response, cdw0 */
#define NVMF_CONNECT_RSP_CNTLID(cdw0)	((uint16_t)((cdw0) & 0xffff))
/*
 * Connect Invalid Parameters, cdw0: IPO (the byte offset of the field) in
 * bits 15:0, IATTR (0 = in the command, 1 = in the Connect data) in 23:16.
 */
#define NVMF_CONNECT_INVALID_PARAM(iattr, ipo)	((uint32_t)(ipo) | ((uint32_t)(iattr) << 16))
#define NVMF_CONNECT_IPO(cdw0)		((uint16_t)((cdw0) & 0xffff))
#define NVMF_CONNECT_IATTR(cdw0)	((uint8_t)(((cdw0) >> 16) & 0xff))

struct nvmf_property_set_cmd {
	uint8_t opc;
	uint8_t rsvd1;
	uint16_t cid;
	uint8_t fctype;
	uint8_t rsvd5[35];
	uint8_t attrib;			/* 0: 4 bytes, 1: 8 bytes */
	uint8_t rsvd41[3];
	uint32_t ofst;
	uint64_t value;
	uint8_t rsvd56[8];
};
NVMF_STATIC_SIZE(struct nvmf_property_set_cmd, 64);
NVMF_STATIC_OFFSET(struct nvmf_property_set_cmd, attrib, 40);
NVMF_STATIC_OFFSET(struct nvmf_property_set_cmd, ofst, 44);
NVMF_STATIC_OFFSET(struct nvmf_property_set_cmd, value, 48);

struct nvmf_property_get_cmd {
	uint8_t opc;
	uint8_t rsvd1;
	uint16_t cid;
	uint8_t fctype;
	uint8_t rsvd5[35];
	uint8_t attrib;
	uint8_t rsvd41[3];
	uint32_t ofst;
	uint8_t rsvd48[16];
};
NVMF_STATIC_SIZE(struct nvmf_property_get_cmd, 64);
NVMF_STATIC_OFFSET(struct nvmf_property_get_cmd, ofst, 44);

/* Property (controller register) offsets. */
#define NVME_REG_CAP	0x00
#define NVME_REG_VS	0x08
#define NVME_REG_CC	0x14
#define NVME_REG_CSTS	0x1C
#define NVME_REG_NSSR	0x20

#define NVME_CAP_MQES(cap)		((uint32_t)((cap) & 0xffff))
#define NVME_CAP_CQR			(1ull << 16)
#define NVME_CAP_TO_SHIFT		24
#define NVME_CAP_CSS_NVM		(1ull << 37)
#define NVME_CAP_MPSMIN_SHIFT		48
#define NVME_CAP_MPSMAX_SHIFT		52

#define NVME_CC_EN			(1u << 0)
#define NVME_CC_SHN_SHIFT		14
#define NVME_CC_SHN_MASK		(3u << NVME_CC_SHN_SHIFT)
#define NVME_CC_IOSQES_SHIFT		16
#define NVME_CC_IOCQES_SHIFT		20

#define NVME_CSTS_RDY			(1u << 0)
#define NVME_CSTS_CFS			(1u << 1)
#define NVME_CSTS_SHST_SHIFT		2
#define NVME_CSTS_SHST_COMPLETE		(2u << NVME_CSTS_SHST_SHIFT)

#define NVME_VS(maj, min, ter)		(((uint32_t)(maj) << 16) | ((uint32_t)(min) << 8) | (ter))

/* ----------------------------------------------------------------- Identify */
enum nvme_identify_cns {
	NVME_CNS_NAMESPACE		= 0x00,
	NVME_CNS_CONTROLLER		= 0x01,
	NVME_CNS_ACTIVE_NS_LIST		= 0x02,
	NVME_CNS_NS_DESC_LIST		= 0x03,
	NVME_CNS_CSI_NAMESPACE		= 0x05,
	NVME_CNS_CSI_CONTROLLER		= 0x06,
};

struct nvme_power_state {
	uint8_t raw[32];
};
NVMF_STATIC_SIZE(struct nvme_power_state, 32);

struct nvme_identify_controller {
	uint16_t vid;
	uint16_t ssvid;
	char sn[20];
	char mn[40];
	char fr[8];
	uint8_t rab;
	uint8_t ieee[3];
	uint8_t cmic;
	uint8_t mdts;
	uint16_t cntlid;
	uint32_t ver;
	uint32_t rtd3r;
	uint32_t rtd3e;
	uint32_t oaes;
	uint32_t ctratt;
	uint16_t rrls;
	uint8_t rsvd102[9];
	uint8_t cntrltype;
	uint8_t fguid[16];
	uint16_t crdt[3];
	uint8_t rsvd134[122];
	uint16_t oacs;
	uint8_t acl;
	uint8_t aerl;
	uint8_t frmw;
	uint8_t lpa;
	uint8_t elpe;
	uint8_t npss;
	uint8_t avscc;
	uint8_t apsta;
	uint16_t wctemp;
	uint16_t cctemp;
	uint16_t mtfa;
	uint32_t hmpre;
	uint32_t hmmin;
	uint8_t tnvmcap[16];
	uint8_t unvmcap[16];
	uint32_t rpmbs;
	uint16_t edstt;
	uint8_t dsto;
	uint8_t fwug;
	uint16_t kas;
	uint16_t hctma;
	uint16_t mntmt;
	uint16_t mxtmt;
	uint32_t sanicap;
	uint32_t hmminds;
	uint16_t hmmaxd;
	uint16_t nsetidmax;
	uint16_t endgidmax;
	uint8_t anatt;
	uint8_t anacap;
	uint32_t anagrpmax;
	uint32_t nanagrpid;
	uint32_t pels;
	uint16_t domainid;
	uint8_t rsvd358[10];
	uint8_t megcap[16];
	uint8_t rsvd384[128];
	uint8_t sqes;
	uint8_t cqes;
	uint16_t maxcmd;
	uint32_t nn;
	uint16_t oncs;
	uint16_t fuses;
	uint8_t fna;
	uint8_t vwc;
	uint16_t awun;
	uint16_t awupf;
	uint8_t icsvscc;
	uint8_t nwpc;
	uint16_t acwu;
	uint16_t ocfs;
	uint32_t sgls;
	uint32_t mnan;
	uint8_t maxdna[16];
	uint32_t maxcna;
	uint8_t rsvd564[204];
	char subnqn[256];
	uint8_t rsvd1024[768];
	/* NVMe over Fabrics attributes */
	uint32_t ioccsz;		/* 16-byte units, SQE included */
	uint32_t iorcsz;
	uint16_t icdoff;
	uint8_t fcatt;
	uint8_t msdbd;
	uint16_t ofcs;
	uint8_t rsvd1806[242];
	struct nvme_power_state psd[32];
	uint8_t vs[1024];
};
NVMF_STATIC_SIZE(struct nvme_identify_controller, 4096);
NVMF_STATIC_OFFSET(struct nvme_identify_controller, sn, 4);
NVMF_STATIC_OFFSET(struct nvme_identify_controller, mn, 24);
NVMF_STATIC_OFFSET(struct nvme_identify_controller, fr, 64);
NVMF_STATIC_OFFSET(struct nvme_identify_controller, mdts, 77);
NVMF_STATIC_OFFSET(struct nvme_identify_controller, cntlid, 78);
NVMF_STATIC_OFFSET(struct nvme_identify_controller, ver, 80);
NVMF_STATIC_OFFSET(struct nvme_identify_controller, oaes, 92);
NVMF_STATIC_OFFSET(struct nvme_identify_controller, ctratt, 96);
NVMF_STATIC_OFFSET(struct nvme_identify_controller, cntrltype, 111);
NVMF_STATIC_OFFSET(struct nvme_identify_controller, fguid, 112);
NVMF_STATIC_OFFSET(struct nvme_identify_controller, oacs, 256);
NVMF_STATIC_OFFSET(struct nvme_identify_controller, aerl, 259);
NVMF_STATIC_OFFSET(struct nvme_identify_controller, lpa, 261);
NVMF_STATIC_OFFSET(struct nvme_identify_controller, kas, 320);
NVMF_STATIC_OFFSET(struct nvme_identify_controller, anatt, 342);
NVMF_STATIC_OFFSET(struct nvme_identify_controller, sqes, 512);
NVMF_STATIC_OFFSET(struct nvme_identify_controller, maxcmd, 514);
NVMF_STATIC_OFFSET(struct nvme_identify_controller, nn, 516);
NVMF_STATIC_OFFSET(struct nvme_identify_controller, oncs, 520);
NVMF_STATIC_OFFSET(struct nvme_identify_controller, vwc, 525);
NVMF_STATIC_OFFSET(struct nvme_identify_controller, sgls, 536);
NVMF_STATIC_OFFSET(struct nvme_identify_controller, subnqn, 768);
NVMF_STATIC_OFFSET(struct nvme_identify_controller, ioccsz, 1792);
NVMF_STATIC_OFFSET(struct nvme_identify_controller, icdoff, 1800);
NVMF_STATIC_OFFSET(struct nvme_identify_controller, msdbd, 1803);
NVMF_STATIC_OFFSET(struct nvme_identify_controller, psd, 2048);
NVMF_STATIC_OFFSET(struct nvme_identify_controller, vs, 3072);

#define NVME_CTRL_TYPE_IO		1
#define NVME_CTRL_TYPE_DISCOVERY	2
#define NVME_CTRL_OAES_NS_ATTR		(1u << 8)
#define NVME_CTRL_CTRATT_HID_128	(1u << 0)
#define NVME_CTRL_CTRATT_TBKAS		(1u << 6)
#define NVME_CTRL_ONCS_DSM		(1u << 2)
#define NVME_CTRL_ONCS_WRITE_ZEROES	(1u << 3)
#define NVME_CTRL_VWC_PRESENT		(1u << 0)
#define NVME_CTRL_SGLS_SUPPORTED	(1u << 0)
#define NVME_CTRL_SGLS_OFFSET		(1u << 20)
#define NVME_CTRL_LPA_EXTENDED		(1u << 2)

struct nvme_lba_format {
	uint16_t ms;
	uint8_t lbads;			/* log2 of the LBA data size */
	uint8_t rp;
};
NVMF_STATIC_SIZE(struct nvme_lba_format, 4);

struct nvme_identify_namespace {
	uint64_t nsze;
	uint64_t ncap;
	uint64_t nuse;
	uint8_t nsfeat;
	uint8_t nlbaf;			/* zero-based */
	uint8_t flbas;
	uint8_t mc;
	uint8_t dpc;
	uint8_t dps;
	uint8_t nmic;
	uint8_t rescap;
	uint8_t fpi;
	uint8_t dlfeat;
	uint16_t nawun;
	uint16_t nawupf;
	uint16_t nacwu;
	uint16_t nabsn;
	uint16_t nabo;
	uint16_t nabspf;
	uint16_t noiob;
	uint8_t nvmcap[16];
	uint16_t npwg;
	uint16_t npwa;
	uint16_t npdg;
	uint16_t npda;
	uint16_t nows;
	uint8_t rsvd74[18];
	uint32_t anagrpid;
	uint8_t rsvd96[3];
	uint8_t nsattr;
	uint16_t nvmsetid;
	uint16_t endgid;
	uint8_t nguid[16];
	uint8_t eui64[8];
	struct nvme_lba_format lbaf[64];
	uint8_t vs[3712];
};
NVMF_STATIC_SIZE(struct nvme_identify_namespace, 4096);
NVMF_STATIC_OFFSET(struct nvme_identify_namespace, nsfeat, 24);
NVMF_STATIC_OFFSET(struct nvme_identify_namespace, flbas, 26);
NVMF_STATIC_OFFSET(struct nvme_identify_namespace, dlfeat, 33);
NVMF_STATIC_OFFSET(struct nvme_identify_namespace, nvmcap, 48);
NVMF_STATIC_OFFSET(struct nvme_identify_namespace, anagrpid, 92);
NVMF_STATIC_OFFSET(struct nvme_identify_namespace, nguid, 104);
NVMF_STATIC_OFFSET(struct nvme_identify_namespace, eui64, 120);
NVMF_STATIC_OFFSET(struct nvme_identify_namespace, lbaf, 128);
NVMF_STATIC_OFFSET(struct nvme_identify_namespace, vs, 384);

#define NVME_NS_NSFEAT_THIN		(1u << 0)
#define NVME_NS_DLFEAT_READ_ZEROES	0x1
#define NVME_NS_DLFEAT_WRITE_ZEROES_DEALLOC (1u << 3)

/* Namespace Identification Descriptor (CNS 03h), a header then NIDL bytes. */
struct nvme_ns_id_desc {
	uint8_t nidt;
	uint8_t nidl;
	uint16_t rsvd2;
};
NVMF_STATIC_SIZE(struct nvme_ns_id_desc, 4);

#define NVME_NIDT_EUI64		0x1
#define NVME_NIDT_NGUID		0x2
#define NVME_NIDT_UUID		0x3
#define NVME_NIDT_CSI		0x4
#define NVME_CSI_NVM		0x0

/* ---------------------------------------------------------------- Log pages */
enum nvme_log_page_id {
	NVME_LOG_ERROR			= 0x01,
	NVME_LOG_HEALTH			= 0x02,
	NVME_LOG_FIRMWARE_SLOT		= 0x03,
	NVME_LOG_CHANGED_NS		= 0x04,
	NVME_LOG_DISCOVERY		= 0x70,
};

/* Get Log Page dwords: NUMD is zero-based dwords split over cdw10/cdw11. */
#define NVME_LOG_CDW10(lid, numdl)	((uint32_t)(lid) | ((uint32_t)(numdl) << 16))
#define NVME_LOG_LID(cdw10)		((uint8_t)((cdw10) & 0xff))
#define NVME_LOG_NUMD(cdw10, cdw11)	(((uint32_t)(cdw10) >> 16) | (((uint32_t)(cdw11) & 0xffff) << 16))

struct nvme_error_log_entry {
	uint64_t error_count;
	uint16_t sqid;
	uint16_t cid;
	uint16_t status;
	uint16_t error_location;
	uint64_t lba;
	uint32_t nsid;
	uint8_t vs;
	uint8_t trtype;
	uint8_t rsvd30[2];
	uint64_t cs;
	uint16_t trtype_specific;
	uint8_t rsvd42[22];
};
NVMF_STATIC_SIZE(struct nvme_error_log_entry, 64);
NVMF_STATIC_OFFSET(struct nvme_error_log_entry, lba, 16);
NVMF_STATIC_OFFSET(struct nvme_error_log_entry, nsid, 24);
NVMF_STATIC_OFFSET(struct nvme_error_log_entry, cs, 32);

struct nvme_health_log {
	uint8_t critical_warning;
	uint8_t temperature[2];		/* Kelvin, unaligned on the wire */
	uint8_t avail_spare;
	uint8_t spare_thresh;
	uint8_t percent_used;
	uint8_t endu_grp_crit_warn;
	uint8_t rsvd7[25];
	uint8_t data_units_read[16];
	uint8_t data_units_written[16];
	uint8_t host_reads[16];
	uint8_t host_writes[16];
	uint8_t ctrl_busy_time[16];
	uint8_t power_cycles[16];
	uint8_t power_on_hours[16];
	uint8_t unsafe_shutdowns[16];
	uint8_t media_errors[16];
	uint8_t num_err_log_entries[16];
	uint32_t warning_temp_time;
	uint32_t critical_comp_time;
	uint16_t temp_sensor[8];
	uint8_t rsvd216[296];
};
NVMF_STATIC_SIZE(struct nvme_health_log, 512);
NVMF_STATIC_OFFSET(struct nvme_health_log, data_units_read, 32);
NVMF_STATIC_OFFSET(struct nvme_health_log, host_reads, 64);
NVMF_STATIC_OFFSET(struct nvme_health_log, power_on_hours, 128);
NVMF_STATIC_OFFSET(struct nvme_health_log, warning_temp_time, 192);
NVMF_STATIC_OFFSET(struct nvme_health_log, temp_sensor, 200);

struct nvme_changed_ns_list {
	uint32_t nsid[1024];
};
NVMF_STATIC_SIZE(struct nvme_changed_ns_list, 4096);

struct nvmf_discovery_log_entry {
	uint8_t trtype;
	uint8_t adrfam;
	uint8_t subtype;
	uint8_t treq;
	uint16_t portid;
	uint16_t cntlid;
	uint16_t asqsz;
	uint16_t eflags;
	uint8_t rsvd12[20];
	char trsvcid[32];
	uint8_t rsvd64[192];
	char subnqn[256];
	char traddr[256];
	uint8_t tsas[256];
};
NVMF_STATIC_SIZE(struct nvmf_discovery_log_entry, 1024);
NVMF_STATIC_OFFSET(struct nvmf_discovery_log_entry, portid, 4);
NVMF_STATIC_OFFSET(struct nvmf_discovery_log_entry, asqsz, 8);
NVMF_STATIC_OFFSET(struct nvmf_discovery_log_entry, trsvcid, 32);
NVMF_STATIC_OFFSET(struct nvmf_discovery_log_entry, subnqn, 256);
NVMF_STATIC_OFFSET(struct nvmf_discovery_log_entry, traddr, 512);
NVMF_STATIC_OFFSET(struct nvmf_discovery_log_entry, tsas, 768);

struct nvmf_discovery_log_header {
	uint64_t genctr;
	uint64_t numrec;
	uint16_t recfmt;
	uint8_t rsvd18[1006];
};
NVMF_STATIC_SIZE(struct nvmf_discovery_log_header, 1024);
NVMF_STATIC_OFFSET(struct nvmf_discovery_log_header, numrec, 8);
NVMF_STATIC_OFFSET(struct nvmf_discovery_log_header, recfmt, 16);

#define NVMF_TRTYPE_TCP			3
#define NVMF_ADRFAM_IPV4		1
#define NVMF_ADRFAM_IPV6		2
#define NVMF_SUBTYPE_DISCOVERY_REFERRAL	1
#define NVMF_SUBTYPE_NVME		2
#define NVMF_SUBTYPE_CURRENT_DISCOVERY	3
#define NVMF_TREQ_SECURE_NOT_REQUIRED	0x2
#define NVMF_TREQ_DISABLE_SQFLOW	(1u << 2)
#define NVMF_TCP_SECTYPE_NONE		0

/* ----------------------------------------------------------------- Features */
enum nvme_feature_id {
	NVME_FEAT_ARBITRATION		= 0x01,
	NVME_FEAT_POWER_MGMT		= 0x02,
	NVME_FEAT_TEMP_THRESHOLD	= 0x04,
	NVME_FEAT_ERROR_RECOVERY	= 0x05,
	NVME_FEAT_VOLATILE_WC		= 0x06,
	NVME_FEAT_NUM_QUEUES		= 0x07,
	NVME_FEAT_IRQ_COALESCE		= 0x08,
	NVME_FEAT_WRITE_ATOMIC		= 0x0A,
	NVME_FEAT_ASYNC_EVENT		= 0x0B,
	NVME_FEAT_KATO			= 0x0F,
};

#define NVME_FEAT_FID(cdw10)		((uint8_t)((cdw10) & 0xff))
#define NVME_FEAT_SEL(cdw10)		(((cdw10) >> 8) & 0x7)
/* Number of Queues: zero-based NSQR in 15:0, NCQR in 31:16. */
#define NVME_FEAT_NUM_QUEUES_VALUE(nsq, ncq) \
	((uint32_t)(((nsq) - 1) & 0xffff) | ((uint32_t)(((ncq) - 1) & 0xffff) << 16))

/* Asynchronous event completion, cdw0 */
#define NVME_AER_TYPE_NOTICE		0x2
#define NVME_AER_NOTICE_NS_CHANGED	0x00
#define NVME_AER_NOTICE_DISC_CHANGED	0xF0	/* Discovery Log Page Change (log 70h) */
/* OAES and Set Features Asynchronous Event Configuration: Discovery Log Page Change. */
#define NVME_ASYNC_EVENT_DISC_CHANGE	(1u << 31)
#define NVME_AER_CDW0(type, info, lid)	((uint32_t)(type) | ((uint32_t)(info) << 8) | ((uint32_t)(lid) << 16))

/* ------------------------------------------------------------------ NVMe/TCP */
enum nvme_tcp_pdu_type {
	NVME_TCP_PDU_ICREQ		= 0x00,
	NVME_TCP_PDU_ICRESP		= 0x01,
	NVME_TCP_PDU_H2C_TERM_REQ	= 0x02,
	NVME_TCP_PDU_C2H_TERM_REQ	= 0x03,
	NVME_TCP_PDU_CAPSULE_CMD	= 0x04,
	NVME_TCP_PDU_CAPSULE_RESP	= 0x05,
	NVME_TCP_PDU_H2C_DATA		= 0x06,
	NVME_TCP_PDU_C2H_DATA		= 0x07,
	NVME_TCP_PDU_R2T		= 0x09,
};

#define NVME_TCP_F_HDGST		0x01
#define NVME_TCP_F_DDGST		0x02
#define NVME_TCP_F_DATA_LAST		0x04
#define NVME_TCP_F_DATA_SUCCESS		0x08

#define NVME_TCP_DIGEST_LEN		4
#define NVME_TCP_PFV_1_0		0
#define NVME_TCP_DGST_HDR		0x1	/* ICReq/ICResp DGST field */
#define NVME_TCP_DGST_DATA		0x2
#define NVME_TCP_MAX_CPDA		31	/* alignment = (pda + 1) * 4 */
#define NVME_TCP_MIN_MAXH2CDATA		4096
#define NVME_TCP_ADMIN_ICD_SIZE		8192	/* in-capsule data the admin queue takes */

/* Fatal Error Status of a termination request. */
enum nvme_tcp_fes {
	NVME_TCP_FES_INVALID_HEADER_FIELD	= 0x01,
	NVME_TCP_FES_PDU_SEQUENCE_ERROR		= 0x02,
	NVME_TCP_FES_HEADER_DIGEST_ERROR	= 0x03,
	NVME_TCP_FES_DATA_OUT_OF_RANGE		= 0x04,
	NVME_TCP_FES_R2T_LIMIT_EXCEEDED		= 0x05,
	NVME_TCP_FES_UNSUPPORTED_PARAMETER	= 0x06,
};

struct nvme_tcp_common_hdr {
	uint8_t pdu_type;
	uint8_t flags;
	uint8_t hlen;
	uint8_t pdo;
	uint32_t plen;
};
NVMF_STATIC_SIZE(struct nvme_tcp_common_hdr, 8);
NVMF_STATIC_OFFSET(struct nvme_tcp_common_hdr, hlen, 2);
NVMF_STATIC_OFFSET(struct nvme_tcp_common_hdr, plen, 4);

struct nvme_tcp_icreq {
	struct nvme_tcp_common_hdr common;
	uint16_t pfv;
	uint8_t hpda;
	uint8_t dgst;
	uint32_t maxr2t;		/* zero-based */
	uint8_t rsvd16[112];
};
NVMF_STATIC_SIZE(struct nvme_tcp_icreq, 128);
NVMF_STATIC_OFFSET(struct nvme_tcp_icreq, pfv, 8);
NVMF_STATIC_OFFSET(struct nvme_tcp_icreq, hpda, 10);
NVMF_STATIC_OFFSET(struct nvme_tcp_icreq, dgst, 11);
NVMF_STATIC_OFFSET(struct nvme_tcp_icreq, maxr2t, 12);

struct nvme_tcp_icresp {
	struct nvme_tcp_common_hdr common;
	uint16_t pfv;
	uint8_t cpda;
	uint8_t dgst;
	uint32_t maxh2cdata;
	uint8_t rsvd16[112];
};
NVMF_STATIC_SIZE(struct nvme_tcp_icresp, 128);
NVMF_STATIC_OFFSET(struct nvme_tcp_icresp, cpda, 10);
NVMF_STATIC_OFFSET(struct nvme_tcp_icresp, dgst, 11);
NVMF_STATIC_OFFSET(struct nvme_tcp_icresp, maxh2cdata, 12);

struct nvme_tcp_term_req_hdr {
	struct nvme_tcp_common_hdr common;
	uint16_t fes;
	uint8_t fei[4];
	uint8_t rsvd14[10];
};
NVMF_STATIC_SIZE(struct nvme_tcp_term_req_hdr, 24);
NVMF_STATIC_OFFSET(struct nvme_tcp_term_req_hdr, fes, 8);
NVMF_STATIC_OFFSET(struct nvme_tcp_term_req_hdr, fei, 10);
#define NVME_TCP_TERM_REQ_MAX_DATA	128	/* of the offending PDU header; PLEN <= 152 */

struct nvme_tcp_cmd {
	struct nvme_tcp_common_hdr common;
	struct nvme_command ccsqe;
};
NVMF_STATIC_SIZE(struct nvme_tcp_cmd, 72);
NVMF_STATIC_OFFSET(struct nvme_tcp_cmd, ccsqe, 8);

struct nvme_tcp_rsp {
	struct nvme_tcp_common_hdr common;
	struct nvme_completion rccqe;
};
NVMF_STATIC_SIZE(struct nvme_tcp_rsp, 24);
NVMF_STATIC_OFFSET(struct nvme_tcp_rsp, rccqe, 8);

struct nvme_tcp_h2c_data_hdr {
	struct nvme_tcp_common_hdr common;
	uint16_t cccid;
	uint16_t ttag;
	uint32_t datao;
	uint32_t datal;
	uint8_t rsvd20[4];
};
NVMF_STATIC_SIZE(struct nvme_tcp_h2c_data_hdr, 24);
NVMF_STATIC_OFFSET(struct nvme_tcp_h2c_data_hdr, ttag, 10);
NVMF_STATIC_OFFSET(struct nvme_tcp_h2c_data_hdr, datao, 12);
NVMF_STATIC_OFFSET(struct nvme_tcp_h2c_data_hdr, datal, 16);

struct nvme_tcp_c2h_data_hdr {
	struct nvme_tcp_common_hdr common;
	uint16_t cccid;
	uint8_t rsvd10[2];
	uint32_t datao;
	uint32_t datal;
	uint8_t rsvd20[4];
};
NVMF_STATIC_SIZE(struct nvme_tcp_c2h_data_hdr, 24);
NVMF_STATIC_OFFSET(struct nvme_tcp_c2h_data_hdr, datao, 12);
NVMF_STATIC_OFFSET(struct nvme_tcp_c2h_data_hdr, datal, 16);

struct nvme_tcp_r2t_hdr {
	struct nvme_tcp_common_hdr common;
	uint16_t cccid;
	uint16_t ttag;
	uint32_t r2to;
	uint32_t r2tl;
	uint8_t rsvd20[4];
};
NVMF_STATIC_SIZE(struct nvme_tcp_r2t_hdr, 24);
NVMF_STATIC_OFFSET(struct nvme_tcp_r2t_hdr, ttag, 10);
NVMF_STATIC_OFFSET(struct nvme_tcp_r2t_hdr, r2to, 12);
NVMF_STATIC_OFFSET(struct nvme_tcp_r2t_hdr, r2tl, 16);

#endif /* NVMF_PROTO_H */
