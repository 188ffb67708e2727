/* System primitives for persist.c on Windows: the move of a file tmpf
 * holds through a handle on that very file (tmpf__os_rename_fd:
 * FileRenameInformationEx with POSIX semantics, else FileRenameInformation),
 * moves by name where no handle exists (relative to a directory handle, else
 * MoveFileExW), naming an unnamed file (a copy: a delete-on-close file
 * cannot be given a name without FileDispositionInfoEx), FlushFileBuffers,
 * and the side name's lock (LockFileEx, released when the handle closes or
 * the process dies). */
#include "win.h"

#include <errno.h>
#include <fcntl.h>
#include <io.h>
#include <stdlib.h>
#include <string.h>
#include <winternl.h>

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

/* 0 when nothing is at to (from to_dir), else -1: EEXIST, or the look's
 * errno. A move that must not replace is refused onto an existing entry
 * (ERROR_ALREADY_EXISTS) except the source's own name (persisting a file
 * again onto the name it has): a move onto itself succeeds, where link(2)
 * and renameat2's RENAME_NOREPLACE say EEXIST. So any existing entry is
 * refused here first; one appearing after this look by the move itself. */
static int refuse_existing(int to_dir, const char *to)
{
    struct tmpf__os_facts st;
    if (tmpf__os_facts_at(to_dir, to, false, &st) == 0) {
        errno = EEXIST;
        return -1;
    }
    return errno == ENOENT ? 0 : -1;
}

int tmpf__os_rename_noreplace(int from_dir, const char *from, int to_dir,
                              const char *to)
{
    if (refuse_existing(to_dir, to) != 0)
        return -1;
    return move_file(from_dir, from, to_dir, to, MOVEFILE_WRITE_THROUGH);
}

int tmpf__os_rename(int from_dir, const char *from, int to_dir, const char *to)
{
    return move_file(from_dir, from, to_dir, to,
                     MOVEFILE_REPLACE_EXISTING | MOVEFILE_WRITE_THROUGH);
}

int tmpf__win_copy_data(HANDLE from, HANDLE to)
{
    enum { CHUNK = 1 << 16 };
    unsigned char *buf = tmpf__malloc(CHUNK);
    int rc = buf ? 0 : -1;
    while (rc == 0) {
        DWORD got, put;
        if (!ReadFile(from, buf, CHUNK, &got, NULL)) {
            rc = tmpf__win_fail();
            break;
        }
        if (got == 0)
            break;
        if (!WriteFile(to, buf, got, &put, NULL) || put != got)
            rc = tmpf__win_fail();
    }
    int saved = errno;
    free(buf);
    errno = saved;
    return rc;
}

/* Copies everything of src (read through its own handle, so the file's
 * offset stays) into dst. */
