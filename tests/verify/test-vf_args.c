/* SPDX-License-Identifier: BSD-3-Clause */
#include "bt_test.h"
#include "bt_err.h"
#include "bt_yaml.h"
#include "vf_api.h"

TEST(weights)
{
    struct vf_input in;
    struct bt_err e;
    memset(&in, 0, sizeof(in));
    REQUIRE(vf_parse_weights("1=70,2=15,3=15", &in, &e) == 0);
    CHECK_EQ_INT(in.nweights, 3);
    CHECK_EQ_INT(in.weight_id[2], 3);
    CHECK_EQ_INT(in.weight[0], 70);
    const char *bad[] = {"", "1", "=5", "0=5", "65=5", "1=513", "1=-1", "1=5,1=6", "1=5;2=6", "x=1"};
    for (unsigned i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        memset(&in, 0, sizeof(in));
        if (vf_parse_weights(bad[i], &in, &e) == 0)
            BT_FAIL_AT("accepted '%s'", bad[i]);
        else
            CHECK(strstr(e.msg, "--weights") != NULL);
    }
}

TEST(sgm)
{
    struct vf_input in;
    struct bt_err e;
    memset(&in, 0, sizeof(in));
    REQUIRE(vf_parse_sgm("7=/tmp/a=b.pcap", &in, &e) == 0);
    CHECK_EQ_INT(in.sgm_id[0], 7);
    CHECK_EQ_STR(in.sgm_path[0], "/tmp/a=b.pcap");
    CHECK(vf_parse_sgm("7=/tmp/c.pcap", &in, &e) < 0);
    CHECK(vf_parse_sgm("7", &in, &e) < 0);
    CHECK(vf_parse_sgm("8=", &in, &e) < 0);
    CHECK(vf_parse_sgm("0=x", &in, &e) < 0);
}

TEST(thresholds_from_yaml)
{
    struct vf_thresholds t;
    struct bt_err e;
    const char *y = "expect:\n  affinity: 2\n  max_gap: 150ms\n  balance_pct: 5\n  idle: 1s\n  cps_min: 100\n";
    struct bt_ydoc *d = bt_yaml_load_mem("p.yaml", y, strlen(y), &e);
    static const char *const ignore[] = {"cps_min", NULL};
    REQUIRE(d);
    vf_thresholds_default(&t);
    CHECK_NEAR(t.max_gap_ms, 300, 0);
    CHECK_EQ_INT(t.idle_ns, 2000000000ULL);
    REQUIRE(vf_thresholds_load(d, bt_y_get(d->root, "expect"), ignore, &t, &e) == 0);
    CHECK_EQ_INT(t.max_affinity, 2);
    CHECK_NEAR(t.max_gap_ms, 150, 1e-9);
    CHECK_NEAR(t.max_balance_pct, 5, 0);
    CHECK_EQ_INT(t.idle_ns, 1000000000ULL);
    CHECK(vf_thresholds_load(d, bt_y_get(d->root, "expect"), NULL, &t, &e) < 0);
    CHECK(strstr(e.msg, "p.yaml:6:3: unknown field 'cps_min'") != NULL);
    bt_yaml_free(d);
    y = "expect:\n  lost: many\n";
    d = bt_yaml_load_mem("p.yaml", y, strlen(y), &e);
    CHECK(vf_thresholds_load(d, bt_y_get(d->root, "expect"), NULL, &t, &e) < 0);
    CHECK(strstr(e.msg, "p.yaml:2:9: expect.lost") != NULL);
    bt_yaml_free(d);
}
