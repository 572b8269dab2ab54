/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * baton-verify split: one aggregated tap (many labs have one) into a capture
 * set, by outer VLAN id or by the member's MAC address (source or
 * destination), with a map of key -> member.
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
        if (by == VF_SPLIT_VLAN) {
            long vid = strtol(p, &end, 10);
            if (end != p + eq || vid < 0 || vid > 4095)
                return bt_err_set(e, "--map '%s': at offset %zu: VLAN id must be 0..4095", s,
                                  (size_t)(p - s));
            en->vlan = (uint16_t)vid;
        } else if (parse_mac(p, eq, en->mac) < 0) {
            return bt_err_set(e, "--map '%s': at offset %zu: expected a MAC like 02:00:00:00:00:01",
                              s, (size_t)(p - s));
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
    int rc = 0, got, link;

    memset(res, 0, sizeof(*res));
    memset(&meta, 0, sizeof(meta));
    if (!r)
        return -EINVAL;
    link = bt_pcap_linktype(r);
    if (by == VF_SPLIT_MAC && link != BT_LINK_ETHERNET) {
        rc = bt_err_set(e, "%s: --by mac needs an Ethernet capture (link type %d)", tap, link);
        goto out;
    }
    if (link != BT_LINK_ETHERNET) {
        rc = bt_err_set(e, "%s: the capture set is Ethernet; this capture has link type %d", tap, link);
        goto out;
    }
    if (!(w = bt_capset_writer_open(out, e))) {
        rc = -EIO;
        goto out;
    }
    while ((got = bt_pcap_next(r, &rec, e)) == 1) {
        int sgm = lookup(m, by, rec.data, rec.caplen, link);
        res->packets++;
        if (!sgm) {
            char path[4096];
            res->unmapped++;
            if (!un && !(un = bt_pcap_writer_open(bt_capset_path(out, "unmapped.pcap", path, sizeof(path)),
                                                  link, 0, e))) {
                rc = -EIO;
                goto out;
            }
            bt_pcap_write(un, rec.ts_ns, rec.data, rec.caplen, rec.wire_len);
            continue;
        }
        if ((rc = bt_capset_writer_sgm(w, sgm, rec.ts_ns, rec.data, rec.caplen, rec.wire_len)) < 0) {
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
    bt_pcap_close(r);
    return rc;
}
