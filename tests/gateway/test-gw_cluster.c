/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The Core API against a toy wire (gw_rx / gw_tx / gw_next_ns, packet
 * ownership), the distributor, heartbeats and the dead timer (with its
 * load-aware value), control calls and their errors, events.
 */
#include <errno.h>

#include "bt_test.h"
#include "bt_capset.h"
#include "bt_err.h"
#include "bt_flow.h"
#include "bt_hash.h"
#include "bt_parse.h"
#include "bt_pkt.h"
#include "gw_api.h"
#include "gw_sync.h"   /* GW_SYNC_MAXCONN: connection records a message holds */
#include "../lib/pktbuild.h"

#define MS 1000000ULL

static struct bt_pkt *seg(struct bt_pktpool *pool, uint32_t c, uint16_t cp, int reply, uint8_t fl)
{
    struct bt_pkt *p = bt_pkt_alloc(pool);
    if (!p) {
        fprintf(stderr, "test pool empty\n");
        exit(1);
    }
    unsigned o = pb_eth(p->data, 0, 0, 0, 0, 0x0800);
    o += pb_ip4(p->data + o, 5, 40, 0, 6, reply ? 0xc0000201 : c, reply ? c : 0xc0000201);
    o += pb_tcp(p->data + o, reply ? 80 : cp, reply ? cp : 80, 1, 1, fl, 20);
    p->len = p->wire_len = o;
    return p;
}

static struct bt_event evs[16];
static unsigned nev;
static void on_ev(void *arg, const struct bt_event *ev)
{
    (void)arg;
    if (nev < 16)
        evs[nev++] = *ev;
}

static int last_tap;
static void tap(void *arg, int sgm, const struct bt_pkt *p)
{
    (void)arg;
    (void)p;
    last_tap = sgm;
}

/* Drains everything due by t; returns how many left on port, freeing them. */
static unsigned drain(struct gw_cluster *g, uint64_t t, int port)
{
    struct bt_pkt *out[64];
    unsigned n, got = 0;
    while ((n = gw_tx(g, t, out, 64)) > 0)
        for (unsigned i = 0; i < n; i++) {
            got += out[i]->port == port;
            bt_pkt_free(out[i]);
        }
    return got;
}

static struct bt_flow_key key_of(uint32_t c, uint16_t cp)
{
    struct bt_flow_key k;
    memset(&k, 0, sizeof(k));
    k.src[10] = k.src[11] = k.dst[10] = k.dst[11] = 0xff;
    k.src[12] = (uint8_t)(c >> 24); k.src[13] = (uint8_t)(c >> 16);
    k.src[14] = (uint8_t)(c >> 8); k.src[15] = (uint8_t)c;
    k.dst[12] = 192; k.dst[13] = 0; k.dst[14] = 2; k.dst[15] = 1;
    k.sport = cp;
    k.dport = 80;
    k.proto = 6;
    k.family = 4;
    return k;
}

