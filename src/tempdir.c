/* Choosing the temporary directory, as Python's gettempdir does: the first
 * candidate in which a file can really be created and written (and, when
 * it has to be named, removed), with a name of full length, and which
 * passes the vetting: only the caller and root can rename or remove
 * entries of it (sticky, or not writable by group and others; owned by
 * the caller or root).
 * Chosen once under a lock; later calls read one atomic pointer. */
#include "internal.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

/* The choice is made and replaced under TMPF__LOCK_TEMPDIR. */
static _Atomic(const char *) chosen;

/* A fork while another thread holds the lock would leave it locked for
 * ever in the child: fork waits for the lock and both sides release it. */
static void fork_prepare(void) { tmpf__os_lock(TMPF__LOCK_TEMPDIR); }
static void fork_release(void) { tmpf__os_unlock(TMPF__LOCK_TEMPDIR); }
static void register_atfork(void)
{
    tmpf__os_atfork(fork_prepare, fork_release, fork_release);
}

static void lock_choice(void)
{
    tmpf__os_once(TMPF__ONCE_TEMPDIR_ATFORK, register_atfork);
    tmpf__os_lock(TMPF__LOCK_TEMPDIR);
}

static void unlock_choice(void) { tmpf__os_unlock(TMPF__LOCK_TEMPDIR); }

/* Strings once returned must stay valid after tmpf_settempdir replaces
 * them, so replaced ones are kept here (still reachable, never freed). */
struct retired {
    struct retired *next;
    char *dir;
};
static struct retired *retired_list;

/* Writes a few bytes to the probe fd and closes it: 0, or -1 with errno. */
static int probe_write(int fd)
{
    static const char probe[] = "blat";
    int rc = tmpf__os_write_all(fd, probe, sizeof probe - 1);
    tmpf__os_close(fd);
    return rc;
}

static int probe_try(const char *path, void *ctx)
{
    (void)ctx;
    int fd = tmpf__os_create_file(path, 0600, 0);
    if (fd < 0)
        return -1;
    int rc = probe_write(fd);
    int saved = errno;
    if (tmpf__os_unlink(path) != 0 && errno != ENOENT)
        tmpf__os_unlink(path); /* once more: the probe must not stay behind */
    errno = saved;
    return rc;
}

/* A name of full length resolves in dir: lstat of it says ENOENT (or
 * that it exists), not ENAMETOOLONG. Nothing is created. */
static int name_fits(const char *path, void *ctx)
{
    (void)ctx;
    if (tmpf__os_lexists(path) || errno == ENOENT)
        return 0;
    return -1;
}

/* Whether dir (absolute) can hold a temporary file right now: 1 yes, 0 no
 * (errno says why). Python's probe: a file of a full-length name is
 * created, written and removed; a few names are tried in case one is
 * taken. -1 (ENOMEM): we could not tell; that must not make the choice,
 * which is kept for the life of the process, skip a good directory. */
static int usable(const char *dir)
{
    tmpf__opts r = {0};
    r.dir = dir;
    r.dir_len = strlen(dir);
    r.prefix = tmpf_gettempprefix();
    r.prefix_len = strlen(r.prefix);
    r.suffix = "";
    r.rand_len = TMPF_RAND_LEN_DEFAULT;
    /* An unnamed file first: it leaves nothing behind, whereas a named
     * probe whose unlink fails would stay in the directory. Then a check,
     * creating nothing, that a name of full length fits: a directory
     * whose path leaves no room for one would fail every named creation. */
    int fd = tmpf__os_open_tmpfile(tmpf__os_cwd_fd, dir, 0600);
    if (fd >= 0) {
        if (probe_write(fd) != 0)
            return errno == ENOMEM ? -1 : 0;
        if (tmpf__create(&r, name_fits, NULL, NULL) == 0)
            return 1;
        return errno == ENOMEM ? -1 : 0;
    }
    if (errno == ENOMEM)
        return -1;
    /* No O_TMPFILE in this kernel or file system: a named probe. */
    if (!tmpf__os_tmpfile_unsupported(errno))
        return 0;
    if (tmpf__create(&r, probe_try, NULL, NULL) == 0)
        return 1;
    return errno == ENOMEM ? -1 : 0;
}

