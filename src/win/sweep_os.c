/* One entry for tmpf_sweep on Windows: opened once, without following a
 * link, and everything decided and done through that handle: owned by
 * this user (the owner SID is the token's user or its default owner),
 * not written for min_age seconds, not locked by a live holder (TMPF_LOCK
 * holds a shared lock on a byte far past the data: the sweep must get it
 * exclusively without waiting, and deletes while holding it). A link
 * (symlink, junction) is removed itself; a directory goes through the
 * removal walk (walk.c). */
#include "win.h"

#include <aclapi.h>
#include <errno.h>
#include <stdlib.h>

#define SHARE_ALL (FILE_SHARE_READ | FILE_SHARE_WRITE | FILE_SHARE_DELETE)

/* The same far byte as tmpf__os_lock_shared and the side lock. */
#define LOCK_AT_HIGH 0x7fffffffu
#define LOCK_AT_LOW 0xfffffffeu

/* 100-ns intervals from 1601 to 1970. */
#define EPOCH_DIFF 116444736000000000ULL

static long long unix_seconds(FILETIME ft)
{
    unsigned long long t = ((unsigned long long)ft.dwHighDateTime << 32) | ft.dwLowDateTime;
    return t < EPOCH_DIFF ? 0 : (long long)((t - EPOCH_DIFF) / 10000000ULL);
}

int tmpf__os_sweep_entry(int dir_fd, const char *dir, const char *name,
                         long long now, unsigned min_age, bool dry_run)
{
    wchar_t *w = tmpf__win_wpath_at(dir_fd, name);
    if (!w)
        return 0;
    HANDLE h = CreateFileW(w, GENERIC_READ | DELETE | READ_CONTROL | FILE_WRITE_ATTRIBUTES,
                           SHARE_ALL, NULL, OPEN_EXISTING,
                           FILE_FLAG_BACKUP_SEMANTICS | FILE_FLAG_OPEN_REPARSE_POINT, NULL);
    free(w);
    if (h == INVALID_HANDLE_VALUE)
        return 0; /* gone, or held without shared deletion: a live user */
    int result = 0;
    BY_HANDLE_FILE_INFORMATION fi;
    if (!GetFileInformationByHandle(h, &fi) || tmpf__win_owned_by_me(h) != 1 ||
        now - unix_seconds(fi.ftLastWriteTime) < (long long)min_age)
        goto out;
    DWORD a = fi.dwFileAttributes;
    if (!(a & FILE_ATTRIBUTE_REPARSE_POINT)) {
        OVERLAPPED ov = {0};
        ov.Offset = LOCK_AT_LOW;
        ov.OffsetHigh = LOCK_AT_HIGH;
        if (!LockFileEx(h, LOCKFILE_EXCLUSIVE_LOCK | LOCKFILE_FAIL_IMMEDIATELY, 0, 1, 0, &ov) &&
            (GetLastError() == ERROR_LOCK_VIOLATION || !(a & FILE_ATTRIBUTE_DIRECTORY)))
            goto out; /* a live holder (a directory may refuse byte locks) */
    }
    if (dry_run) {
        result = 1;
        goto out;
    }
    if ((a & FILE_ATTRIBUTE_DIRECTORY) && !(a & FILE_ATTRIBUTE_REPARSE_POINT)) {
        /* The walk holds each directory without shared deletion, which a
         * handle with DELETE access would refuse: ours goes first. */
        CloseHandle(h);
        return tmpf__os_rmtree(dir, name) == 0 ? 1 : 0;
    }
    result = tmpf__win_delete_handle(h) == 0 ? 1 : 0;
out:
    CloseHandle(h);
    return result;
}
