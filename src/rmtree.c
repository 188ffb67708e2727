/* Safe recursive removal (placeholder until issue 5). */
#include "internal.h"

#include <errno.h>

int tmpf_rmtree(const char *path, unsigned flags)
{
    (void)path;
    (void)flags;
    errno = ENOSYS;
    return -1;
}
