/* SPDX-License-Identifier: Apache-2.0 */
/* The live requests of a run (live.h). */
#include "live.h"

#include <stdlib.h>

void fetch_live_init(struct fetch_live *l)
{
    TAILQ_INIT(&l->live);
    TAILQ_INIT(&l->spare);
}

struct fetch_request *fetch_live_add(struct fetch_live *l)
{
    struct fetch_request *r = TAILQ_FIRST(&l->spare);

    if (r != NULL)
        TAILQ_REMOVE(&l->spare, r, link);
    else if ((r = calloc(1, sizeof *r)) == NULL)
        return NULL;
    TAILQ_INSERT_TAIL(&l->live, r, link);
    return r;
}

void fetch_live_end(struct fetch_live *l, struct fetch_request *r)
{
    TAILQ_REMOVE(&l->live, r, link);
    free(r->id);
    r->id = NULL;
    r->abandoned = 0;
    r->body_no = 0;
    TAILQ_INSERT_HEAD(&l->spare, r, link);
}

size_t fetch_live_lines(const struct fetch_live *l, uint64_t *out, size_t max)
{
    const struct fetch_request *r;
    size_t n = 0;

    TAILQ_FOREACH(r, &l->live, link)
    {
        if (n == max)
            break;
        if (!r->abandoned)
            out[n++] = r->line;
    }
    return n;
}

int fetch_live_abandon(struct fetch_live *l, cio_pool *pool, uint64_t line)
{
    struct fetch_request *r;

    TAILQ_FOREACH(r, &l->live, link)
    {
        if (r->line == line && !r->abandoned) {
            r->abandoned = 1;
            cio_cancel(pool, r->task); /* its end comes back through the pool, at once */
            return 1;
        }
    }
    return 0;
}

void fetch_live_free(struct fetch_live *l)
{
    struct fetch_request *r;

    while ((r = TAILQ_FIRST(&l->live)) != NULL)
        fetch_live_end(l, r);
    while ((r = TAILQ_FIRST(&l->spare)) != NULL) {
        TAILQ_REMOVE(&l->spare, r, link);
        free(r);
    }
}
