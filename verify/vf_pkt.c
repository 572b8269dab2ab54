/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Packet decoding for the checks. bt_parse fills ~100 bytes of struct
 * bt_parsed (cleared first) for every frame, and the key then takes three
 * more copies (directional, canonical, swapped): most of the per-packet
 * cost of a verify pass that no flow state can save. The fast path here
 * reads the few fields the checks use straight into the canonical key; any
 * frame it is not sure of (a second tag, IPv4 options or fragments, IPv6
 * extension headers, other protocols, anything short) goes to bt_parse.
 */
#include "vf_pkt.h"

#include <stddef.h>
#include <string.h>

#include "vf_ftab.h"
#include "bt_parse.h"

static inline uint16_t rd16(const uint8_t *p)
{
    return (uint16_t)(p[0] << 8 | p[1]);
}

static inline uint32_t rd32(const uint8_t *p)
{
    uint32_t v;

    memcpy(&v, p, 4);
    return __builtin_bswap32(v);
}

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

/* The L4 header at l4 (avail bytes captured from there), for TCP and UDP
 * only: 0 with the ports in *sp, *dp and the flags in out, -1 for the slow
 * path. */
static inline int fast_l4(const uint8_t *l4, uint32_t avail, uint8_t proto, struct vf_pkt *out,
                          uint16_t *sp, uint16_t *dp)
{
    if (proto == 6) {
        if (avail < 20) /* before the first read: the header may be cut */
            return -1;
        uint32_t hl = (uint32_t)(l4[12] >> 4) * 4;
        if (hl < 20 || avail < hl)
            return -1;
        out->tcp_flags = l4[13] & 0x3f;
    } else if (proto == 17) {
        if (avail < 8)
            return -1;
        out->tcp_flags = 0;
    } else {
        return -1;
    }
    *sp = rd16(l4);
    *dp = rd16(l4 + 2);
    out->proto = proto;
    out->flags = VF_PKT_PORTS;
    return 0;
}

/* The key stored as two 16-byte halves and an 8-byte tail, straight into
 * the slot: a hash that reads it back at once in those widths (as the
 * compiler makes of vf_ftab_hash's memcpy) gets it forwarded, and a
 * load that spans two narrower stores cannot be forwarded from the store
 * buffer (a stall of ~15 cycles per packet, measured). */
typedef uint64_t u64x2 __attribute__((vector_size(16)));

static inline void put_key(struct bt_flow_key *k, uint64_t s0, uint64_t s1, uint64_t d0,
                           uint64_t d1, uint64_t w4)
{
    uint8_t *p = (uint8_t *)k;
    u64x2 a = {s0, s1}, b = {d0, d1};

    memcpy(p, &a, 16);
    memcpy(p + 16, &b, 16);
    memcpy(p + 32, &w4, 8);
}

/* A key word of 8 address bytes as they are in memory (the key keeps
 * addresses in network order) */
static inline uint64_t ld64(const uint8_t *p)
{
    uint64_t v;

    memcpy(&v, p, 8);
    return v;
}

#if __BYTE_ORDER__ != __ORDER_LITTLE_ENDIAN__
#error "the key words are laid out for a little-endian host"
#endif
_Static_assert(offsetof(struct bt_flow_key, sport) == 32 && offsetof(struct bt_flow_key, dport) == 34 &&
               offsetof(struct bt_flow_key, proto) == 36 && offsetof(struct bt_flow_key, family) == 37 &&
               offsetof(struct bt_flow_key, zero) == 38 && sizeof(struct bt_flow_key) == 40,
               "the key's last word is laid out as tail_word has it");

/* Ports, protocol and family as the key's last word holds them. */
static inline uint64_t tail_word(uint16_t sport, uint16_t dport, uint8_t proto, uint8_t family)
{
    return (uint64_t)sport | (uint64_t)dport << 16 | (uint64_t)proto << 32 | (uint64_t)family << 40;
}

/* Which way round is canonical is a coin toss per packet: no branch on it
 * (a mispredicted one costs more than the rest of the decode). m is all
 * ones to swap, else 0. */
static inline uint64_t pick(uint64_t a, uint64_t b, uint64_t m)
{
    return a ^ ((a ^ b) & m);
}

