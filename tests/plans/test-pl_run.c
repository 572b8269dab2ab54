/* SPDX-License-Identifier: BSD-3-Clause */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "bt_err.h"
#include "bt_test.h"
#include "pl_api.h"
#include "pl_test.h"

static struct pl_plan *load_text(const char *text, struct bt_err *e)
{
    return pl_test_load(text, e);
}

/* Runs text; returns the verdict, -1 on a runner error. */
static int run_text(const char *text, struct pl_result *res)
{
    struct bt_err e = {{0}};
    char out[128];
    struct pl_plan *p = load_text(text, &e);
    int r = -1;

    if (!p)
        return -1;
    snprintf(out, sizeof(out), "/tmp/test-pl_run-out-%d", (int)getpid());
    if (pl_run_sim(p, out, res, &e) == 0)
        r = res->pass;
    pl_plan_free(p);
    if (system("rm -rf /tmp/test-pl_run-out-*") != 0)
        r = -1;
    return r;
}

#define BASE "name: t\nseed: 3\ncluster:\n  members: 2\n  mode: general\n%s" \
             "traffic:\n  flows: 200\n  cps: 1000\n  exchanges: 2\nexpect:\n  failed_flows: 0\n%s"

static int run_fmt(const char *cluster_extra, const char *tail, struct pl_result *res)
{
    char buf[1024];
    snprintf(buf, sizeof(buf), BASE, cluster_extra, tail);
    int r = run_text(buf, res);
    pl_result_clear(res);
    return r;
}

TEST(healthy_passes)
{
    struct pl_result res;
    CHECK_EQ_INT(run_fmt("", "", &res), 1);
    CHECK_EQ_INT(res.sim.flows_completed, 200);
    CHECK_EQ_INT(res.nchecks, VF_NCHECKS + 1); /* failed_flows judged */
}

TEST(expect_fail_semantics)
{
    struct pl_result res;
    /* a fault nobody expected fails the plan */
    CHECK_EQ_INT(run_fmt("  faults: [asymmetric]\n", "", &res), 0);
    /* naming exactly the failing check passes it */
    CHECK_EQ_INT(run_fmt("  faults: [asymmetric]\n", "expect_fail: [symmetry]\n", &res), 1);
    /* naming a check that passes fails it */
    CHECK_EQ_INT(run_fmt("  faults: [asymmetric]\n", "expect_fail: [symmetry, affinity]\n", &res), 0);
    /* expecting a failure of a healthy cluster fails it */
    CHECK_EQ_INT(run_fmt("", "expect_fail: [symmetry]\n", &res), 0);
}
