/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * tg_profile.c: defaults, the YAML loader (every field, relative pcap
 * paths, the `traffic:` wrapper), errors at file:line:col naming the field
 * and what to change, unknown fields refused, the profile untouched on
 * failure, the flag helpers and tg_profile_check.
 */
#include "bt_test.h"

#include <errno.h>
#include <unistd.h>

#include "bt_err.h"
#include "bt_yaml.h"
#include "tg_api.h"

static struct tg_profile P, Q;

/* Loads text (named name) over the defaults into P. */
static int load(const char *name, const char *text, struct bt_err *e)
{
    struct bt_ydoc *d = bt_yaml_load_mem(name, text, strlen(text), e);
    int r;

    tg_profile_default(&P);
    if (!d)
        return -EINVAL;
    r = tg_profile_load(d, d->root, &P, e);
    bt_yaml_free(d);
    return r;
}

static bool mac_is(const uint8_t m[6], const char *want)
{
    char buf[32];
    snprintf(buf, sizeof(buf), "%02x:%02x:%02x:%02x:%02x:%02x", m[0], m[1], m[2], m[3], m[4], m[5]);
    return !strcmp(buf, want);
}

TEST(defaults)
{
    char buf[64];

    tg_profile_default(&P);
    CHECK_EQ_INT(P.ntemplates, 0);
    CHECK_EQ_INT(P.nclients, 2);
    CHECK_EQ_STR(bt_cidr_fmt(&P.clients[0], buf, sizeof(buf)), "16.0.0.0/8");
    CHECK_EQ_STR(bt_cidr_fmt(&P.clients[1], buf, sizeof(buf)), "2001:db8:16::/64");
    CHECK_EQ_STR(bt_cidr_fmt(&P.servers[0], buf, sizeof(buf)), "48.0.0.0/16");
    CHECK_EQ_STR(bt_cidr_fmt(&P.servers[1], buf, sizeof(buf)), "2001:db8:48::/64");
    CHECK_EQ_INT(P.cport_lo, 1024);
    CHECK_EQ_INT(P.cport_hi, 65535);
    CHECK_NEAR(P.cps, 100, 0);
    CHECK_NEAR(P.cps_mult, 1, 0);
    CHECK_NEAR(P.speed, 1, 0);
    CHECK_EQ_INT(P.flows, 0);
    CHECK_EQ_INT(P.mode, TG_MODE_OPEN);
    CHECK(mac_is(P.client_mac, "02:00:00:00:00:01"));
    CHECK(mac_is(P.client_dst_mac, "02:00:00:00:00:02"));
    CHECK(mac_is(P.server_mac, "02:00:00:00:00:02"));
    CHECK(mac_is(P.server_dst_mac, "02:00:00:00:00:01"));
    CHECK(P.isn_offset);
    CHECK_EQ_INT(P.rto_ns, 200000000);
    CHECK_EQ_INT(P.retries, 5);
    CHECK_EQ_INT(P.rto_max_ns, 4000000000ull);
    CHECK_EQ_INT(P.pool_pkts, 4096);
    CHECK_EQ_INT(P.nparts, 1);
    /* without a template the profile is not runnable, and says so */
    struct bt_err e;
    CHECK(tg_profile_check(&P, &e) == -EINVAL);
    CHECK(strstr(e.msg, "--template FILE, --synth SPEC or templates:") != NULL);
}

