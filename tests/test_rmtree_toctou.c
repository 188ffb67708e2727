/*
 * tmpf_rmtree with the tree changing at the worst moments (issue 5). This
 * executable defines readdir, fstatat, openat and unlinkat: the library is
 * linked in statically, so its calls bind here, and pass through to the C
 * library's (dlsym RTLD_NEXT) after doing, when a test asks:
 *
 *  - every entry's type reported as DT_UNKNOWN, as some file systems do:
 *    the walk must fstatat(AT_SYMLINK_NOFOLLOW) before choosing between
 *    unlinkat and descending, and never unlinkat(..., 0) something that is
 *    a directory and hope (Rust issue 94335; the unlinkat wrapper counts
 *    such calls). Checked on a tree of every kind, with permission repair
 *    as an unprivileged user, and under the swap race (race.h);
 *  - the swap of a directory for a symlink to an outside directory at the
 *    exact windows a path-based walk loses in (Rust CVE-2022-21658): after
 *    readdir said "directory", after fstatat said so, after the open
 *    failed with EACCES and before the repair, after the walk entered it;
 *    and an ancestor moved into the outside directory while the walk, deep
 *    below with that ancestor closed, must reopen it;
 *  - entries named vanish* deleted just before readdir returns them, and a
 *    directory of the tree moved elsewhere while the walk is inside it:
 *    what vanished meanwhile is not an error.
 *
 * And two removals of one tree racing each other: both succeed.
 * Without a dynamic C library the wrappers cannot reach the real functions
 * and the tests skip.
 */
#include "race.h"

#include <dlfcn.h>
#include <stdarg.h>

static atomic_bool want_unknown, want_vanish, count_dir_unlinks;
static atomic_long unknown_served, dir_unlinks;
/* Called once when readdir next returns an entry named "trigger" (then
 * reset to NULL); trigger_from/to are for it to use. */
static void (*trigger_fn)(void);
static char trigger_from[4096], trigger_to[4096];

/* The C library's functions, found before main (NULL with a static C
 * library: then the wrappers fail with ENOSYS and the tests skip). */
typedef int (*openat_fn)(int, const char *, int, ...);
static int (*real_unlinkat)(int, const char *, int);
static int (*real_fstatat)(int, const char *, struct stat *, int);
static openat_fn real_openat;
static struct dirent *(*real_readdir)(DIR *);
#ifdef __GLIBC__
static openat_fn real_openat64;
static struct dirent64 *(*real_readdir64)(DIR *);
#endif

__attribute__((constructor)) static void find_real_functions(void)
{
    real_unlinkat = (int (*)(int, const char *, int))dlsym(RTLD_NEXT, "unlinkat");
    real_fstatat =
        (int (*)(int, const char *, struct stat *, int))dlsym(RTLD_NEXT, "fstatat");
    real_openat = (openat_fn)dlsym(RTLD_NEXT, "openat");
    real_readdir = (struct dirent * (*)(DIR *)) dlsym(RTLD_NEXT, "readdir");
#ifdef __GLIBC__
    real_openat64 = (openat_fn)dlsym(RTLD_NEXT, "openat64");
    real_readdir64 = (struct dirent64 * (*)(DIR *)) dlsym(RTLD_NEXT, "readdir64");
#endif
}

int unlinkat(int dfd, const char *name, int flags);
int unlinkat(int dfd, const char *name, int flags)
{
    if (!real_unlinkat || !real_fstatat) {
        errno = ENOSYS;
        return -1;
    }
    struct stat st;
    if (!(flags & AT_REMOVEDIR) && atomic_load(&count_dir_unlinks) &&
        real_fstatat(dfd, name, &st, AT_SYMLINK_NOFOLLOW) == 0 && S_ISDIR(st.st_mode))
        atomic_fetch_add(&dir_unlinks, 1);
    return real_unlinkat(dfd, name, flags);
}

/* ---- swaps at exact moments ----------------------------------------------- */

enum window { W_NONE, W_READDIR, W_FSTATAT, W_EACCES, W_OPENED };
static struct {
    atomic_int at;         /* the moment to act in */
    char name[64];         /* the entry whose moment it is */
    char a[4096], b[4096]; /* the two paths to exchange */
    atomic_int done;       /* exchanged (once per arming) */
} win;

