/* System primitives of the identity checks (src/identity.c): what a
 * descriptor or a name designates, and who may rename a directory's
 * entries. */
#include "../internal.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

/* The sticky bit is XSI: strict POSIX headers (-D_POSIX_C_SOURCE without
 * _XOPEN_SOURCE) leave it out; its value is the same everywhere. */
#ifndef S_ISVTX
#define S_ISVTX 01000
#endif

static void fill(const struct stat *st, struct tmpf__os_facts *ret)
{
    ret->id.dev = (uint64_t)st->st_dev;
    ret->id.ino = (uint64_t)st->st_ino;
    ret->mode = (unsigned)st->st_mode;
    ret->uid = (unsigned)st->st_uid;
    ret->gid = (unsigned)st->st_gid;
    ret->nlink = (unsigned long)st->st_nlink;
}

int tmpf__os_facts_fd(int fd, struct tmpf__os_facts *ret)
{
    struct stat st;
    if (fstat(fd, &st) != 0)
        return -1;
    fill(&st, ret);
    return 0;
}

int tmpf__os_facts_path(const char *path, bool follow, struct tmpf__os_facts *ret)
{
    struct stat st;
    if ((follow ? stat(path, &st) : lstat(path, &st)) != 0)
        return -1;
    fill(&st, ret);
    return 0;
}

int tmpf__os_facts_at(int dir_fd, const char *name, bool follow,
                      struct tmpf__os_facts *ret)
{
    struct stat st;
    if (fstatat(dir_fd, name, &st, follow ? 0 : AT_SYMLINK_NOFOLLOW) != 0)
        return -1;
    fill(&st, ret);
    return 0;
}

bool tmpf__os_facts_is_dir(const struct tmpf__os_facts *f)
{
    return S_ISDIR(f->mode);
}

bool tmpf__os_facts_is_regular(const struct tmpf__os_facts *f)
{
    return S_ISREG(f->mode);
}

/* Writable by group or others without the sticky bit: others can rename
 * and remove its entries. */
bool tmpf__os_facts_shared_writable(const struct tmpf__os_facts *f)
{
    return (f->mode & (S_IWGRP | S_IWOTH)) && !(f->mode & S_ISVTX);
}

unsigned tmpf__os_euid(void) { return (unsigned)geteuid(); }

int tmpf__os_open_dir_nofollow(const char *path)
{
    int fd;
    do
        fd = open(path, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
    while (fd < 0 && errno == EINTR);
    return fd;
}

int tmpf__os_dir_is_empty(int dir_fd)
{
    int fd;
    do
        fd = openat(dir_fd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    while (fd < 0 && errno == EINTR);
    if (fd < 0)
        return -1;
    DIR *d = fdopendir(fd);
    if (!d) {
        int saved = errno;
        close(fd);
        errno = saved;
        return -1;
    }
    int empty = 1;
    struct dirent *e;
    errno = 0;
    while ((e = readdir(d))) {
        if (e->d_name[0] == '.' &&
            (e->d_name[1] == 0 || (e->d_name[1] == '.' && e->d_name[2] == 0)))
            continue;
        empty = 0;
        break;
    }
    int saved = errno;
    closedir(d);
    if (empty && saved) {
        errno = saved;
        return -1;
    }
    return empty;
}
