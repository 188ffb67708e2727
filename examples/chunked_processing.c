/*
 * Processing a large file in chunks inside a temporary directory (seed 002,
 * "Pattern 1: Processing Large Files in Chunks"):
 *
 *   temp_dir = tempfile.mkdtemp(prefix="csv_processing_")
 *   try:
 *       ... split input.csv into temp_dir/chunk_NNNN.csv, header in each ...
 *       ... process every chunk ...
 *   finally:
 *       shutil.rmtree(temp_dir)
 *
 * In C the directory is a tmpf_dir: on POSIX chunk files are made with
 * openat() relative to tmpf_dir_fd(), so they land in the right place even
 * if the directory's path is renamed (Windows has no openat: there they are
 * opened by path below tmpf_dir_path()), and tmpf_dir_cleanup() removes the whole tree
 * without ever following a symlink out of it. The program processes a
 * generated CSV of ROWS rows (doubling every value), combines the processed
 * chunks, checks the combined result against the input, and checks that the
 * directory is gone afterwards.
 */
#include <tmpf.h>

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

enum { ROWS = 2500, CHUNK_ROWS = 1000 };
static const char header[] = "id,value\n";

static void fail(const char *what)
{
    fprintf(stderr, "chunked_processing: %s: %s\n", what, strerror(errno));
}

#ifdef _WIN32
#define PATH_SEP '\\'
#define CLOEXEC_MODE ""
/* Windows: a directory descriptor cannot anchor an open, so the working
 * directory is named by its path (tmpf_dir_path) and name opened below it. */
static const char *work_dir;

static int open_fd_in(int dfd, const char *name, int flags)
{
    (void)dfd;
    char path[4096];
    snprintf(path, sizeof path, "%s\\%s", work_dir, name);
    return open(path, flags | O_BINARY, 0600);
}

static int unlink_in(int dfd, const char *name)
{
    (void)dfd;
    char path[4096];
    snprintf(path, sizeof path, "%s\\%s", work_dir, name);
    return unlink(path);
}
#else
#define PATH_SEP '/'
#define CLOEXEC_MODE "e" /* glibc, musl and the BSDs: O_CLOEXEC */
static int open_fd_in(int dfd, const char *name, int flags)
{
    return openat(dfd, name, flags | O_CLOEXEC, 0600);
}

static int unlink_in(int dfd, const char *name)
{
    return unlinkat(dfd, name, 0);
}
#endif

/* Opens name inside the directory dfd as a stdio stream. */
static FILE *open_in(int dfd, const char *name, int flags, const char *mode)
{
    int fd = open_fd_in(dfd, name, flags);
    if (fd < 0)
        return NULL;
    FILE *fp = fdopen(fd, mode);
    if (!fp)
        close(fd);
    return fp;
}

/* Writes the input: a header and ROWS lines "id,value". */
static int make_input(const char *path)
{
    FILE *fp = fopen(path, "w" CLOEXEC_MODE);
    if (!fp)
        return -1;
    fputs(header, fp);
    for (int i = 1; i <= ROWS; i++)
        fprintf(fp, "%d,%d\n", i, i * 7 % 1000);
    return fclose(fp);
}

/* Splits input into chunk_0000.csv, chunk_0001.csv, ... inside dfd, each
 * starting with the header. Returns the number of chunks, or -1. */
static int split(const char *input, int dfd)
{
    FILE *in = fopen(input, "r" CLOEXEC_MODE);
    if (!in)
        return -1;
    char line[256];
    int chunks = -1;
    if (!fgets(line, sizeof line, in) || strcmp(line, header) != 0) {
        errno = EINVAL;
        goto out;
    }
    for (int n = 0;; n++) {
        char name[32];
        snprintf(name, sizeof name, "chunk_%04d.csv", n);
        FILE *chunk = open_in(dfd, name, O_WRONLY | O_CREAT | O_EXCL, "w");
        if (!chunk)
            goto out;
        fputs(header, chunk);
        int written = 0;
        while (written < CHUNK_ROWS && fgets(line, sizeof line, in)) {
            fputs(line, chunk);
            written++;
        }
        if (fclose(chunk) != 0)
            goto out;
        if (written == 0) { /* no more data: drop the empty chunk */
            if (unlink_in(dfd, name) != 0)
                goto out;
            chunks = n;
            break;
        }
        printf("created %s with %d rows\n", name, written);
    }
out:
    fclose(in);
    return chunks;
}

/* Processes chunk n: doubles every value into out_NNNN.csv. Returns the
 * number of rows processed, or -1. */
