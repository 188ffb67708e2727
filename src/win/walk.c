/* The removal walk on Windows. Every entry is opened with
 * FILE_FLAG_OPEN_REPARSE_POINT, so a symbolic link or a junction (also a
 * mounted volume: a mount point is a junction) is removed as the link it
 * is and never entered. A directory is held open, while its contents go,
 * by a handle that does not share deletion: nobody can rename or remove
 * it meanwhile, so the path of each child still leads below it. Entries
 * are deleted through the handle they were opened by (POSIX semantics
 * where the system has them, else delete-on-close, the read-only
 * attribute cleared first). A file that another process holds open
 * without FILE_SHARE_DELETE cannot be removed: EBUSY, reported, and the
 * walk goes on. */
#include "win.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

static void note(int *first, int err)
{
    if (*first == 0)
        *first = err;
}

/* parent + '\' + name, malloc'd. */
static wchar_t *join(const wchar_t *parent, const wchar_t *name, size_t name_len)
{
    size_t pn = wcslen(parent);
    wchar_t *w = tmpf__malloc((pn + 1 + name_len + 1) * sizeof *w);
    if (!w)
        return NULL;
    memcpy(w, parent, pn * sizeof *w);
    if (pn == 0 || w[pn - 1] != L'\\')
        w[pn++] = L'\\'; /* a root such as \\?\C:\ has its own */
    memcpy(w + pn, name, name_len * sizeof *w);
    w[pn + name_len] = 0;
    return w;
}

static HANDLE open_entry(const wchar_t *path, DWORD access, DWORD share)
{
    return CreateFileW(path, access, share, NULL, OPEN_EXISTING,
                       FILE_FLAG_BACKUP_SEMANTICS | FILE_FLAG_OPEN_REPARSE_POINT, NULL);
}

static int remove_entry(const wchar_t *path, const wchar_t *aside, int *first);

/* The names in the directory open as h (its list read to the end before
 * anything is removed), each handed to remove_entry. */
static void remove_children(HANDLE h, const wchar_t *path, const wchar_t *aside,
                            int *first)
{
    enum { BUF = 16 * 1024 };
    /* FILE_ID_BOTH_DIR_INFO is DWORD-aligned in the buffer. */
    DWORD *buf = tmpf__malloc(BUF);
    if (!buf) {
        note(first, errno);
        return;
    }
    wchar_t **names = NULL;
    size_t count = 0, cap = 0;
    FILE_INFO_BY_HANDLE_CLASS cls = FileIdBothDirectoryRestartInfo;
    for (;;) {
        if (!GetFileInformationByHandleEx(h, cls, buf, BUF)) {
            DWORD err = GetLastError();
            if (err != ERROR_NO_MORE_FILES)
                note(first, tmpf__win_errno(err));
            break;
        }
        cls = FileIdBothDirectoryInfo;
        const unsigned char *p = (const unsigned char *)buf;
        for (;;) {
            const FILE_ID_BOTH_DIR_INFO *e = (const FILE_ID_BOTH_DIR_INFO *)p;
            size_t len = e->FileNameLength / sizeof(wchar_t);
            bool dots = (len == 1 && e->FileName[0] == L'.') ||
                        (len == 2 && e->FileName[0] == L'.' && e->FileName[1] == L'.');
            if (!dots) {
                if (count == cap) {
                    size_t ncap = cap ? cap * 2 : 16;
                    wchar_t **n = tmpf__realloc(names, ncap * sizeof *n);
                    if (!n) {
                        note(first, ENOMEM);
                        goto done;
                    }
                    names = n;
                    cap = ncap;
                }
                names[count] = join(path, e->FileName, len);
                if (!names[count]) {
                    note(first, ENOMEM);
                    goto done;
                }
                count++;
            }
            if (e->NextEntryOffset == 0)
                break;
            p += e->NextEntryOffset;
        }
    }
done:
    free(buf);
    for (size_t i = 0; i < count; i++) {
        int err = remove_entry(names[i], aside, first);
        if (err)
            note(first, err);
        free(names[i]);
    }
    free(names);
}

/* Removes path and, if it is a directory (not a link to one), everything
 * below it. Returns 0 (also when nothing is there) or an errno; *first
 * keeps the first one met below. */
