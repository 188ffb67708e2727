/* System primitives for what a replaced file keeps (persist.c): its owner
 * and group, its extended attributes and ACL, and the identity checks that
 * make persist move the file tmpf holds and nothing else.
 *
 * Extended attributes come in three dialects, chosen by the probes
 * (cmake/features.cmake): Linux's f*xattr (TMPF_HAVE_XATTR; the POSIX ACL
 * is the xattr system.posix_acl_access), macOS's f*xattr with a position
 * and an options argument (TMPF_HAVE_XATTR_OPTIONS), the BSDs' extattr_*_fd
 * (TMPF_HAVE_EXTATTR; names listed as a length byte and the name). Where
 * ACLs are not xattrs (macOS, FreeBSD) they go through acl_get_fd and
 * acl_set_fd (TMPF_HAVE_ACL_FD). Only the Linux dialect is compiled and
 * run here; the other two are written to their manual pages. */
#include "../internal.h"
#include "tmpf_features.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#if TMPF_HAVE_XATTR || TMPF_HAVE_XATTR_OPTIONS
#include <sys/xattr.h>
#elif TMPF_HAVE_EXTATTR
#include <sys/types.h>
#include <sys/extattr.h>
#endif
#if TMPF_HAVE_ACL_FD && !TMPF_HAVE_XATTR
#include <sys/acl.h>
#define KEEP_ACL_FD 1
#else
#define KEEP_ACL_FD 0
#endif

int tmpf__os_take_owner(int fd, int dir_fd, const char *name, bool target_perm,
                        const struct tmpf__os_facts *want,
                        const struct tmpf__os_facts *have)
{
    /* The permission bits are persist.c's fchmod: nothing more here. */
    (void)dir_fd, (void)name, (void)target_perm;
    if (want->uid == have->uid && want->gid == have->gid)
        return 0;
    if (fchown(fd, (uid_t)want->uid, (gid_t)want->gid) == 0)
        return 0;
    if (errno != EPERM)
        return -1;
    /* Not root: the group alone, if the writer belongs to it. */
    if (want->gid != have->gid && fchown(fd, (uid_t)-1, (gid_t)want->gid) == 0)
        return 0;
    return errno == EPERM ? 0 : -1;
}

#if TMPF_HAVE_XATTR
/* "No such attribute" and "no attributes on this file system". */
#define NO_ATTR ENODATA
/* The attributes that describe who may do what with a file, and what it
 * is: user.*, security.* (the SELinux label, ...) and the access ACL.
 * Not security.capability: like setuid bits, file capabilities are a
 * grant to the old content and are not carried over to new content.
 * Not trusted.* (needs CAP_SYS_ADMIN, and is the file system's own). */
static bool kept_xattr(const char *name)
{
    if (!strcmp(name, "security.capability"))
        return false;
    return !strncmp(name, "user.", 5) || !strncmp(name, "security.", 9) ||
           !strcmp(name, "system.posix_acl_access");
}

static ssize_t x_list(int fd, char *buf, size_t n) { return flistxattr(fd, buf, n); }
static ssize_t x_get(int fd, const char *name, void *buf, size_t n)
{
    return fgetxattr(fd, name, buf, n);
}
static int x_set(int fd, const char *name, const void *val, size_t n)
{
    return fsetxattr(fd, name, val, n, 0);
}
#elif TMPF_HAVE_XATTR_OPTIONS
/* macOS (unverified: written to getxattr(2), setxattr(2), listxattr(2)).
 * Position 0: only the resource fork has others. Options 0:
 * XATTR_NOFOLLOW is for the path calls (the source was opened following
 * the target's link, like every other look at it) and XATTR_SHOWCOMPRESSION
 * stays off, so the file system's own decmpfs attribute is not seen. */
#define NO_ATTR ENOATTR
/* One namespace: everything is kept except the resource fork, which is
 * content (the old file's, not the new one's). */
static bool kept_xattr(const char *name)
{
    return strcmp(name, XATTR_RESOURCEFORK_NAME) != 0;
}

static ssize_t x_list(int fd, char *buf, size_t n) { return flistxattr(fd, buf, n, 0); }
static ssize_t x_get(int fd, const char *name, void *buf, size_t n)
{
    return fgetxattr(fd, name, buf, n, 0, 0);
}
static int x_set(int fd, const char *name, const void *val, size_t n)
{
    return fsetxattr(fd, name, val, n, 0, 0);
}
#elif TMPF_HAVE_EXTATTR
/* FreeBSD, NetBSD (unverified: written to extattr(2)). The user namespace
 * only: the system namespace needs privilege and holds the file system's
 * own data (UFS keeps ACLs there; they go through acl_*_fd instead). A
 * buffer too small truncates instead of saying ERANGE: read_all's extra
 * byte tells. */
#define NO_ATTR ENOATTR
static bool kept_xattr(const char *name)
{
    (void)name;
    return true;
}

/* The list is a length byte before each name, no NULs: rewritten in place
 * as NUL-terminated names, the form the other dialects give. */
static ssize_t x_list(int fd, char *buf, size_t n)
{
    ssize_t got = extattr_list_fd(fd, EXTATTR_NAMESPACE_USER, buf, n);
    if (got <= 0 || !buf)
        return got;
    for (ssize_t at = 0; at < got;) {
        size_t len = (unsigned char)buf[at];
        if (at + 1 + (ssize_t)len > got)
            return got; /* truncated: the caller reads again */
        memmove(buf + at, buf + at + 1, len);
        buf[at + (ssize_t)len] = '\0';
        at += (ssize_t)len + 1;
    }
    return got;
}
static ssize_t x_get(int fd, const char *name, void *buf, size_t n)
{
    return extattr_get_fd(fd, EXTATTR_NAMESPACE_USER, name, buf, n);
}
static int x_set(int fd, const char *name, const void *val, size_t n)
{
    return extattr_set_fd(fd, EXTATTR_NAMESPACE_USER, name, val, n) < 0 ? -1 : 0;
}
#endif

