/* TemporaryDirectory. */
#include "internal.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <unistd.h>

/* Others can rename entries of the directory d was made in: hold a
 * descriptor of it from now on and record its identity, so cleanup works
 * through the descriptor and removes the name only while it designates
 * this directory (identity.c; ESTALE when what is there is not the
 * directory just made). */
static int hold(tmpf_dir *d)
{
    return tmpf__ident_of_new_dir(d->path, &d->fd, &d->ident);
}

tmpf_dir *tmpf_temporary_directory(const tmpf_opts *opts)
{
    tmpf__opts r;
    if (tmpf__opts_resolve(opts, &r) != 0)
        return NULL;
    tmpf_dir *d = tmpf__calloc(1, sizeof *d);
    if (!d)
        goto fail;
    d->fd = -1;
    d->flags = r.flags;
    unsigned perm = r.perm ? r.perm : 0700;
    if (tmpf__create_dir(&r, perm, &d->path) < 0)
        goto fail;
    if (tmpf__dir_shared(&r) && hold(d) != 0) {
        if (errno == ESTALE) {
            /* Not the directory we made: leave that name alone. */
            free(d->path);
            d->path = NULL;
        }
        goto fail;
    }
    if (tmpf__lock_wanted(r.flags) &&
        (tmpf_dir_fd(d) < 0 || tmpf__os_lock_shared(d->fd) != 0))
        goto fail;
    if (tmpf__scope_add(&r, TMPF_KIND_DIRECTORY, d->path, d, &d->scope_entry) != 0)
        goto fail;
    if (!(r.flags & TMPF_KEEP)) /* crash layers */
        tmpf__reg_add(&d->reg, TMPF__REG_DIR, d->path, d->fd);
    tmpf__audit(TMPF_EVENT_CREATE, TMPF_KIND_DIRECTORY, d, d->path, -1, 0, 0);
    tmpf__opts_done(&r);
    return d;
fail: {
    int saved = errno;
    if (d) {
        if (d->fd >= 0)
            tmpf__os_close(d->fd);
        if (d->path)
            rmdir(d->path);
        free(d->path);
        free(d);
    }
    tmpf__opts_done(&r);
    errno = saved;
    return NULL;
}
}

const char *tmpf_dir_path(const tmpf_dir *d) { return d ? d->path : NULL; }

int tmpf_dir_fd(tmpf_dir *d)
{
    if (!d) {
        errno = EINVAL;
        return -1;
    }
    /* Opened on first use rather than at creation: an empty directory's
     * create+cleanup then costs mkdir+rmdir and nothing more. */
    while (d->fd < 0) {
        d->fd = open(d->path, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
        if (d->fd < 0 && errno != EINTR)
            break;
    }
    return d->fd;
}

int tmpf_dir_keep(tmpf_dir *d)
{
    if (!d) {
        errno = EINVAL;
        return -1;
    }
    if (!d->kept) {
        d->kept = true;
        tmpf__reg_end(&d->reg, TMPF__REG_KEPT);
        tmpf__scope_forget(d->scope_entry);
        d->scope_entry = NULL;
        tmpf__audit(TMPF_EVENT_KEEP, TMPF_KIND_DIRECTORY, d, d->path, -1, 0, 0);
    }
    return 0;
}

int tmpf_dir_cleanup(tmpf_dir *d)
{
    if (!d)
        return 0;
    int err = 0;
    bool ignore = d->flags & TMPF_IGNORE_CLEANUP_ERRORS;
    if (!d->kept && !(d->flags & TMPF_KEEP)) {
        if (d->ident.ino) {
            /* Made where others can rename entries: see identity.c. */
            if (tmpf__remove_dir_checked(d->path, d->fd, &d->ident) != 0)
                err = errno;
        } else if (rmdir(d->path) != 0 && errno != ENOENT) {
            /* rmdir first: an empty directory needs no walk, and a missing
             * one is already clean (Python's TemporaryDirectory agrees).
             * Only "not empty" (EEXIST is POSIX's other spelling) calls for
             * the walk: any other failure (EBUSY for a mount point, EACCES,
             * EROFS) would stop the walk's own final rmdir too, and walking
             * a directory something was mounted on would empty the mounted
             * file system. */
            err = errno;
            if (err == ENOTEMPTY || err == EEXIST)
                err = tmpf_rmtree(d->path, 0) == 0 ? 0 : errno;
        }
        if (err)
            tmpf__audit(TMPF_EVENT_CLEANUP_FAILED, TMPF_KIND_DIRECTORY, d, d->path,
                        -1, 0, err);
        else
            tmpf__audit(TMPF_EVENT_DELETE, TMPF_KIND_DIRECTORY, d, d->path, -1, 0, 0);
    }
    tmpf__reg_end(&d->reg, TMPF__REG_REMOVED); /* crash layers: no longer ours */
    if (d->fd >= 0)
        tmpf__os_close(d->fd);
    tmpf__scope_forget(d->scope_entry);
    free(d->path);
    free(d);
    if (!err || ignore)
        return 0;
    errno = err;
    return -1;
}
