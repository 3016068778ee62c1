/* SPDX-License-Identifier: Apache-2.0 */
/* Records in chosen fields and formats (format.h). The record is scanned, not trusted:
 * every string is decoded and written again through the record writer's escaper, every
 * number checked, so the output is valid whatever a queue job held. */
#define _POSIX_C_SOURCE 200809L
#include "format.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define MAX_DEPTH 16

static const char *const top_fields[] = {
    "id",          "line",         "url",          "effective_url", "method",     "outcome",
    "http_status", "http_version", "content_type", "curl_code",     "started_at", "elapsed_ms",
    "bytes",       "attempts",     "error",        "timeout_ms",    "body",       "truncated",
    "headers",     "timings",      "worker",       "path",          NULL};
static const char *const timing_fields[] = {"queued_ms",     "rate_wait_ms", "connect_ms", "tls_ms",
                                            "first_byte_ms", "total_ms",     NULL};
static const char default_fields[] =
    "id,line,url,effective_url,method,outcome,http_status,http_version,content_type,"
    "curl_code,started_at,elapsed_ms,bytes,attempts,error,timeout_ms";

int fetch_format_kind(const char *s, struct fetch_format *f)
{
    static const char *const names[] = {"jsonl", "csv", "tsv"};

    for (int i = 0; i < 3; i++)
        if (strcmp(s, names[i]) == 0) {
            f->kind = (enum fetch_format_kind)i;
            return 0;
        }
    return -1;
}

static int listed(const char *const *names, const char *s)
{
    for (; *names != NULL; names++)
        if (strcmp(*names, s) == 0)
            return 1;
    return 0;
}

int fetch_http_token(const char *s, size_t max)
{
    size_t n = strlen(s);

    if (n == 0 || n > max)
        return 0;
    for (; *s != '\0'; s++)
        if (*s <= ' ' || *s >= 127 || strchr("()<>@,;:\\\"/[]?={}", *s) != NULL)
            return 0;
    return 1;
}

static int known(char *name)
{
    if (strncmp(name, "headers.", 8) == 0 && fetch_http_token(name + 8, 256)) {
        for (char *c = name + 8; *c != '\0'; c++)
            if (*c >= 'A' && *c <= 'Z')
                *c = (char)(*c - 'A' + 'a');
        return 1;
    }
    if (strncmp(name, "timings.", 8) == 0)
        return listed(timing_fields, name + 8);
    return listed(top_fields, name);
}

void fetch_format_free(struct fetch_format *f)
{
    for (size_t i = 0; i < f->n; i++)
        free(f->fields[i]);
    free(f->fields);
    f->fields = NULL;
    f->n = 0;
}

int fetch_format_fields(const char *list, struct fetch_format *f, char *err, size_t errlen)
{
    size_t n = 1;

    fetch_format_free(f);
    for (const char *c = list; *c != '\0'; c++)
        n += *c == ',';
    if ((f->fields = calloc(n, sizeof *f->fields)) == NULL) {
        snprintf(err, errlen, "out of memory");
        return -1;
    }
    for (const char *p = list;; p++) {
        size_t len = strcspn(p, ",");
        char *name = malloc(len + 1);
        if (name == NULL) {
            snprintf(err, errlen, "out of memory");
            return -1;
        }
        memcpy(name, p, len);
        name[len] = '\0';
        f->fields[f->n++] = name;
        if (len == 0) {
            snprintf(err, errlen, "an empty field name in '%s'", list);
            return -1;
        }
        if (!known(name)) {
            snprintf(err, errlen,
                     "unknown field '%s' (fields: %s, body, truncated, headers, timings, "
                     "worker, path, timings.NAME, headers.NAME)",
                     name, default_fields);
            return -1;
        }
        for (size_t i = 0; i + 1 < f->n; i++)
            if (strcmp(f->fields[i], name) == 0) {
                snprintf(err, errlen, "field '%s' is named twice", name);
                return -1;
            }
        p += len;
        if (*p == '\0')
            return 0;
    }
}

int fetch_format_default_fields(struct fetch_format *f)
{
    char err[16];

    return fetch_format_fields(default_fields, f, err, sizeof err);
}

int fetch_format_plain(const struct fetch_format *f)
{
    return f->kind == FETCH_FORMAT_JSONL && f->fields == NULL;
}

static const char *eol(const struct fetch_format *f)
{
    return f->kind == FETCH_FORMAT_CSV ? "\r\n" : "\n";
}

