/* SPDX-License-Identifier: Apache-2.0 */
/* The run: lines fed lazily from the source to the pool, one record per ended item to
 * the sink, signals handled on the loop (stop, grace, cancel). The source and the sink
 * are interfaces (source.h, sink.h): the file and the record writer, or a queue job. */
#define _GNU_SOURCE /* sched_getaffinity, CPU_COUNT */
#include <errno.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <fcntl.h>
#include <sys/resource.h>
#include <time.h>
#include <unistd.h>

#include <event2/event.h>
#ifdef __GLIBC__
#include <malloc.h> /* malloc_trim */
#endif

#include "app.h"
#include "meter.h"
#include "output.h"
#include "urllist.h"

#define LINES_PER_FEED 4096u /* at most a feed, then the loop breathes (a file of comments) */
#define FDS_PER_REQUEST 3u   /* a socket, and a name lookup's pair while it resolves */
#define FDS_PER_LOOP 8u      /* an event loop: epoll, timer, signal pair, pipe, ... */

/* ---- memory ------------------------------------------------------------------------ */

#define TRIM_MS 1000

/* glibc gives each transfer thread an arena of its own and keeps the pages freed inside
 * it: peak RSS grew with the input's length (16.9, 17.5, 18.2 MiB at 10k, 1M, 3M lines,
 * C=256), while one thread stayed flat. Handing them back once a second holds it flat. */
static void on_trim(evutil_socket_t fd, short what, void *arg)
{
    (void)fd;
    (void)what;
    (void)arg;
#ifdef __GLIBC__
    malloc_trim(0);
#endif
}

static int start_trim(struct app *a)
{
    struct timeval tv = {TRIM_MS / 1000, (TRIM_MS % 1000) * 1000};
    a->trim = event_new(a->base, -1, EV_PERSIST, on_trim, NULL);
    return a->trim == NULL || event_add(a->trim, &tv) != 0 ? -1 : 0;
}

/* ---- records ------------------------------------------------------------------------ */

static void write_record(struct app *a, struct fetch_record *r, int started)
{
    fetch_summary_add(&a->sum, r->outcome, r->http_status, started, r->elapsed_ms);
    fetch_summary_cause(&a->sum, r);
    int err = a->sink->put(a->sink, r); /* passwords in url and error are hidden */
    if (err != 0 && a->out_errno == 0) {
        a->out_errno = err; /* records would be lost: stop everything */
        cio_pool_cancel(a->pool);
    }
}

static const char *error_text(const cio_result *res, char *buf, size_t len)
{
    switch (res->status) {
    case CIO_E_CANCELED:
        return "cancelled";
    case CIO_E_DEADLINE:
        return "deadline exceeded";
    case CIO_E_HTTP:
        if (res->attempts > 1 && res->message != NULL && res->message[0] != '\0')
            return res->message; /* the retries ran out: the library says so */
        snprintf(buf, len, "HTTP status %ld", res->http_status);
        return buf;
    case CIO_E_TRANSPORT:
    case CIO_E_RETRY_AFTER:
    case CIO_E_FILE:
        return res->message;
    default:
        snprintf(buf, len, "%s", cio_strerror(res->status));
        return buf;
    }
}

