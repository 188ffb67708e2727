/* The checks and removal of one entry for tmpf_sweep: owned by the
 * effective uid, old enough (mtime), not locked by a live holder (a
 * temporary made with TMPF_LOCK holds flock(LOCK_SH) while it lives; the
 * sweep must get LOCK_EX without waiting, and removes the entry while
 * holding it). Symlinks are removed themselves; directories go through
 * tmpf__os_rmtree (walk.c). */
#include "../internal.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

int tmpf__os_list_dir(const char *dir,
                      int (*fn)(int dir_fd, const char *name, void *ctx), void *ctx)
{
    DIR *d = opendir(dir);
    if (!d)
        return -1;
    int fd = dirfd(d);
    struct dirent *e;
    for (;;) {
        errno = 0;
        e = readdir(d);
        if (!e)
            break;
        if (fn(fd, e->d_name, ctx) != 0)
            break;
    }
    int err = errno;
    closedir(d);
    if (err) {
        errno = err;
        return -1;
    }
    return 0;
}

int tmpf__os_sweep_entry(int dir_fd, const char *dir, const char *name,
                         long long now, unsigned min_age, bool dry_run)
{
    struct stat st;
    if (fstatat(dir_fd, name, &st, AT_SYMLINK_NOFOLLOW) != 0)
        return 0;
    if (st.st_uid != geteuid() || now - (long long)st.st_mtime < (long long)min_age)
        return 0;
    if (!S_ISDIR(st.st_mode) && !S_ISREG(st.st_mode)) {
        /* A symlink (never followed), a fifo, a socket: no lock to ask. */
        if (dry_run)
            return 1;
        return unlinkat(dir_fd, name, 0) == 0 ? 1 : 0;
    }
    int fd;
    do
        fd = openat(dir_fd, name,
                    O_RDONLY | O_NOFOLLOW | O_CLOEXEC | O_NONBLOCK | O_NOCTTY |
                        (S_ISDIR(st.st_mode) ? O_DIRECTORY : 0));
    while (fd < 0 && errno == EINTR);
    if (fd < 0)
        return 0;
    struct stat now_st;
    int result = 0;
    if (fstat(fd, &now_st) != 0 || now_st.st_dev != st.st_dev ||
        now_st.st_ino != st.st_ino)
        goto out; /* replaced since the look */
    int rc;
    do
        rc = flock(fd, LOCK_EX | LOCK_NB);
    while (rc != 0 && errno == EINTR);
    if (rc != 0)
        goto out; /* a live holder */
    if (dry_run) {
        result = 1;
        goto out;
    }
    if (S_ISDIR(st.st_mode)) {
        result = tmpf__os_rmtree(dir, name) == 0 ? 1 : 0;
    } else {
        struct stat again;
        if (fstatat(dir_fd, name, &again, AT_SYMLINK_NOFOLLOW) == 0 &&
            again.st_dev == st.st_dev && again.st_ino == st.st_ino)
            result = unlinkat(dir_fd, name, 0) == 0 ? 1 : 0;
    }
out:
    close(fd);
    return result;
}
