/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * vf_pkt: the fast decoder must give what bt_parse + bt_flow_key_canon give,
 * frame for frame: over hand-made frames of every shape the fast path takes
 * or refuses, each cut at every length and mutated byte by byte, and over
 * every packet of the tcpdump corpus.
 */
#include <dirent.h>
#include <stdint.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "bt_test.h"
#include "bt_err.h"
#include "bt_flow.h"
#include "bt_parse.h"
#include "bt_pcap.h"
#include "vf_ftab.h"
#include "vf_pkt.h"

/* The reference, spelled out from the library: bt_parse, the directional
 * key, its canonical form. */
static void reference(const uint8_t *d, uint32_t caplen, int link, struct vf_pkt *out)
{
    struct bt_parsed p;
    struct bt_flow_key k;

    memset(out, 0, sizeof(*out));
    bt_parse(d, caplen, link, &p);
    if (p.status == BT_PARSE_NOT_IP) {
        out->kind = VF_PKT_NON_IP;
        return;
    }
    if (p.ip_version == 0 || p.status == BT_PARSE_UNSUPPORTED_LINK) {
        out->kind = VF_PKT_UNPARSED;
        return;
    }
    bt_flow_key_from_parsed(&p, &k);
    out->kind = VF_PKT_IP;
    out->proto = p.proto;
    out->tcp_flags = p.tcp_flags;
    out->flags = (uint8_t)((p.flags & BT_PF_PORTS) ? VF_PKT_PORTS : 0);
    if (bt_flow_key_canon(&k, &out->ck))
        out->flags |= VF_PKT_SWAPPED;
    out->hash = vf_ftab_hash(&out->ck);
}

/* 1 when both decoders agree with the reference on this frame. */
static int agree(const uint8_t *d, uint32_t caplen, int link)
{
    struct vf_pkt ref, fast, slow;

    reference(d, caplen, link, &ref);
    memset(&fast, 0xa5, sizeof(fast));
    memset(&slow, 0x5a, sizeof(slow));
    vf_pkt_decode(d, caplen, link, &fast);
    vf_pkt_decode_slow(d, caplen, link, &slow);
    for (int i = 0; i < 2; i++) {
        const struct vf_pkt *x = i ? &slow : &fast;
        if (x->kind != ref.kind)
            return 0;
        if (ref.kind != VF_PKT_IP)
            continue;
        if (memcmp(&x->ck, &ref.ck, sizeof(ref.ck)) != 0 || x->flags != ref.flags ||
            x->proto != ref.proto || x->tcp_flags != ref.tcp_flags || x->hash != ref.hash)
            return 0;
    }
    return 1;
}

static void put16(uint8_t *p, uint16_t v)
{
    p[0] = (uint8_t)(v >> 8);
    p[1] = (uint8_t)v;
}

/* An Ethernet frame: vlan tags (0-2), IPv4 or IPv6, L4 protocol proto
 * (6, 17, 1, 58, 132 or another), src/dst ending in a/b, ports sp/dp. */
static uint32_t frame(uint8_t *f, int tags, int v6, uint8_t proto, uint8_t a, uint8_t b,
                      uint16_t sp, uint16_t dp, uint8_t tcpflags)
{
    uint32_t o = 12;

    memset(f, 0, 128);
    f[0] = 2;
    f[6] = 2;
    for (int t = 0; t < tags; t++) {
        put16(f + o, t == 0 && tags == 2 ? 0x88a8 : 0x8100);
        put16(f + o + 2, (uint16_t)(100 + t));
        o += 4;
    }
    put16(f + o, v6 ? 0x86dd : 0x0800);
    o += 2;
    uint8_t *ip = f + o;
    uint32_t l4len = proto == 6 ? 20 : 8;
    if (v6) {
        ip[0] = 0x60;
        put16(ip + 4, (uint16_t)(l4len + 4));
        ip[6] = proto;
        ip[7] = 64;
        ip[8] = 0x20;
        ip[9] = 0x01;
        ip[23] = a;
        ip[24] = 0x20;
        ip[25] = 0x01;
        ip[39] = b;
        o += 40;
    } else {
        ip[0] = 0x45;
        put16(ip + 2, (uint16_t)(20 + l4len + 4));
        ip[8] = 64;
        ip[9] = proto;
        ip[12] = 10;
        ip[15] = a;
        ip[16] = 10;
        ip[19] = b;
        o += 20;
    }
    uint8_t *l4 = f + o;
    if (proto == 1 || proto == 58) {
        l4[0] = proto == 1 ? 8 : 128;
        put16(l4 + 4, sp);
    } else {
        put16(l4, sp);
        put16(l4 + 2, dp);
    }
    if (proto == 6) {
        l4[12] = 0x50;
        l4[13] = tcpflags;
    }
    return o + l4len + 4;
}

