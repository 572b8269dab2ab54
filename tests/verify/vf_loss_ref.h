/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The loss pass's oracle, shared by test-vf_loss.c (random well-formed
 * capture pairs) and fuzz-vf_loss.c (arbitrary frames): static functions,
 * included by one .c file each.
 */
#ifndef VF_LOSS_REF_H
#define VF_LOSS_REF_H

#include <errno.h>
#include <jansson.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "bt_cidr.h"
#include "bt_err.h"
#include "bt_flow.h"
#include "bt_flow_table.h"
#include "bt_hash.h"
#include "bt_parse.h"
#include "bt_pcap.h"
#include "../../verify/vf_nat.h"

/* ---- the reference: vf_loss as it was before its one-pass rewrite
 * (generic bt_parse, bt_flow_table, each record copied and parsed twice),
 * kept as the oracle the new pass must agree with byte for byte ---- */
struct ref_inflight {
    uint64_t ts[8];
    struct bt_flow_key fk;   /* the packet's flow (canonical, original tuple) */
    int8_t n;
    uint8_t rst;
};

struct ref_dirflow {
    uint8_t client_is_canon_src;
};

/* k: the packet's directional key in original-tuple terms. */
static uint64_t ref_pkt_id(const uint8_t *d, uint32_t caplen, const struct bt_parsed *p,
                       const struct bt_flow_key *k)
{
    uint64_t h = 0x243f6a8885a308d3ULL;
    uint32_t end = p->l3_off + p->ip_len, o = p->l4_off;

    if (end > caplen)
        end = caplen;
    for (int i = 0; i < 16; i += 8) {
        uint64_t a, b;
        memcpy(&a, k->src + i, 8);
        memcpy(&b, k->dst + i, 8);
        h = bt_mix64(h ^ a);
        h = bt_mix64(h ^ b);
    }
    h = bt_mix64(h ^ k->proto ^ (uint64_t)k->sport << 16 ^ (uint64_t)k->dport << 32);
    if (p->ip_version == 4)
        h = bt_mix64(h ^ (uint64_t)(d[p->l3_off + 4] << 8 | d[p->l3_off + 5]));
    /* the L4 bytes that NAT and a forwarder leave alone, 8 at a time: TCP
     * without ports and checksum, UDP without its header, ICMP echo without
     * checksum and id (the key has ports and id) */
    uint32_t skip_from = 0, skip_to = 0;
    if (p->proto == 6 && (p->flags & BT_PF_PORTS)) {
        o += 4;
        skip_from = p->l4_off + 16;
        skip_to = p->l4_off + 18;
    } else if (p->proto == 17 && (p->flags & BT_PF_PORTS)) {
        o += 8;
    } else if (p->proto == 1 || p->proto == 58) {
        skip_from = p->l4_off + 2;
        skip_to = p->l4_off + 6;
    }
    while (o < end) {
        uint64_t w = 0;
        uint32_t n = end - o < 8 ? end - o : 8;
        if (o < skip_to && o + n > skip_from) {
            /* the word with the skipped bytes: those zeroed */
            uint8_t b[8] = {0};
            memcpy(b, d + o, n);
            for (uint32_t i = 0; i < n; i++)
                if (o + i >= skip_from && o + i < skip_to)
                    b[i] = 0;
            memcpy(&w, b, 8);
        } else {
            memcpy(&w, d + o, n);
        }
        h = bt_mix64(h ^ w);
        o += n;
    }
    return h;
}

/* What left but never entered: packets the cluster made (RSTs it injected). */
#define REF_MAX_OFFENDERS 20

struct ref_outs {
    uint64_t unmatched, rsts;
    json_t *off;                 /* flows with a packet that never left */
    struct bt_flow_key seen[REF_MAX_OFFENDERS];
    unsigned nseen;
};

static void ref_count_outs(const struct bt_flow_key *k, void *v, void *arg)
{
    struct ref_inflight *f = v;
    struct ref_outs *c = arg;

    (void)k;
    if (f->n < 0) {
        c->unmatched += (uint64_t)-f->n;
        if (f->rst)
            c->rsts += (uint64_t)-f->n;
        return;
    }
    if (c->nseen >= REF_MAX_OFFENDERS)
        return;
    for (unsigned i = 0; i < c->nseen; i++)
        if (bt_flow_key_eq(&c->seen[i], &f->fk))
            return;
    char cid[40], tuple[128];
    c->seen[c->nseen++] = f->fk;
    bt_community_id(&f->fk, 0, cid, sizeof(cid));
    bt_flow_key_fmt(&f->fk, tuple, sizeof(tuple));
    json_array_append_new(c->off, json_pack("{s:s, s:s, s:[], s:f}", "community_id", cid,
                                            "tuple", tuple, "members", "t",
                                            (double)f->ts[0] / 1e9));
}

