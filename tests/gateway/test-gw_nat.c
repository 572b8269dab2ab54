/* SPDX-License-Identifier: BSD-3-Clause */
/* Hide-NAT slices and the header rewrite (checksums checked independently). */
#include <errno.h>

#include "bt_test.h"
#include "bt_csum.h"
#include "bt_parse.h"
#include "gw_api.h"
#include "gw_nat.h"
#include "../lib/pktbuild.h"

static struct gw_config cfg(void)
{
    struct gw_config c;
    gw_config_default(&c);
    c.nat = true;
    bt_cidr_parse("198.51.100.0/28", &c.nat_pool);
    return c;
}

TEST(slices_name_their_member)
{
    struct gw_config c = cfg();
    uint16_t lo, hi, plo = 0, phi = 0;
    for (int id = 1; id <= GW_MAX_MEMBERS; id++) {
        REQUIRE(gw_nat_slice(&c, id, &lo, &hi) == 0);
        CHECK(lo <= hi && lo >= c.nat_port_lo && hi <= c.nat_port_hi);
        if (id > 1)
            CHECK_EQ_INT(lo, phi + 1);
        CHECK_EQ_INT(gw_nat_port_owner(&c, lo), id);
        CHECK_EQ_INT(gw_nat_port_owner(&c, hi), id);
        plo = lo;
        phi = hi;
    }
    (void)plo;
    CHECK_EQ_INT(gw_nat_port_owner(&c, 80), 0);
    CHECK_EQ_INT(gw_nat_slice(&c, 0, &lo, &hi), -EINVAL);
    c.nat_port_lo = 1000;
    c.nat_port_hi = 1050;     /* fewer ports than members */
    CHECK_EQ_INT(gw_nat_slice(&c, 1, &lo, &hi), -EINVAL);
}

TEST(pool_membership_and_stable_address)
{
    struct gw_config c = cfg();
    uint8_t a[16] = {0}, cl[16] = {0};
    a[10] = a[11] = cl[10] = cl[11] = 0xff;
    a[12] = 198; a[13] = 51; a[14] = 100; a[15] = 7;
    CHECK(gw_nat_in_pool(&c, a));
    a[15] = 16;
    CHECK(!gw_nat_in_pool(&c, a));
    cl[12] = 10; cl[15] = 9;
    uint32_t x = gw_nat_addr_for(&c, cl);
    CHECK_EQ_INT(x, gw_nat_addr_for(&c, cl));
    CHECK((x & 0xfffffff0u) == 0xc6336400u);
    c.nat = false;
    a[15] = 7;
    CHECK(!gw_nat_in_pool(&c, a));
}

static void check_rewrite(uint8_t proto)
{
    uint8_t f[256];
    struct bt_parsed p, q;
    unsigned o = pb_eth(f, 0, 0, 0, 0, 0x0800), l4len = proto == 6 ? 20 : 8;
    o += pb_ip4(f + o, 5, (uint16_t)(20 + l4len + 10), 0, proto, 0x0a000001, 0xc0000201);
    if (proto == 6)
        o += pb_tcp(f + o, 1234, 80, 1, 1, BT_TCP_ACK, 20);
    else if (proto == 17) {
        pb_udp(f + o, 1234, 53, 18);
        f[o + 6] = 0xff;     /* a checksum to keep (0 would mean none) */
        o += 8;
    }
    else {
        memset(f + o, 0, 8);
        f[o] = 8;            /* echo request, id 1234 */
        f[o + 4] = 0x04; f[o + 5] = 0xd2;
        o += 8;
    }
    memcpy(f + o, "0123456789", 10);
    o += 10;
    REQUIRE(bt_parse(f, o, BT_LINK_ETHERNET, &p) == BT_PARSE_OK);
    bt_csum_fix(f, o, &p);
    REQUIRE(bt_csum_check(f, o, &p) == 0);
    if (proto == 17)
        CHECK(f[14 + 20 + 6] | f[14 + 20 + 7]);
    gw_nat_rewrite(f, &p, true, 0xc6336405, 5000);
    REQUIRE(bt_parse(f, o, BT_LINK_ETHERNET, &q) == BT_PARSE_OK);
    CHECK_EQ_INT(bt_csum_check(f, o, &q), 0);
    CHECK_EQ_INT(q.src[15], 5);
    CHECK_EQ_INT(q.sport, 5000);
    CHECK_EQ_INT(p.sport, 5000);   /* the parsed view follows */
    gw_nat_rewrite(f, &q, false, 0x0a000063, 4321);
    REQUIRE(bt_parse(f, o, BT_LINK_ETHERNET, &p) == BT_PARSE_OK);
    CHECK_EQ_INT(bt_csum_check(f, o, &p), 0);
    CHECK_EQ_INT(p.dst[15], 0x63);
    if (proto != 1)
        CHECK_EQ_INT(p.dport, 4321);
}

TEST(rewrite_keeps_checksums_valid)
{
    check_rewrite(6);
    check_rewrite(17);
    check_rewrite(1);
}
