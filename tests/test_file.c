/* Temporary files: tmpf_temporary_file, tmpf_named_temporary_file and the
 * tmpf_file_* operations (policies, stream view, reopen, errors). */
#include "harness.h"
#include "tmpf_features.h"
#include <tmpf.h>

#ifndef _WIN32
#include <sys/mount.h>
#endif
#ifndef _WIN32
#include <sys/resource.h>
#endif

/* Internal test switch (src/file.c): force the create+unlink fallback. */
void tmpf__test_force_no_tmpfile(bool on);

static tmpf_opts in_scratch(unsigned flags)
{
    return (tmpf_opts){.dir = scratch, .flags = flags};
}

static char *dup_path(const tmpf_file *f)
{
    const char *p = tmpf_file_path(f);
    return p ? strdup(p) : NULL;
}

static mode_t fd_mode(int fd)
{
    struct stat st;
    return fstat(fd, &st) == 0 ? st.st_mode & 07777 : (mode_t)-1;
}

/* Writes s through the file API and rewinds. */
static void put(tmpf_file *f, const char *s)
{
    CHECK_EQ_INT(tmpf_file_write(f, s, strlen(s)), strlen(s));
}

/* Creators under test, so each property is checked for both kinds and for
 * the O_TMPFILE fallback. */
struct maker {
    const char *name;
    tmpf_file *(*make)(const tmpf_opts *);
    bool fallback;
};
static const struct maker makers[] = {
    {"anonymous", tmpf_temporary_file, false},
    {"anonymous-fallback", tmpf_temporary_file, true},
    {"named", tmpf_named_temporary_file, false},
};
#define N_MAKERS (sizeof makers / sizeof makers[0])

static tmpf_file *make(const struct maker *m, const tmpf_opts *o)
{
    tmpf__test_force_no_tmpfile(m->fallback);
    tmpf_file *f = m->make(o);
    int saved = errno;
    tmpf__test_force_no_tmpfile(false);
    errno = saved;
    return f;
}

/* ---- Anonymous files ---------------------------------------------------- */

static void check_anonymous(bool fallback)
{
    CHECK_EQ_INT(count_entries(scratch), 0);
    tmpf_opts o = in_scratch(0);
    tmpf_file *f = make(&makers[fallback ? 1 : 0], &o);
    CHECK(f != NULL);
    if (!f)
        return;
    CHECK(tmpf_file_path(f) == NULL);
    /* No directory entry, ever. Wine keeps a name deleted while open until
     * its last handle closes (no POSIX delete): the fallback's shows. */
    if (!(fallback && harness_under_wine()))
        CHECK_EQ_INT(count_entries(scratch), 0);
    int fd = tmpf_file_fileno(f);
    struct stat st;
    CHECK(fstat(fd, &st) == 0 && S_ISREG(st.st_mode));
#ifndef _WIN32 /* the C runtime's fstat: st_nlink 1, st_dev the descriptor */
    CHECK(st.st_nlink == 0);
    struct stat dst;
    CHECK(stat(scratch, &dst) == 0 && dst.st_dev == st.st_dev);
#endif
    CHECK(fd_cloexec(fd));
    CHECK_MODE(fd_mode(fd), 0600);
    put(f, "anonymous");
    CHECK_EQ_INT(tmpf_file_seek(f, 0, SEEK_SET), 0);
    char buf[16] = {0};
    CHECK_EQ_INT(tmpf_file_read(f, buf, sizeof buf), 9);
    CHECK_EQ_STR(buf, "anonymous");
    CHECK_EQ_INT(tmpf_file_close(f), 0);
    CHECK(tmpf_file_path(f) == NULL);
    CHECK_EQ_INT(tmpf_file_cleanup(f), 0);
    CHECK_EQ_INT(count_entries(scratch), 0);
}

static void test_anonymous_has_no_directory_entry(void) { check_anonymous(false); }
static void test_anonymous_fallback_leaves_no_entry(void) { check_anonymous(true); }

static void test_anonymous_many_fallback_and_fast(void)
{
    /* Alternating paths share nothing that could leak between them. */
    tmpf_file *fs[8];
    for (int i = 0; i < 8; i++) {
        tmpf_opts o = in_scratch(0);
        fs[i] = make(&makers[i % 2], &o);
        CHECK(fs[i] != NULL);
    }
    /* Wine: the fallback's deleted names show until closed (above). */
    CHECK_EQ_INT(count_entries(scratch), harness_under_wine() ? 4 : 0);
    for (int i = 0; i < 8; i++)
        CHECK_EQ_INT(tmpf_file_cleanup(fs[i]), 0);
}

#ifndef _WIN32
/* Whether f's file came from O_TMPFILE: only such a file (made without
 * O_EXCL) may be given a name again once its link count is 0. */
static bool made_by_o_tmpfile(tmpf_file *f)
{
    char proc[64], name[4200];
    snprintf(proc, sizeof proc, "/proc/self/fd/%d", tmpf_file_fileno(f));
    snprintf(name, sizeof name, "%s/linked", scratch);
    if (linkat(AT_FDCWD, proc, AT_FDCWD, name, AT_SYMLINK_FOLLOW) != 0)
        return false;
    unlink(name);
    return true;
}

static void test_fallback_switch_is_really_used(void)
{
    tmpf_opts o = in_scratch(0);
    tmpf_file *fast = make(&makers[0], &o), *slow = make(&makers[1], &o);
    CHECK(fast && slow);
    if (fast && slow) {
        /* A build without O_TMPFILE (generic POSIX) has no fast path. */
        CHECK(made_by_o_tmpfile(fast) == TMPF_HAVE_O_TMPFILE);
        CHECK(!made_by_o_tmpfile(slow));
    }
    tmpf_file_cleanup(fast);
    tmpf_file_cleanup(slow);
    CHECK_EQ_INT(count_entries(scratch), 0);
}

static void test_tmpfile_refusal_is_per_directory(void)
{
    /* mqueue refuses O_TMPFILE (EOPNOTSUPP) but lets files be created. */
    char mnt[4200];
    snprintf(mnt, sizeof mnt, "%s/mq", scratch);
    CHECK_EQ_INT(mkdir(mnt, 0700), 0);
    if (mount("tmpf-test", mnt, "mqueue", 0, NULL) != 0) {
        rmdir(mnt);
        SKIP("cannot mount an mqueue file system here: %s", strerror(errno));
    }
    for (int round = 0; round < 2; round++) { /* refused, then remembered */
        tmpf_file *f = tmpf_temporary_file(&(tmpf_opts){.dir = mnt});
        CHECK(f != NULL);
        if (!f)
            continue;
        struct stat st;
        CHECK(fstat(tmpf_file_fileno(f), &st) == 0 && st.st_nlink == 0);
        CHECK_EQ_INT(count_entries(mnt), 0);
        CHECK_EQ_INT(tmpf_file_cleanup(f), 0);
    }
    /* Elsewhere the fast path is still taken. */
    tmpf_opts o = in_scratch(0);
    tmpf_file *g = tmpf_temporary_file(&o);
    CHECK(g != NULL);
    if (g)
        CHECK(made_by_o_tmpfile(g) == TMPF_HAVE_O_TMPFILE);
    tmpf_file_cleanup(g);
    CHECK_EQ_INT(umount(mnt), 0);
    rmdir(mnt);
}
#endif