/* Every field of docs/tgen.md's example. */
static const char full[] =
    "schema: 1\n"
    "mode: closed\n"
    "templates:\n"
    "  - {pcap: http.pcap, weight: 3, client_cidrs: [10.99.0.0/24]}\n"
    "  - {pcap: /abs/dns.pcap, cps: 50, ipg: 1ms, rtt: 10ms, flows: 100, flow: 0}\n"
    "  - {synth: \"tcp,req=200,resp=1400x10\"}\n"
    "clients: [16.0.0.0/8, 2001:db8:16::/64]\n"
    "servers: 48.0.0.0/16\n"
    "client_ports: 2000-3000\n"
    "cps: 1k\n"
    "cps_multiplier: 2\n"
    "speed: 1.5\n"
    "flows: 10000\n"
    "duration: 10s\n"
    "concurrency: 5000\n"
    "pps: 1M\n"
    "bps: 10G\n"
    "rate: max\n"
    "vlan: 100\n"
    "macs: {client: \"02:00:00:00:00:0a\", client_dst: \"02:00:00:00:00:aa\",\n"
    "       server: \"02:00:00:00:00:0b\", server_dst: \"02:00:00:00:00:bb\"}\n"
    "isn_offset: false\n"
    "retransmit: {timeout: 100ms, retries: 3, max: 1s}\n"
    "pool_packets: 8192\n";

TEST(every_field)
{
    struct bt_err e = {{0}};
    char buf[64];

    REQUIRE(load("/some/dir/prof.yaml", full, &e) == 0);
    CHECK_EQ_INT(P.mode, TG_MODE_CLOSED);
    REQUIRE(P.ntemplates == 3);
    CHECK_EQ_STR(P.tmpl[0].pcap, "/some/dir/http.pcap");   /* relative to the file */
    CHECK_NEAR(P.tmpl[0].weight, 3, 0);
    CHECK_EQ_INT(P.tmpl[0].nclient_cidrs, 1);
    CHECK_EQ_STR(bt_cidr_fmt(&P.tmpl[0].client_cidrs[0], buf, sizeof(buf)), "10.99.0.0/24");
    CHECK_EQ_INT(P.tmpl[0].flow, -1);
    CHECK_EQ_STR(P.tmpl[0].origin, "/some/dir/prof.yaml:4:5");
    CHECK_EQ_STR(P.tmpl[1].pcap, "/abs/dns.pcap");
    CHECK_NEAR(P.tmpl[1].cps, 50, 0);
    CHECK_EQ_INT(P.tmpl[1].ipg_ns, 1000000);
    CHECK_EQ_INT(P.tmpl[1].rtt_ns, 10000000);
    CHECK_EQ_INT(P.tmpl[1].flows, 100);
    CHECK_EQ_INT(P.tmpl[1].flow, 0);
    CHECK_EQ_STR(P.tmpl[2].synth, "tcp,req=200,resp=1400x10");
    CHECK_EQ_STR(P.tmpl[2].pcap, "");
    CHECK_NEAR(P.tmpl[2].weight, 1, 0);
    CHECK_EQ_INT(P.nclients, 2);
    CHECK_EQ_INT(P.nservers, 1);
    CHECK_EQ_STR(bt_cidr_fmt(&P.servers[0], buf, sizeof(buf)), "48.0.0.0/16");
    CHECK_EQ_INT(P.cport_lo, 2000);
    CHECK_EQ_INT(P.cport_hi, 3000);
    CHECK_NEAR(P.cps, 1000, 0);
    CHECK_NEAR(P.cps_mult, 2, 0);
    CHECK_NEAR(P.speed, 1.5, 0);
    CHECK_EQ_INT(P.flows, 10000);
    CHECK_EQ_INT(P.duration_ns, 10000000000ull);
    CHECK_EQ_INT(P.concurrency, 5000);
    CHECK_NEAR(P.pps, 1e6, 0);
    CHECK_NEAR(P.bps, 1e10, 0);
    CHECK(P.rate_max);
    CHECK_EQ_INT(P.vlan, 100);
    CHECK(mac_is(P.client_mac, "02:00:00:00:00:0a"));
    CHECK(mac_is(P.client_dst_mac, "02:00:00:00:00:aa"));
    CHECK(mac_is(P.server_mac, "02:00:00:00:00:0b"));
    CHECK(mac_is(P.server_dst_mac, "02:00:00:00:00:bb"));
    CHECK(!P.isn_offset);
    CHECK_EQ_INT(P.rto_ns, 100000000);
    CHECK_EQ_INT(P.retries, 3);
    CHECK_EQ_INT(P.rto_max_ns, 1000000000);
    CHECK_EQ_INT(P.pool_pkts, 8192);
    CHECK(tg_profile_check(&P, &e) == 0);
    /* single values where lists are allowed; rate: template; client_ports: one port */
    REQUIRE(load("p.yaml", "templates: [{synth: udp}]\nclients: 10.0.0.0/8\nrate: template\n"
                 "client_ports: 5000\n", &e) == 0);
    CHECK_EQ_INT(P.nclients, 1);
    CHECK(!P.rate_max);
    CHECK_EQ_INT(P.cport_lo, 5000);
    CHECK_EQ_INT(P.cport_hi, 5000);
    CHECK_EQ_STR(P.tmpl[0].pcap, "");
    /* a document named without a directory keeps relative paths as given */
    REQUIRE(load("p.yaml", "templates: [{pcap: x.pcap}]\n", &e) == 0);
    CHECK_EQ_STR(P.tmpl[0].pcap, "./x.pcap");
}

