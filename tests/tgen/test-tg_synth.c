/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * tg_synth.c: the --synth spec parser (defaults, every item, every error
 * naming what to change, MTU limits per family) and the conversations it
 * builds with libnet, checked against a TCP model: each side's sequence
 * numbers advance by what it sent, every ACK acknowledges what the other
 * side sent, packets in time order, checksums right, frames within MTU 1500.
 */
#include "bt_test.h"

#include <errno.h>

#include "bt_csum.h"
#include "bt_err.h"
#include "bt_parse.h"
#include "tg_priv.h"

static int build(const char *spec, struct tg_tset *s)
{
    struct tg_tmpl_cfg c;
    struct bt_err e = {{0}};

    memset(&c, 0, sizeof(c));
    snprintf(c.synth, sizeof(c.synth), "%s", spec);
    memset(s, 0, sizeof(*s));
    int r = tg_tset_add_synth(s, &c, 0, &e);
    if (r < 0)
        fprintf(stderr, "%s: %s\n", spec, e.msg);
    return r;
}

TEST(defaults_and_items)
{
    struct tg_synth s;
    struct bt_err e;

    REQUIRE(tg_synth_parse("tcp", &s, &e) == 0);
    CHECK(s.tcp && !s.v6);
    CHECK_EQ_INT(s.req, 100);
    CHECK_EQ_INT(s.resp, 1000);
    CHECK_EQ_INT(s.nresp, 1);
    CHECK_EQ_INT(s.rounds, 1);
    CHECK_EQ_INT(s.rtt_ns, 1000000);
    CHECK_EQ_INT(s.port, 80);
    REQUIRE(tg_synth_parse("udp", &s, &e) == 0);
    CHECK(!s.tcp);
    CHECK_EQ_INT(s.port, 9);
    REQUIRE(tg_synth_parse("udp,req=7,resp=33x4,rounds=3,rtt=250us,port=5004,v6", &s, &e) == 0);
    CHECK_EQ_INT(s.req, 7);
    CHECK_EQ_INT(s.resp, 33);
    CHECK_EQ_INT(s.nresp, 4);
    CHECK_EQ_INT(s.rounds, 3);
    CHECK_EQ_INT(s.rtt_ns, 250000);
    CHECK_EQ_INT(s.port, 5004);
    CHECK(s.v6);
    REQUIRE(tg_synth_parse("tcp,v6,v4,resp=1460", &s, &e) == 0);
    CHECK(!s.v6);
    /* the largest payload per family at MTU 1500 */
    CHECK(tg_synth_check("tcp,resp=1460", &e) == 0);
    CHECK(tg_synth_check("tcp,v6,resp=1440", &e) == 0);
    CHECK(tg_synth_check("udp,req=1472,resp=1472", &e) == 0);
    CHECK(tg_synth_check("udp,v6,req=1452,resp=1452", &e) == 0);
}

TEST(bad_specs_say_what_to_change)
{
    static const struct { const char *spec, *want; } bad[] = {
        {"", "must start with tcp or udp"},
        {"icmp", "must start with tcp or udp"},
        {",tcp", "an empty item"},
        {"tcp,,req=1", "an empty item"},
        {"tcp,", "an empty item"},
        {"tcp,req=", "req=BYTES"},
        {"tcp,req=-1", "req=BYTES"},
        {"tcp,req= 5", "req=BYTES"},
        {"tcp,req=1000001", "0..1000000"},
        {"tcp,req=12k", "req=BYTES"},
        {"tcp,resp=10x0", "COUNT 1..100000"},
        {"tcp,resp=10x", "COUNT 1..100000"},
        {"tcp,resp=10y3", "resp=BYTES or BYTESxCOUNT"},
        {"tcp,resp=1461", "give resp at most 1460"},
        {"tcp,v6,resp=1441", "give resp at most 1440"},
        {"tcp,resp=1441,v6", "give resp at most 1440"},
        {"udp,resp=1473", "1472 for UDP"},
        {"udp,v6,resp=1453", "give resp at most 1452"},
        {"udp,req=1473", "req at most 1472"},
        {"udp,v6,req=1453", "req at most 1452"},
        {"tcp,rounds=0", "rounds=N, 1..10000"},
        {"tcp,rounds=10001", "rounds=N"},
        {"tcp,rtt=soon", "rtt=DURATION"},
        {"tcp,rtt=61s", "up to 60s"},
        {"tcp,port=0", "port=1..65535"},
        {"tcp,port=65536", "port=1..65535"},
        {"tcp,color=red", "unknown item 'color=red'"},
        {"tcp,resp=10x100000,rounds=10000", "at most 100000"},
    };
    struct bt_err e;
    char longspec[TG_SYNTH_MAX + 10];

    for (unsigned i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        memset(e.msg, 0, sizeof(e.msg));
        if (tg_synth_check(bad[i].spec, &e) == 0) {
            BT_FAIL_AT("accepted '%s'", bad[i].spec);
            continue;
        }
        if (!strstr(e.msg, bad[i].want) || !strstr(e.msg, "--synth"))
            BT_FAIL_AT("'%s': message \"%s\" lacks \"%s\"", bad[i].spec, e.msg, bad[i].want);
    }
    memset(longspec, 'x', sizeof(longspec) - 1);
    longspec[sizeof(longspec) - 1] = 0;
    memcpy(longspec, "tcp,", 4);
    CHECK(tg_synth_check(longspec, &e) == -EINVAL);
    CHECK(strstr(e.msg, "longer than") != NULL);
    CHECK(tg_synth_check(NULL, &e) == -EINVAL);
}

