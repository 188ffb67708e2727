/*
 * Cleanup by name against an attacker (issue 21, item 2). The setting:
 * root's temporaries in a directory everyone can write and that has no
 * sticky bit (the harness's scratch, 0777). An unprivileged attacker
 * (uid 65534, in a child process) renames root's temporary away and
 * renames another of root's trees (or files, or a symlink) into its
 * place. Cleanup must leave root's other tree alone and say that it could
 * not remove the temporary (ESTALE), for every way a temporary is
 * cleaned: tmpf_dir_cleanup, a scope's tmpf_mkdtemp and tmpf_mkstemp
 * paths, a named file, and TMPF_IGNORE_CLEANUP_ERRORS (which makes it
 * return 0 but changes nothing else).
 */
#include "harness.h"

#include <dlfcn.h>
#include <stdarg.h>
#include <tmpf.h>

void tmpf__test_force_no_tmpfile(bool on);

/* The creation window: this executable defines mkdir (the library is
 * linked statically, so its calls bind here). Armed, it swaps right after
 * the real mkdir: the new directory is renamed to swap_moved and
 * swap_other renamed into its place, as an attacker watching the
 * directory would, before tmpf records what it made. */
static const char *swap_other, *swap_moved;

int mkdir(const char *path, mode_t mode)
{
    static int (*real_mkdir)(const char *, mode_t);
    if (!real_mkdir)
        real_mkdir = (int (*)(const char *, mode_t))dlsym(RTLD_NEXT, "mkdir");
    int rc = real_mkdir(path, mode);
    if (rc == 0 && swap_other) {
        const char *other = swap_other;
        swap_other = NULL;
        if (rename(path, swap_moved) != 0 || rename(other, path) != 0)
            abort();
    }
    return rc;
}

struct swap {
    const char *victim; /* root's temporary */
    const char *moved;  /* where the attacker puts it */
    const char *other;  /* root's other tree, renamed into the victim's place */
    bool link;          /* a symlink to other instead of other itself */
};

static int attack(void *arg)
{
    const struct swap *s = arg;
    if (rename(s->victim, s->moved) != 0)
        return 10;
    if (s->link ? symlink(s->other, s->victim) != 0 : rename(s->other, s->victim) != 0)
        return 11;
    return 0;
}

/* Root's other tree: other/precious/file and other/top. */
static int make_other_tree(const char *other)
{
    int rc = mkdir(other, 0700);
    rc |= mkdir(path_join(other, "precious"), 0700);
    rc |= write_file(path_join(path_join(other, "precious"), "file"), "keep", 0600);
    rc |= write_file(path_join(other, "top"), "keep", 0600);
    return rc ? -1 : 0;
}

static bool other_tree_intact(const char *at)
{
    return path_exists(path_join(path_join(at, "precious"), "file")) &&
           path_exists(path_join(at, "top"));
}

static int failures_seen(void)
{
    tmpf_stats st;
    tmpf_get_stats(&st);
    return (int)st.cleanup_failures;
}

/* tmpf_dir_cleanup, with and without TMPF_IGNORE_CLEANUP_ERRORS, and with
 * the other tree or a symlink to it put in place. */
static void test_dir_cleanup_leaves_swapped_in_tree(void)
{
    for (int variant = 0; variant < 3; variant++) {
        bool ignore = variant == 1, link = variant == 2;
        char other[4200], moved[4200], victim[4200];
        snprintf(other, sizeof other, "%s/other", scratch);
        snprintf(moved, sizeof moved, "%s/moved", scratch);
        CHECK_EQ_INT(make_other_tree(other), 0);
        tmpf_dir *d = tmpf_temporary_directory(&(tmpf_opts){
            .dir = scratch, .flags = ignore ? TMPF_IGNORE_CLEANUP_ERRORS : 0});
        CHECK(d != NULL);
        if (!d)
            return;
        snprintf(victim, sizeof victim, "%s", tmpf_dir_path(d));
        CHECK_EQ_INT(write_file(path_join(victim, "secret"), "x", 0600), 0);
        CHECK_EQ_INT(mkdir(path_join(victim, "sub"), 0700), 0);
        struct swap s = {victim, moved, other, link};
        CHECK_EQ_INT(run_as_nobody(attack, &s), 0);
        int before = failures_seen();
        if (ignore)
            CHECK_EQ_INT(tmpf_dir_cleanup(d), 0);
        else
            CHECK_ERRNO(tmpf_dir_cleanup(d), -1, ESTALE);
        CHECK_EQ_INT(failures_seen(), before + 1);
        CHECK(other_tree_intact(link ? other : victim));
        /* root's temporary, moved away, is not touched either */
        CHECK(path_exists(path_join(moved, "secret")));
        harness_rmrf(victim);
        harness_rmrf(moved);
        harness_rmrf(other);
        CHECK_EQ_INT(count_entries(scratch), 0);
    }
}

