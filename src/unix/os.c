/* System primitives for Linux and other POSIX systems. The portable code
 * in src/ calls only these, so a port replaces this directory. */
#include "../internal.h"
#include "tmpf_features.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>
#if TMPF_HAVE_SYS_RANDOM_H
#include <sys/random.h>
#endif

/* The kernel's generator without a descriptor: getrandom (Linux),
 * getentropy (POSIX 2024: glibc, musl, the BSDs, macOS; at most 256
 * bytes a call), arc4random_buf (BSD, macOS; cannot fail). Returns 0, or
 * -1 with errno; ENOSYS when none is built in or the kernel refuses them
 * all (a seccomp filter, a kernel older than the call). */
static int random_no_fd(unsigned char *p, size_t n)
{
#if TMPF_HAVE_GETRANDOM
    while (n > 0) {
        ssize_t got = getrandom(p, n, 0);
        if (got < 0) {
            if (errno == EINTR)
                continue;
            if (errno == ENOSYS || errno == EPERM)
                break; /* old kernel or seccomp filter */
            return -1;
        }
        p += got;
        n -= (size_t)got;
    }
    if (n == 0)
        return 0;
#endif
#if TMPF_HAVE_GETENTROPY
    while (n > 0) {
        size_t chunk = n < 256 ? n : 256;
        if (getentropy(p, chunk) != 0) {
            if (errno == ENOSYS || errno == EPERM)
                break;
            return -1;
        }
        p += chunk;
        n -= chunk;
    }
    if (n == 0)
        return 0;
#endif
#if TMPF_HAVE_ARC4RANDOM_BUF
    arc4random_buf(p, n);
    return 0;
#else
    (void)p;
    (void)n;
    errno = ENOSYS;
    return -1;
#endif
}

