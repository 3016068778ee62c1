/* SPDX-License-Identifier: Apache-2.0 */
/* File descriptors as a limit: how many items the process's RLIMIT_NOFILE leaves room
 * for, and the back-pressure when a socket is refused for want of one. */
#ifndef CIO_FDS_H
#define CIO_FDS_H

#include "internal.h"

/* Items in flight the descriptors allow now, counted where the limit is near (two a
 * request: its socket, a name lookup's pair; a few kept); 0: no such limit. */
unsigned cio__fds_cap(const cio_pool *p);
/* A socket was refused with EMFILE or ENFILE for a running item: the pool runs no more
 * than the others until the run ends. Returns how long the item waits before it starts
 * again (0: when another ends), or -1 when it must end with CIO_E_NOFD (nothing of the
 * pool's holds a descriptor to wait for, and that has lasted 3 s). */
int64_t cio__fds_short(cio_pool *p);
/* A transfer had its socket: descriptors are not starved. */
void cio__fds_ok(cio_pool *p);

#endif
