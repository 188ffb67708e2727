/* Choosing the temporary directory: tmpf_gettempdir, tmpf_settempdir,
 * tmpf_gettempprefix. tmpf_settempdir(NULL) forgets the choice, so each
 * test sets the environment and lets the library choose again; each test
 * restores the environment and the choice at its end. */
#include "harness.h"
#include "no_o_tmpfile.h"
#include <pthread.h>
#include <sched.h>
#include <stdatomic.h>
#ifndef _WIN32
#include <sys/mount.h>
#endif
#include <tmpf.h>

static const char *const env_names[] = {"TMPDIR", "TEMP", "TMP"};

struct env_backup {
    char *value[3];
};

static void env_save(struct env_backup *b)
{
    for (int k = 0; k < 3; k++) {
        const char *v = getenv(env_names[k]);
        b->value[k] = v ? strdup(v) : NULL;
    }
}

static void env_restore(struct env_backup *b)
{
    for (int k = 0; k < 3; k++) {
        if (b->value[k])
            setenv(env_names[k], b->value[k], 1);
        else
            unsetenv(env_names[k]);
        free(b->value[k]);
    }
    tmpf_settempdir(NULL);
}

/* TMPDIR, TEMP, TMP; NULL unsets. Then forget the choice. */
static void env_set(const char *tmpdir, const char *temp, const char *tmp)
{
    const char *v[3] = {tmpdir, temp, tmp};
    for (int k = 0; k < 3; k++) {
        if (v[k])
            setenv(env_names[k], v[k], 1);
        else
            unsetenv(env_names[k]);
    }
    tmpf_settempdir(NULL);
}

static const char *make_dir(const char *name, mode_t mode)
{
    const char *p = path_join(scratch, name);
    CHECK(mkdir(p, 0700) == 0 && chmod(p, mode) == 0);
    return p;
}

static void test_prefix_is_tmp(void) { CHECK_EQ_STR(tmpf_gettempprefix(), "tmp"); }

static void test_usable_tmpdir_wins(void)
{
    struct env_backup b;
    env_save(&b);
    const char *a = make_dir("a", 0700);
    const char *c = make_dir("c", 0700);
    env_set(a, c, c);
    CHECK_EQ_STR(tmpf_gettempdir(), a);
    /* Chosen once: changing the environment alone changes nothing. */
    setenv("TMPDIR", c, 1);
    CHECK_EQ_STR(tmpf_gettempdir(), a);
    /* Forgetting makes the library look again. */
    tmpf_settempdir(NULL);
    CHECK_EQ_STR(tmpf_gettempdir(), c);
    /* The default dir of the creators is the chosen one. */
    char *d = tmpf_mkdtemp(NULL);
    CHECK(d && strncmp(d, c, strlen(c)) == 0 && is_sep(d[strlen(c)]));
    if (d)
        rmdir(d);
    free(d);
    env_restore(&b);
}

/* A missing TMPDIR, a TEMP that is a regular file and an empty TMP are
 * passed over; then /tmp. */
static void test_missing_and_file_skipped(void)
{
    struct env_backup b;
    env_save(&b);
    const char *good = make_dir("good", 0700);
    const char *file = path_join(scratch, "file");
    CHECK(write_file(file, "x", 0600) == 0);
    const char *missing = path_join(scratch, "missing");

    env_set(missing, file, good);
    CHECK_EQ_STR(tmpf_gettempdir(), good);
    env_set(file, missing, good);
    CHECK_EQ_STR(tmpf_gettempdir(), good);
    env_set("", good, NULL);
    CHECK_EQ_STR(tmpf_gettempdir(), good);
    env_set(missing, file, path_join(file, "sub"));
#ifndef _WIN32
    CHECK_EQ_STR(tmpf_gettempdir(), "/tmp");
#else /* the system's temporary directory (GetTempPathW's list) */
    CHECK(tmpf_gettempdir() != NULL);
#endif
    CHECK(!path_exists(missing));
    CHECK_EQ_INT(count_entries(scratch), 2);
    env_restore(&b);
}

