/*
 * Persist and write_atomic: what lands at target and what it keeps.
 * - The file tmpf holds, never what its name was re-pointed to (an
 *   attacker in a temporary directory others can write, without the
 *   sticky bit: the harness's scratch is 0777).
 * - "" is ENOENT; an existing device, FIFO or socket is refused (EPERM)
 *   unless TMPF_REPLACE_SPECIAL; a symlink to a directory is EISDIR for both.
 * - Replacing keeps the target's owner, group and permission bits (a
 *   temporary made with an explicit perm keeps that), and with
 *   TMPF_KEEP_XATTRS its ACL and user.* / security.* attributes.
 */
#include "harness.h"

#ifndef _WIN32
#include <sys/socket.h>
#include <sys/sysmacros.h>
#include <sys/un.h>
#include <sys/xattr.h>
#endif
#include <tmpf.h>
#include "tmpf_features.h"

static char *path_in(const char *name)
{
    static char buf[4][4400];
    static int i;
    i = (i + 1) % 4;
    snprintf(buf[i], sizeof buf[i], "%s" HARNESS_SEP_STR "%s", scratch, name);
    return buf[i];
}

static tmpf_file *named_with(const char *content, unsigned perm)
{
    tmpf_file *f = tmpf_named_temporary_file(&(tmpf_opts){.dir = scratch, .perm = perm});
    if (f && tmpf_file_write(f, content, strlen(content)) < 0) {
        tmpf_file_cleanup(f);
        return NULL;
    }
    return f;
}

/* An anonymous file (linked into place, or copied where it cannot be):
 * what a replaced target keeps does not depend on which. */
static tmpf_file *anon_with(const char *content)
{
    tmpf_file *f = tmpf_temporary_file(&(tmpf_opts){.dir = scratch});
    if (f && tmpf_file_write(f, content, strlen(content)) < 0) {
        tmpf_file_cleanup(f);
        return NULL;
    }
    return f;
}

#ifndef _WIN32
static bool is_regular(const char *p)
{
    struct stat st;
    return lstat(p, &st) == 0 && S_ISREG(st.st_mode);
}

/* ---- Issue 21.1: persist moves the file tmpf holds ---------------------- */

struct swap {
    const char *name;  /* the temporary's name */
    const char *moved; /* rename it here first (NULL: unlink it) */
    const char *link;  /* then put a symlink to this there (NULL: a file) */
};

static int nobody_swap(void *arg)
{
    const struct swap *s = arg;
    if (s->moved ? rename(s->name, s->moved) != 0 : unlink(s->name) != 0)
        return 10;
    if (s->link)
        return symlink(s->link, s->name) == 0 ? 0 : 11;
    return write_file(s->name, "attacker's", 0666) == 0 ? 0 : 12;
}

/* Root persists into a directory only root can write; the attacker
 * re-points the temporary's name first. */
static void persist_after_swap(bool move_away, bool with_link, unsigned flags)
{
    char *prot = path_in("prot");
    CHECK(mkdir(prot, 0700) == 0);
    char *secret = path_in("secret");
    CHECK(write_file(secret, "root only", 0600) == 0);
    char config[4400];
    snprintf(config, sizeof config, "%s/config", prot);
    if (!(flags & TMPF_NOCLOBBER))
        CHECK(write_file(config, "old", 0600) == 0);

    tmpf_file *f = named_with("root's", 0);
    CHECK(f != NULL);
    char *name = strdup(tmpf_file_path(f));
    struct swap s = {name, move_away ? path_in("moved") : NULL,
                     with_link ? secret : NULL};
    CHECK_EQ_INT(run_as_nobody(nobody_swap, &s), 0);

    errno = 0;
    int rc = tmpf_file_persist(f, config, flags);
    if (!TMPF_CAN_LINK_FD) {
        /* Nothing names the open file here: persist moves the name only
         * while it designates the file, and it no longer does. */
        CHECK_EQ_INT(rc, -1);
        CHECK_EQ_INT(errno, ESTALE);
        if (flags & TMPF_NOCLOBBER)
            CHECK(!path_exists(config));
        else
            CHECK(file_holds(config, "old"));
    } else if (move_away) {
        /* Still linked (under the attacker's name): it is what lands. */
        CHECK_EQ_INT(rc, 0);
        CHECK(is_regular(config));
        CHECK(file_holds(config, "root's"));
    } else {
        /* Unlinked: no name can be given back to it. Fails, target as was. */
        CHECK_EQ_INT(rc, -1);
        CHECK_EQ_INT(errno, ENOENT);
        if (flags & TMPF_NOCLOBBER)
            CHECK(!path_exists(config));
        else
            CHECK(file_holds(config, "old"));
    }
    /* The attacker's object stays where the attacker put it. */
    struct stat st;
    CHECK(lstat(name, &st) == 0);
    CHECK(with_link ? S_ISLNK(st.st_mode) : st.st_uid == 65534);
    CHECK(file_holds(secret, "root only"));
    if (move_away && TMPF_CAN_LINK_FD)
        CHECK_EQ_INT(tmpf_file_cleanup(f), 0);
    else /* still temporary; its name is the attacker's object now */
        CHECK_ERRNO(tmpf_file_cleanup(f), -1, ESTALE);
    CHECK(lstat(name, &st) == 0); /* and cleanup left that alone */
    free(name);
}