static void window(enum window w, const char *name)
{
    if (atomic_load(&win.at) != (int)w || strcmp(name, win.name) != 0 ||
        atomic_load(&win.done))
        return;
#ifdef SYS_renameat2
    if (syscall(SYS_renameat2, AT_FDCWD, win.a, AT_FDCWD, win.b, RENAME_EXCHANGE) == 0)
        atomic_store(&win.done, 1);
#endif
}

static atomic_long fstatat_calls;

int fstatat(int dfd, const char *name, struct stat *st, int flags)
{
    if (!real_fstatat) {
        errno = ENOSYS;
        return -1;
    }
    atomic_fetch_add(&fstatat_calls, 1);
    int r = real_fstatat(dfd, name, st, flags);
    if (r == 0 && S_ISDIR(st->st_mode))
        window(W_FSTATAT, name);
    return r;
}

static atomic_long openat_calls, readdir_calls;

static int open_result(int fd, const char *name, int flags)
{
    atomic_fetch_add(&openat_calls, 1);
    if (flags & O_DIRECTORY) {
        if (fd < 0 && errno == EACCES) {
            window(W_EACCES, name);
            errno = EACCES;
        } else if (fd >= 0) {
            window(W_OPENED, name);
        }
    }
    return fd;
}

int openat(int dfd, const char *name, int flags, ...);
int openat(int dfd, const char *name, int flags, ...)
{
    va_list ap;
    va_start(ap, flags);
    mode_t m = (flags & O_CREAT) || (flags & O_TMPFILE) == O_TMPFILE
                   ? (mode_t)va_arg(ap, unsigned)
                   : 0;
    va_end(ap);
    if (!real_openat) {
        errno = ENOSYS;
        return -1;
    }
    return open_result(real_openat(dfd, name, flags, m), name, flags);
}
#ifdef __GLIBC__ /* musl: openat64 is a macro for openat */
int openat64(int dfd, const char *name, int flags, ...);
int openat64(int dfd, const char *name, int flags, ...)
{
    va_list ap;
    va_start(ap, flags);
    mode_t m = (flags & O_CREAT) || (flags & O_TMPFILE) == O_TMPFILE
                   ? (mode_t)va_arg(ap, unsigned)
                   : 0;
    va_end(ap);
    if (!real_openat64) {
        errno = ENOSYS;
        return -1;
    }
    return open_result(real_openat64(dfd, name, flags, m), name, flags);
}
#endif

/* What the tests ask for, applied to an entry about to be returned. */
static void doctor(DIR *d, const char *name, unsigned char *type)
{
    atomic_fetch_add(&readdir_calls, 1);
    if (atomic_load(&want_vanish)) {
        int fd = dirfd(d);
        struct stat st;
        if (strncmp(name, "vanish", 6) == 0 &&
            real_fstatat(fd, name, &st, AT_SYMLINK_NOFOLLOW) == 0) {
            if (S_ISDIR(st.st_mode)) {
                char f[300];
                snprintf(f, sizeof f, "%s/f", name);
                real_unlinkat(fd, f, 0);
                real_unlinkat(fd, name, AT_REMOVEDIR);
            } else {
                real_unlinkat(fd, name, 0);
            }
        }
    }
    if (trigger_fn && strcmp(name, "trigger") == 0) {
        void (*fn)(void) = trigger_fn;
        trigger_fn = NULL;
        fn();
    }
    if (atomic_load(&want_unknown)) {
        *type = DT_UNKNOWN;
        atomic_fetch_add(&unknown_served, 1);
    } else if (*type == DT_DIR) {
        window(W_READDIR, name);
    }
}

struct dirent *readdir(DIR *d)
{
    if (!real_readdir) {
        errno = ENOSYS;
        return NULL;
    }
    struct dirent *e = real_readdir(d);
    if (e)
        doctor(d, e->d_name, &e->d_type);
    return e;
}
#ifdef __GLIBC__ /* musl: readdir64 is a macro for readdir */
struct dirent64 *readdir64(DIR *d);
struct dirent64 *readdir64(DIR *d)
{
    if (!real_readdir64) {
        errno = ENOSYS;
        return NULL;
    }
    struct dirent64 *e = real_readdir64(d);
    if (e)
        doctor(d, e->d_name, &e->d_type);
    return e;
}
#endif

/* Whether the library's readdir reaches the wrapper (not with a static C
 * library): one unknown-typed removal of a small tree. */
