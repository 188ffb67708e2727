/* The removal walk on Windows. Every entry is opened with
 * FILE_FLAG_OPEN_REPARSE_POINT, so a symbolic link or a junction (also a
 * mounted volume: a mount point is a junction) is removed as the link it
 * is and never entered (its tag checked: tmpf__win_is_link). A directory is held open, while its contents go,
 * by a handle that does not share deletion: nobody can rename or remove
 * it meanwhile. Entries are opened relative to their directory's handle
 * (NtCreateFile with RootDirectory), the top one relative to its parent's
 * (the one path looked up: tmpf__os_rmtree's parent, opened once), and
 * deleted through the handle they were opened by (POSIX
 * semantics where the system has them, else delete-on-close, the
 * read-only attribute cleared first). A file that another process holds open
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

#define ENTRY_FLAGS (FILE_FLAG_BACKUP_SEMANTICS | FILE_FLAG_OPEN_REPARSE_POINT)

/* The entry name (len units) of the directory open as parent, never
 * followed, relative to parent's handle (no path is looked up). */
static HANDLE open_entry(HANDLE parent, const wchar_t *name, size_t len, DWORD access,
                         DWORD share)
{
    return tmpf__win_open_rel(parent, name, len, access, share, OPEN_EXISTING, ENTRY_FLAGS,
                              NULL);
}

static int remove_entry(HANDLE parent, const wchar_t *name, size_t len, HANDLE aside,
                        int *first);

/* The names in the directory open as h (its list read to the end before
 * anything is removed), each handed to remove_entry relative to h. */
static void remove_children(HANDLE h, HANDLE aside, int *first)
{
    enum { BUF = 16 * 1024 };
    /* FILE_ID_BOTH_DIR_INFO is DWORD-aligned in the buffer. */
    DWORD *buf = tmpf__malloc(BUF);
    if (!buf) {
        note(first, errno);
        return;
    }
    /* The names one after the other, each after its length (a name has at
     * most 255 units: one unit holds it). */
    wchar_t *names = NULL;
    size_t used = 0, cap = 0;
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
                if (cap - used < len + 1) {
                    size_t ncap = cap ? cap * 2 : 1024;
                    while (ncap - used < len + 1)
                        ncap *= 2;
                    wchar_t *n = tmpf__realloc(names, ncap * sizeof *n);
                    if (!n) {
                        note(first, ENOMEM);
                        goto done;
                    }
                    names = n;
                    cap = ncap;
                }
                names[used] = (wchar_t)len;
                memcpy(names + used + 1, e->FileName, len * sizeof *names);
                used += len + 1;
            }
            if (e->NextEntryOffset == 0)
                break;
            p += e->NextEntryOffset;
        }
    }
done:
    free(buf);
    for (size_t at = 0; at < used; at += (size_t)names[at] + 1) {
        int err = remove_entry(h, names + at + 1, names[at], aside, first);
        if (err)
            note(first, err);
    }
    free(names);
}

/* Removes the entry name of parent and, if it is a
 * directory (not a link to one), everything below it, each child opened
 * relative to its directory's handle. Returns 0 (also when nothing is
 * there) or an errno; *first keeps the first one met below. */
static int remove_entry(HANDLE parent, const wchar_t *name, size_t len, HANDLE aside,
                        int *first)
{
    DWORD access = DELETE | FILE_READ_ATTRIBUTES | FILE_WRITE_ATTRIBUTES | SYNCHRONIZE;
    /* Without FILE_SHARE_DELETE: while held, nobody renames it away. */
    HANDLE h = open_entry(parent, name, len, access | FILE_LIST_DIRECTORY,
                          FILE_SHARE_READ | FILE_SHARE_WRITE);
    if (h == INVALID_HANDLE_VALUE) {
        DWORD err = GetLastError();
        if (err == ERROR_FILE_NOT_FOUND || err == ERROR_PATH_NOT_FOUND)
            return 0;
        /* A file that someone holds open with deletion shared (or that we
         * may not read): open it for deletion alone. */
        h = open_entry(parent, name, len, access,
                       FILE_SHARE_READ | FILE_SHARE_WRITE | FILE_SHARE_DELETE);
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
        bool dir = (attrs & FILE_ATTRIBUTE_DIRECTORY) && !tmpf__win_is_link(h, attrs);
        if (dir)
            remove_children(h, aside, first);
        if ((dir ? tmpf__win_delete_handle(h) : tmpf__win_delete_handle_aside(h, aside)) != 0)
            rc = errno;
    }
    CloseHandle(h);
    return rc;
}

