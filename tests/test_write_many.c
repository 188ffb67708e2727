/*
 * tmpf_write_atomic_many: every target replaced atomically on its own,
 * every item's error set, a durable batch with one fsync per file (all at
 * once) plus one per distinct directory, no thread left running, and a
 * crash test: SIGKILL at random points of a 100-file durable batch, each
 * target whole (old or new) afterwards, and nothing left beyond what the
 * next batch removes. TMPF_CRASH_ROUNDS sets the number of kills (100).
 */
#include "harness.h"

#include <time.h>
#include <tmpf.h>

extern unsigned long tmpf__test_fsync_count(void);

#define FILES 100
#define SIZE_A 4096
#define SIZE_B 3000

static char *path_in(const char *name)
{
    static char buf[8][4400];
    static int next;
    char *b = buf[next++ % 8];
    snprintf(b, sizeof buf[0], "%s" HARNESS_SEP_STR "%s", scratch, name);
    return b;
}

/* File i's two versions: its number and the letter, repeated. */
static void fill(char *buf, int i, char v, size_t n)
{
    for (size_t k = 0; k < n; k++)
        buf[k] = k % 2 ? v : (char)('0' + i % 10);
}

/* 'A', 'B', or 0 (missing, torn, someone else's). */
static char version_of(const char *path, int i)
{
    char buf[SIZE_A + 1], want[SIZE_A];
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return 0;
    ssize_t n = read(fd, buf, sizeof buf);
    close(fd);
    if (n == SIZE_A) {
        fill(want, i, 'A', SIZE_A);
        return memcmp(buf, want, SIZE_A) ? 0 : 'A';
    }
    if (n == SIZE_B) {
        fill(want, i, 'B', SIZE_B);
        return memcmp(buf, want, SIZE_B) ? 0 : 'B';
    }
    return 0;
}

static char data_a[FILES][SIZE_A], data_b[FILES][SIZE_B];

static void batch(tmpf_write *w, char v, const char *sub)
{
    for (int i = 0; i < FILES; i++) {
        char name[64];
        snprintf(name, sizeof name, "%s/f%d", sub, i);
        w[i] = (tmpf_write){strdup(path_in(name)), v == 'A' ? data_a[i] : data_b[i],
                            v == 'A' ? SIZE_A : SIZE_B, -1};
        fill(data_a[i], i, 'A', SIZE_A);
        fill(data_b[i], i, 'B', SIZE_B);
    }
}

static void batch_free(tmpf_write *w)
{
    for (int i = 0; i < FILES; i++)
        free((char *)w[i].target);
}

static int threads_now(void)
{
    return count_entries("/proc/self/task");
}

static void test_replaces_each(void)
{
    CHECK(mkdir(path_in("d"), 0755) == 0);
    static tmpf_write w[FILES];
    batch(w, 'A', "d");
    for (int i = 0; i < FILES; i += 3) /* some exist already */
        CHECK(write_file(w[i].target, "old", 0640) == 0);
    CHECK_EQ_INT(tmpf_write_atomic_many(w, FILES, 0), 0);
    for (int i = 0; i < FILES; i++) {
        CHECK_EQ_INT(w[i].error, 0);
        CHECK_EQ_INT(version_of(w[i].target, i), 'A');
    }
    struct stat st;
    CHECK(stat(w[3].target, &st) == 0);
    CHECK_MODE(st.st_mode & 0777, 0640);
    CHECK_EQ_INT(count_entries(path_in("d")), FILES);
    batch_free(w);
    batch(w, 'B', "d");
    int threads = threads_now();
    CHECK_EQ_INT(tmpf_write_atomic_many(w, FILES, TMPF_DURABLE), 0);
    CHECK_EQ_INT(threads_now(), threads); /* no thread left running */
    for (int i = 0; i < FILES; i++)
        CHECK_EQ_INT(version_of(w[i].target, i), 'B');
    CHECK_EQ_INT(count_entries(path_in("d")), FILES);
    batch_free(w);
    CHECK_EQ_INT(tmpf_write_atomic_many(NULL, 0, 0), 0);
    CHECK_EQ_INT(tmpf_write_atomic_many(w, 0, TMPF_DURABLE), 0);
}

