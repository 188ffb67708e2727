/* tests/harness.h's Windows side (mingw-w64; run under Wine in the cross
 * build): no fork, no uids, no nftw. Scratch directories go to %TEMP% (or
 * $TMPF_TEST_DIR) and are removed by a small walk of our own; run_child
 * re-runs this executable (CreateProcessW); run_in_child and
 * run_as_nobody skip the calling test with the reason; count_open_fds
 * counts the C runtime's open descriptors (Wine's GetProcessHandleCount
 * always says 0, docs/windows-status.md). A few POSIX spellings the tests
 * use are given their Windows meaning below. Included by harness.h only. */
#ifndef TMPF_TEST_HARNESS_WIN_H
#define TMPF_TEST_HARNESS_WIN_H

#include <dirent.h>
#include <direct.h>
#include <io.h>
#include <process.h>
#include <unistd.h>
#include <wchar.h>
#include <windows.h>

/* POSIX spellings, test-side only. Descriptors are never inherited by
 * run_child's process; links are never made, so there is nothing to
 * follow; directories have no mode; stat and lstat agree. */
#ifndef O_CLOEXEC
#define O_CLOEXEC _O_NOINHERIT
#endif
#ifndef O_NOFOLLOW
#define O_NOFOLLOW 0
#endif
#ifndef S_ISLNK
#define S_ISLNK(m) 0
#endif
#ifndef ESTALE
#define ESTALE 10070 /* as src/internal.h: WSAESTALE */
#endif
#define lstat stat
#define mkdir(path, mode) ((void)(mode), _mkdir(path))
#define fsync _commit

static inline int setenv(const char *name, const char *value, int overwrite)
{
    if (!overwrite && getenv(name))
        return 0;
    return _putenv_s(name, value) == 0 ? 0 : -1;
}

static inline int unsetenv(const char *name)
{
    return _putenv_s(name, "") == 0 ? 0 : -1;
}

/* Whether this runs under Wine (its ntdll exports wine_get_version). */
static inline bool harness_under_wine(void)
{
    HMODULE ntdll = GetModuleHandleW(L"ntdll.dll");
    return ntdll && GetProcAddress(ntdll, "wine_get_version");
}

/* Skips the running test from any depth, printing why it cannot run on
 * Windows (harness_skip_test's Windows form). */
static inline void harness_skip_windows(const char *why)
{
    fprintf(stderr, "  skipped on Windows: %s\n", why);
    longjmp(harness_skip_jump, 1);
}

static void harness_ignore_invalid_parameter(const wchar_t *expr,
                                             const wchar_t *func,
                                             const wchar_t *file,
                                             unsigned line, uintptr_t reserved)
{
    (void)expr, (void)func, (void)file, (void)line, (void)reserved;
}

static inline void harness_platform_init(void)
{
    /* Files in binary mode, as on POSIX (no CR/LF translation). */
    _fmode = _O_BINARY;
    /* count_open_fds asks about descriptors that may be closed: an
     * answer, not a crash. No crash dialogs either. */
    _set_invalid_parameter_handler(harness_ignore_invalid_parameter);
    SetErrorMode(SEM_FAILCRITICALERRORS | SEM_NOGPFAULTERRORBOX);
}

/* The C runtime's open descriptors (the library hands out descriptors
 * made with _open_osfhandle, so a leaked file shows here). Handles that
 * never got a descriptor are not counted. */
static inline int count_open_fds(void)
{
    int n = 0;
    for (int fd = 0; fd < 2048; fd++)
        if (_get_osfhandle(fd) != -1)
            n++;
    return n;
}

/* Whether fd's handle is kept from child processes (FD_CLOEXEC's
 * meaning here: not inheritable). */
static inline bool fd_cloexec(int fd)
{
    DWORD flags;
    HANDLE h = (HANDLE)_get_osfhandle(fd);
    return h != INVALID_HANDLE_VALUE && GetHandleInformation(h, &flags) &&
           !(flags & HANDLE_FLAG_INHERIT);
}

/* pread/pwrite for the tests: the read or write at offset, then the
 * descriptor's offset put back (not atomic: the tests that use them are
 * single-threaded there). */
