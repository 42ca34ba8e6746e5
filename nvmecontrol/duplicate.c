/* SPDX-License-Identifier: BSD-2-Clause
 * Copyright (c) 2026 The nvmf developers */
/*
 * duplicate.c - is an association already held? nvme-cli's rule: the same
 * transport address and service, SubNQN and host NQN as a controller of
 * nvmf-hostd is a duplicate; connect refuses it unless -D, connect-all
 * skips it.
 */
#include <arpa/inet.h>
#include <string.h>
#include <strings.h>

#include <json-c/json.h>

#include "nvmecontrol.h"

/* Same transport address: numerically for IP addresses ("::1" is "0::1"). */
bool
same_address(const char *a, const char *b)
{
	unsigned char x[16], y[16];

	if (inet_pton(AF_INET6, a, x) == 1 && inet_pton(AF_INET6, b, y) == 1)
		return memcmp(x, y, 16) == 0;
	if (inet_pton(AF_INET, a, x) == 1 && inet_pton(AF_INET, b, y) == 1)
		return memcmp(x, y, 4) == 0;
	return strcasecmp(a, b) == 0;
}

const char *
existing_controller(struct json_object *ctrls, const char *subnqn, const char *traddr,
    const char *trsvcid, const char *hostnqn)
{
	for (size_t i = 0; i < json_object_array_length(ctrls); i++) {
		struct json_object *c = json_object_array_get_idx(ctrls, i);
		const char *h = json_get_string(c, "hostnqn", NULL);

		if (strcmp(json_get_string(c, "subnqn", ""), subnqn) == 0 &&
		    same_address(json_get_string(c, "traddr", ""), traddr) &&
		    strcmp(json_get_string(c, "trsvcid", ""), trsvcid) == 0 &&
		    (h == NULL || strcmp(h, hostnqn) == 0))
			return json_get_string(c, "name", "?");
	}
	return NULL;
}
