/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * tg_template.c: pcap conversations as templates. Pcaps are written here
 * from libnet-built conversations (so the expected packets are known) and
 * damaged or re-encoded on purpose: one template per conversation, the
 * client is the SYN's sender (or the CIDR's), checksums recomputed, VLAN
 * tags, Ethernet padding and other link types normalized, SACK options
 * located, ipg/rtt overrides, and every bad input refused with the file and
 * the packet number. The committed pcaps/templates each load as exactly one
 * template.
 */
#include "bt_test.h"

#include <dirent.h>
#include <errno.h>
#include <unistd.h>

#include "bt_csum.h"
#include "bt_err.h"
#include "bt_parse.h"
#include "bt_pcap.h"
#include "tg_priv.h"

#ifndef BT_PCAPS_DIR
#define BT_PCAPS_DIR "pcaps"
#endif

struct rec {
    uint8_t d[9300];
    uint32_t len, wire;
    uint64_t ts;
};

static struct rec R[64];
static unsigned NR;
static char DIR_[64];

/* R[] = the frames of a synthetic conversation. */
static void from_synth(const char *spec, uint16_t cport)
{
    struct tg_tmpl_cfg c;
    struct tg_tset s;
    struct bt_err e;

    memset(&c, 0, sizeof(c));
    memset(&s, 0, sizeof(s));
    snprintf(c.synth, sizeof(c.synth), "%s", spec);
    if (tg_tset_add_synth(&s, &c, 0, &e) < 0) {
        fprintf(stderr, "%s\n", e.msg);
        abort();
    }
    NR = s.t[0].n;
    for (unsigned i = 0; i < NR; i++) {
        const struct tg_tpkt *tp = &s.t[0].p[i];
        struct bt_parsed p;
        memcpy(R[i].d, s.t[0].blob + tp->off, tp->len);
        R[i].len = R[i].wire = tp->len;
        R[i].ts = 1000000000ull + tp->rel_ns;
        bt_parse(R[i].d, R[i].len, BT_LINK_ETHERNET, &p);
        /* a client port of our own choosing */
        R[i].d[p.l4_off + (tp->side ? 2 : 0)] = (uint8_t)(cport >> 8);
        R[i].d[p.l4_off + (tp->side ? 3 : 1)] = (uint8_t)cport;
        bt_csum_fix(R[i].d, R[i].len, &p);
    }
    tg_tset_clear(&s);
}

static const char *path_of(const char *name)
{
    static char p[160];
    snprintf(p, sizeof(p), "%s/%s", DIR_, name);
    return p;
}

static void write_recs(const char *name, int link, const struct rec *r, unsigned n)
{
    struct bt_err e;
    struct bt_pcap_writer *w = bt_pcap_writer_open(path_of(name), link, 65535, &e);
    if (!w) {
        fprintf(stderr, "%s\n", e.msg);
        abort();
    }
    for (unsigned i = 0; i < n; i++)
        bt_pcap_write(w, r[i].ts, r[i].d, r[i].len, r[i].wire);
    bt_pcap_writer_close(w);
}

static int load(const char *name, int flow, const char *cidr, struct tg_tset *s, struct bt_err *e)
{
    struct tg_tmpl_cfg c;

    memset(&c, 0, sizeof(c));
    memset(s, 0, sizeof(*s));
    memset(e, 0, sizeof(*e));
    snprintf(c.pcap, sizeof(c.pcap), "%s", path_of(name));
    c.flow = flow;
    if (cidr) {
        bt_cidr_parse(cidr, &c.client_cidrs[0]);
        c.nclient_cidrs = 1;
    }
    return tg_tset_add_pcap(s, &c, 0, e);
}

static unsigned bad_csums(const struct tg_tmpl *t)
{
    unsigned bad = 0;
    for (uint32_t i = 0; i < t->n; i++) {
        struct bt_parsed p;
        const uint8_t *f = t->blob + t->p[i].off;
        if (bt_parse(f, t->p[i].len, BT_LINK_ETHERNET, &p) != BT_PARSE_OK ||
            bt_csum_check(f, t->p[i].len, &p) != 0)
            bad++;
    }
    return bad;
}

