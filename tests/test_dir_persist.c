/*
 * tmpf_dir_persist: a temporary directory published at target atomically
 * (rename, or RENAME_EXCHANGE with an existing directory whose old tree is
 * then removed), NOCLOBBER, DURABLE, the forced no-exchange path (ENOTSUP,
 * target untouched), a re-pointed name (ESTALE), and readers that list
 * target while it is replaced again and again.
 */
#include "no_o_tmpfile.h"
#include "tree.h"

#include <tmpf.h>
#include "tmpf_features.h"

extern unsigned long tmpf__test_fsync_count(void);

/* A path in scratch that lives as long as the enclosing block (P's
 * buffers rotate). */
#define IN_SCRATCH(var, name)                                                  \
    char var[4400];                                                            \
    snprintf(var, sizeof var, "%s" HARNESS_SEP_STR "%s", scratch, name)

/* A temporary directory in scratch holding files tag0..tag<n-1> ("tag"). */
static tmpf_dir *tree_of(const char *tag, int n)
{
    tmpf_dir *d = tmpf_temporary_directory(&(tmpf_opts){.dir = scratch});
    if (!d)
        return NULL;
    for (int i = 0; i < n; i++)
        if (write_file(P("%s/%s%d", tmpf_dir_path(d), tag, i), tag, 0644) != 0)
            return NULL;
    return d;
}

static void test_absent_target_renamed(void)
{
    tmpf_dir *d = tree_of("new", 3);
    CHECK(d != NULL);
    char *old = strdup(tmpf_dir_path(d));
    IN_SCRATCH(t, "t");
    CHECK_EQ_INT(tmpf_dir_persist(d, t, 0), 0);
    CHECK_EQ_STR(tmpf_dir_path(d), t);
    CHECK(!path_exists(old));
    CHECK(file_holds(P("%s/new2", t), "new"));
    CHECK(tmpf_dir_fd(d) >= 0);
    CHECK_EQ_INT(tmpf_dir_cleanup(d), 0);
    CHECK_EQ_INT(count_entries(t), 3);
    CHECK_EQ_INT(count_entries(scratch), 1);
    free(old);
}

static void test_existing_dir_exchanged(void)
{
    IN_SCRATCH(t, "t");
    CHECK(mkdir(t, 0755) == 0);
    CHECK(build_tree(t) == 0);
    CHECK(write_file(P("%s/old0", t), "old", 0644) == 0);
    tmpf_dir *d = tree_of("new", 5);
    if (!TMPF_CAN_EXCHANGE_DIR) {
        /* No atomic exchange in this build: ENOTSUP, nothing moved. */
        int had = count_entries(t);
        char *path = strdup(tmpf_dir_path(d));
        CHECK_ERRNO(tmpf_dir_persist(d, P("%s/", t), 0), -1, ENOTSUP);
        CHECK_ERRNO(tmpf_dir_persist(d, t, TMPF_DURABLE), -1, ENOTSUP);
        CHECK_EQ_INT(count_entries(t), had);
        CHECK(file_holds(P("%s/old0", t), "old"));
        CHECK_EQ_STR(tmpf_dir_path(d), path);
        CHECK_EQ_INT(count_entries(scratch), 2);
        CHECK_EQ_INT(tmpf_dir_cleanup(d), 0);
        CHECK(!path_exists(path));
        free(path);
        return;
    }
    CHECK_EQ_INT(tmpf_dir_persist(d, P("%s/", t), 0), 0); /* trailing '/' too */
    CHECK_EQ_INT(count_entries(t), 5);
    CHECK(!path_exists(P("%s/old0", t)));
    CHECK(file_holds(P("%s/new4", t), "new"));
    /* The old tree is gone and no side name is left. */
    CHECK_EQ_INT(count_entries(scratch), 1);
    CHECK_EQ_INT(tmpf_dir_cleanup(d), 0);
    CHECK_EQ_INT(count_entries(t), 5);
    /* And again over the one just published, relative to the cwd. */
    char cwd[4096];
    CHECK(getcwd(cwd, sizeof cwd) != NULL);
    CHECK(chdir(scratch) == 0);
    d = tree_of("again", 2);
    CHECK_EQ_INT(tmpf_dir_persist(d, "t", TMPF_DURABLE), 0);
    CHECK_EQ_STR(tmpf_dir_path(d), t);
    CHECK(chdir(cwd) == 0);
    CHECK_EQ_INT(count_entries(t), 2);
    CHECK_EQ_INT(count_entries(scratch), 1);
    CHECK_EQ_INT(tmpf_dir_cleanup(d), 0);
}

