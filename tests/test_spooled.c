/* Spooled temporary files: Python's SpooledTemporaryFile tests
 * (Lib/test/test_tempfile.py) in C, the failure paths, and a differential
 * test against a plain temporary file. */
#include "harness.h"
#include <tmpf.h>

#include <stdint.h>
#include <sys/mount.h>
#include <sys/resource.h>

/* The ENOMEM test asks for a petabyte: under ASan that must fail like
 * malloc, not abort. */
const char *__asan_default_options(void);
const char *__asan_default_options(void) { return "allocator_may_return_null=1"; }

static tmpf_file *spooled(size_t max_size)
{
    return tmpf_spooled_temporary_file(
        &(tmpf_opts){.dir = scratch, .max_size = max_size});
}

static ssize_t put(tmpf_file *f, const char *s)
{
    return tmpf_file_write(f, s, strlen(s));
}

static ssize_t put_x(tmpf_file *f, size_t n)
{
    char buf[4096];
    memset(buf, 'x', sizeof buf);
    ssize_t total = 0;
    while (n) {
        size_t k = n < sizeof buf ? n : sizeof buf;
        ssize_t w = tmpf_file_write(f, buf, k);
        if (w < 0)
            return -1;
        total += w;
        n -= k;
    }
    return total;
}

/* The whole content, read through the API; the position is restored.
 * Returns the size, or -1. */
static long content(tmpf_file *f, char *out, size_t cap)
{
    int64_t pos = tmpf_file_tell(f);
    if (pos < 0 || tmpf_file_seek(f, 0, SEEK_SET) != 0)
        return -1;
    ssize_t n = tmpf_file_read(f, out, cap);
    if (tmpf_file_seek(f, pos, SEEK_SET) != pos)
        return -1;
    return (long)n;
}

static uint64_t stat_bytes(void)
{
    tmpf_stats st;
    tmpf_get_stats(&st);
    return st.spooled_bytes;
}

/* ---- Python's tests ------------------------------------------------------ */

static void test_rewrite_small(void)
{
    tmpf_file *f = spooled(30);
    CHECK(f != NULL);
    if (!f)
        return;
    CHECK(!tmpf_file_rolled(f));
    for (int i = 0; i < 5; i++) {
        CHECK_EQ_INT(tmpf_file_seek(f, 0, SEEK_SET), 0);
        CHECK_EQ_INT(put_x(f, 20), 20);
    }
    CHECK(!tmpf_file_rolled(f));
    CHECK_EQ_INT(tmpf_file_seek(f, 0, SEEK_END), 20);
    CHECK(tmpf_file_path(f) == NULL);
    CHECK_EQ_INT(count_entries(scratch), 0);
    CHECK_EQ_INT(tmpf_file_cleanup(f), 0);
}

static void test_write_sequential(void)
{
    tmpf_file *f = spooled(30);
    CHECK(f != NULL);
    if (!f)
        return;
    CHECK_EQ_INT(put_x(f, 20), 20);
    CHECK(!tmpf_file_rolled(f));
    CHECK_EQ_INT(put_x(f, 10), 10); /* exactly max_size: stays */
    CHECK(!tmpf_file_rolled(f));
    CHECK_EQ_INT(put_x(f, 1), 1); /* max_size + 1: rolls */
    CHECK(tmpf_file_rolled(f));
    char buf[64];
    CHECK_EQ_INT(content(f, buf, sizeof buf), 31);
    CHECK_EQ_INT(tmpf_file_tell(f), 31);
    CHECK_EQ_INT(count_entries(scratch), 0); /* anonymous on disk */
    tmpf_file_cleanup(f);
}

static void test_one_write_crossing(void)
{
    /* A single write from below to above the threshold. */
    tmpf_file *f = spooled(30);
    CHECK_EQ_INT(put(f, "0123456789"), 10);
    CHECK_EQ_INT(put_x(f, 25), 25);
    CHECK(tmpf_file_rolled(f));
    char buf[64];
    CHECK_EQ_INT(content(f, buf, sizeof buf), 35);
    CHECK(memcmp(buf, "0123456789xxxxx", 15) == 0);
    CHECK_EQ_INT(tmpf_file_tell(f), 35);
    tmpf_file_cleanup(f);
}

