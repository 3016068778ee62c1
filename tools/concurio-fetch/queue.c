/* SPDX-License-Identifier: Apache-2.0 */
/* Queue mode's keys and scripts, and --enqueue and --collect (see queue.h). These two run
 * on a blocking hiredis connection: each is one loop of requests and replies, with
 * nothing else to do meanwhile. */
#define _POSIX_C_SOURCE 200809L
#include "queue.h"

#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <hiredis/hiredis.h>

#include "app.h"
#include <concurio/redis.h>
#include "urllist.h"

#define PIPELINE 512 /* XADDs sent before their replies are read: bounded memory */

int fetch_queue_keys(const char *url, struct fetch_qkeys *k)
{
    const char *name;
    char err[300];

    if (cio_redis_parse_url(url, &k->at, err, sizeof err) != 0) {
        fetch_say("--queue: %s", err); /* never the password */
        return -1;
    }
    name = k->at.name;
    if (name[0] == '\0' || strlen(name) > FETCH_QKEY_MAX - 16 || strpbrk(name, " \t\r\n") != NULL) {
        fetch_say("--queue: NAME '%s' must be 1 to %d characters without spaces", name,
                  FETCH_QKEY_MAX - 16);
        return -1;
    }
    snprintf(k->stream, sizeof k->stream, "%s", name);
    snprintf(k->count, sizeof k->count, "%s:count", name);
    snprintf(k->done, sizeof k->done, "%s:done", name);
    snprintf(k->results, sizeof k->results, "%s:results", name);
    snprintf(k->config, sizeof k->config, "%s:config", name);
    snprintf(k->quota, sizeof k->quota, "%s:quota", name);
    return 0;
}

/* 1 when Redis answers PING; else 0 with why said in why (NOAUTH: a password needed). */
static int ping(redisContext *c, char *why, size_t len)
{
    redisReply *r = redisCommand(c, "PING");
    int ok = r != NULL && r->type == REDIS_REPLY_STATUS;

    if (r != NULL && r->type == REDIS_REPLY_ERROR)
        snprintf(why, len, "%s%s", r->str,
                 strncmp(r->str, "NOAUTH", 6) == 0
                     ? " (put it in the --queue address: :PASSWORD@ or USER:PASSWORD@ before HOST)"
                     : "");
    freeReplyObject(r);
    return ok;
}

/* AUTH when the address has a password: 0, or 1 (refused; why says Redis's answer). */
static int auth(redisContext *c, const cio_redis_url *at, char *why, size_t len)
{
    if (at->password[0] == '\0')
        return 0;
    redisReply *r = at->user[0] != '\0' ? redisCommand(c, "AUTH %s %s", at->user, at->password)
                                        : redisCommand(c, "AUTH %s", at->password);
    int refused = r == NULL || r->type == REDIS_REPLY_ERROR;

    if (refused)
        snprintf(why, len, "%s", r != NULL ? r->str : c->errstr);
    freeReplyObject(r);
    return refused;
}

redisContext *fetch_queue_connect(const struct fetch_qkeys *k, unsigned wait_ms)
{
    struct timeval tv = {5, 0};
    struct timespec pause = {0, 200 * 1000000L};
    char why[160] = "";

    for (unsigned waited = 0;; waited += 200) {
        redisContext *c = redisConnectWithTimeout(k->at.host, (int)k->at.port, tv);
        int refused = 0;
        if (c != NULL && c->err == 0 && redisSetTimeout(c, tv) == REDIS_OK &&
            (refused = auth(c, &k->at, why, sizeof why)) == 0 && ping(c, why, sizeof why))
            return c;
        if (c == NULL || c->err != 0)
            snprintf(why, sizeof why, "%s", c == NULL ? "out of memory" : c->errstr);
        redisFree(c);
        if (refused)
            break; /* a wrong password stays wrong */
        if (waited >= wait_ms)
            break;
        nanosleep(&pause, NULL);
    }
    fetch_say("cannot reach Redis at %s:%u: %s", k->at.host, k->at.port, why);
    return NULL;
}

