/*
 * The operations the fault-injection tests (test_faults_alloc.c,
 * test_faults_syscall.c) run, and the checks made after each injected
 * failure. Included by exactly those two tests.
 */
#ifndef TMPF_FAULT_OPS_H
#define TMPF_FAULT_OPS_H

#include "harness.h"
#include "tmpf_features.h"

#include <tmpf.h>

static long fault_skipped;
/* Where tmpf_leak_report writes at exit (main opens /dev/null). */
static FILE *report_sink;

struct ctx {
    char dir[4096]; /* where the operation works (a subdir of scratch) */
    tmpf_opts o;
    tmpf_scope *scope;
    tmpf_file *f;
    tmpf_dir *d;
    char *path;
    int fd;
    FILE *stream;
    char target[4096];
};

struct op {
    const char *name;
    void (*setup)(struct ctx *); /* may be NULL */
    int (*run)(struct ctx *);    /* 0 success, -1 failure with errno */
    void (*undo)(struct ctx *);  /* cleans what a successful run made */
};

static uint64_t live_total(void)
{
    tmpf_stats st;
    uint64_t n = 0;
    if (tmpf_get_stats(&st) != 0)
        return (uint64_t)-1;
    for (int k = 0; k < TMPF_KIND_COUNT; k++)
        n += st.live[k];
    return n;
}

/* ---- operations ------------------------------------------------------- */

static void base_setup(struct ctx *c) { c->o.dir = c->dir; }
static void scope_setup(struct ctx *c)
{
    base_setup(c);
    c->scope = tmpf_scope_new(0);
    c->o.scope = c->scope;
}
static void atexit_setup(struct ctx *c)
{
    base_setup(c);
    c->o.flags = TMPF_AT_EXIT;
}

static int run_mkstemp(struct ctx *c)
{
    c->fd = tmpf_mkstemp(&c->o, &c->path);
    return c->fd < 0 ? -1 : 0;
}
static void undo_mkstemp(struct ctx *c)
{
    if (!c->scope)
        unlink(c->path);
    close(c->fd);
    free(c->path);
}
static int run_mkdtemp(struct ctx *c)
{
    c->path = tmpf_mkdtemp(&c->o);
    return c->path ? 0 : -1;
}
static void undo_mkdtemp(struct ctx *c)
{
    if (!c->scope)
        rmdir(c->path);
    free(c->path);
}
static int run_mktemp(struct ctx *c)
{
    c->path = tmpf_mktemp(&c->o);
    return c->path ? 0 : -1;
}
static void undo_free_path(struct ctx *c) { free(c->path); }
static int run_anon(struct ctx *c)
{
    c->f = tmpf_temporary_file(&c->o);
    return c->f ? 0 : -1;
}
static int run_named(struct ctx *c)
{
    c->f = tmpf_named_temporary_file(&c->o);
    return c->f ? 0 : -1;
}
static int run_spooled(struct ctx *c)
{
    c->o.max_size = 64;
    c->f = tmpf_spooled_temporary_file(&c->o);
    return c->f ? 0 : -1;
}
static void undo_file(struct ctx *c) { tmpf_file_cleanup(c->f); c->f = NULL; }
static int run_tdir(struct ctx *c)
{
    c->d = tmpf_temporary_directory(&c->o);
    return c->d ? 0 : -1;
}
static void undo_dir(struct ctx *c) { tmpf_dir_cleanup(c->d); c->d = NULL; }