TEST(files_and_the_traffic_wrapper)
{
    char dir[] = "/tmp/bt-tgprof-XXXXXX", path[128];
    struct bt_err e = {{0}};
    FILE *f;

    REQUIRE(bt_mkdtemp(dir));
    snprintf(path, sizeof(path), "%s/p.yaml", dir);
    REQUIRE((f = fopen(path, "w")));
    fputs("traffic:\n  templates: [{pcap: t.pcap}]\n  cps: 7\n", f);
    fclose(f);
    tg_profile_default(&P);
    REQUIRE(tg_profile_load_file(path, &P, &e) == 0);
    CHECK_NEAR(P.cps, 7, 0);
    char want[160];
    snprintf(want, sizeof(want), "%s/t.pcap", dir);
    CHECK_EQ_STR(P.tmpl[0].pcap, want);
    /* a profile may leave the templates to the flags */
    REQUIRE((f = fopen(path, "w")));
    fputs("cps: 9\n", f);
    fclose(f);
    tg_profile_default(&P);
    REQUIRE(tg_profile_load_file(path, &P, &e) == 0);
    CHECK_NEAR(P.cps, 9, 0);
    CHECK_EQ_INT(P.ntemplates, 0);
    /* an empty file, a list, a missing file */
    REQUIRE((f = fopen(path, "w")));
    fclose(f);
    CHECK(tg_profile_load_file(path, &P, &e) == -EINVAL);
    CHECK(strstr(e.msg, "empty profile") && strstr(e.msg, path));
    REQUIRE((f = fopen(path, "w")));
    fputs("- cps: 1\n", f);
    fclose(f);
    CHECK(tg_profile_load_file(path, &P, &e) == -EINVAL);
    CHECK(strstr(e.msg, ":1:1: expected a mapping") != NULL);
    /* traffic: and another key: that key named at its place */
    REQUIRE((f = fopen(path, "w")));
    fputs("traffic:\n  cps: 1\ncolour: blue\n", f);
    fclose(f);
    CHECK(tg_profile_load_file(path, &P, &e) == -EINVAL);
    CHECK(strstr(e.msg, ":3:1: unknown field 'colour' beside 'traffic:'") != NULL);
    unlink(path);
    CHECK(tg_profile_load_file(path, &P, &e) == -EINVAL);
    CHECK(strstr(e.msg, path) != NULL);
    rmdir(dir);
}

