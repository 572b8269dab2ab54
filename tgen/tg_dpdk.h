/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * baton-tgen's DPDK backend (tg_dpdk.c): the entry point tg_main.c calls
 * when EAL arguments come before `--`, and the parts of it that need no
 * EAL (pure functions, unit-tested in tests/tgen/test-tg_dpdk.c): the
 * neighbour protocol of the port addresses (ARP, IPv6 neighbour discovery),
 * the mbuf budget and the TSC to nanosecond conversion.
 */
#ifndef TG_DPDK_H
#define TG_DPDK_H

#include <stdbool.h>
#include <stdint.h>

struct tg_profile;

/* Runs the DPDK backend: argv[1 .. dashdash-1] are EAL arguments,
 * argv[dashdash] is "--", the rest are baton-tgen options. Returns the exit
 * status: 0 done, 1 some flows failed, 2 bad usage, input or port setup. */
int tg_dpdk_main(int argc, char **argv, int dashdash);

/* ---------------------------------------------------------------- neighbours */

/* A port's link-layer identity. */
struct tg_neigh {
    uint8_t mac[6];
    bool has4, has6;
    uint8_t ip4[4], ip6[16];
};

#define TG_NEIGH_FRAME 90      /* room enough for any frame below */

/* If frame (len bytes, Ethernet, optionally 802.1Q-tagged) is an ARP request
 * or an IPv6 neighbour solicitation for one of n's addresses, writes the
 * answer (ARP reply, neighbour advertisement with the target link-layer
 * address option, same VLAN tag, checksums computed) into out (cap >=
 * TG_NEIGH_FRAME) and returns its length; 0 when the frame is not one. */
uint32_t tg_neigh_answer(const struct tg_neigh *n, const uint8_t *frame, uint32_t len,
                         uint8_t *out, uint32_t cap);
/* Writes a request for target's MAC (family 4: a broadcast ARP request from
 * n->ip4; 6: a neighbour solicitation from n->ip6 to the solicited-node
 * multicast address) tagged with vlan (0: none) into out. Returns its
 * length, or 0 when n has no address of that family. */
uint32_t tg_neigh_request(const struct tg_neigh *n, int family, const uint8_t *target,
                          uint16_t vlan, uint8_t *out, uint32_t cap);
/* If frame is an ARP packet sent by target (family 4) or a neighbour
 * advertisement for target (family 6), copies target's MAC into mac and
 * returns true. */
bool tg_neigh_learn(const uint8_t *frame, uint32_t len, int family, const uint8_t *target,
                    uint8_t mac[6]);

/* ---------------------------------------------------------------- mbufs */

/* The mbufs a run needs, and why. */
struct tg_mbuf_plan {
    uint64_t desc;       /* rx and tx descriptors of both ports (the PMD holds these) */
    uint64_t cache;      /* per-lcore mempool caches (up to 1.5 x the cache size) */
    uint64_t burst;      /* per worker: the stash, tx retries and an rx burst */
    uint64_t capture;    /* --capture: the rings to the writer */
    uint64_t inflight;   /* closed loop: packets in flight per concurrent flow */
    uint64_t steer;      /* closed loop, several workers: the steering rings (the caller's) */
    uint64_t conc;       /* the concurrent flows that estimate assumes */
    uint64_t total;
};
/* The budget for workers worker lcores (lcores EAL lcores in all), queues of
 * nrxd / ntxd descriptors on each of 2 ports, a mempool cache of
 * cache_size, capture rings of cap_ring entries (0: no capture), and, in
 * closed loop, conc concurrent flows (2 packets in flight each: a device
 * that loops the ports together, such as net_ring, holds our own mbufs). */
void tg_mbuf_plan(unsigned workers, unsigned lcores, unsigned nrxd, unsigned ntxd,
                  unsigned cache_size, unsigned cap_ring, bool closed, uint64_t conc,
                  struct tg_mbuf_plan *out);
/* The concurrent flows a profile gives rise to: its concurrency cap, else
 * cps x the longest template (max_tmpl_ns, before speed) plus the
 * retransmission budget of closed loop, at most the flows in all; rate max
 * without a cap: every flow at once. */
uint64_t tg_conc_estimate(const struct tg_profile *p, uint64_t max_tmpl_ns);

/* ---------------------------------------------------------------- time */

/* The multiplier of tg_tsc_ns for a TSC of hz ticks per second. */
static inline uint64_t tg_tsc_mult(uint64_t hz)
{
    return (uint64_t)(((unsigned __int128)1000000000u << 32) / hz);
}

/* Nanoseconds in dtsc ticks (exact to a part in 2^32 for 584 years). */
static inline uint64_t tg_tsc_ns(uint64_t dtsc, uint64_t mult)
{
    return (uint64_t)(((unsigned __int128)dtsc * mult) >> 32);
}

#endif
