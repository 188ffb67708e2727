/* Path syntax of Windows, for the portable files (internal.h includes it;
 * the build puts src/win/ on the include path there). Names are written
 * with '\'; '/' is read as a separator too. Roots: "C:\", "\" (the current
 * drive's), "\\server\share\", and their verbatim forms "\\?\C:\" and
 * "\\?\UNC\server\share\". */
#ifndef TMPF_OS_PATH_H
#define TMPF_OS_PATH_H

#include <stdbool.h>
#include <stddef.h>

/* The separator written between components. */
#define TMPF__OS_SEP '\\'
/* What a prefix or suffix may not contain: a separator of either kind, or
 * ':' (it would name an alternate data stream). A suffix ending in '.' or
 * a space is refused by tmpf__os_name_end_ok. */
#define TMPF__OS_NAME_FORBIDDEN "/\\:"

/* Whether a name may end in c: not in '.' or ' ' (Win32 strips them from
 * a path, a verbatim path keeps them: one name would mean two files). */
static inline bool tmpf__os_name_end_ok(char c) { return c != '.' && c != ' '; }

/* Whether c separates components. */
static inline bool tmpf__os_is_sep(char c) { return c == '/' || c == '\\'; }

static inline bool tmpf__os_is_drive_letter(char c)
{
    return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z');
}

/* Length of "server\share\" (or up to the end) at p: two components. */
static inline size_t tmpf__os_unc_len(const char *p)
{
    size_t n = 0;
    for (int part = 0; part < 2 && p[n]; part++) {
        while (p[n] && !tmpf__os_is_sep(p[n]))
            n++;
        if (p[n])
            n++; /* the separator after it */
    }
    return n;
}

/* Length of the root at the start of p (0 for a relative path, and for a
 * drive-relative "C:x", which has no root of its own). The root ends in a
 * separator, or is the whole of p ("\\server\share"). */
static inline size_t tmpf__os_root_len(const char *p)
{
    if (tmpf__os_is_sep(p[0]) && tmpf__os_is_sep(p[1])) {
        /* "\\?\" or "\\.\": verbatim or device paths. */
        if ((p[2] == '?' || p[2] == '.') && tmpf__os_is_sep(p[3])) {
            const char *q = p + 4;
            if ((q[0] == 'U' || q[0] == 'u') && (q[1] == 'N' || q[1] == 'n') &&
                (q[2] == 'C' || q[2] == 'c') && tmpf__os_is_sep(q[3]))
                return 8 + tmpf__os_unc_len(q + 4);
            if (tmpf__os_is_drive_letter(q[0]) && q[1] == ':' && tmpf__os_is_sep(q[2]))
                return 7;
            return 4;
        }
        return 2 + tmpf__os_unc_len(p + 2);
    }
    if (tmpf__os_is_sep(p[0]))
        return 1;
    if (tmpf__os_is_drive_letter(p[0]) && p[1] == ':' && tmpf__os_is_sep(p[2]))
        return 3;
    return 0;
}

/* Whether p's root is the current drive's root alone ("\\x"): the drive
 * comes from the current directory. */
static inline bool tmpf__os_root_on_current_drive(const char *p)
{
    return tmpf__os_root_len(p) == 1;
}

/* The drive letter of a drive-relative path ("C:x", "C:": relative to
 * that drive's current directory, as GetFullPathNameW and Python's abspath
 * take it), else 0. */
static inline char tmpf__os_drive_relative(const char *p)
{
    return tmpf__os_is_drive_letter(p[0]) && p[1] == ':' && !tmpf__os_is_sep(p[2]) ? p[0]
                                                                                   : 0;
}

/* The length of the drive part of absolute path p: "C:", "\\server\share",
 * "\\?\C:", "\\?\UNC\server\share" (its root without the closing
 * separator). */
static inline size_t tmpf__os_drive_len(const char *p)
{
    size_t n = tmpf__os_root_len(p);
    return n && tmpf__os_is_sep(p[n - 1]) ? n - 1 : n;
}

#endif /* TMPF_OS_PATH_H */
