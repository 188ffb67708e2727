/*
 * Private interfaces shared by the library's source files. Nothing here is
 * exported: the shared library is built with hidden visibility and only
 * TMPF_API symbols of include/tmpf.h are visible.
 *
 * Layout: the .c files in src/ hold the portable concepts (one per file);
 * those in src/unix/ hold the system primitives declared under "Platform"
 * below, so a port
 * touches src/<platform>/ only.
 */
#ifndef TMPF_INTERNAL_H
#define TMPF_INTERNAL_H

#include "tmpf.h"

#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* TMPF__NOINLINE: for the longer paths split off a small hot function,
 * so that their register saves and stack frame stay out of it (not
 * `cold`: they are the normal paths of other cases, such as writes to a
 * file on disk). TMPF__HOT: for the functions that small in-memory
 * operations spend their time in: they start on a cache line, so their
 * speed does not depend on where the linker happens to place them
 * (bench_spooled's in-memory case went from 2.1x to 3.2x of memcpy with
 * nothing but the layout changed). */
#if defined(__GNUC__) || defined(__clang__)
#define TMPF__NOINLINE __attribute__((noinline))
#define TMPF__HOT __attribute__((aligned(64)))
#else
#define TMPF__NOINLINE
#define TMPF__HOT
#endif

#define TMPF__ALL_FLAGS                                                        \
    (TMPF_KEEP | TMPF_KEEP_AFTER_CLOSE | TMPF_IGNORE_CLEANUP_ERRORS |           \
     TMPF_TEXT | TMPF_AT_EXIT | TMPF_NOCLOBBER | TMPF_DURABLE |                \
     TMPF_ACROSS_FS | TMPF_KEEP_XATTRS | TMPF_REPLACE_SPECIAL)

/* ---- alloc.c: every allocation goes through these (fault-injection seam) */

void *tmpf__malloc(size_t n);
void *tmpf__calloc(size_t count, size_t size);
void *tmpf__realloc(void *p, size_t n);
char *tmpf__strdup(const char *s);
/* Overwrites n bytes so the compiler cannot drop it, then frees. */
void tmpf__free_wiped(void *p, size_t n);
void tmpf__wipe(void *p, size_t n);
/* Memory for spooled-file content. Blocks of exactly TMPF__BLOCK_SIZE come
 * from (and go back to) a small process-wide reserve of spare blocks;
 * other sizes are plain malloc/free. block_free wipes the first `used`
 * bytes (the caller knows the rest never held live data). */
#define TMPF__BLOCK_SIZE ((size_t)1 << 16)
void *tmpf__block_alloc(size_t n);
void tmpf__block_free(void *p, size_t n, size_t used);
/* True when block_alloc(TMPF__BLOCK_SIZE) would now take a spare block
 * (memory the process holds anyway) rather than allocate. */
bool tmpf__block_spare_ready(void);

/* ---- names.c: random name characters ----------------------------------- */

/* Python's alphabet: lower case, digits and '_' (safe on case-insensitive
 * file systems). */
#define TMPF__ALPHABET "abcdefghijklmnopqrstuvwxyz0123456789_"
#define TMPF__ALPHABET_LEN 37

/* Writes len unbiased random characters of the alphabet to out (no NUL).
 * Kernel CSPRNG, buffered per thread, never repeated across fork. */
int tmpf__random_chars(char *out, size_t len);

/* Test seam: while fn is set, every name takes its bytes from fn (one call
 * per name unless bytes are rejected) instead of the CSPRNG. NULL restores
 * the CSPRNG. Tests only; not thread-safe against creation in progress. */
typedef int (*tmpf__random_fn)(void *buf, size_t n);
void tmpf__test_set_random(tmpf__random_fn fn);

/* ---- path.c ------------------------------------------------------------ */

/* Python's os.path.abspath: absolute, no "//", "." or ".." components, no
 * trailing '/'. Relative paths are joined to the current directory. */