TEST(toy_wire_timing_and_ownership)
{
    struct gw_config cfg;
    gw_config_default(&cfg);
    struct gw_cluster *g = gw_cluster_new(&cfg, 1);
    struct bt_pktpool *pool = bt_pktpool_new(64, 2048);
    struct bt_pkt *p, *out[4];
    REQUIRE(g && pool);
    gw_set_tap(g, tap, NULL);
    CHECK_EQ_INT(gw_next_ns(g), UINT64_MAX);   /* no clock before the first call */
    p = seg(pool, 0x0a000001, 1234, 0, BT_TCP_SYN);
    gw_rx(g, 1000, 0, &p, 1);
    CHECK(last_tap >= 1 && last_tap <= 4);
    /* deferred: the SYN waits for its backup's ACK (two sync hops) */
    CHECK_EQ_INT(gw_tx(g, 1000, out, 4), 0);
    uint64_t due = gw_next_ns(g);
    CHECK(due > 1000 && due < 1000 + 2 * cfg.sync_delay_ns);   /* the CREATE lands first */
    CHECK_EQ_INT(drain(g, 1000 + 2 * cfg.sync_delay_ns - 1, 1), 0);
    CHECK_EQ_INT(drain(g, 1000 + 2 * cfg.sync_delay_ns + 10000, 1), 1);
    /* the reply goes through at once (processing time only) */
    p = seg(pool, 0x0a000001, 1234, 1, BT_TCP_SYN | BT_TCP_ACK);
    gw_rx(g, 100000, 1, &p, 1);
    CHECK_EQ_INT(gw_tx(g, 100000, out, 4), 0);
    CHECK(gw_next_ns(g) > 100000 && gw_next_ns(g) < 101000);
    CHECK_EQ_INT(drain(g, 101000, 0), 1);
    /* an ACK of no known connection is dropped and counted */
    p = seg(pool, 0x0b000001, 999, 0, BT_TCP_ACK);
    gw_rx(g, 200000, 0, &p, 1);
    CHECK_EQ_INT(drain(g, 300000, 1), 0);
    struct gw_stats st;
    gw_get_stats(g, &st);
    CHECK_EQ_INT(st.conns, 1);
    CHECK_EQ_INT(st.drops_state, 1);
    CHECK_EQ_INT(st.backups, 1);
    /* every packet came back to the pool: ownership passed as documented */
    CHECK_EQ_INT(bt_pktpool_avail(pool), bt_pktpool_size(pool));
    /* packets still inside are freed with the cluster */
    p = seg(pool, 0x0a000002, 1, 0, BT_TCP_SYN);
    gw_rx(g, 400000, 0, &p, 1);
    gw_cluster_free(g);
    CHECK_EQ_INT(bt_pktpool_avail(pool), bt_pktpool_size(pool));
    bt_pktpool_free(pool);
}

TEST(defer_off_and_single_member_forward_at_once)
{
    struct gw_config cfg;
    struct bt_pkt *p;
    gw_config_default(&cfg);
    cfg.defer = false;
    struct gw_cluster *g = gw_cluster_new(&cfg, 1);
    struct bt_pktpool *pool = bt_pktpool_new(16, 2048);
    REQUIRE(g && pool);
    p = seg(pool, 0x0a000001, 1234, 0, BT_TCP_SYN);
    gw_rx(g, 1000, 0, &p, 1);
    CHECK_EQ_INT(drain(g, 3000, 1), 1);
    gw_cluster_free(g);
    gw_config_default(&cfg);
    cfg.nmembers = 1;   /* no backup to wait for */
    g = gw_cluster_new(&cfg, 1);
    REQUIRE(g);
    p = seg(pool, 0x0a000001, 1234, 0, BT_TCP_SYN);
    gw_rx(g, 1000, 0, &p, 1);
    CHECK_EQ_INT(drain(g, 3000, 1), 1);
    gw_cluster_free(g);
    bt_pktpool_free(pool);
}

/* Opens n connections (SYN, SYN+ACK, ACK) from t; returns the time after. */
static uint64_t open_conns(struct gw_cluster *g, struct bt_pktpool *pool, unsigned n, uint64_t t)
{
    for (unsigned i = 0; i < n; i++) {
        struct bt_pkt *p = seg(pool, 0x0a000001 + i, 2000, 0, BT_TCP_SYN);
        gw_rx(g, t, 0, &p, 1);
        drain(g, t += 100000, 1);
        p = seg(pool, 0x0a000001 + i, 2000, 1, BT_TCP_SYN | BT_TCP_ACK);
        gw_rx(g, t, 1, &p, 1);
        drain(g, t += 100000, 0);
        p = seg(pool, 0x0a000001 + i, 2000, 0, BT_TCP_ACK);
        gw_rx(g, t, 0, &p, 1);
        drain(g, t += 100000, 1);
    }
    return t + 10 * MS;  /* the batched updates land */
}

/* n SYNs of clients 10.0.0.1.. port 2000 in one gw_rx at 1 us into a new
 * cluster of `members` holding max_conns each (0: the default), pool its
 * buffers; none leaves at once (all deferred). */
