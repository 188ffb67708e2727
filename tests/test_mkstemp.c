/* Low-level creation: tmpf_mkstemp, tmpf_mkdtemp, tmpf_mktemp. */
#include "harness.h"
#ifndef _WIN32
#include <sys/mount.h>
#endif
#ifndef _WIN32
#include <sys/resource.h>
#endif
#include <tmpf.h>

#define ALPHABET "abcdefghijklmnopqrstuvwxyz0123456789_"

/* The library's test seam (src/names.c): names take their bytes from fn. */
void tmpf__test_set_random(int (*fn)(void *, size_t));

/* Call k of the seam fills the name with seam_seq[min(k, seam_len - 1)]:
 * byte 0 gives "aaaaaaaa", byte 1 "bbbbbbbb". seam_calls counts names. */
static int seam_calls;
static unsigned char seam_seq[4];
static int seam_len;

static int seam(void *buf, size_t n)
{
    int k = seam_calls < seam_len ? seam_calls : seam_len - 1;
    seam_calls++;
    memset(buf, seam_seq[k], n);
    return 0;
}

static void seam_on(int len, const unsigned char *seq)
{
    memcpy(seam_seq, seq, (size_t)len);
    seam_len = len;
    seam_calls = 0;
    tmpf__test_set_random(seam);
}

static void seam_off(void) { tmpf__test_set_random(NULL); }

#ifndef _WIN32
static unsigned mode_of(const char *path)
{
    struct stat st;
    return lstat(path, &st) == 0 ? (unsigned)(st.st_mode & 07777) : 0xffffffffu;
}
#endif

static void test_mkstemp_defaults_in_dir(void)
{
    char *path = NULL;
    int fd = tmpf_mkstemp(&(tmpf_opts){.dir = scratch}, &path);
    CHECK(fd >= 0);
    CHECK(path != NULL);
    if (fd < 0 || !path)
        return;
    size_t dl = strlen(scratch);
    CHECK(strncmp(path, scratch, dl) == 0 && is_sep(path[dl]));
    const char *name = path + dl + 1;
    CHECK(strncmp(name, "tmp", 3) == 0);
    CHECK_EQ_INT(strlen(name), 3 + 8);
    CHECK_EQ_INT(strspn(name + 3, ALPHABET), 8);
    struct stat st;
    CHECK(fstat(fd, &st) == 0 && S_ISREG(st.st_mode));
    CHECK(fd_id(fd) != 0 && path_id(path) == fd_id(fd));
    CHECK_EQ_INT(st.st_size, 0);
    CHECK(fd_cloexec(fd));
#ifndef _WIN32
    CHECK_EQ_INT(fcntl(fd, F_GETFL) & O_ACCMODE, O_RDWR);
#endif
    CHECK(write(fd, "hi", 2) == 2);
    char back[2] = {0};
    CHECK(pread(fd, back, 2, 0) == 2 && memcmp(back, "hi", 2) == 0);
    close(fd);
    unlink(path);
    free(path);
}

/* prefix, suffix and dir land where they should, for all three calls. */
static void test_prefix_suffix_dir_honoured(void)
{
    CHECK(mkdir(path_join(scratch, "sub"), 0700) == 0);
    const char *sub = path_join(scratch, "sub");
    tmpf_opts o = {.dir = sub, .prefix = "pre-", .suffix = ".post"};
    char *paths[3] = {NULL, NULL, NULL};
    int fd = tmpf_mkstemp(&o, &paths[0]);
    CHECK(fd >= 0);
    if (fd >= 0)
        close(fd);
    paths[1] = tmpf_mkdtemp(&o);
    paths[2] = tmpf_mktemp(&o);
    for (int k = 0; k < 3; k++) {
        CHECK(paths[k] != NULL);
        if (!paths[k])
            continue;
        size_t dl = strlen(sub);
        CHECK(strncmp(paths[k], sub, dl) == 0 && is_sep(paths[k][dl]));
        const char *name = paths[k] + dl + 1;
        CHECK_EQ_INT(strlen(name), 4 + 8 + 5);
        CHECK(strncmp(name, "pre-", 4) == 0);
        CHECK_EQ_INT(strspn(name + 4, ALPHABET), 8);
        CHECK_EQ_STR(name + 12, ".post");
    }
    struct stat st;
    CHECK(paths[0] && stat(paths[0], &st) == 0 && S_ISREG(st.st_mode));
    CHECK(paths[1] && stat(paths[1], &st) == 0 && S_ISDIR(st.st_mode));
    CHECK(paths[2] && !path_exists(paths[2]));
    CHECK_EQ_INT(count_entries(sub), 2);
    /* Empty prefix and suffix: the name is only the random part. */
    char *bare = tmpf_mkdtemp(&(tmpf_opts){.dir = sub, .prefix = "", .suffix = ""});
    CHECK(bare != NULL);
    if (bare) {
        const char *name = path_base(bare);
        CHECK_EQ_INT(strlen(name), 8);
        CHECK_EQ_INT(strspn(name, ALPHABET), 8);
    }
    free(bare);
    for (int k = 0; k < 3; k++)
        free(paths[k]);
}