/* Operations on an existing object: setup makes it, undo frees it. */
static void spooled_setup(struct ctx *c)
{
    base_setup(c);
    c->o.max_size = 1 << 20;
    c->f = tmpf_spooled_temporary_file(&c->o);
}
static void spooled_small_setup(struct ctx *c)
{
    base_setup(c);
    c->o.max_size = 100;
    c->f = tmpf_spooled_temporary_file(&c->o);
    if (c->f)
        tmpf_file_write(c->f, "0123456789", 10);
}
static void spooled_small_setup_rolled(struct ctx *c)
{
    spooled_small_setup(c);
    if (c->f)
        tmpf_file_rollover(c->f);
}
static int run_spool_write(struct ctx *c)
{
    static char big[100000];
    memset(big, 'x', sizeof big);
    ssize_t w = tmpf_file_write(c->f, big, sizeof big);
    return w == (ssize_t)sizeof big ? 0 : -1;
}
static int run_spool_write_over(struct ctx *c)
{
    char buf[200];
    memset(buf, 'y', sizeof buf);
    ssize_t w = tmpf_file_write(c->f, buf, sizeof buf);
    return w == (ssize_t)sizeof buf ? 0 : -1;
}
static int run_rollover(struct ctx *c) { return tmpf_file_rollover(c->f); }
static int run_stream(struct ctx *c)
{
    c->stream = tmpf_file_stream(c->f);
    return c->stream ? 0 : -1;
}
static void named_setup(struct ctx *c)
{
    base_setup(c);
    c->f = tmpf_named_temporary_file(&c->o);
    if (c->f)
        tmpf_file_write(c->f, "abc", 3);
}
#if TMPF_CAN_REOPEN_FD
static void anon_setup(struct ctx *c)
{
    base_setup(c);
    c->f = tmpf_temporary_file(&c->o);
}
#endif
static int run_reopen(struct ctx *c)
{
    c->fd = tmpf_file_reopen(c->f, O_RDONLY);
    return c->fd < 0 ? -1 : 0;
}
static void undo_reopen(struct ctx *c)
{
    close(c->fd);
    undo_file(c);
}
static void persist_setup(struct ctx *c)
{
    named_setup(c);
    snprintf(c->target, sizeof c->target, "%s/target", c->dir);
}
static int run_persist(struct ctx *c)
{
    return tmpf_file_persist(c->f, c->target, 0);
}
static void undo_persist(struct ctx *c)
{
    tmpf_file_cleanup(c->f);
    c->f = NULL;
    unlink(c->target);
}
static void spool_persist_setup(struct ctx *c)
{
    spooled_setup(c);
    if (c->f)
        tmpf_file_write(c->f, "abc", 3);
    snprintf(c->target, sizeof c->target, "%s/target", c->dir);
}
static void atomic_setup(struct ctx *c)
{
    base_setup(c);
    snprintf(c->target, sizeof c->target, "%s/target", c->dir);
    write_file(c->target, "old", 0644);
}
static int run_write_atomic(struct ctx *c)
{
    return tmpf_write_atomic(c->target, "new content", 11, 0);
}
static void undo_target(struct ctx *c) { unlink(c->target); }
static int run_write_atomic_durable(struct ctx *c)
{
    return tmpf_write_atomic(c->target, "new content", 11, TMPF_DURABLE);
}
static int run_persist_durable(struct ctx *c)
{
    return tmpf_file_persist(c->f, c->target, TMPF_DURABLE);
}
/* Where no attributes can be read (generic POSIX) the flag is ENOTSUP
 * without a fault (test_persist_keep): the replace is exercised without it. */
