/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * tg_cli.c: option parsing (defaults, every flag, a profile overridden by
 * flags wherever they sit, every bad value refused with what to change),
 * the --stats line (JSON, keys, rates over the interval), the live status
 * line, the human summary and tg_cli_out (stats file, --json object).
 */
#include "bt_test.h"

#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <jansson.h>
#include <sys/stat.h>
#include <unistd.h>

#include "bt_err.h"
#include "tg_cli.h"

static struct tg_opts O;

static int parse(struct bt_err *e, ...)
{
    char *argv[64];
    int argc = 0;
    va_list ap;

    argv[argc++] = (char *)"baton-tgen";
    va_start(ap, e);
    for (char *a; (a = va_arg(ap, char *)) && argc < 63;)
        argv[argc++] = a;
    va_end(ap);
    argv[argc] = NULL;
    memset(e, 0, sizeof(*e));
    return tg_cli_parse(argc, argv, &O, e);
}

TEST(defaults)
{
    struct bt_err e;

    REQUIRE(parse(&e, "--synth", "tcp", NULL) == 0);
    CHECK_EQ_INT(O.seed, 1);
    CHECK(!O.json && !O.quiet && !O.wire);
    CHECK(O.stats_path == NULL && O.pcap_out == NULL && O.capture_dir == NULL);
    CHECK_EQ_INT(O.workers, 1);
    CHECK_EQ_INT(O.neigh_refresh_ns, 1000000000ull);
    CHECK_EQ_INT(O.line_bps, 10000000000ull);
    REQUIRE(parse(&e, "--synth", "tcp", "--neigh-refresh", "250ms", NULL) == 0);
    CHECK_EQ_INT(O.neigh_refresh_ns, 250000000ull);
    REQUIRE(parse(&e, "--synth", "tcp", "--neigh-refresh", "0", NULL) == 0);
    CHECK_EQ_INT(O.neigh_refresh_ns, 0);
    CHECK_EQ_INT(O.prof.ntemplates, 1);
    CHECK_NEAR(O.prof.cps, 100, 0);
    CHECK_EQ_INT(O.prof.mode, TG_MODE_OPEN);
    CHECK(parse(&e, "--help", NULL) == 1);
    /* without a template */
    CHECK(parse(&e, NULL) == -EINVAL);
    CHECK(strstr(e.msg, "no template") != NULL);
}

TEST(every_flag)
{
    struct bt_err e;
    char buf[64];

    REQUIRE(parse(&e, "--template", "a.pcap", "--synth", "udp,resp=10x2", "--flows", "2k",
                  "--cps", "1.5k", "--rate", "100k", "--bps", "1G", "--duration", "500ms",
                  "--concurrency", "64", "--mode", "closed", "--speed", "2", "--clients",
                  "10.0.0.0/16", "--clients", "fd00::/64", "--servers", "192.0.2.0/24",
                  "--client-ports", "2000-2999", "--vlan", "12", "--no-isn-offset", "--seed",
                  "77", "--json", "--stats", "s.jsonl", "--quiet", "--pcap-out", "out",
                  "--line-rate", "1G", NULL) == 0);
    struct tg_profile *p = &O.prof;
    CHECK_EQ_INT(p->ntemplates, 2);
    CHECK_EQ_STR(p->tmpl[0].pcap, "a.pcap");
    CHECK_EQ_STR(p->tmpl[1].synth, "udp,resp=10x2");
    CHECK_EQ_INT(p->flows, 2000);
    CHECK_NEAR(p->cps, 1500, 0);
    CHECK_NEAR(p->pps, 100000, 0);
    CHECK(!p->rate_max);
    CHECK_NEAR(p->bps, 1e9, 0);
    CHECK_EQ_INT(p->duration_ns, 500000000);
    CHECK_EQ_INT(p->concurrency, 64);
    CHECK_EQ_INT(p->mode, TG_MODE_CLOSED);
    CHECK_NEAR(p->speed, 2, 0);
    CHECK_EQ_INT(p->nclients, 2);
    CHECK_EQ_STR(bt_cidr_fmt(&p->clients[1], buf, sizeof(buf)), "fd00::/64");
    CHECK_EQ_INT(p->nservers, 1);
    CHECK_EQ_STR(bt_cidr_fmt(&p->servers[0], buf, sizeof(buf)), "192.0.2.0/24");
    CHECK_EQ_INT(p->cport_lo, 2000);
    CHECK_EQ_INT(p->cport_hi, 2999);
    CHECK_EQ_INT(p->vlan, 12);
    CHECK(!p->isn_offset);
    CHECK_EQ_INT(O.seed, 77);
    CHECK(O.json && O.quiet);
    CHECK_EQ_STR(O.stats_path, "s.jsonl");
    CHECK_EQ_STR(O.pcap_out, "out");
    CHECK_EQ_INT(O.line_bps, 1000000000);
    CHECK_EQ_INT(O.wire_ns, 50000);   /* closed loop offline: a 50 us wire */
    REQUIRE(parse(&e, "--synth", "tcp", "--rate", "max", "--wire", "1ms", NULL) == 0);
    CHECK(O.prof.rate_max);
    CHECK(O.wire);
    CHECK_EQ_INT(O.wire_ns, 1000000);
    REQUIRE(parse(&e, "--synth", "tcp", "--mode", "closed", "--wire", "0", NULL) == 0);
    CHECK(O.wire);
    CHECK_EQ_INT(O.wire_ns, 0);
}

