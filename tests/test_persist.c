/* tmpf_file_persist and tmpf_write_atomic. */
#include "harness.h"
#include "no_o_tmpfile.h"
#include "tmpf_features.h"

#include <tmpf.h>

#include <pthread.h>
#include <sched.h>
#include <stdatomic.h>
#ifndef _WIN32
#include <sys/file.h>
#endif
#ifndef _WIN32
#include <sys/mount.h>
#endif
#ifndef _WIN32
#include <sys/resource.h>
#endif

/* Internal: fsync calls made by the library so far (src/unix/persist_os.c). */
extern unsigned long tmpf__test_fsync_count(void);

static char *path_in(const char *name)
{
    static char buf[8][4200];
    static int next;
    char *p = buf[next++ % 8];
    snprintf(p, sizeof buf[0], "%s" HARNESS_SEP_STR "%s", scratch, name);
    return p;
}

/* Whole content of a file (NUL-terminated, malloc'd), NULL if unreadable. */
static char *slurp(const char *path, size_t *len)
{
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return NULL;
    size_t cap = 4096, n = 0;
    char *buf = malloc(cap + 1);
    for (;;) {
        if (n == cap)
            buf = realloc(buf, (cap *= 2) + 1);
        ssize_t got = read(fd, buf + n, cap - n);
        if (got <= 0)
            break;
        n += (size_t)got;
    }
    close(fd);
    buf[n] = '\0';
    if (len)
        *len = n;
    return buf;
}

static bool content_is(const char *path, const char *want)
{
    char *got = slurp(path, NULL);
    bool ok = got && strcmp(got, want) == 0;
    if (!ok)
        fprintf(stderr, "  %s holds \"%s\", want \"%s\"\n", path,
                got ? got : "(unreadable)", want);
    free(got);
    return ok;
}

static mode_t mode_of(const char *path)
{
    struct stat st;
    return lstat(path, &st) == 0 ? st.st_mode & 07777 : (mode_t)-1;
}

static uint64_t ino_of(const char *path)
{
    return path_id(path);
}

/* The names in a directory, sorted and joined with '/', for before/after
 * comparisons. */
