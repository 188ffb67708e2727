/* Recursive removal and empty temporary directories (issue 5).
 *
 * 1. A tree of 10,000 empty files in 100 directories, removed by
 *    tmpf_rmtree, by a plain openat/fdopendir/unlinkat walk written here
 *    (the bar: tmpf within 1.05x of it), by `rm -rf` (fork + exec, so its
 *    process start-up counts, as it does for a caller), by an
 *    nftw(FTW_DEPTH|FTW_PHYS) removal, and by Python's shutil.rmtree when
 *    python3 is on PATH. Python runs as one co-process for the whole
 *    benchmark: per round it builds its own tree and reports how long
 *    shutil.rmtree took, timed inside Python (perf_counter_ns), so
 *    interpreter start-up is excluded. Every candidate's tree is built
 *    before its timing starts (then 20 ms of rest); one tree per candidate
 *    per round, the candidates interleaved round by round in a fresh
 *    random order each round; the median per candidate is reported, and
 *    the median of the per-round ratios; once for wall time and once for
 *    CPU time (user + system of this process and of the waited-for rm;
 *    Python's own process_time_ns), which a loaded machine disturbs less.
 * 2. An empty temporary directory created and cleaned up
 *    (tmpf_temporary_directory + tmpf_dir_cleanup: mkdir, then one rmdir)
 *    against a bare mkdir + rmdir of a fixed name (the bar: 1.15x) and
 *    mkdtemp + rmdir.
 *
 * Usage: bench_rmtree [rounds] [iterations of part 2]
 */
#include "bench.h"

#include <tmpf.h>

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <signal.h>
#include <stdbool.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#define DIRS 100
#define FILES_PER_DIR 100

static const char *dir;
static int rounds = 11;
static long iterations = 4000;

/* ---- the tree ------------------------------------------------------------ */

