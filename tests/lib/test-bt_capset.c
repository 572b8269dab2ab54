/* SPDX-License-Identifier: BSD-3-Clause */
#include <errno.h>
#include <signal.h>
#include <stdlib.h>
#include <sys/resource.h>
#include <unistd.h>

#include "bt_test.h"
#include "bt_capset.h"
#include "bt_err.h"
#include "bt_parse.h"
#include "bt_pcap.h"

static char dir[256];

static const char *mkdir_tmp(void)
{
    snprintf(dir, sizeof(dir), "/tmp/bt-test-capset-XXXXXX");
    if (!bt_mkdtemp(dir))
        abort();
    return dir;
}

static void write_file(const char *name, const char *text)
{
    char p[512];
    snprintf(p, sizeof(p), "%s/%s", dir, name);
    FILE *f = fopen(p, "w");
    fputs(text, f);
    fclose(f);
}

TEST(writer_produces_a_readable_capture_set)
{
    struct bt_err e;
    char sub[300];
    mkdir_tmp();
    snprintf(sub, sizeof(sub), "%s/a/b", dir); /* created like mkdir -p */
    struct bt_capset_writer *w = bt_capset_writer_open(sub, &e);
    REQUIRE(w);
    uint8_t pkt[64] = {0};
    CHECK(bt_capset_writer_sgm(w, 2, 1000, pkt, 64, 64) == 0);
    CHECK(bt_capset_writer_sgm(w, 2, 2000, pkt, 64, 64) == 0);
    CHECK(bt_capset_writer_client(w, 500, pkt, 64, 64) == 0);
    CHECK(bt_capset_writer_sgm(w, 65, 1, pkt, 64, 64) == -EINVAL);
    struct bt_event ev = {.t_ns = 1500000000, .kind = BT_EV_SGM_DOWN, .sgm = 2, .weight = -1,
                          .version = -1};
    CHECK(bt_capset_writer_event(w, &ev) == 0);
    ev = (struct bt_event){.t_ns = 1000, .kind = BT_EV_WEIGHT, .sgm = 1, .weight = 70,
                           .version = -1};
    CHECK(bt_capset_writer_event(w, &ev) == 0);
    struct bt_correction c = {.t_ns = 123456789, .proto = 6, .sport = 1, .dport = 2,
                              .from = 1, .to = 2};
    bt_addr_parse("10.0.0.1", c.src);
    bt_addr_parse("10.0.0.2", c.dst);
    CHECK(bt_capset_writer_correction(w, &c) == 0);
    struct bt_nat_map n = {.t_ns = 5, .proto = 17, .osport = 1000, .odport = 53,
                           .tsport = 40000, .tdport = 53};
    bt_addr_parse("10.0.0.1", n.osrc);
    bt_addr_parse("8.8.8.8", n.odst);
    bt_addr_parse("100.64.0.1", n.tsrc);
    bt_addr_parse("8.8.8.8", n.tdst);
    CHECK(bt_capset_writer_nat(w, &n) == 0);
    struct bt_capset_meta m = {.nmembers = 3, .ids = {1, 2, 3}, .weights = {70, 15, 15},
                               .l4 = true, .npools = 1};
    snprintf(m.mode, sizeof(m.mode), "auto");
    snprintf(m.nat_pools[0], sizeof(m.nat_pools[0]), "100.64.0.0/24");
    snprintf(m.generator, sizeof(m.generator), "test");
    REQUIRE(bt_capset_writer_close(w, &m, &e) == 0);

    struct bt_capset_meta r;
    REQUIRE(bt_capset_read_meta(sub, &r, &e) == 0);
    CHECK_EQ_INT(r.nmembers, 3);
    CHECK_EQ_INT(r.ids[2], 3);
    CHECK_EQ_INT(r.weights[0], 70);
    CHECK_EQ_STR(r.mode, "auto");
    CHECK(r.l4);
    CHECK_EQ_STR(r.nat_pools[0], "100.64.0.0/24");
    /* the links come in pairs: the server side nothing reached is an
     * empty capture, listed */
    CHECK(r.files & BT_CAPSET_HAS_CLIENT);
    CHECK(r.files & BT_CAPSET_HAS_SERVER);
    CHECK(r.files & BT_CAPSET_HAS_EVENTS);
    CHECK(r.files & BT_CAPSET_HAS_CORRECTIONS);
    CHECK(r.files & BT_CAPSET_HAS_NAT);

    char path[512];
    struct bt_pcap_reader *pr = bt_pcap_open(bt_capset_sgm_path(sub, 2, path, sizeof(path)), &e);
    struct bt_pcap_rec rec;
    REQUIRE(pr);
    CHECK_EQ_INT(bt_pcap_next(pr, &rec, &e), 1);
    CHECK_EQ_INT(rec.ts_ns, 1000);
    bt_pcap_close(pr);
    /* a member that saw nothing still has an (empty) file */
    pr = bt_pcap_open(bt_capset_sgm_path(sub, 3, path, sizeof(path)), &e);
    REQUIRE(pr);
    CHECK_EQ_INT(bt_pcap_next(pr, &rec, &e), 0);
    bt_pcap_close(pr);
    pr = bt_pcap_open(bt_capset_path(sub, "server.pcap", path, sizeof(path)), &e);
    REQUIRE(pr);
    CHECK_EQ_INT(bt_pcap_next(pr, &rec, &e), 0);
    bt_pcap_close(pr);

    struct bt_event *evs;
    size_t nev;
    REQUIRE(bt_events_read(bt_capset_path(sub, "events.jsonl", path, sizeof(path)), &evs, &nev,
                           &e) == 0);
    REQUIRE(nev == 2);
    CHECK_EQ_INT(evs[0].kind, BT_EV_WEIGHT); /* sorted by time */
    CHECK_EQ_INT(evs[0].weight, 70);
    CHECK_EQ_INT(evs[1].t_ns, 1500000000);
    CHECK_EQ_INT(evs[1].sgm, 2);
    CHECK_EQ_INT(evs[1].weight, -1);
    free(evs);
    struct bt_correction *cs;
    size_t nc;
    REQUIRE(bt_corrections_read(bt_capset_path(sub, "corrections.jsonl", path, sizeof(path)), &cs,
                                &nc, &e) == 0);
    REQUIRE(nc == 1);
    CHECK_EQ_INT(cs[0].t_ns, 123456789);
    CHECK(memcmp(cs[0].dst, c.dst, 16) == 0);
    CHECK_EQ_INT(cs[0].to, 2);
    free(cs);
    struct bt_nat_map *ns;
    size_t nn;
    REQUIRE(bt_nat_read(bt_capset_path(sub, "nat.jsonl", path, sizeof(path)), &ns, &nn, &e) == 0);
    REQUIRE(nn == 1);
    CHECK_EQ_INT(ns[0].tsport, 40000);
    CHECK(memcmp(ns[0].tsrc, n.tsrc, 16) == 0);
    free(ns);
}