/* The attacker swaps while the tree is being removed is not needed: the
 * name is checked again before the final rmdir. Here the swap comes first
 * and a scope removes a tmpf_mkdtemp path, which has no descriptor: its
 * identity was recorded at creation. */
static void test_scope_mkdtemp_leaves_swapped_in_tree(void)
{
    char other[4200], moved[4200], victim[4200];
    snprintf(other, sizeof other, "%s/other", scratch);
    snprintf(moved, sizeof moved, "%s/moved", scratch);
    CHECK_EQ_INT(make_other_tree(other), 0);
    tmpf_scope *s = tmpf_scope_new(0);
    char *p = tmpf_mkdtemp(&(tmpf_opts){.dir = scratch, .scope = s});
    CHECK(p != NULL);
    if (!p) {
        tmpf_scope_cleanup(s);
        return;
    }
    snprintf(victim, sizeof victim, "%s", p);
    free(p);
    CHECK_EQ_INT(write_file(path_join(victim, "secret"), "x", 0600), 0);
    /* a second one, left alone by the attacker, still goes */
    char *q = tmpf_mkdtemp(&(tmpf_opts){.dir = scratch, .scope = s});
    CHECK(q != NULL);
    CHECK_EQ_INT(write_file(path_join(q, "f"), "x", 0600), 0);
    struct swap sw = {victim, moved, other, false};
    CHECK_EQ_INT(run_as_nobody(attack, &sw), 0);
    CHECK_ERRNO(tmpf_scope_cleanup(s), -1, ESTALE);
    CHECK(other_tree_intact(victim));
    CHECK(path_exists(path_join(moved, "secret")));
    CHECK(!path_exists(q));
    free(q);
    harness_rmrf(victim);
    harness_rmrf(moved);
    CHECK_EQ_INT(count_entries(scratch), 0);
}

struct file_swap {
    const char *victim, *moved, *other;
};

static int attack_file(void *arg)
{
    const struct file_swap *s = arg;
    if (rename(s->victim, s->moved) != 0)
        return 10;
    return rename(s->other, s->victim) == 0 ? 0 : 11;
}

/* A scope's tmpf_mkstemp path and a named file: root's other file renamed
 * into place is not unlinked. */
static void test_file_cleanup_leaves_swapped_in_file(void)
{
    for (int named = 0; named < 2; named++) {
        char other[4200], moved[4200], victim[4200];
        snprintf(other, sizeof other, "%s/otherfile", scratch);
        snprintf(moved, sizeof moved, "%s/moved", scratch);
        CHECK_EQ_INT(write_file(other, "precious", 0600), 0);
        tmpf_scope *s = NULL;
        tmpf_file *f = NULL;
        if (named) {
            f = tmpf_named_temporary_file(&(tmpf_opts){.dir = scratch});
            CHECK(f != NULL);
            if (!f)
                return;
            snprintf(victim, sizeof victim, "%s", tmpf_file_path(f));
        } else {
            s = tmpf_scope_new(0);
            char *p = NULL;
            int fd = tmpf_mkstemp(&(tmpf_opts){.dir = scratch, .scope = s}, &p);
            CHECK(fd >= 0);
            if (fd < 0)
                return;
            close(fd);
            snprintf(victim, sizeof victim, "%s", p);
            free(p);
        }
        struct file_swap sw = {victim, moved, other};
        CHECK_EQ_INT(run_as_nobody(attack_file, &sw), 0);
        if (named)
            CHECK_ERRNO(tmpf_file_cleanup(f), -1, ESTALE);
        else
            CHECK_ERRNO(tmpf_scope_cleanup(s), -1, ESTALE);
        CHECK(path_exists(victim)); /* root's other file, under the name */
        CHECK(path_exists(moved));
        unlink(victim);
        unlink(moved);
        CHECK_EQ_INT(count_entries(scratch), 0);
    }
}

