/* Shared by the libFuzzer targets: a scratch directory on /dev/shm made
 * once per process, and a check that aborts (a finding) when it fails. */
#ifndef TMPF_FUZZ_COMMON_H
#define TMPF_FUZZ_COMMON_H

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "../tests/entries.h"

#define FUZZ_CHECK(cond)                                                       \
    do {                                                                       \
        if (!(cond)) {                                                         \
            fprintf(stderr, "%s:%d: FUZZ_CHECK(%s) failed\n", __FILE__,        \
                    __LINE__, #cond);                                          \
            abort();                                                           \
        }                                                                      \
    } while (0)

static char fuzz_scratch[256];

static void fuzz_remove_scratch(void) { rmdir(fuzz_scratch); }

static inline const char *fuzz_dir(void)
{
    if (!fuzz_scratch[0]) {
        snprintf(fuzz_scratch, sizeof fuzz_scratch, "%s/tmpf-fuzz-XXXXXX",
                 access("/dev/shm", W_OK) == 0 ? "/dev/shm" : "/tmp");
        FUZZ_CHECK(mkdtemp(fuzz_scratch) != NULL);
        atexit(fuzz_remove_scratch); /* empty unless a check failed */
    }
    return fuzz_scratch;
}

#endif
