/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Frame builders for unit tests, written from the RFCs independently of
 * lib/bt_parse.c so the parser is checked against something it did not make.
 */
#ifndef PKTBUILD_H
#define PKTBUILD_H

#include <stdint.h>
#include <string.h>

static inline void pb16(uint8_t *p, uint16_t v) { p[0] = (uint8_t)(v >> 8); p[1] = (uint8_t)v; }
static inline void pb32(uint8_t *p, uint32_t v) { pb16(p, (uint16_t)(v >> 16)); pb16(p + 2, (uint16_t)v); }

/* Ethernet header with optional tags (tpid 0 = none). Returns its length. */
static inline unsigned pb_eth(uint8_t *f, uint16_t tpid1, uint16_t vid1, uint16_t tpid2,
                              uint16_t vid2, uint16_t ethertype)
{
    unsigned o = 12;
    memset(f, 0, 12);
    f[0] = 0x02; f[6] = 0x02; f[11] = 1;
    if (tpid1) { pb16(f + o, tpid1); pb16(f + o + 2, vid1); o += 4; }
    if (tpid2) { pb16(f + o, tpid2); pb16(f + o + 2, vid2); o += 4; }
    pb16(f + o, ethertype);
    return o + 2;
}

/* IPv4 header (ihl in 32-bit words, options zero-filled). Returns its length. */
static inline unsigned pb_ip4(uint8_t *p, unsigned ihl, uint16_t total, uint16_t frag,
                              uint8_t proto, uint32_t src, uint32_t dst)
{
    memset(p, 0, ihl * 4);
    p[0] = (uint8_t)(0x40 | ihl);
    pb16(p + 2, total);
    pb16(p + 6, frag);
    p[8] = 64;
    p[9] = proto;
    pb32(p + 12, src);
    pb32(p + 16, dst);
    return ihl * 4;
}

static inline unsigned pb_ip6(uint8_t *p, uint16_t plen, uint8_t nh, uint8_t srclast,
                              uint8_t dstlast)
{
    memset(p, 0, 40);
    p[0] = 0x60;
    pb16(p + 4, plen);
    p[6] = nh;
    p[7] = 64;
    p[8] = 0x20; p[9] = 0x01; p[10] = 0x0d; p[11] = 0xb8; p[23] = srclast;
    p[24] = 0x20; p[25] = 0x01; p[26] = 0x0d; p[27] = 0xb8; p[39] = dstlast;
    return 40;
}

static inline unsigned pb_tcp(uint8_t *p, uint16_t sp, uint16_t dp, uint32_t seq, uint32_t ack,
                              uint8_t flags, unsigned hlen)
{
    memset(p, 0, hlen);
    pb16(p, sp);
    pb16(p + 2, dp);
    pb32(p + 4, seq);
    pb32(p + 8, ack);
    p[12] = (uint8_t)((hlen / 4) << 4);
    p[13] = flags;
    pb16(p + 14, 65535);
    return hlen;
}

static inline unsigned pb_udp(uint8_t *p, uint16_t sp, uint16_t dp, uint16_t len)
{
    pb16(p, sp);
    pb16(p + 2, dp);
    pb16(p + 4, len);
    pb16(p + 6, 0);
    return 8;
}

#endif
