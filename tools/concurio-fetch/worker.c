/* SPDX-License-Identifier: Apache-2.0 */
/* --queue ... --worker (see queue.h and worker.h). One Redis connection on the loop,
 * next to the shared limiter's own: items are read with XREADGROUP (this worker's own
 * pending ones first, after a restart), only as many as can start soon; items idle past
 * --claim-idle are taken over with XAUTOCLAIM, and one delivered more than
 * --max-deliveries times gets an error record instead; this worker's items are kept with
 * XCLAIM JUSTID every third of --claim-idle, and one another worker took over is
 * cancelled here. Ends go to Redis a batch a call of the done script, which keeps the first
 * record of a line only. Redis gone: records wait here, nothing new is read (and with a
 * quota nothing starts), and all goes on when it is back. */
#define _POSIX_C_SOURCE 200809L
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/queue.h>
#include <time.h>
#include <unistd.h>

#include <concurio/redis.h>
#include <event2/event.h>
#include <hiredis/hiredis.h>

#include "app.h"
#include "queue.h"
#include "urllist.h"

#define TICK_MS 100
#define CLAIM_EVERY_MS 1000
#define CHECK_EVERY_MS 500
#define AHEAD_MS 20       /* read ahead what this worker ends in that long, up to -c more */
#define REFRESH_BATCH 128 /* ids per refresh call: the library's call takes 256 arguments */

struct entry { /* an entry read from the stream, not yet handed to the pool */
    uint64_t line;
    char *text;
    size_t len;
    TAILQ_ENTRY(entry) link;
};

struct rec { /* a record on its way to Redis */
    struct fetch_worker *w;
    uint64_t line;
    int done;
    char *json;
    size_t len;
    STAILQ_ENTRY(rec) link;
};

/* The worker is the run's source (the stream's entries) and its sink (the results). */
struct fetch_worker {
    struct fetch_source source;
    struct fetch_sink sink;
    struct app *a;
    struct fetch_qkeys k;
    char name[160];
    struct event_base *base;
    cio_redis *r;
    cio_redis_limiter *lim;
    struct event *tick, *refresh, *meter;
    TAILQ_HEAD(, entry) entries;
    struct entry *current; /* the one the feed has now */
    size_t nlocal;
    int reading, claiming, checking, history, said_down, said_read_error;
    char hist_from[48], claim_from[48];
    uint64_t last_claim, last_check;
    uint64_t ends, ends_then, then_ms; /* items ended, and as of the last tick */
    size_t ahead;                      /* items read beyond -c (AHEAD_MS) */
    STAILQ_HEAD(, rec) recs;           /* waiting to be sent */
    unsigned sending;                  /* calls of the done script sent and not answered */
    long long total, have;             /* NAME:count and the done bits, as last seen */
    int complete, drained;
    uint64_t mine, mine_failed, late; /* records of ours kept, not done, dropped as late */
    struct fetch_buf scratch;
};

static struct fetch_worker worker;

static uint64_t now_ms(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
}

static void wake_feed(struct fetch_worker *w)
{
    if (w->a->pool != NULL)
        cio_pool_feed_wake(w->a->pool);
}

static uint64_t line_of(const char *id)
{
    return strncmp(id, "0-", 2) == 0 ? strtoull(id + 2, NULL, 10) : 0;
}

static int push_entry(struct fetch_worker *w, uint64_t line, const char *text, size_t len)
{
    struct entry *e = calloc(1, sizeof *e);

    if (e == NULL || (e->text = malloc(len + 1)) == NULL) {
        free(e);
        return -1; /* it stays pending here: taken over later, or read again at a restart */
    }
    memcpy(e->text, text, len);
    e->text[len] = '\0';
    e->len = len;
    e->line = line;
    TAILQ_INSERT_TAIL(&w->entries, e, link);
    w->nlocal++;
    return 0;
}

static void free_entry(struct entry *e)
{
    if (e != NULL)
        free(e->text);
    free(e);
}

/* The text of an entry's "l" field, or NULL (an entry deleted from the stream). */
static const redisReply *entry_text(const redisReply *fields)
{
    if (fields == NULL || fields->type != REDIS_REPLY_ARRAY)
        return NULL;
    for (size_t i = 0; i + 1 < fields->elements; i += 2)
        if (strcmp(fields->element[i]->str, "l") == 0)
            return fields->element[i + 1];
    return NULL;
}

