/* SPDX-License-Identifier: Apache-2.0 */
/* concurio-fetch's options, with the names and defaults of its manual page. */
#define _GNU_SOURCE /* getopt_long */
#include <errno.h>
#include <getopt.h>
#include <limits.h>
#include <math.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "names.h"
#include "options.h"

#include "format.h"

const char *const fetch_usage_text[] = {
    "Usage: concurio-fetch [OPTIONS] [FILE]\n"
    "Fetch every URL of FILE (or standard input) under a concurrency cap, a rate limit and\n"
    "timeouts; write one JSON line per input item as each ends.\n"
    "Input lines: a URL, or a JSON object {\"url\", \"method\", \"headers\", \"body\", \"id\",\n"
    "\"key\"}; blank lines and #-comments are skipped.\n"
    "\n"
    "Limits:\n"
    "  -c, --concurrency N       requests in flight at most (default 50)\n"
    "      --per-host N          requests in flight to one host at most\n"
    "  -r, --rate R              request starts: N (per minute), N/s, N/m, N/h\n"
    "      --rate-host R         request starts per host, same form\n"
    "      --rate-mode MODE      paced (even spacing, --burst at once) or window\n"
    "                            (at most N in any window of the rate's unit)\n"
    "      --burst N             paced mode's bucket size (default 1: evenly spaced)\n"
    "      --rate-margin PCT     keep this far under -r and --rate-host, so a server\n"
    "                            enforcing exactly that rate sees no excess (default 5)\n"
    "      --adaptive            halve a host's rate on 429/503, recover slowly; obey\n"
    "                            RateLimit-Remaining/-Reset headers\n"
    "  -t, --timeout SEC         per-request limit; expiry is a \"timeout\" record\n"
    "      --connect-timeout SEC limit on connecting\n"
    "      --deadline SEC        limit on the whole run\n"
    "      --retries N           extra attempts after a transport error, 429 or 5xx,\n"
    "                            with backoff and Retry-After honoured (default 0)\n"
    "      --retry-on LIST       what is retried: transport,429,5xx,timeout and/or status\n"
    "                            numbers (default transport,429,5xx)\n"
    "      --retry-max-wait SEC  longest wait before a retry (default 60); a longer\n"
    "                            Retry-After ends the item with an error\n",
    "Requests:\n"
    "  -X, --request METHOD      method of plain-URL lines (default GET, POST with -d)\n"
    "  -H, --header 'N: v'       header on every request (repeatable; a JSON line's wins)\n"
    "  -d, --data TEXT|@FILE     body of plain-URL lines\n"
    "      --http1.1, --http2    HTTP version (default: HTTP/2 where TLS offers it)\n"
    "      --cacert FILE         verify servers with the certificates in FILE (PEM)\n"
    "  -k, --insecure            do not verify TLS certificates\n"
    "  -u, --user USER:PASSWORD  basic authentication (never printed)\n"
    "  -A, --user-agent NAME     User-Agent header (default concurio/VERSION)\n"
    "      --no-location         follow no redirect (default: up to 10, as curl -L)\n"
    "      --max-redirs N        follow up to N redirects; one more is an error (47)\n"
    "      --no-compressed       ask for no compression (default: gzip, deflate, br...)\n"
    "  -x, --proxy URL           through this proxy (default: http_proxy, https_proxy,\n"
    "                            all_proxy from the environment)\n"
    "      --noproxy LIST        hosts reached without the proxy (as no_proxy)\n"
    "      --resolve HOST:PORT:ADDR  connect to ADDR for HOST:PORT, no lookup (repeatable)\n"
    "  -b, --cookie FILE|''      keep cookies, redirects included, one store for each\n"
    "                            scheme://host:port or JSON key, starting with FILE's\n"
    "                            (curl's format); -b 'N=V': that Cookie header only\n"
    "      --cookie-jar FILE     write the cookies to FILE at the end (curl's -c)\n"
    "      --connect-to H:P:H2:P2  requests for H:P go to H2:P2 (repeatable)\n"
    "Output:\n"
    "  -o, --output FILE         write records to FILE (default standard output)\n"
    "      --output-dir DIR      each body to a file of its own in DIR (made if missing),\n"
    "                            renamed when complete; the record says its \"path\"\n"
    "      --name-template T     the file's name: {id} (default), {line}, {host}, {path},\n"
    "                            {basename}, {status}, {ext}; '/' makes directories;\n"
    "                            a name taken already is numbered (page-1.html)\n"
    "      --keep-partial        keep a failed body as NAME.part (default: removed)\n"
    "      --body MODE           none, text or base64 (default none)\n"
    "      --max-body BYTES      cap on a body received (default 1M; K, M, G suffixes)\n"
    "      --keep-header NAME    copy response header NAME into the record's \"headers\"\n"
    "                            (repeatable, any case: ETag, Link, X-Request-Id)\n"
    "      --headers             copy every response header into the record\n"
    "      --fields LIST         these fields, in this order: id,url,http_status,\n"
    "                            timings.total_ms,headers.etag (see the manual page)\n"
    "      --format FORMAT       jsonl, csv (RFC 4180, a header row) or tsv (default\n"
    "                            jsonl)\n"
    "      --fail                HTTP status >= 400 is an error\n"
    "      --resume FILE         skip inputs with a \"done\" record in FILE\n"
    "Progress and signals:\n"
    "      --progress, --no-progress   meter on or off (default: on a terminal, else\n"
    "                            log lines); the summary stays\n"
    "      --progress-interval SEC  seconds between log lines (default 10)\n"
    "      --grace SEC           after Ctrl-C, time for requests in flight (default 5)\n"
    "  -q, --quiet               no meter, no summary: only errors on stderr\n"
    "      --summary-json FILE   the summary as one JSON object into FILE (-q too)\n"
    "Performance:\n"
    "      --threads N           threads moving bytes, each with its own connections;\n"
    "                            limits stay global (default: one per CPU that nothing\n"
    "                            else is running on; none if fewer than two are free,\n"
    "                            but one on a single CPU (taskset); none under -r\n"
    "                            10000/s or less; 0: all on the main thread)\n",
    "Scaling out (see README, \"Scaling out\"):\n"
    "      --queue redis://[[USER]:PASSWORD@]HOST:PORT/NAME  a job shared by workers\n"
    "                            through Redis (password never printed), with\n"
    "                            one of --enqueue, --worker or --collect\n"
    "      --enqueue             add FILE's items to the job (never one twice)\n"
    "      --worker              fetch the job's items until every one has a record;\n"
    "                            -r, --burst and --rate-mode are the job's quota\n"
    "      --collect             write the job's records (--follow: until all are in)\n"
    "      --worker-name NAME    default <hostname>-<pid>\n"
    "      --claim-idle SEC      take over items idle this long (default 30)\n"
    "      --max-deliveries N    an item delivered more often ends as an error (5)\n"
    "      --rate-slack MS       lateness a shared rate slot allows (default 50)\n"
    "Report:\n"
    "      --report FILE         make one HTML page (self-contained) of a records file:\n"
    "                            starts per second against -r, latency, statuses,\n"
    "                            slowest and failing hosts; to -o (default stdout);\n"
    "                            with --fields or --format, the records as a table\n"
    "  -V, --version             print the version\n"
    "  -h, --help                print this help\n"
    "\n"
    "Exit status: 0 all done, 1 some error or timeout, 2 usage or input error,\n"
    "69 Redis unreachable (queue mode), 74 records could not be written, 130 interrupted.\n",
    NULL,
};

