/* Audit: counters for tmpf_get_stats, the optional event hook, and the leak
 * report (the C spelling of Python's ResourceWarning).
 *
 * With no hook and no leak tracking an event costs a few relaxed atomic
 * adds and two predictable branches: no lock is taken on the hot path. */
#include "internal.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

typedef void (*hook_fn)(const tmpf_event *ev, void *ctx);

static struct {
    _Atomic(uint64_t) live[TMPF_KIND_COUNT];
    _Atomic(uint64_t) spooled_in_memory;
    _Atomic(uint64_t) spooled_bytes;
    _Atomic(uint64_t) created, removed, cleanup_failures;
} counters;

/* The hook is a (function, context) pair that must be read consistently:
 * a sequence counter (odd while a writer changes the pair) lets readers
 * retry instead of locking. in_flight counts running hook calls so that
 * tmpf_set_event_hook can wait for the old hook to finish. */
static atomic_uint hook_seq;
static _Atomic(hook_fn) hook_function;
static _Atomic(void *) hook_context;
static atomic_int in_flight;
/* A temporary created from inside the hook must not call it again. */
static _Thread_local bool in_hook;

/* ---- leak tracking ----------------------------------------------------- */

struct tracked {
    struct tracked *prev, *next;
    const void *obj;
    tmpf_kind kind;
    char *path; /* copy, or NULL */
};

static atomic_bool tracking;
static struct tracked *tracked_head;
static FILE *report_stream; /* NULL: stderr */

static const char *const creating_call[TMPF_KIND_COUNT] = {
    [TMPF_KIND_MKSTEMP] = "tmpf_mkstemp",
    [TMPF_KIND_MKDTEMP] = "tmpf_mkdtemp",
    [TMPF_KIND_ANONYMOUS] = "tmpf_temporary_file",
    [TMPF_KIND_NAMED] = "tmpf_named_temporary_file",
    [TMPF_KIND_SPOOLED] = "tmpf_spooled_temporary_file",
    [TMPF_KIND_DIRECTORY] = "tmpf_temporary_directory",
};

static void track(const void *obj, tmpf_kind kind, const char *path)
{
    /* Plain malloc: the fault-injection seam must not make tracking (a
     * debugging aid) change what the library's calls return. */
    struct tracked *t = calloc(1, sizeof *t);
    if (!t)
        return;
    t->obj = obj;
    t->kind = kind;
    t->path = path ? strdup(path) : NULL;
    tmpf__os_lock(TMPF__LOCK_AUDIT_TRACK);
    t->next = tracked_head;
    if (tracked_head)
        tracked_head->prev = t;
    tracked_head = t;
    tmpf__os_unlock(TMPF__LOCK_AUDIT_TRACK);
}

static void untrack(const void *obj)
{
    tmpf__os_lock(TMPF__LOCK_AUDIT_TRACK);
    for (struct tracked *t = tracked_head; t; t = t->next) {
        if (t->obj != obj)
            continue;
        if (t->prev)
            t->prev->next = t->next;
        else
            tracked_head = t->next;
        if (t->next)
            t->next->prev = t->prev;
        free(t->path);
        free(t);
        break;
    }
    tmpf__os_unlock(TMPF__LOCK_AUDIT_TRACK);
}

/* A low-level temporary (tmpf_mkstemp / tmpf_mkdtemp) is removed by the
 * caller with unlink or rmdir, which the library never sees: it counts as
 * leaked only if its path is still there. */
static bool still_leaked(const struct tracked *t)
{
    if (t->kind != TMPF_KIND_MKSTEMP && t->kind != TMPF_KIND_MKDTEMP)
        return true;
    return t->path && tmpf__os_lexists(t->path);
}

static int report(FILE *out, bool print)
{
    int n = 0;
    tmpf__os_lock(TMPF__LOCK_AUDIT_TRACK);
    for (struct tracked *t = tracked_head; t; t = t->next) {
        if (!still_leaked(t))
            continue;
        n++;
        if (print)
            fprintf(out, "tmpf: leaked %s from %s: %s\n",
                    t->kind == TMPF_KIND_DIRECTORY || t->kind == TMPF_KIND_MKDTEMP
                        ? "directory"
                        : "file",
                    creating_call[t->kind], t->path ? t->path : "(no name)");
    }
    tmpf__os_unlock(TMPF__LOCK_AUDIT_TRACK);
    return n;
}

static void report_at_exit(void)
{
    FILE *out = report_stream ? report_stream : stderr;
    report(out, true);
    fflush(out);
}

static void register_report(void) { atexit(report_at_exit); }

static void start_tracking(void)
{
    tmpf__os_once(TMPF__ONCE_LEAK_REPORT, register_report);
    atomic_store(&tracking, true);
}

TMPF__CONSTRUCTOR(tracking_from_environment)
{
    const char *v = getenv("TMPF_DEBUG");
    if (v && *v && strcmp(v, "0") != 0)
        start_tracking();
}

int tmpf_leak_report(FILE *out)
{
    tmpf__os_lock(TMPF__LOCK_AUDIT_TRACK);
    report_stream = out;
    tmpf__os_unlock(TMPF__LOCK_AUDIT_TRACK);
    start_tracking();
    return report(NULL, false);
}

/* ---- counters and events ------------------------------------------------ */

static void add(_Atomic(uint64_t) *c, uint64_t n)
{
    atomic_fetch_add_explicit(c, n, memory_order_relaxed);
}

static void sub(_Atomic(uint64_t) *c, uint64_t n)
{
    atomic_fetch_sub_explicit(c, n, memory_order_relaxed);
}

