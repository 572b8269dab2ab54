/* SPDX-License-Identifier: BSD-3-Clause */
#include <errno.h>
#include <jansson.h>
#include <stdlib.h>

#include "bt_test.h"
#include "bt_capset.h"
#include "bt_cidr.h"
#include "bt_err.h"
#include "bt_flow.h"
#include "bt_flow_table.h"
#include "bt_hash.h"
#include "bt_parse.h"
#include "bt_pcap.h"
#include "../../verify/vf_loss.h"
#include "../../verify/vf_nat.h"
#include "../lib/pktbuild.h"

#include "vf_loss_ref.h"

/* ---- random captures through both ---- */

static uint64_t rng;

static uint32_t rnd(uint32_t n)
{
    rng = rng * 6364136223846793005ULL + 1442695040888963407ULL;
    return (uint32_t)(rng >> 33) % n;
}

struct tflow {
    int v6, vlan, ipopt, nat;
    uint8_t proto;                 /* 6, 17 or 1 (58 on IPv6) */
    uint8_t cip[16], sip[16], tip[16];
    uint16_t cport, sport, tport;
    int opened;
};

static void addr(uint8_t a[16], int v6, uint32_t v)
{
    memset(a, 0, 16);
    if (!v6) {
        a[10] = a[11] = 0xff;
    } else {
        a[0] = 0x20;
        a[1] = 0x01;
    }
    pb32(a + 12, v);
}

/* A frame of fl in direction dir (0: client to server) as seen on the
 * server link when on_server (hide-NAT: the client's translated address
 * there). Returns its length; *l3, *l4 the header offsets. */
static unsigned mkframe(uint8_t *f, const struct tflow *fl, int dir, int on_server, int raw,
                        uint32_t seq, uint8_t flags, unsigned plen, int frag_later,
                        uint8_t ttl, uint16_t ipid, unsigned *l3, unsigned *l4)
{
    unsigned o = 0, hl = fl->proto == 6 ? 20 : 8;
    const uint8_t *ca = fl->nat && on_server ? fl->tip : fl->cip;
    uint16_t cp = fl->nat && on_server ? fl->tport : fl->cport;
    const uint8_t *src = dir ? fl->sip : ca, *dst = dir ? ca : fl->sip;
    uint16_t spt = dir ? fl->sport : cp, dpt = dir ? cp : fl->sport;
    uint8_t proto = fl->proto == 1 && fl->v6 ? 58 : fl->proto;

    if (!raw) {
        memset(f, 0x02, 12);
        o = 12;
        if (fl->vlan) {
            pb16(f + o, 0x8100);
            pb16(f + o + 2, 5);
            o += 4;
        }
        pb16(f + o, fl->v6 ? 0x86dd : 0x0800);
        o += 2;
    }
    *l3 = o;
    if (!fl->v6) {
        unsigned ihl = fl->ipopt ? 6 : 5;
        f[o] = (uint8_t)(0x40 | ihl);
        f[o + 1] = 0;
        pb16(f + o + 2, (uint16_t)(ihl * 4 + hl + plen));
        pb16(f + o + 4, ipid);
        pb16(f + o + 6, frag_later ? 0x0010 : (seq & 1) ? 0x4000 : 0);
        f[o + 8] = ttl;
        f[o + 9] = proto;
        pb16(f + o + 10, (uint16_t)rnd(65536));
        memcpy(f + o + 12, src + 12, 4);
        memcpy(f + o + 16, dst + 12, 4);
        if (fl->ipopt)
            memset(f + o + 20, 1, 4);
        o += ihl * 4;
    } else {
        f[o] = 0x60;
        memset(f + o + 1, 0, 3);
        pb16(f + o + 4, (uint16_t)(hl + plen));
        f[o + 6] = proto;
        f[o + 7] = ttl;
        memcpy(f + o + 8, src, 16);
        memcpy(f + o + 24, dst, 16);
        o += 40;
    }
    *l4 = o;
    if (fl->proto == 6) {
        pb16(f + o, spt);
        pb16(f + o + 2, dpt);
        pb32(f + o + 4, seq);
        pb32(f + o + 8, seq * 3);
        f[o + 12] = 0x50;
        f[o + 13] = flags;
        pb16(f + o + 14, 1000);
        pb16(f + o + 16, (uint16_t)rnd(65536));
        pb16(f + o + 18, 0);
    } else if (fl->proto == 17) {
        pb16(f + o, spt);
        pb16(f + o + 2, dpt);
        pb16(f + o + 4, (uint16_t)(8 + plen));
        pb16(f + o + 6, (uint16_t)rnd(65536));
    } else {
        f[o] = fl->v6 ? (uint8_t)(dir ? 129 : 128) : (uint8_t)(dir ? 0 : 8);
        f[o + 1] = 0;
        pb16(f + o + 2, (uint16_t)rnd(65536));
        pb16(f + o + 4, cp);
        pb16(f + o + 6, (uint16_t)seq);
    }
    o += hl;
    for (unsigned i = 0; i < plen; i++)
        f[o + i] = (uint8_t)(seq * 7 + i);
    return o + plen;
}