char *tmpf__abspath(const char *path);
/* Whether path is already what tmpf__abspath would return. */
bool tmpf__is_normal_abspath(const char *path);
/* The directory part of an absolute normalized path, malloc'd ("/" for
 * "/x"). */
char *tmpf__dirname(const char *abspath);

/* ---- opts.c: validation and defaults ----------------------------------- */

typedef struct tmpf__opts {
    char *dir_owned;    /* set when dir had to be normalized */
    const char *dir;    /* absolute, normalized */
    const char *prefix; /* never NULL */
    const char *suffix; /* never NULL */
    size_t dir_len, prefix_len, suffix_len;
    unsigned flags;
    unsigned perm;      /* 0: creator's default */
    unsigned rand_len;
    size_t max_size;
    tmpf_scope *scope;
} tmpf__opts;

/* Checks opts (EINVAL for '/' in prefix/suffix, rand_len > 64, unknown
 * flags) and fills r with defaults applied; dir resolved to an absolute
 * normalized path. Free with tmpf__opts_done. */
int tmpf__opts_resolve(const tmpf_opts *opts, tmpf__opts *r);
void tmpf__opts_done(tmpf__opts *r);

/* ---- create.c: the one creation loop ----------------------------------- */

/* Tries to create path; returns >= 0 on success or -1 with errno. EEXIST
 * makes the loop try another name; any other errno ends it. */
typedef int (*tmpf__try_fn)(const char *path, void *ctx);

/* Builds dir/prefix+random+suffix names and calls try_fn until it succeeds,
 * fails with an errno other than EEXIST, or TMPF_TMP_MAX names were tried
 * (EEXIST). On success returns try_fn's result and, if ret_path, stores the
 * malloc'd path. */
int tmpf__create(const tmpf__opts *r, tmpf__try_fn try_fn, void *ctx,
                 char **ret_path);

/* tmpf__create for the two common kinds: a regular file opened O_EXCL with
 * mode perm (returns the descriptor), a directory with mode perm (returns 0). */
int tmpf__create_file(const tmpf__opts *r, unsigned perm, char **ret_path);
int tmpf__create_dir(const tmpf__opts *r, unsigned perm, char **ret_path);

/* ---- audit.c: events and counters -------------------------------------- */

/* Counts the event and, when a hook is installed, calls it. Cheap when no
 * hook is installed: a few relaxed atomic adds and one branch. */
void tmpf__audit(tmpf_event_type type, tmpf_kind kind, const void *obj,
                 const char *path, int fd, uint64_t bytes, int error);
/* Spooled memory accounting (delta may be negative). */
void tmpf__audit_spool_bytes(int64_t delta);
/* A spooled file was closed while still in memory (no ROLLOVER event
 * took it out of the in-memory count). */
void tmpf__audit_spool_closed(void);

/* ---- scope.c: registration with a scope and the at-exit scope ----------- */

struct tmpf__scope_entry;

/* Registers a temporary with opts->scope and/or, with TMPF_AT_EXIT, the
 * process-wide at-exit scope. obj is the tmpf_file / tmpf_dir that owns it,
 * or NULL for a low-level path (then the scope removes path by kind).
 * *ret is NULL when neither was asked for. Errors: -1 with ENOMEM. */
int tmpf__scope_add(const tmpf__opts *r, tmpf_kind kind, const char *path,
                    void *obj, struct tmpf__scope_entry **ret);
/* The temporary was cleaned, kept or persisted by its owner: leave every
 * scope it is in. NULL is a no-op. */
void tmpf__scope_forget(struct tmpf__scope_entry *e);

/* ---- file.c / spooled.c: the file object -------------------------------- */

struct tmpf__spool; /* spooled.c */

