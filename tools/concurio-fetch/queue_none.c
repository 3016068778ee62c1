/* SPDX-License-Identifier: Apache-2.0 */
/* Queue mode's stand-in, for a build without hiredis (and so without libconcurio-redis):
 * every queue command says why it cannot run. */
#include "app.h"
#include "queue.h"

static int not_built(void)
{
    fetch_say("queue mode is not built in: this concurio-fetch was built without hiredis "
              "(Debian: libhiredis-dev)");
    return FETCH_EXIT_USAGE;
}

int fetch_queue_enqueue(struct app *a)
{
    (void)a;
    return not_built();
}

int fetch_queue_collect(struct app *a)
{
    (void)a;
    return not_built();
}

int fetch_worker_open(struct app *a, struct fetch_source **src, struct fetch_sink **sink)
{
    (void)a;
    (void)src;
    (void)sink;
    return not_built();
}

int fetch_worker_report(struct app *a)
{
    (void)a;
    return FETCH_EXIT_USAGE;
}
