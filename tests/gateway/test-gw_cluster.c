/* SPDX-License-Identifier: BSD-3-Clause */
/* The Core API against a toy wire: packets in on one port come out on the
 * other, the tap sees which member got them, and a member's death moves its
 * flows to their synced backups after the dead timer. */
#include "bt_test.h"
#include "bt_capset.h"
#include "bt_parse.h"
#include "bt_pkt.h"
#include "gw_api.h"
#include "../lib/pktbuild.h"

static int last_tap;
static unsigned taps;
static void tap(void *arg, int sgm, const struct bt_pkt *p)
{
    (void)arg; (void)p;
    last_tap = sgm;
    taps++;
}

static struct bt_pkt *seg(struct bt_pktpool *pool, uint32_t c, uint16_t cp, int reply, uint8_t fl)
{
    struct bt_pkt *p = bt_pkt_alloc(pool);
    unsigned o = pb_eth(p->data, 0, 0, 0, 0, 0x0800);
    o += pb_ip4(p->data + o, 5, 40, 0, 6, reply ? 0xc0000201 : c, reply ? c : 0xc0000201);
    o += pb_tcp(p->data + o, reply ? 80 : cp, reply ? cp : 80, 1, 1, fl, 20);
    p->len = p->wire_len = o;
    return p;
}

/* Sends one packet at t on port and returns the member the tap saw, or 0 if
 * nothing came out of the other port. */
static int send1(struct gw_cluster *g, struct bt_pktpool *pool, uint64_t t, uint32_t c,
                 uint16_t cp, int reply, uint8_t fl)
{
    struct bt_pkt *p = seg(pool, c, cp, reply, fl), *out[4];
    gw_rx(g, t, reply ? 1 : 0, &p, 1);
    unsigned n = gw_tx(g, t, out, 4);
    int got = 0;
    for (unsigned i = 0; i < n; i++) {
        if (out[i]->port == (reply ? 0 : 1))
            got = last_tap;
        bt_pkt_free(out[i]);
    }
    return got;
}

TEST(forwarding_symmetry_and_out_of_state)
{
    struct gw_config cfg;
    gw_config_default(&cfg);
    struct gw_cluster *g = gw_cluster_new(&cfg, 1);
    struct bt_pktpool *pool = bt_pktpool_new(64, 2048);
    REQUIRE(g && pool);
    gw_set_tap(g, tap, NULL);
    for (uint32_t i = 0; i < 50; i++) {
        int m = send1(g, pool, 1000 * i, 0x0a000001 + i, 1234, 0, BT_TCP_SYN);
        CHECK(m >= 1 && m <= 4);
        CHECK_EQ_INT(send1(g, pool, 1000 * i + 10, 0x0a000001 + i, 1234, 1, BT_TCP_SYN | BT_TCP_ACK), m);
    }
    /* an ACK of no known connection is dropped */
    CHECK_EQ_INT(send1(g, pool, 100000, 0x0b000001, 999, 0, BT_TCP_ACK), 0);
    struct gw_stats st;
    gw_get_stats(g, &st);
    CHECK_EQ_INT(st.conns, 50);
    CHECK_EQ_INT(st.drops_state, 1);
    /* per member: owners add up, and every owner's sync record arrived */
    struct bt_pkt *none[1];
    gw_tx(g, 10000000, none, 1);
    uint64_t owners = 0, backups = 0, pkts = 0;
    for (int id = 1; id <= 4; id++) {
        struct gw_member_stats ms;
        REQUIRE(gw_member_stats(g, id, &ms) == 0);
        CHECK(ms.alive);
        owners += ms.owner_conns;
        backups += ms.backup_conns;
        pkts += ms.pkts;
    }
    CHECK_EQ_INT(owners, 50);
    CHECK_EQ_INT(backups, 50);
    CHECK_EQ_INT(pkts, 101);
    struct gw_member_stats ms;
    CHECK(gw_member_stats(g, 5, &ms) < 0);
    CHECK_EQ_INT(bt_pktpool_avail(pool), 64);
    gw_cluster_free(g);
    bt_pktpool_free(pool);
}

