/* Scopes: tmpf_scope_new / o->scope / tmpf_scope_cleanup, TMPF_AUTO_SCOPE
 * and TMPF_AT_EXIT. */
#include "harness.h"
#include <tmpf.h>

#ifndef _WIN32
#include <dlfcn.h>
#endif
#include <pthread.h>
#include <stdatomic.h>
#ifndef _WIN32
#include <sys/syscall.h>
#endif

/* ---- helpers ----------------------------------------------------------- */

/* Forked children exit with objects they inherited and no longer reach
 * (their parent's, dropped from the at-exit scope on purpose, or those of
 * a thread that does not exist in the child): LeakSanitizer must judge
 * the test process only. */
static pid_t test_process;
__attribute__((constructor)) static void remember_test_process(void)
{
    test_process = getpid();
}
int __lsan_is_turned_off(void);
int __lsan_is_turned_off(void) { return getpid() != test_process; }

/* mkstemp into s; closes the descriptor and returns the path. */
static char *scoped_mkstemp(tmpf_scope *s, const char *dir, unsigned flags)
{
    char *path = NULL;
    int fd = tmpf_mkstemp(&(tmpf_opts){.dir = dir, .scope = s, .flags = flags}, &path);
    if (fd < 0)
        return NULL;
    close(fd);
    return path;
}

/* Events seen by the hook: DELETE and CLEANUP_FAILED paths, in order. */
#define MAX_EVENTS 64
static struct {
    pthread_mutex_t lock;
    int n;
    tmpf_event_type type[MAX_EVENTS];
    char path[MAX_EVENTS][512];
} events = {PTHREAD_MUTEX_INITIALIZER, 0, {0}, {{0}}};

static void record_event(const tmpf_event *ev, void *ctx)
{
    (void)ctx;
    if (ev->type != TMPF_EVENT_DELETE && ev->type != TMPF_EVENT_CLEANUP_FAILED)
        return;
    pthread_mutex_lock(&events.lock);
    if (events.n < MAX_EVENTS) {
        events.type[events.n] = ev->type;
        snprintf(events.path[events.n], sizeof events.path[0], "%s",
                 ev->path ? ev->path : "");
        events.n++;
    }
    pthread_mutex_unlock(&events.lock);
}

/* Index of the DELETE event for path, or -1. */
static int deleted_at(const char *path)
{
    for (int i = 0; i < events.n; i++)
        if (events.type[i] == TMPF_EVENT_DELETE && strcmp(events.path[i], path) == 0)
            return i;
    return -1;
}

/* tmpf_scope_cleanup(s) with the hook recording what it removes. */
static int cleanup_recording(tmpf_scope *s)
{
    events.n = 0;
    tmpf_set_event_hook(record_event, NULL);
    int rc = tmpf_scope_cleanup(s);
    int err = errno;
    tmpf_set_event_hook(NULL, NULL);
    errno = err;
    return rc;
}

static uint64_t live_total(void)
{
    tmpf_stats st;
    if (tmpf_get_stats(&st) != 0)
        return UINT64_MAX;
    uint64_t n = 0;
    for (int k = 0; k < TMPF_KIND_COUNT; k++)
        n += st.live[k];
    return n;
}

/* ---- basics ------------------------------------------------------------ */

static void test_scope_new_rejects_unknown_flags(void)
{
    CHECK_NULL_ERRNO(tmpf_scope_new(TMPF_KEEP), EINVAL);
    CHECK_NULL_ERRNO(tmpf_scope_new(TMPF_AT_EXIT), EINVAL);
    CHECK_NULL_ERRNO(tmpf_scope_new(1u << 30), EINVAL);
    tmpf_scope *s = tmpf_scope_new(TMPF_IGNORE_CLEANUP_ERRORS);
    CHECK(s != NULL);
    CHECK_EQ_INT(tmpf_scope_cleanup(s), 0);
}

static void test_cleanup_null_and_empty(void)
{
    errno = 0;
    CHECK_EQ_INT(tmpf_scope_cleanup(NULL), 0);
    CHECK_EQ_INT(errno, 0);
    tmpf_scope *s = tmpf_scope_new(0);
    CHECK(s != NULL);
    CHECK_EQ_INT(tmpf_scope_cleanup(s), 0);
}

/* Every kind of temporary in one scope; all gone after one cleanup, and
 * the live counters are back where they were. */
