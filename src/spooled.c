/* Spooled temporary files (Python's SpooledTemporaryFile): the content
 * lives in memory until the position after a write passes max_size, a
 * truncate grows it past max_size, or the descriptor is asked for; then it
 * moves to an anonymous file made with the creation options.
 *
 * In memory the content is a row of chunks: byte o is in chunk[o >> 16]
 * at o & 0xffff. Only the first chunk ever moves (it grows from 1 KiB to
 * 64 KiB by doubling, or at once when a spare block is there to take and
 * max_size allows); later ones are 64 KiB blocks that stay where they
 * are, so growth copies and wipes nothing once the file passes 64 KiB, and
 * whole chunks are recycled (alloc.c keeps a few spare ones: glibc would
 * give them back to the system and the next file fault them in again).
 * The last chunk is cut short at max_size: memory never holds more than
 * max_size.
 *
 * f->spool exists exactly while the file is in memory: rollover frees it,
 * so file.c sends a rolled file straight to the descriptor. Every byte a
 * chunk ever held is wiped before the memory is given back: cut data when
 * it is cut, the first chunk when it moves, the content at release. Bytes
 * between the size and the capacity are thus never live data. */
#include "internal.h"

#include <errno.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>

#define CHUNK_SHIFT 16
#define CHUNK_SIZE ((size_t)1 << CHUNK_SHIFT) /* == TMPF__BLOCK_SIZE */
#define CHUNK_MASK (CHUNK_SIZE - 1)
_Static_assert(CHUNK_SIZE == TMPF__BLOCK_SIZE, "chunks are alloc.c's blocks");
/* The first chunk's first size: small files stay small. */
#define FIRST_MIN 1024
/* Chunk pointers kept in the object itself: files up to 1 MiB need no
 * table allocation. */
#define INLINE_CHUNKS 16
/* 256 TiB: no content this large fits in memory (see reserve). */
#define MEMORY_MAX ((uint64_t)1 << 48)

