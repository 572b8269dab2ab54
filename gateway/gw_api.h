/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The reference cluster (a Maestro Security Group model), public API.
 *
 * The core (library gateway_core) has explicit time and no I/O: a
 * distributor (the orchestrator) hashing each packet onto a member through
 * the lib/ bucket table, stateful members with connection tables, TCP state
 * tracking and a policy, HyperSync backups over a modelled sync network,
 * failure detection by heartbeats and a dead timer, a correction layer,
 * hide-NAT, an SMO policy version, a per-member cost model with a queue, and
 * fault injection. Drivers (gw_sim.c, gw_replay.c, the plan runner) own time,
 * packets and files. docs/gateway.md says how the model works.
 *
 * Ports: 0 = client / internal side, 1 = server / external side.
 *
 * Packet ownership:
 *  - gw_rx takes ownership of every packet given to it (it forwards it
 *    later through gw_tx, or frees it with bt_pkt_free);
 *  - gw_tx hands the returned packets to the caller, who frees them; most
 *    are the driver's own packets (from the driver's pool), the rest (RSTs of
 *    reject rules) come from a small pool the cluster owns: free every packet
 *    returned by gw_tx before gw_cluster_free;
 *  - callbacks (tap, events, corrections, NAT) get pointers valid only
 *    during the call.
 * Every call takes now_ns; it must not go backwards between calls.
 *
 * Stability: the plan runner codes against this header. Functions and
 * struct fields are only added, never changed.
 */
#ifndef GW_API_H
#define GW_API_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "bt_capset.h"   /* struct bt_event, bt_correction, bt_nat_map */
#include "bt_cidr.h"     /* struct bt_cidr */

struct bt_err;
struct bt_pkt;
struct bt_ydoc;
struct bt_ynode;
struct gw_cluster;

#define GW_MAX_MEMBERS 64

/* ---------------------------------------------------------------- faults */

/* Fault injection switches (each makes a property of issue 3 fail). */
enum {
    GW_FAULT_NO_SYNC         = 1U << 0, /* HyperSync off: backups never filled */
    GW_FAULT_ASYMMETRIC      = 1U << 1, /* symmetric hashing off: General hashes the source */
    GW_FAULT_IGNORE_WEIGHTS  = 1U << 2, /* every member weighted alike */
    GW_FAULT_NO_CORRECTION   = 1U << 3, /* packets reaching a non-owner are dropped */
    GW_FAULT_SYNC_LOSS       = 1U << 4, /* sync messages lost with cfg.sync_loss_pct */
    GW_FAULT_SLOW_DETECTION  = 1U << 5, /* failure detected cfg.detect_delay_ns late */
    GW_FAULT_STALE_POLICY    = 1U << 6, /* SMO skips joining/restored members: old version */
};

/* "no-sync", "asymmetric", "ignore-weights", "no-correction", "sync-loss",
 * "slow-detection", "stale-policy" -> GW_FAULT_*. 0 or -EINVAL. */
int gw_fault_parse(const char *s, uint32_t *bit);
/* The name of one GW_FAULT_* bit, NULL if unknown. */
const char *gw_fault_name(uint32_t bit);

/* ---------------------------------------------------------------- policy */

#define GW_MAX_RULES 64
#define GW_MAX_RULE_CIDRS 4
#define GW_PATTERN_MAX 128

enum gw_action {
    GW_ACCEPT = 0,
    GW_DROP,
    GW_REJECT,          /* TCP: drop and answer with a RST; others: drop */
};

/* One rule. A field that is absent matches everything. Ports are inclusive
 * ranges [lo, hi]; for ICMP they apply to the echo identifier. */
struct gw_rule {
    char name[32];
    enum gw_action action;
    uint8_t nsrc, ndst;                       /* 0: any */
    struct bt_cidr src[GW_MAX_RULE_CIDRS];
    struct bt_cidr dst[GW_MAX_RULE_CIDRS];
    int proto;                                /* -1: any, else the IP protocol number */
    uint16_t sport_lo, sport_hi;              /* 0..65535 when absent */
    uint16_t dport_lo, dport_hi;
    char pattern[GW_PATTERN_MAX];             /* PCRE2 on the payload; "" = none */
};

