/* The registry of live temporaries: what the crash layers (emergency.c,
 * guard.c) remove when the process cannot clean up itself.
 *
 * One fixed array of slots in a shared anonymous mapping, made at the
 * first registration: a guardian forked later sees every slot the process
 * fills afterwards, and reads them only after the process died (Windows:
 * a pagefile-backed section that the guardian, another program, maps and
 * adopts with tmpf__reg_adopt). Each slot
 * has one atomic word, generation << 4 | state; an owner fills the other
 * fields while the slot is WRITING and publishes it with one release store
 * (LIVE), so a reader that claims LIVE -> BUSY with an acquire CAS (the
 * emergency cleanup, from a signal handler if need be) always sees a
 * whole record: consistent at every instruction, without a lock and
 * without a system call per temporary. Ending a registration is one CAS
 * from the generation the owner got, so a handle that outlived its slot
 * (the emergency cleanup removed it, the slot was reused) changes nothing.
 *
 * Slots come from a per-thread cache of the last ones released (a create +
 * cleanup loop reuses one slot, one cache line), else from the high-water
 * mark, else from a scan. The readers scan [0, high-water mark).
 *
 * Fork: a child gets a fresh, private registry at the same address (its
 * parent's temporaries are its parent's; a guardian of the parent must not
 * see the child's) and a new epoch, which makes inherited handles stale.
 * The guardian's own fork keeps the shared view (guard.c). */
#include "internal.h"

#include <errno.h>
#include <string.h>

#define REG_SLOTS 65536u
#define SLOT_PATH 472
#define STATE(w) ((w) & 15u)
#define GEN(w) ((w) & ~15u)
#define CACHE 4

struct tmpf__slot {
    _Atomic uint32_t word; /* generation << 4 | state */
    uint8_t kind;
    uint8_t has_ident;
    uint16_t unused;
    atomic_int fd;         /* the owner's descriptor, or -1 */
    uint64_t dev, ino;     /* valid when has_ident */
    const char *ext;       /* the owner's path when it does not fit below */
    char path[SLOT_PATH];
};
_Static_assert(sizeof(struct tmpf__slot) == 512, "a slot is 512 bytes");

struct region {
    _Atomic uint32_t hwm; /* slots [0, hwm) have been used */
    char pad[60];
    struct tmpf__slot slot[REG_SLOTS];
};

static _Atomic(struct region *) region;
static atomic_int init_state; /* 0 not yet, 1 in progress, 2 done, 3 failed */
static atomic_uint epoch = 1;
static atomic_uint autostart_epoch; /* epoch whose guard autostart ran */
static atomic_bool want_idents;
static atomic_uint scan_hint;
static _Thread_local uint32_t cache[CACHE];
static _Thread_local unsigned ncache;
/* Set by guard.c around the guardian's fork, read by the fork handler in
 * the child (the same thread). */
_Thread_local bool tmpf__reg_forking_guardian;

static void fork_child(void)
{
    ncache = 0;
    if (tmpf__reg_forking_guardian)
        return;
    atomic_fetch_add(&epoch, 1);
    /* Threads of the parent that were half-way are not in the child. */
    if (atomic_load(&init_state) == 1)
        atomic_store(&init_state, 0);
    tmpf__emergency_forked();
    struct region *r = atomic_load(&region);
    if (r && tmpf__os_shared_remap(r, sizeof *r) != 0) {
        /* No fresh registry: the child registers nothing rather than
         * write into its parent's. */
        atomic_store(&region, NULL);
        atomic_store(&init_state, 3);
    }
    atomic_store(&want_idents, false);
    tmpf__os_guard_forget();
    tmpf__guard_forked();
}

int tmpf__reg_init(void)
{
    for (;;) {
        int st = atomic_load_explicit(&init_state, memory_order_acquire);
        if (st == 2)
            return 0;
        if (st == 3) {
            errno = ENOMEM;
            return -1;
        }
        int zero = 0;
        if (st == 0 && atomic_compare_exchange_strong(&init_state, &zero, 1))
            break;
        tmpf__os_pause();
    }
    struct region *r = tmpf__os_shared_map(sizeof *r);
    if (!r || tmpf__os_atfork(NULL, NULL, fork_child) != 0) {
        /* A mapping without the fork handler would be shared with every
         * child: not used. */
        atomic_store(&init_state, 3);
        errno = ENOMEM;
        return -1;
    }
    atomic_store(&region, r);
    atomic_store_explicit(&init_state, 2, memory_order_release);
    return 0;
}

