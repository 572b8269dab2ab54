/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * tg_engine.c through the Core API (tg_api.h), on a virtual clock. A toy
 * device under test built here carries what port 0 sends to port 1 and
 * back after a delay, and can drop every server reply, hide-NAT the client
 * address, lose the first copy of every packet or reset a connection.
 * Checked: open-loop shape and timing, distinct conversations, rewriting
 * (checksums, pools, ports, per-flow TCP sequence numbers) for v4, v6 and
 * VLAN over synthetic and committed templates, the closed-loop rule, all
 * flows complete, failures after the retries with exponential backoff, NAT
 * learning, retransmission, RSTs, rate caps (pps, bps, cps, concurrency),
 * --seed repeatability, tg_tx_fill, partitions, stop/abort, the pool, and
 * tg_engine_new's refusals.
 */
#include "bt_test.h"

#include <errno.h>

#include "bt_csum.h"
#include "bt_err.h"
#include "bt_flow.h"
#include "bt_parse.h"
#include "bt_pkt.h"
#include "tg_api.h"
#include "../lib/pktbuild.h"

/* after tg_engine_reserve the tg_tx_fill / tg_rx_frame loop allocates
 * nothing: counted by interposition */
#include "bt_alloc_count.h"

#ifndef BT_PCAPS_DIR
#define BT_PCAPS_DIR "pcaps"
#endif
#define TMPL(f) BT_PCAPS_DIR "/templates/" f

static struct tg_profile P;

static void prof(const char *synth, uint64_t flows, double cps)
{
    struct bt_err e;
    tg_profile_default(&P);
    if (synth && tg_profile_add_synth(&P, synth, &e) < 0) {
        fprintf(stderr, "%s\n", e.msg);
        abort();
    }
    P.flows = flows;
    P.cps = cps;
}

static void add_pcap(const char *path)
{
    struct bt_err e;
    if (tg_profile_add_pcap(&P, path, &e) < 0)
        abort();
}

static struct tg_engine *engine(uint32_t seed)
{
    struct bt_err e = {{0}};
    struct tg_engine *g = tg_engine_new(&P, seed, &e);
    if (!g)
        fprintf(stderr, "tg_engine_new: %s\n", e.msg);
    return g;
}

/* ------------------------------------------------------------ the DUT */

enum {
    DUT_DROP_REPLIES = 1u << 0,  /* drops everything the server side sends */
    DUT_NAT = 1u << 1,           /* hide-NAT of the client (address and port) */
    DUT_LOSE_FIRST = 1u << 2,    /* loses the first copy of every packet */
    DUT_RST_FIRST = 1u << 3,     /* turns the first SYN-ACK into a RST */
    DUT_RETAG = 1u << 4,         /* with DUT_NAT: new IPv4 ids, IPv6 flow labels */
};

#define MAXF 4096

struct natent {
    uint8_t addr[16];
    uint16_t port, nport;
};

struct dut {
    unsigned mode;
    uint64_t delay;
    struct bt_pkt *head, *tail;  /* the wire, in delivery order (ts_ns: when) */
    uint64_t seen[1 << 16];      /* DUT_LOSE_FIRST: hashes of frames seen */
    struct natent nat[MAXF];
    unsigned nnat, nat_miss;
    bool rst_done;
    /* checks on what the engine sends */
    uint32_t sent[2][MAXF], recv[2][MAXF];
    unsigned rule_broken;        /* closed loop: sent before the other side arrived */
    unsigned bad_csum, unparsed, tx, dropped;
    uint64_t last_ts;
    unsigned back_in_time;
};

static struct dut D;

static void dut_reset(unsigned mode, uint64_t delay)
{
    memset(&D, 0, sizeof(D));
    D.mode = mode;
    D.delay = delay;
}

static uint64_t frame_hash(const uint8_t *d, uint32_t n)
{
    uint64_t h = 1469598103934665603ull;
    for (uint32_t i = 0; i < n; i++)
        h = (h ^ d[i]) * 1099511628211ull;
    return h | 1;
}

/* true: the first time this frame is seen */
static bool first_copy(const uint8_t *d, uint32_t n)
{
    uint64_t h = frame_hash(d, n);
    uint32_t m = (1u << 16) - 1, i = (uint32_t)h & m;
    while (D.seen[i]) {
        if (D.seen[i] == h)
            return false;
        i = (i + 1) & m;
    }
    D.seen[i] = h;
    return true;
}

static const uint8_t NAT4[16] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff, 198, 51, 100, 7};
static const uint8_t NAT6[16] = {0x20, 0x01, 0x0d, 0xb8, 0x99, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 7};

/* Translates p in place; false to drop it. */
static bool nat(struct bt_pkt *pk, bool from_server)
{
    struct bt_parsed p;
    if (bt_parse(pk->data, pk->len, BT_LINK_ETHERNET, &p) != BT_PARSE_OK)
        return false;
    unsigned aoff = p.ip_version == 4 ? 12 : 8, alen = p.ip_version == 4 ? 4 : 16;
    const uint8_t *nat_addr = p.ip_version == 4 ? NAT4 : NAT6;
    if (!from_server) {
        unsigned i;
        for (i = 0; i < D.nnat; i++)
            if (D.nat[i].port == p.sport && !memcmp(D.nat[i].addr, p.src, 16))
                break;
        if (i == D.nnat) {
            if (D.nnat == MAXF)
                return false;
            memcpy(D.nat[i].addr, p.src, 16);
            D.nat[i].port = p.sport;
            D.nat[i].nport = (uint16_t)(20000 + D.nnat++);
        }
        memcpy(pk->data + p.l3_off + aoff, nat_addr + 16 - alen, alen);
        if (D.mode & DUT_RETAG) {
            uint8_t *ip = pk->data + p.l3_off;
            if (p.ip_version == 4) {
                ip[4] ^= 0x5a;
                ip[5] ^= 0xa5;
            } else {
                ip[1] ^= 0x05;
                ip[3] ^= 0xa5;
            }
        }
        pk->data[p.l4_off] = (uint8_t)(D.nat[i].nport >> 8);
        pk->data[p.l4_off + 1] = (uint8_t)D.nat[i].nport;
    } else {
        unsigned i;
        for (i = 0; i < D.nnat; i++)
            if (D.nat[i].nport == p.dport)
                break;
        if (i == D.nnat || memcmp(p.dst, nat_addr, 16)) {
            D.nat_miss++;
            return false;
        }
        memcpy(pk->data + p.l3_off + aoff + alen, D.nat[i].addr + 16 - alen, alen);
        pk->data[p.l4_off + 2] = (uint8_t)(D.nat[i].port >> 8);
        pk->data[p.l4_off + 3] = (uint8_t)D.nat[i].port;
    }
    bt_parse(pk->data, pk->len, BT_LINK_ETHERNET, &p);
    bt_csum_fix(pk->data, pk->len, &p);
    return true;
}

/* Checks one packet the engine sent; returns false to drop it. */
static bool dut_take(struct bt_pkt *pk, uint64_t now)
{
    struct bt_parsed p;
    bool server = pk->flags & BT_PKT_F_SERVER;

    D.tx++;
    if (bt_parse(pk->data, pk->len, BT_LINK_ETHERNET, &p) != BT_PARSE_OK)
        D.unparsed++;
    else if (bt_csum_check(pk->data, pk->len, &p) != 0)
        D.bad_csum++;
    if (pk->port != server || !(pk->flags & (BT_PKT_F_CLIENT | BT_PKT_F_SERVER)))
        D.unparsed++;
    if (pk->ts_ns < D.last_ts)
        D.back_in_time++;
    D.last_ts = pk->ts_ns;
    if (pk->meta < MAXF && !(pk->flags & BT_PKT_F_RETX)) {
        /* the closed-loop rule: everything the other side sent has arrived */
        if (D.recv[!server][pk->meta] != D.sent[!server][pk->meta])
            D.rule_broken++;
        D.sent[server][pk->meta]++;
    }
    if ((D.mode & DUT_DROP_REPLIES) && server)
        return false;
    if ((D.mode & DUT_LOSE_FIRST) && first_copy(pk->data, pk->len))
        return false;
    if ((D.mode & DUT_RST_FIRST) && server && !D.rst_done && p.proto == 6 &&
        p.tcp_flags == (BT_TCP_SYN | BT_TCP_ACK)) {
        pk->data[p.l4_off + 13] = BT_TCP_RST | BT_TCP_ACK;
        bt_csum_fix(pk->data, pk->len, &p);
        D.rst_done = true;
    }
    if ((D.mode & DUT_NAT) && !nat(pk, server))
        return false;
    (void)now;
    return true;
}

/* Runs the engine against the DUT until done (or limit_ns of virtual time);
 * each packet is given to fn (if any) as it leaves. */
typedef void (*pkt_fn)(const struct bt_pkt *pk, uint64_t now);

static uint64_t run(struct tg_engine *g, uint64_t limit_ns, bool loop, pkt_fn fn)
{
    struct bt_pkt *pk[32];
    uint64_t now = 0;

    for (unsigned long it = 0; it < 20000000ul; it++) {
        uint64_t t = tg_next_ns(g), tw = D.head ? D.head->ts_ns : UINT64_MAX;
        if (tg_done(g) && !D.head)
            break;
        if (t == UINT64_MAX && tw == UINT64_MAX)
            break;
        uint64_t tn = t < tw ? t : tw;
        if (tn > now)
            now = tn;
        if (now > limit_ns)
            break;
        while (D.head && D.head->ts_ns <= now) {
            struct bt_pkt *p = D.head;
            D.head = p->next;
            if (!D.head)
                D.tail = NULL;
            bool server = p->flags & BT_PKT_F_SERVER;
            if (p->meta < MAXF && !(p->flags & BT_PKT_F_RETX))
                D.recv[server][p->meta]++;
            tg_rx(g, now, server ? TG_PORT_CLIENT : TG_PORT_SERVER, &p, 1);
        }
        unsigned n = tg_tx(g, now, pk, 32);
        for (unsigned i = 0; i < n; i++) {
            if (fn)
                fn(pk[i], now);
            if (!loop || !dut_take(pk[i], now)) {
                if (loop)
                    D.dropped++;
                else
                    dut_take(pk[i], now);
                bt_pkt_free(pk[i]);
                continue;
            }
            pk[i]->ts_ns = now + D.delay;
            pk[i]->next = NULL;
            if (D.tail)
                D.tail->next = pk[i];
            else
                D.head = pk[i];
            D.tail = pk[i];
        }
        if (n == 0 && t <= now && tw > now && !tg_done(g))
            now++;
    }
    while (D.head) {
        struct bt_pkt *p = D.head;
        D.head = p->next;
        bt_pkt_free(p);
    }
    D.tail = NULL;
    return now;
}

