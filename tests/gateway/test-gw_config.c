/* SPDX-License-Identifier: BSD-3-Clause */
#include <errno.h>
#include <unistd.h>
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
    CHECK(gw_fault_parse("stale-policy", &bit) == 0 && bit == GW_FAULT_STALE_POLICY);
    CHECK(gw_fault_parse("nope", &bit) < 0);
}

TEST(the_full_model_keys)
{
    struct gw_config c;
    struct bt_err e = {""};
    REQUIRE(load("cluster:\n  members: 4\n  heartbeat: 5ms\n  dead_timer: 50ms\n"
                 "  dead_timer_loaded: 7s\n  load_threshold: 85\n  detect_delay: 3s\n"
                 "  sync_loss: 12.5\n  sync_batch: 2ms\n  defer: false\n  defer_timeout: 10ms\n"
                 "  timeouts: {established: 1h, syn: 3s, fin: 1s, udp: 20s, icmp: 5s}\n"
                 "  cost: {pkt: 300ns, setup: 1.5us, sync: 800ns, cores: 4, queue: 1000}\n"
                 "  nat: {pool: 198.51.100.0/28, ports: 2000-40000}\n"
                 "  policy:\n    default: drop\n    rules:\n      - {action: accept, dport: 80}\n"
                 "  faults: [sync-loss, slow-detection]\n", &c, &e) == 0);
    CHECK_EQ_INT(c.heartbeat_ns, 5000000);
    CHECK_EQ_INT(c.dead_ns, 50000000);
    CHECK_EQ_INT(c.dead_loaded_ns, 7000000000ULL);
    CHECK_EQ_INT(c.load_pct, 85);
    CHECK_EQ_INT(c.detect_delay_ns, 3000000000ULL);
    CHECK(c.sync_loss_pct > 12.4 && c.sync_loss_pct < 12.6);
    CHECK_EQ_INT(c.sync_batch_ns, 2000000);
    CHECK(!c.defer);
    CHECK_EQ_INT(c.defer_ns, 10000000);
    CHECK_EQ_INT(c.idle_ns, 3600000000000ULL);
    CHECK_EQ_INT(c.syn_ns, 3000000000ULL);
    CHECK_EQ_INT(c.fin_ns, 1000000000ULL);
    CHECK_EQ_INT(c.udp_ns, 20000000000ULL);
    CHECK_EQ_INT(c.icmp_ns, 5000000000ULL);
    CHECK_EQ_INT(c.cost.ns_per_pkt, 300);
    CHECK_EQ_INT(c.cost.ns_per_setup, 1500);
    CHECK_EQ_INT(c.cost.ns_per_sync, 800);
    CHECK_EQ_INT(c.cost.cores, 4);
    CHECK_EQ_INT(c.cost.queue_pkts, 1000);
    CHECK(c.nat);
    CHECK_EQ_INT(c.nat_port_lo, 2000);
    CHECK_EQ_INT(c.nat_port_hi, 40000);
    CHECK_EQ_INT(c.nat_pool.plen, 124);
    CHECK_EQ_INT(c.policy.nrules, 1);
    CHECK_EQ_INT(c.policy.default_action, GW_DROP);
    CHECK_EQ_INT(c.faults, GW_FAULT_SYNC_LOSS | GW_FAULT_SLOW_DETECTION);
    /* and the cluster takes it */
    struct gw_cluster *g = gw_cluster_new(&c, 3);
    CHECK(g != NULL);
    gw_cluster_free(g);
}