static int copy_all(HANDLE src, HANDLE dst)
{
    HANDLE r = ReOpenFile(src, GENERIC_READ, SHARE_ALL, 0);
    if (r == INVALID_HANDLE_VALUE)
        return tmpf__win_fail();
    int rc = tmpf__win_copy_data(r, dst);
    int saved = errno;
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
    /* Made relative to the directory's handle (a plain name and a
     * descriptor: persist's TMPF_DURABLE), else by path. */
    HANDLE dst = tmpf__win_open_at(dir_fd, to, GENERIC_WRITE | DELETE, SHARE_ALL, CREATE_NEW,
                                   FILE_ATTRIBUTE_NORMAL, NULL);
    if (dst == INVALID_HANDLE_VALUE)
        return -1;
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

bool tmpf__win_side_free(HANDLE h)
{
    /* The handle holds the very file the name led to: deleting through it
     * removes that file and nothing else (no name race). Only a plain file
     * with one link that no live writer holds locked. The owner (a SID)
     * is not compared yet. */
    struct tmpf__os_facts held;
    DWORD attrs;
    return tmpf__win_facts(h, &held, &attrs) == 0 &&
           !(attrs & (FILE_ATTRIBUTE_DIRECTORY | FILE_ATTRIBUTE_REPARSE_POINT)) &&
           held.nlink == 1 && lock_handle(h) == 0 && tmpf__win_delete_handle(h) == 0;
}

bool tmpf__os_side_sweep(int dir_fd, const char *side)
{
    /* Relative to the directory's handle: no path to build (so no failed
     * allocation to mistake for "not swept") and no name race. */
    HANDLE h = tmpf__win_open_at(dir_fd, side, GENERIC_READ | DELETE | FILE_WRITE_ATTRIBUTES,
                                 SHARE_ALL, OPEN_EXISTING, FILE_FLAG_OPEN_REPARSE_POINT, NULL);
    if (h == INVALID_HANDLE_VALUE)
        return errno == ENOENT; /* gone meanwhile: free */
    bool freed = tmpf__win_side_free(h);
    int saved = errno;
    CloseHandle(h);
    errno = saved;
    return freed;
}

bool tmpf__os_can_link_fd(void)
{
    /* tmpf__os_link_fd copies: it cannot give the open file itself a name,
     * so a named file is moved through a handle of its own instead
     * (tmpf__os_rename_fd). */
    return false;
}

/* ---- the move of a held file, by its handle -------------------------------- */

bool tmpf__os_can_rename_fd(void) { return true; }

/* Same volume serial and file index: the identity checks' (dev, ino). */
static int same_file(HANDLE a, HANDLE b)
{
    struct tmpf__os_facts fa, fb;
    if (tmpf__win_facts(a, &fa, NULL) != 0 || tmpf__win_facts(b, &fb, NULL) != 0)
        return -1;
    return fa.id.dev == fb.id.dev && fa.id.ino == fb.id.ino;
}

/* same_file(h, r), r closed (errno kept) unless it is h's file (1). */
static int same_or_close(HANDLE h, HANDLE r)
{
    int same = same_file(h, r);
    if (same != 1) {
        int saved = errno;
        CloseHandle(r);
        errno = saved;
    }
    return same;
}

/* A name taken as is relative to a directory handle: one component, not
 * "." or "..", no separator, drive or stream colon. */
static bool one_component(const char *name)
{
    return *name && strcmp(name, ".") && strcmp(name, "..") && !strpbrk(name, "\\/:");
}

/* A handle on the directory of the full path w (cut at its last '\\'),
 * for OpenFileById. */
static HANDLE open_parent(wchar_t *w)
{
    wchar_t *cut = wcsrchr(w, L'\\');
    if (!cut) {
        errno = ENOENT;
        return INVALID_HANDLE_VALUE;
    }
    *cut = 0;
    HANDLE h = CreateFileW(w, FILE_READ_ATTRIBUTES, SHARE_ALL, NULL, OPEN_EXISTING,
                           FILE_FLAG_BACKUP_SEMANTICS, NULL);
    if (h == INVALID_HANDLE_VALUE)
        tmpf__win_fail();
    return h;
}

/* A handle on the directory that name (from dir_fd) is in: dir_fd's own
 * (*owned false) or one opened by path (*owned true). */
static HANDLE dir_of(int dir_fd, const char *name, bool *owned)
{
    *owned = false;
    if (dir_fd != AT_FDCWD && one_component(name))
        return tmpf__win_handle(dir_fd);
    wchar_t *w = tmpf__win_wpath_at(dir_fd, name);
    if (!w)
        return INVALID_HANDLE_VALUE;
    HANDLE h = open_parent(w);
    *owned = h != INVALID_HANDLE_VALUE;
    free(w);
    return h;
}

/* The file with ID id, from the volume of hint (a directory: Wine takes no
 * other, and searches only that directory), if it is the file held as h. */
static HANDLE by_id_from(HANDLE h, FILE_ID_DESCRIPTOR *id, DWORD access, HANDLE hint)
{
    HANDLE r = OpenFileById(hint, id, access, SHARE_ALL, NULL, 0);
    if (r == INVALID_HANDLE_VALUE) {
        errno = ESTALE;
        return r;
    }
    int same = same_or_close(h, r);
    if (same == 1)
        return r;
    if (same == 0)
        errno = ESTALE;
    return INVALID_HANDLE_VALUE;
}

/* The file held as h, by its ID, proved to be it; the volume (and, under
 * Wine, the directory searched) from the directory of dir_fd + name, then
 * from the directory of the path h was opened by. */
static HANDLE open_by_id(HANDLE h, DWORD access, int dir_fd, const char *name)
{
    BY_HANDLE_FILE_INFORMATION fi;
    if (!GetFileInformationByHandle(h, &fi)) {
        tmpf__win_fail();
        return INVALID_HANDLE_VALUE;
    }
    FILE_ID_DESCRIPTOR id = {0};
    id.dwSize = sizeof id;
    id.Type = FileIdType;
    id.FileId.QuadPart = (LONGLONG)(((uint64_t)fi.nFileIndexHigh << 32) | fi.nFileIndexLow);
    bool owned;
    HANDLE hint = dir_of(dir_fd, name, &owned);
    HANDLE r = INVALID_HANDLE_VALUE;
    if (hint != INVALID_HANDLE_VALUE) {
        r = by_id_from(h, &id, access, hint);
        if (owned)
            CloseHandle(hint);
        if (r != INVALID_HANDLE_VALUE || errno != ESTALE)
            return r;
    }
    wchar_t *w = tmpf__win_handle_path(h);
    if (!w)
        return INVALID_HANDLE_VALUE;
    hint = open_parent(w);
    free(w);
    if (hint == INVALID_HANDLE_VALUE) {
        errno = ESTALE;
        return hint;
    }
    r = by_id_from(h, &id, access, hint);
    int saved = errno;
    CloseHandle(hint);
    errno = saved;
    return r;
}

HANDLE tmpf__win_reopen_same(HANDLE h, DWORD access, int dir_fd, const char *name)
{
    HANDLE r = ReOpenFile(h, access, SHARE_ALL, 0);
    if (r == INVALID_HANDLE_VALUE) {
        /* Wine reopens by the path the file had when h was opened: after
         * the file was renamed, nothing may be there. */
        DWORD err = GetLastError();
        if (err == ERROR_FILE_NOT_FOUND || err == ERROR_PATH_NOT_FOUND)
            return open_by_id(h, access, dir_fd, name);
        errno = tmpf__win_errno(err);
        return r;
    }
    int same = same_or_close(h, r);
    if (same == 1)
        return r;
    if (same < 0)
        return INVALID_HANDLE_VALUE;
    /* Or another file is there now. */
    return open_by_id(h, access, dir_fd, name);
}

/* NtSetInformationFile's rename classes. FileRenameInformationEx (65,
 * Windows 10 1709+) and its flags are not in mingw-w64's headers; its
 * structure has the layout of FileRenameInformation's (10) with a ULONG of
 * flags where that has its BOOLEAN ReplaceIfExists. */
#define RENAME_CLASS 10
#define RENAME_EX_CLASS 65
#define RENAME_REPLACE_IF_EXISTS 0x1
#define RENAME_POSIX_SEMANTICS 0x2
#define RENAME_IGNORE_READONLY_ATTRIBUTE 0x40
struct rename_info {
    ULONG flags; /* FileRenameInformation: ReplaceIfExists in the first byte */
    HANDLE root;
    ULONG length; /* bytes */
    WCHAR name[];
};
/* NTSTATUS values meaning "this system has no such class". */
#define STATUS_NOT_IMPLEMENTED_ ((LONG)0xC0000002)
#define STATUS_INVALID_INFO_CLASS_ ((LONG)0xC0000003)
#define STATUS_INVALID_PARAMETER_ ((LONG)0xC000000D)
#define STATUS_NOT_SUPPORTED_ ((LONG)0xC00000BB)

/* Set once FileRenameInformationEx was refused as unknown (Wine 8 says
 * STATUS_NOT_IMPLEMENTED; Windows before 10 1709 an invalid class): later
 * moves go straight to FileRenameInformation. */
static atomic_bool no_rename_ex;

bool tmpf__test_rename_ex_fell_back(void)
{
    return atomic_load_explicit(&no_rename_ex, memory_order_relaxed);
}

/* info (its name set) through h: FileRenameInformationEx where the system
 * has it, else FileRenameInformation. An NTSTATUS. */
static LONG rename_handle(HANDLE h, struct rename_info *info, ULONG size, bool replace)
{
    if (!atomic_load_explicit(&no_rename_ex, memory_order_relaxed)) {
        /* POSIX semantics: a target that others hold open (sharing
         * deletion) is replaced all the same, and a read-only one too. */
        info->flags = replace ? RENAME_REPLACE_IF_EXISTS | RENAME_POSIX_SEMANTICS |
                                    RENAME_IGNORE_READONLY_ATTRIBUTE
                              : RENAME_POSIX_SEMANTICS;
        LONG status = tmpf__win_set_information(h, info, size, RENAME_EX_CLASS);
        if (status != STATUS_NOT_IMPLEMENTED_ && status != STATUS_INVALID_INFO_CLASS_ &&
            status != STATUS_INVALID_PARAMETER_ && status != STATUS_NOT_SUPPORTED_)
            return status;
        /* A volume that refuses the flags (FAT) is no reason to stop
         * trying them on the next. */
        if (status != STATUS_NOT_SUPPORTED_)
            atomic_store_explicit(&no_rename_ex, true, memory_order_relaxed);
    }
    info->flags = 0;
    *(BOOLEAN *)&info->flags = replace;
    return tmpf__win_set_information(h, info, size, RENAME_CLASS);
}

/* The file is about to be kept: FILE_ATTRIBUTE_TEMPORARY (which lets the
 * cache hold its data back from the disk) goes, whether or not a target is
 * replaced (attrs_os.c drops it there too, with the target's attributes). */
static int drop_temporary(HANDLE h)
{
    FILE_BASIC_INFO bi;
    if (!GetFileInformationByHandleEx(h, FileBasicInfo, &bi, sizeof bi))
        return tmpf__win_fail();
    if (!(bi.FileAttributes & FILE_ATTRIBUTE_TEMPORARY))
        return 0;
    FILE_BASIC_INFO set = {0}; /* zero times: left as they are */
    set.FileAttributes = bi.FileAttributes & ~(DWORD)FILE_ATTRIBUTE_TEMPORARY;
    if (!set.FileAttributes)
        set.FileAttributes = FILE_ATTRIBUTE_NORMAL;
    return SetFileInformationByHandle(h, FileBasicInfo, &set, sizeof set) ? 0
                                                                         : tmpf__win_fail();
}

int tmpf__os_rename_fd(int fd, int to_dir, const char *to, bool replace)
{
    HANDLE held = tmpf__win_handle(fd);
    if (held == INVALID_HANDLE_VALUE)
        return -1;
    if (!replace && refuse_existing(to_dir, to) != 0)
        return -1;
    /* The new name: relative to the directory's handle where there is
     * one, else the full NT path (\??\C:\..., from \\?\C:\...). */
    bool relative = to_dir != AT_FDCWD && one_component(to);
    wchar_t *w = NULL;
    size_t n;
    if (relative) {
        int len = MultiByteToWideChar(CP_UTF8, MB_ERR_INVALID_CHARS, to, -1, NULL, 0);
        if (len <= 0) {
            errno = EINVAL;
            return -1;
        }
        n = (size_t)len - 1;
        w = tmpf__malloc((size_t)len * sizeof *w);
        if (w)
            MultiByteToWideChar(CP_UTF8, MB_ERR_INVALID_CHARS, to, -1, w, len);
    } else {
        w = tmpf__win_wpath_at(to_dir, to);
        n = w ? wcslen(w) : 0;
        if (n >= 4 && !wcsncmp(w, L"\\\\?\\", 4))
            w[1] = L'?';
    }
    if (!w)
        return -1;
    size_t size = sizeof(struct rename_info) + n * sizeof(WCHAR);
    struct rename_info *info = tmpf__calloc(1, size);
    HANDLE h = INVALID_HANDLE_VALUE;
    int rc = -1;
    if (info) {
        memcpy(info->name, w, n * sizeof(WCHAR));
        info->length = (ULONG)(n * sizeof(WCHAR));
        info->root = relative ? tmpf__win_handle(to_dir) : NULL;
        /* A handle of its own that may rename (the main one has no DELETE
         * access, so that plain-fopen readers may open the name), proved to
         * be the file held. */
        h = tmpf__win_reopen_same(held, DELETE | SYNCHRONIZE | FILE_READ_ATTRIBUTES |
                                            FILE_WRITE_ATTRIBUTES,
                                  to_dir, to);
    }
    if (h != INVALID_HANDLE_VALUE && drop_temporary(h) != 0) {
        CloseHandle(h);
        h = INVALID_HANDLE_VALUE;
    }
    if (h != INVALID_HANDLE_VALUE) {
        LONG status = rename_handle(h, info, (ULONG)size, replace);
        rc = status >= 0 ? 0 : tmpf__win_nt_fail(status);
        CloseHandle(h);
    }
    int saved = errno;
    free(info);
    free(w);
    errno = saved;
    return rc;
}
