/* SPDX-License-Identifier: BSD-3-Clause */
#include <errno.h>
#include <stdlib.h>
#include <unistd.h>

#include "bt_test.h"
#include "bt_capset.h"
#include "bt_err.h"
#include "gw_api.h"

/* Default options writing into a new directory at dir (a mkdtemp template). */
static bool sim_opts(struct gw_sim_opts *o, char *dir)
{
    gw_sim_opts_default(o);
    o->out = dir;
    return bt_mkdtemp(dir) != NULL;
}

TEST(small_run_completes_and_writes_a_capture_set)
{
    char dir[] = "/tmp/bt-gwsim-XXXXXX";
    struct gw_sim_opts o;
    struct gw_sim_result r;
    struct bt_err e;
    struct bt_capset_meta m;
    REQUIRE(sim_opts(&o, dir));
    o.flows = 200;
    o.exchanges = 2;
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
    REQUIRE(sim_opts(&o, dir));
    o.flows = 400;
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

static int64_t balance(const struct gw_stats *g)
{
    return (int64_t)(g->rx - g->tx - g->drops_dead - g->drops_state - g->drops_policy - g->drops_queue -
                     g->drops_full - g->drops_bad + g->rejects);
}

/* Every packet in is out, dropped and counted, or an RST's answer: rx = tx
 * + drops - rejects once the cluster is idle (found in review: first
 * packets held for their backups died uncounted with their member, and a
 * backup's full table counted its records as dropped packets). */
TEST(every_packet_in_is_out_or_counted)
{
    char dir[] = "/tmp/bt-gwsim-XXXXXX";
    struct gw_sim_opts o;
    struct gw_sim_result r;
    struct bt_err e;
    REQUIRE(sim_opts(&o, dir));
    o.flows = 20000;
    o.cps = 200000;
    o.exchanges = 2;
    o.seed = 3;
    o.cluster.nmembers = 4;
    o.nfails = 1;
    o.fail_sgm[0] = 2;
    o.fail_ns[0] = 50000100;   /* while it holds first packets for their backups */
    REQUIRE(gw_sim_run(&o, &r, &e) == 0);
    CHECK(r.gw.promoted > 0);
    CHECK_EQ_INT(balance(&r.gw), 0);
    gw_sim_opts_default(&o);
    o.out = dir;
    o.flows = 2000;
    o.cps = 10000;
    o.exchanges = 20;
    o.cluster.nmembers = 3;
    o.cluster.weight[1] = 512;   /* by member id */
    o.cluster.weight[2] = o.cluster.weight[3] = 1;
    o.cluster.max_conns = 20;   /* the two small members' tables fill with backups */
    REQUIRE(gw_sim_run(&o, &r, &e) == 0);
    CHECK(r.gw.backups_full > 0);
    CHECK(r.gw.drops_full > 0);
    CHECK_EQ_INT(balance(&r.gw), 0);
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
    REQUIRE(sim_opts(&o, dir));
    o.flows = 3000;
    o.cps = 3000;
    o.exchanges = 10;
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

/* Other callers than baton-gateway (whose options keep every time within
 * 1h): a time past the clock's range was scheduled as it came: a flow's
 * opening past 2^64 ns was an undefined conversion, an event at 2^64 - 1
 * never happened (exit 0), a duration near 2^64 wrapped the stats tick
 * into the past (a run without end). Each is refused with -ERANGE, before
 * anything is written. */
TEST(times_past_the_clock_are_refused)
{
    char dir[] = "/tmp/bt-gwsimr-XXXXXX", out[64];
    struct gw_sim_opts o;
    struct gw_sim_result r;
    struct bt_err e;
    REQUIRE(bt_mkdtemp(dir));
    snprintf(out, sizeof(out), "%s/o", dir);
    static const struct {
        const char *want;
        int field;
    } cases[] = {
        {"flows open until", 0}, {"event 1 at", 1}, {"--duration", 2}, {"a conversation", 3},
        {"a conversation", 4}, {"--cps > 0", 5}, {"stats", 6},
    };
    for (unsigned i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        gw_sim_opts_default(&o);
        o.out = out;
        o.flows = 2;
        o.exchanges = 1;
        switch (cases[i].field) {
        case 0: o.cps = 1e-12; break;                       /* flow 1 at 1e21 ns */
        case 1: o.nfails = 1; o.fail_sgm[0] = 1; o.fail_kind[0] = BT_EV_SGM_DOWN;
                o.fail_ns[0] = UINT64_MAX; break;
        case 2: o.duration_ns = UINT64_MAX - 10; break;
        case 3: o.interval_ns = 1ULL << 62; break;
        case 4: o.rto_ns = 1ULL << 58; break;                /* doubled 4 times, 31 rto in a step */
        case 5: o.cps = __builtin_nan(""); break;
        case 6: o.stats_interval_ns = UINT64_MAX; break;
        }
        memset(&e, 0, sizeof(e));
        int rc = gw_sim_run(&o, &r, &e);
        if (rc != (cases[i].field == 5 ? -EINVAL : -ERANGE) || !strstr(e.msg, cases[i].want))
            BT_FAIL_AT("case %u: %d '%s' lacks '%s'", i, rc, e.msg, cases[i].want);
        CHECK(access(out, F_OK) != 0);
    }
    /* the bound itself: a run that ends near 146 years is taken (no run of it:
     * only its check) and the CLI's 1h is far inside it */
    gw_sim_opts_default(&o);
    o.out = out;
    o.flows = 1;
    o.nfails = 1;
    o.fail_sgm[0] = 1;
    o.fail_kind[0] = BT_EV_SGM_DOWN;
    o.fail_ns[0] = 3600ULL * 1000000000ULL;
    o.exchanges = 0;
    REQUIRE(gw_sim_run(&o, &r, &e) == 0);
    CHECK_EQ_INT(r.flows_completed, 1);
    snprintf(out, sizeof(out), "rm -rf %s", dir);
    CHECK(system(out) == 0);
}
