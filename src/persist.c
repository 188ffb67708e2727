/* Atomic replacement: move a temporary into place (tmpf_file_persist) and
 * the one-call atomic write (tmpf_write_atomic).
 *
 * The target's directory is used as the caller spelled it ("a/b/.." stays
 * "a/b/..") so the kernel resolves it exactly as it resolves the rename;
 * only the path reported by tmpf_file_path is normalized. A file without
 * a name (O_TMPFILE) replaces the target through a second name beside it,
 * ".#<target>.<random>", linked and then renamed over the target: no
 * linkat(2) can replace. A crash between those two calls can leave that
 * name (complete, never half-written); a crash at any other moment leaves
 * nothing. */
#include "internal.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define PERSIST_FLAGS (TMPF_NOCLOBBER | TMPF_DURABLE)
/* Characters of the target's name kept in the side name's prefix. */
#define SIDE_BASE_MAX 64

/* Where target goes: its directory as spelled (malloc'd; "." for a bare
 * name) and its last component. */
struct target {
    char *dir;
    const char *base;
    char side_prefix[SIDE_BASE_MAX + 4]; /* ".#" + base + "." */
};

static int target_split(const char *target, struct target *t)
{
    const char *slash = strrchr(target, '/');
    t->base = slash ? slash + 1 : target;
    if (!*t->base || !strcmp(t->base, ".") || !strcmp(t->base, "..")) {
        errno = EISDIR; /* "dir/", "." and ".." name directories */
        return -1;
    }
    size_t dir_len = slash ? (size_t)(slash - target) : 1;
    t->dir = tmpf__malloc(dir_len + 1);
    if (!t->dir)
        return -1;
    if (!slash)
        memcpy(t->dir, ".", 2);
    else if (dir_len == 0)
        memcpy(t->dir, "/", 2);
    else {
        memcpy(t->dir, target, dir_len);
        t->dir[dir_len] = '\0';
    }
    snprintf(t->side_prefix, sizeof t->side_prefix, ".#%.*s.", SIDE_BASE_MAX,
             t->base);
    return 0;
}

/* Options for the creation loop naming a temporary beside the target,
 * built by hand: tmpf__opts_resolve would normalize the directory
 * lexically and could pick another one than the kernel will. */
static void side_opts(const struct target *t, tmpf__opts *r)
{
    memset(r, 0, sizeof *r);
    r->dir = t->dir;
    r->dir_len = strlen(t->dir);
    r->prefix = t->side_prefix;
    r->prefix_len = strlen(t->side_prefix);
    r->suffix = "";
    r->rand_len = TMPF_RAND_LEN_DEFAULT;
}

static int try_link(const char *path, void *ctx)
{
    return tmpf__os_link_fd(*(const int *)ctx, path);
}

/* Moves the temporary (named tmp_path, or the unnamed file open as fd) to
 * target. On failure nothing changed. */
static int move_into_place(const char *tmp_path, int fd, const char *target,
                           const struct target *t, unsigned flags)
{
    if (tmp_path)
        return (flags & TMPF_NOCLOBBER) ? tmpf__os_rename_noreplace(tmp_path, target)
                                        : rename(tmp_path, target);
    if (flags & TMPF_NOCLOBBER)
        return tmpf__os_link_fd(fd, target);
    tmpf__opts r;
    side_opts(t, &r);
    char *side = NULL;
    if (tmpf__create(&r, try_link, &fd, &side) < 0)
        return -1;
    int rc = rename(side, target);
    if (rc != 0) {
        int saved = errno;
        unlink(side);
        errno = saved;
    }
    free(side);
    return rc;
}

/*
 * fsync the file (TMPF_DURABLE), move it, fsync the directory. *moved
 * tells whether the target now holds it: -1 with *moved set means only
 * the directory fsync failed. sync_fd is the descriptor to fsync (may
 * differ from fd for a closed named file).
 */
static int place(const char *tmp_path, int fd, int sync_fd, const char *target,
                 const struct target *t, unsigned flags, bool *moved)
{
    *moved = false;
    int dir_fd = -1;
    if (flags & TMPF_DURABLE) {
        if (tmpf__os_fsync(sync_fd, false) != 0)
            return -1;
        /* Opened before the move, so nothing after it can fail but the
         * fsync itself. */
        dir_fd = tmpf__os_open_dir(t->dir);
        if (dir_fd < 0)
            return -1;
    }
    if (move_into_place(tmp_path, fd, target, t, flags) != 0) {
        if (dir_fd >= 0)
            tmpf__os_close(dir_fd);
        return -1;
    }
    *moved = true;
    if (dir_fd < 0)
        return 0;
    int rc = tmpf__os_fsync(dir_fd, true);
    tmpf__os_close(dir_fd);
    return rc;
}