TEST(bad_capset_json_is_reported_with_position)
{
    struct bt_err e;
    struct bt_capset_meta m;
    mkdir_tmp();
    CHECK(bt_capset_read_meta(dir, &m, &e) == -ENOENT);
    write_file("capset.json", "{\"schema\": 1,\n \"members\": [}\n");
    CHECK(bt_capset_read_meta(dir, &m, &e) < 0);
    CHECK(strstr(e.msg, "capset.json:2:") != NULL);
    write_file("capset.json", "{\"schema\": 2, \"members\": [{\"id\": 1}]}");
    CHECK(bt_capset_read_meta(dir, &m, &e) < 0);
    CHECK(strstr(e.msg, "schema 2") != NULL);
    write_file("capset.json", "{\"schema\": 1, \"members\": [{\"id\": 65}]}");
    CHECK(bt_capset_read_meta(dir, &m, &e) < 0);
    CHECK(strstr(e.msg, "members[0]") != NULL);
    write_file("capset.json", "{\"schema\": 1, \"members\": [{\"id\": 1}, {\"id\": 1}]}");
    CHECK(bt_capset_read_meta(dir, &m, &e) < 0);
    CHECK(strstr(e.msg, "twice") != NULL);
    write_file("capset.json", "{\"schema\": 1, \"members\": [{\"id\": 3, \"weight\": 513}]}");
    CHECK(bt_capset_read_meta(dir, &m, &e) < 0);
    write_file("capset.json", "{\"schema\": 1, \"members\": [{\"id\": 3, \"future\": 1}], \"x\": 2}");
    CHECK(bt_capset_read_meta(dir, &m, &e) == 0); /* unknown keys ignored */
    CHECK_EQ_INT(m.weights[0], 1);
}

TEST(bad_jsonl_lines_name_file_and_line)
{
    struct bt_err e;
    struct bt_event *ev;
    size_t n;
    char p[512];
    mkdir_tmp();
    snprintf(p, sizeof(p), "%s/events.jsonl", dir);
    const char *bad[] = {
        "{\"t\": 1, \"event\": \"sgm_down\", \"sgm\": 1}\n\n{\"t\": 2, \"event\": \"explode\", \"sgm\": 1}\n",
        "{\"t\": 1, \"event\": \"sgm_down\"}\n",
        "{\"t\": -1, \"event\": \"sgm_down\", \"sgm\": 1}\n",
        "{\"t\": 1, \"event\": \"sgm_down\", \"sgm\": 99}\n",
        "{\"t\": 1, \"event\": \"weight\", \"sgm\": 1}\n",
        "[1,2]\n",
        "{\"t\": 1, \"event\"\n",
    };
    const unsigned line[] = {3, 1, 1, 1, 1, 1, 1};
    for (unsigned i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        char want[600];
        write_file("events.jsonl", bad[i]);
        CHECK(bt_events_read(p, &ev, &n, &e) < 0);
        snprintf(want, sizeof(want), "events.jsonl:%u", line[i]);
        if (!strstr(e.msg, want))
            BT_FAIL_AT("case %u: '%s' lacks '%s'", i, e.msg, want);
    }
    write_file("events.jsonl", "\n{\"t\": 0.5, \"event\": \"policy\", \"version\": 3, \"new\": true}\n");
    REQUIRE(bt_events_read(p, &ev, &n, &e) == 0);
    CHECK_EQ_INT(n, 1);
    CHECK_EQ_INT(ev[0].version, 3);
    CHECK_EQ_INT(ev[0].t_ns, 500000000);
    CHECK_EQ_INT(ev[0].line, 2);  /* the blank line counts */
    free(ev);
    snprintf(p, sizeof(p), "%s/none.jsonl", dir);
    CHECK(bt_events_read(p, &ev, &n, &e) == -ENOENT);
}