static struct gw_cluster *syn_burst(unsigned members, uint32_t max_conns, unsigned n,
                                    struct bt_pktpool **pool, struct gw_config *cfg)
{
    struct bt_pkt *b[128];
    struct gw_cluster *g;

    gw_config_default(cfg);
    cfg->nmembers = members;
    if (max_conns)
        cfg->max_conns = max_conns;
    g = gw_cluster_new(cfg, 1);
    *pool = bt_pktpool_new(2 * n, 2048);
    if (!g || !*pool || n > 128)
        return NULL;
    for (unsigned i = 0; i < n; i++)
        b[i] = seg(*pool, 0x0a000001 + i, 2000, 0, BT_TCP_SYN);
    gw_rx(g, 1000, 0, b, n);
    CHECK_EQ_INT(drain(g, 1000, 1), 0);   /* all deferred */
    return g;
}

/* A burst of SYNs in one gw_rx: every CREATE of an (owner, backup) pair
 * goes in one message, split where GW_SYNC_MAXCONN records fill it, and each
 * landing message is answered by one message of one ACK record (its
 * sequence number and a bit per CREATE stored); every SYN leaves
 * when its ACK is back (none by the defer timeout), every connection has a
 * backup. 2 members (2 pairs) and 3 (6 pairs, interleaved in the burst). */
TEST(a_burst_of_syns_syncs_in_one_message_per_pair_split_at_the_mtu)
{
    for (unsigned members = 2; members <= 3; members++) {
        enum { N = 100 };
        struct gw_config cfg;
        struct bt_pktpool *pool;
        struct gw_cluster *g = syn_burst(members, 0, N, &pool, &cfg);
        REQUIRE(g);
        CHECK_EQ_INT(drain(g, 1000 + 2 * MS, 1), N);
        unsigned pair[4][4] = {{0}}, expect = 0;
        for (unsigned i = 0; i < N; i++) {
            struct bt_flow_key k = key_of(0x0a000001 + i, 2000);
            int o, bk;
            REQUIRE(gw_flow_where(g, &k, &o, &bk, NULL) == 0);
            CHECK(bk >= 1 && bk <= (int)members && bk != o);
            pair[o][bk]++;
        }
        for (unsigned o = 1; o <= members; o++)
            for (unsigned bk = 1; bk <= members; bk++)
                expect += (pair[o][bk] + GW_SYNC_MAXCONN - 1) / GW_SYNC_MAXCONN;
        struct gw_stats st;
        gw_get_stats(g, &st);
        CHECK_EQ_INT(st.sync_records, N + expect);   /* N CREATEs, an ACK a message */
        CHECK_EQ_INT(st.sync_msgs, 2 * expect);
        CHECK(expect > (members == 2 ? 2u : 6u) - 1);
        CHECK_EQ_INT(st.defer_timeouts, 0);
        gw_cluster_free(g);
        bt_pktpool_free(pool);
    }
}

/* The ACK of a message names the CREATEs its backup stored: with the
 * backups' tables full, only those SYNs leave at the ACK; the others wait
 * for the defer timeout (an ACK releasing its whole message would let them
 * all go with no backup). */
TEST(an_ack_releases_only_the_connections_its_backup_stored)
{
    enum { N = 60, CAP = 40 };
    struct gw_config cfg;
    struct bt_pktpool *pool;
    struct gw_cluster *g = syn_burst(2, CAP, N, &pool, &cfg);
    REQUIRE(g);
    unsigned acked = drain(g, 1000 + 2 * MS, 1);
    struct gw_stats st;
    gw_get_stats(g, &st);
    uint64_t stored = st.backups;
    REQUIRE(st.conns == N);                /* each member owns fewer than CAP */
    CHECK(stored > 0 && stored < N);       /* the backups filled up */
    CHECK_EQ_INT(acked, stored);           /* acked: these only */
    CHECK_EQ_INT(st.defer_timeouts, 0);
    CHECK_EQ_INT(drain(g, 1000 + 2 * MS + cfg.defer_ns, 1), N - stored);
    gw_get_stats(g, &st);
    CHECK_EQ_INT(st.defer_timeouts, N - stored);
    CHECK_EQ_INT(st.backups_full, N - stored);   /* records refused, not packets */
    CHECK_EQ_INT(st.drops_full, 0);
    CHECK(gw_idle(g));
    gw_cluster_free(g);
    bt_pktpool_free(pool);
}

