/* Crash safety of tmpf_write_atomic: a child rewrites a file over and over
 * while the parent SIGKILLs it at random moments, hundreds of times. After
 * every kill the target must hold exactly one of the two contents, and
 * whatever else is in the directory is counted:
 *  - anonymous path (O_TMPFILE), replace: the only possible leftover is the
 *    side name linked just before the final rename, and it must be
 *    complete; its count is reported.
 *  - anonymous path, TMPF_NOCLOBBER (linkat straight to the target): no
 *    leftover at all, and every file created is complete.
 *  - named path (no O_TMPFILE, simulated): leftovers are counted and
 *    reported; they are what O_TMPFILE exists to avoid.
 * Set TMPF_CRASH_ROUNDS to change the number of kills per mode. */
#include "harness.h"
#include "no_o_tmpfile.h"

#include <tmpf.h>

#include <time.h>

#define SIZE_A (1u << 20)
#define SIZE_B (768u << 10)

static char *content_a, *content_b;
static unsigned seed;

static int rounds(void)
{
    const char *r = getenv("TMPF_CRASH_ROUNDS");
    return r && atoi(r) > 0 ? atoi(r) : 300;
}

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
static char which_content(const char *path)
{
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return 0;
    struct stat st;
    char kind = 0;
    if (fstat(fd, &st) == 0 && (st.st_size == SIZE_A || st.st_size == SIZE_B)) {
        size_t n = (size_t)st.st_size;
        char *buf = malloc(n);
        ssize_t got = read(fd, buf, n);
        if (got == (ssize_t)n) {
            if (n == SIZE_A && memcmp(buf, content_a, n) == 0)
                kind = 'A';
            else if (n == SIZE_B && memcmp(buf, content_b, n) == 0)
                kind = 'B';
        }
        free(buf);
    }
    close(fd);
    return kind;
}

/* Calls tmpf_write_atomic until killed; never returns. */
static void writer(const char *dir, bool noclobber, bool named)
{
    if (named && !refuse_o_tmpfile())
        _exit(77);
    char target[4200];
    for (unsigned k = 0;; k++) {
        unsigned flags = (k % 4 == 3) ? TMPF_DURABLE : 0;
        if (noclobber) {
            snprintf(target, sizeof target, "%s/f%u", dir, k);
            flags |= TMPF_NOCLOBBER;
        } else {
            snprintf(target, sizeof target, "%s/target", dir);
        }
        const char *data = k % 2 ? content_b : content_a;
        size_t n = k % 2 ? SIZE_B : SIZE_A;
        if (tmpf_write_atomic(target, data, n, flags) != 0)
            _exit(1);
    }
}

static double now_us(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec * 1e6 + (double)ts.tv_nsec / 1e3;
}

/* Mean time of one write_atomic here, to spread the kills over a few. */
static double calibrate(const char *dir)
{
    char t[4200];
    snprintf(t, sizeof t, "%s/calibrate", dir);
    double t0 = now_us();
    for (int i = 0; i < 10; i++)
        tmpf_write_atomic(t, content_a, SIZE_A, 0);
    double per = (now_us() - t0) / 10;
    unlink(t);
    return per > 1 ? per : 1;
}

struct tally {
    int kills, whole_a, whole_b, side_complete, side_partial, other;
};

/* Looks at dir after a kill: checks the target(s), counts and removes
 * leftovers. Returns false on a broken target. */
static bool inspect(const char *dir, bool noclobber, struct tally *t)
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
        char kind = which_content(path);
        if (!noclobber && !strcmp(e->d_name, "target")) {
            saw_target = true;
            if (kind == 'A')
                t->whole_a++;
            else if (kind == 'B')
                t->whole_b++;
            else
                ok = false;
        } else if (noclobber && e->d_name[0] == 'f') {
            /* f<k> holds A for even k, B for odd: complete or absent. */
            unsigned k = (unsigned)strtoul(e->d_name + 1, NULL, 10);
            if (kind != (k % 2 ? 'B' : 'A'))
                ok = false;
            unlink(path);
        } else if (!strncmp(e->d_name, ".#target.", 9)) {
            if (kind)
                t->side_complete++;
            else
                t->side_partial++;
            unlink(path);
        } else {
            t->other++;
            unlink(path);
        }
    }
    closedir(d);
    if (!noclobber && !saw_target)
        ok = false;
    return ok;
}

