/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * A small TCP conversation generator on a virtual clock that drives the
 * gateway's Core API directly (gw_rx / gw_tx / gw_next_ns), for the property
 * tests. Flow i: client 10.0.0.0+i+1 port 10000+i%50000 talks to server
 * 198.18.0.0+i port 80 (the server address names the flow, which hide-NAT
 * leaves alone): SYN, `exchanges` request/response pairs, FIN both ways,
 * the last ACK. The client sends its next segment only when the answer came
 * back, and retransmits after rto (doubling, 4 tries) before giving up. The
 * tap records which members saw each direction; the correction callback
 * checks each correction went to the flow's owner.
 */
#ifndef GW_HARNESS_H
#define GW_HARNESS_H

#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "bt_capset.h"
#include "bt_csum.h"
#include "bt_flow.h"
#include "bt_parse.h"
#include "bt_pkt.h"
#include "bt_sched.h"
#include "gw_api.h"

#define H_CBASE 0x0a000001u
#define H_SBASE 0xc6120000u

struct hflow {
    struct harness *h;
    unsigned idx;
    uint32_t cip, sip;
    uint16_t cport, sport;
    uint32_t cseq, sseq;
    unsigned step, nsteps, tries, retrans;
    uint64_t rto_ns, rto_deadline;
    uint64_t step_sent_ns, max_wait_ns;
    uint64_t established_ns;  /* when the client got the SYN+ACK (0: not yet) */
    bool done, failed, replied, rst, started;
    uint64_t c2s_mask, s2c_mask;  /* members the distributor delivered each direction to */
    int syn_member;
    uint8_t srv_flags;
    unsigned srv_payload;
    uint32_t seen_ip;         /* the client as the server sees it (hide-NAT) */
    uint16_t seen_port;
};

struct harness {
    struct gw_cluster *g;
    struct bt_pktpool *pool;
    struct bt_sched *s;
    struct hflow *f;
    unsigned n;
    unsigned exchanges, req, resp;
    uint64_t interval_ns, rto_ns, server_delay_ns;
    uint64_t corrections, corr_to_owner, nat_maps, events;
    uint64_t now;
};

static void h_put16(uint8_t *p, uint16_t v)
{
    p[0] = (uint8_t)(v >> 8);
    p[1] = (uint8_t)v;
}

static void h_put32(uint8_t *p, uint32_t v)
{
    h_put16(p, (uint16_t)(v >> 16));
    h_put16(p + 2, (uint16_t)v);
}

static uint32_t h_ip(const uint8_t a[16])
{
    return (uint32_t)a[12] << 24 | (uint32_t)a[13] << 16 | (uint32_t)a[14] << 8 | a[15];
}

/* The flow a parsed packet belongs to (by its server address), or NULL. */
static struct hflow *h_flow_of(struct harness *h, const struct bt_parsed *p, bool *c2s)
{
    uint32_t s = h_ip(p->dst), d = h_ip(p->src);
    if (s - H_SBASE < h->n) {
        *c2s = true;
        return &h->f[s - H_SBASE];
    }
    if (d - H_SBASE < h->n) {
        *c2s = false;
        return &h->f[d - H_SBASE];
    }
    return NULL;
}

static struct bt_pkt *h_segment(struct harness *h, struct hflow *f, bool c2s, uint8_t flags,
                                unsigned payload)
{
    struct bt_pkt *p = bt_pkt_alloc(h->pool);
    struct bt_parsed pp;
    uint8_t *d;
    unsigned len = 14 + 20 + 20 + payload;

    if (!p)
        return NULL;
    d = p->data;
    memset(d, 0, 54 + payload);
    d[0] = 0x02; d[5] = c2s ? 2 : 1;
    d[6] = 0x02; d[11] = c2s ? 1 : 2;
    h_put16(d + 12, 0x0800);
    uint8_t *ip = d + 14, *tcp = ip + 20;
    ip[0] = 0x45;
    h_put16(ip + 2, (uint16_t)(40 + payload));
    ip[8] = 64;
    ip[9] = 6;
    /* the server answers whom it saw: the translated client under hide-NAT */
    h_put32(ip + 12, c2s ? f->cip : f->sip);
    h_put32(ip + 16, c2s ? f->sip : (f->seen_ip ? f->seen_ip : f->cip));
    h_put16(tcp, c2s ? f->cport : f->sport);
    h_put16(tcp + 2, c2s ? f->sport : (f->seen_ip ? f->seen_port : f->cport));
    h_put32(tcp + 4, c2s ? f->cseq : f->sseq);
    h_put32(tcp + 8, (flags & BT_TCP_ACK) ? (c2s ? f->sseq : f->cseq) : 0);
    tcp[12] = 0x50;
    tcp[13] = flags;
    h_put16(tcp + 14, 65535);
    for (unsigned i = 0; i < payload; i++)
        tcp[20 + i] = (uint8_t)('a' + i % 26);
    p->len = p->wire_len = len;
    bt_parse(d, len, BT_LINK_ETHERNET, &pp);
    bt_csum_fix(d, len, &pp);
    return p;
}