static void test_persist_name_moved_then_symlink(void)
{
    persist_after_swap(true, true, 0);
}
static void test_persist_name_moved_then_own_file(void)
{
    persist_after_swap(true, false, 0);
}
static void test_persist_name_moved_noclobber_durable(void)
{
    persist_after_swap(true, true, TMPF_NOCLOBBER | TMPF_DURABLE);
}
static void test_persist_name_unlinked_then_symlink(void)
{
    persist_after_swap(false, true, 0);
}
static void test_persist_name_unlinked_then_own_file(void)
{
    persist_after_swap(false, false, TMPF_NOCLOBBER);
}

/* A named file closed with TMPF_KEEP_AFTER_CLOSE has no descriptor: its
 * name is reopened and checked against the identity recorded at creation
 * (ESTALE when someone put something else there). */
static void test_persist_closed_name_swapped(void)
{
    char *prot = path_in("prot");
    CHECK(mkdir(prot, 0700) == 0);
    char config[4400];
    snprintf(config, sizeof config, "%s/config", prot);
    tmpf_file *f = tmpf_named_temporary_file(
        &(tmpf_opts){.dir = scratch, .flags = TMPF_KEEP_AFTER_CLOSE});
    CHECK(f != NULL && tmpf_file_write(f, "root's", 6) == 6);
    CHECK_EQ_INT(tmpf_file_close(f), 0);
    char *name = strdup(tmpf_file_path(f));
    struct swap s = {name, path_in("moved"), NULL};
    CHECK_EQ_INT(run_as_nobody(nobody_swap, &s), 0);
    CHECK_ERRNO(tmpf_file_persist(f, config, 0), -1, ESTALE);
    CHECK(!path_exists(config));
    /* Moved back by its owner: persisted through its descriptor. */
    CHECK(unlink(name) == 0 && rename(path_in("moved"), name) == 0);
    CHECK_EQ_INT(tmpf_file_persist(f, config, TMPF_DURABLE), 0);
    CHECK(file_holds(config, "root's"));
    CHECK(!path_exists(name));
    CHECK_EQ_INT(tmpf_file_cleanup(f), 0);
    free(name);
}

#endif
/* The old name goes once the file is at target; persisting onto the name
 * it already has changes nothing. */
static void test_persist_named_old_name_removed(void)
{
    tmpf_file *f = named_with("x", 0);
    char *name = strdup(tmpf_file_path(f));
    CHECK_EQ_INT(tmpf_file_persist(f, path_in("t"), 0), 0);
    CHECK(!path_exists(name));
    CHECK(file_holds(path_in("t"), "x"));
    CHECK_EQ_INT(tmpf_file_persist(f, path_in("t"), TMPF_DURABLE), 0);
    CHECK(file_holds(path_in("t"), "x"));
    CHECK_EQ_INT(count_entries(scratch), 1);
    CHECK_EQ_INT(tmpf_file_cleanup(f), 0);
    free(name);
}

/* ---- Issue 21.6: "" is ENOENT -------------------------------------------- */

