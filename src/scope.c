/* Scopes: many temporaries, one cleanup (the seeds' TempFileManager), and
 * the process-wide at-exit scope behind TMPF_AT_EXIT.
 *
 * Each registered temporary has one entry, returned to its creator as the
 * handle. An entry can sit in two lists at once: the user's scope (slot 0)
 * and the at-exit scope (slot 1); each list is doubly linked, newest first,
 * under its own scope's mutex, so registration and removal are O(1) and a
 * creation without a scope takes no lock at all. Only the at-exit run
 * ever holds two locks (the at-exit one first, then a user scope's).
 *
 * Ownership of an entry:
 *   - an object (tmpf_file / tmpf_dir) holds its entry and gives it back
 *     with tmpf__scope_forget, which unlinks it from every list still
 *     holding it and frees it;
 *   - a low-level path (tmpf_mkstemp / tmpf_mkdtemp) has no holder: the
 *     entry carries its own copy of the path and the scope that removes the
 *     path frees the entry.
 * A cleanup takes an entry off its list and marks it claimed under the
 * lock, then drops the lock before removing the temporary, so the object's
 * cleanup can call tmpf__scope_forget on that very entry: forget of an
 * entry no longer in any list just frees it, exactly once. An entry in both
 * lists is claimed by one cleanup only: a user scope's cleanup claims under
 * its own lock, the at-exit run under both (see run_at_exit).
 *
 * Fork: the at-exit list of a child starts empty (a fork handler drops what
 * it inherited: those temporaries are its parent's), and each at-exit entry
 * also records the registering pid, so a child made without fork handlers
 * (a raw clone) still never removes its parent's files at exit. Dropping an
 * inherited entry never frees an object: the child may still use it, and
 * an explicit cleanup in the child (of an object, or of a user scope it
 * inherited) does what it says. The at-exit lock is held across fork, so a
 * child never inherits it locked; a user scope's lock is not (its list is
 * the caller's to keep quiet across fork, as for any mutex). */
#include "internal.h"

#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

enum { SLOT_USER, SLOT_EXIT, SLOT_COUNT };

struct scope_link {
    struct tmpf__scope_entry *prev, *next;
    tmpf_scope *home; /* the scope of this slot, or NULL; set once */
    bool linked;      /* still in home's list (read under home's lock) */
};

struct tmpf__scope_entry {
    struct scope_link link[SLOT_COUNT];
    atomic_bool claimed; /* a cleanup is removing this temporary */
    void *obj;           /* tmpf_file / tmpf_dir, or NULL for a path */
    tmpf_kind kind;
    pid_t pid;           /* registering process (at-exit entries) */
    struct tmpf__ident ident; /* low-level only: checked before removal */
    tmpf__reg reg;       /* low-level only: registry.c (crash layers) */
    char path[];         /* low-level only: the path to remove */
};

struct tmpf_scope {
    pthread_mutex_t lock;
    struct tmpf__scope_entry *head; /* newest first */
    unsigned flags;
    int slot;
};

static tmpf_scope exit_scope = {PTHREAD_MUTEX_INITIALIZER, NULL, 0, SLOT_EXIT};
static pthread_once_t exit_once = PTHREAD_ONCE_INIT;
/* getpid() is a system call; this copy is refreshed by the fork handler.
 * In a child made without fork handlers it is stale, so that child's own
 * at-exit temporaries are left at its exit: never its parent's removed. */
static pid_t exit_pid;

/* ---- list operations (caller holds s->lock) ---------------------------- */

static void push(tmpf_scope *s, struct tmpf__scope_entry *e)
{
    struct scope_link *l = &e->link[s->slot];
    l->home = s;
    l->linked = true;
    l->prev = NULL;
    l->next = s->head;
    if (s->head)
        s->head->link[s->slot].prev = e;
    s->head = e;
}

static void unlink_entry(tmpf_scope *s, struct tmpf__scope_entry *e)
{
    struct scope_link *l = &e->link[s->slot];
    if (l->prev)
        l->prev->link[s->slot].next = l->next;
    else
        s->head = l->next;
    if (l->next)
        l->next->link[s->slot].prev = l->prev;
    l->prev = l->next = NULL;
    l->linked = false;
}

/* ---- the at-exit scope ------------------------------------------------- */

static void run_at_exit(void);

/* Fork handlers: the child must not see the list half-changed by another
 * thread, so the lock is held across fork. */