#define KEEP_XATTRS (TMPF_CAN_KEEP_XATTRS ? TMPF_KEEP_XATTRS : 0)
static int run_write_atomic_xattrs(struct ctx *c)
{
    return tmpf_write_atomic(c->target, "new content", 11,
                             KEEP_XATTRS | TMPF_DURABLE);
}
static int run_write_many(struct ctx *c)
{
    tmpf_write w[2] = {{c->target, "new content", 11, 0},
                       {c->target, "new content", 11, 0}};
    return tmpf_write_atomic_many(w, 2, TMPF_DURABLE);
}
static void persist_replace_setup(struct ctx *c)
{
    persist_setup(c);
    write_file(c->target, "old", 0644);
}
static int run_persist_replace(struct ctx *c)
{
    return tmpf_file_persist(c->f, c->target, KEEP_XATTRS | TMPF_DURABLE);
}
static void undo_persist_replace(struct ctx *c)
{
    tmpf_file_cleanup(c->f);
    c->f = NULL;
}
static void dir_persist_setup(struct ctx *c)
{
    base_setup(c);
    c->d = tmpf_temporary_directory(&c->o);
    if (c->d) {
        char p[4200];
        snprintf(p, sizeof p, "%s/file", tmpf_dir_path(c->d));
        write_file(p, "x", 0644);
    }
    snprintf(c->target, sizeof c->target, "%s/published", c->dir);
}
static int run_dir_persist(struct ctx *c)
{
    return tmpf_dir_persist(c->d, c->target, TMPF_DURABLE);
}
static void undo_dir_persist(struct ctx *c)
{
    tmpf_dir_cleanup(c->d);
    c->d = NULL;
    tmpf_rmtree(c->target, 0);
}
static int run_truncate(struct ctx *c) { return tmpf_file_truncate(c->f, 1); }
static int run_sync(struct ctx *c) { return tmpf_file_sync(c->f); }
static int run_scope_new(struct ctx *c)
{
    c->scope = tmpf_scope_new(0);
    return c->scope ? 0 : -1;
}
static void full_scope_setup(struct ctx *c)
{
    scope_setup(c);
    for (int i = 0; i < 3; i++) {
        tmpf_file *f = tmpf_named_temporary_file(&c->o);
        (void)f; /* the scope owns it */
        tmpf_dir *d = tmpf_temporary_directory(&c->o);
        (void)d;
    }
}
static int run_scope_cleanup(struct ctx *c)
{
    int r = tmpf_scope_cleanup(c->scope);
    c->scope = NULL; /* freed whatever happened */
    return r;
}
static void no_undo(struct ctx *c) { (void)c; }
static int run_file_cleanup(struct ctx *c)
{
    int r = tmpf_file_cleanup(c->f);
    c->f = NULL; /* freed whatever happened */
    return r;
}
static int run_file_close(struct ctx *c) { return tmpf_file_close(c->f); }
static int run_dir_cleanup(struct ctx *c)
{
    int r = tmpf_dir_cleanup(c->d);
    c->d = NULL;
    return r;
}
static void dir_setup(struct ctx *c)
{
    base_setup(c);
    c->d = tmpf_temporary_directory(&c->o);
}
/* a small tree: files and directories three levels deep */
static void make_tree(const char *top)
{
    char p[4096];
    mkdir(top, 0700);
    for (int i = 0; i < 3; i++) {
        snprintf(p, sizeof p, "%s/d%d", top, i);
        mkdir(p, 0700);
        snprintf(p, sizeof p, "%s/d%d/f", top, i);
        write_file(p, "x", 0600);
        snprintf(p, sizeof p, "%s/d%d/e", top, i);
        mkdir(p, 0700);
        snprintf(p, sizeof p, "%s/d%d/e/g", top, i);
        write_file(p, "y", 0600);
    }
}
static void full_dir_setup(struct ctx *c)
{
    dir_setup(c);
    if (c->d) {
        char p[4096];
        snprintf(p, sizeof p, "%s/sub", tmpf_dir_path(c->d));
        make_tree(p);
        snprintf(c->target, sizeof c->target, "%s", tmpf_dir_path(c->d));
    }
}
static void tree_setup(struct ctx *c)
{
    base_setup(c);
    snprintf(c->target, sizeof c->target, "%s/tree", c->dir);
    make_tree(c->target);
}
static int run_rmtree(struct ctx *c) { return tmpf_rmtree(c->target, 0); }
/* Crash safety: an orphan of the sweep's shape. (The emergency cleanup is
 * not here: it would remove the witness too; test_crash runs it with every
 * allocation failing.) */
static void orphan_setup(struct ctx *c)
{
    base_setup(c);
    (void)write_file(path_join(c->dir, "sw-abcd1234"), "", 0600);
}
static int run_sweep(struct ctx *c)
{
    return tmpf_sweep(&(tmpf_opts){.dir = c->dir, .prefix = "sw-"}, 0) < 0 ? -1 : 0;
}
static int run_settempdir(struct ctx *c)
{
    return tmpf_settempdir(c->dir);
}
static void undo_settempdir(struct ctx *c)
{
    (void)c;
    tmpf_settempdir(NULL);
}
/* The choice is made afresh with TMPDIR set to c->dir, so that what its
 * probe leaves is counted like any other entry. */
static void gettempdir_setup(struct ctx *c)
{
    (void)c;
    tmpf_settempdir(NULL);
}
static int run_gettempdir(struct ctx *c)
{
    const char *old = getenv("TMPDIR");
    char *saved = old ? strdup(old) : NULL;
    setenv("TMPDIR", c->dir, 1);
    const char *dir = tmpf_gettempdir();
    int err = errno;
    if (saved)
        setenv("TMPDIR", saved, 1);
    else
        unsetenv("TMPDIR");
    free(saved);
    errno = err;
    return dir ? 0 : -1;
}
static int run_leak_report(struct ctx *c)
{
    (void)c;
    int r = tmpf_leak_report(report_sink);
    return r < 0 ? -1 : 0;
}

