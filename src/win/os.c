/* System primitives for Windows (mingw-w64; MSVC unverified): UTF-8 at the
 * layer, the W functions with "\\?\" paths underneath, CRT descriptors
 * (_open_osfhandle) where the layer speaks of descriptors. */
#include "win.h"

#include <aclapi.h>
#include <bcrypt.h>
#include <errno.h>
#include <fcntl.h>
#include <io.h>
#include <limits.h>
#include <sddl.h>
#include <stdlib.h>
#include <string.h>
#include <winternl.h>

int tmpf__win_errno(DWORD err)
{
    switch (err) {
    case ERROR_FILE_NOT_FOUND:
    case ERROR_PATH_NOT_FOUND:
    case ERROR_INVALID_DRIVE:
    case ERROR_BAD_NETPATH:
    case ERROR_BAD_NET_NAME:
    case ERROR_DELETE_PENDING: /* a name on its way out: gone for us */
        return ENOENT;
    case ERROR_FILE_EXISTS:
    case ERROR_ALREADY_EXISTS:
        return EEXIST;
    case ERROR_ACCESS_DENIED:
    case ERROR_PRIVILEGE_NOT_HELD:
    case ERROR_CANNOT_MAKE:
        return EACCES;
    case ERROR_SHARING_VIOLATION:
    case ERROR_BUSY:
    case ERROR_USER_MAPPED_FILE:
        return EBUSY;
    case ERROR_LOCK_VIOLATION:
        return EWOULDBLOCK;
    case ERROR_DIR_NOT_EMPTY:
        return ENOTEMPTY;
    case ERROR_NOT_SAME_DEVICE:
        return EXDEV;
    case ERROR_DIRECTORY:
        return ENOTDIR;
    case ERROR_FILENAME_EXCED_RANGE:
    case ERROR_BUFFER_OVERFLOW:
        return ENAMETOOLONG;
    case ERROR_NOT_ENOUGH_MEMORY:
    case ERROR_OUTOFMEMORY:
        return ENOMEM;
    case ERROR_DISK_FULL:
    case ERROR_HANDLE_DISK_FULL:
        return ENOSPC;
    case ERROR_TOO_MANY_OPEN_FILES:
        return EMFILE;
    case ERROR_WRITE_PROTECT:
        return EROFS;
    case ERROR_INVALID_HANDLE:
        return EBADF;
    case ERROR_CANT_RESOLVE_FILENAME:
        return ELOOP;
    case ERROR_NOT_SUPPORTED:
    case ERROR_INVALID_FUNCTION:
        return EOPNOTSUPP;
    case ERROR_INVALID_NAME:
    case ERROR_INVALID_PARAMETER:
    case ERROR_BAD_PATHNAME:
    case ERROR_NO_UNICODE_TRANSLATION:
        return EINVAL;
    default:
        return EIO;
    }
}

int tmpf__win_fail(void)
{
    errno = tmpf__win_errno(GetLastError());
    return -1;
}

/* ---- paths --------------------------------------------------------------- */

static wchar_t *widen(const char *s)
{
    int n = MultiByteToWideChar(CP_UTF8, MB_ERR_INVALID_CHARS, s, -1, NULL, 0);
    if (n <= 0) {
        errno = EINVAL; /* not UTF-8 */
        return NULL;
    }
    wchar_t *w = tmpf__malloc((size_t)n * sizeof *w);
    if (!w)
        return NULL;
    MultiByteToWideChar(CP_UTF8, MB_ERR_INVALID_CHARS, s, -1, w, n);
    for (wchar_t *p = w; *p; p++)
        if (*p == L'/')
            *p = L'\\';
    return w;
}

/* widen for a path or a name: a component longer than Windows allows
 * (255 UTF-16 units on NTFS, FAT and ReFS) is ENAMETOOLONG at once, as
 * POSIX's NAME_MAX; Win32 (and Wine) would say "invalid name" or "path not
 * found". */
static bool name_lengths_ok(const wchar_t *w)
{
    size_t run = 0;
    for (const wchar_t *p = w; *p; p++) {
        run = *p == L'\\' || *p == L'/' ? 0 : run + 1;
        if (run > TMPF__WIN_NAME_MAX) {
            errno = ENAMETOOLONG;
            return false;
        }
    }
    return true;
}

static wchar_t *widen_path(const char *s)
{
    wchar_t *w = widen(s);
    if (w && !name_lengths_ok(w)) {
        free(w);
        return NULL;
    }
    return w;
}

/* widen_path into buf (cap units) when it fits, with no allocation; else
 * malloc'd (free it if it is not buf). '/' is not turned into '\'. */
static wchar_t *widen_path_fast(const char *s, wchar_t *buf, size_t cap)
{
    int n = MultiByteToWideChar(CP_UTF8, MB_ERR_INVALID_CHARS, s, -1, buf, (int)cap);
    if (n <= 0) {
        if (GetLastError() == ERROR_INSUFFICIENT_BUFFER)
            return widen_path(s);
        errno = EINVAL; /* not UTF-8 */
        return NULL;
    }
    return name_lengths_ok(buf) ? buf : NULL;
}

static bool has_prefix(const wchar_t *w, const wchar_t *p)
{
    return wcsncmp(w, p, wcslen(p)) == 0;
}

/* full: an absolute Win32 path (GetFullPathNameW's); the "\\?\" form. */
static wchar_t *verbatim(const wchar_t *full)
{
    bool unc = full[0] == L'\\' && full[1] == L'\\';
    const wchar_t *head = unc ? L"\\\\?\\UNC\\" : L"\\\\?\\";
    if (has_prefix(full, L"\\\\?\\") || has_prefix(full, L"\\\\.\\")) {
        unc = false;
        head = L""; /* already verbatim, or a device */
    }
    const wchar_t *rest = unc ? full + 2 : full;
    size_t hn = wcslen(head), rn = wcslen(rest);
    wchar_t *w = tmpf__malloc((hn + rn + 1) * sizeof *w);
    if (!w)
        return NULL;
    memcpy(w, head, hn * sizeof *w);
    memcpy(w + hn, rest, (rn + 1) * sizeof *w);
    return w;
}

wchar_t *tmpf__win_handle_path(HANDLE h)
{
    DWORD n = GetFinalPathNameByHandleW(h, NULL, 0, FILE_NAME_NORMALIZED | VOLUME_NAME_DOS);
    if (n == 0) {
        tmpf__win_fail();
        return NULL;
    }
    wchar_t *w = tmpf__malloc((size_t)n * sizeof *w);
    if (!w)
        return NULL;
    DWORD got = GetFinalPathNameByHandleW(h, w, n, FILE_NAME_NORMALIZED | VOLUME_NAME_DOS);
    if (got == 0 || got >= n) {
        free(w);
        errno = got == 0 ? tmpf__win_errno(GetLastError()) : EIO;
        return NULL;
    }
    if (got > 0 && w[got - 1] == L'\\')
        w[got - 1] = 0;
    return w;
}

static bool is_absolute(const wchar_t *w)
{
    return (w[0] == L'\\' && w[1] == L'\\') ||
           (w[0] && w[1] == L':' && w[2] == L'\\');
}

