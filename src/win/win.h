/* Shared by the files of src/win/ only (the Windows platform code): UTF-8
 * to UTF-16 paths, error numbers, CRT descriptors. Never included by the
 * portable files. */
#ifndef TMPF_WIN_H
#define TMPF_WIN_H

#include "../internal.h"

#include <wchar.h>
#include <windows.h>

/* AT_FDCWD of the *at-style parameters of the layer (mingw-w64 has no
 * <fcntl.h> AT_FDCWD): the same value as Linux's. */
#ifndef AT_FDCWD
#define AT_FDCWD (-100)
#endif

/* errno for a Windows error code (GetLastError). */
int tmpf__win_errno(DWORD err);
/* Sets errno from GetLastError() and returns -1. */
int tmpf__win_fail(void);
/* Counts one flush for tmpf__test_fsync_count (tree_os.c flushes through
 * handles of its own, not through tmpf__os_fsync). */
void tmpf__win_count_fsync(void);

/* The UTF-16 path for a UTF-8 path: '/' becomes '\', a relative path is
 * made absolute (GetFullPathNameW), and a "\\?\" (or "\\?\UNC\") prefix is
 * put in front so that long paths work and nothing is altered by Win32
 * path rules any more. With dir_fd other than AT_FDCWD and a relative
 * path, the path is taken from the directory open as dir_fd (its final
 * path, GetFinalPathNameByHandleW). malloc'd, NULL with errno. */
wchar_t *tmpf__win_wpath_at(int dir_fd, const char *path);
wchar_t *tmpf__win_wpath(const char *path);
/* A path component's limit (NTFS, FAT, ReFS): 255 UTF-16 units. */
#define TMPF__WIN_NAME_MAX 255
/* tmpf__win_wpath without allocating, for removal (a cleanup must not be
 * stopped by a failed allocation): the "\\?\" form in buf (cap units). 0,
 * or -1 with errno; ERANGE when it does not fit. _fast: buf when it fits,
 * else tmpf__win_wpath's malloc'd copy (free it if it is not buf). */
enum { TMPF__WIN_WPATH_BUF = 1024 };
int tmpf__win_wpath_buf(const char *path, wchar_t *buf, size_t cap);
/* The same with the caller's room for the UTF-16 text before it is made
 * absolute (rel, rel_cap units; _buf has 1024 on the stack): with two
 * buffers of 32768 units, any path Windows takes, with no allocation. */
int tmpf__win_wpath_into(const char *path, wchar_t *buf, size_t cap, wchar_t *rel,
                         size_t rel_cap);
wchar_t *tmpf__win_wpath_fast(const char *path, wchar_t *buf, size_t cap);
/* The final path of an open file or directory, "\\?\C:\..." (no trailing
 * '\'), malloc'd; NULL with errno. */
wchar_t *tmpf__win_handle_path(HANDLE h);
/* UTF-16 to UTF-8, malloc'd (n: wide characters, or -1 for a NUL-ended
 * string); a "\\?\" prefix is removed ("\\?\UNC\" gives "\\"). */
char *tmpf__win_utf8(const wchar_t *w, int n);

/* CreateFileW of name resolved from the directory open as dir_fd: a
 * relative name is opened relative to the directory's handle (NtCreateFile
 * with RootDirectory: race-free, as POSIX *at), anything else (AT_FDCWD,
 * an absolute name, "." or ".." components) by path. The Win32 access,
 * share, disposition and flags; INVALID_HANDLE_VALUE with errno and the
 * Win32 error set. */
HANDLE tmpf__win_open_at(int dir_fd, const char *name, DWORD access, DWORD share,
                         DWORD disposition, DWORD flags, SECURITY_ATTRIBUTES *sa);
/* NtSetInformationFile(h, info of size bytes, class cls): an NTSTATUS
 * (STATUS_NOT_IMPLEMENTED where ntdll lacks the call). */
LONG tmpf__win_set_information(HANDLE h, void *info, ULONG size, ULONG cls);
/* A failed NTSTATUS as errno and the last error (RtlNtStatusToDosError);
 * returns -1. */
int tmpf__win_nt_fail(LONG status);

/* The same relative to the directory handle dir, name being len UTF-16
 * units (not NUL-ended; '\' separated, no "." or ".." component): always
 * by handle (NtCreateFile with RootDirectory), never by path, and no
 * allocation. ENOTSUP where ntdll lacks NtCreateFile. */
HANDLE tmpf__win_open_rel(HANDLE dir, const wchar_t *name, size_t len, DWORD access,
                          DWORD share, DWORD disposition, DWORD flags, SECURITY_ATTRIBUTES *sa);
/* One entry of a directory listing (not "." or ".."), read into the
 * caller's memory: name (len units, not NUL-ended) and attributes. */
struct tmpf__win_entry {
    union {
        FILE_ID_BOTH_DIR_INFO info;
        unsigned char bytes[sizeof(FILE_ID_BOTH_DIR_INFO) + TMPF__WIN_NAME_MAX * sizeof(wchar_t)];
    } u;
    const wchar_t *name;
    size_t len;
    DWORD attrs;
};
/* The next entry of the directory open as dir (restart: from the first):
 * one a call (NtQueryDirectoryFile, ReturnSingleEntry), so the handle's
 * position is right after it whatever happens between two calls, and no
 * allocation. 1, 0 at the end, -1 with errno. */
