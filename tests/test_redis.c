/* SPDX-License-Identifier: Apache-2.0 */
/* Redis, for real (tests/with_redis.sh starts a redis-server and names it in
 * CIO_TEST_REDIS): the shared limiter's and queue mode's Lua scripts, decision by
 * decision; the library's Redis connection (its own timeouts); pools sharing one quota
 * through the Redis limiter, also across a jump of a pool's clock, and failing closed. */
#define _POSIX_C_SOURCE 200809L
#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <pthread.h>
#include <signal.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <criterion/criterion.h>
#include <event2/event.h>
#include <hiredis/hiredis.h>

#include <concurio/redis.h>

#include "clock.h"
#include "queue.h"
#include "scripts.h"
#include "support/fixture.h"
#include "support/ledger.h"
#include "support/server.h"

extern char **environ;

static char host[64];
static unsigned port;

/* host and port from CIO_TEST_REDIS. */
static void redis_addr(void)
{
    const char *at = getenv("CIO_TEST_REDIS");

    cr_assert_not_null(at, "run under tests/with_redis.sh");
    cr_assert_eq(sscanf(at, "%63[^:]:%u", host, &port), 2);
}

static redisContext *connect_redis(void)
{
    redis_addr();
    redisContext *c = redisConnect(host, (int)port);
    cr_assert(c != NULL && c->err == 0);
    return c;
}

/* EVAL script with the keys and arguments given; the reply (the caller frees it). */
static redisReply *eval(redisContext *c, const char *script, int nkeys, int argc,
                        const char *const *argv)
{
    const char *v[24] = {"EVAL", script};
    char n[8];

    snprintf(n, sizeof n, "%d", nkeys);
    v[2] = n;
    for (int i = 0; i < argc; i++)
        v[3 + i] = argv[i];
    redisReply *r = redisCommandArgv(c, argc + 3, v, NULL);
    cr_assert_not_null(r);
    cr_assert_neq(r->type, REDIS_REPLY_ERROR, "%s", r->type == REDIS_REPLY_ERROR ? r->str : "");
    return r;
}

static long long eval_int(redisContext *c, const char *script, int nkeys, int argc,
                          const char *const *argv)
{
    redisReply *r = eval(c, script, nkeys, argc, argv);
    cr_assert_eq(r->type, REDIS_REPLY_INTEGER);
    long long v = r->integer;
    freeReplyObject(r);
    return v;
}

static void command(redisContext *c, const char *fmt, const char *a, const char *b)
{
    redisReply *r = redisCommand(c, fmt, a, b);
    cr_assert(r != NULL && r->type != REDIS_REPLY_ERROR, "%s: %s", fmt,
              r != NULL ? r->str : c->errstr);
    freeReplyObject(r);
}

static void sleep_ms(long ms)
{
    struct timespec ts = {ms / 1000, (ms % 1000) * 1000000L};
    nanosleep(&ts, NULL);
}

/* ---- the limiter's scripts: offsets in µs from Redis's own now ------------------------ */

/* Redis's clock in µs. */
static long long redis_now(redisContext *c)
{
    redisReply *r = redisCommand(c, "TIME");
    long long us =
        strtoll(r->element[0]->str, NULL, 10) * 1000000 + strtoll(r->element[1]->str, NULL, 10);
    freeReplyObject(r);
    return us;
}

/* n reservations; each slot's time on Redis's clock lies in [lo[i], hi[i]] (the offset
 * added to TIME read before and after the call), however slowly the calls go. */
static void reserve_n(redisContext *c, const char *script, const char *const *argv, int n,
                      long long *off, long long *lo, long long *hi)
{
    for (int i = 0; i < n; i++) {
        lo[i] = redis_now(c);
        off[i] = eval_int(c, script, 1, 3, argv);
        hi[i] = redis_now(c) + off[i];
        lo[i] += off[i];
    }
}

