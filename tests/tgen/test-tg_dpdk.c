/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The EAL-free parts of tgen/tg_dpdk.c: the neighbour protocol of the port
 * addresses (ARP, IPv6 ND; checksums judged by lib's checker), the mbuf
 * budget and the TSC clock.
 */
#include "bt_test.h"

#include <arpa/inet.h>

#include "bt_csum.h"
#include "bt_parse.h"
#include "tg_api.h"
#include "tg_dpdk.h"

static const uint8_t mac_a[6] = {0x02, 0xaa, 0, 0, 0, 1};
static const uint8_t mac_b[6] = {0x02, 0xbb, 0, 0, 0, 2};

static struct tg_neigh port(const uint8_t *mac, const char *v4, const char *v6)
{
    struct tg_neigh n;
    memset(&n, 0, sizeof(n));
    memcpy(n.mac, mac, 6);
    n.has4 = v4 && inet_pton(AF_INET, v4, n.ip4) == 1;
    n.has6 = v6 && inet_pton(AF_INET6, v6, n.ip6) == 1;
    return n;
}

TEST(arp_request_answer_learn)
{
    struct tg_neigh a = port(mac_a, "10.0.0.1", NULL), b = port(mac_b, "10.0.0.2", NULL);
    uint8_t req[TG_NEIGH_FRAME], rep[TG_NEIGH_FRAME], mac[6];

    uint32_t l = tg_neigh_request(&a, 4, b.ip4, 0, req, sizeof(req));
    CHECK_EQ_INT(l, 60);
    CHECK(!memcmp(req, "\xff\xff\xff\xff\xff\xff", 6));
    CHECK(req[12] == 0x08 && req[13] == 0x06 && req[21] == 1);
    /* not for a: a does not answer its own request; b does */
    CHECK_EQ_INT(tg_neigh_answer(&a, req, l, rep, sizeof(rep)), 0);
    uint32_t r = tg_neigh_answer(&b, req, l, rep, sizeof(rep));
    REQUIRE(r == 60);
    CHECK(!memcmp(rep, mac_a, 6) && !memcmp(rep + 6, mac_b, 6));
    CHECK_EQ_INT(rep[21], 2);                       /* reply */
    CHECK(!memcmp(rep + 22, mac_b, 6) && !memcmp(rep + 28, b.ip4, 4));
    CHECK(!memcmp(rep + 32, mac_a, 6) && !memcmp(rep + 38, a.ip4, 4));
    CHECK(tg_neigh_learn(rep, r, 4, b.ip4, mac));
    CHECK(!memcmp(mac, mac_b, 6));
    /* a reply from someone else teaches nothing about b */
    CHECK(!tg_neigh_learn(rep, r, 4, a.ip4, mac));
    CHECK(!tg_neigh_learn(rep, 30, 4, b.ip4, mac));  /* truncated */
    /* no address of that family: no request */
    CHECK_EQ_INT(tg_neigh_request(&a, 6, b.ip4, 0, req, sizeof(req)), 0);
}

TEST(arp_vlan_tag_kept)
{
    struct tg_neigh a = port(mac_a, "10.0.0.1", NULL), b = port(mac_b, "10.0.0.2", NULL);
    uint8_t req[TG_NEIGH_FRAME], rep[TG_NEIGH_FRAME], mac[6];

    uint32_t l = tg_neigh_request(&a, 4, b.ip4, 100, req, sizeof(req));
    REQUIRE(l == 60);
    CHECK(req[12] == 0x81 && req[13] == 0x00 && req[15] == 100 && req[16] == 0x08);
    uint32_t r = tg_neigh_answer(&b, req, l, rep, sizeof(rep));
    REQUIRE(r == 60);
    CHECK(rep[12] == 0x81 && rep[15] == 100 && rep[16] == 0x08 && rep[17] == 0x06);
    CHECK(tg_neigh_learn(rep, r, 4, b.ip4, mac) && !memcmp(mac, mac_b, 6));
}

TEST(nd_solicit_advertise_checksums)
{
    struct tg_neigh a = port(mac_a, NULL, "fd00::1"), b = port(mac_b, NULL, "fd00::2:3");
    uint8_t req[TG_NEIGH_FRAME], rep[TG_NEIGH_FRAME], mac[6];
    struct bt_parsed p;

    uint32_t l = tg_neigh_request(&a, 6, b.ip6, 0, req, sizeof(req));
    REQUIRE(l == 14 + 40 + 32);
    /* to the solicited-node multicast group of the target */
    CHECK(!memcmp(req, "\x33\x33\xff\x02\x00\x03", 6));
    CHECK(req[14 + 24] == 0xff && req[14 + 24 + 11] == 1 && req[14 + 24 + 12] == 0xff);
    REQUIRE(bt_parse(req, l, BT_LINK_ETHERNET, &p) == BT_PARSE_OK);
    CHECK_EQ_INT(bt_csum_check(req, l, &p), 0);
    CHECK_EQ_INT(tg_neigh_answer(&a, req, l, rep, sizeof(rep)), 0);
    uint32_t r = tg_neigh_answer(&b, req, l, rep, sizeof(rep));
    REQUIRE(r == 14 + 40 + 32);
    REQUIRE(bt_parse(rep, r, BT_LINK_ETHERNET, &p) == BT_PARSE_OK);
    CHECK_EQ_INT(bt_csum_check(rep, r, &p), 0);
    CHECK_EQ_INT(rep[14 + 40], 136);
    CHECK_EQ_INT(rep[14 + 44], 0x60);                /* solicited, override */
    CHECK(!memcmp(rep, mac_a, 6) && !memcmp(rep + 14 + 24, a.ip6, 16));
    CHECK(tg_neigh_learn(rep, r, 6, b.ip6, mac) && !memcmp(mac, mac_b, 6));
    CHECK(!tg_neigh_learn(rep, r, 6, a.ip6, mac));
    /* a corrupted answer is caught by the checker this test relies on */
    rep[r - 1] ^= 1;
    CHECK(bt_csum_check(rep, r, &p) != 0);
    /* duplicate address detection (from ::): the answer goes to all nodes */
    memset(req + 14 + 8, 0, 16);
    r = tg_neigh_answer(&b, req, l, rep, sizeof(rep));
    REQUIRE(r > 0);
    CHECK(rep[0] == 0x33 && rep[5] == 1 && rep[14 + 24] == 0xff && rep[14 + 39] == 1);
    CHECK_EQ_INT(rep[14 + 44], 0x20);
}

TEST(neigh_ignores_other_frames)
{
    struct tg_neigh b = port(mac_b, "10.0.0.2", "fd00::2");
    uint8_t f[128] = {0}, out[TG_NEIGH_FRAME];

    f[12] = 0x08;                                   /* IPv4 */
    CHECK_EQ_INT(tg_neigh_answer(&b, f, 60, out, sizeof(out)), 0);
    f[13] = 0x06;                                   /* ARP, but garbage */
    CHECK_EQ_INT(tg_neigh_answer(&b, f, 60, out, sizeof(out)), 0);
    CHECK_EQ_INT(tg_neigh_answer(&b, f, 10, out, sizeof(out)), 0);
    CHECK_EQ_INT(tg_neigh_answer(&b, f, 60, out, 20), 0);   /* no room */
}

TEST(mbuf_plan)
{
    struct tg_mbuf_plan m;

    tg_mbuf_plan(1, 2, 1024, 1024, 256, 0, false, 0, &m);
    CHECK_EQ_INT(m.desc, 2 * 2048);
    CHECK_EQ_INT(m.cache, 2 * 256 * 3 / 2);
    CHECK_EQ_INT(m.inflight, 0);
    CHECK_EQ_INT(m.capture, 0);
    CHECK_EQ_INT(m.total, m.desc + m.cache + m.burst);
    tg_mbuf_plan(2, 3, 512, 512, 256, 4096, true, 1000, &m);
    CHECK_EQ_INT(m.desc, 2 * 2 * 1024);
    CHECK_EQ_INT(m.inflight, 2000);
    CHECK_EQ_INT(m.capture, 2 * 4 * 4096 + 256);
    CHECK_EQ_INT(m.total, m.desc + m.cache + m.burst + m.capture + m.inflight);
}

TEST(conc_estimate)
{
    struct tg_profile p;

    tg_profile_default(&p);
    p.flows = 1000000;
    p.cps = 10000;
    /* 10k cps x 1 s templates ~ 12.5k concurrent */
    uint64_t e = tg_conc_estimate(&p, 1000000000ull);
    CHECK(e >= 10000 && e <= 14000);
    p.speed = 10;
    CHECK(tg_conc_estimate(&p, 1000000000ull) < 2000);
    p.concurrency = 5000;
    CHECK_EQ_INT(tg_conc_estimate(&p, 1000000000ull), 5000);
    p.concurrency = 0;
    p.rate_max = true;
    CHECK_EQ_INT(tg_conc_estimate(&p, 1000000000ull), 1000000);
    p.flows = 100;
    CHECK_EQ_INT(tg_conc_estimate(&p, 1000000000ull), 100);
}

TEST(tsc_clock)
{
    uint64_t m = tg_tsc_mult(2500000000ull);    /* 2.5 GHz */
    CHECK_EQ_INT(tg_tsc_ns(2500000000ull, m), 999999999);  /* within a ns of 1 s */
    CHECK_EQ_INT(tg_tsc_ns(0, m), 0);
    CHECK_NEAR((double)tg_tsc_ns(2500000000ull * 86400, m), 86400e9, 86400.0);
    m = tg_tsc_mult(1000000000ull);             /* 1 GHz: ns = ticks */
    CHECK_EQ_INT(tg_tsc_ns(123456789, m), 123456789);
}