/* ---- Named files: the policies ------------------------------------------ */

static void test_named_default_gone_after_close(void)
{
    tmpf_file *f = tmpf_named_temporary_file(
        &(tmpf_opts){.dir = scratch, .prefix = "pre-", .suffix = ".txt"});
    CHECK(f != NULL);
    if (!f)
        return;
    char *path = dup_path(f);
    size_t dl = strlen(scratch);
    CHECK(strncmp(path, scratch, dl) == 0 && is_sep(path[dl]));
    CHECK(strncmp(path + dl + 1, "pre-", 4) == 0);
    CHECK_EQ_STR(path + strlen(path) - 4, ".txt");
    CHECK(path_exists(path));
    CHECK_EQ_INT(count_entries(scratch), 1);
    CHECK_EQ_INT(tmpf_file_close(f), 0);
    CHECK(!path_exists(path));
    CHECK_EQ_STR(tmpf_file_path(f), path); /* still answers after close */
    CHECK_EQ_INT(tmpf_file_close(f), 0);   /* twice is harmless */
    CHECK_EQ_INT(tmpf_file_cleanup(f), 0);
    CHECK_EQ_INT(count_entries(scratch), 0);
    free(path);
}

static void test_named_default_gone_after_cleanup_without_close(void)
{
    tmpf_opts o = in_scratch(0);
    tmpf_file *f = tmpf_named_temporary_file(&o);
    CHECK(f != NULL);
    if (!f)
        return;
    put(f, "x");
    CHECK_EQ_INT(tmpf_file_cleanup(f), 0);
    CHECK_EQ_INT(count_entries(scratch), 0);
}

static void test_keep_after_close_exists_until_cleanup(void)
{
    tmpf_opts o = in_scratch(TMPF_KEEP_AFTER_CLOSE);
    tmpf_file *f = tmpf_named_temporary_file(&o);
    CHECK(f != NULL);
    if (!f)
        return;
    char *path = dup_path(f);
    put(f, "for someone else");
    CHECK_EQ_INT(tmpf_file_close(f), 0);
    CHECK(path_exists(path));
    CHECK_EQ_STR(tmpf_file_path(f), path);
    /* Another opener finds the content by name. */
    char buf[32] = {0};
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    CHECK(fd >= 0);
    CHECK_EQ_INT(read(fd, buf, sizeof buf), 16);
    CHECK_EQ_STR(buf, "for someone else");
    close(fd);
    CHECK_EQ_INT(tmpf_file_close(f), 0);
    CHECK(path_exists(path));
    CHECK_EQ_INT(tmpf_file_cleanup(f), 0);
    CHECK(!path_exists(path));
    free(path);
}

static void test_keep_flag_survives_cleanup(void)
{
    tmpf_opts o = in_scratch(TMPF_KEEP);
    tmpf_file *f = tmpf_named_temporary_file(&o);
    CHECK(f != NULL);
    if (!f)
        return;
    char *path = dup_path(f);
    CHECK_EQ_INT(tmpf_file_close(f), 0);
    CHECK(path_exists(path));
    CHECK_EQ_INT(tmpf_file_cleanup(f), 0);
    CHECK(path_exists(path));
    CHECK_EQ_INT(unlink(path), 0); /* ours to remove */
    free(path);
}

static void test_keep_flag_with_keep_after_close(void)
{
    tmpf_opts o = in_scratch(TMPF_KEEP | TMPF_KEEP_AFTER_CLOSE);
    tmpf_file *f = tmpf_named_temporary_file(&o);
    CHECK(f != NULL);
    if (!f)
        return;
    char *path = dup_path(f);
    CHECK_EQ_INT(tmpf_file_cleanup(f), 0);
    CHECK(path_exists(path));
    unlink(path);
    free(path);
}

static void test_keep_call_disarms_deletion(void)
{
    /* Before close, after close, and with cleanup alone. */
    for (int when = 0; when < 2; when++) {
        tmpf_opts o = in_scratch(when ? TMPF_KEEP_AFTER_CLOSE : 0);
        tmpf_file *f = tmpf_named_temporary_file(&o);
        CHECK(f != NULL);
        if (!f)
            return;
        char *path = dup_path(f);
        if (when)
            CHECK_EQ_INT(tmpf_file_close(f), 0);
        CHECK_EQ_INT(tmpf_file_keep(f), 0);
        CHECK_EQ_INT(tmpf_file_keep(f), 0);
        CHECK_EQ_INT(tmpf_file_close(f), 0);
        CHECK(path_exists(path));
        CHECK_EQ_INT(tmpf_file_cleanup(f), 0);
        CHECK(path_exists(path));
        unlink(path);
        free(path);
    }
    CHECK_ERRNO(tmpf_file_keep(NULL), -1, EINVAL);
}

static void test_keep_after_default_close_changes_nothing(void)
{
    tmpf_stats before, after;
    tmpf_opts o = in_scratch(0);
    CHECK_EQ_INT(tmpf_get_stats(&before), 0);
    tmpf_file *f = tmpf_named_temporary_file(&o);
    CHECK(f != NULL);
    if (!f)
        return;
    CHECK_EQ_INT(tmpf_file_close(f), 0);
    CHECK_EQ_INT(tmpf_file_keep(f), 0); /* already gone: nothing to keep */
    CHECK_EQ_INT(tmpf_file_cleanup(f), 0);
    CHECK_EQ_INT(tmpf_get_stats(&after), 0);
    CHECK_EQ_INT(after.live[TMPF_KIND_NAMED], before.live[TMPF_KIND_NAMED]);
    CHECK_EQ_INT(after.created - before.created, 1);
    CHECK_EQ_INT(after.removed - before.removed, 1);
}

static void test_live_counters_follow_policies(void)
{
    static const unsigned policies[] = {0, TMPF_KEEP_AFTER_CLOSE, TMPF_KEEP};
    for (size_t p = 0; p < 3; p++)
        for (size_t m = 0; m < N_MAKERS; m++) {
            tmpf_stats s0, s1, s2;
            tmpf_kind kind = makers[m].make == tmpf_temporary_file
                                 ? TMPF_KIND_ANONYMOUS
                                 : TMPF_KIND_NAMED;
            tmpf_get_stats(&s0);
            tmpf_opts o = in_scratch(policies[p]);
            tmpf_file *f = make(&makers[m], &o);
            CHECK(f != NULL);
            if (!f)
                continue;
            char *path = dup_path(f);
            tmpf_get_stats(&s1);
            CHECK_EQ_INT(s1.live[kind] - s0.live[kind], 1);
            CHECK_EQ_INT(tmpf_file_close(f), 0);
            CHECK_EQ_INT(tmpf_file_cleanup(f), 0);
            tmpf_get_stats(&s2);
            CHECK_EQ_INT(s2.live[kind], s0.live[kind]);
            if (path) {
                CHECK_EQ_INT(path_exists(path), policies[p] == TMPF_KEEP);
                unlink(path);
            }
            free(path);
        }
}

