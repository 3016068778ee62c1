/* SPDX-License-Identifier: Apache-2.0 */
/* concurio-testserver: a small evhttp server on loopback for the tests and the demo.
 *
 *   /ok              200 "ok"
 *   /bytes/N         200 with N bytes
 *   /delay/MS        200 "ok" after MS milliseconds
 *   /status/CODE     that status; ?retry_after=S adds "Retry-After: S",
 *                    ?retry_after_date=S a Retry-After HTTP date S seconds ahead,
 *                    ?ratelimit_remaining=N&ratelimit_reset=S RateLimit-* headers,
 *                    ?h=Name:value that header (repeatable)
 *   /flaky/KEY/N     fails the first N requests for KEY (?status=503 by default, and
 *                    the Retry-After options of /status), then answers 200 "ok";
 *                    ?delay=MS answers each after MS milliseconds
 *   /echo            method, URI, headers and body back as JSON
 *   /gzip/N          N zero bytes, gzip-encoded (Content-Encoding: gzip): ~160:1, a bomb
 *   /limited/RPS     200, or 429 when more than RPS requests came in the last second;
 *                    ?headers=1 adds RateLimit-Remaining and RateLimit-Reset (seconds
 *                    until the oldest of the last second's requests leaves it)
 *   /redirect?to=URL 302 to URL
 *   /drop            starts a chunked body, then closes the connection mid-response
 *   /trickle/MS      one byte every MS milliseconds (?n=COUNT, default 20)
 *   /stats           {"requests","in_flight","max_in_flight","starts_ms":[...],
 *                    "hosts":{"HOST:PORT":{"requests","max_in_flight"}}} (by Host header)
 *   /stats/reset     zeroes the statistics
 *
 * Usage: concurio-testserver [--port N] [--bind ADDR] [--quiet]
 * It prints "listening on http://ADDR:PORT" once ready; port 0 picks a free port. */
#define _POSIX_C_SOURCE 200809L
#include <arpa/inet.h>
#include <inttypes.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>

#include <cjson/cJSON.h>
#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/event.h>
#include <event2/http.h>
#include <event2/keyvalq_struct.h>

#define MAX_STARTS 200000

static struct {
    struct event_base *base;
    uint64_t t0;
    long requests, in_flight, max_in_flight;
    uint64_t *starts;
    size_t nstarts;
} S;

static uint64_t now_ms(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
}

/* Requests by Host header, for per-host caps seen from the server's side. */
#define MAX_HOSTS 16
static struct {
    char name[64];
    long requests, in_flight, max_in_flight;
} hosts[MAX_HOSTS];

static int host_slot(struct evhttp_request *req)
{
    const char *h = evhttp_find_header(evhttp_request_get_input_headers(req), "Host");

    if (h == NULL || strlen(h) >= sizeof hosts[0].name)
        return -1;
    for (int i = 0; i < MAX_HOSTS; i++) {
        if (hosts[i].name[0] == '\0')
            snprintf(hosts[i].name, sizeof hosts[i].name, "%s", h);
        if (strcmp(hosts[i].name, h) == 0)
            return i;
    }
    return -1;
}

/* delta +1 when a request arrives (counted: a request of the tests, not /stats), -1
 * just before its reply goes out. */
static void track(struct evhttp_request *req, int delta, int counted)
{
    int h = host_slot(req);

    S.in_flight += delta;
    if (h >= 0)
        hosts[h].in_flight += delta;
    if (delta < 0 || !counted)
        return;
    S.requests++;
    if (S.in_flight > S.max_in_flight)
        S.max_in_flight = S.in_flight;
    if (S.nstarts < MAX_STARTS)
        S.starts[S.nstarts++] = now_ms() - S.t0;
    if (h >= 0 && ++hosts[h].requests > 0 && hosts[h].in_flight > hosts[h].max_in_flight)
        hosts[h].max_in_flight = hosts[h].in_flight;
}

