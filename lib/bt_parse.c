/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Packet parser. Every read is bounds-checked against caplen through need();
 * on a short or inconsistent header we stop and say why, keeping what was
 * parsed so far (a truncated TCP header still has its IP addresses).
 */
#include "bt_parse.h"

#include <arpa/inet.h>
#include <errno.h>
#include <stdbool.h>
#include <string.h>

enum {
    ETH_IPV4 = 0x0800,
    ETH_IPV6 = 0x86dd,
    ETH_VLAN = 0x8100,
    ETH_QINQ = 0x88a8,
    ETH_QINQ_OLD = 0x9100,
};

static inline uint16_t rd16(const uint8_t *p)
{
    return (uint16_t)(p[0] << 8 | p[1]);
}

static inline uint32_t rd32(const uint8_t *p)
{
    return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

static int done(struct bt_parsed *o, enum bt_parse_status st)
{
    o->status = (uint8_t)st;
    return st;
}

static void set_v4(uint8_t dst[16], const uint8_t *a)
{
    memset(dst, 0, 10);
    dst[10] = dst[11] = 0xff;
    memcpy(dst + 12, a, 4);
}

/* L4 header at off, len bytes of the IP payload captured from there. */
static int parse_l4(const uint8_t *d, uint32_t caplen, uint32_t off, struct bt_parsed *o)
{
    uint32_t avail = caplen > off ? caplen - off : 0;
    uint32_t hl = 0;

    o->l4_off = (uint16_t)off;
    switch (o->proto) {
    case 6: /* TCP */
        if (avail < 20)
            goto trunc;
        o->sport = rd16(d + off);
        o->dport = rd16(d + off + 2);
        o->seq = rd32(d + off + 4);
        o->ack = rd32(d + off + 8);
        o->tcp_hlen = (uint8_t)((d[off + 12] >> 4) * 4);
        o->tcp_flags = d[off + 13] & 0x3f;
        o->window = rd16(d + off + 14);
        o->flags |= BT_PF_PORTS;
        if (o->tcp_hlen < 20)
            return done(o, BT_PARSE_MALFORMED);
        hl = o->tcp_hlen;
        if (avail < hl)
            goto trunc;
        break;
    case 17:  /* UDP */
    case 132: /* SCTP: common header starts with the ports too */
    case 136: /* UDP-Lite */
        hl = o->proto == 132 ? 12 : 8;
        if (avail < hl)
            goto trunc;
        o->sport = rd16(d + off);
        o->dport = rd16(d + off + 2);
        o->flags |= BT_PF_PORTS;
        break;
    case 1:  /* ICMP */
    case 58: /* ICMPv6 */
        if (avail < 4)
            goto trunc;
        o->icmp_type = d[off];
        o->icmp_code = d[off + 1];
        hl = 8;
        if ((o->proto == 1 && (o->icmp_type == 8 || o->icmp_type == 0)) ||
            (o->proto == 58 && (o->icmp_type == 128 || o->icmp_type == 129))) {
            if (avail < 8)
                goto trunc;
            o->sport = o->dport = rd16(d + off + 4);
            o->flags |= BT_PF_PORTS;
        } else if (avail < 8) {
            hl = avail;
        }
        break;
    default:
        hl = 0;
        break;
    }
    o->payload_off = (uint16_t)(off + hl);
    return done(o, BT_PARSE_OK);
trunc:
    o->flags |= BT_PF_L4_TRUNC;
    return done(o, BT_PARSE_TRUNCATED);
}

static int finish_payload_len(struct bt_parsed *o, uint32_t l3_end)
{
    /* l3_end: where the IP datagram ends per its length field */
    if (o->status == BT_PARSE_OK)
        o->payload_len = l3_end > o->payload_off ? l3_end - o->payload_off : 0;
    return o->status;
}

static int parse_ipv4(const uint8_t *d, uint32_t caplen, uint32_t off, struct bt_parsed *o)
{
    uint32_t ihl, tot;
    uint16_t frag;

    o->l3_off = (uint16_t)off;
    if (caplen < off + 20)
        return done(o, BT_PARSE_TRUNCATED);
    if (d[off] >> 4 != 4)
        return done(o, BT_PARSE_MALFORMED);
    o->ip_version = 4;
    ihl = (uint32_t)(d[off] & 0x0f) * 4;
    tot = rd16(d + off + 2);
    if (ihl < 20 || tot < ihl)
        return done(o, BT_PARSE_MALFORMED);
    if (caplen < off + ihl)
        return done(o, BT_PARSE_TRUNCATED);
    if (ihl > 20)
        o->flags |= BT_PF_IPOPT;
    o->ip_len = tot;
    o->ttl = d[off + 8];
    o->proto = d[off + 9];
    set_v4(o->src, d + off + 12);
    set_v4(o->dst, d + off + 16);
    frag = rd16(d + off + 6);
    if (frag & 0x3fff) {
        o->flags |= BT_PF_FRAG;
        if (frag & 0x1fff) {
            /* a later fragment: no L4 header here */
            o->flags |= BT_PF_FRAG_LATER;
            o->l4_off = o->payload_off = (uint16_t)(off + ihl);
            o->payload_len = tot - ihl;
            return done(o, BT_PARSE_OK);
        }
    }
    parse_l4(d, caplen, off + ihl, o);
    return finish_payload_len(o, off + tot);
}

static int parse_ipv6(const uint8_t *d, uint32_t caplen, uint32_t off, struct bt_parsed *o)
{
    uint32_t plen, p, end;
    uint8_t nh;

    o->l3_off = (uint16_t)off;
    if (caplen < off + 40)
        return done(o, BT_PARSE_TRUNCATED);
    if (d[off] >> 4 != 6)
        return done(o, BT_PARSE_MALFORMED);
    o->ip_version = 6;
    plen = rd16(d + off + 4);
    o->ip_len = 40 + plen;
    o->ttl = d[off + 7];
    memcpy(o->src, d + off + 8, 16);
    memcpy(o->dst, d + off + 24, 16);
    nh = d[off + 6];
    p = off + 40;
    end = off + 40 + plen;
    /* walk extension headers; bounded by the captured length */
    for (int guard = 0; guard < 16; guard++) {
        switch (nh) {
        case 0:   /* hop-by-hop */
        case 43:  /* routing */
        case 60:  /* destination options */
            if (caplen < p + 2)
                goto trunc;
            o->flags |= BT_PF_V6EXT;
            nh = d[p];
            p += ((uint32_t)d[p + 1] + 1) * 8;
            continue;
        case 51: /* AH: length in 4-byte units, minus 2 */
            if (caplen < p + 2)
                goto trunc;
            o->flags |= BT_PF_V6EXT;
            nh = d[p];
            p += ((uint32_t)d[p + 1] + 2) * 4;
            continue;
        case 44: /* fragment */
            if (caplen < p + 8)
                goto trunc;
            o->flags |= BT_PF_V6EXT | BT_PF_FRAG;
            nh = d[p];
            if (rd16(d + p + 2) & 0xfff8) {
                o->flags |= BT_PF_FRAG_LATER;
                o->proto = nh;
                o->l4_off = o->payload_off = (uint16_t)(p + 8);
                o->payload_len = end > p + 8 ? end - (p + 8) : 0;
                return done(o, BT_PARSE_OK);
            }
            p += 8;
            continue;
        default:
            break;
        }
        break;
    }
    o->proto = nh;
    if (p > 0xffff)
        return done(o, BT_PARSE_MALFORMED);
    parse_l4(d, caplen, p, o);
    return finish_payload_len(o, end);
trunc:
    o->proto = nh;
    return done(o, BT_PARSE_TRUNCATED);
}

static int parse_l3(const uint8_t *d, uint32_t caplen, uint32_t off, uint16_t et,
                    struct bt_parsed *o)
{
    o->ethertype = et;
    if (et == ETH_IPV4)
        return parse_ipv4(d, caplen, off, o);
    if (et == ETH_IPV6)
        return parse_ipv6(d, caplen, off, o);
    return done(o, BT_PARSE_NOT_IP);
}

static int parse_raw(const uint8_t *d, uint32_t caplen, uint32_t off, struct bt_parsed *o)
{
    if (caplen < off + 1)
        return done(o, BT_PARSE_TRUNCATED);
    switch (d[off] >> 4) {
    case 4:
        return parse_l3(d, caplen, off, ETH_IPV4, o);
    case 6:
        return parse_l3(d, caplen, off, ETH_IPV6, o);
    default:
        return done(o, BT_PARSE_NOT_IP);
    }
}

static int parse_eth(const uint8_t *d, uint32_t caplen, struct bt_parsed *o)
{
    uint32_t off = 12;
    uint16_t et;

    if (caplen < 14)
        return done(o, BT_PARSE_TRUNCATED);
    et = rd16(d + 12);
    off = 14;
    while (et == ETH_VLAN || et == ETH_QINQ || et == ETH_QINQ_OLD) {
        if (caplen < off + 4)
            return done(o, BT_PARSE_TRUNCATED);
        if (o->nvlan < 2)
            o->vlan[o->nvlan] = rd16(d + off) & 0x0fff;
        o->nvlan++;
        o->flags |= BT_PF_VLAN;
        if (o->nvlan >= 2)
            o->flags |= BT_PF_QINQ;
        et = rd16(d + off + 2);
        off += 4;
        if (o->nvlan > 8)
            return done(o, BT_PARSE_MALFORMED);
    }
    if (o->nvlan > 2)
        o->nvlan = 2;
    if (et < 0x0600) /* an 802.3 length field: LLC, not IP */
        return done(o, BT_PARSE_NOT_IP);
    return parse_l3(d, caplen, off, et, o);
}

static int parse_null(const uint8_t *d, uint32_t caplen, int link, struct bt_parsed *o)
{
    uint32_t af;

    if (caplen < 4)
        return done(o, BT_PARSE_TRUNCATED);
    /* DLT_NULL: host order of the writer; DLT_LOOP: network order. Accept both. */
    af = (uint32_t)d[0] | (uint32_t)d[1] << 8 | (uint32_t)d[2] << 16 | (uint32_t)d[3] << 24;
    if (link == BT_LINK_LOOP || af > 0xffff)
        af = rd32(d);
    switch (af) {
    case 2:
        return parse_l3(d, caplen, 4, ETH_IPV4, o);
    case 10: case 24: case 28: case 30:
        return parse_l3(d, caplen, 4, ETH_IPV6, o);
    default:
        return done(o, BT_PARSE_NOT_IP);
    }
}

/* The common frame, Ethernet without tags, IPv4 without options, not a
 * fragment, TCP or UDP with its header captured, in one straight pass: what
 * parse_eth, parse_ipv4 and parse_l4 would fill, without their calls and
 * checks of cases it is not (a gateway parses every packet: ~55 instead of
 * ~160 instructions). False, with nothing written, for anything else. */
static inline bool parse_fast(const uint8_t *d, uint32_t caplen, struct bt_parsed *o)
{
    uint32_t tot, hl, end;
    uint8_t proto;

    if (caplen < 42 || rd16(d + 12) != ETH_IPV4 || d[14] != 0x45 || (rd16(d + 20) & 0x3fff))
        return false;
    tot = rd16(d + 16);
    proto = d[23];
    if (tot < 20)
        return false;
    if (proto == 6) {
        if (caplen < 54)
            return false;
        hl = (uint32_t)(d[46] >> 4) * 4;
        if (hl < 20 || caplen - 34 < hl)
            return false;
        o->seq = rd32(d + 38);
        o->ack = rd32(d + 42);
        o->tcp_hlen = (uint8_t)hl;
        o->tcp_flags = d[47] & 0x3f;
        o->window = rd16(d + 48);
    } else if (proto == 17) {
        hl = 8;
    } else {
        return false;
    }
    o->ip_version = 4;
    o->proto = proto;
    o->ethertype = ETH_IPV4;
    o->flags = BT_PF_PORTS;
    o->l3_off = 14;
    o->l4_off = 34;
    o->payload_off = (uint16_t)(34 + hl);
    end = 14 + tot;
    o->payload_len = end > 34 + hl ? end - (34 + hl) : 0;
    o->ip_len = tot;
    o->ttl = d[22];
    /* v4-mapped: the ten zero bytes are the memset's */
    o->src[10] = o->src[11] = 0xff;
    memcpy(o->src + 12, d + 26, 4);
    o->dst[10] = o->dst[11] = 0xff;
    memcpy(o->dst + 12, d + 30, 4);
    o->sport = rd16(d + 34);
    o->dport = rd16(d + 36);
    return true;
}

int bt_parse(const uint8_t *data, uint32_t caplen, int link, struct bt_parsed *out)
{
    memset(out, 0, sizeof(*out));
    if (!data)
        caplen = 0;
    switch (link) {
    case BT_LINK_ETHERNET:
        if (parse_fast(data, caplen, out))
            return BT_PARSE_OK;
        return parse_eth(data, caplen, out);
    case BT_LINK_RAW:
    case 12:
    case 14:
        return parse_raw(data, caplen, 0, out);
    case BT_LINK_IPV4:
        return parse_l3(data, caplen, 0, ETH_IPV4, out);
    case BT_LINK_IPV6:
        return parse_l3(data, caplen, 0, ETH_IPV6, out);
    case BT_LINK_NULL:
    case BT_LINK_LOOP:
        return parse_null(data, caplen, link, out);
    case BT_LINK_SLL: /* 16-byte header, protocol at 14 */
        if (caplen < 16)
            return done(out, BT_PARSE_TRUNCATED);
        return parse_l3(data, caplen, 16, rd16(data + 14), out);
    case BT_LINK_SLL2: /* 20-byte header, protocol at 0 */
        if (caplen < 20)
            return done(out, BT_PARSE_TRUNCATED);
        return parse_l3(data, caplen, 20, rd16(data), out);
    default:
        return done(out, BT_PARSE_UNSUPPORTED_LINK);
    }
}

char *bt_addr_fmt(const uint8_t a[16], char *buf, unsigned len)
{
    if (len == 0)
        return buf;
    if (!inet_ntop(bt_addr_is_v4(a) ? AF_INET : AF_INET6, bt_addr_is_v4(a) ? a + 12 : a, buf,
                   len))
        buf[0] = 0;
    return buf;
}

int bt_addr_parse(const char *s, uint8_t out[16])
{
    uint8_t tmp[16];

    if (inet_pton(AF_INET, s, tmp) == 1) {
        set_v4(out, tmp);
        return 0;
    }
    if (inet_pton(AF_INET6, s, tmp) == 1) {
        memcpy(out, tmp, 16);
        return 0;
    }
    return -EINVAL;
}
