/* Option checking shared by every creator. Rejecting a separator ('/'; the
 * platform's TMPF__OS_NAME_FORBIDDEN) in prefix and suffix closes the
 * path-traversal hole Python leaves open. */
#include "internal.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

int tmpf__opts_resolve(const tmpf_opts *opts, tmpf__opts *r)
{
    static const tmpf_opts defaults;
    const tmpf_opts *o = opts ? opts : &defaults;

    memset(r, 0, sizeof *r);
    r->prefix = o->prefix ? o->prefix : tmpf_gettempprefix();
    r->suffix = o->suffix ? o->suffix : "";
    /* One pass each: the length up to a separator is the length if none. */
    r->prefix_len = strcspn(r->prefix, TMPF__OS_NAME_FORBIDDEN);
    r->suffix_len = strcspn(r->suffix, TMPF__OS_NAME_FORBIDDEN);
    if (r->prefix[r->prefix_len] || r->suffix[r->suffix_len] ||
        (r->suffix_len && !tmpf__os_name_end_ok(r->suffix[r->suffix_len - 1])) ||
        o->rand_len > TMPF_RAND_LEN_MAX || (o->flags & ~TMPF__ALL_FLAGS) ||
        o->perm > 07777) {
        errno = EINVAL;
        return -1;
    }
    r->flags = o->flags;
    r->perm = o->perm;
    r->rand_len = o->rand_len ? o->rand_len : TMPF_RAND_LEN_DEFAULT;
    r->max_size = o->max_size;
    r->scope = o->scope;

    if (!o->dir) {
        r->dir = tmpf_gettempdir();
        if (!r->dir)
            return -1;
    } else if (tmpf__is_normal_abspath(o->dir)) {
        r->dir = o->dir;
    } else {
        r->dir_owned = tmpf__abspath(o->dir);
        if (!r->dir_owned)
            return -1;
        r->dir = r->dir_owned;
    }
    r->dir_len = strlen(r->dir);
    return 0;
}

void tmpf__opts_done(tmpf__opts *r)
{
    /* Called on error paths too: keep their errno. */
    if (r->dir_owned) {
        int saved = errno;
        free(r->dir_owned);
        r->dir_owned = NULL;
        errno = saved;
    }
}