wchar_t *tmpf__win_wpath_at(int dir_fd, const char *path)
{
    if (!path || !*path) {
        errno = ENOENT;
        return NULL;
    }
    wchar_t *w = widen_path(path);
    if (!w)
        return NULL;
    if (has_prefix(w, L"\\\\?\\"))
        return w;
    if (dir_fd != AT_FDCWD && !is_absolute(w)) {
        HANDLE h = tmpf__win_handle(dir_fd);
        wchar_t *dir = h == INVALID_HANDLE_VALUE ? NULL : tmpf__win_handle_path(h);
        if (!dir) {
            free(w);
            return NULL;
        }
        size_t dn = wcslen(dir), wn = wcslen(w);
        wchar_t *j = tmpf__malloc((dn + 1 + wn + 1) * sizeof *j);
        if (j) {
            memcpy(j, dir, dn * sizeof *j);
            j[dn] = L'\\';
            memcpy(j + dn + 1, w, (wn + 1) * sizeof *j);
        }
        free(dir);
        free(w);
        return j;
    }
    DWORD n = GetFullPathNameW(w, 0, NULL, NULL);
    wchar_t *full = n ? tmpf__malloc((size_t)n * sizeof *full) : NULL;
    if (!full || GetFullPathNameW(w, n, full, NULL) == 0) {
        if (n == 0)
            tmpf__win_fail();
        free(full);
        free(w);
        return NULL;
    }
    free(w);
    wchar_t *v = verbatim(full);
    free(full);
    return v;
}

wchar_t *tmpf__win_wpath(const char *path) { return tmpf__win_wpath_at(AT_FDCWD, path); }

int tmpf__win_wpath_buf(const char *path, wchar_t *buf, size_t cap)
{
    wchar_t rel[TMPF__WIN_WPATH_BUF];
    return tmpf__win_wpath_into(path, buf, cap, rel, TMPF__WIN_WPATH_BUF);
}

int tmpf__win_wpath_into(const char *path, wchar_t *buf, size_t cap, wchar_t *rel,
                         size_t rel_cap)
{
    if (!path || !*path) {
        errno = ENOENT;
        return -1;
    }
    int n = MultiByteToWideChar(CP_UTF8, MB_ERR_INVALID_CHARS, path, -1, rel,
                                (int)(rel_cap > INT_MAX ? INT_MAX : rel_cap));
    if (n <= 0) {
        errno = GetLastError() == ERROR_INSUFFICIENT_BUFFER ? ERANGE : EINVAL;
        return -1;
    }
    size_t run = 0;
    for (wchar_t *p = rel; *p; p++) {
        if (*p == L'/')
            *p = L'\\';
        run = *p == L'\\' ? 0 : run + 1;
        if (run > TMPF__WIN_NAME_MAX) {
            errno = ENAMETOOLONG;
            return -1;
        }
    }
    if (has_prefix(rel, L"\\\\?\\")) {
        if ((size_t)n > cap) {
            errno = ERANGE;
            return -1;
        }
        memcpy(buf, rel, (size_t)n * sizeof *buf);
        return 0;
    }
    enum { HEAD = 8 }; /* room for the longest head, "\\?\UNC\" */
    if (cap <= HEAD) {
        errno = ERANGE;
        return -1;
    }
    wchar_t *full = buf + HEAD;
    DWORD got = GetFullPathNameW(rel, (DWORD)(cap - HEAD), full, NULL);
    if (got == 0)
        return tmpf__win_fail();
    if (got >= cap - HEAD) {
        errno = ERANGE;
        return -1;
    }
    /* verbatim's head, in place: the head is never longer than the room
     * left before the text it goes in front of. */
    bool unc = full[0] == L'\\' && full[1] == L'\\';
    const wchar_t *head = unc ? L"\\\\?\\UNC\\" : L"\\\\?\\";
    if (has_prefix(full, L"\\\\?\\") || has_prefix(full, L"\\\\.\\")) {
        unc = false;
        head = L"";
    }
    const wchar_t *rest = unc ? full + 2 : full;
    size_t hn = wcslen(head), rn = wcslen(rest);
    memmove(buf + hn, rest, (rn + 1) * sizeof *buf);
    memcpy(buf, head, hn * sizeof *buf);
    return 0;
}

wchar_t *tmpf__win_wpath_fast(const char *path, wchar_t *buf, size_t cap)
{
    if (tmpf__win_wpath_buf(path, buf, cap) == 0)
        return buf;
    return errno == ERANGE ? tmpf__win_wpath(path) : NULL;
}

char *tmpf__win_utf8(const wchar_t *w, int n)
{
    if (n < 0)
        n = (int)wcslen(w);
    if (n >= 8 && wcsncmp(w, L"\\\\?\\UNC\\", 8) == 0) {
        /* "\\?\UNC\server\share" is "\\server\share". */
        char *rest = tmpf__win_utf8(w + 8, n - 8);
        if (!rest)
            return NULL;
        size_t len = strlen(rest);
        char *s = tmpf__malloc(len + 3);
        if (s) {
            s[0] = s[1] = '\\';
            memcpy(s + 2, rest, len + 1);
        }
        free(rest);
        return s;
    }
    if (n >= 4 && wcsncmp(w, L"\\\\?\\", 4) == 0) {
        w += 4;
        n -= 4;
    }
    int len = WideCharToMultiByte(CP_UTF8, 0, w, n, NULL, 0, NULL, NULL);
    if (len < 0 || (len == 0 && n > 0)) {
        errno = EINVAL;
        return NULL;
    }
    char *s = tmpf__malloc((size_t)len + 1);
    if (!s)
        return NULL;
    WideCharToMultiByte(CP_UTF8, 0, w, n, s, len, NULL, NULL);
    s[len] = 0;
    return s;
}

/* ---- descriptors ------------------------------------------------------------ */

HANDLE tmpf__win_handle(int fd)
{
    HANDLE h = (HANDLE)_get_osfhandle(fd);
    if (h == INVALID_HANDLE_VALUE)
        errno = EBADF;
    return h;
}

int tmpf__win_fd(HANDLE h, int crt_flags)
{
    int fd = _open_osfhandle((intptr_t)h, crt_flags);
    if (fd < 0) {
        int saved = errno ? errno : EMFILE;
        CloseHandle(h);
        errno = saved;
    }
    return fd;
}

/* The serial number of the volume h is on, found through its path: Wine 8
 * answers 0 for a handle whose directory was renamed after it was opened
 * (its path is stale then, but still names the right volume). *serial is
 * 0 if not found; -1 (errno) only when memory ran out, which must not pass
 * for "another volume" (an identity check would then say ESTALE). */
static int serial_by_path(HANDLE h, DWORD *serial)
{
    *serial = 0;
    wchar_t *p = tmpf__win_handle_path(h);
    if (!p)
        return errno == ENOMEM ? -1 : 0;
    size_t n = wcslen(p) + 2;
    wchar_t *root = tmpf__malloc(n * sizeof *root);
    if (!root) {
        free(p);
        return -1;
    }
    if (!GetVolumePathNameW(p, root, (DWORD)n) ||
        !GetVolumeInformationW(root, NULL, 0, serial, NULL, NULL, NULL, 0))
        *serial = 0;
    free(root);
    free(p);
    return 0;
}

