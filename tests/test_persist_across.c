/*
 * TMPF_ACROSS_FS: persist and dir_persist to another file system copy to a
 * side name beside target and rename, so target is still old-or-new; the
 * temporary goes afterwards; holes stay holes; a full file system midway
 * (ENOSPC on a small tmpfs) leaves target untouched and no side file.
 * Between /tmp and the scratch directory (/dev/shm), where they differ.
 */
#include "tree.h"

#include <sys/mount.h>
#include <tmpf.h>
#include "tmpf_features.h"

extern unsigned long tmpf__test_fsync_count(void);

static char other[64]; /* a directory of this test's own in /tmp */

static bool other_fs(void)
{
    struct stat a, b;
    strcpy(other, "/tmp/tmpf-across-XXXXXX");
    if (!mkdtemp(other))
        return false;
    if (stat(other, &a) != 0 || stat(scratch, &b) != 0 || a.st_dev == b.st_dev) {
        rmdir(other);
        return false;
    }
    return true;
}

#define NEED_OTHER_FS()                                                        \
    do {                                                                       \
        if (!other_fs())                                                       \
            SKIP("/tmp and %s are on the same file system", scratch);         \
    } while (0)

static tmpf_file *file_in(const char *dir, bool named, const char *content)
{
    tmpf_opts o = {.dir = dir};
    /* Where an anonymous file cannot be persisted at all (ENOENT,
     * test_persist), the copy is tested with named ones. */
    named = named || !TMPF_CAN_LINK_ANONYMOUS;
    tmpf_file *f = named ? tmpf_named_temporary_file(&o) : tmpf_temporary_file(&o);
    if (f && tmpf_file_write(f, content, strlen(content)) < 0) {
        tmpf_file_cleanup(f);
        return NULL;
    }
    return f;
}

static void across_file(bool named, unsigned flags)
{
    NEED_OTHER_FS();
    char t[4400];
    snprintf(t, sizeof t, "%s/t", scratch);
    CHECK(write_file(t, "old", 0640) == 0);
    CHECK(chown(t, 65534, 65534) == 0 || geteuid() != 0);
    tmpf_file *f = file_in(other, named, "new data");
    CHECK(f != NULL);
    CHECK_ERRNO(tmpf_file_persist(f, t, flags), -1, EXDEV);
    CHECK(file_holds(t, "old"));
    unsigned long syncs = tmpf__test_fsync_count();
    CHECK_EQ_INT(tmpf_file_persist(f, t, flags | TMPF_ACROSS_FS), 0);
    if (flags & TMPF_DURABLE)
        CHECK_EQ_INT(tmpf__test_fsync_count() - syncs, 2);
    CHECK(file_holds(t, "new data"));
    CHECK_EQ_STR(tmpf_file_path(f), t);
    struct stat st;
    CHECK(stat(t, &st) == 0 && (st.st_mode & 07777) == 0640);
    if (geteuid() == 0)
        CHECK(st.st_uid == 65534 && st.st_gid == 65534);
    /* The temporary is gone; f is the file at target now. */
    CHECK_EQ_INT(count_entries(other), 0);
    CHECK_EQ_INT(count_entries(scratch), 1);
    CHECK_EQ_INT(tmpf_file_write(f, "+", 1), 1);
    CHECK(file_holds(t, "new data+"));
    CHECK_EQ_INT(tmpf_file_cleanup(f), 0);
    CHECK(file_holds(t, "new data+"));
    harness_rmrf(other); /* everything, even after a failed check */
}

