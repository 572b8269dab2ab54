/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Open-loop engine: flow i starts at i / cps and plays the template's
 * packets at their relative times, with the client address and port and the
 * server address rewritten (server port kept). Packets come out in time
 * order from a min-heap holding each active flow's next packet; memory grows
 * with concurrent flows only.
 */
#include "tg_api.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "bt_csum.h"
#include "bt_err.h"
#include "bt_hash.h"
#include "bt_parse.h"

struct hent {
    uint64_t ts;
    uint64_t flow;
    uint32_t k;     /* template packet index */
};

struct tg_engine {
    struct tg_profile p;
    struct hent *h;
    size_t n, cap;
    uint64_t next_flow;
    uint32_t nports;
    struct tg_summary sum;
};

void tg_profile_default(struct tg_profile *p)
{
    memset(p, 0, sizeof(*p));
    p->flows = 1000;
    p->cps = 1000;
    bt_cidr_parse("16.0.0.0/8", &p->clients);
    bt_cidr_parse("48.0.0.0/16", &p->servers);
    p->cport_lo = 1024;
    p->cport_hi = 65535;
}

static bool hless(const struct hent *a, const struct hent *b)
{
    if (a->ts != b->ts)
        return a->ts < b->ts;
    if (a->flow != b->flow)
        return a->flow < b->flow;
    return a->k < b->k;
}

static int hpush(struct tg_engine *g, struct hent e)
{
    size_t i;

    if (g->n == g->cap) {
        size_t cap = g->cap ? g->cap * 2 : 1024;
        struct hent *h = realloc(g->h, cap * sizeof(*h));
        if (!h)
            return -ENOMEM;
        g->h = h;
        g->cap = cap;
    }
    i = g->n++;
    g->h[i] = e;
    while (i && hless(&g->h[i], &g->h[(i - 1) / 2])) {
        struct hent t = g->h[i];
        g->h[i] = g->h[(i - 1) / 2];
        g->h[(i - 1) / 2] = t;
        i = (i - 1) / 2;
    }
    return 0;
}

static struct hent hpop(struct tg_engine *g)
{
    struct hent top = g->h[0];
    size_t i = 0;

    g->h[0] = g->h[--g->n];
    for (;;) {
        size_t l = 2 * i + 1, r = l + 1, m = i;
        if (l < g->n && hless(&g->h[l], &g->h[m]))
            m = l;
        if (r < g->n && hless(&g->h[r], &g->h[m]))
            m = r;
        if (m == i)
            break;
        struct hent t = g->h[i];
        g->h[i] = g->h[m];
        g->h[m] = t;
        i = m;
    }
    return top;
}

struct tg_engine *tg_engine_new(const struct tg_profile *p, struct bt_err *e)
{
    struct tg_engine *g;

    if (p->tmpl.n == 0) {
        bt_err_set(e, "no template: give --synth SPEC");
        return NULL;
    }
    if (!(p->cps > 0) || p->flows == 0) {
        bt_err_set(e, "--cps must be > 0 and --flows >= 1");
        return NULL;
    }
    if (p->cport_hi < p->cport_lo) {
        bt_err_set(e, "client port range is empty");
        return NULL;
    }
    uint64_t nports = (uint64_t)p->cport_hi - p->cport_lo + 1;
    /* distinct conversations need distinct (client address, client port) */
    if (bt_cidr_size(&p->clients) != UINT64_MAX &&
        bt_cidr_size(&p->clients) * nports < p->flows) {
        bt_err_set(e, "%llu flows need more client addresses x ports than the pool has (%llu)",
                   (unsigned long long)p->flows,
                   (unsigned long long)(bt_cidr_size(&p->clients) * nports));
        return NULL;
    }
    g = calloc(1, sizeof(*g));
    if (!g) {
        bt_err_setr(e, -ENOMEM, "out of memory");
        return NULL;
    }
    g->p = *p;  /* the template's packet buffers stay the caller's */
    g->nports = (uint32_t)nports;
    return g;
}

struct tg_engine *tg_engine_free(struct tg_engine *g)
{
    if (g) {
        free(g->h);
        free(g);
    }
    return NULL;
}

static uint64_t flow_start(const struct tg_engine *g, uint64_t i)
{
    return (uint64_t)((double)i * 1e9 / g->p.cps);
}

/* Rewrites a template packet for flow i into buf and fixes its checksums. */
static uint32_t instantiate(const struct tg_engine *g, uint64_t i, const struct tg_tpkt *tp,
                            uint8_t *buf)
{
    struct bt_parsed p;
    uint8_t caddr[16], saddr[16];
    uint16_t cport = (uint16_t)(g->p.cport_lo + i % g->nports);

    memcpy(buf, tp->data, tp->len);
    bt_cidr_nth(&g->p.clients, i / g->nports, caddr);
    bt_cidr_nth(&g->p.servers, bt_mix64(i ^ g->p.seed) % bt_cidr_size(&g->p.servers), saddr);
    if (bt_parse(buf, tp->len, BT_LINK_ETHERNET, &p) != BT_PARSE_OK || p.ip_version != 4)
        return tp->len;
    uint8_t *ip = buf + p.l3_off, *l4 = buf + p.l4_off;
    memcpy(ip + (tp->from_server ? 16 : 12), caddr + 12, 4);
    memcpy(ip + (tp->from_server ? 12 : 16), saddr + 12, 4);
    l4[tp->from_server ? 2 : 0] = (uint8_t)(cport >> 8);
    l4[tp->from_server ? 3 : 1] = (uint8_t)cport;
    bt_parse(buf, tp->len, BT_LINK_ETHERNET, &p);
    bt_csum_fix(buf, tp->len, &p);
    return tp->len;
}

int tg_next(struct tg_engine *g, uint64_t *ts_ns, uint16_t *port, uint8_t *buf, uint32_t *len)
{
    /* start every flow due before the earliest pending packet */
    while (g->next_flow < g->p.flows &&
           (g->n == 0 || flow_start(g, g->next_flow) <= g->h[0].ts)) {
        uint64_t s = flow_start(g, g->next_flow);
        if (hpush(g, (struct hent){s + g->p.tmpl.p[0].rel_ns, g->next_flow, 0}) < 0)
            return -ENOMEM;
        g->next_flow++;
        g->sum.flows_started++;
    }
    if (g->n == 0)
        return 0;
    struct hent e = hpop(g);
    const struct tg_tpkt *tp = &g->p.tmpl.p[e.k];
    *len = instantiate(g, e.flow, tp, buf);
    *ts_ns = e.ts;
    *port = tp->from_server ? 1 : 0;
    g->sum.tx_packets++;
    g->sum.tx_bytes += *len;
    g->sum.last_ns = e.ts;
    if (e.k + 1 < g->p.tmpl.n) {
        uint64_t s = flow_start(g, e.flow);
        if (hpush(g, (struct hent){s + g->p.tmpl.p[e.k + 1].rel_ns, e.flow, e.k + 1}) < 0)
            return -ENOMEM;
    } else {
        g->sum.flows_completed++;
    }
    return 1;
}

void tg_summary_get(const struct tg_engine *g, struct tg_summary *s)
{
    *s = g->sum;
}
