/* Threads and processes for the portable files: the library's process-wide
 * locks and one-time initializations (POSIX threads here; SRWLOCK and
 * INIT_ONCE in a Windows port), fork handlers, yielding. The portable
 * files name a lock or a once by its enum and never see <pthread.h>. */
#include "../internal.h"

#include <errno.h>
#include <pthread.h>
#include <sched.h>
#include <stdalign.h>
#include <stddef.h>
#include <unistd.h>

/* One initializer per enum value (a new value needs one more here). */
static pthread_mutex_t locks[] = {PTHREAD_MUTEX_INITIALIZER, PTHREAD_MUTEX_INITIALIZER,
                                  PTHREAD_MUTEX_INITIALIZER, PTHREAD_MUTEX_INITIALIZER};
static pthread_once_t onces[] = {PTHREAD_ONCE_INIT, PTHREAD_ONCE_INIT,
                                 PTHREAD_ONCE_INIT, PTHREAD_ONCE_INIT};
_Static_assert(sizeof locks / sizeof locks[0] == TMPF__LOCK_COUNT, "one per lock");
_Static_assert(sizeof onces / sizeof onces[0] == TMPF__ONCE_COUNT, "one per once");

void tmpf__os_lock(enum tmpf__lock which) { pthread_mutex_lock(&locks[which]); }

void tmpf__os_unlock(enum tmpf__lock which) { pthread_mutex_unlock(&locks[which]); }

void tmpf__os_once(enum tmpf__once which, void (*fn)(void))
{
    pthread_once(&onces[which], fn);
}

int tmpf__os_atfork(void (*prepare)(void), void (*parent)(void), void (*child)(void))
{
    return pthread_atfork(prepare, parent, child);
}

void tmpf__os_yield(void) { sched_yield(); }

long tmpf__os_pid(void) { return (long)getpid(); }

/* A mutex in storage its owner provides (one allocation for the object
 * and its lock, as when the object held a pthread_mutex_t itself). */
struct tmpf__os_mutex {
    pthread_mutex_t m;
};
_Static_assert(alignof(max_align_t) >= alignof(struct tmpf__os_mutex), "aligned");

size_t tmpf__os_mutex_size(void) { return sizeof(struct tmpf__os_mutex); }

int tmpf__os_mutex_init(struct tmpf__os_mutex *m)
{
    int err = pthread_mutex_init(&m->m, NULL);
    if (err != 0) {
        errno = err;
        return -1;
    }
    return 0;
}

void tmpf__os_mutex_destroy(struct tmpf__os_mutex *m) { pthread_mutex_destroy(&m->m); }

void tmpf__os_mutex_lock(struct tmpf__os_mutex *m) { pthread_mutex_lock(&m->m); }

void tmpf__os_mutex_unlock(struct tmpf__os_mutex *m) { pthread_mutex_unlock(&m->m); }
