/* Simulates a kernel or file system without O_TMPFILE, or a kernel without
 * renameat2, with a seccomp filter. Only in a forked child
 * (a filter cannot be removed, and the library remembers O_TMPFILE
 * failures for the rest of the process). Shared by the persist tests. */
#ifndef TMPF_TEST_NO_O_TMPFILE_H
#define TMPF_TEST_NO_O_TMPFILE_H

#include <errno.h>
#include <fcntl.h>
#include <linux/filter.h>
#include <linux/seccomp.h>
#include <stdbool.h>
#include <stddef.h>
#include <sys/prctl.h>
#include <sys/syscall.h>

/* refuse_o_tmpfile(): open(O_TMPFILE) fails with EOPNOTSUPP.
 * refuse_renameat2(): renameat2 fails with ENOSYS (an old kernel), so the
 * link + unlink fallback of TMPF_NOCLOBBER is taken. */
static inline bool install_filter(bool tmpfile, bool renameat2)
{
    unsigned low = offsetof(struct seccomp_data, args[2]) +
                   (__BYTE_ORDER__ == __ORDER_BIG_ENDIAN__ ? 4 : 0);
    struct sock_filter code[] = {
        BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(struct seccomp_data, nr)),
        BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, __NR_renameat2, 0, 1),
        BPF_STMT(BPF_RET | BPF_K,
                 renameat2 ? SECCOMP_RET_ERRNO | ENOSYS : SECCOMP_RET_ALLOW),
        BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, __NR_openat, 0, 3),
        BPF_STMT(BPF_LD | BPF_W | BPF_ABS, low),
        BPF_JUMP(BPF_JMP | BPF_JSET | BPF_K, O_TMPFILE & ~O_DIRECTORY, 0, 1),
        BPF_STMT(BPF_RET | BPF_K,
                 tmpfile ? SECCOMP_RET_ERRNO | EOPNOTSUPP : SECCOMP_RET_ALLOW),
        BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW),
    };
    struct sock_fprog prog = {sizeof code / sizeof code[0], code};
    return prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) == 0 &&
           prctl(PR_SET_SECCOMP, SECCOMP_MODE_FILTER, &prog) == 0;
}

static inline bool refuse_o_tmpfile(void) { return install_filter(true, false); }
static inline bool refuse_renameat2(void) { return install_filter(false, true); }

#endif