int tmpf__win_facts(HANDLE h, struct tmpf__os_facts *ret, DWORD *attrs)
{
    BY_HANDLE_FILE_INFORMATION fi;
    if (!GetFileInformationByHandle(h, &fi))
        return tmpf__win_fail();
    if (ret) {
        if (fi.dwVolumeSerialNumber == 0) {
            int saved = errno;
            if (serial_by_path(h, &fi.dwVolumeSerialNumber) != 0)
                return -1; /* ENOMEM */
            errno = saved;
        }
        ret->id.dev = fi.dwVolumeSerialNumber;
        ret->id.ino = ((uint64_t)fi.nFileIndexHigh << 32) | fi.nFileIndexLow;
        bool dir = fi.dwFileAttributes & FILE_ATTRIBUTE_DIRECTORY;
        unsigned perm = dir ? 0700 : 0600;
        if (fi.dwFileAttributes & FILE_ATTRIBUTE_READONLY)
            perm &= ~0222u;
        /* POSIX type bits, as the portable code's S_ISDIR-like tests know
         * them (0040000 directory, 0100000 file, 0120000 link). */
        unsigned type = fi.dwFileAttributes & FILE_ATTRIBUTE_REPARSE_POINT ? 0120000u
                        : dir                                             ? 0040000u
                                                                          : 0100000u;
        ret->mode = type | perm;
        /* Owners are SIDs: the caller's unless looked up (identity.c does
         * for a directory: tmpf__win_owner_uid). */
        ret->uid = TMPF__WIN_UID_ME;
        ret->nlink = fi.nNumberOfLinks;
    }
    if (attrs)
        *attrs = fi.dwFileAttributes;
    return 0;
}

/* FileDispositionInfoEx (Windows 10 1709+), absent from mingw-w64's
 * headers and from Wine 8 (ERROR_INVALID_PARAMETER there). */
#define TMPF__FILE_DISPOSITION_INFO_EX 21
#define TMPF__DISPOSITION_DELETE 0x1
#define TMPF__DISPOSITION_POSIX 0x2
#define TMPF__DISPOSITION_IGNORE_READONLY 0x10
static atomic_bool no_disposition_ex;

bool tmpf__win_reparse_is_link(DWORD attrs, DWORD tag)
{
    return (attrs & FILE_ATTRIBUTE_REPARSE_POINT) && IsReparseTagNameSurrogate(tag);
}

bool tmpf__win_is_link(HANDLE h, DWORD attrs)
{
    if (!(attrs & FILE_ATTRIBUTE_REPARSE_POINT))
        return false;
    FILE_ATTRIBUTE_TAG_INFO ti;
    if (!GetFileInformationByHandleEx(h, FileAttributeTagInfo, &ti, sizeof ti))
        return true; /* unknown: never entered */
    return tmpf__win_reparse_is_link(attrs, ti.ReparseTag);
}

int tmpf__win_delete_handle(HANDLE h)
{
    if (!atomic_load_explicit(&no_disposition_ex, memory_order_relaxed)) {
        DWORD flags = TMPF__DISPOSITION_DELETE | TMPF__DISPOSITION_POSIX |
                      TMPF__DISPOSITION_IGNORE_READONLY;
        if (SetFileInformationByHandle(h, (FILE_INFO_BY_HANDLE_CLASS)TMPF__FILE_DISPOSITION_INFO_EX,
                                       &flags, sizeof flags))
            return 0;
        DWORD err = GetLastError();
        if (err != ERROR_INVALID_PARAMETER && err != ERROR_NOT_SUPPORTED &&
            err != ERROR_INVALID_FUNCTION) {
            errno = tmpf__win_errno(err);
            return -1;
        }
        atomic_store_explicit(&no_disposition_ex, true, memory_order_relaxed);
    }
    /* Delete-on-close: the read-only attribute must go first (and comes
     * back if the deletion is refused). */
    FILE_BASIC_INFO basic;
    bool cleared = false;
    if (GetFileInformationByHandleEx(h, FileBasicInfo, &basic, sizeof basic) &&
        (basic.FileAttributes & FILE_ATTRIBUTE_READONLY)) {
        FILE_BASIC_INFO rw = basic;
        rw.FileAttributes &= ~(DWORD)FILE_ATTRIBUTE_READONLY;
        if (rw.FileAttributes == 0)
            rw.FileAttributes = FILE_ATTRIBUTE_NORMAL;
        cleared = SetFileInformationByHandle(h, FileBasicInfo, &rw, sizeof rw);
    }
    FILE_DISPOSITION_INFO del = {TRUE};
    if (SetFileInformationByHandle(h, FileDispositionInfo, &del, sizeof del))
        return 0;
    int saved = tmpf__win_errno(GetLastError());
    if (cleared)
        SetFileInformationByHandle(h, FileBasicInfo, &basic, sizeof basic);
    errno = saved;
    return -1;
}

/* ---- randomness, processes ------------------------------------------------ */

int tmpf__os_random(void *buf, size_t n)
{
    unsigned char *p = buf;
    while (n > 0) {
        ULONG chunk = n > 1u << 30 ? 1u << 30 : (ULONG)n;
        if (!BCRYPT_SUCCESS(BCryptGenRandom(NULL, p, chunk, BCRYPT_USE_SYSTEM_PREFERRED_RNG))) {
            errno = EIO;
            return -1;
        }
        p += chunk;
        n -= chunk;
    }
    return 0;
}

/* No fork on Windows: no child can inherit the generator's state. */
atomic_uint *tmpf__os_fork_canary(void) { return NULL; }

/* UTF-8 copies of environment values handed out: a caller keeps the
 * pointer (as getenv's), so a value is never freed or changed; a value
 * that changes gets a new entry. Few names are asked (TMPDIR, TEMP, TMP,
 * SYSTEMROOT, ...): a list is enough. Process lifetime, by design. */
struct env_copy {
    struct env_copy *next;
    char *name, *value;
};
static struct env_copy *env_copies;
static SRWLOCK env_lock = SRWLOCK_INIT;

const char *tmpf__os_secure_getenv(const char *name)
{
    /* No set-id programs on Windows. The value is read as UTF-16 and
     * handed out as UTF-8 (the CRT's narrow environment is in the ANSI
     * code page). */
    wchar_t *wname = widen(name);
    if (!wname)
        return NULL;
    const wchar_t *w = _wgetenv(wname);
    free(wname);
    if (!w)
        return NULL;
    char *value = tmpf__win_utf8(w, -1);
    if (!value)
        return NULL;
    const char *found = NULL;
    AcquireSRWLockExclusive(&env_lock);
    for (struct env_copy *c = env_copies; c && !found; c = c->next)
        if (!strcmp(c->name, name) && !strcmp(c->value, value))
            found = c->value;
    if (!found) {
        struct env_copy *c = tmpf__malloc(sizeof *c);
        char *n = c ? tmpf__strdup(name) : NULL;
        if (n) {
            *c = (struct env_copy){env_copies, n, value};
            env_copies = c;
            found = value;
            value = NULL;
        } else {
            free(c);
        }
    }
    ReleaseSRWLockExclusive(&env_lock);
    free(value);
    return found;
}