/* A handle on the directory at path (followed, as POSIX's open of a
 * walk's parent), for opens relative to it and as the aside directory;
 * NULL with errno. It is not listed: no FILE_LIST_DIRECTORY, which a
 * drop-box directory such as C:\Windows\Temp does not grant Users. */
static HANDLE open_parent(const wchar_t *path)
{
    HANDLE h = CreateFileW(path, FILE_READ_ATTRIBUTES | SYNCHRONIZE,
                           FILE_SHARE_READ | FILE_SHARE_WRITE | FILE_SHARE_DELETE, NULL,
                           OPEN_EXISTING, FILE_FLAG_BACKUP_SEMANTICS, NULL);
    if (h == INVALID_HANDLE_VALUE) {
        tmpf__win_fail();
        return NULL;
    }
    return h;
}

int tmpf__os_rmtree(const char *parent, const char *name)
{
    /* The parent is the one path looked up (opened once); the top entry
     * is opened relative to its handle, never followed (a link or
     * junction is removed as itself: remove_entry checks the handle's
     * attributes), and so is everything below. */
    wchar_t *wp = tmpf__win_wpath(parent);
    if (!wp)
        return errno;
    HANDLE ph = open_parent(wp);
    free(wp);
    if (!ph)
        return errno == ENOENT ? 0 : errno;
    /* A name is one component (rmtree.c splits the path at its last
     * separator): at most 255 units. */
    wchar_t wn[TMPF__WIN_NAME_MAX + 1];
    int n = MultiByteToWideChar(CP_UTF8, MB_ERR_INVALID_CHARS, name, -1, wn,
                                TMPF__WIN_NAME_MAX + 1);
    /* Trailing dots and spaces go, as the path's conversion
     * (GetFullPathNameW) took them away before: "x." names x. */
    size_t len = n > 0 ? (size_t)n - 1 : 0;
    while (len > 0 && (wn[len - 1] == L'.' || wn[len - 1] == L' '))
        len--;
    int err;
    if (len == 0) {
        err = n == 0 && GetLastError() == ERROR_INSUFFICIENT_BUFFER ? ENAMETOOLONG : EINVAL;
    } else {
        for (size_t i = 0; i < len; i++)
            if (wn[i] == L'/')
                wn[i] = L'\\';
        int first = 0;
        err = remove_entry(ph, wn, len, ph, &first);
        if (first)
            err = first;
    }
    CloseHandle(ph);
    return err;
}

int tmpf__os_rmtree_contents(int dir_fd)
{
    HANDLE held = tmpf__win_handle(dir_fd);
    if (held == INVALID_HANDLE_VALUE)
        return errno;
    /* A handle of its own on the directory held (its own listing
     * position): the children are opened relative to it, never by path. */
    HANDLE h = ReOpenFile(held, FILE_LIST_DIRECTORY | FILE_READ_ATTRIBUTES | SYNCHRONIZE,
                          FILE_SHARE_READ | FILE_SHARE_WRITE | FILE_SHARE_DELETE,
                          FILE_FLAG_BACKUP_SEMANTICS | FILE_FLAG_OPEN_REPARSE_POINT);
    if (h == INVALID_HANDLE_VALUE)
        return tmpf__win_errno(GetLastError());
    /* Its path must still lead to it: files held open by others go aside
     * to its parent, and Wine deletes an entry by the name it had when
     * opened (the stale path of a directory renamed since: another
     * directory's entry of the same name). ESTALE when it leads elsewhere
     * (Windows gives a renamed directory's current path: no matter), or
     * the open's error when it leads nowhere. */
    int first = 0;
    wchar_t *path = tmpf__win_handle_path(held);
    HANDLE named = path ? CreateFileW(path, FILE_READ_ATTRIBUTES,
                                      FILE_SHARE_READ | FILE_SHARE_WRITE | FILE_SHARE_DELETE,
                                      NULL, OPEN_EXISTING,
                                      FILE_FLAG_BACKUP_SEMANTICS | FILE_FLAG_OPEN_REPARSE_POINT,
                                      NULL)
                        : INVALID_HANDLE_VALUE;
    struct tmpf__os_facts a, b, c;
    if (!path)
        first = errno;
    else if (named == INVALID_HANDLE_VALUE)
        first = tmpf__win_errno(GetLastError());
    else if (tmpf__win_facts(held, &a, NULL) != 0 || tmpf__win_facts(named, &b, NULL) != 0 ||
             tmpf__win_facts(h, &c, NULL) != 0)
        first = errno;
    else if (a.id.dev != b.id.dev || a.id.ino != b.id.ino || a.id.dev != c.id.dev ||
             a.id.ino != c.id.ino)
        first = ESTALE; /* Wine's ReOpenFile goes by the (stale) path too */
    if (named != INVALID_HANDLE_VALUE)
        CloseHandle(named);
    if (first == 0) {
        /* Files held open by others go aside to its parent (none at a
         * drive's root). */
        wchar_t *cut = wcsrchr(path, L'\\');
        HANDLE aside = NULL;
        if (cut && cut - path > 7) {
            *cut = 0;
            aside = open_parent(path);
        }
        remove_children(h, aside, &first);
        if (aside)
            CloseHandle(aside);
    }
    free(path);
    CloseHandle(h);
    return first;
}

