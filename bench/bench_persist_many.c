/*
 * Issue 20's batches and trees:
 *  - 100 replaces of 4 KiB files in one directory: tmpf_write_atomic_many
 *    against 100 sequential tmpf_write_atomic calls, durable (bar: at most
 *    0.6x on /tmp) and not (bar: within 1.05x), on the default temporary
 *    directory (where fsync reaches a disk) and on bench_dir() (tmpfs);
 *  - tmpf_dir_persist of a 1,000-file tree over an existing one against
 *    rename(target, old) + rename(new, target) + removal of old (the same
 *    walk, tmpf_rmtree), which is not atomic (bar: within 1.1x). Building
 *    the trees is not timed.
 * Rounds interleaved; medians.
 */
#include "bench.h"

#include <tmpf.h>

#include <errno.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#define FILES 100
#define SIZE 4096
#define TREE_FILES 1000

struct batch {
    tmpf_write w[FILES];
    unsigned flags;
};

static char data[FILES][SIZE];

static void op_many(void *p, long i)
{
    (void)i;
    struct batch *b = p;
    if (tmpf_write_atomic_many(b->w, FILES, b->flags) != 0)
        bench_die("tmpf_write_atomic_many");
}

static void op_sequential(void *p, long i)
{
    (void)i;
    struct batch *b = p;
    for (int k = 0; k < FILES; k++)
        if (tmpf_write_atomic(b->w[k].target, b->w[k].data, b->w[k].size, b->flags) != 0)
            bench_die("tmpf_write_atomic");
}

static void batches(const char *where, const char *label, int rounds)
{
    char dir[4096];
    snprintf(dir, sizeof dir, "%s/tmpf-bench-many-XXXXXX", where);
    if (!mkdtemp(dir))
        bench_die("mkdtemp");
    static struct batch b;
    for (int k = 0; k < FILES; k++) {
        char *t = malloc(4200);
        snprintf(t, 4200, "%s/f%d", dir, k);
        memset(data[k], 'a' + k % 26, SIZE);
        b.w[k] = (tmpf_write){t, data[k], SIZE, 0};
    }
    for (int durable = 1; durable >= 0; durable--) {
        b.flags = durable ? TMPF_DURABLE : 0;
        op_many(&b, 0); /* the targets exist: every write replaces */
        bench_op ops[2] = {op_many, op_sequential};
        void *ctxs[2] = {&b, &b};
        double ns[2] = {0, 0};
        bench_interleaved(2, ops, ctxs, 1, rounds, ns);
        char what[200], base[200];
        snprintf(what, sizeof what, "%s: write_atomic_many, %d x 4 KiB%s", label, FILES,
                 durable ? ", durable" : "");
        snprintf(base, sizeof base, "%d sequential write_atomic%s", FILES,
                 durable ? ", durable" : "");
        bench_row(what, ns[0], base, ns[1]);
    }
    for (int k = 0; k < FILES; k++) {
        unlink(b.w[k].target);
        free((char *)b.w[k].target);
    }
    rmdir(dir);
}

/* A tree of TREE_FILES small files in 10 directories at path. */
static void fill_tree(const char *path)
{
    char p[4400];
    for (int d = 0; d < 10; d++) {
        snprintf(p, sizeof p, "%s/d%d", path, d);
        if (mkdir(p, 0755) != 0)
            bench_die("mkdir");
        for (int f = 0; f < TREE_FILES / 10; f++) {
            snprintf(p, sizeof p, "%s/d%d/f%d", path, d, f);
            int fd = open(p, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
            if (fd < 0 || write(fd, "0123456789abcdef", 16) != 16)
                bench_die("tree file");
            close(fd);
        }
    }
}

static void trees(const char *where, const char *label, int rounds)
{
    char dir[4096], target[4200], fresh[4200], old[4200];
    snprintf(dir, sizeof dir, "%s/tmpf-bench-tree-XXXXXX", where);
    if (!mkdtemp(dir))
        bench_die("mkdtemp");
    snprintf(target, sizeof target, "%s/site", dir);
    snprintf(fresh, sizeof fresh, "%s/fresh", dir);
    snprintf(old, sizeof old, "%s/old", dir);
    if (mkdir(target, 0755) != 0)
        bench_die("mkdir");
    fill_tree(target);
    double *ours = malloc(sizeof(double) * (size_t)rounds);
    double *theirs = malloc(sizeof(double) * (size_t)rounds);
    for (int r = 0; r < rounds; r++) {
        tmpf_dir *d = tmpf_temporary_directory(&(tmpf_opts){.dir = dir});
        if (!d)
            bench_die("tmpf_temporary_directory");
        fill_tree(tmpf_dir_path(d));
        double t0 = bench_now_ns();
        if (tmpf_dir_persist(d, target, 0) != 0)
            bench_die("tmpf_dir_persist");
        ours[r] = bench_now_ns() - t0;
        tmpf_dir_cleanup(d);

        if (mkdir(fresh, 0700) != 0)
            bench_die("mkdir");
        fill_tree(fresh);
        t0 = bench_now_ns();
        if (rename(target, old) != 0 || rename(fresh, target) != 0 ||
            tmpf_rmtree(old, 0) != 0)
            bench_die("rename + rmtree");
        theirs[r] = bench_now_ns() - t0;
    }
    char what[200];
    snprintf(what, sizeof what, "%s: dir_persist of a %d-file tree over one", label,
             TREE_FILES);
    bench_row(what, bench_median(ours, rounds), "rename + rename + rmtree (not atomic)",
              bench_median(theirs, rounds));
    free(ours);
    free(theirs);
    tmpf_rmtree(dir, 0);
}

int main(void)
{
    bench_header("Batches and trees (issue 20)");
    const char *shm = bench_dir();
    const char *tmp = tmpf_gettempdir();
    batches(tmp, tmp, 15);
    batches(shm, shm, 15);
    trees(shm, shm, 15);
    trees(tmp, tmp, 9);
    return 0;
}
