/* SPDX-License-Identifier: Apache-2.0 */
/* The door between the core and its engines (src/http, src/adapters): what an engine
 * registers with a pool, how it queues an item, what it learns of an attempt, and the
 * one outcome an attempt reports. The core decides the rest: retries, budget, requeue,
 * throttling, the terminal callback. Nothing here names an engine. */
#ifndef CIO_CORE_H
#define CIO_CORE_H

#include <stddef.h>
#include <stdint.h>

#include "concurio/concurio.h"

struct event_base;
struct cio_engine;

/* ---- engines ------------------------------------------------------------------------- */

/* An engine: one kind of work of a pool's (HTTP, blocking functions, DNS), made the first
 * time the pool needs it. */
typedef struct cio_engine_ops {
    const char *name;
    /* 0 when t may not start yet (every worker busy): admission passes it over. NULL:
     * always ready. */
    int (*ready)(void *state, const cio_task *t);
    /* The pool is being freed and every item has ended: free the engine. Nothing of it
     * may run after this returns but what libevent already holds (it frees itself). */
    void (*free)(void *state);
} cio_engine_ops;

/* Registers an engine with the pool; it is freed with the pool. NULL when out of
 * memory (the state is then the caller's). */
struct cio_engine *cio__engine_add(cio_pool *p, const cio_engine_ops *ops, void *state);
/* The state of the pool's engine of these ops, or NULL. */
void *cio__engine_find(const cio_pool *p, const cio_engine_ops *ops);

/* ---- the pool, as an engine sees it --------------------------------------------------- */

/* Makes the pool's own loop if it has none (CIO_E_NOFD without descriptors for one). */
int cio__pool_bind(cio_pool *p);
struct event_base *cio__pool_base(const cio_pool *p);
const cio_pool_opts *cio__pool_opts(const cio_pool *p);
/* The HTTP options, the pool's copy (never NULL: defaults when the caller gave none). */
const cio_http_opts *cio__pool_http(const cio_pool *p);
int cio__pool_closing(const cio_pool *p);

/* Every entry from the loop into code that may call back is bracketed by enter/leave:
 * leave runs a pending dispatch and performs a deferred free, and returns 1 when the
 * pool is gone. */
void cio__pool_enter(cio_pool *p);
int cio__pool_leave(cio_pool *p);
/* Asks for admission and feeding to run soon (a worker came free, a slot may have). */
void cio__pool_kick(cio_pool *p);

/* Descriptors the process may still open; UINT_MAX when the limit is far away. A new
 * event loop needs CIO_FDS_PER_LOOP (libevent exits the process when one it makes finds
 * none for its signal pipe). */
unsigned cio__fds_free(void);
#define CIO_FDS_PER_LOOP 8u
/* An engine opened (or closed) descriptors of its own: count them again at admission. */
void cio__pool_fds_changed(cio_pool *p);

/* Copies a caller's options struct into dst (ours bytes, the rest zero), reading no more
 * than its `size` (its first field) says: a caller built against an older, smaller
 * struct is never read past. size 0 stands for `first`, the struct as 0.2.0 had it
 * (CIO_SIZE_0_2), fixed for good, so `= {0}` stays safe as fields are appended.
 * CIO_E_INVAL for a size too small to hold the size itself. */
int cio__copy_sized(void *dst, size_t ours, const void *src, size_t first);
#define CIO_SIZE_0_2(type, last) (offsetof(type, last) + sizeof(((type *)0)->last))

/* The monotonic clock in ms (clock.c). */
uint64_t cio__now_ms(void);

/* "scheme://host:port" of an http(s) URL, lowercase, default ports filled in; 0, or -1
 * when it does not fit or is not an absolute http(s) URL. Pure. */
int cio__url_key(const char *url, char *out, size_t len);

/* ---- items ---------------------------------------------------------------------------- */

/* An item to queue. */
typedef struct cio_item {
    struct cio_engine *engine; /* NULL: a caller's adapter */
    const cio_task_vtable *vt;
    void *work;
    void *user;
    unsigned timeout_ms;       /* 0: the pool's; CIO_NO_TIMEOUT: none */
    const char *key;           /* "" or NULL: none */
    const char *label;         /* the TimeoutedTask name; NULL: vt->name (borrowed) */
    const cio_http_req *req;   /* for the TimeoutedTask record (borrowed from the work) */
    const cio_retry *retry;    /* NULL: the pool's (copied) */
    unsigned self_timed : 1;   /* the engine enforces cio__task_limit_ms itself */
    unsigned reports_sent : 1; /* the engine calls cio__task_sent */
} cio_item;

/* Queues an item. CIO_OK and *id; or an error (no callback ever fires, work stays the
 * caller's). */
int cio__submit(cio_pool *p, const cio_item *item, cio_task_id *id);
/* Queues a generic item of the engine registered with ops (the built-in adapters), as
 * cio_submit does (o read as far as its size says). */
int cio__submit_to(cio_pool *p, const cio_engine_ops *ops, const cio_task_vtable *vt, void *work,
                   const cio_task_opts *o, cio_task_id *id);

/* The running attempt's limit in ms (its timeout, or the rest of the item's budget if
 * sooner); 0: none. */
unsigned cio__task_limit_ms(const cio_task *t);
/* 1 when a rate limit waits to hear that this attempt's request went out. */
int cio__task_wants_sent(const cio_task *t);
/* 1 while an attempt runs (its outcome is still due). */
int cio__task_running(const cio_task *t);
cio_pool *cio__task_pool(const cio_task *t);
/* The attempt's request went out at `when`: a rate limit counts it from then. */
void cio__task_sent(cio_task *t, uint64_t when);

/* How an attempt ended, as its engine reports it; the core decides what follows. */
typedef struct cio_outcome {
    cio_result *res;        /* the result: res->status is CIO_OK or a cio_err, and the rest
                               (a response's status, body, headers, timings) as the engine has
                               it; borrowed until cio__task_outcome returns */
    int retryable;          /* a generic item said another attempt may help (CIO_RETRY_WORK) */
    int64_t retry_after_ms; /* the other side asked to wait this long first; -1: no */
    int no_fd;              /* it could not begin: no descriptor (back-pressure) */
    int fd_ok;              /* it had its descriptor: descriptors are not starved */
    int throttled;          /* the other side said "too many" (429, 503) */
    uint64_t pause_ms;      /* ... and to pause its key this long; 0: no */
    uint64_t connects;      /* connections it opened */
    int exhausted_status;   /* when a result the policy retries is still the answer as the
                               attempts run out, end with this instead (0: as it is) */
    cio_budget budget;      /* for a timeout the engine's own limit expired:
                               CIO_BUDGET_CONNECT; else the core tells which */
    unsigned budget_ms;     /* with CIO_BUDGET_CONNECT: that limit */
} cio_outcome;

/* The attempt ended: another attempt, a requeue (no_fd), or the item's one terminal
 * callback, before this returns. A second report, or one after cancel, is ignored
 * (cio_stats.ignored_completions). Context: loop thread, inside enter/leave. */
void cio__task_outcome(cio_task *t, const cio_outcome *o);

#endif
