/* Spooled temporary files: Python's SpooledTemporaryFile tests
 * (Lib/test/test_tempfile.py) in C, the failure paths, and a differential
 * test against a plain temporary file. */
#include "harness.h"
#include "tmpf_features.h"
#include <tmpf.h>

#include <pthread.h>
#include <stdint.h>
#ifndef _WIN32
#include <sys/mount.h>
#endif
#ifndef _WIN32
#include <sys/resource.h>
#endif

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
    CHECK(fd_cloexec(fd));
    char buf[8] = {0};
    CHECK_EQ_INT(pread(fd, buf, sizeof buf, 0), 5);
    CHECK_EQ_STR(buf, "hello");
    CHECK_EQ_INT(lseek(fd, 0, SEEK_CUR), 5);
    CHECK_EQ_INT(tmpf_file_fileno(f), fd); /* same descriptor again */
    /* The anonymous file is in the given directory. */
    char target[4096];
    CHECK(fd_path(fd, target, sizeof target));
    CHECK(strncmp(target, scratch, strlen(scratch)) == 0);
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

#ifndef _WIN32
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
#endif

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

/* ---- Chunks: thresholds, boundaries and the window at real sizes ----------- */

/* The byte at offset i of the test pattern. */
static unsigned char pat(size_t i) { return (unsigned char)(i * 7 + (i >> 16) + 1); }

static ssize_t put_pat(tmpf_file *f, size_t off, size_t n)
{
    static unsigned char buf[1 << 17];
    ssize_t total = 0;
    while (n) {
        size_t k = n < sizeof buf ? n : sizeof buf;
        for (size_t i = 0; i < k; i++)
            buf[i] = pat(off + i);
        ssize_t w = tmpf_file_write(f, buf, k);
        if (w != (ssize_t)k)
            return -1;
        total += w, off += k, n -= k;
    }
    return total;
}

/* Whether [off, off + n) of the file (read from off, in pieces of step
 * bytes) is the pattern; the position is left after it. */
static bool is_pat(tmpf_file *f, size_t off, size_t n, size_t step)
{
    static unsigned char buf[1 << 17];
    if (tmpf_file_seek(f, (int64_t)off, SEEK_SET) != (int64_t)off)
        return false;
    while (n) {
        size_t k = n < step ? n : step;
        if (tmpf_file_read(f, buf, k) != (ssize_t)k)
            return false;
        for (size_t i = 0; i < k; i++)
            if (buf[i] != pat(off + i))
                return false;
        off += k, n -= k;
    }
    return true;
}

static bool is_zero(tmpf_file *f, size_t off, size_t n)
{
    unsigned char buf[4096];
    if (tmpf_file_seek(f, (int64_t)off, SEEK_SET) != (int64_t)off)
        return false;
    while (n) {
        size_t k = n < sizeof buf ? n : sizeof buf;
        if (tmpf_file_read(f, buf, k) != (ssize_t)k)
            return false;
        for (size_t i = 0; i < k; i++)
            if (buf[i])
                return false;
        off += k, n -= k;
    }
    return true;
}

static void test_threshold_at_chunk_sizes(void)
{
    /* Chunks are 64 KiB: thresholds on, just past and between boundaries,
     * reached in 64-byte, 4 KiB and odd-sized writes. */
    static const size_t maxes[] = {65536, 65537, 100000, 131072, 3 * 65536 + 5};
    static const size_t steps[] = {64, 4096, 1000, 65536 + 3};
    for (size_t m = 0; m < sizeof maxes / sizeof maxes[0]; m++) {
        for (size_t w = 0; w < sizeof steps / sizeof steps[0]; w++) {
            size_t max = maxes[m], step = steps[w];
            uint64_t base = stat_bytes();
            tmpf_file *f = spooled(max);
            CHECK(f != NULL);
            if (!f)
                return;
            size_t done = 0;
            while (done < max) {
                size_t k = max - done < step ? max - done : step;
                CHECK_EQ_INT(put_pat(f, done, k), k);
                done += k;
            }
            CHECK(!tmpf_file_rolled(f)); /* exactly max_size: stays */
            CHECK(stat_bytes() - base <= max);
            CHECK(is_pat(f, 0, max, 4096 + 1));
            CHECK_EQ_INT(put_pat(f, max, 1), 1); /* max_size + 1: rolls */
            CHECK(tmpf_file_rolled(f));
            CHECK_EQ_INT(stat_bytes(), base);
            CHECK_EQ_INT(tmpf_file_tell(f), max + 1);
            CHECK(is_pat(f, 0, max + 1, 65536));
            CHECK_EQ_INT(tmpf_file_seek(f, 0, SEEK_END), max + 1);
            tmpf_file_cleanup(f);
        }
    }
}