/* Plays g with nothing coming back from now_ns until it is done or until_ns
 * passed, each packet given to fn (if any) then freed; returns the time. */
static struct tg_engine *G;   /* the engine play() runs, for fn */

static uint64_t play(struct tg_engine *g, uint64_t now, uint64_t until_ns, pkt_fn fn)
{
    struct bt_pkt *pk[32];

    G = g;
    while (!tg_done(g) && now < until_ns) {
        uint64_t t = tg_next_ns(g);
        now = t > now ? t : now;
        unsigned n = tg_tx(g, now, pk, 32);
        for (unsigned i = 0; i < n; i++) {
            if (fn)
                fn(pk[i], now);
            bt_pkt_free(pk[i]);
        }
    }
    return now;
}

/* ------------------------------------------------------------ collectors */

#define MAXP 60000
static struct { uint64_t ts, meta; uint16_t port, flags; uint32_t len; uint8_t d[128]; } C[MAXP];
static unsigned NC;

static void collect(const struct bt_pkt *pk, uint64_t now)
{
    (void)now;
    if (NC < MAXP) {
        C[NC].ts = pk->ts_ns;
        C[NC].meta = pk->meta;
        C[NC].port = pk->port;
        C[NC].flags = pk->flags;
        C[NC].len = pk->len;
        memcpy(C[NC].d, pk->data, pk->len < 128 ? pk->len : 128);
    }
    NC++;
}

/* Distinct conversations (canonical 5-tuples) among the collected packets. */
static unsigned distinct(void)
{
    static struct bt_flow_key k[MAXP];
    unsigned n = 0;
    for (unsigned i = 0; i < NC && i < MAXP; i++) {
        struct bt_parsed p;
        struct bt_flow_key a, c;
        bt_parse(C[i].d, C[i].len < 128 ? C[i].len : 128, BT_LINK_ETHERNET, &p);
        bt_flow_key_from_parsed(&p, &a);
        bt_flow_key_canon(&a, &c);
        unsigned j;
        for (j = 0; j < n; j++)
            if (bt_flow_key_eq(&k[j], &c))
                break;
        if (j == n)
            k[n++] = c;
    }
    return n;
}

/* ------------------------------------------------------------ open loop */

TEST(open_loop_shape_and_timing)
{
    struct tg_summary s;

    prof("tcp,req=200,resp=1400x10", 1000, 5000);
    bt_cidr_parse("16.0.0.0/30", &P.clients[0]);   /* ports make the flows distinct */
    struct tg_engine *g = engine(1);
    REQUIRE(g);
    dut_reset(0, 0);
    NC = 0;
    run(g, UINT64_MAX, false, collect);
    tg_summary_get(g, 0, &s);
    CHECK_EQ_INT(NC, 22000);
    CHECK_EQ_INT(s.tx_packets, 22000);
    CHECK_EQ_INT(s.tx_client_packets, 10000);
    CHECK_EQ_INT(s.tx_server_packets, 12000);
    CHECK_EQ_INT(s.flows_started, 1000);
    CHECK_EQ_INT(s.flows_completed, 1000);
    CHECK_EQ_INT(s.flows_failed + s.flows_active + s.rx_packets, 0);
    CHECK_EQ_INT(D.bad_csum + D.unparsed + D.back_in_time, 0);
    CHECK_EQ_INT(distinct(), 1000);
    /* flow i's SYN leaves at i / cps, its SYN-ACK half an RTT later */
    unsigned syns = 0;
    for (unsigned i = 0; i < NC && i < MAXP; i++) {
        struct bt_parsed p;
        bt_parse(C[i].d, 128, BT_LINK_ETHERNET, &p);
        if (p.tcp_flags == BT_TCP_SYN) {
            syns++;
            if (C[i].ts != C[i].meta * 200000 || C[i].port != 0)
                BT_FAIL_AT("flow %" PRIu64 ": SYN at %" PRIu64, C[i].meta, C[i].ts);
        }
        if (p.tcp_flags == (BT_TCP_SYN | BT_TCP_ACK) && C[i].ts != C[i].meta * 200000 + 500000)
            BT_FAIL_AT("flow %" PRIu64 ": SYN-ACK at %" PRIu64, C[i].meta, C[i].ts);
    }
    CHECK_EQ_INT(syns, 1000);
    CHECK(tg_done(g));
    CHECK_EQ_INT(tg_next_ns(g), UINT64_MAX);
    tg_engine_free(g);
}

/* Per flow, TCP's sequence rules hold on what left (the ISN offsets are
 * consistent between the sides); returns violations. */
static unsigned seq_violations(void)
{
    static uint32_t next[MAXF][2];
    static uint8_t have[MAXF][2];
    unsigned bad = 0;

    memset(have, 0, sizeof(have));
    for (unsigned i = 0; i < NC && i < MAXP; i++) {
        struct bt_parsed p;
        bt_parse(C[i].d, C[i].len < 128 ? C[i].len : 128, BT_LINK_ETHERNET, &p);
        unsigned f = (unsigned)C[i].meta, s = C[i].port, o = !s;
        if (p.proto != 6 || f >= MAXF)
            continue;
        if (p.tcp_flags & BT_TCP_SYN) {
            next[f][s] = p.seq;
            have[f][s] = 1;
        }
        /* (a capture's own retransmissions and keepalives step back) */
        if (have[f][s] && (int32_t)(p.seq - next[f][s]) > 0)
            bad++;
        if ((p.tcp_flags & BT_TCP_ACK) && have[f][o] && (int32_t)(p.ack - next[f][o]) > 0)
            bad++;
        uint32_t end = p.seq + p.payload_len + !!(p.tcp_flags & (BT_TCP_SYN | BT_TCP_FIN));
        if (!have[f][s] || (int32_t)(end - next[f][s]) > 0)
            next[f][s] = end;
        have[f][s] = 1;
    }
    return bad;
}

/* Rewriting over v4, v6 and VLAN, synthetic and captured templates. */
TEST(rewrite_every_template)
{
    /* pcaps first, then synth specs */
    static const char *const items[] = {TMPL("http.pcap"), TMPL("http6.pcap"), TMPL("tls.pcap"),
                                        TMPL("dns.pcap"), TMPL("interactive.pcap"),
                                        TMPL("udp-stream.pcap"), "tcp,req=3000,resp=1440x4,v6",
                                        "udp,resp=100x3", "udp,v6", NULL};
    const unsigned npcaps = 6;
    struct bt_cidr pool4c, pool6c, pool4s, pool6s;
    bt_cidr_parse("16.0.0.0/8", &pool4c);
    bt_cidr_parse("2001:db8:16::/64", &pool6c);
    bt_cidr_parse("48.0.0.0/16", &pool4s);
    bt_cidr_parse("2001:db8:48::/64", &pool6s);

    for (unsigned v = 0; v < 2; v++) {
        for (unsigned i = 0; items[i]; i++) {
            const char *what = items[i];
            prof(i < npcaps ? NULL : what, 20, 200);
            if (i < npcaps)
                add_pcap(what);
            P.vlan = v ? 333 : 0;
            struct tg_engine *g = engine(7);
            if (!g) {
                BT_FAIL_AT("%s: no engine", what);
                continue;
            }
            struct tg_tmpl_info ti;
            REQUIRE(tg_template_info(g, 0, &ti) == 0);
            dut_reset(0, 0);
            NC = 0;
            run(g, UINT64_MAX, false, collect);
            struct tg_summary s;
            tg_summary_get(g, 0, &s);
            if (s.tx_packets != 20ull * ti.packets || s.flows_completed != 20)
                BT_FAIL_AT("%s: %" PRIu64 " packets of %u x 20", what, s.tx_packets, ti.packets);
            if (D.bad_csum || D.unparsed)
                BT_FAIL_AT("%s vlan %u: %u bad checksums, %u unparsed", what, v, D.bad_csum,
                           D.unparsed);
            if (distinct() != 20)
                BT_FAIL_AT("%s: %u conversations", what, distinct());
            if (seq_violations())
                BT_FAIL_AT("%s: %u sequence violations", what, seq_violations());
            for (unsigned k = 0; k < NC && k < MAXP; k++) {
                struct bt_parsed p;
                bt_parse(C[k].d, 128, BT_LINK_ETHERNET, &p);
                const uint8_t *ca = C[k].port ? p.dst : p.src, *sa = C[k].port ? p.src : p.dst;
                uint16_t sp = C[k].port ? p.sport : p.dport;
                bool v6 = p.ip_version == 6;
                if (!bt_cidr_match(v6 ? &pool6c : &pool4c, ca) ||
                    !bt_cidr_match(v6 ? &pool6s : &pool4s, sa) || sp != ti.server_port ||
                    p.nvlan != v || (v && p.vlan[0] != 333)) {
                    BT_FAIL_AT("%s: packet %u: addresses, server port or tag wrong", what, k);
                    break;
                }
                static const uint8_t cmac[6] = {2, 0, 0, 0, 0, 1}, smac[6] = {2, 0, 0, 0, 0, 2};
                if (memcmp(C[k].d + 6, C[k].port ? smac : cmac, 6) ||
                    memcmp(C[k].d, C[k].port ? cmac : smac, 6)) {
                    BT_FAIL_AT("%s: packet %u: MACs", what, k);
                    break;
                }
            }
            tg_engine_free(g);
        }
    }
}

/* The ISN offset moves sequence numbers off the template's, per flow. */
TEST(isn_offsets)
{
    for (unsigned on = 0; on < 2; on++) {
        prof("tcp", 50, 1000);
        P.isn_offset = on;
        struct tg_engine *g = engine(3);
        REQUIRE(g);
        dut_reset(0, 0);
        NC = 0;
        run(g, UINT64_MAX, false, collect);
        unsigned template_isn = 0, syns = 0;
        for (unsigned i = 0; i < NC; i++) {
            struct bt_parsed p;
            bt_parse(C[i].d, 128, BT_LINK_ETHERNET, &p);
            if (p.tcp_flags == BT_TCP_SYN) {
                syns++;
                template_isn += p.seq == 1000;   /* the synth client ISN */
            }
        }
        CHECK_EQ_INT(syns, 50);
        CHECK_EQ_INT(template_isn, on ? 0 : 50);
        CHECK_EQ_INT(seq_violations(), 0);
        tg_engine_free(g);
    }
}