static void fork_prepare(void) { pthread_mutex_lock(&exit_scope.lock); }
static void fork_parent(void) { pthread_mutex_unlock(&exit_scope.lock); }

static void fork_child(void)
{
    struct tmpf__scope_entry *e = exit_scope.head, *next;
    for (; e; e = next) {
        next = e->link[SLOT_EXIT].next;
        e->link[SLOT_EXIT].prev = e->link[SLOT_EXIT].next = NULL;
        e->link[SLOT_EXIT].linked = false;
        /* An object keeps its entry (its forget frees it); a path in no
         * user scope has no other holder. */
        if (!e->obj && !e->link[SLOT_USER].home)
            free(e);
    }
    exit_scope.head = NULL;
    exit_pid = getpid();
    pthread_mutex_unlock(&exit_scope.lock);
}

static void exit_scope_init(void)
{
    /* If atexit cannot register, the destructor below still runs the scope
     * at exit (and at dlclose), only later. */
    exit_pid = getpid();
    (void)atexit(run_at_exit);
    (void)pthread_atfork(fork_prepare, fork_parent, fork_child);
}

#if defined(__GNUC__) || defined(__clang__)
/* dlclose of the shared library, or an exit after atexit failed. Idempotent:
 * the atexit run left the list empty. */
__attribute__((destructor)) static void exit_scope_destructor(void)
{
    run_at_exit();
}
#endif

/* ---- registration ------------------------------------------------------ */

int tmpf__scope_add(const tmpf__opts *r, tmpf_kind kind, const char *path,
                    void *obj, struct tmpf__scope_entry **ret)
{
    *ret = NULL;
    bool at_exit = r->flags & TMPF_AT_EXIT;
    if (!r->scope && !at_exit)
        return 0;
    /* A kept path is never removed: nothing for a scope to do. */
    if (!obj && (r->flags & TMPF_KEEP))
        return 0;
    size_t path_size = obj ? 0 : strlen(path) + 1;
    struct tmpf__scope_entry *e = tmpf__malloc(sizeof *e + path_size);
    if (!e)
        return -1;
    memset(e, 0, sizeof *e);
    atomic_init(&e->claimed, false);
    e->obj = obj;
    e->kind = kind;
    if (!obj) {
        memcpy(e->path, path, path_size);
        tmpf__reg_add(&e->reg,
                      kind == TMPF_KIND_MKDTEMP ? TMPF__REG_DIR : TMPF__REG_FILE,
                      e->path, -1);
    }
    if (r->scope) {
        pthread_mutex_lock(&r->scope->lock);
        push(r->scope, e);
        pthread_mutex_unlock(&r->scope->lock);
    }
    if (at_exit) {
        pthread_once(&exit_once, exit_scope_init);
        e->pid = exit_pid;
        pthread_mutex_lock(&exit_scope.lock);
        push(&exit_scope, e);
        pthread_mutex_unlock(&exit_scope.lock);
    }
    *ret = e;
    return 0;
}

void tmpf__scope_set_ident(struct tmpf__scope_entry *e, const struct tmpf__ident *id)
{
    if (e)
        e->ident = *id;
}

void tmpf__scope_forget(struct tmpf__scope_entry *e)
{
    if (!e)
        return;
    /* The at-exit list first: while an entry is still there, a user scope
     * it is in is alive (see run_at_exit). */
    for (int k = SLOT_COUNT - 1; k >= 0; k--) {
        tmpf_scope *s = e->link[k].home;
        if (!s)
            continue;
        pthread_mutex_lock(&s->lock);
        if (e->link[k].linked)
            unlink_entry(s, e);
        pthread_mutex_unlock(&s->lock);
    }
    tmpf__reg_end(&e->reg, TMPF__REG_REMOVED);
    free(e);
}

/* ---- cleanup ----------------------------------------------------------- */

/* Removes a low-level path by kind; one whose identity was recorded only
 * while the path still designates it (identity.c). */
