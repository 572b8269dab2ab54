/* SPDX-License-Identifier: BSD-3-Clause */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "bt_err.h"
#include "bt_test.h"
#include "pl_api.h"

/* Writes text to a fresh temp file and loads it as a plan. */
static struct pl_plan *load_text(const char *text, struct bt_err *e, char *path, size_t n)
{
    snprintf(path, n, "/tmp/test-pl_plan-%d-XXXXXX", (int)getpid());
    int fd = mkstemp(path);
    if (fd < 0)
        return NULL;
    if (write(fd, text, strlen(text)) != (ssize_t)strlen(text)) {
        close(fd);
        return NULL;
    }
    close(fd);
    struct pl_plan *p = pl_plan_load(path, e);
    unlink(path);
    return p;
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
    CHECK(p->max_failed_flows < 0); /* unjudged unless asked */
    CHECK_EQ_INT(p->nexpect_fail, 0);
    CHECK(p->sim.cluster.nmembers >= 1);
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
    CHECK(load_text("name: x\nevents: {at: 1}\n", &e, path, sizeof(path)) == NULL);
    CHECK(strstr(e.msg, "events: expected a list") != NULL);
    CHECK(pl_plan_free(NULL) == NULL);
}
