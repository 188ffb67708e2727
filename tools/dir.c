/* tmpf dir: prints the directory tmpf_gettempdir() chooses. */
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
    "Usage: tmpf dir [--explain]\n"
    "Print the directory temporary files go to: the first of $TMPDIR, $TEMP,\n"
    "$TMP, /tmp, /var/tmp, /usr/tmp and the current directory in which a file\n"
    "can really be created (Python's tempfile.gettempdir()), passing over one\n"
    "that others can write without the sticky bit or that another user owns.\n"
    "\n"
    "      --explain   print each candidate tried and why it was passed over\n"
    "                  or taken\n"
    "      --help      display this help and exit\n"
    "      --version   output version information and exit\n";

enum { OPT_HELP = CHAR_MAX + 1, OPT_VERSION, OPT_EXPLAIN };

static const struct option longopts[] = {
    {"explain", no_argument, NULL, OPT_EXPLAIN},
    {"help", no_argument, NULL, OPT_HELP},
    {"version", no_argument, NULL, OPT_VERSION},
    {NULL, 0, NULL, 0},
};

/* --explain: the library's TMPF_EVENT_TEMPDIR_SKIPPED events, in order. */
static void explain_hook(const tmpf_event *ev, void *ctx)
{
    (void)ctx;
    if (ev->type != TMPF_EVENT_TEMPDIR_SKIPPED)
        return;
    if (ev->error && ev->error != EPERM && ev->error != ENOENT)
        tool_os_printf("%s: passed over: %s (%s)\n", ev->path, ev->reason,
                       tool_os_strerror(ev->error));
    else
        tool_os_printf("%s: passed over: %s\n", ev->path, ev->reason);
}

static int explain(void)
{
    static const char *const env_names[] = {"TMPDIR", "TEMP", "TMP"};
    for (size_t i = 0; i < sizeof env_names / sizeof *env_names; i++) {
        const char *v = tool_os_getenv(env_names[i]);
        if (v && *v)
            tool_os_printf("$%s=%s\n", env_names[i], v);
        else
            tool_os_printf("$%s: not set\n", env_names[i]);
    }
    tmpf_set_event_hook(explain_hook, NULL);
    const char *dir = tmpf_gettempdir();
    int err = errno;
    tmpf_set_event_hook(NULL, NULL);
    if (dir)
        tool_os_printf("%s: taken\n", dir);
    else
        tool_os_printf("no usable temporary directory: %s\n", tool_os_strerror(err));
    bool ok = tool_close_stdout();
    return dir && ok ? EXIT_SUCCESS : TOOL_EXIT_FAILURE;
}

int tool_dir(int argc, char **argv)
{
    int c;
    bool want_explain = false;
    opterr = 0;
    while ((c = getopt_long(argc, argv, ":", longopts, NULL)) != -1) {
        switch (c) {
        case OPT_EXPLAIN:
            want_explain = true;
            break;
        case OPT_HELP:
            return tool_print_help(help_text);
        case OPT_VERSION:
            return tool_print_version();
        default:
            return tool_getopt_error("dir", c, argv);
        }
    }
    if (optind < argc)
        return tool_usage_error("dir", "unexpected argument '%s'", argv[optind]);
    if (want_explain)
        return explain();
    const char *dir = tmpf_gettempdir();
    if (!dir) {
        tool_error("dir: no usable temporary directory: %s", tool_os_strerror(errno));
        return TOOL_EXIT_FAILURE;
    }
    tool_os_printf("%s\n", dir);
    return tool_close_stdout() ? EXIT_SUCCESS : TOOL_EXIT_FAILURE;
}
