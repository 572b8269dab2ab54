/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * A member (SGM): what it does with a packet the distributor delivered
 * (connection lookup, TCP state, policy, hide-NAT, HyperSync records, the
 * correction layer), with a sync record that reached it, and with its
 * timeouts. State is updated when a packet arrives; the packet leaves when
 * the member's queue has done its work (the cost model in gw_cluster.c).
 */
#include "gw_priv.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "bt_csum.h"
#include "bt_dist.h"
#include "bt_flow_table.h"
#include "bt_hash.h"
#include "bt_parse.h"
#include "bt_pkt.h"
#include "bt_ring.h"
#include "gw_nat.h"
#include "gw_policy.h"

/* A packet on its way through a member, and what was found for it. */
struct pctx {
    struct bt_parsed *p;
    struct bt_pkt *pkt;
    uint16_t port;             /* where it entered the cluster */
    uint32_t hash;             /* its distribution hash */
    /* the keys are the distributor's (struct gw_pkey, alive for the
     * burst): pointed at, not copied, per packet */
    const struct bt_flow_key *k;    /* directional */
    const struct bt_flow_key *ck;   /* canonical */
    uint64_t fh;               /* bt_flowtab_hash(ck) */
    int swapped;               /* k was not canonical */
    bool via_alias;            /* found through the hide-NAT alias (a reply to a translation) */
    const struct bt_flow_key *okey; /* the connection's key (canonical, original tuple):
                                     * ck, or okey_buf */
    struct bt_flow_key okey_buf;    /* the original key of a reply through the alias */
};

/* ---------------------------------------------------------------- tables */

int gw_member_tables(struct gw_cluster *g, struct gw_member *m)
{
    uint32_t max = g->cfg.max_conns, init = max < 1024 ? max : 1024;

    m->conns = bt_flowtab_new_growable(init, max, sizeof(struct gw_conn), g->cfg.idle_ns);
    if (!m->conns)
        return -ENOMEM;
    if (g->cfg.nat) {
        m->alias = bt_flowtab_new_growable(init, max, sizeof(struct bt_flow_key), 0);
        if (!m->alias) {
            m->conns = bt_flowtab_free(m->conns);
            return -ENOMEM;
        }
    }
    return 0;
}

/* ---------------------------------------------------------------- defer */

static inline struct gw_dslot *dslot_at(const struct gw_defer *d, uint32_t a)
{
    return &d->e[a & (d->cap - 1)];
}

/* Is absolute slot a still in the queue? */
static inline bool dslot_live(const struct gw_defer *d, uint32_t a)
{
    return a - d->base < d->n;
}

uint32_t gw_defer_push(struct gw_member *m, struct bt_pkt *p, uint64_t deadline, uint32_t gen)
{
    struct gw_defer *d = &m->defer;
    struct gw_dslot *s;
    uint32_t a;

    do {
        if (d->n == d->cap) {
            uint32_t cap = d->cap ? d->cap * 2 : 256;
            struct gw_dslot *ne = malloc(cap * sizeof(*ne));
            if (!ne)
                return GW_DSLOT_NONE;
            for (uint32_t i = 0; i < d->n; i++)
                ne[(d->base + i) & (cap - 1)] = d->e[(d->base + i) & (d->cap - 1)];
            free(d->e);
            d->e = ne;
            d->cap = cap;
        }
        a = d->base + d->n++;
        s = dslot_at(d, a);
        s->deadline = deadline;
        s->pkt = p;
        s->gen = gen;
        s->next = GW_DSLOT_NONE;
        s->mseq = 0;
        s->mto = 0;
        s->ord = 0;
        s->cancelled = false;
        /* the index wraps after 2^32 slots: the one that reads as
         * GW_DSLOT_NONE (out of memory, the end of a chain) stays empty */
        if (a == GW_DSLOT_NONE) {
            s->pkt = NULL;
            s->cancelled = true;
        }
    } while (a == GW_DSLOT_NONE);
    gw_member_touch_next(m, deadline);
    return a;
}

void gw_defer_sent(struct gw_member *m, uint32_t seq, uint8_t to, uint32_t first, uint32_t last,
                   uint64_t deadline)
{
    struct gw_defer *d = &m->defer;
    struct gw_dmsg *dm;

    if (d->mn == d->mcap &&
        bt_ring_grow((void **)&d->msg, sizeof(*d->msg), &d->mhead, d->mn, &d->mcap, 64) < 0)
        return;   /* its ACK finds nothing: the packets wait for their timeout */
    dm = &d->msg[(d->mhead + d->mn++) & (d->mcap - 1)];
    dm->deadline = deadline;
    dm->seq = seq;
    dm->first = first;
    dm->last = last;
    dm->to = to;
    dm->done = false;
    for (uint32_t a = first; a != GW_DSLOT_NONE && dslot_live(d, a);) {
        struct gw_dslot *s = dslot_at(d, a);
        s->mseq = seq;
        s->mto = to;
        a = s->next;
    }
}

/* Drops the messages at the front that were acked or whose slots all timed out. */
static void dmsg_trim(struct gw_defer *d, uint64_t t)
{
    while (d->mn && (d->msg[d->mhead].done || d->msg[d->mhead].deadline <= t)) {
        d->mhead = (d->mhead + 1) & (d->mcap - 1);
        d->mn--;
    }
}

/* The slots at the front whose timers are moot leave (only these: a slot
 * released otherwise keeps its timer, which then finds nothing to do). */
static void dslot_trim(struct gw_defer *d)
{
    while (d->n && dslot_at(d, d->base)->cancelled) {
        d->base++;
        d->n--;
    }
}

