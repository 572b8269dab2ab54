/* SPDX-License-Identifier: BSD-3-Clause */
#include "bt_test.h"
#include "bt_flow.h"
#include "bt_hash.h"

static uint64_t rng = 0x2545F4914F6CDD1DULL;
static uint64_t rnd(void)
{
    rng ^= rng << 13; rng ^= rng >> 7; rng ^= rng << 17;
    return rng;
}

static struct bt_flow_key random_key(int family)
{
    struct bt_flow_key k;
    memset(&k, 0, sizeof(k));
    uint64_t a = rnd(), b = rnd(), c = rnd(), d = rnd();
    if (family == 4) {
        k.src[10] = k.src[11] = k.dst[10] = k.dst[11] = 0xff;
        memcpy(k.src + 12, &a, 4);
        memcpy(k.dst + 12, &b, 4);
    } else {
        memcpy(k.src, &a, 8); memcpy(k.src + 8, &c, 8);
        memcpy(k.dst, &b, 8); memcpy(k.dst + 8, &d, 8);
        k.src[0] = 0x20; k.dst[0] = 0x20;
    }
    k.sport = (uint16_t)rnd();
    k.dport = (uint16_t)rnd();
    k.proto = (rnd() & 1) ? 6 : 17;
    k.family = (uint8_t)family;
    return k;
}

static struct bt_flow_key rev(const struct bt_flow_key *k)
{
    struct bt_flow_key r = *k;
    memcpy(r.src, k->dst, 16);
    memcpy(r.dst, k->src, 16);
    r.sport = k->dport;
    r.dport = k->sport;
    return r;
}

TEST(general_is_symmetric_over_random_tuples)
{
    for (int fam = 4; fam <= 6; fam += 2)
        for (int l4 = 0; l4 <= 1; l4++)
            for (int i = 0; i < 100000; i++) {
                struct bt_flow_key k = random_key(fam), r = rev(&k);
                uint32_t seed = (uint32_t)i;
                if (bt_dist_hash(&k, BT_DIST_GENERAL, l4, BT_SIDE_INTERNAL, seed) !=
                    bt_dist_hash(&r, BT_DIST_GENERAL, l4, BT_SIDE_EXTERNAL, seed)) {
                    BT_FAIL_AT("asymmetric general hash fam %d l4 %d", fam, l4);
                    return;
                }
            }
}

TEST(auto_topology_request_and_reply_hash_alike)
{
    for (int l4 = 0; l4 <= 1; l4++)
        for (int i = 0; i < 100000; i++) {
            struct bt_flow_key k = random_key(i % 2 ? 4 : 6), r = rev(&k);
            CHECK(bt_dist_hash(&k, BT_DIST_AUTO, l4, BT_SIDE_INTERNAL, 7) ==
                  bt_dist_hash(&r, BT_DIST_AUTO, l4, BT_SIDE_EXTERNAL, 7));
            if (bt_test_failed)
                return;
        }
}

/* A mode depends on exactly the fields it names: changing the others does
 * not change the hash, changing a named one (almost always) does. */
TEST(user_and_network_use_only_their_fields)
{
    unsigned changed_user = 0, changed_net = 0;
    for (int i = 0; i < 20000; i++) {
        struct bt_flow_key k = random_key(4), m = k;
        /* user: dst IP (+ sport with L4); vary src IP and dport */
        m.src[15] ^= 0x5a;
        m.dport ^= 0x1234;
        m.proto = 17;
        CHECK(bt_dist_hash(&k, BT_DIST_USER, 1, 0, 1) == bt_dist_hash(&m, BT_DIST_USER, 1, 0, 1));
        m.sport ^= 1;
        changed_user += bt_dist_hash(&k, BT_DIST_USER, 1, 0, 1) != bt_dist_hash(&m, BT_DIST_USER, 1, 0, 1);
        CHECK(bt_dist_hash(&k, BT_DIST_USER, 0, 0, 1) == bt_dist_hash(&m, BT_DIST_USER, 0, 0, 1));
        /* network: src IP (+ dport with L4) */
        m = k;
        m.dst[15] ^= 0x5a;
        m.sport ^= 0x4321;
        CHECK(bt_dist_hash(&k, BT_DIST_NETWORK, 1, 0, 1) == bt_dist_hash(&m, BT_DIST_NETWORK, 1, 0, 1));
        m.dport ^= 1;
        changed_net += bt_dist_hash(&k, BT_DIST_NETWORK, 1, 0, 1) != bt_dist_hash(&m, BT_DIST_NETWORK, 1, 0, 1);
        CHECK(bt_dist_hash(&k, BT_DIST_NETWORK, 0, 0, 1) == bt_dist_hash(&m, BT_DIST_NETWORK, 0, 0, 1));
        if (bt_test_failed)
            return;
    }
    CHECK(changed_user > 19990);
    CHECK(changed_net > 19990);
}