static void test_cleanup_null_is_noop(void)
{
    errno = 1234;
    CHECK_EQ_INT(tmpf_file_cleanup(NULL), 0);
    CHECK_EQ_INT(errno, 1234);
    CHECK(tmpf_file_path(NULL) == NULL);
    CHECK_ERRNO(tmpf_file_close(NULL), -1, EBADF);
    CHECK_ERRNO(tmpf_file_read(NULL, NULL, 0), -1, EBADF);
}

static void test_name_removed_by_someone_else(void)
{
    tmpf_opts o = in_scratch(0);
    tmpf_file *f = tmpf_named_temporary_file(&o);
    CHECK(f != NULL);
    if (!f)
        return;
    CHECK_EQ_INT(unlink(tmpf_file_path(f)), 0);
    CHECK_EQ_INT(tmpf_file_close(f), 0); /* already gone is fine */
    CHECK_EQ_INT(tmpf_file_cleanup(f), 0);
}

static int close_in_unwritable_dir(void *arg)
{
    tmpf_file *f = arg;
    /* The directory became read-only for us: unlink fails, both close and
     * cleanup report it, and f is freed all the same. */
    errno = 0;
    if (tmpf_file_close(f) != -1 || errno != EACCES)
        return 1;
    if (tmpf_file_cleanup(f) != -1 || errno != EACCES)
        return 2;
    return 0;
}

static void test_close_reports_failed_delete(void)
{
    char dir[4200];
    snprintf(dir, sizeof dir, "%s/d", scratch);
    CHECK_EQ_INT(mkdir(dir, 0777), 0);
    CHECK_EQ_INT(chmod(dir, 0777), 0);
    tmpf_file *f = tmpf_named_temporary_file(&(tmpf_opts){.dir = dir});
    CHECK(f != NULL);
    if (!f)
        return;
    CHECK_EQ_INT(chmod(dir, 0755), 0); /* root-owned: nobody cannot unlink */
    CHECK_EQ_INT(run_as_nobody(close_in_unwritable_dir, f), 0);
    CHECK_EQ_INT(count_entries(dir), 1);
    /* In the parent (root) the same object is still open and armed. */
    CHECK_EQ_INT(tmpf_file_cleanup(f), 0);
    CHECK_EQ_INT(count_entries(dir), 0);
}

/* ---- Modes --------------------------------------------------------------- */

static void test_mode_0600_under_umask_0(void)
{
    mode_t old = umask(0);
    for (size_t m = 0; m < N_MAKERS; m++) {
        tmpf_opts o = in_scratch(0);
        tmpf_file *f = make(&makers[m], &o);
        CHECK(f != NULL);
        if (!f)
            continue;
        CHECK_MODE(fd_mode(tmpf_file_fileno(f)), 0600);
        tmpf_file_cleanup(f);
    }
    umask(old);
}

static void test_perm_option_and_umask(void)
{
    mode_t old = umask(0);
    for (size_t m = 0; m < N_MAKERS; m++) {
        tmpf_file *f = make(&makers[m], &(tmpf_opts){.dir = scratch, .perm = 0640});
        CHECK(f != NULL);
        if (f)
            CHECK_MODE(fd_mode(tmpf_file_fileno(f)), 0640);
        tmpf_file_cleanup(f);
    }
    umask(022);
    for (size_t m = 0; m < N_MAKERS; m++) {
        tmpf_file *f = make(&makers[m], &(tmpf_opts){.dir = scratch, .perm = 0666});
        CHECK(f != NULL);
        if (f)
            CHECK_MODE(fd_mode(tmpf_file_fileno(f)), 0644);
        tmpf_file_cleanup(f);
    }
    umask(old);
}

/* ---- I/O ------------------------------------------------------------------ */

static void test_io_basics(void)
{
    for (size_t m = 0; m < N_MAKERS; m++) {
        tmpf_opts o = in_scratch(0);
        tmpf_file *f = make(&makers[m], &o);
        CHECK(f != NULL);
        if (!f)
            continue;
        CHECK_EQ_INT(tmpf_file_tell(f), 0);
        put(f, "0123456789");
        CHECK_EQ_INT(tmpf_file_tell(f), 10);
        CHECK_EQ_INT(tmpf_file_seek(f, -4, SEEK_END), 6);
        char buf[32] = {0};
        CHECK_EQ_INT(tmpf_file_read(f, buf, sizeof buf), 4); /* short at EOF */
        CHECK_EQ_STR(buf, "6789");
        CHECK_EQ_INT(tmpf_file_read(f, buf, sizeof buf), 0);
        CHECK_EQ_INT(tmpf_file_seek(f, 2, SEEK_SET), 2);
        CHECK_EQ_INT(tmpf_file_seek(f, 3, SEEK_CUR), 5);
        CHECK_EQ_INT(tmpf_file_truncate(f, 3), 0);
        CHECK_EQ_INT(tmpf_file_tell(f), 5); /* truncate does not move */
        CHECK_EQ_INT(tmpf_file_seek(f, 0, SEEK_END), 3);
        CHECK_EQ_INT(tmpf_file_truncate(f, 6), 0); /* grows with zeros */
        CHECK_EQ_INT(tmpf_file_seek(f, 0, SEEK_SET), 0);
        memset(buf, 'x', sizeof buf);
        CHECK_EQ_INT(tmpf_file_read(f, buf, sizeof buf), 6);
        CHECK(memcmp(buf, "012\0\0\0", 6) == 0);
        CHECK_ERRNO(tmpf_file_seek(f, -1, SEEK_SET), -1, EINVAL);
        CHECK_ERRNO(tmpf_file_seek(f, 0, 42), -1, EINVAL);
        CHECK_ERRNO(tmpf_file_truncate(f, -1), -1, EINVAL);
        CHECK_EQ_INT(tmpf_file_flush(f), 0);
        CHECK_EQ_INT(tmpf_file_sync(f), 0);
        CHECK_EQ_INT(tmpf_file_rollover(f), 0);
        CHECK(tmpf_file_rolled(f));
        CHECK_EQ_INT(tmpf_file_cleanup(f), 0);
    }
    CHECK_EQ_INT(count_entries(scratch), 0);
}

static void test_large_write_read_back(void)
{
    size_t n = 3u << 20;
    unsigned char *data = malloc(n), *back = malloc(n);
    for (size_t i = 0; i < n; i++)
        data[i] = (unsigned char)(i * 131 + (i >> 12));
    tmpf_opts o = in_scratch(0);
    tmpf_file *f = tmpf_temporary_file(&o);
    CHECK(f != NULL);
    if (f) {
        CHECK_EQ_INT(tmpf_file_write(f, data, n), n);
        CHECK_EQ_INT(tmpf_file_seek(f, 0, SEEK_SET), 0);
        CHECK_EQ_INT(tmpf_file_read(f, back, n), n);
        CHECK(memcmp(data, back, n) == 0);
    }
    tmpf_file_cleanup(f);
    free(data);
    free(back);
}

