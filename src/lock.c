/* TMPF_LOCK: whether a temporary holds flock(LOCK_SH) while it lives, so
 * that tmpf_sweep (and systemd-tmpfiles, for directories) leave it alone.
 * TMPF_LOCK=1 in the environment sets it for every temporary; it is read
 * once. */
#include "internal.h"

#include <string.h>

static atomic_int from_env = -1; /* -1: not read yet */

bool tmpf__lock_wanted(unsigned flags)
{
    if (flags & TMPF_LOCK)
        return true;
    int env = atomic_load_explicit(&from_env, memory_order_relaxed);
    if (TMPF__UNLIKELY(env < 0)) {
        const char *v = tmpf__os_secure_getenv("TMPF_LOCK");
        env = v && strcmp(v, "1") == 0;
        atomic_store_explicit(&from_env, env, memory_order_relaxed);
    }
    return env;
}