static void test_sparse(void)
{
    tmpf_file *f = spooled(30);
    CHECK(f != NULL);
    if (!f)
        return;
    CHECK_EQ_INT(tmpf_file_seek(f, 1000000, SEEK_SET), 1000000);
    CHECK(!tmpf_file_rolled(f));
    CHECK_EQ_INT(put(f, "x"), 1);
    CHECK(tmpf_file_rolled(f));
    struct stat st;
    CHECK(fstat(tmpf_file_fileno(f), &st) == 0);
    CHECK_EQ_INT(st.st_size, 1000001);
    tmpf_file_cleanup(f);

    /* A gap that stays in memory reads as zeros. */
    f = spooled(100);
    CHECK_EQ_INT(put(f, "ab"), 2);
    CHECK_EQ_INT(tmpf_file_seek(f, 10, SEEK_SET), 10);
    CHECK_EQ_INT(tmpf_file_tell(f), 10);
    CHECK_EQ_INT(tmpf_file_seek(f, 0, SEEK_END), 2); /* seek alone: no growth */
    CHECK_EQ_INT(tmpf_file_seek(f, 10, SEEK_SET), 10);
    CHECK_EQ_INT(tmpf_file_write(f, "", 0), 0); /* empty write: no growth */
    CHECK_EQ_INT(tmpf_file_seek(f, 0, SEEK_END), 2);
    CHECK_EQ_INT(tmpf_file_seek(f, 10, SEEK_SET), 10);
    CHECK_EQ_INT(put(f, "cd"), 2);
    CHECK(!tmpf_file_rolled(f));
    char buf[32];
    CHECK_EQ_INT(content(f, buf, sizeof buf), 12);
    CHECK(memcmp(buf, "ab\0\0\0\0\0\0\0\0cd", 12) == 0);
    tmpf_file_cleanup(f);
}

static void test_fileno(void)
{
    tmpf_file *f = spooled(30);
    CHECK(f != NULL);
    if (!f)
        return;
    CHECK_EQ_INT(put(f, "hello"), 5);
    CHECK(!tmpf_file_rolled(f));
    int fd = tmpf_file_fileno(f);
    CHECK(fd >= 0);
    CHECK(tmpf_file_rolled(f));
    CHECK(fcntl(fd, F_GETFD) & FD_CLOEXEC);
    char buf[8] = {0};
    CHECK_EQ_INT(pread(fd, buf, sizeof buf, 0), 5);
    CHECK_EQ_STR(buf, "hello");
    CHECK_EQ_INT(lseek(fd, 0, SEEK_CUR), 5);
    CHECK_EQ_INT(tmpf_file_fileno(f), fd); /* same descriptor again */
    /* The anonymous file is in the given directory. */
    char link[64], target[4096];
    snprintf(link, sizeof link, "/proc/self/fd/%d", fd);
    ssize_t n = readlink(link, target, sizeof target - 1);
    CHECK(n > 0);
    if (n > 0) {
        target[n] = '\0';
        CHECK(strncmp(target, scratch, strlen(scratch)) == 0);
    }
    CHECK(tmpf_file_path(f) == NULL);
    tmpf_file_cleanup(f);
}

static void test_explicit_rollover_keeps_position(void)
{
    tmpf_file *f = spooled(0);
    CHECK(f != NULL);
    if (!f)
        return;
    CHECK_EQ_INT(put(f, "abcdefghij"), 10);
    CHECK_EQ_INT(tmpf_file_seek(f, 3, SEEK_SET), 3);
    CHECK_EQ_INT(tmpf_file_rollover(f), 0);
    CHECK(tmpf_file_rolled(f));
    CHECK_EQ_INT(tmpf_file_tell(f), 3);
    char buf[16] = {0};
    CHECK_EQ_INT(tmpf_file_read(f, buf, sizeof buf), 7);
    CHECK_EQ_STR(buf, "defghij");
    CHECK_EQ_INT(tmpf_file_rollover(f), 0); /* no-op once rolled */
    CHECK_EQ_INT(tmpf_file_tell(f), 10);
    tmpf_file_cleanup(f);

    /* A position past the end survives too, and the size does not grow. */
    f = spooled(0);
    CHECK_EQ_INT(put(f, "abc"), 3);
    CHECK_EQ_INT(tmpf_file_seek(f, 50, SEEK_SET), 50);
    CHECK_EQ_INT(tmpf_file_rollover(f), 0);
    CHECK_EQ_INT(tmpf_file_tell(f), 50);
    CHECK_EQ_INT(tmpf_file_seek(f, 0, SEEK_END), 3);
    tmpf_file_cleanup(f);

    /* An empty file rolls over too. */
    f = spooled(0);
    CHECK_EQ_INT(tmpf_file_rollover(f), 0);
    CHECK(tmpf_file_rolled(f));
    CHECK_EQ_INT(tmpf_file_seek(f, 0, SEEK_END), 0);
    tmpf_file_cleanup(f);
}