static void test_ebadf_after_close(void)
{
    for (size_t m = 0; m < N_MAKERS; m++) {
        tmpf_opts o = in_scratch(TMPF_KEEP_AFTER_CLOSE);
        tmpf_file *f = make(&makers[m], &o);
        CHECK(f != NULL);
        if (!f)
            continue;
        CHECK(tmpf_file_stream(f) != NULL);
        CHECK_EQ_INT(tmpf_file_close(f), 0);
        char c = 'x';
        CHECK_ERRNO(tmpf_file_read(f, &c, 1), -1, EBADF);
        CHECK_ERRNO(tmpf_file_write(f, &c, 1), -1, EBADF);
        CHECK_ERRNO(tmpf_file_seek(f, 0, SEEK_SET), -1, EBADF);
        CHECK_ERRNO(tmpf_file_tell(f), -1, EBADF);
        CHECK_ERRNO(tmpf_file_truncate(f, 0), -1, EBADF);
        CHECK_ERRNO(tmpf_file_flush(f), -1, EBADF);
        CHECK_ERRNO(tmpf_file_sync(f), -1, EBADF);
        CHECK_ERRNO(tmpf_file_fileno(f), -1, EBADF);
        CHECK_ERRNO(tmpf_file_rollover(f), -1, EBADF);
        CHECK_NULL_ERRNO(tmpf_file_stream(f), EBADF);
        CHECK_ERRNO(tmpf_file_reopen(f, O_RDONLY), -1, EBADF);
        CHECK_EQ_INT(tmpf_file_cleanup(f), 0);
    }
    CHECK_EQ_INT(count_entries(scratch), 0);
}

/* ---- The stdio view ----------------------------------------------------- */

/* A spooled file that stays in memory for these sizes. */
static tmpf_file *spooled_in_memory(const tmpf_opts *o)
{
    tmpf_opts c = *o;
    c.max_size = 1u << 20;
    return tmpf_spooled_temporary_file(&c);
}

/* Every kind behind a stream, the spooled one staying in memory. */
static const struct maker stream_makers[] = {
    {"anonymous", tmpf_temporary_file, false},
    {"anonymous-fallback", tmpf_temporary_file, true},
    {"named", tmpf_named_temporary_file, false},
    {"spooled", spooled_in_memory, false},
};
#define N_STREAM_MAKERS (sizeof stream_makers / sizeof stream_makers[0])

/* For the spooled kind: it must still be in memory behind the stream. */
static void check_still_in_memory(size_t m, tmpf_file *f)
{
    /* Without cookie streams (generic POSIX) the view is a stream on the
     * descriptor: the file rolled over to make one. */
    if (stream_makers[m].make == spooled_in_memory)
        CHECK(tmpf_file_rolled(f) == !TMPF_CAN_COOKIE_STREAM);
}

/* A file holding 0..n-1 as bytes i*7+1, position at 0, with its stream. */
static tmpf_file *file_with_pattern(const struct maker *m, size_t n, FILE **s)
{
    tmpf_opts o = in_scratch(0);
    tmpf_file *f = make(m, &o);
    if (!f)
        return NULL;
    unsigned char *data = malloc(n);
    for (size_t i = 0; i < n; i++)
        data[i] = (unsigned char)(i * 7 + 1);
    tmpf_file_write(f, data, n);
    tmpf_file_seek(f, 0, SEEK_SET);
    free(data);
    *s = tmpf_file_stream(f);
    return f;
}

#define PAT(i) ((unsigned char)((i) * 7 + 1))

static void test_stream_is_owned_and_stable(void)
{
    for (size_t m = 0; m < N_STREAM_MAKERS; m++) {
        tmpf_opts o = in_scratch(0);
        tmpf_file *f = make(&stream_makers[m], &o);
        CHECK(f != NULL);
        if (!f)
            continue;
        FILE *s = tmpf_file_stream(f);
        CHECK(s != NULL);
        CHECK(tmpf_file_stream(f) == s);
        CHECK_EQ_INT(fputs("pending", s) >= 0, 1);
        /* Never fclosed by us: cleanup closes it and flushes nothing into
         * a freed object (valgrind/ASan watch this). */
        CHECK_EQ_INT(tmpf_file_cleanup(f), 0);
    }
}

static void test_stream_fprintf_then_read(void)
{
    for (size_t m = 0; m < N_STREAM_MAKERS; m++) {
        tmpf_opts o = in_scratch(0);
        tmpf_file *f = make(&stream_makers[m], &o);
        CHECK(f != NULL);
        if (!f)
            continue;
        FILE *s = tmpf_file_stream(f);
        CHECK(s != NULL);
        fprintf(s, "hello %d\n", 42);
        CHECK_EQ_INT(tmpf_file_tell(f), 9); /* pending output counts */
        put(f, "direct\n");                 /* goes after it */
        fprintf(s, "again\n");
        CHECK_EQ_INT(tmpf_file_seek(f, 0, SEEK_SET), 0);
        char buf[64] = {0};
        CHECK_EQ_INT(tmpf_file_read(f, buf, sizeof buf - 1), 22);
        CHECK_EQ_STR(buf, "hello 42\ndirect\nagain\n");
        check_still_in_memory(m, f);
        tmpf_file_cleanup(f);
    }
}

static void test_stream_after_direct_write_fgets_getline(void)
{
    for (size_t m = 0; m < N_STREAM_MAKERS; m++) {
        tmpf_opts o = in_scratch(0);
        tmpf_file *f = make(&stream_makers[m], &o);
        CHECK(f != NULL);
        if (!f)
            continue;
        FILE *s = tmpf_file_stream(f);
        put(f, "first\nsecond line\n");
        CHECK_EQ_INT(tmpf_file_seek(f, 0, SEEK_SET), 0);
        char buf[64];
        CHECK(fgets(buf, sizeof buf, s) != NULL);
        CHECK_EQ_STR(buf, "first\n");
        CHECK_EQ_INT(tmpf_file_tell(f), 6); /* read-ahead given back */
        char *line = NULL;
        size_t cap = 0;
        CHECK_EQ_INT(getline(&line, &cap, s), 12);
        CHECK_EQ_STR(line, "second line\n");
        CHECK_EQ_INT(getline(&line, &cap, s), -1);
        CHECK(feof(s));
        /* More content written directly is seen by the stream, which had
         * hit end of file. */
        put(f, "third\n");
        CHECK_EQ_INT(tmpf_file_seek(f, 18, SEEK_SET), 18);
        CHECK_EQ_INT(getline(&line, &cap, s), 6);
        CHECK_EQ_STR(line, "third\n");
        free(line);
        check_still_in_memory(m, f);
        tmpf_file_cleanup(f);
    }
}

