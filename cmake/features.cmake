# Probes the system for the mechanisms src/unix/ can use and writes them as
# TMPF_HAVE_* (0 or 1) into ${PROJECT_BINARY_DIR}/gen/tmpf_features.h.
#
# Each feature is probed (check_symbol_exists, check_c_source_compiles) and
# can be turned off: -DTMPF_HAVE_<NAME>=OFF. -DTMPF_GENERIC_POSIX=ON turns
# every Linux-only one off at once (the build a porter to another POSIX
# system gets), unless a -DTMPF_HAVE_<NAME>=ON asks for it back. A feature
# that the probe did not find stays off whatever is asked.
include(CheckSymbolExists)
include(CheckCSourceCompiles)
include(CheckIncludeFile)

option(TMPF_GENERIC_POSIX "Build without any Linux-only mechanism" OFF)

# _GNU_SOURCE: glibc and musl hide O_TMPFILE, statx, fopencookie, ... without
# it; the BSDs and macOS ignore it. Probed and used alike; OFF builds with
# whatever the compiler flags ask for (e.g. -D_POSIX_C_SOURCE=200809L).
option(TMPF_GNU_SOURCE "Define _GNU_SOURCE for the library" ON)
if(TMPF_GNU_SOURCE)
  set(CMAKE_REQUIRED_DEFINITIONS -D_GNU_SOURCE)
else()
  set(CMAKE_REQUIRED_DEFINITIONS)
endif()

# A probe that only compiles with an implicit declaration is a miss.
include(CheckCCompilerFlag)
check_c_compiler_flag(-Werror=implicit-function-declaration TMPF_PROBE_WERROR_IMPLICIT)
if(TMPF_PROBE_WERROR_IMPLICIT)
  set(CMAKE_REQUIRED_FLAGS -Werror=implicit-function-declaration)
endif()

check_include_file(sys/random.h TMPF_PROBE_SYS_RANDOM_H)
set(tmpf_random_headers unistd.h stdlib.h)
if(TMPF_PROBE_SYS_RANDOM_H)
  list(APPEND tmpf_random_headers sys/random.h)
endif()

set(TMPF_FEATURES)
# tmpf_feature(NAME LINUX_ONLY PROBE_RESULT_VARIABLE DESCRIPTION)
set(TMPF_FEATURES_OVERRIDDEN OFF)
macro(tmpf_feature name linux_only probe doc)
  if(DEFINED CACHE{TMPF_HAVE_${name}})
    set(tmpf_want ${TMPF_HAVE_${name}})
    set(TMPF_FEATURES_OVERRIDDEN ON)
  elseif(TMPF_GENERIC_POSIX AND ${linux_only})
    set(tmpf_want OFF)
  else()
    set(tmpf_want ON)
  endif()
  if(tmpf_want AND ${probe})
    set(TMPF_HAVE_${name}_VALUE 1)
  else()
    set(TMPF_HAVE_${name}_VALUE 0)
  endif()
  list(APPEND TMPF_FEATURES ${name})
  set(TMPF_FEATURE_DOC_${name} "${doc}")
endmacro()

# ---- Linux (glibc, musl) --------------------------------------------------
check_symbol_exists(O_TMPFILE fcntl.h TMPF_PROBE_O_TMPFILE)
check_symbol_exists(O_PATH fcntl.h TMPF_PROBE_O_PATH)
check_symbol_exists(AT_EMPTY_PATH fcntl.h TMPF_PROBE_AT_EMPTY_PATH)
if(CMAKE_SYSTEM_NAME STREQUAL "Linux")
  set(TMPF_PROBE_PROC_SELF_FD ON) # procfs magic links: a kernel property
else()
  set(TMPF_PROBE_PROC_SELF_FD OFF)
