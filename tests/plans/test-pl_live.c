/* SPDX-License-Identifier: BSD-3-Clause */
/* The live runner without a device: port SPECs, the checks before a run,
 * the profile handed to baton-tgen, the merge of its link captures, and
 * pl_run_live driving a stand-in baton-tgen (a shell script written here
 * that records its arguments, writes the captures and the summary it is
 * told to) through its exit statuses, the timeline and the bound. The real
 * device is tests/plans/test-live.sh (root). */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <jansson.h>

#include "bt_capset.h"
#include "bt_err.h"
#include "bt_parse.h"
#include "bt_pcap.h"
#include "bt_test.h"
#include "pl_api.h"
#include "pl_live.h"

static char dir[256];

static const char *tmpdir(void)
{
    if (!dir[0]) {
        snprintf(dir, sizeof(dir), "/tmp/test-pl_live-XXXXXX");
        if (!bt_mkdtemp(dir))
            dir[0] = '\0';
    }
    return dir;
}

static void write_file(const char *path, const char *text)
{
    FILE *f = fopen(path, "w");
    if (f) {
        fputs(text, f);
        fclose(f);
    }
}

/* A plan written under the test's directory (relative paths from there). */
static struct pl_plan *plan(const char *name, const char *text, struct bt_err *e)
{
    char path[512];
    snprintf(path, sizeof(path), "%s/%s.yaml", tmpdir(), name);
    write_file(path, text);
    return pl_plan_load(path, e);
}

#define TRAFFIC "traffic:\n  templates:\n    - synth: tcp\n  flows: 10\n  cps: 100\n"

/* Plans of TRAFFIC plus yaml that must be refused with want in the message. */
struct refusal {
    const char *yaml, *want;
};

static void refusals(const struct refusal *bad, unsigned n)
{
    for (unsigned i = 0; i < n; i++) {
        struct bt_err e = {{0}};
        char text[512];
        snprintf(text, sizeof(text), "name: b\n" TRAFFIC "%s", bad[i].yaml);
        struct pl_plan *p = plan("bad", text, &e);
        CHECK(p == NULL);
        if (!strstr(e.msg, bad[i].want))
            BT_FAIL_AT("case %u: '%s' not in '%s'", i, bad[i].want, e.msg);
        pl_plan_free(p);
    }
}

TEST(port_args)
{
    char buf[128];
    const char *a[2];

    CHECK_EQ_INT(pl_live_port_args("veth0", 0, buf, sizeof(buf), a), 0);
    CHECK_EQ_STR(a[0], "--vdev");
    CHECK_EQ_STR(a[1], "net_af_packet0,iface=veth0");
    CHECK_EQ_INT(pl_live_port_args("eth1", 1, buf, sizeof(buf), a), 0);
    CHECK_EQ_STR(a[1], "net_af_packet1,iface=eth1");
    CHECK_EQ_INT(pl_live_port_args("net_memif0,role=server,socket=/tmp/m", 0, buf, sizeof(buf), a), 0);
    CHECK_EQ_STR(a[0], "--vdev");
    CHECK_EQ_STR(a[1], "net_memif0,role=server,socket=/tmp/m");
    CHECK_EQ_INT(pl_live_port_args("0000:3b:00.1", 0, buf, sizeof(buf), a), 1);
    CHECK_EQ_STR(a[0], "-a");
    CHECK_EQ_STR(a[1], "0000:3b:00.1");
    CHECK_EQ_INT(pl_live_port_args("3b:00.0", 1, buf, sizeof(buf), a), 1);
    CHECK(pl_live_port_args("a b", 0, buf, sizeof(buf), a) < 0);
    CHECK(pl_live_port_args("", 0, buf, sizeof(buf), a) < 0);
    CHECK(pl_live_port_args("averyveryverylongname", 0, buf, sizeof(buf), a) < 0);
    CHECK(pl_live_port_args("eth0,x=1", 0, buf, sizeof(buf), a) < 0);
}

TEST(live_section)
{
    struct bt_err e = {{0}};
    char path[512];
    snprintf(path, sizeof(path), "%s/tap1.pcap", tmpdir());
    write_file(path, "");
    struct pl_plan *p = plan("sect", "name: s\n" TRAFFIC
                            "live:\n  client: veth0\n  server: net_null1\n"
                            "  eal: [--no-huge, -m, '512']\n  tgen_args: --client-ip 10.0.0.2\n"
                            "  timeout: 90s\n  capset: .\n  sgm: {1: tap1.pcap, 3: tap1.pcap}\n", &e);
    REQUIRE(p != NULL);
    CHECK(p->live.given);
    CHECK_EQ_STR(p->live.client, "veth0");
    CHECK_EQ_STR(p->live.server, "net_null1");
    CHECK_EQ_STR(p->live.eal, "--no-huge -m 512");
    CHECK_EQ_STR(p->live.tgen_args, "--client-ip 10.0.0.2");
    CHECK_EQ_INT(p->live.timeout_ns, 90000000000ULL);
    CHECK_EQ_INT(p->live.nsgm, 2);
    CHECK_EQ_INT(p->live.sgm_id[1], 3);
    CHECK(p->live.sgm_path[0] && strstr(p->live.sgm_path[0], "/tap1.pcap"));
    CHECK(p->live.capset != NULL);
    pl_plan_free(p);
    /* every field refused with its place */
    static const struct refusal bad[] = {
        {"live:\n  colour: red\n", ":8:3: unknown field 'colour' in live"},
        {"live:\n  client: 'a b'\n", ":8:11: live.client: 'a b'"},
        {"live:\n  timeout: 100ms\n", ":8:12: live.timeout: give 1s..24h"},
        {"live:\n  sgm: {0: tap1.pcap}\n", ":8:9: live.sgm"},
        {"live:\n  sgm: {1: tap1.pcap, 01: tap1.pcap}\n", "member 1 named twice"},
        {"live:\n  sgm: {1: none.pcap}\n", "live.sgm: cannot read"},
        {"live:\n  sgm: [a]\n", "live.sgm: expected a mapping"},
        {"live:\n  capset: nowhere\n", "live.capset: cannot read"},
        {"live:\n  eal: {a: b}\n", "live.eal: expected a string"},
        {"live:\n  tgen_args: ['--x y']\n", "one argument an item"},
    };
    refusals(bad, sizeof(bad) / sizeof(bad[0]));
}

