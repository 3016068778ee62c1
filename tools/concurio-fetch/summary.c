/* SPDX-License-Identifier: Apache-2.0 */
/* Counts and a log-linear latency histogram: exact below 32 ms, then 16 buckets per
 * power of two. */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "summary.h"

static unsigned bucket(uint64_t v)
{
    if (v < 32)
        return (unsigned)v;
    unsigned e = 63u - (unsigned)__builtin_clzll(v); /* 5 and up */
    return 32u + (e - 5u) * 16u + (unsigned)((v >> (e - 4u)) & 15u);
}

/* The middle of a bucket's range. */
static uint64_t value_of(unsigned b)
{
    if (b < 32)
        return b;
    unsigned e = (b - 32u) / 16u + 5u, m = (b - 32u) % 16u;
    uint64_t low = (uint64_t)(16u + m) << (e - 4u);
    return low + ((uint64_t)1 << (e - 4u)) / 2;
}

uint64_t fetch_summary_bucket_ms(unsigned b)
{
    return value_of(b);
}

void fetch_summary_add(struct fetch_summary *s, enum fetch_outcome o, long http_status, int started,
                       uint64_t elapsed_ms)
{
    s->outcomes[o]++;
    s->classes[http_status >= 100 && http_status < 600 ? http_status / 100 : 0]++;
    if (!started)
        return;
    s->latencies++;
    s->hist[bucket(elapsed_ms)]++;
    if (elapsed_ms > s->max_ms)
        s->max_ms = elapsed_ms;
}

void fetch_url_host(const char *url, char *out, size_t len)
{
    const char *p = url != NULL ? strstr(url, "://") : NULL;
    size_t n = 0;

    out[0] = '\0';
    if (p == NULL || len == 0)
        return;
    p += 3;
    size_t auth = strcspn(p, "/?#");
    for (size_t i = 0; i < auth; i++) /* the userinfo ends at the last '@' */
        if (p[i] == '@') {
            auth -= i + 1;
            p += i + 1;
            i = (size_t)-1;
        }
    for (; n < auth && n + 1 < len; n++)
        out[n] = p[n] >= 'A' && p[n] <= 'Z' ? (char)(p[n] - 'A' + 'a') : p[n];
    out[n] = '\0';
}

void fetch_summary_cause(struct fetch_summary *s, const struct fetch_record *r)
{
    int failed = r->outcome != FETCH_DONE;
    char host[sizeof s->hosts[0].name];

    s->bytes += r->bytes;
    if (r->outcome == FETCH_ERROR) {
        if (r->curl_code > 0 && r->curl_code < FETCH_CURL_CODES)
            s->err_curl[r->curl_code]++;
        else if (r->http_status >= 100 && r->http_status < 600)
            s->err_status[r->http_status]++;
        else if (r->attempts == 0)
            s->err_bad_line++;
        else
            s->err_other++;
    }
    fetch_url_host(r->url, host, sizeof host);
    if (host[0] == '\0' && r->attempts == 0)
        return; /* a line that is no URL */
    for (size_t i = 0; i < s->nhosts; i++)
        if (strcmp(s->hosts[i].name, host) == 0) {
            s->hosts[i].items++;
            s->hosts[i].failed += (uint64_t)failed;
            return;
        }
    if (s->nhosts == FETCH_HOSTS) {
        s->other_items++;
        s->other_failed += (uint64_t)failed;
        return;
    }
    struct fetch_host *h = &s->hosts[s->nhosts++];
    snprintf(h->name, sizeof h->name, "%s", host);
    h->items = 1;
    h->failed = (uint64_t)failed;
}

/* Calls fn for each error cause with a count, most frequent first, at most max. */
struct cause {
    char name[24];
    uint64_t n;
};