static inline ssize_t pread(int fd, void *buf, size_t n, off_t off)
{
    long long was = _lseeki64(fd, 0, SEEK_CUR);
    if (was < 0 || _lseeki64(fd, off, SEEK_SET) < 0)
        return -1;
    int r = _read(fd, buf, n > 0x7fffffff ? 0x7fffffff : (unsigned)n);
    int e = errno;
    _lseeki64(fd, was, SEEK_SET);
    errno = e;
    return r;
}

static inline ssize_t pwrite(int fd, const void *buf, size_t n, off_t off)
{
    long long was = _lseeki64(fd, 0, SEEK_CUR);
    if (was < 0 || _lseeki64(fd, off, SEEK_SET) < 0)
        return -1;
    int r = _write(fd, buf, n > 0x7fffffff ? 0x7fffffff : (unsigned)n);
    int e = errno;
    _lseeki64(fd, was, SEEK_SET);
    errno = e;
    return r;
}

/* getline (POSIX 2008; not in the Windows C runtime). */
static inline ssize_t getline(char **line, size_t *cap, FILE *s)
{
    size_t n = 0;
    int c;
    while ((c = fgetc(s)) != EOF) {
        if (n + 2 > *cap) {
            size_t want = *cap ? *cap * 2 : 128;
            char *p = realloc(*line, want);
            if (!p)
                return -1;
            *line = p;
            *cap = want;
        }
        (*line)[n++] = (char)c;
        if (c == '\n')
            break;
    }
    if (n == 0)
        return -1;
    (*line)[n] = '\0';
    return (ssize_t)n;
}

/* UTF-8 to UTF-16 and back, malloc'd; NULL on error. */
static inline wchar_t *harness_wide(const char *s)
{
    int n = MultiByteToWideChar(CP_UTF8, 0, s, -1, NULL, 0);
    wchar_t *w = n > 0 ? malloc((size_t)n * sizeof *w) : NULL;
    if (w && MultiByteToWideChar(CP_UTF8, 0, s, -1, w, n) != n) {
        free(w);
        w = NULL;
    }
    return w;
}

static inline char *harness_narrow(const wchar_t *w)
{
    int n = WideCharToMultiByte(CP_UTF8, 0, w, -1, NULL, 0, NULL, NULL);
    char *s = n > 0 ? malloc((size_t)n) : NULL;
    if (s && WideCharToMultiByte(CP_UTF8, 0, w, -1, s, n, NULL, NULL) != n) {
        free(s);
        s = NULL;
    }
    return s;
}

/* The path of the file fd is open on (GetFinalPathNameByHandleW, without
 * its \\?\ prefix), UTF-8: false if it cannot be told. */
static inline bool fd_path(int fd, char *buf, size_t n)
{
    HANDLE h = (HANDLE)_get_osfhandle(fd);
    wchar_t w[4096];
    if (h == INVALID_HANDLE_VALUE)
        return false;
    DWORD len = GetFinalPathNameByHandleW(h, w, 4096, FILE_NAME_NORMALIZED);
    if (len == 0 || len >= 4096)
        return false;
    const wchar_t *p = w;
    if (wcsncmp(p, L"\\\\?\\UNC\\", 8) == 0) {
        p += 6;
        w[6] = L'\\';
    } else if (wcsncmp(p, L"\\\\?\\", 4) == 0) {
        p += 4;
    }
    char *u = harness_narrow(p);
    if (!u || strlen(u) >= n) {
        free(u);
        return false;
    }
    strcpy(buf, u);
    free(u);
    return true;
}

/* What names the file fd is open on (its file index on its volume; st_ino
 * is always 0 there); 0 on error. */
static inline uint64_t fd_id(int fd)
{
    BY_HANDLE_FILE_INFORMATION info;
    HANDLE h = (HANDLE)_get_osfhandle(fd);
    if (h == INVALID_HANDLE_VALUE || !GetFileInformationByHandle(h, &info))
        return 0;
    return ((uint64_t)info.nFileIndexHigh << 32) | info.nFileIndexLow;
}

/* What names the file at path (its file index on its volume; a link
 * itself, not its target); 0 if there is nothing there. */