static void test_max_size_zero_never_rolls_by_itself(void)
{
    tmpf_file *f = spooled(0);
    CHECK(f != NULL);
    if (!f)
        return;
    CHECK_EQ_INT(put_x(f, 3 << 20), 3 << 20);
    CHECK_EQ_INT(tmpf_file_truncate(f, 5 << 20), 0);
    CHECK(!tmpf_file_rolled(f));
    CHECK_EQ_INT(tmpf_file_seek(f, 0, SEEK_END), 5 << 20);
    CHECK(tmpf_file_fileno(f) >= 0);
    CHECK(tmpf_file_rolled(f));
    CHECK_EQ_INT(tmpf_file_seek(f, 0, SEEK_END), 5 << 20);
    tmpf_file_cleanup(f);
}

static void test_truncate_with_size(void)
{
    tmpf_file *f = spooled(10);
    CHECK(f != NULL);
    if (!f)
        return;
    char buf[64];
    CHECK_EQ_INT(put(f, "abcdefg\n"), 8);
    CHECK_EQ_INT(tmpf_file_truncate(f, 4), 0);
    CHECK(!tmpf_file_rolled(f));
    CHECK_EQ_INT(tmpf_file_tell(f), 8); /* position does not move */
    CHECK_EQ_INT(content(f, buf, sizeof buf), 4);
    CHECK(memcmp(buf, "abcd", 4) == 0);
    /* Growing within max_size fills with zeros and stays in memory. */
    CHECK_EQ_INT(tmpf_file_truncate(f, 10), 0);
    CHECK(!tmpf_file_rolled(f));
    CHECK_EQ_INT(content(f, buf, sizeof buf), 10);
    CHECK(memcmp(buf, "abcd\0\0\0\0\0\0", 10) == 0);
    CHECK_EQ_INT(tmpf_file_tell(f), 8);
    /* Above max_size rolls over. */
    CHECK_EQ_INT(tmpf_file_truncate(f, 20), 0);
    CHECK(tmpf_file_rolled(f));
    struct stat st;
    CHECK(fstat(tmpf_file_fileno(f), &st) == 0);
    CHECK_EQ_INT(st.st_size, 20);
    CHECK_EQ_INT(tmpf_file_tell(f), 8);
    CHECK_EQ_INT(content(f, buf, sizeof buf), 20);
    CHECK(memcmp(buf, "abcd\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0", 20) == 0);
    CHECK_ERRNO(tmpf_file_truncate(f, -1), -1, EINVAL);
    tmpf_file_cleanup(f);

    f = spooled(10);
    CHECK_ERRNO(tmpf_file_truncate(f, -1), -1, EINVAL);
    CHECK(!tmpf_file_rolled(f));
    CHECK_EQ_INT(tmpf_file_truncate(f, 0), 0);
    tmpf_file_cleanup(f);
}

static void test_multiple_close_before_rollover(void)
{
    tmpf_file *f = spooled(100);
    CHECK(f != NULL);
    if (!f)
        return;
    CHECK_EQ_INT(put(f, "abc"), 3);
    CHECK(!tmpf_file_rolled(f));
    CHECK_EQ_INT(tmpf_file_close(f), 0);
    CHECK_EQ_INT(tmpf_file_close(f), 0);
    char c;
    CHECK_ERRNO(tmpf_file_read(f, &c, 1), -1, EBADF);
    CHECK_ERRNO(tmpf_file_write(f, "x", 1), -1, EBADF);
    CHECK_ERRNO(tmpf_file_seek(f, 0, SEEK_SET), -1, EBADF);
    CHECK_ERRNO(tmpf_file_truncate(f, 0), -1, EBADF);
    CHECK_ERRNO(tmpf_file_fileno(f), -1, EBADF);
    CHECK_ERRNO(tmpf_file_rollover(f), -1, EBADF);
    CHECK(tmpf_file_path(f) == NULL);
    CHECK_EQ_INT(tmpf_file_cleanup(f), 0);
}

static void test_multiple_close_after_rollover(void)
{
    tmpf_file *f = spooled(1);
    CHECK(f != NULL);
    if (!f)
        return;
    CHECK_EQ_INT(put(f, "abc"), 3);
    CHECK(tmpf_file_rolled(f));
    CHECK_EQ_INT(tmpf_file_close(f), 0);
    CHECK_EQ_INT(tmpf_file_close(f), 0);
    CHECK_ERRNO(tmpf_file_write(f, "x", 1), -1, EBADF);
    CHECK_EQ_INT(tmpf_file_cleanup(f), 0);
}

