/* Whole trees for tmpf_dir_persist on Windows: flushing every file below a
 * directory (TMPF_DURABLE), and copying a tree to another volume
 * (TMPF_ACROSS_FS). Both go by handle from the directory handles they are
 * given: each directory is listed through its handle, each entry opened
 * relative to it (NtCreateFile with RootDirectory) and never followed
 * (FILE_FLAG_OPEN_REPARSE_POINT: the flush passes over a link, by its
 * tag, and the copy refuses any reparse point, ENOTSUP: its data read
 * through such a handle may be the reparse point's, not the file's); no
 * path is built or looked up. Directories need no flush:
 * NTFS journals its metadata, and FlushFileBuffers on a directory wants a
 * handle opened for writing; each directory still counts one (no-op) sync
 * for tmpf__test_fsync_count, as tmpf__os_fsync(fd, true) does, so the
 * count is the POSIX one. */
#include "win.h"

#include <errno.h>

#define SHARE_ALL (FILE_SHARE_READ | FILE_SHARE_WRITE | FILE_SHARE_DELETE)
/* What the flush opens an entry with: listing (a directory), attributes
 * (the read-only one lifted for the flush). */
#define SYNC_ACCESS (FILE_LIST_DIRECTORY | FILE_READ_ATTRIBUTES | FILE_WRITE_ATTRIBUTES)

/* Entry e of the directory open as dir, opened as itself (a link is not
 * followed). */
static HANDLE open_entry(HANDLE dir, const struct tmpf__win_entry *e, DWORD access)
{
    return tmpf__win_open_rel(dir, e->name, e->len, access, SHARE_ALL, OPEN_EXISTING,
                              FILE_FLAG_BACKUP_SEMANTICS | FILE_FLAG_OPEN_REPARSE_POINT, NULL);
}

/* Sets the attributes (and, with times, the last write time of times) of
 * the file open as h (with FILE_WRITE_ATTRIBUTES). */
static int set_basic(HANDLE h, DWORD attrs, const FILE_BASIC_INFO *times)
{
    FILE_BASIC_INFO bi = {0}; /* zero times: left as they are */
    if (times)
        bi.LastWriteTime = times->LastWriteTime;
    bi.FileAttributes = attrs ? attrs : FILE_ATTRIBUTE_NORMAL;
    return SetFileInformationByHandle(h, FileBasicInfo, &bi, sizeof bi) ? 0 : tmpf__win_fail();
}

/* Flushes the file e of dir, h being its handle (with
 * FILE_WRITE_ATTRIBUTES): FlushFileBuffers wants GENERIC_WRITE, which a
 * read-only file refuses, so its attribute is lifted for the flush and put
 * back. The write handle is opened relative to dir as well. */
static int flush_entry(HANDLE dir, const struct tmpf__win_entry *e, HANDLE h, DWORD attrs)
{
    tmpf__win_count_fsync();
    bool lifted = false;
    if (attrs & FILE_ATTRIBUTE_READONLY) {
        if (set_basic(h, attrs & ~(DWORD)FILE_ATTRIBUTE_READONLY, NULL) != 0)
            return -1;
        lifted = true;
    }
    HANDLE w = open_entry(dir, e, GENERIC_WRITE);
    int rc = 0;
    if (w == INVALID_HANDLE_VALUE) {
        rc = -1;
    } else {
        if (!FlushFileBuffers(w))
            rc = tmpf__win_fail();
        CloseHandle(w);
    }
    int saved = errno;
    if (lifted)
        set_basic(h, attrs, NULL);
    errno = saved;
    return rc;
}

/* Calls fn(dir, e, h, attrs, ctx) for each entry e of the directory open
 * as dir (listed through dir: its position is restarted), h being the
 * entry opened with access (as itself) and attrs its attributes; an entry
 * gone meanwhile is passed over. The first failure ends the walk: -1 with
 * errno. */
