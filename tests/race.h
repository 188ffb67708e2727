/*
 * The swap race of the rmtree attack tests (Rust CVE-2022-21658), shared
 * by test_rmtree_attack.c and test_rmtree_toctou.c: an attacker thread
 * swaps a directory of the tree for a symlink to a directory outside it
 * (or moves it into that directory) while tmpf_rmtree runs, thousands of
 * times; afterwards every file outside is still there with its mode.
 *
 *   static const struct race_case cases[] = {
 *       {"exchange", EXCHANGE, build_swap, false, 500, 400000, NULL, 0755},
 *   };
 *   run_races(cases, 1, false);
 *
 * Checks that run in a child return OK or FAILED(code), which prints the
 * line; check_child turns the exit status into a test failure.
 */
#ifndef TMPF_TEST_RACE_H
#define TMPF_TEST_RACE_H

#include "tree.h"
#include <tmpf.h>

#include <pthread.h>
#include <sched.h>
#include <stdatomic.h>
#include <sys/syscall.h>

#ifndef RENAME_EXCHANGE
#define RENAME_EXCHANGE (1 << 1)
#endif

/* Exit codes of the checks run in children. */
enum { OK = 0, E_SETUP = 10, E_RESULT = 11, E_OUTSIDE = 12, E_LEFT = 13, E_GONE = 14,
       E_LEAK = 15, E_SKIP = 77 };

/* A check in a child failed: say where, then exit with code. */
#define FAILED(code)                                                           \
    (fprintf(stderr, "  %s:%d: check failed (errno %d: %s)\n", __FILE__,       \
             __LINE__, errno, strerror(errno)),                                \
     (code))

static inline void check_child(int rc, const char *what)
{
    if (rc != OK)
        FAIL_AT("%s: child exit %d (10 setup, 11 result, 12 outside changed,"
                " 13 tree left, 14 something of ours gone, 15 fd leak)",
                what, rc);
}

static inline double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

enum attack {
    EXCHANGE,  /* renameat2(RENAME_EXCHANGE) of the directory and a symlink */
    RENAME,    /* rename the directory away, symlink in its place, undo */
    INTO_OUT,  /* move the directory into the outside directory and back */
};
enum { RUN, PAUSE, STOP };

struct race {
    enum attack how;
    char dir[4096];   /* the directory the attacker swaps */
    char link[4096];  /* EXCHANGE: the symlink it swaps with */
    char away[4096];  /* RENAME, INTO_OUT: where the directory goes */
    const char *out;
    long delay_ns;    /* before the first attack of an iteration */
    atomic_int state, seen;
    atomic_long swaps;
};

/* Busy-waits ns, or less if the main thread pauses the race meanwhile. */
static inline void spin_ns(struct race *r, long ns)
{
    double end = now_s() + (double)ns / 1e9;
    while (now_s() < end && atomic_load_explicit(&r->state, memory_order_relaxed) == RUN) {
    }
}

/* Runs while state is RUN: waits the iteration's delay (so that the first
 * swap falls anywhere in the walk), then attacks up to ATTACKS times a
 * couple of microseconds apart (an attacker hammering the directory's lock
 * only slows the walk down). */
#define ATTACKS 16
static inline void *attacker(void *arg)
{
    struct race *r = arg;
    bool started = false;
    int left = 0;
    for (;;) {
        int st = atomic_load(&r->state);
        atomic_store(&r->seen, st);
        if (st == STOP)
            return NULL;
        if (st == PAUSE) {
            started = false;
            sched_yield();
            continue;
        }
        if (!started) {
            spin_ns(r, r->delay_ns);
            started = true;
            left = ATTACKS;
        }
        if (left == 0) {
            sched_yield();
            continue;
        }
        left--;
        switch (r->how) {
        case EXCHANGE:
#ifdef SYS_renameat2
            if (syscall(SYS_renameat2, AT_FDCWD, r->dir, AT_FDCWD, r->link,
                        RENAME_EXCHANGE) == 0)
                atomic_fetch_add(&r->swaps, 1);
#endif
            break;
        case RENAME:
            if (rename(r->dir, r->away) != 0)
                break;
            if (symlink(r->out, r->dir) == 0)
                atomic_fetch_add(&r->swaps, 1);
            spin_ns(r, 2000); /* a window for the walk to meet the link */
            unlink(r->dir);
            rename(r->away, r->dir);
            break;
        case INTO_OUT:
            if (rename(r->dir, r->away) == 0) {
                atomic_fetch_add(&r->swaps, 1);
                spin_ns(r, 2000);
                rename(r->away, r->dir);
            }
            break;
        }
        spin_ns(r, 2000);
    }
}