static void test_read_seek_tell_both_sides(void)
{
    for (int side = 0; side < 2; side++) {
        tmpf_file *f = spooled(0);
        CHECK(f != NULL);
        if (!f)
            return;
        CHECK_EQ_INT(put(f, "0123456789"), 10);
        if (side)
            CHECK_EQ_INT(tmpf_file_rollover(f), 0);
        CHECK_EQ_INT(tmpf_file_rolled(f), side);
        char buf[16] = {0};
        CHECK_EQ_INT(tmpf_file_read(f, buf, 4), 0); /* at end */
        CHECK_EQ_INT(tmpf_file_seek(f, 2, SEEK_SET), 2);
        CHECK_EQ_INT(tmpf_file_read(f, buf, 3), 3);
        CHECK(memcmp(buf, "234", 3) == 0);
        CHECK_EQ_INT(tmpf_file_tell(f), 5);
        CHECK_EQ_INT(tmpf_file_seek(f, -2, SEEK_CUR), 3);
        CHECK_EQ_INT(tmpf_file_seek(f, -4, SEEK_END), 6);
        CHECK_EQ_INT(tmpf_file_read(f, buf, 16), 4);
        CHECK(memcmp(buf, "6789", 4) == 0);
        CHECK_ERRNO(tmpf_file_seek(f, -11, SEEK_END), -1, EINVAL);
        CHECK_ERRNO(tmpf_file_seek(f, -1, SEEK_SET), -1, EINVAL);
        CHECK_ERRNO(tmpf_file_seek(f, INT64_MAX, SEEK_CUR), -1, EINVAL);
        CHECK_ERRNO(tmpf_file_seek(f, 0, 42), -1, EINVAL);
        CHECK_EQ_INT(tmpf_file_tell(f), 10); /* failed seeks do not move */
        CHECK_EQ_INT(tmpf_file_seek(f, 20, SEEK_END), 30);
        CHECK_EQ_INT(tmpf_file_read(f, buf, 4), 0);
        CHECK_EQ_INT(tmpf_file_flush(f), 0);
        CHECK_EQ_INT(tmpf_file_sync(f), 0);
        CHECK_EQ_INT(tmpf_file_rolled(f), side); /* sync does not roll */
        tmpf_file_cleanup(f);
    }
}

static void test_rolled_on_other_kinds(void)
{
    tmpf_file *f = tmpf_temporary_file(&(tmpf_opts){.dir = scratch});
    CHECK(f != NULL);
    CHECK(tmpf_file_rolled(f));
    CHECK_EQ_INT(tmpf_file_rollover(f), 0);
    tmpf_file_cleanup(f);
    CHECK(!tmpf_file_rolled(NULL));
}

static void test_bad_options(void)
{
    CHECK_NULL_ERRNO(tmpf_spooled_temporary_file(
                         &(tmpf_opts){.dir = scratch, .prefix = "a/b"}),
                     EINVAL);
    CHECK_NULL_ERRNO(tmpf_spooled_temporary_file(
                         &(tmpf_opts){.dir = scratch, .flags = 1u << 30}),
                     EINVAL);
    /* Default options work and touch no disk until rollover. */
    tmpf_file *f = tmpf_spooled_temporary_file(NULL);
    CHECK(f != NULL);
    CHECK_EQ_INT(put(f, "x"), 1);
    CHECK(!tmpf_file_rolled(f));
    tmpf_file_cleanup(f);
}

static void test_options_are_copied(void)
{
    /* The caller's strings may be gone by rollover time. */
    char *dir = strdup(scratch);
    char *prefix = strdup("pre");
    tmpf_file *f = tmpf_spooled_temporary_file(
        &(tmpf_opts){.dir = dir, .prefix = prefix, .max_size = 4});
    memset(dir, 'Z', strlen(dir));
    memset(prefix, '/', strlen(prefix));
    free(dir);
    free(prefix);
    CHECK(f != NULL);
    if (!f)
        return;
    CHECK_EQ_INT(put(f, "hello"), 5);
    CHECK(tmpf_file_rolled(f));
    tmpf_file_cleanup(f);
}

static void test_cleanup_without_close(void)
{
    tmpf_stats before, after;
    tmpf_get_stats(&before);
    {
        TMPF_AUTO_FILE f = spooled(100);
        CHECK(f != NULL);
        put(f, "data");
    }
    tmpf_file_cleanup(NULL);
    tmpf_get_stats(&after);
    CHECK_EQ_INT(after.live[TMPF_KIND_SPOOLED], before.live[TMPF_KIND_SPOOLED]);
    CHECK_EQ_INT(after.spooled_in_memory, before.spooled_in_memory);
    CHECK_EQ_INT(after.spooled_bytes, before.spooled_bytes);
}

