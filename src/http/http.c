/* SPDX-License-Identifier: Apache-2.0 */
/* The HTTP engine: requests as easy handles, run by its lanes (lanes.c), responses as
 * outcomes the core decides on. */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <curl/curl.h>

#include "adapt.h"
#include "cookies.h"
#include "core.h"
#include "lanes.h"
#include "mem.h"

#define MAX_HEADERS_KEPT ((size_t)64 << 10)
#define DEFAULT_MAX_BODY ((size_t)16 << 20)
#define MAX_REDIRECTS 10L
#define FIRST_BODY ((size_t)512) /* a body's first room: then Content-Length, or doubled */
#define FIRST_HEAD ((size_t)512) /* the headers' first room, then doubled */

struct cio_http {
    cio_pool *pool;
    const cio_http_opts *o; /* the pool's copy */
    struct cio_engine *engine;
    size_t max_body; /* o->max_body, or its default */
    struct cio_lanes *lanes;
    CURL **spare; /* reset easy handles kept warm for the next requests */
    size_t nspare, spare_cap;
    struct work **works; /* ended works kept for the next requests (as many as spares) */
    size_t nworks;
    /* User-Agent and Accept-Encoding as ready header lines: libcurl formats its own with
     * a printf per request (two cost more than all of Concurio's work on a request), and
     * a request without headers of its own shares this list. */
    struct curl_slist *base_headers;
    struct curl_slist *resolve, *connect_to; /* the options', as libcurl takes them */
    /* No proxy variable was set when the pool was made: libcurl need not look them up
     * (five getenv scans of the environment) for every request. */
    int no_proxy_env;
    struct cio_cookies *cookies; /* a store per key (cookie_file set); else NULL */
    pthread_mutex_t file_mu;     /* body files: a work's stopped and its first open */
};

struct work {
    cio_task *task;
    struct cio_http *h;
    struct cio_xfer x; /* x.easy: the attempt's handle */
    struct curl_slist *slist;
    cio_http_req req; /* the copy; its strings live in blob */
    char *label;      /* "METHOD URL" */
    char *body;
    size_t body_len, body_cap;
    uint64_t received; /* decoded body bytes, kept or not */
    char *head;
    size_t head_len, head_cap;
    /* Not bit-fields: a lane's thread writes the first two while the loop thread may
     * write the others. */
    unsigned char truncated, nomem;
    unsigned char orphan;  /* destroyed while its lane still had it */
    unsigned char no_fd;   /* opening its socket failed: EMFILE or ENFILE */
    unsigned char stopped; /* under h->file_mu: the item ended, its file is not written */
    unsigned limit;        /* this attempt's CURLOPT_TIMEOUT_MS; 0: none */
    int fd;                /* req.body_file's, open while an attempt writes it; else -1 */
    int file_errno;        /* opening or writing req.body_file failed: why */
    size_t alloc;          /* bytes allocated for the work and its blob */
    char err[CURL_ERROR_SIZE];
    char blob[];
};

/* ---- validation and copying ------------------------------------------------------- */

static int is_tchar(unsigned char c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
           (c != 0 && strchr("!#$%&'*+-.^_`|~", c) != NULL);
}

static int valid_token(const char *s, size_t max)
{
    size_t n = 0;

    for (; s[n] != '\0'; n++)
        if (!is_tchar((unsigned char)s[n]) || n >= max)
            return 0;
    return n > 0;
}

static int valid_url(const char *u)
{
    if (strncasecmp(u, "http://", 7) != 0 && strncasecmp(u, "https://", 8) != 0)
        return 0;
    for (const unsigned char *s = (const unsigned char *)u; *s != '\0'; s++)
        if (*s <= 0x20 || *s == 0x7f)
            return 0;
    return 1;
}

static int valid_header(const char *h)
{
    const char *colon = strchr(h, ':');

    if (colon == NULL || colon == h)
        return 0;
    for (const char *s = h; s < colon; s++)
        if (!is_tchar((unsigned char)*s))
            return 0;
    for (const unsigned char *s = (const unsigned char *)colon; *s != '\0'; s++)
        if ((*s < 0x20 && *s != '\t') || *s == 0x7f)
            return 0;
    return 1;
}

static int validate(const cio_http_req *r, size_t *nheaders)
{
    if (r->url == NULL || !valid_url(r->url))
        return CIO_E_INVAL;
    if (r->method != NULL && !valid_token(r->method, 32))
        return CIO_E_INVAL;
    if (r->body == NULL && r->body_len > 0)
        return CIO_E_INVAL;
    if (r->body_file != NULL && r->body_file[0] == '\0')
        return CIO_E_INVAL;
    *nheaders = 0;
    for (size_t i = 0; r->headers != NULL && r->headers[i] != NULL; i++, (*nheaders)++)
        if (!valid_header(r->headers[i]))
            return CIO_E_INVAL;
    return CIO_OK;
}

static char *put(char **at, const void *src, size_t len)
{
    char *s = *at;

    memcpy(s, src, len);
    s[len] = '\0';
    *at += len + 1;
    return s;
}

/* A work of at least `size` bytes: an ended one when the last is big enough, so a steady
 * stream of requests allocates only its header and body buffers. */
static struct work *take_work(struct cio_http *h, size_t size)
{
    struct work *w = h->nworks > 0 ? h->works[--h->nworks] : NULL;