enum {
    OPT_PER_HOST = 256,
    OPT_RATE_HOST,
    OPT_RATE_MODE,
    OPT_BURST,
    OPT_ADAPTIVE,
    OPT_CONNECT_TIMEOUT,
    OPT_DEADLINE,
    OPT_RETRIES,
    OPT_RETRY_ON,
    OPT_RETRY_MAX_WAIT,
    OPT_HTTP11,
    OPT_HTTP2,
    OPT_INSECURE,
    OPT_CACERT,
    OPT_BODY,
    OPT_MAX_BODY,
    OPT_FAIL,
    OPT_KEEP_HEADER,
    OPT_HEADERS,
    OPT_FIELDS,
    OPT_FORMAT,
    OPT_MAX_REDIRS,
    OPT_LOCATION,
    OPT_NO_LOCATION,
    OPT_COMPRESSED,
    OPT_NO_COMPRESSED,
    OPT_NOPROXY,
    OPT_RESOLVE,
    OPT_CONNECT_TO,
    OPT_SUMMARY_JSON,
    OPT_OUTPUT_DIR,
    OPT_COOKIE_JAR,
    OPT_REPORT,
    OPT_NAME_TEMPLATE,
    OPT_KEEP_PARTIAL,
    OPT_RESUME,
    OPT_PROGRESS,
    OPT_NO_PROGRESS,
    OPT_PROGRESS_INTERVAL,
    OPT_GRACE,
    OPT_THREADS,
    OPT_QUEUE,
    OPT_ENQUEUE,
    OPT_WORKER,
    OPT_COLLECT,
    OPT_FOLLOW,
    OPT_WORKER_NAME,
    OPT_CLAIM_IDLE,
    OPT_MAX_DELIVERIES,
    OPT_RATE_SLACK,
    OPT_RATE_MARGIN,
};

static const struct option longopts[] = {
    {"concurrency", required_argument, NULL, 'c'},
    {"per-host", required_argument, NULL, OPT_PER_HOST},
    {"rate", required_argument, NULL, 'r'},
    {"rate-host", required_argument, NULL, OPT_RATE_HOST},
    {"rate-mode", required_argument, NULL, OPT_RATE_MODE},
    {"burst", required_argument, NULL, OPT_BURST},
    {"adaptive", no_argument, NULL, OPT_ADAPTIVE},
    {"timeout", required_argument, NULL, 't'},
    {"connect-timeout", required_argument, NULL, OPT_CONNECT_TIMEOUT},
    {"deadline", required_argument, NULL, OPT_DEADLINE},
    {"retries", required_argument, NULL, OPT_RETRIES},
    {"retry-on", required_argument, NULL, OPT_RETRY_ON},
    {"retry-max-wait", required_argument, NULL, OPT_RETRY_MAX_WAIT},
    {"request", required_argument, NULL, 'X'},
    {"header", required_argument, NULL, 'H'},
    {"data", required_argument, NULL, 'd'},
    {"http1.1", no_argument, NULL, OPT_HTTP11},
    {"http2", no_argument, NULL, OPT_HTTP2},
    {"insecure", no_argument, NULL, OPT_INSECURE},
    {"cacert", required_argument, NULL, OPT_CACERT},
    {"output", required_argument, NULL, 'o'},
    {"body", required_argument, NULL, OPT_BODY},
    {"max-body", required_argument, NULL, OPT_MAX_BODY},
    {"fail", no_argument, NULL, OPT_FAIL},
    {"keep-header", required_argument, NULL, OPT_KEEP_HEADER},
    {"headers", no_argument, NULL, OPT_HEADERS},
    {"fields", required_argument, NULL, OPT_FIELDS},
    {"max-redirs", required_argument, NULL, OPT_MAX_REDIRS},
    {"location", no_argument, NULL, OPT_LOCATION},
    {"no-location", no_argument, NULL, OPT_NO_LOCATION},
    {"compressed", no_argument, NULL, OPT_COMPRESSED},
    {"no-compressed", no_argument, NULL, OPT_NO_COMPRESSED},
    {"proxy", required_argument, NULL, 'x'},
    {"noproxy", required_argument, NULL, OPT_NOPROXY},
    {"resolve", required_argument, NULL, OPT_RESOLVE},
    {"summary-json", required_argument, NULL, OPT_SUMMARY_JSON},
    {"output-dir", required_argument, NULL, OPT_OUTPUT_DIR},
    {"cookie", required_argument, NULL, 'b'},
    {"cookie-jar", required_argument, NULL, OPT_COOKIE_JAR},
    {"report", required_argument, NULL, OPT_REPORT},
    {"name-template", required_argument, NULL, OPT_NAME_TEMPLATE},
    {"keep-partial", no_argument, NULL, OPT_KEEP_PARTIAL},
    {"connect-to", required_argument, NULL, OPT_CONNECT_TO},
    {"user", required_argument, NULL, 'u'},
    {"user-agent", required_argument, NULL, 'A'},
    {"format", required_argument, NULL, OPT_FORMAT},
    {"resume", required_argument, NULL, OPT_RESUME},
    {"progress", no_argument, NULL, OPT_PROGRESS},
    {"no-progress", no_argument, NULL, OPT_NO_PROGRESS},
    {"progress-interval", required_argument, NULL, OPT_PROGRESS_INTERVAL},
    {"grace", required_argument, NULL, OPT_GRACE},
    {"threads", required_argument, NULL, OPT_THREADS},
    {"queue", required_argument, NULL, OPT_QUEUE},
    {"enqueue", no_argument, NULL, OPT_ENQUEUE},
    {"worker", no_argument, NULL, OPT_WORKER},
    {"collect", no_argument, NULL, OPT_COLLECT},
    {"follow", no_argument, NULL, OPT_FOLLOW},
    {"worker-name", required_argument, NULL, OPT_WORKER_NAME},
    {"claim-idle", required_argument, NULL, OPT_CLAIM_IDLE},
    {"max-deliveries", required_argument, NULL, OPT_MAX_DELIVERIES},
    {"rate-slack", required_argument, NULL, OPT_RATE_SLACK},
    {"rate-margin", required_argument, NULL, OPT_RATE_MARGIN},
    {"quiet", no_argument, NULL, 'q'},
    {"version", no_argument, NULL, 'V'},
    {"help", no_argument, NULL, 'h'},
    {NULL, 0, NULL, 0},
};