/* ---- records ------------------------------------------------------------------------- */

static void flush_records(struct fetch_worker *w);
static void check(struct fetch_worker *w);

/* 1 when this worker holds no item: none waiting here, none in the pool. */
static int idle(const struct fetch_worker *w)
{
    return w->nlocal == 0 && (w->a->pool == NULL || cio_pool_count(w->a->pool) == 0);
}

static void maybe_end(struct fetch_worker *w)
{
    if (w->drained && STAILQ_EMPTY(&w->recs) && w->sending == 0)
        event_base_loopbreak(w->base);
}

/* Ends sent in one call of the done script, three arguments each; at most two calls out
 * at once, so that ends coming while they are answered go together in the next. */
#define RECORDS_PER_CALL 64
#define CALLS_OUT 2

struct batch {
    struct fetch_worker *w;
    size_t n;
    struct rec *recs[RECORDS_PER_CALL];
};

/* A batch not recorded: its ends go back to the front, in order, for the next call. */
static void requeue(struct fetch_worker *w, struct batch *b)
{
    for (size_t i = b->n; i-- > 0;)
        STAILQ_INSERT_HEAD(&w->recs, b->recs[i], link);
    free(b);
}

static void recorded(void *arg, redisReply *reply)
{
    struct batch *b = arg;
    struct fetch_worker *w = b->w;
    struct app *a = w->a;

    w->sending--;
    if (reply == NULL || reply->type != REDIS_REPLY_ARRAY || reply->elements != b->n) {
        if (reply != NULL)
            fetch_say("Redis refused a record: %s",
                      reply->type == REDIS_REPLY_ERROR ? reply->str : "?");
        requeue(w, b); /* again when the connection is back */
        return;
    }
    for (size_t i = 0; i < b->n; i++) {
        struct rec *rc = b->recs[i];
        if (reply->element[i]->type == REDIS_REPLY_INTEGER && reply->element[i]->integer == 0) {
            w->mine++;
            w->mine_failed += !rc->done;
            if (a->o.output != NULL) /* -o: this worker's records too */
                fetch_writer_add(&a->writer, rc->json, rc->len);
        } else {
            w->late++; /* another worker recorded this line first */
        }
        free(rc->json);
        free(rc);
    }
    free(b);
    flush_records(w);
    if (w->sending == 0 && idle(w))
        check(w); /* its last records are in: is the job complete? (not at the next check) */
    maybe_end(w);
}

static void flush_records(struct fetch_worker *w)
{
    char lines[RECORDS_PER_CALL][24], ids[RECORDS_PER_CALL][32];
    const char *argv[3 + 3 * RECORDS_PER_CALL] = {w->k.done, w->k.results, w->k.stream};
    size_t lens[3 + 3 * RECORDS_PER_CALL] = {strlen(w->k.done), strlen(w->k.results),
                                             strlen(w->k.stream)};
    struct batch *b;

    while (!STAILQ_EMPTY(&w->recs) && w->sending < CALLS_OUT && cio_redis_up(w->r) &&
           (b = malloc(sizeof *b)) != NULL) {
        b->w = w;
        b->n = 0;
        for (struct rec *rc; b->n < RECORDS_PER_CALL && (rc = STAILQ_FIRST(&w->recs)) != NULL;
             b->n++) {
            size_t at = 3 + 3 * b->n;
            STAILQ_REMOVE_HEAD(&w->recs, link);
            b->recs[b->n] = rc;
            snprintf(lines[b->n], sizeof lines[b->n], "%llu", (unsigned long long)rc->line);
            snprintf(ids[b->n], sizeof ids[b->n], "0-%llu", (unsigned long long)rc->line);
            argv[at] = lines[b->n], lens[at] = strlen(lines[b->n]);
            argv[at + 1] = rc->json, lens[at + 1] = rc->len;
            argv[at + 2] = ids[b->n], lens[at + 2] = strlen(ids[b->n]);
        }
        if (cio_redis_eval(w->r, FETCH_LUA_DONE, recorded, b, 3, 3 + 3 * (int)b->n, argv, lens) !=
            CIO_OK) {
            requeue(w, b);
            return;
        }
        w->sending++;
    }
}

