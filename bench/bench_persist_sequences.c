/*
 * Where the time of an atomic 4 KiB replace goes: candidate system-call
 * sequences for tmpf_write_atomic, written out by hand and timed in the
 * same interleaved rounds against the bare hand-written sequence, plus
 * tmpf_write_atomic itself. Used to choose the library's sequence (see
 * docs/benchmarks/persist.md); every candidate replaces an existing 0644
 * file in bench_dir(), without fsync, then again with TMPF_DURABLE's two.
 */
#include "bench.h"

#include <tmpf.h>

#include <fcntl.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#define SIZE 4096

struct ctx {
    char dir[4096];
    char target[4200];
    char tmp[4300];  /* precomputed temporary name */
    char side[4300]; /* side name; the random part is redrawn when asked */
    size_t rand_at;  /* offset of the random part in side */
    bool durable;
    int errors;
};

static char data[SIZE];

/* Internal: the library's name generator (src/names.c). */
extern int tmpf__random_chars(char *out, size_t len);

/* Eight fresh characters in c->side. */
static void redraw(struct ctx *c)
{
    if (tmpf__random_chars(c->side + c->rand_at, 8) != 0)
        c->errors++;
}

static void sync_dir(struct ctx *c)
{
    int d = open(c->dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (d < 0 || fsync(d) != 0)
        c->errors++;
    if (d >= 0)
        close(d);
}

/* The end shared by every sequence: [fsync] rename [fsync dir] close. */
static void finish(struct ctx *c, int fd, const char *from)
{
    if (c->durable && fsync(fd) != 0)
        c->errors++;
    if (rename(from, c->target) != 0)
        c->errors++;
    if (c->durable)
        sync_dir(c);
    close(fd);
}

static int create(struct ctx *c, const char *path, mode_t mode)
{
    int fd = open(path, O_RDWR | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, mode);
    if (fd < 0 || write(fd, data, SIZE) != SIZE)
        c->errors++;
    return fd;
}

static mode_t target_mode(struct ctx *c)
{
    struct stat st;
    if (stat(c->target, &st) != 0) {
        c->errors++;
        return 0644;
    }
    return st.st_mode & 0777;
}

/* 1. The bar: precomputed name, fixed mode. */
static void seq_hand(void *p, long i)
{
    (void)i;
    struct ctx *c = p;
    finish(c, create(c, c->tmp, 0644), c->tmp);
}

/* 2. A fresh random name each time. */
static void seq_random(void *p, long i)
{
    (void)i;
    struct ctx *c = p;
    redraw(c);
    finish(c, create(c, c->side, 0644), c->side);
}

/* 3. Keeping the target's mode: stat it, create with its bits. */
static void seq_mode(void *p, long i)
{
    (void)i;
    struct ctx *c = p;
    finish(c, create(c, c->tmp, target_mode(c)), c->tmp);
}

/* 3b. 3 + fstat: the bits the umask left (mode kept exactly). */
static void seq_mode_checked(void *p, long i)
{
    (void)i;
    struct ctx *c = p;
    mode_t mode = target_mode(c);
    int fd = open(c->tmp, O_RDWR | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, mode);
    struct stat st;
    if (fd < 0 || fstat(fd, &st) != 0 || write(fd, data, SIZE) != SIZE)
        c->errors++;
    finish(c, fd, c->tmp);
}

/* 4. tmpf's named path: 3 at the fixed side name, locked, fstat checking
 * the bits the umask left (and the link count). */
static void seq_named_locked(void *p, long i)
{
    (void)i;
    struct ctx *c = p;
    mode_t mode = target_mode(c);
    int fd = open(c->side, O_RDWR | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, mode);
    struct stat st;
    if (fd < 0 || flock(fd, LOCK_EX | LOCK_NB) != 0 || fstat(fd, &st) != 0 ||
        write(fd, data, SIZE) != SIZE)
        c->errors++;
    finish(c, fd, c->side);
}

/* 5. tmpf's O_TMPFILE path: unnamed file with the target's bits, fstat,
 * lock, link to the fixed side name, rename. */
static void seq_tmpfile_locked(void *p, long i)
{
    (void)i;
    struct ctx *c = p;
    mode_t mode = target_mode(c);
    int fd = open(c->dir, O_TMPFILE | O_RDWR | O_CLOEXEC, mode);
    struct stat st;
    if (fd < 0 || write(fd, data, SIZE) != SIZE || fstat(fd, &st) != 0 ||
        flock(fd, LOCK_EX | LOCK_NB) != 0 ||
        linkat(fd, "", AT_FDCWD, c->side, AT_EMPTY_PATH) != 0)
        c->errors++;
    finish(c, fd, c->side);
}

/* 6. The sequence tmpf_write_atomic had before: O_TMPFILE 0600, fchmod
 * to the target's bits, link to a random side name, rename. */
static void seq_tmpfile_before(void *p, long i)
{
    (void)i;
    struct ctx *c = p;
    mode_t mode = target_mode(c);
    int fd = open(c->dir, O_TMPFILE | O_RDWR | O_CLOEXEC, 0600);
    redraw(c);
    if (fd < 0 || write(fd, data, SIZE) != SIZE || fchmod(fd, mode) != 0 ||
        linkat(fd, "", AT_FDCWD, c->side, AT_EMPTY_PATH) != 0)
        c->errors++;
    finish(c, fd, c->side);
}

/* The last component of a path (the side and target names). */
static const char *leaf(const char *path)
{
    const char *slash = strrchr(path, '/');
    return slash ? slash + 1 : path;
}

/* 7. tmpf's named path relative to one descriptor of the directory: the
 * directory is looked up once instead of four times. Consistent: O_PATH
 * (no fsync needed); durable: O_RDONLY, the descriptor fsync'd at the end. */
static void at_seq(struct ctx *c, bool locked, bool random, bool exact_mode)
{
    int d = open(c->dir, (c->durable ? O_RDONLY : O_PATH) | O_DIRECTORY | O_CLOEXEC);
    struct stat st;
    if (d < 0 || fstatat(d, leaf(c->target), &st, 0) != 0)
        c->errors++;
    if (random)
        redraw(c);
    const char *side = leaf(c->side);
    int fd = openat(d, side, O_RDWR | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC,
                    st.st_mode & 0777);
    if (fd < 0 || (locked && flock(fd, LOCK_EX | LOCK_NB) != 0) ||
        (exact_mode && fstat(fd, &st) != 0) || write(fd, data, SIZE) != SIZE)
        c->errors++;
    if (c->durable && fsync(fd) != 0)
        c->errors++;
    if (renameat(d, side, d, leaf(c->target)) != 0)
        c->errors++;
    if (c->durable && fsync(d) != 0)
        c->errors++;
    close(d);
    close(fd);
}

static void seq_at_locked(void *p, long i)
{
    (void)i;
    at_seq(p, true, false, true);
}

static void seq_at_random(void *p, long i)
{
    (void)i;
    at_seq(p, false, true, true);
}

/* 7c. 7b without the fstat: the mode is the target's minus what the umask
 * takes away (no sweepable side name, mode not exact). */
static void seq_at_random_inexact(void *p, long i)
{
    (void)i;
    at_seq(p, false, true, false);
}

static void seq_tmpf(void *p, long i)
{
    (void)i;
    struct ctx *c = p;
    if (tmpf_write_atomic(c->target, data, SIZE, c->durable ? TMPF_DURABLE : 0) != 0)
        c->errors++;
}

static const struct {
    const char *name;
    bench_op op;
} seqs[] = {
    {"hand-written: open(tmp) write rename", seq_hand},
    {"same, random temporary name", seq_random},
    {"same + stat target, open with its mode", seq_mode},
    {"same + fstat (the bits the umask left)", seq_mode_checked},
    {"named at .#t.tmpf + flock + fstat (tmpf <= 64 KiB)", seq_named_locked},
    {"O_TMPFILE + fstat + flock + linkat .#t.tmpf (tmpf > 64 KiB)", seq_tmpfile_locked},
    {"O_TMPFILE + fchmod + linkat random (tmpf before)", seq_tmpfile_before},
    {"dirfd: fstatat + openat .#t.tmpf + flock + fstat + renameat", seq_at_locked},
    {"dirfd: fstatat + openat random + fstat + renameat", seq_at_random},
    {"dirfd: fstatat + openat random + renameat (no fstat)", seq_at_random_inexact},
    {"tmpf_write_atomic", seq_tmpf},
};
#define NSEQ (int)(sizeof seqs / sizeof seqs[0])

static void run(const char *dir, bool durable, long iters, int rounds)
{
    static struct ctx cs[NSEQ];
    bench_op ops[NSEQ];
    void *ctxs[NSEQ];
    for (int k = 0; k < NSEQ; k++) {
        struct ctx *c = &cs[k];
        memset(c, 0, sizeof *c);
        snprintf(c->dir, sizeof c->dir, "%s", dir);
        snprintf(c->target, sizeof c->target, "%s/bench-seq-%d-%d", dir,
                 (int)getpid(), k);
        snprintf(c->tmp, sizeof c->tmp, "%s/bench-seq-%d-%d.tmp", dir,
                 (int)getpid(), k);
        int n = snprintf(c->side, sizeof c->side, "%s/.#bench-seq-%d-%d.", dir,
                         (int)getpid(), k);
        c->rand_at = (size_t)n;
        memcpy(c->side + n, "tmpf", 5);
        c->durable = durable;
        seq_hand(c, 0);
        if (seqs[k].op == seq_random || seqs[k].op == seq_tmpfile_before ||
            seqs[k].op == seq_at_random || seqs[k].op == seq_at_random_inexact) {
            memcpy(c->side + n, "XXXXXXXX", 9);
            redraw(c);
        }
        ops[k] = seqs[k].op;
        ctxs[k] = c;
    }
    double ns[NSEQ];
    bench_interleaved(NSEQ, ops, ctxs, iters, rounds, ns);
    for (int k = 1; k < NSEQ; k++) {
        char what[160];
        snprintf(what, sizeof what, "%s%s", seqs[k].name,
                 durable ? ", durable" : "");
        bench_row(what, ns[k], seqs[0].name, ns[0]);
    }
    for (int k = 0; k < NSEQ; k++) {
        if (cs[k].errors)
            printf("\n**errors in %s: %d**\n", seqs[k].name, cs[k].errors);
        unlink(cs[k].target);
    }
}

int main(void)
{
    const char *dir = bench_dir();
    memset(data, 'd', sizeof data);
    bench_header("Atomic replace, 4 KiB: candidate sequences");
    run(dir, false, 1000, 21);
    run(dir, true, 1000, 21);
    return 0;
}