static int read_file(const char *name, char *buf, size_t len)
{
    char p[512];
    snprintf(p, sizeof(p), "%s/%s", dir, name);
    FILE *f = fopen(p, "r");
    if (!f)
        return -1;
    size_t n = fread(buf, 1, len - 1, f);
    buf[n] = 0;
    fclose(f);
    return (int)n;
}

/* Times go out as exact decimal nanoseconds and come back exactly, also at
 * wall-clock times where a double holds only ~0.2 us. */
TEST(times_are_exact_to_the_nanosecond)
{
    struct bt_err e;
    char p[512], text[4096];
    mkdir_tmp();
    snprintf(p, sizeof(p), "%s/events.jsonl", dir);
    FILE *f = fopen(p, "w");
    REQUIRE(f);
    const uint64_t ts[] = {0, 1, 999999999, 1000000000, 1700000000123456789ULL,
                           1700000000123456790ULL, 9999999999999999999ULL};
    const unsigned nts = sizeof(ts) / sizeof(ts[0]);
    for (unsigned i = 0; i < nts; i++) {
        struct bt_event ev = {.t_ns = ts[i], .kind = BT_EV_SGM_UP, .sgm = 3, .weight = -1,
                              .version = -1};
        CHECK(bt_event_write(f, &ev) == 0);
    }
    struct bt_event ev = {.t_ns = 5, .kind = BT_EV_POLICY, .sgm = 0, .weight = -1, .version = 7};
    snprintf(ev.detail, sizeof(ev.detail), "quote \" and \\ kept");
    CHECK(bt_event_write(f, &ev) == 0);
    fclose(f);
    REQUIRE(read_file("events.jsonl", text, sizeof(text)) > 0);
    /* the exact text of a line, as docs/formats.md shows it */
    CHECK(strstr(text, "{\"t\":1700000000.123456789,\"event\":\"sgm_up\",\"sgm\":3}\n") != NULL);
    CHECK(strstr(text, "{\"t\":0.000000001,\"event\":\"sgm_up\",\"sgm\":3}\n") != NULL);
    CHECK(strstr(text, "{\"t\":0.000000005,\"event\":\"policy\",\"sgm\":0,\"version\":7,"
                       "\"detail\":\"quote \\\" and \\\\ kept\"}\n") != NULL);
    struct bt_event *evs;
    size_t n;
    REQUIRE(bt_events_read(p, &evs, &n, &e) == 0);
    REQUIRE(n == nts + 1);
    CHECK_EQ_INT(evs[1].t_ns, 1); /* sorted: the policy event at 5 ns moved up */
    CHECK_EQ_INT(evs[2].t_ns, 5);
    CHECK_EQ_STR(evs[2].detail, "quote \" and \\ kept");
    CHECK_EQ_INT(evs[2].version, 7);
    for (unsigned i = 2; i < nts; i++)
        CHECK_EQ_INT(evs[i + 1].t_ns, ts[i]);
    free(evs);

    /* hand-written times: integers, few digits, rounding past 9 digits,
     * exponents (through a double), key order, spaces */
    write_file("events.jsonl",
               "{\"t\": 2, \"event\": \"sgm_down\", \"sgm\": 1}\n"
               "{\"event\": \"sgm_down\", \"sgm\": 1, \"t\" : 2.5}\n"
               "{\"sgm\": 1, \"x\": {\"t\": 9}, \"t\":1700000000.1234567894, \"event\": \"sgm_down\"}\n"
               "{\"t\":1700000000.1234567895, \"event\": \"sgm_down\", \"sgm\": 1}\n"
               "{\"t\": 1.5e1, \"event\": \"sgm_down\", \"sgm\": 1}\n"
               "{\"t\": 0.0000000004, \"event\": \"sgm_down\", \"sgm\": 1}\n");
    REQUIRE(bt_events_read(p, &evs, &n, &e) == 0);
    REQUIRE(n == 6);
    CHECK_EQ_INT(evs[0].t_ns, 0);
    CHECK_EQ_INT(evs[1].t_ns, 2000000000ULL);
    CHECK_EQ_INT(evs[2].t_ns, 2500000000ULL);
    CHECK_EQ_INT(evs[3].t_ns, 15000000000ULL);
    CHECK_EQ_INT(evs[4].t_ns, 1700000000123456789ULL);
    CHECK_EQ_INT(evs[5].t_ns, 1700000000123456790ULL);
    free(evs);
    write_file("events.jsonl", "{\"t\": 10000000001, \"event\": \"sgm_down\", \"sgm\": 1}\n");
    CHECK(bt_events_read(p, &evs, &n, &e) < 0);
    CHECK(strstr(e.msg, "events.jsonl:1: \"t\" out of range") != NULL);
}

