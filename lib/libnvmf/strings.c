/* SPDX-License-Identifier: BSD-2-Clause
 * Copyright (c) 2026 The nvmf developers */
/*
 * strings.c - names for status values, PDU types and termination reasons,
 * so every error a user sees says what happened in words.
 */
#include <stdio.h>

#include "nvmf/libnvmf.h"

const char *
nvmf_status_string(uint16_t status)
{
	uint8_t sc = NVME_STATUS_SC(status);

	switch (NVME_STATUS_SCT(status)) {
	case NVME_SCT_GENERIC:
		switch (sc) {
		case NVME_SC_SUCCESS: return "Success";
		case NVME_SC_INVALID_OPCODE: return "Invalid Command Opcode";
		case NVME_SC_INVALID_FIELD: return "Invalid Field in Command";
		case NVME_SC_COMMAND_ID_CONFLICT: return "Command ID Conflict";
		case NVME_SC_DATA_TRANSFER_ERROR: return "Data Transfer Error";
		case NVME_SC_INTERNAL: return "Internal Error";
		case NVME_SC_ABORTED_SQ_DELETION: return "Command Aborted due to SQ Deletion";
		case NVME_SC_INVALID_NAMESPACE: return "Invalid Namespace or Format";
		case NVME_SC_COMMAND_SEQUENCE_ERROR: return "Command Sequence Error";
		case NVME_SC_DATA_SGL_LENGTH_INVALID: return "Data SGL Length Invalid";
		case NVME_SC_SGL_DESC_TYPE_INVALID: return "SGL Descriptor Type Invalid";
		case NVME_SC_INVALID_SGL_OFFSET: return "Invalid SGL Offset";
		case NVME_SC_TRANSIENT_TRANSPORT_ERROR: return "Transient Transport Error";
		case NVME_SC_LBA_OUT_OF_RANGE: return "LBA Out of Range";
		case NVME_SC_CAPACITY_EXCEEDED: return "Capacity Exceeded";
		}
		break;
	case NVME_SCT_COMMAND_SPECIFIC:
		switch (sc) {
		case NVME_SC_INVALID_QUEUE_ID: return "Invalid Queue Identifier";
		case NVME_SC_INVALID_QUEUE_SIZE: return "Invalid Queue Size";
		case NVME_SC_ASYNC_EVENT_LIMIT: return "Asynchronous Event Request Limit Exceeded";
		case NVME_SC_INVALID_LOG_PAGE: return "Invalid Log Page";
		case NVME_SC_FEATURE_NOT_SAVEABLE: return "Feature Identifier Not Saveable";
		case NVME_SC_CONNECT_INCOMPATIBLE_FORMAT: return "Connect Incompatible Format";
		case NVME_SC_CONNECT_CONTROLLER_BUSY: return "Connect Controller Busy";
		case NVME_SC_CONNECT_INVALID_PARAMETERS: return "Connect Invalid Parameters";
		case NVME_SC_CONNECT_RESTART_DISCOVERY: return "Connect Restart Discovery";
		case NVME_SC_CONNECT_INVALID_HOST: return "Connect Invalid Host";
		}
		break;
	}
	return "Unknown Status";
}

const char *
nvmf_pdu_type_name(uint8_t pdu_type)
{
	switch (pdu_type) {
	case NVME_TCP_PDU_ICREQ: return "ICReq";
	case NVME_TCP_PDU_ICRESP: return "ICResp";
	case NVME_TCP_PDU_H2C_TERM_REQ: return "H2CTermReq";
	case NVME_TCP_PDU_C2H_TERM_REQ: return "C2HTermReq";
	case NVME_TCP_PDU_CAPSULE_CMD: return "CapsuleCmd";
	case NVME_TCP_PDU_CAPSULE_RESP: return "CapsuleResp";
	case NVME_TCP_PDU_H2C_DATA: return "H2CData";
	case NVME_TCP_PDU_C2H_DATA: return "C2HData";
	case NVME_TCP_PDU_R2T: return "R2T";
	default: return "unknown";
	}
}

const char *
nvmf_fes_string(uint16_t fes)
{
	switch (fes) {
	case NVME_TCP_FES_INVALID_HEADER_FIELD: return "Invalid PDU Header Field";
	case NVME_TCP_FES_PDU_SEQUENCE_ERROR: return "PDU Sequence Error";
	case NVME_TCP_FES_HEADER_DIGEST_ERROR: return "Header Digest Error";
	case NVME_TCP_FES_DATA_OUT_OF_RANGE: return "Data Transfer Out of Range";
	case NVME_TCP_FES_R2T_LIMIT_EXCEEDED: return "Data Transfer Limit Exceeded";
	case NVME_TCP_FES_UNSUPPORTED_PARAMETER: return "Unsupported Parameter";
	default: return "Unknown Fatal Error";
	}
}