/* As nobody: a 0555 TMPDIR cannot take a file and is skipped (as root the
 * same dir is writable, the control). */
static int unwritable_as_nobody(void *arg)
{
    const char *const *dirs = arg; /* ro, ok */
    int bad = 0;
    env_set(dirs[0], dirs[1], NULL);
    const char *got = tmpf_gettempdir();
    if (!got || strcmp(got, dirs[1]) != 0)
        bad |= 1;
    env_set(dirs[0], NULL, NULL);
    got = tmpf_gettempdir();
    if (!got || strcmp(got, "/tmp") != 0)
        bad |= 2;
    return bad;
}

static void test_unwritable_tmpdir_skipped(void)
{
    struct env_backup b;
    env_save(&b);
    const char *ro = make_dir("ro", 0555);
    const char *ok = make_dir("ok", 01777);
    const char *dirs[2] = {ro, ok};
    CHECK_EQ_INT(run_as_nobody(unwritable_as_nobody, (void *)dirs), 0);
    env_set(ro, ok, NULL);
    CHECK_EQ_STR(tmpf_gettempdir(), ro);
    CHECK_EQ_INT(count_entries(ro), 0);
    CHECK_EQ_INT(count_entries(ok), 0);
    env_restore(&b);
}

static void test_relative_tmpdir_made_absolute(void)
{
    struct env_backup b;
    env_save(&b);
    char old[4096], here[4096], want[4200];
    CHECK(getcwd(old, sizeof old) != NULL);
    /* scratch (0777, no sticky bit) would not pass the vetting */
    CHECK(chdir(make_dir("cwd", 0700)) == 0 && getcwd(here, sizeof here) != NULL);
    CHECK(mkdir("rel", 0700) == 0);
    snprintf(want, sizeof want, "%s" HARNESS_SEP_STR "rel", here);
    env_set("rel/../rel/.", NULL, NULL);
    CHECK_EQ_STR(tmpf_gettempdir(), want);
    env_set(".", NULL, NULL);
    CHECK_EQ_STR(tmpf_gettempdir(), here);
    CHECK(chdir(old) == 0);
    /* Still that directory after the cwd changed: it was made absolute. */
    CHECK_EQ_STR(tmpf_gettempdir(), here);
    env_restore(&b);
}

/* The probe creates, writes and removes a file: nothing is left behind,
 * neither in the chosen dir nor in the ones skipped. */
static void test_probe_leaves_nothing(void)
{
    struct env_backup b;
    env_save(&b);
    const char *a = make_dir("a", 0700);
    CHECK(write_file(path_join(a, "existing"), "x", 0600) == 0);
    CHECK_EQ_INT(count_entries(a), 1);
    for (int k = 0; k < 20; k++) {
        env_set(a, NULL, NULL);
        CHECK_EQ_STR(tmpf_gettempdir(), a);
    }
    CHECK_EQ_INT(count_entries(a), 1);
    env_restore(&b);
}

/* Without O_TMPFILE (a seccomp filter, in a child) the probe is a named
 * file, removed again: the choice is the same and nothing is left. */
static int named_probe_child(void *arg)
{
    const char *a = arg;
    if (!refuse_o_tmpfile())
        return 77;
    for (int k = 0; k < 5; k++) {
        env_set(a, NULL, NULL);
        tmpf_settempdir(NULL);
        const char *d = tmpf_gettempdir();
        if (!d || strcmp(d, a) != 0)
            return 1;
    }
    return count_entries(a) == 1 ? 0 : 2;
}

static void test_probe_without_o_tmpfile(void)
{
    struct env_backup b;
    env_save(&b);
    const char *a = make_dir("a", 0700);
    CHECK(write_file(path_join(a, "existing"), "x", 0600) == 0);
    int rc = run_in_child(named_probe_child, (void *)a);
    env_restore(&b);
    if (rc == 77)
        SKIP("cannot install a seccomp filter");
    CHECK_EQ_INT(rc, 0);
    CHECK_EQ_INT(count_entries(a), 1);
}