static void cleanup(void)
{
    DIR *d = opendir(DIR_);
    struct dirent *de;
    while (d && (de = readdir(d)))
        if (de->d_name[0] != '.')
            unlink(path_of(de->d_name));
    if (d)
        closedir(d);
    rmdir(DIR_);
}

static void setup(void)
{
    if (!DIR_[0]) {
        snprintf(DIR_, sizeof(DIR_), "/tmp/bt-tgtmpl-XXXXXX");
        if (!bt_mkdtemp(DIR_))
            abort();
        atexit(cleanup);
    }
}

TEST(one_conversation)
{
    struct tg_tset s;
    struct bt_err e;

    setup();
    from_synth("tcp,req=200,resp=1400x3,rtt=2ms", 40001);
    write_recs("one.pcap", 1, R, NR);
    REQUIRE(load("one.pcap", -1, NULL, &s, &e) == 0);
    REQUIRE(s.n == 1);
    const struct tg_tmpl *t = &s.t[0];
    CHECK_EQ_INT(t->n, NR);
    CHECK_EQ_INT(t->proto, 6);
    CHECK_EQ_INT(t->family, 4);
    CHECK_EQ_INT(t->cport, 40001);
    CHECK_EQ_INT(t->sport, 80);
    char name[200];
    snprintf(name, sizeof(name), "%s#0", path_of("one.pcap"));
    CHECK_EQ_STR(t->name, name);
    for (uint32_t i = 0; i < t->n; i++) {
        struct bt_parsed p;
        bt_parse(R[i].d, R[i].len, BT_LINK_ETHERNET, &p);
        CHECK_EQ_INT(t->p[i].rel_ns, R[i].ts - R[0].ts);
        CHECK_EQ_INT(t->p[i].side, p.sport == 80);
        CHECK_EQ_INT(t->p[i].seq, p.seq);
        CHECK_EQ_INT(t->p[i].tcp_flags, p.tcp_flags);
        CHECK_EQ_INT(t->p[i].len, R[i].len);
        CHECK_EQ_INT(t->p[i].l4, 34);
        /* the IP datagram is kept byte for byte */
        CHECK(!memcmp(t->blob + t->p[i].off + 14, R[i].d + 14, R[i].len - 14));
    }
    CHECK_EQ_INT(bad_csums(t), 0);
    tg_tset_clear(&s);
}

TEST(checksums_recomputed)
{
    struct tg_tset s;
    struct bt_err e;
    struct bt_parsed p;

    setup();
    from_synth("tcp,req=200,resp=1400x3", 40002);
    /* damage the IP checksum of packet 1, the TCP checksum of packet 4 */
    R[0].d[14 + 10] ^= 0xff;
    R[3].d[34 + 16] ^= 0x55;
    bt_parse(R[0].d, R[0].len, BT_LINK_ETHERNET, &p);
    CHECK(bt_csum_check(R[0].d, R[0].len, &p) == -EBADMSG);   /* the check sees it */
    bt_parse(R[3].d, R[3].len, BT_LINK_ETHERNET, &p);
    CHECK(bt_csum_check(R[3].d, R[3].len, &p) == -EBADMSG);
    write_recs("csum.pcap", 1, R, NR);
    REQUIRE(load("csum.pcap", -1, NULL, &s, &e) == 0);
    CHECK_EQ_INT(bad_csums(&s.t[0]), 0);
    tg_tset_clear(&s);
}