void gw_defer_ack(struct gw_cluster *g, struct gw_member *m, uint64_t t, uint8_t from,
                  uint32_t seq, uint32_t bits)
{
    struct gw_defer *d = &m->defer;
    struct gw_dmsg *dm = NULL;
    uint32_t a;

    /* the messages are in the order they were sent, so their sequence
     * numbers (the sender's, one per message) grow from the head's: the
     * head (the ACKs of one backup come back in order), else a binary
     * search, not a scan of every message whose ACK was lost */
    if (d->mn) {
        uint32_t s0 = d->msg[d->mhead].seq, want = seq - s0, lo = 0, hi = d->mn;
        while (lo < hi) {
            uint32_t mid = want ? lo + (hi - lo) / 2 : 0;
            if (d->msg[(d->mhead + mid) & (d->mcap - 1)].seq - s0 < want)
                lo = mid + 1;
            else
                hi = mid;
        }
        if (lo < d->mn) {
            struct gw_dmsg *x = &d->msg[(d->mhead + lo) & (d->mcap - 1)];
            if (x->seq == seq && x->to == from && !x->done)
                dm = x;
        }
    }
    if (!dm)
        return;   /* timed out and forgotten, or not ours */
    dm->done = true;
    if (dm->deadline < t) {
        dmsg_trim(d, t);
        return;   /* every one of its slots timed out (and left) before it landed */
    }
    a = dm->first;
    if (!dslot_live(d, a)) {
        /* its first slots timed out and left the queue (their links with
         * them): find the first of its slots still there */
        for (a = d->base; dslot_live(d, a) && a - d->base <= dm->last - d->base; a++)
            if (dslot_at(d, a)->mseq == dm->seq && dslot_at(d, a)->mto == dm->to)
                break;
        if (!dslot_live(d, a) || a - d->base > dm->last - d->base)
            a = GW_DSLOT_NONE;
    }
    while (a != GW_DSLOT_NONE && dslot_live(d, a)) {
        struct gw_dslot *s = dslot_at(d, a);
        uint32_t next = s->next;
        if (s->pkt && (bits >> s->ord & 1)) {
            struct bt_pkt *p = s->pkt;
            s->pkt = NULL;
            gw_out(g, p, p->ts_ns > t ? p->ts_ns : t, m->id, p->port);
            /* its timer is moot: marked among the oldest few, and the marked
             * ones at the front go, so that a burst of connections is not
             * also a burst of timer events 20 ms later */
            if (a - d->base < 256)
                s->cancelled = true;
            dslot_trim(d);
        }
        a = next;
    }
    dmsg_trim(d, t);
}

void gw_defer_expire(struct gw_cluster *g, struct gw_member *m, uint64_t t)
{
    struct gw_defer *d = &m->defer;

    while (d->n && dslot_at(d, d->base)->deadline <= t) {
        struct gw_dslot *s = dslot_at(d, d->base);
        d->base++;
        d->n--;
        if (s->pkt) {
            /* the backup never answered: let the packet go without it */
            struct bt_pkt *p = s->pkt;
            s->pkt = NULL;
            g->st.defer_timeouts++;
            gw_out(g, p, p->ts_ns > t ? p->ts_ns : t, m->id, p->port);
        }
    }
    dmsg_trim(d, t);
}

/* Is c's first packet still held? */
static inline bool defer_held(const struct gw_member *m, const struct gw_conn *c)
{
    const struct gw_defer *d = &m->defer;
    const struct gw_dslot *s;

    if (!(c->flags & CONN_DEFERRED) || !dslot_live(d, c->dslot))
        return false;
    s = dslot_at(d, c->dslot);
    return s->pkt && s->gen == c->gen;
}

/* c goes (or stops being an owner): its held packet with it, counted out of
 * state (every packet in is out, dropped or counted; found in review); its
 * timer stays. */
static void defer_drop(struct gw_cluster *g, struct gw_member *m, struct gw_conn *c)
{
    if (defer_held(m, c)) {
        struct gw_dslot *s = dslot_at(&m->defer, c->dslot);
        bt_pkt_free(s->pkt);
        s->pkt = NULL;
        m->st.drops++;
        m->st.drops_state++;
        g->st.drops_state++;
    }
    c->flags &= (uint8_t)~CONN_DEFERRED;
}

void gw_member_wipe(struct gw_cluster *g, struct gw_member *m)
{
    struct gw_defer *d = &m->defer;

    /* the first packets it held for their backups die with it */
    for (uint32_t i = 0; i < d->n; i++) {
        struct gw_dslot *s = dslot_at(d, d->base + i);
        if (s->pkt) {
            bt_pkt_free(s->pkt);
            s->pkt = NULL;
            m->st.drops++;
            g->st.drops_dead++;
        }
    }
    d->base += d->n;
    d->n = 0;
    d->mn = 0;
    m->conns = bt_flowtab_free(m->conns);
    m->alias = bt_flowtab_free(m->alias);
    for (int q = 0; q < TQ_N; q++)
        m->tq[q].n = m->tq[q].head = 0;
    m->st.owner_conns = m->st.backup_conns = 0;
}

static void key_v4(uint8_t a[16], uint32_t v)
{
    memset(a, 0, 16);
    a[10] = a[11] = 0xff;
    a[12] = (uint8_t)(v >> 24);
    a[13] = (uint8_t)(v >> 16);
    a[14] = (uint8_t)(v >> 8);
    a[15] = (uint8_t)v;
}

/* The canonical key of a translated connection as its replies carry it:
 * server <-> pool address and port. */