#ifndef _WIN32
/* A file system with no room: the probe's create fails and the dir is
 * skipped, and nothing is left (root: a full tiny tmpfs). */
static void test_full_tmpdir_skipped(void)
{
    struct env_backup b;
    env_save(&b);
    const char *mnt = make_dir("mnt", 0700);
    const char *ok = make_dir("ok", 0700);
    if (mount("tmpf-test", mnt, "tmpfs", 0, "size=4k,nr_inodes=2,mode=0700") != 0) {
        env_restore(&b);
        SKIP("cannot mount a tmpfs here: %s", strerror(errno));
    }
    int filled = 0;
    while (filled < 10 && write_file(path_join(mnt, filled ? "f1" : "f0"), "", 0600) == 0)
        filled++;
    int entries = count_entries(mnt);
    env_set(mnt, ok, NULL);
    CHECK_EQ_STR(tmpf_gettempdir(), ok);
    CHECK_EQ_INT(count_entries(mnt), entries);
    CHECK(umount(mnt) == 0);
    env_restore(&b);
}
#endif

static void test_settempdir_wins_and_null_restores(void)
{
    struct env_backup b;
    env_save(&b);
    const char *env = make_dir("env", 0700);
    const char *set = make_dir("set", 0700);
    env_set(env, NULL, NULL);
    const char *first = tmpf_gettempdir();
    CHECK_EQ_STR(first, env);
    CHECK(tmpf_settempdir(set) == 0);
    CHECK_EQ_STR(tmpf_gettempdir(), set);
    /* A string returned earlier stays valid after the choice changed. */
    CHECK_EQ_STR(first, env);
    char *d = tmpf_mkdtemp(NULL);
    CHECK(d && strncmp(d, set, strlen(set)) == 0);
    if (d)
        rmdir(d);
    free(d);
    /* Not probed: a dir that does not exist is taken as told, and the
     * creators then report its errno. */
    const char *missing = path_join(scratch, "missing");
    CHECK(tmpf_settempdir(missing) == 0);
    CHECK_EQ_STR(tmpf_gettempdir(), missing);
    CHECK_ERRNO(tmpf_mkstemp(NULL, NULL), -1, ENOENT);
    /* Relative: made absolute now. */
    char old[4096], want[4200];
    CHECK(getcwd(old, sizeof old) != NULL);
    CHECK(chdir(scratch) == 0);
    CHECK(tmpf_settempdir("./set/../set") == 0);
    CHECK(chdir(old) == 0);
    CHECK_EQ_STR(tmpf_gettempdir(), set);
    CHECK_ERRNO(tmpf_settempdir(""), -1, ENOENT);
    CHECK_EQ_STR(tmpf_gettempdir(), set);
    /* NULL: the environment's choice again. */
    CHECK(tmpf_settempdir(NULL) == 0);
    CHECK_EQ_STR(tmpf_gettempdir(), env);
    snprintf(want, sizeof want, "%s", env);
    CHECK_EQ_STR(first, want);
    env_restore(&b);
}

#define THREADS 8

struct racer {
    pthread_barrier_t *start;
    const char *got;
};

static void *racer_main(void *arg)
{
    struct racer *r = arg;
    pthread_barrier_wait(r->start);
    r->got = tmpf_gettempdir();
    return NULL;
}

/* The first calls race: one choice, one pointer for everybody. */
static void test_concurrent_first_calls(void)
{
    struct env_backup b;
    env_save(&b);
    const char *a = make_dir("a", 0700);
    for (int round = 0; round < 20; round++) {
        env_set(a, NULL, NULL);
        pthread_barrier_t start;
        pthread_barrier_init(&start, NULL, THREADS);
        struct racer r[THREADS];
        pthread_t th[THREADS];
        for (int k = 0; k < THREADS; k++) {
            r[k] = (struct racer){&start, NULL};
            CHECK(pthread_create(&th[k], NULL, racer_main, &r[k]) == 0);
        }
        for (int k = 0; k < THREADS; k++)
            pthread_join(th[k], NULL);
        pthread_barrier_destroy(&start);
        for (int k = 0; k < THREADS; k++) {
            CHECK(r[k].got != NULL);
            CHECK(r[k].got == r[0].got);
        }
        CHECK_EQ_STR(r[0].got, a);
    }
    CHECK_EQ_INT(count_entries(a), 0);
    env_restore(&b);
}

