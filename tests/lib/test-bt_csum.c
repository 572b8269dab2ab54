/* SPDX-License-Identifier: BSD-3-Clause */
#include <errno.h>
#include "bt_test.h"
#include "bt_csum.h"
#include "bt_parse.h"
#include "pktbuild.h"

/* RFC 1071's worked example: 00 01 f2 03 f4 f5 f6 f7 sums to ddf2 (so the
 * checksum is ~ddf2 = 220d), in network order. */
TEST(rfc1071_example)
{
    const uint8_t d[8] = {0x00, 0x01, 0xf2, 0x03, 0xf4, 0xf5, 0xf6, 0xf7};
    uint16_t c = bt_csum_fold(bt_csum_partial(d, 8, 0));
    uint8_t be[2];
    memcpy(be, &c, 2);
    CHECK_EQ_INT(be[0], 0x22);
    CHECK_EQ_INT(be[1], 0x0d);
}

static uint64_t rs = 99;
static uint32_t rnd(void)
{
    rs ^= rs << 13; rs ^= rs >> 7; rs ^= rs << 17;
    return (uint32_t)rs;
}

static unsigned frame(uint8_t *f, int v6, uint8_t proto, unsigned payload)
{
    unsigned o = pb_eth(f, 0, 0, 0, 0, v6 ? 0x86dd : 0x0800);
    unsigned l4len = (proto == 6 ? 20 : 8) + payload;
    if (v6)
        o += pb_ip6(f + o, (uint16_t)l4len, proto, (uint8_t)rnd(), (uint8_t)rnd());
    else
        o += pb_ip4(f + o, 5, (uint16_t)(20 + l4len), 0, proto, rnd(), rnd());
    if (proto == 6)
        o += pb_tcp(f + o, (uint16_t)rnd(), 80, rnd(), rnd(), 0x18, 20);
    else if (proto == 17)
        o += pb_udp(f + o, (uint16_t)rnd(), 53, (uint16_t)l4len);
    else {
        memset(f + o, 0, 8);
        f[o] = v6 ? 128 : 8;
        o += 8;
    }
    for (unsigned i = 0; i < payload; i++)
        f[o + i] = (uint8_t)rnd();
    return o + payload;
}

TEST(fix_then_check_and_corruption_detected)
{
    uint8_t f[1600];
    struct bt_parsed p;
    const uint8_t protos[] = {6, 17, 1};
    for (int v6 = 0; v6 <= 1; v6++)
        for (unsigned pi = 0; pi < 3; pi++)
            for (unsigned pl = 0; pl < 40; pl += 3) {
                uint8_t proto = protos[pi];
                if (v6 && proto == 1)
                    proto = 58;
                unsigned n = frame(f, v6, proto, pl);
                REQUIRE(bt_parse(f, n, BT_LINK_ETHERNET, &p) == BT_PARSE_OK);
                if (proto == 17 && !v6)
                    f[p.l4_off + 6] = 1; /* make the UDP checksum non-zero */
                CHECK(bt_csum_fix(f, n, &p) == 0);
                CHECK(bt_csum_check(f, n, &p) == 0);
                f[n - 1 - (pl ? 0 : 4)] ^= 0x40;
                CHECK(bt_csum_check(f, n, &p) == -EBADMSG);
            }
}

/* RFC 1624: rewriting an address or port with incremental updates gives
 * the same checksum as recomputing from scratch. */
TEST(incremental_equals_full_recompute)
{
    uint8_t f[1600];
    struct bt_parsed p;
    for (int i = 0; i < 5000; i++) {
        int v6 = i % 2;
        unsigned n = frame(f, v6, i % 3 ? 6 : 17, rnd() % 100);
        REQUIRE(bt_parse(f, n, BT_LINK_ETHERNET, &p) == BT_PARSE_OK);
        if (!v6 && p.proto == 17)
            f[p.l4_off + 6] = 1;
        bt_csum_fix(f, n, &p);
        uint8_t *l4 = f + p.l4_off;
        unsigned cf = p.proto == 6 ? 16 : 6;
        uint16_t c;
        memcpy(&c, l4 + cf, 2);
        /* new source address */
        if (v6) {
            uint8_t old[16], nw[16];
            memcpy(old, f + p.l3_off + 8, 16);
            for (int b = 0; b < 16; b++)
                nw[b] = (uint8_t)rnd();
            memcpy(f + p.l3_off + 8, nw, 16);
            c = bt_csum_update128(c, old, nw);
        } else {
            uint32_t old, nw = rnd();
            memcpy(&old, f + p.l3_off + 12, 4);
            memcpy(f + p.l3_off + 12, &nw, 4);
            c = bt_csum_update32(c, old, nw);
            uint16_t ipc;
            memcpy(&ipc, f + p.l3_off + 10, 2);
            ipc = bt_csum_update32(ipc, old, nw);
            memcpy(f + p.l3_off + 10, &ipc, 2);
        }
        /* new source port */
        uint16_t oldp, newp = (uint16_t)rnd();
        memcpy(&oldp, l4, 2);
        memcpy(l4, &newp, 2);
        c = bt_csum_update16(c, oldp, newp);
        memcpy(l4 + cf, &c, 2);
        REQUIRE(bt_parse(f, n, BT_LINK_ETHERNET, &p) == BT_PARSE_OK);
        if (bt_csum_check(f, n, &p) != 0) {
            BT_FAIL_AT("iteration %d (v6 %d proto %u): incremental checksum wrong", i, v6, p.proto);
            return;
        }
    }
}

TEST(cannot_fix_truncated_or_fragment)
{
    uint8_t f[200];
    struct bt_parsed p;
    unsigned n = frame(f, 0, 6, 50);
    REQUIRE(bt_parse(f, n - 10, BT_LINK_ETHERNET, &p) == BT_PARSE_OK);
    CHECK(bt_csum_fix(f, n - 10, &p) == -EINVAL);
    CHECK(bt_csum_check(f, n - 10, &p) == -EINVAL);
}
