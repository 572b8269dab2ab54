/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The cost model makes capacity real: an RFC 9411-style search (the largest
 * connection rate a trial carries with no drop of any kind) through the
 * Core API finds the capacity the configured costs imply, and the lower
 * capacity with HyperSync on. Negative controls: with the sync cost set to
 * 0, or with the no-sync fault, the two capacities are the same, so the
 * "lower with sync" check can fail.
 */
#include <stdlib.h>

#include "bt_test.h"
#include "bt_parse.h"
#include "bt_pkt.h"
#include "gw_api.h"
#include "../lib/pktbuild.h"

#define N 20000                  /* connections per trial */
#define OFF1 5000000ULL          /* SYN+ACK 5 ms after the SYN */
#define OFF2 10000000ULL         /* the client's ACK 5 ms later */

static struct bt_pktpool *pool;

static struct bt_pkt *seg(uint32_t i, int stage)
{
    struct bt_pkt *p = bt_pkt_alloc(pool);
    uint32_t c = 0x0a000000 + i, s = 0xc0000201;
    uint16_t cp = (uint16_t)(1024 + i % 50000);
    unsigned o;

    if (!p)
        return NULL;
    o = pb_eth(p->data, 0, 0, 0, 0, 0x0800);
    if (stage == 1) {
        o += pb_ip4(p->data + o, 5, 40, 0, 6, s, c);
        o += pb_tcp(p->data + o, 80, cp, 100, 2, BT_TCP_SYN | BT_TCP_ACK, 20);
    } else {
        o += pb_ip4(p->data + o, 5, 40, 0, 6, c, s);
        o += pb_tcp(p->data + o, cp, 80, stage ? 2 : 1, stage ? 101 : 0,
                    stage ? BT_TCP_ACK : BT_TCP_SYN, 20);
    }
    p->len = p->wire_len = o;
    return p;
}

struct trial {
    bool clean;
    uint64_t drops, conns;
    double busy_max_ns;          /* the busiest member's work per cluster connection, ns */
};

/* N handshakes (SYN, SYN+ACK, ACK) opened at cps, open loop. */
static void run_trial(const struct gw_config *c, double cps, struct trial *tr)
{
    struct gw_cluster *g = gw_cluster_new(c, 1);
    struct bt_pkt *out[64];
    uint32_t next[3] = {0, 0, 0};
    struct gw_stats st;
    unsigned n;
    uint64_t end;

    memset(tr, 0, sizeof(*tr));
    if (!pool)
        pool = bt_pktpool_new(8192, 256);   /* kept for the whole run */
    if (!g || !pool)
        return;
    for (;;) {
        int best = -1;
        uint64_t bt = UINT64_MAX;
        static const uint64_t off[3] = {0, OFF1, OFF2};
        for (int s = 0; s < 3; s++) {
            if (next[s] >= N)
                continue;
            uint64_t t = (uint64_t)((double)next[s] * 1e9 / cps) + off[s];
            if (t < bt) {
                bt = t;
                best = s;
            }
        }
        if (best < 0)
            break;
        struct bt_pkt *p = seg(next[best]++, best);
        if (p)
            gw_rx(g, bt, best == 1 ? 1 : 0, &p, 1);
        while ((n = gw_tx(g, bt, out, 64)) > 0)
            for (unsigned k = 0; k < n; k++)
                bt_pkt_free(out[k]);
    }
    end = (uint64_t)((double)N * 1e9 / cps) + OFF2 + 50000000ULL;
    while ((n = gw_tx(g, end, out, 64)) > 0)
        for (unsigned k = 0; k < n; k++)
            bt_pkt_free(out[k]);
    gw_get_stats(g, &st);
    tr->drops = st.drops_queue + st.drops_state + st.drops_dead + st.drops_full + st.drops_policy +
                st.defer_timeouts + st.false_deaths;
    tr->conns = st.conns;
    tr->clean = tr->drops == 0 && st.tx == 3ULL * N;
    for (unsigned id = 1; id <= gw_member_count(g); id++) {
        struct gw_member_stats ms;
        gw_member_stats(g, (int)id, &ms);
        /* heartbeats cost a packet each; the rest is the connections' work */
        double b = (double)ms.busy_ns - (double)st.heartbeats / gw_member_count(g) * c->cost.ns_per_pkt;
        if (b / N > tr->busy_max_ns)
            tr->busy_max_ns = b / N;
    }
    gw_cluster_free(g);
}

/* The capacity the costs imply: the busiest member saturates first. */
static double model_cps(const struct gw_config *c)
{
    struct trial tr;

    run_trial(c, 1000, &tr);
    return tr.busy_max_ns > 0 ? (double)c->cost.cores * 1e9 / tr.busy_max_ns : 0;
}

/* The largest rate whose trial is clean, in [lo, hi] (binary search, 10 steps). */
static double search(const struct gw_config *c, double lo, double hi)
{
    struct trial tr;

    for (int i = 0; i < 10; i++) {
        double mid = (lo + hi) / 2;
        run_trial(c, mid, &tr);
        if (tr.clean)
            lo = mid;
        else
            hi = mid;
    }
    return lo;
}

