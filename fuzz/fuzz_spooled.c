/*
 * A spooled file driven by a random operation sequence, checked step by
 * step against a plain file (open/read/write/lseek/ftruncate): the same
 * results, the same position, and at the end the same bytes. max_size
 * comes from the input, so rollover happens mid-sequence; the stdio view
 * is mixed in. Input: [max_size][ops...], each op 4 bytes.
 */
#include "fuzz_common.h"

#include <errno.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <stdbool.h>
#include <stdint.h>
#include <tmpf.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define LIMIT (64 * 1024) /* keep sizes small: fast iterations */

static void same_content(tmpf_file *f, int fd)
{
    static char a[LIMIT * 2 + 512], b[LIMIT * 2 + 512];
    FUZZ_CHECK(tmpf_file_flush(f) == 0);
    int64_t pos = tmpf_file_tell(f);
    FUZZ_CHECK(tmpf_file_seek(f, 0, SEEK_SET) == 0);
    ssize_t na = 0, r;
    while ((r = tmpf_file_read(f, a + na, sizeof a - (size_t)na)) > 0)
        na += r;
    FUZZ_CHECK(r == 0);
    ssize_t nb = pread(fd, b, sizeof b, 0);
    FUZZ_CHECK(na == nb && memcmp(a, b, (size_t)na) == 0);
    FUZZ_CHECK(tmpf_file_seek(f, pos, SEEK_SET) == pos);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 1)
        return 0;
    const char *dir = fuzz_dir();
    tmpf_opts o = {.dir = dir, .max_size = (size_t)data[0] * 64};
    tmpf_file *f = tmpf_spooled_temporary_file(&o);
    FUZZ_CHECK(f != NULL);
    char ref[300];
    snprintf(ref, sizeof ref, "%s/reference", dir);
    int fd = open(ref, O_RDWR | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
    FUZZ_CHECK(fd >= 0);
    static char buf[LIMIT], rbuf[LIMIT], pbuf[LIMIT];
    FILE *s = NULL;
    bool debug = getenv("FUZZ_DEBUG") != NULL;

    for (size_t i = 1; i + 4 <= size; i += 4) {
        uint8_t op = data[i] % 9;
        size_t n = ((size_t)data[i + 1] << 8 | data[i + 2]) % LIMIT;
        uint8_t fill = data[i + 3];
        switch (op) {
        case 0: { /* write */
            memset(buf, fill, n);
            ssize_t w1 = tmpf_file_write(f, buf, n);
            ssize_t w2 = write(fd, buf, n);
            FUZZ_CHECK(w1 == w2);
            break;
        }
        case 1: { /* read */
            ssize_t r1 = tmpf_file_read(f, rbuf, n);
            ssize_t r2 = read(fd, pbuf, n);
            FUZZ_CHECK(r1 == r2);
            FUZZ_CHECK(r1 < 0 || memcmp(rbuf, pbuf, (size_t)r1) == 0);
            break;
        }
        case 2: case 3: { /* seek: signed offset, any whence */
            int whence = fill % 3;
            int64_t off = (int64_t)n - (fill & 0x80 ? LIMIT / 2 : 0);
            errno = 0;
            int64_t p1 = tmpf_file_seek(f, off, whence);
            int e1 = errno;
            errno = 0;
            off_t p2 = lseek(fd, (off_t)off, whence);
            int e2 = errno;
            FUZZ_CHECK(p1 == (int64_t)p2);
            FUZZ_CHECK(p1 >= 0 || e1 == e2);
            break;
        }
        case 4: { /* truncate */
            int r1 = tmpf_file_truncate(f, (int64_t)n);
            int r2 = ftruncate(fd, (off_t)n);
            FUZZ_CHECK(r1 == r2);
            break;
        }
        case 5: /* rollover: contents and position unchanged */
            FUZZ_CHECK(tmpf_file_rollover(f) == 0);
            FUZZ_CHECK(tmpf_file_rolled(f));
            break;
        case 6: /* tell */
            FUZZ_CHECK(tmpf_file_tell(f) == (int64_t)lseek(fd, 0, SEEK_CUR));
            break;
        case 7: { /* through the stdio view, then flushed */
            if (!s)
                s = tmpf_file_stream(f);
            FUZZ_CHECK(s != NULL);
            size_t k = n % 512;
            memset(buf, fill, k);
            FUZZ_CHECK(fwrite(buf, 1, k, s) == k);
            FUZZ_CHECK(tmpf_file_flush(f) == 0);
            FUZZ_CHECK(write(fd, buf, k) == (ssize_t)k);
            break;
        }
        default:
            same_content(f, fd);
            break;
        }
        if (debug)
            fprintf(stderr, "op %u n %zu fill %u: tell %lld / %lld, rolled %d fds %d %d\n",
                    op, n, fill, (long long)tmpf_file_tell(f),
                    (long long)lseek(fd, 0, SEEK_CUR), tmpf_file_rolled(f), tmpf_file_fileno(f), fd);
        FUZZ_CHECK(tmpf_file_tell(f) == (int64_t)lseek(fd, 0, SEEK_CUR));
        struct stat st; /* bound the work */
        if (fstat(fd, &st) != 0 || st.st_size > 2 * LIMIT)
            break;
    }
    same_content(f, fd);
    FUZZ_CHECK(tmpf_file_cleanup(f) == 0);
    close(fd);
    unlink(ref);
    FUZZ_CHECK(count_entries(dir) == 0);
    return 0;
}
