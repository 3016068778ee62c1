/* SPDX-License-Identifier: Apache-2.0 */
/* Scheduling and runs: the feeder, admission (a slot, the pool's token, a key's slot and
 * token, a shared limiter's slot, all at once, with descriptors allowing), the rate and
 * deadline timers, the run's phases and its meter. */
#ifndef CIO_SCHED_H
#define CIO_SCHED_H

#include "internal.h"

/* Makes the scheduler's events on the pool's base (those an earlier call could not).
 * CIO_OK or CIO_E_NOMEM. */
int cio__sched_events(cio_pool *p);
void cio__sched_events_free(cio_pool *p);
/* The guard's dispatch hook: feed, admit, and end the run when it has drained. */
void cio__sched_dispatch(cio_pool *p);
/* A run begins (cio_pool_run, cio_pool_start). */
void cio__sched_begin(cio_pool *p);
/* Ends every unfinished item (with running = 0: every one not in flight) with `code`;
 * returns how many it ended. Callbacks may submit (those run later) and cancel (the
 * victims are set aside where cio_cancel finds them). */
size_t cio__sched_end_all(cio_pool *p, int code, int running);

#endif
