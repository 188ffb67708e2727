/*
 * tmpf_rmtree and tmpf_dir_cleanup against an attacker (issue 5). Every
 * test plants a directory outside the tree (tree.h's make_outside: files
 * of modes 0000 .. 0640, a read-only subdirectory with a file) and checks
 * afterwards that all of it is still there, with the same modes:
 *
 *  - symlinks inside to the outside directory, its subdirectory and a file,
 *    absolute and relative, at several depths (Python issue 12464);
 *  - a symlink to the user's own 0400 file in directories that need
 *    permission repair, removed as that unprivileged user (CPython
 *    CVE-2023-6597: the repair must not chmod the target);
 *  - the swap race (Rust CVE-2022-21658): a thread swaps a subdirectory for
 *    a symlink to the outside directory while the walk runs, thousands of
 *    times, by atomic exchange and by rename + symlink; the same while the
 *    swapped directories need permission repair (as an unprivileged user);
 *    and in a chain deeper than the walk's budget of open directories, so
 *    that ancestors are reopened while the attacker moves them into the
 *    outside directory;
 *  - a tmpfs and a bind mount inside the tree (root, in a private mount
 *    namespace; skipped where mounting is not allowed): not entered, EBUSY,
 *    the rest removed;
 *  - hard links to outside files: only the link goes.
 *
 * Under valgrind (or with TMPF_TEST_SCALE=n) the race counts are divided.
 */
#include "race.h"

#include <sys/mount.h>

/* ---- symlinks out of the tree (Python issue 12464) ---------------------- */

/* root (made here) with symlinks to out, out/sub and out/f0 at several
 * depths, absolute and relative (out and root are siblings). */
static int plant_links(const char *root, const char *out)
{
    const char *oname = strrchr(out, '/') + 1;
    int rc = 0;
    rc |= mkdir(root, 0700);
    rc |= mkdir(P("%s/a", root), 0700);
    rc |= mkdir(P("%s/a/b", root), 0700);
    rc |= write_file(P("%s/a/b/own", root), "x", 0600);
    rc |= symlink(out, P("%s/to-out", root));
    rc |= symlink(out, P("%s/a/b/to-out", root));
    rc |= symlink(P("%s/sub", out), P("%s/a/to-sub", root));
    rc |= symlink(P("%s/f0", out), P("%s/a/to-file", root));
    rc |= symlink(P("../../../%s", oname), P("%s/a/b/relative", root));
    rc |= symlink(P("../%s/sub/g", oname), P("%s/rel-file", root));
    return rc ? -1 : 0;
}

struct links_case {
    const char *out, *root;
    mode_t out_mode;
};

static int links_run(void *arg)
{
    const struct links_case *c = arg;
    if (make_outside(c->out, c->out_mode) != 0 || plant_links(c->root, c->out) != 0)
        return FAILED(E_SETUP);
    if (tmpf_rmtree(c->root, 0) != 0)
        return FAILED(E_RESULT);
    if (!outside_intact(c->out, c->out_mode))
        return FAILED(E_OUTSIDE);
    if (path_exists(c->root))
        return FAILED(E_LEFT);
    /* The same through TemporaryDirectory, the object Python's 12464 is
     * about; and tmpf_rmtree given a symlink as the root. */
    tmpf_dir *d = tmpf_temporary_directory(&(tmpf_opts){.dir = sticky_dir()});
    if (!d || rmdir(tmpf_dir_path(d)) != 0 || plant_links(tmpf_dir_path(d), c->out) != 0)
        return FAILED(E_SETUP);
    if (tmpf_dir_cleanup(d) != 0 || rmdir(sticky_dir()) != 0)
        return FAILED(E_RESULT);
    /* A symlink as the root, also spelt with a trailing slash (which
     * rm -r follows): the link goes, never the target's contents. */
    for (int slash = 0; slash < 2; slash++) {
        if (symlink(c->out, c->root) != 0)
            return FAILED(E_SETUP);
        if (tmpf_rmtree(slash ? P("%s/", c->root) : c->root, 0) != 0)
            return FAILED(E_RESULT);
        if (path_exists(c->root))
            return FAILED(E_LEFT);
    }
    if (!outside_intact(c->out, c->out_mode))
        return FAILED(E_OUTSIDE);
    return count_entries(scratch) == 1 ? OK : FAILED(E_LEFT);
}

