/* Python:
 *     f = tempfile.NamedTemporaryFile(delete=False)
 *     f.write(b"..."); f.close()
 *     ...                   # the file outlives the object
 *     os.unlink(f.name)     # removing it is our job
 *
 * In C: TMPF_KEEP. The library never removes the file; the program does. */
#include <tmpf.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

int main(void)
{
    tmpf_file *f = tmpf_named_temporary_file(
        &(tmpf_opts){.prefix = "report_", .suffix = ".csv", .flags = TMPF_KEEP});
    if (!f) {
        perror("tmpf_named_temporary_file");
        return 1;
    }
    FILE *out = tmpf_file_stream(f);
    if (!out) {
        perror("tmpf_file_stream");
        tmpf_file_cleanup(f);
        return 1;
    }
    fprintf(out, "name,value\nalpha,1\nbeta,2\n");
    char *path = strdup(tmpf_file_path(f));
    /* Frees the object and closes the file (flushing the stream), but with
     * TMPF_KEEP the file stays. */
    if (tmpf_file_cleanup(f) != 0 || !path) {
        perror("tmpf_file_cleanup");
        free(path);
        return 1;
    }
    FILE *in = fopen(path, "re");
    char line[64];
    int lines = 0;
    while (in && fgets(line, sizeof line, in))
        lines++;
    if (in)
        fclose(in);
    printf("%s kept with %d lines after cleanup\n", path, lines);
    int rc = unlink(path); /* manual cleanup */
    bool gone = access(path, F_OK) != 0;
    printf("removed by hand: %s\n", rc == 0 && gone ? "yes" : "no");
    free(path);
    return lines == 3 && rc == 0 && gone ? 0 : 1;
}