static void reply(struct evhttp_request *req, int code, const char *type, const void *data,
                  size_t len)
{
    struct evbuffer *b = evbuffer_new();

    if (type != NULL)
        evhttp_add_header(evhttp_request_get_output_headers(req), "Content-Type", type);
    if (b != NULL && len > 0)
        evbuffer_add(b, data, len);
    track(req, -1, 0);
    evhttp_send_reply(req, code, NULL, b);
    if (b != NULL)
        evbuffer_free(b);
}

/* The number after `prefix` in the path, or -1. */
static long path_number(const char *path, const char *prefix)
{
    size_t n = strlen(prefix);
    char *end;

    if (strncmp(path, prefix, n) != 0 || path[n] < '0' || path[n] > '9')
        return -1;
    long v = strtol(path + n, &end, 10);
    return *end == '\0' ? v : -1;
}

static long query_number(struct evhttp_request *req, const char *key, long dflt)
{
    struct evkeyvalq q;
    const char *query = evhttp_uri_get_query(evhttp_request_get_evhttp_uri(req));
    long v = dflt;

    if (query == NULL || evhttp_parse_query_str(query, &q) != 0)
        return dflt;
    const char *s = evhttp_find_header(&q, key);
    if (s != NULL)
        v = strtol(s, NULL, 10);
    evhttp_clear_headers(&q);
    return v;
}

/* Every ?h=Name:value of the query as a response header (repeatable). */
static void add_query_headers(struct evhttp_request *req)
{
    struct evkeyvalq q;
    const char *query = evhttp_uri_get_query(evhttp_request_get_evhttp_uri(req));

    if (query == NULL || evhttp_parse_query_str(query, &q) != 0)
        return;
    for (struct evkeyval *kv = q.tqh_first; kv != NULL; kv = kv->next.tqe_next) {
        char *colon = strcmp(kv->key, "h") == 0 ? strchr(kv->value, ':') : NULL;
        if (colon == NULL)
            continue;
        *colon = '\0';
        evhttp_add_header(evhttp_request_get_output_headers(req), kv->value, colon + 1);
    }
    evhttp_clear_headers(&q);
}

static void add_retry_after(struct evhttp_request *req)
{
    struct evkeyvalq *out = evhttp_request_get_output_headers(req);
    long remaining = query_number(req, "ratelimit_remaining", -1);
    long reset = query_number(req, "ratelimit_reset", -1);
    long ra = query_number(req, "retry_after", -1);
    char rv[32];

    if (remaining >= 0 && reset >= 0) {
        snprintf(rv, sizeof rv, "%ld", remaining);
        evhttp_add_header(out, "RateLimit-Remaining", rv);
        snprintf(rv, sizeof rv, "%ld", reset);
        evhttp_add_header(out, "RateLimit-Reset", rv);
    }
    long rad = query_number(req, "retry_after_date", -1);
    char v[64];

    if (ra >= 0) {
        snprintf(v, sizeof v, "%ld", ra);
        evhttp_add_header(out, "Retry-After", v);
    } else if (rad >= 0) {
        time_t at = time(NULL) + rad;
        struct tm tm;
        gmtime_r(&at, &tm);
        strftime(v, sizeof v, "%a, %d %b %Y %H:%M:%S GMT", &tm);
        evhttp_add_header(out, "Retry-After", v);
    }
}

/* /limited/RPS: arrival times of the last second's requests, in a ring. */
static uint64_t limited_at[4096];
static size_t limited_head, limited_len;
static long limited_rejected;

