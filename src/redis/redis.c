/* SPDX-License-Identifier: Apache-2.0 */
/* One Redis connection on a libevent loop (see concurio/redis.h). hiredis 0.14 has no timeouts of
 * its own: every call is timed here, and the first one unanswered in time drops the
 * connection, which fails every call still out (their order is the connection's, so the
 * oldest is the one to watch). Our own libevent glue, not hiredis's adapter header: that
 * one does not check its allocations. */
#define _POSIX_C_SOURCE 200809L
#include "concurio/redis.h"
#include "list.h"
#include "scripts.h"

#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <event2/event.h>
#include <hiredis/async.h>
#include <hiredis/hiredis.h>

#define MAX_SCRIPTS 8
#define MAX_ARGS 256 /* keys and arguments of a script call: a batch of a few dozen */

struct call {
    cio_redis *r;
    cio_redis_fn fn; /* NULL: a script load of ours */
    void *arg;
    uint64_t sent_ms;
    unsigned script;      /* for a load: which */
    struct cio_node node; /* in the connection's calls, oldest first */
};

#define AUTH_CALL UINT_MAX /* a call's script number: the AUTH of a connect */

struct cio_redis {
    struct event_base *base;
    char *host, *user, *password; /* password NULL: no AUTH */
    unsigned port, timeout_ms, backoff_ms;
    redisAsyncContext *ac;
    struct event *rev, *wev, *watch, *retry;
    const char *const *scripts;
    unsigned nscripts, loading;
    char sha[MAX_SCRIPTS][41];
    int up, freeing, down_due;
    uint64_t connect_ms;   /* when the connect began; 0: connected */
    struct cio_node calls; /* calls out, oldest first */
    cio_redis_state_fn on_state;
    void *arg;
};

/* ---- libevent glue for hiredis ----------------------------------------------------- */

static void ev_read(evutil_socket_t fd, short what, void *arg)
{
    (void)fd;
    (void)what;
    redisAsyncHandleRead(arg);
}

static void ev_write(evutil_socket_t fd, short what, void *arg)
{
    (void)fd;
    (void)what;
    redisAsyncHandleWrite(arg);
}

static void add_read(void *d)
{
    event_add(((cio_redis *)d)->rev, NULL);
}

static void del_read(void *d)
{
    event_del(((cio_redis *)d)->rev);
}

static void add_write(void *d)
{
    event_add(((cio_redis *)d)->wev, NULL);
}

static void del_write(void *d)
{
    event_del(((cio_redis *)d)->wev);
}

static void cleanup(void *d)
{
    cio_redis *r = d;

    if (r->rev != NULL)
        event_free(r->rev);
    if (r->wev != NULL)
        event_free(r->wev);
    r->rev = r->wev = NULL;
}

static int glue(cio_redis *r, redisAsyncContext *ac)
{
    r->rev = event_new(r->base, ac->c.fd, EV_READ, ev_read, ac);
    r->wev = event_new(r->base, ac->c.fd, EV_WRITE, ev_write, ac);
    if (r->rev == NULL || r->wev == NULL) {
        cleanup(r);
        return -1;
    }
    ac->ev.addRead = add_read;
    ac->ev.delRead = del_read;
    ac->ev.addWrite = add_write;
    ac->ev.delWrite = del_write;
    ac->ev.cleanup = cleanup;
    ac->ev.data = r;
    event_add(r->rev, NULL);
    event_add(r->wev, NULL); /* the connect completes when writable */
    return 0;
}

/* ---- calls ------------------------------------------------------------------------- */

static uint64_t now_ms(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
}

static void unlink_call(struct call *c)
{
    cio_list_remove(&c->node);
}

static struct call *oldest(const cio_redis *r)
{
    struct cio_node *n = cio_list_first(&r->calls);

    return n != NULL ? cio_list_entry(n, struct call, node) : NULL;
}

static void arm_watch(cio_redis *r)
{
    struct call *old = oldest(r);
    uint64_t since = old != NULL ? old->sent_ms : r->connect_ms;

    if (since == 0) {
        evtimer_del(r->watch);
        return;
    }
    uint64_t now = now_ms(), due = since + r->timeout_ms;
    uint64_t ms = due > now ? due - now : 0;
    struct timeval tv = {(time_t)(ms / 1000), (suseconds_t)(ms % 1000) * 1000};
    evtimer_add(r->watch, &tv);
}

static void drop(cio_redis *r)
{
    /* Down before the failed calls hear of it: a call made from their callbacks is
     * refused rather than queued on a connection being freed. */
    r->down_due = r->down_due || r->up;
    r->up = 0;
    if (r->ac != NULL)
        redisAsyncFree(r->ac); /* fails every call out; on_disconnect follows when it was up */
}