static void test_chunk_boundaries(void)
{
    tmpf_file *f = spooled(0);
    CHECK(f != NULL);
    if (!f)
        return;
    /* Odd sizes, so writes land across every kind of boundary, and the
     * first chunk grows (moves) several times under them. */
    static const size_t sizes[] = {1, 63, 1000, 4097, 70000, 3, 65536, 131072};
    size_t off = 0;
    for (int round = 0; round < 2; round++)
        for (size_t i = 0; i < sizeof sizes / sizeof sizes[0]; i++) {
            CHECK_EQ_INT(put_pat(f, off, sizes[i]), sizes[i]);
            off += sizes[i];
        }
    size_t len = off;
    CHECK(!tmpf_file_rolled(f));
    CHECK_EQ_INT(tmpf_file_tell(f), len);
    for (size_t step = 1; step <= 65537; step = step * 3 + 1)
        CHECK(is_pat(f, 0, len, step));
    /* Reads and overwrites straddling a boundary. */
    CHECK(is_pat(f, 65530, 12, 12));
    CHECK_EQ_INT(tmpf_file_seek(f, 2 * 65536 - 5, SEEK_SET), 2 * 65536 - 5);
    CHECK_EQ_INT(tmpf_file_write(f, "0123456789", 10), 10);
    char buf[16] = {0};
    CHECK_EQ_INT(tmpf_file_seek(f, 2 * 65536 - 5, SEEK_SET), 2 * 65536 - 5);
    CHECK_EQ_INT(tmpf_file_read(f, buf, 10), 10);
    CHECK_EQ_STR(buf, "0123456789");
    CHECK_EQ_INT(tmpf_file_seek(f, 2 * 65536 - 5, SEEK_SET), 2 * 65536 - 5);
    CHECK_EQ_INT(put_pat(f, 2 * 65536 - 5, 10), 10);
    CHECK(is_pat(f, 0, len, 65536));
    /* A write past the end: a gap of zeros over several chunks. */
    size_t gap_at = len + 200000;
    CHECK_EQ_INT(tmpf_file_seek(f, (int64_t)gap_at, SEEK_SET), gap_at);
    CHECK_EQ_INT(put_pat(f, gap_at, 100), 100);
    CHECK(is_pat(f, 0, len, 4096));
    CHECK(is_zero(f, len, 200000));
    CHECK(is_pat(f, gap_at, 100, 100));
    /* Cut in the middle of a chunk, then grown again: zeros, never the
     * old bytes. */
    size_t cut = 65536 + 1234;
    CHECK_EQ_INT(tmpf_file_truncate(f, (int64_t)cut), 0);
    CHECK_EQ_INT(tmpf_file_seek(f, 0, SEEK_END), cut);
    CHECK_EQ_INT(tmpf_file_truncate(f, (int64_t)len), 0);
    CHECK(is_pat(f, 0, cut, 4096));
    CHECK(is_zero(f, cut, len - cut));
    /* Writing at the end after the cut continues the content. */
    CHECK_EQ_INT(tmpf_file_truncate(f, (int64_t)cut), 0);
    CHECK_EQ_INT(tmpf_file_seek(f, 0, SEEK_END), cut);
    CHECK_EQ_INT(put_pat(f, cut, 70000), 70000);
    CHECK(is_pat(f, 0, cut + 70000, 777));
    CHECK(!tmpf_file_rolled(f));
    /* And everything survives the move to disk. */
    CHECK_EQ_INT(tmpf_file_seek(f, 5, SEEK_SET), 5);
    CHECK_EQ_INT(tmpf_file_rollover(f), 0);
    CHECK_EQ_INT(tmpf_file_tell(f), 5);
    CHECK(is_pat(f, 0, cut + 70000, 65536));
    tmpf_file_cleanup(f);
}

