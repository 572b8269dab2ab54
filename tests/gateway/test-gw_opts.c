/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * gw_opts.c: baton-gateway sim's command line: defaults, every option,
 * each refusal with what to change, argv left whole, and no getopt state
 * left between parses.
 */
#include "bt_test.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>

#include "bt_hash.h"
#include "gw_opts.h"

static struct gw_opts O;

/* argv after "sim", NULL-ended; copies, so that a parse that cuts into
 * its arguments is seen (argv_left_whole) */
static char bufs[64][256];

static int vparse(const char *cmd, struct bt_err *e, va_list ap)
{
    char *argv[64];
    int argc = 0;

    argv[argc++] = (char *)cmd;
    for (char *a; (a = va_arg(ap, char *)) && argc < 63; argc++) {
        snprintf(bufs[argc], sizeof(bufs[argc]), "%s", a);
        argv[argc] = bufs[argc];
    }
    argv[argc] = NULL;
    memset(e, 0, sizeof(*e));
    return gw_opts_parse(argc, argv, &O, e);
}

static int parse(struct bt_err *e, ...)
{
    va_list ap;
    va_start(ap, e);
    int r = vparse("sim", e, ap);
    va_end(ap);
    return r;
}

/* the same after "live" */
static int parse_live(struct bt_err *e, ...)
{
    va_list ap;
    va_start(ap, e);
    int r = vparse("live", e, ap);
    va_end(ap);
    return r;
}

TEST(defaults_and_every_option)
{
    struct bt_err e;
    REQUIRE(parse(&e, "--out", "d", NULL) == 0);
    CHECK_EQ_STR(O.sim.out, "d");
    CHECK(!O.json && !O.replay && !O.usage);
    CHECK_EQ_INT(O.sim.flows, 2000);
    CHECK_NEAR(O.sim.cps, 2000, 0);
    CHECK_EQ_INT(O.sim.exchanges, 20);
    CHECK_EQ_INT(O.sim.cluster.nmembers, 4);
    CHECK_EQ_INT(O.members, 4);
    CHECK_EQ_INT(O.max_gap_ns, 60000000000ULL);
    CHECK_EQ_INT(O.sim.nfails, 0);
    REQUIRE(parse(&e, "--out", "d", "--members", "3", "--weights", "1,0,512", "--mode", "user", "--no-l4",
                  "--flows", "10", "--cps", "10k", "--exchanges", "0", "--interval", "1h", "--seed", "4294967295",
                  "--dead", "1s", "--fault", "no-sync", "--sync-loss", "5", "--detect-delay", "2s",
                  "--stats-interval", "1ms", "--serve", "/tmp/s", "--speed", "1e6", "--duration", "5s", "--json",
                  "--fail", "2@1.5s", "--join", "4@2s:7", "--join", "5@3s", "--weight", "1=300@1h",
                  "--restore", "2@3s", NULL) == 0);
    CHECK_EQ_INT(O.sim.cluster.nmembers, 3);
    CHECK_EQ_INT(O.members, 5);
    CHECK_EQ_INT(O.sim.cluster.weight[1], 1);
    CHECK_EQ_INT(O.sim.cluster.weight[2], 0);
    CHECK_EQ_INT(O.sim.cluster.weight[3], 512);
    CHECK_EQ_STR(bt_dist_mode_name((enum bt_dist_mode)O.sim.cluster.mode), "user");
    CHECK(!O.sim.cluster.l4);
    CHECK_EQ_INT(O.sim.flows, 10);
    CHECK_NEAR(O.sim.cps, 10000, 0);
    CHECK_EQ_INT(O.sim.exchanges, 0);
    CHECK_EQ_INT(O.sim.interval_ns, GW_OPTS_DUR_MAX);
    CHECK_EQ_INT(O.sim.seed, 4294967295u);
    CHECK_EQ_INT(O.sim.cluster.seed, 4294967295u);
    CHECK_EQ_INT(O.sim.cluster.dead_ns, 1000000000ULL);
    CHECK(O.sim.cluster.faults & GW_FAULT_NO_SYNC);
    CHECK(O.sim.cluster.faults & GW_FAULT_SYNC_LOSS);
    CHECK(O.sim.cluster.faults & GW_FAULT_SLOW_DETECTION);
    CHECK_NEAR(O.sim.cluster.sync_loss_pct, 5, 0);
    CHECK_EQ_INT(O.sim.cluster.detect_delay_ns, 2000000000ULL);
    CHECK_EQ_INT(O.sim.stats_interval_ns, 1000000);
    CHECK_EQ_STR(O.sim.serve, "/tmp/s");
    CHECK_NEAR(O.sim.speed, 1e6, 0);
    CHECK_EQ_INT(O.sim.duration_ns, 5000000000ULL);
    CHECK(O.json);
    REQUIRE(O.sim.nfails == 5);
    CHECK(O.sim.fail_kind[0] == BT_EV_SGM_DOWN && O.sim.fail_sgm[0] == 2 && O.sim.fail_ns[0] == 1500000000ULL);
    CHECK(O.sim.fail_kind[1] == BT_EV_SGM_JOIN && O.sim.fail_sgm[1] == 4 && O.sim.fail_weight[1] == 7);
    CHECK(O.sim.fail_kind[2] == BT_EV_SGM_JOIN && O.sim.fail_sgm[2] == 5 && O.sim.fail_weight[2] == 100);
    CHECK(O.sim.fail_kind[3] == BT_EV_WEIGHT && O.sim.fail_sgm[3] == 1 && O.sim.fail_weight[3] == 300 &&
          O.sim.fail_ns[3] == GW_OPTS_DUR_MAX);
    CHECK(O.sim.fail_kind[4] == BT_EV_SGM_UP && O.sim.fail_sgm[4] == 2 && O.sim.fail_ns[4] == 3000000000ULL);
    /* replay */
    REQUIRE(parse(&e, "--out", "d", "--pcap-in", "/x", "--events", "ev.yaml", "--stats", "s.jsonl",
                  "--max-gap", "0", NULL) == 0);
    CHECK(O.replay);
    CHECK_EQ_STR(O.client_pcap, "/x/client.pcap");
    CHECK_EQ_STR(O.server_pcap, "/x/server.pcap");
    CHECK_EQ_STR(O.events, "ev.yaml");
    CHECK_EQ_STR(O.stats, "s.jsonl");
    CHECK_EQ_INT(O.max_gap_ns, 0);
    REQUIRE(parse(&e, "--out", "d", "--client-pcap", "c", "--server-pcap", "s", NULL) == 0);
    CHECK(O.replay);
    CHECK_EQ_STR(O.client_pcap, "c");
    CHECK_EQ_INT(parse(&e, "--help", NULL), 1);
    CHECK_EQ_INT(parse(&e, "-h", NULL), 1);
}

