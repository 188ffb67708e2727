/* Cleanup removes only what tmpf created.
 *
 * In a directory where others can rename entries (writable by them without
 * the sticky bit, or owned by someone else), the name of a temporary may
 * come to designate something else between creation and cleanup: an
 * attacker renames the temporary away and renames another of the victim's
 * trees into its place. There, the device and inode are recorded at
 * creation and the name is removed only while it still designates them;
 * a directory is emptied through a descriptor of it, never by path, and
 * only while its name still designates it.
 *
 * Where only the caller and root can rename entries (a sticky /tmp, the
 * caller's own 0700 directory), nothing is recorded and nothing checked:
 * the directory's verdict is remembered (either way), so deciding costs a
 * hash of the directory's path and no system call.
 *
 * What stays open: between the check and unlink(2) / rmdir(2) of the name
 * there is no system call that removes a name only if it is a given inode.
 * A swap in that window can make an unlink remove the swapped-in file's
 * name, and a rmdir remove a swapped-in directory only if it is empty.
 * Between mkdir(2) and the open that records a directory's identity, what
 * is found must be the caller's and empty, as the new directory is: only
 * an empty directory of the caller's could pass for it. */
#include "internal.h"

#include <errno.h>
#include <stdlib.h>

const char *tmpf__dir_unsafe(const char *dir)
{
    struct tmpf__os_facts f;
    if (tmpf__os_facts_path(dir, true, &f) != 0)
        return "cannot be examined";
    if (!tmpf__os_facts_is_dir(&f)) {
        errno = ENOTDIR;
        return "not a directory";
    }
    if (tmpf__os_facts_shared_writable(&f)) {
        errno = EPERM;
        return "others can write to it and it has no sticky bit";
    }
    if (f.uid != 0 && f.uid != tmpf__os_euid()) {
        errno = EPERM;
        return "owned by another user";
    }
    return NULL;
}

/* Verdicts on directories, by a hash of their path (as file.c remembers
 * O_TMPFILE refusals): bit 0 of a slot is the verdict (1: shared), the
 * rest the hash. A collision or a stale entry only skips the checks for
 * that directory, which is what tmpf did before they existed, or makes
 * them where they are not needed; a failed stat is not remembered. */
#define VERDICT_SLOTS 32
static _Atomic(uint64_t) verdicts[VERDICT_SLOTS];
static atomic_uint verdict_count;

static uint64_t dir_key(const tmpf__opts *r)
{
    uint64_t h = 0xcbf29ce484222325u; /* FNV-1a */
    for (size_t i = 0; i < r->dir_len; i++)
        h = (h ^ (unsigned char)r->dir[i]) * 0x100000001b3u;
    return (h & ~(uint64_t)3) | 2; /* bit 1: never 0, an empty slot */
}

bool tmpf__dir_shared(const tmpf__opts *r)
{
    uint64_t key = dir_key(r);
    unsigned n = atomic_load_explicit(&verdict_count, memory_order_relaxed);
    for (unsigned i = 0; i < VERDICT_SLOTS && i < n; i++) {
        uint64_t v = atomic_load_explicit(&verdicts[i], memory_order_relaxed);
        if ((v & ~(uint64_t)1) == key)
            return v & 1;
    }
    int saved = errno;
    const char *why = tmpf__dir_unsafe(r->dir);
    bool shared = why != NULL;
    bool known = !why || errno == EPERM; /* a verdict, not a failed stat */
    errno = saved;
    if (known) {
        unsigned i = atomic_fetch_add_explicit(&verdict_count, 1, memory_order_relaxed);
        if (i >= VERDICT_SLOTS) {
            atomic_store_explicit(&verdict_count, VERDICT_SLOTS, memory_order_relaxed);
            i %= VERDICT_SLOTS;
        }
        atomic_store_explicit(&verdicts[i], key | (uint64_t)shared, memory_order_relaxed);
    }
    return shared;
}