static size_t causes(const struct fetch_summary *s, struct cause *out, size_t max)
{
    size_t n = 0;

    for (int k = 0; k < 2 + FETCH_CURL_CODES + 600; k++) {
        uint64_t c = k == 0                     ? s->err_bad_line
                     : k == 1                   ? s->err_other
                     : k < 2 + FETCH_CURL_CODES ? s->err_curl[k - 2]
                                                : s->err_status[k - 2 - FETCH_CURL_CODES];
        if (c == 0)
            continue;
        struct cause x = {"", c};
        if (k == 0)
            snprintf(x.name, sizeof x.name, "bad line");
        else if (k == 1)
            snprintf(x.name, sizeof x.name, "other");
        else if (k < 2 + FETCH_CURL_CODES)
            snprintf(x.name, sizeof x.name, "curl %d", k - 2);
        else
            snprintf(x.name, sizeof x.name, "HTTP %d", k - 2 - FETCH_CURL_CODES);
        size_t at = n < max ? n++ : max; /* insertion into the top max */
        while (at > 0 && out[at - 1].n < c) {
            if (at < max)
                out[at] = out[at - 1];
            at--;
        }
        if (at < max)
            out[at] = x;
    }
    return n;
}

char *fetch_summary_json(const struct fetch_summary *s, uint64_t run_ms)
{
    uint64_t n = s->outcomes[0] + s->outcomes[1] + s->outcomes[2];
    cJSON *o = cJSON_CreateObject(), *st, *lat, *err, *hosts;
    static const char *const classes[] = {"none", "1xx", "2xx", "3xx", "4xx", "5xx"};
    struct cause top[FETCH_CURL_CODES + 602];
    char *text = NULL;

    if (o == NULL)
        return NULL;
    cJSON_AddNumberToObject(o, "items", (double)n);
    cJSON_AddNumberToObject(o, "seconds", (double)run_ms / 1000.0);
    cJSON_AddNumberToObject(o, "per_second", run_ms > 0 ? (double)n * 1000.0 / (double)run_ms : 0);
    cJSON_AddNumberToObject(o, "done", (double)s->outcomes[FETCH_DONE]);
    cJSON_AddNumberToObject(o, "error", (double)s->outcomes[FETCH_ERROR]);
    cJSON_AddNumberToObject(o, "timeout", (double)s->outcomes[FETCH_TIMEOUT]);
    if ((st = cJSON_AddObjectToObject(o, "http_status")) != NULL)
        for (int i = 1; i <= 6; i++)
            cJSON_AddNumberToObject(st, classes[i % 6], (double)s->classes[i % 6]);
    if ((lat = cJSON_AddObjectToObject(o, "latency_ms")) != NULL) {
        cJSON_AddNumberToObject(lat, "p50", (double)fetch_summary_quantile(s, 0.50));
        cJSON_AddNumberToObject(lat, "p90", (double)fetch_summary_quantile(s, 0.90));
        cJSON_AddNumberToObject(lat, "p99", (double)fetch_summary_quantile(s, 0.99));
        cJSON_AddNumberToObject(lat, "max", (double)s->max_ms);
    }
    size_t ncauses = causes(s, top, sizeof top / sizeof top[0]);
    if ((err = cJSON_AddObjectToObject(o, "errors")) != NULL)
        for (size_t i = 0; i < ncauses; i++)
            cJSON_AddNumberToObject(err, top[i].name, (double)top[i].n);
    if ((hosts = cJSON_AddObjectToObject(o, "hosts")) != NULL) {
        for (size_t i = 0; i < s->nhosts; i++) {
            cJSON *h = cJSON_AddObjectToObject(hosts, s->hosts[i].name);
            cJSON_AddNumberToObject(h, "items", (double)s->hosts[i].items);
            cJSON_AddNumberToObject(h, "failed", (double)s->hosts[i].failed);
        }
        if (s->other_items > 0) {
            cJSON *h = cJSON_AddObjectToObject(hosts, "(other hosts)");
            cJSON_AddNumberToObject(h, "items", (double)s->other_items);
            cJSON_AddNumberToObject(h, "failed", (double)s->other_failed);
        }
    }
    cJSON_AddNumberToObject(o, "duplicate_ids", (double)s->dup_ids);
    char *json = cJSON_PrintUnformatted(o);
    if (json != NULL && (text = malloc(strlen(json) + 2)) != NULL)
        snprintf(text, strlen(json) + 2, "%s\n", json);
    cJSON_free(json);
    cJSON_Delete(o);
    return text;
}