TEST(vlan_padding_and_link_types)
{
    static struct rec v[64];
    struct tg_tset s;
    struct bt_err e;

    setup();
    from_synth("tcp,req=10,resp=10x2", 40003);
    /* 802.1Q tags, and Ethernet padding to 60 bytes */
    for (unsigned i = 0; i < NR; i++) {
        memcpy(v[i].d, R[i].d, 12);
        v[i].d[12] = 0x81;
        v[i].d[13] = 0x00;
        v[i].d[14] = 0x00;
        v[i].d[15] = 0x07;
        memcpy(v[i].d + 16, R[i].d + 12, R[i].len - 12);
        v[i].len = v[i].wire = R[i].len + 4 < 64 ? 64 : R[i].len + 4;
        memset(v[i].d + R[i].len + 4, 0, v[i].len - (R[i].len + 4));
        v[i].ts = R[i].ts;
    }
    write_recs("vlan.pcap", 1, v, NR);
    REQUIRE(load("vlan.pcap", -1, NULL, &s, &e) == 0);
    REQUIRE(s.n == 1 && s.t[0].n == NR);
    for (uint32_t i = 0; i < NR; i++) {
        CHECK_EQ_INT(s.t[0].p[i].len, R[i].len);   /* untagged, no padding */
        CHECK(!memcmp(s.t[0].blob + s.t[0].p[i].off + 12, R[i].d + 12, R[i].len - 12));
    }
    CHECK_EQ_INT(bad_csums(&s.t[0]), 0);
    tg_tset_clear(&s);
    /* Linux SLL (113) and raw IP (101) */
    for (unsigned i = 0; i < NR; i++) {
        static const uint8_t sll[16] = {0, 4, 0, 1, 0, 6, 2, 0, 0, 0, 0, 1, 0, 0, 0x08, 0x00};
        memcpy(v[i].d, sll, 16);
        memcpy(v[i].d + 16, R[i].d + 14, R[i].len - 14);
        v[i].len = v[i].wire = R[i].len + 2;
    }
    write_recs("sll.pcap", 113, v, NR);
    REQUIRE(load("sll.pcap", -1, NULL, &s, &e) == 0);
    REQUIRE(s.n == 1 && s.t[0].n == NR);
    CHECK_EQ_INT(s.t[0].p[2].len, R[2].len);
    CHECK(!memcmp(s.t[0].blob + s.t[0].p[2].off + 14, R[2].d + 14, R[2].len - 14));
    tg_tset_clear(&s);
    for (unsigned i = 0; i < NR; i++) {
        memcpy(v[i].d, R[i].d + 14, R[i].len - 14);
        v[i].len = v[i].wire = R[i].len - 14;
    }
    write_recs("raw.pcap", 101, v, NR);
    REQUIRE(load("raw.pcap", -1, NULL, &s, &e) == 0);
    REQUIRE(s.n == 1 && s.t[0].n == NR);
    CHECK_EQ_INT(s.t[0].p[NR - 1].len, R[NR - 1].len);
    CHECK_EQ_INT(bad_csums(&s.t[0]), 0);
    tg_tset_clear(&s);
}

TEST(several_conversations_and_other_packets)
{
    static struct rec a[64], all[160];
    unsigned na, n = 0;
    struct tg_tset s;
    struct bt_err e;

    setup();
    from_synth("tcp,req=100,resp=500x2", 40010);
    memcpy(a, R, sizeof(a));
    na = NR;
    from_synth("udp,req=50,resp=60x3", 40011);
    /* interleaved, with an ARP request first and one in the middle */
    static const uint8_t arp[42] = {0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 2, 0, 0, 0, 0, 1, 0x08, 0x06,
                                    0, 1, 0x08, 0, 6, 4, 0, 1};
    memcpy(all[n].d, arp, 42);
    all[n].len = all[n].wire = 42;
    all[n++].ts = 1;
    for (unsigned i = 0; i < na || i < NR; i++) {
        if (i < na)
            all[n++] = a[i];
        if (i < NR)
            all[n++] = R[i];
        if (i == 2) {
            memcpy(all[n].d, arp, 42);
            all[n].len = all[n].wire = 42;
            all[n].ts = a[i].ts;
            n++;
        }
    }
    write_recs("two.pcap", 1, all, n);
    REQUIRE(load("two.pcap", -1, NULL, &s, &e) == 0);
    REQUIRE(s.n == 2);
    CHECK_EQ_INT(s.skipped, 2);
    CHECK_EQ_INT(s.t[0].proto, 6);
    CHECK_EQ_INT(s.t[0].n, na);
    CHECK_EQ_INT(s.t[1].proto, 17);
    CHECK_EQ_INT(s.t[1].n, NR);
    CHECK_EQ_INT(s.t[1].cport, 40011);
    CHECK(s.t[0].blob == s.t[1].blob);   /* one blob per pcap */
    CHECK_EQ_INT(s.nblobs, 1);
    tg_tset_clear(&s);
    /* flow: k picks one */
    REQUIRE(load("two.pcap", 1, NULL, &s, &e) == 0);
    REQUIRE(s.n == 1);
    CHECK_EQ_INT(s.t[0].proto, 17);
    tg_tset_clear(&s);
    CHECK(load("two.pcap", 2, NULL, &s, &e) == -EINVAL);
    CHECK(strstr(e.msg, "flow 2 asked, the capture holds 2 conversations (0..1)") != NULL);
    tg_tset_clear(&s);
}

