/*
 * Target paths for tmpf_write_atomic and tmpf_file_persist: the fuzz bytes
 * spell a path from components that name directories, files, symlinks (to
 * a directory, to a file, dangling, looping), ".", "..", empty components,
 * names longer than the side name keeps and a side name itself, relative to
 * the working directory or absolute, with or without a trailing slash; then
 * one of the three calls writes there with fuzzed flags and size (small:
 * the named side file; over 64 KiB: O_TMPFILE). The tree is rebuilt for
 * every input. Invariants, without a model of which paths must work:
 *  - success: the entry the kernel resolves the path to (its directory
 *    through symlinks, its last component not) is now a regular file with
 *    the new bytes and the promised mode (the old file's, a symlink's
 *    target's, 0644 under umask 022 for a new one, or the temporary's
 *    0600 for persist), a persisted named temporary is gone from its old
 *    name, and nothing else in the tree changed: no side file is left;
 *  - failure: errno is one the header lists and the tree is exactly as
 *    before (a named temporary still in place);
 *  - no descriptor is left open either way.
 * Paths whose directory resolves outside the tree are not tried.
 *
 * Input: [call][flags][size][tokens ...], each token byte one component.
 */
#include "fuzz_common.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdint.h>
#include <sys/stat.h>
#include <tmpf.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define LONG_OLD "xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx"
#define LONG_NEW "yyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyy"

static const char *const tokens[] = {
    "a", "b", "f", "g", "link", "flink", "dlink", "loop", ".", "..", "",
    LONG_OLD, "new", LONG_NEW, ".#f.tmpf", "t",
};
#define NTOKENS (sizeof tokens / sizeof tokens[0])

static char root[PATH_MAX]; /* the working directory; the tree is root/t */
static char tree[PATH_MAX];

static void put_file(const char *rel, const char *text, mode_t mode)
{
    int fd = open(rel, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, mode);
    FUZZ_CHECK(fd >= 0);
    FUZZ_CHECK(write(fd, text, strlen(text)) == (ssize_t)strlen(text));
    FUZZ_CHECK(fchmod(fd, mode) == 0);
    close(fd);
}

static void build_tree(void)
{
    FUZZ_CHECK(tmpf_rmtree("t", 0) == 0);
    FUZZ_CHECK(mkdir("t", 0755) == 0);
    FUZZ_CHECK(mkdir("t/a", 0755) == 0);
    FUZZ_CHECK(mkdir("t/a/b", 0755) == 0);
    put_file("t/a/f", "F", 0640);
    put_file("t/g", "G", 0666); /* the umask (022) would take bits away */
    put_file("t/" LONG_OLD, "L", 0600);
    FUZZ_CHECK(symlink("a", "t/link") == 0);
    FUZZ_CHECK(symlink("a/f", "t/flink") == 0);
    FUZZ_CHECK(symlink("missing", "t/dlink") == 0);
    FUZZ_CHECK(symlink("loop", "t/loop") == 0);
}

/* ---- a listing of the tree: one line per entry, sorted ---------------- */

#define MAX_ENTRIES 64
struct listing {
    int n;
    char line[MAX_ENTRIES][PATH_MAX + 96];
};

