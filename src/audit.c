/* Audit: counters for tmpf_get_stats and the optional event hook. With no
 * hook installed an event costs a few relaxed atomic adds and one branch. */
#include "internal.h"

#include <errno.h>
#include <string.h>

typedef void (*hook_fn)(const tmpf_event *ev, void *ctx);

static struct {
    _Atomic(uint64_t) live[TMPF_KIND_COUNT];
    _Atomic(uint64_t) spooled_in_memory;
    _Atomic(uint64_t) spooled_bytes;
    _Atomic(uint64_t) created, removed, cleanup_failures;
} counters;

static _Atomic(hook_fn) hook_function;
static _Atomic(void *) hook_context;
/* A temporary created from inside the hook must not call it again. */
static _Thread_local bool in_hook;

static void count(tmpf_event_type type, tmpf_kind kind)
{
    switch (type) {
    case TMPF_EVENT_CREATE:
        atomic_fetch_add_explicit(&counters.live[kind], 1, memory_order_relaxed);
        atomic_fetch_add_explicit(&counters.created, 1, memory_order_relaxed);
        if (kind == TMPF_KIND_SPOOLED)
            atomic_fetch_add_explicit(&counters.spooled_in_memory, 1,
                                      memory_order_relaxed);
        break;
    case TMPF_EVENT_DELETE:
        atomic_fetch_add_explicit(&counters.removed, 1, memory_order_relaxed);
        /* fall through */
    case TMPF_EVENT_KEEP:
    case TMPF_EVENT_PERSIST:
        atomic_fetch_sub_explicit(&counters.live[kind], 1, memory_order_relaxed);
        break;
    case TMPF_EVENT_ROLLOVER:
        atomic_fetch_sub_explicit(&counters.spooled_in_memory, 1,
                                  memory_order_relaxed);
        break;
    case TMPF_EVENT_CLEANUP_FAILED:
        atomic_fetch_add_explicit(&counters.cleanup_failures, 1,
                                  memory_order_relaxed);
        break;
    case TMPF_EVENT_CLOSE:
        break;
    }
}

void tmpf__audit(tmpf_event_type type, tmpf_kind kind, const void *obj,
                 const char *path, int fd, uint64_t bytes, int error)
{
    count(type, kind);
    hook_fn fn = atomic_load_explicit(&hook_function, memory_order_acquire);
    if (__builtin_expect(fn == NULL, 1) || in_hook)
        return;
    tmpf_event ev = {type, kind, path, fd, bytes, error, obj};
    int saved = errno;
    in_hook = true;
    fn(&ev, atomic_load_explicit(&hook_context, memory_order_acquire));
    in_hook = false;
    errno = saved;
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
    /* Context first, so a thread that sees the new function sees its
     * context too. */
    atomic_store_explicit(&hook_context, ctx, memory_order_release);
    atomic_store_explicit(&hook_function, hook, memory_order_release);
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

int tmpf_leak_report(FILE *out)
{
    /* Tracking of individual temporaries is not built yet (issue 11). */
    (void)out;
    errno = ENOSYS;
    return -1;
}
