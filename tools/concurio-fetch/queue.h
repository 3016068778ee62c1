/* SPDX-License-Identifier: Apache-2.0 */
/* Queue mode: one job shared by many workers through Redis.
 *
 * Keys, for --queue redis://HOST:PORT/NAME: the stream NAME holds the items (entry id
 * 0-<line>, field "l" the input line), read by the consumer group "workers"; NAME:count
 * the number of items enqueued; NAME:done a bitmap, bit <line> set once the item has its
 * record; NAME:results a stream of the records (field "r"); NAME:config the job's quota;
 * NAME:quota the shared limiter's state.
 *
 * queue.c: the keys, the Lua scripts, and the two modes that run on a plain blocking
 * connection (--enqueue, --collect). worker.c: --worker, on the loop with the pool. */
#ifndef CIO_FETCH_QUEUE_H
#define CIO_FETCH_QUEUE_H

#include <stdint.h>

#include <concurio/redis.h>

#include "options.h"
#include "say.h"

struct app;
struct redisContext;

#define FETCH_QKEY_MAX 300

struct fetch_qkeys {
    cio_redis_url at; /* host, port, user, password */
    char stream[FETCH_QKEY_MAX], count[FETCH_QKEY_MAX], done[FETCH_QKEY_MAX],
        results[FETCH_QKEY_MAX], config[FETCH_QKEY_MAX], quota[FETCH_QKEY_MAX];
};

/* The scripts the worker's connection loads, by number (NULL-terminated list). */
enum { FETCH_LUA_DONE = 0, FETCH_LUA_CLAIM, FETCH_LUA_REFRESH };
extern const char *const fetch_queue_scripts[];
/* Run with EVAL on a blocking connection: the quota stored unless one is (KEYS config;
 * ARGV rate, burst, mode, "" to only read); the item count raised to ARGV[1]. */
extern const char fetch_queue_config_lua[], fetch_queue_count_lua[];

/* Fills k from --queue's address; 0, or -1 with a message printed. */
int fetch_queue_keys(const char *url, struct fetch_qkeys *k);

/* A blocking connection, tried until it answers PING or `wait_ms` passes (0: once).
 * NULL with a message printed. */
struct redisContext *fetch_queue_connect(const struct fetch_qkeys *k, unsigned wait_ms);

/* Makes the stream and its group if missing. 0, or -1 with a message printed. */
int fetch_queue_ensure_group(struct redisContext *c, const struct fetch_qkeys *k);

/* The job's quota: given (-r, --burst or --rate-mode), it is stored in NAME:config
 * unless a quota is stored already, which must then be the same; not given, the stored
 * one (if any) goes into o->rate. 0; 2 when they differ (message printed); -1 on a
 * Redis error (message printed). */
int fetch_queue_config(struct redisContext *c, const struct fetch_qkeys *k, struct fetch_opts *o);

/* --enqueue and --collect: the whole run; the exit status. */
int fetch_queue_enqueue(struct app *a);
int fetch_queue_collect(struct app *a);

/* --worker (worker.c): connects, checks the job's quota, waits for its items, and
 * hands out the run's source (the stream) and sink (its results, and -o). 0, or the
 * exit status with a message said. report: after the run, what it says and its exit
 * status. */
struct fetch_source;
struct fetch_sink;
int fetch_worker_open(struct app *a, struct fetch_source **src, struct fetch_sink **sink);
int fetch_worker_report(struct app *a);

#endif
