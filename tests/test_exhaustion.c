/*
 * Real resource exhaustion (issue 9): no descriptor left (EMFILE), a small
 * RLIMIT_FSIZE while a spooled file rolls over (EFBIG, SIGXFSZ ignored), and
 * a full file system (a small tmpfs this test mounts; skipped with a message
 * if mounting is not permitted) during write, rollover, persist and
 * write_atomic. Each time: the error is reported, nothing is lost (the
 * spooled file still holds its data, the atomic target its old content),
 * nothing is left behind.
 */
#include "harness.h"

#include <sys/mount.h>
#include <sys/resource.h>
#include <tmpf.h>

static bool holds(tmpf_file *f, const char *data, size_t n)
{
    static char buf[1 << 17];
    if (n > sizeof buf || tmpf_file_seek(f, 0, SEEK_SET) != 0)
        return false;
    size_t got = 0;
    while (got < n + 1) {
        ssize_t r = tmpf_file_read(f, buf + got, sizeof buf - got);
        if (r < 0)
            return false;
        if (r == 0)
            break;
        got += (size_t)r;
    }
    return got == n && memcmp(buf, data, n) == 0;
}

static bool file_is(const char *path, const char *content)
{
    char buf[256] = {0};
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return false;
    ssize_t n = read(fd, buf, sizeof buf - 1);
    close(fd);
    return n >= 0 && strcmp(buf, content) == 0;
}

/* ---- EMFILE ----------------------------------------------------------- */

static void test_emfile_every_creator(void)
{
    const char *pre = getenv("LD_PRELOAD");
    if (pre && strstr(pre, "vgpreload"))
        SKIP("valgrind refuses descriptors above the limit after the kernel"
             " made them (the file exists, open says EMFILE)");
    struct rlimit old;
    CHECK(getrlimit(RLIMIT_NOFILE, &old) == 0);
    struct rlimit low = {64, old.rlim_max};
    CHECK(setrlimit(RLIMIT_NOFILE, &low) == 0);
    int fds[64], nfds = 0;
    int fd;
    while (nfds < 64 && (fd = open("/dev/null", O_RDONLY | O_CLOEXEC)) >= 0)
        fds[nfds++] = fd;
    CHECK(nfds < 64);
    tmpf_opts o = {.dir = scratch};
    char *path = NULL;
    CHECK_ERRNO(tmpf_mkstemp(&o, &path), -1, EMFILE);
    CHECK_NULL_ERRNO(tmpf_temporary_file(&o), EMFILE);
    CHECK_NULL_ERRNO(tmpf_named_temporary_file(&o), EMFILE);
    /* where others cannot rename entries, a directory needs no descriptor
     * until asked for one; in scratch (0777) it holds one from creation */
    CHECK_NULL_ERRNO(tmpf_temporary_directory(&o), EMFILE);
    tmpf_dir *d = tmpf_temporary_directory(&(tmpf_opts){.dir = sticky_dir()});
    CHECK(d != NULL);
    CHECK_ERRNO(tmpf_dir_fd(d), -1, EMFILE);
    CHECK(tmpf_dir_cleanup(d) == 0);
    CHECK_EQ_INT(rmdir(sticky_dir()), 0);
    CHECK_ERRNO(tmpf_write_atomic(path_join(scratch, "t"), "x", 1, 0), -1,
                EMFILE);
    /* a spooled file needs no descriptor until it rolls over */
    o.max_size = 10;
    tmpf_file *s = tmpf_spooled_temporary_file(&o);
    CHECK(s != NULL);
    CHECK_EQ_INT(tmpf_file_write(s, "0123456789", 10), 10);
    CHECK_ERRNO(tmpf_file_write(s, "abc", 3), -1, EMFILE);
    CHECK(!tmpf_file_rolled(s));
    while (nfds > 0)
        close(fds[--nfds]);
    CHECK(setrlimit(RLIMIT_NOFILE, &old) == 0);
    CHECK_EQ_INT(count_entries(scratch), 0);
    CHECK(holds(s, "0123456789", 10));
    CHECK_EQ_INT(tmpf_file_write(s, "abc", 3), 3);
    CHECK(tmpf_file_rolled(s));
    CHECK(tmpf_file_cleanup(s) == 0);
    CHECK_EQ_INT(count_entries(scratch), 0);
}

/* ---- RLIMIT_FSIZE during rollover ------------------------------------- */

static int fsize_child(void)
{
    signal(SIGXFSZ, SIG_IGN);
    struct rlimit r = {1000, 1000};
    if (setrlimit(RLIMIT_FSIZE, &r) != 0)
        return 10;
    static char data[3000];
    for (size_t i = 0; i < sizeof data; i++)
        data[i] = (char)('a' + i % 26);
    tmpf_opts o = {.dir = scratch, .max_size = 4096};
    tmpf_file *f = tmpf_spooled_temporary_file(&o);
    if (!f || tmpf_file_write(f, data, sizeof data) != (ssize_t)sizeof data)
        return 11;
    errno = 0;
    if (tmpf_file_rollover(f) != -1 || errno != EFBIG)
        return 12;
    if (tmpf_file_rolled(f) || !holds(f, data, sizeof data))
        return 13; /* the data must still be in memory */
    char more[2000] = {0};
    errno = 0;
    if (tmpf_file_write(f, more, sizeof more) != -1 || errno != EFBIG)
        return 14; /* passing max_size rolls over: same failure */
    if (!holds(f, data, sizeof data))
        return 15;
    if (count_entries(scratch) != 0)
        return 16;
    if (tmpf_file_cleanup(f) != 0)
        return 17;
    return count_entries(scratch) == 0 ? 0 : 18;
}