TEST(refusals_say_what_to_change)
{
    static const struct {
        const char *a, *b, *want;
        bool usage;
    } bad[] = {
        {"--members", "0", "--members '0': must be 1..64", false},
        {"--members", "65", "--members '65'", false},
        {"--members", "+2", "--members '+2'", false},
        {"--weights", "1,2", "--weights '1,2': fewer weights than --members", false},
        {"--weights", "1,2,3,4,", "--weights '1,2,3,4,': more weights than --members", false},
        {"--weights", "1,2,3,600", "--weights '1,2,3,600': expected one weight 0..512", false},
        {"--mode", "sideways", "--mode 'sideways': must be general, user", false},
        {"--flows", "0", "--flows '0': must be 1..10000000", false},
        {"--cps", "1e-300", "--cps '1e-300': must be a rate 0.001..1e9", false},
        {"--exchanges", "100001", "--exchanges '100001': must be 0..100000", false},
        {"--interval", "1e9s", "--interval '1e9s': must be a duration of at most 1h", false},
        {"--fail", "2", "--fail '2': expected ID@TIME, e.g. 2@1.5s", false},
        {"--fail", "2@soon", "--fail '2@soon': expected ID@TIME with ID 1..64", false},
        {"--fail", "0@1s", "--fail '0@1s'", false},
        {"--fail", "2@1s:5", "--fail '2@1s:5'", false},
        {"--restore", "2", "--restore '2': expected ID@TIME", false},
        {"--join", "5", "--join '5': expected ID@TIME[:WEIGHT]", false},
        {"--join", "5@1s:", "--join '5@1s:': bad member (1..64), weight (0..512) or time", false},
        {"--join", "5@1s:513", "--join '5@1s:513'", false},
        /* taken before, the '=' and what followed it dropped: join 5 at 1 s, weight 100 */
        {"--join", "5=7@1s", "--join '5=7@1s': bad member", false},
        {"--join", "5@1s=7", "--join '5@1s=7': bad member", false},
        {"--weight", "1@1s", "--weight '1@1s': expected ID=WEIGHT@TIME", false},
        {"--weight", "1@1s=5", "--weight '1@1s=5': expected ID=WEIGHT@TIME", false},
        {"--weight", "1=513@1s", "--weight '1=513@1s': bad member", false},
        {"--fault", "gremlins", "--fault 'gremlins': must be no-sync", false},
        {"--sync-loss", "150", "--sync-loss '150': must be a percentage 0..100", false},
        {"--detect-delay", "2h", "--detect-delay '2h'", false},
        {"--stats-interval", "1ns", "--stats-interval '1ns': must be a duration of at least 1ms", false},
        {"--speed", "0", "--speed '0': must be 0.001..1e6", false},
        {"--duration", "soon", "--duration 'soon': must be a duration", false},
        {"--max-gap", "forever", "--max-gap 'forever'", false},
        {"--duration", "1e5s", "--duration 100000 s: at most 1h without --serve", false},
        {"--dead", "2h", "--dead '2h': must be a duration of at most 1h", false},
        {"--dead", "15ms", "--dead: at least two heartbeats", false},
        {"--seed", " 5", "--seed ' 5': must be 0..4294967295", false},
        {"--seed", "4294967296", "--seed '4294967296'", false},
        {"--bogus", NULL, "unknown or ambiguous option '--bogus'", true},
        {"--s", NULL, "unknown or ambiguous option '--s'", true},
        {"-x", NULL, "unknown or ambiguous option '-x'", true},
        {"--json=1", NULL, "option '--json=1' takes no value", true},
        {"--flows", NULL, "option '--flows' needs a value", true},
        {"extra", NULL, "unexpected argument 'extra'", false},
        {"--speed", "2", "--speed paces a served run: it goes with --serve PATH", false},
        {"--client-pcap", "c", "replay needs both --client-pcap and --server-pcap", false},
        {"--events", "e", "--events goes with a replay", false},
        {"--stats", "s", "--stats goes with a replay", false},
        {"--max-gap", "5s", "--max-gap goes with a replay", false},
        {"--join", "6@1s", "--join 6@...: members join in order (next is 5)", false},
        {"--fail", "5@1s", "--fail 5@...: no such member (--members 4)", false},
        {"--config", "/nonexistent.yaml", "/nonexistent.yaml", false},
    };
    struct bt_err e;

    for (unsigned i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        int r = bad[i].b ? parse(&e, "--out", "d", bad[i].a, bad[i].b, NULL)
                         : parse(&e, "--out", "d", bad[i].a, NULL);
        if (r >= 0)
            BT_FAIL_AT("%s %s: taken (%d)", bad[i].a, bad[i].b ? bad[i].b : "", r);
        else if (!strstr(e.msg, bad[i].want) || O.usage != bad[i].usage)
            BT_FAIL_AT("%s %s: \"%s\" (usage %d) lacks \"%s\"", bad[i].a, bad[i].b ? bad[i].b : "",
                       e.msg, O.usage, bad[i].want);
    }
    CHECK_EQ_INT(parse(&e, NULL), -EINVAL);
    CHECK(strstr(e.msg, "--out DIR is required") != NULL && O.usage);
    CHECK_EQ_INT(parse(&e, "--out", "d", "--flows", "1001", "--cps", "0.001", NULL), -EINVAL);
    CHECK(strstr(e.msg, "--flows 1001 at --cps 0.001 open over 1000000 s: at most 1h") != NULL);
    CHECK_EQ_INT(parse(&e, "--out", "d", "--pcap-in", "/x", "--flows", "10", NULL), -EINVAL);
    CHECK(strstr(e.msg, "a replay takes its traffic from the captures") != NULL);
    CHECK_EQ_INT(parse(&e, "--out", "d", "--pcap-in", "/x", "--restore", "2@1s", NULL), -EINVAL);
    CHECK(strstr(e.msg, "a replay takes its traffic from the captures") != NULL);
    CHECK_EQ_INT(parse(&e, "--config", "a.yaml", "--config", "b.yaml", NULL), -EINVAL);
    CHECK(strstr(e.msg, "--config given twice ('a.yaml', 'b.yaml')") != NULL);
    /* seventeen events: the sixteenth is the last taken */
    char ev[17][16];
    char *argv[40] = {"sim", "--out", "d", "--members", "2"};
    int argc = 5;
    for (int k = 0; k < 17; k++) {
        snprintf(ev[k], sizeof(ev[k]), "1=%d@%ds", k, k);
        argv[argc++] = "--weight";
        argv[argc++] = ev[k];
    }
    argv[argc] = NULL;
    memset(&e, 0, sizeof(e));
    CHECK_EQ_INT(gw_opts_parse(argc, argv, &O, &e), -EINVAL);
    CHECK(strstr(e.msg, "--weight '1=16@16s': too many events (at most 16)") != NULL);
    CHECK_EQ_INT(gw_opts_parse(argc - 2, argv, &O, &e), 0);
    CHECK_EQ_INT(O.sim.nfails, 16);
}

