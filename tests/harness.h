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
 * directory on /dev/shm (or $TMPF_TEST_DIR; on Windows %TEMP%) removed
 * afterwards, and the harness checks that the test left no descriptor
 * open. A test that calls run_as_nobody in a process without root is
 * skipped (it cannot drop to another uid), so `make check` also passes for
 * an ordinary user.
 *
 * Skips: every skip prints "  skipped: REASON" after the test's "[ RUN  ]"
 * line (shell tests print "SKIP: REASON"), which `make check` lists at the
 * end (tests/skipped.sh); an executable in which every test was skipped
 * exits with HARNESS_SKIP_CODE, which CTest reports as "Skipped".
 *
 * Windows (tests/harness_win.h; POSIX in tests/harness_posix.h): there is
 * no fork. A test that only means something on POSIX (uid drops, fork,
 * signals, /proc, seccomp, mode bits...) is listed as
 * TEST_POSIX(fn, "why") and its code is inside #ifndef _WIN32: on Windows
 * the harness prints "  skipped on Windows: why" for it. run_in_child and
 * run_as_nobody skip the calling test there, with the reason printed.
 * A child that must run on both platforms takes a string and is
 * registered, then started with run_child:
 *
 *   static int child_fn(const char *arg) { ... return 0; }
 *   static const struct test_child children[] = { CHILD(child_fn), };
 *   ... CHECK_EQ_INT(run_child(child_fn, "some text"), 0); ...
 *   TEST_MAIN_CHILDREN(tests, children)
 *
 * On POSIX run_child forks; on Windows it re-runs this executable
 * (CreateProcessW) with "--harness-child child_fn <arg> <scratch>", and
 * run_tests, seeing those arguments, runs the child and exits with its
 * value. Either way the child sees the parent's `scratch`.
 */
#ifndef TMPF_TEST_HARNESS_H
#define TMPF_TEST_HARNESS_H

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <setjmp.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/types.h>

struct test {
    const char *name;
    void (*fn)(void);
    const char *windows_skip; /* TEST_POSIX: why it does not run there */
};
#define TEST(fn) {#fn, fn, NULL}
#ifdef _WIN32
#define TEST_POSIX(fn, why) {#fn, NULL, why}
#else
#define TEST_POSIX(fn, why) {#fn, fn, NULL}
#endif

/* A function run_child can start in a child process (both platforms). */
struct test_child {
    const char *name;
    int (*fn)(const char *arg);
};
#define CHILD(fn) {#fn, fn}

/* The separator path_join writes: the one the library writes. */
#ifdef _WIN32
#define HARNESS_WINDOWS 1
#define HARNESS_SEP '\\'
#define HARNESS_SEP_STR "\\"
#else
#define HARNESS_WINDOWS 0
#define HARNESS_SEP '/'
#define HARNESS_SEP_STR "/"
#endif

/* The errno for a path through a regular file ("file/x", or a file given
 * as the directory): ENOTDIR on POSIX; Win32 says ERROR_PATH_NOT_FOUND
 * there, which is ENOENT (Python's FileNotFoundError). */
#ifdef _WIN32
#define HARNESS_ENOTDIR ENOENT
#else
#define HARNESS_ENOTDIR ENOTDIR
#endif

/* CTest's SKIP_RETURN_CODE (tests/CMakeLists.txt), automake's value. */
#define HARNESS_SKIP_CODE 77

static int test_failures_in_current;
static bool test_skipped_in_current;
static char scratch[4096];
static const struct test_child *harness_children;
static size_t harness_child_count;

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

/* A file's permission bits: all of them on POSIX; on Windows only the
 * owner-write bit means something there (the read-only attribute; the
 * rest is a DACL, checked by test_windows.c), so only it is compared. */
#ifdef _WIN32
#define CHECK_MODE(got, want)                                                  \
    do {                                                                       \
        long long mg_ = (long long)(got), mw_ = (long long)(want);             \
        if ((mg_ & 0200) != (mw_ & 0200))                                      \
            FAIL_AT("%s: mode %llo, want owner-write as in %llo", #got, mg_,    \
                    mw_);                                                      \
    } while (0)
#else
#define CHECK_MODE(got, want) CHECK_EQ_INT(got, want)
#endif

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

/* Skips the rest of a test that cannot run on Windows (inside #ifdef
 * _WIN32), with the reason, like SKIP. */
