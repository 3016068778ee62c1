/* SPDX-License-Identifier: Apache-2.0 */
/* Per-key queues and limits: every item has a key (for HTTP, scheme://host:port by
 * default), each key its own queue, concurrency cap and token bucket, and admission
 * serves the keys round robin so one slow or throttled key cannot take every slot. */
#ifndef CIO_KEYS_H
#define CIO_KEYS_H

#include <stddef.h>
#include <stdint.h>

#include "concurio/concurio.h"
#include "adapt.h"
#include "ratelimit.h"

struct cio_task;

/* A list of tasks, linked through the tasks themselves. */
struct cio_list {
    struct cio_task *head, *tail;
    size_t len;
};

struct cio_key {
    struct cio_key *hnext;         /* hash chain */
    struct cio_key *rnext, *rprev; /* ring of keys with queued items; NULL: not in it */
    struct cio_list queue;
    size_t in_flight;
    size_t tasks; /* unfinished tasks with this key, queued or not */
    cio_limits limits;
    unsigned own_limits : 1; /* set by cio_pool_set_key_limits: kept for good */
    struct cio_adapt adapt;  /* CIO_ADAPTIVE's state */
    struct cio_lim lim;
    char name[];
};

struct cio_keys {
    struct cio_key **slots;
    size_t nslots, nkeys;
    struct cio_key *cursor; /* the next key to serve in the ring */
    size_t waiting_keys;    /* keys in the ring: with items queued */
    size_t queued;          /* over all keys */
    size_t sweep_at;        /* table size at which idle keys are swept */
    cio_limits dflt;        /* limits of a key without its own */
};

int cio__keys_init(struct cio_keys *k, const cio_limits *dflt);
void cio__keys_free(struct cio_keys *k);
/* The key called name, made with the default limits if new; NULL when out of memory. */
struct cio_key *cio__keys_get(struct cio_keys *k, const char *name, uint64_t now);
/* Gives a key limits of its own (a new token bucket, full); CIO_E_NOMEM. */
int cio__keys_set(struct cio_keys *k, const char *name, const cio_limits *l, uint64_t now);
/* Frees an on-demand key with nothing queued or running whose bucket has refilled: it
 * would be made again exactly as it is. */
void cio__keys_release(struct cio_keys *k, struct cio_key *key, uint64_t now);

/* Queue operations on t->key's queue. */
void cio__keys_push(struct cio_keys *k, struct cio_task *t, int front);
void cio__keys_remove(struct cio_keys *k, struct cio_task *t);

/* The queued task with that id, or NULL. */
struct cio_task *cio__keys_find(struct cio_keys *k, uint64_t id);

/* Round robin: the next queued task whose key is under its cap and has a token (taken),
 * and for which ready(t, arg) says yes; it leaves its queue. While several keys have
 * items queued, a key with its share of `cap` (the pool's slots) in flight goes after
 * those below theirs, and only when none of them can start. NULL when none may start
 * now: *wait_ms is then the shortest wait for a key's token (0: only caps block). */
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

/* Notes `now` as the start of a wait for a rate token on every key's first item. */
void cio__keys_mark_rate_wait(struct cio_keys *k, uint64_t now);

/* "scheme://host:port" of an http(s) URL, lowercase, default ports filled in; 0, or -1
 * when it does not fit or is not an absolute http(s) URL. Pure. */
int cio__url_key(const char *url, char *out, size_t len);

#endif
