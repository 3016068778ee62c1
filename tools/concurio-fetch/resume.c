/* SPDX-License-Identifier: Apache-2.0 */
/* --resume's line set, record lines, URL sample and duplicate ids. */
#define _POSIX_C_SOURCE 200809L
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "output.h"
#include "resume.h"

#define CHUNK_LINES 65536u
#define SPARSE_MAX 4096u /* then a bitmap of 8 KiB is smaller */

struct fetch_chunk {
    uint16_t *offs;     /* sparse: sorted offsets of the lines set */
    unsigned char *map; /* dense: a bit per line */
    uint32_t n, cap;
};

/* Where off is, or would go, in a sparse chunk's sorted list. */
static uint32_t find_off(const struct fetch_chunk *c, uint16_t off)
{
    uint32_t lo = 0, hi = c->n;

    while (lo < hi) {
        uint32_t mid = lo + (hi - lo) / 2;
        if (c->offs[mid] < off)
            lo = mid + 1;
        else
            hi = mid;
    }
    return lo;
}

static int to_bitmap(struct fetch_chunk *c)
{
    unsigned char *map = calloc(1, CHUNK_LINES / 8);

    if (map == NULL)
        return -1;
    for (uint32_t i = 0; i < c->n; i++)
        map[c->offs[i] / 8] |= (unsigned char)(1u << (c->offs[i] % 8));
    free(c->offs);
    c->offs = NULL;
    c->map = map;
    return 0;
}

int fetch_lines_add(struct fetch_lines *s, uint64_t line)
{
    uint64_t ci = line / CHUNK_LINES;
    uint16_t off = (uint16_t)(line % CHUNK_LINES);

    if (line == 0 || line > FETCH_LINES_MAX)
        return -1;
    if (ci >= s->nchunks) {
        size_t n = s->nchunks > 0 ? s->nchunks : 16;
        while (n <= ci)
            n *= 2;
        struct fetch_chunk *chunk = realloc(s->chunk, n * sizeof *chunk);
        if (chunk == NULL)
            return -1;
        memset(chunk + s->nchunks, 0, (n - s->nchunks) * sizeof *chunk);
        s->chunk = chunk;
        s->nchunks = n;
    }
    struct fetch_chunk *c = &s->chunk[ci];
    if (c->map != NULL) {
        if (c->map[off / 8] & (1u << (off % 8)))
            return 0;
        c->map[off / 8] |= (unsigned char)(1u << (off % 8));
    } else {
        uint32_t lo = find_off(c, off);
        if (lo < c->n && c->offs[lo] == off)
            return 0;
        if (c->n == SPARSE_MAX) {
            if (to_bitmap(c) != 0)
                return -1;
            c->map[off / 8] |= (unsigned char)(1u << (off % 8));
        } else {
            if (c->n == c->cap) {
                uint32_t cap = c->cap > 0 ? c->cap * 2 : 8;
                uint16_t *offs = realloc(c->offs, cap * sizeof *offs);
                if (offs == NULL)
                    return -1;
                c->offs = offs;
                c->cap = cap;
            }
            memmove(c->offs + lo + 1, c->offs + lo, (c->n - lo) * sizeof *c->offs);
            c->offs[lo] = off;
        }
    }
    c->n++;
    s->n++;
    return 1;
}

int fetch_lines_has(const struct fetch_lines *s, uint64_t line)
{
    uint64_t ci = line / CHUNK_LINES;
    uint16_t off = (uint16_t)(line % CHUNK_LINES);

    if (ci >= s->nchunks)
        return 0;
    const struct fetch_chunk *c = &s->chunk[ci];
    if (c->map != NULL)
        return (c->map[off / 8] & (1u << (off % 8))) != 0;
    uint32_t lo = find_off(c, off);
    return lo < c->n && c->offs[lo] == off;
}

void fetch_lines_free(struct fetch_lines *s)
{
    for (size_t i = 0; i < s->nchunks; i++) {
        free(s->chunk[i].offs);
        free(s->chunk[i].map);
    }
    free(s->chunk);
    memset(s, 0, sizeof *s);
}

uint32_t fetch_url_hash(const char *url)
{
    char *clean = strchr(url, '@') != NULL ? fetch_redact(url) : NULL;
    uint32_t h = 2166136261u; /* FNV-1a */

    for (const char *s = clean != NULL ? clean : url; *s != '\0'; s++)
        h = (h ^ (unsigned char)*s) * 16777619u;
    free(clean);
    return h;
}

enum fetch_prior fetch_prior_parse(const char *text, size_t len, uint64_t *line, uint32_t *url_hash)
{
    return fetch_prior_parse_body(text, len, line, url_hash, NULL);
}

