/*
 * Creation cost: tmpf_mkstemp / tmpf_mkdtemp (name generation, options,
 * malloc'd path included) against the bare system calls on names made in
 * advance and against the C library's mkstemp / mkdtemp, in the same run,
 * on /dev/shm (or $TMPF_BENCH_DIR) and on the default temporary directory.
 * Also Python's tempfile (when python3 exists) and two threads creating in
 * one directory against one.
 *
 *   build/bench/bench_create [iterations [rounds]]
 */
#include "bench.h"

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdbool.h>
#include <sys/stat.h>
#include <unistd.h>
#include <tmpf.h>

#if defined(__GLIBC__)
#define LIBC "glibc"
#else
#define LIBC "musl (non-glibc libc)"
#endif

struct ctx {
    const char *dir;
    tmpf_opts opts;
    /* bare: fresh names of the shape tmpf makes, one per call */
    char **names;
    long next, count;
    /* libc: template copied in before each call */
    char tmpl[4096];
    size_t tmpl_len;
};

/* ---- files -------------------------------------------------------------- */

static void op_tmpf_file(void *p, long i)
{
    (void)i;
    struct ctx *c = p;
    char *path;
    int fd = tmpf_mkstemp(&c->opts, &path);
    if (fd < 0)
        bench_die("tmpf_mkstemp");
    close(fd);
    unlink(path);
    free(path);
}