/* A positive decimal number, all of s, at most max. */
static int parse_count(const char *s, unsigned long max, int zero_ok, unsigned *out)
{
    char *end;

    if (s[0] < '0' || s[0] > '9')
        return -1;
    errno = 0;
    unsigned long v = strtoul(s, &end, 10);
    if (errno != 0 || *end != '\0' || v > max || (v == 0 && !zero_ok))
        return -1;
    *out = (unsigned)v;
    return 0;
}

/* x >= 0 rounded to the nearest whole number (from 2^52 up a double is whole already).
 * Not round(): libm alone put 320 KiB of its pages in every run's RSS. */
static double whole(double x)
{
    return x >= 0x1p52 ? x : (double)(uint64_t)(x + 0.5);
}

/* The smallest whole number >= x, for 0 <= x < 2^63; below 0 it is 0. Not ceil(): libm. */
static double up(double x)
{
    if (x <= 0.0)
        return 0.0;
    double t = (double)(uint64_t)x;
    return t < x ? t + 1.0 : t;
}

static int within(double d, double eps)
{
    return d <= eps && d >= -eps;
}

static int parse_number(const char *s, const char **rest, double *out)
{
    char *end;

    if (!((s[0] >= '0' && s[0] <= '9') || s[0] == '.'))
        return -1; /* no sign, no "inf", no "nan", no hex */
    errno = 0;
    double v = strtod(s, &end);
    if (errno != 0 || end == s || !isfinite(v))
        return -1;
    *out = v;
    *rest = end;
    return 0;
}

int fetch_parse_seconds(const char *s, int zero_ok, unsigned *ms)
{
    const char *rest;
    double v;

    if (parse_number(s, &rest, &v) != 0 || *rest != '\0' || v * 1000.0 > (double)UINT_MAX - 1)
        return -1;
    double m = up(v * 1000.0 - 1e-9); /* 0.0001 s is still a limit: 1 ms */
    if (m <= 0.0 && !zero_ok)
        return -1;
    *ms = (unsigned)m;
    return 0;
}

int fetch_parse_rate(const char *s, cio_rate *out)
{
    const char *rest;
    double n, unit;

    if (parse_number(s, &rest, &n) != 0 || n <= 0.0)
        return -1;
    if (*rest == '\0' || strcmp(rest, "/m") == 0)
        unit = 60000.0;
    else if (strcmp(rest, "/s") == 0)
        unit = 1000.0;
    else if (strcmp(rest, "/h") == 0)
        unit = 3600000.0;
    else
        return -1;
    /* Exact where it can be: 2.5/s is 5 per 2 s, 0.5/s is 1 per 2 s. */
    double count = n, period = unit;
    if (n < 1.0) {
        count = 1.0;
        period = whole(unit / n);
    } else {
        for (int k = 0; k < 3 && !within(count - whole(count), 1e-9); k++) {
            count *= 10.0;
            period *= 10.0;
        }
        count = whole(count);
    }
    if (count > (double)UINT_MAX || period > (double)UINT_MAX || period < 1.0)
        return -1;
    memset(out, 0, sizeof *out);
    out->count = (unsigned)count;
    out->period_ms = (unsigned)period;
    return 0;
}

int fetch_parse_retry_on(const char *s, struct fetch_opts *o)
{
    unsigned on = 0, n = 0;
    int numbers = 0;
    const char *p = s;

    while (*p != '\0') {
        size_t len = strcspn(p, ",");
        char word[16];
        if (len == 0 || len >= sizeof word)
            return -1;
        memcpy(word, p, len);
        word[len] = '\0';
        unsigned code;
        if (strcasecmp(word, "transport") == 0)
            on |= CIO_RETRY_TRANSPORT;
        else if (strcasecmp(word, "timeout") == 0)
            on |= CIO_RETRY_TIMEOUT;
        else if (strcmp(word, "429") == 0)
            on |= CIO_RETRY_429;
        else if (strcasecmp(word, "5xx") == 0)
            on |= CIO_RETRY_5XX;
        else if (parse_count(word, 599, 0, &code) == 0 && code >= 100 && n < FETCH_MAX_STATUSES)
            o->retry_statuses[n++] = (unsigned short)code, numbers = 1;
        else
            return -1;
        p += len;
        if (*p == ',' && *++p == '\0')
            return -1;
    }
    if (on == 0 && !numbers)
        return -1;
    /* With status numbers the list is exact: 429 and 5xx join it if named. */
    if (numbers) {
        if ((on & CIO_RETRY_429) && n < FETCH_MAX_STATUSES)
            o->retry_statuses[n++] = 429;
        for (unsigned c = 500; (on & CIO_RETRY_5XX) && c < 600 && n < FETCH_MAX_STATUSES; c++)
            o->retry_statuses[n++] = (unsigned short)c;
        o->retry.statuses = o->retry_statuses;
        o->retry.nstatuses = n;
    } else {
        o->retry.statuses = NULL;
        o->retry.nstatuses = 0;
    }
    /* A flag of 0 would mean the default set: keep at least one bit. */
    o->retry.on = on != 0 ? on : CIO_RETRY_429;
    return 0;
}