static void base(struct gw_config *c, bool sync)
{
    gw_config_default(c);
    c->nmembers = 2;
    c->cost.cores = 1;
    c->cost.ns_per_pkt = 5000;
    c->cost.ns_per_setup = 7000;
    c->cost.ns_per_sync = 6000;
    c->cost.queue_pkts = 256;     /* 1.3 ms of queue: an overload of 1 % drops within a trial */
    c->max_conns = 4 * N;
    if (!sync)
        c->faults |= GW_FAULT_NO_SYNC;
}

TEST(work_per_connection_is_the_configured_cost)
{
    struct gw_config c;
    struct trial tr;

    base(&c, false);
    run_trial(&c, 1000, &tr);
    CHECK(tr.clean);
    CHECK_EQ_INT(tr.conns, N);
    /* without sync a connection costs 3 packets + a setup, on its owner:
     * the busiest member's share of that is a bit over half */
    double per = 3.0 * c.cost.ns_per_pkt + c.cost.ns_per_setup;
    CHECK(tr.busy_max_ns > 0.5 * per && tr.busy_max_ns < 0.53 * per);
}

TEST(search_finds_the_configured_capacity_and_less_with_sync)
{
    struct gw_config off, on;

    base(&off, false);
    base(&on, true);
    double m_off = model_cps(&off), m_on = model_cps(&on);
    REQUIRE(m_off > 0 && m_on > 0);
    double f_off = search(&off, 0.5 * m_off, 1.5 * m_off);
    double f_on = search(&on, 0.5 * m_on, 1.5 * m_on);
    fprintf(stderr, "capacity without sync: model %.0f cps, found %.0f; with sync: model %.0f, found %.0f\n",
            m_off, f_off, m_on, f_on);
    /* found within a few % under the model (random arrivals queue a little
     * before the mean reaches the capacity), never above it */
    CHECK(f_off > 0.92 * m_off && f_off < 1.01 * m_off);
    CHECK(f_on > 0.92 * m_on && f_on < 1.01 * m_on);
    /* sync costs the owner an encode and an ACK, the backup an apply,
     * and each state change a record: a lot lower */
    CHECK(f_on < 0.7 * f_off);
}

TEST(negative_controls_sync_for_free_or_off_changes_nothing)
{
    struct gw_config off, free_sync, nosync;

    base(&off, false);
    base(&free_sync, true);
    free_sync.cost.ns_per_sync = 0;
    base(&nosync, true);
    nosync.faults |= GW_FAULT_NO_SYNC;
    double m = model_cps(&off);
    double f_off = search(&off, 0.5 * m, 1.5 * m);
    double f_free = search(&free_sync, 0.5 * m, 1.5 * m);
    double f_nosync = search(&nosync, 0.5 * m, 1.5 * m);
    /* the "lower with sync" check above fails for both */
    CHECK(!(f_free < 0.7 * f_off));
    CHECK(!(f_nosync < 0.7 * f_off));
    CHECK(f_free > 0.97 * f_off && f_free < 1.03 * f_off);
    CHECK(f_nosync > 0.99 * f_off && f_nosync < 1.01 * f_off);
}

/* Backups count against the table (max_conns owner + backup entries per
 * member): with sync on the cluster holds half the connections, the
 * vendor's "50% fewer connections with sync". */
static uint64_t held(bool sync)
{
    struct gw_config c;
    struct bt_pkt *out[64];
    uint64_t owners = 0;
    unsigned n;

    base(&c, sync);
    c.nmembers = 4;
    c.max_conns = 2000;
    c.cost.queue_pkts = 65536;
    struct gw_cluster *g = gw_cluster_new(&c, 1);
    if (!g || !pool)
        return 0;
    for (uint32_t i = 0; i < 16000; i++) {
        struct bt_pkt *p = seg(i, 0);
        uint64_t t = (uint64_t)i * 100000ULL;
        gw_rx(g, t, 0, &p, 1);
        while ((n = gw_tx(g, t, out, 64)) > 0)
            for (unsigned k = 0; k < n; k++)
                bt_pkt_free(out[k]);
    }
    for (int id = 1; id <= 4; id++) {
        struct gw_member_stats ms;
        gw_member_stats(g, id, &ms);
        owners += ms.owner_conns;
        if (ms.owner_conns + ms.backup_conns > c.max_conns)
            owners = 0;   /* over the table: fail below */
    }
    gw_cluster_free(g);
    return owners;
}

TEST(backups_halve_the_connections_held)
{
    uint64_t off = held(false), on = held(true);
    fprintf(stderr, "connections held, 4 members x 2000 entries: %llu without sync, %llu with\n",
            (unsigned long long)off, (unsigned long long)on);
    CHECK(off > 7600 && off <= 8000);
    CHECK(on > 0.45 * (double)off && on < 0.55 * (double)off);
}
