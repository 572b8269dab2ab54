/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Internet checksum (RFC 1071) and incremental update (RFC 1624 eqn. 3:
 * HC' = ~(~HC + ~m + m')). Values are handled as they sit in the packet
 * (network byte order), so callers pass raw 16-bit words.
 */
#include "bt_csum.h"
#include "bt_parse.h"

#include <errno.h>
#include <string.h>

uint32_t bt_csum_partial(const void *data, uint32_t len, uint32_t sum)
{
    const uint8_t *p = data;
    uint64_t s = sum;

    while (len >= 2) {
        uint16_t w;
        memcpy(&w, p, 2);
        s += w;
        p += 2;
        len -= 2;
    }
    if (len) {
        uint16_t w = 0;
        memcpy(&w, p, 1);
        s += w;
    }
    while (s >> 32)
        s = (s & 0xffffffff) + (s >> 32);
    return (uint32_t)s;
}

uint16_t bt_csum_fold(uint32_t sum)
{
    while (sum >> 16)
        sum = (sum & 0xffff) + (sum >> 16);
    return (uint16_t)~sum;
}

uint16_t bt_csum_update16(uint16_t csum, uint16_t old, uint16_t new_)
{
    uint32_t s = (uint16_t)~csum;

    s += (uint16_t)~old;
    s += new_;
    return bt_csum_fold(s);
}

uint16_t bt_csum_update32(uint16_t csum, uint32_t old, uint32_t new_)
{
    csum = bt_csum_update16(csum, (uint16_t)(old >> 16), (uint16_t)(new_ >> 16));
    return bt_csum_update16(csum, (uint16_t)old, (uint16_t)new_);
}

uint16_t bt_csum_update128(uint16_t csum, const uint8_t old[16], const uint8_t new_[16])
{
    uint32_t s = (uint16_t)~csum;

    for (int i = 0; i < 16; i += 2) {
        uint16_t o, n;
        memcpy(&o, old + i, 2);
        memcpy(&n, new_ + i, 2);
        s += (uint16_t)~o;
        s += n;
    }
    return bt_csum_fold(s);
}

void bt_csum_ipv4_hdr(uint8_t *ip)
{
    uint32_t ihl = (uint32_t)(ip[0] & 0x0f) * 4;
    uint16_t c;

    ip[10] = ip[11] = 0;
    c = bt_csum_fold(bt_csum_partial(ip, ihl, 0));
    memcpy(ip + 10, &c, 2);
}

/* Offset of the checksum field within the L4 header, or -1. */
static int csum_field(uint8_t proto)
{
    switch (proto) {
    case 6: return 16;
    case 17: return 6;
    case 1: case 58: return 2;
    default: return -1;
    }
}

/* The IPv6 pseudo-header's destination: the final one (RFC 8200 8.1). A
 * routing header with segments left names it: the last address of type 0
 * or 2 (RFC 6275), the last of type 3 (RFC 6554) with its first CmprE
 * bytes from the IPv6 destination, segment list [0] of type 4 (RFC 8754);
 * else (no segment left, another type) the IPv6 destination, as Wireshark
 * takes it. */
static const uint8_t *v6_final_dst(const uint8_t *frame, const struct bt_parsed *p,
                                   uint8_t buf[16])
{
    const uint8_t *ip = frame + p->l3_off, *dst = p->dst;
    uint32_t off = 40, end = (uint32_t)p->l4_off - p->l3_off;
    uint8_t nh = ip[6];

    if (!(p->flags & BT_PF_V6EXT) || p->l4_off < p->l3_off)
        return dst;
    while (off + 8 <= end && (nh == 0 || nh == 43 || nh == 60 || nh == 51)) {
        const uint8_t *h = ip + off;
        uint32_t len = nh == 51 ? ((uint32_t)h[1] + 2) * 4 : ((uint32_t)h[1] + 1) * 8;
        if (off + len > end)
            break;
        if (nh == 43 && h[3] > 0) {
            if ((h[2] == 0 || h[2] == 2) && h[1] >= 2) {
                dst = h + 8 + (h[1] / 2 - 1) * 16u;
            } else if (h[2] == 4 && h[1] >= 2) {
                dst = h + 8;
            } else if (h[2] == 3) {
                unsigned ci = h[4] >> 4, ce = h[4] & 15, pad = h[5] >> 4;
                unsigned body = h[1] * 8u, last = 16 - ce;
                if (body >= pad + last) {
                    unsigned n = (body - pad - last) / (16 - ci);
                    memcpy(buf, p->dst, ce);
                    memcpy(buf + ce, h + 8 + n * (16 - ci), last);
                    dst = buf;
                }
            }
        }
        nh = h[0];
        off += len;
    }
    return dst;
}

