/*
 * Spooled temporary files against the obvious alternatives.
 *
 * (a) In memory: 1 MiB in 64-byte writes, rewind, read back in 64-byte
 *     reads, free. Baselines: memcpy into a geometrically growing buffer,
 *     open_memstream, fmemopen on a preallocated buffer, and Python's
 *     SpooledTemporaryFile (timeit in a python3 subprocess) when present.
 *     Also the same tmpf case alone in a new process (this program run with
 *     the argument "alone"), where no baseline has freed a large block:
 *     glibc then gives freed heap tops back to the system at 128 KiB, and
 *     only the library's own reuse of memory keeps each file from
 *     faulting its pages in again.
 * (b) Rollover: 8 MiB in 4 KiB writes with max_size 1 MiB in bench_dir().
 *     Baseline: the hand-written version (a 1 MiB buffer, then O_TMPFILE
 *     in the same directory, one write of the buffer, the rest direct).
 */
#include "bench.h"
#include <tmpf.h>

#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <unistd.h>

#define A_TOTAL (1 << 20)
#define A_CHUNK 64
#define B_TOTAL (8 << 20)
#define B_CHUNK 4096
#define B_MAX (1 << 20)

/* Keeps the compiler from dropping copies into a buffer nobody reads. */
#define USE(p) __asm__ __volatile__("" : : "r"(p) : "memory")

static unsigned char chunk_a[A_CHUNK], chunk_b[B_CHUNK];
static int failed;

static void fail(const char *what)
{
    if (!failed)
        fprintf(stderr, "bench_spooled: %s: %s\n", what, strerror(errno));
    failed = 1;
}

/* ---- (a) in memory ---------------------------------------------------- */

static void a_tmpf(void *ctx, long i)
{
    (void)ctx, (void)i;
    unsigned char out[A_CHUNK];
    tmpf_file *f = tmpf_spooled_temporary_file(
        &(tmpf_opts){.dir = bench_dir(), .max_size = 2 * A_TOTAL});
    if (!f)
        return fail("tmpf_spooled_temporary_file");
    for (int k = 0; k < A_TOTAL / A_CHUNK; k++)
        if (tmpf_file_write(f, chunk_a, A_CHUNK) != A_CHUNK)
            fail("tmpf_file_write");
    tmpf_file_seek(f, 0, SEEK_SET);
    for (int k = 0; k < A_TOTAL / A_CHUNK; k++) {
        if (tmpf_file_read(f, out, A_CHUNK) != A_CHUNK)
            fail("tmpf_file_read");
        USE(out);
    }
    if (tmpf_file_rolled(f))
        fail("rolled over");
    tmpf_file_cleanup(f);
}

static void a_memcpy(void *ctx, long i)
{
    (void)ctx, (void)i;
    unsigned char out[A_CHUNK], *buf = NULL;
    size_t len = 0, cap = 0;
    for (int k = 0; k < A_TOTAL / A_CHUNK; k++) {
        if (len + A_CHUNK > cap) {
            size_t ncap = cap ? cap * 2 : 1024;
            unsigned char *nbuf = realloc(buf, ncap);
            if (!nbuf)
                return free(buf), fail("realloc");
            buf = nbuf, cap = ncap;
        }
        memcpy(buf + len, chunk_a, A_CHUNK);
        len += A_CHUNK;
        USE(buf);
    }
    for (size_t pos = 0; pos < len; pos += A_CHUNK) {
        memcpy(out, buf + pos, A_CHUNK);
        USE(out);
    }
    free(buf);
}

static void a_memstream(void *ctx, long i)
{
    (void)ctx, (void)i;
    char *buf = NULL;
    size_t size = 0;
    unsigned char out[A_CHUNK];
    FILE *fp = open_memstream(&buf, &size);
    if (!fp)
        return fail("open_memstream");
    for (int k = 0; k < A_TOTAL / A_CHUNK; k++)
        fwrite(chunk_a, 1, A_CHUNK, fp);
    fflush(fp);
    /* open_memstream is write-only: read back from its buffer. */
    for (size_t pos = 0; pos < size; pos += A_CHUNK) {
        memcpy(out, buf + pos, A_CHUNK);
        USE(out);
    }
    fclose(fp);
    free(buf);
}

