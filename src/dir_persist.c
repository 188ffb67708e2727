/* tmpf_dir_persist: a temporary directory becomes target, atomically.
 *
 * The tree first moves to a random side name beside target
 * (".#<target>.XXXXXXXX"), where it is checked to be the directory d
 * holds open (device and inode): a name in a temporary directory that
 * others can write may have been re-pointed, and what is published must be
 * what tmpf made. From there: renameat2(RENAME_NOREPLACE) to an absent
 * target; renameat2(RENAME_EXCHANGE) with an existing directory, whose old
 * tree, now at the side name, is then removed by the walk behind
 * tmpf_rmtree. Readers see the old tree or the new one at every moment.
 * Where no exchange exists the tree goes back to where it was (ENOTSUP). */
#include "internal.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define DIR_PERSIST_FLAGS (TMPF_NOCLOBBER | TMPF_DURABLE | TMPF_ACROSS_FS)
#define SIDE_BASE_MAX 64

struct dtarget {
    char *dir;        /* target's directory as spelled; "." or the root */
    const char *base; /* its last component (inside dir's allocation) */
    size_t leaf_at;   /* where the last component starts in side paths */
    int at;           /* dir, open: every step works relative to it */
    char prefix[SIDE_BASE_MAX + 4];
};

static int dtarget_split(const char *target, struct dtarget *t)
{
    t->at = -1;
    size_t len = strlen(target);
    t->dir = tmpf__malloc(len + 3);
    if (!t->dir)
        return -1;
    memcpy(t->dir, target, len + 1);
    while (len > 1 && tmpf__os_is_sep(t->dir[len - 1]))
        t->dir[--len] = '\0';
    size_t root = tmpf__os_root_len(t->dir);
    size_t cut = len;
    while (cut > root && !tmpf__os_is_sep(t->dir[cut - 1]))
        cut--;
    if (cut == 0) {
        /* "name": dir "." and the name after it. */
        memmove(t->dir + 2, t->dir, len + 1);
        memcpy(t->dir, ".", 2);
        t->base = t->dir + 2;
    } else if (cut == root) {
        /* "/name": dir the root and the name after it. */
        memmove(t->dir + root + 1, t->dir + root, len - root + 1);
        t->dir[root] = '\0';
        t->base = t->dir + root + 1;
    } else {
        t->dir[cut - 1] = '\0';
        t->base = t->dir + cut;
    }
    if (!*t->base || !strcmp(t->base, ".") || !strcmp(t->base, "..")) {
        free(t->dir);
        errno = EINVAL; /* the root, "." and "..": like rename(2) */
        return -1;
    }
    size_t dir_len = strlen(t->dir);
    t->leaf_at = dir_len + (tmpf__os_root_len(t->dir) == dir_len ? 0 : 1);
    snprintf(t->prefix, sizeof t->prefix, ".#%.*s.", SIDE_BASE_MAX, t->base);
    t->at = tmpf__os_open_dir(t->dir);
    if (t->at < 0) {
        int saved = errno;
        free(t->dir);
        errno = saved;
        return -1;
    }
    return 0;
}

/* A side path (built by tmpf__create) as the *at calls relative to t->at
 * take it. */
static const char *leaf(const struct dtarget *t, const char *side)
{
    return side + t->leaf_at;
}

static void dtarget_free(struct dtarget *t)
{
    tmpf__os_close(t->at);
    free(t->dir);
}

static void side_opts(const struct dtarget *t, tmpf__opts *r)
{
    memset(r, 0, sizeof *r);
    r->dir = t->dir;
    r->dir_len = strlen(t->dir);
    r->prefix = t->prefix;
    r->prefix_len = strlen(t->prefix);
    r->suffix = "";
    r->rand_len = TMPF_RAND_LEN_DEFAULT;
}

struct side_try {
    const struct dtarget *t;
    const char *from; /* absolute */
};

static int try_side(const char *path, void *ctx)
{
    const struct side_try *c = ctx;
    return tmpf__os_rename_dir_noreplace(c->t->at, c->from, c->t->at, leaf(c->t, path));
}

/* Moves d's tree to a random side name in t's directory (*side, malloc'd)
 * and checks it is the directory open as fd: else it is put back and the
 * call fails with ESTALE. */
static int to_side(tmpf_dir *d, int fd, const struct dtarget *t, char **side)
{
    tmpf__opts r;
    side_opts(t, &r);
    struct side_try c = {t, d->path};
    if (tmpf__create(&r, try_side, &c, side) < 0)
        return -1;
    int same = tmpf__os_is_file_at(t->at, leaf(t, *side), fd);
    if (same == 1)
        return 0;
    /* Not what tmpf made: someone re-pointed d's name. Back it goes. */
    int saved = same == 0 ? ESTALE : errno;
    if (tmpf__os_rename_dir_noreplace(t->at, leaf(t, *side), t->at, d->path) == 0)
        free(*side);
    else {
        /* Cannot: d then names it where it is, and its cleanup goes
         * there (checked against its descriptor like any cleanup). */
        free(d->path);
        d->path = *side;
        tmpf__reg_end(&d->reg, TMPF__REG_REMOVED); /* re-registered */
        tmpf__reg_add(&d->reg, TMPF__REG_DIR, d->path, fd);
    }
    *side = NULL;
    errno = saved;
    return -1;
}

static int try_mkdir(const char *path, void *ctx)
{
    const struct dtarget *t = ctx;
    return tmpf__os_make_dir_at(t->at, leaf(t, path), 0700);
}

/* Removes side (in t's directory) and everything below it. */
static int remove_side(const struct dtarget *t, const char *side)
{
    return tmpf__os_rmtree(t->dir, leaf(t, side));
}

