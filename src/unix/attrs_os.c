/* System primitives for what a replaced file keeps (persist.c): its owner
 * and group, its extended attributes and POSIX ACL, and the identity
 * checks that make persist move the file tmpf holds and nothing else. */
#include "../internal.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#if defined(__linux__)
#include <sys/xattr.h>
#endif

int tmpf__os_take_owner(int fd, const struct tmpf__os_facts *want,
                        const struct tmpf__os_facts *have)
{
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

#if defined(__linux__)
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

/* flistxattr into a malloc'd buffer; *len 0 and NULL for none. */
static char *list_xattrs(int fd, ssize_t *len)
{
    for (;;) {
        ssize_t n = flistxattr(fd, NULL, 0);
        if (n < 0) {
            if (errno == ENOTSUP) { /* no xattrs here: nothing to keep */
                *len = 0;
                return NULL;
            }
            *len = -1;
            return NULL;
        }
        *len = n;
        if (n == 0)
            return NULL;
        char *buf = tmpf__malloc((size_t)n);
        if (!buf) {
            *len = -1;
            return NULL;
        }
        ssize_t got = flistxattr(fd, buf, (size_t)n);
        if (got >= 0) {
            *len = got;
            return buf;
        }
        free(buf);
        if (errno != ERANGE) { /* ERANGE: grew meanwhile, again */
            *len = -1;
            return NULL;
        }
    }
}

/* Copies one attribute from src to dst. */
static int copy_one(int src, int dst, const char *name)
{
    for (;;) {
        ssize_t n = fgetxattr(src, name, NULL, 0);
        if (n < 0)
            return errno == ENODATA ? 0 : -1; /* removed meanwhile */
        char *val = tmpf__malloc(n ? (size_t)n : 1);
        if (!val)
            return -1;
        ssize_t got = fgetxattr(src, name, val, (size_t)n);
        if (got >= 0) {
            int rc = fsetxattr(dst, name, val, (size_t)got, 0);
            int saved = errno;
            free(val);
            errno = saved;
            return rc;
        }
        int saved = errno;
        free(val);
        if (saved == ENODATA)
            return 0;
        if (saved != ERANGE) {
            errno = saved;
            return -1;
        }
    }
}

int tmpf__os_copy_xattrs(int dir_fd, const char *name, int to_fd)
{
    int src;
    do
        src = openat(dir_fd, name, O_RDONLY | O_NONBLOCK | O_NOCTTY | O_CLOEXEC);
    while (src < 0 && errno == EINTR);
    if (src < 0)
        return -1;
    ssize_t len;
    char *names = list_xattrs(src, &len);
    int rc = len < 0 ? -1 : 0;
    for (ssize_t at = 0; rc == 0 && at < len; at += (ssize_t)strlen(names + at) + 1) {
        if (kept_xattr(names + at))
            rc = copy_one(src, to_fd, names + at);
    }
    int saved = errno;
    free(names);
    close(src);
    errno = saved;
    return rc;
}
#else
int tmpf__os_copy_xattrs(int dir_fd, const char *name, int to_fd)
{
    (void)dir_fd;
    (void)name;
    (void)to_fd;
    return 0;
}
#endif

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
