/* SPDX-License-Identifier: Apache-2.0 */
/* Every allocation of Concurio's own code, through the functions cio_set_mem_functions
 * installed (the C library's by default). */
#ifndef CIO_MEM_H
#define CIO_MEM_H

#include <stddef.h>

void *cio__malloc(size_t size);
void *cio__calloc(size_t n, size_t size);
void *cio__realloc(void *ptr, size_t size);
void cio__free(void *ptr);
char *cio__strdup(const char *s);

/* Pools alive: the allocator may change only when there are none. */
void cio__pools_add(int delta);

#endif
