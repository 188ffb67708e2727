/* Windows-only behaviour, run under Wine in the cross build
 * (cmake/mingw-w64-x86_64.cmake): the platform layer (src/win/) through the
 * tmpf__os_* functions, then the public API (test_api_*) as a program
 * linking libtmpf.a uses it. Own small harness (tests/harness.h is POSIX).
 *
 * Children are this executable re-run with arguments (no fork here).
 * Links (symlinks, junctions) cannot be made under Wine 8, so the
 * never-follow cases are skipped there, and say so. */
#include "../src/internal.h"
#include "../src/win/win.h"

#include <aclapi.h>
#include <sddl.h>
#include <tlhelp32.h>
#include <errno.h>
#include <fcntl.h>
#include <io.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <wchar.h>
#include <windows.h>

static int passed, failed, current_failures, skipped;
static char scratch[1024];   /* UTF-8, this test's own directory */
static wchar_t wscratch[1024];

#define CHECK(cond)                                                            \
    do {                                                                       \
        if (!(cond)) {                                                         \
            fprintf(stderr, "  %s:%d: CHECK(%s) failed (errno %d, last error %lu)\n", \
                    __FILE__, __LINE__, #cond, errno, (unsigned long)GetLastError()); \
            current_failures++;                                                \
        }                                                                      \
    } while (0)
#define CHECK_EQ_INT(a, b)                                                     \
    do {                                                                       \
        long long a_ = (long long)(a), b_ = (long long)(b);                     \
        if (a_ != b_) {                                                        \
            fprintf(stderr, "  %s:%d: %s == %lld, expected %s == %lld\n",      \
                    __FILE__, __LINE__, #a, a_, #b, b_);                        \
            current_failures++;                                                \
        }                                                                      \
    } while (0)
#define SKIP(reason)                                                           \
    do {                                                                       \
        printf("  skipped: %s\n", reason);                                     \
        skipped++;                                                             \
        return;                                                                \
    } while (0)

static bool under_wine(void)
{
    HMODULE ntdll = GetModuleHandleW(L"ntdll.dll");
    return ntdll && GetProcAddress(ntdll, "wine_get_version");
}

/* scratch\name as UTF-8 and as UTF-16. */
static char *in_scratch(const char *name)
{
    static char buf[4][2048];
    static int next;
    char *p = buf[next++ % 4];
    snprintf(p, sizeof buf[0], "%s\\%s", scratch, name);
    return p;
}

static wchar_t *wide(const char *s)
{
    static wchar_t buf[4][2048];
    static int next;
    wchar_t *w = buf[next++ % 4];
    MultiByteToWideChar(CP_UTF8, 0, s, -1, w, 2048);
    return w;
}

/* Entries in dir (not counting . and ..), each printed with print. */
static int list_entries(const wchar_t *dir, bool print)
{
    wchar_t pattern[2048];
    _snwprintf(pattern, 2048, L"%ls\\*", dir);
    pattern[2047] = 0;
    WIN32_FIND_DATAW fd;
    HANDLE h = FindFirstFileW(pattern, &fd);
    if (h == INVALID_HANDLE_VALUE)
        return 0;
    int n = 0;
    do
        if (wcscmp(fd.cFileName, L".") && wcscmp(fd.cFileName, L"..")) {
            n++;
            if (print)
                fprintf(stderr, "  (entry: %ls)\n", fd.cFileName);
        }
    while (FindNextFileW(h, &fd));
    FindClose(h);
    return n;
}

/* Entries in dir, each printed (a case that leaves one shows it). */
static int count_entries(const wchar_t *dir) { return list_entries(dir, true); }

/* Entries in dir, without printing them. */
static int entries_in(const wchar_t *dir) { return list_entries(dir, false); }

static bool wexists(const wchar_t *path)
{
    return GetFileAttributesW(path) != INVALID_FILE_ATTRIBUTES;
}

/* ---- the cases ------------------------------------------------------------ */

static void test_random_bytes_differ(void)
{
    unsigned char a[32], b[32];
    CHECK_EQ_INT(tmpf__os_random(a, sizeof a), 0);
    CHECK_EQ_INT(tmpf__os_random(b, sizeof b), 0);
    CHECK(memcmp(a, b, sizeof a) != 0);
}

static void test_create_new_refuses_existing(void)
{
    const char *p = in_scratch("f1");
    int fd = tmpf__os_create_file(p, 0600, 0);
    CHECK(fd >= 0);
    errno = 0;
    int fd2 = tmpf__os_create_file(p, 0600, 0);
    CHECK_EQ_INT(fd2, -1);
    CHECK_EQ_INT(errno, EEXIST);
    DWORD a = GetFileAttributesW(wide(p));
    CHECK(a != INVALID_FILE_ATTRIBUTES);
    /* Wine 8 keeps no FILE_ATTRIBUTE_TEMPORARY (it stores few DOS bits). */
    if (!under_wine())
        CHECK(a & FILE_ATTRIBUTE_TEMPORARY);
    CHECK_EQ_INT(tmpf__os_close(fd), 0);
    CHECK_EQ_INT(tmpf__os_unlink(p), 0);
    CHECK(!wexists(wide(p)));
}

/* The seeds' pattern: pass the name to another program while holding the
 * file. A plain fopen (no FILE_SHARE_DELETE asked) must succeed. */
static void test_named_file_opens_by_name_while_held(void)
{
    const char *p = in_scratch("shared.txt");
    int fd = tmpf__os_create_file(p, 0600, 0);
    CHECK(fd >= 0);
    CHECK_EQ_INT(tmpf__os_write_all(fd, "hello", 5), 0);
    FILE *other = _wfopen(wide(p), L"rb");
    CHECK(other != NULL);
    if (other) {
        char buf[8] = {0};
        CHECK_EQ_INT(fread(buf, 1, 5, other), 5);
        CHECK(memcmp(buf, "hello", 5) == 0);
        fclose(other);
    }
    CHECK_EQ_INT(tmpf__os_close(fd), 0);
    CHECK_EQ_INT(tmpf__os_unlink(p), 0);
}

/* Deleting while another handle shares deletion: the name goes (at once
 * with POSIX semantics; on systems without them when the last handle
 * closes), never an error. */
static void test_delete_while_another_handle_shares_deletion(void)
{
    const char *p = in_scratch("held");
    int fd = tmpf__os_create_file(p, 0600, 0);
    CHECK(fd >= 0);
    HANDLE h = CreateFileW(wide(p), GENERIC_READ,
                           FILE_SHARE_READ | FILE_SHARE_WRITE | FILE_SHARE_DELETE, NULL,
                           OPEN_EXISTING, 0, NULL);
    CHECK(h != INVALID_HANDLE_VALUE);
    CHECK_EQ_INT(tmpf__os_close(fd), 0);
    CHECK_EQ_INT(tmpf__os_unlink(p), 0);
    CloseHandle(h);
    CHECK(!wexists(wide(p)));
}

/* A reader that does not share deletion blocks it: a clear error. */
static void test_exclusive_reader_blocks_delete(void)
{
    const char *p = in_scratch("excl");
    int fd = tmpf__os_create_file(p, 0600, 0);
    CHECK(fd >= 0);
    CHECK_EQ_INT(tmpf__os_close(fd), 0);
    HANDLE h = CreateFileW(wide(p), GENERIC_READ, FILE_SHARE_READ, NULL, OPEN_EXISTING, 0, NULL);
    CHECK(h != INVALID_HANDLE_VALUE);
    errno = 0;
    CHECK_EQ_INT(tmpf__os_unlink(p), -1);
    CHECK(errno == EBUSY || errno == EACCES);
    CloseHandle(h);
    CHECK_EQ_INT(tmpf__os_unlink(p), 0);
    CHECK(!wexists(wide(p)));
}

static void test_read_only_file_is_removed(void)
{
    const char *p = in_scratch("ro");
    int fd = tmpf__os_create_file(p, 0400, 0);
    CHECK(fd >= 0);
    CHECK_EQ_INT(tmpf__os_write_all(fd, "x", 1), 0); /* the creator may write */
    CHECK_EQ_INT(tmpf__os_close(fd), 0);
    DWORD a = GetFileAttributesW(wide(p));
    CHECK(a != INVALID_FILE_ATTRIBUTES && (a & FILE_ATTRIBUTE_READONLY));
    CHECK_EQ_INT(tmpf__os_unlink(p), 0);
    CHECK(!wexists(wide(p)));
}

static void test_anonymous_file_leaves_nothing(void)
{
    int fd = tmpf__os_open_tmpfile(-100, scratch, 0600);
    CHECK(fd >= 0);
    CHECK_EQ_INT(tmpf__os_write_all(fd, "abc", 3), 0);
    CHECK_EQ_INT(tmpf__os_seek(fd, 0, SEEK_SET), 0);
    char buf[4] = {0};
    CHECK_EQ_INT(_read(fd, buf, 3), 3);
    CHECK(memcmp(buf, "abc", 3) == 0);
    /* An independent second descriptor (ReOpenFile): its own offset. */
    int fd2 = tmpf__os_reopen_fd(fd, _O_RDONLY);
    CHECK(fd2 >= 0);
    if (fd2 >= 0) {
        CHECK_EQ_INT(_read(fd2, buf, 1), 1);
        CHECK_EQ_INT(buf[0], 'a');
        CHECK_EQ_INT(tmpf__os_seek(fd, 0, SEEK_CUR), 3);
        tmpf__os_close(fd2);
    }
    CHECK_EQ_INT(tmpf__os_close(fd), 0);
    CHECK_EQ_INT(count_entries(wscratch), 0);
}

/* Runs this executable with args and CreateProcessW's creation flags;
 * returns the process handle. */
static HANDLE spawn_self_flags(const wchar_t *args, DWORD flags)
{
    wchar_t exe[MAX_PATH];
    GetModuleFileNameW(NULL, exe, MAX_PATH);
    wchar_t cmd[4096];
    _snwprintf(cmd, 4096, L"\"%ls\" %ls", exe, args);
    cmd[4095] = 0;
    STARTUPINFOW si;
    memset(&si, 0, sizeof si);
    si.cb = sizeof si;
    PROCESS_INFORMATION pi;
    if (!CreateProcessW(NULL, cmd, NULL, NULL, FALSE, flags, NULL, NULL, &si, &pi))
        return NULL;
    CloseHandle(pi.hThread);
    return pi.hProcess;
}

/* Runs this executable with args; returns the process handle. */
static HANDLE spawn_self(const wchar_t *args)
{
    return spawn_self_flags(args, 0);
}

/* Runs this executable with args to its end: its exit code, 99 if it
 * could not be started. */
static DWORD run_self(const wchar_t *args)
{
    HANDLE h = spawn_self(args);
    if (!h)
        return 99;
    WaitForSingleObject(h, INFINITE);
    DWORD code = 99;
    GetExitCodeProcess(h, &code);
    CloseHandle(h);
    return code;
}

/* The child: an anonymous file in dir, then a marker, then wait forever. */
static int child_anonymous(const char *dir)
{
    int fd = tmpf__os_open_tmpfile(-100, dir, 0600);
    if (fd < 0 || tmpf__os_write_all(fd, "data", 4) != 0)
        return 2;
    char marker[2048];
    snprintf(marker, sizeof marker, "%s\\ready", dir);
    int m = tmpf__os_create_file(marker, 0600, 0);
    if (m < 0)
        return 3;
    tmpf__os_close(m);
    Sleep(INFINITE);
    return 0;
}

static void test_anonymous_file_gone_after_terminate(void)
{
    wchar_t args[2048];
    _snwprintf(args, 2048, L"child-anonymous \"%ls\"", wscratch);
    args[2047] = 0;
    HANDLE child = spawn_self(args);
    CHECK(child != NULL);
    if (!child)
        return;
    const wchar_t *marker = wide(in_scratch("ready"));
    /* Waits for the child's marker (or its early exit), not for a time. */
    while (!wexists(marker) && WaitForSingleObject(child, 10) == WAIT_TIMEOUT)
        ;
    CHECK(wexists(marker));
    CHECK_EQ_INT(count_entries(wscratch), 2); /* the marker, the anonymous file */
    TerminateProcess(child, 9);
    WaitForSingleObject(child, INFINITE);
    CloseHandle(child);
    CHECK_EQ_INT(tmpf__os_unlink(in_scratch("ready")), 0);
    CHECK_EQ_INT(count_entries(wscratch), 0);
}

static void test_utf8_names(void)
{
    /* Cyrillic and CJK: UTF-8 at the layer, UTF-16 on disk. */
    const char *p = in_scratch("\xd0\x9f\xd1\x80\xd0\xb8\xd0\xb2\xd0\xb5\xd1\x82-\xe6\x97\xa5\xe6\x9c\xac.txt");
    int fd = tmpf__os_create_file(p, 0600, 0);
    CHECK(fd >= 0);
    CHECK_EQ_INT(tmpf__os_close(fd), 0);
    wchar_t want[2048];
    _snwprintf(want, 2048, L"%ls\\\x041f\x0440\x0438\x0432\x0435\x0442-\x65e5\x672c.txt", wscratch);
    want[2047] = 0;
    CHECK(wexists(want));
    CHECK(tmpf__os_lexists(p));
    CHECK_EQ_INT(tmpf__os_unlink(p), 0);
    CHECK(!wexists(want));
}

static void test_long_paths(void)
{
    /* Nested directories to well past MAX_PATH (260), then a file, then the
     * whole tree removed. */
    char path[2048];
    snprintf(path, sizeof path, "%s\\long", scratch);
    CHECK_EQ_INT(tmpf__os_create_dir(path, 0700), 0);
    while (strlen(path) < 600) {
        strcat(path, "\\abcdefghijklmnopqrstuvwxyz0123456789");
        CHECK_EQ_INT(tmpf__os_create_dir(path, 0700), 0);
    }
    strcat(path, "\\file.txt");
    int fd = tmpf__os_create_file(path, 0600, 0);
    CHECK(fd >= 0);
    if (fd >= 0) {
        CHECK_EQ_INT(tmpf__os_write_all(fd, "deep", 4), 0);
        struct tmpf__os_facts a, b;
        CHECK_EQ_INT(tmpf__os_facts_fd(fd, &a), 0);
        CHECK_EQ_INT(tmpf__os_facts_path(path, false, &b), 0);
        CHECK(a.id.ino == b.id.ino && a.id.dev == b.id.dev);
        tmpf__os_close(fd);
    }
    CHECK(tmpf__os_lexists(path));
    CHECK_EQ_INT(tmpf__os_rmtree(scratch, "long"), 0);
    CHECK_EQ_INT(count_entries(wscratch), 0);
}

static void test_rmtree_read_only_tree(void)
{
    CHECK_EQ_INT(tmpf__os_create_dir(in_scratch("t"), 0700), 0);
    CHECK_EQ_INT(tmpf__os_create_dir(in_scratch("t\\sub"), 0700), 0);
    int fd = tmpf__os_create_file(in_scratch("t\\sub\\ro"), 0400, 0);
    CHECK(fd >= 0);
    tmpf__os_close(fd);
    fd = tmpf__os_create_file(in_scratch("t\\rw"), 0600, 0);
    CHECK(fd >= 0);
    tmpf__os_close(fd);
    /* A read-only directory too. */
    CHECK(SetFileAttributesW(wide(in_scratch("t\\sub")), FILE_ATTRIBUTE_READONLY));
    CHECK_EQ_INT(tmpf__os_rmtree(scratch, "t"), 0);
    CHECK_EQ_INT(count_entries(wscratch), 0);
    /* Nothing there: success. */
    CHECK_EQ_INT(tmpf__os_rmtree(scratch, "t"), 0);
}

static void test_rmtree_reports_what_it_cannot_remove(void)
{
    CHECK_EQ_INT(tmpf__os_create_dir(in_scratch("b"), 0700), 0);
    int fd = tmpf__os_create_file(in_scratch("b\\held"), 0600, 0);
    CHECK(fd >= 0);
    tmpf__os_close(fd);
    fd = tmpf__os_create_file(in_scratch("b\\free"), 0600, 0);
    CHECK(fd >= 0);
    tmpf__os_close(fd);
    HANDLE h = CreateFileW(wide(in_scratch("b\\held")), GENERIC_READ, FILE_SHARE_READ, NULL,
                           OPEN_EXISTING, 0, NULL);
    CHECK(h != INVALID_HANDLE_VALUE);
    int err = tmpf__os_rmtree(scratch, "b");
    CHECK(err == EBUSY || err == EACCES);
    CHECK(!wexists(wide(in_scratch("b\\free")))); /* the rest went */
    CHECK(wexists(wide(in_scratch("b\\held"))));
    CloseHandle(h);
    CHECK_EQ_INT(tmpf__os_rmtree(scratch, "b"), 0);
    CHECK_EQ_INT(count_entries(wscratch), 0);
}

/* Someone holds a file of the tree open, sharing deletion: the tree
 * still goes (POSIX delete where the system has it; else the file is
 * renamed out of the tree, then deleted on close). */
static void test_rmtree_removes_file_held_with_shared_delete(void)
{
    CHECK_EQ_INT(tmpf__os_create_dir(in_scratch("h"), 0700), 0);
    int fd = tmpf__os_create_file(in_scratch("h\\open"), 0600, 0);
    CHECK(fd >= 0);
    tmpf__os_close(fd);
    HANDLE h = CreateFileW(wide(in_scratch("h\\open")), GENERIC_READ,
                           FILE_SHARE_READ | FILE_SHARE_WRITE | FILE_SHARE_DELETE, NULL,
                           OPEN_EXISTING, 0, NULL);
    CHECK(h != INVALID_HANDLE_VALUE);
    CHECK_EQ_INT(tmpf__os_rmtree(scratch, "h"), 0);
    CHECK(!wexists(wide(in_scratch("h"))));
    CloseHandle(h);
    CHECK_EQ_INT(tmpf__os_rmtree(scratch, "h"), 0); /* whatever is left */
}

static void test_rmtree_contents_keeps_the_directory(void)
{
    CHECK_EQ_INT(tmpf__os_create_dir(in_scratch("c"), 0700), 0);
    CHECK_EQ_INT(tmpf__os_create_dir(in_scratch("c\\d"), 0700), 0);
    int fd = tmpf__os_create_file(in_scratch("c\\d\\f"), 0600, 0);
    CHECK(fd >= 0);
    tmpf__os_close(fd);
    int dfd = tmpf__os_open_dir_nofollow(in_scratch("c"));
    CHECK(dfd >= 0);
    if (dfd >= 0) {
        CHECK_EQ_INT(tmpf__os_rmtree_contents(dfd), 0);
        tmpf__os_close(dfd);
    }
    CHECK(wexists(wide(in_scratch("c"))));
    CHECK_EQ_INT(count_entries(wide(in_scratch("c"))), 0);
    CHECK_EQ_INT(tmpf__os_rmdir(in_scratch("c")), 0);
}

static void test_links_never_followed(void)
{
    CHECK_EQ_INT(tmpf__os_create_dir(in_scratch("target"), 0700), 0);
    int fd = tmpf__os_create_file(in_scratch("target\\keep"), 0600, 0);
    CHECK(fd >= 0);
    tmpf__os_close(fd);
    CHECK_EQ_INT(tmpf__os_create_dir(in_scratch("tree"), 0700), 0);
    BOOL made = CreateSymbolicLinkW(wide(in_scratch("tree\\link")), wide(in_scratch("target")),
                                    SYMBOLIC_LINK_FLAG_DIRECTORY | 0x2 /* unprivileged */);
    /* Wine 8's CreateSymbolicLinkW says TRUE and makes nothing. */
    DWORD la = GetFileAttributesW(wide(in_scratch("tree\\link")));
    if (made && (la == INVALID_FILE_ATTRIBUTES || !(la & FILE_ATTRIBUTE_REPARSE_POINT)))
        made = FALSE;
    if (!made) {
        tmpf__os_rmtree(scratch, "tree");
        tmpf__os_rmtree(scratch, "target");
        SKIP(under_wine() ? "Wine cannot create symbolic links (its CreateSymbolicLinkW makes nothing): real Windows only"
                          : "creating a symbolic link was refused (no privilege, no developer mode)");
    }
    CHECK_EQ_INT(tmpf__os_rmtree(scratch, "tree"), 0);
    CHECK(wexists(wide(in_scratch("target\\keep"))));
    CHECK_EQ_INT(tmpf__os_rmtree(scratch, "target"), 0);
}

static void test_reopen_by_name_checks_identity(void)
{
    const char *p = in_scratch("r");
    int fd = tmpf__os_create_file(p, 0600, 0);
    CHECK(fd >= 0);
    CHECK_EQ_INT(tmpf__os_write_all(fd, "12345", 5), 0);
    int fd2 = tmpf__os_reopen_path(p, fd, _O_RDONLY);
    CHECK(fd2 >= 0);
    if (fd2 >= 0) {
        char c = 0;
        CHECK_EQ_INT(_read(fd2, &c, 1), 1);
        CHECK_EQ_INT(c, '1');
        tmpf__os_close(fd2);
    }
    /* Another file under the name: ENOENT, as on POSIX. (The held file is
     * moved away: without POSIX delete semantics, Wine and older Windows,
     * a deleted name stays until the last handle closes.) */
    CHECK_EQ_INT(tmpf__os_rename_noreplace(-100, p, -100, in_scratch("r-moved")), 0);
    int other = tmpf__os_create_file(p, 0600, 0);
    CHECK(other >= 0);
    errno = 0;
    int wrong = tmpf__os_reopen_path(p, fd, _O_RDONLY);
    CHECK_EQ_INT(wrong, -1);
    CHECK_EQ_INT(errno, ENOENT);
    if (wrong >= 0)
        tmpf__os_close(wrong);
    tmpf__os_close(other);
    tmpf__os_close(fd);
    CHECK_EQ_INT(tmpf__os_unlink(p), 0);
    CHECK_EQ_INT(tmpf__os_unlink(in_scratch("r-moved")), 0);
}

static void test_rename_noreplace(void)
{
    int a = tmpf__os_create_file(in_scratch("a"), 0600, 0);
    int b = tmpf__os_create_file(in_scratch("b"), 0600, 0);
    CHECK(a >= 0 && b >= 0);
    tmpf__os_close(a);
    tmpf__os_close(b);
    errno = 0;
    CHECK_EQ_INT(tmpf__os_rename_noreplace(-100, in_scratch("a"), -100, in_scratch("b")), -1);
    CHECK_EQ_INT(errno, EEXIST);
    CHECK_EQ_INT(tmpf__os_rename_noreplace(-100, in_scratch("a"), -100, in_scratch("c")), 0);
    CHECK(!wexists(wide(in_scratch("a"))));
    CHECK(wexists(wide(in_scratch("c"))));
    /* Relative to a directory descriptor. */
    int dfd = tmpf__os_open_dir(scratch);
    CHECK(dfd >= 0);
    CHECK_EQ_INT(tmpf__os_rename_noreplace(dfd, "c", dfd, "d"), 0);
    CHECK(wexists(wide(in_scratch("d"))));
    tmpf__os_close(dfd);
    CHECK_EQ_INT(tmpf__os_unlink(in_scratch("b")), 0);
    CHECK_EQ_INT(tmpf__os_unlink(in_scratch("d")), 0);
}

static void test_side_lock_and_sweep(void)
{
    int dfd = tmpf__os_open_dir(scratch);
    CHECK(dfd >= 0);
    int live = tmpf__os_create_file(in_scratch("side-live"), 0600, 0);
    CHECK(live >= 0);
    CHECK_EQ_INT(tmpf__os_side_lock(live), 0);
    /* The lock is far past the data: the file's own readers are not
     * blocked (Windows locks are mandatory). */
    CHECK_EQ_INT(tmpf__os_write_all(live, "data", 4), 0);
    int stale = tmpf__os_create_file(in_scratch("side-stale"), 0600, 0);
    CHECK(stale >= 0);
    tmpf__os_close(stale);
    CHECK(!tmpf__os_side_sweep(dfd, "side-live")); /* a live writer holds it */
    CHECK(wexists(wide(in_scratch("side-live"))));
    CHECK(tmpf__os_side_sweep(dfd, "side-stale"));
    CHECK(!wexists(wide(in_scratch("side-stale"))));
    CHECK(tmpf__os_side_sweep(dfd, "side-none")); /* nothing there: free */
    tmpf__os_close(live);
    CHECK(tmpf__os_side_sweep(dfd, "side-live")); /* its writer is gone */
    tmpf__os_close(dfd);
    CHECK_EQ_INT(count_entries(wscratch), 0);
}

static void test_fsync_counts(void)
{
    int fd = tmpf__os_create_file(in_scratch("s"), 0600, 0);
    CHECK(fd >= 0);
    unsigned long before = tmpf__test_fsync_count();
    CHECK_EQ_INT(tmpf__os_fsync(fd, false), 0);
    CHECK_EQ_INT(tmpf__test_fsync_count(), before + 1);
    tmpf__os_close(fd);
    CHECK_EQ_INT(tmpf__os_unlink(in_scratch("s")), 0);
}

static void test_link_fd_copies_anonymous_file(void)
{
    int fd = tmpf__os_open_tmpfile(-100, scratch, 0600);
    CHECK(fd >= 0);
    CHECK_EQ_INT(tmpf__os_write_all(fd, "persisted", 9), 0);
    int dfd = tmpf__os_open_dir(scratch);
    CHECK(dfd >= 0);
    CHECK_EQ_INT(tmpf__os_link_fd(fd, dfd, "named"), 0);
    errno = 0;
    CHECK_EQ_INT(tmpf__os_link_fd(fd, dfd, "named"), -1);
    CHECK_EQ_INT(errno, EEXIST);
    tmpf__os_close(dfd);
    tmpf__os_close(fd);
    FILE *f = _wfopen(wide(in_scratch("named")), L"rb");
    CHECK(f != NULL);
    if (f) {
        char buf[16] = {0};
        CHECK_EQ_INT(fread(buf, 1, sizeof buf, f), 9);
        CHECK(memcmp(buf, "persisted", 9) == 0);
        fclose(f);
    }
    CHECK_EQ_INT(tmpf__os_unlink(in_scratch("named")), 0);
    CHECK_EQ_INT(count_entries(wscratch), 0);
}

/* The token's user SID (static: the process's user does not change);
 * NULL on failure. */
static PSID my_user_sid(void)
{
    static union {
        TOKEN_USER user;
        unsigned char bytes[sizeof(TOKEN_USER) + SECURITY_MAX_SID_SIZE];
    } u;
    HANDLE token;
    DWORD len;
    if (!OpenProcessToken(GetCurrentProcess(), TOKEN_QUERY, &token))
        return NULL;
    BOOL ok = GetTokenInformation(token, TokenUser, &u, sizeof u, &len);
    CloseHandle(token);
    return ok ? u.user.User.Sid : NULL;
}

/* A security descriptor from SDDL (LocalFree it); NULL on failure. */
static PSECURITY_DESCRIPTOR sd_of(const wchar_t *sddl)
{
    PSECURITY_DESCRIPTOR sd = NULL;
    if (!ConvertStringSecurityDescriptorToSecurityDescriptorW(sddl, SDDL_REVISION_1, &sd, NULL))
        return NULL;
    return sd;
}

/* sd_of of fmt, its %ls the user's SID string (fallback where that cannot
 * be read). */
static PSECURITY_DESCRIPTOR sd_for_me(const wchar_t *fmt, const wchar_t *fallback)
{
    PSID sid = my_user_sid();
    LPWSTR me = NULL;
    if (sid && !ConvertSidToStringSidW(sid, &me))
        me = NULL;
    wchar_t sddl[512];
    _snwprintf(sddl, 512, fmt, me ? me : fallback);
    sddl[511] = 0;
    LocalFree(me);
    return sd_of(sddl);
}

/* Whether the DACL of path grants anything to a broad group (Everyone,
 * Users, Authenticated Users), and whether it grants the user. */
static void dacl_of(const char *path, bool *broad, bool *user)
{
    *broad = *user = false;
    PACL dacl = NULL;
    PSECURITY_DESCRIPTOR sd = NULL;
    DWORD rc = GetNamedSecurityInfoW(wide(path), SE_FILE_OBJECT, DACL_SECURITY_INFORMATION,
                                     NULL, NULL, &dacl, NULL, &sd);
    CHECK_EQ_INT(rc, ERROR_SUCCESS);
    if (rc != ERROR_SUCCESS)
        return;
    if (!dacl) {
        *broad = true; /* a NULL DACL: everyone may do everything */
        LocalFree(sd);
        return;
    }
    PSID me = my_user_sid();
    CHECK(me != NULL);
    for (DWORD i = 0; i < dacl->AceCount; i++) {
        void *e = NULL;
        LPSTR str = NULL;
        if (!GetAce(dacl, i, &e) || ((ACE_HEADER *)e)->AceType != ACCESS_ALLOWED_ACE_TYPE)
            continue;
        PSID sid = (PSID)&((ACCESS_ALLOWED_ACE *)e)->SidStart;
        if (me && EqualSid(sid, me))
            *user = true;
        if (ConvertSidToStringSidA(sid, &str)) {
            if (!strcmp(str, "S-1-1-0") || !strcmp(str, "S-1-5-32-545") ||
                !strcmp(str, "S-1-5-11")) {
                fprintf(stderr, "  (%s grants %s)\n", path, str);
                *broad = true;
            }
            LocalFree(str);
        }
    }
    LocalFree(sd);
}

/* 0700: an owner-only DACL (no Everyone, Users or Authenticated Users
 * entry; Wine shows SYSTEM beside the user); 0755: the inherited one. */
static void test_owner_only_dacl(void)
{
    const char *p = in_scratch("private");
    CHECK_EQ_INT(tmpf__os_create_dir(p, 0700), 0);
    bool broad, user;
    dacl_of(p, &broad, &user);
    CHECK(!broad);
    CHECK(user);
    CHECK_EQ_INT(tmpf__os_rmdir(p), 0);
    /* The same relative to a directory descriptor. */
    int dfd = tmpf__os_open_dir(scratch);
    CHECK(dfd >= 0);
    CHECK_EQ_INT(tmpf__os_make_dir_at(dfd, "private-at", 0700), 0);
    tmpf__os_close(dfd);
    dacl_of(in_scratch("private-at"), &broad, &user);
    CHECK(!broad);
    CHECK(user);
    CHECK_EQ_INT(tmpf__os_rmdir(in_scratch("private-at")), 0);
    /* The control: a directory made with the default DACL, which here
     * grants a broad group (else this test could not fail). */
    const char *q = in_scratch("open");
    CHECK(CreateDirectoryW(wide(q), NULL));
    dacl_of(q, &broad, &user);
    if (!broad)
        printf("  note: the default DACL here grants no broad group\n");
    CHECK_EQ_INT(tmpf__os_rmdir(q), 0);
}

static int once_runs;
static void count_once(void) { once_runs++; }

static void test_once_runs_once(void)
{
    /* The library's own once slots are real now: gettempdir has run the
     * temp-dir one, so another function given it never runs. */
    CHECK(tmpf_gettempdir() != NULL);
    tmpf__os_once(TMPF__ONCE_TEMPDIR_ATFORK, count_once);
    tmpf__os_once(TMPF__ONCE_TEMPDIR_ATFORK, count_once);
    CHECK_EQ_INT(once_runs, 0);
    tmpf__os_lock(TMPF__LOCK_AUDIT_HOOK);
    tmpf__os_unlock(TMPF__LOCK_AUDIT_HOOK);
    /* A scope's mutex: storage from the caller, aligned as max_align_t. */
    size_t n = tmpf__os_mutex_size();
    CHECK(n > 0 && n <= 64);
    max_align_t storage[8];
    struct tmpf__os_mutex *m = (struct tmpf__os_mutex *)storage;
    CHECK_EQ_INT(tmpf__os_mutex_init(m), 0);
    tmpf__os_mutex_lock(m);
    tmpf__os_mutex_unlock(m);
    tmpf__os_mutex_destroy(m);
}

static void test_path_forms(void)
{
    /* '/' and '\' alike; the current directory comes back in UTF-8. */
    char *cwd = tmpf__os_getcwd(0);
    CHECK(cwd != NULL && strchr(cwd, '\\') != NULL);
    free(cwd);
    char p[2048];
    snprintf(p, sizeof p, "%s/slash", scratch);
    int fd = tmpf__os_create_file(p, 0600, 0);
    CHECK(fd >= 0);
    tmpf__os_close(fd);
    CHECK(wexists(wide(in_scratch("slash"))));
    CHECK_EQ_INT(tmpf__os_unlink(in_scratch("slash")), 0);
}

static void test_environment_in_utf8(void)
{
    /* TMPF_WIN_TEST = "Привет" set as UTF-16: read back as UTF-8. */
    CHECK(SetEnvironmentVariableW(L"TMPF_WIN_TEST", L"\x041f\x0440\x0438\x0432\x0435\x0442"));
    CHECK_EQ_INT(_wputenv(L"TMPF_WIN_TEST=\x041f\x0440\x0438\x0432\x0435\x0442"), 0);
    const char *v = tmpf__os_secure_getenv("TMPF_WIN_TEST");
    CHECK(v && !strcmp(v, "\xd0\x9f\xd1\x80\xd0\xb8\xd0\xb2\xd0\xb5\xd1\x82"));
    /* The same value twice: the same copy; a new value: a new one, the
     * old pointer still valid. */
    CHECK(tmpf__os_secure_getenv("TMPF_WIN_TEST") == v);
    CHECK_EQ_INT(_wputenv(L"TMPF_WIN_TEST=x"), 0);
    const char *x = tmpf__os_secure_getenv("TMPF_WIN_TEST");
    CHECK(x && !strcmp(x, "x") && v && v[0] == '\xd0');
    CHECK_EQ_INT(_wputenv(L"TMPF_WIN_TEST="), 0);
    CHECK(tmpf__os_secure_getenv("TMPF_WIN_TEST") == NULL);
}

static void test_path_syntax(void)
{
    /* src/win/os_path.h: what the portable files split paths with. */
    CHECK(tmpf__os_is_sep('/') && tmpf__os_is_sep('\\') && !tmpf__os_is_sep(':'));
    CHECK_EQ_INT(tmpf__os_root_len("C:\\x"), 3);
    CHECK_EQ_INT(tmpf__os_root_len("c:/x"), 3);
    CHECK_EQ_INT(tmpf__os_root_len("C:x"), 0);
    CHECK_EQ_INT(tmpf__os_root_len("\\x"), 1);
    CHECK_EQ_INT(tmpf__os_root_len("x\\y"), 0);
    CHECK_EQ_INT(tmpf__os_root_len("\\\\srv\\share\\x"), 12);
    CHECK_EQ_INT(tmpf__os_root_len("\\\\srv\\share"), 11);
    CHECK_EQ_INT(tmpf__os_root_len("\\\\?\\C:\\x"), 7);
    CHECK_EQ_INT(tmpf__os_root_len("\\\\?\\UNC\\srv\\share\\x"), 18);
    CHECK(strchr(TMPF__OS_NAME_FORBIDDEN, ':') && strchr(TMPF__OS_NAME_FORBIDDEN, '\\') &&
          strchr(TMPF__OS_NAME_FORBIDDEN, '/'));
}

/* The *_at calls resolve a name from the directory handle itself (POSIX
 * *at): a directory renamed after it was opened still receives the file,
 * and renames in it still work. */
static void test_create_at_follows_renamed_directory(void)
{
    const char *d1 = in_scratch("at-before");
    const char *d2 = in_scratch("at-after");
    CHECK(CreateDirectoryW(wide(d1), NULL));
    int dfd = tmpf__os_open_dir(d1);
    CHECK(dfd >= 0);
    if (dfd < 0)
        return;
    CHECK(MoveFileExW(wide(d1), wide(d2), 0));
    int fd = tmpf__os_create_file_at(dfd, "inside", 0600, 0);
    CHECK(fd >= 0);
    if (fd >= 0)
        tmpf__os_close(fd);
    char p[2048];
    snprintf(p, sizeof p, "%s\\inside", d2);
    CHECK(wexists(wide(p)));
    /* Renames too: names relative to the handles, EEXIST kept. Wine 8
     * resolves a rename's root directory by its path, stale once the
     * directory moved: real Windows only. */
    if (under_wine()) {
        printf("  note: Wine renames by the directory's old path: renames in a moved "
               "directory not checked\n");
        CHECK_EQ_INT(tmpf__os_unlink(p), 0);
        tmpf__os_close(dfd);
        CHECK(RemoveDirectoryW(wide(d2)));
        return;
    }
    fd = tmpf__os_create_file_at(dfd, "other", 0600, 0);
    CHECK(fd >= 0);
    if (fd >= 0)
        tmpf__os_close(fd);
    errno = 0;
    CHECK_EQ_INT(tmpf__os_rename_noreplace(dfd, "inside", dfd, "other"), -1);
    CHECK_EQ_INT(errno, EEXIST);
    CHECK_EQ_INT(tmpf__os_rename_noreplace(dfd, "inside", dfd, "moved"), 0);
    CHECK_EQ_INT(tmpf__os_rename(dfd, "moved", dfd, "other"), 0);
    snprintf(p, sizeof p, "%s\\other", d2);
    CHECK(wexists(wide(p)));
    CHECK_EQ_INT(count_entries(wide(d2)), 1);
    CHECK_EQ_INT(tmpf__os_unlink(p), 0);
    tmpf__os_close(dfd);
    CHECK(RemoveDirectoryW(wide(d2)));
}

/* ---- the public API (tmpf.h) ---------------------------------------------- */

/* What every path the library hands out looks like on Windows: absolute
 * (a drive or UNC root), '\' only, no "." or ".." component. */
static bool windows_abspath(const char *p)
{
    if (!p)
        return false;
    bool rooted = (p[0] && p[1] == ':' && p[2] == '\\') || (p[0] == '\\' && p[1] == '\\');
    return rooted && !strchr(p, '/') && !strstr(p, "\\.\\") && !strstr(p, "\\..\\");
}

static void test_api_mkstemp(void)
{
    /* dir given with '/' and a "." and ".." in it: the path comes back
     * normalized, with backslashes. */
    char dir[2048];
    snprintf(dir, sizeof dir, "%s/./sub/..", scratch);
    for (char *c = dir; *c; c++)
        if (*c == '\\')
            *c = '/';
    tmpf_opts o = {.dir = dir, .prefix = "mk-", .suffix = ".dat"};
    char *path = NULL;
    int fd = tmpf_mkstemp(&o, &path);
    CHECK(fd >= 0);
    CHECK(windows_abspath(path));
    CHECK(path && strncmp(path, scratch, strlen(scratch)) == 0 &&
          path[strlen(scratch)] == '\\' && strstr(path, "\\mk-") && strstr(path, ".dat"));
    CHECK_EQ_INT(_write(fd, "abc", 3), 3);
    CHECK_EQ_INT(_close(fd), 0);
    CHECK(path && wexists(wide(path)));
    /* The caller's to remove (Python's mkstemp): plain CRT unlink works. */
    CHECK(path && _wunlink(wide(path)) == 0);
    free(path);
}

static void test_api_names_refused(void)
{
    /* '/', '\' and ':' anywhere in prefix or suffix; a suffix ending in
     * '.' or ' ' (Win32 strips them: two spellings of one name). */
    static const char *const bad_prefix[] = {"a/b", "a\\b", "a:b"};
    static const char *const bad_suffix[] = {"x/", "\\x", ":x", ".txt.", "x ", "."};
    for (size_t i = 0; i < sizeof bad_prefix / sizeof *bad_prefix; i++) {
        tmpf_opts o = {.dir = scratch, .prefix = bad_prefix[i]};
        char *p = NULL;
        errno = 0;
        CHECK_EQ_INT(tmpf_mkstemp(&o, &p), -1);
        CHECK_EQ_INT(errno, EINVAL);
    }
    for (size_t i = 0; i < sizeof bad_suffix / sizeof *bad_suffix; i++) {
        tmpf_opts o = {.dir = scratch, .suffix = bad_suffix[i]};
        char *p = NULL;
        errno = 0;
        CHECK_EQ_INT(tmpf_mkstemp(&o, &p), -1);
        CHECK_EQ_INT(errno, EINVAL);
    }
    /* A dot inside the suffix, or a prefix ending in a dot, is fine. */
    tmpf_opts ok = {.dir = scratch, .prefix = "p.", .suffix = ".tar.gz"};
    char *p = NULL;
    int fd = tmpf_mkstemp(&ok, &p);
    CHECK(fd >= 0);
    if (fd >= 0) {
        _close(fd);
        CHECK(_wunlink(wide(p)) == 0);
    }
    free(p);
}

static void test_api_named_file(void)
{
    tmpf_opts o = {.dir = scratch};
    tmpf_file *f = tmpf_named_temporary_file(&o);
    CHECK(f != NULL);
    if (!f)
        return;
    const char *p = tmpf_file_path(f);
    CHECK(windows_abspath(p));
    CHECK_EQ_INT(tmpf_file_write(f, "hello", 5), 5);
    /* Another program opens the name with plain fopen while tmpf holds it. */
    FILE *other = fopen(p, "rb");
    CHECK(other != NULL);
    if (other) {
        char buf[8] = {0};
        CHECK_EQ_INT(fread(buf, 1, 5, other), 5);
        CHECK(memcmp(buf, "hello", 5) == 0);
        fclose(other);
    }
    CHECK_EQ_INT(tmpf_file_close(f), 0);
    CHECK(!wexists(wide(p)));
    CHECK_EQ_INT(tmpf_file_cleanup(f), 0);

    /* delete_on_close=False: close keeps it, a reader opens it, cleanup
     * deletes it. */
    o.flags = TMPF_KEEP_AFTER_CLOSE;
    f = tmpf_named_temporary_file(&o);
    CHECK(f != NULL);
    if (!f)
        return;
    p = tmpf_file_path(f);
    CHECK_EQ_INT(tmpf_file_write(f, "kept", 4), 4);
    CHECK_EQ_INT(tmpf_file_close(f), 0);
    CHECK(wexists(wide(p)));
    other = fopen(p, "rb");
    CHECK(other != NULL);
    if (other)
        fclose(other);
    char copy[2048];
    snprintf(copy, sizeof copy, "%s", p);
    CHECK_EQ_INT(tmpf_file_cleanup(f), 0);
    CHECK(!wexists(wide(copy)));
}

static void test_api_anonymous_file(void)
{
    tmpf_opts o = {.dir = scratch};
    tmpf_file *f = tmpf_temporary_file(&o);
    CHECK(f != NULL);
    if (!f)
        return;
    CHECK(tmpf_file_path(f) == NULL);
    CHECK_EQ_INT(tmpf_file_write(f, "abcdef", 6), 6);
    CHECK_EQ_INT(tmpf_file_seek(f, 1, SEEK_SET), 1);
    char buf[8] = {0};
    CHECK_EQ_INT(tmpf_file_read(f, buf, 5), 5);
    CHECK(memcmp(buf, "bcdef", 5) == 0);
    CHECK_EQ_INT(tmpf_file_truncate(f, 2), 0);
    CHECK_EQ_INT(tmpf_file_seek(f, 0, SEEK_END), 2);
    /* reopen: ReOpenFile, its own offset. */
    int fd2 = tmpf_file_reopen(f, O_RDONLY);
    CHECK(fd2 >= 0);
    if (fd2 >= 0) {
        CHECK_EQ_INT(_read(fd2, buf, 8), 2);
        _close(fd2);
    }
    CHECK_EQ_INT(tmpf_file_cleanup(f), 0);
    CHECK_EQ_INT(count_entries(wscratch), 0);
}

static void test_api_spooled_rollover(void)
{
    tmpf_opts o = {.dir = scratch, .max_size = 10};
    tmpf_file *f = tmpf_spooled_temporary_file(&o);
    CHECK(f != NULL);
    if (!f)
        return;
    CHECK_EQ_INT(tmpf_file_write(f, "12345", 5), 5);
    CHECK(!tmpf_file_rolled(f));
    CHECK_EQ_INT(count_entries(wscratch), 0);
    CHECK_EQ_INT(tmpf_file_write(f, "6789abcdef", 10), 10);
    CHECK(tmpf_file_rolled(f));
    CHECK_EQ_INT(tmpf_file_seek(f, 0, SEEK_SET), 0);
    char buf[16] = {0};
    CHECK_EQ_INT(tmpf_file_read(f, buf, 15), 15);
    CHECK(memcmp(buf, "123456789abcdef", 15) == 0);
    CHECK_EQ_INT(tmpf_file_cleanup(f), 0);
    CHECK_EQ_INT(count_entries(wscratch), 0);

    /* No cookie streams on Windows: the stdio view rolls a spooled file to
     * disk and sits on a duplicate of its descriptor. */
    tmpf_opts big = {.dir = scratch, .max_size = 1 << 20};
    f = tmpf_spooled_temporary_file(&big);
    CHECK(f != NULL);
    if (!f)
        return;
    CHECK_EQ_INT(tmpf_file_write(f, "head ", 5), 5);
    CHECK(!tmpf_file_rolled(f));
    FILE *s = tmpf_file_stream(f);
    CHECK(s != NULL);
    CHECK(tmpf_file_rolled(f));
    if (s) {
        CHECK(fprintf(s, "line %d\n", 42) > 0);
        CHECK_EQ_INT(tmpf_file_seek(f, 0, SEEK_SET), 0);
        memset(buf, 0, sizeof buf);
        CHECK_EQ_INT(tmpf_file_read(f, buf, 13), 13);
        CHECK(memcmp(buf, "head line 42\n", 13) == 0);
    }
    CHECK_EQ_INT(tmpf_file_cleanup(f), 0);
    CHECK_EQ_INT(count_entries(wscratch), 0);
}

static bool file_has(const char *path, const char *want)
{
    FILE *r = _wfopen(wide(path), L"rb");
    if (!r)
        return false;
    char buf[256] = {0};
    size_t n = fread(buf, 1, sizeof buf - 1, r);
    fclose(r);
    return n == strlen(want) && memcmp(buf, want, n) == 0;
}

static void test_api_write_atomic_and_persist(void)
{
    const char *target = in_scratch("config.txt");
    CHECK_EQ_INT(tmpf_write_atomic(target, "one", 3, 0), 0);
    CHECK(file_has(target, "one"));
    /* Replacing an existing file, then refusing to with NOCLOBBER. */
    CHECK_EQ_INT(tmpf_write_atomic(target, "two!", 4, 0), 0);
    CHECK(file_has(target, "two!"));
    errno = 0;
    CHECK_EQ_INT(tmpf_write_atomic(target, "three", 5, TMPF_NOCLOBBER), -1);
    CHECK_EQ_INT(errno, EEXIST);
    CHECK(file_has(target, "two!"));
    CHECK_EQ_INT(count_entries(wscratch), 1);

    /* A named file persisted over the target. */
    tmpf_opts o = {.dir = scratch};
    tmpf_file *f = tmpf_named_temporary_file(&o);
    CHECK(f != NULL);
    if (f) {
        CHECK_EQ_INT(tmpf_file_write(f, "named", 5), 5);
        errno = 0;
        CHECK_EQ_INT(tmpf_file_persist(f, target, TMPF_NOCLOBBER), -1);
        CHECK_EQ_INT(errno, EEXIST);
        CHECK_EQ_INT(tmpf_file_persist(f, target, TMPF_DURABLE), 0);
        const char *now = tmpf_file_path(f);
        CHECK(now && !strcmp(now, target));
        CHECK_EQ_INT(tmpf_file_cleanup(f), 0);
        CHECK(file_has(target, "named"));
    }
    /* An anonymous file persisted: a copy of its content under the name. */
    const char *t2 = in_scratch("anon.txt");
    f = tmpf_temporary_file(&o);
    CHECK(f != NULL);
    if (f) {
        CHECK_EQ_INT(tmpf_file_write(f, "anon", 4), 4);
        CHECK_EQ_INT(tmpf_file_persist(f, t2, 0), 0);
        CHECK_EQ_INT(tmpf_file_cleanup(f), 0);
        CHECK(file_has(t2, "anon"));
    }
    CHECK(_wunlink(wide(t2)) == 0);
    CHECK(_wunlink(wide(target)) == 0);
    CHECK_EQ_INT(count_entries(wscratch), 0);
}

static void test_api_rmtree_read_only_tree(void)
{
    tmpf_opts o = {.dir = scratch, .flags = TMPF_KEEP};
    tmpf_dir *d = tmpf_temporary_directory(&o);
    CHECK(d != NULL);
    if (!d)
        return;
    char root[2048];
    snprintf(root, sizeof root, "%s", tmpf_dir_path(d));
    CHECK(windows_abspath(root));
    CHECK(tmpf_dir_fd(d) >= 0);
    char p[2048];
    snprintf(p, sizeof p, "%s\\sub", root);
    CHECK(CreateDirectoryW(wide(p), NULL));
    snprintf(p, sizeof p, "%s\\sub\\ro.txt", root);
    FILE *w = _wfopen(wide(p), L"wb");
    CHECK(w != NULL);
    if (w)
        fclose(w);
    CHECK(SetFileAttributesW(wide(p), FILE_ATTRIBUTE_READONLY));
    snprintf(p, sizeof p, "%s\\sub", root);
    CHECK(SetFileAttributesW(wide(p), FILE_ATTRIBUTE_READONLY));
    CHECK_EQ_INT(tmpf_dir_cleanup(d), 0); /* KEEP: the tree stays */
    CHECK(wexists(wide(root)));
    CHECK_EQ_INT(tmpf_rmtree(root, 0), 0);
    CHECK(!wexists(wide(root)));
    CHECK_EQ_INT(tmpf_rmtree(root, 0), 0); /* missing: success */

    /* A tree right below a drive root: the root's text is the parent. A
     * root alone is refused. */
    char top[64];
    unsigned char r[4];
    tmpf__os_random(r, sizeof r);
    snprintf(top, sizeof top, "%c:\\tmpf-rmtree-%02x%02x%02x%02x", scratch[0], r[0], r[1], r[2],
             r[3]);
    if (CreateDirectoryW(wide(top), NULL)) {
        snprintf(p, sizeof p, "%s\\f", top);
        w = _wfopen(wide(p), L"wb");
        if (w)
            fclose(w);
        CHECK_EQ_INT(tmpf_rmtree(top, 0), 0);
        CHECK(!wexists(wide(top)));
    } else {
        printf("  note: cannot create %s: drive-root case not checked\n", top);
    }
    char drive[4] = {scratch[0], ':', '\\', 0};
    errno = 0;
    CHECK_EQ_INT(tmpf_rmtree(drive, 0), -1);
    CHECK_EQ_INT(errno, EINVAL);
    errno = 0;
    CHECK_EQ_INT(tmpf_rmtree("\\", 0), -1);
    CHECK_EQ_INT(errno, EINVAL);

    /* A temporary directory goes with its tree at cleanup. */
    o.flags = 0;
    d = tmpf_temporary_directory(&o);
    CHECK(d != NULL);
    if (!d)
        return;
    snprintf(root, sizeof root, "%s", tmpf_dir_path(d));
    snprintf(p, sizeof p, "%s\\f", root);
    w = _wfopen(wide(p), L"wb");
    if (w)
        fclose(w);
    CHECK_EQ_INT(tmpf_dir_cleanup(d), 0);
    CHECK(!wexists(wide(root)));
}

static void test_api_utf8_names(void)
{
    /* Cyrillic prefix, CJK suffix, in UTF-8 at the API. */
    tmpf_opts o = {.dir = scratch, .prefix = "\xd1\x84\xd0\xb0\xd0\xb9\xd0\xbb-",
                   .suffix = "-\xe6\x96\x87\xe4\xbb\xb6"};
    tmpf_file *f = tmpf_named_temporary_file(&o);
    CHECK(f != NULL);
    if (!f)
        return;
    const char *p = tmpf_file_path(f);
    CHECK(p && strstr(p, "\\\xd1\x84\xd0\xb0\xd0\xb9\xd0\xbb-"));
    wchar_t *w = wide(p);
    CHECK(wexists(w));
    CHECK(wcsstr(w, L"\\\x0444\x0430\x0439\x043b-") != NULL && wcsstr(w, L"-\x6587\x4ef6") != NULL);
    CHECK_EQ_INT(tmpf_file_close(f), 0);
    CHECK(!wexists(w));
    CHECK_EQ_INT(tmpf_file_cleanup(f), 0);
}

/* The child of test_api_gettempdir_order: 0 if tmpf_gettempdir() is want. */
static int child_tempdir(const char *want)
{
    const char *got = tmpf_gettempdir();
    if (got && !strcmp(got, want))
        return 0;
    fprintf(stderr, "  child: gettempdir %s, expected %s\n", got ? got : "NULL", want);
    return 1;
}

static DWORD run_tempdir_child(const char *want)
{
    wchar_t args[2048];
    _snwprintf(args, 2048, L"child-tempdir \"%ls\"", wide(want));
    args[2047] = 0;
    return run_self(args);
}

static void test_api_gettempdir_order(void)
{
    /* The order: TMPDIR, TEMP, TMP, the system's temp path (which reads
     * TMP and TEMP again), %SYSTEMROOT%\Temp, ... Each case in a child:
     * the choice is made once per process. */
    char t1[2048], t2[2048], t3[2048], missing[2048];
    snprintf(t1, sizeof t1, "%s", in_scratch("t1"));
    snprintf(t2, sizeof t2, "%s", in_scratch("t2"));
    snprintf(t3, sizeof t3, "%s", in_scratch("t3"));
    snprintf(missing, sizeof missing, "%s", in_scratch("missing"));
    CHECK(CreateDirectoryW(wide(t1), NULL));
    CHECK(CreateDirectoryW(wide(t2), NULL));
    CHECK(CreateDirectoryW(wide(t3), NULL));
    wchar_t old_temp[1024] = L"", old_tmp[1024] = L"", old_tmpdir[1024] = L"";
    bool had_temp = GetEnvironmentVariableW(L"TEMP", old_temp, 1024) > 0;
    bool had_tmp = GetEnvironmentVariableW(L"TMP", old_tmp, 1024) > 0;
    bool had_tmpdir = GetEnvironmentVariableW(L"TMPDIR", old_tmpdir, 1024) > 0;

    SetEnvironmentVariableW(L"TMPDIR", NULL);
    SetEnvironmentVariableW(L"TEMP", wide(t1));
    SetEnvironmentVariableW(L"TMP", wide(t2));
    CHECK_EQ_INT(run_tempdir_child(t1), 0);
    SetEnvironmentVariableW(L"TMPDIR", wide(t3));
    CHECK_EQ_INT(run_tempdir_child(t3), 0);
    SetEnvironmentVariableW(L"TMPDIR", NULL);
    SetEnvironmentVariableW(L"TEMP", wide(missing));
    CHECK_EQ_INT(run_tempdir_child(t2), 0);
    /* A relative spelling with '/' comes back absolute with backslashes. */
    char rel[2048];
    snprintf(rel, sizeof rel, "%s/t1/../t2/.", scratch);
    for (char *c = rel; *c; c++)
        if (*c == '\\')
            *c = '/';
    SetEnvironmentVariableW(L"TEMP", wide(rel));
    CHECK_EQ_INT(run_tempdir_child(t2), 0);
    /* A directory whose DACL lets Everyone add and delete entries is
     * passed over (others could rename what tmpf creates there). */
    char shared[2048];
    snprintf(shared, sizeof shared, "%s", in_scratch("shared"));
    PSECURITY_DESCRIPTOR sd = NULL;
    if (ConvertStringSecurityDescriptorToSecurityDescriptorW(
            L"D:P(A;OICI;FA;;;WD)", SDDL_REVISION_1, &sd, NULL)) {
        /* Set after creation: Wine ignores a creation DACL, but maps a set
         * one onto the Unix mode (Everyone's write: o+w). */
        CHECK(CreateDirectoryW(wide(shared), NULL));
        BOOL present = FALSE, defaulted = FALSE;
        PACL dacl = NULL;
        CHECK(GetSecurityDescriptorDacl(sd, &present, &dacl, &defaulted));
        CHECK_EQ_INT(SetNamedSecurityInfoW(wide(shared), SE_FILE_OBJECT,
                                           DACL_SECURITY_INFORMATION |
                                               PROTECTED_DACL_SECURITY_INFORMATION,
                                           NULL, NULL, dacl, NULL),
                     ERROR_SUCCESS);
        LocalFree(sd);
        SetEnvironmentVariableW(L"TEMP", wide(shared));
        SetEnvironmentVariableW(L"TMP", wide(t2));
        CHECK_EQ_INT(run_tempdir_child(t2), 0);
        CHECK(RemoveDirectoryW(wide(shared)));
    } else {
        CHECK(!"ConvertStringSecurityDescriptorToSecurityDescriptorW");
    }
    /* TEMP and TMP both missing: the system's temp path is built from them
     * and is missing too; next comes %SYSTEMROOT%\Temp. */
    SetEnvironmentVariableW(L"TEMP", wide(missing));
    SetEnvironmentVariableW(L"TMP", wide(missing));
    wchar_t sysroot[1024];
    DWORD n = GetEnvironmentVariableW(L"SYSTEMROOT", sysroot, 1000);
    if (n > 0 && n < 1000) {
        wchar_t wt[1100], full[1100];
        _snwprintf(wt, 1100, L"%ls\\Temp", sysroot);
        wt[1099] = 0;
        DWORD fn = GetFullPathNameW(wt, 1100, full, NULL);
        char want[2048];
        WideCharToMultiByte(CP_UTF8, 0, full, -1, want, sizeof want, NULL, NULL);
        if (fn > 0 && fn < 1100 && wexists(full))
            CHECK_EQ_INT(run_tempdir_child(want), 0);
        else
            printf("  note: no %s here, the SYSTEMROOT step is not checked\n", want);
    }

    SetEnvironmentVariableW(L"TEMP", had_temp ? old_temp : NULL);
    SetEnvironmentVariableW(L"TMP", had_tmp ? old_tmp : NULL);
    SetEnvironmentVariableW(L"TMPDIR", had_tmpdir ? old_tmpdir : NULL);
    CHECK(RemoveDirectoryW(wide(t1)));
    CHECK(RemoveDirectoryW(wide(t2)));
    CHECK(RemoveDirectoryW(wide(t3)));
}

/* Sets path's last-write time to age seconds ago. */
static bool make_old(const char *path, unsigned age)
{
    HANDLE h = CreateFileW(wide(path), FILE_WRITE_ATTRIBUTES,
                           FILE_SHARE_READ | FILE_SHARE_WRITE | FILE_SHARE_DELETE, NULL,
                           OPEN_EXISTING, FILE_FLAG_BACKUP_SEMANTICS, NULL);
    if (h == INVALID_HANDLE_VALUE)
        return false;
    FILETIME ft;
    GetSystemTimeAsFileTime(&ft);
    ULARGE_INTEGER t = {.LowPart = ft.dwLowDateTime, .HighPart = ft.dwHighDateTime};
    t.QuadPart -= (ULONGLONG)age * 10000000ULL;
    ft.dwLowDateTime = t.LowPart;
    ft.dwHighDateTime = t.HighPart;
    BOOL ok = SetFileTime(h, NULL, NULL, &ft);
    CloseHandle(h);
    return ok;
}

static void test_api_sweep(void)
{
    /* Three orphans of the shape (old file, old directory with a file, a
     * young file), one old file held with TMPF_LOCK by a live holder, and
     * an old file of another shape. */
    tmpf_opts o = {.dir = scratch, .prefix = "sw-", .flags = TMPF_KEEP};
    char old_file[2048], old_dir[2048], young[2048], other[2048];
    char *p = NULL;
    int fd = tmpf_mkstemp(&o, &p);
    CHECK(fd >= 0);
    if (fd >= 0)
        _close(fd);
    snprintf(old_file, sizeof old_file, "%s", p ? p : "");
    free(p);
    p = tmpf_mkdtemp(&o);
    CHECK(p != NULL);
    snprintf(old_dir, sizeof old_dir, "%s", p ? p : "");
    free(p);
    char inner[2100];
    snprintf(inner, sizeof inner, "%s\\inner", old_dir);
    FILE *w = _wfopen(wide(inner), L"wb");
    if (w)
        fclose(w);
    fd = tmpf_mkstemp(&o, &p);
    if (fd >= 0)
        _close(fd);
    snprintf(young, sizeof young, "%s", p ? p : "");
    free(p);
    tmpf_opts lo = {.dir = scratch, .prefix = "sw-", .flags = TMPF_LOCK | TMPF_KEEP_AFTER_CLOSE};
    tmpf_file *held = tmpf_named_temporary_file(&lo);
    CHECK(held != NULL);
    snprintf(other, sizeof other, "%s", in_scratch("sw-not-of-the-shape"));
    w = _wfopen(wide(other), L"wb");
    if (w)
        fclose(w);
    CHECK(make_old(old_file, 7200) && make_old(old_dir, 7200) && make_old(other, 7200));
    if (held)
        CHECK(make_old(tmpf_file_path(held), 7200));

    tmpf_opts so = {.dir = scratch, .prefix = "sw-", .flags = TMPF_KEEP};
    CHECK_EQ_INT(tmpf_sweep(&so, 3600), 2); /* dry run */
    CHECK(wexists(wide(old_file)) && wexists(wide(old_dir)));
    so.flags = 0;
    CHECK_EQ_INT(tmpf_sweep(&so, 3600), 2);
    CHECK(!wexists(wide(old_file)) && !wexists(wide(old_dir)));
    CHECK(wexists(wide(young)) && wexists(wide(other)));
    if (held) {
        CHECK(wexists(wide(tmpf_file_path(held))));
        CHECK_EQ_INT(tmpf_file_cleanup(held), 0);
    }
    CHECK(_wunlink(wide(young)) == 0);
    CHECK(_wunlink(wide(other)) == 0);
    /* Directories: a TMPF_LOCK holder's handle keeps a live one; once
     * released it goes. */
    tmpf_opts dl = {.dir = scratch, .prefix = "sw-", .flags = TMPF_LOCK};
    tmpf_dir *live = tmpf_temporary_directory(&dl);
    CHECK(live != NULL);
    if (live) {
        CHECK(make_old(tmpf_dir_path(live), 7200));
        so.flags = 0;
        CHECK_EQ_INT(tmpf_sweep(&so, 3600), 0);
        CHECK(wexists(wide(tmpf_dir_path(live))));
        char kept[2048];
        snprintf(kept, sizeof kept, "%s", tmpf_dir_path(live));
        CHECK_EQ_INT(tmpf_dir_keep(live), 0);
        CHECK_EQ_INT(tmpf_dir_cleanup(live), 0);
        CHECK(wexists(wide(kept)) && make_old(kept, 7200));
        CHECK_EQ_INT(tmpf_sweep(&so, 3600), 1);
        CHECK(!wexists(wide(kept)));
    }
}

/* What the crash children hold in dir: a named file and a directory with
 * a file in it, never cleaned here (the process ends with them). 0, or
 * the child's exit code for what failed (91 creation, 92 the inner file). */
static int hold_file_and_tree(const char *dir)
{
    tmpf_opts o = {.dir = dir};
    tmpf_file *f = tmpf_named_temporary_file(&o);
    tmpf_dir *d = tmpf_temporary_directory(&o);
    if (!f || !d)
        return 91;
    char p[2048];
    snprintf(p, sizeof p, "%s\\inner", tmpf_dir_path(d));
    FILE *w = fopen(p, "wb");
    if (!w)
        return 92;
    fclose(w);
    return 0;
}

/* The child of test_api_emergency: a named file and a directory with a
 * file in dir, then: "call" tmpf_emergency_cleanup and exit with its
 * count; "exit" exit without any cleanup (the control); "abort" abort()
 * after tmpf_cleanup_on_signals. (Console events: test_console_events.) */
static int child_emergency(const char *dir, const char *mode)
{
    if (!strcmp(mode, "abort") && tmpf_cleanup_on_signals(NULL, 0) != 0)
        return 90;
    int held = hold_file_and_tree(dir);
    if (held != 0)
        return held;
    if (!strcmp(mode, "call"))
        ExitProcess((UINT)tmpf_emergency_cleanup());
    if (!strcmp(mode, "abort"))
        abort();
    ExitProcess(0); /* "exit": no cleanup of any kind */
}

static DWORD run_emergency_child(const char *mode)
{
    wchar_t args[2048];
    _snwprintf(args, 2048, L"child-emergency \"%ls\" %hs", wscratch, mode);
    args[2047] = 0;
    return run_self(args);
}

/* Empties the scratch directory (what a failed child left). */
static void empty_scratch(void)
{
    int fd = tmpf__os_open_dir_nofollow(scratch);
    if (fd >= 0) {
        tmpf__os_rmtree_contents(fd);
        tmpf__os_close(fd);
    }
}

static void test_api_emergency(void)
{
    /* Control: a process that ends without cleanup leaves both. */
    CHECK_EQ_INT(run_emergency_child("exit"), 0);
    CHECK_EQ_INT(count_entries(wscratch), 2);
    empty_scratch();
    /* tmpf_emergency_cleanup: both removed, counted. */
    CHECK_EQ_INT(run_emergency_child("call"), 2);
    CHECK_EQ_INT(count_entries(wscratch), 0);
    empty_scratch();
    /* abort() after tmpf_cleanup_on_signals: SIGABRT runs it. */
    DWORD code = run_emergency_child("abort");
    CHECK(code != 0 && code < 90);
    CHECK_EQ_INT(count_entries(wscratch), 0);
    empty_scratch();
}

/* Whether path's DACL allows anything to the Guests group, and whether it
 * is protected from inheritance. */
static bool grants_guests(const char *path, bool *protected_dacl)
{
    PACL dacl = NULL;
    PSECURITY_DESCRIPTOR sd = NULL;
    if (GetNamedSecurityInfoW(wide(path), SE_FILE_OBJECT, DACL_SECURITY_INFORMATION, NULL, NULL,
                              &dacl, NULL, &sd) != ERROR_SUCCESS)
        return false;
    SECURITY_DESCRIPTOR_CONTROL control = 0;
    DWORD revision;
    GetSecurityDescriptorControl(sd, &control, &revision);
    *protected_dacl = control & SE_DACL_PROTECTED;
    bool found = false;
    for (DWORD i = 0; dacl && i < dacl->AceCount; i++) {
        void *e = NULL;
        LPSTR str = NULL;
        if (!GetAce(dacl, i, &e) || ((ACE_HEADER *)e)->AceType != ACCESS_ALLOWED_ACE_TYPE)
            continue;
        if (ConvertSidToStringSidA((PSID)&((ACCESS_ALLOWED_ACE *)e)->SidStart, &str)) {
            found |= !strcmp(str, "S-1-5-32-546");
            LocalFree(str);
        }
    }
    LocalFree(sd);
    return found;
}

/* TMPF_KEEP_XATTRS on Windows: the replaced target's DACL (here a
 * protected one granting Guests read access) is kept; without it the new
 * file has the DACL it inherited. */
static void test_api_keep_dacl(void)
{
    const char *target = in_scratch("acl.txt");
    CHECK_EQ_INT(tmpf_write_atomic(target, "v1", 2, 0), 0);
    PSECURITY_DESCRIPTOR sd = sd_for_me(L"D:P(A;;FA;;;%ls)(A;;FR;;;BG)", L"WD");
    CHECK(sd != NULL);
    BOOL present = FALSE, defaulted = FALSE;
    PACL dacl = NULL;
    CHECK(sd && GetSecurityDescriptorDacl(sd, &present, &dacl, &defaulted));
    CHECK_EQ_INT(SetNamedSecurityInfoW(wide(target), SE_FILE_OBJECT,
                                       DACL_SECURITY_INFORMATION |
                                           PROTECTED_DACL_SECURITY_INFORMATION,
                                       NULL, NULL, dacl, NULL),
                 ERROR_SUCCESS);
    LocalFree(sd);
    bool prot = false;
    if (!grants_guests(target, &prot) && under_wine()) {
        _wunlink(wide(target));
        SKIP("Wine 8 keeps no DACL on a file (it derives one from the Unix mode bits): real "
             "Windows only");
    }
    CHECK(grants_guests(target, &prot) && prot);

    CHECK_EQ_INT(tmpf_write_atomic(target, "v2", 2, TMPF_KEEP_XATTRS), 0);
    CHECK(file_has(target, "v2"));
    prot = false;
    CHECK(grants_guests(target, &prot));
    CHECK(prot);
    /* Without the flag the DACL is kept too (the target's permission bits);
     * the control: a persist whose temporary's permissions were chosen
     * (opts.perm) does not keep it. */
    CHECK_EQ_INT(tmpf_write_atomic(target, "v3", 2, 0), 0);
    CHECK(grants_guests(target, &prot) && prot);
    tmpf_opts o = {.dir = scratch, .perm = 0600};
    tmpf_file *f = tmpf_named_temporary_file(&o);
    CHECK(f != NULL);
    if (f) {
        CHECK_EQ_INT(tmpf_file_persist(f, target, 0), 0);
        CHECK_EQ_INT(tmpf_file_cleanup(f), 0);
    }
    CHECK(!grants_guests(target, &prot));
    CHECK(_wunlink(wide(target)) == 0);
}

/* ---- persist and write_atomic on Windows (helper H2, issue 19) ---------- */

/* Gives path a protected DACL granting the user alone full access, as
 * stored (SetKernelObjectSecurity: Wine 8's SetNamedSecurityInfoW returns
 * success and changes nothing). */
static void make_owner_only(const char *path)
{
    PSECURITY_DESCRIPTOR sd = sd_for_me(L"D:P(A;;FA;;;%ls)", L"OW");
    CHECK(sd != NULL);
    HANDLE h = CreateFileW(wide(path), WRITE_DAC | READ_CONTROL,
                           FILE_SHARE_READ | FILE_SHARE_WRITE | FILE_SHARE_DELETE, NULL,
                           OPEN_EXISTING, 0, NULL);
    CHECK(h != INVALID_HANDLE_VALUE);
    CHECK(SetKernelObjectSecurity(h, DACL_SECURITY_INFORMATION, sd));
    CloseHandle(h);
    LocalFree(sd);
}

static bool broad_access(const char *path)
{
    bool broad, user;
    dacl_of(path, &broad, &user);
    return broad;
}

/* Writes text to path (below: its default DACL, under Wine the mode 0644,
 * so Everyone may read). */
static bool put_file(const char *path, const char *text);

/* A named temporary in scratch holding content, its DACL owner-only. */
static tmpf_file *owner_only_temporary(const char *content, unsigned perm)
{
    tmpf_opts o = {.dir = scratch, .perm = perm};
    tmpf_file *f = tmpf_named_temporary_file(&o);
    CHECK(f != NULL);
    if (!f)
        return NULL;
    CHECK_EQ_INT(tmpf_file_write(f, content, strlen(content)), (long long)strlen(content));
    make_owner_only(tmpf_file_path(f));
    CHECK(!broad_access(tmpf_file_path(f))); /* the control */
    return f;
}

/* Replacing keeps the target's DACL (its permission bits) by default, as
 * POSIX persist keeps the mode; a temporary whose permissions the caller
 * chose (opts.perm) keeps its own. Under Wine a DACL is the Unix mode, so
 * "Everyone may read" (o+r) is what survives to be checked. */
static void test_api_persist_keeps_target_dacl(void)
{
    const char *target = in_scratch("shared.txt");
    CHECK(put_file(target, "old"));
    if (!broad_access(target))
        printf("  note: a new file's default DACL grants no broad group here\n");
    CHECK(broad_access(target));
    tmpf_file *f = owner_only_temporary("new", 0);
    if (f) {
        CHECK_EQ_INT(tmpf_file_persist(f, target, 0), 0);
        CHECK_EQ_INT(tmpf_file_cleanup(f), 0);
    }
    CHECK(file_has(target, "new"));
    CHECK(broad_access(target));
    /* Durable and relative to the target's directory handle: the same. */
    f = owner_only_temporary("newer", 0);
    if (f) {
        CHECK_EQ_INT(tmpf_file_persist(f, target, TMPF_DURABLE), 0);
        CHECK_EQ_INT(tmpf_file_cleanup(f), 0);
    }
    CHECK(file_has(target, "newer"));
    CHECK(broad_access(target));
    /* perm chosen: the temporary's own owner-only DACL lands. */
    f = owner_only_temporary("chosen", 0600);
    if (f) {
        CHECK_EQ_INT(tmpf_file_persist(f, target, 0), 0);
        CHECK_EQ_INT(tmpf_file_cleanup(f), 0);
    }
    CHECK(file_has(target, "chosen"));
    CHECK(!broad_access(target));
    /* tmpf_write_atomic, whose side file gets the default DACL, keeps the
     * now owner-only target's. */
    CHECK_EQ_INT(tmpf_write_atomic(target, "atomic", 6, 0), 0);
    CHECK(file_has(target, "atomic"));
    CHECK(!broad_access(target));
    CHECK_EQ_INT(tmpf_write_atomic(target, "atomic2", 7, TMPF_DURABLE), 0);
    CHECK(!broad_access(target));
    CHECK(_wunlink(wide(target)) == 0);
    /* The control for the last two: a new file gets the default DACL. */
    CHECK_EQ_INT(tmpf_write_atomic(target, "fresh", 5, 0), 0);
    CHECK(broad_access(target));
    CHECK(_wunlink(wide(target)) == 0);
}

static DWORD attrs_of(const char *path)
{
    return GetFileAttributesW(wide(path));
}

/* A hidden, or read-only, target keeps the attribute, through persist and
 * tmpf_write_atomic; FILE_ATTRIBUTE_TEMPORARY (tmpf's files have it) does
 * not come along to the kept file. */
static void test_api_persist_keeps_target_attributes(void)
{
    const char *target = in_scratch("hidden.txt");
    CHECK(put_file(target, "old"));
    CHECK(SetFileAttributesW(wide(target), FILE_ATTRIBUTE_HIDDEN));
    if (!(attrs_of(target) & FILE_ATTRIBUTE_HIDDEN)) {
        SetFileAttributesW(wide(target), FILE_ATTRIBUTE_NORMAL);
        _wunlink(wide(target));
        SKIP("the hidden attribute is not kept on this file system");
    }
    tmpf_file *f = owner_only_temporary("new", 0);
    if (f) {
        /* Wine 8 keeps no FILE_ATTRIBUTE_TEMPORARY: its absence after the
         * move is checked on real Windows only. */
        if (!under_wine())
            CHECK(attrs_of(tmpf_file_path(f)) & FILE_ATTRIBUTE_TEMPORARY);
        CHECK(!(attrs_of(tmpf_file_path(f)) & FILE_ATTRIBUTE_HIDDEN)); /* the control */
        CHECK_EQ_INT(tmpf_file_persist(f, target, 0), 0);
        CHECK_EQ_INT(tmpf_file_cleanup(f), 0);
    }
    CHECK(file_has(target, "new"));
    CHECK(attrs_of(target) & FILE_ATTRIBUTE_HIDDEN);
    CHECK(!(attrs_of(target) & FILE_ATTRIBUTE_TEMPORARY));
    CHECK_EQ_INT(tmpf_write_atomic(target, "atomic", 6, 0), 0);
    CHECK(file_has(target, "atomic"));
    CHECK(attrs_of(target) & FILE_ATTRIBUTE_HIDDEN);
    CHECK(!(attrs_of(target) & FILE_ATTRIBUTE_TEMPORARY));
    /* Read-only and hidden. */
    CHECK(SetFileAttributesW(wide(target), FILE_ATTRIBUTE_HIDDEN | FILE_ATTRIBUTE_READONLY));
    f = owner_only_temporary("ro", 0);
    if (f) {
        CHECK_EQ_INT(tmpf_file_persist(f, target, 0), 0);
        CHECK_EQ_INT(tmpf_file_cleanup(f), 0);
    }
    CHECK(file_has(target, "ro"));
    CHECK_EQ_INT(attrs_of(target) & (FILE_ATTRIBUTE_HIDDEN | FILE_ATTRIBUTE_READONLY),
                 FILE_ATTRIBUTE_HIDDEN | FILE_ATTRIBUTE_READONLY);
    CHECK(SetFileAttributesW(wide(target), FILE_ATTRIBUTE_NORMAL));
    CHECK(_wunlink(wide(target)) == 0);
    /* A persist to a new name drops FILE_ATTRIBUTE_TEMPORARY too (real
     * Windows only, as above: Wine never shows it). */
    const char *fresh = in_scratch("fresh.txt");
    f = owner_only_temporary("fresh", 0);
    if (f) {
        CHECK_EQ_INT(tmpf_file_persist(f, fresh, 0), 0);
        CHECK_EQ_INT(tmpf_file_cleanup(f), 0);
    }
    CHECK(file_has(fresh, "fresh"));
    CHECK(!(attrs_of(fresh) & FILE_ATTRIBUTE_TEMPORARY));
    CHECK(_wunlink(wide(fresh)) == 0);
}

/* TMPF_ACROSS_FS onto another volume (under Wine: Z:\dev\shm, a tmpfs):
 * the copy made beside target is moved through its handle and keeps the
 * target's DACL (owner-only here, where the copy is created with the
 * default one). */
static void test_api_persist_across_volumes_keeps_target(void)
{
    const char *other = "Z:\\dev\\shm";
    if (!under_wine() || !wexists(wide(other)))
        SKIP("no second volume here (under Wine: Z:\\dev\\shm)");
    char target[256];
    unsigned char r[4];
    tmpf__os_random(r, sizeof r);
    snprintf(target, sizeof target, "%s\\tmpf-win-%02x%02x%02x%02x.txt", other, r[0], r[1], r[2],
             r[3]);
    CHECK(put_file(target, "old"));
    make_owner_only(target);
    CHECK(!broad_access(target));
    tmpf_opts o = {.dir = scratch};
    tmpf_file *f = tmpf_named_temporary_file(&o);
    CHECK(f != NULL);
    if (f) {
        CHECK_EQ_INT(tmpf_file_write(f, "moved", 5), 5);
        errno = 0;
        CHECK_EQ_INT(tmpf_file_persist(f, target, 0), -1);
        CHECK_EQ_INT(errno, EXDEV);
        CHECK_EQ_INT(tmpf_file_persist(f, target, TMPF_ACROSS_FS), 0);
        CHECK_EQ_INT(tmpf_file_cleanup(f), 0);
    }
    CHECK(file_has(target, "moved"));
    CHECK(!broad_access(target));
    CHECK(_wunlink(wide(target)) == 0);
}

/* The owner SID of path (malloc'd), or NULL. */
static PSID owner_of(const char *path)
{
    PSID owner = NULL, copy = NULL;
    PSECURITY_DESCRIPTOR sd = NULL;
    if (GetNamedSecurityInfoW(wide(path), SE_FILE_OBJECT, OWNER_SECURITY_INFORMATION, &owner,
                              NULL, NULL, NULL, &sd) == ERROR_SUCCESS &&
        owner) {
        DWORD n = GetLengthSid(owner);
        copy = malloc(n);
        if (copy)
            CopySid(n, copy, owner);
    }
    LocalFree(sd);
    return copy;
}

/* Makes sid the owner of path; whether it now is. */
static bool give_owner(const char *path, PSID sid)
{
    SECURITY_DESCRIPTOR sd;
    HANDLE h = CreateFileW(wide(path), WRITE_OWNER | READ_CONTROL,
                           FILE_SHARE_READ | FILE_SHARE_WRITE | FILE_SHARE_DELETE, NULL,
                           OPEN_EXISTING, 0, NULL);
    if (h == INVALID_HANDLE_VALUE)
        return false;
    bool set = InitializeSecurityDescriptor(&sd, SECURITY_DESCRIPTOR_REVISION) &&
               SetSecurityDescriptorOwner(&sd, sid, FALSE) &&
               SetKernelObjectSecurity(h, OWNER_SECURITY_INFORMATION, &sd);
    CloseHandle(h);
    PSID now = set ? owner_of(path) : NULL;
    bool is = now && EqualSid(now, sid);
    free(now);
    return is;
}

/* Replacing takes the target's owner SID where the writer may: on real
 * Windows an elevated administrator, whose new files belong to
 * Administrators, may make a file its own user's, or the other way round.
 * Wine keeps no owner (it reports the user whatever was set): skipped. */
static void test_api_persist_takes_target_owner(void)
{
    const char *target = in_scratch("owned.txt");
    tmpf_opts o = {.dir = scratch};
    tmpf_file *f = tmpf_named_temporary_file(&o);
    CHECK(f != NULL);
    if (!f)
        return;
    PSID temp_owner = owner_of(tmpf_file_path(f));
    CHECK(temp_owner != NULL);
    unsigned char admins[SECURITY_MAX_SID_SIZE];
    DWORD len = sizeof admins;
    PSID me = my_user_sid();
    CHECK(me != NULL);
    CHECK(CreateWellKnownSid(WinBuiltinAdministratorsSid, NULL, admins, &len));
    PSID candidates[] = {me, (PSID)admins};
    PSID chosen = NULL;
    CHECK(put_file(target, "old"));
    for (size_t i = 0; i < 2 && !chosen && temp_owner; i++)
        if (candidates[i] && !EqualSid(candidates[i], temp_owner) &&
            give_owner(target, candidates[i]))
            chosen = candidates[i];
    free(temp_owner);
    if (!chosen) {
        tmpf_file_cleanup(f);
        _wunlink(wide(target));
        SKIP("no second owner SID to give the target (Wine keeps no owner; on Windows an "
             "elevated administrator has two): real Windows, elevated, only");
    }
    CHECK_EQ_INT(tmpf_file_persist(f, target, 0), 0);
    CHECK_EQ_INT(tmpf_file_cleanup(f), 0);
    PSID now = owner_of(target);
    CHECK(now && EqualSid(now, chosen));
    free(now);
    CHECK(_wunlink(wide(target)) == 0);
}

/* The adversarial case: someone renames the temporary away and puts
 * another file at its name; persist moves the file tmpf holds (through a
 * handle on it), not whatever the name now designates. */
static void test_api_persist_moves_the_held_file(void)
{
    const char *target = in_scratch("landed.txt");
    const char *away = in_scratch("renamed-away");
    char *name = NULL;
    tmpf_opts o = {.dir = scratch};
    tmpf_file *f = tmpf_named_temporary_file(&o);
    CHECK(f != NULL);
    if (!f)
        return;
    CHECK_EQ_INT(tmpf_file_write(f, "held", 4), 4);
    name = _strdup(tmpf_file_path(f));
    CHECK(MoveFileExW(wide(name), wide(away), 0));
    CHECK(put_file(name, "impostor"));
    /* NOCLOBBER onto an existing target: EEXIST, nothing moved. */
    CHECK(put_file(target, "there"));
    errno = 0;
    CHECK_EQ_INT(tmpf_file_persist(f, target, TMPF_NOCLOBBER), -1);
    CHECK_EQ_INT(errno, EEXIST);
    CHECK(file_has(target, "there"));
    CHECK(file_has(away, "held"));
    CHECK(_wunlink(wide(target)) == 0);
    /* Replacing. */
    CHECK(put_file(target, "there"));
    CHECK_EQ_INT(tmpf_file_persist(f, target, 0), 0);
    CHECK(file_has(target, "held"));
    CHECK(file_has(name, "impostor"));
    CHECK(!wexists(wide(away)));
    const char *now = tmpf_file_path(f);
    CHECK(now && !strcmp(now, target));
    CHECK_EQ_INT(tmpf_file_cleanup(f), 0);
    CHECK(file_has(target, "held"));
    /* NOCLOBBER to a new name, the same way. */
    f = tmpf_named_temporary_file(&o);
    CHECK(f != NULL);
    if (f) {
        CHECK_EQ_INT(tmpf_file_write(f, "held2", 5), 5);
        char *name2 = _strdup(tmpf_file_path(f));
        CHECK(MoveFileExW(wide(name2), wide(away), 0));
        CHECK(put_file(name2, "impostor2"));
        const char *fresh = in_scratch("fresh.txt");
        CHECK_EQ_INT(tmpf_file_persist(f, fresh, TMPF_NOCLOBBER | TMPF_DURABLE), 0);
        CHECK(file_has(fresh, "held2"));
        CHECK(file_has(name2, "impostor2"));
        CHECK(!wexists(wide(away)));
        CHECK_EQ_INT(tmpf_file_cleanup(f), 0);
        CHECK(_wunlink(wide(fresh)) == 0);
        CHECK(_wunlink(wide(name2)) == 0);
        free(name2);
    }
    /* The target in another directory than the temporary's. */
    const char *sub = in_scratch("sub");
    CHECK(CreateDirectoryW(wide(sub), NULL));
    char elsewhere[2048];
    snprintf(elsewhere, sizeof elsewhere, "%s\\landed.txt", sub);
    f = tmpf_named_temporary_file(&o);
    CHECK(f != NULL);
    if (f) {
        CHECK_EQ_INT(tmpf_file_write(f, "held3", 5), 5);
        char *name3 = _strdup(tmpf_file_path(f));
        CHECK(MoveFileExW(wide(name3), wide(away), 0));
        CHECK(put_file(name3, "impostor3"));
        CHECK(put_file(elsewhere, "there"));
        CHECK_EQ_INT(tmpf_file_persist(f, elsewhere, 0), 0);
        CHECK(file_has(elsewhere, "held3"));
        CHECK(file_has(name3, "impostor3"));
        CHECK(!wexists(wide(away)));
        CHECK_EQ_INT(tmpf_file_cleanup(f), 0);
        CHECK(_wunlink(wide(elsewhere)) == 0);
        CHECK(_wunlink(wide(name3)) == 0);
        free(name3);
    }
    CHECK(RemoveDirectoryW(wide(sub)));
    /* Which rename did it: Wine 8 has no FileRenameInformationEx. */
    bool fell_back = tmpf__test_rename_ex_fell_back();
    printf("  note: FileRenameInformationEx %s\n",
           fell_back ? "refused: FileRenameInformation used (ReplaceIfExists)"
                     : "used (POSIX semantics)");
    if (under_wine())
        CHECK(fell_back);
    CHECK(_wunlink(wide(name)) == 0);
    CHECK(_wunlink(wide(target)) == 0);
    free(name);
}

/* A reader that opened the name with plain fopen (no shared deletion)
 * blocks persist and cleanup alike: a clear error, never a crash; once it
 * closes, both work. */
static void test_api_plain_reader_blocks(void)
{
    tmpf_opts o = {.dir = scratch};
    tmpf_file *f = tmpf_named_temporary_file(&o);
    CHECK(f != NULL);
    if (!f)
        return;
    char path[2048];
    snprintf(path, sizeof path, "%s", tmpf_file_path(f));
    CHECK_EQ_INT(tmpf_file_write(f, "data", 4), 4);
    FILE *reader = fopen(path, "rb");
    CHECK(reader != NULL);
    const char *target = in_scratch("published.txt");
    errno = 0;
    CHECK_EQ_INT(tmpf_file_persist(f, target, 0), -1);
    CHECK(errno == EACCES || errno == EBUSY);
    CHECK(!wexists(wide(target)) && wexists(wide(path)));
    errno = 0;
    CHECK_EQ_INT(tmpf_file_close(f), -1);
    CHECK(errno == EACCES || errno == EBUSY);
    CHECK(wexists(wide(path)));
    if (reader)
        fclose(reader);
    /* The reader gone: cleanup removes the name it could not remove. */
    CHECK_EQ_INT(tmpf_file_cleanup(f), 0);
    CHECK(!wexists(wide(path)));
}

/* Writes text to path (UTF-8 name). */
static bool put_file(const char *path, const char *text)
{
    FILE *w = _wfopen(wide(path), L"wb");
    if (!w)
        return false;
    bool ok = fputs(text, w) >= 0;
    return fclose(w) == 0 && ok;
}

/* A temporary directory in base holding a file, a subdirectory with a
 * read-only file. */
static tmpf_dir *make_tree(const char *base)
{
    tmpf_opts o = {.dir = base};
    tmpf_dir *d = tmpf_temporary_directory(&o);
    if (!d)
        return NULL;
    char p[2048];
    snprintf(p, sizeof p, "%s\\a.txt", tmpf_dir_path(d));
    bool ok = put_file(p, "alpha");
    snprintf(p, sizeof p, "%s\\sub", tmpf_dir_path(d));
    ok = ok && CreateDirectoryW(wide(p), NULL);
    snprintf(p, sizeof p, "%s\\sub\\b.txt", tmpf_dir_path(d));
    ok = ok && put_file(p, "beta") && SetFileAttributesW(wide(p), FILE_ATTRIBUTE_READONLY);
    if (!ok) {
        tmpf_dir_cleanup(d);
        return NULL;
    }
    return d;
}

static bool tree_is_there(const char *root)
{
    char p[2048];
    snprintf(p, sizeof p, "%s\\a.txt", root);
    bool ok = file_has(p, "alpha");
    snprintf(p, sizeof p, "%s\\sub\\b.txt", root);
    return ok && file_has(p, "beta") &&
           (GetFileAttributesW(wide(p)) & FILE_ATTRIBUTE_READONLY);
}

static void test_api_dir_persist(void)
{
    /* TMPF_DURABLE: every file below flushed (a read-only one too), then
     * the tree renamed into place. */
    tmpf_dir *d = make_tree(scratch);
    CHECK(d != NULL);
    if (!d)
        return;
    const char *target = in_scratch("published");
    CHECK_EQ_INT(tmpf_dir_persist(d, target, TMPF_DURABLE), 0);
    CHECK(!strcmp(tmpf_dir_path(d), target));
    CHECK_EQ_INT(tmpf_dir_cleanup(d), 0);
    CHECK(tree_is_there(target));
    CHECK_EQ_INT(tmpf_rmtree(target, 0), 0);

    /* Another volume: Wine's Z: is the Unix root, and /dev/shm a tmpfs
     * there, so a rename from C: says EXDEV; TMPF_ACROSS_FS copies. */
    const char *other = "Z:\\dev\\shm";
    if (!under_wine() || !wexists(wide(other))) {
        printf("  note: no second volume here: TMPF_ACROSS_FS not checked\n");
        return;
    }
    char remote[256];
    unsigned char r[4];
    tmpf__os_random(r, sizeof r);
    snprintf(remote, sizeof remote, "%s\\tmpf-win-%02x%02x%02x%02x", other, r[0], r[1], r[2], r[3]);
    d = make_tree(scratch);
    CHECK(d != NULL);
    if (!d)
        return;
    char src[2048];
    snprintf(src, sizeof src, "%s", tmpf_dir_path(d));
    errno = 0;
    CHECK_EQ_INT(tmpf_dir_persist(d, remote, 0), -1);
    CHECK_EQ_INT(errno, EXDEV);
    CHECK(!wexists(wide(remote)) && tree_is_there(src));
    CHECK_EQ_INT(tmpf_dir_persist(d, remote, TMPF_ACROSS_FS | TMPF_DURABLE), 0);
    CHECK(tree_is_there(remote));
    CHECK(!wexists(wide(src)));
    CHECK_EQ_INT(tmpf_dir_cleanup(d), 0);
    CHECK(tree_is_there(remote));
    CHECK_EQ_INT(tmpf_rmtree(remote, 0), 0);
    CHECK(!wexists(wide(remote)));
}

/* ---- owners and handle-relative calls (issue 19, items 2 and 3) ----------- */

/* tmpf__win_owner_uid on "O:<owner>" (owner NULL: no owner at all). */
static long long owner_uid(const wchar_t *owner)
{
    wchar_t sddl[256];
    if (owner)
        _snwprintf(sddl, 256, L"O:%lsD:(A;;FA;;;SY)", owner);
    else
        _snwprintf(sddl, 256, L"D:(A;;FA;;;SY)");
    sddl[255] = 0;
    PSECURITY_DESCRIPTOR sd = sd_of(sddl);
    if (!sd) {
        fprintf(stderr, "  cannot build %ls\n", sddl);
        return -1;
    }
    unsigned uid = tmpf__win_owner_uid(sd);
    LocalFree(sd);
    return uid;
}

static void test_owner_uid_decision(void)
{
    /* The token's user and default owner, as SDDL strings. */
    HANDLE token;
    CHECK(OpenProcessToken(GetCurrentProcess(), TOKEN_QUERY, &token));
    union {
        TOKEN_OWNER owner;
        unsigned char bytes[512];
    } u;
    DWORD len;
    wchar_t *me = NULL, *def = NULL;
    CHECK(my_user_sid() && ConvertSidToStringSidW(my_user_sid(), &me));
    CHECK(GetTokenInformation(token, TokenOwner, &u, sizeof u, &len) &&
          ConvertSidToStringSidW(u.owner.Owner, &def));
    CloseHandle(token);
    /* The caller: what tmpf__os_euid says. */
    const long long mine = TMPF__WIN_UID_ME, other = TMPF__WIN_UID_UNTRUSTED;
    CHECK_EQ_INT(tmpf__os_euid(), mine);
    if (me)
        CHECK_EQ_INT(owner_uid(me), mine);
    if (def)
        CHECK_EQ_INT(owner_uid(def), mine);
    /* Windows' "root": SYSTEM, Administrators, TrustedInstaller (unless
     * the token's own). */
    if (!me || wcscmp(me, L"S-1-5-18")) {
        CHECK_EQ_INT(owner_uid(L"SY"), 0);
        CHECK_EQ_INT(owner_uid(L"BA"), 0);
    }
    CHECK_EQ_INT(owner_uid(L"S-1-5-80-956008885-3418522649-1831038044-1853292631-2271478464"),
                 0);
    /* Anyone else, or nobody: untrusted. */
    CHECK_EQ_INT(owner_uid(L"BG"), other);             /* Guests */
    CHECK_EQ_INT(owner_uid(L"BU"), other);             /* Users */
    CHECK_EQ_INT(owner_uid(L"WD"), other);             /* Everyone */
    CHECK_EQ_INT(owner_uid(L"AN"), other);             /* Anonymous (Wine: another uid) */
    CHECK_EQ_INT(owner_uid(L"S-1-5-21-1-2-3-1001"), other); /* another user */
    CHECK_EQ_INT(owner_uid(L"S-1-5-80-1-2-3-4-5"), other);  /* another service */
    CHECK_EQ_INT(owner_uid(NULL), other);
    CHECK_EQ_INT(tmpf__win_owner_uid(NULL), other);
    LocalFree(me);
    LocalFree(def);
}

/* The owner of path as an SDDL SID string ("" when it cannot be read). */
static void owner_sid_string(const char *path, wchar_t *out, size_t cap)
{
    PSID owner = NULL;
    PSECURITY_DESCRIPTOR sd = NULL;
    wchar_t *s = NULL;
    out[0] = 0;
    if (GetNamedSecurityInfoW(wide(path), SE_FILE_OBJECT, OWNER_SECURITY_INFORMATION, &owner,
                              NULL, NULL, NULL, &sd) == ERROR_SUCCESS &&
        owner && ConvertSidToStringSidW(owner, &s)) {
        _snwprintf(out, cap, L"%ls", s);
        out[cap - 1] = 0;
    }
    LocalFree(s);
    LocalFree(sd);
}

/* Under Wine: runs a Unix shell command (Wine starts a Unix executable as
 * it is) and waits until done() says it is, for 10 s at most. */
static bool wine_sh(const char *cmd, bool (*done)(const char *), const char *arg)
{
    wchar_t line[4096];
    _snwprintf(line, 4096, L"sh -c \"%ls\"", wide(cmd));
    line[4095] = 0;
    STARTUPINFOW si;
    memset(&si, 0, sizeof si);
    si.cb = sizeof si;
    PROCESS_INFORMATION pi;
    if (!CreateProcessW(L"Z:\\bin\\sh", line, NULL, NULL, FALSE, 0, NULL, NULL, &si, &pi))
        return false;
    WaitForSingleObject(pi.hProcess, 10000);
    CloseHandle(pi.hProcess);
    CloseHandle(pi.hThread);
    for (int i = 0; i < 100 && !done(arg); i++)
        Sleep(100); /* Wine's handle of a Unix process may not wait for it */
    return done(arg);
}

static bool owned_by_other(const char *path)
{
    wchar_t o[256];
    owner_sid_string(path, o, 256);
    return o[0] && !wcscmp(o, L"S-1-5-7"); /* Wine's owner for another uid */
}

static bool not_owned_by_other(const char *path) { return !owned_by_other(path); }

/* A directory owned by someone else: what Wine shows for a Unix directory
 * of another uid (chown needs root: the tests run as root). Wine names
 * that owner Anonymous (S-1-5-7) and gives the owner's Unix rights to it
 * in the DACL, WRITE_DAC included, so its DACL alone already makes it
 * shared (broad_write): the owner's own part is seen in the facts' uid,
 * and in the same directory taken once it is this user's again. */
static void test_api_gettempdir_skips_foreign_owner(void)
{
    typedef char *(CDECL * unix_name_fn)(LPCWSTR);
    unix_name_fn unix_name = (unix_name_fn)(void (*)(void))GetProcAddress(
        GetModuleHandleW(L"kernel32.dll"), "wine_get_unix_file_name");
    if (!under_wine() || !unix_name)
        SKIP("another owner can be given only under Wine here (chown of its Unix directory); "
             "real Windows needs SeRestorePrivilege: test_owner_uid_decision covers the "
             "decision");
    char foreign[2048], other[2048];
    snprintf(foreign, sizeof foreign, "%s", in_scratch("foreign"));
    snprintf(other, sizeof other, "%s", in_scratch("fallback"));
    CHECK(CreateDirectoryW(wide(foreign), NULL));
    CHECK(CreateDirectoryW(wide(other), NULL));
    char *ux = unix_name(wide(foreign));
    char cmd[4096];
    snprintf(cmd, sizeof cmd, "chmod 0555 '%s' && chown 65534 '%s'", ux ? ux : "/nonexistent",
             ux ? ux : "/nonexistent");
    if (!wine_sh(cmd, owned_by_other, foreign)) {
        HeapFree(GetProcessHeap(), 0, ux);
        CHECK(RemoveDirectoryW(wide(foreign)));
        CHECK(RemoveDirectoryW(wide(other)));
        SKIP("could not give the directory another owner (a Unix chown as root)");
    }
    /* The identity checks call it unsafe; its owner is not trusted, by
     * path or through a handle, and it cannot pass for a directory just
     * made by the caller (tmpf__ident_of_new_dir: ESTALE). */
    CHECK(tmpf__dir_unsafe(foreign) != NULL);
    struct tmpf__os_facts f;
    CHECK_EQ_INT(tmpf__os_facts_path(foreign, true, &f), 0);
    CHECK_EQ_INT(f.uid, TMPF__WIN_UID_UNTRUSTED);
    int dfd = tmpf__os_open_dir_nofollow(foreign);
    CHECK(dfd >= 0);
    if (dfd >= 0) {
        CHECK_EQ_INT(tmpf__os_facts_fd(dfd, &f), 0);
        CHECK_EQ_INT(f.uid, TMPF__WIN_UID_UNTRUSTED);
        tmpf__os_close(dfd);
    }
    struct tmpf__ident id;
    errno = 0;
    CHECK_EQ_INT(tmpf__ident_of_new_dir(foreign, NULL, &id), -1);
    CHECK_EQ_INT(errno, ESTALE);
    /* gettempdir passes over it. */
    wchar_t old_temp[1024] = L"", old_tmp[1024] = L"", old_tmpdir[1024] = L"";
    bool had_temp = GetEnvironmentVariableW(L"TEMP", old_temp, 1024) > 0;
    bool had_tmp = GetEnvironmentVariableW(L"TMP", old_tmp, 1024) > 0;
    bool had_tmpdir = GetEnvironmentVariableW(L"TMPDIR", old_tmpdir, 1024) > 0;
    SetEnvironmentVariableW(L"TMPDIR", NULL);
    SetEnvironmentVariableW(L"TEMP", wide(foreign));
    SetEnvironmentVariableW(L"TMP", wide(other));
    CHECK_EQ_INT(run_tempdir_child(other), 0);
    /* The same directory given back to the user who runs Wine (the token
     * user) is taken: the owner made the difference. */
    snprintf(cmd, sizeof cmd, "chmod 0700 '%s' && chown $(id -u) '%s'", ux ? ux : "/nonexistent",
             ux ? ux : "/nonexistent");
    CHECK(wine_sh(cmd, not_owned_by_other, foreign));
    CHECK(tmpf__dir_unsafe(foreign) == NULL);
    CHECK_EQ_INT(tmpf__os_facts_path(foreign, true, &f), 0);
    CHECK_EQ_INT(f.uid, TMPF__WIN_UID_ME);
    CHECK_EQ_INT(tmpf__ident_of_new_dir(foreign, NULL, &id), 0);
    CHECK_EQ_INT(run_tempdir_child(foreign), 0);
    SetEnvironmentVariableW(L"TEMP", had_temp ? old_temp : NULL);
    SetEnvironmentVariableW(L"TMP", had_tmp ? old_tmp : NULL);
    SetEnvironmentVariableW(L"TMPDIR", had_tmpdir ? old_tmpdir : NULL);
    HeapFree(GetProcessHeap(), 0, ux);
    CHECK(RemoveDirectoryW(wide(foreign)));
    CHECK(RemoveDirectoryW(wide(other)));
}

/* Creates file path (empty). */
static bool make_file(const char *path)
{
    HANDLE h = CreateFileW(wide(path), GENERIC_WRITE, 0, NULL, CREATE_NEW, 0, NULL);
    if (h == INVALID_HANDLE_VALUE)
        return false;
    CloseHandle(h);
    return true;
}

/* The directory-relative calls converted from paths to the directory's
 * handle: after the directory was renamed and another put under its old
 * name, each acts on the one held (by path they would act on the new
 * one). Wine 8 opens relative to the handle but deletes an entry by the
 * path it had when opened (the stale one, where the decoy is): deletions
 * in a moved directory are for real Windows to show. */
static void test_at_calls_follow_renamed_directory(void)
{
    char d1[2048], d2[2048], p[2048];
    snprintf(d1, sizeof d1, "%s", in_scratch("held"));
    snprintf(d2, sizeof d2, "%s", in_scratch("moved"));
    CHECK(CreateDirectoryW(wide(d1), NULL));
    snprintf(p, sizeof p, "%s\\victim", d1);
    CHECK(make_file(p));
    snprintf(p, sizeof p, "%s\\sub", d1);
    CHECK(CreateDirectoryW(wide(p), NULL));
    snprintf(p, sizeof p, "%s\\sub\\deep", d1);
    CHECK(make_file(p));
    int dfd = tmpf__os_open_dir(d1);
    CHECK(dfd >= 0);
    if (dfd < 0)
        return;
    /* unlink_at refuses a directory, as unlinkat without AT_REMOVEDIR. */
    errno = 0;
    CHECK_EQ_INT(tmpf__os_unlink_at(dfd, "sub"), -1);
    CHECK_EQ_INT(errno, EISDIR);
    CHECK(MoveFileExW(wide(d1), wide(d2), 0));
    /* A decoy where the directory was, with the same names. */
    CHECK(CreateDirectoryW(wide(d1), NULL));
    snprintf(p, sizeof p, "%s\\victim", d1);
    CHECK(make_file(p));
    snprintf(p, sizeof p, "%s\\sub", d1);
    CHECK(make_file(p));

    /* make_dir_at: made in the held directory. */
    CHECK_EQ_INT(tmpf__os_make_dir_at(dfd, "made", 0700), 0);
    snprintf(p, sizeof p, "%s\\made", d2);
    CHECK(wexists(wide(p)));
    snprintf(p, sizeof p, "%s\\made", d1);
    CHECK(!wexists(wide(p)));
    errno = 0;
    CHECK_EQ_INT(tmpf__os_make_dir_at(dfd, "made", 0700), -1);
    CHECK_EQ_INT(errno, EEXIST);
    if (under_wine()) {
        /* rmtree_contents sees that the held directory's (stale) path
         * leads to the decoy and touches nothing. */
        printf("  note: Wine deletes by the path an entry was opened by: unlink_at and "
               "rmtree_contents in a moved directory not checked\n");
        CHECK_EQ_INT(tmpf__os_rmtree_contents(dfd), ESTALE);
        CHECK_EQ_INT(count_entries(wide(d2)), 3);
    } else {
        /* unlink_at: the held directory's entry goes, the decoy's stays. */
        CHECK_EQ_INT(tmpf__os_unlink_at(dfd, "victim"), 0);
        snprintf(p, sizeof p, "%s\\victim", d2);
        CHECK(!wexists(wide(p)));
        /* rmtree_contents: the held directory is emptied (a
         * subdirectory's contents too). */
        CHECK_EQ_INT(tmpf__os_rmtree_contents(dfd), 0);
        CHECK_EQ_INT(count_entries(wide(d2)), 0);
    }
    /* The decoy is whole. */
    CHECK_EQ_INT(count_entries(wide(d1)), 2);
    tmpf__os_close(dfd);
    CHECK_EQ_INT(tmpf__os_rmtree(scratch, "moved"), 0);
    CHECK_EQ_INT(tmpf__os_rmtree(scratch, "held"), 0);
}

void tmpf__test_fail_alloc_after(long n);
unsigned long tmpf__test_alloc_failures(void);

/* Makes, in w (cap units), the directory \\?\<scratch>\<top> (top not
 * NULL), then levels more below what w names, each a 200-character name:
 * paths far over 1024 UTF-16 units. */
static void make_long_dirs(wchar_t *w, size_t cap, const wchar_t *top, int levels)
{
    if (top) {
        _snwprintf(w, cap, L"\\\\?\\%ls\\%ls", wscratch, top);
        w[cap - 1] = 0;
        CHECK(CreateDirectoryW(w, NULL));
    }
    wchar_t name[201];
    for (int i = 0; i < 200; i++)
        name[i] = (wchar_t)(L'a' + i % 26);
    name[200] = 0;
    for (int level = 0; level < levels && wcslen(w) + 202 < cap; level++) {
        wcscat(w, L"\\");
        wcscat(w, name);
        CHECK(CreateDirectoryW(w, NULL));
    }
}

/* The emergency removal allocates nothing (every allocation fails while it
 * runs, and none is tried), also for paths far over 1024 UTF-16 units: a
 * tree six levels of 200-character names deep, and a file at its bottom. */
static void test_emergency_remove_long_paths_without_allocation(void)
{
    static wchar_t w[8192];
    make_long_dirs(w, 8192, L"em-long", 0);
    char top[4096];
    WideCharToMultiByte(CP_UTF8, 0, w + 4, -1, top, sizeof top, NULL, NULL);
    make_long_dirs(w, 8192, NULL, 6);
    wcscat(w, L"\\file");
    HANDLE h = CreateFileW(w, GENERIC_WRITE, 0, NULL, CREATE_NEW, 0, NULL);
    CHECK(h != INVALID_HANDLE_VALUE);
    CloseHandle(h);
    CHECK(wcslen(w) > 1200);
    static char file[8192];
    WideCharToMultiByte(CP_UTF8, 0, w + 4, -1, file, sizeof file, NULL, NULL);
    uint64_t dev = 0, ino = 0;
    CHECK_EQ_INT(tmpf__os_ident(-1, top, &dev, &ino), 0);

    unsigned long before = tmpf__test_alloc_failures();
    tmpf__test_fail_alloc_after(-2); /* every allocation fails */
    int file_rc = tmpf__os_emergency_remove(file, false, false, 0, 0, -1);
    int file_errno = errno;
    bool file_gone = !wexists(w);
    /* The tree again, with a file in its middle level. */
    wchar_t *cut = wcsrchr(w, L'\\');
    *cut = 0;
    cut = wcsrchr(w, L'\\');
    wcscpy(cut + 1, L"middle");
    h = CreateFileW(w, GENERIC_WRITE, 0, NULL, CREATE_NEW, 0, NULL);
    CHECK(h != INVALID_HANDLE_VALUE);
    CloseHandle(h);
    int dir_rc = tmpf__os_emergency_remove(top, true, true, dev, ino, -1);
    int dir_errno = errno;
    tmpf__os_emergency_done();
    tmpf__test_fail_alloc_after(-1);
    unsigned long tried = tmpf__test_alloc_failures() - before;

    CHECK_EQ_INT(tried, 0);
    CHECK_EQ_INT(file_rc, 1);
    if (file_rc != 1)
        fprintf(stderr, "  file: errno %d\n", file_errno);
    CHECK(file_gone);
    CHECK_EQ_INT(dir_rc, 1);
    if (dir_rc != 1)
        fprintf(stderr, "  tree: errno %d\n", dir_errno);
    CHECK(!wexists(wide(top)));
    if (wexists(wide(top)))
        CHECK_EQ_INT(tmpf__os_rmtree(scratch, "em-long"), 0);
}

/* ---- crash guard: tmpf.exe as the guardian (H1) ----------------------------- */

/* ---- (H6) the tree walks, link_fd's copy and the side removal by handle --- */

/* path's attributes has FILE_ATTRIBUTE_READONLY. */
static bool read_only(const char *path)
{
    DWORD a = GetFileAttributesW(wide(path));
    return a != INVALID_FILE_ATTRIBUTES && (a & FILE_ATTRIBUTE_READONLY);
}

/* dir persist's tree walks (TMPF_DURABLE's flush, TMPF_ACROSS_FS's copy)
 * and link_fd's copy go by the directory handles they are given: after
 * both directories were renamed and decoys put under their old names,
 * sync_tree flushes the held tree (its count), copy_tree copies the held
 * tree into the held destination and link_fd makes its copy there; the
 * decoys are untouched. By the directories' final paths (Wine gives the
 * old one) they would walk the decoys. */
static void test_tree_calls_follow_renamed_directory(void)
{
    char src[2048], src2[2048], dst[2048], dst2[2048], p[2048];
    snprintf(src, sizeof src, "%s", in_scratch("tree-held"));
    snprintf(src2, sizeof src2, "%s", in_scratch("tree-moved"));
    snprintf(dst, sizeof dst, "%s", in_scratch("tree-to"));
    snprintf(dst2, sizeof dst2, "%s", in_scratch("tree-to-moved"));
    CHECK(CreateDirectoryW(wide(src), NULL));
    CHECK(CreateDirectoryW(wide(dst), NULL));
    snprintf(p, sizeof p, "%s\\a", src);
    CHECK(put_file(p, "alpha"));
    snprintf(p, sizeof p, "%s\\ro", src);
    CHECK(put_file(p, "read-only"));
    CHECK(SetFileAttributesW(wide(p), FILE_ATTRIBUTE_READONLY));
    snprintf(p, sizeof p, "%s\\sub", src);
    CHECK(CreateDirectoryW(wide(p), NULL));
    snprintf(p, sizeof p, "%s\\sub\\deep", src);
    CHECK(put_file(p, "deep"));
    int sfd = tmpf__os_open_dir(src), tfd = tmpf__os_open_dir(dst);
    CHECK(sfd >= 0);
    CHECK(tfd >= 0);
    CHECK(MoveFileExW(wide(src), wide(src2), 0));
    CHECK(MoveFileExW(wide(dst), wide(dst2), 0));
    /* The decoys: one file where the source was, nothing where the
     * destination was. */
    CHECK(CreateDirectoryW(wide(src), NULL));
    snprintf(p, sizeof p, "%s\\decoy", src);
    CHECK(put_file(p, "decoy"));
    CHECK(CreateDirectoryW(wide(dst), NULL));

    if (sfd >= 0 && tfd >= 0) {
        /* The held tree: 3 files, a subdirectory and itself (the decoy's
         * would be 2); the read-only file is flushed and stays read-only.
         * Wine 8 cannot list a renamed directory through its handle (it
         * lists by the old path: EBADF): there the walks fail and touch
         * nothing, and walking the moved tree is for real Windows. */
        unsigned long before = tmpf__test_fsync_count();
        int rc = tmpf__os_sync_tree(sfd);
        int err = errno;
        unsigned long synced = tmpf__test_fsync_count() - before;
        if (rc != 0 && under_wine()) {
            printf("  note: Wine lists a moved directory by its old path (errno %d): the "
                   "tree walks in a moved directory not checked\n",
                   err);
            CHECK_EQ_INT(synced, 0);
        } else {
            CHECK_EQ_INT(rc, 0);
            CHECK_EQ_INT(synced, 5);
            snprintf(p, sizeof p, "%s\\ro", src2);
            CHECK(read_only(p));
        }
        rc = tmpf__os_copy_tree(sfd, tfd);
        if (rc != 0 && under_wine()) {
            CHECK_EQ_INT(count_entries(wide(dst2)), 0);
        } else {
            CHECK_EQ_INT(rc, 0);
            snprintf(p, sizeof p, "%s\\a", dst2);
            CHECK(file_has(p, "alpha"));
            snprintf(p, sizeof p, "%s\\ro", dst2);
            CHECK(file_has(p, "read-only"));
            CHECK(read_only(p));
            snprintf(p, sizeof p, "%s\\sub\\deep", dst2);
            CHECK(file_has(p, "deep"));
            CHECK_EQ_INT(count_entries(wide(dst2)), 3);
        }
        /* link_fd's copy is made relative to the handle (Wine too). */
        int fd = tmpf__os_open_tmpfile(-100, scratch, 0600);
        CHECK(fd >= 0);
        CHECK_EQ_INT(tmpf__os_write_all(fd, "linked", 6), 0);
        CHECK_EQ_INT(tmpf__os_link_fd(fd, tfd, "copy"), 0);
        tmpf__os_close(fd);
        snprintf(p, sizeof p, "%s\\copy", dst2);
        CHECK(file_has(p, "linked"));
    }
    /* The decoys are whole. */
    CHECK_EQ_INT(count_entries(wide(dst)), 0);
    CHECK_EQ_INT(count_entries(wide(src)), 1);
    snprintf(p, sizeof p, "%s\\decoy", src);
    CHECK(file_has(p, "decoy"));
    if (sfd >= 0)
        tmpf__os_close(sfd);
    if (tfd >= 0)
        tmpf__os_close(tfd);
    CHECK_EQ_INT(tmpf__os_rmtree(scratch, "tree-held"), 0);
    CHECK_EQ_INT(tmpf__os_rmtree(scratch, "tree-moved"), 0);
    CHECK_EQ_INT(tmpf__os_rmtree(scratch, "tree-to"), 0);
    CHECK_EQ_INT(tmpf__os_rmtree(scratch, "tree-to-moved"), 0);
    CHECK_EQ_INT(count_entries(wscratch), 0);
}

/* The walks' link decision (what they never enter or follow) is the
 * reparse tag's: a name surrogate (symbolic link, junction or mount
 * point, WSL's symlink) is a link; a deduplicated file, a cloud
 * placeholder, an app execution alias or a container's entry is the file
 * or directory itself; without the reparse attribute nothing is. Real
 * reparse points cannot be made under Wine 8: the handle side
 * (tmpf__win_is_link) is for real Windows. */
static void test_reparse_tag_decides_link(void)
{
    const DWORD rp = FILE_ATTRIBUTE_REPARSE_POINT, dir = FILE_ATTRIBUTE_DIRECTORY;
    CHECK(tmpf__win_reparse_is_link(rp, 0xA000000C));       /* SYMLINK */
    CHECK(tmpf__win_reparse_is_link(rp | dir, 0xA000000C)); /* directory symlink */
    CHECK(tmpf__win_reparse_is_link(rp | dir, 0xA0000003)); /* MOUNT_POINT (junction) */
    CHECK(tmpf__win_reparse_is_link(rp, 0xA000001D));       /* LX_SYMLINK */
    CHECK(!tmpf__win_reparse_is_link(rp, 0x80000013));      /* DEDUP */
    CHECK(!tmpf__win_reparse_is_link(rp | dir, 0x9000601A)); /* CLOUD_6 */
    CHECK(!tmpf__win_reparse_is_link(rp, 0x8000001B));      /* APPEXECLINK */
    CHECK(!tmpf__win_reparse_is_link(rp | dir, 0x80000018)); /* WCI */
    CHECK(!tmpf__win_reparse_is_link(dir, 0xA000000C));     /* no reparse point */
    /* A plain directory's handle is no link. */
    HANDLE h = CreateFileW(wscratch, FILE_READ_ATTRIBUTES, FILE_SHARE_READ | FILE_SHARE_WRITE |
                           FILE_SHARE_DELETE, NULL, OPEN_EXISTING,
                           FILE_FLAG_BACKUP_SEMANTICS | FILE_FLAG_OPEN_REPARSE_POINT, NULL);
    CHECK(h != INVALID_HANDLE_VALUE);
    if (h != INVALID_HANDLE_VALUE) {
        CHECK(!tmpf__win_is_link(h, dir));
        CloseHandle(h);
    }
}

/* tmpf__os_rmtree opens its parent by path once and the top entry
 * relative to it: the name as the path's conversion took it before
 * ("top." is top), a missing entry or parent is success, a name of dots
 * alone is refused. */
static void test_rmtree_top_relative_to_parent(void)
{
    char p[2048];
    snprintf(p, sizeof p, "%s", in_scratch("top"));
    CHECK(CreateDirectoryW(wide(p), NULL));
    snprintf(p, sizeof p, "%s\\inner", in_scratch("top"));
    CHECK(put_file(p, "x"));
    CHECK_EQ_INT(tmpf__os_rmtree(scratch, "top."), 0);
    CHECK(!wexists(wide(in_scratch("top"))));
    CHECK_EQ_INT(tmpf__os_rmtree(scratch, "missing"), 0);
    CHECK_EQ_INT(tmpf__os_rmtree(in_scratch("no-parent"), "x"), 0);
    CHECK_EQ_INT(tmpf__os_rmtree(scratch, "..."), EINVAL);
    CHECK_EQ_INT(count_entries(wscratch), 0);
}

/* The emergency removal of a side name allocates nothing, also at a path
 * over 1024 UTF-16 units (every allocation fails while it runs, and none
 * is tried): a stale side file goes, one whose lock a live writer holds
 * stays, a missing one is 0. */
static void test_emergency_remove_side_without_allocation(void)
{
    static wchar_t w[8192];
    make_long_dirs(w, 8192, L"side-long", 5);
    size_t dir_len = wcslen(w);
    CHECK(dir_len > 1024);
    static char stale[8192], live[8192], none[8192];
    wcscat(w, L"\\.side-stale");
    HANDLE h = CreateFileW(w, GENERIC_WRITE, 0, NULL, CREATE_NEW, 0, NULL);
    CHECK(h != INVALID_HANDLE_VALUE);
    CloseHandle(h);
    WideCharToMultiByte(CP_UTF8, 0, w + 4, -1, stale, sizeof stale, NULL, NULL);
    w[dir_len] = 0;
    wcscat(w, L"\\.side-none");
    WideCharToMultiByte(CP_UTF8, 0, w + 4, -1, none, sizeof none, NULL, NULL);
    w[dir_len] = 0;
    wcscat(w, L"\\.side-live");
    WideCharToMultiByte(CP_UTF8, 0, w + 4, -1, live, sizeof live, NULL, NULL);
    int held = tmpf__os_create_file(live, 0600, 0);
    CHECK(held >= 0);
    CHECK_EQ_INT(tmpf__os_side_lock(held), 0);

    unsigned long before = tmpf__test_alloc_failures();
    tmpf__test_fail_alloc_after(-2); /* every allocation fails */
    int stale_rc = tmpf__os_emergency_remove_side(stale);
    int stale_errno = errno;
    int live_rc = tmpf__os_emergency_remove_side(live);
    int none_rc = tmpf__os_emergency_remove_side(none);
    tmpf__os_emergency_done();
    tmpf__test_fail_alloc_after(-1);
    unsigned long tried = tmpf__test_alloc_failures() - before;

    CHECK_EQ_INT(tried, 0);
    CHECK_EQ_INT(stale_rc, 1);
    if (stale_rc != 1)
        fprintf(stderr, "  stale: errno %d\n", stale_errno);
    w[dir_len] = 0;
    wcscat(w, L"\\.side-stale");
    CHECK(!wexists(w));
    CHECK_EQ_INT(live_rc, 0);
    w[dir_len] = 0;
    wcscat(w, L"\\.side-live");
    CHECK(wexists(w));
    CHECK_EQ_INT(none_rc, 0);
    /* Not even marked for deletion: it outlives its writer's handle. */
    if (held >= 0)
        tmpf__os_close(held);
    CHECK(wexists(w));
    CHECK_EQ_INT(tmpf__os_rmtree(scratch, "side-long"), 0);
    CHECK_EQ_INT(count_entries(wscratch), 0);
}


/* tmpf.exe of this build: $TMPF_GUARD_EXE if set, else beside the tests
 * directory (build\tests\test_windows.exe, build\tmpf.exe). */
static const wchar_t *guard_exe(void)
{
    static wchar_t exe[MAX_PATH];
    DWORD n = GetEnvironmentVariableW(L"TMPF_GUARD_EXE", exe, MAX_PATH);
    if (n > 0 && n < MAX_PATH)
        return exe;
    n = GetModuleFileNameW(NULL, exe, MAX_PATH);
    if (n == 0 || n >= MAX_PATH)
        return NULL;
    for (int cut = 0; cut < 2; cut++) {
        wchar_t *sep = wcsrchr(exe, L'\\');
        if (!sep)
            return NULL;
        *sep = 0;
    }
    if (wcslen(exe) + 10 >= MAX_PATH)
        return NULL;
    wcscat(exe, L"\\tmpf.exe");
    return exe;
}

/* The first process whose parent is pid (the guardian a child started),
 * opened to be waited on; NULL if there is none. */
static HANDLE child_of(DWORD pid)
{
    HANDLE snap = CreateToolhelp32Snapshot(TH32CS_SNAPPROCESS, 0);
    if (snap == INVALID_HANDLE_VALUE)
        return NULL;
    PROCESSENTRY32W pe;
    pe.dwSize = sizeof pe;
    HANDLE found = NULL;
    for (BOOL ok = Process32FirstW(snap, &pe); ok && !found; ok = Process32NextW(snap, &pe))
        if (pe.th32ParentProcessID == pid && pe.th32ProcessID != pid)
            found = OpenProcess(SYNCHRONIZE | PROCESS_QUERY_LIMITED_INFORMATION |
                                    PROCESS_TERMINATE,
                                FALSE, pe.th32ProcessID);
    CloseHandle(snap);
    return found;
}

/* The child of the guard cases: in dir, a named file, a directory with a
 * file inside, a scope's mkstemp file, then a "ready" marker, then it
 * waits to be killed. mode "guard": tmpf_crash_guard first; "none": no
 * guard (the control); "env": none called, TMPF_CRASH_GUARD=1 is in the
 * environment; "reused": with the guard, the named file's name then leads
 * to another file (the registered one moved to "moved") and a second
 * named file is made after it. */
static int child_guard(const char *dir, const char *mode)
{
    bool reused = !strcmp(mode, "reused");
    if ((!strcmp(mode, "guard") || reused) && tmpf_crash_guard() != 0)
        return 90;
    tmpf_opts o = {.dir = dir};
    tmpf_file *f = tmpf_named_temporary_file(&o);
    if (!f)
        return 91;
    char p[2048];
    if (reused) {
        snprintf(p, sizeof p, "%s\\moved", dir);
        if (!MoveFileExW(wide(tmpf_file_path(f)), wide(p), 0))
            return 92;
        FILE *w = fopen(tmpf_file_path(f), "wb");
        if (!w || fputs("other", w) < 0 || fclose(w) != 0)
            return 93;
        if (!tmpf_named_temporary_file(&o))
            return 94;
    } else {
        tmpf_dir *d = tmpf_temporary_directory(&o);
        tmpf_scope *s = tmpf_scope_new(0);
        if (!d || !s || tmpf_mkstemp(&(tmpf_opts){.dir = dir, .scope = s}, NULL) < 0)
            return 95;
        snprintf(p, sizeof p, "%s\\inner", tmpf_dir_path(d));
        FILE *w = fopen(p, "wb");
        if (!w || fclose(w) != 0)
            return 96;
    }
    snprintf(p, sizeof p, "%s\\ready", dir);
    FILE *w = fopen(p, "wb");
    if (!w || fclose(w) != 0)
        return 97;
    Sleep(INFINITE);
    return 98;
}

/* Runs this program with args (a child that makes `made` temporaries in
 * dir, then a "ready" marker there) to its marker, kills it
 * (TerminateProcess, as SIGKILL), removes the marker; then waits up to
 * 10 s for dir to hold `left` entries. The guardian (the child's own
 * child), if there is one, must have exited with 0 by then. */
static void guard_run(const wchar_t *args, const wchar_t *dir, const char *what, int made,
                      int left, bool guarded)
{
    HANDLE child = spawn_self(args);
    CHECK(child != NULL);
    if (!child)
        return;
    wchar_t marker[2048];
    _snwprintf(marker, 2048, L"%ls\\ready", dir);
    marker[2047] = 0;
    while (!wexists(marker) && WaitForSingleObject(child, 10) == WAIT_TIMEOUT)
        ;
    DWORD code = 0;
    if (!wexists(marker) && GetExitCodeProcess(child, &code))
        fprintf(stderr, "  %s: the child exited with %lu\n", what, (unsigned long)code);
    CHECK(wexists(marker));
    CHECK_EQ_INT(entries_in(dir), made + 1);
    HANDLE guardian = child_of(GetProcessId(child));
    CHECK_EQ_INT(guardian != NULL, guarded);
    TerminateProcess(child, 9);
    WaitForSingleObject(child, INFINITE);
    CloseHandle(child);
    DeleteFileW(marker);
    /* The removal is at once after the death: 10 s is only a bound. */
    ULONGLONG t0 = GetTickCount64();
    for (int i = 0; i < 500 && entries_in(dir) != left; i++)
        Sleep(20);
    CHECK_EQ_INT(entries_in(dir), left);
    if (guarded)
        printf("  note: %s: %d entries left after %llu ms\n", what, left,
               (unsigned long long)(GetTickCount64() - t0));
    if (guardian) {
        CHECK_EQ_INT(WaitForSingleObject(guardian, 10000), WAIT_OBJECT_0);
        DWORD gcode = 99;
        GetExitCodeProcess(guardian, &gcode);
        CHECK_EQ_INT(gcode, 0);
        TerminateProcess(guardian, 99); /* a failed case leaves nothing running */
        CloseHandle(guardian);
    }
}

/* guard_run of child_guard(mode) in scratch. */
static void guard_scenario(const char *mode, int made, int left, bool guarded)
{
    wchar_t args[2048];
    _snwprintf(args, 2048, L"child-guard \"%ls\" %hs", wscratch, mode);
    args[2047] = 0;
    guard_run(args, wscratch, mode, made, left, guarded);
}

static void test_api_crash_guard(void)
{
    const wchar_t *exe = guard_exe();
    CHECK(exe && wexists(exe));
    if (!exe || !wexists(exe)) {
        fprintf(stderr, "  tmpf.exe not found (%ls): build the tmpf_tool target\n",
                exe ? exe : L"?");
        return;
    }
    SetEnvironmentVariableW(L"TMPF_GUARD_EXE", exe);
    /* Control: no guard, all three stay. */
    guard_scenario("none", 3, 3, false);
    empty_scratch();
    /* The guard: named file, directory with its file, mkstemp file gone. */
    guard_scenario("guard", 3, 0, true);
    empty_scratch();
    /* Started by TMPF_CRASH_GUARD=1 at the first creation. */
    SetEnvironmentVariableW(L"TMPF_CRASH_GUARD", L"1");
    guard_scenario("env", 3, 0, true);
    SetEnvironmentVariableW(L"TMPF_CRASH_GUARD", NULL);
    empty_scratch();
    /* A name that leads to another file than the one registered stays
     * (and the moved original, no longer under that name); the second
     * file, registered after it (the guardian goes in slot order), goes. */
    guard_scenario("reused", 3, 2, true);
    CHECK(wexists(wide(in_scratch("moved"))));
    empty_scratch();
    SetEnvironmentVariableW(L"TMPF_GUARD_EXE", NULL);
}

/* The child of test_api_crash_guard_errors: tmpf_crash_guard's errno as
 * its exit code (0 if it succeeded). */
static int child_guard_error(void)
{
    if (tmpf_crash_guard() == 0)
        return 0;
    return errno;
}

/* Runs child_guard_error with TMPF_GUARD_EXE = exe: its exit code; no
 * process of the child's may be left. */
static DWORD guard_error_with(const wchar_t *exe)
{
    SetEnvironmentVariableW(L"TMPF_GUARD_EXE", exe);
    HANDLE child = spawn_self(L"child-guard-error");
    SetEnvironmentVariableW(L"TMPF_GUARD_EXE", NULL);
    CHECK(child != NULL);
    if (!child)
        return 99;
    CHECK_EQ_INT(WaitForSingleObject(child, 60000), WAIT_OBJECT_0);
    DWORD code = 99;
    GetExitCodeProcess(child, &code);
    HANDLE left = child_of(GetProcessId(child));
    CHECK(left == NULL || WaitForSingleObject(left, 0) == WAIT_OBJECT_0);
    if (left) {
        TerminateProcess(left, 99); /* a failed case leaves nothing running */
        CloseHandle(left);
    }
    CloseHandle(child);
    return code;
}

static void test_api_crash_guard_errors(void)
{
    /* No helper: ENOENT (no PATH search, nothing started). */
    CHECK_EQ_INT(guard_error_with(wide(in_scratch("no-such-tmpf.exe"))), ENOENT);
    /* A program that is not the guardian (this one: it exits 3 at once
     * when called as one): ENOEXEC; one that never answers (this one
     * again, told to hang): ETIMEDOUT after the start timeout, ended. */
    wchar_t self[MAX_PATH];
    GetModuleFileNameW(NULL, self, MAX_PATH);
    CHECK_EQ_INT(guard_error_with(self), ENOEXEC);
    SetEnvironmentVariableW(L"TMPF_TEST_GUARD_HANG", L"1");
    CHECK_EQ_INT(guard_error_with(self), ETIMEDOUT);
    SetEnvironmentVariableW(L"TMPF_TEST_GUARD_HANG", NULL);
    /* tmpf.exe refuses the tag of another version (its registry may be
     * laid out otherwise) and bad arguments, at once. */
    const wchar_t *exe = guard_exe();
    CHECK(exe && wexists(exe));
    if (!exe)
        return;
    static const char *const bad[] = {
        "--crash-guardian tmpf-0.0.0-33554496-64 4 8 c",
        "--crash-guardian tmpf-" TMPF_VERSION_STRING "-33554496-32 4 8 c",
        "--crash-guardian",
        "--crash-guardian x y z w",
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        wchar_t cmd[2048];
        _snwprintf(cmd, 2048, L"\"%ls\" %hs", exe, bad[i]);
        cmd[2047] = 0;
        STARTUPINFOW si;
        memset(&si, 0, sizeof si);
        si.cb = sizeof si;
        PROCESS_INFORMATION pi;
        CHECK(CreateProcessW(exe, cmd, NULL, NULL, FALSE, 0, NULL, NULL, &si, &pi));
        CloseHandle(pi.hThread);
        CHECK_EQ_INT(WaitForSingleObject(pi.hProcess, 30000), WAIT_OBJECT_0);
        DWORD code = 0;
        GetExitCodeProcess(pi.hProcess, &code);
        CHECK(code != 0 && code != STILL_ACTIVE);
        if (i < 2)
            CHECK_EQ_INT(code, 3); /* the tag */
        CloseHandle(pi.hProcess);
    }
}
/* The child of test_api_crash_guard_dll: dlldir\tmpf.dll loaded (its
 * own registry), its tmpf_crash_guard, then a named file in dir through
 * it, a "ready" marker, and a wait to be killed. Exit code: the errno of
 * a failed tmpf_crash_guard, 80+ for other failures. */
static int child_guard_dll(const char *dlldir, const char *dir)
{
    char p[2048];
    snprintf(p, sizeof p, "%s\\tmpf.dll", dlldir);
    HMODULE m = LoadLibraryW(wide(p));
    if (!m)
        return 80;
    int (*guard)(void) = (int (*)(void))(void (*)(void))GetProcAddress(m, "tmpf_crash_guard");
    tmpf_file *(*named)(const tmpf_opts *) = (tmpf_file * (*)(const tmpf_opts *))(
        void (*)(void))GetProcAddress(m, "tmpf_named_temporary_file");
    if (!guard || !named)
        return 81;
    if (guard() != 0)
        return errno;
    if (!named(&(tmpf_opts){.dir = dir}))
        return 82;
    snprintf(p, sizeof p, "%s\\ready", dir);
    FILE *w = fopen(p, "wb");
    if (!w || fclose(w) != 0)
        return 83;
    Sleep(INFINITE);
    return 84;
}

static void test_api_crash_guard_dll(void)
{
    /* tmpf.dll finds tmpf.exe in its own directory, not the program's
     * (this program's has none), with TMPF_GUARD_EXE unset. */
    const wchar_t *exe = guard_exe();
    CHECK(exe && wexists(exe));
    if (!exe || !wexists(exe))
        return;
    wchar_t from[MAX_PATH], saved[MAX_PATH];
    wcscpy(from, exe);
    *wcsrchr(from, L'\\') = 0;
    DWORD had = GetEnvironmentVariableW(L"TMPF_GUARD_EXE", saved, MAX_PATH);
    SetEnvironmentVariableW(L"TMPF_GUARD_EXE", NULL);
    char dlldir[2048], work[2048];
    snprintf(dlldir, sizeof dlldir, "%s", in_scratch("dll"));
    snprintf(work, sizeof work, "%s", in_scratch("work"));
    wchar_t wdll[2048], wwork[2048], src[2048], dst[2048];
    wcscpy(wdll, wide(dlldir));
    wcscpy(wwork, wide(work));
    CHECK(CreateDirectoryW(wdll, NULL) && CreateDirectoryW(wwork, NULL));
    _snwprintf(src, 2048, L"%ls\\tmpf.dll", from);
    _snwprintf(dst, 2048, L"%ls\\tmpf.dll", wdll);
    CHECK(CopyFileW(src, dst, TRUE));
    /* Without tmpf.exe beside it: ENOENT. */
    wchar_t args[4096];
    _snwprintf(args, 4096, L"child-guard-dll \"%ls\" \"%ls\"", wdll, wwork);
    args[4095] = 0;
    CHECK_EQ_INT(run_self(args), ENOENT);
    CHECK_EQ_INT(entries_in(wwork), 0);
    /* With it: the guardian removes the file after the kill. */
    _snwprintf(src, 2048, L"%ls\\tmpf.exe", from);
    _snwprintf(dst, 2048, L"%ls\\tmpf.exe", wdll);
    CHECK(CopyFileW(src, dst, TRUE));
    guard_run(args, wwork, "dll", 1, 0, true);
    SetEnvironmentVariableW(L"TMPF_GUARD_EXE", had && had < MAX_PATH ? saved : NULL);
    CHECK_EQ_INT(tmpf_rmtree(dlldir, 0), 0);
    CHECK_EQ_INT(tmpf_rmtree(work, 0), 0);
}
/* ---- end of the crash guard block ---------------------------------------- */

/* ---- drive-relative paths ------------------------------------------------- */

/* "C:x" is below drive C's current directory, as GetFullPathNameW (and so
 * Python's os.path.abspath) takes it: the process's own when it is on C:,
 * else the one cmd keeps in the hidden variable "=C:", else C:\. */
static void check_abspath(const char *in, const char *want)
{
    char *got = tmpf__abspath(in);
    if (!got || strcmp(got, want) != 0) {
        fprintf(stderr, "  abspath(\"%s\") = \"%s\", expected \"%s\"\n", in,
                got ? got : "(null)", want);
        current_failures++;
    }
    free(got);
}

static void test_drive_relative_paths(void)
{
    /* src/win/os_path.h: which paths are drive-relative. */
    CHECK_EQ_INT(tmpf__os_drive_relative("C:x"), 'C');
    CHECK_EQ_INT(tmpf__os_drive_relative("d:"), 'd');
    CHECK_EQ_INT(tmpf__os_drive_relative("C:\\x"), 0);
    CHECK_EQ_INT(tmpf__os_drive_relative("C:/x"), 0);
    CHECK_EQ_INT(tmpf__os_drive_relative("1:x"), 0);
    CHECK_EQ_INT(tmpf__os_drive_relative("\\x"), 0);
    char here_letter = scratch[0], other = here_letter == 'Z' ? 'C' : 'Z';
    CHECK(scratch[1] == ':');
    wchar_t saved_cwd[2048];
    DWORD n = GetCurrentDirectoryW(2048, saved_cwd);
    CHECK(n > 0 && n < 2048);
    const char *cwd = in_scratch("drive-cwd");
    CHECK(CreateDirectoryW(wide(cwd), NULL));
    CHECK(SetCurrentDirectoryW(wide(cwd)));
    char in[64], want[2048];

    /* The current directory's own drive, in either case of its letter. */
    snprintf(in, sizeof in, "%c:x", here_letter);
    snprintf(want, sizeof want, "%s\\x", cwd);
    check_abspath(in, want);
    snprintf(in, sizeof in, "%c:x/y\\.\\z", here_letter | 0x20);
    snprintf(want, sizeof want, "%s\\x\\y\\z", cwd);
    check_abspath(in, want);
    snprintf(in, sizeof in, "%c:", here_letter);
    check_abspath(in, cwd);
    snprintf(in, sizeof in, "%c:..\\up", here_letter);
    check_abspath(in, in_scratch("up"));

    /* Another drive (Wine: Z: is the Unix root, C: the prefix's drive_c):
     * its root, or what "=Z:" says. */
    wchar_t var[] = {L'=', (wchar_t)other, L':', 0}, saved_var[2048];
    DWORD had = GetEnvironmentVariableW(var, saved_var, 2048);
    CHECK(had < 2048);
    SetEnvironmentVariableW(var, NULL);
    snprintf(in, sizeof in, "%c:x", other);
    snprintf(want, sizeof want, "%c:\\x", other);
    check_abspath(in, want);
    snprintf(in, sizeof in, "%c:", other);
    snprintf(want, sizeof want, "%c:\\", other);
    check_abspath(in, want);
    wchar_t drive_dir[] = {(wchar_t)other, L':', L'\\', L'd', L'i', L'r', 0};
    CHECK(SetEnvironmentVariableW(var, drive_dir));
    snprintf(in, sizeof in, "%c:x", other);
    snprintf(want, sizeof want, "%c:\\dir\\x", other);
    check_abspath(in, want);
    SetEnvironmentVariableW(var, had ? saved_var : NULL);

    /* Through the API: tmpf_opts.dir = "C:" is the current directory
     * when it is on C:. */
    snprintf(in, sizeof in, "%c:", here_letter);
    tmpf_opts o = {.dir = in, .prefix = "drv-"};
    char *path = NULL;
    int fd = tmpf_mkstemp(&o, &path);
    CHECK(fd >= 0);
    CHECK(path && strncmp(path, cwd, strlen(cwd)) == 0 && path[strlen(cwd)] == '\\' &&
          windows_abspath(path));
    if (fd >= 0)
        _close(fd);
    CHECK(path && _wunlink(wide(path)) == 0);
    free(path);

    CHECK(SetCurrentDirectoryW(saved_cwd));
    CHECK(RemoveDirectoryW(wide(cwd)));
}

/* ---- console control events: Ctrl-C, Ctrl-Break ---------------------------- */

/* The child of test_console_events, started with a console of its own
 * (CREATE_NO_WINDOW: a console without a window, this process alone on
 * it). handlers: "all" (tmpf_cleanup_on_signals(NULL, 0)), "sigint"
 * (SIGINT only) or "none". It holds a named file and a directory with a
 * file in dir, then sends event ("ctrl-c" or "ctrl-break") by how:
 * "generate", GenerateConsoleCtrlEvent to its console (group 0: every
 * process on it, itself included); "routine", kernel32's CtrlRoutine in a
 * new thread, which is what the system runs in a process for an event
 * (for Wine 8, which cannot generate a Ctrl-Break). Then it waits for the
 * handlers to end it. 76: the event could not be sent; 78: it came and did
 * not end the process. */
static int child_console(const char *dir, const char *event, const char *handlers,
                         const char *how)
{
    int sigint = SIGINT;
    if (!strcmp(handlers, "all") && tmpf_cleanup_on_signals(NULL, 0) != 0)
        return 90;
    if (!strcmp(handlers, "sigint") && tmpf_cleanup_on_signals(&sigint, 1) != 0)
        return 90;
    int held = hold_file_and_tree(dir);
    if (held != 0)
        return held;
    DWORD ev = !strcmp(event, "ctrl-break") ? CTRL_BREAK_EVENT : CTRL_C_EVENT;
    if (!strcmp(how, "generate")) {
        if (!GenerateConsoleCtrlEvent(ev, 0))
            ExitProcess(76);
    } else {
        FARPROC found =
            GetProcAddress(GetModuleHandleW(L"kernel32.dll"), "CtrlRoutine");
        LPTHREAD_START_ROUTINE routine = (LPTHREAD_START_ROUTINE)(void (*)(void))found;
        if (!routine || !CreateThread(NULL, 0, routine, (void *)(DWORD_PTR)ev, 0, NULL))
            ExitProcess(76);
    }
    Sleep(10000);
    ExitProcess(78);
}

static DWORD run_console_child(const char *event, const char *handlers, const char *how)
{
    wchar_t args[2048];
    _snwprintf(args, 2048, L"child-console \"%ls\" %hs %hs %hs", wscratch, event,
               handlers, how);
    args[2047] = 0;
    HANDLE h = spawn_self_flags(args, CREATE_NO_WINDOW);
    if (!h)
        return 99;
    WaitForSingleObject(h, INFINITE);
    DWORD code = 99;
    GetExitCodeProcess(h, &code);
    CloseHandle(h);
    return code;
}

/* The child's exit code for event; *how: "generate", or "routine" where
 * GenerateConsoleCtrlEvent cannot send it (Ctrl-Break under Wine 8). The
 * scratch directory is left as the child left it. */
static DWORD console_event(const char *event, const char *handlers, const char **how)
{
    *how = "generate";
    DWORD code = run_console_child(event, handlers, *how);
    if (code == 76 && !strcmp(event, "ctrl-break")) {
        empty_scratch();
        *how = "routine";
        code = run_console_child(event, handlers, *how);
    }
    return code;
}

/* tmpf_cleanup_on_signals against real console events: the library's
 * control routine removes what the process holds and then leaves the
 * event to the next handler, here the default one, which ends the process
 * (STATUS_CONTROL_C_EXIT on Windows; Wine 8's ends it with 0). The control
 * without the call leaves both. */
static void test_console_events(void)
{
    const char *how;
    DWORD dflt = console_event("ctrl-c", "none", &how);
    if (dflt == 76) {
        empty_scratch();
        SKIP("the child has no console (GenerateConsoleCtrlEvent failed)");
    }
    printf("  Ctrl-C by GenerateConsoleCtrlEvent; the default handler's exit code: "
           "0x%lx\n",
           (unsigned long)dflt);
    CHECK(dflt != 78 && dflt < 90);
    if (!under_wine())
        CHECK_EQ_INT(dflt, STATUS_CONTROL_C_EXIT);
    CHECK_EQ_INT(count_entries(wscratch), 2); /* control: left */
    empty_scratch();
    CHECK_EQ_INT(console_event("ctrl-c", "all", &how), dflt);
    CHECK_EQ_INT(count_entries(wscratch), 0);
    empty_scratch();
    CHECK_EQ_INT(console_event("ctrl-c", "sigint", &how), dflt);
    CHECK_EQ_INT(count_entries(wscratch), 0);
    empty_scratch();

    DWORD brk = console_event("ctrl-break", "none", &how);
    printf("  Ctrl-Break by %s; the default handler's exit code: 0x%lx\n",
           !strcmp(how, "generate")
               ? "GenerateConsoleCtrlEvent"
               : "CtrlRoutine (GenerateConsoleCtrlEvent cannot send it)",
           (unsigned long)brk);
    if (brk == 76) {
        empty_scratch();
        SKIP("Ctrl-Break: neither GenerateConsoleCtrlEvent nor CtrlRoutine");
    }
    CHECK(brk != 78 && brk < 90);
    if (!under_wine())
        CHECK_EQ_INT(brk, STATUS_CONTROL_C_EXIT);
    CHECK_EQ_INT(count_entries(wscratch), 2); /* control: left */
    empty_scratch();
    CHECK_EQ_INT(console_event("ctrl-break", "all", &how), brk);
    CHECK_EQ_INT(count_entries(wscratch), 0);
    empty_scratch();
    /* Ctrl-Break is SIGBREAK: not among the chosen signals, so left. */
    CHECK_EQ_INT(console_event("ctrl-break", "sigint", &how), brk);
    CHECK_EQ_INT(count_entries(wscratch), 2);
    empty_scratch();
}

/* ---- main ------------------------------------------------------------------ */

struct test {
    const char *name;
    void (*fn)(void);
};
#define TEST(fn) {#fn, fn}
static const struct test tests[] = {
    TEST(test_random_bytes_differ),
    TEST(test_create_new_refuses_existing),
    TEST(test_named_file_opens_by_name_while_held),
    TEST(test_delete_while_another_handle_shares_deletion),
    TEST(test_exclusive_reader_blocks_delete),
    TEST(test_read_only_file_is_removed),
    TEST(test_anonymous_file_leaves_nothing),
    TEST(test_anonymous_file_gone_after_terminate),
    TEST(test_utf8_names),
    TEST(test_long_paths),
    TEST(test_rmtree_read_only_tree),
    TEST(test_rmtree_reports_what_it_cannot_remove),
    TEST(test_rmtree_removes_file_held_with_shared_delete),
    TEST(test_rmtree_contents_keeps_the_directory),
    TEST(test_links_never_followed),
    TEST(test_reopen_by_name_checks_identity),
    TEST(test_rename_noreplace),
    TEST(test_side_lock_and_sweep),
    TEST(test_fsync_counts),
    TEST(test_link_fd_copies_anonymous_file),
    TEST(test_owner_only_dacl),
    TEST(test_once_runs_once),
    TEST(test_path_forms),
    TEST(test_path_syntax),
    TEST(test_environment_in_utf8),
    TEST(test_create_at_follows_renamed_directory),
    TEST(test_api_mkstemp),
    TEST(test_api_names_refused),
    TEST(test_api_named_file),
    TEST(test_api_anonymous_file),
    TEST(test_api_spooled_rollover),
    TEST(test_api_write_atomic_and_persist),
    TEST(test_api_rmtree_read_only_tree),
    TEST(test_api_utf8_names),
    TEST(test_api_gettempdir_order),
    TEST(test_api_sweep),
    TEST(test_api_emergency),
    TEST(test_api_keep_dacl),
    TEST(test_api_persist_keeps_target_dacl),
    TEST(test_api_persist_keeps_target_attributes),
    TEST(test_api_persist_moves_the_held_file),
    TEST(test_api_persist_across_volumes_keeps_target),
    TEST(test_api_persist_takes_target_owner),
    TEST(test_api_plain_reader_blocks),
    TEST(test_api_dir_persist),
    TEST(test_api_crash_guard),
    TEST(test_api_crash_guard_errors),
    TEST(test_api_crash_guard_dll),
    TEST(test_drive_relative_paths),
    /* owners and handle-relative calls (issue 19, items 2 and 3) */
    TEST(test_owner_uid_decision),
    TEST(test_api_gettempdir_skips_foreign_owner),
    TEST(test_at_calls_follow_renamed_directory),
    TEST(test_emergency_remove_long_paths_without_allocation),
    TEST(test_console_events),
    /* (H6) tree walks, link_fd's copy and the side removal by handle */
    TEST(test_tree_calls_follow_renamed_directory),
    TEST(test_emergency_remove_side_without_allocation),
    TEST(test_reparse_tag_decides_link),
    TEST(test_rmtree_top_relative_to_parent),
};

int main(int argc, char **argv)
{
    if (argc == 3 && strcmp(argv[1], "child-anonymous") == 0)
        return child_anonymous(argv[2]);
    if (argc == 3 && strcmp(argv[1], "child-tempdir") == 0)
        return child_tempdir(argv[2]);
    if (argc == 4 && strcmp(argv[1], "child-emergency") == 0)
        return child_emergency(argv[2], argv[3]);
    if (argc == 4 && strcmp(argv[1], "child-guard") == 0)
        return child_guard(argv[2], argv[3]);
    if (argc == 2 && strcmp(argv[1], "child-guard-error") == 0)
        return child_guard_error();
    if (argc == 4 && strcmp(argv[1], "child-guard-dll") == 0)
        return child_guard_dll(argv[2], argv[3]);
    if (argc >= 2 && strcmp(argv[1], "--crash-guardian") == 0) {
        /* Started as a guardian helper (test_api_crash_guard_errors): the
         * wrong program, which exits at once or hangs. */
        if (getenv("TMPF_TEST_GUARD_HANG"))
            Sleep(INFINITE);
        return 3;
    }
    if (argc == 6 && strcmp(argv[1], "child-console") == 0)
        return child_console(argv[2], argv[3], argv[4], argv[5]);
    /* A scratch directory of our own under the Windows temporary path. */
    wchar_t tmp[MAX_PATH];
    DWORD n = GetTempPathW(MAX_PATH, tmp);
    if (n == 0 || n >= MAX_PATH) {
        fprintf(stderr, "no temporary path\n");
        return 1;
    }
    unsigned char r[6];
    tmpf__os_random(r, sizeof r);
    _snwprintf(wscratch, 1024, L"%lstest_windows-%02x%02x%02x%02x%02x%02x", tmp, r[0], r[1],
               r[2], r[3], r[4], r[5]);
    wscratch[1023] = 0;
    WideCharToMultiByte(CP_UTF8, 0, wscratch, -1, scratch, sizeof scratch, NULL, NULL);
    if (!CreateDirectoryW(wscratch, NULL)) {
        fprintf(stderr, "cannot create %s\n", scratch);
        return 1;
    }
    printf("scratch: %s%s\n", scratch, under_wine() ? " (under Wine)" : "");
    if (under_wine())
        printf("note: no handle-leak check under Wine (GetProcessHandleCount says 0)\n");
    for (size_t i = 0; i < sizeof tests / sizeof tests[0]; i++) {
        printf("[ RUN  ] %s\n", tests[i].name);
        fflush(stdout);
        current_failures = 0;
        int skipped_before = skipped;
        DWORD handles_before = 0, handles_after = 0;
        GetProcessHandleCount(GetCurrentProcess(), &handles_before);
        tests[i].fn();
        GetProcessHandleCount(GetCurrentProcess(), &handles_after);
        /* Wine's GetProcessHandleCount always says 0: the check counts on
         * real Windows only. */
        if (handles_after > handles_before) {
            fprintf(stderr, "  %lu handle(s) left open\n",
                    (unsigned long)(handles_after - handles_before));
            current_failures++;
        }
        if (skipped != skipped_before)
            continue;
        if (current_failures) {
            failed++;
            printf("[ FAIL ] %s\n", tests[i].name);
        } else {
            passed++;
        }
        if (count_entries(wscratch) != 0) {
            printf("  %s left entries in the scratch directory\n", tests[i].name);
            failed++;
        }
    }
    char *cut = strrchr(scratch, '\\');
    if (cut) {
        *cut = 0;
        int err = tmpf__os_rmtree(scratch, cut + 1);
        if (err) {
            printf("could not remove the scratch directory (errno %d)\n", err);
            failed++;
        }
    }
    printf("%d passed, %d failed\n", passed, failed);
    fflush(stdout);
    return failed ? 1 : (passed == 0 && skipped ? 77 : 0);
}
