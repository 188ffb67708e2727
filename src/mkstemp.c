/* The low-level creators: tmpf_mkstemp, tmpf_mkdtemp, tmpf_mktemp. */
#include "internal.h"

#include <errno.h>
#include <stdlib.h>

/* A name is free only when lstat says ENOENT; EACCES, ENOTDIR, ... end
 * the loop rather than hand out a name nobody can use. */
static int try_absent(const char *path, void *ctx)
{
    (void)ctx;
    if (tmpf__os_lexists(path)) {
        errno = EEXIST;
        return -1;
    }
    return errno == ENOENT ? 0 : -1;
}

int tmpf_mkstemp(const tmpf_opts *opts, char **path)
{
    tmpf__opts r;
    if (tmpf__opts_resolve(opts, &r) != 0)
        return -1;
    char *created = NULL;
    struct tmpf__scope_entry *entry = NULL;
    int fd = tmpf__create_file(&r, r.perm ? r.perm : 0600, &created);
    if (fd < 0)
        goto fail;
    if (tmpf__scope_add(&r, TMPF_KIND_MKSTEMP, created, NULL, &entry) != 0)
        goto fail_created;
    if (entry && tmpf__dir_shared(&r)) {
        /* The scope removes the path only while it designates this file. */
        struct tmpf__ident id;
        if (tmpf__ident_of_fd(fd, &id) != 0) {
            tmpf__scope_forget(entry);
            goto fail_created;
        }
        tmpf__scope_set_ident(entry, &id);
    }
    tmpf__audit(TMPF_EVENT_CREATE, TMPF_KIND_MKSTEMP, created, created, fd, 0, 0);
    tmpf__opts_done(&r);
    if (path)
        *path = created;
    else
        free(created);
    return fd;

fail_created: {
    int saved = errno;
    tmpf__os_unlink(created);
    tmpf__os_close(fd);
    free(created);
    errno = saved;
}
fail:
    tmpf__opts_done(&r);
    return -1;
}

char *tmpf_mkdtemp(const tmpf_opts *opts)
{
    tmpf__opts r;
    if (tmpf__opts_resolve(opts, &r) != 0)
        return NULL;
    unsigned perm = r.perm ? r.perm : 0700;
    char *created = NULL;
    struct tmpf__scope_entry *entry = NULL;
    if (tmpf__create_dir(&r, perm, &created) < 0)
        goto fail;
    if (tmpf__scope_add(&r, TMPF_KIND_MKDTEMP, created, NULL, &entry) != 0)
        goto fail_created;
    if (entry && tmpf__dir_shared(&r)) {
        /* The scope removes the path only while it designates this
         * directory. */
        struct tmpf__ident id;
        if (tmpf__ident_of_new_dir(created, NULL, &id) != 0) {
            tmpf__scope_forget(entry);
            if (errno == ESTALE) {
                /* not the directory made: leave that name alone */
                free(created);
                goto fail;
            }
            goto fail_created;
        }
        tmpf__scope_set_ident(entry, &id);
    }
    tmpf__audit(TMPF_EVENT_CREATE, TMPF_KIND_MKDTEMP, created, created, -1, 0, 0);
    tmpf__opts_done(&r);
    return created;
fail_created: {
    int saved = errno;
    tmpf__os_rmdir(created);
    free(created);
    errno = saved;
}
fail:
    tmpf__opts_done(&r);
    return NULL;
}

char *tmpf_mktemp(const tmpf_opts *opts)
{
    tmpf__opts r;
    if (tmpf__opts_resolve(opts, &r) != 0)
        return NULL;
    char *name = NULL;
    /* A missing dir gives ENOENT as a free name does: the name is handed
     * out, as Python's mktemp and GNU mktemp -u do. */
    int rc = tmpf__create(&r, try_absent, NULL, &name);
    tmpf__opts_done(&r);
    return rc < 0 ? NULL : name;
}