static void test_across_named(void) { across_file(true, 0); }
static void test_across_anonymous(void) { across_file(false, 0); }
static void test_across_named_durable(void) { across_file(true, TMPF_DURABLE); }
static void test_across_anonymous_noclobber(void)
{
    NEED_OTHER_FS();
    char t[4400];
    snprintf(t, sizeof t, "%s/new", scratch);
    tmpf_file *f = file_in(other, false, "n");
    CHECK_EQ_INT(tmpf_file_persist(f, t, TMPF_ACROSS_FS | TMPF_NOCLOBBER), 0);
    CHECK(file_holds(t, "n"));
    tmpf_file *g = file_in(other, true, "g");
    CHECK_ERRNO(tmpf_file_persist(g, t, TMPF_ACROSS_FS | TMPF_NOCLOBBER), -1, EEXIST);
    CHECK(file_holds(t, "n"));
    CHECK_EQ_INT(count_entries(scratch), 1);
    CHECK_EQ_INT(count_entries(other), 1); /* g, still temporary */
    CHECK_EQ_INT(tmpf_file_cleanup(g), 0);
    CHECK_EQ_INT(tmpf_file_cleanup(f), 0);
    CHECK_EQ_INT(count_entries(other), 0);
    harness_rmrf(other); /* everything, even after a failed check */
}

/* A file of 8 MiB holding two bytes stays a file of a few blocks. */
static void test_across_sparse(void)
{
    NEED_OTHER_FS();
    char t[4400];
    snprintf(t, sizeof t, "%s/sparse", scratch);
    tmpf_file *f = file_in(other, false, "a");
    CHECK(f != NULL);
    CHECK_EQ_INT(tmpf_file_seek(f, 8 << 20, SEEK_SET), 8 << 20);
    CHECK_EQ_INT(tmpf_file_write(f, "b", 1), 1);
    CHECK_EQ_INT(tmpf_file_seek(f, 0, SEEK_SET), 0);
    CHECK_EQ_INT(tmpf_file_persist(f, t, TMPF_ACROSS_FS), 0);
    struct stat st;
    CHECK(stat(t, &st) == 0);
    CHECK_EQ_INT(st.st_size, (8 << 20) + 1);
    CHECK(st.st_blocks * 512 < 1 << 20);
    char c = 0;
    int fd = open(t, O_RDONLY | O_CLOEXEC);
    CHECK(fd >= 0 && pread(fd, &c, 1, 8 << 20) == 1 && c == 'b');
    CHECK(pread(fd, &c, 1, 4096) == 1 && c == 0);
    close(fd);
    CHECK_EQ_INT(tmpf_file_tell(f), 0); /* the offset came along */
    CHECK_EQ_INT(tmpf_file_cleanup(f), 0);
    harness_rmrf(other); /* everything, even after a failed check */
}

static bool mount_small(const char *dir, const char *opts)
{
    if (mkdir(dir, 0777) != 0)
        return false;
    if (mount("tmpf-test", dir, "tmpfs", 0, opts) != 0) {
        fprintf(stderr, "  cannot mount tmpfs (%s)\n", strerror(errno));
        rmdir(dir);
        return false;
    }
    return true;
}

static void unmount_small(const char *dir)
{
    umount2(dir, MNT_DETACH);
    rmdir(dir);
}

/* The file system of target fills up during the copy. */
static void test_across_enospc(void)
{
    char mnt[4400], t[4500];
    snprintf(mnt, sizeof mnt, "%s/small", scratch);
    if (!mount_small(mnt, "size=64k"))
        SKIP("mount not permitted");
    snprintf(t, sizeof t, "%s/t", mnt);
    CHECK(write_file(t, "old", 0644) == 0);
    CHECK(mkdir(P("%s/d", mnt), 0755) == 0);
    CHECK(write_file(P("%s/d/old", mnt), "old", 0644) == 0);
    char *big = malloc(1 << 20);
    memset(big, 'x', 1 << 20);
    for (int named = 0; named < 2; named++) {
        tmpf_file *f = file_in(scratch, named, "");
        CHECK_EQ_INT(tmpf_file_write(f, big, 1 << 20), 1 << 20);
        CHECK_ERRNO(tmpf_file_persist(f, t, TMPF_ACROSS_FS), -1, ENOSPC);
        CHECK_ERRNO(tmpf_file_persist(f, t, TMPF_ACROSS_FS | TMPF_DURABLE), -1, ENOSPC);
        CHECK(file_holds(t, "old"));
        CHECK_EQ_INT(count_entries(mnt), 2);
        CHECK_EQ_INT(tmpf_file_cleanup(f), 0);
    }
    tmpf_dir *d = tmpf_temporary_directory(&(tmpf_opts){.dir = scratch});
    CHECK(write_file(P("%s/a", tmpf_dir_path(d)), "a", 0644) == 0);
    int fd = open(P("%s/big", tmpf_dir_path(d)), O_WRONLY | O_CREAT | O_CLOEXEC, 0644);
    CHECK(fd >= 0 && write(fd, big, 1 << 20) == 1 << 20);
    close(fd);
    CHECK_ERRNO(tmpf_dir_persist(d, P("%s/d", mnt), TMPF_ACROSS_FS), -1, ENOSPC);
    CHECK_ERRNO(tmpf_dir_persist(d, P("%s/new", mnt), TMPF_ACROSS_FS), -1, ENOSPC);
    CHECK(file_holds(P("%s/d/old", mnt), "old"));
    CHECK_EQ_INT(count_entries(mnt), 2);
    CHECK_EQ_INT(count_entries(tmpf_dir_path(d)), 2);
    CHECK_EQ_INT(tmpf_dir_cleanup(d), 0);
    free(big);
    unmount_small(mnt);
}

