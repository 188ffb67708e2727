/* tmpf_emergency_cleanup: the registry's live temporaries removed from
 * any context, a signal handler included. Everything here is
 * async-signal-safe: registry.c is lock-free and the removal itself
 * (src/unix/emergency_os.c) uses system calls and static buffers only.
 * Runs are serialized (those buffers are shared); a thread waits for
 * another's run, and a run interrupted by a signal whose handler calls
 * this again on the same thread gets EBUSY. */
#include "internal.h"

#include <errno.h>

static _Atomic long running; /* thread id of the run in progress, or 0 */

struct run {
    bool guardian;
    long removed;
    int error;
};

static enum tmpf__reg_state remove_slot(struct tmpf__slot *s, void *ctx)
{
    struct run *r = ctx;
    uint64_t dev = 0, ino = 0;
    bool ident = tmpf__slot_ident(s, &dev, &ino);
    const char *path = tmpf__slot_path(s);
    int fd = tmpf__slot_fd(s);
    if (r->guardian) {
        /* The dead process's descriptors mean nothing here, and its
         * working directory may have changed: only an identity on an
         * absolute path is proof enough. */
        if ((!ident && tmpf__slot_kind(s) != TMPF__REG_SIDE) ||
            !tmpf__slot_path_shared(s) || tmpf__os_root_len(path) == 0)
            return TMPF__REG_LIVE;
        fd = -1;
    }
    int rc;
    if (tmpf__slot_kind(s) == TMPF__REG_SIDE && !ident && fd < 0)
        rc = tmpf__os_root_len(path) ? tmpf__os_emergency_remove_side(path) : 0;
    else
        rc = tmpf__os_emergency_remove(path, tmpf__slot_kind(s) == TMPF__REG_DIR,
                                       ident, dev, ino, fd);
    if (rc < 0) {
        if (!r->error)
            r->error = errno;
        return TMPF__REG_LIVE;
    }
    r->removed += rc;
    return TMPF__REG_REMOVED;
}

long tmpf__emergency_run(bool guardian)
{
    struct run r = {guardian, 0, 0};
    (void)tmpf__reg_sweep(remove_slot, &r, guardian);
    tmpf__os_emergency_done();
    if (r.error) {
        errno = r.error;
        return -1;
    }
    return r.removed;
}

void tmpf__emergency_forked(void) { atomic_store(&running, 0); }

int tmpf_emergency_cleanup(void)
{
    int saved = errno;
    long me = tmpf__os_thread_id();
    long none = 0;
    while (!atomic_compare_exchange_strong(&running, &none, me)) {
        if (none == me) {
            errno = EBUSY;
            return -1;
        }
        none = 0;
        tmpf__os_pause();
    }
    long n = tmpf__emergency_run(false);
    int err = errno;
    atomic_store(&running, 0);
    if (n < 0) {
        errno = err;
        return -1;
    }
    errno = saved;
    return n > INT32_MAX ? INT32_MAX : (int)n;
}
