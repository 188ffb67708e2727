/*
 * The tool's system services: everything that differs between POSIX
 * (tools/os_unix.c) and Windows (tools/os_win.c). The other tools/ files use
 * the C library, the library's public API (tmpf.h) and this header only,
 * so a port touches this header and one os_*.c file.
 *
 * Strings are UTF-8 everywhere (on Windows, os_win.c converts from and to
 * the UTF-16 of the system). Functions that fail return -1 (or NULL) with
 * errno set.
 */
#ifndef TMPF_TOOL_OS_H
#define TMPF_TOOL_OS_H

#include "tool.h" /* TOOL_PRINTF */

#include <stdbool.h>
#include <stddef.h>

/* Path syntax, as macros: tools/template.c uses them and is also built
 * alone (fuzz/fuzz_template.c). TOOL_OS_IS_ABSOLUTE is what mktemp's
 * --tmpdir refuses in a template: "/x" on POSIX; "\x", "/x" and "C:..." on
 * Windows. */
#ifdef _WIN32
#define TOOL_OS_IS_SEP(c) ((c) == '/' || (c) == '\\')
#define TOOL_OS_SEP '\\'
/* What a name's prefix or suffix may not hold (':' names a stream there). */
#define TOOL_OS_NAME_FORBIDDEN(c) (TOOL_OS_IS_SEP(c) || (c) == ':')
#define TOOL_OS_NAME_FORBIDDEN_TEXT "'\\', '/' or ':'"
#define TOOL_OS_IS_ABSOLUTE(p)                                                         \
    (TOOL_OS_IS_SEP((p)[0]) ||                                                         \
     ((((p)[0] | 0x20) >= 'a' && ((p)[0] | 0x20) <= 'z') && (p)[1] == ':'))
#else
#define TOOL_OS_IS_SEP(c) ((c) == '/')
#define TOOL_OS_SEP '/'
#define TOOL_OS_NAME_FORBIDDEN(c) TOOL_OS_IS_SEP(c)
#define TOOL_OS_NAME_FORBIDDEN_TEXT "'/'"
#define TOOL_OS_IS_ABSOLUTE(p) ((p)[0] == '/')
#endif

/* First thing in main: on Windows, replaces *argv with the UTF-8 form of
 * the UTF-16 command line (so non-ASCII names survive the ANSI code page);
 * on POSIX, nothing. Exits with a message if memory runs out. */
void tool_os_init(int *argc, char ***argv);

/* The program's name as argv[0] gives it, without directories (and
 * without ".exe" on Windows): "mktemp" selects mktemp mode. */
const char *tool_os_base_name(const char *argv0);

/* An environment variable in UTF-8, or NULL; valid until exit. */
const char *tool_os_getenv(const char *name);

/* strerror(err); on Windows also for the POSIX errno values the C runtime
 * has no text for (ENOTSUP, ELOOP, EOVERFLOW, ...). */
const char *tool_os_strerror(int err);

/* Writes n bytes to stderr, keeping errno; on POSIX never dies of SIGPIPE
 * (a diagnostic whose reader is gone is lost, not fatal). On Windows, a
 * console is written in UTF-16 (WriteConsoleW), so names show right
 * whatever its code page; a pipe or a file gets the UTF-8 bytes. */
void tool_os_write_stderr(const char *msg, size_t n);

/* printf to stdout, for every line that can hold a path or a name: on
 * Windows a console gets it in UTF-16 (WriteConsoleW, after what stdio
 * holds is flushed), a pipe or a file the UTF-8 bytes through stdio; on
 * POSIX, printf. A negative return (or ferror(stdout)) is a write error. */
int tool_os_printf(const char *fmt, ...) TOOL_PRINTF(1, 2);

/* Standard input in binary mode (Windows: no CR-LF translation, no end at
 * ^Z); nothing on POSIX. */
void tool_os_stdin_binary(void);

