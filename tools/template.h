/*
 * mktemp(1) template handling, as coreutils 9.x does it, kept free of I/O
 * and of the environment so that it can be tested and fuzzed alone.
 *
 *   "tmp.XXXXXXXXXX" with --tmpdir=/var/tmp  ->  "/var/tmp/tmp.XXXXXXXXXX"
 *                                                 base  x_start    suffix
 *
 * Separators and absolute names are the system's (tool_os.h): '/' on
 * POSIX; '\' and '/' on Windows, where "C:\x" is absolute and the
 * separator written when joining is '\'.
 */
#ifndef TMPF_TOOL_TEMPLATE_H
#define TMPF_TOOL_TEMPLATE_H

#include <stdbool.h>
#include <stddef.h>

/* The longest run of X's the library can fill (TMPF_RAND_LEN_MAX); X's
 * before the last this many stay literal. */
#define TEMPLATE_RAND_MAX 64

/* What the command line said. */
struct template_args {
    const char *template; /* NULL: "tmp.XXXXXXXXXX" and --tmpdir implied */
    const char *suffix;   /* --suffix, or NULL */
    bool use_dest_dir;    /* -p, --tmpdir or -t given */
    bool t_option;        /* -t */
    const char *dest_dir; /* -p / --tmpdir argument, or NULL */
    const char *tmpdir;   /* $TMPDIR, or NULL (the caller reads it) */
};

enum template_error {
    TEMPLATE_OK,
    TEMPLATE_NOMEM,
    TEMPLATE_SUFFIX_NEEDS_X, /* --suffix given, template does not end in X */
    TEMPLATE_SUFFIX_SLASH,   /* the suffix contains a directory separator */
    TEMPLATE_TOO_FEW_X,      /* fewer than 3 X's before the suffix */
    TEMPLATE_T_SLASH,        /* -t with a '/' in the template */
    TEMPLATE_ABSOLUTE,       /* --tmpdir/-p with an absolute template */
};

struct template
{
    char *name;            /* malloc'd: the full name, X's still in it */
    size_t len;            /* strlen(name) */
    size_t base;           /* start of the last component (after the last '/') */
    size_t x_start;        /* first X that gets replaced */
    size_t rand_len;       /* X's replaced: min(X run, TEMPLATE_RAND_MAX) */
    size_t suffix;         /* start of the suffix (just after the X run) */
    size_t suffix_slashes; /* trailing '/' ending the suffix (mkdir accepts) */
};

/*
 * Builds the full name the way mktemp does (directory joined as gnulib's
 * file_name_concat: "/tmp/" + "a" is "/tmp/a", "/" + "a" is "/a").
 * On failure *bad points to the string the message should quote; it lives
 * in args or in out->name, so call template_free after using it (always
 * call template_free, on success and failure alike).
 */
enum template_error template_parse(const struct template_args *args,
                                   struct template *out, const char **bad);

/* Writes mktemp's message for e, quoting bad, into buf (size n):
 * "too few X's in template 'tmp.XX'". */
void template_message(enum template_error e, const char *bad, char *buf, size_t n);

void template_free(struct template *t);

#endif
