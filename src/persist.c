/* Atomic replacement: move a temporary into place (tmpf_file_persist) and
 * the one-call atomic write (tmpf_write_atomic).
 *
 * The target's directory is used as the caller spelled it ("a/b/.." stays
 * "a/b/..") so the kernel resolves it exactly as it resolves the rename;
 * only the path reported by tmpf_file_path is normalized.
 *
 * Side names. No linkat(2) can replace, so a file without a name
 * (O_TMPFILE) replaces the target through a second name beside it, linked
 * and then renamed over the target; tmpf_write_atomic's named temporary
 * lives there too. That name is the fixed ".#<target>.tmpf" whenever it is
 * free, so a crash leaves at most that one name, which the next writer of
 * the target finds (its own link or create fails with EEXIST: no directory
 * scan) and removes once it is proven stale: a writer holds a lock on its
 * file (tmpf__os_side_lock) from before anything is written under that
 * name until it has renamed it, so a file there whose lock can be taken
 * has no live writer. When the fixed name is busy (a concurrent writer) a
 * random ".#<target>.XXXXXXXX" is used, which a crash can leave for good.
 *
 * tmpf_write_atomic writes up to SMALL_WRITE bytes into a named temporary
 * at the side name (open + rename, like the hand-written sequence) and more
 * into an O_TMPFILE file (open + linkat + rename: one path lookup more,
 * 15-20% of a small replace on tmpfs). A crash during a small write leaves
 * the side name more often (it exists for most of the call) and maybe
 * half-written, but the next write removes it all the same; a large write
 * would keep a large half-written file there until then, and its time is
 * in the write, not in the extra lookup. */
#include "internal.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define PERSIST_FLAGS                                                          \
    (TMPF_NOCLOBBER | TMPF_DURABLE | TMPF_ACROSS_FS | TMPF_KEEP_XATTRS |       \
     TMPF_REPLACE_SPECIAL)
/* tmpf_write_atomic's temporary is beside target: TMPF_ACROSS_FS is
 * accepted and has nothing to do. */
#define WRITE_FLAGS PERSIST_FLAGS
/* Characters of the target's name kept in the side name's prefix. */
#define SIDE_BASE_MAX 64
/* The fixed side name: side_prefix + this (random parts are longer). */
#define SIDE_FIXED "tmpf"
/* tmpf_write_atomic: at most this many bytes go through a named temporary. */
#define SMALL_WRITE (64 * 1024)

/* Where target goes: its directory as spelled ("." for a bare name), its
 * last component, and the fixed side name beside it (dir and fixed share
 * one allocation, freed with dir; NULL if it would be target itself).
 *
 * at is tmpf__os_cwd_fd, names are paths; or, for TMPF_DURABLE, a descriptor of
 * dir opened first and used for everything: the directory is looked up
 * once instead of at each step (a microsecond each on tmpfs, where the
 * whole replace costs about 15), and the directory fsync'd is the one the
 * rename happened in even if a component of its path is renamed meanwhile.
 * A consistent write does not open it: that costs more than it saves. */
struct target {
    char *dir;
    const char *base;
    char *fixed;
    size_t leaf_at; /* where the last component starts in side paths */
    int at;
    char side_prefix[SIDE_BASE_MAX + 4]; /* ".#" + base + "." */
};

/* A side path (t->fixed, or one built by side_opts) as the *at calls
 * relative to t->at take it. */
static const char *at_name(const struct target *t, const char *side)
{
    return t->at == tmpf__os_cwd_fd ? side : side + t->leaf_at;
}

static const char *at_target(const struct target *t, const char *target)
{
    return t->at == tmpf__os_cwd_fd ? target : t->base;
}

static void target_free(struct target *t)
{
    free(t->dir);
    if (t->at != tmpf__os_cwd_fd)
        tmpf__os_close(t->at);
}

