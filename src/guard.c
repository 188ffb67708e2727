/* tmpf_crash_guard: a guardian process that removes this process's live
 * temporaries once it is dead (src/unix/guard_os.c is the process, forked;
 * on Windows src/win/guard_os.c starts tmpf.exe, whose main hands over to
 * tmpf__guardian_main; the registry it reads is registry.c's shared
 * mapping). A forked child starts
 * a guard of its own at its first registration when its parent had one
 * (registry.c's fork handler forgets the parent's). */
#include "internal.h"

#include <errno.h>
#include <string.h>

static atomic_int started;  /* this process's guard runs */
static atomic_bool wanted;  /* a guard was asked for (inherited by fork) */

static void on_death(void)
{
    (void)tmpf__emergency_run(true);
}

int tmpf_crash_guard(void)
{
    if (tmpf__reg_init() != 0)
        return -1;
    /* The registry's epoch changes in a forked child: a guard started by
     * the parent is not the child's. */
    int expect = 0;
    if (!atomic_compare_exchange_strong(&started, &expect, 1)) {
        while (atomic_load(&started) == 1)
            tmpf__os_pause();
        if (atomic_load(&started) == 2)
            return 0;
        expect = 3;
        if (!atomic_compare_exchange_strong(&started, &expect, 1))
            return tmpf_crash_guard();
    }
    /* Identities before the guardian exists: it must never act on a slot
     * without one. */
    tmpf__reg_record_idents();
    if (tmpf__os_guard_spawn(on_death) != 0) {
        int saved = errno;
        atomic_store(&started, 3);
        errno = saved;
        return -1;
    }
    atomic_store(&wanted, true);
    atomic_store(&started, 2);
    return 0;
}

int tmpf__guardian_main(int argc, char **argv)
{
    return tmpf__os_guardian(argc, argv, tmpf__reg_adopt, on_death);
}

static atomic_int failed_starts; /* of the automatic start, this process */

void tmpf__guard_forked(void)
{
    atomic_store(&started, 0);
    atomic_store(&failed_starts, 0);
}

bool tmpf__guard_autostart(void)
{
    bool start = atomic_load(&wanted);
    if (!start) {
        const char *v = tmpf__os_secure_getenv("TMPF_CRASH_GUARD");
        start = v && strcmp(v, "1") == 0;
    }
    if (!start || atomic_load(&started) == 2)
        return true;
    int saved = errno;
    bool ok = tmpf_crash_guard() == 0;
    bool again = !ok && (errno == EAGAIN || errno == ENOMEM);
    errno = saved;
    /* A fork that failed (EAGAIN, ENOMEM) is tried again at the next
     * creation, a few times; anything else (Windows: no helper, the wrong
     * one) would fail the same way. */
    return ok || !again || atomic_fetch_add(&failed_starts, 1) + 1 >= 3;
}
