/*
 * Crash safety (docs/CRASH-SAFETY.md): the emergency cleanup, the signal
 * handlers, the crash guard, TMPF_LOCK and tmpf_sweep, the scenarios as
 * real processes: a child makes temporaries of every kind and dies of
 * SIGKILL (guard), SIGTERM (handlers) or its own handler; a dead child's
 * orphans are swept while a live locked sibling's and another uid's stay;
 * a name reused after the death survives the guard; a process-group kill
 * is covered by sweep. Each test works in its own scratch directory.
 */
#include "harness.h"
#include "tmpf_features.h"

#include <stdatomic.h>
#include <pthread.h>
#include <sys/file.h>
#include <time.h>
#include <tmpf.h>

void tmpf__test_fail_alloc_after(long n);
unsigned long tmpf__test_alloc_failures(void);

#define N_EACH 100

static void sleep_10ms(void);

static void mkdir_p(const char *p, mode_t m) { CHECK(mkdir(p, m) == 0); }

/* A canary directory outside the work directory, with one file. */
static void make_canary(char *canary)
{
    snprintf(canary, 4096, "%s/canary", scratch);
    mkdir_p(canary, 0700);
    CHECK(write_file(path_join(canary, "precious"), "keep me", 0600) == 0);
}

static bool canary_intact(const char *canary)
{
    return path_exists(path_join(canary, "precious")) && count_entries(canary) == 1;
}

/* A tree inside d: a/b/c with files, a 0000 subdirectory holding a file,
 * and a symlink to the canary. */
static int fill_tree(tmpf_dir *d, const char *canary)
{
    char p[4096];
    const char *root = tmpf_dir_path(d);
    snprintf(p, sizeof p, "%s/a", root);
    if (mkdir(p, 0700)) return -1;
    snprintf(p, sizeof p, "%s/a/b", root);
    if (mkdir(p, 0700)) return -1;
    snprintf(p, sizeof p, "%s/a/b/c", root);
    if (mkdir(p, 0700)) return -1;
    snprintf(p, sizeof p, "%s/a/b/c/f", root);
    if (write_file(p, "x", 0600)) return -1;
    snprintf(p, sizeof p, "%s/a/f", root);
    if (write_file(p, "x", 0600)) return -1;
    snprintf(p, sizeof p, "%s/locked", root);
    if (mkdir(p, 0700)) return -1;
    snprintf(p, sizeof p, "%s/locked/f", root);
    if (write_file(p, "x", 0600)) return -1;
    snprintf(p, sizeof p, "%s/locked", root);
    if (chmod(p, 0)) return -1;
    snprintf(p, sizeof p, "%s/link", root);
    return symlink(canary, p);
}

/* Temporaries of every kind in dir; kept ones are named keep*. Returns
 * how many the emergency cleanup should remove, or -1. Objects are
 * stored in the arrays when given (to be cleaned up afterwards). */
struct made {
    tmpf_file *files[4 * N_EACH + 8];
    size_t nfiles;
    tmpf_dir *dirs[16];
    size_t ndirs;
    tmpf_scope *scope;
};

static int make_every_kind(const char *dir, const char *canary, struct made *m,
                           int n_each, unsigned extra_flags)
{
    int removable = 0;
    memset(m, 0, sizeof *m);
    for (int i = 0; i < n_each; i++) {
        tmpf_file *f = tmpf_named_temporary_file(
            &(tmpf_opts){.dir = dir, .prefix = "n", .flags = extra_flags});
        tmpf_file *k = tmpf_named_temporary_file(&(tmpf_opts){
            .dir = dir, .prefix = "k", .flags = TMPF_KEEP_AFTER_CLOSE | extra_flags});
        tmpf_file *a = tmpf_temporary_file(&(tmpf_opts){.dir = dir});
        tmpf_file *s = tmpf_spooled_temporary_file(
            &(tmpf_opts){.dir = dir, .max_size = 16});
        if (!f || !k || !a || !s || tmpf_file_close(k) != 0 ||
            tmpf_file_write(s, "0123456789abcdefghij", 20) != 20 ||
            !tmpf_file_rolled(s))
            return -1;
        m->files[m->nfiles++] = f;
        m->files[m->nfiles++] = k;
        m->files[m->nfiles++] = a;
        m->files[m->nfiles++] = s;
        removable += 2;
    }
    for (int i = 0; i < 10; i++) {
        tmpf_dir *d = tmpf_temporary_directory(
            &(tmpf_opts){.dir = dir, .prefix = "d", .flags = extra_flags});
        /* Without getdents64 the emergency walk cannot list a directory
         * without allocating: only empty ones are removed then. */
        if (!d || (TMPF_HAVE_GETDENTS64 && fill_tree(d, canary) != 0))
            return -1;
        m->dirs[m->ndirs++] = d;
        removable++;
    }
    /* Five kept ones: three by flag, two by tmpf_*_keep. */
    for (int i = 0; i < 3; i++) {
        tmpf_file *f = tmpf_named_temporary_file(
            &(tmpf_opts){.dir = dir, .prefix = "keep", .flags = TMPF_KEEP});
        if (!f)
            return -1;
        m->files[m->nfiles++] = f;
    }
    for (int i = 0; i < 2; i++) {
        tmpf_dir *d = tmpf_temporary_directory(&(tmpf_opts){.dir = dir, .prefix = "keep"});
        if (!d || tmpf_dir_keep(d) != 0)
            return -1;
        m->dirs[m->ndirs++] = d;
    }
    /* A scope-registered mkstemp path. */
    m->scope = tmpf_scope_new(0);
    int fd = tmpf_mkstemp(&(tmpf_opts){.dir = dir, .prefix = "s", .scope = m->scope}, NULL);
    if (fd < 0)
        return -1;
    close(fd);
    removable++;
    return removable;
}