static void test_mixed_scope_all_gone(void)
{
    uint64_t live_before = live_total();
    tmpf_scope *s = tmpf_scope_new(0);
    CHECK(s != NULL);
    if (!s)
        return;
    const tmpf_opts o = {.dir = scratch, .scope = s};

    char *p1 = scoped_mkstemp(s, scratch, 0);
    char *p2 = scoped_mkstemp(s, scratch, 0);
    char *d1 = tmpf_mkdtemp(&o);
    tmpf_file *named = tmpf_named_temporary_file(&o);
    tmpf_file *named_closed = tmpf_named_temporary_file(
        &(tmpf_opts){.dir = scratch, .scope = s, .flags = TMPF_KEEP_AFTER_CLOSE});
    tmpf_file *anon = tmpf_temporary_file(&o);
    tmpf_dir *dir = tmpf_temporary_directory(&o);
    tmpf_file *spooled = tmpf_spooled_temporary_file(
        &(tmpf_opts){.dir = scratch, .scope = s, .max_size = 1024});
    tmpf_file *rolled = tmpf_spooled_temporary_file(
        &(tmpf_opts){.dir = scratch, .scope = s, .max_size = 4});
    CHECK(p1 && p2 && d1 && named && named_closed && anon && dir && spooled && rolled);
    if (!(p1 && p2 && d1 && named && named_closed && anon && dir && spooled && rolled))
        return;
    CHECK_EQ_INT(tmpf_file_write(spooled, "in memory", 9), 9);
    CHECK_EQ_INT(tmpf_file_write(rolled, "past max_size", 13), 13);
    CHECK(!tmpf_file_rolled(spooled));
    CHECK(tmpf_file_rolled(rolled));
    CHECK_EQ_INT(tmpf_file_write(named, "abc", 3), 3);
    CHECK_EQ_INT(tmpf_file_write(anon, "abc", 3), 3);
    CHECK_EQ_INT(tmpf_file_close(named_closed), 0);
    CHECK(path_exists(tmpf_file_path(named_closed)));
    CHECK_EQ_INT(count_entries(scratch), 6);
    CHECK_EQ_INT(live_total(), live_before + 9);

    CHECK_EQ_INT(tmpf_scope_cleanup(s), 0);
    CHECK_EQ_INT(count_entries(scratch), 0);
    CHECK_EQ_INT(live_total(), live_before);
    free(p1);
    free(p2);
    free(d1);
}

/* Newest first: what was made inside a scoped directory goes before the
 * directory, so an rmdir suffices. */
static void test_order_inner_before_directory(void)
{
    tmpf_scope *s = tmpf_scope_new(0);
    CHECK(s != NULL);
    if (!s)
        return;
    char *outer = tmpf_mkdtemp(&(tmpf_opts){.dir = scratch, .scope = s});
    CHECK(outer != NULL);
    if (!outer) {
        tmpf_scope_cleanup(s);
        return;
    }
    tmpf_dir *inner_dir = tmpf_temporary_directory(&(tmpf_opts){.dir = outer, .scope = s});
    char *inner_file = scoped_mkstemp(s, outer, 0);
    tmpf_file *named = tmpf_named_temporary_file(
        &(tmpf_opts){.dir = tmpf_dir_path(inner_dir), .scope = s});
    CHECK(inner_dir && inner_file && named);
    char *named_path = named ? strdup(tmpf_file_path(named)) : NULL;
    char *inner_dir_path = inner_dir ? strdup(tmpf_dir_path(inner_dir)) : NULL;

    CHECK_EQ_INT(cleanup_recording(s), 0);

    CHECK_EQ_INT(count_entries(scratch), 0);
    CHECK_EQ_INT(events.n, 4);
    if (named_path && inner_file && inner_dir_path) {
        CHECK_EQ_INT(deleted_at(named_path), 0);
        CHECK_EQ_INT(deleted_at(inner_file), 1);
        CHECK_EQ_INT(deleted_at(inner_dir_path), 2);
        CHECK_EQ_INT(deleted_at(outer), 3);
    }
    free(named_path);
    free(inner_dir_path);
    free(inner_file);
    free(outer);
}

/* A temporary cleaned early leaves the scope at once: a new file the user
 * puts at its old path afterwards is not the scope's to remove. */
static void test_early_cleanup_leaves_scope(void)
{
    tmpf_scope *s = tmpf_scope_new(0);
    CHECK(s != NULL);
    if (!s)
        return;
    const tmpf_opts o = {.dir = scratch, .scope = s};
    tmpf_file *keep_alive = tmpf_named_temporary_file(&o);
    tmpf_file *f = tmpf_named_temporary_file(&o);
    tmpf_file *anon = tmpf_temporary_file(&o);
    tmpf_dir *d = tmpf_temporary_directory(&o);
    CHECK(keep_alive && f && anon && d);
    if (!(keep_alive && f && anon && d))
        return;
    char *fpath = strdup(tmpf_file_path(f));
    char *dpath = strdup(tmpf_dir_path(d));
    CHECK_EQ_INT(tmpf_file_cleanup(f), 0);
    CHECK_EQ_INT(tmpf_file_cleanup(anon), 0);
    CHECK_EQ_INT(tmpf_dir_cleanup(d), 0);
    CHECK(!path_exists(fpath) && !path_exists(dpath));
    CHECK_EQ_INT(write_file(fpath, "user's own", 0600), 0);
    CHECK_EQ_INT(mkdir(dpath, 0700), 0);

    CHECK_EQ_INT(cleanup_recording(s), 0);
    CHECK_EQ_INT(events.n, 1); /* only keep_alive */
    CHECK(path_exists(fpath));
    CHECK(path_exists(dpath));
    CHECK_EQ_INT(count_entries(scratch), 2);
    free(fpath);
    free(dpath);
}

