/* Path normalization as Python's os.path.abspath does it: lexical, so
 * "a/b/../c" is "a/c" even if b is a symlink (what Python returns too). */
#include "internal.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

bool tmpf__is_normal_abspath(const char *p)
{
    if (p[0] != '/')
        return false;
    if (p[1] == '\0')
        return true;
    for (const char *c = p; *c; c++) {
        if (c[0] != '/')
            continue;
        /* c points at a separator: the component after it must be real. */
        if (c[1] == '/' || c[1] == '\0')
            return false;
        if (c[1] == '.' && (c[2] == '/' || c[2] == '\0'))
            return false;
        if (c[1] == '.' && c[2] == '.' && (c[3] == '/' || c[3] == '\0'))
            return false;
    }
    return true;
}

char *tmpf__abspath(const char *path)
{
    if (!path || !*path) {
        errno = ENOENT;
        return NULL;
    }
    char *cwd = NULL;
    size_t cwd_len = 0;
    if (path[0] != '/') {
        cwd = tmpf__os_getcwd();
        if (!cwd)
            return NULL;
        cwd_len = strlen(cwd);
    }
    size_t n = cwd_len + 1 + strlen(path) + 1;
    char *joined = tmpf__malloc(n);
    if (!joined) {
        free(cwd);
        return NULL;
    }
    if (cwd) {
        memcpy(joined, cwd, cwd_len);
        joined[cwd_len] = '/';
        strcpy(joined + cwd_len + 1, path);
        free(cwd);
    } else {
        strcpy(joined, path);
    }

    /* Rewrite in place: out never overtakes in. */
    char *out = joined;
    const char *in = joined;
    while (*in) {
        while (*in == '/')
            in++;
        const char *end = in;
        while (*end && *end != '/')
            end++;
        size_t len = (size_t)(end - in);
        if (len == 0 || (len == 1 && in[0] == '.')) {
            /* nothing */
        } else if (len == 2 && in[0] == '.' && in[1] == '.') {
            while (out > joined && *--out != '/')
                ;
        } else {
            *out++ = '/';
            memmove(out, in, len);
            out += len;
        }
        in = end;
    }
    if (out == joined)
        *out++ = '/';
    *out = '\0';
    return joined;
}

char *tmpf__dirname(const char *abspath)
{
    const char *slash = strrchr(abspath, '/');
    size_t len = slash && slash != abspath ? (size_t)(slash - abspath) : 1;
    char *d = tmpf__malloc(len + 1);
    if (!d)
        return NULL;
    memcpy(d, abspath, len);
    d[len] = '\0';
    return d;
}
