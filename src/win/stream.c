/* The stdio view of a tmpf_file on Windows: the C runtime has no cookie
 * streams (no fopencookie, no funopen), so the view is a stream on a
 * duplicate of the descriptor, which shares the file's offset; a spooled
 * file rolls over to disk first (io->fileno does that). */
#include "win.h"

#include <errno.h>
#include <io.h>
#include <stdio.h>

FILE *tmpf__os_stream_open(void *obj, const struct tmpf__stream_io *io)
{
    int fd = io->fileno(obj);
    if (fd < 0)
        return NULL;
    int copy = _dup(fd);
    if (copy < 0)
        return NULL;
    FILE *s = _fdopen(copy, "r+b");
    if (!s) {
        int saved = errno;
        _close(copy);
        errno = saved;
    }
    return s;
}
