/* SPDX-License-Identifier: BSD-2-Clause
 * Copyright (c) 2026 The nvmf developers */
/*
 * devices.c - what a namespace stores its blocks in: a file or block device
 * (pread/pwrite, fdatasync, hole punching) or memory (ramdisk:SIZE).
 */
#include <errno.h>
#include <stdatomic.h>
#include <fcntl.h>
#include <linux/falloc.h>
#include <linux/fs.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/uio.h>
#include <unistd.h>

#include "nvmfd.h"

/* A ramdisk's memory is tracked as written or not in chunks of this size. */
#define TOUCH_SHIFT	21

struct nvmfd_device {
	char spec[4096];
	int fd;				/* -1 for a ramdisk */
	uint8_t *mem;
	_Atomic uint64_t *touched;	/* a bit per chunk the host has written */
	uint64_t size;
	bool is_block;
};

int
nvmfd_parse_size(const char *s, uint64_t *out, char *err, size_t errlen)
{
	const char *p;
	uint64_t v;
	unsigned shift = 0;

	/* Decimal only: strtoull would take signs, spaces and wrap on overflow. */
	if (*s < '0' || *s > '9') {
		snprintf(err, errlen, "size '%s' is not a decimal number (e.g. 64M)", s);
		return -1;
	}
	if (decimal_scan(s, UINT64_MAX, &v, &p) != 0) {
		snprintf(err, errlen, "size '%s' is too large", s);
		return -1;
	}
	switch (*p) {
	case 'k': case 'K': shift = 10; p++; break;
	case 'm': case 'M': shift = 20; p++; break;
	case 'g': case 'G': shift = 30; p++; break;
	case 't': case 'T': shift = 40; p++; break;
	}
	if (*p == 'B' || *p == 'b')
		p++;
	if (*p != '\0') {
		snprintf(err, errlen, "size '%s' is not a decimal number with an optional "
		    "unit (K, M, G or T)", s);
		return -1;
	}
	if (v == 0) {
		snprintf(err, errlen, "size '%s' is zero", s);
		return -1;
	}
	if (v > UINT64_MAX >> shift) {
		snprintf(err, errlen, "size '%s' is too large (more than 2^64 bytes)", s);
		return -1;
	}
	*out = v << shift;
	return 0;
}

