/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Packet parsing: link layer (Ethernet, 802.1Q, 802.1ad QinQ, Linux SLL and
 * SLL2, BSD loopback/null, raw IP), IPv4 (options, fragments), IPv6 (extension
 * headers hop-by-hop, routing, fragment, destination options), TCP, UDP, SCTP,
 * ICMP and ICMPv6 (echo id in place of ports).
 *
 * Never reads past caplen. A truncated or malformed packet yields a status,
 * never a crash; the fields parsed up to that point stay valid.
 */
#ifndef BT_PARSE_H
#define BT_PARSE_H

#include <stdint.h>

/* pcap link types we understand (values from pcap/dlt.h / LINKTYPE_*) */
enum {
    BT_LINK_NULL     = 0,
    BT_LINK_ETHERNET = 1,
    BT_LINK_RAW      = 101,  /* also DLT_RAW 12 and 14 */
    BT_LINK_LOOP     = 108,
    BT_LINK_SLL      = 113,
    BT_LINK_IPV4     = 228,
    BT_LINK_IPV6     = 229,
    BT_LINK_SLL2     = 276,
};

enum bt_parse_status {
    BT_PARSE_OK = 0,          /* L3 and (if any) L4 headers complete */
    BT_PARSE_NOT_IP,          /* a frame that carries no IPv4/IPv6 (ARP, LLDP...) */
    BT_PARSE_TRUNCATED,       /* caplen ends inside a header we needed */
    BT_PARSE_MALFORMED,       /* header fields inconsistent (bad IHL, version...) */
    BT_PARSE_UNSUPPORTED_LINK,/* link type we do not read */
};

enum {
    BT_PF_VLAN      = 1U << 0,  /* at least one 802.1Q/ad tag */
    BT_PF_QINQ      = 1U << 1,  /* two tags */
    BT_PF_IPOPT     = 1U << 2,  /* IPv4 options present */
    BT_PF_FRAG      = 1U << 3,  /* a fragment (v4 MF/offset or v6 fragment header) */
    BT_PF_FRAG_LATER= 1U << 4,  /* a non-first fragment: no L4 header, no ports */
    BT_PF_PORTS     = 1U << 5,  /* sport/dport are valid (TCP, UDP, SCTP, ICMP echo id) */
    BT_PF_V6EXT     = 1U << 6,  /* IPv6 extension headers were walked */
    BT_PF_L4_TRUNC  = 1U << 7,  /* IP header complete but L4 header truncated */
};

enum {
    BT_TCP_FIN = 0x01, BT_TCP_SYN = 0x02, BT_TCP_RST = 0x04,
    BT_TCP_PSH = 0x08, BT_TCP_ACK = 0x10, BT_TCP_URG = 0x20,
};

struct bt_parsed {
    uint8_t status;        /* enum bt_parse_status */
    uint8_t ip_version;    /* 4 or 6, 0 if no IP */
    uint8_t proto;         /* L4 protocol number (after v6 extension headers) */
    uint8_t nvlan;         /* 0, 1 or 2 */
    uint16_t vlan[2];      /* VLAN ids, outer first */
    uint16_t ethertype;    /* the ethertype after the tags (0 for raw IP) */
    uint32_t flags;        /* BT_PF_* */
    uint16_t l3_off;       /* offset of the IP header in the frame */
    uint16_t l4_off;       /* offset of the L4 header (valid if ip parsed) */
    uint16_t payload_off;  /* offset of the L4 payload */
    uint32_t payload_len;  /* payload bytes per IP length (may exceed what was captured) */
    uint32_t ip_len;       /* IP total length from the header (v6: 40 + payload length) */
    uint8_t ttl;           /* TTL / hop limit */
    /* Addresses: IPv6 as is; IPv4 as IPv4-mapped IPv6 (::ffff:a.b.c.d), so
     * v4 and v6 share one key format. */
    uint8_t src[16];
    uint8_t dst[16];
    uint16_t sport, dport; /* host order; ICMP/ICMPv6 echo: both = identifier */
    /* TCP */
    uint8_t tcp_flags;     /* BT_TCP_* */
    uint8_t tcp_hlen;      /* header length in bytes */
    uint32_t seq, ack;     /* host order */
    uint16_t window;
    /* ICMP / ICMPv6 */
    uint8_t icmp_type, icmp_code;
};

/* Parse one frame of link type `link` (BT_LINK_*, or 12/14 as raw). Fills *out
 * (always, with status) and returns out->status. */
int bt_parse(const uint8_t *data, uint32_t caplen, int link, struct bt_parsed *out);

/* True for IPv4-mapped addresses as bt_parse stores IPv4. */
static inline int bt_addr_is_v4(const uint8_t a[16])
{
    static const uint8_t pfx[12] = {0,0,0,0,0,0,0,0,0,0,0xff,0xff};
    for (int i = 0; i < 12; i++)
        if (a[i] != pfx[i])
            return 0;
    return 1;
}

/* Formats an address (dotted quad for v4-mapped) into buf; returns buf. */
char *bt_addr_fmt(const uint8_t a[16], char *buf, unsigned len);
/* Parses a v4 or v6 literal into 16 bytes (v4-mapped for v4). 0 or -EINVAL. */
int bt_addr_parse(const char *s, uint8_t out[16]);

#endif
