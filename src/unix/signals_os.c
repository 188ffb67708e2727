/* The handlers behind tmpf_cleanup_on_signals: run the emergency cleanup,
 * then the handler that was there before, or the default disposition
 * (restored, and the signal raised again and unblocked, so the process
 * dies of it and its parent's wait status says so). */
#include "../internal.h"

#include <errno.h>
#include <signal.h>
#include <string.h>

#ifndef NSIG
#define NSIG 65
#endif

const int tmpf__os_default_signals[4] = {SIGHUP, SIGINT, SIGQUIT, SIGTERM};

static struct sigaction previous[NSIG];
static int (*cleanup_fn)(void);

static void on_signal(int sig, siginfo_t *info, void *uctx)
{
    int saved = errno;
    if (cleanup_fn)
        (void)cleanup_fn();
    const struct sigaction *p = &previous[sig];
    if (p->sa_flags & SA_SIGINFO) {
        if (p->sa_sigaction)
            p->sa_sigaction(sig, info, uctx);
    } else if (p->sa_handler == SIG_DFL) {
        struct sigaction dfl;
        memset(&dfl, 0, sizeof dfl);
        dfl.sa_handler = SIG_DFL;
        sigemptyset(&dfl.sa_mask);
        sigaction(sig, &dfl, NULL);
        sigset_t set;
        sigemptyset(&set);
        sigaddset(&set, sig);
        raise(sig);
        pthread_sigmask(SIG_UNBLOCK, &set, NULL);
    } else if (p->sa_handler != SIG_IGN) {
        p->sa_handler(sig);
    }
    errno = saved;
}

bool tmpf__os_signal_ok(int sig)
{
    switch (sig) {
    case SIGKILL:
    case SIGSTOP:
    case SIGCHLD:
    case SIGCONT:
    case SIGURG:
    case SIGWINCH:
        return false;
    default:
        return sig > 0 && sig < NSIG;
    }
}

int tmpf__os_signal_install(int sig, int (*run)(void))
{
    cleanup_fn = run;
    struct sigaction cur;
    if (sigaction(sig, NULL, &cur) != 0)
        return -1;
    if (cur.sa_flags & SA_SIGINFO && cur.sa_sigaction == on_signal)
        return 0; /* installed already: keep the chain one deep */
    if (!(cur.sa_flags & SA_SIGINFO) && cur.sa_handler == SIG_IGN)
        return 0; /* ignored: it does not end the process */
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_sigaction = on_signal;
    sa.sa_flags = SA_SIGINFO | SA_RESTART;
    sigfillset(&sa.sa_mask); /* no other handler of ours runs meanwhile */
    previous[sig] = cur;
    if (sigaction(sig, &sa, NULL) != 0)
        return -1;
    return 0;
}
