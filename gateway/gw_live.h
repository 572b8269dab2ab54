/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The live driver (library gateway_sim, a driver, not the core): the
 * cluster core on the wall clock between two real Ethernet interfaces, a
 * bump in the wire. Frames read on the client-side interface enter port 0,
 * on the server-side one port 1; what the cluster lets through is written
 * out of the other. ARP is bridged across as a transparent firewall does
 * (the core judges IP only). The capture set, stats.jsonl and, with a
 * socket, the stats stream and control commands are as the sim's, on the
 * wall clock (epoch nanoseconds). The members run in this one process:
 * members as separate processes with HyperSync over UDP are not built yet.
 */
#ifndef GW_LIVE_H
#define GW_LIVE_H

#include <stdint.h>

struct bt_err;
struct gw_sim_opts;
struct gw_stats;

struct gw_live_result {
    uint64_t in_pkts[2];       /* frames read: client side, server side */
    uint64_t out_pkts[2];      /* frames written out of each side */
    uint64_t arp;              /* ARP frames bridged across */
    uint64_t oversize;         /* frames longer than a packet buffer (2048): dropped, counted */
    uint64_t pool_empty;       /* frames dropped for want of a packet buffer */
    uint64_t send_errors;      /* frames the interface would not take (not in the link capture) */
    /* frames the kernel dropped before the cluster read them (pcap_stats:
     * the capture ring overflowed), client side, server side: they are in no
     * capture, so a run with any is incomplete (baton-gateway live exits 1) */
    uint64_t kernel_drops[2];
    uint64_t end_ns, start_ns; /* wall clock, epoch ns */
};

/* Runs until o->duration_ns has passed (0: until SIGINT/SIGTERM sets
 * gw_serve_stop) with the cluster, timeline (fail/restore/join/weight at
 * their times after the start), out, serve and stats_interval of o; the
 * closed-loop fields are unused. 0, or -errno with e filled (an interface
 * that cannot be opened, is not Ethernet or cannot be read inbound only;
 * a timeline event the cluster refused: the run still went on to its end
 * and wrote the whole capture set). */
int gw_live_run(const struct gw_sim_opts *o, const char *client_if, const char *server_if,
                struct gw_live_result *res, struct gw_stats *st, struct bt_err *e);

#endif
