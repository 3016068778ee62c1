/* SPDX-License-Identifier: Apache-2.0 */
/* The tests' own reading of the monotonic clock, in milliseconds. */
#ifndef CIO_TEST_CLOCK_H
#define CIO_TEST_CLOCK_H

#include <stdint.h>

uint64_t test_now_ms(void);

#endif