static void test_null_opts_and_null_path(void)
{
    CHECK(tmpf_settempdir(scratch) == 0);
    int fd = tmpf_mkstemp(NULL, NULL);
    CHECK(fd >= 0);
    if (fd >= 0)
        close(fd);
    char *d = tmpf_mkdtemp(NULL);
    CHECK(d != NULL);
    if (d) {
        CHECK(strncmp(d, scratch, strlen(scratch)) == 0);
        CHECK(is_sep(d[strlen(scratch)]) &&
              strncmp(d + strlen(scratch) + 1, "tmp", 3) == 0);
    }
    free(d);
    char *path = NULL;
    fd = tmpf_mkstemp(&(tmpf_opts){0}, &path);
    CHECK(fd >= 0 && path && strncmp(path, scratch, strlen(scratch)) == 0);
    if (fd >= 0)
        close(fd);
    free(path);
    CHECK_EQ_INT(count_entries(scratch), 3);
    CHECK(tmpf_settempdir(NULL) == 0);
}

/* Invalid options: EINVAL, nothing created, *path untouched. */
static void test_bad_options_are_einval(void)
{
    static const tmpf_opts bad[] = {
        {.prefix = "../x"},          {.prefix = "/"},
        {.prefix = "a/"},            {.suffix = "a/b"},
        {.suffix = "/"},             {.rand_len = 65},
        {.rand_len = 1000},          {.flags = 1u << 30},
        {.perm = 010000},
    };
    for (size_t k = 0; k < sizeof bad / sizeof *bad; k++) {
        tmpf_opts o = bad[k];
        o.dir = scratch;
        char *path = (char *)"untouched";
        CHECK_ERRNO(tmpf_mkstemp(&o, &path), -1, EINVAL);
        CHECK_EQ_STR(path, "untouched");
        CHECK_NULL_ERRNO(tmpf_mkdtemp(&o), EINVAL);
        CHECK_NULL_ERRNO(tmpf_mktemp(&o), EINVAL);
    }
    CHECK_EQ_INT(count_entries(scratch), 0);
}

#ifndef _WIN32
static void check_file_mode(mode_t mask, unsigned perm, unsigned want)
{
    mode_t old = umask(mask);
    char *path = NULL;
    int fd = tmpf_mkstemp(&(tmpf_opts){.dir = scratch, .perm = perm}, &path);
    umask(old);
    CHECK(fd >= 0);
    if (fd < 0)
        return;
    struct stat st;
    CHECK(fstat(fd, &st) == 0);
    if ((st.st_mode & 07777) != want)
        FAIL_AT("file umask %03o perm %04o: mode %04o, want %04o", (unsigned)mask,
                perm, (unsigned)(st.st_mode & 07777), want);
    close(fd);
    unlink(path);
    free(path);
}

static void check_dir_mode(mode_t mask, unsigned perm, unsigned want)
{
    mode_t old = umask(mask);
    char *d = tmpf_mkdtemp(&(tmpf_opts){.dir = scratch, .perm = perm});
    umask(old);
    CHECK(d != NULL);
    if (!d)
        return;
    if (mode_of(d) != want)
        FAIL_AT("dir umask %03o perm %04o: mode %04o, want %04o", (unsigned)mask,
                perm, mode_of(d), want);
    rmdir(d);
    free(d);
}

