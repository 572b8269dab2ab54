/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The sim driver: the cluster core on a virtual clock, with closed-loop TCP
 * endpoints on both sides (a client sends its next segment only after the
 * server's answer came back through the cluster, and retransmits with
 * backoff when it does not), member failures at given times, and the capture
 * set written as it goes. Deterministic: same options, same bytes.
 */
#include "gw_api.h"

#include <errno.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bt_capset.h"
#include "bt_csum.h"
#include "bt_err.h"
#include "bt_hash.h"
#include "bt_parse.h"
#include "bt_pkt.h"
#include "bt_sched.h"
#include "gw_serve.h"
#include "gw_sink.h"

#define RETRIES 4

struct sim;

struct sflow {
    struct sim *s;
    uint32_t cip, sip;
    uint16_t cport, sport;
    uint32_t seen_ip;       /* the client as the server sees it (hide-NAT) */
    uint16_t seen_port;
    uint32_t cseq, sseq;
    unsigned step;          /* client message being exchanged */
    unsigned nsteps;        /* SYN, k data, FIN, final ACK */
    unsigned tries;
    uint64_t rto_deadline;  /* the live retransmission timer; older ones are stale */
    uint64_t rto_ns;
    bool done, failed, replied;
    uint8_t srv_flags;      /* the server's pending answer */
    uint16_t srv_payload;
};

struct natent {
    uint32_t ip;
    uint16_t port;
    uint32_t flow1;         /* flow index + 1; 0: empty */
};

struct fail_ev {
    struct sim *s;
    int sgm;
    int kind;
    unsigned weight;
};

struct sim {
    const struct gw_sim_opts *o;
    FILE *stats;
    uint64_t stats_last_ns;
    struct gw_stats_line *line;
    struct gw_serve *serve;
    struct gw_cluster *g;
    struct natent *natmap;  /* (translated address, port) -> flow, open addressing */
    size_t natcap;
    struct bt_sched *sch;
    struct bt_pktpool *pool;
    struct bt_capset_writer *w;
    struct sflow *flows;
    struct fail_ev fails[GW_SIM_MAX_FAILS];
    struct gw_sim_result *res;
    int err;
    char refused[256];   /* why the cluster refused a timeline event ("": none) */
};

static uint32_t ip4(const uint8_t a[16])
{
    return (uint32_t)a[12] << 24 | (uint32_t)a[13] << 16 | (uint32_t)a[14] << 8 | a[15];
}

static void put16(uint8_t *p, uint16_t v)
{
    p[0] = (uint8_t)(v >> 8);
    p[1] = (uint8_t)v;
}

static void put32(uint8_t *p, uint32_t v)
{
    put16(p, (uint16_t)(v >> 16));
    put16(p + 2, (uint16_t)v);
}

/* An Ethernet/IPv4/TCP segment of the flow, in direction c2s or not. */
static struct bt_pkt *segment(struct sim *s, struct sflow *f, bool c2s, uint8_t flags,
                              unsigned payload, uint64_t now)
{
    struct bt_pkt *p = bt_pkt_alloc(s->pool);
    struct bt_parsed pp;
    uint8_t *d;
    unsigned len = 14 + 20 + 20 + payload;

    if (!p)
        return NULL;
    d = p->data;
    memset(d, 0, 54);
    d[0] = 0x02; d[5] = c2s ? 2 : 1;       /* dst MAC */
    d[6] = 0x02; d[11] = c2s ? 1 : 2;      /* src MAC */
    put16(d + 12, 0x0800);
    uint8_t *ip = d + 14, *tcp = ip + 20;
    ip[0] = 0x45;
    put16(ip + 2, (uint16_t)(40 + payload));
    put16(ip + 6, 0x4000);
    ip[8] = 64;
    ip[9] = 6;
    /* the server answers whom it saw: the translated client under hide-NAT */
    put32(ip + 12, c2s ? f->cip : f->sip);
    put32(ip + 16, c2s ? f->sip : f->seen_ip);
    put16(tcp, c2s ? f->cport : f->sport);
    put16(tcp + 2, c2s ? f->sport : f->seen_port);
    put32(tcp + 4, c2s ? f->cseq : f->sseq);
    put32(tcp + 8, (flags & BT_TCP_ACK) ? (c2s ? f->sseq : f->cseq) : 0);
    tcp[12] = 0x50;
    tcp[13] = flags;
    put16(tcp + 14, 65535);
    if (payload) {
        /* the payload pattern, made once */
        static uint8_t pattern[1600];
        if (!pattern[0])
            for (unsigned i = 0; i < sizeof(pattern); i++)
                pattern[i] = (uint8_t)('a' + i % 26);
        memcpy(tcp + 20, pattern, payload);
    }
    p->len = p->wire_len = len;
    p->ts_ns = now;
    bt_parse(d, len, BT_LINK_ETHERNET, &pp);
    bt_csum_fix(d, len, &pp);
    return p;
}