static int parse_size(const char *s, size_t *out)
{
    const char *rest;
    double v, mul = 1.0;

    if (parse_number(s, &rest, &v) != 0)
        return -1;
    if (*rest != '\0') {
        const char *units = "KMG";
        const char *u = strchr(units, rest[0] & ~0x20);
        if (u == NULL ||
            (rest[1] != '\0' && strcmp(rest + 1, "iB") != 0 && strcmp(rest + 1, "B") != 0))
            return -1;
        for (const char *k = units; k <= u; k++)
            mul *= 1024.0;
    }
    v *= mul;
    if (v < 1.0 || v > (double)(SIZE_MAX / 2))
        return -1;
    *out = (size_t)v;
    return 0;
}

int fetch_valid_header(const char *h)
{
    const char *colon = strchr(h, ':');

    if (colon == NULL || colon == h || strpbrk(h, "\r\n") != NULL)
        return 0;
    for (const char *c = h; c < colon; c++)
        if (*c <= ' ' || *c >= 127)
            return 0;
    return 1;
}

/* A port: 1 to 65535, all of s[0..n). */
static int port_of(const char *s, size_t n)
{
    unsigned long v = 0;

    if (n == 0 || n > 5)
        return 0;
    for (size_t i = 0; i < n; i++) {
        if (s[i] < '0' || s[i] > '9')
            return 0;
        v = v * 10 + (unsigned long)(s[i] - '0');
    }
    return v >= 1 && v <= 65535;
}

/* The end of the host at s ("[v6]" whole), or NULL when a '[' is not closed. */
static const char *host_end(const char *s)
{
    if (*s == '[') {
        const char *close = strchr(s, ']');
        return close != NULL ? close + 1 : NULL;
    }
    return s + strcspn(s, ":");
}

/* curl's --resolve: HOST:PORT:ADDRESS[,ADDRESS...], no spaces. */
static int valid_resolve(const char *v)
{
    const char *h = host_end(v);

    if (strpbrk(v, " \t\r\n") != NULL || h == NULL || h == v || *h != ':')
        return 0;
    const char *port = h + 1, *colon = strchr(port, ':');
    return colon != NULL && port_of(port, (size_t)(colon - port)) && colon[1] != '\0';
}

/* curl's --connect-to: HOST:PORT:CONNECT-HOST:CONNECT-PORT, any part empty. */
static int valid_connect_to(const char *v)
{
    const char *h = host_end(v);

    if (strpbrk(v, " \t\r\n") != NULL || h == NULL || *h != ':')
        return 0;
    const char *port = h + 1, *colon = strchr(port, ':');
    if (colon == NULL || (colon > port && !port_of(port, (size_t)(colon - port))))
        return 0;
    const char *h2 = host_end(colon + 1);
    if (h2 == NULL || *h2 != ':')
        return 0;
    return h2[1] == '\0' || port_of(h2 + 1, strlen(h2 + 1));
}

/* The form each option's value takes, for its usage error. */
static const char *form_of(int c)
{
    switch (c) {
    case 'c':
        return "a whole number from 1 to 1000000; curl's -c is --cookie-jar here";
    case OPT_PER_HOST:
    case OPT_BURST:
    case OPT_MAX_DELIVERIES:
        return "a whole number from 1 to 1000000";
    case 'r':
    case OPT_RATE_HOST:
        return "N, N/s, N/m or N/h: starts per minute, second, minute or hour, N > 0 "
               "(0.5/s is one every 2 s)";
    case OPT_RATE_MODE:
        return "paced or window";
    case 't':
    case OPT_CONNECT_TIMEOUT:
    case OPT_DEADLINE:
    case OPT_PROGRESS_INTERVAL:
    case OPT_RETRY_MAX_WAIT:
    case OPT_CLAIM_IDLE:
        return "seconds above 0, fractions allowed: 2.5";
    case OPT_GRACE:
        return "seconds, 0 or more, fractions allowed: 2.5";
    case OPT_RETRIES:
        return "a whole number from 0 to 1000";
    case OPT_RETRY_ON:
        return "a comma list of transport, 429, 5xx, timeout and status numbers 100-599";
    case 'X':
        return "a method name of up to 32 letters, digits or !#$%&'*+-.^_`|~, e.g. POST";
    case 'o':
    case OPT_RESUME:
    case OPT_CACERT:
    case OPT_SUMMARY_JSON:
        return "a file name";
    case OPT_OUTPUT_DIR:
        return "a directory name";
    case OPT_REPORT:
        return "a records file (- for standard input)";
    case 'b':
        return "a cookie file, '' (none yet), or NAME=VALUE[; NAME=VALUE...] without CR or LF";
    case OPT_COOKIE_JAR:
        return "a file name (-c is --concurrency; curl's -c is --cookie-jar)";
    case OPT_BODY:
        return "none, text or base64";
    case OPT_KEEP_HEADER:
        return "a header name of letters, digits or !#$%&'*+-.^_`|~, e.g. ETag";
    case OPT_FORMAT:
        return "jsonl, csv or tsv";
    case OPT_MAX_REDIRS:
        return "a whole number from 1 to 1000 (--no-location follows none)";
    case 'x':
        return "a proxy URL without spaces: http://HOST:PORT, socks5h://HOST:PORT";
    case OPT_NOPROXY:
        return "a comma list of hosts without spaces: localhost,.internal";
    case OPT_RESOLVE:
        return "HOST:PORT:ADDRESS[,ADDRESS...], e.g. api.example.com:443:127.0.0.1";
    case OPT_CONNECT_TO:
        return "HOST:PORT:CONNECT-HOST:CONNECT-PORT (any may be empty), e.g. "
               "api.example.com:443:127.0.0.2:8443";
    case OPT_MAX_BODY:
        return "bytes, with K, M or G for KiB, MiB, GiB: 512K";
    case OPT_THREADS:
        return "a whole number from 0 to 256";
    case OPT_QUEUE:
        return "redis://HOST:PORT/NAME";
    case OPT_WORKER_NAME:
        return "1 to 128 characters without spaces, quotes or backslashes";
    case OPT_RATE_SLACK:
        return "milliseconds from 1 to 60000";
    case OPT_RATE_MARGIN:
        return "a percentage from 0 to 50: 5 or 5%";
    }
    return "see --help";
}