/* Walks template t as TCP would: returns the number of violations. */
static unsigned tcp_model(const struct tg_tmpl *t)
{
    uint32_t next[2] = {0, 0};
    bool have[2] = {false, false};
    unsigned bad = 0;

    for (uint32_t i = 0; i < t->n; i++) {
        const struct tg_tpkt *tp = &t->p[i];
        unsigned s = tp->side, o = !s;
        if (tp->tcp_flags & BT_TCP_SYN) {
            next[s] = tp->seq;
            have[s] = true;
        }
        if (!have[s] || tp->seq != next[s]) {
            fprintf(stderr, "packet %u: seq %u, expected %u\n", i + 1, tp->seq, next[s]);
            bad++;
        }
        if ((tp->tcp_flags & BT_TCP_ACK) && (!have[o] || tp->ack != next[o])) {
            fprintf(stderr, "packet %u: ack %u, expected %u\n", i + 1, tp->ack, next[o]);
            bad++;
        }
        next[s] = tp->seq + tp->paylen + !!(tp->tcp_flags & BT_TCP_SYN) +
                  !!(tp->tcp_flags & BT_TCP_FIN);
    }
    return bad;
}

/* Checks every frame of t (parses, checksums, MTU, sides, order). */
static void frames_ok(const struct tg_tmpl *t, const char *what)
{
    for (uint32_t i = 0; i < t->n; i++) {
        const struct tg_tpkt *tp = &t->p[i];
        const uint8_t *f = t->blob + tp->off;
        struct bt_parsed p;
        if (bt_parse(f, tp->len, BT_LINK_ETHERNET, &p) != BT_PARSE_OK) {
            BT_FAIL_AT("%s: packet %u does not parse", what, i + 1);
            continue;
        }
        if (bt_csum_check(f, tp->len, &p) != 0)
            BT_FAIL_AT("%s: packet %u: bad checksum", what, i + 1);
        if (tp->len > 1514)
            BT_FAIL_AT("%s: packet %u: %u bytes, over MTU 1500", what, i + 1, tp->len);
        if (i && tp->rel_ns < t->p[i - 1].rel_ns)
            BT_FAIL_AT("%s: packet %u goes back in time", what, i + 1);
        /* the side matches the addresses */
        if (memcmp(tp->side ? p.dst : p.src, t->caddr, 16) ||
            (tp->side ? p.sport : p.dport) != t->sport)
            BT_FAIL_AT("%s: packet %u: side %u disagrees with its addresses", what, i + 1,
                       tp->side);
        if (p.payload_len != tp->paylen)
            BT_FAIL_AT("%s: packet %u: paylen %u, frame %u", what, i + 1, tp->paylen,
                       p.payload_len);
    }
}

