/* tmpf_cleanup_on_signals: the emergency cleanup run by handlers of the
 * signals that end a process (the handlers: src/unix/signals_os.c). */
#include "internal.h"

#include <errno.h>

int tmpf_cleanup_on_signals(const int *signals, size_t n)
{
    if (!signals) {
        if (n) {
            errno = EINVAL;
            return -1;
        }
        signals = tmpf__os_default_signals;
        n = sizeof tmpf__os_default_signals / sizeof tmpf__os_default_signals[0];
    }
    for (size_t i = 0; i < n; i++) {
        if (!tmpf__os_signal_ok(signals[i])) {
            errno = EINVAL;
            return -1;
        }
    }
    for (size_t i = 0; i < n; i++)
        if (tmpf__os_signal_install(signals[i], tmpf_emergency_cleanup) != 0)
            return -1;
    return 0;
}
