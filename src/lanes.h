/* SPDX-License-Identifier: Apache-2.0 */
/* Where HTTP transfers run: curl multi handles driven by libevent through curl's socket
 * API. One on the pool's own loop, or (cio_pool_opts.io_threads) one per thread of its
 * own, each with its own event_base: a "lane". Admission, callbacks and every decision
 * stay on the loop thread; a lane only moves bytes. */
#ifndef CIO_LANES_H
#define CIO_LANES_H

#include <curl/curl.h>

#include "concurio/concurio.h"

struct cio_lane;

/* A transfer, embedded in the HTTP adapter's work. Loop thread, except where said. */
struct cio_xfer {
    CURL *easy;
    struct cio_xfer *next, *prev;   /* in a lane's inbox or outbox: under the lane's lock */
    struct cio_xfer *rnext, *rprev; /* in a lane's multi: that lane's thread only */
    struct cio_lane *lane;          /* the lane it is lent to; NULL when back */
    struct cio_xfer *dnext;         /* its lane's thread only: in the doomed list */
    int doomed;                     /* its lane's thread only: no event for a socket */
    int state;                      /* under the lane's lock */
    CURLcode rc;                    /* how it ended, set by the lane */
    int want_sent;                  /* loop thread, before add: report the request going out */
    int sent_said;                  /* its lane's: reported once per attempt */
    struct cio_xfer *snext;         /* in the lanes' sentbox: under the lock */
    int in_sentbox;                 /* under the lock */
};

/* A transfer ended (rc): its easy handle is out of every multi and the loop thread's
 * again. Loop thread. */
typedef void (*cio_xfer_ended_fn)(struct cio_xfer *x, CURLcode rc);
/* A transfer cio__lanes_remove could not take back at once is back now. Loop thread. */
typedef void (*cio_xfer_back_fn)(struct cio_xfer *x);
/* A transfer with want_sent has its request going out now (once per add). Loop thread,
 * never inside a user callback (inside libcurl's, on the pool's own lane). */
typedef void (*cio_xfer_sent_fn)(struct cio_xfer *x);

struct cio_lanes;

/* threads 0: transfers on the pool's loop. max_conns: connections open at most, in all
 * lanes together; max_reqs: transfers at once (the pool admits no more). NULL with *err
 * CIO_E_NOMEM, or CIO_E_NOFD when a loop or a pipe found no descriptor. */
struct cio_lanes *cio__lanes_new(cio_pool *p, unsigned threads, long max_conns, long max_reqs,
                                 cio_xfer_ended_fn ended, cio_xfer_back_fn back,
                                 cio_xfer_sent_fn sent, int *err);
/* Starts x->easy, set up by the caller. CIO_OK, or an error and x was not taken. */
int cio__lanes_add(struct cio_lanes *l, struct cio_xfer *x);
/* Stops x. 1: its easy handle is the caller's again; 0: its lane still has it and
 * `back` will say when it returns (it never reports `ended`). */
int cio__lanes_remove(struct cio_lanes *l, struct cio_xfer *x);
/* Stops the threads, then gives back every transfer still out through `back`. */
void cio__lanes_free(struct cio_lanes *l);

#endif