/* A spooled file's window on its memory: the bytes of one chunk from the
 * position on. tmpf_file_read and tmpf_file_write copy straight through it
 * while the request fits, and that is the whole of a small operation in
 * memory. spooled.c opens it after each of its operations and folds the
 * progress back in at the start of the next; it stays shut (all NULL)
 * for a rolled, closed or non-spooled file, at a gap past the end, and
 * while a stdio view exists (whose flush must come first). */
struct tmpf__window {
    unsigned char *at;   /* the byte at the position */
    unsigned char *rend; /* end of the content in this chunk when opened */
    unsigned char *wend; /* end of the chunk's room (>= rend, >= at) */
};
/* at only moves forward while the window is open, so writes through it
 * leave rend alone (one store less each): the content ends at
 * max(rend, at). A read through it needs at <= rend. */
/* Bytes from at to end; 0 for a shut window (all NULL). */
static inline size_t tmpf__window_room(const unsigned char *at, const unsigned char *end)
{
    return (size_t)((uintptr_t)end - (uintptr_t)at);
}

struct tmpf_file {
    struct tmpf__window win; /* first: the hot path reads nothing else */
    int fd;             /* -1 when closed or when a spooled file is in memory */
    tmpf_kind kind;     /* ANONYMOUS, NAMED or SPOOLED */
    unsigned flags;
    bool closed;
    bool on_disk_name;  /* a directory entry exists that we may delete */
    bool kept;          /* deletion disarmed (keep or persist) */
    bool perm_chosen;   /* created with an explicit opts.perm: persist keeps it */
    char *path;         /* absolute; NULL when it never had a name */
    FILE *stream;       /* tmpf_file_stream's view, or NULL */
    struct tmpf__spool *spool;          /* spooled files only */
    struct tmpf__scope_entry *scope_entry;
};

/* spooled.c: the in-memory side, used by file.c while f->spool is set
 * (rollover frees it). Each call first takes back what went through the
 * window. */
ssize_t tmpf__spool_read(tmpf_file *f, void *buf, size_t n);
ssize_t tmpf__spool_write(tmpf_file *f, const void *buf, size_t n);
int64_t tmpf__spool_seek(tmpf_file *f, int64_t off, int whence);
int tmpf__spool_truncate(tmpf_file *f, int64_t size);
int tmpf__spool_rollover(tmpf_file *f);
void tmpf__spool_free(tmpf_file *f);
/* Shuts the window for good: a stdio view now exists. */
void tmpf__spool_stream_opened(tmpf_file *f);

/* file.c: anonymous file creation shared with spooled rollover and
 * tmpf_write_atomic. Returns fd or -1. */
int tmpf__open_anonymous(const tmpf__opts *r);
/* Tests only: true makes tmpf__open_anonymous skip O_TMPFILE and use
 * create+unlink, as on a file system that refuses it. */
void tmpf__test_force_no_tmpfile(bool on);

/* file.c: I/O that bypasses the stdio view's sync: the stream's own
 * callbacks, and spooled.c (which must never call the public tmpf_file_*
 * functions from inside these, or a stream flush would re-enter itself).
 * Same results as the public functions; whence is checked. */
ssize_t tmpf__file_read_raw(tmpf_file *f, void *buf, size_t n);
ssize_t tmpf__file_write_raw(tmpf_file *f, const void *buf, size_t n);
int64_t tmpf__file_seek_raw(tmpf_file *f, int64_t offset, int whence);

/* unix/stream.c: a read/write FILE * whose I/O goes through the raw
 * functions above; fclose never closes f->fd. NULL with errno. */
FILE *tmpf__os_stream_open(tmpf_file *f);
/* unix/reopen.c: a second descriptor, own offset, flags | O_CLOEXEC.
 * _path opens path without following a symlink and checks it is still the
 * file behind fd (else ENOENT); _fd goes through /proc/self/fd (Linux;
 * EOPNOTSUPP elsewhere). */
int tmpf__os_reopen_path(const char *path, int fd, int flags);
int tmpf__os_reopen_fd(int fd, int flags);

