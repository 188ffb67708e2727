/* Durable batches (tmpf_write_atomic_many): start writeback of every file,
 * then fsync them from several threads at once (on a file system in
 * memory, one at a time: nothing to wait for), so that the file system
 * can serve many waits with one journal commit and one device flush
 * (ext4's and xfs's log force is shared by concurrent fsyncs). All threads
 * are joined before the call returns: no work is left running. */
#include "../internal.h"
#include "tmpf_features.h"

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#if TMPF_HAVE_STATFS_F_TYPE
#include <sys/vfs.h>
/* linux/magic.h's values (not every C library's include path has the
 * kernel's headers). */
#define TMPF_TMPFS_MAGIC 0x01021994
#define TMPF_RAMFS_MAGIC 0x858458f6
#endif
#include <unistd.h>

/* Threads besides the caller's. A wait for a flush costs no CPU, so more
 * threads than cores is fine; more than this brought nothing measurable. */
#define SYNC_THREADS 15

struct sync_job {
    const int *fds;
    int *errs;
    size_t n;
    atomic_size_t next;
};

static void *sync_worker(void *arg)
{
    struct sync_job *j = arg;
    for (;;) {
        size_t i = atomic_fetch_add_explicit(&j->next, 1, memory_order_relaxed);
        if (i >= j->n)
            return NULL;
        j->errs[i] = tmpf__os_fsync(j->fds[i], false) == 0 ? 0 : errno;
    }
}

/* Whether fsync of fd has nothing to wait for: a file system in memory
 * (tmpfs, ramfs), where threads would only cost. */
static bool in_memory(int fd)
{
#if TMPF_HAVE_STATFS_F_TYPE
    struct statfs fs;
    return fstatfs(fd, &fs) == 0 &&
           ((unsigned long)fs.f_type == TMPF_TMPFS_MAGIC ||
            (unsigned long)fs.f_type == TMPF_RAMFS_MAGIC);
#else
    (void)fd;
    return false;
#endif
}

void tmpf__os_sync_files(const int *fds, int *errs, size_t n)
{
#if TMPF_HAVE_SYNC_FILE_RANGE
    /* Writeback of all of them starts now, not one file at a time. */
    for (size_t i = 0; i < n; i++)
        sync_file_range(fds[i], 0, 0, SYNC_FILE_RANGE_WRITE);
#endif
    /* In memory: one at a time (each returns at once). Else all at once:
     * one fsync alone first would wait for a whole commit by itself. */
    size_t first = 0;
    if (n > 0 && in_memory(fds[0]))
        for (; first < n; first++)
            errs[first] = tmpf__os_fsync(fds[first], false) == 0 ? 0 : errno;
    struct sync_job j = {fds, errs, n, first};
    pthread_t threads[SYNC_THREADS];
    size_t started = 0;
    size_t want = n - first > 1 ? n - first - 1 : 0;
    if (want > SYNC_THREADS)
        want = SYNC_THREADS;
    while (started < want && pthread_create(&threads[started], NULL, sync_worker, &j) == 0)
        started++;
    sync_worker(&j); /* the caller's share; all of it if no thread started */
    for (size_t i = 0; i < started; i++)
        pthread_join(threads[i], NULL);
}