/* TMPF_ACROSS_FS: a copy of the tree open as fd at a new random side name
 * in t's directory (*side), synced with TMPF_DURABLE. On failure nothing
 * is left. */
static int copy_to_side(int fd, const struct dtarget *t, unsigned flags,
                        char **side)
{
    tmpf__opts r;
    side_opts(t, &r);
    if (tmpf__create(&r, try_mkdir, (void *)t, side) < 0)
        return -1;
    int sfd = tmpf__os_open_dir(*side);
    int rc = sfd < 0 ? -1 : tmpf__os_copy_tree(fd, sfd);
    if (rc == 0 && (flags & TMPF_DURABLE))
        rc = tmpf__os_sync_tree(sfd);
    int saved = errno;
    if (sfd >= 0)
        tmpf__os_close(sfd);
    if (rc != 0) {
        remove_side(t, *side);
        free(*side);
        *side = NULL;
    }
    errno = saved;
    return rc;
}

/* Publishes the tree at side as target: 1 if it replaced a directory
 * (whose tree is now at side), 0 if target was absent, -1 with errno
 * (nothing changed). */
static int publish(const struct dtarget *t, const char *side_path, unsigned flags)
{
    const char *side = leaf(t, side_path), *target = t->base;
    for (int tries = 0; tries < 16; tries++) {
        if (tmpf__os_rename_dir_noreplace(t->at, side, t->at, target) == 0)
            return 0;
        if (errno != EEXIST || (flags & TMPF_NOCLOBBER))
            return -1;
        int is_dir = tmpf__os_is_dir_at(t->at, target);
        if (is_dir < 0 && errno == ENOENT)
            continue; /* removed meanwhile: rename again */
        if (is_dir <= 0) {
            if (is_dir == 0)
                errno = ENOTDIR;
            return -1;
        }
        if (tmpf__os_rename_exchange(t->at, side, t->at, target) != 0) {
            if (errno == ENOENT)
                continue;
            return -1;
        }
        /* A directory a moment ago; if something else was swapped in
         * since, it goes back. */
        if (tmpf__os_is_dir_at(t->at, side) == 1)
            return 1;
        tmpf__os_rename_exchange(t->at, side, t->at, target);
        errno = ENOTDIR;
        return -1;
    }
    errno = EBUSY; /* target keeps appearing and vanishing */
    return -1;
}

int tmpf_dir_persist(tmpf_dir *d, const char *target, unsigned flags)
{
    if (!d || !target || (flags & ~DIR_PERSIST_FLAGS)) {
        errno = EINVAL;
        return -1;
    }
    if (!*target) {
        errno = ENOENT;
        return -1;
    }
    int fd = tmpf_dir_fd(d);
    if (fd < 0)
        return -1;
    struct dtarget t;
    if (dtarget_split(target, &t) != 0)
        return -1;
    char *side = NULL;
    char *abs = tmpf__abspath(target);
    if (!abs)
        goto fail;
    /* Durable and on another device (TMPF_ACROSS_FS): the copy is what
     * gets synced, not the tree about to go. */
    if ((flags & TMPF_DURABLE) &&
        !((flags & TMPF_ACROSS_FS) && tmpf__os_same_device(fd, t.at) == 0) &&
        tmpf__os_sync_tree(fd) != 0)
        goto fail;
    bool copied = false;
    if (to_side(d, fd, &t, &side) != 0) {
        if (errno != EXDEV || !(flags & TMPF_ACROSS_FS) ||
            copy_to_side(fd, &t, flags, &side) != 0)
            goto fail;
        copied = true;
    }
    int replaced = publish(&t, side, flags);
    if (replaced < 0) {
        int saved = errno;
        if (copied)
            remove_side(&t, side);
        else if (tmpf__os_rename_dir_noreplace(t.at, leaf(&t, side), t.at, d->path) != 0) {
            /* Its old name was taken meanwhile: it stays temporary where
             * it is now, and cleanup removes it from there. */
            free(d->path);
            d->path = side;
            side = NULL;
            tmpf__reg_end(&d->reg, TMPF__REG_REMOVED); /* re-registered */
            tmpf__reg_add(&d->reg, TMPF__REG_DIR, d->path, fd);
        }
        errno = saved;
        goto fail;
    }
    int rc = 0, err = 0;
    if ((flags & TMPF_DURABLE) && tmpf__os_fsync(t.at, true) != 0) {
        rc = -1;
        err = errno;
    }
    if (replaced) {
        int rm = remove_side(&t, side);
        if (rm && !err) {
            rc = -1;
            err = rm;
        }
    }
    if (copied) {
        /* The temporary tree goes; d's descriptor with it (the new tree
         * is opened by tmpf_dir_fd when asked for). */
        int rm = tmpf_rmtree(d->path, 0) == 0 ? 0 : errno;
        if (rm && !err) {
            rc = -1;
            err = rm;
        }
        tmpf__os_close(d->fd);
        d->fd = -1;
    }
    free(side);
    dtarget_free(&t);
    bool was_kept = d->kept;
    free(d->path);
    d->path = abs;
    d->kept = true;
    tmpf__reg_end(&d->reg, TMPF__REG_PERSISTED); /* crash layers: not ours */
    tmpf__scope_forget(d->scope_entry);
    d->scope_entry = NULL;
    if (!was_kept)
        tmpf__audit(TMPF_EVENT_PERSIST, TMPF_KIND_DIRECTORY, d, d->path, d->fd, 0, 0);
    errno = err;
    return rc;
fail: {
    int saved = errno;
    free(side);
    free(abs);
    dtarget_free(&t);
    errno = saved;
    return -1;
}
}