static void test_empty_target_is_enoent(void)
{
    CHECK_ERRNO(tmpf_write_atomic("", "x", 1, 0), -1, ENOENT);
    CHECK_ERRNO(tmpf_write_atomic("", "x", 1, TMPF_DURABLE), -1, ENOENT);
    tmpf_file *f = anon_with("x");
    CHECK_ERRNO(tmpf_file_persist(f, "", 0), -1, ENOENT);
    CHECK_ERRNO(tmpf_file_persist(f, "", TMPF_NOCLOBBER), -1, ENOENT);
    CHECK_EQ_INT(tmpf_file_cleanup(f), 0);
    CHECK_EQ_INT(count_entries(scratch), 0);
}

#ifndef _WIN32
/* ---- Issue 21.7: no special file is replaced unasked ---------------------- */

static int make_socket(const char *path)
{
    int s = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    struct sockaddr_un a = {.sun_family = AF_UNIX};
    if (s < 0 || strlen(path) >= sizeof a.sun_path)
        return -1;
    strcpy(a.sun_path, path);
    int rc = bind(s, (struct sockaddr *)&a, sizeof a);
    close(s);
    return rc;
}

/* Replaces t by each way, expecting EPERM unless TMPF_REPLACE_SPECIAL. */
static void special_refused(const char *t, mode_t type)
{
    struct stat st;
    CHECK_ERRNO(tmpf_write_atomic(t, "new", 3, 0), -1, EPERM);
    CHECK_ERRNO(tmpf_write_atomic(t, "new", 3, TMPF_DURABLE), -1, EPERM);
    tmpf_file *f = anon_with("new");
    CHECK_ERRNO(tmpf_file_persist(f, t, 0), -1, EPERM);
    CHECK_EQ_INT(tmpf_file_cleanup(f), 0);
    f = named_with("new", 0);
    CHECK_ERRNO(tmpf_file_persist(f, t, TMPF_DURABLE), -1, EPERM);
    CHECK_EQ_INT(tmpf_file_cleanup(f), 0);
    CHECK(lstat(t, &st) == 0 && (st.st_mode & S_IFMT) == type);
    CHECK_EQ_INT(count_entries(scratch), 1);

    CHECK_EQ_INT(tmpf_write_atomic(t, "new", 3, TMPF_REPLACE_SPECIAL), 0);
    CHECK(is_regular(t) && file_holds(t, "new"));
    CHECK(unlink(t) == 0);
}

static void test_special_targets_refused(void)
{
    char *t = path_in("t");
    CHECK(mkfifo(t, 0644) == 0);
    special_refused(t, S_IFIFO);
    CHECK(make_socket(t) == 0);
    special_refused(t, S_IFSOCK);
    if (mknod(t, S_IFCHR | 0666, makedev(1, 3)) != 0)
        SKIP("mknod: %s", strerror(errno));
    special_refused(t, S_IFCHR);
    /* Persist accepts the flag too. */
    CHECK(mkfifo(t, 0644) == 0);
    tmpf_file *f = anon_with("p");
    CHECK_EQ_INT(tmpf_file_persist(f, t, TMPF_REPLACE_SPECIAL), 0);
    CHECK(is_regular(t) && file_holds(t, "p"));
    CHECK_EQ_INT(tmpf_file_cleanup(f), 0);
}

/* A symlink to a directory: EISDIR for both; a symlink to a file: the
 * link itself is replaced by both, the file it pointed to untouched. */