#define SKIP_WINDOWS(why)                                                      \
    do {                                                                       \
        fprintf(stderr, "  skipped on Windows: %s\n", why);                    \
        test_skipped_in_current = true;                                        \
        return;                                                                \
    } while (0)

/* Where a test that must be skipped half-way returns to (run_tests). */
static jmp_buf harness_skip_jump;
static bool harness_in_child; /* a run_child / run_in_child child */

/* Ends the running test as skipped, from any depth of the test process
 * (not from a child it forked). What the test opened or allocated so far
 * is not released: a skip is for a test that cannot run here at all. */
static inline void harness_skip_test(const char *why)
{
    fprintf(stderr, "  skipped: %s\n", why);
    longjmp(harness_skip_jump, 1);
}

/* The registered child named name, or NULL. */
static inline const struct test_child *harness_child_named(const char *name)
{
    for (size_t i = 0; i < harness_child_count; i++)
        if (strcmp(harness_children[i].name, name) == 0)
            return &harness_children[i];
    return NULL;
}

/* Text as hex digits and back (run_child's arguments cross a command
 * line as plain ASCII). Both return malloc'd strings, NULL on error. */
static inline char *harness_hex(const char *s)
{
    size_t n = strlen(s);
    char *h = malloc(2 * n + 2);
    if (!h)
        return NULL;
    for (size_t i = 0; i < n; i++)
        snprintf(h + 2 * i, 3, "%02x", (unsigned char)s[i]);
    h[2 * n] = '\0';
    if (n == 0)
        strcpy(h, "-"); /* an empty argument would vanish */
    return h;
}

static inline char *harness_unhex(const char *h)
{
    if (strcmp(h, "-") == 0)
        h = "";
    size_t n = strlen(h) / 2;
    char *s = malloc(n + 1);
    if (!s)
        return NULL;
    for (size_t i = 0; i < n; i++) {
        unsigned v;
        if (sscanf(h + 2 * i, "%2x", &v) != 1) {
            free(s);
            return NULL;
        }
        s[i] = (char)v;
    }
    s[n] = '\0';
    return s;
}

/* The platform side: system headers; count_open_fds; sticky_dir;
 * harness_scratch_base, harness_mkdtemp, harness_rmrf; run_in_child,
 * run_as_nobody; harness_spawn_child (run_child's process). */
#ifdef _WIN32
#include "harness_win.h"
#else
#include "harness_posix.h"
#endif

#include "entries.h"

/* What to divide a test's repetition counts by: TMPF_TEST_SCALE=n, else
 * 25 under valgrind (its preload library is in LD_PRELOAD), 10 under
 * ThreadSanitizer or Wine (each file operation a round trip to
 * wineserver: test_concurrency's 100,000 creations took over 600 s), else
 * 1. */
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
#elif defined(_WIN32)
    return harness_under_wine() ? 10 : 1;
#else
    const char *p = getenv("LD_PRELOAD");
    return p && strstr(p, "vgpreload") ? 25 : 1;
#endif
}

/* dir + "/" + name in one of eight rotating static buffers, so a few
 * results can be used at once (dir may itself be an earlier result).
 * On Windows the separator is '\\', as the library writes it. */
static inline char *path_join(const char *dir, const char *name)
{
    static char buf[8][4096];
    static int next;
    char *b = buf[next++ % 8];
    size_t dl = strlen(dir), nl = strlen(name);
    if (dl + 1 + nl + 1 > sizeof buf[0])
        abort();
    memmove(b, dir, dl);
    b[dl] = HARNESS_SEP;
    memcpy(b + dl + 1, name, nl + 1);
    return b;
}

/* Whether c separates path components ('/', on Windows also '\\'). */
static inline bool is_sep(char c)
{
    return c == '/' || (HARNESS_WINDOWS && c == '\\');
}

/* The last component of p: after its last '/' (on Windows '/' or '\\',
 * the library writes '\\'). p itself if it has no separator. */
