/* TemporaryDirectory and tmpf_rmtree: creation, keep, descriptors, and the
 * removal of every kind of tree (the attacks are in test_rmtree_attack.c,
 * the races at exact moments in test_rmtree_toctou.c). */
#include "tree.h"
#include <tmpf.h>

static void test_dir_create_defaults(void)
{
    tmpf_dir *d = tmpf_temporary_directory(&(tmpf_opts){.dir = scratch});
    CHECK(d != NULL);
    if (!d)
        return;
    const char *p = tmpf_dir_path(d);
    size_t dl = strlen(scratch);
    CHECK(strncmp(p, scratch, dl) == 0 && is_sep(p[dl]));
    CHECK(strncmp(p + dl + 1, "tmp", 3) == 0);
    CHECK_MODE(mode_of(p), 0700);
    char *copy = strdup(p);
    CHECK_EQ_INT(tmpf_dir_cleanup(d), 0);
    CHECK(!path_exists(copy));
    free(copy);
}

static void test_dir_perm_prefix_suffix(void)
{
    mode_t old = umask(022);
    tmpf_dir *d = tmpf_temporary_directory(
        &(tmpf_opts){.dir = scratch, .prefix = "job-", .suffix = ".d", .perm = 0777});
    umask(old);
    CHECK(d != NULL);
    if (!d)
        return;
    const char *name = path_base(tmpf_dir_path(d));
    CHECK(strncmp(name, "job-", 4) == 0);
    CHECK_EQ_STR(name + strlen(name) - 2, ".d");
    CHECK_MODE(mode_of(tmpf_dir_path(d)), 0755);
    CHECK_EQ_INT(tmpf_dir_cleanup(d), 0);
    CHECK_EQ_INT(count_entries(scratch), 0);
}

static void test_dir_bad_options_and_missing_dir(void)
{
    CHECK_NULL_ERRNO(tmpf_temporary_directory(&(tmpf_opts){.dir = scratch, .prefix = "a/b"}),
                     EINVAL);
    CHECK_NULL_ERRNO(tmpf_temporary_directory(&(tmpf_opts){.dir = scratch, .flags = 1u << 30}),
                     EINVAL);
    CHECK_NULL_ERRNO(tmpf_temporary_directory(&(tmpf_opts){.dir = P("%s/nope", scratch)}),
                     ENOENT);
    CHECK_EQ_INT(count_entries(scratch), 0);
}

static void test_dir_null_arguments(void)
{
    CHECK_EQ_INT(tmpf_dir_cleanup(NULL), 0);
    CHECK(tmpf_dir_path(NULL) == NULL);
    CHECK_ERRNO(tmpf_dir_fd(NULL), -1, EINVAL);
    CHECK_ERRNO(tmpf_dir_keep(NULL), -1, EINVAL);
}

static void test_dir_cleanup_removes_nested_tree(void)
{
    tmpf_dir *d = tmpf_temporary_directory(&(tmpf_opts){.dir = scratch});
    CHECK(d != NULL);
    if (!d)
        return;
    CHECK_EQ_INT(build_tree(tmpf_dir_path(d)), 0);
    CHECK_EQ_INT(tmpf_dir_cleanup(d), 0);
    CHECK_EQ_INT(count_entries(scratch), 0);
}

#ifndef _WIN32
static void test_dir_cleanup_with_file_still_open(void)
{
    tmpf_dir *d = tmpf_temporary_directory(&(tmpf_opts){.dir = scratch});
    CHECK(d != NULL);
    if (!d)
        return;
    int fd = open(P("%s/open", tmpf_dir_path(d)), O_RDWR | O_CREAT | O_CLOEXEC, 0600);
    CHECK(fd >= 0);
    CHECK_EQ_INT(write(fd, "abc", 3), 3);
    CHECK_EQ_INT(tmpf_dir_cleanup(d), 0);
    CHECK_EQ_INT(count_entries(scratch), 0);
    char buf[4] = {0};
    CHECK_EQ_INT(pread(fd, buf, 3, 0), 3); /* still usable, just nameless */
    CHECK_EQ_STR(buf, "abc");
    close(fd);
}

