/* SPDX-License-Identifier: Apache-2.0 */
/* Where a run's records go: a descriptor (writer.c), or a queue job's results
 * (worker.c, which also hands the records it wins to a writer). */
#ifndef CIO_FETCH_SINK_H
#define CIO_FETCH_SINK_H

struct event_base;
struct fetch_record;

struct fetch_sink {
    /* The loop is made: 0, or -1 with a message said. */
    int (*start)(struct fetch_sink *k, struct event_base *base);
    /* An ended item's record (its strings borrowed for the call). 0, or an errno when
     * records can no longer be kept: the run then cancels what is left. */
    int (*put)(struct fetch_sink *k, struct fetch_record *r);
    /* Writes out what waits now (before the meter draws on the same terminal). */
    void (*flush)(struct fetch_sink *k);
    /* Every item has ended: 1 when the run may end now; else the sink breaks the loop
     * itself once its records are safe. */
    int (*drained)(struct fetch_sink *k);
    /* The run is over: the last records out, the loop's events let go. */
    void (*stop)(struct fetch_sink *k);
};

#endif
