/* SPDX-License-Identifier: BSD-3-Clause */
#include <errno.h>
#include "bt_test.h"
#include "bt_flow.h"
#include "bt_parse.h"
#include "pktbuild.h"

/* A parsed packet built by hand (what bt_parse would give). */
static struct bt_parsed mkp(const char *src, const char *dst, uint8_t proto, uint16_t sp,
                            uint16_t dp)
{
    struct bt_parsed p;
    memset(&p, 0, sizeof(p));
    bt_addr_parse(src, p.src);
    bt_addr_parse(dst, p.dst);
    p.ip_version = bt_addr_is_v4(p.src) ? 4 : 6;
    p.proto = proto;
    p.l4_off = 34;
    if (proto == 1 || proto == 58) {
        p.icmp_type = (uint8_t)sp;
        p.icmp_code = (uint8_t)dp;
    } else if (proto == 6 || proto == 17 || proto == 132) {
        p.sport = sp;
        p.dport = dp;
        p.flags |= BT_PF_PORTS;
    }
    return p;
}

/* From corelight/community-id-spec baseline/baseline_deflt.json (seed 0).
 * The baseline lists ICMP "ports" as port equivalents; here the ICMP rows
 * give the packet's real type and code, from which the same equivalents
 * follow (e.g. echo reply type 0 code 0 -> (0, 8)). */
static const struct {
    uint8_t proto;
    const char *s, *d;
    uint16_t sp, dp;  /* ports, or ICMP type and code */
    const char *id;
} vec[] = {
    {58, "fe80::200:86ff:fe05:80da", "fe80::260:97ff:fe07:69ea", 135, 0, "1:dGHyGvjMfljg6Bppwm3bg0LO8TY="},
    {58, "fe80::260:97ff:fe07:69ea", "fe80::200:86ff:fe05:80da", 136, 0, "1:dGHyGvjMfljg6Bppwm3bg0LO8TY="},
    {58, "fe80::260:97ff:fe07:69ea", "fe80::200:86ff:fe05:80da", 135, 0, "1:zavyT/cezQr1fmImYCwYnMXbgck="},
    {58, "fe80::200:86ff:fe05:80da", "fe80::260:97ff:fe07:69ea", 136, 0, "1:zavyT/cezQr1fmImYCwYnMXbgck="},
    {58, "3ffe:501:1800:2345::2", "3ffe:507:0:1:200:86ff:fe05:80da", 3, 0, "1:2ObVBgIn28oZvibYZhZMBgh7WdQ="},
    {58, "3ffe:501:410:0:2c0:dfff:fe47:33e", "3ffe:507:0:1:200:86ff:fe05:80da", 1, 4, "1:hLZd0XGWojozrvxqE0dWB1iM6R0="},
    {58, "3ffe:507:0:1:200:86ff:fe05:80da", "3ffe:501:0:1001::2", 128, 0, "1:+TW+HtLHvV1xnGhV1lv7XoJrqQg="},
    {58, "3ffe:501:0:1001::2", "3ffe:507:0:1:200:86ff:fe05:80da", 129, 0, "1:+TW+HtLHvV1xnGhV1lv7XoJrqQg="},
    {58, "fe80::200:86ff:fe05:80da", "ff02::2", 133, 0, "1:hO+sN4H+MG5MY/8hIrXPqc4ZQz0="},
    {58, "fe80::260:97ff:fe07:69ea", "ff02::1", 134, 0, "1:pkvHqCL88/tg1k4cPigmZXUtL00="},
    {1, "192.168.0.89", "192.168.0.1", 8, 0, "1:X0snYXpgwiv9TZtqg64sgzUn6Dk="},
    {1, "192.168.0.1", "192.168.0.89", 0, 0, "1:X0snYXpgwiv9TZtqg64sgzUn6Dk="},
    {1, "10.0.0.1", "10.0.0.2", 11, 0, "1:YHxtAirCG//0OzkcVAukqKQN9xM="},
    {6, "2001:470:e5bf:dead:4957:2174:e82c:4887", "2607:f8b0:400c:c03::1a", 63943, 25, "1:/qFaeAR+gFe1KYjMzVDsMv+wgU4="},
    {6, "2607:f8b0:400c:c03::1a", "2001:470:e5bf:dead:4957:2174:e82c:4887", 25, 63943, "1:/qFaeAR+gFe1KYjMzVDsMv+wgU4="},
    {132, "192.168.170.8", "192.168.170.56", 7, 7, "1:MP2EtRCAUIZvTw6MxJHLV7N7JDs="},
    {132, "192.168.170.56", "192.168.170.8", 7, 7, "1:MP2EtRCAUIZvTw6MxJHLV7N7JDs="},
    {6, "128.232.110.120", "66.35.250.204", 34855, 80, "1:LQU9qZlK+B5F3KDmev6m5PMibrg="},
    {6, "66.35.250.204", "128.232.110.120", 80, 34855, "1:LQU9qZlK+B5F3KDmev6m5PMibrg="},
    {17, "192.168.1.52", "8.8.8.8", 54585, 53, "1:d/FP5EW3wiY1vCndhwleRRKHowQ="},
    {17, "8.8.8.8", "192.168.1.52", 53, 54585, "1:d/FP5EW3wiY1vCndhwleRRKHowQ="},
    {46, "10.1.12.1", "10.1.12.2", 0, 0, "1:KHlLkgoJW7ifUTyTSgyVfkFHzKw="},
    {46, "10.1.12.2", "10.1.12.1", 0, 0, "1:KHlLkgoJW7ifUTyTSgyVfkFHzKw="},
};