#ifndef _WIN32
static atomic_bool churn_stop;

static void *churn_main(void *arg)
{
    (void)arg;
    while (!atomic_load(&churn_stop)) {
        tmpf_settempdir(NULL);
        tmpf_gettempdir();
    }
    return NULL;
}

/* Forks while another thread keeps choosing (and so holds the library's
 * lock much of the time): every child must still be able to choose, not
 * hang on a lock its parent's other thread held at the fork. */
static void test_fork_while_choosing(void)
{
    struct env_backup b;
    env_save(&b);
    const char *a = make_dir("a", 0700);
    env_set(a, NULL, NULL);
    atomic_store(&churn_stop, false);
    pthread_t th;
    CHECK(pthread_create(&th, NULL, churn_main, NULL) == 0);
    int hung = 0, bad = 0;
    for (int k = 0; k < 50; k++) {
        fflush(NULL);
        pid_t pid = fork();
        if (pid == 0) {
            alarm(3);
            tmpf_settempdir(NULL);
            const char *d = tmpf_gettempdir();
            _exit(d && strcmp(d, a) == 0 ? 0 : 1);
        }
        int status = 0;
        CHECK(pid > 0 && waitpid(pid, &status, 0) == pid);
        if (WIFSIGNALED(status)) {
            hung++;
            break; /* one hang proves it; do not wait for 50 */
        } else if (!WIFEXITED(status) || WEXITSTATUS(status) != 0)
            bad++;
    }
    atomic_store(&churn_stop, true);
    pthread_join(th, NULL);
    CHECK_EQ_INT(hung, 0);
    CHECK_EQ_INT(bad, 0);
    CHECK_EQ_INT(count_entries(a), 0);
    env_restore(&b);
}
#endif

#ifndef _WIN32
/* No candidate works: NULL with ENOENT. A child in its own mount
 * namespace covers /tmp, /var/tmp, /usr/tmp and its cwd with read-only
 * mounts. */
static void test_no_candidate_enoent(void)
{
    fflush(NULL);
    pid_t pid = fork();
    if (pid == 0) {
        if (unshare(CLONE_NEWNS) != 0 ||
            mount("none", "/", "none", MS_REC | MS_PRIVATE, "") != 0)
            _exit(77);
        const char *ro[] = {"/tmp", "/var/tmp", "/usr/tmp", scratch};
        for (int k = 0; k < 4; k++) {
            struct stat st;
            if (stat(ro[k], &st) != 0)
                continue;
            if (mount("tmpf-ro", ro[k], "tmpfs", MS_RDONLY, "size=4k") != 0)
                _exit(77);
        }
        if (chdir(scratch) != 0)
            _exit(3);
        unsetenv("TEMP");
        unsetenv("TMP");
        setenv("TMPDIR", "/proc", 1);
        tmpf_settempdir(NULL);
        errno = 0;
        const char *d = tmpf_gettempdir();
        _exit(d == NULL && errno == ENOENT ? 0 : 1);
    }
    int status = -1;
    CHECK(pid > 0 && waitpid(pid, &status, 0) == pid && WIFEXITED(status));
    if (WEXITSTATUS(status) == 77)
        SKIP("no mount namespace here");
    CHECK_EQ_INT(WEXITSTATUS(status), 0);
}

/* Runs prog with one argument, stdout captured into out. Exit status or -1. */
static int run_capture(const char *prog, const char *arg, char *out, size_t n)
{
    int fds[2];
    if (pipe2(fds, O_CLOEXEC) != 0)
        return -1;
    fflush(NULL);
    pid_t pid = fork();
    if (pid == 0) {
        dup2(fds[1], 1);
        execl(prog, prog, arg, (char *)NULL);
        _exit(127);
    }
    close(fds[1]);
    size_t got = 0;
    ssize_t r;
    while (got + 1 < n && (r = read(fds[0], out + got, n - 1 - got)) > 0)
        got += (size_t)r;
    out[got] = '\0';
    close(fds[0]);
    int status;
    if (pid < 0 || waitpid(pid, &status, 0) != pid || !WIFEXITED(status))
        return -1;
    return WEXITSTATUS(status);
}

