/*
 * The mktemp(1)-compatible command: coreutils 9.x options, templates,
 * messages and exit statuses, with the names made by the library.
 *
 * The X run of a template maps to the library's options: the text before
 * it (after the last '/') is the prefix, the text after it the suffix,
 * the directory part is opts.dir and the number of X's (at most 64; X's
 * before the last 64 stay literal) is rand_len. The library returns an
 * absolute path; what is printed is the template as mktemp would print it
 * (relative stays relative) with the X's replaced by the library's random
 * characters.
 */
#include "template.h"
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
    "Usage: tmpf [OPTION]... [TEMPLATE]\n"
    "       tmpf run [OPTION]... [--] COMMAND [ARG]...\n"
    "       tmpf write-atomic [--durable] [--no-clobber] [--keep-xattrs] FILE\n"
    "       tmpf publish [--durable] [--no-clobber] DIR TARGET\n"
    "       tmpf dir [--explain]\n"
    "Create a temporary file or directory, safely, and print its name\n"
    "(a drop-in replacement for mktemp(1)).\n"
    "TEMPLATE must contain at least 3 consecutive 'X's in last component.\n"
    "If TEMPLATE is not specified, use tmp.XXXXXXXXXX, and --tmpdir is implied.\n"
    "Files are created u+rw, and directories u+rwx, minus umask restrictions.\n"
    "The X's are replaced by characters from [a-z0-9_].\n"
    "\n"
    "  -d, --directory     create a directory, not a file\n"
    "  -u, --dry-run       do not create anything; merely print a name (unsafe)\n"
    "  -q, --quiet         suppress diagnostics about file/dir-creation failure\n"
    "      --suffix=SUFF   append SUFF to TEMPLATE; SUFF must not contain a slash.\n"
    "                        This option is implied if TEMPLATE does not end in X\n"
    "  -p DIR, --tmpdir[=DIR]  interpret TEMPLATE relative to DIR; if DIR is not\n"
    "                        specified, use $TMPDIR if set, else /tmp.  With\n"
    "                        this option, TEMPLATE must not be an absolute name;\n"
    "                        unlike with -t, TEMPLATE may contain slashes, but\n"
    "                        only the final component is created\n"
    "  -t                  interpret TEMPLATE as a single file name component,\n"
    "                        relative to a directory: $TMPDIR, if set; else the\n"
    "                        directory specified via -p; else /tmp [deprecated]\n"
    "      --help          display this help and exit\n"
    "  -V, --version       output version information and exit\n"
    "\n"
    "Commands (each has --help; 'tmpf help COMMAND' too):\n"
    "  run           run a command with a temporary directory or file, then\n"
    "                remove it\n"
    "  write-atomic  replace FILE atomically with standard input\n"
    "  publish       replace directory TARGET atomically with the tree in DIR\n"
    "  dir           print the temporary directory tmpf chooses (--explain:\n"
    "                and why)\n"
    "  sweep         remove what dead programs left behind (--prefix=P)\n"
    "  help          this help; 'tmpf help COMMAND': that command's help\n"
    "\n"
    "See tmpf(1).\n";

enum { OPT_SUFFIX = CHAR_MAX + 1, OPT_TMPDIR, OPT_HELP };

static const struct option longopts[] = {
    {"directory", no_argument, NULL, 'd'},
    {"quiet", no_argument, NULL, 'q'},
    {"dry-run", no_argument, NULL, 'u'},
    {"suffix", required_argument, NULL, OPT_SUFFIX},
    {"tmpdir", optional_argument, NULL, OPT_TMPDIR},
    {"help", no_argument, NULL, OPT_HELP},
    {"version", no_argument, NULL, 'V'},
    {NULL, 0, NULL, 0},
};

int tool_getopt_error(const char *command, int c, char **argv)
{
    const char *arg = optind > 0 ? argv[optind - 1] : "";
    if (c == ':') {
        if (optopt && optopt <= CHAR_MAX)
            return tool_usage_error(command, "option requires an argument -- '%c'",
                                    optopt);
        return tool_usage_error(command, "option '%s' requires an argument", arg);
    }
    if (optopt && optopt <= CHAR_MAX)
        return tool_usage_error(command, "invalid option -- '%c'", optopt);
    return tool_usage_error(command, "unrecognized or ambiguous option '%s'", arg);
}

static bool has_dotdot(const char *dir)
{
    for (const char *p = dir; (p = strstr(p, "..")) != NULL; p += 2) {
        if ((p == dir || TOOL_OS_IS_SEP(p[-1])) && (p[2] == '\0' || TOOL_OS_IS_SEP(p[2])))
            return true;
    }
    return false;
}

/* The first n bytes of s, malloc'd (strndup is POSIX, not C11). */
static char *copy_n(const char *s, size_t n)
{
    char *copy = malloc(n + 1);
    if (copy) {
        memcpy(copy, s, n);
        copy[n] = '\0';
    }
    return copy;
}

/* The pieces the library wants; NULL members on allocation failure. */
struct split {
    char *dir;
    char *prefix;
    char *suffix;
};