static void test_across_dir(void)
{
    NEED_OTHER_FS();
    char t[4400];
    snprintf(t, sizeof t, "%s/t", scratch);
    CHECK(mkdir(t, 0755) == 0);
    CHECK(write_file(P("%s/old", t), "old", 0644) == 0);
    tmpf_dir *d = tmpf_temporary_directory(&(tmpf_opts){.dir = other});
    const char *p = tmpf_dir_path(d);
    CHECK(mkdir(P("%s/sub", p), 0750) == 0);
    CHECK(write_file(P("%s/sub/f", p), "f", 0604) == 0);
    CHECK(chmod(P("%s/sub/f", p), 0604) == 0);
    CHECK(symlink("sub/f", P("%s/link", p)) == 0);
    CHECK_ERRNO(tmpf_dir_persist(d, t, 0), -1, EXDEV);
    if (!TMPF_CAN_EXCHANGE_DIR) {
        /* Over a tree: no atomic exchange here, target untouched, no
         * copy left; then onto a free name. */
        CHECK_ERRNO(tmpf_dir_persist(d, t, TMPF_ACROSS_FS | TMPF_DURABLE), -1, ENOTSUP);
        CHECK(file_holds(P("%s/old", t), "old"));
        CHECK_EQ_INT(count_entries(scratch), 1);
        CHECK_EQ_INT(count_entries(t), 1);
        CHECK(unlink(P("%s/old", t)) == 0 && rmdir(t) == 0);
    }
    unsigned long syncs = tmpf__test_fsync_count();
    CHECK_EQ_INT(tmpf_dir_persist(d, t, TMPF_ACROSS_FS | TMPF_DURABLE), 0);
    /* f, sub, the copy's root, the parent */
    CHECK_EQ_INT(tmpf__test_fsync_count() - syncs, 4);
    CHECK_EQ_STR(tmpf_dir_path(d), t);
    CHECK(file_holds(P("%s/sub/f", t), "f"));
    CHECK(file_holds(P("%s/link", t), "f"));
    CHECK_EQ_INT(mode_of(P("%s/sub/f", t)), 0604);
    CHECK_EQ_INT(mode_of(P("%s/sub", t)), 0750);
    CHECK_EQ_INT(mode_of(t), 0700);
    CHECK(!path_exists(P("%s/old", t)));
    CHECK_EQ_INT(count_entries(other), 0);
    CHECK_EQ_INT(count_entries(scratch), 1);
    CHECK(tmpf_dir_fd(d) >= 0);
    CHECK_EQ_INT(tmpf_dir_cleanup(d), 0);
    CHECK_EQ_INT(count_entries(t), 2);
    harness_rmrf(other); /* everything, even after a failed check */
}

static const struct test tests[] = {
    TEST(test_across_named),
    TEST(test_across_anonymous),
    TEST(test_across_named_durable),
    TEST(test_across_anonymous_noclobber),
    TEST(test_across_sparse),
    TEST(test_across_enospc),
    TEST(test_across_dir),
};
TEST_MAIN(tests)