static inline uint64_t path_id(const char *path)
{
    wchar_t *w = harness_wide(path);
    if (!w)
        return 0;
    HANDLE h = CreateFileW(w, FILE_READ_ATTRIBUTES,
                           FILE_SHARE_READ | FILE_SHARE_WRITE | FILE_SHARE_DELETE,
                           NULL, OPEN_EXISTING,
                           FILE_FLAG_BACKUP_SEMANTICS | FILE_FLAG_OPEN_REPARSE_POINT,
                           NULL);
    free(w);
    if (h == INVALID_HANDLE_VALUE)
        return 0;
    BY_HANDLE_FILE_INFORMATION info;
    uint64_t id = 0;
    if (GetFileInformationByHandle(h, &info))
        id = ((uint64_t)info.nFileIndexHigh << 32) | info.nFileIndexLow;
    CloseHandle(h);
    return id;
}

/* scratch/sticky: Windows has no sticky bit, so here it is only a
 * directory of its own (see harness_posix.h for what it means there). */
static inline const char *sticky_dir(void)
{
    static char buf[4200];
    snprintf(buf, sizeof buf, "%s\\sticky", scratch);
    if (_mkdir(buf) != 0 && errno != EEXIST)
        return NULL;
    return buf;
}

/* Removes the tree at w (UTF-16): read-only attributes cleared, links and
 * junctions removed as themselves, never entered. */
static void harness_rmrf_w(const wchar_t *w)
{
    DWORD attr = GetFileAttributesW(w);
    if (attr == INVALID_FILE_ATTRIBUTES)
        return;
    if (attr & FILE_ATTRIBUTE_READONLY)
        SetFileAttributesW(w, attr & ~(DWORD)FILE_ATTRIBUTE_READONLY);
    if (!(attr & FILE_ATTRIBUTE_DIRECTORY)) {
        DeleteFileW(w);
        return;
    }
    if (!(attr & FILE_ATTRIBUTE_REPARSE_POINT)) {
        size_t len = wcslen(w);
        wchar_t *pat = malloc((len + 3) * sizeof *pat);
        if (!pat)
            return;
        _snwprintf(pat, len + 3, L"%ls\\*", w);
        pat[len + 2] = L'\0';
        WIN32_FIND_DATAW fd;
        HANDLE h = FindFirstFileW(pat, &fd);
        if (h != INVALID_HANDLE_VALUE) {
            do {
                if (!wcscmp(fd.cFileName, L".") || !wcscmp(fd.cFileName, L".."))
                    continue;
                size_t cl = len + 2 + wcslen(fd.cFileName);
                wchar_t *child = malloc(cl * sizeof *child);
                if (!child)
                    continue;
                _snwprintf(child, cl, L"%ls\\%ls", w, fd.cFileName);
                child[cl - 1] = L'\0';
                harness_rmrf_w(child);
                free(child);
            } while (FindNextFileW(h, &fd));
            FindClose(h);
        }
        free(pat);
    }
    RemoveDirectoryW(w);
}

/* The harness's own rm -rf (deliberately not the library's). */
static inline void harness_rmrf(const char *path)
{
    wchar_t *w = harness_wide(path);
    if (w) {
        for (wchar_t *p = w; *p; p++)
            if (*p == L'/')
                *p = L'\\';
        harness_rmrf_w(w);
        free(w);
    }
}

/* Where scratch directories go: $TMPF_TEST_DIR, else the user's temporary
 * directory (GetTempPathW: %TMP%, %TEMP%, ...), without its trailing
 * separator. */
static inline const char *harness_scratch_base(void)
{
    static char *base;
    const char *env = getenv("TMPF_TEST_DIR");
    if (env)
        return env;
    if (!base) {
        wchar_t w[MAX_PATH + 1];
        DWORD n = GetTempPathW(MAX_PATH + 1, w);
        if (n == 0 || n > MAX_PATH)
            return ".";
        if (n > 3 && (w[n - 1] == L'\\' || w[n - 1] == L'/'))
            w[n - 1] = L'\0';
        base = harness_narrow(w);
    }
    return base ? base : ".";
}

/* mkdtemp: the trailing XXXXXX replaced until a new directory is made. */
static inline char *harness_mkdtemp(char *templ)
{
    static const char chars[] = "abcdefghijklmnopqrstuvwxyz0123456789";
    size_t len = strlen(templ);
    if (len < 6 || strcmp(templ + len - 6, "XXXXXX") != 0) {
        errno = EINVAL;
        return NULL;
    }
    static unsigned long long state;
    if (!state)
        state = ((unsigned long long)GetCurrentProcessId() << 32) ^
                GetTickCount64() ^ (uintptr_t)templ;
    for (int tries = 0; tries < 1000; tries++) {
        for (size_t i = len - 6; i < len; i++) {
            state = state * 6364136223846793005ULL + 1442695040888963407ULL;
            templ[i] = chars[(state >> 33) % (sizeof chars - 1)];
        }
        wchar_t *w = harness_wide(templ);
        if (!w)
            return NULL;
        BOOL made = CreateDirectoryW(w, NULL);
        DWORD err = GetLastError();
        free(w);
        if (made)
            return templ;
        if (err != ERROR_ALREADY_EXISTS) {
            errno = EACCES;
            return NULL;
        }
    }
    errno = EEXIST;
    return NULL;
}

