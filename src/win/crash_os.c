/* Crash safety and small process services on Windows.
 * tmpf_cleanup_on_signals: SIGINT, SIGBREAK and SIGTERM are the console's
 * control events (Ctrl-C, Ctrl-Break; closing the console window, logoff
 * and shutdown for SIGTERM), caught by one SetConsoleCtrlHandler routine
 * that runs the emergency cleanup and then lets the next handler (the
 * program's, else the default: the process ends) have the event; SIGABRT
 * is the C runtime's (abort), chained to the previous handler. The
 * emergency removal runs in an ordinary thread there (no async-signal
 * rules): it opens the entry, checks it, and deletes through the handle
 * (also in the guardian, another process: src/win/guard_os.c, which holds
 * the registry's shared memory too). */
#include "win.h"

#include <errno.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

const int tmpf__os_default_signals[4] = {SIGINT, SIGTERM, SIGBREAK, SIGABRT};

long long tmpf__os_now(void) { return (long long)time(NULL); }

void tmpf__os_pause(void) { Sleep(1); }

long tmpf__os_thread_id(void) { return (long)GetCurrentThreadId(); }

bool tmpf__os_signal_ok(int sig)
{
    return sig == SIGINT || sig == SIGTERM || sig == SIGBREAK || sig == SIGABRT;
}

static int (*cleanup_fn)(void);
/* Which console events run the cleanup (set before the routine is added). */
static atomic_bool on_ctrl_c, on_break, on_close;
static INIT_ONCE console_once = INIT_ONCE_STATIC_INIT;
static bool console_ok;
static void (*previous_abort)(int);
static atomic_bool abort_installed;

static BOOL WINAPI on_console(DWORD event)
{
    bool run = false;
    switch (event) {
    case CTRL_C_EVENT:
        run = atomic_load(&on_ctrl_c);
        break;
    case CTRL_BREAK_EVENT:
        run = atomic_load(&on_break);
        break;
    case CTRL_CLOSE_EVENT:
    case CTRL_LOGOFF_EVENT:
    case CTRL_SHUTDOWN_EVENT:
        run = atomic_load(&on_close);
        break;
    default:
        break;
    }
    if (run && cleanup_fn)
        cleanup_fn();
    return FALSE; /* the next handler decides: by default the process ends */
}

static BOOL CALLBACK add_console_routine(PINIT_ONCE once, PVOID param, PVOID *ctx)
{
    (void)once, (void)param, (void)ctx;
    console_ok = SetConsoleCtrlHandler(on_console, TRUE);
    if (!console_ok)
        tmpf__win_fail();
    return TRUE;
}

static void on_abort(int sig)
{
    if (cleanup_fn)
        cleanup_fn();
    void (*prev)(int) = previous_abort;
    signal(sig, prev == SIG_ERR ? SIG_DFL : prev);
    raise(sig);
}

int tmpf__os_signal_install(int sig, int (*run)(void))
{
    cleanup_fn = run;
    if (sig == SIGABRT) {
        if (atomic_exchange(&abort_installed, true))
            return 0; /* installed already: keep the chain one deep */
        void (*prev)(int) = signal(SIGABRT, on_abort);
        if (prev == SIG_ERR) {
            atomic_store(&abort_installed, false);
            return -1;
        }
        if (prev == SIG_IGN) {
            signal(SIGABRT, SIG_IGN); /* ignored: it does not end the process */
            atomic_store(&abort_installed, false);
            return 0;
        }
        previous_abort = prev;
        return 0;
    }
    InitOnceExecuteOnce(&console_once, add_console_routine, NULL, NULL);
    if (!console_ok) {
        errno = ENOSYS;
        return -1;
    }
    atomic_store(sig == SIGINT ? &on_ctrl_c : sig == SIGBREAK ? &on_break : &on_close, true);
    return 0;
}

#define SHARE_ALL (FILE_SHARE_READ | FILE_SHARE_WRITE | FILE_SHARE_DELETE)

/* The path in UTF-16, "\\?\" form: static room for any path Windows
 * takes (the caller serializes), so no allocation whatever its length. */
static wchar_t em_path[32768], em_rel[32768];

int tmpf__os_emergency_remove(const char *path, bool dir, bool have_ident,
                              uint64_t dev, uint64_t ino, int fd)
{
    if (tmpf__win_wpath_into(path, em_path, 32768, em_rel, 32768) != 0)
        return -1;
    DWORD access = DELETE | READ_CONTROL | FILE_READ_ATTRIBUTES | FILE_WRITE_ATTRIBUTES;
    if (dir)
        access |= FILE_LIST_DIRECTORY | SYNCHRONIZE; /* listed through this handle */
    HANDLE h = CreateFileW(em_path, access, SHARE_ALL, NULL, OPEN_EXISTING,
                           FILE_FLAG_BACKUP_SEMANTICS | FILE_FLAG_OPEN_REPARSE_POINT, NULL);
    DWORD err = GetLastError();
    if (h == INVALID_HANDLE_VALUE) {
        if (err == ERROR_FILE_NOT_FOUND || err == ERROR_PATH_NOT_FOUND)
            return 0; /* nothing there */
        errno = tmpf__win_errno(err);
        return -1;
    }
    /* The name must still lead to ours: identity, else the descriptor's
     * file, else the right type and our owner. */
    struct tmpf__os_facts got, want;
    DWORD attrs = 0;
    bool ours = tmpf__win_facts(h, &got, &attrs) == 0 &&
                !(attrs & FILE_ATTRIBUTE_REPARSE_POINT) &&
                !!(attrs & FILE_ATTRIBUTE_DIRECTORY) == dir;
    if (ours && have_ident)
        ours = got.id.dev == dev && got.id.ino == ino;
    else if (ours && fd >= 0)
        ours = tmpf__os_facts_fd(fd, &want) == 0 && want.id.dev == got.id.dev &&
               want.id.ino == got.id.ino;
    else if (ours)
        ours = tmpf__win_owned_by_me(h) == 1;
    if (!ours) {
        CloseHandle(h);
        return 0;
    }
    /* A directory: its tree first, through the handle just checked (each
     * entry relative to its directory's handle, static memory only). */
    int rc = dir && tmpf__win_empty_dir_static(h) != 0 ? -1 : 0;
    int saved = errno;
    if (tmpf__win_delete_handle(h) != 0 && rc == 0) {
        rc = -1;
        saved = errno;
    }
    CloseHandle(h);
    errno = saved;
    return rc == 0 ? 1 : -1;
}

int tmpf__os_emergency_remove_side(const char *path)
{
    if (!tmpf__os_lexists(path))
        return errno == ENOENT ? 0 : -1;
    /* The side-name rule: a plain file with one link whose lock can be
     * taken (no live writer), deleted through the handle that took it. */
    return tmpf__os_side_sweep(AT_FDCWD, path) && !tmpf__os_lexists(path) ? 1 : 0;
}

void tmpf__os_emergency_done(void) {}