/* The canonical key (the endpoints swapped where m is all ones), its flags
 * and hash into out. Inlined into each family's path, where the constants
 * fold (an IPv4 key's first and third words are 0). */
static inline __attribute__((always_inline)) int finish(struct vf_pkt *out, uint64_t s0,
                                                        uint64_t s1, uint64_t t0, uint64_t t1,
                                                        uint16_t sp, uint16_t dp, uint64_t m,
                                                        uint8_t proto, uint8_t family)
{
    uint16_t lo = (uint16_t)pick(sp, dp, m), hi = (uint16_t)pick(dp, sp, m);
    uint64_t w0 = pick(s0, t0, m), w1 = pick(s1, t1, m), w2 = pick(t0, s0, m),
             w3 = pick(t1, s1, m), w4 = tail_word(lo, hi, proto, family);
    put_key(&out->ck, w0, w1, w2, w3, w4);
    out->flags = (uint8_t)(VF_PKT_PORTS | (m & VF_PKT_SWAPPED));
    out->kind = VF_PKT_IP;
    out->hash = vf_ftab_hash_words(w0, w1, w2, w3, w4);  /* from registers */
    return VF_PKT_IP;
}

int vf_pkt_decode(const uint8_t *d, uint32_t caplen, int link, struct vf_pkt *out)
{
    uint32_t off = 14;
    uint16_t et, sp, dp;
    uint8_t proto;
    uint64_t m;

    if (link != BT_LINK_ETHERNET || caplen < 14 + 20 + 8)
        return vf_pkt_decode_slow(d, caplen, link, out);
    et = rd16(d + 12);
    if (et == 0x8100) {
        et = rd16(d + 16);
        off = 18;
    }
    if (et == 0x0800) {
        const uint8_t *ip = d + off;
        /* version 4, no options; total length covers the header; neither
         * a fragment nor "more fragments" */
        if (caplen < off + 20 || ip[0] != 0x45 || rd16(ip + 2) < 20 || (rd16(ip + 6) & 0x3fff))
            return vf_pkt_decode_slow(d, caplen, link, out);
        proto = ip[9];
        if (fast_l4(ip + 20, caplen - off - 20, proto, out, &sp, &dp) < 0)
            return vf_pkt_decode_slow(d, caplen, link, out);
        uint32_t sraw, traw;
        memcpy(&sraw, ip + 12, 4);
        memcpy(&traw, ip + 16, 4);
        /* endpoints ordered as address (in network order), then port */
        uint64_t se = (uint64_t)__builtin_bswap32(sraw) << 16 | sp;
        uint64_t te = (uint64_t)__builtin_bswap32(traw) << 16 | dp;
        m = -(uint64_t)(se > te);
        /* ::ffff:a.b.c.d: bytes 8-15 of the address are 00 00 ff ff a b c d */
        uint64_t s1 = (uint64_t)sraw << 32 | 0xffff0000u, t1 = (uint64_t)traw << 32 | 0xffff0000u;
        return finish(out, 0, s1, 0, t1, sp, dp, m, proto, 4);
    } else if (et == 0x86dd) {
        const uint8_t *ip = d + off;
        if (caplen < off + 40 || ip[0] >> 4 != 6)
            return vf_pkt_decode_slow(d, caplen, link, out);
        proto = ip[6];
        if (fast_l4(ip + 40, caplen - off - 40, proto, out, &sp, &dp) < 0)
            return vf_pkt_decode_slow(d, caplen, link, out);
        uint64_t s0 = ld64(ip + 8), s1 = ld64(ip + 16), t0 = ld64(ip + 24), t1 = ld64(ip + 32);
        uint64_t x0 = __builtin_bswap64(s0), y0 = __builtin_bswap64(t0);
        uint64_t x1 = __builtin_bswap64(s1), y1 = __builtin_bswap64(t1);
        m = -(uint64_t)((x0 > y0) | ((x0 == y0) & ((x1 > y1) | ((x1 == y1) & (sp > dp)))));
        return finish(out, s0, s1, t0, t1, sp, dp, m, proto, 6);
    }
    return vf_pkt_decode_slow(d, caplen, link, out);
}