static int ref_dcmp(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

struct ref_batch_rec {
    uint64_t ts;
    unsigned link;
    uint32_t caplen;
    uint8_t *data;
};

struct ref_lctx {
    struct bt_flowtab *wait, *dirs;
    const struct vf_nat *nat;
    int links[2];
    uint64_t in[2], out[2];
    uint64_t early, early_max;  /* left before they entered, by up to (ns) */
    double *lat;
    size_t nlat, caplat;
};

/* Handles one record in the given phase (0: packets entering the cluster,
 * 1: leaving). Returns -ENOMEM or 0. */
static int ref_handle(struct ref_lctx *c, const struct ref_batch_rec *r, int phase)
{
    struct bt_parsed p;
    struct bt_flow_key k, ck, idk;
    bool created;

    if (bt_parse(r->data, r->caplen, c->links[r->link], &p) != BT_PARSE_OK ||
        bt_flow_key_from_parsed(&p, &k) < 0)
        return 0;
    vf_nat_untranslate(c->nat, &k, r->ts);
    int swapped = bt_flow_key_canon(&k, &ck);
    struct ref_dirflow *df = bt_flowtab_insert(c->dirs, &ck, r->ts, &created);
    if (!df)
        return -ENOMEM;
    if (created) {
        /* the client rule of lib/bt_cidr.h, else the first sender */
        bool src_client = bt_client_side(&p, NULL, 0) != BT_CLIENT_DST;
        df->client_is_canon_src = (uint8_t)(src_client == !swapped);
    }
    int dir = (!swapped) == (bool)df->client_is_canon_src ? 0 : 1; /* 0: c2s */
    /* c2s enters on the client link (0), s2c on the server link (1) */
    bool entering = (dir == 0) == (r->link == 0);
    if (entering != (phase == 0))
        return 0;
    memset(&idk, 0, sizeof(idk));
    uint64_t id = ref_pkt_id(r->data, r->caplen, &p, &k);
    memcpy(idk.src, &id, 8);
    idk.proto = (uint8_t)dir;
    struct ref_inflight *f = bt_flowtab_insert(c->wait, &idk, r->ts, NULL);
    double us = -1;
    if (!f)
        return -ENOMEM;
    f->rst = p.proto == 6 && (p.tcp_flags & BT_TCP_RST);
    f->fk = ck;
    if (entering) {
        c->in[dir]++;
        /* the changes: n < 0 went to ts[n] (out of the array; with -2
         * or less over the flow table's links); an entry after copies left
         * is one of them seen late (a clock behind the other link's): it
         * went through */
        if (f->n < 0) {
            uint64_t d = r->ts - f->ts[-f->n - 1];
            f->n++;
            c->out[dir]++;
            c->early++;
            c->early_max = d > c->early_max ? d : c->early_max;
        } else if (f->n < 8) {
            f->ts[f->n++] = r->ts;
        }
    } else if (f->n > 0) {
        /* the newest entry: a retransmission that got through is matched
         * with itself, and the dropped original stays lost */
        us = (double)(r->ts - f->ts[f->n - 1]) / 1e3;
        f->n--;
        c->out[dir]++;
    } else if (f->n > -8) {
        f->ts[-f->n] = r->ts;
        f->n--;  /* left without entering: made by the cluster, or early */
    }
    if (f->n == 0)
        bt_flowtab_remove(c->wait, f);
    if (us >= 0) {
        if (c->nlat == c->caplat) {
            size_t cap = c->caplat ? c->caplat * 2 : 4096;
            double *nl = realloc(c->lat, cap * sizeof(*nl));
            if (!nl)
                return -ENOMEM;
            c->lat = nl;
            c->caplat = cap;
        }
        c->lat[c->nlat++] = us;
    }
    return 0;
}

static int ref_loss(const char *client, const char *server, const struct vf_nat *nat, void **json_out,
            struct bt_err *e)
{
    struct bt_pcap_reader *rd[2] = {NULL, NULL};
    struct bt_pcap_merge *m = NULL;
    struct ref_lctx c;
    struct ref_batch_rec *b = NULL;
    size_t nb = 0, capb = 0;
    uint64_t unmatched_out = 0, rsts = 0;
    int rc = 0;

    memset(&c, 0, sizeof(c));
    c.nat = nat;
    rd[0] = bt_pcap_open(client, e);
    if (!rd[0])
        return -EINVAL;
    rd[1] = bt_pcap_open(server, e);
    if (!rd[1]) {
        rc = -EINVAL;
        goto out;
    }
    c.links[0] = bt_pcap_linktype(rd[0]);
    c.links[1] = bt_pcap_linktype(rd[1]);
    m = bt_pcap_merge_new(rd, 2);
    /* keyed by a pseudo flow key holding the packet id */
    c.wait = bt_flowtab_new_growable(4096, 1u << 24, sizeof(struct ref_inflight), 0);
    c.dirs = bt_flowtab_new_growable(4096, 1u << 24, sizeof(struct ref_dirflow), 0);
    if (!m || !c.wait || !c.dirs) {
        rc = bt_err_setr(e, -ENOMEM, "out of memory");
        goto out;
    }
    /* Records of one time stamp are handled together, entries before exits:
     * a zero-latency forwarder stamps both alike, and the merge alone would
     * put the client link first in both directions. */
    for (;;) {
        struct bt_pcap_rec rec;
        unsigned link;
        int got = bt_pcap_merge_next(m, &rec, &link, e);
        if (got < 0) {
            rc = got;
            goto out;
        }
        if (nb && (!got || rec.ts_ns != b[0].ts)) {
            for (int phase = 0; phase < 2; phase++)
                for (size_t i = 0; i < nb; i++)
                    if (ref_handle(&c, &b[i], phase) < 0) {
                        rc = bt_err_setr(e, -ENOMEM, "out of memory");
                        goto out;
                    }
            nb = 0;
        }
        if (!got)
            break;
        if (nb == capb) {
            size_t cap = capb ? capb * 2 : 64;
            struct ref_batch_rec *nbuf = realloc(b, cap * sizeof(*nbuf));
            if (!nbuf) {
                rc = bt_err_setr(e, -ENOMEM, "out of memory");
                goto out;
            }
            memset(nbuf + capb, 0, (cap - capb) * sizeof(*nbuf));
            b = nbuf;
            capb = cap;
        }
        uint8_t *d = realloc(b[nb].data, rec.caplen ? rec.caplen : 1);
        if (!d) {
            rc = bt_err_setr(e, -ENOMEM, "out of memory");
            goto out;
        }
        memcpy(d, rec.data, rec.caplen);
        b[nb].data = d;
        b[nb].ts = rec.ts_ns;
        b[nb].link = link;
        b[nb].caplen = rec.caplen;
        nb++;
    }
    struct ref_outs cnt;
    memset(&cnt, 0, sizeof(cnt));
    cnt.off = json_array();
    bt_flowtab_foreach(c.wait, ref_count_outs, &cnt);
    unmatched_out = cnt.unmatched;
    rsts = cnt.rsts;
    if (c.nlat) /* lat may be NULL then: qsort's is nonnull */
        qsort(c.lat, c.nlat, sizeof(*c.lat), ref_dcmp);
    {
        uint64_t lost[2];
        for (int d = 0; d < 2; d++)
            lost[d] = c.in[d] > c.out[d] ? c.in[d] - c.out[d] : 0;
        size_t n = c.nlat;
        json_t *o = json_pack(
            "{s:{s:I, s:I, s:I, s:f}, s:{s:I, s:I, s:I, s:f}, s:{s:f, s:f, s:f}, s:I, s:I, s:o, s:I, s:f}",
            "c2s", "in", (json_int_t)c.in[0], "out", (json_int_t)c.out[0], "lost",
            (json_int_t)lost[0], "loss_pct",
            c.in[0] ? 100.0 * (double)lost[0] / (double)c.in[0] : 0.0, "s2c", "in",
            (json_int_t)c.in[1], "out", (json_int_t)c.out[1], "lost", (json_int_t)lost[1],
            "loss_pct", c.in[1] ? 100.0 * (double)lost[1] / (double)c.in[1] : 0.0, "latency_us",
            "p50", n ? c.lat[(n - 1) / 2] : 0.0, "p99", n ? c.lat[(size_t)((double)(n - 1) * 0.99)] : 0.0,
            "max", n ? c.lat[n - 1] : 0.0, "injected_rsts", (json_int_t)rsts, "unmatched_out",
            (json_int_t)unmatched_out, "offenders", cnt.off, "left_before_entering",
            (json_int_t)c.early, "clock_skew_max_us", (double)c.early_max / 1e3);
        *json_out = o;
    }
out:
    for (size_t i = 0; i < capb; i++)
        free(b[i].data);
    free(b);
    free(c.lat);
    bt_flowtab_free(c.wait);
    bt_flowtab_free(c.dirs);
    bt_pcap_merge_free(m);
    bt_pcap_close(rd[0]);
    bt_pcap_close(rd[1]);
    return rc;
}

#endif