/* Sends an ended item's record; the sink's put. */
static int record(struct fetch_worker *w, struct fetch_record *r, enum fetch_body body)
{
    struct rec *rc = calloc(1, sizeof *rc);

    r->worker = w->name;
    w->ends++;
    w->scratch.len = 0;
    if (rc == NULL || fetch_record_append(&w->scratch, r, body) != 0 ||
        (rc->json = malloc(w->scratch.len)) == NULL) {
        free(rc);
        fetch_say("out of memory: the record of line %llu is not written; another worker "
                  "will take the item over",
                  (unsigned long long)r->line);
        return 0; /* the item stays pending: not a reason to stop the run */
    }
    rc->w = w;
    rc->line = r->line;
    rc->done = r->outcome == FETCH_DONE;
    rc->len = w->scratch.len - 1; /* without its "\n" */
    memcpy(rc->json, w->scratch.p, rc->len);
    STAILQ_INSERT_TAIL(&w->recs, rc, link);
    flush_records(w);
    return 0;
}

/* An item delivered too often, or deleted from the stream: an error record, no fetch
 * (else the job would never end). */
static void give_up(struct fetch_worker *w, uint64_t line, const redisReply *text,
                    long long deliveries)
{
    struct fetch_item fi;
    char why[200];

    memset(&fi, 0, sizeof fi);
    if (text != NULL)
        fetch_parse_line(text->str, text->len, &fi);
    if (text == NULL)
        snprintf(why, sizeof why, "the item was deleted from the stream before it ended");
    else
        snprintf(why, sizeof why,
                 "given up after %lld deliveries (--max-deliveries %u): the workers that took "
                 "it did not finish it",
                 deliveries, w->a->o.max_deliveries);
    struct fetch_record r = {
        .id = fi.id, .line = line, .url = fi.url, .outcome = FETCH_ERROR, .error = why};
    fetch_summary_add(&w->a->sum, FETCH_ERROR, 0, 0, 0);
    fetch_summary_cause(&w->a->sum, &r);
    record(w, &r, FETCH_BODY_NONE);
    fetch_item_clear(&fi);
}

/* ---- reading items ------------------------------------------------------------------ */

/* How many more items could start soon: the concurrency not yet taken, and as many more
 * as this worker ends in AHEAD_MS, so that a slot is filled at once when it frees and not
 * after a round trip to Redis. No more: a job of slow items (none ending within a tick)
 * is shared among the workers, not held by the first. */
static size_t wanted(struct fetch_worker *w)
{
    cio_stats st;
    size_t cap = w->a->o.concurrency + w->ahead;

    if (w->a->pool == NULL)
        return 0;
    cio_pool_stats(w->a->pool, &st);
    size_t have = st.queued + st.in_flight + w->nlocal;
    return have < cap ? cap - have : 0;
}

static void read_more(struct fetch_worker *w);

static void on_read(void *arg, redisReply *reply)
{
    struct fetch_worker *w = arg;
    size_t n = 0;

    w->reading = 0;
    if (reply == NULL)
        return;
    if (reply->type == REDIS_REPLY_ERROR) {
        if (!w->said_read_error) /* once: the tick tries again ten times a second */
            fetch_say("Redis: reading items: %s", reply->str);
        w->said_read_error = 1;
        return;
    }
    w->said_read_error = 0;
    if (reply->type == REDIS_REPLY_ARRAY && reply->elements == 1 &&
        reply->element[0]->elements == 2) {
        redisReply *entries = reply->element[0]->element[1];
        n = entries->elements;
        for (size_t i = 0; i < n; i++) {
            redisReply *e = entries->element[i];
            const redisReply *text = entry_text(e->element[1]);
            if (w->history)
                snprintf(w->hist_from, sizeof w->hist_from, "%s", e->element[0]->str);
            if (text != NULL)
                push_entry(w, line_of(e->element[0]->str), text->str, text->len);
            else
                give_up(w, line_of(e->element[0]->str), NULL, 0);
        }
    }
    int was_history = w->history;
    if (w->history && n == 0)
        w->history = 0; /* this worker's own pending items are all back: new ones now */
    if (w->nlocal > 0)
        wake_feed(w);
    if (n > 0 || was_history)
        read_more(w);
    else if (idle(w))
        check(w); /* nothing new, nothing here: is the job complete? (not at the next check) */
}

static void claim(struct fetch_worker *w);

