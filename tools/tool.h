/* The tmpf command-line tool: one executable, one file per command. */
#ifndef TMPF_TOOL_H
#define TMPF_TOOL_H

#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>

/* printf-style argument checks where the compiler has them. */
#if defined(__GNUC__) || defined(__clang__)
#define TOOL_PRINTF(fmt, first) __attribute__((format(printf, fmt, first)))
#else
#define TOOL_PRINTF(fmt, first)
#endif

/* Exit statuses: mktemp's (1 for every failure), shells' for exec. */
enum {
    TOOL_EXIT_FAILURE = 1,
    TOOL_EXIT_CANNOT_EXEC = 126,
    TOOL_EXIT_NOT_FOUND = 127,
};

/* Commands: argv[0] is the command's name, argv[argc] is NULL. Each
 * returns the process exit status. */
int tool_mktemp(int argc, char **argv);
int tool_run(int argc, char **argv);
int tool_write_atomic(int argc, char **argv);
int tool_dir(int argc, char **argv);
int tool_publish(int argc, char **argv);
int tool_sweep(int argc, char **argv);
/* tmpf help [COMMAND]: the general help, or COMMAND --help. */
int tool_help(int argc, char **argv);

/* "tmpf", or "mktemp" when run under that name (argv[0]'s last part):
 * the name every message starts with. */
extern const char *tool_name;

/* tool_name + ": " + message + newline on stderr, as one write. */
void tool_error(const char *fmt, ...) TOOL_PRINTF(1, 2);

/* The usage error every command uses: one line "tmpf CMD: MSG (try 'tmpf
 * CMD --help')"; run as mktemp, coreutils' "mktemp: MSG" and "Try 'mktemp
 * --help' for more information." Returns TOOL_EXIT_FAILURE. */
int tool_usage_error(const char *command, const char *fmt, ...)
    TOOL_PRINTF(2, 3);

/* --prefix and --suffix: 0 if neither (NULL: absent) holds a character a
 * name part may not (TOOL_OS_NAME_FORBIDDEN), else the usage error of
 * command, said once here (TOOL_EXIT_FAILURE). */
int tool_check_name_parts(const char *command, const char *prefix, const char *suffix);

/* The one-line usage error for what getopt_long (run with opterr = 0 and
 * a leading ':' in optstring) returned as c; returns TOOL_EXIT_FAILURE. */
int tool_getopt_error(const char *command, int c, char **argv);

/* Prints "tmpf VERSION" on stdout; returns the exit status (write errors
 * included). */
int tool_print_version(void);

/* Flushes and closes stdout; false (with a message) on a write error, as
 * coreutils' close_stdout. */
bool tool_close_stdout(void);

/* Writes text to stdout and closes it; the exit status. */
int tool_print_help(const char *text);

#endif