char *tmpf__os_getcwd(char drive)
{
    /* GetFullPathNameW of "C:" is drive C's current directory. */
    const wchar_t of_drive[] = {(wchar_t)drive, L':', 0};
    DWORD n = drive ? GetFullPathNameW(of_drive, 0, NULL, NULL) : GetCurrentDirectoryW(0, NULL);
    wchar_t *w = n ? tmpf__malloc((size_t)n * sizeof *w) : NULL;
    if (!w) {
        if (n == 0)
            tmpf__win_fail();
        return NULL;
    }
    DWORD got = drive ? GetFullPathNameW(of_drive, n, w, NULL) : GetCurrentDirectoryW(n, w);
    char *s = got && got < n ? tmpf__win_utf8(w, (int)got) : NULL;
    if (!s && (got == 0 || got >= n))
        errno = got == 0 ? tmpf__win_errno(GetLastError()) : ERANGE;
    free(w);
    return s;
}

/* ---- opens relative to a directory handle ---------------------------------- */

/* NtCreateFile from ntdll (always loaded): an open relative to a directory
 * handle (RootDirectory), the race-free *at of POSIX. */
typedef LONG(NTAPI *nt_create_file_fn)(PHANDLE, ACCESS_MASK, POBJECT_ATTRIBUTES,
                                       PIO_STATUS_BLOCK, PLARGE_INTEGER, ULONG, ULONG, ULONG,
                                       ULONG, PVOID, ULONG);
typedef ULONG(NTAPI *nt_status_fn)(LONG);
typedef LONG(NTAPI *nt_set_info_fn)(HANDLE, PIO_STATUS_BLOCK, PVOID, ULONG, ULONG);
typedef LONG(NTAPI *nt_query_dir_fn)(HANDLE, HANDLE, PVOID, PVOID, PIO_STATUS_BLOCK, PVOID,
                                     ULONG, ULONG, BOOLEAN, PVOID, BOOLEAN);
static nt_query_dir_fn nt_query_dir;
static nt_create_file_fn nt_create_file;
static nt_set_info_fn nt_set_info;
static nt_status_fn nt_status_to_dos;
static INIT_ONCE nt_once = INIT_ONCE_STATIC_INIT;

static BOOL CALLBACK find_nt(PINIT_ONCE once, PVOID param, PVOID *ctx)
{
    (void)once, (void)param, (void)ctx;
    HMODULE nt = GetModuleHandleW(L"ntdll.dll");
    if (nt) {
        nt_create_file = (nt_create_file_fn)(void (*)(void))GetProcAddress(nt, "NtCreateFile");
        nt_status_to_dos =
            (nt_status_fn)(void (*)(void))GetProcAddress(nt, "RtlNtStatusToDosError");
        nt_set_info =
            (nt_set_info_fn)(void (*)(void))GetProcAddress(nt, "NtSetInformationFile");
        nt_query_dir =
            (nt_query_dir_fn)(void (*)(void))GetProcAddress(nt, "NtQueryDirectoryFile");
    }
    return TRUE;
}

LONG tmpf__win_set_information(HANDLE h, void *info, ULONG size, ULONG cls)
{
    InitOnceExecuteOnce(&nt_once, find_nt, NULL, NULL);
    if (!nt_set_info)
        return (LONG)0xC0000002; /* STATUS_NOT_IMPLEMENTED */
    IO_STATUS_BLOCK io;
    return nt_set_info(h, &io, info, size, cls);
}

int tmpf__win_nt_fail(LONG status)
{
    InitOnceExecuteOnce(&nt_once, find_nt, NULL, NULL);
    DWORD err = nt_status_to_dos ? nt_status_to_dos(status) : ERROR_INVALID_FUNCTION;
    errno = tmpf__win_errno(err);
    SetLastError(err);
    return -1;
}

/* A name the relative open takes as is: one or more components, none
 * empty, "." or "..", no drive or stream colon. */
static bool plain_relative(const char *name)
{
    if (!*name || tmpf__os_root_len(name) || strchr(name, ':'))
        return false;
    for (const char *c = name; *c;) {
        const char *end = c;
        while (*end && !tmpf__os_is_sep(*end))
            end++;
        size_t n = (size_t)(end - c);
        if (n == 0 || (n == 1 && c[0] == '.') || (n == 2 && c[0] == '.' && c[1] == '.'))
            return false;
        c = *end ? end + 1 : end;
        if (*end && !*c)
            return false; /* a trailing separator */
    }
    return true;
}

HANDLE tmpf__win_open_rel(HANDLE dir, const wchar_t *name, size_t len, DWORD access,
                          DWORD share, DWORD disposition, DWORD flags, SECURITY_ATTRIBUTES *sa)
{
    InitOnceExecuteOnce(&nt_once, find_nt, NULL, NULL);
    if (!nt_create_file || !nt_status_to_dos) {
        errno = ENOTSUP;
        SetLastError(ERROR_NOT_SUPPORTED);
        return INVALID_HANDLE_VALUE;
    }
    if (len == 0 || len > 0x7fff) { /* UNICODE_STRING counts bytes in 16 bits */
        errno = len ? ENAMETOOLONG : ENOENT;
        SetLastError(len ? ERROR_FILENAME_EXCED_RANGE : ERROR_FILE_NOT_FOUND);
        return INVALID_HANDLE_VALUE;
    }
    UNICODE_STRING us;
    us.Length = (USHORT)(len * sizeof *name);
    us.MaximumLength = us.Length;
    us.Buffer = (wchar_t *)name;
    OBJECT_ATTRIBUTES oa;
    InitializeObjectAttributes(&oa, &us, OBJ_CASE_INSENSITIVE, dir,
                               sa ? sa->lpSecurityDescriptor : NULL);
    /* What CreateFileW adds and maps. */
    ULONG options = FILE_SYNCHRONOUS_IO_NONALERT;
    if (flags & TMPF__WIN_MAKE_DIR)
        options |= FILE_DIRECTORY_FILE;
    else
        options |= flags & FILE_FLAG_BACKUP_SEMANTICS ? FILE_OPEN_FOR_BACKUP_INTENT
                                                      : FILE_NON_DIRECTORY_FILE;
    if (flags & FILE_FLAG_OPEN_REPARSE_POINT)
        options |= FILE_OPEN_REPARSE_POINT;
    if (flags & FILE_FLAG_DELETE_ON_CLOSE)
        options |= FILE_DELETE_ON_CLOSE;
    if (flags & FILE_FLAG_WRITE_THROUGH)
        options |= FILE_WRITE_THROUGH;
    ULONG create = disposition == CREATE_NEW      ? FILE_CREATE
                   : disposition == CREATE_ALWAYS ? FILE_OVERWRITE_IF
                   : disposition == OPEN_ALWAYS   ? FILE_OPEN_IF
                                                  : FILE_OPEN;
    IO_STATUS_BLOCK io;
    HANDLE h = INVALID_HANDLE_VALUE;
    ULONG attrs = flags & 0xffff & ~(ULONG)TMPF__WIN_MAKE_DIR;
    LONG status = nt_create_file(&h, access | SYNCHRONIZE | FILE_READ_ATTRIBUTES, &oa, &io, NULL,
                                 attrs, share, create, options, NULL, 0);
    if (status < 0) {
        tmpf__win_nt_fail(status);
        return INVALID_HANDLE_VALUE;
    }
    return h;
}