static int cmp_names(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

static char *listing(const char *dir)
{
    DIR *d = opendir(dir);
    if (!d)
        return strdup("(unreadable)");
    char **names = NULL;
    size_t n = 0, cap = 1;
    struct dirent *e;
    while ((e = readdir(d))) {
        if (!strcmp(e->d_name, ".") || !strcmp(e->d_name, ".."))
            continue;
        char **more = realloc(names, (n + 1) * sizeof *names);
        if (!more)
            break;
        names = more;
        names[n++] = strdup(e->d_name);
        cap += strlen(e->d_name) + 1;
    }
    closedir(d);
    qsort(names, n, sizeof *names, cmp_names);
    char *out = calloc(1, cap);
    for (size_t i = 0; i < n; i++) {
        strcat(out, names[i]);
        strcat(out, "/");
        free(names[i]);
    }
    free(names);
    return out;
}

#define CHECK_LISTING(dir, before)                                             \
    do {                                                                       \
        char *after_ = listing(dir);                                           \
        CHECK_EQ_STR(after_, before);                                          \
        free(after_);                                                          \
    } while (0)

/* ---- tmpf_write_atomic ------------------------------------------------- */

static void test_write_atomic_replaces_existing(void)
{
    const char *t = path_in("config");
    CHECK(write_file(t, "old content", 0644) == 0);
    uint64_t old_ino = ino_of(t);
    CHECK_EQ_INT(tmpf_write_atomic(t, "new", 3, 0), 0);
    CHECK(content_is(t, "new"));
    CHECK(ino_of(t) != old_ino); /* replaced, not rewritten in place */
    CHECK_EQ_INT(count_entries(scratch), 1);
    /* Empty content is content too. */
    CHECK_EQ_INT(tmpf_write_atomic(t, NULL, 0, 0), 0);
    CHECK(content_is(t, ""));
    CHECK_EQ_INT(count_entries(scratch), 1);
}

static void test_write_atomic_creates_new(void)
{
    static const mode_t masks[] = {022, 077, 0};
    for (size_t i = 0; i < sizeof masks / sizeof masks[0]; i++) {
        char name[32];
        snprintf(name, sizeof name, "new%zu", i);
        const char *t = path_in(name);
        mode_t old = umask(masks[i]);
        int rc = tmpf_write_atomic(t, "fresh", 5, 0);
        umask(old);
        CHECK_EQ_INT(rc, 0);
        CHECK(content_is(t, "fresh"));
        CHECK_MODE(mode_of(t), 0666 & ~masks[i]);
    }
    CHECK_EQ_INT(count_entries(scratch), 3);
    /* A relative target. */
    char cwd[4096];
    CHECK(getcwd(cwd, sizeof cwd) != NULL);
    CHECK(chdir(scratch) == 0);
    CHECK_EQ_INT(tmpf_write_atomic("rel", "r", 1, 0), 0);
    CHECK(chdir(cwd) == 0);
    CHECK(content_is(path_in("rel"), "r"));
    CHECK_EQ_INT(count_entries(scratch), 4);
}

static void test_write_atomic_noclobber(void)
{
    const char *t = path_in("keep");
    CHECK(write_file(t, "precious", 0644) == 0);
    char *before = listing(scratch);
    CHECK_ERRNO(tmpf_write_atomic(t, "x", 1, TMPF_NOCLOBBER), -1, EEXIST);
    CHECK(content_is(t, "precious"));
    CHECK_LISTING(scratch, before);
    free(before);
    int entries = 1;
#ifndef _WIN32 /* Wine makes no links */
    /* Also a dangling symlink counts as existing for the atomic check. */
    const char *dangling = path_in("dangling");
    CHECK(symlink("nowhere", dangling) == 0);
    CHECK_ERRNO(tmpf_write_atomic(dangling, "x", 1, TMPF_NOCLOBBER), -1, EEXIST);
    CHECK_EQ_INT(count_entries(scratch), 2);
    entries++;
#endif
    /* A new target is fine, durable too. */
    const char *n = path_in("brand-new");
    CHECK_EQ_INT(tmpf_write_atomic(n, "y", 1, TMPF_NOCLOBBER | TMPF_DURABLE), 0);
    CHECK(content_is(n, "y"));
    CHECK_EQ_INT(count_entries(scratch), entries + 1);
}

/* Above tmpf_write_atomic's 64 KiB named-temporary threshold: O_TMPFILE. */
#define BIG (128 * 1024)

/* size bytes of c (malloc'd, NUL-terminated). */
static char *filled(char c, size_t size)
{
    char *p = malloc(size + 1);
    memset(p, c, size);
    p[size] = '\0';
    return p;
}

static void test_write_atomic_preserves_mode(void)
{
    static const mode_t modes[] = {0640, 0600, 0666, 0604, 0444, 0755};
    static const mode_t masks[] = {022, 077};
    static const size_t sizes[] = {1, BIG}; /* named path, O_TMPFILE path */
    char *big = filled('b', BIG);
    for (size_t u = 0; u < 2; u++)
        for (size_t z = 0; z < 2; z++)
            for (size_t i = 0; i < sizeof modes / sizeof modes[0]; i++) {
                mode_t old = umask(masks[u]);
                const char *t = path_in("m");
                unlink(t);
                CHECK(write_file(t, "a", 0600) == 0);
                CHECK(chmod(t, modes[i]) == 0);
                CHECK_EQ_INT(tmpf_write_atomic(t, big, sizes[z], 0), 0);
                umask(old);
                CHECK_MODE(mode_of(t), modes[i]);
                char *got = slurp(t, NULL);
                CHECK(got && strlen(got) == sizes[z]);
                free(got);
            }
    /* Setuid/setgid are not handed to the new content. */
    mode_t old = umask(022);
    const char *t = path_in("m");
    for (size_t z = 0; z < 2; z++) {
        CHECK(chmod(t, 06755) == 0);
        CHECK_EQ_INT(tmpf_write_atomic(t, big, sizes[z], 0), 0);
        CHECK_MODE(mode_of(t), 0755);
    }
    umask(old);
    free(big);
    CHECK_EQ_INT(count_entries(scratch), 1);
}

#ifndef _WIN32
static void test_write_atomic_symlink_replaced_as_link(void)
{
    const char *real = path_in("real");
    const char *link = path_in("link");
    CHECK(write_file(real, "pointee", 0640) == 0);
    CHECK(symlink("real", link) == 0);
    CHECK_EQ_INT(tmpf_write_atomic(link, "new", 3, 0), 0);
    struct stat st;
    CHECK(lstat(link, &st) == 0 && S_ISREG(st.st_mode));
    CHECK(content_is(link, "new"));
    CHECK(content_is(real, "pointee"));  /* the pointee is untouched */
    CHECK_MODE(mode_of(link), 0640);    /* bits of what it pointed to */
    CHECK_EQ_INT(count_entries(scratch), 2);
}
#endif

static void test_write_atomic_durable_two_fsyncs(void)
{
    const char *t = path_in("d");
    CHECK(write_file(t, "old", 0644) == 0);
    unsigned long before = tmpf__test_fsync_count();
    CHECK_EQ_INT(tmpf_write_atomic(t, "durable", 7, TMPF_DURABLE), 0);
    CHECK_EQ_INT(tmpf__test_fsync_count() - before, 2);
    CHECK(content_is(t, "durable"));
    before = tmpf__test_fsync_count();
    CHECK_EQ_INT(tmpf_write_atomic(t, "fast", 4, 0), 0);
    CHECK_EQ_INT(tmpf__test_fsync_count() - before, 0);
    CHECK(content_is(t, "fast"));
    CHECK_EQ_INT(count_entries(scratch), 1);
}

static void test_write_atomic_bad_arguments(void)
{
    const char *t = path_in("t");
    CHECK_ERRNO(tmpf_write_atomic(NULL, "x", 1, 0), -1, EINVAL);
    CHECK_ERRNO(tmpf_write_atomic(t, NULL, 1, 0), -1, EINVAL);
    CHECK_ERRNO(tmpf_write_atomic(t, "x", 1, TMPF_KEEP), -1, EINVAL);
    CHECK_ERRNO(tmpf_write_atomic(t, "x", 1, 1u << 20), -1, EINVAL);
    CHECK_ERRNO(tmpf_write_atomic(scratch, "x", 1, 0), -1, EISDIR);
    CHECK_ERRNO(tmpf_write_atomic(path_in("sub/"), "x", 1, 0), -1, EISDIR);
    CHECK_ERRNO(tmpf_write_atomic(path_in("."), "x", 1, 0), -1, EISDIR);
    CHECK_ERRNO(tmpf_write_atomic("", "x", 1, 0), -1, ENOENT);
    CHECK_EQ_INT(count_entries(scratch), 0);
}

static void test_write_atomic_missing_dir(void)
{
    CHECK_ERRNO(tmpf_write_atomic(path_in("no/such"), "x", 1, 0), -1, ENOENT);
    CHECK_ERRNO(tmpf_write_atomic(path_in("no/such"), "x", 1, TMPF_DURABLE), -1,
                ENOENT);
    /* A file where a directory should be. */
    CHECK(write_file(path_in("file"), "f", 0644) == 0);
    CHECK_ERRNO(tmpf_write_atomic(path_in("file/x"), "x", 1, 0), -1, HARNESS_ENOTDIR);
    CHECK_EQ_INT(count_entries(scratch), 1);
}

struct as_nobody {
    const char *target;
    const char *tmpdir;
};

static int nobody_write_atomic(void *arg)
{
    const struct as_nobody *a = arg;
    errno = 0;
    if (tmpf_write_atomic(a->target, "evil", 4, 0) == 0)
        return 10;
    return errno == EACCES ? 0 : 11;
}

static void test_write_atomic_unwritable_dir(void)
{
    char *dir = path_in("locked");
    CHECK(mkdir(dir, 0755) == 0);
    char t[4400];
    snprintf(t, sizeof t, "%s/target", dir);
    CHECK(write_file(t, "root's", 0666) == 0); /* the file itself is writable */
    char *before = listing(dir);
    struct as_nobody a = {t, NULL};
    CHECK_EQ_INT(run_as_nobody(nobody_write_atomic, &a), 0);
    CHECK(content_is(t, "root's"));
    CHECK_LISTING(dir, before);
    free(before);
}

#ifndef _WIN32
/* Mounts a small file system at dir; false (and a message) if not allowed. */
static bool mount_small(const char *type, const char *dir, const char *opts)
{
    if (mkdir(dir, 0777) != 0)
        return false;
    if (mount("tmpf-test", dir, type, 0, opts) != 0) {
        fprintf(stderr, "  cannot mount %s (%s)\n", type, strerror(errno));
        rmdir(dir);
        return false;
    }
    return true;
}

static void unmount_small(const char *dir)
{
    umount2(dir, MNT_DETACH);
    rmdir(dir);
}

static void test_write_atomic_enospc_keeps_old(void)
{
    char *mnt = path_in("small");
    if (!mount_small("tmpfs", mnt, "size=64k"))
        SKIP("mount not permitted");
    char t[4400];
    snprintf(t, sizeof t, "%s/data", mnt);
    CHECK(write_file(t, "old and small", 0644) == 0);
    char *before = listing(mnt);
    size_t big = 1 << 20;
    char *data = malloc(big);
    memset(data, 'x', big);
    CHECK_ERRNO(tmpf_write_atomic(t, data, big, 0), -1, ENOSPC);
    CHECK_ERRNO(tmpf_write_atomic(t, data, big, TMPF_DURABLE), -1, ENOSPC);
    CHECK(content_is(t, "old and small"));
    CHECK_LISTING(mnt, before);
    /* And the space came back: a fitting write still works. */
    CHECK_EQ_INT(tmpf_write_atomic(t, data, 16 * 1024, 0), 0);
    CHECK_LISTING(mnt, before);
    free(data);
    free(before);
    unmount_small(mnt);
}
#endif

/* ---- tmpf_file_persist ------------------------------------------------- */

static tmpf_file *named_in(const char *dir, const char *content)
{
    tmpf_file *f = tmpf_named_temporary_file(&(tmpf_opts){.dir = dir});
    if (f && tmpf_file_write(f, content, strlen(content)) < 0) {
        tmpf_file_cleanup(f);
        return NULL;
    }
    return f;
}

static tmpf_file *anon_in(const char *dir, const char *content)
{
    tmpf_file *f = tmpf_temporary_file(&(tmpf_opts){.dir = dir});
    if (f && tmpf_file_write(f, content, strlen(content)) < 0) {
        tmpf_file_cleanup(f);
        return NULL;
    }
    return f;
}

/* ---- Side names: .#<target>.tmpf ---------------------------------------- */

#ifndef _WIN32
/* Writes target t once through each path (named and O_TMPFILE, plain and
 * durable) and persists an anonymous file over it; each must succeed
 * with t holding the new content. */
static void replace_every_way(const char *t)
{
    char *big = filled('x', BIG);
    CHECK_EQ_INT(tmpf_write_atomic(t, "small", 5, 0), 0);
    CHECK(content_is(t, "small"));
    CHECK_EQ_INT(tmpf_write_atomic(t, "durable", 7, TMPF_DURABLE), 0);
    CHECK(content_is(t, "durable"));
    CHECK_EQ_INT(tmpf_write_atomic(t, big, BIG, 0), 0);
    CHECK(content_is(t, big));
    CHECK_EQ_INT(tmpf_write_atomic(t, big, BIG, TMPF_DURABLE), 0);
    CHECK(content_is(t, big));
    tmpf_file *f = anon_in(scratch, "persisted");
    CHECK(f != NULL);
    CHECK_EQ_INT(tmpf_file_persist(f, t, 0), 0);
    CHECK_EQ_INT(tmpf_file_cleanup(f), 0);
    CHECK(content_is(t, "persisted"));
    free(big);
}
#endif

/* What a crash leaves: a file at the fixed side name that no writer holds.
 * The next write of the target removes it, whichever path either took. */
static void test_side_stale_is_swept(void)
{
    const char *t = path_in("t");
    const char *side = path_in(".#t.tmpf");
    CHECK(write_file(t, "old", 0644) == 0);
    char *big = filled('y', BIG);
    static const size_t sizes[] = {4, BIG};
    for (size_t z = 0; z < 2; z++)
        for (unsigned durable = 0; durable < 2; durable++) {
            CHECK(write_file(side, "partial", 0644) == 0);
            CHECK_EQ_INT(tmpf_write_atomic(t, big, sizes[z],
                                           durable ? TMPF_DURABLE : 0),
                         0);
            CHECK_LISTING(scratch, "t/");
        }
    /* A persist of an anonymous file sweeps too, a read-only leftover too
     * (linked there, or copied there where it cannot be linked). */
    CHECK(write_file(side, "stale", 0444) == 0);
    tmpf_file *f = anon_in(scratch, "anon");
    CHECK_EQ_INT(tmpf_file_persist(f, t, 0), 0);
    CHECK(content_is(t, "anon"));
    CHECK_EQ_INT(tmpf_file_cleanup(f), 0);
    CHECK_LISTING(scratch, "t/");
    /* A long name: the side name keeps its first 64 bytes. */
    char longname[200], longside[200];
    memset(longname, 'n', 100);
    longname[100] = '\0';
    snprintf(longside, sizeof longside, ".#%.64s.tmpf", longname);
    CHECK(write_file(path_in(longside), "stale", 0600) == 0);
    CHECK_EQ_INT(tmpf_write_atomic(path_in(longname), "z", 1, 0), 0);
    CHECK_EQ_INT(count_entries(scratch), 2);
    CHECK(ino_of(path_in(longside)) == 0);
    /* A name that is its own truncated side name: still replaced (without
     * the guard in target_split it would be swept, and briefly missing). */
    char self[100] = "";
    for (int i = 0; i < 33; i++)
        strcat(self, ".#");
    strcat(self, ".tmpf");
    CHECK(write_file(path_in(self), "first", 0644) == 0);
    CHECK_EQ_INT(tmpf_write_atomic(path_in(self), "second", 6, 0), 0);
    CHECK(content_is(path_in(self), "second"));
    CHECK_EQ_INT(tmpf_write_atomic(path_in(self), big, BIG, 0), 0);
    CHECK(content_is(path_in(self), big));
    CHECK_EQ_INT(count_entries(scratch), 3);
    free(big);
}

#ifndef _WIN32
/* Writers racing on one target, each through both paths (a small write:
 * the fixed side name, else a random one; a large write: O_TMPFILE), while
 * a reader opens the target over and over: every open finds one whole
 * version (one writer's byte, one of the two sizes), no write fails, and
 * afterwards nothing but the target is left. Threads, not processes: each
 * lock is taken on its own open file description, so they exclude each
 * other as processes would. */
#define RACE_WRITERS 3
#define RACE_SMALL 4096
#define RACE_LARGE (96 * 1024)

static atomic_int race_writers_left;
/* Set by the reader after its first read: under valgrind, which runs one
 * thread at a time, the writers could otherwise all finish first. */
static atomic_bool race_go;

struct race_writer {
    const char *target;
    char tag;
    int writes, failures;
};

static void *race_write(void *arg)
{
    struct race_writer *w = arg;
    char *data = filled(w->tag, RACE_LARGE);
    while (!atomic_load(&race_go))
        sched_yield();
    for (int i = 0; i < w->writes; i++) {
        size_t n = i % 2 ? RACE_LARGE : RACE_SMALL;
        if (tmpf_write_atomic(w->target, data, n, i % 8 == 3 ? TMPF_DURABLE : 0) != 0)
            w->failures++;
    }
    free(data);
    atomic_fetch_sub(&race_writers_left, 1);
    return NULL;
}

static void test_write_atomic_racing_writers(void)
{
    const char *t = path_in("t");
    CHECK(write_file(t, "", 0644) == 0);
    struct race_writer w[RACE_WRITERS];
    pthread_t th[RACE_WRITERS];
    atomic_store(&race_writers_left, RACE_WRITERS);
    atomic_store(&race_go, false);
    for (int i = 0; i < RACE_WRITERS; i++) {
        w[i] = (struct race_writer){t, (char)('a' + i), 400 / test_scale_div() + 4, 0};
        CHECK(pthread_create(&th[i], NULL, race_write, &w[i]) == 0);
    }
    int reads = 0, torn = 0;
    while (reads == 0 || atomic_load(&race_writers_left) > 0) {
        size_t len;
        char *got = slurp(t, &len);
        atomic_store(&race_go, true);
        if (!got) {
            torn++; /* the target must never be missing */
            if (torn > 1000)
                break;
            continue;
        }
        reads++;
        bool whole = len == 0 || len == RACE_SMALL || len == RACE_LARGE;
        for (size_t i = 1; whole && i < len; i++)
            whole = got[i] == got[0];
        if (!whole) {
            if (!torn)
                fprintf(stderr, "  torn read: %zu bytes, first '%c'\n", len, got[0]);
            torn++;
        }
        free(got);
    }
    for (int i = 0; i < RACE_WRITERS; i++) {
        CHECK(pthread_join(th[i], NULL) == 0);
        CHECK_EQ_INT(w[i].failures, 0);
    }
    CHECK_EQ_INT(torn, 0);
    CHECK(reads > 0);
    CHECK_LISTING(scratch, "t/");
    CHECK_MODE(mode_of(t), 0644);
    fprintf(stderr, "  %d writers x %d replaces, %d whole reads\n",
            RACE_WRITERS, w[0].writes, reads);
}
#endif

/* A side name whose lock is held belongs to a live writer: left alone,
 * the write goes through a random side name and leaves nothing else. */
#ifndef _WIN32
static void test_side_held_is_left(void)
{
    const char *t = path_in("t");
    const char *side = path_in(".#t.tmpf");
    CHECK(write_file(t, "old", 0644) == 0);
    CHECK(write_file(side, "in use", 0644) == 0);
    uint64_t ino = ino_of(side);
    int hold = open(side, O_RDONLY | O_CLOEXEC);
    CHECK(hold >= 0);
    CHECK(flock(hold, LOCK_EX) == 0);
    replace_every_way(t);
    CHECK_LISTING(scratch, ".#t.tmpf/t/");
    CHECK(ino_of(side) == ino);
    CHECK(content_is(side, "in use"));
    /* Released (as when its writer dies): the next write removes it. */
    close(hold);
    CHECK_EQ_INT(tmpf_write_atomic(t, "next", 4, 0), 0);
    CHECK_LISTING(scratch, "t/");
}

/* Never swept: anything but a plain file of ours known by that name alone. */
static void test_side_not_ours_is_left(void)
{
    const char *t = path_in("t");
    const char *side = path_in(".#t.tmpf");
    const char *other = path_in("other");
    CHECK(write_file(t, "old", 0644) == 0);
    for (int k = 0; k < 5; k++) {
        switch (k) {
        case 0: /* a symlink, to a file of ours */
            CHECK(write_file(other, "pointee", 0644) == 0);
            CHECK(symlink("other", side) == 0);
            break;
        case 1: /* a dangling symlink */
            CHECK(symlink("nowhere", side) == 0);
            break;
        case 2: /* a directory */
            CHECK(mkdir(side, 0755) == 0);
            break;
        case 3: /* a second name of another file */
            CHECK(write_file(other, "linked", 0644) == 0);
            CHECK(link(other, side) == 0);
            break;
        case 4: /* somebody else's file */
            CHECK(write_file(side, "theirs", 0644) == 0);
            CHECK(chown(side, 65534, 65534) == 0);
            break;
        }
        uint64_t ino = ino_of(side);
        replace_every_way(t);
        CHECK(ino_of(side) == ino);
        if (k == 0)
            CHECK(content_is(other, "pointee"));
        if (k == 3)
            CHECK(content_is(other, "linked"));
        CHECK_EQ_INT(count_entries(scratch), k == 0 || k == 3 ? 3 : 2);
        if (k == 2)
            rmdir(side);
        else
            unlink(side);
        unlink(other);
    }
    CHECK_LISTING(scratch, "t/");
}

/* The side name's lock is taken on a descriptor of its own: a lock the
 * caller holds on the anonymous file's descriptor survives the persist. */
static void test_persist_anonymous_keeps_callers_lock(void)
{
    const char *t = path_in("t");
    CHECK(write_file(t, "old", 0644) == 0);
    tmpf_file *f = anon_in(scratch, "locked");
    CHECK(flock(tmpf_file_fileno(f), LOCK_SH) == 0);
    if (!TMPF_CAN_LINK_ANONYMOUS) {
        /* target is a copy: the lock stays on f's own file, which a new
         * open file description of it (the test runs on Linux: /proc)
         * cannot lock exclusively; target is another file, unlocked. */
        CHECK_EQ_INT(tmpf_file_persist(f, t, 0), 0);
        CHECK(content_is(t, "locked"));
        char proc[64];
        snprintf(proc, sizeof proc, "/proc/self/fd/%d", tmpf_file_fileno(f));
        int mine = open(proc, O_RDONLY | O_CLOEXEC);
        CHECK(mine >= 0);
        CHECK_ERRNO(flock(mine, LOCK_EX | LOCK_NB), -1, EWOULDBLOCK);
        int other = open(t, O_RDONLY | O_CLOEXEC);
        CHECK(other >= 0 && flock(other, LOCK_EX | LOCK_NB) == 0);
        close(other);
        CHECK_EQ_INT(tmpf_file_cleanup(f), 0);
        CHECK(flock(mine, LOCK_EX | LOCK_NB) == 0);
        close(mine);
        CHECK_LISTING(scratch, "t/");
        return;
    }
    CHECK_EQ_INT(tmpf_file_persist(f, t, 0), 0);
    int other = open(t, O_RDONLY | O_CLOEXEC);
    CHECK(other >= 0);
    CHECK_ERRNO(flock(other, LOCK_EX | LOCK_NB), -1, EWOULDBLOCK);
    CHECK_EQ_INT(tmpf_file_cleanup(f), 0);
    CHECK(flock(other, LOCK_EX | LOCK_NB) == 0);
    close(other);
    CHECK_LISTING(scratch, "t/");
}
#endif

static void test_persist_named(void)
{
    tmpf_file *f = named_in(scratch, "named");
    CHECK(f != NULL);
    char *tmp = strdup(tmpf_file_path(f));
    const char *t = path_in("out");
    CHECK_EQ_INT(tmpf_file_persist(f, t, 0), 0);
    CHECK_EQ_STR(tmpf_file_path(f), t);
    CHECK(!path_exists(tmp));
    CHECK(content_is(t, "named"));
    /* Still open: writes land in the persisted file. */
    CHECK_EQ_INT(tmpf_file_write(f, "+", 1), 1);
    CHECK_EQ_INT(tmpf_file_cleanup(f), 0);
    CHECK(content_is(t, "named+"));
    CHECK_EQ_INT(count_entries(scratch), 1);
    free(tmp);
}

static void test_persist_named_replaces(void)
{
    const char *t = path_in("out");
    CHECK(write_file(t, "old", 0644) == 0);
    tmpf_file *f = named_in(scratch, "new");
    CHECK_EQ_INT(tmpf_file_persist(f, t, 0), 0);
    CHECK_EQ_INT(tmpf_file_close(f), 0);
    CHECK(content_is(t, "new"));
    CHECK_EQ_INT(tmpf_file_cleanup(f), 0);
    CHECK(content_is(t, "new"));
    CHECK_EQ_INT(count_entries(scratch), 1);
}

static void test_persist_named_noclobber(void)
{
    const char *t = path_in("out");
    CHECK(write_file(t, "old", 0644) == 0);
    tmpf_file *f = named_in(scratch, "new");
    char *tmp = strdup(tmpf_file_path(f));
    char *before = listing(scratch);
    CHECK_ERRNO(tmpf_file_persist(f, t, TMPF_NOCLOBBER), -1, EEXIST);
    CHECK_ERRNO(tmpf_file_persist(f, t, TMPF_NOCLOBBER | TMPF_DURABLE), -1, EEXIST);
    CHECK_EQ_STR(tmpf_file_path(f), tmp);
    CHECK(content_is(t, "old"));
    CHECK(content_is(tmp, "new"));
    CHECK_LISTING(scratch, before);
    /* f is still a working temporary: another name works... */
    const char *t2 = path_in("out2");
    CHECK_EQ_INT(tmpf_file_persist(f, t2, TMPF_NOCLOBBER), 0);
    CHECK(content_is(t2, "new"));
    CHECK(!path_exists(tmp));
    CHECK_EQ_INT(tmpf_file_cleanup(f), 0);
    CHECK_EQ_INT(count_entries(scratch), 2);
    free(before);
    free(tmp);
    /* ...and an unpersisted one is still deleted by cleanup. */
    f = named_in(scratch, "gone");
    CHECK_ERRNO(tmpf_file_persist(f, t, TMPF_NOCLOBBER), -1, EEXIST);
    CHECK_EQ_INT(tmpf_file_cleanup(f), 0);
    CHECK_EQ_INT(count_entries(scratch), 2);
}

static void test_persist_anonymous(void)
{
    const char *t = path_in("anon");
    tmpf_file *f = anon_in(scratch, "unnamed");
    CHECK(tmpf_file_path(f) == NULL);
    CHECK_EQ_INT(count_entries(scratch), 0);
    CHECK_EQ_INT(tmpf_file_persist(f, t, 0), 0);
    CHECK_EQ_STR(tmpf_file_path(f), t);
    CHECK(content_is(t, "unnamed"));
    CHECK_EQ_INT(count_entries(scratch), 1); /* no side name left */
    /* Linked: f is the file at t, later writes reach it. Copied (where no
     * open file can be named): t holds the content of the moment, f keeps
     * its own file (and its offset), later writes stay there. */
    CHECK_EQ_INT(tmpf_file_write(f, "+", 1), 1);
    CHECK(content_is(t, TMPF_CAN_LINK_ANONYMOUS ? "unnamed+" : "unnamed"));
    CHECK_EQ_INT(tmpf_file_seek(f, 0, SEEK_SET), 0);
    char back[16] = "";
    CHECK_EQ_INT(tmpf_file_read(f, back, sizeof back - 1), 8);
    CHECK_EQ_STR(back, "unnamed+");
    CHECK_EQ_INT(tmpf_file_cleanup(f), 0);
    CHECK(content_is(t, TMPF_CAN_LINK_ANONYMOUS ? "unnamed+" : "unnamed"));

    /* Replacing an existing file. */
    f = anon_in(scratch, "second");
    CHECK_EQ_INT(tmpf_file_persist(f, t, TMPF_DURABLE), 0);
    CHECK(content_is(t, "second"));
    CHECK_EQ_INT(count_entries(scratch), 1);
    CHECK_EQ_INT(tmpf_file_cleanup(f), 0);

    /* NOCLOBBER: linkat straight to the target, refused when it exists. */
    f = anon_in(scratch, "third");
    CHECK_ERRNO(tmpf_file_persist(f, t, TMPF_NOCLOBBER), -1, EEXIST);
    CHECK(tmpf_file_path(f) == NULL);
    CHECK(content_is(t, "second"));
    CHECK_EQ_INT(count_entries(scratch), 1);
    const char *t2 = path_in("anon2");
    CHECK_EQ_INT(tmpf_file_persist(f, t2, TMPF_NOCLOBBER), 0);
    CHECK(content_is(t2, "third"));
    CHECK_EQ_INT(tmpf_file_cleanup(f), 0);
    CHECK_EQ_INT(count_entries(scratch), 2);

    /* Not persisted: nothing left at all. */
    f = anon_in(scratch, "fourth");
    CHECK_EQ_INT(tmpf_file_cleanup(f), 0);
    CHECK_EQ_INT(count_entries(scratch), 2);
}

static void test_persist_durable_two_fsyncs(void)
{
    struct {
        bool anonymous;
        unsigned flags;
        unsigned long want;
    } cases[] = {
        {false, TMPF_DURABLE, 2}, {true, TMPF_DURABLE, 2},
        {false, TMPF_DURABLE | TMPF_NOCLOBBER, 2},
        {true, TMPF_DURABLE | TMPF_NOCLOBBER, 2},
        {false, 0, 0}, {true, 0, 0}, {true, TMPF_NOCLOBBER, 0},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        char name[32];
        snprintf(name, sizeof name, "t%zu", i);
        tmpf_file *f = cases[i].anonymous ? anon_in(scratch, name)
                                          : named_in(scratch, name);
        unsigned long before = tmpf__test_fsync_count();
        CHECK_EQ_INT(tmpf_file_persist(f, path_in(name), cases[i].flags), 0);
        CHECK_EQ_INT(tmpf__test_fsync_count() - before, cases[i].want);
        CHECK(content_is(path_in(name), name));
        tmpf_file_cleanup(f);
    }
    CHECK_EQ_INT(count_entries(scratch), 7);
}

static void test_persist_closed(void)
{
    const char *t = path_in("t");
    /* Anonymous and closed: gone. */
    tmpf_file *f = anon_in(scratch, "a");
    CHECK_EQ_INT(tmpf_file_close(f), 0);
    CHECK_ERRNO(tmpf_file_persist(f, t, 0), -1, EBADF);
    tmpf_file_cleanup(f);
    /* Named, deleted on close. */
    f = named_in(scratch, "b");
    CHECK_EQ_INT(tmpf_file_close(f), 0);
    CHECK_ERRNO(tmpf_file_persist(f, t, 0), -1, ENOENT);
    tmpf_file_cleanup(f);
    CHECK_EQ_INT(count_entries(scratch), 0);
    /* Named, kept after close: still movable, durably. */
    f = tmpf_named_temporary_file(
        &(tmpf_opts){.dir = scratch, .flags = TMPF_KEEP_AFTER_CLOSE});
    CHECK_EQ_INT(tmpf_file_write(f, "c", 1), 1);
    CHECK_EQ_INT(tmpf_file_close(f), 0);
    unsigned long before = tmpf__test_fsync_count();
    CHECK_EQ_INT(tmpf_file_persist(f, t, TMPF_DURABLE), 0);
    CHECK_EQ_INT(tmpf__test_fsync_count() - before, 2);
    CHECK_EQ_INT(tmpf_file_cleanup(f), 0);
    CHECK(content_is(t, "c"));
    CHECK_EQ_INT(count_entries(scratch), 1);
    /* Bad arguments. */
    f = named_in(scratch, "d");
    CHECK_ERRNO(tmpf_file_persist(NULL, t, 0), -1, EINVAL);
    CHECK_ERRNO(tmpf_file_persist(f, NULL, 0), -1, EINVAL);
    CHECK_ERRNO(tmpf_file_persist(f, t, TMPF_KEEP), -1, EINVAL);
    CHECK_ERRNO(tmpf_file_persist(f, path_in("dir/"), 0), -1, EISDIR);
    CHECK_EQ_INT(tmpf_file_cleanup(f), 0);
    CHECK_EQ_INT(count_entries(scratch), 1);
}

static void test_persist_twice_and_onto_itself(void)
{
    tmpf_file *f = named_in(scratch, "x");
    const char *a = path_in("a"), *b = path_in("b");
    CHECK_EQ_INT(tmpf_file_persist(f, a, 0), 0);
    CHECK_EQ_INT(tmpf_file_persist(f, b, 0), 0);
    CHECK_EQ_STR(tmpf_file_path(f), b);
    CHECK(!path_exists(a));
    CHECK_EQ_INT(tmpf_file_persist(f, b, 0), 0);
    CHECK_ERRNO(tmpf_file_persist(f, b, TMPF_NOCLOBBER), -1, EEXIST);
    CHECK_EQ_INT(tmpf_file_cleanup(f), 0);
    CHECK(content_is(b, "x"));
    CHECK_EQ_INT(count_entries(scratch), 1);
}

static void test_persist_relative_target(void)
{
    char cwd[4096];
    CHECK(getcwd(cwd, sizeof cwd) != NULL);
    CHECK(chdir(scratch) == 0);
    tmpf_file *f = anon_in(".", "rel");
#ifndef _WIN32 /* Win32 removes ".." from the text (GetFullPathNameW) */
    CHECK_EQ_INT(tmpf_file_persist(f, "./sub/../rel.txt", 0), -1); /* no sub */
#endif
    CHECK(mkdir("sub", 0755) == 0);
    CHECK_EQ_INT(tmpf_file_persist(f, "./sub/../rel.txt", 0), 0);
    CHECK(chdir(cwd) == 0);
    CHECK_EQ_STR(tmpf_file_path(f), path_in("rel.txt"));
    CHECK(content_is(path_in("rel.txt"), "rel"));
    CHECK_EQ_INT(tmpf_file_cleanup(f), 0);
    CHECK_EQ_INT(count_entries(scratch), 2);
}

#ifndef _WIN32
static void test_persist_exdev(void)
{
    struct stat a, b;
    const char *other = "/tmp";
    if (stat(other, &a) != 0 || stat(scratch, &b) != 0 || a.st_dev == b.st_dev)
        SKIP("/tmp and %s are on the same file system", scratch);
    const char *t = path_in("t");
    CHECK(write_file(t, "old", 0644) == 0);
    char *before = listing(scratch);

    tmpf_file *f = named_in(other, "named");
    char *tmp = strdup(tmpf_file_path(f));
    CHECK_ERRNO(tmpf_file_persist(f, t, 0), -1, EXDEV);
    CHECK_ERRNO(tmpf_file_persist(f, t, TMPF_NOCLOBBER), -1, EXDEV);
    CHECK_ERRNO(tmpf_file_persist(f, path_in("new"), TMPF_NOCLOBBER | TMPF_DURABLE),
                -1, EXDEV);
    CHECK_EQ_STR(tmpf_file_path(f), tmp);
    CHECK(content_is(tmp, "named"));
    CHECK_EQ_INT(tmpf_file_cleanup(f), 0);
    CHECK(!path_exists(tmp));
    free(tmp);

    f = anon_in(other, "anon");
    if (TMPF_CAN_LINK_ANONYMOUS) {
        CHECK_ERRNO(tmpf_file_persist(f, t, 0), -1, EXDEV);
        CHECK_ERRNO(tmpf_file_persist(f, t, TMPF_DURABLE), -1, EXDEV);
        CHECK_ERRNO(tmpf_file_persist(f, path_in("new"), TMPF_NOCLOBBER), -1, EXDEV);
        CHECK(tmpf_file_path(f) == NULL);
    } else {
        /* Where it cannot be linked it is copied beside target anyway:
         * the file system it lives on makes no difference. */
        char *was = slurp(t, NULL);
        CHECK_EQ_INT(tmpf_file_persist(f, t, TMPF_DURABLE), 0);
        CHECK(content_is(t, "anon"));
        CHECK_EQ_STR(tmpf_file_path(f), t);
        CHECK(write_file(t, was, 0644) == 0);
        free(was);
    }
    CHECK_EQ_INT(tmpf_file_cleanup(f), 0);

    CHECK(content_is(t, "old"));
    CHECK_LISTING(scratch, before);
    free(before);
}
#endif

static int nobody_persist(void *arg)
{
    const struct as_nobody *a = arg;
    tmpf_file *f = tmpf_named_temporary_file(&(tmpf_opts){.dir = a->tmpdir});
    tmpf_file *g = tmpf_temporary_file(&(tmpf_opts){.dir = a->tmpdir});
    if (!f || !g)
        return 20;
    int rc = 0;
    errno = 0;
    if (tmpf_file_persist(f, a->target, 0) == 0 || errno != EACCES)
        rc = 21;
    else if (!path_exists(tmpf_file_path(f)))
        rc = 22; /* the temporary must still be there */
    errno = 0;
    if (tmpf_file_persist(g, a->target, 0) == 0 || errno != EACCES)
        rc = 23;
    /* Without privilege an unnamed file is still given a name (through
     * /proc/self/fd), in a directory nobody may write. */
    char mine[4400];
    snprintf(mine, sizeof mine, "%s/nobody's", a->tmpdir);
    if (rc == 0 && (tmpf_file_persist(g, mine, TMPF_NOCLOBBER) != 0 ||
                    !content_is(mine, "")))
        rc = 25;
    if (tmpf_file_cleanup(f) != 0 || tmpf_file_cleanup(g) != 0)
        rc = 24;
    return rc;
}

static void test_persist_unwritable_dir(void)
{
    char *dir = path_in("locked");
    CHECK(mkdir(dir, 0755) == 0);
    char t[4400];
    snprintf(t, sizeof t, "%s/target", dir);
    CHECK(write_file(t, "root's", 0666) == 0);
    char *before = listing(dir);
    struct as_nobody a = {t, scratch};
    CHECK_EQ_INT(run_as_nobody(nobody_persist, &a), 0);
    CHECK(content_is(t, "root's"));
    CHECK_LISTING(dir, before);
    CHECK_EQ_INT(count_entries(scratch), 2); /* "locked" and "nobody's" */
    struct stat st;
    CHECK(lstat(path_in("nobody's"), &st) == 0 && st.st_uid == 65534);
    free(before);
}

static void test_persist_missing_dir(void)
{
    tmpf_file *f = named_in(scratch, "n");
    tmpf_file *g = anon_in(scratch, "a");
    char *before = listing(scratch);
    CHECK_ERRNO(tmpf_file_persist(f, path_in("no/t"), 0), -1, ENOENT);
    CHECK_ERRNO(tmpf_file_persist(f, path_in("no/t"), TMPF_DURABLE), -1, ENOENT);
    CHECK_ERRNO(tmpf_file_persist(g, path_in("no/t"), 0), -1, ENOENT);
    CHECK_ERRNO(tmpf_file_persist(g, path_in("no/t"), TMPF_NOCLOBBER), -1, ENOENT);
    CHECK_LISTING(scratch, before);
    CHECK(content_is(tmpf_file_path(f), "n"));
    CHECK_EQ_INT(tmpf_file_cleanup(f), 0);
    CHECK_EQ_INT(tmpf_file_cleanup(g), 0);
    CHECK_EQ_INT(count_entries(scratch), 0);
    free(before);
}

/* Out of descriptors: the durable path needs one for the directory. */
#ifndef _WIN32
static void test_persist_emfile(void)
{
    const char *pre = getenv("LD_PRELOAD");
    if (pre && strstr(pre, "vgpreload"))
        SKIP("valgrind refuses descriptors above the limit after the kernel"
             " made them (write_atomic's named file exists, open says EMFILE)");
    tmpf_file *f = named_in(scratch, "n");
    struct rlimit old;
    CHECK(getrlimit(RLIMIT_NOFILE, &old) == 0);
    int fds[4096];
    int n = 0;
    struct rlimit low = {64, old.rlim_max};
    CHECK(setrlimit(RLIMIT_NOFILE, &low) == 0);
    while (n < 4096 && (fds[n] = open("/dev/null", O_RDONLY | O_CLOEXEC)) >= 0)
        n++;
    CHECK_ERRNO(tmpf_file_persist(f, path_in("t"), TMPF_DURABLE), -1, EMFILE);
    CHECK_ERRNO(tmpf_write_atomic(path_in("t"), "x", 1, 0), -1, EMFILE);
    while (n > 0)
        close(fds[--n]);
    setrlimit(RLIMIT_NOFILE, &old);
    CHECK(!path_exists(path_in("t")));
    CHECK_EQ_INT(count_entries(scratch), 1);
    CHECK_EQ_INT(tmpf_file_persist(f, path_in("t"), TMPF_DURABLE), 0);
    CHECK_EQ_INT(tmpf_file_cleanup(f), 0);
    CHECK_EQ_INT(count_entries(scratch), 1);
}
#endif

static int persist_events, persist_last_kind;
static char persist_last_path[4096];

static void hook(const tmpf_event *ev, void *ctx)
{
    (void)ctx;
    if (ev->type != TMPF_EVENT_PERSIST)
        return;
    persist_events++;
    persist_last_kind = (int)ev->kind;
    snprintf(persist_last_path, sizeof persist_last_path, "%s",
             ev->path ? ev->path : "(null)");
}

static void test_persist_audit(void)
{
    tmpf_stats s0, s1, s2;
    tmpf_set_event_hook(hook, NULL);
    persist_events = 0;
    CHECK_EQ_INT(tmpf_get_stats(&s0), 0);
    tmpf_file *f = anon_in(scratch, "a");
    CHECK_EQ_INT(tmpf_get_stats(&s1), 0);
    CHECK_EQ_INT(s1.live[TMPF_KIND_ANONYMOUS], s0.live[TMPF_KIND_ANONYMOUS] + 1);
    CHECK_EQ_INT(tmpf_file_persist(f, path_in("t"), 0), 0);
    CHECK_EQ_INT(persist_events, 1);
    CHECK_EQ_INT(persist_last_kind, TMPF_KIND_ANONYMOUS);
    CHECK_EQ_STR(persist_last_path, path_in("t"));
    CHECK_EQ_INT(tmpf_get_stats(&s2), 0);
    CHECK_EQ_INT(s2.live[TMPF_KIND_ANONYMOUS], s0.live[TMPF_KIND_ANONYMOUS]);
    /* Moving it again is not a second "stops being temporary". Where it
     * was copied, persisting it again is another copy: t stays. */
    CHECK_EQ_INT(tmpf_file_persist(f, path_in("u"), 0), 0);
    CHECK_EQ_INT(persist_events, 1);
    CHECK(path_exists(path_in("t")) == !TMPF_CAN_LINK_ANONYMOUS);
    if (!TMPF_CAN_LINK_ANONYMOUS)
        CHECK(unlink(path_in("t")) == 0);
    CHECK_EQ_INT(tmpf_file_cleanup(f), 0);
    CHECK_EQ_INT(tmpf_get_stats(&s2), 0);
    CHECK_EQ_INT(s2.live[TMPF_KIND_ANONYMOUS], s0.live[TMPF_KIND_ANONYMOUS]);
    /* A failed persist says nothing. */
    f = named_in(scratch, "n");
    CHECK_ERRNO(tmpf_file_persist(f, path_in("u"), TMPF_NOCLOBBER), -1, EEXIST);
    CHECK_EQ_INT(persist_events, 1);
    tmpf_file_cleanup(f);
    tmpf_set_event_hook(NULL, NULL);
    CHECK_EQ_INT(count_entries(scratch), 1);
}

static void test_persist_spooled(void)
{
    tmpf_file *f = tmpf_spooled_temporary_file(
        &(tmpf_opts){.dir = scratch, .max_size = 1 << 20});
    if (!f)
        SKIP("spooled files not available (%s)", strerror(errno));
    CHECK_EQ_INT(tmpf_file_write(f, "spool", 5), 5);
    int rc = tmpf_file_persist(f, path_in("s"), 0);
    if (rc != 0 && errno == ENOSYS) {
        tmpf_file_cleanup(f);
        SKIP("spooled rollover not available");
    }
    CHECK_EQ_INT(rc, 0);
    CHECK(tmpf_file_rolled(f));
    CHECK_EQ_INT(tmpf_file_cleanup(f), 0);
    CHECK(content_is(path_in("s"), "spool"));
    CHECK_EQ_INT(count_entries(scratch), 1);
}

static void test_persist_in_scope(void)
{
    tmpf_scope *s = tmpf_scope_new(0);
    if (!s)
        SKIP("scopes not available (%s)", strerror(errno));
    tmpf_file *f = tmpf_named_temporary_file(&(tmpf_opts){.dir = scratch, .scope = s});
    tmpf_file *g = tmpf_temporary_file(&(tmpf_opts){.dir = scratch, .scope = s});
    CHECK(f && g);
    CHECK_EQ_INT(tmpf_file_persist(f, path_in("kept1"), 0), 0);
    /* A failed persist leaves g in the scope, which then frees it: the
     * test must not free it again (it did, a double free, wherever an
     * anonymous file cannot be named). */
    int rc = tmpf_file_persist(g, path_in("kept2"), 0);
    CHECK_EQ_INT(rc, 0); /* linked, or copied where it cannot be */
    CHECK_EQ_INT(tmpf_file_cleanup(f), 0);
    CHECK_EQ_INT(tmpf_scope_cleanup(s), 0);
    /* A persisted file left the scope, like a kept one: freeing the object
     * is the caller's job again. */
    if (rc == 0)
        CHECK_EQ_INT(tmpf_file_cleanup(g), 0);
    CHECK(path_exists(path_in("kept1")));
    CHECK(path_exists(path_in("kept2")) == (rc == 0));
}

#ifndef _WIN32
static int child_without_o_tmpfile(void *arg)
{
    const char *dir = arg;
    if (!refuse_o_tmpfile())
        return 77;
    int probe = open(dir, O_TMPFILE | O_RDWR | O_CLOEXEC, 0600);
    if (probe >= 0 || errno != EOPNOTSUPP)
        return 40;
    char t[4400];
    snprintf(t, sizeof t, "%s/f", dir);
    /* tmpf_write_atomic falls back to a named temporary beside target. */
    if (tmpf_write_atomic(t, "one", 3, 0) != 0 || !content_is(t, "one"))
        return 41;
    unsigned long before = tmpf__test_fsync_count();
    if (tmpf_write_atomic(t, "two", 3, TMPF_DURABLE) != 0 || !content_is(t, "two"))
        return 42;
    if (tmpf__test_fsync_count() - before != 2)
        return 43;
    errno = 0;
    if (tmpf_write_atomic(t, "three", 5, TMPF_NOCLOBBER) != -1 || errno != EEXIST ||
        !content_is(t, "two"))
        return 44;
    if (count_entries(dir) != 1)
        return 45;
    /* An anonymous file made by create + unlink cannot be named again:
     * target becomes a copy of its content, as where no descriptor can be
     * linked; later writes stay in the object's own file. */
    tmpf_file *f = tmpf_temporary_file(&(tmpf_opts){.dir = dir});
    if (!f || tmpf_file_write(f, "four", 4) != 4)
        return 46;
    int rc = 0;
    errno = 0;
    if (tmpf_file_persist(f, t, TMPF_NOCLOBBER) != -1 || errno != EEXIST)
        rc = 48;
    if (tmpf_file_persist(f, t, 0) != 0 || !content_is(t, "four"))
        rc = 47;
    if (tmpf_file_write(f, "+", 1) != 1 || !content_is(t, "four"))
        rc = 50;
    tmpf_file_cleanup(f);
    if (count_entries(dir) != 1 || !content_is(t, "four"))
        rc = 49;
    return rc;
}

/* Named fallback, out of space half-way: the named temporary must go. */
static int child_enospc_named(void *arg)
{
    const char *mnt = arg;
    if (!refuse_o_tmpfile())
        return 77;
    char t[4400];
    snprintf(t, sizeof t, "%s/data", mnt);
    size_t big = 1 << 20;
    char *data = malloc(big);
    memset(data, 'x', big);
    errno = 0;
    int rc = tmpf_write_atomic(t, data, big, 0) == -1 && errno == ENOSPC ? 0 : 50;
    free(data);
    if (rc == 0 && (count_entries(mnt) != 1 || !content_is(t, "old")))
        rc = 51;
    return rc;
}

static void test_without_o_tmpfile_enospc(void)
{
    char *mnt = path_in("small");
    if (!mount_small("tmpfs", mnt, "size=64k"))
        SKIP("mount not permitted");
    char t[4400];
    snprintf(t, sizeof t, "%s/data", mnt);
    CHECK(write_file(t, "old", 0644) == 0);
    int rc = run_in_child(child_enospc_named, mnt);
    if (rc == 77) {
        unmount_small(mnt);
        SKIP("cannot install a seccomp filter");
    }
    CHECK_EQ_INT(rc, 0);
    CHECK_EQ_INT(count_entries(mnt), 1);
    unmount_small(mnt);
}

/* No renameat2: TMPF_NOCLOBBER on a named file takes link + unlink. */
static int child_without_renameat2(void *arg)
{
    const char *dir = arg;
    if (!refuse_renameat2())
        return 77;
    char t[4400], u[4400];
    snprintf(t, sizeof t, "%s/t", dir);
    snprintf(u, sizeof u, "%s/u", dir);
    if (write_file(t, "old", 0644) != 0)
        return 60;
    tmpf_file *f = tmpf_named_temporary_file(&(tmpf_opts){.dir = dir});
    if (!f || tmpf_file_write(f, "new", 3) != 3)
        return 61;
    char *tmp = strdup(tmpf_file_path(f));
    int rc = 0;
    errno = 0;
    if (tmpf_file_persist(f, t, TMPF_NOCLOBBER) != -1 || errno != EEXIST)
        rc = 62;
    else if (!content_is(t, "old") || !content_is(tmp, "new") || count_entries(dir) != 2)
        rc = 63;
    else if (tmpf_file_persist(f, u, TMPF_NOCLOBBER | TMPF_DURABLE) != 0)
        rc = 64;
    else if (!content_is(u, "new") || path_exists(tmp) || count_entries(dir) != 2)
        rc = 65;
    else if (strcmp(tmpf_file_path(f), u) != 0)
        rc = 66;
    free(tmp);
    if (tmpf_file_cleanup(f) != 0 || !content_is(u, "new"))
        rc = rc ? rc : 67;
    return rc;
}

static void test_without_renameat2(void)
{
    char *dir = path_in("child");
    CHECK(mkdir(dir, 0777) == 0);
    int rc = run_in_child(child_without_renameat2, dir);
    if (rc == 77)
        SKIP("cannot install a seccomp filter");
    CHECK_EQ_INT(rc, 0);
}

static void test_without_o_tmpfile(void)
{
    char *dir = path_in("child");
    CHECK(mkdir(dir, 0777) == 0);
    int rc = run_in_child(child_without_o_tmpfile, dir);
    if (rc == 77)
        SKIP("cannot install a seccomp filter");
    CHECK_EQ_INT(rc, 0);
}
#endif

/* ---- The target's directory renamed during a write ---------------------
 * This executable's open, rename, renameat and fsync stand in for the C
 * library's (the library is linked statically, so its calls bind here);
 * they make the system call themselves. A hook armed for the next opening
 * of a directory runs right after it, one armed for the next rename runs
 * first; fsync notes the directory it syncs. */
#ifdef __linux__
#include <stdarg.h>
#ifndef _WIN32
#include <sys/syscall.h>
#endif
#define HAVE_RENAME_HOOK 1

static void (*_Atomic after_dir_open)(void);
static void (*_Atomic before_rename)(void);
static _Atomic unsigned long long dir_synced_ino;

static int raw_renameat(int from_dir, const char *from, int to_dir, const char *to)
{
#ifdef SYS_renameat
    return (int)syscall(SYS_renameat, from_dir, from, to_dir, to);
#else
    return (int)syscall(SYS_renameat2, from_dir, from, to_dir, to, 0);
#endif
}

static void run_hook(void (*_Atomic *hook)(void))
{
    void (*armed)(void) = atomic_exchange(hook, NULL);
    if (armed)
        armed();
}

static int open_hooked(const char *path, int flags, va_list ap)
{
    mode_t mode = 0;
#ifdef O_TMPFILE
    if ((flags & O_CREAT) || (flags & O_TMPFILE) == O_TMPFILE)
#else
    if (flags & O_CREAT)
#endif
        mode = (mode_t)va_arg(ap, unsigned);
    int fd = (int)syscall(SYS_openat, AT_FDCWD, path, flags, mode);
    if (fd >= 0 && (flags & O_DIRECTORY))
        run_hook(&after_dir_open);
    return fd;
}

int open(const char *path, int flags, ...)
{
    va_list ap;
    va_start(ap, flags);
    int fd = open_hooked(path, flags, ap);
    va_end(ap);
    return fd;
}
#ifdef __GLIBC__ /* musl: open64 is a macro for open */
int open64(const char *path, int flags, ...)
{
    va_list ap;
    va_start(ap, flags);
    int fd = open_hooked(path, flags, ap);
    va_end(ap);
    return fd;
}
#endif

int rename(const char *from, const char *to)
{
    run_hook(&before_rename);
    return raw_renameat(AT_FDCWD, from, AT_FDCWD, to);
}

int renameat(int from_dir, const char *from, int to_dir, const char *to)
{
    run_hook(&before_rename);
    return raw_renameat(from_dir, from, to_dir, to);
}

int fsync(int fd)
{
    struct stat st;
    if (fstat(fd, &st) == 0 && S_ISDIR(st.st_mode))
        atomic_store(&dir_synced_ino, (unsigned long long)st.st_ino);
    return (int)syscall(SYS_fsync, fd);
}

/* scratch/cur is a symlink to d1; the hook points it at d2. */
static char swap_link[4200], swap_new[4200];

static void point_cur_at_d2(void)
{
    unlink(swap_new);
    if (symlink("d2", swap_new) != 0 || raw_renameat(AT_FDCWD, swap_new, AT_FDCWD,
                                                     swap_link) != 0)
        perror("point_cur_at_d2");
}

/* d1/t ("old1", 0640), d2/t ("old2", 0604), cur -> d1; target: cur/t. */
static void swap_setup(const char *d1, const char *d2, char *t1, char *t2,
                       char *target)
{
    CHECK(mkdir(d1, 0755) == 0);
    CHECK(mkdir(d2, 0755) == 0);
    snprintf(t1, 4300, "%s/t", d1);
    snprintf(t2, 4300, "%s/t", d2);
    CHECK(write_file(t1, "old1", 0640) == 0);
    CHECK(write_file(t2, "old2", 0604) == 0);
    snprintf(swap_link, sizeof swap_link, "%s", path_in("cur"));
    snprintf(swap_new, sizeof swap_new, "%s", path_in("cur.new"));
    CHECK(symlink("d1", swap_link) == 0);
    snprintf(target, 4300, "%s/t", swap_link);
}

/* A durable write to cur/t while cur is re-pointed from d1 to d2 right
 * after the library opened the directory, before anything else: every
 * step (the target's mode, the side file, the move, the fsync) happens in
 * d1, the directory it opened (by path, the file would land in d2 with
 * d2/t's mode, or the move would not find the side file, while d1 was
 * synced). how: 0 write_atomic, 1 persist of a named file, 2 persist of an
 * unnamed one. */
static void durable_write_across_swap(int how)
{
    char *d1 = path_in("d1"), *d2 = path_in("d2");
    char t1[4300], t2[4300], target[4300];
    swap_setup(d1, d2, t1, t2, target);

    tmpf_file *f = how == 1   ? named_in(scratch, "new")
                   : how == 2 ? anon_in(scratch, "new")
                              : NULL;
    atomic_store(&dir_synced_ino, 0);
    atomic_store(&after_dir_open, point_cur_at_d2);
    int rc = how == 0 ? tmpf_write_atomic(target, "new", 3, TMPF_DURABLE)
                      : tmpf_file_persist(f, target, TMPF_DURABLE);
    CHECK_EQ_INT(rc, 0);
    CHECK(atomic_load(&after_dir_open) == NULL); /* the swap happened */
    atomic_store(&after_dir_open, NULL);
    CHECK(content_is(t1, "new"));
    CHECK(content_is(t2, "old2"));
    CHECK(atomic_load(&dir_synced_ino) == (unsigned long long)ino_of(d1));
    if (how == 0)
        CHECK_MODE(mode_of(t1), 0640); /* the mode of the file it replaced */
    CHECK_EQ_INT(count_entries(d1), 1);
    CHECK_EQ_INT(count_entries(d2), 1);
    if (f)
        CHECK_EQ_INT(tmpf_file_cleanup(f), 0);
    CHECK(content_is(t1, "new"));
}

static void test_durable_write_atomic_dir_swapped(void)
{
    durable_write_across_swap(0);
}

static void test_durable_persist_named_dir_swapped(void)
{
    durable_write_across_swap(1);
}

static void test_durable_persist_anonymous_dir_swapped(void)
{
    durable_write_across_swap(2);
}

/* Without TMPF_DURABLE each step resolves the path anew (opening the
 * directory first would cost more than the lookups it saves): the move
 * then looks for the side file in d2 and fails. Documented: the error is
 * clean (both targets as before) and the side file left in d1 goes with
 * the next write of d1/t. */
static void test_consistent_write_atomic_dir_swapped(void)
{
    char *d1 = path_in("d1"), *d2 = path_in("d2");
    char t1[4300], t2[4300], target[4300];
    swap_setup(d1, d2, t1, t2, target);
    atomic_store(&before_rename, point_cur_at_d2);
    CHECK_ERRNO(tmpf_write_atomic(target, "new", 3, 0), -1, ENOENT);
    CHECK(atomic_load(&before_rename) == NULL);
    atomic_store(&before_rename, NULL);
    CHECK(content_is(t1, "old1"));
    CHECK(content_is(t2, "old2"));
    CHECK_EQ_INT(count_entries(d1), 2);
    CHECK_EQ_INT(count_entries(d2), 1);
    CHECK_EQ_INT(tmpf_write_atomic(t1, "next", 4, 0), 0);
    CHECK(content_is(t1, "next"));
    CHECK_EQ_INT(count_entries(d1), 1);
}
#endif

static const struct test tests[] = {
    TEST(test_write_atomic_replaces_existing),
    TEST(test_write_atomic_creates_new),
    TEST(test_write_atomic_noclobber),
    TEST(test_write_atomic_preserves_mode),
    TEST_POSIX(test_write_atomic_symlink_replaced_as_link, "symlink(2) (Wine makes no links)"),
    TEST(test_write_atomic_durable_two_fsyncs),
    TEST(test_write_atomic_bad_arguments),
    TEST(test_write_atomic_missing_dir),
    TEST(test_write_atomic_unwritable_dir),
    TEST_POSIX(test_write_atomic_enospc_keeps_old, "a mounted tmpfs"),
    TEST(test_side_stale_is_swept),
    TEST_POSIX(test_side_held_is_left, "flock on the side name (LockFileEx is the Windows lock: test_windows side_lock_and_sweep)"),
    TEST_POSIX(test_side_not_ours_is_left, "symlinks, hard links and chown to another uid"),
    TEST_POSIX(test_write_atomic_racing_writers, "the reader opens the target with the C runtime's open, which does not share deletion: on Windows it blocks the replace (EACCES; test_windows api_plain_reader_blocks) and opening during a replace can fail"),
    TEST_POSIX(test_persist_anonymous_keeps_callers_lock, "flock"),
    TEST(test_persist_named),
    TEST(test_persist_named_replaces),
    TEST(test_persist_named_noclobber),
    TEST(test_persist_anonymous),
    TEST(test_persist_durable_two_fsyncs),
    TEST(test_persist_closed),
    TEST(test_persist_twice_and_onto_itself),
    TEST(test_persist_relative_target),
    TEST_POSIX(test_persist_exdev, "/tmp on another file system, told by st_dev (the C runtime's st_dev is a drive number)"),
    TEST(test_persist_unwritable_dir),
    TEST(test_persist_missing_dir),
    TEST_POSIX(test_persist_emfile, "RLIMIT_NOFILE"),
    TEST(test_persist_audit),
    TEST(test_persist_spooled),
    TEST(test_persist_in_scope),
    TEST_POSIX(test_without_o_tmpfile, "seccomp in a forked child"),
    TEST_POSIX(test_without_o_tmpfile_enospc, "seccomp and a mounted tmpfs, in a forked child"),
    TEST_POSIX(test_without_renameat2, "seccomp in a forked child"),
#ifdef HAVE_RENAME_HOOK
    TEST(test_durable_write_atomic_dir_swapped),
    TEST(test_durable_persist_named_dir_swapped),
    TEST(test_durable_persist_anonymous_dir_swapped),
    TEST(test_consistent_write_atomic_dir_swapped),
#endif
};

/* `test_persist --write-atomic-durable FILE`: one durable write, for
 * tests/test_persist_strace.sh to count its fsyncs from outside. */
int main(int argc, char **argv)
{
    if (argc == 3 && strcmp(argv[1], "--write-atomic-durable") == 0)
        return tmpf_write_atomic(argv[2], "strace\n", 7, TMPF_DURABLE) == 0 ? 0 : 1;
    return run_tests(tests, sizeof tests / sizeof tests[0], argc, argv);
}