/* A reply that is not an error; otherwise a message naming what was asked. */
static int ok_reply(redisContext *c, redisReply *r, const char *what)
{
    if (r != NULL && r->type != REDIS_REPLY_ERROR)
        return 1;
    fetch_say("Redis: %s: %s", what, r != NULL ? r->str : c->errstr);
    return 0;
}

int fetch_queue_ensure_group(redisContext *c, const struct fetch_qkeys *k)
{
    redisReply *r = redisCommand(c, "XGROUP CREATE %s workers 0 MKSTREAM", k->stream);
    int ok = r != NULL && (r->type != REDIS_REPLY_ERROR || strncmp(r->str, "BUSYGROUP", 9) == 0);

    if (!ok)
        ok_reply(c, r, "XGROUP CREATE");
    freeReplyObject(r);
    return ok ? 0 : -1;
}

static const char *mode_name(unsigned mode)
{
    return mode == CIO_RATE_WINDOW ? "window" : "paced";
}

/* "-r 100/1000ms --burst 1 --rate-mode paced" for messages. */
static void describe(char *buf, size_t len, const char *rate, const char *burst, const char *mode)
{
    unsigned count = 0, period = 0;

    sscanf(rate, "%u/%u", &count, &period);
    snprintf(buf, len, "%u starts per %.3g s, --burst %s, --rate-mode %s", count, period / 1000.0,
             burst, mode);
}

int fetch_queue_config(redisContext *c, const struct fetch_qkeys *k, struct fetch_opts *o)
{
    char rate[48] = "", burst[16] = "", given[160], stored[160];
    const char *mode = mode_name(o->rate.mode);

    if (o->rate_given && o->rate.count == 0) {
        fetch_say("--burst and --rate-mode need -r in queue mode");
        return 2;
    }
    if (o->rate_given) {
        snprintf(rate, sizeof rate, "%u/%u", o->rate.count,
                 o->rate.period_ms != 0 ? o->rate.period_ms : 60000);
        snprintf(burst, sizeof burst, "%u", o->rate.burst > 1 ? o->rate.burst : 1);
    }
    redisReply *r = redisCommand(c, "EVAL %s 1 %s %s %s %s", fetch_queue_config_lua, k->config,
                                 rate, burst, o->rate_given ? mode : "");
    if (!ok_reply(c, r, "reading the job's quota")) {
        freeReplyObject(r);
        return -1;
    }
    int rc = 0;
    if (r->type == REDIS_REPLY_ARRAY && r->elements == 3 &&
        r->element[0]->type == REDIS_REPLY_STRING && r->element[1]->type == REDIS_REPLY_STRING &&
        r->element[2]->type == REDIS_REPLY_STRING) {
        const char *sr = r->element[0]->str, *sb = r->element[1]->str, *sm = r->element[2]->str;
        if (o->rate_given &&
            (strcmp(sr, rate) != 0 || strcmp(sb, burst) != 0 || strcmp(sm, mode) != 0)) {
            describe(given, sizeof given, rate, burst, mode);
            describe(stored, sizeof stored, sr, sb, sm);
            fetch_say("the job's quota in %s is %s; this command gives %s: drop -r, --burst "
                      "and --rate-mode to use the job's",
                      k->config, stored, given);
            rc = 2;
        } else if (!o->rate_given) {
            unsigned count = 0, period = 0, b = 0;
            if (sscanf(sr, "%u/%u", &count, &period) == 2 && sscanf(sb, "%u", &b) == 1) {
                o->rate.count = count;
                o->rate.period_ms = period;
                o->rate.burst = b;
                o->rate.mode = strcmp(sm, "window") == 0 ? CIO_RATE_WINDOW : CIO_RATE_PACED;
            }
        }
    }
    freeReplyObject(r);
    return rc;
}

/* ---- --enqueue ---------------------------------------------------------------------- */