/* An ordered rule base; the first matching rule decides, else default_action.
 * Rules without a pattern are judged on a connection's first packet; rules
 * with a pattern are judged on every packet that carries payload (content
 * inspection), and a non-accept verdict ends the connection. */
struct gw_policy {
    unsigned nrules;
    enum gw_action default_action;
    struct gw_rule rule[GW_MAX_RULES];
};

void gw_policy_default(struct gw_policy *p);  /* no rules, accept */
/* Reads a `policy:` mapping (docs/formats.md, cluster section) into *p.
 * -EINVAL with e = "file:line:col: field: problem" (a bad CIDR, port range,
 * protocol or a pattern PCRE2 rejects); *p untouched on failure. */
int gw_policy_load(const struct bt_ydoc *d, const struct bt_ynode *n, struct gw_policy *p,
                   struct bt_err *e);
const char *gw_action_name(enum gw_action a);

/* ---------------------------------------------------------------- config */

/* Per-member cost model: capacity is real. A member's work is
 * ns_per_pkt per packet (heartbeats and corrected packets too),
 * + ns_per_setup per connection created, + ns_per_sync per sync record
 * encoded or applied, spread over `cores` cores; what it cannot do at once
 * waits in a queue of queue_pkts packets (then it drops). */
struct gw_cost {
    uint32_t ns_per_pkt;
    uint32_t ns_per_setup;
    uint32_t ns_per_sync;
    uint32_t cores;
    uint32_t queue_pkts;
};

struct gw_config {
    unsigned nmembers;                 /* members 1..nmembers */
    unsigned weight[GW_MAX_MEMBERS + 1];
    int mode;                          /* enum bt_dist_mode */
    bool l4;
    uint64_t dead_ns;                  /* failure detection (heartbeat dead timer) */
    uint64_t sync_delay_ns;            /* owner -> backup message latency */
    uint64_t idle_ns;                  /* TCP established idle timeout */
    uint32_t max_conns;                /* per member, owner + backup entries */
    uint32_t faults;                   /* GW_FAULT_* */
    uint32_t seed;                     /* distribution hash seed */
    /* --- added with the full model (defaults in gw_config_default) --- */
    uint64_t heartbeat_ns;             /* heartbeat period (10 ms) */
    uint64_t dead_loaded_ns;           /* dead timer while a member reports cpu above load_pct (8 s) */
    unsigned load_pct;                 /* 80 */
    uint64_t detect_delay_ns;          /* GW_FAULT_SLOW_DETECTION: added to detection (2 s) */
    uint64_t syn_ns;                   /* half-open TCP timeout (5 s) */
    uint64_t fin_ns;                   /* closing / TIME_WAIT / after RST (2 s) */
    uint64_t udp_ns;                   /* UDP pseudo-connection idle timeout (30 s) */
    uint64_t icmp_ns;                  /* ICMP echo pseudo-connection idle timeout (10 s) */
    uint64_t sync_batch_ns;            /* updates and deletes are batched this long (1 ms) */
    bool defer;                        /* hold a connection's first packet until its backup acks (on) */
    uint64_t defer_ns;                 /* ... at most this long (20 ms, pfsync's) */
    double sync_loss_pct;              /* GW_FAULT_SYNC_LOSS: % of sync messages lost (10) */
    struct gw_cost cost;
    bool nat;                          /* hide-NAT of connections opened from port 0 (IPv4) */
    struct bt_cidr nat_pool;           /* translated source addresses */
    uint16_t nat_port_lo, nat_port_hi; /* translated source ports, split among members */
    struct gw_policy policy;           /* installed at start as version 1 */
};

void gw_config_default(struct gw_config *c);
/* Reads a `cluster:` mapping (docs/formats.md section 5) into *c (defaults
 * for what it does not say). -EINVAL with e = "file:line:col: field: problem";
 * unknown fields are errors. *c is untouched on failure. */
int gw_config_load(const struct bt_ydoc *d, const struct bt_ynode *cluster, struct gw_config *c,
                   struct bt_err *e);
/* Loads a cluster file: the mapping at the top level or under `cluster:`. */
int gw_config_load_file(const char *path, struct gw_config *c, struct bt_err *e);

/* ---------------------------------------------------------------- cluster */

/* NULL on a bad config (members 1..64, weights 0..512, bad pattern) or
 * ENOMEM. seed drives the model's random choices (sync loss); cfg->seed the
 * distribution hash. The config is copied. */