/* An ACK that lands after the first SYNs of its message timed out (their
 * slots left the defer queue, and the chain's head with them) still
 * releases the rest of the message: a busy owner (1 ms a connection, one
 * core) spreads the SYNs of one burst over ms, a slow sync network (9 ms
 * each way) brings the ACK back after the first deadlines. */
TEST(a_late_ack_releases_what_has_not_timed_out)
{
    enum { N = 12 };
    struct gw_config cfg;
    struct bt_pktpool *pool;
    gw_config_default(&cfg);
    cfg.nmembers = 2;
    cfg.cost.cores = 1;
    cfg.cost.ns_per_pkt = 100000;
    cfg.cost.ns_per_setup = 900000;
    cfg.cost.ns_per_sync = 0;
    cfg.sync_delay_ns = 9 * MS;
    cfg.defer_ns = 20 * MS;
    struct gw_cluster *g = gw_cluster_new(&cfg, 1);
    pool = bt_pktpool_new(2 * N, 2048);
    REQUIRE(g && pool);
    struct bt_pkt *b[N];
    for (unsigned i = 0; i < N; i++)
        b[i] = seg(pool, 0x0a000001 + i, 2000, 0, BT_TCP_SYN);
    gw_rx(g, 1000, 0, b, N);
    unsigned out = drain(g, 1000, 1);
    struct gw_stats st;
    for (uint64_t t = 1000; t < 100 * MS; t += 100000)
        out += drain(g, t, 1);
    gw_get_stats(g, &st);
    CHECK_EQ_INT(out, N);
    CHECK_EQ_INT(st.backups, N);                    /* every CREATE was stored */
    /* member 1 owns 9 of them, in one message whose ACK lands after the
     * first 6 timed out: it releases the last 3 (were the chain lost with
     * its head, all 9 would time out); member 2's 3 are acked in time */
    CHECK_EQ_INT(st.defer_timeouts, 6);
    CHECK(gw_idle(g));
    gw_cluster_free(g);
    bt_pktpool_free(pool);
}

TEST(failure_detected_after_dead_timer_backups_promoted)
{
    struct gw_config cfg;
    gw_config_default(&cfg);
    struct gw_cluster *g = gw_cluster_new(&cfg, 1);
    struct bt_pktpool *pool = bt_pktpool_new(64, 2048);
    REQUIRE(g && pool);
    nev = 0;
    gw_set_event_cb(g, on_ev, NULL);
    uint64_t t = open_conns(g, pool, 100, 1000);
    int owner[100], backup[100], victim_owned = 0;
    for (unsigned i = 0; i < 100; i++) {
        struct bt_flow_key k = key_of(0x0a000001 + i, 2000);
        const char *st;
        REQUIRE(gw_flow_where(g, &k, &owner[i], &backup[i], &st) == 0);
        CHECK_EQ_STR(st, "established");
        CHECK(backup[i] != 0 && backup[i] != owner[i]);
        victim_owned += owner[i] == 2;
    }
    CHECK(victim_owned > 5);
    REQUIRE(gw_fail(g, t, 2) == 0);
    CHECK_EQ_INT(gw_fail(g, t, 2), -EALREADY);
    CHECK_EQ_INT(nev, 1);
    CHECK_EQ_INT(evs[0].kind, BT_EV_SGM_DOWN);
    CHECK_EQ_INT(evs[0].t_ns, t);
    /* detection: the last heartbeat answer + the dead timer; stepping
     * through gw_next_ns finds the instant */
    struct gw_member_stats ms;
    uint64_t d = t;
    gw_member_stats(g, 2, &ms);
    CHECK(!ms.alive && !ms.detected_dead);
    CHECK_EQ_STR(gw_member_state_name(ms.state), "down");
    for (int i = 0; i < 1000 && !ms.detected_dead; i++) {
        d = gw_next_ns(g);
        drain(g, d, 0);
        gw_member_stats(g, 2, &ms);
    }
    CHECK(ms.detected_dead);
    CHECK(d > t + cfg.dead_ns - cfg.heartbeat_ns - MS && d <= t + cfg.dead_ns);
    /* each connection of the dead member is owned by its backup now, which
     * chose and filled a new backup */
    drain(g, d + 10 * MS, 0);
    for (unsigned i = 0; i < 100; i++) {
        struct bt_flow_key k = key_of(0x0a000001 + i, 2000);
        int o, b;
        REQUIRE(gw_flow_where(g, &k, &o, &b, NULL) == 0);
        if (owner[i] == 2) {
            CHECK_EQ_INT(o, backup[i]);
            CHECK(b != 0 && b != 2 && b != o);
        } else {
            CHECK_EQ_INT(o, owner[i]);
            CHECK(b != 2);
        }
    }
    struct gw_stats st;
    gw_get_stats(g, &st);
    CHECK_EQ_INT(st.promoted, victim_owned);
    gw_cluster_free(g);
    bt_pktpool_free(pool);
}

