/*
 * Recursive removal through directory descriptors (POSIX *at calls; the
 * few Linux extras are guarded). The rules that make it safe against a
 * concurrent attacker who can rename entries inside the tree:
 *
 *  - every directory is entered with openat(parent_fd, name,
 *    O_DIRECTORY|O_NOFOLLOW), so a symlink swapped in is never followed; it
 *    is unlinked as a link;
 *  - no path is ever resolved again from the top: a directory closed to
 *    stay within the descriptor budget is reopened through openat(child,
 *    "..") or name by name from an open ancestor, and used only if its
 *    device and inode are the ones recorded when it was first opened;
 *  - permissions are repaired with fchmod on a descriptor of ours, or, for
 *    a directory we cannot open, on an O_PATH|O_NOFOLLOW descriptor that
 *    fstat proved to be a directory (never through a symlink);
 *  - a directory on another mount than its parent, the root included, is
 *    not entered (EBUSY), and no permission of it is repaired; bind mounts
 *    of the same file system are told by their mount id where statx
 *    reports one (Linux 5.8+), by fstatfs's f_mntonname on the BSDs and
 *    macOS, and elsewhere by the classic sign of a mount point: readdir's
 *    d_ino (the covered directory) differs from fstat's st_ino (the
 *    mounted root). The root itself is then checked by st_dev alone.
 *
 * The walk is depth first with an explicit stack of frames, so neither deep
 * trees nor trees deeper than RLIMIT_NOFILE exhaust the C stack or the
 * descriptor table.
 */
#include "../internal.h"
#include "tmpf_features.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#if TMPF_HAVE_STATX
#include <sys/syscall.h>
#endif
#if TMPF_HAVE_STATFS_MNTONNAME
#include <sys/param.h>
#include <sys/mount.h>
#endif
#if !TMPF_HAVE_DIRENT_D_TYPE
/* No d_type (strict POSIX headers): every entry is looked at with fstatat. */
#define DT_UNKNOWN 0
#define DT_DIR 4
#define DT_REG 8
#define ENTRY_TYPE(e) ((unsigned char)DT_UNKNOWN)
#else
#define ENTRY_TYPE(e) ((e)->d_type)
#endif

/* Directory streams kept open at most; deeper ancestors are closed and
 * reopened when the walk climbs back to them. */
#define WALK_MAX_OPEN 48
/* Bound on retries of one entry (permission repair, type changes under an
 * attacker who keeps swapping). */
#define WALK_TRIES 8

#define OPEN_DIR_FLAGS (O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC)

struct frame {
    DIR *dir;         /* NULL while closed, and for the base */
    int fd;           /* dirfd(dir), the base's descriptor, or -1 while closed */
    uint64_t dev, ino, mnt; /* identity recorded at first open (mnt 0: unknown) */
    unsigned mode;
    uint64_t key;     /* d_ino of its entry in the parent */
    size_t name;      /* offset of its name in walk.names */
    uint64_t *failed; /* sorted d_ino of entries that could not be removed */
    size_t nfailed, capfailed;
    bool fixed;       /* own permissions repaired (or never to be: the base) */
};

struct walk {
    struct frame *fr; /* fr[0]: the parent of the root (outside the tree) */
    size_t depth, cap;
    char *names;      /* stack of NUL-terminated names, one per frame */
    size_t names_len, names_cap;
    size_t open;      /* streams open in frames >= 1 */
    size_t shed_from; /* no frame below this index (>= 2) is open */
    int err;          /* first errno met */
};

struct node {
    uint64_t dev, ino, mnt;
    unsigned mode;
};

static void note(struct walk *w, int err)
{
    if (!w->err)
        w->err = err;
}

#if TMPF_HAVE_STATX
/* The kernel's struct statx (linux/stat.h, a stable ABI), declared here so
 * that the mount id is had through any C library, including those without
 * a statx() wrapper (musl before 1.2.5). */
