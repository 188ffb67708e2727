/*
 * The emergency removal: one registered temporary, from a signal handler
 * or a guardian, with system calls and static buffers only (no malloc, no
 * stdio, no opendir: tmpf_rmtree's walk allocates). The caller serializes
 * (emergency.c), which is what makes the static buffers safe.
 *
 * A directory is walked through descriptors, as walk.c does: every level
 * is entered with openat(O_DIRECTORY|O_NOFOLLOW) and fstat'd (a symlink is
 * never followed, a directory on another file system is not entered), its
 * entries are read with getdents64 into one static buffer, and after a
 * subdirectory is done the parent's listing resumes at that entry's
 * offset (lseek), so entries that could not be removed are not met twice.
 * One descriptor per level, at most EM_DEPTH levels: deeper parts are left
 * (an error), for the normal cleanup or tmpf_sweep. A directory whose mode
 * keeps its owner out (0000) is made u+rwx through its own descriptor (an
 * O_PATH one for a directory that cannot be opened: through
 * /proc/self/fd, never through a symlink).
 */
#include "../internal.h"
#include "tmpf_features.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#if TMPF_HAVE_GETDENTS64
#include <sys/syscall.h>
#endif

#define EM_DEPTH 128
#define EM_NAME 256
#define OPEN_DIR (O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC)

static char parent_buf[4096];
/* The parent directory of the last removal stays open until
 * tmpf__os_emergency_done: temporaries mostly share one directory, and
 * that saves an open and a close per temporary. */
static char cached_parent[4096];
static int cached_fd = -1;

/* A descriptor of directory parent_buf (not to be closed by the caller),
 * or -1 with errno. */
static int open_parent(void)
{
    if (cached_fd >= 0 && strcmp(cached_parent, parent_buf) == 0)
        return cached_fd;
    int fd;
    do
        fd = open(parent_buf, OPEN_DIR & ~O_NOFOLLOW);
    while (fd < 0 && errno == EINTR);
    if (fd < 0)
        return -1;
    if (cached_fd >= 0)
        close(cached_fd);
    cached_fd = fd;
    memcpy(cached_parent, parent_buf, strlen(parent_buf) + 1);
    return fd;
}

void tmpf__os_emergency_done(void)
{
    if (cached_fd >= 0) {
        int saved = errno;
        close(cached_fd);
        errno = saved;
    }
    cached_fd = -1;
}
#if TMPF_HAVE_GETDENTS64
static char dents[16384];

struct em_frame {
    int fd;
    off_t resume;  /* listing offset after the subdirectory being removed */
    char name[EM_NAME];
};
static struct em_frame stack[EM_DEPTH];

struct em_dirent64 {
    uint64_t d_ino;
    int64_t d_off;
    unsigned short d_reclen;
    unsigned char d_type;
    char d_name[];
};
#endif

#if TMPF_HAVE_O_PATH && TMPF_HAVE_PROC_SELF_FD
/* "/proc/self/fd/" + fd, without snprintf. */
static void proc_path(char *out, int fd)
{
    static const char pre[] = "/proc/self/fd/";
    memcpy(out, pre, sizeof pre - 1);
    char digits[16];
    int n = 0;
    unsigned v = (unsigned)fd;
    do
        digits[n++] = (char)('0' + v % 10);
    while ((v /= 10) && n < 15);
    char *p = out + sizeof pre - 1;
    while (n)
        *p++ = digits[--n];
    *p = '\0';
}
#endif

/* Opens directory name of dirfd (one on device dev), repairing a mode
 * that keeps its owner out. -1 with errno (ENOTDIR/ELOOP: not a
 * directory, EXDEV: another file system). */