/* Keep disarms deletion and leaves the scope; the object stays the
 * caller's (the scope neither deletes nor frees it). */
static void test_keep_leaves_scope(void)
{
    tmpf_scope *s = tmpf_scope_new(0);
    CHECK(s != NULL);
    if (!s)
        return;
    const tmpf_opts o = {.dir = scratch, .scope = s};
    tmpf_file *f = tmpf_named_temporary_file(&o);
    tmpf_dir *d = tmpf_temporary_directory(&o);
    tmpf_file *gone = tmpf_named_temporary_file(&o);
    CHECK(f && d && gone);
    if (!(f && d && gone))
        return;
    /* Created with TMPF_KEEP: the scope frees the object, the file stays. */
    tmpf_file *kept_from_start = tmpf_named_temporary_file(
        &(tmpf_opts){.dir = scratch, .scope = s, .flags = TMPF_KEEP});
    CHECK(kept_from_start != NULL);
    char *kept_path = kept_from_start ? strdup(tmpf_file_path(kept_from_start)) : NULL;
    /* Closed (and so deleted) before the scope runs: nothing left to do
     * but free it. */
    CHECK_EQ_INT(tmpf_file_close(gone), 0);
    CHECK_EQ_INT(tmpf_file_keep(f), 0);
    CHECK_EQ_INT(tmpf_dir_keep(d), 0);
    CHECK_EQ_INT(cleanup_recording(s), 0);
    CHECK_EQ_INT(events.n, 0);
    CHECK(path_exists(tmpf_file_path(f)));
    CHECK(path_exists(tmpf_dir_path(d)));
    CHECK(kept_path && path_exists(kept_path));
    free(kept_path);
    CHECK_EQ_INT(count_entries(scratch), 3);
    /* Still usable after the scope is gone. */
    CHECK_EQ_INT(tmpf_file_write(f, "kept", 4), 4);
    char *fpath = strdup(tmpf_file_path(f));
    CHECK_EQ_INT(tmpf_file_cleanup(f), 0);
    CHECK_EQ_INT(tmpf_dir_cleanup(d), 0);
    CHECK(path_exists(fpath));
    CHECK_EQ_INT(count_entries(scratch), 3);
    free(fpath);
}

/* A low-level temporary with TMPF_KEEP is never removed, not even by its
 * scope. */
static void test_low_level_keep_not_removed(void)
{
    tmpf_scope *s = tmpf_scope_new(0);
    CHECK(s != NULL);
    char *p = scoped_mkstemp(s, scratch, TMPF_KEEP);
    CHECK(p != NULL);
    CHECK_EQ_INT(tmpf_scope_cleanup(s), 0);
    CHECK(p && path_exists(p));
    free(p);
}

/* The caller may remove a low-level path itself first: fine. */
static void test_low_level_removed_by_caller(void)
{
    tmpf_scope *s = tmpf_scope_new(0);
    CHECK(s != NULL);
    char *p = scoped_mkstemp(s, scratch, 0);
    char *d = tmpf_mkdtemp(&(tmpf_opts){.dir = scratch, .scope = s});
    CHECK(p && d);
    if (p)
        unlink(p);
    if (d)
        rmdir(d);
    CHECK_EQ_INT(tmpf_scope_cleanup(s), 0);
    free(p);
    free(d);
}

static void test_auto_scope(void)
{
    char *p = NULL;
    char *fpath = NULL;
    {
        TMPF_AUTO_SCOPE s = tmpf_scope_new(0);
        CHECK(s != NULL);
        p = scoped_mkstemp(s, scratch, 0);
        tmpf_file *f = tmpf_named_temporary_file(&(tmpf_opts){.dir = scratch, .scope = s});
        CHECK(p && f);
        if (f)
            fpath = strdup(tmpf_file_path(f));
        CHECK_EQ_INT(count_entries(scratch), 2);
    }
    CHECK_EQ_INT(count_entries(scratch), 0);
    free(p);
    free(fpath);
}


/* Whether tmpf_rmtree is built (it arrives with issue 5); until then a
 * directory with something in it cannot be removed by anyone. */
static bool rmtree_available(void)
{
    char *probe = path_join(scratch, "rmtree-probe");
    bool ok = probe && mkdir(probe, 0700) == 0;
    char *inner = probe ? path_join(probe, "x") : NULL;
    ok = ok && inner && write_file(inner, "x", 0600) == 0;
    errno = 0;
    if (ok && tmpf_rmtree(probe, 0) != 0 && errno == ENOSYS)
        ok = false;
    harness_rmrf(probe);
    return ok;
}