int tmpf__win_next_entry(HANDLE dir, bool restart, struct tmpf__win_entry *e)
{
    InitOnceExecuteOnce(&nt_once, find_nt, NULL, NULL);
    if (!nt_query_dir || !nt_status_to_dos) {
        errno = ENOTSUP;
        return -1;
    }
    for (;;) {
        IO_STATUS_BLOCK io;
        /* FileIdBothDirectoryInformation (37), one entry a call: the
         * handle's position is exactly after it. */
        LONG status = nt_query_dir(dir, NULL, NULL, NULL, &io, e->u.bytes, sizeof e->u.bytes, 37,
                                   TRUE, NULL, restart);
        restart = false;
        if (status == (LONG)0x80000006L) /* STATUS_NO_MORE_FILES */
            return 0;
        if (status < 0)
            return tmpf__win_nt_fail(status);
        const FILE_ID_BOTH_DIR_INFO *d = &e->u.info;
        e->len = d->FileNameLength / sizeof(wchar_t);
        e->name = d->FileName;
        e->attrs = d->FileAttributes;
        bool dots = (e->len == 1 && e->name[0] == L'.') ||
                    (e->len == 2 && e->name[0] == L'.' && e->name[1] == L'.');
        if (!dots)
            return 1;
    }
}

HANDLE tmpf__win_open_at(int dir_fd, const char *name, DWORD access, DWORD share,
                         DWORD disposition, DWORD flags, SECURITY_ATTRIBUTES *sa)
{
    InitOnceExecuteOnce(&nt_once, find_nt, NULL, NULL);
    HANDLE dir = INVALID_HANDLE_VALUE;
    if (dir_fd != AT_FDCWD && nt_create_file && nt_status_to_dos && plain_relative(name))
        dir = tmpf__win_handle(dir_fd);
    if (dir == INVALID_HANDLE_VALUE) {
        /* By path: the current directory's, or a name the relative open
         * does not take. */
        wchar_t stack[TMPF__WIN_WPATH_BUF];
        wchar_t *w = dir_fd == AT_FDCWD ? tmpf__win_wpath_fast(name, stack, TMPF__WIN_WPATH_BUF)
                                        : tmpf__win_wpath_at(dir_fd, name);
        if (!w)
            return INVALID_HANDLE_VALUE;
        HANDLE h = INVALID_HANDLE_VALUE;
        if (!(flags & TMPF__WIN_MAKE_DIR))
            h = CreateFileW(w, access, share, sa, disposition, flags, NULL);
        else if (CreateDirectoryW(w, sa))
            h = CreateFileW(w, access, share, NULL, OPEN_EXISTING,
                            FILE_FLAG_BACKUP_SEMANTICS | FILE_FLAG_OPEN_REPARSE_POINT, NULL);
        DWORD err = GetLastError();
        if (w != stack)
            free(w);
        if (h == INVALID_HANDLE_VALUE)
            errno = tmpf__win_errno(err);
        SetLastError(err);
        return h;
    }
    /* No allocation in the common case, as POSIX's openat (the sweep
     * would read a failed one as "gone"). */
    wchar_t stack[TMPF__WIN_WPATH_BUF];
    wchar_t *w = widen_path_fast(name, stack, TMPF__WIN_WPATH_BUF);
    if (!w)
        return INVALID_HANDLE_VALUE;
    for (wchar_t *c = w; *c; c++)
        if (*c == L'/')
            *c = L'\\';
    HANDLE h = tmpf__win_open_rel(dir, w, wcslen(w), access, share, disposition, flags, sa);
    if (w != stack) {
        DWORD err = GetLastError();
        int saved = errno;
        free(w);
        errno = saved;
        SetLastError(err);
    }
    return h;
}

int tmpf__win_rename_at(int from_dir, const char *from, int to_dir, const char *to,
                        bool replace)
{
    InitOnceExecuteOnce(&nt_once, find_nt, NULL, NULL);
    if (from_dir == AT_FDCWD || to_dir == AT_FDCWD || !plain_relative(from) ||
        !plain_relative(to) || !nt_create_file || !nt_set_info || !nt_status_to_dos) {
        errno = ENOTSUP;
        return -1;
    }
    HANDLE root = tmpf__win_handle(to_dir);
    if (root == INVALID_HANDLE_VALUE)
        return -1;
    /* The entry itself (never a link's target), opened relative to its
     * directory, renamed through its handle to a name relative to the
     * other directory's handle (FILE_RENAME_INFORMATION has the layout of
     * FILE_RENAME_INFO): no path is looked up. */
    HANDLE h = tmpf__win_open_at(from_dir, from, DELETE, FILE_SHARE_READ | FILE_SHARE_WRITE |
                                 FILE_SHARE_DELETE, OPEN_EXISTING,
                                 FILE_FLAG_BACKUP_SEMANTICS | FILE_FLAG_OPEN_REPARSE_POINT, NULL);
    if (h == INVALID_HANDLE_VALUE)
        return -1;
    wchar_t *w = widen_path(to);
    size_t n = w ? wcslen(w) : 0;
    size_t size = sizeof(FILE_RENAME_INFO) + n * sizeof(wchar_t);
    FILE_RENAME_INFO *info = w ? tmpf__calloc(1, size) : NULL;
    int rc = -1;
    if (info) {
        for (size_t i = 0; i < n; i++)
            info->FileName[i] = w[i] == L'/' ? L'\\' : w[i];
        info->ReplaceIfExists = replace;
        info->RootDirectory = root;
        info->FileNameLength = (DWORD)(n * sizeof(wchar_t));
        /* NtSetInformationFile(FileRenameInformation = 10): the Win32
         * wrapper would resolve a relative name from the current
         * directory (Wine's does). */
        LONG status = tmpf__win_set_information(h, info, (ULONG)size, 10);
        rc = status >= 0 ? 0 : tmpf__win_nt_fail(status);
    }
    int saved = errno;
    free(info);
    free(w);
    CloseHandle(h);
    errno = saved;
    return rc;
}

