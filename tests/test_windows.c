/* Windows-only behaviour of the platform layer (src/win/), run under Wine
 * in the cross build (cmake/mingw-w64-x86_64.cmake). It calls the
 * tmpf__os_* layer directly: the library as a whole does not build for
 * Windows yet (five portable files still call POSIX: docs/windows-status.md);
 * once it does, these cases move to the public API and tests/harness.h
 * (which needs fork, ftw and grp today) gets a Windows side.
 *
 * Children are this executable re-run with arguments (no fork here).
 * Links (symlinks, junctions) cannot be made under Wine 8, so the
 * never-follow cases are skipped there, and say so. */
#include "../src/internal.h"

#include <aclapi.h>
#include <sddl.h>
#include <errno.h>
#include <fcntl.h>
#include <io.h>
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

/* Entries in scratch (not counting . and ..). */
static int count_entries(const wchar_t *dir)
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
            fprintf(stderr, "  (entry: %ls)\n", fd.cFileName);
        }
    while (FindNextFileW(h, &fd));
    FindClose(h);
    return n;
}

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

/* Runs this executable with args; returns the process handle. */
static HANDLE spawn_self(const wchar_t *args)
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
    if (!CreateProcessW(NULL, cmd, NULL, NULL, FALSE, 0, NULL, NULL, &si, &pi))
        return NULL;
    CloseHandle(pi.hThread);
    return pi.hProcess;
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
    HANDLE token;
    union {
        TOKEN_USER user;
        unsigned char bytes[sizeof(TOKEN_USER) + SECURITY_MAX_SID_SIZE];
    } u;
    DWORD len;
    CHECK(OpenProcessToken(GetCurrentProcess(), TOKEN_QUERY, &token));
    CHECK(GetTokenInformation(token, TokenUser, &u, sizeof u, &len));
    CloseHandle(token);
    for (DWORD i = 0; i < dacl->AceCount; i++) {
        void *e = NULL;
        LPSTR str = NULL;
        if (!GetAce(dacl, i, &e) || ((ACE_HEADER *)e)->AceType != ACCESS_ALLOWED_ACE_TYPE)
            continue;
        PSID sid = (PSID)&((ACCESS_ALLOWED_ACE *)e)->SidStart;
        if (EqualSid(sid, u.user.User.Sid))
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
    tmpf__os_once(TMPF__ONCE_LEAK_REPORT, count_once);
    tmpf__os_once(TMPF__ONCE_LEAK_REPORT, count_once);
    CHECK_EQ_INT(once_runs, 1);
    tmpf__os_lock(TMPF__LOCK_AUDIT_HOOK);
    tmpf__os_unlock(TMPF__LOCK_AUDIT_HOOK);
}

static void test_path_forms(void)
{
    /* '/' and '\' alike; the current directory comes back in UTF-8. */
    char *cwd = tmpf__os_getcwd();
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
};

int main(int argc, char **argv)
{
    if (argc == 3 && strcmp(argv[1], "child-anonymous") == 0)
        return child_anonymous(argv[2]);
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
