/* System primitives of the identity checks on Windows: a file's identity
 * is its volume serial number and file index (what Go's os.SameFile and
 * Rust's same-file compare); a POSIX-like mode is made up from the
 * attributes (directory, read-only, reparse point) and, for a directory
 * looked up by path, its DACL (broad groups allowed to write: 0022); a
 * directory's owner is its uid (tmpf__win_owner_uid: the caller's, 0 for
 * Windows' "root", else untrusted). */
#include "win.h"

#include <aclapi.h>
#include <errno.h>
#include <fcntl.h>
#include <io.h>
#include <stdlib.h>

/* The uid of the owner of the object open as h (with READ_CONTROL):
 * tmpf__win_owner_uid; an owner that cannot be read is untrusted. */
static unsigned owner_uid(HANDLE h)
{
    PSID owner = NULL;
    PSECURITY_DESCRIPTOR sd = NULL;
    if (GetSecurityInfo(h, SE_FILE_OBJECT, OWNER_SECURITY_INFORMATION, &owner, NULL, NULL, NULL,
                        &sd) != ERROR_SUCCESS)
        return TMPF__WIN_UID_UNTRUSTED;
    unsigned uid = tmpf__win_owner_uid(sd);
    LocalFree(sd);
    return uid;
}

int tmpf__os_facts_fd(int fd, struct tmpf__os_facts *ret)
{
    HANDLE h = tmpf__win_handle(fd);
    if (h == INVALID_HANDLE_VALUE)
        return -1;
    if (tmpf__win_facts(h, ret, NULL) != 0)
        return -1;
    /* A directory's owner (tmpf__ident_of_new_dir wants the caller's:
     * tmpf__os_open_dir_nofollow asks for READ_CONTROL). */
    if (tmpf__os_facts_is_dir(ret))
        ret->uid = owner_uid(h);
    return 0;
}

/* A handle for reading attributes (and, where allowed, the DACL): it
 * blocks nobody. */
static HANDLE open_attrs(const char *path, bool follow)
{
    wchar_t stack[TMPF__WIN_WPATH_BUF];
    wchar_t *w = tmpf__win_wpath_fast(path, stack, TMPF__WIN_WPATH_BUF);
    if (!w)
        return INVALID_HANDLE_VALUE;
    DWORD flags = FILE_FLAG_BACKUP_SEMANTICS | (follow ? 0 : FILE_FLAG_OPEN_REPARSE_POINT);
    DWORD share = FILE_SHARE_READ | FILE_SHARE_WRITE | FILE_SHARE_DELETE;
    HANDLE h = CreateFileW(w, FILE_READ_ATTRIBUTES | READ_CONTROL, share, NULL, OPEN_EXISTING,
                           flags, NULL);
    if (h == INVALID_HANDLE_VALUE && GetLastError() == ERROR_ACCESS_DENIED)
        h = CreateFileW(w, FILE_READ_ATTRIBUTES, share, NULL, OPEN_EXISTING, flags, NULL);
    if (h == INVALID_HANDLE_VALUE)
        tmpf__win_fail();
    if (w != stack)
        free(w);
    return h;
}

/* Whether dacl lets a broad group (Everyone, Users, Authenticated Users,
 * Interactive, Guests, Anonymous) remove or rename entries it did not make:
 * FILE_DELETE_CHILD (or full control, or the right to rewrite the DACL or
 * owner) on the directory itself, or DELETE (or the same) inherited by the
 * files made in it. Then others can rename or replace what tmpf creates
 * there, as in a POSIX directory writable by others without the sticky
 * bit. The right to add entries alone (C:\Windows\Temp grants Users that)
 * is the sticky case: fine. */
