/* tmpf dir: prints the directory tmpf_gettempdir() chooses. */
#include "tool.h"

#include <errno.h>
#include <getopt.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <tmpf.h>

static const char help_text[] =
    "Usage: tmpf dir\n"
    "Print the directory temporary files go to: the first of $TMPDIR, $TEMP,\n"
    "$TMP, /tmp, /var/tmp, /usr/tmp and the current directory in which a file\n"
    "can really be created (Python's tempfile.gettempdir()).\n"
    "\n"
    "      --help      display this help and exit\n"
    "      --version   output version information and exit\n";

enum { OPT_HELP = CHAR_MAX + 1, OPT_VERSION };

static const struct option longopts[] = {
    {"help", no_argument, NULL, OPT_HELP},
    {"version", no_argument, NULL, OPT_VERSION},
    {NULL, 0, NULL, 0},
};

int tool_dir(int argc, char **argv)
{
    int c;
    opterr = 0;
    while ((c = getopt_long(argc, argv, ":", longopts, NULL)) != -1) {
        switch (c) {
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
    const char *dir = tmpf_gettempdir();
    if (!dir) {
        tool_error("dir: no usable temporary directory: %s", strerror(errno));
        return TOOL_EXIT_FAILURE;
    }
    puts(dir);
    return tool_close_stdout() ? EXIT_SUCCESS : TOOL_EXIT_FAILURE;
}