static bool interposed(void)
{
    char root[4160];
    snprintf(root, sizeof root, "%s/probe", scratch);
    if (mkdir(root, 0700) != 0 || write_file(P("%s/f", root), "x", 0600) != 0)
        return false;
    long before = atomic_load(&unknown_served);
    atomic_store(&want_unknown, true);
    int rc = tmpf_rmtree(root, 0);
    atomic_store(&want_unknown, false);
    return rc == 0 && atomic_load(&unknown_served) > before && real_unlinkat;
}

static void set_modes(bool unknown, bool vanish)
{
    atomic_store(&want_unknown, unknown);
    atomic_store(&want_vanish, vanish);
    atomic_store(&count_dir_unlinks, unknown);
    atomic_store(&dir_unlinks, 0);
}

/* ---- DT_UNKNOWN ---------------------------------------------------------- */

static void test_unknown_types_every_kind(void)
{
    if (!interposed())
        SKIP("readdir is not interposed in this build (static C library?)");
    char root[4160], out[4160];
    snprintf(root, sizeof root, "%s/tree", scratch);
    snprintf(out, sizeof out, "%s/out", scratch);
    CHECK_EQ_INT(make_outside(out, 0755), 0);
    CHECK_EQ_INT(mkdir(root, 0700), 0);
    CHECK_EQ_INT(build_tree(root), 0);
    CHECK_EQ_INT(symlink(out, P("%s/a/to-out", root)), 0);
    CHECK_EQ_INT(symlink(P("%s/f0", out), P("%s/a/b/to-file", root)), 0);
    CHECK_EQ_INT(link(P("%s/f1", out), P("%s/hard", root)), 0);
    set_modes(true, false);
    CHECK_EQ_INT(tmpf_rmtree(root, 0), 0);
    CHECK(!path_exists(root));
    /* And through TemporaryDirectory. */
    tmpf_dir *d = tmpf_temporary_directory(&(tmpf_opts){.dir = scratch});
    CHECK(d != NULL);
    if (d) {
        CHECK_EQ_INT(build_tree(tmpf_dir_path(d)), 0);
        CHECK_EQ_INT(symlink(out, P("%s/to-out", tmpf_dir_path(d))), 0);
        CHECK_EQ_INT(tmpf_dir_cleanup(d), 0);
    }
    set_modes(false, false);
    CHECK(atomic_load(&unknown_served) > 20);
    CHECK_EQ_INT(atomic_load(&dir_unlinks), 0);
    CHECK(outside_intact(out, 0755));
    CHECK_EQ_INT(count_entries(scratch), 1);
}

/* Directories the unprivileged owner must repair, DT_UNKNOWN: 0400 and
 * 0600 can be read but not searched, so the fstatat that decides an
 * entry's type fails with EACCES until the directory is fixed. */
static int unknown_repair_as_nobody(void *arg)
{
    (void)arg;
    static const mode_t modes[] = {0400, 0600, 0500, 0300, 0100, 0000};
    char root[4160];
    snprintf(root, sizeof root, "%s/tree", scratch);
    if (mkdir(root, 0700) != 0)
        return FAILED(E_SETUP);
    for (size_t i = 0; i < sizeof modes / sizeof modes[0]; i++) {
        char dir[4200];
        snprintf(dir, sizeof dir, "%s/d%zu", root, i);
        if (mkdir(dir, 0700) != 0 || mkdir(P("%s/sub", dir), 0700) != 0 ||
            write_file(P("%s/sub/f", dir), "x", 0000) != 0 ||
            write_file(P("%s/f", dir), "x", 0444) != 0 ||
            symlink("/", P("%s/link", dir)) != 0 ||
            chmod(P("%s/sub", dir), modes[(i + 1) % 6]) != 0 || chmod(dir, modes[i]) != 0)
            return FAILED(E_SETUP);
    }
    if (chmod(root, 0400) != 0)
        return FAILED(E_SETUP);
    set_modes(true, false);
    int rc = tmpf_rmtree(root, 0);
    set_modes(false, false);
    if (rc != 0)
        return FAILED(E_RESULT);
    if (path_exists(root))
        return FAILED(E_LEFT);
    return atomic_load(&dir_unlinks) == 0 ? OK : FAILED(E_RESULT);
}

