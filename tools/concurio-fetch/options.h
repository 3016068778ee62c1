/* SPDX-License-Identifier: Apache-2.0 */
/* concurio-fetch's command line: options into a struct, every mistake a one-line
 * message naming the option. Pure: no I/O (--data @FILE is read by main). */
#ifndef CIO_FETCH_OPTIONS_H
#define CIO_FETCH_OPTIONS_H

#include <stddef.h>

#include <concurio/concurio.h>

#include "format.h"
#include "output.h"

#define FETCH_MAX_STATUSES 128

enum fetch_progress { FETCH_PROGRESS_AUTO = 0, FETCH_PROGRESS_ON, FETCH_PROGRESS_OFF };
enum fetch_action { FETCH_RUN = 0, FETCH_HELP, FETCH_VERSION, FETCH_USAGE };

struct fetch_opts {
    const char *input; /* NULL or "-": standard input */
    unsigned concurrency, per_host;
    cio_rate rate, host_rate; /* count 0: unlimited */
    unsigned timeout_ms, connect_timeout_ms, deadline_ms;
    cio_retry retry; /* statuses point into retry_statuses */
    unsigned short retry_statuses[FETCH_MAX_STATUSES];
    const char *method, *data; /* data "@FILE": main reads FILE */
    const char **headers;      /* borrowed from argv ("@FILE": main reads FILE's lines);
                                  NULL-terminated */
    size_t nheaders;
    const char *output, *resume;
    const char *output_dir, *name_template; /* --output-dir, --name-template */
    int keep_partial;                       /* --keep-partial */
    const char *cookie;       /* -b: a cookie file, or "NAME=VALUE; ..." (has a '=') */
    const char *cookie_jar;   /* --cookie-jar FILE */
    const char *report;       /* --report FILE: make the HTML page of a records file */
    char *cookie_header;      /* -b NAME=VALUE: "Cookie: ...", one of headers */
    const char *summary_json; /* --summary-json FILE */
    const char *cacert;       /* --cacert: PEM certificates to verify servers with */
    enum fetch_body body;
    struct fetch_format format; /* --fields, --format */
    struct fetch_keep keep;     /* --keep-header, --headers; names point into keep_names */
    const char **keep_names;    /* borrowed from argv; malloc'ed array */
    size_t max_body;
    int fail, insecure, adaptive, quiet;
    enum fetch_progress progress;
    unsigned progress_interval_ms, grace_ms;
    cio_http_version http_version;
    unsigned max_redirs; /* --max-redirs; 0: the library's 10 */
    int no_location, no_compressed;
    const char *proxy, *noproxy; /* -x, --noproxy */
    const char **resolve;        /* --resolve entries, NULL-terminated (NULL: none) */
    const char **connect_to;     /* --connect-to entries, likewise */
    size_t nresolve, nconnect_to;
    char *basic_auth; /* -u: "Authorization: Basic ...", one of headers */
    char **agents;    /* -A: "User-Agent: ..." headers (malloc'ed) */
    size_t nagents;
    unsigned threads; /* --threads: transfer threads (with threads_set; else one per free CPU) */
    int threads_set;
    /* Queue mode (--queue redis://HOST:PORT/NAME): one of the three actions. */
    const char *queue;
    enum fetch_qmode { FETCH_Q_NONE = 0, FETCH_Q_ENQUEUE, FETCH_Q_WORKER, FETCH_Q_COLLECT } qmode;
    int follow;              /* --collect --follow */
    const char *worker_name; /* NULL: <hostname>-<pid> */
    unsigned claim_idle_ms, max_deliveries, rate_slack_ms;
    unsigned rate_margin_pct; /* --rate-margin: -r and --rate-host kept this much lower */
    int rate_given;           /* -r, --burst or --rate-mode was given */
};

/* Parses argv into *o (headers is malloc'ed: free it with fetch_opts_free). Returns what
 * to do; for FETCH_USAGE, err holds the one-line message. */
enum fetch_action fetch_parse_args(int argc, char **argv, struct fetch_opts *o, char *err,
                                   size_t errlen);
void fetch_opts_free(struct fetch_opts *o);

/* "N", "N/s", "N/m", "N/h" (N positive, fractions allowed) into a rate; 0 or -1. */
int fetch_parse_rate(const char *s, cio_rate *out);
/* Seconds with fractions ("2.5") into milliseconds, at least 1 unless zero_ok; 0 or -1. */
int fetch_parse_seconds(const char *s, int zero_ok, unsigned *ms);
/* "transport,429,5xx,timeout,503" into a retry policy's on flags and statuses; 0 or -1. */
int fetch_parse_retry_on(const char *s, struct fetch_opts *o);

/* --threads' default from the CPUs this process may run on (its affinity mask) and the
 * threads of others runnable now: one transfer thread per CPU left free, at most 64, and
 * none when fewer than two are free. Beside a hog, two threads gave 1.2-1.4 x the rate
 * of the main thread alone but 0.94 and 1.16 x its CPU in two runs; the main thread alone
 * never costs more than itself (tools/bench/results/threads.md). A process allowed one
 * CPU (taskset) gets one transfer thread: one thread moving a whole turn's bytes beside
 * the main one cost 0.70-0.89 x the CPU of the main thread alone for 1.10-1.38 x its
 * rate, and tied it with the server on the same CPU. None either under a rate
 * limit (rate, or NULL) of FETCH_ONE_THREAD_RATE a second or less: the main thread keeps
 * that pace, and a request that comes alone crosses threads alone, two wake-ups each
 * (1.3-1.9 x the CPU from 1,000/s to 10,000/s in two runs: tools/bench/results/rated.md). */
#define FETCH_ONE_THREAD_RATE 10000u
unsigned fetch_threads_default(unsigned cpus, unsigned others_runnable, const cio_rate *rate);

/* 1 when h is "Name: value": a name of visible characters, no CR or LF. */
int fetch_valid_header(const char *h);

/* --help, in pieces (one C string may not be as long): NULL-terminated. */
extern const char *const fetch_usage_text[];

#endif
