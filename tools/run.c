/*
 * tmpf run: CMD gets a temporary directory (or file) for its lifetime.
 *
 * Signals: SIGINT, SIGTERM, SIGHUP and SIGCHLD stay blocked except inside
 * sigsuspend(), so a handler only ever runs while CMD is unreaped (its pid
 * cannot have been reused when we forward to it) and never during creation
 * or cleanup (one that comes then is acted on right after). A signal that
 * arrived for tmpf is forwarded to CMD, tmpf waits for CMD, removes the
 * temporary and then dies of that same signal.
 * Signals the terminal sent (si_code > 0) already reached CMD, which is in
 * our process group, so they are not sent twice. Signals ignored when tmpf
 * started stay ignored, for tmpf and for CMD (as shells do for "cmd &").
 */
#include "tool.h"

#include <errno.h>
#include <getopt.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <tmpf.h>
#include <unistd.h>

static const char help_text[] =
    "Usage: tmpf run [OPTION]... [--] COMMAND [ARG]...\n"
    "Create a temporary directory (or file), run COMMAND with its path in\n"
    "$TMPF_PATH (a directory is also $TMPDIR), remove it when COMMAND ends,\n"
    "and exit with COMMAND's status (128+N if it died of signal N).\n"
    "COMMAND is run directly, not through a shell. SIGINT, SIGTERM and\n"
    "SIGHUP are passed on to COMMAND; the temporary is removed and tmpf then\n"
    "dies of the same signal. A guard process removes it even if tmpf is\n"
    "killed with SIGKILL; the directory is locked (flock) while COMMAND runs.\n"
    "\n"
    "  -d, --directory     a temporary directory (the default)\n"
    "  -f, --file          a temporary file (empty, mode 0600)\n"
    "  -p DIR, --tmpdir=DIR  create it in DIR (default: tmpf dir)\n"
    "      --prefix=P      name starts with P (default: tmp)\n"
    "      --suffix=S      name ends with S\n"
    "      --keep          do not remove it; print its path on stderr\n"
    "  -v, --verbose       say on stderr what is created and removed\n"
    "      --help          display this help and exit\n"
    "      --version       output version information and exit\n"
    "\n"
    "Exit status: COMMAND's; 126 if COMMAND cannot be run, 127 if it is not\n"
    "found; 1 if the temporary cannot be created, or cannot be removed after\n"
    "COMMAND succeeded.\n";

enum { OPT_KEEP = CHAR_MAX + 1, OPT_PREFIX, OPT_SUFFIX, OPT_HELP, OPT_VERSION };

static const struct option longopts[] = {
    {"directory", no_argument, NULL, 'd'},
    {"file", no_argument, NULL, 'f'},
    {"tmpdir", required_argument, NULL, 'p'},
    {"keep", no_argument, NULL, OPT_KEEP},
    {"prefix", required_argument, NULL, OPT_PREFIX},
    {"suffix", required_argument, NULL, OPT_SUFFIX},
    {"verbose", no_argument, NULL, 'v'},
    {"help", no_argument, NULL, OPT_HELP},
    {"version", no_argument, NULL, OPT_VERSION},
    {NULL, 0, NULL, 0},
};

static const int forwarded[] = {SIGINT, SIGTERM, SIGHUP};
#define N_FORWARDED (sizeof forwarded / sizeof forwarded[0])

static volatile sig_atomic_t got_signal;
static volatile sig_atomic_t child_pid;

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

struct run_opts {
    bool file, keep, verbose;
    tmpf_opts lib;
};

struct temporary {
    tmpf_dir *dir;
    tmpf_file *file;
    const char *path;
};

static const char *kind_name(const struct run_opts *ro)
{
    return ro->file ? "file" : "directory";
}

/* --verbose: the library reports what it creates and removes. */
static void verbose_hook(const tmpf_event *ev, void *ctx)
{
    (void)ctx;
    const char *what = ev->kind == TMPF_KIND_DIRECTORY ? "directory" : "file";
    switch (ev->type) {
    case TMPF_EVENT_CREATE:
        tool_error("run: created %s %s", what, ev->path ? ev->path : "?");
        break;
    case TMPF_EVENT_DELETE:
        tool_error("run: removed %s %s", what, ev->path ? ev->path : "?");
        break;
    case TMPF_EVENT_KEEP:
        tool_error("run: kept %s %s", what, ev->path ? ev->path : "?");
        break;
    default:
        break;
    }
}

