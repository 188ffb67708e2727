/* tmpf sweep: removes the temporaries dead processes left behind
 * (tmpf_sweep), printing what it removes with -v, or what it would remove
 * with --dry-run. */
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
    "Usage: tmpf sweep [OPTION]... [DIR]\n"
    "Remove from DIR (default: tmpf dir) the entries named PREFIX + 8 random\n"
    "characters (a-z, 0-9, _) + SUFFIX that belong to you, are not locked by a\n"
    "live program (TMPF_LOCK) and were not modified for SECONDS: what programs\n"
    "killed, crashed or powered off left behind. Symlinks are removed, never\n"
    "followed; directories with everything in them.\n"
    "\n"
    "      --older-than=SECONDS  minimum age by modification time (default 3600)\n"
    "      --prefix=P            name prefix (required)\n"
    "      --suffix=S            name suffix (default: none)\n"
    "  -n, --dry-run             print what would be removed, remove nothing\n"
    "  -v, --verbose             print each entry removed\n"
    "      --help                display this help and exit\n"
    "      --version             output version information and exit\n"
    "\n"
    "An unlocked temporary of a live program is protected by --older-than\n"
    "alone. Exit status: 0, or 1 if DIR cannot be read.\n";

enum { OPT_OLDER = CHAR_MAX + 1, OPT_PREFIX, OPT_SUFFIX, OPT_HELP, OPT_VERSION };

static const struct option longopts[] = {
    {"older-than", required_argument, NULL, OPT_OLDER},
    {"prefix", required_argument, NULL, OPT_PREFIX},
    {"suffix", required_argument, NULL, OPT_SUFFIX},
    {"dry-run", no_argument, NULL, 'n'},
    {"verbose", no_argument, NULL, 'v'},
    {"help", no_argument, NULL, OPT_HELP},
    {"version", no_argument, NULL, OPT_VERSION},
    {NULL, 0, NULL, 0},
};

static void print_hook(const tmpf_event *ev, void *ctx)
{
    (void)ctx;
    if (ev->path && (ev->type == TMPF_EVENT_DELETE || ev->type == TMPF_EVENT_KEEP))
        tool_os_printf("%s%s\n", ev->type == TMPF_EVENT_KEEP ? "would remove " : "removed ",
                       ev->path);
}

int tool_sweep(int argc, char **argv)
{
    tmpf_opts o = {0};
    unsigned long age = 3600;
    bool dry = false, verbose = false;
    int c;
    opterr = 0;
    while ((c = getopt_long(argc, argv, ":nv", longopts, NULL)) != -1) {
        switch (c) {
        case OPT_OLDER: {
            char *end;
            errno = 0;
            age = strtoul(optarg, &end, 10);
            if (errno || end == optarg || *end || optarg[0] == '-' || age > UINT_MAX)
                return tool_usage_error("sweep", "invalid --older-than '%s'", optarg);
            break;
        }
        case OPT_PREFIX:
            o.prefix = optarg;
            break;
        case OPT_SUFFIX:
            o.suffix = optarg;
            break;
        case 'n':
            dry = true;
            break;
        case 'v':
            verbose = true;
            break;
        case OPT_HELP:
            return tool_print_help(help_text);
        case OPT_VERSION:
            return tool_print_version();
        default:
            return tool_getopt_error("sweep", c, argv);
        }
    }
    if (optind < argc)
        o.dir = argv[optind++];
    if (optind < argc)
        return tool_usage_error("sweep", "unexpected argument '%s'", argv[optind]);
    if (!o.prefix || !*o.prefix)
        return tool_usage_error("sweep", "--prefix is required");
    int bad = tool_check_name_parts("sweep", o.prefix, o.suffix);
    if (bad)
        return bad;
    if (dry)
        o.flags |= TMPF_KEEP; /* tmpf_sweep's dry run */
    if (dry || verbose)
        tmpf_set_event_hook(print_hook, NULL);
    long n = tmpf_sweep(&o, (unsigned)age);
    int err = errno;
    tmpf_set_event_hook(NULL, NULL);
    if (n < 0 && err == ENOSYS) {
        tool_error("sweep: not supported on this system");
        return TOOL_EXIT_FAILURE;
    }
    if (n < 0) {
        tool_error("sweep: %s: %s", o.dir ? o.dir : "temporary directory",
                   err == EINVAL ? "invalid prefix or suffix" : tool_os_strerror(err));
        return TOOL_EXIT_FAILURE;
    }
    return tool_close_stdout() ? EXIT_SUCCESS : TOOL_EXIT_FAILURE;
}