static void read_more(struct fetch_worker *w)
{
    size_t want = wanted(w);
    char count[24];

    /* Items a stalled worker holds go before new ones: a take-over that is due first. */
    if (!w->claiming && now_ms() - w->last_claim >= CLAIM_EVERY_MS)
        claim(w);

    if (w->reading || w->claiming || w->complete || want == 0 || w->a->signals > 0 ||
        !cio_redis_up(w->r))
        return; /* after a signal, what is not taken stays for the others; a take-over
                   goes first */
    snprintf(count, sizeof count, "%zu", want);
    const char *argv[] = {"XREADGROUP", "GROUP",     "workers",
                          w->name,      "COUNT",     count,
                          "STREAMS",    w->k.stream, w->history ? w->hist_from : ">"};
    if (cio_redis_call(w->r, on_read, w, 9, argv, NULL) == CIO_OK)
        w->reading = 1;
}

static void on_claim(void *arg, redisReply *reply)
{
    struct fetch_worker *w = arg;
    size_t took = 0;

    w->claiming = 0;
    w->last_claim = now_ms();
    if (reply == NULL || reply->type != REDIS_REPLY_ARRAY || reply->elements < 1) {
        if (reply != NULL && reply->type == REDIS_REPLY_ERROR)
            fetch_say("Redis: taking over idle items: %s", reply->str);
        return;
    }
    snprintf(w->claim_from, sizeof w->claim_from, "%s", reply->element[0]->str);
    for (size_t i = 1; i < reply->elements; i++) {
        redisReply *e = reply->element[i];
        if (e->type != REDIS_REPLY_ARRAY || e->elements < 2)
            continue;
        uint64_t line = line_of(e->element[0]->str);
        long long n = e->element[1]->integer;
        const redisReply *text = e->elements > 2 ? entry_text(e->element[2]) : NULL;
        if (text == NULL || n > (long long)w->a->o.max_deliveries)
            give_up(w, line, text, n);
        else if (push_entry(w, line, text->str, text->len) == 0)
            took++;
    }
    if (took > 0)
        wake_feed(w);
    /* A stalled worker's items go before new ones: while there were some, look again at
     * the next tick instead of a second later. */
    if (took > 0 && strcmp(w->claim_from, "0-0") != 0)
        w->last_claim = 0;
    read_more(w);
}

static void claim(struct fetch_worker *w)
{
    char idle[24], count[24];
    size_t want = wanted(w);

    if (w->claiming || w->history || w->complete || want == 0 || w->a->signals > 0 ||
        !cio_redis_up(w->r))
        return;
    snprintf(idle, sizeof idle, "%u", w->a->o.claim_idle_ms);
    snprintf(count, sizeof count, "%zu", want);
    const char *argv[] = {w->k.stream, w->name, idle, w->claim_from, count};
    if (cio_redis_eval(w->r, FETCH_LUA_CLAIM, on_claim, w, 1, 5, argv, NULL) == CIO_OK)
        w->claiming = 1;
}

/* ---- the job's end ------------------------------------------------------------------ */

static void on_have(void *arg, redisReply *reply)
{
    struct fetch_worker *w = arg;

    if (reply != NULL && reply->type == REDIS_REPLY_INTEGER)
        w->have = reply->integer;
}

static void on_total(void *arg, redisReply *reply)
{
    struct fetch_worker *w = arg;

    w->checking = 0;
    w->last_check = now_ms();
    if (reply != NULL && reply->type == REDIS_REPLY_STRING)
        w->total = strtoll(reply->str, NULL, 10);
    if (w->total > 0 && w->have >= w->total && !w->complete) {
        w->complete = 1; /* every item has its record: the feed ends */
        if (w->a->pool != NULL)
            cio_pool_set_expected(w->a->pool, 0);
        wake_feed(w);
    }
}

static void check(struct fetch_worker *w)
{
    const char *bits[] = {"BITCOUNT", w->k.done};
    const char *get[] = {"GET", w->k.count};

    if (w->checking || !cio_redis_up(w->r) ||
        cio_redis_call(w->r, on_have, w, 2, bits, NULL) != CIO_OK)
        return;
    if (cio_redis_call(w->r, on_total, w, 2, get, NULL) == CIO_OK)
        w->checking = 1;
}

/* ---- timers ------------------------------------------------------------------------- */