    if (w == NULL || w->alloc < size) {
        cio__free(w);
        size = (size + 255) & ~(size_t)255; /* room for a slightly longer URL next time */
        if ((w = cio__malloc(size)) == NULL)
            return NULL;
        w->alloc = size;
    }
    size_t alloc = w->alloc;
    memset(w, 0, sizeof *w);
    w->alloc = alloc;
    return w;
}

static void drop_work(struct cio_http *h, struct work *w)
{
    /* A kept work goes to a queued item next: only a running one needs the room. */
    cio__free(w->body);
    cio__free(w->head);
    w->body = w->head = NULL;
    if (h->nworks < h->spare_cap) {
        h->works[h->nworks++] = w;
        return;
    }
    cio__free(w);
}

/* One allocation holds the work and the copy of everything the request points to. */
static struct work *copy_request(struct cio_http *h, const cio_http_req *r, size_t nh)
{
    const char *method = r->method != NULL ? r->method : r->body != NULL ? "POST" : "GET";
    size_t mlen = strlen(method), ulen = strlen(r->url);
    size_t size = sizeof(struct work) + sizeof(char *) + (nh + 1) * sizeof(char *);

    size += mlen + 1 + ulen + 1 + mlen + 1 + ulen + 1 + r->body_len + 1;
    if (r->body_file != NULL)
        size += strlen(r->body_file) + 1;
    if (r->key != NULL)
        size += strlen(r->key) + 1;
    for (size_t i = 0; i < nh; i++)
        size += strlen(r->headers[i]) + 1;

    struct work *w = take_work(h, size);
    if (w == NULL)
        return NULL;
    uintptr_t a = ((uintptr_t)w->blob + sizeof(char *) - 1) & ~(uintptr_t)(sizeof(char *) - 1);
    char **hv = (char **)a;
    char *at = (char *)(hv + nh + 1);

    w->req = *r;
    w->req.retry = NULL; /* the core keeps the item's policy */
    w->req.method = put(&at, method, mlen);
    w->req.url = put(&at, r->url, ulen);
    w->label = at;
    at += (size_t)snprintf(at, mlen + ulen + 2, "%s %s", method, r->url) + 1;
    for (size_t i = 0; i < nh; i++)
        hv[i] = put(&at, r->headers[i], strlen(r->headers[i]));
    hv[nh] = NULL;
    w->req.headers = r->headers != NULL ? (const char *const *)hv : NULL;
    if (r->body != NULL)
        w->req.body = put(&at, r->body, r->body_len);
    if (r->body_file != NULL)
        w->req.body_file = put(&at, r->body_file, strlen(r->body_file));
    if (r->key != NULL) /* request (in a timeout's record) is the whole copy */
        w->req.key = put(&at, r->key, strlen(r->key));
    w->fd = -1;
    return w;
}

/* ---- curl callbacks: record only, never call the user ------------------------------ */

/* Opens the attempt's body_file; 0, or -1 with file_errno set (no_fd too for EMFILE). */
static int open_file(struct work *w)
{
    w->fd = open(w->req.body_file, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC | O_NOCTTY, 0666);
    if (w->fd >= 0)
        return 0;
    w->file_errno = errno;
    w->no_fd = errno == EMFILE || errno == ENFILE;
    return -1;
}

/* The attempt's file is done with: closed, a failure to (NFS, quota) kept as its error. */
static void close_file(struct work *w)
{
    if (w->fd >= 0 && close(w->fd) != 0 && w->file_errno == 0 && errno != EINTR)
        w->file_errno = errno;
    w->fd = -1;
}

/* Writes a piece of the body (a lane's thread). Under the engine's file lock: once the
 * loop thread has ended the item (stopped), nothing is opened or written any more, so no
 * file appears or grows after its terminal callback. */
static size_t to_file(struct work *w, const char *data, size_t len)
{
    size_t off = 0;

    pthread_mutex_lock(&w->h->file_mu);
    if (w->stopped || (w->fd < 0 && open_file(w) != 0)) {
        pthread_mutex_unlock(&w->h->file_mu);
        return 0; /* stops the transfer: CURLE_WRITE_ERROR */
    }
    while (off < len) {
        ssize_t k = write(w->fd, data + off, len - off);
        if (k < 0 && errno == EINTR)
            continue;
        if (k <= 0) {
            w->file_errno = k < 0 ? errno : EIO;
            break;
        }
        off += (size_t)k;
    }
    pthread_mutex_unlock(&w->h->file_mu);
    w->received += off; /* what the file holds */
    return off == len ? len : 0;
}

/* The item ended while its lane may still run it: no more writes to its file. */
static void stop_file(struct work *w)
{
    if (w->req.body_file == NULL)
        return;
    pthread_mutex_lock(&w->h->file_mu);
    w->stopped = 1;
    pthread_mutex_unlock(&w->h->file_mu);
}

static size_t on_body(char *data, size_t size, size_t n, void *arg)
{
    struct work *w = arg;
    size_t max_body = w->h->max_body;
    size_t len = size * n, keep = len;

    if (w->req.body_file != NULL)
        return to_file(w, data, len);
    w->received += len;
    if (w->h->o->flags & CIO_DISCARD_BODY) {
        w->truncated = w->received > max_body;
        return w->truncated ? 0 : len; /* past the cap: stop the transfer */
    }
    if (keep > max_body - w->body_len) {
        keep = max_body - w->body_len;
        w->truncated = 1;
    }
    if (w->body_len + keep + 1 > w->body_cap) {
        size_t cap = w->body_cap < FIRST_BODY ? FIRST_BODY : w->body_cap * 2;
        curl_off_t cl = -1; /* the first growth takes what Content-Length announces */

        if (w->body_len == 0 &&
            curl_easy_getinfo(w->x.easy, CURLINFO_CONTENT_LENGTH_DOWNLOAD_T, &cl) == CURLE_OK &&
            cl > 0 && (uint64_t)cl < (uint64_t)max_body && (size_t)cl + 1 > cap)
            cap = (size_t)cl + 1;
        if (cap < w->body_len + keep + 1)
            cap = w->body_len + keep + 1;
        if (cap > max_body + 1)
            cap = max_body + 1;
        char *b = cio__realloc(w->body, cap);
        if (b == NULL) {
            w->nomem = 1;
            return 0;
        }
        w->body = b;
        w->body_cap = cap;
    }
    memcpy(w->body + w->body_len, data, keep);
    w->body_len += keep;
    w->body[w->body_len] = '\0';
    return w->truncated ? 0 : len; /* past the cap: stop the transfer */
}