/* Without an attacker nothing changes: in the same directory a full tree
 * goes, and a temporary removed or moved away by its owner is not an error
 * (nothing is touched: a directory renamed into place is a result). */
static void test_checked_cleanup_without_attacker(void)
{
    tmpf_dir *d = tmpf_temporary_directory(&(tmpf_opts){.dir = scratch});
    CHECK(d != NULL);
    if (!d)
        return;
    CHECK_EQ_INT(make_other_tree(path_join(tmpf_dir_path(d), "t")), 0);
    CHECK_EQ_INT(tmpf_dir_cleanup(d), 0);
    CHECK_EQ_INT(count_entries(scratch), 0);

    d = tmpf_temporary_directory(&(tmpf_opts){.dir = scratch});
    CHECK(d != NULL);
    if (!d)
        return;
    CHECK_EQ_INT(write_file(path_join(tmpf_dir_path(d), "result"), "x", 0600), 0);
    CHECK_EQ_INT(rename(tmpf_dir_path(d), path_join(scratch, "final")), 0);
    CHECK_EQ_INT(tmpf_dir_cleanup(d), 0);
    CHECK(path_exists(path_join(path_join(scratch, "final"), "result")));
    harness_rmrf(path_join(scratch, "final"));

    tmpf_scope *s = tmpf_scope_new(0);
    char *p = tmpf_mkdtemp(&(tmpf_opts){.dir = scratch, .scope = s});
    char *q = NULL;
    int fd = tmpf_mkstemp(&(tmpf_opts){.dir = scratch, .scope = s}, &q);
    CHECK(p && fd >= 0);
    if (fd >= 0)
        close(fd);
    if (p)
        CHECK_EQ_INT(make_other_tree(path_join(p, "t")), 0);
    CHECK_EQ_INT(tmpf_scope_cleanup(s), 0);
    free(p);
    free(q);
    CHECK_EQ_INT(count_entries(scratch), 0);
}

/* The path of the one entry of scratch named tmp* (the temporary's name,
 * now holding what was swapped in), or NULL when there is not exactly one. */
static const char *the_tmp_entry(void)
{
    static char found[4200];
    int n = 0;
    DIR *dir = opendir(scratch);
    struct dirent *e;
    while (dir && (e = readdir(dir)))
        if (strncmp(e->d_name, "tmp", 3) == 0 && n++ == 0)
            snprintf(found, sizeof found, "%s/%s", scratch, e->d_name);
    if (dir)
        closedir(dir);
    return n == 1 ? found : NULL;
}

/* The same for files: armed, the next exclusive create is followed by the
 * swap (swap_other must then be a file). */
static bool swap_files;

int openat(int dfd, const char *path, int flags, ...)
{
    static int (*real_openat)(int, const char *, int, ...);
    if (!real_openat)
        real_openat = (int (*)(int, const char *, int, ...))dlsym(RTLD_NEXT, "openat");
    mode_t mode = 0;
    if (flags & O_CREAT) {
        va_list ap;
        va_start(ap, flags);
        mode = (mode_t)va_arg(ap, unsigned);
        va_end(ap);
    }
    int fd = real_openat(dfd, path, flags, mode);
    if (fd >= 0 && swap_files && swap_other && (flags & O_EXCL) && dfd == AT_FDCWD) {
        const char *other = swap_other;
        swap_other = NULL;
        if (rename(path, swap_moved) != 0 || rename(other, path) != 0)
            abort();
    }
    return fd;
}

