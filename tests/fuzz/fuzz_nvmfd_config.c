/* SPDX-License-Identifier: BSD-2-Clause
 * Copyright (c) 2026 The nvmf developers */
/*
 * fuzz_nvmfd_config.c - libFuzzer target for nvmfd's JSON configuration
 * parser (nvmfd_config_load_json): whatever the file holds, a one-line error
 * or a configuration whose every part is within its limits, and nothing
 * leaked either way.
 *
 * The device layer is replaced by one that opens nothing: a fuzzed path must
 * not reach the machine's files, and the parser is what is under test.
 *
 * fuzz-sources: nvmfd/config.c lib/util/decimal.c lib/util/text.c
 * fuzz-cflags: -Invmfd -Ilib/util
 * fuzz-libs: -ljson-c
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "nvmfd.h"
#include "fuzz_check.h"

/* A device of the size "ramdisk:N" names, or 1 MiB for a path; no I/O. */
struct nvmfd_device {
	uint64_t size;
	char spec[64];
};

struct nvmfd_device *
nvmfd_device_open(const char *spec, uint32_t block_size, char *err, size_t errlen)
{
	struct nvmfd_device *d;

	(void)block_size;
	if (*spec == '\0') {
		snprintf(err, errlen, "empty device");
		return NULL;
	}
	d = calloc(1, sizeof(*d));
	if (d == NULL) {
		snprintf(err, errlen, "out of memory");
		return NULL;
	}
	d->size = 1 << 20;
	snprintf(d->spec, sizeof(d->spec), "%s", spec);
	return d;
}

void
nvmfd_device_close(struct nvmfd_device *dev)
{
	free(dev);
}

uint64_t
nvmfd_device_size(const struct nvmfd_device *dev)
{
	return dev->size;
}

const char *
nvmfd_device_spec(const struct nvmfd_device *dev)
{
	return dev->spec;
}

bool
nvmfd_device_is_file(const struct nvmfd_device *dev)
{
	(void)dev;
	return false;
}

static void
check_config(const struct nvmfd_config *cfg)
{
	CHECK(cfg->nports >= 1 && cfg->nsubsystems >= 1);
	for (uint32_t i = 0; i < cfg->nports; i++)
		CHECK(cfg->ports[i].port >= 1 && cfg->ports[i].id == i + 1);
	for (uint32_t i = 0; i < cfg->nsubsystems; i++) {
		const struct nvmfd_subsystem *ss = cfg->subsystems[i];
		uint32_t nns = 0;

		CHECK(strlen(ss->nqn) <= NVMF_NQN_MAX_LEN);
		CHECK(strncmp(ss->nqn, "nqn.", 4) == 0);
		for (uint32_t h = 0; h < ss->nhosts; h++)
			CHECK(ss->hosts[h] != NULL && strncmp(ss->hosts[h], "nqn.", 4) == 0);
		for (uint32_t p = 0; p < ss->nports; p++)
			CHECK(ss->ports[p] >= 1 && ss->ports[p] <= cfg->nports &&
			    !cfg->ports[ss->ports[p] - 1].discovery_only);
		for (uint32_t n = 0; n < NVMFD_MAX_NAMESPACES; n++) {
			if (ss->ns[n] == NULL)
				continue;
			nns++;
			CHECK(ss->ns[n]->nsid == n + 1 && n < ss->nns);
			CHECK(ss->ns[n]->lba_shift == 9 || ss->ns[n]->lba_shift == 12);
		}
		CHECK(nns >= 1);
	}
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static int fd = -1;
	struct nvmfd_config cfg;
	char path[64], err[512];

	if (size > 256 * 1024)
		return 0;
	if (fd < 0)
		fd = memfd_create("nvmfd-config", 0);
	CHECK(fd >= 0);
	CHECK(ftruncate(fd, 0) == 0);
	CHECK(pwrite(fd, data, size, 0) == (ssize_t)size);
	snprintf(path, sizeof(path), "/proc/self/fd/%d", fd);

	err[0] = '\0';
	if (nvmfd_config_load_json(&cfg, path, err, sizeof(err)) == 0) {
		check_config(&cfg);
	} else {
		/* One line that says something. */
		CHECK(err[0] != '\0');
		CHECK(strchr(err, '\n') == NULL);
	}
	nvmfd_config_free(&cfg);
	return 0;
}