static void test_symlink_targets_agree(void)
{
    char *d = path_in("d");
    CHECK(mkdir(d, 0755) == 0);
    char *ld = path_in("ld");
    CHECK(symlink("d", ld) == 0);
    CHECK_ERRNO(tmpf_write_atomic(ld, "x", 1, 0), -1, EISDIR);
    tmpf_file *f = anon_with("x");
    CHECK_ERRNO(tmpf_file_persist(f, ld, 0), -1, EISDIR);
    tmpf_file *g = named_with("x", 0);
    CHECK_ERRNO(tmpf_file_persist(g, ld, 0), -1, EISDIR);
    struct stat st;
    CHECK(lstat(ld, &st) == 0 && S_ISLNK(st.st_mode));

    char *file = path_in("file"), *lf = path_in("lf"), *lf2 = path_in("lf2");
    CHECK(write_file(file, "pointed", 0640) == 0);
    CHECK(symlink("file", lf) == 0 && symlink("file", lf2) == 0);
    CHECK_EQ_INT(tmpf_write_atomic(lf, "w", 1, 0), 0);
    CHECK_EQ_INT(tmpf_file_persist(f, lf2, 0), 0);
    CHECK(is_regular(lf) && file_holds(lf, "w"));
    CHECK(is_regular(lf2) && file_holds(lf2, "x"));
    CHECK(stat(lf2, &st) == 0 && (st.st_mode & 07777) == 0640);
    CHECK(file_holds(file, "pointed"));
    CHECK_EQ_INT(tmpf_file_cleanup(f), 0);
    CHECK_EQ_INT(tmpf_file_cleanup(g), 0);
}

/* ---- Issue 20.3: owner, group, mode, ACL, xattrs ---------------------------- */

/* A POSIX ACL in the kernel's xattr form: user::rw- user:65534:r--
 * group::r-- mask::r-- other::--- (version 2, little-endian entries). */
static size_t acl_bytes(unsigned char *b)
{
    static const struct {
        unsigned short tag, perm;
        unsigned id;
    } e[] = {{0x01, 6, ~0u}, {0x02, 4, 65534}, {0x04, 4, ~0u}, {0x10, 4, ~0u},
             {0x20, 0, ~0u}};
    size_t n = 0;
    b[n++] = 2, b[n++] = 0, b[n++] = 0, b[n++] = 0;
    for (size_t i = 0; i < sizeof e / sizeof e[0]; i++) {
        b[n++] = (unsigned char)e[i].tag, b[n++] = 0;
        b[n++] = (unsigned char)e[i].perm, b[n++] = 0;
        for (int k = 0; k < 4; k++)
            b[n++] = (unsigned char)(e[i].id >> (8 * k));
    }
    return n;
}

/* A target of uid/gid 65534, mode 0640; with attrs, an ACL, a user.* and a
 * security.* attribute. False (test skipped) where xattrs cannot be set. */
static bool nobodys_target(const char *t, bool attrs)
{
    if (write_file(t, "old", 0640) != 0 || chown(t, 65534, 65534) != 0 ||
        chmod(t, 0640) != 0)
        return false;
    if (!attrs)
        return true;
    unsigned char acl[64];
    size_t n = acl_bytes(acl);
    if (setxattr(t, "system.posix_acl_access", acl, n, 0) != 0 ||
        setxattr(t, "user.origin", "nobody", 6, 0) != 0 ||
        setxattr(t, "security.tmpf-test", "label", 5, 0) != 0) {
        fprintf(stderr, "  xattrs on %s: %s\n", scratch, strerror(errno));
        return false;
    }
    return true;
}

static bool has_xattr(const char *p, const char *name, const void *val, size_t n)
{
    char buf[128];
    ssize_t got = getxattr(p, name, buf, sizeof buf);
    return got == (ssize_t)n && memcmp(buf, val, n) == 0;
}

static void check_kept(const char *t, const char *content, unsigned mode, bool attrs)
{
    struct stat st;
    CHECK(lstat(t, &st) == 0 && S_ISREG(st.st_mode));
    CHECK(file_holds(t, content));
    CHECK_EQ_INT(st.st_uid, 65534);
    CHECK_EQ_INT(st.st_gid, 65534);
    CHECK_EQ_INT(st.st_mode & 07777, mode);
    if (attrs) {
        unsigned char acl[64];
        size_t n = acl_bytes(acl);
        CHECK(has_xattr(t, "system.posix_acl_access", acl, n));
        CHECK(has_xattr(t, "user.origin", "nobody", 6));
        CHECK(has_xattr(t, "security.tmpf-test", "label", 5));
    } else {
        CHECK(getxattr(t, "user.origin", NULL, 0) < 0 && errno == ENODATA);
    }
}

