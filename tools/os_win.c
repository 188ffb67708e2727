/* The tool's system services on Windows (tools/tool_os.h): UTF-8 inside,
 * UTF-16 calls underneath; "run" with CreateProcessW and a console control
 * handler. */
#include "tool.h"
#include "tool_os.h"

#include <errno.h>
#include <fcntl.h>
#include <io.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <tmpf.h>
#include <wchar.h>
#include <windows.h>
#include <aclapi.h>
#include <shellapi.h>

/* UTF-8 -> UTF-16, malloc'd; NULL with errno (EILSEQ: not UTF-8). */
static wchar_t *to_wide(const char *s)
{
    int n = MultiByteToWideChar(CP_UTF8, MB_ERR_INVALID_CHARS, s, -1, NULL, 0);
    if (n <= 0) {
        errno = EILSEQ;
        return NULL;
    }
    wchar_t *w = malloc((size_t)n * sizeof *w);
    if (!w) {
        errno = ENOMEM;
        return NULL;
    }
    MultiByteToWideChar(CP_UTF8, MB_ERR_INVALID_CHARS, s, -1, w, n);
    return w;
}

/* UTF-16 -> UTF-8, malloc'd; NULL with errno. */
static char *to_utf8(const wchar_t *w)
{
    int n = WideCharToMultiByte(CP_UTF8, 0, w, -1, NULL, 0, NULL, NULL);
    if (n <= 0) {
        errno = EILSEQ;
        return NULL;
    }
    char *s = malloc((size_t)n);
    if (!s) {
        errno = ENOMEM;
        return NULL;
    }
    WideCharToMultiByte(CP_UTF8, 0, w, -1, s, n, NULL, NULL);
    return s;
}

static void out_of_memory(void)
{
    static const char msg[] = "tmpf: memory exhausted\n";
    tool_os_write_stderr(msg, sizeof msg - 1);
    exit(TOOL_EXIT_FAILURE);
}

/* The CRT's argv is in the ANSI code page: names outside it arrive as
 * '?'. The UTF-16 command line, split by the same rules, has them all. */
void tool_os_init(int *argc, char ***argv)
{
    int n = 0;
    wchar_t **wargv = CommandLineToArgvW(GetCommandLineW(), &n);
    if (!wargv || n < 1)
        return; /* keep the CRT's */
    char **args = calloc((size_t)n + 1, sizeof *args);
    if (!args)
        out_of_memory();
    for (int i = 0; i < n; i++) {
        args[i] = to_utf8(wargv[i]);
        if (!args[i])
            out_of_memory();
    }
    LocalFree(wargv);
    *argc = n;
    *argv = args; /* kept until exit, as argv is */
}

const char *tool_os_base_name(const char *argv0)
{
    static char base[64];
    const char *p = argv0 + strlen(argv0);
    while (p > argv0 && !TOOL_OS_IS_SEP(p[-1]) && p[-1] != ':')
        p--;
    size_t len = strlen(p);
    if (len > 4 && _stricmp(p + len - 4, ".exe") == 0 && len - 4 < sizeof base) {
        memcpy(base, p, len - 4);
        base[len - 4] = '\0';
        return base;
    }
    return p;
}

const char *tool_os_getenv(const char *name)
{
    wchar_t *wname = to_wide(name);
    const wchar_t *wval = wname ? _wgetenv(wname) : NULL;
    free(wname);
    return wval ? to_utf8(wval) : NULL; /* kept until exit */
}

const char *tool_os_strerror(int err)
{
    /* msvcrt's table ends at EILSEQ (42); mingw's errno.h goes on. */
    static const struct {
        int err;
        const char *text;
    } more[] = {
        {ENOTSUP, "Not supported"},
        {EOPNOTSUPP, "Operation not supported"},
        {ELOOP, "Too many levels of symbolic links"},
        {EOVERFLOW, "Value too large for defined data type"},
        {ETIMEDOUT, "Connection timed out"},
        {ECANCELED, "Operation canceled"},
        {EWOULDBLOCK, "Operation would block"},
        {10070, "Stale file handle"}, /* the library's ESTALE (WSAESTALE) */
    };
    for (size_t i = 0; i < sizeof more / sizeof more[0]; i++)
        if (more[i].err == err)
            return more[i].text;
    return strerror(err);
}

