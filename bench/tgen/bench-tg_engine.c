/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The engine alone: tg_tx_frames (as the DPDK worker calls it) into plain
 * buffers (no DPDK, no I/O) at
 * --rate max, open loop, ns per packet. What bench/tgen.sh's net_null run
 * costs on top is the PMD and the mbufs. Times are the process's CPU time.
 * Usage: bench-tg_engine [SYNTH [FLOWS [CONCURRENCY [RUNS]]]]
 *        (default tcp,req=10,resp=10x1 1000000 65536 3); prints the median.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "bt_err.h"
#include "bt_pkt.h"
#include "tg_api.h"

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);  /* CPU time: a shared machine */
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static int cmp_d(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

int main(int argc, char **argv)
{
    const char *synth = argc > 1 ? argv[1] : "tcp,req=10,resp=10x1";
    unsigned long long flows = argc > 2 ? strtoull(argv[2], NULL, 0) : 1000000;
    unsigned conc = argc > 3 ? (unsigned)strtoul(argv[3], NULL, 0) : 65536;
    unsigned runs = argc > 4 ? (unsigned)strtoul(argv[4], NULL, 0) : 3;
    static uint8_t bufs[32][2048];
    void *bp[32];
    uint32_t lp[32];
    struct tg_profile p;
    struct bt_err e;
    double ns[64];

    if (runs == 0 || runs > 64)
        runs = 3;
    for (unsigned i = 0; i < 32; i++)
        bp[i] = bufs[i];
    tg_profile_default(&p);
    if (tg_profile_add_synth(&p, synth, &e) < 0) {
        fprintf(stderr, "bench-tg_engine: --synth %s: %s\n", synth, e.msg);
        return 2;
    }
    p.flows = flows;
    p.rate_max = true;
    p.concurrency = conc;
    for (unsigned r = 0; r < runs; r++) {
        struct tg_engine *g = tg_engine_new(&p, 1, &e);
        if (!g || tg_engine_reserve(g, conc) < 0) {
            fprintf(stderr, "bench-tg_engine: %s\n", g ? "reserve failed" : e.msg);
            return 2;
        }
        unsigned long long n = 0;
        uint64_t sum = 0;
        double t0 = now_s();
        while (!tg_done(g)) {
            unsigned k = tg_tx_frames(g, n, bp, 0, sizeof(bufs[0]), lp, 32);
            for (unsigned i = 0; i < k; i++)
                sum += bufs[i][(lp[i] & 0xffff) - 1];  /* the frames are used */
            n += k;
        }
        double dt = now_s() - t0;
        ns[r] = dt * 1e9 / (double)n;
        fprintf(stderr, "run %u: %llu packets, %.1f ns per packet (%.2f Mpps) [%llu]\n", r + 1, n,
                ns[r], (double)n / dt / 1e6, (unsigned long long)(sum & 1));
        tg_engine_free(g);
    }
    qsort(ns, runs, sizeof(ns[0]), cmp_d);
    printf("%s flows=%llu concurrency=%u: median %.1f ns per packet (%.2f Mpps)\n", synth, flows,
           conc, ns[runs / 2], 1e3 / ns[runs / 2]);
    return 0;
}
