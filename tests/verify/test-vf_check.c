/* SPDX-License-Identifier: BSD-3-Clause */
/* Unit tests of the check engine on capture sets written here with lib's
 * writer (the black-box tests use an independent scapy oracle). */
#include <errno.h>
#include <jansson.h>
#include <stdlib.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include "bt_test.h"
#include "bt_capset.h"
#include "bt_err.h"
#include "bt_parse.h"
#include "vf_api.h"
#include "../lib/pktbuild.h"

static unsigned frame(uint8_t *f, uint32_t c, uint32_t s, uint16_t cp, int reply, uint8_t flags)
{
    unsigned o = pb_eth(f, 0, 0, 0, 0, 0x0800);
    o += pb_ip4(f + o, 5, 40, 0, 6, reply ? s : c, reply ? c : s);
    o += pb_tcp(f + o, reply ? 80 : cp, reply ? cp : 80, 1, 1, flags, 20);
    return o;
}

/* nflows flows over members 1 and 2; if split, flow 0's replies go to 2. */
static void make_n(const char *dir, int nflows, int split, int fail)
{
    struct bt_err e;
    struct bt_capset_writer *w = bt_capset_writer_open(dir, &e);
    uint8_t f[128];
    for (int i = 0; i < nflows; i++) {
        int m = 1 + i % 2;
        uint64_t t = (uint64_t)i * 1000000;
        unsigned n = frame(f, 0x0a000001 + (uint32_t)i, 0xc0000201, (uint16_t)(1000 + i), 0, BT_TCP_SYN);
        bt_capset_writer_sgm(w, m, t, f, n, n);
        n = frame(f, 0x0a000001 + (uint32_t)i, 0xc0000201, (uint16_t)(1000 + i), 1, BT_TCP_SYN | BT_TCP_ACK);
        bt_capset_writer_sgm(w, (split && i == 0) ? 2 : m, t + 100000, f, n, n);
        /* a later packet; member 2's flows move to 1 if member 2 failed */
        n = frame(f, 0x0a000001 + (uint32_t)i, 0xc0000201, (uint16_t)(1000 + i), 0, BT_TCP_ACK);
        bt_capset_writer_sgm(w, fail && m == 2 ? 1 : m, t + 500000000, f, n, n);
        /* and the server's answer: a TCP flow survives only if both ends go on */
        n = frame(f, 0x0a000001 + (uint32_t)i, 0xc0000201, (uint16_t)(1000 + i), 1, BT_TCP_ACK);
        if (fail == 1 || (fail == 2 && m != 2))
            bt_capset_writer_sgm(w, fail && m == 2 ? 1 : m, t + 500100000, f, n, n);
    }
    if (fail) {
        struct bt_event ev = {.t_ns = 300000000, .kind = BT_EV_SGM_DOWN, .sgm = 2,
                              .weight = -1, .version = -1};
        bt_capset_writer_event(w, &ev);
    }
    struct bt_capset_meta m = {.nmembers = 2, .ids = {1, 2}, .weights = {1, 1}};
    bt_capset_writer_close(w, &m, &e);
}

static void make(const char *dir, int split, int fail)
{
    make_n(dir, 100, split, fail);
}

static struct vf_report *run(const char *dir)
{
    struct vf_input in = {.capset = dir};
    struct vf_thresholds t;
    struct vf_report *r = NULL;
    struct bt_err e;
    vf_thresholds_default(&t);
    if (vf_check(&in, &t, &r, &e) < 0)
        fprintf(stderr, "%s\n", e.msg);
    return r;
}

TEST(clean_set_passes_and_json_has_the_schema)
{
    char dir[] = "/tmp/bt-vfc-XXXXXX";
    REQUIRE(bt_mkdtemp(dir));
    make(dir, 0, 0);
    struct vf_report *r = run(dir);
    REQUIRE(r);
    CHECK(vf_report_pass(r));
    json_t *j = vf_report_json(r);
    CHECK_EQ_INT(json_integer_value(json_object_get(j, "flows")), 100);
    CHECK(json_is_true(json_object_get(j, "pass")));
    json_t *per = json_object_get(json_object_get(j, "balance"), "per_sgm");
    CHECK_EQ_INT(json_array_size(per), 2);
    CHECK(!json_is_true(json_object_get(json_object_get(j, "balance"), "judged")));
    json_decref(j);
    bool pass;
    const char *msg;
    CHECK_EQ_INT(vf_report_check(r, "balance", &pass, &msg), 0); /* not judged */
    CHECK(vf_report_check(r, "nonsense", &pass, &msg) < 0);
    vf_report_free(r);
}