static void nat_key(const struct bt_flow_key *ok, const struct gw_conn *c, struct bt_flow_key *tk)
{
    struct bt_flow_key d;
    bool csrc = c->flags & CONN_CLIENT_SRC;

    memset(&d, 0, sizeof(d));
    key_v4(d.src, c->nat_addr);
    d.sport = c->nat_port;
    memcpy(d.dst, csrc ? ok->dst : ok->src, 16);
    d.dport = csrc ? ok->dport : ok->sport;
    d.proto = ok->proto;
    d.family = 4;
    if (ok->proto == 1)
        d.dport = c->nat_port; /* ICMP echo: the identifier on both sides */
    bt_flow_key_canon(&d, tk);
}

/* Bookkeeping before an entry goes: its deferred packet, its alias, the
 * counters, and (owner) a DELETE for its backup. */
static void conn_forget(struct gw_cluster *g, struct gw_member *m, const struct bt_flow_key *k,
                        struct gw_conn *c, uint64_t t, bool sync_delete)
{
    defer_drop(g, m, c);
    if ((c->flags & CONN_NAT) && m->alias) {
        struct bt_flow_key tk;
        void *a;
        nat_key(k, c, &tk);
        if ((a = bt_flowtab_lookup(m->alias, &tk)))
            bt_flowtab_remove(m->alias, a);
    }
    if (c->role == ROLE_OWNER) {
        m->st.owner_conns--;
        g->st.closed++;
        if (sync_delete && c->peer) {
            uint8_t r[GW_SYNC_REC_NAT_LEN];
            gw_sync_queue(g, m, c->peer, t, r, gw_member_put_rec(m, k, c, GW_SYNC_DELETE, 0, r));
        }
    } else {
        m->st.backup_conns--;
    }
}

void gw_member_remove(struct gw_cluster *g, struct gw_member *m, struct gw_conn *c, uint64_t t,
                      bool sync_delete)
{
    struct bt_flow_key k = *bt_flowtab_key(m->conns, c);

    conn_forget(g, m, &k, c, t, sync_delete);
    bt_flowtab_remove(m->conns, c);
}

struct lru_ctx {
    struct gw_cluster *g;
    struct gw_member *m;
    uint64_t t;
};

static void lru_cb(const struct bt_flow_key *k, void *v, void *arg)
{
    struct lru_ctx *x = arg;

    conn_forget(x->g, x->m, k, v, x->t, true);
}

void gw_member_expire_lru(struct gw_cluster *g, struct gw_member *m, uint64_t t)
{
    struct lru_ctx x = {g, m, t};

    bt_flowtab_expire(m->conns, t, lru_cb, &x, 16);
}

/* ---------------------------------------------------------------- timers */

static uint64_t tmo_ns(const struct gw_cluster *g, enum gw_tmo t)
{
    switch (t) {
    case GW_TMO_SYN: return g->cfg.syn_ns;
    case GW_TMO_FIN: return g->cfg.fin_ns;
    case GW_TMO_UDP: return g->cfg.udp_ns;
    case GW_TMO_ICMP: return g->cfg.icmp_ns;
    default: return g->cfg.idle_ns;
    }
}

static int tmo_q(enum gw_tmo t)
{
    switch (t) {
    case GW_TMO_SYN: return TQ_SYN;
    case GW_TMO_FIN: return TQ_FIN;
    case GW_TMO_UDP: return TQ_UDP;
    case GW_TMO_ICMP: return TQ_ICMP;
    default: return -1;
    }
}

static __attribute__((noinline)) void arm_class(struct gw_cluster *g, struct gw_member *m,
                                                const struct bt_flow_key *k, struct gw_conn *c,
                                                uint64_t t, enum gw_tmo cl)
{
    int q = tmo_q(cl);

    c->tmo = (uint8_t)cl;
    if (q >= 0)
        gw_tq_push(m, q, t + tmo_ns(g, cl), c->gen, k);
}

/* Arms the timeout of c's state when its class changed (the LRU covers the
 * established idle timeout). The unchanged class (nearly every packet)
 * decided inline: the call cost more than the check. */
static inline void arm(struct gw_cluster *g, struct gw_member *m, const struct bt_flow_key *k,
                       struct gw_conn *c, uint64_t t, bool force)
{
    enum gw_tmo cl = gw_conn_tmo((enum gw_conn_state)c->state);

    if (!force && cl == c->tmo)
        return;
    arm_class(g, m, k, c, t, cl);
}

void gw_member_timer(struct gw_cluster *g, struct gw_member *m, int q, uint64_t t)
{
    struct gw_tq *tq = &m->tq[q];
    struct gw_tent e = tq->e[tq->head];
    struct gw_conn *c;

    tq->head = (tq->head + 1) & (tq->cap - 1);
    tq->n--;
    c = bt_flowtab_lookup(m->conns, &e.key);
    if (!c || c->gen != e.gen || c->role != ROLE_OWNER)
        return;
    enum gw_tmo cl = gw_conn_tmo((enum gw_conn_state)c->state);
    if (tmo_q(cl) != q)
        return;  /* it moved on to another timeout */
    if (c->last_ns + tmo_ns(g, cl) > t) {
        gw_tq_push(m, q, c->last_ns + tmo_ns(g, cl), c->gen, &e.key);
        return;
    }
    gw_member_remove(g, m, c, t, true);
}

/* ---------------------------------------------------------------- packets */