TEST(errors_at_line_col)
{
    static const struct { const char *yaml, *want; } bad[] = {
        {"cps: 10\nspeeed: 2\n", "p.yaml:2:1: unknown field 'speeed'"},
        {"templates:\n  - {synth: tcp, wieght: 2}\n", "p.yaml:2:18: unknown field 'wieght'"},
        {"macs: {client: \"02:00:00:00:00:01\", router: x}\n", "p.yaml:1:37: unknown field 'router'"},
        {"retransmit: {timeout: 1s, tries: 3}\n", "unknown field 'tries'"},
        {"mode: half-open\n", "p.yaml:1:7: mode: 'half-open' is neither open nor closed"},
        {"templates: {synth: tcp}\n", "p.yaml:1:12: templates: expected a list"},
        {"templates: []\n", "templates: expected a list"},
        {"templates:\n  - {pcap: a.pcap, synth: tcp}\n", "p.yaml:2:5: template: give exactly one"},
        {"templates:\n  - {weight: 2}\n", "template: give exactly one"},
        {"templates:\n  - {synth: \"tcp,resp=2000\"}\n", "p.yaml:2:13: synth: --synth"},
        {"templates:\n  - {synth: tcp, flow: 2}\n", "p.yaml:2:24: flow: only for pcap"},
        {"templates:\n  - {synth: tcp, client_cidrs: 10.0.0.0/8}\n", "client_cidrs: only for pcap"},
        {"templates:\n  - {pcap: a.pcap, flow: -1}\n", "p.yaml:2:26: flow: -1 is out of range"},
        {"templates:\n  - {pcap: a.pcap, weight: 0}\n", "p.yaml:2:28: weight"},
        {"templates:\n  - {pcap: a.pcap, ipg: fast}\n", "p.yaml:2:25: ipg: 'fast' is not a duration"},
        {"templates:\n  - {synth: tcp, rtt: 5000000h}\n", "p.yaml:2:23: rtt: at most 24h"},
        {"templates:\n  - {pcap: a.pcap, ipg: 25h}\n", "p.yaml:2:25: ipg: at most 24h"},
        {"clients: 10.0.0.0/33\n", "p.yaml:1:10: clients: '10.0.0.0/33' is not a CIDR"},
        {"clients: []\n", "clients: give 1 to 8 CIDRs"},
        {"servers: {a: 1}\n", "p.yaml:1:10: servers: expected a CIDR or a list"},
        {"client_ports: 2000-1000\n", "p.yaml:1:15: client_ports: '2000-1000': need 1 <= LO <= HI"},
        {"client_ports: 0-10\n", "need 1 <= LO"},
        {"client_ports: lots\n", "is not LO-HI"},
        {"cps: 0\n", "p.yaml:1:6: cps"},
        {"cps: fast\n", "p.yaml:1:6: cps"},
        {"cps_multiplier: 0\n", "cps_multiplier"},
        {"speed: -1\n", "speed"},
        {"flows: 0\n", "p.yaml:1:8: flows"},
        /* every entry capped below the total: it would end at 5 without a word */
        {"templates:\n  - {synth: tcp, flows: 5}\nflows: 100\n",
         "p.yaml:3:8: flows 100: the templates' own flows caps add up to 5"},
        {"duration: soon\n", "p.yaml:1:11: duration"},
        {"concurrency: 0\n", "concurrency"},
        {"pps: 0.5\n", "pps"},
        {"bps: 10\n", "bps"},
        {"bps: 5000\n", "p.yaml:1:6: a bps cap of 5000 cannot carry"},
        {"cps: 10\nbps: 5000\n", "p.yaml:2:6: a bps cap of 5000 cannot carry"},
        {"rate: fast\n", "p.yaml:1:7: rate: 'fast': max or template"},
        {"vlan: 4095\n", "p.yaml:1:7: vlan"},
        {"macs: {client: \"zz:00:00:00:00:01\"}\n", "p.yaml:1:16: macs: client: expected a MAC"},
        {"macs: {server: [1]}\n", "macs: server: expected a MAC"},
        {"isn_offset: maybe\n", "p.yaml:1:13: isn_offset"},
        {"retransmit: {timeout: 0}\n", "retransmit: timeout must be > 0"},
        {"retransmit: {retries: 31}\n", "retries"},
        {"retransmit: {timeout: 2s, max: 1s}\n", "p.yaml:1:32: retransmit max"},
        {"retransmit: {max: 1s, timeout: 2s}\n", "p.yaml:1:32: retransmit max"},
        {"retransmit:\n  max: 1s\n  timeout: 2s\n", "p.yaml:3:12: retransmit max"},
        {"retransmit:\n  timeout: 2s\n  max: 1s\n", "p.yaml:3:8: retransmit max"},
        {"retransmit: {max: 100ms}\n", "p.yaml:1:19: retransmit max (100000000 ns) is below"},
        {"pool_packets: 10\n", "p.yaml:1:15: pool_packets"},
        {"schema: 2\n", "p.yaml:1:9: schema: 2 is out of range 1..1"},
        {"cps: 1\n  bad indent: x\n", "p.yaml:"},
    };
    struct bt_err e;

    for (unsigned i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        memset(&e, 0, sizeof(e));
        tg_profile_default(&Q);
        int r = load("p.yaml", bad[i].yaml, &e);
        if (r == 0) {
            BT_FAIL_AT("accepted: %s", bad[i].yaml);
            continue;
        }
        if (!strstr(e.msg, bad[i].want))
            BT_FAIL_AT("'%s': message \"%s\" lacks \"%s\"", bad[i].yaml, e.msg, bad[i].want);
        /* untouched on failure */
        if (memcmp(&P, &Q, sizeof(P)))
            BT_FAIL_AT("'%s': the profile changed on failure", bad[i].yaml);
    }
}