/* Whether h is a console (GetConsoleMode fails on a pipe or a file). */
static bool is_console(HANDLE h)
{
    DWORD mode;
    return h && h != INVALID_HANDLE_VALUE && GetConsoleMode(h, &mode);
}

/* Writes n bytes of UTF-8 to console h in UTF-16: the console shows every
 * character, whatever its code page (bytes would be read in that code
 * page: garbled). false when nothing was written (not UTF-8, no memory,
 * the console refused): the caller writes the bytes instead. */
static bool write_console(HANDLE h, const char *s, size_t n)
{
    if (n == 0)
        return true;
    int wn = n <= INT_MAX ? MultiByteToWideChar(CP_UTF8, MB_ERR_INVALID_CHARS, s, (int)n,
                                                NULL, 0)
                          : 0;
    wchar_t *w = wn > 0 ? malloc((size_t)wn * sizeof *w) : NULL;
    if (!w)
        return false;
    MultiByteToWideChar(CP_UTF8, MB_ERR_INVALID_CHARS, s, (int)n, w, wn);
    DWORD at = 0, left = (DWORD)wn;
    while (left > 0) {
        /* In pieces, none ending inside a surrogate pair. */
        DWORD chunk = left > 8192 ? 8192 : left, done = 0;
        if (chunk < left && IS_HIGH_SURROGATE(w[at + chunk - 1]))
            chunk--;
        if (!WriteConsoleW(h, w + at, chunk, &done, NULL) || done == 0)
            break;
        at += done;
        left -= done;
    }
    free(w);
    return at > 0;
}

int tool_os_printf(const char *fmt, ...)
{
    va_list ap;
    HANDLE h = GetStdHandle(STD_OUTPUT_HANDLE);
    if (is_console(h)) {
        char small[512], *text = small;
        va_start(ap, fmt);
        int n = vsnprintf(small, sizeof small, fmt, ap);
        va_end(ap);
        if (n >= (int)sizeof small) {
            text = malloc((size_t)n + 1);
            if (text) {
                va_start(ap, fmt);
                vsnprintf(text, (size_t)n + 1, fmt, ap);
                va_end(ap);
            }
        }
        bool written = false;
        if (n >= 0 && text && fflush(stdout) == 0)
            written = write_console(h, text, (size_t)n);
        if (text != small)
            free(text);
        if (written)
            return n;
    }
    va_start(ap, fmt);
    int n = vprintf(fmt, ap);
    va_end(ap);
    return n;
}

void tool_os_write_stderr(const char *msg, size_t n)
{
    int saved = errno;
    if (is_console(GetStdHandle(STD_ERROR_HANDLE)) &&
        write_console(GetStdHandle(STD_ERROR_HANDLE), msg, n)) {
        errno = saved;
        return;
    }
    while (n > 0) {
        unsigned chunk = n > 65536 ? 65536 : (unsigned)n;
        int w = _write(2, msg, chunk);
        if (w <= 0)
            break;
        msg += w;
        n -= (size_t)w;
    }
    errno = saved;
}

void tool_os_stdin_binary(void)
{
    _setmode(_fileno(stdin), _O_BINARY);
}

const char *tool_os_default_tmpdir(void)
{
    return tmpf_gettempdir();
}

int tool_os_close(int fd)
{
    return _close(fd);
}

int tool_os_remove(const char *path, bool directory)
{
    wchar_t *w = to_wide(path);
    if (!w)
        return -1;
    int rc = directory ? _wrmdir(w) : _wunlink(w);
    free(w);
    return rc;
}

