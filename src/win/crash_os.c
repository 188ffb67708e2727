/* Crash safety and small process services on Windows. The guardian
 * process, the async emergency removal and signal chaining are POSIX
 * designs; their Windows forms (a guardian waiting on the process handle,
 * SetConsoleCtrlHandler) are not written: these say ENOSYS, as the SPEC
 * allows where Windows has no meaning yet (docs/windows-status.md). */
#include "win.h"

#include <errno.h>
#include <signal.h>
#include <time.h>

const int tmpf__os_default_signals[4] = {SIGINT, SIGTERM, SIGBREAK, SIGABRT};

long long tmpf__os_now(void) { return (long long)time(NULL); }

void tmpf__os_pause(void) { Sleep(1); }

long tmpf__os_thread_id(void) { return (long)GetCurrentThreadId(); }

/* No fork: a zeroed private mapping is all "shared with later children"
 * can mean. */
void *tmpf__os_shared_map(size_t size)
{
    void *p = VirtualAlloc(NULL, size, MEM_COMMIT | MEM_RESERVE, PAGE_READWRITE);
    if (!p)
        tmpf__win_fail();
    return p;
}

int tmpf__os_shared_remap(void *p, size_t size)
{
    tmpf__wipe(p, size);
    return 0;
}

bool tmpf__os_signal_ok(int sig)
{
    return sig == SIGINT || sig == SIGTERM || sig == SIGBREAK || sig == SIGABRT;
}

int tmpf__os_signal_install(int sig, int (*run)(void))
{
    (void)sig, (void)run;
    errno = ENOSYS; /* SetConsoleCtrlHandler: not written yet */
    return -1;
}

int tmpf__os_guard_spawn(void (*on_death)(void))
{
    (void)on_death;
    errno = ENOSYS; /* a guardian waiting on the process handle: not written */
    return -1;
}

void tmpf__os_guard_forget(void) {}

int tmpf__os_emergency_remove(const char *path, bool dir, bool have_ident,
                              uint64_t dev, uint64_t ino, int fd)
{
    (void)path, (void)dir, (void)have_ident, (void)dev, (void)ino, (void)fd;
    errno = ENOSYS;
    return -1;
}

int tmpf__os_emergency_remove_side(const char *path)
{
    (void)path;
    errno = ENOSYS;
    return -1;
}

void tmpf__os_emergency_done(void) {}
