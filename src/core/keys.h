/* SPDX-License-Identifier: Apache-2.0 */
/* Per-key queues and limits: every item has a key (for HTTP, scheme://host:port by
 * default), each key its own queue, concurrency cap and rate limiter; admission serves
 * the keys round robin, each to its fair share while others wait. A data structure: it
 * calls nothing above it. */
#ifndef CIO_KEYS_H
#define CIO_KEYS_H

#include <stddef.h>
#include <stdint.h>

#include "concurio/concurio.h"
#include "adapt.h"
#include "list.h"
#include "ratelimit.h"

struct cio_task;

struct cio_key {
    struct cio_key *hnext; /* hash chain */
    struct cio_node round; /* in the round of keys with queued items; unlinked: not */
    struct cio_node queue; /* its queued items */
    size_t queued;
    size_t in_flight;
    size_t tasks; /* unfinished items with this key, queued or not */
    cio_limits limits;
    unsigned own_limits : 1; /* set by cio_pool_set_key_limits: kept for good */
    struct cio_adapt adapt;  /* CIO_ADAPTIVE's state */
    struct cio_lim lim;
    char name[];
};

struct cio_keys {
    struct cio_key **slots;
    size_t nslots, nkeys;
    struct cio_node round;  /* keys with queued items */
    struct cio_key *cursor; /* the next key to serve in the round */
    size_t queued;          /* over all keys */
    size_t waiting_keys;    /* keys in the round */
    size_t sweep_at;        /* table size at which idle keys are swept */
    cio_limits dflt;        /* limits of a key without its own */
};

int cio__keys_init(struct cio_keys *k, const cio_limits *dflt);
void cio__keys_free(struct cio_keys *k);
/* The key called name, made with the default limits if new; NULL when out of memory. */
struct cio_key *cio__keys_get(struct cio_keys *k, const char *name, uint64_t now);
/* Gives a key limits of its own (a new limiter, full); CIO_E_NOMEM, CIO_E_INVAL. */
int cio__keys_set(struct cio_keys *k, const char *name, const cio_limits *l, uint64_t now);
/* Frees an on-demand key with nothing queued or running whose limiter has refilled: it
 * would be made again exactly as it is. */
void cio__keys_release(struct cio_keys *k, struct cio_key *key, uint64_t now);

/* Queue operations on t->key's queue (t->node; t->where is the caller's). */
void cio__keys_push(struct cio_keys *k, struct cio_task *t, int front);
void cio__keys_remove(struct cio_keys *k, struct cio_task *t);

/* The queued item with that id, or NULL. */
struct cio_task *cio__keys_find(struct cio_keys *k, uint64_t id);
/* Calls fn on every key's first queued item (to note the start of a wait for a token). */
void cio__keys_each_head(struct cio_keys *k, void (*fn)(struct cio_task *t, void *arg), void *arg);

/* Round robin: the next queued item whose key is under its cap and has a token (taken, or
 * held when the item says when it is sent), and for which ready(t, arg) says yes; it
 * leaves its queue. While several keys have items queued, a key with its share of `cap`
 * (the pool's slots) in flight goes after those below theirs, and only when none of
 * them can start. NULL when none may start now: *wait_ms is then the shortest wait for a
 * key's token (0: only caps block). */
struct cio_task *cio__keys_next(struct cio_keys *k, uint64_t now,
                                int (*ready)(const struct cio_task *t, void *arg), void *arg,
                                size_t cap, uint64_t *wait_ms);

/* CIO_ADAPTIVE: a 429 or 503 for the key at `now`; a pause of pause_ms (0: none) from
 * its rate-limit headers. pool_per_minute: the pool's own rate (0: none), which holds
 * the key too when it has none of its own (or a higher one). Returns 1 when the key's
 * rate was cut. */
int cio__keys_throttled(struct cio_key *key, uint64_t now, int cut, uint64_t pause_ms,
                        uint64_t pool_per_minute);
/* Counts a start for CIO_ADAPTIVE. */
void cio__keys_started(struct cio_key *key, uint64_t now);

#endif