/* a --pcap-in directory whose capture paths do not fit was cut to another
 * file's name (4096 bytes with the '/client.pcap') */
TEST(live_takes_interfaces_a_cluster_and_a_timeline)
{
    struct bt_err e;

    REQUIRE(parse_live(&e, "--client-if", "vc", "--server-if", "vs", "--out", "d", "--members", "3",
                       "--weights", "1,2,3", "--fail", "1@2s", "--join", "4@3s:50", "--serve", "/tmp/x.sock",
                       "--duration", "2h", "--fault", "no-sync", "--json", NULL) == 0);
    CHECK(O.live);
    CHECK_EQ_STR(O.client_if, "vc");
    CHECK_EQ_STR(O.server_if, "vs");
    CHECK_EQ_INT(O.members, 4);
    CHECK_EQ_INT(O.sim.nfails, 2);
    CHECK_EQ_INT(O.sim.cluster.weight[3], 3);
    CHECK(O.sim.duration_ns == 7200000000000ULL);   /* the wall clock: no 1 h bound */
    CHECK(!O.replay);
    static const struct {
        const char *a, *b, *want;
    } bad[] = {
        {"--flows", "10", "a live run's traffic is what crosses its interfaces"},
        {"--cps", "10", "a live run's traffic is what crosses its interfaces"},
        {"--interval", "1s", "a live run's traffic"},
        {"--client-pcap", "c", "a live run reads its interfaces"},
        {"--server-pcap", "s", "a live run reads its interfaces"},
        {"--events", "e.yaml", "a live run reads its interfaces"},
        {"--max-gap", "1s", "a live run reads its interfaces"},
        {"--speed", "2", "--speed: a live run is on the wall clock"},
        {"--fail", "9@1s", "--fail 9@...: no such member (--members 4)"},
        {"--dead", "15ms", "--dead: at least two heartbeats"},
        /* added to the epoch clock: 1.7e10 s would wrap it into a run that ends at once */
        {"--duration", "1.7e10s", "--duration 17000000000 s: a live run lasts at most 366 days"},
        {"--stats-interval", "1.7e10s", "--stats-interval 17000000000 s: at most 366 days"},
    };
    for (unsigned i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        int r = parse_live(&e, "--client-if", "vc", "--server-if", "vs", "--out", "d", bad[i].a, bad[i].b, NULL);
        if (r >= 0 || !strstr(e.msg, bad[i].want))
            BT_FAIL_AT("live %s %s: %d \"%s\" lacks \"%s\"", bad[i].a, bad[i].b, r, e.msg, bad[i].want);
    }
    CHECK_EQ_INT(parse_live(&e, "--client-if", "vc", "--out", "d", NULL), -EINVAL);
    CHECK(strstr(e.msg, "live needs --client-if IF and --server-if IF") != NULL && O.usage);
    CHECK_EQ_INT(parse_live(&e, "--client-if", "vc", "--server-if", "vs", NULL), -EINVAL);
    CHECK(strstr(e.msg, "--out DIR is required") != NULL && O.usage);
    /* and the sim does not take them */
    CHECK_EQ_INT(parse(&e, "--out", "d", "--client-if", "vc", NULL), -EINVAL);
    CHECK(strstr(e.msg, "--client-if and --server-if go with baton-gateway live") != NULL);
}

