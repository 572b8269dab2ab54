/* SPDX-License-Identifier: BSD-3-Clause */
#include "bt_test.h"
#include "bt_cidr.h"
#include "bt_parse.h"

TEST(parse_match_format)
{
    struct bt_cidr c;
    uint8_t a[16];
    char buf[64];
    REQUIRE(bt_cidr_parse("10.1.2.3/8", &c) == 0);
    CHECK_EQ_INT(c.family, 4);
    CHECK_EQ_INT(c.plen, 104);
    CHECK_EQ_STR(bt_cidr_fmt(&c, buf, sizeof(buf)), "10.0.0.0/8");
    bt_addr_parse("10.200.0.1", a);
    CHECK(bt_cidr_match(&c, a));
    bt_addr_parse("11.0.0.1", a);
    CHECK(!bt_cidr_match(&c, a));
    bt_addr_parse("::a00:1", a); /* v6 address with the same low bits */
    CHECK(!bt_cidr_match(&c, a));
    CHECK_EQ_INT(bt_cidr_size(&c), 1 << 24);

    REQUIRE(bt_cidr_parse("2001:db8::/33", &c) == 0);
    CHECK_EQ_INT(c.family, 6);
    bt_addr_parse("2001:db8:7fff::1", a);
    CHECK(bt_cidr_match(&c, a));
    bt_addr_parse("2001:db8:8000::1", a);
    CHECK(!bt_cidr_match(&c, a));
    CHECK(bt_cidr_size(&c) == UINT64_MAX);

    REQUIRE(bt_cidr_parse("192.168.1.7", &c) == 0);
    CHECK_EQ_INT(c.plen, 128);
    REQUIRE(bt_cidr_parse("0.0.0.0/0", &c) == 0);
    bt_addr_parse("1.2.3.4", a);
    CHECK(bt_cidr_match(&c, a));
}

/* fuzz-bt_cidr: a v6 prefix over v4-mapped addresses formatted as
 * "10.0.0.0/120", which does not parse back */
TEST(v4_mapped_v6_prefix_formats_back_to_itself)
{
    struct bt_cidr c, c2;
    char buf[64];
    REQUIRE(bt_cidr_parse("::ffff:10.0.0.1/120", &c) == 0);
    CHECK_EQ_INT(c.family, 6);
    CHECK_EQ_STR(bt_cidr_fmt(&c, buf, sizeof(buf)), "::ffff:10.0.0.0/120");
    REQUIRE(bt_cidr_parse(buf, &c2) == 0);
    CHECK(memcmp(&c, &c2, sizeof(c)) == 0);
    REQUIRE(bt_cidr_parse("::ffff:0.0.0.0/96", &c) == 0);
    CHECK_EQ_STR(bt_cidr_fmt(&c, buf, sizeof(buf)), "::ffff:0.0.0.0/96");
    REQUIRE(bt_cidr_parse("10.0.0.0/24", &c) == 0);   /* v4 as before */
    CHECK_EQ_STR(bt_cidr_fmt(&c, buf, sizeof(buf)), "10.0.0.0/24");
}

TEST(bad_cidrs_rejected)
{
    struct bt_cidr c;
    const char *bad[] = {"", "/8", "10.0.0.0/", "10.0.0.0/33", "10.0.0.0/-1", "10.0.0.0/8x",
                         "2001:db8::/129", "hello", "10.0.0.0/8/8",
                         /* fuzz-bt_cidr: strtol's sign and spaces were taken */
                         "10.1.2.3/+4", "10.0.0.0/ 8", "2001:db8::/-0", "10.0.0.0/\t8"};
    for (unsigned i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
        if (bt_cidr_parse(bad[i], &c) == 0)
            BT_FAIL_AT("accepted '%s'", bad[i]);
}

TEST(nth_address_walks_the_prefix)
{
    struct bt_cidr c;
    uint8_t a[16];
    char buf[64];
    bt_cidr_parse("10.0.0.0/30", &c);
    bt_cidr_nth(&c, 3, a);
    CHECK_EQ_STR(bt_addr_fmt(a, buf, sizeof(buf)), "10.0.0.3");
    bt_cidr_nth(&c, 5, a); /* wraps */
    CHECK_EQ_STR(bt_addr_fmt(a, buf, sizeof(buf)), "10.0.0.1");
    bt_cidr_parse("10.0.0.0/16", &c);
    bt_cidr_nth(&c, 300, a);
    CHECK_EQ_STR(bt_addr_fmt(a, buf, sizeof(buf)), "10.0.1.44");
    bt_cidr_parse("2001:db8::/64", &c);
    bt_cidr_nth(&c, 0x10001, a);
    CHECK_EQ_STR(bt_addr_fmt(a, buf, sizeof(buf)), "2001:db8::1:1");
}

static struct bt_parsed tcp(const char *s, const char *d, uint8_t flags)
{
    struct bt_parsed p;
    memset(&p, 0, sizeof(p));
    bt_addr_parse(s, p.src);
    bt_addr_parse(d, p.dst);
    p.ip_version = 4;
    p.proto = 6;
    p.flags = BT_PF_PORTS;
    p.tcp_flags = flags;
    return p;
}

TEST(client_side_rule)
{
    struct bt_parsed syn = tcp("10.0.0.1", "20.0.0.1", BT_TCP_SYN);
    struct bt_parsed synack = tcp("20.0.0.1", "10.0.0.1", BT_TCP_SYN | BT_TCP_ACK);
    struct bt_parsed ack = tcp("20.0.0.1", "10.0.0.1", BT_TCP_ACK);
    CHECK_EQ_INT(bt_client_side(&syn, NULL, 0), BT_CLIENT_SRC);
    CHECK_EQ_INT(bt_client_side(&synack, NULL, 0), BT_CLIENT_DST);
    CHECK_EQ_INT(bt_client_side(&ack, NULL, 0), BT_CLIENT_UNKNOWN);
    struct bt_cidr c;
    bt_cidr_parse("20.0.0.0/8", &c);
    /* a CIDR wins over the SYN */
    CHECK_EQ_INT(bt_client_side(&syn, &c, 1), BT_CLIENT_DST);
    CHECK_EQ_INT(bt_client_side(&ack, &c, 1), BT_CLIENT_SRC);
    /* both ends in the CIDR: it cannot decide, the SYN does */
    bt_cidr_parse("0.0.0.0/0", &c);
    CHECK_EQ_INT(bt_client_side(&syn, &c, 1), BT_CLIENT_SRC);
}