struct nvmfd_device *
nvmfd_device_open(const char *spec, uint32_t block_size, char *err, size_t errlen)
{
	struct nvmfd_device *dev = calloc(1, sizeof(*dev));
	struct stat st;

	if (dev == NULL) {
		snprintf(err, errlen, "%s: out of memory", spec);
		return NULL;
	}
	snprintf(dev->spec, sizeof(dev->spec), "%s", spec);
	dev->fd = -1;
	if (strncmp(spec, "ramdisk:", 8) == 0) {
		char why[160];

		if (nvmfd_parse_size(spec + 8, &dev->size, why, sizeof(why)) != 0) {
			snprintf(err, errlen, "%s: %s", spec, why);
			goto fail;
		}
		dev->mem = mmap(NULL, dev->size, PROT_READ | PROT_WRITE,
		    MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
		if (dev->mem == MAP_FAILED) {
			snprintf(err, errlen, "%s: cannot allocate: %s", spec, strerror(errno));
			goto fail;
		}
		dev->touched = calloc((dev->size >> TOUCH_SHIFT) / 64 + 1, sizeof(uint64_t));
		if (dev->touched == NULL) {
			snprintf(err, errlen, "%s: out of memory", spec);
			goto fail;
		}
	} else {
		dev->fd = open(spec, O_RDWR | O_CLOEXEC);
		if (dev->fd < 0 || fstat(dev->fd, &st) != 0) {
			snprintf(err, errlen, "%s: %s", spec, strerror(errno));
			goto fail;
		}
		if (S_ISBLK(st.st_mode)) {
			dev->is_block = true;
			if (ioctl(dev->fd, BLKGETSIZE64, &dev->size) != 0) {
				snprintf(err, errlen, "%s: size: %s", spec, strerror(errno));
				goto fail;
			}
		} else if (S_ISREG(st.st_mode)) {
			dev->size = (uint64_t)st.st_size;
		} else {
			snprintf(err, errlen, "%s: not a regular file or block device", spec);
			goto fail;
		}
	}
	dev->size -= dev->size % block_size;
	if (dev->size == 0) {
		snprintf(err, errlen, "%s: smaller than one %u-byte block", spec, block_size);
		goto fail;
	}
	return dev;
fail:
	nvmfd_device_close(dev);
	return NULL;
}

void
nvmfd_device_close(struct nvmfd_device *dev)
{
	if (dev == NULL)
		return;
	if (dev->fd >= 0)
		close(dev->fd);
	if (dev->mem != NULL && dev->mem != MAP_FAILED)
		munmap(dev->mem, dev->size);
	free(dev->touched);
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
	return dev->fd >= 0;
}

uint8_t *
nvmfd_device_mem(const struct nvmfd_device *dev)
{
	return dev->mem;
}

int
nvmfd_device_fd(const struct nvmfd_device *dev)
{
	return dev->fd;
}

/*
 * Memory nobody wrote yet is faulted in on first write. A socket receiving
 * straight into it takes each fault inside the kernel's copy, several
 * times slower than a fault in memcpy (measured: 216 against 1900 MiB/s),
 * so receiving in place waits until a write has touched the chunk.
 */
bool
nvmfd_device_mem_touched(const struct nvmfd_device *dev, uint64_t off, uint64_t len)
{
	for (uint64_t c = off >> TOUCH_SHIFT; c <= (off + len - 1) >> TOUCH_SHIFT; c++)
		if (!(atomic_load_explicit(&dev->touched[c / 64], memory_order_relaxed) &
		    (1ull << (c % 64))))
			return false;
	return true;
}

/* Whether no byte of the range was ever written: it reads as zeroes. */
bool
nvmfd_device_mem_unwritten(const struct nvmfd_device *dev, uint64_t off, uint64_t len)
{
	for (uint64_t c = off >> TOUCH_SHIFT; c <= (off + len - 1) >> TOUCH_SHIFT; c++)
		if (atomic_load_explicit(&dev->touched[c / 64], memory_order_relaxed) &
		    (1ull << (c % 64)))
			return false;
	return true;
}

void
nvmfd_device_mem_touch(struct nvmfd_device *dev, uint64_t off, uint64_t len)
{
	for (uint64_t c = off >> TOUCH_SHIFT; c <= (off + len - 1) >> TOUCH_SHIFT; c++)
		atomic_fetch_or_explicit(&dev->touched[c / 64], 1ull << (c % 64),
		    memory_order_relaxed);
}

bool
nvmfd_device_is_block(const struct nvmfd_device *dev)
{
	return dev->is_block;
}

int
nvmfd_device_read(struct nvmfd_device *dev, void *buf, uint64_t off, uint32_t len)
{
	uint8_t *p = buf;

	if (dev->mem != NULL) {
		memcpy(buf, dev->mem + off, len);
		return 0;
	}
	while (len > 0) {
		ssize_t n = pread(dev->fd, p, len, (off_t)off);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return -errno;
		if (n == 0) {		/* file shrank under us: reads as zeroes */
			memset(p, 0, len);
			return 0;
		}
		p += n;
		off += (uint64_t)n;
		len -= (uint32_t)n;
	}
	return 0;
}

int
nvmfd_device_write(struct nvmfd_device *dev, const void *buf, uint64_t off,
    uint32_t len, bool fua)
{
	const uint8_t *p = buf;

	if (dev->mem != NULL) {
		memcpy(dev->mem + off, buf, len);
		if (len > 0)
			nvmfd_device_mem_touch(dev, off, len);
		return 0;
	}
	while (len > 0) {
		struct iovec iov = { .iov_base = (void *)p, .iov_len = len };
		ssize_t n = pwritev2(dev->fd, &iov, 1, (off_t)off, fua ? RWF_DSYNC : 0);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return -errno;
		p += n;
		off += (uint64_t)n;
		len -= (uint32_t)n;
	}
	return 0;
}

int
nvmfd_device_flush(struct nvmfd_device *dev)
{
	if (dev->mem != NULL)
		return 0;
	return fdatasync(dev->fd) == 0 ? 0 : -errno;
}

static int
write_zero_blocks(struct nvmfd_device *dev, uint64_t off, uint64_t len)
{
	static const uint8_t zeroes[65536];

	while (len > 0) {
		uint32_t n = len > sizeof(zeroes) ? sizeof(zeroes) : (uint32_t)len;
		int rc = nvmfd_device_write(dev, zeroes, off, n, false);

		if (rc != 0)
			return rc;
		off += n;
		len -= n;
	}
	return 0;
}

int
nvmfd_device_write_zeroes(struct nvmfd_device *dev, uint64_t off, uint64_t len)
{
	if (dev->mem != NULL) {
		memset(dev->mem + off, 0, len);
		return 0;
	}
	if (!dev->is_block &&
	    fallocate(dev->fd, FALLOC_FL_ZERO_RANGE | FALLOC_FL_KEEP_SIZE,
	    (off_t)off, (off_t)len) == 0)
		return 0;
	return write_zero_blocks(dev, off, len);
}

int
nvmfd_device_deallocate(struct nvmfd_device *dev, uint64_t off, uint64_t len)
{
	if (dev->mem != NULL) {
		memset(dev->mem + off, 0, len);
		return 0;
	}
	/* Deallocated blocks read as zeroes (DLFEAT): punch, or write zeroes. */
	if (fallocate(dev->fd, FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE,
	    (off_t)off, (off_t)len) == 0)
		return 0;
	return write_zero_blocks(dev, off, len);
}
