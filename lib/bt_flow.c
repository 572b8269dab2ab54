/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Flow keys and Community ID v1 (https://github.com/corelight/community-id-spec):
 *   base64(sha1(seed16 | saddr | daddr | proto | 0 | sport16 | dport16))
 * over the ordered tuple (smaller endpoint first), with ICMP type/code in
 * place of ports and the ICMP "one-way" rule for types without a reply.
 */
#include "bt_flow.h"
#include "bt_hash.h"
#include "bt_parse.h"

#include <errno.h>
#include <nettle/base64.h>
#include <nettle/sha1.h>
#include <stdio.h>
#include <string.h>

int bt_flow_key_from_parsed(const struct bt_parsed *p, struct bt_flow_key *k)
{
    if (p->ip_version != 4 && p->ip_version != 6)
        return -EINVAL;
    memset(k, 0, sizeof(*k));
    memcpy(k->src, p->src, 16);
    memcpy(k->dst, p->dst, 16);
    if (p->flags & BT_PF_PORTS) {
        k->sport = p->sport;
        k->dport = p->dport;
    }
    k->proto = p->proto;
    k->family = p->ip_version;
    return 0;
}

/* 8 address bytes as a big-endian number: two of them order an address
 * as memcmp does, in two compares instead of a call */
static inline uint64_t be64_at(const uint8_t *p)
{
    uint64_t v;

    memcpy(&v, p, 8);
#if __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
    v = __builtin_bswap64(v);
#endif
    return v;
}

/* <0 when endpoint (a, ap) sorts before (b, bp): addresses byte-wise
 * (memcmp order), then ports */
static int ep_cmp(const uint8_t a[16], uint16_t ap, const uint8_t b[16], uint16_t bp)
{
    uint64_t x = be64_at(a), y = be64_at(b);

    if (x == y) {
        x = be64_at(a + 8);
        y = be64_at(b + 8);
    }
    if (x != y)
        return x < y ? -1 : 1;
    return (int)ap - (int)bp;
}

void bt_flow_key_reverse(const struct bt_flow_key *k, struct bt_flow_key *out)
{
    struct bt_flow_key r = *k;

    memcpy(r.src, k->dst, 16);
    memcpy(r.dst, k->src, 16);
    r.sport = k->dport;
    r.dport = k->sport;
    *out = r;
}

int bt_flow_key_canon(const struct bt_flow_key *k, struct bt_flow_key *out)
{
    if (ep_cmp(k->src, k->sport, k->dst, k->dport) <= 0) {
        if (out != k)
            *out = *k;
        return 0;
    }
    bt_flow_key_reverse(k, out);
    return 1;
}

bool bt_flow_key_eq(const struct bt_flow_key *a, const struct bt_flow_key *b)
{
    return memcmp(a, b, sizeof(*a)) == 0;
}

uint64_t bt_flow_key_hash(const struct bt_flow_key *k, uint64_t seed)
{
    uint64_t w[5], h = bt_mix64(seed + 0x9e3779b97f4a7c15ULL);

    memcpy(w, k, sizeof(w));
    for (int i = 0; i < 5; i++)
        h = bt_mix64(h ^ w[i]);
    return h;
}

char *bt_flow_key_fmt(const struct bt_flow_key *k, char *buf, unsigned len)
{
    char s[64], d[64];
    const char *pn;
    char pbuf[8];
    int v6 = !bt_addr_is_v4(k->src);

    switch (k->proto) {
    case 6: pn = "tcp"; break;
    case 17: pn = "udp"; break;
    case 1: pn = "icmp"; break;
    case 58: pn = "icmp6"; break;
    case 132: pn = "sctp"; break;
    default:
        snprintf(pbuf, sizeof(pbuf), "%u", k->proto);
        pn = pbuf;
    }
    bt_addr_fmt(k->src, s, sizeof(s));
    bt_addr_fmt(k->dst, d, sizeof(d));
    snprintf(buf, len, v6 ? "%s [%s]:%u -> [%s]:%u" : "%s %s:%u -> %s:%u", pn, s, k->sport, d,
             k->dport);
    return buf;
}

/* ICMP types with a counterpart (the spec's port-equivalent tables). */
static int icmp_counterpart(uint8_t proto, uint8_t type, int *other)
{
    static const uint8_t v4[][2] = {{8, 0}, {0, 8}, {13, 14}, {14, 13}, {15, 16}, {16, 15},
                                    {10, 9}, {17, 18}, {18, 17}};
    static const uint8_t v6[][2] = {{128, 129}, {129, 128}, {133, 134}, {134, 133},
                                    {135, 136}, {136, 135}, {130, 131}, {131, 130},
                                    {139, 140}, {140, 139}, {144, 145}, {145, 144}};
    const uint8_t(*t)[2] = proto == 1 ? v4 : v6;
    unsigned n = proto == 1 ? sizeof(v4) / sizeof(v4[0]) : sizeof(v6) / sizeof(v6[0]);

    for (unsigned i = 0; i < n; i++) {
        if (t[i][0] == type) {
            *other = t[i][1];
            return 1;
        }
    }
    return 0;
}

/* p1/p2: ports or ICMP port equivalents; one_way: keep the given order. */
static int community_id(const uint8_t *src, const uint8_t *dst, int alen, uint8_t proto,
                        uint16_t p1, uint16_t p2, int has_ports, int one_way, uint16_t seed,
                        char *buf, unsigned len)
{
    struct sha1_ctx ctx;
    uint8_t digest[SHA1_DIGEST_SIZE];
    uint8_t hdr[2], pad = 0, port[4];
    char b64[BASE64_ENCODE_RAW_LENGTH(SHA1_DIGEST_SIZE) + 1];
    int c = memcmp(src, dst, (size_t)alen);

    if (len < 3 + sizeof(b64))
        return -ENOSPC;
    if (!one_way && !(c < 0 || (c == 0 && p1 < p2))) {
        const uint8_t *t = src;
        uint16_t tp = p1;
        src = dst;
        dst = t;
        p1 = p2;
        p2 = tp;
    }
    sha1_init(&ctx);
    hdr[0] = (uint8_t)(seed >> 8);
    hdr[1] = (uint8_t)seed;
    sha1_update(&ctx, 2, hdr);
    sha1_update(&ctx, (size_t)alen, src);
    sha1_update(&ctx, (size_t)alen, dst);
    sha1_update(&ctx, 1, &proto);
    sha1_update(&ctx, 1, &pad);
    if (has_ports) {
        port[0] = (uint8_t)(p1 >> 8);
        port[1] = (uint8_t)p1;
        port[2] = (uint8_t)(p2 >> 8);
        port[3] = (uint8_t)p2;
        sha1_update(&ctx, 4, port);
    }
    sha1_digest(&ctx, SHA1_DIGEST_SIZE, digest);
    base64_encode_raw((char *)b64, SHA1_DIGEST_SIZE, digest);
    b64[BASE64_ENCODE_RAW_LENGTH(SHA1_DIGEST_SIZE)] = 0;
    snprintf(buf, len, "1:%s", b64);
    return 0;
}

static int is_icmp(uint8_t proto)
{
    return proto == 1 || proto == 58;
}

static int has_ports_proto(uint8_t proto)
{
    return proto == 6 || proto == 17 || proto == 132 || is_icmp(proto);
}

int bt_community_id(const struct bt_flow_key *k, uint16_t seed, char *buf, unsigned len)
{
    int v4 = k->family == 4;
    const uint8_t *s = v4 ? k->src + 12 : k->src, *d = v4 ? k->dst + 12 : k->dst;

    if (is_icmp(k->proto)) {
        /* A key keeps the echo id, not the type: the only ICMP flows with
         * keys are echo exchanges, taken as requested by the key's source. */
        uint16_t req = k->proto == 1 ? 8 : 128, rep = k->proto == 1 ? 0 : 129;
        return community_id(s, d, v4 ? 4 : 16, k->proto, req, rep, 1, 0, seed, buf, len);
    }
    return community_id(s, d, v4 ? 4 : 16, k->proto, k->sport, k->dport,
                        has_ports_proto(k->proto), 0, seed, buf, len);
}

int bt_community_id_parsed(const struct bt_parsed *p, uint16_t seed, char *buf, unsigned len)
{
    int v4 = p->ip_version == 4, one_way = 0, ports;
    uint16_t p1 = p->sport, p2 = p->dport;

    if (p->ip_version != 4 && p->ip_version != 6)
        return -EINVAL;
    ports = has_ports_proto(p->proto) && !(p->flags & BT_PF_FRAG_LATER) &&
            (is_icmp(p->proto) ? p->l4_off && p->status != BT_PARSE_TRUNCATED
                               : (p->flags & BT_PF_PORTS) != 0);
    if (is_icmp(p->proto)) {
        int other;
        p1 = p->icmp_type;
        if (icmp_counterpart(p->proto, p->icmp_type, &other)) {
            p2 = (uint16_t)other;
        } else {
            p2 = p->icmp_code;
            one_way = 1;
        }
    }
    return community_id(v4 ? p->src + 12 : p->src, v4 ? p->dst + 12 : p->dst, v4 ? 4 : 16,
                        p->proto, p1, p2, ports, one_way, seed, buf, len);
}