/* Directories holding what the scope never saw: removed with their trees. */
static void test_nonempty_directories_removed(void)
{
    if (!rmtree_available())
        SKIP("tmpf_rmtree not built yet (issue 5)");
    tmpf_scope *s = tmpf_scope_new(0);
    CHECK(s != NULL);
    if (!s)
        return;
    char *d = tmpf_mkdtemp(&(tmpf_opts){.dir = scratch, .scope = s});
    tmpf_dir *td = tmpf_temporary_directory(&(tmpf_opts){.dir = scratch, .scope = s});
    CHECK(d && td);
    if (!(d && td))
        return;
    const char *dirs[] = {d, tmpf_dir_path(td)};
    for (int i = 0; i < 2; i++) {
        char *sub = path_join(dirs[i], "sub");
        char *f1 = path_join(dirs[i], "file.txt");
        char *f2 = sub ? path_join(sub, "deeper.txt") : NULL;
        CHECK(sub && mkdir(sub, 0700) == 0);
        CHECK(f1 && write_file(f1, "content", 0600) == 0);
        CHECK(f2 && write_file(f2, "content", 0600) == 0);
    }
    CHECK_EQ_INT(tmpf_scope_cleanup(s), 0);
    CHECK_EQ_INT(count_entries(scratch), 0);
    free(d);
}

/* ---- threads ----------------------------------------------------------- */

#define PER_THREAD 3000

struct worker {
    tmpf_scope *s;
    int failures;
};

/* Registers PER_THREAD temporaries: mostly mkstemp paths, every 10th a
 * named file closed but kept for cleanup, and every 7th a file cleaned at
 * once (its removal from the list races with the other thread's adds). */
static void *worker_main(void *arg)
{
    struct worker *w = arg;
    for (int i = 0; i < PER_THREAD; i++) {
        if (i % 10 == 0) {
            tmpf_file *f = tmpf_named_temporary_file(&(tmpf_opts){
                .dir = scratch, .scope = w->s, .flags = TMPF_KEEP_AFTER_CLOSE});
            if (!f || tmpf_file_close(f) != 0)
                w->failures++;
        } else if (i % 7 == 0) {
            tmpf_file *f = tmpf_named_temporary_file(&(tmpf_opts){.dir = scratch, .scope = w->s});
            if (!f || tmpf_file_cleanup(f) != 0)
                w->failures++;
        } else {
            char *p = scoped_mkstemp(w->s, scratch, 0);
            if (!p)
                w->failures++;
            free(p);
        }
    }
    return NULL;
}

static void test_two_threads_one_scope(void)
{
    tmpf_scope *s = tmpf_scope_new(0);
    CHECK(s != NULL);
    if (!s)
        return;
    struct worker w[2] = {{s, 0}, {s, 0}};
    pthread_t t[2];
    int started = 0;
    for (int i = 0; i < 2; i++)
        if (pthread_create(&t[i], NULL, worker_main, &w[i]) == 0)
            started++;
    CHECK_EQ_INT(started, 2);
    for (int i = 0; i < started; i++)
        pthread_join(t[i], NULL);
    CHECK_EQ_INT(w[0].failures + w[1].failures, 0);
    int per_thread_left = 0;
    for (int i = 0; i < PER_THREAD; i++)
        if (i % 10 == 0 || i % 7 != 0)
            per_thread_left++;
    CHECK_EQ_INT(count_entries(scratch), started * per_thread_left);
    CHECK_EQ_INT(tmpf_scope_cleanup(s), 0);
    CHECK_EQ_INT(count_entries(scratch), 0);
}

/* ---- errors ------------------------------------------------------------ */

/* As nobody: four temporaries, one of them in a directory that is then made
 * read-only. Cleanup removes the other three and reports EACCES (or 0
 * with TMPF_IGNORE_CLEANUP_ERRORS). Exit code: 0 on success, else the
 * number of the failed step. */
static int undeletable_child(void *arg)
{
    unsigned flags = *(const unsigned *)arg;
    char *locked = path_join(scratch, flags ? "locked-ignore" : "locked");
    if (!locked || mkdir(locked, 0700) != 0)
        return 1;
    tmpf_scope *s = tmpf_scope_new(flags);
    if (!s)
        return 2;
    char *a = scoped_mkstemp(s, scratch, 0);
    char *stuck = scoped_mkstemp(s, locked, 0);
    tmpf_file *f = tmpf_named_temporary_file(&(tmpf_opts){.dir = scratch, .scope = s});
    char *b = tmpf_mkdtemp(&(tmpf_opts){.dir = scratch, .scope = s});
    if (!a || !stuck || !f || !b)
        return 3;
    char *fpath = strdup(tmpf_file_path(f));
    if (chmod(locked, 0500) != 0)
        return 4;
    errno = 0;
    int rc = tmpf_scope_cleanup(s);
    int err = errno;
    if (flags == 0 && (rc != -1 || err != EACCES))
        return 5;
    if (flags != 0 && rc != 0)
        return 6;
    if (path_exists(a) || path_exists(b) || path_exists(fpath))
        return 7;
    if (!path_exists(stuck))
        return 8;
    free(a), free(b), free(stuck), free(fpath);
    return 0;
}