TEST(tcp_conversation_follows_tcp)
{
    static const struct { const char *spec; unsigned n; } cases[] = {
        /* SYN, SYN-ACK, ACK, request, 3 responses + ACKs after 2 and 3, FIN, FIN, ACK */
        {"tcp,req=200,resp=1400x3", 3 + 1 + 3 + 2 + 3},
        {"tcp,req=5000,resp=1460x10", 3 + 4 + 10 + 5 + 3},       /* 5000 = 4 segments */
        {"tcp,req=1,resp=10,rounds=4", 3 + 4 * (1 + 1 + 1) + 3},
        {"tcp,req=3000,resp=1440x2,v6", 3 + 3 + 2 + 1 + 3},       /* v6 MSS 1440 */
        {"tcp,req=0,resp=0", 3 + 1 + 1 + 1 + 3},
    };
    struct tg_tset s;

    for (unsigned c = 0; c < sizeof(cases) / sizeof(cases[0]); c++) {
        REQUIRE(build(cases[c].spec, &s) == 0);
        REQUIRE(s.n == 1);
        const struct tg_tmpl *t = &s.t[0];
        CHECK_EQ_INT(t->n, cases[c].n);
        CHECK_EQ_INT(t->proto, 6);
        CHECK_EQ_INT(t->family, strstr(cases[c].spec, "v6") ? 6 : 4);
        CHECK_EQ_INT(t->sport, 80);
        CHECK_EQ_INT(t->p[0].tcp_flags, BT_TCP_SYN);
        CHECK_EQ_INT(t->p[0].side, 0);
        CHECK_EQ_INT(t->p[1].tcp_flags, BT_TCP_SYN | BT_TCP_ACK);
        CHECK_EQ_INT(t->p[1].side, 1);
        CHECK_EQ_INT(t->p[t->n - 1].tcp_flags, BT_TCP_ACK);
        CHECK_EQ_INT(t->p[t->n - 1].side, 0);
        CHECK_EQ_INT(tcp_model(t), 0);
        frames_ok(t, cases[c].spec);
        char name[TG_SYNTH_MAX + 16];
        snprintf(name, sizeof(name), "synth:%s", cases[c].spec);
        CHECK_EQ_STR(t->name, name);
        tg_tset_clear(&s);
    }
}

TEST(tcp_payloads_and_times)
{
    struct tg_tset s;

    REQUIRE(build("tcp,req=200,resp=1400x3,rtt=10ms", &s) == 0);
    const struct tg_tmpl *t = &s.t[0];
    uint64_t client_bytes = 0, server_bytes = 0;
    for (uint32_t i = 0; i < t->n; i++)
        *(t->p[i].side ? &server_bytes : &client_bytes) += t->p[i].paylen;
    CHECK_EQ_INT(client_bytes, 200);
    CHECK_EQ_INT(server_bytes, 3 * 1400);
    CHECK_EQ_INT(t->p[3].paylen, 200);
    CHECK_EQ_INT(t->p[4].paylen, 1400);
    /* the SYN-ACK half an RTT after the SYN, the ACK one RTT after */
    CHECK_EQ_INT(t->p[1].rel_ns, 5000000);
    CHECK_EQ_INT(t->p[2].rel_ns, 10000000);
    /* the first response half an RTT after the request */
    CHECK_EQ_INT(t->p[4].rel_ns - t->p[3].rel_ns, 5000000);
    CHECK_EQ_INT(t->nclient, 7);  /* SYN, ACK, request, 2 ACKs, FIN, ACK */
    tg_tset_clear(&s);
}

TEST(udp_rounds)
{
    struct tg_tset s;

    REQUIRE(build("udp,req=100,resp=500x2,rounds=3,rtt=4ms,port=5004", &s) == 0);
    const struct tg_tmpl *t = &s.t[0];
    CHECK_EQ_INT(t->n, 3 * 3);
    CHECK_EQ_INT(t->proto, 17);
    CHECK_EQ_INT(t->sport, 5004);
    for (uint32_t i = 0; i < t->n; i++) {
        CHECK_EQ_INT(t->p[i].side, i % 3 != 0);
        CHECK_EQ_INT(t->p[i].paylen, i % 3 ? 500 : 100);
        CHECK_EQ_INT(t->p[i].tcp_flags, 0);
    }
    CHECK_EQ_INT(t->p[1].rel_ns, 2000000);
    frames_ok(t, "udp");
    tg_tset_clear(&s);
    REQUIRE(build("udp,v6,req=1452,resp=1452", &s) == 0);
    CHECK_EQ_INT(s.t[0].family, 6);
    CHECK_EQ_INT(s.t[0].p[0].len, 14 + 40 + 8 + 1452);
    frames_ok(&s.t[0], "udp v6");
    tg_tset_clear(&s);
}

/* The frame checks above can fail: a damaged frame is caught. */
TEST(checks_catch_damage)
{
    struct tg_tset s;

    REQUIRE(build("tcp,req=200,resp=1400x3", &s) == 0);
    struct tg_tmpl *t = &s.t[0];
    uint8_t *f = s.blobs[0] + t->p[3].off;
    struct bt_parsed p;
    REQUIRE(bt_parse(f, t->p[3].len, BT_LINK_ETHERNET, &p) == BT_PARSE_OK);
    f[p.payload_off] ^= 0x20;
    CHECK(bt_csum_check(f, t->p[3].len, &p) == -EBADMSG);
    f[p.payload_off] ^= 0x20;
    CHECK(bt_csum_check(f, t->p[3].len, &p) == 0);
    /* and the model catches a sequence number off by one */
    t->p[4].seq++;
    CHECK(tcp_model(t) >= 1);
    t->p[4].seq--;
    t->p[5].ack--;
    CHECK(tcp_model(t) >= 1);
    tg_tset_clear(&s);
}