static size_t on_header(char *data, size_t size, size_t n, void *arg)
{
    struct work *w = arg;
    size_t len = size * n;

    if (len >= 5 && memcmp(data, "HTTP/", 5) == 0) {
        w->head_len = 0; /* a new response (redirect, 100 Continue): keep the last only */
        w->head[0] = '\0';
        return len;
    }
    if (len <= 2 || w->head_len + len + 1 > MAX_HEADERS_KEPT)
        return len;
    if (w->head_len + len + 1 > w->head_cap) {
        size_t cap = w->head_cap < FIRST_HEAD ? FIRST_HEAD : w->head_cap * 2;

        while (cap < w->head_len + len + 1)
            cap *= 2;
        char *b = cio__realloc(w->head, cap);
        if (b == NULL)
            return len; /* headers are best effort; the body is not */
        w->head = b;
        w->head_cap = cap;
    }
    memcpy(w->head + w->head_len, data, len);
    w->head_len += len;
    w->head[w->head_len] = '\0';
    return len;
}

/* libcurl's socket, opened here to tell "no descriptor left" from other failures, and
 * so that its lane knows it for a connection's. */
static curl_socket_t open_socket(void *arg, curlsocktype purpose, struct curl_sockaddr *a)
{
    struct work *w = arg;
    int type = a->socktype;

    (void)purpose;
#ifdef SOCK_CLOEXEC
    type |= SOCK_CLOEXEC; /* a caller that forks does not leak it */
#endif
    curl_socket_t s = socket(a->family, type, a->protocol);
    if (s == CURL_SOCKET_BAD && (errno == EMFILE || errno == ENFILE))
        w->no_fd = 1;
    else if (s != CURL_SOCKET_BAD)
        cio__lanes_opened(&w->x, s);
    return s;
}

/* ---- ends ---------------------------------------------------------------------------- */

static struct work *work_of(struct cio_xfer *x)
{
    return (struct work *)(void *)((char *)x - offsetof(struct work, x));
}

/* The attempt's handle and header list, no longer used by any lane. */
static void release_easy(struct work *w)
{
    struct cio_http *h = w->h;

    if (h->nspare < h->spare_cap) {
        /* Not reset: setup() sets every option a request may change, and the pool's
         * options stay (cheaper than a reset and setting them all again). */
        h->spare[h->nspare++] = w->x.easy;
    } else {
        curl_easy_cleanup(w->x.easy);
    }
    w->x.easy = NULL;
    curl_slist_free_all(w->slist);
    w->slist = NULL;
    close_file(w); /* cancelled while it wrote */
}

/* Takes the attempt's handle back: 1 when done, 0 when its lane still has it (and
 * http_back follows). */
static int detach(struct work *w)
{
    if (w->x.easy == NULL)
        return 1;
    if (!cio__lanes_remove(w->h->lanes, &w->x))
        return 0;
    release_easy(w);
    return 1;
}

/* Its request is going out: a rate limit counts it from now. */
static void http_sent(struct cio_xfer *x)
{
    struct work *w = work_of(x);

    if (w->task != NULL && cio__task_running(w->task))
        cio__task_sent(w->task, cio__now_ms());
}

/* A lane gave back a stopped transfer. */
static void http_back(struct cio_xfer *x)
{
    struct work *w = work_of(x);

    release_easy(w);
    if (w->orphan)
        drop_work(w->h, w);
}

static uint64_t info_ms(CURL *e, CURLINFO what)
{
    curl_off_t us = 0;

    curl_easy_getinfo(e, what, &us);
    return us > 0 ? (uint64_t)us / 1000u : 0;
}

static int classify(const struct work *w, CURLcode rc, long http_status)
{
    unsigned flags = w->h->o->flags;

    if (rc == CURLE_WRITE_ERROR && w->nomem)
        return CIO_E_NOMEM;
    if (w->file_errno != 0 && !w->no_fd)
        return CIO_E_FILE;
    if (w->file_errno != 0)
        return CIO_E_TRANSPORT; /* EMFILE: back-pressure, the core starts it again */
    if (rc == CURLE_OPERATION_TIMEDOUT)
        return CIO_E_TIMEOUT;
    if (rc != CURLE_OK && !(rc == CURLE_WRITE_ERROR && w->truncated))
        return CIO_E_TRANSPORT;
    if ((flags & CIO_FAIL_ON_HTTP_ERROR) && http_status >= 400)
        return CIO_E_HTTP;
    return CIO_OK;
}

/* For CIO_ADAPTIVE: "too many" (429, 503), and a pause when the response says its quota
 * is used up (RateLimit-Remaining: 0 until RateLimit-Reset). */
