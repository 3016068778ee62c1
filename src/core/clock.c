/* SPDX-License-Identifier: Apache-2.0 */
/* The monotonic clock in milliseconds, and timers armed for a moment on it: the only
 * place that reads the time. */
#define _POSIX_C_SOURCE 200809L
#include <time.h>

#include <event2/event.h>

#include "clock.h"

uint64_t cio__clock_jump_us, cio__clock_frozen_us;

static uint64_t now_us(void)
{
    struct timespec ts;

    if (cio__clock_frozen_us != 0)
        return cio__clock_frozen_us;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000u + (uint64_t)ts.tv_nsec / 1000u + cio__clock_jump_us;
}

uint64_t cio__now_ms(void)
{
    return now_us() / 1000u;
}

/* Armed from the exact time, not the millisecond cio__now_ms says: a timer set from a
 * truncated clock fires up to a millisecond late every time, and a paced rate of 100/s
 * lost a sixth of its starts that way. libevent measures a timeout from its cached time,
 * which can be older than now, so a timer may still fire a little early by this clock.
 * Callers check cio__clock_due and, when it is not yet due, this re-arms it for the rest. */
int cio__clock_arm(struct event *ev, uint64_t due_ms)
{
    uint64_t now = now_us(), due_us = due_ms * 1000u;
    uint64_t us = due_us > now ? due_us - now : 0;
    struct timeval tv = {(time_t)(us / 1000000u), (suseconds_t)(us % 1000000u)};

    return evtimer_add(ev, &tv) == 0 ? CIO_OK : CIO_E_LOOP;
}

int cio__clock_due(struct event *ev, uint64_t due_ms)
{
    if (cio__now_ms() >= due_ms)
        return 1;
    cio__clock_arm(ev, due_ms);
    return 0;
}
