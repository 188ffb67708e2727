/* Whole trees for tmpf_dir_persist on Windows: flushing every file below a
 * directory (TMPF_DURABLE), and copying a tree to another volume
 * (TMPF_ACROSS_FS). Both walk by path below the directory handle's final
 * path, never entering a reparse point (symlink, junction, mount point).
 * Directories need no flush: NTFS journals its metadata, and
 * FlushFileBuffers on a directory wants a handle opened for writing; each
 * directory still counts one (no-op) sync for tmpf__test_fsync_count, as
 * tmpf__os_fsync(fd, true) does, so the count is the POSIX one. */
#include "win.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <wchar.h>

#define SHARE_ALL (FILE_SHARE_READ | FILE_SHARE_WRITE | FILE_SHARE_DELETE)

/* dir + '\' + name, malloc'd. */
static wchar_t *child(const wchar_t *dir, const wchar_t *name)
{
    size_t dn = wcslen(dir), nn = wcslen(name);
    wchar_t *w = tmpf__malloc((dn + 1 + nn + 1) * sizeof *w);
    if (!w)
        return NULL;
    memcpy(w, dir, dn * sizeof *w);
    w[dn] = L'\\';
    memcpy(w + dn + 1, name, (nn + 1) * sizeof *w);
    return w;
}

/* Calls fn(dir, entry) for each entry of dir but "." and "..": the first
 * nonzero result ends the walk and is returned (-1 with errno). */
static int each(const wchar_t *dir, int (*fn)(const wchar_t *dir, const WIN32_FIND_DATAW *e,
                                              void *ctx),
                void *ctx)
{
    wchar_t *pattern = child(dir, L"*");
    if (!pattern)
        return -1;
    WIN32_FIND_DATAW e;
    HANDLE f = FindFirstFileExW(pattern, FindExInfoBasic, &e, FindExSearchNameMatch, NULL, 0);
    free(pattern);
    if (f == INVALID_HANDLE_VALUE)
        return tmpf__win_fail();
    int rc = 0;
    do {
        if (!wcscmp(e.cFileName, L".") || !wcscmp(e.cFileName, L".."))
            continue;
        rc = fn(dir, &e, ctx);
    } while (rc == 0 && FindNextFileW(f, &e));
    DWORD err = GetLastError();
    FindClose(f);
    if (rc == 0 && err != ERROR_NO_MORE_FILES) {
        errno = tmpf__win_errno(err);
        rc = -1;
    }
    return rc;
}

/* FlushFileBuffers wants GENERIC_WRITE, which a read-only file refuses:
 * its attribute is lifted for the flush and put back. */
static int flush_file(const wchar_t *path, DWORD attrs)
{
    tmpf__win_count_fsync();
    bool lifted = false;
    if (attrs & FILE_ATTRIBUTE_READONLY) {
        DWORD rw = attrs & ~(DWORD)FILE_ATTRIBUTE_READONLY;
        if (!SetFileAttributesW(path, rw ? rw : FILE_ATTRIBUTE_NORMAL))
            return tmpf__win_fail();
        lifted = true;
    }
    HANDLE h = CreateFileW(path, GENERIC_WRITE, SHARE_ALL, NULL, OPEN_EXISTING,
                           FILE_FLAG_OPEN_REPARSE_POINT, NULL);
    int rc = 0;
    if (h == INVALID_HANDLE_VALUE) {
        rc = tmpf__win_fail();
    } else {
        if (!FlushFileBuffers(h))
            rc = tmpf__win_fail();
        CloseHandle(h);
    }
    int saved = errno;
    if (lifted)
        SetFileAttributesW(path, attrs);
    errno = saved;
    return rc;
}

static int sync_entry(const wchar_t *dir, const WIN32_FIND_DATAW *e, void *ctx)
{
    (void)ctx;
    if (e->dwFileAttributes & FILE_ATTRIBUTE_REPARSE_POINT)
        return 0; /* a link: never followed */
    wchar_t *path = child(dir, e->cFileName);
    if (!path)
        return -1;
    int rc;
    if (e->dwFileAttributes & FILE_ATTRIBUTE_DIRECTORY) {
        rc = each(path, sync_entry, NULL);
        tmpf__win_count_fsync(); /* its own sync: the no-op above, counted
                                    as POSIX counts its fsync */
    } else {
        rc = flush_file(path, e->dwFileAttributes);
    }
    int saved = errno;
    free(path);
    errno = saved;
    return rc;
}

int tmpf__os_sync_tree(int dir_fd)
{
    HANDLE h = tmpf__win_handle(dir_fd);
    if (h == INVALID_HANDLE_VALUE)
        return -1;
    wchar_t *dir = tmpf__win_handle_path(h);
    if (!dir)
        return -1;
    int rc = each(dir, sync_entry, NULL);
    int saved = errno;
    free(dir);
    errno = saved;
    if (rc != 0)
        return rc;
    return tmpf__os_fsync(dir_fd, true); /* the no-op, counted (as POSIX) */
}

/* Copies entry e of from_dir into to_dir (ctx). */
static int copy_entry(const wchar_t *from_dir, const WIN32_FIND_DATAW *e, void *ctx)
{
    const wchar_t *to_dir = ctx;
    if (e->dwFileAttributes & FILE_ATTRIBUTE_REPARSE_POINT) {
        errno = ENOTSUP; /* a link: making one needs a privilege (gap) */
        return -1;
    }
    wchar_t *from = child(from_dir, e->cFileName);
    wchar_t *to = from ? child(to_dir, e->cFileName) : NULL;
    int rc = -1;
    if (!to) {
        /* errno set */
    } else if (e->dwFileAttributes & FILE_ATTRIBUTE_DIRECTORY) {
        /* Inside the new tree: the DACL it inherits there. The read-only
         * attribute is given once the contents are in. */
        rc = CreateDirectoryW(to, NULL) ? each(from, copy_entry, to) : tmpf__win_fail();
        if (rc == 0 && (e->dwFileAttributes & FILE_ATTRIBUTE_READONLY) &&
            !SetFileAttributesW(to, e->dwFileAttributes & ~(DWORD)FILE_ATTRIBUTE_DIRECTORY))
            rc = tmpf__win_fail();
    } else {
        /* Data, alternate streams, attributes (read-only included). */
        rc = CopyFileExW(from, to, NULL, NULL, NULL, COPY_FILE_FAIL_IF_EXISTS) ? 0
                                                                               : tmpf__win_fail();
    }
    int saved = errno;
    free(from);
    free(to);
    errno = saved;
    return rc;
}

int tmpf__os_copy_tree(int from_dir_fd, int to_dir_fd)
{
    HANDLE fh = tmpf__win_handle(from_dir_fd), th = tmpf__win_handle(to_dir_fd);
    if (fh == INVALID_HANDLE_VALUE || th == INVALID_HANDLE_VALUE)
        return -1;
    wchar_t *from = tmpf__win_handle_path(fh);
    wchar_t *to = from ? tmpf__win_handle_path(th) : NULL;
    int rc = to ? each(from, copy_entry, to) : -1;
    int saved = errno;
    free(from);
    free(to);
    errno = saved;
    return rc;
}