/* ---- dir.c ------------------------------------------------------------- */

struct tmpf_dir {
    char *path;
    int fd;            /* -1 until tmpf_dir_fd asks for it */
    unsigned flags;
    bool kept;
    struct tmpf__scope_entry *scope_entry;
};

/* ---- Platform (src/unix/) ---------------------------------------------- */

/* Fills buf with n bytes from the kernel CSPRNG. */
int tmpf__os_random(void *buf, size_t n);
/* A word set to 1 that reads 0 in any child process, however it was
 * forked (MADV_WIPEONFORK); NULL where the system cannot do that. Call
 * once; never freed. */
atomic_uint *tmpf__os_fork_canary(void);
/* Exclusive create: O_RDWR|O_CREAT|O_EXCL|O_NOFOLLOW|O_CLOEXEC. The _at
 * form resolves name from the directory open as dir_fd (or AT_FDCWD), as
 * openat(2); so do the other _at and dir_fd parameters below. */
int tmpf__os_create_file(const char *path, unsigned perm, unsigned flags);
int tmpf__os_create_file_at(int dir_fd, const char *name, unsigned perm,
                            unsigned flags);
int tmpf__os_create_dir(const char *path, unsigned perm);
/* An unnamed file in dir (O_TMPFILE), or -1 with errno (EOPNOTSUPP,
 * EISDIR, ... when the kernel or file system lacks it). */
int tmpf__os_open_tmpfile(int dir_fd, const char *dir, unsigned perm);
/* Whether tmpf__os_open_tmpfile failed with err because unnamed files are
 * not available there (then a named file is the fallback), rather than for
 * a reason a named file would meet too (ENOENT, EACCES, EMFILE, ...). */
bool tmpf__os_tmpfile_unsupported(int err);
/* Whether the path exists (lstat; a dangling symlink exists). When not,
 * errno is lstat's (ENOENT for a free name). */
bool tmpf__os_lexists(const char *path);
/* malloc'd current directory. */
char *tmpf__os_getcwd(void);
/* getenv, except that a setuid/setgid process gets NULL. */
const char *tmpf__os_secure_getenv(const char *name);
/* close(2) that keeps errno unless it fails. */
int tmpf__os_close(int fd);
/* write(2) until all n bytes are written, retrying EINTR: 0, or -1 with
 * errno (a prefix may have been written). */
int tmpf__os_write_all(int fd, const void *data, size_t n);
/* walk.c: removes entry name of directory parent and everything below it,
 * through descriptors only (never following a symlink, never leaving the
 * tree, not entering mounts). Returns 0 or the first errno met; everything
 * removable is removed regardless. A missing entry is success. */
int tmpf__os_rmtree(const char *parent, const char *name);

/* ---- Platform: persist (src/unix/persist_os.c) -------------------------- */

/* rename(2) that fails with EEXIST instead of replacing: renameat2
 * RENAME_NOREPLACE, else link + unlink. */
int tmpf__os_rename_noreplace(int from_dir, const char *from, int to_dir,
                              const char *to);
/* Gives the file open as fd (an O_TMPFILE file) the name `to`; EEXIST if
 * it exists. */
int tmpf__os_link_fd(int fd, int dir_fd, const char *to);
/* The fixed side name (persist.c) is in use by a live writer exactly while
 * the writer holds this lock on its file: flock(LOCK_EX|LOCK_NB), released
 * when the last descriptor of that open file description closes (also
 * when the process dies). -1 with errno (EWOULDBLOCK: someone holds it). */
int tmpf__os_side_lock(int fd);
/* Removes side if it is a stale side file: a regular file of this euid with
 * one link, whose lock can be taken, and which side still names once the
 * lock is held. True when side is free now (removed, or already gone). */
bool tmpf__os_side_sweep(int dir_fd, const char *side);
/* An O_RDONLY|O_DIRECTORY descriptor: to fsync, and as the base of *at
 * calls. */
