/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * CIDR prefixes in one 128-bit space (IPv4 as ::ffff:0:0/96 + v4), and the
 * client-side rule shared by tgen and verify.
 */
#include "bt_cidr.h"
#include "bt_parse.h"

#include <arpa/inet.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int bt_cidr_parse(const char *s, struct bt_cidr *out)
{
    char buf[64];
    const char *slash = strchr(s, '/');
    size_t n = slash ? (size_t)(slash - s) : strlen(s);
    uint8_t a[16];
    long plen;
    int v4;

    if (n == 0 || n >= sizeof(buf))
        return -EINVAL;
    memcpy(buf, s, n);
    buf[n] = 0;
    if (bt_addr_parse(buf, a) < 0)
        return -EINVAL;
    v4 = bt_addr_is_v4(a) && strchr(buf, ':') == NULL;
    if (slash) {
        char *end;
        /* digits only: strtol would also take "/ 8", "/+8" */
        if (slash[1] < '0' || slash[1] > '9')
            return -EINVAL;
        plen = strtol(slash + 1, &end, 10);
        if (*end || plen < 0 || plen > (v4 ? 32 : 128))
            return -EINVAL;
    } else {
        plen = v4 ? 32 : 128;
    }
    if (v4)
        plen += 96;
    /* keep the network part only */
    for (int i = 0; i < 16; i++) {
        int bits = (int)plen - i * 8;
        if (bits >= 8)
            continue;
        a[i] &= bits <= 0 ? 0 : (uint8_t)(0xff << (8 - bits));
    }
    memcpy(out->addr, a, 16);
    out->plen = (uint8_t)plen;
    out->family = v4 ? 4 : 6;
    return 0;
}

bool bt_cidr_match(const struct bt_cidr *c, const uint8_t addr[16])
{
    unsigned full = c->plen / 8, rest = c->plen % 8;

    if (memcmp(c->addr, addr, full) != 0)
        return false;
    if (rest && ((c->addr[full] ^ addr[full]) & (uint8_t)(0xff << (8 - rest))))
        return false;
    return true;
}

uint64_t bt_cidr_size(const struct bt_cidr *c)
{
    unsigned host = 128u - c->plen;

    return host >= 64 ? UINT64_MAX : (uint64_t)1 << host;
}

void bt_cidr_nth(const struct bt_cidr *c, uint64_t i, uint8_t out[16])
{
    uint64_t size = bt_cidr_size(c);

    if (size != UINT64_MAX)
        i %= size;
    memcpy(out, c->addr, 16);
    /* add i to the low 64 bits (host part fits there when size is finite) */
    for (int b = 15; b >= 8 && i; b--) {
        unsigned v = out[b] + (unsigned)(i & 0xff);
        out[b] = (uint8_t)v;
        i = (i >> 8) + (v >> 8);
    }
}

char *bt_cidr_fmt(const struct bt_cidr *c, char *buf, unsigned len)
{
    char a[64];

    /* a v6 prefix over v4-mapped addresses (::ffff:10.0.0.0/120) keeps its
     * v6 form: "10.0.0.0/120" would not parse back */
    if (c->family == 6 && bt_addr_is_v4(c->addr)) {
        if (!inet_ntop(AF_INET6, c->addr, a, sizeof(a)))
            a[0] = 0;
    } else {
        bt_addr_fmt(c->addr, a, sizeof(a));
    }
    snprintf(buf, len, "%s/%u", a, c->family == 4 ? c->plen - 96u : c->plen);
    return buf;
}

enum bt_client_verdict bt_client_side(const struct bt_parsed *p, const struct bt_cidr *clients,
                                      unsigned n)
{
    for (unsigned i = 0; i < n; i++) {
        bool s = bt_cidr_match(&clients[i], p->src), d = bt_cidr_match(&clients[i], p->dst);
        if (s && !d)
            return BT_CLIENT_SRC;
        if (d && !s)
            return BT_CLIENT_DST;
    }
    if (p->proto == 6 && (p->flags & BT_PF_PORTS) && (p->tcp_flags & BT_TCP_SYN)) {
        if (!(p->tcp_flags & BT_TCP_ACK))
            return BT_CLIENT_SRC;
        return BT_CLIENT_DST;
    }
    return BT_CLIENT_UNKNOWN;
}
