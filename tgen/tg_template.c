/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Templates: conversations read from pcaps (one template per flow), kept as
 * untagged Ethernet frames in one blob per pcap, with checksums recomputed
 * and the fields flows rewrite located once. No packet-count limit: a
 * template is an array over a blob, shared by every flow that plays it.
 */
#include "tg_priv.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bt_cidr.h"
#include "bt_csum.h"
#include "bt_err.h"
#include "bt_flow.h"
#include "bt_flow_table.h"
#include "bt_parse.h"
#include "bt_pcap.h"

#define ETH_HLEN 14
#define MAX_FRAME 9216

void tg_tset_clear(struct tg_tset *s)
{
    for (unsigned i = 0; i < s->n; i++)
        free(s->t[i].p);
    for (unsigned i = 0; i < s->nblobs; i++)
        free(s->blobs[i]);
    free(s->t);
    free(s->blobs);
    memset(s, 0, sizeof(*s));
}

static int keep_blob(struct tg_tset *s, uint8_t *blob)
{
    if (s->nblobs == s->blobcap) {
        unsigned cap = s->blobcap ? s->blobcap * 2 : 8;
        uint8_t **b = realloc(s->blobs, cap * sizeof(*b));
        if (!b)
            return -ENOMEM;
        s->blobs = b;
        s->blobcap = cap;
    }
    s->blobs[s->nblobs++] = blob;
    return 0;
}

static struct tg_tmpl *new_tmpl(struct tg_tset *s)
{
    if (s->n == s->cap) {
        unsigned cap = s->cap ? s->cap * 2 : 8;
        struct tg_tmpl *t = realloc(s->t, cap * sizeof(*t));
        if (!t)
            return NULL;
        s->t = t;
        s->cap = cap;
    }
    memset(&s->t[s->n], 0, sizeof(s->t[0]));
    return &s->t[s->n];
}

/* Finds a SACK option in a TCP header (its blocks carry sequence numbers). */
static void find_sack(const uint8_t *tcp, unsigned hlen, struct tg_tpkt *tp, uint16_t l4)
{
    unsigned i = 20;

    while (i < hlen) {
        uint8_t kind = tcp[i];
        if (kind == 0)
            break;
        if (kind == 1) {
            i++;
            continue;
        }
        if (i + 1 >= hlen || tcp[i + 1] < 2 || i + tcp[i + 1] > hlen)
            break;
        if (kind == 5 && tcp[i + 1] >= 10) {
            tp->sack_off = (uint16_t)(l4 + i);
            tp->sack_len = tcp[i + 1];
            return;
        }
        i += tcp[i + 1];
    }
}

int tg_tset_keep_blob(struct tg_tset *s, uint8_t *blob)
{
    if (keep_blob(s, blob) < 0) {
        free(blob);
        return -ENOMEM;
    }
    return 0;
}

int tg_tset_add_frames(struct tg_tset *s, const char *name, unsigned entry, const uint8_t *blob,
                       const uint32_t *offs, const uint32_t *lens, const uint64_t *ts,
                       const uint8_t *side, uint32_t n, struct bt_err *e)
{
    struct tg_tmpl *t;
    struct bt_parsed p;

    if (n == 0)
        return bt_err_set(e, "%s: no packets", name);
    t = new_tmpl(s);
    if (!t)
        return bt_err_setr(e, -ENOMEM, "out of memory");
    t->p = calloc(n, sizeof(*t->p));
    if (!t->p)
        return bt_err_setr(e, -ENOMEM, "out of memory");
    snprintf(t->name, sizeof(t->name), "%s", name);
    t->blob = blob;
    t->entry = entry;
    t->n = n;
    for (uint32_t i = 0; i < n; i++) {
        struct tg_tpkt *tp = &t->p[i];
        const uint8_t *f = blob + offs[i];
        bt_parse(f, lens[i], BT_LINK_ETHERNET, &p);
        if (p.status != BT_PARSE_OK || !(p.proto == 6 || p.proto == 17) || p.nvlan ||
            p.l3_off != ETH_HLEN) {
            free(t->p);
            t->p = NULL;
            return bt_err_set(e, "%s: packet %u: not an untagged TCP/UDP frame", name, i + 1);
        }
        tp->rel_ns = ts[i] - ts[0];
        tp->off = offs[i];
        tp->len = (uint16_t)lens[i];
        tp->side = side[i];
        tp->l4 = p.l4_off;
        tp->paylen = (uint16_t)(p.payload_len > 0xffff ? 0xffff : p.payload_len);
        if (p.proto == 6) {
            tp->tcp_flags = p.tcp_flags;
            tp->seq = p.seq;
            tp->ack = p.ack;
            find_sack(f + p.l4_off, p.tcp_hlen, tp, p.l4_off);
        }
        if (i == 0) {
            t->family = p.ip_version;
            t->proto = p.proto;
            memcpy(t->caddr, side[0] ? p.dst : p.src, 16);
            memcpy(t->saddr, side[0] ? p.src : p.dst, 16);
            t->cport = side[0] ? p.dport : p.sport;
            t->sport = side[0] ? p.sport : p.dport;
        }
        t->bytes += lens[i];
        if (!side[i])
            t->nclient++;
    }
    s->n++;
    return 0;
}