/* An unnamed file where O_TMPFILE is refused is made with a name and
 * unlinked at once: swapped in between, root's other file keeps its name
 * (the call fails with ESTALE, nothing of root's is removed), and a file
 * moved away keeps no descriptor open either. */
static void test_swap_before_unnamed_unlink(void)
{
    char other[4200], moved[4200];
    snprintf(other, sizeof other, "%s/otherfile", scratch);
    snprintf(moved, sizeof moved, "%s/moved", scratch);
    CHECK_EQ_INT(write_file(other, "precious", 0600), 0);
    tmpf__test_force_no_tmpfile(true);
    swap_files = true;
    swap_other = other;
    swap_moved = moved;
    errno = 0;
    tmpf_file *f = tmpf_temporary_file(&(tmpf_opts){.dir = scratch});
    int err = errno;
    CHECK(swap_other == NULL);
    swap_other = NULL;
    swap_files = false;
    tmpf__test_force_no_tmpfile(false);
    CHECK(f == NULL);
    CHECK_EQ_INT(err, ESTALE);
    if (f)
        tmpf_file_cleanup(f);
    /* root's other file, under the temporary's name, intact */
    const char *at = the_tmp_entry();
    CHECK(at != NULL);
    if (at) {
        char buf[16] = "";
        FILE *in = fopen(at, "r");
        CHECK(in && fgets(buf, sizeof buf, in));
        if (in)
            fclose(in);
        CHECK_EQ_STR(buf, "precious");
        CHECK_EQ_INT(unlink(at), 0);
    }
    CHECK(path_exists(moved));
    unlink(moved);
    CHECK_EQ_INT(count_entries(scratch), 0);
}

/* Swapped between mkdir and the open that records the identity: root's
 * other directory (with a subdirectory, or with files only) is refused
 * (ESTALE), not adopted, and never removed later: by
 * tmpf_temporary_directory and by a scope's tmpf_mkdtemp. */
static void test_swap_at_creation_refused(void)
{
    for (int variant = 0; variant < 4; variant++) {
        bool files_only = variant & 1, scoped = variant & 2;
        char other[4200], moved[4200];
        snprintf(other, sizeof other, "%s/other", scratch);
        snprintf(moved, sizeof moved, "%s/moved", scratch);
        if (files_only) {
            CHECK_EQ_INT(mkdir(other, 0700), 0);
            CHECK_EQ_INT(write_file(path_join(other, "top"), "keep", 0600), 0);
        } else {
            CHECK_EQ_INT(make_other_tree(other), 0);
        }
        tmpf_scope *s = tmpf_scope_new(0);
        swap_other = other;
        swap_moved = moved;
        errno = 0;
        char *p = NULL;
        tmpf_dir *d = NULL;
        if (scoped)
            p = tmpf_mkdtemp(&(tmpf_opts){.dir = scratch, .scope = s});
        else
            d = tmpf_temporary_directory(&(tmpf_opts){.dir = scratch});
        int err = errno;
        CHECK(swap_other == NULL); /* the swap happened */
        swap_other = NULL;
        CHECK(p == NULL && d == NULL);
        CHECK_EQ_INT(err, ESTALE);
        CHECK_EQ_INT(tmpf_scope_cleanup(s), 0);
        if (d)
            tmpf_dir_cleanup(d);
        free(p);
        /* root's other directory, now under the temporary's name, intact */
        const char *at = the_tmp_entry();
        CHECK(at && path_exists(path_join(at, "top")));
        if (at)
            harness_rmrf(at);
        rmdir(moved);
        CHECK_EQ_INT(count_entries(scratch), 0);
    }
}

static const struct test tests[] = {
    TEST(test_dir_cleanup_leaves_swapped_in_tree),
    TEST(test_scope_mkdtemp_leaves_swapped_in_tree),
    TEST(test_file_cleanup_leaves_swapped_in_file),
    TEST(test_checked_cleanup_without_attacker),
    TEST(test_swap_at_creation_refused),
    TEST(test_swap_before_unnamed_unlink),
};

TEST_MAIN(tests)
