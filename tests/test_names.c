/* Random names: alphabet, length, uniqueness, uniformity, and independence
 * across fork and threads. Names are observed through the public API
 * (tmpf_mktemp creates nothing, tmpf_mkstemp creates files). */
#include "harness.h"
#include "tmpf_features.h"
#include <pthread.h>
#ifndef _WIN32
#include <sys/resource.h>
#endif
#ifndef _WIN32
#include <sys/syscall.h>
#endif
#include <tmpf.h>

#define ALPHABET "abcdefghijklmnopqrstuvwxyz0123456789_"

/* The random part of a path made with prefix "p" and suffix ".s". */
static const char *random_part(const char *path, size_t *len)
{
    const char *name = path_base(path);
    *len = strlen(name) - strlen("p") - strlen(".s");
    return name + 1;
}

static char *name_with_len(unsigned rand_len)
{
    return tmpf_mktemp(&(tmpf_opts){.dir = scratch, .prefix = "p", .suffix = ".s",
                                    .rand_len = rand_len});
}

static void test_alphabet_and_length(void)
{
    static const struct {
        unsigned rand_len, want;
    } cases[] = {{1, 1}, {8, 8}, {64, 64}, {0, 8}, {37, 37}};
    for (size_t c = 0; c < sizeof cases / sizeof *cases; c++) {
        for (int k = 0; k < 200; k++) {
            char *path = name_with_len(cases[c].rand_len);
            CHECK(path != NULL);
            if (!path)
                return;
            size_t n;
            const char *r = random_part(path, &n);
            CHECK_EQ_INT(n, cases[c].want);
            CHECK_EQ_INT(strspn(r, ALPHABET), cases[c].want);
            CHECK_EQ_STR(r + n, ".s");
            free(path);
        }
        /* The same through a real file. */
        char *path = NULL;
        int fd = tmpf_mkstemp(&(tmpf_opts){.dir = scratch, .prefix = "p", .suffix = ".s",
                                           .rand_len = cases[c].rand_len},
                              &path);
        CHECK(fd >= 0);
        if (fd < 0)
            return;
        size_t n;
        const char *r = random_part(path, &n);
        CHECK_EQ_INT(n, cases[c].want);
        CHECK_EQ_INT(strspn(r, ALPHABET), cases[c].want);
        close(fd);
        unlink(path);
        free(path);
    }
}