/* A member busy above the load threshold is given the long dead timer (the
 * vendor's 7-9 s failover above 80 % cpu). */
TEST(loaded_member_detected_after_the_long_dead_timer)
{
    struct gw_config cfg;
    gw_config_default(&cfg);
    cfg.nmembers = 2;
    cfg.cost.cores = 1;
    cfg.cost.ns_per_pkt = 9000;    /* 111 kpps per member */
    cfg.defer = false;
    struct gw_cluster *g = gw_cluster_new(&cfg, 1);
    struct bt_pktpool *pool = bt_pktpool_new(65536, 256);
    struct gw_member_stats ms;
    REQUIRE(g && pool);
    uint64_t t = 1000;
    /* 200 kpps offered to 2 members: both near 90 % busy */
    for (unsigned i = 0; i < 40000; i++, t += 5000) {
        struct bt_pkt *p = seg(pool, 0x0a000001 + i % 500, (uint16_t)(3000 + i % 7), 0, BT_TCP_SYN);
        gw_rx(g, t, 0, &p, 1);
        drain(g, t, 1);
    }
    REQUIRE(gw_fail(g, t, 1) == 0);
    uint64_t d = t;
    gw_member_stats(g, 1, &ms);
    for (int i = 0; i < 100000 && !ms.detected_dead; i++) {
        d = gw_next_ns(g);
        drain(g, d, 0);
        gw_member_stats(g, 1, &ms);
    }
    CHECK(ms.detected_dead);
    CHECK(d >= t + cfg.dead_loaded_ns - cfg.heartbeat_ns - MS && d <= t + cfg.dead_loaded_ns);
    gw_cluster_free(g);
    bt_pktpool_free(pool);
}

/* Heartbeats wait in the member's queue: one whose queue delay exceeds the
 * dead timer is declared dead although alive (fenced, event with detail). */
TEST(heartbeats_late_in_an_overloaded_queue)
{
    struct gw_config cfg;
    gw_config_default(&cfg);
    cfg.nmembers = 2;
    cfg.cost.cores = 1;
    cfg.cost.ns_per_pkt = 50000;
    cfg.cost.queue_pkts = 100000;  /* long queue: 5 s of work */
    cfg.load_pct = 101;            /* never the long timer */
    cfg.defer = false;
    struct gw_cluster *g = gw_cluster_new(&cfg, 1);
    struct bt_pktpool *pool = bt_pktpool_new(8192, 256);
    REQUIRE(g && pool);
    nev = 0;
    gw_set_event_cb(g, on_ev, NULL);
    for (unsigned i = 0; i < 8000; i++) {
        struct bt_pkt *p = seg(pool, 0x0a000001 + i, 4000, 0, BT_TCP_SYN);
        gw_rx(g, 1000 + i * 100, 0, &p, 1);
    }
    drain(g, 2000 * MS, 0);
    struct gw_stats st;
    gw_get_stats(g, &st);
    CHECK(st.false_deaths >= 1);
    CHECK(nev >= 1 && evs[0].kind == BT_EV_SGM_DOWN && strstr(evs[0].detail, "heartbeats late"));
    gw_cluster_free(g);
    bt_pktpool_free(pool);
}

