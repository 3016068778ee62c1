/* SPDX-License-Identifier: Apache-2.0 */
/* --queue ... --worker: items from the job's stream into the pool, records back to
 * Redis, idle items taken over, own items kept, the job's end seen (see queue.h). */
#ifndef CIO_FETCH_WORKER_H
#define CIO_FETCH_WORKER_H

#include <stddef.h>
#include <stdint.h>

#include <concurio/concurio.h>

#include "output.h"

struct app;
struct event_base;
struct fetch_worker;

#define FETCH_WORKER_LATER 2 /* fetch_worker_next: none yet; the feed is woken later */

/* Called by run.c. start: connects on base and fills the pool's options (the shared
 * limiter; the local rate off, since the quota is the job's); 0 or -1 (message
 * printed). next: 1 and the next item's line (valid until the next call), 0 at the
 * job's end, or FETCH_WORKER_LATER. record: sends an ended item's record. drained: 1
 * when the run may end now, else the worker breaks the loop once its records are in.
 * stop: after the pool is freed. */
int fetch_worker_start(struct fetch_worker *w, struct event_base *base, cio_pool_opts *po);
int fetch_worker_next(struct fetch_worker *w, const char **text, size_t *len, uint64_t *line);
void fetch_worker_record(struct fetch_worker *w, struct fetch_record *r, enum fetch_body body);
int fetch_worker_drained(struct fetch_worker *w);
/* A SIGINT or SIGTERM came (a->signals counts it). */
void fetch_worker_signal(struct fetch_worker *w);
void fetch_worker_stop(struct fetch_worker *w);

#endif
