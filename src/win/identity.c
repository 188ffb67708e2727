/* System primitives of the identity checks on Windows: a file's identity
 * is its volume serial number and file index (what Go's os.SameFile and
 * Rust's same-file compare); a POSIX-like mode is made up from the
 * attributes (directory, read-only, reparse point). */
#include "win.h"

#include <errno.h>
#include <fcntl.h>
#include <io.h>
#include <stdlib.h>

int tmpf__os_facts_fd(int fd, struct tmpf__os_facts *ret)
{
    HANDLE h = tmpf__win_handle(fd);
    if (h == INVALID_HANDLE_VALUE)
        return -1;
    return tmpf__win_facts(h, ret, NULL);
}

/* A handle for reading attributes only: it blocks nobody. */
static HANDLE open_attrs(const char *path, bool follow)
{
    wchar_t *w = tmpf__win_wpath(path);
    if (!w)
        return INVALID_HANDLE_VALUE;
    DWORD flags = FILE_FLAG_BACKUP_SEMANTICS | (follow ? 0 : FILE_FLAG_OPEN_REPARSE_POINT);
    HANDLE h = CreateFileW(w, FILE_READ_ATTRIBUTES,
                           FILE_SHARE_READ | FILE_SHARE_WRITE | FILE_SHARE_DELETE, NULL,
                           OPEN_EXISTING, flags, NULL);
    if (h == INVALID_HANDLE_VALUE)
        tmpf__win_fail();
    free(w);
    return h;
}

int tmpf__os_facts_path(const char *path, bool follow, struct tmpf__os_facts *ret)
{
    HANDLE h = open_attrs(path, follow);
    if (h == INVALID_HANDLE_VALUE)
        return -1;
    int rc = tmpf__win_facts(h, ret, NULL);
    int saved = errno;
    CloseHandle(h);
    errno = saved;
    return rc;
}

bool tmpf__os_facts_is_dir(const struct tmpf__os_facts *f)
{
    return (f->mode & 0170000u) == 0040000u;
}

bool tmpf__os_facts_shared_writable(const struct tmpf__os_facts *f)
{
    /* Who may rename entries is a matter of the directory's DACL (an
     * Everyone/Users/Authenticated Users ACE with FILE_ADD_FILE or
     * FILE_DELETE_CHILD): not read yet (docs/windows-status.md). */
    (void)f;
    return false;
}

unsigned tmpf__os_euid(void) { return 0; }

int tmpf__os_open_dir_nofollow(const char *path)
{
    wchar_t *w = tmpf__win_wpath(path);
    if (!w)
        return -1;
    HANDLE h = CreateFileW(w, FILE_LIST_DIRECTORY | FILE_READ_ATTRIBUTES | SYNCHRONIZE,
                           FILE_SHARE_READ | FILE_SHARE_WRITE | FILE_SHARE_DELETE, NULL,
                           OPEN_EXISTING,
                           FILE_FLAG_BACKUP_SEMANTICS | FILE_FLAG_OPEN_REPARSE_POINT, NULL);
    DWORD err = GetLastError();
    free(w);
    if (h == INVALID_HANDLE_VALUE) {
        errno = tmpf__win_errno(err);
        return -1;
    }
    DWORD attrs;
    if (tmpf__win_facts(h, NULL, &attrs) != 0 || (attrs & FILE_ATTRIBUTE_REPARSE_POINT) ||
        !(attrs & FILE_ATTRIBUTE_DIRECTORY)) {
        int e = attrs & FILE_ATTRIBUTE_REPARSE_POINT ? ELOOP : ENOTDIR;
        CloseHandle(h);
        errno = e;
        return -1;
    }
    return tmpf__win_fd(h, _O_RDONLY | _O_BINARY);
}