Test(lua_limiter, paced_slots_are_one_interval_apart)
{
    redisContext *c = connect_redis();
    const char *argv[] = {"t:gcra:paced", "100000", "0"}; /* 10/s, burst 1 */
    long long o[5], lo[5], hi[5];

    reserve_n(c, cio__gcra_lua, argv, 5, o, lo, hi);
    cr_assert_eq(o[0], 0, "an idle quota starts at once");
    for (int i = 1; i < 5; i++)
        cr_assert(lo[i] - hi[i - 1] <= 100000 && hi[i] - lo[i - 1] >= 100000,
                  "slot %d is one interval after slot %d", i, i - 1);
    redisFree(c);
}

Test(lua_limiter, a_burst_goes_at_once_then_the_pace_holds)
{
    redisContext *c = connect_redis();
    const char *argv[] = {"t:gcra:burst", "100000", "200000"}; /* burst 3 */
    long long o[4], lo[4], hi[4];

    reserve_n(c, cio__gcra_lua, argv, 4, o, lo, hi);
    cr_assert(o[0] == 0 && o[1] == 0 && o[2] == 0, "%lld %lld %lld", o[0], o[1], o[2]);
    cr_assert(o[3] > 0 && lo[3] - hi[0] <= 100000 && hi[3] - lo[0] >= 100000,
              "the fourth waits one interval after the first: %lld", o[3]);
    redisFree(c);
}

Test(lua_limiter, an_idle_quota_refills)
{
    redisContext *c = connect_redis();
    const char *argv[] = {"t:gcra:idle", "100000", "0"};

    eval_int(c, cio__gcra_lua, 1, 3, argv);
    eval_int(c, cio__gcra_lua, 1, 3, argv);
    sleep_ms(250);
    cr_assert_eq(eval_int(c, cio__gcra_lua, 1, 3, argv), 0);
    redisReply *r = redisCommand(c, "PTTL t:gcra:idle");
    cr_assert(r->integer > 0 && r->integer <= 1200, "the state expires: %lld", r->integer);
    freeReplyObject(r);
    redisFree(c);
}

Test(lua_limiter, a_window_lets_count_go_then_holds_for_the_span)
{
    redisContext *c = connect_redis();
    const char *argv[] = {"t:window", "300000", "3"}; /* 3 per 300 ms */
    long long o[5];

    for (int i = 0; i < 5; i++)
        o[i] = eval_int(c, cio__window_lua, 1, 3, argv);
    cr_assert(o[0] == 0 && o[1] == 0 && o[2] == 0, "%lld %lld %lld", o[0], o[1], o[2]);
    cr_assert(o[3] > 0 && o[3] <= 300000, "the fourth waits for the first to age: %lld", o[3]);
    cr_assert(o[4] > 0 && o[4] <= 300000, "then the second: %lld", o[4]);
    /* On Redis's clock: the fourth slot is exactly a span after the first, the fifth a
     * span after the second and not before the fourth. */
    redisReply *r = redisCommand(c, "ZRANGE t:window 0 -1 WITHSCORES");
    cr_assert_eq(r->elements, 10);
    long long at[5];
    for (int i = 0; i < 5; i++)
        at[i] = strtoll(r->element[2 * i + 1]->str, NULL, 10);
    cr_assert_eq(at[3] - at[0], 300000);
    cr_assert(at[4] - at[1] == 300000 && at[4] >= at[3], "%lld %lld %lld", at[1], at[3], at[4]);
    freeReplyObject(r);
    redisFree(c);
}

/* ---- queue mode's scripts ---------------------------------------------------------- */

static void make_job(redisContext *c, const char *stream, int items)
{
    char id[32];

    command(c, "DEL %s %s", stream, stream);
    command(c, "XGROUP CREATE %s workers 0 MKSTREAM", stream, "");
    for (int i = 1; i <= items; i++) {
        snprintf(id, sizeof id, "0-%d", i);
        command(c, "XADD %s %s l http://127.0.0.1:9/", stream, id);
    }
}

/* XREADGROUP by `who` of up to n new items; how many came. */
static size_t take(redisContext *c, const char *stream, const char *who, int n)
{
    redisReply *r =
        redisCommand(c, "XREADGROUP GROUP workers %s COUNT %d STREAMS %s >", who, n, stream);
    size_t got = r->type == REDIS_REPLY_ARRAY ? r->element[0]->element[1]->elements : 0;
    freeReplyObject(r);
    return got;
}