static void test_undeletable_entry_reported(void)
{
    unsigned flags = 0;
    CHECK_EQ_INT(run_as_nobody(undeletable_child, &flags), 0);
    flags = TMPF_IGNORE_CLEANUP_ERRORS;
    CHECK_EQ_INT(run_as_nobody(undeletable_child, &flags), 0);
}

/* The hook sees the failure, and the rest still goes. */
static void test_undeletable_entry_event(void)
{
    char *locked = path_join(scratch, "locked");
    CHECK(locked && mkdir(locked, 0700) == 0);
    tmpf_scope *s = tmpf_scope_new(0);
    char *plain = scoped_mkstemp(s, locked, 0);
    CHECK(plain != NULL);
    /* Root ignores permissions; a directory that is not empty cannot go with
     * rmdir, whoever you are. Its removal fails, the file goes. */
    char *d = tmpf_mkdtemp(&(tmpf_opts){.dir = scratch, .scope = s});
    char *blocker = d ? path_join(d, "blocker") : NULL;
    CHECK(blocker && write_file(blocker, "x", 0600) == 0);
    int rc = cleanup_recording(s);
    /* With tmpf_rmtree the directory goes too; without, it is reported. */
    if (rc == 0) {
        CHECK(!path_exists(d));
    } else {
        CHECK(path_exists(d));
        CHECK_EQ_INT(events.n, 2);
        CHECK_EQ_INT(events.type[0], TMPF_EVENT_CLEANUP_FAILED);
        CHECK_EQ_STR(events.path[0], d);
    }
    CHECK(!path_exists(plain));
    free(plain), free(d);
}

/* ---- TMPF_AT_EXIT in a child process (both platforms) ------------------ */

static void *child_objects[2]; /* reachable until exit (leak checkers) */

/* In a child process: one of each kind with TMPF_AT_EXIT in dir and a
 * file of its own, then exit(), which must remove the temporaries. */
static int at_exit_child(const char *dir)
{
    const tmpf_opts o = {.dir = dir, .flags = TMPF_AT_EXIT};
    char *p = NULL;
    int fd = tmpf_mkstemp(&o, &p);
    char *d = tmpf_mkdtemp(&o);
    tmpf_file *f = tmpf_named_temporary_file(&o);
    tmpf_dir *td = tmpf_temporary_directory(&o);
    if (fd < 0 || !d || !f || !td)
        return 1;
    close(fd);
    free(p);
    free(d);
    child_objects[0] = f;
    child_objects[1] = td;
    if (write_file(path_join(dir, "mine"), "mine", 0600) != 0)
        return 2;
    fflush(NULL);
    exit(count_entries(dir) == 5 ? 0 : 3); /* runs the atexit handlers */
}

/* The child (forked on POSIX, this program re-run on Windows) leaves
 * only its own file behind. */
static void test_at_exit_in_child_process(void)
{
    char dir[4200];
    snprintf(dir, sizeof dir, "%s", path_join(scratch, "child"));
    CHECK(mkdir(dir, 0700) == 0);
    CHECK_EQ_INT(run_child(at_exit_child, dir), 0);
    CHECK_EQ_INT(count_entries(dir), 1);
    CHECK(file_holds(path_join(dir, "mine"), "mine"));
}

static const struct test_child children[] = {
    CHILD(at_exit_child),
};

#ifndef _WIN32
/* ---- TMPF_AT_EXIT ------------------------------------------------------ */

/* Child processes report paths through a pipe, one per line. */
struct paths {
    int n;
    char p[16][512];
};

static void send_path(int fd, const char *path)
{
    dprintf(fd, "%s\n", path ? path : "(null)");
}

static void read_paths(int fd, struct paths *out)
{
    FILE *in = fdopen(fd, "r");
    out->n = 0;
    if (!in) {
        close(fd);
        return;
    }
    while (out->n < 16 && fgets(out->p[out->n], sizeof out->p[0], in)) {
        out->p[out->n][strcspn(out->p[out->n], "\n")] = '\0';
        out->n++;
    }
    fclose(in);
}

static int wait_exit_code(pid_t pid)
{
    int status;
    if (waitpid(pid, &status, 0) != pid || !WIFEXITED(status))
        return -1;
    return WEXITSTATUS(status);
}

