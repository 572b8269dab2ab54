/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The reference cluster core (explicit time, no I/O): a distributor (the
 * orchestrator) hashing each packet onto a member by the lib/ bucket table,
 * stateful members with connection tables, HyperSync backups, failure
 * detection by a dead timer, and fault injection. Drivers (the sim driver in
 * gw_sim.c, later the plan runner) own time and packets.
 *
 * Ports: 0 = client/internal side, 1 = server/external side.
 * Ownership: gw_rx takes every packet given to it (forwards or frees it);
 * gw_tx hands the returned packets to the caller, who frees them.
 */
#ifndef GW_API_H
#define GW_API_H

#include <stdbool.h>
#include <stdint.h>

struct bt_pkt;
struct bt_pktpool;
struct gw_cluster;

#define GW_MAX_MEMBERS 64

enum {
    GW_FAULT_NO_SYNC      = 1U << 0,  /* HyperSync off: backups never filled */
    GW_FAULT_ASYMMETRIC   = 1U << 1,  /* General mode hashes directionally */
    GW_FAULT_IGNORE_WEIGHTS = 1U << 2,/* every member weighted alike */
    GW_FAULT_NO_CORRECTION = 1U << 3, /* packets reaching a non-owner are dropped */
};

struct gw_config {
    unsigned nmembers;                 /* members 1..nmembers */
    unsigned weight[GW_MAX_MEMBERS + 1];
    int mode;                          /* enum bt_dist_mode */
    bool l4;
    uint64_t dead_ns;                  /* failure detection (heartbeat dead timer) */
    uint64_t sync_delay_ns;            /* owner -> backup record latency */
    uint64_t idle_ns;                  /* connection idle timeout */
    uint32_t max_conns;                /* per member, owner + backup entries */
    uint32_t faults;                   /* GW_FAULT_* */
    uint32_t seed;
};

void gw_config_default(struct gw_config *c);

struct bt_err;
struct bt_ydoc;
struct bt_ynode;
/* Reads a `cluster:` mapping (docs/formats.md section 5) into *c (defaults
 * for what it does not say). -EINVAL with e = "file:line:col: field: problem";
 * unknown fields are errors. *c is untouched on failure. */
int gw_config_load(const struct bt_ydoc *d, const struct bt_ynode *cluster, struct gw_config *c,
                   struct bt_err *e);
/* "no-sync", "asymmetric", "ignore-weights" -> GW_FAULT_*. */
int gw_fault_parse(const char *s, uint32_t *bit);

/* Events the cluster reports (as lib/bt_capset.h's struct bt_event kinds). */
typedef void (*gw_tap_fn)(void *arg, int sgm, const struct bt_pkt *pkt);

struct gw_stats {
    uint64_t rx, tx, drops_dead, drops_state, conns, backups, sync_records, promoted, corrections;
};

/* NULL on a bad config. The cluster allocates packets it forwards from pool
 * (no: it forwards the same packets; pool is used for nothing else). */
struct gw_cluster *gw_cluster_new(const struct gw_config *c);
struct gw_cluster *gw_cluster_free(struct gw_cluster *g);
/* The distributor delivers a copy of what each member receives to tap. */
void gw_set_tap(struct gw_cluster *g, gw_tap_fn fn, void *arg);
/* Packets arriving on port at now_ns. Takes ownership of all n. */
void gw_rx(struct gw_cluster *g, uint64_t now_ns, uint16_t port, struct bt_pkt **pkts,
           unsigned n);
/* Up to max packets leaving now (pkt->port = the side they leave on). */
unsigned gw_tx(struct gw_cluster *g, uint64_t now_ns, struct bt_pkt **out, unsigned max);
/* When the cluster next wants to run (pending sync records, detection). */
uint64_t gw_next_ns(const struct gw_cluster *g);
/* Kills member sgm at now_ns (kill -9: no goodbye); detected after dead_ns. */
int gw_fail(struct gw_cluster *g, uint64_t now_ns, int sgm);
/* Brings a failed member back (empty state, like a rebooted SGM): the
 * distributor gives it its buckets again; connections the backups took over
 * are corrected to them. -EINVAL if sgm is not a failed member. */