static void build_tree(const char *root)
{
    if (mkdir(root, 0700) != 0)
        bench_die("mkdir root");
    int rfd = open(root, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (rfd < 0)
        bench_die("open root");
    for (int i = 0; i < DIRS; i++) {
        char name[32];
        snprintf(name, sizeof name, "d%02d", i);
        if (mkdirat(rfd, name, 0700) != 0)
            bench_die("mkdirat");
        int dfd = openat(rfd, name, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        if (dfd < 0)
            bench_die("openat");
        for (int k = 0; k < FILES_PER_DIR; k++) {
            char f[32];
            snprintf(f, sizeof f, "f%03d", k);
            int fd = openat(dfd, f, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
            if (fd < 0)
                bench_die("create");
            close(fd);
        }
        close(dfd);
    }
    close(rfd);
}

static void check_gone(const char *root, const char *who)
{
    struct stat st;
    if (lstat(root, &st) == 0 || errno != ENOENT) {
        fprintf(stderr, "%s left %s behind\n", who, root);
        exit(1);
    }
}

/* ---- the candidates --------------------------------------------------- */

static void rm_tmpf(const char *root)
{
    if (tmpf_rmtree(root, 0) != 0)
        bench_die("tmpf_rmtree");
}

/* The plain walk: recursive, descriptors only, no error handling beyond
 * giving up, no permission repair, no mount or identity checks. */
static int plain_at(int dfd, const char *name)
{
    int fd = openat(dfd, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
    if (fd < 0)
        return -1;
    DIR *d = fdopendir(fd);
    if (!d) {
        close(fd);
        return -1;
    }
    struct dirent *e;
    while ((e = readdir(d))) {
        if (e->d_name[0] == '.' &&
            (e->d_name[1] == 0 || (e->d_name[1] == '.' && e->d_name[2] == 0)))
            continue;
        if (e->d_type == DT_DIR)
            plain_at(fd, e->d_name);
        else
            unlinkat(fd, e->d_name, 0);
    }
    closedir(d);
    return unlinkat(dfd, name, AT_REMOVEDIR);
}

static void rm_plain(const char *root)
{
    /* Like tmpf_rmtree: open the parent, then work relative to it. */
    const char *slash = strrchr(root, '/');
    char parent[4096];
    snprintf(parent, sizeof parent, "%.*s", (int)(slash - root), root);
    int pfd = open(parent, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (pfd < 0 || plain_at(pfd, slash + 1) != 0)
        bench_die("plain walk");
    close(pfd);
}

static void rm_rf(const char *root)
{
    pid_t pid = fork();
    if (pid < 0)
        bench_die("fork");
    if (pid == 0) {
        execlp("rm", "rm", "-rf", "--", root, (char *)NULL);
        _exit(127);
    }
    int status;
    if (waitpid(pid, &status, 0) < 0 || !WIFEXITED(status) || WEXITSTATUS(status) != 0)
        bench_die("rm -rf");
}

static int nftw_remove(const char *p, const struct stat *sb, int flag, struct FTW *ftw)
{
    (void)sb;
    (void)ftw;
    return (flag == FTW_DP ? rmdir(p) : unlink(p)) ? -1 : 0;
}

static void rm_nftw(const char *root)
{
    if (nftw(root, nftw_remove, 64, FTW_DEPTH | FTW_PHYS) != 0)
        bench_die("nftw");
}

/* ---- Python's shutil.rmtree as a co-process ----------------------------- */

static const char python_script[] =
    "import os, shutil, sys, time\n"
    "base, dirs, files = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])\n"
    "n = 0\n"
    "for line in sys.stdin:\n"
    "    root = os.path.join(base, 'py%d' % n); n += 1\n"
    "    os.mkdir(root, 0o700)\n"
    "    for i in range(dirs):\n"
    "        d = os.path.join(root, 'd%02d' % i); os.mkdir(d, 0o700)\n"
    "        for k in range(files):\n"
    "            os.close(os.open(os.path.join(d, 'f%03d' % k),\n"
    "                             os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600))\n"
    "    time.sleep(0.02)\n"
    "    c0, t0 = time.process_time_ns(), time.perf_counter_ns()\n"
    "    shutil.rmtree(root)\n"
    "    t, c = time.perf_counter_ns() - t0, time.process_time_ns() - c0\n"
    "    if os.path.lexists(root): sys.exit('rmtree left ' + root)\n"
    "    print(t, c, flush=True)\n";

struct python {
    pid_t pid;
    FILE *to, *from;
};

static bool python_start(struct python *py, const char *base)
{
    int in[2], out[2];
    if (pipe2(in, O_CLOEXEC) != 0 || pipe2(out, O_CLOEXEC) != 0)
        bench_die("pipe");
    char dirs[16], files[16];
    snprintf(dirs, sizeof dirs, "%d", DIRS);
    snprintf(files, sizeof files, "%d", FILES_PER_DIR);
    fflush(NULL);
    py->pid = fork();
    if (py->pid < 0)
        bench_die("fork");
    if (py->pid == 0) {
        dup2(in[0], 0);
        dup2(out[1], 1);
        close(in[0]), close(in[1]), close(out[0]), close(out[1]);
        execlp("python3", "python3", "-c", python_script, base, dirs, files, (char *)NULL);
        _exit(127);
    }
    close(in[0]);
    close(out[1]);
    py->to = fdopen(in[1], "w");
    py->from = fdopen(out[0], "r");
    /* A first round proves it runs (and warms it up). */
    double ns, cpu;
    fprintf(py->to, "go\n");
    fflush(py->to);
    if (fscanf(py->from, "%lf %lf", &ns, &cpu) != 2) {
        fclose(py->to);
        fclose(py->from);
        waitpid(py->pid, NULL, 0);
        return false;
    }
    return true;
}

/* One round: wall and CPU ns of shutil.rmtree, measured inside Python. */
static void python_round(struct python *py, double *wall, double *cpu)
{
    fprintf(py->to, "go\n");
    fflush(py->to);
    if (fscanf(py->from, "%lf %lf", wall, cpu) != 2) {
        fprintf(stderr, "python co-process failed\n");
        exit(1);
    }
}

static void python_stop(struct python *py)
{
    fclose(py->to);
    fclose(py->from);
    waitpid(py->pid, NULL, 0);
}

/* ---- part 1 ------------------------------------------------------------- */

enum { C_TMPF, C_PLAIN, C_RM, C_NFTW, C_PYTHON, C_COUNT };
static const char *const cand_name[C_COUNT] = {
    "tmpf_rmtree", "plain openat/fdopendir/unlinkat walk", "rm -rf (fork+exec)",
    "nftw(FTW_DEPTH|FTW_PHYS) + unlink/rmdir", "Python shutil.rmtree",
};
static void (*const cand_fn[C_COUNT])(const char *) = {rm_tmpf, rm_plain, rm_rf, rm_nftw,
                                                       NULL};

/* Rows of one table: tmpf against every baseline, the others against
 * the plain walk; then the median of per-round ratios (the candidates of
 * one round ran within a second or two of each other, so a slow phase of
 * the machine mostly cancels out of their ratio). */
static void report(double *samples, int n)
{
    double paired[C_COUNT], ratio[256];
    int nr = rounds < 256 ? rounds : 256;
    for (int c = 0; c < n; c++) {
        for (int r = 0; r < nr; r++)
            ratio[r] = samples[C_TMPF * rounds + r] / samples[c * rounds + r];
        paired[c] = bench_median(ratio, nr);
    }
    double med[C_COUNT];
    for (int c = 0; c < n; c++)
        med[c] = bench_median(samples + c * rounds, rounds); /* sorts: last */
    for (int c = 1; c < n; c++)
        bench_row(cand_name[C_TMPF], med[C_TMPF], cand_name[c], med[c]);
    for (int c = 2; c < n; c++)
        bench_row(cand_name[c], med[c], cand_name[C_PLAIN], med[C_PLAIN]);
    printf("\nMedian of the per-round ratios tmpf_rmtree / baseline:\n\n"
           "| baseline | ratio |\n|---|---:|\n");
    for (int c = 1; c < n; c++)
        printf("| %s | %.3fx |\n", cand_name[c], paired[c]);
}

static double cpu_ns(void)
{
    /* This process and its waited-for children (rm): user + system. */
    struct rusage self, kids;
    getrusage(RUSAGE_SELF, &self);
    getrusage(RUSAGE_CHILDREN, &kids);
    return ((double)(self.ru_utime.tv_sec + self.ru_stime.tv_sec + kids.ru_utime.tv_sec +
                     kids.ru_stime.tv_sec) * 1e9 +
            (double)(self.ru_utime.tv_usec + self.ru_stime.tv_usec + kids.ru_utime.tv_usec +
                     kids.ru_stime.tv_usec) * 1e3);
}

static void part_trees(void)
{
    struct python py;
    bool have_python = python_start(&py, dir);
    int n = have_python ? C_COUNT : C_PYTHON;
    double *samples = malloc(sizeof(double) * (size_t)(C_COUNT * rounds));
    double *cpu = malloc(sizeof(double) * (size_t)(C_COUNT * rounds));
    if (!samples || !cpu)
        bench_die("malloc");
    unsigned seed = 1;
    for (int r = 0; r < rounds; r++) {
        /* A fresh order each round (Fisher-Yates, fixed seed): each
         * candidate follows each other one about equally often, so none
         * always pays for the kernel's deferred freeing of the tree its
         * predecessor removed. */
        int order[C_COUNT];
        for (int j = 0; j < n; j++)
            order[j] = j;
        for (int j = n - 1; j > 0; j--) {
            seed = seed * 1103515245u + 12345u;
            int k = (int)((seed >> 16) % (unsigned)(j + 1)), t = order[j];
            order[j] = order[k];
            order[k] = t;
        }
        for (int j = 0; j < n; j++) {
            int c = order[j];
            if (c == C_PYTHON) {
                python_round(&py, &samples[c * rounds + r], &cpu[c * rounds + r]);
                continue;
            }
            char root[4096];
            snprintf(root, sizeof root, "%s/bench-rmtree-%d-%d", dir, (int)getpid(), c);
            build_tree(root);
            usleep(20000); /* let the build's deferred work settle */
            double c0 = cpu_ns(), t0 = bench_now_ns();
            cand_fn[c](root);
            samples[c * rounds + r] = bench_now_ns() - t0;
            cpu[c * rounds + r] = cpu_ns() - c0;
            check_gone(root, cand_name[c]);
        }
    }
    if (have_python)
        python_stop(&py);
    bench_header("remove a tree of 10,000 files in 100 directories (wall time per tree)");
    report(samples, n);
    bench_header("the same, CPU time (user + system) per tree");
    report(cpu, n);
    free(samples);
    free(cpu);
    if (!have_python)
        printf("\n(python3 not found: no shutil.rmtree row)\n");
}

/* ---- part 2 ------------------------------------------------------------- */

static void op_tmpf_dir(void *ctx, long i)
{
    (void)i;
    tmpf_dir *d = tmpf_temporary_directory(ctx);
    if (!d)
        bench_die("tmpf_temporary_directory");
    if (tmpf_dir_cleanup(d) != 0)
        bench_die("tmpf_dir_cleanup");
}

static void op_mkdir_rmdir(void *ctx, long i)
{
    (void)i;
    if (mkdir(ctx, 0700) != 0 || rmdir(ctx) != 0)
        bench_die("mkdir+rmdir");
}

static void op_mkdtemp_rmdir(void *ctx, long i)
{
    (void)i;
    char tmpl[4096];
    snprintf(tmpl, sizeof tmpl, "%s/tmpXXXXXXXX", (const char *)ctx);
    if (!mkdtemp(tmpl) || rmdir(tmpl) != 0)
        bench_die("mkdtemp+rmdir");
}

static void part_empty_dir(void)
{
    char fixed[4096];
    snprintf(fixed, sizeof fixed, "%s/bench-rmtree-empty-%d", dir, (int)getpid());
    tmpf_opts o = {.dir = dir};
    bench_op ops[] = {op_tmpf_dir, op_mkdir_rmdir, op_mkdtemp_rmdir};
    void *ctxs[] = {&o, fixed, (void *)dir};
    double ns[3];
    bench_interleaved(3, ops, ctxs, iterations, rounds * 2 + 1, ns);
    bench_header("empty temporary directory: create + clean up");
    bench_row("tmpf_temporary_directory + tmpf_dir_cleanup", ns[0], "bare mkdir + rmdir",
              ns[1]);
    bench_row("tmpf_temporary_directory + tmpf_dir_cleanup", ns[0], "mkdtemp + rmdir",
              ns[2]);
}

int main(int argc, char **argv)
{
    if (argc > 1)
        rounds = atoi(argv[1]);
    if (argc > 2)
        iterations = atol(argv[2]);
    if (rounds < 1 || iterations < 1) {
        fprintf(stderr, "usage: bench_rmtree [rounds] [iterations]\n");
        return 2;
    }
    signal(SIGPIPE, SIG_IGN);
    dir = bench_dir();
    printf("# bench_rmtree: %d rounds (trees), %ld x %d rounds (empty dirs), in %s\n",
           rounds, iterations, rounds * 2 + 1, dir);
    part_trees();
    part_empty_dir();
    return 0;
}