static const struct op ops[] = {
    {"mkstemp", base_setup, run_mkstemp, undo_mkstemp},
    {"mkstemp+scope", scope_setup, run_mkstemp, undo_mkstemp},
    {"mkstemp+at_exit", atexit_setup, run_mkstemp, undo_mkstemp},
    {"mkdtemp", base_setup, run_mkdtemp, undo_mkdtemp},
    {"mkdtemp+scope", scope_setup, run_mkdtemp, undo_mkdtemp},
    {"mkdtemp+at_exit", atexit_setup, run_mkdtemp, undo_mkdtemp},
    {"mktemp", base_setup, run_mktemp, undo_free_path},
    {"temporary_file", base_setup, run_anon, undo_file},
    {"temporary_file+scope", scope_setup, run_anon, undo_file},
    {"temporary_file+at_exit", atexit_setup, run_anon, undo_file},
    {"named_temporary_file", base_setup, run_named, undo_file},
    {"named_temporary_file+scope", scope_setup, run_named, undo_file},
    {"named_temporary_file+at_exit", atexit_setup, run_named, undo_file},
    {"spooled_temporary_file", base_setup, run_spooled, undo_file},
    {"spooled_temporary_file+scope", scope_setup, run_spooled, undo_file},
    {"spooled_temporary_file+at_exit", atexit_setup, run_spooled, undo_file},
    {"temporary_directory", base_setup, run_tdir, undo_dir},
    {"temporary_directory+scope", scope_setup, run_tdir, undo_dir},
    {"temporary_directory+at_exit", atexit_setup, run_tdir, undo_dir},
    {"spooled write (buffer growth)", spooled_setup, run_spool_write, undo_file},
    {"spooled write past max_size", spooled_small_setup, run_spool_write_over,
     undo_file},
    {"spooled rollover", spooled_small_setup, run_rollover, undo_file},
    {"spooled stream", spooled_small_setup, run_stream, undo_file},
    {"named stream", named_setup, run_stream, undo_file},
    {"named reopen", named_setup, run_reopen, undo_reopen},
#if TMPF_CAN_REOPEN_FD /* else EOPNOTSUPP without a fault: test_file */
    {"anonymous reopen", anon_setup, run_reopen, undo_reopen},
    {"spooled reopen", spooled_small_setup, run_reopen, undo_reopen},
#endif
    {"persist named", persist_setup, run_persist, undo_persist},
    {"persist spooled", spool_persist_setup, run_persist, undo_persist},
    {"write_atomic", atomic_setup, run_write_atomic, undo_target},
    {"write_atomic durable", atomic_setup, run_write_atomic_durable,
     undo_target},
    {"persist durable", persist_setup, run_persist_durable, undo_persist},
    {"persist replacing, xattrs", persist_replace_setup, run_persist_replace,
     undo_persist_replace},
    {"write_atomic xattrs", atomic_setup, run_write_atomic_xattrs, undo_target},
    {"write_atomic_many durable", atomic_setup, run_write_many, undo_target},
    {"dir_persist durable", dir_persist_setup, run_dir_persist, undo_dir_persist},
    {"named truncate", named_setup, run_truncate, undo_file},
    {"spooled truncate", spooled_small_setup, run_truncate, undo_file},
    {"named sync", named_setup, run_sync, undo_file},
    {"scope_new", base_setup, run_scope_new, no_undo},
    {"scope_cleanup", full_scope_setup, run_scope_cleanup, no_undo},
    {"named cleanup", named_setup, run_file_cleanup, no_undo},
    {"named close", named_setup, run_file_close, undo_file},
    {"spooled cleanup (rolled)", spooled_small_setup_rolled, run_file_cleanup,
     no_undo},
    {"dir_cleanup", dir_setup, run_dir_cleanup, no_undo},
    {"dir_cleanup non-empty", full_dir_setup, run_dir_cleanup, no_undo},
    {"rmtree", tree_setup, run_rmtree, no_undo},
    {"settempdir", base_setup, run_settempdir, undo_settempdir},
    {"gettempdir", gettempdir_setup, run_gettempdir, undo_settempdir},
    {"leak_report", NULL, run_leak_report, no_undo},
    {"sweep", orphan_setup, run_sweep, no_undo},
};