TEST(general_without_l4_ignores_ports_and_with_l4_uses_them)
{
    unsigned changed = 0;
    for (int i = 0; i < 10000; i++) {
        struct bt_flow_key k = random_key(6), m = k;
        m.sport++;
        CHECK(bt_dist_hash(&k, BT_DIST_GENERAL, 0, 0, 3) == bt_dist_hash(&m, BT_DIST_GENERAL, 0, 0, 3));
        changed += bt_dist_hash(&k, BT_DIST_GENERAL, 1, 0, 3) != bt_dist_hash(&m, BT_DIST_GENERAL, 1, 0, 3);
    }
    CHECK(changed > 9990);
}

TEST(hash_spreads_evenly)
{
    unsigned bins[64] = {0};
    for (int i = 0; i < 640000; i++) {
        struct bt_flow_key k = random_key(4);
        bins[bt_dist_hash(&k, BT_DIST_GENERAL, 1, 0, 0) % 64]++;
    }
    for (int b = 0; b < 64; b++)
        CHECK(bins[b] > 9500 && bins[b] < 10500); /* +-5%, ~5 sigma */
}

TEST(mode_names)
{
    enum bt_dist_mode m;
    CHECK(bt_dist_mode_parse("user", &m) == 0 && m == BT_DIST_USER);
    CHECK(bt_dist_mode_parse("auto-topology", &m) == 0 && m == BT_DIST_AUTO);
    CHECK(bt_dist_mode_parse("bogus", &m) < 0);
    CHECK_EQ_STR(bt_dist_mode_name(BT_DIST_NETWORK), "network");
}

/* Microsoft's "Verifying the RSS Hash Calculation" table (IPv4). */
static const uint8_t ms_key[40] = {
    0x6d, 0x5a, 0x56, 0xda, 0x25, 0x5b, 0x0e, 0xc2, 0x41, 0x67, 0x25, 0x3d, 0x43, 0xa3,
    0x8f, 0xb0, 0xd0, 0xca, 0x2b, 0xcb, 0xae, 0x7b, 0x30, 0xb4, 0x77, 0xcb, 0x2d, 0xa3,
    0x80, 0x30, 0xf2, 0x0c, 0x6a, 0x42, 0xb7, 0x3b, 0xbe, 0xac, 0x01, 0xfa,
};
static const struct {
    uint8_t dst[4]; uint16_t dport;
    uint8_t src[4]; uint16_t sport;
    uint32_t ip_only, with_ports;
} ms_vec[] = {
    {{161, 142, 100, 80}, 1766, {66, 9, 149, 187}, 2794, 0x323e8fc2, 0x51ccc178},
    {{65, 69, 140, 83}, 4739, {199, 92, 111, 2}, 14230, 0xd718262a, 0xc626b0ea},
    {{12, 22, 207, 184}, 38024, {24, 19, 198, 95}, 12898, 0xd2d0a5de, 0x5c2b394a},
    {{209, 142, 163, 6}, 2217, {38, 27, 205, 30}, 48228, 0x82989176, 0xafc7327f},
    {{202, 188, 127, 2}, 1303, {153, 39, 163, 191}, 44251, 0x5d1809c5, 0x10e828a2},
};