void tg_tmpl_retime(struct tg_tmpl *t, uint64_t ipg_ns, uint64_t rtt_ns)
{
    uint64_t now = 0, prev_orig = 0;

    if (!ipg_ns && !rtt_ns)
        return;
    for (uint32_t i = 0; i < t->n; i++) {
        uint64_t orig = t->p[i].rel_ns, gap = i ? orig - prev_orig : 0;
        if (i) {
            if (t->p[i].side != t->p[i - 1].side) {
                if (rtt_ns)
                    gap = rtt_ns / 2;
            } else if (ipg_ns) {
                gap = ipg_ns;
            }
        }
        now += gap;
        prev_orig = orig;
        t->p[i].rel_ns = now;
    }
}

/* ---------------------------------------------------------------- pcap */

struct conv {
    uint32_t n, cap;
    uint32_t *idx;        /* packet records (into the loader's arrays) */
    int client;           /* -1 undecided, else 0: canonical src is the client, 1: dst */
    struct bt_flow_key canon;
    uint32_t first_pkt;   /* file packet number of its first packet */
};

struct loader {
    /* every kept packet, in file order */
    uint32_t n, cap;
    uint32_t *off, *len;
    uint64_t *ts;
    uint8_t *fwd;         /* 1: travels in canonical direction */
    uint32_t *conv;
    uint8_t *blob;
    size_t blen, bcap;
    struct conv *c;
    uint32_t nc, ccap;
};

static int grow(void **p, uint32_t *cap, uint32_t need, size_t elt)
{
    if (need <= *cap)
        return 0;
    uint32_t c = *cap ? *cap : 1024;
    while (c < need)
        c *= 2;
    void *q = realloc(*p, (size_t)c * elt);
    if (!q)
        return -ENOMEM;
    *p = q;
    *cap = c;
    return 0;
}

static int loader_push(struct loader *L, const uint8_t *frame, uint32_t len, uint64_t ts,
                       uint8_t fwd, uint32_t conv)
{
    uint32_t c = L->cap;
    if (L->n == L->cap) {
        if (grow((void **)&L->off, &c, L->n + 1, sizeof(uint32_t)) < 0)
            return -ENOMEM;
        c = L->cap;
        if (grow((void **)&L->len, &c, L->n + 1, sizeof(uint32_t)) < 0)
            return -ENOMEM;
        c = L->cap;
        if (grow((void **)&L->ts, &c, L->n + 1, sizeof(uint64_t)) < 0)
            return -ENOMEM;
        c = L->cap;
        if (grow((void **)&L->fwd, &c, L->n + 1, 1) < 0)
            return -ENOMEM;
        c = L->cap;
        if (grow((void **)&L->conv, &c, L->n + 1, sizeof(uint32_t)) < 0)
            return -ENOMEM;
        L->cap = c;
    }
    if (L->blen + len > L->bcap) {
        size_t bc = L->bcap ? L->bcap : 65536;
        while (bc < L->blen + len)
            bc *= 2;
        uint8_t *b = realloc(L->blob, bc);
        if (!b)
            return -ENOMEM;
        L->blob = b;
        L->bcap = bc;
    }
    memcpy(L->blob + L->blen, frame, len);
    L->off[L->n] = (uint32_t)L->blen;
    L->len[L->n] = len;
    L->ts[L->n] = ts;
    L->fwd[L->n] = fwd;
    L->conv[L->n] = conv;
    L->blen += len;
    L->n++;
    return 0;
}

static void loader_free(struct loader *L)
{
    free(L->off);
    free(L->len);
    free(L->ts);
    free(L->fwd);
    free(L->conv);
    free(L->blob);
    for (uint32_t i = 0; i < L->nc; i++)
        free(L->c[i].idx);
    free(L->c);
}

/* Re-encodes a parsed frame of any link type as an untagged Ethernet frame
 * holding exactly the IP datagram (padding and tags dropped). */
