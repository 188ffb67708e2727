/* Durable batches (tmpf_write_atomic_many): start writeback of every file,
 * then fsync them (once one has had to wait for a device) from several
 * threads at once, so that the file system
 * can serve many waits with one journal commit and one device flush
 * (ext4's and xfs's log force is shared by concurrent fsyncs). All threads
 * are joined before the call returns: no work is left running. */
#include "../internal.h"

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <time.h>
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

/* An fsync that returns faster than this did not wait for a device (tmpfs,
 * or nothing dirty): threads would cost more than they could save. */
#define FAST_SYNC_NS 100000L

static long elapsed_ns(const struct timespec *t0)
{
    struct timespec t1;
    clock_gettime(CLOCK_MONOTONIC, &t1);
    return (t1.tv_sec - t0->tv_sec) * 1000000000L + (t1.tv_nsec - t0->tv_nsec);
}

void tmpf__os_sync_files(const int *fds, int *errs, size_t n)
{
#if defined(__linux__)
    /* Writeback of all of them starts now, not one file at a time. */
    for (size_t i = 0; i < n; i++)
        sync_file_range(fds[i], 0, 0, SYNC_FILE_RANGE_WRITE);
#endif
    /* One at a time while they are fast; at the first that had to wait,
     * the rest concurrently. */
    size_t first = 0;
    while (first < n) {
        struct timespec t0;
        clock_gettime(CLOCK_MONOTONIC, &t0);
        errs[first] = tmpf__os_fsync(fds[first], false) == 0 ? 0 : errno;
        first++;
        if (elapsed_ns(&t0) > FAST_SYNC_NS)
            break;
    }
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
