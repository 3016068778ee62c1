/* SPDX-License-Identifier: Apache-2.0 */
/* The shared limiter on Redis: each start slot is reserved by a Lua script that reads
 * Redis's own clock (TIME), so the workers' clocks never matter. Paced mode is GCRA (one
 * key, the theoretical arrival time); window mode keeps the reserved starts in a sorted
 * set. Both space slots for count starts per period + slack, which is what makes the
 * lateness allowance safe: a slot used at most `slack` after its time keeps every
 * window of `period` at or under `count` starts. */
#define _POSIX_C_SOURCE 200809L
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <hiredis/hiredis.h>

#include "concurio/redis.h"
#include "list.h"
#include "scripts.h"

/* KEYS[1]: the state. ARGV: interval (µs), burst tolerance (µs). Returns the slot's
 * offset from Redis's now, in µs. */
const char cio__gcra_lua[] = "local t = redis.call('TIME')\n"
                             "local now = tonumber(t[1]) * 1000000 + tonumber(t[2])\n"
                             "local T, tau = tonumber(ARGV[1]), tonumber(ARGV[2])\n"
                             "local tat = tonumber(redis.call('GET', KEYS[1]) or '0')\n"
                             "if tat < now then tat = now end\n"
                             "local start = tat - tau\n"
                             "if start < now then start = now end\n"
                             "redis.call('SET', KEYS[1], string.format('%.0f', tat + T), 'PX',\n"
                             "           math.floor((tat + T - now) / 1000) + 1000)\n"
                             "return start - now\n";

/* KEYS[1]: a sorted set of reserved starts (µs). ARGV: span (period + slack, µs), count.
 * A slot goes after every other and after the count-th last + span. */
const char cio__window_lua[] =
    "local t = redis.call('TIME')\n"
    "local now = tonumber(t[1]) * 1000000 + tonumber(t[2])\n"
    "local span, q = tonumber(ARGV[1]), tonumber(ARGV[2])\n"
    "redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', string.format('%.0f', now - span))\n"
    "local n = redis.call('ZCARD', KEYS[1])\n"
    "local start = now\n"
    "if n > 0 then\n"
    "  local last = tonumber(redis.call('ZRANGE', KEYS[1], -1, -1, 'WITHSCORES')[2])\n"
    "  if last > start then start = last end\n"
    "end\n"
    "if n >= q then\n"
    "  local e = tonumber(redis.call('ZRANGE', KEYS[1], n - q, n - q, 'WITHSCORES')[2])\n"
    "  if e + span > start then start = e + span end\n"
    "end\n"
    "redis.call('ZADD', KEYS[1], start, string.format('%.0f.%d', start, n))\n"
    "redis.call('PEXPIRE', KEYS[1], math.floor((start - now + span) / 1000) + 1000)\n"
    "return start - now\n";

static const char *const scripts[] = {cio__gcra_lua, cio__window_lua, NULL};

struct cio_redis_limiter {
    cio_redis_limiter_opts o;
    char *host, *key, *user, *password;
    char interval[24], tau[24], span[24], count[24];
    cio_redis *r;
    cio_pool *pool;
    unsigned owed; /* slots the pool asked for and has not had */
    unsigned out;  /* reservations sent and not answered */
    uint64_t serial;
    cio_limiter_stats st;
};

struct ask {
    cio_redis_limiter *l;
    uint64_t sent_ms;
};

static void pump(cio_redis_limiter *l);

static uint64_t now_ms(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
}

static void reserved(void *arg, redisReply *reply)
{
    struct ask *a = arg;
    cio_redis_limiter *l = a->l;
    uint64_t took = now_ms() - a->sent_ms;

    free(a);
    l->out--;
    if (reply == NULL || reply->type != REDIS_REPLY_INTEGER || reply->integer < 0) {
        l->st.failed++;
        return; /* asked again when the connection is back */
    }
    /* Its slot is somewhere in [sent + offset, now + offset] on our clock: started from
     * now on, it is at most `took` late, which the slack must cover, and a fifth of the
     * slack is kept for the request's way from the start to the server. */
    unsigned margin = l->o.slack_ms / 5;
    if (took + margin > l->o.slack_ms) {
        l->st.dropped++;
    } else if (l->owed > 0 && l->pool != NULL) {
        l->owed--;
        l->st.granted++;
        cio_pool_grant(l->pool, ((uint64_t)reply->integer + 999) / 1000,
                       l->o.slack_ms - margin - (unsigned)took);
    }
    pump(l);
}

