/* Temporary file objects: TemporaryFile and NamedTemporaryFile, and the
 * tmpf_file_* operations every kind of file shares (spooled files send
 * their in-memory operations to spooled.c).
 *
 * The stdio view (tmpf_file_stream) is a cookie stream whose callbacks are
 * the *_raw functions below. Every public operation first flushes that
 * stream, which pushes its pending output, gives back its read-ahead (the
 * file position becomes the stream's logical position) and drops any
 * offset the C library cached, so both sides see one content and one
 * position. */
#include "internal.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ---- O_TMPFILE, with refusals remembered ------------------------------ */

/* Where O_TMPFILE was refused (EOPNOTSUPP, EINVAL), so the fast path is not
 * retried there on every call (CPython's _O_TMPFILE_WORKS, per directory).
 * Keys are hashes of the directory's path: looking one up costs no system
 * call, and a collision or a stale entry only sends a call to the (always
 * correct) create+unlink path. Filled only on refusal; while it is empty
 * the fast path pays one relaxed load. */
#define REFUSED_SLOTS 32
static _Atomic(uint64_t) refused_dirs[REFUSED_SLOTS];
static atomic_uint refused_count;
/* EISDIR: a kernel older than O_TMPFILE read it as O_DIRECTORY; no file
 * system of this kernel will do better. */
static atomic_bool kernel_lacks_tmpfile;
static atomic_bool force_no_tmpfile; /* tmpf__test_force_no_tmpfile */

void tmpf__test_force_no_tmpfile(bool on)
{
    atomic_store_explicit(&force_no_tmpfile, on, memory_order_relaxed);
}

static uint64_t dir_key(const tmpf__opts *r)
{
    uint64_t h = 0xcbf29ce484222325u; /* FNV-1a */
    for (size_t i = 0; i < r->dir_len; i++)
        h = (h ^ (unsigned char)r->dir[i]) * 0x100000001b3u;
    return h | 1; /* 0 marks an empty slot */
}

static bool tmpfile_refused(const tmpf__opts *r)
{
    if (atomic_load_explicit(&force_no_tmpfile, memory_order_relaxed) ||
        atomic_load_explicit(&kernel_lacks_tmpfile, memory_order_relaxed))
        return true;
    unsigned n = atomic_load_explicit(&refused_count, memory_order_relaxed);
    if (n == 0)
        return false;
    uint64_t key = dir_key(r);
    for (unsigned i = 0; i < REFUSED_SLOTS && i < n; i++)
        if (atomic_load_explicit(&refused_dirs[i], memory_order_relaxed) == key)
            return true;
    return false;
}

static void remember_refusal(const tmpf__opts *r, int err)
{
    if (err == EISDIR) {
        atomic_store_explicit(&kernel_lacks_tmpfile, true, memory_order_relaxed);
        return;
    }
    /* Slots are reused round-robin once all are taken. */
    unsigned i = atomic_fetch_add_explicit(&refused_count, 1, memory_order_relaxed);
    if (i >= REFUSED_SLOTS) {
        atomic_store_explicit(&refused_count, REFUSED_SLOTS, memory_order_relaxed);
        i %= REFUSED_SLOTS;
    }
    atomic_store_explicit(&refused_dirs[i], dir_key(r), memory_order_relaxed);
}

int tmpf__open_anonymous(const tmpf__opts *r)
{
    unsigned perm = r->perm ? r->perm : 0600;
    if (!tmpfile_refused(r)) {
        int fd = tmpf__os_open_tmpfile(tmpf__os_cwd_fd, r->dir, perm);
        if (fd >= 0)
            return fd;
        /* Anything but "no unnamed files here" is the caller's error and
         * would recur with a named file. */
        if (!tmpf__os_tmpfile_unsupported(errno))
            return -1;
        remember_refusal(r, errno);
    }
    char *path = NULL;
    int fd = tmpf__create_file(r, perm, &path);
    if (fd < 0)
        return -1;
    tmpf__reg reg; /* crash layers: the name exists until the unlink */
    tmpf__reg_add(&reg, TMPF__REG_ROLLED, path, fd);
    /* Where others can rename entries, the name is removed only while it
     * designates the file just made, and the file must be left without a
     * name (identity.c): else ESTALE. */
    struct tmpf__ident id = {0, 0};
    bool shared = tmpf__dir_shared(r);
    int rc = shared ? tmpf__ident_of_fd(fd, &id) : 0;
    if (rc != 0) {
        /* Nothing to check against: the name goes unchecked, the call
         * fails. */
        int saved = errno;
        tmpf__os_unlink(path);
        errno = saved;
    }
    /* A failed unlink is tried once more (a transient EIO, EINTR on a
     * network file system): the name must not outlive the call. */
    if (rc == 0) {
        rc = tmpf__remove_file_checked(path, &id);
        if (rc != 0 && errno != ESTALE)
            rc = tmpf__remove_file_checked(path, &id);
    }
    struct tmpf__os_facts after;
    if (rc == 0 && shared && tmpf__os_facts_fd(fd, &after) == 0 && after.nlink != 0) {
        errno = ESTALE; /* moved away before the unlink: still named */
        rc = -1;
    }
    int saved = errno;
    tmpf__reg_end(&reg, TMPF__REG_REMOVED);
    free(path);
    if (rc != 0) {
        /* The name would outlive the descriptor: better no file at all. */
        tmpf__os_close(fd);
        errno = saved;
        return -1;
    }
    return fd;
}

