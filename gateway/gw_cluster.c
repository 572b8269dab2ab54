/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The reference cluster core. Per packet: the distributor hashes it by the
 * configured mode onto a bucket, the bucket's primary member gets it (and the
 * tap sees it); the member looks its connection up, creates it on a SYN (or
 * any UDP/ICMP packet) and syncs the new entry to the bucket's backup member,
 * promotes a synced backup entry when the distributor starts sending it the
 * flow after a failover, and drops out-of-state packets. A killed member
 * drops everything until the dead timer expires; then the distributor
 * rebuilds its table without it and every bucket goes to its backup.
 */
#include "gw_api.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "bt_capset.h"
#include "bt_dist.h"
#include "bt_flow.h"
#include "bt_flow_table.h"
#include "bt_hash.h"
#include "bt_parse.h"
#include "bt_pkt.h"

enum { ROLE_OWNER = 1, ROLE_BACKUP = 2 };

struct conn {
    uint32_t hash;     /* distribution hash: its bucket, to re-pick a backup */
    uint8_t role;
    uint8_t peer;      /* owner: its backup; backup: its owner */
    uint8_t fin_mask;  /* 1: FIN from canonical src, 2: from canonical dst */
    uint8_t rst;
};

struct sync_rec {
    uint64_t at_ns;
    uint32_t hash;            /* the connection's distribution hash */
    struct bt_flow_key key;   /* canonical */
    uint8_t to, from;
    uint8_t op;               /* 1 create, 2 delete */
};

struct member {
    struct gw_member_stats st;
    bool alive;               /* process running */
    bool detected_dead;       /* the distributor knows */
    uint64_t died_ns;
    struct bt_flowtab *conns;
};

struct gw_cluster {
    struct gw_config cfg;
    struct bt_dist *dist;
    struct member m[GW_MAX_MEMBERS + 1];
    gw_tap_fn tap;
    void *tap_arg;
    gw_correction_fn corr;
    void *corr_arg;
    uint8_t *prev_owner;      /* each bucket's primary before the last rebuild */
    struct bt_pkt **outq;
    unsigned out_head, out_n, out_cap;
    struct sync_rec *syncq;   /* FIFO: constant delay keeps it time-ordered */
    size_t sync_head, sync_n, sync_cap;
    struct gw_stats st;
};

void gw_config_default(struct gw_config *c)
{
    memset(c, 0, sizeof(*c));
    c->nmembers = 4;
    for (unsigned i = 1; i <= GW_MAX_MEMBERS; i++)
        c->weight[i] = 100;
    c->mode = BT_DIST_GENERAL;
    c->l4 = true;
    c->dead_ns = 100000000ULL;      /* 100 ms: the vendor's sub-300 ms failover */
    c->sync_delay_ns = 20000ULL;    /* 20 us on the sync network */
    c->idle_ns = 60000000000ULL;
    c->max_conns = 1u << 18;
}

static void build_dist(struct gw_cluster *g)
{
    uint32_t nb = bt_dist_nbuckets(g->dist);
    uint8_t *old = malloc(nb);

    if (old)
        for (uint32_t b = 0; b < nb; b++)
            old[b] = (uint8_t)bt_dist_primary(g->dist, b);
    for (unsigned id = 1; id <= g->cfg.nmembers; id++) {
        if (!g->m[id].conns)
            continue; /* an id not in the cluster */
        unsigned w = (g->cfg.faults & GW_FAULT_IGNORE_WEIGHTS) ? 100 : g->cfg.weight[id];
        bt_dist_set(g->dist, (int)id, w, !g->m[id].detected_dead);
    }
    bt_dist_build(g->dist);
    /* remember, for each bucket that changed hands, who had it: the
     * correction layer sends packets of connections whose bucket moved (a
     * join, a weight change) back to that member */
    if (old && g->prev_owner)
        for (uint32_t b = 0; b < nb; b++)
            if (old[b] && old[b] != bt_dist_primary(g->dist, b))
                g->prev_owner[b] = old[b];
    free(old);
}

struct gw_cluster *gw_cluster_new(const struct gw_config *c, uint32_t seed)
{
    struct gw_cluster *g;