static void test_unknown_types_permission_repair_as_nobody(void)
{
    if (!interposed())
        SKIP("readdir is not interposed in this build (static C library?)");
    check_child(run_as_nobody(unknown_repair_as_nobody, NULL), "as nobody");
}

/* The swap race again, types unknown: between the fstatat that says
 * "directory" and the openat, the attacker puts a symlink there. */
static void test_unknown_types_swap_race(void)
{
    if (!interposed())
        SKIP("readdir is not interposed in this build (static C library?)");
    static const struct race_case root_cases[] = {
        {"unknown: exchange", EXCHANGE, build_swap, false, 200, 400000, NULL, NULL, 0755},
        {"unknown: rename away + symlink", RENAME, build_swap, false, 200, 400000, NULL, NULL, 0755},
    };
    static const struct race_case nobody_cases[] = {
        {"unknown, repair: exchange", EXCHANGE, build_swap, true, 200, 400000, NULL, NULL, 0500},
    };
    atomic_store(&want_unknown, true);
    run_races(root_cases, sizeof root_cases / sizeof root_cases[0], false);
    run_races(nobody_cases, sizeof nobody_cases / sizeof nobody_cases[0], true);
    atomic_store(&want_unknown, false);
}

/* ---- swaps at the exact moments ---------------------------------------- */

enum { E_MISSED = 16 }; /* the moment never came */

/* base/tree/a/d (files and a subdirectory) is exchanged, at the case's
 * moment, with base/link, a symlink to the outside directory: from then on
 * a/d is that symlink and our directory sits outside the tree. */
struct window_case {
    const char *what;
    enum window at;
    bool unknown;  /* types DT_UNKNOWN: the fstatat moment exists */
    mode_t d_mode; /* not 0700: d needs repair (the test runs as nobody) */
};

struct window_run_arg {
    const struct window_case *c;
    char base[4160];
    mode_t out_mode;
};

/* Position of name in dir's readdir order, -1 if absent. */
static int readdir_pos(const char *dir, const char *name)
{
    DIR *d = opendir(dir);
    if (!d)
        return -1;
    int pos = -1, i = 0;
    struct dirent *e;
    while ((e = readdir(d)) && pos < 0)
        if (strcmp(e->d_name, name) == 0)
            pos = i;
        else
            i++;
    closedir(d);
    return pos;
}

/* Makes dir/name a symlink to target that readdir returns after dir/after
 * (file systems list in creation order, or newest first). */
static int symlink_after(const char *target, const char *dir, const char *after,
                         const char *name)
{
    char path[4200];
    snprintf(path, sizeof path, "%s/%s", dir, name);
    if (symlink(target, path) != 0)
        return -1;
    if (readdir_pos(dir, name) > readdir_pos(dir, after))
        return 0;
    /* Newest first, apparently: make after newer by moving it out and back. */
    char moved[4200], orig[4200];
    snprintf(orig, sizeof orig, "%s/%s", dir, after);
    snprintf(moved, sizeof moved, "%s/%s.tmp", dir, after);
    if (unlink(path) != 0 || symlink(target, path) != 0 || rename(orig, moved) != 0 ||
        rename(moved, orig) != 0)
        return -1;
    return readdir_pos(dir, name) > readdir_pos(dir, after) ? 0 : -1;
}

