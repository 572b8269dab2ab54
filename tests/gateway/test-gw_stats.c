/* SPDX-License-Identifier: BSD-3-Clause */
/* The stats stream lines (contract 2): rates over the interval, every key
 * present, events carried once, cpu from the cost model. */
#include <jansson.h>

#include "bt_test.h"
#include "bt_parse.h"
#include "bt_pkt.h"
#include "gw_api.h"
#include "../lib/pktbuild.h"

#define MS 1000000ULL

static struct bt_pkt *syn(struct bt_pktpool *pool, uint32_t i)
{
    struct bt_pkt *p = bt_pkt_alloc(pool);
    unsigned o = pb_eth(p->data, 0, 0, 0, 0, 0x0800);
    o += pb_ip4(p->data + o, 5, 40, 0, 6, 0x0a000000 + i, 0xc0000201);
    o += pb_tcp(p->data + o, (uint16_t)(1024 + i), 80, 1, 0, BT_TCP_SYN, 20);
    p->len = p->wire_len = o;
    return p;
}

TEST(rates_keys_and_events)
{
    struct gw_config c;
    struct gw_stats_line *l = malloc(sizeof(*l));
    struct bt_pktpool *pool = bt_pktpool_new(4096, 256);
    struct bt_pkt *out[64];
    unsigned n;
    gw_config_default(&c);
    c.cost.cores = 1;
    c.cost.ns_per_pkt = 100000;   /* 10 kpps per member */
    struct gw_cluster *g = gw_cluster_new(&c, 1);
    REQUIRE(g && l && pool);
    /* 1000 connections in the first second (0.5 s apart at 2 kpps) */
    for (uint32_t i = 0; i < 1000; i++) {
        struct bt_pkt *p = syn(pool, i);
        gw_rx(g, i * 500000ULL, 0, &p, 1);
        while ((n = gw_tx(g, i * 500000ULL, out, 64)) > 0)
            for (unsigned k = 0; k < n; k++)
                bt_pkt_free(out[k]);
    }
    gw_stats_sample(g, 500 * MS, l);   /* the start is the first call: 0 */
    CHECK_EQ_INT(l->seq, 0);
    CHECK_EQ_INT(l->nsgms, 4);
    CHECK_EQ_INT(l->cluster.members_up, 4);
    CHECK_EQ_INT(l->cluster.members_total, 4);
    CHECK_EQ_INT(l->cluster.policy_version, 1);
    CHECK(l->cluster.pps > 1900 && l->cluster.pps < 2100);       /* 1000 SYNs in 0.5 s */
    CHECK(l->cluster.cps > 1900 && l->cluster.cps < 2100);
    CHECK(l->cluster.sync_bps > 0);
    CHECK_EQ_INT(l->cluster.conns, 1000);
    double cpu = 0;
    for (unsigned i = 0; i < 4; i++)
        cpu += l->sgm[i].cpu;
    /* 500 pps x 100 us each per member: about 5 % plus syncs and heartbeats */
    CHECK(cpu / 4 > 4 && cpu / 4 < 20);
    REQUIRE(gw_fail(g, 600 * MS, 3) == 0);
    gw_stats_sample(g, 1000 * MS, l);
    CHECK_EQ_INT(l->seq, 1);
    CHECK_EQ_INT(l->cluster.pps, 0);
    CHECK_EQ_INT(l->cluster.members_up, 3);
    CHECK_EQ_INT(l->sgm[2].state, GW_SGM_DOWN);
    REQUIRE(l->nevents == 1);
    CHECK_EQ_INT(l->events[0].kind, BT_EV_SGM_DOWN);
    char *txt = gw_stats_line_json(l);
    REQUIRE(txt);
    json_t *j = json_loads(txt, 0, NULL);
    REQUIRE(j);
    static const char *const ckeys[] = {"pps", "bps", "conns", "cps", "sync_bps", "members_up",
                                        "members_total", "policy_version"};
    static const char *const skeys[] = {"id", "state", "weight", "pps", "bps", "conns", "backup_conns",
                                        "cps", "sync_tx_pps", "sync_tx_bps", "sync_rx_pps",
                                        "sync_rx_bps", "corrections_pps", "drops", "cpu"};
    CHECK_EQ_INT(json_integer_value(json_object_get(j, "schema")), 1);
    CHECK(json_real_value(json_object_get(j, "t")) == 1.0);
    CHECK_EQ_INT(json_integer_value(json_object_get(j, "seq")), 1);
    for (unsigned i = 0; i < sizeof(ckeys) / sizeof(ckeys[0]); i++)
        CHECK(json_object_get(json_object_get(j, "cluster"), ckeys[i]) != NULL);
    json_t *s3 = json_array_get(json_object_get(j, "sgms"), 2);
    for (unsigned i = 0; i < sizeof(skeys) / sizeof(skeys[0]); i++)
        CHECK(json_object_get(s3, skeys[i]) != NULL);
    CHECK_EQ_STR(json_string_value(json_object_get(s3, "state")), "down");
    json_t *ev = json_array_get(json_object_get(j, "events"), 0);
    CHECK_EQ_STR(json_string_value(json_object_get(ev, "event")), "sgm_down");
    CHECK(json_real_value(json_object_get(ev, "t")) == 0.6);
    json_decref(j);
    free(txt);
    /* events are reported once */
    gw_stats_sample(g, 2000 * MS, l);
    CHECK_EQ_INT(l->nevents, 0);
    gw_cluster_free(g);
    bt_pktpool_free(pool);
    free(l);
}

TEST(overload_shows_as_full_cpu_queue_and_drops)
{
    struct gw_config c;
    struct gw_stats_line *l = malloc(sizeof(*l));
    struct bt_pktpool *pool = bt_pktpool_new(65536, 128);
    struct bt_pkt *out[64];
    unsigned n;
    gw_config_default(&c);
    c.nmembers = 1;
    c.cost.cores = 1;
    c.cost.ns_per_pkt = 10000;    /* 100 kpps */
    c.cost.ns_per_setup = 0;
    c.cost.queue_pkts = 1000;
    struct gw_cluster *g = gw_cluster_new(&c, 1);
    REQUIRE(g && l && pool);
    uint64_t t = 0, worst = 0;
    /* 200 kpps for 0.5 s */
    for (uint32_t i = 0; i < 100000; i++, t += 5000) {
        struct bt_pkt *p = syn(pool, i % 60000);
        gw_rx(g, t, 0, &p, 1);
        while ((n = gw_tx(g, t, out, 64)) > 0)
            for (unsigned k = 0; k < n; k++) {
                if (t - out[k]->ts_ns > worst)
                    worst = t - out[k]->ts_ns;
                bt_pkt_free(out[k]);
            }
    }
    gw_stats_sample(g, t, l);
    CHECK(l->sgm[0].cpu > 99.0);
    CHECK(l->sgm[0].drops > 40000);   /* about half dropped at the queue */
    struct gw_member_stats ms;
    gw_member_stats(g, 1, &ms);
    CHECK(ms.queue_ns > 9 * MS);      /* the queue is full: 1000 packets x 10 us */
    CHECK(ms.drops_queue > 40000);
    gw_cluster_free(g);
    bt_pktpool_free(pool);
    free(l);
    (void)worst;
}