static uint64_t hash_file(const char *path, off_t *len)
{
    uint64_t h = 1469598103934665603u;
    *len = 0;
    int fd = open(path, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
    FUZZ_CHECK(fd >= 0);
    unsigned char buf[8192];
    ssize_t got;
    while ((got = read(fd, buf, sizeof buf)) > 0) {
        for (ssize_t i = 0; i < got; i++)
            h = (h ^ buf[i]) * 1099511628211u;
        *len += got;
    }
    close(fd);
    return h;
}

static void describe(const char *path, const struct stat *st, char *out,
                     size_t cap)
{
    if (S_ISREG(st->st_mode)) {
        off_t len;
        uint64_t h = hash_file(path, &len);
        snprintf(out, cap, "reg %o %lld %016llx", (unsigned)(st->st_mode & 07777),
                 (long long)len, (unsigned long long)h);
    } else if (S_ISLNK(st->st_mode)) {
        char to[PATH_MAX];
        ssize_t n = readlink(path, to, sizeof to - 1);
        FUZZ_CHECK(n >= 0);
        to[n] = 0;
        snprintf(out, cap, "lnk %s", to);
    } else if (S_ISDIR(st->st_mode)) {
        snprintf(out, cap, "dir %o", (unsigned)(st->st_mode & 07777));
    } else {
        snprintf(out, cap, "other");
    }
}

static void walk(const char *rel, struct listing *l)
{
    DIR *d = opendir(rel);
    FUZZ_CHECK(d != NULL);
    struct dirent *e;
    while ((e = readdir(d))) {
        if (!strcmp(e->d_name, ".") || !strcmp(e->d_name, ".."))
            continue;
        char path[PATH_MAX];
        snprintf(path, sizeof path, "%s/%s", rel, e->d_name);
        struct stat st;
        FUZZ_CHECK(lstat(path, &st) == 0);
        FUZZ_CHECK(l->n < MAX_ENTRIES);
        char what[96];
        describe(path, &st, what, sizeof what);
        snprintf(l->line[l->n++], sizeof l->line[0], "%s %s", path, what);
        if (S_ISDIR(st.st_mode))
            walk(path, l);
    }
    closedir(d);
}

static int by_line(const void *a, const void *b) { return strcmp(a, b); }

static void list_tree(struct listing *l)
{
    l->n = 0;
    walk("t", l);
    qsort(l->line, (size_t)l->n, sizeof l->line[0], by_line);
}

/* Removes the entry for rel ("t/..."), if listed. */
static void drop(struct listing *l, const char *rel)
{
    size_t len = strlen(rel);
    for (int i = 0; i < l->n; i++)
        if (!strncmp(l->line[i], rel, len) && l->line[i][len] == ' ') {
            memmove(l->line[i], l->line[i + 1],
                    (size_t)(l->n - i - 1) * sizeof l->line[0]);
            l->n--;
            return;
        }
}

static bool same(const struct listing *a, const struct listing *b)
{
    if (a->n != b->n)
        return false;
    for (int i = 0; i < a->n; i++)
        if (strcmp(a->line[i], b->line[i]))
            return false;
    return true;
}

static void show(const char *what, const struct listing *l)
{
    fprintf(stderr, "%s:\n", what);
    for (int i = 0; i < l->n; i++)
        fprintf(stderr, "  %s\n", l->line[i]);
}

static int open_fds(void) { return count_entries("/proc/self/fd"); }

/* ---- one input -------------------------------------------------------- */

enum where { OUTSIDE, UNRESOLVED, INSIDE };

/* Where the kernel puts path's last component: INSIDE, rel set to "t/..."
 * relative to root; UNRESOLVED if its directory does not resolve (then
 * nothing can be made there); OUTSIDE the tree (not tried). */
static enum where resolve(const char *path, char *rel, size_t cap)
{
    char dir[PATH_MAX];
    snprintf(dir, sizeof dir, "%s", path);
    char *slash = strrchr(dir, '/');
    const char *base = slash ? slash + 1 : dir;
    if (slash == dir)
        return OUTSIDE; /* "/x" */
    char name[NAME_MAX + 2];
    snprintf(name, sizeof name, "%s", base);
    if (slash)
        *slash = 0;
    else
        snprintf(dir, sizeof dir, ".");
    char real[PATH_MAX];
    if (!realpath(dir, real))
        return UNRESOLVED;
    size_t tlen = strlen(tree);
    if (strncmp(real, tree, tlen) || (real[tlen] && real[tlen] != '/'))
        return OUTSIDE;
    snprintf(rel, cap, "t%s/%s", real + tlen, name);
    return INSIDE;
}

static void remove_tree(void) { tmpf_rmtree(tree, 0); }

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 4 || size > 12)
        return 0;
    if (!root[0]) {
        snprintf(root, sizeof root, "%s", fuzz_dir());
        FUZZ_CHECK(chdir(root) == 0);
        snprintf(tree, sizeof tree, "%s/t", root);
        umask(022);
        atexit(remove_tree); /* before fuzz_dir's rmdir of root (LIFO) */
    }
    unsigned call = data[0] % 3; /* write_atomic, persist named, persist anon */
    unsigned flags = 0;
    if (data[1] & 1)
        flags |= TMPF_NOCLOBBER;
    if (data[1] & 2)
        flags |= TMPF_DURABLE;
    if ((data[1] & 0x0c) == 0x0c)
        flags |= 1u << 20; /* unknown */
    bool absolute = data[1] & 0x10, trailing = data[1] & 0x20;
    size_t n = data[2] & 0x7f;
    if (data[2] & 0x80)
        n += 70000; /* past 64 KiB: write_atomic takes O_TMPFILE */

    char path[PATH_MAX];
    int len = snprintf(path, sizeof path, "%s%st", absolute ? root : "",
                       absolute ? "/" : "");
    for (size_t i = 3; i < size; i++)
        len += snprintf(path + len, sizeof path - (size_t)len, "/%s",
                        tokens[data[i] % NTOKENS]);
    if (trailing)
        snprintf(path + len, sizeof path - (size_t)len, "/");

    build_tree();
    char rel[PATH_MAX + NAME_MAX + 4] = "";
    enum where where = resolve(path, rel, sizeof rel);
    if (where == OUTSIDE)
        return 0;
    bool inside = where == INSIDE;

    unsigned char *bytes = malloc(n + 1);
    FUZZ_CHECK(bytes != NULL);
    for (size_t i = 0; i < n; i++)
        bytes[i] = (unsigned char)(data[0] + i * 7 + size);

    /* The mode the new file must have if the call succeeds. */
    /* Replacing keeps the target's bits (write_atomic and persist alike);
     * a new file: 0666 & ~umask from write_atomic, the temporary's own
     * 0600 from persist. */
    mode_t want_mode = call == 0 ? 0644 : 0600;
    struct stat st;
    if (inside && stat(rel, &st) == 0 && S_ISREG(st.st_mode))
        want_mode = st.st_mode & 0777;

    tmpf_file *f = NULL;
    char temp_rel[PATH_MAX] = "";
    if (call > 0) {
        tmpf_opts o = {.dir = "t"};
        f = call == 1 ? tmpf_named_temporary_file(&o) : tmpf_temporary_file(&o);
        FUZZ_CHECK(f != NULL);
        FUZZ_CHECK(tmpf_file_write(f, bytes, n) == (ssize_t)n);
        if (call == 1) {
            const char *p = tmpf_file_path(f);
            snprintf(temp_rel, sizeof temp_rel, "t/%s", strrchr(p, '/') + 1);
        }
    }

    struct listing *before = malloc(sizeof *before), *after = malloc(sizeof *after);
    FUZZ_CHECK(before && after);
    list_tree(before);
    int fds = open_fds();
    errno = 0;
    int rc = call == 0 ? tmpf_write_atomic(path, bytes, n, flags)
                       : tmpf_file_persist(f, path, flags);
    int err = errno;
    FUZZ_CHECK(open_fds() == fds);
    list_tree(after);

    if (rc == 0) {
        FUZZ_CHECK(inside && !trailing && !(flags & (1u << 20)));
        /* Expected: before, without the temporary's old name, with rel
         * now a regular file holding the bytes. */
        struct stat now;
        FUZZ_CHECK(lstat(rel, &now) == 0 && S_ISREG(now.st_mode));
        if ((now.st_mode & 0777) != want_mode)
            fprintf(stderr, "%s: mode %o, want %o\n", path,
                    (unsigned)(now.st_mode & 0777), (unsigned)want_mode);
        FUZZ_CHECK((now.st_mode & 0777) == want_mode);
        drop(before, rel);
        if (temp_rel[0])
            drop(before, temp_rel);
        char what[96];
        describe(rel, &now, what, sizeof what);
        FUZZ_CHECK(before->n < MAX_ENTRIES);
        snprintf(before->line[before->n++], sizeof before->line[0], "%s %s", rel,
                 what);
        qsort(before->line, (size_t)before->n, sizeof before->line[0], by_line);
        int fd = open(rel, O_RDONLY | O_CLOEXEC);
        FUZZ_CHECK(fd >= 0);
        unsigned char *back = malloc(n + 1);
        FUZZ_CHECK(back && read(fd, back, n + 1) == (ssize_t)n);
        FUZZ_CHECK(memcmp(back, bytes, n) == 0);
        free(back);
        close(fd);
    } else {
        if (!(err == EINVAL || err == EISDIR || err == ENOENT || err == ENOTDIR ||
              err == EEXIST || err == ENAMETOOLONG || err == ELOOP))
            fprintf(stderr, "%s: unexpected errno %d (%s)\n", path, err,
                    strerror(err));
        FUZZ_CHECK(err == EINVAL || err == EISDIR || err == ENOENT ||
                   err == ENOTDIR || err == EEXIST || err == ENAMETOOLONG ||
                   err == ELOOP);
    }
    if (!same(before, after)) {
        fprintf(stderr, "%s (call %u, flags %#x, %zu bytes): rc %d, errno %d\n",
                path, call, flags, n, rc, err);
        show("expected", before);
        show("found", after);
    }
    FUZZ_CHECK(same(before, after));
    if (f)
        FUZZ_CHECK(tmpf_file_cleanup(f) == 0);
    if (rc == 0) /* no longer temporary: cleanup leaves it */
        FUZZ_CHECK(lstat(rel, &st) == 0 && S_ISREG(st.st_mode));
    if (rc != 0 && temp_rel[0])
        FUZZ_CHECK(access(temp_rel, F_OK) != 0); /* cleanup removed it */
    free(before);
    free(after);
    free(bytes);
    return 0;
}