static int split_template(const struct template *t, bool dry_run, struct split *s)
{
    memset(s, 0, sizeof *s);
    /* The directory without the separator before the name, except where
     * that is a root: "/" (and "C:\\" on Windows, not drive-relative "C:"). */
    size_t dir_len = t->base ? t->base - 1 : 0;
    if (t->base > 0 && (dir_len == 0 || (dir_len == 2 && t->name[1] == ':' &&
                                         TOOL_OS_IS_ABSOLUTE(t->name))))
        dir_len = t->base;
    s->dir = t->base == 0 ? strdup(".") : copy_n(t->name, dir_len);
    s->prefix = copy_n(t->name + t->base, t->x_start - t->base);
    s->suffix = copy_n(t->name + t->suffix, t->len - t->suffix - t->suffix_slashes);
    if (!s->dir || !s->prefix || !s->suffix) {
        errno = ENOMEM;
        return -1;
    }
    /* The library normalizes ".." lexically (as Python does); mktemp lets
     * the kernel resolve it, which differs after a symlink. Resolve it the
     * kernel's way while the directory exists. */
    if (has_dotdot(s->dir)) {
        char *real = tool_os_resolve_dir(s->dir);
        if (real) {
            free(s->dir);
            s->dir = real;
        } else if (!dry_run) {
            return -1;
        }
    }
    return 0;
}

static void split_free(struct split *s)
{
    free(s->dir);
    free(s->prefix);
    free(s->suffix);
}

/* Creates (or for -u, picks) the name; returns the library's absolute path
 * or NULL with errno. */
static char *create(const struct template *t, const struct split *s, bool directory,
                    bool dry_run)
{
    tmpf_opts o = {.dir = s->dir,
                   .prefix = s->prefix,
                   .suffix = s->suffix,
                   .rand_len = (unsigned)t->rand_len};
    char *path = NULL;
    if (dry_run) {
        for (int tries = 0; tries < 100; tries++) {
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wdeprecated-declarations"
            path = tmpf_mktemp(&o);
#pragma GCC diagnostic pop
            if (!path)
                return NULL;
            /* mktemp -u fails where lstat fails for another reason than
             * ENOENT (ENOTDIR, EACCES, ELOOP), as gnulib's GT_NOCREATE. */
            int is_free = tool_os_name_is_free(path);
            if (is_free == 1)
                return path;
            int err = errno;
            free(path);
            path = NULL;
            if (is_free < 0 && err != EOVERFLOW) {
                errno = err;
                return NULL;
            }
        }
        errno = EEXIST;
        return NULL;
    }
    if (directory)
        return tmpf_mkdtemp(&o);
    if (t->suffix_slashes) {
        /* open("name/", O_CREAT) is EISDIR; mktemp reports just that. */
        errno = EISDIR;
        return NULL;
    }
    int fd = tmpf_mkstemp(&o, &path);
    if (fd < 0)
        return NULL;
    tool_os_close(fd);
    return path;
}

int tool_mktemp(int argc, char **argv)
{
    struct template_args a = {0};
    bool directory = false, dry_run = false, quiet = false;
    int c;

    opterr = 0;
    while ((c = getopt_long(argc, argv, ":dp:qtuV", longopts, NULL)) != -1) {
        switch (c) {
        case 'd':
            directory = true;
            break;
        case 'p':
            a.dest_dir = optarg;
            a.use_dest_dir = true;
            break;
        case 'q':
            quiet = true;
            break;
        case 't':
            a.use_dest_dir = true;
            a.t_option = true;
            break;
        case 'u':
            dry_run = true;
            break;
        case OPT_TMPDIR:
            a.use_dest_dir = true;
            a.dest_dir = optarg;
            break;
        case OPT_SUFFIX:
            a.suffix = optarg;
            break;
        case OPT_HELP:
            return tool_print_help(help_text);
        case 'V':
            return tool_print_version();
        default:
            return tool_getopt_error(NULL, c, argv);
        }
    }
    if (argc - optind >= 2)
        return tool_usage_error(NULL, "too many templates");
    if (argc - optind == 1)
        a.template = argv[optind];
    a.tmpdir = tool_os_getenv("TMPDIR");
    /* Neither -p DIR nor $TMPDIR: the system's default ("/tmp" on POSIX,
     * as template.c's own; Windows asks the library, a real write, so only
     * when needed). */
    if (!(a.tmpdir && *a.tmpdir) && !(a.dest_dir && *a.dest_dir)) {
        const char *dflt = tool_os_default_tmpdir();
        if (dflt)
            a.tmpdir = dflt;
    }

    struct template t;
    const char *bad = "";
    enum template_error te = template_parse(&a, &t, &bad);
    if (te != TEMPLATE_OK) {
        char msg[8192];
        template_message(te, bad, msg, sizeof msg);
        tool_error("%s", msg);
        template_free(&t);
        return TOOL_EXIT_FAILURE;
    }

    int status = EXIT_SUCCESS;
    struct split s;
    char *path = NULL;
    if (split_template(&t, dry_run, &s) == 0)
        path = create(&t, &s, directory, dry_run);
    if (!path) {
        if (!quiet)
            tool_error("failed to create %s via template '%s': %s",
                       directory ? "directory" : "file", t.name, tool_os_strerror(errno));
        status = TOOL_EXIT_FAILURE;
    } else {
        const char *base = path + strlen(path);
        while (base > path && !TOOL_OS_IS_SEP(base[-1]))
            base--;
        memcpy(t.name + t.x_start, base + strlen(s.prefix), t.rand_len);
        bool printed = tool_os_printf("%s\n", t.name) >= 0;
        /* Like mktemp: a name nobody saw must not stay behind. */
        bool ok = printed && !ferror(stdout) && fflush(stdout) == 0;
        int err = errno;
        if (!ok && !dry_run)
            tool_os_remove(path, directory);
        if (!ok) {
            if (!quiet)
                tool_error("write error: %s", tool_os_strerror(err));
            status = TOOL_EXIT_FAILURE;
        } else if (!tool_close_stdout()) {
            status = TOOL_EXIT_FAILURE;
        }
        free(path);
    }
    split_free(&s);
    template_free(&t);
    return status;
}