/* A big file goes through O_TMPFILE; the batch handles both kinds. */
static void test_large_and_noclobber(void)
{
    size_t big = 200000;
    char *data = malloc(big);
    memset(data, 'x', big);
    char a[4400], b[4400];
    snprintf(a, sizeof a, "%s/big", scratch);
    snprintf(b, sizeof b, "%s/small", scratch);
    tmpf_write w[2] = {{a, data, big, -1}, {b, "s", 1, -1}};
    CHECK_EQ_INT(tmpf_write_atomic_many(w, 2, TMPF_DURABLE | TMPF_NOCLOBBER), 0);
    CHECK_ERRNO(tmpf_write_atomic_many(w, 2, TMPF_NOCLOBBER), -1, EEXIST);
    CHECK_EQ_INT(w[0].error, EEXIST);
    CHECK_EQ_INT(w[1].error, EEXIST);
    struct stat st;
    CHECK(stat(a, &st) == 0 && st.st_size == (off_t)big);
    CHECK_EQ_INT(count_entries(scratch), 2);
    free(data);
}

static void test_errors_per_item(void)
{
    char ok1[4400], ok2[4400], missing[4400], fifo[4400];
    snprintf(ok1, sizeof ok1, "%s/ok1", scratch);
    snprintf(ok2, sizeof ok2, "%s/ok2", scratch);
    snprintf(missing, sizeof missing, "%s/no/such", scratch);
    snprintf(fifo, sizeof fifo, "%s/fifo", scratch);
#ifndef _WIN32
    CHECK(mkfifo(fifo, 0644) == 0);
    const int fifo_error = EPERM; /* not a regular file */
#else
    CHECK(mkdir(fifo, 0755) == 0); /* no fifos: a directory in its place */
    const int fifo_error = EISDIR;
#endif
    tmpf_write w[] = {
        {ok1, "1", 1, -1}, {missing, "m", 1, -1}, {NULL, "n", 1, -1},
        {scratch, "d", 1, -1}, {fifo, "f", 1, -1}, {ok2, NULL, 1, -1},
        {ok2, "2", 1, -1}, {"", "e", 1, -1},
    };
    size_t n = sizeof w / sizeof w[0];
    for (int durable = 0; durable < 2; durable++) {
        CHECK_ERRNO(tmpf_write_atomic_many(w, n, durable ? TMPF_DURABLE : 0), -1, ENOENT);
        CHECK_EQ_INT(w[0].error, 0);
        CHECK_EQ_INT(w[1].error, ENOENT);
        CHECK_EQ_INT(w[2].error, EINVAL);
        CHECK_EQ_INT(w[3].error, EISDIR);
        CHECK_EQ_INT(w[4].error, fifo_error);
        CHECK_EQ_INT(w[5].error, EINVAL);
        CHECK_EQ_INT(w[6].error, 0);
        CHECK_EQ_INT(w[7].error, ENOENT);
    }
    CHECK_EQ_INT(count_entries(scratch), 3);
    CHECK_ERRNO(tmpf_write_atomic_many(w, n, TMPF_KEEP), -1, EINVAL);
    for (size_t i = 0; i < n; i++)
        CHECK_EQ_INT(w[i].error, EINVAL);
    CHECK_ERRNO(tmpf_write_atomic_many(NULL, 2, 0), -1, EINVAL);
}

/* One fsync per file and one per distinct directory, against two per file
 * for durable tmpf_write_atomic calls. */
