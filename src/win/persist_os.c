/* System primitives for persist.c on Windows: a move that never replaces
 * (MoveFileExW without MOVEFILE_REPLACE_EXISTING), naming an unnamed file
 * (a copy: a delete-on-close file cannot be given a name without
 * FileDispositionInfoEx), FlushFileBuffers, and the side name's lock
 * (LockFileEx, released when the handle closes or the process dies). */
#include "win.h"

#include <errno.h>
#include <fcntl.h>
#include <io.h>
#include <stdlib.h>

static _Atomic(unsigned long) fsync_calls;

void tmpf__win_count_fsync(void)
{
    atomic_fetch_add_explicit(&fsync_calls, 1, memory_order_relaxed);
}

unsigned long tmpf__test_fsync_count(void)
{
    return atomic_load_explicit(&fsync_calls, memory_order_relaxed);
}

#define SHARE_ALL (FILE_SHARE_READ | FILE_SHARE_WRITE | FILE_SHARE_DELETE)

/* MoveFileExW with flags (no MOVEFILE_COPY_ALLOWED: across volumes
 * ERROR_NOT_SAME_DEVICE, EXDEV, as rename(2); persist.c copies itself). */
static int move_file(int from_dir, const char *from, int to_dir, const char *to,
                     DWORD flags)
{
    /* Relative to the directory handles where both names are (the *at
     * case: src/win/os.c), else by path. */
    if (tmpf__win_rename_at(from_dir, from, to_dir, to, flags & MOVEFILE_REPLACE_EXISTING) == 0)
        return 0;
    if (errno != ENOTSUP)
        return -1;
    wchar_t *a = tmpf__win_wpath_at(from_dir, from);
    wchar_t *b = a ? tmpf__win_wpath_at(to_dir, to) : NULL;
    int rc = -1;
    if (b) {
        if (MoveFileExW(a, b, flags))
            rc = 0;
        else
            tmpf__win_fail();
    }
    free(a);
    free(b);
    return rc;
}

int tmpf__os_rename_noreplace(int from_dir, const char *from, int to_dir,
                              const char *to)
{
    /* An existing target: ERROR_ALREADY_EXISTS (EEXIST). Except the
     * source's own name (persisting a file again onto the name it has):
     * a move onto itself succeeds, where link(2) and renameat2's
     * RENAME_NOREPLACE say EEXIST. Any existing entry is refused here
     * first; one appearing after this check is refused by the move. */
    struct tmpf__os_facts st;
    if (tmpf__os_facts_at(to_dir, to, false, &st) == 0) {
        errno = EEXIST;
        return -1;
    }
    if (errno != ENOENT)
        return -1;
    return move_file(from_dir, from, to_dir, to, MOVEFILE_WRITE_THROUGH);
}

int tmpf__os_rename(int from_dir, const char *from, int to_dir, const char *to)
{
    return move_file(from_dir, from, to_dir, to,
                     MOVEFILE_REPLACE_EXISTING | MOVEFILE_WRITE_THROUGH);
}

/* Copies everything of src (read through its own handle, so the file's
 * offset stays) into dst. */
static int copy_all(HANDLE src, HANDLE dst)
{
    HANDLE r = ReOpenFile(src, GENERIC_READ, SHARE_ALL, 0);
    if (r == INVALID_HANDLE_VALUE)
        return tmpf__win_fail();
    enum { CHUNK = 1 << 16 };
    unsigned char *buf = tmpf__malloc(CHUNK);
    int rc = buf ? 0 : -1;
    while (rc == 0) {
        DWORD got, put;
        if (!ReadFile(r, buf, CHUNK, &got, NULL)) {
            rc = tmpf__win_fail();
            break;
        }
        if (got == 0)
            break;
        if (!WriteFile(dst, buf, got, &put, NULL) || put != got)
            rc = tmpf__win_fail();
    }
    int saved = errno;
    free(buf);
    CloseHandle(r);
    errno = saved;
    return rc;
}

int tmpf__os_link_fd(int fd, int dir_fd, const char *to)
{
    /* Windows cannot name an open delete-on-close file (clearing the flag
     * takes FileDispositionInfoEx, Windows 10+, not in Wine): `to` becomes
     * a copy of its content now (SPEC 7). The copy is not the open file:
     * writes after this do not reach it (persist.c must move the file
     * object onto the copy: docs/windows-status.md). */
    HANDLE src = tmpf__win_handle(fd);
    if (src == INVALID_HANDLE_VALUE)
        return -1;
    wchar_t *w = tmpf__win_wpath_at(dir_fd, to);
    if (!w)
        return -1;
    HANDLE dst = CreateFileW(w, GENERIC_WRITE | DELETE, SHARE_ALL, NULL, CREATE_NEW,
                             FILE_ATTRIBUTE_NORMAL, NULL);
    DWORD err = GetLastError();
    free(w);
    if (dst == INVALID_HANDLE_VALUE) {
        errno = tmpf__win_errno(err);
        return -1;
    }
    int rc = copy_all(src, dst);
    int saved = errno;
    if (rc != 0)
        tmpf__win_delete_handle(dst); /* nothing half-made stays */
    CloseHandle(dst);
    errno = saved;
    return rc;
}

int tmpf__os_open_dir(const char *dir)
{
    wchar_t *w = tmpf__win_wpath(dir);
    if (!w)
        return -1;
    HANDLE h = CreateFileW(w, FILE_LIST_DIRECTORY | FILE_READ_ATTRIBUTES | SYNCHRONIZE,
                           SHARE_ALL, NULL, OPEN_EXISTING, FILE_FLAG_BACKUP_SEMANTICS, NULL);
    DWORD err = GetLastError();
    free(w);
    if (h == INVALID_HANDLE_VALUE) {
        errno = tmpf__win_errno(err);
        return -1;
    }
    DWORD attrs;
    if (tmpf__win_facts(h, NULL, &attrs) != 0 || !(attrs & FILE_ATTRIBUTE_DIRECTORY)) {
        CloseHandle(h);
        errno = ENOTDIR;
        return -1;
    }
    return tmpf__win_fd(h, _O_RDONLY | _O_BINARY);
}

