/* SPDX-License-Identifier: Apache-2.0 */
/* --report's page: one self-contained HTML file (styles, data and script inline; no
 * network needed to open it), its data a JSON object the script (report.js, embedded
 * at build time) draws from. Pure: text into a buffer. */
#include <inttypes.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "report_html.h"

extern const char fetch_report_js[]; /* report.js, by cmake/embed.cmake */

static const char head[] =
    "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n"
    "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n"
    "<meta name=\"generator\" content=\"concurio-fetch " CIO_VERSION_STRING "\">\n"
    "<title>concurio-fetch report</title>\n<style>\n"
    "body{font:14px/1.4 system-ui,sans-serif;margin:24px auto;max-width:940px;color:#212121}\n"
    "h1{font-size:22px;margin:0 0 4px}h2{font-size:16px;margin:28px 0 2px}\n"
    ".note{color:#616161;margin:0 0 6px}.error{color:#c62828;font-weight:bold}\n"
    "svg.plot{width:100%;height:auto;background:#fafafa;border:1px solid #e0e0e0}\n"
    ".axis line{stroke:#9e9e9e}.axis line.grid{stroke:#eeeeee}.axis text{font-size:11px;"
    "fill:#616161}\n"
    ".line{fill:none;stroke-width:1.5}.limit{stroke:#c62828;stroke-dasharray:6 4;"
    "stroke-width:1.5}\n"
    ".limit-label,.q-label{font-size:11px;fill:#c62828}.quantile{stroke:#c62828;"
    "stroke-dasharray:3 3}\n"
    ".legend span{margin-right:14px}.legend i{display:inline-block;width:10px;height:10px;"
    "margin-right:4px}\n"
    "table{border-collapse:collapse}td,th{padding:2px 10px;border-bottom:1px solid #eee;"
    "text-align:left}\n"
    "</style>\n</head>\n<body>\n<h1>concurio-fetch report</h1>\n<p id=\"headline\" "
    "class=\"note\"></p>\n<div id=\"errors\"></div>\n"
    "<section id=\"starts\"></section>\n<section id=\"latency\"></section>\n"
    "<section id=\"histogram\"></section>\n<section id=\"outcomes\"></section>\n"
    "<section id=\"statuses\"></section>\n<section id=\"causes\"></section>\n"
    "<section id=\"slow\"></section>\n<section id=\"failing\"></section>\n"
    "<script id=\"data\" type=\"application/json\">";

static int add(struct fetch_buf *b, const char *s)
{
    return fetch_buf_add(b, s, strlen(s));
}

