/* The guardian of tmpf_crash_guard on Windows, and the registry's memory.
 *
 * No fork: the guardian is a program of its own, tmpf.exe run with the
 * hidden first argument TMPF__GUARDIAN_ARG (src/guardian.h; tools/main.c
 * hands it to tmpf__guardian_main, which calls tmpf__os_guardian here).
 * It is found as TMPF_GUARD_EXE (a path) if that is set, else as tmpf.exe
 * in the directory of the module holding this code (tmpf.dll's, or the
 * program's when it links libtmpf.a); no PATH search.
 *
 * The registry lives in a pagefile-backed section, so the guardian maps
 * the same slots. The guardian inherits exactly three handles (a handle
 * list): a handle of this process (SYNCHRONIZE, to wait on; QUERY_LIMITED
 * to check it is one), the section, and a "ready" event; no standard
 * handles (a pipe of ours it held would outlive us: ctest waits for its
 * pipes). It has no console (CREATE_NO_WINDOW) and a process group of its
 * own (a Ctrl-C of ours does not reach it), leaves our job where the job
 * allows it, and sits in the system directory (it does not pin our
 * current directory). The command line carries the handle values and a
 * tag, "tmpf-VERSION-SIZE-BITS" (library version, registry size, pointer
 * width): a tmpf.exe of another version or width refuses to read the
 * slots. tmpf_crash_guard returns once the guardian has mapped and
 * adopted the registry and set the event; a helper that exits first is
 * ENOEXEC, one that says nothing within GUARD_START_MS is ETIMEDOUT (it
 * is ended): nothing is left running on failure. The three handles are
 * inheritable only around the CreateProcessW call: a process another
 * thread starts then, inheriting every inheritable handle, gets them
 * too. */
#include "win.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* How long a starting guardian may take to say it is ready (under Wine
 * on a busy machine it takes 0.1-1 s). */
#define GUARD_START_MS 10000

static HANDLE section; /* the registry's, made once */
static size_t section_size;

void *tmpf__os_shared_map(size_t size)
{
    HANDLE s = CreateFileMappingW(INVALID_HANDLE_VALUE, NULL, PAGE_READWRITE,
                                  (DWORD)((unsigned long long)size >> 32),
                                  (DWORD)size, NULL);
    if (!s) {
        tmpf__win_fail();
        return NULL;
    }
    void *p = MapViewOfFile(s, FILE_MAP_READ | FILE_MAP_WRITE, 0, 0, size);
    if (!p) {
        tmpf__win_fail();
        CloseHandle(s);
        return NULL;
    }
    section = s;
    section_size = size;
    return p;
}

/* No fork, so never called for a child: wiping is all it can mean. */
int tmpf__os_shared_remap(void *p, size_t size)
{
    tmpf__wipe(p, size);
    return 0;
}

/* The tag both sides must agree on, in buf: the version, the registry's
 * size, and the pointer width (a slot's layout differs between 32- and
 * 64-bit builds with the same size). */
static void guard_tag(char *buf, size_t n, size_t size)
{
    snprintf(buf, n, "tmpf-%s-%llu-%u", TMPF_VERSION_STRING, (unsigned long long)size,
             (unsigned)(sizeof(void *) * 8));
}

/* The helper's path, malloc'd; NULL with errno. */
static wchar_t *guardian_exe(void)
{
    const wchar_t *env = _wgetenv(L"TMPF_GUARD_EXE");
    if (env && *env) {
        wchar_t *w = malloc((wcslen(env) + 1) * sizeof *w);
        if (!w)
            errno = ENOMEM;
        else
            wcscpy(w, env);
        return w;
    }
    HMODULE mod;
    if (!GetModuleHandleExW(GET_MODULE_HANDLE_EX_FLAG_FROM_ADDRESS |
                                GET_MODULE_HANDLE_EX_FLAG_UNCHANGED_REFCOUNT,
                            (LPCWSTR)(void *)guardian_exe, &mod)) {
        tmpf__win_fail();
        return NULL;
    }
    static const wchar_t name[] = L"tmpf.exe";
    for (DWORD cap = MAX_PATH;; cap *= 2) {
        wchar_t *w = malloc(((size_t)cap + sizeof name / sizeof name[0]) * sizeof *w);
        if (!w) {
            errno = ENOMEM;
            return NULL;
        }
        DWORD n = GetModuleFileNameW(mod, w, cap);
        if (n == 0) {
            tmpf__win_fail();
            free(w);
            return NULL;
        }
        if (n < cap) {
            while (n > 0 && w[n - 1] != L'\\' && w[n - 1] != L'/')
                n--;
            wcscpy(w + n, name);
            return w;
        }
        free(w);
        if (cap >= 32768) {
            errno = ENAMETOOLONG;
            return NULL;
        }
    }
}