static void test_modes_and_umask(void)
{
    static const struct {
        mode_t mask;
        unsigned perm, file, dir;
    } cases[] = {
        {0, 0, 0600, 0700},      {077, 0, 0600, 0700},  {022, 0, 0600, 0700},
        {0, 0644, 0644, 0644},   {022, 0666, 0644, 0644}, {077, 0666, 0600, 0600},
        {0, 0755, 0755, 0755},   {022, 0777, 0755, 0755}, {077, 0777, 0700, 0700},
        {0, 0400, 0400, 0400},
    };
    for (size_t k = 0; k < sizeof cases / sizeof *cases; k++) {
        check_file_mode(cases[k].mask, cases[k].perm, cases[k].file);
        check_dir_mode(cases[k].mask, cases[k].perm, cases[k].dir);
    }
}

/* The descriptor must be gone in a program exec'd by a child. A dup
 * without FD_CLOEXEC is the control that proves the check can see fds. */
static void test_cloexec_after_exec(void)
{
    int fd = tmpf_mkstemp(&(tmpf_opts){.dir = scratch}, NULL);
    CHECK(fd >= 0);
    if (fd < 0)
        return;
    int control = dup(fd);
    CHECK(control >= 0);
    char script[256];
    snprintf(script, sizeof script,
             "[ -e /proc/$$/fd/%d ] || exit 2; [ -e /proc/$$/fd/%d ] && exit 3; exit 0",
             control, fd);
    fflush(NULL);
    pid_t pid = fork();
    if (pid == 0) {
        execl("/bin/sh", "sh", "-c", script, (char *)NULL);
        _exit(127);
    }
    int status = -1;
    CHECK(pid > 0 && waitpid(pid, &status, 0) == pid);
    CHECK(WIFEXITED(status));
    CHECK_EQ_INT(WEXITSTATUS(status), 0);
    close(control);
    close(fd);
}

#endif
enum squatter { SQUAT_FILE, SQUAT_DIR, SQUAT_SYMLINK };
#ifndef _WIN32
#define SQUAT_LAST SQUAT_SYMLINK
#else
#define SQUAT_LAST SQUAT_DIR /* Wine makes no symlinks */
#endif

static void squat(enum squatter s, const char *at, const char *target)
{
    (void)target;
    switch (s) {
    case SQUAT_FILE:
        CHECK(write_file(at, "precious", 0644) == 0);
        break;
    case SQUAT_DIR:
        CHECK(mkdir(at, 0755) == 0);
        break;
    case SQUAT_SYMLINK:
#ifndef _WIN32
        CHECK(symlink(target, at) == 0);
#endif
        break;
    }
}

static void check_squatter_intact(enum squatter s, const char *at, const char *target)
{
    struct stat st;
    CHECK(lstat(at, &st) == 0);
    switch (s) {
    case SQUAT_FILE: {
        CHECK(S_ISREG(st.st_mode));
        CHECK_MODE(st.st_mode & 07777, 0644);
        CHECK_EQ_INT(st.st_size, 8);
        char buf[16] = {0};
        int fd = open(at, O_RDONLY | O_CLOEXEC);
        CHECK(fd >= 0 && read(fd, buf, sizeof buf) == 8);
        if (fd >= 0)
            close(fd);
        CHECK_EQ_STR(buf, "precious");
        break;
    }
    case SQUAT_DIR:
        CHECK(S_ISDIR(st.st_mode));
        CHECK_MODE(st.st_mode & 07777, 0755);
        CHECK_EQ_INT(count_entries(at), 0);
        break;
    case SQUAT_SYMLINK:
        CHECK(S_ISLNK(st.st_mode));
        break;
    }
    /* A followed symlink would have created its target. */
    CHECK(!path_exists(target));
}

/* An entry at the first candidate name (file, directory, or a dangling
 * symlink whose target must never appear) is skipped: the second name is
 * used and the squatter is left exactly as it was. */
static void test_existing_entries_skipped(void)
{
    const char *first = path_join(scratch, "tmpaaaaaaaa");
    const char *second = path_join(scratch, "tmpbbbbbbbb");
    const char *target = path_join(scratch, "target");
    for (int s = SQUAT_FILE; s <= SQUAT_LAST; s++) {
        for (int call = 0; call < 3; call++) {
            squat((enum squatter)s, first, target);
            seam_on(2, (const unsigned char[]){0, 1});
            char *got = NULL;
            int fd = -1;
            if (call == 0)
                fd = tmpf_mkstemp(&(tmpf_opts){.dir = scratch}, &got);
            else if (call == 1)
                got = tmpf_mkdtemp(&(tmpf_opts){.dir = scratch});
            else
                got = tmpf_mktemp(&(tmpf_opts){.dir = scratch});
            int calls = seam_calls;
            seam_off();
            CHECK(got != NULL);
            CHECK_EQ_STR(got, second);
            CHECK_EQ_INT(calls, 2);
            if (call == 0) {
                CHECK(fd >= 0);
                struct stat st;
                CHECK(fd >= 0 && fstat(fd, &st) == 0 && S_ISREG(st.st_mode) &&
                      st.st_size == 0);
                if (fd >= 0)
                    close(fd);
            }
            check_squatter_intact((enum squatter)s, first, target);
            if (call == 1)
                rmdir(second);
            else
                unlink(second);
            CHECK(!path_exists(second));
            free(got);
            if (s == SQUAT_DIR)
                rmdir(first);
            else
                unlink(first);
        }
    }
}