static void inject(struct sim *s, uint64_t now, uint16_t port, struct bt_pkt *p)
{
    int r;

    if (!p) {
        s->res->pool_empty++;
        return;
    }
    /* what crosses the client-side / server-side link */
    r = port == 0 ? bt_capset_writer_client(s->w, now, p->data, p->len, p->wire_len)
                  : bt_capset_writer_server(s->w, now, p->data, p->len, p->wire_len);
    if (r < 0)
        s->err = r;
    gw_rx(s->g, now, port, &p, 1);
}

static uint8_t client_flags(const struct sflow *f, unsigned step)
{
    if (step == 0)
        return BT_TCP_SYN;
    if (step == f->nsteps - 2)
        return BT_TCP_FIN | BT_TCP_ACK;
    if (step == f->nsteps - 1)
        return BT_TCP_ACK;
    return BT_TCP_PSH | BT_TCP_ACK;
}

static void rto_fire(void *arg, uint64_t now);

static void client_send(void *arg, uint64_t now)
{
    struct sflow *f = arg;
    struct sim *s = f->s;
    uint8_t fl = client_flags(f, f->step);
    unsigned payload = (fl & BT_TCP_PSH) ? s->o->req_bytes : 0;

    if (f->done)
        return;
    f->replied = false;
    inject(s, now, 0, segment(s, f, true, fl, payload, now));
    if (f->step == f->nsteps - 1) {
        /* the last ACK needs no answer */
        f->done = true;
        s->res->flows_completed++;
        return;
    }
    /* stale timers are ignored rather than cancelled: cancelling in a heap
     * is a search, and every answered segment would pay it */
    f->rto_deadline = now + f->rto_ns;
    bt_sched_at(s->sch, f->rto_deadline, rto_fire, f);
}

static void rto_fire(void *arg, uint64_t now)
{
    struct sflow *f = arg;

    if (f->done || f->replied || now < f->rto_deadline)
        return;
    if (++f->tries > RETRIES) {
        f->done = f->failed = true;
        f->s->res->flows_failed++;
        return;
    }
    f->s->res->retransmits++;
    f->rto_ns *= 2;
    client_send(f, now);
}

static void server_send(void *arg, uint64_t now)
{
    struct sflow *f = arg;

    inject(f->s, now, 1, segment(f->s, f, false, f->srv_flags, f->srv_payload, now));
}

/* The server answers what reached it, after its own processing delay. */
static void server_rx(struct sim *s, struct sflow *f, uint64_t now, const struct bt_parsed *p)
{
    f->seen_ip = ip4(p->src);
    f->seen_port = p->sport;
    if (p->tcp_flags & BT_TCP_SYN) {
        f->srv_flags = BT_TCP_SYN | BT_TCP_ACK;
        f->srv_payload = 0;
    } else if (p->tcp_flags & BT_TCP_FIN) {
        f->srv_flags = BT_TCP_FIN | BT_TCP_ACK;
        f->srv_payload = 0;
    } else if (p->payload_len) {
        f->srv_flags = BT_TCP_PSH | BT_TCP_ACK;
        f->srv_payload = (uint16_t)s->o->resp_bytes;
    } else {
        return; /* a bare ACK: nothing to answer */
    }
    bt_sched_at(s->sch, now + s->o->server_delay_ns, server_send, f);
}