static int cmp_str(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Number of adjacent equal strings after sorting. */
static int duplicates(char **v, size_t n)
{
    qsort(v, n, sizeof *v, cmp_str);
    int dups = 0;
    for (size_t i = 1; i < n; i++)
        if (strcmp(v[i - 1], v[i]) == 0)
            dups++;
    return dups;
}

static void free_all(char **v, size_t n)
{
    for (size_t i = 0; i < n; i++)
        free(v[i]);
}

/* 10,000 real files with default names: every path distinct and every file
 * really there (a reused path would show as fewer entries). */
static void test_10000_mkstemp_unique(void)
{
    enum { N = 10000 };
    char **paths = calloc(N, sizeof *paths);
    size_t made = 0;
    for (; made < N; made++) {
        int fd = tmpf_mkstemp(&(tmpf_opts){.dir = scratch}, &paths[made]);
        if (fd < 0)
            break;
        close(fd);
    }
    CHECK_EQ_INT(made, N);
    CHECK_EQ_INT(count_entries(scratch), N);
    CHECK_EQ_INT(duplicates(paths, made), 0);
    free_all(paths, made);
    free(paths);
}

/* 10,000 names never repeat. With 16 characters a chance repeat has
 * probability below 1e-16; a stuck generator repeats at once. */
static void test_10000_names_unique(void)
{
    enum { N = 10000 };
    char **names = calloc(N, sizeof *names);
    size_t made = 0;
    for (; made < N; made++)
        if (!(names[made] = name_with_len(16)))
            break;
    CHECK_EQ_INT(made, N);
    CHECK_EQ_INT(duplicates(names, made), 0);
    free_all(names, made);
    free(names);
    CHECK_EQ_INT(count_entries(scratch), 0);
}

/* Each of the 37 characters should be equally likely. 4,000 names of 64
 * characters give 256,000 draws, about 6,919 per character. Chi-square
 * with 36 degrees of freedom exceeds 125 with probability below 1e-10, so
 * a correct generator never fails; the modulo bias of `byte % 37` (the
 * last 3 characters 13% rarer) scores about 400. */
static void test_uniform_characters(void)
{
    enum { NAMES = 4000, LEN = 64 };
    long counts[256] = {0};
    long total = 0;
    for (int k = 0; k < NAMES; k++) {
        char *path = name_with_len(LEN);
        CHECK(path != NULL);
        if (!path)
            return;
        size_t n;
        const char *r = random_part(path, &n);
        for (size_t i = 0; i < n; i++, total++)
            counts[(unsigned char)r[i]]++;
        free(path);
    }
    double expected = (double)total / 37.0, chi2 = 0;
    long in_alphabet = 0;
    for (const char *c = ALPHABET; *c; c++) {
        double d = (double)counts[(unsigned char)*c] - expected;
        chi2 += d * d / expected;
        in_alphabet += counts[(unsigned char)*c];
    }
    CHECK_EQ_INT(in_alphabet, total);
    if (chi2 >= 125.0)
        FAIL_AT("chi-square %.1f over 37 characters (df 36) >= 125", chi2);
}

/* Writes n names (random parts of 16 characters) into out. */
static int make_names(char (*out)[17], int n)
{
    for (int k = 0; k < n; k++) {
        char *path = name_with_len(16);
        if (!path)
            return -1;
        size_t len;
        memcpy(out[k], random_part(path, &len), 16);
        out[k][16] = '\0';
        free(path);
    }
    return 0;
}

static int cmp_name(const void *a, const void *b) { return strcmp(a, b); }

#ifndef _WIN32
static pid_t libc_fork(void) { return fork(); }

/* A fork that runs no pthread_atfork handler, as _Fork or a raw clone. */
static pid_t raw_fork(void) { return (pid_t)syscall(SYS_clone, SIGCHLD, 0, 0, 0, 0); }

/* A forked child must not replay the names its parent's buffer still
 * holds: both sides draw after the fork and no name may appear twice. */
static void check_fork_child_names_differ(pid_t (*fork_fn)(void))
{
    enum { N = 1000 };
    static char parent[N][17], child[N][17], all[2 * N][17];
    char *warm = name_with_len(16); /* fills the parent's buffer */
    CHECK(warm != NULL);
    free(warm);

    int fds[2];
    CHECK(pipe2(fds, O_CLOEXEC) == 0);
    fflush(NULL);
    pid_t pid = fork_fn();
    CHECK(pid >= 0);
    if (pid < 0)
        return;
    if (pid == 0) {
        close(fds[0]);
        static char mine[N][17];
        int ok = make_names(mine, N) == 0 &&
                 write(fds[1], mine, sizeof mine) == (ssize_t)sizeof mine;
        _exit(ok ? 0 : 1);
    }
    close(fds[1]);
    CHECK(make_names(parent, N) == 0);
    size_t got = 0;
    while (got < sizeof child) {
        ssize_t r = read(fds[0], (char *)child + got, sizeof child - got);
        if (r <= 0)
            break;
        got += (size_t)r;
    }
    close(fds[0]);
    int status;
    CHECK(waitpid(pid, &status, 0) == pid);
    CHECK(WIFEXITED(status) && WEXITSTATUS(status) == 0);
    CHECK_EQ_INT(got, sizeof child);
    memcpy(all, parent, sizeof parent);
    memcpy(all[N], child, sizeof child);
    qsort(all, 2 * N, sizeof all[0], cmp_name);
    int dups = 0;
    for (int k = 1; k < 2 * N; k++)
        dups += strcmp(all[k - 1], all[k]) == 0;
    CHECK_EQ_INT(dups, 0);
}

static void test_fork_child_names_differ(void) { check_fork_child_names_differ(libc_fork); }

/* Without fork handlers the child must still notice (MADV_WIPEONFORK). */
static void test_raw_fork_child_names_differ(void)
{
    /* Where no page can be wiped in a child (generic POSIX, macOS), only
     * fork(3) is covered: documented in docs/PORTABILITY.md. */
    if (!TMPF_CAN_WIPE_ON_FORK)
        SKIP("no MADV_WIPEONFORK / INHERIT_ZERO in this build");
    check_fork_child_names_differ(raw_fork);
}
#endif

struct thread_names {
    char (*names)[17];
    int n;
    int rc;
};

static void *thread_main(void *arg)
{
    struct thread_names *t = arg;
    t->rc = make_names(t->names, t->n);
    return NULL;
}

/* Two threads drawing at once: no name in common, none repeated. */
static void test_threads_no_duplicates(void)
{
    enum { N = 10000 };
    char(*all)[17] = calloc(2 * N, sizeof *all);
    struct thread_names t[2] = {{all, N, -1}, {all + N, N, -1}};
    pthread_t th[2];
    for (int k = 0; k < 2; k++)
        CHECK(pthread_create(&th[k], NULL, thread_main, &t[k]) == 0);
    for (int k = 0; k < 2; k++) {
        pthread_join(th[k], NULL);
        CHECK_EQ_INT(t[k].rc, 0);
    }
    qsort(all, 2 * N, sizeof all[0], cmp_name);
    int dups = 0;
    for (int k = 1; k < 2 * N; k++)
        dups += strcmp(all[k - 1], all[k]) == 0;
    CHECK_EQ_INT(dups, 0);
    free(all);
}
#ifndef _WIN32

/* Names never need a descriptor (issue 18, defect 2): with no descriptor
 * left, a thread whose random pool is still empty (so it must ask the
 * kernel) gets a name. A /dev/urandom fallback would fail with EMFILE. */
static void *mktemp_in_new_thread(void *arg)
{
    (void)arg;
    return tmpf_mktemp(&(tmpf_opts){.dir = scratch});
}

static void test_names_need_no_descriptor(void)
{
    struct rlimit old;
    CHECK_EQ_INT(getrlimit(RLIMIT_NOFILE, &old), 0);
    int lowest = dup(0);
    CHECK(lowest >= 0);
    close(lowest);
    struct rlimit lim = {(rlim_t)lowest, old.rlim_max};
    if (setrlimit(RLIMIT_NOFILE, &lim) != 0)
        SKIP("cannot lower RLIMIT_NOFILE (valgrind keeps its own)");
    CHECK_ERRNO(dup(0), -1, EMFILE); /* really none left */
    pthread_t th;
    void *name = NULL;
    int rc = pthread_create(&th, NULL, mktemp_in_new_thread, NULL);
    CHECK_EQ_INT(rc, 0);
    if (rc == 0)
        CHECK_EQ_INT(pthread_join(th, &name), 0);
    CHECK_EQ_INT(setrlimit(RLIMIT_NOFILE, &old), 0);
    CHECK(name != NULL);
    free(name);
}
#endif

static const struct test tests[] = {
    TEST_POSIX(test_names_need_no_descriptor, "RLIMIT_NOFILE"),
    TEST(test_alphabet_and_length),
    TEST(test_10000_mkstemp_unique),
    TEST(test_10000_names_unique),
    TEST(test_uniform_characters),
    TEST_POSIX(test_fork_child_names_differ, "fork"),
    TEST_POSIX(test_raw_fork_child_names_differ, "fork (a raw clone)"),
    TEST(test_threads_no_duplicates),
};
TEST_MAIN(tests)
