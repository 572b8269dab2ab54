/* SPDX-License-Identifier: BSD-3-Clause */
#include "bt_test.h"
#include "mon_api.h"

TEST(num_width_4)
{
    char b[16];
    CHECK_EQ_STR(mon_fmt_num(MON_ABSENT, 4, b), "-");
    CHECK_EQ_STR(mon_fmt_num(MON_VAL(0), 4, b), "0");
    CHECK_EQ_STR(mon_fmt_num(MON_VAL(999), 4, b), "999");
    CHECK_EQ_STR(mon_fmt_num(MON_VAL(1000), 4, b), "1.0K");
    CHECK_EQ_STR(mon_fmt_num(MON_VAL(1500), 4, b), "1.5K");
    CHECK_EQ_STR(mon_fmt_num(MON_VAL(41936), 4, b), "42K");
    CHECK_EQ_STR(mon_fmt_num(MON_VAL(999400), 4, b), "999K");
    CHECK_EQ_STR(mon_fmt_num(MON_VAL(999600), 4, b), "1.0M");
    CHECK_EQ_STR(mon_fmt_num(MON_VAL(185020352), 4, b), "185M");
    CHECK_EQ_STR(mon_fmt_num(MON_VAL(2.5e9), 4, b), "2.5G");
    CHECK_EQ_STR(mon_fmt_num(MON_VAL(55.3), 4, b), "55.3");
    CHECK_EQ_STR(mon_fmt_num(MON_VAL(0.25), 4, b), "0.25");
    CHECK_EQ_STR(mon_fmt_num(MON_VAL(5e15), 4, b), "++++");
}

TEST(num_width_3_and_5)
{
    char b[16];
    CHECK_EQ_STR(mon_fmt_num(MON_VAL(33.333), 3, b), "33");
    CHECK_EQ_STR(mon_fmt_num(MON_VAL(1.923), 3, b), "1.9");
    CHECK_EQ_STR(mon_fmt_num(MON_VAL(100), 3, b), "100");
    CHECK_EQ_STR(mon_fmt_num(MON_VAL(512), 3, b), "512");
    CHECK_EQ_STR(mon_fmt_num(MON_VAL(41936), 5, b), "41.9K");
    CHECK_EQ_STR(mon_fmt_num(MON_VAL(1.5e12), 3, b), "2T");
    CHECK_EQ_STR(mon_fmt_num(MON_VAL(5e17), 3, b), "+++");
}

TEST(si)
{
    char b[16];
    CHECK_EQ_STR(mon_fmt_si(MON_VAL(999), b, 16), "999");
    CHECK_EQ_STR(mon_fmt_si(MON_VAL(1500), b, 16), "1.50K");
    CHECK_EQ_STR(mon_fmt_si(MON_VAL(41936), b, 16), "41.9K");
    CHECK_EQ_STR(mon_fmt_si(MON_VAL(185020352), b, 16), "185M");
    CHECK_EQ_STR(mon_fmt_si(MON_VAL(2.5e9), b, 16), "2.50G");
    CHECK_EQ_STR(mon_fmt_si(MON_VAL(0.25), b, 16), "0.2");
    CHECK_EQ_STR(mon_fmt_si(MON_ABSENT, b, 16), "-");
    /* past T the digits would not fit: an exponent, not a number cut short */
    CHECK_EQ_STR(mon_fmt_si(MON_VAL(1e27), b, 16), "1e+27");
    CHECK_EQ_STR(mon_fmt_si(MON_VAL(5e18), b, 16), "5000000T");   /* fits: right as it is */
    CHECK_EQ_STR(mon_fmt_si(MON_VAL(1e27), b, 4), "+++");
}

TEST(time)
{
    char b[32];
    CHECK_EQ_STR(mon_fmt_time(MON_VAL(12.5), b, sizeof(b)), "12.500s");
    CHECK_EQ_STR(mon_fmt_time(MON_VAL(1700000000.25), b, sizeof(b)), "22:13:20.250");
    CHECK_EQ_STR(mon_fmt_time(MON_ABSENT, b, sizeof(b)), "-");
}

TEST(buf_grows)
{
    struct mon_buf b = {0};
    for (int i = 0; i < 2000; i++)
        mon_buf_printf(&b, "%04d,", i);
    CHECK_EQ_INT(b.len, 10000);
    CHECK(!b.oom);
    CHECK(memcmp(b.p + 9995, "1999,", 5) == 0);
    CHECK_EQ_INT(strlen(b.p), 10000);
    mon_buf_reset(&b);
    CHECK_EQ_INT(b.len, 0);
    mon_buf_printf(&b, "x%s", "y");
    CHECK_EQ_STR(b.p, "xy");
    mon_buf_fini(&b);
    CHECK(b.p == NULL);
}