static void test_stream_partial_fread_then_tell_and_read(void)
{
    for (size_t m = 0; m < N_STREAM_MAKERS; m++) {
        FILE *s;
        tmpf_file *f = file_with_pattern(&stream_makers[m], 20000, &s);
        CHECK(f != NULL && s != NULL);
        if (!f || !s)
            continue;
        unsigned char b[8];
        CHECK_EQ_INT(fread(b, 1, 3, s), 3); /* the stream reads ahead */
        CHECK_EQ_INT(b[2], PAT(2));
        CHECK_EQ_INT(tmpf_file_tell(f), 3);
        CHECK_EQ_INT(tmpf_file_read(f, b, 4), 4);
        CHECK_EQ_INT(b[0], PAT(3));
        CHECK_EQ_INT(b[3], PAT(6));
        CHECK_EQ_INT(fread(b, 1, 2, s), 2); /* resumes at the file's position */
        CHECK_EQ_INT(b[0], PAT(7));
        CHECK_EQ_INT(ftello(s), 9);
        CHECK_EQ_INT(tmpf_file_tell(f), 9);
        check_still_in_memory(m, f);
        tmpf_file_cleanup(f);
    }
}

static void test_stream_seek_one_read_other(void)
{
    for (size_t m = 0; m < N_STREAM_MAKERS; m++) {
        FILE *s;
        tmpf_file *f = file_with_pattern(&stream_makers[m], 10000, &s);
        CHECK(f != NULL && s != NULL);
        if (!f || !s)
            continue;
        CHECK_EQ_INT(fgetc(s), PAT(0));
        CHECK_EQ_INT(tmpf_file_seek(f, 5000, SEEK_SET), 5000);
        CHECK_EQ_INT(ftello(s), 5000); /* no stale cached offset */
        CHECK_EQ_INT(fgetc(s), PAT(5000));
        CHECK_EQ_INT(fseeko(s, 100, SEEK_SET), 0);
        unsigned char b = 0;
        CHECK_EQ_INT(tmpf_file_read(f, &b, 1), 1);
        CHECK_EQ_INT(b, PAT(100));
        CHECK_EQ_INT(fseeko(s, 10, SEEK_CUR), 0); /* relative to 101 */
        CHECK_EQ_INT(tmpf_file_tell(f), 111);
        CHECK_EQ_INT(tmpf_file_seek(f, -1, SEEK_END), 9999);
        CHECK_EQ_INT(fgetc(s), PAT(9999));
        CHECK_EQ_INT(fgetc(s), EOF);
        CHECK_EQ_INT(tmpf_file_seek(f, 2, SEEK_SET), 2);
        CHECK_EQ_INT(fgetc(s), PAT(2)); /* end of file was forgotten */
        check_still_in_memory(m, f);
        tmpf_file_cleanup(f);
    }
}

static void test_stream_sees_direct_overwrite_of_read_ahead(void)
{
    for (size_t m = 0; m < N_STREAM_MAKERS; m++) {
        tmpf_opts o = in_scratch(0);
        tmpf_file *f = make(&stream_makers[m], &o);
        CHECK(f != NULL);
        if (!f)
            continue;
        FILE *s = tmpf_file_stream(f);
        put(f, "0123456789");
        CHECK_EQ_INT(tmpf_file_seek(f, 0, SEEK_SET), 0);
        CHECK_EQ_INT(fgetc(s), '0'); /* buffer now holds all ten */
        put(f, "X");                 /* lands at 1, inside the buffer */
        CHECK_EQ_INT(fgetc(s), '2');
        CHECK_EQ_INT(fseeko(s, 1, SEEK_SET), 0);
        CHECK_EQ_INT(fgetc(s), 'X');
        CHECK_EQ_INT(tmpf_file_truncate(f, 4), 0);
        char rest[16] = {0};
        CHECK_EQ_INT(fread(rest, 1, sizeof rest, s), 2);
        CHECK_EQ_STR(rest, "23");
        check_still_in_memory(m, f);
        tmpf_file_cleanup(f);
    }
}

static void test_stream_write_direct_overwrite(void)
{
    for (size_t m = 0; m < N_STREAM_MAKERS; m++) {
        tmpf_opts o = in_scratch(0);
        tmpf_file *f = make(&stream_makers[m], &o);
        CHECK(f != NULL);
        if (!f)
            continue;
        FILE *s = tmpf_file_stream(f);
        fputs("AAAA", s);
        CHECK_EQ_INT(tmpf_file_seek(f, 1, SEEK_SET), 1);
        put(f, "B");
        fputs("C", s); /* continues at the file's position, 2 */
        CHECK_EQ_INT(fseeko(s, 0, SEEK_SET), 0);
        char buf[8] = {0};
        CHECK_EQ_INT(fread(buf, 1, sizeof buf, s), 4);
        CHECK_EQ_STR(buf, "ABCA");
        check_still_in_memory(m, f);
        tmpf_file_cleanup(f);
    }
}

/* tmpf_file_reopen, where a file without a name cannot be reopened (a
 * generic POSIX build: no /proc/self/fd, no O_EMPTY_PATH): then it must
 * say EOPNOTSUPP, and REOPEN_ABSENT tells the caller to stop. */
#define REOPEN_ABSENT (-2)
static int reopen_checked(tmpf_file *f, int flags)
{
    if (!TMPF_CAN_REOPEN_FD && !tmpf_file_path(f)) {
        CHECK_ERRNO(tmpf_file_reopen(f, flags), -1, EOPNOTSUPP);
        return REOPEN_ABSENT;
    }
    return tmpf_file_reopen(f, flags);
}

static void test_stream_output_visible_through_fd_and_reopen(void)
{
    for (size_t m = 0; m < N_STREAM_MAKERS; m++) {
        tmpf_opts o = in_scratch(0);
        tmpf_file *f = make(&stream_makers[m], &o);
        CHECK(f != NULL);
        if (!f)
            continue;
        FILE *s = tmpf_file_stream(f);
        fprintf(s, "via stdio");
        int fd = tmpf_file_fileno(f); /* flushes */
        char buf[16] = {0};
        CHECK_EQ_INT(pread(fd, buf, sizeof buf, 0), 9);
        CHECK_EQ_STR(buf, "via stdio");
        fprintf(s, "!");
        int r = reopen_checked(f, O_RDONLY);
        if (r == REOPEN_ABSENT) {
            tmpf_file_cleanup(f);
            continue;
        }
        CHECK(r >= 0);
        memset(buf, 0, sizeof buf);
        CHECK_EQ_INT(read(r, buf, sizeof buf), 10);
        CHECK_EQ_STR(buf, "via stdio!");
        close(r);
        fprintf(s, "?");
        CHECK_EQ_INT(tmpf_file_sync(f), 0);
        CHECK_EQ_INT(pread(fd, buf, sizeof buf, 0), 11);
        tmpf_file_cleanup(f);
    }
}