struct tmpf__spool {
    uint64_t pos;          /* may be past len (a later write leaves a gap) */
    size_t len;            /* size of the content */
    size_t cap;            /* bytes in chunks; <= max_size when max_size != 0 */
    unsigned char **chunk; /* inline_chunk or a malloc'd table */
    size_t nchunks, table_len;
    size_t max_size;       /* 0: roll over only when asked */
    unsigned char *win_start; /* where the open window began, or NULL */
    size_t win_pos;           /* the position there */
    unsigned char *inline_chunk[INLINE_CHUNKS];
    tmpf__opts opts;       /* for the anonymous file; strings point into names[] */
    char names[];          /* dir, prefix, suffix, each NUL-terminated */
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
    s->chunk = s->inline_chunk;
    s->table_len = INLINE_CHUNKS;
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
    f->perm_chosen = r.perm != 0;
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

/* ---- Chunks --------------------------------------------------------------- */

/* Bytes of content in chunk k (0 past the end). */
static size_t used_in(const struct tmpf__spool *s, size_t k)
{
    size_t start = k << CHUNK_SHIFT;
    if (start >= s->len)
        return 0;
    return s->len - start < CHUNK_SIZE ? s->len - start : CHUNK_SIZE;
}

/* Size of chunk k. */
static size_t size_of(const struct tmpf__spool *s, size_t k)
{
    return k + 1 < s->nchunks ? CHUNK_SIZE : s->cap - (k << CHUNK_SHIFT);
}

/* Makes the chunk table hold at least n pointers. */
static int table_reserve(struct tmpf__spool *s, size_t n)
{
    if (n <= s->table_len)
        return 0;
    size_t len = s->table_len * 2 > n ? s->table_len * 2 : n;
    unsigned char **t = len <= SIZE_MAX / sizeof *t ? tmpf__malloc(len * sizeof *t) : NULL;
    if (!t)
        return -1;
    memcpy(t, s->chunk, s->nchunks * sizeof *t);
    if (s->chunk != s->inline_chunk)
        free(s->chunk);
    s->chunk = t;
    s->table_len = len;
    return 0;
}

/* Makes the capacity at least end (<= max_size when there is one): the
 * first chunk by doubling up to CHUNK_SIZE (a move: copied, the old block
 * wiped), then whole chunks, the last cut at max_size. Everything is
 * allocated before anything changes: -1 with ENOMEM leaves the spool as
 * it was (but for a larger chunk table). */
static int reserve(struct tmpf__spool *s, size_t end)
{
    if (end <= s->cap)
        return 0;
    size_t limit = s->max_size ? s->max_size : SIZE_MAX;
    /* Far more than any machine holds: refused at once, not after
     * reserving a chunk table and chunks one by one under overcommit. */
    if ((uint64_t)end > MEMORY_MAX)
        goto nomem;
    size_t first = 0; /* new size of the first chunk, if it moves */
    if (s->cap < CHUNK_SIZE && limit >= CHUNK_SIZE && tmpf__block_spare_ready()) {
        first = CHUNK_SIZE; /* a spare block costs no memory: no doubling */
    } else if (s->cap < CHUNK_SIZE) {
        first = s->cap ? s->cap : FIRST_MIN / 2;
        do
            first *= 2;
        while (first < end && first < CHUNK_SIZE);
        if (first > CHUNK_SIZE)
            first = CHUNK_SIZE;
        if (first > limit)
            first = limit;
    }
    size_t cap = first ? first : s->cap, had = s->nchunks, add = 0;
    if (cap < end) {
        /* first is then CHUNK_SIZE, or there was no first to move */
        size_t n = (end >> CHUNK_SHIFT) + ((end & CHUNK_MASK) != 0);
        if (table_reserve(s, n) != 0)
            goto nomem;
        add = n - (had ? had : 1);
    }
    unsigned char *moved = NULL;
    if (first && !(moved = tmpf__block_alloc(first)))
        goto nomem;
    size_t k;
    for (k = 0; k < add; k++) {
        size_t size = limit - cap < CHUNK_SIZE ? limit - cap : CHUNK_SIZE;
        if (!(s->chunk[had + !had + k] = tmpf__block_alloc(size)))
            break;
        cap += size;
    }
    if (k < add) { /* none of these held data; all but a last one are whole */
        while (k--)
            tmpf__block_free(s->chunk[had + !had + k], CHUNK_SIZE, 0);
        if (moved)
            tmpf__block_free(moved, first, 0);
        goto nomem;
    }
    if (moved) {
        if (had) {
            memcpy(moved, s->chunk[0], s->len);
            tmpf__block_free(s->chunk[0], s->cap, s->len);
        }
        s->chunk[0] = moved;
    }
    s->nchunks = (had ? had : 1) + add;
    tmpf__audit_spool_bytes((int64_t)(cap - s->cap));
    s->cap = cap;
    return 0;
nomem:
    errno = ENOMEM;
    return -1;
}

/* The three ways bytes move: in from the caller, out to the caller, and
 * zeros over a range. off + n <= cap. */
static void copy_in(struct tmpf__spool *s, size_t off, const unsigned char *src, size_t n)
{
    while (n) {
        size_t at = off & CHUNK_MASK, k = CHUNK_SIZE - at < n ? CHUNK_SIZE - at : n;
        memcpy(s->chunk[off >> CHUNK_SHIFT] + at, src, k);
        off += k, src += k, n -= k;
    }
}

static void copy_out(const struct tmpf__spool *s, size_t off, unsigned char *dst, size_t n)
{
    while (n) {
        size_t at = off & CHUNK_MASK, k = CHUNK_SIZE - at < n ? CHUNK_SIZE - at : n;
        memcpy(dst, s->chunk[off >> CHUNK_SHIFT] + at, k);
        off += k, dst += k, n -= k;
    }
}

static void zero(struct tmpf__spool *s, size_t off, size_t n)
{
    while (n) {
        size_t at = off & CHUNK_MASK, k = CHUNK_SIZE - at < n ? CHUNK_SIZE - at : n;
        tmpf__wipe(s->chunk[off >> CHUNK_SHIFT] + at, k);
        off += k, n -= k;
    }
}

static void spool_release(tmpf_file *f)
{
    struct tmpf__spool *s = f->spool;
    for (size_t k = 0; k < s->nchunks; k++)
        tmpf__block_free(s->chunk[k], size_of(s, k), used_in(s, k));
    if (s->chunk != s->inline_chunk)
        free(s->chunk);
    tmpf__audit_spool_bytes(-(int64_t)s->cap);
    free(s);
    f->spool = NULL;
    f->win = (struct tmpf__window){0};
}

/* ---- The window (internal.h) ------------------------------------------------ */

/* Takes back what tmpf_file_read/write did through the window: the
 * position moved to at, and writes may have pushed the content's end to
 * at (internal.h). Shuts it. */
static struct tmpf__spool *window_fold(tmpf_file *f)
{
    struct tmpf__spool *s = f->spool;
    if (s->win_start) {
        s->pos = s->win_pos + (size_t)(f->win.at - s->win_start);
        unsigned char *rend = f->win.rend > f->win.at ? f->win.rend : f->win.at;
        size_t end = s->win_pos + (size_t)(rend - s->win_start);
        if (end > s->len)
            s->len = end;
        s->win_start = NULL;
    }
    f->win = (struct tmpf__window){0};
    return s;
}

/* Opens the window at the position, when there is a chunk there, no gap
 * before it and no stdio view. */
static void window_open(tmpf_file *f)
{
    struct tmpf__spool *s = f->spool;
    f->win = (struct tmpf__window){0};
    if (!s || f->stream || s->pos > s->len || s->pos >= s->cap)
        return;
    size_t pos = (size_t)s->pos, end = (pos | CHUNK_MASK) + 1;
    size_t wend = end < s->cap ? end : s->cap, rend = end < s->len ? end : s->len;
    unsigned char *at = s->chunk[pos >> CHUNK_SHIFT] + (pos & CHUNK_MASK);
    f->win = (struct tmpf__window){at, at + (rend - pos), at + (wend - pos)};
    s->win_start = at;
    s->win_pos = pos;
}

void tmpf__spool_stream_opened(tmpf_file *f)
{
    if (f->spool)
        window_fold(f); /* window_open keeps it shut from now on */
}

/* ---- Operations ------------------------------------------------------------- */

static ssize_t spool_read(struct tmpf__spool *s, void *buf, size_t n)
{
    if (s->pos >= s->len)
        return 0;
    size_t avail = s->len - (size_t)s->pos;
    if (n > avail)
        n = avail;
    if (n > SSIZE_MAX)
        n = SSIZE_MAX;
    copy_out(s, (size_t)s->pos, buf, n);
    s->pos += n;
    return (ssize_t)n;
}

ssize_t tmpf__spool_read(tmpf_file *f, void *buf, size_t n)
{
    ssize_t got = spool_read(window_fold(f), buf, n);
    window_open(f);
    return got;
}

/* Writes at the position: a gap before it is zero-filled; a write whose
 * end would pass max_size first rolls the file over (so memory never
 * holds more than max_size, and a crossing write is never held in memory
 * at all). */
static ssize_t spool_write(tmpf_file *f, const void *data, size_t n)
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
    if (reserve(s, (size_t)end) != 0)
        return -1;
    if (pos > s->len)
        zero(s, s->len, (size_t)pos - s->len);
    copy_in(s, (size_t)pos, data, n);
    s->pos = end;
    if (end > s->len)
        s->len = (size_t)end;
    return (ssize_t)n;
}