/* Loads each text and wants it refused with want in the message, the
 * profile untouched. */
static void refused(const char *const (*bad)[2], unsigned n)
{
    struct bt_err e;

    for (unsigned i = 0; i < n; i++) {
        memset(&e, 0, sizeof(e));
        tg_profile_default(&Q);
        if (load("p.yaml", bad[i][0], &e) == 0) {
            BT_FAIL_AT("accepted: %s", bad[i][0]);
            continue;
        }
        if (!strstr(e.msg, bad[i][1]))
            BT_FAIL_AT("'%s': message \"%s\" lacks \"%s\"", bad[i][0], e.msg, bad[i][1]);
        if (memcmp(&P, &Q, sizeof(P)))
            BT_FAIL_AT("'%s': the profile changed on failure", bad[i][0]);
    }
}

/* duration: 0 would mean "none" (the default 1000 flows): refused at
 * file:line:col, as --duration 0s is. */
TEST(zero_duration_refused)
{
    static const char *const bad[][2] = {
        {"duration: 0s\n", "p.yaml:1:11: duration: '0s': give a duration > 0"},
        {"duration: 0\n", "p.yaml:1:11: duration: '0': give a duration > 0"},
        {"cps: 5\nduration: 0ms\n", "p.yaml:2:11: duration"},
    };
    struct bt_err e;

    refused(bad, sizeof(bad) / sizeof(bad[0]));
    CHECK(load("p.yaml", "duration: 1ns\n", &e) == 0);
    CHECK_EQ_INT(P.duration_ns, 1);
}

/* A whole-number field cut its fraction (flows: 2.7 gave 2): refused at
 * file:line:col naming the field, as --flows 1.5 is. Every whole-number
 * field of the schema (the synth spec's items too); 1.5k is 1500, a whole
 * number. */
