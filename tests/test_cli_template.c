/* The tool's template parser (tools/template.c), a pure function: a table
 * of mktemp command lines and the name, X run and suffix each must give. */
#include "harness.h"

#include "../tools/template.c"

struct tcase {
    const char *template, *suffix, *dest_dir, *tmpdir;
    bool use_dest_dir, t_option;
    enum template_error want;
    const char *name; /* the full name; NULL on error */
    size_t base, x_start, rand_len, suffix_slashes;
    const char *bad; /* what the message quotes, on error */
};

/* clang-format off */
static const struct tcase cases[] = {
    /* defaults: --tmpdir implied, $TMPDIR or /tmp */
    {NULL, NULL, NULL, NULL, false, false, TEMPLATE_OK, "/tmp/tmp.XXXXXXXXXX", 5, 9, 10, 0, NULL},
    {NULL, NULL, NULL, "/var/t", false, false, TEMPLATE_OK, "/var/t/tmp.XXXXXXXXXX", 7, 11, 10, 0, NULL},
    {NULL, NULL, NULL, "", false, false, TEMPLATE_OK, "/tmp/tmp.XXXXXXXXXX", 5, 9, 10, 0, NULL},
    {NULL, NULL, "/d", "/e", true, false, TEMPLATE_OK, "/d/tmp.XXXXXXXXXX", 3, 7, 10, 0, NULL},
    /* a template without a directory option stays relative; $TMPDIR ignored */
    {"fooXXX", NULL, NULL, "/e", false, false, TEMPLATE_OK, "fooXXX", 0, 3, 3, 0, NULL},
    {"a/b/fooXXXbar", NULL, NULL, NULL, false, false, TEMPLATE_OK, "a/b/fooXXXbar", 4, 7, 3, 0, NULL},
    {"XXX", NULL, NULL, NULL, false, false, TEMPLATE_OK, "XXX", 0, 0, 3, 0, NULL},
    {"/XXX", NULL, NULL, NULL, false, false, TEMPLATE_OK, "/XXX", 1, 1, 3, 0, NULL},
    /* the X run just before the suffix counts */
    {"fooXXXbarX", NULL, NULL, NULL, false, false, TEMPLATE_TOO_FEW_X, NULL, 0, 0, 0, 0, "fooXXXbarX"},
    {"XX", NULL, NULL, NULL, false, false, TEMPLATE_TOO_FEW_X, NULL, 0, 0, 0, 0, "XX"},
    {"", NULL, NULL, NULL, false, false, TEMPLATE_TOO_FEW_X, NULL, 0, 0, 0, 0, ""},
    {"XXX/foo", NULL, NULL, NULL, false, false, TEMPLATE_SUFFIX_SLASH, NULL, 0, 0, 0, 0, "/foo"},
    /* --suffix */
    {"fooXXX", ".c", NULL, NULL, false, false, TEMPLATE_OK, "fooXXX.c", 0, 3, 3, 0, NULL},
    {"fooXXX.y", ".c", NULL, NULL, false, false, TEMPLATE_SUFFIX_NEEDS_X, NULL, 0, 0, 0, 0, "fooXXX.y"},
    {"", ".c", NULL, NULL, false, false, TEMPLATE_SUFFIX_NEEDS_X, NULL, 0, 0, 0, 0, ""},
    {"XX", ".c", NULL, NULL, false, false, TEMPLATE_TOO_FEW_X, NULL, 0, 0, 0, 0, "XX.c"},
    {"fooXXX", "a/b", NULL, NULL, false, false, TEMPLATE_SUFFIX_SLASH, NULL, 0, 0, 0, 0, "a/b"},
    {"fooXXX", "/", NULL, NULL, false, false, TEMPLATE_SUFFIX_SLASH, NULL, 0, 0, 0, 0, "/"},
    {"fooXXX", "s//", NULL, NULL, false, false, TEMPLATE_OK, "fooXXXs//", 0, 3, 3, 2, NULL},
    /* --tmpdir / -p joins as gnulib's file_name_concat */
    {"fooXXX", NULL, "/d/", NULL, true, false, TEMPLATE_OK, "/d/fooXXX", 3, 6, 3, 0, NULL},
    {"fooXXX", NULL, "/d//", NULL, true, false, TEMPLATE_OK, "/d/fooXXX", 3, 6, 3, 0, NULL},
    {"fooXXX", NULL, "/", NULL, true, false, TEMPLATE_OK, "/fooXXX", 1, 4, 3, 0, NULL},
    {"fooXXX", NULL, ".", NULL, true, false, TEMPLATE_OK, "./fooXXX", 2, 5, 3, 0, NULL},
    {"s/fooXXX", NULL, "d", NULL, true, false, TEMPLATE_OK, "d/s/fooXXX", 4, 7, 3, 0, NULL},
    {"fooXXX", NULL, "", "/e", true, false, TEMPLATE_OK, "/e/fooXXX", 3, 6, 3, 0, NULL},
    {"/fooXXX", NULL, "/d", NULL, true, false, TEMPLATE_ABSOLUTE, NULL, 0, 0, 0, 0, "/fooXXX"},
    /* -t: $TMPDIR, then -p, then /tmp; no '/' at all */
    {"fooXXX", NULL, "/d", "/e", true, true, TEMPLATE_OK, "/e/fooXXX", 3, 6, 3, 0, NULL},
    {"fooXXX", NULL, "/d", NULL, true, true, TEMPLATE_OK, "/d/fooXXX", 3, 6, 3, 0, NULL},
    {"fooXXX", NULL, NULL, "", true, true, TEMPLATE_OK, "/tmp/fooXXX", 5, 8, 3, 0, NULL},
    {"s/fooXXX", NULL, NULL, NULL, true, true, TEMPLATE_T_SLASH, NULL, 0, 0, 0, 0, "s/fooXXX"},
    {"/fooXXX", NULL, NULL, NULL, true, true, TEMPLATE_T_SLASH, NULL, 0, 0, 0, 0, "/fooXXX"},
};
/* clang-format on */

