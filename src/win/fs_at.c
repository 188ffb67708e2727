/* The directory-relative calls of the layer on Windows (persist, sweep,
 * directory persist, copies across volumes). A directory descriptor is a
 * CRT descriptor of a directory handle; a plainly relative name is opened
 * relative to that handle (tmpf__win_open_at: NtCreateFile with
 * RootDirectory, race-free like POSIX *at), anything else by path. */
#include "win.h"

#include <errno.h>
#include <fcntl.h>
#include <io.h>
#include <stdlib.h>
#include <string.h>

#define SHARE_ALL (FILE_SHARE_READ | FILE_SHARE_WRITE | FILE_SHARE_DELETE)

/* name from dir_fd, followed or not, with access. */
static HANDLE open_at_how(int dir_fd, const char *name, DWORD access, bool follow)
{
    DWORD flags = FILE_FLAG_BACKUP_SEMANTICS | (follow ? 0 : FILE_FLAG_OPEN_REPARSE_POINT);
    return tmpf__win_open_at(dir_fd, name, access, SHARE_ALL, OPEN_EXISTING, flags, NULL);
}

/* name (not followed) from dir_fd, for reading attributes only. */
static HANDLE open_at(int dir_fd, const char *name, DWORD access)
{
    return open_at_how(dir_fd, name, access, false);
}

static int close_keep_errno(HANDLE h, int rc)
{
    int saved = errno;
    CloseHandle(h);
    errno = saved;
    return rc;
}

int tmpf__os_ident(int fd, const char *path, uint64_t *dev, uint64_t *ino)
{
    struct tmpf__os_facts f;
    int rc = fd >= 0 ? tmpf__os_facts_fd(fd, &f) : tmpf__os_facts_path(path, false, &f);
    if (rc == 0) {
        *dev = f.id.dev;
        *ino = f.id.ino;
    }
    return rc;
}

int tmpf__os_lock_shared(int fd)
{
    HANDLE h = tmpf__win_handle(fd);
    if (h == INVALID_HANDLE_VALUE)
        return -1;
    /* The same far byte as the exclusive side lock (persist_os.c). */
    OVERLAPPED ov = {0};
    ov.Offset = 0xfffffffeu;
    ov.OffsetHigh = 0x7fffffffu;
    if (LockFileEx(h, 0, 0, 1, 0, &ov))
        return 0;
    DWORD err = GetLastError();
    /* A directory takes no byte lock: the handle held on it for the
     * directory's life (FILE_LIST_DIRECTORY) is what tmpf_sweep sees
     * instead, as an open that shares nothing is refused while it lasts. */
    FILE_BASIC_INFO bi;
    if (GetFileInformationByHandleEx(h, FileBasicInfo, &bi, sizeof bi) &&
        (bi.FileAttributes & FILE_ATTRIBUTE_DIRECTORY))
        return 0;
    errno = tmpf__win_errno(err);
    return -1;
}

int tmpf__os_make_dir_at(int dir_fd, const char *name, unsigned perm)
{
    /* No group or other bits: the owner-only DACL, as tmpf__os_create_dir. */
    SECURITY_ATTRIBUTES sa = {sizeof sa, NULL, FALSE};
    if (!(perm & 077) && !(sa.lpSecurityDescriptor = tmpf__win_owner_only_sd()))
        return -1;
    /* Made relative to the directory's handle (a directory renamed or
     * replaced since it was opened still receives it), as mkdirat. */
    HANDLE h = tmpf__win_open_at(dir_fd, name, FILE_READ_ATTRIBUTES, SHARE_ALL, CREATE_NEW,
                                 FILE_FLAG_BACKUP_SEMANTICS | TMPF__WIN_MAKE_DIR, &sa);
    int saved = errno;
    if (sa.lpSecurityDescriptor)
        LocalFree(sa.lpSecurityDescriptor);
    if (h == INVALID_HANDLE_VALUE) {
        errno = saved;
        return -1;
    }
    CloseHandle(h);
    return 0;
}