static void do_limited(struct evhttp_request *req, long rps)
{
    uint64_t now = now_ms();

    while (limited_len > 0 && limited_at[limited_head] + 1000 <= now) {
        limited_head = (limited_head + 1) % 4096;
        limited_len--;
    }
    if (limited_len < 4096) {
        limited_at[(limited_head + limited_len) % 4096] = now;
        limited_len++;
    }
    if (query_number(req, "headers", 0) == 1) {
        struct evkeyvalq *out = evhttp_request_get_output_headers(req);
        long left = rps - (long)limited_len;
        uint64_t leaves = limited_at[limited_head] + 1000 - now;
        char v[32];
        snprintf(v, sizeof v, "%ld", left > 0 ? left : 0);
        evhttp_add_header(out, "RateLimit-Remaining", v);
        snprintf(v, sizeof v, "%llu", (unsigned long long)((leaves + 999) / 1000));
        evhttp_add_header(out, "RateLimit-Reset", v);
    }
    if ((long)limited_len > rps) {
        limited_rejected++;
        reply(req, 429, "text/plain", "slow down", 9);
    } else
        reply(req, 200, "text/plain", "ok", 2);
}

static void do_bytes(struct evhttp_request *req, long n)
{
    struct evbuffer *b = evbuffer_new();
    char chunk[4096];

    memset(chunk, 'x', sizeof chunk);
    for (long left = n; b != NULL && left > 0; left -= (long)sizeof chunk)
        evbuffer_add(b, chunk, left < (long)sizeof chunk ? (size_t)left : sizeof chunk);
    evhttp_add_header(evhttp_request_get_output_headers(req), "Content-Type",
                      "application/octet-stream");
    track(req, -1, 0);
    evhttp_send_reply(req, 200, "OK", b);
    if (b != NULL)
        evbuffer_free(b);
}

/* A reply due later. Pending ones are listed so a stop can release them. */
/* ---- /gzip/N: a deflate stream of zeros written by hand (fixed Huffman codes) ---- */

struct bits {
    struct evbuffer *out;
    uint32_t acc;
    int n;
};

static void put_bits(struct bits *b, uint32_t v, int n)
{
    b->acc |= v << b->n;
    b->n += n;
    while (b->n >= 8) {
        unsigned char c = (unsigned char)(b->acc & 0xff);
        evbuffer_add(b->out, &c, 1);
        b->acc >>= 8;
        b->n -= 8;
    }
}

/* Huffman codes go out most significant bit first. */
static void put_code(struct bits *b, uint32_t code, int n)
{
    uint32_t r = 0;

    for (int i = 0; i < n; i++)
        r |= ((code >> i) & 1u) << (n - 1 - i);
    put_bits(b, r, n);
}

static uint32_t crc32_zeros(uint64_t n)
{
    uint32_t crc = 0xffffffffu;

    for (uint64_t i = 0; i < n; i++) {
        crc ^= 0;
        for (int k = 0; k < 8; k++)
            crc = (crc >> 1) ^ (0xedb88320u & (0u - (crc & 1u)));
    }
    return ~crc;
}

static void do_gzip(struct evhttp_request *req, long n)
{
    static const unsigned char header[10] = {0x1f, 0x8b, 8, 0, 0, 0, 0, 0, 0, 3};
    struct evbuffer *out = evbuffer_new();
    struct bits b = {.out = out};
    long left = n;

    evbuffer_add(out, header, sizeof header);
    put_bits(&b, 1, 1); /* BFINAL */
    put_bits(&b, 1, 2); /* BTYPE 01: fixed Huffman codes */
    if (left > 0) {
        put_code(&b, 0x30, 8); /* literal 0 */
        left--;
    }
    for (; left >= 258; left -= 258) {
        put_code(&b, 0xc5, 8); /* length 258 (code 285) */
        put_code(&b, 0, 5);    /* distance 1 */
    }
    for (; left > 0; left--)
        put_code(&b, 0x30, 8);
    put_code(&b, 0, 7);                                            /* end of block (256) */
    put_bits(&b, 0, 7);                                            /* pad to a byte */
    uint32_t trailer[2] = {crc32_zeros((uint64_t)n), (uint32_t)n}; /* little endian */
    evbuffer_add(out, trailer, sizeof trailer);
    evhttp_add_header(evhttp_request_get_output_headers(req), "Content-Encoding", "gzip");
    evhttp_add_header(evhttp_request_get_output_headers(req), "Content-Type",
                      "application/octet-stream");
    track(req, -1, 0);
    evhttp_send_reply(req, 200, "OK", out);
    evbuffer_free(out);
}