/* Edit distance of a and b (at most 40 characters each), for "did you mean". */
static unsigned distance(const char *a, const char *b)
{
    unsigned d[41], prev, la = (unsigned)strlen(a), lb = (unsigned)strlen(b);

    if (la > 40 || lb > 40)
        return 99;
    for (unsigned j = 0; j <= lb; j++)
        d[j] = j;
    for (unsigned i = 1; i <= la; i++) {
        prev = d[0];
        d[0] = i;
        for (unsigned j = 1; j <= lb; j++) {
            unsigned keep = d[j];
            unsigned sub = prev + (a[i - 1] != b[j - 1]);
            unsigned best = d[j] + 1 < d[j - 1] + 1 ? d[j] + 1 : d[j - 1] + 1;
            d[j] = sub < best ? sub : best;
            prev = keep;
        }
    }
    return d[lb];
}

/* The long option nearest to what was typed ("--concurency"), or NULL. */
static const char *nearest(const char *typed)
{
    char name[48];
    size_t n = strcspn(typed + 2, "=");
    const char *best = NULL;
    unsigned best_d = 99;

    if (strncmp(typed, "--", 2) != 0 || n == 0 || n >= sizeof name)
        return NULL;
    memcpy(name, typed + 2, n);
    name[n] = '\0';
    for (const struct option *l = longopts; l->name != NULL; l++) {
        unsigned d = distance(name, l->name);
        if (d < best_d) {
            best_d = d;
            best = l->name;
        }
    }
    return best_d <= (n > 6 ? 3u : 2u) ? best : NULL;
}

static enum fetch_action usage(char *err, size_t len, const char *fmt, ...)
{
    va_list ap;

    va_start(ap, fmt);
    vsnprintf(err, len, fmt, ap);
    va_end(ap);
    return FETCH_USAGE;
}

/* The option as the user wrote it, for messages: "-c" or "--concurrency". */
static const char *name_of(int c, char *buf, size_t len)
{
    for (const struct option *l = longopts; l->name != NULL; l++)
        if (l->val == c) {
            if (c < 256)
                snprintf(buf, len, "-%c/--%s", c, l->name);
            else
                snprintf(buf, len, "--%s", l->name);
            return buf;
        }
    snprintf(buf, len, "-%c", c);
    return buf;
}