TEST(control_errors)
{
    struct gw_config cfg;
    struct bt_err e = {""};
    gw_config_default(&cfg);
    struct gw_cluster *g = gw_cluster_new(&cfg, 1);
    REQUIRE(g);
    nev = 0;
    gw_set_event_cb(g, on_ev, NULL);
    CHECK_EQ_INT(gw_fail(g, 0, 5), -ENOENT);
    CHECK_EQ_INT(gw_fail(g, 0, 0), -EINVAL);
    CHECK_EQ_INT(gw_fail(g, 0, 65), -EINVAL);
    CHECK_EQ_INT(gw_restore(g, 0, 1), -EALREADY);
    CHECK_EQ_INT(gw_add(g, 0, 4, 100), -EEXIST);
    CHECK_EQ_INT(gw_add(g, 0, 6, 100), -EINVAL);     /* the next id is 5 */
    CHECK_EQ_INT(gw_add(g, 0, 5, 513), -EINVAL);
    CHECK_EQ_INT(gw_weight(g, 0, 1, 600), -EINVAL);
    CHECK_EQ_INT(gw_weight(g, 0, 9, 10), -ENOENT);
    CHECK_EQ_INT(nev, 0);                              /* refused calls report nothing */
    CHECK_EQ_INT(gw_add(g, 10, 5, 200), 0);
    CHECK_EQ_INT(gw_member_count(g), 5);
    CHECK_EQ_INT(gw_weight(g, 20, 5, 50), 0);
    CHECK_EQ_INT(gw_set_weight(g, 30, 5, 60), 0);
    struct gw_policy p;
    gw_policy_default(&p);
    p.default_action = GW_DROP;
    CHECK_EQ_INT(gw_policy_install(g, 40, &p, &e), 2);
    snprintf(p.rule[0].pattern, sizeof(p.rule[0].pattern), "(unclosed");
    p.rule[0].proto = -1;
    p.rule[0].sport_hi = p.rule[0].dport_hi = 65535;
    p.nrules = 1;
    CHECK_EQ_INT(gw_policy_install(g, 50, &p, &e), -EINVAL);
    CHECK(strstr(e.msg, "PCRE2") != NULL);
    CHECK_EQ_INT(gw_policy_version(g), 2);
    CHECK_EQ_INT(nev, 4);
    CHECK_EQ_INT(evs[0].kind, BT_EV_SGM_JOIN);
    CHECK_EQ_INT(evs[0].weight, 200);
    CHECK_EQ_INT(evs[1].kind, BT_EV_WEIGHT);
    CHECK_EQ_INT(evs[3].kind, BT_EV_POLICY);
    CHECK_EQ_INT(evs[3].version, 2);
    gw_cluster_free(g);
}

TEST(policy_reaches_restored_and_joining_members)
{
    struct gw_config cfg;
    struct bt_err e = {""};
    struct gw_policy p;
    struct gw_member_stats ms;
    gw_config_default(&cfg);
    struct gw_cluster *g = gw_cluster_new(&cfg, 1);
    REQUIRE(g);
    REQUIRE(gw_fail(g, 0, 3) == 0);
    gw_policy_default(&p);
    REQUIRE(gw_policy_install(g, MS, &p, &e) == 2);
    gw_member_stats(g, 3, &ms);
    CHECK_EQ_INT(ms.policy_version, 1);   /* down: it missed the install */
    REQUIRE(gw_restore(g, 2 * MS, 3) == 0);   /* before detection: detected now */
    gw_member_stats(g, 3, &ms);
    CHECK_EQ_INT(ms.policy_version, 2);
    CHECK(ms.alive);
    REQUIRE(gw_add(g, 3 * MS, 5, 100) == 0);
    gw_member_stats(g, 5, &ms);
    CHECK_EQ_INT(ms.policy_version, 2);
    CHECK_EQ_STR(gw_member_state_name(ms.state), "syncing");
    struct bt_pkt *none[1];
    gw_tx(g, 100 * MS, none, 1);
    gw_member_stats(g, 5, &ms);
    CHECK_EQ_STR(gw_member_state_name(ms.state), "up");
    gw_cluster_free(g);
}

