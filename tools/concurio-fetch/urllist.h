/* SPDX-License-Identifier: Apache-2.0 */
/* concurio-fetch's input lines: a plain URL or a JSON object per line, turned into a
 * request or a clear error. Pure: no I/O; what it returns it allocates. */
#ifndef CIO_FETCH_URLLIST_H
#define CIO_FETCH_URLLIST_H

#include <stddef.h>

#define FETCH_MAX_LINE 65536u

enum fetch_line { FETCH_SKIP = 0, FETCH_ITEM = 1, FETCH_BAD = 2 };

struct fetch_item {
    char *id;       /* the JSON text of the line's "id" ("\"a7\"", "17"); NULL: none */
    char *url;      /* for FETCH_BAD: the URL if one could be read, else the raw line
                       (control characters as '?'; the record writer hides passwords
                       first, then cuts it) */
    char *method;   /* NULL: the default (-X, or GET / POST with a body) */
    char **headers; /* "Name: value" strings */
    size_t nheaders;
    char *body; /* NULL: none */
    size_t body_len;
    int body_is_json; /* the body was a JSON object or array (sent as compact JSON) */
    int is_json;      /* the line was a JSON object (-X and -d do not apply) */
    char *key;        /* the "key" field: a limits key; NULL: the URL's host */
    char error[160];  /* what was wrong, for FETCH_BAD */
};

/* Reads one input line (without or with its "\n"). Blank lines and lines whose first
 * non-space character is '#' are FETCH_SKIP. A line longer than FETCH_MAX_LINE as read
 * (the reader hands it cut to FETCH_MAX_LINE + 1 bytes) is FETCH_BAD, whatever it holds. *out is
 * filled for FETCH_ITEM and FETCH_BAD (free it with fetch_item_clear); out of memory is FETCH_BAD
 * too. */
enum fetch_line fetch_parse_line(const char *line, size_t len, struct fetch_item *out);
void fetch_item_clear(struct fetch_item *it);
/* 1 when fetch_parse_line would not say FETCH_SKIP: the line yields a record. */
int fetch_line_is_item(const char *line, size_t len);

/* The length of the valid UTF-8 sequence at s (left > 0 bytes there), or 0 when it is
 * not one (overlong, surrogate, cut short, past U+10FFFF). */
size_t fetch_utf8_seq(const char *s, size_t left);
/* 1 when s[0..len) is valid UTF-8. */
int fetch_utf8_valid(const char *s, size_t len);

#endif
