/* SPDX-License-Identifier: Apache-2.0 */
/* Counting descriptors, and waiting for one without spinning. */
#include <fcntl.h>
#include <limits.h>
#include <sys/resource.h>

#include "fds.h"

#define COUNTED_BELOW 4096u /* a limit this near is counted; a farther one has room */
#define STARVED_MS 3000u    /* EMFILE with nothing of ours to wait for: then CIO_E_NOFD */
#define RESERVE 8u          /* kept for the loop and the caller */

unsigned cio__fds_free(void)
{
    struct rlimit rl;

    /* Counting costs a system call a descriptor: only where the limit is near enough to
     * matter (the common 1024 is; 20000 or a million is not counted). */
    if (getrlimit(RLIMIT_NOFILE, &rl) != 0 || rl.rlim_cur == RLIM_INFINITY ||
        rl.rlim_cur > COUNTED_BELOW)
        return UINT_MAX;
    rlim_t open = 0;
    for (rlim_t fd = 0; fd < rl.rlim_cur; fd++)
        open += fcntl((int)fd, F_GETFD) != -1;
    return rl.rlim_cur > open ? (unsigned)(rl.rlim_cur - open) : 0;
}

unsigned cio__fds_cap(const cio_pool *p)
{
    unsigned left = cio__fds_free();

    if (left == UINT_MAX || left > 2 * p->o.max_concurrency + 64)
        return 0;
    left += (unsigned)p->in_flight; /* the items in flight hold a socket each: theirs again */
    unsigned room = left > RESERVE ? (left - RESERVE) / 2 : 0;
    return room > 0 ? room : 1;
}

int64_t cio__fds_short(cio_pool *p)
{
    unsigned others = p->in_flight > 0 ? (unsigned)p->in_flight - 1 : 0;
    uint64_t now = cio__now_ms();

    p->fd_cap = others > 0 ? others : 1;
    if (others > 0)
        return 0; /* again when one of them ends and gives its descriptor back */
    /* Nothing of the pool's holds one: wait, longer each time, and give up after a while
     * (the rest give up at once until a socket is had again). */
    if (p->fd_starved == 0)
        p->fd_starved = now;
    if (now - p->fd_starved >= STARVED_MS)
        return -1;
    unsigned shift = p->fd_tries < 5 ? p->fd_tries : 5;
    p->fd_tries++;
    return (int64_t)100 << shift;
}

void cio__fds_ok(cio_pool *p)
{
    p->fd_starved = 0;
    p->fd_tries = 0;
}

void cio__pool_fds_changed(cio_pool *p)
{
    p->fd_stale = 1;
}
