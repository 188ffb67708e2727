/* Threads and processes for the portable files: the library's process-wide
 * locks and one-time initializations (POSIX threads here; SRWLOCK and
 * INIT_ONCE in a Windows port), fork handlers, yielding. The portable
 * files name a lock or a once by its enum and never see <pthread.h>. */
#include "../internal.h"

#include <pthread.h>
#include <sched.h>

/* One initializer per enum value (a new value needs one more here). */
static pthread_mutex_t locks[] = {PTHREAD_MUTEX_INITIALIZER, PTHREAD_MUTEX_INITIALIZER};
static pthread_once_t onces[] = {PTHREAD_ONCE_INIT, PTHREAD_ONCE_INIT};
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