static uint8_t h_client_flags(const struct hflow *f)
{
    if (f->step == 0)
        return BT_TCP_SYN;
    if (f->step == f->nsteps - 2)
        return BT_TCP_FIN | BT_TCP_ACK;
    if (f->step == f->nsteps - 1)
        return BT_TCP_ACK;
    return BT_TCP_PSH | BT_TCP_ACK;
}

static void h_rto(void *arg, uint64_t now);

static void h_client_send(void *arg, uint64_t now)
{
    struct hflow *f = arg;
    struct harness *h = f->h;
    uint8_t fl = h_client_flags(f);
    struct bt_pkt *p;

    if (f->done)
        return;
    if (!f->started) {
        f->started = true;
    }
    if (f->tries == 0)
        f->step_sent_ns = now;
    f->replied = false;
    p = h_segment(h, f, true, fl, (fl & BT_TCP_PSH) ? h->req : 0);
    if (p)
        gw_rx(h->g, now, 0, &p, 1);
    if (f->step == f->nsteps - 1) {
        f->done = true;  /* the last ACK needs no answer */
        return;
    }
    f->rto_deadline = now + f->rto_ns;
    bt_sched_at(h->s, f->rto_deadline, h_rto, f);
}

static void h_rto(void *arg, uint64_t now)
{
    struct hflow *f = arg;

    if (f->done || f->replied || now < f->rto_deadline)
        return;
    if (++f->tries > 4) {
        f->done = f->failed = true;
        return;
    }
    f->retrans++;
    f->rto_ns *= 2;
    h_client_send(f, now);
}

static void h_server_send(void *arg, uint64_t now)
{
    struct hflow *f = arg;
    struct bt_pkt *p = h_segment(f->h, f, false, f->srv_flags, f->srv_payload);

    if (p)
        gw_rx(f->h->g, now, 1, &p, 1);
}

static void h_server_rx(struct harness *h, struct hflow *f, const struct bt_parsed *p, uint64_t now)
{
    if (p->tcp_flags & BT_TCP_RST) {
        f->rst = true;
        return;
    }
    f->seen_ip = h_ip(p->src);
    f->seen_port = p->sport;
    if (p->tcp_flags & BT_TCP_SYN) {
        f->srv_flags = BT_TCP_SYN | BT_TCP_ACK;
        f->srv_payload = 0;
    } else if (p->tcp_flags & BT_TCP_FIN) {
        f->srv_flags = BT_TCP_FIN | BT_TCP_ACK;
        f->srv_payload = 0;
    } else if (p->payload_len) {
        f->srv_flags = BT_TCP_PSH | BT_TCP_ACK;
        f->srv_payload = h->resp;
    } else {
        return;
    }
    bt_sched_at(h->s, now + h->server_delay_ns, h_server_send, f);
}

static void h_client_rx(struct harness *h, struct hflow *f, const struct bt_parsed *p, uint64_t now)
{
    uint8_t fl;

    if (p->tcp_flags & BT_TCP_RST) {
        f->rst = true;
        f->done = f->failed = true;
        return;
    }
    if (f->done || f->replied)
        return;
    f->replied = true;
    if (now - f->step_sent_ns > f->max_wait_ns)
        f->max_wait_ns = now - f->step_sent_ns;
    if (f->step == 0)
        f->established_ns = now;
    f->tries = 0;
    f->rto_ns = h->rto_ns;
    fl = h_client_flags(f);
    f->cseq += (fl & (BT_TCP_SYN | BT_TCP_FIN)) ? 1 : (fl & BT_TCP_PSH) ? h->req : 0;
    f->sseq += (fl & (BT_TCP_SYN | BT_TCP_FIN)) ? 1 : (fl & BT_TCP_PSH) ? h->resp : 0;
    f->step++;
    bt_sched_at(h->s, now + (f->step == f->nsteps - 1 ? 0 : h->interval_ns), h_client_send, f);
}

static void h_tap(void *arg, int sgm, const struct bt_pkt *pkt)
{
    struct harness *h = arg;
    struct bt_parsed p;
    struct hflow *f;
    bool c2s;

    if (bt_parse(pkt->data, pkt->len, BT_LINK_ETHERNET, &p) != BT_PARSE_OK)
        return;
    if (!(f = h_flow_of(h, &p, &c2s)))
        return;
    *(c2s ? &f->c2s_mask : &f->s2c_mask) |= 1ULL << (sgm - 1);
    if (c2s && (p.tcp_flags & BT_TCP_SYN) && !f->syn_member)
        f->syn_member = sgm;
}

static void h_key(const struct hflow *f, struct bt_flow_key *k);

/* Each correction must go to the owner of the flow it belongs to (found by
 * the server address, which hide-NAT leaves alone). */