static void test_small_ops_and_other_calls_interleaved(void)
{
    /* Small reads and writes go through the file's window on its memory;
     * every other call must see what they did. */
    tmpf_file *f = spooled(1 << 20);
    CHECK(f != NULL);
    if (!f)
        return;
    for (int i = 0; i < 100; i++)
        CHECK_EQ_INT(put_pat(f, (size_t)i * 10, 10), 10);
    CHECK_EQ_INT(tmpf_file_tell(f), 1000);
    CHECK_EQ_INT(tmpf_file_flush(f), 0);
    CHECK_EQ_INT(tmpf_file_sync(f), 0);
    CHECK(!tmpf_file_rolled(f));
    CHECK_EQ_INT(put_pat(f, 1000, 24), 24);
    CHECK_EQ_INT(tmpf_file_seek(f, 0, SEEK_END), 1024); /* first chunk full */
    CHECK_EQ_INT(put_pat(f, 1024, 1), 1);               /* ... so it moves */
    CHECK_EQ_INT(tmpf_file_seek(f, -25, SEEK_CUR), 1000);
    unsigned char b[8];
    CHECK_EQ_INT(tmpf_file_read(f, b, 5), 5);
    CHECK_EQ_INT(b[0], pat(1000));
    CHECK_EQ_INT(tmpf_file_write(f, "xy", 2), 2); /* overwrite inside */
    CHECK_EQ_INT(tmpf_file_read(f, b, 3), 3);
    CHECK_EQ_INT(b[0], pat(1007));
    CHECK_EQ_INT(tmpf_file_truncate(f, 1009), 0);
    CHECK_EQ_INT(tmpf_file_tell(f), 1010);        /* past the end now */
    CHECK_EQ_INT(tmpf_file_read(f, b, 1), 0);
    CHECK_EQ_INT(tmpf_file_write(f, "z", 1), 1); /* leaves a 1-byte gap */
    char all[1100];
    CHECK_EQ_INT(content(f, all, sizeof all), 1011);
    CHECK_EQ_INT(all[1005], 'x');
    CHECK_EQ_INT(all[1006], 'y');
    CHECK_EQ_INT(all[1009], 0);
    CHECK_EQ_INT(all[1010], 'z');
    /* A stream from here on: what the window wrote is in it, and mixed
     * calls keep one content and one position. */
    CHECK_EQ_INT(tmpf_file_seek(f, 1000, SEEK_SET), 1000);
    CHECK_EQ_INT(tmpf_file_write(f, "w", 1), 1); /* the window is open */
    FILE *s = tmpf_file_stream(f);
    CHECK(s != NULL);
    if (s) {
        /* Buffered in the stream: a direct write must come after it. */
        CHECK_EQ_INT(fputc('s', s), 's');
        CHECK_EQ_INT(tmpf_file_write(f, "d", 1), 1);
        CHECK_EQ_INT(fseeko(s, 1010, SEEK_SET), 0);
        CHECK_EQ_INT(fgetc(s), 'z');
        /* ISO C: between a read and a write, a positioning call (glibc
         * lets it pass; the Windows C runtime fails the write). */
        CHECK_EQ_INT(fseeko(s, 0, SEEK_CUR), 0);
        CHECK_EQ_INT(fputc('!', s), '!');
        CHECK_EQ_INT(tmpf_file_write(f, "?", 1), 1);
        CHECK_EQ_INT(fputc('.', s), '.');
        CHECK_EQ_INT(tmpf_file_tell(f), 1014);
        CHECK_EQ_INT(content(f, all, sizeof all), 1014);
        CHECK(memcmp(all + 1000, "wsd", 3) == 0);
        CHECK(memcmp(all + 1010, "z!?.", 4) == 0);
        /* Without cookie streams the view made the file roll over. */
        CHECK(tmpf_file_rolled(f) == !TMPF_CAN_COOKIE_STREAM);
    }
    /* Closed: the window is gone too. */
    CHECK_EQ_INT(tmpf_file_close(f), 0);
    CHECK_ERRNO(tmpf_file_write(f, "x", 1), -1, EBADF);
    CHECK_ERRNO(tmpf_file_read(f, b, 1), -1, EBADF);
    tmpf_file_cleanup(f);
    CHECK_ERRNO(tmpf_file_write(NULL, "x", 1), -1, EBADF);
    CHECK_ERRNO(tmpf_file_read(NULL, b, 1), -1, EBADF);
}

