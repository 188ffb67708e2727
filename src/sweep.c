/* tmpf_sweep: orphans of dead processes, by name shape, owner, lock and
 * age (the checks and removal of one entry: src/unix/sweep_os.c). With
 * TMPF_KEEP in the options nothing is removed: the count, and the event
 * hook's TMPF_EVENT_KEEP events, say what would be (tmpf sweep --dry-run);
 * otherwise each removal is a TMPF_EVENT_DELETE event (not counted in
 * tmpf_get_stats: these are no temporaries of this process). */
#include "internal.h"

#include <errno.h>
#include <string.h>

struct sweep {
    const tmpf__opts *r;
    long long now;
    unsigned min_age;
    bool dry_run;
    long count;
};

static bool has_shape(const tmpf__opts *r, const char *name)
{
    size_t len = strlen(name);
    if (len != r->prefix_len + r->rand_len + r->suffix_len ||
        memcmp(name, r->prefix, r->prefix_len) != 0 ||
        memcmp(name + len - r->suffix_len, r->suffix, r->suffix_len) != 0)
        return false;
    const char *random = name + r->prefix_len;
    for (size_t i = 0; i < r->rand_len; i++)
        if (!random[i] || !strchr(TMPF__ALPHABET, random[i]))
            return false;
    return true;
}

static int each(int dir_fd, const char *name, void *ctx)
{
    struct sweep *s = ctx;
    if (!has_shape(s->r, name))
        return 0;
    if (tmpf__os_sweep_entry(dir_fd, s->r->dir, name, s->now, s->min_age,
                             s->dry_run) != 1)
        return 0;
    s->count++;
    char path[4096];
    size_t dl = s->r->dir_len, nl = strlen(name);
    if (dl + 1 + nl < sizeof path) {
        memcpy(path, s->r->dir, dl);
        size_t at = dl;
        if (!(dl == tmpf__os_root_len(s->r->dir) && dl > 0))
            path[at++] = TMPF__OS_SEP;
        memcpy(path + at, name, nl + 1);
        tmpf__audit_notify(s->dry_run ? TMPF_EVENT_KEEP : TMPF_EVENT_DELETE,
                           TMPF_KIND_MKSTEMP, path);
    }
    return 0;
}

long tmpf_sweep(const tmpf_opts *opts, unsigned min_age_seconds)
{
    if (!opts || !opts->prefix || !*opts->prefix) {
        errno = EINVAL;
        return -1;
    }
    tmpf__opts r;
    if (tmpf__opts_resolve(opts, &r) != 0)
        return -1;
    struct sweep s = {&r, tmpf__os_now(), min_age_seconds,
                      (r.flags & TMPF_KEEP) != 0, 0};
    int rc = tmpf__os_list_dir(r.dir, each, &s);
    tmpf__opts_done(&r);
    return rc != 0 ? -1 : s.count;
}