static long long pending(redisContext *c, const char *stream)
{
    redisReply *r = redisCommand(c, "XPENDING %s workers", stream);
    long long n = r->element[0]->integer;
    freeReplyObject(r);
    return n;
}

/* The done script's answer for each end of a call: 1 when its line had a record. */
static void eval_ends(redisContext *c, int argc, const char *const *argv, const long long *want,
                      size_t n)
{
    redisReply *r = eval(c, fetch_queue_scripts[FETCH_LUA_DONE], 3, argc, argv);
    cr_assert_eq(r->type, REDIS_REPLY_ARRAY);
    cr_assert_eq(r->elements, n, "one answer an end");
    for (size_t i = 0; i < n; i++)
        cr_assert_eq(r->element[i]->integer, want[i], "end %zu", i);
    freeReplyObject(r);
}

Test(lua_queue, the_first_record_of_a_line_wins_and_every_end_acknowledges)
{
    redisContext *c = connect_redis();
    make_job(c, "q:done", 3);
    command(c, "DEL %s %s", "q:done:done", "q:done:results");
    cr_assert_eq(take(c, "q:done", "a", 10), 3);
    const char *first[] = {"q:done:done", "q:done:results", "q:done", "1", "{\"r\":1}", "0-1"};
    /* One call, three ends: line 1 again (late), then lines 2 and 3. */
    const char *more[] = {"q:done:done", "q:done:results", "q:done", "1", "{\"r\":2}", "0-1",
                          "2",           "{\"r\":3}",      "0-2",    "3", "{\"r\":4}", "0-3"};

    eval_ends(c, 6, first, (const long long[]){0}, 1);
    cr_assert_eq(pending(c, "q:done"), 2, "acknowledged");
    eval_ends(c, 12, more, (const long long[]){1, 0, 0}, 3);
    cr_assert_eq(pending(c, "q:done"), 0, "every end acknowledged");
    redisReply *r = redisCommand(c, "XRANGE q:done:results - +");
    cr_assert_eq(r->elements, 3, "one record a line, never two");
    cr_assert_str_eq(r->element[0]->element[1]->element[1]->str, "{\"r\":1}", "the first wins");
    cr_assert_str_eq(r->element[1]->element[1]->element[1]->str, "{\"r\":3}");
    freeReplyObject(r);
    r = redisCommand(c, "BITCOUNT q:done:done");
    cr_assert_eq(r->integer, 3);
    freeReplyObject(r);
    redisFree(c);
}

/* CLAIM by `who` of items idle >= idle_ms: the reply (cursor, then {id, n, fields}...). */
static redisReply *claim(redisContext *c, const char *stream, const char *who, const char *idle)
{
    const char *argv[] = {stream, who, idle, "0-0", "100"};
    return eval(c, fetch_queue_scripts[FETCH_LUA_CLAIM], 1, 5, argv);
}

Test(lua_queue, idle_items_are_taken_over_and_their_deliveries_counted)
{
    redisContext *c = connect_redis();
    make_job(c, "q:claim", 2);
    cr_assert_eq(take(c, "q:claim", "a", 10), 2);

    redisReply *r = claim(c, "q:claim", "b", "200");
    cr_assert_eq(r->elements, 1, "nothing is idle for 200 ms yet");
    freeReplyObject(r);
    sleep_ms(250);
    r = claim(c, "q:claim", "b", "200");
    cr_assert_eq(r->elements, 3, "both taken over");
    for (size_t i = 1; i < 3; i++) {
        cr_assert_eq(r->element[i]->element[1]->integer, 2, "delivered twice now");
        cr_assert_str_eq(r->element[i]->element[2]->element[1]->str, "http://127.0.0.1:9/");
    }
    freeReplyObject(r);
    sleep_ms(250);
    r = claim(c, "q:claim", "c", "200");
    cr_assert_eq(r->element[1]->element[1]->integer, 3, "each take-over counts");
    freeReplyObject(r);
    redisFree(c);
}

