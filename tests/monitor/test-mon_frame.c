/* SPDX-License-Identifier: BSD-3-Clause */
#include <errno.h>
#include "bt_test.h"
#include "mon_api.h"

TEST(absent_is_not_zero)
{
    struct mon_frame f;
    const char *l = "{\"schema\":1,\"t\":2,\"cluster\":{\"pps\":0},\"sgms\":[{\"id\":3,\"state\":\"up\",\"drops\":0,\"x\":1}]}";
    REQUIRE(mon_frame_parse(l, strlen(l), &f) == 0);
    CHECK(f.pps.present);
    CHECK_EQ_INT(f.pps.v, 0);
    CHECK(!f.bps.present);
    CHECK_EQ_INT(f.nmembers, 1);
    CHECK_EQ_INT(f.m[0].id, 3);
    CHECK(f.m[0].drops.present);
    CHECK(!f.m[0].cpu.present);
    char buf[16];
    CHECK_EQ_STR(mon_fmt_si(f.m[0].cpu, buf, sizeof(buf)), "-");
    CHECK_EQ_STR(mon_fmt_si(f.m[0].drops, buf, sizeof(buf)), "0");
}

TEST(bad_lines_rejected)
{
    struct mon_frame f;
    const char *bad[] = {"", "not json", "[1,2]", "{\"schema\":2}", "{\"t\":1}", "{\"schema\":1"};
    for (unsigned i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
        CHECK(mon_frame_parse(bad[i], strlen(bad[i]), &f) == -EINVAL);
}

TEST(units)
{
    char b[16];
    CHECK_EQ_STR(mon_fmt_si((struct mon_val){999, true}, b, 16), "999");
    CHECK_EQ_STR(mon_fmt_si((struct mon_val){1500, true}, b, 16), "1.50K");
    CHECK_EQ_STR(mon_fmt_si((struct mon_val){41936, true}, b, 16), "41.9K");
    CHECK_EQ_STR(mon_fmt_si((struct mon_val){185020352, true}, b, 16), "185M");
    CHECK_EQ_STR(mon_fmt_si((struct mon_val){2.5e9, true}, b, 16), "2.50G");
    CHECK_EQ_STR(mon_fmt_si((struct mon_val){0.25, true}, b, 16), "0.2");
}