int tool_os_name_is_free(const char *path)
{
    wchar_t *w = to_wide(path);
    if (!w)
        return -1;
    DWORD attrs = GetFileAttributesW(w);
    DWORD err = GetLastError();
    free(w);
    if (attrs != INVALID_FILE_ATTRIBUTES)
        return 0;
    if (err == ERROR_FILE_NOT_FOUND || err == ERROR_PATH_NOT_FOUND)
        return 1;
    errno = err == ERROR_ACCESS_DENIED ? EACCES : EINVAL;
    return -1;
}

/* Windows resolves ".." lexically, as the library does: the full path. */
char *tool_os_resolve_dir(const char *dir)
{
    wchar_t *w = to_wide(dir);
    if (!w)
        return NULL;
    wchar_t *full = _wfullpath(NULL, w, 0);
    free(w);
    if (!full)
        return NULL;
    char *s = to_utf8(full);
    free(full);
    return s;
}

bool tool_os_is_special(const char *path)
{
    wchar_t *w = to_wide(path);
    if (!w)
        return false;
    HANDLE h = CreateFileW(w, 0, FILE_SHARE_READ | FILE_SHARE_WRITE | FILE_SHARE_DELETE,
                           NULL, OPEN_EXISTING, FILE_FLAG_BACKUP_SEMANTICS, NULL);
    free(w);
    if (h == INVALID_HANDLE_VALUE)
        return false;
    bool special = GetFileType(h) != FILE_TYPE_DISK;
    CloseHandle(h);
    return special;
}

/*
 * tmpf run. Ctrl-C and Ctrl-Break reach every process of the console,
 * CMD included: tmpf ignores them, waits for CMD, removes the temporary
 * and then exits with STATUS_CONTROL_C_EXIT, the exit code the default
 * handler gives, whatever CMD's (as POSIX tmpf dies of the signal): a
 * caller never takes an interrupted run for a success. If one comes before
 * CMD is started, CMD is not started. Closing the console (or logoff,
 * shutdown) gives the handler a few seconds: it waits for the main
 * thread's cleanup, up to 4 s.
 */
static volatile LONG got_event = -1;
static HANDLE cleaned; /* set once the temporary is removed */

static BOOL WINAPI on_console_event(DWORD event)
{
    InterlockedCompareExchange(&got_event, (LONG)event, -1);
    if (event == CTRL_C_EVENT || event == CTRL_BREAK_EVENT)
        return TRUE;
    /* Returning ends the process: give the cleanup its time. */
    if (cleaned)
        WaitForSingleObject(cleaned, 4000);
    return TRUE;
}

void tool_os_run_prepare(void)
{
    cleaned = CreateEventW(NULL, TRUE, FALSE, NULL);
    SetConsoleCtrlHandler(on_console_event, TRUE);
}

/* Appends s to *out (a buffer with room): as the first argument (the CRT
 * takes it up to the next blank, quotes only grouping) or as any other,
 * quoted by the MS C runtime rules: inside quotes, 2n backslashes before
 * a '"' stand for n and the quote ends; 2n+1 for n and a literal '"'. */
static char *append_arg(char *out, const char *s, bool first)
{
    bool plain = *s && !strpbrk(s, first ? " \t" : " \t\n\v\"");
    if (plain) {
        size_t n = strlen(s);
        memcpy(out, s, n);
        return out + n;
    }
    *out++ = '"';
    for (const char *p = s;; p++) {
        size_t backslashes = 0;
        while (!first && *p == '\\') {
            backslashes++;
            p++;
        }
        if (*p == '\0') {
            /* Doubled: the closing quote must stay a quote. */
            for (size_t i = 0; i < 2 * backslashes; i++)
                *out++ = '\\';
            break;
        }
        if (*p == '"' && !first) {
            for (size_t i = 0; i < 2 * backslashes + 1; i++)
                *out++ = '\\';
        } else {
            for (size_t i = 0; i < backslashes; i++)
                *out++ = '\\';
        }
        *out++ = *p;
    }
    *out++ = '"';
    return out;
}