static void drop(struct gw_cluster *g, struct gw_member *m, struct bt_pkt *pkt, int why)
{
    m->st.drops++;
    switch (why) {
    case 0:
        m->st.drops_state++;
        g->st.drops_state++;
        break;
    case 1:
        m->st.drops_policy++;
        g->st.drops_policy++;
        break;
    default:
        g->st.drops_full++;
        break;
    }
    bt_pkt_free(pkt);
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

/* A RST answering the TCP packet of x, back out of the port it came in. */
static void send_rst(struct gw_cluster *g, struct gw_member *m, const struct pctx *x, uint64_t t)
{
    const struct bt_parsed *p = x->p;
    const uint8_t *in = x->pkt->data;
    struct bt_pkt *r;
    struct bt_parsed rp;
    uint8_t *d, *ip, *tcp;
    unsigned l3 = p->l3_off, iplen = p->ip_version == 4 ? 20 : 40, len = l3 + iplen + 20;
    uint32_t seglen = p->payload_len + !!(p->tcp_flags & BT_TCP_SYN) + !!(p->tcp_flags & BT_TCP_FIN);

    if (p->proto != 6 || len > 256 || !(r = bt_pkt_alloc(g->pool)))
        return;
    d = r->data;
    memcpy(d, in, l3);
    if (l3 >= 12) { /* swap the MAC addresses */
        memcpy(d, in + 6, 6);
        memcpy(d + 6, in, 6);
    }
    ip = d + l3;
    memset(ip, 0, iplen + 20);
    if (p->ip_version == 4) {
        ip[0] = 0x45;
        put16(ip + 2, 40);
        put16(ip + 6, 0x4000);
        ip[8] = 64;
        ip[9] = 6;
        memcpy(ip + 12, p->dst + 12, 4);
        memcpy(ip + 16, p->src + 12, 4);
    } else {
        ip[0] = 0x60;
        put16(ip + 4, 20);
        ip[6] = 6;
        ip[7] = 64;
        memcpy(ip + 8, p->dst, 16);
        memcpy(ip + 24, p->src, 16);
    }
    tcp = ip + iplen;
    put16(tcp, p->dport);
    put16(tcp + 2, p->sport);
    if (p->tcp_flags & BT_TCP_ACK) {
        put32(tcp + 4, p->ack);
        tcp[13] = BT_TCP_RST;
    } else {
        put32(tcp + 8, p->seq + seglen);
        tcp[13] = BT_TCP_RST | BT_TCP_ACK;
    }
    tcp[12] = 0x50;
    r->len = r->wire_len = len;
    bt_parse(d, len, BT_LINK_ETHERNET, &rp);
    bt_csum_fix(d, len, &rp);
    g->st.rejects++;
    gw_out(g, r, gw_charge(g, m, t, g->cfg.cost.ns_per_pkt), m->id, x->port);
}

static struct gw_conn *find_alias(struct gw_member *m, struct pctx *x);

/* Finds x's connection in member m (directly, or through a NAT alias);
 * fills x->okey and x->via_alias. Inline: every packet asks, and nearly
 * always finds it directly. */
static inline struct gw_conn *find_local(struct gw_member *m, struct pctx *x)
{
    struct gw_conn *c = bt_flowtab_lookup_hashed(m->conns, x->ck, x->fh);

    x->via_alias = false;
    x->okey = x->ck;
    if (c || !m->alias || x->port != 1)
        return c;
    return find_alias(m, x);
}

/* find_local's look through the hide-NAT alias table. */
static __attribute__((noinline)) struct gw_conn *find_alias(struct gw_member *m, struct pctx *x)
{
    const struct bt_flow_key *ok;

    if (!(ok = bt_flowtab_lookup_hashed(m->alias, x->ck, x->fh)))
        return NULL;
    x->okey_buf = *ok;
    x->okey = &x->okey_buf;
    x->via_alias = true;
    return bt_flowtab_lookup(m->conns, ok);
}

static void promote(struct gw_cluster *g, struct gw_member *m, const struct bt_flow_key *k,
                    struct gw_conn *c, uint64_t t)
{
    int want;

    c->role = ROLE_OWNER;
    c->flags |= CONN_LOOSE;
    c->peer = 0;
    c->last_ns = t;
    m->st.backup_conns--;
    m->st.owner_conns++;
    g->st.promoted++;
    arm(g, m, k, c, t, true);
    want = gw_desired_backup(g, m->id, c->hash);
    if (want) {
        uint8_t r[GW_SYNC_REC_NAT_LEN];
        c->peer = (uint8_t)want;
        gw_sync_queue(g, m, want, t, r, gw_member_put_rec(m, k, c, GW_SYNC_BULK, 0, r));
        c->synced_ns = t;
    }
}

static void create(struct gw_cluster *g, struct gw_member *m, struct pctx *x, uint64_t now);

/* m owns c: track the state, inspect, translate, forward. earliest: when the
 * packet can reach m at all (a corrected packet crosses the sync network).
 * Inlined into gw_member_rx's common case (a packet of a connection its
 * member owns: nearly every packet); handle_owned for the others. */
static inline __attribute__((always_inline)) void
handle_owned_in(struct gw_cluster *g, struct gw_member *m, struct gw_conn *c, struct pctx *x,
                uint64_t now, uint64_t earliest)
{
    struct bt_parsed *p = x->p;
    bool from_client = x->via_alias ? false : ((x->swapped == 0) == !!(c->flags & CONN_CLIENT_SRC));
    uint8_t ost = c->state, ofin = c->fin;
    enum gw_action act;
    uint64_t f;
    int rule;

    if (c->flags & CONN_BLOCKED) {
        drop(g, m, x->pkt, 1);
        return;
    }
    if (c->flags & CONN_DEFERRED) {
        if (defer_held(m, c)) {
            /* its first packet waits for the backup: nothing of the
             * connection overtakes it (dropped, counted out of state: a
             * retransmitted SYN, a second UDP packet, anything from the
             * server, which has seen nothing yet); a RST from the client
             * takes the held packet with it and closes the connection,
             * so nothing of it reaches the server */
            if (p->proto == 6 && (p->tcp_flags & BT_TCP_RST) && from_client)
                gw_member_remove(g, m, c, now, true);   /* its held packet counted there */
            drop(g, m, x->pkt, 0);
            return;
        }
        c->flags &= (uint8_t)~CONN_DEFERRED;   /* released: no slot to look at again */
    }
    /* an established connection's data or ACK without FIN (most packets)
     * leaves the state machine where it is: decided here, no call */
    if (p->proto == 6 && !(c->state == GW_ST_ESTABLISHED && !c->fin &&
                           !(p->tcp_flags & (BT_TCP_SYN | BT_TCP_FIN | BT_TCP_RST)))) {
        switch (gw_tcp_track(&c->state, &c->fin, p->tcp_flags, from_client, c->flags & CONN_LOOSE)) {
        case GW_TCP_INVALID:
            drop(g, m, x->pkt, 0);
            return;
        case GW_TCP_REOPEN:
            gw_member_remove(g, m, c, now, true);
            create(g, m, x, now);
            return;
        case GW_TCP_OK:
            break;
        }
    }
    if (p->payload_len && gw_cpolicy_content(g->pol, p, x->pkt->data, x->pkt->len, &act, &rule) &&
        act != GW_ACCEPT) {
        if (act == GW_REJECT && p->proto == 6) {
            send_rst(g, m, x, now);
            c->state = GW_ST_CLOSED;
        } else {
            c->flags |= CONN_BLOCKED;
        }
        if (c->peer) {
            /* the verdict reaches the backup: a failover must not bring
             * the connection back to life (found in review) */
            uint8_t r[GW_SYNC_REC_NAT_LEN];
            gw_sync_queue(g, m, c->peer, now, r, gw_member_put_rec(m, x->okey, c, GW_SYNC_UPDATE, 0, r));
            c->synced_ns = now;
        }
        arm(g, m, x->okey, c, now, false);
        drop(g, m, x->pkt, 1);
        return;
    }
    if (c->peer && (c->state != ost || c->fin != ofin || now - c->synced_ns > g->cfg.idle_ns / 2)) {
        /* a state change, or a refresh so the backup's entry does not idle out */
        uint8_t r[GW_SYNC_REC_NAT_LEN];
        gw_sync_queue(g, m, c->peer, now, r, gw_member_put_rec(m, x->okey, c, GW_SYNC_UPDATE, 0, r));
        c->synced_ns = now;
    }
    arm(g, m, x->okey, c, now, false);
    if (c->flags & CONN_NAT) {
        if (x->via_alias) {
            bool csrc = c->flags & CONN_CLIENT_SRC;
            const uint8_t *ca = csrc ? x->okey->src : x->okey->dst;
            uint32_t a = (uint32_t)ca[12] << 24 | (uint32_t)ca[13] << 16 | (uint32_t)ca[14] << 8 | ca[15];
            gw_nat_rewrite(x->pkt->data, p, false, a, csrc ? x->okey->sport : x->okey->dport);
        } else if (from_client) {
            gw_nat_rewrite(x->pkt->data, p, true, c->nat_addr, c->nat_port);
        }
    }
    c->last_ns = now;
    bt_flowtab_touch(m->conns, c, now);
    f = gw_charge(g, m, now, g->cfg.cost.ns_per_pkt);
    gw_out(g, x->pkt, f > earliest ? f : earliest, m->id, x->port ? 0 : 1);
}

static __attribute__((noinline)) void handle_owned(struct gw_cluster *g, struct gw_member *m,
                                                   struct gw_conn *c, struct pctx *x, uint64_t now,
                                                   uint64_t earliest)
{
    handle_owned_in(g, m, c, x, now, earliest);
}

/* Allocates a hide-NAT port in m's slice for x; 0 when the slice is full. */
static int nat_alloc(struct gw_cluster *g, struct gw_member *m, struct pctx *x, struct gw_conn *proto_c,
                     uint32_t *addr, uint16_t *port)
{
    uint16_t lo, hi;
    unsigned span;

    if (gw_nat_slice(&g->cfg, m->id, &lo, &hi) < 0)
        return -EINVAL;
    span = (unsigned)hi - lo + 1;
    *addr = gw_nat_addr_for(&g->cfg, x->p->src);
    for (unsigned i = 0; i < 256 && i < span; i++) {
        struct bt_flow_key tk;
        *port = (uint16_t)(lo + m->nat_next++ % span);
        proto_c->nat_addr = *addr;
        proto_c->nat_port = *port;
        nat_key(x->ck, proto_c, &tk);
        if (!bt_flowtab_lookup(m->alias, &tk))
            return 0;
    }
    return -EADDRINUSE;
}

static void create(struct gw_cluster *g, struct gw_member *m, struct pctx *x, uint64_t now)
{
    struct bt_parsed *p = x->p;
    struct gw_conn *c, tmp;
    enum gw_action act;
    bool created, nat = false;
    uint32_t naddr = 0;
    uint16_t nport = 0;
    uint64_t work, f;
    int rule;

    act = gw_cpolicy_first(g->pol, p, x->pkt->data, x->pkt->len, &rule);
    if (act != GW_ACCEPT) {
        if (act == GW_REJECT)
            send_rst(g, m, x, now);
        drop(g, m, x->pkt, 1);
        return;
    }
    memset(&tmp, 0, sizeof(tmp));
    tmp.flags = x->swapped == 0 ? CONN_CLIENT_SRC : 0;
    if (g->cfg.nat && x->port == 0 && p->ip_version == 4 &&
        (p->proto == 6 || p->proto == 17 || p->proto == 1) && (p->flags & BT_PF_PORTS)) {
        if (nat_alloc(g, m, x, &tmp, &naddr, &nport) < 0) {
            drop(g, m, x->pkt, 2);
            return;
        }
        nat = true;
    }
    c = bt_flowtab_insert_hashed(m->conns, x->ck, x->fh, now, &created);
    if (!c) {
        drop(g, m, x->pkt, 2);
        return;
    }
    if (!created) { /* a stale entry (a backup of a connection its owner forgot) */
        conn_forget(g, m, x->ck, c, now, false);
        memset(c, 0, sizeof(*c));
    } /* else the table zeroed it */
    c->role = ROLE_OWNER;
    c->state = (uint8_t)gw_conn_initial(p->proto);
    c->hash = x->hash;
    c->gen = ++m->gen ? m->gen : ++m->gen;   /* never 0: a cancelled timer */
    c->flags = tmp.flags;
    c->last_ns = now;
    c->tmo = 0xff;
    if (nat) {
        struct bt_flow_key tk;
        struct bt_flow_key *a;
        c->flags |= CONN_NAT;
        c->nat_addr = naddr;
        c->nat_port = nport;
        nat_key(x->ck, c, &tk);
        if ((a = bt_flowtab_insert(m->alias, &tk, now, &created)))
            *a = *x->ck;
        g->st.nat_conns++;
        if (g->nat_fn) {
            struct bt_nat_map nm;
            memset(&nm, 0, sizeof(nm));
            nm.t_ns = now;
            nm.proto = p->proto;
            memcpy(nm.osrc, p->src, 16);
            memcpy(nm.odst, p->dst, 16);
            nm.osport = p->sport;
            nm.odport = p->dport;
            key_v4(nm.tsrc, naddr);
            memcpy(nm.tdst, p->dst, 16);
            nm.tsport = nport;
            nm.tdport = p->proto == 1 ? nport : p->dport;
            g->nat_fn(g->nat_arg, &nm);
        }
    }
    c->peer = (uint8_t)gw_desired_backup(g, m->id, x->hash);
    g->st.conns++;
    m->st.conns_created++;
    m->st.owner_conns++;
    arm(g, m, x->ck, c, now, true);
    if (nat)
        gw_nat_rewrite(x->pkt->data, p, true, naddr, nport);
    work = (uint64_t)g->cfg.cost.ns_per_pkt + g->cfg.cost.ns_per_setup +
           (c->peer ? g->cfg.cost.ns_per_sync : 0);
    f = gw_charge(g, m, now, work);
    if (c->peer) {
        uint8_t xfl = 0;
        uint32_t ds = GW_DSLOT_NONE;
        if (g->cfg.defer) {
            /* pfsync's defer: the packet that creates the state waits for
             * the backup's ACK of the message carrying the CREATE, so no
             * connection gets established without one */
            x->pkt->ts_ns = f;
            x->pkt->port = x->port ? 0 : 1;
            ds = gw_defer_push(m, x->pkt, f + g->cfg.defer_ns, c->gen);
            if (ds == GW_DSLOT_NONE) {
                drop(g, m, x->pkt, 2);   /* no room to hold it: the client retransmits */
                x->pkt = NULL;
            } else {
                xfl = GW_SYNC_F_ACK_REQ;
                c->flags |= CONN_DEFERRED;
                c->dslot = ds;
            }
        }
        gw_sync_now(g, m, c->peer, f, x->ck, c, GW_SYNC_CREATE, xfl, ds);
        c->synced_ns = now;
        if (g->cfg.defer)
            return;
    }
    gw_out(g, x->pkt, f, m->id, x->port ? 0 : 1);
}

/* The correction layer: member m got a packet of a connection owner o owns. */
static void correct(struct gw_cluster *g, struct gw_member *m, struct gw_member *o,
                    struct gw_conn *oc, struct pctx *x, uint64_t now)
{
    uint64_t f;

    m->st.corrections++;
    g->st.corrections++;
    if (g->corr) {
        struct bt_correction cr;
        memset(&cr, 0, sizeof(cr));
        cr.t_ns = now;
        memcpy(cr.src, x->k->src, 16);
        memcpy(cr.dst, x->k->dst, 16);
        cr.sport = x->k->sport;
        cr.dport = x->k->dport;
        cr.proto = x->k->proto;
        cr.from = m->id;
        cr.to = o->id;
        g->corr(g->corr_arg, &cr);
    }
    /* m forwards it over the sync network; o then handles it as its own */
    f = gw_charge(g, m, now, g->cfg.cost.ns_per_pkt);
    handle_owned(g, o, oc, x, now, f + g->cfg.sync_delay_ns);
}

/* Is candidate id the owner of x's connection? A backup whose owner is dead
 * takes over on the spot; a backup whose owner lives names the owner. The
 * owner's id goes to *oid. */
static struct gw_conn *try_owner(struct gw_cluster *g, int id, int self, struct pctx *x,
                                 uint64_t now, int depth, int *oid)
{
    struct gw_member *o;
    struct gw_conn *c;

    if (id < 1 || (unsigned)id > g->nmembers || id == self)
        return NULL;
    o = &g->m[id];
    if (!o->present || !o->alive || !(c = find_local(o, x)))
        return NULL;
    if (c->role != ROLE_OWNER) {
        if (g->m[c->peer].alive)
            return depth ? NULL : try_owner(g, c->peer, self, x, now, 1, oid);
        promote(g, o, x->okey, c, now);
    }
    *oid = id;
    return c;
}

/* The correction layer's candidates for the owner of a packet that reached
 * a member without its connection, each with a reason the cluster knows:
 *  - a reply to a hide-NAT translation: its port names the member that made
 *    it (a dead one's translations live on where its connections were
 *    promoted: those members are asked);
 *  - a bucket moved by a join, a weight change or a restore: the member
 *    that had the bucket before;
 *  - User or Network mode (asymmetric by design): the member the other
 *    direction hashes to.
 * General and Auto-Topology are symmetric by design, so nothing is looked
 * up for them (which is why the asymmetric fault shows). */
static struct gw_member *find_owner(struct gw_cluster *g, struct gw_member *m, struct pctx *x,
                                    uint64_t now, struct gw_conn **oc)
{
    int cand[3], n = 0, oid = 0;

    *oc = NULL;
    if (g->cfg.nat && x->port == 1 && gw_nat_in_pool(&g->cfg, x->p->dst)) {
        int so = gw_nat_port_owner(&g->cfg, x->p->dport);
        if ((*oc = try_owner(g, so, m->id, x, now, 0, &oid)))
            return &g->m[oid];
        if (so >= 1 && (unsigned)so <= g->nmembers && !g->m[so].alive)
            for (unsigned id = 1; id <= g->nmembers; id++)
                if ((*oc = try_owner(g, (int)id, m->id, x, now, 1, &oid)))
                    return &g->m[oid];
        return NULL;
    }
    cand[n++] = g->prev_owner[bt_dist_tab_bucket(&g->dt, x->hash)];
    if (g->cfg.mode == BT_DIST_USER || g->cfg.mode == BT_DIST_NETWORK) {
        struct bt_flow_key rk;
        bt_flow_key_reverse(x->k, &rk);
        cand[n++] = bt_dist_primary(g->dist, bt_dist_hash(&rk, (enum bt_dist_mode)g->cfg.mode, g->cfg.l4,
                                                          x->port == 0 ? BT_SIDE_EXTERNAL : BT_SIDE_INTERNAL,
                                                          g->cfg.seed));
    }
    for (int i = 0; i < n; i++)
        if ((*oc = try_owner(g, cand[i], m->id, x, now, 0, &oid)))
            return &g->m[oid];
    return NULL;
}

static void stateless(struct gw_cluster *g, struct gw_member *m, struct pctx *x, uint64_t now)
{
    int rule;
    enum gw_action act = gw_cpolicy_first(g->pol, x->p, x->pkt->data, x->pkt->len, &rule);

    if (act != GW_ACCEPT) {
        drop(g, m, x->pkt, 1);
        return;
    }
    gw_out(g, x->pkt, gw_charge(g, m, now, g->cfg.cost.ns_per_pkt), m->id, x->port ? 0 : 1);
}

void gw_member_rx(struct gw_cluster *g, struct gw_member *m, uint64_t now, uint16_t port,
                  uint32_t hash, struct bt_parsed *p, const struct gw_pkey *pk, struct bt_pkt *pkt)
{
    struct pctx x;
    struct gw_conn *c;
    bool opens;

    x.p = p;
    x.pkt = pkt;
    x.port = port;
    x.hash = hash;
    x.k = &pk->k;   /* made once, by the distributor */
    x.ck = &pk->ck;
    x.fh = pk->fh;
    x.swapped = pk->swapped;
    gw_member_expire_lru(g, m, now);
    c = find_local(m, &x);
    if (c && c->role == ROLE_OWNER) {
        handle_owned_in(g, m, c, &x, now, now);
        return;
    }
    if (c) {
        /* a backup entry: the owner lives (the packet belongs there) or
         * died (this member takes over now) */
        struct gw_member *o = &g->m[c->peer];
        /* with symmetric hashing off, members still trust the distributor:
         * a packet reaching the backup means "take it over", and both
         * halves of the flow end up on two members (what the symmetry
         * check must see) */
        if (o->present && o->alive && !(g->cfg.faults & GW_FAULT_ASYMMETRIC)) {
            struct pctx y = x;
            struct gw_conn *oc = find_local(o, &y);
            if (oc && oc->role == ROLE_OWNER) {
                if (g->cfg.faults & GW_FAULT_NO_CORRECTION)
                    drop(g, m, pkt, 0);
                else
                    correct(g, m, o, oc, &y, now);
                return;
            }
            gw_member_remove(g, m, c, now, false); /* its owner forgot it */
        } else {
            promote(g, m, x.okey, c, now);
            handle_owned(g, m, c, &x, now, now);
            return;
        }
    }
    opens = gw_conn_opens(p->proto, p->tcp_flags, p->icmp_type);
    if (gw_icmp_stateless(p->proto, p->icmp_type)) {
        stateless(g, m, &x, now);
        return;
    }
    if (!(opens && p->proto == 6) && !(g->cfg.faults & GW_FAULT_NO_CORRECTION)) {
        struct gw_conn *oc;
        struct gw_member *o = find_owner(g, m, &x, now, &oc);
        if (o) {
            correct(g, m, o, oc, &x, now);
            return;
        }
    }
    if (opens) {
        create(g, m, &x, now);
        return;
    }
    drop(g, m, pkt, 0);
}

/* ---------------------------------------------------------------- sync */

/* CONN_* of a record's GW_SYNC_F_CLIENT_SRC, GW_SYNC_F_NAT, GW_SYNC_F_LOOSE,
 * GW_SYNC_F_BLOCKED */
static const uint8_t conn_flags_of[32] = {
#define CF(f) (uint8_t)(((f) & GW_SYNC_F_CLIENT_SRC ? CONN_CLIENT_SRC : 0) | \
                        ((f) & GW_SYNC_F_NAT ? CONN_NAT : 0) | ((f) & GW_SYNC_F_LOOSE ? CONN_LOOSE : 0) | \
                        ((f) & GW_SYNC_F_BLOCKED ? CONN_BLOCKED : 0))
    CF(0), CF(1), CF(2), CF(3), CF(4), CF(5), CF(6), CF(7),
    CF(8), CF(9), CF(10), CF(11), CF(12), CF(13), CF(14), CF(15),
    CF(16), CF(17), CF(18), CF(19), CF(20), CF(21), CF(22), CF(23),
    CF(24), CF(25), CF(26), CF(27), CF(28), CF(29), CF(30), CF(31),
#undef CF
};

