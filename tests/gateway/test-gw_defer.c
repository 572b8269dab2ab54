/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * HyperSync's defer and the order of sync records (gateway/gw_member.c),
 * looking inside the members (gw_priv.h): a reused 5-tuple keeps its
 * backup entry, the defer slot index wraps through 2^32, nothing of a
 * connection overtakes its held first packet. Each case is one defect a
 * review found (issue 3, 2026-12-02).
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "bt_test.h"
#include "bt_csum.h"
#include "bt_flow.h"
#include "bt_flow_table.h"
#include "bt_parse.h"
#include "bt_pkt.h"
#include "gw_api.h"
#include "gw_priv.h"
#include "gw_testpkt.h"

#define MS 1000000ULL

static struct bt_pktpool *pool;

/* A packet client 10.0.0.C:cp <-> 192.0.2.1:80 (UDP: 53); reply: from the server. */
static struct bt_pkt *pkt(uint8_t proto, uint32_t c, uint16_t cp, int reply, uint8_t fl, const char *pl)
{
    return gwt_pkt(pool, proto, c, cp, reply, fl, pl);
}

static struct bt_flow_key ckey(uint8_t proto, uint32_t c, uint16_t cp)
{
    struct bt_flow_key k, ck;
    uint32_t s = GWT_CLIENT(c);
    memset(&k, 0, sizeof(k));
    k.src[10] = k.src[11] = k.dst[10] = k.dst[11] = 0xff;
    for (int i = 0; i < 4; i++) {
        k.src[12 + i] = (uint8_t)(s >> (24 - 8 * i));
        k.dst[12 + i] = (uint8_t)(GWT_SERVER >> (24 - 8 * i));
    }
    k.sport = cp;
    k.dport = proto == 6 ? 80 : 53;
    k.proto = proto;
    k.family = 4;
    bt_flow_key_canon(&k, &ck);
    return ck;
}

static void rx(struct gw_cluster *g, struct bt_pkt *p, int port, uint64_t t)
{
    gw_rx(g, t, (uint16_t)port, &p, 1);
}

/* What leaves by t: counted (per port) and freed; the first payload byte
 * of each, in order, into order[] when given. */
static unsigned tx(struct gw_cluster *g, uint64_t t, unsigned *to_server, char *order, unsigned max)
{
    struct bt_pkt *o[64];
    unsigned n, got = 0, k = 0;
    while ((n = gw_tx(g, t, o, 64)) > 0)
        for (unsigned i = 0; i < n; i++) {
            struct bt_parsed pp;
            if (to_server && o[i]->port == 1)
                (*to_server)++;
            if (order && k + 1 < max && bt_parse(o[i]->data, o[i]->len, BT_LINK_ETHERNET, &pp) == BT_PARSE_OK &&
                pp.payload_len)
                order[k++] = (char)o[i]->data[pp.payload_off];
            got++;
            bt_pkt_free(o[i]);
        }
    if (order)
        order[k] = 0;
    return got;
}

static struct gw_cluster *cluster3(void)
{
    struct gw_config c;
    gw_config_default(&c);
    c.nmembers = 3;
    return gw_cluster_new(&c, 1);
}

/* Does member id hold a backup entry of k from owner? */
static bool backup_at(struct gw_cluster *g, int id, int owner, const struct bt_flow_key *k)
{
    struct gw_member *m = &g->m[id];
    struct gw_conn *c = m->alive && m->conns ? bt_flowtab_lookup(m->conns, k) : NULL;
    return c && c->role == ROLE_BACKUP && c->peer == owner;
}

/* A cluster of 3 where client 1 port 2000 sent its SYN at 1 us; *k: its key. */
static struct gw_cluster *syn_sent(struct bt_flow_key *k)
{
    struct gw_cluster *g = cluster3();
    *k = ckey(6, 1, 2000);
    if (g)
        rx(g, pkt(6, 1, 2000, 0, BT_TCP_SYN, ""), 0, 1000);
    return g;
}

/* t1 11: a connection closed long ago (RST) and its 5-tuple opened again:
 * the old one's DELETE is batched, the new one's CREATE sent at once, the
 * DELETE lands second and must not take the new entry away. */
