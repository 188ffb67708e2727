/* Crash safety (docs/benchmarks/crash.md): what the registry, the guard
 * and TMPF_LOCK cost a named create+cleanup, and how fast the emergency
 * cleanup and tmpf_sweep are against rm -rf and find -delete.
 *
 *   bench_crash [iterations [rounds]]
 *
 * 1. named create+cleanup, guard off, against the bare calls (interleaved);
 * 2. the same with TMPF_LOCK, against bare open+flock(LOCK_SH)+close+unlink;
 * 3. tmpf_emergency_cleanup of 1,000 live named files and of 10 directories
 *    of 100 files, against `rm -rf` of the same (a process, as a shell
 *    trap would run it) and against a plain unlink loop;
 * 4. tmpf_sweep of a 10,000-entry directory against `find DIR -delete`;
 * 5. last (it cannot be stopped): the guard on, named create+cleanup
 *    against the bare calls again. */
#include "bench.h"

#include <fcntl.h>
#include <stdint.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <tmpf.h>
#include <unistd.h>

static long iterations = 2000;
static int rounds = 21;
static const char *dir;

struct names {
    char *buf;
    size_t stride;
    long next, count;
};

static void names_init(struct names *n, const char *in, const char *prefix, long count)
{
    n->stride = strlen(in) + 1 + strlen(prefix) + 8 + 1;
    n->count = count;
    n->next = 0;
    n->buf = malloc(n->stride * (size_t)count);
    if (!n->buf)
        bench_die("malloc");
    static const char alphabet[] = "abcdefghijklmnopqrstuvwxyz0123456789_";
    static uint64_t x = 0x9e3779b97f4a7c15u;
    x ^= (uint64_t)getpid();
    for (long k = 0; k < count; k++) {
        char *p = n->buf + (size_t)k * n->stride;
        int len = sprintf(p, "%s/%s", in, prefix);
        for (int c = 0; c < 8; c++) {
            x ^= x << 13, x ^= x >> 7, x ^= x << 17;
            p[len + c] = alphabet[x % 37];
        }
        p[len + 8] = '\0';
    }
}

static const char *next_name(struct names *n)
{
    return n->buf + (size_t)(n->next++ % n->count) * n->stride;
}

static void op_tmpf_named(void *ctx, long i)
{
    (void)i;
    tmpf_file *f = tmpf_named_temporary_file(ctx);
    if (!f)
        bench_die("tmpf_named_temporary_file");
    tmpf_file_cleanup(f);
}

