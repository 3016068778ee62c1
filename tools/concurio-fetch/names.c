/* SPDX-License-Identifier: Apache-2.0 */
/* File names of bodies from a template, made safe part by part. */
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "names.h"

static const struct {
    const char *name;
    enum fetch_name_field field;
} known[] = {
    {"id", FETCH_NF_ID},     {"line", FETCH_NF_LINE},         {"host", FETCH_NF_HOST},
    {"path", FETCH_NF_PATH}, {"basename", FETCH_NF_BASENAME}, {"status", FETCH_NF_STATUS},
    {"ext", FETCH_NF_EXT},
};

static int add(struct fetch_template *t, enum fetch_name_field f, const char *text, size_t len)
{
    if (f == FETCH_NF_TEXT && len == 0)
        return 0;
    if (t->n == FETCH_TEMPLATE_MAX)
        return -1;
    t->p[t->n++] = (struct fetch_piece){f, text, len};
    t->uses_response |= f == FETCH_NF_STATUS || f == FETCH_NF_EXT;
    return 0;
}

int fetch_template_parse(const char *s, struct fetch_template *t, char *err, size_t errlen)
{
    const char *text = s;

    memset(t, 0, sizeof *t);
    if (s[0] == '\0' || s[0] == '/') {
        snprintf(err, errlen, "a name template is a relative name, e.g. {id} or {host}/{id}");
        return -1;
    }
    for (const char *c = s; *c != '\0';) {
        if ((c[0] == '{' && c[1] == '{') || (c[0] == '}' && c[1] == '}')) {
            if (add(t, FETCH_NF_TEXT, text, (size_t)(c - text) + 1) != 0)
                goto too_long;
            c += 2;
            text = c;
            continue;
        }
        if (c[0] == '}') {
            snprintf(err, errlen, "a '}' without its '{' (write }} for a brace)");
            return -1;
        }
        if (c[0] != '{') {
            c++;
            continue;
        }
        const char *end = strchr(c, '}');
        size_t n = end != NULL ? (size_t)(end - c - 1) : 0, i = 0;
        while (end != NULL && i < sizeof known / sizeof known[0] &&
               !(strlen(known[i].name) == n && strncmp(known[i].name, c + 1, n) == 0))
            i++;
        if (end == NULL || i == sizeof known / sizeof known[0]) {
            char shown[41]; /* what was typed, on one line */
            size_t k = 0, len = end != NULL ? n + 2 : strlen(c);
            for (; k < len && k < sizeof shown - 1; k++)
                shown[k] = c[k] >= 0x20 && c[k] < 0x7f ? c[k] : '?';
            shown[k] = '\0';
            snprintf(err, errlen,
                     "unknown field %s: the fields are {id}, {line}, {host}, {path}, "
                     "{basename}, {status} and {ext} ({{ and }} for braces)",
                     shown);
            return -1;
        }
        if (add(t, FETCH_NF_TEXT, text, (size_t)(c - text)) != 0 ||
            add(t, known[i].field, NULL, 0) != 0)
            goto too_long;
        c = end + 1;
        text = c;
    }
    if (add(t, FETCH_NF_TEXT, text, strlen(text)) == 0)
        return 0;
too_long:
    snprintf(err, errlen, "a name template has %d pieces at most", FETCH_TEMPLATE_MAX);
    return -1;
}

/* ---- the fields' values -------------------------------------------------------------- */

/* The URL's host (no userinfo, no port) and its path (no query, no fragment), as
 * pointers into url; empty when it has none. */
static void url_parts(const char *url, const char **host, size_t *hlen, const char **path,
                      size_t *plen)
{
    const char *s = url != NULL ? strstr(url, "://") : NULL;

    *host = *path = "";
    *hlen = *plen = 0;
    if (s == NULL)
        return;
    s += 3;
    size_t auth = strcspn(s, "/?#");
    const char *at = memchr(s, '@', auth);
    const char *h = at != NULL ? at + 1 : s, *hend = s + auth;
    if (h < hend && *h == '[') { /* [::1]:8080 */
        const char *close = memchr(h, ']', (size_t)(hend - h));
        *host = h + 1;
        *hlen = close != NULL ? (size_t)(close - h - 1) : (size_t)(hend - h - 1);
    } else {
        const char *colon = memchr(h, ':', (size_t)(hend - h));
        *host = h;
        *hlen = (size_t)((colon != NULL ? colon : hend) - h);
    }
    if (*hend == '/') {
        *path = hend + 1;
        *plen = strcspn(*path, "?#");
    }
}

struct out {
    char *p;
    size_t len;
    size_t part; /* bytes of the current directory level */
};

/* Bytes a name may keep as they are; every other becomes '_'. */
static int plain(unsigned char c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '.' ||
           c == '-' || c == '_' || c == '+' || c == ',' || c == '=' || c == '@' || c == '~' ||
           c == '%';
}

static void put(struct out *o, char c)
{
    if (o->len == FETCH_NAME_MAX || (c != '/' && o->part == FETCH_NAME_PART))
        return;
    if (c == '/') {
        if (o->part == 0)
            return; /* no empty level */
        o->part = 0;
    } else {
        /* A level never starts with '.': no ".", "..", nor a hidden file. */
        if (o->part == 0 && c == '.')
            c = '_';
        o->part++;
    }
    o->p[o->len++] = c;
}