static void throttle_hints(const cio_result *res, cio_outcome *o)
{
    char remaining[32] = "", reset[32] = "";
    static const char *const names[][2] = {{"RateLimit-Remaining", "RateLimit-Reset"},
                                           {"X-RateLimit-Remaining", "X-RateLimit-Reset"}};

    for (size_t i = 0; i < 2 && remaining[0] == '\0'; i++) {
        size_t n = 0, m = 0;
        const char *v = cio_result_header(res, names[i][0], &n);
        const char *r = cio_result_header(res, names[i][1], &m);
        if (v != NULL && r != NULL && n < sizeof remaining && m < sizeof reset) {
            memcpy(remaining, v, n);
            remaining[n] = '\0';
            memcpy(reset, r, m);
            reset[m] = '\0';
        }
    }
    o->pause_ms =
        remaining[0] != '\0' ? cio__adapt_pause_ms(remaining, reset, (uint64_t)time(NULL)) : 0;
    o->throttled = res->http_status == 429 || res->http_status == 503;
}

/* A transfer ended; its handle is out of every multi. */
static void finish(struct cio_xfer *x, CURLcode rc)
{
    struct work *w = work_of(x);
    CURL *e = x->easy;
    cio_result res = {0};
    char *effective = NULL;
    char file_msg[CURL_ERROR_SIZE + 64];

    curl_easy_getinfo(e, CURLINFO_RESPONSE_CODE, &res.http_status);
    long version = 0;
    curl_easy_getinfo(e, CURLINFO_HTTP_VERSION, &version);
    res.http_version = version == CURL_HTTP_VERSION_1_0   ? 10
                       : version == CURL_HTTP_VERSION_1_1 ? 11
                       : version == CURL_HTTP_VERSION_2_0 ? 20
                       : version == CURL_HTTP_VERSION_3   ? 30
                                                          : 0;
    curl_easy_getinfo(e, CURLINFO_EFFECTIVE_URL, &effective);
    /* A complete response without a body still leaves its (empty) file. */
    if (w->req.body_file != NULL && rc == CURLE_OK && w->fd < 0 && w->file_errno == 0)
        open_file(w);
    close_file(w);
    res.status = classify(w, rc, res.http_status);
    res.curl_code = (int)rc;
    res.message = res.status == CIO_E_TRANSPORT
                      ? (w->err[0] != '\0' ? w->err : curl_easy_strerror(rc))
                  : res.status == CIO_OK ? ""
                                         : cio_strerror(res.status);
    /* libcurl says "Out of memory", with nothing in its error buffer, when one header
     * line passes its 100 KiB limit: name that likelier cause. */
    if (rc == CURLE_OUT_OF_MEMORY && w->err[0] == '\0' && res.http_status > 0 && w->received == 0)
        res.message = "the response's headers were refused by libcurl: a header line longer "
                      "than its 100 KiB limit (or libcurl ran out of memory)";
    if (res.status == CIO_E_FILE || (w->file_errno != 0 && w->no_fd)) {
        snprintf(file_msg, sizeof file_msg, "cannot write %.*s: %s", CURL_ERROR_SIZE,
                 w->req.body_file, strerror(w->file_errno));
        res.message = file_msg;
        res.curl_code = CURLE_WRITE_ERROR;
    }
    res.method = w->req.method;
    res.url = w->req.url;
    res.effective_url = effective;
    res.body = w->body != NULL ? w->body : "";
    res.body_len = w->body_len;
    res.truncated = w->truncated;
    res.bytes = w->received;
    res.headers = w->head != NULL ? w->head : "";
    res.headers_len = w->head_len;
    res.timings.connect_ms = info_ms(e, CURLINFO_CONNECT_TIME_T);
    res.timings.tls_ms = info_ms(e, CURLINFO_APPCONNECT_TIME_T);
    res.timings.first_byte_ms = info_ms(e, CURLINFO_STARTTRANSFER_TIME_T);
    res.timings.total_ms = info_ms(e, CURLINFO_TOTAL_TIME_T);
    long connects = 0;
    curl_easy_getinfo(e, CURLINFO_NUM_CONNECTS, &connects);
    cio_outcome o = {.res = &res, .connects = (uint64_t)connects, .exhausted_status = CIO_E_HTTP};
    cio_pool *p = w->h->pool;

    /* An attempt that found no descriptor for its socket: back-pressure, not a failure
     * (the core waits, then starts it again). */
    o.no_fd = w->no_fd && (rc != CURLE_OK || w->file_errno != 0);
    o.fd_ok = !w->no_fd;
    if (cio__pool_opts(p)->flags & CIO_ADAPTIVE)
        throttle_hints(&res, &o);
    curl_off_t after_s = 0;
    curl_easy_getinfo(e, CURLINFO_RETRY_AFTER, &after_s);
    o.retry_after_ms = after_s > 0 ? (int64_t)after_s * 1000 : -1;
    /* The connect phase's limit expired (it is the shorter, and the attempt ended before
     * its own): a timeout of its own kind. */
    unsigned ct = w->h->o->connect_timeout_ms;
    if (res.status == CIO_E_TIMEOUT && ct != 0 &&
        (w->limit == 0 || (ct < w->limit && res.timings.total_ms < w->limit))) {
        o.budget = CIO_BUDGET_CONNECT;
        o.budget_ms = ct;
    }
    cio__task_outcome(w->task, &o);
    /* The callback has run, or a retry waits: the handle (effective_url is its) goes back
     * for the next request now, not on the reaper's turn, when C transfers would have
     * needed 2C handles. A retry started inside (the task runs again) took it already.
     * The ended task lives until the reaper's turn. */
    if (!cio__task_running(w->task))
        detach(w);
}

