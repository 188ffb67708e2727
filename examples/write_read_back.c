/* Python:
 *     with tempfile.TemporaryFile("w+") as f:
 *         for i in range(1000): print(i, i * i, file=f)
 *         f.seek(0)
 *         total = sum(int(b) for a, b in (line.split() for line in f))
 *
 * In C: an anonymous file (no name, gone when closed), written with
 * fprintf through its stdio view and read back with fgets. */
#include <tmpf.h>

#include <stdio.h>
#include <stdlib.h>

int main(void)
{
    TMPF_AUTO_FILE f = tmpf_temporary_file(NULL);
    if (!f) {
        perror("tmpf_temporary_file");
        return 1;
    }
    FILE *out = tmpf_file_stream(f); /* owned by f: never fclose it */
    if (!out) {
        perror("tmpf_file_stream");
        return 1;
    }
    long long want = 0;
    for (long long i = 0; i < 1000; i++) {
        fprintf(out, "%lld %lld\n", i, i * i);
        want += i * i;
    }
    /* Stream and file calls mix freely: this seek sees every line. */
    if (tmpf_file_seek(f, 0, SEEK_SET) != 0) {
        perror("tmpf_file_seek");
        return 1;
    }
    long long total = 0, lines = 0;
    char line[64]; /* the longest line, "999 998001\n", fits */
    while (fgets(line, sizeof line, out)) {
        long long a, b;
        if (sscanf(line, "%lld %lld", &a, &b) != 2 || b != a * a) {
            fprintf(stderr, "bad line %lld: %s", lines, line);
            return 1;
        }
        total += b;
        lines++;
    }
    printf("read back %lld lines from an unnamed file, sum of squares %lld\n",
           lines, total);
    return lines == 1000 && total == want ? 0 : 1;
}