TEST(client_side)
{
    struct tg_tset s;
    struct bt_err e;

    setup();
    /* the capture starts with the SYN-ACK: its destination is the client */
    from_synth("tcp,req=100,resp=500", 40020);
    write_recs("late.pcap", 1, R + 1, NR - 1);
    REQUIRE(load("late.pcap", -1, NULL, &s, &e) == 0);
    CHECK_EQ_INT(s.t[0].p[0].side, 1);
    CHECK_EQ_INT(s.t[0].cport, 40020);
    CHECK_EQ_INT(s.t[0].sport, 80);
    tg_tset_clear(&s);
    /* UDP whose first packet is the server's: the first source is taken... */
    from_synth("udp,req=50,resp=60x3", 40021);
    write_recs("udp.pcap", 1, R + 1, NR - 1);
    REQUIRE(load("udp.pcap", -1, NULL, &s, &e) == 0);
    CHECK_EQ_INT(s.t[0].p[0].side, 0);
    CHECK_EQ_INT(s.t[0].sport, 40021);
    tg_tset_clear(&s);
    /* ...unless a client CIDR says otherwise (the synth client is 10.0.0.1) */
    REQUIRE(load("udp.pcap", -1, "10.0.0.0/24", &s, &e) == 0);
    CHECK_EQ_INT(s.t[0].p[0].side, 1);
    CHECK_EQ_INT(s.t[0].sport, 9);
    CHECK_EQ_INT(s.t[0].cport, 40021);
    CHECK_EQ_INT(s.t[0].nclient, 0);
    tg_tset_clear(&s);
}

/* An ACK with a SACK option (NOP NOP SACK 10: one block). */
TEST(sack_located)
{
    struct tg_tset s;
    struct bt_err e;
    struct bt_parsed p;

    setup();
    from_synth("tcp,req=100,resp=500x2", 40030);
    unsigned k = 2;   /* the handshake's last ACK */
    struct rec *r = &R[k];
    uint8_t opt[12] = {1, 1, 5, 10, 0, 0, 0x10, 0, 0, 0, 0x20, 0};
    memmove(r->d + 54 + 12, r->d + 54, r->len - 54);
    memcpy(r->d + 54, opt, 12);
    r->len += 12;
    r->wire = r->len;
    r->d[46] = (uint8_t)((32 / 4) << 4);           /* data offset 8 words */
    r->d[16] = 0;
    r->d[17] = (uint8_t)(r->len - 14);             /* IP total length */
    bt_parse(r->d, r->len, BT_LINK_ETHERNET, &p);
    REQUIRE(p.status == BT_PARSE_OK && p.tcp_hlen == 32);
    bt_csum_fix(r->d, r->len, &p);
    write_recs("sack.pcap", 1, R, NR);
    REQUIRE(load("sack.pcap", -1, NULL, &s, &e) == 0);
    CHECK_EQ_INT(s.t[0].p[k].sack_off, 34 + 22);
    CHECK_EQ_INT(s.t[0].p[k].sack_len, 10);
    CHECK_EQ_INT(s.t[0].p[k - 1].sack_off, 0);
    CHECK_EQ_INT(bad_csums(&s.t[0]), 0);
    tg_tset_clear(&s);
}

TEST(retime)
{
    struct tg_tset s;
    struct bt_err e;

    setup();
    from_synth("tcp,req=3000,resp=500x2,rtt=8ms", 40040);
    write_recs("rt.pcap", 1, R, NR);
    REQUIRE(load("rt.pcap", -1, NULL, &s, &e) == 0);
    struct tg_tmpl *t = &s.t[0];
    tg_tmpl_retime(t, 0, 0);   /* no override: unchanged */
    for (uint32_t i = 0; i < t->n; i++)
        CHECK_EQ_INT(t->p[i].rel_ns, R[i].ts - R[0].ts);
    tg_tmpl_retime(t, 100000, 2000000);
    for (uint32_t i = 1; i < t->n; i++) {
        uint64_t gap = t->p[i].rel_ns - t->p[i - 1].rel_ns;
        uint64_t want = t->p[i].side != t->p[i - 1].side ? 1000000 : 100000;
        if (gap != want)
            BT_FAIL_AT("packet %u: gap %" PRIu64 ", want %" PRIu64, i + 1, gap, want);
    }
    tg_tset_clear(&s);
}