TEST(reused_port_keeps_the_new_connections_backup_entry)
{
    struct bt_flow_key k;
    struct gw_cluster *g = syn_sent(&k);
    int o, b;
    REQUIRE(g);
    tx(g, 90000, NULL, NULL, 0);
    rx(g, pkt(6, 1, 2000, 0, BT_TCP_FIN | BT_TCP_ACK, ""), 0, 100000);
    rx(g, pkt(6, 1, 2000, 0, BT_TCP_RST, ""), 0, 200000);
    tx(g, 1000 * MS, NULL, NULL, 0);
    rx(g, pkt(6, 1, 2000, 0, BT_TCP_SYN, ""), 0, 1000 * MS);
    REQUIRE(gw_flow_where(g, &k, &o, &b, NULL) == 0);
    REQUIRE(o > 0 && b > 0);
    for (uint64_t t = 1000 * MS + 10000; t <= 1003 * MS; t += 10000) {
        unsigned n = tx(g, t, NULL, NULL, 0);
        CHECK(n == 0 || backup_at(g, b, o, &k));   /* released: the backup has it */
    }
    CHECK(backup_at(g, b, o, &k));   /* and keeps it after the DELETE's batch */
    gw_cluster_free(g);
}

/* t1 9: RST, the 5-tuple reused before the DELETE's batch leaves, the
 * handshake, the owner dies before the next flush: the backup must take
 * the connection over and pass the client's data. */
TEST(reused_port_survives_the_owners_death)
{
    struct bt_flow_key k;
    struct gw_cluster *g = syn_sent(&k);
    struct gw_stats st;
    unsigned srv = 0;
    int o, b;
    REQUIRE(g);
    tx(g, 90000, NULL, NULL, 0);
    rx(g, pkt(6, 1, 2000, 0, BT_TCP_RST, ""), 0, 100000);
    tx(g, 1099000, NULL, NULL, 0);
    rx(g, pkt(6, 1, 2000, 0, BT_TCP_SYN, ""), 0, 1099500);
    tx(g, 1200000, NULL, NULL, 0);
    rx(g, pkt(6, 1, 2000, 1, BT_TCP_SYN | BT_TCP_ACK, ""), 1, 1250000);
    rx(g, pkt(6, 1, 2000, 0, BT_TCP_ACK, ""), 0, 1260000);
    tx(g, 1300000, NULL, NULL, 0);
    REQUIRE(gw_flow_where(g, &k, &o, &b, NULL) == 0);
    REQUIRE(o > 0 && b > 0);
    CHECK_EQ_INT(gw_fail(g, 1800000, o), 0);
    tx(g, 300 * MS, NULL, NULL, 0);
    gw_get_stats(g, &st);
    uint64_t before = st.drops_state;
    rx(g, pkt(6, 1, 2000, 0, BT_TCP_ACK | BT_TCP_PSH, "data"), 0, 300 * MS);
    tx(g, 301 * MS, &srv, NULL, 0);
    CHECK_EQ_INT(srv, 1);
    gw_get_stats(g, &st);
    CHECK_EQ_INT(st.drops_state, before);
    gw_cluster_free(g);
}

/* After a failover the promoted owner's new backup gets the entry when the
 * death is detected, not a sync batch later: a second failure in that
 * window would lose a connection the cluster had (the review's t2). The
 * window is measured in 20 us steps: detection (the old backup owns the
 * connection) to the new backup holding its entry. */
TEST(a_promoted_connection_is_backed_up_at_once)
{
    struct bt_flow_key k;
    struct gw_cluster *g = syn_sent(&k);
    int o, b, no = 0, nb = 0;
    uint64_t t, t_detect = 0, t_backed = 0;
    REQUIRE(g);
    tx(g, 200000, NULL, NULL, 0);
    rx(g, pkt(6, 1, 2000, 1, BT_TCP_SYN | BT_TCP_ACK, ""), 1, 250000);
    rx(g, pkt(6, 1, 2000, 0, BT_TCP_ACK, ""), 0, 260000);
    tx(g, 5 * MS, NULL, NULL, 0);
    REQUIRE(gw_flow_where(g, &k, &o, &b, NULL) == 0);
    REQUIRE(o > 0 && b > 0 && backup_at(g, b, o, &k));
    CHECK_EQ_INT(gw_fail(g, 5 * MS, o), 0);
    for (t = 5 * MS; t < 500 * MS && !t_backed; t += 20000) {
        tx(g, t, NULL, NULL, 0);
        if (!t_detect && gw_flow_where(g, &k, &no, &nb, NULL) == 0 && no == b)
            t_detect = t;
        if (t_detect && nb > 0 && nb != o && backup_at(g, nb, b, &k))
            t_backed = t;
    }
    REQUIRE(t_detect > 0);
    REQUIRE(t_backed > 0);
    /* the sync network's delay and the backup's queue: well under the
     * 1 ms batch the records waited for before */
    if (t_backed - t_detect > 200000)
        BT_FAIL_AT("the new backup held the entry %llu us after the detection",
                   (unsigned long long)((t_backed - t_detect) / 1000));
    gw_cluster_free(g);
}