struct gw_cluster *gw_cluster_new(const struct gw_config *cfg, uint32_t seed);
/* Frees the cluster and every packet it still holds. Accepts NULL; returns NULL. */
struct gw_cluster *gw_cluster_free(struct gw_cluster *g);

/* Packets arriving on port (0 or 1) at now_ns. Takes ownership of all n. */
void gw_rx(struct gw_cluster *g, uint64_t now_ns, uint16_t port, struct bt_pkt **pkts,
           unsigned n);
/* Up to max packets due by now_ns (pkt->port = the side they leave on,
 * pkt->ts_ns = when they leave). Ownership passes to the caller. */
unsigned gw_tx(struct gw_cluster *g, uint64_t now_ns, struct bt_pkt **out, unsigned max);
/* When the cluster next wants to run (packets due, sync messages landing,
 * batches, timeouts, failure detection); UINT64_MAX if never by itself.
 * Calling gw_tx at that time advances the cluster. */
uint64_t gw_next_ns(const struct gw_cluster *g);
/* True when nothing is in flight: no packet queued, no sync message or
 * batch pending, no failure waiting to be detected (drivers end a run then). */
bool gw_idle(const struct gw_cluster *g);

/* ---- control (explicit time; each success reports an event) ----
 * All return 0 (or a version) or -errno: -EINVAL bad id/value, -ENOENT no
 * such member, -EEXIST already present, -EALREADY already in that state. */

/* Kills member sgm at now_ns (kill -9: its state is gone, it answers no
 * heartbeat); the distributor notices after the dead timer. Event sgm_down. */
int gw_fail(struct gw_cluster *g, uint64_t now_ns, int sgm);
/* Brings a failed member back, empty (a rebooted SGM) with the current
 * policy: the distributor gives it its buckets again; connections the backups
 * took over are corrected to them. Event sgm_up. */
int gw_restore(struct gw_cluster *g, uint64_t now_ns, int sgm);
/* Adds member sgm (the next id, up to 64) with weight, under load: the
 * buckets it wins move to it (established connections there are corrected
 * to their owners), it becomes the backup of the connections it should
 * back up (bulk sync) and gets the current policy. Event sgm_join. */
int gw_add(struct gw_cluster *g, uint64_t now_ns, int sgm, unsigned weight);
/* Changes a member's weight (0..512) at run time, moving buckets likewise. Event weight. */
int gw_weight(struct gw_cluster *g, uint64_t now_ns, int sgm, unsigned weight);
/* Same as gw_weight (the first name of this call). */
int gw_set_weight(struct gw_cluster *g, uint64_t now_ns, int sgm, unsigned weight);
/* SMO: installs p on every member (members down get it when restored,
 * joining members on join). Compiles patterns once (PCRE2 JIT). Returns the
 * new version (1, 2, ...) or -EINVAL with e filled. Event policy. Existing
 * connections are not re-judged (only content rules see their next packets). */
int gw_policy_install(struct gw_cluster *g, uint64_t now_ns, const struct gw_policy *p,
                      struct bt_err *e);
uint32_t gw_policy_version(const struct gw_cluster *g);
/* Why a control call (cmd "fail", "restore", "add" or "weight" on sgm)
 * returned r < 0, in words, into buf ("restore: sgm 2 is already up").
 * Returns buf. */
const char *gw_refusal(const struct gw_cluster *g, const char *cmd, int sgm, int r, char *buf,
                       size_t len);

/* Contract 3 on a string: one JSON command line ({"id": n, "cmd": "fail" |
 * "restore" | "add" | "weight" | "policy", "sgm": id, "weight": w,
 * "policy": {...}}) applied at now_ns; writes the one-line JSON answer
 * ({"id": n, "ok": true} or {"id": n, "ok": false, "error": "..."}, no
 * newline) into reply. Returns 0 when the command succeeded, else -errno.
 * No I/O: drivers read and write the lines. */
int gw_control(struct gw_cluster *g, uint64_t now_ns, const char *line, char *reply,
               size_t reply_len);

/* ---- callbacks (at most one each; fn NULL turns it off) ---- */

/* Every packet the distributor delivers to member sgm, before the member
 * decides anything (sgm-<id>.pcap). pkt->ts_ns is the delivery time. */