TEST(bad_input_named)
{
    static struct rec v[4];
    struct tg_tset s;
    struct bt_err e;
    FILE *f;

    setup();
    /* unreadable */
    CHECK(load("absent.pcap", -1, NULL, &s, &e) < 0);
    CHECK(strstr(e.msg, "absent.pcap") != NULL);
    /* not a pcap */
    REQUIRE((f = fopen(path_of("text.pcap"), "w")));
    fputs("hello, this is not a capture\n", f);
    fclose(f);
    CHECK(load("text.pcap", -1, NULL, &s, &e) < 0);
    CHECK(strstr(e.msg, "text.pcap") != NULL);
    /* no IP flows: ARP only */
    static const uint8_t arp[42] = {0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 2, 0, 0, 0, 0, 1, 0x08, 0x06};
    memcpy(v[0].d, arp, 42);
    v[0].len = v[0].wire = 42;
    v[1] = v[0];
    write_recs("arp.pcap", 1, v, 2);
    CHECK(load("arp.pcap", -1, NULL, &s, &e) == -EINVAL);
    CHECK(strstr(e.msg, "arp.pcap: no TCP or UDP flows in it (2 packets of other kinds)") != NULL);
    /* an empty capture */
    write_recs("empty.pcap", 1, v, 0);
    CHECK(load("empty.pcap", -1, NULL, &s, &e) == -EINVAL);
    CHECK(strstr(e.msg, "no TCP or UDP flows") != NULL);
    /* unsupported link type (802.11) */
    from_synth("tcp", 40050);
    write_recs("wifi.pcap", 105, R, 2);
    CHECK(load("wifi.pcap", -1, NULL, &s, &e) == -EINVAL);
    CHECK(strstr(e.msg, "wifi.pcap: unsupported link type 105") != NULL);
    /* cut by the snaplen: packet 4 */
    R[3].len = 40;
    write_recs("cut.pcap", 1, R, NR);
    CHECK(load("cut.pcap", -1, NULL, &s, &e) == -EINVAL);
    CHECK(strstr(e.msg, "cut.pcap: packet 4: ") && strstr(e.msg, "snaplen 0"));
    /* an IP total length past the whole (not cut) frame: packet 3, 100 bytes too long */
    from_synth("tcp", 40052);
    {
        unsigned il = ((unsigned)R[2].d[14 + 2] << 8 | R[2].d[14 + 3]) + 100;
        char want[160];
        R[2].d[14 + 2] = (uint8_t)(il >> 8);
        R[2].d[14 + 3] = (uint8_t)il;
        write_recs("iplen.pcap", 1, R, NR);
        CHECK(load("iplen.pcap", -1, NULL, &s, &e) == -EINVAL);
        snprintf(want, sizeof(want), "iplen.pcap: packet 3: IP total length %u exceeds the frame's %u bytes",
                 il, R[2].len);
        if (!strstr(e.msg, want))
            BT_FAIL_AT("message \"%s\" lacks \"%s\"", e.msg, want);
        CHECK(strstr(e.msg, "snaplen") == NULL);
    }
    /* a fragment: packet 2 with MF set */
    from_synth("tcp", 40051);
    R[1].d[14 + 6] |= 0x20;
    write_recs("frag.pcap", 1, R, NR);
    CHECK(load("frag.pcap", -1, NULL, &s, &e) == -EINVAL);
    CHECK(strstr(e.msg, "frag.pcap: packet 2: an IP fragment") != NULL);
    /* a malformed IP header: packet 3 with IHL 3 */
    from_synth("tcp", 40052);
    R[2].d[14] = 0x43;
    write_recs("ihl.pcap", 1, R, NR);
    CHECK(load("ihl.pcap", -1, NULL, &s, &e) == -EINVAL);
    CHECK(strstr(e.msg, "ihl.pcap: packet 3: malformed") != NULL);
    /* a datagram over 9216 bytes (TSO capture) */
    from_synth("udp,req=100", 40053);
    memset(R[0].d + 42, 'x', 9300 - 42);
    R[0].len = R[0].wire = 9300;
    R[0].d[16] = (uint8_t)((9300 - 14) >> 8);
    R[0].d[17] = (uint8_t)(9300 - 14);
    R[0].d[38] = (uint8_t)((9300 - 34) >> 8);
    R[0].d[39] = (uint8_t)(9300 - 34);
    write_recs("big.pcap", 1, R, NR);
    CHECK(load("big.pcap", -1, NULL, &s, &e) == -EINVAL);
    CHECK(strstr(e.msg, "big.pcap: packet 1: 9286-byte IP datagram") != NULL);
}