struct later {
    struct later *next, *prev;
    struct evhttp_request *req;
    struct event *ev;
    long left, every_ms;
    int status; /* flaky_fire's answer */
};

static struct later *pending;

static void later_free(struct later *l)
{
    if (l->prev != NULL)
        l->prev->next = l->next;
    else
        pending = l->next;
    if (l->next != NULL)
        l->next->prev = l->prev;
    event_free(l->ev);
    free(l);
}

static void delay_fire(evutil_socket_t fd, short what, void *arg)
{
    struct later *l = arg;

    (void)fd;
    (void)what;
    reply(l->req, 200, "text/plain", "ok", 2);
    later_free(l);
}

static void flaky_fire(evutil_socket_t fd, short what, void *arg)
{
    struct later *l = arg;

    (void)fd;
    (void)what;
    if (l->status == 200)
        reply(l->req, 200, "text/plain", "ok", 2);
    else
        reply(l->req, l->status, "text/plain", "flaky", 5);
    later_free(l);
}

static void trickle_fire(evutil_socket_t fd, short what, void *arg)
{
    struct later *l = arg;

    (void)fd;
    (void)what;
    /* A client that went away leaves the request without a connection: end it. */
    if (l->left > 0 && evhttp_request_get_connection(l->req) != NULL) {
        struct evbuffer *b = evbuffer_new();
        evbuffer_add(b, "x", 1);
        evhttp_send_reply_chunk(l->req, b);
        evbuffer_free(b);
        l->left--;
        struct timeval tv = {l->every_ms / 1000, (l->every_ms % 1000) * 1000};
        evtimer_add(l->ev, &tv);
        return;
    }
    track(l->req, -1, 0);
    evhttp_send_reply_end(l->req);
    later_free(l);
}

static struct later *schedule(struct evhttp_request *req, long ms, long count, event_callback_fn fn)
{
    struct later *l = calloc(1, sizeof *l);
    struct timeval tv = {ms / 1000, (ms % 1000) * 1000};

    if (l == NULL) {
        reply(req, 500, NULL, NULL, 0);
        return NULL;
    }
    l->req = req;
    l->left = count;
    l->every_ms = ms;
    l->ev = evtimer_new(S.base, fn, l);
    l->next = pending;
    if (pending != NULL)
        pending->prev = l;
    pending = l;
    evtimer_add(l->ev, &tv);
    return l;
}

/* /flaky/KEY/N: per-key failure counters, a small fixed table. */
#define MAX_FLAKY 256
static struct {
    char key[64];
    long seen;
} flaky[MAX_FLAKY];

static void do_flaky(struct evhttp_request *req, const char *rest)
{
    const char *slash = strrchr(rest, '/');
    char *end;

    if (slash == NULL || slash == rest || (size_t)(slash - rest) >= sizeof flaky[0].key) {
        reply(req, 400, "text/plain", "/flaky/KEY/N", 12);
        return;
    }
    long n = strtol(slash + 1, &end, 10);
    size_t klen = (size_t)(slash - rest);
    int i = 0;
    while (i < MAX_FLAKY && flaky[i].key[0] != '\0' &&
           !(strlen(flaky[i].key) == klen && memcmp(flaky[i].key, rest, klen) == 0))
        i++;
    if (*end != '\0' || i == MAX_FLAKY) {
        reply(req, 400, "text/plain", "bad key or count", 16);
        return;
    }
    memcpy(flaky[i].key, rest, klen);
    flaky[i].key[klen] = '\0';
    int status = 200;
    if (flaky[i].seen++ < n) {
        long asked = query_number(req, "status", 503);
        add_retry_after(req);
        status = asked >= 100 && asked <= 999 ? (int)asked : 503;
    }
    long delay = query_number(req, "delay", 0);
    if (delay > 0) {
        struct later *l = schedule(req, delay, 0, flaky_fire);
        if (l != NULL)
            l->status = status;
    } else if (status == 200) {
        reply(req, 200, "text/plain", "ok", 2);
    } else {
        reply(req, status, "text/plain", "flaky", 5);
    }
}

