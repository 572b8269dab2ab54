/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Distribution hashes (Maestro's modes) and Toeplitz (what NIC RSS computes).
 * The mode hashes take only the fields the mode names, so a test can show
 * that changing any other field leaves the member unchanged.
 */
#include "bt_hash.h"
#include "bt_flow.h"

#include <errno.h>
#include <string.h>

static const char *const mode_names[] = {
    [BT_DIST_GENERAL] = "general",
    [BT_DIST_USER] = "user",
    [BT_DIST_NETWORK] = "network",
    [BT_DIST_AUTO] = "auto",
};

int bt_dist_mode_parse(const char *s, enum bt_dist_mode *out)
{
    for (unsigned i = 0; i < sizeof(mode_names) / sizeof(mode_names[0]); i++) {
        if (strcmp(s, mode_names[i]) == 0) {
            *out = (enum bt_dist_mode)i;
            return 0;
        }
    }
    if (strcmp(s, "auto-topology") == 0) {
        *out = BT_DIST_AUTO;
        return 0;
    }
    return -EINVAL;
}

const char *bt_dist_mode_name(enum bt_dist_mode m)
{
    if ((unsigned)m >= sizeof(mode_names) / sizeof(mode_names[0]))
        return "?";
    return mode_names[m];
}

static inline uint64_t addr_hash(const uint8_t a[16], uint64_t h)
{
    uint64_t w0, w1;

    memcpy(&w0, a, 8);
    memcpy(&w1, a + 8, 8);
    h = bt_mix64(h ^ w0);
    return bt_mix64(h ^ w1);
}

/* One endpoint (address, port) folded into a 64-bit value. */
static inline uint64_t endpoint(const uint8_t a[16], uint16_t port)
{
    return addr_hash(a, 0x51ed270b1f3ca5e1ULL ^ port);
}

uint64_t bt_dist_seed(uint32_t seed)
{
    return bt_mix64(0x9e3779b97f4a7c15ULL + seed);
}

uint32_t bt_dist_hash(const struct bt_flow_key *k, enum bt_dist_mode mode, int l4,
                      enum bt_side side, uint32_t seed)
{
    return bt_dist_hash_seeded(k, mode, l4, side, bt_dist_seed(seed));
}

uint32_t bt_dist_hash_seeded(const struct bt_flow_key *k, enum bt_dist_mode mode, int l4,
                             enum bt_side side, uint64_t seed_mix)
{
    uint64_t h = seed_mix;

    if (mode == BT_DIST_AUTO)
        mode = side == BT_SIDE_INTERNAL ? BT_DIST_USER : BT_DIST_NETWORK;
    switch (mode) {
    case BT_DIST_GENERAL: {
        /* Symmetric: the two endpoints combined order-independently. */
        uint64_t a = endpoint(k->src, l4 ? k->sport : 0);
        uint64_t b = endpoint(k->dst, l4 ? k->dport : 0);
        uint64_t lo = a < b ? a : b, hi = a < b ? b : a;
        h = bt_mix64(h ^ lo);
        h = bt_mix64(h ^ hi);
        break;
    }
    case BT_DIST_USER:
        h = addr_hash(k->dst, h);
        if (l4)
            h = bt_mix64(h ^ k->sport);
        break;
    case BT_DIST_NETWORK:
    default:
        h = addr_hash(k->src, h);
        if (l4)
            h = bt_mix64(h ^ k->dport);
        break;
    }
    return (uint32_t)(h ^ (h >> 32));
}

uint32_t bt_toeplitz(const uint8_t *key, size_t keylen, const uint8_t *data, size_t datalen)
{
    uint32_t result = 0, window;
    size_t kbit = 32;

    if (keylen < 4 || keylen < datalen + 4)
        return 0;
    window = (uint32_t)key[0] << 24 | (uint32_t)key[1] << 16 | (uint32_t)key[2] << 8 | key[3];
    for (size_t i = 0; i < datalen; i++) {
        for (int b = 7; b >= 0; b--) {
            if (data[i] & (1U << b))
                result ^= window;
            /* slide the 32-bit window one bit along the key */
            window <<= 1;
            if (kbit < keylen * 8 && (key[kbit / 8] & (0x80U >> (kbit % 8))))
                window |= 1;
            kbit++;
        }
    }
    return result;
}

/*
 * Symmetric Toeplitz by table. Toeplitz is linear (an XOR of one 32-bit key
 * window per set input bit), and the 0x6d5a key repeats every 16 bits, so
 * the window of input bit (8 i + j) depends only on (8 i + j) mod 16: a
 * byte's contribution depends on its value and the parity of its position.
 * Four 16-entry nibble tables (constant expressions) replace the bit loop
 * (36 bytes: ~10x faster); the test checks it against bt_toeplitz.
 */
#define SYMKEY64 0x6d5a6d5a6d5a6d5aULL
#define KW(o) ((uint32_t)((SYMKEY64 << ((o) & 15)) >> 32))
#define NIB(o, v) (((v) & 8 ? KW(o) : 0) ^ ((v) & 4 ? KW((o) + 1) : 0) ^ \
                   ((v) & 2 ? KW((o) + 2) : 0) ^ ((v) & 1 ? KW((o) + 3) : 0))
#define NIBROW(o) {NIB(o, 0), NIB(o, 1), NIB(o, 2), NIB(o, 3), NIB(o, 4), NIB(o, 5), \
                   NIB(o, 6), NIB(o, 7), NIB(o, 8), NIB(o, 9), NIB(o, 10), NIB(o, 11), \
                   NIB(o, 12), NIB(o, 13), NIB(o, 14), NIB(o, 15)}
/* [even byte high nibble, even low, odd high, odd low] */
static const uint32_t sym_nib[4][16] = {NIBROW(0), NIBROW(4), NIBROW(8), NIBROW(12)};

static inline uint32_t sym_bytes(const uint8_t *p, int n, int parity, uint32_t h)
{
    for (int i = 0; i < n; i++) {
        const uint32_t (*t)[16] = sym_nib + 2 * ((i + parity) & 1);
        h ^= t[0][p[i] >> 4] ^ t[1][p[i] & 15];
    }
    return h;
}

uint32_t bt_toeplitz_sym(const struct bt_flow_key *k)
{
    /* input: src, dst, sport, dport (network order), as a NIC hashes it;
     * every field starts at an even byte offset */
    int alen = k->family == 6 ? 16 : 4;
    const uint8_t *s = k->family == 6 ? k->src : k->src + 12;
    const uint8_t *d = k->family == 6 ? k->dst : k->dst + 12;
    uint8_t ports[4] = {(uint8_t)(k->sport >> 8), (uint8_t)k->sport, (uint8_t)(k->dport >> 8),
                        (uint8_t)k->dport};
    uint32_t h = sym_bytes(s, alen, 0, 0);

    h = sym_bytes(d, alen, 0, h);
    return sym_bytes(ports, 4, 0, h);
}