TEST(check_refusals)
{
    struct bt_err e = {{0}};
    struct pl_live_opts o = {0};
    struct pl_plan *p = plan("ev", "name: ev\n" TRAFFIC "events:\n  - at: 1s\n    run: 'true'\n"
                            "  - at: 2s\n    set_weight: 1\n    weight: 5\n", &e);
    REQUIRE(p != NULL);
    o.client = "lo";
    o.server = "net_null0";
    CHECK(pl_live_check(p, &o, &e) == -EINVAL);
    CHECK(strstr(e.msg, "ev.yaml:10:5: events: 'set_weight' at 2.000 s: member events need a live "
                        "cluster; use run: hooks to act on an external device") != NULL);
    p = pl_plan_free(p);
    p = plan("legacy", "name: l\ntraffic:\n  flows: 10\n", &e);
    REQUIRE(p != NULL);
    CHECK(pl_live_check(p, &o, &e) == -EINVAL && strstr(e.msg, "needs tgen traffic"));
    p = pl_plan_free(p);
    p = plan("ok", "name: ok\n" TRAFFIC "live:\n  client: lo\n", &e);
    REQUIRE(p != NULL);
    struct pl_live_opts none = {0};
    CHECK(pl_live_check(p, &none, &e) == -EINVAL && strstr(e.msg, "no server port"));
    none.server = "net_null0";
    CHECK_EQ_INT(pl_live_check(p, &none, &e), 0);   /* client from the plan */
    none.client = "bt-no-such9";
    CHECK(pl_live_check(p, &none, &e) == -EINVAL && strstr(e.msg, "no such network interface"));
    none.client = "0000:3b:00.1";
    none.server = "0000:3b:00.0";
    CHECK(pl_live_check(p, &none, &e) == -EINVAL && strstr(e.msg, "sorts after the server port"));
    none.server = "0000:3c:00.0";
    CHECK_EQ_INT(pl_live_check(p, &none, &e), 0);
    none.client = "net_null0";
    CHECK(pl_live_check(p, &none, &e) == -EINVAL && strstr(e.msg, "server port is PCI"));
    none.server = "net_null0";
    CHECK(pl_live_check(p, &none, &e) == -EINVAL && strstr(e.msg, "both 'net_null0'"));
    pl_plan_free(p);
}

TEST(profile_written)
{
    struct bt_err e = {{0}};
    char path[512], tpl[512];
    /* a pcap template relative to the plan: absolute in the profile */
    snprintf(tpl, sizeof(tpl), "%s/../pcaps/templates/http.pcap", BT_TESTS_DIR);
    if (access(tpl, R_OK) < 0)
        SKIP("no %s", tpl);
    char text[2048], link[600];
    snprintf(link, sizeof(link), "%s/http.pcap", tmpdir());
    CHECK(symlink(tpl, link) == 0 || errno == EEXIST);
    snprintf(text, sizeof(text), "name: prof\ntraffic:\n  mode: open\n  templates:\n"
             "    - synth: \"tcp,req=300,resp=1400x3\"\n      weight: 2\n    - pcap: http.pcap\n"
             "  cps: 1.5k\n  flows: 300\n  retransmit: {timeout: 20ms, retries: 2}\n");
    struct pl_plan *p = plan("prof", text, &e);
    REQUIRE(p != NULL);
    snprintf(path, sizeof(path), "%s/profile.json", tmpdir());
    CHECK_EQ_INT(pl_live_write_profile(p, path, &e), 0);
    struct tg_profile back;
    tg_profile_default(&back);
    if (tg_profile_load_file(path, &back, &e) < 0)
        BT_FAIL_AT("the profile does not load back: %s", e.msg);
    CHECK_EQ_INT(back.ntemplates, 2);
    CHECK(back.cps == 1500);
    CHECK_EQ_INT(back.flows, 300);
    CHECK_EQ_INT(back.rto_ns, 20000000);
    CHECK_EQ_INT(back.retries, 2);
    CHECK_EQ_INT(back.mode, TG_MODE_OPEN);
    CHECK_EQ_INT(back.tmpl[0].weight, 2);
    json_t *j = json_load_file(path, 0, NULL);
    const char *pc = json_string_value(json_object_get(json_array_get(json_object_get(j, "templates"), 1), "pcap"));
    CHECK_EQ_STR(pc, link);                        /* relative to the plan: made absolute */
    json_decref(j);
    pl_plan_free(p);
}

/* ---- captures ---- */

/* An Ethernet/IPv4/TCP frame from a to b (last octets), or an ARP frame. */
static unsigned frame(uint8_t *f, int a, int b, uint8_t flags, bool arp)
{
    memset(f, 0, 60);
    f[0] = 2; f[5] = (uint8_t)b; f[6] = 2; f[11] = (uint8_t)a;
    if (arp) {
        f[12] = 0x08; f[13] = 0x06;
        return 42;
    }
    f[12] = 0x08; f[13] = 0x00;
    uint8_t *ip = f + 14;
    ip[0] = 0x45; ip[3] = 40; ip[8] = 64; ip[9] = 6;
    ip[12] = 10; ip[15] = (uint8_t)a; ip[16] = 10; ip[19] = (uint8_t)b;
    uint8_t *tcp = ip + 20;
    tcp[0] = a == 1 ? 0x9c : 0x00; tcp[1] = a == 1 ? 0x40 : 80;
    tcp[2] = a == 1 ? 0x00 : 0x9c; tcp[3] = a == 1 ? 80 : 0x40;
    tcp[12] = 0x50; tcp[13] = flags; tcp[15] = 0xff;
    return 54;
}

struct rec { uint64_t ts; int a, b; uint8_t flags; bool arp; };

static void write_pcap(const char *path, const struct rec *r, unsigned n)
{
    struct bt_err e = {{0}};
    struct bt_pcap_writer *w = bt_pcap_writer_open(path, BT_LINK_ETHERNET, 65535, &e);
    uint8_t f[64];
    for (unsigned i = 0; w && i < n; i++) {
        unsigned len = frame(f, r[i].a, r[i].b, r[i].flags, r[i].arp);
        bt_pcap_write(w, r[i].ts, f, len, len);
    }
    bt_pcap_writer_close(w);
}

/* A SYN / SYN-ACK through a device: what tgen's --capture would hold. */
static void captures(const char *d, bool server_gets_nothing)
{
    char path[600];
    const struct rec c_tx[] = {{1000, 1, 2, 0x02, false}, {5000, 1, 2, 0x10, false}};
    const struct rec c_rx[] = {{900, 9, 1, 0, true}, {4000, 2, 1, 0x12, false}};
    const struct rec s_rx[] = {{2000, 1, 2, 0x02, false}, {6000, 1, 2, 0x10, false}};
    const struct rec s_tx[] = {{3000, 2, 1, 0x12, false}};
    snprintf(path, sizeof(path), "%s/port0-tx.pcap", d);
    write_pcap(path, c_tx, 2);
    snprintf(path, sizeof(path), "%s/port0-rx.pcap", d);
    write_pcap(path, c_rx, server_gets_nothing ? 1 : 2);
    snprintf(path, sizeof(path), "%s/port1-rx.pcap", d);
    write_pcap(path, s_rx, server_gets_nothing ? 0 : 2);
    snprintf(path, sizeof(path), "%s/port1-tx.pcap", d);
    write_pcap(path, s_tx, server_gets_nothing ? 0 : 1);
}