static void do_echo(struct evhttp_request *req)
{
    static const char *const methods[] = {"GET",     "POST",  "HEAD",    "PUT",  "DELETE",
                                          "OPTIONS", "TRACE", "CONNECT", "PATCH"};
    enum evhttp_cmd_type cmd = evhttp_request_get_command(req);
    const char *method = "OTHER";
    struct evbuffer *in = evhttp_request_get_input_buffer(req);
    size_t len = evbuffer_get_length(in);
    char *body = malloc(len + 1);
    cJSON *o = cJSON_CreateObject(), *h = cJSON_CreateObject();

    for (unsigned i = 0; i < sizeof methods / sizeof methods[0]; i++)
        if (cmd == (enum evhttp_cmd_type)(1 << i))
            method = methods[i];
    if (body != NULL) {
        evbuffer_copyout(in, body, len);
        body[len] = '\0';
    }
    for (struct evkeyval *kv = evhttp_request_get_input_headers(req)->tqh_first; kv != NULL;
         kv = kv->next.tqe_next)
        cJSON_AddStringToObject(h, kv->key, kv->value);
    cJSON_AddStringToObject(o, "method", method);
    cJSON_AddStringToObject(o, "uri", evhttp_request_get_uri(req));
    cJSON_AddItemToObject(o, "headers", h);
    cJSON_AddStringToObject(o, "body", body != NULL ? body : "");
    char *text = cJSON_PrintUnformatted(o);
    reply(req, 200, "application/json", text, text != NULL ? strlen(text) : 0);
    free(text);
    free(body);
    cJSON_Delete(o);
}

static void do_redirect(struct evhttp_request *req)
{
    struct evkeyvalq q;
    const char *query = evhttp_uri_get_query(evhttp_request_get_evhttp_uri(req));

    if (query == NULL || evhttp_parse_query_str(query, &q) != 0) {
        reply(req, 400, "text/plain", "to=URL", 6);
        return;
    }
    const char *to = evhttp_find_header(&q, "to");
    if (to != NULL)
        evhttp_add_header(evhttp_request_get_output_headers(req), "Location", to);
    reply(req, to != NULL ? 302 : 400, "text/plain", "", 0);
    evhttp_clear_headers(&q);
}

static void do_drop(struct evhttp_request *req)
{
    struct evhttp_connection *c = evhttp_request_get_connection(req);
    struct bufferevent *bev = evhttp_connection_get_bufferevent(c);
    evutil_socket_t fd = bufferevent_getfd(bev);
    struct evbuffer *b = evbuffer_new();

    evhttp_send_reply_start(req, 200, "OK");
    evbuffer_add(b, "partial", 7);
    evhttp_send_reply_chunk(req, b);
    evbuffer_free(b);
    /* Write the status line, headers and first chunk now, then cut the connection:
     * the client sees the body end before its last chunk. Ending the reply then lets
     * libevent fail the write and free the connection with the request. */
    evbuffer_write(bufferevent_get_output(bev), fd);
    shutdown(fd, SHUT_RDWR);
    track(req, -1, 0);
    evhttp_send_reply_end(req);
}

