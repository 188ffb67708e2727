/* Spooled temporary files (Python's SpooledTemporaryFile): the content
 * lives in a growing buffer until the position after a write passes
 * max_size, a truncate grows it past max_size, or the descriptor is asked
 * for; then it moves to an anonymous file made with the creation options.
 *
 * f->spool exists exactly while the file is in memory: rollover frees it,
 * so file.c sends a rolled file straight to the descriptor. Every byte the
 * buffer ever held is wiped before the memory is given back. */
#include "internal.h"

#include <errno.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* First allocation; small enough for tiny files, large enough that a
 * stream of small writes does not reallocate at once. */
#define SPOOL_MIN_CAP 1024

struct tmpf__spool {
    unsigned char *buf;
    size_t len;      /* size of the content */
    size_t cap;      /* bytes allocated; <= max_size when max_size != 0 */
    uint64_t pos;    /* may be past len (a later write leaves a gap) */
    size_t max_size; /* 0: roll over only when asked */
    tmpf__opts opts; /* for the anonymous file; strings point into names[] */
    char names[];    /* dir, prefix, suffix, each NUL-terminated */
};

tmpf_file *tmpf_spooled_temporary_file(const tmpf_opts *opts)
{
    tmpf__opts r;
    if (tmpf__opts_resolve(opts, &r) != 0)
        return NULL;
    tmpf_file *f = NULL;
    struct tmpf__spool *s = NULL;

    /* The caller's strings may be gone by the time of rollover. */
    size_t names = r.dir_len + 1 + r.prefix_len + 1 + r.suffix_len + 1;
    s = tmpf__calloc(1, sizeof *s + names);
    if (!s)
        goto fail;
    s->max_size = r.max_size;
    s->opts = r;
    s->opts.dir_owned = NULL;
    char *p = s->names;
    memcpy(p, r.dir, r.dir_len + 1);
    s->opts.dir = p;
    p += r.dir_len + 1;
    memcpy(p, r.prefix, r.prefix_len + 1);
    s->opts.prefix = p;
    p += r.prefix_len + 1;
    memcpy(p, r.suffix, r.suffix_len + 1);
    s->opts.suffix = p;

    f = tmpf__calloc(1, sizeof *f);
    if (!f)
        goto fail;
    f->fd = -1;
    f->kind = TMPF_KIND_SPOOLED;
    f->flags = r.flags;
    f->spool = s;
    if (tmpf__scope_add(&r, TMPF_KIND_SPOOLED, NULL, f, &f->scope_entry) != 0)
        goto fail;
    tmpf__audit(TMPF_EVENT_CREATE, TMPF_KIND_SPOOLED, f, NULL, -1, 0, 0);
    tmpf__opts_done(&r);
    return f;
fail: {
    int saved = errno;
    free(s);
    free(f);
    tmpf__opts_done(&r);
    errno = saved;
    return NULL;
}
}

bool tmpf__spool_active(const tmpf_file *f) { return f->spool != NULL; }

/* Makes room for need bytes. A fresh block rather than realloc, so that
 * the old one can be wiped: realloc would free a copy of the data
 * unwiped. Growth is geometric, capped at max_size (a larger content is
 * on disk by then). ENOMEM leaves the spool as it was. */
static int spool_grow(struct tmpf__spool *s, size_t need)
{
    size_t cap = s->cap > SIZE_MAX / 2 ? SIZE_MAX : s->cap * 2;
    if (cap < SPOOL_MIN_CAP)
        cap = SPOOL_MIN_CAP;
    if (s->max_size && cap > s->max_size)
        cap = s->max_size;
    if (cap < need)
        cap = need;
    unsigned char *buf = tmpf__malloc(cap);
    if (!buf) {
        errno = ENOMEM;
        return -1;
    }
    if (s->len)
        memcpy(buf, s->buf, s->len);
    tmpf__free_wiped(s->buf, s->cap);
    tmpf__audit_spool_bytes((int64_t)cap - (int64_t)s->cap);
    s->buf = buf;
    s->cap = cap;
    return 0;
}

static void spool_release(tmpf_file *f)
{
    struct tmpf__spool *s = f->spool;
    tmpf__free_wiped(s->buf, s->cap);
    tmpf__audit_spool_bytes(-(int64_t)s->cap);
    free(s);
    f->spool = NULL;
}

ssize_t tmpf__spool_read(tmpf_file *f, void *buf, size_t n)
{
    struct tmpf__spool *s = f->spool;
    if (s->pos >= s->len)
        return 0;
    size_t avail = s->len - (size_t)s->pos;
    if (n > avail)
        n = avail;
    if (n > SSIZE_MAX)
        n = SSIZE_MAX;
    memcpy(buf, s->buf + s->pos, n);
    s->pos += n;
    return (ssize_t)n;
}