TEST(merge_link)
{
    struct bt_err e = {{0}};
    char d[300], out[400];
    uint64_t foreign = 99;
    snprintf(d, sizeof(d), "%s/cap", tmpdir());
    mkdir(d, 0777);
    captures(d, false);
    snprintf(out, sizeof(out), "%s/client.pcap", d);
    REQUIRE(pl_live_merge_link(d, 0, out, &foreign, &e) == 0);
    CHECK_EQ_INT(foreign, 1);                      /* the ARP frame */
    struct bt_pcap_reader *r = bt_pcap_open(out, &e);
    REQUIRE(r != NULL);
    struct bt_pcap_rec rec;
    uint64_t want[] = {1000, 4000, 5000}, n = 0;
    while (bt_pcap_next(r, &rec, &e) == 1) {
        if (n < 3)
            CHECK_EQ_INT(rec.ts_ns, want[n]);      /* both directions, by time */
        n++;
    }
    CHECK_EQ_INT(n, 3);
    bt_pcap_close(r);
    /* a port whose captures are missing is an error that names the file */
    CHECK(pl_live_merge_link(d, 2, out, &foreign, &e) < 0);
    CHECK(strstr(e.msg, "port2-tx.pcap") != NULL);
}

/* ---- pl_run_live with a stand-in baton-tgen ---- */

static const char fake_tgen[] =
    "#!/bin/sh\n"
    "# records its arguments; --capture DIR, --stats FILE; FAKE_* from the test\n"
    "echo \"$@\" > \"$FAKE_ARGS\"\n"
    "cap=; stats=\n"
    "while [ $# -gt 0 ]; do case $1 in --capture) cap=$2; shift;; --stats) stats=$2; shift;; --profile) prof=$2; shift;; esac; shift; done\n"
    "# a device of FAKE_CAPACITY: a step's load above it fails three flows\n"
    "if [ -n \"$FAKE_CAPACITY\" ]; then\n"
    "  load=$(sed -n 's/^ *\"\\(cps\\|flows\\)\": \"\\([0-9.]*\\)\".*/\\2/p' \"$prof\" | tail -1)\n"
    "  FAKE_FAILED=$(awk -v l=\"$load\" -v c=\"$FAKE_CAPACITY\" 'BEGIN { print (l + 0 > c + 0) ? 3 : 0 }')\n"
    "  echo \"$load\" >> \"$FAKE_ARGS.loads\"\n"
    "fi\n"
    "echo run >> \"$FAKE_ARGS.runs\"\n"
    "[ \"$FAKE_EXIT\" = 2 ] && { echo 'baton-tgen: bad EAL arguments' >&2; exit 2; }\n"
    "[ \"$FAKE_EXIT\" = once2 ] && [ $(wc -l < \"$FAKE_ARGS.runs\") = 1 ] && { echo 'baton-tgen: 1 DPDK port' >&2; exit 2; }\n"
    "cp \"$FAKE_CAP\"/port*.pcap \"$cap\"/\n"
    "i=0; while [ $i -lt \"${FAKE_PRE:-0}\" ]; do sleep 0.1; i=$((i + 1)); done   # EAL set-up\n"
    "interrupted=false\n"
    "trap 'interrupted=true' INT\n"
    ": > \"$stats\"\n"
    "i=0; while [ $i -lt \"$FAKE_SLEEP\" ] && [ $interrupted = false ]; do sleep 0.1; i=$((i + 1)); done\n"
    "echo '{\"schema\":1,\"t\":1.0}' >> \"$stats\"\n"
    "echo \"{\\\"schema\\\":1,\\\"backend\\\":\\\"dpdk\\\",\\\"flows_started\\\":${FAKE_STARTED:-10},\\\"flows_completed\\\":$((${FAKE_STARTED:-10} - FAKE_FAILED)),"
    "\\\"flows_failed\\\":$FAKE_FAILED,\\\"completed_cps\\\":100.0,\\\"cps\\\":100.0,\\\"rsts_seen\\\":0,"
    "\\\"lat_samples\\\":20,\\\"lat_p99_ns\\\":150000,\\\"interrupted\\\":$interrupted$FAKE_EXTRA}\"\n"
    "# SIGINT to the runner once, right after it reaped this run: while it judges it\n"
    "[ -n \"$FAKE_SIGNAL_AFTER\" ] && [ ! -e \"$FAKE_ARGS.signalled\" ] && { : > \"$FAKE_ARGS.signalled\";"
    " (while kill -0 $$ 2>/dev/null; do :; done; kill -INT $PPID) & }\n"
    "[ \"$FAKE_FAILED\" -gt 0 ] && exit 1\n"
    "exit 0\n";

struct fake {
    char tgen[400], args[400], cap[400], out[400];
};

static void fake_setup(struct fake *f, const char *name, int exitc, int failed, int sleep_ds,
                       bool server_gets_nothing)
{
    char v[32];
    snprintf(f->tgen, sizeof(f->tgen), "%s/baton-tgen", tmpdir());
    write_file(f->tgen, fake_tgen);
    chmod(f->tgen, 0755);
    snprintf(f->args, sizeof(f->args), "%s/%s.args", tmpdir(), name);
    {
        char runs[500];
        snprintf(runs, sizeof(runs), "%s.runs", f->args);
        unlink(runs);
    }
    snprintf(f->cap, sizeof(f->cap), "%s/%s-cap", tmpdir(), name);
    snprintf(f->out, sizeof(f->out), "%s/out-%s", tmpdir(), name);
    mkdir(f->cap, 0777);
    captures(f->cap, server_gets_nothing);
    setenv("FAKE_ARGS", f->args, 1);
    setenv("FAKE_CAP", f->cap, 1);
    snprintf(v, sizeof(v), "%d", exitc);
    setenv("FAKE_EXIT", v, 1);
    snprintf(v, sizeof(v), "%d", failed);
    setenv("FAKE_FAILED", v, 1);
    snprintf(v, sizeof(v), "%d", sleep_ds);
    setenv("FAKE_SLEEP", v, 1);
    unsetenv("FAKE_STARTED");      /* flows_started (10) */
    unsetenv("FAKE_SIGNAL_AFTER"); /* SIGINT to the runner once, after the run it reaped */
    {
        char sig[500];
        snprintf(sig, sizeof(sig), "%s.signalled", f->args);
        unlink(sig);
    }
    unsetenv("FAKE_EXTRA");        /* more of the summary: ',"capture_dropped":7' */
}

static const struct pl_check *check_of(const struct pl_result *r, const char *name)
{
    for (unsigned k = 0; k < r->nchecks; k++)
        if (!strcmp(r->check[k].name, name))
            return &r->check[k];
    return NULL;
}

static char *slurp(const char *path)
{
    static char buf[4096];
    FILE *f = fopen(path, "r");
    size_t n = f ? fread(buf, 1, sizeof(buf) - 1, f) : 0;
    buf[n] = '\0';
    if (f)
        fclose(f);
    return buf;
}

/* How often the stand-in ran since fake_setup. */
static int runs_of(const struct fake *f)
{
    char path[500], line[16];
    int n = 0;
    snprintf(path, sizeof(path), "%s.runs", f->args);
    FILE *fp = fopen(path, "r");
    while (fp && fgets(line, sizeof(line), fp))
        n++;
    if (fp)
        fclose(fp);
    return n;
}