/* t1 8: the defer slot index started 40 below 2^32: slot 0xFFFFFFFF reads as
 * "none"; every SYN leaves once, by its ACK, and the pool gets every
 * buffer back exactly once. */
TEST(defer_slot_index_wraps_through_2_32)
{
    struct gw_cluster *g = cluster3();
    struct gw_stats st;
    unsigned out = 0, avail = bt_pktpool_avail(pool);
    REQUIRE(g);
    for (unsigned id = 1; id <= 3; id++)
        g->m[id].defer.base = UINT32_MAX - 40;
    for (uint32_t r = 0; r < 6; r++) {
        struct bt_pkt *b[40];
        uint64_t t = 1000 + (uint64_t)r * 100000;
        for (uint32_t i = 0; i < 40; i++)
            b[i] = pkt(6, 1 + r * 40 + i, 2000, 0, BT_TCP_SYN, "");
        gw_rx(g, t, 0, b, 40);
        out += tx(g, t + 90000, NULL, NULL, 0);
    }
    CHECK_EQ_INT(out, 240);
    CHECK(g->m[1].defer.base - (UINT32_MAX - 40) > 40);   /* it did wrap */
    out += tx(g, 100 * MS, NULL, NULL, 0);
    CHECK_EQ_INT(out, 240);
    gw_get_stats(g, &st);
    CHECK_EQ_INT(st.drops_full, 0);
    CHECK_EQ_INT(st.defer_timeouts, 0);
    gw_cluster_free(g);
    CHECK_EQ_INT(bt_pktpool_avail(pool), avail);
}

/* t1 1: a client RST while its SYN is held: the held SYN goes with it and
 * the connection closes, nothing reaches the server; the backup's entry
 * goes too. */
TEST(client_rst_while_the_syn_is_held_closes_it)
{
    struct bt_flow_key k;
    struct gw_cluster *g = syn_sent(&k);
    struct gw_stats st;
    unsigned srv = 0;
    int o, b;
    REQUIRE(g);
    REQUIRE(gw_flow_where(g, &k, &o, &b, NULL) == 0);
    CHECK_EQ_INT(tx(g, 11000, NULL, NULL, 0), 0);   /* held: the ACK is 2 x 20 us away */
    rx(g, pkt(6, 1, 2000, 0, BT_TCP_RST, ""), 0, 11000);
    tx(g, 5 * MS, &srv, NULL, 0);
    CHECK_EQ_INT(srv, 0);
    CHECK_EQ_INT(gw_flow_where(g, &k, &o, &b, NULL), -ENOENT);
    for (unsigned id = 1; id <= 3; id++) {
        struct gw_conn *c = bt_flowtab_lookup(g->m[id].conns, &k);
        CHECK(!c);
    }
    gw_get_stats(g, &st);
    CHECK_EQ_INT(st.drops_state, 2);   /* the held SYN and the RST */
    CHECK_EQ_INT(st.defer_timeouts, 0);
    gw_cluster_free(g);
}

/* t1 2: a UDP flow's second packet while its first is held: dropped (out
 * of state), never ahead of the first. */
TEST(second_udp_packet_does_not_overtake_the_held_first)
{
    struct gw_cluster *g = cluster3();
    struct gw_stats st;
    char order[8];
    REQUIRE(g);
    rx(g, pkt(17, 1, 2000, 0, 0, "1"), 0, 1000);
    rx(g, pkt(17, 1, 2000, 0, 0, "2"), 0, 5000);
    tx(g, 10000, NULL, order, sizeof(order));
    CHECK_EQ_STR(order, "");
    tx(g, MS, NULL, order, sizeof(order));
    CHECK_EQ_STR(order, "1");
    rx(g, pkt(17, 1, 2000, 0, 0, "3"), 0, 2 * MS);   /* released: the flow goes on */
    tx(g, 3 * MS, NULL, order, sizeof(order));
    CHECK_EQ_STR(order, "3");
    gw_get_stats(g, &st);
    CHECK_EQ_INT(st.drops_state, 1);
    gw_cluster_free(g);
}

