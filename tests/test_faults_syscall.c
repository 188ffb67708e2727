/*
 * System-call failure injection (issue 9). This executable defines open,
 * mkdir, write, fsync, rename/link, unlink/rmdir, ftruncate, lseek,
 * fdopendir/opendir, fopencookie/fdopen (the stdio view's own allocations,
 * failed with ENOMEM) and syscall (for SYS_renameat2) itself: the library is
 * linked in statically, so its calls bind to these definitions, which pass
 * through to the C library (dlsym RTLD_NEXT) unless armed. Armed, the k-th
 * matching call fails with a chosen errno. Every public operation runs with
 * k = 1, 2, ... for each call class and errno until it succeeds, in a
 * directory only the test can write and in one everyone can (where
 * cleanup checks identities); the checks
 * after each failure are those of fault_ops.h (errno passed through, no
 * descriptor or entry left, earlier objects still usable). EINTR must be
 * retried: the operation has to succeed.
 *
 * This interposition needs a dynamic C library; where the wrappers cannot
 * reach the real functions (static link) the test skips with a message.
 */
#include "fault_ops.h"

#include <dlfcn.h>
#include <stdarg.h>
#include <sys/syscall.h>

enum cls { C_OPEN, C_MKDIR, C_WRITE, C_FSYNC, C_RENAME, C_UNLINK, C_FTRUNCATE,
           C_LSEEK, C_OPENDIR, C_STDIO, C_STAT, C_COUNT };
static const char *const cls_name[C_COUNT] = {
    "open", "mkdir", "write", "fsync", "rename/link", "unlink/rmdir",
    "ftruncate", "lseek", "fdopendir", "fopencookie", "stat",
};

static int armed_cls = -1;
static long armed_n;
static int armed_errno;
static unsigned long hits;
static unsigned long calls_seen[C_COUNT];

static bool in_op; /* between arm and disarm: the library's calls */

static bool fail_now(enum cls c)
{
    if (in_op)
        calls_seen[c]++;
    if (armed_cls != (int)c || armed_n <= 0)
        return false;
    if (--armed_n > 0)
        return false;
    hits++;
    armed_cls = -1;
    errno = armed_errno;
    return true;
}