TEST(failover_to_synced_backup_after_dead_timer)
{
    struct gw_config cfg;
    gw_config_default(&cfg);
    cfg.dead_ns = 1000000;
    struct gw_cluster *g = gw_cluster_new(&cfg, 1);
    struct bt_pktpool *pool = bt_pktpool_new(64, 2048);
    gw_set_tap(g, tap, NULL);
    int owner[40];
    for (uint32_t i = 0; i < 40; i++)
        owner[i] = send1(g, pool, 1000 * i, 0x0a000001 + i, 2000, 0, BT_TCP_SYN);
    /* sync records are due 20 us later */
    CHECK(gw_next_ns(g) < 100000);
    uint64_t t = 10000000;
    CHECK_EQ_INT(gw_fail(g, t, 2), 0);
    CHECK(gw_fail(g, t, 2) < 0);
    CHECK_EQ_INT(gw_next_ns(g), t + 1000000);
    unsigned on2 = 0;
    for (uint32_t i = 0; i < 40; i++) {
        int m = send1(g, pool, t + 10, 0x0a000001 + i, 2000, 0, BT_TCP_ACK);
        if (owner[i] == 2) {
            on2++;
            CHECK_EQ_INT(m, 0); /* dead, not yet detected: lost */
        } else {
            CHECK_EQ_INT(m, owner[i]);
        }
    }
    CHECK(on2 > 0);
    t += 2000000; /* detected */
    for (uint32_t i = 0; i < 40; i++) {
        int m = send1(g, pool, t, 0x0a000001 + i, 2000, 0, BT_TCP_ACK);
        CHECK(m != 0 && m != 2);
        if (owner[i] != 2)
            CHECK_EQ_INT(m, owner[i]);
    }
    struct gw_stats st;
    gw_get_stats(g, &st);
    CHECK_EQ_INT(st.promoted, on2);
    /* back with empty state: its buckets return, the flows are corrected to
     * the members that took them over */
    CHECK(gw_restore(g, t, 1) < 0);  /* not failed */
    REQUIRE(gw_restore(g, t + 1000, 2) == 0);
    CHECK(gw_restore(g, t + 2000, 2) < 0);
    for (uint32_t i = 0; i < 40; i++)
        CHECK(send1(g, pool, t + 3000, 0x0a000001 + i, 2000, 0, BT_TCP_ACK) != 0);
    gw_get_stats(g, &st);
    CHECK(st.corrections >= on2);
    gw_cluster_free(g);
    bt_pktpool_free(pool);
}

TEST(without_sync_the_backup_drops_the_flow)
{
    struct gw_config cfg;
    gw_config_default(&cfg);
    cfg.faults = GW_FAULT_NO_SYNC;
    struct gw_cluster *g = gw_cluster_new(&cfg, 1);
    struct bt_pktpool *pool = bt_pktpool_new(64, 2048);
    gw_set_tap(g, tap, NULL);
    int owner = send1(g, pool, 0, 0x0a0000aa, 3000, 0, BT_TCP_SYN);
    gw_fail(g, 1000000, owner);
    CHECK_EQ_INT(send1(g, pool, 1000000000, 0x0a0000aa, 3000, 0, BT_TCP_ACK), 0);
    struct gw_stats st;
    gw_get_stats(g, &st);
    CHECK_EQ_INT(st.backups, 0);
    CHECK_EQ_INT(st.drops_state, 1);
    gw_cluster_free(g);
    bt_pktpool_free(pool);
}

TEST(bad_config_rejected)
{
    struct gw_config cfg;
    gw_config_default(&cfg);
    cfg.nmembers = 0;
    CHECK(gw_cluster_new(&cfg, 1) == NULL);
    cfg.nmembers = 65;
    CHECK(gw_cluster_new(&cfg, 1) == NULL);
    cfg.nmembers = 2;
    cfg.weight[2] = 513;
    CHECK(gw_cluster_new(&cfg, 1) == NULL);
    CHECK(gw_cluster_free(NULL) == NULL);
}

static unsigned ncorr;
static void on_corr(void *arg, const struct bt_correction *c)
{
    (void)arg;
    (void)c;
    ncorr++;
}

TEST(join_moves_buckets_and_corrects_established_flows)
{
    struct gw_config cfg;
    gw_config_default(&cfg);
    cfg.nmembers = 3;
    struct gw_cluster *g = gw_cluster_new(&cfg, 1);
    struct bt_pktpool *pool = bt_pktpool_new(64, 2048);
    gw_set_tap(g, tap, NULL);
    gw_set_correction_cb(g, on_corr, NULL);
    for (uint32_t i = 0; i < 200; i++)
        send1(g, pool, 1000 * i, 0x0a000001 + i, 4000, 0, BT_TCP_SYN);
    CHECK(gw_add(g, 1000000, 5, 100) < 0);   /* not the next id */
    CHECK(gw_add(g, 1000000, 3, 100) < 0);   /* exists */
    REQUIRE(gw_add(g, 1000000, 4, 100) == 0);
    CHECK_EQ_INT(gw_member_count(g), 4);
    unsigned on4 = 0, through = 0;
    ncorr = 0;
    for (uint32_t i = 0; i < 200; i++) {
        int m = send1(g, pool, 2000000, 0x0a000001 + i, 4000, 0, BT_TCP_ACK);
        on4 += m == 4;
        through += m != 0;
    }
    CHECK(on4 > 20);            /* about a quarter moved to the new member */
    CHECK_EQ_INT(through, 200); /* and every one was corrected, none dropped */
    CHECK_EQ_INT(ncorr, on4);
    struct gw_stats st;
    gw_get_stats(g, &st);
    CHECK_EQ_INT(st.corrections, on4);
    CHECK(gw_set_weight(g, 3000000, 4, 513) < 0);
    CHECK(gw_set_weight(g, 3000000, 9, 10) < 0);
    CHECK_EQ_INT(gw_set_weight(g, 3000000, 1, 0), 0);
    for (uint32_t i = 0; i < 200; i++)
        CHECK(send1(g, pool, 4000000, 0x0a000001 + i, 4000, 0, BT_TCP_ACK) != 1);
    gw_cluster_free(g);
    bt_pktpool_free(pool);
}