static void test_first_chunk_from_a_spare_block(void)
{
    /* Once a file of several chunks is gone, its blocks are spares: the
     * next file's first chunk is one of them at once (no doubling), but
     * never when max_size is below a block. */
    tmpf_file *f = spooled(0);
    CHECK(f != NULL);
    CHECK_EQ_INT(put_pat(f, 0, 3 << 16), 3 << 16);
    tmpf_file_cleanup(f);
    uint64_t base = stat_bytes();
    f = spooled(1 << 20);
    CHECK(f != NULL);
    CHECK_EQ_INT(put_pat(f, 0, 10), 10);
    CHECK_EQ_INT(stat_bytes() - base, 1 << 16);
    CHECK_EQ_INT(put_pat(f, 10, (1 << 16) + 5), (1 << 16) + 5);
    CHECK_EQ_INT(stat_bytes() - base, 2 << 16);
    CHECK(is_pat(f, 0, (1 << 16) + 15, 1000));
    tmpf_file_cleanup(f);
    f = spooled(1000);
    CHECK(f != NULL);
    CHECK_EQ_INT(put_pat(f, 0, 10), 10);
    CHECK(stat_bytes() - base <= 1000);
    CHECK(is_pat(f, 0, 10, 3));
    tmpf_file_cleanup(f);
    CHECK_EQ_INT(stat_bytes(), base);
}

/* Threads making and dropping multi-chunk spooled files at once share the
 * process's spare blocks (atomic slots, no lock): every file must read
 * back exactly its own thread's bytes, and a hole in a fresh file must
 * read as zeros, never as a byte another file left in a reused block. */
#define SPARE_THREADS 4
#define SPARE_ROUNDS 40

static void *spare_churn(void *arg)
{
    unsigned char tag = (unsigned char)(uintptr_t)arg;
    static _Thread_local unsigned char buf[3 << 16];
    intptr_t bad = 0;
    int rounds = SPARE_ROUNDS / test_scale_div() + 2;
    for (int r = 0; r < rounds && !bad; r++) {
        tmpf_file *f = tmpf_spooled_temporary_file(
            &(tmpf_opts){.dir = scratch, .max_size = 1 << 20});
        if (!f)
            return (void *)1;
        /* A hole first (a chunk that may be a reused block), then data. */
        memset(buf, tag, sizeof buf);
        size_t hole = (size_t)(r % 3) << 15;
        if (tmpf_file_seek(f, (int64_t)hole, SEEK_SET) != (int64_t)hole ||
            tmpf_file_write(f, buf, sizeof buf) != (ssize_t)sizeof buf ||
            tmpf_file_rolled(f) || tmpf_file_seek(f, 0, SEEK_SET) != 0)
            bad = 2;
        memset(buf, 0xEE, sizeof buf);
        size_t total = hole + sizeof buf, got = 0;
        while (!bad && got < total) {
            size_t k = total - got < sizeof buf ? total - got : sizeof buf;
            if (tmpf_file_read(f, buf, k) != (ssize_t)k)
                bad = 3;
            for (size_t i = 0; i < k && !bad; i++)
                if (buf[i] != (got + i < hole ? 0 : tag))
                    bad = 4;
            got += k;
        }
        if (tmpf_file_cleanup(f) != 0)
            bad = 5;
    }
    return (void *)bad;
}