int fetch_format_header(const struct fetch_format *f, struct fetch_buf *b)
{
    size_t start = b->len;
    int rc = 0;

    if (f->kind == FETCH_FORMAT_JSONL)
        return 0;
    for (size_t i = 0; rc == 0 && i < f->n; i++) /* names are tokens: never quoted */
        rc = (i > 0 && fetch_buf_add(b, f->kind == FETCH_FORMAT_CSV ? "," : "\t", 1) != 0) ||
             fetch_buf_add(b, f->fields[i], strlen(f->fields[i])) != 0;
    rc = rc || fetch_buf_add(b, eol(f), strlen(eol(f))) != 0;
    if (rc != 0)
        b->len = start;
    return rc ? -1 : 0;
}

/* ---- reading a record --------------------------------------------------------------- */

struct span {
    const char *p, *e;
};

static const char *spaces(const char *p, const char *e)
{
    while (p < e && (*p == ' ' || *p == '\t' || *p == '\r' || *p == '\n'))
        p++;
    return p;
}

/* A JSON number, true, false or null, all of [p, e). */
static int scalar(const char *p, const char *e)
{
    size_t n = (size_t)(e - p);

    if ((n == 4 && memcmp(p, "true", 4) == 0) || (n == 5 && memcmp(p, "false", 5) == 0) ||
        (n == 4 && memcmp(p, "null", 4) == 0))
        return 1;
    if (p < e && *p == '-')
        p++;
    const char *d = p;
    while (p < e && *p >= '0' && *p <= '9')
        p++;
    if (p == d)
        return 0;
    if (p < e && *p == '.') {
        d = ++p;
        while (p < e && *p >= '0' && *p <= '9')
            p++;
        if (p == d)
            return 0;
    }
    if (p < e && (*p == 'e' || *p == 'E')) {
        p++;
        if (p < e && (*p == '+' || *p == '-'))
            p++;
        d = p;
        while (p < e && *p >= '0' && *p <= '9')
            p++;
        if (p == d)
            return 0;
    }
    return p == e;
}

/* The end of the JSON value at p, or NULL when there is none. */
static const char *skip(const char *p, const char *e, int depth)
{
    if (p >= e || depth > MAX_DEPTH)
        return NULL;
    if (*p == '"') {
        for (p++; p < e; p++)
            if (*p == '\\')
                p++;
            else if (*p == '"')
                return p + 1;
        return NULL;
    }
    if (*p == '{' || *p == '[') {
        char close = *p == '{' ? '}' : ']';
        p = spaces(p + 1, e);
        if (p < e && *p == close)
            return p + 1;
        for (;;) {
            if (close == '}') {
                if (p >= e || *p != '"' || (p = skip(p, e, depth + 1)) == NULL)
                    return NULL;
                p = spaces(p, e);
                if (p >= e || *p != ':')
                    return NULL;
                p = spaces(p + 1, e);
            }
            if ((p = skip(p, e, depth + 1)) == NULL)
                return NULL;
            p = spaces(p, e);
            if (p < e && *p == close)
                return p + 1;
            if (p >= e || *p != ',')
                return NULL;
            p = spaces(p + 1, e);
        }
    }
    const char *s = p;
    while (p < e && memchr(",}] \t\r\n", *p, 7) == NULL)
        p++;
    return p > s && scalar(s, p) ? p : NULL;
}

/* The value of `key` (len bytes) in the object v, or 0. */
static int member(struct span v, const char *key, size_t len, struct span *out)
{
    const char *p = spaces(v.p, v.e), *e = v.e;

    if (p >= e || *p != '{')
        return 0;
    p = spaces(p + 1, e);
    while (p < e && *p == '"') {
        const char *k = p, *kend = skip(p, e, 1);
        if (kend == NULL)
            return 0;
        p = spaces(kend, e);
        if (p >= e || *p != ':')
            return 0;
        p = spaces(p + 1, e);
        const char *vend = skip(p, e, 1);
        if (vend == NULL)
            return 0;
        if ((size_t)(kend - k) == len + 2 && memcmp(k + 1, key, len) == 0) {
            *out = (struct span){p, vend};
            return 1;
        }
        p = spaces(vend, e);
        if (p >= e || *p != ',')
            return 0;
        p = spaces(p + 1, e);
    }
    return 0;
}