    if (c->nmembers < 1 || c->nmembers > GW_MAX_MEMBERS || c->max_conns == 0)
        return NULL;
    for (unsigned id = 1; id <= c->nmembers; id++)
        if (c->weight[id] > BT_DIST_MAX_WEIGHT)
            return NULL;
    g = calloc(1, sizeof(*g));
    if (!g)
        return NULL;
    g->cfg = *c;
    g->dist = bt_dist_new(BT_DIST_DEFAULT_BUCKETS, c->seed);
    g->out_cap = 1024;
    g->outq = calloc(g->out_cap, sizeof(*g->outq));
    g->prev_owner = calloc(BT_DIST_DEFAULT_BUCKETS, 1);
    if (!g->dist || !g->outq || !g->prev_owner)
        return gw_cluster_free(g);
    for (unsigned id = 1; id <= c->nmembers; id++) {
        g->m[id].alive = true;
        g->m[id].conns = bt_flowtab_new_growable(c->max_conns < 1024 ? c->max_conns : 1024, c->max_conns, sizeof(struct conn), c->idle_ns);
        if (!g->m[id].conns)
            return gw_cluster_free(g);
    }
    build_dist(g);
    return g;
}

struct gw_cluster *gw_cluster_free(struct gw_cluster *g)
{
    if (!g)
        return NULL;
    for (unsigned id = 0; id <= GW_MAX_MEMBERS; id++)
        bt_flowtab_free(g->m[id].conns);
    while (g->out_n) {
        bt_pkt_free(g->outq[g->out_head]);
        g->out_head = (g->out_head + 1) % g->out_cap;
        g->out_n--;
    }
    free(g->outq);
    free(g->syncq);
    free(g->prev_owner);
    bt_dist_free(g->dist);
    free(g);
    return NULL;
}

void gw_set_tap(struct gw_cluster *g, gw_tap_fn fn, void *arg)
{
    g->tap = fn;
    g->tap_arg = arg;
}

static void enqueue_out(struct gw_cluster *g, struct bt_pkt *p)
{
    if (g->out_n == g->out_cap) {
        unsigned cap = g->out_cap * 2;
        struct bt_pkt **q = malloc(cap * sizeof(*q));
        if (!q) {
            bt_pkt_free(p);
            g->st.drops_state++;
            return;
        }
        for (unsigned i = 0; i < g->out_n; i++)
            q[i] = g->outq[(g->out_head + i) % g->out_cap];
        free(g->outq);
        g->outq = q;
        g->out_head = 0;
        g->out_cap = cap;
    }
    g->outq[(g->out_head + g->out_n) % g->out_cap] = p;
    g->out_n++;
    g->st.tx++;
}

static void send_sync(struct gw_cluster *g, uint64_t now, int from, int to,
                      const struct bt_flow_key *k, uint32_t hash, uint8_t op)
{
    struct sync_rec *r;

    if (!to || (g->cfg.faults & GW_FAULT_NO_SYNC))
        return;
    if (g->sync_head + g->sync_n == g->sync_cap) {
        if (g->sync_head > 0) {
            memmove(g->syncq, g->syncq + g->sync_head, g->sync_n * sizeof(*g->syncq));
            g->sync_head = 0;
        } else {
            size_t cap = g->sync_cap ? g->sync_cap * 2 : 1024;
            struct sync_rec *q = realloc(g->syncq, cap * sizeof(*q));
            if (!q)
                return;
            g->syncq = q;
            g->sync_cap = cap;
        }
    }
    r = &g->syncq[g->sync_head + g->sync_n++];
    g->m[from].st.sync_tx++;
    r->at_ns = now + g->cfg.sync_delay_ns;
    r->key = *k;
    r->hash = hash;
    r->from = (uint8_t)from;
    r->to = (uint8_t)to;
    r->op = op;
    g->st.sync_records++;
}

struct rebackup {
    struct gw_cluster *g;
    int id;
    uint64_t now;
};

static void rebackup_cb(const struct bt_flow_key *k, void *v, void *arg)
{
    struct rebackup *rb = arg;
    struct conn *c = v;
    struct gw_cluster *g = rb->g;

    if (c->role != ROLE_OWNER || !c->peer || !g->m[c->peer].detected_dead)
        return;
    c->peer = (uint8_t)bt_dist_backup(g->dist, c->hash);
    if (c->peer == rb->id)  /* the owner is not its bucket's primary (a corrected flow) */
        c->peer = (uint8_t)bt_dist_choice(g->dist, c->hash, rb->id, 0);
    send_sync(g, rb->now, rb->id, c->peer, k, c->hash, 1);
}