TEST(community_id_matches_spec_baseline)
{
    for (unsigned i = 0; i < sizeof(vec) / sizeof(vec[0]); i++) {
        struct bt_parsed p = mkp(vec[i].s, vec[i].d, vec[i].proto, vec[i].sp, vec[i].dp);
        char id[64];
        REQUIRE(bt_community_id_parsed(&p, 0, id, sizeof(id)) == 0);
        if (strcmp(id, vec[i].id) != 0)
            BT_FAIL_AT("vector %u: %s != %s", i, id, vec[i].id);
        /* non-ICMP: the key gives the same id */
        if (vec[i].proto != 1 && vec[i].proto != 58) {
            struct bt_flow_key k;
            REQUIRE(bt_flow_key_from_parsed(&p, &k) == 0);
            REQUIRE(bt_community_id(&k, 0, id, sizeof(id)) == 0);
            CHECK_EQ_STR(id, vec[i].id);
        }
    }
    char small[8];
    struct bt_parsed p = mkp("1.1.1.1", "2.2.2.2", 6, 1, 2);
    CHECK(bt_community_id_parsed(&p, 0, small, sizeof(small)) == -ENOSPC);
}

TEST(canonical_key_is_direction_independent)
{
    uint64_t x = 77;
    for (int i = 0; i < 50000; i++) {
        struct bt_flow_key k, r, ck, cr;
        memset(&k, 0, sizeof(k));
        for (int b = 0; b < 16; b++) {
            x ^= x << 13; x ^= x >> 7; x ^= x << 17;
            k.src[b] = (uint8_t)x;
            k.dst[b] = (uint8_t)(x >> 8);
        }
        if (i % 3 == 0)
            memcpy(k.dst, k.src, 16); /* same address both ends: ports decide */
        k.sport = (uint16_t)(x >> 16);
        k.dport = (uint16_t)(x >> 32);
        k.proto = 6;
        k.family = 6;
        bt_flow_key_reverse(&k, &r);
        int a = bt_flow_key_canon(&k, &ck);
        int b = bt_flow_key_canon(&r, &cr);
        CHECK(bt_flow_key_eq(&ck, &cr));
        CHECK(bt_flow_key_hash(&ck, 1) == bt_flow_key_hash(&cr, 1));
        /* the smaller endpoint first: addresses in memcmp order, then ports */
        int c = memcmp(ck.src, ck.dst, 16);
        CHECK(c < 0 || (c == 0 && ck.sport <= ck.dport));
        if (!bt_flow_key_eq(&k, &r))
            CHECK(a != b);
        if (bt_test_failed)
            return;
    }
}

TEST(key_from_packet_and_format)
{
    struct bt_parsed p = mkp("10.0.0.1", "10.0.0.2", 6, 1000, 80);
    struct bt_flow_key k;
    char buf[128];
    REQUIRE(bt_flow_key_from_parsed(&p, &k) == 0);
    CHECK_EQ_INT(k.family, 4);
    CHECK_EQ_INT(k.zero, 0);
    CHECK_EQ_STR(bt_flow_key_fmt(&k, buf, sizeof(buf)), "tcp 10.0.0.1:1000 -> 10.0.0.2:80");
    p = mkp("2001:db8::1", "2001:db8::2", 17, 5, 6);
    bt_flow_key_from_parsed(&p, &k);
    CHECK_EQ_STR(bt_flow_key_fmt(&k, buf, sizeof(buf)), "udp [2001:db8::1]:5 -> [2001:db8::2]:6");
    struct bt_parsed none;
    memset(&none, 0, sizeof(none));
    CHECK(bt_flow_key_from_parsed(&none, &k) < 0);
}