/* Reads the replies of n XADDs: new items into *fresh, ones queued before into *old. */
static int read_adds(redisContext *c, unsigned n, uint64_t *fresh, uint64_t *old)
{
    for (unsigned i = 0; i < n; i++) {
        redisReply *r = NULL;
        if (redisGetReply(c, (void **)&r) != REDIS_OK) {
            fetch_say("Redis: adding items: %s", c->errstr);
            return -1;
        }
        if (r->type == REDIS_REPLY_STRING) {
            (*fresh)++;
        } else if (r->type == REDIS_REPLY_ERROR && strstr(r->str, "equal or smaller") != NULL) {
            (*old)++; /* its id is taken: enqueued before */
        } else {
            ok_reply(c, r, "XADD");
            freeReplyObject(r);
            return -1;
        }
        freeReplyObject(r);
    }
    return 0;
}

int fetch_queue_enqueue(struct app *a)
{
    struct fetch_qkeys k;
    redisContext *c;
    int rc;

    if (fetch_queue_keys(a->o.queue, &k) != 0)
        return 2;
    if ((c = fetch_queue_connect(&k, 0)) == NULL)
        return FETCH_EXIT_UNAVAILABLE;
    if ((rc = fetch_queue_config(c, &k, &a->o)) != 0 || fetch_queue_ensure_group(c, &k) != 0) {
        redisFree(c);
        return rc == 2 ? 2 : FETCH_EXIT_UNAVAILABLE;
    }
    struct fetch_reader *rd = a->rd;
    const char *text;
    size_t len;
    uint64_t fresh = 0, old = 0, items = 0;
    unsigned out = 0;
    int r;
    rc = 0;
    while ((r = fetch_reader_next(rd, &text, &len)) != FETCH_READ_END && r != FETCH_READ_ERROR) {
        if (r == FETCH_READ_WAIT) { /* a pipe with nothing yet: this mode may block */
            struct pollfd pfd = {.fd = rd->fd, .events = POLLIN};
            (void)poll(&pfd, 1, -1);
            continue;
        }
        if (!fetch_line_is_item(text, len))
            continue;
        items++;
        if (redisAppendCommand(c, "XADD %s 0-%llu l %b", k.stream, (unsigned long long)rd->line,
                               text, len) != REDIS_OK) {
            fetch_say("out of memory");
            rc = FETCH_EXIT_UNAVAILABLE;
            break;
        }
        if (++out == PIPELINE) {
            if (read_adds(c, out, &fresh, &old) != 0) {
                rc = FETCH_EXIT_UNAVAILABLE;
                break;
            }
            out = 0;
        }
    }
    if (rc == 0 && read_adds(c, out, &fresh, &old) != 0)
        rc = FETCH_EXIT_UNAVAILABLE;
    if (r == FETCH_READ_ERROR) {
        fetch_say("cannot read %s: %s", a->o.input != NULL ? a->o.input : "standard input",
                  strerror(errno));
        rc = 2;
    }
    long long total = 0;
    if (rc == 0) {
        redisReply *cr = redisCommand(c, "EVAL %s 1 %s %llu", fetch_queue_count_lua, k.count,
                                      (unsigned long long)items);
        if (ok_reply(c, cr, "setting the item count") && cr->type == REDIS_REPLY_INTEGER)
            total = cr->integer;
        else
            rc = FETCH_EXIT_UNAVAILABLE;
        freeReplyObject(cr);
    }
    redisFree(c);
    if (rc == 0 && !a->o.quiet)
        fetch_say("%s: %llu new items, %llu queued already; the job has %lld items", k.stream,
                  (unsigned long long)fresh, (unsigned long long)old, total);
    else if (rc == FETCH_EXIT_UNAVAILABLE)
        fetch_say("%llu items were added before the failure; run the same command again: "
                  "items queued already are not added twice",
                  (unsigned long long)fresh);
    return rc;
}

/* ---- --collect ---------------------------------------------------------------------- */

static volatile sig_atomic_t stop_collect;

static void on_stop(int sig)
{
    stop_collect = sig;
}

static long long get_count(redisContext *c, const struct fetch_qkeys *k)
{
    redisReply *r = redisCommand(c, "GET %s", k->count);
    long long n = r != NULL && r->type == REDIS_REPLY_STRING ? strtoll(r->str, NULL, 10) : -1;

    if (r != NULL && r->type == REDIS_REPLY_NIL)
        n = 0;
    freeReplyObject(r);
    return n;
}

