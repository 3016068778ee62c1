/* SPDX-License-Identifier: Apache-2.0 */
/* --report: a records file read once, in bounded memory for any number of records,
 * into what the HTML page (report_html.c) draws: starts, outcomes and statuses over
 * time, latency over time (every request up to FETCH_REPORT_POINTS, a density beyond),
 * the latency histogram, errors by cause, the slowest and failing hosts. Pure. */
#ifndef CIO_FETCH_REPORT_H
#define CIO_FETCH_REPORT_H

#include <stddef.h>
#include <stdint.h>

#include "format.h"
#include "summary.h"

#define FETCH_REPORT_BINS 1024    /* time bins; their width doubles as a run gets longer */
#define FETCH_REPORT_LAT 24       /* latency bands of a time bin: < 1 ms, < 2, < 4 ... */
#define FETCH_REPORT_POINTS 20000 /* requests drawn one by one (a uniform sample beyond) */

struct fetch_report_bin {
    uint32_t starts;
    uint32_t outcomes[3]; /* by end time, by enum fetch_outcome */
    uint32_t classes[6];  /* by end time: [0] none, [1..5] 1xx..5xx */
    uint32_t lat[FETCH_REPORT_LAT];
};

struct fetch_report {
    struct fetch_summary all;
    struct fetch_report_host {
        char name[64];
        struct fetch_summary s; /* its latencies and failures (hosts unused) */
    } hosts[FETCH_HOSTS];
    size_t nhosts;
    /* Bins of width_ms from origin_ms (Unix ms); nbins in use. */
    int64_t origin_ms;
    uint64_t width_ms;
    size_t nbins;
    struct fetch_report_bin bins[FETCH_REPORT_BINS];
    /* Requests one by one: start (ms from first_ms), latency, outcome. */
    struct fetch_report_point {
        int64_t start_ms; /* Unix ms */
        uint32_t ms;
        uint32_t outcome;
    } points[FETCH_REPORT_POINTS];
    size_t npoints;
    uint64_t sampled; /* requests offered to the sample */
    uint64_t rng;
    int64_t first_ms, last_ms; /* earliest start, latest end (Unix ms); 0: none */
    uint64_t records, junk, too_long;
    struct fetch_format fmt; /* the fields read, as TSV */
    struct fetch_buf buf;
};

/* Sets *r up (it is large: allocate it); 0, or -1 when out of memory. */
int fetch_report_init(struct fetch_report *r);
void fetch_report_free(struct fetch_report *r);
/* One line of a records file (without its "\n"): a record is counted, anything else is
 * junk. */
void fetch_report_add(struct fetch_report *r, const char *line, size_t len);

/* "2026-12-02T05:14:07.076Z" (as records write it) into Unix ms; 0, or -1 when it is
 * not that form. */
int fetch_report_time(const char *s, size_t len, int64_t *ms);

#endif