int tmpf__reg_adopt(void *view, size_t size)
{
    if (size != sizeof(struct region)) {
        errno = EINVAL;
        return -1;
    }
    int zero = 0;
    if (!atomic_compare_exchange_strong(&init_state, &zero, 1)) {
        errno = EBUSY; /* this process has a registry of its own */
        return -1;
    }
    atomic_store(&region, (struct region *)view);
    atomic_store_explicit(&init_state, 2, memory_order_release);
    return 0;
}

static struct tmpf__slot *claim(struct region *r, uint32_t i, uint32_t *word)
{
    struct tmpf__slot *s = &r->slot[i];
    uint32_t w = atomic_load_explicit(&s->word, memory_order_relaxed);
    if (STATE(w) != TMPF__REG_FREE && STATE(w) < TMPF__REG_KEPT)
        return NULL;
    uint32_t nw = (GEN(w) + 16u) | TMPF__REG_WRITING;
    if (!atomic_compare_exchange_strong_explicit(&s->word, &w, nw,
                                                 memory_order_acquire,
                                                 memory_order_relaxed))
        return NULL;
    *word = nw;
    return s;
}

static struct tmpf__slot *slot_alloc(struct region *r, uint32_t *index,
                                     uint32_t *word)
{
    while (ncache) {
        uint32_t i = cache[--ncache];
        struct tmpf__slot *s = claim(r, i, word);
        if (s) {
            *index = i;
            return s;
        }
    }
    uint32_t n = atomic_load_explicit(&r->hwm, memory_order_relaxed);
    while (n < REG_SLOTS) {
        if (atomic_compare_exchange_weak(&r->hwm, &n, n + 1)) {
            struct tmpf__slot *s = claim(r, n, word);
            if (s) {
                *index = n;
                return s;
            }
            break;
        }
    }
    uint32_t start = atomic_fetch_add_explicit(&scan_hint, 1, memory_order_relaxed);
    for (uint32_t k = 0; k < REG_SLOTS; k++) {
        uint32_t i = (start + k) % REG_SLOTS;
        struct tmpf__slot *s = claim(r, i, word);
        if (s) {
            *index = i;
            return s;
        }
    }
    return NULL;
}

static void add(tmpf__reg *h, enum tmpf__reg_kind kind, const char *path,
                int fd, bool pending)
{
    *h = (tmpf__reg){0};
    unsigned ep = atomic_load_explicit(&epoch, memory_order_relaxed);
    if (TMPF__UNLIKELY(atomic_load_explicit(&autostart_epoch, memory_order_relaxed) != ep) &&
        tmpf__guard_autostart())
        atomic_store(&autostart_epoch, ep);
    struct region *r = atomic_load_explicit(&region, memory_order_acquire);
    if (TMPF__UNLIKELY(!r)) {
        int saved = errno;
        bool ok = tmpf__reg_init() == 0;
        errno = saved;
        if (!ok)
            return;
        r = atomic_load_explicit(&region, memory_order_acquire);
    }
    uint32_t i, w;
    struct tmpf__slot *s = slot_alloc(r, &i, &w);
    if (!s)
        return;
    s->kind = (uint8_t)kind;
    s->has_ident = 0;
    atomic_store_explicit(&s->fd, fd, memory_order_relaxed);
    size_t len = strlen(path);
    if (len < SLOT_PATH) {
        memcpy(s->path, path, len + 1);
        s->ext = NULL;
    } else {
        s->path[0] = '\0';
        s->ext = path; /* the owner keeps it alive while registered */
    }
    if (!pending && atomic_load_explicit(&want_idents, memory_order_relaxed)) {
        int saved = errno;
        s->has_ident = tmpf__os_ident(fd, path, &s->dev, &s->ino) == 0;
        errno = saved;
    }
    w = GEN(w) | TMPF__REG_LIVE;
    atomic_store_explicit(&s->word, w, memory_order_release);
    *h = (tmpf__reg){i + 1, w, ep};
}

void tmpf__reg_add(tmpf__reg *h, enum tmpf__reg_kind kind, const char *path,
                   int fd)
{
    add(h, kind, path, fd, false);
}

void tmpf__reg_add_pending(tmpf__reg *h, const char *path)
{
    add(h, TMPF__REG_SIDE, path, -1, true);
}

static struct tmpf__slot *owned(const tmpf__reg *h)
{
    if (!h->slot || h->epoch != atomic_load_explicit(&epoch, memory_order_relaxed))
        return NULL;
    struct region *r = atomic_load_explicit(&region, memory_order_acquire);
    return r ? &r->slot[h->slot - 1] : NULL;
}

