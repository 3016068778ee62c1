/* SPDX-License-Identifier: Apache-2.0 */
/* concurio-fetch's progress meter: the pool's snapshot with the counts of the records
 * written (bad lines included, items a signal stopped before they started not), so
 * that the meter and the summary always say the same. One line redrawn on a terminal;
 * elsewhere a log line with the time of day. */
#ifndef CIO_FETCH_METER_H
#define CIO_FETCH_METER_H

#include <stdint.h>

#include <concurio/concurio.h>

#include "summary.h"

/* Writes one meter line to fd: pr with its counts taken from s. line_mode: redrawn in
 * place (a newline after the final one); else a line with "HH:MM:SS " in front. */
void fetch_meter_draw(int fd, int line_mode, const cio_progress *pr, const struct fetch_summary *s);

#endif
