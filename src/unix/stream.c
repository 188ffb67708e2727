/* The stdio view of a tmpf_file: a cookie stream (fopencookie on Linux
 * C libraries, funopen on the BSDs and macOS) whose callbacks go through
 * tmpf__file_*_raw, so a spooled file stays in memory behind it. Where
 * neither exists, a stream on a dup of the descriptor: it shares the
 * file's offset, so the flush-before-every-operation rule of file.c still
 * keeps both sides consistent, but a spooled file rolls over first. */
#include "../internal.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <unistd.h>

#if defined(__APPLE__) || defined(__FreeBSD__) || defined(__NetBSD__) ||        \
    defined(__OpenBSD__) || defined(__DragonFly__)
#define TMPF_USE_FUNOPEN 1
#elif defined(__linux__)
#define TMPF_USE_FOPENCOOKIE 1
#endif

/* The stream never owns the descriptor: tmpf_file_close closes it. */
static int cookie_close(void *cookie)
{
    (void)cookie;
    return 0;
}

#if defined(TMPF_USE_FOPENCOOKIE)

static ssize_t cookie_read(void *cookie, char *buf, size_t n)
{
    return tmpf__file_read_raw(cookie, buf, n);
}

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
    ssize_t put = tmpf__file_write_raw(cookie, buf, n);
    if (put < 0)
        return atomic_load_explicit(&write_failure, memory_order_relaxed) - 2;
    return put;
}

static int cookie_seek(void *cookie, off64_t *pos, int whence)
{
    int64_t p = tmpf__file_seek_raw(cookie, (int64_t)*pos, whence);
    if (p < 0)
        return -1;
    *pos = (off64_t)p;
    return 0;
}

FILE *tmpf__os_stream_open(tmpf_file *f)
{
    if (write_failure_value() == -2)
        return NULL;
    cookie_io_functions_t io = {
        .read = cookie_read,
        .write = cookie_write,
        .seek = cookie_seek,
        .close = cookie_close,
    };
    return fopencookie(f, "r+", io);
}

#elif defined(TMPF_USE_FUNOPEN)

static int funopen_read(void *cookie, char *buf, int n)
{
    return (int)tmpf__file_read_raw(cookie, buf, (size_t)n);
}

static int funopen_write(void *cookie, const char *buf, int n)
{
    return (int)tmpf__file_write_raw(cookie, buf, (size_t)n);
}

static fpos_t funopen_seek(void *cookie, fpos_t pos, int whence)
{
    return (fpos_t)tmpf__file_seek_raw(cookie, (int64_t)pos, whence);
}

FILE *tmpf__os_stream_open(tmpf_file *f)
{
    return funopen(f, funopen_read, funopen_write, funopen_seek, cookie_close);
}

#else

FILE *tmpf__os_stream_open(tmpf_file *f)
{
    (void)cookie_close;
    int fd = tmpf_file_fileno(f);
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
