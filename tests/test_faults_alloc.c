/*
 * Allocation-failure injection (issue 9): every public operation is run with
 * its 1st, 2nd, 3rd, ... allocation failing (the seam in src/alloc.c) until
 * it succeeds. After each injected failure: -1/NULL with ENOMEM, no
 * descriptor leaked, no entry left in the directory, the live counters
 * unchanged, and an object made before still works. Memory leaks on those
 * paths are LSan's and valgrind's to find (CI runs this under both).
 * TMPF_FAULT_VERBOSE=1 prints how many allocations each operation makes.
 */
#include "fault_ops.h"

void tmpf__test_fail_alloc_after(long n);
unsigned long tmpf__test_alloc_failures(void);

static const char *const alloc_known[][2] = {
    {NULL, NULL},
};

static struct injector alloc_inj = {
    .what = "allocation",
    .known = alloc_known,
    .arm = tmpf__test_fail_alloc_after,
    .hits = tmpf__test_alloc_failures,
    .want_errno = ENOMEM,
    /* no allocation in the library is optional: gettempdir once took an
     * allocation failure while probing /tmp for "unusable" and settled on
     * the next candidate for good */
    .no_absorbing = true,
};
static int ops_failed = -1;

static void test_every_operation(void)
{
    tmpf_opts o = {.dir = scratch};
    tmpf_file *witness = tmpf_named_temporary_file(&o);
    CHECK(witness != NULL);
    /* in a directory only we can write, then in one everyone can (where
     * cleanup checks identities) */
    for (int shared = 0; shared < 2; shared++) {
        fault_dir_mode = shared ? 0777 : 0700;
        for (size_t i = 0; i < sizeof ops / sizeof ops[0]; i++)
            run_op(&ops[i], witness, &alloc_inj);
    }
    tmpf_file_cleanup(witness);
    CHECK(alloc_inj.injected > 0);
    ops_failed = test_failures_in_current;
}

static const struct test tests[] = {
    TEST(test_every_operation),
};

int main(int argc, char **argv)
{
#ifdef _WIN32
    report_sink = fopen("NUL", "w");
#else
    report_sink = fopen("/dev/null", "we");
#endif
    int r = run_tests(tests, sizeof tests / sizeof tests[0], argc, argv);
    print_fault_summary("allocation", ops_failed, alloc_inj.injected, alloc_inj.absorbed);
    return r;
}
