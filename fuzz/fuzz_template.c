/*
 * The tmpf tool's mktemp template parser (tools/template.c). Input: one
 * control byte, then up to four NUL-separated strings: template, suffix,
 * -p/--tmpdir directory, $TMPDIR. Invariants on success: the recorded
 * offsets are in order and inside the name, the random run is all X's and
 * at most TEMPLATE_RAND_MAX long, len is strlen(name), and the last
 * component starts at base; on failure a message fits any buffer size.
 */
#include "fuzz_common.h"

#include <stdint.h>

#include "template.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 1 || size > 4096)
        return 0;
    uint8_t ctl = data[0];
    char *buf = malloc(size); /* size-1 bytes plus a NUL */
    FUZZ_CHECK(buf != NULL);
    memcpy(buf, data + 1, size - 1);
    buf[size - 1] = 0;
    const char *field[4] = {NULL, NULL, NULL, NULL};
    size_t at = 0;
    for (int i = 0; i < 4 && at < size; i++) {
        field[i] = buf + at;
        at += strlen(buf + at) + 1;
    }
    struct template_args a = {
        .template = (ctl & 1) ? NULL : field[0],
        .suffix = (ctl & 2) ? field[1] : NULL,
        .use_dest_dir = (ctl & 4) != 0,
        .t_option = (ctl & 8) != 0,
        .dest_dir = (ctl & 16) ? field[2] : NULL,
        .tmpdir = (ctl & 32) ? field[3] : NULL,
    };
    struct template t;
    memset(&t, 0, sizeof t);
    const char *bad = NULL;
    enum template_error e = template_parse(&a, &t, &bad);
    if (e == TEMPLATE_OK) {
        FUZZ_CHECK(t.name != NULL);
        FUZZ_CHECK(t.len == strlen(t.name));
        FUZZ_CHECK(t.base <= t.x_start);
        FUZZ_CHECK(t.x_start <= t.suffix && t.suffix <= t.len);
        FUZZ_CHECK(t.rand_len == t.suffix - t.x_start);
        FUZZ_CHECK(t.rand_len >= 3 && t.rand_len <= TEMPLATE_RAND_MAX);
        for (size_t i = t.x_start; i < t.suffix; i++)
            FUZZ_CHECK(t.name[i] == 'X');
        FUZZ_CHECK(t.base == 0 || t.name[t.base - 1] == '/');
        FUZZ_CHECK(t.suffix_slashes <= t.len - t.suffix);
        for (size_t i = t.len - t.suffix_slashes; i < t.len; i++)
            FUZZ_CHECK(t.name[i] == '/');
        /* no '/' between base and the trailing slashes */
        FUZZ_CHECK(memchr(t.name + t.base, '/',
                          t.len - t.suffix_slashes - t.base) == NULL);
        if (a.suffix && !strchr(a.suffix, '/'))
            FUZZ_CHECK(t.len - t.suffix >= strlen(a.suffix));
    } else {
        FUZZ_CHECK(e != TEMPLATE_NOMEM);
        /* the message is always terminated, whatever the buffer size */
        size_t n = (size_t)(ctl >> 6) * 40 + 1;
        char msg[128];
        memset(msg, 'Z', sizeof msg);
        template_message(e, bad, msg, n);
        FUZZ_CHECK(memchr(msg, 0, n) != NULL);
        FUZZ_CHECK(msg[n] == 'Z' || n == sizeof msg);
    }
    template_free(&t);
    free(buf);
    return 0;
}