Test(lua_queue, a_worker_keeps_its_items_and_learns_which_it_lost)
{
    redisContext *c = connect_redis();
    make_job(c, "q:keep", 3);
    cr_assert_eq(take(c, "q:keep", "a", 10), 3);
    sleep_ms(250);
    const char *keep1[] = {"q:keep", "a", "0-1"};
    redisReply *r = eval(c, fetch_queue_scripts[FETCH_LUA_REFRESH], 1, 3, keep1);
    cr_assert_eq(r->elements, 0, "0-1 is still a's");
    freeReplyObject(r);

    r = claim(c, "q:keep", "b", "200");
    cr_assert_eq(r->elements, 3, "b takes the two a did not keep");
    cr_assert_str_eq(r->element[1]->element[0]->str, "0-2");
    cr_assert_str_eq(r->element[2]->element[0]->str, "0-3");
    freeReplyObject(r);

    const char *keep12[] = {"q:keep", "a", "0-1", "0-2"};
    r = eval(c, fetch_queue_scripts[FETCH_LUA_REFRESH], 1, 4, keep12);
    cr_assert_eq(r->elements, 1);
    cr_assert_str_eq(r->element[0]->str, "0-2", "a learns it lost 0-2");
    freeReplyObject(r);
    /* Kept without a new delivery: JUSTID. */
    r = redisCommand(c, "XPENDING q:keep workers 0-1 0-1 1");
    cr_assert_str_eq(r->element[0]->element[1]->str, "a");
    cr_assert_eq(r->element[0]->element[3]->integer, 1);
    freeReplyObject(r);
    redisFree(c);
}

Test(lua_queue, the_first_quota_given_is_the_jobs)
{
    redisContext *c = connect_redis();
    command(c, "DEL %s %s", "q:cfg:config", "q:cfg:config");
    const char *none[] = {"q:cfg:config", "", "", ""};
    const char *first[] = {"q:cfg:config", "100/1000", "1", "paced"};
    const char *other[] = {"q:cfg:config", "200/1000", "1", "paced"};

    redisReply *r = eval(c, fetch_queue_config_lua, 1, 4, none);
    cr_assert_eq(r->elements, 0, "nothing stored, nothing given");
    freeReplyObject(r);
    r = eval(c, fetch_queue_config_lua, 1, 4, first);
    cr_assert_str_eq(r->element[0]->str, "100/1000");
    freeReplyObject(r);
    r = eval(c, fetch_queue_config_lua, 1, 4, other);
    cr_assert_str_eq(r->element[0]->str, "100/1000", "a later one gets the stored quota back");
    freeReplyObject(r);
    r = eval(c, fetch_queue_config_lua, 1, 4, none);
    cr_assert_str_eq(r->element[2]->str, "paced");
    freeReplyObject(r);
    const char *count5[] = {"q:cfg:count", "5"}, *count3[] = {"q:cfg:count", "3"};
    command(c, "DEL %s %s", "q:cfg:count", "q:cfg:count");
    cr_assert_eq(eval_int(c, fetch_queue_count_lua, 1, 2, count5), 5);
    cr_assert_eq(eval_int(c, fetch_queue_count_lua, 1, 2, count3), 5, "never lowered");
    redisFree(c);
}

/* ---- the library's connection ------------------------------------------------------- */