static void *real(const char *name)
{
    void *p = dlsym(RTLD_NEXT, name);
    if (!p) {
        fprintf(stderr, "faults: no real %s\n", name);
        abort();
    }
    return p;
}
#define REAL(name)                                                             \
    static __typeof__(&name) real_##name;                                      \
    if (!real_##name)                                                          \
    real_##name = (__typeof__(&name))real(#name)

static mode_t mode_arg(int flags, va_list ap)
{
#ifdef O_TMPFILE
    if ((flags & O_CREAT) || (flags & O_TMPFILE) == O_TMPFILE)
#else
    if (flags & O_CREAT)
#endif
        return (mode_t)va_arg(ap, unsigned);
    return 0;
}

int open(const char *path, int flags, ...);
int open(const char *path, int flags, ...)
{
    va_list ap;
    va_start(ap, flags);
    mode_t m = mode_arg(flags, ap);
    va_end(ap);
    REAL(open);
    return fail_now(C_OPEN) ? -1 : real_open(path, flags, m);
}
#ifdef __GLIBC__ /* musl: open64 is a macro for open */
int open64(const char *path, int flags, ...);
int open64(const char *path, int flags, ...)
{
    va_list ap;
    va_start(ap, flags);
    mode_t m = mode_arg(flags, ap);
    va_end(ap);
    REAL(open64);
    return fail_now(C_OPEN) ? -1 : real_open64(path, flags, m);
}
#endif
int openat(int dfd, const char *path, int flags, ...);
int openat(int dfd, const char *path, int flags, ...)
{
    va_list ap;
    va_start(ap, flags);
    mode_t m = mode_arg(flags, ap);
    va_end(ap);
    REAL(openat);
    return fail_now(C_OPEN) ? -1 : real_openat(dfd, path, flags, m);
}
int mkdir(const char *path, mode_t m)
{
    REAL(mkdir);
    return fail_now(C_MKDIR) ? -1 : real_mkdir(path, m);
}
int mkdirat(int dfd, const char *path, mode_t m)
{
    REAL(mkdirat);
    return fail_now(C_MKDIR) ? -1 : real_mkdirat(dfd, path, m);
}
ssize_t write(int fd, const void *buf, size_t n)
{
    REAL(write);
    return fail_now(C_WRITE) ? -1 : real_write(fd, buf, n);
}
ssize_t pwrite(int fd, const void *buf, size_t n, off_t off)
{
    REAL(pwrite);
    return fail_now(C_WRITE) ? -1 : real_pwrite(fd, buf, n, off);
}
int fsync(int fd)
{
    REAL(fsync);
    return fail_now(C_FSYNC) ? -1 : real_fsync(fd);
}
int fdatasync(int fd)
{
    REAL(fdatasync);
    return fail_now(C_FSYNC) ? -1 : real_fdatasync(fd);
}
int rename(const char *a, const char *b)
{
    REAL(rename);
    return fail_now(C_RENAME) ? -1 : real_rename(a, b);
}
int renameat(int da, const char *a, int db, const char *b)
{
    REAL(renameat);
    return fail_now(C_RENAME) ? -1 : real_renameat(da, a, db, b);
}
int link(const char *a, const char *b)
{
    REAL(link);
    return fail_now(C_RENAME) ? -1 : real_link(a, b);
}
int linkat(int da, const char *a, int db, const char *b, int fl)
{
    REAL(linkat);
    return fail_now(C_RENAME) ? -1 : real_linkat(da, a, db, b, fl);
}
int unlink(const char *p)
{
    REAL(unlink);
    return fail_now(C_UNLINK) ? -1 : real_unlink(p);
}
int unlinkat(int d, const char *p, int fl)
{
    REAL(unlinkat);
    return fail_now(C_UNLINK) ? -1 : real_unlinkat(d, p, fl);
}
int rmdir(const char *p)
{
    REAL(rmdir);
    return fail_now(C_UNLINK) ? -1 : real_rmdir(p);
}
int ftruncate(int fd, off_t n)
{
    REAL(ftruncate);
    return fail_now(C_FTRUNCATE) ? -1 : real_ftruncate(fd, n);
}
off_t lseek(int fd, off_t off, int whence)
{
    REAL(lseek);
    return fail_now(C_LSEEK) ? -1 : real_lseek(fd, off, whence);
}
DIR *fdopendir(int fd)
{
    REAL(fdopendir);
    return fail_now(C_OPENDIR) ? NULL : real_fdopendir(fd);
}
DIR *opendir(const char *p)
{
    REAL(opendir);
    return fail_now(C_OPENDIR) ? NULL : real_opendir(p);
}
FILE *fopencookie(void *cookie, const char *mode, cookie_io_functions_t io)
{
    REAL(fopencookie);
    return fail_now(C_STDIO) ? NULL : real_fopencookie(cookie, mode, io);
}
FILE *fdopen(int fd, const char *mode)
{
    REAL(fdopen);
    return fail_now(C_STDIO) ? NULL : real_fdopen(fd, mode);
}
int stat(const char *p, struct stat *st)
{
    REAL(stat);
    return fail_now(C_STAT) ? -1 : real_stat(p, st);
}
int lstat(const char *p, struct stat *st)
{
    REAL(lstat);
    return fail_now(C_STAT) ? -1 : real_lstat(p, st);
}
int fstat(int fd, struct stat *st)
{
    REAL(fstat);
    return fail_now(C_STAT) ? -1 : real_fstat(fd, st);
}
int fstatat(int d, const char *p, struct stat *st, int fl)
{
    REAL(fstatat);
    return fail_now(C_STAT) ? -1 : real_fstatat(d, p, st, fl);
}
long syscall(long nr, ...);
long syscall(long nr, ...)
{
    /* Read only the arguments the call has: reading past them reads the
     * caller's stack (AddressSanitizer rightly objects). */
    int argc = 6;
#ifdef SYS_statx
    if (nr == SYS_statx)
        argc = 5;
#endif
#ifdef SYS_renameat2
    if (nr == SYS_renameat2)
        argc = 5;
#endif
#ifdef SYS_getrandom
    if (nr == SYS_getrandom)
        argc = 3;
#endif
    va_list ap;
    va_start(ap, nr);
    long a[6] = {0};
    for (int i = 0; i < argc; i++)
        a[i] = va_arg(ap, long);
    va_end(ap);
    REAL(syscall);
#ifdef SYS_renameat2
    if (nr == SYS_renameat2 && fail_now(C_RENAME))
        return -1;
#endif
    return real_syscall(nr, a[0], a[1], a[2], a[3], a[4], a[5]);
}

/* ---- the runs ------------------------------------------------------- */

static const char *const sys_known[][2] = {
    {NULL, NULL},
};


static int cur_cls;
static void arm(long n)
{
    in_op = n >= 0;
    if (n < 0) {
        armed_cls = -1;
        return;
    }
    armed_n = n;
    armed_cls = cur_cls;
}
static unsigned long get_hits(void) { return hits; }

static long injected, absorbed, per_cls[C_COUNT];
static int ops_failed = -1;

static bool under_valgrind(void)
{
    const char *p = getenv("LD_PRELOAD");
    return (p && strstr(p, "vgpreload")) || getenv("TMPF_TEST_SCALE");
}

static void test_every_operation(void)
{
    /* The wrappers must be in the path: a probe open fails when armed. */
    cur_cls = C_OPEN;
    armed_errno = EXDEV;
    arm(1);
    int fd = open("/dev/null", O_RDONLY | O_CLOEXEC);
    arm(-1);
    if (fd >= 0) {
        close(fd);
        SKIP("open is not interposed in this build (static C library?)");
    }
    static const int errs[] = {EIO, EINTR, ENOSPC, EMFILE, EACCES, ENOMEM};
    size_t nerrs = sizeof errs / sizeof errs[0];
    bool few = under_valgrind(); /* there: EIO, EINTR and ENOMEM only */
    tmpf_opts o = {.dir = scratch};
    tmpf_file *witness = tmpf_named_temporary_file(&o);
    CHECK(witness != NULL);
    for (int c = 0; c < C_COUNT; c++)
        for (size_t e = 0; e < nerrs; e++) {
            /* EINTR only where POSIX lists it for the call (it must be
             * retried); mkdir, rename, unlink and lseek never return it. */
            if (errs[e] == EINTR && c != C_OPEN && c != C_WRITE &&
                c != C_FSYNC && c != C_FTRUNCATE)
                continue;
            /* A stdio stream fails for want of memory, and only so. */
            if ((c == C_STDIO) != (errs[e] == ENOMEM))
                continue;
            /* stat: what an inode lookup can say (EIO, EACCES, ENOMEM). */
            if (c == C_STAT && errs[e] != EIO && errs[e] != EACCES &&
                errs[e] != ENOMEM)
                continue;
            if (few && errs[e] != EIO && errs[e] != EINTR && errs[e] != ENOMEM)
                continue;
            char what[64];
            snprintf(what, sizeof what, "%s/%s", cls_name[c],
                     errs[e] == EINTR ? "EINTR" : strerror(errs[e]));
            struct injector inj = {
                .what = what,
                .known = sys_known,
                .arm = arm,
                .hits = get_hits, .want_errno = errs[e] == EINTR ? 0 : errs[e],
                .after_commit = c == C_FSYNC,
            };
            cur_cls = c;
            armed_errno = errs[e];
            /* in a directory only we can write, then in one everyone can
             * (where cleanup checks identities) */
            for (int shared = 0; shared < 2; shared++) {
                fault_dir_mode = shared ? 0777 : 0700;
                for (size_t i = 0; i < sizeof ops / sizeof ops[0]; i++) {
                    /* its lstat of every tracked path only decides whether
                     * that path still counts as leaked (hundreds a call) */
                    if (c == C_STAT && strcmp(ops[i].name, "leak_report") == 0)
                        continue;
                    run_op(&ops[i], witness, &inj);
                }
            }
            injected += inj.injected;
            per_cls[c] += inj.injected;
            absorbed += inj.absorbed;
        }
    tmpf_file_cleanup(witness);
    CHECK(injected > 0);
    ops_failed = test_failures_in_current;
    for (int c = 0; c < C_COUNT; c++)
        fprintf(stderr, "  %-13s calls made by the operations: %lu, failures"
                " injected: %ld\n", cls_name[c], calls_seen[c], per_cls[c]);
}

static const struct test tests[] = {
    TEST(test_every_operation),
};

int main(int argc, char **argv)
{
    report_sink = fopen("/dev/null", "we");
    int r = run_tests(tests, sizeof tests / sizeof tests[0], argc, argv);
    print_fault_summary("syscall", ops_failed, injected, absorbed);
    return r;
}