/* Whether candidate dir is taken: 1 yes, 0 passed over (the audit hook
 * hears why), -1 ENOMEM. Vetting first (others must not be able to
 * rename or remove what we create there), then the probe. */
static int consider(const char *dir)
{
    const char *why = tmpf__dir_unsafe(dir);
    if (why && errno == ENOMEM)
        return -1; /* could not examine it (Windows reads its DACL): no verdict */
    if (!why) {
        int u = usable(dir);
        if (u != 0)
            return u;
        why = errno == ENAMETOOLONG ? "no temporary name fits in it"
                                    : "a file cannot be created and written in it";
    } else if (errno == ENOENT) {
        why = "does not exist";
    }
    tmpf__audit_tempdir_skipped(dir, errno, why);
    return 0;
}

static char *choose(void)
{
    static const char *const env_names[] = {"TMPDIR", "TEMP", "TMP"};
    /* The platform's own places ("/tmp", "/var/tmp", "/usr/tmp" here). */
    int saved = errno;
    const char *const *fixed = tmpf__os_tempdir_candidates();
    if (!fixed)
        return NULL; /* ENOMEM (Windows builds the list on first use) */

    for (size_t i = 0; i < sizeof env_names / sizeof *env_names; i++) {
        errno = 0;
        const char *v = tmpf__os_secure_getenv(env_names[i]);
        if (!v && errno == ENOMEM)
            return NULL; /* Windows copies the value out: not "unset" */
        if (!v || !*v)
            continue;
        char *abs = tmpf__abspath(v);
        if (!abs && errno == ENOMEM)
            return NULL;
        if (!abs)
            tmpf__audit_tempdir_skipped(v, errno, "cannot be made absolute");
        int u = abs ? consider(abs) : 0;
        if (u > 0) {
            errno = saved;
            return abs;
        }
        free(abs);
        if (u < 0)
            goto nomem;
    }
    for (size_t i = 0; fixed[i]; i++) {
        int u = consider(fixed[i]);
        if (u > 0) {
            errno = saved;
            return tmpf__strdup(fixed[i]);
        }
        if (u < 0)
            goto nomem;
    }
    char *cwd = tmpf__abspath(".");
    if (!cwd && errno == ENOMEM)
        return NULL;
    if (!cwd)
        tmpf__audit_tempdir_skipped(".", errno, "cannot be made absolute");
    int u = cwd ? consider(cwd) : 0;
    if (u > 0) {
        errno = saved;
        return cwd;
    }
    free(cwd);
    if (u < 0)
        goto nomem;
    errno = ENOENT;
    return NULL;
nomem:
    errno = ENOMEM;
    return NULL;
}

const char *tmpf_gettempdir(void)
{
    const char *dir = atomic_load_explicit(&chosen, memory_order_acquire);
    if (dir)
        return dir;
    lock_choice();
    dir = atomic_load_explicit(&chosen, memory_order_relaxed);
    if (!dir) {
        dir = choose();
        if (dir)
            atomic_store_explicit(&chosen, dir, memory_order_release);
    }
    int saved = errno;
    unlock_choice();
    errno = saved;
    return dir;
}

const char *tmpf_gettempprefix(void) { return "tmp"; }

int tmpf_settempdir(const char *dir)
{
    char *abs = NULL;
    if (dir) {
        abs = tmpf__abspath(dir);
        if (!abs)
            return -1;
    }
    struct retired *r = NULL;
    lock_choice();
    char *old = (char *)atomic_load_explicit(&chosen, memory_order_relaxed);
    if (old) {
        r = tmpf__malloc(sizeof *r);
        if (!r) {
            unlock_choice();
            free(abs);
            errno = ENOMEM;
            return -1;
        }
        r->dir = old;
        r->next = retired_list;
        retired_list = r;
    }
    atomic_store_explicit(&chosen, abs, memory_order_release);
    unlock_choice();
    return 0;
}