static void test_root_replacing_keeps_owner_and_mode(void)
{
    if (geteuid() != 0)
        SKIP("needs root");
    char *t = path_in("t");
    CHECK(nobodys_target(t, false));
    CHECK_EQ_INT(tmpf_write_atomic(t, "w1", 2, 0), 0);
    check_kept(t, "w1", 0640, false);
    CHECK_EQ_INT(tmpf_write_atomic(t, "w2", 2, TMPF_DURABLE), 0);
    check_kept(t, "w2", 0640, false);
    char big[70000];
    memset(big, 'b', sizeof big - 1);
    big[sizeof big - 1] = '\0';
    CHECK_EQ_INT(tmpf_write_atomic(t, "w3", 2, 0), 0); /* O_TMPFILE path below */
    CHECK_EQ_INT(tmpf_write_atomic(t, big, sizeof big - 1, 0), 0);
    struct stat st;
    CHECK(stat(t, &st) == 0 && st.st_uid == 65534 && (st.st_mode & 07777) == 0640);

    tmpf_file *f = anon_with("p1");
    CHECK_EQ_INT(tmpf_file_persist(f, t, 0), 0);
    check_kept(t, "p1", 0640, false);
    CHECK_EQ_INT(tmpf_file_cleanup(f), 0);
    f = named_with("p2", 0);
    CHECK_EQ_INT(tmpf_file_persist(f, t, TMPF_DURABLE), 0);
    check_kept(t, "p2", 0640, false);
    CHECK_EQ_INT(tmpf_file_cleanup(f), 0);
    /* An explicit perm is the caller's choice: kept; owner still taken. */
    f = named_with("p3", 0604);
    CHECK_EQ_INT(tmpf_file_persist(f, t, 0), 0);
    check_kept(t, "p3", 0604, false);
    CHECK_EQ_INT(tmpf_file_cleanup(f), 0);
    CHECK_EQ_INT(count_entries(scratch), 1);
}

static void test_root_keep_xattrs(void)
{
    if (geteuid() != 0)
        SKIP("needs root");
    char *t = path_in("t");
    if (!nobodys_target(t, true))
        SKIP("no xattrs on %s", scratch);
    /* Without the flag: owner and mode, not the attributes. */
    CHECK_EQ_INT(tmpf_write_atomic(t, "plain", 5, 0), 0);
    check_kept(t, "plain", 0640, false);
    CHECK(unlink(t) == 0 && nobodys_target(t, true));
    if (!TMPF_CAN_KEEP_XATTRS) {
        /* No way to read them in this build (generic POSIX): keeping them
         * cannot be promised, so the flag fails, target untouched. */
        tmpf_file *f = anon_with("p");
        errno = 0;
        CHECK_EQ_INT(tmpf_write_atomic(t, "w", 1, TMPF_KEEP_XATTRS), -1);
        CHECK_EQ_INT(errno, ENOTSUP);
        errno = 0;
        CHECK_EQ_INT(tmpf_file_persist(f, t, TMPF_KEEP_XATTRS), -1);
        CHECK_EQ_INT(errno, ENOTSUP);
        check_kept(t, "old", 0640, true);
        CHECK_EQ_INT(tmpf_file_cleanup(f), 0);
        /* A new target has nothing to keep. */
        char *n = path_in("new");
        CHECK_EQ_INT(tmpf_write_atomic(n, "n", 1, TMPF_KEEP_XATTRS), 0);
        CHECK(file_holds(n, "n"));
        CHECK(unlink(n) == 0);
        CHECK_EQ_INT(count_entries(scratch), 1);
        return;
    }
    CHECK_EQ_INT(tmpf_write_atomic(t, "w", 1, TMPF_KEEP_XATTRS), 0);
    check_kept(t, "w", 0640, true);
    CHECK_EQ_INT(tmpf_write_atomic(t, "d", 1, TMPF_KEEP_XATTRS | TMPF_DURABLE), 0);
    check_kept(t, "d", 0640, true);
    tmpf_file *f = anon_with("p");
    CHECK_EQ_INT(tmpf_file_persist(f, t, TMPF_KEEP_XATTRS), 0);
    check_kept(t, "p", 0640, true);
    CHECK_EQ_INT(tmpf_file_cleanup(f), 0);
    f = named_with("n", 0);
    CHECK_EQ_INT(tmpf_file_persist(f, t, TMPF_KEEP_XATTRS | TMPF_DURABLE), 0);
    check_kept(t, "n", 0640, true);
    CHECK_EQ_INT(tmpf_file_cleanup(f), 0);
    CHECK_EQ_INT(count_entries(scratch), 1);
}