int tmpf_file_persist(tmpf_file *f, const char *target, unsigned flags)
{
    if (!f || !target || (flags & ~PERSIST_FLAGS)) {
        errno = EINVAL;
        return -1;
    }
    bool named = f->path && f->on_disk_name;
    if (f->closed && !named) {
        /* Anonymous: gone with its descriptor. Named: deleted on close. */
        errno = f->path ? ENOENT : EBADF;
        return -1;
    }
    if (!f->closed) {
        /* A spooled file in memory goes to disk first. */
        if (!tmpf_file_rolled(f) && tmpf_file_fileno(f) < 0)
            return -1;
        if (tmpf_file_flush(f) != 0)
            return -1;
        if (!named && f->fd < 0) {
            errno = EBADF;
            return -1;
        }
    }
    struct target t;
    if (target_split(target, &t) != 0)
        return -1;
    /* Everything that can fail after the move is done before it. */
    char *abs = tmpf__abspath(target);
    int own_sync_fd = -1;
    if (!abs)
        goto fail;
    int sync_fd = f->fd;
    if ((flags & TMPF_DURABLE) && sync_fd < 0) {
        /* A closed named file (kept after close): fsync needs a descriptor. */
        do
            own_sync_fd = open(f->path, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
        while (own_sync_fd < 0 && errno == EINTR);
        if (own_sync_fd < 0)
            goto fail;
        sync_fd = own_sync_fd;
    }
    bool moved;
    int rc = place(named ? f->path : NULL, f->fd, sync_fd, target, &t, flags,
                   &moved);
    int err = errno;
    if (own_sync_fd >= 0)
        tmpf__os_close(own_sync_fd);
    free(t.dir);
    if (!moved) {
        free(abs);
        errno = err;
        return -1;
    }
    bool was_kept = f->kept;
    free(f->path);
    f->path = abs;
    f->on_disk_name = true;
    f->kept = true;
    tmpf__scope_forget(f->scope_entry);
    f->scope_entry = NULL;
    /* Once: a file already kept no longer counts as a live temporary. */
    if (!was_kept)
        tmpf__audit(TMPF_EVENT_PERSIST, f->kind, f, f->path, f->fd, 0, 0);
    errno = err;
    return rc;
fail: {
    int saved = errno;
    free(abs);
    free(t.dir);
    errno = saved;
    return -1;
}
}

static int try_create(const char *path, void *ctx)
{
    return tmpf__os_create_file(path, *(const unsigned *)ctx, 0);
}

int tmpf_write_atomic(const char *target, const void *data, size_t n,
                      unsigned flags)
{
    if (!target || (!data && n > 0) || (flags & ~PERSIST_FLAGS)) {
        errno = EINVAL;
        return -1;
    }
    struct target t;
    if (target_split(target, &t) != 0)
        return -1;
    int fd = -1;
    char *tmp_path = NULL;

    /* The permission bits of what target names now (through a symlink:
     * of the file it points to). A new file is created 0666 so the kernel
     * applies the umask (and a default ACL) exactly as for any new file:
     * no umask(2) dance, which would race with other threads. */
    struct stat st;
    bool exists = stat(target, &st) == 0;
    if (!exists && errno != ENOENT)
        goto fail;
    if (exists && S_ISDIR(st.st_mode)) {
        errno = EISDIR;
        goto fail;
    }
    if (exists && (flags & TMPF_NOCLOBBER)) {
        errno = EEXIST; /* early; the move checks again atomically */
        goto fail;
    }
    unsigned perm = exists ? 0600 : 0666;

    fd = tmpf__os_open_tmpfile(t.dir, perm);
    if (fd < 0) {
        /* No O_TMPFILE here (kernel or file system): a named temporary.
         * Not cached: support differs from one file system to the next. */
        if (errno != EOPNOTSUPP && errno != EISDIR && errno != EINVAL)
            goto fail;
        tmpf__opts r;
        side_opts(&t, &r);
        fd = tmpf__create(&r, try_create, &perm, &tmp_path);
        if (fd < 0)
            goto fail;
    }
    if (tmpf__os_write_all(fd, data, n) != 0)
        goto fail;
    /* Setuid, setgid and sticky bits are not carried over to new content. */
    if (exists && fchmod(fd, st.st_mode & 0777) != 0)
        goto fail;
    bool moved;
    int rc = place(tmp_path, fd, fd, target, &t, flags, &moved);
    if (!moved)
        goto fail;
    int err = errno;
    tmpf__os_close(fd);
    free(tmp_path);
    free(t.dir);
    errno = err;
    return rc;
fail: {
    int saved = errno;
    if (tmp_path)
        unlink(tmp_path);
    free(tmp_path);
    if (fd >= 0)
        tmpf__os_close(fd);
    free(t.dir);
    errno = saved;
    return -1;
}
}