/* ---- the emergency walk: no allocation ----------------------------------- */

/* One handle per level, at most EM_DEPTH levels (deeper parts are left:
 * ENAMETOOLONG); the caller serializes (emergency.c). */
#define EM_DEPTH 128
static HANDLE em_stack[EM_DEPTH];
static struct tmpf__win_entry em_entry;

int tmpf__win_empty_dir_static(HANDLE dir)
{
    int err = 0;
    size_t depth = 1;
    em_stack[0] = dir;
    bool restart = true;
    DWORD access = DELETE | FILE_READ_ATTRIBUTES | FILE_WRITE_ATTRIBUTES | SYNCHRONIZE;
    while (depth > 0) {
        HANDLE top = em_stack[depth - 1];
        int got = tmpf__win_next_entry(top, restart, &em_entry);
        restart = false;
        if (got <= 0) {
            if (got < 0)
                note(&err, errno);
            if (--depth == 0)
                break;
            /* A level below the top is done: it goes, through its handle
             * (its parent's listing goes on after its entry). */
            if (tmpf__win_delete_handle(top) != 0)
                note(&err, errno);
            CloseHandle(top);
            continue;
        }
        /* Never followed; held without sharing deletion while emptied. */
        HANDLE h = tmpf__win_open_rel(top, em_entry.name, em_entry.len,
                                      access | FILE_LIST_DIRECTORY,
                                      FILE_SHARE_READ | FILE_SHARE_WRITE, OPEN_EXISTING,
                                      ENTRY_FLAGS, NULL);
        if (h == INVALID_HANDLE_VALUE && GetLastError() != ERROR_FILE_NOT_FOUND &&
            GetLastError() != ERROR_PATH_NOT_FOUND)
            h = tmpf__win_open_rel(top, em_entry.name, em_entry.len, access,
                                   FILE_SHARE_READ | FILE_SHARE_WRITE | FILE_SHARE_DELETE,
                                   OPEN_EXISTING, ENTRY_FLAGS, NULL);
        if (h == INVALID_HANDLE_VALUE) {
            DWORD e = GetLastError();
            if (e != ERROR_FILE_NOT_FOUND && e != ERROR_PATH_NOT_FOUND)
                note(&err, tmpf__win_errno(e));
            continue;
        }
        DWORD attrs;
        if (tmpf__win_facts(h, NULL, &attrs) != 0) {
            note(&err, errno);
            CloseHandle(h);
            continue;
        }
        if ((attrs & FILE_ATTRIBUTE_DIRECTORY) && !tmpf__win_is_link(h, attrs)) {
            if (depth == EM_DEPTH) {
                note(&err, ENAMETOOLONG);
                CloseHandle(h);
                continue;
            }
            em_stack[depth++] = h;
            restart = true;
            continue;
        }
        if (tmpf__win_delete_handle(h) != 0)
            note(&err, errno);
        CloseHandle(h);
    }
    if (err) {
        errno = err;
        return -1;
    }
    return 0;
}