/* cmd as one UTF-16 command line, malloc'd; NULL with errno. */
static wchar_t *command_line(char **cmd)
{
    size_t size = 1;
    for (char **a = cmd; *a; a++)
        size += 2 * strlen(*a) + 3;
    char *line = malloc(size);
    if (!line)
        return NULL;
    char *p = line;
    for (char **a = cmd; *a; a++) {
        if (a != cmd)
            *p++ = ' ';
        p = append_arg(p, *a, a == cmd);
    }
    *p = '\0';
    wchar_t *w = to_wide(line);
    free(line);
    return w;
}

static int set_env(const wchar_t *name, const char *value)
{
    wchar_t *w = to_wide(value);
    if (!w)
        return -1;
    BOOL ok = SetEnvironmentVariableW(name, w);
    free(w);
    if (!ok) {
        errno = ENOMEM;
        return -1;
    }
    return 0;
}

int tool_os_run_command(char **cmd, const char *path, bool set_tmpdir, int *ret_status)
{
    /* Inherited by CMD: CreateProcessW without an environment block
     * passes ours, SetEnvironmentVariableW's changes included. */
    if (set_env(L"TMPF_PATH", path) != 0 || (set_tmpdir && set_env(L"TMPDIR", path) != 0)) {
        tool_error("run: %s", strerror(errno));
        *ret_status = TOOL_EXIT_CANNOT_EXEC;
        return 0;
    }
    wchar_t *line = command_line(cmd);
    if (!line) {
        tool_error("run: %s: %s", cmd[0], strerror(errno));
        *ret_status = TOOL_EXIT_CANNOT_EXEC;
        return 0;
    }
    if (got_event != -1) { /* Ctrl-C while the temporary was made */
        free(line);
        *ret_status = (int)STATUS_CONTROL_C_EXIT;
        return 0;
    }
    fflush(NULL);
    STARTUPINFOW si;
    memset(&si, 0, sizeof si);
    si.cb = sizeof si;
    si.dwFlags = STARTF_USESTDHANDLES;
    si.hStdInput = GetStdHandle(STD_INPUT_HANDLE);
    si.hStdOutput = GetStdHandle(STD_OUTPUT_HANDLE);
    si.hStdError = GetStdHandle(STD_ERROR_HANDLE);
    HANDLE std[] = {si.hStdInput, si.hStdOutput, si.hStdError};
    for (size_t i = 0; i < sizeof std / sizeof std[0]; i++)
        if (std[i] && std[i] != INVALID_HANDLE_VALUE)
            SetHandleInformation(std[i], HANDLE_FLAG_INHERIT, HANDLE_FLAG_INHERIT);
    PROCESS_INFORMATION pi;
    BOOL started = CreateProcessW(NULL, line, NULL, NULL, TRUE, 0, NULL, NULL, &si, &pi);
    DWORD err = GetLastError();
    free(line);
    if (!started) {
        bool not_found = err == ERROR_FILE_NOT_FOUND || err == ERROR_PATH_NOT_FOUND ||
                         err == ERROR_INVALID_NAME || err == ERROR_DIRECTORY;
        if (not_found)
            tool_error("run: %s: %s", cmd[0], strerror(ENOENT));
        else
            tool_error("run: %s: cannot run it (Windows error %lu)", cmd[0],
                       (unsigned long)err);
        *ret_status = not_found ? TOOL_EXIT_NOT_FOUND : TOOL_EXIT_CANNOT_EXEC;
        return 0;
    }
    CloseHandle(pi.hThread);
    DWORD code = 0;
    if (WaitForSingleObject(pi.hProcess, INFINITE) != WAIT_OBJECT_0 ||
        !GetExitCodeProcess(pi.hProcess, &code)) {
        tool_error("run: waiting for '%s': Windows error %lu", cmd[0],
                   (unsigned long)GetLastError());
        code = TOOL_EXIT_FAILURE;
    }
    CloseHandle(pi.hProcess);
    *ret_status = (int)code;
    return 0;
}

int tool_os_run_finish(int rc)
{
    fflush(NULL);
    if (cleaned)
        SetEvent(cleaned);
    if (got_event == CTRL_C_EVENT || got_event == CTRL_BREAK_EVENT)
        return (int)STATUS_CONTROL_C_EXIT;
    return rc;
}

