/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Flow keys: the 5-tuple of a packet, its canonical (direction-independent)
 * form, and Community ID v1 strings (corelight community-id-spec).
 */
#ifndef BT_FLOW_H
#define BT_FLOW_H

#include <stdint.h>
#include <stdbool.h>

struct bt_parsed;

/* 40 bytes, no padding holes (memcmp/hash safe once zeroed by the setters). */
struct bt_flow_key {
    uint8_t src[16];   /* v4-mapped for IPv4 */
    uint8_t dst[16];
    uint16_t sport;    /* host order; ICMP echo id in both */
    uint16_t dport;
    uint8_t proto;
    uint8_t family;    /* 4 or 6 */
    uint16_t zero;     /* always 0 */
};

/* Directional key of a parsed packet. -EINVAL when the packet has no IP. */
int bt_flow_key_from_parsed(const struct bt_parsed *p, struct bt_flow_key *k);
/* out = canonical form (lower address/port first); returns 0 when k was
 * already canonical (k travels "forward"), 1 when it was swapped. in == out allowed. */
int bt_flow_key_canon(const struct bt_flow_key *k, struct bt_flow_key *out);
/* The key of the other direction. */
void bt_flow_key_reverse(const struct bt_flow_key *k, struct bt_flow_key *out);
bool bt_flow_key_eq(const struct bt_flow_key *a, const struct bt_flow_key *b);
/* 64-bit hash of the key bytes (not symmetric; canonicalise first for that). */
uint64_t bt_flow_key_hash(const struct bt_flow_key *k, uint64_t seed);
/* "proto src:sport -> dst:dport" (v6 in brackets). Returns buf. */
char *bt_flow_key_fmt(const struct bt_flow_key *k, char *buf, unsigned len);
/* Community ID v1 ("1:" + base64 of SHA-1), seed usually 0. buf >= 32 bytes.
 * Returns 0 or -ENOSPC. ICMP/ICMPv6 type/code mapping per the spec. */
int bt_community_id(const struct bt_flow_key *k, uint16_t seed, char *buf, unsigned len);
/* Community ID needs ICMP type and code, which the flow key does not keep:
 * this variant takes the parsed packet. */
int bt_community_id_parsed(const struct bt_parsed *p, uint16_t seed, char *buf, unsigned len);

#endif