static void a_fmemopen(void *ctx, long i)
{
    (void)i;
    unsigned char out[A_CHUNK];
    FILE *fp = fmemopen(ctx, A_TOTAL + 1, "w+");
    if (!fp)
        return fail("fmemopen");
    for (int k = 0; k < A_TOTAL / A_CHUNK; k++)
        fwrite(chunk_a, 1, A_CHUNK, fp);
    fseek(fp, 0, SEEK_SET);
    for (int k = 0; k < A_TOTAL / A_CHUNK; k++) {
        if (fread(out, 1, A_CHUNK, fp) != A_CHUNK)
            fail("fread");
        USE(out);
    }
    fclose(fp);
}

/* The floor of any design with one out-of-line call per operation and
 * the wipe the spec asks for: a function that only checks the room,
 * copies 64 bytes and moves a position kept in memory (not inlined, on a
 * cache line, like tmpf_file_read/write), over a 1 MiB buffer that is
 * wiped before it is freed. Not a baseline to beat: it tells how close
 * tmpf is to what its interface allows. */
struct floor_pos {
    unsigned char *at, *end;
};
/* Kept from being specialised for the constant arguments (gcc's noipa;
 * clang does not clone a function that is not static). */
#if defined(__GNUC__) && !defined(__clang__)
#define FLOOR_FN __attribute__((noipa, aligned(64)))
#else
#define FLOOR_FN __attribute__((noinline, aligned(64)))
#endif
long floor_write(struct floor_pos *p, const void *buf, size_t n);
long floor_read(struct floor_pos *p, void *buf, size_t n);

FLOOR_FN long floor_write(struct floor_pos *p, const void *buf, size_t n)
{
    if (!p || n != A_CHUNK || (size_t)(p->end - p->at) < n)
        return -1;
    memcpy(p->at, buf, A_CHUNK);
    p->at += A_CHUNK;
    return A_CHUNK;
}

FLOOR_FN long floor_read(struct floor_pos *p, void *buf, size_t n)
{
    if (!p || n != A_CHUNK || (size_t)(p->end - p->at) < n)
        return -1;
    memcpy(buf, p->at, A_CHUNK);
    p->at += A_CHUNK;
    return A_CHUNK;
}

static void a_floor(void *ctx, long i)
{
    (void)ctx, (void)i;
    unsigned char out[A_CHUNK], *buf = malloc(A_TOTAL);
    if (!buf)
        return fail("malloc");
    struct floor_pos p = {buf, buf + A_TOTAL};
    for (int k = 0; k < A_TOTAL / A_CHUNK; k++)
        if (floor_write(&p, chunk_a, A_CHUNK) != A_CHUNK)
            fail("floor_write");
    p = (struct floor_pos){buf, buf + A_TOTAL};
    for (int k = 0; k < A_TOTAL / A_CHUNK; k++) {
        if (floor_read(&p, out, A_CHUNK) != A_CHUNK)
            fail("floor_read");
        USE(out);
    }
    memset(buf, 0, A_TOTAL);
    USE(buf);
    free(buf);
}

/* ns per run of the same work in Python, or -1 without python3. */
static double python_spooled_ns(void)
{
    static const char script[] =
        "python3 -c '\n"
        "import tempfile, timeit, statistics\n"
        "chunk = b\"x\" * 64\n"
        "def run():\n"
        "    f = tempfile.SpooledTemporaryFile(max_size=2 << 20)\n"
        "    w = f.write\n"
        "    for _ in range(16384): w(chunk)\n"
        "    f.seek(0)\n"
        "    r = f.read\n"
        "    for _ in range(16384): r(64)\n"
        "    f.close()\n"
        "t = timeit.repeat(run, number=3, repeat=9)\n"
        "print(statistics.median(t) / 3 * 1e9)\n"
        "' 2>/dev/null";
    return bench_command_ns(script);
}

/* ---- (b) rollover --------------------------------------------------------- */