/* ---- the vtable --------------------------------------------------------------------- */

/* A handle with the pool's options set: kept from an earlier request, or new. */
static CURL *take_easy(struct cio_http *h)
{
    if (h->nspare > 0)
        return h->spare[--h->nspare];
    CURL *e = curl_easy_init();
    const cio_http_opts *o = h->o;
    long verify = (o->flags & CIO_INSECURE) ? 0L : 1L;
    CURLcode rc = CURLE_OK;

    if (e == NULL)
        return NULL;
    rc |= curl_easy_setopt(e, CURLOPT_NOSIGNAL, 1L);
    rc |= curl_easy_setopt(e, CURLOPT_PROTOCOLS_STR, "http,https");
    rc |= curl_easy_setopt(e, CURLOPT_REDIR_PROTOCOLS_STR, "http,https");
    rc |= curl_easy_setopt(e, CURLOPT_FOLLOWLOCATION, (o->flags & CIO_NO_REDIRECTS) ? 0L : 1L);
    rc |= curl_easy_setopt(e, CURLOPT_MAXREDIRS,
                           o->max_redirects > 0 ? (long)o->max_redirects : MAX_REDIRECTS);
    rc |= curl_easy_setopt(e, CURLOPT_SSL_VERIFYPEER, verify);
    rc |= curl_easy_setopt(e, CURLOPT_SSL_VERIFYHOST, verify * 2);
    /* Decode what the server compressed; the header itself is in base_headers. */
    if (!(o->flags & CIO_NO_COMPRESSION))
        rc |= curl_easy_setopt(e, CURLOPT_ACCEPT_ENCODING, "");
    rc |= curl_easy_setopt(e, CURLOPT_WRITEFUNCTION, on_body);
    rc |= curl_easy_setopt(e, CURLOPT_HEADERFUNCTION, on_header);
    rc |= curl_easy_setopt(e, CURLOPT_OPENSOCKETFUNCTION, open_socket);
    if (o->ca_file != NULL)
        rc |= curl_easy_setopt(e, CURLOPT_CAINFO, o->ca_file);
    if (o->proxy != NULL)
        rc |= curl_easy_setopt(e, CURLOPT_PROXY, o->proxy);
    else if (h->no_proxy_env)
        rc |= curl_easy_setopt(e, CURLOPT_PROXY, "");
    if (o->noproxy != NULL)
        rc |= curl_easy_setopt(e, CURLOPT_NOPROXY, o->noproxy);
    if (h->resolve != NULL)
        rc |= curl_easy_setopt(e, CURLOPT_RESOLVE, h->resolve);
    if (h->connect_to != NULL)
        rc |= curl_easy_setopt(e, CURLOPT_CONNECT_TO, h->connect_to);
    if (o->version == CIO_HTTP_1_1)
        rc |= curl_easy_setopt(e, CURLOPT_HTTP_VERSION, (long)CURL_HTTP_VERSION_1_1);
    else if (o->version == CIO_HTTP_2)
        rc |= curl_easy_setopt(e, CURLOPT_HTTP_VERSION, (long)CURL_HTTP_VERSION_2_0);
    if (o->connect_timeout_ms > 0)
        rc |= curl_easy_setopt(e, CURLOPT_CONNECTTIMEOUT_MS, (long)o->connect_timeout_ms);
    if (h->cookies != NULL) /* the engine on; the files are each store's (cookies.c) */
        rc |= curl_easy_setopt(e, CURLOPT_COOKIEFILE, "");
    if (rc != CURLE_OK) {
        curl_easy_cleanup(e);
        return NULL;
    }
    return e;
}

static int has_header(const cio_http_req *r, const char *name)
{
    size_t n = strlen(name);

    for (size_t i = 0; r->headers != NULL && r->headers[i] != NULL; i++)
        if (strncasecmp(r->headers[i], name, n) == 0 && r->headers[i][n] == ':')
            return 1;
    return 0;
}

