/* tmpf_rmtree: argument checks and the error policy; the walk itself is a
 * platform primitive (src/unix/walk.c). */
#include "internal.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

static const char root_sep[] = {TMPF__OS_SEP, '\0'};

int tmpf_rmtree(const char *path, unsigned flags)
{
    if (!path || (flags & ~(unsigned)TMPF_IGNORE_CLEANUP_ERRORS)) {
        errno = EINVAL;
        return -1;
    }
    if (!*path) {
        errno = ENOENT;
        return -1;
    }
    char *copy = tmpf__strdup(path);
    if (!copy)
        return -1;
    /* "a/b//" names b in "a"; "b" names b in "."; "/b" names b in "/".
     * (A root longer than one separator, a drive or UNC root, comes with
     * the Windows port.) */
    size_t len = strlen(copy);
    while (len > 1 && tmpf__os_is_sep(copy[len - 1]))
        copy[--len] = '\0';
    char *slash = NULL;
    for (char *c = copy; *c; c++)
        if (tmpf__os_is_sep(*c))
            slash = c;
    const char *name = slash ? slash + 1 : copy;
    const char *parent = ".";
    if (slash == copy)
        parent = root_sep;
    else if (slash) {
        *slash = '\0';
        parent = copy;
    }
    /* Like rm(1): refuse "/", "." and ".." as the thing to remove. */
    if (!*name || strcmp(name, ".") == 0 || strcmp(name, "..") == 0) {
        free(copy);
        errno = EINVAL;
        return -1;
    }
    int err = tmpf__os_rmtree(parent, name);
    free(copy);
    if (err == 0 || (flags & TMPF_IGNORE_CLEANUP_ERRORS))
        return 0;
    errno = err;
    return -1;
}
