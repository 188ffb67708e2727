/* Path normalization as Python's os.path.abspath does it: lexical, so
 * "a/b/../c" is "a/c" even if b is a symlink (what Python returns too). */
#include "internal.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

/* Whether the component starting at c is a real name: not empty, not
 * "." and not "..". */
static bool real_component(const char *c)
{
    if (c[0] == '\0' || tmpf__os_is_sep(c[0]))
        return false;
    if (c[0] == '.' && (c[1] == '\0' || tmpf__os_is_sep(c[1])))
        return false;
    if (c[0] == '.' && c[1] == '.' && (c[2] == '\0' || tmpf__os_is_sep(c[2])))
        return false;
    return true;
}

bool tmpf__is_normal_abspath(const char *p)
{
    size_t root = tmpf__os_root_len(p);
    if (!root || tmpf__os_root_on_current_drive(p) || !tmpf__os_is_sep(p[root - 1]))
        return false;
    /* Separators as written (Windows: '\\', never '/'). */
    for (const char *c = p; *c; c++)
        if (tmpf__os_is_sep(*c) && *c != TMPF__OS_SEP)
            return false;
    if (p[root] == '\0')
        return true;
    if (!real_component(p + root))
        return false;
    /* After every separator, a real component. */
    for (const char *c = p + root; *c; c++)
        if (tmpf__os_is_sep(*c) && !real_component(c + 1))
            return false;
    return true;
}

char *tmpf__abspath(const char *path)
{
    if (!path || !*path) {
        errno = ENOENT;
        return NULL;
    }
    /* A relative path goes below the current directory; a root that is
     * only the current drive's (Windows' "\x") gets that drive; a
     * drive-relative "C:x" goes below drive C's current directory. */
    size_t root = tmpf__os_root_len(path);
    bool borrow = root && tmpf__os_root_on_current_drive(path);
    char drive = root ? 0 : tmpf__os_drive_relative(path);
    if (drive)
        path += 2; /* "C:" */
    char *cwd = NULL;
    size_t cwd_len = 0;
    if (!root || borrow) {
        cwd = tmpf__os_getcwd(drive);
        if (!cwd)
            return NULL;
        cwd_len = borrow ? tmpf__os_drive_len(cwd) : strlen(cwd);
    }
    /* +3: the separator after cwd, one closing a root that lacks it
     * ("\\server\share"), and the NUL. */
    size_t n = cwd_len + strlen(path) + 3;
    char *joined = tmpf__malloc(n);
    if (!joined) {
        free(cwd);
        return NULL;
    }
    if (cwd) {
        memcpy(joined, cwd, cwd_len);
        size_t at = cwd_len;
        if (!borrow)
            joined[at++] = TMPF__OS_SEP;
        strcpy(joined + at, path);
        free(cwd);
    } else {
        strcpy(joined, path);
    }

    /* The root as it is, its separators written as TMPF__OS_SEP and one
     * closing it; then the components, rewritten in place (out never
     * overtakes in), ".." never climbing above the root. */
    root = tmpf__os_root_len(joined);
    for (size_t i = 0; i < root; i++)
        if (tmpf__os_is_sep(joined[i]))
            joined[i] = TMPF__OS_SEP;
    if (root == 0 || !tmpf__os_is_sep(joined[root - 1])) {
        /* Only at the end of the string: a root ends at a separator. */
        memmove(joined + root + 1, joined + root, strlen(joined + root) + 1);
        joined[root++] = TMPF__OS_SEP;
    }
    char *base = joined + root;
    char *out = base;
    const char *in = base;
    while (*in) {
        while (tmpf__os_is_sep(*in))
            in++;
        const char *end = in;
        while (*end && !tmpf__os_is_sep(*end))
            end++;
        size_t len = (size_t)(end - in);
        if (len == 0 || (len == 1 && in[0] == '.')) {
            /* nothing */
        } else if (len == 2 && in[0] == '.' && in[1] == '.') {
            while (out > base && !tmpf__os_is_sep(*--out))
                ;
        } else {
            if (out > base)
                *out++ = TMPF__OS_SEP;
            memmove(out, in, len);
            out += len;
        }
        in = end;
    }
    *out = '\0';
    return joined;
}

char *tmpf__dirname(const char *abspath)
{
    const char *slash = NULL;
    for (const char *c = abspath; *c; c++)
        if (tmpf__os_is_sep(*c))
            slash = c;
    size_t root = tmpf__os_root_len(abspath);
    size_t len = slash && (size_t)(slash - abspath) >= root ? (size_t)(slash - abspath) : root;
    char *d = tmpf__malloc(len + 1);
    if (!d)
        return NULL;
    memcpy(d, abspath, len);
    d[len] = '\0';
    return d;
}
