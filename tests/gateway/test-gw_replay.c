/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The replay driver: client/server captures in, a capture set and stats out,
 * events from YAML (relative) or JSON lines (absolute), byte-for-byte
 * deterministic for the same inputs and seed.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/stat.h>

#include "bt_test.h"
#include "bt_capset.h"
#include "bt_csum.h"
#include "bt_err.h"
#include "bt_parse.h"
#include "bt_pcap.h"
#include "gw_api.h"
#include "../lib/pktbuild.h"

#define MS 1000000ULL

static char dir[64];

/* n conversations, open loop: SYN at i ms, SYN+ACK 1 ms later, ACK+data,
 * data back, FIN both ways, last ACK; t0 shifts every time stamp. */
static void write_pcaps(unsigned n, uint64_t t0)
{
    char path[128];
    struct bt_err e;
    struct bt_pcap_writer *w[2];
    snprintf(path, sizeof(path), "%s/client.pcap", dir);
    w[0] = bt_pcap_writer_open(path, 1, 65535, &e);
    snprintf(path, sizeof(path), "%s/server.pcap", dir);
    w[1] = bt_pcap_writer_open(path, 1, 65535, &e);
    static const struct {
        int side;
        uint8_t fl;
        unsigned len;
    } steps[] = {{0, BT_TCP_SYN, 0}, {1, BT_TCP_SYN | BT_TCP_ACK, 0}, {0, BT_TCP_ACK | BT_TCP_PSH, 50},
                 {1, BT_TCP_ACK | BT_TCP_PSH, 300}, {0, BT_TCP_FIN | BT_TCP_ACK, 0},
                 {1, BT_TCP_FIN | BT_TCP_ACK, 0}, {0, BT_TCP_ACK, 0}};
    /* in time order, as a capture is: step s of flow i at i + 2s ms */
    for (unsigned tt = 0; tt < n + 13; tt++)
        for (unsigned s = 0; s < 7; s++) {
            uint8_t f[512];
            unsigned i = tt - 2 * s;
            if (tt < 2 * s || i >= n)
                continue;
            struct bt_parsed p;
            int c = steps[s].side == 0;
            uint32_t ca = 0x10000000 + i, sa = 0x30000001 + i % 50;
            unsigned o = pb_eth(f, 0, 0, 0, 0, 0x0800);
            o += pb_ip4(f + o, 5, (uint16_t)(40 + steps[s].len), 0, 6, c ? ca : sa, c ? sa : ca);
            o += pb_tcp(f + o, c ? (uint16_t)(1024 + i) : 80, c ? 80 : (uint16_t)(1024 + i), 1, 1,
                        steps[s].fl, 20);
            memset(f + o, 'x', steps[s].len);
            o += steps[s].len;
            bt_parse(f, o, BT_LINK_ETHERNET, &p);
            bt_csum_fix(f, o, &p);
            bt_pcap_write(w[steps[s].side], t0 + i * MS + s * 2 * MS, f, o, o);
        }
    bt_pcap_writer_close(w[0]);
    bt_pcap_writer_close(w[1]);
}

static int run(const char *out, const char *events, struct gw_replay_result *r, struct bt_err *e)
{
    struct gw_replay_opts o;
    char c[128], s[128];
    gw_replay_opts_default(&o);
    snprintf(c, sizeof(c), "%s/client.pcap", dir);
    snprintf(s, sizeof(s), "%s/server.pcap", dir);
    o.client_pcap = c;
    o.server_pcap = s;
    o.out = out;
    o.events = events;
    o.seed = 5;
    o.stats_interval_ns = 100 * MS;
    return gw_replay_run(&o, r, e);
}

static long lines(const char *path)
{
    FILE *f = fopen(path, "r");
    long n = 0;
    int ch;
    if (!f)
        return -1;
    while ((ch = fgetc(f)) != EOF)
        n += ch == '\n';
    fclose(f);
    return n;
}

static int same_file(const char *a, const char *b)
{
    char cmd[512];
    struct stat sa, sb;
    if (stat(a, &sa) < 0 && stat(b, &sb) < 0)
        return 1;   /* absent from both */
    snprintf(cmd, sizeof(cmd), "cmp -s %s %s", a, b);
    return system(cmd) == 0;
}

