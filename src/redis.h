/* SPDX-License-Identifier: Apache-2.0 */
/* One Redis connection on a libevent loop, for the shared limiter and concurio-fetch's
 * queue mode: hiredis 0.14's async API with the timeouts it lacks, reconnects, and Lua
 * scripts loaded on every connect and called by their SHA. */
#ifndef CIO_REDIS_H
#define CIO_REDIS_H

#include <stddef.h>

struct event_base;
struct redisReply;
struct cio_redis;

/* A call's answer: the reply, or NULL when the call failed (the connection dropped, the
 * reply did not come in time, or a script had to be loaded again). The reply is
 * hiredis's, valid during the call only. */
typedef void (*cio_redis_fn)(void *arg, struct redisReply *reply);
/* The connection came up (scripts loaded: calls may go) or went down. */
typedef void (*cio_redis_state_fn)(void *arg, int up);

/* The parts of a "redis://HOST:PORT/NAME" address; 0, or -1 with a message in err. NAME
 * may be empty; host is written NUL-terminated into host[hostlen]. */
int cio__redis_parse_url(const char *url, char *host, size_t hostlen, unsigned *port,
                         const char **name, char *err, size_t errlen);

/* Connects (and keeps reconnecting, from 100 ms up to 2 s apart) to host:port. scripts:
 * Lua texts, NULL-terminated, borrowed for the connection's life; timeout_ms: the most a
 * call or a connect may take (0: 2000). NULL when out of memory. */
struct cio_redis *cio__redis_new(struct event_base *base, const char *host, unsigned port,
                                 const char *const *scripts, unsigned timeout_ms,
                                 cio_redis_state_fn on_state, void *arg);
/* Fails every call still out (each fn gets NULL, and may make no call) and closes; NULL
 * is fine. Not from inside a cio_redis_fn. */
void cio__redis_free(struct cio_redis *r);
int cio__redis_up(const struct cio_redis *r);

/* Sends a command (argv[0] its name; lens NULL: every argument a C string). Returns 0 and
 * fn is called once later, or a negative cio_err (down: CIO_E_STATE) and fn never is. */
int cio__redis_call(struct cio_redis *r, cio_redis_fn fn, void *arg, int argc,
                    const char *const *argv, const size_t *lens);
/* EVALSHA of script number `script` with nkeys keys, then the other arguments; at most
 * 16 keys and arguments. As cio__redis_call. */
int cio__redis_eval(struct cio_redis *r, unsigned script, cio_redis_fn fn, void *arg, int nkeys,
                    int argc, const char *const *argv, const size_t *lens);

/* limiter_redis.c's scripts, for their tests: the paced (GCRA) and the window limiter. */
extern const char cio__gcra_lua[], cio__window_lua[];

#endif