struct trec {
    uint64_t ts;
    unsigned ord;
    unsigned len, caplen;
    uint8_t f[200];
};

static int trec_cmp(const void *a, const void *b)
{
    const struct trec *x = a, *y = b;
    if (x->ts != y->ts)
        return x->ts < y->ts ? -1 : 1;
    return x->ord < y->ord ? -1 : x->ord > y->ord;
}

struct tlink {
    struct trec *r;
    unsigned n;
};

static void put(struct tlink *l, uint64_t ts, const uint8_t *f, unsigned len, unsigned caplen)
{
    struct trec *r = &l->r[l->n];
    r->ts = ts;
    r->ord = l->n++;
    r->len = len;
    r->caplen = caplen;
    memcpy(r->f, f, len);
}

/* One random capture pair (mode 0: Ethernet on both links; 1: the server
 * link raw IP; 2: hide-NAT flows), through vf_loss and the reference:
 * their JSON reports must be the same bytes. */
static long long sums[6];

static void one(const char *dir, uint64_t seed, int mode, unsigned npk)
{
    char cp[300], sp[300];
    struct bt_err e;
    struct tflow fl[40];
    struct bt_nat_map maps[40];
    unsigned nmaps = 0, nfl = 12 + (unsigned)(seed % 29);
    struct tlink link[2];

    rng = seed;
    for (unsigned i = 0; i < nfl; i++) {
        struct tflow *t = &fl[i];
        memset(t, 0, sizeof(*t));
        t->v6 = rnd(3) == 0;
        t->vlan = rnd(6) == 0;
        t->ipopt = !t->v6 && rnd(8) == 0;
        t->proto = rnd(5) == 0 ? 17 : rnd(8) == 0 ? 1 : 6;
        /* few addresses and ports: canonical order by address and by port,
         * and now and then an endpoint shared by two flows; the addresses
         * differ in every byte position, so an order of the address words
         * taken in host byte order (not memcmp's) shows */
        static const uint32_t pick[6] = {0x0a000001, 0x0a000002, 0x09000003,
                                         0x0a010000, 0x0b000000, 0x0a000100};
        addr(t->cip, t->v6, pick[rnd(6)]);
        addr(t->sip, t->v6, pick[rnd(6)]);
        t->cport = (uint16_t)(1000 + rnd(8));
        t->sport = (uint16_t)(rnd(2) ? 80 : 1003);
        if (mode == 2 && rnd(2)) {
            t->nat = 1;
            addr(t->tip, t->v6, 0xc0000200 + rnd(3));
            t->tport = (uint16_t)(40000 + i);
            struct bt_nat_map *m = &maps[nmaps++];
            memset(m, 0, sizeof(*m));
            m->t_ns = rnd(2) ? 0 : 500000;
            m->proto = t->proto == 1 && t->v6 ? 58 : t->proto;
            memcpy(m->osrc, t->cip, 16);
            memcpy(m->odst, t->sip, 16);
            m->osport = t->cport;
            m->odport = t->sport;
            memcpy(m->tsrc, t->tip, 16);
            memcpy(m->tdst, t->sip, 16);
            m->tsport = t->tport;
            m->tdport = t->sport;
            if (t->proto == 1)                      /* ICMP echo: the id in both */
                m->odport = t->cport, m->tdport = t->tport;
        }
    }
    for (int l = 0; l < 2; l++) {
        link[l].r = calloc(npk * 3 + 8, sizeof(struct trec));
        link[l].n = 0;
    }
    uint64_t t = 1000;
    for (unsigned k = 0; k < npk; k++) {
        uint8_t f[200];
        unsigned l3, l4;
        t += rnd(4) == 0 ? 0 : rnd(3000);          /* ties now and then */
        if (rnd(60) == 0) {                        /* not IP: ARP on either link */
            memset(f, 0xff, 12);
            pb16(f + 12, 0x0806);
            memset(f + 14, 0, 28);
            put(&link[rnd(2)], t, f, 42, 42);
            continue;
        }
        struct tflow *fv = &fl[rnd(nfl)];
        int d = fv->opened ? (int)rnd(2) : 0;
        uint8_t flags = 0x18;
        if (fv->proto == 6 && !fv->opened)
            flags = 0x02;
        else if (fv->proto == 6 && rnd(10) == 0)
            flags = d ? 0x12 : 0x02;               /* SYN-ACK / SYN again */
        else if (fv->proto == 6 && rnd(25) == 0)
            flags = 0x04;
        fv->opened = 1;
        unsigned plen = rnd(3) == 0 ? 0 : rnd(120);
        int frag = rnd(30) == 0;
        uint32_t seq = rnd(4) == 0 ? (uint32_t)(k / 2) : k;   /* identical packets */
        uint16_t ipid = (uint16_t)(rnd(5) == 0 ? 7 : k);
        int in_link = d == 0 ? 0 : 1, out_link = !in_link;
        int raw = mode == 1;
        uint64_t saved = rng;
        unsigned len = mkframe(f, fv, d, in_link == 1, raw && in_link == 1, seq, flags, plen,
                               frag, 64, ipid, &l3, &l4);
        unsigned caplen = rnd(12) == 0 ? 10 + rnd(len - 9) : len;   /* cut short */
        unsigned fate = rnd(100);
        if (fate >= 3)                              /* 3 %: made by the cluster */
            put(&link[in_link], t, f, len, caplen);
        if (fate >= 3 && fate < 6)                  /* retransmitted identically */
            put(&link[in_link], t + rnd(2000), f, len, caplen);
        if (fate >= 6 && fate < 14)                 /* 8 %: lost */
            continue;
        /* the copy that leaves: TTL, header and L4 checksums changed */
        rng = saved;
        len = mkframe(f, fv, d, out_link == 1, raw && out_link == 1, seq, flags, plen, frag,
                      63, ipid, &l3, &l4);
        f[l3 + (fv->v6 ? 7 : 10)] ^= 0x5a;         /* v4 header checksum (v6: hop limit) */
        f[l4 + (fv->proto == 6 ? 16 : fv->proto == 17 ? 6 : 2)] ^= 0xa5;
        unsigned oc = caplen > len ? len : caplen;
        put(&link[out_link], t + (rnd(3) == 0 ? 0 : rnd(60000)), f, len, oc);
        if (rnd(40) == 0)                           /* left twice */
            put(&link[out_link], t + 70000, f, len, oc);
    }
    snprintf(cp, sizeof(cp), "%s/client.pcap", dir);
    snprintf(sp, sizeof(sp), "%s/server.pcap", dir);
    for (int l = 0; l < 2; l++) {
        qsort(link[l].r, link[l].n, sizeof(struct trec), trec_cmp);
        struct bt_pcap_writer *w =
            bt_pcap_writer_open(l ? sp : cp, mode == 1 && l == 1 ? 101 : 1, 0, &e);
        REQUIRE(w);
        for (unsigned i = 0; i < link[l].n; i++) {
            const struct trec *r = &link[l].r[i];
            bt_pcap_write(w, r->ts, r->f, r->caplen, r->len);
        }
        REQUIRE(bt_pcap_writer_close(w) == 0);
        free(link[l].r);
    }
    struct vf_nat *nat = nmaps ? vf_nat_new(maps, nmaps) : NULL;
    void *a = NULL, *b = NULL;
    REQUIRE(vf_loss(cp, sp, nat, &a, &e) == 0);
    REQUIRE(ref_loss(cp, sp, nat, &b, &e) == 0);
    char *ja = json_dumps(a, JSON_SORT_KEYS | JSON_REAL_PRECISION(17));
    char *jb = json_dumps(b, JSON_SORT_KEYS | JSON_REAL_PRECISION(17));
    if (strcmp(ja, jb) != 0)
        BT_FAIL_AT("seed %" PRIu64 " mode %d: reports differ:\n  new %s\n  ref %s", seed, mode,
                   ja, jb);
    json_t *c2s = json_object_get(a, "c2s"), *s2c = json_object_get(a, "s2c");
    sums[0] += json_integer_value(json_object_get(c2s, "lost"));
    sums[1] += json_integer_value(json_object_get(s2c, "lost"));
    sums[2] += json_integer_value(json_object_get(s2c, "out"));
    sums[3] += json_integer_value(json_object_get(a, "unmatched_out"));
    sums[4] += json_integer_value(json_object_get(a, "injected_rsts"));
    sums[5] += json_array_size(json_object_get(a, "offenders")) == 20;
    free(ja);
    free(jb);
    json_decref(a);
    json_decref(b);
    vf_nat_free(nat);
}

