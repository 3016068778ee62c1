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

/* s[0..len) in standard base64 with padding; malloc'ed. */
char *fetch_base64(const void *s, size_t len);
/* A copy of text with the userinfo of every URL ("user:password@", "token@") replaced
 * by "***", whatever it holds (raw spaces, '#', '?'): for records and stderr;
 * malloc'ed. */
char *fetch_redact(const char *text);

#endif