static void test_threads_share_spare_blocks(void)
{
    pthread_t t[SPARE_THREADS];
    for (uintptr_t i = 0; i < SPARE_THREADS; i++)
        CHECK(pthread_create(&t[i], NULL, spare_churn, (void *)(i + 1)) == 0);
    for (int i = 0; i < SPARE_THREADS; i++) {
        void *rc;
        CHECK(pthread_join(t[i], &rc) == 0);
        CHECK_EQ_INT((intptr_t)rc, 0);
    }
    CHECK_EQ_INT(count_entries(scratch), 0);
}

static void test_window_reads_after_writes_that_extend(void)
{
    /* Writes through the window that push the end of the content, then
     * reads straight after: at the end they find nothing (no byte of the
     * chunk past the content), and from inside they stop at the new end. */
    tmpf_file *f = spooled(1 << 20);
    CHECK(f != NULL);
    if (!f)
        return;
    unsigned char b[64];
    CHECK_EQ_INT(put_pat(f, 0, 100), 100);
    CHECK_EQ_INT(tmpf_file_seek(f, 40, SEEK_SET), 40);
    CHECK_EQ_INT(tmpf_file_read(f, b, 20), 20); /* window open inside */
    CHECK_EQ_INT(b[0], pat(40));
    CHECK_EQ_INT(put_pat(f, 60, 50), 50); /* overwrites, then extends to 110 */
    CHECK_EQ_INT(tmpf_file_read(f, b, 1), 0);
    CHECK_EQ_INT(tmpf_file_read(f, b, 64), 0);
    CHECK_EQ_INT(put_pat(f, 110, 30), 30);
    CHECK_EQ_INT(tmpf_file_read(f, b, 1), 0);
    CHECK_EQ_INT(tmpf_file_tell(f), 140);
    CHECK_EQ_INT(tmpf_file_seek(f, 0, SEEK_END), 140);
    CHECK(is_pat(f, 0, 140, 7));
    /* Rewrite the middle, extend, and read back without a seek between. */
    CHECK_EQ_INT(tmpf_file_seek(f, 120, SEEK_SET), 120);
    CHECK_EQ_INT(tmpf_file_read(f, b, 10), 10);
    CHECK_EQ_INT(put_pat(f, 130, 40), 40); /* end now 170 */
    CHECK_EQ_INT(tmpf_file_seek(f, -60, SEEK_CUR), 110);
    CHECK_EQ_INT(tmpf_file_read(f, b, 64), 60); /* stops at the new end */
    CHECK_EQ_INT(b[59], pat(169));
    CHECK_EQ_INT(tmpf_file_read(f, b, 64), 0);
    CHECK(is_pat(f, 0, 170, 64));
    /* The same at a chunk's last bytes. */
    CHECK_EQ_INT(tmpf_file_seek(f, 0, SEEK_SET), 0);
    CHECK_EQ_INT(put_pat(f, 0, (1 << 16) - 3), (1 << 16) - 3);
    CHECK_EQ_INT(tmpf_file_read(f, b, 2), 0);
    CHECK_EQ_INT(put_pat(f, (1 << 16) - 3, 3), 3);
    CHECK_EQ_INT(tmpf_file_read(f, b, 1), 0);
    CHECK_EQ_INT(put_pat(f, 1 << 16, 5), 5);
    CHECK(is_pat(f, (1 << 16) - 10, 15, 4));
    CHECK_EQ_INT(tmpf_file_read(f, b, 1), 0);
    CHECK(!tmpf_file_rolled(f));
    tmpf_file_cleanup(f);
}