/* ---- Creation ---------------------------------------------------------- */

static tmpf_file *file_new(tmpf_kind kind, unsigned flags)
{
    /* malloc, not calloc: glibc's calloc skips the per-thread cache and
     * costs more than the whole object setup on this hot path. */
    tmpf_file *f = tmpf__malloc(sizeof *f);
    if (!f)
        return NULL;
    *f = (tmpf_file){.fd = -1, .kind = kind, .flags = flags};
    return f;
}

static void file_free(tmpf_file *f)
{
    tmpf__reg_end(&f->reg, TMPF__REG_REMOVED); /* crash layers: no longer ours */
    free(f->path);
    free(f);
}

tmpf_file *tmpf_temporary_file(const tmpf_opts *opts)
{
    tmpf__opts r;
    if (tmpf__opts_resolve(opts, &r) != 0)
        return NULL;
    tmpf_file *f = file_new(TMPF_KIND_ANONYMOUS, r.flags);
    if (!f)
        goto fail;
    f->perm_chosen = r.perm != 0;
    f->fd = tmpf__open_anonymous(&r);
    if (f->fd < 0)
        goto fail;
    if (tmpf__scope_add(&r, TMPF_KIND_ANONYMOUS, NULL, f, &f->scope_entry) != 0)
        goto fail;
    tmpf__audit(TMPF_EVENT_CREATE, TMPF_KIND_ANONYMOUS, f, NULL, f->fd, 0, 0);
    tmpf__opts_done(&r);
    return f;
fail: {
    int saved = errno;
    if (f) {
        if (f->fd >= 0)
            tmpf__os_close(f->fd);
        file_free(f);
    }
    tmpf__opts_done(&r);
    errno = saved;
    return NULL;
}
}

tmpf_file *tmpf_named_temporary_file(const tmpf_opts *opts)
{
    tmpf__opts r;
    if (tmpf__opts_resolve(opts, &r) != 0)
        return NULL;
    tmpf_file *f = file_new(TMPF_KIND_NAMED, r.flags);
    if (!f)
        goto fail;
    f->perm_chosen = r.perm != 0;
    f->fd = tmpf__create_file(&r, r.perm ? r.perm : 0600, &f->path);
    if (f->fd < 0)
        goto fail;
    f->on_disk_name = true;
    /* Where others can rename entries, the name is removed only while it
     * designates this file (identity.c). */
    if (tmpf__dir_shared(&r) && tmpf__ident_of_fd(f->fd, &f->ident) != 0)
        goto fail;
    if (tmpf__lock_wanted(r.flags) && tmpf__os_lock_shared(f->fd) != 0)
        goto fail;
    if (tmpf__scope_add(&r, TMPF_KIND_NAMED, f->path, f, &f->scope_entry) != 0)
        goto fail;
    if (!(r.flags & TMPF_KEEP)) /* crash layers */
        tmpf__reg_add(&f->reg, TMPF__REG_FILE, f->path, f->fd);
    tmpf__audit(TMPF_EVENT_CREATE, TMPF_KIND_NAMED, f, f->path, f->fd, 0, 0);
    tmpf__opts_done(&r);
    return f;
fail: {
    int saved = errno;
    if (f) {
        if (f->fd >= 0) {
            tmpf__os_unlink(f->path);
            tmpf__os_close(f->fd);
        }
        file_free(f);
    }
    tmpf__opts_done(&r);
    errno = saved;
    return NULL;
}
}

/* ---- I/O --------------------------------------------------------------- */