/* Delivers sync records due by now, and applies failure detection. */
static void run_timers(struct gw_cluster *g, uint64_t now)
{
    while (g->sync_n && g->syncq[g->sync_head].at_ns <= now) {
        struct sync_rec *r = &g->syncq[g->sync_head++];
        struct member *m = &g->m[r->to];
        g->sync_n--;
        if (!m->alive)
            continue;
        m->st.sync_rx++;
        if (r->op == 1) {
            bool created;
            struct conn *c = bt_flowtab_insert(m->conns, &r->key, r->at_ns, &created);
            if (c && created) {
                c->role = ROLE_BACKUP;
                c->hash = r->hash;
                c->peer = r->from;
                g->st.backups++;
                m->st.backup_conns++;
            }
        } else {
            struct conn *c = bt_flowtab_lookup(m->conns, &r->key);
            if (c && c->role == ROLE_BACKUP) {
                bt_flowtab_remove(m->conns, c);
                m->st.backup_conns--;
            }
        }
    }
    bool rebuild = false;
    for (unsigned id = 1; id <= g->cfg.nmembers; id++) {
        struct member *m = &g->m[id];
        if (!m->alive && !m->detected_dead && m->died_ns + g->cfg.dead_ns <= now) {
            m->detected_dead = true;
            rebuild = true;
        }
    }
    if (rebuild) {
        build_dist(g);
        /* owners whose backup died get a new one and fill it, so that a
         * second failure (of the owner) is survived too */
        for (unsigned id = 1; id <= g->cfg.nmembers; id++) {
            struct rebackup rb = {g, (int)id, now};
            if (g->m[id].alive && g->m[id].conns)
                bt_flowtab_foreach(g->m[id].conns, rebackup_cb, &rb);
        }
    }
}

int gw_fail(struct gw_cluster *g, uint64_t now_ns, int sgm)
{
    if (sgm < 1 || (unsigned)sgm > g->cfg.nmembers || !g->m[sgm].alive)
        return -1;
    run_timers(g, now_ns);
    g->m[sgm].alive = false;
    g->m[sgm].died_ns = now_ns;
    /* its state is gone with the process */
    g->m[sgm].st.owner_conns = g->m[sgm].st.backup_conns = 0;
    bt_flowtab_free(g->m[sgm].conns);
    g->m[sgm].conns = bt_flowtab_new_growable(g->cfg.max_conns < 1024 ? g->cfg.max_conns : 1024, g->cfg.max_conns, sizeof(struct conn), g->cfg.idle_ns);
    return 0;
}

static void on_expire(const struct bt_flow_key *k, void *v, void *arg)
{
    struct gw_member_stats *st = arg;
    const struct conn *c = v;

    (void)k;
    if (c->role == ROLE_OWNER)
        st->owner_conns--;
    else
        st->backup_conns--;
}

/* Does member `to` (not `id`) hold connection ck as its owner? */
static bool owner_of(struct gw_cluster *g, uint64_t now, int id, int to,
                     const struct bt_flow_key *ck, struct conn **out)
{
    struct conn *c;

    *out = NULL;
    if ((g->cfg.faults & GW_FAULT_NO_CORRECTION) || !to || to == id || !g->m[to].alive ||
        !g->m[to].conns)
        return false;
    c = bt_flowtab_lookup(g->m[to].conns, ck);
    if (c && c->role == ROLE_BACKUP && c->peer && !g->m[c->peer].alive) {
        /* `to` holds the backup of a connection whose owner died and that
         * had no packet since: it takes over now (a join or a weight change
         * moved the bucket on before the flow reached it) */
        c->role = ROLE_OWNER;
        c->peer = (uint8_t)bt_dist_backup(g->dist, c->hash);
        if (c->peer == to)
            c->peer = (uint8_t)bt_dist_choice(g->dist, c->hash, to, 0);
        g->st.promoted++;
        g->m[to].st.backup_conns--;
        g->m[to].st.owner_conns++;
        send_sync(g, now, to, c->peer, ck, c->hash, 1);
    }
    if (!c || c->role != ROLE_OWNER)
        return false;
    *out = c;
    return true;
}

/* The correction layer: member id received a packet of a connection that
 * member `to` owns; forward it there (counted, and reported). */
static void correct(struct gw_cluster *g, uint64_t now, int id, int to,
                    const struct bt_flow_key *k, struct conn *pc, struct bt_pkt *pkt)
{
    g->m[id].st.corrections++;
    g->st.corrections++;
    if (g->corr) {
        struct bt_correction cr;
        memset(&cr, 0, sizeof(cr));
        cr.t_ns = now;
        memcpy(cr.src, k->src, 16);
        memcpy(cr.dst, k->dst, 16);
        cr.sport = k->sport;
        cr.dport = k->dport;
        cr.proto = k->proto;
        cr.from = id;
        cr.to = to;
        g->corr(g->corr_arg, &cr);
    }
    bt_flowtab_touch(g->m[to].conns, pc, now);
    pkt->port = pkt->port ? 0 : 1;
    enqueue_out(g, pkt);
}