/* Splits target; with TMPF_DURABLE also opens its directory (t->at). */
static int target_split(const char *target, unsigned flags, struct target *t)
{
    t->at = tmpf__os_cwd_fd;
    if (!*target) {
        errno = ENOENT; /* as rename(2) says for "" */
        return -1;
    }
    /* target = dir + separator + base; the root ("/", "C:\\") is a
     * directory of its own, and a bare name lives in ".". */
    size_t root = tmpf__os_root_len(target);
    size_t cut = strlen(target);
    while (cut > root && !tmpf__os_is_sep(target[cut - 1]))
        cut--;
    t->base = target + cut;
    if (!*t->base || !strcmp(t->base, ".") || !strcmp(t->base, "..")) {
        errno = EISDIR; /* "dir/", "." and ".." name directories */
        return -1;
    }
    size_t dir_len = cut == 0 ? 1 : cut == root ? root : cut - 1;
    int prefix_len = snprintf(t->side_prefix, sizeof t->side_prefix, ".#%.*s.",
                              SIDE_BASE_MAX, t->base);
    size_t fixed_len = dir_len + 1 + (size_t)prefix_len + strlen(SIDE_FIXED);
    t->dir = tmpf__malloc(dir_len + 1 + fixed_len + 1);
    if (!t->dir)
        return -1;
    memcpy(t->dir, cut == 0 ? "." : target, dir_len);
    t->dir[dir_len] = '\0';
    /* dir + separator + side_prefix + SIDE_FIXED; no second separator
     * after a dir that ends in one (the root: "/" + name, not "//name"). */
    char *p = t->fixed = t->dir + dir_len + 1;
    memcpy(p, t->dir, dir_len);
    p += dir_len;
    if (!tmpf__os_is_sep(t->dir[dir_len - 1]))
        *p++ = TMPF__OS_SEP;
    t->leaf_at = (size_t)(p - t->fixed);
    memcpy(p, t->side_prefix, (size_t)prefix_len);
    memcpy(p + prefix_len, SIDE_FIXED, sizeof SIDE_FIXED);
    /* A long target of the right shape (".#.#...#.tmpf") is its own
     * truncated side name: it must never be swept as one. */
    if (!strcmp(p, t->base))
        t->fixed = NULL;
    if (flags & TMPF_DURABLE) {
        t->at = tmpf__os_open_dir(t->dir);
        if (t->at < 0) {
            int saved = errno;
            t->at = tmpf__os_cwd_fd;
            free(t->dir);
            errno = saved;
            return -1;
        }
    }
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

/* The random side names of tmpf__create, tried relative to t->at. */
struct side_try {
    const struct target *t;
    int fd;        /* try_link: the unnamed file */
    unsigned perm; /* try_create */
};

static int try_link(const char *path, void *ctx)
{
    const struct side_try *c = ctx;
    return tmpf__os_link_fd(c->fd, c->t->at, at_name(c->t, path));
}

static int try_create(const char *path, void *ctx)
{
    const struct side_try *c = ctx;
    return tmpf__os_create_file_at(c->t->at, at_name(c->t, path), c->perm, 0);
}

/* Names the unnamed file fd beside the target: the fixed side name (after
 * sweeping a stale file from it) if lock_fd, an open file description of
 * the same file, can be locked; else a random one, malloc'd in *random. */
static int link_beside(int fd, int lock_fd, const struct target *t,
                       const char **side, char **random)
{
    *random = NULL;
    if (t->fixed && lock_fd >= 0 && tmpf__os_side_lock(lock_fd) == 0) {
        *side = t->fixed;
        const char *fixed = at_name(t, t->fixed);
        if (tmpf__os_link_fd(fd, t->at, fixed) == 0)
            return 0;
        if (errno != EEXIST)
            return -1;
        if (tmpf__os_side_sweep(t->at, fixed) &&
            tmpf__os_link_fd(fd, t->at, fixed) == 0)
            return 0;
        if (errno == ENOMEM)
            return -1; /* not "the name is taken": a random name would hide it */
    }
    tmpf__opts r;
    side_opts(t, &r);
    struct side_try c = {t, fd, 0};
    if (tmpf__create(&r, try_link, &c, random) < 0)
        return -1;
    *side = *random;
    return 0;
}

/*
 * What target names now, for a replace (not with TMPF_NOCLOBBER, which
 * only ever makes a new file: the move itself refuses an existing target
 * atomically). Followed like open(2) follows it: a symlink's file lends
 * its attributes, the link itself is what gets replaced. 1 with *st
 * filled, 0 for nothing there (or a dangling link), -1 with errno: EISDIR
 * for a directory (or a link to one), EPERM for something that is not a
 * regular file (a device, FIFO, socket) unless TMPF_REPLACE_SPECIAL.
 */
static int probe_target(const struct target *t, const char *target,
                        unsigned flags, struct tmpf__os_facts *st)
{
    if (flags & TMPF_NOCLOBBER)
        return 0;
    if (tmpf__os_facts_at(t->at, at_target(t, target), true, st) != 0)
        return errno == ENOENT ? 0 : -1;
    if (tmpf__os_facts_is_dir(st)) {
        errno = EISDIR;
        return -1;
    }
    if (!tmpf__os_facts_is_regular(st) && !(flags & TMPF_REPLACE_SPECIAL)) {
        errno = EPERM;
        return -1;
    }
    return 1;
}

/*
 * Gives the file open as fd, about to replace target (*st), target's owner
 * and group where the writer may, with TMPF_KEEP_XATTRS its ACL and
 * extended attributes, and the permission bits mode (-1: keep fd's own).
 * target_perm: mode is target's (not chosen by the caller); on Windows the
 * target's DACL then comes too (tmpf__os_take_owner). *have: fd's status
 * if known, else NULL.
 */
static int adopt(int fd, const struct tmpf__os_facts *st, const struct tmpf__os_facts *have,
                 int mode, bool target_perm, const struct target *t,
                 const char *target, unsigned flags)
{
    struct tmpf__os_facts own;
    if (!have) {
        if (tmpf__os_facts_fd(fd, &own) != 0)
            return -1;
        have = &own;
    }
    if (mode < 0)
        mode = (int)(have->mode & 07777);
    if (tmpf__os_take_owner(fd, t->at, at_target(t, target), target_perm, st, have) != 0)
        return -1;
    bool chmod = (have->mode & 07777) != (unsigned)mode;
    if (flags & TMPF_KEEP_XATTRS) {
        if (tmpf__os_copy_xattrs(t->at, at_target(t, target), fd) != 0)
            return -1;
        chmod = true; /* an ACL sets the group bits from its mask */
    }
    if (chmod && tmpf__os_chmod_fd(fd, (unsigned)mode) != 0)
        return -1;
    return 0;
}

/* A named temporary: name, resolved from the directory at (or
 * tmpf__os_cwd_fd); fd, if not -1, the file itself, moved through a handle
 * of its own where the system can (tmpf__os_can_rename_fd: Windows), so
 * that what lands at target is that file whatever its name is now. */
struct named {
    int at;
    const char *name;
    int fd;
};

/* Moves the temporary (tmp, or the unnamed file open as fd when tmp.name
 * is NULL) to target. lock_fd: see link_beside (-1: none). On failure
 * nothing changed. */
static int move_into_place(struct named tmp, int fd, int lock_fd,
                           const char *target, const struct target *t,
                           unsigned flags)
{
    const char *to = at_target(t, target);
    if (tmp.name && tmp.fd >= 0 && tmpf__os_can_rename_fd())
        return tmpf__os_rename_fd(tmp.fd, t->at, to, !(flags & TMPF_NOCLOBBER));
    if (tmp.name)
        return (flags & TMPF_NOCLOBBER)
                   ? tmpf__os_rename_noreplace(tmp.at, tmp.name, t->at, to)
                   : tmpf__os_rename(tmp.at, tmp.name, t->at, to);
    if (flags & TMPF_NOCLOBBER) {
        if (tmpf__os_link_fd(fd, t->at, to) == 0)
            return 0;
        /* link(2) meets an existing name before it compares file systems;
         * say what a rename would (EXDEV), so TMPF_ACROSS_FS copies. */
        if (errno == EEXIST && tmpf__os_other_device_at(fd, t->at, to) == 1)
            errno = EXDEV;
        return -1;
    }
    const char *side;
    char *random;
    if (link_beside(fd, lock_fd, t, &side, &random) != 0)
        return -1;
    tmpf__reg reg; /* crash layers: the side name until the rename */
    tmpf__reg_add(&reg, TMPF__REG_SIDE, side, fd);
    /* The fixed name is still ours to remove: we hold its lock. */
    int rc = tmpf__os_rename(t->at, at_name(t, side), t->at, to);
    tmpf__reg_end(&reg, TMPF__REG_REMOVED);
    if (rc != 0) {
        int saved = errno;
        tmpf__os_unlink_at(t->at, at_name(t, side));
        errno = saved;
    }
    free(random);
    return rc;
}

/*
 * fsync the file (TMPF_DURABLE), move it, fsync the directory (t->at,
 * opened by target_split, so nothing after the move can fail but the fsync
 * itself). *moved tells whether the target now holds it: -1 with *moved
 * set means only the directory fsync failed. sync_fd is the descriptor to
 * fsync (may differ from fd for a closed named file).
 */
static int place(struct named tmp, int fd, int sync_fd, int lock_fd,
                 const char *target, const struct target *t, unsigned flags,
                 bool *moved)
{
    *moved = false;
    if ((flags & TMPF_DURABLE) && tmpf__os_fsync(sync_fd, false) != 0)
        return -1;
    if (move_into_place(tmp, fd, lock_fd, target, t, flags) != 0)
        return -1;
    *moved = true;
    if (!(flags & TMPF_DURABLE))
        return 0;
    return tmpf__os_fsync(t->at, true);
}

static int create_named(const struct target *t, unsigned perm, char **random,
                        struct tmpf__os_facts *st, bool *st_ok);

/*
 * TMPF_ACROSS_FS, after the move met EXDEV: copies the data of f (open as
 * fd) to a new file at a side name beside target, gives it what the move
 * would have given it (target's owner, group, mode and, with
 * TMPF_KEEP_XATTRS, attributes; else f's mode), fsyncs it (TMPF_DURABLE)
 * and moves it into place. Returns place()'s result with *moved, and the
 * new file open in *ret_fd once moved; on failure the side file is gone.
 */
static int persist_copy(const tmpf_file *f, int fd, const char *target,
                        const struct target *t, int exists,
                        const struct tmpf__os_facts *st, unsigned flags, bool *moved,
                        int *ret_fd)
{
    *moved = false;
    char *random = NULL;
    struct tmpf__os_facts made, src;
    bool made_ok;
    int nfd = create_named(t, 0600, &random, &made, &made_ok);
    if (nfd < 0)
        return -1;
    const char *side = random ? random : t->fixed;
    int rc = tmpf__os_facts_fd(fd, &src);
    if (rc == 0)
        rc = tmpf__os_copy_data(fd, nfd);
    if (rc == 0) {
        int mode = exists && !f->perm_chosen ? (int)(st->mode & 0777)
                                             : (int)(src.mode & 07777);
        rc = exists ? adopt(nfd, st, made_ok ? &made : NULL, mode, !f->perm_chosen, t,
                            target, flags)
                    : tmpf__os_chmod_fd(nfd, (unsigned)mode);
    }
    if (rc == 0) {
        struct named tmp = {t->at, at_name(t, side), nfd};
        rc = place(tmp, nfd, nfd, -1, target, t, flags, moved);
    }
    int saved = errno;
    if (!*moved) {
        tmpf__os_unlink_at(t->at, at_name(t, side));
        tmpf__os_close(nfd);
        nfd = -1;
    }
    free(random);
    *ret_fd = nfd;
    errno = saved;
    return rc;
}

/*
 * Where no open file can be given a name (tmpf__os_can_link_fd false:
 * generic POSIX, macOS), a named file is moved by its name, once proved
 * to still designate the file open as fd (device and inode, not followed;
 * tmp->name set); ESTALE if it does not. Between that check and the
 * rename someone who may write the temporary's directory could still
 * swap the name: the residual window, closed only where the descriptor
 * itself can be linked. Where it can be renamed (Windows) it is moved
 * through a handle on itself instead, and no name is checked or trusted.
 * An anonymous file is copied instead (copy_anon in tmpf_file_persist) and
 * never comes here.
 */
static int by_name_if_unlinkable(const tmpf_file *f, int fd, struct named *tmp)
{
    if (tmpf__os_can_link_fd() || !(f->path && f->on_disk_name))
        return 0;
    if (tmpf__os_can_rename_fd()) {
        /* Windows: moved through a handle on the file itself, no name
         * trusted (move_into_place). */
        tmp->name = f->path;
        tmp->fd = fd;
        return 0;
    }
    int same = tmpf__os_is_file_at(tmpf__os_cwd_fd, f->path, fd);
    if (same < 0)
        return -1;
    if (same == 0) {
        errno = ESTALE;
        return -1;
    }
    tmp->name = f->path;
    return 0;
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
    if (target_split(target, flags, &t) != 0)
        return -1;
    /* Everything that can fail after the move is done before it. */
    char *abs = tmpf__abspath(target);
    int own_fd = -1;
    if (!abs)
        goto fail;
    struct tmpf__os_facts st;
    int exists = probe_target(&t, target, flags, &st);
    if (exists < 0)
        goto fail;
    int fd = f->fd;
    if (fd < 0) {
        /* A closed named file (kept after close): moved through a
         * descriptor of its own like an open one, once proved to be the
         * file tmpf made where others could rename it (its identity). */
        own_fd = tmpf__os_open_read_nofollow(f->path);
        if (own_fd < 0)
            goto fail;
        fd = own_fd;
        struct tmpf__ident id;
        if (f->ident.ino && tmpf__ident_of_fd(fd, &id) != 0)
            goto fail;
        if (f->ident.ino && (id.dev != f->ident.dev || id.ino != f->ident.ino)) {
            errno = ESTALE;
            goto fail;
        }
    }
    struct tmpf__os_facts have;
    if (exists && tmpf__os_facts_fd(fd, &have) != 0)
        goto fail;
    /* Persisting onto a name the file already has (its own path, say):
     * rename(2) between two links of one file does nothing, so there is
     * nothing to move; the name itself, not a symlink to the file. */
    bool already = false;
    if (exists && named && have.id.dev == st.id.dev &&
        have.id.ino == st.id.ino) {
        int same = tmpf__os_is_file_at(t.at, at_target(&t, target), fd);
        if (same < 0)
            goto fail;
        already = same == 1;
    }
    /* An anonymous file where no open file can be given a name (generic
     * POSIX, macOS, Windows): target becomes a copy of its content, made
     * beside it and renamed into place (persist_copy). The caller's object
     * keeps its own file and descriptor, and any lock on it; writes made
     * through it afterwards do not reach target. */
    bool copy_anon = !named && !tmpf__os_can_link_fd();
    /* Replacing: target's owner and group, and its permission bits unless
     * the caller chose the temporary's (the copy is given them itself). */
    if (exists && !already && !copy_anon &&
        adopt(fd, &st, &have, f->perm_chosen ? -1 : (int)(st.mode & 0777),
              !f->perm_chosen, &t, target, flags) != 0)
        goto fail;
    /* An open file is moved through its descriptor, named or not: linked
     * beside target (or to it, TMPF_NOCLOBBER) and renamed, so what lands
     * at target is the file tmpf holds even if someone re-pointed its
     * name meanwhile (a temporary directory that others can write). Its
     * old name is removed afterwards only while it still designates it.
     *
     * The descriptor is locked for the side name through a descriptor of
     * its own, so that a lock the caller may hold on f's descriptor is
     * neither taken over nor released; closed after the move, which
     * releases it. Without one, a random side name is used. */
    int lock_fd = -1;
    if (!(flags & TMPF_NOCLOBBER) && !copy_anon)
        lock_fd = tmpf__os_reopen_read(fd);
    bool moved = already;
    bool by_name = false;
    int rc = 0;
    if (already && (flags & TMPF_DURABLE))
        rc = tmpf__os_fsync(fd, false) == 0 && tmpf__os_fsync(t.at, true) == 0
                 ? 0
                 : -1;
    else if (!already && !copy_anon) {
        /* Durable and on another device: straight to the copy, without
         * an fsync of the temporary that is about to go. */
        if ((flags & (TMPF_ACROSS_FS | TMPF_DURABLE)) ==
                (TMPF_ACROSS_FS | TMPF_DURABLE) &&
            tmpf__os_same_device(fd, t.at) == 0) {
            rc = -1;
            errno = EXDEV;
        } else {
            struct named tmp = {tmpf__os_cwd_fd, NULL, -1};
            rc = by_name_if_unlinkable(f, fd, &tmp);
            if (rc == 0)
                rc = place(tmp, fd, fd, lock_fd, target, &t, flags, &moved);
            by_name = moved && tmp.name != NULL;
            /* Linux, a file system that refuses O_TMPFILE: the anonymous
             * file was created and unlinked, and such a file cannot be
             * linked again (ENOENT). Copied as above (a missing
             * directory says ENOENT again, at the copy's creation). */
            if (!moved && !named && errno == ENOENT)
                copy_anon = true;
        }
    }
    int copy_fd = -1;
    if (!moved && (copy_anon || (errno == EXDEV && (flags & TMPF_ACROSS_FS))))
        rc = persist_copy(f, fd, target, &t, exists, &st, flags, &moved, &copy_fd);
    int err = errno;
    /* The temporary's name goes, only while it still designates it. */
    if (moved && named && !by_name && fd >= 0 && strcmp(f->path, abs) != 0)
        tmpf__os_unlink_if_file(tmpf__os_cwd_fd, f->path, fd);
    if (copy_fd >= 0 && copy_anon) {
        tmpf__os_close(copy_fd); /* f keeps its own file */
    } else if (copy_fd >= 0) {
        /* f is the copy at target from now on (same descriptor number,
         * same offset); the temporary goes with its last descriptor. */
        if (f->fd < 0 || tmpf__os_replace_fd(f->fd, copy_fd) != 0)
            tmpf__os_close(copy_fd);
    }
    if (lock_fd >= 0)
        tmpf__os_close(lock_fd);
    if (own_fd >= 0)
        tmpf__os_close(own_fd);
    target_free(&t);
    if (!moved) {
        free(abs);
        errno = err;
        return -1;
    }
    bool was_kept = f->kept;
    free(f->path);
    f->path = abs;
    /* A copy is no name of f's file: nothing f may delete or reopen. */
    f->on_disk_name = !copy_anon;
    f->kept = true;
    tmpf__reg_end(&f->reg, TMPF__REG_PERSISTED);
    tmpf__scope_forget(f->scope_entry);
    f->scope_entry = NULL;
    /* Once: a file already kept no longer counts as a live temporary. */
    if (!was_kept)
        tmpf__audit(TMPF_EVENT_PERSIST, f->kind, f, f->path, f->fd, 0, 0);
    errno = err;
    return rc;
fail: {
    int saved = errno;
    if (own_fd >= 0)
        tmpf__os_close(own_fd);
    free(abs);
    target_free(&t);
    errno = saved;
    return -1;
}
}

/*
 * A named temporary beside the target, created with perm: at the fixed side
 * name (swept first if stale) and locked before anything is written, or, if
 * that name is busy, at a random one (*random, malloc'd). *st is filled for
 * the fixed name only (*st_ok).
 */
static int create_named(const struct target *t, unsigned perm, char **random,
                        struct tmpf__os_facts *st, bool *st_ok)
{
    *random = NULL;
    *st_ok = false;
    tmpf__opts r;
    side_opts(t, &r);
    struct side_try c = {t, -1, perm};
    if (!t->fixed)
        return tmpf__create(&r, try_create, &c, random);
    const char *fixed = at_name(t, t->fixed);
    int fd = tmpf__os_create_file_at(t->at, fixed, perm, 0);
    if (fd < 0 && errno != EEXIST)
        return -1; /* a random name would fail alike (EACCES, ENOENT, ...) */
    if (fd < 0 && tmpf__os_side_sweep(t->at, fixed))
        fd = tmpf__os_create_file_at(t->at, fixed, perm, 0);
    if (fd < 0 && errno == ENOMEM)
        return -1; /* not "the name is taken": a random name would hide it */
    if (fd >= 0) {
        /* Between open and lock a sweeper may have taken the lock (it then
         * removes the name: EWOULDBLOCK) or already removed it (no link
         * left); then the name is no longer ours. */
        if (tmpf__os_side_lock(fd) == 0) {
            if (tmpf__os_facts_fd(fd, st) == 0 && st->nlink == 1) {
                *st_ok = true;
                return fd;
            }
        } else if (errno != EWOULDBLOCK) {
            /* No locks here: nobody sweeps, the name is ours to remove. */
            tmpf__os_unlink_at(t->at, fixed);
        }
        tmpf__os_close(fd);
    }
    return tmpf__create(&r, try_create, &c, random);
}

/* One replace in progress: tmpf_write_atomic's, or an item of
 * tmpf_write_atomic_many's, between its stage and its commit. */
struct pending {
    struct target t;
    int fd;           /* the temporary, written */
    char *random;     /* a random side name, malloc'd */
    const char *tmp_path; /* named temporary: t.fixed or random */
    tmpf__reg side_reg;   /* crash layers: tmp_path while it exists */
};

/* Gives up p: its temporary (the fixed side name is ours to remove: we
 * hold its lock) and everything it holds. errno is kept. */
static void abandon(struct pending *p)
{
    int saved = errno;
    if (p->tmp_path)
        tmpf__os_unlink_at(p->t.at, at_name(&p->t, p->tmp_path));
    tmpf__reg_end(&p->side_reg, TMPF__REG_REMOVED);
    free(p->random);
    if (p->fd >= 0)
        tmpf__os_close(p->fd);
    p->fd = -1;
    target_free(&p->t);
    errno = saved;
}

/* Everything up to the move: target examined, the temporary made beside it
 * and written, the attributes it keeps set. On failure nothing is left. */
static int stage(struct pending *p, const char *target, const void *data,
                 size_t n, unsigned flags)
{
    p->fd = -1;
    p->random = NULL;
    p->tmp_path = NULL;
    p->side_reg = (tmpf__reg){0};
    if (target_split(target, flags, &p->t) != 0)
        return -1;
    struct target *t = &p->t;

    /* Replacing: the permission bits of what target names now (through a
     * symlink: of the file it points to). A new file is created 0666 so
     * the kernel applies the umask (and a default ACL) exactly as for any
     * new file: no umask(2) dance, which would race with other threads. */
    struct tmpf__os_facts st;
    int exists = probe_target(t, target, flags, &st);
    if (exists < 0)
        goto fail;
    /* Setuid, setgid and sticky bits are not carried over to new content. */
    unsigned perm = exists ? (unsigned)(st.mode & 0777) : 0666;

    struct tmpf__os_facts made;
    bool made_ok = false;
    /* An unnamed file only where an open file can be given a name: else
     * (Windows) naming it is a copy, neither atomic for TMPF_NOCLOBBER nor
     * cheaper than writing a named temporary in the first place. */
    if (((flags & TMPF_NOCLOBBER) || n > SMALL_WRITE) && tmpf__os_can_link_fd()) {
        p->fd = tmpf__os_open_tmpfile(t->at, t->at == tmpf__os_cwd_fd ? t->dir : ".", perm);
        /* No O_TMPFILE here (kernel or file system): a named temporary.
         * Not cached: support differs from one file system to the next. */
        if (p->fd < 0 && !tmpf__os_tmpfile_unsupported(errno))
            goto fail;
    }
    if (p->fd < 0) {
        if (t->fixed) /* covered from the instant it exists */
            tmpf__reg_add_pending(&p->side_reg, t->fixed);
        p->fd = create_named(t, perm, &p->random, &made, &made_ok);
        if (p->fd < 0)
            goto fail;
        p->tmp_path = p->random ? p->random : t->fixed;
        if (p->random) {
            tmpf__reg_end(&p->side_reg, TMPF__REG_REMOVED);
            tmpf__reg_add(&p->side_reg, TMPF__REG_SIDE, p->tmp_path, p->fd);
        } else {
            tmpf__reg_fd(&p->side_reg, p->fd);
        }
    }
    if (tmpf__os_write_all(p->fd, data, n) != 0)
        goto fail;
    /* The kernel applied the umask (or a default ACL) to perm: put back
     * the bits the target has, and its owner and group. Usually they
     * survived it and one fstat (free for the fixed side name) saves the
     * fchmod and fchown. */
    if (exists && adopt(p->fd, &st, made_ok ? &made : NULL, (int)perm, true, t, target,
                        flags) != 0)
        goto fail;
    return 0;
fail:
    abandon(p);
    return -1;
}

/* Moves p's temporary into place (with the fsyncs flags ask for) and
 * closes it; p's target stays for the caller to free. -1 with *moved set:
 * only the directory fsync failed. */
static int commit(struct pending *p, const char *target, unsigned flags,
                  bool *moved)
{
    struct named tmp = {p->t.at, p->tmp_path ? at_name(&p->t, p->tmp_path) : NULL, p->fd};
    int rc = place(tmp, p->fd, p->fd, p->fd, target, &p->t, flags, moved);
    if (!*moved) {
        int saved = errno;
        if (p->tmp_path)
            tmpf__os_unlink_at(p->t.at, at_name(&p->t, p->tmp_path));
        errno = saved;
    }
    int err = errno;
    tmpf__reg_end(&p->side_reg, TMPF__REG_REMOVED);
    tmpf__os_close(p->fd);
    p->fd = -1;
    free(p->random);
    p->random = NULL;
    errno = err;
    return rc;
}

int tmpf_write_atomic(const char *target, const void *data, size_t n,
                      unsigned flags)
{
    if (!target || (!data && n > 0) || (flags & ~WRITE_FLAGS)) {
        errno = EINVAL;
        return -1;
    }
    struct pending p;
    if (stage(&p, target, data, n, flags) != 0)
        return -1;
    bool moved;
    int rc = commit(&p, target, flags, &moved);
    int err = errno;
    target_free(&p.t);
    errno = err;
    return rc;
}

/* tmpf_write_atomic_many: a moved item, to be ordered by directory. */
struct moved_item {
    const char *dir;
    size_t i;
};

static int by_dir(const void *a, const void *b)
{
    return strcmp(((const struct moved_item *)a)->dir,
                  ((const struct moved_item *)b)->dir);
}

/* Sets every item's error to err; -1 with errno err. */
static int fail_all(tmpf_write *w, size_t n, int err)
{
    for (size_t i = 0; i < n; i++)
        w[i].error = err;
    errno = err;
    return -1;
}

/*
 * Durable: every temporary is written first, then all are synced at once
 * (tmpf__os_sync_files), then each is renamed into place, then each
 * distinct directory is fsync'd once: about one journal commit for the
 * data and one per directory, instead of two per file.
 */
int tmpf_write_atomic_many(tmpf_write *w, size_t n, unsigned flags)
{
    if ((!w && n > 0) || (flags & ~WRITE_FLAGS))
        return fail_all(w, w ? n : 0, EINVAL);
    if (n == 0)
        return 0;
    struct pending *p = tmpf__calloc(n, sizeof *p);
    struct moved_item *moved_items = p ? tmpf__calloc(n, sizeof *moved_items) : NULL;
    int *fds = moved_items ? tmpf__calloc(n, 2 * sizeof *fds) : NULL;
    if (!fds) {
        free(p);
        free(moved_items);
        return fail_all(w, n, ENOMEM);
    }
    int *errs = fds + n;
    bool durable = flags & TMPF_DURABLE;
    unsigned item_flags = flags & ~(unsigned)TMPF_DURABLE;
    size_t staged = 0;
    for (size_t i = 0; i < n; i++) {
        p[i].fd = -1;
        w[i].error = 0;
        if (!w[i].target || (!w[i].data && w[i].size > 0))
            w[i].error = EINVAL;
        else if (stage(&p[i], w[i].target, w[i].data, w[i].size, item_flags) != 0)
            w[i].error = errno;
        else if (durable)
            fds[staged++] = p[i].fd;
        else {
            /* Nothing to share without syncs: each item is a plain
             * tmpf_write_atomic, with one temporary open at a time. */
            bool moved;
            if (commit(&p[i], w[i].target, item_flags, &moved) != 0)
                w[i].error = errno;
            target_free(&p[i].t);
        }
    }
    if (durable && staged) {
        tmpf__os_sync_files(fds, errs, staged);
        for (size_t i = 0, k = 0; i < n; i++) {
            if (p[i].fd < 0)
                continue;
            int err = errs[k++];
            if (err) {
                w[i].error = errno = err;
                abandon(&p[i]);
            }
        }
    }
    size_t moved_count = 0;
    for (size_t i = 0; i < n; i++) {
        if (p[i].fd < 0)
            continue;
        bool moved;
        if (commit(&p[i], w[i].target, item_flags, &moved) != 0)
            w[i].error = errno;
        if (moved)
            moved_items[moved_count++] = (struct moved_item){p[i].t.dir, i};
        else
            target_free(&p[i].t);
    }
    if (durable && moved_count) {
        qsort(moved_items, moved_count, sizeof *moved_items, by_dir);
        for (size_t a = 0; a < moved_count;) {
            size_t b = a + 1;
            while (b < moved_count && !strcmp(moved_items[a].dir, moved_items[b].dir))
                b++;
            int dfd = tmpf__os_open_dir(moved_items[a].dir);
            int err = dfd < 0 ? errno : tmpf__os_fsync(dfd, true) == 0 ? 0 : errno;
            if (dfd >= 0)
                tmpf__os_close(dfd);
            for (size_t k = a; err && k < b; k++)
                w[moved_items[k].i].error = err;
            a = b;
        }
    }
    for (size_t k = 0; k < moved_count; k++)
        target_free(&p[moved_items[k].i].t);
    free(fds);
    free(moved_items);
    free(p);
    int first = 0;
    for (size_t i = 0; i < n && !first; i++)
        first = w[i].error;
    errno = first;
    return first ? -1 : 0;
}
