/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Gateway core benchmarks, one core, through the Core API (gw_rx/gw_tx in
 * bursts of 32), in CPU time. Every figure is the median of REPS runs; runs with and
 * without sync alternate so both see the same machine.
 *   bench-gw setup N [M]   connection setup (a SYN creating an owner entry;
 *                          with sync: its CREATE encoded, sent, applied on
 *                          the backup, the ACK back, the SYN released), and
 *                          the whole handshake, ns per connection, sync on/off,
 *                          M members (4), in a new cluster and in one warmed
 *                          up by as many whole conversations
 *   bench-gw pps N M       established-flow packets (both directions) through
 *                          distributor + member, M members
 *   bench-gw mix N M       whole conversations (handshake, 10 data packets,
 *                          close) through distributor + member + sync
 *   bench-gw sync N        sync records, bytes per connection and sync
 *                          traffic against data traffic, 2..52 members
 *   bench-gw balance N     flow shares against weights and bucket moves on
 *                          add/remove, 2..52 members
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "bt_dist.h"
#include "bt_parse.h"
#include "bt_pkt.h"
#include "gw_api.h"

#define REPS 5
#define BURST 32
#define PAYLOAD 512     /* data packets of the mix: 512 bytes of payload */

static struct bt_pktpool *pool;

/* CPU time of this thread: the machine is shared, and a figure per core
 * is what is asked (wall time only adds the other tenants' share). */
static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

