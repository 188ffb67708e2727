/* Audit: the event hook, the counters and the leak report. */
#include "harness.h"
#include <tmpf.h>

#include <pthread.h>
#include <stdatomic.h>

#define MAX_EVENTS 64

struct recorded {
    tmpf_event_type type;
    tmpf_kind kind;
    char path[sizeof scratch + 64];
    int error;
    const void *object;
};

static struct recorded events[MAX_EVENTS];
static int n_events;

static void record(const tmpf_event *ev, void *ctx)
{
    (void)ctx;
    if (n_events == MAX_EVENTS)
        return;
    struct recorded *r = &events[n_events++];
    r->type = ev->type;
    r->kind = ev->kind;
    snprintf(r->path, sizeof r->path, "%s", ev->path ? ev->path : "");
    r->error = ev->error;
    r->object = ev->object;
}

static void start_recording(void)
{
    n_events = 0;
    tmpf_set_event_hook(record, NULL);
}

/* Checks the recorded types against want[] (terminated by -1). */
#define CHECK_SEQUENCE(...)                                                    \
    do {                                                                       \
        const int want_[] = {__VA_ARGS__, -1};                                 \
        int i_ = 0;                                                            \
        for (; want_[i_] >= 0; i_++)                                           \
            if (i_ >= n_events || (int)events[i_].type != want_[i_])           \
                break;                                                         \
        if (want_[i_] >= 0 || i_ != n_events)                                  \
            FAIL_AT("event sequence differs at %d (got %d events)", i_,        \
                    n_events);                                                 \
    } while (0)

static void test_named_file_create_close_delete(void)
{
    start_recording();
    tmpf_file *f = tmpf_named_temporary_file(&(tmpf_opts){.dir = scratch});
    CHECK(f != NULL);
    char path[sizeof scratch + 64];
    snprintf(path, sizeof path, "%s", tmpf_file_path(f));
    CHECK_EQ_INT(tmpf_file_close(f), 0);
    CHECK_EQ_INT(tmpf_file_cleanup(f), 0);
    tmpf_set_event_hook(NULL, NULL);
    CHECK_SEQUENCE(TMPF_EVENT_CREATE, TMPF_EVENT_CLOSE, TMPF_EVENT_DELETE);
    for (int i = 0; i < n_events; i++) {
        CHECK_EQ_INT(events[i].kind, TMPF_KIND_NAMED);
        CHECK_EQ_STR(events[i].path, path);
        CHECK(events[i].object == events[0].object);
    }
}

static void test_keep_after_close_deletes_at_cleanup(void)
{
    start_recording();
    tmpf_file *f = tmpf_named_temporary_file(
        &(tmpf_opts){.dir = scratch, .flags = TMPF_KEEP_AFTER_CLOSE});
    CHECK(f != NULL);
    tmpf_file_close(f);
    CHECK_EQ_INT(n_events, 2);
    tmpf_file_cleanup(f);
    tmpf_set_event_hook(NULL, NULL);
    CHECK_SEQUENCE(TMPF_EVENT_CREATE, TMPF_EVENT_CLOSE, TMPF_EVENT_DELETE);
}

static void test_anonymous_and_directory_and_low_level(void)
{
    start_recording();
    tmpf_file *f = tmpf_temporary_file(&(tmpf_opts){.dir = scratch});
    CHECK(f != NULL);
    tmpf_file_cleanup(f);
    CHECK_SEQUENCE(TMPF_EVENT_CREATE, TMPF_EVENT_CLOSE, TMPF_EVENT_DELETE);
    CHECK_EQ_INT(events[0].kind, TMPF_KIND_ANONYMOUS);
    CHECK_EQ_STR(events[0].path, "");

    n_events = 0;
    tmpf_dir *d = tmpf_temporary_directory(&(tmpf_opts){.dir = scratch});
    CHECK(d != NULL);
    tmpf_dir_cleanup(d);
    CHECK_SEQUENCE(TMPF_EVENT_CREATE, TMPF_EVENT_DELETE);
    CHECK_EQ_INT(events[0].kind, TMPF_KIND_DIRECTORY);

    n_events = 0;
    char *path = NULL;
    int fd = tmpf_mkstemp(&(tmpf_opts){.dir = scratch}, &path);
    CHECK(fd >= 0);
    char *dpath = tmpf_mkdtemp(&(tmpf_opts){.dir = scratch});
    CHECK(dpath != NULL);
    CHECK_SEQUENCE(TMPF_EVENT_CREATE, TMPF_EVENT_CREATE);
    CHECK_EQ_INT(events[0].kind, TMPF_KIND_MKSTEMP);
    CHECK_EQ_STR(events[0].path, path);
    CHECK_EQ_INT(events[1].kind, TMPF_KIND_MKDTEMP);
    CHECK_EQ_STR(events[1].path, dpath);
    tmpf_set_event_hook(NULL, NULL);
    close(fd);
    unlink(path);
    rmdir(dpath);
    free(path);
    free(dpath);
}