/* Everything but an append or overwrite that fits the buffer: gaps,
 * growth, and the rollover that happens before a write whose end would
 * pass max_size (so memory never holds more than max_size). */
static ssize_t spool_write_slow(tmpf_file *f, const void *data, size_t n)
{
    struct tmpf__spool *s = f->spool;
    uint64_t pos = s->pos;
    if (n > (uint64_t)INT64_MAX - pos) {
        errno = EFBIG;
        return -1;
    }
    uint64_t end = pos + n;
    if (s->max_size && end > s->max_size) {
        if (tmpf__spool_rollover(f) != 0)
            return -1;
        /* Raw: this may run inside the stdio view's write callback, where
         * the public call's stream flush would re-enter the stream. */
        return tmpf__file_write_raw(f, data, n);
    }
    if (n == 0)
        return 0; /* like write(2): no gap is filled */
    if (end > SIZE_MAX || n > SSIZE_MAX) {
        errno = ENOMEM;
        return -1;
    }
    if (end > s->cap && spool_grow(s, (size_t)end) != 0)
        return -1;
    if (pos > s->len)
        memset(s->buf + s->len, 0, (size_t)pos - s->len);
    memcpy(s->buf + pos, data, n);
    s->pos = end;
    if (end > s->len)
        s->len = (size_t)end;
    return (ssize_t)n;
}

ssize_t tmpf__spool_write(tmpf_file *f, const void *data, size_t n)
{
    struct tmpf__spool *s = f->spool;
    uint64_t pos = s->pos;
    /* The hot path: no gap, fits the buffer (so also within max_size).
     * n - 1 sends n == 0 to the slow path, which may have no buffer. */
    if (pos <= s->len && n - 1 < s->cap - (size_t)pos && n <= SSIZE_MAX) {
        memcpy(s->buf + pos, data, n);
        pos += n;
        s->pos = pos;
        if (pos > s->len)
            s->len = (size_t)pos;
        return (ssize_t)n;
    }
    return spool_write_slow(f, data, n);
}

int64_t tmpf__spool_seek(tmpf_file *f, int64_t off, int whence)
{
    struct tmpf__spool *s = f->spool;
    int64_t base = whence == SEEK_SET   ? 0
                   : whence == SEEK_CUR ? (int64_t)s->pos
                                        : (int64_t)s->len;
    /* lseek(2) answers EINVAL both for a negative result and for one
     * that overflows. */
    if ((off > 0 && base > INT64_MAX - off) || base + off < 0) {
        errno = EINVAL;
        return -1;
    }
    s->pos = (uint64_t)(base + off);
    return base + off;
}

int tmpf__spool_truncate(tmpf_file *f, int64_t size)
{
    struct tmpf__spool *s = f->spool;
    if (s->max_size && (uint64_t)size > s->max_size) {
        if (tmpf__spool_rollover(f) != 0)
            return -1;
        return tmpf_file_truncate(f, size);
    }
    if ((uint64_t)size > SIZE_MAX) {
        errno = ENOMEM;
        return -1;
    }
    size_t n = (size_t)size;
    if (n > s->len) {
        if (n > s->cap && spool_grow(s, n) != 0)
            return -1;
        memset(s->buf + s->len, 0, n - s->len);
    } else if (n < s->len) {
        tmpf__wipe(s->buf + n, s->len - n); /* cut data is wiped too */
    }
    s->len = n;
    return 0;
}

/* Writes the content to a new anonymous file in one pass of large writes,
 * then gives the memory back. Any failure (ENOENT for a removed directory,
 * ENOSPC, EMFILE, ...) leaves the in-memory file exactly as it was. */
int tmpf__spool_rollover(tmpf_file *f)
{
    struct tmpf__spool *s = f->spool;
    if (!s)
        return 0;
    int fd = tmpf__open_anonymous(&s->opts);
    if (fd < 0)
        return -1;
    size_t done = 0;
    while (done < s->len) {
        ssize_t put = write(fd, s->buf + done, s->len - done);
        if (put < 0) {
            if (errno == EINTR)
                continue;
            goto fail;
        }
        done += (size_t)put;
    }
    if (lseek(fd, (off_t)s->pos, SEEK_SET) < 0)
        goto fail;
    f->fd = fd;
    tmpf__audit(TMPF_EVENT_ROLLOVER, TMPF_KIND_SPOOLED, f, NULL, fd,
                (uint64_t)s->len, 0);
    spool_release(f);
    return 0;
fail:
    tmpf__os_close(fd);
    return -1;
}

void tmpf__spool_free(tmpf_file *f)
{
    if (!f->spool)
        return;
    spool_release(f);
    tmpf__audit_spool_closed();
}