int tmpf__os_is_dir_at(int dir_fd, const char *name)
{
    HANDLE h = open_at(dir_fd, name, FILE_READ_ATTRIBUTES);
    if (h == INVALID_HANDLE_VALUE)
        return -1;
    DWORD attrs;
    int rc = tmpf__win_facts(h, NULL, &attrs);
    if (rc == 0)
        rc = (attrs & FILE_ATTRIBUTE_DIRECTORY) && !(attrs & FILE_ATTRIBUTE_REPARSE_POINT);
    return close_keep_errno(h, rc);
}

int tmpf__os_is_file_at(int dir_fd, const char *name, int fd)
{
    struct tmpf__os_facts held, named;
    if (tmpf__os_facts_fd(fd, &held) != 0)
        return -1;
    HANDLE h = open_at(dir_fd, name, FILE_READ_ATTRIBUTES);
    if (h == INVALID_HANDLE_VALUE)
        return errno == ENOENT ? 0 : -1;
    int rc = tmpf__win_facts(h, &named, NULL);
    if (rc == 0)
        rc = named.id.dev == held.id.dev && named.id.ino == held.id.ino;
    return close_keep_errno(h, rc);
}

int tmpf__os_unlink_if_file(int dir_fd, const char *name, int fd)
{
    struct tmpf__os_facts held, named;
    if (tmpf__os_facts_fd(fd, &held) != 0)
        return -1;
    /* Checked and deleted through one handle: no window between the two. */
    HANDLE h = open_at(dir_fd, name, DELETE | FILE_READ_ATTRIBUTES | FILE_WRITE_ATTRIBUTES);
    if (h == INVALID_HANDLE_VALUE)
        return errno == ENOENT ? 0 : -1;
    int rc = tmpf__win_facts(h, &named, NULL);
    if (rc == 0 && named.id.dev == held.id.dev && named.id.ino == held.id.ino)
        rc = tmpf__win_delete_handle(h) == 0 ? 1 : -1;
    return close_keep_errno(h, rc);
}

int tmpf__os_same_device(int fd1, int fd2)
{
    struct tmpf__os_facts a, b;
    if (tmpf__os_facts_fd(fd1, &a) != 0 || tmpf__os_facts_fd(fd2, &b) != 0)
        return -1;
    return a.id.dev == b.id.dev;
}

int tmpf__os_other_device_at(int fd, int dir_fd, const char *name)
{
    struct tmpf__os_facts a, b;
    if (tmpf__os_facts_fd(fd, &a) != 0)
        return -1;
    HANDLE h = open_at(dir_fd, name, FILE_READ_ATTRIBUTES);
    if (h == INVALID_HANDLE_VALUE)
        return -1;
    int rc = tmpf__win_facts(h, &b, NULL);
    if (rc == 0)
        rc = a.id.dev != b.id.dev;
    return close_keep_errno(h, rc);
}

/* Calls fn for each name in the directory open as h (not . and ..). */
static int each_entry(HANDLE h, int (*fn)(const wchar_t *name, size_t len, void *ctx), void *ctx)
{
    enum { BUF = 16 * 1024 };
    DWORD *buf = tmpf__malloc(BUF);
    if (!buf)
        return -1;
    FILE_INFO_BY_HANDLE_CLASS cls = FileIdBothDirectoryRestartInfo;
    int rc = 0;
    while (rc == 0) {
        if (!GetFileInformationByHandleEx(h, cls, buf, BUF)) {
            if (GetLastError() != ERROR_NO_MORE_FILES)
                rc = tmpf__win_fail();
            break;
        }
        cls = FileIdBothDirectoryInfo;
        const unsigned char *p = (const unsigned char *)buf;
        for (;;) {
            const FILE_ID_BOTH_DIR_INFO *e = (const FILE_ID_BOTH_DIR_INFO *)p;
            size_t len = e->FileNameLength / sizeof(wchar_t);
            bool dots = (len == 1 && e->FileName[0] == L'.') ||
                        (len == 2 && e->FileName[0] == L'.' && e->FileName[1] == L'.');
            if (!dots && (rc = fn(e->FileName, len, ctx)) != 0)
                break;
            if (e->NextEntryOffset == 0)
                break;
            p += e->NextEntryOffset;
        }
    }
    int saved = errno;
    free(buf);
    errno = saved;
    return rc;
}

