/* A second, independent descriptor on an open temporary file: by name
 * (checked to be the same file), or ReOpenFile of the handle (works for
 * unnamed, delete-on-close files too). */
#include "win.h"

#include <errno.h>
#include <fcntl.h>
#include <io.h>
#include <stdlib.h>

static DWORD access_of(int flags)
{
    switch (flags & (_O_RDONLY | _O_WRONLY | _O_RDWR)) {
    case _O_WRONLY:
        return GENERIC_WRITE;
    case _O_RDWR:
        return GENERIC_READ | GENERIC_WRITE;
    default:
        return GENERIC_READ;
    }
}

static int crt_flags(int flags)
{
    return (flags & (_O_RDONLY | _O_WRONLY | _O_RDWR | _O_APPEND)) | _O_BINARY;
}

bool tmpf__os_reopen_flags_ok(int flags)
{
    /* One access mode, and besides it only _O_APPEND and _O_NOINHERIT (the
     * C runtime's close-on-exec; the new handle is never inherited anyway). */
    int acc = flags & (_O_RDONLY | _O_WRONLY | _O_RDWR);
    return !(flags & ~(_O_RDONLY | _O_WRONLY | _O_RDWR | _O_APPEND | _O_NOINHERIT)) &&
           (acc == _O_RDONLY || acc == _O_WRONLY || acc == _O_RDWR);
}

#define SHARE_ALL (FILE_SHARE_READ | FILE_SHARE_WRITE | FILE_SHARE_DELETE)

int tmpf__os_reopen_path(const char *path, int fd, int flags)
{
    HANDLE held = tmpf__win_handle(fd);
    if (held == INVALID_HANDLE_VALUE)
        return -1;
    wchar_t *w = tmpf__win_wpath(path);
    if (!w)
        return -1;
    HANDLE h = CreateFileW(w, access_of(flags), SHARE_ALL, NULL, OPEN_EXISTING,
                           FILE_FLAG_OPEN_REPARSE_POINT, NULL);
    DWORD err = GetLastError();
    free(w);
    if (h == INVALID_HANDLE_VALUE) {
        errno = tmpf__win_errno(err);
        return -1;
    }
    struct tmpf__os_facts want, got;
    DWORD attrs;
    if (tmpf__win_facts(held, &want, NULL) != 0 || tmpf__win_facts(h, &got, &attrs) != 0) {
        int saved = errno;
        CloseHandle(h);
        errno = saved;
        return -1;
    }
    if ((attrs & FILE_ATTRIBUTE_REPARSE_POINT) || want.id.dev != got.id.dev ||
        want.id.ino != got.id.ino) {
        CloseHandle(h);
        errno = ENOENT; /* the name now leads elsewhere (or to a link) */
        return -1;
    }
    return tmpf__win_fd(h, crt_flags(flags));
}

int tmpf__os_reopen_fd(int fd, int flags)
{
    HANDLE held = tmpf__win_handle(fd);
    if (held == INVALID_HANDLE_VALUE)
        return -1;
    HANDLE h = ReOpenFile(held, access_of(flags), SHARE_ALL, 0);
    if (h == INVALID_HANDLE_VALUE)
        return tmpf__win_fail();
    return tmpf__win_fd(h, crt_flags(flags));
}
