/* SPDX-License-Identifier: BSD-2-Clause
 * Copyright (c) 2026 The nvmf developers */
/*
 * ctrl_defaults.h - a fabrics controller's defaults, FreeBSD nvmecontrol's
 * and nvme-cli's: one place for nvmecontrol (what it connects with) and
 * nvmf-hostd (what an absent field of the control protocol means).
 */
#ifndef CTRL_DEFAULTS_H
#define CTRL_DEFAULTS_H

#define NVMF_DEFAULT_KATO_MS		120000	/* FreeBSD NVMF_KATO_DEFAULT */
#define NVMF_DEFAULT_RECONNECT_DELAY	10	/* seconds */
#define NVMF_DEFAULT_CTRL_LOSS_TMO	600	/* seconds; 0 (or -1): never */
#define NVMF_DEFAULT_FAST_IO_FAIL_TMO	(-1)	/* off: I/O is held until detach */
#define NVMF_DEFAULT_NR_IO_QUEUES	1

#endif /* CTRL_DEFAULTS_H */
