/* SPDX-License-Identifier: Apache-2.0 */
/* Retry decisions with explicit inputs: no network, no clock, no real randomness. */
#include <criterion/criterion.h>

#include "retry.h"

static const cio_retry three = {.max_attempts = 3};

Test(retry, no_policy_or_one_attempt_never_retries)
{
    cio_retry one = {.max_attempts = 1};

    cr_assert_eq(cio__retry_wait(NULL, 1, CIO_E_TRANSPORT, 0, 0, -1, 0), CIO_RETRY_STOP);
    cr_assert_eq(cio__retry_wait(&one, 1, CIO_E_TRANSPORT, 0, 0, -1, 0), CIO_RETRY_STOP);
    cr_assert_eq(cio__retry_wait(&three, 3, CIO_E_TRANSPORT, 0, 0, -1, 0), CIO_RETRY_STOP);
}

Test(retry, by_default_transport_errors_429_and_5xx_are_retried)
{
    cr_assert_geq(cio__retry_wait(&three, 1, CIO_E_TRANSPORT, 0, 0, -1, 7), 0);
    cr_assert_geq(cio__retry_wait(&three, 1, CIO_OK, 429, 0, -1, 7), 0);
    cr_assert_geq(cio__retry_wait(&three, 1, CIO_OK, 500, 0, -1, 7), 0);
    cr_assert_geq(cio__retry_wait(&three, 2, CIO_E_HTTP, 599, 0, -1, 7), 0);
    cr_assert_eq(cio__retry_wait(&three, 1, CIO_OK, 200, 0, -1, 7), CIO_RETRY_STOP);
    cr_assert_eq(cio__retry_wait(&three, 1, CIO_OK, 404, 0, -1, 7), CIO_RETRY_STOP);
    cr_assert_eq(cio__retry_wait(&three, 1, CIO_OK, 600, 0, -1, 7), CIO_RETRY_STOP);
    cr_assert_eq(cio__retry_wait(&three, 1, CIO_E_CANCELED, 0, 0, -1, 7), CIO_RETRY_STOP);
    cr_assert_eq(cio__retry_wait(&three, 1, CIO_E_NOMEM, 0, 0, -1, 7), CIO_RETRY_STOP);
}

Test(retry, timeouts_only_when_asked)
{
    cio_retry t = {.max_attempts = 3, .on = CIO_RETRY_DEFAULT | CIO_RETRY_TIMEOUT};

    cr_assert_eq(cio__retry_wait(&three, 1, CIO_E_TIMEOUT, 0, 0, -1, 7), CIO_RETRY_STOP);
    cr_assert_geq(cio__retry_wait(&t, 1, CIO_E_TIMEOUT, 0, 0, -1, 7), 0);
}

Test(retry, generic_work_retries_when_it_says_so_and_the_policy_lets_it)
{
    cio_retry http_only = {.max_attempts = 3, .on = CIO_RETRY_TRANSPORT | CIO_RETRY_5XX};

    cr_assert_geq(cio__retry_wait(&three, 1, CIO_E_ADAPTER, 0, 1, -1, 7), 0);
    cr_assert_eq(cio__retry_wait(&three, 1, CIO_E_ADAPTER, 0, 0, -1, 7), CIO_RETRY_STOP,
                 "a failure it did not call retryable is final");
    cr_assert_eq(cio__retry_wait(&three, 3, CIO_E_ADAPTER, 0, 1, -1, 7), CIO_RETRY_STOP);
    cr_assert_eq(cio__retry_wait(&http_only, 1, CIO_E_ADAPTER, 0, 1, -1, 7), CIO_RETRY_STOP,
                 "a policy without CIO_RETRY_WORK");
    cr_assert_eq(cio__retry_wait(&three, 1, CIO_E_ADAPTER, 0, 1, 1500, 7), 1500, "after_ms");
    cr_assert(cio__retry_retries(&three, CIO_E_ADAPTER, 0, 1));
    cr_assert(!cio__retry_retries(&three, CIO_E_ADAPTER, 0, 0));
}