/* Value errors in capset.json point at the value: line and column. */
TEST(capset_json_errors_point_at_the_value)
{
    struct bt_err e;
    struct bt_capset_meta m;
    mkdir_tmp();
    const struct {
        const char *text, *want;
    } bad[] = {
        {"{\n  \"schema\": 1,\n  \"members\": [\n    {\"id\": 1, \"weight\": 10},\n"
         "    {\"id\": 70}\n  ]\n}\n",
         "capset.json:5:12: members[1].id: must be an integer 1..64"},
        {"{\"schema\": 1,\n \"members\": [{\"id\": 2}, {\"weight\": 5, \"id\": 2}]}",
         "capset.json:2:45: members[1].id: id 2 appears twice (also members[0])"},
        {"{\"schema\": 1, \"members\": [{\"id\": 2,\n \"weight\": 600}]}",
         "capset.json:2:12: members[0].weight: must be an integer 0..512"},
        {"{\"schema\": 1, \"members\": [{\"weight\": 5}]}",
         "capset.json:1:27: members[0]: missing \"id\""},
        {"{\"schema\": 1, \"members\": [7]}",
         "capset.json:1:27: members[0]: expected an object"},
        {"{\"schema\": 1, \"members\": []}",
         "capset.json:1:26: \"members\" must be an array of 1..64 objects"},
        {"  {\"members\": [{\"id\": 1}]}", "capset.json:1:3: missing \"schema\""},
        {"{\"schema\": 1}", "capset.json:1:1: missing \"members\""},
        {"{\"schema\": \"1\", \"members\": [{\"id\": 1}]}",
         "capset.json:1:12: \"schema\" must be an integer"},
        {"{\"schema\": 2, \"members\": [{\"id\": 1}]}",
         "capset.json:1:12: schema 2 not supported (this baton reads schema 1)"},
        {"{\"schema\": 1, \"members\": [{\"id\": 1}],\n\"mode\": \"sideways\"}",
         "capset.json:2:9: \"mode\" must be"},
        {"{\"schema\": 1, \"members\": [{\"id\": 1}], \"l4\": 1}",
         "capset.json:1:45: \"l4\" must be true or false"},
        {"{\"schema\": 1, \"members\": [{\"id\": 1}], \"nat_pools\": [\"10.0.0.0/8\", \"x/99\"]}",
         "capset.json:1:67: nat_pools[1]: expected a CIDR"},
        {"{\"schema\": 1, \"members\": [{\"id\": 1}], \"nat_pools\": \"10.0.0.0/8\"}",
         "capset.json:1:52: \"nat_pools\" must be an array"},
        {"{\"schema\": 1, \"members\": [{\"id\": 1}], \"files\": {\"nat\": false,\n \"client\": \"yes\"}}",
         "capset.json:2:12: files.client: must be true or false"},
        {"{\"schema\": 1, \"members\": [{\"id\": 1}], \"files\": []}",
         "capset.json:1:48: \"files\" must be an object"},
        {"{\"schema\": 1, \"members\": [{\"id\": 1}], \"generator\": 5}",
         "capset.json:1:52: \"generator\" must be a string"},
        {"[1]", "capset.json:1:1: expected a JSON object"},
        {"{\"schema\": 1, \"schema\": 1}", "capset.json:1:"},
        {"", "capset.json:1:1: "},
    };
    for (unsigned i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        char want[600];
        write_file("capset.json", bad[i].text);
        snprintf(want, sizeof(want), "%s/%s", dir, bad[i].want);
        if (bt_capset_read_meta(dir, &m, &e) != -EINVAL)
            BT_FAIL_AT("case %u not refused with -EINVAL", i);
        else if (strncmp(e.msg, want, strlen(want)) != 0)
            BT_FAIL_AT("case %u: '%s' does not start with '%s'", i, e.msg, want);
    }
    /* defaults for the optional keys */
    write_file("capset.json", "{\"schema\": 1, \"members\": [{\"id\": 64, \"weight\": 0}, {\"id\": 1}]}");
    REQUIRE(bt_capset_read_meta(dir, &m, &e) == 0);
    CHECK_EQ_INT(m.nmembers, 2);
    CHECK_EQ_INT(m.ids[0], 64);
    CHECK_EQ_INT(m.weights[0], 0);
    CHECK_EQ_INT(m.weights[1], 1);
    CHECK_EQ_STR(m.mode, "general");
    CHECK(!m.l4);
    CHECK_EQ_INT(m.npools, 0);
    CHECK_EQ_INT(m.files, 0);
    CHECK_EQ_STR(m.generator, "");
}

