/* SPDX-License-Identifier: BSD-3-Clause */
#include <errno.h>
#include <stdlib.h>
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
    if (!mkdtemp(dir))
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
    bt_addr_parse("2001:db8::1", c.dst);
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
    CHECK(r.files & BT_CAPSET_HAS_CLIENT);
    CHECK(!(r.files & BT_CAPSET_HAS_SERVER));
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
    free(ev);
    snprintf(p, sizeof(p), "%s/none.jsonl", dir);
    CHECK(bt_events_read(p, &ev, &n, &e) == -ENOENT);
}
