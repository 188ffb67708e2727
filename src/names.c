/* Random name characters from the kernel CSPRNG.
 *
 * One getrandom(2) per name would cost more than the file system call it
 * names, so each thread keeps a small buffer of random bytes. A forked
 * child must never reuse bytes its parent also holds: a fork handler bumps
 * a generation counter and a thread whose buffer is from an older
 * generation throws it away. A child made without fork handlers (_Fork,
 * a raw clone(2)) is caught by a word the kernel zeroes in every child
 * (MADV_WIPEONFORK, Linux 4.14+); elsewhere only fork(3) is covered. */
#include "internal.h"

#include <errno.h>
#include <string.h>

/* About 55 names of 8 characters per getrandom(2) call. */
#define POOL_SIZE 512

/* 222 = 6 * 37: bytes below it map to the alphabet without modulo bias;
 * the rest are rejected. */
#define UNBIASED_LIMIT (256 / TMPF__ALPHABET_LEN * TMPF__ALPHABET_LEN)

static const char alphabet[] = TMPF__ALPHABET;

/* byte_to_char[b] is alphabet[b % 37] for b < UNBIASED_LIMIT, else 0
 * (rejected): the alphabet six times, then zeros. */
static const char byte_to_char[256] =
    TMPF__ALPHABET TMPF__ALPHABET TMPF__ALPHABET
    TMPF__ALPHABET TMPF__ALPHABET TMPF__ALPHABET;
_Static_assert(6 * TMPF__ALPHABET_LEN == UNBIASED_LIMIT, "table covers 0..221");

static atomic_uint fork_generation = 1;
/* Nonzero in this process, zero in a child; NULL when unsupported or not
 * yet set. Set under TMPF__ONCE_NAMES_ATFORK, but read before a thread's first pass
 * through it (current_generation runs before refill), so published with
 * release/acquire: a reader that sees the pointer sees the armed word. */
static _Atomic(atomic_uint *) fork_canary;
static _Atomic(tmpf__random_fn) test_random;

struct pool {
    unsigned generation; /* 0: never filled */
    unsigned used;
    unsigned char bytes[POOL_SIZE];
};

static _Thread_local struct pool pool;

static void on_fork_child(void)
{
    atomic_fetch_add_explicit(&fork_generation, 1, memory_order_relaxed);
}

static void register_atfork(void)
{
    tmpf__os_atfork(NULL, NULL, on_fork_child);
    atomic_store_explicit(&fork_canary, tmpf__os_fork_canary(), memory_order_release);
}

/* The generation to use now. A zeroed canary means this is a child whose
 * fork ran no handler: bump the generation first, then re-arm, so a thread
 * that sees the canary armed also sees the new generation. */
static unsigned current_generation(void)
{
    atomic_uint *c = atomic_load_explicit(&fork_canary, memory_order_acquire);
    if (c && TMPF__UNLIKELY(atomic_load_explicit(c, memory_order_acquire) == 0)) {
        atomic_fetch_add_explicit(&fork_generation, 1, memory_order_relaxed);
        atomic_store_explicit(c, 1, memory_order_release);
    }
    return atomic_load_explicit(&fork_generation, memory_order_relaxed);
}

static int refill(struct pool *p, unsigned gen)
{
    if (p->generation == 0)
        tmpf__os_once(TMPF__ONCE_NAMES_ATFORK, register_atfork);
    if (tmpf__os_random(p->bytes, POOL_SIZE) != 0)
        return -1;
    /* Only the thread that forks survives in the child, and it is not
     * filling its pool while it forks: gen is still current here. */
    p->generation = gen;
    p->used = 0;
    return 0;
}

/* The test seam's path: every name asks fn for its bytes, so a test can
 * dictate names and count attempts. */
static int chars_from(tmpf__random_fn fn, char *out, size_t len)
{
    unsigned char buf[TMPF_RAND_LEN_MAX];
    size_t i = 0;
    while (i < len) {
        size_t want = len - i < sizeof buf ? len - i : sizeof buf;
        if (fn(buf, want) != 0)
            return -1;
        for (size_t k = 0; k < want; k++)
            if (buf[k] < UNBIASED_LIMIT)
                out[i++] = alphabet[buf[k] % TMPF__ALPHABET_LEN];
    }
    return 0;
}

int tmpf__random_chars(char *out, size_t len)
{
    tmpf__random_fn fn = atomic_load_explicit(&test_random, memory_order_relaxed);
    if (TMPF__UNLIKELY(fn != NULL))
        return chars_from(fn, out, len);

    struct pool *p = &pool;
    /* Keeps p in a register: in PIC code each &pool is otherwise a
     * __tls_get_addr call the compiler may repeat. */
    TMPF__IN_REGISTER(p);
    unsigned gen = current_generation();
    if (p->generation != gen && refill(p, gen) != 0)
        return -1;
    /* Locals, because stores through out may alias the pool. Used bytes
     * are not wiped: the names they made are public anyway, and no byte
     * is used twice. */
    unsigned used = p->used;
    size_t i = 0;
    while (i < len) {
        if (used == POOL_SIZE) {
            if (refill(p, gen) != 0)
                return -1;
            used = 0;
        }
        char c = byte_to_char[p->bytes[used++]];
        if (c)
            out[i++] = c;
    }
    p->used = used;
    return 0;
}

void tmpf__test_set_random(tmpf__random_fn fn)
{
    atomic_store_explicit(&test_random, fn, memory_order_relaxed);
}