/* The sequence check above can fail: a packet's sequence number moved. */
TEST(seq_check_can_fail)
{
    prof("tcp,req=100,resp=1000x2", 5, 1000);
    struct tg_engine *g = engine(3);
    REQUIRE(g);
    dut_reset(0, 0);
    NC = 0;
    run(g, UINT64_MAX, false, collect);
    CHECK_EQ_INT(seq_violations(), 0);
    C[4].d[14 + 20 + 7] += 3;   /* a later sequence number in packet 5 */
    CHECK(seq_violations() > 0);
    tg_engine_free(g);
}

static uint8_t seed_bytes[400 * 1600];
static uint32_t seed_len, seed_off;
static bool seed_record, seed_same;

static void seed_cmp(const struct bt_pkt *pk, uint64_t now)
{
    (void)now;
    if (seed_record) {
        if (seed_len + pk->len + 8 <= sizeof(seed_bytes)) {
            memcpy(seed_bytes + seed_len, &pk->ts_ns, 8);
            memcpy(seed_bytes + seed_len + 8, pk->data, pk->len);
            seed_len += pk->len + 8;
        }
        return;
    }
    if (seed_off + pk->len + 8 > seed_len || memcmp(seed_bytes + seed_off, &pk->ts_ns, 8) ||
        memcmp(seed_bytes + seed_off + 8, pk->data, pk->len))
        seed_same = false;
    seed_off += pk->len + 8;
}

TEST(seed_repeatable)
{
    seed_len = 0;
    for (unsigned r = 0; r < 3; r++) {
        prof("tcp,req=200,resp=1400x3", 40, 1000);
        add_pcap(TMPL("http6.pcap"));
        struct tg_engine *g = engine(r < 2 ? 11 : 12);
        REQUIRE(g);
        seed_record = r == 0;
        seed_same = true;
        seed_off = 0;
        play(g, 0, UINT64_MAX, seed_cmp);
        if (r == 1)
            CHECK(seed_same && seed_off == seed_len);
        if (r == 2)
            CHECK(!seed_same);   /* another seed, other servers and offsets */
        tg_engine_free(g);
    }
}

/* tg_tx_fill writes the same packets into the caller's buffers. */
TEST(tx_fill_equals_tx)
{
    static uint8_t bufs[32][1600];
    struct bt_pkt fill[32], *pk[32];

    prof("udp,req=100,resp=300x2", 30, 1000);
    P.vlan = 5;
    struct tg_engine *a = engine(4), *b = engine(4);
    REQUIRE(a && b);
    uint64_t now = 0;
    unsigned total = 0;
    while (!tg_done(a)) {
        uint64_t t = tg_next_ns(a);
        now = t > now ? t : now;
        unsigned n = tg_tx(a, now, pk, 32);
        for (unsigned i = 0; i < 32; i++) {
            memset(&fill[i], 0, sizeof(fill[i]));
            fill[i].data = bufs[i];
            fill[i].cap = sizeof(bufs[i]);
        }
        unsigned m = tg_tx_fill(b, now, fill, n);
        CHECK_EQ_INT(m, n);
        for (unsigned i = 0; i < n && i < m; i++) {
            if (fill[i].len != pk[i]->len || memcmp(fill[i].data, pk[i]->data, pk[i]->len) ||
                fill[i].port != pk[i]->port || fill[i].ts_ns != pk[i]->ts_ns ||
                fill[i].meta != pk[i]->meta || fill[i].flags != pk[i]->flags)
                BT_FAIL_AT("packet %u differs", total + i);
            bt_pkt_free(pk[i]);
        }
        total += n;
    }
    CHECK_EQ_INT(total, 30 * 3);
    CHECK(tg_done(b));
    /* a buffer too small for the frame is not filled */
    tg_engine_free(b);
    b = engine(4);
    fill[0].data = bufs[0];
    fill[0].cap = 64;
    CHECK_EQ_INT(tg_tx_fill(b, 0, fill, 1), 0);
    tg_engine_free(a);
    tg_engine_free(b);
}

/* tg_tx_frames builds the packets tg_tx_fill does (bytes, lengths, ports,
 * the counters), in every mode: rate max with and without a cap (its own
 * loop), paced, closed loop (through a wire of WIRE_NS, below); fewer
 * than max when fewer are due; nothing into a room too small. flip: one
 * frame's bit flipped, the comparison must see it (returns the packets
 * that differ). */
/* a flow callback's record: flows told of and a hash of what it was told */
struct cbrec {
    uint64_t n, h;
};

static void cb_note(void *arg, const struct tg_flow_info *fi)
{
    struct cbrec *r = arg;
    r->n++;
    r->h = r->h * 1000003 ^ (fi->flow * 31 + fi->ok + fi->cport * 7 + fi->end_ns * 13 +
                             fi->start_ns * 17 + fi->client[15]);
}

/* (cb: both engines tell a flow callback of their flows' ends) */
static unsigned frames_vs_fill(bool rate_max, double pps, unsigned mode, bool flip, bool cb)
{
    struct cbrec ra = {0, 0}, rb = {0, 0};
    static uint8_t ba[32][1600], bb[32][1600 + 100];
    struct bt_pkt fa[32];
    void *bufs[32];
    uint32_t lp[32];
    unsigned bad = 0, total = 0;

    prof(mode == 1 ? "tcp,req=3000,resp=1400x3" : "tcp,req=10,resp=10x1", 2000, 1e5);
    add_pcap(TMPL("dns.pcap"));
    P.rate_max = rate_max;
    P.pps = pps;
    P.concurrency = 300;
    if (mode == 1)
        P.mode = TG_MODE_CLOSED;
    struct tg_engine *a = engine(31), *b = engine(31);
    CHECK(a && b);
    if (!a || !b)
        return 1000;
    if (cb) {
        tg_set_flow_cb(a, cb_note, &ra);
        tg_set_flow_cb(b, cb_note, &rb);
    }
    for (unsigned i = 0; i < 32; i++)
        bufs[i] = bb[i];
    uint64_t now = 0;
    for (unsigned it = 0; !tg_done(a) && it < 1000000; it++) {
        for (unsigned i = 0; i < 32; i++) {
            memset(&fa[i], 0, sizeof(fa[i]));
            fa[i].data = ba[i];
            fa[i].cap = sizeof(ba[i]);
        }
        unsigned max = 1 + it % 32;
        unsigned n = tg_tx_fill(a, now, fa, max);
        unsigned m = tg_tx_frames(b, now, bufs, 100, 1600, lp, max);
        CHECK_EQ_INT(m, n);
        for (unsigned i = 0; i < n && i < m; i++) {
            if (flip && total + i == 100)
                fa[i].data[fa[i].len - 1] ^= 1;
            if ((lp[i] & 0xffff) != fa[i].len || lp[i] >> 16 != fa[i].port ||
                memcmp(bb[i] + 100, fa[i].data, fa[i].len))
                bad++;
            /* (closed loop: what a port sends arrives on the other, to both) */
            if (mode == 1 && i % 7) {
                tg_rx_frame(a, now + 50000, (uint16_t)(fa[i].port ^ 1), fa[i].data, fa[i].len);
                tg_rx_frame(b, now + 50000, (uint16_t)(fa[i].port ^ 1), fa[i].data, fa[i].len);
            }
        }
        total += n;
        uint64_t next = tg_next_ns(a);
        CHECK_EQ_INT(tg_next_ns(b), next);
        now = mode == 1 || !n ? (next != UINT64_MAX && next > now + 50000 ? next : now + 50000) : now;
    }
    struct tg_summary sa, sb;
    tg_summary_get(a, now, &sa);
    tg_summary_get(b, now, &sb);
    CHECK(tg_done(a) && tg_done(b));
    CHECK(total >= 2000);
    CHECK_EQ_INT(sb.tx_packets, sa.tx_packets);
    CHECK_EQ_INT(sb.tx_bytes, sa.tx_bytes);
    CHECK_EQ_INT(sb.tx_server_packets, sa.tx_server_packets);
    CHECK_EQ_INT(sb.flows_completed, sa.flows_completed);
    CHECK_EQ_INT(sb.flows_failed, sa.flows_failed);
    CHECK_EQ_INT(rb.n, ra.n);
    CHECK_EQ_INT(rb.h, ra.h);
    CHECK_EQ_INT(ra.n, cb ? sa.flows_completed + sa.flows_failed : 0);
    tg_engine_free(a);
    tg_engine_free(b);
    return bad;
}

TEST(tx_frames_equals_tx_fill)
{
    CHECK_EQ_INT(frames_vs_fill(true, 0, 0, false, false), 0);   /* rate max, no cap */
    CHECK_EQ_INT(frames_vs_fill(true, 0, 0, false, true), 0);    /* and a flow callback */
    CHECK_EQ_INT(frames_vs_fill(true, 2e6, 0, false, false), 0); /* rate max, a pps cap */
    CHECK_EQ_INT(frames_vs_fill(false, 0, 0, false, true), 0);   /* paced */
    CHECK_EQ_INT(frames_vs_fill(false, 0, 1, false, false), 0);  /* closed loop */
    /* the check can fail */
    CHECK_EQ_INT(frames_vs_fill(true, 0, 0, true, false), 1);
    /* a room too small for the frame gets nothing */
    prof("tcp,req=10,resp=10x1", 10, 1000);
    P.rate_max = true;
    struct tg_engine *g = engine(4);
    REQUIRE(g);
    static uint8_t small[63];
    void *b1[1] = {small};
    uint32_t lp[1];
    CHECK_EQ_INT(tg_tx_frames(g, 0, b1, 10, 53, lp, 1), 0);
    CHECK_EQ_INT(tg_tx_frames(g, 0, b1, 0, 63, lp, 1), 1);
    CHECK_EQ_INT(lp[0] & 0xffff, 54);
    tg_engine_free(g);
}

static int memcmp64(const void *a, const void *b)
{
    return memcmp(a, b, 64);
}

/* Every frame of a run of P (flows of one template entry), sorted: the
 * same multiset whatever the order the flows take turns in. */
static unsigned frames_of(uint32_t seed, uint8_t (*out)[64], unsigned cap)
{
    struct bt_pkt *pk[32];
    struct tg_engine *g = engine(seed);
    unsigned n = 0;
    uint64_t now = 0;

    if (!g)
        return 0;
    while (!tg_done(g)) {
        uint64_t t = tg_next_ns(g);
        now = t > now ? t : now + 1000;
        unsigned k = tg_tx(g, now, pk, 32);
        for (unsigned i = 0; i < k; i++) {
            if (n < cap) {
                memset(out[n], 0, 64);
                memcpy(out[n++], pk[i]->data, pk[i]->len < 64 ? pk[i]->len : 64);
            }
            bt_pkt_free(pk[i]);
        }
    }
    tg_engine_free(g);
    qsort(out, n, 64, memcmp64);
    return n;
}