/* Sets h's file attributes (through a handle of its own that may write
 * them: h itself may be read-only). */
static int set_attrs(HANDLE h, DWORD attrs)
{
    HANDLE a = ReOpenFile(h, FILE_WRITE_ATTRIBUTES, SHARE_ALL, 0);
    if (a == INVALID_HANDLE_VALUE)
        return tmpf__win_fail();
    FILE_BASIC_INFO bi = {0}; /* zero times: left as they are */
    bi.FileAttributes = attrs ? attrs : FILE_ATTRIBUTE_NORMAL;
    int rc = SetFileInformationByHandle(a, FileBasicInfo, &bi, sizeof bi)
                 ? 0
                 : tmpf__win_fail();
    CloseHandle(a);
    return rc;
}

/* FlushFileBuffers wants a handle that may write; h (a closed kept file
 * reopened to be persisted) is read-only. The file is flushed through a
 * write handle of its own, its read-only attribute lifted meanwhile (as
 * tree_os.c's flush_file) and put back. */
static int flush_readonly_handle(HANDLE h)
{
    FILE_BASIC_INFO bi;
    if (!GetFileInformationByHandleEx(h, FileBasicInfo, &bi, sizeof bi))
        return tmpf__win_fail();
    DWORD attrs = bi.FileAttributes;
    bool lifted = false;
    if (attrs & FILE_ATTRIBUTE_READONLY) {
        if (set_attrs(h, attrs & ~(DWORD)FILE_ATTRIBUTE_READONLY) != 0)
            return -1;
        lifted = true;
    }
    int rc = 0;
    HANDLE w = ReOpenFile(h, GENERIC_WRITE, SHARE_ALL, 0);
    if (w == INVALID_HANDLE_VALUE) {
        rc = tmpf__win_fail();
    } else {
        if (!FlushFileBuffers(w))
            rc = tmpf__win_fail();
        CloseHandle(w);
    }
    int saved = errno;
    if (lifted && set_attrs(h, attrs) != 0 && rc == 0)
        return -1;
    errno = saved;
    return rc;
}

int tmpf__os_fsync(int fd, bool is_dir)
{
    tmpf__win_count_fsync();
    /* A directory: NTFS journals its metadata, and FlushFileBuffers of a
     * directory needs a handle opened for writing: nothing to do
     * (documented: tmpf_file_persist.3 on Windows). */
    if (is_dir)
        return 0;
    HANDLE h = tmpf__win_handle(fd);
    if (h == INVALID_HANDLE_VALUE)
        return -1;
    if (FlushFileBuffers(h))
        return 0;
    if (GetLastError() != ERROR_ACCESS_DENIED)
        return tmpf__win_fail();
    return flush_readonly_handle(h);
}

/* The lock is on one byte far past any content: Windows locks are
 * mandatory, and a lock on data would block the file's own readers. */
#define LOCK_AT_HIGH 0x7fffffffu
#define LOCK_AT_LOW 0xfffffffeu

static int lock_handle(HANDLE h)
{
    OVERLAPPED ov = {0};
    ov.Offset = LOCK_AT_LOW;
    ov.OffsetHigh = LOCK_AT_HIGH;
    if (!LockFileEx(h, LOCKFILE_EXCLUSIVE_LOCK | LOCKFILE_FAIL_IMMEDIATELY, 0, 1, 0, &ov))
        return tmpf__win_fail(); /* ERROR_LOCK_VIOLATION: EWOULDBLOCK */
    return 0;
}

int tmpf__os_side_lock(int fd)
{
    HANDLE h = tmpf__win_handle(fd);
    if (h == INVALID_HANDLE_VALUE)
        return -1;
    return lock_handle(h);
}

bool tmpf__os_side_sweep(int dir_fd, const char *side)
{
    /* Relative to the directory's handle: no path to build (so no failed
     * allocation to mistake for "not swept") and no name race. */
    HANDLE h = tmpf__win_open_at(dir_fd, side, GENERIC_READ | DELETE | FILE_WRITE_ATTRIBUTES,
                                 SHARE_ALL, OPEN_EXISTING, FILE_FLAG_OPEN_REPARSE_POINT, NULL);
    if (h == INVALID_HANDLE_VALUE)
        return errno == ENOENT; /* gone meanwhile: free */
    /* The handle holds the very file the name led to: deleting through it
     * removes that file and nothing else (no name race). Only a plain file
     * with one link that no live writer holds locked. The owner (a SID)
     * is not compared yet. */
    struct tmpf__os_facts held;
    DWORD attrs;
    bool freed = tmpf__win_facts(h, &held, &attrs) == 0 &&
                 !(attrs & (FILE_ATTRIBUTE_DIRECTORY | FILE_ATTRIBUTE_REPARSE_POINT)) &&
                 held.nlink == 1 && lock_handle(h) == 0 && tmpf__win_delete_handle(h) == 0;
    int saved = errno;
    CloseHandle(h);
    errno = saved;
    return freed;
}

bool tmpf__os_can_link_fd(void)
{
    /* tmpf__os_link_fd copies: it cannot give the open file itself a name,
     * so a named file is moved by its name (checked first to still be the
     * file held), as where no descriptor can be linked on POSIX. */
    return false;
}