/* Whether operations go to memory (a spooled file not yet rolled):
 * spooled.c frees the spool at rollover. */
static bool in_memory(const tmpf_file *f)
{
    return f->spool != NULL;
}

static int check_open(const tmpf_file *f)
{
    if (!f || f->closed) {
        errno = EBADF;
        return -1;
    }
    return 0;
}

ssize_t tmpf__file_read_raw(tmpf_file *f, void *buf, size_t n)
{
    if (in_memory(f))
        return tmpf__spool_read(f, buf, n);
    return tmpf__os_read_full(f->fd, buf, n);
}

ssize_t tmpf__file_write_raw(tmpf_file *f, const void *buf, size_t n)
{
    if (in_memory(f))
        return tmpf__spool_write(f, buf, n);
    return tmpf__os_write_all(f->fd, buf, n) == 0 ? (ssize_t)n : -1;
}

int64_t tmpf__file_seek_raw(tmpf_file *f, int64_t offset, int whence)
{
    if (whence != SEEK_SET && whence != SEEK_CUR && whence != SEEK_END) {
        errno = EINVAL;
        return -1;
    }
    if (in_memory(f))
        return tmpf__spool_seek(f, offset, whence);
    int64_t pos = tmpf__os_seek(f->fd, offset, whence);
    return pos < 0 ? -1 : pos;
}

/* Before a direct operation: the stream's pending output reaches the file
 * and its read-ahead is given back (tmpf__os_stream_sync: fflush on glibc
 * and musl; the Windows C runtime's fflush drops the read buffer without
 * moving the descriptor back, so there the layer repositions). */
static int sync_stream(tmpf_file *f)
{
    return f->stream && tmpf__os_stream_sync(f->stream) != 0 ? -1 : 0;
}

/* After a direct operation that may move the position or add content: a
 * stream that had hit end of file must look again (as after fseek). */
static void stream_touched(tmpf_file *f)
{
    if (f->stream && feof(f->stream)) {
        int saved = errno;
        fseeko(f->stream, 0, SEEK_CUR);
        errno = saved;
    }
}

static int begin(tmpf_file *f)
{
    if (check_open(f) != 0)
        return -1;
    return sync_stream(f);
}

/* memcpy for the window's small copies (n <= 64): a few moves in place
 * (fixed-size copies the compiler inlines, overlapping at the end) instead
 * of a call into the C library, which would cost as much as the rest of
 * the operation. */
static inline void window_copy(void *dst, const void *src, size_t n)
{
    unsigned char *d = dst;
    const unsigned char *s = src;
    if (TMPF__LIKELY(n >= 32)) {
        memcpy(d, s, 32);
        memcpy(d + n - 32, s + n - 32, 32);
    } else if (n >= 8) {
        if (n >= 16) {
            memcpy(d, s, 16);
            memcpy(d + n - 16, s + n - 16, 16);
        } else {
            memcpy(d, s, 8);
            memcpy(d + n - 8, s + n - 8, 8);
        }
    } else if (n >= 4) {
        memcpy(d, s, 4);
        memcpy(d + n - 4, s + n - 4, 4);
    } else if (n) {
        d[0] = s[0];
        d[n / 2] = s[n / 2];
        d[n - 1] = s[n - 1];
    }
}

TMPF__NOINLINE static ssize_t file_read(tmpf_file *f, void *buf, size_t n)
{
    if (begin(f) != 0)
        return -1;
    ssize_t got = tmpf__file_read_raw(f, buf, n);
    stream_touched(f);
    return got;
}

TMPF__NOINLINE static ssize_t window_read_large(tmpf_file *f, void *buf, size_t n)
{
    memcpy(buf, f->win.at, n);
    f->win.at += n;
    return (ssize_t)n;
}

/* Read and write first try a spooled file's window (internal.h): open
 * only on an open file without a stream, so neither the checks of begin()
 * nor stream_touched() apply. n - 1 sends n == 0 the long way. The copy
 * of 32 to 64 bytes is laid out straight through (no taken branch), and
 * the new position is stored, not added to memory: together ~15% off a
 * loop of 64-byte reads (timed against bench_spooled's floor). */
TMPF__HOT ssize_t tmpf_file_read(tmpf_file *f, void *buf, size_t n)
{
    if (TMPF__LIKELY(f && n - 1 < tmpf__window_room(f->win.at, f->win.rend) &&
                             f->win.at <= f->win.rend)) {
        unsigned char *at = f->win.at;
        if (TMPF__UNLIKELY(n > 64))
            return window_read_large(f, buf, n);
        window_copy(buf, at, n);
        f->win.at = at + n;
        return (ssize_t)n;
    }
    return file_read(f, buf, n);
}