ssize_t tmpf__spool_write(tmpf_file *f, const void *data, size_t n)
{
    window_fold(f);
    ssize_t put = spool_write(f, data, n);
    window_open(f);
    return put;
}

int64_t tmpf__spool_seek(tmpf_file *f, int64_t off, int whence)
{
    struct tmpf__spool *s = window_fold(f);
    int64_t base = whence == SEEK_SET   ? 0
                   : whence == SEEK_CUR ? (int64_t)s->pos
                                        : (int64_t)s->len;
    /* lseek(2) answers EINVAL both for a negative result and for one
     * that overflows. */
    if ((off > 0 && base > INT64_MAX - off) || base + off < 0) {
        window_open(f);
        errno = EINVAL;
        return -1;
    }
    s->pos = (uint64_t)(base + off);
    window_open(f);
    return base + off;
}

static int spool_truncate(tmpf_file *f, int64_t size)
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
        if (reserve(s, n) != 0)
            return -1;
        zero(s, s->len, n - s->len);
    } else {
        zero(s, n, s->len - n); /* cut data is wiped */
    }
    s->len = n;
    return 0;
}

int tmpf__spool_truncate(tmpf_file *f, int64_t size)
{
    window_fold(f);
    int rc = spool_truncate(f, size);
    window_open(f);
    return rc;
}

/* Writes the content to a new anonymous file, a chunk per write, then
 * gives the memory back. Any failure (ENOENT for a removed directory,
 * ENOSPC, EMFILE, ...) leaves the in-memory file exactly as it was. */
int tmpf__spool_rollover(tmpf_file *f)
{
    if (!f->spool)
        return 0;
    struct tmpf__spool *s = window_fold(f);
    int fd = tmpf__open_anonymous(&s->opts);
    if (fd < 0)
        goto fail;
    for (size_t k = 0; k < s->nchunks; k++)
        if (tmpf__os_write_all(fd, s->chunk[k], used_in(s, k)) != 0)
            goto fail;
    if (tmpf__os_seek(fd, (int64_t)s->pos, SEEK_SET) < 0)
        goto fail;
    f->fd = fd;
    tmpf__audit(TMPF_EVENT_ROLLOVER, TMPF_KIND_SPOOLED, f, NULL, fd,
                (uint64_t)s->len, 0);
    spool_release(f);
    return 0;
fail:
    if (fd >= 0)
        tmpf__os_close(fd);
    window_open(f);
    return -1;
}

void tmpf__spool_free(tmpf_file *f)
{
    if (!f->spool)
        return;
    window_fold(f);
    spool_release(f);
    tmpf__audit_spool_closed();
}