/* fork has no Windows form, and fn's argument is a C pointer that cannot
 * reach another process: the calling test is skipped (run_child is the
 * portable form). */
static inline int run_in_child(int (*fn)(void *), void *arg)
{
    (void)fn, (void)arg;
    if (!harness_in_child)
        harness_skip_windows("run_in_child needs fork (a pointer argument "
                             "cannot reach a re-run process)");
    return -1;
}

static inline int run_as_nobody(int (*fn)(void *), void *arg)
{
    (void)fn, (void)arg;
    if (!harness_in_child)
        harness_skip_windows("no uid to drop to (run_as_nobody needs "
                             "setuid and fork)");
    return -1;
}

/* A started child process (harness_child_start). */
struct harness_proc {
    HANDLE h;
};

/* The exit code harness_child_kill's TerminateProcess gives: above any
 * child's own (0-127). */
#define HARNESS_KILLED_CODE 0x4b1dU

/* Starts this executable with "--harness-child NAME ARG SCRATCH" (the
 * last two in hex), sharing our standard handles. false if it could not. */
static inline bool harness_proc_start(const struct test_child *c,
                                      const char *arg, struct harness_proc *p)
{
    wchar_t exe[MAX_PATH * 4];
    DWORD n = GetModuleFileNameW(NULL, exe, sizeof exe / sizeof exe[0]);
    if (n == 0 || n >= sizeof exe / sizeof exe[0])
        return false;
    char *harg = harness_hex(arg);
    char *hdir = harness_hex(scratch);
    wchar_t *wname = harness_wide(c->name);
    bool started = false;
    if (harg && hdir && wname) {
        size_t len = wcslen(exe) + wcslen(wname) + strlen(harg) +
                     strlen(hdir) + 64;
        wchar_t *cmd = malloc(len * sizeof *cmd);
        if (cmd) {
            _snwprintf(cmd, len, L"\"%ls\" --harness-child %ls %hs %hs", exe,
                       wname, harg, hdir);
            cmd[len - 1] = L'\0';
            STARTUPINFOW si;
            memset(&si, 0, sizeof si);
            si.cb = sizeof si;
            si.dwFlags = STARTF_USESTDHANDLES;
            si.hStdInput = GetStdHandle(STD_INPUT_HANDLE);
            si.hStdOutput = GetStdHandle(STD_OUTPUT_HANDLE);
            si.hStdError = GetStdHandle(STD_ERROR_HANDLE);
            PROCESS_INFORMATION pi;
            if (CreateProcessW(NULL, cmd, NULL, NULL, TRUE, 0, NULL, NULL,
                               &si, &pi)) {
                CloseHandle(pi.hThread);
                p->h = pi.hProcess;
                started = true;
            }
            free(cmd);
        }
    }
    free(harg);
    free(hdir);
    free(wname);
    return started;
}

/* Waits for p: its exit code (0-255), -1 if it crashed or was killed. */
static inline int harness_proc_wait(struct harness_proc *p)
{
    DWORD code;
    int rc = -1;
    WaitForSingleObject(p->h, INFINITE);
    if (GetExitCodeProcess(p->h, &code) && code <= 255)
        rc = (int)code;
    CloseHandle(p->h);
    return rc;
}

/* Kills p at once (TerminateProcess: no exit handlers run, as SIGKILL). */
static inline void harness_proc_kill(struct harness_proc *p)
{
    TerminateProcess(p->h, HARNESS_KILLED_CODE);
}

/* run_child's process: started, then waited for. */
static inline int harness_spawn_child(const struct test_child *c,
                                      const char *arg)
{
    struct harness_proc p;
    return harness_proc_start(c, arg, &p) ? harness_proc_wait(&p) : -1;
}

#endif