static inline void race_set(struct race *r, int st)
{
    atomic_store(&r->state, st);
    while (atomic_load(&r->seen) != st)
        sched_yield();
}

/* What a race builds: the tree at root and where its attacker works. */
typedef int (*race_build_fn)(const char *root, struct race *r, bool repair);

/* root/a/d (files, a subdirectory, a symlink to an outside file) is the
 * swapped directory; a/s a symlink to out; files around it so the walk
 * spends time near d. With repair: d and its contents need fixing. */
static inline int build_swap(const char *root, struct race *r, bool repair)
{
    int rc = 0;
    rc |= mkdir(root, 0700);
    rc |= mkdir(P("%s/a", root), 0700);
    rc |= mkdir(P("%s/a/d", root), 0700);
    rc |= mkdir(P("%s/a/d/e", root), 0700);
    for (int k = 0; k < 6; k++) {
        rc |= write_file(P("%s/a/x%d", root, k), "x", 0600);
        rc |= write_file(P("%s/a/d/f%d", root, k), "x", 0600);
        rc |= write_file(P("%s/a/d/e/g%d", root, k), "x", 0400);
    }
    rc |= symlink(P("%s/f0", r->out), P("%s/a/d/to-file", root));
    rc |= symlink(r->out, P("%s/a/d/e/to-out", root));
    rc |= symlink(r->out, P("%s/a/s", root));
    rc |= mkdir(P("%s/b", root), 0700);
    for (int k = 0; k < 6; k++)
        rc |= write_file(P("%s/b/y%d", root, k), "x", 0600);
    if (repair) {
        rc |= chmod(P("%s/a/d/e", root), 0500);
        rc |= chmod(P("%s/a/d", root), 0000);
        rc |= chmod(P("%s/b", root), 0500);
    }
    snprintf(r->dir, sizeof r->dir, "%s/a/d", root);
    snprintf(r->link, sizeof r->link, "%s/a/s", root);
    snprintf(r->away, sizeof r->away, "%s/a/away", root);
    return rc ? -1 : 0;
}

/* A chain root/l/l/... 60 deep (beyond the walk's 48 open directories, so
 * ancestors are closed and reopened through ".." or by name), a file per
 * level; the attacker moves the second level into out and back (then the
 * ".." of the walk's directories leads into out) or swaps it for a
 * symlink. */
#define CHAIN 60
static inline int build_chain(const char *root, struct race *r, bool repair)
{
    (void)repair;
    char path[4096];
    snprintf(path, sizeof path, "%s", root);
    int rc = 0;
    for (int i = 0; i < CHAIN && !rc; i++) {
        rc |= mkdir(path, 0700);
        rc |= write_file(P("%s/f", path), "x", 0600);
        strcat(path, "/l");
    }
    rc |= symlink(r->out, P("%s/l/s", root));
    snprintf(r->dir, sizeof r->dir, "%s/l/l", root);
    snprintf(r->link, sizeof r->link, "%s/l/s", root);
    snprintf(r->away, sizeof r->away, "%s/in-%s", r->out, strrchr(root, '/') + 1);
    return rc ? -1 : 0;
}

struct race_case {
    const char *name;
    enum attack how;
    race_build_fn build;
    bool repair;
    int iterations;
    long max_delay_ns; /* about the time an unattacked walk takes */
    const char *base;  /* set by run_races: the case's own directory */
    const char *out;   /* base/out */
    mode_t out_mode;
};

/* Runs the case's iterations: build a fresh tree (attacker paused), let
 * the attacker loose, tmpf_rmtree, pause, check the outside directory.
 * Then removes whatever the attacks left, calmly: that must succeed. */
