/* tmpf_rmtree: argument checks and the error policy; the walk itself is a
 * platform primitive (src/unix/walk.c). */
#include "internal.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

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
    /* "a/b//" names b in "a"; "b" names b in "."; "/b" names b in "/";
     * on Windows "C:\b" names b in "C:\" and "\\srv\share\b" b in the
     * share's root: the root's own text is the parent (a root alone is
     * refused). */
    size_t root = tmpf__os_root_len(copy);
    size_t len = strlen(copy);
    while (len > root && len > 1 && tmpf__os_is_sep(copy[len - 1]))
        copy[--len] = '\0';
    char *slash = NULL;
    for (char *c = copy + root; *c; c++)
        if (tmpf__os_is_sep(*c))
            slash = c;
    const char *name = slash ? slash + 1 : copy + root;
    const char *parent = ".";
    char *root_text = NULL;
    if (slash) {
        *slash = '\0';
        parent = copy;
    } else if (root) {
        root_text = tmpf__malloc(root + 1);
        if (!root_text) {
            free(copy);
            return -1;
        }
        memcpy(root_text, copy, root);
        root_text[root] = '\0';
        parent = root_text;
    }
    /* Like rm(1): refuse a root, "." and ".." as the thing to remove. */
    if (!*name || strcmp(name, ".") == 0 || strcmp(name, "..") == 0) {
        free(root_text);
        free(copy);
        errno = EINVAL;
        return -1;
    }
    int err = tmpf__os_rmtree(parent, name);
    free(root_text);
    free(copy);
    if (err == 0 || (flags & TMPF_IGNORE_CLEANUP_ERRORS))
        return 0;
    errno = err;
    return -1;
}
