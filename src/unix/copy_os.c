/* Copies for TMPF_ACROSS_FS (persist.c, dir_persist.c): a file's data
 * (copy_file_range, which the kernel may turn into a reflink or a server
 * side copy; read/write where it cannot), holes kept (SEEK_DATA /
 * SEEK_HOLE), and a whole tree. */
#include "../internal.h"
#include "tmpf_features.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define COPY_CHUNK ((size_t)1 << 20)

/* Copies [off, end) of from to the same offsets of to. */
static int copy_range(int from, int to, off_t off, off_t end, bool *no_cfr)
{
    while (off < end) {
        size_t want = (size_t)(end - off) < COPY_CHUNK ? (size_t)(end - off) : COPY_CHUNK;
#if TMPF_HAVE_COPY_FILE_RANGE
        if (!*no_cfr) {
            off_t in = off, out = off;
            ssize_t n = copy_file_range(from, &in, to, &out, want, 0);
            if (n > 0) {
                off += n;
                continue;
            }
            if (n == 0)
                break; /* the source shrank */
            if (errno == EINTR)
                continue;
            if (errno != EXDEV && errno != ENOSYS && errno != EINVAL &&
                errno != EOPNOTSUPP && errno != EBADF)
                return -1;
            *no_cfr = true; /* not between these two: plain reads and writes */
        }
#else
        (void)no_cfr;
#endif
        char buf[64 * 1024];
        if (want > sizeof buf)
            want = sizeof buf;
        ssize_t got = pread(from, buf, want, off);
        if (got < 0) {
            if (errno == EINTR)
                continue;
            return -1;
        }
        if (got == 0)
            break;
        for (ssize_t done = 0; done < got;) {
            ssize_t put = pwrite(to, buf + done, (size_t)(got - done), off + done);
            if (put < 0) {
                if (errno == EINTR)
                    continue;
                return -1;
            }
            done += put;
        }
        off += got;
    }
    return 0;
}

int tmpf__os_copy_data(int from, int to)
{
    struct stat st;
    if (fstat(from, &st) != 0)
        return -1;
    /* SEEK_DATA moves from's offset, which its owner may rely on. */
    off_t pos = lseek(from, 0, SEEK_CUR);
    bool no_cfr = false;
    int rc = 0;
    off_t off = 0;
    while (rc == 0 && off < st.st_size) {
#if TMPF_HAVE_SEEK_DATA
        off_t data = lseek(from, off, SEEK_DATA);
        if (data < 0) {
            if (errno == ENXIO)
                break; /* a hole up to the end */
            data = off; /* no SEEK_DATA here: all of it is data */
        }
        off_t hole = lseek(from, data, SEEK_HOLE);
#else
        off_t data = off, hole = st.st_size; /* holes become zeros */
#endif
        if (hole <= data || hole > st.st_size)
            hole = st.st_size; /* no SEEK_HOLE, or the file changed size */
        rc = copy_range(from, to, data, hole, &no_cfr);
        off = hole;
    }
    int saved = errno;
    if (pos >= 0)
        lseek(from, pos, SEEK_SET);
    if (rc == 0 && tmpf__os_truncate(to, (int64_t)st.st_size) != 0)
        return -1; /* a hole at the end */
    errno = saved;
    return rc;
}

static int open_at(int dir_fd, const char *name, int flags, unsigned mode)
{
    int fd;
    do
        fd = openat(dir_fd, name, flags | O_CLOEXEC | O_NOFOLLOW, (mode_t)mode);
    while (fd < 0 && errno == EINTR);
    return fd;
}

/* Copies entry name of from_dir (status *st) into to_dir. */
static int copy_entry(int from_dir, int to_dir, const char *name,
                      const struct stat *st)
{
    unsigned mode = (unsigned)(st->st_mode & 07777);
    if (S_ISLNK(st->st_mode)) {
        char target[PATH_MAX];
        ssize_t n = readlinkat(from_dir, name, target, sizeof target - 1);
        if (n < 0)
            return -1;
        target[n] = '\0';
        return symlinkat(target, to_dir, name);
    }
    if (!S_ISREG(st->st_mode) && !S_ISDIR(st->st_mode)) {
        errno = ENOTSUP; /* a device, FIFO or socket is not copied */
        return -1;
    }
    int src = open_at(from_dir, name,
                      O_RDONLY | O_NONBLOCK | (S_ISDIR(st->st_mode) ? O_DIRECTORY : 0),
                      0);
    if (src < 0)
        return -1;
    int dst;
    if (S_ISDIR(st->st_mode)) {
        dst = mkdirat(to_dir, name, 0700) == 0
                  ? open_at(to_dir, name, O_RDONLY | O_DIRECTORY, 0)
                  : -1;
    } else {
        dst = open_at(to_dir, name, O_WRONLY | O_CREAT | O_EXCL, 0600);
    }
    int rc = -1;
    if (dst >= 0) {
        rc = S_ISDIR(st->st_mode) ? tmpf__os_copy_tree(src, dst)
                                  : tmpf__os_copy_data(src, dst);
        if (rc == 0 && !S_ISDIR(st->st_mode))
            rc = fchmod(dst, (mode_t)mode);
    }
    int saved = errno;
    if (dst >= 0)
        close(dst);
    close(src);
    errno = saved;
    return rc;
}

int tmpf__os_copy_tree(int from_dir_fd, int to_dir_fd)
{
    int dup_fd = fcntl(from_dir_fd, F_DUPFD_CLOEXEC, 0);
    if (dup_fd < 0)
        return -1;
    DIR *dir = fdopendir(dup_fd);
    if (!dir) {
        int saved = errno;
        close(dup_fd);
        errno = saved;
        return -1;
    }
    rewinddir(dir);
    int rc = 0;
    struct dirent *e;
    while (rc == 0 && (errno = 0, e = readdir(dir)) != NULL) {
        if (!strcmp(e->d_name, ".") || !strcmp(e->d_name, ".."))
            continue;
        struct stat st;
        rc = fstatat(from_dir_fd, e->d_name, &st, AT_SYMLINK_NOFOLLOW);
        if (rc == 0)
            rc = copy_entry(from_dir_fd, to_dir_fd, e->d_name, &st);
    }
    if (rc == 0 && !e && errno != 0)
        rc = -1;
    struct stat self;
    if (rc == 0)
        rc = fstat(from_dir_fd, &self) == 0 ? fchmod(to_dir_fd, self.st_mode & 07777)
                                            : -1;
    int saved = errno;
    closedir(dir);
    errno = saved;
    return rc;
}

int tmpf__os_make_dir_at(int dir_fd, const char *name, unsigned perm)
{
    return mkdirat(dir_fd, name, (mode_t)perm);
}

int tmpf__os_replace_fd(int fd, int new_fd)
{
    off_t pos = lseek(fd, 0, SEEK_CUR);
    if (pos >= 0 && lseek(new_fd, pos, SEEK_SET) < 0)
        return -1;
    int flags = fcntl(fd, F_GETFD);
    int rc;
#if TMPF_HAVE_DUP3
    do
        rc = dup3(new_fd, fd, flags >= 0 && (flags & FD_CLOEXEC) ? O_CLOEXEC : 0);
    while (rc < 0 && errno == EINTR);
#else
    do
        rc = dup2(new_fd, fd);
    while (rc < 0 && errno == EINTR);
    if (rc >= 0 && flags >= 0 && (flags & FD_CLOEXEC))
        fcntl(fd, F_SETFD, FD_CLOEXEC);
#endif
    if (rc < 0)
        return -1;
    close(new_fd);
    return 0;
}