/* errno for the calling thread's last Windows error, for the few that
 * publish can meet. */
static int win_errno(void)
{
    switch (GetLastError()) {
    case ERROR_FILE_NOT_FOUND:
    case ERROR_PATH_NOT_FOUND:
        return ENOENT;
    case ERROR_ACCESS_DENIED:
        return EACCES;
    case ERROR_SHARING_VIOLATION:
    case ERROR_LOCK_VIOLATION:
        return EBUSY;
    case ERROR_ALREADY_EXISTS:
    case ERROR_FILE_EXISTS:
        return EEXIST;
    case ERROR_NOT_SAME_DEVICE:
        return EXDEV;
    case ERROR_DIRECTORY:
        return ENOTDIR;
    case ERROR_NOT_ENOUGH_MEMORY:
    case ERROR_OUTOFMEMORY:
        return ENOMEM;
    default:
        return EIO;
    }
}

int tool_os_dir_open(const char *path)
{
    wchar_t *w = to_wide(path);
    if (!w)
        return -1;
    /* The entry itself (a junction or symlink is not entered), sharing
     * everything: its entries move out while it is open. */
    HANDLE h = CreateFileW(w, READ_CONTROL | FILE_LIST_DIRECTORY | FILE_READ_ATTRIBUTES,
                           FILE_SHARE_READ | FILE_SHARE_WRITE | FILE_SHARE_DELETE, NULL,
                           OPEN_EXISTING,
                           FILE_FLAG_BACKUP_SEMANTICS | FILE_FLAG_OPEN_REPARSE_POINT, NULL);
    free(w);
    if (h == INVALID_HANDLE_VALUE) {
        errno = win_errno();
        return -1;
    }
    BY_HANDLE_FILE_INFORMATION info;
    int err = 0;
    if (!GetFileInformationByHandle(h, &info))
        err = win_errno();
    else if (info.dwFileAttributes & FILE_ATTRIBUTE_REPARSE_POINT)
        err = ELOOP;
    else if (!(info.dwFileAttributes & FILE_ATTRIBUTE_DIRECTORY))
        err = ENOTDIR;
    int fd = err ? -1 : _open_osfhandle((intptr_t)h, _O_RDONLY);
    if (fd < 0) {
        CloseHandle(h);
        errno = err ? err : EMFILE;
        return -1;
    }
    return fd;
}

/* The path of the directory open as fd (\\?\ form), malloc'd. */
static wchar_t *fd_path(int fd)
{
    HANDLE h = (HANDLE)_get_osfhandle(fd);
    if (h == INVALID_HANDLE_VALUE) {
        errno = EBADF;
        return NULL;
    }
    DWORD n = GetFinalPathNameByHandleW(h, NULL, 0, FILE_NAME_NORMALIZED);
    wchar_t *w = n ? malloc(((size_t)n + 1) * sizeof *w) : NULL;
    if (!w) {
        errno = n ? ENOMEM : win_errno();
        return NULL;
    }
    DWORD got = GetFinalPathNameByHandleW(h, w, n + 1, FILE_NAME_NORMALIZED);
    if (!got || got > n) {
        errno = win_errno();
        free(w);
        return NULL;
    }
    return w;
}

/* dir + '\' + name, malloc'd. */
static wchar_t *join(const wchar_t *dir, const wchar_t *name)
{
    size_t a = wcslen(dir), b = wcslen(name);
    wchar_t *w = malloc((a + b + 2) * sizeof *w);
    if (!w) {
        errno = ENOMEM;
        return NULL;
    }
    memcpy(w, dir, a * sizeof *w);
    w[a] = L'\\';
    memcpy(w + a + 1, name, (b + 1) * sizeof *w);
    return w;
}