static void test_stream_writes_cross_threshold(void)
{
    static const size_t maxes[] = {100, 65536 + 10};
    for (size_t m = 0; m < 2; m++) {
        size_t max = maxes[m];
        tmpf_file *f = spooled(max);
        CHECK(f != NULL);
        if (!f)
            return;
        FILE *s = tmpf_file_stream(f);
        CHECK(s != NULL);
        if (!s) {
            tmpf_file_cleanup(f);
            return;
        }
        /* Lines up to exactly max_size, flushed: still in memory. */
        size_t n = 0;
        char line[16];
        while (n + 10 <= max) {
            CHECK_EQ_INT(fprintf(s, "line %04zu\n", (n / 10) % 10000), 10);
            n += 10;
        }
        while (n < max) {
            CHECK_EQ_INT(fputc('-', s), '-');
            n++;
        }
        CHECK_EQ_INT(fflush(s), 0);
        CHECK(tmpf_file_rolled(f) == !TMPF_CAN_COOKIE_STREAM);
        CHECK_EQ_INT(tmpf_file_tell(f), max);
        /* One byte more, through the stream: on disk at the flush. */
        CHECK_EQ_INT(fputc('+', s), '+');
        CHECK_EQ_INT(fflush(s), 0);
        CHECK(tmpf_file_rolled(f));
        CHECK_EQ_INT(count_entries(scratch), 0);
        for (int i = 0; i < 500; i++)
            fprintf(s, "more %04d\n", i);
        CHECK_EQ_INT(tmpf_file_tell(f), max + 1 + 5000);
        rewind(s);
        size_t at = 0;
        bool same = true;
        while (at + 10 <= max && fgets(line, sizeof line, s)) {
            char want[16];
            snprintf(want, sizeof want, "line %04zu\n", (at / 10) % 10000);
            same = same && strcmp(line, want) == 0;
            at += 10;
        }
        CHECK(same);
        for (; at < max; at++)
            CHECK_EQ_INT(fgetc(s), '-');
        CHECK_EQ_INT(fgetc(s), '+');
        for (int i = 0; i < 500 && same; i++) {
            char want[16];
            snprintf(want, sizeof want, "more %04d\n", i);
            same = fgets(line, sizeof line, s) && strcmp(line, want) == 0;
        }
        CHECK(same);
        CHECK_EQ_INT(fgetc(s), EOF);
        tmpf_file_cleanup(f);
    }
}

void tmpf__test_fail_alloc_after(long n);

static void test_growth_enomem_changes_nothing(void)
{
    /* One write each, growing the first chunk (moving it), adding whole
     * chunks, and (past 16 chunks) the chunk table: with its 1st, 2nd, ...
     * allocation failing, -1/ENOMEM and nothing changed. */
    static const size_t sizes[] = {2000, 5000, 65536 + 1, 1500000};
    static unsigned char data[1500000];
    for (size_t i = 0; i < sizeof data; i++)
        data[i] = pat(4 + i);
    for (size_t i = 0; i < sizeof sizes / sizeof sizes[0]; i++) {
        long failed = 0;
        for (long n = 1; n < 100; n++) {
            tmpf_file *f = spooled(0);
            CHECK(f != NULL);
            if (!f)
                break;
            /* Armed far off: the first chunk is a small one of its own,
             * not a spare block (those are passed over while armed). */
            tmpf__test_fail_alloc_after(1L << 30);
            CHECK_EQ_INT(put(f, "0123456789"), 10);
            tmpf__test_fail_alloc_after(-1);
            CHECK_EQ_INT(tmpf_file_seek(f, 4, SEEK_SET), 4);
            uint64_t held = stat_bytes();
            tmpf__test_fail_alloc_after(n);
            ssize_t w = tmpf_file_write(f, data, sizes[i]);
            int err = errno;
            tmpf__test_fail_alloc_after(-1);
            if (w >= 0) {
                CHECK_EQ_INT(w, sizes[i]);
                CHECK(is_pat(f, 4, sizes[i], 4096));
                tmpf_file_cleanup(f);
                break;
            }
            failed++;
            CHECK_EQ_INT(err, ENOMEM);
            CHECK_EQ_INT(stat_bytes(), held);
            check_intact(f);
            CHECK_EQ_INT(tmpf_file_write(f, data, sizes[i]), sizes[i]); /* usable */
            CHECK(is_pat(f, 4, sizes[i], 65536));
            tmpf_file_cleanup(f);
        }
        /* 1500004 bytes: the table, the first chunk, 22 more chunks */
        CHECK_EQ_INT(failed, sizes[i] > (1 << 20) ? 24 : sizes[i] > 65536 ? 2 : 1);
    }
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
       OP_ROLLOVER, OP_SYNC, OP_SWRITE, OP_SREAD, OP_SSEEK };

