/*
 * Allocation-failure injection (issue 9): every public operation is run with
 * its 1st, 2nd, 3rd, ... allocation failing (the seam in src/alloc.c) until
 * it succeeds. After each injected failure: -1/NULL with ENOMEM, no
 * descriptor leaked, no entry left in the directory, the live counters
 * unchanged, and an object made before still works. Memory leaks on those
 * paths are LSan's and valgrind's to find (CI runs this under both).
 */
#include "harness.h"

#include <tmpf.h>

void tmpf__test_fail_alloc_after(long n);
unsigned long tmpf__test_alloc_failures(void);

static long injected_total, swallowed_total;
static int ops_failed;

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
static void anon_setup(struct ctx *c)
{
    base_setup(c);
    c->f = tmpf_temporary_file(&c->o);
}
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
static int run_settempdir(struct ctx *c)
{
    return tmpf_settempdir(c->dir);
}
static void undo_settempdir(struct ctx *c)
{
    (void)c;
    tmpf_settempdir(NULL);
}
static int run_gettempdir(struct ctx *c)
{
    (void)c;
    return tmpf_gettempdir() ? 0 : -1;
}
static int run_leak_report(struct ctx *c)
{
    (void)c;
    int r = tmpf_leak_report(stderr);
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
    {"anonymous reopen", anon_setup, run_reopen, undo_reopen},
    {"spooled reopen", spooled_small_setup, run_reopen, undo_reopen},
    {"persist named", persist_setup, run_persist, undo_persist},
    {"persist spooled", spool_persist_setup, run_persist, undo_persist},
    {"write_atomic", atomic_setup, run_write_atomic, undo_target},
    {"scope_new", base_setup, run_scope_new, no_undo},
    {"scope_cleanup", full_scope_setup, run_scope_cleanup, no_undo},
    {"dir_cleanup", dir_setup, run_dir_cleanup, no_undo},
    {"settempdir", base_setup, run_settempdir, undo_settempdir},
    {"gettempdir", NULL, run_gettempdir, undo_settempdir},
    {"leak_report", NULL, run_leak_report, no_undo},
};

/* What must hold of the file system after a failed run. */
static bool target_intact(const struct op *op, struct ctx *c)
{
    if (op->run == run_write_atomic) {
        char buf[16] = {0};
        int fd = open(c->target, O_RDONLY | O_CLOEXEC);
        if (fd < 0)
            return false;
        ssize_t n = read(fd, buf, sizeof buf - 1);
        close(fd);
        return n == 3 && strcmp(buf, "old") == 0;
    }
    if (op->run == run_persist)
        return !path_exists(c->target);
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

static void run_op(const struct op *op, tmpf_file *witness)
{
    long n;
    int failures = 0;
    for (n = 1; n < 500; n++) {
        struct ctx c;
        memset(&c, 0, sizeof c);
        c.fd = -1;
        snprintf(c.dir, sizeof c.dir, "%s/w", scratch);
        mkdir(c.dir, 0700);
        int fds_pre = count_open_fds();
        if (op->setup)
            op->setup(&c);
        int entries = count_entries(c.dir);
        uint64_t live = live_total();
        unsigned long before = tmpf__test_alloc_failures();

        tmpf__test_fail_alloc_after(n);
        errno = 0;
        int r = op->run(&c);
        int err = errno;
        tmpf__test_fail_alloc_after(-1);
        bool hit = tmpf__test_alloc_failures() != before;

        if (r == 0) {
            if (hit)
                swallowed_total++;
            op->undo(&c);
        } else {
            if (hit)
                injected_total++;
            if (!hit || err != ENOMEM) {
                FAIL_AT("%s, allocation %ld: failed with errno %d (%s)%s",
                        op->name, n, err, strerror(err),
                        hit ? "" : " without an injected failure");
                failures++;
            }
            int now = count_entries(c.dir);
            if (op->run == run_dir_cleanup || op->run == run_scope_cleanup) {
                /* cleanup must not be stopped by an allocation failure */
                if (now != 0) {
                    FAIL_AT("%s, allocation %ld: %d entries left", op->name, n,
                            now);
                    failures++;
                }
            } else if (now != entries) {
                FAIL_AT("%s, allocation %ld: %d entries before, %d after",
                        op->name, n, entries, now);
                failures++;
            }
            if (op->run != run_scope_cleanup && op->run != run_dir_cleanup &&
                live_total() != live) {
                FAIL_AT("%s, allocation %ld: live counters changed", op->name,
                        n);
                failures++;
            }
            if (!target_intact(op, &c)) {
                FAIL_AT("%s, allocation %ld: target damaged", op->name, n);
                failures++;
            }
            if (!object_usable(&c)) {
                FAIL_AT("%s, allocation %ld: object unusable", op->name, n);
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
            FAIL_AT("%s, allocation %ld: descriptors %d -> %d", op->name, n,
                    fds_pre, count_open_fds());
            failures++;
        }
        if (!object_usable(&(struct ctx){.f = witness})) {
            FAIL_AT("%s, allocation %ld: earlier object unusable", op->name, n);
            failures++;
        }
        if (r == 0 && !hit)
            break;
        if (failures > 5)
            break;
    }
    fprintf(stderr, "  %-34s %ld allocation(s) failed in turn\n", op->name,
            n - 1);
}

static void test_every_operation(void)
{
    tmpf_opts o = {.dir = scratch};
    tmpf_file *witness = tmpf_named_temporary_file(&o);
    CHECK(witness != NULL);
    for (size_t i = 0; i < sizeof ops / sizeof ops[0]; i++)
        run_op(&ops[i], witness);
    tmpf_file_cleanup(witness);
    ops_failed = test_failures_in_current;
}

static void test_report(void)
{
    CHECK(injected_total > 0);
    if (ops_failed == 0 && test_failures_in_current == 0)
        printf("allocation faults injected: %ld, all clean"
               " (%ld more absorbed by operations that then succeeded)\n",
               injected_total, swallowed_total);
}

static const struct test tests[] = {
    TEST(test_every_operation),
    TEST(test_report),
};

int main(int argc, char **argv)
{
    int r = run_tests(tests, sizeof tests / sizeof tests[0], argc, argv);
    if (r != 0)
        printf("allocation faults injected: %ld, FAILURES above\n",
               injected_total);
    return r;
}