struct suid_case {
    const char *prog, *envdir;
};

/* As nobody, with TMPDIR, then TEMP, then TMP set: the setuid copy must
 * ignore each, the plain copy (control) must use each. (glibc's loader
 * drops TMPDIR itself for setuid programs; TEMP and TMP reach us.) */
static int env_as_nobody(const struct suid_case *c, bool ignored)
{
    for (int k = 0; k < 3; k++) {
        char out[4096];
        for (int j = 0; j < 3; j++)
            unsetenv(env_names[j]);
        setenv(env_names[k], c->envdir, 1);
        if (run_capture(c->prog, "--print-tempdir", out, sizeof out) != 0)
            return 1;
        if (strcmp(out, ignored ? "/tmp" : c->envdir) != 0)
            return 2 + k;
    }
    return 0;
}

static int suid_as_nobody(void *arg) { return env_as_nobody(arg, true); }
static int plain_as_nobody(void *arg) { return env_as_nobody(arg, false); }

static int copy_file(const char *from, const char *to, mode_t mode)
{
    int in = open(from, O_RDONLY | O_CLOEXEC);
    int out = open(to, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0700);
    int rc = in >= 0 && out >= 0 ? 0 : -1;
    char buf[65536];
    ssize_t r;
    while (rc == 0 && (r = read(in, buf, sizeof buf)) > 0)
        if (write(out, buf, (size_t)r) != r)
            rc = -1;
    if (in >= 0)
        close(in);
    if (out >= 0)
        close(out);
    return rc == 0 ? chmod(to, mode) : -1;
}

/* secure_getenv semantics: a setuid process ignores TMPDIR. */
static void test_setuid_ignores_environment(void)
{
    const char *envdir = make_dir("envdir", 01777);
    const char *suid = path_join(scratch, "suid");
    const char *plain = path_join(scratch, "plain");
    CHECK(copy_file("/proc/self/exe", suid, 04755) == 0);
    CHECK(copy_file("/proc/self/exe", plain, 0755) == 0);
    struct stat st;
    CHECK(stat(suid, &st) == 0);
    if (!(st.st_mode & S_ISUID) || st.st_uid != 0)
        SKIP("cannot make a setuid-root copy here");
    struct suid_case c = {plain, envdir};
    CHECK_EQ_INT(run_as_nobody(plain_as_nobody, &c), 0);
    c.prog = suid;
    int rc = run_as_nobody(suid_as_nobody, &c);
    if (rc == 1)
        SKIP("setuid copy did not run (nosuid mount or sanitizer?)");
    CHECK_EQ_INT(rc, 0);
    CHECK_EQ_INT(count_entries(envdir), 0);
}


/* ---- vetting: who else could rename or remove what tmpf creates there -- */

struct seen {
    int n;
    char path[8][4200];
    int error[8];
};

static void skipped_hook(const tmpf_event *ev, void *ctx)
{
    struct seen *s = ctx;
    if (ev->type != TMPF_EVENT_TEMPDIR_SKIPPED || s->n >= 8)
        return;
    if (!ev->reason || !*ev->reason || ev->kind != TMPF_KIND_DIRECTORY ||
        ev->object != NULL)
        s->error[s->n] = -1;
    else
        s->error[s->n] = ev->error;
    snprintf(s->path[s->n], sizeof s->path[0], "%s", ev->path);
    s->n++;
}

/* The choice among TMPDIR, TEMP and TMP, and the events for those passed
 * over. */
static const char *choose_with_events(const char *a, const char *b, const char *c,
                                      struct seen *s)
{
    memset(s, 0, sizeof *s);
    env_set(a, b, c);
    tmpf_set_event_hook(skipped_hook, s);
    const char *got = tmpf_gettempdir();
    tmpf_set_event_hook(NULL, NULL);
    return got;
}