TEST(replay_writes_a_capture_set_and_stats)
{
    struct gw_replay_result r;
    struct bt_err e = {""};
    struct bt_capset_meta m;
    char out[128], p[192];
    snprintf(out, sizeof(out), "%s/o1", dir);
    write_pcaps(300, 0);
    REQUIRE(run(out, NULL, &r, &e) == 0);
    CHECK_EQ_INT(r.in_pkts, 300 * 7);
    CHECK_EQ_INT(r.out_pkts, 300 * 7);
    CHECK_EQ_INT(r.gw.conns, 300);
    CHECK_EQ_INT(r.gw.drops_state, 0);
    REQUIRE(bt_capset_read_meta(out, &m, &e) == 0);
    CHECK_EQ_INT(m.nmembers, 4);
    CHECK((m.files & (BT_CAPSET_HAS_CLIENT | BT_CAPSET_HAS_SERVER)) == (BT_CAPSET_HAS_CLIENT | BT_CAPSET_HAS_SERVER));
    /* the links carry both directions: in and out */
    struct bt_pcap_reader *rd = bt_pcap_open(bt_capset_path(out, "client.pcap", p, sizeof(p)), &e);
    struct bt_pcap_rec rec;
    unsigned n = 0;
    REQUIRE(rd);
    while (bt_pcap_next(rd, &rec, &e) == 1)
        n++;
    bt_pcap_close(rd);
    CHECK_EQ_INT(n, 300 * 7);
    /* stats every 100 ms of virtual time over ~0.31 s, and the last line */
    long nl = lines(bt_capset_path(out, "stats.jsonl", p, sizeof(p)));
    CHECK(nl >= 3 && nl <= 5);
}

TEST(events_yaml_relative_and_jsonl_absolute)
{
    struct gw_replay_result r;
    struct bt_err e = {""};
    char out[128], ev[128], p[192];
    struct bt_event *evs;
    size_t nev;
    /* captures that start at a large epoch: the clock follows them */
    write_pcaps(200, 1700000000ULL * 1000000000ULL);
    snprintf(ev, sizeof(ev), "%s/ev.yaml", dir);
    FILE *f = fopen(ev, "w");
    fputs("- at: 50ms\n  fail: 2\n- at: 80ms\n  policy: {default: drop}\n- at: 90ms\n  add: 5\n  weight: 50\n"
          "- at: 95ms\n  fail: 2\n", f);
    fclose(f);
    snprintf(out, sizeof(out), "%s/o2", dir);
    /* the second fail of member 2: the cluster refuses it, the replay stops
     * there and names the event's line */
    CHECK_EQ_INT(run(out, ev, &r, &e), -EINVAL);
    CHECK_EQ_INT(r.bad_events, 1);
    if (!strstr(e.msg, "ev.yaml:8:3: at ") || !strstr(e.msg, "fail: sgm 2 is already down"))
        BT_FAIL_AT("message: %s", e.msg);
    f = fopen(ev, "w");
    fputs("- at: 50ms\n  fail: 2\n- at: 80ms\n  policy: {default: drop}\n- at: 90ms\n  add: 5\n  weight: 50\n", f);
    fclose(f);
    REQUIRE(run(out, ev, &r, &e) == 0);
    CHECK_EQ_INT(r.bad_events, 0);
    REQUIRE(bt_events_read(bt_capset_path(out, "events.jsonl", p, sizeof(p)), &evs, &nev, &e) == 0);
    REQUIRE(nev == 3);
    CHECK_EQ_INT(evs[0].kind, BT_EV_SGM_DOWN);
    /* events.jsonl has seconds in a double: sub-microsecond digits are gone at epoch times */
    CHECK(evs[0].t_ns + 1000 > 1700000000ULL * 1000000000ULL + 50 * MS &&
          evs[0].t_ns < 1700000000ULL * 1000000000ULL + 50 * MS + 1000);
    CHECK_EQ_INT(evs[1].kind, BT_EV_POLICY);
    CHECK_EQ_INT(evs[1].version, 2);
    CHECK_EQ_INT(evs[2].kind, BT_EV_SGM_JOIN);
    CHECK_EQ_INT(evs[2].weight, 50);
    free(evs);
    /* after the drop-all policy, new connections are dropped */
    CHECK(r.gw.drops_policy > 0);
    /* the same timeline as absolute JSON lines gives the same capture set */
    snprintf(ev, sizeof(ev), "%s/ev.jsonl", dir);
    f = fopen(ev, "w");
    fprintf(f, "{\"t\": 1700000000.05, \"event\": \"sgm_down\", \"sgm\": 2}\n\n"
               "{\"t\": 1700000000.08, \"event\": \"policy\", \"policy\": {\"default\": \"drop\"}}\n"
               "{\"t\": 1700000000.09, \"event\": \"sgm_join\", \"sgm\": 5, \"weight\": 50}\n");
    fclose(f);
    char out3[128], a[192], b[192];
    snprintf(out3, sizeof(out3), "%s/o3", dir);
    REQUIRE(run(out3, ev, &r, &e) == 0);
    CHECK(same_file(bt_capset_path(out, "sgm-1.pcap", a, sizeof(a)), bt_capset_path(out3, "sgm-1.pcap", b, sizeof(b))));
    CHECK(same_file(bt_capset_path(out, "server.pcap", a, sizeof(a)), bt_capset_path(out3, "server.pcap", b, sizeof(b))));
}

