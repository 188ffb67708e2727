/* Temporary file objects: TemporaryFile and NamedTemporaryFile, and the
 * tmpf_file_* operations every kind of file shares (spooled files send
 * their in-memory operations to spooled.c). */
#include "internal.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

/* Set once O_TMPFILE has been refused for lack of support, so the fast path
 * is not retried on every call (CPython's _O_TMPFILE_WORKS). */
static atomic_bool tmpfile_unsupported;

struct file_try {
    unsigned perm;
    unsigned flags;
};

static int try_file(const char *path, void *ctx)
{
    const struct file_try *t = ctx;
    return tmpf__os_create_file(path, t->perm, t->flags);
}

int tmpf__open_anonymous(const tmpf__opts *r)
{
    unsigned perm = r->perm ? r->perm : 0600;
    if (!atomic_load_explicit(&tmpfile_unsupported, memory_order_relaxed)) {
        int fd = tmpf__os_open_tmpfile(r->dir, perm);
        if (fd >= 0)
            return fd;
        /* EISDIR: a kernel that predates O_TMPFILE saw only O_DIRECTORY.
         * EOPNOTSUPP: the file system has no unnamed files. Anything else
         * (ENOENT, EACCES, EMFILE, ...) is the caller's error. */
        if (errno != EOPNOTSUPP && errno != EISDIR && errno != EINVAL)
            return -1;
        atomic_store_explicit(&tmpfile_unsupported, true, memory_order_relaxed);
    }
    struct file_try t = {perm, r->flags};
    char *path = NULL;
    int fd = tmpf__create(r, try_file, &t, &path);
    if (fd < 0)
        return -1;
    if (unlink(path) != 0) {
        int saved = errno;
        close(fd);
        unlink(path);
        free(path);
        errno = saved;
        return -1;
    }
    free(path);
    return fd;
}

static tmpf_file *file_new(tmpf_kind kind, unsigned flags)
{
    tmpf_file *f = tmpf__calloc(1, sizeof *f);
    if (!f)
        return NULL;
    f->fd = -1;
    f->kind = kind;
    f->flags = flags;
    return f;
}

static void file_free(tmpf_file *f)
{
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
    if (f && f->fd >= 0)
        close(f->fd);
    if (f)
        file_free(f);
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
    struct file_try t = {r.perm ? r.perm : 0600, r.flags};
    f->fd = tmpf__create(&r, try_file, &t, &f->path);
    if (f->fd < 0)
        goto fail;
    f->on_disk_name = true;
    if (tmpf__scope_add(&r, TMPF_KIND_NAMED, f->path, f, &f->scope_entry) != 0)
        goto fail;
    tmpf__audit(TMPF_EVENT_CREATE, TMPF_KIND_NAMED, f, f->path, f->fd, 0, 0);
    tmpf__opts_done(&r);
    return f;
fail: {
    int saved = errno;
    if (f && f->fd >= 0) {
        unlink(f->path);
        close(f->fd);
    }
    if (f)
        file_free(f);
    tmpf__opts_done(&r);
    errno = saved;
    return NULL;
}
}

/* Whether operations go to memory (a spooled file not yet rolled). */
static bool in_memory(const tmpf_file *f)
{
    return f->spool && tmpf__spool_active(f);
}

static int check_open(const tmpf_file *f)
{
    if (!f || f->closed) {
        errno = EBADF;
        return -1;
    }
    return 0;
}

ssize_t tmpf_file_read(tmpf_file *f, void *buf, size_t n)
{
    if (check_open(f) != 0)
        return -1;
    if (in_memory(f))
        return tmpf__spool_read(f, buf, n);
    size_t done = 0;
    while (done < n) {
        ssize_t got = read(f->fd, (char *)buf + done, n - done);
        if (got < 0) {
            if (errno == EINTR)
                continue;
            return done ? (ssize_t)done : -1;
        }
        if (got == 0)
            break;
        done += (size_t)got;
    }
    return (ssize_t)done;
}

ssize_t tmpf_file_write(tmpf_file *f, const void *buf, size_t n)
{
    if (check_open(f) != 0)
        return -1;
    if (in_memory(f))
        return tmpf__spool_write(f, buf, n);
    size_t done = 0;
    while (done < n) {
        ssize_t put = write(f->fd, (const char *)buf + done, n - done);
        if (put < 0) {
            if (errno == EINTR)
                continue;
            return -1;
        }
        done += (size_t)put;
    }
    return (ssize_t)done;
}