#endif
static void test_dir_keep_flag_and_call(void)
{
    tmpf_dir *d = tmpf_temporary_directory(&(tmpf_opts){.dir = scratch, .flags = TMPF_KEEP});
    tmpf_dir *e = tmpf_temporary_directory(&(tmpf_opts){.dir = scratch});
    CHECK(d && e);
    if (!d || !e)
        return;
    CHECK_EQ_INT(write_file(P("%s/f", tmpf_dir_path(d)), "x", 0600), 0);
    CHECK_EQ_INT(write_file(P("%s/f", tmpf_dir_path(e)), "x", 0600), 0);
    CHECK_EQ_INT(tmpf_dir_keep(e), 0);
    CHECK_EQ_INT(tmpf_dir_keep(e), 0); /* twice is fine */
    CHECK_EQ_INT(tmpf_dir_cleanup(d), 0);
    CHECK_EQ_INT(tmpf_dir_cleanup(e), 0);
    CHECK_EQ_INT(count_entries(scratch), 2);
}

#ifndef _WIN32
static void test_dir_fd_survives_rename(void)
{
    tmpf_dir *d = tmpf_temporary_directory(&(tmpf_opts){.dir = scratch});
    CHECK(d != NULL);
    if (!d)
        return;
    int fd = tmpf_dir_fd(d);
    CHECK(fd >= 0);
    CHECK_EQ_INT(tmpf_dir_fd(d), fd); /* the same, owned by d */
    CHECK(fd_cloexec(fd));
    CHECK(fcntl(fd, F_GETFL) & O_DIRECTORY);
    CHECK_EQ_INT(rename(tmpf_dir_path(d), P("%s/moved", scratch)), 0);
    int f = openat(fd, "inside", O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
    CHECK(f >= 0);
    if (f >= 0)
        close(f);
    CHECK(path_exists(P("%s/moved/inside", scratch)));
    /* The name is gone: cleanup finds nothing to do and closes fd. */
    CHECK_EQ_INT(tmpf_dir_cleanup(d), 0);
    CHECK(path_exists(P("%s/moved/inside", scratch)));
}

#endif
static void test_dir_cleanup_of_vanished_dir(void)
{
    tmpf_dir *d = tmpf_temporary_directory(&(tmpf_opts){.dir = scratch});
    CHECK(d != NULL);
    if (!d)
        return;
    CHECK_EQ_INT(rmdir(tmpf_dir_path(d)), 0);
    CHECK_EQ_INT(tmpf_dir_cleanup(d), 0);
}

static void test_auto_dir(void)
{
    char saved[4096] = "";
    {
        TMPF_AUTO_DIR d = tmpf_temporary_directory(&(tmpf_opts){.dir = scratch});
        CHECK(d != NULL);
        if (!d)
            return;
        snprintf(saved, sizeof saved, "%s", tmpf_dir_path(d));
        CHECK_EQ_INT(write_file(P("%s/x", saved), "x", 0600), 0);
        CHECK_EQ_INT(mkdir(P("%s/sub", saved), 0700), 0);
    }
    CHECK(!path_exists(saved));
    {
        TMPF_AUTO_DIR none = NULL; /* a failed creation is fine at scope exit */
        (void)none;
    }
}

/* ---- tmpf_rmtree -------------------------------------------------------- */

static void test_rmtree_argument_errors(void)
{
    CHECK_ERRNO(tmpf_rmtree(NULL, 0), -1, EINVAL);
    CHECK_ERRNO(tmpf_rmtree(scratch, 1u << 9), -1, EINVAL);
    CHECK_ERRNO(tmpf_rmtree("", 0), -1, ENOENT);
    CHECK_ERRNO(tmpf_rmtree("/", 0), -1, EINVAL);
    CHECK_ERRNO(tmpf_rmtree("///", 0), -1, EINVAL);
    CHECK_ERRNO(tmpf_rmtree(".", 0), -1, EINVAL);
    CHECK_ERRNO(tmpf_rmtree(P("%s/..", scratch), 0), -1, EINVAL);
    CHECK_ERRNO(tmpf_rmtree(P("%s/.", scratch), 0), -1, EINVAL);
    CHECK(path_exists(scratch));
}

static void test_rmtree_missing_is_success(void)
{
    CHECK_EQ_INT(tmpf_rmtree(P("%s/nope", scratch), 0), 0);
    CHECK_EQ_INT(tmpf_rmtree(P("%s/nope/deeper", scratch), 0), 0);
    /* A file where a directory is expected is an error, not "missing". */
    CHECK_EQ_INT(write_file(P("%s/file", scratch), "x", 0600), 0);
#ifndef _WIN32
    CHECK_ERRNO(tmpf_rmtree(P("%s/file/x", scratch), 0), -1, ENOTDIR);
#else /* ERROR_PATH_NOT_FOUND: missing, so success (HARNESS_ENOTDIR) */
    CHECK_EQ_INT(tmpf_rmtree(P("%s/file/x", scratch), 0), 0);
#endif
}

static void test_rmtree_nested_tree_trailing_slash(void)
{
    char root[4160];
    snprintf(root, sizeof root, "%s/t", scratch);
    CHECK_EQ_INT(mkdir(root, 0700), 0);
    CHECK_EQ_INT(build_tree(root), 0);
    CHECK_EQ_INT(tmpf_rmtree(P("%s/t//", scratch), 0), 0);
    CHECK_EQ_INT(count_entries(scratch), 0);
}

static void test_rmtree_relative_path(void)
{
    char cwd[4096];
    CHECK(getcwd(cwd, sizeof cwd) != NULL);
    CHECK_EQ_INT(chdir(scratch), 0);
    CHECK_EQ_INT(mkdir("rel", 0700), 0);
    CHECK_EQ_INT(build_tree("rel"), 0);
    CHECK_EQ_INT(tmpf_rmtree("rel", 0), 0);
    CHECK(!path_exists("rel"));
    CHECK_EQ_INT(chdir(cwd), 0);
}

#ifndef _WIN32
static void test_rmtree_of_file_and_symlink(void)
{
    CHECK_EQ_INT(mkdir(P("%s/target", scratch), 0700), 0);
    CHECK_EQ_INT(write_file(P("%s/target/keep", scratch), "x", 0600), 0);
    CHECK_EQ_INT(symlink(P("%s/target", scratch), P("%s/link", scratch)), 0);
    CHECK_EQ_INT(tmpf_rmtree(P("%s/link", scratch), 0), 0);
    CHECK(!path_exists(P("%s/link", scratch)));
    CHECK(path_exists(P("%s/target/keep", scratch)));
    CHECK_EQ_INT(tmpf_rmtree(P("%s/target/keep", scratch), 0), 0);
    CHECK(!path_exists(P("%s/target/keep", scratch)));
    CHECK(path_exists(P("%s/target", scratch)));
}

/* Python's test_modes: files of every mode and read-only nested
 * directories, removed by their unprivileged owner. */
static int modes_as_nobody(void *arg)
{
    const char *root = arg;
    if (mkdir(root, 0700) != 0)
        return 10;
    for (unsigned m = 0; m <= 0777; m++) {
        char name[64];
        snprintf(name, sizeof name, "%s/f%03o", root, m);
        if (write_file(name, "x", 0600) != 0 || chmod(name, m) != 0)
            return 11;
    }
    /* Read-only and unreadable directories, nested. */
    static const mode_t dmodes[] = {0500, 0100, 0000, 0300, 0600, 0400, 0200};
    char dir[4096];
    snprintf(dir, sizeof dir, "%s", root);
    for (size_t i = 0; i < sizeof dmodes / sizeof dmodes[0]; i++) {
        strcat(dir, "/d");
        if (mkdir(dir, 0700) != 0 || write_file(P("%s/file", dir), "x", 0000) != 0 ||
            mkdir(P("%s/empty", dir), 0700) != 0 || chmod(P("%s/empty", dir), 0) != 0)
            return 12;
    }
    /* Apply the modes deepest first, so that every level can be built. */
    for (size_t i = sizeof dmodes / sizeof dmodes[0]; i-- > 0;) {
        if (chmod(dir, dmodes[i]) != 0)
            return 13;
        *strrchr(dir, '/') = '\0';
    }
    if (chmod(root, 0500) != 0)
        return 14;
    if (tmpf_rmtree(root, 0) != 0)
        return 20 + (errno & 0x3f);
    return path_exists(root) ? 15 : 0;
}

static void test_rmtree_modes_as_nobody(void)
{
    char root[4160];
    snprintf(root, sizeof root, "%s/modes", scratch);
    CHECK_EQ_INT(run_as_nobody(modes_as_nobody, root), 0);
    CHECK_EQ_INT(count_entries(scratch), 0);
}

/* Builds a chain depth levels deep with names of name_len characters,
 * relative to descriptors (the path exceeds PATH_MAX), a file per level. */
static int build_deep(const char *root, int depth, size_t name_len)
{
    char name[256];
    memset(name, 'n', name_len);
    name[name_len] = '\0';
    if (mkdir(root, 0700) != 0)
        return -1;
    int fd = open(root, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    for (int i = 0; i < depth && fd >= 0; i++) {
        int f = openat(fd, "file", O_WRONLY | O_CREAT | O_CLOEXEC, 0600);
        if (f < 0 || mkdirat(fd, name, 0700) != 0) {
            if (f >= 0)
                close(f);
            close(fd);
            return -1;
        }
        close(f);
        int next = openat(fd, name, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        close(fd);
        fd = next;
    }
    if (fd < 0)
        return -1;
    close(fd);
    return 0;
}

struct deep_case {
    const char *root;
    rlim_t nofile;
    unsigned flags;
};

static int deep_in_child(void *arg)
{
    const struct deep_case *c = arg;
    if (c->nofile && set_nofile(c->nofile) != 0)
        return 77; /* valgrind refuses RLIMIT_NOFILE */
    int before = count_open_fds();
    int rc = tmpf_rmtree(c->root, c->flags);
    if (count_open_fds() != before)
        return 11;
    if (rc != 0)
        return 20 + (errno & 0x3f);
    return path_exists(c->root) ? 12 : 0;
}

static void test_rmtree_deeper_than_fd_limit_and_path_max(void)
{
    /* 400 levels of 60-character names: ~24 KB of path, 400 directories,
     * removed with 16 descriptors (3 of them stdio). */
    char root[4160];
    snprintf(root, sizeof root, "%s/deep", scratch);
    struct deep_case c = {root, 16, 0};
    CHECK_EQ_INT(build_deep(c.root, 400, 60), 0);
    int rc = run_in_child(deep_in_child, &c);
    if (rc == 77) {
        /* Deeper than PATH_MAX: the harness's nftw cannot remove it. */
        CHECK_EQ_INT(tmpf_rmtree(c.root, 0), 0);
        SKIP("cannot lower RLIMIT_NOFILE here");
    }
    CHECK_EQ_INT(rc, 0);
    /* And beyond the walk's own budget of open streams, unlimited. */
    c.nofile = 0;
    CHECK_EQ_INT(build_deep(c.root, 300, 200), 0);
    CHECK_EQ_INT(run_in_child(deep_in_child, &c), 0);
    CHECK_EQ_INT(count_entries(scratch), 0);
}

/* Two descriptors free: the root's parent and the root open, nothing
 * below: files go, subdirectories are reported (EMFILE), nothing leaks. */
static int emfile_in_child(void *arg)
{
    const char *root = arg;
    int maxfd = 0;
    for (int fd = 0; fd < 1024; fd++)
        if (fcntl(fd, F_GETFD) >= 0)
            maxfd = fd;
    if (set_nofile((rlim_t)maxfd + 3) != 0)
        return 77;
    for (;;) { /* fill the holes below maxfd: exactly 2 free descriptors */
        int fd = open("/dev/null", O_RDONLY | O_CLOEXEC);
        if (fd < 0)
            return 9;
        if (fd > maxfd) {
            close(fd);
            break;
        }
    }
    int before = count_open_fds();
    errno = 0;
    int rc = tmpf_rmtree(root, 0);
    int err = errno;
    if (count_open_fds() != before)
        return 11;
    if (rc != -1 || err != EMFILE) {
        fprintf(stderr, "  rc %d errno %d\n", rc, err);
        return 12;
    }
    if (path_exists(P("%s/f1", root)) || !path_exists(P("%s/sub/f", root)))
        return 13;
    /* With errors ignored: 0, and the same leftovers. */
    if (tmpf_rmtree(root, TMPF_IGNORE_CLEANUP_ERRORS) != 0 || !path_exists(P("%s/sub/f", root)))
        return 14;
    if (set_nofile((rlim_t)maxfd + 2) != 0)
        return 15;
    errno = 0;
    rc = tmpf_rmtree(root, 0); /* cannot even open the root now */
    if (rc != -1 || errno != EMFILE || count_open_fds() != before)
        return 16;
    return 0;
}

static void test_rmtree_emfile_reports_and_leaks_nothing(void)
{
    char root[4160];
    snprintf(root, sizeof root, "%s/em", scratch);
    CHECK_EQ_INT(mkdir(root, 0700), 0);
    CHECK_EQ_INT(write_file(P("%s/f1", root), "x", 0600), 0);
    CHECK_EQ_INT(mkdir(P("%s/sub", root), 0700), 0);
    CHECK_EQ_INT(write_file(P("%s/sub/f", root), "x", 0600), 0);
    int rc = run_in_child(emfile_in_child, root);
    if (rc == 77)
        SKIP("cannot lower RLIMIT_NOFILE here");
    CHECK_EQ_INT(rc, 0);
    CHECK_EQ_INT(tmpf_rmtree(root, 0), 0);
    CHECK(!path_exists(root));
}

/* Something the unprivileged user cannot remove: a root-owned directory
 * with a file, inside a tree the user owns. */
static int build_partly_foreign(const char *root)
{
    int rc = 0;
    rc |= mkdir(root, 0700);
    rc |= mkdir(P("%s/mine", root), 0700);
    rc |= write_file(P("%s/mine/f", root), "x", 0600);
    rc |= write_file(P("%s/mine2", root), "x", 0600);
    rc |= mkdir(P("%s/foreign", root), 0755);
    rc |= write_file(P("%s/foreign/rootfile", root), "x", 0600);
    rc |= lchown(root, 65534, 65534);
    rc |= lchown(P("%s/mine", root), 65534, 65534);
    rc |= lchown(P("%s/mine/f", root), 65534, 65534);
    rc |= lchown(P("%s/mine2", root), 65534, 65534);
    return rc ? -1 : 0;
}

static int rmtree_foreign_as_nobody(void *arg)
{
    const char *root = arg;
    errno = 0;
    if (tmpf_rmtree(root, 0) != -1 || errno != EACCES)
        return 10;
    if (path_exists(P("%s/mine", root)) || path_exists(P("%s/mine2", root)))
        return 11;
    if (!path_exists(P("%s/foreign/rootfile", root)))
        return 12;
    if (tmpf_rmtree(root, TMPF_IGNORE_CLEANUP_ERRORS) != 0)
        return 13;
    return mode_of(P("%s/foreign", root)) == 0755 ? 0 : 14;
}

static void test_rmtree_errors_reported_rest_removed(void)
{
    char root[4160];
    snprintf(root, sizeof root, "%s/part", scratch);
    CHECK_EQ_INT(build_partly_foreign(root), 0);
    CHECK_EQ_INT(run_as_nobody(rmtree_foreign_as_nobody, root), 0);
}

/* The same through tmpf_dir_cleanup, with and without ignore. */
struct dir_case {
    tmpf_dir *d;
    bool ignore;
};

static int dir_cleanup_as_nobody(void *arg)
{
    tmpf_dir *d = ((struct dir_case *)arg)->d;
    bool ignore = ((struct dir_case *)arg)->ignore;
    char path[4096];
    snprintf(path, sizeof path, "%s", tmpf_dir_path(d));
    errno = 0;
    int rc = tmpf_dir_cleanup(d);
    if (ignore ? rc != 0 : (rc != -1 || errno != EACCES))
        return 10;
    if (path_exists(P("%s/mine", path)) || !path_exists(P("%s/foreign/rootfile", path)))
        return 11;
    return 0;
}

static void test_dir_cleanup_errors_and_ignore(void)
{
    for (int ignore = 0; ignore < 2; ignore++) {
        tmpf_dir *d = tmpf_temporary_directory(&(tmpf_opts){
            .dir = sticky_dir(), .flags = ignore ? TMPF_IGNORE_CLEANUP_ERRORS : 0});
        CHECK(d != NULL);
        if (!d)
            return;
        char path[4096];
        snprintf(path, sizeof path, "%s", tmpf_dir_path(d));
        CHECK_EQ_INT(rmdir(path), 0);
        CHECK_EQ_INT(build_partly_foreign(path), 0);
        struct dir_case c = {d, ignore};
        CHECK_EQ_INT(run_as_nobody(dir_cleanup_as_nobody, &c), 0);
        tmpf_dir_keep(d); /* the parent's copy: only free it */
        CHECK_EQ_INT(tmpf_dir_cleanup(d), 0);
        CHECK(path_exists(P("%s/foreign/rootfile", path)));
        CHECK_EQ_INT(tmpf_rmtree(path, 0), 0);
    }
}

/* A deep tree with unremovable entries at many levels, walked with few
 * descriptors: directories closed and reread must not retry what failed
 * forever; everything else goes. */
static int deep_foreign_in_child(void *arg)
{
    const char *root = arg;
    if (set_nofile(12) != 0)
        return 77;
    errno = 0;
    int rc = tmpf_rmtree(root, 0);
    if (rc != -1 || errno != EACCES)
        return 10;
    return 0;
}

static void test_rmtree_reread_after_reopen_skips_failures(void)
{
    if (geteuid() != 0)
        SKIP("needs root (gives directories to another owner)");
    char root[4160];
    snprintf(root, sizeof root, "%s/df", scratch);
    CHECK_EQ_INT(build_deep(root, 40, 10), 0);
    /* In every level: a root-owned directory with a file, many files. */
    char dir[4160];
    snprintf(dir, sizeof dir, "%s", root);
    for (int i = 0; i < 40; i++) {
        CHECK_EQ_INT(mkdir(P("%s/foreign", dir), 0755), 0);
        CHECK_EQ_INT(write_file(P("%s/foreign/x", dir), "x", 0600), 0);
        for (int k = 0; k < 20; k++)
            CHECK_EQ_INT(write_file(P("%s/z%d", dir, k), "x", 0600), 0);
        strcat(dir, "/nnnnnnnnnn");
    }
    /* Everything but the foreign directories belongs to nobody. */
    char cmd[8800];
    snprintf(cmd, sizeof cmd,
             "chown -R 65534:65534 %s && find %s -name foreign -exec chown -R 0:0 {} +",
             root, root);
    CHECK_EQ_INT(system(cmd), 0);
    int rc = run_as_nobody(deep_foreign_in_child, root);
    if (rc == 77)
        SKIP("cannot lower RLIMIT_NOFILE here");
    CHECK_EQ_INT(rc, 0);
    /* Left: exactly the chain down to the last foreign dir, the foreign
     * dirs with their files; no z* file anywhere. */
    snprintf(dir, sizeof dir, "%s", root);
    int left_z = 0, foreign = 0;
    for (int i = 0; i < 40; i++) {
        for (int k = 0; k < 20; k++)
            left_z += path_exists(P("%s/z%d", dir, k));
        foreign += path_exists(P("%s/foreign/x", dir));
        strcat(dir, "/nnnnnnnnnn");
    }
    CHECK_EQ_INT(left_z, 0);
    CHECK_EQ_INT(foreign, 40);
}

#endif
static const struct test tests[] = {
    TEST(test_dir_create_defaults),
    TEST(test_dir_perm_prefix_suffix),
    TEST(test_dir_bad_options_and_missing_dir),
    TEST(test_dir_null_arguments),
    TEST(test_dir_cleanup_removes_nested_tree),
    TEST_POSIX(test_dir_cleanup_with_file_still_open, "a file open in the removed directory stays usable, nameless: POSIX unlink semantics (a plain CRT open does not share deletion)"),
    TEST(test_dir_keep_flag_and_call),
    TEST_POSIX(test_dir_fd_survives_rename, "fcntl and openat on the directory descriptor"),
    TEST(test_dir_cleanup_of_vanished_dir),
    TEST(test_auto_dir),
    TEST(test_rmtree_argument_errors),
    TEST(test_rmtree_missing_is_success),
    TEST(test_rmtree_nested_tree_trailing_slash),
    TEST(test_rmtree_relative_path),
    TEST_POSIX(test_rmtree_of_file_and_symlink, "symlink(2) (Wine makes no links; test_windows covers links)"),
    TEST_POSIX(test_rmtree_modes_as_nobody, "POSIX mode bits and a uid drop"),
    TEST_POSIX(test_rmtree_deeper_than_fd_limit_and_path_max, "RLIMIT_NOFILE in a forked child"),
    TEST_POSIX(test_rmtree_emfile_reports_and_leaks_nothing, "RLIMIT_NOFILE in a forked child"),
    TEST_POSIX(test_rmtree_errors_reported_rest_removed, "a root-owned part removed as uid 65534"),
    TEST_POSIX(test_dir_cleanup_errors_and_ignore, "a root-owned part removed as uid 65534"),
    TEST_POSIX(test_rmtree_reread_after_reopen_skips_failures, "RLIMIT_NOFILE and uid 65534"),
};
TEST_MAIN(tests)