/* The stale-policy fault: SMO skips the restored member (it keeps version 1,
 * from before the install it missed) and the joining one (none, 0); without
 * the fault both get version 2. Live members get it either way, and so do
 * the stale ones at the next install. */
TEST(fault_stale_policy_leaves_restored_and_joining_members_behind)
{
    for (int fault = 0; fault <= 1; fault++) {
        struct gw_config cfg;
        struct bt_err e = {""};
        struct gw_policy p;
        struct gw_member_stats ms;
        gw_config_default(&cfg);
        if (fault)
            cfg.faults |= GW_FAULT_STALE_POLICY;
        struct gw_cluster *g = gw_cluster_new(&cfg, 1);
        REQUIRE(g);
        REQUIRE(gw_fail(g, 0, 3) == 0);
        gw_policy_default(&p);
        REQUIRE(gw_policy_install(g, MS, &p, &e) == 2);
        REQUIRE(gw_restore(g, 2 * MS, 3) == 0);
        REQUIRE(gw_add(g, 3 * MS, 5, 100) == 0);
        gw_member_stats(g, 1, &ms);
        CHECK_EQ_INT(ms.policy_version, 2);
        gw_member_stats(g, 3, &ms);
        CHECK(ms.alive);
        CHECK_EQ_INT(ms.policy_version, fault ? 1 : 2);
        gw_member_stats(g, 5, &ms);
        CHECK(ms.alive);
        CHECK_EQ_INT(ms.policy_version, fault ? 0 : 2);
        REQUIRE(gw_policy_install(g, 4 * MS, &p, &e) == 3);
        gw_member_stats(g, 3, &ms);
        CHECK_EQ_INT(ms.policy_version, 3);
        gw_member_stats(g, 5, &ms);
        CHECK_EQ_INT(ms.policy_version, 3);
        gw_cluster_free(g);
    }
}

TEST(bad_config_rejected)
{
    struct gw_config cfg;
    gw_config_default(&cfg);
    cfg.nmembers = 0;
    CHECK(gw_cluster_new(&cfg, 1) == NULL);
    cfg.nmembers = 65;
    CHECK(gw_cluster_new(&cfg, 1) == NULL);
    gw_config_default(&cfg);
    cfg.weight[2] = 513;
    CHECK(gw_cluster_new(&cfg, 1) == NULL);
    gw_config_default(&cfg);
    cfg.nat = true;   /* a NAT without an IPv4 pool */
    CHECK(gw_cluster_new(&cfg, 1) == NULL);
    gw_config_default(&cfg);
    cfg.policy.nrules = 1;
    snprintf(cfg.policy.rule[0].pattern, GW_PATTERN_MAX, "a[");
    CHECK(gw_cluster_new(&cfg, 1) == NULL);
}

TEST(member_state_names_and_unknown_member)
{
    struct gw_config cfg;
    struct gw_member_stats ms;
    gw_config_default(&cfg);
    struct gw_cluster *g = gw_cluster_new(&cfg, 1);
    REQUIRE(g);
    CHECK_EQ_INT(gw_member_stats(g, 5, &ms), -EINVAL);
    CHECK_EQ_INT(gw_member_stats(g, 0, &ms), -EINVAL);
    CHECK_EQ_STR(gw_member_state_name(GW_SGM_JOINING), "joining");
    CHECK(gw_idle(g));
    gw_cluster_free(g);
    CHECK(gw_cluster_free(NULL) == NULL);
}