enum fetch_prior fetch_prior_parse_body(const char *text, size_t len, uint64_t *line,
                                        uint32_t *url_hash, struct fetch_prior_body *body)
{
    cJSON *o = cJSON_ParseWithLength(text, len);
    enum fetch_prior kind = FETCH_PRIOR_JUNK;

    if (o != NULL && cJSON_IsObject(o)) {
        const cJSON *outcome = cJSON_GetObjectItemCaseSensitive(o, "outcome");
        const cJSON *l = cJSON_GetObjectItemCaseSensitive(o, "line");
        const cJSON *url = cJSON_GetObjectItemCaseSensitive(o, "url");
        double v = cJSON_IsNumber(l) ? l->valuedouble : 0;
        /* A line number is a whole number from 1 up to what a double holds exactly. */
        if (cJSON_IsString(outcome) && v >= 1 && v <= (double)FETCH_LINES_MAX &&
            v == (double)(uint64_t)v) {
            kind = FETCH_PRIOR_OTHER;
            if (strcmp(outcome->valuestring, "done") == 0 && cJSON_IsString(url)) {
                kind = FETCH_PRIOR_DONE;
                *line = (uint64_t)v;
                *url_hash = fetch_url_hash(url->valuestring);
                const cJSON *path = cJSON_GetObjectItemCaseSensitive(o, "path");
                const cJSON *bytes = cJSON_GetObjectItemCaseSensitive(o, "bytes");
                if (body != NULL) {
                    body->path[0] = '\0';
                    body->bytes = cJSON_IsNumber(bytes) && bytes->valuedouble >= 0 &&
                                          bytes->valuedouble < 1e18
                                      ? (uint64_t)bytes->valuedouble
                                      : UINT64_MAX;
                }
                if (body != NULL && cJSON_IsString(path) &&
                    strlen(path->valuestring) < sizeof body->path)
                    memcpy(body->path, path->valuestring, strlen(path->valuestring) + 1);
            }
        }
    }
    cJSON_Delete(o);
    return kind;
}

void fetch_samples_add(struct fetch_samples *s, uint64_t line, uint32_t hash)
{
    uint64_t stride = s->stride > 0 ? s->stride : 1;

    if (line % stride != 0)
        return;
    if (s->n == FETCH_SAMPLES) { /* full: keep every other line, sample half as often */
        size_t k = 0;
        stride *= 2;
        for (size_t i = 0; i < s->n; i++)
            if (s->s[i].line % stride == 0)
                s->s[k++] = s->s[i];
        s->n = k;
        s->stride = stride;
        if (line % stride != 0 || s->n == FETCH_SAMPLES)
            return;
    }
    s->s[s->n].line = line;
    s->s[s->n].hash = hash;
    s->n++;
    s->stride = stride;
}

static int by_line(const void *a, const void *b)
{
    const struct fetch_sample *x = a, *y = b;

    return x->line < y->line ? -1 : x->line > y->line;
}

void fetch_samples_seal(struct fetch_samples *s)
{
    qsort(s->s, s->n, sizeof s->s[0], by_line);
}

int64_t fetch_samples_find(const struct fetch_samples *s, uint64_t line)
{
    size_t lo = 0, hi = s->n;

    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (s->s[mid].line < line)
            lo = mid + 1;
        else
            hi = mid;
    }
    return lo < s->n && s->s[lo].line == line ? (int64_t)s->s[lo].hash : -1;
}

static uint64_t hash64(const char *s)
{
    uint64_t h = 1469598103934665603ULL; /* FNV-1a, then mixed: ids are often alike */

    for (; *s != '\0'; s++)
        h = (h ^ (unsigned char)*s) * 1099511628211ULL;
    h ^= h >> 33;
    h *= 0xff51afd7ed558ccdULL;
    h ^= h >> 33;
    return h;
}

int64_t fetch_ids_check(struct fetch_ids *s, const char *id, uint64_t line)
{
    uint64_t h = hash64(id);

    if (s->full)
        return -1;
    if ((s->n + 1) * 2 > s->cap) { /* at most half full */
        if (s->n >= FETCH_IDS_MAX) {
            s->full = 1;
            return -1;
        }
        size_t cap = s->cap > 0 ? s->cap * 2 : 1024;
        struct fetch_id_slot *slots = calloc(cap, sizeof *slots);
        if (slots == NULL)
            return -1;
        for (size_t i = 0; i < s->cap; i++)
            if (s->slots[i].line != 0) {
                size_t j = (size_t)s->slots[i].hash & (cap - 1);
                while (slots[j].line != 0)
                    j = (j + 1) & (cap - 1);
                slots[j] = s->slots[i];
            }
        free(s->slots);
        s->slots = slots;
        s->cap = cap;
    }
    size_t j = (size_t)h & (s->cap - 1);
    while (s->slots[j].line != 0) {
        if (s->slots[j].hash == h)
            return (int64_t)s->slots[j].line;
        j = (j + 1) & (s->cap - 1);
    }
    s->slots[j].hash = h;
    s->slots[j].line = line;
    s->n++;
    return 0;
}

void fetch_ids_free(struct fetch_ids *s)
{
    free(s->slots);
    memset(s, 0, sizeof *s);
}