/* ---- Memory accounting and bounds ----------------------------------------- */

static void test_stats(void)
{
    tmpf_stats s0, s1;
    tmpf_get_stats(&s0);
    tmpf_file *f = spooled(1 << 16);
    CHECK(f != NULL);
    if (!f)
        return;
    tmpf_get_stats(&s1);
    CHECK_EQ_INT(s1.live[TMPF_KIND_SPOOLED], s0.live[TMPF_KIND_SPOOLED] + 1);
    CHECK_EQ_INT(s1.spooled_in_memory, s0.spooled_in_memory + 1);
    CHECK_EQ_INT(s1.spooled_rolled, s0.spooled_rolled);

    CHECK_EQ_INT(put_x(f, 5000), 5000);
    uint64_t held = stat_bytes() - s0.spooled_bytes;
    CHECK(held >= 5000);
    CHECK(held <= 1 << 16); /* never more than max_size */
    /* Geometric growth: many small writes, few steps of the count. */
    int changes = 0;
    uint64_t last = stat_bytes();
    for (int i = 0; i < 1000; i++) {
        put(f, "0123456789012345678901234567890123456789012345678901234567890");
        if (stat_bytes() != last)
            changes++, last = stat_bytes();
    }
    CHECK(changes <= 5);
    CHECK(stat_bytes() - s0.spooled_bytes <= 1 << 16);

    CHECK_EQ_INT(tmpf_file_rollover(f), 0);
    tmpf_get_stats(&s1);
    CHECK_EQ_INT(s1.spooled_bytes, s0.spooled_bytes);
    CHECK_EQ_INT(s1.spooled_in_memory, s0.spooled_in_memory);
    CHECK_EQ_INT(s1.spooled_rolled, s0.spooled_rolled + 1);
    tmpf_file_cleanup(f);
    tmpf_get_stats(&s1);
    CHECK_EQ_INT(s1.live[TMPF_KIND_SPOOLED], s0.live[TMPF_KIND_SPOOLED]);
    CHECK_EQ_INT(s1.spooled_rolled, s0.spooled_rolled);

    /* Closed while in memory: everything comes back. */
    f = spooled(0);
    put_x(f, 100000);
    CHECK(stat_bytes() >= s0.spooled_bytes + 100000);
    CHECK_EQ_INT(tmpf_file_close(f), 0);
    tmpf_get_stats(&s1);
    CHECK_EQ_INT(s1.spooled_bytes, s0.spooled_bytes);
    CHECK_EQ_INT(s1.spooled_in_memory, s0.spooled_in_memory);
    CHECK_EQ_INT(s1.live[TMPF_KIND_SPOOLED], s0.live[TMPF_KIND_SPOOLED]);
    tmpf_file_cleanup(f);
}

struct event_log {
    int n;
    tmpf_event_type type[16];
    uint64_t bytes[16];
    uint64_t spooled_bytes_at_rollover;
    const void *object;
};

static void log_event(const tmpf_event *ev, void *ctx)
{
    struct event_log *log = ctx;
    if (ev->kind != TMPF_KIND_SPOOLED || log->n == 16)
        return;
    if (ev->type == TMPF_EVENT_ROLLOVER)
        log->spooled_bytes_at_rollover = stat_bytes();
    log->object = ev->object;
    log->type[log->n] = ev->type;
    log->bytes[log->n++] = ev->bytes;
}

static void test_events_and_crossing_write_not_held_twice(void)
{
    struct event_log log = {0};
    uint64_t base = stat_bytes();
    tmpf_set_event_hook(log_event, &log);
    tmpf_file *f = spooled(4096);
    CHECK_EQ_INT(put_x(f, 100), 100);
    /* One big write crossing the threshold goes to disk: at rollover the
     * memory held is still at most max_size, not 100 + the write. */
    static char big[1 << 20];
    CHECK_EQ_INT(tmpf_file_write(f, big, sizeof big), sizeof big);
    CHECK(tmpf_file_rolled(f));
    tmpf_file_cleanup(f);
    tmpf_set_event_hook(NULL, NULL);
    CHECK(log.object == f);
    CHECK_EQ_INT(log.n, 4);
    CHECK_EQ_INT(log.type[0], TMPF_EVENT_CREATE);
    CHECK_EQ_INT(log.type[1], TMPF_EVENT_ROLLOVER);
    CHECK_EQ_INT(log.bytes[1], 100);
    CHECK_EQ_INT(log.type[2], TMPF_EVENT_CLOSE);
    CHECK_EQ_INT(log.type[3], TMPF_EVENT_DELETE);
    CHECK(log.spooled_bytes_at_rollover - base <= 4096);
    CHECK(log.spooled_bytes_at_rollover - base >= 100);
}