/* IPv6 with a routing header: the checksums recomputed at load take the
 * final destination into the pseudo-header (RFC 8200 8.1), as tshark
 * checks them: the last address of type 0 and 2, the last (CmprE bytes
 * from the IPv6 destination) of type 3, segment list [0] of type 4, when
 * segments are left; the IPv6 destination otherwise (none left, an unknown
 * type, no routing header). Frames built here with a zero checksum, each
 * its own conversation; each case names the address the sum must use,
 * and tshark (when installed) judges the template's frames too. */
static const uint8_t A_S[16] = {0x20, 1, 0xd, 0xb8, [15] = 1};     /* 2001:db8::1 */
static const uint8_t A_M[16] = {0x20, 1, 0xd, 0xb8, [15] = 0x50};  /* 2001:db8::50 */
static const uint8_t A_F[16] = {0x20, 1, 0xd, 0xb8, [13] = 1, [15] = 0x99};  /* 2001:db8::1:99 */
static const uint8_t A_X[16] = {0x20, 1, 0xd, 0xb8, [15] = 7};     /* 2001:db8::7 */

/* A routing header of type type: nh, its length, segments left, the
 * addresses as given (8 bytes of header, type 4's last entry set). */
static unsigned rh(uint8_t *h, uint8_t nh, uint8_t type, uint8_t left,
                   const uint8_t *const *a, unsigned n)
{
    memset(h, 0, 8);
    h[0] = nh;
    h[1] = (uint8_t)(2 * n);
    h[2] = type;
    h[3] = left;
    if (type == 4)
        h[4] = (uint8_t)(n - 1);
    for (unsigned i = 0; i < n; i++)
        memcpy(h + 8 + 16 * i, a[i], 16);
    return 8 + 16 * n;
}

/* Type 3 (RPL): X with CmprI 8, then F with CmprE 8 (16 bytes, no pad). */
static unsigned rh_rpl(uint8_t *h, uint8_t nh, uint8_t left)
{
    memset(h, 0, 24);
    h[0] = nh;
    h[1] = 2;
    h[2] = 3;
    h[3] = left;
    h[4] = 8 << 4 | 8; /* CmprI 8, CmprE 8, pad 0 */
    memcpy(h + 8, A_X + 8, 8);
    memcpy(h + 16, A_F + 8, 8);
    return 24;
}

static uint32_t v6_frame(uint8_t *f, const uint8_t *dst, uint8_t nh0, const uint8_t *ext,
                         unsigned elen, uint8_t proto, uint16_t sport)
{
    static const uint8_t eth[14] = {2, 0, 0, 0, 0, 2, 2, 0, 0, 0, 0, 1, 0x86, 0xdd};
    unsigned l4len = proto == 6 ? 20 + 4 : 8 + 5, plen = elen + l4len;
    uint8_t *ip = f + 14, *l4 = ip + 40 + elen;

    memcpy(f, eth, 14);
    memset(ip, 0, 40);
    ip[0] = 0x60;
    ip[4] = (uint8_t)(plen >> 8);
    ip[5] = (uint8_t)plen;
    ip[6] = nh0;
    ip[7] = 64;
    memcpy(ip + 8, A_S, 16);
    memcpy(ip + 24, dst, 16);
    memcpy(ip + 40, ext, elen);
    memset(l4, 0, l4len);
    l4[0] = (uint8_t)(sport >> 8);
    l4[1] = (uint8_t)sport;
    l4[3] = proto == 6 ? 80 : 9;
    if (proto == 6) {
        l4[7] = 1;        /* seq 1 */
        l4[12] = 5 << 4;
        l4[13] = 0x02;    /* SYN */
        l4[15] = 0xff;
        memcpy(l4 + 20, "data", 4);
    } else {
        l4[5] = 8 + 5;
        memcpy(l4 + 8, "hello", 5);
    }
    return 14 + 40 + plen;
}