static int window_run(void *arg)
{
    const struct window_run_arg *w = arg;
    const struct window_case *c = w->c;
    char root[4200], out[4200], link_path[4200];
    snprintf(root, sizeof root, "%s/tree", w->base);
    snprintf(out, sizeof out, "%s/out", w->base);
    snprintf(link_path, sizeof link_path, "%s/link", w->base);
    if (make_outside(out, w->out_mode) != 0 || mkdir(root, 0700) != 0 ||
        mkdir(P("%s/a", root), 0700) != 0 || mkdir(P("%s/a/d", root), 0700) != 0 ||
        mkdir(P("%s/a/d/e", root), 0700) != 0 || symlink(out, link_path) != 0)
        return FAILED(E_SETUP);
    for (int k = 0; k < 4; k++)
        if (write_file(P("%s/a/x%d", root, k), "x", 0600) != 0 ||
            write_file(P("%s/a/d/f%d", root, k), "x", 0600) != 0 ||
            write_file(P("%s/a/d/e/g%d", root, k), "x", 0600) != 0)
            return FAILED(E_SETUP);
    snprintf(win.name, sizeof win.name, "d");
    snprintf(win.a, sizeof win.a, "%s/a/d", root);
    snprintf(win.b, sizeof win.b, "%s", link_path);
    if (c->d_mode != 0700) {
        /* Moving a directory to another parent needs write permission on
         * it (its ".." changes): a read-only one can only be swapped with
         * a sibling, a/s, which readdir must return after d. */
        snprintf(win.b, sizeof win.b, "%s/a/s", root);
        if (symlink_after(out, P("%s/a", root), "d", "s") != 0 ||
            chmod(P("%s/a/d/e", root), 0500) != 0 || chmod(P("%s/a/d", root), c->d_mode) != 0)
            return FAILED(E_SETUP);
    }
    atomic_store(&win.done, 0);
    set_modes(c->unknown, false);
    atomic_store(&win.at, (int)c->at);
    int rc = tmpf_rmtree(root, 0);
    atomic_store(&win.at, W_NONE);
    if (rc != 0)
        fprintf(stderr, "  %s: tmpf_rmtree: %s\n", c->what, strerror(errno));
    long wrong_unlinks = atomic_load(&dir_unlinks);
    set_modes(false, false);
    if (!atomic_load(&win.done))
        return FAILED(E_MISSED);
    if (!outside_intact(out, w->out_mode))
        return FAILED(E_OUTSIDE);
    if (rc != 0)
        return FAILED(E_RESULT);
    if (path_exists(root))
        return FAILED(E_LEFT);
    if (wrong_unlinks)
        return FAILED(E_RESULT);
    if (c->d_mode != 0700)
        return OK; /* swapped within the tree: all of it went */
    /* Our directory, swapped out of the tree before the walk entered it,
     * was not chased: still there, untouched. */
    struct stat st;
    if (lstat(link_path, &st) != 0 || !S_ISDIR(st.st_mode))
        return FAILED(E_GONE);
    if (c->at != W_OPENED && !path_exists(P("%s/f0", link_path)))
        return FAILED(E_GONE);
    return OK;
}

static void test_swap_at_the_exact_moment(void)
{
    if (!interposed())
        SKIP("readdir is not interposed in this build (static C library?)");
    if (!have_rename_exchange())
        SKIP("no renameat2(RENAME_EXCHANGE) here");
    static const struct window_case cases[] = {
        {"after readdir said directory", W_READDIR, false, 0700},
        {"after fstatat said directory", W_FSTATAT, true, 0700},
        {"after the open failed with EACCES, before the repair", W_EACCES, false, 0000},
        {"after the walk entered it", W_OPENED, false, 0700},
        {"after the walk entered a read-only one, before its repair", W_OPENED, false, 0500},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++)
        for (int nobody = 0; nobody < 2; nobody++) {
            if (cases[i].d_mode != 0700 && !nobody)
                continue; /* root needs no repair */
            struct window_run_arg w = {.c = &cases[i], .out_mode = nobody ? 0500 : 0755};
            snprintf(w.base, sizeof w.base, "%s/w%zu-%d", scratch, i, nobody);
            CHECK_EQ_INT(mkdir(w.base, 0777), 0);
            CHECK_EQ_INT(chmod(w.base, 0777), 0);
            int rc = nobody ? run_as_nobody(window_run, &w) : run_in_child(window_run, &w);
            char what[200];
            snprintf(what, sizeof what, "%s (%s)", cases[i].what, nobody ? "nobody" : "root");
            check_child(rc, what);
        }
}

/* A chain base/tree/l/l/... CHAIN deep, a file per level and a "trigger"
 * at the bottom: when the walk reads it, its upper directories are closed
 * (the walk keeps at most 48 open) and must be reopened on the way back,
 * and the trigger has just moved them around. */
static char chain_root[4200], chain_out[4200];

/* Level 2 into out: the ".." of the walk's directories leads into out. */
static void move_level2_into_out(void)
{
    if (rename(P("%s/l/l", chain_root), P("%s/in", chain_out)) != 0)
        perror("trigger");
}

/* Level 1 into out and a symlink to out in its place. */
static void move_level1_link_in_place(void)
{
    if (rename(P("%s/l", chain_root), P("%s/in", chain_out)) != 0 ||
        symlink(chain_out, P("%s/l", chain_root)) != 0)
        perror("trigger");
}

/* Levels 1 and 2 into out, a new directory in level 1's place: reopening
 * level 1 through ".." fails and by name finds an impostor. */