int tmpf__win_delete_handle_aside(HANDLE h, HANDLE aside_dir)
{
    if (!aside_dir || !atomic_load_explicit(&no_disposition_ex, memory_order_relaxed)) {
        int rc = tmpf__win_delete_handle(h);
        if (rc != 0 || !aside_dir ||
            !atomic_load_explicit(&no_disposition_ex, memory_order_relaxed))
            return rc; /* POSIX semantics: the name is gone already */
        /* This call found there are none: the file is now delete-pending
         * under its name. Take the mark back to move it first. */
        FILE_DISPOSITION_INFO keep = {FALSE};
        if (!SetFileInformationByHandle(h, FileDispositionInfo, &keep, sizeof keep))
            return 0; /* cannot: it goes when the last handle closes */
    }
    /* Delete-on-close keeps the name while another handle (sharing
     * deletion) is open, and its directory then cannot go: the file is
     * first renamed out of the tree, to a hidden random name in aside_dir
     * (the tree's parent, same volume), relative to aside_dir's handle
     * (NtSetInformationFile: the Win32 wrapper would resolve a relative
     * name from the current directory). No allocation. */
    InitOnceExecuteOnce(&nt_once, find_nt, NULL, NULL);
    enum { RAND = 16 };
    static const wchar_t stem[] = L".tmpf-deleted-";
    enum { STEM = sizeof stem / sizeof stem[0] - 1, CHARS = STEM + RAND };
    union {
        FILE_RENAME_INFO info;
        unsigned char bytes[sizeof(FILE_RENAME_INFO) + CHARS * sizeof(wchar_t)];
    } ri;
    wchar_t *name = ri.info.FileName;
    memcpy(name, stem, STEM * sizeof *name);
    unsigned char bytes[RAND];
    bool moved = false;
    for (int tries = 0; tries < 4 && !moved && nt_set_info; tries++) {
        if (tmpf__os_random(bytes, sizeof bytes) != 0)
            break;
        for (int i = 0; i < RAND; i++)
            name[STEM + i] = (wchar_t)TMPF__ALPHABET[bytes[i] % (TMPF__ALPHABET_LEN - 1)];
        ri.info.ReplaceIfExists = FALSE;
        ri.info.RootDirectory = aside_dir;
        ri.info.FileNameLength = (DWORD)(CHARS * sizeof(wchar_t));
        IO_STATUS_BLOCK io;
        moved = nt_set_info(h, &io, &ri, (ULONG)sizeof ri, 10) >= 0; /* FileRenameInformation */
    }
    /* Moved or not, it is marked: at worst its name stays until the other
     * handle closes (and the tree's directory with it: ENOTEMPTY). */
    return tmpf__win_delete_handle(h);
}

/* ---- files ------------------------------------------------------------------- */

static SECURITY_ATTRIBUTES no_inherit = {sizeof(SECURITY_ATTRIBUTES), NULL, FALSE};

int tmpf__os_create_file(const char *path, unsigned perm, unsigned flags)
{
    return tmpf__os_create_file_at(AT_FDCWD, path, perm, flags);
}

int tmpf__os_create_file_at(int dir_fd, const char *name, unsigned perm,
                            unsigned flags)
{
    /* No DELETE access on the handle: another program can then open the
     * file by name with a plain fopen (SPEC 7). Others may read, write and
     * delete it while it is open. perm without owner-write: read-only. */
    DWORD attrs = FILE_ATTRIBUTE_TEMPORARY;
    if (!(perm & 0200))
        attrs |= FILE_ATTRIBUTE_READONLY;
    HANDLE h = tmpf__win_open_at(dir_fd, name, GENERIC_READ | GENERIC_WRITE,
                                 FILE_SHARE_READ | FILE_SHARE_WRITE | FILE_SHARE_DELETE,
                                 CREATE_NEW, attrs, &no_inherit);
    if (h == INVALID_HANDLE_VALUE)
        return -1;
    return tmpf__win_fd(h, _O_RDWR | (flags & TMPF_TEXT ? _O_TEXT : _O_BINARY));
}

PSECURITY_DESCRIPTOR tmpf__win_owner_only_sd(void)
{
    HANDLE token;
    if (!OpenProcessToken(GetCurrentProcess(), TOKEN_QUERY, &token)) {
        tmpf__win_fail();
        return NULL;
    }
    union {
        TOKEN_USER user;
        unsigned char bytes[sizeof(TOKEN_USER) + SECURITY_MAX_SID_SIZE];
    } u;
    DWORD len;
    BOOL ok = GetTokenInformation(token, TokenUser, &u, sizeof u, &len);
    DWORD err = GetLastError();
    CloseHandle(token);
    LPWSTR sid = NULL;
    if (!ok || !ConvertSidToStringSidW(u.user.User.Sid, &sid)) {
        errno = tmpf__win_errno(ok ? GetLastError() : err);
        return NULL;
    }
    /* D:P: a protected DACL (nothing inherited from the parent); one ACE:
     * full access for the user, inherited by files and subdirectories. */
    wchar_t sddl[256];
    _snwprintf(sddl, sizeof sddl / sizeof sddl[0], L"D:P(A;OICI;FA;;;%ls)", sid);
    sddl[sizeof sddl / sizeof sddl[0] - 1] = 0;
    LocalFree(sid);
    PSECURITY_DESCRIPTOR sd = NULL;
    if (!ConvertStringSecurityDescriptorToSecurityDescriptorW(sddl, SDDL_REVISION_1, &sd, NULL)) {
        tmpf__win_fail();
        return NULL;
    }
    return sd;
}

int tmpf__os_create_dir(const char *path, unsigned perm)
{
    wchar_t *w = tmpf__win_wpath(path);
    if (!w)
        return -1;
    SECURITY_ATTRIBUTES sa = {sizeof sa, NULL, FALSE};
    if (!(perm & 077)) {
        sa.lpSecurityDescriptor = tmpf__win_owner_only_sd();
        if (!sa.lpSecurityDescriptor) {
            free(w);
            return -1;
        }
    }
    BOOL ok = CreateDirectoryW(w, &sa);
    DWORD err = GetLastError();
    if (sa.lpSecurityDescriptor)
        LocalFree(sa.lpSecurityDescriptor);
    free(w);
    if (!ok) {
        errno = tmpf__win_errno(err);
        return -1;
    }
    return 0;
}

int tmpf__os_open_tmpfile(int dir_fd, const char *dir, unsigned perm)
{
    (void)perm;
    /* An unnamed file is a randomly named one that the system deletes when
     * its last handle closes (FILE_FLAG_DELETE_ON_CLOSE), also when the
     * process is killed; hidden while it lasts. */
    static const char prefix[] = "tmpf-anon-";
    enum { RAND = 16 };
    size_t dn = strlen(dir);
    char *path = tmpf__malloc(dn + 1 + sizeof prefix - 1 + RAND + 1);
    if (!path)
        return -1;
    memcpy(path, dir, dn);
    path[dn] = '\\';
    char *name = path + dn + 1;
    memcpy(name, prefix, sizeof prefix - 1);
    char *rand = name + sizeof prefix - 1;
    int fd = -1;
    for (int tries = 0; tries < 100 && fd < 0; tries++) {
        unsigned char bytes[RAND];
        if (tmpf__os_random(bytes, sizeof bytes) != 0)
            break;
        for (int i = 0; i < RAND; i++)
            rand[i] = TMPF__ALPHABET[bytes[i] % (TMPF__ALPHABET_LEN - 1)];
        rand[RAND] = 0;
        wchar_t *w = tmpf__win_wpath_at(dir_fd, path);
        if (!w)
            break;
        HANDLE h = CreateFileW(w, GENERIC_READ | GENERIC_WRITE | DELETE,
                               FILE_SHARE_READ | FILE_SHARE_WRITE | FILE_SHARE_DELETE,
                               &no_inherit, CREATE_NEW,
                               FILE_ATTRIBUTE_TEMPORARY | FILE_ATTRIBUTE_HIDDEN |
                                   FILE_FLAG_DELETE_ON_CLOSE,
                               NULL);
        DWORD err = GetLastError();
        free(w);
        if (h != INVALID_HANDLE_VALUE) {
            fd = tmpf__win_fd(h, _O_RDWR | _O_BINARY);
            break;
        }
        if (err != ERROR_FILE_EXISTS && err != ERROR_ALREADY_EXISTS) {
            errno = tmpf__win_errno(err);
            break;
        }
        errno = EEXIST;
    }
    free(path);
    return fd;
}

