/* System primitives for persist.c: rename without replacing, naming an
 * unnamed file, fsync (counted, so tests can prove the durable path costs
 * exactly two), and the lock and sweep of the fixed side name. */
#include "../internal.h"
#include "tmpf_features.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>
#if TMPF_HAVE_RENAMEAT2
#include <sys/syscall.h>
#ifndef RENAME_NOREPLACE
#define RENAME_NOREPLACE (1 << 0)
#endif
/* Set once the kernel said renameat2 does not exist (ENOSYS). */
static atomic_bool renameat2_missing;
#endif
static _Atomic(unsigned long) fsync_calls;

unsigned long tmpf__test_fsync_count(void)
{
    return atomic_load_explicit(&fsync_calls, memory_order_relaxed);
}

/* link + unlink: the portable no-replace move. If the old name cannot be
 * removed the new one is taken back, so nothing changed. */
static int link_then_unlink(int from_dir, const char *from, int to_dir,
                            const char *to)
{
    if (linkat(from_dir, from, to_dir, to, 0) != 0) {
        /* link(2) looks the new name up before it compares file systems:
         * an existing target on another one says EEXIST, where rename(2)
         * (and renameat2) say EXDEV. Say what the move would. A target on
         * the same file system but another mount (a bind mount) still
         * says EEXIST: st_dev cannot tell. */
        struct stat a, b;
        int err = errno;
        if (err == EEXIST && fstatat(from_dir, from, &a, AT_SYMLINK_NOFOLLOW) == 0 &&
            fstatat(to_dir, to, &b, AT_SYMLINK_NOFOLLOW) == 0 && a.st_dev != b.st_dev)
            err = EXDEV;
        errno = err;
        return -1;
    }
    if (unlinkat(from_dir, from, 0) != 0) {
        int saved = errno;
        unlinkat(to_dir, to, 0);
        errno = saved;
        return -1;
    }
    return 0;
}

int tmpf__os_rename_noreplace(int from_dir, const char *from, int to_dir,
                              const char *to)
{
#if TMPF_HAVE_RENAMEAT2
    if (!atomic_load_explicit(&renameat2_missing, memory_order_relaxed)) {
        /* The raw system call: glibc < 2.28 and some musl lack the wrapper. */
        if (syscall(SYS_renameat2, from_dir, from, to_dir, to,
                    RENAME_NOREPLACE) == 0)
            return 0;
        if (errno == ENOSYS)
            atomic_store_explicit(&renameat2_missing, true, memory_order_relaxed);
        else if (errno != EINVAL) /* EINVAL: this file system lacks the flag */
            return -1;
    }
#elif TMPF_HAVE_RENAMEATX_NP
    /* macOS 10.12+: RENAME_EXCL is the kernel's own no-replace rename;
     * ENOTSUP where the file system lacks it (then link + unlink). */
    if (renameatx_np(from_dir, from, to_dir, to, RENAME_EXCL) == 0)
        return 0;
    if (errno != ENOTSUP && errno != EINVAL)
        return -1;
#endif
    return link_then_unlink(from_dir, from, to_dir, to);
}

#if TMPF_HAVE_PROC_SELF_FD
static int link_proc(int fd, int dir_fd, const char *to)
{
    char proc[32];
    snprintf(proc, sizeof proc, "/proc/self/fd/%d", fd);
    return linkat(AT_FDCWD, proc, dir_fd, to, AT_SYMLINK_FOLLOW);
}
#endif

#if TMPF_HAVE_AT_EMPTY_PATH && TMPF_HAVE_PROC_SELF_FD
/* Set once linkat(AT_EMPTY_PATH) was refused for lack of privilege. */
static atomic_bool empty_path_refused;
#endif

int tmpf__os_link_fd(int fd, int dir_fd, const char *to)
{
#if TMPF_HAVE_AT_EMPTY_PATH && TMPF_HAVE_PROC_SELF_FD
    /* AT_EMPTY_PATH skips a /proc lookup (a few microseconds, and the
     * window in which a crash leaves a side name) but needs
     * CAP_DAC_READ_SEARCH; without it the kernel says ENOENT. Through
     * /proc with AT_SYMLINK_FOLLOW no privilege is needed. */
    if (!atomic_load_explicit(&empty_path_refused, memory_order_relaxed)) {
        if (linkat(fd, "", dir_fd, to, AT_EMPTY_PATH) == 0)
            return 0;
        if (errno != ENOENT)
            return -1;
        if (link_proc(fd, dir_fd, to) != 0)
            return -1; /* ENOENT again: not a privilege matter */
        atomic_store_explicit(&empty_path_refused, true, memory_order_relaxed);
        return 0;
    }
    return link_proc(fd, dir_fd, to);
#elif TMPF_HAVE_PROC_SELF_FD
    return link_proc(fd, dir_fd, to);
#elif TMPF_HAVE_AT_EMPTY_PATH
    /* FreeBSD: linkat(2) names the file behind fd with AT_EMPTY_PATH, no
     * privilege needed and no /proc. */
    return linkat(fd, "", dir_fd, to, AT_EMPTY_PATH);
#else
    /* Nothing names an open file here (generic POSIX, macOS): as Linux
     * answers for a file that was created and then unlinked, ENOENT. The
     * unnamed files of these systems are of that kind anyway (no
     * O_TMPFILE); tmpf_write_atomic uses a named temporary instead. */
    (void)fd;
    struct stat st;
    errno = fstatat(dir_fd, to, &st, AT_SYMLINK_NOFOLLOW) == 0 ? EEXIST : ENOENT;
    return -1;
#endif
}