static void test_table(void)
{
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        const struct tcase *c = &cases[i];
        struct template_args a = {c->template, c->suffix,   c->use_dest_dir,
                                  c->t_option, c->dest_dir, c->tmpdir};
        struct template t;
        const char *bad = NULL;
        enum template_error e = template_parse(&a, &t, &bad);
        CHECK_EQ_INT(i * 1000 + e, i * 1000 + c->want);
        if (e == TEMPLATE_OK && c->want == TEMPLATE_OK) {
#ifdef _WIN32
            /* The tool joins with '\\' there (TOOL_OS_SEP); the table is
             * written with '/'. */
            for (char *q = t.name; *q; q++)
                if (*q == '\\')
                    *q = '/';
#endif
            CHECK_EQ_STR(t.name, c->name);
            CHECK_EQ_INT(i * 1000 + t.len, i * 1000 + strlen(c->name));
            CHECK_EQ_INT(i * 1000 + t.base, i * 1000 + c->base);
            CHECK_EQ_INT(i * 1000 + t.x_start, i * 1000 + c->x_start);
            CHECK_EQ_INT(i * 1000 + t.rand_len, i * 1000 + c->rand_len);
            CHECK_EQ_INT(i * 1000 + t.suffix, i * 1000 + c->x_start + c->rand_len);
            CHECK_EQ_INT(i * 1000 + t.suffix_slashes, i * 1000 + c->suffix_slashes);
        } else if (e != TEMPLATE_OK && c->bad) {
            CHECK_EQ_STR(bad, c->bad);
            char msg[256];
            template_message(e, bad, msg, sizeof msg);
            CHECK(strstr(msg, c->bad) != NULL);
        }
        template_free(&t);
    }
}

/* More than 64 X's: the last 64 are replaced, the others stay literal. */
static void test_long_x_run(void)
{
    char tmpl[80];
    memset(tmpl, 'X', 70);
    strcpy(tmpl + 70, ".s");
    struct template_args a = {.template = tmpl};
    struct template t;
    CHECK_EQ_INT(template_parse(&a, &t, NULL), TEMPLATE_OK);
    CHECK_EQ_INT(t.rand_len, TEMPLATE_RAND_MAX);
    CHECK_EQ_INT(t.x_start, 6);
    CHECK_EQ_INT(t.suffix, 70);
    template_free(&t);
}

static const struct test tests[] = {
    TEST(test_table),
    TEST(test_long_x_run),
};
TEST_MAIN(tests)