static int cmp_d(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

static double median(double *v, int n)
{
    qsort(v, (size_t)n, sizeof(*v), cmp_d);
    return n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
}

/* A segment of flow i: client 10.x.y.z:port <-> 192.0.2.(1..200):80. */
static void frame(struct bt_pkt *p, uint32_t i, uint8_t flags, bool s2c, unsigned payload)
{
    uint8_t *d = p->data, *ip = d + 14, *tcp = ip + 20;
    uint8_t c[4] = {10, (uint8_t)(i >> 16), (uint8_t)(i >> 8), (uint8_t)i};
    uint8_t s[4] = {192, 0, 2, (uint8_t)(1 + i % 200)};
    uint16_t cp = (uint16_t)(1024 + i % 60000), len = (uint16_t)(40 + payload);

    memset(d, 0, 54);
    d[12] = 0x08;
    ip[0] = 0x45; ip[2] = (uint8_t)(len >> 8); ip[3] = (uint8_t)len; ip[8] = 64; ip[9] = 6;
    memcpy(ip + 12, s2c ? s : c, 4);
    memcpy(ip + 16, s2c ? c : s, 4);
    tcp[0] = s2c ? 0 : (uint8_t)(cp >> 8); tcp[1] = s2c ? 80 : (uint8_t)cp;
    tcp[2] = s2c ? (uint8_t)(cp >> 8) : 0; tcp[3] = s2c ? (uint8_t)cp : 80;
    tcp[12] = 0x50; tcp[13] = flags;
    p->len = p->wire_len = 54 + payload;
}

static void drain(struct gw_cluster *g, uint64_t t)
{
    struct bt_pkt *out[64];
    unsigned m;

    while ((m = gw_tx(g, t, out, 64)) > 0)
        for (unsigned j = 0; j < m; j++)
            bt_pkt_free(out[j]);
}

/* One burst: packet `flags` of flows [first, first + k), one direction. */
static void burst(struct gw_cluster *g, uint64_t *t, uint32_t first, unsigned k, uint8_t flags,
                  bool s2c, unsigned payload, uint64_t step_ns)
{
    struct bt_pkt *b[BURST];

    for (unsigned j = 0; j < k; j++) {
        b[j] = bt_pkt_alloc(pool);
        if (!b[j]) {
            fprintf(stderr, "bench-gw: packet pool empty (the cluster holds too many)\n");
            exit(1);
        }
        frame(b[j], first + j, flags, s2c, payload);
    }
    *t += step_ns;
    gw_rx(g, *t, s2c ? 1 : 0, b, k);
    drain(g, *t);
}

enum { SYN = 0x02, SYNACK = 0x12, ACK = 0x10, PSHACK = 0x18, FINACK = 0x11 };

/* Conversations of flows [base, base + n) in groups of 32 in lockstep:
 * stage 0 = SYN only, 1 = handshake, 2 = handshake + 10 data + close.
 * Virtual time moves 10 us a burst (the modelled members stay lightly loaded).
 * Returns wall seconds; *pkts counts what was sent. */
static double conversations(struct gw_cluster *g, uint64_t *t, uint32_t base, uint32_t n, int stage,
                            uint64_t *pkts)
{
    double t0 = now_s();

    for (uint32_t i = 0; i < n; i += BURST) {
        unsigned k = n - i < BURST ? n - i : BURST;
        uint32_t f = base + i;
        burst(g, t, f, k, SYN, false, 0, 10000);
        *pkts += k;
        if (stage == 0)
            continue;
        *t += 500000;   /* the deferred SYNs are released (the backup's ACK, which may
                         * wait behind a batch of updates it applies) */
        burst(g, t, f, k, SYNACK, true, 0, 10000);
        burst(g, t, f, k, ACK, false, 0, 10000);
        *pkts += 2 * k;
        if (stage == 1)
            continue;
        for (int d = 0; d < 10; d++)
            burst(g, t, f, k, PSHACK, d & 1, PAYLOAD, 10000);
        burst(g, t, f, k, FINACK, false, 0, 10000);
        burst(g, t, f, k, FINACK, true, 0, 10000);
        burst(g, t, f, k, ACK, false, 0, 10000);
        *pkts += 13 * k;
    }
    *t += 100000000ULL;   /* the last batches and records land */
    drain(g, *t);
    return now_s() - t0;
}

static struct gw_cluster *cluster(unsigned members, bool sync, uint32_t n)
{
    struct gw_config c;

    gw_config_default(&c);
    c.nmembers = members;
    if (!sync)
        c.faults |= GW_FAULT_NO_SYNC;
    c.max_conns = n * 2 + 4096;
    c.fin_ns = 100000000ULL;  /* closed connections leave the table after 100 ms */
    return gw_cluster_new(&c, 1);
}

/* Warms a new cluster up, unmeasured: n whole conversations (flows
 * [n, 2n)), then time enough for every entry to leave, so that its tables
 * have grown and their memory is touched as in a gateway that has run for
 * a while. Returns the entries left (0 expected). */
static uint64_t warm(struct gw_cluster *g, uint64_t *t, uint32_t n)
{
    uint64_t pkts = 0, left = 0;

    conversations(g, t, n, n, 2, &pkts);
    *t += 1000000000ULL;
    drain(g, *t);
    for (unsigned id = 1; id <= gw_member_count(g); id++) {
        struct gw_member_stats s;
        if (gw_member_stats(g, (int)id, &s) == 0)
            left += s.owner_conns + s.backup_conns;
    }
    return left;
}

/* The SYNs measured by BENCH_ONLY, apart from the warm-up's conversations:
 * callgrind's --toggle-collect='measured*' counts these only. */
static __attribute__((noinline)) double measured(struct gw_cluster *g, uint64_t *t, uint32_t n,
                                                 uint64_t *pkts)
{
    return conversations(g, t, 0, n, 0, pkts);
}

/* BENCH_ONLY=0 or 1: one run of setup without or with sync only (to count
 * instructions under callgrind, a figure the machine's load does not move);
 * BENCH_WARM=1: in a warmed-up cluster (warm). Otherwise both, cold (a new
 * cluster: its tables grow and their pages are first touched while it is
 * measured) and warm. */
static void bench_setup(uint32_t n, unsigned members)
{
    double v[2][2][2][REPS];
    const char *only = getenv("BENCH_ONLY"), *w = getenv("BENCH_WARM");
    uint64_t left = 0;

    if (only) {
        struct gw_cluster *g = cluster(members, atoi(only) != 0, n);
        uint64_t t = 0, pkts = 0;
        if (w && atoi(w))
            left += warm(g, &t, n);
        measured(g, &t, n, &pkts);
        gw_cluster_free(g);
        return;
    }
    for (int rep = 0; rep < REPS; rep++)
        for (int hot = 0; hot < 2; hot++)
            for (int stage = 0; stage < 2; stage++)
                for (int sync = 0; sync < 2; sync++) {
                    struct gw_cluster *g = cluster(members, sync, n);
                    uint64_t t = 0, pkts = 0;
                    if (hot)
                        left += warm(g, &t, n);
                    v[hot][stage][sync][rep] = conversations(g, &t, 0, n, stage, &pkts) / n * 1e9;
                    gw_cluster_free(g);
                }
    for (int hot = 0; hot < 2; hot++)
        for (int stage = 0; stage < 2; stage++) {
            double off = median(v[hot][stage][0], REPS), on = median(v[hot][stage][1], REPS);
            printf("setup (%s, %s): %u connections, %u members, median of %d: without sync %.0f ns, "
                   "with sync %.0f ns per connection, ratio %.2f\n",
                   stage ? "handshake: SYN, SYN+ACK, ACK" : "SYN",
                   hot ? "warm: after as many whole conversations" : "cold: a new cluster",
                   n, members, REPS, off, on, on / off);
        }
    if (left)
        printf("setup: %" PRIu64 " entries of the warm-up were still in the tables\n", left);
}

static void bench_pps(uint32_t n, unsigned members)
{
    const uint32_t conns = 100000;
    struct gw_cluster *g = cluster(members, true, conns);
    uint64_t t = 0, pkts = 0;
    double v[REPS];

    conversations(g, &t, 0, conns, 1, &pkts);   /* 100k established connections */
    for (int rep = 0; rep < REPS; rep++) {
        double t0 = now_s();
        for (uint32_t i = 0; i < n; i += BURST)
            burst(g, &t, (i / BURST * BURST) % conns, BURST, ACK, (i / BURST) & 1, 0, 32000);
        v[rep] = now_s() - t0;
    }
    struct gw_stats st;
    gw_get_stats(g, &st);
    double s = median(v, REPS);
    printf("pps: %2u members, %u established-flow packets, median of %d: %.2f Mpps (%.0f ns/pkt); "
           "dropped %llu\n", members, n, REPS, n / s / 1e6, s / n * 1e9,
           (unsigned long long)(st.drops_state + st.drops_queue + st.drops_dead));
    gw_cluster_free(g);
}

static void bench_mix(uint32_t n, unsigned members)
{
    double v[REPS];
    uint64_t pkts = 0, drops = 0, recs = 0;

    for (int rep = 0; rep < REPS; rep++) {
        struct gw_cluster *g = cluster(members, true, n);
        struct gw_stats st;
        uint64_t t = 0;
        pkts = 0;
        v[rep] = conversations(g, &t, 0, n, 2, &pkts);
        gw_get_stats(g, &st);
        drops = st.drops_state + st.drops_queue + st.drops_dead + st.drops_full;
        recs = st.sync_records;
        gw_cluster_free(g);
    }
    double s = median(v, REPS);
    printf("mix: %2u members, %u conversations of 16 packets (%.1f sync records each), median of %d: "
           "%.2f Mpps (%.0f ns/pkt); dropped %llu\n", members, n, (double)recs / n, REPS,
           (double)pkts / s / 1e6, s / (double)pkts * 1e9, (unsigned long long)drops);
}

static void bench_sync(uint32_t n)
{
    static const unsigned m[] = {2, 3, 4, 8, 16, 32, 52};
    double prev = -1;

    for (unsigned i = 0; i < sizeof(m) / sizeof(m[0]); i++) {
        struct gw_cluster *g = cluster(m[i], true, n);
        struct gw_stats st;
        uint64_t t = 0, pkts = 0, data = 0;
        conversations(g, &t, 0, n, 2, &pkts);
        gw_get_stats(g, &st);
        for (unsigned id = 1; id <= m[i]; id++) {
            struct gw_member_stats ms;
            gw_member_stats(g, (int)id, &ms);
            data += ms.bytes;
        }
        double pct = 100.0 * (double)st.sync_bytes / (double)data;
        printf("sync: %2u members: %.2f records, %.1f messages, %.0f bytes per connection "
               "(wire, with headers); sync traffic %.2f %% of data",
               m[i], (double)st.sync_records / (double)st.conns, (double)st.sync_msgs / (double)st.conns,
               (double)st.sync_bytes / (double)st.conns, pct);
        if (prev >= 0)
            printf(" (%+.2f points)", pct - prev);
        printf("\n");
        prev = pct;
        gw_cluster_free(g);
    }
}

static void bench_balance(uint32_t n)
{
    static const unsigned m[] = {2, 3, 4, 8, 16, 32, 52};

    for (unsigned i = 0; i < sizeof(m) / sizeof(m[0]); i++) {
        unsigned k = m[i];
        struct gw_cluster *g = cluster(k, false, n);
        uint64_t t = 0, pkts = 0;
        double worst = 0;
        conversations(g, &t, 0, n, 0, &pkts);
        for (unsigned id = 1; id <= k; id++) {
            struct gw_member_stats ms;
            gw_member_stats(g, (int)id, &ms);
            double dev = ((double)ms.conns_created / n - 1.0 / k) * k * 100;
            if (dev < 0)
                dev = -dev;
            if (dev > worst)
                worst = dev;
        }
        gw_cluster_free(g);
        /* bucket moves on add and on remove, against the ideal share */
        struct bt_dist *d = bt_dist_new(BT_DIST_DEFAULT_BUCKETS, 0);
        uint32_t nb = bt_dist_nbuckets(d), moved_add = 0, moved_rm = 0;
        uint8_t *before = malloc(nb);
        for (unsigned id = 1; id <= k; id++)
            bt_dist_set(d, (int)id, 100, true);
        bt_dist_build(d);
        double table_dev = bt_dist_max_deviation_pct(d);
        for (uint32_t b = 0; b < nb; b++)
            before[b] = (uint8_t)bt_dist_primary(d, b);
        bt_dist_set(d, (int)k + 1, 100, true);
        bt_dist_build(d);
        for (uint32_t b = 0; b < nb; b++)
            moved_add += before[b] != bt_dist_primary(d, b);
        bt_dist_set(d, (int)k + 1, 100, false);
        bt_dist_set(d, 1, 100, false);
        bt_dist_build(d);
        for (uint32_t b = 0; b < nb; b++)
            moved_rm += before[b] != bt_dist_primary(d, b);
        printf("balance: %2u members: %u flows, worst member %.2f %% off its share (table %.2f %%); "
               "add one: %.2f %% of buckets move (ideal %.2f); remove one: %.2f %% (ideal %.2f)\n",
               k, n, worst, table_dev, 100.0 * moved_add / nb, 100.0 / (k + 1), 100.0 * moved_rm / nb,
               100.0 / k);
        free(before);
        bt_dist_free(d);
    }
}

int main(int argc, char **argv)
{
    uint32_t n = argc >= 3 ? (uint32_t)atol(argv[2]) : 200000;
    unsigned members = argc >= 4 ? (unsigned)atoi(argv[3]) : 4;

    pool = bt_pktpool_new(16384, 2048);
    if (!pool || n == 0 || members < 1 || members > GW_MAX_MEMBERS)
        return 2;
    if (argc >= 2 && strcmp(argv[1], "setup") == 0)
        bench_setup(n, members);
    else if (argc >= 2 && strcmp(argv[1], "pps") == 0)
        bench_pps(n, members);
    else if (argc >= 2 && strcmp(argv[1], "mix") == 0)
        bench_mix(n, members);
    else if (argc >= 2 && strcmp(argv[1], "sync") == 0)
        bench_sync(n);
    else if (argc >= 2 && strcmp(argv[1], "balance") == 0)
        bench_balance(n);
    else {
        fprintf(stderr, "usage: bench-gw setup N [MEMBERS] | pps N MEMBERS | mix N MEMBERS | sync N | balance N\n");
        return 2;
    }
    bt_pktpool_free(pool);
    return 0;
}