bool tmpf__os_can_link_fd(void)
{
    return TMPF_HAVE_PROC_SELF_FD || TMPF_HAVE_AT_EMPTY_PATH;
}

bool tmpf__os_can_rename_fd(void) { return false; }

int tmpf__os_rename_fd(int fd, int to_dir, const char *to, bool replace)
{
    /* No rename(2) of a descriptor: persist.c links it (tmpf__os_link_fd)
     * or, where it cannot, moves it by its name. */
    (void)fd, (void)to_dir, (void)to, (void)replace;
    errno = ENOTSUP;
    return -1;
}

int tmpf__os_open_dir(const char *dir)
{
    int fd;
    do
        fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    while (fd < 0 && errno == EINTR);
    return fd;
}

/* The one place that asks the system to make a file durable. */
static int full_sync(int fd)
{
    int rc;
#if TMPF_HAVE_F_FULLFSYNC
    /* macOS: fsync(2) hands the data to the drive, which may keep it in
     * its cache; F_FULLFSYNC asks for the flush to stable storage. Some
     * file systems (network, FAT) refuse it: then fsync. */
    do
        rc = fcntl(fd, F_FULLFSYNC);
    while (rc != 0 && errno == EINTR);
    if (rc == 0)
        return 0;
    if (errno != ENOTSUP && errno != EINVAL && errno != ENOTTY)
        return -1;
#endif
    do
        rc = fsync(fd);
    while (rc != 0 && errno == EINTR);
    return rc;
}

int tmpf__os_fsync(int fd, bool is_dir)
{
    atomic_fetch_add_explicit(&fsync_calls, 1, memory_order_relaxed);
    int rc = full_sync(fd);
    /* Some file systems cannot sync a directory (EINVAL): nothing to do. */
    if (rc != 0 && is_dir && errno == EINVAL)
        rc = 0;
    return rc;
}

int tmpf__os_side_lock(int fd)
{
#if TMPF_HAVE_FLOCK
    return flock(fd, LOCK_EX | LOCK_NB);
#else
    (void)fd;
    errno = EOPNOTSUPP; /* no locks: random side names only */
    return -1;
#endif
}

bool tmpf__os_side_sweep(int dir_fd, const char *side)
{
    int fd;
    do
        fd = openat(dir_fd, side,
                    O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_NOCTTY | O_CLOEXEC);
    while (fd < 0 && errno == EINTR);
    if (fd < 0)
        return errno == ENOENT; /* gone meanwhile: free */
    bool freed = false;
    struct stat held, named;
    /* Only a plain file of ours known by this name alone, that no writer
     * holds: a live writer locks before the name exists (O_TMPFILE) or
     * before writing, and keeps the lock until it has renamed the file. */
    if (fstat(fd, &held) == 0 && S_ISREG(held.st_mode) &&
        held.st_uid == geteuid() && held.st_nlink == 1 &&
        tmpf__os_side_lock(fd) == 0) {
        /* Holding the lock, nobody else can sweep this file, and its owner
         * is gone or has renamed it: if the name still leads to it, the
         * name is stale. */
        if (fstatat(dir_fd, side, &named, AT_SYMLINK_NOFOLLOW) != 0)
            freed = errno == ENOENT;
        else if (named.st_dev == held.st_dev && named.st_ino == held.st_ino)
            freed = unlinkat(dir_fd, side, 0) == 0 || errno == ENOENT;
    }
    int saved = errno;
    close(fd);
    errno = saved;
    return freed;
}

#if TMPF_HAVE_RENAMEAT2 && !defined(RENAME_EXCHANGE)
#define RENAME_EXCHANGE (1 << 1)
#endif