static void test_keep_event(void)
{
    start_recording();
    tmpf_file *f = tmpf_named_temporary_file(&(tmpf_opts){.dir = scratch});
    CHECK(f != NULL);
    char path[sizeof scratch + 64];
    snprintf(path, sizeof path, "%s", tmpf_file_path(f));
    tmpf_file_keep(f);
    tmpf_file_cleanup(f);
    tmpf_set_event_hook(NULL, NULL);
    CHECK_SEQUENCE(TMPF_EVENT_CREATE, TMPF_EVENT_KEEP, TMPF_EVENT_CLOSE);
    CHECK(path_exists(path));
    unlink(path);
}

/* As nobody: a named file in a directory that becomes read-only cannot be
 * deleted; the hook sees CLEANUP_FAILED with EACCES. */
static int failed_cleanup_as_nobody(void *arg)
{
    (void)arg;
    char dir[sizeof scratch + 8];
    snprintf(dir, sizeof dir, "%s/ro", scratch);
    if (mkdir(dir, 0700) != 0)
        return 10;
    start_recording();
    tmpf_file *f = tmpf_named_temporary_file(&(tmpf_opts){.dir = dir});
    if (!f)
        return 11;
    chmod(dir, 0500);
    int rc = tmpf_file_cleanup(f);
    int err = errno;
    tmpf_set_event_hook(NULL, NULL);
    chmod(dir, 0700);
    if (rc != -1 || err != EACCES)
        return 12;
    if (n_events != 3 || events[2].type != TMPF_EVENT_CLEANUP_FAILED ||
        events[2].error != EACCES)
        return 13;
    tmpf_stats st;
    tmpf_get_stats(&st);
    return st.cleanup_failures == 1 ? 0 : 14;
}

static void test_failed_cleanup_carries_errno(void)
{
    CHECK_EQ_INT(run_as_nobody(failed_cleanup_as_nobody, NULL), 0);
}

static void test_stats_back_to_zero(void)
{
    tmpf_stats before, mid, after;
    CHECK_EQ_INT(tmpf_get_stats(&before), 0);
    tmpf_file *a = tmpf_named_temporary_file(&(tmpf_opts){.dir = scratch});
    tmpf_file *b = tmpf_temporary_file(&(tmpf_opts){.dir = scratch});
    tmpf_dir *d = tmpf_temporary_directory(&(tmpf_opts){.dir = scratch});
    CHECK(a && b && d);
    tmpf_get_stats(&mid);
    CHECK_EQ_INT(mid.live[TMPF_KIND_NAMED], before.live[TMPF_KIND_NAMED] + 1);
    CHECK_EQ_INT(mid.live[TMPF_KIND_ANONYMOUS], before.live[TMPF_KIND_ANONYMOUS] + 1);
    CHECK_EQ_INT(mid.live[TMPF_KIND_DIRECTORY], before.live[TMPF_KIND_DIRECTORY] + 1);
    CHECK_EQ_INT(mid.created, before.created + 3);
    tmpf_file_cleanup(a);
    tmpf_file_cleanup(b);
    tmpf_dir_cleanup(d);
    tmpf_get_stats(&after);
    for (int k = 0; k < TMPF_KIND_COUNT; k++)
        CHECK_EQ_INT(after.live[k], before.live[k]);
    CHECK_EQ_INT(after.removed, before.removed + 3);
    CHECK_ERRNO(tmpf_get_stats(NULL), -1, EINVAL);
}