static int remove_entry(const wchar_t *path, const wchar_t *aside, int *first)
{
    DWORD access = DELETE | FILE_READ_ATTRIBUTES | FILE_WRITE_ATTRIBUTES | SYNCHRONIZE;
    /* Without FILE_SHARE_DELETE: while held, nobody renames it away. */
    HANDLE h = open_entry(path, access | FILE_LIST_DIRECTORY, FILE_SHARE_READ | FILE_SHARE_WRITE);
    if (h == INVALID_HANDLE_VALUE) {
        DWORD err = GetLastError();
        if (err == ERROR_FILE_NOT_FOUND || err == ERROR_PATH_NOT_FOUND)
            return 0;
        /* A file that someone holds open with deletion shared (or that we
         * may not read): open it for deletion alone. */
        h = open_entry(path, access, FILE_SHARE_READ | FILE_SHARE_WRITE | FILE_SHARE_DELETE);
        if (h == INVALID_HANDLE_VALUE) {
            err = GetLastError();
            if (err == ERROR_FILE_NOT_FOUND || err == ERROR_PATH_NOT_FOUND)
                return 0;
            return tmpf__win_errno(err);
        }
    }
    DWORD attrs;
    int rc = 0;
    if (tmpf__win_facts(h, NULL, &attrs) != 0) {
        rc = errno;
    } else {
        bool dir = (attrs & FILE_ATTRIBUTE_DIRECTORY) && !(attrs & FILE_ATTRIBUTE_REPARSE_POINT);
        if (dir)
            remove_children(h, path, aside, first);
        if ((dir ? tmpf__win_delete_handle(h) : tmpf__win_delete_handle_aside(h, aside)) != 0)
            rc = errno;
    }
    CloseHandle(h);
    return rc;
}

int tmpf__os_rmtree(const char *parent, const char *name)
{
    size_t pn = strlen(parent), nn = strlen(name);
    char *full = tmpf__malloc(pn + 1 + nn + 1);
    if (!full)
        return errno;
    memcpy(full, parent, pn);
    full[pn] = '\\';
    memcpy(full + pn + 1, name, nn + 1);
    wchar_t *w = tmpf__win_wpath(full);
    free(full);
    wchar_t *aside = w ? tmpf__win_wpath(parent) : NULL;
    if (!aside) {
        free(w);
        return errno;
    }
    int first = 0;
    int err = remove_entry(w, aside, &first);
    free(aside);
    free(w);
    return first ? first : err;
}

int tmpf__os_rmtree_contents(int dir_fd)
{
    HANDLE held = tmpf__win_handle(dir_fd);
    if (held == INVALID_HANDLE_VALUE)
        return errno;
    /* The directory's own path, then each child by name below it. */
    DWORD n = GetFinalPathNameByHandleW(held, NULL, 0, FILE_NAME_NORMALIZED | VOLUME_NAME_DOS);
    wchar_t *path = n ? tmpf__malloc((size_t)n * sizeof *path) : NULL;
    if (!path)
        return n ? errno : tmpf__win_errno(GetLastError());
    DWORD got = GetFinalPathNameByHandleW(held, path, n, FILE_NAME_NORMALIZED | VOLUME_NAME_DOS);
    if (got == 0 || got >= n) {
        free(path);
        return got == 0 ? tmpf__win_errno(GetLastError()) : EIO;
    }
    if (path[got - 1] == L'\\')
        path[got - 1] = 0;
    int first = 0;
    HANDLE h = open_entry(path, FILE_LIST_DIRECTORY | FILE_READ_ATTRIBUTES | SYNCHRONIZE,
                          FILE_SHARE_READ | FILE_SHARE_WRITE | FILE_SHARE_DELETE);
    if (h == INVALID_HANDLE_VALUE) {
        first = tmpf__win_errno(GetLastError());
    } else {
        struct tmpf__os_facts a, b;
        if (tmpf__win_facts(held, &a, NULL) != 0 || tmpf__win_facts(h, &b, NULL) != 0)
            first = errno;
        else if (a.id.dev != b.id.dev || a.id.ino != b.id.ino)
            first = ESTALE; /* the path leads elsewhere now */
        else {
            /* Files held open by others go aside to the parent. */
            wchar_t *cut = wcsrchr(path, L'\\');
            wchar_t *aside = NULL;
            if (cut && cut - path > 7) {
                size_t len = (size_t)(cut - path);
                aside = tmpf__malloc((len + 1) * sizeof *aside);
                if (aside) {
                    memcpy(aside, path, len * sizeof *aside);
                    aside[len] = 0;
                }
            }
            remove_children(h, path, aside, &first);
            free(aside);
        }
        CloseHandle(h);
    }
    free(path);
    return first;
}