/* ---- Failures ---------------------------------------------------------------- */

/* The file is in memory, holds "0123456789" and is at position 4. */
static void check_intact(tmpf_file *f)
{
    CHECK(!tmpf_file_rolled(f));
    CHECK_EQ_INT(tmpf_file_tell(f), 4);
    char buf[32] = {0};
    CHECK_EQ_INT(content(f, buf, sizeof buf), 10);
    CHECK_EQ_STR(buf, "0123456789");
}

static void try_every_rollover(tmpf_file *f, int want_errno)
{
    static char big[100];
    CHECK_ERRNO(tmpf_file_write(f, big, sizeof big), -1, want_errno);
    check_intact(f);
    CHECK_ERRNO(tmpf_file_truncate(f, 1000), -1, want_errno);
    check_intact(f);
    CHECK_ERRNO(tmpf_file_fileno(f), -1, want_errno);
    check_intact(f);
    CHECK_ERRNO(tmpf_file_rollover(f), -1, want_errno);
    check_intact(f);
    /* Still usable in memory. */
    CHECK_EQ_INT(put(f, "ab"), 2);
    CHECK_EQ_INT(tmpf_file_seek(f, 4, SEEK_SET), 4);
    CHECK_EQ_INT(put(f, "45"), 2);
    CHECK_EQ_INT(tmpf_file_seek(f, 4, SEEK_SET), 4);
    check_intact(f);
}

static void test_rollover_into_missing_dir(void)
{
    char dir[4200];
    snprintf(dir, sizeof dir, "%s/sub", scratch);
    CHECK(mkdir(dir, 0700) == 0);
    tmpf_file *f = tmpf_spooled_temporary_file(
        &(tmpf_opts){.dir = dir, .max_size = 50});
    CHECK(f != NULL);
    if (!f)
        return;
    CHECK_EQ_INT(put(f, "0123456789"), 10);
    CHECK_EQ_INT(tmpf_file_seek(f, 4, SEEK_SET), 4);
    CHECK(rmdir(dir) == 0);
    try_every_rollover(f, ENOENT);
    /* With the directory back, rollover works and keeps everything. */
    CHECK(mkdir(dir, 0700) == 0);
    CHECK_EQ_INT(tmpf_file_rollover(f), 0);
    CHECK(tmpf_file_rolled(f));
    CHECK_EQ_INT(tmpf_file_tell(f), 4);
    char buf[32] = {0};
    CHECK_EQ_INT(content(f, buf, sizeof buf), 10);
    CHECK_EQ_STR(buf, "0123456789");
    tmpf_file_cleanup(f);
}

static void test_rollover_emfile(void)
{
    tmpf_file *f = spooled(50);
    CHECK(f != NULL);
    if (!f)
        return;
    CHECK_EQ_INT(put(f, "0123456789"), 10);
    CHECK_EQ_INT(tmpf_file_seek(f, 4, SEEK_SET), 4);
    struct rlimit old, lim;
    CHECK(getrlimit(RLIMIT_NOFILE, &old) == 0);
    int lowest = dup(0);
    CHECK(lowest >= 0);
    close(lowest);
    lim = old;
    lim.rlim_cur = (rlim_t)lowest; /* no new descriptor can be opened */
    CHECK(setrlimit(RLIMIT_NOFILE, &lim) == 0);
    try_every_rollover(f, EMFILE);
    CHECK(setrlimit(RLIMIT_NOFILE, &old) == 0);
    CHECK_EQ_INT(tmpf_file_rollover(f), 0);
    CHECK_EQ_INT(tmpf_file_tell(f), 4);
    tmpf_file_cleanup(f);
}

