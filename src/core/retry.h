/* SPDX-License-Identifier: Apache-2.0 */
/* Retry decisions: pure arithmetic on the policy, the outcome and a random number. */
#ifndef CIO_RETRY_H
#define CIO_RETRY_H

#include <stdint.h>

#include "concurio/concurio.h"

#define CIO_RETRY_BASE_MS 500u
#define CIO_RETRY_MAX_WAIT_MS 60000u

/* cio__retry_wait's answers besides a wait. */
enum { CIO_RETRY_STOP = -1, CIO_RETRY_TOO_LATE = -2 };

/* After `attempts` attempts, the last ending with `outcome` (CIO_OK for a response,
 * CIO_E_HTTP too, or CIO_E_TRANSPORT, CIO_E_TIMEOUT, ...) and `http_status` (retryable:
 * a generic item said another attempt may help, CIO_RETRY_WORK), and a wait asked for
 * of `retry_after_ms` (-1: none): the ms to wait before the next attempt,
 * CIO_RETRY_STOP, or CIO_RETRY_TOO_LATE when the ask passes max_wait_ms. `rnd` is any
 * uniformly random number; the jitter is rnd modulo the backoff ceiling + 1. */
int64_t cio__retry_wait(const cio_retry *r, unsigned attempts, int outcome, long http_status,
                        int retryable, int64_t retry_after_ms, uint64_t rnd);

/* 1 when the policy asks for retries (max_attempts > 1) and would retry this outcome:
 * on the last attempt, such a response is a failure, not a result. */
int cio__retry_retries(const cio_retry *r, int outcome, long http_status, int retryable);

/* A fast random number for jitter (xorshift64*); *state must not be 0. */
uint64_t cio__retry_rand(uint64_t *state);

#endif