static int apply(struct fetch_opts *o, int c, const char *v)
{
    switch (c) {
    case 'c':
        return parse_count(v, 1000000, 0, &o->concurrency);
    case OPT_PER_HOST:
        return parse_count(v, 1000000, 0, &o->per_host);
    case 'r':
        return fetch_parse_rate(v, &o->rate);
    case OPT_RATE_HOST:
        return fetch_parse_rate(v, &o->host_rate);
    case OPT_RATE_MODE:
        if (strcmp(v, "paced") == 0)
            o->rate.mode = CIO_RATE_PACED;
        else if (strcmp(v, "window") == 0)
            o->rate.mode = CIO_RATE_WINDOW;
        else
            return -1;
        return 0;
    case OPT_BURST:
        return parse_count(v, 1000000, 0, &o->rate.burst);
    case OPT_ADAPTIVE:
        o->adaptive = 1;
        return 0;
    case 't':
        return fetch_parse_seconds(v, 0, &o->timeout_ms);
    case OPT_CONNECT_TIMEOUT:
        return fetch_parse_seconds(v, 0, &o->connect_timeout_ms);
    case OPT_DEADLINE:
        return fetch_parse_seconds(v, 0, &o->deadline_ms);
    case OPT_RETRIES: {
        unsigned n;
        if (parse_count(v, 1000, 1, &n) != 0)
            return -1;
        o->retry.max_attempts = n + 1;
        return 0;
    }
    case OPT_RETRY_ON:
        return fetch_parse_retry_on(v, o);
    case OPT_RETRY_MAX_WAIT:
        return fetch_parse_seconds(v, 0, &o->retry.max_wait_ms);
    case 'X':
        o->method = v;
        return fetch_http_token(v, 32) ? 0 : -1;
    case 'd':
        o->data = v;
        return 0;
    case OPT_HTTP11:
        o->http_version = CIO_HTTP_1_1;
        return 0;
    case OPT_HTTP2:
        o->http_version = CIO_HTTP_2;
        return 0;
    case OPT_INSECURE:
        o->insecure = 1;
        return 0;
    case OPT_CACERT:
        o->cacert = v;
        return v[0] != '\0' ? 0 : -1;
    case 'o':
        o->output = v;
        return v[0] != '\0' ? 0 : -1;
    case OPT_BODY:
        if (strcmp(v, "none") == 0)
            o->body = FETCH_BODY_NONE;
        else if (strcmp(v, "text") == 0)
            o->body = FETCH_BODY_TEXT;
        else if (strcmp(v, "base64") == 0)
            o->body = FETCH_BODY_BASE64;
        else
            return -1;
        return 0;
    case OPT_MAX_BODY:
        return parse_size(v, &o->max_body);
    case OPT_FAIL:
        o->fail = 1;
        return 0;
    case OPT_KEEP_HEADER:
        o->keep_names[o->keep.n++] = v;
        return fetch_http_token(v, 256) ? 0 : -1;
    case OPT_HEADERS:
        o->keep.all = 1;
        return 0;
    case OPT_FORMAT:
        return fetch_format_kind(v, &o->format);
    case OPT_MAX_REDIRS:
        return parse_count(v, 1000, 0, &o->max_redirs);
    case OPT_LOCATION:
        o->no_location = 0;
        return 0;
    case OPT_NO_LOCATION:
        o->no_location = 1;
        return 0;
    case OPT_COMPRESSED:
        o->no_compressed = 0;
        return 0;
    case OPT_NO_COMPRESSED:
        o->no_compressed = 1;
        return 0;
    case 'x':
        o->proxy = v;
        return v[0] != '\0' && strpbrk(v, " \t\r\n") == NULL ? 0 : -1;
    case OPT_NOPROXY:
        o->noproxy = v;
        return strpbrk(v, " \t\r\n") == NULL ? 0 : -1;
    case OPT_SUMMARY_JSON:
        o->summary_json = v;
        return v[0] != '\0' ? 0 : -1;
    case OPT_OUTPUT_DIR:
        o->output_dir = v;
        return v[0] != '\0' ? 0 : -1;
    case OPT_KEEP_PARTIAL:
        o->keep_partial = 1;
        return 0;
    case 'b':
        o->cookie = v; /* "": kept, none loaded (curl -b '') */
        return strpbrk(v, "\r\n") == NULL ? 0 : -1;
    case OPT_COOKIE_JAR:
        o->cookie_jar = v;
        return v[0] != '\0' ? 0 : -1;
    case OPT_REPORT:
        o->report = v;
        return v[0] != '\0' ? 0 : -1;
    case OPT_RESOLVE:
        o->resolve[o->nresolve++] = v;
        return valid_resolve(v) ? 0 : -1;
    case OPT_CONNECT_TO:
        o->connect_to[o->nconnect_to++] = v;
        return valid_connect_to(v) ? 0 : -1;
    case OPT_RESUME:
        o->resume = v;
        return v[0] != '\0' ? 0 : -1;
    case OPT_PROGRESS:
        o->progress = FETCH_PROGRESS_ON;
        return 0;
    case OPT_NO_PROGRESS:
        o->progress = FETCH_PROGRESS_OFF;
        return 0;
    case OPT_PROGRESS_INTERVAL:
        return fetch_parse_seconds(v, 0, &o->progress_interval_ms);
    case OPT_GRACE:
        return fetch_parse_seconds(v, 1, &o->grace_ms);
    case 'q':
        o->quiet = 1;
        return 0;
    case OPT_THREADS:
        o->threads_set = 1;
        return parse_count(v, 256, 1, &o->threads);
    case OPT_QUEUE:
        o->queue = v;
        return strncmp(v, "redis://", 8) == 0 && strchr(v + 8, '/') != NULL &&
                       strchr(v + 8, '/')[1] != '\0'
                   ? 0
                   : -1;
    case OPT_ENQUEUE:
    case OPT_WORKER:
    case OPT_COLLECT: {
        enum fetch_qmode m = c == OPT_ENQUEUE  ? FETCH_Q_ENQUEUE
                             : c == OPT_WORKER ? FETCH_Q_WORKER
                                               : FETCH_Q_COLLECT;
        if (o->qmode != FETCH_Q_NONE && o->qmode != m)
            return -1;
        o->qmode = m;
        return 0;
    }
    case OPT_FOLLOW:
        o->follow = 1;
        return 0;
    case OPT_WORKER_NAME:
        o->worker_name = v;
        return v[0] != '\0' && strlen(v) <= 128 && strpbrk(v, " \t\r\n\"\\") == NULL ? 0 : -1;
    case OPT_CLAIM_IDLE:
        return fetch_parse_seconds(v, 0, &o->claim_idle_ms);
    case OPT_MAX_DELIVERIES:
        return parse_count(v, 1000000, 0, &o->max_deliveries);
    case OPT_RATE_SLACK:
        return parse_count(v, 60000, 0, &o->rate_slack_ms);
    case OPT_RATE_MARGIN: {
        char num[16];
        size_t n = strcspn(v, "%");
        if (n == 0 || n >= sizeof num || (v[n] == '%' && v[n + 1] != '\0'))
            return -1;
        memcpy(num, v, n);
        num[n] = '\0';
        return parse_count(num, 50, 1, &o->rate_margin_pct);
    }
    }
    return -1;
}

/* Queue mode's rules, after every option is read; NULL or what is wrong. */
static const char *queue_problem(const struct fetch_opts *o)
{
    if (o->queue == NULL)
        return o->qmode != FETCH_Q_NONE || o->follow || o->worker_name != NULL
                   ? "--enqueue, --worker, --collect, --follow and --worker-name need --queue"
                   : NULL;
    if (o->qmode == FETCH_Q_NONE)
        return "--queue needs one of --enqueue, --worker or --collect";
    if (o->follow && o->qmode != FETCH_Q_COLLECT)
        return "--follow goes with --collect";
    if (o->qmode != FETCH_Q_ENQUEUE && o->input != NULL)
        return "only --enqueue reads an input FILE";
    if (o->resume != NULL)
        return "--resume does not apply to queue mode (a job resumes by itself)";
    return NULL;
}

/* --output-dir's rules; NULL or what is wrong. */
static const char *output_dir_problem(const struct fetch_opts *o)
{
    if (o->output_dir == NULL)
        return o->name_template != NULL || o->keep_partial
                   ? "--name-template and --keep-partial go with --output-dir"
                   : NULL;
    if (o->body != FETCH_BODY_NONE)
        return "--output-dir writes bodies to files: not with --body text or base64";
    if (o->qmode == FETCH_Q_ENQUEUE || o->qmode == FETCH_Q_COLLECT)
        return "--output-dir goes with --worker, which fetches (each worker its own DIR)";
    return NULL;
}

/* Puts h where old is among the -H headers, or after them when old is NULL. */
static void replace_header(struct fetch_opts *o, const char *old, const char *h)
{
    for (size_t i = 0; old != NULL && i < o->nheaders; i++)
        if (o->headers[i] == old) {
            o->headers[i] = h;
            return;
        }
    o->headers[o->nheaders++] = h;
}

/* -u USER:PASSWORD as one more header: "Authorization: Basic ..." (libcurl sends no
 * custom Authorization to another host after a redirect). NULL, or what is wrong. */
