/* SPDX-License-Identifier: BSD-3-Clause */
#include <dirent.h>
#include <pcap/pcap.h>
#include <stdlib.h>

#include "bt_test.h"
#include "bt_parse.h"
#include "pktbuild.h"

/* Parse from an exact-size heap copy, so valgrind/ASan see any overread. */
static int parse_exact(const uint8_t *f, uint32_t len, int link, struct bt_parsed *o)
{
    uint8_t *c = malloc(len ? len : 1);
    memcpy(c, f, len);
    int r = bt_parse(c, len, link, o);
    free(c);
    return r;
}

static unsigned tcp_v4_frame(uint8_t *f, uint16_t tpid1, uint16_t tpid2, unsigned ihl,
                             unsigned payload)
{
    unsigned o = pb_eth(f, tpid1, 10, tpid2, 20, 0x0800);
    unsigned ip = o;
    o += pb_ip4(f + o, ihl, (uint16_t)(ihl * 4 + 20 + payload), 0x4000, 6, 0x0a000001, 0xc0a80102);
    o += pb_tcp(f + o, 40000, 443, 1000, 2000, 0x12, 20);
    memset(f + o, 'x', payload);
    (void)ip;
    return o + payload;
}

TEST(ethernet_ipv4_tcp)
{
    uint8_t f[256];
    struct bt_parsed p;
    unsigned n = tcp_v4_frame(f, 0, 0, 5, 10);
    CHECK_EQ_INT(parse_exact(f, n, BT_LINK_ETHERNET, &p), BT_PARSE_OK);
    CHECK_EQ_INT(p.ip_version, 4);
    CHECK_EQ_INT(p.proto, 6);
    CHECK_EQ_INT(p.l3_off, 14);
    CHECK_EQ_INT(p.l4_off, 34);
    CHECK_EQ_INT(p.payload_off, 54);
    CHECK_EQ_INT(p.payload_len, 10);
    CHECK_EQ_INT(p.sport, 40000);
    CHECK_EQ_INT(p.dport, 443);
    CHECK_EQ_INT(p.seq, 1000);
    CHECK_EQ_INT(p.ack, 2000);
    CHECK_EQ_INT(p.tcp_flags, BT_TCP_SYN | BT_TCP_ACK);
    CHECK_EQ_INT(p.tcp_hlen, 20);
    CHECK(p.flags & BT_PF_PORTS);
    CHECK(!(p.flags & BT_PF_FRAG));
    CHECK(bt_addr_is_v4(p.src));
    char a[64];
    CHECK_EQ_STR(bt_addr_fmt(p.src, a, sizeof(a)), "10.0.0.1");
    CHECK_EQ_STR(bt_addr_fmt(p.dst, a, sizeof(a)), "192.168.1.2");
}

TEST(vlan_qinq_and_ip_options)
{
    uint8_t f[256];
    struct bt_parsed p;
    unsigned n = tcp_v4_frame(f, 0x8100, 0, 5, 0);
    CHECK_EQ_INT(parse_exact(f, n, BT_LINK_ETHERNET, &p), BT_PARSE_OK);
    CHECK_EQ_INT(p.nvlan, 1);
    CHECK_EQ_INT(p.vlan[0], 10);
    CHECK(p.flags & BT_PF_VLAN);
    CHECK(!(p.flags & BT_PF_QINQ));
    CHECK_EQ_INT(p.l3_off, 18);

    n = tcp_v4_frame(f, 0x88a8, 0x8100, 7, 0);
    CHECK_EQ_INT(parse_exact(f, n, BT_LINK_ETHERNET, &p), BT_PARSE_OK);
    CHECK_EQ_INT(p.nvlan, 2);
    CHECK_EQ_INT(p.vlan[0], 10);
    CHECK_EQ_INT(p.vlan[1], 20);
    CHECK(p.flags & BT_PF_QINQ);
    CHECK(p.flags & BT_PF_IPOPT);
    CHECK_EQ_INT(p.l4_off, 22 + 28);
    CHECK_EQ_INT(p.dport, 443);
}

