/*
 * Python's `with` in C: TMPF_AUTO_FILE and TMPF_AUTO_DIR clean up when the
 * variable goes out of scope, on every way out of the block.
 *
 *   with tempfile.NamedTemporaryFile(suffix=".txt") as f:
 *       f.write(b"data"); f.seek(0); assert f.read() == b"data"
 *   with tempfile.TemporaryDirectory() as d:
 *       open(os.path.join(d, "a.txt"), "w").write("a")
 *       os.makedirs(os.path.join(d, "sub")); ...
 *
 *   with tempfile.NamedTemporaryFile() as f:
 *       raise ValueError   # the file is still removed
 *
 * The program checks with access(2) that each is gone after its block,
 * also when the block is left early on an error.
 */
#include <tmpf.h>

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#ifdef _WIN32
#include <direct.h>
#define PATH_SEP '\\'
#define PATH_SEP_STR "\\"
#define make_dir(path) _mkdir(path)
#else
#define PATH_SEP '/'
#define PATH_SEP_STR "/"
#define make_dir(path) mkdir(path, 0700)
#endif

#define FAIL(...)                                                           \
    do {                                                                    \
        fprintf(stderr, "context_manager: " __VA_ARGS__);                   \
        fputc('\n', stderr);                                                \
        return NULL;                                                        \
    } while (0)

/* Writes and reads back a named temporary file; returns a copy of its path
 * (the file itself is gone by the time this returns) or NULL on failure. */
static char *use_file(void)
{
    TMPF_AUTO_FILE f = tmpf_named_temporary_file(
        &(tmpf_opts){.prefix = "ctx_", .suffix = ".txt"});
    if (!f)
        FAIL("tmpf_named_temporary_file: %s", strerror(errno));
    char *copy = strdup(tmpf_file_path(f));
    if (!copy)
        FAIL("out of memory");

    const char data[] = "written inside the block";
    char back[sizeof data] = {0};
    if (tmpf_file_write(f, data, sizeof data - 1) < 0 ||
        tmpf_file_seek(f, 0, SEEK_SET) != 0 ||
        tmpf_file_read(f, back, sizeof back) != (ssize_t)(sizeof data - 1) ||
        memcmp(back, data, sizeof data - 1) != 0) {
        free(copy);
        FAIL("read back failed: %s", strerror(errno));
    }
    if (access(copy, F_OK) != 0) {
        free(copy);
        FAIL("%s does not exist inside the block", tmpf_file_path(f));
    }
    return copy; /* f is closed and deleted here */
}

/* Fills a temporary directory with files and a subdirectory; returns a copy
 * of its path (the tree is gone by the time this returns) or NULL. */
static char *use_dir(void)
{
    TMPF_AUTO_DIR d = tmpf_temporary_directory(&(tmpf_opts){.prefix = "ctx_dir_"});
    if (!d)
        FAIL("tmpf_temporary_directory: %s", strerror(errno));
    char *copy = strdup(tmpf_dir_path(d));
    if (!copy)
        FAIL("out of memory");

    /* os.path.join(d, name): the separator is the system's. */
    char path[4096];
    snprintf(path, sizeof path, "%s%csub", copy, PATH_SEP);
    int ok = make_dir(path) == 0;
    const char *names[] = {"a.txt", "b.txt", "sub" PATH_SEP_STR "c.txt"};
    for (size_t i = 0; ok && i < sizeof names / sizeof names[0]; i++) {
        snprintf(path, sizeof path, "%s%c%s", copy, PATH_SEP, names[i]);
        FILE *fp = fopen(path, "wb");
        ok = fp && fputs(names[i], fp) >= 0;
        if (fp)
            ok = fclose(fp) == 0 && ok;
    }
    if (!ok) {
        free(copy);
        FAIL("filling %s: %s", tmpf_dir_path(d), strerror(errno));
    }
    return copy; /* the whole tree is removed here */
}

/* Leaves its block early, as an exception leaves a `with`: the cleanup
 * runs on that path too. Stores the path in out (cap bytes). */
static int fail_midway(char *out, size_t cap)
{
    TMPF_AUTO_FILE f = tmpf_named_temporary_file(&(tmpf_opts){.prefix = "ctx_err_"});
    if (!f)
        return 0;
    snprintf(out, cap, "%s", tmpf_file_path(f));
    if (tmpf_file_write(f, "partial", 7) < 0)
        return 0;
    errno = EPROTO; /* something went wrong: give up */
    return -1;      /* f is closed and deleted on this path as well */
}

int main(void)
{
    int status = 0;
    char *file = use_file();
    if (!file)
        return 1;
    if (access(file, F_OK) == 0 || errno != ENOENT) {
        fprintf(stderr, "context_manager: %s still exists after its block\n", file);
        status = 1;
    } else {
        printf("file %s: gone after the block\n", file);
    }
    free(file);

    char *dir = use_dir();
    if (!dir)
        return 1;
    if (access(dir, F_OK) == 0 || errno != ENOENT) {
        fprintf(stderr, "context_manager: %s still exists after its block\n", dir);
        status = 1;
    } else {
        printf("directory %s: gone, with its contents, after the block\n", dir);
    }
    free(dir);

    char early[4096] = "";
    if (fail_midway(early, sizeof early) != -1 || !*early) {
        fprintf(stderr, "context_manager: the early-exit block did not run\n");
        return 1;
    }
    if (access(early, F_OK) == 0 || errno != ENOENT) {
        fprintf(stderr, "context_manager: %s survived an early return\n", early);
        status = 1;
    } else {
        printf("file %s: gone after an early return\n", early);
    }
    return status;
}
