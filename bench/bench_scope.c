/* Scopes: what registration costs. A named file created and cleaned with
 * and without a scope (and with TMPF_AT_EXIT), and the same for an
 * in-memory spooled file, where no system call hides it; a batch of mkstemp files
 * removed by one tmpf_scope_cleanup against the caller's own list of
 * paths and unlink loop (the seeds' TempFileManager); and two threads
 * registering into one shared scope against two private ones (the
 * per-scope lock under contention). Usage: bench_scope [iterations] [rounds] */
#include "bench.h"

#include <tmpf.h>

#include <pthread.h>
#include <unistd.h>

static const char *dir;
static long iterations = 2000;
static int rounds = 15;

#define BATCH 100

/* ---- one named file ------------------------------------------------------ */

static void op_named(void *ctx, long i)
{
    (void)i;
    tmpf_file *f = tmpf_named_temporary_file(ctx);
    if (!f)
        bench_die("tmpf_named_temporary_file");
    tmpf_file_cleanup(f);
}

/* No system call at all: isolates the registration itself. */
static void op_spooled(void *ctx, long i)
{
    (void)i;
    tmpf_file *f = tmpf_spooled_temporary_file(ctx);
    if (!f)
        bench_die("tmpf_spooled_temporary_file");
    tmpf_file_cleanup(f);
}

/* ---- a batch: scope cleanup vs the caller's own list --------------------- */

static void op_batch_scope(void *ctx, long i)
{
    (void)ctx, (void)i;
    tmpf_scope *s = tmpf_scope_new(0);
    if (!s)
        bench_die("tmpf_scope_new");
    for (int k = 0; k < BATCH; k++) {
        int fd = tmpf_mkstemp(&(tmpf_opts){.dir = dir, .scope = s}, NULL);
        if (fd < 0)
            bench_die("tmpf_mkstemp");
        close(fd);
    }
    if (tmpf_scope_cleanup(s) != 0)
        bench_die("tmpf_scope_cleanup");
}

static void op_batch_by_hand(void *ctx, long i)
{
    (void)ctx, (void)i;
    char *paths[BATCH];
    for (int k = 0; k < BATCH; k++) {
        int fd = tmpf_mkstemp(&(tmpf_opts){.dir = dir}, &paths[k]);
        if (fd < 0)
            bench_die("tmpf_mkstemp");
        close(fd);
    }
    for (int k = BATCH - 1; k >= 0; k--) {
        unlink(paths[k]);
        free(paths[k]);
    }
}

/* ---- two threads --------------------------------------------------------- */

struct worker {
    tmpf_scope *s;
    long n;
};

static void *worker_main(void *arg)
{
    struct worker *w = arg;
    for (long k = 0; k < w->n; k++) {
        int fd = tmpf_mkstemp(&(tmpf_opts){.dir = dir, .scope = w->s}, NULL);
        if (fd < 0)
            bench_die("tmpf_mkstemp");
        close(fd);
    }
    return NULL;
}

/* Wall time per registration of two threads making n files each, into one
 * scope (shared) or one scope each; cleanup is not timed. */
static double two_threads(bool shared, long n)
{
    tmpf_scope *a = tmpf_scope_new(0), *b = shared ? a : tmpf_scope_new(0);
    if (!a || !b)
        bench_die("tmpf_scope_new");
    struct worker w[2] = {{a, n}, {b, n}};
    pthread_t t[2];
    double t0 = bench_now_ns();
    for (int k = 0; k < 2; k++)
        if (pthread_create(&t[k], NULL, worker_main, &w[k]) != 0)
            bench_die("pthread_create");
    for (int k = 0; k < 2; k++)
        pthread_join(t[k], NULL);
    double ns = (bench_now_ns() - t0) / (double)(2 * n);
    tmpf_scope_cleanup(a);
    if (!shared)
        tmpf_scope_cleanup(b);
    return ns;
}

int main(int argc, char **argv)
{
    if (argc > 1)
        iterations = atol(argv[1]);
    if (argc > 2)
        rounds = atoi(argv[2]);
    dir = bench_dir();
    tmpf_scope *s = tmpf_scope_new(0);
    if (!s)
        bench_die("tmpf_scope_new");
    printf("# bench_scope: %ld iterations x %d rounds in %s\n", iterations, rounds, dir);

    tmpf_opts plain = {.dir = dir}, scoped = {.dir = dir, .scope = s},
              at_exit = {.dir = dir, .flags = TMPF_AT_EXIT};
    bench_op ops[] = {op_named, op_named, op_named};
    void *ctxs[] = {&plain, &scoped, &at_exit};
    double ns[3];
    bench_interleaved(3, ops, ctxs, iterations, rounds, ns);
    bench_header("named file create + cleanup: registration cost");
    bench_row("in a scope (joins, leaves on cleanup)", ns[1], "no scope", ns[0]);
    bench_row("TMPF_AT_EXIT", ns[2], "no scope", ns[0]);

    tmpf_opts sp_plain = {.dir = dir, .max_size = 4096},
              sp_scoped = {.dir = dir, .max_size = 4096, .scope = s},
              sp_exit = {.dir = dir, .max_size = 4096, .flags = TMPF_AT_EXIT};
    bench_op sp_ops[] = {op_spooled, op_spooled, op_spooled};
    void *sp_ctxs[] = {&sp_plain, &sp_scoped, &sp_exit};
    bench_interleaved(3, sp_ops, sp_ctxs, iterations * 10, rounds, ns);
    bench_header("spooled file (in memory) create + cleanup: registration alone");
    bench_row("in a scope", ns[1], "no scope", ns[0]);
    bench_row("TMPF_AT_EXIT", ns[2], "no scope", ns[0]);

    bench_op batch_ops[] = {op_batch_scope, op_batch_by_hand};
    void *batch_ctxs[] = {NULL, NULL};
    double bns[2];
    long batches = iterations / BATCH > 0 ? iterations / BATCH : 1;
    bench_interleaved(2, batch_ops, batch_ctxs, batches, rounds, bns);
    bench_header("100 mkstemp files, then remove them all (per file)");
    bench_row("scope + tmpf_scope_cleanup", bns[0] / BATCH,
              "own path list + unlink loop", bns[1] / BATCH);

    double shared[64], priv[64];
    int r2 = rounds < 64 ? rounds : 64;
    for (int r = 0; r < r2; r++) {
        shared[r] = two_threads(true, iterations);
        priv[r] = two_threads(false, iterations);
    }
    bench_header("2 threads x mkstemp into scopes (wall time per file)");
    bench_row("one shared scope", bench_median(shared, r2), "a scope per thread",
              bench_median(priv, r2));

    tmpf_scope_cleanup(s);
    return 0;
}
