/* SPDX-License-Identifier: Apache-2.0 */
/* Shared structs of the pool and its tasks, and the cio__ functions between modules. */
#ifndef CIO_INTERNAL_H
#define CIO_INTERNAL_H

#include <stddef.h>
#include <stdint.h>

#include "concurio/concurio.h"
#include "keys.h"
#include "progress.h"
#include "ratelimit.h"

struct event;
struct cio_http;
struct cio_threads;
struct cio_dns;

enum cio_task_state {
    CIO_TS_QUEUED,
    CIO_TS_RUNNING,
    CIO_TS_WAITING, /* between attempts: holds neither a slot nor a token */
    CIO_TS_ENDED
};

struct cio_task {
    cio_task *next, *prev; /* links in the list `on` */
    struct cio_list *on;   /* queue, running or ending; NULL once ended */
    cio_pool *pool;
    const cio_task_vtable *vt;
    void *work;
    void *user;
    const char *name;        /* TimeoutedTask name: "GET url" or vt->name */
    const cio_http_req *req; /* the pool's copy, HTTP only */
    struct cio_key *key;     /* its limits key; it counts in key->tasks */
    cio_task_id id;
    unsigned timeout_ms; /* 0: none */
    unsigned attempts;
    enum cio_task_state state;
    unsigned in_start : 1;     /* inside vt->start: an end there must not free it */
    unsigned self_timed : 1;   /* the adapter enforces timeout_ms itself (HTTP) */
    unsigned reports_sent : 1; /* the adapter says when its request goes out (HTTP) */
    unsigned held_pool : 1;    /* a window start of the pool's, held until sent */
    unsigned held_key : 1;     /* the same, of its key's */
    uint64_t submit_ms, start_ms;
    uint64_t first_start_ms; /* the first attempt's start: the item budget's clock */
    uint64_t enqueued_ms;    /* when it last joined a queue */
    uint64_t queued_total, rate_wait_total;
    uint64_t rate_wait_from;   /* 0, or since when only a token keeps it waiting */
    int budget;                /* CIO_BUDGET_* of a timeout the adapter reports */
    struct event *timer;       /* per-item limit of generic items */
    struct event *retry_timer; /* the wait before the next attempt */
    uint64_t retry_at;
};

enum cio_feed_state { CIO_FEED_NONE, CIO_FEED_ACTIVE, CIO_FEED_PAUSED };

struct cio_grant {
    uint64_t at, latest; /* ms on cio__now_ms's clock */
};

struct cio_pool {
    cio_pool_opts o;
    struct event_base *base;
    unsigned owns_base : 1;
    unsigned attached : 1;
    unsigned in_run : 1;  /* inside cio_pool_run: the free waits for it */
    unsigned closing : 1; /* cio_pool_free was called */
    unsigned phase : 1;   /* a run is on: queued items are admitted */
    unsigned expired : 1; /* the run's deadline passed */
    unsigned dispatching : 1;
    unsigned need_dispatch : 1;
    unsigned kicked : 1;     /* the kick event is active */
    unsigned stopping : 1;   /* cio_pool_stop: nothing new starts; the run ends when the
                                items in flight have */
    unsigned meter_line : 1; /* the built-in meter redraws one line */
    unsigned feeding : 1;    /* inside on_feed */
    unsigned feed_again : 1; /* on_feed called cio_pool_feed_wake: call it next turn */
    enum cio_feed_state feed;
    int phase_rc;          /* what cio_pool_run returns for this run */
    unsigned fd_cap;       /* items in flight the descriptors allow; 0: no such limit */
    unsigned fd_stale : 1; /* an engine opened descriptors: count them again */
    unsigned fd_tries;     /* EMFILE with nothing of the pool's in flight, in a row */
    uint64_t fd_starved;   /* since when that has lasted; 0: not starved */
    uint64_t deadline_at;  /* ms on cio__now_ms's clock */
    int depth;             /* entry points and callbacks on the stack */
    struct cio_lim lim;
    struct cio_grant *grants; /* a shared limiter's slots, a ring of max_concurrency */
    unsigned g_head, g_n;     /* the ring's first and how many it holds */
    unsigned g_asked;         /* slots asked of the limiter and not yet granted */
    struct cio_keys keys;     /* the queues, one per key */
    struct cio_list running, ending;
    struct cio_list waiting; /* between attempts */
    struct cio_list zombies; /* ended; their work is destroyed and memory freed by the reaper */
    cio_task *spare_tasks;   /* freed tasks kept for reuse, linked by next */
    size_t nspare_tasks;
    size_t count;     /* submitted and not yet ended */
    size_t in_flight; /* started and not yet stopped */
    cio_task_id next_id;
    uint64_t rand_state;            /* jitter for retries */
    unsigned short *retry_statuses; /* the pool's copy of o.retry.statuses */
    cio_stats st;
    struct event *kick, *rate_timer, *deadline_timer, *reaper;
    struct event *progress_timer; /* only with o.on_progress */
    struct cio_meter meter;
    uint64_t done0, errors0, timeouts0; /* the counters when the run began */
    struct cio_http *http;              /* made at the first HTTP submit */
    struct cio_threads *threads;        /* made at the first blocking submit */
    struct cio_dns *dns;                /* made at the first DNS submit */
    char *dns_nameserver;               /* the pool's copy of o.dns_nameserver */
    char *ca_file;                      /* the pool's copy of o.ca_file */
    char *progress_desc;                /* the pool's copy of o.progress_desc */
};