/* A field ("timings.total_ms": a member of a member) of the record. */
static int field(struct span rec, const char *name, struct span *out)
{
    const char *dot = strchr(name, '.');
    struct span outer;

    if (dot == NULL)
        return member(rec, name, strlen(name), out);
    return member(rec, name, (size_t)(dot - name), &outer) &&
           member(outer, dot + 1, strlen(dot + 1), out);
}

static unsigned hex4(const char *p)
{
    unsigned v = 0;

    for (int i = 0; i < 4; i++) {
        char c = p[i];
        int d = c >= '0' && c <= '9'   ? c - '0'
                : c >= 'a' && c <= 'f' ? c - 'a' + 10
                : c >= 'A' && c <= 'F' ? c - 'A' + 10
                                       : -1;
        if (d < 0)
            return 0x110000; /* not hex */
        v = v << 4 | (unsigned)d;
    }
    return v;
}

static int put_utf8(struct fetch_buf *b, unsigned cp)
{
    char u[4];
    size_t n;

    if (cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF))
        cp = 0xFFFD;
    if (cp < 0x80) {
        u[0] = (char)cp;
        n = 1;
    } else if (cp < 0x800) {
        u[0] = (char)(0xC0 | cp >> 6);
        u[1] = (char)(0x80 | (cp & 63));
        n = 2;
    } else if (cp < 0x10000) {
        u[0] = (char)(0xE0 | cp >> 12);
        u[1] = (char)(0x80 | ((cp >> 6) & 63));
        u[2] = (char)(0x80 | (cp & 63));
        n = 3;
    } else {
        u[0] = (char)(0xF0 | cp >> 18);
        u[1] = (char)(0x80 | ((cp >> 12) & 63));
        u[2] = (char)(0x80 | ((cp >> 6) & 63));
        u[3] = (char)(0x80 | (cp & 63));
        n = 4;
    }
    return fetch_buf_add(b, u, n);
}

/* The text of the JSON string s (its quotes included) appended to b. */
static int decode(struct fetch_buf *b, struct span s)
{
    const char *p = s.p + 1, *e = s.e - 1;
    int rc = 0;

    while (rc == 0 && p < e) {
        const char *bs = memchr(p, '\\', (size_t)(e - p));
        const char *stop = bs != NULL ? bs : e;
        rc = fetch_buf_add(b, p, (size_t)(stop - p));
        if (bs == NULL || rc != 0 || bs + 1 >= e)
            break;
        p = bs + 2;
        static const char from[] = "\"\\/bfnrt", to[] = "\"\\/\b\f\n\r\t";
        const char *k = bs[1] != '\0' ? strchr(from, bs[1]) : NULL;
        if (k != NULL) {
            rc = fetch_buf_add(b, to + (k - from), 1);
        } else if (bs[1] == 'u' && e - p >= 4) {
            unsigned cp = hex4(p);
            p += 4;
            if (cp >= 0xD800 && cp <= 0xDBFF && e - p >= 6 && p[0] == '\\' && p[1] == 'u') {
                unsigned lo = hex4(p + 2);
                if (lo >= 0xDC00 && lo <= 0xDFFF) {
                    cp = 0x10000 + ((cp - 0xD800) << 10) + (lo - 0xDC00);
                    p += 6;
                }
            }
            rc = put_utf8(b, cp);
        } else {
            rc = fetch_buf_add(b, bs + 1, 1); /* not JSON: the character as it is */
        }
    }
    return rc;
}

/* The value v written again as JSON: strings through the writer's escaper. */
static int put_json(struct fetch_buf *b, struct span v, int depth)
{
    const char *p = spaces(v.p, v.e);

    if (p < v.e && *p == '"') {
        struct fetch_buf text = {0};
        int rc = decode(&text, (struct span){p, v.e}) ||
                 fetch_buf_add_json(b, text.p != NULL ? text.p : "", text.len);
        fetch_buf_free(&text);
        return rc;
    }
    if (p >= v.e || (*p != '{' && *p != '[') || depth > MAX_DEPTH)
        return fetch_buf_add(b, p, (size_t)(v.e - p)); /* a scalar, checked by skip */
    char close = *p == '{' ? '}' : ']';
    int rc = fetch_buf_add(b, p, 1), first = 1;
    for (p = spaces(p + 1, v.e); rc == 0 && p < v.e && *p != close; first = 0) {
        rc = !first && fetch_buf_add(b, ",", 1);
        if (close == '}') {
            const char *kend = skip(p, v.e, 1);
            rc = rc || put_json(b, (struct span){p, kend}, depth + 1) || fetch_buf_add(b, ":", 1);
            p = spaces(spaces(kend, v.e) + 1, v.e); /* past ':' (skip checked it) */
        }
        const char *end = skip(p, v.e, depth + 1);
        rc = rc || put_json(b, (struct span){p, end}, depth + 1);
        p = spaces(end, v.e);
        if (p < v.e && *p == ',')
            p = spaces(p + 1, v.e);
    }
    return rc || fetch_buf_add(b, &close, 1);
}