TMPF__NOINLINE static ssize_t file_write(tmpf_file *f, const void *buf, size_t n)
{
    if (begin(f) != 0)
        return -1;
    ssize_t put = tmpf__file_write_raw(f, buf, n);
    stream_touched(f);
    return put;
}

/* After n bytes were written at `at`, the window's position moves on
 * (and with it the end of the content, if it was there: internal.h). */
static inline ssize_t window_wrote(tmpf_file *f, unsigned char *at, size_t n)
{
    f->win.at = at + n;
    return (ssize_t)n;
}

/* A large copy through the window: memcpy is a call, kept out of the
 * small path so that one needs no stack frame. */
TMPF__NOINLINE static ssize_t window_write_large(tmpf_file *f, const void *buf, size_t n)
{
    unsigned char *at = f->win.at;
    memcpy(at, buf, n);
    return window_wrote(f, at, n);
}

TMPF__HOT ssize_t tmpf_file_write(tmpf_file *f, const void *buf, size_t n)
{
    if (TMPF__LIKELY(f && n - 1 < tmpf__window_room(f->win.at, f->win.wend))) {
        if (TMPF__UNLIKELY(n > 64))
            return window_write_large(f, buf, n);
        unsigned char *at = f->win.at;
        window_copy(at, buf, n);
        return window_wrote(f, at, n);
    }
    return file_write(f, buf, n);
}

int64_t tmpf_file_seek(tmpf_file *f, int64_t offset, int whence)
{
    if (begin(f) != 0)
        return -1;
    int64_t pos = tmpf__file_seek_raw(f, offset, whence);
    stream_touched(f);
    return pos;
}

int64_t tmpf_file_tell(tmpf_file *f)
{
    if (begin(f) != 0)
        return -1;
    return tmpf__file_seek_raw(f, 0, SEEK_CUR);
}

int tmpf_file_truncate(tmpf_file *f, int64_t size)
{
    if (begin(f) != 0)
        return -1;
    if (size < 0) {
        errno = EINVAL;
        return -1;
    }
    int rc;
    if (in_memory(f)) {
        rc = tmpf__spool_truncate(f, size);
    } else {
        rc = tmpf__os_truncate(f->fd, size);
    }
    stream_touched(f);
    return rc;
}

int tmpf_file_flush(tmpf_file *f)
{
    return begin(f);
}

int tmpf_file_sync(tmpf_file *f)
{
    if (begin(f) != 0)
        return -1;
    if (in_memory(f))
        return 0;
    /* The platform's one durable sync (F_FULLFSYNC on macOS). */
    return tmpf__os_fsync(f->fd, false);
}

int tmpf_file_fileno(tmpf_file *f)
{
    if (begin(f) != 0)
        return -1;
    if (in_memory(f) && tmpf__spool_rollover(f) != 0)
        return -1;
    return f->fd;
}

const char *tmpf_file_path(const tmpf_file *f) { return f ? f->path : NULL; }

int tmpf_file_rollover(tmpf_file *f)
{
    if (begin(f) != 0)
        return -1;
    return in_memory(f) ? tmpf__spool_rollover(f) : 0;
}

bool tmpf_file_rolled(const tmpf_file *f) { return f && !in_memory(f); }

/* The stream's callbacks (unix/stream.c calls only what it is given). */
static ssize_t stream_read(void *f, void *buf, size_t n)
{
    return tmpf__file_read_raw(f, buf, n);
}
static ssize_t stream_write(void *f, const void *buf, size_t n)
{
    return tmpf__file_write_raw(f, buf, n);
}
static int64_t stream_seek(void *f, int64_t offset, int whence)
{
    return tmpf__file_seek_raw(f, offset, whence);
}
static int stream_fileno(void *f)
{
    return tmpf_file_fileno(f);
}
static const struct tmpf__stream_io stream_io = {
    stream_read, stream_write, stream_seek, stream_fileno,
};

FILE *tmpf_file_stream(tmpf_file *f)
{
    if (check_open(f) != 0)
        return NULL;
    if (!f->stream) {
        f->stream = tmpf__os_stream_open(f, &stream_io);
        if (f->stream && f->spool)
            tmpf__spool_stream_opened(f);
    }
    return f->stream;
}