static void test_symlinks_out_of_the_tree(void)
{
    char out[4160], root[4160];
    snprintf(out, sizeof out, "%s/out", scratch);
    snprintf(root, sizeof root, "%s/tree", scratch);
    struct links_case c = {out, root, 0755};
    check_child(run_in_child(links_run, &c), "as root");
    harness_rmrf(out);
    c.out_mode = 0500; /* the unprivileged user could delete with a chmod */
    check_child(run_as_nobody(links_run, &c), "as nobody");
}

/* ---- CVE-2023-6597: permission repair never chmods a link's target ------ */

/* Directories that need repair before their entries can go, each holding
 * symlinks to out, out/sub and out/f0 (0400, the user's own). */
static int plant_repair_links(const char *root, const char *out)
{
    static const struct {
        const char *name;
        mode_t mode;
    } dirs[] = {
        {"ro", 0500},     /* unlink inside: EACCES, fchmod the directory */
        {"noexec", 0600}, /* no search permission */
        {"none", 0000},   /* cannot even be opened */
        {"wonly", 0300},  /* cannot be read */
        {"xonly", 0100},
    };
    int rc = mkdir(root, 0700);
    for (size_t i = 0; i < sizeof dirs / sizeof dirs[0]; i++) {
        char dir[4160];
        snprintf(dir, sizeof dir, "%s/%s", root, dirs[i].name);
        rc |= mkdir(dir, 0700);
        rc |= symlink(P("%s/f0", out), P("%s/to-file", dir));
        rc |= symlink(out, P("%s/to-out", dir));
        rc |= symlink(P("%s/sub", out), P("%s/to-sub", dir));
        rc |= mkdir(P("%s/nested", dir), 0700);
        rc |= symlink(P("%s/f1", out), P("%s/nested/to-file", dir));
        rc |= chmod(P("%s/nested", dir), 0500);
        rc |= chmod(dir, dirs[i].mode);
    }
    rc |= symlink(P("%s/f0", out), P("%s/to-file", root));
    rc |= chmod(root, 0500);
    return rc ? -1 : 0;
}

static int cve_2023_6597_as_nobody(void *arg)
{
    const char *out = arg;
    if (make_outside(out, 0500) != 0)
        return FAILED(E_SETUP);
    /* tmpf_rmtree, then tmpf_dir_cleanup, of such a tree. */
    char root[4160];
    snprintf(root, sizeof root, "%s/tree", scratch);
    if (plant_repair_links(root, out) != 0)
        return FAILED(E_SETUP);
    if (tmpf_rmtree(root, 0) != 0)
        return FAILED(E_RESULT);
    if (!outside_intact(out, 0500))
        return FAILED(E_OUTSIDE);
    tmpf_dir *d = tmpf_temporary_directory(&(tmpf_opts){.dir = sticky_dir()});
    if (!d || rmdir(tmpf_dir_path(d)) != 0 || plant_repair_links(tmpf_dir_path(d), out) != 0)
        return FAILED(E_SETUP);
    if (tmpf_dir_cleanup(d) != 0 || rmdir(sticky_dir()) != 0)
        return FAILED(E_RESULT);
    if (!outside_intact(out, 0500))
        return FAILED(E_OUTSIDE);
    return count_entries(scratch) == 1 ? OK : FAILED(E_LEFT);
}

static void test_cve_2023_6597_repair_never_chmods_link_target(void)
{
    char out[4160];
    snprintf(out, sizeof out, "%s/out", scratch);
    check_child(run_as_nobody(cve_2023_6597_as_nobody, out), "as nobody");
    CHECK(outside_intact(out, 0500));
}

/* ---- the swap race (Rust CVE-2022-21658; race.h) ----------------------- */

static void test_swap_race(void)
{
    static const struct race_case cases[] = {
        {"exchange dir/symlink", EXCHANGE, build_swap, false, 500, 400000, NULL, NULL, 0755},
        {"rename away + symlink", RENAME, build_swap, false, 500, 400000, NULL, NULL, 0755},
        {"chain: exchange", EXCHANGE, build_chain, false, 100, 2000000, NULL, NULL, 0755},
        {"chain: move into out", INTO_OUT, build_chain, false, 100, 2000000, NULL, NULL, 0755},
    };
    run_races(cases, sizeof cases / sizeof cases[0], false);
}