/* Every required key of a corrections/nat line is checked, on its line. */
TEST(corrections_and_nat_lines_are_checked)
{
    struct bt_err e;
    char p[512];
    struct bt_correction *c;
    struct bt_nat_map *nm;
    size_t n;
    mkdir_tmp();
    const char *good_c = "{\"t\": 1, \"proto\": \"udp\", \"src\": \"10.0.0.1\", \"sport\": 5, "
                         "\"dst\": \"10.0.0.9\", \"dport\": 6, \"from\": 1, \"to\": 2}\n";
    const struct {
        const char *line, *want;
    } cbad[] = {
        {"{\"proto\": \"udp\", \"src\": \"10.0.0.1\", \"sport\": 5, \"dst\": \"10.0.0.9\", \"dport\": 6, \"from\": 1, \"to\": 2}",
         ":2: missing \"t\""},
        {"{\"t\": 1, \"proto\": \"gre!\", \"src\": \"10.0.0.1\", \"sport\": 5, \"dst\": \"10.0.0.9\", \"dport\": 6, \"from\": 1, \"to\": 2}",
         ":2: \"proto\" must be"},
        {"{\"t\": 1, \"proto\": 47, \"src\": \"10.0.0.300\", \"sport\": 5, \"dst\": \"10.0.0.9\", \"dport\": 6, \"from\": 1, \"to\": 2}",
         ":2: \"src\" must be an IPv4 or IPv6 address"},
        {"{\"t\": 1, \"proto\": 47, \"src\": \"10.0.0.3\", \"sport\": 5, \"dport\": 6, \"from\": 1, \"to\": 2}",
         ":2: missing \"dst\""},
        {"{\"t\": 1, \"proto\": 47, \"src\": \"10.0.0.3\", \"sport\": 65536, \"dst\": \"10.0.0.9\", \"dport\": 6, \"from\": 1, \"to\": 2}",
         ":2: \"sport\" must be an integer 0..65535"},
        {"{\"t\": 1, \"proto\": 47, \"src\": \"10.0.0.3\", \"sport\": 5, \"dst\": \"10.0.0.9\", \"dport\": 6, \"from\": 0, \"to\": 2}",
         ":2: \"from\" must be an integer 1..64"},
        {"{\"t\": 1, \"proto\": 47, \"src\": \"10.0.0.3\", \"sport\": 5, \"dst\": \"10.0.0.9\", \"dport\": 6, \"from\": 1}",
         ":2: missing \"to\""},
        {"{\"t\": 1, \"proto\": 47, \"src\": \"10.0.0.3\", \"sport\": 5, \"dst\": \"::1\", \"dport\": 6, \"from\": 1, \"to\": 2}",
         ":2: \"src\" and \"dst\" mix IPv4 and IPv6 addresses"},
    };
    snprintf(p, sizeof(p), "%s/corrections.jsonl", dir);
    for (unsigned i = 0; i < sizeof(cbad) / sizeof(cbad[0]); i++) {
        char text[1024], want[600];
        snprintf(text, sizeof(text), "%s%s\n", good_c, cbad[i].line);
        write_file("corrections.jsonl", text);
        snprintf(want, sizeof(want), "%s%s", p, cbad[i].want);
        if (bt_corrections_read(p, &c, &n, &e) != -EINVAL)
            BT_FAIL_AT("correction case %u accepted", i);
        else if (strncmp(e.msg, want, strlen(want)) != 0)
            BT_FAIL_AT("correction case %u: '%s' does not start with '%s'", i, e.msg, want);
    }
    write_file("corrections.jsonl", good_c);
    REQUIRE(bt_corrections_read(p, &c, &n, &e) == 0);
    REQUIRE(n == 1);
    CHECK_EQ_INT(c[0].proto, 17);
    CHECK_EQ_INT(c[0].from, 1);
    CHECK_EQ_INT(c[0].dport, 6);
    free(c);

    const char *good_n = "{\"t\": 1, \"proto\": \"tcp\", \"orig\": {\"src\": \"10.0.0.1\", \"sport\": 5, "
                         "\"dst\": \"1.2.3.4\", \"dport\": 80}, \"xlat\": {\"src\": \"100.64.0.1\", "
                         "\"sport\": 40000, \"dst\": \"1.2.3.4\", \"dport\": 80}}\n";
    const struct {
        const char *line, *want;
    } nbad[] = {
        {"{\"t\": 1, \"proto\": \"tcp\", \"orig\": {\"src\": \"10.0.0.1\", \"sport\": 5, \"dst\": \"1.2.3.4\", \"dport\": 80}}",
         ":2: \"xlat\" must be an object"},
        {"{\"t\": 1, \"proto\": \"tcp\", \"orig\": [], \"xlat\": {}}", ":2: \"orig\" must be an object"},
        {"{\"t\": 1, \"proto\": \"tcp\", \"orig\": {\"src\": \"10.0.0.1\", \"sport\": 5, \"dst\": \"1.2.3.4\", \"dport\": 80},"
         " \"xlat\": {\"src\": \"100.64.0.1\", \"dst\": \"1.2.3.4\", \"dport\": 80}}",
         ":2: missing \"sport\""},
        {"{\"t\": 1, \"proto\": \"tcp\", \"orig\": {\"src\": \"10.0.0.1\", \"sport\": 5, \"dst\": \"1.2.3.4\", \"dport\": 80},"
         " \"xlat\": {\"src\": \"2001:db8::1\", \"sport\": 7, \"dst\": \"2001:db8::2\", \"dport\": 80}}",
         ":2: \"orig\" and \"xlat\" mix IPv4 and IPv6"},
        {"\"just a string\"", ":2:15: '[' or '{' expected"},
        {"{\"t\": 1,", ":2:"},
    };
    snprintf(p, sizeof(p), "%s/nat.jsonl", dir);
    for (unsigned i = 0; i < sizeof(nbad) / sizeof(nbad[0]); i++) {
        char text[1024], want[600];
        snprintf(text, sizeof(text), "%s%s\n", good_n, nbad[i].line);
        write_file("nat.jsonl", text);
        snprintf(want, sizeof(want), "%s%s", p, nbad[i].want);
        if (bt_nat_read(p, &nm, &n, &e) != -EINVAL)
            BT_FAIL_AT("nat case %u accepted", i);
        else if (strncmp(e.msg, want, strlen(want)) != 0)
            BT_FAIL_AT("nat case %u: '%s' does not start with '%s'", i, e.msg, want);
    }
    write_file("nat.jsonl", good_n);
    REQUIRE(bt_nat_read(p, &nm, &n, &e) == 0);
    REQUIRE(n == 1);
    CHECK_EQ_INT(nm[0].proto, 6);
    CHECK_EQ_INT(nm[0].tsport, 40000);
    CHECK_EQ_INT(nm[0].odport, 80);
    free(nm);
}