int gw_restore(struct gw_cluster *g, uint64_t now_ns, int sgm);
/* Adds member sgm (up to 64; it must not exist yet) with weight, under load:
 * the buckets it now wins move to it; packets of established connections
 * that land there are corrected to their owner. -EINVAL / -EEXIST. */
int gw_add(struct gw_cluster *g, uint64_t now_ns, int sgm, unsigned weight);
/* Changes a member's weight (0..512) at run time, moving buckets likewise. */
int gw_set_weight(struct gw_cluster *g, uint64_t now_ns, int sgm, unsigned weight);

struct bt_correction;
/* Called for each packet the correction layer forwards from the member that
 * received it to the connection's owner (for corrections.jsonl). */
typedef void (*gw_correction_fn)(void *arg, const struct bt_correction *c);
void gw_set_correction_cb(struct gw_cluster *g, gw_correction_fn fn, void *arg);
void gw_get_stats(const struct gw_cluster *g, struct gw_stats *s);

/* HyperSync records are modelled in memory; for traffic figures each counts
 * as this many bytes on the sync network (docs/gateway.md). */
#define GW_SYNC_RECORD_BYTES 64

/* Per-member counters since the start (drivers turn them into rates). */
struct gw_member_stats {
    bool alive, detected_dead;
    unsigned weight;
    uint64_t pkts, bytes;          /* delivered to the member by the distributor */
    uint64_t conns_created;
    uint64_t owner_conns, backup_conns;  /* now */
    uint64_t sync_tx, sync_rx;     /* records */
    uint64_t drops;
    uint64_t corrections;          /* packets it received and forwarded to the owner */
};
/* 0, or -EINVAL for an unknown member. */
int gw_member_stats(const struct gw_cluster *g, int sgm, struct gw_member_stats *s);
unsigned gw_member_count(const struct gw_cluster *g);

/* ---- the sim driver (gateway/gw_sim.c) ----
 * The cluster core on a virtual clock with closed-loop TCP endpoints,
 * writing a capture set (DESIGN.md contract 1). Public because the plan
 * runner drives it until the tgen core exists. */

#define GW_SIM_MAX_FAILS 16

struct gw_sim_opts {
    struct gw_config cluster;
    uint64_t flows;            /* conversations, started at cps */
    double cps;
    unsigned exchanges;        /* request/response pairs per conversation */
    uint64_t interval_ns;      /* client think time between exchanges */
    uint64_t rto_ns;           /* client retransmission timeout (doubles per try) */
    uint64_t server_delay_ns;
    unsigned req_bytes, resp_bytes;
    unsigned nfails;                       /* timeline: fail, join, weight */
    int fail_sgm[GW_SIM_MAX_FAILS];
    uint64_t fail_ns[GW_SIM_MAX_FAILS];
    int fail_kind[GW_SIM_MAX_FAILS];       /* enum bt_event_kind: SGM_DOWN, SGM_JOIN, WEIGHT */
    unsigned fail_weight[GW_SIM_MAX_FAILS];
    uint64_t stats_interval_ns; /* stats.jsonl line period (virtual time; 0: only the last) */
    const char *out;           /* capture set directory */
};

struct gw_sim_result {
    uint64_t flows, flows_completed, flows_failed, retransmits, pool_empty, bad_events;
    uint64_t end_ns;
    struct gw_stats gw;
};

void gw_sim_opts_default(struct gw_sim_opts *o);
/* Runs the simulation to its end. 0, or -errno with e filled. */
int gw_sim_run(const struct gw_sim_opts *o, struct gw_sim_result *res, struct bt_err *e);

#endif