static void pump(cio_redis_limiter *l)
{
    unsigned ahead = l->o.ahead != 0 ? l->o.ahead : 1000000u;

    while (cio_redis_up(l->r) && l->out < l->owed && l->out < ahead) {
        struct ask *a = malloc(sizeof *a);
        const char *argv[3] = {l->key, NULL, NULL};
        unsigned script = l->o.rate.mode == CIO_RATE_WINDOW;
        if (a == NULL)
            return;
        a->l = l;
        a->sent_ms = now_ms();
        argv[1] = script ? l->span : l->interval;
        argv[2] = script ? l->count : l->tau;
        if (cio_redis_eval(l->r, script, reserved, a, 1, 3, argv, NULL) != CIO_OK) {
            free(a);
            return;
        }
        l->out++;
        l->st.asked++;
    }
}

static void on_state(void *arg, int up)
{
    if (up)
        pump(arg);
}

static int lim_reserve(void *lim, cio_pool *pool, struct event_base *base, unsigned n)
{
    cio_redis_limiter *l = lim;

    if (l->pool != NULL && l->pool != pool)
        return CIO_E_STATE; /* one pool at a time */
    cio_redis_opts ro = {.size = sizeof ro,
                         .host = l->host,
                         .port = l->o.port,
                         .user = l->user,
                         .password = l->password,
                         .scripts = scripts,
                         .timeout_ms = l->o.timeout_ms,
                         .on_state = on_state,
                         .arg = l};
    if (l->r == NULL && (l->r = cio_redis_new(base, &ro)) == NULL)
        return CIO_E_NOMEM;
    l->pool = pool;
    l->owed += n;
    pump(l);
    return CIO_OK;
}

static void lim_forget(void *lim, cio_pool *pool)
{
    cio_redis_limiter *l = lim;

    if (l->pool == pool) {
        l->pool = NULL;
        l->owed = 0;
    }
}

static const cio_limiter_vtable redis_vtable = {"redis", lim_reserve, lim_forget};

const cio_limiter_vtable *cio_redis_limiter_vtable(void)
{
    return &redis_vtable;
}

cio_redis_limiter *cio_redis_limiter_new(const cio_redis_limiter_opts *o, int *err)
{
    int rc = CIO_E_INVAL;
    cio_redis_limiter *l = NULL;

    cio_redis_limiter_opts given;
    /* No more of the caller's struct than its size says (0: this version's). */
    size_t size = o == NULL ? 0 : o->size == 0 || o->size > sizeof given ? sizeof given : o->size;
    memset(&given, 0, sizeof given);
    if (o != NULL && size >= sizeof(size_t))
        memcpy(&given, o, size);
    o = &given;
    if (size < sizeof(size_t) || o->host == NULL || o->key == NULL || o->rate.count == 0 ||
        (o->rate.mode != CIO_RATE_PACED && o->rate.mode != CIO_RATE_WINDOW))
        goto fail;
    rc = CIO_E_NOMEM;
    if ((l = calloc(1, sizeof *l)) == NULL)
        goto fail;
    l->o = *o;
    l->o.port = o->port != 0 ? o->port : 6379;
    l->o.slack_ms = o->slack_ms != 0 ? o->slack_ms : 50;
    l->host = strdup(o->host);
    l->key = strdup(o->key);
    l->user = o->user != NULL && o->password != NULL ? strdup(o->user) : NULL;
    l->password = o->password != NULL ? strdup(o->password) : NULL;
    if (l->host == NULL || l->key == NULL || (o->password != NULL && l->password == NULL) ||
        (o->user != NULL && o->password != NULL && l->user == NULL))
        goto fail;
    /* count starts per (period + slack), spaced evenly: the interval is rounded up. */
    uint64_t period = o->rate.period_ms != 0 ? o->rate.period_ms : 60000;
    uint64_t span = (period + l->o.slack_ms) * 1000u;
    uint64_t interval = (span + o->rate.count - 1) / o->rate.count;
    uint64_t burst = o->rate.burst > 1 ? o->rate.burst : 1;
    snprintf(l->interval, sizeof l->interval, "%llu", (unsigned long long)interval);
    snprintf(l->tau, sizeof l->tau, "%llu", (unsigned long long)((burst - 1) * interval));
    snprintf(l->span, sizeof l->span, "%llu", (unsigned long long)span);
    snprintf(l->count, sizeof l->count, "%u", o->rate.count);
    l->o.host = l->host;
    l->o.key = l->key;
    l->o.user = l->user;
    l->o.password = l->password;
    return l;
fail:
    if (l != NULL)
        cio_redis_limiter_free(l);
    if (err != NULL)
        *err = rc;
    return NULL;
}

void cio_redis_limiter_free(cio_redis_limiter *l)
{
    if (l == NULL)
        return;
    cio_redis_free(l->r);
    free(l->host);
    free(l->key);
    free(l->user);
    if (l->password != NULL) /* not left in freed memory */
        memset(l->password, 0, strlen(l->password));
    free(l->password);
    free(l);
}

void cio_redis_limiter_stats(const cio_redis_limiter *l, cio_limiter_stats *out)
{
    if (l == NULL)
        memset(out, 0, sizeof *out);
    else
        *out = l->st;
}
