/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * What the checks need of one packet, and nothing more: its canonical flow
 * key, that key's flow-table hash, and four header bits. Decoded straight
 * from the frame for the common case (Ethernet, at most one 802.1Q tag,
 * IPv4 without options or fragmentation or IPv6 without extension headers,
 * TCP or UDP with the whole L4 header captured); every other frame goes
 * through bt_parse and comes out the same as if the fast path had not
 * existed (tests/verify/test-vf_pkt.c holds the two to each other).
 */
#ifndef VF_PKT_H
#define VF_PKT_H

#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "bt_flow.h"
#include "bt_parse.h"
#include "vf_ftab.h"

enum vf_pkt_kind {
    VF_PKT_IP = 0,        /* a flow packet: key, hash and header bits valid */
    VF_PKT_NON_IP,        /* bt_parse: BT_PARSE_NOT_IP (ARP, LLDP...) */
    VF_PKT_UNPARSED,      /* no IP header parsed, or a link type bt_parse does not read */
};

enum {
    VF_PKT_SWAPPED = 1U << 0,  /* the packet travels from the canonical key's dst to its src */
    VF_PKT_PORTS   = 1U << 1,  /* the key has ports (bt_parse's BT_PF_PORTS) */
};

/* 64 bytes: a read-ahead ring of them stays in L1. */
struct vf_pkt {
    struct bt_flow_key ck;   /* canonical (lower endpoint first, as bt_flow_key_canon) */
    uint64_t hash;           /* vf_ftab_hash(&ck) */
    uint64_t ts;             /* set by the caller */
    uint8_t kind;            /* enum vf_pkt_kind */
    uint8_t flags;           /* VF_PKT_* */
    uint8_t proto;           /* L4 protocol (bt_parsed.proto) */
    uint8_t tcp_flags;       /* bt_parsed.tcp_flags */
    uint8_t member;          /* set by the caller */
    uint8_t pad[3];
};
_Static_assert(sizeof(struct vf_pkt) == 64, "struct vf_pkt is one cache line");

/* Frames through bt_parse only (the reference the fast path, vf_pkt_decode,
 * is held to, and where it sends every frame it is not sure of). */
int vf_pkt_decode_slow(const uint8_t *data, uint32_t caplen, int link, struct vf_pkt *out);

/* out = ck as it travelled (directional). */
void vf_pkt_wire_key(const struct vf_pkt *p, struct bt_flow_key *out);

/* Sets ck, the swapped flag and hash from a directional key k (after NAT
 * untranslation, say). */
void vf_pkt_set_key(struct vf_pkt *p, const struct bt_flow_key *k);

/* ---- the fast path, inline (a call per packet was a tenth of it) ----
 * Decodes a frame of link type `link` (BT_LINK_*) into *out: kind, and for
 * VF_PKT_IP ck, flags, proto, tcp_flags and hash (ts, member, which are the
 * caller's). Returns out->kind. Never reads past caplen. Ethernet with at
 * most one tag, IPv4 without options or fragments, IPv6 without extension
 * headers, TCP or UDP with the L4 header whole: straight into the
 * canonical key; anything else vf_pkt_decode_slow. */

static inline uint16_t vf_pkt_rd16_(const uint8_t *p)
{
    return (uint16_t)(p[0] << 8 | p[1]);
}

/* The L4 header at l4 (avail bytes captured from there), for TCP and UDP
 * only: 0 with the ports in *sp, *dp and the flags in out, -1 for the slow
 * path. */
static inline int vf_pkt_fast_l4_(const uint8_t *l4, uint32_t avail, uint8_t proto,
                                  struct vf_pkt *out, uint16_t *sp, uint16_t *dp)
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
    *sp = vf_pkt_rd16_(l4);
    *dp = vf_pkt_rd16_(l4 + 2);
    out->proto = proto;
    out->flags = VF_PKT_PORTS;
    return 0;
}

/* The key stored as two 16-byte halves and an 8-byte tail, straight into
 * the slot: a hash that reads it back at once in those widths (as the
 * compiler makes of vf_ftab_hash's memcpy) gets it forwarded, and a
 * load that spans two narrower stores cannot be forwarded from the store
 * buffer (a stall of ~15 cycles per packet, measured). */
typedef uint64_t vf_pkt_u64x2_ __attribute__((vector_size(16)));

static inline void vf_pkt_put_key_(struct bt_flow_key *k, uint64_t s0, uint64_t s1,
                                   uint64_t d0, uint64_t d1, uint64_t w4)
{
    uint8_t *p = (uint8_t *)k;
    vf_pkt_u64x2_ a = {s0, s1}, b = {d0, d1};

    memcpy(p, &a, 16);
    memcpy(p + 16, &b, 16);
    memcpy(p + 32, &w4, 8);
}

/* A key word of 8 address bytes as they are in memory (the key keeps
 * addresses in network order) */
static inline uint64_t vf_pkt_ld64_(const uint8_t *p)
{
    uint64_t v;

    memcpy(&v, p, 8);
    return v;
}