static bool inheritable_dup(HANDLE from, HANDLE *to, DWORD access)
{
    return DuplicateHandle(GetCurrentProcess(), from, GetCurrentProcess(), to, access,
                           TRUE, 0);
}

/* Starts exe with cmd inheriting handles[3] only (and nothing else of
 * ours); breakaway from our job when the job allows it. */
static bool start(wchar_t *exe, wchar_t *cmd, HANDLE handles[3], PROCESS_INFORMATION *pi)
{
    SIZE_T sz = 0;
    InitializeProcThreadAttributeList(NULL, 1, 0, &sz);
    LPPROC_THREAD_ATTRIBUTE_LIST attrs = malloc(sz);
    if (!attrs) {
        errno = ENOMEM;
        return false;
    }
    if (!InitializeProcThreadAttributeList(attrs, 1, 0, &sz)) {
        tmpf__win_fail();
        free(attrs);
        return false;
    }
    bool ok = false;
    if (!UpdateProcThreadAttribute(attrs, 0, PROC_THREAD_ATTRIBUTE_HANDLE_LIST, handles,
                                   3 * sizeof handles[0], NULL, NULL)) {
        tmpf__win_fail();
        goto out;
    }
    wchar_t sysdir[MAX_PATH + 1];
    UINT n = GetSystemDirectoryW(sysdir, MAX_PATH + 1);
    STARTUPINFOEXW si;
    memset(&si, 0, sizeof si);
    si.StartupInfo.cb = sizeof si;
    si.StartupInfo.dwFlags = STARTF_USESTDHANDLES; /* none: all NULL */
    si.lpAttributeList = attrs;
    DWORD flags = EXTENDED_STARTUPINFO_PRESENT | CREATE_NO_WINDOW |
                  CREATE_NEW_PROCESS_GROUP | CREATE_UNICODE_ENVIRONMENT;
    ok = CreateProcessW(exe, cmd, NULL, NULL, TRUE, flags | CREATE_BREAKAWAY_FROM_JOB,
                        NULL, n > 0 && n <= MAX_PATH ? sysdir : NULL,
                        &si.StartupInfo, pi);
    /* A job that does not allow breaking away refuses the flag. */
    if (!ok && GetLastError() == ERROR_ACCESS_DENIED)
        ok = CreateProcessW(exe, cmd, NULL, NULL, TRUE, flags, NULL,
                            n > 0 && n <= MAX_PATH ? sysdir : NULL, &si.StartupInfo, pi);
    if (!ok) {
        DWORD err = GetLastError();
        errno = err == ERROR_BAD_EXE_FORMAT || err == ERROR_EXE_MACHINE_TYPE_MISMATCH
                    ? ENOEXEC
                    : tmpf__win_errno(err);
    }
out:
    DeleteProcThreadAttributeList(attrs);
    free(attrs);
    return ok;
}

