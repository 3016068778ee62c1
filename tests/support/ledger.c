/* SPDX-License-Identifier: Apache-2.0 */
/* Ledger callbacks for the tests. */
#include "ledger.h"

#include <string.h>

static void mark(struct ledger *l, cio_task_id id)
{
    if (id < LEDGER_MAX && l->ends[id]++ > 0)
        l->twice++;
}

static void on_done(cio_pool *p, const cio_result *r, void *user)
{
    struct ledger *l = user;

    l->done++;
    mark(l, r->id);
    if (l->after != NULL)
        l->after(p, r->id, l);
}

static void on_error(cio_pool *p, const cio_result *r, void *user)
{
    struct ledger *l = user;

    l->errors++;
    l->last_status = r->status;
    if (-r->status >= 0 && -r->status < 16)
        l->by_status[-r->status]++;
    mark(l, r->id);
    if (l->after != NULL)
        l->after(p, r->id, l);
}

static void on_timeout(cio_pool *p, const cio_timeouted_task *rec, void *user)
{
    struct ledger *l = user;

    l->timeouts++;
    l->last_timeout = *rec;
    mark(l, rec->id);
    if (l->after != NULL)
        l->after(p, rec->id, l);
}

void ledger_opts(cio_pool_opts *o, struct ledger *l)
{
    memset(l, 0, sizeof *l);
    o->on_done = on_done;
    o->on_error = on_error;
    o->on_timeout = on_timeout;
    o->user = l;
}

size_t ledger_once(const struct ledger *l, size_t n)
{
    size_t once = 0;

    for (size_t id = 1; id <= n && id < LEDGER_MAX; id++)
        once += l->ends[id] == 1;
    return l->twice > 0 ? 0 : once;
}