/* The client gets the answer to its current step: on to the next. */
static void client_rx(struct sim *s, struct sflow *f, uint64_t now)
{
    if (f->done || f->replied)
        return;
    f->replied = true;
    f->tries = 0;
    f->rto_ns = s->o->rto_ns;
    /* sequence numbers advance by what each side sent (SYN and FIN count one) */
    uint8_t fl = client_flags(f, f->step);
    f->cseq += (fl & (BT_TCP_SYN | BT_TCP_FIN)) ? 1 : (fl & BT_TCP_PSH) ? s->o->req_bytes : 0;
    f->sseq += (fl & (BT_TCP_SYN | BT_TCP_FIN)) ? 1 : (fl & BT_TCP_PSH) ? s->o->resp_bytes : 0;
    f->step++;
    uint64_t at = now + (f->step == f->nsteps - 1 ? 0 : s->o->interval_ns);
    bt_sched_at(s->sch, at, client_send, f);
}

static size_t nat_slot(const struct sim *s, uint32_t a, uint16_t port)
{
    return (size_t)bt_mix64(((uint64_t)a << 16) | port) & (s->natcap - 1);
}

static struct sflow *flow_of(struct sim *s, const struct bt_parsed *p, bool to_server)
{
    /* the client port encodes the flow index (see flow setup) */
    uint16_t cport = to_server ? p->sport : p->dport;
    uint32_t cip = ip4(to_server ? p->src : p->dst);

    if (to_server && s->natmap && bt_cidr_match(&s->o->cluster.nat_pool, p->src)) {
        /* a translated client: the NAT callback said which flow it is */
        for (size_t k = nat_slot(s, cip, cport);; k = (k + 1) & (s->natcap - 1)) {
            const struct natent *n = &s->natmap[k];
            if (!n->flow1)
                return NULL;
            if (n->ip == cip && n->port == cport)
                return &s->flows[n->flow1 - 1];
        }
    }
    uint64_t i = (uint64_t)(cip - 0x0a000001u) * 50000 + (uint64_t)(cport - 10000);
    if (cport < 10000 || i >= s->o->flows)
        return NULL;
    return &s->flows[i];
}

static void drain(struct sim *s, uint64_t now)
{
    struct bt_pkt *out[32];
    unsigned n;

    while ((n = gw_tx(s->g, now, out, 32)) > 0) {
        for (unsigned i = 0; i < n; i++) {
            struct bt_pkt *p = out[i];
            struct bt_parsed pp;
            int r = p->port == 1 ? bt_capset_writer_server(s->w, now, p->data, p->len, p->wire_len)
                                 : bt_capset_writer_client(s->w, now, p->data, p->len, p->wire_len);
            if (r < 0)
                s->err = r;
            if (bt_parse(p->data, p->len, BT_LINK_ETHERNET, &pp) == BT_PARSE_OK) {
                struct sflow *f = flow_of(s, &pp, p->port == 1);
                if (f && p->port == 1)
                    server_rx(s, f, now, &pp);
                else if (f)
                    client_rx(s, f, now);
            }
            bt_pkt_free(p);
        }
    }
}

static void tap(void *arg, int sgm, const struct bt_pkt *p)
{
    struct sim *s = arg;
    int r = bt_capset_writer_sgm(s->w, sgm, p->ts_ns, p->data, p->len, p->wire_len);

    if (r < 0)
        s->err = r;
}