/* The ACK finds its message by a binary search over the unacknowledged
 * ones (their sequence numbers grow, through 2^32 too): 100 messages of one
 * held packet each, numbered across the wrap, acknowledged in a scattered
 * order, each releases its own packet once; a duplicate, a foreign (another
 * backup's) and an unknown ACK release nothing. */
TEST(acks_in_any_order_find_their_message_across_the_seq_wrap)
{
    struct gw_cluster *g = cluster3();
    struct gw_member *m;
    uint32_t seq;
    unsigned out = 0;
    REQUIRE(g);
    m = &g->m[1];
    for (uint32_t i = 0; i < 100; i++) {
        struct bt_pkt *p = pkt(6, 1 + i, 2000, 0, BT_TCP_SYN, "");
        uint32_t a;
        p->ts_ns = 1000;
        p->port = 1;
        a = gw_defer_push(m, p, 20 * MS, i + 1);
        REQUIRE(a != GW_DSLOT_NONE);
        gw_defer_sent(m, UINT32_MAX - 49 + i, 2, a, a, 20 * MS);
    }
    for (uint32_t k = 0; k < 100; k++) {
        uint32_t i = (k * 37 + 11) % 100;   /* a permutation of 0..99 */
        unsigned n;
        seq = UINT32_MAX - 49 + i;
        gw_defer_ack(g, m, 2000 + k, 3, seq, 1);          /* foreign: not this message's backup */
        CHECK_EQ_INT(tx(g, 2000 + k, NULL, NULL, 0), 0);
        gw_defer_ack(g, m, 2000 + k, 2, seq, 1);
        n = tx(g, 2000 + k, NULL, NULL, 0);
        if (n != 1)
            fprintf(stderr, "ack of message %u released %u\n", i, n), bt_test_failed = 1;
        out += n;
        gw_defer_ack(g, m, 2000 + k, 2, seq, 1);          /* a duplicate */
        CHECK_EQ_INT(tx(g, 2000 + k, NULL, NULL, 0), 0);
    }
    seq = UINT32_MAX - 60;                       /* before the first */
    gw_defer_ack(g, m, 3000, 2, seq, 1);
    seq = 60;                                    /* after the last */
    gw_defer_ack(g, m, 3000, 2, seq, 1);
    CHECK_EQ_INT(out, 100);
    CHECK_EQ_INT(tx(g, 30 * MS, NULL, NULL, 0), 0);   /* nothing left for the timeout */
    gw_cluster_free(g);
}

/* The out queue (gw_out, gw_tx): packets leave in the order of their due
 * time, ties in the order they were queued, whatever their members and
 * however each member's own packets come (mostly in order: its FIFO; some
 * earlier than its last: the heap); a member's death takes exactly its
 * packets not yet due, wherever they wait. */
static int cmp_out(const void *a, const void *b)
{
    const uint64_t *x = a, *y = b;   /* (due, push index) */
    return x[0] != y[0] ? (x[0] < y[0] ? -1 : 1) : (x[1] < y[1] ? -1 : x[1] > y[1]);
}