TEST(same_report_as_the_reference)
{
    char dir[] = "/tmp/bt-vfl-XXXXXX";
    REQUIRE(bt_mkdtemp(dir));
    for (uint64_t seed = 1; seed <= 30; seed++)
        one(dir, seed, (int)(seed % 3), 4000);
    /* not trivial: packets lost in both directions, matched s2c, made by
     * the cluster (RSTs among them), offender lists cut at 20 */
    for (int i = 0; i < 6; i++)
        CHECK(sums[i] > 0);
}
static unsigned seg(uint8_t *f, int reply, uint8_t flags, uint32_t seq)
{
    unsigned o = pb_eth(f, 0, 0, 0, 0, 0x0800);
    o += pb_ip4(f + o, 5, 40, 0, 6, reply ? 0xc0000201 : 0x0a000001, reply ? 0x0a000001 : 0xc0000201);
    o += pb_tcp(f + o, reply ? 80 : 1234, reply ? 1234 : 80, seq, 0, flags, 20);
    return o;
}

/* A scratch directory and its client.pcap and server.pcap, open for writing. */
static int open_pair(char *dir, char cp[300], char sp[300], struct bt_pcap_writer **c,
                     struct bt_pcap_writer **s)
{
    struct bt_err e;

    if (!bt_mkdtemp(dir))
        return 0;
    snprintf(cp, 300, "%s/client.pcap", dir);
    snprintf(sp, 300, "%s/server.pcap", dir);
    *c = bt_pcap_writer_open(cp, 1, 0, &e);
    *s = bt_pcap_writer_open(sp, 1, 0, &e);
    return *c && *s;
}