/* bt_capset_writer_links: both link captures exist and are listed even when
 * no packet reached either; without it (and no link packet) neither does. */
TEST(writer_links_declares_both_link_captures)
{
    struct bt_err e;
    char sub[300], path[512];
    struct bt_capset_meta m = {.nmembers = 1, .ids = {1}, .weights = {1}}, r;
    mkdir_tmp();
    for (int declare = 0; declare < 2; declare++) {
        snprintf(sub, sizeof(sub), "%s/links%d", dir, declare);
        struct bt_capset_writer *w = bt_capset_writer_open(sub, &e);
        REQUIRE(w);
        if (declare)
            CHECK(bt_capset_writer_links(w) == 0);
        REQUIRE(bt_capset_writer_close(w, &m, &e) == 0);
        REQUIRE(bt_capset_read_meta(sub, &r, &e) == 0);
        CHECK_EQ_INT(!!(r.files & BT_CAPSET_HAS_CLIENT), declare);
        CHECK_EQ_INT(!!(r.files & BT_CAPSET_HAS_SERVER), declare);
        CHECK_EQ_INT(access(bt_capset_path(sub, "client.pcap", path, sizeof(path)), R_OK) == 0,
                     declare);
        CHECK_EQ_INT(access(bt_capset_path(sub, "server.pcap", path, sizeof(path)), R_OK) == 0,
                     declare);
    }
    /* a server side only: the client side gets its (empty) file too */
    snprintf(sub, sizeof(sub), "%s/server-only", dir);
    struct bt_capset_writer *w = bt_capset_writer_open(sub, &e);
    REQUIRE(w);
    uint8_t pkt[64] = {0};
    CHECK(bt_capset_writer_server(w, 1, pkt, 64, 64) == 0);
    REQUIRE(bt_capset_writer_close(w, &m, &e) == 0);
    REQUIRE(bt_capset_read_meta(sub, &r, &e) == 0);
    CHECK(r.files & BT_CAPSET_HAS_CLIENT);
    CHECK(access(bt_capset_path(sub, "client.pcap", path, sizeof(path)), R_OK) == 0);
}

/* Writers that cannot write say so, naming the path. */
TEST(write_errors_name_the_path)
{
    struct bt_err e;
    struct bt_capset_meta m = {.nmembers = 1, .ids = {1}, .weights = {1}};
    CHECK(bt_capset_write_meta("/nonexistent-dir", &m, &e) < 0);
    CHECK(strstr(e.msg, "/nonexistent-dir/capset.json: cannot create") != NULL);
    CHECK(bt_capset_writer_open("/proc/version/x", &e) == NULL);
    CHECK(strstr(e.msg, "/proc/version/x") != NULL);
    CHECK(bt_capset_writer_close(NULL, &m, &e) == 0);
    if (access("/dev/full", W_OK) == 0) {
        struct bt_event ev = {.t_ns = 1, .kind = BT_EV_SGM_DOWN, .sgm = 1, .weight = -1,
                              .version = -1};
        FILE *f = fopen("/dev/full", "w");
        REQUIRE(f);
        setvbuf(f, NULL, _IONBF, 0);
        CHECK(bt_event_write(f, &ev) < 0);
        fclose(f);
    }
}