static void b_tmpf(void *ctx, long i)
{
    (void)ctx, (void)i;
    tmpf_file *f = tmpf_spooled_temporary_file(
        &(tmpf_opts){.dir = bench_dir(), .max_size = B_MAX});
    if (!f)
        return fail("tmpf_spooled_temporary_file");
    for (int k = 0; k < B_TOTAL / B_CHUNK; k++)
        if (tmpf_file_write(f, chunk_b, B_CHUNK) != B_CHUNK)
            fail("tmpf_file_write");
    if (!tmpf_file_rolled(f))
        fail("did not roll over");
    tmpf_file_cleanup(f);
}

static int write_all(int fd, const void *p, size_t n)
{
    while (n) {
        ssize_t w = write(fd, p, n);
        if (w < 0) {
            if (errno == EINTR)
                continue;
            return -1;
        }
        p = (const char *)p + w;
        n -= (size_t)w;
    }
    return 0;
}

static void b_hand(void *ctx, long i)
{
    (void)ctx, (void)i;
    unsigned char *buf = malloc(B_MAX);
    if (!buf)
        return fail("malloc");
    size_t len = 0;
    int fd = -1;
    for (int k = 0; k < B_TOTAL / B_CHUNK; k++) {
        if (fd < 0 && len + B_CHUNK <= B_MAX) {
            memcpy(buf + len, chunk_b, B_CHUNK);
            len += B_CHUNK;
            continue;
        }
        if (fd < 0) {
            fd = open(bench_dir(), O_TMPFILE | O_RDWR | O_CLOEXEC, 0600);
            if (fd < 0 || write_all(fd, buf, len) != 0)
                return free(buf), fail("O_TMPFILE");
        }
        if (write_all(fd, chunk_b, B_CHUNK) != 0)
            fail("write");
    }
    close(fd);
    free(buf);
}

/* ns per run of a_tmpf in a new process that runs nothing else, or -1. */
static double alone_ns(const char *self)
{
    char cmd[4200];
    snprintf(cmd, sizeof cmd, "'%s' alone", self);
    return bench_command_ns(cmd);
}

int main(int argc, char **argv)
{
    memset(chunk_a, 'a', sizeof chunk_a);
    if (argc > 1 && strcmp(argv[1], "alone") == 0) {
        printf("%.0f\n", bench_median_ns(a_tmpf, NULL, 20, 31));
        return failed;
    }
    memset(chunk_b, 'b', sizeof chunk_b);
    void *fmem = malloc(A_TOTAL + 1);
    if (!fmem)
        return 1;

    bench_header("Spooled file in memory: 1 MiB in 64-byte writes, read back in 64-byte reads");
    bench_op a_ops[] = {a_tmpf, a_memcpy, a_memstream, a_fmemopen, a_floor};
    void *a_ctx[] = {NULL, NULL, NULL, fmem, NULL};
    double a[5];
    bench_interleaved(5, a_ops, a_ctx, 20, 31, a);
    const char *what = "tmpf spooled (in memory)";
    bench_row(what, a[0], "memcpy into a growing buffer", a[1]);
    bench_row(what, a[0], "open_memstream + fwrite", a[2]);
    bench_row(what, a[0], "fmemopen (preallocated) + fwrite/fread", a[3]);
    bench_row(what, a[0], "floor: out-of-line 64-byte copy per call + wipe", a[4]);
    double alone = strchr(argv[0], '\'') ? -1 : alone_ns(argv[0]);
    if (alone > 0)
        bench_row("tmpf spooled (in memory), alone in a new process", alone,
                  "memcpy into a growing buffer", a[1]);
    double py = python_spooled_ns();
    if (py > 0)
        bench_row(what, a[0], "Python SpooledTemporaryFile", py);
    else
        printf("| (python3 not available: no Python row) | | | | |\n");

    bench_header("Spooled file through a rollover: 8 MiB in 4 KiB writes, max_size 1 MiB");
    bench_op b_ops[] = {b_tmpf, b_hand};
    double b[2];
    bench_interleaved(2, b_ops, (void *const[]){NULL, NULL}, 4, 25, b);
    bench_row("tmpf spooled, rollover at 1 MiB", b[0],
              "buffer 1 MiB, O_TMPFILE, write, then direct", b[1]);
    printf("\n(directory: %s)\n", bench_dir());
    free(fmem);
    return failed;
}