struct walk_statx {
    uint32_t mask, blksize;
    uint64_t attributes;
    uint32_t nlink, uid, gid;
    uint16_t mode, spare0;
    uint64_t ino, size, blocks, attributes_mask;
    struct {
        int64_t sec;
        uint32_t nsec;
        int32_t reserved;
    } atime, btime, ctime, mtime;
    uint32_t rdev_major, rdev_minor, dev_major, dev_minor;
    uint64_t mnt_id;
    uint64_t spare[13];
};
_Static_assert(sizeof(struct walk_statx) == 256, "struct statx is 256 bytes");
#define WALK_STATX_TYPE 0x1u
#define WALK_STATX_MODE 0x2u
#define WALK_STATX_INO 0x100u
#define WALK_STATX_MNT_ID 0x1000u
#endif

#if TMPF_HAVE_STATFS_MNTONNAME
/* The mount's identity on the BSDs and macOS: where it is mounted. A hash
 * (never 0) keeps struct node small; a collision would only merge two
 * mounts' identities, as st_dev alone does. */
static uint64_t mount_of(int fd)
{
    struct statfs sf;
    if (fstatfs(fd, &sf) != 0)
        return 0;
    uint64_t h = 0xcbf29ce484222325u; /* FNV-1a */
    for (const char *p = sf.f_mntonname; *p && p < sf.f_mntonname + sizeof sf.f_mntonname; p++)
        h = (h ^ (unsigned char)*p) * 0x100000001b3u;
    return h | 1;
}
#endif

static int identify(int fd, struct node *n)
{
#if TMPF_HAVE_STATX
    /* statx also tells the mount (Linux 5.8+), so a bind mount of the same
     * file system is recognised, which st_dev alone cannot do. */
    static atomic_bool no_statx;
    if (!atomic_load_explicit(&no_statx, memory_order_relaxed)) {
        struct walk_statx sx;
        if (syscall(SYS_statx, fd, "", AT_EMPTY_PATH,
                    WALK_STATX_TYPE | WALK_STATX_MODE | WALK_STATX_INO |
                        WALK_STATX_MNT_ID,
                    &sx) == 0) {
            n->dev = ((uint64_t)sx.dev_major << 32) | sx.dev_minor;
            n->ino = sx.ino;
            n->mnt = (sx.mask & WALK_STATX_MNT_ID) ? sx.mnt_id : 0;
            n->mode = sx.mode;
            return 0;
        }
        if (errno != ENOSYS && errno != EINVAL)
            return -1;
        atomic_store_explicit(&no_statx, true, memory_order_relaxed);
    }
#endif
    struct stat st;
    if (fstat(fd, &st) != 0)
        return -1;
    n->dev = (uint64_t)st.st_dev;
    n->ino = (uint64_t)st.st_ino;
#if TMPF_HAVE_STATFS_MNTONNAME
    n->mnt = mount_of(fd);
#else
    n->mnt = 0;
#endif
    n->mode = (unsigned)st.st_mode;
    return 0;
}

/* Whether n is on the same mount as directory f: by mount id where both
 * are known (a btrfs subvolume is no mount; a bind mount is), else by
 * device. */
static bool same_mount(const struct node *n, const struct frame *f)
{
    if (n->mnt && f->mnt)
        return n->mnt == f->mnt;
    return n->dev == f->dev;
}

/* The d_ino that a fresh reading of directory dirfd gives entry name (0:
 * not found or unreadable). */
