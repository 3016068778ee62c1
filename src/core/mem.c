/* SPDX-License-Identifier: Apache-2.0 */
/* The allocator of Concurio's own code (the libraries under it have switches of their
 * own), so that a caller can count, limit or fail allocations. */
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>

#include "concurio/concurio.h"
#include "mem.h"

/* Set only while no pool exists, so no thread of a pool ever sees it change. */
static cio_mem_functions mem = {malloc, calloc, realloc, free};
static atomic_int pools;

int cio_set_mem_functions(const cio_mem_functions *m)
{
    if (atomic_load(&pools) != 0)
        return CIO_E_STATE;
    mem.malloc_fn = m != NULL && m->malloc_fn != NULL ? m->malloc_fn : malloc;
    mem.calloc_fn = m != NULL && m->calloc_fn != NULL ? m->calloc_fn : calloc;
    mem.realloc_fn = m != NULL && m->realloc_fn != NULL ? m->realloc_fn : realloc;
    mem.free_fn = m != NULL && m->free_fn != NULL ? m->free_fn : free;
    return CIO_OK;
}

void cio__pools_add(int delta)
{
    atomic_fetch_add(&pools, delta);
}

void *cio__malloc(size_t size)
{
    return mem.malloc_fn(size);
}

void *cio__calloc(size_t n, size_t size)
{
    return mem.calloc_fn(n, size);
}

void *cio__realloc(void *ptr, size_t size)
{
    return mem.realloc_fn(ptr, size);
}

void cio__free(void *ptr)
{
    mem.free_fn(ptr);
}

char *cio__strdup(const char *s)
{
    size_t n = strlen(s) + 1;
    char *d = cio__malloc(n);

    if (d != NULL)
        memcpy(d, s, n);
    return d;
}