TEST(deterministic_byte_for_byte)
{
    struct gw_replay_result r;
    struct bt_err e = {""};
    char o1[128], o2[128], ev[128], a[192], b[192];
    static const char *const files[] = {"sgm-1.pcap", "sgm-2.pcap", "sgm-3.pcap", "sgm-4.pcap",
                                        "client.pcap", "server.pcap", "events.jsonl", "stats.jsonl",
                                        "capset.json", "corrections.jsonl"};
    write_pcaps(500, 0);
    snprintf(ev, sizeof(ev), "%s/ev2.yaml", dir);
    FILE *f = fopen(ev, "w");
    fputs("- at: 200ms\n  fail: 3\n- at: 300ms\n  add: 5\n", f);
    fclose(f);
    snprintf(o1, sizeof(o1), "%s/d1", dir);
    snprintf(o2, sizeof(o2), "%s/d2", dir);
    REQUIRE(run(o1, ev, &r, &e) == 0);
    REQUIRE(run(o2, ev, &r, &e) == 0);
    for (unsigned i = 0; i < sizeof(files) / sizeof(files[0]); i++)
        if (!same_file(bt_capset_path(o1, files[i], a, sizeof(a)), bt_capset_path(o2, files[i], b, sizeof(b))))
            BT_FAIL_AT("%s differs", files[i]);
}

TEST(bad_inputs_are_errors_with_positions)
{
    struct gw_replay_result r;
    struct bt_err e = {""};
    char out[128], ev[128];
    write_pcaps(10, 0);
    snprintf(out, sizeof(out), "%s/o4", dir);
    snprintf(ev, sizeof(ev), "%s/bad.yaml", dir);
    FILE *f = fopen(ev, "w");
    fputs("- at: 1s\n  fail: 2\n  restore: 2\n", f);
    fclose(f);
    CHECK_EQ_INT(run(out, ev, &r, &e), -EINVAL);
    CHECK(strstr(e.msg, "bad.yaml:1:3: events: an event needs exactly one of") != NULL);
    snprintf(ev, sizeof(ev), "%s/bad.jsonl", dir);
    f = fopen(ev, "w");
    fputs("{\"t\": 1, \"event\": \"sgm_down\", \"sgm\": 1}\n{\"t\": -1, \"event\": \"sgm_down\", \"sgm\": 1}\n", f);
    fclose(f);
    CHECK_EQ_INT(run(out, ev, &r, &e), -EINVAL);
    CHECK(strstr(e.msg, "bad.jsonl:2: \"t\" must be seconds") != NULL);
    CHECK(run(out, "/nonexistent/ev.jsonl", &r, &e) < 0);
    CHECK(strstr(e.msg, "/nonexistent/ev.jsonl") != NULL);
}

/* UDP packets of one flow at the given times on the client side, none on
 * the server side. */
static void write_udp_at(const uint64_t *ts, unsigned n)
{
    char path[128];
    struct bt_err e;
    struct bt_pcap_writer *w[2];
    snprintf(path, sizeof(path), "%s/client.pcap", dir);
    w[0] = bt_pcap_writer_open(path, 1, 65535, &e);
    snprintf(path, sizeof(path), "%s/server.pcap", dir);
    w[1] = bt_pcap_writer_open(path, 1, 65535, &e);
    for (unsigned i = 0; i < n; i++) {
        uint8_t f[128];
        struct bt_parsed pp;
        unsigned o = pb_eth(f, 0, 0, 0, 0, 0x0800);
        o += pb_ip4(f + o, 5, 28 + 4, 0, 17, 0x10000001, 0x30000001);
        o += pb_udp(f + o, 4000, 53, 8 + 4);
        memcpy(f + o, "ping", 4);
        o += 4;
        bt_parse(f, o, BT_LINK_ETHERNET, &pp);
        bt_csum_fix(f, o, &pp);
        bt_pcap_write(w[0], ts[i], f, o, o);
    }
    bt_pcap_writer_close(w[0]);
    bt_pcap_writer_close(w[1]);
}