static uint64_t entry_ino(int dirfd, const char *name)
{
    int fd;
    do
        fd = openat(dirfd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    while (fd < 0 && errno == EINTR);
    if (fd < 0)
        return 0;
    DIR *d = fdopendir(fd);
    if (!d) {
        close(fd);
        return 0;
    }
    uint64_t ino = 0;
    struct dirent *e;
    while ((e = readdir(d)))
        if (!strcmp(e->d_name, name)) {
            ino = (uint64_t)e->d_ino;
            break;
        }
    closedir(d);
    return ino;
}

/* Whether directory n, found in frame f's directory (descriptor dirfd) as
 * entry name whose readdir d_ino was key (0: unknown, the root), is the
 * root of another mount. Without mount ids, an entry whose d_ino is not
 * the inode behind it is one: readdir reports the covered directory. A
 * mismatch is confirmed by reading the directory again, since an entry
 * swapped since the first reading looks the same (a mount point costs one
 * more reading). Some FUSE and overlay file systems report other d_ino
 * values too: there the walk refuses to enter, EBUSY, rather than risk
 * leaving the tree. */
static bool other_mount(const struct node *n, const struct frame *f, int dirfd,
                        const char *name, uint64_t key)
{
    if (!same_mount(n, f))
        return true;
    if (n->mnt || key == 0 || key == n->ino)
        return false;
    return entry_ino(dirfd, name) != n->ino;
}

static bool same_dir(const struct node *n, const struct frame *f)
{
    return n->dev == f->dev && n->ino == f->ino &&
           (!n->mnt || !f->mnt || n->mnt == f->mnt);
}

/* ---- entries that could not be removed --------------------------------- */

static size_t failed_pos(const struct frame *f, uint64_t key)
{
    size_t lo = 0, hi = f->nfailed;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (f->failed[mid] < key)
            lo = mid + 1;
        else
            hi = mid;
    }
    return lo;
}

static bool failed_has(const struct frame *f, uint64_t key)
{
    size_t i = failed_pos(f, key);
    return i < f->nfailed && f->failed[i] == key;
}

/* Records err and remembers the entry, so that a rereading of its directory
 * (after a reopen) does not try it again and again. */
static void fail(struct walk *w, size_t fi, uint64_t key, int err)
{
    note(w, err);
    struct frame *f = &w->fr[fi];
    if (fi == 0)
        return;
    size_t i = failed_pos(f, key);
    if (i < f->nfailed && f->failed[i] == key)
        return;
    if (f->nfailed == f->capfailed) {
        size_t cap = f->capfailed ? 2 * f->capfailed : 8;
        uint64_t *p = tmpf__realloc(f->failed, cap * sizeof *p);
        if (!p)
            return; /* only costs a retry when the directory is reread */
        f->failed = p;
        f->capfailed = cap;
    }
    memmove(f->failed + i + 1, f->failed + i, (f->nfailed - i) * sizeof *f->failed);
    f->failed[i] = key;
    f->nfailed++;
}

/* ---- descriptors -------------------------------------------------------- */

static void close_frame(struct walk *w, struct frame *f)
{
    if (f->dir) {
        closedir(f->dir);
        w->open--;
    }
    f->dir = NULL;
    f->fd = -1;
}

/* Closes the shallowest open stream among frames 2 .. limit-1 (the root
 * stays open as the anchor for reopening). */
static bool shed(struct walk *w, size_t limit)
{
    for (size_t i = w->shed_from; i < limit; i++) {
        if (w->fr[i].dir) {
            close_frame(w, &w->fr[i]);
            w->shed_from = i + 1;
            return true;
        }
    }
    return false;
}

/* openat that makes room by closing ancestors below limit on EMFILE. */
static int open_budget(struct walk *w, int dirfd, const char *name, size_t limit)
{
    for (;;) {
        int fd = openat(dirfd, name, OPEN_DIR_FLAGS);
        if (fd < 0 && errno == EINTR)
            continue; /* a signal during open (FUSE, NFS); not an answer */
        if (fd >= 0 || (errno != EMFILE && errno != ENFILE) || !shed(w, limit))
            return fd;
    }
}

/* ---- permission repair -------------------------------------------------- */

/* Makes frame fi's own directory u+rwx through our descriptor of it. Not
 * for the base (outside the tree) and only once per frame. */
static bool fix_frame(struct walk *w, size_t fi)
{
    struct frame *f = &w->fr[fi];
    if (f->fixed || f->fd < 0)
        return false;
    f->fixed = true;
    if ((f->mode & S_IRWXU) == S_IRWXU)
        return false;
    unsigned mode = (f->mode & 07777) | S_IRWXU;
    if (fchmod(f->fd, (mode_t)mode) != 0)
        return false;
    f->mode = (f->mode & ~07777u) | mode;
    return true;
}

