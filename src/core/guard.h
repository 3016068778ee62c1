/* SPDX-License-Identifier: Apache-2.0 */
/* The entry guard: every way into code that may call back (a caller's call, a loop
 * event) goes through enter and leave. Callbacks run inside; admission runs at the
 * outermost leave (never nested in another item's callback), and a free asked for from a
 * callback happens there too. It knows the rest of the pool by two hooks. */
#ifndef CIO_GUARD_H
#define CIO_GUARD_H

#include "internal.h"

/* cio__pool_enter, cio__pool_leave and cio__pool_kick are declared in core.h. */

/* Marks that admission should run at the outermost leave, without a next-turn kick
 * (the caller is inside enter/leave). */
void cio__guard_dispatch_soon(cio_pool *p);
/* A dispatch on the next loop turn (once, however often asked). */
void cio__guard_next_turn(cio_pool *p);

#endif