#if TMPF_CAN_KEEP_XATTRS
/* What call(fd, name, buf, size) returns, in a malloc'd buffer (*len bytes;
 * NULL for none). One byte more than asked for is read, so a value that
 * grew meanwhile shows (as ERANGE or as a longer read) and is read again.
 * -1 in *len with errno on failure. */
static void *read_all(int fd, const char *name, ssize_t *len)
{
    for (;;) {
        ssize_t n = name ? x_get(fd, name, NULL, 0) : x_list(fd, NULL, 0);
        if (n < 0) {
            *len = -1;
            return NULL;
        }
        char *buf = tmpf__malloc((size_t)n + 1);
        if (!buf) {
            *len = -1;
            return NULL;
        }
        ssize_t got = name ? x_get(fd, name, buf, (size_t)n + 1)
                           : x_list(fd, buf, (size_t)n + 1);
        if (got >= 0 && got <= n) {
            *len = got;
            return buf;
        }
        int saved = errno;
        free(buf);
        if (got < 0 && saved != ERANGE) {
            errno = saved;
            *len = -1;
            return NULL;
        }
    }
}

/* Copies one attribute from src to dst (none if it went meanwhile). */
static int copy_one(int src, int dst, const char *name)
{
    ssize_t n;
    char *val = read_all(src, name, &n);
    if (n < 0)
        return errno == NO_ATTR ? 0 : -1;
    int rc = x_set(dst, name, val ? val : "", (size_t)n);
    int saved = errno;
    free(val);
    errno = saved;
    return rc;
}

static int copy_attrs(int src, int to_fd)
{
    ssize_t len;
    char *names = read_all(src, NULL, &len);
    if (len < 0)
        return errno == ENOTSUP || errno == EOPNOTSUPP ? 0 : -1; /* none here */
    int rc = 0;
    for (ssize_t at = 0; rc == 0 && at < len; at += (ssize_t)strlen(names + at) + 1) {
        if (kept_xattr(names + at))
            rc = copy_one(src, to_fd, names + at);
    }
    int saved = errno;
    free(names);
    errno = saved;
    return rc;
}
#endif

#if KEEP_ACL_FD
/* The ACL where it is not an xattr (unverified: written to acl_get_fd(3)
 * and acl_set_fd(3)). macOS: the extended ACL, none is ENOENT. FreeBSD:
 * the access ACL (NFSv4 on ZFS), a file system without ACLs EOPNOTSUPP or
 * EINVAL. The permission bits are set again afterwards (persist.c). */
static int copy_acl(int src, int to_fd)
{
    acl_t acl = acl_get_fd(src);
    if (!acl)
        return errno == ENOENT || errno == EOPNOTSUPP || errno == ENOTSUP ||
                       errno == EINVAL
                   ? 0
                   : -1;
    int rc = acl_set_fd(to_fd, acl);
    int saved = errno;
    acl_free(acl);
    errno = saved;
    return rc;
}
#endif

int tmpf__os_copy_xattrs(int dir_fd, const char *name, int to_fd)
{
#if TMPF_CAN_KEEP_XATTRS || KEEP_ACL_FD
    int src;
    do
        src = openat(dir_fd, name, O_RDONLY | O_NONBLOCK | O_NOCTTY | O_CLOEXEC);
    while (src < 0 && errno == EINTR);
    if (src < 0)
        return -1;
    int rc = 0;
#if TMPF_CAN_KEEP_XATTRS
    rc = copy_attrs(src, to_fd);
#endif
#if KEEP_ACL_FD
    if (rc == 0)
        rc = copy_acl(src, to_fd);
#endif
    int saved = errno;
    close(src);
    errno = saved;
#if !TMPF_CAN_KEEP_XATTRS
    if (rc == 0) {
        errno = ENOTSUP; /* the ACL kept, the attributes could not be */
        rc = -1;
    }
#endif
    return rc;
#else
    /* No way to read attributes in this build (generic POSIX): keeping
     * them cannot be promised, and failing to keep them is an error. */
    (void)dir_fd, (void)name, (void)to_fd;
    errno = ENOTSUP;
    return -1;
#endif
}

int tmpf__os_is_file_at(int dir_fd, const char *name, int fd)
{
    struct stat held, named;
    if (fstat(fd, &held) != 0)
        return -1;
    if (fstatat(dir_fd, name, &named, AT_SYMLINK_NOFOLLOW) != 0)
        return errno == ENOENT ? 0 : -1;
    return named.st_dev == held.st_dev && named.st_ino == held.st_ino;
}

int tmpf__os_unlink_if_file(int dir_fd, const char *name, int fd)
{
    int same = tmpf__os_is_file_at(dir_fd, name, fd);
    if (same <= 0)
        return same;
    if (unlinkat(dir_fd, name, 0) != 0)
        return errno == ENOENT ? 0 : -1;
    return 1;
}

int tmpf__os_same_device(int fd1, int fd2)
{
    struct stat a, b;
    if (fstat(fd1, &a) != 0 || fstat(fd2, &b) != 0)
        return -1;
    return a.st_dev == b.st_dev;
}

int tmpf__os_other_device_at(int fd, int dir_fd, const char *name)
{
    struct stat a, b;
    if (fstat(fd, &a) != 0 || fstatat(dir_fd, name, &b, AT_SYMLINK_NOFOLLOW) != 0)
        return -1;
    return a.st_dev != b.st_dev;
}