/* A member capture whose writes fail (the file size limit) names its file,
 * from the packet that hit it and from close. */
TEST(member_write_errors_name_the_member_file)
{
    char tmpl[] = "/tmp/test-bt_capset-XXXXXX", *d = bt_mkdtemp(tmpl);
    struct bt_capset_meta m = {.nmembers = 2, .ids = {1, 2}, .weights = {1, 1}};
    struct bt_capset_writer *w;
    struct bt_err e = {{0}};
    struct rlimit old, lim;
    static uint8_t pkt[1000];
    int r = 0, i;

    REQUIRE(d != NULL);
    REQUIRE((w = bt_capset_writer_open(d, &e)) != NULL);
    REQUIRE(getrlimit(RLIMIT_FSIZE, &old) == 0);
    lim = old;
    lim.rlim_cur = 64 * 1024;
    signal(SIGXFSZ, SIG_IGN);   /* write(2) fails with EFBIG instead */
    REQUIRE(setrlimit(RLIMIT_FSIZE, &lim) == 0);
    /* ~1 MB: the writer's buffer is flushed, and fails, on the way */
    for (i = 0; i < 1000 && r == 0; i++)
        r = bt_capset_writer_sgm(w, 2, (uint64_t)i * 1000, pkt, sizeof(pkt), sizeof(pkt));
    CHECK_EQ_INT(r, -EFBIG);
    CHECK(i > 1);               /* not the first packet (which opened the file) */
    CHECK(bt_capset_writer_sgm(w, 2, 2000000, pkt, sizeof(pkt), sizeof(pkt)) == -EFBIG);
    /* the writer's first error is sticky: the other files refuse too */
    CHECK(bt_capset_writer_sgm(w, 1, 2000000, pkt, sizeof(pkt), sizeof(pkt)) == -EFBIG);
    CHECK(bt_capset_writer_client(w, 2000000, pkt, sizeof(pkt), sizeof(pkt)) == -EFBIG);
    CHECK(bt_capset_writer_close(w, &m, &e) == -EFBIG);
    setrlimit(RLIMIT_FSIZE, &old);
    signal(SIGXFSZ, SIG_DFL);
    if (!strstr(e.msg, "/sgm-2.pcap: write failed: File too large"))
        BT_FAIL_AT("message: %s", e.msg);
}

static uint8_t *slurp(const char *path, size_t *n)
{
    FILE *f = fopen(path, "rb");
    uint8_t *b = NULL;
    long len;

    if (!f)
        return NULL;
    if (fseek(f, 0, SEEK_END) == 0 && (len = ftell(f)) >= 0 && fseek(f, 0, SEEK_SET) == 0 &&
        (b = malloc((size_t)len + 1)) && fread(b, 1, (size_t)len, f) == (size_t)len)
        *n = (size_t)len;
    else
        free(b), b = NULL;
    fclose(f);
    return b;
}

/* The capture set's own record writer gives the bytes of bt_pcap_write:
 * records of every size (empty, a few bytes, more than the writer's buffer,
 * more than the snaplen: cut at 262144, the wire length kept), a wire
 * length below the captured one, times up to the format's last second; a
 * time past it is refused (-EINVAL) and sticks. */
