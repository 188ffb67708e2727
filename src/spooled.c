/* Spooled temporary files (placeholder until issue 4: nothing is ever in
 * memory, and creating one fails with ENOSYS). */
#include "internal.h"

#include <errno.h>

tmpf_file *tmpf_spooled_temporary_file(const tmpf_opts *opts)
{
    (void)opts;
    errno = ENOSYS;
    return NULL;
}

bool tmpf__spool_active(const tmpf_file *f) { (void)f; return false; }
ssize_t tmpf__spool_read(tmpf_file *f, void *buf, size_t n)
{
    (void)f, (void)buf, (void)n;
    errno = ENOSYS;
    return -1;
}
ssize_t tmpf__spool_write(tmpf_file *f, const void *buf, size_t n)
{
    (void)f, (void)buf, (void)n;
    errno = ENOSYS;
    return -1;
}
int64_t tmpf__spool_seek(tmpf_file *f, int64_t off, int whence)
{
    (void)f, (void)off, (void)whence;
    errno = ENOSYS;
    return -1;
}
int tmpf__spool_truncate(tmpf_file *f, int64_t size)
{
    (void)f, (void)size;
    errno = ENOSYS;
    return -1;
}
int tmpf__spool_rollover(tmpf_file *f) { (void)f; errno = ENOSYS; return -1; }
void tmpf__spool_free(tmpf_file *f) { (void)f; }
