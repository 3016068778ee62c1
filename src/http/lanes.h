/* SPDX-License-Identifier: Apache-2.0 */
/* Where HTTP transfers run: curl multi handles driven by libevent through curl's socket
 * API. One on the loop thread's event_base, or (io_threads) one per thread of its own,
 * each with its own event_base: a "lane". Every decision stays on the loop thread; a lane
 * only moves bytes, and knows no pool. */
#ifndef CIO_LANES_H
#define CIO_LANES_H

#include <curl/curl.h>

#include "concurio/concurio.h"
#include "list.h"

struct event_base;

struct cio_lane;

/* A transfer, embedded in the HTTP engine's work. Loop thread, except where said. */
struct cio_xfer {
    CURL *easy;
    struct cio_node box;   /* in a lane's inbox or the outbox: under the lanes' lock */
    struct cio_node run;   /* in a lane's multi: that lane's thread only */
    struct cio_node doom;  /* its lane's thread only: to end for want of memory */
    struct cio_node sent;  /* in the sentbox: under the lanes' lock */
    struct cio_lane *lane; /* the lane it is lent to; NULL when back */
    int state;             /* under the lane's lock */
    CURLcode rc;           /* how it ended, set by the lane */
    int want_sent;         /* loop thread, before add: report the request going out */
    int sent_said;         /* its lane's: reported once per attempt */
};

/* A transfer ended (rc): its easy handle is out of every multi and the loop thread's
 * again. Loop thread. */
typedef void (*cio_xfer_ended_fn)(struct cio_xfer *x, CURLcode rc);
/* A transfer cio__lanes_remove could not take back at once is back now. Loop thread. */
typedef void (*cio_xfer_back_fn)(struct cio_xfer *x);
/* A transfer with want_sent has its request going out now (once per add). Loop thread,
 * never inside a user callback (inside libcurl's, on the loop's own lane). */
typedef void (*cio_xfer_sent_fn)(struct cio_xfer *x);

/* What the lanes call on the loop thread: the three above, and the guard around them
 * (enter, leave; closing says the callbacks' owner is going, and nothing more is
 * delivered). The lanes know nothing else of who uses them. */
typedef struct cio_lanes_hooks {
    void *ctx;
    cio_xfer_ended_fn ended;
    cio_xfer_back_fn back;
    cio_xfer_sent_fn sent;
    void (*enter)(void *ctx);
    int (*leave)(void *ctx);
    int (*closing)(void *ctx);
} cio_lanes_hooks;

struct cio_lanes;

/* threads 0: transfers on `base` (the loop thread's). max_conns: connections open at
 * most, in all lanes together; max_reqs: transfers at once (the caller starts no more).
 * hooks: copied. NULL with *err CIO_E_NOMEM, or CIO_E_NOFD when a loop or a pipe found
 * no descriptor. */
struct cio_lanes *cio__lanes_new(struct event_base *base, unsigned threads, long max_conns,
                                 long max_reqs, const cio_lanes_hooks *hooks, int *err);
/* Starts x->easy, set up by the caller. CIO_OK, or an error and x was not taken. */
int cio__lanes_add(struct cio_lanes *l, struct cio_xfer *x);
/* libcurl opened s for a connection of x (CURLOPT_OPENSOCKETFUNCTION): its lane may
 * keep it watched between transfers. x's lane's thread, inside libcurl. */
void cio__lanes_opened(struct cio_xfer *x, curl_socket_t s);
/* Stops x. 1: its easy handle is the caller's again; 0: its lane still has it and
 * `back` will say when it returns (it never reports `ended`). */
int cio__lanes_remove(struct cio_lanes *l, struct cio_xfer *x);
/* Stops the threads, then gives back every transfer still out through `back`. */
void cio__lanes_free(struct cio_lanes *l);

#endif
