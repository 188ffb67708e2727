/* tmpf write-atomic: a safe sponge(1). All of stdin is read first, then
 * tmpf_write_atomic replaces FILE in one step: readers see the old or the
 * new contents, never a mix, and any error leaves FILE as it was. */
#include "tool.h"
#include "tool_os.h"

#include <errno.h>
#include <getopt.h>
#include <limits.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <tmpf.h>

static const char help_text[] =
    "Usage: tmpf write-atomic [--durable] [--no-clobber] [--across-fs]\n"
    "                         [--keep-xattrs] [--replace-special] FILE\n"
    "Read all of standard input, then replace FILE with it atomically: FILE\n"
    "holds either its old or its new contents, whatever happens. An existing\n"
    "FILE keeps its permission bits, and its owner and group where allowed\n"
    "(root); a new one gets 0666 minus the umask. An existing FILE that is\n"
    "not a regular file (a device, FIFO, socket) is refused. On any error\n"
    "FILE is untouched and nothing is left behind.\n"
    "\n"
    "      --durable          fsync the data and the directory before exiting\n"
    "      --no-clobber       fail if FILE already exists\n"
    "      --across-fs        accepted for symmetry: the temporary is always\n"
    "                         made beside FILE, on its file system\n"
    "      --keep-xattrs      also keep FILE's ACL and user.*/security.*\n"
    "                         extended attributes (failing to is an error)\n"
    "      --replace-special  replace FILE even if it is not a regular file\n"
    "      --help        display this help and exit\n"
    "      --version     output version information and exit\n";

enum {
    OPT_DURABLE = CHAR_MAX + 1,
    OPT_NOCLOBBER,
    OPT_ACROSS_FS,
    OPT_KEEP_XATTRS,
    OPT_REPLACE_SPECIAL,
    OPT_HELP,
    OPT_VERSION
};

static const struct option longopts[] = {
    {"durable", no_argument, NULL, OPT_DURABLE},
    {"no-clobber", no_argument, NULL, OPT_NOCLOBBER},
    {"across-fs", no_argument, NULL, OPT_ACROSS_FS},
    {"keep-xattrs", no_argument, NULL, OPT_KEEP_XATTRS},
    {"replace-special", no_argument, NULL, OPT_REPLACE_SPECIAL},
    {"help", no_argument, NULL, OPT_HELP},
    {"version", no_argument, NULL, OPT_VERSION},
    {NULL, 0, NULL, 0},
};

/* All of in into a malloc'd buffer; -1 with errno on failure. */
static int read_all(FILE *in, char **ret, size_t *ret_len)
{
    size_t cap = 64 * 1024, len = 0;
    char *buf = malloc(cap);
    if (!buf)
        return -1;
    for (;;) {
        if (len == cap) {
            if (cap > SIZE_MAX / 2) {
                free(buf);
                errno = EFBIG;
                return -1;
            }
            char *bigger = realloc(buf, cap * 2);
            if (!bigger) {
                free(buf);
                errno = ENOMEM;
                return -1;
            }
            buf = bigger;
            cap *= 2;
        }
        size_t want = cap - len;
        errno = 0;
        size_t got = fread(buf + len, 1, want, in);
        len += got;
        if (got < want) { /* end of input, or an error */
            if (ferror(in)) {
                int saved = errno ? errno : EIO;
                free(buf);
                errno = saved;
                return -1;
            }
            break;
        }
    }
    *ret = buf;
    *ret_len = len;
    return 0;
}

int tool_write_atomic(int argc, char **argv)
{
    unsigned flags = 0;
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
        case OPT_ACROSS_FS:
            flags |= TMPF_ACROSS_FS;
            break;
        case OPT_KEEP_XATTRS:
            flags |= TMPF_KEEP_XATTRS;
            break;
        case OPT_REPLACE_SPECIAL:
            flags |= TMPF_REPLACE_SPECIAL;
            break;
        case OPT_HELP:
            return tool_print_help(help_text);
        case OPT_VERSION:
            return tool_print_version();
        default:
            return tool_getopt_error("write-atomic", c, argv);
        }
    }
    if (optind >= argc)
        return tool_usage_error("write-atomic", "missing FILE");
    if (argc - optind > 1)
        return tool_usage_error("write-atomic", "extra argument '%s'",
                                argv[optind + 1]);
    const char *target = argv[optind];
    if (!*target)
        return tool_usage_error("write-atomic", "FILE must not be empty");

    char *data;
    size_t len;
    tool_os_stdin_binary();
    if (read_all(stdin, &data, &len) != 0) {
        tool_error("write-atomic: cannot read standard input: %s", tool_os_strerror(errno));
        return TOOL_EXIT_FAILURE;
    }
    int rc = tmpf_write_atomic(target, data, len, flags);
    int err = errno;
    free(data);
    if (rc != 0) {
        if (err == EPERM && !(flags & TMPF_REPLACE_SPECIAL)) {
            if (tool_os_is_special(target)) {
                tool_error("write-atomic: cannot replace '%s': not a regular file "
                           "(--replace-special replaces it)", target);
                return TOOL_EXIT_FAILURE;
            }
        }
        tool_error("write-atomic: cannot replace '%s': %s", target, tool_os_strerror(err));
        return TOOL_EXIT_FAILURE;
    }
    return EXIT_SUCCESS;
}