static int found_one(const wchar_t *name, size_t len, void *ctx)
{
    (void)name;
    (void)len;
    *(bool *)ctx = true;
    return 1; /* stop */
}

int tmpf__os_dir_is_empty(int dir_fd)
{
    HANDLE h = tmpf__win_handle(dir_fd);
    if (h == INVALID_HANDLE_VALUE)
        return -1;
    bool any = false;
    if (each_entry(h, found_one, &any) < 0)
        return -1;
    return !any;
}

struct list_ctx {
    int dir_fd;
    int (*fn)(int dir_fd, const char *name, void *ctx);
    void *ctx;
};

static int list_one(const wchar_t *name, size_t len, void *ctx)
{
    struct list_ctx *c = ctx;
    char *u = tmpf__win_utf8(name, (int)len);
    if (!u)
        return -1;
    int rc = c->fn(c->dir_fd, u, c->ctx);
    free(u);
    return rc;
}

int tmpf__os_list_dir(const char *dir, int (*fn)(int dir_fd, const char *name, void *ctx),
                      void *ctx)
{
    int dir_fd = tmpf__os_open_dir_nofollow(dir);
    if (dir_fd < 0)
        return -1;
    struct list_ctx c = {dir_fd, fn, ctx};
    int rc = each_entry(tmpf__win_handle(dir_fd), list_one, &c);
    int saved = errno;
    tmpf__os_close(dir_fd);
    errno = saved;
    return rc < 0 ? -1 : 0;
}

int tmpf__os_rename_dir_noreplace(int from_dir, const char *from, int to_dir,
                                  const char *to)
{
    /* MoveFileExW without replace never replaces anything, directories
     * included. */
    return tmpf__os_rename_noreplace(from_dir, from, to_dir, to);
}

int tmpf__os_rename_exchange(int from_dir, const char *from, int to_dir,
                             const char *to)
{
    (void)from_dir, (void)from, (void)to_dir, (void)to;
    errno = ENOTSUP; /* no atomic exchange of two names on Windows */
    return -1;
}

int tmpf__os_replace_fd(int fd, int new_fd)
{
    int64_t at = _lseeki64(fd, 0, SEEK_CUR);
    if (at < 0 || _lseeki64(new_fd, at, SEEK_SET) < 0 || _dup2(new_fd, fd) != 0)
        return -1;
    return tmpf__os_close(new_fd);
}

void tmpf__os_sync_files(const int *fds, int *errs, size_t n)
{
    /* One after the other (no concurrent writeback start on Windows). */
    for (size_t i = 0; i < n; i++)
        errs[i] = tmpf__os_fsync(fds[i], false) == 0 ? 0 : errno;
}

int tmpf__os_copy_data(int from, int to)
{
    HANDLE src = tmpf__win_handle(from), dst = tmpf__win_handle(to);
    if (src == INVALID_HANDLE_VALUE || dst == INVALID_HANDLE_VALUE)
        return -1;
    HANDLE r = ReOpenFile(src, GENERIC_READ, SHARE_ALL, 0); /* from's offset stays */
    if (r == INVALID_HANDLE_VALUE)
        return tmpf__win_fail();
    enum { CHUNK = 1 << 16 };
    unsigned char *buf = tmpf__malloc(CHUNK);
    int rc = buf ? 0 : -1;
    LARGE_INTEGER zero = {0};
    if (rc == 0 && !SetFilePointerEx(dst, zero, NULL, FILE_BEGIN))
        rc = tmpf__win_fail();
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
    if (rc == 0 && !SetEndOfFile(dst)) /* holes are not kept: gap */
        rc = tmpf__win_fail();
    int saved = errno;
    free(buf);
    CloseHandle(r);
    errno = saved;
    return rc;
}

