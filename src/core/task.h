/* SPDX-License-Identifier: Apache-2.0 */
/* An item's life: made, started (each attempt under the slot and token sched.c gave it),
 * its attempts' outcomes decided (another attempt, a requeue, or the end: retry policy,
 * budget, back-pressure, throttling for every kind of work), and the exactly-once
 * terminal callback. */
#ifndef CIO_TASK_H
#define CIO_TASK_H

#include "internal.h"

/* A task for an item (a spare one when there is; its policy copied). NULL: no memory. */
cio_task *cio__task_new(cio_pool *p, const cio_item *item);
/* Frees an unsubmitted task (the work stays the caller's). */
void cio__task_free(cio_task *t);
void cio__task_spares_free(cio_pool *p);
/* Starts an attempt of an admitted task (its slot and tokens taken). */
void cio__task_start(cio_task *t, uint64_t now);
/* The pool ends it with `code` (cancel, deadline, free); stops its work if running. */
void cio__task_abort(cio_task *t, int code);
/* Destroys the work of ended tasks and frees them (the reaper's turn, and the free). */
void cio__task_reap(cio_pool *p);

#endif