static inline const char *path_base(const char *p)
{
    const char *b = p;
    for (const char *c = p; *c; c++)
        if (is_sep(*c))
            b = c + 1;
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

/* Runs the registered child fn with arg in a child process (fork on POSIX,
 * this executable re-run on Windows); returns its exit status (fn's
 * value, 0-127) or -1 if it could not run or crashed. An unregistered fn
 * is a failure of the calling test (it could not run on Windows). */
static inline int run_child(int (*fn)(const char *), const char *arg)
{
    const struct test_child *c = NULL;
    for (size_t i = 0; i < harness_child_count; i++)
        if (harness_children[i].fn == fn)
            c = &harness_children[i];
    if (!c) {
        FAIL_AT("run_child: the child is not in TEST_MAIN_CHILDREN's table");
        return -1;
    }
    fflush(NULL);
    return harness_spawn_child(c, arg);
}

/* Starts the registered child fn with arg without waiting (as run_child);
 * then child_kill (SIGKILL, TerminateProcess: nothing of the child's own
 * runs) and/or child_wait, which returns its exit status or -1 if it was
 * killed or crashed. false if it could not start. */
static inline bool child_start(int (*fn)(const char *), const char *arg,
                               struct harness_proc *p)
{
    const struct test_child *c = NULL;
    for (size_t i = 0; i < harness_child_count; i++)
        if (harness_children[i].fn == fn)
            c = &harness_children[i];
    if (!c) {
        FAIL_AT("child_start: the child is not in TEST_MAIN_CHILDREN's table");
        return false;
    }
    fflush(NULL);
    return harness_proc_start(c, arg, p);
}

static inline void child_kill(struct harness_proc *p)
{
    harness_proc_kill(p);
}

static inline int child_wait(struct harness_proc *p)
{
    return harness_proc_wait(p);
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

/* Whether argv is run_child's re-run of this program (Windows), which
 * run_tests turns into the child: for a main that prints before it. */
static inline bool harness_is_child_run(int argc, char **argv)
{
    return argc == 5 && strcmp(argv[1], "--harness-child") == 0;
}

/* "--harness-child NAME ARG SCRATCH" (Windows: run_child's re-run): runs
 * the child with scratch set, returns its value; -1 if not that form. */
static inline int harness_child_main(int argc, char **argv)
{
    if (!harness_is_child_run(argc, argv))
        return -1;
    const struct test_child *c = harness_child_named(argv[2]);
    if (!c) {
        fprintf(stderr, "no child named %s\n", argv[2]);
        return 125;
    }
    char *arg = harness_unhex(argv[3]);
    char *dir = harness_unhex(argv[4]);
    if (!arg || !dir)
        return 125;
    snprintf(scratch, sizeof scratch, "%s", dir);
    free(dir);
    harness_in_child = true;
    int rc = c->fn(arg) & 0x7f;
    free(arg);
    fflush(NULL);
    return rc;
}

static inline int run_tests(const struct test *tests, size_t count, int argc,
                            char **argv)
{
    int passed = 0, failed = 0, skipped = 0;
    harness_platform_init();
    int child_rc = harness_child_main(argc, argv);
    if (child_rc >= 0)
        return child_rc;
    const char *base = harness_scratch_base();
    for (size_t i = 0; i < count; i++) {
        if (argc > 1) {
            bool wanted = false;
            for (int a = 1; a < argc; a++)
                if (strstr(tests[i].name, argv[a]))
                    wanted = true;
            if (!wanted)
                continue;
        }
        if (!tests[i].fn) {
            fprintf(stderr, "[ RUN  ] %s\n  skipped on Windows: %s\n[ SKIP ] %s\n",
                    tests[i].name, tests[i].windows_skip, tests[i].name);
            skipped++;
            continue;
        }
        snprintf(scratch, sizeof scratch, "%s%ctmpf-test-XXXXXX", base,
                 HARNESS_SEP);
        if (!harness_mkdtemp(scratch)) {
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

/* Registers the children run_child may start (call before run_tests, in a
 * main of the test's own). */
static inline void harness_set_children(const struct test_child *c, size_t n)
{
    harness_children = c;
    harness_child_count = n;
}

#define TEST_MAIN(table)                                                       \
    int main(int argc, char **argv)                                            \
    {                                                                          \
        return run_tests(table, sizeof table / sizeof table[0], argc, argv);   \
    }

#define TEST_MAIN_CHILDREN(table, children)                                    \
    int main(int argc, char **argv)                                            \
    {                                                                          \
        harness_set_children(children, sizeof children / sizeof children[0]);  \
        return run_tests(table, sizeof table / sizeof table[0], argc, argv);   \
    }

#endif