static void member_rx(struct gw_cluster *g, uint64_t now, int id, uint32_t hash,
                      const struct bt_parsed *p, struct bt_pkt *pkt)
{
    struct member *m = &g->m[id];
    struct bt_flow_key k, ck;
    struct conn *c;
    int swapped;

    bt_flow_key_from_parsed(p, &k);
    swapped = bt_flow_key_canon(&k, &ck);
    bt_flowtab_expire(m->conns, now, on_expire, &m->st, 64);
    c = bt_flowtab_lookup(m->conns, &ck);
    if (c && c->role == ROLE_BACKUP) {
        /* a backup, while its owner lives: the packet belongs there (the
         * reverse direction in User or Network mode can land on the backup) */
        struct conn *pc;
        int owner = c->peer;
        if (owner_of(g, now, id, owner, &ck, &pc) && !(g->cfg.faults & GW_FAULT_ASYMMETRIC)) {
            correct(g, now, id, owner, &k, pc, pkt);
            return;
        }
    }
    if (c && c->role == ROLE_BACKUP) {
        /* the distributor sends us the flow: its owner died; take over */
        c->role = ROLE_OWNER;
        c->hash = hash;
        c->peer = (uint8_t)bt_dist_backup(g->dist, hash);
        g->st.promoted++;
        m->st.backup_conns--;
        m->st.owner_conns++;
        send_sync(g, now, id, c->peer, &ck, hash, 1);
    } else if (!c) {
        bool opens = p->proto != 6 ||
                     (p->tcp_flags & (BT_TCP_SYN | BT_TCP_ACK | BT_TCP_RST)) == BT_TCP_SYN;
        if (!opens) {
            /* correction layer: the bucket moved (a join, a weight change);
             * its previous owner may hold the connection */
            int prev = g->prev_owner[bt_dist_bucket(g->dist, hash)];
            struct conn *pc = NULL;
            if (!owner_of(g, now, id, prev, &ck, &pc) && !(g->cfg.faults & GW_FAULT_ASYMMETRIC)) {
                /* or the direction's hash differs from the opening
                 * direction's (User or Network mode alone): the member the
                 * reverse direction maps to holds it */
                struct bt_flow_key rk;
                bt_flow_key_reverse(&k, &rk);
                uint32_t rh = bt_dist_hash(&rk, (enum bt_dist_mode)g->cfg.mode, g->cfg.l4,
                                           pkt->port == 0 ? BT_SIDE_EXTERNAL : BT_SIDE_INTERNAL,
                                           g->cfg.seed);
                prev = bt_dist_primary(g->dist, rh);
                owner_of(g, now, id, prev, &ck, &pc);
            }
            if (pc) {
                correct(g, now, id, prev, &k, pc, pkt);
                return;
            }
            m->st.drops++;
            g->st.drops_state++;
            bt_pkt_free(pkt);
            return;
        }
        c = bt_flowtab_insert(m->conns, &ck, now, NULL);
        if (!c) {
            g->st.drops_state++;
            bt_pkt_free(pkt);
            return;
        }
        c->role = ROLE_OWNER;
        c->hash = hash;
        c->peer = (uint8_t)bt_dist_backup(g->dist, hash);
        g->st.conns++;
        m->st.conns_created++;
        m->st.owner_conns++;
        send_sync(g, now, id, c->peer, &ck, hash, 1);
    }
    bt_flowtab_touch(m->conns, c, now);
    if (p->proto == 6) {
        if (p->tcp_flags & BT_TCP_FIN)
            c->fin_mask |= swapped ? 2 : 1;
        if (p->tcp_flags & BT_TCP_RST)
            c->rst = 1;
    }
    pkt->port = pkt->port ? 0 : 1;
    enqueue_out(g, pkt);
}

