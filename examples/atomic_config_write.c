/*
 * The "Atomic File Operations" pattern: write a configuration file so that
 * readers see either the old or the new version, never half of one.
 *
 * Python:                                  tmpf:
 *   with NamedTemporaryFile(dir=..., delete=False) as t:
 *       t.write(content); t.flush()        tmpf_write_atomic(path, content, n,
 *       os.fsync(t.fileno())                                 TMPF_DURABLE);
 *   os.rename(t.name, path)
 *
 * It also shows the two-step form (build the file through a tmpf_file,
 * then tmpf_file_persist) and checks every result: exit status 0 only if
 * everything did what it should.
 */
#include <tmpf.h>

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#ifdef _WIN32
#define PATH_SEP '\\'
#else
#define PATH_SEP '/'
#endif

static int failures;

#define EXPECT(cond, ...)                                                      \
    do {                                                                       \
        if (!(cond)) {                                                         \
            fprintf(stderr, "atomic_config_write: " __VA_ARGS__);              \
            fputc('\n', stderr);                                               \
            failures++;                                                        \
        }                                                                      \
    } while (0)

/* Reads a whole small file into buf; -1 on error. */
static ssize_t read_file(const char *path, char *buf, size_t size)
{
    FILE *fp = fopen(path, "rb");
    if (!fp)
        return -1;
    size_t n = fread(buf, 1, size - 1, fp);
    int failed = ferror(fp);
    fclose(fp);
    if (failed)
        return -1;
    buf[n] = '\0';
    return (ssize_t)n;
}

static void write_config(const char *path, int version, unsigned workers)
{
    char text[256];
    int n = snprintf(text, sizeof text,
                     "{\n  \"version\": %d,\n  \"workers\": %u,\n"
                     "  \"log_level\": \"info\"\n}\n",
                     version, workers);
    /* Durable: the new version survives a power cut once this returns. */
    if (tmpf_write_atomic(path, text, (size_t)n, TMPF_DURABLE) != 0) {
        EXPECT(0, "write_atomic %s: %s", path, strerror(errno));
        return;
    }
    char back[256];
    EXPECT(read_file(path, back, sizeof back) == n && strcmp(back, text) == 0,
           "%s does not hold version %d", path, version);
    printf("wrote %s (version %d, %d bytes)\n", path, version, n);
}

int main(void)
{
    char *dir = tmpf_mkdtemp(&(tmpf_opts){.prefix = "atomic-config-"});
    if (!dir) {
        perror("tmpf_mkdtemp");
        return 1;
    }
    char path[4096], report[4096];
    snprintf(path, sizeof path, "%s%capp.json", dir, PATH_SEP);
    snprintf(report, sizeof report, "%s%creport.txt", dir, PATH_SEP);

    /* 1. Create, then replace: the config is never missing or torn. */
    write_config(path, 1, 4);
#ifndef _WIN32 /* POSIX permission bits: Windows has none to keep */
    if (chmod(path, 0640) != 0)
        EXPECT(0, "chmod: %s", strerror(errno));
#endif
    write_config(path, 2, 8);
#ifndef _WIN32
    struct stat st;
    EXPECT(stat(path, &st) == 0 && (st.st_mode & 0777) == 0640,
           "permission bits not kept (0%o)", (unsigned)(st.st_mode & 0777));
#endif

    /* 2. Refuse to clobber: a first-run default must not overwrite. */
    errno = 0;
    EXPECT(tmpf_write_atomic(path, "{}\n", 3, TMPF_NOCLOBBER) == -1 && errno == EEXIST,
           "NOCLOBBER replaced an existing config");
    char back[256];
    EXPECT(read_file(path, back, sizeof back) > 0 && strstr(back, "\"version\": 2"),
           "config changed by a refused write");

    /* 3. Two steps: build a report in a temporary, publish it when done.
     * Until the persist, nothing named report.txt exists (and a crash
     * would leave nothing at all: the temporary has no name). */
    tmpf_file *f = tmpf_temporary_file(&(tmpf_opts){.dir = dir});
    if (!f) {
        EXPECT(0, "tmpf_temporary_file: %s", strerror(errno));
    } else {
        const char *lines[] = {"checked app.json\n", "version 2\n", "ok\n"};
        for (size_t i = 0; i < 3; i++)
            EXPECT(tmpf_file_write(f, lines[i], strlen(lines[i])) ==
                       (ssize_t)strlen(lines[i]),
                   "write: %s", strerror(errno));
        EXPECT(access(report, F_OK) != 0, "report visible before persist");
        EXPECT(tmpf_file_persist(f, report, TMPF_DURABLE | TMPF_NOCLOBBER) == 0,
               "persist: %s", strerror(errno));
        EXPECT(tmpf_file_path(f) && strcmp(tmpf_file_path(f), report) == 0,
               "path after persist is %s", tmpf_file_path(f));
        EXPECT(tmpf_file_cleanup(f) == 0, "cleanup: %s", strerror(errno));
        EXPECT(read_file(report, back, sizeof back) > 0 &&
                   strcmp(back, "checked app.json\nversion 2\nok\n") == 0,
               "report content wrong");
        printf("published %s\n", report);
    }

    /* Nothing but the two files may be left in the directory. */
    char probe[4200];
    int others = 0;
    for (int i = 0; i < 2; i++) {
        snprintf(probe, sizeof probe, "%s%c%s", dir, PATH_SEP, i ? "report.txt" : "app.json");
        if (unlink(probe) != 0)
            others++;
    }
    EXPECT(others == 0, "a file was missing");
    EXPECT(rmdir(dir) == 0, "directory not empty after removing both files: %s",
           strerror(errno));
    free(dir);
    if (failures)
        fprintf(stderr, "atomic_config_write: %d check(s) failed\n", failures);
    else
        printf("all checks passed\n");
    return failures ? 1 : 0;
}