/* Objects left to the at-exit scope stay reachable from here, so a forked
 * child that inherits and drops them does not count as leaking (valgrind
 * checks children too). */
static void *at_exit_objects[64];
static int at_exit_count;

static void hold(void *obj)
{
    if (at_exit_count < 64)
        at_exit_objects[at_exit_count++] = obj;
}

/* Makes one of each kind with TMPF_AT_EXIT and reports their paths. */
static int make_at_exit_set(int out, unsigned extra_flags, tmpf_scope *s)
{
    const tmpf_opts o = {.dir = scratch, .flags = TMPF_AT_EXIT | extra_flags, .scope = s};
    char *p = NULL;
    int fd = tmpf_mkstemp(&o, &p);
    char *d = tmpf_mkdtemp(&o);
    tmpf_file *f = tmpf_named_temporary_file(&o);
    tmpf_file *anon = tmpf_temporary_file(&o);
    tmpf_dir *td = tmpf_temporary_directory(&o);
    if (fd < 0 || !d || !f || !anon || !td)
        return -1;
    if (!s) {
        hold(f);
        hold(anon);
        hold(td);
    }
    close(fd);
    send_path(out, p);
    send_path(out, d);
    send_path(out, tmpf_file_path(f));
    send_path(out, tmpf_dir_path(td));
    free(p);
    free(d);
    return 0;
}

static void test_at_exit_child_exits(void)
{
    int fds[2];
    CHECK(pipe(fds) == 0);
    fflush(NULL);
    pid_t pid = fork();
    if (pid == 0) {
        close(fds[0]);
        if (make_at_exit_set(fds[1], 0, NULL) != 0)
            _exit(1);
        /* Cleaned early: leaves the at-exit scope; the user's new file at
         * that path must survive the exit. */
        tmpf_file *early = tmpf_named_temporary_file(
            &(tmpf_opts){.dir = scratch, .flags = TMPF_AT_EXIT});
        if (!early)
            _exit(2);
        char *ep = strdup(tmpf_file_path(early));
        if (tmpf_file_cleanup(early) != 0 || write_file(ep, "mine", 0600) != 0)
            _exit(3);
        send_path(fds[1], ep);
        free(ep);
        close(fds[1]);
        exit(0); /* runs atexit handlers */
    }
    close(fds[1]);
    struct paths got;
    read_paths(fds[0], &got);
    CHECK_EQ_INT(wait_exit_code(pid), 0);
    CHECK_EQ_INT(got.n, 5);
    for (int i = 0; i < got.n - 1; i++)
        if (path_exists(got.p[i]))
            FAIL_AT("%s survived the child's exit", got.p[i]);
    if (got.n == 5)
        CHECK(path_exists(got.p[4]));
    CHECK_EQ_INT(count_entries(scratch), 1);
}

/* A temporary in a user scope AND the at-exit scope: whichever runs first
 * removes it, and it leaves the other. */
static void test_at_exit_and_user_scope(void)
{
    int fds[2];
    CHECK(pipe(fds) == 0);
    fflush(NULL);
    pid_t pid = fork();
    if (pid == 0) {
        close(fds[0]);
        /* First set: the user scope runs first; a file put back at each
         * path afterwards must survive the exit. */
        tmpf_scope *s = tmpf_scope_new(0);
        int pfd[2];
        if (!s || pipe(pfd) != 0)
            _exit(1);
        if (make_at_exit_set(pfd[1], 0, s) != 0)
            _exit(2);
        close(pfd[1]);
        struct paths first;
        read_paths(pfd[0], &first);
        if (first.n != 4 || tmpf_scope_cleanup(s) != 0)
            _exit(3);
        for (int i = 0; i < first.n; i++) {
            if (path_exists(first.p[i]) || write_file(first.p[i], "mine", 0600) != 0)
                _exit(4);
            send_path(fds[1], first.p[i]);
        }
        /* Second set: the scope is never cleaned; exit removes it. */
        tmpf_scope *never = tmpf_scope_new(0);
        if (!never || make_at_exit_set(fds[1], 0, never) != 0)
            _exit(5);
        close(fds[1]);
        exit(0);
    }
    close(fds[1]);
    struct paths got;
    read_paths(fds[0], &got);
    CHECK_EQ_INT(wait_exit_code(pid), 0);
    CHECK_EQ_INT(got.n, 8);
    for (int i = 0; i < got.n; i++) {
        bool want = i < 4;
        if (path_exists(got.p[i]) != want)
            FAIL_AT("%s: exists %d, want %d", got.p[i], !want, want);
    }
}

/* The child registers at-exit temporaries, then forks a grandchild that
 * makes its own and exits first: the grandchild's are gone, the child's
 * are still there until the child exits. Exit codes name the failed step. */