static void op_bare_named(void *ctx, long i)
{
    (void)i;
    const char *path = next_name(ctx);
    int fd = open(path, O_RDWR | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
    if (fd < 0)
        bench_die("open(O_CREAT|O_EXCL)");
    close(fd);
    unlink(path);
}

static void op_bare_named_flock(void *ctx, long i)
{
    (void)i;
    const char *path = next_name(ctx);
    int fd = open(path, O_RDWR | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
    if (fd < 0 || flock(fd, LOCK_SH) != 0)
        bench_die("open+flock");
    close(fd);
    unlink(path);
}

static void named_vs_bare(const char *title, const char *what, tmpf_opts *o)
{
    struct names names;
    names_init(&names, dir, "tmp", iterations * rounds);
    double r[2];
    bench_interleaved(2, (bench_op[]){op_tmpf_named, op_bare_named},
                      (void *[]){o, &names}, iterations, rounds, r);
    bench_header(title);
    bench_row(what, r[0], "bare open(O_EXCL) + close + unlink", r[1]);
    free(names.buf);
}

/* ---- emergency cleanup ------------------------------------------------- */

static double run_cmd_ns(const char *cmd)
{
    double t0 = bench_now_ns();
    if (system(cmd) != 0)
        bench_die(cmd);
    return bench_now_ns() - t0;
}

static void make_bare_files(const char *in, int n)
{
    struct names names;
    names_init(&names, in, "tmp", n);
    for (int k = 0; k < n; k++) {
        int fd = open(next_name(&names), O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
        if (fd < 0)
            bench_die("open");
        close(fd);
    }
    free(names.buf);
}

static void emergency(int emergency_rounds)
{
    char sub[4096], cmd[8300];
    snprintf(sub, sizeof sub, "%s/tmpf-bench-crash-%d", dir, (int)getpid());
    double *t_em = malloc(sizeof(double) * (size_t)emergency_rounds);
    double *t_rm = malloc(sizeof(double) * (size_t)emergency_rounds);
    double *t_ul = malloc(sizeof(double) * (size_t)emergency_rounds);
    double *t_emd = malloc(sizeof(double) * (size_t)emergency_rounds);
    double *t_rmd = malloc(sizeof(double) * (size_t)emergency_rounds);
    tmpf_file **files = malloc(sizeof *files * 1000);
    if (!t_em || !t_rm || !t_ul || !t_emd || !t_rmd || !files)
        bench_die("malloc");
    for (int r = 0; r < emergency_rounds; r++) {
        if (mkdir(sub, 0700) != 0)
            bench_die("mkdir");
        tmpf_opts o = {.dir = sub};
        /* 1,000 named files, closed (KEEP_AFTER_CLOSE: no descriptors). */
        o.flags = TMPF_KEEP_AFTER_CLOSE;
        for (int k = 0; k < 1000; k++) {
            files[k] = tmpf_named_temporary_file(&o);
            if (!files[k] || tmpf_file_close(files[k]) != 0)
                bench_die("tmpf_named_temporary_file");
        }
        double t0 = bench_now_ns();
        if (tmpf_emergency_cleanup() != 1000)
            bench_die("tmpf_emergency_cleanup");
        t_em[r] = (bench_now_ns() - t0) / 1000;
        for (int k = 0; k < 1000; k++)
            tmpf_file_cleanup(files[k]);

        /* The same as a shell trap's rm -rf would remove them. */
        make_bare_files(sub, 1000);
        snprintf(cmd, sizeof cmd, "rm -rf %s/*", sub);
        t_rm[r] = run_cmd_ns(cmd) / 1000;

        /* A plain unlink loop over names known in advance. */
        struct names names;
        names_init(&names, sub, "tmp", 1000);
        for (int k = 0; k < 1000; k++) {
            int fd = open(names.buf + (size_t)k * names.stride,
                          O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
            if (fd < 0)
                bench_die("open");
            close(fd);
        }
        t0 = bench_now_ns();
        for (int k = 0; k < 1000; k++)
            unlink(names.buf + (size_t)k * names.stride);
        t_ul[r] = (bench_now_ns() - t0) / 1000;
        free(names.buf);

        /* 10 temporary directories of 100 files each. */
        tmpf_dir *dirs[10];
        o.flags = 0;
        for (int k = 0; k < 10; k++) {
            dirs[k] = tmpf_temporary_directory(&o);
            if (!dirs[k])
                bench_die("tmpf_temporary_directory");
            make_bare_files(tmpf_dir_path(dirs[k]), 100);
        }
        t0 = bench_now_ns();
        if (tmpf_emergency_cleanup() != 10)
            bench_die("tmpf_emergency_cleanup (dirs)");
        t_emd[r] = (bench_now_ns() - t0) / 1010;
        for (int k = 0; k < 10; k++)
            tmpf_dir_cleanup(dirs[k]);
        for (int k = 0; k < 10; k++) {
            char d[4200];
            snprintf(d, sizeof d, "%s/d%d", sub, k);
            if (mkdir(d, 0700) != 0)
                bench_die("mkdir");
            make_bare_files(d, 100);
        }
        snprintf(cmd, sizeof cmd, "rm -rf %s/*", sub);
        t_rmd[r] = run_cmd_ns(cmd) / 1010;
        if (rmdir(sub) != 0)
            bench_die("rmdir");
    }
    bench_header("emergency cleanup (per entry removed)");
    bench_row("tmpf_emergency_cleanup, 1,000 named files",
              bench_median(t_em, emergency_rounds), "rm -rf DIR/* (a process)",
              bench_median(t_rm, emergency_rounds));
    bench_row("tmpf_emergency_cleanup, 1,000 named files",
              bench_median(t_em, emergency_rounds), "unlink loop, names known",
              bench_median(t_ul, emergency_rounds));
    bench_row("tmpf_emergency_cleanup, 10 directories x 100 files",
              bench_median(t_emd, emergency_rounds), "rm -rf DIR/* (a process)",
              bench_median(t_rmd, emergency_rounds));
    free(t_em), free(t_rm), free(t_ul), free(t_emd), free(t_rmd), free(files);
}

/* ---- sweep ------------------------------------------------------------- */

static void sweep(int sweep_rounds)
{
    char sub[4096], cmd[8300];
    snprintf(sub, sizeof sub, "%s/tmpf-bench-sweep-%d", dir, (int)getpid());
    double *t_sw = malloc(sizeof(double) * (size_t)sweep_rounds);
    double *t_find = malloc(sizeof(double) * (size_t)sweep_rounds);
    if (!t_sw || !t_find)
        bench_die("malloc");
    for (int r = 0; r < sweep_rounds; r++) {
        if (mkdir(sub, 0700) != 0)
            bench_die("mkdir");
        make_bare_files(sub, 10000);
        double t0 = bench_now_ns();
        long n = tmpf_sweep(&(tmpf_opts){.dir = sub, .prefix = "tmp"}, 0);
        t_sw[r] = (bench_now_ns() - t0) / 10000;
        if (n != 10000)
            bench_die("tmpf_sweep");
        make_bare_files(sub, 10000);
        snprintf(cmd, sizeof cmd, "find %s -mindepth 1 -delete", sub);
        t_find[r] = run_cmd_ns(cmd) / 10000;
        if (rmdir(sub) != 0)
            bench_die("rmdir");
    }
    bench_header("sweep of a 10,000-entry directory (per entry)");
    bench_row("tmpf_sweep (stat, open, flock, unlink each)",
              bench_median(t_sw, sweep_rounds), "find DIR -mindepth 1 -delete",
              bench_median(t_find, sweep_rounds));
    free(t_sw), free(t_find);
}

int main(int argc, char **argv)
{
    if (argc > 1)
        iterations = atol(argv[1]);
    if (argc > 2)
        rounds = atoi(argv[2]);
    dir = bench_dir();
    tmpf_opts plain = {.dir = dir};
    tmpf_opts locked = {.dir = dir, .flags = TMPF_LOCK};
    for (int i = 0; i < 200; i++)
        op_tmpf_named(&plain, i);
    printf("\n# bench_crash: %s, %ld calls x %d rounds, medians\n", dir,
           iterations, rounds);

    named_vs_bare("named create+cleanup, crash guard off", "tmpf_named_temporary_file + cleanup",
                  &plain);

    struct names names;
    names_init(&names, dir, "tmp", iterations * rounds * 2);
    double r[3];
    bench_interleaved(3, (bench_op[]){op_tmpf_named, op_bare_named_flock, op_bare_named},
                      (void *[]){&locked, &names, &names}, iterations, rounds, r);
    bench_header("TMPF_LOCK");
    bench_row("tmpf_named_temporary_file(TMPF_LOCK) + cleanup", r[0],
              "bare open(O_EXCL) + flock(LOCK_SH) + close + unlink", r[1]);
    bench_row("tmpf_named_temporary_file(TMPF_LOCK) + cleanup", r[0],
              "bare open(O_EXCL) + close + unlink (no lock)", r[2]);
    free(names.buf);

    int few = rounds < 7 ? rounds : 7;
    emergency(few);
    sweep(few < 5 ? few : 5);

    if (tmpf_crash_guard() != 0)
        bench_die("tmpf_crash_guard");
    named_vs_bare("named create+cleanup, crash guard on", "tmpf_named_temporary_file + cleanup",
                  &plain);
    return 0;
}
