/* Simulates a kernel or file system without O_TMPFILE, or a kernel without
 * renameat2, with a seccomp filter. Only in a forked child
 * (a filter cannot be removed, and the library remembers O_TMPFILE
 * failures for the rest of the process). Shared by the persist tests. */
#ifndef TMPF_TEST_NO_O_TMPFILE_H
#define TMPF_TEST_NO_O_TMPFILE_H

#include <errno.h>
#include <fcntl.h>
#include <stdbool.h>
#include <stddef.h>

/* The kernel's headers are not on every C library's include path (musl-gcc
 * sees only its own); without them the tests that need a filter skip. */
#if defined(__has_include)
#if __has_include(<linux/filter.h>) && __has_include(<linux/seccomp.h>)
#define TMPF_TEST_HAVE_SECCOMP 1
#endif
#endif

#ifdef TMPF_TEST_HAVE_SECCOMP
#include <linux/filter.h>
#include <linux/seccomp.h>
#include <sys/prctl.h>
#include <sys/syscall.h>

/* refuse_o_tmpfile(): open(O_TMPFILE) fails with EOPNOTSUPP.
 * refuse_renameat2(): renameat2 fails with ENOSYS (an old kernel), so the
 * link + unlink fallback of TMPF_NOCLOBBER is taken. */
static inline bool install_filter(bool tmpfile, bool renameat2)
{
    /* The low word of the flags: args[2] of openat, args[1] of open (musl
     * calls open(2) where glibc calls openat(2)). */
    unsigned hi = __BYTE_ORDER__ == __ORDER_BIG_ENDIAN__ ? 4 : 0;
    unsigned at_flags = offsetof(struct seccomp_data, args[2]) + hi;
    unsigned open_flags = offsetof(struct seccomp_data, args[1]) + hi;
    unsigned refuse = tmpfile ? SECCOMP_RET_ERRNO | EOPNOTSUPP : SECCOMP_RET_ALLOW;
#ifdef __NR_open
    unsigned nr_open = __NR_open;
#else
    unsigned nr_open = (unsigned)-1; /* no such call here (arm64, riscv) */
#endif
    struct sock_filter code[] = {
        BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(struct seccomp_data, nr)),
        BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, __NR_renameat2, 0, 1),
        BPF_STMT(BPF_RET | BPF_K,
                 renameat2 ? SECCOMP_RET_ERRNO | ENOSYS : SECCOMP_RET_ALLOW),
        BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, __NR_openat, 0, 3),
        BPF_STMT(BPF_LD | BPF_W | BPF_ABS, at_flags),
        BPF_JUMP(BPF_JMP | BPF_JSET | BPF_K, O_TMPFILE & ~O_DIRECTORY, 0, 4),
        BPF_STMT(BPF_RET | BPF_K, refuse),
        BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, nr_open, 0, 2),
        BPF_STMT(BPF_LD | BPF_W | BPF_ABS, open_flags),
        BPF_JUMP(BPF_JMP | BPF_JSET | BPF_K, O_TMPFILE & ~O_DIRECTORY, 1, 0),
        BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW),
        BPF_STMT(BPF_RET | BPF_K, refuse),
    };
    struct sock_fprog prog = {sizeof code / sizeof code[0], code};
    return prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) == 0 &&
           prctl(PR_SET_SECCOMP, SECCOMP_MODE_FILTER, &prog) == 0;
}

#else
static inline bool install_filter(bool tmpfile, bool renameat2)
{
    (void)tmpfile;
    (void)renameat2;
    return false;
}
#endif

static inline bool refuse_o_tmpfile(void) { return install_filter(true, false); }
static inline bool refuse_renameat2(void) { return install_filter(false, true); }

#endif