static void on_tick(evutil_socket_t fd, short what, void *arg)
{
    struct fetch_worker *w = arg;
    uint64_t now = now_ms();

    (void)fd;
    (void)what;
    uint64_t ms = now - w->then_ms;
    if (ms > 0) {
        uint64_t ahead = (w->ends - w->ends_then) * AHEAD_MS / ms;
        w->ahead = ahead < w->a->o.concurrency ? (size_t)ahead : w->a->o.concurrency;
    }
    w->ends_then = w->ends;
    w->then_ms = now;
    if (!cio_redis_up(w->r))
        return;
    flush_records(w);
    read_more(w); /* a take-over first, when one is due */
    if (now - w->last_check >= CHECK_EVERY_MS)
        check(w);
}

static void on_refreshed(void *arg, redisReply *reply)
{
    struct fetch_worker *w = arg;

    if (reply == NULL || reply->type != REDIS_REPLY_ARRAY)
        return;
    for (size_t i = 0; i < reply->elements; i++) {
        uint64_t line = line_of(reply->element[i]->str);
        struct entry *e;
        fetch_live_abandon(&w->a->live, w->a->pool, line); /* another worker has it now */
        TAILQ_FOREACH(e, &w->entries, link)
        {
            if (e->line == line) {
                TAILQ_REMOVE(&w->entries, e, link);
                w->nlocal--;
                free_entry(e);
                break;
            }
        }
    }
}

static void send_refresh(struct fetch_worker *w, const uint64_t *lines, size_t n)
{
    char ids[REFRESH_BATCH][32];
    const char *argv[REFRESH_BATCH + 2] = {w->k.stream, w->name};

    for (size_t i = 0; i < n; i++) {
        snprintf(ids[i], sizeof ids[i], "0-%llu", (unsigned long long)lines[i]);
        argv[2 + i] = ids[i];
    }
    cio_redis_eval(w->r, FETCH_LUA_REFRESH, on_refreshed, w, 1, (int)n + 2, argv, NULL);
}

static void on_refresh(evutil_socket_t fd, short what, void *arg)
{
    struct fetch_worker *w = arg;
    uint64_t lines[REFRESH_BATCH];
    size_t n = 0;

    (void)fd;
    (void)what;
    if (!cio_redis_up(w->r))
        return;
    /* The items in flight, then the ones waiting here. */
    size_t live = w->a->pool != NULL ? cio_pool_count(w->a->pool) : 0;
    uint64_t *all = malloc((live + 1) * sizeof *all);
    if (all != NULL)
        live = fetch_live_lines(&w->a->live, all, live);
    for (size_t i = 0; all != NULL && i < live; i++) {
        lines[n++] = all[i];
        if (n == REFRESH_BATCH)
            send_refresh(w, lines, n), n = 0;
    }
    free(all);
    struct entry *e;
    TAILQ_FOREACH(e, &w->entries, link)
    {
        lines[n++] = e->line;
        if (n == REFRESH_BATCH)
            send_refresh(w, lines, n), n = 0;
    }
    if (n > 0)
        send_refresh(w, lines, n);
}

static void on_meter(evutil_socket_t fd, short what, void *arg)
{
    struct fetch_worker *w = arg;

    (void)fd;
    (void)what;
    fetch_say("%s: %lld of %lld items have a record (%.1f%%); this worker: %llu recorded, "
              "%llu not done, %zu in flight",
              w->k.stream, w->have, w->total,
              w->total > 0 ? 100.0 * (double)w->have / (double)w->total : 0.0,
              (unsigned long long)w->mine, (unsigned long long)w->mine_failed,
              w->a->pool != NULL ? cio_pool_count(w->a->pool) : (size_t)0);
}

static void on_signal(struct fetch_source *s);

static void on_state(void *arg, int up)
{
    struct fetch_worker *w = arg;

    if (!up) {
        w->reading = w->claiming = w->checking = 0;
        fetch_say("lost Redis at %s:%u: no new items until it is back", w->k.at.host, w->k.at.port);
        w->said_down = 1;
        on_signal(&w->source); /* interrupted and only waiting for Redis: give up */
        return;
    }
    if (w->said_down)
        fetch_say("Redis is back");
    w->said_down = 0;
    flush_records(w);
    read_more(w);
}

/* ---- the source and the sink -------------------------------------------------------- */

static struct fetch_worker *of_sink(struct fetch_sink *k)
{
    return (struct fetch_worker *)((char *)k - offsetof(struct fetch_worker, sink));
}

static struct event *every(struct fetch_worker *w, unsigned ms,
                           void (*fn)(evutil_socket_t, short, void *))
{
    struct event *ev = event_new(w->base, -1, EV_PERSIST, fn, w);
    struct timeval tv = {ms / 1000, (ms % 1000) * 1000};

    if (ev != NULL && event_add(ev, &tv) != 0) {
        event_free(ev);
        ev = NULL;
    }
    return ev;
}

