/*
 * tmpf run: CMD gets a temporary directory (or file) for its lifetime.
 * Starting CMD, waiting for it and what signals (POSIX) or console events
 * (Windows) do meanwhile are the system's part: tool_os_run_* in
 * tools/os_unix.c and tools/os_win.c.
 */
#include "tool.h"
#include "tool_os.h"

#include <errno.h>
#include <getopt.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <tmpf.h>

static const char help_text[] =
    "Usage: tmpf run [OPTION]... [--] COMMAND [ARG]...\n"
    "Create a temporary directory (or file), run COMMAND with its path in\n"
    "$TMPF_PATH (a directory is also $TMPDIR), remove it when COMMAND ends,\n"
    TOOL_OS_RUN_HELP
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
     * CMD runs (Windows: the lock is a handle held on the directory, which
     * tmpf_sweep cannot open exclusively). Without a guard (no fork
     * possible) it is still removed in every other case. */
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
        tool_os_write_stderr(path, n + 1);
        path[n] = '\0';
    }
    int rc = t->dir ? tmpf_dir_cleanup(t->dir) : tmpf_file_cleanup(t->file);
    int err = errno;
    if (rc != 0)
        tool_error("run: cannot remove %s '%s': %s", kind_name(ro), path ? path : "?",
                   tool_os_strerror(err));
    free(path);
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
    if ((*status = tool_check_name_parts("run", ro->lib.prefix, ro->lib.suffix)) != 0)
        return -1;
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

    tool_os_run_prepare();
    if (ro.verbose)
        tmpf_set_event_hook(verbose_hook, NULL);
    struct temporary t;
    if (make_temporary(&ro, &t) != 0) {
        tool_error("run: cannot create temporary %s: %s", kind_name(&ro),
                   tool_os_strerror(errno));
        return tool_os_run_finish(TOOL_EXIT_FAILURE);
    }
    int rc;
    if (tool_os_run_command(cmd, t.path, t.dir != NULL, &rc) != 0) {
        int err = errno;
        finish_temporary(&ro, &t);
        tool_error("run: cannot start '%s': %s", cmd[0], tool_os_strerror(err));
        return tool_os_run_finish(TOOL_EXIT_FAILURE);
    }
    if (finish_temporary(&ro, &t) != 0 && rc == 0)
        rc = TOOL_EXIT_FAILURE;
    return tool_os_run_finish(rc);
}