static void test_stream_flushed_by_close(void)
{
    tmpf_opts o = in_scratch(TMPF_KEEP_AFTER_CLOSE);
    tmpf_file *f = tmpf_named_temporary_file(&o);
    CHECK(f != NULL);
    if (!f)
        return;
    fprintf(tmpf_file_stream(f), "line %s\n", "one");
    CHECK_EQ_INT(tmpf_file_close(f), 0);
    char buf[16] = {0};
    int fd = open(tmpf_file_path(f), O_RDONLY | O_CLOEXEC);
    CHECK(fd >= 0);
    CHECK_EQ_INT(read(fd, buf, sizeof buf), 9);
    CHECK_EQ_STR(buf, "line one\n");
    close(fd);
    tmpf_file_cleanup(f);
}

static void test_stream_spooled_rolls_over_behind_stream(void)
{
    tmpf_file *f = tmpf_spooled_temporary_file(
        &(tmpf_opts){.dir = scratch, .max_size = 100});
    CHECK(f != NULL);
    if (!f)
        return;
    FILE *s = tmpf_file_stream(f);
    CHECK(s != NULL);
    fprintf(s, "short\n");
    CHECK_EQ_INT(tmpf_file_tell(f), 6);
    /* flushed into memory, not to disk (a descriptor stream: rolled) */
    CHECK(tmpf_file_rolled(f) == !TMPF_CAN_COOKIE_STREAM);
    for (int i = 0; i < 1000; i++)
        fprintf(s, "line %04d\n", i);
    CHECK_EQ_INT(tmpf_file_seek(f, 0, SEEK_SET), 0); /* flush: past max_size */
    CHECK(tmpf_file_rolled(f));
    CHECK_EQ_INT(count_entries(scratch), 0);
    char line[32];
    CHECK(fgets(line, sizeof line, s) && strcmp(line, "short\n") == 0);
    int n = 0;
    while (fgets(line, sizeof line, s)) {
        char want[32];
        snprintf(want, sizeof want, "line %04d\n", n);
        if (strcmp(line, want) != 0) {
            CHECK_EQ_STR(line, want);
            break;
        }
        n++;
    }
    CHECK_EQ_INT(n, 1000);
    CHECK_EQ_INT(tmpf_file_tell(f), 6 + 10 * 1000);
    tmpf_file_cleanup(f);
}

static void test_stream_spooled_reopen_rolls_over(void)
{
    tmpf_file *f = spooled_in_memory(&(tmpf_opts){.dir = scratch});
    CHECK(f != NULL);
    if (!f)
        return;
    fprintf(tmpf_file_stream(f), "in memory");
    CHECK(tmpf_file_rolled(f) == !TMPF_CAN_COOKIE_STREAM);
    int r = reopen_checked(f, O_RDONLY);
    if (r == REOPEN_ABSENT) {
        tmpf_file_cleanup(f);
        return;
    }
    CHECK(r >= 0);
    CHECK(tmpf_file_rolled(f));
    char buf[16] = {0};
    CHECK_EQ_INT(read(r, buf, sizeof buf), 9);
    CHECK_EQ_STR(buf, "in memory");
    if (r >= 0)
        close(r);
    CHECK_EQ_INT(tmpf_file_tell(f), 9); /* position kept by rollover */
    tmpf_file_cleanup(f);
    CHECK_EQ_INT(count_entries(scratch), 0);
}

/* ---- Reopen ------------------------------------------------------------- */


static void test_reopen_offsets_independent(void)
{
    for (size_t m = 0; m < N_MAKERS; m++) {
        tmpf_opts o = in_scratch(0);
        tmpf_file *f = make(&makers[m], &o);
        CHECK(f != NULL);
        if (!f)
            continue;
        put(f, "hello world");
        int r = reopen_checked(f, O_RDWR);
        if (r == REOPEN_ABSENT) {
            tmpf_file_cleanup(f);
            continue;
        }
        CHECK(r >= 0);
        if (r < 0) {
            tmpf_file_cleanup(f);
            continue;
        }
        CHECK(fd_cloexec(r));
        CHECK(r != tmpf_file_fileno(f));
        CHECK(fd_id(r) != 0 && fd_id(r) == fd_id(tmpf_file_fileno(f)));
        CHECK_EQ_INT(lseek(r, 0, SEEK_CUR), 0); /* own offset */
        char buf[16] = {0};
        CHECK_EQ_INT(read(r, buf, 5), 5);
        CHECK_EQ_STR(buf, "hello");
        CHECK_EQ_INT(tmpf_file_tell(f), 11);
        CHECK_EQ_INT(write(r, "_", 1), 1); /* at 5 */
        CHECK_EQ_INT(tmpf_file_seek(f, 0, SEEK_SET), 0);
        CHECK_EQ_INT(tmpf_file_read(f, buf, 11), 11);
        CHECK(memcmp(buf, "hello_world", 11) == 0);
        CHECK_EQ_INT(lseek(r, 0, SEEK_CUR), 6);
        close(r);

        r = tmpf_file_reopen(f, O_RDONLY);
        CHECK(r >= 0);
        CHECK_ERRNO(write(r, "x", 1), -1, EBADF);
        close(r);

        r = tmpf_file_reopen(f, O_WRONLY | O_APPEND);
        CHECK(r >= 0);
#ifndef _WIN32 /* the C runtime keeps O_APPEND to itself there */
        CHECK(fcntl(r, F_GETFL) & O_APPEND);
#endif
        CHECK_EQ_INT(write(r, "!", 1), 1);
        CHECK_ERRNO(read(r, buf, 1), -1, EBADF);
        close(r);
        CHECK_EQ_INT(tmpf_file_seek(f, 0, SEEK_END), 12);
#ifndef _WIN32
        /* The original descriptor did not become append-only. */
        CHECK_EQ_INT(fcntl(tmpf_file_fileno(f), F_GETFL) & O_APPEND, 0);
#endif
        tmpf_file_cleanup(f);
    }
}

static void test_reopen_bad_flags(void)
{
    tmpf_opts o = in_scratch(0);
    tmpf_file *f = tmpf_named_temporary_file(&o);
    CHECK(f != NULL);
    if (!f)
        return;
    static const int bad[] = {O_ACCMODE, O_RDWR | O_CREAT, O_RDWR | O_TRUNC,
#ifndef _WIN32
                              O_RDONLY | O_DIRECTORY, O_RDWR | O_NONBLOCK,
#endif
                              O_RDWR | O_EXCL, -1};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
        CHECK_ERRNO(tmpf_file_reopen(f, bad[i]), -1, EINVAL);
    int r = tmpf_file_reopen(f, O_RDWR | O_CLOEXEC); /* added anyway: fine */
    CHECK(r >= 0);
    close(r);
    tmpf_file_cleanup(f);
}

