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

uint32_t bt_dist_hash(const struct bt_flow_key *k, enum bt_dist_mode mode, int l4,
                      enum bt_side side, uint32_t seed)
{
    uint64_t h = bt_mix64(0x9e3779b97f4a7c15ULL + seed);

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

uint32_t bt_toeplitz_sym(const struct bt_flow_key *k)
{
    /* 0x6d5a repeated: every 16-bit shift of the key is the same, so
     * swapping source and destination (each 16-bit aligned) keeps the hash. */
#define K2 0x6d, 0x5a
#define K8 K2, K2, K2, K2
    static const uint8_t key[40] = {K8, K8, K8, K8, K8};
#undef K8
#undef K2
    uint8_t in[36];
    size_t n = 0;
    int alen = k->family == 6 ? 16 : 4;
    const uint8_t *s = k->family == 6 ? k->src : k->src + 12;
    const uint8_t *d = k->family == 6 ? k->dst : k->dst + 12;

    memcpy(in + n, s, alen);
    n += alen;
    memcpy(in + n, d, alen);
    n += alen;
    in[n++] = (uint8_t)(k->sport >> 8);
    in[n++] = (uint8_t)k->sport;
    in[n++] = (uint8_t)(k->dport >> 8);
    in[n++] = (uint8_t)k->dport;
    return bt_toeplitz(key, sizeof(key), in, n);
}