static void cleanup_made(struct made *m)
{
    for (size_t i = 0; i < m->nfiles; i++)
        CHECK_EQ_INT(tmpf_file_cleanup(m->files[i]), 0);
    for (size_t i = 0; i < m->ndirs; i++)
        CHECK_EQ_INT(tmpf_dir_cleanup(m->dirs[i]), 0);
    CHECK_EQ_INT(tmpf_scope_cleanup(m->scope), 0);
}

static int count_prefix(const char *dir, const char *prefix)
{
    DIR *d = opendir(dir);
    if (!d)
        return -1;
    int n = 0;
    struct dirent *e;
    while ((e = readdir(d)))
        if (!strncmp(e->d_name, prefix, strlen(prefix)))
            n++;
    closedir(d);
    return n;
}

/* Entries of dir whose names do not start with "keep" or "target": what
 * should not survive. */
static int survivors(const char *dir)
{
    int all = count_entries(dir);
    return all < 0 ? -1 : all - count_prefix(dir, "keep") - count_prefix(dir, "target");
}

/* Removes the kept leftovers (and their 0000 parts) so the harness's
 * nftw can take the rest. */
static void rm_kept(const char *dir) { harness_rmrf(dir); }

/* ---- in-process -------------------------------------------------------- */

static void test_emergency_removes_every_kind(void)
{
    char canary[4096], work[4096];
    make_canary(canary);
    snprintf(work, sizeof work, "%s/w", scratch);
    mkdir_p(work, 0700);
    struct made m;
    int want = make_every_kind(work, canary, &m, 5, 0);
    CHECK(want > 0);
    /* A persisted one stays. */
    tmpf_file *p = tmpf_named_temporary_file(&(tmpf_opts){.dir = work});
    CHECK(p && tmpf_file_persist(p, path_join(work, "keep-persisted"), 0) == 0);
    CHECK_EQ_INT(tmpf_emergency_cleanup(), want);
    CHECK_EQ_INT(survivors(work), 0);
    CHECK_EQ_INT(count_prefix(work, "keep"), 6);
    CHECK(canary_intact(canary));
    /* Nothing left to do, and the objects still clean up without error. */
    CHECK_EQ_INT(tmpf_emergency_cleanup(), 0);
    cleanup_made(&m);
    CHECK_EQ_INT(tmpf_file_cleanup(p), 0);
    CHECK_EQ_INT(count_prefix(work, "keep"), 6);
    rm_kept(work);
}

static void test_emergency_without_allocations(void)
{
    char canary[4096], work[4096];
    make_canary(canary);
    snprintf(work, sizeof work, "%s/w", scratch);
    mkdir_p(work, 0700);
    struct made m;
    int want = make_every_kind(work, canary, &m, 3, 0);
    CHECK(want > 0);
    unsigned long before = tmpf__test_alloc_failures();
    tmpf__test_fail_alloc_after(-2); /* every allocation fails */
    int got = tmpf_emergency_cleanup();
    tmpf__test_fail_alloc_after(-1);
    CHECK_EQ_INT(got, want);
    /* Not one allocation was even tried. */
    CHECK_EQ_INT(tmpf__test_alloc_failures() - before, 0);
    CHECK_EQ_INT(survivors(work), 0);
    CHECK(canary_intact(canary));
    cleanup_made(&m);
    rm_kept(work);
}

