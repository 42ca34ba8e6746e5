/* SPDX-License-Identifier: BSD-2-Clause
 * Copyright (c) 2026 The nvmf developers */
/*
 * discovery_log.c - the discovery log of a discovery controller nvmf-hostd
 * keeps (connect-all --persistent), read through nvmf-hostd's admin
 * operation: the header, then every record in pieces of at most 64 KiB
 * (what one request carries), again while the generation counter moves.
 * Read without Retain Asynchronous Event, as the spec wants, so that the
 * controller notifies the next change.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "nvmecontrol.h"

#define PIECE_MAX	(64 * 1024)
#define RECORDS_MAX	4096		/* as libnvmf's own reader */
#define ATTEMPTS	10

static int
read_piece(const char *ctrl, uint64_t off, void *buf, uint32_t len, int timeout_ms,
    char *err, size_t errlen)
{
	struct nvme_command sqe;
	uint16_t status;

	nvmf_cmd_get_log_page(&sqe, NVME_LOG_DISCOVERY, 0, off, len);
	if (admin_read(ctrl, &sqe, buf, len, timeout_ms, &status, err, errlen) != 0)
		return -1;
	if (status != 0) {
		snprintf(err, errlen, "%s: reading the discovery log: %s", ctrl,
		    nvmf_status_string(status));
		return -1;
	}
	return 0;
}

int
hostd_discovery_log(const char *ctrl, struct nvmf_discovery_log_header **log,
    int timeout_ms, char *err, size_t errlen)
{
	struct nvmf_discovery_log_header hdr;

	for (int attempt = 0; attempt < ATTEMPTS; attempt++) {
		size_t len;
		uint8_t *buf;

		if (read_piece(ctrl, 0, &hdr, sizeof(hdr), timeout_ms, err, errlen) != 0)
			return -1;
		if (hdr.numrec > RECORDS_MAX) {
			snprintf(err, errlen, "%s: the discovery log claims %llu records", ctrl,
			    (unsigned long long)hdr.numrec);
			return -1;
		}
		len = sizeof(hdr) + hdr.numrec * sizeof(struct nvmf_discovery_log_entry);
		buf = calloc(1, len);
		if (buf == NULL) {
			snprintf(err, errlen, "out of memory");
			return -1;
		}
		for (size_t off = 0; off < len;) {
			uint32_t n = len - off > PIECE_MAX ? PIECE_MAX : (uint32_t)(len - off);

			if (read_piece(ctrl, off, buf + off, n, timeout_ms, err, errlen) != 0) {
				free(buf);
				return -1;
			}
			off += n;
		}
		/* The header read last says whether the records belong to one generation. */
		if (((struct nvmf_discovery_log_header *)buf)->genctr == hdr.genctr &&
		    ((struct nvmf_discovery_log_header *)buf)->numrec == hdr.numrec) {
			*log = (struct nvmf_discovery_log_header *)buf;
			return 0;
		}
		free(buf);
	}
	snprintf(err, errlen, "%s: the discovery log keeps changing", ctrl);
	return -1;
}
