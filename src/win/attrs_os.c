/* What a replaced file keeps on Windows (persist.c's adopt, through
 * tmpf__os_take_owner and tmpf__os_copy_xattrs), the counterpart of
 * src/unix/attrs_os.c.
 *
 * A file's permission bits on Windows are its DACL: replacing a target
 * keeps the target's DACL, as POSIX persist keeps its mode, unless the
 * caller chose the temporary's permissions (opts.perm); its owner SID where
 * the writer may set it (as fchown where permitted); and its hidden, system
 * and not-content-indexed attributes (read-only is a permission bit:
 * tmpf__os_chmod_fd). ReplaceFileW keeps the DACL too; it also keeps the
 * creation time, short name, object ID, encryption, compression and named
 * streams, which are not kept here. The descriptor is copied as stored
 * (SetKernelObjectSecurity): its inherited entries, which came from the
 * target's directory, and its protection from inheritance come along, and
 * nothing is inherited from the temporary's own directory.
 *
 * TMPF_KEEP_XATTRS adds the DACL also where the caller chose the
 * permissions (as the POSIX ACL is copied then). Alternate data streams,
 * NTFS extended attributes and the SACL (audit entries, integrity label)
 * are not copied. */
#include "win.h"

#include <aclapi.h>
#include <errno.h>
#include <stdlib.h>

#define SHARE_ALL (FILE_SHARE_READ | FILE_SHARE_WRITE | FILE_SHARE_DELETE)
/* The target's attributes that are neither permission bits nor the
 * temporary's own (FILE_ATTRIBUTE_TEMPORARY goes: the file is kept now). */
#define KEPT_ATTRS                                                             \
    (FILE_ATTRIBUTE_HIDDEN | FILE_ATTRIBUTE_SYSTEM | FILE_ATTRIBUTE_NOT_CONTENT_INDEXED)

/* The target's security descriptor (what: owner and/or DACL, as stored)
 * and attributes, through one handle on it, followed as probe_target
 * looked at it. *sd: LocalFree it; NULL where the file system keeps no
 * security (nothing to keep). */
static int read_target(int dir_fd, const char *name, SECURITY_INFORMATION what,
                       PSECURITY_DESCRIPTOR *sd, DWORD *attrs)
{
    HANDLE h = tmpf__win_open_at(dir_fd, name, READ_CONTROL | FILE_READ_ATTRIBUTES, SHARE_ALL,
                                 OPEN_EXISTING, FILE_FLAG_BACKUP_SEMANTICS, NULL);
    if (h == INVALID_HANDLE_VALUE)
        return -1;
    DWORD err = GetSecurityInfo(h, SE_FILE_OBJECT, what, NULL, NULL, NULL, NULL, sd);
    if (err == ERROR_NOT_SUPPORTED || err == ERROR_INVALID_FUNCTION) {
        *sd = NULL;
        err = ERROR_SUCCESS;
    }
    FILE_BASIC_INFO bi;
    if (err == ERROR_SUCCESS && attrs) {
        if (GetFileInformationByHandleEx(h, FileBasicInfo, &bi, sizeof bi))
            *attrs = bi.FileAttributes;
        else
            err = GetLastError();
        if (err != ERROR_SUCCESS) {
            LocalFree(*sd);
            *sd = NULL;
        }
    }
    CloseHandle(h);
    if (err != ERROR_SUCCESS) {
        errno = tmpf__win_errno(err);
        return -1;
    }
    return 0;
}

/* The target's DACL (and its protection, its inherited entries) onto the
 * file open as w (WRITE_DAC), exactly as sd holds it. */
static int set_dacl(HANDLE w, PSECURITY_DESCRIPTOR sd)
{
    return SetKernelObjectSecurity(w, DACL_SECURITY_INFORMATION, sd) ? 0 : tmpf__win_fail();
}

/* The owner of sd onto the file held as held, where the writer may: its
 * own SID, a group it may make owner, or with SeRestorePrivilege enabled
 * (else nothing, and no error, as fchown's EPERM). from: a handle on held's
 * file that may read its owner. */