bool tmpf__os_tmpfile_unsupported(int err) { return err == EOPNOTSUPP; }

bool tmpf__os_lexists(const char *path)
{
    /* No allocation in the common case (as POSIX's lstat): a failed one
     * would read as "absent" to callers such as the leak report. */
    wchar_t stack[TMPF__WIN_WPATH_BUF];
    wchar_t *w = tmpf__win_wpath_fast(path, stack, TMPF__WIN_WPATH_BUF);
    if (!w)
        return false;
    /* The attributes of a link itself, not of its target. */
    DWORD a = GetFileAttributesW(w);
    if (a == INVALID_FILE_ATTRIBUTES)
        tmpf__win_fail();
    if (w != stack)
        free(w);
    return a != INVALID_FILE_ATTRIBUTES;
}

int tmpf__os_write_all(int fd, const void *data, size_t n)
{
    const char *p = data;
    while (n > 0) {
        unsigned chunk = n > (1u << 30) ? 1u << 30 : (unsigned)n;
        int put = _write(fd, p, chunk);
        if (put < 0)
            return -1;
        p += put;
        n -= (size_t)put;
    }
    return 0;
}

int tmpf__os_close(int fd)
{
    int saved = errno;
    if (_close(fd) != 0)
        return -1;
    errno = saved;
    return 0;
}

/* Opens path itself (never a link's target) for deletion. */
static HANDLE open_for_delete(const char *path, DWORD *attrs)
{
    wchar_t stack[TMPF__WIN_WPATH_BUF];
    wchar_t *w = tmpf__win_wpath_fast(path, stack, TMPF__WIN_WPATH_BUF);
    if (!w)
        return INVALID_HANDLE_VALUE;
    HANDLE h = CreateFileW(w, DELETE | FILE_READ_ATTRIBUTES | FILE_WRITE_ATTRIBUTES,
                           FILE_SHARE_READ | FILE_SHARE_WRITE | FILE_SHARE_DELETE,
                           &no_inherit, OPEN_EXISTING,
                           FILE_FLAG_BACKUP_SEMANTICS | FILE_FLAG_OPEN_REPARSE_POINT, NULL);
    DWORD err = GetLastError();
    if (w != stack)
        free(w);
    if (h == INVALID_HANDLE_VALUE) {
        errno = tmpf__win_errno(err);
        return h;
    }
    if (tmpf__win_facts(h, NULL, attrs) != 0) {
        int saved = errno;
        CloseHandle(h);
        errno = saved;
        return INVALID_HANDLE_VALUE;
    }
    return h;
}

static int delete_path(const char *path, bool want_dir)
{
    DWORD attrs;
    HANDLE h = open_for_delete(path, &attrs);
    if (h == INVALID_HANDLE_VALUE)
        return -1;
    /* A link (symlink, junction) is removed as what it is: a directory
     * link by rmdir, a file link by unlink. */
    bool dir = attrs & FILE_ATTRIBUTE_DIRECTORY;
    int rc = 0;
    if (dir != want_dir) {
        errno = want_dir ? ENOTDIR : EISDIR;
        rc = -1;
    } else {
        rc = tmpf__win_delete_handle(h);
    }
    int saved = errno;
    CloseHandle(h);
    errno = saved;
    return rc;
}

int tmpf__os_unlink(const char *path)
{
    /* The common case in one call: DeleteFileW removes a file, or a file
     * link itself (never its target), POSIX-style where the system has it.
     * It refuses a read-only file, a directory (or directory link) and a
     * file someone holds without shared deletion with ERROR_ACCESS_DENIED
     * (or a sharing violation): the handle path below sorts those out. */
    wchar_t stack[TMPF__WIN_WPATH_BUF];
    wchar_t *w = tmpf__win_wpath_fast(path, stack, TMPF__WIN_WPATH_BUF);
    if (!w)
        return -1;
    BOOL ok = DeleteFileW(w);
    DWORD err = GetLastError();
    if (w != stack)
        free(w);
    if (ok)
        return 0;
    if (err == ERROR_FILE_NOT_FOUND || err == ERROR_PATH_NOT_FOUND) {
        errno = ENOENT;
        return -1;
    }
    return delete_path(path, false);
}

int tmpf__os_rmdir(const char *path) { return delete_path(path, true); }

int64_t tmpf__os_seek(int fd, int64_t offset, int whence)
{
    return (int64_t)_lseeki64(fd, offset, whence);
}

ssize_t tmpf__os_read_full(int fd, void *buf, size_t n)
{
    size_t done = 0;
    while (done < n) {
        size_t left = n - done;
        unsigned chunk = left > (1u << 30) ? 1u << 30 : (unsigned)left;
        int got = _read(fd, (char *)buf + done, chunk);
        if (got < 0)
            return done ? (ssize_t)done : -1;
        if (got == 0)
            break;
        done += (size_t)got;
    }
    return (ssize_t)done;
}

int tmpf__os_truncate(int fd, int64_t size)
{
    /* _chsize_s takes a 64-bit size (_chsize stops at 2 GiB) and returns
     * the error number rather than setting errno. */
    if (size < 0) {
        errno = EINVAL;
        return -1;
    }
    errno_t err = _chsize_s(fd, size);
    if (err != 0) {
        errno = err;
        return -1;
    }
    return 0;
}

const int tmpf__os_cwd_fd = AT_FDCWD;

/* ---- the temporary directory's candidates ----------------------------------- */

/* After TMPDIR, TEMP and TMP (portable), Python's list for Windows: the
 * system's temp path (GetTempPath2W where the system has it: Windows 11
 * and recent 10, which gives SYSTEM processes a private directory; else
 * GetTempPathW, which reads TMP, TEMP, USERPROFILE, then the Windows
 * directory), %SYSTEMROOT%\Temp, C:\TEMP, C:\TMP, \TEMP, \TMP. Each one
 * made absolute (\TEMP is on the current drive) without a trailing
 * separator; computed once, kept for the process's life. */
enum { MAX_CANDIDATES = 7 };
static const char *candidates[MAX_CANDIDATES + 1];
static INIT_ONCE candidates_once = INIT_ONCE_STATIC_INIT;

typedef DWORD(WINAPI *temp_path_fn)(DWORD, LPWSTR);