/* The shape of a run: thresholds to pick from and how far operations
 * reach. Small sizes make many short runs; large ones cross the 64 KiB
 * chunk boundaries. */
struct shape {
    const size_t *maxes;
    size_t n_maxes;
    long write_small, write_large, read, seek, truncate;
    bool streams;
};

static int pick_op(bool streams)
{
    long r = rng_range(0, streams ? 119 : 99);
    return r < 38 ? OP_WRITE : r < 58 ? OP_READ : r < 78 ? OP_SEEK
         : r < 90 ? OP_TRUNCATE : r < 94 ? OP_TELL : r < 96 ? OP_FILENO
         : r < 98 ? OP_ROLLOVER : r < 100 ? OP_SYNC
         : r < 110 ? OP_SWRITE : r < 115 ? OP_SREAD : OP_SSEEK;
}

/* Both files' stdio views, made at the first stream operation (so that a
 * run starts without one and the small operations' window is used). */
static bool view_made; /* since the run started */

static FILE *view(tmpf_file *f, bool *ok)
{
    view_made = true;
    FILE *v = tmpf_file_stream(f);
    if (!v)
        *ok = false;
    return v;
}

#define DIFF_MAX (1 << 19)

/* One random sequence; returns false (after reporting) on the first
 * difference. */
