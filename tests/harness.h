/*
 * A small test harness: a table of tests, checks that print both values,
 * a fresh scratch directory per test, and a closing line CTest can read:
 * "N passed, N failed".
 *
 *   static void test_something(void) { CHECK_EQ_INT(1 + 1, 2); }
 *   static const struct test tests[] = { TEST(test_something), };
 *   TEST_MAIN(tests)
 *
 * Tests run in one process, in order. Each gets `scratch`, an empty
 * directory on /dev/shm (or $TMPF_TEST_DIR) removed afterwards, and the
 * harness checks that the test left no descriptor open. A test that calls
 * run_as_nobody in a process without root is skipped (it cannot drop to
 * another uid), so `make check` also passes for an ordinary user.
 *
 * Skips: every skip prints "  skipped: REASON" after the test's "[ RUN  ]"
 * line (shell tests print "SKIP: REASON"), which `make check` lists at the
 * end (tests/skipped.sh); an executable in which every test was skipped
 * exits with HARNESS_SKIP_CODE, which CTest reports as "Skipped".
 */
#ifndef TMPF_TEST_HARNESS_H
#define TMPF_TEST_HARNESS_H

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <inttypes.h>
#include <setjmp.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <grp.h>
#include <sys/wait.h>
#include <unistd.h>

#include "entries.h"

struct test {
    const char *name;
    void (*fn)(void);
};
#define TEST(fn) {#fn, fn}

/* CTest's SKIP_RETURN_CODE (tests/CMakeLists.txt), automake's value. */
#define HARNESS_SKIP_CODE 77

static int test_failures_in_current;
static bool test_skipped_in_current;
static char scratch[4096];

#define FAIL_AT(...)                                                           \
    do {                                                                       \
        fprintf(stderr, "  %s:%d: ", __FILE__, __LINE__);                      \
        fprintf(stderr, __VA_ARGS__);                                          \
        fputc('\n', stderr);                                                   \
        test_failures_in_current++;                                            \
    } while (0)

#define CHECK(cond)                                                            \
    do {                                                                       \
        if (!(cond))                                                           \
            FAIL_AT("CHECK(%s) failed (errno %d: %s)", #cond, errno,           \
                    strerror(errno));                                          \
    } while (0)