static void impostor_at_level1(void)
{
    if (rename(P("%s/l/l", chain_root), P("%s/in2", chain_out)) != 0 ||
        rename(P("%s/l", chain_root), P("%s/in1", chain_out)) != 0 ||
        mkdir(P("%s/l", chain_root), 0700) != 0 ||
        write_file(P("%s/l/bait", chain_root), "x", 0600) != 0)
        perror("trigger");
}

static void test_ancestors_moved_while_closed(void)
{
    if (!interposed())
        SKIP("readdir is not interposed in this build (static C library?)");
    static const struct {
        const char *what;
        void (*fn)(void);
        bool must_succeed;
    } cases[] = {
        {"level 2 moved into out", move_level2_into_out, true},
        {"level 1 moved into out, a symlink to out in its place",
         move_level1_link_in_place, true},
        {"levels 1 and 2 moved into out, an impostor in level 1's place",
         impostor_at_level1, false},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        snprintf(chain_root, sizeof chain_root, "%s/tree%zu", scratch, i);
        snprintf(chain_out, sizeof chain_out, "%s/out%zu", scratch, i);
        CHECK_EQ_INT(make_outside(chain_out, 0755), 0);
        char path[4200];
        snprintf(path, sizeof path, "%s", chain_root);
        for (int k = 0; k < CHAIN; k++) {
            if (k)
                strcat(path, "/l");
            CHECK_EQ_INT(mkdir(path, 0700), 0);
            CHECK_EQ_INT(write_file(P("%s/f", path), "x", 0600), 0);
        }
        CHECK_EQ_INT(write_file(P("%s/trigger", path), "x", 0600), 0);
        int before = count_open_fds();
        trigger_fn = cases[i].fn;
        errno = 0;
        int rc = tmpf_rmtree(chain_root, 0);
        int err = errno;
        if (trigger_fn) {
            trigger_fn = NULL;
            FAIL_AT("%s: the trigger was never read", cases[i].what);
        }
        CHECK_EQ_INT(count_open_fds(), before);
        fprintf(stderr, "  %s: %d (%s)\n", cases[i].what, rc, rc ? strerror(err) : "ok");
        if (cases[i].must_succeed) {
            CHECK_EQ_INT(rc, 0);
            CHECK(!path_exists(chain_root));
        }
        CHECK(outside_intact(chain_out, 0755));
    }
}

/* ---- an empty directory costs one rmdir ---------------------------------- */

static void test_empty_dir_cleanup_does_not_walk(void)
{
    if (!interposed())
        SKIP("readdir is not interposed in this build (static C library?)");
    for (int full = 0; full < 2; full++) {
        tmpf_dir *d = tmpf_temporary_directory(&(tmpf_opts){.dir = scratch});
        CHECK(d != NULL);
        if (!d)
            return;
        if (full)
            CHECK_EQ_INT(write_file(P("%s/f", tmpf_dir_path(d)), "x", 0600), 0);
        long o = atomic_load(&openat_calls), f = atomic_load(&fstatat_calls),
             r = atomic_load(&readdir_calls);
        CHECK_EQ_INT(tmpf_dir_cleanup(d), 0);
        long walked = (atomic_load(&openat_calls) - o) + (atomic_load(&fstatat_calls) - f) +
                      (atomic_load(&readdir_calls) - r);
        if (full)
            CHECK(walked > 0); /* rmdir said ENOTEMPTY: the walk ran */
        else
            CHECK_EQ_INT(walked, 0); /* rmdir alone */
    }
    CHECK_EQ_INT(count_entries(scratch), 0);
}

/* ---- entries that vanish ------------------------------------------------ */

/* Vanishing entries of every kind at two depths, ordinary ones around
 * them, and a "trigger" in a/b that moves a (with the walk inside it) out
 * of the tree. */
static int build_vanishing(const char *root)
{
    int rc = mkdir(root, 0700);
    const char *dirs[] = {"", "/a", "/a/b"};
    for (size_t i = 0; i < 3; i++) {
        char dir[4200];
        snprintf(dir, sizeof dir, "%s%s", root, dirs[i]);
        if (i > 0)
            rc |= mkdir(dir, 0700);
        rc |= write_file(P("%s/keep", dir), "x", 0600);
        rc |= write_file(P("%s/vanish-file", dir), "x", 0600);
        rc |= symlink("keep", P("%s/vanish-link", dir));
        rc |= mkdir(P("%s/vanish-dir", dir), 0700);
        rc |= write_file(P("%s/vanish-dir/f", dir), "x", 0600);
    }
    rc |= write_file(P("%s/a/b/trigger", root), "x", 0600);
    return rc ? -1 : 0;
}

