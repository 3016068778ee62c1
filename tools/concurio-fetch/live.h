/* SPDX-License-Identifier: Apache-2.0 */
/* The requests of a run that have not ended: each one's record id, input line and pool
 * task, kept for the record its end writes and for queue mode, which asks which lines
 * are in flight and cancels one another worker took over. Ended ones are kept for reuse,
 * so a steady run allocates none. */
#ifndef CIO_FETCH_LIVE_H
#define CIO_FETCH_LIVE_H

#include <stddef.h>
#include <stdint.h>
#include <sys/queue.h>

#include <concurio/concurio.h>

struct fetch_request {
    char *id; /* JSON text of an explicit id (owned), or NULL: the line number */
    uint64_t line;
    cio_task_id task;
    uint64_t body_no; /* --output-dir: its temporary file's number; 0: none */
    int abandoned;    /* another worker took it over: it ends without a record */
    TAILQ_ENTRY(fetch_request) link;
};

TAILQ_HEAD(fetch_requests, fetch_request);

struct fetch_live {
    struct fetch_requests live, spare;
};

void fetch_live_init(struct fetch_live *l);
/* A new request, on the live list (id NULL, not abandoned); NULL when out of memory. */
struct fetch_request *fetch_live_add(struct fetch_live *l);
/* Its end: off the list, its id freed, kept for reuse. */
void fetch_live_end(struct fetch_live *l, struct fetch_request *r);
/* The lines of live requests not abandoned, at most max; how many. */
size_t fetch_live_lines(const struct fetch_live *l, uint64_t *out, size_t max);
/* Cancels the live request of `line` on pool, marked abandoned first; 1 if there was one. */
int fetch_live_abandon(struct fetch_live *l, cio_pool *pool, uint64_t line);
/* Frees every request, live or spare. */
void fetch_live_free(struct fetch_live *l);

#endif
