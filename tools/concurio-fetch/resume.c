/* SPDX-License-Identifier: Apache-2.0 */
/* --resume: which inputs are done already. Only the ids are kept, not the records. */
#define _POSIX_C_SOURCE 200809L
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "resume.h"

static uint64_t hash(const char *s)
{
    uint64_t h = 1469598103934665603ULL; /* FNV-1a */

    for (; *s != '\0'; s++)
        h = (h ^ (unsigned char)*s) * 1099511628211ULL;
    return h;
}

static char **slot(char **slots, size_t cap, const char *id)
{
    size_t i = (size_t)hash(id) & (cap - 1);

    while (slots[i] != NULL && strcmp(slots[i], id) != 0)
        i = (i + 1) & (cap - 1);
    return &slots[i];
}

int fetch_idset_has(const struct fetch_idset *s, const char *id)
{
    return s->cap > 0 && *slot(s->slots, s->cap, id) != NULL;
}

int fetch_idset_add(struct fetch_idset *s, const char *id)
{
    if ((s->n + 1) * 2 > s->cap) { /* at most half full */
        size_t cap = s->cap > 0 ? s->cap * 2 : 64;
        char **slots = calloc(cap, sizeof *slots);
        if (slots == NULL)
            return -1;
        for (size_t i = 0; i < s->cap; i++)
            if (s->slots[i] != NULL)
                *slot(slots, cap, s->slots[i]) = s->slots[i];
        free(s->slots);
        s->slots = slots;
        s->cap = cap;
    }
    char **at = slot(s->slots, s->cap, id);
    if (*at != NULL)
        return 0;
    if ((*at = strdup(id)) == NULL)
        return -1;
    s->n++;
    return 1;
}

void fetch_idset_free(struct fetch_idset *s)
{
    for (size_t i = 0; i < s->cap; i++)
        free(s->slots[i]);
    free(s->slots);
    memset(s, 0, sizeof *s);
}

char *fetch_resume_done_id(const char *line, size_t len, int *malformed)
{
    cJSON *o = cJSON_ParseWithLength(line, len);
    char *id = NULL;

    *malformed = 1;
    if (o != NULL && cJSON_IsObject(o)) {
        const cJSON *outcome = cJSON_GetObjectItemCaseSensitive(o, "outcome");
        const cJSON *i = cJSON_GetObjectItemCaseSensitive(o, "id");
        if (cJSON_IsString(outcome) &&
            (cJSON_IsString(i) || (cJSON_IsNumber(i) && isfinite(i->valuedouble)))) {
            *malformed = 0;
            char *text =
                strcmp(outcome->valuestring, "done") == 0 ? cJSON_PrintUnformatted(i) : NULL;
            id = text != NULL ? strdup(text) : NULL; /* ours: cJSON's hooks may differ */
            cJSON_free(text);
        }
    }
    cJSON_Delete(o);
    return id;
}

int fetch_resume_load(struct fetch_idset *s, FILE *f, size_t *bad, long long *good_end)
{
    char *line = NULL;
    size_t cap = 0;
    ssize_t n;
    int rc = 0;

    *bad = 0;
    *good_end = 0;
    while ((n = getline(&line, &cap, f)) > 0) {
        if (line[n - 1] != '\n')
            break; /* a truncated last line: neither a record nor a bad one */
        *good_end += n;
        if (n == 1)
            continue;
        int malformed;
        char *id = fetch_resume_done_id(line, (size_t)n - 1, &malformed);
        *bad += (size_t)malformed;
        if (id != NULL && fetch_idset_add(s, id) < 0)
            rc = -1;
        free(id);
        if (rc != 0)
            break;
    }
    if (ferror(f))
        rc = -1;
    free(line);
    return rc;
}