typedef void (*gw_tap_fn)(void *arg, int sgm, const struct bt_pkt *pkt);
void gw_set_tap(struct gw_cluster *g, gw_tap_fn fn, void *arg);
/* Control events as they happen (events.jsonl). */
typedef void (*gw_event_fn)(void *arg, const struct bt_event *ev);
void gw_set_event_cb(struct gw_cluster *g, gw_event_fn fn, void *arg);
/* Each packet the correction layer forwards from the member that received
 * it to the connection's owner (corrections.jsonl). */
typedef void (*gw_correction_fn)(void *arg, const struct bt_correction *c);
void gw_set_correction_cb(struct gw_cluster *g, gw_correction_fn fn, void *arg);
/* Each hide-NAT translation made (nat.jsonl), when its connection is created. */
typedef void (*gw_nat_fn)(void *arg, const struct bt_nat_map *m);
void gw_set_nat_cb(struct gw_cluster *g, gw_nat_fn fn, void *arg);

/* ---------------------------------------------------------------- stats */

/* Cluster totals since the start. */
struct gw_stats {
    uint64_t rx, tx, drops_dead, drops_state, conns, backups, sync_records, promoted, corrections;
    /* added with the full model */
    uint64_t drops_policy;      /* drop and reject verdicts */
    uint64_t rejects;           /* RSTs sent by reject rules */
    uint64_t drops_queue;       /* member queue full */
    uint64_t drops_full;        /* connection table full */
    uint64_t drops_bad;         /* not parseable as IP */
    uint64_t sync_msgs, sync_bytes, sync_lost;
    uint64_t defer_timeouts;    /* first packets released without the backup's ack */
    uint64_t nat_conns;
    uint64_t heartbeats, false_deaths; /* live members declared dead (overload) */
    /* sync records a backup could not store, its table full (not packets:
     * the owner's SYN waits for its defer timeout, without a backup) */
    uint64_t backups_full;
    uint64_t closed;            /* connections ended (FIN/RST/timeouts) */
};
void gw_get_stats(const struct gw_cluster *g, struct gw_stats *s);

enum gw_member_state {
    GW_SGM_UP = 0,
    GW_SGM_DOWN,        /* dead (detected or not), or removed by detection */
    GW_SGM_JOINING,     /* added, buckets not yet moved (not used by the sim: joins are immediate) */
    GW_SGM_SYNCING,     /* bulk sync towards it in flight */
};
const char *gw_member_state_name(enum gw_member_state s);

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
    /* added with the full model */
    enum gw_member_state state;
    uint64_t sync_tx_bytes, sync_rx_bytes; /* sync messages, with their UDP/IP/Ethernet headers */
    uint64_t sync_tx_msgs, sync_rx_msgs;
    uint64_t busy_ns;              /* CPU time used (over all cores) */
    uint64_t queue_ns;             /* queueing delay now (work waiting / cores) */
    uint64_t drops_queue, drops_state, drops_policy;
    uint32_t policy_version;
};
/* 0, or -EINVAL for an unknown member. */
int gw_member_stats(const struct gw_cluster *g, int sgm, struct gw_member_stats *s);
/* Members ever in the cluster (ids 1..count). */
unsigned gw_member_count(const struct gw_cluster *g);
struct bt_flow_key;
/* Where connection k (either direction, original tuple) lives now: *owner
 * (0: no live member owns it), *backup (0: none) and its TCP/pseudo state
 * name. For tests, plans and debugging; a lookup per live member. */
int gw_flow_where(const struct gw_cluster *g, const struct bt_flow_key *k, int *owner, int *backup,
                  const char **state);

/* HyperSync messages are real bytes (docs/formats.md section 4); on the
 * sync network each also carries this many bytes of Ethernet/IP/UDP. */
#define GW_SYNC_WIRE_OVERHEAD 42
/* (First API) the size of one record, for figures. */
#define GW_SYNC_RECORD_BYTES 64

