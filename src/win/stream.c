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

/* ISO C leaves fflush of an input stream undefined, and the C runtime's
 * just drops the read buffer: the shared offset stays after the
 * read-ahead. So the stream's own position is taken first and set again
 * after the flush (which writes pending output), moving the descriptor
 * back to it. */
int tmpf__os_stream_sync(FILE *s)
{
    int saved = errno;
    fpos_t pos;
    int have = fgetpos(s, &pos) == 0;
    errno = saved;
    if (fflush(s) != 0)
        return -1;
    return have && fsetpos(s, &pos) != 0 ? -1 : 0;
}