int tmpf__os_open_dir(const char *dir);
/* fsync(2), counted for tests (tmpf__test_fsync_count); is_dir: a file
 * system that cannot sync directories (EINVAL) is not an error. */
int tmpf__os_fsync(int fd, bool is_dir);
unsigned long tmpf__test_fsync_count(void);
/* renameat2(RENAME_EXCHANGE): swaps the two names atomically. ENOTSUP
 * when the kernel or the file system cannot (then nothing changed). */
int tmpf__os_rename_exchange(int from_dir, const char *from, int to_dir,
                             const char *to);
/* tmpf__os_rename_noreplace for a directory (which cannot be linked):
 * without renameat2 a look then rename(2), which could only replace an
 * empty directory appearing in between. */
int tmpf__os_rename_dir_noreplace(int from_dir, const char *from, int to_dir,
                                  const char *to);
/* fsyncs every regular file and directory below the directory open as
 * dir_fd, then the directory itself (not following symlinks). */
int tmpf__os_sync_tree(int dir_fd);
/* sync_many.c: fsyncs the n files open as fds, concurrently (writeback of
 * all started first); errs[i] is 0 or fds[i]'s errno. Returns once every
 * fsync has: no thread is left running. */
void tmpf__os_sync_files(const int *fds, int *errs, size_t n);
/* copy_os.c, for TMPF_ACROSS_FS. Copies all of from's data to to (at the
 * same offsets; from's offset is kept), holes as holes where the file
 * system reports them, then sets to's size to from's. */
int tmpf__os_copy_data(int from, int to);
/* Copies what the directory open as from_dir_fd holds into to_dir_fd:
 * directories, regular files (data as above), symlinks, each with its
 * permission bits (owned by the caller), and gives to_dir_fd from's
 * permission bits. ENOTSUP for a device, FIFO or socket. A partial copy
 * is left for the caller to remove. */
int tmpf__os_copy_tree(int from_dir_fd, int to_dir_fd);
/* mkdirat(2). */
int tmpf__os_make_dir_at(int dir_fd, const char *name, unsigned perm);
/* Makes fd refer to the file open as new_fd (dup3, so fd's number stays),
 * at fd's offset, and closes new_fd. */
int tmpf__os_replace_fd(int fd, int new_fd);
/* 1 if name (not followed) is a directory, 0 if something else, -1 with
 * errno (ENOENT: nothing). */
int tmpf__os_is_dir_at(int dir_fd, const char *name);

/* ---- Platform: what a replaced file keeps (src/unix/attrs_os.c) --------- */

struct stat;
/* Gives the file open as fd (whose status is *have) the owner and group of
 * *want where the writer may: both (root), else the group alone (a group
 * the writer belongs to), else nothing (0: not permitted is no error). */
int tmpf__os_take_owner(int fd, const struct stat *want, const struct stat *have);
/* Copies the user.* and security.* extended attributes (not
 * security.capability) and the POSIX access ACL of name (followed,
 * resolved from dir_fd) onto the file open as to_fd. A file system
 * without xattrs at name has none to copy; any failure to set one is -1. */
int tmpf__os_copy_xattrs(int dir_fd, const char *name, int to_fd);
/* 1 if name (not followed) designates the file open as fd (device and
 * inode), 0 if it designates something else or nothing, -1 with errno. */
int tmpf__os_is_file_at(int dir_fd, const char *name, int fd);
/* Removes name only if it designates the file open as fd: 1 removed, 0
 * left (something else, or nothing, is there), -1 with errno. */
int tmpf__os_unlink_if_file(int dir_fd, const char *name, int fd);
/* 1 if the files open as fd1 and fd2 are on one device, 0 if not, -1. */
int tmpf__os_same_device(int fd1, int fd2);

#endif /* TMPF_INTERNAL_H */