bool gw_member_apply(struct gw_cluster *g, struct gw_member *m, uint64_t t, uint8_t from,
                     const uint8_t *r, const struct bt_flow_key *k, uint64_t fh)
{
    uint8_t type = r[0], rfl = r[5];
    uint32_t rgen = gw_sync_get32(r + 52);
    struct gw_conn *c;
    bool created;

    if (type == GW_SYNC_DELETE) {
        c = bt_flowtab_lookup_hashed(m->conns, k, fh);
        /* not the entry of a later incarnation: the batched DELETE of a
         * reused 5-tuple lands after the new connection's CREATE */
        if (c && c->role == ROLE_BACKUP && c->peer == from && (int32_t)(rgen - c->ogen) >= 0)
            gw_member_remove(g, m, c, t, false);
        return false;
    }
    /* CREATE, BULK, UPDATE: one probe, the entry found or a new one */
    if (!(c = bt_flowtab_insert_hashed(m->conns, k, fh, t, &created))) {
        g->st.backups_full++;   /* a record, not a packet (drops_full counts packets) */
        return false;   /* not stored: not acknowledged */
    }
    if (created) {
        /* zeroed by the table, last used at t, the LRU's newest */
        c->gen = ++m->gen ? m->gen : ++m->gen;   /* never 0: a cancelled timer */
        m->st.backup_conns++;
        g->st.backups++;
    } else {
        if (c->role == ROLE_BACKUP && c->peer == from && (int32_t)(rgen - c->ogen) < 0)
            return false;   /* an older incarnation's news (a batched record
                             * overtaken by the CREATE of the 5-tuple's reuse) */
        if (c->role == ROLE_OWNER) {
            if (type == GW_SYNC_UPDATE)
                return false; /* a stale owner's news */
            /* another member took the connection over (or opened it
             * anew) and makes this member its backup: the newest
             * claim wins */
            defer_drop(g, m, c);
            c->role = ROLE_BACKUP;
            m->st.owner_conns--;
            m->st.backup_conns++;
        }
        if (c->flags & CONN_NAT) {
            conn_forget(g, m, k, c, t, false);   /* its alias, re-added below */
            m->st.backup_conns++;
        }
    }
    c->role = ROLE_BACKUP;
    c->peer = from;
    c->hash = gw_sync_get32(r + 8);
    c->state = r[3];
    c->fin = r[4];
    c->flags = conn_flags_of[rfl & GW_SYNC_F_ALL];
    c->ogen = rgen;
    c->last_ns = t;   /* the insert touched the entry at t already */
    if (rfl & GW_SYNC_F_NAT) {
        c->nat_addr = gw_sync_get32(r + 56);
        c->nat_port = gw_sync_get16(r + 60);
        if (m->alias) {
            struct bt_flow_key tk, *a;
            nat_key(k, c, &tk);
            if ((a = bt_flowtab_insert(m->alias, &tk, t, &created)))
                *a = *k;
        }
    } else {
        c->nat_addr = 0;
        c->nat_port = 0;
    }
    return (rfl & GW_SYNC_F_ACK_REQ) != 0;
}