/* --rto above the default ceiling raises it, as retransmit: {timeout:} does */
TEST(rto_raises_the_default_max)
{
    struct bt_err e;

    REQUIRE(parse(&e, "--synth", "tcp", "--rto", "5s", NULL) == 0);
    CHECK_EQ_INT(O.prof.rto_ns, 5000000000ull);
    CHECK_EQ_INT(O.prof.rto_max_ns, 5000000000ull);
}

TEST(profile_then_flags)
{
    char path[] = "/tmp/bt-tgcli-XXXXXX";
    struct bt_err e;
    int fd = mkstemp(path);
    REQUIRE(fd >= 0);
    const char *y = "templates: [{synth: tcp}]\ncps: 10\nflows: 5\nmode: closed\n";
    REQUIRE(write(fd, y, strlen(y)) == (ssize_t)strlen(y));
    close(fd);
    /* flags override the profile even when they come first */
    REQUIRE(parse(&e, "--cps", "20", "--profile", path, "--synth", "udp", NULL) == 0);
    CHECK_NEAR(O.prof.cps, 20, 0);
    CHECK_EQ_INT(O.prof.flows, 5);
    CHECK_EQ_INT(O.prof.mode, TG_MODE_CLOSED);
    CHECK_EQ_INT(O.prof.ntemplates, 2);
    REQUIRE(parse(&e, "--profile=", NULL) != 0);
    CHECK(parse(&e, "--profile", path, "--profile", path, NULL) == -EINVAL);
    CHECK(strstr(e.msg, "give one profile") != NULL);
    /* a profile error names the file, the line and the column */
    fd = open(path, O_WRONLY | O_TRUNC);
    REQUIRE(fd >= 0);
    y = "cps: 10\nflows: many\n";
    REQUIRE(write(fd, y, strlen(y)) == (ssize_t)strlen(y));
    close(fd);
    CHECK(parse(&e, "--profile", path, "--synth", "tcp", NULL) == -EINVAL);
    char want[64];
    snprintf(want, sizeof(want), "%s:2:8: flows", path);
    CHECK(strstr(e.msg, want) != NULL);
    unlink(path);
}

/* A flag's template refused for a pool the profile or a flag set names
 * where that pool was set (found by fuzz-tg_profile: the message named only
 * the flag, no place in the file). */
