/* SPDX-License-Identifier: Apache-2.0 */
/* Input lines to requests: a plain URL, or {"url": ..., "method", "headers", "body",
 * "id", "key"}. Every problem is an error text naming it, never a crash. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <cjson/cJSON.h>

#include "urllist.h"

size_t fetch_utf8_seq(const char *s, size_t left)
{
    const unsigned char *p = (const unsigned char *)s;
    unsigned c = p[0], need, min;

    if (c < 0x80)
        return 1;
    if (c >= 0xC2 && c <= 0xDF)
        need = 1, min = 0x80, c &= 0x1F;
    else if (c >= 0xE0 && c <= 0xEF)
        need = 2, min = 0x800, c &= 0x0F;
    else if (c >= 0xF0 && c <= 0xF4)
        need = 3, min = 0x10000, c &= 0x07;
    else
        return 0;
    if (left < need + 1)
        return 0;
    for (unsigned i = 1; i <= need; i++) {
        if ((p[i] & 0xC0) != 0x80)
            return 0;
        c = (c << 6) | (p[i] & 0x3F);
    }
    if (c < min || c > 0x10FFFF || (c >= 0xD800 && c <= 0xDFFF))
        return 0;
    return need + 1;
}

int fetch_utf8_valid(const char *s, size_t len)
{
    for (size_t i = 0, k; i < len; i += k)
        if ((k = fetch_utf8_seq(s + i, len - i)) == 0)
            return 0;
    return 1;
}

static enum fetch_line bad(struct fetch_item *it, const char *fmt, const char *detail)
{
    snprintf(it->error, sizeof it->error, fmt, detail);
    return FETCH_BAD;
}

static char *dup_n(const char *s, size_t n)
{
    char *d = malloc(n + 1);

    if (d != NULL) {
        memcpy(d, s, n);
        d[n] = '\0';
    }
    return d;
}

/* v as compact JSON text, in memory of our own: what cJSON allocates goes back to
 * cJSON_free (its hooks may be another allocator). */
static char *json_text(const cJSON *v)
{
    char *t = cJSON_PrintUnformatted(v);
    char *d = t != NULL ? dup_n(t, strlen(t)) : NULL;

    cJSON_free(t);
    return d;
}

/* A copy with control characters (NULs too) as '?': the text of a bad line. The record
 * writer hides any password in it, then cuts it (never the other way round). */
static char *printable(const char *s, size_t n)
{
    char *d = dup_n(s, n);

    for (size_t i = 0; d != NULL && i < n; i++)
        if ((unsigned char)d[i] < 0x20)
            d[i] = '?';
    return d;
}

static int is_space(char c)
{
    return c == ' ' || c == '\t' || c == '\r' || c == '\n';
}

/* The checks a URL gets whichever way it came. */
static const char *url_problem(const char *u, size_t n)
{
    if (n >= 7 && strncasecmp(u, "http://", 7) == 0 && n > 7)
        ;
    else if (n >= 8 && strncasecmp(u, "https://", 8) == 0 && n > 8)
        ;
    else
        return "not an http or https URL";
    if (!fetch_utf8_valid(u, n))
        return "invalid UTF-8 in the URL";
    for (size_t i = 0; i < n; i++)
        if ((unsigned char)u[i] <= 0x20 || u[i] == 0x7f)
            return "a space or control character in the URL";
    return NULL;
}

static int has_crlf(const char *s)
{
    return strpbrk(s, "\r\n") != NULL;
}

/* 1 when JSON text holds a \u0000 escape: cJSON would cut that string at the NUL, and
 * a URL, header or text body would be sent cut. (Backslashes occur only in strings.) */
static int has_nul_escape(const char *s, size_t n)
{
    for (size_t i = 0; i + 1 < n; i++) {
        if (s[i] != '\\')
            continue;
        if (s[i + 1] == 'u' && i + 5 < n && memcmp(s + i + 2, "0000", 4) == 0)
            return 1;
        i++; /* the escaped character */
    }
    return 0;
}

static enum fetch_line parse_json(const char *text, size_t len, struct fetch_item *it)
{
    const char *end = NULL;
    cJSON *o = cJSON_ParseWithLengthOpts(text, len, &end, 0);
    enum fetch_line rc = FETCH_ITEM;
    char where[32];

    if (o != NULL && end != text + len) {
        cJSON_Delete(o);
        return bad(it, "%s", "text after the JSON object");
    }
    if (o != NULL && has_nul_escape(text, len)) {
        cJSON_Delete(o);
        return bad(it, "%s", "a \\u0000 (NUL) in a JSON string");
    }
    if (o == NULL) {
        const char *at = cJSON_GetErrorPtr();
        snprintf(where, sizeof where, "%ld",
                 at != NULL && at >= text && at <= text + len ? (long)(at - text) + 1 : 0L);
        return bad(it, "invalid JSON near byte %s", where);
    }
    if (!cJSON_IsObject(o)) {
        cJSON_Delete(o);
        return bad(it, "%s", "a JSON line must be an object");
    }
    const cJSON *url = cJSON_GetObjectItemCaseSensitive(o, "url");
    const cJSON *method = cJSON_GetObjectItemCaseSensitive(o, "method");
    const cJSON *headers = cJSON_GetObjectItemCaseSensitive(o, "headers");
    const cJSON *body = cJSON_GetObjectItemCaseSensitive(o, "body");
    const cJSON *id = cJSON_GetObjectItemCaseSensitive(o, "id");
    const cJSON *key = cJSON_GetObjectItemCaseSensitive(o, "key");
    const char *problem = NULL;

