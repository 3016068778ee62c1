/* SPDX-License-Identifier: Apache-2.0 */
/* Whether and when to try again: exponential backoff with full jitter, Retry-After as a
 * floor, and a cap on every wait. */
#include "retry.h"

static int status_retried(const cio_retry *r, unsigned on, long status)
{
    if (r->statuses != NULL && r->nstatuses > 0) {
        for (size_t i = 0; i < r->nstatuses; i++)
            if (r->statuses[i] == status)
                return 1;
        return 0;
    }
    return (status == 429 && (on & CIO_RETRY_429)) ||
           (status >= 500 && status <= 599 && (on & CIO_RETRY_5XX));
}

static int retried(const cio_retry *r, int outcome, long status, int retryable)
{
    unsigned on = r->on != 0 ? r->on : CIO_RETRY_DEFAULT;

    if (retryable) /* a generic item said another attempt may help */
        return (on & CIO_RETRY_WORK) != 0;
    if (outcome == CIO_OK || outcome == CIO_E_HTTP)
        return status_retried(r, on, status);
    if (outcome == CIO_E_TRANSPORT)
        return (on & CIO_RETRY_TRANSPORT) != 0;
    if (outcome == CIO_E_TIMEOUT)
        return (on & CIO_RETRY_TIMEOUT) != 0;
    return 0; /* canceled, out of memory, a refused redirect...: trying again won't help */
}

int cio__retry_retries(const cio_retry *r, int outcome, long http_status, int retryable)
{
    return r != NULL && r->max_attempts > 1 && retried(r, outcome, http_status, retryable);
}

int64_t cio__retry_wait(const cio_retry *r, unsigned attempts, int outcome, long http_status,
                        int retryable, int64_t retry_after_ms, uint64_t rnd)
{
    if (r == NULL || attempts >= r->max_attempts || !retried(r, outcome, http_status, retryable))
        return CIO_RETRY_STOP;
    uint64_t base = r->base_ms != 0 ? r->base_ms : CIO_RETRY_BASE_MS;
    uint64_t cap = r->max_wait_ms != 0 ? r->max_wait_ms : CIO_RETRY_MAX_WAIT_MS;

    if (retry_after_ms > (int64_t)cap)
        return CIO_RETRY_TOO_LATE;
    /* The ceiling doubles per attempt; shifting past the cap's bits would overflow. */
    uint64_t ceiling =
        attempts - 1 >= 32 || (base << (attempts - 1)) > cap ? cap : base << (attempts - 1);
    int64_t wait = (int64_t)(rnd % (ceiling + 1));
    return retry_after_ms > wait ? retry_after_ms : wait;
}

uint64_t cio__retry_rand(uint64_t *state)
{
    uint64_t x = *state;

    x ^= x >> 12;
    x ^= x << 25;
    x ^= x >> 27;
    *state = x;
    return x * 0x2545F4914F6CDD1DULL;
}
