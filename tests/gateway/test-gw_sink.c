/* SPDX-License-Identifier: BSD-3-Clause */
/* The drivers' capture-set sink (gateway/gw_sink.c): a cluster's taps and
 * events land in the capture set; capset.json describes the cluster. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#include "bt_test.h"
#include "bt_capset.h"
#include "bt_cidr.h"
#include "bt_hash.h"
#include "bt_err.h"
#include "bt_pkt.h"
#include "gw_api.h"
#include "gw_sink.h"
#include "../lib/pktbuild.h"

static char dir[64];

TEST(meta_describes_the_cluster_and_its_joins)
{
    struct gw_sim_opts o;
    struct bt_capset_meta m;

    gw_sim_opts_default(&o);
    o.cluster.nmembers = 3;
    o.cluster.weight[1] = 70;
    o.cluster.weight[2] = 15;
    o.cluster.weight[3] = 15;
    o.cluster.mode = BT_DIST_USER;
    o.cluster.l4 = false;
    o.nfails = 2;
    o.fail_kind[0] = BT_EV_SGM_DOWN;
    o.fail_sgm[0] = 1;
    o.fail_kind[1] = BT_EV_SGM_JOIN;
    o.fail_sgm[1] = 4;
    o.fail_weight[1] = 50;
    gw_sink_meta(&o.cluster, 4, &o, "baton-gateway test", &m);
    CHECK_EQ_INT(m.nmembers, 4);
    CHECK_EQ_INT(m.ids[3], 4);
    CHECK_EQ_INT(m.weights[0], 70);
    CHECK_EQ_INT(m.weights[3], 50);   /* the joined member's weight */
    CHECK_EQ_STR(m.mode, "user");
    CHECK(!m.l4);
    CHECK_EQ_INT(m.npools, 0);
    CHECK_EQ_STR(m.generator, "baton-gateway test");
    gw_sink_meta(&o.cluster, 3, NULL, "x", &m);   /* no timeline */
    CHECK_EQ_INT(m.nmembers, 3);
    CHECK_EQ_INT(m.weights[2], 15);
    o.cluster.nat = true;
    REQUIRE(bt_cidr_parse("198.51.100.0/28", &o.cluster.nat_pool) == 0);
    gw_sink_meta(&o.cluster, 3, NULL, "x", &m);
    CHECK_EQ_INT(m.npools, 1);
    CHECK_EQ_STR(m.nat_pools[0], "198.51.100.0/28");
}

TEST(taps_and_events_land_in_the_capture_set)
{
    struct bt_err e = {""};
    struct gw_config c;
    struct gw_sink k = {NULL, 0};
    struct bt_capset_meta m;
    char path[128], line[256];
    uint8_t f[64];
    gw_config_default(&c);
    c.nmembers = 2;
    struct gw_cluster *g = gw_cluster_new(&c, 1);
    struct bt_pktpool *pool = bt_pktpool_new(64, 2048);
    REQUIRE(g && pool && (k.w = bt_capset_writer_open(dir, &e)));
    gw_sink_attach(g, &k);
    /* a SYN: delivered to its member (the tap) */
    unsigned o = pb_eth(f, 0, 0, 0, 0, 0x0800);
    o += pb_ip4(f + o, 5, 40, 0, 6, 0x0a000001, 0x0a000002);
    o += pb_tcp(f + o, 1024, 80, 1, 0, 0x02, 20);
    struct bt_pkt *p = bt_pkt_copy(pool, f, o, o, 1000);
    REQUIRE(p);
    gw_rx(g, 1000, 0, &p, 1);
    CHECK_EQ_INT(gw_fail(g, 2000, 1), 0);   /* an event */
    gw_sink_meta(&c, 2, NULL, "test", &m);
    CHECK_EQ_INT(bt_capset_writer_close(k.w, &m, &e), 0);
    CHECK_EQ_INT(k.err, 0);
    snprintf(path, sizeof(path), "%s/events.jsonl", dir);
    FILE *ev = fopen(path, "r");
    REQUIRE(ev);
    CHECK(fgets(line, sizeof(line), ev) && strstr(line, "\"sgm_down\"") && strstr(line, "\"sgm\":1"));
    fclose(ev);
    /* the SYN in one member's capture: 24 bytes of header, 16 of record, the frame */
    long total = 0;
    for (int id = 1; id <= 2; id++) {
        snprintf(path, sizeof(path), "%s/sgm-%d.pcap", dir, id);
        FILE *s = fopen(path, "r");
        REQUIRE(s);
        fseek(s, 0, SEEK_END);
        total += ftell(s) - 24;
        fclose(s);
    }
    CHECK_EQ_INT(total, 16 + (long)o);
    REQUIRE(bt_capset_read_meta(dir, &m, &e) == 0);
    CHECK_EQ_STR(m.generator, "test");
    gw_cluster_free(g);
    bt_pktpool_free(pool);
}

__attribute__((constructor)) static void init_dir(void)
{
    snprintf(dir, sizeof(dir), "/tmp/bt-gwsink-%d", (int)getpid());
}

__attribute__((destructor)) static void rm_dir(void)
{
    char cmd[96];
    snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
    if (system(cmd) != 0)
        (void)0;
}
