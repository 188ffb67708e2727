/* A second, independent descriptor on an open temporary file. */
#include "../internal.h"
#include "tmpf_features.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <sys/stat.h>
#include <unistd.h>

static int open_retry(const char *path, int flags)
{
    int fd;
    do
        fd = open(path, flags | O_CLOEXEC);
    while (fd < 0 && errno == EINTR);
    return fd;
}

int tmpf__os_reopen_path(const char *path, int fd, int flags)
{
    /* O_NONBLOCK: a FIFO swapped in under the name must not hang us. */
    int nfd = open_retry(path, flags | O_NOFOLLOW | O_NONBLOCK | O_NOCTTY);
    if (nfd < 0) {
        /* A symlink now stands at the name (FreeBSD says EMLINK for a
         * refused O_NOFOLLOW). */
        if (errno == ELOOP || errno == EMLINK)
            errno = ENOENT;
        return -1;
    }
    struct stat want, got;
    if (fstat(fd, &want) != 0 || fstat(nfd, &got) != 0)
        goto fail;
    if (want.st_dev != got.st_dev || want.st_ino != got.st_ino) {
        errno = ENOENT; /* the name now leads to another file */
        goto fail;
    }
    if (fcntl(nfd, F_SETFL, flags & O_APPEND) != 0)
        goto fail;
    return nfd;
fail:
    tmpf__os_close(nfd);
    return -1;
}

int tmpf__os_reopen_fd(int fd, int flags)
{
#if TMPF_HAVE_PROC_SELF_FD
    char proc[32];
    snprintf(proc, sizeof proc, "/proc/self/fd/%d", fd);
    return open_retry(proc, flags);
#elif TMPF_HAVE_O_EMPTY_PATH
    /* FreeBSD 13.1+: openat(fd, "", O_EMPTY_PATH) opens the file behind fd
     * anew (its own file description and offset). */
    int nfd;
    do
        nfd = openat(fd, "", flags | O_EMPTY_PATH | O_CLOEXEC);
    while (nfd < 0 && errno == EINTR);
    return nfd;
#else
    /* /dev/fd/N on macOS dups (shared offset): not a reopen. */
    (void)fd;
    (void)flags;
    errno = EOPNOTSUPP;
    return -1;
#endif
}