/* Runs the kill loop for one mode; returns the tally. */
static struct tally crash_loop(const char *name, bool noclobber, bool named)
{
    struct tally t = {0};
    char dir[4200];
    snprintf(dir, sizeof dir, "%s/%s", scratch, name);
    CHECK(mkdir(dir, 0755) == 0);
    make_contents();
    double per_op = calibrate(dir);
    if (!noclobber) {
        char target[4300];
        snprintf(target, sizeof target, "%s/target", dir);
        CHECK_EQ_INT(tmpf_write_atomic(target, content_a, SIZE_A, 0), 0);
    }
    int n = rounds();
    for (int i = 0; i < n; i++) {
        fflush(NULL);
        pid_t pid = fork();
        if (pid < 0) {
            FAIL_AT("fork: %s", strerror(errno));
            break;
        }
        if (pid == 0)
            writer(dir, noclobber, named);
        /* Anywhere from before the first write to a few writes in. */
        double delay = per_op * 4 * (double)rand_r(&seed) / RAND_MAX;
        struct timespec ts = {(time_t)(delay / 1e6),
                              (long)((delay - (double)(long)(delay / 1e6) * 1e6) * 1e3)};
        nanosleep(&ts, NULL);
        kill(pid, SIGKILL);
        int status;
        waitpid(pid, &status, 0);
        if (WIFEXITED(status) && WEXITSTATUS(status) == 77) {
            fprintf(stderr, "  skipped %s: cannot install a seccomp filter\n", name);
            break;
        }
        if (WIFEXITED(status)) {
            FAIL_AT("%s: writer failed (status %d) in round %d", name,
                    WEXITSTATUS(status), i);
            break;
        }
        t.kills++;
        if (!inspect(dir, noclobber, &t)) {
            FAIL_AT("%s: broken target after kill %d (seed %u)", name, i, seed);
            break;
        }
    }
    fprintf(stderr,
            "  %s: %d kills (%.0f us per write), target whole every time "
            "(%d A, %d B); side names left: %d complete, %d partial; other "
            "leftovers: %d\n",
            name, t.kills, per_op, t.whole_a, t.whole_b, t.side_complete,
            t.side_partial, t.other);
    return t;
}

static void test_crash_anonymous_replace(void)
{
    struct tally t = crash_loop("anon", false, false);
    CHECK_EQ_INT(t.kills, rounds());
    /* O_TMPFILE: nothing half-written can ever have a name. A side name can
     * only survive a kill between linkat and rename, and is then whole. */
    CHECK_EQ_INT(t.side_partial, 0);
    CHECK_EQ_INT(t.other, 0);
}

static void test_crash_anonymous_noclobber(void)
{
    struct tally t = crash_loop("anon-noclobber", true, false);
    CHECK_EQ_INT(t.kills, rounds());
    CHECK_EQ_INT(t.side_complete + t.side_partial + t.other, 0);
}

static void test_crash_named(void)
{
    struct tally t = crash_loop("named", false, true);
    /* Leftovers are expected here; only the target's integrity is asserted. */
    CHECK_EQ_INT(t.other, 0);
}

static const struct test tests[] = {
    TEST(test_crash_anonymous_replace),
    TEST(test_crash_anonymous_noclobber),
    TEST(test_crash_named),
};

int main(int argc, char **argv)
{
    seed = (unsigned)time(NULL) ^ (unsigned)getpid();
    fprintf(stderr, "seed %u\n", seed);
    int rc = run_tests(tests, sizeof tests / sizeof tests[0], argc, argv);
    free(content_a);
    free(content_b);
    return rc;
}