static void test_fsize_limit_during_rollover(void)
{
    fflush(NULL);
    pid_t pid = fork();
    CHECK(pid >= 0);
    if (pid == 0)
        _exit(fsize_child());
    int st;
    CHECK(waitpid(pid, &st, 0) == pid);
    CHECK(WIFEXITED(st));
    CHECK_EQ_INT(WEXITSTATUS(st), 0);
}

/* ---- a full file system ----------------------------------------------- */

static char mnt[4096];

/* Mounts a 256 KiB tmpfs and fills it to within `room` bytes. */
static bool mount_small(size_t room)
{
    snprintf(mnt, sizeof mnt, "%s/mnt", scratch);
    if (mkdir(mnt, 0700) != 0)
        return false;
    if (mount("tmpfs", mnt, "tmpfs", 0, "size=256k,mode=0700") != 0) {
        rmdir(mnt);
        return false;
    }
    /* fill everything, then free `room` bytes */
    int fd = open(path_join(mnt, "filler"), O_WRONLY | O_CREAT | O_CLOEXEC, 0600);
    static char block[4096];
    while (write(fd, block, sizeof block) > 0)
        ;
    off_t size = lseek(fd, 0, SEEK_END);
    if (ftruncate(fd, size > (off_t)room ? size - (off_t)room : 0) != 0)
        size = -1;
    close(fd);
    return size >= 0;
}

static void unmount_small(void)
{
    unlink(path_join(mnt, "filler"));
    CHECK(umount(mnt) == 0);
    rmdir(mnt);
}

#define NEED_MOUNT(room)                                                       \
    do {                                                                       \
        if (!mount_small(room))                                                \
            SKIP("cannot mount a tmpfs here (%s)", strerror(errno));           \
    } while (0)

static void test_full_fs_write(void)
{
    NEED_MOUNT(8192);
    tmpf_opts o = {.dir = mnt};
    tmpf_file *f = tmpf_named_temporary_file(&o);
    CHECK(f != NULL);
    static char big[64 * 1024];
    ssize_t w = tmpf_file_write(f, big, sizeof big);
    int err = errno;
    /* a short write, or -1 with ENOSPC: never a silent full count */
    CHECK(w < (ssize_t)sizeof big);
    if (w < 0)
        CHECK_EQ_INT(err, ENOSPC);
    CHECK(tmpf_file_cleanup(f) == 0);
    CHECK_EQ_INT(count_entries(mnt), 1); /* only the filler */
    unmount_small();
}

static void test_full_fs_rollover(void)
{
    NEED_MOUNT(8192);
    static char data[32 * 1024];
    for (size_t i = 0; i < sizeof data; i++)
        data[i] = (char)i;
    tmpf_opts o = {.dir = mnt, .max_size = sizeof data + 1};
    tmpf_file *f = tmpf_spooled_temporary_file(&o);
    CHECK(f != NULL);
    CHECK_EQ_INT(tmpf_file_write(f, data, sizeof data), sizeof data);
    CHECK_ERRNO(tmpf_file_rollover(f), -1, ENOSPC);
    CHECK(!tmpf_file_rolled(f));
    CHECK(holds(f, data, sizeof data));
    CHECK_ERRNO(tmpf_file_write(f, "xy", 2), -1, ENOSPC); /* passes max_size */
    CHECK(holds(f, data, sizeof data));
    CHECK_EQ_INT(count_entries(mnt), 1);
    CHECK(tmpf_file_cleanup(f) == 0);
    CHECK_EQ_INT(count_entries(mnt), 1);
    unmount_small();
}

static void test_full_fs_persist_spooled(void)
{
    NEED_MOUNT(8192);
    static char data[32 * 1024];
    memset(data, 'p', sizeof data);
    tmpf_opts o = {.dir = mnt, .max_size = 1 << 20};
    tmpf_file *f = tmpf_spooled_temporary_file(&o);
    CHECK(f != NULL);
    CHECK_EQ_INT(tmpf_file_write(f, data, sizeof data), sizeof data);
    const char *target = path_join(mnt, "target");
    CHECK(write_file(target, "old", 0644) == 0);
    CHECK_ERRNO(tmpf_file_persist(f, target, 0), -1, ENOSPC);
    CHECK(file_is(target, "old"));
    CHECK(holds(f, data, sizeof data));
    CHECK_EQ_INT(count_entries(mnt), 2); /* filler and target */
    CHECK(tmpf_file_cleanup(f) == 0);
    CHECK_EQ_INT(count_entries(mnt), 2);
    unlink(target);
    unmount_small();
}

static void test_full_fs_write_atomic(void)
{
    NEED_MOUNT(8192);
    static char data[32 * 1024];
    memset(data, 'w', sizeof data);
    const char *target = path_join(mnt, "target");
    CHECK(write_file(target, "old", 0644) == 0);
    CHECK_ERRNO(tmpf_write_atomic(target, data, sizeof data, 0), -1, ENOSPC);
    CHECK_ERRNO(tmpf_write_atomic(target, data, sizeof data, TMPF_DURABLE), -1,
                ENOSPC);
    CHECK(file_is(target, "old"));
    CHECK_EQ_INT(count_entries(mnt), 2);
    unlink(target);
    unmount_small();
}

static const struct test tests[] = {
    TEST(test_emfile_every_creator),
    TEST(test_fsize_limit_during_rollover),
    TEST(test_full_fs_write),
    TEST(test_full_fs_rollover),
    TEST(test_full_fs_persist_spooled),
    TEST(test_full_fs_write_atomic),
};

TEST_MAIN(tests)
