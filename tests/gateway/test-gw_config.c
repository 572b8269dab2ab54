/* SPDX-License-Identifier: BSD-3-Clause */
#include <errno.h>
#include "bt_test.h"
#include "bt_err.h"
#include "bt_hash.h"
#include "bt_yaml.h"
#include "gw_api.h"

static int load(const char *text, struct gw_config *c, struct bt_err *e)
{
    struct bt_ydoc *d = bt_yaml_load_mem("plan.yaml", text, strlen(text), e);
    int r;
    if (!d)
        return -EINVAL;
    r = gw_config_load(d, bt_y_get(d->root, "cluster"), c, e);
    bt_yaml_free(d);
    return r;
}

TEST(full_config)
{
    struct gw_config c;
    struct bt_err e;
    REQUIRE(load("cluster:\n  members: 3\n  weights: [280, 60, 60]\n  mode: auto\n  l4: false\n"
                 "  sync: false\n  dead_timer: 250ms\n  sync_delay: 5us\n  idle_timeout: 30s\n"
                 "  max_conns: 1000\n  faults: [asymmetric]\n  seed: 7\n", &c, &e) == 0);
    CHECK_EQ_INT(c.nmembers, 3);
    CHECK_EQ_INT(c.weight[1], 280);
    CHECK_EQ_INT(c.weight[3], 60);
    CHECK_EQ_INT(c.mode, BT_DIST_AUTO);
    CHECK(!c.l4);
    CHECK_EQ_INT(c.faults, GW_FAULT_NO_SYNC | GW_FAULT_ASYMMETRIC);
    CHECK_EQ_INT(c.dead_ns, 250000000);
    CHECK_EQ_INT(c.sync_delay_ns, 5000);
    CHECK_EQ_INT(c.idle_ns, 30000000000ULL);
    CHECK_EQ_INT(c.max_conns, 1000);
    CHECK_EQ_INT(c.seed, 7);
}

TEST(defaults_for_what_is_not_said)
{
    struct gw_config c, d;
    struct bt_err e;
    REQUIRE(load("cluster:\n  members: 2\n", &c, &e) == 0);
    gw_config_default(&d);
    CHECK_EQ_INT(c.nmembers, 2);
    CHECK_EQ_INT(c.dead_ns, d.dead_ns);
    CHECK_EQ_INT(c.weight[2], 100);
    CHECK(c.l4);
}

TEST(errors_name_line_column_and_field)
{
    struct gw_config c;
    struct bt_err e;
    const struct {
        const char *text, *want;
    } bad[] = {
        {"cluster:\n  members: 65\n", "plan.yaml:2:12: cluster.members: 65 is out of range 1..64"},
        {"cluster:\n  members: 2\n  weights: [1, 2, 3]\n", "plan.yaml:3:12: cluster.weights: 3 weights for 2 members"},
        {"cluster:\n  members: 2\n  weights: [1, 600]\n", "plan.yaml:3:16: cluster.weights[]: 600 is out of range"},
        {"cluster:\n  mode: diagonal\n", "plan.yaml:2:9: cluster.mode: 'diagonal'"},
        {"cluster:\n  colour: blue\n", "plan.yaml:2:3: unknown field 'colour' in cluster"},
        {"cluster:\n  faults: [gremlins]\n", "plan.yaml:2:12: cluster.faults: 'gremlins'"},
        {"cluster:\n  dead_timer: soon\n", "plan.yaml:2:15: cluster.dead_timer"},
        {"cluster: 4\n", "expected a mapping"},
    };
    for (unsigned i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        if (load(bad[i].text, &c, &e) == 0)
            BT_FAIL_AT("case %u accepted", i);
        else if (!strstr(e.msg, bad[i].want))
            BT_FAIL_AT("case %u: '%s' lacks '%s'", i, e.msg, bad[i].want);
    }
    uint32_t bit;
    CHECK(gw_fault_parse("no-sync", &bit) == 0 && bit == GW_FAULT_NO_SYNC);
    CHECK(gw_fault_parse("nope", &bit) < 0);
}
