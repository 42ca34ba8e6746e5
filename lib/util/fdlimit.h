/* SPDX-License-Identifier: BSD-2-Clause
 * Copyright (c) 2026 The nvmf developers */
/*
 * fdlimit.h - descriptors enough for many associations: RLIMIT_NOFILE's
 * soft limit (1024 on most systems) raised to its hard limit.
 */
#ifndef NVMF_UTIL_FDLIMIT_H
#define NVMF_UTIL_FDLIMIT_H

/*
 * Raises the soft RLIMIT_NOFILE to the hard one; returns the soft limit in
 * force afterwards (unchanged if it could not be raised), 0 if unknown.
 * Nothing here uses select(), so descriptors past FD_SETSIZE are fine.
 */
unsigned long fdlimit_raise(void);
/* The soft limit in force (for messages naming it), 0 if unknown. */
unsigned long fdlimit_current(void);

#endif /* NVMF_UTIL_FDLIMIT_H */
