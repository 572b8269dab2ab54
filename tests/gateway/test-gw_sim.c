/* SPDX-License-Identifier: BSD-3-Clause */
#include <errno.h>
#include <stdlib.h>

#include "bt_test.h"
#include "bt_capset.h"
#include "bt_err.h"
#include "gw_api.h"

TEST(small_run_completes_and_writes_a_capture_set)
{
    char dir[] = "/tmp/bt-gwsim-XXXXXX";
    struct gw_sim_opts o;
    struct gw_sim_result r;
    struct bt_err e;
    struct bt_capset_meta m;
    REQUIRE(bt_mkdtemp(dir));
    gw_sim_opts_default(&o);
    o.flows = 200;
    o.exchanges = 2;
    o.out = dir;
    o.cluster.nmembers = 3;
    REQUIRE(gw_sim_run(&o, &r, &e) == 0);
    CHECK_EQ_INT(r.flows_completed, 200);
    CHECK_EQ_INT(r.flows_failed, 0);
    /* SYN, 2 exchanges, FIN: 4 round trips, plus the last ACK: 9 packets each */
    CHECK_EQ_INT(r.gw.rx, 200 * 9);
    CHECK_EQ_INT(r.gw.conns, 200);
    CHECK_EQ_INT(r.gw.backups, 200);
    REQUIRE(bt_capset_read_meta(dir, &m, &e) == 0);
    CHECK_EQ_INT(m.nmembers, 3);
    CHECK(m.files & BT_CAPSET_HAS_CLIENT);
    CHECK(m.files & BT_CAPSET_HAS_SERVER);
}

TEST(failure_without_sync_fails_the_flows_it_carried)
{
    char dir[] = "/tmp/bt-gwsim-XXXXXX";
    struct gw_sim_opts o;
    struct gw_sim_result r;
    struct bt_err e;
    REQUIRE(bt_mkdtemp(dir));
    gw_sim_opts_default(&o);
    o.flows = 400;
    o.out = dir;
    o.nfails = 1;
    o.fail_sgm[0] = 1;
    o.fail_ns[0] = 300000000;
    o.cluster.faults = GW_FAULT_NO_SYNC;
    REQUIRE(gw_sim_run(&o, &r, &e) == 0);
    CHECK(r.flows_failed > 0);
    CHECK_EQ_INT(r.flows_failed + r.flows_completed, 400);
    o.cluster.faults = 0;
    REQUIRE(gw_sim_run(&o, &r, &e) == 0);
    CHECK_EQ_INT(r.flows_failed, 0);
    CHECK(r.gw.promoted > 0);
}

TEST(unwritable_output_is_an_error)
{
    struct gw_sim_opts o;
    struct gw_sim_result r;
    struct bt_err e;
    gw_sim_opts_default(&o);
    o.out = "/proc/nonexistent/out";
    o.flows = 5;
    CHECK(gw_sim_run(&o, &r, &e) < 0);
    CHECK(strstr(e.msg, "/proc/nonexistent/out") != NULL);
}

/* The largest cluster: 64 members, the last one failing under load; no
 * 65th can join (a timeline asking for one is refused, naming the event). */
TEST(sixty_four_members)
{
    char dir[] = "/tmp/bt-gwsim64-XXXXXX", path[256];
    struct gw_sim_opts o;
    struct gw_sim_result r;
    struct bt_err e;
    struct bt_capset_meta m;
    REQUIRE(bt_mkdtemp(dir));
    gw_sim_opts_default(&o);
    o.flows = 3000;
    o.cps = 3000;
    o.exchanges = 10;
    o.out = dir;
    o.cluster.nmembers = GW_MAX_MEMBERS;
    o.nfails = 1;
    o.fail_sgm[0] = 64;
    o.fail_kind[0] = BT_EV_SGM_DOWN;
    o.fail_ns[0] = 500000000ULL;
    o.fail_sgm[1] = 65;
    o.fail_kind[1] = BT_EV_SGM_JOIN;
    o.fail_weight[1] = 100;
    o.fail_ns[1] = 600000000ULL;
    REQUIRE(gw_sim_run(&o, &r, &e) == 0);
    CHECK_EQ_INT(r.flows_completed, 3000);   /* member 64's flows went on on their backups */
    CHECK(r.gw.promoted > 0);
    CHECK_EQ_INT(r.bad_events, 0);
    char dir2[] = "/tmp/bt-gwsim65-XXXXXX";
    REQUIRE(bt_mkdtemp(dir2));
    o.out = dir2;
    o.nfails = 2;
    CHECK_EQ_INT(gw_sim_run(&o, &r, &e), -EINVAL);
    CHECK_EQ_INT(r.bad_events, 1);           /* the 65th member */
    CHECK(strstr(e.msg, "event 2 of the timeline (add sgm 65 at 0.600000 s)") != NULL);
    CHECK(strstr(e.msg, "up to 64") != NULL);
    snprintf(path, sizeof(path), "rm -rf %s", dir2);
    CHECK(system(path) == 0);
    REQUIRE(bt_capset_read_meta(dir, &m, &e) == 0);
    CHECK_EQ_INT(m.nmembers, 64);
    CHECK_EQ_INT(m.ids[63], 64);
    snprintf(path, sizeof(path), "%s/sgm-64.pcap", dir);
    FILE *f = fopen(path, "rb");
    CHECK(f != NULL);
    if (f)
        fclose(f);
    snprintf(path, sizeof(path), "rm -rf %s", dir);
    CHECK(system(path) == 0);
}