static const char *basic_auth(struct fetch_opts *o, const char *v)
{
    if (strchr(v, ':') == NULL)
        return "expected USER:PASSWORD (concurio-fetch asks for no password)";
    if (strpbrk(v, "\r\n") != NULL)
        return "CR or LF in USER:PASSWORD";
    char *b64 = fetch_base64(v, strlen(v));
    size_t n = b64 != NULL ? strlen(b64) + 32 : 0;
    char *h = b64 != NULL ? malloc(n) : NULL;
    if (h == NULL) {
        free(b64);
        return "out of memory";
    }
    snprintf(h, n, "Authorization: Basic %s", b64);
    free(b64);
    replace_header(o, o->basic_auth, h); /* the last -u counts, as curl's */
    if (o->basic_auth != NULL)
        memset(o->basic_auth, 0, strlen(o->basic_auth));
    free(o->basic_auth);
    o->basic_auth = h;
    return NULL;
}

/* -A NAME as one more header: "User-Agent: NAME". */
static const char *user_agent(struct fetch_opts *o, const char *v)
{
    if (strpbrk(v, "\r\n") != NULL || v[0] == '\0')
        return "expected a name without CR or LF, e.g. 'mybot/1.0'";
    size_t n = strlen(v) + 16;
    char *h = malloc(n);
    char **keep = realloc(o->agents, (o->nagents + 1) * sizeof *keep);
    if (h == NULL || keep == NULL) {
        free(h);
        if (keep != NULL)
            o->agents = keep;
        return "out of memory";
    }
    o->agents = keep;
    snprintf(h, n, "User-Agent: %s", v);
    replace_header(o, o->nagents > 0 ? o->agents[o->nagents - 1] : NULL, h); /* the last */
    o->agents[o->nagents++] = h;
    return NULL;
}

/* --fields and --format: what they cannot go with, the columns CSV gets without
 * --fields, and the headers that "headers.NAME" fields keep. */
static enum fetch_action formats(struct fetch_opts *o, char *err, size_t errlen)
{
    struct fetch_format *f = &o->format;

    if (fetch_format_plain(f))
        return FETCH_RUN;
    if (o->resume != NULL)
        return usage(err, errlen,
                     "--resume reads and continues whole JSON records: not with --fields "
                     "or --format");
    if (o->qmode == FETCH_Q_WORKER || o->qmode == FETCH_Q_ENQUEUE)
        return usage(err, errlen,
                     "a job keeps whole records: give --fields and --format to --collect");
    if (f->fields == NULL && fetch_format_default_fields(f) != 0)
        return usage(err, errlen, "out of memory");
    size_t more = 0;
    for (size_t i = 0; i < f->n; i++)
        more += strncmp(f->fields[i], "headers.", 8) == 0 || strcmp(f->fields[i], "headers") == 0;
    if (more == 0 || o->keep.all)
        return FETCH_RUN;
    const char **names = realloc(o->keep_names, (o->keep.n + more + 1) * sizeof *names);
    if (names == NULL)
        return usage(err, errlen, "out of memory");
    o->keep_names = names;
    o->keep.names = names;
    for (size_t i = 0; i < f->n; i++)
        if (strcmp(f->fields[i], "headers") == 0)
            o->keep.all = 1; /* the whole object: every header */
        else if (strncmp(f->fields[i], "headers.", 8) == 0)
            names[o->keep.n++] = f->fields[i] + 8;
    return FETCH_RUN;
}