static int remove_path(struct tmpf__scope_entry *e)
{
    int rc = 0;
    if (e->kind == TMPF_KIND_MKSTEMP) {
        rc = tmpf__remove_file_checked(e->path, &e->ident);
    } else if (e->ident.ino) {
        rc = tmpf__remove_dir_checked(e->path, -1, &e->ident);
    } else if (rmdir(e->path) != 0 && errno != ENOENT) {
        /* Only a directory with something in it needs the walk. */
        if (errno == ENOTEMPTY || errno == EEXIST)
            rc = tmpf_rmtree(e->path, 0);
        else
            rc = -1;
    }
    if (rc != 0)
        tmpf__audit(TMPF_EVENT_CLEANUP_FAILED, e->kind, e->path, e->path, -1, 0,
                    errno);
    else
        tmpf__audit(TMPF_EVENT_DELETE, e->kind, e->path, e->path, -1, 0, 0);
    return rc;
}

/* Removes the temporary of an entry its caller has claimed; the entry is
 * freed on return (by the object's forget, or here). */
static int remove_claimed(struct tmpf__scope_entry *e)
{
    if (e->obj) {
        if (e->kind == TMPF_KIND_DIRECTORY)
            return tmpf_dir_cleanup(e->obj);
        return tmpf_file_cleanup(e->obj);
    }
    int rc = remove_path(e);
    int saved = errno;
    tmpf__scope_forget(e);
    errno = saved;
    return rc;
}

/* Removes every entry of user scope s, newest first; returns the first
 * errno (0 if none). */
static int drain(tmpf_scope *s)
{
    int first_error = 0;
    pthread_mutex_lock(&s->lock);
    struct tmpf__scope_entry *e;
    while ((e = s->head)) {
        unlink_entry(s, e);
        atomic_store(&e->claimed, true);
        pthread_mutex_unlock(&s->lock);
        if (remove_claimed(e) != 0 && first_error == 0)
            first_error = errno ? errno : EIO;
        pthread_mutex_lock(&s->lock);
    }
    pthread_mutex_unlock(&s->lock);
    return first_error;
}

/* The at-exit run: removes what this process registered, newest first,
 * and drops what others did. Errors have no one to go to (the event hook
 * sees them). Idempotent: a second run finds the list empty.
 *
 * An entry also in a user scope is taken out of that scope too before it
 * is removed, under both locks (the only place two are held: the at-exit
 * lock first). The user scope is alive then: its cleanup frees it only
 * after each of its entries has left the at-exit list.
 *
 * As with Python's atexit, threads still running at exit must not be
 * cleaning up the same objects: an object is freed by whoever cleans it. */
static void run_at_exit(void)
{
    tmpf_scope *x = &exit_scope;
    pid_t me = getpid();
    pthread_mutex_lock(&x->lock);
    struct tmpf__scope_entry *e;
    while ((e = x->head)) {
        unlink_entry(x, e);
        tmpf_scope *u = e->link[SLOT_USER].home;
        if (e->pid != me) {
            if (!e->obj && !u)
                free(e);
            continue;
        }
        bool taken_by_user_scope;
        if (u) {
            pthread_mutex_lock(&u->lock);
            taken_by_user_scope = atomic_exchange(&e->claimed, true);
            if (!taken_by_user_scope && e->link[SLOT_USER].linked)
                unlink_entry(u, e);
            pthread_mutex_unlock(&u->lock);
        } else {
            taken_by_user_scope = atomic_exchange(&e->claimed, true);
        }
        /* That scope's cleanup is removing it and frees the entry. */
        if (taken_by_user_scope)
            continue;
        pthread_mutex_unlock(&x->lock);
        (void)remove_claimed(e);
        pthread_mutex_lock(&x->lock);
    }
    pthread_mutex_unlock(&x->lock);
}

tmpf_scope *tmpf_scope_new(unsigned flags)
{
    if (flags & ~(unsigned)TMPF_IGNORE_CLEANUP_ERRORS) {
        errno = EINVAL;
        return NULL;
    }
    tmpf_scope *s = tmpf__calloc(1, sizeof *s);
    if (!s)
        return NULL;
    int err = pthread_mutex_init(&s->lock, NULL);
    if (err != 0) {
        free(s);
        errno = err;
        return NULL;
    }
    s->flags = flags;
    s->slot = SLOT_USER;
    return s;
}

int tmpf_scope_cleanup(tmpf_scope *s)
{
    if (!s)
        return 0;
    int err = drain(s);
    pthread_mutex_destroy(&s->lock);
    unsigned flags = s->flags;
    free(s);
    if (err == 0 || (flags & TMPF_IGNORE_CLEANUP_ERRORS))
        return 0;
    errno = err;
    return -1;
}
