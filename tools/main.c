/*
 * tmpf: mktemp(1)'s drop-in replacement plus four commands built on the
 * library. The first argument picks the command; anything else is mktemp.
 * "run", "write-atomic", "dir" and "sweep" are not valid mktemp templates (fewer
 * than 3 X's), so no working mktemp command line changes meaning.
 */
#include "tool.h"
#include "tool_os.h"
#include "../src/guardian.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <tmpf.h>

const char *tool_name = "tmpf";

void tool_error(const char *fmt, ...)
{
    char msg[4096];
    int len = snprintf(msg, sizeof msg, "%s: ", tool_name);
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg + len, sizeof msg - (size_t)len - 1, fmt, ap);
    va_end(ap);
    strcat(msg, "\n");
    tool_os_write_stderr(msg, strlen(msg));
}

static bool name_part_ok(const char *s)
{
    for (; s && *s; s++)
        if (TOOL_OS_NAME_FORBIDDEN(*s))
            return false;
    return true;
}

int tool_check_name_parts(const char *command, const char *prefix, const char *suffix)
{
    if (name_part_ok(prefix) && name_part_ok(suffix))
        return 0;
    return tool_usage_error(command, "--prefix and --suffix must not contain %s",
                            TOOL_OS_NAME_FORBIDDEN_TEXT);
}

int tool_usage_error(const char *command, const char *fmt, ...)
{
    char msg[4096], line[8192];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    const char *space = command ? " " : "";
    command = command ? command : "";
    if (strcmp(tool_name, "tmpf") != 0)
        /* Run as mktemp: coreutils' two lines, which scripts match. */
        snprintf(line, sizeof line, "%s: %s\nTry '%s --help' for more information.\n",
                 tool_name, msg, tool_name);
    else
        snprintf(line, sizeof line, "tmpf%s%s: %s (try 'tmpf%s%s --help')\n", space,
                 command, msg, space, command);
    tool_os_write_stderr(line, strlen(line));
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
        tool_error("write error%s%s", errno ? ": " : "", errno ? tool_os_strerror(errno) : "");
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
    {"sweep", tool_sweep},
    {"help", tool_help},
};
#define N_COMMANDS (sizeof commands / sizeof commands[0])

/* Edit distance of a and b (short words only), for "did you mean". */
static size_t distance(const char *a, const char *b)
{
    size_t la = strlen(a), lb = strlen(b), row[32];
    if (la >= 32 || lb >= 32)
        return 99;
    for (size_t j = 0; j <= lb; j++)
        row[j] = j;
    for (size_t i = 1; i <= la; i++) {
        size_t diag = row[0];
        row[0] = i;
        for (size_t j = 1; j <= lb; j++) {
            size_t up = row[j];
            size_t best = diag + (a[i - 1] != b[j - 1]);
            if (up + 1 < best)
                best = up + 1;
            if (row[j - 1] + 1 < best)
                best = row[j - 1] + 1;
            row[j] = best;
            diag = up;
        }
    }
    return row[lb];
}

/* A first argument that reads as a command name (a lowercase word, maybe
 * with '-' or '_', with no X run a template would need) but is none:
 * mktemp would only say "too few X's in template". */
static bool looks_like_command(const char *w)
{
    if (!(*w >= 'a' && *w <= 'z'))
        return false;
    for (const char *p = w; *p; p++)
        if (!((*p >= 'a' && *p <= 'z') || *p == '-' || *p == '_'))
            return false;
    return true;
}

static int unknown_command(const char *w)
{
    const char *best = NULL;
    size_t best_d = 3;
    for (size_t i = 0; i < N_COMMANDS; i++) {
        size_t d = distance(w, commands[i].name);
        if (d < best_d) {
            best_d = d;
            best = commands[i].name;
        }
    }
    if (best)
        tool_error("unknown command '%s' (did you mean '%s'?)", w, best);
    else
        tool_error("unknown command '%s' (try 'tmpf --help')", w);
    return TOOL_EXIT_FAILURE;
}

int tool_help(int argc, char **argv)
{
    for (size_t i = 0; argc >= 2 && i < N_COMMANDS; i++) {
        if (strcmp(argv[1], commands[i].name) == 0 && commands[i].fn != tool_help) {
            char *args[] = {argv[1], "--help", NULL};
            return commands[i].fn(2, args);
        }
    }
    if (argc >= 2)
        return unknown_command(argv[1]);
    char *args[] = {"tmpf", "--help", NULL};
    return tool_mktemp(2, args);
}

int main(int argc, char **argv)
{
#ifdef _WIN32
    /* tmpf.exe is also the library's crash guardian there (a library
     * cannot re-run its host): internal, before anything of the tool. */
    if (argc >= 2 && strcmp(argv[1], TMPF__GUARDIAN_ARG) == 0)
        return tmpf__guardian_main(argc, argv);
#endif
    tool_os_init(&argc, &argv);
    const char *base = argc > 0 && argv[0] ? tool_os_base_name(argv[0]) : "tmpf";
    /* Run as mktemp (a symlink): mktemp alone, under its own name. */
    if (strcmp(base, "mktemp") == 0) {
        tool_name = argv[0]; /* as coreutils prints it */
        return tool_mktemp(argc, argv);
    }
    if (argc >= 2) {
        for (size_t i = 0; i < N_COMMANDS; i++) {
            if (strcmp(argv[1], commands[i].name) == 0)
                return commands[i].fn(argc - 1, argv + 1);
        }
        if (looks_like_command(argv[1]))
            return unknown_command(argv[1]);
    }
    return tool_mktemp(argc, argv);
}
