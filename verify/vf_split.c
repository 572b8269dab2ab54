/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * baton-verify split: one aggregated tap (many labs have one) into a capture
 * set, by outer VLAN id, by the member's MAC address (source or
 * destination), or by capture interface, with a map of key -> member.
 * Packets come from lib/bt_pcap (libpcap); the interface of each pcapng
 * packet, which libpcap does not expose, comes from a walk over the same
 * file's blocks beside it (the same packet blocks, in the same order).
 */
#include "vf_api.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bt_capset.h"
#include "bt_err.h"
#include "bt_parse.h"
#include "bt_pcap.h"

static int parse_mac(const char *s, size_t len, uint8_t out[6])
{
    unsigned v[6];
    char buf[32];
    int end = 0;

    if (len >= sizeof(buf))
        return -EINVAL;
    memcpy(buf, s, len);
    buf[len] = 0;
    if (sscanf(buf, "%2x:%2x:%2x:%2x:%2x:%2x%n", &v[0], &v[1], &v[2], &v[3], &v[4], &v[5],
               &end) != 6 || (size_t)end != len)
        return -EINVAL;
    for (int i = 0; i < 6; i++)
        out[i] = (uint8_t)v[i];
    return 0;
}

int vf_split_map_parse(const char *s, enum vf_split_by by, struct vf_split_map *m, struct bt_err *e)
{
    const char *p = s;

    memset(m, 0, sizeof(*m));
    while (*p) {
        size_t len = strcspn(p, ","), eq = strcspn(p, "=");
        char *end;
        long sgm;
        if (eq >= len)
            return bt_err_set(e, "--map '%s': at offset %zu: expected KEY=SGM", s, (size_t)(p - s));
        sgm = strtol(p + eq + 1, &end, 10);
        if (end != p + len || sgm < 1 || sgm > 64)
            return bt_err_set(e, "--map '%s': at offset %zu: member must be 1..64", s,
                              (size_t)(p + eq + 1 - s));
        if (m->n >= VF_MAX_MEMBERS * 4)
            return bt_err_set(e, "--map '%s': too many entries", s);
        struct vf_split_entry *en = &m->e[m->n];
        if (by == VF_SPLIT_INTERFACE) {
            unsigned long long v;
            size_t klen = eq;
            if (klen == 0 || klen >= sizeof(en->ifname))
                return bt_err_set(e, "--map '%s': at offset %zu: expected an interface number "
                                  "or a name of at most %zu bytes", s, (size_t)(p - s),
                                  sizeof(en->ifname) - 1);
            v = strtoull(p, &end, 10);
            if (end == p + eq && p[0] != '-' && p[0] != '+' && v <= UINT32_MAX) {
                en->ifindex = (uint32_t)v;
            } else {
                for (size_t i = 0; i < klen; i++)
                    if (p[i] == '=' || p[i] == ',' || (unsigned char)p[i] < 0x21)
                        return bt_err_set(e, "--map '%s': at offset %zu: bad interface name", s,
                                          (size_t)(p - s));
                memcpy(en->ifname, p, klen);
                en->ifname[klen] = 0;
            }
        } else if (by == VF_SPLIT_VLAN) {
            long vid = strtol(p, &end, 10);
            if (end != p + eq || vid < 0 || vid > 4095)
                return bt_err_set(e, "--map '%s': at offset %zu: VLAN id must be 0..4095", s,
                                  (size_t)(p - s));
            en->vlan = (uint16_t)vid;
        } else if (parse_mac(p, eq, en->mac) < 0) {
            return bt_err_set(e, "--map '%s': at offset %zu: expected a MAC like 02:00:00:00:00:01",
                              s, (size_t)(p - s));
        }
        for (unsigned i = 0; i < m->n; i++) {
            const struct vf_split_entry *o = &m->e[i];
            bool same = by == VF_SPLIT_INTERFACE
                            ? o->ifindex == en->ifindex && strcmp(o->ifname, en->ifname) == 0
                        : by == VF_SPLIT_VLAN ? o->vlan == en->vlan
                                              : memcmp(o->mac, en->mac, 6) == 0;
            if (same)
                return bt_err_set(e, "--map '%s': at offset %zu: key '%.*s' given twice (to "
                                  "members %d and %ld)", s, (size_t)(p - s), (int)eq, p, o->sgm,
                                  sgm);
        }
        en->sgm = (int)sgm;
        m->n++;
        p += len;
        if (*p == ',')
            p++;
    }
    if (!m->n)
        return bt_err_set(e, "--map: empty");
    return 0;
}

