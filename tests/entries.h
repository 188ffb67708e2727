/* count_entries, shared by the tests (harness.h) and the fuzz targets
 * (fuzz/fuzz_common.h), which do not use the test harness. */
#ifndef TMPF_TESTS_ENTRIES_H
#define TMPF_TESTS_ENTRIES_H

#include <dirent.h>
#include <string.h>

/* Number of entries in a directory (not counting . and ..), -1 on error. */
static inline int count_entries(const char *dir)
{
    DIR *d = opendir(dir);
    if (!d)
        return -1;
    int n = 0;
    struct dirent *e;
    while ((e = readdir(d)))
        if (strcmp(e->d_name, ".") && strcmp(e->d_name, ".."))
            n++;
    closedir(d);
    return n;
}

#endif