/* clock.c */
uint64_t cio__now_ms(void);
/* Arms a timer to fire at due_ms on cio__now_ms's clock. */
int cio__timer_arm(struct event *ev, uint64_t due_ms);
/* In the timer's callback: 1 when due_ms has come, else re-arms the timer and says 0. */
int cio__timer_due(struct event *ev, uint64_t due_ms);
/* For tests of a clock that misbehaves (test_clock.c), both 0 in real use: a jump added
 * to every reading, and a reading the clock is frozen at. Loop thread only. */
extern uint64_t cio__clock_jump_us, cio__clock_frozen_us;

/* list helpers (task.c) */
void cio__list_push(struct cio_list *l, cio_task *t);
void cio__list_push_front(struct cio_list *l, cio_task *t);
cio_task *cio__list_pop(struct cio_list *l);
void cio__list_remove(cio_task *t);

/* pool.c: every entry from the loop or the caller into code that may call back is
 * bracketed by enter/leave; leave runs a pending dispatch and performs a deferred free.
 * leave returns 1 when the pool is gone. */
void cio__pool_enter(cio_pool *p);
int cio__pool_leave(cio_pool *p);
/* Asks for admission and feeding to run soon (at the outermost leave, or next turn). */
void cio__pool_kick(cio_pool *p);
/* Lazily makes the pool's own loop; the pool's base afterwards. */
int cio__pool_bind(cio_pool *p);
/* Opening a socket failed with EMFILE or ENFILE for a running item: the pool runs no
 * more than the others until the run ends. Returns how long the item waits before it
 * starts again (0: when another ends), or -1 when it must end with CIO_E_NOFD (nothing
 * of the pool's holds a descriptor to wait for, and that has lasted). */
int64_t cio__pool_fd_short(cio_pool *p);
/* A transfer got its socket: descriptors are not starved. */
void cio__pool_fd_ok(cio_pool *p);
/* An engine opened (or closed) descriptors of its own: count them again at admission. */
void cio__pool_fds_changed(cio_pool *p);
/* Descriptors the process may still open (RLIMIT_NOFILE less those open); UINT_MAX when
 * the limit is far away. A new event loop needs CIO_FDS_PER_LOOP (libevent exits the
 * process when one it makes finds none for its signal pipe). */
unsigned cio__fds_free(void);
#define CIO_FDS_PER_LOOP 8u
/* Queues a task made by cio__task_new under the key `key` ("" for none). */
int cio__pool_enqueue(cio_pool *p, cio_task *t, const char *key, cio_task_id *id);

/* task.c */
cio_task *cio__task_new(cio_pool *p, const cio_task_vtable *vt, void *work, void *user,
                        unsigned timeout_ms);
void cio__task_free(cio_task *t); /* an unsubmitted task; does not destroy work */
void cio__task_spares_free(cio_pool *p);
void cio__task_start(cio_task *t, uint64_t now);
/* Destroys the work of ended tasks and frees them (the reaper event, and the pool's free). */
void cio__task_reap(cio_pool *p);
/* The work reports its end: res->status says how (CIO_E_TIMEOUT: its own limit). */
void cio__task_finish(cio_task *t, cio_result *res);
/* The attempt ended and another follows in wait_ms: the task frees its slot and waits,
 * then queues again at the front. The adapter has released the attempt's resources. */
void cio__task_retry(cio_task *t, uint64_t wait_ms);
/* The attempt could not begin for want of a resource (a file descriptor): as retry, but
 * it counts as neither an attempt nor a retry. */
void cio__task_requeue(cio_task *t, uint64_t wait_ms);
/* The pool ends it (cancel, deadline, generic timeout); stops the work if running. */
void cio__task_abort(cio_task *t, int code);
/* The attempt's request went out at `when`: a window limit counts it from then. */
void cio__task_sent(cio_task *t, uint64_t when);

/* http.c */
int cio__http_submit(cio_pool *p, const cio_http_req *req, cio_task_id *id);
void cio__http_free(struct cio_http *h);

/* adapter_thread.c */
extern const cio_task_vtable cio__blocking_vtable;
void cio__threads_free(struct cio_threads *th);
/* 0 when t is a blocking item and every worker is busy: it must not be admitted yet. */
int cio__threads_ready(const cio_pool *p, const cio_task *t);

/* adapter_dns.c */
void cio__dns_free(struct cio_dns *d);

#endif
