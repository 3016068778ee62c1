/* SPDX-License-Identifier: Apache-2.0 */
/* The core's data: the pool and its items, shared by the core's files (each file's
 * functions are in its own header). Engines never see this: they see core.h. */
#ifndef CIO_INTERNAL_H
#define CIO_INTERNAL_H

#include <stddef.h>
#include <stdint.h>

#include "concurio/concurio.h"
#include "core.h"
#include "keys.h"
#include "list.h"
#include "progress.h"
#include "ratelimit.h"

struct event;

enum cio_task_state {
    CIO_TS_QUEUED,
    CIO_TS_RUNNING,
    CIO_TS_WAITING, /* between attempts: holds neither a slot nor a token */
    CIO_TS_ENDED
};

/* Which list an item's node is on. */
enum cio_task_where {
    CIO_AT_NONE = 0,
    CIO_AT_QUEUE,   /* its key's queue */
    CIO_AT_RUNNING, /* the pool's running list */
    CIO_AT_WAITING, /* waiting to retry */
    CIO_AT_ENDING,  /* set aside by a bulk end (cancel-all, deadline, free) */
    CIO_AT_ZOMBIES  /* ended: the reaper destroys its work and frees it */
};

struct cio_task {
    struct cio_node node; /* in the list `where` says, or the pool's spares */
    enum cio_task_where where;
    cio_pool *pool;
    struct cio_engine *engine; /* NULL: a caller's adapter */
    const cio_task_vtable *vt;
    void *work;
    void *user;
    const char *name;        /* TimeoutedTask name: "GET url" or vt->name */
    const cio_http_req *req; /* the engine's copy of the request, for TimeoutedTask */
    struct cio_key *key;     /* its limits key; it counts in key->tasks */
    cio_task_id id;
    unsigned timeout_ms; /* 0: none */
    unsigned limit_ms;   /* this attempt's: timeout_ms, or the budget left if sooner */
    unsigned attempts;
    enum cio_task_state state;
    unsigned self_timed : 1;   /* the engine enforces limit_ms itself */
    unsigned reports_sent : 1; /* the engine says when its request goes out */
    unsigned held_pool : 1;    /* a start of the pool's limit, held until sent */
    unsigned held_key : 1;     /* the same, of its key's */
    unsigned item_limited : 1; /* limit_ms is the rest of the item's budget */
    cio_budget budget;         /* of a timeout: which limit expired */
    cio_retry retry;           /* its policy (statuses in retry_statuses) */
    unsigned short *retry_statuses;
    uint64_t submit_ms, start_ms;
    uint64_t first_start_ms; /* the first attempt's start: the item budget's clock */
    uint64_t enqueued_ms;    /* when it last joined a queue */
    uint64_t queued_total, rate_wait_total;
    uint64_t rate_wait_from;   /* 0, or since when only a token keeps it waiting */
    struct event *timer;       /* the attempt's limit, when the core enforces it */
    struct event *retry_timer; /* the wait before the next attempt */
    uint64_t retry_at;
};

/* A registered engine (core.h): its operations and state. */
struct cio_engine {
    struct cio_node node;
    const cio_engine_ops *ops;
    void *state;
};

enum cio_feed_state { CIO_FEED_NONE, CIO_FEED_ACTIVE, CIO_FEED_PAUSED };

struct cio_grant {
    uint64_t at, latest; /* ms on cio__now_ms's clock */
};

struct cio_pool {
    cio_pool_opts o;    /* the caller's, copied; o.http points to http */
    cio_http_opts http; /* the HTTP engine's options, copied */
    struct event_base *base;
    unsigned owns_base : 1;
    unsigned attached : 1;
    unsigned in_run : 1;  /* inside cio_pool_run: the free waits for it */
    unsigned closing : 1; /* cio_pool_free was called */
    unsigned phase : 1;   /* a run is on: queued items are admitted */
    unsigned expired : 1; /* the run's deadline passed */
    unsigned need_dispatch : 1;
    unsigned kicked : 1;     /* the kick event is active */
    unsigned stopping : 1;   /* cio_pool_stop: nothing new starts; the run ends when the
                                items in flight have */
    unsigned meter_line : 1; /* the built-in meter redraws one line */
    unsigned feeding : 1;    /* inside on_feed */
    unsigned feed_again : 1; /* on_feed called cio_pool_feed_wake: call it next turn */
    unsigned fd_stale : 1;   /* an engine opened descriptors: count them again */
    unsigned held : 2;       /* CIO_HELD_*: what admission last waited for */
    enum cio_feed_state feed;
    int phase_rc;         /* what cio_pool_run returns for this run */
    unsigned fd_cap;      /* items in flight the descriptors allow; 0: no such limit */
    unsigned fd_tries;    /* EMFILE with nothing of the pool's in flight, in a row */
    uint64_t fd_starved;  /* since when that has lasted; 0: not starved */
    uint64_t deadline_at; /* ms on cio__now_ms's clock */
    int depth;            /* entry points and callbacks on the stack */
    /* guard.c calls these two, which sched.c and pool.c set: the only calls up. */
    void (*dispatch)(cio_pool *p);
    void (*destroy)(cio_pool *p);
    struct cio_lim lim;
    struct cio_grant *grants; /* a shared limiter's slots, a ring of max_concurrency */
    unsigned g_head, g_n;     /* the ring's first and how many it holds */
    unsigned g_asked;         /* slots asked of the limiter and not yet granted */
    struct cio_keys keys;     /* the queues, one per key */
    struct cio_node running, ending, waiting, zombies;
    struct cio_node spares; /* freed tasks kept for reuse */
    size_t nspares;
    struct cio_node engines;
    size_t count;     /* submitted and not yet ended */
    size_t in_flight; /* started and not yet stopped */
    cio_task_id next_id;
    uint64_t rand_state;            /* jitter for retries */
    unsigned short *retry_statuses; /* the pool's copy of o.retry.statuses */
    cio_stats st;
    struct event *kick, *rate_timer, *deadline_timer, *reaper;
    struct event *progress_timer; /* only with a meter */
    struct cio_meter meter;
    uint64_t done0, errors0, timeouts0; /* the counters when the run began */
    char *dns_nameserver;               /* the pool's copies of the options' strings */
    char *ca_file, *proxy, *noproxy, *resolve, *connect_to; /* copies of the options' */
    char *cookie_file;
    char *progress_desc;
};

#endif
