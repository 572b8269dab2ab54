/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Packet decoding for the checks. bt_parse fills ~100 bytes of struct
 * bt_parsed (cleared first) for every frame, and the key then takes three
 * more copies (directional, canonical, swapped): most of the per-packet
 * cost of a verify pass that no flow state can save. The fast path
 * (vf_pkt_decode, inline in vf_pkt.h) reads the few fields the checks use
 * straight into the canonical key; any frame it is not sure of (a second
 * tag, IPv4 options or fragments, IPv6 extension headers, other protocols,
 * anything short) comes here, to bt_parse.
 */
#include "vf_pkt.h"

#include <stddef.h>
#include <string.h>

#include "vf_ftab.h"
#include "bt_parse.h"

static inline uint64_t rd64(const uint8_t *p)
{
    uint64_t v;

    memcpy(&v, p, 8);
    return __builtin_bswap64(v);
}

/* Swaps the two endpoints of k in place. */
static inline void swap_ends(struct bt_flow_key *k)
{
    uint8_t t[16];
    uint16_t tp = k->sport;

    memcpy(t, k->src, 16);
    memcpy(k->src, k->dst, 16);
    memcpy(k->dst, t, 16);
    k->sport = k->dport;
    k->dport = tp;
}

/* bt_flow_key_canon's order (addresses byte-wise, then ports; equal
 * endpoints stay as they are), in place: 1 when it swapped. */
static inline int canon_inplace(struct bt_flow_key *k)
{
    uint64_t x = rd64(k->src), y = rd64(k->dst);
    int swap;

    if (x == y) {
        x = rd64(k->src + 8);
        y = rd64(k->dst + 8);
    }
    swap = x != y ? x > y : k->sport > k->dport;
    if (swap)
        swap_ends(k);
    return swap;
}

void vf_pkt_set_key(struct vf_pkt *p, const struct bt_flow_key *k)
{
    p->ck = *k;
    if (canon_inplace(&p->ck))
        p->flags |= VF_PKT_SWAPPED;
    else
        p->flags &= (uint8_t)~VF_PKT_SWAPPED;
    p->hash = vf_ftab_hash(&p->ck);
}

void vf_pkt_wire_key(const struct vf_pkt *p, struct bt_flow_key *out)
{
    *out = p->ck;
    if (p->flags & VF_PKT_SWAPPED)
        swap_ends(out);
}

int vf_pkt_decode_slow(const uint8_t *data, uint32_t caplen, int link, struct vf_pkt *out)
{
    struct bt_parsed p;
    struct bt_flow_key k;

    bt_parse(data, caplen, link, &p);
    out->flags = 0;
    if (p.status == BT_PARSE_NOT_IP) {
        out->kind = VF_PKT_NON_IP;
        return out->kind;
    }
    if (p.ip_version == 0 || p.status == BT_PARSE_UNSUPPORTED_LINK) {
        out->kind = VF_PKT_UNPARSED;
        return out->kind;
    }
    bt_flow_key_from_parsed(&p, &k);
    out->kind = VF_PKT_IP;
    out->proto = p.proto;
    out->tcp_flags = p.tcp_flags;
    if (p.flags & BT_PF_PORTS)
        out->flags |= VF_PKT_PORTS;
    vf_pkt_set_key(out, &k);
    return out->kind;
}
