/*
 * tmpf — Python's tempfile module for C: secure temporary files and
 * directories with automatic cleanup, spooled in-memory files, safe
 * recursive removal and atomic write-and-rename.
 *
 * Conventions used by every function below:
 *   - Errors: -1 or NULL is returned and errno is set, as mkstemp(3) does.
 *     Nothing is printed, nothing aborts, and a failed call leaves no
 *     memory, descriptor or file behind.
 *   - Ownership: a returned `char *` is malloc'd and belongs to the caller
 *     (free(3) it); a returned `const char *` belongs to the library or to
 *     the object it came from.
 *   - Threads: calls on distinct objects may run concurrently; one object
 *     must not be used from two threads at once without the caller's lock.
 *   - Descriptors are always close-on-exec.
 */
#ifndef TMPF_H
#define TMPF_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <sys/types.h>

/* MSVC's C runtime has no ssize_t (mingw-w64's has, with this guard). */
#if defined(_MSC_VER) && !defined(_SSIZE_T_DEFINED)
#define _SSIZE_T_DEFINED
typedef intptr_t ssize_t;
#endif

/*
 * Windows (mingw-w64; MSVC unverified): the C runtime has no ESTALE, which
 * tmpf returns when a name no longer designates the file it holds; tmpf
 * defines it as Winsock's WSAESTALE (10070), the same meaning, so callers
 * can compare errno with it. There ENOTSUP (129) and EOPNOTSUPP (130) are
 * two values (one on Linux): tmpf says EOPNOTSUPP where the POSIX build
 * does (no anonymous file of that kind), ENOTSUP where a feature is missing
 * (no atomic exchange); compare with both to be safe.
 */
#ifdef _WIN32
#include <errno.h>
#ifndef ESTALE
#define ESTALE 10070
#endif
#endif

