/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Hide-NAT (internal to gateway_core): connections opened from the client
 * side leave with their IPv4 source translated to a pool address and port.
 * The port range is split into one slice per member id (as a real cluster
 * splits it), so a reply's destination port names the member that made the
 * translation: the correction layer forwards it there.
 */
#ifndef GW_NAT_H
#define GW_NAT_H

#include <stdbool.h>
#include <stdint.h>

struct bt_parsed;
struct gw_config;

/* Member id's slice of the port range [*lo, *hi]; -EINVAL when the range
 * is too small to give every possible member (64) at least one port. */
int gw_nat_slice(const struct gw_config *c, int id, uint16_t *lo, uint16_t *hi);
/* The member whose slice holds port, 0 if none. */
int gw_nat_port_owner(const struct gw_config *c, uint16_t port);
/* Whether addr (16 bytes, v4-mapped) is a pool address. */
bool gw_nat_in_pool(const struct gw_config *c, const uint8_t addr[16]);
/* The pool address for a client address (stable per client). Host order. */
uint32_t gw_nat_addr_for(const struct gw_config *c, const uint8_t client[16]);
/* Rewrites the IPv4 source (src = true) or destination address and port of
 * the parsed frame in place, updating the IP and TCP/UDP/ICMP checksums
 * incrementally (RFC 1624). ICMP echo: the identifier is the port. addr and
 * port in host order. p's src/dst/sport/dport are updated too. */
void gw_nat_rewrite(uint8_t *frame, struct bt_parsed *p, bool src, uint32_t addr, uint16_t port);

#endif