static int setup(struct work *w, CURL *e, unsigned timeout_ms)
{
    const cio_http_req *r = &w->req;
    CURLcode rc = CURLE_OK;
    int own = (r->headers != NULL && r->headers[0] != NULL) || r->body != NULL;

    for (size_t i = 0; own && r->headers != NULL && r->headers[i] != NULL; i++) {
        struct curl_slist *l = curl_slist_append(w->slist, r->headers[i]);
        if (l == NULL)
            return CIO_E_NOMEM;
        w->slist = l;
    }
    for (struct curl_slist *b = w->h->base_headers; own && b != NULL; b = b->next) {
        char name[32];
        size_t n = strcspn(b->data, ":");
        snprintf(name, sizeof name, "%.*s", (int)n, b->data);
        if (has_header(r, name))
            continue; /* the caller's own User-Agent or Accept-Encoding */
        struct curl_slist *l = curl_slist_append(w->slist, b->data);
        if (l == NULL)
            return CIO_E_NOMEM;
        w->slist = l;
    }
    /* An admitted request must not then wait a second for "100 Continue". */
    if (r->body != NULL && !has_header(r, "Expect")) {
        struct curl_slist *l = curl_slist_append(w->slist, "Expect:");
        if (l == NULL)
            return CIO_E_NOMEM;
        w->slist = l;
    }
    /* Everything a request may change is set for every request: the handle is reused
     * without a reset (take_easy set the pool's own options once). */
    rc |= curl_easy_setopt(e, CURLOPT_URL, r->url);
    rc |= curl_easy_setopt(e, CURLOPT_ERRORBUFFER, w->err);
    rc |= curl_easy_setopt(e, CURLOPT_WRITEDATA, w);
    rc |= curl_easy_setopt(e, CURLOPT_HEADERDATA, w);
    rc |= curl_easy_setopt(e, CURLOPT_OPENSOCKETDATA, w);
    rc |= curl_easy_setopt(e, CURLOPT_HTTPHEADER, own ? w->slist : w->h->base_headers);
    /* Rather wait for a connection that can multiplex than open one more, where one
     * can: over TLS, curl knows after the handshake (ALPN). Over cleartext it would only
     * know when the first response ended, and every other request would wait for it. */
    rc |= curl_easy_setopt(
        e, CURLOPT_PIPEWAIT,
        w->h->o->version != CIO_HTTP_1_1 && strncasecmp(r->url, "https:", 6) == 0 ? 1L : 0L);
    rc |= curl_easy_setopt(e, CURLOPT_TIMEOUT_MS, (long)timeout_ms); /* 0: none */

    int is_get = strcmp(r->method, "GET") == 0, is_post = strcmp(r->method, "POST") == 0;
    if (r->body != NULL || is_post || strcmp(r->method, "PUT") == 0 ||
        strcmp(r->method, "PATCH") == 0) {
        rc |= curl_easy_setopt(e, CURLOPT_NOBODY, 0L); /* before POSTFIELDS: it resets HEAD */
        rc |= curl_easy_setopt(e, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)r->body_len);
        rc |= curl_easy_setopt(e, CURLOPT_POSTFIELDS, r->body != NULL ? r->body : "");
        rc |= curl_easy_setopt(e, CURLOPT_CUSTOMREQUEST, is_post ? NULL : r->method);
    } else if (strcmp(r->method, "HEAD") == 0) {
        rc |= curl_easy_setopt(e, CURLOPT_NOBODY, 1L);
        rc |= curl_easy_setopt(e, CURLOPT_CUSTOMREQUEST, NULL);
    } else {
        rc |= curl_easy_setopt(e, CURLOPT_HTTPGET, 1L); /* also ends NOBODY and POST */
        rc |= curl_easy_setopt(e, CURLOPT_CUSTOMREQUEST, is_get ? NULL : r->method);
    }
    return rc == CURLE_OK ? CIO_OK : CIO_E_TRANSPORT;
}

/* The attempt's handle takes its key's cookie store. */
static int use_cookies(struct work *w, CURL *e)
{
    char key[512];
    const char *k = w->req.key;

    if (k == NULL && cio__url_key(w->req.url, key, sizeof key) == 0)
        k = key;
    CURLSH *sh = cio__cookies_of(w->h->cookies, k != NULL ? k : "");
    if (sh == NULL)
        return CIO_E_NOMEM;
    return curl_easy_setopt(e, CURLOPT_SHARE, sh) == CURLE_OK ? CIO_OK : CIO_E_NOMEM;
}

/* The first room for the body and the headers, taken here on the loop's thread: taken on
 * a transfer thread and freed here, they made each thread's malloc arena grow through a
 * run (19 MiB at 100,000 requests, against a flat 16.4 on one thread). */
static int alloc_buffers(struct work *w)
{
    int keeps_body = w->req.body_file == NULL && !(w->h->o->flags & CIO_DISCARD_BODY);

    if (keeps_body && w->body == NULL) {
        if ((w->body = cio__malloc(FIRST_BODY)) == NULL)
            return CIO_E_NOMEM;
        w->body_cap = FIRST_BODY;
    }
    if (w->head == NULL) {
        if ((w->head = cio__malloc(FIRST_HEAD)) == NULL)
            return CIO_E_NOMEM;
        w->head_cap = FIRST_HEAD;
    }
    if (w->body != NULL)
        w->body[0] = '\0'; /* empty, not the last attempt's, until the first byte */
    w->head[0] = '\0';
    return CIO_OK;
}

static int http_start(cio_task *task, void *work, struct event_base *base)
{
    struct work *w = work;

    (void)base;
    detach(w); /* the last attempt's handle, if its end did not give it back */
    w->body_len = w->head_len = 0;
    CURL *e = alloc_buffers(w) == CIO_OK ? take_easy(w->h) : NULL;
    if (e == NULL)
        return CIO_E_NOMEM;
    w->x.easy = e;
    w->task = task;
    w->received = 0;
    w->truncated = w->nomem = w->no_fd = 0;
    w->file_errno = 0;
    w->stopped = 0; /* no lane has it: detach above took it back */
    w->err[0] = '\0';
    w->limit = cio__task_limit_ms(task); /* its timeout, or the rest of the item's budget */
    w->x.want_sent = cio__task_wants_sent(task);
    int rc = setup(w, e, w->limit);
    if (rc == CIO_OK && w->h->cookies != NULL)
        rc = use_cookies(w, e);
    if (rc == CIO_OK)
        rc = cio__lanes_add(w->h->lanes, &w->x);
    if (rc != CIO_OK) {
        curl_slist_free_all(w->slist);
        w->slist = NULL;
        curl_easy_cleanup(e);
        w->x.easy = NULL;
    }
    return rc;
}

static void http_cancel(cio_task *task, void *work)
{
    (void)task;
    if (!detach(work))
        stop_file(work); /* its lane gives it back later: it writes no more */
}

static void http_destroy(void *work)
{
    struct work *w = work;

    if (!detach(w)) {
        stop_file(w);
        w->orphan = 1; /* http_back drops it */
        return;
    }
    drop_work(w->h, w);
}

