/*
 * Helpers for the directory and rmtree tests: building trees and checking
 * that a directory outside the tree kept every file and every mode.
 */
#ifndef TMPF_TEST_TREE_H
#define TMPF_TEST_TREE_H

#include "harness.h"

#include <stdarg.h>
#ifndef _WIN32
#include <sys/resource.h>
#endif

/* printf into one of 8 rotating static buffers (tests are single threaded
 * where they use it). */
__attribute__((format(printf, 1, 2))) static inline const char *P(const char *fmt, ...)
{
    static char bufs[8][4096];
    static int next;
    char *b = bufs[next++ % 8];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(b, sizeof bufs[0], fmt, ap);
    va_end(ap);
    return b;
}

static inline mode_t mode_of(const char *path)
{
    struct stat st;
    return lstat(path, &st) == 0 ? st.st_mode & 07777 : (mode_t)-1;
}

#ifndef _WIN32
/* An "outside" directory: files f0..f4 (mode 0400 .. 0640), a
 * subdirectory with a file, then the directory's own mode. */
#define OUTSIDE_FILES 5
static const mode_t outside_modes[OUTSIDE_FILES] = {0400, 0444, 0600, 0640, 0000};

static inline int make_outside(const char *dir, mode_t dir_mode)
{
    if (mkdir(dir, 0700) != 0)
        return -1;
    for (int i = 0; i < OUTSIDE_FILES; i++) {
        if (write_file(P("%s/f%d", dir, i), "precious", 0600) != 0 ||
            chmod(P("%s/f%d", dir, i), outside_modes[i]) != 0)
            return -1;
    }
    if (mkdir(P("%s/sub", dir), 0700) != 0 ||
        write_file(P("%s/sub/g", dir), "precious", 0600) != 0 ||
        chmod(P("%s/sub", dir), 0500) != 0)
        return -1;
    return chmod(dir, dir_mode);
}

/* Whether make_outside's directory is intact, modes included. */
static inline bool outside_intact(const char *dir, mode_t dir_mode)
{
    if (mode_of(dir) != dir_mode)
        return false;
    for (int i = 0; i < OUTSIDE_FILES; i++)
        if (mode_of(P("%s/f%d", dir, i)) != outside_modes[i])
            return false;
    return mode_of(P("%s/sub", dir)) == 0500 && mode_of(P("%s/sub/g", dir)) == 0600;
}

#endif

/* Directories and files, the part of build_tree every system has;
 * three_mode: a/b/c/three's mode (0400 makes it read-only on Windows). */
static inline int build_plain_tree(const char *root, mode_t three_mode)
{
    int rc = 0;
    rc |= mkdir(P("%s/a", root), 0755);
    rc |= mkdir(P("%s/a/b", root), 0700);
    rc |= mkdir(P("%s/a/b/c", root), 0700);
    rc |= mkdir(P("%s/empty", root), 0700);
    rc |= write_file(P("%s/top.txt", root), "x", 0644);
    rc |= write_file(P("%s/a/one", root), "1", 0600);
    rc |= write_file(P("%s/a/b/two", root), "2", 0600);
    rc |= write_file(P("%s/a/b/c/three", root), "3", three_mode);
    return rc;
}

#ifndef _WIN32
/* A tree of every entry kind: nested dirs, files, a fifo, symlinks to a
 * file, to a dir, dangling, absolute, and a hard link. */
static inline int build_tree(const char *root)
{
    int rc = build_plain_tree(root, 0600);
    rc |= mkfifo(P("%s/a/fifo", root), 0600);
    rc |= symlink("top.txt", P("%s/link-file", root));
    rc |= symlink("a/b", P("%s/link-dir", root));
    rc |= symlink("does/not/exist", P("%s/a/dangling", root));
    rc |= symlink("/", P("%s/a/b/root-link", root));
    rc |= link(P("%s/a/one", root), P("%s/a/b/c/hard", root));
    return rc ? -1 : 0;
}
#else
/* Windows: no fifos, and links are not made here (Wine makes none; the
 * layer's link cases are in test_windows.c): the tree is directories and
 * files, one of them read-only (what removal must get past there). */
static inline int build_tree(const char *root)
{
    return build_plain_tree(root, 0400) ? -1 : 0;
}
#endif

#ifndef _WIN32
static inline int set_nofile(rlim_t n)
{
    struct rlimit rl = {n, n};
    return setrlimit(RLIMIT_NOFILE, &rl);
}
#endif

#endif
