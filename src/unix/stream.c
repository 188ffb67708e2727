/* The stdio view of a tmpf_file: a cookie stream (fopencookie on Linux
 * C libraries, funopen on the BSDs and macOS) whose I/O goes through the
 * callbacks its opener hands over (file.c's raw read/write/seek), so a
 * spooled file stays in memory behind it. Platform code never calls back
 * into the portable files by name: it only calls what it was given.
 * Where neither exists, a stream on a dup of the descriptor: it shares
 * the file's offset, so the flush-before-every-operation rule of file.c
 * still keeps both sides consistent, but a spooled file rolls over first. */
#include "../internal.h"
#include "tmpf_features.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#if TMPF_HAVE_FOPENCOOKIE || TMPF_HAVE_FUNOPEN

/* What the stream's callbacks get: the object and its operations. Freed
 * by the stream's close (which never closes the object's descriptor). */
struct cookie {
    const struct tmpf__stream_io *io;
    void *obj;
};

static int cookie_close(void *cookie)
{
    free(cookie);
    return 0;
}

static struct cookie *cookie_new(void *obj, const struct tmpf__stream_io *io)
{
    struct cookie *c = tmpf__malloc(sizeof *c);
    if (c)
        *c = (struct cookie){io, obj};
    return c;
}

static ssize_t cookie_read_n(void *cookie, char *buf, size_t n)
{
    struct cookie *c = cookie;
    return c->io->read(c->obj, buf, n);
}

static ssize_t cookie_write_n(void *cookie, const char *buf, size_t n)
{
    struct cookie *c = cookie;
    return c->io->write(c->obj, buf, n);
}

static int64_t cookie_seek_to(void *cookie, int64_t pos, int whence)
{
    struct cookie *c = cookie;
    return c->io->seek(c->obj, pos, whence);
}

#endif

#if TMPF_HAVE_FOPENCOOKIE

/* What a failed cookie write returns, probed once per process: glibc
 * wants 0 (a negative count corrupts its large-write path), musl wants -1
 * (a 0 from a flush counts as success there and the data is dropped).
 * 0: not probed yet, else the value plus 2. */
static atomic_int write_failure;

static ssize_t probe_write(void *cookie, const char *buf, size_t n)
{
    (void)cookie, (void)buf, (void)n;
    errno = EIO;
    return 0;
}

static int write_failure_value(void)
{
    int v = atomic_load_explicit(&write_failure, memory_order_relaxed);
    if (v)
        return v - 2;
    cookie_io_functions_t io = {.write = probe_write};
    FILE *s = fopencookie(NULL, "w", io);
    if (!s)
        return -2; /* ENOMEM: the caller gives up */
    int saved = errno;
    fputc('x', s);
    v = fflush(s) == EOF ? 0 : -1; /* did 0 count as a failure? */
    fclose(s);
    errno = saved;
    atomic_store_explicit(&write_failure, v + 2, memory_order_relaxed);
    return v;
}

static ssize_t cookie_write(void *cookie, const char *buf, size_t n)
{
    ssize_t put = cookie_write_n(cookie, buf, n);
    if (put < 0)
        return atomic_load_explicit(&write_failure, memory_order_relaxed) - 2;
    return put;
}

static int cookie_seek(void *cookie, off64_t *pos, int whence)
{
    int64_t p = cookie_seek_to(cookie, (int64_t)*pos, whence);
    if (p < 0)
        return -1;
    *pos = (off64_t)p;
    return 0;
}

FILE *tmpf__os_stream_open(void *obj, const struct tmpf__stream_io *io)
{
    if (write_failure_value() == -2)
        return NULL;
    struct cookie *c = cookie_new(obj, io);
    if (!c)
        return NULL;
    cookie_io_functions_t fns = {
        .read = cookie_read_n,
        .write = cookie_write,
        .seek = cookie_seek,
        .close = cookie_close,
    };
    FILE *s = fopencookie(c, "r+", fns);
    if (!s)
        free(c);
    return s;
}

#elif TMPF_HAVE_FUNOPEN

/* funopen(3) (FreeBSD, macOS): int counts and an fpos_t offset; a failed
 * call returns -1 with errno. */
static int funopen_read(void *cookie, char *buf, int n)
{
    return (int)cookie_read_n(cookie, buf, (size_t)n);
}

static int funopen_write(void *cookie, const char *buf, int n)
{
    return (int)cookie_write_n(cookie, buf, (size_t)n);
}

static fpos_t funopen_seek(void *cookie, fpos_t pos, int whence)
{
    return (fpos_t)cookie_seek_to(cookie, (int64_t)pos, whence);
}

FILE *tmpf__os_stream_open(void *obj, const struct tmpf__stream_io *io)
{
    struct cookie *c = cookie_new(obj, io);
    if (!c)
        return NULL;
    FILE *s = funopen(c, funopen_read, funopen_write, funopen_seek, cookie_close);
    if (!s)
        free(c);
    return s;
}

#else

FILE *tmpf__os_stream_open(void *obj, const struct tmpf__stream_io *io)
{
    int fd = io->fileno(obj);
    if (fd < 0)
        return NULL;
    int copy = fcntl(fd, F_DUPFD_CLOEXEC, 0);
    if (copy < 0)
        return NULL;
    FILE *s = fdopen(copy, "r+");
    if (!s)
        tmpf__os_close(copy);
    return s;
}

#endif

/* fflush gives back the read-ahead of a seekable stream on glibc and musl
 * (and glibc forgets its cached offset); a cookie stream does it through
 * io->seek. */
int tmpf__os_stream_sync(FILE *s)
{
    return fflush(s);
}
