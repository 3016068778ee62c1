/* SPDX-License-Identifier: Apache-2.0 */
/* The files of a run, opened in an order that never loses a record: every file read is
 * compared with the output by device and inode first, so "-o list.txt list.txt" is a
 * usage error before anything is written; --resume FILE is read before the output is
 * opened, and then appended to (the same file) or copied into it (another file). */
#ifndef CIO_FETCH_FILES_H
#define CIO_FETCH_FILES_H

#include <stddef.h>
#include <stdint.h>

struct app;

/* Opens the input, reads -d @FILE, -H @FILE, checks --cacert, loads --resume, reads a
 * regular input ahead (the meter's total, the resume check), opens the output. 0, or
 * the exit status (FETCH_EXIT_USAGE, FETCH_EXIT_OUTPUT) with a message said. */
int fetch_files_open(struct app *a);
void fetch_files_close(struct app *a);

/* 1 when the --resume sample has a URL for input line `line` and it is not this line's
 * (a message is said); 0 otherwise. */
int fetch_input_mismatch(struct app *a, uint64_t line, const char *text, size_t len);

#endif