void gw_rx(struct gw_cluster *g, uint64_t now_ns, uint16_t port, struct bt_pkt **pkts,
           unsigned n)
{
    run_timers(g, now_ns);
    for (unsigned i = 0; i < n; i++) {
        struct bt_pkt *pkt = pkts[i];
        struct bt_parsed p;
        struct bt_flow_key k;
        g->st.rx++;
        pkt->port = port;
        if (bt_parse(pkt->data, pkt->len, BT_LINK_ETHERNET, &p) != BT_PARSE_OK ||
            bt_flow_key_from_parsed(&p, &k) < 0) {
            g->st.drops_state++;
            bt_pkt_free(pkt);
            continue;
        }
        enum bt_dist_mode mode = (enum bt_dist_mode)g->cfg.mode;
        if ((g->cfg.faults & GW_FAULT_ASYMMETRIC) && mode == BT_DIST_GENERAL)
            mode = BT_DIST_NETWORK; /* keys on the source: the reply lands elsewhere */
        uint32_t h = bt_dist_hash(&k, mode, g->cfg.l4,
                                  port == 0 ? BT_SIDE_INTERNAL : BT_SIDE_EXTERNAL, g->cfg.seed);
        int id = bt_dist_primary(g->dist, h);
        if (id == 0) {
            g->st.drops_dead++;
            bt_pkt_free(pkt);
            continue;
        }
        pkt->ts_ns = now_ns;
        if (g->tap)
            g->tap(g->tap_arg, id, pkt);
        g->m[id].st.pkts++;
        g->m[id].st.bytes += pkt->wire_len;
        if (!g->m[id].alive) {
            g->m[id].st.drops++;
            g->st.drops_dead++;
            bt_pkt_free(pkt);
            continue;
        }
        member_rx(g, now_ns, id, h, &p, pkt);
    }
}

unsigned gw_tx(struct gw_cluster *g, uint64_t now_ns, struct bt_pkt **out, unsigned max)
{
    unsigned n = 0;

    run_timers(g, now_ns);
    while (n < max && g->out_n) {
        out[n++] = g->outq[g->out_head];
        g->out_head = (g->out_head + 1) % g->out_cap;
        g->out_n--;
    }
    return n;
}

uint64_t gw_next_ns(const struct gw_cluster *g)
{
    uint64_t t = UINT64_MAX;

    if (g->out_n)
        return 0;
    if (g->sync_n)
        t = g->syncq[g->sync_head].at_ns;
    for (unsigned id = 1; id <= g->cfg.nmembers; id++) {
        const struct member *m = &g->m[id];
        if (!m->alive && !m->detected_dead && m->died_ns + g->cfg.dead_ns < t)
            t = m->died_ns + g->cfg.dead_ns;
    }
    return t;
}

void gw_get_stats(const struct gw_cluster *g, struct gw_stats *s)
{
    *s = g->st;
}

int gw_member_stats(const struct gw_cluster *g, int sgm, struct gw_member_stats *s)
{
    if (sgm < 1 || (unsigned)sgm > g->cfg.nmembers)
        return -EINVAL;
    *s = g->m[sgm].st;
    s->alive = g->m[sgm].alive;
    s->detected_dead = g->m[sgm].detected_dead;
    s->weight = g->cfg.weight[sgm];
    return 0;
}

unsigned gw_member_count(const struct gw_cluster *g)
{
    return g->cfg.nmembers;
}

void gw_set_correction_cb(struct gw_cluster *g, gw_correction_fn fn, void *arg)
{
    g->corr = fn;
    g->corr_arg = arg;
}

int gw_add(struct gw_cluster *g, uint64_t now_ns, int sgm, unsigned weight)
{
    if (sgm >= 1 && sgm <= GW_MAX_MEMBERS && g->m[sgm].conns)
        return -EEXIST;
    /* members are numbered 1..n: the next one joins */
    if ((unsigned)sgm != g->cfg.nmembers + 1 || sgm > GW_MAX_MEMBERS || weight > BT_DIST_MAX_WEIGHT)
        return -EINVAL;
    run_timers(g, now_ns);
    g->m[sgm].conns = bt_flowtab_new_growable(g->cfg.max_conns < 1024 ? g->cfg.max_conns : 1024,
                                              g->cfg.max_conns, sizeof(struct conn),
                                              g->cfg.idle_ns);
    if (!g->m[sgm].conns)
        return -ENOMEM;
    g->m[sgm].alive = true;
    g->cfg.weight[sgm] = weight;
    g->cfg.nmembers = (unsigned)sgm;
    build_dist(g);
    return 0;
}

int gw_set_weight(struct gw_cluster *g, uint64_t now_ns, int sgm, unsigned weight)
{
    if (sgm < 1 || (unsigned)sgm > g->cfg.nmembers || !g->m[sgm].conns ||
        weight > BT_DIST_MAX_WEIGHT)
        return -EINVAL;
    run_timers(g, now_ns);
    g->cfg.weight[sgm] = weight;
    build_dist(g);
    return 0;
}

int gw_restore(struct gw_cluster *g, uint64_t now_ns, int sgm)
{
    if (sgm < 1 || (unsigned)sgm > g->cfg.nmembers || !g->m[sgm].conns || g->m[sgm].alive)
        return -EINVAL;
    run_timers(g, now_ns);
    g->m[sgm].alive = true;
    g->m[sgm].detected_dead = false;
    build_dist(g);
    return 0;
}