Test(redis_url, addresses_parse_and_bad_ones_say_why)
{
    cio_redis_url u;
    char err[256];

    cr_assert_eq(cio_redis_parse_url("redis://127.0.0.1:7000/jobs", &u, err, sizeof err), 0);
    cr_assert(strcmp(u.host, "127.0.0.1") == 0 && u.port == 7000 && strcmp(u.name, "jobs") == 0);
    cr_assert(u.user[0] == '\0' && u.password[0] == '\0', "no AUTH without a password");
    cr_assert_eq(cio_redis_parse_url("redis://[::1]/x", &u, err, sizeof err), 0);
    cr_assert(strcmp(u.host, "::1") == 0 && u.port == 6379 && strcmp(u.name, "x") == 0);
    const char *bad[] = {"http://h/x",        "redis://:1/x",    "redis://h:0/x",
                         "redis://h:99999/x", "redis://h:12a/x", "redis://[::1/x",
                         "redis://user@h/x",  "redis://:@h/x",   "redis://:s%4@h/x",
                         "redis://:s%00x@h/x"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
        cr_assert_eq(cio_redis_parse_url(bad[i], &u, err, sizeof err), -1, "%s", bad[i]);
}

Test(redis_url, a_password_is_decoded_and_never_in_a_message)
{
    cio_redis_url u;
    char err[256];

    cr_assert_eq(cio_redis_parse_url("redis://:s3cr%40t@h:7/q", &u, err, sizeof err), 0);
    cr_assert(u.user[0] == '\0' && strcmp(u.password, "s3cr@t") == 0, "requirepass's form");
    cr_assert(strcmp(u.host, "h") == 0 && u.port == 7 && strcmp(u.name, "q") == 0);
    cr_assert_eq(cio_redis_parse_url("redis://alice:p:w@d@[::1]:6380/q", &u, err, sizeof err), 0);
    cr_assert(strcmp(u.user, "alice") == 0 && strcmp(u.password, "p:w@d") == 0,
              "an ACL user; the userinfo ends at the last '@'");
    cr_assert_str_eq(u.host, "::1");
    const char *bad[] = {"redis://:hunter2@h:0/x", "redis://:hunter2@:1/x",
                         "redis://u:hunter2%@h/x", "redis://:hunter2@[::1/x"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        cr_assert_eq(cio_redis_parse_url(bad[i], &u, err, sizeof err), -1, "%s", bad[i]);
        cr_assert_null(strstr(err, "hunter2"), "%s: %s", bad[i], err);
    }
}

struct silent {
    struct event_base *base;
    int calls, null_replies;
    uint64_t at_ms;
};

static void on_silent_reply(void *arg, redisReply *reply)
{
    struct silent *s = arg;

    s->calls++;
    s->null_replies += reply == NULL;
    s->at_ms = cio__now_ms();
    event_base_loopbreak(s->base);
}

static void on_silent_state(void *arg, int up)
{
    (void)arg;
    (void)up;
}

/* A "Redis" that accepts and never answers: the call fails after our own timeout. */
Test(redis_conn, a_call_unanswered_in_time_fails_by_our_timer, .timeout = 20)
{
    int ls = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    socklen_t len = sizeof a;
    cr_assert_eq(bind(ls, (struct sockaddr *)&a, sizeof a), 0);
    cr_assert_eq(listen(ls, 4), 0);
    getsockname(ls, (struct sockaddr *)&a, &len);

    struct silent s = {.base = event_base_new()};
    cio_redis_opts ro = {.host = "127.0.0.1",
                         .port = ntohs(a.sin_port),
                         .timeout_ms = 300,
                         .on_state = on_silent_state,
                         .arg = &s};
    cio_redis *r = cio_redis_new(s.base, &ro);
    cr_assert(r != NULL && cio_redis_up(r));
    const char *ping[] = {"PING"};
    uint64_t t0 = cio__now_ms();
    cr_assert_eq(cio_redis_call(r, on_silent_reply, &s, 1, ping, NULL), CIO_OK);
    struct timeval limit = {5, 0};
    event_base_loopexit(s.base, &limit);
    event_base_dispatch(s.base);
    cr_assert_eq(s.calls, 1, "called back once");
    cr_assert_eq(s.null_replies, 1, "as a failure");
    cr_assert(s.at_ms - t0 >= 250 && s.at_ms - t0 < 3000, "after %llu ms",
              (unsigned long long)(s.at_ms - t0));
    cr_assert_eq(cio_redis_call(r, on_silent_reply, &s, 1, ping, NULL), CIO_E_STATE,
                 "down until it reconnects");
    cio_redis_free(r);
    event_base_free(s.base);
    close(ls);
}

/* ---- pools sharing one quota --------------------------------------------------------- */

static struct server S;
static struct ledger L1, L2;

static void start_server(void)
{
    cr_assert_eq(server_start(&S), 0);
}

static void stop_server(void)
{
    server_stop_checked(&S);
}

struct runner {
    const char *key;
    struct ledger *l;
    int items;
    unsigned count, period_ms;
    uint64_t jump_us;
    cio_redis_limiter *lim;
    cio_pool *pool;
    cio_limiter_stats st;
    cio_stats pool_st;
};

/* The pool and its items, made on the test's thread (the server's URL buffer is one). */
static void prepare(struct runner *ru)
{
    cio_pool_opts o;
    cio_redis_limiter_opts lo = {
        .host = "127.0.0.1",
        .port = port,
        .key = ru->key,
        .rate = {.count = ru->count, .period_ms = ru->period_ms},
    };

    cr_assert_not_null(ru->lim = cio_redis_limiter_new(&lo, NULL));
    cio_pool_opts_init(&o);
    ledger_opts(&o, ru->l);
    o.limiter = cio_redis_limiter_vtable();
    o.limiter_arg = ru->lim;
    ru->pool = test_pool(&o, 8);
    for (int i = 0; i < ru->items; i++)
        test_get(ru->pool, &S, "/ok", 0);
}

static void *run_pool(void *arg)
{
    struct runner *ru = arg;

    cio__clock_jump_us = ru->jump_us;
    cr_assert_eq(cio_pool_run(ru->pool, CIO_RUN_DEFAULT), CIO_OK);
    cio__clock_jump_us = 0;
    cio_pool_stats(ru->pool, &ru->pool_st);
    cio_pool_free(ru->pool);
    cio_redis_limiter_stats(ru->lim, &ru->st);
    cio_redis_limiter_free(ru->lim);
    return NULL;
}

/* The most starts the server saw in any window of `window_ms`. */
static size_t busiest(const struct server_stats *st, uint64_t window_ms)
{
    size_t most = 0;

    for (size_t i = 0, j = 0; i < st->nstarts; i++) {
        while (st->starts_ms[i] - st->starts_ms[j] >= window_ms)
            j++;
        if (i - j + 1 > most)
            most = i - j + 1;
    }
    return most;
}

static int cmp_u64(const void *a, const void *b)
{
    uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
    return x < y ? -1 : x > y;
}

Test(redis_limiter, two_pools_on_two_threads_keep_one_quota, .init = start_server,
     .fini = stop_server, .timeout = 60)
{
    struct runner a = {
        .key = "t:shared:two", .l = &L1, .items = 30, .count = 20, .period_ms = 1000};
    struct runner b = a;
    pthread_t ta, tb;
    struct server_stats st;

    redis_addr();
    b.l = &L2;
    prepare(&a);
    prepare(&b);
    uint64_t t0 = cio__now_ms();
    cr_assert_eq(pthread_create(&ta, NULL, run_pool, &a), 0);
    cr_assert_eq(pthread_create(&tb, NULL, run_pool, &b), 0);
    pthread_join(ta, NULL);
    pthread_join(tb, NULL);
    uint64_t took = cio__now_ms() - t0;
    cr_assert_eq(L1.done + L2.done, 60, "done %zu + %zu, errors %zu + %zu (last %d, %d)", L1.done,
                 L2.done, L1.errors, L2.errors, L1.last_status, L2.last_status);
    cr_assert_eq(server_stats(&S, &st), 0);
    qsort(st.starts_ms, st.nstarts, sizeof *st.starts_ms, cmp_u64);
    size_t most = busiest(&st, 1000);
    cr_assert_leq(most, 20, "%zu starts in one second across both pools", most);
    cr_assert_geq(most, 15, "the quota is used: %zu", most);
    /* 60 starts at 20 per 1.05 s: at least 59 intervals of 52.5 ms. */
    cr_assert_geq(took, 3000, "%llu ms", (unsigned long long)took);
    /* A slot the pool could not use in time (a late timer on a loaded machine) is
     * dropped and another asked for: every grant was used or counted as dropped. */
    cr_assert_eq(a.st.granted + b.st.granted,
                 60 + a.pool_st.slots_dropped + b.pool_st.slots_dropped);
    server_stats_free(&st);
}

/* Redis's clock is the only one: a pool whose own clock is an hour ahead follows the
 * slots of the one before it as if nothing happened. */
Test(redis_limiter, a_pool_with_a_skewed_clock_keeps_the_same_quota, .init = start_server,
     .fini = stop_server, .timeout = 60)
{
    struct runner a = {
        .key = "t:shared:skew", .l = &L1, .items = 15, .count = 10, .period_ms = 1000};
    struct runner b = a;
    struct server_stats st;

    redis_addr();
    b.l = &L2;
    b.jump_us = 3600ull * 1000000ull;
    prepare(&a);
    run_pool(&a);
    prepare(&b);
    run_pool(&b);
    cr_assert_eq(L1.done + L2.done, 30);
    cr_assert_eq(server_stats(&S, &st), 0);
    size_t most = busiest(&st, 1000);
    cr_assert_leq(most, 10, "%zu starts in one second", most);
    cr_assert_geq(st.starts_ms[st.nstarts - 1] - st.starts_ms[0], 2500,
                  "30 starts at 10 per 1.05 s");
    server_stats_free(&st);
}

static pid_t late_redis;
static unsigned late_port;
static uint64_t late_at;

static void start_redis_late(evutil_socket_t fd, short what, void *arg)
{
    char p[16];
    char *argv[] = {"redis-server", "--port", p,   "--bind", "127.0.0.1", "--save", "",
                    "--appendonly", "no",     NULL};

    (void)fd;
    (void)what;
    (void)arg;
    snprintf(p, sizeof p, "%u", late_port);
    posix_spawn_file_actions_t fa;
    posix_spawn_file_actions_init(&fa);
    posix_spawn_file_actions_addopen(&fa, 1, "/dev/null", O_WRONLY, 0);
    late_at = cio__now_ms();
    cr_assert_eq(posix_spawnp(&late_redis, "redis-server", &fa, NULL, argv, environ), 0);
    posix_spawn_file_actions_destroy(&fa);
}

static unsigned free_port(void)
{
    int s = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    socklen_t len = sizeof a;

    bind(s, (struct sockaddr *)&a, sizeof a);
    getsockname(s, (struct sockaddr *)&a, &len);
    close(s);
    return ntohs(a.sin_port);
}

/* No Redis: nothing starts (fail closed); Redis comes: everything runs. */
Test(redis_limiter, without_redis_nothing_starts_and_it_goes_on_when_redis_comes,
     .init = start_server, .fini = stop_server, .timeout = 60)
{
    cio_pool_opts o;
    struct server_stats st;
    late_port = free_port();
    cio_redis_limiter_opts lo = {.host = "127.0.0.1",
                                 .port = late_port,
                                 .key = "t:late",
                                 .rate = {.count = 100, .period_ms = 1000}};
    cio_redis_limiter *lim = cio_redis_limiter_new(&lo, NULL);

    cio_pool_opts_init(&o);
    ledger_opts(&o, &L1);
    o.limiter = cio_redis_limiter_vtable();
    o.limiter_arg = lim;
    cio_pool *p = test_pool(&o, 4);
    struct event_base *base = event_base_new();
    cr_assert_eq(cio_pool_attach(p, base), CIO_OK);
    for (int i = 0; i < 5; i++)
        test_get(p, &S, "/ok", 0);
    struct event *later = evtimer_new(base, start_redis_late, NULL);
    struct timeval ms600 = {0, 600000};
    evtimer_add(later, &ms600);
    cr_assert_eq(cio_pool_start(p), CIO_OK);
    uint64_t t0 = cio__now_ms();
    cio_stats ps;
    while (late_at == 0 && cio__now_ms() - t0 < 20000) {
        event_base_loop(base, EVLOOP_ONCE);
        cio_pool_stats(p, &ps);
        cr_assert_eq(ps.started, 0, "started with no Redis to reserve on");
    }
    while (L1.done < 5 && cio__now_ms() - t0 < 20000)
        event_base_loop(base, EVLOOP_ONCE);
    cr_assert_eq(L1.done, 5, "all ran once Redis was there");
    cr_assert_eq(server_stats(&S, &st), 0);
    cr_assert_eq(st.nstarts, 5);
    cio_pool_free(p);
    cio_redis_limiter_free(lim);
    event_free(later);
    event_base_free(base);
    kill(late_redis, SIGTERM);
    waitpid(late_redis, NULL, 0);
    server_stats_free(&st);
}