static void test_rollover_enospc(void)
{
    char mnt[4200];
    snprintf(mnt, sizeof mnt, "%s/small", scratch);
    CHECK(mkdir(mnt, 0700) == 0);
    if (mount("tmpfs", mnt, "tmpfs", 0, "size=64k") != 0)
        SKIP("cannot mount a small tmpfs (%s)", strerror(errno));
    tmpf_file *f = tmpf_spooled_temporary_file(
        &(tmpf_opts){.dir = mnt, .max_size = 1 << 20});
    CHECK(f != NULL);
    if (f) {
        CHECK_EQ_INT(put(f, "0123456789"), 10);
        CHECK_EQ_INT(put_x(f, 256 << 10), 256 << 10); /* more than fits */
        CHECK_EQ_INT(tmpf_file_truncate(f, 10), 0);
        CHECK_EQ_INT(tmpf_file_seek(f, 4, SEEK_SET), 4);
        CHECK_EQ_INT(tmpf_file_truncate(f, 256 << 10), 0);
        CHECK_ERRNO(tmpf_file_fileno(f), -1, ENOSPC);
        CHECK_ERRNO(tmpf_file_rollover(f), -1, ENOSPC);
        CHECK_EQ_INT(tmpf_file_truncate(f, 10), 0);
        check_intact(f);
        CHECK_EQ_INT(count_entries(mnt), 0);
        /* Small enough now: it fits. */
        CHECK_EQ_INT(tmpf_file_rollover(f), 0);
        CHECK_EQ_INT(tmpf_file_tell(f), 4);
        tmpf_file_cleanup(f);
    }
    CHECK(umount(mnt) == 0);
}

static void test_enomem_leaves_file_usable(void)
{
    tmpf_file *f = spooled(0); /* never rolls by itself: memory must fail */
    CHECK(f != NULL);
    if (!f)
        return;
    CHECK_EQ_INT(put(f, "0123456789"), 10);
    uint64_t held = stat_bytes();
    int64_t huge = (int64_t)1 << 50;
    CHECK_EQ_INT(tmpf_file_seek(f, huge, SEEK_SET), huge);
    CHECK_ERRNO(tmpf_file_write(f, "x", 1), -1, ENOMEM);
    CHECK_ERRNO(tmpf_file_truncate(f, huge), -1, ENOMEM);
    CHECK_EQ_INT(stat_bytes(), held);
    CHECK_EQ_INT(tmpf_file_tell(f), huge);
    CHECK_EQ_INT(tmpf_file_seek(f, 4, SEEK_SET), 4);
    check_intact(f);
    CHECK_ERRNO(tmpf_file_seek(f, INT64_MAX, SEEK_SET), INT64_MAX, 0);
    CHECK_ERRNO(tmpf_file_write(f, "x", 1), -1, EFBIG);
    CHECK_EQ_INT(tmpf_file_seek(f, 4, SEEK_SET), 4);
    check_intact(f);
    /* And it can still roll over. */
    CHECK_EQ_INT(tmpf_file_rollover(f), 0);
    CHECK_EQ_INT(tmpf_file_tell(f), 4);
    tmpf_file_cleanup(f);
}

/* ---- Differential: a spooled file behaves like a plain file ------------------ */

static uint64_t rng_state;

static uint64_t rng(void)
{
    /* xorshift64*: reproducible sequences for a test, not for names. */
    rng_state ^= rng_state >> 12;
    rng_state ^= rng_state << 25;
    rng_state ^= rng_state >> 27;
    return rng_state * 2685821657736338717ULL;
}

static long rng_range(long lo, long hi) { return lo + (long)(rng() % (uint64_t)(hi - lo + 1)); }

enum { OP_WRITE, OP_READ, OP_SEEK, OP_TRUNCATE, OP_TELL, OP_FILENO,
       OP_ROLLOVER, OP_SYNC };

static int pick_op(void)
{
    long r = rng_range(0, 99);
    return r < 38 ? OP_WRITE : r < 58 ? OP_READ : r < 78 ? OP_SEEK
         : r < 90 ? OP_TRUNCATE : r < 94 ? OP_TELL : r < 96 ? OP_FILENO
         : r < 98 ? OP_ROLLOVER : OP_SYNC;
}

/* One random sequence; returns false (after reporting) on the first
 * difference. */
