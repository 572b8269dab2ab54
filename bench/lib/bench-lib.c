/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * libbaton benchmarks (never a test; bench/lib.sh runs them):
 *   bench-lib gen PCAP N F     write a pcap of N packets over F flows: IPv4
 *                              TCP, IPv4 UDP, IPv6 TCP and 802.1Q-tagged IPv4
 *                              TCP, both directions
 *   bench-lib parse PCAP [R]   per packet, from memory, on one core, R passes
 *                              (default 5): the cost of each stage, added one
 *                              at a time (parse, + flow key, + canonical form,
 *                              + General hash, + bucket lookup; and symmetric
 *                              Toeplitz in place of the General hash). Prints
 *                              the median over passes of thread CPU time
 *                              (what one core does, whatever else runs on
 *                              the machine) and of wall time.
 *   bench-lib dist [BUCKETS]   the bucket table's balance, disruption on add
 *                              and on remove, and build time, at 2..64 equal
 *                              members; side by side with Maglev (a 65537-entry
 *                              lookup table, Google's NSDI'16 load balancer)
 *                              and hash mod n, the two usual alternatives.
 */
#include <math.h>
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

static double clock_s(clockid_t c)
{
    struct timespec ts;
    clock_gettime(c, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

static double median(double *v, int n)
{
    qsort(v, (size_t)n, sizeof(*v), cmp_double);
    return n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
}

/* ------------------------------------------------------------------ gen */

static void put16(uint8_t *p, uint16_t v)
{
    p[0] = (uint8_t)(v >> 8);
    p[1] = (uint8_t)v;
}

static int gen(const char *path, long n, long flows)
{
    struct bt_err e;
    struct bt_pcap_writer *w = bt_pcap_writer_open(path, 1, 0, &e);
    uint8_t f[128];

    if (!w) {
        fprintf(stderr, "bench-lib: %s\n", e.msg);
        return 2;
    }
    for (long i = 0; i < n; i++) {
        uint64_t fl = (uint64_t)((i * 2654435761L) % flows);
        uint64_t r = bt_mix64(fl);
        int dir = (int)(i & 1), kind = (int)(r % 20), l = 14;
        uint16_t cp = (uint16_t)(1024 + fl % 60000), sp = (uint16_t)(r % 3 ? 443 : 53);
        uint8_t *ip, *l4;
        int v6 = kind >= 12 && kind < 15, udp = kind >= 15 && kind < 18, vlan = kind >= 18;

        memset(f, 0, sizeof(f));
        f[0] = 0x02;
        f[6] = 0x02;
        f[11] = 1;
        if (vlan) {
            put16(f + 12, 0x8100);
            put16(f + 14, (uint16_t)(100 + fl % 8));
            l = 18;
        }
        put16(f + l - 2, v6 ? 0x86dd : 0x0800);
        ip = f + l;
        uint8_t c[16] = {0}, s[16] = {0};
        if (v6) {
            c[0] = 0x20; c[1] = 0x01; c[2] = 0x0d; c[3] = 0xb8;
            memcpy(c + 8, &r, 8);
            s[0] = 0x20; s[1] = 0x01; s[2] = 0x0d; s[3] = 0xb8; s[4] = 1;
            s[15] = (uint8_t)(1 + fl % 97);
        } else {
            c[0] = 10;
            c[1] = (uint8_t)(fl >> 16);
            c[2] = (uint8_t)(fl >> 8);
            c[3] = (uint8_t)fl;
            s[0] = 192; s[1] = 168; s[2] = 0; s[3] = (uint8_t)(1 + fl % 97);
        }
        const uint8_t *a = dir ? s : c, *b = dir ? c : s;
        int alen = v6 ? 16 : 4, iphl = v6 ? 40 : 20, l4len = udp ? 8 : 20, pay = 6;
        if (v6) {
            ip[0] = 0x60;
            put16(ip + 4, (uint16_t)(l4len + pay));
            ip[6] = udp ? 17 : 6;
            ip[7] = 64;
            memcpy(ip + 8, a, 16);
            memcpy(ip + 24, b, 16);
        } else {
            ip[0] = 0x45;
            put16(ip + 2, (uint16_t)(iphl + l4len + pay));
            ip[8] = 64;
            ip[9] = udp ? 17 : 6;
            memcpy(ip + 12, a, (size_t)alen);
            memcpy(ip + 16, b, (size_t)alen);
        }
        l4 = ip + iphl;
        put16(l4, dir ? sp : cp);
        put16(l4 + 2, dir ? cp : sp);
        if (udp) {
            put16(l4 + 4, (uint16_t)(8 + pay));
        } else {
            l4[12] = 0x50;
            l4[13] = 0x18;
            put16(l4 + 14, 65535);
        }
        int len = l + iphl + l4len + pay;
        if (bt_pcap_write(w, (uint64_t)i * 1000, f, (uint32_t)len, (uint32_t)len) < 0) {
            fprintf(stderr, "bench-lib: %s: write failed\n", path);
            bt_pcap_writer_close(w);
            return 1;
        }
    }
    return bt_pcap_writer_close(w) < 0 ? 1 : 0;
}

/* ---------------------------------------------------------------- parse */

enum { ST_PARSE, ST_KEY, ST_CANON, ST_HASH, ST_LOOKUP, ST_TOEPLITZ, NSTAGES };
static const char *const stage_name[NSTAGES] = {
    "parse",
    "+ flow key",
    "+ canonical key",
    "+ General hash (L4)",
    "+ bucket lookup",
    "parse+key+sym Toeplitz+lookup",
};

struct trace {
    uint8_t *buf;
    uint32_t *off, *len;
    size_t n;
    int link;
};

/* One pass of stage st over every packet; returns a value so that nothing
 * is optimised away. */
static uint64_t run_stage(const struct trace *tr, const struct bt_dist *d, int st)
{
    uint64_t sink = 0;

    for (size_t i = 0; i < tr->n; i++) {
        struct bt_parsed p;
        struct bt_flow_key k, c;
        bt_parse(tr->buf + tr->off[i], tr->len[i], tr->link, &p);
        if (st == ST_PARSE) {
            sink += p.sport;
            continue;
        }
        bt_flow_key_from_parsed(&p, &k);
        if (st == ST_KEY) {
            sink += k.dport;
            continue;
        }
        if (st == ST_TOEPLITZ) {
            sink += (uint64_t)bt_dist_primary(d, bt_toeplitz_sym(&k));
            continue;
        }
        bt_flow_key_canon(&k, &c);
        if (st == ST_CANON) {
            sink += c.sport;
            continue;
        }
        uint32_t h = bt_dist_hash(&k, BT_DIST_GENERAL, 1, BT_SIDE_INTERNAL, 0);
        if (st == ST_HASH) {
            sink += h + c.sport;
            continue;
        }
        sink += (uint64_t)bt_dist_primary(d, h) + c.sport;
    }
    return sink;
}

static int parse_bench(const char *path, int reps)
{
    struct bt_err e;
    struct bt_pcap_reader *r = bt_pcap_open(path, &e);
    struct bt_pcap_rec rec;
    struct trace tr = {0};
    size_t cap = 1 << 21, bytes = 0, bcap = 256u << 20;
    int rc;

    if (!r) {
        fprintf(stderr, "bench-lib: %s\n", e.msg);
        return 2;
    }
    tr.buf = malloc(bcap);
    tr.off = malloc(cap * sizeof(*tr.off));
    tr.len = malloc(cap * sizeof(*tr.len));
    if (!tr.buf || !tr.off || !tr.len) {
        fprintf(stderr, "bench-lib: out of memory\n");
        return 1;
    }
    /* load into memory first: we time the parser, not the disk */
    while ((rc = bt_pcap_next(r, &rec, &e)) == 1 && tr.n < cap && bytes + rec.caplen < bcap) {
        memcpy(tr.buf + bytes, rec.data, rec.caplen);
        tr.off[tr.n] = (uint32_t)bytes;
        tr.len[tr.n++] = rec.caplen;
        bytes += rec.caplen;
    }
    if (rc < 0) {
        fprintf(stderr, "bench-lib: %s\n", e.msg);
        return 2;
    }
    tr.link = bt_pcap_linktype(r);
    bt_pcap_close(r);

    struct bt_dist *d = bt_dist_new(BT_DIST_DEFAULT_BUCKETS, 1);
    for (int i = 1; i <= 8; i++)
        bt_dist_set(d, i, 100, true);
    bt_dist_build(d);
    if (reps < 1 || reps > 99)
        reps = 5;
    printf("%zu packets (%zu bytes) in memory, %d passes per stage, medians\n", tr.n, bytes, reps);
    printf("%-31s %10s %10s %10s %10s\n", "stage", "cpu_ns/pkt", "cpu_Mpps", "wall_ns/pkt", "wall_Mpps");
    uint64_t sink = 0;
    for (int st = 0; st < NSTAGES; st++) {
        double cpu[99], wall[99];
        for (int k = 0; k < reps; k++) {
            double c0 = clock_s(CLOCK_THREAD_CPUTIME_ID), w0 = clock_s(CLOCK_MONOTONIC);
            sink += run_stage(&tr, d, st);
            cpu[k] = clock_s(CLOCK_THREAD_CPUTIME_ID) - c0;
            wall[k] = clock_s(CLOCK_MONOTONIC) - w0;
        }
        double c = median(cpu, reps), w = median(wall, reps);
        printf("%-31s %10.1f %10.2f %10.1f %10.2f\n", stage_name[st], c / (double)tr.n * 1e9,
               (double)tr.n / c / 1e6, w / (double)tr.n * 1e9, (double)tr.n / w / 1e6);
    }
    fprintf(stderr, "(sink %llu)\n", (unsigned long long)sink % 10);
    free(tr.buf);
    free(tr.off);
    free(tr.len);
    bt_dist_free(d);
    return 0;
}

/* ----------------------------------------------------------------- dist */

/* Maglev (Eisenbud et al., NSDI 2016): each member walks its own
 * permutation of a prime-sized table, members take turns claiming their
 * next free entry. Near-perfect balance, small but non-minimal disruption,
 * no natural backup. Members are ids 1..64; up[id] says who is in. */
#define MAGLEV_M 65537
static void maglev_build(const int *up, uint8_t *table)
{
    static uint32_t next[BT_DIST_MAX_MEMBERS + 1], off[BT_DIST_MAX_MEMBERS + 1],
        skip[BT_DIST_MAX_MEMBERS + 1];
    uint32_t filled = 0;
    int any = 0;

    memset(table, 0, MAGLEV_M);
    for (int id = 1; id <= BT_DIST_MAX_MEMBERS; id++) {
        if (!up[id])
            continue;
        uint64_t h = bt_mix64(0x5bd1e995ULL * (uint64_t)id);
        off[id] = (uint32_t)(h % MAGLEV_M);
        skip[id] = (uint32_t)((h >> 32) % (MAGLEV_M - 1)) + 1;
        next[id] = 0;
        any = 1;
    }
    while (any && filled < MAGLEV_M) {
        for (int id = 1; id <= BT_DIST_MAX_MEMBERS && filled < MAGLEV_M; id++) {
            if (!up[id])
                continue;
            uint32_t c;
            do {
                c = (uint32_t)((off[id] + (uint64_t)next[id] * skip[id]) % MAGLEV_M);
                next[id]++;
            } while (table[c]);
            table[c] = (uint8_t)id;
            filled++;
        }
    }
}

struct peer_fig {
    double dev, add, rem;
};

static double max_dev(const uint32_t *count, const int *up, double total, int n)
{
    double worst = 0;
    for (int id = 1; id <= BT_DIST_MAX_MEMBERS; id++) {
        if (!up[id])
            continue;
        double exp = total / n, dv = fabs(count[id] - exp) / exp * 100;
        if (dv > worst)
            worst = dv;
    }
    return worst;
}

static struct peer_fig maglev_fig(int n)
{
    static uint8_t a[MAGLEV_M], b[MAGLEV_M];
    int up[BT_DIST_MAX_MEMBERS + 1] = {0};
    uint32_t count[BT_DIST_MAX_MEMBERS + 1] = {0};
    struct peer_fig f;
    unsigned moved = 0;

    for (int id = 1; id <= n; id++)
        up[id] = 1;
    maglev_build(up, a);
    for (uint32_t i = 0; i < MAGLEV_M; i++)
        count[a[i]]++;
    f.dev = max_dev(count, up, MAGLEV_M, n);
    /* add: n-1 -> n (member n joins); remove: n -> n-1 (member 1 leaves) */
    up[n] = 0;
    maglev_build(up, b);
    for (uint32_t i = 0; i < MAGLEV_M; i++)
        moved += a[i] != b[i];
    f.add = n > 1 ? moved * 100.0 / MAGLEV_M : 0;
    up[n] = 1;
    up[1] = 0;
    maglev_build(up, b);
    moved = 0;
    for (uint32_t i = 0; i < MAGLEV_M; i++)
        moved += a[i] != b[i];
    f.rem = moved * 100.0 / MAGLEV_M;
    return f;
}

/* hash mod n over the same number of buckets */
static struct peer_fig modulo_fig(int n, uint32_t nb)
{
    uint32_t count[BT_DIST_MAX_MEMBERS + 1] = {0};
    int up[BT_DIST_MAX_MEMBERS + 1] = {0};
    unsigned add = 0, rem = 0;
    struct peer_fig f;

    for (int id = 1; id <= n; id++)
        up[id] = 1;
    for (uint32_t b = 0; b < nb; b++) {
        uint64_t h = bt_mix64(b);
        int o = 1 + (int)(h % (uint64_t)n);
        count[o]++;
        if (n > 1 && 1 + (int)(h % (uint64_t)(n - 1)) != o)
            add++;
        /* member 1 leaves: the survivors 2..n renumbered 1..n-1 */
        if (n > 1 && 2 + (int)(h % (uint64_t)(n - 1)) != o)
            rem++;
    }
    f.dev = max_dev(count, up, nb, n);
    f.add = add * 100.0 / nb;
    f.rem = rem * 100.0 / nb;
    return f;
}

static int dist_bench(uint32_t nbuckets)
{
    static const int sizes[] = {2, 4, 8, 16, 32, 52, 64};
    static uint8_t p0[1u << 24], b0[1u << 24];

    if (nbuckets == 0 || nbuckets > (1u << 24) || (nbuckets & (nbuckets - 1))) {
        fprintf(stderr, "bench-lib: dist: buckets must be a power of two <= 2^24\n");
        return 2;
    }
    printf("bt_dist (weighted rendezvous), %u buckets; add = member n joins n-1, remove = member 1 "
           "of n goes down; ideal = 1/n; build = CPU ms, median of 5\n", nbuckets);
    printf("members  max_dev_%%  add_%%  remove_%%  ideal_%%  remove_to_backup_%%  "
           "backup_changed_%%  build_ms | maglev: dev_%% add_%% remove_%% | mod-n: dev_%% add_%% remove_%%\n");
    for (unsigned s = 0; s < sizeof(sizes) / sizeof(sizes[0]); s++) {
        int n = sizes[s];
        struct bt_dist *d = bt_dist_new(nbuckets, 42);
        double nb = nbuckets, t[5];
        /* n-1 members, then n: the join */
        for (int i = 1; i < n; i++)
            bt_dist_set(d, i, 100, true);
        bt_dist_build(d);
        bt_dist_set(d, n, 100, true);
        double add = bt_dist_build(d) / nb * 100;
        for (int k = 0; k < 5; k++) {
            bt_dist_set(d, 1, 100, k % 2 == 0);  /* each build has work to do */
            double c0 = clock_s(CLOCK_THREAD_CPUTIME_ID);
            bt_dist_build(d);
            t[k] = (clock_s(CLOCK_THREAD_CPUTIME_ID) - c0) * 1e3;
        }
        bt_dist_set(d, 1, 100, true);
        bt_dist_build(d);
        double dev = bt_dist_max_deviation_pct(d);
        for (uint32_t b = 0; b < nbuckets; b++) {
            p0[b] = (uint8_t)bt_dist_primary(d, b);
            b0[b] = (uint8_t)bt_dist_backup(d, b);
        }
        /* member 1 goes down */
        bt_dist_set(d, 1, 100, false);
        double rem = bt_dist_build(d) / nb * 100;
        unsigned to_backup = 0, owned = 0, backup_changed = 0;
        for (uint32_t b = 0; b < nbuckets; b++) {
            if (p0[b] == 1) {
                owned++;
                to_backup += bt_dist_primary(d, b) == b0[b];
            } else if (b0[b] != 1) {
                /* neither primary nor backup died: does the backup stay? */
                backup_changed += bt_dist_backup(d, b) != b0[b];
            }
        }
        struct peer_fig mg = maglev_fig(n), md = modulo_fig(n, nbuckets);
        printf("%7d  %9.2f  %5.2f  %8.2f  %7.2f  %18.1f  %16.2f  %8.2f | %12.2f %5.2f %9.2f | %11.2f %5.2f %9.2f\n",
               n, dev, add, rem, 100.0 / n, owned ? to_backup * 100.0 / owned : 0,
               backup_changed * 100.0 / nb, median(t, 5), mg.dev, mg.add, mg.rem, md.dev, md.add,
               md.rem);
        bt_dist_free(d);
    }
    /* weights */
    struct bt_dist *d = bt_dist_new(nbuckets, 42);
    bt_dist_set(d, 1, 280, true);
    bt_dist_set(d, 2, 60, true);
    bt_dist_set(d, 3, 60, true);
    bt_dist_set(d, 4, 0, true);
    bt_dist_build(d);
    printf("weights 70/15/15/0: shares %.2f / %.2f / %.2f / %.2f %%\n",
           bt_dist_count(d, 1) * 100.0 / nbuckets, bt_dist_count(d, 2) * 100.0 / nbuckets,
           bt_dist_count(d, 3) * 100.0 / nbuckets, bt_dist_count(d, 4) * 100.0 / nbuckets);
    bt_dist_free(d);
    return 0;
}

int main(int argc, char **argv)
{
    if (argc >= 3 && strcmp(argv[1], "parse") == 0)
        return parse_bench(argv[2], argc >= 4 ? atoi(argv[3]) : 5);
    if (argc >= 5 && strcmp(argv[1], "gen") == 0)
        return gen(argv[2], atol(argv[3]), atol(argv[4]));
    if (argc >= 2 && strcmp(argv[1], "dist") == 0)
        return dist_bench(argc >= 3 ? (uint32_t)atol(argv[2]) : BT_DIST_DEFAULT_BUCKETS);
    fprintf(stderr, "usage: bench-lib gen PCAP NPKTS NFLOWS | parse PCAP [PASSES] | dist [NBUCKETS]\n");
    return 2;
}