TEST(run_healthy_and_broken)
{
    struct bt_err e = {{0}};
    struct fake f;
    struct pl_result res;
    struct pl_live_opts o = {.client = "lo", .server = "net_null0"};
    char hook[600], text[1024];
    snprintf(hook, sizeof(hook), "%s/hook.t", tmpdir());
    snprintf(text, sizeof(text), "name: h\nseed: 5\n" TRAFFIC "events:\n  - at: 200ms\n"
             "    run: echo $BATON_T $BATON_MODE > %s\n    status: 0\n"
             "expect:\n  loss_pct: 0\n  failed_flows: 0\n  cps: 50\n  latency_p99: 1ms\n", hook);
    struct pl_plan *p = plan("h", text, &e);
    REQUIRE(p != NULL);
    fake_setup(&f, "h", 0, 0, 5, false);
    o.tgen = f.tgen;
    REQUIRE(pl_run_live(p, &o, f.out, &res, &e) == 0);
    CHECK(res.pass);
    CHECK(res.live);
    CHECK_EQ_INT(res.tgen_exit, 0);
    CHECK_EQ_INT(res.foreign[0], 1);
    CHECK_EQ_INT(res.co.tg.flows_completed, 10);
    const struct pl_check *c = check_of(&res, "affinity");
    CHECK(c && c->not_applicable && !c->judged && strstr(c->message, "not applicable"));
    CHECK((c = check_of(&res, "loss")) && c->judged && c->pass);
    CHECK((c = check_of(&res, "failed_flows")) && c->judged && c->pass);
    CHECK((c = check_of(&res, "cps")) && c->judged && c->pass);
    CHECK((c = check_of(&res, "latency")) && c->judged && c->pass);
    CHECK((c = check_of(&res, "run")) && c->judged && c->pass);
    /* the arguments baton-tgen got */
    const char *args = slurp(f.args);
    CHECK(strstr(args, "--no-huge -m 512 --no-pci --file-prefix=baton-plan-") != NULL);
    CHECK(strstr(args, "--vdev net_af_packet0,iface=lo --vdev net_null0 -- --profile ") != NULL);
    CHECK(strstr(args, "--mode closed --seed 5 --capture ") != NULL);
    CHECK(strstr(args, "--json --quiet") != NULL);
    /* the hook ran at 0.2 s of the traffic (the --stats file's creation), live */
    double t = 0;
    char mode[16] = "";
    CHECK(sscanf(slurp(hook), "%lf %15s", &t, mode) == 2);
    CHECK(t >= 0.2 && t < 0.45);
    CHECK_EQ_STR(mode, "live");
    CHECK(json_is_true(json_object_get(json_object_get((json_t *)res.verify_json, "affinity"), "applicable")) == 0);
    pl_result_clear(&res);

    /* the server side got nothing, three flows failed: loss and failed_flows fail */
    fake_setup(&f, "b", 0, 3, 2, true);
    REQUIRE(pl_run_live(p, &o, f.out, &res, &e) == 0);
    CHECK(!res.pass);
    CHECK_EQ_INT(res.tgen_exit, 1);
    CHECK((c = check_of(&res, "loss")) && c->judged && !c->pass);
    CHECK((c = check_of(&res, "failed_flows")) && c->judged && !c->pass && strstr(c->message, "saw 3 of 10"));
    CHECK((c = check_of(&res, "rsts")) && c->pass);
    pl_result_clear(&res);

    /* baton-tgen refusing the run (exit 2) before its traffic starts is
     * tried once more (a new process), then exit 2 for the plan */
    fake_setup(&f, "r", 2, 0, 1, false);
    CHECK(pl_run_live(p, &o, f.out, &res, &e) == -EINVAL);
    CHECK(strstr(e.msg, "baton-tgen refused the run (exit 2") != NULL);
    CHECK_EQ_INT(runs_of(&f), 2);
    pl_result_clear(&res);
    /* refusing once only (a port's set-up that failed): the second runs */
    fake_setup(&f, "r1", 0, 0, 5, false);
    setenv("FAKE_EXIT", "once2", 1);
    REQUIRE(pl_run_live(p, &o, f.out, &res, &e) == 0);
    CHECK_EQ_INT(runs_of(&f), 2);
    CHECK(res.pass);
    CHECK(json_is_true(json_object_get((json_t *)res.tgen_json, "setup_retried")));
    CHECK((c = check_of(&res, "run")) && c->pass && !strstr(c->message, "not run"));
    pl_result_clear(&res);
    /* a healthy run is not retried */
    fake_setup(&f, "r0", 0, 0, 5, false);
    REQUIRE(pl_run_live(p, &o, f.out, &res, &e) == 0);
    CHECK_EQ_INT(runs_of(&f), 1);
    CHECK(json_object_get((json_t *)res.tgen_json, "setup_retried") == NULL);
    pl_result_clear(&res);
    pl_plan_free(p);
}

TEST(run_bounded)
{
    struct bt_err e = {{0}};
    struct fake f;
    struct pl_result res;
    struct pl_live_opts o = {.client = "lo", .server = "net_null0", .eal = "-l 0 --file-prefix x"};
    struct pl_plan *p = plan("bd", "name: bd\n" TRAFFIC "events:\n  - at: 100ms\n    run: sleep 20\n"
                             "    timeout: 200ms\n  - at: 30s\n    run: 'true'\n"
                             "live:\n  timeout: 1s\n  tgen_args: [--client-ip, 10.0.0.2]\n", &e);
    REQUIRE(p != NULL);
    fake_setup(&f, "bd", 0, 0, 300, false);        /* would run 30 s */
    o.tgen = f.tgen;
    double t0 = (double)time(NULL);
    REQUIRE(pl_run_live(p, &o, f.out, &res, &e) == 0);
    CHECK((double)time(NULL) - t0 < 10);
    CHECK(json_is_true(json_object_get((json_t *)res.tgen_json, "stopped_by_bound")));
    CHECK(json_is_true(json_object_get((json_t *)res.tgen_json, "interrupted")));
    const struct pl_check *c = check_of(&res, "run");
    CHECK(c && c->judged && !c->pass);
    CHECK(c && strstr(c->message, "timed out after 0.200 s (killed)"));
    CHECK(c && strstr(c->message, "not run: the run's bound (live.timeout) came first"));
    CHECK(!res.pass);
    const char *args = slurp(f.args);
    /* --eal as given (its own file prefix), live.tgen_args after the options */
    CHECK(strstr(args, "-l 0 --file-prefix x --vdev") == args);
    CHECK(strstr(args, "--quiet --client-ip 10.0.0.2") != NULL);
    pl_result_clear(&res);
    pl_plan_free(p);
}