static uint32_t normalize(const uint8_t *data, const struct bt_parsed *p, uint8_t *out)
{
    static const uint8_t mac_c[6] = {2, 0, 0, 0, 0, 1}, mac_s[6] = {2, 0, 0, 0, 0, 2};
    uint32_t iplen = p->ip_len;

    memcpy(out, mac_s, 6);
    memcpy(out + 6, mac_c, 6);
    out[12] = p->ip_version == 4 ? 0x08 : 0x86;
    out[13] = p->ip_version == 4 ? 0x00 : 0xdd;
    memcpy(out + ETH_HLEN, data + p->l3_off, iplen);
    return ETH_HLEN + iplen;
}

int tg_tset_add_pcap(struct tg_tset *s, const struct tg_tmpl_cfg *cfg, unsigned entry,
                     struct bt_err *e)
{
    struct bt_pcap_reader *rd;
    struct bt_pcap_rec rec;
    struct bt_flowtab *ft = NULL;
    struct loader L;
    uint8_t frame[MAX_FRAME + 64];
    int link, r = 0;
    uint64_t skipped = 0;
    const char *path = cfg->pcap;

    memset(&L, 0, sizeof(L));
    rd = bt_pcap_open(path, e);
    if (!rd)
        return -EINVAL;
    link = bt_pcap_linktype(rd);
    ft = bt_flowtab_new_growable(1024, 1u << 24, sizeof(uint32_t), 0);
    if (!ft) {
        r = bt_err_setr(e, -ENOMEM, "out of memory");
        goto out;
    }
    while ((r = bt_pcap_next(rd, &rec, e)) == 1) {
        struct bt_parsed p;
        struct bt_flow_key k, ck;
        uint32_t *cv;
        bool created;
        uint64_t pn = rec.index + 1;

        bt_parse(rec.data, rec.caplen, link, &p);
        if (p.status == BT_PARSE_UNSUPPORTED_LINK) {
            r = bt_err_set(e, "%s: unsupported link type %d (use Ethernet, Linux SLL/SLL2, "
                           "raw IP or BSD loopback captures)", path, link);
            goto out;
        }
        if (p.status == BT_PARSE_NOT_IP || (p.status == BT_PARSE_OK && p.proto != 6 && p.proto != 17)) {
            skipped++;
            continue;
        }
        if (p.status == BT_PARSE_TRUNCATED && rec.caplen < rec.wire_len) {
            r = bt_err_set(e, "%s: packet %llu: captured %u of %u bytes (recapture with "
                           "snaplen 0 / -s 0)", path, (unsigned long long)pn, rec.caplen,
                           rec.wire_len);
            goto out;
        }
        if (p.status != BT_PARSE_OK) {
            r = bt_err_set(e, "%s: packet %llu: %s IP packet (replay needs whole packets)", path,
                           (unsigned long long)pn,
                           p.status == BT_PARSE_TRUNCATED ? "truncated" : "malformed");
            goto out;
        }
        if (p.flags & BT_PF_FRAG) {
            r = bt_err_set(e, "%s: packet %llu: an IP fragment (templates must be unfragmented; "
                           "capture with a 1500 MTU and offloads off)", path, (unsigned long long)pn);
            goto out;
        }
        /* Ethernet padding is fine; a cut-off datagram is not: cut by the
         * snaplen, or whole but shorter than its own IP header says */
        if ((uint64_t)p.l3_off + p.ip_len > rec.caplen) {
            if (rec.caplen < rec.wire_len)
                r = bt_err_set(e, "%s: packet %llu: captured %u of %u bytes (recapture with "
                               "snaplen 0 / -s 0)", path, (unsigned long long)pn, rec.caplen,
                               rec.wire_len);
            else
                r = bt_err_set(e, "%s: packet %llu: IP total length %u exceeds the frame's %u "
                               "bytes (%u after the link header): a malformed packet",
                               path, (unsigned long long)pn, p.ip_len, rec.caplen,
                               rec.caplen - p.l3_off);
            goto out;
        }
        if (p.ip_len + ETH_HLEN > MAX_FRAME) {
            r = bt_err_set(e, "%s: packet %llu: %u-byte IP datagram is over %d (capture with "
                           "tso/gso/gro off)", path, (unsigned long long)pn, p.ip_len,
                           MAX_FRAME - ETH_HLEN);
            goto out;
        }
        bt_flow_key_from_parsed(&p, &k);
        int swapped = bt_flow_key_canon(&k, &ck);
        cv = bt_flowtab_insert(ft, &ck, 0, &created);
        if (!cv) {
            r = bt_err_setr(e, -ENOMEM, "%s: too many conversations", path);
            goto out;
        }
        if (created) {
            uint32_t cc = L.ccap;
            if (grow((void **)&L.c, &cc, L.nc + 1, sizeof(*L.c)) < 0) {
                r = bt_err_setr(e, -ENOMEM, "out of memory");
                goto out;
            }
            L.ccap = cc;
            memset(&L.c[L.nc], 0, sizeof(L.c[0]));
            L.c[L.nc].client = -1;
            L.c[L.nc].canon = ck;
            L.c[L.nc].first_pkt = (uint32_t)pn;
            *cv = L.nc++;
        }
        struct conv *c = &L.c[*cv];
        if (c->client < 0) {
            enum bt_client_verdict v = bt_client_side(&p, cfg->client_cidrs, cfg->nclient_cidrs);
            if (v != BT_CLIENT_UNKNOWN) {
                /* the client is this packet's source (or destination): in
                 * canonical terms, fwd packets go src->dst of ck */
                int src_is_client = v == BT_CLIENT_SRC;
                c->client = (swapped == 0) == src_is_client ? 0 : 1;
            }
        }
        uint32_t flen = normalize(rec.data, &p, frame);
        struct bt_parsed np;
        bt_parse(frame, flen, BT_LINK_ETHERNET, &np);
        if (bt_csum_fix(frame, flen, &np) < 0) {
            r = bt_err_set(e, "%s: packet %llu: cannot recompute its checksums", path,
                           (unsigned long long)pn);
            goto out;
        }
        uint32_t ci = *cv, cc2 = c->cap;
        if (grow((void **)&c->idx, &cc2, c->n + 1, sizeof(uint32_t)) < 0 ||
            loader_push(&L, frame, flen, rec.ts_ns, swapped == 0, ci) < 0) {
            c->cap = cc2;
            r = bt_err_setr(e, -ENOMEM, "out of memory");
            goto out;
        }
        c->cap = cc2;
        c->idx[c->n++] = L.n - 1;
    }
    if (r < 0)
        goto out;
    if (L.nc == 0) {
        r = bt_err_set(e, "%s: no TCP or UDP flows in it (%llu packets of other kinds)", path,
                       (unsigned long long)skipped);
        goto out;
    }
    if (cfg->flow >= 0 && (uint32_t)cfg->flow >= L.nc) {
        r = bt_err_set(e, "%s: flow %d asked, the capture holds %u conversations (0..%u)",
                       path, cfg->flow, L.nc, L.nc - 1);
        goto out;
    }
    /* One blob for every template of this pcap, owned by the set. */
    uint8_t *blob = L.blob;
    L.blob = NULL;
    if (tg_tset_keep_blob(s, blob) < 0) {
        r = bt_err_setr(e, -ENOMEM, "out of memory");
        goto out;
    }
    for (uint32_t ci = 0; ci < L.nc; ci++) {
        struct conv *c = &L.c[ci];
        if (cfg->flow >= 0 && (uint32_t)cfg->flow != ci)
            continue;
        uint32_t *offs = malloc(c->n * sizeof(uint32_t)), *lens = malloc(c->n * sizeof(uint32_t));
        uint64_t *ts = malloc(c->n * sizeof(uint64_t));
        uint8_t *side = malloc(c->n);
        char name[TG_PATH_MAX + 32];
        /* undecided (UDP without a CIDR rule): the first packet's source */
        int client = c->client >= 0 ? c->client : (L.fwd[c->idx[0]] ? 0 : 1);

        r = -ENOMEM;
        if (offs && lens && ts && side) {
            for (uint32_t i = 0; i < c->n; i++) {
                uint32_t pi = c->idx[i];
                offs[i] = L.off[pi];
                lens[i] = L.len[pi];
                /* keep the file's order when its clock steps back */
                ts[i] = i && L.ts[pi] < ts[i - 1] ? ts[i - 1] : L.ts[pi];
                /* a fwd packet comes from the canonical src */
                side[i] = (uint8_t)((L.fwd[pi] ? 0 : 1) != client);
            }
            snprintf(name, sizeof(name), "%s#%u", path, ci);
            r = tg_tset_add_frames(s, name, entry, blob, offs, lens, ts, side, c->n, e);
        } else {
            bt_err_set(e, "out of memory");
        }
        free(offs);
        free(lens);
        free(ts);
        free(side);
        if (r < 0)
            goto out;
    }
    s->skipped += skipped;
    r = 0;
out:
    bt_flowtab_free(ft);
    bt_pcap_close(rd);
    loader_free(&L);
    return r;
}
