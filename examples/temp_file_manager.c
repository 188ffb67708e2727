/*
 * The "Production Patterns" TempFileManager of Python's tempfile guide, in
 * C. Python's class keeps a list of paths and walks it in cleanup_all();
 * here a tmpf_scope is that list: every temporary made with .scope = tm
 * joins it, cleaning one early takes it out, and tmpf_scope_cleanup
 * removes the rest newest first (so what was made inside a temporary
 * directory goes before the directory).
 *
 *   with TempFileManager(prefix='myapp_') as tm:
 *       with tm.temp_file(suffix='.json') as fp: fp.write(b'{"data": 1}')
 *       with tm.temp_directory() as tmpdir: Path(tmpdir, 'file.txt')...
 *       path = tm.create_temp_file(suffix='.dat')
 *   # All temps cleaned up
 *
 * Exits 0 when every step worked and nothing is left behind, 1 otherwise.
 */
#include <tmpf.h>

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define MAX_PATHS 16

/* Every path the manager hands out, to check afterwards that it is gone. */
static char *seen[MAX_PATHS];
static int seen_count;

static int fail(const char *what)
{
    fprintf(stderr, "temp_file_manager: %s: %s\n", what, strerror(errno));
    return -1;
}

static void remember(const char *path)
{
    if (seen_count < MAX_PATHS)
        seen[seen_count++] = strdup(path);
}

/* tm.temp_file(suffix): a named file that goes at the end of the block. */
static int write_json_report(tmpf_scope *tm, const char *base)
{
    tmpf_file *fp = tmpf_named_temporary_file(
        &(tmpf_opts){.dir = base, .prefix = "myapp_", .suffix = ".json", .scope = tm});
    if (!fp)
        return fail("temp_file");
    remember(tmpf_file_path(fp));
    static const char json[] = "{\"data\": 1}";
    char back[sizeof json] = {0};
    int rc = 0;
    if (tmpf_file_write(fp, json, sizeof json - 1) < 0 ||
        tmpf_file_seek(fp, 0, SEEK_SET) != 0 ||
        tmpf_file_read(fp, back, sizeof json - 1) != (ssize_t)(sizeof json - 1))
        rc = fail("temp_file I/O");
    else if (strcmp(back, json) != 0) {
        fprintf(stderr, "temp_file_manager: read back \"%s\"\n", back);
        rc = -1;
    }
    /* The end of the `with`: removed now, and out of the scope. */
    if (tmpf_file_cleanup(fp) != 0)
        rc = fail("temp_file cleanup");
    return rc;
}

/* tm.temp_directory(): a directory with a file in it, written through the
 * directory's descriptor. The file is itself a temporary of the scope,
 * made after the directory, so the scope removes it first. */
static int fill_work_directory(tmpf_scope *tm, const char *base)
{
    tmpf_dir *tmpdir = tmpf_temporary_directory(
        &(tmpf_opts){.dir = base, .prefix = "myapp_", .scope = tm});
    if (!tmpdir)
        return fail("temp_directory");
    remember(tmpf_dir_path(tmpdir));
    char *file_txt = NULL;
    int fd = tmpf_mkstemp(&(tmpf_opts){.dir = tmpf_dir_path(tmpdir), .prefix = "file",
                                       .suffix = ".txt", .scope = tm},
                          &file_txt);
    if (fd < 0)
        return fail("file.txt");
    remember(file_txt);
    int rc = 0;
    if (write(fd, "content", 7) != 7)
        rc = fail("write file.txt");
    close(fd);
    free(file_txt);
    return rc;
}

/* tm.create_temp_file(suffix='.dat'): a low-level file the caller uses by
 * path; it stays until the manager's cleanup. */
static char *create_temp_file(tmpf_scope *tm, const char *base, const char *suffix)
{
    char *path = NULL;
    int fd = tmpf_mkstemp(
        &(tmpf_opts){.dir = base, .prefix = "myapp_", .suffix = suffix, .scope = tm},
        &path);
    if (fd < 0) {
        fail("create_temp_file");
        return NULL;
    }
    close(fd);
    remember(path);
    return path;
}

static int write_bytes(const char *path, const char *data)
{
    FILE *fp = fopen(path, "wb");
    if (!fp)
        return fail(path);
    int rc = fputs(data, fp) >= 0 ? 0 : fail(path);
    if (fclose(fp) != 0 && rc == 0)
        rc = fail(path);
    return rc;
}

/* `with TempFileManager(prefix='myapp_') as tm:` */
static int context_manager_usage(const char *base)
{
    tmpf_scope *tm = tmpf_scope_new(0);
    if (!tm)
        return fail("tmpf_scope_new");
    int rc = 0;
    if (write_json_report(tm, base) != 0)
        rc = -1;
    if (fill_work_directory(tm, base) != 0)
        rc = -1;
    char *path = create_temp_file(tm, base, ".dat");
    if (!path || write_bytes(path, "data") != 0)
        rc = -1;
    free(path);
    /* __exit__: cleanup_all(). Unlike Python's _safe_unlink, a failure is
     * reported, not swallowed. */
    if (tmpf_scope_cleanup(tm) != 0)
        rc = fail("cleanup_all");
    return rc;
}

/* Standalone: try: create_temp_file(); create_temp_dir() finally:
 * cleanup_all(). The "work" fails halfway on purpose; cleanup still runs. */
static int standalone_usage(const char *base)
{
    tmpf_scope *tm = tmpf_scope_new(0);
    if (!tm)
        return fail("tmpf_scope_new");
    char *path1 = create_temp_file(tm, base, "");
    char *path2 = tmpf_mkdtemp(&(tmpf_opts){.dir = base, .prefix = "myapp_", .scope = tm});
    int rc = 0;
    if (!path1 || !path2)
        rc = -1;
    if (path2)
        remember(path2);
    bool work_failed = path1 && path2 && rename(path1, "/nonexistent/x") != 0;
    if (!work_failed) {
        fprintf(stderr, "temp_file_manager: the failing step did not fail\n");
        rc = -1;
    }
    free(path1);
    free(path2);
    /* finally: */
    if (tmpf_scope_cleanup(tm) != 0)
        rc = fail("cleanup_all");
    return rc;
}

int main(void)
{
    /* A private base directory, so "nothing left behind" can be checked. */
    tmpf_dir *base = tmpf_temporary_directory(&(tmpf_opts){.prefix = "tfm-example-"});
    if (!base) {
        fail("base directory");
        return 1;
    }
    int rc = 0;
    if (context_manager_usage(tmpf_dir_path(base)) != 0)
        rc = 1;
    if (standalone_usage(tmpf_dir_path(base)) != 0)
        rc = 1;

    for (int i = 0; i < seen_count; i++) {
        struct stat st;
        if (stat(seen[i], &st) == 0) {
            fprintf(stderr, "temp_file_manager: %s was left behind\n", seen[i]);
            rc = 1;
        }
        free(seen[i]);
    }
    if (seen_count != 6) {
        fprintf(stderr, "temp_file_manager: %d temporaries made, want 6\n", seen_count);
        rc = 1;
    }
    /* Empty now, or this cleanup (an rmdir) would fail. */
    if (tmpf_dir_cleanup(base) != 0) {
        fail("base directory cleanup");
        rc = 1;
    }
    if (rc == 0)
        printf("TempFileManager: 6 temporaries made, all removed\n");
    return rc;
}
