/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Gateway core benchmarks, one core, through the Core API (gw_rx/gw_tx):
 *   bench-gw setup N      connection setup cost (a SYN creating an owner
 *                         entry, its sync record sent and applied on the
 *                         backup) with HyperSync on and off, ns per connection
 *   bench-gw pps N M      established-flow packets per second through
 *                         distributor + member with M members
 *   bench-gw sync N       sync records and bytes per connection, 2..52 members
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "bt_parse.h"
#include "bt_pkt.h"
#include "gw_api.h"

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

static void frame(struct bt_pkt *p, uint32_t i, uint8_t flags)
{
    uint8_t *d = p->data;
    memset(d, 0, 54);
    d[12] = 0x08;
    uint8_t *ip = d + 14, *tcp = ip + 20;
    ip[0] = 0x45; ip[3] = 40; ip[8] = 64; ip[9] = 6;
    ip[12] = 10; ip[13] = (uint8_t)(i >> 16); ip[14] = (uint8_t)(i >> 8); ip[15] = (uint8_t)i;
    ip[16] = 192; ip[17] = 0; ip[18] = 2; ip[19] = (uint8_t)(1 + i % 200);
    tcp[0] = (uint8_t)((1024 + i % 60000) >> 8); tcp[1] = (uint8_t)(1024 + i % 60000);
    tcp[3] = 80; tcp[12] = 0x50; tcp[13] = flags;
    p->len = p->wire_len = 54;
}

/* Sends n packets (SYN or ACK of flow i) in bursts of 32; returns seconds. */
static double run(struct gw_cluster *g, struct bt_pktpool *pool, uint32_t n, uint8_t flags,
                  uint64_t *t)
{
    struct bt_pkt *burst[32], *out[64];
    double t0 = now_s();
    for (uint32_t i = 0; i < n; i += 32) {
        unsigned k = 0;
        for (; k < 32 && i + k < n; k++) {
            burst[k] = bt_pkt_alloc(pool);
            frame(burst[k], i + k, flags);
        }
        *t += 1000;
        gw_rx(g, *t, 0, burst, k);
        unsigned m;
        while ((m = gw_tx(g, *t, out, 64)) > 0)
            for (unsigned j = 0; j < m; j++)
                bt_pkt_free(out[j]);
    }
    *t += 1000000; /* let the last sync records land */
    gw_tx(g, *t, out, 0);
    return now_s() - t0;
}

static struct gw_cluster *cluster(unsigned members, uint32_t faults, uint32_t n)
{
    struct gw_config c;
    gw_config_default(&c);
    c.nmembers = members;
    c.faults = faults;
    c.max_conns = n * 2 + 1024;
    return gw_cluster_new(&c, 1);
}

int main(int argc, char **argv)
{
    struct bt_pktpool *pool = bt_pktpool_new(4096, 2048);
    uint32_t n = argc >= 3 ? (uint32_t)atol(argv[2]) : 1000000;

    if (argc >= 2 && strcmp(argv[1], "setup") == 0) {
        double best[2] = {1e9, 1e9};
        for (int rep = 0; rep < 3; rep++)
            for (int sync = 0; sync < 2; sync++) {
                struct gw_cluster *g = cluster(4, sync ? 0 : GW_FAULT_NO_SYNC, n);
                uint64_t t = 0;
                double s = run(g, pool, n, 0x02, &t);
                if (s < best[sync])
                    best[sync] = s;
                gw_cluster_free(g);
            }
        printf("setup: %u connections, 4 members, best of 3: without sync %.0f ns, with sync %.0f ns per connection (ratio %.2f)\n",
               n, best[0] / n * 1e9, best[1] / n * 1e9, best[1] / best[0]);
        return 0;
    }
    if (argc >= 2 && strcmp(argv[1], "pps") == 0) {
        unsigned members = argc >= 4 ? (unsigned)atoi(argv[3]) : 4;
        struct gw_cluster *g = cluster(members, 0, 100000);
        uint64_t t = 0;
        run(g, pool, 100000, 0x02, &t);  /* 100k connections */
        double best = 1e9;
        for (int rep = 0; rep < 3; rep++) {
            double s = run(g, pool, n, 0x10, &t);  /* n ACKs over them (i % 100000 cycles) */
            if (s < best)
                best = s;
        }
        printf("pps: %u members, %u established-flow packets, best of 3: %.2f Mpps (%.0f ns/pkt)\n",
               members, n, n / best / 1e6, best / n * 1e9);
        gw_cluster_free(g);
        return 0;
    }
    if (argc >= 2 && strcmp(argv[1], "sync") == 0) {
        static const unsigned m[] = {2, 4, 8, 16, 32, 52};
        for (unsigned i = 0; i < sizeof(m) / sizeof(m[0]); i++) {
            struct gw_cluster *g = cluster(m[i], 0, n);
            struct gw_stats st;
            uint64_t t = 0;
            run(g, pool, n, 0x02, &t);
            gw_get_stats(g, &st);
            printf("sync: %2u members: %.3f records, %.1f bytes per connection\n", m[i],
                   (double)st.sync_records / (double)st.conns,
                   (double)st.sync_records * GW_SYNC_RECORD_BYTES / (double)st.conns);
            gw_cluster_free(g);
        }
        return 0;
    }
    fprintf(stderr, "usage: bench-gw setup N | pps N MEMBERS | sync N\n");
    return 2;
}
