/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Internet checksums: full computation, RFC 1624 incremental updates, IPv4
 * header, and TCP/UDP/ICMP/ICMPv6 over IPv4 and IPv6 pseudo-headers.
 */
#ifndef BT_CSUM_H
#define BT_CSUM_H

#include <stdint.h>

struct bt_parsed;

/* One's-complement sum of len bytes added to sum (not folded). */
uint32_t bt_csum_partial(const void *data, uint32_t len, uint32_t sum);
/* Fold and complement: the checksum field value (network order as stored). */
uint16_t bt_csum_fold(uint32_t sum);
/* RFC 1624 eqn. 3: new checksum after a 16-bit field changed from old to new.
 * All values in network byte order as they sit in the packet. */
uint16_t bt_csum_update16(uint16_t csum, uint16_t old, uint16_t new_);
uint16_t bt_csum_update32(uint16_t csum, uint32_t old, uint32_t new_);
/* Same for a 16-byte address (IPv6 pseudo-header). */
uint16_t bt_csum_update128(uint16_t csum, const uint8_t old[16], const uint8_t new_[16]);
/* Recomputes the IPv4 header checksum in place. */
void bt_csum_ipv4_hdr(uint8_t *ip);
/* Recomputes IPv4 (if v4) and L4 checksums of a parsed frame in place, when the
 * whole L4 segment was captured. Returns 0, or -EINVAL when it cannot
 * (truncated, non-first fragment). UDP over IPv4 with checksum 0 stays 0. */
int bt_csum_fix(uint8_t *frame, uint32_t caplen, const struct bt_parsed *p);
/* Verifies them: 0 good, -EBADMSG bad, -EINVAL cannot tell. */
int bt_csum_check(const uint8_t *frame, uint32_t caplen, const struct bt_parsed *p);

#endif