TEST(run_interrupted)
{
    struct bt_err e = {{0}};
    struct fake f;
    struct pl_result res;
    struct pl_live_opts o = {.client = "lo", .server = "net_null0"};
    /* the first hook signals the runner (its parent), as Ctrl-C would; the
     * second one is then not started */
    struct pl_plan *p = plan("intr", "name: intr\n" TRAFFIC "events:\n  - at: 100ms\n"
                             "    run: kill -INT $PPID\n  - at: 20s\n    run: 'true'\n", &e);
    REQUIRE(p != NULL);
    fake_setup(&f, "intr", 0, 0, 300, false);      /* would run 30 s */
    o.tgen = f.tgen;
    double t0 = (double)time(NULL);
    REQUIRE(pl_run_live(p, &o, f.out, &res, &e) == 0);
    CHECK((double)time(NULL) - t0 < 10);
    CHECK(res.interrupted);
    CHECK(!res.pass);
    /* baton-tgen got the signal once: it drained and summarized */
    CHECK(json_is_true(json_object_get((json_t *)res.tgen_json, "interrupted")));
    CHECK(json_is_true(json_object_get((json_t *)res.tgen_json, "stopped_by_signal")));
    const struct pl_check *c = check_of(&res, "run");
    CHECK(c && strstr(c->message, "not run: interrupted"));
    pl_result_clear(&res);
    pl_plan_free(p);
    /* the runner's own handling is over: SIGINT is the default again */
    struct sigaction sa;
    sigaction(SIGINT, NULL, &sa);
    CHECK(sa.sa_handler == SIG_DFL);
}

TEST(run_lab_capset)
{
    struct bt_err e = {{0}};
    struct fake f;
    struct pl_result res;
    struct pl_live_opts o = {.client = "lo", .server = "net_null0"};
    char lab[400], path[500];
    /* a lab tap's capture set: member 1 saw the flow both ways, member 2 nothing */
    snprintf(lab, sizeof(lab), "%s/lab", tmpdir());
    mkdir(lab, 0777);
    const struct rec seen[] = {{1500, 1, 2, 0x02, false}, {3500, 2, 1, 0x12, false},
                               {5500, 1, 2, 0x10, false}};
    snprintf(path, sizeof(path), "%s/sgm-1.pcap", lab);
    write_pcap(path, seen, 3);
    snprintf(path, sizeof(path), "%s/sgm-2.pcap", lab);
    write_pcap(path, seen, 0);
    struct bt_capset_meta m;
    memset(&m, 0, sizeof(m));
    m.schema = BT_CAPSET_SCHEMA;
    m.nmembers = 2;
    m.ids[0] = 1;
    m.ids[1] = 2;
    m.weights[0] = m.weights[1] = 1;
    snprintf(m.mode, sizeof(m.mode), "general");
    REQUIRE(bt_capset_write_meta(lab, &m, &e) == 0);
    struct pl_plan *p = plan("lab", "name: lab\n" TRAFFIC "expect:\n  loss_pct: 0\nlive:\n  capset: lab\n", &e);
    REQUIRE(p != NULL);
    fake_setup(&f, "lab", 0, 0, 2, false);
    o.tgen = f.tgen;
    REQUIRE(pl_run_live(p, &o, f.out, &res, &e) == 0);
    CHECK_EQ_INT(res.member_captures, 1);
    for (unsigned k = 0; k < 4; k++) {
        const struct pl_check *c = check_of(&res, vf_check_names[k]);
        CHECK(c && !c->not_applicable);
    }
    const struct pl_check *c = check_of(&res, "symmetry");
    CHECK(c && c->judged && c->pass);
    CHECK((c = check_of(&res, "loss")) && c->judged && c->pass);
    CHECK(res.pass);
    /* verify's report: the lab's two members, the checks as verify judged them */
    json_t *vj = (json_t *)res.verify_json;
    CHECK_EQ_INT(json_integer_value(json_object_get(vj, "flows")), 1);
    CHECK(json_object_get(json_object_get(vj, "affinity"), "applicable") == NULL);
    pl_result_clear(&res);
    pl_plan_free(p);
}

TEST(run_bound_waits_for_start)
{
    struct bt_err e = {{0}};
    struct fake f;
    struct pl_result res;
    struct pl_live_opts o = {.client = "lo", .server = "net_null0"};
    /* the bound (1 s) comes while baton-tgen still sets up (1.5 s, no
     * signal handler yet): the runner waits for the traffic to start, then
     * stops it by SIGINT, which it drains */
    struct pl_plan *p = plan("slow", "name: slow\n" TRAFFIC "live:\n  timeout: 1s\n", &e);
    REQUIRE(p != NULL);
    fake_setup(&f, "slow", 0, 0, 300, false);
    setenv("FAKE_PRE", "15", 1);
    o.tgen = f.tgen;
    int r = pl_run_live(p, &o, f.out, &res, &e);
    unsetenv("FAKE_PRE");
    if (r < 0)
        BT_FAIL_AT("pl_run_live: %s", e.msg);
    CHECK(r == 0 && json_is_true(json_object_get((json_t *)res.tgen_json, "stopped_by_bound")));
    CHECK(r == 0 && res.start_s >= 1.4);
    pl_result_clear(&res);
    pl_plan_free(p);
}

/* ---- ramp: live ---- */

#define RAMP_TRAFFIC "traffic:\n  templates:\n    - synth: tcp\n      cps: 7\n  cps: 100\n  flows: 10\n"

TEST(ramp_loader_and_step_profile)
{
    struct bt_err e = {{0}};
    struct pl_live_opts o = {.client = "lo", .server = "net_null0"};
    char path[512];
    struct pl_plan *p = plan("rl", "name: rl\n" RAMP_TRAFFIC "ramp: {find: cps, from: 100, to: 1k, "
                             "trial: 300ms}\nlive:\n  capacity: 2.5k\n", &e);
    REQUIRE(p != NULL);
    CHECK(p->live.capacity == 2500);
    CHECK_EQ_INT(pl_live_check(p, &o, &e), 0);     /* a ramp runs live now */
    /* a cps step: the load for ramp.trial, the templates sharing it */
    snprintf(path, sizeof(path), "%s/step.json", tmpdir());
    CHECK_EQ_INT(pl_live_write_step_profile(p, 437.5, path, &e), 0);
    struct tg_profile back;
    tg_profile_default(&back);
    if (tg_profile_load_file(path, &back, &e) < 0)
        BT_FAIL_AT("the step's profile does not load back: %s", e.msg);
    CHECK(back.cps == 437.5);
    CHECK_EQ_INT(back.duration_ns, 300000000);
    CHECK_EQ_INT(back.flows, 0);
    CHECK(back.tmpl[0].cps == 0);
    pl_plan_free(p);
    /* a concurrent step: load flows at the profile's own rate */
    p = plan("rc", "name: rc\n" RAMP_TRAFFIC "ramp: {find: concurrent, from: 100, to: 1k}\n", &e);
    REQUIRE(p != NULL);
    CHECK_EQ_INT(pl_live_write_step_profile(p, 640, path, &e), 0);
    tg_profile_default(&back);
    REQUIRE(tg_profile_load_file(path, &back, &e) == 0);
    CHECK_EQ_INT(back.flows, 640);
    CHECK(back.cps == 100);
    CHECK_EQ_INT(back.duration_ns, 0);
    CHECK(back.tmpl[0].cps == 0);
    pl_plan_free(p);
    /* member captures of one run do not fit a search's steps */
    snprintf(path, sizeof(path), "%s/tap2.pcap", tmpdir());
    write_file(path, "");
    p = plan("rm", "name: rm\n" RAMP_TRAFFIC "ramp: {find: cps, from: 100, to: 1k}\n"
             "live:\n  sgm: {1: tap2.pcap}\n", &e);
    REQUIRE(p != NULL);
    CHECK(pl_live_check(p, &o, &e) == -EINVAL);
    CHECK(strstr(e.msg, "rm.yaml:10:3: live: a ramp's steps are judged on the links alone") != NULL);
    pl_plan_free(p);
    /* no ramp: no step */
    p = plan("nr", "name: nr\n" TRAFFIC, &e);
    REQUIRE(p != NULL);
    CHECK(pl_live_write_step_profile(p, 5, path, &e) == -EINVAL);
    pl_plan_free(p);
    /* live.capacity goes with a ramp, and is a load */
    static const struct refusal bad[] = {
        {"live:\n  capacity: 5k\n", ":8:13: live.capacity: goes with a ramp:"},
        {"ramp: {find: cps, from: 1, to: 2}\nlive:\n  capacity: fast\n", ":9:13: live.capacity"},
        {"ramp: {find: cps, from: 1, to: 2}\nlive:\n  capacity: 0\n", ":9:13: live.capacity"},
    };
    refusals(bad, sizeof(bad) / sizeof(bad[0]));
}