TEST(family_mismatch_names_where_the_pool_was_set)
{
    char dir[] = "/tmp/bt-tgcli-XXXXXX", path[64], want[128];
    struct bt_err e;
    FILE *f;

    REQUIRE(bt_mkdtemp(dir));
    snprintf(path, sizeof(path), "%s/p.yaml", dir);
    REQUIRE((f = fopen(path, "w")));
    fputs("cps: 10\nclients: [fd00::/64]\n", f);
    fclose(f);
    CHECK(parse(&e, "--profile", path, "--synth", "tcp", NULL) < 0);
    snprintf(want, sizeof(want), "(the client pool, set at %s:2:10, has none)", path);
    CHECK(strstr(e.msg, "--synth tcp is IPv4: give an IPv4 CIDR") != NULL);
    CHECK(strstr(e.msg, want) != NULL);
    CHECK(parse(&e, "--servers", "2001:db8::/64", "--synth", "tcp", NULL) < 0);
    CHECK(strstr(e.msg, "(the server pool, set by --servers, has none)") != NULL);
    /* a flag after the file takes the place over */
    CHECK(parse(&e, "--profile", path, "--clients", "fd01::/64", "--synth", "tcp", NULL) < 0);
    CHECK(strstr(e.msg, "(the client pool, set by --clients, has none)") != NULL);
    unlink(path);
    rmdir(dir);
}

/* A template a profile names that cannot be loaded (missing, a directory,
 * not a capture, a flow: it does not hold, a v6 synth with only v4 pools)
 * is refused with the profile's file:line:col of the entry and the field,
 * then the template's own message (tg_cli_parse's check, or tg_engine_new's
 * message completed by tg_profile_template_at); a flag's template keeps its
 * message. */
TEST(profile_template_errors_name_the_entry)
{
    static const struct { const char *yaml, *at, *rest; } bad[] = {
        {"templates:\n  - pcap: nope.pcap\n", ":2:5: pcap: ", "nope.pcap: No such file"},
        {"templates:\n  - synth: tcp\n  - pcap: sub\n", ":3:5: pcap: ", "sub: is a directory"},
        {"templates:\n  - {pcap: prof.yaml}\n", ":2:5: pcap: ", "prof.yaml: not a readable pcap"},
        {"templates:\n  - synth: udp\n  - pcap: " BT_PCAPS_DIR "/templates/dns.pcap\n"
         "  -\n    pcap: " BT_PCAPS_DIR "/templates/dns.pcap\n    flow: 3\n", ":5:5: flow: ",
         "dns.pcap: flow 3 asked, the capture holds 1 conversations (0..0)"},
        {"clients: 10.0.0.0/8\ntemplates:\n  - synth: tcp,v6\n", ":3:5: synth: ",
         "'tcp,v6' is IPv6: give an IPv6 CIDR in both the client and the server pools"},
    };
    char dir[] = "/tmp/bt-tgcli-XXXXXX", path[64], sub[64], want[400];
    struct bt_err e;
    FILE *f;

    REQUIRE(bt_mkdtemp(dir));
    snprintf(path, sizeof(path), "%s/prof.yaml", dir);
    snprintf(sub, sizeof(sub), "%s/sub", dir);
    REQUIRE(mkdir(sub, 0755) == 0);
    for (unsigned i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        REQUIRE((f = fopen(path, "w")));
        fputs(bad[i].yaml, f);
        fclose(f);
        if (parse(&e, "--profile", path, NULL) == 0) {
            struct tg_engine *g = tg_engine_new(&O.prof, 1, &e);
            if (g) {
                BT_FAIL_AT("case %u: accepted", i);
                tg_engine_free(g);
                continue;
            }
            tg_profile_template_at(&O.prof, &e);
        }
        snprintf(want, sizeof(want), "%s%s", path, bad[i].at);
        if (strncmp(e.msg, want, strlen(want)) || !strstr(e.msg, bad[i].rest))
            BT_FAIL_AT("case %u: \"%s\" is not \"%s...%s\"", i, e.msg, want, bad[i].rest);
    }
    /* --template FILE: the capture's message as it was, no profile position */
    snprintf(want, sizeof(want), "%s/absent.pcap", dir);
    REQUIRE(parse(&e, "--profile", path, "--clients", "fd00::/64", "--template", want, NULL) == 0);
    CHECK(tg_engine_new(&O.prof, 1, &e) == NULL);
    tg_profile_template_at(&O.prof, &e);
    CHECK(strncmp(e.msg, want, strlen(want)) == 0);
    rmdir(sub);
    unlink(path);
}

