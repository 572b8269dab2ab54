/* SPDX-License-Identifier: BSD-3-Clause */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "bt_err.h"
#include "bt_test.h"
#include "pl_api.h"
#include "pl_test.h"

static struct pl_plan *load_text(const char *text, struct bt_err *e, char *path, size_t n)
{
    (void)path;
    (void)n;
    return pl_test_load(text, e);
}

TEST(full_plan)
{
    struct bt_err e = {{0}};
    char path[128];
    struct pl_plan *p = load_text("name: t\nseed: 7\ncluster:\n  members: 3\n  weights: [70, 15, 15]\n"
                                  "traffic:\n  flows: 3k\n  cps: 1.5k\n  exchanges: 4\n  interval: 20ms\n"
                                  "events:\n  - at: 1.5s\n    fail: 2\n"
                                  "expect:\n  lost: 2\n  failed_flows: 5\n"
                                  "expect_fail: [failover, balance]\n",
                                  &e, path, sizeof(path));
    REQUIRE(p != NULL);
    CHECK_EQ_STR(p->name, "t");
    CHECK_EQ_INT(p->seed, 7);
    CHECK_EQ_INT(p->sim.cluster.seed, 7);
    CHECK_EQ_INT(p->sim.cluster.nmembers, 3);
    CHECK_EQ_INT(p->sim.cluster.weight[1], 70);
    CHECK_EQ_INT(p->sim.cluster.weight[3], 15);
    CHECK_EQ_INT(p->sim.flows, 3000);
    CHECK(p->sim.cps == 1500);
    CHECK_EQ_INT(p->sim.exchanges, 4);
    CHECK_EQ_INT(p->sim.interval_ns, 20000000);
    CHECK_EQ_INT(p->sim.nfails, 1);
    CHECK_EQ_INT(p->sim.fail_sgm[0], 2);
    CHECK_EQ_INT(p->sim.fail_ns[0], 1500000000);
    CHECK_EQ_INT(p->th.max_lost, 2);
    CHECK(p->max_failed_flows == 5);
    CHECK_EQ_INT(p->nexpect_fail, 2);
    CHECK_EQ_STR(p->expect_fail[1], "balance");
    pl_plan_free(p);
}

TEST(defaults)
{
    struct bt_err e = {{0}};
    char path[128];
    struct pl_plan *p = load_text("name: d\n", &e, path, sizeof(path));
    REQUIRE(p != NULL);
    CHECK(p->max_failed_flows == 0); /* every conversation completes unless told */
    CHECK_EQ_INT(p->nexpect_fail, 0);
    CHECK(p->sim.cluster.nmembers >= 1);
    pl_plan_free(p);
    /* a ramp overloads on purpose: its capacity check judges, not failed_flows */
    p = load_text("name: r\ntraffic:\n  templates:\n    - synth: tcp\nramp:\n  find: cps\n  from: 1k\n  to: 4k\n"
                  "  trial: 1s\n  steps: 3\n", &e, path, sizeof(path));
    REQUIRE(p != NULL);
    CHECK(p->max_failed_flows < 0);
    pl_plan_free(p);
}

TEST(errors_have_positions)
{
    struct bt_err e = {{0}};
    char path[128];
    CHECK(load_text("name: x\ntraffic:\n  flows: 10\n  speed: 3\n", &e, path, sizeof(path)) == NULL);
    CHECK(strstr(e.msg, ":4:3:") != NULL);
    CHECK(strstr(e.msg, "speed") != NULL);
    CHECK(load_text("name: x\nexpect_fail: []\n", &e, path, sizeof(path)) == NULL);
    CHECK(strstr(e.msg, "expect_fail") != NULL);
    /* a check the plan leaves unjudged could never fail: refused at its place */
    CHECK(load_text("name: x\nexpect_fail: [balance, latency]\n", &e, path, sizeof(path)) == NULL);
    CHECK(strstr(e.msg, ":2:24: expect_fail: 'latency' is not judged by this plan (it needs "
                        "expect.latency_p99)") != NULL);
    CHECK(load_text("name: x\nexpect_fail: [capacity]\n", &e, path, sizeof(path)) == NULL);
    CHECK(strstr(e.msg, "needs a ramp: section") != NULL);
    CHECK(load_text("name: x\nexpect_fail: [run]\n", &e, path, sizeof(path)) == NULL);
    CHECK(strstr(e.msg, "needs a run: event") != NULL);
    CHECK(load_text("name: x\nexpect_fail: [policy]\n", &e, path, sizeof(path)) == NULL);
    CHECK(strstr(e.msg, "needs a policy event") != NULL);
    CHECK(load_text("name: x\nexpect_fail: [rsts]\n", &e, path, sizeof(path)) == NULL);
    CHECK(strstr(e.msg, "needs tgen traffic") != NULL);
    CHECK(load_text("name: x\nexpect_fail: [loss]\n", &e, path, sizeof(path)) == NULL);
    CHECK(strstr(e.msg, "needs expect.loss_pct") != NULL);

    CHECK(load_text("name: x\nevents: {at: 1}\n", &e, path, sizeof(path)) == NULL);
    CHECK(strstr(e.msg, "events: expected a list") != NULL);
    CHECK(pl_plan_free(NULL) == NULL);
}

