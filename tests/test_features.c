/* The probed features (tmpf_features.h): a default Linux build has every
 * Linux mechanism, so that the tests which adapt to what was built in
 * (expecting ENOENT or EOPNOTSUPP where a mechanism is absent) never test
 * a weaker library on Linux because a probe broke; and the generic POSIX
 * build has none of them. */
#include "harness.h"
#include "tmpf_features.h"
#include <tmpf.h>

#define LINUX_ONLY(X)                                                          \
    X(O_TMPFILE) X(O_PATH) X(AT_EMPTY_PATH) X(PROC_SELF_FD) X(RENAMEAT2)     \
    X(STATX) X(GETRANDOM) X(MADV_WIPEONFORK) X(FOPENCOOKIE) X(SECURE_GETENV)   \
    X(GETDENTS64) X(CLOSE_RANGE) X(PDEATHSIG) X(XATTR)

/* Which assertion holds depends on how the build chose (no skip: each
 * build checks what it promises). */
static void test_features_match_the_build(void)
{
    /* Windows: src/win/ reopens any open file with ReOpenFile. */
    if (TMPF_WINDOWS)
        CHECK(TMPF_CAN_REOPEN_FD);
    if (TMPF_GENERIC_POSIX) {
#define NONE(name)                                                             \
    if (TMPF_HAVE_##name)                                                      \
        FAIL_AT("TMPF_HAVE_" #name " is 1 in the generic POSIX build");
        LINUX_ONLY(NONE)
#undef NONE
        return;
    }
#if defined(__linux__)
    if (TMPF_FEATURES_AS_PROBED) {
#define HAVE(name)                                                             \
    if (!TMPF_HAVE_##name)                                                     \
        FAIL_AT("TMPF_HAVE_" #name " is 0 in a default Linux build");
        LINUX_ONLY(HAVE)
#undef HAVE
        CHECK(TMPF_CAN_LINK_ANONYMOUS && TMPF_CAN_REOPEN_FD &&
              TMPF_CAN_COOKIE_STREAM && TMPF_CAN_WIPE_ON_FORK);
        return;
    }
#endif
    /* Features turned off by hand (-DTMPF_HAVE_*=OFF, TMPF_GNU_SOURCE=OFF)
     * or another system: the derived capabilities agree with the parts. */
    CHECK(TMPF_CAN_LINK_ANONYMOUS == (TMPF_HAVE_O_TMPFILE && TMPF_CAN_LINK_FD));
}

/* Every build: some source of random bytes without a descriptor (on
 * Windows BCryptGenRandom, src/win/os.c, always). */
static void test_random_without_descriptor_built_in(void)
{
    CHECK(HARNESS_WINDOWS || TMPF_HAVE_GETRANDOM || TMPF_HAVE_GETENTROPY ||
          TMPF_HAVE_ARC4RANDOM_BUF);
}

static const struct test tests[] = {
    TEST(test_features_match_the_build),
    TEST(test_random_without_descriptor_built_in),
};

TEST_MAIN(tests)