void tmpf__reg_end(tmpf__reg *h, enum tmpf__reg_state state)
{
    struct tmpf__slot *s = owned(h);
    uint32_t i = h->slot - 1, w = h->word;
    h->slot = 0;
    if (!s)
        return;
    for (;;) {
        uint32_t cur = w;
        /* Acquire either way: what a reader did with the slot (an fstat of
         * the descriptor the owner is about to close) happens before. */
        if (atomic_compare_exchange_strong_explicit(&s->word, &cur, GEN(w) | state,
                                                    memory_order_acq_rel,
                                                    memory_order_acquire))
            break;
        /* The emergency cleanup holds it for a moment: wait. Anything else
         * (it removed it; the slot went on) leaves nothing to do. */
        if (cur != (GEN(w) | TMPF__REG_BUSY))
            break;
        tmpf__os_pause();
    }
    if (ncache < CACHE)
        cache[ncache++] = i;
}

void tmpf__reg_fd(const tmpf__reg *h, int fd)
{
    struct tmpf__slot *s = owned(h);
    if (!s)
        return;
    /* Claimed for the change, as the readers claim a slot: a reader that
     * is using the old descriptor (fstat) finishes before the owner goes
     * on to close it. */
    uint32_t w = h->word;
    for (;;) {
        uint32_t cur = w;
        if (atomic_compare_exchange_strong_explicit(&s->word, &cur,
                                                    GEN(w) | TMPF__REG_BUSY,
                                                    memory_order_acquire,
                                                    memory_order_acquire))
            break;
        if (cur != (GEN(w) | TMPF__REG_BUSY))
            return; /* removed by the emergency cleanup: nothing to record */
        tmpf__os_pause();
    }
    if (fd >= 0 && !s->has_ident &&
        atomic_load_explicit(&want_idents, memory_order_relaxed)) {
        int saved = errno;
        s->has_ident = tmpf__os_ident(fd, NULL, &s->dev, &s->ino) == 0;
        errno = saved;
    }
    atomic_store_explicit(&s->fd, fd, memory_order_relaxed);
    atomic_store_explicit(&s->word, w, memory_order_release);
}

long tmpf__reg_sweep(enum tmpf__reg_state (*fn)(struct tmpf__slot *s, void *ctx),
                     void *ctx, bool owner_dead)
{
    struct region *r = atomic_load_explicit(&region, memory_order_acquire);
    if (!r)
        return 0;
    long removed = 0;
    uint32_t n = atomic_load_explicit(&r->hwm, memory_order_acquire);
    for (uint32_t i = 0; i < n && i < REG_SLOTS; i++) {
        struct tmpf__slot *s = &r->slot[i];
        uint32_t w = atomic_load_explicit(&s->word, memory_order_relaxed);
        /* A dead process can leave a slot BUSY: its owner was recording a
         * new descriptor (tmpf__reg_fd, an fstat long), or its emergency
         * cleanup was at it. The temporary is still there. */
        bool left_busy = owner_dead && STATE(w) == TMPF__REG_BUSY;
        if (!left_busy && (STATE(w) != TMPF__REG_LIVE ||
                           !atomic_compare_exchange_strong_explicit(
                               &s->word, &w, GEN(w) | TMPF__REG_BUSY,
                               memory_order_acquire, memory_order_relaxed)))
            continue;
        enum tmpf__reg_state st = fn(s, ctx);
        if (st == TMPF__REG_REMOVED)
            removed++;
        atomic_store_explicit(&s->word, GEN(w) | st, memory_order_release);
    }
    return removed;
}

enum tmpf__reg_kind tmpf__slot_kind(const struct tmpf__slot *s)
{
    return (enum tmpf__reg_kind)s->kind;
}

const char *tmpf__slot_path(const struct tmpf__slot *s)
{
    return s->ext ? s->ext : s->path;
}

bool tmpf__slot_path_shared(const struct tmpf__slot *s) { return !s->ext; }

int tmpf__slot_fd(const struct tmpf__slot *s)
{
    return atomic_load_explicit(&s->fd, memory_order_relaxed);
}

bool tmpf__slot_ident(const struct tmpf__slot *s, uint64_t *dev, uint64_t *ino)
{
    if (!s->has_ident)
        return false;
    *dev = s->dev;
    *ino = s->ino;
    return true;
}

static enum tmpf__reg_state record_ident(struct tmpf__slot *s, void *ctx)
{
    (void)ctx;
    if (!s->has_ident) {
        int fd = atomic_load_explicit(&s->fd, memory_order_relaxed);
        s->has_ident = tmpf__os_ident(fd, tmpf__slot_path(s), &s->dev, &s->ino) == 0;
    }
    return TMPF__REG_LIVE;
}

void tmpf__reg_record_idents(void)
{
    atomic_store(&want_idents, true);
    int saved = errno;
    (void)tmpf__reg_sweep(record_ident, NULL, false);
    errno = saved;
}