/* ---- the pcapng block walk (interface ids and names) ---- */

#define NG_MAX_IF 1024
#define NG_MAX_BLOCK (64u << 20)

struct ngwalk {
    FILE *f;
    const char *path;
    int swapped;
    uint64_t off;               /* of the next block */
    unsigned nif;               /* interfaces of the current section */
    char (*names)[32];          /* their if_name options ("" when none) */
    uint8_t *buf;
    size_t cap;
};

static uint32_t ng32(const struct ngwalk *w, const uint8_t *p)
{
    uint32_t v;
    memcpy(&v, p, 4);
    return w->swapped ? __builtin_bswap32(v) : v;
}

static uint16_t ng16(const struct ngwalk *w, const uint8_t *p)
{
    uint16_t v;
    memcpy(&v, p, 2);
    return w->swapped ? __builtin_bswap16(v) : v;
}

/* The interface id of the next packet block (EPB, SPB, obsolete PB): 1, 0 at
 * the end, or -EBADMSG with e filled. */
static int ng_next(struct ngwalk *w, uint32_t *ifid, struct bt_err *e)
{
    for (;;) {
        uint8_t h[12];
        size_t got = fread(h, 1, 8, w->f);
        if (got == 0)
            return 0;
        if (got != 8)
            return bt_err_setr(e, -EBADMSG, "%s: byte offset %llu: pcapng block header cut short",
                               w->path, (unsigned long long)w->off);
        uint32_t type;
        memcpy(&type, h, 4);
        if (type == 0x0A0D0D0A) {           /* section header: byte order first */
            uint32_t bom;
            if (fread(h + 8, 1, 4, w->f) != 4)
                return bt_err_setr(e, -EBADMSG, "%s: byte offset %llu: section header cut short",
                                   w->path, (unsigned long long)w->off);
            memcpy(&bom, h + 8, 4);
            if (bom == 0x1A2B3C4D)
                w->swapped = 0;
            else if (bom == 0x4D3C2B1A)
                w->swapped = 1;
            else
                return bt_err_setr(e, -EBADMSG, "%s: byte offset %llu: bad pcapng byte-order magic",
                                   w->path, (unsigned long long)w->off);
            w->nif = 0;
        } else {
            type = ng32(w, h);
        }
        uint32_t len = ng32(w, h + 4), done = type == 0x0A0D0D0A ? 12 : 8;
        if (len < 12 || len % 4 || len > NG_MAX_BLOCK)
            return bt_err_setr(e, -EBADMSG, "%s: byte offset %llu: pcapng block length %u",
                               w->path, (unsigned long long)w->off, len);
        if (len - done > w->cap) {
            uint8_t *nb = realloc(w->buf, len);
            if (!nb)
                return bt_err_setr(e, -ENOMEM, "%s: out of memory", w->path);
            w->buf = nb;
            w->cap = len;
        }
        if (fread(w->buf, 1, len - done, w->f) != len - done)
            return bt_err_setr(e, -EBADMSG, "%s: byte offset %llu: pcapng block cut short",
                               w->path, (unsigned long long)w->off);
        w->off += len;
        const uint8_t *b = w->buf;
        uint32_t blen = len - 12;           /* body, without the trailing length */
        if (type == 1) {                    /* interface description: its if_name */
            if (w->nif >= NG_MAX_IF)
                return bt_err_setr(e, -EBADMSG, "%s: more than %d interfaces", w->path, NG_MAX_IF);
            char *name = w->names[w->nif++];
            name[0] = 0;
            for (uint32_t o = 8; blen >= 8 && o + 4 <= blen;) {
                uint16_t code = ng16(w, b + o), olen = ng16(w, b + o + 2);
                if (code == 0 || o + 4 + olen > blen)
                    break;
                if (code == 2) {
                    size_t n = olen < 31 ? olen : 31;
                    memcpy(name, b + o + 4, n);
                    name[n] = 0;
                    name[strnlen(name, n)] = 0;
                }
                o += 4 + (uint32_t)((olen + 3) & ~3u);
            }
        } else if (type == 6 || type == 2) { /* enhanced / obsolete packet block */
            if (blen < 4)
                return bt_err_setr(e, -EBADMSG, "%s: byte offset %llu: packet block too short",
                                   w->path, (unsigned long long)(w->off - len));
            *ifid = type == 6 ? ng32(w, b) : ng16(w, b);
            return 1;
        } else if (type == 3) {             /* simple packet block: interface 0 */
            *ifid = 0;
            return 1;
        }
    }
}