/* mktemp's directory when neither -p nor $TMPDIR names one: "/tmp" on
 * POSIX (coreutils), tmpf_gettempdir() on Windows. NULL with errno if
 * there is none. */
const char *tool_os_default_tmpdir(void);

/* close(2) of a descriptor the library returned. */
int tool_os_close(int fd);

/* Removes a file or an empty directory by name. */
int tool_os_remove(const char *path, bool directory);

/* mktemp -u: 1 if nothing is at path (ENOENT), 0 if something is (links
 * not followed), -1 with errno if it cannot be told. */
int tool_os_name_is_free(const char *path);

/* dir with ".." resolved the system's way (POSIX: realpath, through
 * symlinks, as mktemp lets the kernel do); malloc'd. */
char *tool_os_resolve_dir(const char *dir);

/* true if something is at path that is neither a regular file nor a
 * directory (a device, FIFO, socket): write-atomic's message. */
bool tool_os_is_special(const char *path);

/*
 * tmpf run, in three steps:
 *   tool_os_run_prepare()  before the temporary is made: POSIX blocks and
 *                          handles SIGINT, SIGTERM, SIGHUP and SIGCHLD;
 *                          Windows installs a console control handler
 *                          (Ctrl-C, Ctrl-Break, close);
 *   tool_os_run_command()  runs cmd (cmd[0] searched in PATH) with
 *                          TMPF_PATH=path (and TMPDIR=path if set_tmpdir)
 *                          in its environment and waits for it. Returns 0
 *                          with *ret_status: the command's exit status,
 *                          128+N if it died of signal N, 127 if not found,
 *                          126 if it cannot be run, 1 if waiting failed
 *                          (messages printed); or -1 with errno if no
 *                          process could be started (fork failed);
 *   tool_os_run_finish(rc) after the temporary is removed: the status to
 *                          exit with. POSIX: dies of a signal that came
 *                          for tmpf instead. Windows: STATUS_CONTROL_C_EXIT
 *                          after a Ctrl-C or Ctrl-Break, else rc.
 */
/* run --help's lines on exit statuses, signals and locks. */
#ifdef _WIN32
#define TOOL_OS_RUN_HELP                                                               \
    "and exit with COMMAND's exit code.\n"                                             \
    "COMMAND is started directly (CreateProcessW), not through cmd.exe; its\n"         \
    "arguments are quoted for the Microsoft C runtime. On Ctrl-C or\n"                 \
    "Ctrl-Break, which COMMAND receives too, tmpf waits for COMMAND, removes\n"        \
    "the temporary and exits with STATUS_CONTROL_C_EXIT (0xC000013A). The\n"           \
    "directory is locked while COMMAND runs (a handle held on it): tmpf sweep\n"       \
    "leaves it alone.\n"
#else
#define TOOL_OS_RUN_HELP                                                               \
    "and exit with COMMAND's status (128+N if it died of signal N).\n"                 \
    "COMMAND is run directly, not through a shell. SIGINT, SIGTERM and\n"              \
    "SIGHUP are passed on to COMMAND; the temporary is removed and tmpf then\n"        \
    "dies of the same signal. A guard process removes it even if tmpf is\n"            \
    "killed with SIGKILL; the directory is locked (flock) while COMMAND runs.\n"
#endif
void tool_os_run_prepare(void);
int tool_os_run_command(char **cmd, const char *path, bool set_tmpdir, int *ret_status);
int tool_os_run_finish(int rc);

/* tmpf publish's moves. tool_os_dir_open opens the directory DIR (not
 * through a symlink or junction); tool_os_copy_access gives the directory
 * open as to the access rights of the one open as from (POSIX: permission
 * bits; Windows: the DACL, and whether it inherits); tool_os_move_entries
 * moves every entry of the directory open as from into to (same file
 * system), putting back what it moved if one fails. */
int tool_os_dir_open(const char *path);
int tool_os_copy_access(int from, int to);
int tool_os_move_entries(int from, int to);

#endif
