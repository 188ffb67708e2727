/* Atomic replacement (placeholder until issue 6). */
#include "internal.h"

#include <errno.h>

int tmpf_file_persist(tmpf_file *f, const char *target, unsigned flags)
{
    (void)f, (void)target, (void)flags;
    errno = ENOSYS;
    return -1;
}

int tmpf_write_atomic(const char *target, const void *data, size_t n,
                      unsigned flags)
{
    (void)target, (void)data, (void)n, (void)flags;
    errno = ENOSYS;
    return -1;
}