static int lookup_if(const struct vf_split_map *m, uint32_t id, const char *name)
{
    for (unsigned i = 0; i < m->n; i++) {
        if (m->e[i].ifname[0] ? (name && strcmp(name, m->e[i].ifname) == 0)
                              : m->e[i].ifindex == id)
            return m->e[i].sgm;
    }
    return 0;
}

static int lookup(const struct vf_split_map *m, enum vf_split_by by, const uint8_t *d,
                  uint32_t caplen, int link)
{
    if (by == VF_SPLIT_VLAN) {
        struct bt_parsed p;
        bt_parse(d, caplen, link, &p);
        if (!p.nvlan)
            return 0;
        for (unsigned i = 0; i < m->n; i++)
            if (m->e[i].vlan == p.vlan[0])
                return m->e[i].sgm;
        return 0;
    }
    if (link != BT_LINK_ETHERNET || caplen < 12)
        return 0;
    for (unsigned i = 0; i < m->n; i++)
        if (memcmp(d, m->e[i].mac, 6) == 0 || memcmp(d + 6, m->e[i].mac, 6) == 0)
            return m->e[i].sgm;
    return 0;
}

int vf_split(const char *tap, enum vf_split_by by, const struct vf_split_map *m, const char *out,
             struct vf_split_result *res, struct bt_err *e)
{
    struct bt_pcap_reader *r = bt_pcap_open(tap, e);
    struct bt_capset_writer *w = NULL;
    struct bt_pcap_writer *un = NULL;
    struct bt_capset_meta meta;
    struct bt_pcap_rec rec;
    struct ngwalk ng;
    uint8_t *conv = NULL;
    int rc = 0, got, link;