/* One line of the stats stream (DESIGN.md contract 2). */
#define GW_STATS_MAX_EVENTS 32
struct gw_sgm_stats {
    int id;
    enum gw_member_state state;
    unsigned weight;
    double pps, bps;               /* delivered by the distributor, per second */
    uint64_t conns, backup_conns;  /* now */
    double cps;
    double sync_tx_pps, sync_tx_bps, sync_rx_pps, sync_rx_bps; /* messages, wire bits */
    double corrections_pps;
    uint64_t drops;                /* in the interval */
    double cpu;                    /* % of the member's cores busy over the interval, 0..100 */
    uint32_t policy_version;
};
struct gw_stats_line {
    uint64_t t_ns, seq;
    struct {
        double pps, bps, cps, sync_bps;
        uint64_t conns;
        unsigned members_up, members_total;
        uint32_t policy_version;
    } cluster;
    unsigned nsgms;
    struct gw_sgm_stats sgm[GW_MAX_MEMBERS];
    unsigned nevents;              /* events since the previous line (oldest dropped past the max) */
    struct bt_event events[GW_STATS_MAX_EVENTS];
};
/* Fills *l with the rates since the previous call (or since the start) at
 * now_ns, and starts the next interval. seq counts calls. */
void gw_stats_sample(struct gw_cluster *g, uint64_t now_ns, struct gw_stats_line *l);
/* The line as compact JSON (no newline), malloc'd (caller frees); NULL on ENOMEM. */
char *gw_stats_line_json(const struct gw_stats_line *l);

/* ---------------------------------------------------------------- drivers
 * Library gateway_sim (linked by gateway_dep): drivers with files and,
 * with serve, a socket. Not part of the core. */

/* ---- closed-loop sim (gateway/gw_sim.c) ----
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
    unsigned nfails;                       /* timeline: fail, join, weight, restore */
    int fail_sgm[GW_SIM_MAX_FAILS];
    uint64_t fail_ns[GW_SIM_MAX_FAILS];
    int fail_kind[GW_SIM_MAX_FAILS];       /* enum bt_event_kind: SGM_DOWN, SGM_UP, SGM_JOIN, WEIGHT */
    unsigned fail_weight[GW_SIM_MAX_FAILS];
    uint64_t stats_interval_ns; /* stats.jsonl line period (virtual time; 0: only the last) */
    const char *out;           /* capture set directory */
    /* added: serve the stats stream and control on a UNIX socket */
    const char *serve;         /* socket path or NULL */
    double speed;              /* virtual seconds per wall second with serve (1) */
    uint32_t seed;             /* the cluster's random choices (gw_cluster_new) */
    uint64_t duration_ns;      /* run at least this long (virtual), e.g. to keep serving */
};

struct gw_sim_result {
    uint64_t flows, flows_completed, flows_failed, retransmits, pool_empty, bad_events;
    uint64_t end_ns;
    struct gw_stats gw;
    unsigned refused_event;    /* the timeline event (1-based) the cluster refused; 0: none */
};

void gw_sim_opts_default(struct gw_sim_opts *o);
/* Runs the simulation to its end. 0, or -errno with e filled. */
int gw_sim_run(const struct gw_sim_opts *o, struct gw_sim_result *res, struct bt_err *e);

/* ---- open-loop replay of client/server pcaps (gateway/gw_replay.c) ---- */
struct gw_replay_opts {
    struct gw_config cluster;
    uint32_t seed;
    const char *client_pcap;   /* packets entering port 0 at their time stamps */
    const char *server_pcap;   /* packets entering port 1 */
    const char *events;        /* NULL, EVENTS.yaml or EVENTS.jsonl */
    const char *out;           /* capture set directory */
    const char *stats;         /* stats.jsonl path (NULL: OUT/stats.jsonl) */
    uint64_t stats_interval_ns;
    uint64_t duration_ns;      /* run until (0: until the input and the cluster are done) */
    const char *serve;         /* socket path or NULL */
    double speed;
    /* a silence between two things of the input (packets, and events on
     * the input clock) longer than this is shortened to it, as tcpreplay's
     * --maxsleep; 0: keep every gap. Default 60 s. */
    uint64_t max_gap_ns;
};
struct gw_replay_result {
    uint64_t in_pkts, out_pkts, bad_events, end_ns;
    struct gw_stats gw;
    uint64_t pool_empty;       /* input packets dropped: the driver's pool was empty */
};
void gw_replay_opts_default(struct gw_replay_opts *o);
/* 0, or -errno with e filled (-EINVAL: bad input, named file and position). */
int gw_replay_run(const struct gw_replay_opts *o, struct gw_replay_result *res, struct bt_err *e);

#endif