/* A rate max flow's values (an IPv4 template with one pool each side: a
 * path of their own, computed once at the flow's start) are those of a
 * paced run's flows (flow_values per packet): the same frames, client
 * addresses wrapping past host 0 and ports past the last, servers from
 * a /29 and from a single address. */
TEST(rate_max_flow_values_as_paced)
{
    static uint8_t fa[20000][64], fb[20000][64];
    const char *servers[] = {"48.0.0.0/29", "48.0.0.9/32"};

    for (unsigned c = 0; c < 2; c++) {
        prof("tcp,req=5,resp=5x1", 16 * 70, 1e6);
        P.nclients = P.nservers = 1;
        bt_cidr_parse("10.9.0.16/28", &P.clients[0]);
        bt_cidr_parse(servers[c], &P.servers[0]);
        P.cport_lo = 2000;
        P.cport_hi = 2069;
        unsigned na = frames_of(41, fa, 20000);
        P.rate_max = true;
        P.concurrency = 300;
        unsigned nb = frames_of(41, fb, 20000);
        CHECK_EQ_INT(na, 16 * 70 * 9);
        CHECK_EQ_INT(nb, na);
        CHECK(na == nb && !memcmp(fa, fb, (size_t)na * 64));
    }
}

/* Rate max: a small IPv4 TCP frame is built from its prebuilt image and
 * checksum sums (the fast path) into a buffer of 64 bytes or more, by the
 * general builder into a smaller one: the same bytes either way, VLAN,
 * ISN offsets or none, several pools, MACs changed mid-run included. */
static unsigned fast_vs_general(const char *synth, uint16_t vlan, bool isn, bool flip)
{
    static uint8_t ba[32][2048], bb[32][63];
    struct bt_pkt fa[32], fb[32];
    uint8_t dst[6] = {0x02, 0xdd, 0, 0, 0, 3}, src[6] = {0x02, 0xee, 0, 0, 0, 4};
    unsigned total = 0, bad = 0;

    prof(synth, 3000, 1000);
    P.rate_max = true;
    P.vlan = vlan;
    P.isn_offset = isn;
    P.concurrency = 500;
    struct tg_engine *a = engine(11), *b = engine(11);
    CHECK(a && b);
    if (!a || !b)
        return 1000;
    for (uint64_t now = 1; !tg_done(a); now += 1000) {
        for (unsigned i = 0; i < 32; i++) {
            memset(&fa[i], 0, sizeof(fa[i]));
            memset(&fb[i], 0, sizeof(fb[i]));
            fa[i].data = ba[i];
            fa[i].cap = sizeof(ba[i]);
            fb[i].data = bb[i];
            fb[i].cap = sizeof(bb[i]);
        }
        unsigned n = tg_tx_fill(a, now, fa, 32), m = tg_tx_fill(b, now, fb, 32);
        CHECK_EQ_INT(m, n);
        for (unsigned i = 0; i < n && i < m; i++) {
            /* (flip: one engine's frame bit flipped, the comparison must see it) */
            if (flip && total + i == 100)
                fa[i].data[fa[i].len - 1] ^= 1;
            if (fa[i].len != fb[i].len || memcmp(fa[i].data, fb[i].data, fa[i].len) ||
                fa[i].meta != fb[i].meta || fa[i].port != fb[i].port)
                bad++;
        }
        total += n;
        if (total >= 5000 && total < 5000 + n) {
            tg_set_macs(a, TG_PORT_SERVER, src, dst);
            tg_set_macs(b, TG_PORT_SERVER, src, dst);
        }
        if (!n && !m)
            break;
    }
    CHECK(tg_done(a) && tg_done(b));
    CHECK(total >= 3000 * 9);
    tg_engine_free(a);
    tg_engine_free(b);
    return bad;
}

TEST(rate_max_fast_path_same_bytes)
{
    /* frames of 54 and 59 bytes, 58 and 63 tagged: both builders fit */
    CHECK_EQ_INT(fast_vs_general("tcp,req=5,resp=5x1", 0, true, false), 0);
    CHECK_EQ_INT(fast_vs_general("tcp,req=5,resp=5x1", 7, true, false), 0);
    CHECK_EQ_INT(fast_vs_general("tcp,req=5,resp=5x1", 0, false, false), 0);
    CHECK_EQ_INT(fast_vs_general("tcp,req=9,resp=4x2,rounds=2", 0, true, false), 0);
    /* the check can fail */
    CHECK_EQ_INT(fast_vs_general("tcp,req=5,resp=5x1", 0, true, true), 1);
}

/* ------------------------------------------------------------ closed loop */

static void closed(const char *synth, uint64_t flows, unsigned mode)
{
    prof(synth, flows, 2000);
    P.mode = TG_MODE_CLOSED;
    P.rto_ns = 10000000;     /* 10 ms */
    P.retries = 3;
    P.rto_max_ns = 1000000000;
    dut_reset(mode, 100000); /* 100 us through the device */
}

TEST(closed_loop_all_complete)
{
    struct tg_summary s;

    closed("tcp,req=3000,resp=1400x6", 100, 0);
    add_pcap(TMPL("http.pcap"));
    add_pcap(TMPL("http6.pcap"));
    add_pcap(TMPL("tls.pcap"));
    add_pcap(TMPL("udp-stream.pcap"));
    P.flows = 300;
    struct tg_engine *g = engine(1);
    REQUIRE(g);
    NC = 0;
    run(g, 600000000000ull, true, collect);
    tg_summary_get(g, 0, &s);
    CHECK(tg_done(g));
    CHECK_EQ_INT(s.flows_started, 300);
    CHECK_EQ_INT(s.flows_completed, 300);
    CHECK_EQ_INT(s.flows_failed, 0);
    CHECK_EQ_INT(s.retransmits, 0);
    CHECK_EQ_INT(s.rx_packets, s.tx_packets);
    CHECK_EQ_INT(s.rx_matched, s.tx_packets);
    CHECK_EQ_INT(s.rx_unmatched, 0);
    CHECK_EQ_INT(D.rule_broken, 0);
    CHECK_EQ_INT(D.bad_csum + D.unparsed, 0);
    CHECK_EQ_INT(distinct(), 300);
    /* latency through the device: every packet took 100 us */
    CHECK_EQ_INT(s.lat_samples, s.tx_packets);
    CHECK_NEAR((double)s.lat_p50_ns, 100000, 3200);
    CHECK_NEAR((double)s.lat_p99_ns, 100000, 3200);
    CHECK_EQ_INT(s.lat_max_ns, 100000);
    CHECK(s.state_bytes_per_flow >= 64);
    tg_engine_free(g);
}

/* The closed-loop rule check can fail: open loop through a device slower
 * than the template's gaps sends before the other side's packets arrived. */
TEST(closed_rule_check_can_fail)
{
    closed("tcp,req=100,resp=1000x4,rtt=50us", 20, 0);
    P.mode = TG_MODE_OPEN;
    struct tg_engine *g = engine(1);
    REQUIRE(g);
    run(g, UINT64_MAX, true, NULL);
    CHECK(D.rule_broken > 0);
    tg_engine_free(g);
}

static uint64_t retx_t[16];
static unsigned nretx;
static uint64_t synack_t;

static void note_flow0(const struct bt_pkt *pk, uint64_t now)
{
    (void)now;
    if (pk->meta != 0 || !(pk->flags & BT_PKT_F_SERVER))
        return;
    if (pk->flags & BT_PKT_F_RETX) {
        if (nretx < 16)
            retx_t[nretx] = pk->ts_ns;
        nretx++;
    } else if (!synack_t) {
        synack_t = pk->ts_ns;
    }
}

struct outcome {
    unsigned ok, failed, reset;
    uint64_t start0, end0, start49;
};

static void on_flow(void *arg, const struct tg_flow_info *fi)
{
    struct outcome *o = arg;
    if (fi->ok)
        o->ok++;
    else
        o->failed++;
    o->reset += fi->reset;
    if (fi->flow == 0) {
        o->start0 = fi->start_ns;
        o->end0 = fi->end_ns;
    }
    if (fi->flow == 49)
        o->start49 = fi->start_ns;
}

TEST(closed_loop_replies_dropped)
{
    struct tg_summary s;
    struct outcome o = {0};

    closed("tcp,req=200,resp=1400x3", 50, DUT_DROP_REPLIES);
    struct tg_engine *g = engine(1);
    REQUIRE(g);
    tg_set_flow_cb(g, on_flow, &o);
    nretx = 0;
    synack_t = 0;
    run(g, 600000000000ull, true, note_flow0);
    tg_summary_get(g, 0, &s);
    CHECK(tg_done(g));
    CHECK_EQ_INT(s.flows_failed, 50);
    CHECK_EQ_INT(s.flows_completed, 0);
    CHECK_EQ_INT(o.failed, 50);
    CHECK_EQ_INT(o.ok, 0);
    /* each SYN-ACK retried 3 times: at 10, 30 and 70 ms, failed at 150 ms */
    CHECK_EQ_INT(s.retransmits, 50 * 3);
    CHECK_EQ_INT(nretx, 3);
    CHECK(synack_t > 0);
    CHECK_EQ_INT(retx_t[0] - synack_t, 10000000);
    CHECK_EQ_INT(retx_t[1] - synack_t, 30000000);
    CHECK_EQ_INT(retx_t[2] - synack_t, 70000000);
    CHECK_EQ_INT(o.end0 - synack_t, 150000000);
    CHECK_EQ_INT(o.start0, synack_t - 100000);   /* its SYN, one device delay before */
    CHECK_EQ_INT(o.start49, 49 * 500000);        /* flows start at i / 2000 cps */
    /* the client's packets arrived, nothing came back */
    CHECK_EQ_INT(s.rx_packets, 50);
    tg_engine_free(g);
}

TEST(closed_loop_backoff_ceiling)
{
    closed("udp", 1, DUT_DROP_REPLIES);
    P.retries = 6;
    P.rto_max_ns = 30000000;   /* 10, 20, 30, 30, 30, 30 ms */
    struct tg_engine *g = engine(1);
    REQUIRE(g);
    nretx = 0;
    synack_t = 0;
    run(g, 600000000000ull, true, note_flow0);
    CHECK_EQ_INT(nretx, 6);
    static const uint64_t want[6] = {10, 30, 60, 90, 120, 150};
    for (unsigned i = 0; i < 6 && i < nretx; i++)
        CHECK_EQ_INT(retx_t[i] - synack_t, want[i] * 1000000);
    tg_engine_free(g);
}

