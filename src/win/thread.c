/* Threads and processes for the portable files on Windows: the library's
 * process-wide locks are SRWLOCKs, its one-time initializations INIT_ONCE
 * (both statically initialized, as the POSIX ones). Windows has no fork:
 * fork handlers are accepted and never run. */
#include "../internal.h"

#include <windows.h>

#include <stdalign.h>
#include <stddef.h>

/* Every SRWLOCK and INIT_ONCE starts as all-zero (SRWLOCK_INIT and
 * INIT_ONCE_STATIC_INIT are {0}), so the arrays need no list that would
 * have to grow with the enums. */
static SRWLOCK locks[TMPF__LOCK_COUNT];
static INIT_ONCE onces[TMPF__ONCE_COUNT];

void tmpf__os_lock(enum tmpf__lock which) { AcquireSRWLockExclusive(&locks[which]); }

void tmpf__os_unlock(enum tmpf__lock which) { ReleaseSRWLockExclusive(&locks[which]); }

/* INIT_ONCE hands its callback a parameter: the function to run. */
static BOOL CALLBACK run_once(PINIT_ONCE once, PVOID param, PVOID *ctx)
{
    (void)once;
    (void)ctx;
    void (**fn)(void) = param;
    (*fn)();
    return TRUE;
}

void tmpf__os_once(enum tmpf__once which, void (*fn)(void))
{
    InitOnceExecuteOnce(&onces[which], run_once, (PVOID)&fn, NULL);
}

int tmpf__os_atfork(void (*prepare)(void), void (*parent)(void), void (*child)(void))
{
    (void)prepare;
    (void)parent;
    (void)child;
    return 0; /* no fork on Windows: nothing to re-seed in a child */
}

void tmpf__os_yield(void) { SwitchToThread(); }

long tmpf__os_pid(void) { return (long)GetCurrentProcessId(); }

/* A scope's own lock: an SRWLOCK (no resources to free, never fails). */
struct tmpf__os_mutex {
    SRWLOCK l;
};
_Static_assert(alignof(max_align_t) >= alignof(struct tmpf__os_mutex), "aligned");

size_t tmpf__os_mutex_size(void) { return sizeof(struct tmpf__os_mutex); }

int tmpf__os_mutex_init(struct tmpf__os_mutex *m)
{
    InitializeSRWLock(&m->l);
    return 0;
}

void tmpf__os_mutex_destroy(struct tmpf__os_mutex *m) { (void)m; }

void tmpf__os_mutex_lock(struct tmpf__os_mutex *m) { AcquireSRWLockExclusive(&m->l); }

void tmpf__os_mutex_unlock(struct tmpf__os_mutex *m) { ReleaseSRWLockExclusive(&m->l); }