static int set_owner(HANDLE held, HANDLE from, PSECURITY_DESCRIPTOR sd, int dir_fd,
                     const char *name)
{
    PSID want = NULL, have = NULL;
    BOOL defaulted;
    PSECURITY_DESCRIPTOR own = NULL;
    if (!GetSecurityDescriptorOwner(sd, &want, &defaulted) || !want)
        return 0; /* no owner to give (a file system without security) */
    DWORD err = GetSecurityInfo(from, SE_FILE_OBJECT, OWNER_SECURITY_INFORMATION, &have, NULL,
                                NULL, NULL, &own);
    if (err != ERROR_SUCCESS) {
        errno = tmpf__win_errno(err);
        return -1;
    }
    bool same = have && EqualSid(want, have);
    LocalFree(own);
    if (same)
        return 0;
    HANDLE o = tmpf__win_reopen_same(held, WRITE_OWNER, dir_fd, name);
    if (o == INVALID_HANDLE_VALUE)
        return errno == EACCES || errno == EPERM ? 0 : -1;
    int rc = 0;
    if (!SetKernelObjectSecurity(o, OWNER_SECURITY_INFORMATION, sd)) {
        err = GetLastError();
        if (err != ERROR_INVALID_OWNER && err != ERROR_ACCESS_DENIED &&
            err != ERROR_PRIVILEGE_NOT_HELD) {
            errno = tmpf__win_errno(err);
            rc = -1;
        }
    }
    CloseHandle(o);
    return rc;
}

int tmpf__os_take_owner(int fd, int dir_fd, const char *name, bool target_perm,
                        const struct tmpf__os_facts *want,
                        const struct tmpf__os_facts *have)
{
    (void)want, (void)have; /* no POSIX owner or group here */
    HANDLE held = tmpf__win_handle(fd);
    if (held == INVALID_HANDLE_VALUE)
        return -1;
    PSECURITY_DESCRIPTOR sd = NULL;
    DWORD target_attrs;
    SECURITY_INFORMATION what = OWNER_SECURITY_INFORMATION |
                                (target_perm ? DACL_SECURITY_INFORMATION : 0);
    if (read_target(dir_fd, name, what, &sd, &target_attrs) != 0)
        return -1;
    /* A handle of its own (the file's may not write its DACL or
     * attributes: a closed kept file is reopened read-only), proved to be
     * the file held. Opened before the owner changes: the access it was
     * granted stays. */
    HANDLE w = tmpf__win_reopen_same(held, READ_CONTROL | WRITE_DAC | FILE_READ_ATTRIBUTES |
                                               FILE_WRITE_ATTRIBUTES,
                                     dir_fd, name);
    int rc = w == INVALID_HANDLE_VALUE ? -1 : 0;
    if (rc == 0 && sd)
        rc = set_owner(held, w, sd, dir_fd, name);
    if (rc == 0 && sd && target_perm)
        rc = set_dacl(w, sd);
    FILE_BASIC_INFO bi;
    if (rc == 0 && !GetFileInformationByHandleEx(w, FileBasicInfo, &bi, sizeof bi))
        rc = tmpf__win_fail();
    if (rc == 0) {
        DWORD attrs = (bi.FileAttributes & ~(DWORD)(KEPT_ATTRS | FILE_ATTRIBUTE_TEMPORARY)) |
                      (target_attrs & KEPT_ATTRS);
        if (attrs != bi.FileAttributes) {
            FILE_BASIC_INFO set = {0}; /* zero times: left as they are */
            set.FileAttributes = attrs ? attrs : FILE_ATTRIBUTE_NORMAL;
            if (!SetFileInformationByHandle(w, FileBasicInfo, &set, sizeof set))
                rc = tmpf__win_fail();
        }
    }
    int saved = errno;
    if (w != INVALID_HANDLE_VALUE)
        CloseHandle(w);
    LocalFree(sd);
    errno = saved;
    return rc;
}

int tmpf__os_copy_xattrs(int dir_fd, const char *name, int to_fd)
{
    /* The DACL, also where the caller chose the permissions (without
     * TMPF_KEEP_XATTRS tmpf__os_take_owner keeps it only where it did
     * not). */
    HANDLE held = tmpf__win_handle(to_fd);
    if (held == INVALID_HANDLE_VALUE)
        return -1;
    PSECURITY_DESCRIPTOR sd = NULL;
    if (read_target(dir_fd, name, DACL_SECURITY_INFORMATION, &sd, NULL) != 0)
        return -1;
    if (!sd)
        return 0;
    HANDLE w = tmpf__win_reopen_same(held, WRITE_DAC, dir_fd, name);
    int rc = w == INVALID_HANDLE_VALUE ? -1 : set_dacl(w, sd);
    int saved = errno;
    if (w != INVALID_HANDLE_VALUE)
        CloseHandle(w);
    LocalFree(sd);
    errno = saved;
    return rc;
}