static int make_temporary(const struct run_opts *ro, struct temporary *t)
{
    memset(t, 0, sizeof *t);
    /* Crash safety: a guard removes it even after a SIGKILL of tmpf, and a
     * locked directory is never aged by systemd-tmpfiles or swept while
     * CMD runs. Without a guard (no fork possible) it is still removed in
     * every other case. */
    (void)tmpf_crash_guard();
    if (!ro->file) {
        tmpf_opts o = ro->lib;
        o.flags |= TMPF_LOCK;
        t->dir = tmpf_temporary_directory(&o);
        if (!t->dir)
            return -1;
        t->path = tmpf_dir_path(t->dir);
        return 0;
    }
    tmpf_opts o = ro->lib;
    /* Closing our descriptor keeps the name for CMD; cleanup removes it. */
    o.flags |= TMPF_KEEP_AFTER_CLOSE;
    t->file = tmpf_named_temporary_file(&o);
    if (!t->file)
        return -1;
    if (tmpf_file_close(t->file) != 0) {
        int saved = errno;
        tmpf_file_cleanup(t->file);
        errno = saved;
        return -1;
    }
    t->path = tmpf_file_path(t->file);
    return 0;
}

/* Removes (or keeps) the temporary; -1 with a message on failure. */
static int finish_temporary(const struct run_opts *ro, struct temporary *t)
{
    if (ro->keep) {
        if (t->dir)
            tmpf_dir_keep(t->dir);
        else
            tmpf_file_keep(t->file);
    }
    /* The path belongs to the object: copy it for the messages. */
    char *path = strdup(t->path);
    if (ro->keep && path) {
        size_t n = strlen(path);
        path[n] = '\n'; /* one write: path and newline */
        tool_write_stderr(path, n + 1);
        path[n] = '\0';
    }
    int rc = t->dir ? tmpf_dir_cleanup(t->dir) : tmpf_file_cleanup(t->file);
    int err = errno;
    if (rc != 0)
        tool_error("run: cannot remove %s '%s': %s", kind_name(ro), path ? path : "?",
                   strerror(err));
    free(path);
    return rc;
}

/* In the child: back to the signal state tmpf started with, then exec. */
static void exec_command(char **cmd, const struct temporary *t,
                         const struct sigaction *old, const struct sigaction *old_chld,
                         const sigset_t *old_mask)
{
    for (size_t i = 0; i < N_FORWARDED; i++)
        sigaction(forwarded[i], &old[i], NULL);
    sigaction(SIGCHLD, old_chld, NULL);
    sigprocmask(SIG_SETMASK, old_mask, NULL);
    if (setenv("TMPF_PATH", t->path, 1) != 0 ||
        (t->dir && setenv("TMPDIR", t->path, 1) != 0)) {
        tool_error("run: %s", strerror(errno));
        _exit(TOOL_EXIT_CANNOT_EXEC);
    }
    execvp(cmd[0], cmd);
    int err = errno;
    tool_error("run: %s: %s", cmd[0], strerror(err));
    _exit(err == ENOENT || err == ENOTDIR ? TOOL_EXIT_NOT_FOUND
                                          : TOOL_EXIT_CANNOT_EXEC);
}

/*
 * tmpf's exit: the signal mask goes back, which runs the handler of a
 * signal that arrived during creation or cleanup; if a signal came at any
 * point, tmpf dies of it as it would have without us: the caller (a shell,
 * make) sees "killed by SIGTERM", not an exit status.
 */
static int finish(int rc, const sigset_t *old_mask)
{
    sigprocmask(SIG_SETMASK, old_mask, NULL);
    int sig = got_signal;
    if (sig) {
        fflush(NULL);
        signal(sig, SIG_DFL);
        raise(sig);
        rc = 128 + sig; /* reached only if tmpf started with sig blocked */
    }
    return rc;
}

/* Returns the index of COMMAND, or -1 with *status set (help, version or a
 * usage error). */