static bool broad_write(const ACL *dacl)
{
    static const WELL_KNOWN_SID_TYPE broad_sids[] = {
        WinWorldSid,       WinBuiltinUsersSid, WinAuthenticatedUserSid,
        WinInteractiveSid, WinBuiltinGuestsSid, WinAnonymousSid,
    };
    const DWORD takeover = WRITE_DAC | WRITE_OWNER | GENERIC_ALL;
    bool broad = !dacl; /* a NULL DACL grants everything to everyone */
    for (DWORD i = 0; dacl && !broad && i < dacl->AceCount; i++) {
        ACE_HEADER *ace = NULL;
        if (!GetAce((PACL)dacl, i, (void **)&ace) || ace->AceType != ACCESS_ALLOWED_ACE_TYPE)
            continue;
        ACCESS_ALLOWED_ACE *allow = (ACCESS_ALLOWED_ACE *)ace;
        bool on_dir = !(ace->AceFlags & INHERIT_ONLY_ACE) &&
                      (allow->Mask & (FILE_DELETE_CHILD | takeover));
        bool on_files = (ace->AceFlags & OBJECT_INHERIT_ACE) &&
                        (allow->Mask & (DELETE | takeover));
        if (!on_dir && !on_files)
            continue;
        for (size_t k = 0; k < sizeof broad_sids / sizeof broad_sids[0] && !broad; k++)
            broad = IsWellKnownSid((PSID)&allow->SidStart, broad_sids[k]);
    }
    return broad;
}

/* Who may rename the entries of the directory open as h, in the terms of
 * tmpf__dir_unsafe: group/other write bits for a DACL that lets broad
 * groups do so, and the owner's uid (tmpf__win_owner_uid: an owner other
 * than the caller and Windows' "root" is untrusted). A security descriptor
 * that cannot be read (no READ_CONTROL) vouches for nothing: untrusted. */
static void vet_dir(HANDLE h, struct tmpf__os_facts *f)
{
    PACL dacl = NULL;
    PSID owner = NULL;
    PSECURITY_DESCRIPTOR sd = NULL;
    if (GetSecurityInfo(h, SE_FILE_OBJECT, OWNER_SECURITY_INFORMATION | DACL_SECURITY_INFORMATION,
                        &owner, NULL, &dacl, NULL, &sd) != ERROR_SUCCESS) {
        f->uid = TMPF__WIN_UID_UNTRUSTED;
        return;
    }
    if (broad_write(dacl))
        f->mode |= 0022;
    f->uid = tmpf__win_owner_uid(sd);
    LocalFree(sd);
}

int tmpf__os_facts_path(const char *path, bool follow, struct tmpf__os_facts *ret)
{
    HANDLE h = open_attrs(path, follow);
    if (h == INVALID_HANDLE_VALUE)
        return -1;
    int rc = tmpf__win_facts(h, ret, NULL);
    /* A directory's group/other write bits and owner say who may rename
     * its entries (tmpf__os_facts_shared_writable and tmpf__dir_unsafe
     * read them). */
    if (rc == 0 && tmpf__os_facts_is_dir(ret))
        vet_dir(h, ret);
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
    /* Set by tmpf__os_facts_path from the DACL (no sticky bit here). */
    return (f->mode & 0022) != 0;
}

unsigned tmpf__os_euid(void) { return TMPF__WIN_UID_ME; }

int tmpf__os_open_dir_nofollow(const char *path)
{
    wchar_t stack[TMPF__WIN_WPATH_BUF];
    wchar_t *w = tmpf__win_wpath_fast(path, stack, TMPF__WIN_WPATH_BUF);
    if (!w)
        return -1;
    /* READ_CONTROL: its owner is read through this handle (where not
     * allowed, an open without it: the owner is then untrusted). */
    DWORD access = FILE_LIST_DIRECTORY | FILE_READ_ATTRIBUTES | SYNCHRONIZE;
    DWORD share = FILE_SHARE_READ | FILE_SHARE_WRITE | FILE_SHARE_DELETE;
    DWORD flags = FILE_FLAG_BACKUP_SEMANTICS | FILE_FLAG_OPEN_REPARSE_POINT;
    HANDLE h = CreateFileW(w, access | READ_CONTROL, share, NULL, OPEN_EXISTING, flags, NULL);
    if (h == INVALID_HANDLE_VALUE && GetLastError() == ERROR_ACCESS_DENIED)
        h = CreateFileW(w, access, share, NULL, OPEN_EXISTING, flags, NULL);
    DWORD err = GetLastError();
    if (w != stack)
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