/* The L4 checksum of frame f computed with dst as the pseudo-header's
 * destination: 0 when the stored one is right for that address. */
static uint16_t sum_with(const uint8_t *f, uint32_t len, const struct bt_parsed *p,
                         const uint8_t *dst)
{
    uint32_t l4len = len - p->l4_off;
    uint8_t t6[8] = {0, 0, (uint8_t)(l4len >> 8), (uint8_t)l4len, 0, 0, 0, p->proto};
    uint32_t s = bt_csum_partial(A_S, 16, 0);
    s = bt_csum_partial(dst, 16, s);
    s = bt_csum_partial(t6, 8, s);
    return bt_csum_fold(bt_csum_partial(f + p->l4_off, l4len, s));
}

TEST(v6_routing_header_pseudo_header)
{
    static const uint8_t *const only_f[] = {A_F}, *const x_f[] = {A_X, A_F},
                                *const f_m[] = {A_F, A_M};
    struct { const char *what; const uint8_t *final; } want[16];
    static struct rec v[16];
    uint8_t ext[128];
    unsigned n = 0, el;
    struct tg_tset s;
    struct bt_err e;

    setup();
#define CASE(what_, final_, proto_, nh0_)                                            \
    do {                                                                            \
        want[n].what = what_;                                                       \
        want[n].final = final_;                                                     \
        v[n].len = v[n].wire = v6_frame(v[n].d, A_M, nh0_, ext, el, proto_,         \
                                        (uint16_t)(41000 + n));                     \
        v[n].ts = 1000000000ull + n * 1000;                                         \
        n++;                                                                        \
    } while (0)
    el = rh(ext, 17, 0, 1, only_f, 1);
    CASE("UDP, type 0, 1 left: its last address", A_F, 17, 43);
    el = rh(ext, 6, 0, 2, x_f, 2);
    CASE("TCP, type 0, 2 left: its last address", A_F, 6, 43);
    el = rh(ext, 17, 0, 0, only_f, 1);
    CASE("UDP, type 0, none left: the IPv6 destination", A_M, 17, 43);
    el = rh(ext, 17, 2, 1, only_f, 1);
    CASE("UDP, type 2, 1 left: the home address", A_F, 17, 43);
    el = rh(ext, 6, 4, 1, f_m, 2);
    CASE("TCP, type 4 (SRH), 1 left: segment list [0]", A_F, 6, 43);
    el = rh_rpl(ext, 17, 2);
    CASE("UDP, type 3 (RPL), 2 left: the last, CmprE bytes from the destination", A_F, 17, 43);
    el = rh(ext, 17, 5, 1, only_f, 1);
    CASE("UDP, type 5 (unknown), 1 left: the IPv6 destination", A_M, 17, 43);
    memset(ext, 0, 8);
    ext[0] = 43;                  /* hop-by-hop (PadN), then type 0 */
    ext[2] = 1;
    ext[3] = 4;
    el = 8 + rh(ext + 8, 6, 0, 1, only_f, 1);
    CASE("TCP, hop-by-hop then type 0, 1 left: its last address", A_F, 6, 0);
    memset(ext, 0, 8);
    ext[0] = 17;                  /* destination options only */
    ext[2] = 1;
    ext[3] = 4;
    el = 8;
    CASE("UDP, destination options, no routing header: the IPv6 destination", A_M, 17, 60);
#undef CASE
    write_recs("rh.pcap", 1, v, n);
    REQUIRE(load("rh.pcap", -1, NULL, &s, &e) == 0);
    REQUIRE(s.n == n);
    struct bt_pcap_writer *w = bt_pcap_writer_open(path_of("rh-out.pcap"), 1, 65535, &e);
    REQUIRE(w);
    for (unsigned i = 0; i < n; i++) {
        const struct tg_tmpl *t = &s.t[i];
        const uint8_t *f = t->blob + t->p[0].off;
        struct bt_parsed p;
        REQUIRE(t->n == 1);
        REQUIRE(bt_parse(f, t->p[0].len, BT_LINK_ETHERNET, &p) == BT_PARSE_OK);
        unsigned k = p.sport - 41000;
        REQUIRE(k < n);
        if (sum_with(f, t->p[0].len, &p, want[k].final) != 0)
            BT_FAIL_AT("%s: the checksum is not over that address", want[k].what);
        if (bt_csum_check(f, t->p[0].len, &p) != 0)
            BT_FAIL_AT("%s: bt_csum_check calls it bad", want[k].what);
        bt_pcap_write(w, 1000000000ull + i, f, t->p[0].len, t->p[0].len);
    }
    bt_pcap_writer_close(w);
    tg_tset_clear(&s);
    /* the oracle: tshark's own pseudo-header */
    char cmd[256], line[128];
    unsigned lines = 0, good = 0;
    snprintf(cmd, sizeof(cmd), "tshark -n -r %s -o udp.check_checksum:TRUE -o "
             "tcp.check_checksum:TRUE -T fields -e udp.checksum.status -e tcp.checksum.status "
             "2>/dev/null", path_of("rh-out.pcap"));
    FILE *ts = access("/usr/bin/tshark", X_OK) == 0 ? popen(cmd, "r") : NULL;
    if (!ts)
        SKIP("no tshark: the checksums were judged against the expected addresses only");
    while (fgets(line, sizeof(line), ts)) {
        lines++;
        good += !strcmp(line, "1\t\n") || !strcmp(line, "\t1\n");
        if (strcmp(line, "1\t\n") && strcmp(line, "\t1\n"))
            BT_FAIL_AT("tshark: frame %u: checksum status '%.*s' (1: good)", lines,
                       (int)strcspn(line, "\n"), line);
    }
    CHECK(pclose(ts) == 0);
    CHECK_EQ_INT(lines, n);
    CHECK_EQ_INT(good, n);
}

