/* SPDX-License-Identifier: Apache-2.0 */
/* concurio-fetch's records: one JSON object per ended item, as one line. Pure: it
 * builds text, the caller writes it. */
#ifndef CIO_FETCH_OUTPUT_H
#define CIO_FETCH_OUTPUT_H

#include <stddef.h>
#include <stdint.h>

#include <concurio/concurio.h>

enum fetch_body { FETCH_BODY_NONE = 0, FETCH_BODY_TEXT, FETCH_BODY_BASE64 };
enum fetch_outcome { FETCH_DONE = 0, FETCH_ERROR, FETCH_TIMEOUT };

/* Which response headers a record keeps (--keep-header, --headers). */
struct fetch_keep {
    const char *const *names; /* kept by name, case-insensitive */
    size_t n;
    int all; /* every header */
};

struct fetch_record {
    const char *id;           /* JSON text of the input's id, or NULL: the line number is used */
    uint64_t line;            /* 1-based input line */
    const char *url, *method; /* url: its userinfo is written as "***" */
    size_t url_max;           /* > 0: url cut to this many bytes (after hiding) */
    enum fetch_outcome outcome;
    long http_status;    /* 0: none */
    uint64_t elapsed_ms; /* first start to end */
    size_t bytes;        /* decoded body bytes received */
    unsigned attempts;
    const char *error;   /* for error and timeout; passwords in URLs hidden */
    unsigned timeout_ms; /* for timeout: the limit that expired */
    const char *body;    /* with a body mode: the kept body; NULL: no "body" field */
    size_t body_len;
    int truncated;              /* the body passed --max-body: "truncated":true whatever the mode */
    const cio_timings *timings; /* NULL: no "timings" object */
    const char *worker;         /* queue mode: the worker's name; NULL: no such field */
    const char *path;           /* --output-dir: the body's file; NULL: no such field */
    const char *effective_url;  /* after redirects (its userinfo hidden); NULL: no field */
    int curl_code;              /* libcurl's code of a failed transfer; 0: no field */
    long http_version;          /* of the response: 10, 11, 20, 30; 0: no field */
    uint64_t started_at_ms;     /* wall clock (Unix ms) at the first start; 0: no field */
    const char *headers;        /* the response's "Name: value\r\n" lines; gives the */
    size_t headers_len;         /*   "content_type" field and what keep names */
    const struct fetch_keep *keep; /* NULL: no "headers" object */
};

/* A growing buffer of records, reused from one to the next. */
struct fetch_buf {
    char *p;
    size_t len, cap;
};

/* Appends the record as one line of JSON ending in "\n". Returns 0, or -1 when out of
 * memory (nothing appended). */
int fetch_record_append(struct fetch_buf *b, const struct fetch_record *r, enum fetch_body mode);
void fetch_buf_free(struct fetch_buf *b);
/* Appends s[0..n); 0 or -1 (out of memory, nothing appended). */
int fetch_buf_add(struct fetch_buf *b, const char *s, size_t n);
/* Appends s[0..n) as a JSON string, escaped as records' strings are; 0 or -1. */
int fetch_buf_add_json(struct fetch_buf *b, const char *s, size_t n);

/* Unix time in ms as RFC 3339 in UTC with milliseconds ("2026-12-02T01:51:11.123Z") into
 * out, which has room for FETCH_RFC3339_LEN bytes (its NUL included). */
#define FETCH_RFC3339_LEN 25
void fetch_rfc3339(char *out, uint64_t unix_ms);

/* s[0..len) in standard base64 with padding; malloc'ed. */
char *fetch_base64(const void *s, size_t len);
/* A copy of text with the userinfo of every URL ("user:password@", "token@") replaced
 * by "***", whatever it holds (raw spaces, '#', '?'): for records and stderr;
 * malloc'ed. */
char *fetch_redact(const char *text);

#endif
