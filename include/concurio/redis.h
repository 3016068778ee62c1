/* SPDX-License-Identifier: Apache-2.0 */
/* Concurio's optional Redis part (libconcurio-redis, built where hiredis is): a shared
 * limiter that keeps one quota across pools, processes and machines, and the connection
 * it runs on, a Redis client on a libevent loop with its own timeouts and reconnects.
 * hiredis's types are named here, never included: a user of the connection's replies
 * includes <hiredis/hiredis.h> itself. */
#ifndef CONCURIO_REDIS_H
#define CONCURIO_REDIS_H

#include <stddef.h>
#include <stdint.h>

#include "concurio.h"

#ifdef __cplusplus
extern "C" {
#endif

/* ==== the shared limiter =============================================================== */

/* One quota shared by every pool that names the same key on the same Redis (7 or
 * later). Each slot is reserved by a Lua script on Redis's clock, so the hosts' clocks
 * never matter. Slots are spaced for rate.count starts per rate.period_ms + slack_ms, and
 * a slot is used at most slack_ms after its time (a reservation whose answer took longer
 * is dropped; a fifth of slack_ms is kept for the request's way from its start to the
 * server), so no window of rate.period_ms holds more than rate.count starts across all
 * pools (CIO_RATE_PACED with burst 1, or CIO_RATE_WINDOW; a burst > 1 lets that many go
 * together). Redis unreachable: nothing starts; it reconnects by itself. */
typedef struct cio_redis_limiter cio_redis_limiter;
typedef struct cio_redis_limiter_opts {
    size_t size;          /* 0: this version's struct */
    const char *host;     /* Redis's address (copied) */
    unsigned port;        /* 0: 6379 */
    const char *key;      /* the quota's key (copied) */
    cio_rate rate;        /* the shared quota; count required */
    unsigned slack_ms;    /* lateness allowed; 0: 50 */
    unsigned timeout_ms;  /* a Redis call unanswered this long drops the connection; 0: 2000 */
    unsigned ahead;       /* reservations in flight at once; 0: as many as the pool wants
                             (pipelined), 1: one round trip per start */
    const char *user;     /* with password: an ACL user (Redis 6); NULL: the default one */
    const char *password; /* NULL: no AUTH (copied, never written anywhere) */
} cio_redis_limiter_opts;
typedef struct cio_limiter_stats {
    uint64_t asked, granted;
    uint64_t dropped; /* answered later than slack_ms */
    uint64_t failed;  /* the connection failed them */
} cio_limiter_stats;

/* Makes a Redis limiter; it connects when a pool first asks (on that pool's loop). Give
 * it to a pool as limiter = cio_redis_limiter_vtable(), limiter_arg = the limiter.
 * Copies: *o and its strings.
 * Returns: the limiter, or NULL with *err CIO_E_INVAL (no host, key or count) or
 *          CIO_E_NOMEM. One pool at a time; free that pool first, then the limiter. */
CIO_EXTERN cio_redis_limiter *cio_redis_limiter_new(const cio_redis_limiter_opts *o, int *err);
CIO_EXTERN void cio_redis_limiter_free(cio_redis_limiter *l);
CIO_EXTERN void cio_redis_limiter_stats(const cio_redis_limiter *l, cio_limiter_stats *out);
/* The Redis limiter's vtable, for cio_pool_opts.limiter (a function, not an exported
 * object: the struct may grow). */
CIO_EXTERN const cio_limiter_vtable *cio_redis_limiter_vtable(void);

/* ==== the connection ==================================================================== */

struct redisReply; /* hiredis's */
typedef struct cio_redis cio_redis;

/* A call's answer: the reply, or NULL when the call failed (the connection dropped, the
 * reply did not come in time, or a script had to be loaded again). The reply is
 * hiredis's, valid during the call only. */
typedef void (*cio_redis_fn)(void *arg, struct redisReply *reply);
/* The connection came up (scripts loaded: calls may go) or went down. */
typedef void (*cio_redis_state_fn)(void *arg, int up);

/* The parts of a Redis address. */
typedef struct cio_redis_url {
    char host[256];     /* a name, an IPv4 address, or an IPv6 one without its [] */
    unsigned port;      /* 6379 when not given */
    char user[128];     /* "" when not given; percent-decoded */
    char password[256]; /* "" when not given: no AUTH; percent-decoded */
    const char *name;   /* into the url: what follows HOST[:PORT]/, maybe "" */
} cio_redis_url;

/* Parses "redis://[[USER]:PASSWORD@]HOST[:PORT]/NAME" (redis-cli's form: ":PASSWORD@"
 * for requirepass, "USER:PASSWORD@" for an ACL user; '@', ':' or '/' in them as %40,
 * %3A, %2F) into *out. 0, or -1 with a message in err that never holds the password.
 * Pure. */
CIO_EXTERN int cio_redis_parse_url(const char *url, cio_redis_url *out, char *err, size_t errlen);

/* A connection's settings. */
typedef struct cio_redis_opts {
    size_t size;                 /* sizeof(cio_redis_opts); 0: this version's struct */
    const char *host;            /* required (copied) */
    unsigned port;               /* 0: 6379 */
    const char *user;            /* with password: an ACL user; NULL: the default one */
    const char *password;        /* NULL: no AUTH; else AUTH on every connect (copied) */
    const char *const *scripts;  /* Lua texts, NULL-terminated, borrowed for the
                                    connection's life: loaded on every connect */
    unsigned timeout_ms;         /* the most a call or a connect may take; 0: 2000 */
    cio_redis_state_fn on_state; /* may be NULL */
    void *arg;                   /* for on_state */
} cio_redis_opts;

/* Connects (and keeps reconnecting, from 100 ms up to 2 s apart) on base, as o says.
 * A connection Redis refuses (a wrong password, a script it will not load) is dropped
 * and tried again later. Copies: *o and its strings but scripts. NULL when out of
 * memory or without a host. Context: base's thread, as every call below. */
CIO_EXTERN cio_redis *cio_redis_new(struct event_base *base, const cio_redis_opts *o);
/* Fails every call still out (each fn gets NULL, and may make no call) and closes; NULL
 * is fine. Not from inside a cio_redis_fn. */
CIO_EXTERN void cio_redis_free(cio_redis *r);
/* 1 while connected with every script loaded. */
CIO_EXTERN int cio_redis_up(const cio_redis *r);

/* Sends a command (argv[0] its name; lens NULL: every argument a C string). Returns 0 and
 * fn is called once later, or a negative cio_err (down: CIO_E_STATE) and fn never is. */
CIO_EXTERN int cio_redis_call(cio_redis *r, cio_redis_fn fn, void *arg, int argc,
                              const char *const *argv, const size_t *lens);
/* EVALSHA of script number `script` with nkeys keys, then the other arguments; at most
 * 256 keys and arguments. As cio_redis_call. */
CIO_EXTERN int cio_redis_eval(cio_redis *r, unsigned script, cio_redis_fn fn, void *arg, int nkeys,
                              int argc, const char *const *argv, const size_t *lens);

#ifdef __cplusplus
}
#endif
#endif /* CONCURIO_REDIS_H */