TEST(loss_latency_and_injected_rst)
{
    char dir[] = "/tmp/bt-vfl-XXXXXX", cp[300], sp[300];
    struct bt_err e;
    uint8_t f[80];
    struct bt_pcap_writer *c, *s;
    REQUIRE(open_pair(dir, cp, sp, &c, &s));
    unsigned n = seg(f, 0, BT_TCP_SYN, 1);
    bt_pcap_write(c, 1000, f, n, n);          /* SYN enters */
    bt_pcap_write(s, 1500, f, n, n);          /* and leaves 0.5 us later */
    n = seg(f, 1, BT_TCP_SYN | BT_TCP_ACK, 7);
    bt_pcap_write(s, 2000, f, n, n);          /* SYN-ACK enters on the server side */
    bt_pcap_write(c, 2000, f, n, n);          /* leaves at the same time stamp */
    for (uint32_t i = 0; i < 10; i++) {
        n = seg(f, 0, BT_TCP_ACK | BT_TCP_PSH, 100 + i);
        bt_pcap_write(c, 3000 + i * 10, f, n, n);
        if (i != 4)                           /* one lost */
            bt_pcap_write(s, 3002 + i * 10, f, n, n);
    }
    n = seg(f, 1, BT_TCP_RST, 9);
    bt_pcap_write(c, 5000, f, n, n);          /* an RST the cluster made */
    bt_pcap_writer_close(c);
    bt_pcap_writer_close(s);
    void *out;
    REQUIRE(vf_loss(cp, sp, NULL, &out, &e) == 0);
    json_t *r = out, *c2s = json_object_get(r, "c2s"), *s2c = json_object_get(r, "s2c");
    CHECK_EQ_INT(json_integer_value(json_object_get(c2s, "in")), 11);
    CHECK_EQ_INT(json_integer_value(json_object_get(c2s, "lost")), 1);
    CHECK_EQ_INT(json_integer_value(json_object_get(s2c, "in")), 1);
    CHECK_EQ_INT(json_integer_value(json_object_get(s2c, "lost")), 0);
    CHECK_EQ_INT(json_integer_value(json_object_get(r, "injected_rsts")), 1);
    CHECK_NEAR(json_real_value(json_object_get(json_object_get(r, "latency_us"), "max")), 0.5, 1e-9);
    json_decref(r);
    CHECK(vf_loss(cp, "/nonexistent.pcap", NULL, &out, &e) < 0);
    CHECK(strstr(e.msg, "/nonexistent.pcap") != NULL);
}