static int parse(int argc, char **argv, struct run_opts *ro, int *status)
{
    int c;
    opterr = 0;
    /* '+': stop at COMMAND, whose options are its own. */
    while ((c = getopt_long(argc, argv, "+:dfp:v", longopts, NULL)) != -1) {
        switch (c) {
        case 'd':
            ro->file = false;
            break;
        case 'f':
            ro->file = true;
            break;
        case 'p':
            ro->lib.dir = optarg;
            break;
        case OPT_KEEP:
            ro->keep = true;
            break;
        case OPT_PREFIX:
            ro->lib.prefix = optarg;
            break;
        case OPT_SUFFIX:
            ro->lib.suffix = optarg;
            break;
        case 'v':
            ro->verbose = true;
            break;
        case OPT_HELP:
            *status = tool_print_help(help_text);
            return -1;
        case OPT_VERSION:
            *status = tool_print_version();
            return -1;
        default:
            *status = tool_getopt_error("run", c, argv);
            return -1;
        }
    }
    if (optind >= argc) {
        *status = tool_usage_error("run", "missing command");
        return -1;
    }
    if ((ro->lib.prefix && strchr(ro->lib.prefix, '/')) ||
        (ro->lib.suffix && strchr(ro->lib.suffix, '/'))) {
        *status = tool_usage_error("run", "--prefix and --suffix must not contain '/'");
        return -1;
    }
    return optind;
}

int tool_run(int argc, char **argv)
{
    struct run_opts ro = {0};
    int parse_status = 1;
    int first = parse(argc, argv, &ro, &parse_status);
    if (first < 0)
        return parse_status;
    char **cmd = argv + first;

    sigset_t block, old_mask, wait_mask;
    sigemptyset(&block);
    for (size_t i = 0; i < N_FORWARDED; i++)
        sigaddset(&block, forwarded[i]);
    sigaddset(&block, SIGCHLD);
    sigprocmask(SIG_BLOCK, &block, &old_mask);
    wait_mask = old_mask;
    for (size_t i = 0; i < N_FORWARDED; i++)
        sigdelset(&wait_mask, forwarded[i]);
    sigdelset(&wait_mask, SIGCHLD);

    struct sigaction old[N_FORWARDED], old_chld, sa;
    memset(&sa, 0, sizeof sa);
    sigfillset(&sa.sa_mask);
    for (size_t i = 0; i < N_FORWARDED; i++) {
        sigaction(forwarded[i], NULL, &old[i]);
        if (old[i].sa_handler == SIG_IGN)
            continue;
        sa.sa_flags = SA_SIGINFO;
        sa.sa_sigaction = on_signal;
        sigaction(forwarded[i], &sa, NULL);
    }
    sa.sa_flags = SA_NOCLDSTOP;
    sa.sa_handler = on_child;
    sigaction(SIGCHLD, &sa, &old_chld);

    if (ro.verbose)
        tmpf_set_event_hook(verbose_hook, NULL);
    struct temporary t;
    if (make_temporary(&ro, &t) != 0) {
        tool_error("run: cannot create temporary %s: %s", kind_name(&ro),
                   strerror(errno));
        return finish(TOOL_EXIT_FAILURE, &old_mask);
    }
    fflush(NULL);
    pid_t pid = fork();
    if (pid == 0)
        exec_command(cmd, &t, old, &old_chld, &old_mask);
    if (pid < 0) {
        int err = errno;
        finish_temporary(&ro, &t);
        tool_error("run: cannot start '%s': %s", cmd[0], strerror(err));
        return finish(TOOL_EXIT_FAILURE, &old_mask);
    }
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

    int rc;
    if (!reaped) {
        tool_error("run: waiting for '%s': %s", cmd[0], strerror(errno));
        rc = TOOL_EXIT_FAILURE;
    } else if (WIFEXITED(status)) {
        rc = WEXITSTATUS(status);
    } else if (WIFSIGNALED(status)) {
        rc = 128 + WTERMSIG(status);
    } else {
        rc = TOOL_EXIT_FAILURE;
    }
    if (finish_temporary(&ro, &t) != 0 && rc == 0)
        rc = TOOL_EXIT_FAILURE;

    return finish(rc, &old_mask);
}