TEST(fractions_refused)
{
    static const char *const bad[][2] = {
        {"flows: 2.7\n", "p.yaml:1:8: flows: '2.7' is not a whole number"},
        {"flows: 1.0001k\n", "p.yaml:1:8: flows: '1.0001k' is not a whole number"},
        {"templates:\n  - {synth: tcp, flows: 1.9}\n", "p.yaml:2:25: flows: '1.9' is not a whole"},
        {"concurrency: 2.5\n", "p.yaml:1:14: concurrency: '2.5' is not a whole number"},
        {"pool_packets: 100.5\n", "p.yaml:1:15: pool_packets: '100.5' is not a whole number"},
        {"vlan: 10.5\n", "p.yaml:1:7: vlan: '10.5' is not an integer"},
        {"retransmit: {retries: 2.5}\n", "p.yaml:1:23: retries: '2.5' is not an integer"},
        {"schema: 1.5\n", "p.yaml:1:9: schema: '1.5' is not an integer"},
        {"templates:\n  - {pcap: a.pcap, flow: 0.5}\n", "p.yaml:2:26: flow: '0.5' is not an integer"},
        {"client_ports: 1024.5-2000\n", "p.yaml:1:15: client_ports"},
        {"client_ports: 1024-2000.5\n", "p.yaml:1:15: client_ports"},
        {"templates:\n  - {synth: \"tcp,rounds=1.5\"}\n", "p.yaml:2:13: synth: --synth 'tcp,rounds=1.5': bad"},
        {"templates:\n  - {synth: \"tcp,resp=100x2.5\"}\n", "p.yaml:2:13: synth"},
    };
    struct bt_err e;

    refused(bad, sizeof(bad) / sizeof(bad[0]));
    /* whole numbers, with or without a suffix, still load */
    CHECK(load("p.yaml", "flows: 1.5k\nconcurrency: 2k\npool_packets: 4096.0\n"
               "templates:\n  - {synth: tcp, flows: 3}\n  - {synth: udp}\n", &e) == 0);
    CHECK_EQ_INT(P.flows, 1500);
    CHECK_EQ_INT(P.concurrency, 2000);
    CHECK_EQ_INT(P.pool_pkts, 4096);
    CHECK_EQ_INT(P.tmpl[0].flows, 3);
}

/* Like --rto: a timeout above the default ceiling (4 s) raises a ceiling the
 * profile did not set; a ceiling it did set is kept (and judged). */
TEST(retransmit_timeout_raises_an_unset_max)
{
    struct bt_err e;

    CHECK(load("p.yaml", "retransmit: {timeout: 5s}\n", &e) == 0);
    CHECK_EQ_INT(P.rto_ns, 5000000000ull);
    CHECK_EQ_INT(P.rto_max_ns, 5000000000ull);
    CHECK(load("p.yaml", "retransmit: {timeout: 1s}\n", &e) == 0);
    CHECK_EQ_INT(P.rto_max_ns, 4000000000ull);
    CHECK(load("p.yaml", "retransmit: {timeout: 5s, max: 8s}\n", &e) == 0);
    CHECK_EQ_INT(P.rto_max_ns, 8000000000ull);
    CHECK(load("p.yaml", "retransmit: {timeout: 5s, max: 4s}\n", &e) < 0);
    CHECK(strstr(e.msg, "p.yaml:1:32: retransmit max (4000000000 ns) is below the timeout") != NULL);
}

