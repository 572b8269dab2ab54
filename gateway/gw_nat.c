/* SPDX-License-Identifier: BSD-3-Clause */
/* Hide-NAT address and port choice, and the header rewrite. */
#include "gw_nat.h"

#include <errno.h>
#include <string.h>

#include "bt_csum.h"
#include "bt_hash.h"
#include "bt_parse.h"
#include "gw_api.h"

int gw_nat_slice(const struct gw_config *c, int id, uint16_t *lo, uint16_t *hi)
{
    unsigned span = (unsigned)c->nat_port_hi - c->nat_port_lo + 1, per = span / GW_MAX_MEMBERS;

    if (c->nat_port_hi < c->nat_port_lo || per == 0 || id < 1 || id > GW_MAX_MEMBERS)
        return -EINVAL;
    *lo = (uint16_t)(c->nat_port_lo + (unsigned)(id - 1) * per);
    *hi = (uint16_t)(*lo + per - 1);
    return 0;
}

int gw_nat_port_owner(const struct gw_config *c, uint16_t port)
{
    unsigned span = (unsigned)c->nat_port_hi - c->nat_port_lo + 1, per = span / GW_MAX_MEMBERS;
    unsigned id;

    if (per == 0 || port < c->nat_port_lo || port > c->nat_port_hi)
        return 0;
    id = (unsigned)(port - c->nat_port_lo) / per + 1;
    return id <= GW_MAX_MEMBERS ? (int)id : 0;
}

bool gw_nat_in_pool(const struct gw_config *c, const uint8_t addr[16])
{
    return c->nat && bt_cidr_match(&c->nat_pool, addr);
}

uint32_t gw_nat_addr_for(const struct gw_config *c, const uint8_t client[16])
{
    uint8_t a[16];
    uint64_t h = 0;

    for (unsigned i = 0; i < 16; i++)
        h = h * 131 + client[i];
    bt_cidr_nth(&c->nat_pool, bt_mix64(h), a);
    return (uint32_t)a[12] << 24 | (uint32_t)a[13] << 16 | (uint32_t)a[14] << 8 | a[15];
}

static uint16_t rd16(const uint8_t *p)
{
    uint16_t v;
    memcpy(&v, p, 2);
    return v;
}

static uint32_t rd32(const uint8_t *p)
{
    uint32_t v;
    memcpy(&v, p, 4);
    return v;
}

void gw_nat_rewrite(uint8_t *frame, struct bt_parsed *p, bool src, uint32_t addr, uint16_t port)
{
    uint8_t *ip = frame + p->l3_off, *l4 = frame + p->l4_off;
    uint8_t *a = ip + (src ? 12 : 16);
    uint8_t na[4] = {(uint8_t)(addr >> 24), (uint8_t)(addr >> 16), (uint8_t)(addr >> 8), (uint8_t)addr};
    uint8_t np[2] = {(uint8_t)(port >> 8), (uint8_t)port};
    uint32_t olda = rd32(a), newa = rd32(na);
    uint16_t sum, oldp, newp = rd16(np);
    bool l4ok = !(p->flags & (BT_PF_FRAG_LATER | BT_PF_L4_TRUNC)) && (p->flags & BT_PF_PORTS);

    /* IP header checksum */
    memcpy(&sum, ip + 10, 2);
    sum = bt_csum_update32(sum, olda, newa);
    memcpy(ip + 10, &sum, 2);
    memcpy(a, na, 4);
    if (l4ok) {
        uint8_t *pp = NULL, *cs = NULL;
        bool pseudo = true;
        switch (p->proto) {
        case 6:
            pp = l4 + (src ? 0 : 2);
            cs = l4 + 16;
            break;
        case 17:
            pp = l4 + (src ? 0 : 2);
            cs = l4 + 6;
            if (!rd16(cs))
                cs = NULL;  /* UDP over IPv4 without checksum stays without */
            break;
        case 1:
            pp = l4 + 4;    /* echo identifier */
            cs = l4 + 2;
            pseudo = false;
            break;
        }
        if (pp) {
            oldp = rd16(pp);
            if (cs) {
                memcpy(&sum, cs, 2);
                if (pseudo)
                    sum = bt_csum_update32(sum, olda, newa);
                sum = bt_csum_update16(sum, oldp, newp);
                if (p->proto == 17 && sum == 0)
                    sum = 0xffff;
                memcpy(cs, &sum, 2);
            }
            memcpy(pp, np, 2);
        }
    }
    memcpy(src ? p->src + 12 : p->dst + 12, na, 4);
    if (p->flags & BT_PF_PORTS) {
        if (p->proto == 1)
            p->sport = p->dport = port;
        else if (src)
            p->sport = port;
        else
            p->dport = port;
    }
}