/* A script's SCRIPT LOAD answered: the connection is up when the last one is. */
static void script_loaded(cio_redis *r, const struct call *c, const redisReply *rep)
{
    if (rep != NULL && rep->type == REDIS_REPLY_STRING && rep->len == 40) {
        memcpy(r->sha[c->script], rep->str, 40);
        r->sha[c->script][40] = '\0';
        if (--r->loading == 0) {
            r->up = 1;
            r->backoff_ms = 100;
            if (r->on_state != NULL)
                r->on_state(r->arg, 1);
        }
    } else if (rep != NULL) {
        drop(r); /* a script Redis refuses: try again later */
    }
}

static void on_reply(redisAsyncContext *ac, void *reply, void *priv)
{
    struct call *c = priv;
    cio_redis *r = c->r;
    redisReply *rep = reply;

    (void)ac;
    unlink_call(c);
    if (!r->freeing && c->fn == NULL && c->script == AUTH_CALL) {
        if (rep == NULL || rep->type == REDIS_REPLY_ERROR)
            drop(r); /* refused: the script loads after it fail too; try again later */
    } else if (!r->freeing && c->fn == NULL) {
        script_loaded(r, c, rep);
        arm_watch(r);
    } else if (r->freeing) {
        if (c->fn != NULL)
            c->fn(c->arg, NULL); /* the caller frees what it gave the call */
    } else if (c->fn != NULL) {
        /* The script cache was flushed (SCRIPT FLUSH, a restart): load them again. */
        if (rep != NULL && rep->type == REDIS_REPLY_ERROR &&
            strncmp(rep->str, "NOSCRIPT", 8) == 0) {
            rep = NULL;
            drop(r);
        }
        c->fn(c->arg, rep);
        arm_watch(r);
    }
    free(c);
}

static struct call *new_call(cio_redis *r, cio_redis_fn fn, void *arg)
{
    struct call *c = calloc(1, sizeof *c);

    if (c == NULL)
        return NULL;
    c->r = r;
    c->fn = fn;
    c->arg = arg;
    c->sent_ms = now_ms();
    cio_list_push_back(&r->calls, &c->node);
    if (oldest(r) == c)
        arm_watch(r);
    return c;
}

static int send_argv(cio_redis *r, struct call *c, int argc, const char *const *argv,
                     const size_t *lens)
{
    size_t l[MAX_ARGS + 3];

    if (lens == NULL) {
        for (int i = 0; i < argc; i++)
            l[i] = strlen(argv[i]);
        lens = l;
    }
    if (redisAsyncCommandArgv(r->ac, on_reply, c, argc, (const char **)argv, lens) != REDIS_OK) {
        unlink_call(c);
        free(c);
        return CIO_E_NOMEM;
    }
    return CIO_OK;
}

int cio_redis_call(cio_redis *r, cio_redis_fn fn, void *arg, int argc, const char *const *argv,
                   const size_t *lens)
{
    if (r == NULL || fn == NULL || argc < 1 || argc > MAX_ARGS + 3)
        return CIO_E_INVAL;
    if (!r->up)
        return CIO_E_STATE;
    struct call *c = new_call(r, fn, arg);
    if (c == NULL)
        return CIO_E_NOMEM;
    return send_argv(r, c, argc, argv, lens);
}

int cio_redis_eval(cio_redis *r, unsigned script, cio_redis_fn fn, void *arg, int nkeys, int argc,
                   const char *const *argv, const size_t *lens)
{
    const char *v[MAX_ARGS + 3];
    size_t l[MAX_ARGS + 3];
    char keys[16];

    if (r == NULL || script >= r->nscripts || argc < 0 || argc > MAX_ARGS || nkeys < 0 ||
        nkeys > argc)
        return CIO_E_INVAL;
    snprintf(keys, sizeof keys, "%d", nkeys);
    v[0] = "EVALSHA";
    v[1] = r->sha[script];
    v[2] = keys;
    for (int i = 0; i < 3; i++)
        l[i] = strlen(v[i]);
    for (int i = 0; i < argc; i++) {
        v[3 + i] = argv[i];
        l[3 + i] = lens != NULL ? lens[i] : strlen(argv[i]);
    }
    return cio_redis_call(r, fn, arg, argc + 3, v, l);
}

/* ---- connecting -------------------------------------------------------------------- */

static void retry_later(cio_redis *r)
{
    struct timeval tv = {(time_t)(r->backoff_ms / 1000),
                         (suseconds_t)(r->backoff_ms % 1000) * 1000};

    evtimer_add(r->retry, &tv);
    r->backoff_ms = r->backoff_ms * 2 > 2000 ? 2000 : r->backoff_ms * 2;
}

static void went_down(cio_redis *r)
{
    int was = r->up || r->down_due;

    r->ac = NULL;
    r->up = r->down_due = 0;
    r->connect_ms = 0;
    r->loading = 0;
    arm_watch(r);
    if (r->freeing)
        return;
    retry_later(r);
    if (was && r->on_state != NULL)
        r->on_state(r->arg, 0);
}

