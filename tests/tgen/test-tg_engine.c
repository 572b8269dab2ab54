/* SPDX-License-Identifier: BSD-3-Clause */
#include "bt_test.h"
#include "bt_err.h"
#include "bt_flow.h"
#include "bt_parse.h"
#include "tg_api.h"

TEST(time_order_distinct_flows_and_sides)
{
    static struct tg_profile p;
    struct bt_err e;
    tg_profile_default(&p);
    REQUIRE(tg_synth_parse("tcp,req=10,resp=10", &p.tmpl, &e) == 0);
    p.flows = 500;
    p.cps = 100000;
    bt_cidr_parse("10.0.0.0/30", &p.clients); /* 4 addresses: ports make them distinct */
    struct tg_engine *g = tg_engine_new(&p, &e);
    REQUIRE(g);
    uint8_t buf[2048];
    uint64_t ts, last = 0;
    uint16_t port;
    uint32_t len;
    unsigned n = 0, syns = 0, from_server = 0;
    static struct bt_flow_key seen[500];
    while (tg_next(g, &ts, &port, buf, &len) == 1) {
        struct bt_parsed pp;
        CHECK(ts >= last);
        last = ts;
        n++;
        REQUIRE(bt_parse(buf, len, BT_LINK_ETHERNET, &pp) == BT_PARSE_OK);
        from_server += port == 1;
        if (pp.tcp_flags == BT_TCP_SYN) {
            CHECK_EQ_INT(port, 0);
            struct bt_flow_key k;
            bt_flow_key_from_parsed(&pp, &k);
            for (unsigned i = 0; i < syns; i++)
                if (bt_flow_key_eq(&seen[i], &k))
                    BT_FAIL_AT("flow %u repeats flow %u", syns, i);
            seen[syns++] = k;
        }
    }
    CHECK_EQ_INT(syns, 500);
    CHECK_EQ_INT(n, 500 * 8);
    CHECK_EQ_INT(from_server, 500 * 3);
    struct tg_summary s;
    tg_summary_get(g, &s);
    CHECK_EQ_INT(s.flows_completed, 500);
    tg_engine_free(g);
    /* a pool too small for the flows is refused */
    bt_cidr_parse("10.0.0.0/32", &p.clients);
    p.cport_lo = 1000;
    p.cport_hi = 1009;
    CHECK(tg_engine_new(&p, &e) == NULL);
    CHECK(strstr(e.msg, "client addresses") != NULL);
    tg_template_clear(&p.tmpl);
}
