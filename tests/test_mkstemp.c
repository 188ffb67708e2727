/* Low-level creation: tmpf_mkstemp, tmpf_mkdtemp, tmpf_mktemp. */
#include "harness.h"
#include <tmpf.h>

static void test_mkstemp_defaults_in_dir(void)
{
    char *path = NULL;
    int fd = tmpf_mkstemp(&(tmpf_opts){.dir = scratch}, &path);
    CHECK(fd >= 0);
    CHECK(path != NULL);
    if (fd < 0 || !path)
        return;
    size_t dl = strlen(scratch);
    CHECK(strncmp(path, scratch, dl) == 0 && path[dl] == '/');
    const char *name = path + dl + 1;
    CHECK(strncmp(name, "tmp", 3) == 0);
    CHECK_EQ_INT(strlen(name), 3 + 8);
    CHECK_EQ_INT(strspn(name + 3, "abcdefghijklmnopqrstuvwxyz0123456789_"), 8);
    struct stat st;
    CHECK(fstat(fd, &st) == 0 && S_ISREG(st.st_mode));
    CHECK(fcntl(fd, F_GETFD) & FD_CLOEXEC);
    close(fd);
    unlink(path);
    free(path);
}

static void test_mkdtemp_prefix_suffix(void)
{
    char *d = tmpf_mkdtemp(&(tmpf_opts){.dir = scratch, .prefix = "pre-", .suffix = ".d"});
    CHECK(d != NULL);
    if (!d)
        return;
    const char *name = strrchr(d, '/') + 1;
    CHECK(strncmp(name, "pre-", 4) == 0);
    CHECK_EQ_STR(name + strlen(name) - 2, ".d");
    struct stat st;
    CHECK(stat(d, &st) == 0 && S_ISDIR(st.st_mode));
    rmdir(d);
    free(d);
}

static void test_bad_options_are_einval(void)
{
    char *path = NULL;
    CHECK_ERRNO(tmpf_mkstemp(&(tmpf_opts){.dir = scratch, .prefix = "../x"}, &path), -1, EINVAL);
    CHECK_ERRNO(tmpf_mkstemp(&(tmpf_opts){.dir = scratch, .suffix = "a/b"}, &path), -1, EINVAL);
    CHECK_ERRNO(tmpf_mkstemp(&(tmpf_opts){.dir = scratch, .rand_len = 65}, &path), -1, EINVAL);
    CHECK_ERRNO(tmpf_mkstemp(&(tmpf_opts){.dir = scratch, .flags = 1u << 30}, &path), -1, EINVAL);
    CHECK_NULL_ERRNO(tmpf_mkdtemp(&(tmpf_opts){.dir = scratch, .prefix = "/"}), EINVAL);
    CHECK(path == NULL);
    CHECK_EQ_INT(count_entries(scratch), 0);
}

static const struct test tests[] = {
    TEST(test_mkstemp_defaults_in_dir),
    TEST(test_mkdtemp_prefix_suffix),
    TEST(test_bad_options_are_einval),
};
TEST_MAIN(tests)
