/* SPDX-License-Identifier: BSD-3-Clause */
#include <errno.h>
#include "bt_test.h"
#include "mon_api.h"

TEST(lines_in_pieces)
{
    struct mon_lines lb;
    const char *s = "first\nsecond line\n\nthird";
    const char *l;
    size_t n;
    char got[8][32];
    int k = 0, r;

    REQUIRE(mon_lines_init(&lb, 100) == 0);
    /* one byte at a time: a socket may cut anywhere */
    for (size_t i = 0; i < strlen(s); i++) {
        REQUIRE(mon_lines_push(&lb, s + i, 1) == 0);
        while ((r = mon_lines_next(&lb, &l, &n)) == 1 && k < 8)
            snprintf(got[k++], sizeof(got[0]), "%.*s", (int)n, l);
        CHECK_EQ_INT(r, 0);
    }
    CHECK_EQ_INT(k, 3);
    CHECK_EQ_STR(got[0], "first");
    CHECK_EQ_STR(got[1], "second line");
    CHECK_EQ_STR(got[2], "");
    CHECK(mon_lines_reset(&lb));      /* "third" had no newline: partial */
    CHECK(!mon_lines_reset(&lb));
    mon_lines_fini(&lb);
}

TEST(overlong_line_dropped_once)
{
    struct mon_lines lb;
    char big[300];
    const char *l;
    size_t n;

    memset(big, 'x', sizeof(big));
    REQUIRE(mon_lines_init(&lb, 100) == 0);
    REQUIRE(mon_lines_push(&lb, "ok\n", 3) == 0);
    REQUIRE(mon_lines_push(&lb, big, 150) == 0);
    CHECK_EQ_INT(mon_lines_next(&lb, &l, &n), 1);
    CHECK_EQ_INT(n, 2);
    CHECK_EQ_INT(mon_lines_next(&lb, &l, &n), -E2BIG);
    CHECK_EQ_INT(mon_lines_next(&lb, &l, &n), 0);
    REQUIRE(mon_lines_push(&lb, big, 150) == 0);
    CHECK_EQ_INT(mon_lines_next(&lb, &l, &n), 0);   /* still the same line: reported once */
    REQUIRE(mon_lines_push(&lb, "\nafter\n", 7) == 0);
    CHECK_EQ_INT(mon_lines_next(&lb, &l, &n), 1);
    CHECK(n == 5 && memcmp(l, "after", 5) == 0);
    CHECK_EQ_INT(mon_lines_next(&lb, &l, &n), 0);
    /* a line of exactly max bytes is fine; max + 1 is not */
    REQUIRE(mon_lines_push(&lb, big, 100) == 0);
    REQUIRE(mon_lines_push(&lb, "\n", 1) == 0);
    CHECK_EQ_INT(mon_lines_next(&lb, &l, &n), 1);
    CHECK_EQ_INT(n, 100);
    REQUIRE(mon_lines_push(&lb, big, 101) == 0);
    REQUIRE(mon_lines_push(&lb, "\n", 1) == 0);
    CHECK_EQ_INT(mon_lines_next(&lb, &l, &n), -E2BIG);
    CHECK_EQ_INT(mon_lines_next(&lb, &l, &n), 0);
    CHECK(!mon_lines_reset(&lb));
    mon_lines_fini(&lb);
}

TEST(many_lines_buffer_reused)
{
    struct mon_lines lb;
    const char *l;
    size_t n;
    int count = 0;

    REQUIRE(mon_lines_init(&lb, 1000) == 0);
    for (int i = 0; i < 10000; i++) {
        char line[32];
        int len = snprintf(line, sizeof(line), "line %d\n", i);
        REQUIRE(mon_lines_push(&lb, line, (size_t)len) == 0);
        while (mon_lines_next(&lb, &l, &n) == 1) {
            char want[32];
            snprintf(want, sizeof(want), "line %d", count);
            if (n != strlen(want) || memcmp(l, want, n) != 0)
                BT_FAIL_AT("line %d: got '%.*s'", count, (int)n, l);
            count++;
        }
    }
    CHECK_EQ_INT(count, 10000);
    CHECK(lb.cap <= 8192);   /* consumed bytes are reclaimed, not accumulated */
    mon_lines_fini(&lb);
}