TEST(ipv4_fragments)
{
    uint8_t f[256];
    struct bt_parsed p;
    unsigned o = pb_eth(f, 0, 0, 0, 0, 0x0800);
    o += pb_ip4(f + o, 5, 20 + 8 + 16, 0x2000 /* MF, offset 0 */, 17, 1, 2);
    o += pb_udp(f + o, 53, 5353, 100);
    memset(f + o, 0, 16);
    o += 16;
    CHECK_EQ_INT(parse_exact(f, o, BT_LINK_ETHERNET, &p), BT_PARSE_OK);
    CHECK(p.flags & BT_PF_FRAG);
    CHECK(!(p.flags & BT_PF_FRAG_LATER));
    CHECK(p.flags & BT_PF_PORTS);
    CHECK_EQ_INT(p.sport, 53);
    /* a later fragment: no ports */
    pb16(f + 14 + 6, 0x0003);
    CHECK_EQ_INT(parse_exact(f, o, BT_LINK_ETHERNET, &p), BT_PARSE_OK);
    CHECK(p.flags & BT_PF_FRAG_LATER);
    CHECK(!(p.flags & BT_PF_PORTS));
    CHECK_EQ_INT(p.sport, 0);
    CHECK_EQ_INT(p.proto, 17);
}

TEST(ipv6_extension_headers)
{
    uint8_t f[256];
    struct bt_parsed p;
    unsigned o = pb_eth(f, 0, 0, 0, 0, 0x86dd);
    unsigned ip = o;
    o += pb_ip6(f + o, 8 + 8 + 8 + 20, 0 /* hop-by-hop */, 1, 2);
    memset(f + o, 0, 8); f[o] = 60; f[o + 1] = 0; o += 8;  /* HBH -> dest opts */
    memset(f + o, 0, 8); f[o] = 44; f[o + 1] = 0; o += 8;  /* dest opts -> frag */
    memset(f + o, 0, 8); f[o] = 6; o += 8;                 /* frag offset 0, -> TCP */
    o += pb_tcp(f + o, 1234, 80, 1, 0, BT_TCP_SYN, 20);
    (void)ip;
    CHECK_EQ_INT(parse_exact(f, o, BT_LINK_ETHERNET, &p), BT_PARSE_OK);
    CHECK_EQ_INT(p.ip_version, 6);
    CHECK_EQ_INT(p.proto, 6);
    CHECK(p.flags & BT_PF_V6EXT);
    CHECK(p.flags & BT_PF_FRAG);
    CHECK(!(p.flags & BT_PF_FRAG_LATER));
    CHECK_EQ_INT(p.l4_off, 14 + 40 + 24);
    CHECK_EQ_INT(p.sport, 1234);
    CHECK_EQ_INT(p.src[15], 1);
    CHECK(!bt_addr_is_v4(p.src));
    /* later fragment */
    pb16(f + 14 + 40 + 16 + 2, 0x0010);
    CHECK_EQ_INT(parse_exact(f, o, BT_LINK_ETHERNET, &p), BT_PARSE_OK);
    CHECK(p.flags & BT_PF_FRAG_LATER);
    CHECK(!(p.flags & BT_PF_PORTS));
}

TEST(icmp_echo_id_in_ports_and_other_types_without)
{
    uint8_t f[128];
    struct bt_parsed p;
    unsigned o = pb_eth(f, 0, 0, 0, 0, 0x0800);
    o += pb_ip4(f + o, 5, 28, 0, 1, 1, 2);
    memset(f + o, 0, 8);
    f[o] = 8;
    pb16(f + o + 4, 0x1234);
    o += 8;
    CHECK_EQ_INT(parse_exact(f, o, BT_LINK_ETHERNET, &p), BT_PARSE_OK);
    CHECK_EQ_INT(p.icmp_type, 8);
    CHECK_EQ_INT(p.sport, 0x1234);
    CHECK_EQ_INT(p.dport, 0x1234);
    CHECK(p.flags & BT_PF_PORTS);
    f[o - 8] = 3; /* unreachable */
    CHECK_EQ_INT(parse_exact(f, o, BT_LINK_ETHERNET, &p), BT_PARSE_OK);
    CHECK(!(p.flags & BT_PF_PORTS));
    CHECK_EQ_INT(p.sport, 0);
}