static void test_hook_removed_sees_nothing(void)
{
    start_recording();
    tmpf_set_event_hook(NULL, NULL);
    tmpf_file *f = tmpf_temporary_file(&(tmpf_opts){.dir = scratch});
    tmpf_file_cleanup(f);
    CHECK_EQ_INT(n_events, 0);
}

static int reentrant_calls;
static void reentrant_hook(const tmpf_event *ev, void *ctx)
{
    (void)ctx;
    reentrant_calls++;
    if (ev->type == TMPF_EVENT_CREATE) {
        /* Creating from inside the hook must not call the hook again. */
        tmpf_file *inner = tmpf_temporary_file(&(tmpf_opts){.dir = scratch});
        tmpf_file_cleanup(inner);
    }
}

static void test_hook_does_not_reenter(void)
{
    reentrant_calls = 0;
    tmpf_set_event_hook(reentrant_hook, NULL);
    tmpf_file *f = tmpf_temporary_file(&(tmpf_opts){.dir = scratch});
    tmpf_file_cleanup(f);
    tmpf_set_event_hook(NULL, NULL);
    CHECK_EQ_INT(reentrant_calls, 3); /* CREATE, CLOSE, DELETE of f only */
}

static atomic_long counted_creates;
static void count_hook(const tmpf_event *ev, void *ctx)
{
    (void)ctx;
    if (ev->type == TMPF_EVENT_CREATE)
        atomic_fetch_add(&counted_creates, 1);
}

#define PER_THREAD 2000
static void *create_many(void *arg)
{
    (void)arg;
    for (int i = 0; i < PER_THREAD; i++) {
        tmpf_dir *d = tmpf_temporary_directory(&(tmpf_opts){.dir = scratch});
        if (!d)
            return (void *)1;
        tmpf_dir_cleanup(d);
    }
    return NULL;
}

static void test_two_threads_totals_match(void)
{
    atomic_store(&counted_creates, 0);
    tmpf_stats before, after;
    tmpf_get_stats(&before);
    tmpf_set_event_hook(count_hook, NULL);
    pthread_t t1, t2;
    pthread_create(&t1, NULL, create_many, NULL);
    pthread_create(&t2, NULL, create_many, NULL);
    void *r1, *r2;
    pthread_join(t1, &r1);
    pthread_join(t2, &r2);
    tmpf_set_event_hook(NULL, NULL);
    CHECK(r1 == NULL && r2 == NULL);
    tmpf_get_stats(&after);
    CHECK_EQ_INT(atomic_load(&counted_creates), 2 * PER_THREAD);
    CHECK_EQ_INT(after.created - before.created, 2 * PER_THREAD);
    CHECK_EQ_INT(after.removed - before.removed, 2 * PER_THREAD);
    CHECK_EQ_INT(count_entries(scratch), 0);
}

/* Kept reachable so that LeakSanitizer and valgrind do not count the
 * deliberately leaked objects as memory leaks. */
static tmpf_file *leaked_file;
static tmpf_dir *leaked_dir;
static const char *self_exe;

/* The child of the leak-report test: leaks two temporaries, cleans one. */
static int leak_child(const char *dir)
{
    tmpf_file *leak1 = tmpf_named_temporary_file(
        &(tmpf_opts){.dir = dir, .prefix = "leak1_"});
    tmpf_dir *leak2 = tmpf_temporary_directory(
        &(tmpf_opts){.dir = dir, .prefix = "leak2_"});
    tmpf_file *clean = tmpf_named_temporary_file(
        &(tmpf_opts){.dir = dir, .prefix = "clean_"});
    char *removed = tmpf_mkdtemp(&(tmpf_opts){.dir = dir, .prefix = "rmdird_"});
    if (!leak1 || !leak2 || !clean || !removed)
        return 1;
    leaked_file = leak1;
    leaked_dir = leak2;
    tmpf_file_cleanup(clean);
    rmdir(removed); /* a low-level temporary removed by hand is no leak */
    free(removed);
    return 0;
}

/* A child process (forked on POSIX, this program re-run on Windows) with
 * its stderr sent to scratch/report: leaks as leak_child does, then
 * exit() (not _exit: the report is written at exit). how "report" asks
 * for the report with tmpf_leak_report; "plain" leaves it to TMPF_DEBUG. */