TEST(writer_pcaps_are_the_bytes_of_bt_pcap_write)
{
    char tmpl[] = "/tmp/test-bt_capset-XXXXXX", *d = bt_mkdtemp(tmpl), ref[320], got[320];
    static uint8_t pkt[300000];
    static const uint32_t lens[] = {0, 1, 60, 128, 1514, 70000, 262143, 262144, 262145, 299999};
    struct bt_capset_meta m = {.nmembers = 1, .ids = {1}, .weights = {1}};
    struct bt_capset_writer *w;
    struct bt_pcap_writer *pw;
    struct bt_err e = {{0}};
    uint64_t x = 88172645463325252ULL;

    REQUIRE(d != NULL);
    for (size_t i = 0; i < sizeof(pkt); i++)
        pkt[i] = (uint8_t)(i * 131 + (i >> 9));
    snprintf(ref, sizeof(ref), "%s/ref.pcap", d);
    REQUIRE((w = bt_capset_writer_open(d, &e)) != NULL);
    REQUIRE((pw = bt_pcap_writer_open(ref, 1, 0, &e)) != NULL);
    for (int i = 0; i < 3000; i++) {
        x ^= x << 13, x ^= x >> 7, x ^= x << 17;
        uint32_t len = i < 10 ? lens[i] : (uint32_t)(x % 1600);
        if (i % 97 == 5)
            len = 100000 + (uint32_t)(x % 200000);
        uint32_t wl = (x >> 40) % 3 == 0 ? len / 2 : len + (uint32_t)(x >> 50) % 100;
        uint64_t ts = i == 2999 ? (uint64_t)UINT32_MAX * 1000000000ULL + 999999999ULL
                                : (uint64_t)i * 1234567ULL + (x >> 44);
        CHECK(bt_capset_writer_client(w, ts, pkt + (x >> 20) % 1000, len, wl) == 0);
        CHECK(bt_pcap_write(pw, ts, pkt + (x >> 20) % 1000, len, wl) == 0);
        if (bt_test_failed)
            break;
    }
    CHECK(bt_pcap_writer_close(pw) == 0);
    CHECK(bt_capset_writer_close(w, &m, &e) == 0);
    size_t na = 0, nb = 0;
    snprintf(got, sizeof(got), "%s/client.pcap", d);
    uint8_t *a = slurp(ref, &na), *b = slurp(got, &nb);
    REQUIRE(a && b);
    CHECK(na > 5u * 1000 * 1000);   /* several flushes of the buffer */
    CHECK_EQ_INT(nb, na);
    CHECK(na == nb && memcmp(a, b, na) == 0);
    free(a);
    free(b);
    snprintf(got, sizeof(got), "%s/sgm-1.pcap", d);   /* a member that saw nothing */
    b = slurp(got, &nb);
    REQUIRE(b);
    CHECK_EQ_INT(nb, 24);
    free(b);
    /* past the last second: refused, and the writer's error from then on */
    REQUIRE((w = bt_capset_writer_open(d, &e)) != NULL);
    CHECK(bt_capset_writer_server(w, (uint64_t)(UINT32_MAX + 1ULL) * 1000000000ULL, pkt, 60, 60) ==
          -EINVAL);
    CHECK(bt_capset_writer_server(w, 1, pkt, 60, 60) == -EINVAL);
    CHECK(bt_capset_writer_close(w, &m, &e) == -EINVAL);
    CHECK(strstr(e.msg, "/server.pcap: write failed: Invalid argument") != NULL);
}

/* The examples in docs/formats.md (section capset) are read by these
 * readers as they stand: the documentation cannot drift from the code. */
TEST(docs_examples_are_valid)
{
    char path[1024], *doc = NULL, *sec, *end;
    size_t cap = 0;
    snprintf(path, sizeof(path), "%s/../docs/formats.md", BT_TESTS_DIR);
    FILE *f = fopen(path, "r");
    if (!f)
        SKIP("%s absent", path);
    ssize_t len = getdelim(&doc, &cap, 0, f);
    fclose(f);
    REQUIRE(len > 0);
    sec = strstr(doc, "<!-- section: capset");
    end = sec ? strstr(sec, "<!-- end: capset -->") : NULL;
    REQUIRE(sec && end);
    *end = 0;
    mkdir_tmp();
    unsigned blocks = 0;
    const char *heads[] = {"### capset.json", "### events.jsonl", "### corrections.jsonl",
                           "### nat.jsonl"};
    for (unsigned h = 0; h < 4; h++) {
        char *s = strstr(sec, heads[h]), *b, *be;
        REQUIRE(s);
        b = strstr(s, "```json\n");
        REQUIRE(b);
        b += 8;
        be = strstr(b, "```");
        REQUIRE(be);
        char text[4096];
        snprintf(text, sizeof(text), "%.*s", (int)(be - b), b);
        struct bt_err e;
        char p[512];
        size_t n;
        if (h == 0) {
            struct bt_capset_meta m;
            write_file("capset.json", text);
            if (bt_capset_read_meta(dir, &m, &e) != 0)
                BT_FAIL_AT("docs capset.json example: %s", e.msg);
            else
                CHECK(m.nmembers >= 2);
        } else if (h == 1) {
            struct bt_event *ev;
            write_file("events.jsonl", text);
            snprintf(p, sizeof(p), "%s/events.jsonl", dir);
            if (bt_events_read(p, &ev, &n, &e) != 0)
                BT_FAIL_AT("docs events example: %s", e.msg);
            else {
                CHECK(n >= 5);
                free(ev);
            }
        } else if (h == 2) {
            struct bt_correction *c;
            write_file("corrections.jsonl", text);
            snprintf(p, sizeof(p), "%s/corrections.jsonl", dir);
            if (bt_corrections_read(p, &c, &n, &e) != 0)
                BT_FAIL_AT("docs corrections example: %s", e.msg);
            else {
                CHECK(n >= 1);
                free(c);
            }
        } else {
            struct bt_nat_map *nm;
            /* the docs spread the example over lines for reading: join */
            for (char *q = text; *q; q++)
                if (*q == '\n' && q[1])
                    *q = ' ';
            write_file("nat.jsonl", text);
            snprintf(p, sizeof(p), "%s/nat.jsonl", dir);
            if (bt_nat_read(p, &nm, &n, &e) != 0)
                BT_FAIL_AT("docs nat example: %s", e.msg);
            else {
                CHECK(n >= 1);
                free(nm);
            }
        }
        blocks++;
    }
    CHECK_EQ_INT(blocks, 4);
    free(doc);
}