TEST(toeplitz_matches_microsoft_vectors)
{
    for (unsigned i = 0; i < sizeof(ms_vec) / sizeof(ms_vec[0]); i++) {
        uint8_t in[12];
        memcpy(in, ms_vec[i].src, 4);
        memcpy(in + 4, ms_vec[i].dst, 4);
        in[8] = (uint8_t)(ms_vec[i].sport >> 8);
        in[9] = (uint8_t)ms_vec[i].sport;
        in[10] = (uint8_t)(ms_vec[i].dport >> 8);
        in[11] = (uint8_t)ms_vec[i].dport;
        CHECK_EQ_INT(bt_toeplitz(ms_key, sizeof(ms_key), in, 8), ms_vec[i].ip_only);
        CHECK_EQ_INT(bt_toeplitz(ms_key, sizeof(ms_key), in, 12), ms_vec[i].with_ports);
    }
}

TEST(symmetric_toeplitz_is_symmetric)
{
    for (int i = 0; i < 20000; i++) {
        struct bt_flow_key k = random_key(i % 2 ? 4 : 6), r = rev(&k);
        CHECK(bt_toeplitz_sym(&k) == bt_toeplitz_sym(&r));
        if (bt_test_failed)
            return;
    }
}

/* The same document's IPv6 table (source, destination, ports as above). */
static const struct {
    uint8_t dst[16]; uint16_t dport;
    uint8_t src[16]; uint16_t sport;
    uint32_t ip_only, with_ports;
} ms_vec6[] = {
    {{0x3f, 0xfe, 0x25, 0x01, 0x02, 0x00, 0x00, 0x03, 0, 0, 0, 0, 0, 0, 0, 0x01}, 1766,
     {0x3f, 0xfe, 0x25, 0x01, 0x02, 0x00, 0x1f, 0xff, 0, 0, 0, 0, 0, 0, 0, 0x07}, 2794,
     0x2cc18cd5, 0x40207d3d},
    {{0xff, 0x02, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x01}, 4739,
     {0x3f, 0xfe, 0x05, 0x01, 0x00, 0x08, 0, 0, 0x02, 0x60, 0x97, 0xff, 0xfe, 0x40, 0xef, 0xab}, 14230,
     0x0f0c461c, 0xdde51bbf},
    {{0xfe, 0x80, 0, 0, 0, 0, 0, 0, 0x02, 0x00, 0xf8, 0xff, 0xfe, 0x21, 0x67, 0xcf}, 38024,
     {0x3f, 0xfe, 0x19, 0x00, 0x45, 0x45, 0x00, 0x03, 0x02, 0x00, 0xf8, 0xff, 0xfe, 0x21, 0x67, 0xcf}, 44251,
     0x4b61e985, 0x02d1feef},
};

TEST(toeplitz_matches_microsoft_ipv6_vectors)
{
    for (unsigned i = 0; i < sizeof(ms_vec6) / sizeof(ms_vec6[0]); i++) {
        uint8_t in[36];
        memcpy(in, ms_vec6[i].src, 16);
        memcpy(in + 16, ms_vec6[i].dst, 16);
        in[32] = (uint8_t)(ms_vec6[i].sport >> 8);
        in[33] = (uint8_t)ms_vec6[i].sport;
        in[34] = (uint8_t)(ms_vec6[i].dport >> 8);
        in[35] = (uint8_t)ms_vec6[i].dport;
        CHECK_EQ_INT(bt_toeplitz(ms_key, sizeof(ms_key), in, 32), ms_vec6[i].ip_only);
        CHECK_EQ_INT(bt_toeplitz(ms_key, sizeof(ms_key), in, 36), ms_vec6[i].with_ports);
    }
    /* a key too short for the input is refused (0), not read past */
    uint8_t in[36] = {1};
    CHECK_EQ_INT(bt_toeplitz(ms_key, 16, in, 36), 0);
}

/* Symmetric Toeplitz is plain Toeplitz with the 0x6d5a key over
 * src, dst, sport, dport (what a NIC computes), and it is not trivially
 * symmetric: it spreads flows evenly and tells flows apart. */
