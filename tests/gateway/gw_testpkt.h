/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The packets of the member tests (test-gw_member.c, test-gw_defer.c): a
 * client 10.0.0.C talking to the server 192.0.2.1.
 */
#ifndef GW_TESTPKT_H
#define GW_TESTPKT_H

#include <stdint.h>
#include <string.h>

#include "bt_csum.h"
#include "bt_parse.h"
#include "bt_pkt.h"
#include "../lib/pktbuild.h"

#define GWT_CLIENT(c) (0x0a000000U + (c))
#define GWT_SERVER 0xc0000201U

/* A packet client 10.0.0.C:cp <-> 192.0.2.1:80 (UDP: 53; ICMP: type fl,
 * echo id cp); reply: from the server. Its checksums are valid. */
static inline struct bt_pkt *gwt_pkt(struct bt_pktpool *pool, uint8_t proto, uint32_t c, uint16_t cp,
                                     int reply, uint8_t fl, const char *pl)
{
    struct bt_pkt *p = bt_pkt_alloc(pool);
    unsigned n = (unsigned)strlen(pl), l4 = proto == 6 ? 20 : 8;
    unsigned o = pb_eth(p->data, 0, 0, 0, 0, 0x0800);
    struct bt_parsed pp;
    uint32_t s = GWT_CLIENT(c), d = GWT_SERVER;
    o += pb_ip4(p->data + o, 5, (uint16_t)(20 + l4 + n), 0, proto, reply ? d : s, reply ? s : d);
    if (proto == 6) {
        o += pb_tcp(p->data + o, reply ? 80 : cp, reply ? cp : 80, 100, 200, fl, 20);
    } else if (proto == 17) {
        o += pb_udp(p->data + o, reply ? 53 : cp, reply ? cp : 53, (uint16_t)(8 + n));
    } else {
        memset(p->data + o, 0, 8);
        p->data[o] = fl;            /* ICMP type */
        p->data[o + 4] = (uint8_t)(cp >> 8);
        p->data[o + 5] = (uint8_t)cp;
        o += 8;
    }
    memcpy(p->data + o, pl, n);
    p->len = p->wire_len = o + n;
    bt_parse(p->data, p->len, BT_LINK_ETHERNET, &pp);
    bt_csum_fix(p->data, p->len, &pp);
    return p;
}

#endif