#if __BYTE_ORDER__ != __ORDER_LITTLE_ENDIAN__
#error "the key words are laid out for a little-endian host"
#endif
_Static_assert(offsetof(struct bt_flow_key, sport) == 32 &&
               offsetof(struct bt_flow_key, dport) == 34 &&
               offsetof(struct bt_flow_key, proto) == 36 &&
               offsetof(struct bt_flow_key, family) == 37 &&
               offsetof(struct bt_flow_key, zero) == 38 && sizeof(struct bt_flow_key) == 40,
               "the key's last word is laid out as vf_pkt_tail_word_ has it");

/* Ports, protocol and family as the key's last word holds them. */
static inline uint64_t vf_pkt_tail_word_(uint16_t sport, uint16_t dport, uint8_t proto,
                                         uint8_t family)
{
    return (uint64_t)sport | (uint64_t)dport << 16 | (uint64_t)proto << 32 |
           (uint64_t)family << 40;
}

/* Which way round is canonical is a coin toss per packet: no branch on it
 * (a mispredicted one costs more than the rest of the decode). m is all
 * ones to swap, else 0. */
static inline uint64_t vf_pkt_pick_(uint64_t a, uint64_t b, uint64_t m)
{
    return a ^ ((a ^ b) & m);
}

/* The canonical key (the endpoints swapped where m is all ones), its flags
 * and hash into out. Inlined into each family's path, where the constants
 * fold (an IPv4 key's first and third words are 0). */
static inline __attribute__((always_inline)) int
vf_pkt_finish_(struct vf_pkt *out, uint64_t s0, uint64_t s1, uint64_t t0, uint64_t t1,
               uint16_t sp, uint16_t dp, uint64_t m, uint8_t proto, uint8_t family)
{
    uint16_t lo = (uint16_t)vf_pkt_pick_(sp, dp, m), hi = (uint16_t)vf_pkt_pick_(dp, sp, m);
    uint64_t w0 = vf_pkt_pick_(s0, t0, m), w1 = vf_pkt_pick_(s1, t1, m);
    uint64_t w2 = vf_pkt_pick_(t0, s0, m), w3 = vf_pkt_pick_(t1, s1, m);
    uint64_t w4 = vf_pkt_tail_word_(lo, hi, proto, family);
    vf_pkt_put_key_(&out->ck, w0, w1, w2, w3, w4);
    out->flags = (uint8_t)(VF_PKT_PORTS | (m & VF_PKT_SWAPPED));
    out->kind = VF_PKT_IP;
    out->hash = vf_ftab_hash_words(w0, w1, w2, w3, w4);  /* from registers */
    return VF_PKT_IP;
}

static inline int vf_pkt_decode(const uint8_t *d, uint32_t caplen, int link, struct vf_pkt *out)
{
    uint32_t off = 14;
    uint16_t et, sp, dp;
    uint8_t proto;
    uint64_t m;

    if (link != BT_LINK_ETHERNET || caplen < 14 + 20 + 8)
        return vf_pkt_decode_slow(d, caplen, link, out);
    et = vf_pkt_rd16_(d + 12);
    if (et == 0x8100) {
        et = vf_pkt_rd16_(d + 16);
        off = 18;
    }
    if (et == 0x0800) {
        const uint8_t *ip = d + off;
        /* version 4, no options; total length covers the header; neither
         * a fragment nor "more fragments" */
        if (caplen < off + 20 || ip[0] != 0x45 || vf_pkt_rd16_(ip + 2) < 20 ||
            (vf_pkt_rd16_(ip + 6) & 0x3fff))
            return vf_pkt_decode_slow(d, caplen, link, out);
        proto = ip[9];
        if (vf_pkt_fast_l4_(ip + 20, caplen - off - 20, proto, out, &sp, &dp) < 0)
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
        return vf_pkt_finish_(out, 0, s1, 0, t1, sp, dp, m, proto, 4);
    } else if (et == 0x86dd) {
        const uint8_t *ip = d + off;
        if (caplen < off + 40 || ip[0] >> 4 != 6)
            return vf_pkt_decode_slow(d, caplen, link, out);
        proto = ip[6];
        if (vf_pkt_fast_l4_(ip + 40, caplen - off - 40, proto, out, &sp, &dp) < 0)
            return vf_pkt_decode_slow(d, caplen, link, out);
        uint64_t s0 = vf_pkt_ld64_(ip + 8), s1 = vf_pkt_ld64_(ip + 16);
        uint64_t t0 = vf_pkt_ld64_(ip + 24), t1 = vf_pkt_ld64_(ip + 32);
        uint64_t x0 = __builtin_bswap64(s0), y0 = __builtin_bswap64(t0);
        uint64_t x1 = __builtin_bswap64(s1), y1 = __builtin_bswap64(t1);
        m = -(uint64_t)((x0 > y0) | ((x0 == y0) & ((x1 > y1) | ((x1 == y1) & (sp > dp)))));
        return vf_pkt_finish_(out, s0, s1, t0, t1, sp, dp, m, proto, 6);
    }
    return vf_pkt_decode_slow(d, caplen, link, out);
}

#endif