/* The unprivileged user: the swapped directory is 0000 (opening it needs
 * the O_PATH repair), its subdirectory 0500 (unlinking inside needs the
 * fchmod repair), the outside directory 0500 and files 0400 of the same
 * user, so any chmod or unlink that reached them would succeed. */
static void test_swap_race_during_permission_repair(void)
{
    static const struct race_case cases[] = {
        {"repair: exchange", EXCHANGE, build_swap, true, 400, 400000, NULL, NULL, 0500},
        {"repair: rename away + symlink", RENAME, build_swap, true, 400, 400000, NULL, NULL, 0500},
    };
    run_races(cases, sizeof cases / sizeof cases[0], true);
}

/* ---- mount points inside the tree --------------------------------------- */

static int mounts_in_child(void *arg)
{
    const char *out = arg;
    if (unshare(CLONE_NEWNS) != 0 || mount("none", "/", "none", MS_REC | MS_PRIVATE, NULL) != 0)
        return E_SKIP;
    char root[4160], mnt[4160], bind[4160], mroot[4160];
    snprintf(root, sizeof root, "%s/m", scratch);
    snprintf(mnt, sizeof mnt, "%s/m/sub/mnt", scratch);
    snprintf(bind, sizeof bind, "%s/m/bind", scratch);
    snprintf(mroot, sizeof mroot, "%s/mroot", scratch);
    if (mkdir(root, 0700) != 0 || mkdir(P("%s/sub", root), 0700) != 0 ||
        mkdir(mnt, 0700) != 0 || write_file(P("%s/sub/f", root), "x", 0600) != 0 ||
        write_file(P("%s/top", root), "x", 0600) != 0)
        return FAILED(E_SETUP);
    if (mount("tmpfs", mnt, "tmpfs", 0, "size=1m,mode=0700") != 0)
        return E_SKIP;
    if (write_file(P("%s/precious", mnt), "x", 0600) != 0 || mkdir(P("%s/d", mnt), 0700) != 0 ||
        write_file(P("%s/d/g", mnt), "x", 0600) != 0)
        return FAILED(E_SETUP);
    /* Not entered, EBUSY, everything else gone. */
    errno = 0;
    if (tmpf_rmtree(root, 0) != -1 || errno != EBUSY)
        return FAILED(E_RESULT);
    if (!path_exists(P("%s/precious", mnt)) || !path_exists(P("%s/d/g", mnt)))
        return FAILED(E_GONE);
    if (path_exists(P("%s/top", root)) || path_exists(P("%s/sub/f", root)) ||
        count_entries(root) != 1 || count_entries(P("%s/sub", root)) != 1)
        return FAILED(E_LEFT);
    if (tmpf_rmtree(root, TMPF_IGNORE_CLEANUP_ERRORS) != 0 || !path_exists(P("%s/precious", mnt)))
        return FAILED(E_RESULT);

    /* A bind mount of the outside directory: same file system, same st_dev;
     * only the mount id tells. */
    if (make_outside(out, 0755) != 0 || mkdir(bind, 0700) != 0 ||
        mount(out, bind, "none", MS_BIND, NULL) != 0)
        return FAILED(E_SETUP);
    /* Told by the mount id where statx has one, else by readdir's d_ino
     * (the covered directory) differing from the mounted root's inode:
     * every build and kernel must refuse to enter. */
    errno = 0;
    if (tmpf_rmtree(root, 0) != -1 || errno != EBUSY)
        return FAILED(E_RESULT);
    if (!outside_intact(out, 0755))
        return FAILED(E_OUTSIDE);

    /* The root itself a mount point: not entered either. */
    if (mkdir(mroot, 0700) != 0 || mount("tmpfs", mroot, "tmpfs", 0, "size=1m") != 0 ||
        write_file(P("%s/precious", mroot), "x", 0600) != 0)
        return FAILED(E_SETUP);
    errno = 0;
    if (tmpf_rmtree(mroot, 0) != -1 || errno != EBUSY)
        return FAILED(E_RESULT);
    if (!path_exists(P("%s/precious", mroot)))
        return FAILED(E_GONE);

    /* A TemporaryDirectory that something was mounted on: cleanup reports
     * EBUSY (ignored with the flag), touches nothing, and frees. */
    for (int ignore = 0; ignore < 2; ignore++) {
        /* In a sticky directory: in scratch, the name covered
         * by a mount no longer designates the directory made (ESTALE). */
        tmpf_dir *d = tmpf_temporary_directory(&(tmpf_opts){
            .dir = sticky_dir(), .flags = ignore ? TMPF_IGNORE_CLEANUP_ERRORS : 0u});
        if (!d)
            return FAILED(E_SETUP);
        char path[4096];
        snprintf(path, sizeof path, "%s", tmpf_dir_path(d));
        if (mount("tmpfs", path, "tmpfs", 0, "size=1m") != 0 ||
            write_file(P("%s/precious", path), "x", 0600) != 0)
            return FAILED(E_SETUP);
        errno = 0;
        int rc = tmpf_dir_cleanup(d);
        if (ignore ? rc != 0 : (rc != -1 || errno != EBUSY))
            return FAILED(E_RESULT);
        if (!path_exists(P("%s/precious", path)))
            return FAILED(E_GONE);
        if (umount2(path, 0) != 0 || tmpf_rmtree(path, 0) != 0)
            return FAILED(E_LEFT);
    }

    /* Unmounted, everything goes. */
    if (umount2(bind, 0) != 0 || umount2(mnt, 0) != 0 || umount2(mroot, 0) != 0)
        return FAILED(E_SETUP);
    if (tmpf_rmtree(root, 0) != 0 || tmpf_rmtree(mroot, 0) != 0 || path_exists(root))
        return FAILED(E_LEFT);
    return outside_intact(out, 0755) ? OK : FAILED(E_OUTSIDE);
}

