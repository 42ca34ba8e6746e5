/* SPDX-License-Identifier: BSD-2-Clause
 * Copyright (c) 2026 The nvmf developers */
/*
 * admin.c - an admin command that reads data, run on a controller's admin
 * queue by nvmf-hostd (its "admin" operation): identify and get-log.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <json-c/json.h>

#include "nvmecontrol.h"

int
admin_read(const char *ctrl, const struct nvme_command *sqe, void *buf, uint32_t len,
    int timeout_ms, uint16_t *status, char *err, size_t errlen)
{
	struct json_object *req, *reply;
	struct control *c;
	const char *data;
	char *sqe64;
	long got;

	sqe64 = base64_encode(sqe, sizeof(*sqe));
	if (sqe64 == NULL) {
		snprintf(err, errlen, "out of memory");
		return -1;
	}
	req = json_object_new_object();
	json_object_object_add(req, "op", json_object_new_string("admin"));
	json_object_object_add(req, "name", json_object_new_string(ctrl));
	json_object_object_add(req, "sqe", json_object_new_string(sqe64));
	json_object_object_add(req, "data_len", json_object_new_int64(len));
	free(sqe64);

	c = control_open(err, errlen);
	if (c == NULL) {
		json_object_put(req);
		return -1;
	}
	reply = control_call(c, req, NULL, 0, timeout_ms, NULL, 0, err, errlen);
	control_close(c);
	json_object_put(req);
	if (reply == NULL)
		return -1;
	*status = (uint16_t)json_get_int(reply, "status", 0);
	if (*status != 0) {
		json_object_put(reply);
		return 0;
	}
	data = json_get_string(reply, "data", NULL);
	got = data != NULL ? base64_decode(data, buf, len) : -1;
	json_object_put(reply);
	if (got != (long)len) {
		snprintf(err, errlen, "nvmf-hostd returned %s data", got < 0 ? "no valid" : "short");
		return -1;
	}
	return 0;
}
