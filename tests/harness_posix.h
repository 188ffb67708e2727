/* tests/harness.h's POSIX side: children are forked, uids dropped,
 * descriptors counted in /proc/self/fd, the scratch directory removed with
 * nftw. Included by harness.h only. */
#ifndef TMPF_TEST_HARNESS_POSIX_H
#define TMPF_TEST_HARNESS_POSIX_H

#include <dirent.h>
#include <ftw.h>
#include <grp.h>
#include <sys/wait.h>
#include <unistd.h>

static pid_t harness_pid;

static inline bool harness_under_wine(void)
{
    return false;
}

static inline void harness_platform_init(void)
{
    harness_pid = getpid();
}

static inline int count_open_fds(void)
{
    DIR *d = opendir("/proc/self/fd");
    if (!d)
        return -1;
    int n = 0;
    struct dirent *e;
    while ((e = readdir(d)))
        if (e->d_name[0] != '.')
            n++;
    closedir(d);
    return n - 1; /* the DIR's own descriptor */
}

/* scratch/sticky (made on first use, mode 01777, as /tmp): for tests that
 * replace a temporary's directory themselves. In scratch (0777, no sticky
 * bit) tmpf records what it created, and its cleanup refuses a replaced
 * directory (ESTALE); in a sticky directory only the caller and root can
 * rename the caller's entries, and nothing is checked. */
static inline const char *sticky_dir(void)
{
    static char buf[4200];
    snprintf(buf, sizeof buf, "%s/sticky", scratch);
    if (mkdir(buf, 01777) != 0 && errno != EEXIST)
        return NULL;
    chmod(buf, 01777);
    return buf;
}

static inline int setgroups_nobody(void)
{
    gid_t g = 65534;
    return setgroups(1, &g);
}

/* Runs fn in a forked child (same privileges); returns its exit status or
 * -1 if it crashed. */
static inline int run_in_child(int (*fn)(void *), void *arg)
{
    fflush(NULL);
    pid_t pid = fork();
    if (pid < 0)
        return -1;
    if (pid == 0)
        _exit(fn(arg) & 0x7f);
    int status;
    if (waitpid(pid, &status, 0) < 0 || !WIFEXITED(status))
        return -1;
    return WEXITSTATUS(status);
}

/* Runs fn in a child as uid/gid 65534 (nobody); returns its exit status
 * (fn's return value), or -1 if it could not run or crashed. Without root
 * no uid can be dropped to: the calling test is skipped. */
static inline int run_as_nobody(int (*fn)(void *), void *arg)
{
    if (geteuid() != 0 && getpid() == harness_pid)
        harness_skip_test("needs root to run a part as uid 65534");
    fflush(NULL);
    pid_t pid = fork();
    if (pid < 0)
        return -1;
    if (pid == 0) {
        if (setgroups_nobody() != 0 || setgid(65534) != 0 || setuid(65534) != 0)
            _exit(126);
        _exit(fn(arg) & 0x7f);
    }
    int status;
    if (waitpid(pid, &status, 0) < 0 || !WIFEXITED(status))
        return -1;
    return WEXITSTATUS(status);
}

static int harness_rm_entry(const char *p, const struct stat *sb, int flag,
                            struct FTW *ftw)
{
    (void)sb;
    (void)ftw;
    if (flag == FTW_DP || flag == FTW_D)
        chmod(p, 0700), rmdir(p);
    else
        unlink(p);
    return 0;
}

/* The harness's own rm -rf (deliberately not the library's). */
static inline void harness_rmrf(const char *path)
{
    nftw(path, harness_rm_entry, 64, FTW_DEPTH | FTW_PHYS | FTW_MOUNT);
}

/* Whether fd is closed on exec (not inherited by children). */
static inline bool fd_cloexec(int fd)
{
    int f = fcntl(fd, F_GETFD);
    return f >= 0 && (f & FD_CLOEXEC);
}

/* The path of the file fd is open on (/proc/self/fd's link): false if
 * it cannot be told. */
static inline bool fd_path(int fd, char *buf, size_t n)
{
    char link[64];
    snprintf(link, sizeof link, "/proc/self/fd/%d", fd);
    ssize_t got = readlink(link, buf, n - 1);
    if (got <= 0)
        return false;
    buf[got] = '\0';
    return true;
}

/* What names the file at path (its inode number, the link itself for a
 * symlink); 0 if there is nothing there. */
static inline uint64_t path_id(const char *path)
{
    struct stat st;
    return lstat(path, &st) == 0 ? (uint64_t)st.st_ino : 0;
}

/* What names the file fd is open on (its inode number); 0 on error. */
static inline uint64_t fd_id(int fd)
{
    struct stat st;
    return fstat(fd, &st) == 0 ? (uint64_t)st.st_ino : 0;
}

/* Where scratch directories go: $TMPF_TEST_DIR, else /dev/shm, else /tmp. */
static inline const char *harness_scratch_base(void)
{
    const char *base = getenv("TMPF_TEST_DIR");
    if (base)
        return base;
    struct stat st;
    return stat("/dev/shm", &st) == 0 && access("/dev/shm", W_OK) == 0
               ? "/dev/shm"
               : "/tmp";
}

static inline char *harness_mkdtemp(char *templ)
{
    return mkdtemp(templ);
}

/* A started child process (harness_child_start). */
struct harness_proc {
    pid_t pid;
};

/* Forks a child that runs c with arg and exits with its value. */
static inline bool harness_proc_start(const struct test_child *c,
                                      const char *arg, struct harness_proc *p)
{
    pid_t pid = fork();
    if (pid < 0)
        return false;
    if (pid == 0) {
        harness_in_child = true;
        int rc = c->fn(arg) & 0x7f;
        fflush(NULL);
        _exit(rc);
    }
    p->pid = pid;
    return true;
}

/* Waits for p: its exit status, -1 if it crashed or was killed. */
static inline int harness_proc_wait(struct harness_proc *p)
{
    int status;
    if (waitpid(p->pid, &status, 0) < 0 || !WIFEXITED(status))
        return -1;
    return WEXITSTATUS(status);
}

/* Kills p at once (SIGKILL). */
static inline void harness_proc_kill(struct harness_proc *p)
{
    kill(p->pid, SIGKILL);
}

/* run_child's process: started, then waited for. */
static inline int harness_spawn_child(const struct test_child *c,
                                      const char *arg)
{
    struct harness_proc p;
    return harness_proc_start(c, arg, &p) ? harness_proc_wait(&p) : -1;
}

#endif