static int open_dir(int dirfd, const char *name, uint64_t dev, struct stat *st)
{
    int fd;
    do
        fd = openat(dirfd, name, OPEN_DIR);
    while (fd < 0 && errno == EINTR);
#if TMPF_HAVE_O_PATH && TMPF_HAVE_PROC_SELF_FD
    if (fd < 0 && errno == EACCES) {
        int pfd = openat(dirfd, name, O_PATH | O_NOFOLLOW | O_CLOEXEC);
        if (pfd >= 0) {
            struct stat ps;
            char proc[40];
            proc_path(proc, pfd);
            if (fstat(pfd, &ps) == 0 && S_ISDIR(ps.st_mode) &&
                (uint64_t)ps.st_dev == dev)
                (void)chmod(proc, (ps.st_mode & 07777) | S_IRWXU);
            close(pfd);
            fd = openat(dirfd, name, OPEN_DIR);
        }
    }
#endif
    if (fd < 0)
        return -1;
    if (fstat(fd, st) != 0 || !S_ISDIR(st->st_mode)) {
        close(fd);
        errno = ENOTDIR;
        return -1;
    }
    if ((uint64_t)st->st_dev != dev) {
        close(fd);
        errno = EXDEV;
        return -1;
    }
    if ((st->st_mode & S_IRWXU) != S_IRWXU)
        (void)fchmod(fd, (st->st_mode & 07777) | S_IRWXU);
    return fd;
}

#if TMPF_HAVE_GETDENTS64
static void note(int *err, int e)
{
    if (!*err)
        *err = e;
}

/* Empties the directory open as root (on device dev); closes root. 0, or
 * -1 with the first errno (what could be removed is removed). */
static int empty_tree(int root, uint64_t dev)
{
    int err = 0;
    size_t depth = 1;
    stack[0].fd = root;
    stack[0].name[0] = '\0';
    while (depth > 0) {
        struct em_frame *top = &stack[depth - 1];
        long n = syscall(SYS_getdents64, top->fd, dents, sizeof dents);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0) {
            if (n < 0)
                note(&err, errno);
            /* This level is done: close it and remove it from its parent,
             * then go on in the parent after its entry. */
            close(top->fd);
            depth--;
            if (depth == 0)
                break;
            struct em_frame *up = &stack[depth - 1];
            if (unlinkat(up->fd, top->name, AT_REMOVEDIR) != 0 && errno != ENOENT)
                note(&err, errno);
            if (lseek(up->fd, up->resume, SEEK_SET) < 0) {
                note(&err, errno);
                /* Cannot resume: give up on this level. */
                (void)lseek(up->fd, 0, SEEK_END);
            }
            continue;
        }
        bool descended = false;
        for (long off = 0; off < n && !descended;) {
            struct em_dirent64 *d = (struct em_dirent64 *)(void *)(dents + off);
            off += d->d_reclen;
            const char *name = d->d_name;
            if (name[0] == '.' && (!name[1] || (name[1] == '.' && !name[2])))
                continue;
            unsigned char type = d->d_type;
            if (type == DT_UNKNOWN) {
                struct stat st;
                if (fstatat(top->fd, name, &st, AT_SYMLINK_NOFOLLOW) != 0) {
                    if (errno != ENOENT)
                        note(&err, errno);
                    continue;
                }
                type = S_ISDIR(st.st_mode) ? DT_DIR : DT_REG;
            }
            if (type != DT_DIR) {
                if (unlinkat(top->fd, name, 0) == 0 || errno == ENOENT)
                    continue;
                if (errno != EISDIR) {
                    note(&err, errno);
                    continue;
                }
                /* Swapped for a directory meanwhile: enter it below. */
            }
            if (depth == EM_DEPTH || strlen(name) >= EM_NAME) {
                note(&err, ENAMETOOLONG);
                continue;
            }
            struct stat st;
            int fd = open_dir(top->fd, name, dev, &st);
            if (fd < 0) {
                if (errno == ENOTDIR || errno == ELOOP) {
                    /* Swapped for a file or a symlink: remove it itself. */
                    if (unlinkat(top->fd, name, 0) != 0 && errno != ENOENT)
                        note(&err, errno);
                } else if (errno != ENOENT) {
                    note(&err, errno == EXDEV ? EBUSY : errno);
                }
                continue;
            }
            top->resume = (off_t)d->d_off;
            struct em_frame *f = &stack[depth++];
            f->fd = fd;
            memcpy(f->name, name, strlen(name) + 1);
            descended = true;
        }
    }
    if (err) {
        errno = err;
        return -1;
    }
    return 0;
}
#else
/* No allocation-free way to list a directory in POSIX (readdir needs a
 * DIR, which opendir allocates): a non-empty directory is left for the
 * normal cleanup, the guard-less sweep or the next start (ENOSYS). */