int fetch_queue_collect(struct app *a)
{
    struct fetch_qkeys k;
    redisContext *c;
    struct sigaction sa;

    if (fetch_queue_keys(a->o.queue, &k) != 0)
        return 2;
    if ((c = fetch_queue_connect(&k, 0)) == NULL)
        return FETCH_EXIT_UNAVAILABLE;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_stop; /* no SA_RESTART: a blocked read returns */
    sigaction(SIGINT, &sa, NULL);
    sigaction(SIGTERM, &sa, NULL);
    char cursor[64] = "0-0";
    unsigned long long got = 0, failed = 0;
    long long total = 0;
    int rc = -1, partial = 0; /* partial: read to the end, and items still without one */
    struct fetch_buf out = {0};
    int werr = fetch_format_header(&a->o.format, &out) != 0 /* CSV's and TSV's */
                   ? ENOMEM
                   : fetch_write_all(a->out_fd, out.p, out.len);
    if (werr != 0) {
        fetch_say("cannot write records: %s", strerror(werr));
        fetch_buf_free(&out);
        redisFree(c);
        return 74;
    }
    time_t next_say = time(NULL) + (time_t)(a->o.progress_interval_ms / 1000);
    while (rc < 0 && !stop_collect) {
        total = get_count(c, &k);
        if (a->o.follow && !a->o.quiet && a->o.progress != FETCH_PROGRESS_OFF &&
            time(NULL) >= next_say) { /* the whole job's meter */
            fetch_say("%s: %llu of %lld items have a record", k.stream, got, total);
            next_say = time(NULL) + (time_t)(a->o.progress_interval_ms / 1000);
        }
        redisReply *r =
            a->o.follow
                ? redisCommand(c, "XREAD COUNT 1000 BLOCK 1000 STREAMS %s %s", k.results, cursor)
                : redisCommand(c, "XREAD COUNT 1000 STREAMS %s %s", k.results, cursor);
        if (stop_collect) {
            freeReplyObject(r);
            break;
        }
        if (total < 0 || !ok_reply(c, r, "reading the records")) {
            freeReplyObject(r);
            rc = FETCH_EXIT_UNAVAILABLE;
            break;
        }
        size_t n = 0;
        if (r->type == REDIS_REPLY_ARRAY && r->elements == 1 && r->element[0]->elements == 2) {
            redisReply *entries = r->element[0]->element[1];
            n = entries->elements;
            out.len = 0;
            for (size_t i = 0; i < n; i++) {
                redisReply *e = entries->element[i];
                snprintf(cursor, sizeof cursor, "%s", e->element[0]->str);
                redisReply *f = e->element[1];
                if (f->elements < 2)
                    continue;
                const char *rec = f->element[1]->str;
                size_t len = f->element[1]->len;
                got++;
                /* The first: "headers", after it, may hold the same text. */
                const char *o = strstr(rec, ",\"outcome\":\"");
                failed += o == NULL || strncmp(o + 12, "done\"", 5) != 0;
                if (fetch_format_plain(&a->o.format)
                        ? fetch_buf_add(&out, rec, len) != 0 || fetch_buf_add(&out, "\n", 1) != 0
                        : fetch_format_record(&a->o.format, rec, len, &out) != 0) {
                    fetch_say("out of memory");
                    rc = 2;
                    break;
                }
            }
            int err = fetch_write_all(a->out_fd, out.p, out.len);
            if (err != 0) {
                fetch_say("cannot write records: %s", strerror(err));
                rc = 74;
            }
        }
        freeReplyObject(r);
        if (rc >= 0)
            break;
        if (total > 0 && got >= (unsigned long long)total)
            rc = failed > 0;
        else if (n == 0 && !a->o.follow)
            partial = 1, rc = 1;
    }
    fetch_buf_free(&out);
    redisFree(c);
    if (stop_collect) {
        fetch_say("interrupted: %llu records written; the job has %lld items", got, total);
        return 130;
    }
    if (partial) {
        fetch_say("%llu of %lld items have a record so far (--follow waits for the rest)", got,
                  total);
        return 1;
    }
    if (rc <= 1 && !a->o.quiet)
        fetch_say("%s: %llu records, %llu not done", k.stream, got, failed);
    return rc;
}