static void test_emergency_spares_a_replaced_name(void)
{
    tmpf_file *f = tmpf_named_temporary_file(&(tmpf_opts){.dir = scratch});
    CHECK(f != NULL);
    const char *path = tmpf_file_path(f);
    /* Someone removes the name and another file takes it (the old inode
     * is still open, so the new one differs). */
    CHECK(unlink(path) == 0);
    CHECK(write_file(path, "not yours", 0600) == 0);
    CHECK_EQ_INT(tmpf_emergency_cleanup(), 0);
    CHECK(path_exists(path));
    tmpf_file_keep(f);
    unlink(path);
    tmpf_file_cleanup(f);
}

static void test_emergency_reentry(void)
{
    CHECK_EQ_INT(tmpf_emergency_cleanup(), 0);
    CHECK_ERRNO(tmpf_cleanup_on_signals(NULL, 2), -1, EINVAL);
    int bad[] = {SIGKILL};
    CHECK_ERRNO(tmpf_cleanup_on_signals(bad, 1), -1, EINVAL);
    int chld[] = {SIGCHLD};
    CHECK_ERRNO(tmpf_cleanup_on_signals(chld, 1), -1, EINVAL);
}

/* Threads create and clean up while the emergency cleanup runs (TSan). */
static atomic_bool stop_threads;

static void *churn(void *arg)
{
    const char *dir = arg;
    while (!atomic_load(&stop_threads)) {
        tmpf_file *f = tmpf_named_temporary_file(&(tmpf_opts){.dir = dir});
        tmpf_dir *d = tmpf_temporary_directory(&(tmpf_opts){.dir = dir});
        if (f)
            tmpf_file_cleanup(f);
        if (d)
            tmpf_dir_cleanup(d);
    }
    return NULL;
}

static void test_emergency_while_threads_create(void)
{
    pthread_t t[2];
    atomic_store(&stop_threads, false);
    for (int i = 0; i < 2; i++)
        CHECK(pthread_create(&t[i], NULL, churn, scratch) == 0);
    for (int i = 0; i < 200; i++)
        CHECK(tmpf_emergency_cleanup() >= 0);
    atomic_store(&stop_threads, true);
    for (int i = 0; i < 2; i++)
        pthread_join(t[i], NULL);
    CHECK_EQ_INT(count_entries(scratch), 0);
}

/* A forked child has its own registry: its emergency cleanup never
 * touches its parent's temporaries, only its own. */
static int child_cleans_own(void *arg)
{
    (void)arg;
    tmpf_file *mine = tmpf_named_temporary_file(&(tmpf_opts){.dir = scratch, .prefix = "c"});
    if (!mine)
        return 10;
    int n = tmpf_emergency_cleanup();
    bool ok = n == 1 && count_prefix(scratch, "c") == 0;
    return tmpf_file_cleanup(mine) == 0 && ok ? 0 : 11;
}

static void test_fork_child_registry(void)
{
    tmpf_file *f = tmpf_named_temporary_file(&(tmpf_opts){.dir = scratch, .prefix = "p"});
    CHECK(f != NULL);
    CHECK_EQ_INT(run_in_child(child_cleans_own, NULL), 0);
    CHECK(path_exists(tmpf_file_path(f)));
    CHECK_EQ_INT(tmpf_file_cleanup(f), 0);
}