TEST(split_flow_is_a_symmetry_violation)
{
    char dir[] = "/tmp/bt-vfc-XXXXXX";
    REQUIRE(bt_mkdtemp(dir));
    make(dir, 1, 0);
    struct vf_report *r = run(dir);
    REQUIRE(r);
    CHECK(!vf_report_pass(r));
    bool pass;
    const char *msg;
    CHECK_EQ_INT(vf_report_check(r, "symmetry", &pass, &msg), 1);
    CHECK(!pass);
    CHECK(strstr(msg, "saw 1") != NULL);
    json_t *j = vf_report_json(r);
    json_t *off = json_object_get(json_object_get(j, "symmetry"), "offenders");
    REQUIRE(json_array_size(off) == 1);
    CHECK(strncmp(json_string_value(json_object_get(json_array_get(off, 0), "community_id")), "1:", 2) == 0);
    json_decref(j);
    vf_report_free(r);
}

TEST(failover_survivors_counted_with_their_gap)
{
    char dir[] = "/tmp/bt-vfc-XXXXXX";
    REQUIRE(bt_mkdtemp(dir));
    make(dir, 0, 1);
    struct vf_report *r = run(dir);
    REQUIRE(r);
    json_t *j = vf_report_json(r);
    json_t *fo = json_object_get(j, "failover");
    CHECK_EQ_INT(json_integer_value(json_object_get(fo, "affected")), 50);
    CHECK_EQ_INT(json_integer_value(json_object_get(fo, "survived")), 50);
    CHECK_EQ_INT(json_integer_value(json_object_get(fo, "lost")), 0);
    /* gaps: 500 ms - 100 us after each flow's SYN-ACK: above 300 ms */
    CHECK(json_real_value(json_object_get(fo, "max_gap_ms")) > 499);
    CHECK(!json_is_true(json_object_get(fo, "pass")));
    CHECK_EQ_INT(json_integer_value(json_object_get(json_object_get(j, "affinity"), "violations")), 0);
    json_decref(j);
    vf_report_free(r);
}

TEST(failover_with_only_the_client_retrying_is_lost)
{
    char dir[] = "/tmp/bt-vfc-XXXXXX";
    REQUIRE(bt_mkdtemp(dir));
    make(dir, 0, 2); /* member 2's flows: the client retries on 1, no answer */
    struct vf_report *r = run(dir);
    REQUIRE(r);
    json_t *j = vf_report_json(r);
    json_t *fo = json_object_get(j, "failover");
    CHECK_EQ_INT(json_integer_value(json_object_get(fo, "affected")), 50);
    CHECK_EQ_INT(json_integer_value(json_object_get(fo, "survived")), 0);
    CHECK_EQ_INT(json_integer_value(json_object_get(fo, "lost")), 50);
    json_decref(j);
    vf_report_free(r);
}

/* The cluster delivered nothing to the server side: with the links declared
 * (bt_capset_writer_links) server.pcap exists, empty, and a loss threshold
 * judges 100 % loss instead of skipping the check. */
TEST(nothing_on_the_server_side_is_total_loss)
{
    char dir[] = "/tmp/bt-vfc-XXXXXX";
    struct bt_err e;
    uint8_t f[128];
    REQUIRE(bt_mkdtemp(dir));
    struct bt_capset_writer *w = bt_capset_writer_open(dir, &e);
    REQUIRE(w);
    REQUIRE(bt_capset_writer_links(w) == 0);
    for (int i = 0; i < 10; i++) {
        unsigned n = frame(f, 0x0a000001 + (uint32_t)i, 0xc0000201, (uint16_t)(1000 + i), 0, BT_TCP_SYN);
        uint64_t t = (uint64_t)i * 1000000;
        bt_capset_writer_client(w, t, f, n, n);
        bt_capset_writer_sgm(w, 1 + i % 2, t + 50000, f, n, n);
    }
    struct bt_capset_meta m = {.nmembers = 2, .ids = {1, 2}, .weights = {1, 1}};
    REQUIRE(bt_capset_writer_close(w, &m, &e) == 0);
    struct vf_input in = {.capset = dir};
    struct vf_thresholds t;
    struct vf_report *r = NULL;
    vf_thresholds_default(&t);
    t.max_loss_pct = 1;
    REQUIRE(vf_check(&in, &t, &r, &e) == 0);
    bool pass;
    const char *msg;
    CHECK_EQ_INT(vf_report_check(r, "loss", &pass, &msg), 1);
    CHECK(!pass);
    CHECK(strstr(msg, "100.000% loss client-to-server") != NULL);
    CHECK(!vf_report_pass(r));
    vf_report_free(r);
}

/* The report (or the error) of one capture set with the given threads. */
static char *report_text(const char *dir, unsigned threads, struct bt_err *e)
{
    struct vf_input in = {.capset = dir, .threads = threads};
    struct vf_thresholds t;
    struct vf_report *r = NULL;
    vf_thresholds_default(&t);
    t.idle_ns = 400000000;  /* flows end by idling mid-capture: sweeps run */
    if (vf_check(&in, &t, &r, e) < 0)
        return NULL;
    json_t *j = vf_report_json(r);
    char *txt = json_dumps(j, JSON_SORT_KEYS);
    json_decref(j);
    vf_report_free(r);
    return txt;
}