/* The loads the stand-in was run at, in order. */
static unsigned loads_of(const struct fake *f, double *out, unsigned max)
{
    char path[500];
    unsigned n = 0;
    snprintf(path, sizeof(path), "%s.loads", f->args);
    FILE *fp = fopen(path, "r");
    while (fp && n < max && fscanf(fp, "%lf", &out[n]) == 1)
        n++;
    if (fp)
        fclose(fp);
    unlink(path);
    return n;
}

TEST(ramp_search)
{
    struct bt_err e = {{0}};
    struct fake f;
    struct pl_result res;
    struct pl_live_opts o = {.client = "lo", .server = "net_null0"};
    double loads[16];
    const struct pl_check *c;
    char text[1024];
    /* a device of 600 conn/s, searched from 100 to 1000 in 5 bisections:
     * 550 carried, 775, 662.5 and 606.25 not, 578.125 carried */
    static const double want[] = {100, 1000, 550, 775, 662.5, 606.25, 578.125};
    snprintf(text, sizeof(text), "name: rs\n" RAMP_TRAFFIC "ramp: {find: cps, from: 100, to: 1000, "
             "trial: 200ms, steps: 5, tolerance: 10}\nlive:\n  capacity: 600\n");
    struct pl_plan *p = plan("rs", text, &e);
    REQUIRE(p != NULL);
    fake_setup(&f, "rs", 0, 0, 0, false);
    setenv("FAKE_CAPACITY", "600", 1);
    o.tgen = f.tgen;
    unlink(strcat(strcpy(text, f.args), ".loads"));
    REQUIRE(pl_run_live(p, &o, f.out, &res, &e) == 0);
    CHECK_EQ_INT(loads_of(&f, loads, 16), 7);
    for (unsigned i = 0; i < 7; i++)
        if (loads[i] != want[i])
            BT_FAIL_AT("step %u at %g, want %g", i, loads[i], want[i]);
    CHECK(res.pass);
    CHECK_EQ_INT(res.ramp_trials, 7);
    CHECK(res.ramp_found == 578.125);
    CHECK_EQ_INT(res.nchecks, 1);
    CHECK((c = check_of(&res, "capacity")) && c->judged && c->pass &&
          strstr(c->message, "expected the device's capacity 600 connections/s (live.capacity) "
                             "within 10.0%; found 578 (3.65% off, 7 steps, bracket 578..606"));
    /* every step in ramp_json, with its verdict and figures; its files */
    const json_t *steps = res.ramp_json;
    CHECK_EQ_INT(json_array_size(steps), 7);
    const json_t *s1 = json_array_get(steps, 1);
    CHECK(json_number_value(json_object_get(s1, "load")) == 1000);
    CHECK(json_is_false(json_object_get(s1, "clean")));
    CHECK(strstr(json_string_value(json_object_get(s1, "why")), "3 of 10 flows did not complete"));
    CHECK(json_is_true(json_object_get(json_array_get(steps, 0), "clean")));
    CHECK(json_is_null(json_object_get(json_array_get(steps, 0), "late_s")));   /* the reference */
    CHECK(json_is_number(json_object_get(json_array_get(steps, 2), "late_s")));
    CHECK_EQ_INT(json_integer_value(json_object_get(json_array_get(steps, 6), "flows_completed")), 10);
    snprintf(text, sizeof(text), "%s/step-6/client.pcap", f.out);
    CHECK(access(text, R_OK) == 0);
    snprintf(text, sizeof(text), "%s/step-6/tgen.json", f.out);
    CHECK(access(text, R_OK) == 0);
    CHECK(res.tgen_json != NULL);                  /* the last step's summary */
    pl_result_clear(&res);
    CHECK(res.ramp_json == NULL);

    /* the device's rating far off what it carries: capacity fails */
    p->live.capacity = 900;
    REQUIRE(pl_run_live(p, &o, f.out, &res, &e) == 0);
    loads_of(&f, loads, 16);
    CHECK(!res.pass);
    CHECK((c = check_of(&res, "capacity")) && c->judged && !c->pass &&
          strstr(c->message, "found 578 (35.76% off"));
    pl_result_clear(&res);
    /* no rating: the search's figure alone */
    p->live.capacity = 0;
    REQUIRE(pl_run_live(p, &o, f.out, &res, &e) == 0);
    loads_of(&f, loads, 16);
    CHECK(res.pass);
    CHECK((c = check_of(&res, "capacity")) && c->pass &&
          strstr(c->message, "found 578 connections/s through the device (7 steps") &&
          strstr(c->message, "no live.capacity to compare it with"));
    pl_result_clear(&res);
    /* a device that carries the upper end: raise ramp.to, two steps */
    setenv("FAKE_CAPACITY", "5000", 1);
    REQUIRE(pl_run_live(p, &o, f.out, &res, &e) == 0);
    CHECK_EQ_INT(loads_of(&f, loads, 16), 2);
    CHECK(!res.pass);
    CHECK((c = check_of(&res, "capacity")) && !c->pass && strstr(c->message, "raise ramp.to"));
    pl_result_clear(&res);
    /* one that does not carry the lower end: one step */
    setenv("FAKE_CAPACITY", "50", 1);
    REQUIRE(pl_run_live(p, &o, f.out, &res, &e) == 0);
    CHECK_EQ_INT(loads_of(&f, loads, 16), 1);
    CHECK(!res.pass);
    CHECK((c = check_of(&res, "capacity")) && !c->pass &&
          strstr(c->message, "lower end 100 connections/s is not carried cleanly through the "
                             "device (3 of 10 flows did not complete"));
    pl_result_clear(&res);
    /* expect_fail: [capacity] passes a plan whose search fails */
    pl_plan_free(p);
    p = plan("rf", "name: rf\n" RAMP_TRAFFIC "ramp: {find: cps, from: 100, to: 1000}\n"
             "expect_fail: [capacity]\n", &e);
    REQUIRE(p != NULL);
    REQUIRE(pl_run_live(p, &o, f.out, &res, &e) == 0);
    loads_of(&f, loads, 16);
    CHECK(res.pass);
    pl_result_clear(&res);
    unsetenv("FAKE_CAPACITY");
    pl_plan_free(p);
}

