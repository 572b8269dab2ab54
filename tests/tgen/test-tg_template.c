/* SPDX-License-Identifier: BSD-3-Clause */
#include "bt_test.h"
#include "bt_csum.h"
#include "bt_err.h"
#include "bt_parse.h"
#include "tg_api.h"

static struct tg_template t;

TEST(tcp_conversation_shape_and_checksums)
{
    struct bt_err e;
    REQUIRE(tg_synth_parse("tcp,req=200,resp=1400x3", &t, &e) == 0);
    /* SYN, SYN-ACK, ACK, request, 3 responses, FIN, FIN, ACK */
    CHECK_EQ_INT(t.n, 10);
    CHECK_EQ_INT(t.proto, 6);
    struct bt_parsed p;
    REQUIRE(bt_parse(t.p[0].data, t.p[0].len, BT_LINK_ETHERNET, &p) == BT_PARSE_OK);
    CHECK_EQ_INT(p.tcp_flags, BT_TCP_SYN);
    CHECK(!t.p[0].from_server && t.p[1].from_server);
    REQUIRE(bt_parse(t.p[3].data, t.p[3].len, BT_LINK_ETHERNET, &p) == BT_PARSE_OK);
    CHECK_EQ_INT(p.payload_len, 200);
    REQUIRE(bt_parse(t.p[4].data, t.p[4].len, BT_LINK_ETHERNET, &p) == BT_PARSE_OK);
    CHECK_EQ_INT(p.payload_len, 1400);
    for (unsigned i = 0; i < t.n; i++) {
        bt_parse(t.p[i].data, t.p[i].len, BT_LINK_ETHERNET, &p);
        bt_csum_fix(t.p[i].data, t.p[i].len, &p);
        CHECK(bt_csum_check(t.p[i].data, t.p[i].len, &p) == 0);
        if (i)
            CHECK(t.p[i].rel_ns >= t.p[i - 1].rel_ns);
    }
    tg_template_clear(&t);
}

TEST(udp_and_bad_specs)
{
    struct bt_err e;
    REQUIRE(tg_synth_parse("udp,req=10,resp=20x2,rtt=4ms", &t, &e) == 0);
    CHECK_EQ_INT(t.n, 3);
    CHECK_EQ_INT(t.proto, 17);
    CHECK_EQ_INT(t.p[1].rel_ns, 2000000);
    tg_template_clear(&t);
    const char *bad[] = {"", "icmp", "tcp,req=", "tcp,resp=10x0", "tcp,resp=1500", "tcp,rtt=soon", "tcp,color=red"};
    for (unsigned i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        if (tg_synth_parse(bad[i], &t, &e) == 0) {
            BT_FAIL_AT("accepted '%s'", bad[i]);
            tg_template_clear(&t);
        } else {
            CHECK(strstr(e.msg, "--synth") != NULL || strstr(e.msg, "libnet") != NULL);
        }
    }
}
