/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Loss, transit latency and injected RSTs from the client-side and
 * server-side captures: a packet that entered the cluster on one link should
 * leave on the other. Packets are identified by a hash of what a forwarding
 * gateway does not change (addresses, protocol, IPv4 id, the L4 header and
 * payload; not TTL or checksums); both links are merged by time, each
 * entering packet waits in a table until it leaves, and what never leaves is
 * lost. Without NAT only: with hide-NAT the addresses change (not yet joined).
 */
#include "vf_loss.h"

#include <errno.h>
#include <jansson.h>
#include <stdlib.h>
#include <string.h>

#include "bt_cidr.h"
#include "bt_err.h"
#include "bt_flow.h"
#include "bt_flow_table.h"
#include "bt_hash.h"
#include "bt_parse.h"
#include "bt_pcap.h"

/* Identical packets (same id, same direction) not yet matched: n > 0 entered
 * and not yet left; n < 0 left without having entered. */
struct inflight {
    uint64_t ts[8];
    int8_t n;
    uint8_t rst;
};

struct dirflow {
    uint8_t client_is_canon_src;
};

static uint64_t pkt_id(const uint8_t *d, uint32_t caplen, const struct bt_parsed *p)
{
    uint64_t h = 0x243f6a8885a308d3ULL;
    uint32_t end = p->l3_off + p->ip_len;

    if (end > caplen)
        end = caplen;
    for (int i = 0; i < 16; i += 8) {
        uint64_t a, b;
        memcpy(&a, p->src + i, 8);
        memcpy(&b, p->dst + i, 8);
        h = bt_mix64(h ^ a);
        h = bt_mix64(h ^ b);
    }
    h = bt_mix64(h ^ p->proto);
    if (p->ip_version == 4)
        h = bt_mix64(h ^ (uint64_t)(d[p->l3_off + 4] << 8 | d[p->l3_off + 5]));
    /* L4 header and payload, 8 bytes at a time, skipping the checksum field
     * would need per-protocol offsets: a forwarder does not change them
     * without NAT, so they are included */
    for (uint32_t o = p->l4_off; o < end; o += 8) {
        uint64_t w = 0;
        memcpy(&w, d + o, end - o < 8 ? end - o : 8);
        h = bt_mix64(h ^ w);
    }
    return h;
}

/* What left but never entered: packets the cluster made (RSTs it injected). */
static void count_outs(const struct bt_flow_key *k, void *v, void *arg)
{
    struct inflight *f = v;
    uint64_t *c = arg;

    (void)k;
    if (f->n < 0) {
        c[0] += (uint64_t)-f->n;
        if (f->rst)
            c[1] += (uint64_t)-f->n;
    }
}

static int dcmp(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

struct batch_rec {
    uint64_t ts;
    unsigned link;
    uint32_t caplen;
    uint8_t *data;
};

struct lctx {
    struct bt_flowtab *wait, *dirs;
    int links[2];
    uint64_t in[2], out[2];
    double *lat;
    size_t nlat, caplat;
};

/* Handles one record in the given phase (0: packets entering the cluster,
 * 1: leaving). Returns -ENOMEM or 0. */
static int handle(struct lctx *c, const struct batch_rec *r, int phase)
{
    struct bt_parsed p;
    struct bt_flow_key k, ck, idk;
    bool created;

    if (bt_parse(r->data, r->caplen, c->links[r->link], &p) != BT_PARSE_OK ||
        bt_flow_key_from_parsed(&p, &k) < 0)
        return 0;
    int swapped = bt_flow_key_canon(&k, &ck);
    struct dirflow *df = bt_flowtab_insert(c->dirs, &ck, r->ts, &created);
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
    uint64_t id = pkt_id(r->data, r->caplen, &p);
    memcpy(idk.src, &id, 8);
    idk.proto = (uint8_t)dir;
    struct inflight *f = bt_flowtab_insert(c->wait, &idk, r->ts, NULL);
    double us = -1;
    if (!f)
        return -ENOMEM;
    f->rst = p.proto == 6 && (p.tcp_flags & BT_TCP_RST);
    if (entering) {
        c->in[dir]++;
        if (f->n < 8)
            f->ts[f->n++] = r->ts;
    } else if (f->n > 0) {
        /* the newest entry: a retransmission that got through is matched
         * with itself, and the dropped original stays lost */
        us = (double)(r->ts - f->ts[f->n - 1]) / 1e3;
        f->n--;
        c->out[dir]++;
    } else if (f->n > -8) {
        f->n--;  /* left without entering: made by the cluster */
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

int vf_loss(const char *client, const char *server, void **json_out, struct bt_err *e)
{
    struct bt_pcap_reader *rd[2] = {NULL, NULL};
    struct bt_pcap_merge *m = NULL;
    struct lctx c;
    struct batch_rec *b = NULL;
    size_t nb = 0, capb = 0;
    uint64_t unmatched_out = 0, rsts = 0;
    int rc = 0;

    memset(&c, 0, sizeof(c));
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
    c.wait = bt_flowtab_new_growable(4096, 1u << 24, sizeof(struct inflight), 0);
    c.dirs = bt_flowtab_new_growable(4096, 1u << 24, sizeof(struct dirflow), 0);
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
                    if (handle(&c, &b[i], phase) < 0) {
                        rc = bt_err_setr(e, -ENOMEM, "out of memory");
                        goto out;
                    }
            nb = 0;
        }
        if (!got)
            break;
        if (nb == capb) {
            size_t cap = capb ? capb * 2 : 64;
            struct batch_rec *nbuf = realloc(b, cap * sizeof(*nbuf));
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
    {
        uint64_t cnt[2] = {0, 0};
        bt_flowtab_foreach(c.wait, count_outs, cnt);
        unmatched_out = cnt[0];
        rsts = cnt[1];
    }
    qsort(c.lat, c.nlat, sizeof(*c.lat), dcmp);
    {
        uint64_t lost[2];
        for (int d = 0; d < 2; d++)
            lost[d] = c.in[d] > c.out[d] ? c.in[d] - c.out[d] : 0;
        size_t n = c.nlat;
        json_t *o = json_pack(
            "{s:{s:I, s:I, s:I, s:f}, s:{s:I, s:I, s:I, s:f}, s:{s:f, s:f, s:f}, s:I, s:I}",
            "c2s", "in", (json_int_t)c.in[0], "out", (json_int_t)c.out[0], "lost",
            (json_int_t)lost[0], "loss_pct",
            c.in[0] ? 100.0 * (double)lost[0] / (double)c.in[0] : 0.0, "s2c", "in",
            (json_int_t)c.in[1], "out", (json_int_t)c.out[1], "lost", (json_int_t)lost[1],
            "loss_pct", c.in[1] ? 100.0 * (double)lost[1] / (double)c.in[1] : 0.0, "latency_us",
            "p50", n ? c.lat[(n - 1) / 2] : 0.0, "p99", n ? c.lat[(size_t)((double)(n - 1) * 0.99)] : 0.0,
            "max", n ? c.lat[n - 1] : 0.0, "injected_rsts", (json_int_t)rsts, "unmatched_out",
            (json_int_t)unmatched_out);
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