static void do_stats(struct evhttp_request *req)
{
    cJSON *o = cJSON_CreateObject(), *a = cJSON_CreateArray();

    cJSON_AddNumberToObject(o, "requests", (double)S.requests);
    cJSON_AddNumberToObject(o, "in_flight", (double)(S.in_flight - 1));
    cJSON_AddNumberToObject(o, "max_in_flight", (double)S.max_in_flight);
    cJSON_AddNumberToObject(o, "limited_rejected", (double)limited_rejected);
    for (size_t i = 0; i < S.nstarts; i++)
        cJSON_AddItemToArray(a, cJSON_CreateNumber((double)S.starts[i]));
    cJSON_AddItemToObject(o, "starts_ms", a);
    cJSON *hs = cJSON_CreateObject();
    for (int i = 0; i < MAX_HOSTS && hosts[i].name[0] != '\0'; i++) {
        cJSON *h = cJSON_CreateObject();
        cJSON_AddNumberToObject(h, "requests", (double)hosts[i].requests);
        cJSON_AddNumberToObject(h, "max_in_flight", (double)hosts[i].max_in_flight);
        cJSON_AddItemToObject(hs, hosts[i].name, h);
    }
    cJSON_AddItemToObject(o, "hosts", hs);
    char *text = cJSON_PrintUnformatted(o);
    reply(req, 200, "application/json", text, text != NULL ? strlen(text) : 0);
    free(text);
    cJSON_Delete(o);
}

static void route(struct evhttp_request *req, void *arg)
{
    const char *path = evhttp_uri_get_path(evhttp_request_get_evhttp_uri(req));
    long n;

    (void)arg;
    if (path == NULL)
        path = "/";
    if (strcmp(path, "/stats") == 0) {
        track(req, +1, 0); /* not counted as a request of the tests */
        do_stats(req);
        return;
    }
    if (strcmp(path, "/stats/reset") == 0) {
        S.requests = S.max_in_flight = 0;
        S.nstarts = 0;
        S.t0 = now_ms();
        memset(hosts, 0, sizeof hosts);
        limited_rejected = 0;
        limited_len = 0;
        track(req, +1, 0);
        reply(req, 200, "text/plain", "ok", 2);
        return;
    }
    track(req, +1, 1);
    if (strcmp(path, "/ok") == 0 || strcmp(path, "/") == 0)
        reply(req, 200, "text/plain", "ok", 2);
    else if ((n = path_number(path, "/bytes/")) >= 0)
        do_bytes(req, n);
    else if ((n = path_number(path, "/gzip/")) >= 0)
        do_gzip(req, n);
    else if ((n = path_number(path, "/delay/")) >= 0)
        schedule(req, n, 0, delay_fire);
    else if ((n = path_number(path, "/trickle/")) >= 0) {
        evhttp_send_reply_start(req, 200, "OK");
        schedule(req, n, query_number(req, "n", 20), trickle_fire);
    } else if ((n = path_number(path, "/status/")) >= 100 && n <= 999) {
        char v[32];
        add_retry_after(req);
        add_query_headers(req);
        snprintf(v, sizeof v, "status %ld", n);
        reply(req, (int)n, "text/plain", v, strlen(v));
    } else if ((n = path_number(path, "/limited/")) >= 0)
        do_limited(req, n);
    else if (strncmp(path, "/flaky/", 7) == 0)
        do_flaky(req, path + 7);
    else if (strcmp(path, "/redirect") == 0)
        do_redirect(req);
    else if (strcmp(path, "/echo") == 0)
        do_echo(req);
    else if (strcmp(path, "/drop") == 0)
        do_drop(req);
    else
        reply(req, 404, "text/plain", "not found", 9);
}

static void on_signal(evutil_socket_t fd, short what, void *arg)
{
    (void)fd;
    (void)what;
    event_base_loopbreak(arg);
}

/* Loopback, or TEST-NET-1 (192.0.2.0/24, RFC 5737: no network routes it), which only the
 * network-namespace tests use, on a veth pair between two namespaces of their own. */
static int is_allowed(const char *addr)
{
    struct in_addr a4;
    struct in6_addr a6;

    if (inet_pton(AF_INET, addr, &a4) == 1)
        return (ntohl(a4.s_addr) >> 24) == 127 || (ntohl(a4.s_addr) >> 8) == 0xc00002;
    return inet_pton(AF_INET6, addr, &a6) == 1 && IN6_IS_ADDR_LOOPBACK(&a6);
}