int tmpf__os_rename_exchange(int from_dir, const char *from, int to_dir,
                             const char *to)
{
#if TMPF_HAVE_RENAMEAT2
    if (syscall(SYS_renameat2, from_dir, from, to_dir, to, RENAME_EXCHANGE) == 0)
        return 0;
    /* ENOSYS: no renameat2; EINVAL: this file system cannot exchange. */
    if (errno == ENOSYS || errno == EINVAL)
        errno = ENOTSUP;
    return -1;
#elif TMPF_HAVE_RENAMEATX_NP
    /* macOS 10.12+ (unverified): RENAME_SWAP; ENOTSUP where the file
     * system cannot. */
    if (renameatx_np(from_dir, from, to_dir, to, RENAME_SWAP) == 0)
        return 0;
    if (errno == EINVAL)
        errno = ENOTSUP;
    return -1;
#else
    (void)from_dir, (void)from, (void)to_dir, (void)to;
    errno = ENOTSUP;
    return -1;
#endif
}

int tmpf__os_rename_dir_noreplace(int from_dir, const char *from, int to_dir,
                                  const char *to)
{
#if TMPF_HAVE_RENAMEAT2
    if (!atomic_load_explicit(&renameat2_missing, memory_order_relaxed)) {
        if (syscall(SYS_renameat2, from_dir, from, to_dir, to,
                    RENAME_NOREPLACE) == 0)
            return 0;
        if (errno == ENOSYS)
            atomic_store_explicit(&renameat2_missing, true, memory_order_relaxed);
        else if (errno != EINVAL)
            return -1;
    }
#elif TMPF_HAVE_RENAMEATX_NP
    if (renameatx_np(from_dir, from, to_dir, to, RENAME_EXCL) == 0)
        return 0;
    if (errno != ENOTSUP && errno != EINVAL)
        return -1;
#endif
    /* No link(2) for directories: a look first. rename(2) could only
     * replace an empty directory that appeared in between. */
    struct stat st;
    if (fstatat(to_dir, to, &st, AT_SYMLINK_NOFOLLOW) == 0) {
        errno = EEXIST;
        return -1;
    }
    if (errno != ENOENT)
        return -1;
    return renameat(from_dir, from, to_dir, to);
}

/* fsyncs what dir_fd's directory holds, depth first, then the directory. */
int tmpf__os_sync_tree(int dir_fd)
{
    int dup_fd = fcntl(dir_fd, F_DUPFD_CLOEXEC, 0);
    if (dup_fd < 0)
        return -1;
    DIR *dir = fdopendir(dup_fd);
    if (!dir) {
        int saved = errno;
        close(dup_fd);
        errno = saved;
        return -1;
    }
    /* dup_fd shares dir_fd's offset: read from the start, and leave it
     * there for the caller's own reading (tmpf publish moves the entries
     * back after a failure). */
    rewinddir(dir);
    int rc = 0;
    struct dirent *e;
    while (rc == 0 && (errno = 0, e = readdir(dir)) != NULL) {
        if (!strcmp(e->d_name, ".") || !strcmp(e->d_name, ".."))
            continue;
        struct stat st;
        if (fstatat(dir_fd, e->d_name, &st, AT_SYMLINK_NOFOLLOW) != 0) {
            rc = -1;
            break;
        }
        if (!S_ISDIR(st.st_mode) && !S_ISREG(st.st_mode))
            continue; /* a symlink or special file: its entry is the dir's */
        int fd;
        do
            fd = openat(dir_fd, e->d_name,
                        O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC |
                            (S_ISDIR(st.st_mode) ? O_DIRECTORY : 0));
        while (fd < 0 && errno == EINTR);
        if (fd < 0) {
            rc = -1;
            break;
        }
        rc = S_ISDIR(st.st_mode) ? tmpf__os_sync_tree(fd) : tmpf__os_fsync(fd, false);
        int saved = errno;
        close(fd);
        errno = saved;
    }
    if (rc == 0 && errno != 0 && e == NULL)
        rc = -1;
    int saved = errno;
    rewinddir(dir);
    closedir(dir);
    errno = saved;
    if (rc != 0)
        return -1;
    return tmpf__os_fsync(dir_fd, true);
}

int tmpf__os_is_dir_at(int dir_fd, const char *name)
{
    struct stat st;
    if (fstatat(dir_fd, name, &st, AT_SYMLINK_NOFOLLOW) != 0)
        return -1;
    return S_ISDIR(st.st_mode) ? 1 : 0;
}

int tmpf__os_chmod_fd(int fd, unsigned perm)
{
    return fchmod(fd, (mode_t)perm);
}

int tmpf__os_rename(int from_dir, const char *from, int to_dir, const char *to)
{
    return renameat(from_dir, from, to_dir, to);
}

int tmpf__os_unlink_at(int dir_fd, const char *name)
{
    return unlinkat(dir_fd, name, 0);
}

int tmpf__os_open_read_nofollow(const char *path)
{
    int fd;
    do
        fd = open(path, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
    while (fd < 0 && errno == EINTR);
    return fd;
}

int tmpf__os_reopen_read(int fd)
{
    return tmpf__os_reopen_fd(fd, O_RDONLY);
}