/* What must hold of the file system after a failed run. */
static bool target_intact(const struct op *op, struct ctx *c, bool after_commit)
{
    if (op->run == run_write_atomic || op->run == run_write_atomic_durable ||
        op->run == run_write_atomic_xattrs || op->run == run_write_many ||
        op->run == run_persist_replace) {
        /* One item of a batch may succeed while the other fails. */
        if (op->run == run_write_many)
            after_commit = true;
        if (op->run == run_persist_replace && after_commit &&
            tmpf_file_path(c->f) && strcmp(tmpf_file_path(c->f), c->target) == 0)
            return true;
        char buf[16] = {0};
        int fd = open(c->target, O_RDONLY | O_CLOEXEC);
        if (fd < 0)
            return false;
        ssize_t n = read(fd, buf, sizeof buf - 1);
        close(fd);
        if (after_commit && n == 11 && strcmp(buf, "new content") == 0)
            return true;
        return n == 3 && strcmp(buf, "old") == 0;
    }
    if (op->run == run_dir_persist)
        return !path_exists(c->target) ||
               (after_commit && strcmp(tmpf_dir_path(c->d), c->target) == 0);
    if (op->run == run_persist || op->run == run_persist_durable)
        return !path_exists(c->target) ||
               (after_commit && tmpf_file_path(c->f) &&
                strcmp(tmpf_file_path(c->f), c->target) == 0);
    return true;
}

/* The object from setup must still work after its operation failed. */
static bool object_usable(struct ctx *c)
{
    if (!c->f)
        return true;
    if (tmpf_file_seek(c->f, 0, SEEK_END) < 0)
        return false;
    if (tmpf_file_write(c->f, "z", 1) != 1)
        return false;
    char b;
    if (tmpf_file_seek(c->f, -1, SEEK_END) < 0 || tmpf_file_read(c->f, &b, 1) != 1)
        return false;
    return b == 'z';
}

/* How faults are injected: arm(n) makes the n-th next matching call fail,
 * arm(-1) disarms, hits() counts the failures injected so far. want_errno
 * is what a failed operation must report; 0 means the fault must be
 * absorbed (EINTR: retried) and the operation succeed. */
struct injector {
    const char *what;
    /* (op name or "op name|what", reason): a known defect, skipped */
    const char *const (*known)[2];
    void (*arm)(long n);
    unsigned long (*hits)(void);
    int want_errno;
    long injected, absorbed;
    /* the fault may come after the commit point (the directory fsync after
     * the rename): then the target holds the new content, and says so */
    bool after_commit;
    /* a fault the operation hides (succeeds anyway) is a finding */
    bool no_absorbing;
};

/* The mode of the directory the operations work in: 0700, or 0777 (others
 * can rename entries: the identity-checked creation and cleanup paths). */
static mode_t fault_dir_mode = 0700;

/* Runs op with its 1st, 2nd, ... matching call failing until it succeeds
 * without a fault; returns the number of problems found. */