static int source_start(struct fetch_source *s, struct event_base *base, cio_pool_opts *po)
{
    struct fetch_worker *w = (struct fetch_worker *)s;
    struct app *a = w->a;

    w->base = base;
    w->history = 1;
    snprintf(w->hist_from, sizeof w->hist_from, "0");
    snprintf(w->claim_from, sizeof w->claim_from, "0-0");
    const cio_redis_url *at = &w->k.at;
    cio_redis_opts ro = {.size = sizeof ro,
                         .host = at->host,
                         .port = at->port,
                         .user = at->user[0] != '\0' ? at->user : NULL,
                         .password = at->password[0] != '\0' ? at->password : NULL,
                         .scripts = fetch_queue_scripts,
                         .timeout_ms = 5000,
                         .on_state = on_state,
                         .arg = w};
    w->r = cio_redis_new(base, &ro);
    w->tick = every(w, TICK_MS, on_tick);
    w->refresh = every(w, a->o.claim_idle_ms / 3 > 0 ? a->o.claim_idle_ms / 3 : 1, on_refresh);
    if (!a->o.quiet && a->o.progress != FETCH_PROGRESS_OFF)
        w->meter = every(w, a->o.progress_interval_ms, on_meter);
    if (a->o.rate.count > 0) {
        cio_redis_limiter_opts lo = {
            .host = at->host,
            .port = at->port,
            .user = ro.user,
            .password = ro.password,
            .key = w->k.quota,
            .rate = a->o.rate,
            .slack_ms = a->o.rate_slack_ms,
        };
        w->lim = cio_redis_limiter_new(&lo, NULL);
        po->limiter = cio_redis_limiter_vtable();
        po->limiter_arg = w->lim;
    }
    if (w->r == NULL || w->tick == NULL || w->refresh == NULL ||
        (a->o.rate.count > 0 && w->lim == NULL)) {
        fetch_say("out of memory");
        return -1;
    }
    /* The quota is the job's: the shared limiter keeps it, not a local bucket. */
    memset(&po->rate, 0, sizeof po->rate);
    po->progress_fd = 0; /* the job's meter instead of this worker's */
    return 0;
}

static int next(struct fetch_source *s, const char **text, size_t *len, uint64_t *line)
{
    struct fetch_worker *w = (struct fetch_worker *)s;

    free_entry(w->current); /* the one the feed had last, done with */
    w->current = NULL;
    if (w->complete)
        return FETCH_SRC_END;
    if ((w->current = TAILQ_FIRST(&w->entries)) == NULL) {
        read_more(w);
        return FETCH_SRC_WAIT; /* wake_feed, when items come */
    }
    TAILQ_REMOVE(&w->entries, w->current, link);
    w->nlocal--;
    *text = w->current->text;
    *len = w->current->len;
    *line = w->current->line;
    return FETCH_SRC_LINE;
}

/* Interrupted with records that Redis cannot take now: give up on them (their items stay
 * pending, for another worker or a restart). 1 when so. */
static int give_up_records(struct fetch_worker *w)
{
    if (STAILQ_EMPTY(&w->recs) || w->a->signals == 0 || cio_redis_up(w->r))
        return 0;
    fetch_say("interrupted with Redis away: records of this run not sent; their items will "
              "be fetched again");
    return 1;
}

static int drained(struct fetch_sink *k)
{
    struct fetch_worker *w = of_sink(k);

    w->drained = 1;
    return give_up_records(w) || (STAILQ_EMPTY(&w->recs) && w->sending == 0);
}

static void on_signal(struct fetch_source *s)
{
    struct fetch_worker *w = (struct fetch_worker *)s;

    if (w->drained && give_up_records(w)) /* waiting for Redis to take the last records */
        event_base_loopbreak(w->base);
}