TEST(tgen_plan_fields)
{
    struct bt_err e = {{0}};
    struct pl_plan *p = pl_test_load("name: g\nseed: 2\ncluster:\n  members: 2\n"
                                     "traffic:\n  templates:\n    - synth: udp\n  cps: 3k\n  mode: open\n"
                                     "sim:\n  link_delay: 10us\n  duration: 5s\n  snaplen: 200\n  links: false\n"
                                     "events:\n  - {at: 1s, run: 'true', timeout: 2s, status: 0}\n"
                                     "  - at: 2s\n    policy: {default: drop}\n  - {at: 3s, add: 3}\n"
                                     "expect:\n  cps: 100\n  rst_pct: 0.5\n  latency_p99: 3ms\n"
                                     "expect_fail: [latency, run]\n", &e);
    REQUIRE(p != NULL);
    CHECK(p->tgen);
    CHECK(p->prof->cps == 3000);
    CHECK_EQ_INT(p->prof->mode, TG_MODE_OPEN);
    CHECK_EQ_INT(p->prof->pool_pkts, 65536);   /* the plan's default, not tgen's */
    CHECK_EQ_INT(p->link_delay_ns, 10000);
    CHECK_EQ_INT(p->max_sim_ns, 5000000000ULL);
    CHECK_EQ_INT(p->snaplen, 200);
    CHECK(p->no_links);
    CHECK_EQ_INT(p->nevents, 3);
    CHECK_EQ_INT(p->ev[0].kind, PL_EV_RUN);
    CHECK_EQ_STR(p->ev[0].cmd, "true");
    CHECK_EQ_INT(p->ev[0].timeout_ns, 2000000000ULL);
    CHECK_EQ_INT(p->ev[0].want_status, 0);
    CHECK_EQ_INT(p->ev[1].kind, PL_EV_POLICY);
    CHECK_EQ_INT(p->ev[1].policy->default_action, GW_DROP);
    CHECK_EQ_INT(p->ev[2].sgm, 3);
    CHECK_EQ_INT(p->ev[2].weight, 100);
    CHECK(p->min_cps == 100);
    CHECK(p->max_rst_pct == 0.5);
    CHECK_EQ_INT(p->max_latency_p99_ns, 3000000);
    CHECK_EQ_INT(p->nexpect_fail, 2);
    pl_plan_free(p);
    p = pl_test_load("name: r\ntraffic:\n  templates:\n    - synth: tcp\n"
                     "ramp: {find: concurrent, from: 100, to: 10k, steps: 4, tolerance: 2}\n", &e);
    REQUIRE(p != NULL);
    CHECK_EQ_INT(p->ramp.kind, PL_RAMP_CONCURRENT);
    CHECK(p->ramp.from == 100 && p->ramp.to == 10000);
    CHECK_EQ_INT(p->ramp.trials, 4);
    CHECK(p->ramp.tolerance_pct == 2);
    CHECK_EQ_INT(p->ramp.trial_ns, 500000000);
    pl_plan_free(p);
    /* defaults of a tgen plan: closed loop, RSTs judged at RFC 9411's 0.001 % */
    p = pl_test_load("name: g\ntraffic:\n  templates:\n    - synth: tcp\n", &e);
    REQUIRE(p != NULL);
    CHECK_EQ_INT(p->prof->mode, TG_MODE_CLOSED);
    CHECK(p->max_rst_pct == 0.001);
    CHECK_EQ_INT(p->link_delay_ns, 50000);
    CHECK_EQ_INT(p->ramp.kind, PL_RAMP_NONE);
    pl_plan_free(p);
    /* the gateway's endpoints: no RST figure */
    p = pl_test_load("name: g\ntraffic:\n  flows: 10\n", &e);
    REQUIRE(p != NULL);
    CHECK(!p->tgen);
    CHECK(p->max_rst_pct < 0);
    pl_plan_free(p);
}
