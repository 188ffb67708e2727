/* Allocation wrappers: one seam for the fault-injection tests (issue 9) and
 * one place for wiping memory that held temporary data. */
#include "internal.h"

#include <errno.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>

/* Fault injection (tests only, always compiled): while armed, the countdown
 * makes one allocation fail with ENOMEM. Disarmed (-1) the hot path costs
 * one relaxed load of a shared, never-written line: no measurable change in
 * bench_create, and the seam exists in every build CI tests (ASan, valgrind,
 * musl) without a special configuration. */
static _Atomic long fail_countdown = -1;
static _Atomic unsigned long fail_injected;

void tmpf__test_fail_alloc_after(long n);
unsigned long tmpf__test_alloc_failures(void);

/* n = 1: the next allocation fails; n = 2: the one after; -1 disarms;
 * TMPF__FAIL_ALL (-2): every allocation fails until disarmed. */
#define TMPF__FAIL_ALL (-2)
void tmpf__test_fail_alloc_after(long n)
{
    atomic_store(&fail_countdown, n);
}

unsigned long tmpf__test_alloc_failures(void)
{
    return atomic_load(&fail_injected);
}

static bool injected_failure(void)
{
    long armed = atomic_load_explicit(&fail_countdown, memory_order_relaxed);
    if (armed < 0) {
        if (TMPF__LIKELY(armed != TMPF__FAIL_ALL))
            return false;
        atomic_fetch_add(&fail_injected, 1);
        errno = ENOMEM;
        return true;
    }
    long left = atomic_fetch_sub(&fail_countdown, 1);
    if (left == 1) {
        atomic_fetch_add(&fail_injected, 1);
        atomic_store(&fail_countdown, -1);
        errno = ENOMEM;
        return true;
    }
    if (left <= 0) /* a racing disarm: undo */
        atomic_store(&fail_countdown, -1);
    return false;
}

void *tmpf__malloc(size_t n)
{
    return injected_failure() ? NULL : malloc(n ? n : 1);
}

void *tmpf__calloc(size_t count, size_t size)
{
    if (injected_failure())
        return NULL;
    return calloc(count ? count : 1, size ? size : 1);
}

void *tmpf__realloc(void *p, size_t n)
{
    return injected_failure() ? NULL : realloc(p, n ? n : 1);
}

char *tmpf__strdup(const char *s)
{
    size_t n = strlen(s) + 1;
    char *copy = tmpf__malloc(n);
    if (copy)
        memcpy(copy, s, n);
    return copy;
}

void tmpf__wipe(void *p, size_t n)
{
#if defined(__GNUC__) || defined(__clang__)
    /* memset at full speed (a spooled buffer can be megabytes); the empty
     * asm that may read p keeps the compiler from treating the stores as
     * dead because the memory is freed right after. */
    memset(p, 0, n);
    __asm__ __volatile__("" : : "r"(p) : "memory");
#else
    volatile unsigned char *v = p;
    while (n--)
        *v++ = 0;
#endif
}

void tmpf__free_wiped(void *p, size_t n)
{
    if (!p)
        return;
    tmpf__wipe(p, n);
    free(p);
}

/* Spare blocks: whole spooled-file chunks given back, wiped, kept for the
 * next file. glibc hands the top of its heap back to the system whenever
 * more than M_TRIM_THRESHOLD (128 KiB, until the process frees a large
 * mapped block) lies free there, which is where a released spool's chunks
 * end up: the next file then faults its memory in page by page, several
 * times slower than the copying itself. SPARE_BLOCKS bounds what is kept
 * (1 MiB per process). Slots are taken and filled with atomic exchanges,
 * so threads share them without a lock. While fault injection is armed
 * the spares are passed over, so that every block is a seam call. */
#define SPARE_BLOCKS 16
static _Atomic(void *) spare[SPARE_BLOCKS];

bool tmpf__block_spare_ready(void)
{
    if (atomic_load_explicit(&fail_countdown, memory_order_relaxed) >= 0)
        return false;
    for (size_t i = 0; i < SPARE_BLOCKS; i++)
        if (atomic_load_explicit(&spare[i], memory_order_relaxed))
            return true;
    return false;
}

void *tmpf__block_alloc(size_t n)
{
    if (n == TMPF__BLOCK_SIZE &&
        atomic_load_explicit(&fail_countdown, memory_order_relaxed) < 0)
        for (size_t i = 0; i < SPARE_BLOCKS; i++)
            if (atomic_load_explicit(&spare[i], memory_order_relaxed)) {
                void *p = atomic_exchange_explicit(&spare[i], NULL,
                                                   memory_order_acquire);
                if (p)
                    return p;
            }
    return tmpf__malloc(n);
}

void tmpf__block_free(void *p, size_t n, size_t used)
{
    if (!p)
        return;
    tmpf__wipe(p, used);
    if (n == TMPF__BLOCK_SIZE)
        for (size_t i = 0; i < SPARE_BLOCKS; i++) {
            void *empty = NULL;
            if (!atomic_load_explicit(&spare[i], memory_order_relaxed) &&
                atomic_compare_exchange_strong_explicit(&spare[i], &empty, p,
                                                        memory_order_release,
                                                        memory_order_relaxed))
                return;
        }
    free(p);
}
