/* mktemp(1) templates, following coreutils 9.x step by step; the file
 * name helpers are gnulib's last_component, base_len and
 * file_name_concat semantics, rewritten here. */
#include "template.h"
#include "tool_os.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char default_template[] = "tmp.XXXXXXXXXX";

/* "a/b//" -> "b//", "/" -> "", "x" -> "x": leading slashes skipped,
 * trailing ones kept. */
static const char *last_component(const char *name)
{
    const char *base = name;
    while (TOOL_OS_IS_SEP(*base))
        base++;
    bool last_was_slash = false;
    for (const char *p = base; *p; p++) {
        if (TOOL_OS_IS_SEP(*p)) {
            last_was_slash = true;
        } else if (last_was_slash) {
            base = p;
            last_was_slash = false;
        }
    }
    return base;
}

/* Length without trailing slashes, but "/" stays 1. */
static size_t base_len(const char *name)
{
    size_t len = strlen(name);
    while (len > 1 && TOOL_OS_IS_SEP(name[len - 1]))
        len--;
    return len;
}

/* dir + base with exactly one '/' between, as mktemp prints it. */
static char *file_name_concat(const char *dir, const char *base)
{
    const char *dirbase = last_component(dir);
    size_t dirbaselen = base_len(dirbase);
    size_t dirlen = (size_t)(dirbase - dir) + dirbaselen;
    size_t baselen = strlen(base);
    char sep = '\0';
    if (dirbaselen) {
        if (!TOOL_OS_IS_SEP(dir[dirlen - 1]) && !TOOL_OS_IS_SEP(base[0]))
            sep = TOOL_OS_SEP;
    } else if (TOOL_OS_IS_SEP(base[0])) {
        sep = '.';
    }
    char *out = malloc(dirlen + 1 + baselen + 1);
    if (!out)
        return NULL;
    memcpy(out, dir, dirlen);
    char *p = out + dirlen;
    if (sep)
        *p++ = sep;
    memcpy(p, base, baselen + 1);
    return out;
}

enum template_error template_parse(const struct template_args *args,
                                   struct template *out, const char **bad)
{
    static const char *ignored;
    const char **badp = bad ? bad : &ignored;
    const char *tmpl = args->template ? args->template : default_template;
    bool use_dest_dir = args->use_dest_dir || !args->template;
    size_t len = strlen(tmpl);
    size_t suffix_pos;
    char *work;

    memset(out, 0, sizeof *out);
    if (args->suffix) {
        if (len == 0 || tmpl[len - 1] != 'X') {
            *badp = tmpl;
            return TEMPLATE_SUFFIX_NEEDS_X;
        }
        size_t slen = strlen(args->suffix);
        work = malloc(len + slen + 1);
        if (!work)
            return TEMPLATE_NOMEM;
        memcpy(work, tmpl, len);
        memcpy(work + len, args->suffix, slen + 1);
        suffix_pos = len;
    } else {
        work = strdup(tmpl);
        if (!work)
            return TEMPLATE_NOMEM;
        const char *x = strrchr(work, 'X');
        suffix_pos = x ? (size_t)(x - work) + 1 : len;
    }
    out->name = work; /* owned by out from here on, even on failure */

    const char *sfx = work + suffix_pos;
    if (*sfx && last_component(sfx) != sfx) {
        *badp = sfx;
        return TEMPLATE_SUFFIX_SLASH;
    }
    size_t x_count = 0;
    while (x_count < suffix_pos && work[suffix_pos - x_count - 1] == 'X')
        x_count++;
    if (x_count < 3) {
        *badp = work;
        return TEMPLATE_TOO_FEW_X;
    }

    if (use_dest_dir) {
        const char *dir;
        bool have_tmpdir = args->tmpdir && *args->tmpdir;
        bool have_dest = args->dest_dir && *args->dest_dir;
        if (args->t_option) {
            /* -t: $TMPDIR wins even over -p (mktemp's order). */
            dir = have_tmpdir ? args->tmpdir : have_dest ? args->dest_dir : "/tmp";
            if (last_component(work) != work) {
                *badp = work;
                return TEMPLATE_T_SLASH;
            }
        } else {
            dir = have_dest ? args->dest_dir : have_tmpdir ? args->tmpdir : "/tmp";
            if (TOOL_OS_IS_ABSOLUTE(work)) {
                *badp = work;
                return TEMPLATE_ABSOLUTE;
            }
        }
        char *joined = file_name_concat(dir, work);
        if (!joined)
            return TEMPLATE_NOMEM;
        size_t shift = strlen(joined) - strlen(work);
        free(work);
        out->name = joined;
        suffix_pos += shift;
    }

    out->len = strlen(out->name);
    out->suffix = suffix_pos;
    out->rand_len = x_count < TEMPLATE_RAND_MAX ? x_count : TEMPLATE_RAND_MAX;
    out->x_start = suffix_pos - out->rand_len;
    out->base = 0;
    for (size_t i = out->x_start; i > 0; i--) {
        if (TOOL_OS_IS_SEP(out->name[i - 1])) {
            out->base = i;
            break;
        }
    }
    while (out->suffix_slashes < out->len - out->suffix &&
           TOOL_OS_IS_SEP(out->name[out->len - out->suffix_slashes - 1]))
        out->suffix_slashes++;
    return TEMPLATE_OK;
}

void template_message(enum template_error e, const char *bad, char *buf, size_t n)
{
    switch (e) {
    case TEMPLATE_OK:
        snprintf(buf, n, "success");
        break;
    case TEMPLATE_NOMEM:
        snprintf(buf, n, "memory exhausted");
        break;
    case TEMPLATE_SUFFIX_NEEDS_X:
        snprintf(buf, n, "with --suffix, template '%s' must end in X", bad);
        break;
    case TEMPLATE_SUFFIX_SLASH:
        snprintf(buf, n, "invalid suffix '%s', contains directory separator", bad);
        break;
    case TEMPLATE_TOO_FEW_X:
        snprintf(buf, n, "too few X's in template '%s'", bad);
        break;
    case TEMPLATE_T_SLASH:
        snprintf(buf, n, "invalid template, '%s', contains directory separator", bad);
        break;
    case TEMPLATE_ABSOLUTE:
        snprintf(buf, n,
                 "invalid template, '%s'; with --tmpdir, it may not be absolute", bad);
        break;
    }
}

void template_free(struct template *t)
{
    free(t->name);
    t->name = NULL;
}