TEST(ramp_concurrent_and_bounded)
{
    struct bt_err e = {{0}};
    struct fake f;
    struct pl_result res;
    struct pl_live_opts o = {.client = "lo", .server = "net_null0"};
    double loads[16];
    const struct pl_check *c;
    /* find: concurrent: the steps' loads are flows */
    struct pl_plan *p = plan("rcc", "name: rcc\n" RAMP_TRAFFIC "ramp: {find: concurrent, from: 1k, "
                             "to: 3k, steps: 2}\nlive:\n  capacity: 2k\n", &e);
    REQUIRE(p != NULL);
    fake_setup(&f, "rcc", 0, 0, 0, false);
    setenv("FAKE_CAPACITY", "2100", 1);
    o.tgen = f.tgen;
    REQUIRE(pl_run_live(p, &o, f.out, &res, &e) == 0);
    CHECK_EQ_INT(loads_of(&f, loads, 16), 4);
    CHECK(loads[0] == 1000 && loads[1] == 3000 && loads[2] == 2000 && loads[3] == 2500);
    CHECK(res.pass && res.ramp_found == 2000);
    CHECK((c = check_of(&res, "capacity")) && c->pass && strstr(c->message, "concurrent connections"));
    pl_result_clear(&res);
    pl_plan_free(p);
    /* live.timeout bounds the whole search: a step that would run 30 s is
     * stopped by SIGINT at 1 s and the search ends there */
    p = plan("rb", "name: rb\n" RAMP_TRAFFIC "ramp: {find: cps, from: 100, to: 1000}\n"
             "live:\n  timeout: 1s\n", &e);
    REQUIRE(p != NULL);
    fake_setup(&f, "rb", 0, 0, 300, false);
    setenv("FAKE_CAPACITY", "600", 1);
    double t0 = (double)time(NULL);
    REQUIRE(pl_run_live(p, &o, f.out, &res, &e) == 0);
    CHECK((double)time(NULL) - t0 < 10);
    CHECK_EQ_INT(loads_of(&f, loads, 16), 1);
    CHECK(!res.pass);
    CHECK((c = check_of(&res, "capacity")) && !c->pass &&
          strstr(c->message, "the search did not finish: stopped by its bound (live.timeout, or "
                             "the step's own); what ran: clean, after 1 steps"));
    CHECK(json_is_true(json_object_get((json_t *)res.tgen_json, "stopped_by_bound")));
    pl_result_clear(&res);
    unsetenv("FAKE_CAPACITY");
    pl_plan_free(p);
}

/* live.timeout stopping traffic that would go on: what ran may be clean,
 * the plan fails all the same (complete), and says how much ran */
TEST(run_bound_incomplete)
{
    struct bt_err e = {{0}};
    struct fake f;
    struct pl_result res;
    struct pl_live_opts o = {.client = "lo", .server = "net_null0"};
    const struct pl_check *c;
    struct pl_plan *p = plan("bi", "name: bi\ntraffic:\n  templates:\n    - synth: tcp\n"
                             "  flows: 3000\n  cps: 100\nexpect:\n  loss_pct: 0\nlive:\n  timeout: 1s\n", &e);
    REQUIRE(p != NULL);
    fake_setup(&f, "bi", 0, 0, 300, false);        /* would run 30 s */
    setenv("FAKE_STARTED", "100", 1);              /* what 1 s at 100 conn/s starts */
    o.tgen = f.tgen;
    REQUIRE(pl_run_live(p, &o, f.out, &res, &e) == 0);
    CHECK(json_is_true(json_object_get((json_t *)res.tgen_json, "stopped_by_bound")));
    CHECK((c = check_of(&res, "loss")) && c->judged && c->pass);
    CHECK((c = check_of(&res, "complete")) && c->judged && !c->pass &&
          strstr(c->message, "100 of 3000 flows started") && strstr(c->message, "live.timeout"));
    CHECK(!res.pass);
    pl_result_clear(&res);
    /* the same traffic run to its end: complete passes */
    p->live.timeout_ns = 20000000000ULL;
    fake_setup(&f, "bi", 0, 0, 2, false);
    setenv("FAKE_STARTED", "3000", 1);
    REQUIRE(pl_run_live(p, &o, f.out, &res, &e) == 0);
    CHECK((c = check_of(&res, "complete")) && c->judged && c->pass &&
          strstr(c->message, "the traffic ran to its end: 3000 of 3000 flows started"));
    CHECK(res.pass);
    pl_result_clear(&res);
    pl_plan_free(p);
}

/* frames baton-tgen's capture ring had no room for are not the device's
 * loss: the loss check is not judged, a ramp step not unclean for it */
TEST(capture_dropped)
{
    struct bt_err e = {{0}};
    struct fake f;
    struct pl_result res;
    struct pl_live_opts o = {.client = "lo", .server = "net_null0"};
    const struct pl_check *c;
    double loads[16];
    struct pl_plan *p = plan("cd", "name: cd\n" TRAFFIC "expect:\n  loss_pct: 0\n", &e);
    REQUIRE(p != NULL);
    fake_setup(&f, "cd", 0, 0, 2, true);           /* the server side's captures empty */
    o.tgen = f.tgen;
    REQUIRE(pl_run_live(p, &o, f.out, &res, &e) == 0);
    CHECK((c = check_of(&res, "loss")) && c->judged && !c->pass);   /* a real loss */
    CHECK(!res.pass);
    pl_result_clear(&res);
    setenv("FAKE_EXTRA", ",\"capture_dropped\":7,\"tx_dropped\":2", 1);
    REQUIRE(pl_run_live(p, &o, f.out, &res, &e) == 0);
    CHECK((c = check_of(&res, "loss")) && !c->judged &&
          strstr(c->message, "captures incomplete: 7 frames not captured by baton-tgen"));
    CHECK(res.pass);
    CHECK_EQ_INT(json_integer_value(json_object_get((json_t *)res.tgen_json, "tx_dropped")), 2);
    const json_t *vl = json_object_get((json_t *)res.verify_json, "loss");
    CHECK(json_is_false(json_object_get(vl, "judged")));
    pl_result_clear(&res);
    pl_plan_free(p);
    /* a ramp through a device of 600 conn/s whose every step's captures
     * lack frames: the search goes on as if no loss were seen */
    p = plan("cdr", "name: cdr\n" RAMP_TRAFFIC "ramp: {find: cps, from: 100, to: 1000, trial: "
             "200ms, steps: 5}\n", &e);
    REQUIRE(p != NULL);
    setenv("FAKE_CAPACITY", "600", 1);
    REQUIRE(pl_run_live(p, &o, f.out, &res, &e) == 0);
    CHECK_EQ_INT(loads_of(&f, loads, 16), 7);
    CHECK(res.ramp_found == 578.125);
    const json_t *s0 = json_array_get((json_t *)res.ramp_json, 0);
    CHECK(json_is_true(json_object_get(s0, "clean")));
    CHECK_EQ_INT(json_integer_value(json_object_get(s0, "capture_dropped")), 7);
    CHECK_EQ_INT(json_integer_value(json_object_get(s0, "tx_dropped")), 2);
    const char *ln = json_string_value(json_object_get(s0, "loss_not_judged"));
    CHECK(ln && strstr(ln, "captures incomplete: 7 frames not captured by baton-tgen"));
    pl_result_clear(&res);
    unsetenv("FAKE_CAPACITY");
    unsetenv("FAKE_EXTRA");
    pl_plan_free(p);
}