static void do_event(void *arg, uint64_t now)
{
    struct fail_ev *fe = arg;
    const char *cmd;
    char why[160];
    int r;

    /* the cluster reports each event that happened (on_event) */
    switch (fe->kind) {
    case BT_EV_SGM_JOIN:
        cmd = "add";
        r = gw_add(fe->s->g, now, fe->sgm, fe->weight);
        break;
    case BT_EV_WEIGHT:
        cmd = "weight";
        r = gw_weight(fe->s->g, now, fe->sgm, fe->weight);
        break;
    case BT_EV_SGM_UP:
        cmd = "restore";
        r = gw_restore(fe->s->g, now, fe->sgm);
        break;
    default:
        cmd = "fail";
        r = gw_fail(fe->s->g, now, fe->sgm);
        break;
    }
    if (r >= 0)
        return;
    /* a timeline the cluster cannot follow (a member failed twice,
     * restored while up) is bad input: the run stops and says so */
    fe->s->res->bad_events++;
    if (!fe->s->refused[0]) {
        snprintf(fe->s->refused, sizeof(fe->s->refused),
                 "event %u of the timeline (%s sgm %d at %.6f s): the cluster refused it: %s",
                 (unsigned)(fe - fe->s->fails) + 1, cmd, fe->sgm, (double)now / 1e9,
                 gw_refusal(fe->s->g, cmd, fe->sgm, r, why, sizeof(why)));
        fe->s->err = -EINVAL;
        fe->s->res->refused_event = (unsigned)(fe - fe->s->fails) + 1;
    }
}

static void on_event(void *arg, const struct bt_event *ev)
{
    struct sim *s = arg;
    int r = bt_capset_writer_event(s->w, ev);

    if (r < 0)
        s->err = r;
}

static void on_nat(void *arg, const struct bt_nat_map *m)
{
    struct sim *s = arg;
    int r = bt_capset_writer_nat(s->w, m);
    uint32_t cip = ip4(m->osrc), tip = ip4(m->tsrc);
    uint64_t i = (uint64_t)(cip - 0x0a000001u) * 50000 + (uint64_t)(m->osport - 10000);

    if (r < 0)
        s->err = r;
    if (!s->natmap || m->osport < 10000 || i >= s->o->flows)
        return;
    for (size_t k = nat_slot(s, tip, m->tsport);; k = (k + 1) & (s->natcap - 1)) {
        struct natent *n = &s->natmap[k];
        if (!n->flow1 || (n->ip == tip && n->port == m->tsport)) {
            n->ip = tip;
            n->port = m->tsport;
            n->flow1 = (uint32_t)i + 1;
            return;
        }
    }
}

static void on_correction(void *arg, const struct bt_correction *c)
{
    struct sim *s = arg;
    int r = bt_capset_writer_correction(s->w, c);

    if (r < 0)
        s->err = r;
}

/* One line of the stats stream (DESIGN.md contract 2) at virtual time now,
 * to stats.jsonl and to the socket's clients. */
static void stats_line(struct sim *s, uint64_t now)
{
    char *txt;

    gw_stats_sample(s->g, now, s->line);
    txt = gw_stats_line_json(s->line);
    if (!txt || fprintf(s->stats, "%s\n", txt) < 0)
        s->err = -EIO;
    if (txt && s->serve)
        gw_serve_stats(s->serve, txt);
    free(txt);
    s->stats_last_ns = now;
}

static void stats_tick(void *arg, uint64_t now)
{
    struct sim *s = arg;

    stats_line(s, now);
    /* keep ticking while conversations remain (or while serving) */
    if (s->res->flows_completed + s->res->flows_failed < s->o->flows || now < s->o->duration_ns)
        bt_sched_at(s->sch, now + s->o->stats_interval_ns, stats_tick, s);
}

/* The latest virtual time a run may schedule: the clock is a uint64_t of
 * ns and the drivers add a delay to a time (now + interval, the stats
 * tick), so 2^62 (146 years) leaves room for every sum. baton-gateway keeps
 * its times within 1h; other callers (plans, tests) are checked here. */
#define SIM_TIME_MAX ((double)(1ULL << 62))

/* -ERANGE if a time of the run could pass SIM_TIME_MAX: the flows'
 * opening, a conversation's longest course (every step retried RETRIES
 * times, the timeout doubling), an event, the duration and its last tick. */