TEST(other_link_types)
{
    uint8_t f[128], g[160];
    struct bt_parsed p;
    unsigned n = tcp_v4_frame(f, 0, 0, 5, 0);
    /* raw IP */
    CHECK_EQ_INT(parse_exact(f + 14, n - 14, BT_LINK_RAW, &p), BT_PARSE_OK);
    CHECK_EQ_INT(p.dport, 443);
    CHECK_EQ_INT(parse_exact(f + 14, n - 14, 12, &p), BT_PARSE_OK);
    CHECK_EQ_INT(parse_exact(f + 14, n - 14, BT_LINK_IPV4, &p), BT_PARSE_OK);
    /* BSD null, host order AF_INET=2 little endian */
    memset(g, 0, 4); g[0] = 2;
    memcpy(g + 4, f + 14, n - 14);
    CHECK_EQ_INT(parse_exact(g, n - 10, BT_LINK_NULL, &p), BT_PARSE_OK);
    CHECK_EQ_INT(p.l3_off, 4);
    /* Linux SLL: protocol at 14 */
    memset(g, 0, 16); g[14] = 0x08;
    memcpy(g + 16, f + 14, n - 14);
    CHECK_EQ_INT(parse_exact(g, n + 2, BT_LINK_SLL, &p), BT_PARSE_OK);
    CHECK_EQ_INT(p.sport, 40000);
    /* SLL2: protocol at 0 */
    memset(g, 0, 20); g[0] = 0x08;
    memcpy(g + 20, f + 14, n - 14);
    CHECK_EQ_INT(parse_exact(g, n + 6, BT_LINK_SLL2, &p), BT_PARSE_OK);
    CHECK_EQ_INT(p.sport, 40000);
    CHECK_EQ_INT(parse_exact(f, n, 9999, &p), BT_PARSE_UNSUPPORTED_LINK);
    /* ARP is not IP */
    pb16(f + 12, 0x0806);
    CHECK_EQ_INT(parse_exact(f, n, BT_LINK_ETHERNET, &p), BT_PARSE_NOT_IP);
}

TEST(every_truncation_yields_a_status_never_an_overread)
{
    uint8_t f[256];
    struct bt_parsed p;
    unsigned lens[3];
    uint8_t frames[3][256];
    lens[0] = tcp_v4_frame(frames[0], 0x88a8, 0x8100, 6, 5);
    memcpy(f, frames[0], lens[0]);
    {
        unsigned o = pb_eth(frames[1], 0, 0, 0, 0, 0x86dd);
        o += pb_ip6(frames[1] + o, 8 + 20, 0, 1, 2);
        memset(frames[1] + o, 0, 8); frames[1][o] = 6; o += 8;
        o += pb_tcp(frames[1] + o, 1, 2, 3, 4, BT_TCP_ACK, 20);
        lens[1] = o;
    }
    {
        unsigned o = pb_eth(frames[2], 0x8100, 5, 0, 0, 0x0800);
        o += pb_ip4(frames[2] + o, 5, 28, 0, 17, 1, 2);
        o += pb_udp(frames[2] + o, 1, 2, 8);
        lens[2] = o;
    }
    for (int k = 0; k < 3; k++) {
        for (unsigned len = 0; len < lens[k]; len++) {
            int st = parse_exact(frames[k], len, BT_LINK_ETHERNET, &p);
            /* headers cut: truncated; only payload cut: still OK */
            unsigned hdr_end = lens[k] - (k == 0 ? 5 : 0);
            if (len < hdr_end)
                CHECK_EQ_INT(st, BT_PARSE_TRUNCATED);
            else
                CHECK_EQ_INT(st, BT_PARSE_OK);
        }
        CHECK_EQ_INT(parse_exact(frames[k], lens[k], BT_LINK_ETHERNET, &p), BT_PARSE_OK);
    }
}

TEST(malformed_headers)
{
    uint8_t f[256];
    struct bt_parsed p;
    unsigned n = tcp_v4_frame(f, 0, 0, 5, 0);
    f[14] = 0x43; /* IHL 3 */
    CHECK_EQ_INT(parse_exact(f, n, BT_LINK_ETHERNET, &p), BT_PARSE_MALFORMED);
    n = tcp_v4_frame(f, 0, 0, 5, 0);
    f[14] = 0x65; /* version 6 in an IPv4 ethertype */
    CHECK_EQ_INT(parse_exact(f, n, BT_LINK_ETHERNET, &p), BT_PARSE_MALFORMED);
    n = tcp_v4_frame(f, 0, 0, 5, 0);
    f[14 + 20 + 12] = 0x30; /* TCP data offset 12 bytes */
    CHECK_EQ_INT(parse_exact(f, n, BT_LINK_ETHERNET, &p), BT_PARSE_MALFORMED);
    CHECK_EQ_INT(p.sport, 40000); /* what came before is kept */
}

TEST(addr_parse_and_format)
{
    uint8_t a[16];
    char s[64];
    CHECK(bt_addr_parse("10.1.2.3", a) == 0);
    CHECK(bt_addr_is_v4(a));
    CHECK_EQ_STR(bt_addr_fmt(a, s, sizeof(s)), "10.1.2.3");
    CHECK(bt_addr_parse("2001:db8::1", a) == 0);
    CHECK(!bt_addr_is_v4(a));
    CHECK_EQ_STR(bt_addr_fmt(a, s, sizeof(s)), "2001:db8::1");
    CHECK(bt_addr_parse("300.1.1.1", a) < 0);
    CHECK(bt_addr_parse("", a) < 0);
}