int main(int argc, char **argv)
{
    const char *bind = "127.0.0.1";
    long port = 0;
    int quiet = 0;

    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--port") == 0 && i + 1 < argc)
            port = strtol(argv[++i], NULL, 10);
        else if (strcmp(argv[i], "--bind") == 0 && i + 1 < argc)
            bind = argv[++i];
        else if (strcmp(argv[i], "--quiet") == 0)
            quiet = 1;
        else {
            fprintf(stderr, "usage: %s [--port N] [--bind LOOPBACK-ADDR] [--quiet]\n", argv[0]);
            return 2;
        }
    }
    if (!is_allowed(bind) || port < 0 || port > 65535) {
        fprintf(stderr, "concurio-testserver: serves loopback (and 192.0.2.0/24) only\n");
        return 2;
    }
    signal(SIGPIPE, SIG_IGN);
    S.starts = calloc(MAX_STARTS, sizeof *S.starts);
    S.base = event_base_new();
    S.t0 = now_ms();
    struct evhttp *http = evhttp_new(S.base);
    if (S.starts == NULL || S.base == NULL || http == NULL)
        return 1;
    evhttp_set_allowed_methods(http, EVHTTP_REQ_GET | EVHTTP_REQ_POST | EVHTTP_REQ_HEAD |
                                         EVHTTP_REQ_PUT | EVHTTP_REQ_DELETE | EVHTTP_REQ_OPTIONS |
                                         EVHTTP_REQ_PATCH);
    evhttp_set_gencb(http, route, NULL);
    struct evhttp_bound_socket *sock =
        evhttp_bind_socket_with_handle(http, bind, (ev_uint16_t)port);
    if (sock == NULL) {
        fprintf(stderr, "concurio-testserver: cannot bind %s:%ld\n", bind, port);
        return 1;
    }
    /* libevent listens with a backlog of 128: 256 clients connecting at once overflowed
     * it, and each SYN dropped cost its client a second (TcpExtListenOverflows). Linux
     * takes a second listen() as the new backlog (capped at net.core.somaxconn). */
    listen(evhttp_bound_socket_get_fd(sock), 4096);
    /* Signals first: whoever reads the "listening" line may stop us at once. */
    struct event *sigint = evsignal_new(S.base, SIGINT, on_signal, S.base);
    struct event *sigterm = evsignal_new(S.base, SIGTERM, on_signal, S.base);
    evsignal_add(sigint, NULL);
    evsignal_add(sigterm, NULL);
    struct sockaddr_storage ss;
    socklen_t sl = sizeof ss;
    getsockname(evhttp_bound_socket_get_fd(sock), (struct sockaddr *)&ss, &sl);
    unsigned bound = ntohs(ss.ss_family == AF_INET6 ? ((struct sockaddr_in6 *)&ss)->sin6_port
                                                    : ((struct sockaddr_in *)&ss)->sin_port);
    int v6 = strchr(bind, ':') != NULL;
    printf("listening on http://%s%s%s:%u\n", v6 ? "[" : "", bind, v6 ? "]" : "", bound);
    fflush(stdout);

    event_base_dispatch(S.base);
    if (!quiet)
        fprintf(stderr, "concurio-testserver: %ld requests served\n", S.requests);
    /* Replies still due: those whose client left are ours to free (a reply frees a
     * request without a connection); evhttp_free takes the rest with their connection. */
    while (pending != NULL) {
        if (evhttp_request_get_connection(pending->req) == NULL)
            evhttp_send_reply_end(pending->req);
        later_free(pending);
    }
    event_free(sigint);
    event_free(sigterm);
    evhttp_free(http);
    event_base_free(S.base);
    free(S.starts);
    return 0;
}