static void test_durable_fsyncs(void)
{
    CHECK(mkdir(path_in("d1"), 0755) == 0);
    CHECK(mkdir(path_in("d2"), 0755) == 0);
    static tmpf_write w[FILES];
    batch(w, 'A', "d1");
    for (int i = FILES / 2; i < FILES; i++) {
        free((char *)w[i].target);
        char name[64];
        snprintf(name, sizeof name, "d2/f%d", i);
        w[i].target = strdup(path_in(name));
    }
    unsigned long before = tmpf__test_fsync_count();
    CHECK_EQ_INT(tmpf_write_atomic_many(w, FILES, TMPF_DURABLE), 0);
    CHECK_EQ_INT(tmpf__test_fsync_count() - before, FILES + 2);
    before = tmpf__test_fsync_count();
    CHECK_EQ_INT(tmpf_write_atomic_many(w, FILES, 0), 0);
    CHECK_EQ_INT(tmpf__test_fsync_count() - before, 0);
    batch_free(w);
}

#ifndef _WIN32
/* ---- Crash test --------------------------------------------------------- */

static int rounds(void)
{
    const char *r = getenv("TMPF_CRASH_ROUNDS");
    return r && atoi(r) > 0 ? atoi(r) : 100;
}

static double now_us(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec * 1e6 + (double)ts.tv_nsec / 1e3;
}

static void test_crash_durable_batch(void)
{
    CHECK(mkdir(path_in("c"), 0755) == 0);
    static tmpf_write wa[FILES], wb[FILES];
    batch(wa, 'A', "c");
    batch(wb, 'B', "c");
    double t0 = now_us();
    CHECK_EQ_INT(tmpf_write_atomic_many(wa, FILES, TMPF_DURABLE), 0);
    double per = now_us() - t0;
    unsigned seed = (unsigned)time(NULL);
    int n = rounds(), left_by_kill = 0, a = 0, b = 0;
    for (int r = 0; r < n; r++) {
        fflush(NULL);
        pid_t pid = fork();
        if (pid == 0) {
            for (unsigned k = 0;; k++)
                if (tmpf_write_atomic_many(k % 2 ? wa : wb, FILES, TMPF_DURABLE) != 0)
                    _exit(1);
        }
        double delay = per * 3 * (double)rand_r(&seed) / RAND_MAX;
        struct timespec ts = {(time_t)(delay / 1e6), (long)((delay - (double)(long)(delay / 1e6) * 1e6) * 1e3)};
        nanosleep(&ts, NULL);
        kill(pid, SIGKILL);
        int status;
        waitpid(pid, &status, 0);
        if (WIFEXITED(status)) {
            FAIL_AT("the batch failed in the child (round %d)", r);
            break;
        }
        bool broken = false;
        for (int i = 0; i < FILES; i++) {
            char v = version_of(wa[i].target, i);
            if (!v)
                broken = true;
            a += v == 'A';
            b += v == 'B';
        }
        if (broken) {
            FAIL_AT("a torn or missing target after kill %d (seed %u)", r, seed);
            break;
        }
        left_by_kill += count_entries(path_in("c")) - FILES;
        /* The next batch removes whatever side name a kill left. */
        if (tmpf_write_atomic_many(wa, FILES, TMPF_DURABLE) != 0 ||
            count_entries(path_in("c")) != FILES) {
            FAIL_AT("after the next batch: %d entries (kill %d)",
                    count_entries(path_in("c")), r);
            break;
        }
    }
    fprintf(stderr, "  %d kills (%.0f us per batch): every target whole (%d A, %d B); "
                    "side names left by the kills: %d, all removed by the next batch\n",
            n, per, a, b, left_by_kill);
    batch_free(wa);
    batch_free(wb);
}
#endif

static const struct test tests[] = {
    TEST(test_replaces_each),
    TEST(test_large_and_noclobber),
    TEST(test_errors_per_item),
    TEST(test_durable_fsyncs),
    TEST_POSIX(test_crash_durable_batch, "a forked writer SIGKILLed mid-batch"),
};
TEST_MAIN(tests)
