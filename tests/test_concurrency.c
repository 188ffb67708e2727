/*
 * Concurrency (issue 9): two threads creating 50,000 temporaries each in
 * one directory (no error, no duplicate name), and creation racing fork()
 * in another thread: names made in children and in the parent never
 * collide, a child never removes the parent's at-exit temporaries, and
 * nothing deadlocks (each child has an alarm).
 * Under valgrind (or with TMPF_TEST_SCALE=n) the counts are divided by 25.
 */
#include "harness.h"

#include <pthread.h>
#include <sched.h>
#include <stdatomic.h>
#include <tmpf.h>


#ifndef _WIN32
/* LeakSanitizer checks at exit like valgrind does. */
static bool under_lsan(void)
{
#if defined(__SANITIZE_ADDRESS__)
    return true;
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
    return true;
#endif
#endif
    return false;
}
#endif

static int cmp_str(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

/* ---- two threads, one directory --------------------------------------- */

struct worker {
    int n, errors, first_errno;
    char **names;
};

static void *create_many(void *arg)
{
    struct worker *w = arg;
    tmpf_opts o = {.dir = scratch};
    for (int i = 0; i < w->n; i++) {
        char *path = NULL;
        if (i % 2 == 0) {
            int fd = tmpf_mkstemp(&o, &path);
            if (fd >= 0)
                close(fd);
        } else {
            path = tmpf_mkdtemp(&o);
        }
        if (!path) {
            if (!w->errors++)
                w->first_errno = errno;
            continue;
        }
        w->names[i] = path;
    }
    return NULL;
}

static void test_two_threads_one_directory(void)
{
    int n = 50000 / test_scale_div();
    struct worker w[2];
    pthread_t t[2];
    char **all = calloc((size_t)n * 2, sizeof *all);
    CHECK(all != NULL);
    for (int i = 0; i < 2; i++) {
        w[i] = (struct worker){.n = n, .names = all + (size_t)i * n};
        CHECK(pthread_create(&t[i], NULL, create_many, &w[i]) == 0);
    }
    for (int i = 0; i < 2; i++) {
        pthread_join(t[i], NULL);
        CHECK_EQ_INT(w[i].errors, 0);
        if (w[i].errors)
            fprintf(stderr, "  first error: %s\n", strerror(w[i].first_errno));
    }
    int got = 0;
    for (int i = 0; i < 2 * n; i++)
        if (all[i])
            all[got++] = all[i];
    CHECK_EQ_INT(got, 2 * n);
    qsort(all, (size_t)got, sizeof *all, cmp_str);
    int dups = 0;
    for (int i = 1; i < got; i++)
        if (strcmp(all[i - 1], all[i]) == 0)
            dups++;
    CHECK_EQ_INT(dups, 0);
    CHECK_EQ_INT(count_entries(scratch), got);
    for (int i = 0; i < got; i++) {
        if (unlink(all[i]) != 0)
            rmdir(all[i]);
        free(all[i]);
    }
    free(all);
    fprintf(stderr, "  %d creations by 2 threads, no error, no duplicate\n",
            2 * n);
}

#ifndef _WIN32
/* ---- creation racing fork() ------------------------------------------- */

static char pdir[4096], cdir[4096];
static atomic_int stop_creating;
/* Creations the parent thread may still make: each fork adds some, so
 * every fork races creation and the name count stays small enough that
 * chance repeats among 37^8 names are negligible. */
static atomic_int budget;
static char **parent_names;
static int parent_count, parent_cap, parent_errors;

static void *create_until_stopped(void *arg)
{
    (void)arg;
    tmpf_opts o = {.dir = pdir, .flags = TMPF_AT_EXIT};
    tmpf_scope *s = tmpf_scope_new(0);
    while (!stop_creating) {
        if (atomic_load(&budget) <= 0) {
            sched_yield();
            continue;
        }
        atomic_fetch_sub(&budget, 1);
        o.scope = parent_count % 3 == 0 ? s : NULL;
        tmpf_file *f = tmpf_named_temporary_file(&o);
        if (!f) {
            parent_errors++;
            continue;
        }
        if (parent_count == parent_cap) {
            parent_cap = parent_cap ? parent_cap * 2 : 1024;
            parent_names = realloc(parent_names, parent_cap * sizeof *parent_names);
        }
        parent_names[parent_count++] = strdup(path_base(tmpf_file_path(f)));
        tmpf_file_cleanup(f); /* also leaves the scope: its lock again */
    }
    tmpf_scope_cleanup(s);
    return NULL;
}

/* In the child: a few temporaries (at-exit ones too), names to the pipe,
 * then exit() so the at-exit machinery runs in the child. */
static void child(int wfd)
{
    alarm(20); /* a deadlock shows as SIGALRM */
    /* Under valgrind or LSan any exit runs a leak check in the child, which sees
     * the memory of the parent's other thread (gone in the child) as lost:
     * there the child cleans up by hand and ends by exec'ing true. */
    bool by_hand = test_scale_div() > 1 || under_lsan();
    tmpf_opts o = {.dir = cdir, .flags = TMPF_AT_EXIT};
    for (int i = 0; i < 10; i++) {
        tmpf_file *f = tmpf_named_temporary_file(&o);
        if (!f)
            _exit(3);
        char line[256];
        int len = snprintf(line, sizeof line, "%s\n",
                           path_base(tmpf_file_path(f)));
        if (write(wfd, line, (size_t)len) != len)
            _exit(4);
        if (i % 2 || by_hand)
            tmpf_file_cleanup(f); /* the others go at exit */
    }
    if (by_hand) {
        execl("/bin/true", "true", (char *)NULL);
        _exit(0);
    }
    exit(0);
}

static void test_creation_racing_fork(void)
{
    snprintf(pdir, sizeof pdir, "%s/parent", scratch);
    snprintf(cdir, sizeof cdir, "%s/children", scratch);
    CHECK(mkdir(pdir, 0700) == 0 && mkdir(cdir, 0700) == 0);
    tmpf_opts ko = {.dir = scratch, .flags = TMPF_AT_EXIT};
    tmpf_file *keeper = tmpf_named_temporary_file(&ko);
    CHECK(keeper != NULL);

    pthread_t t;
    stop_creating = 0;
    CHECK(pthread_create(&t, NULL, create_until_stopped, NULL) == 0);
    int forks = 100 / test_scale_div() + 4, bad = 0;
    size_t child_cap = (size_t)forks * 10, nchild = 0;
    char **child_names = calloc(child_cap, sizeof *child_names);
    for (int i = 0; i < forks; i++) {
        int p[2];
        CHECK(pipe2(p, O_CLOEXEC) == 0);
        atomic_fetch_add(&budget, 100);
        fflush(NULL);
        pid_t pid = fork();
        if (pid == 0) {
            close(p[0]);
            child(p[1]);
        }
        close(p[1]);
        char buf[4096];
        size_t used = 0;
        ssize_t r;
        while ((r = read(p[0], buf + used, sizeof buf - 1 - used)) > 0)
            used += (size_t)r;
        buf[used] = 0;
        close(p[0]);
        int st;
        CHECK(waitpid(pid, &st, 0) == pid);
        if (!WIFEXITED(st) || WEXITSTATUS(st) != 0) {
            bad++;
            FAIL_AT("child %d: %s %d", i, WIFEXITED(st) ? "exit" : "signal",
                    WIFEXITED(st) ? WEXITSTATUS(st) : WTERMSIG(st));
        }
        for (char *line = strtok(buf, "\n"); line && nchild < child_cap;
             line = strtok(NULL, "\n"))
            child_names[nchild++] = strdup(line);
    }
    stop_creating = 1;
    pthread_join(t, NULL);
    CHECK_EQ_INT(parent_errors, 0);
    CHECK_EQ_INT(bad, 0);
    CHECK_EQ_INT(nchild, (size_t)forks * 10);
    /* children's exit removed their own at-exit files, not the parent's */
    CHECK_EQ_INT(count_entries(cdir), 0);
    CHECK(path_exists(tmpf_file_path(keeper)));

    /* no name twice, across the parent and all children */
    size_t total = nchild + (size_t)parent_count;
    char **all = calloc(total, sizeof *all);
    memcpy(all, child_names, nchild * sizeof *all);
    memcpy(all + nchild, parent_names, (size_t)parent_count * sizeof *all);
    qsort(all, total, sizeof *all, cmp_str);
    int dups = 0;
    for (size_t i = 1; i < total; i++)
        if (strcmp(all[i - 1], all[i]) == 0)
            dups++;
    CHECK_EQ_INT(dups, 0);
    fprintf(stderr, "  %d forks (%zu names in children) raced %d creations"
            " in the parent: no collision, no deadlock\n",
            forks, nchild, parent_count);
    for (size_t i = 0; i < total; i++)
        free(all[i]);
    free(all);
    free(child_names);
    free(parent_names);
    parent_names = NULL;
    parent_count = parent_cap = 0;
    CHECK(tmpf_file_cleanup(keeper) == 0);
}
#endif

static const struct test tests[] = {
    TEST(test_two_threads_one_directory),
    TEST_POSIX(test_creation_racing_fork, "fork() racing creation: Windows has no fork"),
};

TEST_MAIN(tests)
