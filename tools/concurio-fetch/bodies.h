/* SPDX-License-Identifier: Apache-2.0 */
/* --output-dir: each body goes to a temporary file in DIR while it arrives (the library
 * writes it), and is renamed to its name from --name-template when its item is done.
 * A name taken already (by this run or any file) is numbered, never overwritten; a
 * failed item's file is removed, or kept as NAME.part with --keep-partial. */
#ifndef CIO_FETCH_BODIES_H
#define CIO_FETCH_BODIES_H

#include <stddef.h>
#include <stdint.h>

#include "names.h"

struct fetch_bodies {
    const char *dir; /* as given, or its absolute form (queue mode) */
    char *dir_owned; /* the absolute form, malloc'ed */
    int dirfd;
    struct fetch_template t;
    int keep_partial;
    uint64_t next; /* temporary files made */
    unsigned pid;
    uint64_t saved, partial; /* bodies renamed to their names; kept as .part */
    /* Names that were taken, by hash, with the number to try next: many bodies of one
     * name ({basename} of index pages) each take one rename, not one per earlier one. */
    struct fetch_taken {
        uint64_t hash;
        unsigned next;
    } taken[256];
};

/* Opens (and makes, one level) DIR; absolute: record paths are absolute (a queue's
 * workers run anywhere). 0, or -1 with a message in err. */
int fetch_bodies_open(struct fetch_bodies *b, const char *dir, const char *tmpl, int keep_partial,
                      int absolute, char *err, size_t errlen);
void fetch_bodies_close(struct fetch_bodies *b);

/* A new temporary file's number, and its path for the library (into out, room for
 * `len`); 0, or -1 when DIR's name is too long. */
int fetch_bodies_temp(struct fetch_bodies *b, uint64_t *no, char *out, size_t len);

/* An item ended. done: its temporary file takes its name (vars), path gets "DIR/NAME"
 * (room for FETCH_BODIES_PATH); else it is removed, or kept as NAME.part (path set) or
 * path is "". 0, or an errno: the file could not be named (its text is in why, and the
 * temporary file is removed). */
#define FETCH_BODIES_PATH 4200
int fetch_bodies_end(struct fetch_bodies *b, uint64_t no, int done,
                     const struct fetch_name_vars *vars, char *path, char *why, size_t whylen);

#endif