static const cio_task_vtable http_vtable = {
    .name = "http",
    .start = http_start,
    .cancel = http_cancel,
    .destroy = http_destroy,
};

static char engine_text[512];
static pthread_once_t engine_once = PTHREAD_ONCE_INIT;

static void engine_describe(void)
{
    const curl_version_info_data *v = curl_version_info(CURLVERSION_NOW);

    snprintf(engine_text, sizeof engine_text, "%s (HTTP/2: %s, HTTP/3: %s)", curl_version(),
             (v->features & CURL_VERSION_HTTP2) ? "yes" : "no",
             (v->features & CURL_VERSION_HTTP3) ? "yes" : "no");
}

const char *cio_http_engine_version(void)
{
    pthread_once(&engine_once, engine_describe);
    return engine_text;
}

/* ---- the per-pool engine ------------------------------------------------------------ */

/* A NULL-terminated array of strings as a curl_slist into *out (NULL for NULL); 0 or -1. */
static int slist_of(const char *const *v, struct curl_slist **out)
{
    *out = NULL;
    for (size_t i = 0; v != NULL && v[i] != NULL; i++) {
        struct curl_slist *l = curl_slist_append(*out, v[i]);
        if (l == NULL) {
            curl_slist_free_all(*out);
            *out = NULL;
            return -1;
        }
        *out = l;
    }
    return 0;
}

/* Our User-Agent, and unless compress is 0 an "Accept-Encoding" of what this libcurl can
 * decode, as CURLOPT_ACCEPT_ENCODING "" would. */
static struct curl_slist *base_headers(int compress)
{
    const curl_version_info_data *v = curl_version_info(CURLVERSION_NOW);
    char enc[80] = "Accept-Encoding:";
    size_t n = strlen(enc);
    const char *sep = " ";

    if (v->features & CURL_VERSION_LIBZ) {
        n += (size_t)snprintf(enc + n, sizeof enc - n, "%sdeflate, gzip", sep);
        sep = ", ";
    }
    if (v->features & CURL_VERSION_BROTLI) {
        n += (size_t)snprintf(enc + n, sizeof enc - n, "%sbr", sep);
        sep = ", ";
    }
#ifdef CURL_VERSION_ZSTD
    if (v->features & CURL_VERSION_ZSTD)
        n += (size_t)snprintf(enc + n, sizeof enc - n, "%szstd", sep);
#endif
    struct curl_slist *l = curl_slist_append(NULL, "User-Agent: concurio/" CIO_VERSION_STRING);
    struct curl_slist *m =
        l != NULL && compress && strcmp(sep, " ") != 0 ? curl_slist_append(l, enc) : l;
    if (m == NULL)
        curl_slist_free_all(l);
    return m;
}

/* The variables libcurl reads for a proxy of an http(s) URL (HTTP_PROXY in capitals is
 * ignored on purpose: CGI programs get it from a request header). */
static int proxy_env_set(void)
{
    static const char *const names[] = {"http_proxy", "https_proxy", "HTTPS_PROXY", "all_proxy",
                                        "ALL_PROXY"};

    for (size_t i = 0; i < sizeof names / sizeof names[0]; i++) {
        const char *v = getenv(names[i]);
        if (v != NULL && v[0] != '\0')
            return 1;
    }
    return 0;
}

/* The HTTP engine of a pool; NULL with *err CIO_E_NOMEM or CIO_E_NOFD. Transfer threads
 * need descriptors of their own (a loop and a pipe each): when those are short, the
 * transfers run on the pool's loop instead. */
static void http_free(void *state);

static const cio_engine_ops http_engine = {.name = "http", .free = http_free};

/* The lanes' guard and end check are the pool's. */
static void lanes_enter(void *ctx)
{
    cio__pool_enter(ctx);
}

static int lanes_leave(void *ctx)
{
    return cio__pool_leave(ctx);
}

static int lanes_closing(void *ctx)
{
    return cio__pool_closing(ctx);
}

/* The HTTP engine of a pool; NULL with *err CIO_E_NOMEM or CIO_E_NOFD. Transfer threads
 * need descriptors of their own (a loop and a pipe each): when those are short, the
 * transfers run on the pool's loop instead. libcurl's global state is taken here, and
 * given back with the engine (curl_global_init counts). */
static struct cio_http *http_new(cio_pool *p, int *err)
{
    struct cio_http *h = cio__calloc(1, sizeof *h);
    const cio_pool_opts *po = cio__pool_opts(p);
    const cio_http_opts *o = cio__pool_http(p);
    long cap = (long)(o->max_connections != 0 ? o->max_connections : po->max_concurrency);