/* find: concurrent searches whole connection counts, and reports one it ran */
TEST(ramp_concurrent_integer)
{
    struct bt_err e = {{0}};
    struct fake f;
    struct pl_result res;
    struct pl_live_opts o = {.client = "lo", .server = "net_null0"};
    double loads[32];
    const struct pl_check *c;
    struct pl_plan *p = plan("rci", "name: rci\n" RAMP_TRAFFIC "ramp: {find: concurrent, from: 100, "
                             "to: 300, steps: 12}\n", &e);
    REQUIRE(p != NULL);
    fake_setup(&f, "rci", 0, 0, 0, false);
    setenv("FAKE_CAPACITY", "169", 1);
    o.tgen = f.tgen;
    REQUIRE(pl_run_live(p, &o, f.out, &res, &e) == 0);
    unsigned n = loads_of(&f, loads, 32);
    bool ran = false;
    for (unsigned i = 0; i < n; i++) {
        if (loads[i] != (double)(long long)loads[i])
            BT_FAIL_AT("step %u at %g connections", i, loads[i]);
        ran |= loads[i] == res.ramp_found;
    }
    CHECK(res.ramp_found == 169);
    CHECK(ran);                                    /* a load that was run */
    CHECK_EQ_INT(n, 10);                           /* 100 300 200 150 175 162 168 171 169 170 */
    CHECK((c = check_of(&res, "capacity")) && c->pass && strstr(c->message, "found 169 concurrent") &&
          strstr(c->message, "bracket 169..170"));
    pl_result_clear(&res);
    unsetenv("FAKE_CAPACITY");
    pl_plan_free(p);
}

/* pids of the processes whose command line matches the regex re */
static unsigned pids_of(const char *re, pid_t *out, unsigned max)
{
    char cmd[600];
    unsigned n = 0;
    int pid;
    snprintf(cmd, sizeof(cmd), "pgrep -f '%s'", re);
    FILE *fp = popen(cmd, "r");
    while (fp && n < max && fscanf(fp, "%d", &pid) == 1)
        out[n++] = pid;
    if (fp)
        pclose(fp);
    return n;
}

/* kill -9 of the runner: baton-tgen and the hooks die with it */
TEST(runner_killed_no_orphans)
{
    struct bt_err e = {{0}};
    struct fake f;
    struct pl_result res;
    struct pl_live_opts o = {.client = "lo", .server = "net_null0"};
    char text[1024], re_tgen[400], re_hook[64];
    pid_t pids[16];
    unsigned mark = (unsigned)getpid() % 100000;
    snprintf(text, sizeof(text), "name: ko\n" TRAFFIC "events:\n  - at: 100ms\n"
             "    run: exec sleep 29.%05u\n", mark);
    struct pl_plan *p = plan("ko", text, &e);
    REQUIRE(p != NULL);
    fake_setup(&f, "ko", 0, 0, 300, false);        /* would run 30 s */
    o.tgen = f.tgen;
    /* [x]: the regex does not match pgrep's own shell */
    snprintf(re_tgen, sizeof(re_tgen), "%s/[b]aton-tgen", tmpdir());
    snprintf(re_hook, sizeof(re_hook), "[s]leep 29.%05u", mark);
    fflush(NULL);
    pid_t runner = fork();
    REQUIRE(runner >= 0);
    if (runner == 0) {
        pl_run_live(p, &o, f.out, &res, &e);
        _exit(0);
    }
    bool up = false;
    for (int i = 0; i < 100 && !up; i++) {
        up = pids_of(re_tgen, pids, 16) > 0 && pids_of(re_hook, pids, 16) > 0;
        if (!up)
            usleep(50000);
    }
    CHECK(up);
    kill(runner, SIGKILL);
    waitpid(runner, NULL, 0);
    unsigned left = 1;
    for (int i = 0; i < 60 && left; i++) {
        left = pids_of(re_tgen, pids, 16) + pids_of(re_hook, pids, 16);
        if (left)
            usleep(50000);
    }
    CHECK_EQ_INT(left, 0);
    /* what outlived it (the bug): ended by pid */
    unsigned n = pids_of(re_tgen, pids, 16);
    n += pids_of(re_hook, pids + n, 16 - n);
    for (unsigned i = 0; i < n; i++)
        kill(pids[i], SIGKILL);
    pl_plan_free(p);
}

/* a signal to the runner outside a baton-tgen run (while a step is judged,
 * between steps) is caught all the same: the search stops, reported */
TEST(ramp_signal_between_steps)
{
    struct bt_err e = {{0}};
    struct fake f;
    struct pl_result res;
    struct pl_live_opts o = {.client = "lo", .server = "net_null0"};
    double loads[16];
    const struct pl_check *c;
    struct pl_plan *p = plan("rsig", "name: rsig\n" RAMP_TRAFFIC "ramp: {find: cps, from: 100, to: "
                             "1000, trial: 200ms, steps: 8}\n", &e);
    REQUIRE(p != NULL);
    fake_setup(&f, "rsig", 0, 0, 2, false);        /* 0.2 s a step, 10 steps */
    setenv("FAKE_CAPACITY", "600", 1);
    setenv("FAKE_SIGNAL_AFTER", "1", 1);           /* while step 0 is judged */
    o.tgen = f.tgen;
    REQUIRE(pl_run_live(p, &o, f.out, &res, &e) == 0);
    unsetenv("FAKE_SIGNAL_AFTER");
    unsigned n = loads_of(&f, loads, 16);
    CHECK(n >= 1 && n < 10);
    CHECK(res.interrupted);
    CHECK(!res.pass);
    CHECK((c = check_of(&res, "capacity")) && !c->pass &&
          strstr(c->message, "the search did not finish"));
    pl_result_clear(&res);
    unsetenv("FAKE_CAPACITY");
    pl_plan_free(p);
}