TEST(flag_helpers_and_checks)
{
    struct bt_err e;
    char longpath[TG_PATH_MAX + 8];

    tg_profile_default(&P);
    REQUIRE(tg_profile_add_pcap(&P, "a.pcap", &e) == 0);
    REQUIRE(tg_profile_add_synth(&P, "udp,resp=10x2", &e) == 0);
    CHECK_EQ_INT(P.ntemplates, 2);
    CHECK_EQ_STR(P.tmpl[0].origin, "--template a.pcap");
    CHECK_EQ_STR(P.tmpl[1].origin, "--synth udp,resp=10x2");
    CHECK_EQ_INT(P.tmpl[0].flow, -1);
    CHECK_NEAR(P.tmpl[1].weight, 1, 0);
    CHECK(tg_profile_check(&P, &e) == 0);
    CHECK(tg_profile_add_synth(&P, "sctp", &e) == -EINVAL);
    CHECK(strstr(e.msg, "tcp or udp") != NULL);
    CHECK_EQ_INT(P.ntemplates, 2);
    memset(longpath, 'a', sizeof(longpath) - 1);
    longpath[sizeof(longpath) - 1] = 0;
    CHECK(tg_profile_add_pcap(&P, longpath, &e) == -EINVAL);
    CHECK(strstr(e.msg, "longer than") != NULL);
    while (P.ntemplates < TG_MAX_TEMPLATES)
        REQUIRE(tg_profile_add_synth(&P, "tcp", &e) == 0);
    CHECK(tg_profile_add_synth(&P, "tcp", &e) == -EINVAL);
    CHECK(strstr(e.msg, "more than 64 templates") != NULL);
    CHECK(tg_profile_add_pcap(&P, "b.pcap", &e) == -EINVAL);

    /* each impossible setting is refused with what to change */
    static const struct { int field; const char *want; } bad[] = {
        {0, "cps 0 is impossible"}, {1, "cps multiplier"}, {2, "speed"}, {3, "pps/bps caps"},
        {4, "under 1 packet per second"}, {5, "give >= 12800"}, {6, "client ports"},
        {7, "at least one client and one server CIDR"}, {8, "partition 2 of 2"},
        {9, "give >= 64"}, {10, "retransmission timeout > 0"}, {11, "below the timeout"},
        {12, "exactly one of a pcap or a synth"}, {13, "weight > 0"}, {14, "cps 2e+09"},
    };
    for (unsigned i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        tg_profile_default(&P);
        tg_profile_add_synth(&P, "tcp", &e);
        switch (bad[i].field) {
        case 0: P.cps = 0; break;
        case 1: P.cps_mult = 0; break;
        case 2: P.speed = -1; break;
        case 3: P.pps = -5; break;
        case 4: P.pps = 0.5; break;
        case 5: P.bps = 8000; break;
        case 6: P.cport_lo = 10; P.cport_hi = 9; break;
        case 7: P.nservers = 0; break;
        case 8: P.part = 2; P.nparts = 2; break;
        case 9: P.pool_pkts = 10; break;
        case 10: P.mode = TG_MODE_CLOSED; P.rto_ns = 0; P.rto_max_ns = 0; break;
        case 11: P.rto_max_ns = P.rto_ns - 1; break;
        case 12: snprintf(P.tmpl[0].pcap, sizeof(P.tmpl[0].pcap), "x.pcap"); break;
        case 13: P.tmpl[0].weight = 0; break;
        case 14: P.cps = 2e9; break;
        }
        memset(&e, 0, sizeof(e));
        if (tg_profile_check(&P, &e) != -EINVAL)
            BT_FAIL_AT("case %u accepted", i);
        else if (!strstr(e.msg, bad[i].want))
            BT_FAIL_AT("case %u: \"%s\" lacks \"%s\"", i, e.msg, bad[i].want);
    }
}

/* docs/tgen.md's example of every field loads, with the values it says. */
TEST(docs_example)
{
    static char text[65536];
    struct bt_err e = {{0}};
    FILE *f = fopen(BT_TESTS_DIR "/../docs/tgen.md", "r");

    if (!f)
        SKIP("docs/tgen.md absent");
    size_t n = fread(text, 1, sizeof(text) - 1, f);
    fclose(f);
    text[n] = 0;
    char *a = strstr(text, "<!-- profile example -->\n```yaml\n");
    REQUIRE(a);
    a += strlen("<!-- profile example -->\n```yaml\n");
    char *b = strstr(a, "```");
    REQUIRE(b);
    *b = 0;
    REQUIRE(load("docs/tgen.md", a, &e) == 0);
    CHECK_EQ_INT(P.mode, TG_MODE_CLOSED);
    CHECK_EQ_INT(P.ntemplates, 3);
    CHECK_EQ_STR(P.tmpl[0].pcap, "docs/http.pcap");
    CHECK_EQ_INT(P.tmpl[1].flow, 0);
    CHECK_EQ_INT(P.tmpl[1].flows, 100);
    CHECK_NEAR(P.cps, 1000, 0);
    CHECK_EQ_INT(P.vlan, 100);
    CHECK_EQ_INT(P.duration_ns, 10000000000ull);
    CHECK_EQ_INT(P.retries, 5);
    CHECK(!P.rate_max);
    CHECK(mac_is(P.server_dst_mac, "02:00:00:00:00:01"));
    CHECK(tg_profile_check(&P, &e) == 0);
}