static int check_times(const struct gw_sim_opts *o, struct bt_err *e)
{
    double open = (double)(o->flows - 1) * 1e9 / o->cps;
    double step = (double)o->rto_ns * (double)((2u << RETRIES) - 1) + (double)o->interval_ns +
                  (double)o->server_delay_ns;
    double conv = ((double)o->exchanges + 3) * step;

    if (!(open <= SIM_TIME_MAX))
        return bt_err_setr(e, -ERANGE, "flows open until %.3g s at %g a second: past the clock's 2^62 ns (146 years)",
                           open / 1e9, o->cps);
    if (!(open + conv <= SIM_TIME_MAX))
        return bt_err_setr(e, -ERANGE, "a conversation may last %.3g s (%u exchanges, interval %.3g s, "
                           "timeout %.3g s doubling): past the clock's 2^62 ns (146 years)",
                           conv / 1e9, o->exchanges, (double)o->interval_ns / 1e9, (double)o->rto_ns / 1e9);
    for (unsigned k = 0; k < o->nfails && k < GW_SIM_MAX_FAILS; k++)
        if ((double)o->fail_ns[k] > SIM_TIME_MAX)
            return bt_err_setr(e, -ERANGE, "event %u at %.3g s: past the clock's 2^62 ns (146 years)", k + 1,
                               (double)o->fail_ns[k] / 1e9);
    if ((double)o->duration_ns > SIM_TIME_MAX)
        return bt_err_setr(e, -ERANGE, "--duration %.3g s: past the clock's 2^62 ns (146 years)",
                           (double)o->duration_ns / 1e9);
    if ((double)o->stats_interval_ns > SIM_TIME_MAX)
        return bt_err_setr(e, -ERANGE, "stats interval %.3g s: past the clock's 2^62 ns (146 years)",
                           (double)o->stats_interval_ns / 1e9);
    return 0;
}