static int each(HANDLE dir, DWORD access,
                int (*fn)(HANDLE dir, const struct tmpf__win_entry *e, HANDLE h, DWORD attrs,
                          void *ctx),
                void *ctx)
{
    struct tmpf__win_entry e;
    int got;
    for (bool restart = true; (got = tmpf__win_next_entry(dir, restart, &e)) == 1;
         restart = false) {
        HANDLE h = open_entry(dir, &e, access);
        if (h == INVALID_HANDLE_VALUE) {
            if (errno == ENOENT)
                continue; /* gone meanwhile */
            return -1;
        }
        DWORD attrs;
        int rc = tmpf__win_facts(h, NULL, &attrs);
        if (rc == 0)
            rc = fn(dir, &e, h, attrs, ctx);
        int saved = errno;
        CloseHandle(h);
        errno = saved;
        if (rc != 0)
            return -1;
    }
    return got;
}

static int sync_entry(HANDLE dir, const struct tmpf__win_entry *e, HANDLE h, DWORD attrs,
                      void *ctx)
{
    (void)ctx;
    if (tmpf__win_is_link(h, attrs))
        return 0; /* a link: not followed */
    if (!(attrs & FILE_ATTRIBUTE_DIRECTORY))
        return flush_entry(dir, e, h, attrs);
    int rc = each(h, SYNC_ACCESS, sync_entry, NULL);
    tmpf__win_count_fsync(); /* its own sync: the no-op above, counted as
                                POSIX counts its fsync */
    return rc;
}

int tmpf__os_sync_tree(int dir_fd)
{
    HANDLE h = tmpf__win_handle(dir_fd);
    if (h == INVALID_HANDLE_VALUE)
        return -1;
    if (each(h, SYNC_ACCESS, sync_entry, NULL) != 0)
        return -1;
    return tmpf__os_fsync(dir_fd, true); /* the no-op, counted (as POSIX) */
}

/* Copies entry e of from (open as h, attributes attrs) into the directory
 * open as to (ctx). */
static int copy_entry(HANDLE from, const struct tmpf__win_entry *e, HANDLE h, DWORD attrs,
                      void *ctx)
{
    (void)from;
    HANDLE to = ctx;
    if (attrs & FILE_ATTRIBUTE_REPARSE_POINT) {
        errno = ENOTSUP; /* a link: making one needs a privilege (gap) */
        return -1;
    }
    FILE_BASIC_INFO times;
    if (!GetFileInformationByHandleEx(h, FileBasicInfo, &times, sizeof times))
        return tmpf__win_fail();
    DWORD kept = attrs & (FILE_ATTRIBUTE_READONLY | FILE_ATTRIBUTE_HIDDEN |
                          FILE_ATTRIBUTE_SYSTEM | FILE_ATTRIBUTE_ARCHIVE |
                          FILE_ATTRIBUTE_NOT_CONTENT_INDEXED);
    DWORD access = FILE_READ_ATTRIBUTES | FILE_WRITE_ATTRIBUTES | SYNCHRONIZE;
    /* Inside the new tree: the DACL it inherits there. The attributes
     * (read-only among them) are given once the contents are in. */
    bool dir = attrs & FILE_ATTRIBUTE_DIRECTORY;
    HANDLE d = dir ? tmpf__win_open_rel(to, e->name, e->len,
                                        access | FILE_LIST_DIRECTORY | FILE_ADD_FILE |
                                            FILE_ADD_SUBDIRECTORY,
                                        SHARE_ALL, CREATE_NEW,
                                        TMPF__WIN_MAKE_DIR | FILE_FLAG_BACKUP_SEMANTICS, NULL)
                   : tmpf__win_open_rel(to, e->name, e->len, access | GENERIC_WRITE, SHARE_ALL,
                                        CREATE_NEW, FILE_ATTRIBUTE_NORMAL, NULL);
    if (d == INVALID_HANDLE_VALUE)
        return -1;
    int rc = dir ? each(h, GENERIC_READ, copy_entry, d) : tmpf__win_copy_data(h, d);
    if (rc == 0 && (!dir || kept))
        rc = set_basic(d, kept, dir ? NULL : &times);
    int saved = errno;
    CloseHandle(d);
    errno = saved;
    return rc;
}

int tmpf__os_copy_tree(int from_dir_fd, int to_dir_fd)
{
    HANDLE fh = tmpf__win_handle(from_dir_fd), th = tmpf__win_handle(to_dir_fd);
    if (fh == INVALID_HANDLE_VALUE || th == INVALID_HANDLE_VALUE)
        return -1;
    return each(fh, GENERIC_READ, copy_entry, th);
}