TEST(out_queue_leaves_in_due_then_push_order_and_a_death_takes_its_own)
{
    enum { N = 3000 };
    static uint64_t want[N][2];
    static struct bt_pkt *pk[N];
    struct gw_config cfg;
    struct bt_pkt *o[64];
    uint64_t x = 99, last[5] = {0};
    unsigned n = 0, bad = 0, got = 0, kept = 0;

    gw_config_default(&cfg);
    cfg.nmembers = 4;
    struct gw_cluster *g = gw_cluster_new(&cfg, 1);
    REQUIRE(g);
    CHECK_EQ_INT(gw_tx(g, 1000, o, 64), 0);   /* the clock starts at 1000 */
    for (unsigned i = 0; i < N; i++) {
        x = x * 6364136223846793005ULL + 1442695040888963407ULL;
        int mem = 1 + (int)((x >> 33) % 4);
        uint64_t due = last[mem] + (x >> 40) % 50;    /* in its member's order, ties too */
        if ((x >> 20) % 8 == 0)
            due = 2000 + (x >> 24) % 100000;           /* anywhere */
        if (due > last[mem])
            last[mem] = due;
        REQUIRE((pk[i] = bt_pkt_alloc(pool)));
        gw_out(g, pk[i], due, mem, 0);
        want[i][0] = due;
        want[i][1] = i;
    }
    qsort(want, N, sizeof(want[0]), cmp_out);
    for (;;) {
        unsigned k = gw_tx(g, MS, o, 64);
        if (!k)
            break;
        for (unsigned j = 0; j < k; j++, n++) {
            bad += n >= N || o[j] != pk[want[n][1]];
            bt_pkt_free(o[j]);
        }
    }
    CHECK_EQ_INT(n, N);
    CHECK_EQ_INT(bad, 0);
    gw_cluster_free(g);

    /* member 2 dies at 50,000: its packets due later go, the rest leave */
    g = gw_cluster_new(&cfg, 1);
    REQUIRE(g);
    gw_tx(g, 1000, o, 64);
    memset(last, 0, sizeof(last));
    for (unsigned i = 0; i < N; i++) {
        x = x * 6364136223846793005ULL + 1442695040888963407ULL;
        int mem = 1 + (int)((x >> 33) % 4);
        uint64_t due = 40000 + last[mem] + (x >> 40) % 20;
        if ((x >> 20) % 8 == 0)
            due = 40000 + (x >> 24) % 30000;
        if (due - 40000 > last[mem])
            last[mem] = due - 40000;
        REQUIRE((pk[i] = bt_pkt_alloc(pool)));
        gw_out(g, pk[i], due, mem, 0);
        kept += mem != 2 || due <= 50000;
    }
    REQUIRE(gw_fail(g, 50000, 2) == 0);
    uint64_t prev = 0;
    for (unsigned k; (k = gw_tx(g, MS, o, 64));)
        for (unsigned j = 0; j < k; j++, got++) {
            bad += o[j]->ts_ns < prev;
            prev = o[j]->ts_ns;
            bt_pkt_free(o[j]);
        }
    CHECK_EQ_INT(got, kept);
    CHECK_EQ_INT(bad, 0);
    gw_cluster_free(g);
}

/* The earliest-member cache (a tournament tree over the members'
 * next_ns, gw_cluster.c) against a scan in id order: the earliest deadline
 * and the lowest id having it (the members' heartbeat answers tie all the
 * time), through traffic, failures, and joins past the tree's leaves (5
 * members: 8 leaves, then 9, 10). */
static unsigned mmin_wrong(const struct gw_cluster *g, unsigned *checked)
{
    uint64_t ns = UINT64_MAX;
    int id = 0;

    if (!g->mmin_ok)
        return 0;   /* rescanned before its next use */
    ++*checked;
    for (unsigned i = 1; i <= g->nmembers; i++)
        if (g->m[i].next_ns < ns) {
            ns = g->m[i].next_ns;
            id = (int)i;
        }
    return ns != g->mmin_ns || id != g->mmin_id;
}

TEST(earliest_member_cache_matches_a_scan)
{
    static const unsigned sizes[] = {1, 5, 52};
    struct bt_pkt *o[64];

    for (unsigned z = 0; z < 3; z++) {
        struct gw_config cfg;
        unsigned wrong = 0, checks = 0;
        uint64_t x = 7 + z;

        gw_config_default(&cfg);
        cfg.nmembers = sizes[z];
        struct gw_cluster *g = gw_cluster_new(&cfg, 1);
        REQUIRE(g);
        for (unsigned i = 0; i < 3000; i++) {
            uint64_t t = 1000 + (uint64_t)i * 20000;   /* 20 us apart: 60 ms in all */
            x = x * 6364136223846793005ULL + 1442695040888963407ULL;
            rx(g, pkt(6, (uint32_t)(x >> 40) % 5000, (uint16_t)(1024 + i), 0, BT_TCP_SYN, ""), 0, t);
            wrong += mmin_wrong(g, &checks);
            while (gw_tx(g, t, o, 64) > 0)
                ;   /* (nothing is due at t: packets leave a step later) */
            for (unsigned k; (k = gw_tx(g, t + 10000, o, 64));)
                for (unsigned j = 0; j < k; j++)
                    bt_pkt_free(o[j]);
            wrong += mmin_wrong(g, &checks);
            if (sizes[z] > 1 && i == 1000)
                REQUIRE(gw_fail(g, t + 10000, 2) == 0);
            if (i == 1500 || i == 2000)
                REQUIRE(gw_add(g, t + 10000, (int)g->nmembers + 1, 100) == 0);
            wrong += mmin_wrong(g, &checks);
        }
        CHECK_EQ_INT(wrong, 0);
        CHECK(checks > 8000);   /* the cache was valid, so compared, nearly always */
        gw_cluster_free(g);
    }
}

__attribute__((constructor)) static void pool_init(void)
{
    pool = bt_pktpool_new(4096, 2048);
}