int tmpf__os_random(void *buf, size_t n)
{
    unsigned char *p = buf;
    if (random_no_fd(p, n) == 0)
        return 0;
    if (errno != ENOSYS)
        return -1;
    /* The last resort, for a system with none of the calls above or a
     * kernel that refuses them: the one path that needs a descriptor. */
    int fd = open("/dev/urandom", O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return -1;
    while (n > 0) {
        ssize_t got = read(fd, p, n);
        if (got <= 0) {
            if (got < 0 && errno == EINTR)
                continue;
            int saved = got < 0 ? errno : EIO;
            close(fd);
            errno = saved;
            return -1;
        }
        p += got;
        n -= (size_t)got;
    }
    close(fd);
    return 0;
}

atomic_uint *tmpf__os_fork_canary(void)
{
#if TMPF_HAVE_MAP_ANONYMOUS && (TMPF_HAVE_MADV_WIPEONFORK || TMPF_HAVE_MINHERIT_ZERO)
    long page = sysconf(_SC_PAGESIZE);
    size_t size = page > 0 ? (size_t)page : 4096;
    int saved = errno;
    void *p = mmap(NULL, size, PROT_READ | PROT_WRITE,
                   MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (p == MAP_FAILED) {
        errno = saved;
        return NULL;
    }
    /* Linux 4.14+: MADV_WIPEONFORK; FreeBSD, OpenBSD: INHERIT_ZERO. Both
     * give a child the page zero-filled, however it was forked. */
#if TMPF_HAVE_MADV_WIPEONFORK
    int rc = madvise(p, size, MADV_WIPEONFORK);
#else
    int rc = minherit(p, size, INHERIT_ZERO);
#endif
    if (rc != 0) {
        munmap(p, size);
        errno = saved;
        return NULL;
    }
    atomic_uint *word = p;
    atomic_store_explicit(word, 1, memory_order_relaxed);
    return word;
#else
    return NULL;
#endif
}

int tmpf__os_create_file(const char *path, unsigned perm, unsigned flags)
{
    return tmpf__os_create_file_at(AT_FDCWD, path, perm, flags);
}

int tmpf__os_create_file_at(int dir_fd, const char *name, unsigned perm,
                            unsigned flags)
{
    int oflags = O_RDWR | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC;
#if TMPF_HAVE_O_TEXT
    if (flags & TMPF_TEXT)
        oflags |= O_TEXT;
#else
    (void)flags;
#endif
    int fd;
    do
        fd = openat(dir_fd, name, oflags, (mode_t)perm);
    while (fd < 0 && errno == EINTR);
    return fd;
}

int tmpf__os_create_dir(const char *path, unsigned perm)
{
    return mkdir(path, (mode_t)perm);
}

int tmpf__os_open_tmpfile(int dir_fd, const char *dir, unsigned perm)
{
#if TMPF_HAVE_O_TMPFILE
    int fd;
    do
        fd = openat(dir_fd, dir, O_TMPFILE | O_RDWR | O_CLOEXEC, (mode_t)perm);
    while (fd < 0 && errno == EINTR);
    return fd;
#else
    (void)dir_fd;
    (void)dir;
    (void)perm;
    errno = EOPNOTSUPP;
    return -1;
#endif
}

bool tmpf__os_tmpfile_unsupported(int err)
{
    /* EISDIR: the kernel predates O_TMPFILE (it reads the flag as
     * O_DIRECTORY). EOPNOTSUPP, and EINVAL on some file systems: no
     * unnamed files on this one. */
    return err == EOPNOTSUPP || err == EISDIR || err == EINVAL;
}

bool tmpf__os_lexists(const char *path)
{
    struct stat st;
    return lstat(path, &st) == 0;
}

char *tmpf__os_getcwd(char drive)
{
    (void)drive; /* no drives: always 0 */
    size_t size = 256;
    for (;;) {
        char *buf = tmpf__malloc(size);
        if (!buf)
            return NULL;
        if (getcwd(buf, size))
            return buf;
        int saved = errno;
        free(buf);
        if (saved != ERANGE) {
            errno = saved;
            return NULL;
        }
        size *= 2;
    }
}

const char *tmpf__os_secure_getenv(const char *name)
{
    /* secure_getenv: glibc and musl; issetugid: the BSDs and macOS (also
     * true after a set-id exec that dropped back); elsewhere compare ids. */
#if TMPF_HAVE_SECURE_GETENV
    return secure_getenv(name);
#elif TMPF_HAVE_ISSETUGID
    return issetugid() ? NULL : getenv(name);
#else
    if (getuid() != geteuid() || getgid() != getegid())
        return NULL;
    return getenv(name);
#endif
}

int tmpf__os_write_all(int fd, const void *data, size_t n)
{
    const char *p = data;
    while (n > 0) {
        ssize_t put = write(fd, p, n);
        if (put < 0) {
            if (errno == EINTR)
                continue;
            return -1;
        }
        p += put;
        n -= (size_t)put;
    }
    return 0;
}

int tmpf__os_close(int fd)
{
    int saved = errno;
    if (close(fd) != 0 && errno != EINTR)
        return -1;
    errno = saved;
    return 0;
}

int tmpf__os_unlink(const char *path) { return unlink(path); }

int tmpf__os_rmdir(const char *path) { return rmdir(path); }

int64_t tmpf__os_seek(int fd, int64_t offset, int whence)
{
    return (int64_t)lseek(fd, (off_t)offset, whence);
}

ssize_t tmpf__os_read_full(int fd, void *buf, size_t n)
{
    size_t done = 0;
    while (done < n) {
        ssize_t got = read(fd, (char *)buf + done, n - done);
        if (got < 0) {
            if (errno == EINTR)
                continue;
            return done ? (ssize_t)done : -1;
        }
        if (got == 0)
            break;
        done += (size_t)got;
    }
    return (ssize_t)done;
}

int tmpf__os_truncate(int fd, int64_t size)
{
    int rc;
    do
        rc = ftruncate(fd, (off_t)size);
    while (rc != 0 && errno == EINTR);
    return rc;
}

const int tmpf__os_cwd_fd = AT_FDCWD;

const char *const *tmpf__os_tempdir_candidates(void)
{
    /* Python's list for POSIX systems. */
    static const char *const dirs[] = {"/tmp", "/var/tmp", "/usr/tmp", NULL};
    return dirs;
}
