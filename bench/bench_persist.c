/*
 * Atomic replace of an existing file: tmpf_write_atomic against, in the
 * same interleaved rounds,
 *  - hand-written: the bare sequence with a precomputed temporary name
 *      open(tmp, O_CREAT|O_EXCL, 0644) + write [+ fsync] + rename
 *      [+ open(dir) + fsync(dir) + close(dir)] + close
 *    (the bar: within 1.05x, same number of fsyncs);
 *  - the same keeping the target's permission bits, as tmpf_write_atomic
 *    must: + stat(target), open with its bits (the least any
 *    mode-keeping sequence does: one path lookup more);
 *  - the hand-written sequence as C programs usually write it: the
 *    temporary from the C library's mkstemp (a fresh name per write, so
 *    two writers cannot collide; glibc asks getrandom for it), nothing
 *    else changed: it does not keep the mode either (mkstemp makes 0600);
 *  - the same work as tmpf_write_atomic, written by hand the usual way:
 *    stat(target), mkstemp, fchmod to the target's bits (exact whatever
 *    the umask), write [+ fsync], rename [+ fsync(dir)];
 *  - GLib's g_file_set_contents_full (mode 0644, CONSISTENT, or CONSISTENT
 *    | DURABLE), when the build found GLib (optional: TMPF_BENCH_GLIB).
 *    Not the same work: GLib fsyncs file and directory in both modes
 *    (strace: fallocate, write, fsync, rename, fsync(dir)) and does not
 *    keep the target's mode.
 * 4 KiB (tmpf's named-temporary path) consistent and durable, and 256 KiB
 * (its O_TMPFILE path) consistent, on tmpfs (bench_dir()); 4 KiB also on
 * the default temporary directory, where fsync reaches a disk. The fsync
 * column is counted: the library's through its internal counter, the
 * hand-written ones by the bench itself.
 */
#include "bench.h"

#include <tmpf.h>

#include <errno.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#ifdef TMPF_BENCH_GLIB
#include <glib.h>
#endif

/* Internal: fsyncs made by the library (src/unix/persist_os.c). */
extern unsigned long tmpf__test_fsync_count(void);

enum kind {
    K_TMPF,
    K_HAND,
    K_HAND_MODE,
    K_HAND_MKSTEMP,
    K_HAND_MKSTEMP_MODE,
    K_GLIB,
    K_COUNT
};

struct ctx {
    char dir[4096];
    char target[4200];
    char tmp[4300];
    char *data;
    size_t size;
    unsigned flags;
    enum kind kind;
    unsigned long hand_fsyncs;
    int errors;
};

static void op_tmpf(void *p, long i)
{
    (void)i;
    struct ctx *c = p;
    if (tmpf_write_atomic(c->target, c->data, c->size, c->flags) != 0)
        c->errors++;
}