int tmpf__os_guard_spawn(void (*on_death)(void))
{
    (void)on_death; /* run by the guardian itself (tmpf__guardian_main) */
    if (!section) {
        errno = ENOMEM; /* no registry: tmpf__reg_init failed */
        return -1;
    }
    wchar_t *exe = guardian_exe();
    if (!exe)
        return -1;
    HANDLE mine[3] = {NULL, NULL, NULL}; /* process, section, ready */
    SECURITY_ATTRIBUTES sa = {sizeof sa, NULL, TRUE};
    int rc = -1, err = 0;
    wchar_t *cmd = NULL;
    PROCESS_INFORMATION pi = {0};
    if (!inheritable_dup(GetCurrentProcess(), &mine[0],
                         SYNCHRONIZE | PROCESS_QUERY_LIMITED_INFORMATION) ||
        !inheritable_dup(section, &mine[1], FILE_MAP_READ | FILE_MAP_WRITE) ||
        !(mine[2] = CreateEventW(&sa, TRUE, FALSE, NULL))) {
        err = tmpf__win_errno(GetLastError());
        goto out;
    }
    char tag[64];
    guard_tag(tag, sizeof tag, section_size);
    size_t len = wcslen(exe) + strlen(TMPF__GUARDIAN_ARG) + strlen(tag) + 3 * 20 + 16;
    cmd = malloc(len * sizeof *cmd);
    if (!cmd) {
        err = ENOMEM;
        goto out;
    }
    _snwprintf(cmd, len, L"\"%ls\" %hs %hs %llx %llx %llx", exe, TMPF__GUARDIAN_ARG, tag,
               (unsigned long long)(uintptr_t)mine[0], (unsigned long long)(uintptr_t)mine[1],
               (unsigned long long)(uintptr_t)mine[2]);
    cmd[len - 1] = 0;
    bool started = start(exe, cmd, mine, &pi);
    err = errno;
    /* Inheritable no longer than needed: the helper has its copies. */
    for (int i = 0; i < 2; i++) {
        CloseHandle(mine[i]);
        mine[i] = NULL;
    }
    SetHandleInformation(mine[2], HANDLE_FLAG_INHERIT, 0);
    if (!started)
        goto out;
    CloseHandle(pi.hThread);
    HANDLE wait[2] = {mine[2], pi.hProcess};
    DWORD w = WaitForMultipleObjects(2, wait, FALSE, GUARD_START_MS);
    if (w == WAIT_OBJECT_0) {
        rc = 0;
    } else {
        /* Exited without a word (not our guardian, or one of another
         * version), or silent: not left running either way. */
        if (w == WAIT_OBJECT_0 + 1)
            err = ENOEXEC;
        else if (w == WAIT_TIMEOUT)
            err = ETIMEDOUT;
        else
            err = tmpf__win_errno(GetLastError());
        TerminateProcess(pi.hProcess, 1);
        WaitForSingleObject(pi.hProcess, GUARD_START_MS);
    }
    CloseHandle(pi.hProcess);
out:
    for (int i = 0; i < 3; i++)
        if (mine[i])
            CloseHandle(mine[i]);
    free(cmd);
    free(exe);
    if (rc != 0)
        errno = err;
    return rc;
}

void tmpf__os_guard_forget(void) {}

/* A handle value written by tmpf__os_guard_spawn (hex); NULL if it is not
 * one. */
static HANDLE handle_arg(const char *s)
{
    char *end;
    unsigned long long v = strtoull(s, &end, 16);
    return *s && !*end && v ? (HANDLE)(uintptr_t)v : NULL;
}

int tmpf__os_guardian(int argc, char **argv, int (*adopt)(void *view, size_t size),
                      void (*on_death)(void))
{
    SetErrorMode(SEM_FAILCRITICALERRORS | SEM_NOGPFAULTERRORBOX | SEM_NOOPENFILEERRORBOX);
    if (argc != 6)
        return 2;
    /* Another version's registry may be laid out otherwise: refused (the
     * size is checked again by adopt). */
    char tag[64];
    size_t plen = (size_t)snprintf(tag, sizeof tag, "tmpf-%s-", TMPF_VERSION_STRING);
    if (strncmp(argv[2], tag, plen) != 0)
        return 3;
    unsigned long long size = strtoull(argv[2] + plen, NULL, 10);
    guard_tag(tag, sizeof tag, (size_t)size);
    if (strcmp(argv[2], tag) != 0 || !size || size > SIZE_MAX)
        return 3;
    HANDLE process = handle_arg(argv[3]), map = handle_arg(argv[4]), ready = handle_arg(argv[5]);
    if (!process || !map || !ready)
        return 2;
    /* The process handle must be one (waiting on anything else would run
     * the removal while the owner lives). */
    if (!GetProcessId(process))
        return 4;
    void *view = MapViewOfFile(map, FILE_MAP_READ | FILE_MAP_WRITE, 0, 0, (SIZE_T)size);
    if (!view)
        return 4;
    CloseHandle(map);
    if (adopt(view, (size_t)size) != 0)
        return 3;
    if (!SetEvent(ready))
        return 4;
    CloseHandle(ready);
    if (WaitForSingleObject(process, INFINITE) != WAIT_OBJECT_0)
        return 5;
    CloseHandle(process);
    on_death();
    return 0;
}
