/* SPDX-License-Identifier: Apache-2.0 */
/* Error names and texts, and the version. */
#include <string.h>

#include <criterion/criterion.h>

#include <concurio/concurio.h>

Test(error, every_code_has_a_name_and_a_text)
{
    for (int e = 0; e > CIO_E__LAST; e--) {
        cr_assert_neq(strcmp(cio_err_name(e), "CIO_E_UNKNOWN"), 0, "code %d", e);
        cr_assert_neq(strcmp(cio_strerror(e), "unknown error"), 0, "code %d", e);
    }
    cr_assert_str_eq(cio_err_name(CIO_E_TIMEOUT), "CIO_E_TIMEOUT");
    cr_assert_str_eq(cio_strerror(CIO_E_DEADLINE), "deadline exceeded");
}

Test(error, unknown_codes_get_a_text_not_a_crash)
{
    cr_assert_str_eq(cio_err_name(CIO_E__LAST), "CIO_E_UNKNOWN");
    cr_assert_str_eq(cio_err_name(1), "CIO_E_UNKNOWN");
    cr_assert_str_eq(cio_strerror(-100000), "unknown error");
}

Test(error, version_matches_the_header)
{
    cr_assert_str_eq(cio_version(), CIO_VERSION_STRING);
    cr_assert_eq(cio_version_num(), CIO_VERSION_NUM);
}
