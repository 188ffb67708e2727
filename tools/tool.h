/* The tmpf command-line tool: one executable, one file per command. */
#ifndef TMPF_TOOL_H
#define TMPF_TOOL_H

#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>

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

/* "tmpf: " + message + newline on stderr, as one write. */
void tool_error(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* The one-line usage error every command uses; returns TOOL_EXIT_FAILURE. */
int tool_usage_error(const char *command, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

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