static void test_lock_flag(void)
{
    tmpf_file *f = tmpf_named_temporary_file(&(tmpf_opts){.dir = scratch, .flags = TMPF_LOCK});
    tmpf_dir *d = tmpf_temporary_directory(&(tmpf_opts){.dir = scratch, .flags = TMPF_LOCK});
    tmpf_file *plain = tmpf_named_temporary_file(&(tmpf_opts){.dir = scratch});
    CHECK(f && d && plain);
    int a = open(tmpf_file_path(f), O_RDONLY | O_CLOEXEC);
    int b = open(tmpf_dir_path(d), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    int c = open(tmpf_file_path(plain), O_RDONLY | O_CLOEXEC);
    CHECK(a >= 0 && b >= 0 && c >= 0);
    CHECK_ERRNO(flock(a, LOCK_EX | LOCK_NB), -1, EWOULDBLOCK);
    CHECK_ERRNO(flock(b, LOCK_EX | LOCK_NB), -1, EWOULDBLOCK);
    CHECK(flock(c, LOCK_EX | LOCK_NB) == 0);
    close(a), close(b), close(c);
    CHECK_EQ_INT(tmpf_file_cleanup(f), 0);
    CHECK_EQ_INT(tmpf_dir_cleanup(d), 0);
    CHECK_EQ_INT(tmpf_file_cleanup(plain), 0);
    CHECK_EQ_INT(count_entries(scratch), 0);
}

/* TMPF_LOCK=1 in the environment locks every temporary: checked in a fresh
 * process (the variable is read once), this same program run with only
 * the inner test and the variable set. */
static void test_lock_env_inner(void)
{
    const char *v = getenv("TMPF_LOCK");
    if (!v || strcmp(v, "1") != 0)
        SKIP("run by test_lock_from_environment with TMPF_LOCK=1");
    tmpf_file *f = tmpf_named_temporary_file(&(tmpf_opts){.dir = scratch});
    tmpf_dir *d = tmpf_temporary_directory(&(tmpf_opts){.dir = scratch});
    CHECK(f && d);
    int a = open(tmpf_file_path(f), O_RDONLY | O_CLOEXEC);
    int b = open(tmpf_dir_path(d), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    CHECK_ERRNO(flock(a, LOCK_EX | LOCK_NB), -1, EWOULDBLOCK);
    CHECK_ERRNO(flock(b, LOCK_EX | LOCK_NB), -1, EWOULDBLOCK);
    close(a), close(b);
    CHECK_EQ_INT(tmpf_file_cleanup(f), 0);
    CHECK_EQ_INT(tmpf_dir_cleanup(d), 0);
}

static void test_lock_from_environment(void)
{
    char self[4096];
    ssize_t n = readlink("/proc/self/exe", self, sizeof self - 1);
    if (n <= 0)
        SKIP("no /proc/self/exe");
    self[n] = '\0';
    char cmd[8400];
    snprintf(cmd, sizeof cmd, "TMPF_LOCK=1 '%s' test_lock_env_inner 2>&1", self);
    fflush(NULL);
    FILE *p = popen(cmd, "r");
    CHECK(p != NULL);
    char line[256], last[256] = "";
    while (p && fgets(line, sizeof line, p))
        snprintf(last, sizeof last, "%s", line);
    CHECK(p && pclose(p) == 0);
    CHECK_EQ_STR(last, "1 passed, 0 failed\n");
}

/* TMPF_CRASH_GUARD=1 starts the guard at the first creation: a fresh
 * process with the variable makes a temporary in the directory it is
 * given, says its path and kills itself; its guard removes it. */
static void test_guard_env_inner(void)
{
    const char *v = getenv("TMPF_CRASH_GUARD");
    const char *dir = getenv("TMPF_TEST_GUARD_DIR");
    if (!v || strcmp(v, "1") != 0 || !dir)
        SKIP("run by test_guard_from_environment");
    tmpf_file *f = tmpf_named_temporary_file(&(tmpf_opts){.dir = dir});
    CHECK(f != NULL);
    printf("%s\n", f ? tmpf_file_path(f) : "none");
    fflush(stdout);
    raise(SIGKILL);
}

static void test_guard_from_environment(void)
{
    char self[4096];
    ssize_t n = readlink("/proc/self/exe", self, sizeof self - 1);
    if (n <= 0)
        SKIP("no /proc/self/exe");
    self[n] = '\0';
    char cmd[8400];
    /* The inner run's own scratch directory is the harness's (TMPF_TEST_DIR),
     * made inside ours so that it goes with it. */
    snprintf(cmd, sizeof cmd,
             "TMPF_CRASH_GUARD=1 TMPF_TEST_GUARD_DIR='%s' TMPF_TEST_DIR='%s' '%s' "
             "test_guard_env_inner 2>/dev/null",
             scratch, scratch, self);
    fflush(NULL);
    FILE *p = popen(cmd, "r");
    CHECK(p != NULL);
    char path[4096] = "";
    if (p && fgets(path, sizeof path, p))
        path[strcspn(path, "\n")] = '\0';
    int st = p ? pclose(p) : -1;
    /* Killed: sh reports 128+9, or it exec'd the program itself. */
    CHECK(st != -1 && ((WIFEXITED(st) && WEXITSTATUS(st) == 128 + SIGKILL) ||
                       (WIFSIGNALED(st) && WTERMSIG(st) == SIGKILL)));
    CHECK(path[0] == '/');
    for (int i = 0; i < 1000 && path[0] == '/' && path_exists(path); i++)
        sleep_10ms();
    CHECK(path[0] == '/' && !path_exists(path));
}

/* ---- sweep ---------------------------------------------------------------- */

static void test_sweep_arguments(void)
{
    CHECK_ERRNO(tmpf_sweep(NULL, 0), -1, EINVAL);
    CHECK_ERRNO(tmpf_sweep(&(tmpf_opts){.dir = scratch}, 0), -1, EINVAL);
    CHECK_ERRNO(tmpf_sweep(&(tmpf_opts){.dir = scratch, .prefix = ""}, 0), -1, EINVAL);
    CHECK_ERRNO(tmpf_sweep(&(tmpf_opts){.dir = path_join(scratch, "none"), .prefix = "x"}, 0),
                -1, ENOENT);
}

static void test_sweep_shape_age_symlink(void)
{
    char canary[4096], dir[4096];
    make_canary(canary);
    snprintf(dir, sizeof dir, "%s/sw", scratch);
    mkdir_p(dir, 0700);
    /* Shapes: prefix + 8 alphabet characters + suffix. */
    CHECK(write_file(path_join(dir, "app-abcd_123.log"), "", 0600) == 0);
    CHECK(write_file(path_join(dir, "app-abcd_12.log"), "", 0600) == 0);  /* short */
    CHECK(write_file(path_join(dir, "app-ABCD_123.log"), "", 0600) == 0); /* case */
    CHECK(write_file(path_join(dir, "app-abcd_123.txt"), "", 0600) == 0); /* suffix */
    CHECK(symlink(canary, path_join(dir, "app-link0000.log")) == 0);
    CHECK(mkdir(path_join(dir, "app-tree0000.log"), 0700) == 0);
    CHECK(write_file(path_join(dir, "app-tree0000.log/in"), "", 0600) == 0);
    tmpf_opts o = {.dir = dir, .prefix = "app-", .suffix = ".log"};
    /* Too young for an hour's minimum age. */
    CHECK_EQ_INT(tmpf_sweep(&o, 3600), 0);
    /* Dry run: counted, nothing removed. */
    tmpf_opts dry = o;
    dry.flags = TMPF_KEEP;
    CHECK_EQ_INT(tmpf_sweep(&dry, 0), 3);
    CHECK_EQ_INT(count_entries(dir), 6);
    CHECK_EQ_INT(tmpf_sweep(&o, 0), 3);
    CHECK_EQ_INT(count_entries(dir), 3);
    CHECK(canary_intact(canary));
    CHECK(path_exists(path_join(dir, "app-abcd_12.log")));
}

/* The dead child: temporaries made, then _exit without any cleanup (the
 * objects stay reachable, for valgrind). */
static tmpf_file *volatile dead_files[5];
static tmpf_dir *volatile dead_dir;

static int dead_child(void *arg)
{
    const char *dir = arg;
    for (int i = 0; i < 5; i++)
        if (!(dead_files[i] = tmpf_named_temporary_file(
                  &(tmpf_opts){.dir = dir, .prefix = "app-"})))
            return 10;
    dead_dir = tmpf_temporary_directory(&(tmpf_opts){.dir = dir, .prefix = "app-"});
    if (!dead_dir || mkdir(path_join(tmpf_dir_path(dead_dir), "sub"), 0) != 0)
        return 11;
    _exit(0);
}

static int nobody_file(void *arg)
{
    return write_file(path_join(arg, "app-nobody00"), "", 0600) == 0 ? 0 : 1;
}

static void test_sweep_dead_child_only(void)
{
    char dir[4096];
    snprintf(dir, sizeof dir, "%s/sw", scratch);
    mkdir_p(dir, 0700);
    CHECK(chmod(dir, 0777) == 0); /* uid 65534 writes here too */
    CHECK_EQ_INT(run_in_child(dead_child, dir), 0);
    CHECK_EQ_INT(count_entries(dir), 6);
    /* A live sibling, locked, same prefix. */
    int ready[2], go[2];
    CHECK(pipe(ready) == 0 && pipe(go) == 0);
    fflush(NULL);
    pid_t sib = fork();
    if (sib == 0) {
        close(ready[0]), close(go[1]);
        tmpf_file *f = tmpf_named_temporary_file(
            &(tmpf_opts){.dir = dir, .prefix = "app-", .flags = TMPF_LOCK});
        tmpf_dir *d = tmpf_temporary_directory(
            &(tmpf_opts){.dir = dir, .prefix = "app-", .flags = TMPF_LOCK});
        char c = f && d ? 'r' : 'e';
        if (write(ready[1], &c, 1) != 1)
            _exit(3);
        if (read(go[0], &c, 1) < 0)
            _exit(4);
        tmpf_file_cleanup(f);
        tmpf_dir_cleanup(d);
        _exit(0);
    }
    close(ready[1]), close(go[0]);
    char c = 0;
    CHECK(read(ready[0], &c, 1) == 1 && c == 'r');
    /* Another user's file of the same shape. */
    bool other_uid = geteuid() == 0;
    if (other_uid)
        CHECK_EQ_INT(run_as_nobody(nobody_file, dir), 0);
    CHECK_EQ_INT(tmpf_sweep(&(tmpf_opts){.dir = dir, .prefix = "app-"}, 0), 6);
    CHECK_EQ_INT(count_entries(dir), 2 + (other_uid ? 1 : 0));
    if (other_uid)
        CHECK(path_exists(path_join(dir, "app-nobody00")));
    CHECK(write(go[1], "g", 1) == 1);
    int st;
    CHECK(waitpid(sib, &st, 0) == sib && WIFEXITED(st) && WEXITSTATUS(st) == 0);
    close(ready[0]), close(go[1]);
    CHECK_EQ_INT(count_entries(dir), other_uid ? 1 : 0);
}

/* ---- scenarios: a child dies ------------------------------------------- */

enum how { BY_GUARD, BY_SIGNALS, BY_APP_HANDLER };

static atomic_bool writer_running;
static const char *writer_target;

static void *atomic_writer(void *arg)
{
    (void)arg;
    char buf[1024] = {0};
    for (;;) {
        tmpf_write_atomic(writer_target, buf, sizeof buf, 0);
        atomic_store(&writer_running, true);
    }
    return NULL;
}

static void app_handler(int sig)
{
    (void)sig;
    int n = tmpf_emergency_cleanup();
    _exit(n > 0 ? 42 : 43);
}

/* The child of a scenario: temporaries of every kind, then "ready" on
 * fd, then waits to be killed. */
static _Noreturn void scenario_child(const char *work, const char *canary,
                                     enum how how, int fd)
{
    if (how == BY_GUARD && tmpf_crash_guard() != 0)
        _exit(20);
    if (how == BY_SIGNALS && tmpf_cleanup_on_signals(NULL, 0) != 0)
        _exit(21);
    if (how == BY_APP_HANDLER)
        signal(SIGTERM, app_handler);
    struct made m;
    if (make_every_kind(work, canary, &m, N_EACH, 0) < 0)
        _exit(22);
    if (how == BY_GUARD) {
        /* A write_atomic in progress when the process dies. */
        static char target[4096];
        snprintf(target, sizeof target, "%s/target", work);
        writer_target = target;
        pthread_t t;
        if (pthread_create(&t, NULL, atomic_writer, NULL) != 0)
            _exit(23);
        while (!atomic_load(&writer_running))
            ;
    }
    if (write(fd, "r", 1) != 1)
        _exit(24);
    for (;;)
        pause();
}

static bool wait_until_clean(const char *work, int seconds)
{
    for (int i = 0; i < seconds * 100; i++) {
        if (survivors(work) == 0)
            return true;
        struct timespec ts = {0, 10000000};
        nanosleep(&ts, NULL);
    }
    return false;
}

static void scenario(enum how how, int sig)
{
    char canary[4096], work[4096];
    make_canary(canary);
    snprintf(work, sizeof work, "%s/w", scratch);
    mkdir_p(work, 0700);
    int p[2];
    CHECK(pipe(p) == 0);
    fflush(NULL);
    pid_t pid = fork();
    if (pid == 0) {
        close(p[0]);
        scenario_child(work, canary, how, p[1]);
    }
    close(p[1]);
    char c = 0;
    CHECK(read(p[0], &c, 1) == 1 && c == 'r');
    close(p[0]);
    CHECK(survivors(work) > 0);
    CHECK(kill(pid, sig) == 0);
    int st;
    CHECK(waitpid(pid, &st, 0) == pid);
    if (how == BY_APP_HANDLER)
        CHECK(WIFEXITED(st) && WEXITSTATUS(st) == 42);
    else
        CHECK(WIFSIGNALED(st) && WTERMSIG(st) == sig);
    /* The guard acts after the death; the handlers before it. */
    if (how == BY_GUARD)
        CHECK(wait_until_clean(work, 10));
    CHECK_EQ_INT(survivors(work), 0);
    if (survivors(work)) {
        fflush(NULL);
        char cmd[8300];
        snprintf(cmd, sizeof cmd, "ls -la %s >&2", work);
        if (system(cmd)) {}
    }
    CHECK_EQ_INT(count_prefix(work, "keep"), 5);
    CHECK(canary_intact(canary));
    rm_kept(work);
}

static void test_scenario_sigkill_guard(void) { scenario(BY_GUARD, SIGKILL); }
static void test_scenario_sigterm_handlers(void) { scenario(BY_SIGNALS, SIGTERM); }
static void test_scenario_sigint_handlers(void) { scenario(BY_SIGNALS, SIGINT); }
static void test_scenario_app_handler(void) { scenario(BY_APP_HANDLER, SIGTERM); }

/* A chained application handler still runs (after the cleanup). Only
 * async-signal-safe calls in it (ThreadSanitizer checks). */
static char chained_path[4096];

static void chained(int sig)
{
    (void)sig;
    _exit(access(chained_path, F_OK) != 0 ? 50 : 51);
}

static int chain_child(void *arg)
{
    (void)arg;
    signal(SIGUSR1, chained);
    int sigs[] = {SIGUSR1};
    tmpf_file *f = tmpf_named_temporary_file(&(tmpf_opts){.dir = scratch, .prefix = "n"});
    if (tmpf_cleanup_on_signals(sigs, 1) != 0 || !f)
        return 1;
    snprintf(chained_path, sizeof chained_path, "%s", tmpf_file_path(f));
    raise(SIGUSR1);
    return 2;
}

static void test_signals_chain_to_application(void)
{
    CHECK_EQ_INT(run_in_child(chain_child, NULL), 50);
    CHECK_EQ_INT(count_entries(scratch), 0);
}

/* A name reused after the death by an unrelated file or directory (a
 * different inode) survives the guard. */
static void test_guard_spares_reused_names(void)
{
    int p[2];
    CHECK(pipe(p) == 0);
    char fpath[4096], dpath[4096];
    fflush(NULL);
    pid_t pid = fork();
    if (pid == 0) {
        close(p[0]);
        if (tmpf_crash_guard() != 0)
            _exit(20);
        tmpf_file *f = tmpf_named_temporary_file(&(tmpf_opts){.dir = scratch});
        tmpf_dir *d = tmpf_temporary_directory(&(tmpf_opts){.dir = scratch, .flags = TMPF_LOCK});
        tmpf_file *gone = tmpf_named_temporary_file(&(tmpf_opts){.dir = scratch});
        if (!f || !d || !gone)
            _exit(21);
        /* Behind the library's back: the names now belong to others
         * (the old inodes stay open, so the new ones differ). */
        if (unlink(tmpf_file_path(f)) || write_file(tmpf_file_path(f), "other", 0600) ||
            rmdir(tmpf_dir_path(d)) || mkdir(tmpf_dir_path(d), 0700))
            _exit(22);
        char msg[8192];
        snprintf(msg, sizeof msg, "%s\n%s\n", tmpf_file_path(f), tmpf_dir_path(d));
        if (write(p[1], msg, strlen(msg)) <= 0)
            _exit(23);
        for (;;)
            pause();
    }
    close(p[1]);
    char buf[8192] = {0};
    ssize_t n = 0, got;
    int lines = 0;
    while (lines < 2 && (got = read(p[0], buf + n, sizeof buf - 1 - (size_t)n)) > 0) {
        for (ssize_t i = n; i < n + got; i++)
            lines += buf[i] == '\n';
        n += got;
    }
    close(p[0]);
    CHECK(sscanf(buf, "%4095s %4095s", fpath, dpath) == 2);
    CHECK(kill(pid, SIGKILL) == 0);
    int st;
    CHECK(waitpid(pid, &st, 0) == pid);
    /* The third one ("gone") is removed by the guard; the reused names
     * stay. */
    for (int i = 0; i < 1000 && count_entries(scratch) != 2; i++) {
        struct timespec ts = {0, 10000000};
        nanosleep(&ts, NULL);
    }
    CHECK_EQ_INT(count_entries(scratch), 2);
    CHECK(path_exists(fpath));
    CHECK(path_exists(dpath));
}

/* A forked child that creates temporaries gets a guard of its own: its
 * SIGKILL removes its temporaries while the parent's stay; then the
 * parent's death removes the parent's. Every pipe descriptor the guard
 * left in the process is close-on-exec (an exec'd program carries none). */
static void sleep_10ms(void)
{
    struct timespec ts = {0, 10000000};
    nanosleep(&ts, NULL);
}

/* Pipe descriptors without FD_CLOEXEC (-1: no /proc to look at). */
static int pipes_inherited_by_exec(void)
{
    DIR *d = opendir("/proc/self/fd");
    if (!d)
        return -1;
    int bad = 0;
    struct dirent *e;
    while ((e = readdir(d))) {
        char link[64], target[64];
        snprintf(link, sizeof link, "/proc/self/fd/%s", e->d_name);
        ssize_t n = readlink(link, target, sizeof target - 1);
        if (n <= 0)
            continue;
        target[n] = '\0';
        int fd = atoi(e->d_name);
        if (!strncmp(target, "pipe:", 5) && fd != dirfd(d) &&
            !(fcntl(fd, F_GETFD) & FD_CLOEXEC))
            bad++;
    }
    closedir(d);
    return bad;
}

static void test_guard_forked_child_and_exec(void)
{
    int p[2];
    CHECK(pipe(p) == 0);
    fflush(NULL);
    pid_t parent = fork();
    if (parent == 0) {
        close(p[0]);
        int before = pipes_inherited_by_exec();
        if (tmpf_crash_guard() != 0)
            _exit(20);
        if (pipes_inherited_by_exec() != before)
            _exit(21);
        tmpf_file *mine = tmpf_named_temporary_file(&(tmpf_opts){.dir = scratch, .prefix = "p"});
        if (!mine)
            _exit(22);
        pid_t child = fork();
        if (child == 0) {
            if (!tmpf_named_temporary_file(&(tmpf_opts){.dir = scratch, .prefix = "c"}))
                _exit(23);
            if (write(p[1], "c", 1) != 1)
                _exit(24);
            for (;;)
                pause();
        }
        char msg[32];
        snprintf(msg, sizeof msg, "%d\n", (int)child);
        if (write(p[1], msg, strlen(msg)) <= 0)
            _exit(25);
        for (;;)
            pause();
    }
    close(p[1]);
    char buf[64] = {0};
    size_t n = 0;
    while (n < sizeof buf - 1 && !(strchr(buf, '\n') && strchr(buf, 'c'))) {
        ssize_t got = read(p[0], buf + n, sizeof buf - 1 - n);
        if (got <= 0)
            break;
        n += (size_t)got;
    }
    close(p[0]);
    /* "c" (the child is ready) and "PID\n", in either order. */
    pid_t child = (pid_t)atoi(buf + strspn(buf, "c"));
    if (child <= 0 || !strchr(buf, 'c')) {
        int st = 0;
        kill(parent, SIGKILL);
        waitpid(parent, &st, 0);
        FAIL_AT("no child pid and ready mark: \"%s\" (parent status %#x)", buf, st);
        return;
    }
    CHECK(count_prefix(scratch, "c") == 1 && count_prefix(scratch, "p") == 1);
    CHECK(kill(child, SIGKILL) == 0);
    for (int i = 0; i < 1000 && count_prefix(scratch, "c") != 0; i++)
        sleep_10ms();
    CHECK_EQ_INT(count_prefix(scratch, "c"), 0);
    CHECK_EQ_INT(count_prefix(scratch, "p"), 1); /* the parent lives */
    CHECK(kill(parent, SIGKILL) == 0);
    int st;
    CHECK(waitpid(parent, &st, 0) == parent && WIFSIGNALED(st));
    for (int i = 0; i < 1000 && count_prefix(scratch, "p") != 0; i++)
        sleep_10ms();
    CHECK_EQ_INT(count_prefix(scratch, "p"), 0);
}

/* Both the process and its guard killed (a process-group kill): the guard
 * cannot act; sweep does. */
static void test_process_group_kill_swept(void)
{
    char dir[4096];
    snprintf(dir, sizeof dir, "%s/pg", scratch);
    mkdir_p(dir, 0700);
    int p[2];
    CHECK(pipe(p) == 0);
    fflush(NULL);
    pid_t pid = fork();
    if (pid == 0) {
        close(p[0]);
        if (setpgid(0, 0) != 0 || tmpf_crash_guard() != 0)
            _exit(20);
        for (int i = 0; i < 10; i++)
            if (!tmpf_named_temporary_file(&(tmpf_opts){.dir = dir, .prefix = "job-"}))
                _exit(21);
        tmpf_dir *d = tmpf_temporary_directory(&(tmpf_opts){.dir = dir, .prefix = "job-"});
        if (!d || mkdir(path_join(tmpf_dir_path(d), "x"), 0700))
            _exit(22);
        if (write(p[1], "r", 1) != 1)
            _exit(23);
        for (;;)
            pause();
    }
    close(p[1]);
    char c;
    CHECK(read(p[0], &c, 1) == 1);
    close(p[0]);
    CHECK(kill(-pid, SIGKILL) == 0);
    int st;
    CHECK(waitpid(pid, &st, 0) == pid && WIFSIGNALED(st));
    /* Whatever the guard managed, sweep finishes the job. */
    CHECK(tmpf_sweep(&(tmpf_opts){.dir = dir, .prefix = "job-"}, 0) >= 0);
    CHECK_EQ_INT(count_entries(dir), 0);
}

static const struct test tests[] = {
    TEST(test_emergency_removes_every_kind),
    TEST(test_emergency_without_allocations),
    TEST(test_emergency_spares_a_replaced_name),
    TEST(test_emergency_reentry),
    TEST(test_emergency_while_threads_create),
    TEST(test_fork_child_registry),
    TEST(test_lock_flag),
    TEST(test_lock_env_inner),
    TEST(test_lock_from_environment),
    TEST(test_guard_env_inner),
    TEST(test_guard_from_environment),
    TEST(test_sweep_arguments),
    TEST(test_sweep_shape_age_symlink),
    TEST(test_sweep_dead_child_only),
    TEST(test_scenario_sigkill_guard),
    TEST(test_scenario_sigterm_handlers),
    TEST(test_scenario_sigint_handlers),
    TEST(test_scenario_app_handler),
    TEST(test_signals_chain_to_application),
    TEST(test_guard_spares_reused_names),
    TEST(test_guard_forked_child_and_exec),
    TEST(test_process_group_kill_swept),
};
TEST_MAIN(tests)