/* Every name taken: EEXIST after exactly TMPF_TMP_MAX names, nothing new
 * on disk. rand_len 1 and a constant seam make every name "tmpa". */
static void test_exhaustion_gives_eexist(void)
{
    CHECK(write_file(path_join(scratch, "tmpa"), "", 0600) == 0);
    tmpf_opts o = {.dir = scratch, .rand_len = 1};
    char *path = (char *)"untouched";

    seam_on(1, (const unsigned char[]){0});
    CHECK_ERRNO(tmpf_mkstemp(&o, &path), -1, EEXIST);
    CHECK_EQ_INT(seam_calls, TMPF_TMP_MAX);
    CHECK_EQ_STR(path, "untouched");

    seam_on(1, (const unsigned char[]){0});
    CHECK_NULL_ERRNO(tmpf_mkdtemp(&o), EEXIST);
    CHECK_EQ_INT(seam_calls, TMPF_TMP_MAX);

    seam_on(1, (const unsigned char[]){0});
    CHECK_NULL_ERRNO(tmpf_mktemp(&o), EEXIST);
    CHECK_EQ_INT(seam_calls, TMPF_TMP_MAX);
    seam_off();
    CHECK_EQ_INT(count_entries(scratch), 1);
}

/* A dir that cannot work fails on the first name, not after 10,000. */
static void test_bad_dir_fails_at_once(void)
{
    CHECK(write_file(path_join(scratch, "file"), "x", 0600) == 0);
    static const struct {
        const char *name;
        int err;
    } cases[] = {
        {"missing", ENOENT},
        {"missing/deeper", ENOENT},
        {"file", HARNESS_ENOTDIR},
        {"file/sub", HARNESS_ENOTDIR},
    };
    for (size_t k = 0; k < sizeof cases / sizeof *cases; k++) {
        tmpf_opts o = {.dir = path_join(scratch, cases[k].name)};
        char *path = (char *)"untouched";
        seam_on(1, (const unsigned char[]){0});
        CHECK_ERRNO(tmpf_mkstemp(&o, &path), -1, cases[k].err);
        CHECK_EQ_INT(seam_calls, 1);
        CHECK_EQ_STR(path, "untouched");
        seam_on(1, (const unsigned char[]){0});
        CHECK_NULL_ERRNO(tmpf_mkdtemp(&o), cases[k].err);
        CHECK_EQ_INT(seam_calls, 1);
        seam_on(1, (const unsigned char[]){0});
        if (cases[k].err == ENOENT) {
            /* Python's mktemp and GNU mktemp -u: a name in a missing
             * directory is free, so it is returned (and nothing made). */
            char *name = tmpf_mktemp(&o);
            CHECK(name != NULL && !path_exists(name));
            free(name);
        } else {
            CHECK_NULL_ERRNO(tmpf_mktemp(&o), cases[k].err);
        }
        CHECK(seam_calls <= 1);
        seam_off();
    }
    /* A name too long for the file system: ENAMETOOLONG, also at once. */
    char prefix[300];
    memset(prefix, 'x', sizeof prefix - 1);
    prefix[sizeof prefix - 1] = '\0';
    seam_on(1, (const unsigned char[]){0});
    CHECK_ERRNO(tmpf_mkstemp(&(tmpf_opts){.dir = scratch, .prefix = prefix}, NULL),
                -1, ENAMETOOLONG);
    CHECK_EQ_INT(seam_calls, 1);
    seam_off();
    CHECK_NULL_ERRNO(tmpf_mkdtemp(&(tmpf_opts){.dir = scratch, .prefix = prefix}),
                     ENAMETOOLONG);
    CHECK_EQ_INT(count_entries(scratch), 1);
}