static void move_from_to(void)
{
    if (rename(trigger_from, trigger_to) != 0)
        perror("trigger rename");
}

static void test_vanished_entries_are_fine(void)
{
    if (!interposed())
        SKIP("readdir is not interposed in this build (static C library?)");
    for (int unknown = 0; unknown < 2; unknown++) {
        char root[4160], moved[4160];
        snprintf(root, sizeof root, "%s/tree", scratch);
        snprintf(moved, sizeof moved, "%s/moved%d", scratch, unknown);
        CHECK_EQ_INT(build_vanishing(root), 0);
        snprintf(trigger_from, sizeof trigger_from, "%s/a", root);
        snprintf(trigger_to, sizeof trigger_to, "%s", moved);
        trigger_fn = move_from_to;
        set_modes(unknown, true);
        CHECK_EQ_INT(tmpf_rmtree(root, 0), 0);
        set_modes(false, false);
        CHECK(!path_exists(root));
        CHECK(trigger_fn == NULL); /* the move happened mid-walk */
        /* The moved directory is still a directory (whatever of its
         * contents the walk, already inside, removed). */
        struct stat st;
        CHECK(lstat(moved, &st) == 0 && S_ISDIR(st.st_mode));
    }
}

/* Two removals of the same tree at once: each finds entries gone under
 * it, neither reports an error, nothing is left. */
struct second {
    const char *root;
    atomic_int go;
    int rc, err;
};

static void *second_removal(void *arg)
{
    struct second *s = arg;
    while (!atomic_load(&s->go))
        sched_yield();
    s->rc = tmpf_rmtree(s->root, 0);
    s->err = errno;
    return NULL;
}

static int build_wide(const char *root)
{
    int rc = mkdir(root, 0700) | build_tree(root);
    for (int i = 0; i < 8; i++) {
        const char *dir = P("%s/w%d", root, i);
        rc |= mkdir(dir, 0700);
        for (int k = 0; k < 8; k++)
            rc |= write_file(P("%s/w%d/f%d", root, i, k), "x", 0600);
        rc |= mkdir(P("%s/w%d/sub", root, i), 0700);
        rc |= write_file(P("%s/w%d/sub/g", root, i), "x", 0600);
    }
    return rc ? -1 : 0;
}

static void test_two_removals_of_one_tree(void)
{
    int n = 200 / test_scale_div() + 1, failures = 0;
    for (int unknown = 0; unknown < 2; unknown++) {
        if (unknown && !interposed())
            break;
        atomic_store(&want_unknown, unknown);
        for (int i = 0; i < n; i++) {
            char root[4160];
            snprintf(root, sizeof root, "%s/t%d", scratch, i);
            if (build_wide(root) != 0) {
                CHECK(!"build_wide");
                break;
            }
            struct second s = {.root = root};
            atomic_init(&s.go, 0);
            pthread_t t;
            CHECK_EQ_INT(pthread_create(&t, NULL, second_removal, &s), 0);
            atomic_store(&s.go, 1);
            int rc = tmpf_rmtree(root, 0), err = errno;
            pthread_join(t, NULL);
            if (rc != 0 || s.rc != 0 || path_exists(root)) {
                if (!failures++)
                    fprintf(stderr, "  iteration %d: %d (%s) and %d (%s)\n", i, rc,
                            strerror(err), s.rc, strerror(s.err));
            }
        }
        atomic_store(&want_unknown, false);
    }
    CHECK_EQ_INT(failures, 0);
    CHECK_EQ_INT(count_entries(scratch), 0);
}

static const struct test tests[] = {
    TEST(test_unknown_types_every_kind),
    TEST(test_unknown_types_permission_repair_as_nobody),
    TEST(test_unknown_types_swap_race),
    TEST(test_swap_at_the_exact_moment),
    TEST(test_ancestors_moved_while_closed),
    TEST(test_empty_dir_cleanup_does_not_walk),
    TEST(test_vanished_entries_are_fine),
    TEST(test_two_removals_of_one_tree),
};
TEST_MAIN(tests)