#define CHECK_EQ_INT(a, b)                                                     \
    do {                                                                       \
        long long va_ = (long long)(a), vb_ = (long long)(b);                  \
        if (va_ != vb_)                                                        \
            FAIL_AT("%s == %s failed: %lld != %lld", #a, #b, va_, vb_);        \
    } while (0)

#define CHECK_EQ_STR(a, b)                                                     \
    do {                                                                       \
        const char *sa_ = (a), *sb_ = (b);                                     \
        if (!sa_ || !sb_ || strcmp(sa_, sb_) != 0)                             \
            FAIL_AT("%s == %s failed: \"%s\" != \"%s\"", #a, #b,                \
                    sa_ ? sa_ : "(null)", sb_ ? sb_ : "(null)");               \
    } while (0)

/* A call that must fail with a given errno. */
#define CHECK_ERRNO(expr, fail_value, want_errno)                              \
    do {                                                                       \
        errno = 0;                                                             \
        long long got_ = (long long)(expr);                                    \
        int err_ = errno;                                                      \
        if (got_ != (long long)(fail_value) || err_ != (want_errno))           \
            FAIL_AT("%s: got %lld errno %d (%s), want %lld errno %d (%s)",     \
                    #expr, got_, err_, strerror(err_),                         \
                    (long long)(fail_value), (want_errno),                     \
                    strerror(want_errno));                                     \
    } while (0)

#define CHECK_NULL_ERRNO(expr, want_errno)                                     \
    do {                                                                       \
        errno = 0;                                                             \
        const void *p_ = (const void *)(expr);                                 \
        int err_ = errno;                                                      \
        if (p_ != NULL || err_ != (want_errno))                                \
            FAIL_AT("%s: got %p errno %d (%s), want NULL errno %d (%s)",       \
                    #expr, p_, err_, strerror(err_), (want_errno),             \
                    strerror(want_errno));                                     \
    } while (0)

/* Skips the rest of a test with a message (counted as skipped unless a
 * check failed before). Returns from the calling function, which must be
 * the test itself. */
#define SKIP(...)                                                              \
    do {                                                                       \
        fprintf(stderr, "  skipped: ");                                        \
        fprintf(stderr, __VA_ARGS__);                                          \
        fputc('\n', stderr);                                                   \
        test_skipped_in_current = true;                                        \
        return;                                                                \
    } while (0)

static inline int count_open_fds(void)
{
    DIR *d = opendir("/proc/self/fd");
    if (!d)
        return -1;
    int n = 0;
    struct dirent *e;
    while ((e = readdir(d)))
        if (e->d_name[0] != '.')
            n++;
    closedir(d);
    return n - 1; /* the DIR's own descriptor */
}

/* What to divide a test's repetition counts by: TMPF_TEST_SCALE=n, else
 * 25 under valgrind (its preload library is in LD_PRELOAD), 10 under
 * ThreadSanitizer, else 1. */
#if defined(__SANITIZE_THREAD__)
#define HARNESS_TSAN 1
#elif defined(__has_feature)
#if __has_feature(thread_sanitizer)
#define HARNESS_TSAN 1
#endif
#endif

/* Whether path holds exactly want (a small file, read whole). */
static inline bool file_holds(const char *path, const char *want)
{
    char buf[256];
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return false;
    ssize_t n = read(fd, buf, sizeof buf - 1);
    close(fd);
    if (n < 0)
        return false;
    buf[n] = '\0';
    return strcmp(buf, want) == 0;
}

static inline int test_scale_div(void)
{
    const char *s = getenv("TMPF_TEST_SCALE");
    if (s && atoi(s) > 0)
        return atoi(s);
#ifdef HARNESS_TSAN
    return 10; /* a fork with threads running costs about a second there */
#else
    const char *p = getenv("LD_PRELOAD");
    return p && strstr(p, "vgpreload") ? 25 : 1;
#endif
}

/* dir + "/" + name in one of eight rotating static buffers, so a few
 * results can be used at once (dir may itself be an earlier result). */
static inline char *path_join(const char *dir, const char *name)
{
    static char buf[8][4096];
    static int next;
    char *b = buf[next++ % 8];
    size_t dl = strlen(dir), nl = strlen(name);
    if (dl + 1 + nl + 1 > sizeof buf[0])
        abort();
    memmove(b, dir, dl);
    b[dl] = '/';
    memcpy(b + dl + 1, name, nl + 1);
    return b;
}

static inline bool path_exists(const char *p)
{
    struct stat st;
    return lstat(p, &st) == 0;
}

static inline int write_file(const char *path, const char *content, mode_t mode)
{
    int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, mode);
    if (fd < 0)
        return -1;
    size_t n = strlen(content);
    ssize_t w = write(fd, content, n);
    close(fd);
    return w == (ssize_t)n ? 0 : -1;
}

/* scratch/sticky (made on first use, mode 01777, as /tmp): for tests that
 * replace a temporary's directory themselves. In scratch (0777, no sticky
 * bit) tmpf records what it created, and its cleanup refuses a replaced
 * directory (ESTALE); in a sticky directory only the caller and root can
 * rename the caller's entries, and nothing is checked. */
static inline const char *sticky_dir(void)
{
    static char buf[4200];
    snprintf(buf, sizeof buf, "%s/sticky", scratch);
    if (mkdir(buf, 01777) != 0 && errno != EEXIST)
        return NULL;
    chmod(buf, 01777);
    return buf;
}

static inline int setgroups_nobody(void)
{
    gid_t g = 65534;
    return setgroups(1, &g);
}

/* Where a test that must be skipped half-way returns to (run_tests). */
static jmp_buf harness_skip_jump;
static pid_t harness_pid;

/* Ends the running test as skipped, from any depth of the test process
 * (not from a child it forked). What the test opened or allocated so far
 * is not released: a skip is for a test that cannot run here at all. */
static inline void harness_skip_test(const char *why)
{
    fprintf(stderr, "  skipped: %s\n", why);
    longjmp(harness_skip_jump, 1);
}

/* Runs fn in a forked child (same privileges); returns its exit status or
 * -1 if it crashed. */
static inline int run_in_child(int (*fn)(void *), void *arg)
{
    fflush(NULL);
    pid_t pid = fork();
    if (pid < 0)
        return -1;
    if (pid == 0)
        _exit(fn(arg) & 0x7f);
    int status;
    if (waitpid(pid, &status, 0) < 0 || !WIFEXITED(status))
        return -1;
    return WEXITSTATUS(status);
}