static void h_corr(void *arg, const struct bt_correction *c)
{
    struct harness *h = arg;
    struct bt_flow_key k;
    uint32_t s = h_ip(c->src), d = h_ip(c->dst);
    int owner = 0, backup;

    h->corrections++;
    if (d - H_SBASE < h->n)
        h_key(&h->f[d - H_SBASE], &k);
    else if (s - H_SBASE < h->n)
        h_key(&h->f[s - H_SBASE], &k);
    else
        return;
    if (gw_flow_where(h->g, &k, &owner, &backup, NULL) == 0 && owner == c->to)
        h->corr_to_owner++;
}

static void h_nat(void *arg, const struct bt_nat_map *m)
{
    (void)m;
    ((struct harness *)arg)->nat_maps++;
}

static void h_event(void *arg, const struct bt_event *ev)
{
    (void)ev;
    ((struct harness *)arg)->events++;
}

static struct harness *h_new(const struct gw_config *cfg, unsigned nflows, unsigned exchanges)
{
    struct harness *h = calloc(1, sizeof(*h));

    if (!h)
        return NULL;
    h->g = gw_cluster_new(cfg, 7);
    h->pool = bt_pktpool_new(1u << 16, 2048);
    h->s = bt_sched_new();
    h->f = calloc(nflows, sizeof(*h->f));
    h->n = nflows;
    h->exchanges = exchanges;
    h->req = 100;
    h->resp = 500;
    h->interval_ns = 50000000ULL;
    h->rto_ns = 200000000ULL;
    h->server_delay_ns = 100000ULL;
    if (!h->g || !h->pool || !h->s || !h->f)
        return NULL;
    for (unsigned i = 0; i < nflows; i++) {
        struct hflow *f = &h->f[i];
        f->h = h;
        f->idx = i;
        f->cip = H_CBASE + i;
        f->cport = (uint16_t)(10000 + i % 50000);
        f->sip = H_SBASE + i;
        f->sport = 80;
        f->cseq = 1000 + i;
        f->sseq = 5000 + i;
        f->nsteps = 1 + exchanges + 2;
        f->rto_ns = h->rto_ns;
    }
    gw_set_tap(h->g, h_tap, h);
    gw_set_correction_cb(h->g, h_corr, h);
    gw_set_nat_cb(h->g, h_nat, h);
    gw_set_event_cb(h->g, h_event, h);
    return h;
}

static void h_free(struct harness *h)
{
    if (!h)
        return;
    gw_cluster_free(h->g);
    bt_sched_free(h->s);
    bt_pktpool_free(h->pool);
    free(h->f);
    free(h);
}

/* Flow i starts at t. */
static void h_start(struct harness *h, unsigned i, uint64_t t)
{
    bt_sched_at(h->s, t, h_client_send, &h->f[i]);
}

static void h_drain(struct harness *h, uint64_t now)
{
    struct bt_pkt *out[32];
    unsigned n;

    while ((n = gw_tx(h->g, now, out, 32)) > 0) {
        for (unsigned i = 0; i < n; i++) {
            struct bt_parsed p;
            struct hflow *f;
            bool c2s;
            if (bt_parse(out[i]->data, out[i]->len, BT_LINK_ETHERNET, &p) == BT_PARSE_OK &&
                (f = h_flow_of(h, &p, &c2s))) {
                if (out[i]->port == 1 && c2s)
                    h_server_rx(h, f, &p, now);
                else if (out[i]->port == 0 && !c2s)
                    h_client_rx(h, f, &p, now);
            }
            bt_pkt_free(out[i]);
        }
    }
}

/* Runs the clock up to until (or until nothing is left to do). */
static void h_run_until(struct harness *h, uint64_t until)
{
    for (;;) {
        uint64_t t = bt_sched_next_ns(h->s), tg = gw_next_ns(h->g);
        if (t == UINT64_MAX && gw_idle(h->g))
            break;
        if (tg < t)
            t = tg;
        if (t > until || t == UINT64_MAX)
            break;
        if (t < h->now)
            t = h->now;
        bt_sched_run_until(h->s, t);
        h_drain(h, t);
        h->now = t;
    }
    if (until != UINT64_MAX && until > h->now)
        h->now = until;
}

static void h_run(struct harness *h)
{
    h_run_until(h, UINT64_MAX);
}

/* The flow's key in the client-to-server direction (original tuple). */
static void h_key(const struct hflow *f, struct bt_flow_key *k)
{
    memset(k, 0, sizeof(*k));
    k->src[10] = k->src[11] = k->dst[10] = k->dst[11] = 0xff;
    h_put32(k->src + 12, f->cip);
    h_put32(k->dst + 12, f->sip);
    k->sport = f->cport;
    k->dport = f->sport;
    k->proto = 6;
    k->family = 4;
}

static int h_popcount(uint64_t m)
{
    return __builtin_popcountll(m);
}

#endif
