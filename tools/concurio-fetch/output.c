/* SPDX-License-Identifier: Apache-2.0 */
/* Records as JSON lines (cJSON: every string escaped, every line parses), bodies as
 * repaired UTF-8 or base64, and URLs with their passwords hidden. */
#define _POSIX_C_SOURCE 200809L
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "output.h"
#include "urllist.h"

char *fetch_utf8_repair(const char *s, size_t len)
{
    /* Each bad byte becomes 3 bytes (EF BF BD); NULs become U+FFFD too. */
    char *out = malloc(len * 3 + 1);
    const unsigned char *p = (const unsigned char *)s;
    size_t n = 0;

    if (out == NULL)
        return NULL;
    for (size_t i = 0; i < len;) {
        size_t k = p[i] == 0 ? 0 : fetch_utf8_seq((const char *)p + i, len - i);
        if (k == 0) {
            memcpy(out + n, "\xEF\xBF\xBD", 3);
            n += 3;
            i++;
        } else {
            memcpy(out + n, p + i, k);
            n += k;
            i += k;
        }
    }
    out[n] = '\0';
    return out;
}

char *fetch_base64(const void *s, size_t len)
{
    static const char abc[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    const unsigned char *p = s;
    char *out = malloc((len + 2) / 3 * 4 + 1);
    size_t n = 0, i = 0;

    if (out == NULL)
        return NULL;
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
    out[n] = '\0';
    return out;
}

char *fetch_redact(const char *text)
{
    /* An empty password becomes "***", 3 bytes longer: room for that per URL. */
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
        size_t alen = strcspn(auth, "/?# \t\r\n\"'<>");
        const char *at = NULL;
        for (size_t i = 0; i < alen; i++)
            if (auth[i] == '@')
                at = auth + i; /* the last '@' ends the userinfo */
        const char *colon = at != NULL ? memchr(auth, ':', (size_t)(at - auth)) : NULL;
        const char *upto = colon != NULL ? colon + 1 : auth;
        memcpy(out + n, p, (size_t)(upto - p));
        n += (size_t)(upto - p);
        if (colon != NULL) {
            memcpy(out + n, "***", 3);
            n += 3;
            upto = at;
        }
        p = upto;
    }
    out[n] = '\0';
    return out;
}

static const char *const outcomes[] = {"done", "error", "timeout"};

char *fetch_record_line(const struct fetch_record *r, enum fetch_body mode)
{
    cJSON *o = cJSON_CreateObject();
    char *body = NULL, *text = NULL, *line = NULL;

    if (o == NULL)
        return NULL;
    cJSON *id = r->id != NULL ? cJSON_Parse(r->id) : NULL;
    if (id == NULL)
        id = cJSON_CreateNumber((double)r->line);
    cJSON_AddItemToObject(o, "id", id);
    cJSON_AddNumberToObject(o, "line", (double)r->line);
    cJSON_AddStringToObject(o, "url", r->url != NULL ? r->url : "");
    if (r->method != NULL)
        cJSON_AddStringToObject(o, "method", r->method);
    cJSON_AddStringToObject(o, "outcome", outcomes[r->outcome]);
    if (r->http_status != 0)
        cJSON_AddNumberToObject(o, "http_status", (double)r->http_status);
    cJSON_AddNumberToObject(o, "elapsed_ms", (double)r->elapsed_ms);
    cJSON_AddNumberToObject(o, "bytes", (double)r->bytes);
    cJSON_AddNumberToObject(o, "attempts", (double)r->attempts);
    if (r->outcome != FETCH_DONE)
        cJSON_AddStringToObject(o, "error", r->error != NULL ? r->error : "");
    if (r->outcome == FETCH_TIMEOUT)
        cJSON_AddNumberToObject(o, "timeout_ms", (double)r->timeout_ms);
    if (mode != FETCH_BODY_NONE && r->outcome == FETCH_DONE) {
        body = mode == FETCH_BODY_TEXT
                   ? fetch_utf8_repair(r->body != NULL ? r->body : "", r->body_len)
                   : fetch_base64(r->body != NULL ? r->body : "", r->body_len);
        cJSON_AddStringToObject(o, "body", body != NULL ? body : "");
        cJSON_AddBoolToObject(o, "truncated", r->truncated);
    }
    if (r->timings != NULL) {
        cJSON *t = cJSON_AddObjectToObject(o, "timings");
        cJSON_AddNumberToObject(t, "queued_ms", (double)r->timings->queued_ms);
        cJSON_AddNumberToObject(t, "rate_wait_ms", (double)r->timings->rate_wait_ms);
        cJSON_AddNumberToObject(t, "connect_ms", (double)r->timings->connect_ms);
        cJSON_AddNumberToObject(t, "tls_ms", (double)r->timings->tls_ms);
        cJSON_AddNumberToObject(t, "first_byte_ms", (double)r->timings->first_byte_ms);
        cJSON_AddNumberToObject(t, "total_ms", (double)r->timings->total_ms);
    }
    text = cJSON_PrintUnformatted(o);
    if (text != NULL && (line = malloc(strlen(text) + 2)) != NULL) {
        size_t n = strlen(text);
        memcpy(line, text, n);
        line[n] = '\n';
        line[n + 1] = '\0';
    }
    free(text);
    free(body);
    cJSON_Delete(o);
    return line;
}