enum { FIX_FAILED, FIX_DONE, FIX_GONE, FIX_NOT_DIR, FIX_MOUNT };

/* The bits fix_entry gives a directory of mode `mode` (0: nothing to do). */
static unsigned fixed_mode(unsigned mode)
{
    if ((mode & S_IRWXU) == S_IRWXU)
        return 0;
    return (mode & 07777) | S_IRWXU;
}

/* Makes the directory name of frame pi u+rwx without opening it for
 * reading (which its mode may forbid) and without following a symlink.
 * Says FIX_GONE or FIX_NOT_DIR when the name no longer holds a directory
 * (an attacker swapped it since the open that failed), and FIX_MOUNT,
 * touching nothing, when it is the root of another mount: what is mounted
 * there is not ours, not even its mode. */
static int fix_entry(struct walk *w, size_t pi, const char *name, uint64_t key)
{
    int dirfd = w->fr[pi].fd;
#if TMPF_HAVE_O_PATH && (TMPF_HAVE_PROC_SELF_FD || TMPF_HAVE_AT_EMPTY_PATH)
    int fd;
    do
        fd = openat(dirfd, name, O_PATH | O_NOFOLLOW | O_CLOEXEC);
    while (fd < 0 && errno == EINTR);
    if (fd < 0)
        return errno == ENOENT ? FIX_GONE : FIX_FAILED;
    int r = FIX_FAILED;
    /* identify (statx or fstat) of the O_PATH descriptor sees the entry
     * itself: a symlink put there is not a directory and is left alone;
     * the chmod below reaches exactly this inode through the descriptor. */
    struct node n;
    if (identify(fd, &n) == 0) {
        unsigned mode = fixed_mode(n.mode);
        if (!S_ISDIR(n.mode)) {
            r = FIX_NOT_DIR;
        } else if (other_mount(&n, &w->fr[pi], dirfd, name, key)) {
            r = FIX_MOUNT;
        } else if (mode) {
#if TMPF_HAVE_PROC_SELF_FD
            /* Linux: fchmod refuses O_PATH descriptors (EBADF); the magic
             * link reaches the inode without a path lookup of the name. */
            char proc[40];
            snprintf(proc, sizeof proc, "/proc/self/fd/%d", fd);
            if (chmod(proc, (mode_t)mode) == 0)
                r = FIX_DONE;
#else
            /* FreeBSD: the *at calls take an O_PATH descriptor itself
             * with AT_EMPTY_PATH; no /proc needed. */
            if (fchmodat(fd, "", (mode_t)mode, AT_EMPTY_PATH) == 0)
                r = FIX_DONE;
#endif
        }
    }
    close(fd);
    return r;
#else
    /* Without O_PATH: the kernel's own no-follow chmod (BSD, macOS; glibc
     * emulates it) changes at worst a symlink's own mode if one is swapped
     * in meanwhile. The mount check sees what the name leads to now. */
    struct stat st;
    if (fstatat(dirfd, name, &st, AT_SYMLINK_NOFOLLOW) != 0)
        return errno == ENOENT ? FIX_GONE : FIX_FAILED;
    if (!S_ISDIR(st.st_mode))
        return FIX_NOT_DIR;
    struct node n = {(uint64_t)st.st_dev, (uint64_t)st.st_ino, 0, (unsigned)st.st_mode};
    if (other_mount(&n, &w->fr[pi], dirfd, name, key))
        return FIX_MOUNT;
    unsigned mode = fixed_mode(n.mode);
    if (!mode)
        return FIX_FAILED;
    return fchmodat(dirfd, name, (mode_t)mode, AT_SYMLINK_NOFOLLOW) == 0
               ? FIX_DONE
               : FIX_FAILED;
#endif
}