static void op_bare_file(void *p, long i)
{
    (void)i;
    struct ctx *c = p;
    const char *name = c->names[c->next++];
    int fd = open(name, O_RDWR | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
    if (fd < 0)
        bench_die("open");
    close(fd);
    unlink(name);
}

static void op_libc_file(void *p, long i)
{
    (void)i;
    struct ctx *c = p;
    char path[4096];
    memcpy(path, c->tmpl, c->tmpl_len + 1);
    int fd = mkostemp(path, O_CLOEXEC);
    if (fd < 0)
        bench_die("mkostemp");
    close(fd);
    unlink(path);
}

/* ---- directories -------------------------------------------------------- */

static void op_tmpf_dir(void *p, long i)
{
    (void)i;
    struct ctx *c = p;
    char *path = tmpf_mkdtemp(&c->opts);
    if (!path)
        bench_die("tmpf_mkdtemp");
    rmdir(path);
    free(path);
}

static void op_bare_dir(void *p, long i)
{
    (void)i;
    struct ctx *c = p;
    const char *name = c->names[c->next++];
    if (mkdir(name, 0700) != 0)
        bench_die("mkdir");
    rmdir(name);
}

static void op_libc_dir(void *p, long i)
{
    (void)i;
    struct ctx *c = p;
    char path[4096];
    memcpy(path, c->tmpl, c->tmpl_len + 1);
    if (!mkdtemp(path))
        bench_die("mkdtemp");
    rmdir(path);
}

/* Names like tmpf's (dir/tmp + 8 characters of its alphabet), all
 * distinct and never looked up before, so the bare calls get no help from
 * a cached directory entry: a counter from a random start, in base 37. */
static char **make_names(const char *dir, long n)
{
    static const char alphabet[] = "abcdefghijklmnopqrstuvwxyz0123456789_";
    char **v = malloc(sizeof *v * (size_t)n);
    if (!v)
        bench_die("malloc");
    unsigned long long start = (unsigned long long)bench_now_ns() * 2654435761u;
    start %= 37ULL * 37 * 37 * 37 * 37 * 37 * 37 * 37 / 2;
    size_t dl = strlen(dir);
    for (long k = 0; k < n; k++) {
        v[k] = malloc(dl + 1 + 3 + 8 + 1);
        if (!v[k])
            bench_die("malloc");
        memcpy(v[k], dir, dl);
        memcpy(v[k] + dl, "/tmp", 4);
        unsigned long long x = start + (unsigned long long)k;
        for (int j = 0; j < 8; j++, x /= 37)
            v[k][dl + 4 + j] = alphabet[x % 37];
        v[k][dl + 12] = '\0';
    }
    return v;
}

static void free_names(char **v, long n)
{
    for (long k = 0; k < n; k++)
        free(v[k]);
    free(v);
}

static void bench_dir_run(const char *dir, long iterations, int rounds)
{
    long total = iterations * rounds;
    struct ctx t = {.dir = dir, .opts = {.dir = dir}};
    struct ctx b = {.dir = dir};
    struct ctx l = {.dir = dir};
    l.tmpl_len = (size_t)snprintf(l.tmpl, sizeof l.tmpl, "%s/tmpXXXXXX", dir);

    char title[4200];
    snprintf(title, sizeof title, "create + cleanup in %s (%ld x %d rounds)", dir,
             iterations, rounds);
    bench_header(title);

    double out[3];
    b.names = make_names(dir, total);
    b.count = total;
    {
        bench_op ops[3] = {op_tmpf_file, op_bare_file, op_libc_file};
        void *ctxs[3] = {&t, &b, &l};
        bench_interleaved(3, ops, ctxs, iterations, rounds, out);
    }
    bench_row("tmpf_mkstemp + close + unlink", out[0],
              "bare open(O_EXCL) + close + unlink", out[1]);
    bench_row("tmpf_mkstemp + close + unlink", out[0],
              LIBC " mkostemp + close + unlink", out[2]);

    b.next = 0;
    {
        bench_op ops[3] = {op_tmpf_dir, op_bare_dir, op_libc_dir};
        void *ctxs[3] = {&t, &b, &l};
        bench_interleaved(3, ops, ctxs, iterations, rounds, out);
    }
    bench_row("tmpf_mkdtemp + rmdir", out[0], "bare mkdir + rmdir", out[1]);
    bench_row("tmpf_mkdtemp + rmdir", out[0], LIBC " mkdtemp + rmdir", out[2]);
    free_names(b.names, total);
}

/* ---- Python ------------------------------------------------------------- */

/* Median ns per call of Python's tempfile.mkstemp (kind "file") or
 * mkdtemp ("dir") in dir, or -1 when python3 is missing. */
static double python_ns(const char *kind, const char *dir, long number)
{
    char cmd[8192];
    snprintf(cmd, sizeof cmd,
             "python3 - '%s' '%s' %ld 2>/dev/null <<'EOF'\n"
             "import os, sys, statistics, tempfile, timeit\n"
             "kind, d, n = sys.argv[1], sys.argv[2], int(sys.argv[3])\n"
             "def f():\n"
             "    fd, p = tempfile.mkstemp(dir=d); os.close(fd); os.unlink(p)\n"
             "def g():\n"
             "    os.rmdir(tempfile.mkdtemp(dir=d))\n"
             "op = f if kind == 'file' else g\n"
             "t = timeit.repeat(op, number=n, repeat=7)\n"
             "print(statistics.median(t) / n * 1e9)\n"
             "EOF",
             kind, dir, number);
    return bench_command_ns(cmd);
}

static void bench_python(const char *dir, long iterations, int rounds)
{
    double py_file = python_ns("file", dir, iterations);
    if (py_file < 0) {
        bench_note("create: python3 not available, Python rows skipped");
        return;
    }
    double py_dir = python_ns("dir", dir, iterations);
    struct ctx t = {.dir = dir, .opts = {.dir = dir}};
    double ours_file = bench_median_ns(op_tmpf_file, &t, iterations, rounds);
    double ours_dir = bench_median_ns(op_tmpf_dir, &t, iterations, rounds);
    char title[4200];
    snprintf(title, sizeof title, "against Python's tempfile in %s", dir);
    bench_header(title);
    bench_row("tmpf_mkstemp + close + unlink", ours_file,
              "Python mkstemp + close + unlink", py_file);
    bench_row("tmpf_mkdtemp + rmdir", ours_dir, "Python mkdtemp + rmdir", py_dir);
}

/* ---- threads ------------------------------------------------------------ */

struct worker {
    bench_op op;
    struct ctx *c;
    long n;
    pthread_barrier_t *start;
};

static void *worker_main(void *arg)
{
    struct worker *w = arg;
    pthread_barrier_wait(w->start);
    for (long i = 0; i < w->n; i++)
        w->op(w->c, i);
    return NULL;
}

/* Operations per second of `threads` threads doing n operations each, one
 * context per thread. */
static double run_threads(bench_op op, struct ctx *c, int threads, long n)
{
    pthread_barrier_t start;
    pthread_barrier_init(&start, NULL, (unsigned)threads + 1);
    pthread_t th[2];
    struct worker w[2];
    for (int k = 0; k < threads; k++) {
        w[k] = (struct worker){op, &c[k], n, &start};
        if (pthread_create(&th[k], NULL, worker_main, &w[k]) != 0)
            bench_die("pthread_create");
    }
    pthread_barrier_wait(&start);
    double t0 = bench_now_ns();
    for (int k = 0; k < threads; k++)
        pthread_join(th[k], NULL);
    double t = (bench_now_ns() - t0) / 1e9;
    pthread_barrier_destroy(&start);
    return (double)threads * (double)n / t;
}

/* One thread against two in the same directory, for tmpf and for the bare
 * calls (which shows what the kernel and the machine allow). */
static void bench_threads(const char *dir, long n, int rounds)
{
    struct ctx t[2] = {{.dir = dir, .opts = {.dir = dir}},
                       {.dir = dir, .opts = {.dir = dir}}};
    struct ctx b[2] = {{.dir = dir}, {.dir = dir}};
    for (int k = 0; k < 2; k++) {
        b[k].names = make_names(dir, 2 * n * rounds);
        b[k].count = 2 * n * rounds;
    }
    double *v = malloc(sizeof(double) * (size_t)rounds * 6);
    if (!v)
        bench_die("malloc");
    double *t1 = v, *t2 = v + rounds, *tr = v + 2 * rounds;
    double *b1 = v + 3 * rounds, *b2 = v + 4 * rounds, *br = v + 5 * rounds;
    for (int r = 0; r < rounds; r++) {
        t1[r] = run_threads(op_tmpf_file, t, 1, n);
        b1[r] = run_threads(op_bare_file, b, 1, n);
        t2[r] = run_threads(op_tmpf_file, t, 2, n);
        b2[r] = run_threads(op_bare_file, b, 2, n);
        tr[r] = t2[r] / t1[r];
        br[r] = b2[r] / b1[r];
    }
    printf("\n## two threads creating in one directory (%s, %ld files per thread, "
           "%d rounds)\n\n",
           dir, n, rounds);
    printf("| create+close+unlink | 1 thread (ops/s) | 2 threads (ops/s) | "
           "median ratio | min..max ratio |\n");
    printf("|---|---:|---:|---:|---:|\n");
    double m1 = bench_median(t1, rounds), m2 = bench_median(t2, rounds);
    double tmr = bench_median(tr, rounds);
    printf("| tmpf_mkstemp | %.0f | %.0f | %.2fx | %.2fx..%.2fx |\n", m1, m2, tmr,
           tr[0], tr[rounds - 1]);
    m1 = bench_median(b1, rounds);
    m2 = bench_median(b2, rounds);
    double bmr = bench_median(br, rounds);
    printf("| bare open(O_EXCL) | %.0f | %.0f | %.2fx | %.2fx..%.2fx |\n", m1, m2, bmr,
           br[0], br[rounds - 1]);
    bench_note("create: two threads creating in one directory do %.2fx the work of one "
               "with tmpf_mkstemp, %.2fx with the bare calls (median of %d rounds)",
               tmr, bmr, rounds);
    free(v);
    for (int k = 0; k < 2; k++)
        free_names(b[k].names, b[k].count);
}

int main(int argc, char **argv)
{
    long iterations = argc > 1 ? atol(argv[1]) : 2000;
    int rounds = argc > 2 ? atoi(argv[2]) : 21;
    if (iterations < 1 || rounds < 1) {
        fprintf(stderr, "usage: bench_create [iterations [rounds]]\n");
        return 2;
    }
    const char *shm = bench_dir();
    const char *deflt = tmpf_gettempdir();
    if (!deflt)
        bench_die("tmpf_gettempdir");

    printf("# bench_create: %s mkstemp/mkdtemp vs tmpf\n", LIBC);
    bench_dir_run(shm, iterations, rounds);
    if (strcmp(deflt, shm) != 0) /* /tmp is slow and noisy here: keep it small */
        bench_dir_run(deflt, iterations / 4 > 0 ? iterations / 4 : 1,
                      rounds > 11 ? 11 : rounds);
    bench_python(shm, iterations, rounds > 11 ? 11 : rounds);
    bench_threads(shm, iterations * 2, rounds > 11 ? 11 : rounds);
    return 0;
}