static int child_with_grandchild(int out, bool raw_clone)
{
    int pfd[2];
    if (pipe(pfd) != 0)
        return 10;
    if (make_at_exit_set(pfd[1], 0, NULL) != 0)
        return 11;
    close(pfd[1]);
    struct paths mine;
    read_paths(pfd[0], &mine);
    if (mine.n != 4)
        return 12;
    int gfd[2];
    if (pipe(gfd) != 0)
        return 13;
    fflush(NULL);
    /* A raw clone runs no fork handlers: only the recorded pid protects
     * the child's temporaries then. */
    pid_t g = raw_clone ? (pid_t)syscall(SYS_clone, SIGCHLD, 0, 0, 0, 0) : fork();
    if (g < 0)
        return 14;
    if (g == 0) {
        close(gfd[0]);
        if (!raw_clone && make_at_exit_set(gfd[1], 0, NULL) != 0)
            _exit(1);
        close(gfd[1]);
        exit(0);
    }
    close(gfd[1]);
    struct paths theirs;
    read_paths(gfd[0], &theirs);
    if (wait_exit_code(g) != 0)
        return 15;
    if (theirs.n != (raw_clone ? 0 : 4))
        return 16;
    for (int i = 0; i < theirs.n; i++)
        if (path_exists(theirs.p[i]))
            return 17;
    for (int i = 0; i < mine.n; i++) {
        if (!path_exists(mine.p[i]))
            return 18;
        send_path(out, mine.p[i]);
    }
    return 0;
}

static void run_grandchild_case(bool raw_clone)
{
    int fds[2];
    CHECK(pipe(fds) == 0);
    fflush(NULL);
    pid_t pid = fork();
    if (pid == 0) {
        close(fds[0]);
        int rc = child_with_grandchild(fds[1], raw_clone);
        close(fds[1]);
        exit(rc);
    }
    close(fds[1]);
    struct paths got;
    read_paths(fds[0], &got);
    CHECK_EQ_INT(wait_exit_code(pid), 0);
    CHECK_EQ_INT(got.n, 4);
    for (int i = 0; i < got.n; i++)
        if (path_exists(got.p[i]))
            FAIL_AT("%s survived the child's exit", got.p[i]);
    CHECK_EQ_INT(count_entries(scratch), 0);
}

static void test_at_exit_grandchild_exits_first(void) { run_grandchild_case(false); }

static void test_at_exit_raw_clone_grandchild(void) { run_grandchild_case(true); }

/* A parent's at-exit temporaries survive a forked child that uses them and
 * exits, and the parent can still clean them up itself afterwards. */
static void test_at_exit_inherited_object_usable_in_child(void)
{
    tmpf_file *f = tmpf_named_temporary_file(
        &(tmpf_opts){.dir = scratch, .flags = TMPF_AT_EXIT});
    CHECK(f != NULL);
    if (!f)
        return;
    fflush(NULL);
    pid_t pid = fork();
    if (pid == 0) {
        bool ok = tmpf_file_write(f, "child", 5) == 5;
        /* Cleaning it in the child is an explicit request: allowed, and it
         * must not trip over the dropped at-exit entry. */
        tmpf_file *g = tmpf_named_temporary_file(
            &(tmpf_opts){.dir = scratch, .flags = TMPF_AT_EXIT});
        ok = ok && g && tmpf_file_cleanup(g) == 0;
        exit(ok ? 0 : 1);
    }
    CHECK_EQ_INT(wait_exit_code(pid), 0);
    CHECK(path_exists(tmpf_file_path(f)));
    char buf[8] = {0};
    CHECK_EQ_INT(tmpf_file_seek(f, 0, SEEK_SET), 0);
    CHECK_EQ_INT(tmpf_file_read(f, buf, sizeof buf), 5);
    CHECK_EQ_STR(buf, "child");
    CHECK_EQ_INT(tmpf_file_cleanup(f), 0);
    CHECK_EQ_INT(count_entries(scratch), 0);
}


/* Fork while another thread registers at-exit temporaries: the child's
 * exit must never hang on a lock that thread held at the fork, nor remove
 * the parent's temporaries. */
static atomic_bool stop_churn;

static void *churn_main(void *arg)
{
    int *failures = arg;
    while (!atomic_load(&stop_churn)) {
        tmpf_file *f = tmpf_named_temporary_file(
            &(tmpf_opts){.dir = scratch, .flags = TMPF_AT_EXIT});
        if (!f || tmpf_file_cleanup(f) != 0)
            (*failures)++;
    }
    return NULL;
}

/* Exit status of pid, or -1 if it did not end within about 10 s (killed).
 * A child that exits normally may still report a leak through valgrind's
 * exit code: the object another thread was making at the fork. */
static int wait_exit_code_bounded(pid_t pid)
{
    for (int i = 0; i < 10000; i++) {
        int status;
        pid_t r = waitpid(pid, &status, WNOHANG);
        if (r == pid)
            return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
        if (r < 0)
            return -1;
        usleep(1000);
    }
    kill(pid, SIGKILL);
    waitpid(pid, NULL, 0);
    return -1;
}