/* BSD, macOS: immutable / append-only flags (the user's: uchg, uappnd)
 * block unlink with EPERM; clear them on the entry itself, never through a
 * symlink. */
static bool clear_flags(int dirfd, const char *name)
{
#if TMPF_HAVE_CHFLAGSAT
    return chflagsat(dirfd, name, 0, AT_SYMLINK_NOFOLLOW) == 0;
#elif TMPF_HAVE_FCHFLAGS
    /* macOS has no chflagsat: open the entry itself (never through a
     * symlink; O_NONBLOCK so a FIFO does not hang us) and fchflags it. */
    int fd;
    do
        fd = openat(dirfd, name, O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_NOCTTY | O_CLOEXEC);
    while (fd < 0 && errno == EINTR);
    if (fd < 0)
        return false;
    bool ok = fchflags(fd, 0) == 0;
    close(fd);
    return ok;
#else
    (void)dirfd;
    (void)name;
    return false;
#endif
}

/* ---- the stack ---------------------------------------------------------- */

static const char *frame_name(const struct walk *w, size_t fi)
{
    return w->names + w->fr[fi].name;
}

static int push(struct walk *w, DIR *dir, const struct node *n, const char *name,
                uint64_t key)
{
    size_t len = strlen(name) + 1;
    if (w->depth == w->cap) {
        size_t cap = w->cap ? 2 * w->cap : 16;
        struct frame *p = tmpf__realloc(w->fr, cap * sizeof *p);
        if (!p)
            return -1;
        w->fr = p;
        w->cap = cap;
    }
    if (w->names_cap - w->names_len < len) {
        size_t cap = w->names_cap ? 2 * w->names_cap : 1024;
        while (cap - w->names_len < len)
            cap *= 2;
        char *p = tmpf__realloc(w->names, cap);
        if (!p)
            return -1;
        w->names = p;
        w->names_cap = cap;
    }
    memcpy(w->names + w->names_len, name, len);
    if (dir && w->depth >= 2 && w->depth < w->shed_from)
        w->shed_from = w->depth;
    w->fr[w->depth] = (struct frame){
        .dir = dir,
        .fd = dir ? dirfd(dir) : -1,
        .dev = n->dev, .ino = n->ino, .mnt = n->mnt, .mode = n->mode,
        .key = key,
        .name = w->names_len,
    };
    w->names_len += len;
    w->depth++;
    if (dir)
        w->open++;
    return 0;
}

enum { DONE, AS_FILE, RETRY, FAILED };

/* Enters directory name of frame pi: pushes a frame for it. */
static int descend(struct walk *w, size_t pi, const char *name, uint64_t key,
                   bool *child_fixed, int *err)
{
    int pfd = w->fr[pi].fd;
    int fd = open_budget(w, pfd, name, pi);
    if (fd < 0) {
        *err = errno;
        switch (*err) {
        case ENOENT:
            return DONE; /* gone meanwhile: fine */
        case ENOTDIR:
        case ELOOP:
        case EMLINK: /* FreeBSD's answer to a refused O_NOFOLLOW */
            return AS_FILE; /* a symlink or file now: unlink it, never follow */
        case EACCES:
            if (fix_frame(w, pi))
                return RETRY;
            if (!*child_fixed) {
                *child_fixed = true;
                switch (fix_entry(w, pi, name, key)) {
                case FIX_MOUNT:
                    *err = EBUSY;
                    return FAILED;
                case FIX_DONE:
                    return RETRY;
                case FIX_GONE:
                    return DONE;
                case FIX_NOT_DIR:
                    return AS_FILE; /* swapped for a link meanwhile */
                }
            }
            return FAILED;
        default:
            return FAILED;
        }
    }
    struct node n;
    if (identify(fd, &n) != 0) {
        *err = errno;
        close(fd);
        return FAILED;
    }
    if (other_mount(&n, &w->fr[pi], pfd, name, key)) {
        /* A mount point (the root included): its contents are not ours to
         * remove, and its rmdir would fail anyway. */
        close(fd);
        *err = EBUSY;
        return FAILED;
    }
    if (w->open >= WALK_MAX_OPEN)
        shed(w, pi);
    DIR *dir = fdopendir(fd);
    if (!dir) {
        *err = errno;
        close(fd);
        return FAILED;
    }
    if (push(w, dir, &n, name, key) != 0) {
        *err = errno;
        closedir(dir);
        return FAILED;
    }
    return DONE;
}