Test(retry, a_status_list_replaces_429_and_5xx)
{
    static const unsigned short list[] = {408, 503};
    cio_retry r = {.max_attempts = 2, .statuses = list, .nstatuses = 2};

    cr_assert_geq(cio__retry_wait(&r, 1, CIO_OK, 408, 0, -1, 0), 0);
    cr_assert_geq(cio__retry_wait(&r, 1, CIO_OK, 503, 0, -1, 0), 0);
    cr_assert_eq(cio__retry_wait(&r, 1, CIO_OK, 429, 0, -1, 0), CIO_RETRY_STOP);
    cr_assert_eq(cio__retry_wait(&r, 1, CIO_OK, 500, 0, -1, 0), CIO_RETRY_STOP);
    cr_assert_geq(cio__retry_wait(&r, 1, CIO_E_TRANSPORT, 0, 0, -1, 0), 0);
}

Test(retry, full_jitter_under_a_ceiling_that_doubles_up_to_the_cap)
{
    cio_retry r = {.max_attempts = 100, .base_ms = 500, .max_wait_ms = 3000};

    /* rnd modulo (ceiling + 1): the largest rnd below a multiple shows the ceiling. */
    cr_assert_eq(cio__retry_wait(&r, 1, CIO_E_TRANSPORT, 0, 0, -1, 500), 500);
    cr_assert_eq(cio__retry_wait(&r, 1, CIO_E_TRANSPORT, 0, 0, -1, 501), 0);
    cr_assert_eq(cio__retry_wait(&r, 2, CIO_E_TRANSPORT, 0, 0, -1, 1000), 1000);
    cr_assert_eq(cio__retry_wait(&r, 3, CIO_E_TRANSPORT, 0, 0, -1, 2000), 2000);
    cr_assert_eq(cio__retry_wait(&r, 4, CIO_E_TRANSPORT, 0, 0, -1, 3000), 3000); /* capped */
    cr_assert_eq(cio__retry_wait(&r, 4, CIO_E_TRANSPORT, 0, 0, -1, 3001), 0);
    cr_assert_eq(cio__retry_wait(&r, 80, CIO_E_TRANSPORT, 0, 0, -1, 3000), 3000); /* no overflow */
    for (uint64_t rnd = 0; rnd < 5000; rnd += 37)
        cr_assert_leq(cio__retry_wait(&r, 2, CIO_E_TRANSPORT, 0, 0, -1, rnd), 1000);
}

Test(retry, defaults_are_half_a_second_doubling_to_a_minute)
{
    cio_retry r = {.max_attempts = 100};

    cr_assert_eq(cio__retry_wait(&r, 1, CIO_E_TRANSPORT, 0, 0, -1, 500), 500);
    cr_assert_eq(cio__retry_wait(&r, 20, CIO_E_TRANSPORT, 0, 0, -1, 60000), 60000);
}

Test(retry, retry_after_is_a_floor_and_past_the_cap_ends_the_item)
{
    cio_retry r = {.max_attempts = 5, .max_wait_ms = 10000};

    cr_assert_eq(cio__retry_wait(&r, 1, CIO_OK, 429, 0, 2000, 0), 2000);
    cr_assert_eq(cio__retry_wait(&r, 1, CIO_OK, 503, 0, 2000, 500), 2000); /* jitter below it */
    cr_assert_eq(cio__retry_wait(&r, 1, CIO_OK, 503, 0, 10000, 0), 10000);
    cr_assert_eq(cio__retry_wait(&r, 1, CIO_OK, 503, 0, 10001, 0), CIO_RETRY_TOO_LATE);
    cr_assert_eq(cio__retry_wait(&r, 5, CIO_OK, 503, 0, 10001, 0), CIO_RETRY_STOP,
                 "no attempts left");
}

Test(retry, the_random_numbers_spread)
{
    uint64_t state = 42, seen_low = 0, seen_high = 0;

    for (int i = 0; i < 1000; i++) {
        uint64_t v = cio__retry_rand(&state) % 100;
        seen_low += v < 50;
        seen_high += v >= 50;
    }
    cr_assert_gt(seen_low, 400);
    cr_assert_gt(seen_high, 400);
}