/* fuzz-tg_cli: getopt kept its place inside a cluster of short options a
 * refused parse stopped in ("-xy": 'y' left), and the next parse read it
 * from the old argv (a valid command line refused, or freed memory read) */
TEST(a_refused_parse_leaves_no_state)
{
    struct bt_err e;
    char a[] = "-xy";
    CHECK(parse(&e, a, "--synth", "tcp", NULL) == -EINVAL);
    memcpy(a, "-zq", 4);   /* the old argv changes as a caller's buffer may */
    CHECK(parse(&e, "--synth", "tcp", NULL) == 0);
    CHECK_EQ_STR(e.msg, "");
}

TEST(bad_flags_say_what_to_change)
{
    static const struct { const char *a, *b, *want; } bad[] = {
        {"--flows", "0", "--flows '0': give a whole number 1.."},
        {"--flows", "1.5", "give a whole number"},
        {"--flows", "lots", "give a whole number"},
        {"--cps", "0", "--cps '0': give a number 0.001.."},
        {"--cps", "-1", "give a number"},
        {"--rate", "fast", "--rate 'fast': give max or packets per second"},
        {"--rate", "0", "give max or packets per second"},
        {"--bps", "100", "--bps '100': give a number 12800.."},
        {"--duration", "0", "--duration '0': give a duration > 0"},
        {"--duration", "later", "give a duration"},
        {"--concurrency", "0", "--concurrency '0'"},
        {"--mode", "half", "--mode 'half': give open or closed"},
        {"--speed", "0", "--speed '0'"},
        {"--clients", "10.0.0.0/99", "--clients '10.0.0.0/99': not a CIDR"},
        {"--servers", "nope", "--servers 'nope': not a CIDR"},
        {"--client-ports", "5-1", "give LO-HI with 1 <= LO <= HI <= 65535"},
        {"--client-ports", "0-10", "give LO-HI"},
        {"--client-ports", "10-70000", "give LO-HI"},
        /* sscanf's %u took signs and spaces */
        {"--client-ports", "10-+20", "give LO-HI"},
        {"--client-ports", " 10-20", "give LO-HI"},
        {"--client-ports", "10--20", "give LO-HI"},
        {"--client-ports", "-10-20", "give LO-HI"},
        {"--client-ports", "99999999999-1", "give LO-HI"},
        {"--vlan", "4095", "--vlan '4095': give a whole number 1..4094"},
        {"--retries", "31", "--retries '31': give a whole number 0..30"},
        {"--seed", "-1", "--seed '-1'"},
        {"--seed", "4294967296", "--seed"},
        {"--wire", "slow", "--wire 'slow': give a delay"},
        {"--line-rate", "10", "--line-rate '10'"},
        {"--workers", "0", "--workers '0'"},
        {"--mbufs", "10", "--mbufs '10'"},
        {"--neigh-refresh", "10us", "--neigh-refresh '10us': give a period >= 1ms"},
        {"--neigh-refresh", "soon", "--neigh-refresh 'soon'"},
        {"--synth", "sctp", "must start with tcp or udp"},
        {"--template", NULL, "unknown option or missing value"},
        {"--frobnicate", NULL, "unknown option or missing value: '--frobnicate'"},
        {"stray", NULL, "unexpected argument 'stray'"},
    };
    struct bt_err e;

    for (unsigned i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        int r = bad[i].b ? parse(&e, "--synth", "tcp", bad[i].a, bad[i].b, NULL)
                         : parse(&e, "--synth", "tcp", bad[i].a, NULL);
        if (r != -EINVAL)
            BT_FAIL_AT("%s %s: %d", bad[i].a, bad[i].b ? bad[i].b : "", r);
        else if (!strstr(e.msg, bad[i].want))
            BT_FAIL_AT("%s %s: \"%s\" lacks \"%s\"", bad[i].a, bad[i].b ? bad[i].b : "", e.msg,
                       bad[i].want);
    }
    /* a CIDR cap of 8 */
    CHECK(parse(&e, "--synth", "tcp", "--clients", "1.0.0.0/8", "--clients", "2.0.0.0/8",
                "--clients", "3.0.0.0/8", "--clients", "4.0.0.0/8", "--clients", "5.0.0.0/8",
                "--clients", "6.0.0.0/8", "--clients", "7.0.0.0/8", "--clients", "8.0.0.0/8",
                "--clients", "9.0.0.0/8", NULL) == -EINVAL);
    CHECK(strstr(e.msg, "at most 8 CIDRs") != NULL);
}