int tmpf_file_reopen(tmpf_file *f, int flags)
{
    if (check_open(f) != 0)
        return -1;
    if (!tmpf__os_reopen_flags_ok(flags)) {
        errno = EINVAL;
        return -1;
    }
    /* The new descriptor must see everything written so far. */
    if (tmpf_file_fileno(f) < 0)
        return -1;
    if (f->path && f->on_disk_name)
        return tmpf__os_reopen_path(f->path, f->fd, flags);
    return tmpf__os_reopen_fd(f->fd, flags);
}

/* ---- Close, keep, cleanup ---------------------------------------------- */

/* Whether the temporary still counts as live for the audit counters: its
 * name is on disk, or (without a name) it is still open. */
static bool is_live(const tmpf_file *f)
{
    if (f->kept)
        return false;
    return f->path ? f->on_disk_name : !f->closed;
}

static void mark_kept(tmpf_file *f)
{
    if (f->kept)
        return;
    if (is_live(f))
        tmpf__audit(TMPF_EVENT_KEEP, f->kind, f, f->path, f->fd, 0, 0);
    f->kept = true;
    tmpf__reg_end(&f->reg, TMPF__REG_KEPT);
    tmpf__scope_forget(f->scope_entry);
    f->scope_entry = NULL;
}

/* Removes the file's name unless kept. A failed unlink leaves the name
 * armed, so cleanup tries again after a failed close. */
static int remove_name(tmpf_file *f)
{
    if (!f->on_disk_name || f->kept || (f->flags & TMPF_KEEP))
        return 0;
    if (tmpf__remove_file_checked(f->path, &f->ident) != 0) {
        tmpf__audit(TMPF_EVENT_CLEANUP_FAILED, f->kind, f, f->path, -1, 0, errno);
        return -1;
    }
    f->on_disk_name = false;
    tmpf__reg_end(&f->reg, TMPF__REG_REMOVED);
    tmpf__audit(TMPF_EVENT_DELETE, f->kind, f, f->path, -1, 0, 0);
    return 0;
}

int tmpf_file_close(tmpf_file *f)
{
    if (!f) {
        errno = EBADF;
        return -1;
    }
    if (f->closed)
        return 0;
    int rc = 0, err = 0;
    if (f->stream) {
        /* Flushes through the cookie; its close leaves f->fd to us. */
        if (fclose(f->stream) != 0) {
            rc = -1;
            err = errno;
        }
        f->stream = NULL;
    }
    f->closed = true;
    if (f->spool)
        tmpf__spool_free(f);
    if (f->fd >= 0) {
        tmpf__reg_fd(&f->reg, -1);
        if (tmpf__os_close(f->fd) != 0 && rc == 0) {
            rc = -1;
            err = errno;
        }
        f->fd = -1;
    }
    tmpf__audit(TMPF_EVENT_CLOSE, f->kind, f, f->path, -1, 0, 0);
    if (!f->path) {
        /* No name: closing destroys it. */
        if (!f->kept)
            tmpf__audit(TMPF_EVENT_DELETE, f->kind, f, NULL, -1, 0, 0);
    } else if (!(f->flags & (TMPF_KEEP | TMPF_KEEP_AFTER_CLOSE)) &&
               remove_name(f) != 0 && rc == 0) {
        rc = -1;
        err = errno;
    }
    if (rc != 0)
        errno = err;
    return rc;
}

int tmpf_file_keep(tmpf_file *f)
{
    if (!f) {
        errno = EINVAL;
        return -1;
    }
    mark_kept(f);
    return 0;
}

int tmpf_file_cleanup(tmpf_file *f)
{
    if (!f)
        return 0;
    int rc = 0, err = 0;
    /* A close that already tried to delete the file and failed is not
     * retried here: one cleanup, one failure reported. */
    bool close_deletes = !f->closed && !(f->flags & (TMPF_KEEP | TMPF_KEEP_AFTER_CLOSE));
    if (!f->closed && tmpf_file_close(f) != 0) {
        rc = -1;
        err = errno;
    }
    if (f->flags & TMPF_KEEP) {
        mark_kept(f); /* handed over to the caller: no longer ours */
    } else if (f->path && !(close_deletes && rc != 0) && remove_name(f) != 0 &&
               rc == 0) {
        rc = -1;
        err = errno;
    }
    tmpf__scope_forget(f->scope_entry);
    f->scope_entry = NULL;
    file_free(f);
    if (rc != 0)
        errno = err;
    return rc;
}