static int process(int dfd, int n)
{
    char in_name[32], out_name[32], line[256];
    snprintf(in_name, sizeof in_name, "chunk_%04d.csv", n);
    snprintf(out_name, sizeof out_name, "out_%04d.csv", n);
    FILE *in = open_in(dfd, in_name, O_RDONLY, "r");
    if (!in)
        return -1;
    FILE *out = open_in(dfd, out_name, O_WRONLY | O_CREAT | O_EXCL, "w");
    if (!out) {
        fclose(in);
        return -1;
    }
    int rows = 0;
    if (fgets(line, sizeof line, in))
        fputs(line, out); /* header */
    int id, value;
    while (fgets(line, sizeof line, in) && sscanf(line, "%d,%d", &id, &value) == 2) {
        fprintf(out, "%d,%d\n", id, value * 2);
        rows++;
    }
    int rc = ferror(in) ? -1 : rows;
    fclose(in);
    if (fclose(out) != 0)
        rc = -1;
    return rc;
}

/* Combines out_*.csv into one result (header once) and checks it: every id
 * 1..ROWS in order with its value doubled. Returns 0 if right. */
static int combine_and_check(int dfd, int chunks)
{
    FILE *result = open_in(dfd, "result.csv", O_RDWR | O_CREAT | O_EXCL, "w+");
    if (!result)
        return -1;
    fputs(header, result);
    char line[256];
    for (int n = 0; n < chunks; n++) {
        char name[32];
        snprintf(name, sizeof name, "out_%04d.csv", n);
        FILE *part = open_in(dfd, name, O_RDONLY, "r");
        if (!part) {
            fclose(result);
            return -1;
        }
        if (fgets(line, sizeof line, part)) /* skip its header */
            while (fgets(line, sizeof line, part))
                fputs(line, result);
        fclose(part);
    }
    rewind(result);
    int rows = 0, bad = 0;
    if (!fgets(line, sizeof line, result) || strcmp(line, header) != 0)
        bad++;
    int id, value;
    while (fgets(line, sizeof line, result) && sscanf(line, "%d,%d", &id, &value) == 2) {
        rows++;
        if (id != rows || value != (rows * 7 % 1000) * 2)
            bad++;
    }
    fclose(result);
    if (rows != ROWS || bad) {
        fprintf(stderr, "chunked_processing: result has %d rows (want %d), %d wrong\n",
                rows, ROWS, bad);
        errno = EPROTO;
        return -1;
    }
    printf("combined %d rows from %d chunks: all correct\n", rows, chunks);
    return 0;
}

int main(void)
{
    int status = 1;
    char *where = NULL;
    tmpf_dir *d = tmpf_temporary_directory(&(tmpf_opts){.prefix = "csv_processing_"});
    if (!d) {
        fail("tmpf_temporary_directory");
        return 1;
    }
    where = strdup(tmpf_dir_path(d));
    int dfd = tmpf_dir_fd(d); /* owned by d */
    if (!where || dfd < 0) {
        fail("setting up");
        goto out;
    }
    printf("working in %s\n", where);
#ifdef _WIN32
    work_dir = where;
#endif

    /* The "large input" sits next to the work; in real code it is yours. */
    char input[4096];
    snprintf(input, sizeof input, "%s%cinput.csv", where, PATH_SEP);
    if (make_input(input) != 0) {
        fail("writing the input");
        goto out;
    }
    int chunks = split(input, dfd);
    if (chunks < 0) {
        fail("splitting");
        goto out;
    }
    int total = 0;
    for (int n = 0; n < chunks; n++) {
        int rows = process(dfd, n);
        if (rows < 0) {
            fail("processing");
            goto out;
        }
        total += rows;
    }
    if (total != ROWS || chunks != (ROWS + CHUNK_ROWS - 1) / CHUNK_ROWS) {
        fprintf(stderr, "chunked_processing: %d rows in %d chunks\n", total, chunks);
        goto out;
    }
    if (combine_and_check(dfd, chunks) != 0) {
        fail("combining");
        goto out;
    }
    status = 0;
out:
    /* The `finally:` — removes every chunk, the input and the result. */
    if (tmpf_dir_cleanup(d) != 0) {
        fail("tmpf_dir_cleanup");
        status = 1;
    }
    if (where && (access(where, F_OK) == 0 || errno != ENOENT)) {
        fprintf(stderr, "chunked_processing: %s still exists\n", where);
        status = 1;
    } else if (where && status == 0) {
        printf("cleaned up %s\n", where);
    }
    free(where);
    return status;
}
