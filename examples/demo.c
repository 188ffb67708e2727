/* A tour of what tmpf does, run by `make demo`. */
#include <tmpf.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

int main(void)
{
    printf("tmpf %s\n", tmpf_version());
    const char *dir = tmpf_gettempdir();
    if (!dir) {
        perror("tmpf_gettempdir");
        return 1;
    }
    printf("temporary directory: %s\n", dir);

    char *path = NULL;
    int fd = tmpf_mkstemp(&(tmpf_opts){.prefix = "demo_", .suffix = ".txt"}, &path);
    if (fd < 0) {
        perror("tmpf_mkstemp");
        return 1;
    }
    printf("mkstemp:  %s (fd %d)\n", path, fd);
    close(fd);
    unlink(path);
    free(path);

    char *d = tmpf_mkdtemp(&(tmpf_opts){.prefix = "demo_dir_"});
    if (!d) {
        perror("tmpf_mkdtemp");
        return 1;
    }
    printf("mkdtemp:  %s\n", d);
    rmdir(d);
    free(d);

    tmpf_file *f = tmpf_named_temporary_file(&(tmpf_opts){.suffix = ".log"});
    if (!f) {
        perror("tmpf_named_temporary_file");
        return 1;
    }
    const char msg[] = "hello from a temporary file\n";
    char back[sizeof msg] = {0};
    tmpf_file_write(f, msg, sizeof msg - 1);
    tmpf_file_seek(f, 0, SEEK_SET);
    tmpf_file_read(f, back, sizeof msg - 1);
    printf("named:    %s holds \"%.*s\"\n", tmpf_file_path(f),
           (int)strcspn(back, "\n"), back);
    char *keep = strdup(tmpf_file_path(f));
    tmpf_file_cleanup(f);
    printf("          after cleanup it %s\n",
           access(keep, F_OK) == 0 ? "still exists (bug!)" : "is gone");
    free(keep);
    return 0;
}
