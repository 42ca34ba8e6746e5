/*
 * io.c - NVM I/O commands on a namespace: Read, Write (FUA), Flush,
 * Write Zeroes and Dataset Management (deallocate).
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <syslog.h>

#include "nvmfd.h"

#define DSM_MAX_RANGES	256

static uint16_t
errno_status(int rc)
{
	(void)rc;
	/* The backing store failed: the host sees a data transfer error. */
	return NVME_STATUS(NVME_SCT_GENERIC, NVME_SC_DATA_TRANSFER_ERROR);
}

/* Checks SLBA and NLB against the namespace; 0 or a status. */
static uint16_t
lba_range(const struct nvmfd_namespace *ns, uint64_t slba, uint64_t nlb)
{
	if (slba >= ns->nlbas || nlb > ns->nlbas - slba)
		return NVME_STATUS(NVME_SCT_GENERIC, NVME_SC_LBA_OUT_OF_RANGE);
	return 0;
}

static void
io_read_write(struct nvmfd_conn *conn, struct nvmf_capsule *nc,
    struct nvmfd_namespace *ns, bool write)
{
	const struct nvme_command *sqe = nvmf_capsule_sqe(nc);
	uint64_t slba = sqe->cdw10 | ((uint64_t)sqe->cdw11 << 32);
	uint32_t nlb = (sqe->cdw12 & 0xffff) + 1;
	uint64_t bytes = (uint64_t)nlb << ns->lba_shift;
	struct nvmfd_controller *c = conn->ctrl;
	uint16_t status = lba_range(ns, slba, nlb);
	void *buf;
	int rc;

	if (status != 0) {
		nvmfd_complete(nc, status);
		return;
	}
	buf = nvmfd_capsule_buffer(nc, (uint32_t)bytes, true);
	if (buf == NULL)
		return;
	if (write)
		rc = nvmfd_device_write(ns->dev, buf, slba << ns->lba_shift, (uint32_t)bytes,
		    (sqe->cdw12 & NVME_RW_FUA) != 0);
	else
		rc = nvmfd_device_read(ns->dev, buf, slba << ns->lba_shift, (uint32_t)bytes);
	if (rc != 0) {
		daemon_log(LOG_ERR, "%s: namespace %u: %s of %u blocks at %llu: %s",
		    nvmfd_device_spec(ns->dev), ns->nsid, write ? "write" : "read", nlb,
		    (unsigned long long)slba, strerror(-rc));
		nvmfd_complete(nc, errno_status(rc));
		return;
	}
	pthread_mutex_lock(&c->lock);
	if (write) {
		c->host_writes++;
		c->data_units_written += bytes >> 9;
	} else {
		c->host_reads++;
		c->data_units_read += bytes >> 9;
	}
	pthread_mutex_unlock(&c->lock);
	nvmf_capsule_complete(nc, 0, 0, 0, write ? 0 : (uint32_t)bytes);
}

static void
io_write_zeroes(struct nvmf_capsule *nc, struct nvmfd_namespace *ns)
{
	const struct nvme_command *sqe = nvmf_capsule_sqe(nc);
	uint64_t slba = sqe->cdw10 | ((uint64_t)sqe->cdw11 << 32);
	uint32_t nlb = (sqe->cdw12 & 0xffff) + 1;
	uint16_t status = lba_range(ns, slba, nlb);
	int rc;

	if (status == 0) {
		rc = nvmfd_device_write_zeroes(ns->dev, slba << ns->lba_shift,
		    (uint64_t)nlb << ns->lba_shift);
		if (rc == 0 && (sqe->cdw12 & NVME_RW_FUA))
			rc = nvmfd_device_flush(ns->dev);
		if (rc != 0)
			status = errno_status(rc);
	}
	nvmfd_complete(nc, status);
}

static void
io_dataset_management(struct nvmf_capsule *nc, struct nvmfd_namespace *ns)
{
	const struct nvme_command *sqe = nvmf_capsule_sqe(nc);
	uint32_t nr = (sqe->cdw10 & 0xff) + 1;
	const struct nvme_dsm_range *r = nvmf_capsule_data(nc);
	uint16_t status = 0;

	if (nvmf_capsule_data_len(nc) < nr * sizeof(*r) || r == NULL) {
		nvmfd_complete(nc, NVME_STATUS(NVME_SCT_GENERIC,
		    NVME_SC_DATA_SGL_LENGTH_INVALID));
		return;
	}
	/* Only deallocation changes anything; the other attributes are hints. */
	if (!(sqe->cdw11 & NVME_DSM_ATTR_DEALLOCATE)) {
		nvmfd_complete(nc, 0);
		return;
	}
	for (uint32_t i = 0; i < nr && status == 0; i++)
		status = lba_range(ns, r[i].slba, r[i].nlb);
	for (uint32_t i = 0; i < nr && status == 0; i++) {
		int rc = nvmfd_device_deallocate(ns->dev, r[i].slba << ns->lba_shift,
		    (uint64_t)r[i].nlb << ns->lba_shift);

		if (rc != 0)
			status = errno_status(rc);
	}
	nvmfd_complete(nc, status);
}

void
nvmfd_io_command(struct nvmfd_conn *conn, struct nvmf_capsule *nc)
{
	const struct nvme_command *sqe = nvmf_capsule_sqe(nc);
	struct nvmfd_namespace *ns;

	if (sqe->opc == NVME_ADMIN_FABRICS) {
		/* Only Disconnect makes sense on an I/O queue. */
		if (((const struct nvmf_fabrics_cmd *)sqe)->fctype == NVMF_FCTYPE_DISCONNECT) {
			conn->close_after_flush = true;
			nvmfd_complete(nc, 0);
		} else {
			nvmfd_complete(nc, NVME_STATUS(NVME_SCT_GENERIC, NVME_SC_INVALID_OPCODE));
		}
		return;
	}
	/* Referenced: a reload may remove the namespace while this runs. */
	ns = nvmfd_ns_get(conn->ctrl->ss, sqe->nsid);
	if (ns == NULL) {
		nvmfd_complete(nc, NVME_STATUS(NVME_SCT_GENERIC, NVME_SC_INVALID_NAMESPACE));
		return;
	}
	switch (sqe->opc) {
	case NVME_IO_READ:
		io_read_write(conn, nc, ns, false);
		break;
	case NVME_IO_WRITE:
		io_read_write(conn, nc, ns, true);
		break;
	case NVME_IO_FLUSH: {
		int rc = nvmfd_device_flush(ns->dev);

		nvmfd_complete(nc, rc == 0 ? 0 : errno_status(rc));
		break;
	}
	case NVME_IO_WRITE_ZEROES:
		io_write_zeroes(nc, ns);
		break;
	case NVME_IO_DATASET_MANAGEMENT:
		io_dataset_management(nc, ns);
		break;
	default:
		nvmfd_complete(nc, NVME_STATUS(NVME_SCT_GENERIC, NVME_SC_INVALID_OPCODE));
		break;
	}
	nvmfd_ns_put(ns);
}
