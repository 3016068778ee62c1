/* SPDX-License-Identifier: Apache-2.0 */
/* concurio-fetch's record formats (--fields, --format): chosen fields of a JSON record,
 * in the order chosen, as JSON lines, CSV (RFC 4180) or TSV. A record is read as text,
 * the writer's own or a queue job's (which may be anything): a field it lacks, or cannot
 * be read, is left out (an empty cell). Pure: text in, text out. */
#ifndef CIO_FETCH_FORMAT_H
#define CIO_FETCH_FORMAT_H

#include <stddef.h>

#include "output.h"

enum fetch_format_kind { FETCH_FORMAT_JSONL = 0, FETCH_FORMAT_CSV, FETCH_FORMAT_TSV };

struct fetch_format {
    enum fetch_format_kind kind;
    char **fields; /* malloc'ed names: "url", "timings.total_ms", "headers.etag"; NULL: all */
    size_t n;
};

/* 1 when s is an HTTP token (a method, a header name) of 1 to max characters. */
int fetch_http_token(const char *s, size_t max);

/* "jsonl", "csv" or "tsv" into f->kind; 0 or -1. */
int fetch_format_kind(const char *s, struct fetch_format *f);
/* A comma list of field names into f->fields (replacing any before); 0, or -1 with err
 * naming the first wrong one (unknown, repeated, empty). "headers.NAME" is stored in
 * lower case. */
int fetch_format_fields(const char *list, struct fetch_format *f, char *err, size_t errlen);
/* CSV and TSV without --fields: these columns. 0 or -1 (out of memory). */
int fetch_format_default_fields(struct fetch_format *f);
void fetch_format_free(struct fetch_format *f);

/* 1 when records go out as the writer makes them (JSON lines, every field). */
int fetch_format_plain(const struct fetch_format *f);
/* Appends the header row of CSV and TSV (nothing for JSON lines). 0 or -1. */
int fetch_format_header(const struct fetch_format *f, struct fetch_buf *b);
/* Appends the record json[0..len) (one JSON object, a trailing "\n" allowed) as f says,
 * ending in "\n" ("\r\n" for CSV). 0 or -1 (out of memory: nothing appended). */
int fetch_format_record(const struct fetch_format *f, const char *json, size_t len,
                        struct fetch_buf *b);

#endif
