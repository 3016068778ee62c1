/* SPDX-License-Identifier: Apache-2.0 */
/* --resume FILE, the earlier run's records: read once to learn which lines are done,
 * and, when the output is another file, copied into it (the first "done" record of
 * each line), so that no record an earlier run wrote is ever lost. */
#ifndef CIO_FETCH_PRIOR_H
#define CIO_FETCH_PRIOR_H

#include <stddef.h>

#include "resume.h"

struct fetch_prior_info {
    size_t junk;         /* whole lines that are not records */
    long long whole_end; /* offset just past the last whole line: a torn last line (a
                            killed run leaves one) starts there */
    int dup_lines;       /* some line has more than one "done" record */
};

/* Reads f (opened for reading) from its start: the done lines into *done, a sample of
 * their URLs into *samples (sealed). 0, or an errno (read error, or no memory). */
int fetch_prior_load(int fd, struct fetch_lines *done, struct fetch_samples *samples,
                     struct fetch_prior_info *info);

/* Writes the first done record of every line of fd (from its start, whole lines only)
 * to out_fd; *copied counts them. 0, or an errno (then out_fd may hold some). */
int fetch_prior_copy(int fd, int out_fd, const struct fetch_prior_info *info, size_t *copied);

#endif
