/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Distribution keys and hashes, as Maestro's orchestrator (MHO) uses them:
 *  - General: {src IP, dst IP} (+ both ports with L4), hashed symmetrically:
 *    h(a->b) == h(b->a);
 *  - User: dst IP (+ src port with L4);
 *  - Network: src IP (+ dst port with L4);
 *  - Auto-Topology: User on internal-side ports, Network on external-side
 *    ports; a request entering on the internal side and its reply entering on
 *    the external side hash the same key (the reply's source is the request's
 *    destination), without a symmetric function.
 * Also the symmetric Toeplitz hash NICs use (RSS key 0x6d5a repeated).
 */
#ifndef BT_HASH_H
#define BT_HASH_H

#include <stdint.h>
#include <stddef.h>

struct bt_flow_key;

enum bt_dist_mode {
    BT_DIST_GENERAL = 0,
    BT_DIST_USER,
    BT_DIST_NETWORK,
    BT_DIST_AUTO,
};

/* Which side of the cluster a packet entered from (Auto-Topology). */
enum bt_side {
    BT_SIDE_INTERNAL = 0,  /* client side: "user" ports */
    BT_SIDE_EXTERNAL = 1,  /* server side: "network" ports */
};

/* Mode name <-> enum: "general", "user", "network", "auto". -EINVAL if unknown. */
int bt_dist_mode_parse(const char *s, enum bt_dist_mode *out);
const char *bt_dist_mode_name(enum bt_dist_mode m);

/* The 32-bit distribution hash of a packet's directional key k (as on the
 * wire) entering from side, in mode, with or without L4 ports. seed varies
 * the function (same seed, same result). */
uint32_t bt_dist_hash(const struct bt_flow_key *k, enum bt_dist_mode mode, int l4,
                      enum bt_side side, uint32_t seed);
/* The same with the seed's part computed once (a caller hashing every
 * packet with one seed): bt_dist_hash(k, mode, l4, side, seed) ==
 * bt_dist_hash_seeded(k, mode, l4, side, bt_dist_seed(seed)). */
uint64_t bt_dist_seed(uint32_t seed);
uint32_t bt_dist_hash_seeded(const struct bt_flow_key *k, enum bt_dist_mode mode, int l4,
                             enum bt_side side, uint64_t seed_mix);

/* Toeplitz over data with key (keylen >= datalen + 4). */
uint32_t bt_toeplitz(const uint8_t *key, size_t keylen, const uint8_t *data, size_t datalen);
/* Symmetric Toeplitz of the key's addresses and ports with the 0x6d5a key
 * (IPv4: 12 input bytes; IPv6: 36), as a NIC's RSS would compute it. */
uint32_t bt_toeplitz_sym(const struct bt_flow_key *k);

/* A fast 64-bit mixer (splitmix64 finaliser), exported for tables. */
static inline uint64_t bt_mix64(uint64_t x)
{
    x ^= x >> 30; x *= 0xbf58476d1ce4e5b9ULL;
    x ^= x >> 27; x *= 0x94d049bb133111ebULL;
    x ^= x >> 31;
    return x;
}

#endif