static void test_noclobber_and_not_a_dir(void)
{
    IN_SCRATCH(t, "t");
    IN_SCRATCH(f, "f");
    CHECK(mkdir(t, 0755) == 0);
    CHECK(write_file(P("%s/keep", t), "old", 0644) == 0);
    CHECK(write_file(f, "file", 0644) == 0);
    tmpf_dir *d = tree_of("new", 2);
    char *path = strdup(tmpf_dir_path(d));
    CHECK_ERRNO(tmpf_dir_persist(d, t, TMPF_NOCLOBBER), -1, EEXIST);
    CHECK_ERRNO(tmpf_dir_persist(d, f, 0), -1, ENOTDIR);
    CHECK_ERRNO(tmpf_dir_persist(d, f, TMPF_NOCLOBBER), -1, EEXIST);
    CHECK_ERRNO(tmpf_dir_persist(d, "", 0), -1, ENOENT);
    CHECK_ERRNO(tmpf_dir_persist(d, P("%s/..", scratch), 0), -1, EINVAL);
    CHECK_ERRNO(tmpf_dir_persist(d, t, TMPF_KEEP), -1, EINVAL);
    CHECK_ERRNO(tmpf_dir_persist(NULL, t, 0), -1, EINVAL);
    CHECK_ERRNO(tmpf_dir_persist(d, P("%s/no/such", scratch), 0), -1, ENOENT);
    CHECK_EQ_STR(tmpf_dir_path(d), path);
    CHECK(file_holds(P("%s/keep", t), "old") && file_holds(f, "file"));
    CHECK_EQ_INT(count_entries(scratch), 3);
    CHECK_EQ_INT(tmpf_dir_persist(d, P("%s/u", scratch), TMPF_NOCLOBBER), 0);
    CHECK_EQ_INT(tmpf_dir_cleanup(d), 0);
    CHECK(!path_exists(path));
    CHECK_EQ_INT(count_entries(P("%s/u", scratch)), 2);
    free(path);
}

/* Every file and directory of the tree, then target's directory. */
static void test_durable_syncs_everything(void)
{
    tmpf_dir *d = tree_of("f", 4);
    CHECK(mkdir(P("%s/sub", tmpf_dir_path(d)), 0755) == 0);
    CHECK(write_file(P("%s/sub/x", tmpf_dir_path(d)), "x", 0644) == 0);
#ifndef _WIN32
    CHECK(symlink("f0", P("%s/link", tmpf_dir_path(d))) == 0); /* not synced */
#endif
    unsigned long before = tmpf__test_fsync_count();
    CHECK_EQ_INT(tmpf_dir_persist(d, P("%s/t", scratch), TMPF_DURABLE), 0);
    /* 5 files, 2 directories, the parent. */
    CHECK_EQ_INT(tmpf__test_fsync_count() - before, 8);
    before = tmpf__test_fsync_count();
    tmpf_dir *e = tree_of("g", 1);
    if (TMPF_CAN_EXCHANGE_DIR)
        CHECK_EQ_INT(tmpf_dir_persist(e, P("%s/t", scratch), 0), 0);
    else
        CHECK_ERRNO(tmpf_dir_persist(e, P("%s/t", scratch), 0), -1, ENOTSUP);
    CHECK_EQ_INT(tmpf__test_fsync_count() - before, 0);
    CHECK_EQ_INT(tmpf_dir_cleanup(d), 0);
    CHECK_EQ_INT(tmpf_dir_cleanup(e), 0);
}

/* No RENAME_EXCHANGE (renameat2 refused, as by an old kernel): ENOTSUP,
 * target untouched, d where it was; an absent target still works. */
static int child_no_exchange(void *arg)
{
    (void)arg;
    if (!refuse_renameat2())
        return 77;
    IN_SCRATCH(t, "t");
    if (mkdir(t, 0755) != 0 || write_file(P("%s/keep", t), "old", 0644) != 0)
        return 10;
    tmpf_dir *d = tree_of("new", 2);
    if (!d)
        return 11;
    char *path = strdup(tmpf_dir_path(d));
    errno = 0;
    int rc = 0;
    if (tmpf_dir_persist(d, t, 0) != -1 || errno != ENOTSUP)
        rc = 12;
    else if (!file_holds(P("%s/keep", t), "old") || count_entries(t) != 1)
        rc = 13;
    else if (strcmp(tmpf_dir_path(d), path) != 0 || count_entries(path) != 2)
        rc = 14;
    else if (count_entries(scratch) != 2)
        rc = 15;
    else if (tmpf_dir_persist(d, P("%s/u", scratch), TMPF_DURABLE) != 0)
        rc = 16;
    else if (path_exists(path) || count_entries(P("%s/u", scratch)) != 2)
        rc = 17;
    free(path);
    if (tmpf_dir_cleanup(d) != 0)
        rc = rc ? rc : 18;
    return rc;
}

