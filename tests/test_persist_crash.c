/* Crash safety of tmpf_write_atomic: a child rewrites a file over and over
 * while the parent SIGKILLs it at random moments, hundreds of times. After
 * every kill:
 *  1. the target holds exactly one of the two contents;
 *  2. whatever else is in the directory is counted. A replace goes through
 *     a side name beside the target, ".#target.tmpf" whenever it is free
 *     (src/persist.c), so a kill between its creation and the final rename
 *     can leave that name: complete on the anonymous path (an O_TMPFILE
 *     file gets it only once written), possibly partial on a named path.
 *     Nothing else may be there (a random side name is only used while
 *     another writer holds the fixed one, and there is none here);
 *  3. the parent then writes the target once more, as the next writer
 *     would, and afterwards the directory holds the target and nothing
 *     else: a stale side name is always removed by the next write.
 * Modes:
 *  - anon: 1 MiB / 768 KiB contents, O_TMPFILE (writes over 64 KiB);
 *  - anon-noclobber: TMPF_NOCLOBBER, O_TMPFILE linked straight to a new
 *    target: nothing is ever left, not even before the next write;
 *  - small: 48 KiB / 40 KiB, the named temporary at the fixed side name;
 *  - named: 1 MiB / 768 KiB with O_TMPFILE refused (seccomp), the named
 *    path of a file system without it.
 * Set TMPF_CRASH_ROUNDS to change the number of kills per mode.
 *
 * The writer is a registered child (tests/harness.h): forked on POSIX;
 * on Windows this program re-run and killed with TerminateProcess, after
 * it says it is writing (a new process takes longer to start than a
 * write), with a tenth of the rounds under Wine. There O_TMPFILE does not
 * exist and an open file cannot be given a name: the anonymous modes take
 * the named temporary at the side name, so a partial side name is allowed
 * as on a generic POSIX build. */
#include "harness.h"
#include "no_o_tmpfile.h"
#include "tmpf_features.h"

#include <tmpf.h>

#include <time.h>

#define SIZE_A (1u << 20)
#define SIZE_B (768u << 10)
/* The small mode's sizes: under tmpf_write_atomic's 64 KiB threshold. */
#define SMALL_A (48u << 10)
#define SMALL_B (40u << 10)

static char *content_a, *content_b;
static unsigned seed;

struct mode {
    const char *name;
    bool noclobber;
    bool no_o_tmpfile;
    size_t size_a, size_b; /* prefixes of content_a and content_b */
};

static int rounds(void)
{
    const char *r = getenv("TMPF_CRASH_ROUNDS");
    int n = r && atoi(r) > 0 ? atoi(r) : 300;
    return HARNESS_WINDOWS ? n / test_scale_div() : n;
}

static const struct mode modes[] = {
    {"anon", false, false, SIZE_A, SIZE_B},
    {"anon-noclobber", true, false, SIZE_A, SIZE_B},
    {"small", false, false, SMALL_A, SMALL_B},
    {"named", false, true, SIZE_A, SIZE_B},
};

static const struct mode *mode_named(const char *name)
{
    for (size_t i = 0; i < sizeof modes / sizeof modes[0]; i++)
        if (strcmp(modes[i].name, name) == 0)
            return &modes[i];
    return NULL;
}

static int next_random(unsigned *s)
{
#ifndef _WIN32
    return rand_r(s);
#else
    *s = *s * 1103515245u + 12345u;
    return (int)((*s >> 16) & RAND_MAX);
#endif
}

static void sleep_us(double us)
{
#ifndef _WIN32
    struct timespec ts = {(time_t)(us / 1e6),
                          (long)((us - (double)(long)(us / 1e6) * 1e6) * 1e3)};
    nanosleep(&ts, NULL);
#else
    Sleep((DWORD)(us / 1e3));
#endif
}

#ifdef _WIN32
/* scratch/<mode>.ready: the writer's word that it is writing (Windows). */
static const char *ready_path(const struct mode *m)
{
    static char p[4200];
    snprintf(p, sizeof p, "%s" HARNESS_SEP_STR "%s.ready", scratch, m->name);
    return p;
}
#endif

static void make_contents(void)
{
    if (content_a)
        return;
    content_a = malloc(SIZE_A);
    content_b = malloc(SIZE_B);
    for (size_t i = 0; i < SIZE_A; i++)
        content_a[i] = (char)('a' + i % 13);
    for (size_t i = 0; i < SIZE_B; i++)
        content_b[i] = (char)('B' + i % 7);
}