TEST(the_full_model_errors)
{
    struct gw_config c;
    struct bt_err e;
    const struct {
        const char *text, *want;
    } bad[] = {
        {"cluster:\n  cost: {pkt: 500}\n", "plan.yaml:2:15: cluster.cost.pkt: give a unit"},
        {"cluster:\n  cost: {cores: 0}\n", "plan.yaml:2:17: cluster.cost.cores"},
        {"cluster:\n  cost: {watts: 3}\n", "unknown field 'watts' in cluster.cost"},
        {"cluster:\n  nat: {ports: 1-2}\n", "cluster.nat: needs a pool"},
        {"cluster:\n  nat: {pool: 10.0.0.0/8, ports: 1000-1010}\n", "cluster.nat.ports: at least 64 ports"},
        {"cluster:\n  timeouts: {udp: 0s}\n", "plan.yaml:2:19: cluster.timeouts.udp: must be more than 0"},
        {"cluster:\n  timeouts: {tcp: 1s}\n", "unknown field 'tcp' in cluster.timeouts"},
        {"cluster:\n  heartbeat: 10us\n", "cluster.heartbeat: at least 100us"},
        {"cluster:\n  heartbeat: 80ms\n", "cluster.dead_timer: at least two heartbeats"},
        {"cluster:\n  sync_loss: 101\n", "plan.yaml:2:14: cluster.sync_loss"},
        {"cluster:\n  policy: {default: allow}\n", "plan.yaml:2:21: policy.default: 'allow'"},
        {"cluster:\n  defer: maybe\n", "plan.yaml:2:10: cluster.defer"},
        /* the simulation runs heartbeats through these: 1.8e10 s ran for days */
        {"cluster:\n  dead_timer: 1.8e10s\n", "plan.yaml:2:15: cluster.dead_timer: at most 1h"},
        {"cluster:\n  dead_timer_loaded: 2h\n", "cluster.dead_timer_loaded: at most 1h"},
        {"cluster:\n  detect_delay: 3601s\n", "cluster.detect_delay: at most 1h"},
        {"cluster:\n  sync_delay: 1.8e10s\n", "cluster.sync_delay: at most 1h"},
        {"cluster:\n  sync_batch: 61m\n", "cluster.sync_batch: at most 1h"},
        {"cluster:\n  defer_timeout: 1e5s\n", "cluster.defer_timeout: at most 1h"},
        {"cluster:\n  heartbeat: 2h\n", "cluster.heartbeat: at most 1h"},
    };
    for (unsigned i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        if (load(bad[i].text, &c, &e) == 0)
            BT_FAIL_AT("case %u accepted", i);
        else if (!strstr(e.msg, bad[i].want))
            BT_FAIL_AT("case %u: '%s' lacks '%s'", i, e.msg, bad[i].want);
    }
    CHECK_EQ_STR(gw_fault_name(GW_FAULT_SLOW_DETECTION), "slow-detection");
    CHECK_EQ_STR(gw_fault_name(GW_FAULT_STALE_POLICY), "stale-policy");
    CHECK(gw_fault_name(1U << 20) == NULL);
}

TEST(an_hour_is_taken)
{
    struct gw_config c;
    struct bt_err e;
    REQUIRE(load("cluster:\n  dead_timer: 1h\n  detect_delay: 3600s\n  sync_delay: 60m\n", &c, &e) == 0);
    CHECK_EQ_INT(c.dead_ns, 3600000000000ull);
    CHECK_EQ_INT(c.detect_delay_ns, 3600000000000ull);
}

TEST(cluster_file_at_top_or_under_cluster)
{
    char path[] = "/tmp/bt-gwcfg-XXXXXX";
    struct gw_config c;
    struct bt_err e = {""};
    int fd = mkstemp(path);
    REQUIRE(fd >= 0);
    REQUIRE(write(fd, "members: 7\n", 11) == 11);
    close(fd);
    REQUIRE(gw_config_load_file(path, &c, &e) == 0);
    CHECK_EQ_INT(c.nmembers, 7);
    FILE *f = fopen(path, "w");
    fputs("cluster:\n  members: 9\n", f);
    fclose(f);
    REQUIRE(gw_config_load_file(path, &c, &e) == 0);
    CHECK_EQ_INT(c.nmembers, 9);
    f = fopen(path, "w");
    fclose(f);
    CHECK(gw_config_load_file(path, &c, &e) < 0);
    CHECK(strstr(e.msg, ":1:1: empty cluster file") != NULL);
    unlink(path);
    CHECK(gw_config_load_file(path, &c, &e) < 0);
    CHECK(strstr(e.msg, path) != NULL);
}
