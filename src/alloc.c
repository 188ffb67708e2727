/* Allocation wrappers: one seam for the fault-injection tests (issue 9) and
 * one place for wiping memory that held temporary data. */
#include "internal.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

void *tmpf__malloc(size_t n) { return malloc(n ? n : 1); }

void *tmpf__calloc(size_t count, size_t size)
{
    return calloc(count ? count : 1, size ? size : 1);
}

void *tmpf__realloc(void *p, size_t n) { return realloc(p, n ? n : 1); }

char *tmpf__strdup(const char *s)
{
    size_t n = strlen(s) + 1;
    char *copy = tmpf__malloc(n);
    if (copy)
        memcpy(copy, s, n);
    return copy;
}

void tmpf__wipe(void *p, size_t n)
{
#if defined(__GNUC__) || defined(__clang__)
    /* memset at full speed (a spooled buffer can be megabytes); the empty
     * asm that may read p keeps the compiler from treating the stores as
     * dead because the memory is freed right after. */
    memset(p, 0, n);
    __asm__ __volatile__("" : : "r"(p) : "memory");
#else
    volatile unsigned char *v = p;
    while (n--)
        *v++ = 0;
#endif
}

void tmpf__free_wiped(void *p, size_t n)
{
    if (!p)
        return;
    tmpf__wipe(p, n);
    free(p);
}