    int oom = 0;

    if (id != NULL && (cJSON_IsString(id) || (cJSON_IsNumber(id) && isfinite(id->valuedouble))))
        oom |= (it->id = json_text(id)) == NULL;
    if (cJSON_IsString(url))
        oom |= (it->url = dup_n(url->valuestring, strlen(url->valuestring))) == NULL;
    if (!cJSON_IsString(url))
        problem = url == NULL ? "no \"url\"" : "\"url\" is not a string";
    else if ((problem = url_problem(url->valuestring, strlen(url->valuestring))) != NULL)
        ;
    else if (method != NULL && (!cJSON_IsString(method) || method->valuestring[0] == '\0' ||
                                strpbrk(method->valuestring, " \t\r\n") != NULL))
        problem = "\"method\" is not a method name";
    else if (headers != NULL && !cJSON_IsObject(headers))
        problem = "\"headers\" is not an object";
    else if (id != NULL && !cJSON_IsString(id) &&
             !(cJSON_IsNumber(id) && isfinite(id->valuedouble)))
        problem = "\"id\" is not a string or a finite number";
    else if (key != NULL && !cJSON_IsString(key))
        problem = "\"key\" is not a string";
    else if (body != NULL && !cJSON_IsString(body) && !cJSON_IsObject(body) && !cJSON_IsArray(body))
        problem = "\"body\" is not a string, object or array";
    if (problem == NULL && headers != NULL) {
        size_t n = (size_t)cJSON_GetArraySize(headers), i = 0;
        it->headers = calloc(n + 1, sizeof *it->headers);
        const cJSON *h;
        cJSON_ArrayForEach(h, headers)
        {
            if (!cJSON_IsString(h) || h->string[0] == '\0' || has_crlf(h->string) ||
                has_crlf(h->valuestring) || strchr(h->string, ':') != NULL) {
                problem = "a header name or value is empty, not a string, or has CR or LF";
                break;
            }
            size_t need = strlen(h->string) + strlen(h->valuestring) + 3;
            if (it->headers == NULL || (it->headers[i] = malloc(need)) == NULL) {
                problem = "out of memory";
                break;
            }
            snprintf(it->headers[i++], need, "%s: %s", h->string, h->valuestring);
            it->nheaders = i;
        }
    }
    /* A copy that fails is a bad line: never a request without its method, key or id. */
    if (problem == NULL && method != NULL)
        oom |= (it->method = dup_n(method->valuestring, strlen(method->valuestring))) == NULL;
    if (problem == NULL && key != NULL)
        oom |= (it->key = dup_n(key->valuestring, strlen(key->valuestring))) == NULL;
    if (problem == NULL && body != NULL) {
        if (cJSON_IsString(body)) {
            it->body = dup_n(body->valuestring, strlen(body->valuestring));
        } else {
            it->body = json_text(body);
            it->body_is_json = 1;
        }
        if (it->body == NULL)
            problem = "out of memory";
        else
            it->body_len = strlen(it->body);
    }
    if (problem == NULL && oom)
        problem = "out of memory";
    if (problem != NULL)
        rc = bad(it, "%s", problem);
    cJSON_Delete(o);
    return rc;
}

int fetch_line_is_item(const char *line, size_t len)
{
    size_t i = 0;

    if (len > FETCH_MAX_LINE)
        return 1; /* an overlong line is an error record, whatever it holds */
    while (i < len && is_space(line[i]))
        i++;
    return i < len && line[i] != '#';
}

enum fetch_line fetch_parse_line(const char *line, size_t len, struct fetch_item *it)
{
    memset(it, 0, sizeof *it);
    if (len > FETCH_MAX_LINE) { /* as read, before any trimming: always a record */
        size_t from = 0, to = len;
        while (from < to && is_space(line[from]))
            from++;
        while (to > from && is_space(line[to - 1]))
            to--;
        bad(it, "%s", "line longer than 64 KiB");
        it->url = printable(line + from, to - from);
        return FETCH_BAD;
    }
    while (len > 0 && is_space(line[len - 1]))
        len--;
    size_t start = 0;
    while (start < len && is_space(line[start]))
        start++;
    if (start == len || line[start] == '#')
        return FETCH_SKIP;
    const char *text = line + start;
    size_t n = len - start;
    enum fetch_line rc;
    const char *problem;

    if (memchr(line, '\0', len) != NULL)
        rc = bad(it, "%s", "NUL byte in the line");
    else if ((it->is_json = text[0] == '{'))
        rc = parse_json(text, n, it);
    else if ((problem = url_problem(text, n)) != NULL)
        rc = bad(it, "%s", problem);
    else
        rc = (it->url = dup_n(text, n)) != NULL ? FETCH_ITEM : bad(it, "%s", "out of memory");
    if (rc == FETCH_BAD && it->url == NULL) /* say which line: all of it, made printable */
        it->url = printable(text, n);
    return rc;
}

void fetch_item_clear(struct fetch_item *it)
{
    for (size_t i = 0; i < it->nheaders; i++)
        free(it->headers[i]);
    free(it->headers);
    free(it->id);
    free(it->url);
    free(it->method);
    free(it->body);
    free(it->key);
    memset(it, 0, sizeof *it);
}
