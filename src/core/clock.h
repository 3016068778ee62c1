/* SPDX-License-Identifier: Apache-2.0 */
/* The monotonic clock in milliseconds (cio__now_ms, in core.h), and timers armed for a
 * moment on it: the only place that reads the time. */
#ifndef CIO_CLOCK_H
#define CIO_CLOCK_H

#include <stdint.h>

#include "core.h"

struct event;

/* Arms a timer to fire at due_ms on cio__now_ms's clock. */
int cio__clock_arm(struct event *ev, uint64_t due_ms);
/* In the timer's callback: 1 when due_ms has come, else re-arms the timer and says 0. */
int cio__clock_due(struct event *ev, uint64_t due_ms);
/* For tests of a clock that misbehaves (test_clock.c), both 0 in real use: a jump added
 * to every reading, and a reading the clock is frozen at. Loop thread only. */
extern uint64_t cio__clock_jump_us, cio__clock_frozen_us;

#endif
