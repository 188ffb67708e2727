/* count_entries, shared by the tests (harness.h) and the fuzz targets
 * (fuzz/fuzz_common.h), which do not use the test harness. */
#ifndef TMPF_TESTS_ENTRIES_H
#define TMPF_TESTS_ENTRIES_H

#include <dirent.h>
#include <string.h>

/* Number of entries in a directory (not counting . and ..), -1 on error.
 * On Windows an anonymous file has a hidden name while open ("tmpf-anon-"
 * + random, delete-on-close: src/win/os.c), as no unnamed file exists
 * there; it is not counted, as POSIX's unnamed file has no entry. */
static inline int count_entries(const char *dir)
{
    DIR *d = opendir(dir);
    if (!d)
        return -1;
    int n = 0;
    struct dirent *e;
    while ((e = readdir(d)))
        if (strcmp(e->d_name, ".") && strcmp(e->d_name, "..")
#ifdef _WIN32
            && strncmp(e->d_name, "tmpf-anon-", 10) != 0
#endif
        )
            n++;
    closedir(d);
    return n;
}

#endif