static int empty_tree(int root, uint64_t dev)
{
    (void)dev;
    close(root);
    errno = ENOSYS;
    return -1;
}
#endif

int tmpf__os_emergency_remove(const char *path, bool dir, bool have_ident,
                              uint64_t dev, uint64_t ino, int fd)
{
    const char *slash = strrchr(path, '/');
    const char *name = slash ? slash + 1 : path;
    if (!*name || (!have_ident && fd < 0 && path[0] != '/'))
        return 0;
    size_t len = !slash ? 1 : slash == path ? 1 : (size_t)(slash - path);
    if (len >= sizeof parent_buf) {
        errno = ENAMETOOLONG;
        return -1;
    }
    /* The directory the temporary was made in, as named then (relative
     * names: the current directory, checked by identity or descriptor). */
    memcpy(parent_buf, slash ? path : ".", len);
    parent_buf[len] = '\0';
    int pfd = open_parent();
    if (pfd < 0)
        return errno == ENOENT ? 0 : -1;
    int result = 0;
    struct stat st;
    if (fstatat(pfd, name, &st, AT_SYMLINK_NOFOLLOW) != 0) {
        result = errno == ENOENT ? 0 : -1;
        goto out;
    }
    bool ours;
    if (have_ident) {
        ours = (uint64_t)st.st_dev == dev && (uint64_t)st.st_ino == ino;
    } else if (fd >= 0) {
        struct stat fs;
        ours = fstat(fd, &fs) == 0 && fs.st_dev == st.st_dev && fs.st_ino == st.st_ino;
    } else {
        ours = st.st_uid == geteuid();
    }
    if (!ours || (dir ? !S_ISDIR(st.st_mode) : S_ISDIR(st.st_mode)))
        goto out; /* the name now leads elsewhere: not ours to remove */
    if (!dir) {
        if (unlinkat(pfd, name, 0) == 0)
            result = 1;
        else
            result = errno == ENOENT ? 0 : -1;
        goto out;
    }
    if (unlinkat(pfd, name, AT_REMOVEDIR) == 0) {
        result = 1;
        goto out;
    }
    if (errno == ENOENT)
        goto out;
    if (errno != ENOTEMPTY && errno != EEXIST) {
        result = -1;
        goto out;
    }
    struct stat ds;
    int dfd = open_dir(pfd, name, (uint64_t)st.st_dev, &ds);
    if (dfd < 0) {
        result = errno == ENOENT ? 0 : -1;
        goto out;
    }
    if (ds.st_ino != st.st_ino) {
        close(dfd); /* swapped between the check and the open */
        goto out;
    }
    int walk = empty_tree(dfd, (uint64_t)st.st_dev);
    int walk_err = errno;
    if (unlinkat(pfd, name, AT_REMOVEDIR) == 0) {
        result = 1;
    } else if (errno != ENOENT) {
        result = -1;
        if (walk != 0)
            errno = walk_err;
    }
out:
    return result;
}

int tmpf__os_emergency_remove_side(const char *path)
{
    const char *slash = strrchr(path, '/');
    size_t len = slash == path ? 1 : (size_t)(slash - path);
    if (!slash || !slash[1] || len >= sizeof parent_buf)
        return 0;
    memcpy(parent_buf, path, len);
    parent_buf[len] = '\0';
    int pfd = open_parent();
    if (pfd < 0)
        return errno == ENOENT ? 0 : -1;
    struct stat st;
    return fstatat(pfd, slash + 1, &st, AT_SYMLINK_NOFOLLOW) == 0 &&
                   tmpf__os_side_sweep(pfd, slash + 1)
               ? 1
               : 0;
}