/* As root: mode rules (world- or group-writable without the sticky bit is
 * passed over; with it, or not writable by others, is taken) and the
 * owner rule (a directory of uid 65534 is passed over by root). */
static void test_vetting_modes_and_owner(void)
{
    struct env_backup b;
    env_save(&b);
    /* copies: path_join's buffers rotate */
    char *world = strdup(make_dir("world", 0777));
    char *group = strdup(make_dir("group", 0770));
    char *sticky = strdup(make_dir("sticky", 01777));
    char *gsticky = strdup(make_dir("gsticky", 01770));
    char *own = strdup(make_dir("own", 0755));
    char *foreign = strdup(make_dir("foreign", 0700));
    CHECK_EQ_INT(chown(foreign, 65534, 65534), 0);
    struct seen s;
    CHECK_EQ_STR(choose_with_events(world, group, sticky, &s), sticky);
    CHECK_EQ_INT(s.n, 2);
    CHECK_EQ_STR(s.path[0], world);
    CHECK_EQ_STR(s.path[1], group);
    CHECK_EQ_INT(s.error[0], EPERM);
    CHECK_EQ_INT(s.error[1], EPERM);
    CHECK_EQ_STR(choose_with_events(gsticky, NULL, NULL, &s), gsticky);
    CHECK_EQ_INT(s.n, 0);
    CHECK_EQ_STR(choose_with_events(foreign, own, NULL, &s), own);
    CHECK_EQ_INT(s.n, 1);
    CHECK_EQ_STR(s.path[0], foreign);
    CHECK_EQ_INT(s.error[0], EPERM);
    /* Other reasons are events too: missing, a file, with their errno. */
    CHECK(write_file(path_join(scratch, "file"), "x", 0600) == 0);
    CHECK_EQ_STR(choose_with_events(path_join(scratch, "missing"),
                                    path_join(scratch, "file"), own, &s),
                 own);
    CHECK_EQ_INT(s.n, 2);
    CHECK_EQ_INT(s.error[0], ENOENT);
    CHECK_EQ_INT(s.error[1], ENOTDIR);
    /* An explicit choice is the caller's: neither settempdir nor dir= is
     * vetted. */
    CHECK_EQ_INT(tmpf_settempdir(world), 0);
    CHECK_EQ_STR(tmpf_gettempdir(), world);
    char *p = tmpf_mkdtemp(&(tmpf_opts){.dir = group});
    CHECK(p != NULL);
    if (p)
        rmdir(p);
    free(p);
    /* Probes leave nothing in any of them. */
    char *all[] = {world, group, sticky, gsticky, own, foreign};
    for (size_t i = 0; i < sizeof all / sizeof *all; i++) {
        CHECK_EQ_INT(count_entries(all[i]), 0);
        free(all[i]);
    }
    env_restore(&b);
}

/* As nobody: root's directories are fine (root can rename anything
 * anyway), so are its own; one of another user (65533) is passed over even
 * when nobody could write to it. */
static int owners_as_nobody(void *arg)
{
    const char *const *d = arg; /* root's sticky, 65533's sticky, nobody's */
    struct seen s;
    const char *got = choose_with_events(d[1], d[0], NULL, &s);
    if (!got || strcmp(got, d[0]) != 0 || s.n != 1 || strcmp(s.path[0], d[1]) != 0 ||
        s.error[0] != EPERM)
        return 1;
    char mine[4200];
    snprintf(mine, sizeof mine, "%s/mine", d[2]);
    if (mkdir(mine, 0700) != 0)
        return 2;
    got = choose_with_events(d[1], mine, NULL, &s);
    if (!got || strcmp(got, mine) != 0 || s.n != 1)
        return 3;
    return rmdir(mine) == 0 ? 0 : 4;
}