static void test_mount_points_not_entered(void)
{
    if (geteuid() != 0)
        SKIP("mounting needs root");
    char out[4160];
    snprintf(out, sizeof out, "%s/out", scratch);
    int rc = run_in_child(mounts_in_child, out);
    if (rc == E_SKIP)
        SKIP("cannot mount a tmpfs here (no CAP_SYS_ADMIN, e.g. a container)");
    check_child(rc, "mounts");
}

/* Issue 21 (3): the tree's owner (uid 65534) removes a tree holding a bind
 * mount of a directory of theirs and a tmpfs mounted for them, both mode
 * 000. The walk cannot open them (EACCES) and must not repair their
 * permissions: what is mounted there is not part of the tree. Both stay
 * 000 with their contents; the rest of the tree goes; EBUSY. */
struct mode000 {
    char tree[4160], src[4160], bindm[4160], tmpm[4160];
};

static int mode000_as_owner(void *arg)
{
    const struct mode000 *m = arg;
    errno = 0;
    if (tmpf_rmtree(m->tree, 0) != -1 || errno != EBUSY)
        return FAILED(E_RESULT);
    return OK;
}

static bool mode_is(const char *path, unsigned mode)
{
    struct stat st;
    return stat(path, &st) == 0 && (st.st_mode & 07777) == mode;
}

static int mounts_mode000_in_child(void *arg)
{
    struct mode000 *m = arg;
    if (unshare(CLONE_NEWNS) != 0 || mount("none", "/", "none", MS_REC | MS_PRIVATE, NULL) != 0)
        return E_SKIP;
    snprintf(m->tree, sizeof m->tree, "%s/tree", scratch);
    snprintf(m->src, sizeof m->src, "%s/src", scratch);
    snprintf(m->bindm, sizeof m->bindm, "%s/tree/bindm", scratch);
    snprintf(m->tmpm, sizeof m->tmpm, "%s/tree/tmpm", scratch);
    if (chmod(scratch, 0755) != 0 || mkdir(m->tree, 0700) != 0 ||
        mkdir(m->src, 0700) != 0 || mkdir(m->bindm, 0700) != 0 ||
        mkdir(m->tmpm, 0700) != 0 || write_file(P("%s/tree/f", scratch), "x", 0600) != 0 ||
        write_file(P("%s/precious", m->src), "x", 0600) != 0)
        return FAILED(E_SETUP);
    if (mount("tmpfs", m->tmpm, "tmpfs", 0, "size=1m,mode=0700,uid=65534,gid=65534") != 0)
        return E_SKIP;
    if (write_file(P("%s/precious", m->tmpm), "x", 0600) != 0 ||
        mount(m->src, m->bindm, "none", MS_BIND, NULL) != 0)
        return FAILED(E_SETUP);
    const char *own[] = {m->tree, m->src, P("%s/tree/f", scratch),
                         P("%s/precious", m->src), m->tmpm, P("%s/precious", m->tmpm)};
    for (size_t i = 0; i < sizeof own / sizeof own[0]; i++)
        if (lchown(own[i], 65534, 65534) != 0)
            return FAILED(E_SETUP);
    if (chmod(m->src, 0) != 0 || chmod(m->tmpm, 0) != 0)
        return FAILED(E_SETUP);
    int rc = run_as_nobody(mode000_as_owner, m);
    if (rc != OK)
        return rc == 126 ? FAILED(E_SETUP) : rc;
    if (!mode_is(m->bindm, 0) || !mode_is(m->src, 0) || !mode_is(m->tmpm, 0))
        return FAILED(E_OUTSIDE);
    if (!path_exists(P("%s/precious", m->src)) || !path_exists(P("%s/precious", m->tmpm)))
        return FAILED(E_GONE);
    if (path_exists(P("%s/tree/f", scratch)) || count_entries(m->tree) != 2)
        return FAILED(E_LEFT);
    if (umount2(m->bindm, 0) != 0 || umount2(m->tmpm, 0) != 0 || chmod(m->src, 0700) != 0)
        return FAILED(E_SETUP);
    return tmpf_rmtree(m->tree, 0) == 0 ? OK : FAILED(E_LEFT);
}