/* Runs fn in a child as uid/gid 65534 (nobody); returns its exit status
 * (fn's return value), or -1 if it could not run or crashed. Without root
 * no uid can be dropped to: the calling test is skipped. */
static inline int run_as_nobody(int (*fn)(void *), void *arg)
{
    if (geteuid() != 0 && getpid() == harness_pid)
        harness_skip_test("needs root to run a part as uid 65534");
    fflush(NULL);
    pid_t pid = fork();
    if (pid < 0)
        return -1;
    if (pid == 0) {
        if (setgroups_nobody() != 0 || setgid(65534) != 0 || setuid(65534) != 0)
            _exit(126);
        _exit(fn(arg) & 0x7f);
    }
    int status;
    if (waitpid(pid, &status, 0) < 0 || !WIFEXITED(status))
        return -1;
    return WEXITSTATUS(status);
}

static int harness_rm_entry(const char *p, const struct stat *sb, int flag,
                            struct FTW *ftw)
{
    (void)sb;
    (void)ftw;
    if (flag == FTW_DP || flag == FTW_D)
        chmod(p, 0700), rmdir(p);
    else
        unlink(p);
    return 0;
}

/* The harness's own rm -rf (deliberately not the library's). */
static inline void harness_rmrf(const char *path)
{
    nftw(path, harness_rm_entry, 64, FTW_DEPTH | FTW_PHYS | FTW_MOUNT);
}

/* Runs one test; false if harness_skip_test ended it. (A function of its
 * own, so that no local of run_tests lives across the longjmp.) */
static inline bool harness_run_one(void (*fn)(void))
{
    if (setjmp(harness_skip_jump) != 0)
        return false;
    fn();
    return true;
}

static inline int run_tests(const struct test *tests, size_t count, int argc,
                            char **argv)
{
    int passed = 0, failed = 0, skipped = 0;
    harness_pid = getpid();
    const char *base = getenv("TMPF_TEST_DIR");
    if (!base) {
        struct stat st;
        base = stat("/dev/shm", &st) == 0 && access("/dev/shm", W_OK) == 0
                   ? "/dev/shm"
                   : "/tmp";
    }
    for (size_t i = 0; i < count; i++) {
        if (argc > 1) {
            bool wanted = false;
            for (int a = 1; a < argc; a++)
                if (strstr(tests[i].name, argv[a]))
                    wanted = true;
            if (!wanted)
                continue;
        }
        snprintf(scratch, sizeof scratch, "%s/tmpf-test-XXXXXX", base);
        if (!mkdtemp(scratch)) {
            perror("mkdtemp");
            return 2;
        }
        chmod(scratch, 0777); /* tests that drop privileges write here too */
        int fds_before = count_open_fds();
        test_failures_in_current = 0;
        test_skipped_in_current = false;
        fprintf(stderr, "[ RUN  ] %s\n", tests[i].name);
        if (!harness_run_one(tests[i].fn)) {
            /* Skipped half-way; failures before the skip still count. */
            harness_rmrf(scratch);
            if (test_failures_in_current) {
                failed++;
                fprintf(stderr, "[ FAIL ] %s\n", tests[i].name);
            } else {
                skipped++;
                fprintf(stderr, "[ SKIP ] %s\n", tests[i].name);
            }
            continue;
        }
        int fds_after = count_open_fds();
        if (fds_after != fds_before)
            FAIL_AT("%s leaked descriptors: %d open before, %d after",
                    tests[i].name, fds_before, fds_after);
        harness_rmrf(scratch);
        if (test_failures_in_current) {
            failed++;
            fprintf(stderr, "[ FAIL ] %s\n", tests[i].name);
        } else if (test_skipped_in_current) {
            skipped++;
            fprintf(stderr, "[ SKIP ] %s\n", tests[i].name);
        } else {
            passed++;
            fprintf(stderr, "[  OK  ] %s\n", tests[i].name);
        }
    }
    printf("%d passed, %d failed\n", passed, failed);
    if (skipped)
        printf("%d skipped\n", skipped);
    if (failed)
        return 1;
    return passed == 0 && skipped > 0 ? HARNESS_SKIP_CODE : 0;
}

#define TEST_MAIN(table)                                                       \
    int main(int argc, char **argv)                                            \
    {                                                                          \
        return run_tests(table, sizeof table / sizeof table[0], argc, argv);   \
    }

#endif