endif()
check_c_source_compiles("
#include <sys/syscall.h>
#include <unistd.h>
int main(void) { return (int)syscall(SYS_renameat2, 0, \"\", 0, \"\", 1u); }"
  TMPF_PROBE_RENAMEAT2)
check_c_source_compiles("
#include <sys/syscall.h>
#include <unistd.h>
#include <fcntl.h>
int main(void) { char b[256]; return (int)syscall(SYS_statx, 0, \"\", AT_EMPTY_PATH, 0x1000u, b); }"
  TMPF_PROBE_STATX)
check_c_source_compiles("
#include <sys/syscall.h>
#include <unistd.h>
int main(void) { char b[64]; return (int)syscall(SYS_getdents64, 0, b, sizeof b); }"
  TMPF_PROBE_GETDENTS64)
check_c_source_compiles("
#include <sys/syscall.h>
#include <unistd.h>
int main(void) { return (int)syscall(SYS_close_range, 3u, ~0u, 0u); }"
  TMPF_PROBE_CLOSE_RANGE)
check_c_source_compiles("
#include <signal.h>
#include <sys/prctl.h>
int main(void) { return prctl(PR_SET_PDEATHSIG, SIGUSR1); }"
  TMPF_PROBE_PDEATHSIG)
check_symbol_exists(getrandom "${tmpf_random_headers}" TMPF_PROBE_GETRANDOM)
check_symbol_exists(MADV_WIPEONFORK sys/mman.h TMPF_PROBE_MADV_WIPEONFORK)
check_symbol_exists(fopencookie stdio.h TMPF_PROBE_FOPENCOOKIE)
check_symbol_exists(secure_getenv stdlib.h TMPF_PROBE_SECURE_GETENV)

tmpf_feature(O_TMPFILE ON TMPF_PROBE_O_TMPFILE "unnamed files: open(dir, O_TMPFILE)")
tmpf_feature(O_PATH ON TMPF_PROBE_O_PATH "O_PATH descriptors (permission repair without reading)")
tmpf_feature(AT_EMPTY_PATH ON TMPF_PROBE_AT_EMPTY_PATH "linkat(fd, \"\", AT_EMPTY_PATH)")
tmpf_feature(PROC_SELF_FD ON TMPF_PROBE_PROC_SELF_FD "/proc/self/fd magic links (link, reopen, chmod of a descriptor)")
tmpf_feature(RENAMEAT2 ON TMPF_PROBE_RENAMEAT2 "renameat2(RENAME_NOREPLACE) system call")
tmpf_feature(STATX ON TMPF_PROBE_STATX "statx system call (mount id)")
tmpf_feature(GETRANDOM ON TMPF_PROBE_GETRANDOM "getrandom(2)")
tmpf_feature(GETDENTS64 ON TMPF_PROBE_GETDENTS64 "getdents64(2): the emergency cleanup's allocation-free walk")
tmpf_feature(CLOSE_RANGE ON TMPF_PROBE_CLOSE_RANGE "close_range(2) (the crash guard closes inherited descriptors)")
tmpf_feature(PDEATHSIG ON TMPF_PROBE_PDEATHSIG "prctl(PR_SET_PDEATHSIG) (the crash guard's second signal)")
tmpf_feature(MADV_WIPEONFORK ON TMPF_PROBE_MADV_WIPEONFORK "madvise(MADV_WIPEONFORK)")
tmpf_feature(FOPENCOOKIE ON TMPF_PROBE_FOPENCOOKIE "fopencookie(3) streams")
tmpf_feature(SECURE_GETENV ON TMPF_PROBE_SECURE_GETENV "secure_getenv(3)")

# ---- POSIX, the BSDs, macOS -------------------------------------------------
check_symbol_exists(getentropy "${tmpf_random_headers}" TMPF_PROBE_GETENTROPY)
check_symbol_exists(arc4random_buf stdlib.h TMPF_PROBE_ARC4RANDOM_BUF)
check_symbol_exists(issetugid unistd.h TMPF_PROBE_ISSETUGID)
check_symbol_exists(funopen stdio.h TMPF_PROBE_FUNOPEN)
check_symbol_exists(F_FULLFSYNC fcntl.h TMPF_PROBE_F_FULLFSYNC)
check_c_source_compiles("
#include <stdio.h>
int main(void) { return renameatx_np(0, \"a\", 0, \"b\", RENAME_EXCL); }"
  TMPF_PROBE_RENAMEATX_NP)
check_symbol_exists(O_EMPTY_PATH fcntl.h TMPF_PROBE_O_EMPTY_PATH)
check_symbol_exists(chflagsat "sys/stat.h;unistd.h;fcntl.h" TMPF_PROBE_CHFLAGSAT)
check_symbol_exists(fchflags "sys/stat.h;unistd.h" TMPF_PROBE_FCHFLAGS)
check_c_source_compiles("
#include <sys/types.h>
#include <sys/mman.h>
int main(void) { static char p[1]; return minherit(p, 1, INHERIT_ZERO); }"
  TMPF_PROBE_MINHERIT_ZERO)
check_c_source_compiles("
#include <sys/param.h>
#include <sys/mount.h>
int main(void) { struct statfs s; return fstatfs(0, &s) + s.f_mntonname[0]; }"
  TMPF_PROBE_STATFS_MNTONNAME)
check_c_source_compiles("
#include <dirent.h>
int main(void) { struct dirent e; e.d_type = DT_DIR; return e.d_type == DT_UNKNOWN; }"
  TMPF_PROBE_DIRENT_D_TYPE)
check_symbol_exists(flock sys/file.h TMPF_PROBE_FLOCK)
check_symbol_exists(pipe2 "unistd.h;fcntl.h" TMPF_PROBE_PIPE2)
check_c_source_compiles("
#include <sys/mman.h>
int main(void) { return MAP_ANONYMOUS + PROT_READ; }"
  TMPF_PROBE_MAP_ANONYMOUS)

tmpf_feature(GETENTROPY OFF TMPF_PROBE_GETENTROPY "getentropy(3)")
tmpf_feature(ARC4RANDOM_BUF OFF TMPF_PROBE_ARC4RANDOM_BUF "arc4random_buf(3)")
tmpf_feature(ISSETUGID OFF TMPF_PROBE_ISSETUGID "issetugid(2)")
tmpf_feature(FUNOPEN OFF TMPF_PROBE_FUNOPEN "funopen(3) streams (BSD, macOS)")
tmpf_feature(F_FULLFSYNC OFF TMPF_PROBE_F_FULLFSYNC "fcntl(F_FULLFSYNC) (macOS)")
tmpf_feature(RENAMEATX_NP OFF TMPF_PROBE_RENAMEATX_NP "renameatx_np(RENAME_EXCL) (macOS)")
tmpf_feature(O_EMPTY_PATH OFF TMPF_PROBE_O_EMPTY_PATH "openat(fd, \"\", O_EMPTY_PATH) reopen (FreeBSD)")
tmpf_feature(CHFLAGSAT OFF TMPF_PROBE_CHFLAGSAT "chflagsat(2) (FreeBSD)")
tmpf_feature(FCHFLAGS OFF TMPF_PROBE_FCHFLAGS "fchflags(2) (macOS, BSD)")
tmpf_feature(MINHERIT_ZERO OFF TMPF_PROBE_MINHERIT_ZERO "minherit(INHERIT_ZERO) (FreeBSD, OpenBSD)")
tmpf_feature(STATFS_MNTONNAME OFF TMPF_PROBE_STATFS_MNTONNAME "fstatfs f_mntonname (BSD, macOS)")
tmpf_feature(DIRENT_D_TYPE OFF TMPF_PROBE_DIRENT_D_TYPE "struct dirent d_type")
tmpf_feature(FLOCK OFF TMPF_PROBE_FLOCK "flock(2)")
tmpf_feature(PIPE2 OFF TMPF_PROBE_PIPE2 "pipe2(O_CLOEXEC) (POSIX 2024; the crash guard's pipe)")
# TMPF_ACROSS_FS's copy (src/unix/copy_os.c).
check_symbol_exists(copy_file_range unistd.h TMPF_PROBE_COPY_FILE_RANGE)
check_symbol_exists(SEEK_DATA unistd.h TMPF_PROBE_SEEK_DATA)
check_symbol_exists(dup3 "unistd.h;fcntl.h" TMPF_PROBE_DUP3)
tmpf_feature(COPY_FILE_RANGE ON TMPF_PROBE_COPY_FILE_RANGE "copy_file_range(2) (Linux, FreeBSD 13)")
tmpf_feature(SEEK_DATA OFF TMPF_PROBE_SEEK_DATA "lseek SEEK_DATA/SEEK_HOLE (holes kept in copies)")
tmpf_feature(DUP3 OFF TMPF_PROBE_DUP3 "dup3(O_CLOEXEC)")
# tmpf_write_atomic_many's batched writeback (src/unix/sync_many.c).
check_symbol_exists(sync_file_range fcntl.h TMPF_PROBE_SYNC_FILE_RANGE)
check_c_source_compiles("
#include <sys/vfs.h>
int main(void) { struct statfs fs; fs.f_type = 0; return fstatfs(0, &fs) + (int)fs.f_type; }"
  TMPF_PROBE_STATFS_F_TYPE)
tmpf_feature(SYNC_FILE_RANGE ON TMPF_PROBE_SYNC_FILE_RANGE "sync_file_range(2) (Linux)")
tmpf_feature(STATFS_F_TYPE ON TMPF_PROBE_STATFS_F_TYPE "fstatfs f_type (Linux: tmpfs needs no concurrent fsync)")
tmpf_feature(SYS_RANDOM_H OFF TMPF_PROBE_SYS_RANDOM_H "<sys/random.h> (getrandom, getentropy on macOS)")
tmpf_feature(MAP_ANONYMOUS OFF TMPF_PROBE_MAP_ANONYMOUS "mmap(MAP_ANONYMOUS)")

# TMPF_KEEP_XATTRS (src/unix/attrs_os.c): extended attributes through a
# descriptor, in one of three dialects, and ACLs where they are not xattrs.
# None is POSIX: the generic build has none (TMPF_KEEP_XATTRS then fails
# with ENOTSUP on an existing target).
check_c_source_compiles("
#include <sys/types.h>
#include <sys/xattr.h>
int main(void) { char b[8]; return (int)fgetxattr(0, \"user.a\", b, sizeof b) +
    (int)flistxattr(0, b, sizeof b) + fsetxattr(0, \"user.a\", b, 1, 0); }"
  TMPF_PROBE_XATTR)
check_c_source_compiles("
#include <sys/types.h>
#include <sys/xattr.h>
int main(void) { char b[8]; return (int)fgetxattr(0, \"a\", b, sizeof b, 0, XATTR_NOFOLLOW) +
    (int)flistxattr(0, b, sizeof b, XATTR_NOFOLLOW) + fsetxattr(0, \"a\", b, 1, 0, 0); }"
  TMPF_PROBE_XATTR_OPTIONS)
check_c_source_compiles("
#include <sys/types.h>
#include <sys/extattr.h>
int main(void) { char b[8]; return (int)extattr_list_fd(0, EXTATTR_NAMESPACE_USER, b, sizeof b) +
    (int)extattr_get_fd(0, EXTATTR_NAMESPACE_USER, \"a\", b, sizeof b) +
    (int)extattr_set_fd(0, EXTATTR_NAMESPACE_USER, \"a\", b, 1); }"
  TMPF_PROBE_EXTATTR)
check_c_source_compiles("
#include <sys/types.h>
#include <sys/acl.h>
int main(void) { acl_t a = acl_get_fd(0); return acl_set_fd(0, a) + acl_free(a); }"
  TMPF_PROBE_ACL_FD)
tmpf_feature(XATTR ON TMPF_PROBE_XATTR "fgetxattr/fsetxattr/flistxattr (Linux): xattrs and the POSIX ACL")
tmpf_feature(XATTR_OPTIONS ON TMPF_PROBE_XATTR_OPTIONS "fgetxattr(..., position, options), XATTR_NOFOLLOW (macOS)")
tmpf_feature(EXTATTR ON TMPF_PROBE_EXTATTR "extattr_get_fd/extattr_set_fd/extattr_list_fd (FreeBSD, NetBSD)")
tmpf_feature(ACL_FD ON TMPF_PROBE_ACL_FD "acl_get_fd/acl_set_fd in the C library (FreeBSD, macOS)")

check_symbol_exists(O_TEXT fcntl.h TMPF_PROBE_O_TEXT)
tmpf_feature(O_TEXT OFF TMPF_PROBE_O_TEXT "O_TEXT open flag (Windows C runtimes: TMPF_TEXT)")

# ---- Windows (mingw-w64; src/win/) ----------------------------------------
# Probed only there (a Linux header says 0). What Wine or an old Windows
# lacks at run time (GetTempPath2W, FileDispositionInfoEx,
# FileRenameInfoEx) is looked up or tried at run time, not here.
if(WIN32)
  set(CMAKE_REQUIRED_LIBRARIES bcrypt)
  check_symbol_exists(BCryptGenRandom "windows.h;bcrypt.h" TMPF_PROBE_BCRYPTGENRANDOM)
  set(CMAKE_REQUIRED_LIBRARIES)
  set(TMPF_WINDOWS_VALUE 1)
else()
  set(TMPF_WINDOWS_VALUE 0)
endif()
tmpf_feature(BCRYPTGENRANDOM OFF TMPF_PROBE_BCRYPTGENRANDOM "BCryptGenRandom (Windows)")

if(TMPF_GENERIC_POSIX)
  set(TMPF_GENERIC_POSIX_VALUE 1)
else()
  set(TMPF_GENERIC_POSIX_VALUE 0)
endif()
# 1 when nothing was asked for: every mechanism is what the probes found.
if(TMPF_GENERIC_POSIX OR TMPF_FEATURES_OVERRIDDEN OR NOT TMPF_GNU_SOURCE)
  set(TMPF_FEATURES_AS_PROBED_VALUE 0)
else()
  set(TMPF_FEATURES_AS_PROBED_VALUE 1)
endif()
set(TMPF_FEATURE_LINES "")
set(tmpf_summary "")
foreach(name ${TMPF_FEATURES})
  string(APPEND TMPF_FEATURE_LINES
    "/* ${TMPF_FEATURE_DOC_${name}} */\n#define TMPF_HAVE_${name} ${TMPF_HAVE_${name}_VALUE}\n")
  if(TMPF_HAVE_${name}_VALUE)
    string(APPEND tmpf_summary " ${name}")
  endif()
endforeach()
message(STATUS "tmpf features:${tmpf_summary}")
configure_file(${PROJECT_SOURCE_DIR}/src/unix/features.h.in
  ${PROJECT_BINARY_DIR}/gen/tmpf_features.h @ONLY)
