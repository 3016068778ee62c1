/* SPDX-License-Identifier: Apache-2.0 */
/* --report's one pass: each record's fields through format.c's scanner (a records file
 * may hold anything), into fixed tables. */
#include <stdlib.h>
#include <string.h>

#include "format.h"
#include "report.h"
#include "urllist.h"

enum { F_STARTED, F_ELAPSED, F_OUTCOME, F_STATUS, F_URL, F_CURL, F_ATTEMPTS, F_BYTES, NF };

int fetch_report_init(struct fetch_report *r)
{
    memset(r, 0, sizeof *r);
    r->width_ms = 1000;
    r->rng = 0x9E3779B97F4A7C15ull;
    if (fetch_format_kind("tsv", &r->fmt) != 0 ||
        fetch_format_fields("started_at,elapsed_ms,outcome,http_status,url,curl_code,attempts,"
                            "bytes",
                            &r->fmt, NULL, 0) != 0)
        return -1;
    return 0;
}

void fetch_report_free(struct fetch_report *r)
{
    fetch_format_free(&r->fmt);
    fetch_buf_free(&r->buf);
}

static int64_t days_from_civil(int64_t y, unsigned m, unsigned d)
{
    y -= m <= 2;
    int64_t era = (y >= 0 ? y : y - 399) / 400;
    unsigned yoe = (unsigned)(y - era * 400);
    unsigned doy = (153 * (m > 2 ? m - 3 : m + 9) + 2) / 5 + d - 1;
    unsigned doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    return era * 146097 + (int64_t)doe - 719468;
}

static int digits(const char *s, size_t n, unsigned *out)
{
    unsigned v = 0;

    for (size_t i = 0; i < n; i++) {
        if (s[i] < '0' || s[i] > '9')
            return -1;
        v = v * 10 + (unsigned)(s[i] - '0');
    }
    *out = v;
    return 0;
}

int fetch_report_time(const char *s, size_t len, int64_t *ms)
{
    unsigned y, mo, d, h, mi, sec, frac;

    if (len != 24 || s[4] != '-' || s[7] != '-' || s[10] != 'T' || s[13] != ':' || s[16] != ':' ||
        s[19] != '.' || s[23] != 'Z' || digits(s, 4, &y) || digits(s + 5, 2, &mo) ||
        digits(s + 8, 2, &d) || digits(s + 11, 2, &h) || digits(s + 14, 2, &mi) ||
        digits(s + 17, 2, &sec) || digits(s + 20, 3, &frac) || mo < 1 || mo > 12 || d < 1 ||
        d > 31 || h > 23 || mi > 59 || sec > 60)
        return -1;
    int64_t days = days_from_civil(y, mo, d);
    *ms = ((days * 24 + h) * 60 + mi) * 60000 + (int64_t)sec * 1000 + frac;
    return 0;
}

/* ---- time bins ----------------------------------------------------------------------- */

/* Twice as wide: pairs of bins become one (the origin stays on the wider grid). */
static void widen(struct fetch_report *r)
{
    int64_t w2 = (int64_t)r->width_ms * 2;
    int64_t origin = r->origin_ms - (((r->origin_ms % w2) + w2) % w2);
    size_t off = (size_t)((r->origin_ms - origin) / (int64_t)r->width_ms); /* 0 or 1 */
    struct fetch_report_bin *b = r->bins;
    size_t n = (r->nbins + off + 1) / 2;

    for (size_t i = 0; i < n; i++) {
        struct fetch_report_bin sum = {0};
        for (size_t k = 0; k < 2; k++) {
            size_t j = 2 * i + k;
            if (j < off || j - off >= r->nbins)
                continue;
            const struct fetch_report_bin *x = &b[j - off];
            sum.starts += x->starts;
            for (size_t q = 0; q < 3; q++)
                sum.outcomes[q] += x->outcomes[q];
            for (size_t q = 0; q < 6; q++)
                sum.classes[q] += x->classes[q];
            for (size_t q = 0; q < FETCH_REPORT_LAT; q++)
                sum.lat[q] += x->lat[q];
        }
        b[i] = sum;
    }
    memset(b + n, 0, (FETCH_REPORT_BINS - n) * sizeof *b);
    r->origin_ms = origin;
    r->width_ms = (uint64_t)w2;
    r->nbins = n;
}

/* The bin of time t, made room for; never NULL. */
static struct fetch_report_bin *bin_at(struct fetch_report *r, int64_t t)
{
    int64_t w = (int64_t)r->width_ms;

    if (r->nbins == 0) {
        r->origin_ms = t - (((t % w) + w) % w);
        r->nbins = 1;
    }
    for (;;) {
        w = (int64_t)r->width_ms;
        if (t < r->origin_ms) { /* before the first: move the bins up, with room to spare */
            size_t k = (size_t)((r->origin_ms - t + w - 1) / w) + FETCH_REPORT_BINS / 16;
            if (r->nbins + k <= FETCH_REPORT_BINS) {
                memmove(r->bins + k, r->bins, r->nbins * sizeof r->bins[0]);
                memset(r->bins, 0, k * sizeof r->bins[0]);
                r->nbins += k;
                r->origin_ms -= (int64_t)k * w;
                continue;
            }
            widen(r);
            continue;
        }
        uint64_t i = (uint64_t)(t - r->origin_ms) / (uint64_t)w;
        if (i < FETCH_REPORT_BINS) {
            if (i >= r->nbins)
                r->nbins = (size_t)i + 1;
            return &r->bins[i];
        }
        widen(r);
    }
}