/* Run as nobody: bit 0..5 set for each failed expectation. */
static int unwritable_as_nobody(void *arg)
{
    const char *dir = arg;
    int bad = 0;
    seam_on(1, (const unsigned char[]){0});
    errno = 0;
    if (tmpf_mkstemp(&(tmpf_opts){.dir = dir}, NULL) != -1 || errno != EACCES)
        bad |= 1;
    if (seam_calls != 1)
        bad |= 2;
    seam_on(1, (const unsigned char[]){0});
    errno = 0;
    if (tmpf_mkdtemp(&(tmpf_opts){.dir = dir}) != NULL || errno != EACCES)
        bad |= 4;
    if (seam_calls != 1)
        bad |= 8;
    /* Not even searchable: mktemp cannot tell whether a name is free. */
    const char *closed = path_join(dir, "closed");
    errno = 0;
    if (tmpf_mktemp(&(tmpf_opts){.dir = closed}) != NULL || errno != EACCES)
        bad |= 16;
    seam_off();
    return bad;
}

static void test_unwritable_dir_eacces(void)
{
    const char *ro = path_join(scratch, "ro");
    CHECK(mkdir(ro, 0755) == 0 && chmod(ro, 0755) == 0);
    CHECK(mkdir(path_join(ro, "closed"), 0700) == 0);
    CHECK_EQ_INT(run_as_nobody(unwritable_as_nobody, (void *)ro), 0);
    CHECK_EQ_INT(count_entries(ro), 1);
}