static int addf(struct fetch_buf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static int addf(struct fetch_buf *b, const char *fmt, ...)
{
    char tmp[256];
    va_list ap;

    va_start(ap, fmt);
    int n = vsnprintf(tmp, sizeof tmp, fmt, ap);
    va_end(ap);
    return n < 0 || (size_t)n >= sizeof tmp ? -1 : fetch_buf_add(b, tmp, (size_t)n);
}

/* [v,v,...]: one counter (at off in a bin) of every bin. */
static int bin_array(struct fetch_buf *b, const struct fetch_report *r, size_t off)
{
    int rc = add(b, "[");

    for (size_t i = 0; rc == 0 && i < r->nbins; i++) {
        uint32_t v;
        memcpy(&v, (const char *)&r->bins[i] + off, sizeof v);
        rc = addf(b, i ? ",%" PRIu32 : "%" PRIu32, v);
    }
    return rc || add(b, "]");
}

static int bins_of(struct fetch_buf *b, const struct fetch_report *r, const char *name, size_t off)
{
    return addf(b, ",\"%s\":", name) || bin_array(b, r, off);
}

#define BIN_FIELD(f) offsetof(struct fetch_report_bin, f)

static int data(struct fetch_buf *b, const struct fetch_report *r,
                const struct fetch_report_opts *o)
{
    char *sum = fetch_summary_json(&r->all, (uint64_t)(r->last_ms - r->first_ms));
    int rc = sum == NULL;

    if (rc == 0) {
        sum[strcspn(sum, "\n")] = '\0';
        rc = add(b, "{\"summary\":") || add(b, sum);
    }
    free(sum);
    rc = rc || addf(b, ",\"records\":%" PRIu64 ",\"junk\":%" PRIu64 ",\"too_long\":%" PRIu64,
                    r->records, r->junk, r->too_long);
    rc = rc || addf(b,
                    ",\"first_ms\":%" PRId64 ",\"last_ms\":%" PRId64 ",\"latencies\":%" PRIu64
                    ",\"sampled\":%" PRIu64,
                    r->first_ms, r->last_ms, r->all.latencies, r->sampled);
    if (o->rate.count > 0)
        rc = rc || addf(b, ",\"rate\":{\"count\":%u,\"period_ms\":%u}", o->rate.count,
                        o->rate.period_ms != 0 ? o->rate.period_ms : 60000u);
    else
        rc = rc || add(b, ",\"rate\":null");
    rc = rc || addf(b, ",\"bins\":{\"origin_ms\":%" PRId64 ",\"width_ms\":%" PRIu64, r->origin_ms,
                    r->width_ms);
    rc = rc || bins_of(b, r, "starts", BIN_FIELD(starts)) ||
         bins_of(b, r, "done", BIN_FIELD(outcomes[0])) ||
         bins_of(b, r, "error", BIN_FIELD(outcomes[1])) ||
         bins_of(b, r, "timeout", BIN_FIELD(outcomes[2])) || add(b, ",\"c\":[");
    for (size_t k = 0; rc == 0 && k < 6; k++)
        rc =
            (k > 0 && add(b, ",")) || bin_array(b, r, BIN_FIELD(classes[0]) + k * sizeof(uint32_t));
    rc = rc || add(b, "],\"lat\":[");
    for (size_t i = 0; rc == 0 && i < r->nbins; i++) {
        rc = add(b, i ? ",[" : "[");
        for (size_t k = 0; rc == 0 && k < FETCH_REPORT_LAT; k++)
            rc = addf(b, k ? ",%" PRIu32 : "%" PRIu32, r->bins[i].lat[k]);
        rc = rc || add(b, "]");
    }
    rc = rc || add(b, "]},\"points\":[");
    for (size_t i = 0; rc == 0 && i < r->npoints; i++) {
        const struct fetch_report_point *p = &r->points[i];
        rc = addf(b, "%s[%" PRId64 ",%" PRIu32 ",%" PRIu32 "]", i ? "," : "",
                  p->start_ms - r->first_ms, p->ms, p->outcome);
    }
    rc = rc || add(b, "],\"hist\":[");
    int first = 1;
    for (unsigned k = 0; rc == 0 && k < FETCH_HIST_BUCKETS; k++)
        if (r->all.hist[k] > 0) {
            rc = addf(b, "%s[%" PRIu64 ",%" PRIu64 "]", first ? "" : ",",
                      fetch_summary_bucket_ms(k), r->all.hist[k]);
            first = 0;
        }
    rc = rc || add(b, "],\"hosts\":[");
    for (size_t i = 0; rc == 0 && i < r->nhosts; i++) {
        const struct fetch_report_host *h = &r->hosts[i];
        const struct fetch_summary *s = &h->s;
        uint64_t items = s->outcomes[0] + s->outcomes[1] + s->outcomes[2];
        rc = add(b, i ? ",{\"name\":" : "{\"name\":") ||
             fetch_buf_add_json(b, h->name, strlen(h->name)) ||
             addf(b,
                  ",\"items\":%" PRIu64 ",\"failed\":%" PRIu64 ",\"p50\":%" PRIu64
                  ",\"p90\":%" PRIu64 ",\"max\":%" PRIu64 "}",
                  items, s->outcomes[1] + s->outcomes[2], fetch_summary_quantile(s, 0.5),
                  fetch_summary_quantile(s, 0.9), s->max_ms);
    }
    return rc || add(b, "]}");
}

int fetch_report_html(const struct fetch_report *r, const struct fetch_report_opts *o,
                      struct fetch_buf *out)
{
    struct fetch_buf json = {0};
    int rc = data(&json, r, o);

    /* Inside <script>, "</" could end it: JSON may write '<' as \u003c anywhere a string
     * holds one (there is none outside strings). */
    rc = rc || add(out, head);
    for (size_t i = 0; rc == 0 && i < json.len; i++)
        rc = json.p[i] == '<' ? add(out, "\\u003c") : fetch_buf_add(out, json.p + i, 1);
    rc = rc || add(out, "</script>\n<script>\n") || add(out, fetch_report_js) ||
         add(out, "</script>\n</body>\n</html>\n");
    fetch_buf_free(&json);
    return rc ? -1 : 0;
}