int gw_sim_run(const struct gw_sim_opts *o, struct gw_sim_result *res, struct bt_err *e)
{
    struct sim s;
    int r = 0;

    memset(&s, 0, sizeof(s));
    memset(res, 0, sizeof(*res));
    s.o = o;
    s.res = res;
    if (o->flows == 0 || o->flows > 50000ULL * 200 || !(o->cps > 0))
        return bt_err_set(e, "--flows must be 1..10000000 and --cps > 0");
    if (o->nfails > GW_SIM_MAX_FAILS)
        return bt_err_set(e, "at most %d timeline events", GW_SIM_MAX_FAILS);
    if ((r = check_times(o, e)) < 0)
        return r;
    s.g = gw_cluster_new(&o->cluster, o->seed);
    if (!s.g)
        return bt_err_set(e, "bad cluster configuration (members 1..64, weights 0..512, "
                             "an IPv4 NAT pool, a policy PCRE2 accepts)");
    s.line = malloc(sizeof(*s.line));
    if (o->cluster.nat) {
        for (s.natcap = 1024; s.natcap < 4 * o->flows; s.natcap *= 2)
            ;
        if (!(s.natmap = calloc(s.natcap, sizeof(*s.natmap)))) {
            r = bt_err_setr(e, -ENOMEM, "out of memory");
            goto out;
        }
    }
    s.sch = bt_sched_new();
    s.pool = bt_pktpool_new(1u << 16, 2048);
    s.flows = calloc(o->flows, sizeof(*s.flows));
    if (!s.sch || !s.pool || !s.flows || !s.line) {
        r = bt_err_setr(e, -ENOMEM, "out of memory");
        goto out;
    }
    s.w = bt_capset_writer_open(o->out, e);
    if (!s.w) {
        r = -EIO;
        goto out;
    }
    /* both link captures, even if a side gets nothing (100 % loss, not a
     * missing file) */
    if ((r = bt_capset_writer_links(s.w)) < 0) {
        r = bt_err_setr(e, r, "%s: cannot create the link captures: %s", o->out, strerror(-r));
        goto out;
    }
    gw_set_tap(s.g, tap, &s);
    gw_set_correction_cb(s.g, on_correction, &s);
    gw_set_event_cb(s.g, on_event, &s);
    gw_set_nat_cb(s.g, on_nat, &s);
    if (o->serve && !(s.serve = gw_serve_open(o->serve, o->speed, e))) {
        r = -EINVAL;
        goto out;
    }
    {
        char path[4096];
        bt_capset_path(o->out, "stats.jsonl", path, sizeof(path));
        s.stats = fopen(path, "w");
        if (!s.stats) {
            r = bt_err_setr(e, -errno, "%s: cannot create: %s", path, strerror(errno));
            goto out;
        }
        if (o->stats_interval_ns)
            bt_sched_at(s.sch, o->stats_interval_ns, stats_tick, &s);
    }
    for (uint64_t i = 0; i < o->flows; i++) {
        struct sflow *f = &s.flows[i];
        f->s = &s;
        f->cip = 0x0a000001u + (uint32_t)(i / 50000);
        f->cport = (uint16_t)(10000 + i % 50000);
        f->seen_ip = f->cip;
        f->seen_port = f->cport;
        f->sip = 0xc0000200u + 1 + (uint32_t)(bt_mix64(i ^ o->cluster.seed) % 200);
        f->sport = 80;
        f->cseq = (uint32_t)bt_mix64(i * 2 + o->cluster.seed);
        f->sseq = (uint32_t)bt_mix64(i * 2 + 1 + o->cluster.seed);
        f->nsteps = 1 + o->exchanges + 2;
        f->rto_ns = o->rto_ns;
        bt_sched_at(s.sch, (uint64_t)((double)i * 1e9 / o->cps), client_send, f);
    }
    for (unsigned k = 0; k < o->nfails; k++) {
        s.fails[k].s = &s;
        s.fails[k].sgm = o->fail_sgm[k];
        s.fails[k].kind = o->fail_kind[k];
        s.fails[k].weight = o->fail_weight[k];
        bt_sched_at(s.sch, o->fail_ns[k], do_event, &s.fails[k]);
    }
    for (;;) {
        uint64_t t = bt_sched_next_ns(s.sch), tg = gw_next_ns(s.g);
        if (t == UINT64_MAX && gw_idle(s.g))
            break;
        if (tg < t)
            t = tg;
        if (t == UINT64_MAX)
            break;
        if (t < bt_sched_now(s.sch))
            t = bt_sched_now(s.sch);
        if (s.serve) {
            int pr = gw_serve_pace(s.serve, s.g, t);
            if (pr == -EINTR)
                break;
            if (pr == 1) {
                drain(&s, bt_sched_now(s.sch));
                continue;   /* a command changed what happens next */
            }
        }
        /* one instant at a time: the endpoints' sends, then what the cluster forwards */
        bt_sched_run_until(s.sch, t);
        drain(&s, t);
        res->end_ns = t;
        if (s.err)
            break;
    }
    res->flows = o->flows;
    gw_get_stats(s.g, &res->gw);
    if (s.stats_last_ns < res->end_ns)
        stats_line(&s, res->end_ns);  /* the last, partial interval */
out:
    if (s.stats && fclose(s.stats) != 0 && r == 0)
        r = bt_err_setr(e, -EIO, "%s/stats.jsonl: write failed", o->out);
    if (s.w) {
        struct bt_capset_meta m;
        gw_sink_meta(&o->cluster, s.g ? gw_member_count(s.g) : o->cluster.nmembers, o, "baton-gateway sim", &m);
        int cr = bt_capset_writer_close(s.w, &m, e);
        if (r == 0 && cr < 0)
            r = cr;
    }
    if (r == 0 && s.refused[0])
        r = bt_err_setr(e, -EINVAL, "%s", s.refused);
    else if (r == 0 && s.err)
        r = bt_err_setr(e, s.err, "%s: write failed: %s", o->out, strerror(-s.err));
    gw_serve_close(s.serve);
    gw_cluster_free(s.g);
    free(s.line);
    free(s.natmap);
    bt_sched_free(s.sch);
    bt_pktpool_free(s.pool);
    free(s.flows);
    return r;
}
