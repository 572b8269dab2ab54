/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * A tiny unit-test harness (systemd test-*.c style): TEST(name) { ... }
 * registers a test; CHECK*() record a failure and continue; REQUIRE*() stop
 * the test. Each test file is one executable and one meson test; main()
 * runs every registered test (or those named on the command line) and exits
 * 1 if any failed, 77 (meson's "skip") if all were skipped.
 */
#ifndef BT_TEST_H
#define BT_TEST_H

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct bt_test {
    const char *name;
    void (*fn)(void);
    int line;   /* where TEST() stands: tests run in the file's order */
};

#define BT_TEST_MAX 256
static struct bt_test bt_tests[BT_TEST_MAX];
static unsigned bt_ntests;
static int bt_test_failed;   /* current test failed */
static int bt_test_skipped;  /* current test skipped */

#define TEST(name)                                                          \
    static void test_##name(void);                                          \
    __attribute__((constructor)) static void register_##name(void)          \
    {                                                                       \
        if (bt_ntests < BT_TEST_MAX)                                        \
            bt_tests[bt_ntests++] = (struct bt_test){ #name, test_##name, __LINE__ }; \
    }                                                                       \
    static void test_##name(void)

#define BT_FAIL_AT(...)                                                     \
    do {                                                                    \
        fprintf(stderr, "%s:%d: ", __FILE__, __LINE__);                     \
        fprintf(stderr, __VA_ARGS__);                                       \
        fputc('\n', stderr);                                                \
        bt_test_failed = 1;                                                 \
    } while (0)

#define CHECK(cond)                                                         \
    do { if (!(cond)) BT_FAIL_AT("CHECK(%s) failed", #cond); } while (0)
#define REQUIRE(cond)                                                       \
    do { if (!(cond)) { BT_FAIL_AT("REQUIRE(%s) failed", #cond); return; } } while (0)
#define CHECK_EQ_INT(a, b)                                                  \
    do {                                                                    \
        long long a_ = (long long)(a), b_ = (long long)(b);                 \
        if (a_ != b_)                                                       \
            BT_FAIL_AT("%s == %s failed: %lld != %lld", #a, #b, a_, b_);    \
    } while (0)
#define CHECK_EQ_STR(a, b)                                                  \
    do {                                                                    \
        const char *a_ = (a), *b_ = (b);                                    \
        if (!a_ || !b_ || strcmp(a_, b_) != 0)                              \
            BT_FAIL_AT("%s == %s failed: \"%s\" != \"%s\"", #a, #b,         \
                       a_ ? a_ : "(null)", b_ ? b_ : "(null)");             \
    } while (0)
#define CHECK_NEAR(a, b, tol)                                               \
    do {                                                                    \
        double a_ = (a), b_ = (b);                                          \
        if (!(a_ - b_ <= (tol) && b_ - a_ <= (tol)))                        \
            BT_FAIL_AT("%s ~ %s failed: %g vs %g (tol %g)", #a, #b, a_, b_, \
                       (double)(tol));                                      \
    } while (0)
/* Marks the current test skipped (with a reason) and returns from it. */
#define SKIP(...)                                                           \
    do {                                                                    \
        fprintf(stderr, "skip: ");                                          \
        fprintf(stderr, __VA_ARGS__);                                       \
        fputc('\n', stderr);                                                \
        bt_test_skipped = 1;                                                \
        return;                                                             \
    } while (0)

/* Path of a file under tests/ (meson passes BT_TESTS_DIR), or of the shared
 * corpus (BT_CORPUS_DIR). */
#ifndef BT_TESTS_DIR
#define BT_TESTS_DIR "tests"
#endif
#ifndef BT_CORPUS_DIR
#define BT_CORPUS_DIR "../shared/corpus/tcpdump-tests"
#endif

/* mkdtemp whose directory main() removes (with all in it) when the tests
 * are done, whatever they left there: tests clean up after themselves. */
#define BT_TMPDIRS_MAX 64
static char bt_tmpdirs[BT_TMPDIRS_MAX][256];
static unsigned bt_ntmpdirs;
static inline char *bt_mkdtemp(char *tmpl)
{
    char *d = mkdtemp(tmpl);
    if (d && bt_ntmpdirs < BT_TMPDIRS_MAX && strlen(d) < sizeof(bt_tmpdirs[0]))
        strcpy(bt_tmpdirs[bt_ntmpdirs++], d);
    return d;
}
static void bt_rm_tmpdirs(void)
{
    for (unsigned i = 0; i < bt_ntmpdirs; i++) {
        char cmd[300];
        /* only what bt_mkdtemp made under /tmp, quoted */
        if (strncmp(bt_tmpdirs[i], "/tmp/", 5) != 0 || strchr(bt_tmpdirs[i], '\''))
            continue;
        snprintf(cmd, sizeof(cmd), "rm -rf '%s'", bt_tmpdirs[i]);
        if (system(cmd) != 0)
            fprintf(stderr, "could not remove %s\n", bt_tmpdirs[i]);
    }
}

/* Constructors run in an order no standard fixes (gcc's LTO reverses it),
 * and some files' tests share what an earlier one set up: the file's order. */
static int bt_test_cmp(const void *a, const void *b)
{
    return ((const struct bt_test *)a)->line - ((const struct bt_test *)b)->line;
}

int main(int argc, char **argv)
{
    unsigned failed = 0, skipped = 0, ran = 0;
    atexit(bt_rm_tmpdirs);
    qsort(bt_tests, bt_ntests, sizeof(bt_tests[0]), bt_test_cmp);
    for (unsigned i = 0; i < bt_ntests; i++) {
        if (argc > 1) {
            int want = 0;
            for (int a = 1; a < argc; a++)
                if (strcmp(argv[a], bt_tests[i].name) == 0)
                    want = 1;
            if (!want)
                continue;
        }
        bt_test_failed = bt_test_skipped = 0;
        bt_tests[i].fn();
        ran++;
        if (bt_test_failed) {
            failed++;
            fprintf(stderr, "FAIL %s\n", bt_tests[i].name);
        } else if (bt_test_skipped) {
            skipped++;
            fprintf(stderr, "SKIP %s\n", bt_tests[i].name);
        } else {
            fprintf(stderr, "ok   %s\n", bt_tests[i].name);
        }
    }
    fprintf(stderr, "%u tests, %u failed, %u skipped\n", ran, failed, skipped);
    if (failed)
        return 1;
    if (ran > 0 && skipped == ran)
        return 77;
    return ran > 0 ? 0 : 1;
}

#endif