/* No descriptor left: EMFILE, and nothing on disk. */
#ifndef _WIN32
static void test_emfile(void)
{
    struct rlimit old;
    CHECK(getrlimit(RLIMIT_NOFILE, &old) == 0);
    int lowest = dup(0);
    CHECK(lowest >= 0);
    close(lowest);
    struct rlimit low = {(rlim_t)lowest, old.rlim_max};
    CHECK(setrlimit(RLIMIT_NOFILE, &low) == 0);
    /* The kernel fails before it creates anything; valgrind emulates the
     * limit after a real open, which would leave a file. */
    const char *probe_path = path_join(scratch, "probe");
    int probe = open(probe_path, O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
    if (probe >= 0 || path_exists(probe_path)) {
        if (probe >= 0)
            close(probe);
        setrlimit(RLIMIT_NOFILE, &old);
        unlink(probe_path);
        SKIP("RLIMIT_NOFILE not enforced by the kernel here (valgrind?)");
    }
    char *path = (char *)"untouched";
    errno = 0;
    int fd = tmpf_mkstemp(&(tmpf_opts){.dir = scratch}, &path);
    int err = errno;
    setrlimit(RLIMIT_NOFILE, &old);
    if (fd >= 0)
        close(fd);
    CHECK_EQ_INT(fd, -1);
    CHECK_EQ_INT(err, EMFILE);
    CHECK_EQ_STR(path, "untouched");
    CHECK_EQ_INT(count_entries(scratch), 0);
}

/* A full file system: ENOSPC at once, nothing left (a tiny tmpfs). */
static void test_enospc(void)
{
    const char *mnt = path_join(scratch, "mnt");
    CHECK(mkdir(mnt, 0700) == 0);
    if (mount("tmpf-test", mnt, "tmpfs", 0, "size=64k,nr_inodes=3,mode=0700") != 0)
        SKIP("cannot mount a tmpfs here: %s", strerror(errno));
    /* Fill the inodes: the root takes one. */
    int filled = 0;
    for (; filled < 10; filled++) {
        char name[32];
        snprintf(name, sizeof name, "fill%d", filled);
        if (write_file(path_join(mnt, name), "", 0600) != 0)
            break;
    }
    int entries = count_entries(mnt);
    seam_on(1, (const unsigned char[]){0});
    char *path = (char *)"untouched";
    CHECK_ERRNO(tmpf_mkstemp(&(tmpf_opts){.dir = mnt}, &path), -1, ENOSPC);
    CHECK_EQ_INT(seam_calls, 1);
    CHECK_EQ_STR(path, "untouched");
    seam_on(1, (const unsigned char[]){0});
    CHECK_NULL_ERRNO(tmpf_mkdtemp(&(tmpf_opts){.dir = mnt}), ENOSPC);
    CHECK_EQ_INT(seam_calls, 1);
    seam_off();
    CHECK_EQ_INT(count_entries(mnt), entries);
    CHECK(umount(mnt) == 0);
}
#endif

/* "." and "sub/../sub" give the normalized absolute path. */
static void test_relative_dir_normalized(void)
{
    char old[4096], here[4096];
    CHECK(getcwd(old, sizeof old) != NULL);
    CHECK(chdir(scratch) == 0);
    CHECK(getcwd(here, sizeof here) != NULL);
    CHECK(mkdir("sub", 0700) == 0);
    static const struct {
        const char *dir, *want;
    } cases[] = {
#define SUB HARNESS_SEP_STR "sub"
        {".", ""},          {"./", ""},     {"sub/../sub", SUB},
        {"sub/", SUB},      {"./sub/.", SUB}, {"sub//", SUB},
#undef SUB
    };
    for (size_t k = 0; k < sizeof cases / sizeof *cases; k++) {
        char want[4200];
        snprintf(want, sizeof want, "%s%s" HARNESS_SEP_STR "tmp", here,
                 cases[k].want);
        char *path = NULL;
        int fd = tmpf_mkstemp(&(tmpf_opts){.dir = cases[k].dir}, &path);
        CHECK(fd >= 0);
        if (fd < 0)
            continue;
        close(fd);
        if (strncmp(path, want, strlen(want)) != 0 ||
            strlen(path) != strlen(want) + 8)
            FAIL_AT("dir \"%s\": got %s, want %s + 8 characters", cases[k].dir,
                    path, want);
        CHECK(unlink(path) == 0);
        free(path);
        char *d = tmpf_mkdtemp(&(tmpf_opts){.dir = cases[k].dir});
        CHECK(d && strncmp(d, want, strlen(want)) == 0);
        if (d)
            rmdir(d);
        free(d);
    }
    /* An absolute dir with "..", "." and "//" is normalized too. */
    char messy[4200];
    snprintf(messy, sizeof messy, "%s//sub/./../sub", here);
    char *d = tmpf_mkdtemp(&(tmpf_opts){.dir = messy});
    char want[4200];
    snprintf(want, sizeof want, "%s" HARNESS_SEP_STR "sub" HARNESS_SEP_STR "tmp",
             here);
    CHECK(d && strncmp(d, want, strlen(want)) == 0);
    if (d)
        rmdir(d);
    free(d);
    /* "/" is "/name", never "//name" (Windows: the current drive's root,
     * "C:\\name"). */
    char *root = tmpf_mktemp(&(tmpf_opts){.dir = "/"});
#ifndef _WIN32
    CHECK(root && strncmp(root, "/tmp", 4) == 0 && strlen(root) == 1 + 3 + 8);
#else
    CHECK(root && root[1] == ':' && strncmp(root + 2, "\\tmp", 4) == 0 &&
          strlen(root) == 3 + 3 + 8);
#endif
    free(root);
    CHECK(chdir(old) == 0);
}

/* mktemp returns a free name and creates nothing. */
static void test_mktemp_creates_nothing(void)
{
    for (int k = 0; k < 100; k++) {
        char *p = tmpf_mktemp(&(tmpf_opts){.dir = scratch, .suffix = ".x"});
        CHECK(p != NULL);
        if (!p)
            return;
        CHECK(strncmp(p, scratch, strlen(scratch)) == 0);
        CHECK(!path_exists(p));
        free(p);
    }
    CHECK_EQ_INT(count_entries(scratch), 0);
}

static const struct test tests[] = {
    TEST(test_mkstemp_defaults_in_dir),
    TEST(test_prefix_suffix_dir_honoured),
    TEST(test_null_opts_and_null_path),
    TEST(test_bad_options_are_einval),
    TEST_POSIX(test_modes_and_umask, "modes and umask as POSIX bits (Windows has a read-only attribute only)"),
    TEST_POSIX(test_cloexec_after_exec, "exec of /bin/sh looking at /proc/$$/fd (fd_cloexec checks non-inheritance on Windows)"),
    TEST(test_existing_entries_skipped),
    TEST(test_exhaustion_gives_eexist),
    TEST(test_bad_dir_fails_at_once),
    TEST(test_unwritable_dir_eacces),
    TEST_POSIX(test_emfile, "RLIMIT_NOFILE"),
    TEST_POSIX(test_enospc, "a mounted tmpfs"),
    TEST(test_relative_dir_normalized),
    TEST(test_mktemp_creates_nothing),
};
TEST_MAIN(tests)