static inline int race_run(void *arg)
{
    const struct race_case *c = arg;
    double t0 = now_s();
    if (make_outside(c->out, c->out_mode) != 0)
        return FAILED(E_SETUP);
    struct race r = {.how = c->how, .out = c->out};
    atomic_init(&r.state, PAUSE);
    atomic_init(&r.seen, -1);
    atomic_init(&r.swaps, 0);
    pthread_t t;
    if (pthread_create(&t, NULL, attacker, &r) != 0)
        return FAILED(E_SETUP);
    race_set(&r, PAUSE);
    int rc = OK, failed_runs = 0, attacked_runs = 0, fds = count_open_fds();
    uint64_t seed = 42;
    long swaps = 0;
    for (int i = 0; i < c->iterations && rc == OK; i++) {
        char root[4160];
        snprintf(root, sizeof root, "%s/r%d", c->base, i);
        if (c->build(root, &r, c->repair) != 0) {
            rc = E_SETUP;
            break;
        }
        long before = atomic_load(&r.swaps);
        seed = seed * 6364136223846793005u + 1442695040888963407u;
        r.delay_ns = (long)((seed >> 33) % (uint64_t)c->max_delay_ns);
        race_set(&r, RUN);
        if (tmpf_rmtree(root, 0) != 0)
            failed_runs++;
        race_set(&r, PAUSE);
        long during = atomic_load(&r.swaps) - before;
        swaps += during;
        attacked_runs += during > 0;
        if (!outside_intact(c->out, c->out_mode)) {
            fprintf(stderr, "  %s: outside changed in iteration %d\n", c->name, i);
            rc = E_OUTSIDE;
        }
    }
    race_set(&r, STOP);
    pthread_join(t, NULL);
    if (count_open_fds() != fds)
        rc = rc ? rc : E_LEAK;
    /* Leftovers (the attacker can make an entry reappear after the walk
     * read its directory), in the tree or moved into out: now removable. */
    int left = 0;
    for (int i = 0; i < c->iterations; i++) {
        char root[4160], moved[4160];
        snprintf(root, sizeof root, "%s/r%d", c->base, i);
        snprintf(moved, sizeof moved, "%s/in-r%d", c->out, i);
        left += path_exists(root) || path_exists(moved);
        if ((path_exists(root) && tmpf_rmtree(root, 0) != 0) ||
            (path_exists(moved) && c->out_mode & 0200 && tmpf_rmtree(moved, 0) != 0))
            rc = rc ? rc : E_LEFT;
    }
    if (!outside_intact(c->out, c->out_mode))
        rc = rc ? rc : E_OUTSIDE;
    fprintf(stderr,
            "  %s (%.2f s): %d walks, %d with the attacker swapping while it ran"
            " (%ld swaps), %d reported an error, %d left something\n",
            c->name, (now_s() - t0), c->iterations, attacked_runs, swaps, failed_runs, left);
    return rc;
}

static inline bool have_rename_exchange(void)
{
#ifdef SYS_renameat2
    const char *a = P("%s/xa", scratch), *b = P("%s/xb", scratch);
    bool ok = mkdir(a, 0700) == 0 && symlink("xa", b) == 0 &&
              syscall(SYS_renameat2, AT_FDCWD, a, AT_FDCWD, b, RENAME_EXCHANGE) == 0;
    unlink(a);
    rmdir(b);
    rmdir(a);
    unlink(b);
    return ok;
#else
    return false;
#endif
}

static inline void run_races(const struct race_case *cases, size_t n, bool as_nobody)
{
    bool exchange = have_rename_exchange();
    for (size_t i = 0; i < n; i++) {
        struct race_case c = cases[i];
        if (c.how == EXCHANGE && !exchange) {
            fprintf(stderr, "  %s: skipped, no renameat2(RENAME_EXCHANGE) here\n",
                    c.name);
            continue;
        }
        c.iterations = c.iterations / test_scale_div() + 1;
        static unsigned serial;
        char base[4160], out[4200];
        snprintf(base, sizeof base, "%s/case%u", scratch, serial++);
        snprintf(out, sizeof out, "%s/out", base);
        if (mkdir(base, 0700) != 0 || chmod(base, 0777) != 0) {
            CHECK(!"mkdir base");
            return;
        }
        c.base = base;
        c.out = out;
        int rc = as_nobody ? run_as_nobody(race_run, &c) : run_in_child(race_run, &c);
        check_child(rc, c.name);
        CHECK(outside_intact(out, c.out_mode));
    }
}

#endif