/* 'A', 'B', or 0 for anything else (missing, torn, mixed). */
static char which_content(const char *path, const struct mode *m)
{
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return 0;
    struct stat st;
    char kind = 0;
    if (fstat(fd, &st) == 0 &&
        ((size_t)st.st_size == m->size_a || (size_t)st.st_size == m->size_b)) {
        size_t n = (size_t)st.st_size;
        char *buf = malloc(n);
        ssize_t got = read(fd, buf, n);
        if (got == (ssize_t)n) {
            if (n == m->size_a && memcmp(buf, content_a, n) == 0)
                kind = 'A';
            else if (n == m->size_b && memcmp(buf, content_b, n) == 0)
                kind = 'B';
        }
        free(buf);
    }
    close(fd);
    return kind;
}

/* Calls tmpf_write_atomic until killed; never returns. */
static void writer(const char *dir, const struct mode *m)
{
    if (m->no_o_tmpfile && !refuse_o_tmpfile())
        _exit(77);
#ifdef _WIN32
    if (write_file(ready_path(m), "", 0600) != 0)
        _exit(2);
#endif
    char target[4200];
    for (unsigned k = 0;; k++) {
        unsigned flags = (k % 4 == 3) ? TMPF_DURABLE : 0;
        if (m->noclobber) {
            snprintf(target, sizeof target, "%s/f%u", dir, k);
            flags |= TMPF_NOCLOBBER;
        } else {
            snprintf(target, sizeof target, "%s/target", dir);
        }
        const char *data = k % 2 ? content_b : content_a;
        size_t n = k % 2 ? m->size_b : m->size_a;
        if (tmpf_write_atomic(target, data, n, flags) != 0)
            _exit(1);
    }
}

/* The child: mode name -> the writer in scratch/<name>. */
static int writer_child(const char *name)
{
    const struct mode *m = mode_named(name);
    if (!m)
        return 3;
    make_contents();
    char dir[4200];
    snprintf(dir, sizeof dir, "%s" HARNESS_SEP_STR "%s", scratch, m->name);
    writer(dir, m);
    return 0;
}

static double now_us(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec * 1e6 + (double)ts.tv_nsec / 1e3;
}

/* Mean time of one write_atomic here, to spread the kills over a few. */
static double calibrate(const char *dir, const struct mode *m)
{
    char t[4200];
    snprintf(t, sizeof t, "%s/calibrate", dir);
    double t0 = now_us();
    for (int i = 0; i < 10; i++)
        tmpf_write_atomic(t, content_a, m->size_a, 0);
    double per = (now_us() - t0) / 10;
    unlink(t);
    return per > 1 ? per : 1;
}

struct tally {
    int kills, whole_a, whole_b;
    int side_complete, side_partial; /* .#target.tmpf left by a kill */
    int other;                       /* anything else left by a kill */
    int after_next;                  /* left after the next write */
};

/* Looks at dir after a kill: checks the target(s) and counts what else is
 * there (removing only the noclobber mode's finished targets). Returns
 * false on a broken target. */
static bool inspect(const char *dir, const struct mode *m, struct tally *t)
{
    DIR *d = opendir(dir);
    if (!d)
        return false;
    bool ok = true, saw_target = false;
    struct dirent *e;
    char path[4400];
    while ((e = readdir(d))) {
        if (!strcmp(e->d_name, ".") || !strcmp(e->d_name, ".."))
            continue;
        snprintf(path, sizeof path, "%s/%s", dir, e->d_name);
        char kind = which_content(path, m);
        if (!m->noclobber && !strcmp(e->d_name, "target")) {
            saw_target = true;
            if (kind == 'A')
                t->whole_a++;
            else if (kind == 'B')
                t->whole_b++;
            else
                ok = false;
        } else if (m->noclobber && e->d_name[0] == 'f') {
            /* f<k> holds A for even k, B for odd: complete or absent. */
            unsigned k = (unsigned)strtoul(e->d_name + 1, NULL, 10);
            if (kind != (k % 2 ? 'B' : 'A'))
                ok = false;
            unlink(path);
        } else if (!strcmp(e->d_name, ".#target.tmpf")) {
            if (kind)
                t->side_complete++;
            else
                t->side_partial++;
        } else {
            fprintf(stderr, "  left by the kill: %s\n", e->d_name);
            t->other++;
        }
    }
    closedir(d);
    if (!m->noclobber && !saw_target)
        ok = false;
    return ok;
}

