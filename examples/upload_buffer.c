/*
 * Buffering an upload of unknown size ("Spooled Upload Handler" of the
 * Python tempfile guide): the body arrives in chunks on a pipe; small
 * bodies stay in memory, large ones spill to an anonymous file on disk,
 * and the handler reads the result the same way in both cases.
 *
 * A child process plays the client and sends a body of pseudo-random
 * bytes in chunks of varying size; the parent buffers it, then reads it
 * back and checks size and checksum against what was sent. Exits non-zero
 * on any mismatch.
 */
#include <tmpf.h>

#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#define MAX_MEMORY (256 * 1024) /* Python's example uses 5 MB */

/* The body the client sends: a byte stream from a seed. */
static unsigned char body_byte(uint64_t *state)
{
    *state = *state * 6364136223846793005ULL + 1442695040888963407ULL;
    return (unsigned char)(*state >> 56);
}

static uint64_t fnv1a(uint64_t h, const unsigned char *p, size_t n)
{
    while (n--)
        h = (h ^ *p++) * 1099511628211ULL;
    return h;
}

#define FNV_START 14695981039346656037ULL

/* The client: writes size bytes in chunks of 1..8191 bytes, then closes. */
static void client(int out, uint64_t seed, size_t size)
{
    uint64_t state = seed;
    unsigned char chunk[8192];
    while (size) {
        size_t n = 1 + (size_t)(state >> 33) % (sizeof chunk - 1);
        if (n > size)
            n = size;
        for (size_t i = 0; i < n; i++)
            chunk[i] = body_byte(&state);
        for (size_t done = 0; done < n;) {
            ssize_t w = write(out, chunk + done, n - done);
            if (w < 0 && errno != EINTR)
                _exit(1);
            if (w > 0)
                done += (size_t)w;
        }
        size -= n;
    }
    _exit(0);
}

/* SpooledUploadHandler.buffer_stream: copies the stream into a spooled
 * file and rewinds it. NULL with errno on failure (nothing left behind). */
static tmpf_file *buffer_stream(int in, size_t max_memory)
{
    tmpf_file *buf = tmpf_spooled_temporary_file(
        &(tmpf_opts){.max_size = max_memory, .prefix = "upload_"});
    if (!buf)
        return NULL;
    unsigned char chunk[16384];
    for (;;) {
        ssize_t n = read(in, chunk, sizeof chunk);
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0 || (n > 0 && tmpf_file_write(buf, chunk, (size_t)n) != n))
            goto fail;
        if (n == 0)
            break;
    }
    if (tmpf_file_seek(buf, 0, SEEK_SET) != 0)
        goto fail;
    return buf;
fail: {
    int saved = errno;
    tmpf_file_cleanup(buf);
    errno = saved;
    return NULL;
}
}

/* One upload of `size` bytes; returns 0 when it arrived intact and was
 * kept in memory exactly when it fits. */
static int handle_upload(size_t size, uint64_t seed)
{
    int fds[2];
    if (pipe(fds) != 0) {
        perror("pipe");
        return 1;
    }
    pid_t pid = fork();
    if (pid < 0) {
        perror("fork");
        return 1;
    }
    if (pid == 0) {
        close(fds[0]);
        client(fds[1], seed, size);
    }
    close(fds[1]);
    tmpf_file *body = buffer_stream(fds[0], MAX_MEMORY);
    int saved = errno;
    close(fds[0]);
    int status;
    if (waitpid(pid, &status, 0) < 0 || !WIFEXITED(status) ||
        WEXITSTATUS(status) != 0) {
        fprintf(stderr, "client failed\n");
        tmpf_file_cleanup(body);
        return 1;
    }
    if (!body) {
        fprintf(stderr, "buffer_stream: %s\n", strerror(saved));
        return 1;
    }

    /* The handler's side: consume the body, whatever it is backed by. */
    bool in_memory = !tmpf_file_rolled(body);
    uint64_t got = FNV_START;
    size_t total = 0;
    unsigned char chunk[10000];
    ssize_t n;
    while ((n = tmpf_file_read(body, chunk, sizeof chunk)) > 0) {
        got = fnv1a(got, chunk, (size_t)n);
        total += (size_t)n;
    }
    int rc = n < 0 ? 1 : 0;
    if (tmpf_file_cleanup(body) != 0)
        rc = 1;

    uint64_t state = seed, want = FNV_START;
    for (size_t i = 0; i < size; i++) {
        unsigned char b = body_byte(&state);
        want = fnv1a(want, &b, 1);
    }
    printf("upload of %8zu bytes: %s, %zu bytes read back, checksum %s\n",
           size, in_memory ? "kept in memory" : "spilled to disk", total,
           got == want ? "ok" : "MISMATCH");
    if (total != size || got != want || in_memory != (size <= MAX_MEMORY))
        rc = 1;
    return rc;
}

int main(void)
{
    static const size_t sizes[] = {0, 1, 1000, MAX_MEMORY, MAX_MEMORY + 1,
                                   3 * 1024 * 1024 + 17};
    int rc = 0;
    for (size_t i = 0; i < sizeof sizes / sizeof sizes[0]; i++)
        rc |= handle_upload(sizes[i], 42 + i);
    tmpf_stats st;
    if (tmpf_get_stats(&st) == 0 && st.spooled_bytes != 0) {
        fprintf(stderr, "%llu spooled bytes still held\n",
                (unsigned long long)st.spooled_bytes);
        rc = 1;
    }
    puts(rc ? "FAILED" : "all uploads intact");
    return rc;
}
