/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * CIDR prefixes (v4 and v6) and the client-side rule shared by tgen and
 * verify: the client of a flow is the side that sent the first SYN (without
 * ACK); failing that, the sender of the first packet seen; unless a
 * configured client CIDR list says which side is the client.
 */
#ifndef BT_CIDR_H
#define BT_CIDR_H

#include <stdint.h>
#include <stdbool.h>

struct bt_parsed;

struct bt_cidr {
    uint8_t addr[16];  /* v4-mapped for IPv4 */
    uint8_t plen;      /* prefix length in the 128-bit space (v4 /24 -> 120) */
    uint8_t family;    /* 4 or 6 */
};

/* "10.0.0.0/8", "2001:db8::/32", a bare address (host prefix). 0 or -EINVAL. */
int bt_cidr_parse(const char *s, struct bt_cidr *out);
bool bt_cidr_match(const struct bt_cidr *c, const uint8_t addr[16]);
/* Number of addresses (saturates at UINT64_MAX) and the i-th address of the
 * prefix (i taken modulo the size). */
uint64_t bt_cidr_size(const struct bt_cidr *c);
void bt_cidr_nth(const struct bt_cidr *c, uint64_t i, uint8_t out[16]);
char *bt_cidr_fmt(const struct bt_cidr *c, char *buf, unsigned len);

enum bt_client_verdict {
    BT_CLIENT_SRC = 1,      /* the packet's source is the client */
    BT_CLIENT_DST = 2,      /* its destination is */
    BT_CLIENT_UNKNOWN = 0,  /* not decidable from this packet alone */
};

/* Decide from one packet, given optional client CIDRs (n may be 0):
 * a CIDR match on src or dst decides first; then a SYN without ACK says the
 * source is the client; a SYN+ACK says the destination is. Otherwise
 * UNKNOWN: the caller then takes the first packet's source as the client. */
enum bt_client_verdict bt_client_side(const struct bt_parsed *p,
                                      const struct bt_cidr *clients, unsigned n);

#endif
