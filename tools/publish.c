/* tmpf publish: swap a directory tree in at TARGET atomically. DIR's
 * entries move into a temporary directory made beside DIR (same file
 * system: each move is a rename), which tmpf_dir_persist then publishes
 * at TARGET (a copy if TARGET is on another file system). On failure the
 * entries go back to DIR and TARGET is untouched. */
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
    "Usage: tmpf publish [--durable] [--no-clobber] DIR TARGET\n"
    "Replace directory TARGET with the tree in DIR atomically: readers of\n"
    "TARGET see the old tree or the new one, never none and never a mix\n"
    "(renameat2 RENAME_EXCHANGE; the old tree is then removed). A missing\n"
    "TARGET is created. DIR is built anywhere, also on another file system\n"
    "(then copied); it is gone afterwards. On any error TARGET is untouched\n"
    "and DIR is as it was. Where there is no atomic exchange of two\n"
    "directories (Windows, generic POSIX builds), an existing TARGET is\n"
    "refused (not supported).\n"
    "\n"
    "      --durable     fsync every file and directory of the tree before,\n"
    "                    and TARGET's directory after\n"
    "      --no-clobber  fail if TARGET already exists\n"
    "      --help        display this help and exit\n"
    "      --version     output version information and exit\n";

enum { OPT_DURABLE = CHAR_MAX + 1, OPT_NOCLOBBER, OPT_HELP, OPT_VERSION };

static const struct option longopts[] = {
    {"durable", no_argument, NULL, OPT_DURABLE},
    {"no-clobber", no_argument, NULL, OPT_NOCLOBBER},
    {"help", no_argument, NULL, OPT_HELP},
    {"version", no_argument, NULL, OPT_VERSION},
    {NULL, 0, NULL, 0},
};

/* DIR's parent, for the temporary directory: "." for a bare name. */
static char *parent_of(const char *path)
{
    char *copy = strdup(path);
    if (!copy)
        return NULL;
    size_t len = strlen(copy);
    while (len > 1 && TOOL_OS_IS_SEP(copy[len - 1]))
        copy[--len] = '\0';
    char *slash = NULL;
    for (char *p = copy; *p; p++)
        if (TOOL_OS_IS_SEP(*p))
            slash = p;
    if (!slash)
        strcpy(copy, ".");
    else if (slash == copy || (slash == copy + 2 && copy[1] == ':' &&
                               TOOL_OS_IS_ABSOLUTE(copy)))
        slash[1] = '\0'; /* a root: "/", or "C:\\" on Windows */
    else
        *slash = '\0';
    return copy;
}

int tool_publish(int argc, char **argv)
{
    unsigned flags = TMPF_ACROSS_FS;
    int c;
    opterr = 0;
    while ((c = getopt_long(argc, argv, ":", longopts, NULL)) != -1) {
        switch (c) {
        case OPT_DURABLE:
            flags |= TMPF_DURABLE;
            break;
        case OPT_NOCLOBBER:
            flags |= TMPF_NOCLOBBER;
            break;
        case OPT_HELP:
            return tool_print_help(help_text);
        case OPT_VERSION:
            return tool_print_version();
        default:
            return tool_getopt_error("publish", c, argv);
        }
    }
    if (argc - optind < 2)
        return tool_usage_error("publish", "missing %s", optind < argc ? "TARGET" : "DIR");
    if (argc - optind > 2)
        return tool_usage_error("publish", "extra argument '%s'", argv[optind + 2]);
    const char *src = argv[optind], *target = argv[optind + 1];
    if (!*src || !*target)
        return tool_usage_error("publish", "DIR and TARGET must not be empty");

    int from = tool_os_dir_open(src);
    if (from < 0) {
        tool_error("publish: cannot open directory '%s': %s", src, tool_os_strerror(errno));
        return TOOL_EXIT_FAILURE;
    }
    char *parent = parent_of(src);
    tmpf_dir *d = parent ? tmpf_temporary_directory(&(tmpf_opts){.dir = parent,
                                                                  .prefix = ".tmpf-publish."})
                         : NULL;
    free(parent);
    int rc = -1, err = errno;
    bool published = false;
    if (d && tool_os_copy_access(from, tmpf_dir_fd(d)) == 0 &&
        tool_os_move_entries(from, tmpf_dir_fd(d)) == 0) {
        char *before = strdup(tmpf_dir_path(d));
        rc = before ? tmpf_dir_persist(d, target, flags) : -1;
        err = errno;
        /* A failure after the swap (a directory fsync, removing the old
         * tree) leaves it published: tmpf_dir_path says where d is. */
        published = before && strcmp(before, tmpf_dir_path(d)) != 0;
        if (before && !published && tool_os_move_entries(tmpf_dir_fd(d), from) != 0) {
            /* Cannot put DIR's entries back: never remove them. */
            tmpf_dir_keep(d);
            tool_error("publish: the entries of '%s' are in '%s'", src,
                       tmpf_dir_path(d));
        }
        free(before);
    } else {
        err = errno;
    }
    tool_os_close(from);
    if (d)
        tmpf_dir_cleanup(d);
    if (rc != 0 && !published && err == ENOTSUP && tool_os_name_is_free(target) == 0) {
        /* An existing TARGET where renameat2 RENAME_EXCHANGE (or its
         * like) is missing: Windows, a generic POSIX build, an old kernel
         * or a file system without it. Never a non-atomic replace. */
        tool_error("publish: cannot replace existing '%s' with '%s': no atomic exchange "
                   "of two directories on this system or file system (not supported)",
                   target, src);
        return TOOL_EXIT_FAILURE;
    }
    if (rc != 0) {
        tool_error("publish: %s '%s' at '%s': %s",
                   published ? "published, but not cleanly," : "cannot publish",
                   src, target, tool_os_strerror(err));
        if (!published)
            return TOOL_EXIT_FAILURE;
    }
    if (tool_os_remove(src, true) != 0) {
        tool_error("publish: '%s' published, but '%s' stays: %s", target, src,
                   tool_os_strerror(errno));
        return TOOL_EXIT_FAILURE;
    }
    return rc == 0 ? EXIT_SUCCESS : TOOL_EXIT_FAILURE;
}