TEST(closed_loop_hide_nat)
{
    struct tg_summary s;

    closed("tcp,req=3000,resp=1400x6", 100, DUT_NAT);
    add_pcap(TMPL("http6.pcap"));
    add_pcap(TMPL("dns.pcap"));
    P.flows = 200;
    struct tg_engine *g = engine(2);
    REQUIRE(g);
    run(g, 600000000000ull, true, NULL);
    tg_summary_get(g, 0, &s);
    CHECK_EQ_INT(s.flows_completed, 200);
    CHECK_EQ_INT(s.flows_failed, 0);
    CHECK_EQ_INT(s.nat_learned, 200);
    CHECK_EQ_INT(s.rx_unmatched, 0);
    CHECK_EQ_INT(s.retransmits, 0);
    CHECK_EQ_INT(D.nat_miss, 0);
    CHECK_EQ_INT(D.nnat, 200);
    CHECK_EQ_INT(D.rule_broken, 0);
    tg_engine_free(g);
    /* a device that also rewrites the tag (IPv4 id, IPv6 flow label)
     * leaves nothing to learn from: the flows fail, so the check above can */
    closed("tcp", 10, DUT_NAT | DUT_RETAG);
    add_pcap(TMPL("http6.pcap"));
    g = engine(2);
    REQUIRE(g);
    run(g, 600000000000ull, true, NULL);
    tg_summary_get(g, 0, &s);
    CHECK_EQ_INT(s.nat_learned, 0);
    CHECK_EQ_INT(s.flows_failed, 10);
    CHECK(s.rx_unmatched > 0);
    tg_engine_free(g);
}

TEST(closed_loop_first_copy_lost)
{
    struct tg_summary s;

    closed("tcp,req=3000,resp=1400x6", 50, DUT_LOSE_FIRST);
    struct tg_engine *g = engine(5);
    REQUIRE(g);
    NC = 0;
    run(g, 600000000000ull, true, collect);
    tg_summary_get(g, 0, &s);
    /* flow 0: its SYN again one timeout (10 ms) after the first copy, and
     * its SYN-ACK one timeout after the SYN's second copy arrived */
    uint64_t syn = UINT64_MAX, syn2 = UINT64_MAX, sa = UINT64_MAX, sa2 = UINT64_MAX;
    for (unsigned i = 0; i < NC && i < MAXP; i++) {
        if (C[i].meta != 0)
            continue;
        bool retx = C[i].flags & BT_PKT_F_RETX, srv = C[i].flags & BT_PKT_F_SERVER;
        uint64_t *slot = srv ? (retx ? &sa2 : &sa) : (retx ? &syn2 : &syn);
        if (*slot == UINT64_MAX)
            *slot = C[i].ts;
    }
    CHECK_EQ_INT(syn2 - syn, 10000000);
    CHECK_EQ_INT(sa - syn2, 100000);
    CHECK_EQ_INT(sa2 - sa, 10000000);
    CHECK_EQ_INT(s.flows_completed, 50);
    CHECK_EQ_INT(s.flows_failed, 0);
    /* every packet went twice, the second copy arrived */
    CHECK_EQ_INT(s.tx_packets, 2 * s.retransmits);
    CHECK_EQ_INT(s.rx_packets, s.retransmits);
    CHECK_EQ_INT(D.dropped, s.retransmits);
    /* Karn: no latency sample from a retransmitted packet */
    CHECK_EQ_INT(s.lat_samples, 0);
    tg_engine_free(g);
}

TEST(closed_loop_reset)
{
    struct tg_summary s;
    struct outcome o = {0};

    closed("tcp", 5, DUT_RST_FIRST);
    struct tg_engine *g = engine(5);
    REQUIRE(g);
    tg_set_flow_cb(g, on_flow, &o);
    run(g, 600000000000ull, true, NULL);
    tg_summary_get(g, 0, &s);
    CHECK_EQ_INT(s.rsts_seen, 1);
    CHECK_EQ_INT(s.flows_failed, 1);
    CHECK_EQ_INT(s.flows_completed, 4);
    CHECK_EQ_INT(o.reset, 1);
    tg_engine_free(g);
}

/* ------------------------------------------------------------ rates */

static uint64_t win_ns, win_start;
static uint64_t win_cnt, win_max, win_bytes, win_bmax;

static void windows(const struct bt_pkt *pk, uint64_t now)
{
    (void)now;
    while (pk->ts_ns >= win_start + win_ns) {
        win_start += win_ns;
        win_cnt = win_bytes = 0;
    }
    win_cnt++;
    win_bytes += pk->len;
    if (win_cnt > win_max)
        win_max = win_cnt;
    if (win_bytes > win_bmax)
        win_bmax = win_bytes;
}

TEST(pps_cap)
{
    struct tg_summary s;

    prof("tcp,req=200,resp=1400x10", 2000, 20000);   /* wants ~440k pps */
    P.pps = 20000;
    struct tg_engine *g = engine(1);
    REQUIRE(g);
    dut_reset(0, 0);
    win_ns = 10000000;
    win_start = win_cnt = win_max = 0;
    uint64_t end = run(g, UINT64_MAX, false, windows);
    tg_summary_get(g, end, &s);
    CHECK_EQ_INT(s.flows_completed, 2000);
    CHECK_NEAR(s.tx_pps, 20000, 20000 * 0.02);
    CHECK(win_max <= 200 + 32);       /* 10 ms at 20 kpps + the bucket's depth */
    CHECK(D.back_in_time == 0);
    tg_engine_free(g);
}

TEST(bps_cap)
{
    struct tg_summary s;

    prof("tcp,req=200,resp=1400x10", 500, 20000);
    P.bps = 50e6;
    struct tg_engine *g = engine(1);
    REQUIRE(g);
    dut_reset(0, 0);
    win_ns = 10000000;
    win_start = win_cnt = win_bytes = win_max = win_bmax = 0;
    uint64_t end = run(g, UINT64_MAX, false, windows);
    tg_summary_get(g, end, &s);
    CHECK_EQ_INT(s.flows_completed, 500);
    CHECK_NEAR(s.tx_bps, 50e6, 50e6 * 0.02);
    CHECK(win_bmax <= 62500 + 51200);  /* 10 ms at 50 Mbps + the bucket's depth */
    tg_engine_free(g);
}

static uint64_t max_active;

static void note_active(const struct bt_pkt *pk, uint64_t now)
{
    struct tg_summary s;
    (void)pk;
    tg_summary_get(G, now, &s);
    if (s.flows_active > max_active)
        max_active = s.flows_active;
}

TEST(cps_and_concurrency)
{
    struct tg_summary s;

    /* cps: flow i starts at i / cps (checked above); the summary's rate */
    prof("udp", 1000, 500);
    struct tg_engine *g = engine(1);
    REQUIRE(g);
    dut_reset(0, 0);
    uint64_t end = run(g, UINT64_MAX, false, NULL);
    tg_summary_get(g, end, &s);
    CHECK_NEAR(s.cps, 500, 500 * 0.01);
    tg_engine_free(g);
    /* concurrency: at most 10 flows at once */
    prof("tcp,rtt=10ms", 300, 100000);
    P.concurrency = 10;
    g = engine(1);
    REQUIRE(g);
    max_active = 0;
    uint64_t now = play(g, 0, UINT64_MAX, note_active);
    tg_summary_get(g, now, &s);
    CHECK_EQ_INT(max_active, 10);
    CHECK_EQ_INT(s.flows_completed, 300);
    /* 30 waves of the template, one after the other */
    struct tg_tmpl_info ti;
    REQUIRE(tg_template_info(g, 0, &ti) == 0);
    CHECK(ti.duration_ns >= 20000000);
    CHECK(now >= 29 * ti.duration_ns);
    tg_engine_free(g);
}

TEST(rate_max)
{
    struct tg_summary s;
    struct bt_pkt *pk[32];

    prof("tcp,req=200,resp=1400x10", 1000, 100);
    P.rate_max = true;
    struct tg_engine *g = engine(1);
    REQUIRE(g);
    unsigned calls = 0;
    while (!tg_done(g) && calls < 100000) {
        unsigned n = tg_tx(g, 1000 + calls, pk, 32);
        for (unsigned i = 0; i < n; i++)
            bt_pkt_free(pk[i]);
        calls++;
    }
    tg_summary_get(g, 1000 + calls, &s);
    CHECK_EQ_INT(s.flows_completed, 1000);
    CHECK_EQ_INT(s.tx_packets, 22000);
    CHECK(calls <= 22000 / 32 + 2);   /* full bursts: never waits for template time */
    tg_engine_free(g);
}

/* Rate max under a cap: tg_next_ns says when the cap lets the next packet
 * go, so a driver that moves its clock to it (as the offline backend and
 * the plan runner do) takes a few steps a packet, not one a nanosecond. */
TEST(rate_max_capped_next_time)
{
    struct tg_summary s;
    struct bt_pkt *pk[32];

    for (int cap = 0; cap < 2; cap++) {
        prof("tcp,req=200,resp=1400x2", 500, 100);
        P.rate_max = true;
        if (cap)
            P.bps = 8e6;      /* 1 MB/s */
        else
            P.pps = 10000;
        struct tg_engine *g = engine(1);
        REQUIRE(g);
        uint64_t now = 0, last = 0, steps = 0;
        bool early = false;
        while (!tg_done(g) && steps < 1000000) {
            uint64_t t = tg_next_ns(g);
            if (t > now)
                now = t;
            unsigned n = tg_tx(g, now, pk, 32);
            for (unsigned i = 0; i < n; i++)
                bt_pkt_free(pk[i]);
            if (n)
                last = now;
            else if (t > last + 1 && t < now)
                early = true;
            if (!n && t <= now)
                now++;
            steps++;
        }
        tg_summary_get(g, now, &s);
        CHECK_EQ_INT(s.flows_completed, 500);
        /* the rate, give or take the bucket's depth over the run (32
         * packets, 51,200 bytes: 1 % and 3.5 % of it) */
        if (cap)
            CHECK_NEAR(s.tx_bps, 8e6, 8e6 * 0.05);
        else
            CHECK_NEAR(s.tx_pps, 10000, 10000 * 0.02);
        /* a step or two a packet (a bigger frame than the smallest asks twice) */
        CHECK(steps <= 3 * s.tx_packets + 10);
        CHECK(!early);
        tg_engine_free(g);
    }
}

