/* SPDX-License-Identifier: Apache-2.0 */
/* The ledger: every terminal callback recorded by id, so tests can prove that every
 * submitted item ended exactly once. Pool callbacks take a struct ledger as user. */
#ifndef CIO_TEST_LEDGER_H
#define CIO_TEST_LEDGER_H

#include <stddef.h>
#include <stdint.h>

#include <concurio/concurio.h>

#define LEDGER_MAX 20001

struct ledger {
    size_t done, errors, timeouts, twice;
    unsigned char ends[LEDGER_MAX];  /* terminal callbacks seen per id */
    int last_status;                 /* of the last on_error */
    size_t by_status[16];            /* on_error counts per -status */
    cio_timeouted_task last_timeout; /* pointers inside are dead after the callback */
    void (*after)(cio_pool *pool, cio_task_id id, struct ledger *l); /* test hook */
    void *ctx; /* the test's own state, for hooks */
};

void ledger_opts(cio_pool_opts *o, struct ledger *l);
/* Items that ended exactly once among ids 1..n; 0 when any ended twice. */
size_t ledger_once(const struct ledger *l, size_t n);

#endif
