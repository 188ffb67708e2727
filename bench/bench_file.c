/* Temporary files: create + cleanup of an anonymous and a named file
 * against the bare system calls doing the same (precomputed names), glibc
 * tmpfile(3), and Python's TemporaryFile / NamedTemporaryFile when python3
 * is installed. Usage: bench_file [iterations] [rounds] */
#include "bench.h"

#include <tmpf.h>

#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <unistd.h>

static const char *dir;
static long iterations = 2000;
static int rounds = 21;

/* ---- anonymous ---------------------------------------------------------- */

static void op_tmpf_anonymous(void *ctx, long i)
{
    (void)i;
    tmpf_file *f = tmpf_temporary_file(ctx);
    if (!f)
        bench_die("tmpf_temporary_file");
    tmpf_file_cleanup(f);
}

static void op_bare_tmpfile(void *ctx, long i)
{
    (void)i;
    int fd = open(ctx, O_TMPFILE | O_RDWR | O_CLOEXEC, 0600);
    if (fd < 0)
        bench_die("open(O_TMPFILE)");
    close(fd);
}

static void op_libc_tmpfile(void *ctx, long i)
{
    (void)ctx, (void)i;
    FILE *f = tmpfile();
    if (!f)
        bench_die("tmpfile");
    fclose(f);
}

/* ---- named -------------------------------------------------------------- */

static void op_tmpf_named(void *ctx, long i)
{
    (void)i;
    tmpf_file *f = tmpf_named_temporary_file(ctx);
    if (!f)
        bench_die("tmpf_named_temporary_file");
    tmpf_file_cleanup(f);
}

struct names {
    char *buf;
    size_t stride;
    long next, count;
};

static void op_bare_named(void *ctx, long i)
{
    (void)i;
    struct names *n = ctx;
    const char *path = n->buf + (size_t)(n->next++ % n->count) * n->stride;
    int fd = open(path, O_RDWR | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
    if (fd < 0)
        bench_die("open(O_CREAT|O_EXCL)");
    close(fd);
    unlink(path);
}

/* Fresh random names for every call of every round, made before timing, so
 * the baseline pays for neither randomness nor name reuse. */
static void names_init(struct names *n, long count)
{
    n->stride = strlen(dir) + 1 + 3 + 8 + 1;
    n->count = count;
    n->next = 0;
    n->buf = malloc(n->stride * (size_t)count);
    if (!n->buf)
        bench_die("malloc");
    static const char alphabet[] = "abcdefghijklmnopqrstuvwxyz0123456789_";
    uint64_t x = 0x9e3779b97f4a7c15u ^ (uint64_t)getpid();
    for (long k = 0; k < count; k++) {
        char *p = n->buf + (size_t)k * n->stride;
        int len = sprintf(p, "%s/tmp", dir);
        for (int c = 0; c < 8; c++) {
            x ^= x << 13, x ^= x >> 7, x ^= x << 17;
            p[len + c] = alphabet[x % 37];
        }
        p[len + 8] = '\0';
    }
}

/* ---- Python ------------------------------------------------------------- */

/* Median ns per call of Python's `stmt`, or -1 without python3. */
static double python_ns(const char *stmt)
{
    char cmd[1024];
    snprintf(cmd, sizeof cmd,
             "python3 -c 'import timeit, statistics, tempfile\n"
             "t = timeit.repeat(\"%s\", setup=\"import tempfile\", "
             "number=%ld, repeat=%d)\n"
             "print(statistics.median(t) / %ld * 1e9)' 2>/dev/null",
             stmt, iterations, rounds, iterations);
    return bench_command_ns(cmd);
}

int main(int argc, char **argv)
{
    if (argc > 1)
        iterations = atol(argv[1]);
    if (argc > 2)
        rounds = atoi(argv[2]);
    dir = bench_dir();
    tmpf_opts opts = {.dir = dir};

    /* Warm up name generation, the directory's dentries and the page cache. */
    for (int i = 0; i < 200; i++) {
        op_tmpf_anonymous(&opts, i);
        op_tmpf_named(&opts, i);
    }

    printf("\n# bench_file: %s, %ld calls x %d rounds, medians\n", dir,
           iterations, rounds);

    double anon[2];
    bench_interleaved(2, (bench_op[]){op_tmpf_anonymous, op_bare_tmpfile},
                      (void *[]){&opts, (void *)dir}, iterations, rounds, anon);

    struct names names;
    names_init(&names, iterations * rounds);
    double named[2];
    bench_interleaved(2, (bench_op[]){op_tmpf_named, op_bare_named},
                      (void *[]){&opts, &names}, iterations, rounds, named);
    free(names.buf);

    /* tmpfile(3) always goes to P_tmpdir (/tmp here, not tmpfs): compare it
     * with tmpf in the same directory too. */
    tmpf_opts in_tmp = {.dir = P_tmpdir};
    double libc[3];
    bench_interleaved(3, (bench_op[]){op_tmpf_anonymous, op_libc_tmpfile, op_bare_tmpfile},
                      (void *[]){&in_tmp, NULL, (void *)P_tmpdir}, iterations / 4,
                      rounds, libc);

    char stmt[512];
    snprintf(stmt, sizeof stmt, "tempfile.TemporaryFile(dir=\\\"%s\\\").close()", dir);
    double py_anon = python_ns(stmt);
    snprintf(stmt, sizeof stmt, "tempfile.NamedTemporaryFile(dir=\\\"%s\\\").close()", dir);
    double py_named = python_ns(stmt);

    bench_header("temporary files: create + cleanup");
    bench_row("tmpf_temporary_file + cleanup", anon[0],
              "open(dir, O_TMPFILE) + close", anon[1]);
    bench_row("tmpf_named_temporary_file + cleanup", named[0],
              "open(O_CREAT|O_EXCL, precomputed name) + close + unlink", named[1]);
    bench_row("tmpf_temporary_file + cleanup", anon[0],
              "tmpf_named_temporary_file + cleanup", named[0]);
    char what[128], base[128];
    snprintf(what, sizeof what, "tmpf_temporary_file + cleanup in %s", P_tmpdir);
    snprintf(base, sizeof base, "glibc tmpfile(3) + fclose (%s)", P_tmpdir);
    bench_row(what, libc[0], base, libc[1]);
    snprintf(base, sizeof base, "open(%s, O_TMPFILE) + close", P_tmpdir);
    bench_row(what, libc[0], base, libc[2]);
    if (py_anon > 0)
        bench_row("tmpf_temporary_file + cleanup", anon[0],
                  "Python tempfile.TemporaryFile().close()", py_anon);
    if (py_named > 0)
        bench_row("tmpf_named_temporary_file + cleanup", named[0],
                  "Python tempfile.NamedTemporaryFile().close()", py_named);
    if (py_anon <= 0 || py_named <= 0)
        printf("\n(python3 not available: Python rows left out)\n");
    return 0;
}