TEST(a_plain_tcp_frame_gives_the_expected_key)
{
    uint8_t f[128];
    struct vf_pkt p;
    /* 10.0.0.9:443 -> 10.0.0.3:1025, SYN+ACK: canonical is the other way */
    uint32_t n = frame(f, 0, 0, 6, 9, 3, 443, 1025, BT_TCP_SYN | BT_TCP_ACK);
    REQUIRE(vf_pkt_decode(f, n, BT_LINK_ETHERNET, &p) == VF_PKT_IP);
    static const uint8_t lo[16] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff, 10, 0, 0, 3};
    static const uint8_t hi[16] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff, 10, 0, 0, 9};
    CHECK(memcmp(p.ck.src, lo, 16) == 0);
    CHECK(memcmp(p.ck.dst, hi, 16) == 0);
    CHECK_EQ_INT(p.ck.sport, 1025);
    CHECK_EQ_INT(p.ck.dport, 443);
    CHECK_EQ_INT(p.ck.proto, 6);
    CHECK_EQ_INT(p.ck.family, 4);
    CHECK_EQ_INT(p.ck.zero, 0);
    CHECK_EQ_INT(p.flags, VF_PKT_SWAPPED | VF_PKT_PORTS);
    CHECK_EQ_INT(p.tcp_flags, BT_TCP_SYN | BT_TCP_ACK);
    CHECK(p.hash == vf_ftab_hash(&p.ck));
    /* the wire key is the directional one */
    struct bt_flow_key w;
    vf_pkt_wire_key(&p, &w);
    CHECK(memcmp(w.src, hi, 16) == 0);
    CHECK_EQ_INT(w.sport, 443);
    /* same endpoints, lower port first: not swapped */
    n = frame(f, 1, 1, 17, 7, 7, 53, 2000, 0);
    REQUIRE(vf_pkt_decode(f, n, BT_LINK_ETHERNET, &p) == VF_PKT_IP);
    CHECK_EQ_INT(p.flags, VF_PKT_PORTS);
    CHECK_EQ_INT(p.ck.sport, 53);
    /* and the other way: swapped */
    n = frame(f, 1, 1, 17, 7, 7, 2000, 53, 0);
    REQUIRE(vf_pkt_decode(f, n, BT_LINK_ETHERNET, &p) == VF_PKT_IP);
    CHECK_EQ_INT(p.flags, VF_PKT_SWAPPED | VF_PKT_PORTS);
    CHECK_EQ_INT(p.ck.sport, 53);
    CHECK_EQ_INT(p.ck.family, 6);
    /* ARP: not IP */
    memset(f, 0, 64);
    put16(f + 12, 0x0806);
    CHECK_EQ_INT(vf_pkt_decode(f, 60, BT_LINK_ETHERNET, &p), VF_PKT_NON_IP);
    /* a link type bt_parse does not read */
    CHECK_EQ_INT(vf_pkt_decode(f, 60, 147, &p), VF_PKT_UNPARSED);
}

/* Every shape, cut at every length and each byte of its headers mutated:
 * the decoders agree with the reference on all of them. */
TEST(fast_path_agrees_with_bt_parse_on_every_shape)
{
    static const uint8_t protos[] = {6, 17, 1, 58, 132, 47};
    uint8_t f[128], g[128];
    unsigned frames = 0, bad = 0;
    uint32_t seed = 12345;

    for (int tags = 0; tags < 3; tags++)
        for (int v6 = 0; v6 < 2; v6++)
            for (unsigned pi = 0; pi < sizeof(protos); pi++)
                for (int order = 0; order < 3; order++) {
                    uint8_t a = order == 0 ? 1 : order == 1 ? 9 : 5, b = 5;
                    uint32_t n = frame(f, tags, v6, protos[pi], a, b, 80, order ? 80 : 3000,
                                       (uint8_t)(order == 2 ? BT_TCP_FIN | BT_TCP_ACK : BT_TCP_SYN));
                    for (uint32_t cut = 0; cut <= n; cut++) {
                        frames++;
                        bad += !agree(f, cut, BT_LINK_ETHERNET);
                    }
                    for (uint32_t i = 0; i < n; i++)
                        for (int m = 0; m < 4; m++) {
                            memcpy(g, f, n);
                            seed = seed * 1103515245u + 12345u;
                            g[i] = m == 0 ? 0 : m == 1 ? 0xff : (uint8_t)(seed >> 16);
                            frames++;
                            bad += !agree(g, n, BT_LINK_ETHERNET);
                        }
                    /* IPv4 specifics the fast path must refuse */
                    if (!v6) {
                        uint32_t ip = 14 + 4 * (uint32_t)tags;
                        memcpy(g, f, n);
                        g[ip + 6] = 0x20;  /* more fragments */
                        bad += !agree(g, n, BT_LINK_ETHERNET);
                        memcpy(g, f, n);
                        g[ip + 7] = 0x10;  /* a later fragment */
                        bad += !agree(g, n, BT_LINK_ETHERNET);
                        memcpy(g, f, n);
                        g[ip + 6] = 0x40;  /* don't fragment: still fast */
                        bad += !agree(g, n, BT_LINK_ETHERNET);
                        frames += 3;
                    }
                    /* other link types go through bt_parse */
                    for (int link = 0; link < 300; link += 1) {
                        bad += !agree(f, n, link);
                        frames++;
                    }
                }
    fprintf(stderr, "%u frames, %u disagreements\n", frames, bad);
    CHECK_EQ_INT(bad, 0);
    CHECK(frames > 10000);
}

