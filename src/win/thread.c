/* Threads and processes for the portable files on Windows: the library's
 * process-wide locks are SRWLOCKs, its one-time initializations INIT_ONCE
 * (both statically initialized, as the POSIX ones). Windows has no fork:
 * fork handlers are accepted and never run. */
#include "../internal.h"

#include <windows.h>

static SRWLOCK locks[] = {SRWLOCK_INIT, SRWLOCK_INIT};
static INIT_ONCE onces[] = {INIT_ONCE_STATIC_INIT, INIT_ONCE_STATIC_INIT};
_Static_assert(sizeof locks / sizeof locks[0] == TMPF__LOCK_COUNT, "one per lock");
_Static_assert(sizeof onces / sizeof onces[0] == TMPF__ONCE_COUNT, "one per once");

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