static struct tg_summary sum(uint64_t k)
{
    struct tg_summary s;
    memset(&s, 0, sizeof(s));
    s.tx_packets = 1000 * k;
    s.tx_bytes = 500000 * k;
    s.rx_packets = 900 * k;
    s.rx_bytes = 450000 * k;
    s.flows_started = 10 * k;
    s.flows_completed = 9 * k;
    s.flows_failed = k;
    s.flows_active = 3;
    s.rsts_seen = 2 * k;
    s.retransmits = 4 * k;
    return s;
}

TEST(stats_line)
{
    static const char *const keys[] = {"schema", "t", "interval_s", "tx_pps", "tx_bps", "rx_pps",
                                       "rx_bps", "cps", "tx_packets", "tx_bytes", "rx_packets",
                                       "flows_started", "flows_completed", "flows_failed",
                                       "flows_active", "rsts_seen", "retransmits", NULL};
    struct tg_summary a = sum(1), b = sum(3);
    char line[1024];
    json_error_t je;

    int n = tg_cli_stats_line(&b, &a, 3.0, 2.0, line, sizeof(line));
    CHECK(n > 0 && (size_t)n < sizeof(line));
    CHECK(strchr(line, '\n') == NULL);
    json_t *j = json_loads(line, 0, &je);
    REQUIRE(j);
    CHECK_EQ_INT(json_object_size(j), sizeof(keys) / sizeof(keys[0]) - 1);
    for (unsigned i = 0; keys[i]; i++)
        if (!json_object_get(j, keys[i]))
            BT_FAIL_AT("key %s missing", keys[i]);
    CHECK_EQ_INT(json_integer_value(json_object_get(j, "schema")), 1);
    CHECK_NEAR(json_number_value(json_object_get(j, "t")), 3.0, 1e-9);
    CHECK_NEAR(json_number_value(json_object_get(j, "interval_s")), 2.0, 1e-9);
    /* rates over the interval: (3000 - 1000) / 2 s */
    CHECK_NEAR(json_number_value(json_object_get(j, "tx_pps")), 1000, 1e-9);
    CHECK_NEAR(json_number_value(json_object_get(j, "tx_bps")), 1000000.0 * 8 / 2, 1e-6);
    CHECK_NEAR(json_number_value(json_object_get(j, "rx_pps")), 900, 1e-9);
    CHECK_NEAR(json_number_value(json_object_get(j, "cps")), 10, 1e-9);
    /* totals as they stand */
    CHECK_EQ_INT(json_integer_value(json_object_get(j, "tx_packets")), 3000);
    CHECK_EQ_INT(json_integer_value(json_object_get(j, "flows_failed")), 3);
    CHECK_EQ_INT(json_integer_value(json_object_get(j, "retransmits")), 12);
    json_decref(j);
    /* since the start */
    tg_cli_stats_line(&a, NULL, 1.0, 1.0, line, sizeof(line));
    j = json_loads(line, 0, &je);
    REQUIRE(j);
    CHECK_NEAR(json_number_value(json_object_get(j, "tx_pps")), 1000, 1e-9);
    json_decref(j);
}