static bool differential_run(uint64_t seed, int steps)
{
    static const size_t sizes[] = {0, 1, 2, 7, 16, 33, 64, 100, 250};
    rng_state = seed * 0x9E3779B97F4A7C15ULL + 1;
    size_t max_size = sizes[rng() % (sizeof sizes / sizeof sizes[0])];
    tmpf_file *s = spooled(max_size);
    tmpf_file *p = tmpf_temporary_file(&(tmpf_opts){.dir = scratch});
    bool ok = s && p, rolled = false;
    static unsigned char data[600], got_s[1 << 17], got_p[1 << 17];
    for (int step = 0; ok && step < steps; step++) {
        int op = pick_op();
        long arg = 0, rs = 0, rp = 0;
        int es = 0, ep = 0;
        int64_t pos = tmpf_file_tell(p);
        switch (op) {
        case OP_WRITE:
            arg = rng_range(0, 9) == 0 ? rng_range(0, 600) : rng_range(0, 40);
            for (long i = 0; i < arg; i++)
                data[i] = (unsigned char)rng();
            errno = 0, rs = tmpf_file_write(s, data, (size_t)arg), es = errno;
            errno = 0, rp = tmpf_file_write(p, data, (size_t)arg), ep = errno;
            if (max_size && pos + arg > (long)max_size)
                rolled = true;
            break;
        case OP_READ:
            arg = rng_range(0, 60);
            errno = 0, rs = tmpf_file_read(s, got_s, (size_t)arg), es = errno;
            errno = 0, rp = tmpf_file_read(p, got_p, (size_t)arg), ep = errno;
            if (rs > 0 && rs == rp && memcmp(got_s, got_p, (size_t)rs) != 0)
                rs = -2; /* reported as a difference below */
            break;
        case OP_SEEK: {
            int whence = (int)rng_range(0, 2);
            arg = rng_range(-60, 300);
            errno = 0, rs = (long)tmpf_file_seek(s, arg, whence), es = errno;
            errno = 0, rp = (long)tmpf_file_seek(p, arg, whence), ep = errno;
            arg = arg * 10 + whence;
            break;
        }
        case OP_TRUNCATE:
            arg = rng_range(-2, 300);
            errno = 0, rs = tmpf_file_truncate(s, arg), es = errno;
            errno = 0, rp = tmpf_file_truncate(p, arg), ep = errno;
            if (max_size && arg > (long)max_size)
                rolled = true;
            break;
        case OP_TELL:
            rs = (long)tmpf_file_tell(s);
            rp = (long)tmpf_file_tell(p);
            break;
        case OP_FILENO:
            rs = tmpf_file_fileno(s) >= 0;
            rp = tmpf_file_fileno(p) >= 0;
            rolled = true;
            break;
        case OP_ROLLOVER:
            rs = tmpf_file_rollover(s);
            rp = tmpf_file_rollover(p);
            rolled = true;
            break;
        case OP_SYNC:
            rs = tmpf_file_sync(s);
            rp = tmpf_file_sync(p);
            break;
        }
        long cs = content(s, (char *)got_s, sizeof got_s);
        long cp = content(p, (char *)got_p, sizeof got_p);
        int64_t ts = tmpf_file_tell(s), tp = tmpf_file_tell(p);
        if (rs != rp || (rs == -1 && es != ep) || cs != cp || cs < 0 ||
            memcmp(got_s, got_p, (size_t)(cs > 0 ? cs : 0)) != 0 || ts != tp ||
            tmpf_file_rolled(s) != rolled) {
            FAIL_AT("seed %" PRIu64 " step %d (max_size %zu) op %d arg %ld: "
                    "spooled %ld/%d plain %ld/%d, size %ld/%ld, pos %lld/%lld, "
                    "rolled %d want %d",
                    seed, step, max_size, op, arg, rs, es, rp, ep, cs, cp,
                    (long long)ts, (long long)tp, tmpf_file_rolled(s), rolled);
            ok = false;
        }
    }
    if (!s || !p)
        FAIL_AT("seed %" PRIu64 ": could not create the files", seed);
    tmpf_file_cleanup(s);
    tmpf_file_cleanup(p);
    return ok;
}

static void test_differential_random_sequences(void)
{
    const char *env = getenv("TMPF_SPOOL_SEQUENCES");
    int runs = env ? atoi(env) : 3000;
    for (int i = 0; i < runs; i++)
        if (!differential_run((uint64_t)i, 60))
            break;
}

static const struct test tests[] = {
    TEST(test_rewrite_small),
    TEST(test_write_sequential),
    TEST(test_one_write_crossing),
    TEST(test_sparse),
    TEST(test_fileno),
    TEST(test_explicit_rollover_keeps_position),
    TEST(test_max_size_zero_never_rolls_by_itself),
    TEST(test_truncate_with_size),
    TEST(test_multiple_close_before_rollover),
    TEST(test_multiple_close_after_rollover),
    TEST(test_read_seek_tell_both_sides),
    TEST(test_rolled_on_other_kinds),
    TEST(test_bad_options),
    TEST(test_options_are_copied),
    TEST(test_cleanup_without_close),
    TEST(test_stats),
    TEST(test_events_and_crossing_write_not_held_twice),
    TEST(test_rollover_into_missing_dir),
    TEST(test_rollover_emfile),
    TEST(test_rollover_enospc),
    TEST(test_enomem_leaves_file_usable),
    TEST(test_differential_random_sequences),
};
TEST_MAIN(tests)