/* vf_loss_delivered: when each direction of a flow last left on the far
 * link and, per failover event, the earliest entry of a packet that left
 * after it (the failover check's "did it cross after T"), a lost packet not
 * counting, and nothing for a flow the links never saw. */
TEST(delivered_keeps_each_directions_last_exit)
{
    char dir[] = "/tmp/bt-vfl-XXXXXX", cp[300], sp[300];
    struct bt_err e;
    uint8_t f[80];
    struct bt_pcap_writer *c, *s;
    REQUIRE(open_pair(dir, cp, sp, &c, &s));
    unsigned n = seg(f, 0, BT_TCP_SYN, 1);
    bt_pcap_write(c, 1000, f, n, n);
    bt_pcap_write(s, 1100, f, n, n);          /* c2s left at 1100 */
    n = seg(f, 1, BT_TCP_SYN | BT_TCP_ACK, 7);
    bt_pcap_write(s, 2000, f, n, n);
    bt_pcap_write(c, 2100, f, n, n);          /* s2c left at 2100 */
    n = seg(f, 0, BT_TCP_ACK, 2);
    bt_pcap_write(c, 3000, f, n, n);          /* entered, never left */
    n = seg(f, 1, BT_TCP_ACK, 8);
    bt_pcap_write(s, 4000, f, n, n);
    bt_pcap_write(c, 4100, f, n, n);          /* s2c left again at 4100 */
    bt_pcap_writer_close(c);
    bt_pcap_writer_close(s);
    void *out;
    struct vf_delivered *d = NULL;
    /* failover events at 1500, 3500 and 5000 */
    const uint64_t evt[3] = {1500, 3500, 5000};
    REQUIRE(vf_loss_delivered(cp, sp, NULL, &out, &d, evt, 3, &e) == 0 && d);
    struct bt_flow_key k, ck;
    struct bt_parsed p;
    n = seg(f, 0, BT_TCP_ACK, 2);
    REQUIRE(bt_parse(f, n, BT_LINK_ETHERNET, &p) == BT_PARSE_OK && bt_flow_key_from_parsed(&p, &k) == 0);
    bt_flow_key_canon(&k, &ck);
    uint64_t t[2];
    CHECK(vf_delivered_last(d, &ck, t));
    CHECK(t[0] == 1100 && t[1] == 4100);
    /* per event, 1 + the earliest entry of a packet that left after it:
     * after 1500 the s2c packet that entered at 2000 (and no c2s one: the
     * one of 3000 was lost); after 3500 the one of 4000; after 5000 none */
    CHECK_EQ_INT(vf_delivered_after(d, &ck, 0, t), 1);
    CHECK(t[0] == 0 && t[1] == 2001);
    CHECK_EQ_INT(vf_delivered_after(d, &ck, 1, t), 1);
    CHECK(t[0] == 0 && t[1] == 4001);
    CHECK_EQ_INT(vf_delivered_after(d, &ck, 2, t), 1);
    CHECK(t[0] == 0 && t[1] == 0);
    CHECK_EQ_INT(vf_delivered_after(d, &ck, 3, t), -1);   /* not an event kept */
    ck.sport ^= 1;                            /* a flow the links never saw */
    CHECK(!vf_delivered_last(d, &ck, t) && t[0] == 0 && t[1] == 0);
    CHECK_EQ_INT(vf_delivered_after(d, &ck, 0, t), 0);
    json_decref(out);
    CHECK(vf_delivered_free(d) == NULL);
    CHECK(vf_delivered_free(NULL) == NULL);
}

/* A packet that leaves three times before it enters three times (the
 * client link's clock 1 us behind the server link's): each entry is one of
 * the exits seen late, so nothing is lost and the skew is reported (the pass
 * before stored the entry's time at ts[n] with n < 0, in front of the
 * array: under ASan a heap overflow; and it counted all three lost). */