int tmpf__ident_of_new_dir(const char *path, int *ret_fd, struct tmpf__ident *ret)
{
    int fd = tmpf__os_open_dir_nofollow(path);
    if (fd < 0) {
        if (errno == ENOTDIR || errno == ELOOP)
            errno = ESTALE; /* a file or a symlink is there now */
        return -1;
    }
    struct tmpf__os_facts f;
    int empty = -1;
    if (tmpf__os_facts_fd(fd, &f) == 0) {
        /* Another user's, or with subdirectories (more than 2 links; btrfs
         * says 1 for any directory), or with anything in it: not the
         * directory mkdir just made. */
        if (f.uid != tmpf__os_euid() || f.nlink > 2)
            empty = 0;
        else
            empty = tmpf__os_dir_is_empty(fd);
    }
    if (empty != 1) {
        if (empty == 0)
            errno = ESTALE;
        int saved = errno;
        tmpf__os_close(fd);
        errno = saved;
        return -1;
    }
    *ret = f.id;
    if (ret_fd)
        *ret_fd = fd;
    else
        tmpf__os_close(fd);
    return 0;
}

int tmpf__ident_of_path(const char *path, struct tmpf__ident *ret)
{
    struct tmpf__os_facts f;
    if (tmpf__os_facts_path(path, false, &f) != 0)
        return -1;
    *ret = f.id;
    return 0;
}

int tmpf__ident_of_fd(int fd, struct tmpf__ident *ret)
{
    struct tmpf__os_facts f;
    if (tmpf__os_facts_fd(fd, &f) != 0)
        return -1;
    *ret = f.id;
    return 0;
}

static bool same(const struct tmpf__ident *a, const struct tmpf__ident *b)
{
    return a->dev == b->dev && a->ino == b->ino;
}

/* 1: path designates id; 0: something else (errno ESTALE) or nothing
 * (ENOENT); -1: another error. */
static int designates(const char *path, const struct tmpf__ident *id)
{
    struct tmpf__ident now;
    if (tmpf__ident_of_path(path, &now) != 0)
        return errno == ENOENT ? 0 : -1;
    if (same(&now, id))
        return 1;
    errno = ESTALE;
    return 0;
}

int tmpf__remove_file_checked(const char *path, const struct tmpf__ident *id)
{
    if (id->ino) {
        int d = designates(path, id);
        if (d < 0)
            return -1;
        if (d == 0)
            return errno == ENOENT ? 0 : -1;
    }
    if (tmpf__os_unlink(path) != 0 && errno != ENOENT)
        return -1;
    return 0;
}

/* The name no longer designates our directory (designates() said why in
 * errno): nothing there is touched. ENOENT is success, as for an unchecked
 * cleanup: the directory was removed, or moved away by its owner to keep
 * it (a directory built in a temporary and renamed into place must not be
 * emptied). Something else at the name is ESTALE: the temporary was not
 * removed, and whatever is there now is not ours to remove. */
static int name_lost(void)
{
    return errno == ENOENT ? 0 : -1;
}

static int remove_dir_at(const char *path, int fd, const struct tmpf__ident *id)
{
    int d = designates(path, id);
    if (d < 0)
        return -1;
    if (d == 0)
        return name_lost();
    /* An empty directory goes at once; rmdir(2) never removes a
     * directory with something in it, whatever the name designates by
     * then. */
    if (tmpf__os_rmdir(path) == 0)
        return 0;
    if (errno == ENOENT)
        return 0;
    if (errno != ENOTEMPTY && errno != EEXIST)
        return -1;
    int err = tmpf__os_rmtree_contents(fd);
    if (err) {
        errno = err;
        return -1;
    }
    d = designates(path, id);
    if (d < 0)
        return -1;
    if (d == 0)
        return name_lost();
    if (tmpf__os_rmdir(path) == 0 || errno == ENOENT)
        return 0;
    return -1;
}

int tmpf__remove_dir_checked(const char *path, int fd, const struct tmpf__ident *id)
{
    if (fd >= 0)
        return remove_dir_at(path, fd, id);
    fd = tmpf__os_open_dir_nofollow(path);
    if (fd < 0) {
        if (errno == ENOENT)
            return 0; /* gone, as an unchecked cleanup would say */
        if (errno == ENOTDIR || errno == ELOOP)
            errno = ESTALE; /* a file or a symlink is there now */
        return -1;
    }
    struct tmpf__ident now;
    int rc;
    if (tmpf__ident_of_fd(fd, &now) != 0)
        rc = -1;
    else if (!same(&now, id)) {
        /* Not ours, and ours is out of reach: nothing is removed. */
        errno = ESTALE;
        rc = -1;
    } else
        rc = remove_dir_at(path, fd, id);
    int saved = errno;
    tmpf__os_close(fd);
    errno = saved;
    return rc;
}