/* The checker itself must catch a wrong decode: a fast result with the
 * swap flag flipped, or one port off, is a disagreement. */
TEST(agreement_check_catches_a_difference)
{
    uint8_t f[128];
    struct vf_pkt ref, p;
    uint32_t n = frame(f, 0, 0, 6, 9, 3, 443, 1025, BT_TCP_SYN);

    reference(f, n, BT_LINK_ETHERNET, &ref);
    vf_pkt_decode(f, n, BT_LINK_ETHERNET, &p);
    CHECK(memcmp(&p.ck, &ref.ck, sizeof(p.ck)) == 0 && p.flags == ref.flags);
    p.flags ^= VF_PKT_SWAPPED;
    CHECK(p.flags != ref.flags);
    vf_pkt_decode(f, n, BT_LINK_ETHERNET, &p);
    p.ck.dport++;
    CHECK(memcmp(&p.ck, &ref.ck, sizeof(p.ck)) != 0);
    /* set_key from the wire key gives back the same packet */
    struct bt_flow_key w;
    vf_pkt_decode(f, n, BT_LINK_ETHERNET, &p);
    vf_pkt_wire_key(&p, &w);
    struct vf_pkt q = p;
    vf_pkt_set_key(&q, &w);
    CHECK(memcmp(&q.ck, &p.ck, sizeof(p.ck)) == 0 && q.flags == p.flags && q.hash == p.hash);
}

/* Every read of a frame stays inside its caplen: each shape, cut at every
 * length, placed so that it ends where a PROT_NONE page begins. A read past
 * the frame faults even without a sanitizer (a TCP header cut before its
 * data offset byte was read before the length check). */
TEST(cut_frames_at_a_guard_page_are_read_inside_their_caplen)
{
    static const uint8_t protos[] = {6, 17, 1, 58, 132};
    size_t pg = (size_t)sysconf(_SC_PAGESIZE);
    uint8_t *m = mmap(NULL, 2 * pg, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    uint8_t f[128];
    unsigned frames = 0, bad = 0;

    REQUIRE(m != MAP_FAILED);
    REQUIRE(mprotect(m + pg, pg, PROT_NONE) == 0);
    for (int tags = 0; tags < 3; tags++)
        for (int v6 = 0; v6 < 2; v6++)
            for (unsigned pi = 0; pi < sizeof(protos); pi++) {
                uint32_t n = frame(f, tags, v6, protos[pi], 9, 3, 443, 1025, BT_TCP_SYN);
                for (uint32_t cut = 0; cut <= n; cut++) {
                    uint8_t *at = m + pg - cut;
                    struct vf_pkt p;
                    memcpy(at, f, cut);
                    vf_pkt_decode(at, cut, BT_LINK_ETHERNET, &p);
                    vf_pkt_decode_slow(at, cut, BT_LINK_ETHERNET, &p);
                    bad += !agree(at, cut, BT_LINK_ETHERNET);
                    frames++;
                }
            }
    munmap(m, 2 * pg);
    fprintf(stderr, "%u cut frames at a guard page, %u disagreements\n", frames, bad);
    CHECK_EQ_INT(bad, 0);
    CHECK(frames > 500);
}

TEST(corpus_packets_agree)
{
    DIR *d = opendir(BT_CORPUS_DIR);
    struct dirent *de;
    uint64_t packets = 0, bad = 0;

    if (!d)
        SKIP("%s absent", BT_CORPUS_DIR);
    while ((de = readdir(d))) {
        char path[4096];
        struct bt_err e;
        if (de->d_name[0] == '.')
            continue;
        snprintf(path, sizeof(path), "%s/%s", BT_CORPUS_DIR, de->d_name);
        struct bt_pcap_reader *r = bt_pcap_open(path, &e);
        if (!r)
            continue;
        struct bt_pcap_rec rec;
        int link = bt_pcap_linktype(r);
        while (bt_pcap_next(r, &rec, &e) == 1) {
            packets++;
            if (!agree(rec.data, rec.caplen, link)) {
                if (bad++ < 5)
                    fprintf(stderr, "%s: packet %llu disagrees\n", path,
                            (unsigned long long)rec.index + 1);
            }
        }
        bt_pcap_close(r);
    }
    closedir(d);
    fprintf(stderr, "corpus: %llu packets, %llu disagreements\n", (unsigned long long)packets,
            (unsigned long long)bad);
    CHECK(packets > 1000);
    CHECK_EQ_INT(bad, 0);
}