TEST(left_before_entering)
{
    char dir[] = "/tmp/bt-vfl-XXXXXX", cp[300], sp[300];
    struct bt_err e;
    uint8_t f[80];
    struct bt_pcap_writer *c, *s;
    REQUIRE(open_pair(dir, cp, sp, &c, &s));
    unsigned n = seg(f, 0, BT_TCP_ACK, 5);
    for (int i = 0; i < 3; i++)
        bt_pcap_write(s, 1000 + i, f, n, n);  /* leaves on the server link */
    for (int i = 0; i < 3; i++)
        bt_pcap_write(c, 2000 + i, f, n, n);  /* then enters on the client link */
    bt_pcap_writer_close(c);
    bt_pcap_writer_close(s);
    void *out;
    REQUIRE(vf_loss(cp, sp, NULL, &out, &e) == 0);
    json_t *r = out, *c2s = json_object_get(r, "c2s");
    CHECK_EQ_INT(json_integer_value(json_object_get(c2s, "in")), 3);
    CHECK_EQ_INT(json_integer_value(json_object_get(c2s, "out")), 3);
    CHECK_EQ_INT(json_integer_value(json_object_get(c2s, "lost")), 0);
    CHECK_EQ_INT(json_integer_value(json_object_get(r, "unmatched_out")), 0);
    CHECK_EQ_INT(json_integer_value(json_object_get(r, "left_before_entering")), 3);
    /* each entry takes the newest exit: 2000-1002, 2001-1001, 2002-1000 ns */
    CHECK_NEAR(json_real_value(json_object_get(r, "clock_skew_max_us")), 1.002, 1e-9);
    CHECK_EQ_INT(json_array_size(json_object_get(r, "offenders")), 0);
    json_decref(r);
}

/* A TCP segment with payload pl[0..n). */
static unsigned seg_pl(uint8_t *f, const uint8_t *pl, unsigned n)
{
    unsigned o = pb_eth(f, 0, 0, 0, 0, 0x0800);
    o += pb_ip4(f + o, 5, (uint16_t)(40 + n), 0, 6, 0x0a000001, 0xc0000201);
    o += pb_tcp(f + o, 1234, 80, 77, 0, BT_TCP_ACK, 20);
    memcpy(f + o, pl, n);
    return o + n;
}

/* Packets that differ only in trailing zero bytes making a whole word, or
 * in payload bytes where the first words have their checksum masked, are
 * different packets: each one that entered is lost, each one that left is
 * unmatched. */
TEST(distinct_packets_stay_distinct)
{
    char dir[] = "/tmp/bt-vfl-XXXXXX", cp[300], sp[300];
    struct bt_err e;
    uint8_t f[200], pl[24] = "ABCDEFGHIJKLMNOPQRSTUVW";
    struct bt_pcap_writer *c, *s;
    REQUIRE(open_pair(dir, cp, sp, &c, &s));
    unsigned n = seg_pl(f, pl, 8);
    bt_pcap_write(c, 1000, f, n, n);          /* 8 bytes enter */
    uint8_t z[16] = "ABCDEFGH";
    n = seg_pl(f, z, 16);
    bt_pcap_write(s, 1500, f, n, n);          /* the same and 8 zero bytes leave */
    n = seg_pl(f, pl, 24);
    bt_pcap_write(c, 2000, f, n, n);
    pl[12] ^= 1;                              /* payload byte 12: L4 byte 32 */
    n = seg_pl(f, pl, 24);
    bt_pcap_write(s, 2500, f, n, n);
    bt_pcap_writer_close(c);
    bt_pcap_writer_close(s);
    void *out;
    REQUIRE(vf_loss(cp, sp, NULL, &out, &e) == 0);
    json_t *r = out, *c2s = json_object_get(r, "c2s");
    CHECK_EQ_INT(json_integer_value(json_object_get(c2s, "in")), 2);
    CHECK_EQ_INT(json_integer_value(json_object_get(c2s, "lost")), 2);
    CHECK_EQ_INT(json_integer_value(json_object_get(r, "unmatched_out")), 2);
    json_decref(r);
    void *ref;
    REQUIRE(ref_loss(cp, sp, NULL, &ref, &e) == 0);   /* as the old pass saw it */
    CHECK_EQ_INT(json_integer_value(json_object_get(ref, "unmatched_out")), 2);
    json_decref(ref);
}