TEST(symmetric_toeplitz_is_toeplitz_with_6d5a_key_and_spreads)
{
    uint8_t key[40];
    unsigned bins[16] = {0};
    for (int i = 0; i < 40; i += 2) {
        key[i] = 0x6d;
        key[i + 1] = 0x5a;
    }
    for (int i = 0; i < 32000; i++) {
        struct bt_flow_key k = random_key(i % 2 ? 4 : 6);
        uint8_t in[36];
        size_t n;
        if (k.family == 4) {
            memcpy(in, k.src + 12, 4);
            memcpy(in + 4, k.dst + 12, 4);
            n = 8;
        } else {
            memcpy(in, k.src, 16);
            memcpy(in + 16, k.dst, 16);
            n = 32;
        }
        in[n++] = (uint8_t)(k.sport >> 8);
        in[n++] = (uint8_t)k.sport;
        in[n++] = (uint8_t)(k.dport >> 8);
        in[n++] = (uint8_t)k.dport;
        uint32_t h = bt_toeplitz_sym(&k);
        CHECK_EQ_INT(h, bt_toeplitz(key, sizeof(key), in, n));
        bins[h % 16]++;
        if (bt_test_failed)
            return;
    }
    /* The 0x6d5a key makes the hash symmetric at the cost of entropy
     * (a 16-bit periodic key): low bits still spread within +-10 %. */
    for (int b = 0; b < 16; b++)
        CHECK(bins[b] > 1800 && bins[b] < 2200);
}

/* Mode hashes depend on the seed, and the direction-dependent modes are
 * not accidentally symmetric. */
TEST(seed_changes_hash_and_user_network_are_directional)
{
    unsigned seed_diff = 0, user_sym = 0, net_sym = 0;
    for (int i = 0; i < 10000; i++) {
        struct bt_flow_key k = random_key(4), r = rev(&k);
        seed_diff += bt_dist_hash(&k, BT_DIST_GENERAL, 1, 0, 1) != bt_dist_hash(&k, BT_DIST_GENERAL, 1, 0, 2);
        user_sym += bt_dist_hash(&k, BT_DIST_USER, 1, 0, 1) == bt_dist_hash(&r, BT_DIST_USER, 1, 0, 1);
        net_sym += bt_dist_hash(&k, BT_DIST_NETWORK, 0, 0, 1) == bt_dist_hash(&r, BT_DIST_NETWORK, 0, 0, 1);
    }
    CHECK(seed_diff > 9990);
    CHECK(user_sym < 10);
    CHECK(net_sym < 10);
}

/* The seeded form with the seed's part computed once gives the same hashes
 * as bt_dist_hash, and both give the values of the function before the
 * split (known answers from 1f5248d: a member assignment never moves). */
TEST(seeded_matches_known_answers)
{
    static const uint32_t want[16] = {
        0xd80e5090U, 0xd80e5090U, 0xca5c0388U, 0xca5c0388U, 0xc8ad7b18U, 0xc8ad7b18U,
        0x51cf577cU, 0x51cf577cU, 0xff51799aU, 0xff51799aU, 0x460f8d1dU, 0x460f8d1dU,
        0xaf29e8c1U, 0x852d1be9U, 0x02e369baU, 0x228810eeU,
    };
    struct bt_flow_key k;
    unsigned n = 0;

    memset(&k, 0, sizeof(k));
    k.src[10] = k.src[11] = k.dst[10] = k.dst[11] = 0xff;
    k.src[12] = 10; k.src[15] = 1; k.dst[12] = 192; k.dst[13] = 168; k.dst[15] = 7;
    k.sport = 40000; k.dport = 80; k.proto = 6; k.family = 4;
    for (int m = 0; m < 4; m++)
        for (int l4 = 0; l4 < 2; l4++)
            for (int side = 0; side < 2; side++, n++) {
                uint32_t seed = (uint32_t)(m * 7 + l4 + 1);
                CHECK(bt_dist_hash(&k, (enum bt_dist_mode)m, l4, (enum bt_side)side, seed) == want[n]);
                CHECK(bt_dist_hash_seeded(&k, (enum bt_dist_mode)m, l4, (enum bt_side)side,
                                          bt_dist_seed(seed)) == want[n]);
            }
    for (int fam = 4; fam <= 6; fam += 2)
        for (int i = 0; i < 10000; i++) {
            struct bt_flow_key r = random_key(fam);
            uint32_t seed = (uint32_t)rnd();
            enum bt_dist_mode m = (enum bt_dist_mode)(i & 3);
            CHECK(bt_dist_hash_seeded(&r, m, i >> 2 & 1, (enum bt_side)(i >> 3 & 1), bt_dist_seed(seed)) ==
                  bt_dist_hash(&r, m, i >> 2 & 1, (enum bt_side)(i >> 3 & 1), seed));
        }
}