static void test_reopen_named_when_name_changed(void)
{
    tmpf_opts o = in_scratch(0);
    tmpf_file *f = tmpf_named_temporary_file(&o);
    CHECK(f != NULL);
    if (!f)
        return;
    const char *p = tmpf_file_path(f);
    /* Removed. */
    CHECK_EQ_INT(unlink(p), 0);
    if (path_exists(p)) { /* Wine: no POSIX delete, the name stays while held */
        tmpf_file_cleanup(f);
        SKIP_WINDOWS("Wine keeps a deleted name until its last handle closes");
    }
    CHECK_ERRNO(tmpf_file_reopen(f, O_RDWR), -1, ENOENT);
    /* Another file under the name. */
    CHECK_EQ_INT(write_file(p, "impostor", 0600), 0);
    CHECK_ERRNO(tmpf_file_reopen(f, O_RDWR), -1, ENOENT);
    unlink(p);
#ifndef _WIN32 /* no fifos there, and Wine makes no links */
    /* A symlink to elsewhere under the name. */
    char other[4200];
    snprintf(other, sizeof other, "%s/other", scratch);
    CHECK_EQ_INT(write_file(other, "x", 0600), 0);
    CHECK_EQ_INT(symlink(other, p), 0);
    CHECK_ERRNO(tmpf_file_reopen(f, O_RDONLY), -1, ENOENT);
    unlink(p);
    /* A FIFO under the name: must not hang, must not be returned. */
    CHECK_EQ_INT(mkfifo(p, 0600), 0);
    CHECK_ERRNO(tmpf_file_reopen(f, O_RDONLY), -1, ENOENT);
    CHECK_ERRNO(tmpf_file_reopen(f, O_RDWR), -1, ENOENT);
    unlink(p);
    unlink(other);
#endif
    tmpf_file_cleanup(f);
    CHECK_EQ_INT(count_entries(scratch), 0);
}

#ifndef _WIN32
static void test_reopen_emfile(void)
{
    tmpf_opts o = in_scratch(0);
    tmpf_file *f = tmpf_temporary_file(&o);
    CHECK(f != NULL);
    if (!f)
        return;
    struct rlimit old;
    getrlimit(RLIMIT_NOFILE, &old);
    int lowest = dup(0);
    close(lowest);
    struct rlimit lim = {(rlim_t)lowest, old.rlim_max};
    CHECK_EQ_INT(setrlimit(RLIMIT_NOFILE, &lim), 0);
    CHECK_ERRNO(tmpf_file_reopen(f, O_RDWR), -1, TMPF_CAN_REOPEN_FD ? EMFILE : EOPNOTSUPP);
    setrlimit(RLIMIT_NOFILE, &old);
    tmpf_file_cleanup(f);
}
#endif

/* ---- Creation errors ---------------------------------------------------- */

static void test_error_missing_dir(void)
{
    char dir[4200];
    snprintf(dir, sizeof dir, "%s/missing", scratch);
    for (size_t m = 0; m < N_MAKERS; m++)
        CHECK_NULL_ERRNO(make(&makers[m], &(tmpf_opts){.dir = dir}), ENOENT);
    CHECK_EQ_INT(count_entries(scratch), 0);
}

static void test_error_not_a_dir(void)
{
    char file[4200];
    snprintf(file, sizeof file, "%s/plain", scratch);
    CHECK_EQ_INT(write_file(file, "", 0600), 0);
    for (size_t m = 0; m < N_MAKERS; m++)
        CHECK_NULL_ERRNO(make(&makers[m], &(tmpf_opts){.dir = file}), HARNESS_ENOTDIR);
    CHECK_EQ_INT(count_entries(scratch), 1);
}

static void test_error_bad_options(void)
{
    for (size_t m = 0; m < N_MAKERS; m++) {
        CHECK_NULL_ERRNO(make(&makers[m], &(tmpf_opts){.dir = scratch, .prefix = "a/b"}), EINVAL);
        CHECK_NULL_ERRNO(make(&makers[m], &(tmpf_opts){.dir = scratch, .flags = 1u << 29}), EINVAL);
    }
    CHECK_EQ_INT(count_entries(scratch), 0);
}

#ifndef _WIN32
static void test_error_emfile_leaves_nothing(void)
{
    struct rlimit old;
    CHECK_EQ_INT(getrlimit(RLIMIT_NOFILE, &old), 0);
    int lowest = dup(0);
    close(lowest);
    struct rlimit lim = {(rlim_t)lowest, old.rlim_max};
    CHECK_EQ_INT(setrlimit(RLIMIT_NOFILE, &lim), 0);
    int errs[N_MAKERS];
    tmpf_file *got[N_MAKERS];
    for (size_t m = 0; m < N_MAKERS; m++) {
        tmpf_opts o = in_scratch(0);
        errno = 0;
        got[m] = make(&makers[m], &o);
        errs[m] = errno;
    }
    CHECK_EQ_INT(setrlimit(RLIMIT_NOFILE, &old), 0);
    for (size_t m = 0; m < N_MAKERS; m++) {
        CHECK(got[m] == NULL);
        CHECK_EQ_INT(errs[m], EMFILE);
        tmpf_file_cleanup(got[m]);
    }
    /* valgrind fakes EMFILE after the kernel has created the file (it
     * enforces the limit itself, on the returned descriptor). */
    const char *preload = getenv("LD_PRELOAD");
    if (preload && strstr(preload, "vgpreload"))
        SKIP("under valgrind the directory check proves nothing");
    CHECK_EQ_INT(count_entries(scratch), 0);
}
#endif

struct nobody_case {
    const char *dir;
    size_t maker;
};

static int create_as_nobody(void *arg)
{
    const struct nobody_case *c = arg;
    errno = 0;
    tmpf_file *f = make(&makers[c->maker], &(tmpf_opts){.dir = c->dir});
    if (f) {
        tmpf_file_cleanup(f);
        return 1;
    }
    return errno == EACCES ? 0 : 2;
}

static void test_error_unwritable_dir_as_nobody(void)
{
    char dir[4200];
    snprintf(dir, sizeof dir, "%s/ro", scratch);
    CHECK_EQ_INT(mkdir(dir, 0755), 0); /* root's, not writable by nobody */
    for (size_t m = 0; m < N_MAKERS; m++) {
        struct nobody_case c = {dir, m};
        CHECK_EQ_INT(run_as_nobody(create_as_nobody, &c), 0);
    }
    CHECK_EQ_INT(count_entries(dir), 0);
}
#ifndef _WIN32

/* Mounts a small tmpfs at scratch/mnt; false (after a message) if not
 * permitted here. */
static bool mount_small_tmpfs(char *mnt, size_t n, const char *options)
{
    snprintf(mnt, n, "%s/mnt", scratch);
    if (mkdir(mnt, 0700) != 0)
        return false;
    if (mount("tmpf-test", mnt, "tmpfs", 0, options) != 0) {
        fprintf(stderr, "  mount tmpfs: %s\n", strerror(errno));
        rmdir(mnt);
        return false;
    }
    return true;
}