/* The full path of w as UTF-8, no trailing separator (a root keeps it). */
static char *full_utf8(const wchar_t *w)
{
    DWORD n = GetFullPathNameW(w, 0, NULL, NULL);
    wchar_t *full = n ? tmpf__malloc((size_t)n * sizeof *full) : NULL;
    if (!full)
        return NULL;
    DWORD got = GetFullPathNameW(w, n, full, NULL);
    char *s = NULL;
    if (got > 0 && got < n) {
        while (got > 3 && (full[got - 1] == L'\\' || full[got - 1] == L'/'))
            got--;
        s = tmpf__win_utf8(full, (int)got);
    }
    free(full);
    return s;
}

static char *system_temp_path(void)
{
    temp_path_fn fn = NULL;
    HMODULE k32 = GetModuleHandleW(L"kernel32.dll");
    if (k32)
        fn = (temp_path_fn)(void (*)(void))GetProcAddress(k32, "GetTempPath2W");
    if (!fn)
        fn = GetTempPathW;
    wchar_t buf[MAX_PATH + 2];
    DWORD n = fn(sizeof buf / sizeof buf[0], buf);
    if (n == 0 || n >= sizeof buf / sizeof buf[0])
        return NULL;
    return full_utf8(buf);
}

/* Adds dir (from a call that set errno = 0 first); false when it is
 * missing for want of memory. */
static bool add_candidate(size_t *count, char *dir)
{
    if (!dir)
        return errno != ENOMEM;
    for (size_t i = 0; i < *count; i++)
        if (!strcmp(candidates[i], dir)) {
            free(dir); /* named twice (TEMP's value and the system's): tried once */
            return true;
        }
    candidates[(*count)++] = dir;
    return true;
}

/* A failed allocation leaves no candidate out for good (the list is kept
 * for the life of the process): the once is not done, and tried again. */
static BOOL CALLBACK find_candidates(PINIT_ONCE once, PVOID param, PVOID *ctx)
{
    (void)once;
    (void)param;
    (void)ctx;
    size_t count = 0;
    errno = 0;
    bool ok = add_candidate(&count, system_temp_path());
    const wchar_t *root = _wgetenv(L"SYSTEMROOT");
    if (ok && root && *root) {
        size_t rn = wcslen(root);
        wchar_t *w = tmpf__malloc((rn + sizeof "\\Temp") * sizeof *w);
        ok = w != NULL;
        if (w) {
            memcpy(w, root, rn * sizeof *w);
            memcpy(w + rn, L"\\Temp", sizeof L"\\Temp");
            errno = 0;
            ok = add_candidate(&count, full_utf8(w));
            free(w);
        }
    }
    static const wchar_t *const fixed[] = {L"C:\\TEMP", L"C:\\TMP", L"\\TEMP", L"\\TMP"};
    for (size_t i = 0; ok && i < sizeof fixed / sizeof fixed[0]; i++) {
        errno = 0;
        ok = add_candidate(&count, full_utf8(fixed[i]));
    }
    if (!ok) {
        while (count)
            free((char *)candidates[--count]);
    }
    candidates[count] = NULL;
    return ok;
}

const char *const *tmpf__os_tempdir_candidates(void)
{
    int saved = errno;
    if (!InitOnceExecuteOnce(&candidates_once, find_candidates, NULL, NULL)) {
        errno = ENOMEM;
        return NULL;
    }
    errno = saved;
    return candidates;
}

/* ---- owners ------------------------------------------------------------------ */

/* The token's user and default owner SIDs, copied once; and
 * TrustedInstaller's (NT SERVICE\TrustedInstaller, which owns the system's
 * own files: no WELL_KNOWN_SID_TYPE names it). */
static union sid_buf {
    SID sid;
    unsigned char bytes[SECURITY_MAX_SID_SIZE];
} my_user, my_owner, trusted_installer;
static INIT_ONCE my_sids_once = INIT_ONCE_STATIC_INIT;
static bool my_sids_ok;

static BOOL CALLBACK find_my_sids(PINIT_ONCE once, PVOID param, PVOID *ctx)
{
    (void)once, (void)param, (void)ctx;
    static const DWORD ti[] = {80, 956008885u, 3418522649u, 1831038044u, 1853292631u,
                               2271478464u};
    SID_IDENTIFIER_AUTHORITY nt = {SECURITY_NT_AUTHORITY};
    if (InitializeSid(&trusted_installer.sid, &nt, (BYTE)(sizeof ti / sizeof ti[0])))
        for (DWORD i = 0; i < sizeof ti / sizeof ti[0]; i++)
            *GetSidSubAuthority(&trusted_installer.sid, i) = ti[i];
    HANDLE token;
    if (!OpenProcessToken(GetCurrentProcess(), TOKEN_QUERY, &token))
        return TRUE;
    union {
        TOKEN_USER user;
        TOKEN_OWNER owner;
        unsigned char bytes[sizeof(TOKEN_USER) + SECURITY_MAX_SID_SIZE];
    } u;
    DWORD len;
    bool ok = GetTokenInformation(token, TokenUser, &u, sizeof u, &len) &&
              CopySid(sizeof my_user, &my_user.sid, u.user.User.Sid);
    if (ok)
        ok = GetTokenInformation(token, TokenOwner, &u, sizeof u, &len) &&
             CopySid(sizeof my_owner, &my_owner.sid, u.owner.Owner);
    CloseHandle(token);
    my_sids_ok = ok;
    return TRUE;
}

/* Whether owner is the token's user or default owner (an elevated
 * administrator's new files belong to the Administrators group). False
 * when the token could not be read. */
static bool is_mine(PSID owner)
{
    InitOnceExecuteOnce(&my_sids_once, find_my_sids, NULL, NULL);
    return my_sids_ok && owner && IsValidSid(owner) &&
           (EqualSid(owner, &my_user.sid) || EqualSid(owner, &my_owner.sid));
}

int tmpf__win_owned_by_me(HANDLE h)
{
    InitOnceExecuteOnce(&my_sids_once, find_my_sids, NULL, NULL);
    if (!my_sids_ok) {
        errno = EACCES;
        return -1;
    }
    PSID owner = NULL;
    PSECURITY_DESCRIPTOR sd = NULL;
    DWORD err = GetSecurityInfo(h, SE_FILE_OBJECT, OWNER_SECURITY_INFORMATION, &owner, NULL,
                                NULL, NULL, &sd);
    if (err != ERROR_SUCCESS) {
        errno = tmpf__win_errno(err);
        return -1;
    }
    int mine = is_mine(owner);
    LocalFree(sd);
    return mine;
}

unsigned tmpf__win_owner_uid(PSECURITY_DESCRIPTOR sd)
{
    PSID owner = NULL;
    BOOL defaulted;
    if (!sd || !GetSecurityDescriptorOwner(sd, &owner, &defaulted) || !owner ||
        !IsValidSid(owner))
        return TMPF__WIN_UID_UNTRUSTED;
    if (is_mine(owner)) /* also sets up trusted_installer */
        return TMPF__WIN_UID_ME;
    bool root = IsWellKnownSid(owner, WinLocalSystemSid) ||
                IsWellKnownSid(owner, WinBuiltinAdministratorsSid) ||
                (IsValidSid(&trusted_installer.sid) && EqualSid(owner, &trusted_installer.sid));
    return root ? 0 : TMPF__WIN_UID_UNTRUSTED;
}