/* ---- persist.c's own calls (issue 18) ------------------------------------ */

int tmpf__os_facts_at(int dir_fd, const char *name, bool follow,
                      struct tmpf__os_facts *ret)
{
    HANDLE h = open_at_how(dir_fd, name, FILE_READ_ATTRIBUTES, follow);
    if (h == INVALID_HANDLE_VALUE)
        return -1;
    ret->gid = 0; /* no POSIX group (tmpf__win_facts leaves it) */
    return close_keep_errno(h, tmpf__win_facts(h, ret, NULL));
}

bool tmpf__os_facts_is_regular(const struct tmpf__os_facts *f)
{
    return (f->mode & 0170000u) == 0100000u; /* tmpf__win_facts' encoding */
}

int tmpf__os_chmod_fd(int fd, unsigned perm)
{
    /* Of the permission bits only "writable by the owner" has a Windows
     * meaning: the read-only attribute. */
    HANDLE h = tmpf__win_handle(fd);
    if (h == INVALID_HANDLE_VALUE)
        return -1;
    FILE_BASIC_INFO bi;
    if (!GetFileInformationByHandleEx(h, FileBasicInfo, &bi, sizeof bi))
        return tmpf__win_fail();
    DWORD want = perm & 0200 ? bi.FileAttributes & ~(DWORD)FILE_ATTRIBUTE_READONLY
                             : bi.FileAttributes | FILE_ATTRIBUTE_READONLY;
    if (want == bi.FileAttributes)
        return 0;
    bi.FileAttributes = want ? want : FILE_ATTRIBUTE_NORMAL;
    /* Zero times: left as they are. */
    bi.CreationTime.QuadPart = bi.LastAccessTime.QuadPart = 0;
    bi.LastWriteTime.QuadPart = bi.ChangeTime.QuadPart = 0;
    if (!SetFileInformationByHandle(h, FileBasicInfo, &bi, sizeof bi))
        return tmpf__win_fail();
    return 0;
}

int tmpf__os_unlink_at(int dir_fd, const char *name)
{
    /* Opened relative to the directory's handle (not followed) and deleted
     * through that handle: the entry the name leads to in the directory
     * held, whatever was renamed since. Not a directory, as unlinkat. */
    HANDLE h = open_at(dir_fd, name, DELETE | FILE_READ_ATTRIBUTES | FILE_WRITE_ATTRIBUTES);
    if (h == INVALID_HANDLE_VALUE)
        return -1;
    DWORD attrs;
    int rc = tmpf__win_facts(h, NULL, &attrs);
    if (rc == 0 && (attrs & FILE_ATTRIBUTE_DIRECTORY) && !(attrs & FILE_ATTRIBUTE_REPARSE_POINT)) {
        errno = EISDIR;
        rc = -1;
    }
    if (rc == 0)
        rc = tmpf__win_delete_handle(h);
    return close_keep_errno(h, rc);
}

int tmpf__os_open_read_nofollow(const char *path)
{
    HANDLE h = open_at(AT_FDCWD, path, GENERIC_READ);
    if (h == INVALID_HANDLE_VALUE)
        return -1;
    DWORD attrs;
    if (tmpf__win_facts(h, NULL, &attrs) != 0)
        return close_keep_errno(h, -1);
    if (attrs & (FILE_ATTRIBUTE_REPARSE_POINT | FILE_ATTRIBUTE_DIRECTORY)) {
        /* As O_NOFOLLOW says for a symlink; open(2) of a directory for
         * reading would succeed, but persist wants a file. */
        errno = attrs & FILE_ATTRIBUTE_REPARSE_POINT ? ELOOP : EISDIR;
        return close_keep_errno(h, -1);
    }
    return tmpf__win_fd(h, _O_RDONLY | _O_BINARY);
}

int tmpf__os_reopen_read(int fd)
{
    return tmpf__os_reopen_fd(fd, _O_RDONLY);
}