static void on_connect(const redisAsyncContext *ac, int status)
{
    cio_redis *r = ac->data;

    if (status != REDIS_OK) {
        went_down(r); /* hiredis frees the context after this */
        return;
    }
    r->connect_ms = 0;
    arm_watch(r);
}

static void on_disconnect(const redisAsyncContext *ac, int status)
{
    cio_redis *r = ac->data;

    (void)status;
    went_down(r);
}

static void connect_now(cio_redis *r)
{
    redisAsyncContext *ac = redisAsyncConnect(r->host, (int)r->port);

    if (ac == NULL || ac->err != 0 || glue(r, ac) != 0) {
        if (ac != NULL)
            redisAsyncFree(ac);
        retry_later(r);
        return;
    }
    ac->data = r;
    r->ac = ac;
    r->connect_ms = now_ms();
    redisAsyncSetConnectCallback(ac, on_connect);
    redisAsyncSetDisconnectCallback(ac, on_disconnect);
    /* AUTH and the loads go out once connected, in order; the connection is up when
     * every script is loaded. */
    if (r->password != NULL) {
        struct call *c = new_call(r, NULL, NULL);
        const char *argv[] = {"AUTH", r->user != NULL ? r->user : r->password, r->password};
        if (c == NULL) {
            drop(r);
            return;
        }
        c->script = AUTH_CALL;
        if (send_argv(r, c, r->user != NULL ? 3 : 2, argv, NULL) != CIO_OK) {
            drop(r);
            return;
        }
    }
    r->loading = r->nscripts;
    for (unsigned i = 0; i < r->nscripts; i++) {
        struct call *c = new_call(r, NULL, NULL);
        const char *argv[] = {"SCRIPT", "LOAD", r->scripts[i]};
        if (c == NULL) {
            drop(r);
            return;
        }
        c->script = i;
        if (send_argv(r, c, 3, argv, NULL) != CIO_OK) {
            drop(r);
            return;
        }
    }
    if (r->nscripts == 0) {
        r->up = 1; /* a plain connection: up at once, the first call waits for the connect */
        if (r->on_state != NULL)
            r->on_state(r->arg, 1);
    }
    arm_watch(r);
}

static void ev_retry(evutil_socket_t fd, short what, void *arg)
{
    (void)fd;
    (void)what;
    connect_now(arg);
}

static void ev_watch(evutil_socket_t fd, short what, void *arg)
{
    cio_redis *r = arg;
    struct call *old = oldest(r);
    uint64_t since = old != NULL ? old->sent_ms : r->connect_ms;

    (void)fd;
    (void)what;
    if (since != 0 && now_ms() >= since + r->timeout_ms)
        drop(r);
    else
        arm_watch(r);
}

/* A copy of s, or NULL for NULL; *oom set when the copy failed. */
static char *copy(const char *s, int *oom)
{
    char *c = s != NULL ? strdup(s) : NULL;

    *oom |= s != NULL && c == NULL;
    return c;
}

cio_redis *cio_redis_new(struct event_base *base, const cio_redis_opts *given)
{
    cio_redis_opts o;
    /* No more of the caller's struct than its size says (0: this version's). */
    size_t size = given == NULL                                ? 0
                  : given->size == 0 || given->size > sizeof o ? sizeof o
                                                               : given->size;
    memset(&o, 0, sizeof o);
    if (given != NULL && size >= sizeof(size_t))
        memcpy(&o, given, size);
    if (o.host == NULL)
        return NULL;
    cio_redis *r = calloc(1, sizeof *r);
    int oom = 0;

    if (r == NULL)
        return NULL;
    r->base = base;
    cio_list_init(&r->calls);
    r->port = o.port != 0 ? o.port : 6379;
    r->timeout_ms = o.timeout_ms != 0 ? o.timeout_ms : 2000;
    r->backoff_ms = 100;
    r->scripts = o.scripts;
    while (o.scripts != NULL && o.scripts[r->nscripts] != NULL && r->nscripts < MAX_SCRIPTS)
        r->nscripts++;
    r->on_state = o.on_state;
    r->arg = o.arg;
    r->host = copy(o.host, &oom);
    r->password = copy(o.password, &oom);
    r->user = r->password != NULL ? copy(o.user, &oom) : NULL;
    r->watch = evtimer_new(base, ev_watch, r);
    r->retry = evtimer_new(base, ev_retry, r);
    if (oom || r->watch == NULL || r->retry == NULL) {
        cio_redis_free(r);
        return NULL;
    }
    connect_now(r);
    return r;
}