static int report_child(const char *how)
{
    if (!freopen(path_join(scratch, "report"), "w", stderr))
        return 120;
    if (strcmp(how, "report") == 0)
        tmpf_leak_report(NULL);
    exit(leak_child(scratch));
}

/* What the child wrote to scratch/report (at most n - 1 bytes). */
static void read_report(char *out, size_t n)
{
    memset(out, 0, n);
    FILE *in = fopen(path_join(scratch, "report"), "r");
    CHECK(in != NULL);
    if (in) {
        size_t got = fread(out, 1, n - 1, in);
        out[got] = '\0';
        fclose(in);
    }
}

/* The report names the two leaks and nothing else, one line each. */
static void check_report(const char *out)
{
    int lines = 0;
    for (const char *c = out; *c; c++)
        lines += *c == '\n';
    CHECK_EQ_INT(lines, 2);
    CHECK(strstr(out, "from tmpf_named_temporary_file: ") &&
          strstr(out, HARNESS_SEP_STR "leak1_"));
    CHECK(strstr(out, "from tmpf_temporary_directory: ") &&
          strstr(out, HARNESS_SEP_STR "leak2_"));
    CHECK(!strstr(out, "clean_") && !strstr(out, "rmdird_"));
    if (test_failures_in_current)
        fprintf(stderr, "  child said:\n%s", out);
}

static void test_leak_report_names_exactly_the_leaks(void)
{
    CHECK_EQ_INT(run_child(report_child, "report"), 0);
    char out[4096];
    read_report(out, sizeof out);
    check_report(out);
}

/* TMPF_DEBUG=1 in the environment of a new program turns the report on.
 * On POSIX the child execs this program (a fork would inherit the
 * parent's already-read setting); on Windows run_child starts it anew. */
static void test_tmpf_debug_environment(void)
{
    char out[4096] = {0};
#ifndef _WIN32
    int pipefd[2];
    CHECK(pipe(pipefd) == 0);
    pid_t pid = fork();
    if (pid == 0) {
        dup2(pipefd[1], 2);
        close(pipefd[0]);
        close(pipefd[1]);
        setenv("TMPF_AUDIT_LEAK_CHILD", scratch, 1);
        setenv("TMPF_DEBUG", "1", 1);
        execl(self_exe, self_exe, (char *)NULL);
        _exit(127);
    }
    close(pipefd[1]);
    size_t got = 0;
    ssize_t n;
    while (got < sizeof out - 1 && (n = read(pipefd[0], out + got, sizeof out - 1 - got)) > 0)
        got += (size_t)n;
    close(pipefd[0]);
    int status;
    waitpid(pid, &status, 0);
    CHECK(WIFEXITED(status) && WEXITSTATUS(status) == 0);
#else
    CHECK_EQ_INT(setenv("TMPF_DEBUG", "1", 1), 0);
    int rc = run_child(report_child, "plain");
    unsetenv("TMPF_DEBUG");
    CHECK_EQ_INT(rc, 0);
    read_report(out, sizeof out);
#endif
    check_report(out);
}

static void test_no_report_without_debug(void)
{
    CHECK_EQ_INT(run_child(report_child, "plain"), 0);
    char out[256];
    read_report(out, sizeof out);
    CHECK_EQ_STR(out, "");
}

static const struct test_child children[] = {
    CHILD(report_child),
};


static const struct test tests[] = {
    TEST(test_named_file_create_close_delete),
    TEST(test_keep_after_close_deletes_at_cleanup),
    TEST(test_anonymous_and_directory_and_low_level),
    TEST(test_keep_event),
    TEST(test_failed_cleanup_carries_errno),
    TEST(test_stats_back_to_zero),
    TEST(test_hook_removed_sees_nothing),
    TEST(test_hook_does_not_reenter),
    TEST(test_two_threads_totals_match),
    TEST(test_leak_report_names_exactly_the_leaks),
    TEST(test_tmpf_debug_environment),
    TEST(test_no_report_without_debug),
};

int main(int argc, char **argv)
{
    self_exe = argv[0];
    harness_set_children(children, sizeof children / sizeof children[0]);
    const char *child_dir = getenv("TMPF_AUDIT_LEAK_CHILD");
    if (child_dir)
        return leak_child(child_dir);
    return run_tests(tests, sizeof tests / sizeof tests[0], argc, argv);
}
