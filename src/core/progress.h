/* SPDX-License-Identifier: Apache-2.0 */
/* The progress meter's arithmetic: a recent rate from samples, and the ETA. Pure. */
#ifndef CIO_PROGRESS_H
#define CIO_PROGRESS_H

#include <stdint.h>

#include "concurio/concurio.h"

#define CIO_METER_SAMPLES 16
#define CIO_METER_WINDOW_MS 5000u

struct cio_meter {
    uint64_t t[CIO_METER_SAMPLES], ended[CIO_METER_SAMPLES];
    unsigned head, len;
    uint64_t start_ms, base; /* when the run began, and the ended count then */
};

void cio__meter_reset(struct cio_meter *m, uint64_t now, uint64_t ended_total);
/* Records a sample and fills pr's elapsed_ms, ended, rate and eta_ms (pr->total set). */
void cio__meter_sample(struct cio_meter *m, uint64_t now, uint64_t ended_total, cio_progress *pr);

/* 1 when the meter redraws one line in place on fd (a terminal, or asked for). */
int cio__meter_line_mode(int fd, unsigned mode);
/* Draws pr on fd: redrawn in place in line mode (a newline after the final one), else one
 * log line. Best effort: write errors are ignored. */
void cio__meter_draw(int fd, int line_mode, const cio_progress *pr, const char *desc);

#endif
