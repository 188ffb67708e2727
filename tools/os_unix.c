/* The tool's system services on POSIX systems (tools/tool_os.h). */
#include "tool.h"
#include "tool_os.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

void tool_os_init(int *argc, char ***argv)
{
    (void)argc;
    (void)argv;
}

const char *tool_os_base_name(const char *argv0)
{
    const char *slash = strrchr(argv0, '/');
    return slash ? slash + 1 : argv0;
}

const char *tool_os_getenv(const char *name)
{
    return getenv(name);
}

const char *tool_os_strerror(int err)
{
    return strerror(err);
}

void tool_os_write_stderr(const char *msg, size_t n)
{
    sigset_t pipe_only, old, pending;
    sigemptyset(&pipe_only);
    sigaddset(&pipe_only, SIGPIPE);
    sigprocmask(SIG_BLOCK, &pipe_only, &old);
    bool was_pending = sigpending(&pending) == 0 && sigismember(&pending, SIGPIPE);
    int saved = errno;
    while (n > 0) {
        ssize_t w = write(STDERR_FILENO, msg, n);
        if (w < 0 && errno == EINTR)
            continue;
        if (w <= 0) {
            /* EPIPE raised a SIGPIPE, held by the mask: take it back, so
             * that it never reaches us nor changes what COMMAND gets. */
            if (w < 0 && errno == EPIPE && !was_pending)
                sigtimedwait(&pipe_only, NULL, &(struct timespec){0, 0});
            break;
        }
        msg += w;
        n -= (size_t)w;
    }
    sigprocmask(SIG_SETMASK, &old, NULL);
    errno = saved;
}

int tool_os_printf(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    int n = vprintf(fmt, ap);
    va_end(ap);
    return n;
}

void tool_os_stdin_binary(void)
{
}

const char *tool_os_default_tmpdir(void)
{
    return "/tmp";
}

int tool_os_close(int fd)
{
    return close(fd);
}

int tool_os_remove(const char *path, bool directory)
{
    return directory ? rmdir(path) : unlink(path);
}

int tool_os_name_is_free(const char *path)
{
    struct stat st;
    if (lstat(path, &st) == 0)
        return 0;
    return errno == ENOENT ? 1 : -1;
}

char *tool_os_resolve_dir(const char *dir)
{
    return realpath(dir, NULL);
}

bool tool_os_is_special(const char *path)
{
    struct stat st;
    return stat(path, &st) == 0 && !S_ISREG(st.st_mode) && !S_ISDIR(st.st_mode);
}

/*
 * tmpf run. Signals: SIGINT, SIGTERM, SIGHUP and SIGCHLD stay blocked
 * except inside sigsuspend(), so a handler only ever runs while CMD is
 * unreaped (its pid cannot have been reused when we forward to it) and
 * never during creation or cleanup (one that comes then is acted on right
 * after). A signal that arrived for tmpf is forwarded to CMD, tmpf waits
 * for CMD, removes the temporary and then dies of that same signal.
 * Signals the terminal sent (si_code > 0) already reached CMD, which is in
 * our process group, so they are not sent twice. Signals ignored when tmpf
 * started stay ignored, for tmpf and for CMD (as shells do for "cmd &").
 */
static const int forwarded[] = {SIGINT, SIGTERM, SIGHUP};
#define N_FORWARDED (sizeof forwarded / sizeof forwarded[0])

static volatile sig_atomic_t got_signal;
static volatile sig_atomic_t child_pid;
static struct sigaction old_actions[N_FORWARDED], old_chld;
static sigset_t old_mask, wait_mask;

static void on_signal(int sig, siginfo_t *info, void *uctx)
{
    (void)uctx;
    if (!got_signal)
        got_signal = sig;
    if (child_pid > 0 && info->si_code <= 0) {
        int saved = errno;
        kill((pid_t)child_pid, sig);
        errno = saved;
    }
}

/* Only there so that sigsuspend() returns when CMD ends. */
static void on_child(int sig)
{
    (void)sig;
}

void tool_os_run_prepare(void)
{
    sigset_t block;
    sigemptyset(&block);
    for (size_t i = 0; i < N_FORWARDED; i++)
        sigaddset(&block, forwarded[i]);
    sigaddset(&block, SIGCHLD);
    sigprocmask(SIG_BLOCK, &block, &old_mask);
    wait_mask = old_mask;
    for (size_t i = 0; i < N_FORWARDED; i++)
        sigdelset(&wait_mask, forwarded[i]);
    sigdelset(&wait_mask, SIGCHLD);

    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sigfillset(&sa.sa_mask);
    for (size_t i = 0; i < N_FORWARDED; i++) {
        sigaction(forwarded[i], NULL, &old_actions[i]);
        if (old_actions[i].sa_handler == SIG_IGN)
            continue;
        sa.sa_flags = SA_SIGINFO;
        sa.sa_sigaction = on_signal;
        sigaction(forwarded[i], &sa, NULL);
    }
    sa.sa_flags = SA_NOCLDSTOP;
    sa.sa_handler = on_child;
    sigaction(SIGCHLD, &sa, &old_chld);
}