/* Runs the kill loop for one mode; returns the tally. */
static struct tally crash_loop(const struct mode *m)
{
    struct tally t = {0};
    char dir[4200], target[4300];
    snprintf(dir, sizeof dir, "%s/%s", scratch, m->name);
    snprintf(target, sizeof target, "%s/target", dir);
    CHECK(mkdir(dir, 0755) == 0);
    make_contents();
    double per_op = calibrate(dir, m);
    if (!m->noclobber)
        CHECK_EQ_INT(tmpf_write_atomic(target, content_a, m->size_a, 0), 0);
    int n = rounds();
    for (int i = 0; i < n; i++) {
        struct harness_proc p;
        if (!child_start(writer_child, m->name, &p)) {
            FAIL_AT("cannot start the writer: %s", strerror(errno));
            break;
        }
#ifdef _WIN32
        for (int w = 0; w < 20000 && !path_exists(ready_path(m)); w++)
            Sleep(1);
#endif
        /* Anywhere from before the first write to a few writes in. */
        sleep_us(per_op * 4 * (double)next_random(&seed) / RAND_MAX);
        child_kill(&p);
        int status = child_wait(&p);
#ifdef _WIN32
        unlink(ready_path(m));
#endif
        if (status == 77) {
            fprintf(stderr, "  skipped %s: cannot install a seccomp filter\n", m->name);
            break;
        }
        if (status >= 0) {
            FAIL_AT("%s: writer failed (status %d) in round %d", m->name,
                    status, i);
            break;
        }
        t.kills++;
        if (!inspect(dir, m, &t)) {
            FAIL_AT("%s: broken target after kill %d (seed %u)", m->name, i, seed);
            break;
        }
        if (m->noclobber) {
            t.after_next += count_entries(dir);
            continue;
        }
        /* The next writer of the target: afterwards only the target. */
        if (tmpf_write_atomic(target, content_a, m->size_a, 0) != 0) {
            FAIL_AT("%s: the next write failed: %s", m->name, strerror(errno));
            break;
        }
        int left = count_entries(dir) - 1;
        if (left != 0) {
            FAIL_AT("%s: %d entries besides the target after the next write "
                    "(kill %d)", m->name, left, i);
            t.after_next += left;
            break;
        }
    }
    fprintf(stderr,
            "  %s: %d kills (%.0f us per write), target whole every time "
            "(%d A, %d B); left by the kill: .#target.tmpf %d complete, %d "
            "partial, other %d; left after the next write: %d\n",
            m->name, t.kills, per_op, t.whole_a, t.whole_b, t.side_complete,
            t.side_partial, t.other, t.after_next);
    return t;
}

static void test_crash_anonymous_replace(void)
{
    struct tally t = crash_loop(mode_named("anon"));
    CHECK_EQ_INT(t.kills, rounds());
    /* O_TMPFILE: nothing half-written ever has a name. The side name can
     * only survive a kill between linkat and rename, and is then whole.
     * Without O_TMPFILE (generic POSIX) this is the named path: a partial
     * file can be left, at the fixed side name only. */
    if (TMPF_HAVE_O_TMPFILE)
        CHECK_EQ_INT(t.side_partial, 0);
    CHECK_EQ_INT(t.other, 0);
    CHECK_EQ_INT(t.after_next, 0);
}

static void test_crash_anonymous_noclobber(void)
{
    struct tally t = crash_loop(mode_named("anon-noclobber"));
    CHECK_EQ_INT(t.kills, rounds());
    if (!TMPF_HAVE_O_TMPFILE) {
        /* The named path: a kill can leave the fixed side name of the
         * target being written (".#fN.tmpf", counted as "other" here since
         * each round has a new target); the next write of that target
         * sweeps it. The target was whole every time (crash_loop). */
        return;
    }
    CHECK_EQ_INT(t.side_complete + t.side_partial + t.other, 0);
    CHECK_EQ_INT(t.after_next, 0);
}

static void test_crash_small_named(void)
{
    struct tally t = crash_loop(mode_named("small"));
    CHECK_EQ_INT(t.kills, rounds());
    /* A named temporary can be left partial; only at the fixed name. */
    CHECK_EQ_INT(t.other, 0);
    CHECK_EQ_INT(t.after_next, 0);
}

#ifndef _WIN32
static void test_crash_named(void)
{
    struct tally t = crash_loop(mode_named("named"));
    CHECK_EQ_INT(t.other, 0);
    CHECK_EQ_INT(t.after_next, 0);
}
#endif

static const struct test tests[] = {
    TEST(test_crash_anonymous_replace),
    TEST(test_crash_anonymous_noclobber),
    TEST(test_crash_small_named),
    TEST_POSIX(test_crash_named, "O_TMPFILE refused by a seccomp filter in the writer (Windows has no O_TMPFILE)"),
};

static const struct test_child children[] = {
    CHILD(writer_child),
};

int main(int argc, char **argv)
{
    harness_set_children(children, sizeof children / sizeof children[0]);
    seed = (unsigned)time(NULL) ^ (unsigned)getpid();
    if (!harness_is_child_run(argc, argv))
        fprintf(stderr, "seed %u\n", seed);
    int rc = run_tests(tests, sizeof tests / sizeof tests[0], argc, argv);
    free(content_a);
    free(content_b);
    return rc;
}
