/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * libbaton benchmarks:
 *   bench-lib parse PCAP      parse + flow key + canonical + General hash +
 *                             bucket lookup per packet, from memory, 1 core
 *   bench-lib gen PCAP N F    write a pcap of N TCP packets over F flows
 *   bench-lib dist            balance and disruption of the bucket table
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "bt_dist.h"
#include "bt_err.h"
#include "bt_flow.h"
#include "bt_hash.h"
#include "bt_parse.h"
#include "bt_pcap.h"

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

static int gen(const char *path, long n, long flows)
{
    struct bt_err e;
    struct bt_pcap_writer *w = bt_pcap_writer_open(path, 1, 0, &e);
    uint8_t f[128] = {0};
    if (!w) {
        fprintf(stderr, "%s\n", e.msg);
        return 2;
    }
    f[12] = 0x08;
    for (long i = 0; i < n; i++) {
        long fl = (i * 2654435761L) % flows;
        uint8_t *ip = f + 14, *tcp = ip + 20;
        int dir = (int)(i & 1);
        memset(ip, 0, 40);
        ip[0] = 0x45;
        ip[3] = 40 + 20;
        ip[8] = 64;
        ip[9] = 6;
        uint32_t c = 0x0a000000u | (uint32_t)(fl & 0xffffff), s = 0xc0a80001u + (uint32_t)(fl % 97);
        uint32_t a = dir ? s : c, b = dir ? c : s;
        for (int k = 0; k < 4; k++) {
            ip[12 + k] = (uint8_t)(a >> (24 - 8 * k));
            ip[16 + k] = (uint8_t)(b >> (24 - 8 * k));
        }
        uint16_t cp = (uint16_t)(1024 + fl % 60000), sp = 443;
        tcp[0] = (uint8_t)((dir ? sp : cp) >> 8); tcp[1] = (uint8_t)(dir ? sp : cp);
        tcp[2] = (uint8_t)((dir ? cp : sp) >> 8); tcp[3] = (uint8_t)(dir ? cp : sp);
        tcp[12] = 0x50;
        tcp[13] = 0x10;
        bt_pcap_write(w, (uint64_t)i * 1000, f, 14 + 60, 14 + 60);
    }
    return bt_pcap_writer_close(w) < 0 ? 1 : 0;
}

static int parse_bench(const char *path)
{
    struct bt_err e;
    struct bt_pcap_reader *r = bt_pcap_open(path, &e);
    struct bt_pcap_rec rec;
    uint8_t *buf;
    uint32_t *off, *len;
    size_t n = 0, cap = 1 << 20, bytes = 0, bcap = 256u << 20;
    if (!r) {
        fprintf(stderr, "%s\n", e.msg);
        return 2;
    }
    buf = malloc(bcap);
    off = malloc(cap * sizeof(*off));
    len = malloc(cap * sizeof(*len));
    /* load into memory first: we time the parser, not the disk */
    while (bt_pcap_next(r, &rec, &e) == 1 && n < cap && bytes + rec.caplen < bcap) {
        memcpy(buf + bytes, rec.data, rec.caplen);
        off[n] = (uint32_t)bytes;
        len[n++] = rec.caplen;
        bytes += rec.caplen;
    }
    int link = bt_pcap_linktype(r);
    bt_pcap_close(r);
    struct bt_dist *d = bt_dist_new(BT_DIST_DEFAULT_BUCKETS, 1);
    for (int i = 1; i <= 8; i++)
        bt_dist_set(d, i, 100, true);
    bt_dist_build(d);
    uint64_t sink = 0;
    double best = 1e9;
    for (int rep = 0; rep < 5; rep++) {
        double t0 = now_s();
        for (size_t i = 0; i < n; i++) {
            struct bt_parsed p;
            struct bt_flow_key k, c;
            bt_parse(buf + off[i], len[i], link, &p);
            bt_flow_key_from_parsed(&p, &k);
            bt_flow_key_canon(&k, &c);
            uint32_t h = bt_dist_hash(&k, BT_DIST_GENERAL, 1, BT_SIDE_INTERNAL, 0);
            sink += (uint64_t)bt_dist_primary(d, h) + c.sport;
        }
        double t = now_s() - t0;
        if (t < best)
            best = t;
    }
    printf("parse+key+canon+hash+lookup: %zu packets, best of 5: %.3f s, %.2f Mpps, %.1f ns/pkt (sink %llu)\n",
           n, best, (double)n / best / 1e6, best / (double)n * 1e9, (unsigned long long)sink % 10);
    free(buf);
    free(off);
    free(len);
    bt_dist_free(d);
    return 0;
}

static int dist_bench(uint32_t nbuckets)
{
    static const int sizes[] = {2, 4, 8, 16, 32, 52, 64};
    printf("buckets %u\n", nbuckets);
    printf("members  max_dev_%%  add_moved_%%  add_ideal_%%  remove_moved_%%  remove_ideal_%%  build_ms\n");
    for (unsigned s = 0; s < sizeof(sizes) / sizeof(sizes[0]); s++) {
        int n = sizes[s];
        struct bt_dist *d = bt_dist_new(nbuckets, 42);
        for (int i = 1; i <= n; i++)
            bt_dist_set(d, i, 100, true);
        double t0 = now_s();
        bt_dist_build(d);
        double build_ms = (now_s() - t0) * 1e3;
        double dev = bt_dist_max_deviation_pct(d);
        double nb = bt_dist_nbuckets(d);
        double add = 0, rem;
        if (n < 64) {
            bt_dist_set(d, n + 1, 100, true);
            add = bt_dist_build(d) / nb * 100;
            bt_dist_remove(d, n + 1);
            bt_dist_build(d);
        }
        bt_dist_set(d, 1, 100, false);
        rem = bt_dist_build(d) / nb * 100;
        printf("%7d  %9.2f  %11.2f  %11.2f  %14.2f  %14.2f  %8.2f\n", n, dev, add,
               n < 64 ? 100.0 / (n + 1) : 0.0, rem, 100.0 / n, build_ms);
        bt_dist_free(d);
    }
    return 0;
}

int main(int argc, char **argv)
{
    if (argc >= 3 && strcmp(argv[1], "parse") == 0)
        return parse_bench(argv[2]);
    if (argc >= 5 && strcmp(argv[1], "gen") == 0)
        return gen(argv[2], atol(argv[3]), atol(argv[4]));
    if (argc >= 2 && strcmp(argv[1], "dist") == 0)
        return dist_bench(argc >= 3 ? (uint32_t)atol(argv[2]) : BT_DIST_DEFAULT_BUCKETS);
    fprintf(stderr, "usage: bench-lib parse PCAP | gen PCAP NPKTS NFLOWS | dist [NBUCKETS]\n");
    return 2;
}
