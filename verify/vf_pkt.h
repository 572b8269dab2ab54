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

#include <stdint.h>

#include "bt_flow.h"

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
    uint8_t which;           /* set by the caller */
    uint16_t pad;
};
_Static_assert(sizeof(struct vf_pkt) == 64, "struct vf_pkt is one cache line");

/* Decodes a frame of link type `link` (BT_LINK_*) into *out: kind, and for
 * VF_PKT_IP ck, flags, proto, tcp_flags and hash (ts, member, which are the
 * caller's). Returns out->kind. Never reads past caplen. */
int vf_pkt_decode(const uint8_t *data, uint32_t caplen, int link, struct vf_pkt *out);

/* The same through bt_parse only (the reference the fast path is held to). */
int vf_pkt_decode_slow(const uint8_t *data, uint32_t caplen, int link, struct vf_pkt *out);

/* out = ck as it travelled (directional). */
void vf_pkt_wire_key(const struct vf_pkt *p, struct bt_flow_key *out);

/* Sets ck, the swapped flag and hash from a directional key k (after NAT
 * untranslation, say). */
void vf_pkt_set_key(struct vf_pkt *p, const struct bt_flow_key *k);

#endif