static void test_at_exit_fork_during_registration(void)
{
    tmpf_file *parents = tmpf_named_temporary_file(
        &(tmpf_opts){.dir = scratch, .flags = TMPF_AT_EXIT});
    CHECK(parents != NULL);
    if (!parents)
        return;
    int failures = 0;
    pthread_t t;
    atomic_store(&stop_churn, false);
    CHECK(pthread_create(&t, NULL, churn_main, &failures) == 0);
    int hung = 0, forks = 300 / test_scale_div() + 10;
    for (int i = 0; i < forks; i++) {
        fflush(NULL);
        pid_t pid = fork();
        if (pid == 0)
            exit(0);
        if (pid < 0 || wait_exit_code_bounded(pid) < 0)
            hung++;
    }
    atomic_store(&stop_churn, true);
    pthread_join(t, NULL);
    CHECK_EQ_INT(hung, 0);
    CHECK_EQ_INT(failures, 0);
    CHECK(path_exists(tmpf_file_path(parents)));
    CHECK_EQ_INT(tmpf_file_cleanup(parents), 0);
    CHECK_EQ_INT(count_entries(scratch), 0);
}

/* Unloading the shared library runs the at-exit scope too (its destructor;
 * glibc also runs a library's atexit handlers at dlclose). musl never
 * unloads, so there the check is skipped. In a child, so that the test
 * process's own library state is not involved. */
static int dlclose_child(const char *lib)
{
    void *h = dlopen(lib, RTLD_NOW | RTLD_LOCAL);
    if (!h)
        return 10;
    int (*mkstemp_fn)(const tmpf_opts *, char **) =
        (int (*)(const tmpf_opts *, char **))dlsym(h, "tmpf_mkstemp");
    if (!mkstemp_fn)
        return 11;
    char *path = NULL;
    int fd = mkstemp_fn(&(tmpf_opts){.dir = scratch, .flags = TMPF_AT_EXIT}, &path);
    if (fd < 0)
        return 12;
    close(fd);
    if (!path_exists(path))
        return 13;
    if (dlclose(h) != 0)
        return 14;
    void *again = dlopen(lib, RTLD_NOW | RTLD_NOLOAD);
    if (again) {
        dlclose(again);
        _exit(77); /* still loaded: nothing to check */
    }
    int rc = path_exists(path) ? 15 : 0;
    free(path);
    return rc;
}

static void test_at_exit_on_dlclose(void)
{
    const char *bin = getenv("TMPF_BINARY_DIR");
    if (!bin)
        SKIP("TMPF_BINARY_DIR not set (run through ctest)");
    const char *lib = path_join(bin, "libtmpf.so");
    if (!path_exists(lib))
        SKIP("no shared library built");
    fflush(NULL);
    pid_t pid = fork();
    if (pid == 0)
        _exit(dlclose_child(lib));
    int code = wait_exit_code(pid);
    if (code == 77)
        SKIP("dlclose does not unload here (musl)");
    CHECK_EQ_INT(code, 0);
    CHECK_EQ_INT(count_entries(scratch), 0);
}
#endif

static const struct test tests[] = {
    TEST(test_scope_new_rejects_unknown_flags),
    TEST(test_cleanup_null_and_empty),
    TEST(test_mixed_scope_all_gone),
    TEST(test_order_inner_before_directory),
    TEST(test_early_cleanup_leaves_scope),
    TEST(test_keep_leaves_scope),
    TEST(test_low_level_keep_not_removed),
    TEST(test_low_level_removed_by_caller),
    TEST(test_auto_scope),
    TEST(test_nonempty_directories_removed),
    TEST(test_two_threads_one_scope),
    TEST(test_undeletable_entry_reported),
    TEST(test_undeletable_entry_event),
    TEST(test_at_exit_in_child_process),
    TEST_POSIX(test_at_exit_child_exits, "fork (the portable at-exit case is test_at_exit_in_child_process)"),
    TEST_POSIX(test_at_exit_and_user_scope, "fork (the portable at-exit case is test_at_exit_in_child_process)"),
    TEST_POSIX(test_at_exit_grandchild_exits_first, "fork (the portable at-exit case is test_at_exit_in_child_process)"),
    TEST_POSIX(test_at_exit_raw_clone_grandchild, "fork (a raw clone)"),
    TEST_POSIX(test_at_exit_inherited_object_usable_in_child, "fork (the portable at-exit case is test_at_exit_in_child_process)"),
    TEST_POSIX(test_at_exit_fork_during_registration, "fork (the portable at-exit case is test_at_exit_in_child_process)"),
    TEST_POSIX(test_at_exit_on_dlclose, "dlopen/dlclose of a shared build, in a forked child"),
};
TEST_MAIN_CHILDREN(tests, children)
