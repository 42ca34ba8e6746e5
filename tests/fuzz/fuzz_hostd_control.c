/* SPDX-License-Identifier: BSD-2-Clause
 * Copyright (c) 2026 The nvmf developers */
/*
 * fuzz_hostd_control.c - libFuzzer target for what nvmf-hostd reads from its
 * control socket: a JSON request, and the hand-off/reconnect message that
 * carries a controller's parameters, Identify data and queue descriptions
 * (hd_handoff_parse). Whatever arrives: a one-line error naming what is
 * wrong, or a message every part of which is in range, as the adopting code
 * assumes; no crash, no leak.
 *
 * Input: the first byte is the number of descriptors said to come with the
 * message (0-65), the rest the message.
 *
 * fuzz-sources: nvmf-hostd/ctrl_params.c nvmf-hostd/handoff_msg.c nvmf-hostd/jfield.c lib/util/base64.c lib/util/log.c lib/util/text.c
 * fuzz-cflags: -Invmf-hostd -Ilib/util
 * fuzz-libs: -ljson-c
 */
#include <json-c/json.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "hostd.h"
#include "fuzz_check.h"

static void
check_message(const struct hd_handoff_msg *m, unsigned nfds)
{
	CHECK(m->nqueues >= 1 && m->nqueues <= HOSTD_MAX_IO_QUEUES + 1);
	CHECK(m->nqueues == nfds);
	for (uint32_t i = 0; i < m->nqueues; i++) {
		CHECK(m->queues[i].qid == i);
		CHECK(m->queues[i].qsize >= 2);
		if (i > 1)
			CHECK(m->queues[i].qsize == m->queues[1].qsize);
	}
	CHECK(strlen(m->params.subnqn) <= NVMF_NQN_MAX_LEN);
	CHECK(strlen(m->params.hostnqn) <= NVMF_NQN_MAX_LEN);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct hd_handoff_msg m;
	struct json_tokener *tok;
	struct json_object *req;
	char err[512];
	unsigned nfds;

	if (size < 1 || size > 128 * 1024)
		return 0;
	nfds = data[0] % 66;
	tok = json_tokener_new();
	if (tok == NULL)
		return 0;
	req = json_tokener_parse_ex(tok, (const char *)data + 1, (int)(size - 1));
	if (req != NULL && json_object_is_type(req, json_type_object)) {
		err[0] = '\0';
		if (hd_handoff_parse(req, nfds, &m, err, sizeof(err)) == 0) {
			check_message(&m, nfds);
		} else {
			CHECK(err[0] != '\0');
			CHECK(strchr(err, '\n') == NULL);
		}
	}
	json_object_put(req);
	json_tokener_free(tok);
	return 0;
}
