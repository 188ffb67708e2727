/* A tour of what tmpf does, run by `make demo` (examples/demo.sh). Each
 * step says what Python would write, does it in C and shows the result. */
#include <tmpf.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static int fail(const char *what)
{
    perror(what);
    return 1;
}

static const char *exists(const char *path)
{
    return access(path, F_OK) == 0 ? "still exists" : "is gone";
}

#ifdef _WIN32
#include <direct.h>
#define PATH_SEP '\\'
/* Making a link needs a privilege on Windows: no link there. */
static const char *const outside_link = NULL;
#else
#define PATH_SEP '/'
static const char *const outside_link = "/etc";
#endif

/* A small tree in d: sub/data.bin, and on POSIX a symlink out of it that
 * the cleanup removes without following. */
static void make_tree(tmpf_dir *d)
{
    char sub[4096], data[4200];
    snprintf(sub, sizeof sub, "%s%csub", tmpf_dir_path(d), PATH_SEP);
    snprintf(data, sizeof data, "%s%cdata.bin", sub, PATH_SEP);
#ifdef _WIN32
    _mkdir(sub);
#else
    mkdir(sub, 0700);
    char link[4200];
    snprintf(link, sizeof link, "%s%clink-outside", tmpf_dir_path(d), PATH_SEP);
    if (symlink(outside_link, link) != 0)
        perror("symlink");
#endif
    FILE *fp = fopen(data, "wb");
    if (fp)
        fclose(fp);
}

int main(void)
{
    printf("tmpf %s\n", tmpf_version());
    const char *dir = tmpf_gettempdir();
    if (!dir)
        return fail("tmpf_gettempdir");
    printf("gettempdir():            %s\n", dir);

    /* fd, path = tempfile.mkstemp(prefix="demo_", suffix=".txt") */
    char *path = NULL;
    int fd = tmpf_mkstemp(&(tmpf_opts){.prefix = "demo_", .suffix = ".txt"}, &path);
    if (fd < 0)
        return fail("tmpf_mkstemp");
    struct stat st;
    fstat(fd, &st);
    printf("mkstemp():               %s (fd %d, mode %03o)\n", path, fd,
           (unsigned)st.st_mode & 0777);
    close(fd);
    unlink(path);
    free(path);

    /* with tempfile.NamedTemporaryFile(suffix=".log") as f: */
    {
        TMPF_AUTO_FILE f = tmpf_named_temporary_file(&(tmpf_opts){.suffix = ".log"});
        if (!f)
            return fail("tmpf_named_temporary_file");
        fprintf(tmpf_file_stream(f), "hello from a temporary file\n");
        tmpf_file_seek(f, 0, SEEK_SET);
        char line[64] = "";
        if (!fgets(line, sizeof line, tmpf_file_stream(f)))
            return fail("fgets");
        printf("NamedTemporaryFile():    %s holds \"%.*s\"\n", tmpf_file_path(f),
               (int)strcspn(line, "\n"), line);
        path = strdup(tmpf_file_path(f));
    } /* f is closed and deleted here */
    printf("                         at the end of its block it %s\n", exists(path));
    free(path);

    /* with tempfile.SpooledTemporaryFile(max_size=64) as f: */
    {
        TMPF_AUTO_FILE f = tmpf_spooled_temporary_file(&(tmpf_opts){.max_size = 64});
        if (!f)
            return fail("tmpf_spooled_temporary_file");
        tmpf_file_write(f, "small", 5);
        printf("SpooledTemporaryFile():  5 bytes: %s\n",
               tmpf_file_rolled(f) ? "on disk" : "in memory");
        char big[100];
        memset(big, 'x', sizeof big);
        tmpf_file_write(f, big, sizeof big);
        printf("                         105 bytes: %s, position %lld kept\n",
               tmpf_file_rolled(f) ? "rolled over to disk" : "in memory",
               (long long)tmpf_file_tell(f));
    }

    /* with tempfile.TemporaryDirectory() as d: (a tree inside, then rmtree) */
    {
        TMPF_AUTO_DIR d = tmpf_temporary_directory(&(tmpf_opts){.prefix = "demo_dir_"});
        if (!d)
            return fail("tmpf_temporary_directory");
        make_tree(d);
        printf("TemporaryDirectory():    %s with sub%cdata.bin%s%s\n", tmpf_dir_path(d),
               PATH_SEP, outside_link ? " and a symlink to " : "",
               outside_link ? outside_link : "");
        path = strdup(tmpf_dir_path(d));
    }
    printf("                         at the end of its block it %s", exists(path));
    if (outside_link)
        printf("; %s %s", outside_link, exists(outside_link));
    printf("\n");

    /* atomic_write(path, data): the target holds the old or the new bytes */
    char target[4096];
    snprintf(target, sizeof target, "%s.conf", path);
    free(path);
    const char conf[] = "answer = 42\n";
    if (tmpf_write_atomic(target, conf, sizeof conf - 1, TMPF_DURABLE) != 0)
        return fail("tmpf_write_atomic");
    char back[64] = "";
    FILE *in = fopen(target, "r");
    if (!in || !fgets(back, sizeof back, in))
        return fail(target);
    fclose(in);
    printf("write_atomic(durable):   %s now holds \"%.*s\"\n"
           "                         (written beside it, synced, then renamed into place)\n",
           target, (int)strcspn(back, "\n"), back);
    unlink(target);

    /* TempFileManager: one scope, many temporaries, one cleanup. (live
     * counts mkstemp paths that tmpf has not removed itself, hence the
     * difference to the count before.) */
    tmpf_stats before, stats;
    tmpf_get_stats(&before);
    {
        TMPF_AUTO_SCOPE s = tmpf_scope_new(0);
        if (!s)
            return fail("tmpf_scope_new");
        for (int i = 0; i < 3; i++) {
            fd = tmpf_mkstemp(&(tmpf_opts){.prefix = "scoped_", .scope = s}, NULL);
            if (fd < 0)
                return fail("tmpf_mkstemp");
            close(fd);
        }
        tmpf_get_stats(&stats);
        printf("scope (TempFileManager): %llu files made into one scope\n",
               (unsigned long long)(stats.live[TMPF_KIND_MKSTEMP] -
                                    before.live[TMPF_KIND_MKSTEMP]));
    } /* the scope removes them here, newest first */
    tmpf_get_stats(&stats);
    unsigned long long left =
        stats.live[TMPF_KIND_MKSTEMP] - before.live[TMPF_KIND_MKSTEMP];
    printf("                         after its cleanup %llu are left\n", left);
    /* The one tmpf did not remove: the mkstemp() file at the start, which
     * the demo unlinked itself (a mkstemp path is the caller's). */
    printf("in all:                  tmpf created %llu temporaries and removed %llu;\n"
           "                         the demo removed %llu itself (mkstemp()'s file: "
           "that path is the caller's)\n",
           (unsigned long long)stats.created, (unsigned long long)stats.removed,
           (unsigned long long)(stats.created - stats.removed));
    return 0;
}