/* Sum of the pseudo-header (none for ICMPv4) for an L4 segment of l4len. */
static uint32_t pseudo(const uint8_t *frame, const struct bt_parsed *p, uint32_t l4len)
{
    uint32_t s = 0;
    uint8_t tail[4];

    if (p->proto == 1)
        return 0;
    if (p->ip_version == 4) {
        s = bt_csum_partial(frame + p->l3_off + 12, 8, 0);
        tail[0] = 0;
        tail[1] = p->proto;
        tail[2] = (uint8_t)(l4len >> 8);
        tail[3] = (uint8_t)l4len;
        return bt_csum_partial(tail, 4, s);
    }
    uint8_t fin[16];
    s = bt_csum_partial(p->src, 16, 0);
    s = bt_csum_partial(v6_final_dst(frame, p, fin), 16, s);
    uint8_t t6[8] = {(uint8_t)(l4len >> 24), (uint8_t)(l4len >> 16), (uint8_t)(l4len >> 8),
                     (uint8_t)l4len, 0, 0, 0, p->proto};
    return bt_csum_partial(t6, 8, s);
}

/* The L4 segment's extent, when fully captured. */
static int l4_extent(uint32_t caplen, const struct bt_parsed *p, uint32_t *len)
{
    uint32_t end;

    if (p->status != BT_PARSE_OK || (p->flags & BT_PF_FRAG) || !p->l4_off ||
        csum_field(p->proto) < 0)
        return -EINVAL;
    end = p->l3_off + p->ip_len;
    if (end > caplen || end < p->l4_off + 8u)
        return -EINVAL;
    *len = end - p->l4_off;
    return 0;
}

int bt_csum_fix(uint8_t *frame, uint32_t caplen, const struct bt_parsed *p)
{
    uint32_t len;
    int f;
    uint16_t c, zero = 0;

    if (p->ip_version == 4 && p->status == BT_PARSE_OK)
        bt_csum_ipv4_hdr(frame + p->l3_off);
    if (l4_extent(caplen, p, &len) < 0)
        return -EINVAL;
    f = csum_field(p->proto);
    uint8_t *l4 = frame + p->l4_off;
    if (p->proto == 17 && p->ip_version == 4 && memcmp(l4 + 6, &zero, 2) == 0)
        return 0; /* UDP over IPv4 without checksum stays without */
    memset(l4 + f, 0, 2);
    c = bt_csum_fold(bt_csum_partial(l4, len, pseudo(frame, p, len)));
    if (p->proto == 17 && c == 0)
        c = 0xffff;
    memcpy(l4 + f, &c, 2);
    return 0;
}

int bt_csum_check(const uint8_t *frame, uint32_t caplen, const struct bt_parsed *p)
{
    uint32_t len;
    uint16_t zero = 0;

    if (p->ip_version == 4 && p->status == BT_PARSE_OK) {
        uint32_t ihl = (uint32_t)(frame[p->l3_off] & 0x0f) * 4;
        if (bt_csum_fold(bt_csum_partial(frame + p->l3_off, ihl, 0)) != 0)
            return -EBADMSG;
    }
    if (l4_extent(caplen, p, &len) < 0)
        return -EINVAL;
    const uint8_t *l4 = frame + p->l4_off;
    if (p->proto == 17 && p->ip_version == 4 && memcmp(l4 + 6, &zero, 2) == 0)
        return 0;
    return bt_csum_fold(bt_csum_partial(l4, len, pseudo(frame, p, len))) == 0 ? 0 : -EBADMSG;
}