TEST(pcap_in_too_long_is_refused)
{
    static char dir[4100];
    struct bt_err e;
    memset(dir, 'a', sizeof(dir) - 1);
    dir[sizeof(dir) - 1] = 0;
    char *argv[] = {"sim", "--out", "d", "--pcap-in", dir, NULL};
    memset(&e, 0, sizeof(e));
    CHECK_EQ_INT(gw_opts_parse(5, argv, &O, &e), -EINVAL);
    CHECK(strstr(e.msg, "--pcap-in: a directory path of 4099 bytes is too long (at most 4083)") != NULL);
    dir[4083] = 0;
    CHECK_EQ_INT(gw_opts_parse(5, argv, &O, &e), 0);
    CHECK_EQ_INT(strlen(O.client_pcap), 4095);
}

/* a timeline value taken was left cut in argv ("2@1.5s" came back "2"),
 * so that a second parse of the same argv refused it */
TEST(argv_left_whole)
{
    struct bt_err e;
    REQUIRE(parse(&e, "--out", "d", "--members", "5", "--fail", "2@1.5s", "--join", "6@2s:50",
                  "--weight", "1=3@1s", "--restore", "2@3s", NULL) == 0);
    CHECK_EQ_STR(bufs[6], "2@1.5s");
    CHECK_EQ_STR(bufs[8], "6@2s:50");
    CHECK_EQ_STR(bufs[10], "1=3@1s");
    CHECK_EQ_STR(bufs[12], "2@3s");
    char *argv[] = {"sim", bufs[1], bufs[2], bufs[3], bufs[4], bufs[5], bufs[6], bufs[7], bufs[8],
                    bufs[9], bufs[10], bufs[11], bufs[12], NULL};
    struct gw_opts o1 = O;
    CHECK_EQ_INT(gw_opts_parse(13, argv, &O, &e), 0);
    CHECK(memcmp(&o1, &O, sizeof(O)) == 0);
}