/* The wall clock at an item's first start, elapsed_ms before now (Unix ms). */
static uint64_t started_at(uint64_t elapsed_ms)
{
    struct timespec ts;

    clock_gettime(CLOCK_REALTIME, &ts);
    uint64_t now = (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
    return now > elapsed_ms ? now - elapsed_ms : 1;
}

/* --output-dir: the item's file gets its name (done), or goes (else); the record's path
 * into path, or NULL. A done item whose file cannot be named becomes an error (why).
 * res is NULL for a timeout (url is then its request's). */
static const char *body_end(struct app *a, struct fetch_request *it, const cio_result *res,
                            const char *url, enum fetch_outcome *outcome, char *path, char *why,
                            size_t whylen)
{
    size_t ctlen = 0;
    const char *ct = res != NULL ? cio_result_header(res, "Content-Type", &ctlen) : NULL;
    struct fetch_name_vars v = {
        .id = it->id,
        .line = it->line,
        .url = res != NULL && res->effective_url != NULL ? res->effective_url : url,
        .status = res != NULL ? res->http_status : 0,
        .content_type = ct,
        .content_type_len = ctlen,
    };

    if (!a->has_bodies || it->body_no == 0)
        return NULL;
    if (fetch_bodies_end(&a->bodies, it->body_no, *outcome == FETCH_DONE, &v, path, why, whylen) !=
        0)
        *outcome = FETCH_ERROR;
    it->body_no = 0;
    return path[0] != '\0' ? path : NULL;
}

static void result_record(struct app *a, const cio_result *res, enum fetch_outcome outcome)
{
    struct fetch_request *it = res->task_user;
    char why[FETCH_NAME_MAX + 256] = "", path[FETCH_BODIES_PATH];
    const char *saved = body_end(a, it, res, res->url, &outcome, path, why, sizeof why);
    /* A body is kept for a response, the error statuses' too (a REST error payload is
     * what the user needs to read); not for a transfer that broke. */
    int response =
        outcome == FETCH_DONE || res->status == CIO_E_HTTP || res->status == CIO_E_RETRY_AFTER;
    struct fetch_record r = {
        .id = it->id,
        .line = it->line,
        .url = res->url,
        .method = res->method,
        .outcome = outcome,
        .http_status = res->http_status,
        .elapsed_ms = res->timings.elapsed_ms,
        .bytes = (size_t)res->bytes,
        .attempts = res->attempts,
        .error = outcome == FETCH_DONE ? NULL
                 : why[0] != '\0'      ? why
                                       : error_text(res, why, sizeof why),
        .body = response ? res->body : NULL,
        .body_len = res->body_len,
        .truncated = res->truncated,
        .timings = res->attempts > 0 ? &res->timings : NULL,
        .effective_url = res->http_status > 0 ? res->effective_url : NULL,
        .curl_code = outcome != FETCH_DONE ? res->curl_code : 0,
        .http_version = res->http_status > 0 ? res->http_version : 0,
        .started_at_ms = res->attempts > 0 ? started_at(res->timings.elapsed_ms) : 0,
        .headers = res->http_status > 0 ? res->headers : NULL,
        .headers_len = res->headers_len,
        .keep = a->o.keep.all || a->o.keep.n > 0 ? &a->o.keep : NULL,
        .path = saved,
    };
    write_record(a, &r, res->attempts > 0);
}

static void on_done(cio_pool *p, const cio_result *res, void *user)
{
    (void)p;
    struct app *a = user;

    result_record(a, res, FETCH_DONE);
    fetch_live_end(&a->live, res->task_user);
}

static void on_error(cio_pool *p, const cio_result *res, void *user)
{
    struct app *a = user;

    (void)p;
    struct fetch_request *it = res->task_user;

    if (res->status == CIO_E_CANCELED && res->attempts == 0 && (a->signals > 0 || a->fd_refused))
        a->not_started++; /* queued when the signal came: no record, --resume does it */
    else if (a->src->gives_back && !it->abandoned &&
             (res->status == CIO_E_DEADLINE || res->status == CIO_E_CANCELED))
        a->not_started++; /* this run's deadline or signal: the source keeps the item */
    else if (it->abandoned)
        ; /* taken over by another run of the source's (a queue job): its record is theirs */
    else
        result_record(a, res, FETCH_ERROR);
    if (a->has_bodies && it->body_no != 0) { /* no record here: its file goes */
        enum fetch_outcome none = FETCH_ERROR;
        char path[FETCH_BODIES_PATH], why[8];
        a->bodies.keep_partial = 0;
        body_end(a, it, res, res->url, &none, path, why, sizeof why);
        a->bodies.keep_partial = a->o.keep_partial;
    }
    if (res->status == CIO_E_DEADLINE)
        a->deadline_errors++;
    fetch_live_end(&a->live, it);
}

static void on_timeout(cio_pool *p, const cio_timeouted_task *t, void *user)
{
    struct app *a = user;
    struct fetch_request *it = t->task_user;
    char why[FETCH_NAME_MAX + 256] = "", path[FETCH_BODIES_PATH];
    enum fetch_outcome outcome = FETCH_TIMEOUT;
    const char *saved = body_end(a, it, NULL, t->request->url, &outcome, path, why, sizeof why);

    (void)p;
    if (why[0] == '\0') /* else the body could not be kept: that is the news */
        snprintf(why, sizeof why, "%s after %u ms",
                 t->budget == CIO_BUDGET_CONNECT ? "connect timed out"
                 : t->budget == CIO_BUDGET_ITEM  ? "retry budget ran out"
                                                 : "timed out",
                 t->timeout_ms);
    struct fetch_record r = {
        .id = it->id,
        .line = it->line,
        .url = t->request->url,
        .method = t->request->method,
        .outcome = FETCH_TIMEOUT,
        .elapsed_ms = t->timings.elapsed_ms,
        .attempts = t->attempts,
        .error = why,
        .timeout_ms = t->timeout_ms,
        .timings = &t->timings,
        .started_at_ms = started_at(t->timings.elapsed_ms),
        .path = saved,
    };
    write_record(a, &r, 1);
    fetch_live_end(&a->live, it);
}

/* ---- input -------------------------------------------------------------------------- */

static void bad_line(struct app *a, const struct fetch_item *fi, uint64_t line)
{
    struct fetch_record r = {
        .id = fi->id,
        .line = line,
        .url = fi->url,
        .url_max = 200, /* the line's text, its userinfo hidden first */
        .outcome = FETCH_ERROR,
        .error = fi->error,
    };
    char why[sizeof fi->error + 32];

    snprintf(why, sizeof why, "line %llu: %s", (unsigned long long)line, fi->error);
    r.error = why;
    write_record(a, &r, 0);
}

static int has_header(const char *const *h, size_t n, const char *name)
{
    size_t len = strcspn(name, ":");

    for (size_t i = 0; i < n; i++)
        if (strncasecmp(h[i], name, len) == 0 && h[i][len] == ':')
            return 1;
    return 0;
}

/* The request of one input item: its own headers first, then -H ones it does not set
 * itself, then a JSON body's Content-Type unless one is set. */
static int submit(struct app *a, struct fetch_item *fi, uint64_t line)
{
    /* Most lines of a long list have no headers of their own: no array for them. */
    size_t want = fi->nheaders + a->nheaders + (size_t)fi->body_is_json;
    const char **h = want > 0 ? malloc((want + 1) * sizeof *h) : NULL;
    struct fetch_request *it = fetch_live_add(&a->live);
    size_t n = 0;
    int rc = CIO_E_NOMEM;

    if ((h != NULL || want == 0) && it != NULL) {
        for (size_t i = 0; i < fi->nheaders; i++)
            h[n++] = fi->headers[i];
        size_t own = n;
        for (size_t i = 0; i < a->nheaders; i++)
            if (!has_header(h, own, a->headers[i]))
                h[n++] = a->headers[i];
        if (fi->body_is_json && !has_header(h, n, "Content-Type:"))
            h[n++] = "Content-Type: application/json";
        if (h != NULL)
            h[n] = NULL;
        it->id = fi->id;
        it->line = line;
        cio_http_req req = {
            .method = fi->is_json ? fi->method : a->method,
            .url = fi->url,
            .headers = h,
            .body = fi->is_json ? fi->body : a->data,
            .body_len = fi->is_json ? fi->body_len : a->data_len,
            .user = it,
            .key = fi->key,
        };
        char tmp[FETCH_BODIES_PATH];
        if (a->has_bodies && fetch_bodies_temp(&a->bodies, &it->body_no, tmp, sizeof tmp) == 0) {
            req.size = sizeof req; /* body_file is newer than 0.2.0 */
            req.body_file = tmp;
        }
        rc = cio_submit_http(a->pool, &req, &it->task);
    }
    free(h);
    if (rc == CIO_OK) {
        fi->id = NULL; /* the request owns it now */
        return 0;
    }
    if (it != NULL) {
        it->id = NULL; /* the line's still: bad_line reports it */
        fetch_live_end(&a->live, it);
    }
    snprintf(fi->error, sizeof fi->error, "request refused: %s%s", cio_strerror(rc),
             rc == CIO_E_INVAL ? " (a control character in the method, URL or a header)" : "");
    bad_line(a, fi, line);
    return -1;
}

static void drop_from_total(struct app *a)
{
    if (a->expected > 0) {
        a->expected--;
        cio_pool_set_expected(a->pool, a->expected);
    }
}

/* An explicit id used by an earlier line too: said, counted, and the item still runs
 * (it is another line; --resume goes by line). */
static void check_id(struct app *a, const char *id, uint64_t line)
{
    int64_t first = fetch_ids_check(&a->ids, id, line);

    if (first <= 0)
        return;
    a->dup_ids++;
    a->sum.dup_ids++;
    if (a->sum.dup_ids == 1) {
        a->sum.dup_first = (uint64_t)first;
        a->sum.dup_line = line;
    }
    fetch_say("line %llu: id %.80s was used by line %lld already", (unsigned long long)line, id,
              (long long)first);
}

/* One input line: a record for a bad one, skipped when --resume has it done, else
 * submitted. 1 when an item was submitted. */
static int take_line(struct app *a, const char *text, size_t len, uint64_t line)
{
    struct fetch_item fi;
    enum fetch_line kind = fetch_parse_line(text, len, &fi);
    int submitted = 0;

    if (kind != FETCH_SKIP && fi.id != NULL)
        check_id(a, fi.id, line);
    if (kind == FETCH_BAD) {
        bad_line(a, &fi, line); /* a record: it counts in the meter's total */
    } else if (kind == FETCH_ITEM && a->done.n > 0 && fetch_lines_has(&a->done, line)) {
        a->resumed++; /* its own line has a "done" record */
        drop_from_total(a);
    } else if (kind == FETCH_ITEM) {
        submitted = submit(a, &fi, line) == 0; /* refused: a bad line's record */
    }
    fetch_item_clear(&fi);
    return submitted;
}

static void check_fds(struct app *a);

static int feed(cio_pool *p, size_t room, void *user)
{
    struct app *a = user;
    size_t submitted = 0;

    for (unsigned lines = 0; submitted < room && lines < LINES_PER_FEED; lines++) {
        const char *text;
        size_t len;
        uint64_t line;
        int r = a->src->next(a->src, &text, &len, &line);
        if (r == FETCH_SRC_WAIT)
            return CIO_FEED_MORE; /* the source wakes the feed; ends wake it too */
        if (r != FETCH_SRC_LINE) {
            a->read_errno = r == FETCH_SRC_ERROR ? errno : 0;
            a->input_done = !a->input_changed; /* a changed input was not read to its end */
            return CIO_FEED_END;
        }
        submitted += (size_t)take_line(a, text, len, line);
        if (submitted > 0 && !a->fds_checked)
            check_fds(a);
        if (a->out_errno != 0 || a->fd_refused)
            return CIO_FEED_END;
    }
    if (submitted == 0)
        cio_pool_feed_wake(p); /* only skipped lines so far: go on at the next turn */
    return CIO_FEED_MORE;
}

/* ---- descriptors ------------------------------------------------------------------- */

/* The descriptor limit and how many are open; 0 when the limit is far away. */
static rlim_t fd_limit(rlim_t *open)
{
    struct rlimit rl;

    *open = 0;
    /* Counting costs a system call a descriptor: not where the limit is far away. */
    if (getrlimit(RLIMIT_NOFILE, &rl) != 0 || rl.rlim_cur == RLIM_INFINITY || rl.rlim_cur > 4096)
        return 0;
    for (rlim_t fd = 0; fd < rl.rlim_cur; fd++)
        *open += fcntl((int)fd, F_GETFD) != -1;
    return rl.rlim_cur;
}

/* After the first request is submitted (the HTTP engine and its threads are made, none
 * has started): refuses the run when the descriptor limit leaves no room for one, and
 * says when it allows fewer than -c at once (the pool then runs that many). */
static void check_fds(struct app *a)
{
    rlim_t open, lim = fd_limit(&open);

    a->fds_checked = 1;
    unsigned per = 2 + (unsigned)a->has_bodies; /* --output-dir: each holds its file too */
    if (lim == 0 || lim > per * (rlim_t)a->o.concurrency + 64 + 1024)
        return;
    struct rlimit rl = {.rlim_cur = lim};
    rlim_t left = rl.rlim_cur > open ? rl.rlim_cur - open : 0;
    unsigned long long limit = (unsigned long long)rl.rlim_cur, need = (unsigned long long)open;
    if (left < FDS_PER_REQUEST) {
        fetch_say("the descriptor limit (ulimit -n %llu) leaves no room for a request: %llu are "
                  "open before the first; raise it to %llu or more (about %llu for -c %u)",
                  limit, need, need + FDS_PER_REQUEST, need + per * 1ull * a->o.concurrency + 8,
                  a->o.concurrency);
        a->fd_refused = 1;
        cio_pool_cancel(a->pool);
        return;
    }
    /* The pool's own count: two a request (a socket, a name lookup's pair), 8 kept; the
     * body's file makes three. */
    unsigned long long allowed = left > 8 ? (left - 8) / per : 1;
    if (allowed == 0)
        allowed = 1;
    if (allowed < a->o.concurrency && !a->o.quiet)
        fetch_say("note: the descriptor limit (ulimit -n %llu) allows %llu request%s at once, "
                  "not %u: raise it to about %llu for -c %u",
                  limit, allowed, allowed == 1 ? "" : "s", a->o.concurrency,
                  need + per * 1ull * a->o.concurrency + 8, a->o.concurrency);
}

/* ---- signals and the end ------------------------------------------------------------ */

static void on_grace(evutil_socket_t fd, short what, void *arg)
{
    struct app *a = arg;

    (void)fd;
    (void)what;
    cio_pool_cancel(a->pool);
}

static void on_signal(evutil_socket_t sig, short what, void *arg)
{
    struct app *a = arg;

    (void)what;
    if (a->signals++ > 0) {
        cio_pool_cancel(a->pool); /* a second signal: at once */
        if (a->src->signal != NULL)
            a->src->signal(a->src);
        return;
    }
    if (a->src->signal != NULL)
        a->src->signal(a->src);
    fetch_say("%s: finishing requests in flight for up to %.1f s (again to cancel them)",
              sig == SIGINT ? "interrupted" : "terminated", a->o.grace_ms / 1000.0);
    cio_pool_stop(a->pool);
    struct timeval tv = {a->o.grace_ms / 1000, (a->o.grace_ms % 1000) * 1000};
    evtimer_add(a->grace, &tv);
}

static void on_progress(cio_pool *p, const cio_progress *pr, void *user)
{
    struct app *a = user;

    (void)p;
    if (a->out_tty && a->meter_tty)
        a->sink->flush(a->sink); /* the records first: they and the meter share the terminal */
    fetch_meter_draw(2, a->meter_tty, pr, &a->sum);
}

static void on_drained(cio_pool *p, void *user)
{
    struct app *a = user;

    (void)p;
    if (a->sink->drained(a->sink))
        event_base_loopbreak(a->base); /* else the sink does, its records safe */
}

/* The rate kept, --rate-margin under the one given: a server enforcing exactly the
 * documented number must see no excess, whatever the jitter of the way to it. */
static cio_rate with_margin(cio_rate r, unsigned pct)
{
    uint64_t period = r.period_ms != 0 ? r.period_ms : 60000;

    if (r.count != 0 && pct > 0) {
        period = (period * (100 + pct) + 99) / 100;
        r.period_ms = period > UINT32_MAX ? UINT32_MAX : (unsigned)period;
    }
    return r;
}

/* The CPUs this process may run on: its affinity mask (taskset), else those online. */
static unsigned usable_cpus(void)
{
#ifdef __linux__
    cpu_set_t set;
    if (sched_getaffinity(0, sizeof set, &set) == 0 && CPU_COUNT(&set) > 0)
        return (unsigned)CPU_COUNT(&set);
#endif
    long n = sysconf(_SC_NPROCESSORS_ONLN);
    return n > 0 ? (unsigned)n : 1;
}

/* Threads of other processes that stay runnable: /proc/loadavg's fourth field ("3/80")
 * counts this one too. The least of five looks a millisecond apart, so that a process
 * passing by (the last run's server closing its connections) is not taken for a hog. */
static unsigned others_runnable(void)
{
    unsigned least = 0;

    for (int i = 0; i < 5; i++) {
        FILE *f = fopen("/proc/loadavg", "r");
        unsigned running = 0;
        int got = f != NULL && fscanf(f, "%*s %*s %*s %u/", &running) == 1;
        if (f != NULL)
            fclose(f);
        if (!got)
            return 0;
        running = running > 0 ? running - 1 : 0;
        least = i == 0 || running < least ? running : least;
        if (least == 0)
            break;
        nanosleep(&(struct timespec){.tv_nsec = 1000000}, NULL);
    }
    return least;
}

int fetch_run(struct app *a, struct fetch_source *src, struct fetch_sink *sink)
{
    cio_pool_opts po;
    cio_http_opts ho;
    int err, rc = 0;

    a->src = src;
    a->sink = sink;
    fetch_live_init(&a->live);
    cio_http_opts_init(&ho);
    ho.connect_timeout_ms = a->o.connect_timeout_ms;
    ho.max_body = a->o.max_body;
    ho.version = a->o.http_version;
    ho.ca_file = a->o.cacert;
    ho.io_threads = a->o.threads_set
                        ? a->o.threads
                        : fetch_threads_default(usable_cpus(), others_runnable(), &a->o.rate);
    ho.flags = (a->o.fail ? CIO_FAIL_ON_HTTP_ERROR : 0) | (a->o.insecure ? CIO_INSECURE : 0) |
               (a->o.body == FETCH_BODY_NONE ? CIO_DISCARD_BODY : 0) |
               (a->o.no_location ? CIO_NO_REDIRECTS : 0) |
               (a->o.no_compressed ? CIO_NO_COMPRESSION : 0);
    ho.max_redirects = a->o.max_redirs;
    ho.proxy = a->o.proxy;
    ho.noproxy = a->o.noproxy;
    ho.resolve = a->o.nresolve > 0 ? a->o.resolve : NULL;
    ho.connect_to = a->o.nconnect_to > 0 ? a->o.connect_to : NULL;
    /* -b FILE or '' or --cookie-jar: kept ("": none loaded); -b N=V is a header only. */
    if ((a->o.cookie != NULL && a->o.cookie_header == NULL) || a->o.cookie_jar != NULL)
        ho.cookie_file = a->o.cookie != NULL ? a->o.cookie : "";
    cio_pool_opts_init(&po);
    po.http = &ho;
    po.max_concurrency = a->o.concurrency;
    po.rate = with_margin(a->o.rate, a->o.rate_margin_pct);
    po.timeout_ms = a->o.timeout_ms;
    po.deadline_ms = a->o.deadline_ms;
    po.retry = a->o.retry;
    po.per_key.max_concurrency = a->o.per_host;
    po.per_key.rate = with_margin(a->o.host_rate, a->o.rate_margin_pct);
    po.flags = a->o.adaptive ? CIO_ADAPTIVE : 0;
    po.on_done = on_done;
    po.on_error = on_error;
    po.on_timeout = on_timeout;
    po.on_drained = on_drained;
    po.on_feed = feed;
    po.user = a;
    po.expected = a->expected;
    if (!a->o.quiet && a->o.progress != FETCH_PROGRESS_OFF) {
        po.on_progress = on_progress;
        po.progress_ms = a->meter_tty ? 100 : a->o.progress_interval_ms;
    }
    /* libevent exits the process when a new loop finds no descriptor for its signal
     * pipe: say why instead. */
    rlim_t open, lim = fd_limit(&open);
    if (lim != 0 && lim < open + FDS_PER_LOOP + FDS_PER_REQUEST) {
        fetch_say("the descriptor limit (ulimit -n %llu) leaves no room for the event loop and "
                  "a request: %llu are open; raise it to %llu or more (about %llu for -c %u)",
                  (unsigned long long)lim, (unsigned long long)open,
                  (unsigned long long)(open + FDS_PER_LOOP + FDS_PER_REQUEST),
                  (unsigned long long)open + 2ull * a->o.concurrency + 24, a->o.concurrency);
        a->fd_refused = 1;
        return -1;
    }
    /* Paced starts wake on time: timerfd instead of epoll's milliseconds. Only where a
     * limit paces them, for a precise timer costs a system call on every turn of the loop,
     * and with transfer threads the loop turns for every batch they hand back. */
    int paced = a->o.rate.count > 0 || a->o.host_rate.count > 0 || a->o.queue != NULL;
    struct event_config *cfg = event_config_new();
    if (cfg != NULL && paced)
        event_config_set_flag(cfg, EVENT_BASE_FLAG_PRECISE_TIMER);
    a->base = cfg != NULL ? event_base_new_with_config(cfg) : NULL;
    if (cfg != NULL)
        event_config_free(cfg);
    /* Three priorities: the pool's events get the middle one (libevent's default), the
     * sink's flush the last. */
    if (a->base == NULL || event_base_priority_init(a->base, 3) != 0 ||
        sink->start(sink, a->base) != 0 ||
        (a->sigint = evsignal_new(a->base, SIGINT, on_signal, a)) == NULL ||
        (a->sigterm = evsignal_new(a->base, SIGTERM, on_signal, a)) == NULL ||
        (a->grace = evtimer_new(a->base, on_grace, a)) == NULL ||
        evsignal_add(a->sigint, NULL) != 0 || evsignal_add(a->sigterm, NULL) != 0 ||
        (ho.io_threads > 0 && start_trim(a) != 0)) {
        struct rlimit rl;
        if ((errno == EMFILE || errno == ENFILE) && getrlimit(RLIMIT_NOFILE, &rl) == 0)
            fetch_say("cannot set up the event loop: the descriptor limit (ulimit -n %llu) is "
                      "used up before the first request; raise it to at least %u",
                      (unsigned long long)rl.rlim_cur, 2 * a->o.concurrency + 64);
        else
            fetch_say("cannot set up the event loop");
        return -1;
    }
    if (src->start(src, a->base, &po) != 0)
        return -1;
    if ((a->pool = cio_pool_new(&po, &err)) == NULL) {
        fetch_say("cannot make the pool: %s", cio_strerror(err));
        return -1;
    }
    /* An unchecked start that failed (no memory, seen under libfiu) left a loop with
     * nothing to wake it: the run never ended. */
    if ((err = cio_pool_attach(a->pool, a->base)) != CIO_OK ||
        (err = cio_pool_start(a->pool)) != CIO_OK) {
        fetch_say("cannot start the pool: %s", cio_strerror(err));
        rc = -1;
    } else {
        event_base_dispatch(a->base);
    }
    int why = 0;
    if (a->o.cookie_jar != NULL && cio_http_save_cookies(a->pool, a->o.cookie_jar, &why) != 0) {
        fetch_say("cannot write --cookie-jar %s: %s", a->o.cookie_jar,
                  why != 0 ? strerror(why) : "out of memory");
        a->jar_failed = 1;
    }
    cio_pool_free(a->pool);
    a->pool = NULL;
    if (src->stop != NULL)
        src->stop(src);
    sink->stop(sink);
    fetch_live_free(&a->live);
    if (a->trim != NULL)
        event_free(a->trim);
    event_free(a->grace);
    event_free(a->sigterm);
    event_free(a->sigint);
    event_base_free(a->base);
    return rc;
}