static unsigned band(uint64_t ms)
{
    unsigned b = 0;

    while (ms > 0 && b + 1 < FETCH_REPORT_LAT) {
        ms >>= 1;
        b++;
    }
    return b; /* 0: < 1 ms, 1: 1 ms, 2: 2-3, 3: 4-7, ... */
}

/* ---- records ------------------------------------------------------------------------- */

static struct fetch_report_host *host_of(struct fetch_report *r, const char *url)
{
    char name[64];

    fetch_url_host(url, name, sizeof name);
    for (size_t i = 0; i < r->nhosts; i++)
        if (strcmp(r->hosts[i].name, name) == 0)
            return &r->hosts[i];
    if (r->nhosts == FETCH_HOSTS)
        return NULL;
    struct fetch_report_host *h = &r->hosts[r->nhosts++];
    memcpy(h->name, name, sizeof name);
    return h;
}

static void sample(struct fetch_report *r, int64_t start, uint64_t ms, enum fetch_outcome o)
{
    size_t at = r->npoints;

    r->sampled++;
    if (r->npoints == FETCH_REPORT_POINTS) { /* reservoir: each kept with the same odds */
        r->rng ^= r->rng << 13;
        r->rng ^= r->rng >> 7;
        r->rng ^= r->rng << 17;
        uint64_t j = r->rng % r->sampled;
        if (j >= FETCH_REPORT_POINTS)
            return;
        at = (size_t)j;
    } else {
        r->npoints++;
    }
    r->points[at] = (struct fetch_report_point){
        start, (uint32_t)(ms > UINT32_MAX ? UINT32_MAX : ms), (uint32_t)o};
}

static uint64_t number(const char *s)
{
    return s[0] >= '0' && s[0] <= '9' ? strtoull(s, NULL, 10) : 0;
}

void fetch_report_add(struct fetch_report *r, const char *line, size_t len)
{
    struct fetch_buf *b = &r->buf;
    char *cell[NF];

    if (len > FETCH_MAX_LINE) {
        r->too_long++;
        return;
    }
    while (len > 0 && (line[len - 1] == '\r' || line[len - 1] == ' '))
        len--;
    if (len == 0)
        return;
    b->len = 0;
    if (line[0] != '{' || fetch_format_record(&r->fmt, line, len, b) != 0 || b->len == 0) {
        r->junk++;
        return;
    }
    b->p[b->len - 1] = '\0'; /* its "\n" */
    char *s = b->p;
    for (size_t i = 0; i < NF; i++) {
        cell[i] = s;
        s += strcspn(s, "\t");
        if (*s == '\t')
            *s++ = '\0';
    }
    enum fetch_outcome o = strcmp(cell[F_OUTCOME], "done") == 0      ? FETCH_DONE
                           : strcmp(cell[F_OUTCOME], "error") == 0   ? FETCH_ERROR
                           : strcmp(cell[F_OUTCOME], "timeout") == 0 ? FETCH_TIMEOUT
                                                                     : (enum fetch_outcome) - 1;
    if ((int)o < 0) {
        r->junk++;
        return;
    }
    r->records++;
    int64_t start;
    int started = fetch_report_time(cell[F_STARTED], strlen(cell[F_STARTED]), &start) == 0;
    uint64_t ms = number(cell[F_ELAPSED]);
    if (ms > (uint64_t)1 << 40) /* 35 years: no run's, and start + ms stays far from overflow */
        ms = (uint64_t)1 << 40;
    long status = (long)number(cell[F_STATUS]);
    struct fetch_record rec = {
        .url = cell[F_URL],
        .outcome = o,
        .http_status = status,
        .curl_code = (int)number(cell[F_CURL]),
        .attempts = (unsigned)number(cell[F_ATTEMPTS]),
        .bytes = (size_t)number(cell[F_BYTES]),
    };
    fetch_summary_add(&r->all, o, status, started, ms);
    fetch_summary_cause(&r->all, &rec);
    struct fetch_report_host *h = host_of(r, cell[F_URL]);
    if (h != NULL)
        fetch_summary_add(&h->s, o, status, started, ms);
    if (started) {
        if (r->first_ms == 0 || start < r->first_ms)
            r->first_ms = start;
        if (start + (int64_t)ms > r->last_ms)
            r->last_ms = start + (int64_t)ms;
        bin_at(r, start)->starts++;
        bin_at(r, start)->lat[band(ms)]++;
        struct fetch_report_bin *end = bin_at(r, start + (int64_t)ms);
        end->outcomes[o]++;
        end->classes[status >= 100 && status < 600 ? status / 100 : 0]++;
        sample(r, start, ms, o);
    }
}