    *err = CIO_E_NOMEM;
    if (h == NULL)
        return NULL;
    if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK) {
        cio__free(h);
        return NULL;
    }
    h->pool = p;
    h->o = o;
    pthread_mutex_init(&h->file_mu, NULL);
    h->max_body = o->max_body != 0 ? o->max_body : DEFAULT_MAX_BODY;
    h->no_proxy_env = !proxy_env_set();
    h->spare_cap = po->max_concurrency;
    h->spare = cio__calloc(h->spare_cap, sizeof *h->spare);
    h->works = cio__calloc(h->spare_cap, sizeof *h->works);
    h->base_headers = base_headers(!(o->flags & CIO_NO_COMPRESSION));
    int cookies_ok = o->cookie_file == NULL || (h->cookies = cio__cookies_new(o->cookie_file));
    int lists_ok =
        slist_of(o->resolve, &h->resolve) == 0 && slist_of(o->connect_to, &h->connect_to) == 0;
    /* A thread's loop, pipe and multi take about CIO_FDS_PER_LOOP each, and the
     * transfers want room after them; when there is not, they run on the pool's loop. */
    unsigned threads = o->io_threads, left = cio__fds_free();
    if (threads > 0 && left != UINT_MAX &&
        left < (threads + 1) * CIO_FDS_PER_LOOP + 2 * po->max_concurrency)
        threads = 0;
    cio_lanes_hooks hooks = {.ctx = p,
                             .ended = finish,
                             .back = http_back,
                             .sent = http_sent,
                             .enter = lanes_enter,
                             .leave = lanes_leave,
                             .closing = lanes_closing};
    if (h->spare != NULL && h->works != NULL && h->base_headers != NULL && lists_ok && cookies_ok) {
        struct event_base *base = cio__pool_base(p);
        long reqs = (long)po->max_concurrency;
        h->lanes = cio__lanes_new(base, threads, cap, reqs, &hooks, err);
        if (h->lanes == NULL && *err == CIO_E_NOFD && threads > 0)
            h->lanes = cio__lanes_new(base, 0, cap, reqs, &hooks, err);
    }
    if (h->lanes == NULL || (h->engine = cio__engine_add(p, &http_engine, h)) == NULL) {
        http_free(h);
        return NULL;
    }
    return h;
}

static void http_free(void *state)
{
    struct cio_http *h = state;

    if (h == NULL)
        return;
    cio__lanes_free(h->lanes); /* hands back what its threads still had */
    for (size_t i = 0; i < h->nspare; i++)
        curl_easy_cleanup(h->spare[i]);
    cio__free(h->spare);
    for (size_t i = 0; i < h->nworks; i++)
        cio__free(h->works[i]);
    cio__free(h->works);
    curl_slist_free_all(h->base_headers);
    curl_slist_free_all(h->resolve);
    curl_slist_free_all(h->connect_to);
    cio__cookies_free(h->cookies); /* no handle has a store any more */
    pthread_mutex_destroy(&h->file_mu);
    cio__free(h);
    curl_global_cleanup();
}

int cio_submit_http(cio_pool *p, const cio_http_req *given, cio_task_id *id)
{
    cio_http_req req;
    size_t nh;

    if (p == NULL || given == NULL)
        return CIO_E_INVAL;
    int rc = cio__copy_sized(&req, sizeof req, given, CIO_SIZE_0_2(cio_http_req, key));
    if (rc != CIO_OK || (rc = validate(&req, &nh)) != CIO_OK)
        return rc;
    if (cio__pool_closing(p))
        return CIO_E_STATE;
    if ((rc = cio__pool_bind(p)) != CIO_OK)
        return rc;
    struct cio_http *h = cio__engine_find(p, &http_engine);
    if (h == NULL && (h = http_new(p, &rc)) == NULL)
        return rc;

    struct work *w = copy_request(h, &req, nh);
    if (w == NULL)
        return CIO_E_NOMEM;
    w->h = h;
    char key[512];
    if (req.key == NULL && cio__url_key(w->req.url, key, sizeof key) != 0)
        key[0] = '\0'; /* too long to be a key: only the pool's limits apply */
    cio_item item = {
        .engine = h->engine,
        .vt = &http_vtable,
        .work = w,
        .user = req.user,
        .timeout_ms = req.timeout_ms,
        .key = req.key != NULL ? req.key : key,
        .label = w->label,
        .req = &w->req,
        .retry = req.retry,
        .self_timed = 1,
        .reports_sent = 1,
    };
    if ((rc = cio__submit(p, &item, id)) != CIO_OK)
        drop_work(h, w);
    return rc;
}

int cio_http_save_cookies(cio_pool *p, const char *path, int *why)
{
    int rc;

    if (why != NULL)
        *why = 0;
    if (p == NULL || path == NULL || path[0] == '\0')
        return CIO_E_INVAL;
    if (cio__pool_http(p)->cookie_file == NULL)
        return CIO_E_STATE;
    struct cio_http *h = cio__engine_find(p, &http_engine);
    struct cio_cookies *none = h == NULL ? cio__cookies_new(NULL) : NULL; /* no request yet */
    if (h == NULL && none == NULL)
        return CIO_E_NOMEM;
    rc = cio__cookies_save(h != NULL ? h->cookies : none, path);
    cio__cookies_free(none);
    if (why != NULL)
        *why = rc;
    return rc == 0 ? CIO_OK : rc == ENOMEM ? CIO_E_NOMEM : CIO_E_FILE;
}

const char *cio_result_header(const cio_result *res, const char *name, size_t *len)
{
    size_t n = strlen(name);
    const char *s = res->headers, *end = res->headers + res->headers_len;

    while (s != NULL && s < end) {
        const char *eol = memchr(s, '\n', (size_t)(end - s));
        const char *next = eol != NULL ? eol + 1 : end;

        if (eol == NULL)
            eol = end;
        if ((size_t)(eol - s) > n && s[n] == ':' && strncasecmp(s, name, n) == 0) {
            const char *v = s + n + 1;
            while (v < eol && (*v == ' ' || *v == '\t'))
                v++;
            while (eol > v && (eol[-1] == '\r' || eol[-1] == ' ' || eol[-1] == '\t'))
                eol--;
            if (len != NULL)
                *len = (size_t)(eol - v);
            return v;
        }
        s = next;
    }
    return NULL;
}
