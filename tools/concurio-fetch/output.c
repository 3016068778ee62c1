/* SPDX-License-Identifier: Apache-2.0 */
/* Records as JSON lines (every string escaped and valid UTF-8, every line parses; the
 * tests parse them back with cJSON), bodies as repaired UTF-8 or base64, and URLs with
 * their passwords hidden. */
#define _POSIX_C_SOURCE 200809L
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "output.h"
#include "urllist.h"

/* Writes base64 of s[0..len) at out, which has room for (len + 2) / 3 * 4 bytes; returns
 * how many it wrote. */
static size_t base64_into(char *out, const void *s, size_t len)
{
    static const char abc[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    const unsigned char *p = s;
    size_t n = 0, i = 0;

    for (; i + 2 < len; i += 3) {
        unsigned v = (unsigned)p[i] << 16 | (unsigned)p[i + 1] << 8 | p[i + 2];
        out[n++] = abc[v >> 18];
        out[n++] = abc[(v >> 12) & 63];
        out[n++] = abc[(v >> 6) & 63];
        out[n++] = abc[v & 63];
    }
    if (i < len) {
        unsigned v = (unsigned)p[i] << 16 | (i + 1 < len ? (unsigned)p[i + 1] << 8 : 0);
        out[n++] = abc[v >> 18];
        out[n++] = abc[(v >> 12) & 63];
        out[n++] = i + 1 < len ? abc[(v >> 6) & 63] : '=';
        out[n++] = '=';
    }
    return n;
}

char *fetch_base64(const void *s, size_t len)
{
    char *out = malloc((len + 2) / 3 * 4 + 1);

    if (out != NULL)
        out[base64_into(out, s, len)] = '\0';
    return out;
}

/* Where the userinfo of the URL whose authority starts at auth ends (at its last '@'),
 * or NULL when it has none. A valid URL's authority ends at the first '/', and its
 * userinfo at the last '@' before that; a raw space, '#' or '?' in a password does not
 * end it here. When the text before that '/' is no host[:port] (a ':' not followed by
 * a port number), a raw '/' in the password may have ended it early: the first '@'
 * before the next space or quote ends the userinfo instead. */
static const char *userinfo_end(const char *auth)
{
    size_t alen = strcspn(auth, "/");
    const char *at = NULL;

    for (size_t i = 0; i < alen; i++)
        if (auth[i] == '@')
            at = auth + i;
    if (at != NULL || auth[alen] != '/')
        return at;
    const char *host = auth, *end = auth + alen;
    if (host < end && *host == '[') { /* [IPv6]: its colons are no port */
        const char *close = memchr(host, ']', (size_t)(end - host));
        host = close != NULL ? close + 1 : end;
    }
    const char *colon = memchr(host, ':', (size_t)(end - host));
    if (colon == NULL || strspn(colon + 1, "0123456789") == (size_t)(end - colon - 1))
        return NULL;
    size_t rest = strcspn(end, " \t\r\n\"'<>");
    const char *later = memchr(end, '@', rest);
    return later;
}

char *fetch_redact(const char *text)
{
    /* An empty userinfo becomes "***", 3 bytes longer: room for that per URL. */
    size_t len = strlen(text), urls = 0;
    for (const char *p = text; (p = strstr(p, "://")) != NULL; p += 3)
        urls++;
    char *out = malloc(len + 3 * urls + 1);
    size_t n = 0;

    if (out == NULL)
        return NULL;
    for (const char *p = text; *p != '\0';) {
        const char *scheme = strstr(p, "://");
        if (scheme == NULL) {
            memcpy(out + n, p, strlen(p));
            n += strlen(p);
            break;
        }
        const char *auth = scheme + 3;
        const char *at = userinfo_end(auth);
        memcpy(out + n, p, (size_t)(auth - p));
        n += (size_t)(auth - p);
        p = auth;
        if (at != NULL) { /* all of it: a user name alone may be a token */
            memcpy(out + n, "***", 3);
            n += 3;
            p = at;
        }
    }
    out[n] = '\0';
    return out;
}

/* ---- the record writer: straight into a reused buffer, no allocation once warm ------- */

static int reserve(struct fetch_buf *b, size_t more)
{
    if (b->len + more <= b->cap)
        return 0;
    size_t cap = b->cap < 4096 ? 4096 : b->cap;
    while (cap < b->len + more)
        cap *= 2;
    char *p = realloc(b->p, cap);
    if (p == NULL)
        return -1;
    b->p = p;
    b->cap = cap;
    return 0;
}

static int put(struct fetch_buf *b, const char *s, size_t n)
{
    if (n == 0)
        return 0; /* an empty buffer may have no memory yet */
    if (reserve(b, n) != 0)
        return -1;
    memcpy(b->p + b->len, s, n);
    b->len += n;
    return 0;
}

int fetch_buf_add(struct fetch_buf *b, const char *s, size_t n)
{
    return put(b, s, n);
}

static int put_s(struct fetch_buf *b, const char *s)
{
    return put(b, s, strlen(s));
}

static int put_u(struct fetch_buf *b, uint64_t v)
{
    char d[24];
    size_t n = sizeof d;

    do
        d[--n] = (char)('0' + v % 10);
    while ((v /= 10) > 0);
    return put(b, d + n, sizeof d - n);
}

/* The inside of a JSON string: escapes (NUL as \u0000; U+0085, U+2028 and U+2029 escaped
 * too, as line splitters take them for line ends), and every invalid UTF-8 sequence as
 * U+FFFD, so that every line is valid UTF-8 for the strictest reader. No capital letter
 * is ever written but those of s. */
static int put_esc(struct fetch_buf *b, const char *s, size_t len)
{
    static const char hex[] = "0123456789abcdef";

    if (reserve(b, len * 6) != 0) /* the worst case: every byte \u00XX */
        return -1;
    char *o = b->p + b->len;
    for (size_t i = 0; i < len;) {
        size_t run = i;
        while (run < len && (unsigned char)s[run] >= 0x20 && (unsigned char)s[run] < 0x80 &&
               s[run] != '"' && s[run] != '\\')
            run++;
        if (run > i) { /* the common case: plain ASCII, copied at once */
            memcpy(o, s + i, run - i);
            o += run - i;
            i = run;
            continue;
        }
        unsigned char c = (unsigned char)s[i];
        if (c == '"' || c == '\\') {
            *o++ = '\\';
            *o++ = (char)c;
            i++;
            continue;
        }
        if (c < 0x20) {
            const char *esc = c == '\n' ? "\\n" : c == '\r' ? "\\r" : c == '\t' ? "\\t" : NULL;
            if (esc != NULL) {
                memcpy(o, esc, 2);
                o += 2;
            } else {
                memcpy(o, "\\u00", 4);
                o[4] = hex[c >> 4];
                o[5] = hex[c & 15];
                o += 6;
            }
            i++;
            continue;
        }
        size_t k = fetch_utf8_seq(s + i, len - i);
        if (k == 0) {
            memcpy(o, "\xEF\xBF\xBD", 3); /* never longer than the 6 reserved */
            o += 3;
            i++;
        } else if ((k == 2 && c == 0xC2 && (unsigned char)s[i + 1] == 0x85) ||
                   (k == 3 && c == 0xE2 && (unsigned char)s[i + 1] == 0x80 &&
                    ((unsigned char)s[i + 2] == 0xA8 || (unsigned char)s[i + 2] == 0xA9))) {
            /* U+0085, U+2028, U+2029: valid JSON, but line breaks to many splitters */
            memcpy(o, k == 2 ? "\\u0085" : s[i + 2] == (char)0xA8 ? "\\u2028" : "\\u2029", 6);
            o += 6;
            i += k;
        } else {
            memcpy(o, s + i, k);
            o += k;
            i += k;
        }
    }
    b->len = (size_t)(o - b->p);
    return 0;
}

/* A JSON string. */
static int put_str(struct fetch_buf *b, const char *s, size_t len)
{
    return put(b, "\"", 1) || put_esc(b, s, len) || put(b, "\"", 1);
}

int fetch_buf_add_json(struct fetch_buf *b, const char *s, size_t n)
{
    size_t start = b->len;

    if (put_str(b, s, n) == 0)
        return 0;
    b->len = start;
    return -1;
}

/* Bytes as they are, but every invalid UTF-8 sequence as U+FFFD. */
static int put_utf8(struct fetch_buf *b, const char *s, size_t len)
{
    if (reserve(b, len * 3) != 0)
        return -1;
    for (size_t i = 0; i < len;) {
        size_t k = s[i] == 0 ? 0 : fetch_utf8_seq(s + i, len - i);
        memcpy(b->p + b->len, k == 0 ? "\xEF\xBF\xBD" : s + i, k == 0 ? 3 : k);
        b->len += k == 0 ? 3 : k;
        i += k == 0 ? 1 : k;
    }
    return 0;
}

/* A base64 string, encoded straight into the buffer. */
static int put_base64(struct fetch_buf *b, const void *data, size_t len)
{
    if (reserve(b, (len + 2) / 3 * 4 + 2) != 0)
        return -1;
    b->p[b->len++] = '"';
    b->len += base64_into(b->p + b->len, data, len);
    b->p[b->len++] = '"';
    return 0;
}

static int field_u(struct fetch_buf *b, const char *name, uint64_t v)
{
    return put_s(b, name) || put_u(b, v);
}

static int field_s(struct fetch_buf *b, const char *name, const char *v)
{
    return put_s(b, name) || put_str(b, v != NULL ? v : "", v != NULL ? strlen(v) : 0);
}

/* A string that may hold a URL with a password (a URL, curl's message, a bad line):
 * written with the password replaced. */
static int field_redacted(struct fetch_buf *b, const char *name, const char *v, size_t max)
{
    char *clean = v != NULL && strchr(v, '@') != NULL ? fetch_redact(v) : NULL;
    const char *text = clean != NULL ? clean : v != NULL && strchr(v, '@') == NULL ? v : NULL;

    if (text == NULL && v != NULL)
        text = "(hidden: it may hold a password)";
    size_t n = text != NULL ? strlen(text) : 0;
    if (max > 0 && n > max) /* cut after hiding, at a character's start */
        for (n = max; n > 0 && ((unsigned char)text[n] & 0xC0) == 0x80; n--)
            ;
    int rc = put_s(b, name) || put_str(b, text != NULL ? text : "", n);
    free(clean);
    return rc;
}

void fetch_rfc3339(char *out, uint64_t unix_ms)
{
    /* Records of one second share its text: gmtime_r and snprintf once a second, not
     * once a record (a few thousand instructions each). */
    static _Thread_local uint64_t cached_secs = UINT64_MAX;
    static _Thread_local char cached[FETCH_RFC3339_LEN];
    uint64_t secs = unix_ms / 1000;
    unsigned ms = (unsigned)(unix_ms % 1000);

    if (secs != cached_secs) {
        time_t t = (time_t)secs;
        struct tm tm;
        char text[64]; /* the fields are in range: exactly FETCH_RFC3339_LEN - 1 characters */
        if (gmtime_r(&t, &tm) == NULL || tm.tm_year + 1900 > 9999)
            snprintf(text, sizeof text, "9999-12-31T23:59:59.999Z");
        else
            snprintf(text, sizeof text, "%04d-%02d-%02dT%02d:%02d:%02d.000Z", tm.tm_year + 1900,
                     tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec);
        memcpy(cached, text, FETCH_RFC3339_LEN - 1);
        cached[FETCH_RFC3339_LEN - 1] = '\0';
        cached_secs = secs;
    }
    memcpy(out, cached, FETCH_RFC3339_LEN);
    if (memcmp(out, "9999-12-31T23:59:59.999Z", FETCH_RFC3339_LEN - 1) != 0) {
        out[20] = (char)('0' + ms / 100);
        out[21] = (char)('0' + ms / 10 % 10);
        out[22] = (char)('0' + ms % 10);
    }
}

/* ---- response headers --------------------------------------------------------------- */

struct header {
    const char *name, *value;
    size_t nlen, vlen, order;
};

/* The header line that starts at or after p in [p, end) into *h, its value without the
 * spaces around it; returns where the line after it starts, or NULL when none is left.
 * A line without a name and ':' (a status line, a folded one) is passed over. */
static const char *next_header(const char *p, const char *end, struct header *h)
{
    while (p < end) {
        const char *eol = memchr(p, '\n', (size_t)(end - p));
        const char *next = eol != NULL ? eol + 1 : end, *stop = eol != NULL ? eol : end;
        if (stop > p && stop[-1] == '\r')
            stop--;
        const char *colon = memchr(p, ':', (size_t)(stop - p));
        if (colon != NULL && colon > p && *p != ' ' && *p != '\t') {
            const char *v = colon + 1, *ve = stop;
            while (v < ve && (*v == ' ' || *v == '\t'))
                v++;
            while (ve > v && (ve[-1] == ' ' || ve[-1] == '\t'))
                ve--;
            *h = (struct header){p, v, (size_t)(colon - p), (size_t)(ve - v), 0};
            return next;
        }
        p = next;
    }
    return NULL;
}

static int same_name(const struct header *h, const char *name, size_t len)
{
    return h->nlen == len && strncasecmp(h->name, name, len) == 0;
}

/* The first value of header `name` in the block, or NULL. */
static const char *header_value(const char *block, size_t len, const char *name, size_t *vlen)
{
    struct header h;

    for (const char *p = block; (p = next_header(p, block + len, &h)) != NULL;)
        if (same_name(&h, name, strlen(name))) {
            *vlen = h.vlen;
            return h.value;
        }
    return NULL;
}

/* "name":"value, value2" for every header of that name (lower case, like HTTP/2's), as
 * RFC 9110 joins repeated fields; nothing when the block has none. */
static int put_joined(struct fetch_buf *b, const char *block, size_t len, const char *name,
                      size_t nlen, int *first)
{
    struct header h;
    int found = 0, rc = 0;

    for (const char *p = block; rc == 0 && (p = next_header(p, block + len, &h)) != NULL;) {
        if (!same_name(&h, name, nlen))
            continue;
        if (!found) {
            size_t at = b->len + (*first ? 1 : 2);
            rc = put_s(b, *first ? "\"" : ",\"") || put_esc(b, name, nlen);
            for (size_t i = at; rc == 0 && i < b->len; i++)
                if (b->p[i] >= 'A' && b->p[i] <= 'Z')
                    b->p[i] = (char)(b->p[i] - 'A' + 'a');
            rc = rc || put_s(b, "\":\"");
        } else {
            rc = put_s(b, ", ");
        }
        rc = rc || put_esc(b, h.value, h.vlen);
        found = 1;
    }
    if (found && rc == 0) {
        rc = put_s(b, "\"");
        *first = 0;
    }
    return rc;
}

static int by_name(const void *x, const void *y)
{
    const struct header *a = x, *c = y;
    size_t n = a->nlen < c->nlen ? a->nlen : c->nlen;
    int d = strncasecmp(a->name, c->name, n);

    if (d != 0)
        return d;
    if (a->nlen != c->nlen)
        return a->nlen < c->nlen ? -1 : 1;
    return a->order < c->order ? -1 : a->order > c->order;
}

/* "headers":{...}: the named ones in the order named, or all of them by name. */
static int put_headers(struct fetch_buf *b, const char *block, size_t len,
                       const struct fetch_keep *keep)
{
    int first = 1, rc = put_s(b, ",\"headers\":{");

    for (size_t i = 0; rc == 0 && !keep->all && i < keep->n; i++)
        rc = put_joined(b, block, len, keep->names[i], strlen(keep->names[i]), &first);
    if (rc == 0 && keep->all) {
        struct header h, *all = NULL;
        size_t n = 0, cap = 0;
        for (const char *p = block; (p = next_header(p, block + len, &h)) != NULL; n++) {
            if (n == cap) {
                struct header *more = realloc(all, (cap = cap ? cap * 2 : 32) * sizeof *all);
                if (more == NULL) {
                    free(all);
                    return -1;
                }
                all = more;
            }
            h.order = n;
            all[n] = h;
        }
        if (n > 0)
            qsort(all, n, sizeof *all, by_name);
        /* Each name once: put_joined gathers its values from the block, in their order. */
        for (size_t i = 0; rc == 0 && i < n; i++)
            if (i == 0 ||
                by_name(&(struct header){all[i].name, NULL, all[i].nlen, 0, 0},
                        &(struct header){all[i - 1].name, NULL, all[i - 1].nlen, 0, 0}) != 0)
                rc = put_joined(b, block, len, all[i].name, all[i].nlen, &first);
        free(all);
    }
    return rc || put_s(b, "}");
}

static const char *const outcomes[] = {"\"done\"", "\"error\"", "\"timeout\""};
static const char *const versions[] = {"1.0", "1.1", "2", "3"};

static const char *version_text(long v)
{
    return v == 10   ? versions[0]
           : v == 11 ? versions[1]
           : v == 20 ? versions[2]
           : v == 30 ? versions[3]
                     : NULL;
}

int fetch_record_append(struct fetch_buf *b, const struct fetch_record *r, enum fetch_body mode)
{
    size_t start = b->len;
    int rc = put_s(b, "{\"id\":");

    /* The input's id is JSON text already, escaped by cJSON: only its UTF-8 is repaired. */
    rc = rc || (r->id != NULL ? put_utf8(b, r->id, strlen(r->id)) : put_u(b, r->line));
    rc = rc || field_u(b, ",\"line\":", r->line) ||
         field_redacted(b, ",\"url\":", r->url, r->url_max);
    if (r->effective_url != NULL)
        rc = rc || field_redacted(b, ",\"effective_url\":", r->effective_url, 0);
    if (r->method != NULL)
        rc = rc || field_s(b, ",\"method\":", r->method);
    rc = rc || put_s(b, ",\"outcome\":") || put_s(b, outcomes[r->outcome]);
    if (r->http_status > 0)
        rc = rc || field_u(b, ",\"http_status\":", (uint64_t)r->http_status);
    if (version_text(r->http_version) != NULL)
        rc = rc || field_s(b, ",\"http_version\":", version_text(r->http_version));
    size_t ctlen = 0;
    const char *ct = r->headers != NULL
                         ? header_value(r->headers, r->headers_len, "content-type", &ctlen)
                         : NULL;
    if (ct != NULL)
        rc = rc || put_s(b, ",\"content_type\":") || put_str(b, ct, ctlen);
    if (r->curl_code != 0)
        rc = rc || field_u(b, ",\"curl_code\":", (uint64_t)r->curl_code);
    if (r->started_at_ms != 0) {
        char at[FETCH_RFC3339_LEN];
        fetch_rfc3339(at, r->started_at_ms);
        rc = rc || field_s(b, ",\"started_at\":", at);
    }
    rc = rc || field_u(b, ",\"elapsed_ms\":", r->elapsed_ms) ||
         field_u(b, ",\"bytes\":", r->bytes) || field_u(b, ",\"attempts\":", r->attempts);
    if (r->path != NULL)
        rc = rc || field_s(b, ",\"path\":", r->path);
    if (r->outcome != FETCH_DONE)
        rc = rc || field_redacted(b, ",\"error\":", r->error, 0);
    if (r->outcome == FETCH_TIMEOUT)
        rc = rc || field_u(b, ",\"timeout_ms\":", r->timeout_ms);
    if (mode != FETCH_BODY_NONE && r->body != NULL) {
        rc = rc || put_s(b, ",\"body\":") ||
             (mode == FETCH_BODY_TEXT ? put_str(b, r->body, r->body_len)
                                      : put_base64(b, r->body, r->body_len));
        rc = rc || put_s(b, r->truncated ? ",\"truncated\":true" : ",\"truncated\":false");
    } else if (r->truncated) {
        rc = rc || put_s(b, ",\"truncated\":true"); /* the body passed --max-body */
    }
    if (r->keep != NULL && r->headers != NULL)
        rc = rc || put_headers(b, r->headers, r->headers_len, r->keep);
    if (r->timings != NULL) {
        const cio_timings *t = r->timings;
        rc = rc || field_u(b, ",\"timings\":{\"queued_ms\":", t->queued_ms) ||
             field_u(b, ",\"rate_wait_ms\":", t->rate_wait_ms) ||
             field_u(b, ",\"connect_ms\":", t->connect_ms) ||
             field_u(b, ",\"tls_ms\":", t->tls_ms) ||
             field_u(b, ",\"first_byte_ms\":", t->first_byte_ms) ||
             field_u(b, ",\"total_ms\":", t->total_ms) || put_s(b, "}");
    }
    if (r->worker != NULL)
        rc = rc || field_s(b, ",\"worker\":", r->worker);
    rc = rc || put_s(b, "}\n");
    if (rc != 0)
        b->len = start; /* never half a record */
    return rc;
}

void fetch_buf_free(struct fetch_buf *b)
{
    free(b->p);
    memset(b, 0, sizeof *b);
}
