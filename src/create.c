/* The one creation loop behind every kind of temporary (CPython's
 * _mkstemp_inner, Rust tempfile's create_helper): build a name, try it,
 * and on EEXIST try another, at most TMPF_TMP_MAX times. */
#include "internal.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

int tmpf__create(const tmpf__opts *r, tmpf__try_fn try_fn, void *ctx,
                 char **ret_path)
{
    /* "/" + name when dir is "/" must not give "//name": no separator
     * after a directory that is a root and nothing more. (persist.c's side
     * names rely on exactly one otherwise, even after "a/".) */
    size_t sep = r->dir_len == tmpf__os_root_len(r->dir) ? 0 : 1;
    size_t len = r->dir_len + sep + r->prefix_len + r->rand_len + r->suffix_len;
    char *path = tmpf__malloc(len + 1);
    if (!path)
        return -1;
    char *p = path;
    memcpy(p, r->dir, r->dir_len);
    p += r->dir_len;
    if (sep)
        *p++ = TMPF__OS_SEP;
    memcpy(p, r->prefix, r->prefix_len);
    p += r->prefix_len;
    char *random_part = p;
    memcpy(p + r->rand_len, r->suffix, r->suffix_len + 1);

    for (int attempt = 0; attempt < TMPF_TMP_MAX; attempt++) {
        if (tmpf__random_chars(random_part, r->rand_len) != 0)
            break;
        int result = try_fn(path, ctx);
        if (result >= 0) {
            if (ret_path)
                *ret_path = path;
            else
                free(path);
            return result;
        }
        if (errno != EEXIST)
            break;
    }
    int saved = errno;
    free(path);
    errno = saved;
    return -1;
}

struct file_try {
    unsigned perm;
    unsigned flags;
};

static int try_file(const char *path, void *ctx)
{
    const struct file_try *t = ctx;
    return tmpf__os_create_file(path, t->perm, t->flags);
}

int tmpf__create_file(const tmpf__opts *r, unsigned perm, char **ret_path)
{
    struct file_try t = {perm, r->flags};
    return tmpf__create(r, try_file, &t, ret_path);
}

static int try_dir(const char *path, void *ctx)
{
    return tmpf__os_create_dir(path, *(const unsigned *)ctx);
}

int tmpf__create_dir(const tmpf__opts *r, unsigned perm, char **ret_path)
{
    return tmpf__create(r, try_dir, &perm, ret_path);
}