static int run_op(const struct op *op, tmpf_file *witness, struct injector *inj)
{
    long n;
    int failures = 0;
    char key[256];
    snprintf(key, sizeof key, "%s|%s", op->name, inj->what);
    for (const char *const(*k)[2] = inj->known; k && (*k)[0]; k++)
        if (strcmp((*k)[0], op->name) == 0 ||
            strncmp((*k)[0], key, strlen((*k)[0])) == 0) {
            fprintf(stderr, "  %s, %s: known defect, skipped: %s\n", op->name,
                    inj->what, (*k)[1]);
            fault_skipped++;
            return 0;
        }
    for (n = 1; n < 500; n++) {
        struct ctx c;
        memset(&c, 0, sizeof c);
        c.fd = -1;
        /* a name per mode: the library remembers a directory's verdict */
        snprintf(c.dir, sizeof c.dir, "%s/%s", scratch,
                 fault_dir_mode == 0700 ? "w" : "w-shared");
        mkdir(c.dir, 0700);
        chmod(c.dir, fault_dir_mode);
        int fds_pre = count_open_fds();
        if (op->setup)
            op->setup(&c);
        int entries = count_entries(c.dir);
        uint64_t live = live_total();
        unsigned long before = inj->hits();

        inj->arm(n);
        errno = 0;
        int r = op->run(&c);
        int err = errno;
        inj->arm(-1);
        bool hit = inj->hits() != before;

        if (r == 0) {
            if (hit)
                inj->absorbed++;
            if (hit && inj->no_absorbing) {
                FAIL_AT("%s, %s %ld: succeeded despite the failure", op->name,
                        inj->what, n);
                failures++;
            }
            if (hit && getenv("TMPF_FAULT_VERBOSE"))
                fprintf(stderr, "  %s, %s %ld: absorbed\n", op->name, inj->what, n);
            op->undo(&c);
            /* Choosing the directory leaves nothing in it (its probe). */
            int now = count_entries(c.dir);
            if (op->undo == undo_settempdir && now != entries) {
                FAIL_AT("%s, %s %ld: succeeded, %d entries before, %d after undo",
                        op->name, inj->what, n, entries, now);
                failures++;
            }
        } else {
            if (hit)
                inj->injected++;
            if (!hit || err != inj->want_errno) {
                FAIL_AT("%s, %s %ld: failed with errno %d (%s)%s", op->name,
                        inj->what, n, err, strerror(err),
                        hit ? "" : " without an injected failure");
                failures++;
            }
            int now = count_entries(c.dir);
            if (op->run == run_rmtree ||
                (op->setup == full_dir_setup && count_entries(c.dir) != 0)) {
                /* may stop early; a second call must finish the job */
                if (tmpf_rmtree(c.target, 0) != 0 || path_exists(c.target)) {
                    FAIL_AT("%s, %s %ld: second tmpf_rmtree failed", op->name,
                            inj->what, n);
                    failures++;
                }
            } else if (op->run == run_dir_cleanup ||
                       op->run == run_scope_cleanup ||
                       op->run == run_file_cleanup || op->run == run_file_close) {
                /* cleanup must not be stopped by an allocation failure;
                 * a failed unlink/rmdir leaves its entry, and says so */
                if (now != 0 && inj->want_errno == ENOMEM) {
                    FAIL_AT("%s, %s %ld: %d entries left", op->name, inj->what, n,
                            now);
                    failures++;
                }
            } else if (now != entries &&
                       !(op->run == run_persist_replace && inj->after_commit &&
                         now == entries - 1)) {
                /* (persisted over the target: its name is gone) */
                FAIL_AT("%s, %s %ld: %d entries before, %d after",
                        op->name, inj->what, n, entries, now);
                failures++;
            }
            if (op->run != run_scope_cleanup && op->run != run_dir_cleanup &&
                op->run != run_rmtree && op->run != run_file_cleanup &&
                op->run != run_file_close &&
                !(inj->after_commit && path_exists(c.target)) &&
                live_total() != live) {
                FAIL_AT("%s, %s %ld: live counters changed", op->name, inj->what, n);
                failures++;
            }
            if (!target_intact(op, &c, inj->after_commit)) {
                FAIL_AT("%s, %s %ld: target damaged", op->name, inj->what, n);
                failures++;
            }
            if (op->run != run_file_close && !object_usable(&c)) {
                FAIL_AT("%s, %s %ld: object unusable", op->name, inj->what, n);
                failures++;
            }
            if (c.f)
                tmpf_file_cleanup(c.f);
            if (c.d)
                tmpf_dir_cleanup(c.d);
        }
        if (c.scope)
            tmpf_scope_cleanup(c.scope);
        harness_rmrf(c.dir);
        if (count_open_fds() != fds_pre) {
            /* checked once everything is freed: a failed persist may have
             * rolled a spooled file over, which then owns a descriptor */
            FAIL_AT("%s, %s %ld: descriptors %d -> %d", op->name, inj->what, n,
                    fds_pre, count_open_fds());
            failures++;
        }
        if (!object_usable(&(struct ctx){.f = witness})) {
            FAIL_AT("%s, %s %ld: earlier object unusable", op->name, inj->what, n);
            failures++;
        }
        if (r == 0 && !hit)
            break;
        if (failures > 5)
            break;
    }
    if (getenv("TMPF_FAULT_VERBOSE"))
        fprintf(stderr, "  %-34s %-10s %ld failed in turn\n", op->name,
                inj->what, n - 1);
    return failures;
}


/* The summary line CI prints: "<what> faults injected: N, all clean ...".
 * ops_failed < 0 means the run did not get that far (a failed setup). */
static void print_fault_summary(const char *what, int ops_failed, long injected,
                                long absorbed)
{
    if (ops_failed == 0)
        printf("%s faults injected: %ld, all clean (%ld more absorbed by"
               " operations that then succeeded; %ld skipped as known defects)\n",
               what, injected, absorbed, fault_skipped);
    else if (ops_failed > 0)
        printf("%s faults injected: %ld, FAILURES above\n", what, injected);
}

#endif