int64_t tmpf_file_seek(tmpf_file *f, int64_t offset, int whence)
{
    if (check_open(f) != 0)
        return -1;
    if (whence != SEEK_SET && whence != SEEK_CUR && whence != SEEK_END) {
        errno = EINVAL;
        return -1;
    }
    if (in_memory(f))
        return tmpf__spool_seek(f, offset, whence);
    off_t pos = lseek(f->fd, (off_t)offset, whence);
    return pos < 0 ? -1 : (int64_t)pos;
}

int64_t tmpf_file_tell(tmpf_file *f) { return tmpf_file_seek(f, 0, SEEK_CUR); }

int tmpf_file_truncate(tmpf_file *f, int64_t size)
{
    if (check_open(f) != 0)
        return -1;
    if (size < 0) {
        errno = EINVAL;
        return -1;
    }
    if (in_memory(f))
        return tmpf__spool_truncate(f, size);
    int rc;
    do
        rc = ftruncate(f->fd, (off_t)size);
    while (rc != 0 && errno == EINTR);
    return rc;
}

int tmpf_file_flush(tmpf_file *f)
{
    if (check_open(f) != 0)
        return -1;
    if (f->stream && fflush(f->stream) != 0)
        return -1;
    return 0;
}

int tmpf_file_sync(tmpf_file *f)
{
    if (tmpf_file_flush(f) != 0)
        return -1;
    if (in_memory(f))
        return 0;
    return fsync(f->fd);
}

int tmpf_file_fileno(tmpf_file *f)
{
    if (check_open(f) != 0)
        return -1;
    if (in_memory(f) && tmpf__spool_rollover(f) != 0)
        return -1;
    return f->fd;
}

const char *tmpf_file_path(const tmpf_file *f) { return f ? f->path : NULL; }

int tmpf_file_rollover(tmpf_file *f)
{
    if (check_open(f) != 0)
        return -1;
    return in_memory(f) ? tmpf__spool_rollover(f) : 0;
}

bool tmpf_file_rolled(const tmpf_file *f) { return f && !in_memory(f); }

/* Whether this file's directory entry should go when it is closed. */
static bool delete_on_close(const tmpf_file *f)
{
    return !(f->flags & (TMPF_KEEP | TMPF_KEEP_AFTER_CLOSE));
}

static int remove_name(tmpf_file *f)
{
    if (!f->on_disk_name || f->kept || (f->flags & TMPF_KEEP))
        return 0;
    f->on_disk_name = false;
    if (unlink(f->path) != 0 && errno != ENOENT) {
        tmpf__audit(TMPF_EVENT_CLEANUP_FAILED, f->kind, f, f->path, -1, 0, errno);
        return -1;
    }
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
        /* The stream's cookie never closes f->fd: f owns it. */
        if (fclose(f->stream) != 0) {
            rc = -1;
            err = errno;
        }
        f->stream = NULL;
    }
    f->closed = true;
    bool was_in_memory = f->spool && tmpf__spool_active(f);
    if (f->spool)
        tmpf__spool_free(f);
    if (f->fd >= 0) {
        if (close(f->fd) != 0 && errno != EINTR && rc == 0) {
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
        (void)was_in_memory;
    } else if (delete_on_close(f) && remove_name(f) != 0 && rc == 0) {
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
    if (!f->kept) {
        f->kept = true;
        tmpf__scope_forget(f->scope_entry);
        f->scope_entry = NULL;
        tmpf__audit(TMPF_EVENT_KEEP, f->kind, f, f->path, f->fd, 0, 0);
    }
    return 0;
}

int tmpf_file_cleanup(tmpf_file *f)
{
    if (!f)
        return 0;
    int rc = 0, err = 0;
    if (!f->closed && tmpf_file_close(f) != 0) {
        rc = -1;
        err = errno;
    }
    if (f->path && remove_name(f) != 0 && rc == 0) {
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

FILE *tmpf_file_stream(tmpf_file *f)
{
    /* The stdio view is issue 3's next step. */
    (void)f;
    errno = ENOSYS;
    return NULL;
}

int tmpf_file_reopen(tmpf_file *f, int flags)
{
    (void)f;
    (void)flags;
    errno = ENOSYS;
    return -1;
}