/* A field's value: every byte that is not plain, '/' included, as '_'. */
static void put_value(struct out *o, const char *s, size_t n)
{
    for (size_t i = 0; i < n; i++)
        put(o, plain((unsigned char)s[i]) ? s[i] : '_');
}

static void put_id(struct out *o, const struct fetch_name_vars *v)
{
    char num[24];
    const char *id = v->id;
    size_t n = id != NULL ? strlen(id) : 0;

    if (id == NULL) {
        n = (size_t)snprintf(num, sizeof num, "%llu", (unsigned long long)v->line);
        id = num;
    } else if (n >= 2 && id[0] == '"' && id[n - 1] == '"') {
        id++;
        n -= 2;
    }
    put_value(o, id, n);
}

const char *fetch_ext_of(const char *ct, size_t len)
{
    static const struct {
        const char *type, *ext;
    } types[] = {
        {"application/json", "json"},
        {"text/html", "html"},
        {"text/plain", "txt"},
        {"text/csv", "csv"},
        {"application/xml", "xml"},
        {"text/xml", "xml"},
        {"application/xhtml+xml", "html"},
        {"text/css", "css"},
        {"text/javascript", "js"},
        {"application/javascript", "js"},
        {"application/x-ndjson", "jsonl"},
        {"application/pdf", "pdf"},
        {"application/zip", "zip"},
        {"application/gzip", "gz"},
        {"image/png", "png"},
        {"image/jpeg", "jpg"},
        {"image/gif", "gif"},
        {"image/webp", "webp"},
        {"image/svg+xml", "svg"},
        {"text/markdown", "md"},
        {"application/yaml", "yaml"},
        {"text/tab-separated-values", "tsv"},
    };
    size_t n = 0;

    while (ct != NULL && n < len && ct[n] != ';' && ct[n] != ' ' && ct[n] != '\t')
        n++;
    for (size_t i = 0; i < sizeof types / sizeof types[0]; i++)
        if (strlen(types[i].type) == n && strncasecmp(types[i].type, ct, n) == 0)
            return types[i].ext;
    if (n > 5 && strncasecmp(ct + n - 5, "+json", 5) == 0)
        return "json"; /* application/problem+json, application/ld+json */
    if (n > 4 && strncasecmp(ct + n - 4, "+xml", 4) == 0)
        return "xml";
    return "bin";
}

size_t fetch_name_expand(const struct fetch_template *t, const struct fetch_name_vars *v, char *out)
{
    struct out o = {out, 0, 0};
    const char *host, *path;
    size_t hlen, plen;
    char num[24];

    url_parts(v->url, &host, &hlen, &path, &plen);
    for (size_t i = 0; i < t->n; i++) {
        const struct fetch_piece *pc = &t->p[i];
        switch (pc->field) {
        case FETCH_NF_TEXT:
            /* The template's own text: its '/' make directories, the rest as values. */
            for (size_t k = 0; k < pc->len; k++)
                if (pc->text[k] == '/' || pc->text[k] == '{' || pc->text[k] == '}')
                    put(&o, pc->text[k]); /* levels; "{{" and "}}" are braces */
                else
                    put_value(&o, pc->text + k, 1);
            break;
        case FETCH_NF_ID:
            put_id(&o, v);
            break;
        case FETCH_NF_LINE:
            put_value(&o, num,
                      (size_t)snprintf(num, sizeof num, "%llu", (unsigned long long)v->line));
            break;
        case FETCH_NF_HOST:
            if (hlen > 0)
                put_value(&o, host, hlen);
            else
                put_value(&o, "unknown", 7);
            break;
        case FETCH_NF_PATH:
            while (plen > 0 && path[plen - 1] == '/')
                plen--;
            if (plen > 0)
                put_value(&o, path, plen);
            else
                put_value(&o, "index", 5);
            break;
        case FETCH_NF_BASENAME: {
            while (plen > 0 && path[plen - 1] == '/')
                plen--;
            size_t b = plen;
            while (b > 0 && path[b - 1] != '/')
                b--;
            if (plen > b)
                put_value(&o, path + b, plen - b);
            else
                put_value(&o, "index", 5);
            break;
        }
        case FETCH_NF_STATUS:
            put_value(&o, num, (size_t)snprintf(num, sizeof num, "%ld", v->status));
            break;
        case FETCH_NF_EXT: {
            const char *e = fetch_ext_of(v->content_type, v->content_type_len);
            put_value(&o, e, strlen(e));
            break;
        }
        }
    }
    while (o.len > 0 && out[o.len - 1] == '/')
        o.len--; /* "{host}/" names no file: its last level */
    if (o.len == 0)
        out[o.len++] = '_';
    out[o.len] = '\0';
    return o.len;
}

void fetch_name_number(const char *name, unsigned n, char *out, size_t outlen)
{
    const char *last = strrchr(name, '/');
    const char *base = last != NULL ? last + 1 : name;
    const char *dot = strrchr(base, '.');

    if (dot == NULL || dot == base)
        dot = base + strlen(base);
    snprintf(out, outlen, "%.*s-%u%s", (int)(dot - name), name, n, dot);
}