/* In the child: back to the signal state tmpf started with, then exec. */
static void exec_command(char **cmd, const char *path, bool set_tmpdir)
{
    for (size_t i = 0; i < N_FORWARDED; i++)
        sigaction(forwarded[i], &old_actions[i], NULL);
    sigaction(SIGCHLD, &old_chld, NULL);
    sigprocmask(SIG_SETMASK, &old_mask, NULL);
    if (setenv("TMPF_PATH", path, 1) != 0 ||
        (set_tmpdir && setenv("TMPDIR", path, 1) != 0)) {
        tool_error("run: %s", strerror(errno));
        _exit(TOOL_EXIT_CANNOT_EXEC);
    }
    execvp(cmd[0], cmd);
    int err = errno;
    tool_error("run: %s: %s", cmd[0], strerror(err));
    _exit(err == ENOENT || err == ENOTDIR ? TOOL_EXIT_NOT_FOUND
                                          : TOOL_EXIT_CANNOT_EXEC);
}

int tool_os_run_command(char **cmd, const char *path, bool set_tmpdir, int *ret_status)
{
    fflush(NULL);
    pid_t pid = fork();
    if (pid == 0)
        exec_command(cmd, path, set_tmpdir);
    if (pid < 0)
        return -1;
    child_pid = pid;

    int status = 0;
    bool reaped = false;
    for (;;) {
        pid_t r = waitpid(pid, &status, WNOHANG);
        if (r == pid) {
            reaped = true;
            break;
        }
        if (r < 0 && errno != EINTR)
            break;
        sigsuspend(&wait_mask);
    }
    child_pid = 0;

    if (!reaped) {
        tool_error("run: waiting for '%s': %s", cmd[0], strerror(errno));
        *ret_status = TOOL_EXIT_FAILURE;
    } else if (WIFEXITED(status)) {
        *ret_status = WEXITSTATUS(status);
    } else if (WIFSIGNALED(status)) {
        *ret_status = 128 + WTERMSIG(status);
    } else {
        *ret_status = TOOL_EXIT_FAILURE;
    }
    return 0;
}

/*
 * tmpf's exit: the signal mask goes back, which runs the handler of a
 * signal that arrived during creation or cleanup; if a signal came at any
 * point, tmpf dies of it as it would have without us: the caller (a shell,
 * make) sees "killed by SIGTERM", not an exit status.
 */
int tool_os_run_finish(int rc)
{
    sigprocmask(SIG_SETMASK, &old_mask, NULL);
    int sig = got_signal;
    if (sig) {
        fflush(NULL);
        signal(sig, SIG_DFL);
        raise(sig);
        rc = 128 + sig; /* reached only if tmpf started with sig blocked */
    }
    return rc;
}

int tool_os_dir_open(const char *path)
{
    return open(path, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
}

int tool_os_copy_access(int from, int to)
{
    struct stat st;
    if (fstat(from, &st) != 0)
        return -1;
    return fchmod(to, st.st_mode & 07777);
}

int tool_os_move_entries(int from, int to)
{
    int dup_fd = fcntl(from, F_DUPFD_CLOEXEC, 0);
    DIR *dir = dup_fd >= 0 ? fdopendir(dup_fd) : NULL;
    if (!dir) {
        int saved = errno;
        if (dup_fd >= 0)
            close(dup_fd);
        errno = saved;
        return -1;
    }
    /* The duplicate shares from's offset, which an earlier reading of the
     * directory (tmpf_dir_persist's durable sync) may have left at the
     * end: from the start, or nothing is moved (and cleanup removes it). */
    rewinddir(dir);
    int rc = 0;
    struct dirent *e;
    while ((errno = 0, e = readdir(dir)) != NULL) {
        if (!strcmp(e->d_name, ".") || !strcmp(e->d_name, ".."))
            continue;
        if (renameat(from, e->d_name, to, e->d_name) != 0) {
            rc = -1;
            break;
        }
    }
    if (!e && errno)
        rc = -1;
    int saved = errno;
    closedir(dir);
    if (rc != 0)
        tool_os_move_entries(to, from);
    errno = saved;
    return rc;
}