TEST(status_and_summary)
{
    struct tg_summary a = sum(1), b = sum(2);
    char line[256];

    tg_cli_status(&b, &a, 0.5, line, sizeof(line));
    CHECK(strstr(line, "tx 2.00kpps 8.00Mbps") != NULL);
    CHECK(strstr(line, "rx 1.80kpps") != NULL);
    CHECK(strstr(line, "active 3") != NULL);
    CHECK(strstr(line, "cps 20.00") != NULL);
    CHECK(strstr(line, "done 18 failed 2") != NULL);
    FILE *f = tmpfile();
    REQUIRE(f);
    b.duration_s = 2;
    b.tx_pps = 1000;
    b.lat_samples = 5;
    b.lat_p50_ns = 1500;
    b.lat_p99_ns = 2500;
    b.lat_max_ns = 4000;
    tg_cli_summary(f, &b);
    rewind(f);
    char text[1024] = {0};
    CHECK(fread(text, 1, sizeof(text) - 1, f) > 0);
    fclose(f);
    CHECK(strstr(text, "tgen: 2000 packets 1000000 bytes in 2.000 s") != NULL);
    CHECK(strstr(text, "flows started 20, completed 18, failed 2, active 3") != NULL);
    CHECK(strstr(text, "RSTs seen 4, retransmits 8") != NULL);
    CHECK(strstr(text, "p50 1.500 us, p99 2.500 us, max 4.000 us (5 samples)") != NULL);
}

TEST(out_stats_file_and_json)
{
    char path[] = "/tmp/bt-tgcli-XXXXXX", outp[] = "/tmp/bt-tgcli-out-XXXXXX";
    struct tg_cli_out out;
    struct bt_err e;
    int fd = mkstemp(path), ofd = mkstemp(outp);
    REQUIRE(fd >= 0 && ofd >= 0);
    close(fd);

    REQUIRE(parse(&e, "--synth", "tcp", "--quiet", "--json", "--stats", path, "--seed", "9",
                  NULL) == 0);
    REQUIRE(tg_cli_out_open(&out, &O, &e) == 0);
    struct tg_summary a = sum(1), b = sum(2), c = sum(3);
    tg_cli_out_stats(&out, &a, 1.0);
    tg_cli_out_stats(&out, &b, 2.0);
    fflush(stdout);
    int saved = dup(1);
    dup2(ofd, 1);
    json_t *extra = json_object();
    json_object_set_new(extra, "workers", json_integer(2));
    int rc = tg_cli_out_close(&out, &c, 2.5, "offline", extra);
    fflush(stdout);
    dup2(saved, 1);
    close(saved);
    CHECK_EQ_INT(rc, 0);
    /* three lines, the last one over half a second */
    FILE *f = fopen(path, "r");
    REQUIRE(f);
    char line[1024];
    unsigned n = 0;
    double last_iv = 0, last_pps = 0;
    while (fgets(line, sizeof(line), f)) {
        json_error_t je;
        json_t *j = json_loads(line, 0, &je);
        if (!j) {
            BT_FAIL_AT("line %u is no JSON: %s", n + 1, line);
            break;
        }
        last_iv = json_number_value(json_object_get(j, "interval_s"));
        last_pps = json_number_value(json_object_get(j, "tx_pps"));
        json_decref(j);
        n++;
    }
    fclose(f);
    CHECK_EQ_INT(n, 3);
    CHECK_NEAR(last_iv, 0.5, 1e-9);
    CHECK_NEAR(last_pps, 2000, 1e-6);
    /* stdout: exactly one JSON object */
    f = fopen(outp, "r");
    REQUIRE(f);
    char text[4096] = {0};
    size_t got = fread(text, 1, sizeof(text) - 1, f);
    fclose(f);
    CHECK(got > 0 && text[got - 1] == '\n' && strchr(text, '\n') == text + got - 1);
    json_error_t je;
    json_t *j = json_loads(text, 0, &je);
    REQUIRE(j);
    CHECK_EQ_STR(json_string_value(json_object_get(j, "backend")), "offline");
    CHECK_EQ_INT(json_integer_value(json_object_get(j, "seed")), 9);
    CHECK_EQ_INT(json_integer_value(json_object_get(j, "workers")), 2);
    CHECK_EQ_INT(json_integer_value(json_object_get(j, "tx_packets")), 3000);
    json_decref(j);
    unlink(path);
    unlink(outp);
    /* an unwritable stats file */
    REQUIRE(parse(&e, "--synth", "tcp", "--stats", "/proc/nope/s.jsonl", NULL) == 0);
    CHECK(tg_cli_out_open(&out, &O, &e) < 0);
    CHECK(strstr(e.msg, "--stats /proc/nope/s.jsonl") != NULL);
}