#ifdef __cplusplus
extern "C" {
#endif

#if defined(_WIN32) && defined(TMPF_BUILDING_SHARED)
#define TMPF_API __declspec(dllexport)
#elif defined(__GNUC__)
#define TMPF_API __attribute__((visibility("default")))
#else
#define TMPF_API
#endif

#if defined(__GNUC__)
#define TMPF_DEPRECATED(msg) __attribute__((deprecated(msg)))
#else
#define TMPF_DEPRECATED(msg)
#endif

#define TMPF_VERSION_MAJOR 0
#define TMPF_VERSION_MINOR 1
#define TMPF_VERSION_PATCH 0
#define TMPF_VERSION_STRING "0.1.0"

/* How many names are tried before creation gives up with EEXIST. */
#define TMPF_TMP_MAX 10000

/* Default and maximum number of random characters in a name. */
#define TMPF_RAND_LEN_DEFAULT 8
#define TMPF_RAND_LEN_MAX 64

/* Flags for tmpf_opts.flags (and, where noted, for other calls). */
enum {
    /* Never delete: Python's delete=False. The caller removes it. */
    TMPF_KEEP = 1u << 0,
    /* Closing keeps a named file (another program may open it by name);
     * cleanup still deletes it. Python 3.12's delete_on_close=False. */
    TMPF_KEEP_AFTER_CLOSE = 1u << 1,
    /* Cleanup removes what it can and reports success anyway. */
    TMPF_IGNORE_CLEANUP_ERRORS = 1u << 2,
    /* mkstemp's text=True; O_TEXT where the platform has it, else nothing. */
    TMPF_TEXT = 1u << 3,
    /* Also remove at normal exit (atexit, or when the library is unloaded)
     * if still there. A forked child never removes its parent's. */
    TMPF_AT_EXIT = 1u << 4,
    /* persist / write_atomic: fail with EEXIST instead of replacing. */
    TMPF_NOCLOBBER = 1u << 5,
    /* persist / write_atomic: fsync the file before and its directory after. */
    TMPF_DURABLE = 1u << 6,
    /* Hold flock(LOCK_SH) on an open named file and on a directory while
     * it lives, so tmpf_sweep and systemd-tmpfiles leave it alone
     * (TMPF_LOCK=1 in the environment sets it for every temporary). */
    TMPF_LOCK = 1u << 7,
    /* persist / dir_persist: on EXDEV (target on another file system) copy
     * to a side name beside target, then rename: still all-or-nothing. */
    TMPF_ACROSS_FS = 1u << 8,
    /* persist / write_atomic: also keep the replaced target's POSIX ACL and
     * user.* / security.* extended attributes; failing to is an error
     * (ENOTSUP in a build that cannot read them: generic POSIX). */
    TMPF_KEEP_XATTRS = 1u << 9,
    /* persist / write_atomic: allow replacing an existing target that is
     * not a regular file (a device, FIFO or socket); else EPERM. */
    TMPF_REPLACE_SPECIAL = 1u << 10,
};

typedef struct tmpf_scope tmpf_scope;
typedef struct tmpf_file tmpf_file;
typedef struct tmpf_dir tmpf_dir;

/*
 * Options shared by every creator. NULL or a zeroed struct means all
 * defaults, so a call reads like Python keyword arguments:
 *   tmpf_mkstemp(&(tmpf_opts){ .prefix = "report_", .suffix = ".json" }, &path)
 * New fields are only ever added at the end.
 */
typedef struct tmpf_opts {
    const char *dir;    /* NULL: tmpf_gettempdir() */
    const char *prefix; /* NULL: "tmp"; must not contain '/' (EINVAL) */
    const char *suffix; /* NULL: ""; must not contain '/' (EINVAL) */
    /* Windows: neither may contain '/', '\' or ':', nor the suffix end in
     * '.' or ' ' (EINVAL). */
    unsigned flags;     /* TMPF_* above; unknown bits are EINVAL */
    unsigned perm;      /* 0: 0600 for files, 0700 for directories; umask applies */
    size_t max_size;    /* spooled: roll to disk past this; 0: only when asked */
    unsigned rand_len;  /* random characters in a name; 0: 8; at most 64 */
    tmpf_scope *scope;  /* register the temporary in this scope (may be NULL) */
} tmpf_opts;

/* ---- Library ----------------------------------------------------------- */

/* The library's version, e.g. "0.1.0". */
TMPF_API const char *tmpf_version(void);

/* ---- The temporary directory (tempfile.gettempdir and friends) ---------- */

/*
 * The directory temporaries go to when opts.dir is NULL: the first of
 * $TMPDIR, $TEMP, $TMP, /tmp, /var/tmp, /usr/tmp and the current directory
 * that passes the vetting and in which a file can really be created and
 * written with a name of full length (an unnamed O_TMPFILE file plus a
 * length check where the file system has them, else a named file, removed
 * again: the probe leaves nothing). Vetting passes over a directory that
 * group or others can write without the sticky bit, or that belongs to a
 * user other than the caller and root (they could rename or remove what
 * tmpf creates there); the event hook hears of each candidate passed over
 * (TMPF_EVENT_TEMPDIR_SKIPPED). An explicit opts.dir or tmpf_settempdir is
 * not vetted. Chosen once per process (thread-safe) and returned as an
 * absolute path owned by the library. In a setuid/setgid process the
 * environment is ignored. Windows: $TMPDIR, $TEMP, $TMP, the system's
 * temp path (GetTempPath2W where present, else GetTempPathW),
 * %SYSTEMROOT%\Temp, C:\TEMP, C:\TMP, \TEMP, \TMP, then the current
 * directory, each probed by a real write; a directory whose DACL lets
 * Everyone, Users, Authenticated Users, Interactive, Guests or Anonymous
 * delete or rename entries they did not make (FILE_DELETE_CHILD, or DELETE
 * inherited by new files) is passed over, one where they may only add
 * entries is not; so is one owned by anyone but the caller (the token's
 * user or default owner) and SYSTEM, Administrators or TrustedInstaller,
 * or whose owner cannot be read; the path has backslashes and a drive or
 * UNC root.
 * Errors: NULL with ENOENT when no candidate works.
 */
TMPF_API const char *tmpf_gettempdir(void);

/* The default prefix, "tmp". */
TMPF_API const char *tmpf_gettempprefix(void);

/*
 * Python's `tempfile.tempdir = dir`: use dir from now on (made absolute,
 * not probed); NULL forgets any choice so the next tmpf_gettempdir()
 * chooses again. Strings returned earlier by tmpf_gettempdir() stay valid.
 * Errors: -1 with ENOENT for "", ENOMEM, or getcwd(3)'s errno for a
 * relative dir; the choice is then unchanged.
 */
TMPF_API int tmpf_settempdir(const char *dir);

/* ---- Low-level creation (mkstemp, mkdtemp, mktemp) ---------------------- */

/*
 * Creates a new file dir/prefix+random+suffix with O_EXCL|O_NOFOLLOW and
 * mode 0600 (or opts.perm), and returns its open read/write descriptor.
 * If path is not NULL, *path receives the malloc'd absolute path. The
 * caller owns both and removes the file; with opts.scope the scope removes
 * it. Errors: -1 with EINVAL (bad opts), EEXIST (TMPF_TMP_MAX names taken),
 * or the errno of open(2) (ENOENT, ENOTDIR, EACCES, EMFILE, ENOSPC, ...);
 * *path is untouched on failure.
 */
TMPF_API int tmpf_mkstemp(const tmpf_opts *opts, char **path);

/*
 * Creates a new directory dir/prefix+random+suffix with mode 0700 (or
 * opts.perm) and returns its malloc'd absolute path. Errors: NULL with
 * errno as tmpf_mkstemp.
 */
TMPF_API char *tmpf_mkdtemp(const tmpf_opts *opts);

/*
 * Returns a malloc'd absolute path that did not exist when checked, without
 * creating anything. Unsafe: another process may take the name before you
 * use it. Use tmpf_mkstemp or tmpf_mkdtemp instead. A name in a missing
 * dir counts as free (Python's mktemp and GNU mktemp -u agree). Errors:
 * NULL with EINVAL, EEXIST, or lstat(2)'s errno (ENOTDIR, EACCES, ...).
 */
TMPF_API TMPF_DEPRECATED("racy: use tmpf_mkstemp or tmpf_mkdtemp")
char *tmpf_mktemp(const tmpf_opts *opts);

/* ---- Temporary files --------------------------------------------------- */

/*
 * TemporaryFile: a read/write file with no name (O_TMPFILE on Linux, else
 * created and unlinked at once; a directory whose file system refuses
 * O_TMPFILE is remembered and not asked again). Closing it destroys it.
 * tmpf_file_path gives NULL. Free with tmpf_file_cleanup. Errors: NULL
 * with errno as tmpf_mkstemp (ENOENT, ENOTDIR, EACCES, EMFILE, ENOSPC,
 * ENOMEM, ...); nothing is left behind.
 */
TMPF_API tmpf_file *tmpf_temporary_file(const tmpf_opts *opts);

/*
 * NamedTemporaryFile: a read/write file with a name (tmpf_file_path),
 * created as tmpf_mkstemp creates one. Python 3.12's delete /
 * delete_on_close: by default tmpf_file_close deletes it; with
 * TMPF_KEEP_AFTER_CLOSE close keeps it (another program may open it by
 * name) and tmpf_file_cleanup deletes it; with TMPF_KEEP the library
 * never deletes it. Deletion is by name: do not rename it yourself.
 * Errors: as tmpf_mkstemp; nothing is left behind.
 */
TMPF_API tmpf_file *tmpf_named_temporary_file(const tmpf_opts *opts);

/*
 * SpooledTemporaryFile: kept in memory until the position after a write
 * passes opts.max_size, a truncate grows it past max_size,
 * tmpf_file_fileno is called, or tmpf_file_rollover; then it moves to an
 * anonymous file made with the same opts, keeping content and position.
 * max_size 0 means only the last two roll it over. The content is held in
 * blocks of up to 64 KiB, never more than a nonzero max_size in all; memory is
 * wiped before it is freed (up to 1 MiB of wiped blocks per process is
 * kept for later spooled files). Errors: NULL with EINVAL or ENOMEM.
 */
TMPF_API tmpf_file *tmpf_spooled_temporary_file(const tmpf_opts *opts);

/*
 * I/O on any tmpf_file, with read(2)/write(2)/lseek(2) meanings except:
 * read returns fewer than n bytes only at end of file; write writes all n
 * bytes or fails (a prefix may have been written); EINTR is retried.
 * seek's whence is SEEK_SET, SEEK_CUR or SEEK_END; a negative result is
 * EINVAL. Errors: -1 with errno; EBADF after tmpf_file_close.
 */
TMPF_API ssize_t tmpf_file_read(tmpf_file *f, void *buf, size_t n);
TMPF_API ssize_t tmpf_file_write(tmpf_file *f, const void *buf, size_t n);
TMPF_API int64_t tmpf_file_seek(tmpf_file *f, int64_t offset, int whence);
TMPF_API int64_t tmpf_file_tell(tmpf_file *f);
/* Sets the size to exactly size bytes (growing fills with zeros); the
 * position does not move. */
TMPF_API int tmpf_file_truncate(tmpf_file *f, int64_t size);
/* Pushes data buffered in the stdio view (tmpf_file_stream) to the file. */
TMPF_API int tmpf_file_flush(tmpf_file *f);
/* flush, then fsync(2) the file (a no-op for a spooled file in memory). */
TMPF_API int tmpf_file_sync(tmpf_file *f);

/*
 * The file's descriptor, owned by f (do not close it). A spooled file
 * rolls over to disk first. Errors: -1 with EBADF when closed, or the
 * rollover's errno.
 */
TMPF_API int tmpf_file_fileno(tmpf_file *f);

/*
 * A stdio view of f for fprintf/fread/getline, owned by f (never fclose
 * it; tmpf_file_close does). Returns the same stream on every call. Stream
 * calls and tmpf_file_* calls may be mixed freely: every tmpf_file_* call
 * first flushes the stream (pending output is written, read-ahead given
 * back), so both see one content and one position; a call that moves the
 * position or changes the content also clears the stream's end-of-file
 * indicator, as fseek would. Using the raw descriptor of tmpf_file_fileno
 * alongside the stream needs tmpf_file_flush before and after. A spooled
 * file stays in memory behind the stream until it rolls over. Built on
 * fopencookie (Linux) or funopen (BSD, macOS); elsewhere the stream sits
 * on a dup of the descriptor and a spooled file rolls over first.
 * Errors: NULL with EBADF (closed) or ENOMEM.
 */
TMPF_API FILE *tmpf_file_stream(tmpf_file *f);

/* The absolute path, or NULL for a file without one. Still answers after
 * tmpf_file_close; after tmpf_file_persist it is the new path. */
TMPF_API const char *tmpf_file_path(const tmpf_file *f);

/* Spooled files: move to disk now / whether it has. Other files are always
 * "rolled" and rollover is a no-op returning 0. */
TMPF_API int tmpf_file_rollover(tmpf_file *f);
TMPF_API bool tmpf_file_rolled(const tmpf_file *f);

/*
 * Opens a second, independent descriptor (own offset) on the same file,
 * after flushing the stream so it sees every byte written so far.
 * flags: O_RDONLY, O_WRONLY or O_RDWR, optionally with O_APPEND; O_CLOEXEC
 * is always added. A named file is opened by its path without following a
 * symlink and must still be the same file; an anonymous one through
 * /proc/self/fd on Linux. The caller owns the descriptor. A spooled file
 * rolls over first. Errors: -1 with EINVAL (other flags), EBADF (closed),
 * ENOENT (the name was removed or now leads to another file, or /proc is
 * not mounted), EOPNOTSUPP (anonymous file, not Linux), EMFILE, ...
 * Windows: _O_NOINHERIT stands for O_CLOEXEC (the new handle is never
 * inherited anyway); an anonymous file is reopened with ReOpenFile.
 */
TMPF_API int tmpf_file_reopen(tmpf_file *f, int flags);

/*
 * Closes the file (and its stream); deletes it now if its policy says so
 * (named default, anonymous, spooled). f stays valid for tmpf_file_path
 * and must still be freed with tmpf_file_cleanup. Closing twice is a
 * no-op. Returns -1 with errno if close or delete failed.
 */
TMPF_API int tmpf_file_close(tmpf_file *f);

/* Disarms deletion: the file stays on disk whatever happens next. */
TMPF_API int tmpf_file_keep(tmpf_file *f);

/*
 * The end of Python's `with`: closes if open, deletes unless kept, frees
 * f. NULL is a no-op. Returns -1 with errno if closing or deleting failed
 * (f is freed all the same).
 */
TMPF_API int tmpf_file_cleanup(tmpf_file *f);

/* ---- Atomic replacement ------------------------------------------------ */

/*
 * Moves temporary f into place as target, atomically, through its
 * descriptor: linkat(2) (AT_EMPTY_PATH, or /proc/self/fd without
 * privilege) to target (TMPF_NOCLOBBER) or to a side name beside target
 * then rename over it (see "Side names" below), so target never shows
 * half-written content, and what lands there is the file f holds even if
 * someone re-pointed its name (a temporary directory that others can
 * write); a named f's old name is then removed only while it still
 * designates that file. A named f whose name someone removed cannot be
 * linked again: ENOENT. A named f closed with TMPF_KEEP_AFTER_CLOSE is
 * opened by name (not following a symlink) and moved through that
 * descriptor, after a check against the identity recorded when it was
 * made in a directory others can write (ESTALE if something else is
 * there now). A symlink at target
 * is replaced itself, not followed (rename semantics). A spooled file
 * rolls over first. Replacing keeps what target names now (followed):
 * its owner and group where the writer may set them (root; else the group
 * if the writer is in it; else nothing, and no error), its permission
 * bits unless f was created with an explicit opts.perm, and with
 * TMPF_KEEP_XATTRS its POSIX ACL and user.* / security.* extended
 * attributes (not security.capability; failing to set one is an error:
 * EPERM, ENOTSUP). These are set on f before the move. A directory (or a
 * symlink to one) at target is EISDIR; a device, FIFO or socket EPERM
 * unless TMPF_REPLACE_SPECIAL. flags: TMPF_NOCLOBBER fails with EEXIST if
 * target exists (no look at it); TMPF_DURABLE fsyncs
 * the file before and target's directory after (exactly two fsyncs), and
 * opens that directory first and works relative to it, so the directory
 * synced is the one the file went into even if its path is re-pointed
 * meanwhile. Without TMPF_DURABLE each step resolves target's path anew,
 * as rename(2) does: if a directory on it is renamed during the call, the
 * move can fail (ENOENT, target untouched) and leave the side name below.
 * TMPF_ACROSS_FS: when target is on another file system, the data is
 * copied (copy_file_range, else read/write; holes kept) to a new file at
 * the side name, which gets what the move would have given f, is synced
 * with TMPF_DURABLE and renamed over target; then the temporary is
 * removed and f is that new file (same descriptor number and offset). A
 * failed copy (ENOSPC midway) leaves no side file and target untouched.
 * An anonymous f where the system cannot give an unnamed open file a name
 * (the generic POSIX build, macOS, FreeBSD, Windows; on Linux a file
 * system without O_TMPFILE): target becomes a copy of f's content at the
 * moment of persist (from offset 0), made at the side name, synced with
 * TMPF_DURABLE and renamed into place (TMPF_NOCLOBBER: a rename that does
 * not replace). f keeps its own file, descriptor, offset and locks: later
 * writes through f do not reach target, and persisting f again makes
 * another copy.
 * On success f is no longer temporary (close and cleanup leave it) and
 * tmpf_file_path reports target made absolute. On failure f and target
 * are as before (except the attributes already given to f). Errors: -1
 * with EINVAL (NULL, unknown flags), ENOENT (empty target), EISDIR (target
 * ends in "/", "." or "..", or is a directory), EPERM, EEXIST, EXDEV
 * (other file system, without TMPF_ACROSS_FS), EBADF (anonymous and
 * closed), ENOENT (deleted on close, missing directory), EACCES, ENOSPC,
 * ...
 * One exception: if only the final directory fsync fails, the file is
 * already at target (f says so) and -1 reports that the move may not be
 * durable.
 *
 * Windows: no open file can be linked there, so a named f is moved
 * through a handle of its own on the file f holds (proved to be it), never
 * by its name: what lands at target is that file even if someone
 * re-pointed its name. The move is FileRenameInformationEx with POSIX
 * semantics (it also replaces a target that others hold open sharing
 * deletion, or that is read-only); where the system lacks it (before
 * Windows 10 1709, Wine 8) FileRenameInformation with ReplaceIfExists,
 * remembered for the process. A reader that opened f's name without
 * sharing deletion (plain fopen) blocks the move: EBUSY. Replacing keeps,
 * by default, what ReplaceFileW keeps of security: target's DACL, which is
 * what the permission bits are there (copied as stored: its protection
 * from inheritance and its inherited entries), unless f was created with
 * an explicit opts.perm; its owner SID where the writer may set it (its
 * own SID, an owner group, SeRestorePrivilege enabled; else nothing, and
 * no error); and its hidden, system and not-content-indexed attributes
 * (read-only follows the permission bits; FILE_ATTRIBUTE_TEMPORARY is
 * dropped). TMPF_KEEP_XATTRS adds the DACL also with an explicit
 * opts.perm; alternate data streams, NTFS extended attributes, the SACL,
 * creation time and short name are not kept. TMPF_DURABLE flushes the
 * file (FlushFileBuffers) before the move, which is what
 * MOVEFILE_WRITE_THROUGH promises for a rename; a directory cannot be
 * flushed there (NTFS journals the rename itself).
 *
 * Side names. No system call links a file over an existing name, so a
 * replace by an anonymous file, and every tmpf_write_atomic temporary,
 * goes through ".#<name>.tmpf" beside target (<name>: the first 64 bytes
 * of target's last component), then rename(2). Its writer holds a flock(2)
 * on it from before anything is written under that name until the rename
 * (on a descriptor of its own: a lock the caller holds on f's descriptor
 * is not touched). A crash can therefore leave at most that one name, and
 * the next tmpf_write_atomic, or persist of an anonymous file, to the same
 * target removes it when it is provably stale: a regular file of the same
 * euid with a single link, whose lock it can take and that the name still
 * designates. Anything else there (a live writer's, another user's, a
 * symlink) is left alone and a random ".#<name>.XXXXXXXX" is used instead
 * (also when no lock can be had: no /proc for persist's own descriptor),
 * which a crash can leave for good. So the ".#<name>.tmpf" names are
 * reserved: a file kept under one of them can be removed.
 */
TMPF_API int tmpf_file_persist(tmpf_file *f, const char *target, unsigned flags);

/*
 * Replaces target with the n bytes at data so that target holds either the
 * old or the new bytes, whatever happens in between (a crash, SIGKILL, a
 * full disk). Up to 64 KiB are written to a named temporary at the side
 * name (open + write + rename, the cheapest sequence: a crash can leave it
 * there half-written); more, and every TMPF_NOCLOBBER write, to an
 * O_TMPFILE file that is named only once complete: linked straight to
 * target for TMPF_NOCLOBBER (a crash leaves nothing at all), else to the
 * side name (a crash between that link and the rename leaves it, whole).
 * Either leftover is removed by the next write of target (see "Side names"
 * above). Without O_TMPFILE (kernel or file system), or where an open
 * file cannot be given a name (macOS, generic POSIX, Windows), the
 * temporary is always named (TMPF_NOCLOBBER: a rename that never
 * replaces). Permissions: an existing target's permission bits (of the
 * file a symlink points to) are kept, without setuid/setgid/sticky, and
 * the temporary is created with them; a new file is created 0666 and the
 * kernel applies the umask (and a default ACL) as for any new file, so no
 * racy umask(2) call is made. Owner and group are kept as by
 * tmpf_file_persist, ACLs and xattrs with TMPF_KEEP_XATTRS; an existing
 * target that is not a regular file is refused the same way (EPERM).
 * Windows: the temporary is moved through its handle and keeps target's
 * DACL, owner SID and attributes as tmpf_file_persist says.
 * flags as tmpf_file_persist (TMPF_ACROSS_FS has nothing to do: the
 * temporary is made beside target). On failure target is
 * untouched and nothing is left behind, with tmpf_file_persist's one
 * exception: with TMPF_DURABLE, if only the final directory fsync fails,
 * target already holds the new bytes and -1 reports that this may not be
 * durable. Errors: as tmpf_file_persist, plus EINVAL for NULL data with
 * n > 0, and EISDIR for a directory target (EEXIST with TMPF_NOCLOBBER).
 */
TMPF_API int tmpf_write_atomic(const char *target, const void *data, size_t n,
                               unsigned flags);

/* One file of a tmpf_write_atomic_many batch. */
typedef struct tmpf_write {
    const char *target;
    const void *data;
    size_t size;
    int error; /* out: 0, or the errno of this target's failure */
} tmpf_write;

/*
 * n tmpf_write_atomic calls in one: each w[i].target is replaced by its
 * w[i].size bytes at w[i].data, atomically on its own (old or new,
 * whatever happens), but the batch is not one transaction: after a crash
 * or a failure some targets may hold new bytes and others old. flags as
 * tmpf_write_atomic (TMPF_ACROSS_FS has nothing to do: every temporary is
 * made beside its target). With TMPF_DURABLE all temporaries are written,
 * then fsync'd concurrently (writeback of all started first), then
 * renamed, then each distinct target directory is fsync'd once: far fewer
 * device flushes than n durable tmpf_write_atomic calls; every thread the
 * call starts has ended when it returns. Every item's error is set: 0, or
 * the errno of its failure (that target untouched and nothing left for
 * it, except as for tmpf_write_atomic when only its directory's fsync
 * failed). Returns 0 when every item succeeded, else -1 with errno the
 * first failed item's error. EINVAL (in errno and every error) for NULL w
 * with n > 0 or unknown flags; ENOMEM in every error if no memory for
 * the batch's bookkeeping. Targets of one batch should be distinct (the
 * same target twice: the later item wins).
 */
TMPF_API int tmpf_write_atomic_many(tmpf_write *w, size_t n, unsigned flags);

/* ---- Temporary directories --------------------------------------------- */

/*
 * TemporaryDirectory: created as tmpf_mkdtemp (0700 unless opts.perm).
 * Removed with everything in it by tmpf_dir_cleanup, unless TMPF_KEEP
 * (Python's delete=False). Errors: NULL with errno, as tmpf_mkdtemp.
 */
TMPF_API tmpf_dir *tmpf_temporary_directory(const tmpf_opts *opts);

/* Its absolute path, owned by d. */
TMPF_API const char *tmpf_dir_path(const tmpf_dir *d);

/*
 * An O_RDONLY|O_DIRECTORY|O_NOFOLLOW|O_CLOEXEC descriptor of it, owned by d
 * (do not close it; tmpf_dir_cleanup does), for openat()-style work that
 * stays right even if the path is renamed afterwards. Opened on the first
 * call (a directory never asked for one costs no open); later calls return
 * the same descriptor. Errors: -1 with EINVAL for NULL, or the first
 * open's errno (EMFILE, ENFILE, ENOENT or ELOOP if the path was removed or
 * replaced before that call, ...); a later call tries again. Windows: a C
 * runtime descriptor (_open_osfhandle) of a handle on the directory itself
 * (never a link's target), which _get_osfhandle turns back into the HANDLE
 * for handle-relative calls (the C runtime cannot read or write through
 * it); ELOOP if the path is now a link or junction.
 */
TMPF_API int tmpf_dir_fd(tmpf_dir *d);

/* Disarms removal. Errors: -1 with EINVAL for NULL. */
TMPF_API int tmpf_dir_keep(tmpf_dir *d);

/*
 * Publishes temporary directory d at target atomically: readers of target
 * see the old tree or the new one, never none and never a mix. Absent
 * target: renamed there. An existing directory: swapped with it in one
 * step (renameat2 RENAME_EXCHANGE), then the old tree is removed with
 * tmpf_rmtree's guarantees. d's tree first moves to a side name beside
 * target (".#<name>.XXXXXXXX") and is checked to be the directory d holds
 * (device and inode), so a re-pointed name is never published. flags:
 * TMPF_NOCLOBBER fails with EEXIST if target exists; TMPF_DURABLE fsyncs
 * every file and directory of the tree before the move and target's
 * directory after; TMPF_ACROSS_FS copies the tree when target is on
 * another file system (see tmpf_file_persist). On success d is no longer
 * temporary (cleanup frees it and leaves the tree), tmpf_dir_path reports
 * target made absolute and tmpf_dir_fd still works. On failure target is
 * untouched and d is as before (if its old name was taken meanwhile, d
 * stays temporary at the side name). Errors: -1 with EINVAL (NULL, other
 * flags, a last component "/", "." or ".."), ENOENT (""), EEXIST, ENOTDIR
 * (target is not a directory), ENOTSUP (no atomic exchange here: kernel,
 * file system, a generic POSIX build, or Windows, which has none for two
 * directories; target untouched), EXDEV, ESTALE (d's name no longer
 * designates its directory), EACCES, ... Once the new tree is in place, a
 * failed directory fsync or removal of the old tree is still -1 with its
 * errno (d is then persisted, as tmpf_dir_path shows).
 */
TMPF_API int tmpf_dir_persist(tmpf_dir *d, const char *target, unsigned flags);

/*
 * Removes the tree unless kept, then frees d whatever happens (d is gone
 * after the call, also when it fails). An empty directory costs one rmdir;
 * only when rmdir says "not empty" is the tree walked, as tmpf_rmtree. Any
 * other rmdir failure is reported without touching anything inside (EBUSY:
 * something is mounted on the directory; EACCES, EROFS, ...). A directory
 * already gone is success. NULL is a no-op. Errors: -1 with the first errno,
 * or 0 with TMPF_IGNORE_CLEANUP_ERRORS (Python's ignore_cleanup_errors),
 * what could not be removed being left in place.
 */
TMPF_API int tmpf_dir_cleanup(tmpf_dir *d);

/*
 * Removes path and everything below it without ever following a symlink
 * or leaving the tree, even against a concurrent attacker who renames
 * entries meanwhile: the walk goes through directory descriptors only.
 * A symlink as path (also spelt with a trailing '/') is removed itself.
 * Where permissions block removal, its own directories are made u+rwx
 * through descriptors (never through a symlink) and the removal retried.
 * Mount points are not crossed: a directory on another mount than its
 * parent, path itself included, is not entered and fails with EBUSY (a
 * bind mount of the same file system is recognised where statx reports
 * mount ids, Linux 5.8+). A missing path, and entries that vanish
 * meanwhile, are success. Past an error it goes on and removes everything
 * it can, then returns -1 with the first errno (EBUSY, EACCES, EPERM,
 * EMFILE, ENOMEM, ...), or 0 with flags TMPF_IGNORE_CLEANUP_ERRORS, what
 * could not be removed being left in place. Also EINVAL for NULL, unknown
 * flags or a last component "/", "." or ".."; ENOENT for "".
 */
TMPF_API int tmpf_rmtree(const char *path, unsigned flags);

/* ---- Scopes (many temporaries, one cleanup) ---------------------------- */

/*
 * The seeds' TempFileManager: every temporary created with opts.scope = s
 * joins s, until tmpf_scope_cleanup. Low-level paths (tmpf_mkstemp,
 * tmpf_mkdtemp) are then the scope's to remove, the descriptor and string
 * stay the caller's; a low-level one with TMPF_KEEP is not registered. An object
 * cleaned, kept or persisted by its owner leaves the scope at once.
 * Creating into one scope from several threads is safe (O(1) each);
 * cleaning it while others still create into it is not. flags:
 * TMPF_IGNORE_CLEANUP_ERRORS. Errors: NULL with EINVAL or ENOMEM.
 */
TMPF_API tmpf_scope *tmpf_scope_new(unsigned flags);

/* Removes everything still registered, newest first (so what was made
 * inside a scoped directory goes before it), carrying on past failures;
 * live tmpf_file and tmpf_dir objects are cleaned up and freed, so their
 * pointers die here. Then frees s. NULL is a no-op. Errors: -1 with the
 * first errno (EACCES, EBUSY, ...), unless TMPF_IGNORE_CLEANUP_ERRORS. */
TMPF_API int tmpf_scope_cleanup(tmpf_scope *s);

/* ---- Crash safety (docs/CRASH-SAFETY.md) ------------------------------- */

/*
 * Removes, from any context, every temporary of this process that its
 * normal cleanup would remove: named files (also closed KEEP_AFTER_CLOSE
 * ones), temporary directories with their trees (never following a
 * symlink, never leaving the tree), side files of an unfinished persist or
 * write_atomic, and scope-registered mkstemp / mkdtemp paths. Kept and
 * persisted ones stay. Async-signal-safe: no allocation, no stdio, no
 * lock; callable from a signal handler. Objects stay valid: their later
 * cleanup finds nothing to remove and succeeds. Before removing a name it
 * checks that the name still leads to the temporary (device and inode when
 * known, else the open descriptor, else type and owner). Returns how many
 * temporaries it removed (a directory with its tree counts once), or -1
 * with errno (EBUSY: called from inside itself) when some could not be
 * removed (the others are removed all the same).
 */
TMPF_API int tmpf_emergency_cleanup(void);

/*
 * Installs handlers for signals[0..n) (NULL, 0: SIGHUP, SIGINT, SIGQUIT,
 * SIGTERM) that run tmpf_emergency_cleanup, then chain to the handler that
 * was there before, or restore the default disposition and re-raise, so
 * the process still dies of that signal. A signal ignored at the time of
 * the call is left ignored. Calling it again re-installs (the chain stays
 * one deep per signal). Not thread-safe against other sigaction calls for
 * the same signals. Errors: -1 with EINVAL (a signal that cannot be
 * caught or that does not end the process by default: SIGKILL, SIGSTOP,
 * SIGCHLD, ...; n > 0 with NULL), nothing installed. Windows (NULL, 0:
 * SIGINT, SIGTERM, SIGBREAK, SIGABRT): SIGINT, SIGBREAK and SIGTERM are
 * console control events (Ctrl-C, Ctrl-Break; closing the console, logoff
 * and shutdown for SIGTERM) caught with SetConsoleCtrlHandler: the cleanup
 * runs, then the next handler (the program's own, else the default, which
 * ends the process) still sees the event. SIGABRT is the C runtime's
 * (abort). ENOSYS if no console handler can be added. TerminateProcess
 * runs no handler: only anonymous files (delete-on-close) go then.
 */
TMPF_API int tmpf_cleanup_on_signals(const int *signals, size_t n);

/*
 * Starts the crash guard (idempotent): a child process that waits for
 * this one to die and then removes what tmpf_emergency_cleanup would,
 * within a second, checking device and inode first (SIGKILL, the OOM
 * killer, abort, a crash). It ignores SIGINT, SIGHUP and SIGQUIT, holds no
 * descriptor of yours, and reads a shared-memory registry only after the
 * death (registration costs memory writes and, while the guard runs, one
 * fstat). A forked child gets a guard of its own at its first creation;
 * an exec'd program has none. The guard is a child process: a wait(-1)
 * loop sees it. TMPF_CRASH_GUARD=1 in the environment starts it at the
 * first creation. Call it before creating threads where you can (it
 * forks). Errors: -1 with errno (EAGAIN, ENOMEM).
 * Windows: no fork, so the guardian is tmpf.exe (which links the library
 * and serves as its helper): the path in TMPF_GUARD_EXE if set, else
 * tmpf.exe in the directory of tmpf.dll (of the program, for a static
 * link); no PATH search. It waits on this process's handle and inherits
 * only that, the registry's shared section and an event it sets once
 * ready (no console, no standard handles, a process group of its own;
 * it leaves your job where the job allows). Returns once it is ready.
 * Errors there: ENOENT (no such helper), ENOEXEC (it is not tmpf.exe, or
 * one of another version: it exited without being ready), ETIMEDOUT (not
 * ready within 10 s: it is ended); nothing is left running on failure.
 */
TMPF_API int tmpf_crash_guard(void);

/*
 * Removes orphans of dead processes from opts.dir (NULL: the temporary
 * directory): entries named opts.prefix + opts.rand_len (0: 8) characters
 * of the name alphabet + opts.suffix, owned by the effective uid, not
 * locked (TMPF_LOCK) by a live holder, and not modified for
 * min_age_seconds. Symlinks are removed, never followed; directories go
 * with tmpf_rmtree's guarantees. An unlocked live temporary is protected
 * by min_age_seconds alone. With TMPF_KEEP in opts.flags nothing is
 * removed (a dry run: the count says what would be). Each entry is also
 * reported to the event hook (TMPF_EVENT_DELETE, or TMPF_EVENT_KEEP in a
 * dry run; not counted in tmpf_get_stats). Returns how many entries of the
 * directory it removed (a directory with its tree counts once), or -1 with
 * errno:
 * EINVAL (opts or opts.prefix NULL: "tmp" would match everyone's files;
 * invalid options), ENOENT, EACCES, ... for the directory; failures on
 * single entries are skipped.
 */
TMPF_API long tmpf_sweep(const tmpf_opts *opts, unsigned min_age_seconds);

/* ---- Audit ------------------------------------------------------------- */

typedef enum tmpf_kind {
    TMPF_KIND_MKSTEMP,   /* tmpf_mkstemp */
    TMPF_KIND_MKDTEMP,   /* tmpf_mkdtemp */
    TMPF_KIND_ANONYMOUS, /* tmpf_temporary_file */
    TMPF_KIND_NAMED,     /* tmpf_named_temporary_file */
    TMPF_KIND_SPOOLED,   /* tmpf_spooled_temporary_file */
    TMPF_KIND_DIRECTORY, /* tmpf_temporary_directory */
    TMPF_KIND_COUNT
} tmpf_kind;

typedef enum tmpf_event_type {
    TMPF_EVENT_CREATE,
    TMPF_EVENT_CLOSE,
    TMPF_EVENT_DELETE,
    TMPF_EVENT_ROLLOVER,
    TMPF_EVENT_PERSIST,
    TMPF_EVENT_KEEP,
    TMPF_EVENT_CLEANUP_FAILED,
    TMPF_EVENT_TEMPDIR_SKIPPED /* tmpf_gettempdir passed over a candidate */
} tmpf_event_type;

typedef struct tmpf_event {
    tmpf_event_type type;
    tmpf_kind kind;
    const char *path;   /* NULL when it has none; valid during the call */
    int fd;             /* -1 when none */
    uint64_t bytes;     /* ROLLOVER: bytes moved to disk */
    int error;          /* CLEANUP_FAILED: the errno */
    const void *object; /* identifies the temporary across its events */
    const char *reason; /* TEMPDIR_SKIPPED: why, in words; else NULL */
} tmpf_event;

/*
 * Calls hook(ev, ctx) for every event from now on, on whichever thread
 * causes it; NULL removes the hook. When this returns, no call of the
 * previous hook is still running (unless it is called from inside a hook),
 * so the old ctx may be freed. Temporaries created inside the hook do not
 * call it again. Event order per temporary: CREATE, then for files CLOSE,
 * then DELETE (or KEEP / PERSIST); ROLLOVER when a spooled file moves to
 * disk; CLEANUP_FAILED with the errno when a removal fails (ESTALE: the
 * name designates something else now, which was left alone).
 * TEMPDIR_SKIPPED, with the candidate as path, kind DIRECTORY and object
 * NULL, for each candidate tmpf_gettempdir passes over: error is EPERM
 * for the vetting rules (see tmpf_gettempdir), else the probe's errno
 * (ENOENT, EACCES, ENAMETOOLONG, ...); reason says it in words.
 */
TMPF_API void tmpf_set_event_hook(void (*hook)(const tmpf_event *ev, void *ctx),
                                  void *ctx);

/* Counters since the process started, read without a lock. "live" counts
 * temporaries created and neither deleted, kept nor persisted; a low-level
 * mkstemp / mkdtemp path counts until a scope removes it, since the library
 * cannot see the caller's own unlink. */
typedef struct tmpf_stats {
    uint64_t live[TMPF_KIND_COUNT]; /* indexed by tmpf_kind */
    uint64_t spooled_in_memory;     /* live spooled files still in memory */
    uint64_t spooled_rolled;        /* live spooled files on disk */
    uint64_t spooled_bytes;         /* bytes spooled files hold in memory */
    uint64_t created;               /* temporaries created */
    uint64_t removed;               /* temporaries deleted by the library */
    uint64_t cleanup_failures;      /* removals that failed */
} tmpf_stats;

/* Fills *out with the counters. Errors: -1 with EINVAL for NULL. */
TMPF_API int tmpf_get_stats(tmpf_stats *out);

/*
 * The C spelling of Python's ResourceWarning. Starts tracking temporaries
 * (those created from now on) and, at normal exit, writes to out (NULL:
 * stderr) one line per temporary never cleaned up, kept or persisted:
 *   tmpf: leaked file from tmpf_named_temporary_file: /tmp/tmpab12cd34
 * A mkstemp / mkdtemp path counts only if it still exists at exit.
 * TMPF_DEBUG=1 in the environment does the same from program start.
 * Returns how many tracked temporaries are leaked right now. Tracking
 * takes a lock per creation: it is a debugging aid, off by default.
 */
TMPF_API int tmpf_leak_report(FILE *out);

/* ---- Scope-exit helpers (GCC and Clang): the C spelling of `with` ------- */
/*
 * Python's `with tempfile.NamedTemporaryFile() as f:` becomes
 *     { TMPF_AUTO_FILE f = tmpf_named_temporary_file(NULL); ... }
 * and the variable is cleaned up (tmpf_file_cleanup, tmpf_dir_cleanup,
 * tmpf_scope_cleanup) however the block is left; NULL is fine. Errors of
 * that cleanup are lost: call the cleanup yourself where they matter.
 */

#if defined(__GNUC__) || defined(__clang__)
static inline void tmpf__auto_file_cleanup(tmpf_file **f) { tmpf_file_cleanup(*f); }
static inline void tmpf__auto_dir_cleanup(tmpf_dir **d) { tmpf_dir_cleanup(*d); }
static inline void tmpf__auto_scope_cleanup(tmpf_scope **s) { tmpf_scope_cleanup(*s); }
/* TMPF_AUTO_FILE f = tmpf_named_temporary_file(NULL);  ... cleaned at '}' */
#define TMPF_AUTO_FILE __attribute__((cleanup(tmpf__auto_file_cleanup))) tmpf_file *
#define TMPF_AUTO_DIR __attribute__((cleanup(tmpf__auto_dir_cleanup))) tmpf_dir *
#define TMPF_AUTO_SCOPE __attribute__((cleanup(tmpf__auto_scope_cleanup))) tmpf_scope *
#endif

#ifdef __cplusplus
}
#endif

#endif /* TMPF_H */
