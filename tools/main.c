/*
 * tmpf: mktemp(1)'s drop-in replacement plus three commands built on the
 * library. The first argument picks the command; anything else is mktemp.
 * "run", "write-atomic" and "dir" are not valid mktemp templates (fewer
 * than 3 X's), so no working mktemp command line changes meaning.
 */
#include "tool.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <tmpf.h>

void tool_error(const char *fmt, ...)
{
    char msg[4096];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    fprintf(stderr, "tmpf: %s\n", msg);
}

int tool_usage_error(const char *command, const char *fmt, ...)
{
    char msg[4096];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    const char *space = command ? " " : "";
    command = command ? command : "";
    fprintf(stderr, "tmpf%s%s: %s (try 'tmpf%s%s --help')\n", space, command, msg,
            space, command);
    return TOOL_EXIT_FAILURE;
}

bool tool_close_stdout(void)
{
    /* ferror first: fclose may succeed after an earlier failed flush. */
    bool failed = ferror(stdout) != 0;
    errno = 0;
    if (fclose(stdout) != 0)
        failed = true;
    if (failed) {
        tool_error("write error%s%s", errno ? ": " : "", errno ? strerror(errno) : "");
        return false;
    }
    return true;
}

int tool_print_version(void)
{
    printf("tmpf %s\n", tmpf_version());
    return tool_close_stdout() ? EXIT_SUCCESS : TOOL_EXIT_FAILURE;
}

int tool_print_help(const char *text)
{
    fputs(text, stdout);
    return tool_close_stdout() ? EXIT_SUCCESS : TOOL_EXIT_FAILURE;
}

static const struct {
    const char *name;
    int (*fn)(int argc, char **argv);
} commands[] = {
    {"run", tool_run},
    {"write-atomic", tool_write_atomic},
    {"dir", tool_dir},
    {"publish", tool_publish},
};

int main(int argc, char **argv)
{
    if (argc >= 2) {
        for (size_t i = 0; i < sizeof commands / sizeof commands[0]; i++) {
            if (strcmp(argv[1], commands[i].name) == 0)
                return commands[i].fn(argc - 1, argv + 1);
        }
    }
    return tool_mktemp(argc, argv);
}