/* Each committed template is one conversation holding every packet of its
 * file, the client first for TCP (its SYN), both sides present, checksums
 * good. */
TEST(committed_templates)
{
    DIR *d = opendir(BT_PCAPS_DIR "/templates");
    struct dirent *de;
    unsigned files = 0;

    if (!d)
        SKIP("%s/templates absent", BT_PCAPS_DIR);
    while ((de = readdir(d))) {
        size_t l = strlen(de->d_name);
        if (l < 6 || strcmp(de->d_name + l - 5, ".pcap"))
            continue;
        char path[512];
        struct tg_tmpl_cfg c;
        struct tg_tset s;
        struct bt_err e;
        struct bt_pcap_rec rec;
        snprintf(path, sizeof(path), "%s/templates/%s", BT_PCAPS_DIR, de->d_name);
        struct bt_pcap_reader *rd = bt_pcap_open(path, &e);
        REQUIRE(rd);
        uint32_t recs = 0;
        while (bt_pcap_next(rd, &rec, &e) == 1)
            recs++;
        bt_pcap_close(rd);
        memset(&c, 0, sizeof(c));
        memset(&s, 0, sizeof(s));
        snprintf(c.pcap, sizeof(c.pcap), "%s", path);
        c.flow = -1;
        if (tg_tset_add_pcap(&s, &c, 0, &e) < 0) {
            BT_FAIL_AT("%s: %s", de->d_name, e.msg);
            continue;
        }
        files++;
        if (s.n != 1 || s.t[0].n != recs)
            BT_FAIL_AT("%s: %u templates, %u of %u packets", de->d_name, s.n, s.t[0].n, recs);
        const struct tg_tmpl *t = &s.t[0];
        if (t->proto == 6 && (t->p[0].side != 0 || t->p[0].tcp_flags != BT_TCP_SYN))
            BT_FAIL_AT("%s: the first packet is no client SYN", de->d_name);
        if (t->nclient == 0 || t->nclient == t->n)
            BT_FAIL_AT("%s: one-sided", de->d_name);
        if (bad_csums(t))
            BT_FAIL_AT("%s: bad checksums", de->d_name);
        if (strstr(de->d_name, "6.pcap") && t->family != 6)
            BT_FAIL_AT("%s: not IPv6", de->d_name);
        tg_tset_clear(&s);
    }
    closedir(d);
    CHECK(files >= 6);
}