/* Removes entry name of frame pi (a directory is entered; its removal
 * happens when the walk climbs back out of it). */
static void handle_entry(struct walk *w, size_t pi, const char *name,
                         unsigned char type, uint64_t key)
{
    int err = 0;
    bool child_fixed = false, stat_checked = false;
    for (int tries = 0; tries < WALK_TRIES; tries++) {
        int pfd = w->fr[pi].fd;
        if (type == DT_UNKNOWN) {
            struct stat st;
            if (fstatat(pfd, name, &st, AT_SYMLINK_NOFOLLOW) != 0) {
                err = errno;
                if (err == ENOENT)
                    return;
                if (err == EACCES && fix_frame(w, pi))
                    continue;
                break;
            }
            stat_checked = true;
            type = S_ISDIR(st.st_mode) ? DT_DIR : DT_REG;
        }
        if (type == DT_DIR) {
            int r = descend(w, pi, name, key, &child_fixed, &err);
            if (r == DONE)
                return;
            if (r == FAILED)
                break;
            if (r == AS_FILE)
                type = DT_REG;
            continue;
        }
        if (unlinkat(pfd, name, 0) == 0 || errno == ENOENT)
            return;
        err = errno;
        if (err == EISDIR) {
            type = DT_UNKNOWN; /* became a directory meanwhile */
            continue;
        }
        if ((err == EACCES || err == EPERM) && fix_frame(w, pi))
            continue;
        if (err == EPERM && clear_flags(pfd, name))
            continue;
        if (err == EPERM && !stat_checked) {
            type = DT_UNKNOWN; /* POSIX unlink of a directory is EPERM */
            continue;
        }
        break;
    }
    fail(w, pi, key, err);
}

/* ---- climbing back ------------------------------------------------------ */

/* Opens frame i again from its nearest open ancestor, name by name, each
 * step checked against the identity recorded on the way down. */
static int reopen_down(struct walk *w, size_t i)
{
    size_t j = i;
    while (w->fr[--j].fd < 0) {
    }
    int cur = w->fr[j].fd;
    for (size_t k = j + 1; k <= i; k++) {
        int fd = open_budget(w, cur, frame_name(w, k), j);
        int saved = errno;
        if (k - 1 > j)
            close(cur);
        if (fd < 0) {
            errno = saved;
            return -1;
        }
        struct node n;
        if (identify(fd, &n) != 0 || !same_dir(&n, &w->fr[k])) {
            close(fd);
            errno = ENOENT; /* replaced: ours is gone from here */
            return -1;
        }
        cur = fd;
    }
    return cur;
}

/* Reopens closed frame i, preferably through ".." of its open child. */
static bool reopen(struct walk *w, size_t i, int child_fd)
{
    int fd = -1;
    if (child_fd >= 0) {
        fd = open_budget(w, child_fd, "..", i);
        struct node n;
        if (fd >= 0 && (identify(fd, &n) != 0 || !same_dir(&n, &w->fr[i]))) {
            close(fd); /* the child was moved: its ".." is not our frame */
            fd = -1;
        }
    }
    if (fd < 0)
        fd = reopen_down(w, i);
    if (fd < 0) {
        if (errno != ENOENT)
            note(w, errno);
        return false;
    }
    DIR *dir = fdopendir(fd);
    if (!dir) {
        note(w, errno);
        close(fd);
        return false;
    }
    w->fr[i].dir = dir;
    w->fr[i].fd = fd;
    w->open++;
    if (i < w->shed_from)
        w->shed_from = i;
    return true;
}

