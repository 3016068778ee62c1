/* SPDX-License-Identifier: Apache-2.0 */
/* The end-of-run summary: counts per outcome and per HTTP status class, throughput, and
 * latency percentiles from a fixed histogram (bounded memory for any number of items).
 * Pure. */
#ifndef CIO_FETCH_SUMMARY_H
#define CIO_FETCH_SUMMARY_H

#include <stddef.h>
#include <stdint.h>

#include "output.h"

#define FETCH_HIST_BUCKETS (32 + 59 * 16)
#define FETCH_CURL_CODES 128
#define FETCH_HOSTS 32

struct fetch_summary {
    uint64_t outcomes[3]; /* by enum fetch_outcome */
    uint64_t classes[6];  /* [0]: no response, [1..5]: 1xx..5xx */
    uint64_t latencies, max_ms;
    uint64_t dup_ids;             /* explicit ids an earlier line had used */
    uint64_t dup_first, dup_line; /* the first such pair of lines */
    uint64_t hist[FETCH_HIST_BUCKETS];
    /* Errors by cause (fetch_summary_cause): libcurl's code, else the HTTP status, else
     * a line that never ran (a bad line, a give-up), else anything else. */
    uint64_t err_curl[FETCH_CURL_CODES], err_status[600], err_bad_line, err_other;
    /* Items and their errors and timeouts by host, the first FETCH_HOSTS hosts; the rest
     * together. */
    struct fetch_host {
        char name[64];
        uint64_t items, failed;
    } hosts[FETCH_HOSTS];
    size_t nhosts;
    uint64_t other_items, other_failed;
    uint64_t bytes; /* body bytes received, all records */
};

/* Counts one record; elapsed_ms joins the latencies when the item was started. */
void fetch_summary_add(struct fetch_summary *s, enum fetch_outcome o, long http_status, int started,
                       uint64_t elapsed_ms);
/* Counts the record's cause (when it failed) and host. */
void fetch_summary_cause(struct fetch_summary *s, const struct fetch_record *r);
/* The host of a URL ("api.example.com:8443", lower case, no userinfo) into out[len];
 * "" when it has none. */
void fetch_url_host(const char *url, char *out, size_t len);
/* The summary as one JSON object (with its "\n") for --summary-json; malloc'ed, or NULL
 * when out of memory. */
char *fetch_summary_json(const struct fetch_summary *s, uint64_t run_ms);

/* The latency a histogram bucket stands for (the middle of its range), in ms. */
uint64_t fetch_summary_bucket_ms(unsigned bucket);
/* The p-th quantile (0 < p <= 1) of the latencies, within about 3%; 0 when none. */
uint64_t fetch_summary_quantile(const struct fetch_summary *s, double p);
/* The summary as lines of text (each ending in "\n") for a run of run_ms; returns the
 * length it wanted, as snprintf. */
int fetch_summary_format(const struct fetch_summary *s, uint64_t run_ms, char *buf, size_t len);

#endif
