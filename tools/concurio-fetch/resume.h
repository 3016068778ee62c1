/* SPDX-License-Identifier: Apache-2.0 */
/* --resume: the ids that already have a "done" record, read from an earlier output. */
#ifndef CIO_FETCH_RESUME_H
#define CIO_FETCH_RESUME_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

/* A set of id texts (as JSON: "\"a7\"", "17"); open addressing, grows by doubling. */
struct fetch_idset {
    char **slots;
    size_t cap, n;
};

/* 1 added, 0 already there, -1 out of memory. Copies id. */
int fetch_idset_add(struct fetch_idset *s, const char *id);
int fetch_idset_has(const struct fetch_idset *s, const char *id);
void fetch_idset_free(struct fetch_idset *s);

/* The id of a record line if its outcome is "done" (malloc'ed JSON text), else NULL;
 * *malformed = 1 when the line is not a record at all. Pure. */
char *fetch_resume_done_id(const char *line, size_t len, int *malformed);

/* Adds the id of every "done" record in f to s. *bad counts lines that are not records;
 * *good_end is the offset just past the last complete line (a truncated last line, as
 * a killed run leaves, begins there). Returns 0, or -1 on a read error or no memory. */
int fetch_resume_load(struct fetch_idset *s, FILE *f, size_t *bad, long long *good_end);

#endif
