/* SPDX-License-Identifier: Apache-2.0 */
/* Error names and texts from one table, and the version. */
#include "internal.h"

static const struct {
    const char *name, *text;
} errors[] = {
    [0] = {"CIO_OK", "success"},
    [1] = {"CIO_E_NOMEM", "out of memory"},
    [2] = {"CIO_E_INVAL", "invalid argument"},
    [3] = {"CIO_E_TIMEOUT", "operation timed out"},
    [4] = {"CIO_E_CANCELED", "operation canceled"},
    [5] = {"CIO_E_TRANSPORT", "transfer failed"},
    [6] = {"CIO_E_LOOP", "event loop failure"},
    [7] = {"CIO_E_STATE", "not allowed in this state"},
    [8] = {"CIO_E_NOTFOUND", "no such unfinished task"},
    [9] = {"CIO_E_ADAPTER", "work item failed"},
    [10] = {"CIO_E_DEADLINE", "deadline exceeded"},
    [11] = {"CIO_E_HTTP", "HTTP error status"},
    [12] = {"CIO_E_RETRY_AFTER", "server asked to retry later than allowed"},
    [13] = {"CIO_E_NOFD", "no file descriptor left (RLIMIT_NOFILE)"},
    [14] = {"CIO_E_FILE", "the response body could not be written to its file"},
};

_Static_assert(sizeof errors / sizeof errors[0] == -CIO_E__LAST, "one row per code");

const char *cio_strerror(int err)
{
    return err <= 0 && err > CIO_E__LAST ? errors[-err].text : "unknown error";
}

const char *cio_err_name(int err)
{
    return err <= 0 && err > CIO_E__LAST ? errors[-err].name : "CIO_E_UNKNOWN";
}

const char *cio_version(void)
{
    return CIO_VERSION_STRING;
}

unsigned cio_version_num(void)
{
    return CIO_VERSION_NUM;
}