int tmpf__win_next_entry(HANDLE dir, bool restart, struct tmpf__win_entry *e);
/* Empties the directory open as dir (with FILE_LIST_DIRECTORY; left
 * open) as the removal walk does, for the emergency removal: static
 * memory only (the caller serializes), one handle per level, 128 levels
 * at most (deeper: ENAMETOOLONG, left), each entry opened relative to its
 * directory and deleted through its handle (a file someone else holds
 * open is not moved aside). 0, or -1 with the first errno (the rest
 * removed regardless). walk.c. */
int tmpf__win_empty_dir_static(HANDLE dir);
/* In the flags of the two: with CREATE_NEW, make a directory (sa: its
 * security) and open it (by path: CreateDirectoryW, then an open). */
#define TMPF__WIN_MAKE_DIR FILE_ATTRIBUTE_DIRECTORY
/* Renames from (from from_dir) to `to` (from to_dir) through a handle on the
 * entry opened relative to from_dir, with to_dir's handle as the root of
 * the new name (FileRenameInfo): no path is looked up. replace: an
 * existing `to` is replaced, else EEXIST. ENOTSUP (nothing done) when
 * either directory is AT_FDCWD or a name is not plainly relative. */
int tmpf__win_rename_at(int from_dir, const char *from, int to_dir, const char *to,
                        bool replace);
/* The handle behind a CRT descriptor (INVALID_HANDLE_VALUE, errno EBADF). */
HANDLE tmpf__win_handle(int fd);
/* A CRT descriptor owning h (closed on failure): -1 with errno. */
int tmpf__win_fd(HANDLE h, int crt_flags);

/* A new handle with access (shared with everyone) on the file open as h,
 * proved to be that file (volume serial and file index): ReOpenFile; where
 * that gives another file (Wine reopens by the path the file had when h
 * was opened), OpenFileById on the volume of the directory that name
 * (from dir_fd) is in. INVALID_HANDLE_VALUE with errno (ESTALE: the file
 * could not be found). persist_os.c. */
HANDLE tmpf__win_reopen_same(HANDLE h, DWORD access, int dir_fd, const char *name);

/* Copies the data of the file open as from (from its position on) to the
 * one open as to (at its position). persist_os.c. */
int tmpf__win_copy_data(HANDLE from, HANDLE to);

/* The side-name rule on the file open as h (with GENERIC_READ, DELETE and
 * FILE_WRITE_ATTRIBUTES, not followed): a plain file with one link whose
 * lock can be taken (no live writer) is deleted through h. true if it
 * was. persist_os.c. */
bool tmpf__win_side_free(HANDLE h);

/* The volume serial and file index of a handle, as the identity checks
 * compare them (dev, ino); attributes and link count too. */
int tmpf__win_facts(HANDLE h, struct tmpf__os_facts *ret, DWORD *attrs);

/* Whether the entry open as h (with FILE_FLAG_OPEN_REPARSE_POINT;
 * attributes attrs) stands for another name, so that a walk never enters
 * or follows it: a reparse point whose tag is a name surrogate (symbolic
 * link, junction, mount point). Another reparse point (deduplicated,
 * cloud placeholder, ...) is the file or directory itself. A tag that
 * cannot be read counts as a link. _reparse_is_link: the decision. */
bool tmpf__win_is_link(HANDLE h, DWORD attrs);
bool tmpf__win_reparse_is_link(DWORD attrs, DWORD tag);

/* Marks the file or empty directory open as h (opened with DELETE access)
 * for deletion: POSIX semantics where the system has them
 * (FileDispositionInfoEx, the name goes at once), else delete-on-close
 * (FileDispositionInfo). ignore_readonly: also when it is read-only. */
int tmpf__win_delete_handle(HANDLE h);

/* tmpf__win_delete_handle for the removal walk: where only
 * delete-on-close exists, the file is first renamed to a hidden random
 * name in the directory open as aside_dir (relative to that handle; NULL:
 * not), so that a handle someone else holds does not keep its name, and
 * its directory, in place. No allocation. */
int tmpf__win_delete_handle_aside(HANDLE h, HANDLE aside_dir);

/* Whether the object open as h (with READ_CONTROL) belongs to this user:
 * its owner SID is the token's user or the token's default owner (an
 * elevated administrator's files belong to the Administrators group). 1,
 * 0, or -1 with errno. */
int tmpf__win_owned_by_me(HANDLE h);

/* The owner in sd as the uid of the facts, so that the portable identity
 * checks judge it as POSIX's (tmpf__dir_unsafe: neither the caller nor
 * root; tmpf__ident_of_new_dir: the caller): TMPF__WIN_UID_ME for the
 * token's user or default owner (what tmpf__os_euid says), 0 for Windows'
 * "root" (SYSTEM, Administrators, TrustedInstaller), else
 * TMPF__WIN_UID_UNTRUSTED: anyone else, no security descriptor, no owner
 * in it, or a token that cannot be read (never trusted by failure). */
#define TMPF__WIN_UID_ME 1u
#define TMPF__WIN_UID_UNTRUSTED 0xfffffffeu
unsigned tmpf__win_owner_uid(PSECURITY_DESCRIPTOR sd);

/* A security descriptor whose DACL grants the calling user alone full
 * access, inherited by what is created inside (the meaning of 0700 and
 * 0600): LocalFree it. NULL with errno. */
PSECURITY_DESCRIPTOR tmpf__win_owner_only_sd(void);

#endif