/* Open loop counts the RSTs it receives: the same count as a whole parse
 * of each frame gives, over layouts the shortcut takes and the ones it
 * leaves to the parser (tags, options, extension headers, fragments,
 * short frames), and a fixed count the frames were built to hold. */
TEST(open_loop_counts_rsts_as_the_parser)
{
    uint8_t fr[16][128];
    unsigned len[16], n = 0, want = 0;
    struct tg_summary s;

#define V4(tag, ihl, frag, proto, flags, cut)                                                  \
    do {                                                                                       \
        unsigned o = pb_eth(fr[n], tag ? 0x8100 : 0, 7, 0, 0, 0x0800);                         \
        o += pb_ip4(fr[n] + o, ihl, (uint16_t)(ihl * 4 + 20), frag, proto, 0x0a000001, 0x0a000002); \
        o += proto == 6 ? pb_tcp(fr[n] + o, 1000, 80, 1, 2, flags, 20) : pb_udp(fr[n] + o, 1000, 53, 28); \
        if (proto != 6)                                                                        \
            memset(fr[n] + o - 8 + 8, flags, 20), o += 20; /* payload where TCP's flags would be */ \
        len[n++] = o - (cut);                                                                  \
    } while (0)
#define V6(nh0, proto, flags)                                                                  \
    do {                                                                                       \
        unsigned o = pb_eth(fr[n], 0, 0, 0, 0, 0x86dd);                                        \
        o += pb_ip6(fr[n] + o, nh0 ? 28 : 20, nh0 ? 0 : proto, 1, 2);                          \
        if (nh0) {                                                                             \
            memset(fr[n] + o, 0, 8), fr[n][o] = proto, o += 8;  /* hop-by-hop */               \
        }                                                                                      \
        o += proto == 6 ? pb_tcp(fr[n] + o, 1000, 80, 1, 2, flags, 20) : pb_udp(fr[n] + o, 1000, 53, 28); \
        if (proto != 6)                                                                        \
            memset(fr[n] + o, flags, 20), o += 20;                                             \
        len[n++] = o;                                                                          \
    } while (0)
    V4(0, 5, 0, 6, 0x14, 0);      /* RST+ACK: 1 */
    V4(0, 5, 0, 6, 0x10, 0);      /* ACK */
    V4(0, 5, 0, 17, 0x04, 0);     /* UDP, 0x04 where the flags would be */
    V4(1, 5, 0, 6, 0x04, 0);      /* tagged RST: 2 */
    V4(0, 6, 0, 6, 0x04, 0);      /* options, RST: 3 */
    V4(0, 6, 0, 6, 0x10, 0);      /* options, ACK */
    V4(0, 5, 0x0010, 6, 0x04, 0); /* a non-first fragment: payload, no TCP header */
    V4(0, 5, 0, 6, 0x04, 10);     /* an RST cut short of its TCP header */
    V6(0, 6, 0x04);               /* RST: 4 */
    V6(0, 6, 0x18);               /* PSH+ACK */
    V6(0, 17, 0x04);              /* UDP */
    V6(1, 6, 0x04);               /* hop-by-hop, RST: 5 */
    V6(1, 6, 0x10);               /* hop-by-hop, ACK */
#undef V4
#undef V6
    prof("tcp", 1, 1000);
    struct tg_engine *g = engine(1);
    REQUIRE(g);
    tg_tx_fill(g, 0, NULL, 0);
    for (unsigned i = 0; i < n; i++) {
        struct bt_parsed p;
        if (bt_parse(fr[i], len[i], BT_LINK_ETHERNET, &p) == BT_PARSE_OK && p.proto == 6 &&
            (p.tcp_flags & BT_TCP_RST))
            want++;
        tg_rx_frame(g, 1000 + i, (uint16_t)(i & 1), fr[i], len[i]);
        tg_summary_get(g, 1000 + i, &s);
        if (s.rsts_seen != want)
            BT_FAIL_AT("frame %u: %" PRIu64 " RSTs counted, the parser says %u", i, s.rsts_seen, want);
    }
    CHECK_EQ_INT(want, 5);
    CHECK_EQ_INT(s.rx_packets, n);
    tg_engine_free(g);
}

/* ------------------------------------------------------------ the rest */

static uint8_t part_seen[600];
static unsigned cur_part;

static void note_part(const struct bt_pkt *pk, uint64_t now)
{
    (void)now;
    if (pk->meta % 3 != cur_part || pk->meta >= 600)
        BT_FAIL_AT("part %u sent flow %" PRIu64, cur_part, pk->meta);
    else if (pk->flags & BT_PKT_F_CLIENT)
        part_seen[pk->meta]++;
}

TEST(partitions_cover_the_flows_once)
{
    memset(part_seen, 0, sizeof(part_seen));
    for (cur_part = 0; cur_part < 3; cur_part++) {
        prof("udp", 600, 1000);
        P.part = cur_part;
        P.nparts = 3;
        struct tg_engine *g = engine(9);
        REQUIRE(g);
        uint64_t now = play(g, 0, UINT64_MAX, note_part);
        struct tg_summary s;
        tg_summary_get(g, now, &s);
        CHECK_EQ_INT(s.flows_started, 200);
        tg_engine_free(g);
    }
    for (unsigned i = 0; i < 600; i++)
        if (part_seen[i] != 1)
            BT_FAIL_AT("flow %u sent %u times", i, part_seen[i]);
}

/* Closed loop over several engines: every frame a part sends, both
 * directions, names that part (tg_frame_part: the flow's tag in the IPv4
 * id / IPv6 flow label), so a receiver can steer it to its owner. */
static unsigned part_bad, part_frames, part_nparts;

static void note_frame_part(const struct bt_pkt *pk, uint64_t now)
{
    (void)now;
    part_frames++;
    if (tg_frame_part(pk->data, pk->len, part_nparts) != pk->meta % part_nparts)
        part_bad++;
}

TEST(closed_parts_tag_their_frames)
{
    static const char *const specs[] = {"tcp,req=300,resp=1400x3", "udp,req=100,resp=200x2,v6"};
    for (unsigned sp = 0; sp < 2; sp++)
        for (unsigned part = 0; part < 3; part++) {
            struct tg_summary s;
            closed(specs[sp], 300, 0);
            P.part = part;
            P.nparts = 3;
            struct tg_engine *g = engine(5);
            REQUIRE(g);
            part_bad = part_frames = 0;
            part_nparts = 3;
            run(g, 600000000000ull, true, note_frame_part);
            tg_summary_get(g, 0, &s);
            CHECK_EQ_INT(s.flows_completed, 100);
            CHECK_EQ_INT(s.flows_failed, 0);
            CHECK_EQ_INT(D.bad_csum + D.unparsed, 0);
            CHECK(part_frames >= 100 * 3);
            CHECK_EQ_INT(part_bad, 0);
            tg_engine_free(g);
        }
    /* the check can fail: one engine for all (nparts 1) tags only its client
     * packets, with no regard to parts */
    closed("tcp,req=300,resp=1400x3", 300, 0);
    struct tg_engine *g = engine(5);
    REQUIRE(g);
    part_bad = part_frames = 0;
    part_nparts = 3;
    run(g, 600000000000ull, true, note_frame_part);
    CHECK(part_bad > part_frames / 3);
    tg_engine_free(g);
    /* no IP: the receiver keeps it; one part: always 0 */
    uint8_t arp[60] = {[12] = 0x08, [13] = 0x06};
    CHECK_EQ_INT(tg_frame_part(arp, sizeof(arp), 4), 4);
    CHECK_EQ_INT(tg_frame_part(arp, sizeof(arp), 1), 0);
    CHECK_EQ_INT(tg_frame_part(arp, 10, 4), 4);
}

/* tg_set_macs: the packets built after it carry the new MACs, on that
 * port only. */
static uint8_t mac_new_dst[6] = {0x02, 0xaa, 0, 0, 0, 0x07}, mac_new_src[6] = {0x02, 0xbb, 0, 0, 0, 9};
static unsigned mac_phase, mac_bad, mac_n[2][2];

static void note_macs(const struct bt_pkt *pk, uint64_t now)
{
    (void)now;
    bool moved = mac_phase && pk->port == TG_PORT_CLIENT;
    const uint8_t *dst = pk->port ? P.server_dst_mac : P.client_dst_mac;
    const uint8_t *src = pk->port ? P.server_mac : P.client_mac;
    if (memcmp(pk->data, moved ? mac_new_dst : dst, 6) ||
        memcmp(pk->data + 6, moved ? mac_new_src : src, 6))
        mac_bad++;
    mac_n[mac_phase][pk->port & 1]++;
}

TEST(set_macs)
{
    prof("tcp,req=300,resp=1400x3", 200, 10000);
    struct tg_engine *g = engine(3);
    REQUIRE(g);
    mac_phase = 0;
    mac_bad = 0;
    memset(mac_n, 0, sizeof(mac_n));
    uint64_t now = play(g, 0, 10000000, note_macs);
    tg_set_macs(g, TG_PORT_CLIENT, mac_new_src, mac_new_dst);
    mac_phase = 1;
    play(g, now, UINT64_MAX, note_macs);
    CHECK(tg_done(g));
    CHECK(mac_n[0][0] > 0 && mac_n[0][1] > 0 && mac_n[1][0] > 0 && mac_n[1][1] > 0);
    CHECK_EQ_INT(mac_bad, 0);
    /* the check can fail: judged as if nothing had moved */
    mac_bad = 0;
    memcpy(mac_new_dst, P.client_dst_mac, 6);
    g = tg_engine_free(g);
    g = engine(3);
    REQUIRE(g);
    mac_phase = 1;
    uint8_t other[6] = {0x02, 0xcc, 0, 0, 0, 1};
    tg_set_macs(g, TG_PORT_CLIENT, NULL, other);
    play(g, 0, UINT64_MAX, note_macs);
    CHECK(mac_bad > 0);
    tg_engine_free(g);
}

TEST(stop_and_abort)
{
    struct tg_summary s;
    struct bt_pkt *pk[32];

    prof("tcp,rtt=100ms", 1000, 1000);
    struct tg_engine *g = engine(1);
    REQUIRE(g);
    uint64_t now = play(g, 0, 50000000, NULL);
    tg_stop(g, now);
    tg_summary_get(g, now, &s);
    uint64_t started = s.flows_started;
    CHECK(started >= 49 && started <= 52);
    CHECK(!tg_done(g));
    now = play(g, now, UINT64_MAX, NULL);
    tg_summary_get(g, now, &s);
    CHECK_EQ_INT(s.flows_started, started);
    CHECK_EQ_INT(s.flows_completed, started);
    tg_engine_free(g);
    /* abort: active flows end, counted aborted */
    g = engine(1);
    REQUIRE(g);
    now = play(g, 0, 50000000, NULL);
    tg_summary_get(g, now, &s);
    uint64_t active = s.flows_active;
    CHECK(active > 0);
    tg_abort(g, now);
    CHECK(tg_done(g));
    tg_summary_get(g, now, &s);
    CHECK_EQ_INT(s.flows_aborted, active);
    CHECK_EQ_INT(s.flows_active, 0);
    CHECK_EQ_INT(s.flows_completed + s.flows_aborted, s.flows_started);
    CHECK_EQ_INT(tg_tx(g, now + 1000000000, pk, 32), 0);
    tg_engine_free(g);
}