void cio_redis_free(cio_redis *r)
{
    if (r == NULL)
        return;
    r->freeing = 1;
    r->up = 0; /* a call made from a failing one's callback is refused */
    if (r->ac != NULL)
        redisAsyncFree(r->ac);
    struct call *c;
    while ((c = oldest(r)) != NULL) { /* none left, unless hiredis could not queue them */
        unlink_call(c);
        if (c->fn != NULL)
            c->fn(c->arg, NULL);
        free(c);
    }
    if (r->watch != NULL)
        event_free(r->watch);
    if (r->retry != NULL)
        event_free(r->retry);
    free(r->host);
    free(r->user);
    if (r->password != NULL) /* not left in freed memory */
        memset(r->password, 0, strlen(r->password));
    free(r->password);
    free(r);
}

int cio_redis_up(const cio_redis *r)
{
    return r != NULL && r->up;
}

static int hex(char c)
{
    return c >= '0' && c <= '9'   ? c - '0'
           : c >= 'a' && c <= 'f' ? c - 'a' + 10
           : c >= 'A' && c <= 'F' ? c - 'A' + 10
                                  : -1;
}

/* Percent-decodes src[0..n) into dst[dstlen]; 0, or -1 when it does not fit or a '%'
 * is not followed by two hex digits (or stands for NUL). */
static int decode(char *dst, size_t dstlen, const char *src, size_t n)
{
    size_t o = 0;

    for (size_t i = 0; i < n; i++) {
        char c = src[i];
        if (c == '%') {
            if (i + 2 >= n || hex(src[i + 1]) < 0 || hex(src[i + 2]) < 0 ||
                (c = (char)(hex(src[i + 1]) << 4 | hex(src[i + 2]))) == '\0')
                return -1;
            i += 2;
        }
        if (o + 1 >= dstlen)
            return -1;
        dst[o++] = c;
    }
    dst[o] = '\0';
    return 0;
}

int cio_redis_parse_url(const char *url, cio_redis_url *out, char *err, size_t errlen)
{
    static const char form[] = "redis://[[USER]:PASSWORD@]HOST[:PORT]/NAME";
    const char *h, *colon, *slash, *at = NULL;

    memset(out, 0, sizeof *out);
    if (strncmp(url, "redis://", 8) != 0) {
        snprintf(err, errlen, "expected %s", form);
        return -1;
    }
    h = url + 8;
    slash = h + strcspn(h, "/");
    for (const char *c = h; c < slash; c++) /* the userinfo ends at the last '@' */
        if (*c == '@')
            at = c;
    if (at != NULL) {
        const char *sep = memchr(h, ':', (size_t)(at - h));
        if (sep == NULL) {
            snprintf(err, errlen,
                     "a user needs its password: redis://USER:PASSWORD@HOST or "
                     "redis://:PASSWORD@HOST");
            return -1;
        }
        if (decode(out->user, sizeof out->user, h, (size_t)(sep - h)) != 0 ||
            decode(out->password, sizeof out->password, sep + 1, (size_t)(at - sep - 1)) != 0 ||
            out->password[0] == '\0') {
            memset(out->password, 0, sizeof out->password);
            snprintf(err, errlen,
                     "the user or password (hidden) is empty, too long, or has a bad %%-escape "
                     "(write '@' ':' '/' as %%40 %%3A %%2F)");
            return -1;
        }
        h = at + 1;
    }
    colon = memchr(h, ':', (size_t)(slash - h));
    if (h[0] == '[') { /* [::1]:6379 */
        const char *close = memchr(h, ']', (size_t)(slash - h));
        if (close == NULL) {
            snprintf(err, errlen, "an IPv6 host needs its ']'");
            return -1;
        }
        colon = close[1] == ':' ? close + 1 : NULL;
        if ((close[1] != ':' && close + 1 != slash) || close == h + 1 ||
            (size_t)(close - h - 1) >= sizeof out->host) {
            snprintf(err, errlen, "bad host '%.*s'", (int)(slash - h), h);
            return -1;
        }
        memcpy(out->host, h + 1, (size_t)(close - h - 1));
    } else {
        const char *end = colon != NULL ? colon : slash;
        if (end == h || (size_t)(end - h) >= sizeof out->host) {
            snprintf(err, errlen, "bad host '%.*s' (expected %s)", (int)(end - h), h, form);
            return -1;
        }
        memcpy(out->host, h, (size_t)(end - h));
    }
    out->port = 6379;
    if (colon != NULL) {
        char *end;
        unsigned long v = strtoul(colon + 1, &end, 10);
        if (end != slash || end == colon + 1 || v == 0 || v > 65535 || colon[1] == '-' ||
            colon[1] == '+' || colon[1] == ' ') {
            snprintf(err, errlen, "bad port '%.*s'", (int)(slash - colon - 1), colon + 1);
            return -1;
        }
        out->port = (unsigned)v;
    }
    out->name = *slash == '/' ? slash + 1 : slash;
    return 0;
}
