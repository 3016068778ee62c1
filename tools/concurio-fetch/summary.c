/* SPDX-License-Identifier: Apache-2.0 */
/* Counts and a log-linear latency histogram: exact below 32 ms, then 16 buckets per
 * power of two. */
#include <stdio.h>

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
    if (n0 < 0 || s->dup_ids == 0)
        return n0;
    size_t used = (size_t)n0 < len ? (size_t)n0 : len;
    int n1 = snprintf(buf + used, len - used,
                      "  duplicate ids: %llu (the first: line %llu has the id of line %llu)\n",
                      (unsigned long long)s->dup_ids, (unsigned long long)s->dup_line,
                      (unsigned long long)s->dup_first);
    return n1 < 0 ? n1 : n0 + n1;
}