static void test_error_enospc_on_write(void)
{
    char mnt[4200];
    if (!mount_small_tmpfs(mnt, sizeof mnt, "size=64k"))
        SKIP("cannot mount a tmpfs here");
    static char big[256 * 1024];
    memset(big, 'z', sizeof big);
    for (size_t m = 0; m < N_MAKERS; m++) {
        tmpf_file *f = make(&makers[m], &(tmpf_opts){.dir = mnt});
        CHECK(f != NULL);
        if (!f)
            continue;
        CHECK_ERRNO(tmpf_file_write(f, big, sizeof big), -1, ENOSPC);
        CHECK_EQ_INT(tmpf_file_truncate(f, 0), 0);
        CHECK_EQ_INT(tmpf_file_seek(f, 0, SEEK_SET), 0);
        /* Through the stream: the error reaches fflush and the file call. */
        FILE *s = tmpf_file_stream(f);
        CHECK(s != NULL);
        errno = 0;
        size_t put_n = fwrite(big, 1, sizeof big, s);
        int flushed = fflush(s);
        CHECK(put_n < sizeof big || flushed == EOF);
        CHECK(ferror(s));
        CHECK_EQ_INT(errno, ENOSPC);
        clearerr(s);
        CHECK_EQ_INT(tmpf_file_cleanup(f), 0);
    }
    CHECK_EQ_INT(count_entries(mnt), 0);
    CHECK_EQ_INT(umount(mnt), 0);
    rmdir(mnt);
}

static void test_error_enospc_on_create(void)
{
    char mnt[4200];
    /* The root takes one inode and "full" the other: none left. */
    if (!mount_small_tmpfs(mnt, sizeof mnt, "size=64k,nr_inodes=2"))
        SKIP("cannot mount a tmpfs here");
    char full[4300];
    snprintf(full, sizeof full, "%s/full", mnt);
    CHECK_EQ_INT(write_file(full, "", 0600), 0);
    for (size_t m = 0; m < N_MAKERS; m++)
        CHECK_NULL_ERRNO(make(&makers[m], &(tmpf_opts){.dir = mnt}), ENOSPC);
    CHECK_EQ_INT(count_entries(mnt), 1);
    unlink(full);
    CHECK_EQ_INT(umount(mnt), 0);
    rmdir(mnt);
}
#endif

/* ---- TMPF_AUTO_FILE ------------------------------------------------------ */

static void test_auto_file_cleans_at_scope_exit(void)
{
    char *path = NULL;
    {
        TMPF_AUTO_FILE f = tmpf_named_temporary_file(&(tmpf_opts){.dir = scratch});
        CHECK(f != NULL);
        if (f) {
            path = dup_path(f);
            fprintf(tmpf_file_stream(f), "auto");
        }
        CHECK(path && path_exists(path));
    }
    CHECK(path && !path_exists(path));
    {
        /* A NULL from a failed creation is fine at scope exit too. */
        TMPF_AUTO_FILE g = tmpf_temporary_file(&(tmpf_opts){.dir = "/nonexistent/x"});
        CHECK(g == NULL);
    }
    {
        TMPF_AUTO_FILE h = tmpf_named_temporary_file(
            &(tmpf_opts){.dir = scratch, .flags = TMPF_KEEP_AFTER_CLOSE});
        CHECK(h != NULL);
        CHECK_EQ_INT(tmpf_file_close(h), 0); /* closed early, still cleaned */
    }
    CHECK_EQ_INT(count_entries(scratch), 0);
    free(path);
}

/* tmpf_file_sync goes through the platform's one sync function (which
 * is F_FULLFSYNC on macOS; counted for tests): issue 18, defect 6. */
extern unsigned long tmpf__test_fsync_count(void);

static void test_sync_through_the_platform_layer(void)
{
    tmpf_opts o = in_scratch(0);
    tmpf_file *f = tmpf_named_temporary_file(&o);
    CHECK(f != NULL);
    if (!f)
        return;
    put(f, "durable");
    unsigned long before = tmpf__test_fsync_count();
    CHECK_EQ_INT(tmpf_file_sync(f), 0);
    CHECK_EQ_INT(tmpf__test_fsync_count() - before, 1);
    CHECK_EQ_INT(tmpf_file_cleanup(f), 0);
}

static const struct test tests[] = {
    TEST(test_sync_through_the_platform_layer),
    TEST(test_anonymous_has_no_directory_entry),
    TEST(test_anonymous_fallback_leaves_no_entry),
    TEST(test_anonymous_many_fallback_and_fast),
    TEST_POSIX(test_fallback_switch_is_really_used, "O_TMPFILE, checked by linking /proc/self/fd"),
    TEST_POSIX(test_tmpfile_refusal_is_per_directory, "O_TMPFILE and a mounted mqueue file system"),
    TEST(test_named_default_gone_after_close),
    TEST(test_named_default_gone_after_cleanup_without_close),
    TEST(test_keep_after_close_exists_until_cleanup),
    TEST(test_keep_flag_survives_cleanup),
    TEST(test_keep_flag_with_keep_after_close),
    TEST(test_keep_call_disarms_deletion),
    TEST(test_keep_after_default_close_changes_nothing),
    TEST(test_live_counters_follow_policies),
    TEST(test_cleanup_null_is_noop),
    TEST(test_name_removed_by_someone_else),
    TEST(test_close_reports_failed_delete),
    TEST(test_mode_0600_under_umask_0),
    TEST(test_perm_option_and_umask),
    TEST(test_io_basics),
    TEST(test_large_write_read_back),
    TEST(test_ebadf_after_close),
    TEST(test_stream_is_owned_and_stable),
    TEST(test_stream_fprintf_then_read),
    TEST(test_stream_after_direct_write_fgets_getline),
    TEST(test_stream_partial_fread_then_tell_and_read),
    TEST(test_stream_seek_one_read_other),
    TEST(test_stream_sees_direct_overwrite_of_read_ahead),
    TEST(test_stream_write_direct_overwrite),
    TEST(test_stream_output_visible_through_fd_and_reopen),
    TEST(test_stream_flushed_by_close),
    TEST(test_stream_spooled_rolls_over_behind_stream),
    TEST(test_stream_spooled_reopen_rolls_over),
    TEST(test_reopen_offsets_independent),
    TEST(test_reopen_bad_flags),
    TEST(test_reopen_named_when_name_changed),
    TEST_POSIX(test_reopen_emfile, "RLIMIT_NOFILE"),
    TEST(test_error_missing_dir),
    TEST(test_error_not_a_dir),
    TEST(test_error_bad_options),
    TEST_POSIX(test_error_emfile_leaves_nothing, "RLIMIT_NOFILE"),
    TEST(test_error_unwritable_dir_as_nobody),
    TEST_POSIX(test_error_enospc_on_write, "a mounted tmpfs"),
    TEST_POSIX(test_error_enospc_on_create, "a mounted tmpfs"),
    TEST(test_auto_file_cleans_at_scope_exit),
};
TEST_MAIN(tests)