static void test_vetting_owner_as_nobody(void)
{
    struct env_backup b;
    env_save(&b);
    const char *roots = make_dir("roots", 01777);
    const char *others = make_dir("others", 01777);
    CHECK_EQ_INT(chown(others, 65533, 65533), 0);
    const char *d[3] = {roots, others, scratch};
    CHECK_EQ_INT(run_as_nobody(owners_as_nobody, (void *)d), 0);
    CHECK_EQ_INT(count_entries(roots), 0);
    CHECK_EQ_INT(count_entries(others), 0);
    env_restore(&b);
}
#endif

#ifndef _WIN32
/* A TMPDIR so long that no name fits (4085 bytes: the directory opens, an
 * unnamed file can be made in it, but dir/tmpXXXXXXXX is 4097 bytes with
 * its NUL) is passed over with ENAMETOOLONG, as Python's named probe does;
 * nothing is left in it. */
static void test_long_tmpdir_skipped(void)
{
    struct env_backup b;
    env_save(&b);
    char longdir[4200];
    size_t len = (size_t)snprintf(longdir, sizeof longdir, "%s", scratch);
    while (len < 4085) {
        size_t part = 4085 - len - 1;
        if (part > 200)
            part = 200;
        if (4085 - len - 1 - part > 0 && 4085 - len - 1 - part < 12)
            part -= 12; /* leave room for a last component of 10+ bytes */
        longdir[len++] = '/';
        memset(longdir + len, 'd', part);
        len += part;
        longdir[len] = '\0';
        CHECK_EQ_INT(mkdir(longdir, 0700), 0);
    }
    CHECK_EQ_INT(strlen(longdir), 4085);
    const char *ok = make_dir("ok", 0700);
    struct seen s;
    CHECK_EQ_STR(choose_with_events(longdir, ok, NULL, &s), ok);
    CHECK_EQ_INT(s.n, 1);
    CHECK_EQ_INT(s.error[0], ENAMETOOLONG);
    CHECK_EQ_INT(count_entries(longdir), 0);
    /* Two bytes shorter (dir/tmpXXXXXXXX is 4095 bytes), the name fits:
     * taken. */
    env_restore(&b);
    env_save(&b);
    longdir[4083] = '\0';
    CHECK_EQ_INT(mkdir(longdir, 0700), 0);
    CHECK_EQ_STR(choose_with_events(longdir, ok, NULL, &s), longdir);
    CHECK_EQ_INT(count_entries(longdir), 0);
    env_restore(&b);
}
#endif

static const struct test tests[] = {
    TEST(test_prefix_is_tmp),
    TEST(test_usable_tmpdir_wins),
    TEST(test_missing_and_file_skipped),
    TEST(test_unwritable_tmpdir_skipped),
    TEST(test_relative_tmpdir_made_absolute),
    TEST(test_probe_leaves_nothing),
    TEST(test_probe_without_o_tmpfile),
    TEST_POSIX(test_full_tmpdir_skipped, "a mounted tmpfs"),
    TEST(test_settempdir_wins_and_null_restores),
    TEST(test_concurrent_first_calls),
    TEST_POSIX(test_fork_while_choosing, "fork"),
    TEST_POSIX(test_no_candidate_enoent, "unshare(CLONE_NEWNS) and read-only mounts over /tmp, /var/tmp, /usr/tmp"),
    TEST_POSIX(test_setuid_ignores_environment, "a setuid copy run as uid 65534"),
    TEST_POSIX(test_vetting_modes_and_owner, "POSIX modes and owners (owners are not checked on Windows yet: docs/windows-status.md gap 2)"),
    TEST_POSIX(test_vetting_owner_as_nobody, "uid 65534"),
    TEST_POSIX(test_long_tmpdir_skipped, "a 4085-byte TMPDIR: PATH_MAX is a POSIX limit (Windows paths run to 32767 characters, the C runtime stops at MAX_PATH)"),
};

int main(int argc, char **argv)
{
    /* Helper mode for the setuid test. */
    if (argc == 2 && strcmp(argv[1], "--print-tempdir") == 0) {
        const char *d = tmpf_gettempdir();
        fputs(d ? d : "(null)", stdout);
        return 0;
    }
    return run_tests(tests, sizeof tests / sizeof tests[0], argc, argv);
}