/* Not root: owner and group are the writer's (it may not give a file
 * away), permission bits kept, no error; TMPF_KEEP_XATTRS fails with
 * EPERM for an attribute it may not set (here security.*), target
 * untouched and nothing left. user.* and the ACL alone it can keep. */
static int nobody_replaces(void *arg)
{
    const char *t = arg;
    if (tmpf_write_atomic(t, "mine", 4, 0) != 0)
        return 10;
    struct stat st;
    if (stat(t, &st) != 0 || st.st_uid != 65534 || st.st_gid != 65534 ||
        (st.st_mode & 07777) != 0664)
        return 11;
    if (setxattr(t, "user.origin", "x", 1, 0) != 0)
        return 12;
    if (!TMPF_CAN_KEEP_XATTRS) { /* cannot keep: says so, target as it was */
        if (tmpf_write_atomic(t, "attr", 4, TMPF_KEEP_XATTRS) == 0 || errno != ENOTSUP)
            return 15;
        return tmpf_write_atomic(t, "attr", 4, 0) != 0 ? 16 : 0;
    }
    if (tmpf_write_atomic(t, "attr", 4, TMPF_KEEP_XATTRS) != 0)
        return 13;
    if (!has_xattr(t, "user.origin", "x", 1))
        return 14;
    return 0;
}

static int nobody_keeps_security(void *arg)
{
    const char *t = arg;
    errno = 0;
    if (tmpf_write_atomic(t, "new", 3, TMPF_KEEP_XATTRS) == 0)
        return 10;
    if (errno != (TMPF_CAN_KEEP_XATTRS ? EPERM : ENOTSUP))
        return 11;
    if (tmpf_write_atomic(t, "new", 3, 0) != 0) /* without the flag: fine */
        return 12;
    return 0;
}

static void test_nonroot_writer(void)
{
    char *t = path_in("t");
    CHECK(write_file(t, "root's", 0664) == 0 && chmod(t, 0664) == 0);
    CHECK_EQ_INT(run_as_nobody(nobody_replaces, t), 0);
    CHECK(file_holds(t, "attr"));
    CHECK(unlink(t) == 0);
    CHECK(write_file(t, "root's", 0666) == 0);
    if (setxattr(t, "security.tmpf-test", "label", 5, 0) != 0)
        SKIP("security.* xattr on %s: %s", scratch, strerror(errno));
    CHECK_EQ_INT(run_as_nobody(nobody_keeps_security, t), 0);
    CHECK(file_holds(t, "new"));
    CHECK_EQ_INT(count_entries(scratch), 1);
}
#endif

static const struct test tests[] = {
    TEST_POSIX(test_persist_name_moved_then_symlink, "another uid (65534) renames and replaces root's temporary"),
    TEST_POSIX(test_persist_name_moved_then_own_file, "another uid (65534) renames and replaces root's temporary (Windows: test_windows' test_api_persist_moves_the_held_file)"),
    TEST_POSIX(test_persist_name_moved_noclobber_durable, "another uid (65534) renames and replaces root's temporary"),
    TEST_POSIX(test_persist_name_unlinked_then_symlink, "another uid (65534) renames and replaces root's temporary"),
    TEST_POSIX(test_persist_name_unlinked_then_own_file, "another uid (65534) renames and replaces root's temporary"),
    TEST_POSIX(test_persist_closed_name_swapped, "another uid (65534) renames and replaces root's temporary"),
    TEST(test_persist_named_old_name_removed),
    TEST(test_empty_target_is_enoent),
    TEST_POSIX(test_special_targets_refused, "sockets, fifos and device nodes"),
    TEST_POSIX(test_symlink_targets_agree, "symlink(2) (Wine makes no links)"),
    TEST_POSIX(test_root_replacing_keeps_owner_and_mode, "owners, POSIX modes and ACLs (Windows: test_windows' test_api_persist_keeps_target_dacl and _attributes)"),
    TEST_POSIX(test_root_keep_xattrs, "xattrs"),
    TEST_POSIX(test_nonroot_writer, "uid 65534"),
};
TEST_MAIN(tests)