/* After the pool is freed. */
static void source_stop(struct fetch_source *s)
{
    struct fetch_worker *w = (struct fetch_worker *)s;
    struct event *evs[] = {w->tick, w->refresh, w->meter};
    struct entry *e;
    struct rec *rc;

    for (size_t i = 0; i < sizeof evs / sizeof evs[0]; i++)
        if (evs[i] != NULL)
            event_free(evs[i]);
    w->tick = w->refresh = w->meter = NULL;
    cio_redis_limiter_free(w->lim); /* the pool is gone already */
    w->lim = NULL;
    cio_redis_free(w->r);
    w->r = NULL;
    free_entry(w->current);
    w->current = NULL;
    while ((e = TAILQ_FIRST(&w->entries)) != NULL) {
        TAILQ_REMOVE(&w->entries, e, link);
        free_entry(e);
    }
    while ((rc = STAILQ_FIRST(&w->recs)) != NULL) {
        STAILQ_REMOVE_HEAD(&w->recs, link);
        free(rc->json);
        free(rc);
    }
    fetch_buf_free(&w->scratch);
}

static int sink_start(struct fetch_sink *k, struct event_base *base)
{
    struct fetch_sink *out = &of_sink(k)->a->writer.sink; /* -o: the records it wins */

    return out->start(out, base);
}

static int put(struct fetch_sink *k, struct fetch_record *r)
{
    struct fetch_worker *w = of_sink(k);

    return record(w, r, w->a->o.body);
}

static void flush(struct fetch_sink *k)
{
    struct fetch_sink *out = &of_sink(k)->a->writer.sink;

    out->flush(out);
}

static void sink_stop(struct fetch_sink *k)
{
    struct fetch_sink *out = &of_sink(k)->a->writer.sink;

    out->stop(out);
}

/* ---- the whole run ------------------------------------------------------------------ */

int fetch_worker_open(struct app *a, struct fetch_source **src, struct fetch_sink **sink)
{
    struct fetch_worker *w = &worker;
    redisContext *c;
    int rc;

    w->a = a;
    w->source = (struct fetch_source){
        .start = source_start,
        .next = next,
        .signal = on_signal,
        .stop = source_stop,
        .gives_back = 1}; /* what this worker does not finish stays for the others */
    w->sink = (struct fetch_sink){
        .start = sink_start, .put = put, .flush = flush, .drained = drained, .stop = sink_stop};
    TAILQ_INIT(&w->entries);
    STAILQ_INIT(&w->recs);
    if (fetch_queue_keys(a->o.queue, &w->k) != 0)
        return FETCH_EXIT_USAGE;
    if (a->o.worker_name != NULL) {
        snprintf(w->name, sizeof w->name, "%s", a->o.worker_name);
    } else {
        char host[64] = "host";
        gethostname(host, sizeof host - 1);
        snprintf(w->name, sizeof w->name, "%s-%ld", host, (long)getpid());
    }
    if ((c = fetch_queue_connect(&w->k, 30000)) == NULL)
        return FETCH_EXIT_UNAVAILABLE;
    if ((rc = fetch_queue_config(c, &w->k, &a->o)) != 0 ||
        fetch_queue_ensure_group(c, &w->k) != 0) {
        redisFree(c);
        return rc == 2 ? FETCH_EXIT_USAGE : FETCH_EXIT_UNAVAILABLE;
    }
    /* A worker may start before the items are in: it waits for the count. */
    for (int said = 0;; said = 1) {
        redisReply *r = redisCommand(c, "GET %s", w->k.count);
        if (r == NULL) {
            fetch_say("Redis: %s", c->errstr);
            redisFree(c);
            return FETCH_EXIT_UNAVAILABLE;
        }
        w->total = r->type == REDIS_REPLY_STRING ? strtoll(r->str, NULL, 10) : 0;
        freeReplyObject(r);
        if (w->total > 0)
            break;
        if (!said && !a->o.quiet)
            fetch_say("%s: waiting for items (--enqueue)", w->k.stream);
        struct timespec pause = {0, 200 * 1000000L};
        nanosleep(&pause, NULL);
    }
    redisFree(c);
    a->expected = (uint64_t)w->total;
    *src = &w->source;
    *sink = &w->sink;
    return 0;
}

int fetch_worker_report(struct app *a)
{
    struct fetch_worker *w = &worker;

    if (!a->o.quiet)
        fetch_say("%s: worker %s recorded %llu items (%llu not done); %llu ended after another "
                  "worker's record",
                  w->k.stream, w->name, (unsigned long long)w->mine,
                  (unsigned long long)w->mine_failed, (unsigned long long)w->late);
    return a->out_errno != 0 ? FETCH_EXIT_OUTPUT
           : a->signals > 0  ? FETCH_EXIT_INTR
           : w->mine_failed  ? FETCH_EXIT_FAILED
                             : FETCH_EXIT_DONE;
}
