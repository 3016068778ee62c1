/* SPDX-License-Identifier: Apache-2.0 */
/* Links against an installed Concurio and makes and frees a pool. */
#include <stdio.h>
#include <string.h>

#include <concurio/concurio.h>

int main(void)
{
    int err;
    cio_pool *p = cio_pool_new(NULL, &err);

    if (p == NULL || strcmp(cio_version(), CIO_VERSION_STRING) != 0)
        return 1;
    cio_http_req bad = {.url = "gopher://127.0.0.1/"};
    int rc = cio_submit_http(p, &bad, NULL);
    cio_pool_free(p);
    printf("concurio %s linked; gopher refused with %s\n", cio_version(), cio_err_name(rc));
    return rc == CIO_E_INVAL ? 0 : 1;
}