    memset(res, 0, sizeof(*res));
    memset(&meta, 0, sizeof(meta));
    memset(&ng, 0, sizeof(ng));
    if (!r)
        return -EINVAL;
    link = bt_pcap_linktype(r);
    if (by == VF_SPLIT_MAC && link != BT_LINK_ETHERNET) {
        rc = bt_err_set(e, "%s: --by mac needs an Ethernet capture (link type %d)", tap, link);
        goto out;
    }
    if (by == VF_SPLIT_INTERFACE) {
        uint32_t magic = 0;
        ng.path = tap;
        if (!(ng.f = fopen(tap, "rb")) || fread(&magic, 1, 4, ng.f) != 4) {
            rc = bt_err_set(e, "%s: cannot read: %s", tap, strerror(errno ? errno : EIO));
            goto out;
        }
        if (magic == 0x0A0D0D0A) {
            rewind(ng.f);
            if (!(ng.names = calloc(NG_MAX_IF, sizeof(*ng.names)))) {
                rc = bt_err_setr(e, -ENOMEM, "out of memory");
                goto out;
            }
        } else {
            fclose(ng.f);
            ng.f = NULL;
            if (link != BT_LINK_SLL2) {
                rc = bt_err_set(e, "%s: --by interface needs a pcapng capture (interface ids) or a "
                                "Linux cooked v2 (SLL2, link type 276) capture (interface index); "
                                "this is a pcap of link type %d", tap, link);
                goto out;
            }
        }
    }
    if (link != BT_LINK_ETHERNET && !(by == VF_SPLIT_INTERFACE && link == BT_LINK_SLL2)) {
        rc = bt_err_set(e, "%s: the capture set is Ethernet; this capture has link type %d", tap, link);
        goto out;
    }
    if (!(w = bt_capset_writer_open(out, e))) {
        rc = -EIO;
        goto out;
    }
    while ((got = bt_pcap_next(r, &rec, e)) == 1) {
        int sgm;
        const uint8_t *data = rec.data;
        uint32_t caplen = rec.caplen, wire = rec.wire_len;
        if (by != VF_SPLIT_INTERFACE) {
            sgm = lookup(m, by, rec.data, rec.caplen, link);
        } else if (ng.f) {
            uint32_t id;
            int k = ng_next(&ng, &id, e);
            if (k <= 0) {
                rc = k < 0 ? k : bt_err_setr(e, -EBADMSG, "%s: packet %llu: no packet block for it",
                                              tap, (unsigned long long)rec.index + 1);
                goto out;
            }
            sgm = lookup_if(m, id, id < ng.nif ? ng.names[id] : NULL);
        } else {
            uint32_t ifx = 0;
            if (rec.caplen >= 8)
                ifx = (uint32_t)rec.data[4] << 24 | (uint32_t)rec.data[5] << 16 |
                      (uint32_t)rec.data[6] << 8 | rec.data[7];
            sgm = rec.caplen >= 20 ? lookup_if(m, ifx, NULL) : 0;
        }
        if (link == BT_LINK_SLL2) {
            /* SLL2 (protocol, reserved, ifindex, hatype, pkttype, halen,
             * address[8]) to Ethernet: the protocol is the ethertype */
            if (!conv && !(conv = malloc(262144 + 14))) {
                rc = bt_err_setr(e, -ENOMEM, "out of memory");
                goto out;
            }
            if (caplen < 20) {
                caplen = 0;
            } else {
                uint32_t n = caplen - 20 > 262144 ? 262144 : caplen - 20;
                memset(conv, 0, 14);
                if (rec.data[11] == 6)
                    memcpy(conv + 6, rec.data + 12, 6);
                memcpy(conv + 12, rec.data, 2);
                memcpy(conv + 14, rec.data + 20, n);
                caplen = n + 14;
                wire = wire >= 20 ? wire - 6 : caplen;
            }
            data = conv;
        }
        res->packets++;
        if (!sgm) {
            char path[4096];
            res->unmapped++;
            if (!un && !(un = bt_pcap_writer_open(bt_capset_path(out, "unmapped.pcap", path, sizeof(path)),
                                                  BT_LINK_ETHERNET, 0, e))) {
                rc = -EIO;
                goto out;
            }
            bt_pcap_write(un, rec.ts_ns, data, caplen, wire);
            continue;
        }
        if ((rc = bt_capset_writer_sgm(w, sgm, rec.ts_ns, data, caplen, wire)) < 0) {
            bt_err_set(e, "%s: write failed: %s", out, strerror(-rc));
            goto out;
        }
        res->per_sgm[sgm]++;
    }
    if (got < 0) {
        rc = got;
        goto out;
    }
    for (unsigned i = 0; i < m->n; i++) {
        bool seen = false;
        for (unsigned k = 0; k < meta.nmembers; k++)
            seen = seen || meta.ids[k] == m->e[i].sgm;
        if (!seen) {
            meta.ids[meta.nmembers] = m->e[i].sgm;
            meta.weights[meta.nmembers++] = 1;
        }
    }
    snprintf(meta.mode, sizeof(meta.mode), "general");
    snprintf(meta.generator, sizeof(meta.generator), "baton-verify split");
out:
    if (w) {
        int cr = bt_capset_writer_close(w, rc == 0 ? &meta : NULL, rc == 0 ? e : NULL);
        if (rc == 0 && cr < 0)
            rc = cr;
    }
    if (un)
        bt_pcap_writer_close(un);
    if (ng.f)
        fclose(ng.f);
    free(ng.names);
    free(ng.buf);
    free(conv);
    bt_pcap_close(r);
    return rc;
}