static void count(tmpf_event_type type, tmpf_kind kind)
{
    switch (type) {
    case TMPF_EVENT_CREATE:
        add(&counters.live[kind], 1);
        add(&counters.created, 1);
        if (kind == TMPF_KIND_SPOOLED)
            add(&counters.spooled_in_memory, 1);
        break;
    case TMPF_EVENT_DELETE:
        add(&counters.removed, 1);
        /* fall through */
    case TMPF_EVENT_KEEP:
    case TMPF_EVENT_PERSIST:
        sub(&counters.live[kind], 1);
        break;
    case TMPF_EVENT_ROLLOVER:
        sub(&counters.spooled_in_memory, 1);
        break;
    case TMPF_EVENT_CLEANUP_FAILED:
        add(&counters.cleanup_failures, 1);
        break;
    case TMPF_EVENT_CLOSE:
    case TMPF_EVENT_TEMPDIR_SKIPPED:
        break;
    }
}

static void call_hook(const tmpf_event *ev)
{
    atomic_fetch_add_explicit(&in_flight, 1, memory_order_acq_rel);
    hook_fn fn;
    void *ctx;
    for (;;) {
        unsigned seq = atomic_load_explicit(&hook_seq, memory_order_acquire);
        fn = atomic_load_explicit(&hook_function, memory_order_acquire);
        ctx = atomic_load_explicit(&hook_context, memory_order_acquire);
        if (!(seq & 1) &&
            atomic_load_explicit(&hook_seq, memory_order_acquire) == seq)
            break;
        tmpf__os_yield();
    }
    if (fn) {
        int saved = errno;
        in_hook = true;
        fn(ev, ctx);
        in_hook = false;
        errno = saved;
    }
    atomic_fetch_sub_explicit(&in_flight, 1, memory_order_acq_rel);
}

void tmpf__audit(tmpf_event_type type, tmpf_kind kind, const void *obj,
                 const char *path, int fd, uint64_t bytes, int error)
{
    count(type, kind);
    if (TMPF__UNLIKELY(atomic_load_explicit(&tracking, memory_order_relaxed))) {
        if (type == TMPF_EVENT_CREATE)
            track(obj, kind, path);
        else if (type == TMPF_EVENT_DELETE || type == TMPF_EVENT_KEEP ||
                 type == TMPF_EVENT_PERSIST)
            untrack(obj);
    }
    if (TMPF__LIKELY(atomic_load_explicit(&hook_function, memory_order_relaxed) == NULL) ||
        in_hook)
        return;
    tmpf_event ev = {type, kind, path, fd, bytes, error, obj, NULL};
    call_hook(&ev);
}

void tmpf__audit_tempdir_skipped(const char *dir, int error, const char *reason)
{
    if (atomic_load_explicit(&hook_function, memory_order_relaxed) == NULL || in_hook)
        return;
    tmpf_event ev = {TMPF_EVENT_TEMPDIR_SKIPPED, TMPF_KIND_DIRECTORY, dir, -1, 0,
                     error, NULL, reason};
    call_hook(&ev);
}

void tmpf__audit_notify(tmpf_event_type type, tmpf_kind kind, const char *path)
{
    if (atomic_load_explicit(&hook_function, memory_order_relaxed) == NULL ||
        in_hook)
        return;
    tmpf_event ev = {type, kind, path, -1, 0, 0, path, NULL};
    call_hook(&ev);
}

void tmpf__audit_spool_bytes(int64_t delta)
{
    atomic_fetch_add_explicit(&counters.spooled_bytes, (uint64_t)delta,
                              memory_order_relaxed);
}

void tmpf__audit_spool_closed(void)
{
    atomic_fetch_sub_explicit(&counters.spooled_in_memory, 1,
                              memory_order_relaxed);
}

void tmpf_set_event_hook(void (*hook)(const tmpf_event *ev, void *ctx), void *ctx)
{
    tmpf__os_lock(TMPF__LOCK_AUDIT_HOOK);
    atomic_fetch_add_explicit(&hook_seq, 1, memory_order_acq_rel);
    atomic_store_explicit(&hook_context, hook ? ctx : NULL, memory_order_release);
    atomic_store_explicit(&hook_function, hook, memory_order_release);
    atomic_fetch_add_explicit(&hook_seq, 1, memory_order_acq_rel);
    /* Wait for calls of the previous hook to finish, so its context may be
     * freed once this returns. Called from inside a hook it cannot wait
     * (the caller is such a call), so it returns at once. */
    if (!in_hook)
        while (atomic_load_explicit(&in_flight, memory_order_acquire) > 0)
            tmpf__os_yield();
    tmpf__os_unlock(TMPF__LOCK_AUDIT_HOOK);
}

int tmpf_get_stats(tmpf_stats *out)
{
    if (!out) {
        errno = EINVAL;
        return -1;
    }
    memset(out, 0, sizeof *out);
    for (int k = 0; k < TMPF_KIND_COUNT; k++)
        out->live[k] = atomic_load_explicit(&counters.live[k], memory_order_relaxed);
    out->spooled_in_memory =
        atomic_load_explicit(&counters.spooled_in_memory, memory_order_relaxed);
    uint64_t live_spooled = out->live[TMPF_KIND_SPOOLED];
    out->spooled_rolled = live_spooled > out->spooled_in_memory
                              ? live_spooled - out->spooled_in_memory
                              : 0;
    out->spooled_bytes =
        atomic_load_explicit(&counters.spooled_bytes, memory_order_relaxed);
    out->created = atomic_load_explicit(&counters.created, memory_order_relaxed);
    out->removed = atomic_load_explicit(&counters.removed, memory_order_relaxed);
    out->cleanup_failures =
        atomic_load_explicit(&counters.cleanup_failures, memory_order_relaxed);
    return 0;
}
