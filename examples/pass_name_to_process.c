/* Python 3.12:
 *     with tempfile.NamedTemporaryFile(delete_on_close=False) as fp:
 *         fp.write(b"...")
 *         fp.close()                      # the file stays
 *         subprocess.run(["cat", fp.name])  # another process opens it by name
 *     # the file is gone here
 *
 * In C: TMPF_KEEP_AFTER_CLOSE, then a child process reads the file by its
 * name, then cleanup removes it. */
#include <tmpf.h>

#include <stdio.h>
#include <string.h>
#include <unistd.h>

#ifdef _WIN32
/* Runs `type "path"` (cmd.exe's cat) and collects what it prints. */
static int run_cat(const char *path, char *out, size_t cap)
{
    char command[4200];
    snprintf(command, sizeof command, "type \"%s\"", path);
    FILE *child = _popen(command, "rb");
    if (!child)
        return -1;
    size_t got = fread(out, 1, cap - 1, child);
    out[got] = '\0';
    return _pclose(child) == 0 ? 0 : -1;
}
#else
#include <spawn.h>
#include <sys/wait.h>

extern char **environ;

/* Runs `cat path` and collects what it prints. */
static int run_cat(const char *path, char *out, size_t cap)
{
    int pipefd[2];
    if (pipe(pipefd) != 0)
        return -1;
    posix_spawn_file_actions_t fa;
    posix_spawn_file_actions_init(&fa);
    posix_spawn_file_actions_adddup2(&fa, pipefd[1], STDOUT_FILENO);
    posix_spawn_file_actions_addclose(&fa, pipefd[0]);
    char *argv[] = {"cat", (char *)path, NULL};
    pid_t pid;
    int rc = posix_spawnp(&pid, "cat", &fa, NULL, argv, environ);
    posix_spawn_file_actions_destroy(&fa);
    close(pipefd[1]);
    size_t got = 0;
    ssize_t n;
    while (rc == 0 && got < cap - 1 && (n = read(pipefd[0], out + got, cap - 1 - got)) > 0)
        got += (size_t)n;
    out[got] = '\0';
    close(pipefd[0]);
    int status;
    if (rc != 0 || waitpid(pid, &status, 0) < 0 || !WIFEXITED(status) ||
        WEXITSTATUS(status) != 0)
        return -1;
    return 0;
}
#endif

int main(void)
{
    const char msg[] = "written by the parent, read by the child\n";
    tmpf_file *f = tmpf_named_temporary_file(
        &(tmpf_opts){.prefix = "handoff_", .suffix = ".txt",
                     .flags = TMPF_KEEP_AFTER_CLOSE});
    if (!f) {
        perror("tmpf_named_temporary_file");
        return 1;
    }
    char path[4096];
    snprintf(path, sizeof path, "%s", tmpf_file_path(f));
    if (tmpf_file_write(f, msg, sizeof msg - 1) < 0 || tmpf_file_close(f) != 0) {
        perror("write/close");
        tmpf_file_cleanup(f);
        return 1;
    }
    /* Closed, but still there under its name. */
    char seen[256];
    int rc = run_cat(path, seen, sizeof seen);
    printf("child read %s: %s", path, rc == 0 ? seen : "(failed)\n");
    bool ok = rc == 0 && strcmp(seen, msg) == 0;
    if (tmpf_file_cleanup(f) != 0) {
        perror("tmpf_file_cleanup");
        return 1;
    }
    bool gone = access(path, F_OK) != 0;
    printf("after cleanup the file is %s\n", gone ? "gone" : "still there (bug)");
    return ok && gone ? 0 : 1;
}