/* A cell's text: a string's own text, a scalar as it is (null: nothing), an object or
 * array as JSON. */
static int cell_text(struct fetch_buf *t, struct span v)
{
    if (*v.p == '"')
        return decode(t, v);
    if (*v.p == '{' || *v.p == '[')
        return put_json(t, v, 0);
    if (v.e - v.p == 4 && memcmp(v.p, "null", 4) == 0)
        return 0;
    return fetch_buf_add(t, v.p, (size_t)(v.e - v.p));
}

/* RFC 4180: quoted when it holds a comma, a quote, CR or LF; quotes doubled. */
static int put_csv(struct fetch_buf *b, const char *s, size_t n)
{
    int rc, quote = 0;

    for (size_t i = 0; i < n; i++)
        quote |= s[i] == ',' || s[i] == '"' || s[i] == '\r' || s[i] == '\n';
    if (!quote)
        return fetch_buf_add(b, s, n);
    rc = fetch_buf_add(b, "\"", 1);
    for (size_t i = 0; rc == 0 && i < n;) {
        const char *q = memchr(s + i, '"', n - i);
        size_t run = q != NULL ? (size_t)(q - (s + i)) + 1 : n - i;
        rc = fetch_buf_add(b, s + i, run) || (q != NULL && fetch_buf_add(b, "\"", 1));
        i += run;
    }
    return rc || fetch_buf_add(b, "\"", 1);
}

/* TSV as jq's @tsv writes it: backslash, tab, CR and LF as \\, \t, \r, \n. */
static int put_tsv(struct fetch_buf *b, const char *s, size_t n)
{
    int rc = 0;

    for (size_t i = 0; rc == 0 && i < n; i++) {
        const char *esc = s[i] == '\\'   ? "\\\\"
                          : s[i] == '\t' ? "\\t"
                          : s[i] == '\r' ? "\\r"
                          : s[i] == '\n' ? "\\n"
                                         : NULL;
        rc = esc != NULL ? fetch_buf_add(b, esc, 2) : fetch_buf_add(b, s + i, 1);
    }
    return rc;
}

int fetch_format_record(const struct fetch_format *f, const char *json, size_t len,
                        struct fetch_buf *b)
{
    struct span rec = {json, json + len}, v;
    struct fetch_buf t = {0};
    size_t start = b->len;
    int rc = 0, first = 1;

    while (rec.e > rec.p && (rec.e[-1] == '\n' || rec.e[-1] == '\r'))
        rec.e--;
    if (f->kind == FETCH_FORMAT_JSONL)
        rc = fetch_buf_add(b, "{", 1);
    for (size_t i = 0; rc == 0 && i < f->n; i++) {
        int found = field(rec, f->fields[i], &v);
        if (f->kind == FETCH_FORMAT_JSONL) {
            if (!found)
                continue;
            rc = (!first && fetch_buf_add(b, ",", 1)) || fetch_buf_add(b, "\"", 1) ||
                 fetch_buf_add(b, f->fields[i], strlen(f->fields[i])) ||
                 fetch_buf_add(b, "\":", 2) || put_json(b, v, 0);
            first = 0;
            continue;
        }
        rc = i > 0 && fetch_buf_add(b, f->kind == FETCH_FORMAT_CSV ? "," : "\t", 1);
        t.len = 0;
        if (rc == 0 && found && (rc = cell_text(&t, v)) == 0)
            rc = f->kind == FETCH_FORMAT_CSV ? put_csv(b, t.p, t.len) : put_tsv(b, t.p, t.len);
    }
    if (f->kind == FETCH_FORMAT_JSONL)
        rc = rc || fetch_buf_add(b, "}", 1);
    rc = rc || fetch_buf_add(b, eol(f), strlen(eol(f)));
    fetch_buf_free(&t);
    if (rc != 0)
        b->len = start;
    return rc ? -1 : 0;
}