/* ---------------------------------------------------------------- resync */

struct resync_ctx {
    struct gw_cluster *g;
    struct gw_member *m;
    uint64_t t;
};

static void resync_cb(const struct bt_flow_key *k, void *v, void *arg)
{
    struct resync_ctx *x = arg;
    struct gw_cluster *g = x->g;
    struct gw_conn *c = v;
    int want;

    if (c->role == ROLE_BACKUP) {
        const struct gw_member *o = &g->m[c->peer];
        if (!o->present || (!o->alive && o->detected_dead))
            promote(g, x->m, k, c, x->t);   /* it also picks and fills a new backup */
        return;
    }
    want = gw_desired_backup(g, x->m->id, c->hash);
    if (want == c->peer)
        return;
    if (c->peer && g->m[c->peer].present && g->m[c->peer].alive) {
        uint8_t r[GW_SYNC_REC_NAT_LEN];
        gw_sync_queue(g, x->m, c->peer, x->t, r, gw_member_put_rec(x->m, k, c, GW_SYNC_DELETE, 0, r));
    }
    c->peer = (uint8_t)want;
    if (want) {
        uint8_t r[GW_SYNC_REC_NAT_LEN];
        gw_sync_queue(g, x->m, want, x->t, r, gw_member_put_rec(x->m, k, c, GW_SYNC_BULK, 0, r));
        c->synced_ns = x->t;
    }
}

void gw_member_resync(struct gw_cluster *g, struct gw_member *m, uint64_t t)
{
    struct resync_ctx x = {g, m, t};

    if (m->conns)
        bt_flowtab_foreach(m->conns, resync_cb, &x);
}