/* A reader thread beside the checks changes nothing: the same report over
 * sets that cross many hand-over blocks, with moves, asymmetry and a
 * failover, and the same error for a damaged capture. */
TEST(one_and_two_threads_give_the_same_report)
{
    static const int sets[][3] = {{100, 0, 0}, {5000, 1, 0}, {5000, 0, 1}, {3000, 1, 2}};
    for (unsigned k = 0; k < sizeof(sets) / sizeof(sets[0]); k++) {
        char dir[] = "/tmp/bt-vfc-XXXXXX";
        struct bt_err e1, e2;
        REQUIRE(bt_mkdtemp(dir));
        make_n(dir, sets[k][0], sets[k][1], sets[k][2]);
        char *a = report_text(dir, 1, &e1), *b = report_text(dir, 2, &e2);
        REQUIRE(a && b);
        if (strcmp(a, b) != 0)
            BT_FAIL_AT("set %u: one thread and two differ:\n%s\n%s", k, a, b);
        free(a);
        free(b);
        /* cut the last record of member 1's capture: the same error both ways */
        char path[4096];
        bt_capset_sgm_path(dir, 1, path, sizeof(path));
        FILE *f = fopen(path, "r+");
        REQUIRE(f);
        REQUIRE(fseek(f, 0, SEEK_END) == 0);
        long len = ftell(f);
        fclose(f);
        REQUIRE(truncate(path, len - 3) == 0);
        a = report_text(dir, 1, &e1);
        b = report_text(dir, 2, &e2);
        CHECK(a == NULL && b == NULL);
        CHECK_EQ_STR(e1.msg, e2.msg);
        CHECK(strstr(e1.msg, "sgm-1.pcap: packet ") != NULL);
        free(a);
        free(b);
    }
}

/* In a child whose address space is limited to what it uses plus 48 MB:
 * the flow table maps fewer entries (4M need ~440 MB); 300,000 concurrent
 * flows (SYNs 1 us apart, none idles out) fill it. That is an error naming
 * the limit, not a report with the flows beyond it counted as not_parsed. */
TEST(a_table_shrunk_by_the_address_space_limit_is_an_error_when_full)
{
#ifdef __SANITIZE_ADDRESS__
    SKIP("ASan reserves terabytes of shadow address space: RLIMIT_AS cannot be tested under it");
#endif
    char dir[] = "/tmp/bt-vfc-XXXXXX";
    struct bt_err e;
    uint8_t f[128];
    REQUIRE(bt_mkdtemp(dir));
    struct bt_capset_writer *w = bt_capset_writer_open(dir, &e);
    REQUIRE(w);
    for (uint32_t i = 0; i < 300000; i++) {
        unsigned n = frame(f, 0x0a000000 + i, 0xc0000201, (uint16_t)(1024 + i % 60000), 0,
                           BT_TCP_SYN);
        REQUIRE(bt_capset_writer_sgm(w, 1, 1000000000ULL + i * 1000ULL, f, n, n) == 0);
    }
    struct bt_capset_meta m = {.nmembers = 1, .ids = {1}, .weights = {1}};
    REQUIRE(bt_capset_writer_close(w, &m, &e) == 0);
    fflush(NULL);
    pid_t pid = fork();
    REQUIRE(pid >= 0);
    if (pid == 0) {
        long pages = 0;
        FILE *sf = fopen("/proc/self/statm", "r");
        if (!sf || fscanf(sf, "%ld", &pages) != 1)
            _exit(10);
        fclose(sf);
        struct rlimit rl;
        rl.rlim_cur = rl.rlim_max = (rlim_t)pages * (rlim_t)sysconf(_SC_PAGESIZE) + (48u << 20);
        if (setrlimit(RLIMIT_AS, &rl) != 0)
            _exit(11);
        struct vf_input in = {.capset = dir, .threads = 1};
        struct vf_thresholds t;
        struct vf_report *r = NULL;
        vf_thresholds_default(&t);
        int rc = vf_check(&in, &t, &r, &e);
        if (rc == 0) {
            json_t *j = vf_report_json(r);
            fprintf(stderr, "passed under the limit: not_parsed %lld of flows %lld\n",
                    (long long)json_integer_value(json_object_get(j, "not_parsed")),
                    (long long)json_integer_value(json_object_get(j, "flows")));
            _exit(1);
        }
        fprintf(stderr, "%s\n", e.msg);
        _exit(rc == -ENOMEM && strstr(e.msg, "flow table full at ") &&
              strstr(e.msg, "ulimit -v") ? 0 : 2);
    }
    int st = 0;
    REQUIRE(waitpid(pid, &st, 0) == pid);
    CHECK(WIFEXITED(st));
    CHECK_EQ_INT(WEXITSTATUS(st), 0);
}