TEST(pool_empty_counted)
{
    static struct bt_pkt *held[200];
    struct tg_summary s;

    prof("tcp", 100, 1e6);
    P.pool_pkts = 64;
    P.rate_max = true;
    struct tg_engine *g = engine(1);
    REQUIRE(g);
    unsigned n = 0;
    for (unsigned i = 0; i < 5; i++)
        n += tg_tx(g, 1000, held + n, 32);
    CHECK_EQ_INT(n, 64);
    tg_summary_get(g, 1000, &s);
    CHECK(s.tx_pool_empty >= 1);
    for (unsigned i = 0; i < n; i++)
        bt_pkt_free(held[i]);
    CHECK_EQ_INT(tg_tx(g, 1001, held, 32), 32);
    for (unsigned i = 0; i < 32; i++)
        bt_pkt_free(held[i]);
    tg_engine_free(g);
}

/* A paced run keeps the values of recent flows by flow number mod 4096
 * (tg_engine.c FV_MEMO): with 12,000 flows active at once, flows 4096
 * apart take turns in one entry, and every packet must still carry its own
 * flow's addresses, ports and TCP numbers: those the same flow has at rate
 * max (which keeps them per flow, no memo), the same in all its packets. */
enum { MEMO_NF = 12000 };
static uint8_t memo_key[2][MEMO_NF][44];
static uint8_t memo_seen[2][MEMO_NF];

/* the flows' (client address, server address, client port, server port,
 * client ISN, server ISN) through engine mode r; the packets inconsistent
 * with their flow's first ones */
static unsigned memo_keys(unsigned r, unsigned *pkts)
{
    struct bt_pkt *v[32];
    unsigned bad = 0;

    prof("tcp,req=10,resp=10x1,rounds=3,rtt=20ms", MEMO_NF, 1e6);
    P.nclients = 1;
    bt_cidr_parse("10.0.0.0/8", &P.clients[0]);
    P.rate_max = r;
    P.concurrency = r ? 500 : 0;
    struct tg_engine *g = engine(5);
    if (!g)
        return 1;
    for (uint64_t now = 0; !tg_done(g) && now < 2000000000ull; now += 20000) {
        unsigned n;
        while ((n = tg_tx(g, now, v, 32)) > 0) {
            for (unsigned i = 0; i < n; i++) {
                struct bt_parsed p;
                uint64_t f = v[i]->meta;
                uint8_t *k;
                if (f >= MEMO_NF || bt_parse(v[i]->data, v[i]->len, BT_LINK_ETHERNET, &p) != BT_PARSE_OK) {
                    bad++;
                    bt_pkt_free(v[i]);
                    continue;
                }
                unsigned srv = v[i]->port == TG_PORT_SERVER;
                uint8_t kk[36];
                memcpy(kk, srv ? p.dst : p.src, 16);
                memcpy(kk + 16, srv ? p.src : p.dst, 16);
                uint16_t cp = srv ? p.dport : p.sport, sp = srv ? p.sport : p.dport;
                memcpy(kk + 32, &cp, 2);
                memcpy(kk + 34, &sp, 2);
                k = memo_key[r][f];
                if (!memo_seen[r][f]) {
                    memcpy(k, kk, 36);
                    memo_seen[r][f] = 1;
                } else if (memcmp(k, kk, 36)) {
                    bad++;
                }
                /* (the SYN's and the SYN-ACK's sequence numbers) */
                if (p.tcp_flags & BT_TCP_SYN)
                    memcpy(k + 36 + 4 * srv, &p.seq, 4);
                (*pkts)++;
                bt_pkt_free(v[i]);
            }
            if (n < 32)
                break;
        }
    }
    if (!tg_done(g))
        bad++;
    tg_engine_free(g);
    return bad;
}

TEST(paced_flow_values_past_memo_collisions)
{
    unsigned pp = 0, pr = 0;

    CHECK_EQ_INT(memo_keys(0, &pp), 0);
    CHECK_EQ_INT(memo_keys(1, &pr), 0);
    CHECK(pp > MEMO_NF * 10);
    CHECK_EQ_INT(pp, pr);
    unsigned differ = 0, missing = 0;
    for (unsigned f = 0; f < MEMO_NF; f++) {
        if (!memo_seen[0][f] || !memo_seen[1][f])
            missing++;
        else if (memcmp(memo_key[0][f], memo_key[1][f], 44))
            differ++;
    }
    CHECK_EQ_INT(missing, 0);
    CHECK_EQ_INT(differ, 0);
}

/* A paced tg_tx on an empty pool counts it whether or not a packet was due
 * (with nothing due it takes no packet at all, but still counts). */
TEST(paced_pool_empty_counted_when_nothing_due)
{
    static struct bt_pkt *held[64];
    struct bt_pkt *v[4];
    unsigned n = 0, calls = 0;
    struct tg_summary s;

    prof("tcp", 100, 1000);
    P.pool_pkts = 64;
    struct tg_engine *g = engine(1);
    REQUIRE(g);
    for (uint64_t now = 0; now < 200000000ull; now += 10000) {
        if (n < 64) {
            /* one at a time: the pool runs dry exactly at the 64th */
            n += tg_tx(g, now, held + n, 1);
            continue;
        }
        CHECK_EQ_INT(tg_tx(g, now, v, 4), 0);
        calls++;
    }
    REQUIRE(n == 64);
    tg_summary_get(g, 200000000ull, &s);
    CHECK(calls > 10000);
    CHECK_EQ_INT(s.tx_pool_empty, calls);
    for (unsigned i = 0; i < n; i++)
        bt_pkt_free(held[i]);
    tg_engine_free(g);
}

TEST(template_info)
{
    prof("tcp,req=200,resp=1400x3", 10, 300);
    add_pcap(TMPL("dns.pcap"));
    P.tmpl[1].weight = 2;
    P.cps_mult = 2;
    struct tg_engine *g = engine(1);
    REQUIRE(g);
    CHECK_EQ_INT(tg_template_count(g), 2);
    struct tg_tmpl_info a, b;
    REQUIRE(tg_template_info(g, 0, &a) == 0);
    REQUIRE(tg_template_info(g, 1, &b) == 0);
    CHECK(tg_template_info(g, 2, &b) == -EINVAL);
    REQUIRE(tg_template_info(g, 1, &b) == 0);
    CHECK_EQ_STR(a.name, "synth:tcp,req=200,resp=1400x3");
    CHECK_EQ_INT(a.packets, 12);
    CHECK_EQ_INT(a.client_packets, 7);
    CHECK_EQ_INT(a.proto, 6);
    CHECK_EQ_INT(a.server_port, 80);
    CHECK_NEAR(a.cps, 200, 1e-9);     /* 300 x 1/3 x 2 */
    CHECK_NEAR(b.cps, 400, 1e-9);
    CHECK_EQ_INT(b.packets, 2);
    CHECK_EQ_INT(b.proto, 17);
    CHECK_EQ_INT(b.server_port, 53);
    CHECK(strstr(b.name, "dns.pcap#0") != NULL);
    tg_engine_free(g);
}

TEST(refusals)
{
    struct bt_err e;

    prof(NULL, 10, 100);
    add_pcap(TMPL("absent.pcap"));
    CHECK(tg_engine_new(&P, 1, &e) == NULL);
    CHECK(strstr(e.msg, "absent.pcap") != NULL);
    /* a v6 template with only v4 pools */
    prof(NULL, 10, 100);
    add_pcap(TMPL("http6.pcap"));
    P.nclients = P.nservers = 1;
    CHECK(tg_engine_new(&P, 1, &e) == NULL);
    CHECK(strstr(e.msg, "is IPv6: give an IPv6 CIDR in both the client and the server pools"));
    /* more flows than client address x port pairs */
    prof("tcp", 1000, 100);
    bt_cidr_parse("10.0.0.0/32", &P.clients[0]);
    P.cport_lo = 1000;
    P.cport_hi = 1009;
    CHECK(tg_engine_new(&P, 1, &e) == NULL);
    CHECK(strstr(e.msg, "1000 flows need more client address x port pairs than the IPv4 pool "
                 "has (10)") != NULL);
    /* an impossible rate */
    prof("tcp", 10, 1e9);
    P.cps_mult = 1e6;
    CHECK(tg_engine_new(&P, 1, &e) == NULL);
    CHECK(strstr(e.msg, "flows/s is impossible") != NULL);
    /* the profile's own checks */
    prof("tcp", 10, 0);
    CHECK(tg_engine_new(&P, 1, &e) == NULL);
    CHECK(strstr(e.msg, "cps 0 is impossible") != NULL);
    /* a conversation stretched past the clock by speed (found in review:
     * its times wrapped and everything was sent at once) */
    prof("tcp", 2, 100);
    P.tmpl[0].rtt_ns = 20ULL * 3600 * 1000000000ULL;
    P.speed = 1e-6;
    CHECK(tg_engine_new(&P, 1, &e) == NULL);
    CHECK(strstr(e.msg, "past the 1e+10 s the clock holds: raise speed or shorten rtt/ipg") != NULL);
}

