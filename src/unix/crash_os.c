/* System primitives of the crash layers that are not the emergency walk,
 * the signal handlers or the guardian: shared memory for the registry,
 * fork handlers, identities, locks, a pause, a thread id. */
#include "../internal.h"
#include "tmpf_features.h"

#include <errno.h>
#include <pthread.h>
#include <sys/file.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>
#if TMPF_HAVE_GETDENTS64
#include <sys/syscall.h>
#endif

#ifndef MAP_NORESERVE
#define MAP_NORESERVE 0
#endif

#if TMPF_HAVE_MAP_ANONYMOUS
void *tmpf__os_shared_map(size_t size)
{
    void *p = mmap(NULL, size, PROT_READ | PROT_WRITE,
                   MAP_SHARED | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
    return p == MAP_FAILED ? NULL : p;
}

int tmpf__os_shared_remap(void *p, size_t size)
{
    void *q = mmap(p, size, PROT_READ | PROT_WRITE,
                   MAP_SHARED | MAP_ANONYMOUS | MAP_NORESERVE | MAP_FIXED, -1, 0);
    return q == p ? 0 : -1;
}
#else
/* No anonymous shared memory (POSIX before 2024): no registry, so no
 * emergency cleanup or guard; creation itself is unaffected. */
void *tmpf__os_shared_map(size_t size)
{
    (void)size;
    errno = ENOSYS;
    return NULL;
}

int tmpf__os_shared_remap(void *p, size_t size)
{
    (void)p, (void)size;
    errno = ENOSYS;
    return -1;
}
#endif

int tmpf__os_ident(int fd, const char *path, uint64_t *dev, uint64_t *ino)
{
    struct stat st;
    if ((fd >= 0 ? fstat(fd, &st) : lstat(path, &st)) != 0)
        return -1;
    *dev = (uint64_t)st.st_dev;
    *ino = (uint64_t)st.st_ino;
    return 0;
}

int tmpf__os_lock_shared(int fd)
{
    int rc;
    do
        rc = flock(fd, LOCK_SH);
    while (rc != 0 && errno == EINTR);
    return rc;
}

long tmpf__os_thread_id(void)
{
#if TMPF_HAVE_GETDENTS64 && defined(SYS_gettid) /* Linux */
    return (long)syscall(SYS_gettid);
#else
    /* Not async-signal-safe on paper; in practice a load of a register
     * or of thread-local storage everywhere. */
    return (long)(uintptr_t)pthread_self() | 1;
#endif
}

void tmpf__os_pause(void)
{
    struct timespec ts = {0, 1000000};
    nanosleep(&ts, NULL);
}

long long tmpf__os_now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (long long)ts.tv_sec;
}