int tool_os_copy_access(int from, int to)
{
    HANDLE h = (HANDLE)_get_osfhandle(from);
    PACL dacl = NULL;
    PSECURITY_DESCRIPTOR sd = NULL;
    if (h == INVALID_HANDLE_VALUE ||
        GetSecurityInfo(h, SE_FILE_OBJECT, DACL_SECURITY_INFORMATION, NULL, NULL, &dacl,
                        NULL, &sd) != ERROR_SUCCESS) {
        errno = h == INVALID_HANDLE_VALUE ? EBADF : EACCES;
        return -1;
    }
    SECURITY_DESCRIPTOR_CONTROL control = 0;
    DWORD revision;
    GetSecurityDescriptorControl(sd, &control, &revision);
    wchar_t *to_path = fd_path(to);
    DWORD rc = ERROR_OUTOFMEMORY;
    if (to_path) {
        SECURITY_INFORMATION what =
            DACL_SECURITY_INFORMATION | (control & SE_DACL_PROTECTED
                                             ? PROTECTED_DACL_SECURITY_INFORMATION
                                             : UNPROTECTED_DACL_SECURITY_INFORMATION);
        rc = SetNamedSecurityInfoW(to_path, SE_FILE_OBJECT, what, NULL, NULL, dacl, NULL);
        free(to_path);
    }
    LocalFree(sd);
    if (rc != ERROR_SUCCESS) {
        errno = rc == ERROR_OUTOFMEMORY ? ENOMEM : EACCES;
        return -1;
    }
    return 0;
}

/* The names in the directory at dir (not "." and ".."), read whole before
 * anything moves; a NULL-terminated malloc'd array. */
static wchar_t **list_names(const wchar_t *dir)
{
    wchar_t *pattern = join(dir, L"*");
    if (!pattern)
        return NULL;
    WIN32_FIND_DATAW fd;
    HANDLE find = FindFirstFileExW(pattern, FindExInfoBasic, &fd, FindExSearchNameMatch,
                                   NULL, 0);
    free(pattern);
    size_t n = 0, cap = 16;
    wchar_t **names = calloc(cap, sizeof *names);
    if (!names || find == INVALID_HANDLE_VALUE) {
        int err = names ? win_errno() : ENOMEM;
        if (find != INVALID_HANDLE_VALUE)
            FindClose(find);
        free(names);
        errno = err;
        return NULL;
    }
    int err = 0;
    do {
        if (!wcscmp(fd.cFileName, L".") || !wcscmp(fd.cFileName, L".."))
            continue;
        if (n + 1 == cap) {
            wchar_t **bigger = realloc(names, 2 * cap * sizeof *names);
            if (!bigger) {
                err = ENOMEM;
                break;
            }
            names = bigger;
            cap *= 2;
        }
        names[n] = _wcsdup(fd.cFileName);
        if (!names[n]) {
            err = ENOMEM;
            break;
        }
        names[++n] = NULL;
    } while (FindNextFileW(find, &fd));
    if (!err && GetLastError() != ERROR_NO_MORE_FILES)
        err = win_errno();
    FindClose(find);
    if (err) {
        for (size_t i = 0; i < n; i++)
            free(names[i]);
        free(names);
        errno = err;
        return NULL;
    }
    return names;
}

int tool_os_move_entries(int from, int to)
{
    wchar_t *src = fd_path(from), *dst = src ? fd_path(to) : NULL;
    wchar_t **names = dst ? list_names(src) : NULL;
    int rc = names ? 0 : -1, err = errno;
    for (size_t i = 0; names && names[i] && rc == 0; i++) {
        wchar_t *a = join(src, names[i]), *b = join(dst, names[i]);
        /* No MOVEFILE_COPY_ALLOWED: a rename, never a copy. */
        if (!a || !b || !MoveFileExW(a, b, 0)) {
            err = a && b ? win_errno() : ENOMEM;
            rc = -1;
        }
        free(a);
        free(b);
    }
    for (size_t i = 0; names && names[i]; i++)
        free(names[i]);
    free(names);
    free(src);
    free(dst);
    if (rc != 0 && names)
        tool_os_move_entries(to, from);
    errno = err;
    return rc;
}