uint64_t fetch_summary_quantile(const struct fetch_summary *s, double p)
{
    if (s->latencies == 0)
        return 0;
    uint64_t rank = (uint64_t)(p * (double)s->latencies + 0.999999), seen = 0;
    if (rank == 0)
        rank = 1;
    if (rank >= s->latencies)
        return s->max_ms; /* the top is known exactly */
    for (unsigned b = 0; b < FETCH_HIST_BUCKETS; b++) {
        seen += s->hist[b];
        if (seen >= rank) {
            uint64_t v = value_of(b);
            return v < s->max_ms ? v : s->max_ms;
        }
    }
    return s->max_ms;
}

/* snprintf at buf + used (nothing when it is full); returns the length it wanted. */
__attribute__((format(printf, 4, 5))) static size_t append(char *buf, size_t len, size_t used,
                                                           const char *fmt, ...)
{
    va_list ap;

    va_start(ap, fmt);
    int n = vsnprintf(used < len ? buf + used : NULL, used < len ? len - used : 0, fmt, ap);
    va_end(ap);
    return n > 0 ? (size_t)n : 0;
}

int fetch_summary_format(const struct fetch_summary *s, uint64_t run_ms, char *buf, size_t len)
{
    uint64_t n = s->outcomes[0] + s->outcomes[1] + s->outcomes[2];
    double secs = (double)run_ms / 1000.0;
    double rate = run_ms > 0 ? (double)n / secs : 0.0;

    int n0 = snprintf(buf, len,
                      "%llu items in %.2f s (%.1f/s): done %llu, error %llu, timeout %llu\n"
                      "  HTTP status: 1xx %llu, 2xx %llu, 3xx %llu, 4xx %llu, 5xx %llu, "
                      "none %llu\n"
                      "  latency ms: p50 %llu, p90 %llu, p99 %llu, max %llu\n",
                      (unsigned long long)n, secs, rate, (unsigned long long)s->outcomes[0],
                      (unsigned long long)s->outcomes[1], (unsigned long long)s->outcomes[2],
                      (unsigned long long)s->classes[1], (unsigned long long)s->classes[2],
                      (unsigned long long)s->classes[3], (unsigned long long)s->classes[4],
                      (unsigned long long)s->classes[5], (unsigned long long)s->classes[0],
                      (unsigned long long)fetch_summary_quantile(s, 0.50),
                      (unsigned long long)fetch_summary_quantile(s, 0.90),
                      (unsigned long long)fetch_summary_quantile(s, 0.99),
                      (unsigned long long)s->max_ms);
    if (n0 < 0)
        return n0;
    size_t total = (size_t)n0;
    struct cause top[6];
    size_t ncauses = causes(s, top, 6);
    for (size_t i = 0; i < ncauses && i < 6; i++) /* errors by cause, the most first */
        total += append(buf, len, total, "%s%s %llu%s", i == 0 ? "  errors: " : ", ", top[i].name,
                        (unsigned long long)top[i].n, i + 1 == ncauses || i == 5 ? "\n" : "");
    if (s->nhosts > 1) { /* by host, those that failed first */
        for (size_t i = 0, shown = 0; i < s->nhosts && shown < 8; i++) {
            const struct fetch_host *h = &s->hosts[i];
            total +=
                append(buf, len, total, "%s%s %llu/%llu failed", shown == 0 ? "  hosts: " : ", ",
                       h->name, (unsigned long long)h->failed, (unsigned long long)h->items);
            shown++;
        }
        if (s->nhosts > 8 || s->other_items > 0)
            total += append(buf, len, total, ", and more");
        total += append(buf, len, total, "\n");
    }
    if (s->dup_ids > 0)
        total += append(buf, len, total,
                        "  duplicate ids: %llu (the first: line %llu has the id of line %llu)\n",
                        (unsigned long long)s->dup_ids, (unsigned long long)s->dup_line,
                        (unsigned long long)s->dup_first);
    return (int)total;
}
