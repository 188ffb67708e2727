/* Path syntax of this platform, for the portable files (internal.h
 * includes it; the build puts src/<platform>/ on the include path, so a
 * Windows port provides its own os_path.h with '\\', drive letters and UNC
 * roots). Inline: the creation loop builds every name with these. POSIX:
 * one separator, one root. */
#ifndef TMPF_OS_PATH_H
#define TMPF_OS_PATH_H

#include <stdbool.h>
#include <stddef.h>

/* The separator written between components. */
#define TMPF__OS_SEP '/'
/* What a prefix or suffix may not contain: it would make the name a path
 * (Python lets "../" through; tmpf says EINVAL). */
#define TMPF__OS_NAME_FORBIDDEN "/"

/* Whether a name may end in c: any character here. */
static inline bool tmpf__os_name_end_ok(char c)
{
    (void)c;
    return true;
}

/* Whether c separates components. */
static inline bool tmpf__os_is_sep(char c) { return c == '/'; }

/* Length of the root at the start of p: 1 for "/...", 0 for a relative
 * path. The root ends in a separator (or is one). */
static inline size_t tmpf__os_root_len(const char *p) { return p[0] == '/'; }

/* Whether p's root is only the current drive's (Windows' "\\x"): never
 * here. */
static inline bool tmpf__os_root_on_current_drive(const char *p)
{
    (void)p;
    return false;
}

/* The drive letter of a drive-relative path (Windows' "C:x", "C:"),
 * else 0: never here. */
static inline char tmpf__os_drive_relative(const char *p)
{
    (void)p;
    return 0;
}

/* The length of the drive part of absolute path p (what a root on the
 * current drive borrows): none here. */
static inline size_t tmpf__os_drive_len(const char *p)
{
    (void)p;
    return 0;
}

#endif /* TMPF_OS_PATH_H */
