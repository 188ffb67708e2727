/* Scopes: many temporaries, one cleanup. (Placeholder until issue 7: a
 * request for a scope or TMPF_AT_EXIT fails with ENOSYS so that nothing is
 * silently left uncleaned.) */
#include "internal.h"

#include <errno.h>

int tmpf__scope_add(const tmpf__opts *r, tmpf_kind kind, const char *path,
                    void *obj, struct tmpf__scope_entry **ret)
{
    (void)kind;
    (void)path;
    (void)obj;
    *ret = NULL;
    if (r->scope || (r->flags & TMPF_AT_EXIT)) {
        errno = ENOSYS;
        return -1;
    }
    return 0;
}

void tmpf__scope_forget(struct tmpf__scope_entry *e) { (void)e; }

tmpf_scope *tmpf_scope_new(unsigned flags)
{
    (void)flags;
    errno = ENOSYS;
    return NULL;
}

int tmpf_scope_cleanup(tmpf_scope *s)
{
    (void)s;
    return 0;
}