/* The top frame is read to the end (or lost): close it and remove it from
 * its parent. */
static void finish_top(struct walk *w)
{
    size_t t = w->depth - 1, p = t - 1;
    struct frame *top = &w->fr[t];
    if (w->fr[p].fd < 0)
        reopen(w, p, top->fd);
    close_frame(w, top);
    free(top->failed);
    uint64_t key = top->key;
    const char *name = frame_name(w, t);
    if (w->fr[p].fd >= 0) {
        int err = 0, how = AT_REMOVEDIR;
        for (int tries = 0; tries < 3; tries++) {
            if (unlinkat(w->fr[p].fd, name, how) == 0 || errno == ENOENT) {
                err = 0;
                break;
            }
            err = errno;
            if (err == ENOTDIR && how) {
                /* Our directory was swapped for a link or file since we
                 * entered it: that, in our parent, goes as such. */
                how = 0;
                continue;
            }
            if (!((err == EACCES || err == EPERM) && fix_frame(w, p)))
                break;
        }
        if (err)
            fail(w, p, key, err);
    }
    w->names_len = top->name;
    w->depth--;
}

/* The walk from the directory open as pfd: with name, removes entry name
 * of pfd (pfd is the parent, outside the tree); without, removes what is
 * inside pfd and leaves pfd's directory itself. pfd stays the caller's. */
static int walk_from(int pfd, const char *name)
{
    struct walk w = {.shed_from = 2};
    DIR *top = NULL;
    if (!name) {
        /* A stream of our own: its offset is not the caller's. */
        int fd;
        do
            fd = openat(pfd, ".", OPEN_DIR_FLAGS);
        while (fd < 0 && errno == EINTR);
        if (fd < 0)
            return errno;
        if (!(top = fdopendir(fd))) {
            int err = errno;
            close(fd);
            return err;
        }
    }
    struct node base;
    if (identify(top ? dirfd(top) : pfd, &base) != 0 ||
        push(&w, top, &base, "", 0) != 0) {
        int err = errno;
        if (top)
            closedir(top);
        free(w.fr); /* push may have grown one array and not the other */
        free(w.names);
        return err;
    }
    w.fr[0].fd = top ? dirfd(top) : pfd;
    /* A parent outside the tree is never chmod'ed; the top of the tree
     * (contents mode) is repaired like any directory in it. */
    w.fr[0].fixed = !top;
    w.open = 0; /* frame 0 is never shed, nor counted */

    if (name)
        handle_entry(&w, 0, name, DT_DIR, 0);
    /* Frames >= floor are read; frame 0 only when it is the tree's top. */
    size_t floor = name ? 1 : 0;
    while (w.depth > floor) {
        size_t t = w.depth - 1;
        if (!w.fr[t].dir) {
            finish_top(&w); /* lost while closed: climb on */
            continue;
        }
        errno = 0;
        struct dirent *e = readdir(w.fr[t].dir);
        if (!e) {
            if (errno)
                note(&w, errno);
            if (t == 0)
                break;
            finish_top(&w);
            continue;
        }
        if (e->d_name[0] == '.' &&
            (e->d_name[1] == 0 || (e->d_name[1] == '.' && e->d_name[2] == 0)))
            continue;
        if (w.fr[t].nfailed && failed_has(&w.fr[t], e->d_ino))
            continue;
        handle_entry(&w, t, e->d_name, ENTRY_TYPE(e), e->d_ino);
    }
    if (top)
        closedir(top);
    free(w.fr);
    free(w.names);
    return w.err;
}

int tmpf__os_rmtree(const char *parent, const char *name)
{
    int pfd;
    do
        pfd = open(parent, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    while (pfd < 0 && errno == EINTR);
    if (pfd < 0)
        return errno == ENOENT ? 0 : errno;
    int err = walk_from(pfd, name);
    close(pfd);
    return err;
}

int tmpf__os_rmtree_contents(int dir_fd) { return walk_from(dir_fd, NULL); }