/* the getopt state tg_cli_parse kept (fuzz-tg_cli): none here either */
TEST(a_refused_parse_leaves_no_state)
{
    struct bt_err e;
    CHECK_EQ_INT(parse(&e, "-xy", "--out", "d", NULL), -EINVAL);
    CHECK_EQ_INT(parse(&e, "--out", "d", NULL), 0);
    CHECK_EQ_INT(parse(&e, "-hx", NULL), 1);
    CHECK_EQ_INT(parse(&e, "--out", "d", NULL), 0);
}

/* the cluster file is the base wherever it stands; the flags change it */
TEST(config_then_flags_in_any_order)
{
    char dir[] = "/tmp/bt-gwopts-XXXXXX", path[64];
    struct bt_err e;
    REQUIRE(bt_mkdtemp(dir));
    snprintf(path, sizeof(path), "%s/c.yaml", dir);
    FILE *f = fopen(path, "w");
    REQUIRE(f);
    fputs("cluster:\n  members: 2\n  mode: network\n", f);
    fclose(f);
    REQUIRE(parse(&e, "--members", "3", "--config", path, "--out", "d", NULL) == 0);
    CHECK_EQ_INT(O.sim.cluster.nmembers, 3);
    CHECK_EQ_STR(bt_dist_mode_name((enum bt_dist_mode)O.sim.cluster.mode), "network");
    REQUIRE(parse(&e, "--config", path, "--out", "d", NULL) == 0);
    CHECK_EQ_INT(O.sim.cluster.nmembers, 2);
    f = fopen(path, "w");
    REQUIRE(f);
    fputs("cluster:\n  members: 2\n  colour: blue\n", f);
    fclose(f);
    CHECK_EQ_INT(parse(&e, "--out", "d", "--config", path, NULL), -EINVAL);
    CHECK(strstr(e.msg, "c.yaml:3:3: unknown field 'colour'") != NULL);
}