enum fetch_action fetch_parse_args(int argc, char **argv, struct fetch_opts *o, char *err,
                                   size_t errlen)
{
    char name[48];
    int c;

    memset(o, 0, sizeof *o);
    o->concurrency = 50;
    o->max_body = (size_t)1 << 20;
    o->progress_interval_ms = 10000;
    o->grace_ms = 5000;
    o->claim_idle_ms = 30000;
    o->max_deliveries = 5;
    o->rate_slack_ms = 50;
    o->rate_margin_pct = 5;
    o->headers = calloc((size_t)argc + 1, sizeof *o->headers);
    o->keep_names = calloc((size_t)argc + 1, sizeof *o->keep_names);
    if (o->headers == NULL || o->keep_names == NULL)
        return usage(err, errlen, "out of memory");
    o->keep.names = o->keep_names;
    o->resolve = calloc((size_t)argc + 1, sizeof *o->resolve);
    o->connect_to = calloc((size_t)argc + 1, sizeof *o->connect_to);
    if (o->resolve == NULL || o->connect_to == NULL)
        return usage(err, errlen, "out of memory");
    err[0] = '\0';
    opterr = 0;
    optind = 0; /* glibc: a full restart; 1 would keep its place inside an old "-abc" */
    /* The rate mode may come before or after the rate: keep it aside. */
    unsigned mode = CIO_RATE_PACED, burst = 0;
    int http_given = 0, mode_given = 0, burst_given = 0, rate_set = 0;
    while ((c = getopt_long(argc, argv, ":c:r:t:X:H:d:o:x:u:A:b:kLqVh", longopts, NULL)) != -1) {
        if (c == 'h')
            return FETCH_HELP;
        if (c == 'V')
            return FETCH_VERSION;
        if (c == '?') {
            if (optopt != 0)
                return usage(err, errlen, "unknown option -%c", optopt);
            const char *typed = argv[optind - 1], *near = nearest(typed);
            if (near != NULL)
                return usage(err, errlen, "unknown option %s (did you mean --%s?)", typed, near);
            return usage(err, errlen, "unknown option %s", typed);
        }
        if (c == ':')
            return usage(err, errlen, "option %s needs a value",
                         optopt != 0 ? name_of(optopt, name, sizeof name) : argv[optind - 1]);
        if (c == 'k' || c == 'L')
            c = c == 'k' ? OPT_INSECURE : OPT_LOCATION; /* curl's short forms */
        if (c == 'u' || c == 'A') {
            const char *problem = c == 'u' ? basic_auth(o, optarg) : user_agent(o, optarg);
            if (problem != NULL) /* never the value: it may be a password */
                return usage(err, errlen, "%s: %s", c == 'u' ? "-u/--user" : "-A/--user-agent",
                             problem);
            continue;
        }
        if (c == 'H') {
            if (optarg[0] == '@' && optarg[1] == '\0')
                return usage(err, errlen,
                             "-H/--header @: expected @FILE, a file of header "
                             "lines");
            if (optarg[0] != '@' && !fetch_valid_header(optarg))
                return usage(err, errlen,
                             "-H/--header '%s': expected 'Name: value' (a name without spaces, "
                             "no CR or LF) or @FILE",
                             optarg);
            o->headers[o->nheaders++] = optarg; /* @FILE: main reads it */
            continue;
        }
        if (c == OPT_FIELDS) {
            char why[512];
            if (fetch_format_fields(optarg, &o->format, why, sizeof why) != 0)
                return usage(err, errlen, "--fields: %s", why);
            continue;
        }
        if (c == OPT_NAME_TEMPLATE) {
            struct fetch_template t;
            char why[256];
            if (fetch_template_parse(optarg, &t, why, sizeof why) != 0)
                return usage(err, errlen, "--name-template '%s': %s", optarg, why);
            o->name_template = optarg;
            continue;
        }
        if (c == OPT_ENQUEUE || c == OPT_WORKER || c == OPT_COLLECT) {
            if (apply(o, c, NULL) != 0)
                return usage(err, errlen, "one of --enqueue, --worker and --collect, not two");
            continue;
        }
        int bad = apply(o, c, optarg) != 0;
        if (bad && c == 'b') /* a cookie may be a secret: not echoed */
            return usage(err, errlen, "%s: invalid value (expected %s)",
                         name_of(c, name, sizeof name), form_of(c));
        if (bad)
            return usage(err, errlen, "%s: invalid value '%s' (expected %s)",
                         name_of(c, name, sizeof name), optarg, form_of(c));
        if (c == OPT_HTTP11 || c == OPT_HTTP2)
            http_given |= c == OPT_HTTP11 ? 1 : 2;
        if (c == OPT_RATE_MODE)
            mode_given = 1;
        if (c == OPT_BURST)
            burst_given = 1;
        if (c == 'r' || c == OPT_RATE_HOST)
            rate_set = 1;
        if (c == OPT_RATE_MODE)
            mode = o->rate.mode;
        if (c == OPT_BURST)
            burst = o->rate.burst;
        if (c == 'r' || c == OPT_BURST || c == OPT_RATE_MODE)
            o->rate_given = 1;
    }
    if (optind < argc - 1)
        return usage(err, errlen, "one input FILE at most (got '%s' and '%s')", argv[optind],
                     argv[optind + 1]);
    o->input = optind < argc ? argv[optind] : NULL;
    if (o->input != NULL && o->input[0] == '\0')
        return usage(err, errlen, "the input FILE is an empty name (use - for standard input)");
    /* Options that contradict each other, or do nothing without another. */
    if (http_given == 3)
        return usage(err, errlen, "--http1.1 and --http2 contradict each other: give one");
    if (o->insecure && o->cacert != NULL)
        return usage(err, errlen,
                     "--insecure and --cacert contradict each other: --cacert "
                     "verifies servers with FILE, --insecure verifies nothing");
    if (o->keep.all && o->keep.n > 0)
        return usage(err, errlen,
                     "--headers keeps every response header: --keep-header %s adds "
                     "nothing (give one of them)",
                     o->keep.names[0]);
    if (o->quiet && o->progress == FETCH_PROGRESS_ON)
        return usage(err, errlen, "-q/--quiet and --progress contradict each other: give one");
    if ((mode_given || burst_given) && !rate_set)
        return usage(err, errlen, "%s sets how -r/--rate or --rate-host is kept: give one of them",
                     mode_given ? "--rate-mode" : "--burst");
    if (burst_given && mode == CIO_RATE_WINDOW)
        return usage(err, errlen,
                     "--burst is the paced mode's bucket: --rate-mode window has "
                     "none (its whole quota may go at once)");
    o->rate.mode = o->host_rate.mode = mode;
    o->rate.burst = o->host_rate.burst = burst;
    if (o->cookie != NULL && strchr(o->cookie, '=') != NULL) { /* curl's test: no '=', a file */
        size_t n = strlen(o->cookie) + 16;
        if ((o->cookie_header = malloc(n)) == NULL)
            return usage(err, errlen, "out of memory");
        snprintf(o->cookie_header, n, "Cookie: %s", o->cookie);
        replace_header(o, NULL, o->cookie_header);
        if (o->cookie_jar != NULL) /* one Cookie line from the header, one from the store */
            return usage(err, errlen,
                         "-b NAME=VALUE is a header on every request; to keep a session "
                         "with --cookie-jar, put the cookie in a file (curl's format) and "
                         "give -b FILE");
    }
    const char *problem = queue_problem(o);
    if (problem == NULL)
        problem = output_dir_problem(o);
    if (problem == NULL && o->report != NULL &&
        (o->input != NULL || o->queue != NULL || o->resume != NULL || o->output_dir != NULL))
        problem = "--report FILE reads records and writes a page (or, with --fields or "
                  "--format, the records as a table): no input FILE, --queue, --resume or "
                  "--output-dir with it (-r draws the limit, -o names the page)";
    if (problem != NULL)
        return usage(err, errlen, "%s", problem);
    return formats(o, err, errlen);
}

unsigned fetch_threads_default(unsigned cpus, unsigned others_runnable, const cio_rate *rate)
{
    unsigned free_cpus = cpus > others_runnable ? cpus - others_runnable : 0;
    uint64_t period_ms = rate != NULL && rate->period_ms != 0 ? rate->period_ms : 60000;

    if (rate != NULL && rate->count > 0 &&
        (uint64_t)rate->count * 1000 <= (uint64_t)FETCH_ONE_THREAD_RATE * period_ms)
        return 0;
    if (cpus == 1)
        return 1;
    if (free_cpus < 2)
        return 0;
    return free_cpus > 64 ? 64 : free_cpus;
}

void fetch_opts_free(struct fetch_opts *o)
{
    free(o->headers);
    o->headers = NULL;
    free(o->keep_names);
    o->keep_names = NULL;
    o->keep.names = NULL;
    fetch_format_free(&o->format);
    free(o->resolve);
    free(o->connect_to);
    o->resolve = o->connect_to = NULL;
    if (o->basic_auth != NULL) /* not left in freed memory */
        memset(o->basic_auth, 0, strlen(o->basic_auth));
    free(o->basic_auth);
    o->basic_auth = NULL;
    free(o->cookie_header);
    o->cookie_header = NULL;
    for (size_t i = 0; i < o->nagents; i++)
        free(o->agents[i]);
    free(o->agents);
    o->agents = NULL;
    o->nagents = 0;
}
