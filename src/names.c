/* Random name characters from the kernel CSPRNG.
 *
 * One getrandom(2) per name would cost more than the file system call it
 * names, so each thread keeps a small buffer of random bytes. A forked
 * child must never reuse bytes its parent also holds: a fork handler bumps
 * a generation counter and a thread whose buffer is from an older
 * generation throws it away. */
#include "internal.h"

#include <errno.h>
#include <pthread.h>
#include <string.h>

#define POOL_SIZE 256

/* 222 = 6 * 37: bytes below it map to the alphabet without modulo bias;
 * the rest are rejected. */
#define UNBIASED_LIMIT (256 / TMPF__ALPHABET_LEN * TMPF__ALPHABET_LEN)

static atomic_uint fork_generation = 1;
static pthread_once_t atfork_once = PTHREAD_ONCE_INIT;

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

static void register_atfork(void) { pthread_atfork(NULL, NULL, on_fork_child); }

static int next_byte(unsigned char *out)
{
    unsigned gen = atomic_load_explicit(&fork_generation, memory_order_relaxed);
    if (pool.generation != gen || pool.used == POOL_SIZE) {
        if (pool.generation == 0)
            pthread_once(&atfork_once, register_atfork);
        if (tmpf__os_random(pool.bytes, POOL_SIZE) != 0)
            return -1;
        /* Only the thread that forks survives in the child, and it is not
         * filling its pool while it forks: gen is still current here. */
        pool.generation = gen;
        pool.used = 0;
    }
    *out = pool.bytes[pool.used];
    pool.bytes[pool.used++] = 0;
    return 0;
}

int tmpf__random_chars(char *out, size_t len)
{
    static const char alphabet[] = TMPF__ALPHABET;
    size_t i = 0;
    while (i < len) {
        unsigned char b;
        if (next_byte(&b) != 0)
            return -1;
        if (b < UNBIASED_LIMIT)
            out[i++] = alphabet[b % TMPF__ALPHABET_LEN];
    }
    return 0;
}