TEST(duration_and_speed)
{
    struct tg_summary s;

    /* no flow starts at or after the duration: flows at 0, 10, ... 990 ms */
    prof("udp", 0, 100);
    P.duration_ns = 1000000000;
    struct tg_engine *g = engine(1);
    REQUIRE(g);
    dut_reset(0, 0);
    NC = 0;
    uint64_t end = run(g, UINT64_MAX, false, collect);
    tg_summary_get(g, end, &s);
    CHECK_EQ_INT(s.flows_started, 100);
    CHECK_EQ_INT(s.flows_completed, 100);
    CHECK(end < 1000000000);
    tg_engine_free(g);
    /* speed 4: template time runs four times faster (the SYN-ACK at 125 us,
     * not 500 us); a 1 ms ipg override for same-direction packets */
    prof("tcp,req=3000,resp=1400x3", 3, 100);
    P.speed = 4;
    g = engine(1);
    REQUIRE(g);
    dut_reset(0, 0);
    NC = 0;
    run(g, UINT64_MAX, false, collect);
    CHECK_EQ_INT(C[1].ts - C[0].ts, 125000);
    tg_engine_free(g);
    prof("tcp,req=3000,resp=1400x3", 1, 100);
    P.tmpl[0].ipg_ns = 1000000;
    g = engine(1);
    REQUIRE(g);
    dut_reset(0, 0);
    NC = 0;
    run(g, UINT64_MAX, false, collect);
    /* packets 4, 5 and 6 are the request's three segments */
    CHECK_EQ_INT(C[4].ts - C[3].ts, 1000000);
    CHECK_EQ_INT(C[5].ts - C[4].ts, 1000000);
    tg_engine_free(g);
}

/* Closed loop with 802.1Q tags through a hide-NAT device, v4 and v6. */
TEST(closed_loop_vlan)
{
    struct tg_summary s;

    closed("tcp,req=200,resp=1400x3", 40, DUT_NAT);
    add_pcap(TMPL("http6.pcap"));
    P.vlan = 77;
    P.flows = 80;
    struct tg_engine *g = engine(8);
    REQUIRE(g);
    run(g, 600000000000ull, true, NULL);
    tg_summary_get(g, 0, &s);
    CHECK_EQ_INT(s.flows_completed, 80);
    CHECK_EQ_INT(s.nat_learned, 80);
    CHECK_EQ_INT(s.rx_unmatched, 0);
    CHECK_EQ_INT(D.bad_csum + D.unparsed, 0);
    tg_engine_free(g);
}

/* Every committed template with 1000 flows, in process (the 2 MB download
 * too, whose 2.2 M packets the tshark test leaves out): 1000 distinct
 * conversations, every checksum right. */
static uint64_t conv_set[1 << 12];
static unsigned conv_n, conv_bad;
static uint64_t conv_pkts;

static void note_conv(const struct bt_pkt *pk, uint64_t now)
{
    struct bt_parsed p;
    struct bt_flow_key k, c;

    (void)now;
    conv_pkts++;
    if (bt_parse(pk->data, pk->len, BT_LINK_ETHERNET, &p) != BT_PARSE_OK ||
        bt_csum_check(pk->data, pk->len, &p) != 0) {
        conv_bad++;
        return;
    }
    bt_flow_key_from_parsed(&p, &k);
    bt_flow_key_canon(&k, &c);
    uint64_t h = bt_flow_key_hash(&c, 1) | 1;
    uint32_t m = (1u << 12) - 1, i = (uint32_t)h & m;
    while (conv_set[i] && conv_set[i] != h)
        i = (i + 1) & m;
    if (!conv_set[i]) {
        conv_set[i] = h;
        conv_n++;
    }
}

TEST(every_template_1000_flows)
{
    static const char *const names[] = {"dns", "download-2mb", "http", "http6", "interactive",
                                        "tls", "udp-stream", NULL};
    for (unsigned i = 0; names[i]; i++) {
        char path[512];
        snprintf(path, sizeof(path), "%s/templates/%s.pcap", BT_PCAPS_DIR, names[i]);
        prof(NULL, 1000, 1e6);
        add_pcap(path);
        struct tg_engine *g = engine(13);
        if (!g) {
            BT_FAIL_AT("%s: no engine", names[i]);
            continue;
        }
        struct tg_tmpl_info ti;
        tg_template_info(g, 0, &ti);
        memset(conv_set, 0, sizeof(conv_set));
        conv_n = conv_bad = 0;
        conv_pkts = 0;
        play(g, 0, UINT64_MAX, note_conv);
        if (conv_n != 1000 || conv_bad || conv_pkts != 1000ull * ti.packets)
            BT_FAIL_AT("%s: %u conversations, %u bad of %" PRIu64 " packets", names[i], conv_n,
                       conv_bad, conv_pkts);
        tg_engine_free(g);
    }
}

/* ------------------------------------------------------------ reserve */

/* A wire for the reserve tests that allocates nothing: frames sent on one
 * port arrive on the other WIRE_NS later (a perfect device). */
#define WIRE_SLOTS 4096
#define WIRE_NS 20000
static struct {
    uint8_t data[WIRE_SLOTS][1600];
    uint32_t len[WIRE_SLOTS];
    uint16_t port[WIRE_SLOTS];
    uint64_t at[WIRE_SLOTS];
    unsigned head, n, overflow;
} W;

/* Runs g to the end as the DPDK worker does (tg_tx_frames of up to max into
 * caller buffers, every other turn tg_tx_fill, what arrives fed to
 * tg_rx_frame), now_ns moving by step (0: to tg_next_ns) and returns the
 * allocations made meanwhile. */
static unsigned long reserve_loop(struct tg_engine *g, bool wire, uint64_t step, unsigned max)
{
    static uint8_t bufs[32][1600];
    struct bt_pkt pk[32];
    void *bp[32];
    uint32_t lp[32];
    unsigned long a0 = bt_allocs;
    uint64_t now = 0;

    for (unsigned i = 0; i < 32; i++)
        bp[i] = bufs[i];

    W.head = W.n = W.overflow = 0;
    for (unsigned it = 0; !tg_done(g) && it < 10000000; it++) {
        while (W.n && W.at[W.head] <= now) {
            unsigned i = W.head;
            tg_rx_frame(g, now, W.port[i], W.data[i], W.len[i]);
            W.head = (W.head + 1) % WIRE_SLOTS;
            W.n--;
        }
        for (unsigned i = 0; i < max; i++) {
            memset(&pk[i], 0, sizeof(pk[i]));
            pk[i].data = bufs[i];
            pk[i].cap = sizeof(bufs[i]);
        }
        unsigned n;
        if (it & 1) {
            n = tg_tx_frames(g, now, bp, 0, sizeof(bufs[0]), lp, max);
            for (unsigned i = 0; i < n; i++) {
                pk[i].len = lp[i] & 0xffff;
                pk[i].port = (uint16_t)(lp[i] >> 16);
            }
        } else {
            n = tg_tx_fill(g, now, pk, max);
        }
        for (unsigned i = 0; wire && i < n; i++) {
            if (W.n == WIRE_SLOTS) {
                W.overflow++;
                continue;
            }
            unsigned j = (W.head + W.n++) % WIRE_SLOTS;
            memcpy(W.data[j], pk[i].data, pk[i].len);
            W.len[j] = pk[i].len;
            W.port[j] = (uint16_t)(pk[i].port ^ 1);
            W.at[j] = now + WIRE_NS;
        }
        uint64_t next = tg_next_ns(g);
        if (W.n && W.at[W.head] < next)
            next = W.at[W.head];
        if (step)
            now += step;
        else if (next != UINT64_MAX && next > now)
            now = next;
        else if (!n)
            now += 1000;
    }
    struct tg_summary s;
    tg_summary_get(g, now, &s);
    return bt_allocs - a0;
}

TEST(reserve_then_no_allocation)
{
    struct tg_summary s;
    struct tg_tmpl_info ti;

    /* open loop at rate max (the round robin), v4 with a VLAN */
    prof("tcp,req=200,resp=1400x10", 20000, 100);
    P.rate_max = true;
    P.vlan = 9;
    struct tg_engine *g = engine(21);
    REQUIRE(g);
    CHECK_EQ_INT(tg_engine_reserve(g, 5000), 0);
    CHECK_EQ_INT(tg_engine_reserve(g, 5000), -EINVAL);  /* once */
    CHECK_EQ_INT(reserve_loop(g, false, 0, 32), 0);
    tg_summary_get(g, 0, &s);
    tg_template_info(g, 0, &ti);
    CHECK(tg_done(g));
    CHECK_EQ_INT(s.flows_completed, 20000);
    CHECK_EQ_INT(s.tx_packets, 20000ull * ti.packets);
    CHECK_EQ_INT(tg_engine_reserve(g, 10), -EINVAL);    /* not once running */
    tg_engine_free(g);

    /* open loop, paced (the wheel and the queue), v6; the loop calls in
     * every 5 ms for 8 packets: far more are due than the queue of 1024
     * holds, so packets wait their turn (late, none lost) */
    prof("udp,req=100,resp=500x2,v6", 3000, 1e6);
    g = engine(22);
    REQUIRE(g);
    CHECK_EQ_INT(tg_engine_reserve(g, 3000), 0);
    CHECK_EQ_INT(reserve_loop(g, false, 5000000, 8), 0);
    tg_summary_get(g, 0, &s);
    CHECK(tg_done(g));
    CHECK_EQ_INT(s.flows_started, 3000);
    CHECK_EQ_INT(s.flows_completed, 3000);
    CHECK_EQ_INT(s.tx_packets, 3000 * 3);
    tg_engine_free(g);

    /* closed loop through the wire: the hash, the windows, the queue; a
     * reservation below what the profile would run at once caps it */
    prof("tcp,req=3000,resp=1400x6", 4000, 1e6);
    add_pcap(TMPL("http.pcap"));
    add_pcap(TMPL("http6.pcap"));
    P.mode = TG_MODE_CLOSED;
    g = engine(23);
    REQUIRE(g);
    CHECK_EQ_INT(tg_engine_reserve(g, 100), 0);
    CHECK_EQ_INT(reserve_loop(g, true, 0, 32), 0);
    tg_summary_get(g, 0, &s);
    CHECK(tg_done(g));
    CHECK_EQ_INT(W.overflow, 0);
    CHECK_EQ_INT(s.flows_started, 4000);
    CHECK_EQ_INT(s.flows_completed, 4000);
    CHECK_EQ_INT(s.flows_failed, 0);
    CHECK_EQ_INT(s.retransmits, 0);
    CHECK_EQ_INT(s.rx_matched, s.tx_packets);
    tg_engine_free(g);
}

/* The check can fail: without tg_engine_reserve the same loops allocate
 * (the engine grows as it goes). */
TEST(no_reserve_allocates)
{
    prof("tcp,req=200,resp=1400x10", 20000, 100);
    P.rate_max = true;
    struct tg_engine *g = engine(21);
    REQUIRE(g);
    CHECK(reserve_loop(g, false, 0, 32) > 0);
    tg_engine_free(g);
    prof("tcp,req=3000,resp=1400x6", 4000, 1e6);
    P.mode = TG_MODE_CLOSED;
    P.concurrency = 100;
    g = engine(23);
    REQUIRE(g);
    CHECK(reserve_loop(g, true, 0, 32) > 0);
    tg_engine_free(g);
}
