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

struct fetch_summary {
    uint64_t outcomes[3]; /* by enum fetch_outcome */
    uint64_t classes[6];  /* [0]: no response, [1..5]: 1xx..5xx */
    uint64_t latencies, max_ms;
    uint64_t dup_ids;             /* explicit ids an earlier line had used */
    uint64_t dup_first, dup_line; /* the first such pair of lines */
    uint64_t hist[FETCH_HIST_BUCKETS];
};

/* Counts one record; elapsed_ms joins the latencies when the item was started. */
void fetch_summary_add(struct fetch_summary *s, enum fetch_outcome o, long http_status, int started,
                       uint64_t elapsed_ms);
/* The p-th quantile (0 < p <= 1) of the latencies, within about 3%; 0 when none. */
uint64_t fetch_summary_quantile(const struct fetch_summary *s, double p);
/* The summary as lines of text (each ending in "\n") for a run of run_ms; returns the
 * length it wanted, as snprintf. */
int fetch_summary_format(const struct fetch_summary *s, uint64_t run_ms, char *buf, size_t len);

#endif