static void test_no_exchange_is_enotsup(void)
{
    int rc = run_in_child(child_no_exchange, NULL);
    if (rc == 77)
        SKIP("cannot install a seccomp filter");
    CHECK_EQ_INT(rc, 0);
}

/* The attacker (uid 65534, scratch is 0777 without the sticky bit) moves
 * root's temporary directory away and puts its own at the name. */
static int nobody_swap_dir(void *arg)
{
    const char *name = arg;
    if (rename(name, P("%s/moved", scratch)) != 0)
        return 10;
    if (mkdir(name, 0777) != 0 || write_file(P("%s/evil", name), "evil", 0666) != 0)
        return 11;
    return 0;
}

/* Reachable from a global: valgrind checks the forked child for leaks,
 * and a pointer only in a register it has reused would count as lost. */
static tmpf_dir *volatile repointed_d;

static void test_repointed_name_is_estale(void)
{
    IN_SCRATCH(prot, "prot");
    CHECK(mkdir(prot, 0700) == 0);
    IN_SCRATCH(t, "prot/t");
    tmpf_dir *d = repointed_d = tree_of("root", 1);
    char *name = strdup(tmpf_dir_path(d));
    CHECK(tmpf_dir_fd(d) >= 0);
    CHECK_EQ_INT(run_as_nobody(nobody_swap_dir, name), 0);
    CHECK_ERRNO(tmpf_dir_persist(d, t, 0), -1, ESTALE);
    CHECK(!path_exists(t));
    CHECK_EQ_INT(count_entries(prot), 0);
    CHECK(file_holds(P("%s/evil", name), "evil")); /* put back, untouched */
    CHECK(mkdir(t, 0700) == 0);
    CHECK_ERRNO(tmpf_dir_persist(d, t, 0), -1, ESTALE);
    CHECK_EQ_INT(count_entries(t), 0);
    CHECK_EQ_INT(count_entries(prot), 1);
    tmpf_dir_keep(d); /* its name is the attacker's now */
    CHECK_EQ_INT(tmpf_dir_cleanup(d), 0);
    free(name);
}

/* Readers list target while it is replaced: it is never missing, and one
 * listing never holds entries of two versions. */
#ifndef _WIN32
static int reader(void *arg)
{
    const char *t = arg;
    int bad = 0;
    for (long i = 0; i < 200000 && !bad; i++) {
        DIR *dir = opendir(t);
        if (!dir) {
            bad = 10;
            break;
        }
        char version = 0;
        struct dirent *e;
        while ((e = readdir(dir))) {
            if (e->d_name[0] == '.')
                continue;
            if (version && e->d_name[0] != version)
                bad = 11;
            version = e->d_name[0];
        }
        closedir(dir);
        if (path_exists(P("%s/stop", scratch)))
            break;
    }
    return bad;
}
#endif

static void test_concurrent_readers(void)
{
    if (!TMPF_CAN_EXCHANGE_DIR)
        SKIP("no atomic exchange in this build (test_existing_dir_exchanged: ENOTSUP)");
#ifdef _WIN32
    SKIP_WINDOWS("the readers run in a forked child");
#else
    IN_SCRATCH(t, "t");
    tmpf_dir *d = tree_of("a", 50);
    CHECK_EQ_INT(tmpf_dir_persist(d, t, 0), 0);
    CHECK_EQ_INT(tmpf_dir_cleanup(d), 0);
    fflush(NULL);
    pid_t pid = fork();
    if (pid == 0)
        _exit(reader((void *)t));
    for (int round = 0; round < 60; round++) {
        d = tree_of(round % 2 ? "a" : "b", 50);
        CHECK(d != NULL);
        CHECK_EQ_INT(tmpf_dir_persist(d, t, 0), 0);
        CHECK_EQ_INT(tmpf_dir_cleanup(d), 0);
    }
    CHECK(write_file(P("%s/stop", scratch), "", 0644) == 0);
    int status;
    CHECK(waitpid(pid, &status, 0) == pid);
    CHECK(WIFEXITED(status) && WEXITSTATUS(status) == 0);
    CHECK_EQ_INT(count_entries(t), 50);
    CHECK_EQ_INT(count_entries(scratch), 2);
#endif
}

static const struct test tests[] = {
    TEST(test_absent_target_renamed),
    TEST(test_existing_dir_exchanged),
    TEST(test_noclobber_and_not_a_dir),
    TEST(test_durable_syncs_everything),
    TEST(test_no_exchange_is_enotsup),
    TEST(test_repointed_name_is_estale),
    TEST(test_concurrent_readers),
};
TEST_MAIN(tests)