static void test_mount_roots_mode_000_untouched(void)
{
    if (geteuid() != 0)
        SKIP("mounting needs root");
    static struct mode000 m;
    int rc = run_in_child(mounts_mode000_in_child, &m);
    if (rc == E_SKIP)
        SKIP("cannot mount here (no CAP_SYS_ADMIN, e.g. a container)");
    check_child(rc, "mode 000 mounts");
}

/* ---- hard links --------------------------------------------------------- */

static int hard_links_run(void *arg)
{
    const char *out = arg;
    if (make_outside(out, 0755) != 0)
        return FAILED(E_SETUP);
    /* The link sits in a read-only directory: the repair fchmods that
     * directory and never the file (a chmod of the link would be a chmod
     * of the outside file: same inode). */
    char root[4160];
    snprintf(root, sizeof root, "%s/tree", scratch);
    if (mkdir(root, 0700) != 0 || mkdir(P("%s/ro", root), 0700) != 0 ||
        link(P("%s/f0", out), P("%s/hl", root)) != 0 ||
        link(P("%s/f2", out), P("%s/ro/hl", root)) != 0 ||
        link(P("%s/sub/g", out), P("%s/ro/hl2", root)) != 0 ||
        chmod(P("%s/ro", root), 0500) != 0)
        return FAILED(E_SETUP);
    struct stat st;
    if (lstat(P("%s/f2", out), &st) != 0 || st.st_nlink != 2)
        return FAILED(E_SETUP);
    if (tmpf_rmtree(root, 0) != 0)
        return FAILED(E_RESULT);
    if (path_exists(root))
        return FAILED(E_LEFT);
    const char *files[] = {"f0", "f2", "sub/g"};
    for (size_t i = 0; i < 3; i++) {
        char buf[16] = {0};
        int fd = open(P("%s/%s", out, files[i]), O_RDONLY | O_CLOEXEC);
        if (fd < 0)
            return FAILED(E_GONE);
        ssize_t n = read(fd, buf, sizeof buf - 1);
        close(fd);
        if (n != 8 || strcmp(buf, "precious") != 0)
            return FAILED(E_GONE);
        if (lstat(P("%s/%s", out, files[i]), &st) != 0 || st.st_nlink != 1)
            return FAILED(E_GONE);
    }
    return outside_intact(out, 0755) ? OK : FAILED(E_OUTSIDE);
}

static void test_hard_links_only_link_removed(void)
{
    char out[4160];
    snprintf(out, sizeof out, "%s/out", scratch);
    check_child(run_in_child(hard_links_run, out), "as root");
    harness_rmrf(out);
    check_child(run_as_nobody(hard_links_run, out), "as nobody");
}

static const struct test tests[] = {
    TEST(test_symlinks_out_of_the_tree),
    TEST(test_cve_2023_6597_repair_never_chmods_link_target),
    TEST(test_swap_race),
    TEST(test_swap_race_during_permission_repair),
    TEST(test_mount_points_not_entered),
    TEST(test_mount_roots_mode_000_untouched),
    TEST(test_hard_links_only_link_removed),
};
TEST_MAIN(tests)
