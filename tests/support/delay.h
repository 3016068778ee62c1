/* SPDX-License-Identifier: Apache-2.0 */
/* A generic work item that completes after N ms, counting its own concurrency and
 * recording its starts (every attempt's). */
#ifndef CIO_TEST_DELAY_H
#define CIO_TEST_DELAY_H

#include <stdint.h>

#include <concurio/concurio.h>

extern const cio_task_vtable delay_vtable;
extern int delay_running, delay_max_running, delay_destroyed;
extern uint64_t delay_starts_ms[20000];
extern int delay_nstarts;

/* ms < 0: never completes by itself; ms == 0: completes inside start. */
void *delay_new(int ms);
/* The same, whose first `fails` attempts (< 0: every one) end after ms with
 * cio_task_retry(CIO_E_ADAPTER, after_ms, "flaky"). ms > 0. */
void *delay_new_flaky(int ms, int fails, unsigned after_ms);
void delay_reset(void);

#endif