/* Times of the packets of a capture-set file, relative to the first. */
static unsigned rel_times(const char *path, uint64_t *out, unsigned max)
{
    struct bt_err e;
    struct bt_pcap_reader *rd = bt_pcap_open(path, &e);
    struct bt_pcap_rec rec;
    unsigned n = 0;
    uint64_t first = 0;
    if (!rd)
        return 0;
    while (n < max && bt_pcap_next(rd, &rec, &e) == 1) {
        if (n == 0)
            first = rec.ts_ns;
        out[n++] = rec.ts_ns - first;
    }
    bt_pcap_close(rd);
    return n;
}

/* A capture with a two-hour silence: shortened to max_gap (no two hours of
 * heartbeats and stats lines), kept with max_gap 0; an event inside it
 * splits it in two silences, each shortened, and stays between the same
 * packets. */
TEST(long_silences_are_shortened_and_events_keep_their_place)
{
    static const uint64_t S = 1000000000ULL;
    const uint64_t ts[] = {1000 * S, 1000 * S + 5 * MS, 8200 * S, 8200 * S + 5 * MS};
    struct gw_replay_opts o;
    struct gw_replay_result r;
    struct bt_err e = {""};
    char c[128], sv[128], out[128], p[192], ev[128];
    uint64_t got[8];
    write_udp_at(ts, 4);
    gw_replay_opts_default(&o);
    CHECK_EQ_INT(o.max_gap_ns, 60 * S);
    snprintf(c, sizeof(c), "%s/client.pcap", dir);
    snprintf(sv, sizeof(sv), "%s/server.pcap", dir);
    snprintf(out, sizeof(out), "%s/gap1", dir);
    o.client_pcap = c;
    o.server_pcap = sv;
    o.out = out;
    o.max_gap_ns = 30 * S;
    REQUIRE(gw_replay_run(&o, &r, &e) == 0);
    CHECK_EQ_INT(r.in_pkts, 4);
    REQUIRE(rel_times(bt_capset_path(out, "client.pcap", p, sizeof(p)), got, 8) == 4);
    CHECK_EQ_INT(got[1], 5 * MS);
    CHECK_EQ_INT(got[2], 30 * S + 5 * MS);    /* 7200 s of silence became 30 s */
    CHECK_EQ_INT(got[3], 30 * S + 10 * MS);   /* what follows keeps its gaps */
    long short_lines = lines(bt_capset_path(out, "stats.jsonl", p, sizeof(p)));
    CHECK(short_lines > 0 && short_lines < 200);
    /* 0 keeps the silence */
    snprintf(out, sizeof(out), "%s/gap2", dir);
    o.max_gap_ns = 0;
    REQUIRE(gw_replay_run(&o, &r, &e) == 0);
    REQUIRE(rel_times(bt_capset_path(out, "client.pcap", p, sizeof(p)), got, 8) == 4);
    CHECK_EQ_INT(got[2], 7200 * S);
    CHECK(lines(bt_capset_path(out, "stats.jsonl", p, sizeof(p))) > 7000);
    /* an absolute event inside the silence keeps it whole */
    snprintf(ev, sizeof(ev), "%s/gap.jsonl", dir);
    FILE *f = fopen(ev, "w");
    REQUIRE(f);
    fputs("{\"t\": 4000.0, \"event\": \"sgm_down\", \"sgm\": 3}\n", f);
    fclose(f);
    snprintf(out, sizeof(out), "%s/gap3", dir);
    o.max_gap_ns = 30 * S;
    o.events = ev;
    REQUIRE(gw_replay_run(&o, &r, &e) == 0);
    REQUIRE(rel_times(bt_capset_path(out, "client.pcap", p, sizeof(p)), got, 8) == 4);
    CHECK_EQ_INT(got[2], 60 * S + 5 * MS);
    struct bt_event *evs;
    size_t nev;
    REQUIRE(bt_events_read(bt_capset_path(out, "events.jsonl", p, sizeof(p)), &evs, &nev, &e) == 0);
    REQUIRE(nev == 1);
    CHECK_EQ_INT(evs[0].kind, BT_EV_SGM_DOWN);
    /* 30 s after the second packet (1000.005 s), on the shortened clock */
    CHECK(evs[0].t_ns + 1000 > 1030 * S + 5 * MS && evs[0].t_ns < 1030 * S + 5 * MS + 1000);
    free(evs);
}

__attribute__((constructor)) static void mkdir_tmp(void)
{
    snprintf(dir, sizeof(dir), "/tmp/bt-gwreplay-XXXXXX");
    if (!bt_mkdtemp(dir))
        abort();
}

__attribute__((destructor)) static void rm_tmp(void)
{
    char cmd[128];
    snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
    if (system(cmd) != 0)
        fprintf(stderr, "could not remove %s\n", dir);
}