static void op_hand(void *p, long i)
{
    (void)i;
    struct ctx *c = p;
    mode_t mode = 0644;
    bool keep_mode = c->kind == K_HAND_MODE || c->kind == K_HAND_MKSTEMP_MODE;
    bool use_mkstemp = c->kind == K_HAND_MKSTEMP || c->kind == K_HAND_MKSTEMP_MODE;
    if (keep_mode) {
        struct stat st;
        if (stat(c->target, &st) != 0)
            c->errors++;
        else
            mode = st.st_mode & 0777;
    }
    char tmp[sizeof c->tmp];
    int fd;
    if (use_mkstemp) {
        snprintf(tmp, sizeof tmp, "%s.XXXXXX", c->target);
        fd = mkstemp(tmp);
        if (fd >= 0 && c->kind == K_HAND_MKSTEMP_MODE && fchmod(fd, mode) != 0)
            c->errors++;
    } else {
        memcpy(tmp, c->tmp, sizeof tmp);
        fd = open(tmp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, mode);
    }
    if (fd < 0) {
        c->errors++;
        return;
    }
    if (write(fd, c->data, c->size) != (ssize_t)c->size)
        c->errors++;
    bool durable = c->flags & TMPF_DURABLE;
    if (durable) {
        c->hand_fsyncs++;
        if (fsync(fd) != 0)
            c->errors++;
    }
    if (rename(tmp, c->target) != 0)
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

#ifdef TMPF_BENCH_GLIB
static void op_glib(void *p, long i)
{
    (void)i;
    struct ctx *c = p;
    /* CONSISTENT alone already fsyncs file and directory when the target
     * exists (GLib 2.74); DURABLE without CONSISTENT would write in place. */
    GFileSetContentsFlags fl = G_FILE_SET_CONTENTS_CONSISTENT;
    if (c->flags & TMPF_DURABLE)
        fl |= G_FILE_SET_CONTENTS_DURABLE;
    if (!g_file_set_contents_full(c->target, c->data, (gssize)c->size, fl, 0644,
                                  NULL))
        c->errors++;
}
#endif

static const char *names[K_COUNT] = {
    "tmpf_write_atomic",
    "hand-written",
    "hand-written + stat, target's mode",
    "hand-written with mkstemp (mode not kept)",
    "hand-written: stat + mkstemp + fchmod, target's mode",
    "GLib g_file_set_contents_full",
};

static void run(const char *where, const char *dir, size_t size, unsigned flags,
                long iters, int rounds)
{
    static struct ctx cs[K_COUNT];
    bench_op ops[K_COUNT];
    void *ctxs[K_COUNT];
    int n = 0;
    for (int k = 0; k < K_COUNT; k++) {
#ifndef TMPF_BENCH_GLIB
        if (k == K_GLIB)
            continue;
#endif
        struct ctx *c = &cs[n];
        memset(c, 0, sizeof *c);
        c->kind = (enum kind)k;
        snprintf(c->dir, sizeof c->dir, "%s", dir);
        snprintf(c->target, sizeof c->target, "%s/bench-persist-%d-%d", dir,
                 (int)getpid(), k);
        snprintf(c->tmp, sizeof c->tmp, "%s/bench-persist-%d-%d.tmp", dir,
                 (int)getpid(), k);
        c->data = malloc(size);
        if (!c->data)
            return;
        memset(c->data, 'a' + k, size);
        c->size = size;
        c->flags = flags;
        /* The target exists: this is a replace. */
        if (tmpf_write_atomic(c->target, c->data, size, 0) != 0)
            c->errors++;
        ops[n] = k == K_TMPF ? op_tmpf : op_hand;
#ifdef TMPF_BENCH_GLIB
        if (k == K_GLIB)
            ops[n] = op_glib;
#endif
        ctxs[n] = c;
        n++;
    }
    double ns[K_COUNT] = {0};
    unsigned long f0 = tmpf__test_fsync_count();
    bench_interleaved(n, ops, ctxs, iters, rounds, ns);
    double per = (double)(iters * rounds);
    /* Only candidate 0 goes through the library (GLib has its own). */
    double ours = (double)(tmpf__test_fsync_count() - f0) / per;
    bool durable = flags & TMPF_DURABLE;
    char what[256], base[256];
    snprintf(what, sizeof what, "%s: %s %zu KiB, %s (%.0f fsync)", where,
             names[K_TMPF], size / 1024, durable ? "durable" : "consistent", ours);
    for (int k = 1; k < n; k++) {
        if (cs[k].kind == K_GLIB)
            snprintf(base, sizeof base, "%s", names[K_GLIB]);
        else
            snprintf(base, sizeof base, "%s (%.0f fsync)", names[cs[k].kind],
                     (double)cs[k].hand_fsyncs / per);
        bench_row(what, ns[0], base, ns[k]);
    }
    for (int k = 0; k < n; k++) {
        if (cs[k].errors)
            printf("\n**errors in %s: %d**\n", names[cs[k].kind], cs[k].errors);
        unlink(cs[k].target);
        free(cs[k].data);
    }
}

int main(void)
{
    const char *shm = bench_dir();
    const char *tmp = tmpf_gettempdir();
    bench_header("Atomic replace (tmpf_write_atomic)");
    run(shm, shm, 4096, 0, 1000, 21);
    run(shm, shm, 4096, TMPF_DURABLE, 1000, 21);
    run(shm, shm, 256 * 1024, 0, 100, 15);
    if (tmp && strcmp(tmp, shm) != 0) {
        run(tmp, tmp, 4096, 0, 300, 9);
        run(tmp, tmp, 4096, TMPF_DURABLE, 10, 9);
    }
#ifndef TMPF_BENCH_GLIB
    printf("\nGLib g_file_set_contents_full: not measured (GLib >= 2.66 not "
           "found when this was built).\n");
#endif
    return 0;
}
