/*
 * The guardian process of tmpf_crash_guard. Forked from the process it
 * guards, it keeps the read end of a close-on-exec pipe whose only write
 * end stays in that process (a forked child closes its copy in the fork
 * handler; exec closes it). It reads nothing: EOF says the write end is
 * gone, which is the death of the process (or an exec, or a program that
 * closed every descriptor), so it then waits until getppid() changes
 * (the process is gone for good, the guardian reparented) before acting.
 * On Linux PR_SET_PDEATHSIG is a second signal of the death (it fires
 * when the forking thread ends, so it is only a prompt to look again).
 *
 * The guardian ignores the terminal's SIGINT, SIGHUP, SIGQUIT (a Ctrl-C of
 * the process group must not kill it first) and every handler inherited
 * from the process, holds no other descriptor of it (a pipe the process
 * writes to would otherwise stay open after its death), and sits in "/".
 */
#include "../internal.h"
#include "tmpf_features.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#if TMPF_HAVE_PDEATHSIG
#include <sys/prctl.h>
#endif
#if TMPF_HAVE_CLOSE_RANGE
#include <sys/syscall.h>
#endif

#ifndef NSIG
#define NSIG 65
#endif

static atomic_int guard_fd = -1; /* the write end, in the guarded process */

static void wake(int sig) { (void)sig; }

static void close_others(int keep)
{
#if TMPF_HAVE_CLOSE_RANGE
    if ((keep == 0 || syscall(SYS_close_range, 0u, (unsigned)keep - 1, 0u) == 0) &&
        syscall(SYS_close_range, (unsigned)keep + 1, ~0u, 0u) == 0)
        return;
#endif
    long max = sysconf(_SC_OPEN_MAX);
    if (max < 0 || max > 65536)
        max = 65536;
    for (int fd = 0; fd < max; fd++)
        if (fd != keep)
            close(fd);
}

static void sleep_ms(long ms)
{
    struct timespec ts = {0, ms * 1000000L};
    nanosleep(&ts, NULL);
}

static _Noreturn void guardian(int rfd, pid_t parent, void (*on_death)(void))
{
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sigemptyset(&sa.sa_mask);
    for (int sig = 1; sig < NSIG; sig++) {
        sa.sa_handler = (sig == SIGINT || sig == SIGHUP || sig == SIGQUIT ||
                         sig == SIGTSTP || sig == SIGTTIN || sig == SIGTTOU ||
                         sig == SIGPIPE)
                            ? SIG_IGN
                            : SIG_DFL;
        (void)sigaction(sig, &sa, NULL);
    }
    sa.sa_handler = wake;
    (void)sigaction(SIGUSR1, &sa, NULL); /* no SA_RESTART: read returns */
    sigset_t none;
    sigemptyset(&none);
    sigprocmask(SIG_SETMASK, &none, NULL);
    close_others(rfd);
    if (chdir("/") != 0) {
        /* Paths used are absolute: the directory only matters for mounts. */
    }
#if TMPF_HAVE_PDEATHSIG
    (void)prctl(PR_SET_PDEATHSIG, SIGUSR1);
#endif
    while (getppid() == parent) {
        char c;
        ssize_t n = read(rfd, &c, 1);
        if (n == 0 || (n < 0 && errno != EINTR))
            break;
    }
    /* The write end is gone: wait for the process itself to be gone. */
    while (getppid() == parent)
        sleep_ms(10);
    on_death();
    _exit(0);
}

int tmpf__os_guard_spawn(void (*on_death)(void))
{
    int p[2];
#if TMPF_HAVE_PIPE2
    if (pipe2(p, O_CLOEXEC) != 0)
        return -1;
#else
    /* A posix_spawn by another thread between these calls could carry the
     * write end into its program (a fork's handler closes it). */
    if (pipe(p) != 0)
        return -1;
    fcntl(p[0], F_SETFD, FD_CLOEXEC);
    fcntl(p[1], F_SETFD, FD_CLOEXEC);
#endif
    pid_t parent = getpid();
    tmpf__reg_forking_guardian = true;
    pid_t pid = fork();
    if (pid == 0) {
        close(p[1]);
        guardian(p[0], parent, on_death);
    }
    tmpf__reg_forking_guardian = false;
    int saved = errno;
    close(p[0]);
    if (pid < 0) {
        close(p[1]);
        errno = saved;
        return -1;
    }
    atomic_store(&guard_fd, p[1]);
    return 0;
}

void tmpf__os_guard_forget(void)
{
    int fd = atomic_exchange(&guard_fd, -1);
    if (fd >= 0)
        close(fd);
}

/* The guardian is forked here, never a program of its own. */
int tmpf__os_guardian(int argc, char **argv, int (*adopt)(void *view, size_t size),
                      void (*on_death)(void))
{
    (void)argc, (void)argv, (void)adopt, (void)on_death;
    errno = ENOSYS;
    return 2;
}
