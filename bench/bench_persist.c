/*
 * Atomic replace of a 4 KiB file: tmpf_write_atomic against the
 * hand-written sequence with a precomputed temporary name
 *   open(tmp, O_CREAT|O_EXCL) + write [+ fsync] + rename
 *   [+ open(dir) + fsync(dir) + close(dir)] + close
 * consistent (no fsync) and durable (TMPF_DURABLE: fsync file and
 * directory), on tmpfs (bench_dir()) and on the default temporary
 * directory, where fsync really reaches the disk. Also counts the fsyncs
 * each makes. A third candidate adds what tmpf_write_atomic does beyond
 * the bare sequence: stat the target and fchmod to its permission bits. GLib's g_file_set_contents_full is not built in (tmpf takes
 * no GLib dependency); see docs/benchmarks/persist.md.
 */
#include "bench.h"

#include <tmpf.h>

#include <errno.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

/* Internal: fsyncs made by the library (src/unix/persist_os.c). */
extern unsigned long tmpf__test_fsync_count(void);

#define SIZE 4096

struct ctx {
    char dir[4096];
    char target[4200];
    char tmp[4300];
    char data[SIZE];
    unsigned flags;
    bool keep_mode; /* also stat the target and fchmod like tmpf does */
    unsigned long hand_fsyncs;
    int errors;
};

static void op_tmpf(void *p, long i)
{
    (void)i;
    struct ctx *c = p;
    if (tmpf_write_atomic(c->target, c->data, SIZE, c->flags) != 0)
        c->errors++;
}

static void op_hand(void *p, long i)
{
    (void)i;
    struct ctx *c = p;
    struct stat st;
    if (c->keep_mode && stat(c->target, &st) != 0)
        c->errors++;
    int fd = open(c->tmp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
    if (fd < 0) {
        c->errors++;
        return;
    }
    if (write(fd, c->data, SIZE) != SIZE)
        c->errors++;
    if (c->keep_mode && fchmod(fd, st.st_mode & 0777) != 0)
        c->errors++;
    bool durable = c->flags & TMPF_DURABLE;
    if (durable) {
        c->hand_fsyncs++;
        if (fsync(fd) != 0)
            c->errors++;
    }
    if (rename(c->tmp, c->target) != 0)
        c->errors++;
    if (durable) {
        int dfd = open(c->dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        c->hand_fsyncs++;
        if (dfd < 0 || fsync(dfd) != 0)
            c->errors++;
        if (dfd >= 0)
            close(dfd);
    }
    close(fd);
}

static void run(const char *where, const char *dir, unsigned flags, long iters,
                int rounds)
{
    static struct ctx cs[3];
    for (int k = 0; k < 3; k++) {
        struct ctx *c = &cs[k];
        memset(c, 0, sizeof *c);
        snprintf(c->dir, sizeof c->dir, "%s", dir);
        snprintf(c->target, sizeof c->target, "%s/bench-persist-%d-%d", dir,
                 (int)getpid(), k);
        snprintf(c->tmp, sizeof c->tmp, "%s/bench-persist-%d-%d.tmp", dir,
                 (int)getpid(), k);
        memset(c->data, 'a' + k, SIZE);
        c->flags = flags;
        c->keep_mode = k == 2;
        /* The target exists: this is a replace. */
        op_hand(c, 0);
        c->hand_fsyncs = 0;
    }
    bench_op ops[3] = {op_tmpf, op_hand, op_hand};
    void *ctxs[3] = {&cs[0], &cs[1], &cs[2]};
    double ns[3] = {0, 0, 0};
    unsigned long f0 = tmpf__test_fsync_count();
    bench_interleaved(3, ops, ctxs, iters, rounds, ns);
    double per = (double)(iters * rounds);
    double ours = (double)(tmpf__test_fsync_count() - f0) / per;
    char what[256], base[256];
    bool durable = flags & TMPF_DURABLE;
    snprintf(what, sizeof what, "%s: tmpf_write_atomic 4 KiB, %s (%.0f fsync)",
             where, durable ? "durable" : "consistent", ours);
    snprintf(base, sizeof base, "hand-written%s (%.0f fsync)",
             durable ? " + fsync file + fsync dir" : ", no fsync",
             (double)cs[1].hand_fsyncs / per);
    bench_row(what, ns[0], base, ns[1]);
    snprintf(base, sizeof base, "same + stat target + fchmod (%.0f fsync)",
             (double)cs[2].hand_fsyncs / per);
    bench_row(what, ns[0], base, ns[2]);
    for (int k = 0; k < 3; k++) {
        if (cs[k].errors)
            printf("\n**errors in candidate %d: %d**\n", k, cs[k].errors);
        unlink(cs[k].target);
    }
}

int main(void)
{
    const char *shm = bench_dir();
    const char *tmp = tmpf_gettempdir();
    bench_header("Atomic replace (tmpf_write_atomic)");
    run(shm, shm, 0, 1000, 15);
    run(shm, shm, TMPF_DURABLE, 1000, 15);
    if (tmp && strcmp(tmp, shm) != 0) {
        run(tmp, tmp, 0, 300, 9);
        run(tmp, tmp, TMPF_DURABLE, 10, 9);
    }
    printf("\nGLib g_file_set_contents_full: not measured (no GLib build "
           "dependency).\n");
    return 0;
}
