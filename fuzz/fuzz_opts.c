/*
 * Option validation: prefix, suffix, rand_len, flags and perm from the fuzz
 * bytes go to one of the creators in a scratch directory. Invariants:
 * EINVAL exactly when SPEC says ('/' in prefix or suffix, rand_len > 64,
 * unknown flags; perm beyond 07777 as the header says), ENAMETOOLONG only
 * for a name longer than NAME_MAX, otherwise success; nothing left behind.
 *
 * Input: [creator][rand_len][flags][perm lo][perm hi] prefix \0 suffix
 */
#include "fuzz_common.h"

#include <errno.h>
#include <stdint.h>
#include <sys/stat.h>
#include <tmpf.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void remove_path(const char *p)
{
    if (unlink(p) != 0)
        rmdir(p);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 5 || size > 600)
        return 0;
    const char *dir = fuzz_dir();
    unsigned creator = data[0] % 7;
    unsigned rand_len = data[1];
    unsigned flags = data[2]; /* bits 0-7 valid (bit 7: TMPF_LOCK) */
    if ((data[2] & 0x81) == 0x81)
        flags |= 1u << 30; /* and a high unknown one */
    unsigned perm = (unsigned)data[3] | ((unsigned)data[4] << 8);
    if (data[4] & 0x80)
        perm = 0; /* the default, often */
    char text[600];
    memcpy(text, data + 5, size - 5);
    text[size - 5] = 0;
    const char *prefix = text;
    const char *suffix = text + strlen(text) < text + (size - 5)
                             ? text + strlen(text) + 1
                             : NULL;
    tmpf_opts o = {.dir = dir, .prefix = prefix, .suffix = suffix,
                   .flags = flags, .perm = perm, .rand_len = rand_len,
                   .max_size = 16};

    size_t plen = strlen(prefix), slen = suffix ? strlen(suffix) : 0;
    bool invalid = strchr(prefix, '/') || (suffix && strchr(suffix, '/')) ||
                   rand_len > TMPF_RAND_LEN_MAX ||
                   (flags & ~(unsigned)(0x7f | TMPF_LOCK | TMPF_ACROSS_FS | TMPF_KEEP_XATTRS |
                                 TMPF_REPLACE_SPECIAL)) ||
                   perm > 07777;
    size_t name_len = plen + (rand_len ? rand_len : 8) + slen;
    /* owner write missing: as root it still works; otherwise creation
     * itself fails (EACCES) for directories we must descend; skip those */
    if (!invalid && geteuid() != 0 && (perm & 0700) != 0700 && perm)
        return 0;

    char *path = NULL;
    tmpf_file *f = NULL;
    tmpf_dir *d = NULL;
    int fd = -1;
    bool ok;
    errno = 0;
    switch (creator) {
    case 0:
        fd = tmpf_mkstemp(&o, &path);
        ok = fd >= 0;
        break;
    case 1:
        ok = (path = tmpf_mkdtemp(&o)) != NULL;
        break;
    case 2:
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wdeprecated-declarations"
        ok = (path = tmpf_mktemp(&o)) != NULL;
#pragma GCC diagnostic pop
        break;
    case 3:
        ok = (f = tmpf_temporary_file(&o)) != NULL;
        break;
    case 4:
        ok = (f = tmpf_named_temporary_file(&o)) != NULL;
        break;
    case 5:
        ok = (f = tmpf_spooled_temporary_file(&o)) != NULL;
        if (ok) /* past max_size: rolls over with the same options */
            ok = tmpf_file_write(f, "0123456789abcdefg", 17) == 17;
        break;
    default:
        ok = (d = tmpf_temporary_directory(&o)) != NULL;
        break;
    }
    int err = errno;
    if (invalid) {
        FUZZ_CHECK(!ok && err == EINVAL);
    } else if (name_len > 255) {
        /* mktemp only makes a name; an anonymous file (O_TMPFILE) and a
         * spooled one (rolls over to an anonymous file) have no name */
        if (creator == 2 || creator == 3 || creator == 5)
            FUZZ_CHECK(ok || err == ENAMETOOLONG);
        else
            FUZZ_CHECK(!ok && err == ENAMETOOLONG);
    } else {
        if (!ok)
            fprintf(stderr, "creator %u failed: %s\n", creator, strerror(err));
        FUZZ_CHECK(ok);
    }
    if (fd >= 0)
        close(fd);
    if (path) {
        if (creator != 2)
            remove_path(path);
        free(path);
    }
    if (f) {
        char *keep = NULL;
        if ((flags & TMPF_KEEP) && tmpf_file_path(f))
            keep = strdup(tmpf_file_path(f));
        tmpf_file_cleanup(f);
        if (keep)
            remove_path(keep);
        free(keep);
    }
    if (d) {
        char *keep = (flags & TMPF_KEEP) ? strdup(tmpf_dir_path(d)) : NULL;
        tmpf_dir_cleanup(d);
        if (keep)
            remove_path(keep);
        free(keep);
    }
    FUZZ_CHECK(count_entries(dir) == 0);
    return 0;
}