static bool differential_run(uint64_t seed, int steps, const struct shape *sh)
{
    rng_state = seed * 0x9E3779B97F4A7C15ULL + 1;
    view_made = false;
    size_t max_size = sh->maxes[rng() % sh->n_maxes];
    tmpf_file *s = spooled(max_size);
    tmpf_file *p = tmpf_temporary_file(&(tmpf_opts){.dir = scratch});
    bool ok = s && p, rolled = false;
    static unsigned char data[DIFF_MAX], got_s[DIFF_MAX], got_p[DIFF_MAX];
    for (int step = 0; ok && step < steps; step++) {
        int op = pick_op(sh->streams);
        long arg = 0, rs = 0, rp = 0;
        int es = 0, ep = 0;
        int64_t pos = tmpf_file_tell(p);
        switch (op) {
        case OP_WRITE:
        case OP_SWRITE:
            arg = rng_range(0, 9) == 0 ? rng_range(0, sh->write_large)
                                       : rng_range(0, sh->write_small);
            for (long i = 0; i < arg; i++)
                data[i] = (unsigned char)rng();
            if (op == OP_WRITE) {
                errno = 0, rs = tmpf_file_write(s, data, (size_t)arg), es = errno;
                errno = 0, rp = tmpf_file_write(p, data, (size_t)arg), ep = errno;
            } else {
                FILE *vs = view(s, &ok), *vp = view(p, &ok);
                if (!ok)
                    break;
                rs = (long)fwrite(data, 1, (size_t)arg, vs);
                rp = (long)fwrite(data, 1, (size_t)arg, vp);
            }
            /* An empty write past max_size rolls over, as in Python; an
             * empty fwrite never reaches the file. A stream write gets
             * there at the flush below. */
            if (max_size && (op == OP_WRITE || arg) && pos + arg > (long)max_size)
                rolled = true;
            break;
        case OP_READ:
        case OP_SREAD:
            arg = rng_range(0, sh->read);
            if (op == OP_READ) {
                errno = 0, rs = tmpf_file_read(s, got_s, (size_t)arg), es = errno;
                errno = 0, rp = tmpf_file_read(p, got_p, (size_t)arg), ep = errno;
            } else {
                FILE *vs = view(s, &ok), *vp = view(p, &ok);
                if (!ok)
                    break;
                rs = (long)fread(got_s, 1, (size_t)arg, vs);
                rp = (long)fread(got_p, 1, (size_t)arg, vp);
            }
            if (rs > 0 && rs == rp && memcmp(got_s, got_p, (size_t)rs) != 0)
                rs = -2; /* reported as a difference below */
            break;
        case OP_SEEK:
        case OP_SSEEK: {
            int whence = (int)rng_range(0, 2);
            arg = rng_range(-60, sh->seek);
            if (op == OP_SEEK) {
                errno = 0, rs = (long)tmpf_file_seek(s, arg, whence), es = errno;
                errno = 0, rp = (long)tmpf_file_seek(p, arg, whence), ep = errno;
            } else {
                FILE *vs = view(s, &ok), *vp = view(p, &ok);
                if (!ok)
                    break;
                errno = 0, rs = fseeko(vs, arg, whence), es = errno;
                errno = 0, rp = fseeko(vp, arg, whence), ep = errno;
            }
            arg = arg * 10 + whence;
            break;
        }
        case OP_TRUNCATE:
            arg = rng_range(-2, sh->truncate);
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
        if (!ok || rs != rp || (rs == -1 && es != ep) || cs != cp || cs < 0 ||
            memcmp(got_s, got_p, (size_t)(cs > 0 ? cs : 0)) != 0 || ts != tp ||
            tmpf_file_rolled(s) != (rolled || (view_made && !TMPF_CAN_COOKIE_STREAM))) {
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

/* TMPF_SPOOL_SEQUENCES, else by_default (divided as test_scale_div says:
 * under valgrind a few hundred runs find what thousands would). */
static int sequences(int by_default)
{
    const char *env = getenv("TMPF_SPOOL_SEQUENCES");
    return env ? atoi(env) : by_default / test_scale_div();
}

static void test_differential_random_sequences(void)
{
    static const size_t maxes[] = {0, 1, 2, 7, 16, 33, 64, 100, 250};
    const struct shape small = {maxes, sizeof maxes / sizeof maxes[0],
                                40, 600, 60, 300, 300, false};
    int runs = sequences(3000);
    for (int i = 0; i < runs; i++)
        if (!differential_run((uint64_t)i, 60, &small))
            break;
}

static void test_differential_with_streams(void)
{
    /* The same, with fwrite/fread/fseeko through both files' stdio views
     * mixed in (each step's checks flush them). */
    static const size_t maxes[] = {0, 1, 16, 64, 100, 250, 5000};
    const struct shape small = {maxes, sizeof maxes / sizeof maxes[0],
                                40, 600, 60, 300, 300, true};
    int runs = sequences(3000);
    for (int i = 0; i < runs; i++)
        if (!differential_run((uint64_t)i + 1000000, 60, &small))
            break;
}

static void test_differential_across_chunks(void)
{
    /* Sizes that cross the 64 KiB chunk boundaries: thresholds on and
     * around them, writes, seeks and truncates reaching 200 KiB. Fewer
     * runs: each step compares the whole content. */
    static const size_t maxes[] = {0, 65535, 65536, 65537, 100000, 3 * 65536};
    const struct shape large = {maxes, sizeof maxes / sizeof maxes[0],
                                100, 70000, 70000, 200000, 200000, true};
    int runs = sequences(150);
    for (int i = 0; i < runs; i++)
        if (!differential_run((uint64_t)i + 2000000, 40, &large))
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
    TEST_POSIX(test_rollover_emfile, "RLIMIT_NOFILE"),
    TEST_POSIX(test_rollover_enospc, "a mounted tmpfs"),
    TEST(test_enomem_leaves_file_usable),
    TEST(test_threshold_at_chunk_sizes),
    TEST(test_chunk_boundaries),
    TEST(test_small_ops_and_other_calls_interleaved),
    TEST(test_first_chunk_from_a_spare_block),
    TEST(test_threads_share_spare_blocks),
    TEST(test_window_reads_after_writes_that_extend),
    TEST(test_stream_writes_cross_threshold),
    TEST(test_growth_enomem_changes_nothing),
    TEST(test_differential_random_sequences),
    TEST(test_differential_with_streams),
    TEST(test_differential_across_chunks),
};
TEST_MAIN(tests)
