/* SPDX-License-Identifier: Apache-2.0 */
/* The monotonic clock in milliseconds: the only place that reads the time. */
#define _POSIX_C_SOURCE 200809L
#include <time.h>

#include "internal.h"

uint64_t cio__now_ms(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
}