/* bt_parse reads untagged Ethernet IPv4 TCP/UDP frames by a straight fast
 * path; the raw-IP link never takes it. So an Ethernet frame of ethertype
 * 0x0800 must parse exactly as its IP datagram does raw, offsets 14 on:
 * checked over mutated TCP and UDP frames (header bytes, protocol, IHL,
 * lengths, fragment bits) at every captured length. */
static void same_as_raw(const uint8_t *f, uint32_t len)
{
    struct bt_parsed e, r;
    int se = parse_exact(f, len, BT_LINK_ETHERNET, &e);
    int sr = parse_exact(f + 14, len - 14, BT_LINK_RAW, &r);

    CHECK_EQ_INT(se, sr);
    r.l3_off = (uint16_t)(r.l3_off + 14);   /* both reach the IPv4 header */
    if (r.l4_off)
        r.l4_off = (uint16_t)(r.l4_off + 14);
    if (r.payload_off)
        r.payload_off = (uint16_t)(r.payload_off + 14);
    if (memcmp(&e, &r, sizeof(e)) != 0) {
        fprintf(stderr, "len %u: ethernet and raw parses differ (status %d)\n", len, se);
        for (unsigned i = 0; i < sizeof(e); i++)
            if (((uint8_t *)&e)[i] != ((uint8_t *)&r)[i])
                fprintf(stderr, "  byte %u: %u vs %u\n", i, ((uint8_t *)&e)[i], ((uint8_t *)&r)[i]);
        CHECK(0);
    }
}

TEST(fast_path_same_as_slow)
{
    uint8_t f[256], g[256];
    uint64_t rng = 1;
    unsigned n[2], o;

    n[0] = tcp_v4_frame(f, 0, 0, 5, 30);
    o = pb_eth(g, 0, 0, 0, 0, 0x0800);
    o += pb_ip4(g + o, 5, 20 + 8 + 30, 0, 17, 0x0a000001, 0xc0a80102);
    o += pb_udp(g + o, 5353, 53, 8 + 30);
    memset(g + o, 'y', 30);
    n[1] = o + 30;
    for (unsigned round = 0; round < 4000; round++) {
        uint8_t h[256];
        const uint8_t *src = round & 1 ? g : f;
        unsigned len = n[round & 1];
        memcpy(h, src, len);
        /* a few bytes of the IP and L4 headers changed, biased to the
         * fields the fast path decides on */
        for (int k = 0; k < 3 && round >= 2; k++) {
            static const uint8_t hot[] = {14, 16, 17, 20, 21, 23, 46, 47, 34, 38};
            rng = rng * 6364136223846793005ULL + 1442695040888963407ULL;
            unsigned at = (rng >> 33) & 1 ? hot[(rng >> 40) % sizeof(hot)] : 14 + (unsigned)((rng >> 40) % 40);
            h[at] = (uint8_t)(rng >> 20);
            if ((rng >> 50) % 3 == 0 && at == 14)
                h[14] = 0x45;
        }
        if (h[14] >> 4 != 4)
            continue;   /* raw would read it as IPv6 or not IP */
        for (unsigned l = 15; l <= len; l++)
            same_as_raw(h, l);
    }
}

/* Every packet of every capture in tcpdump's test suite: no crash, and
 * every status is one of the documented ones. */
TEST(tcpdump_corpus)
{
    DIR *d = opendir(BT_CORPUS_DIR);
    struct dirent *de;
    unsigned files = 0, pkts = 0, ok = 0;
    if (!d)
        SKIP("%s absent", BT_CORPUS_DIR);
    while ((de = readdir(d))) {
        char path[4096], err[PCAP_ERRBUF_SIZE];
        if (de->d_name[0] == '.')
            continue;
        snprintf(path, sizeof(path), "%s/%s", BT_CORPUS_DIR, de->d_name);
        pcap_t *pc = pcap_open_offline(path, err);
        if (!pc)
            continue;
        files++;
        int link = pcap_datalink(pc);
        struct pcap_pkthdr *h;
        const u_char *data;
        while (pcap_next_ex(pc, &h, &data) == 1) {
            struct bt_parsed p;
            int st = parse_exact(data, h->caplen, link, &p);
            CHECK(st >= BT_PARSE_OK && st <= BT_PARSE_UNSUPPORTED_LINK);
            ok += st == BT_PARSE_OK;
            pkts++;
        }
        pcap_close(pc);
    }
    closedir(d);
    fprintf(stderr, "corpus: %u files, %u packets, %u parsed to L4\n", files, pkts, ok);
    CHECK(files > 100);
    CHECK(ok > 1000);
}
