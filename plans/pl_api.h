/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Plans: one YAML file holding a cluster, traffic, a timeline of events and
 * expectations (docs/plans.md). The loader checks every field (file:line:col,
 * unknown fields are errors); the runner co-simulates and judges.
 *
 * Two traffic sources in --sim:
 *  - a tgen profile (`traffic:` with `templates:` or `profile: PATH`): the
 *    tgen core (tgen/tg_api.h) in closed loop and the gateway core
 *    (gateway/gw_api.h) on one virtual clock in this process (pl_cosim.c);
 *  - the older conversation keys (flows, exchanges, interval...): the
 *    gateway's own sim driver with its built-in endpoints (gw_sim_run),
 *    kept because its endpoints have client think time (long-lived
 *    conversations at a low packet rate), which the failover plans use.
 * Both write the same capture set, judged by the same verify checks.
 */
#ifndef PL_API_H
#define PL_API_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "gw_api.h"
#include "tg_api.h"
#include "vf_api.h"

struct bt_err;
struct bt_ydoc;
struct bt_ynode;

#define PL_MAX_EXPECT_FAIL 12
#define PL_MAX_EVENTS 64
#define PL_MAX_CHECKS 16
#define PL_NAME_MAX 128      /* a plan name: a directory under --out */

/* The closed list of checks a plan can name in expect_fail (docs/plans.md):
 * verify's five, then the traffic figures, then the runner's own. */
extern const char *const pl_check_names[];
extern const unsigned pl_ncheck_names;

enum pl_event_kind {
    PL_EV_FAIL = 0,
    PL_EV_RESTORE,
    PL_EV_ADD,
    PL_EV_WEIGHT,
    PL_EV_POLICY,
    PL_EV_RUN,
};

struct pl_event {
    uint64_t at_ns;
    enum pl_event_kind kind;
    int sgm;
    unsigned weight;
    struct gw_policy *policy;      /* PL_EV_POLICY (owned by the plan) */
    char *cmd;                     /* PL_EV_RUN: a /bin/sh command (owned) */
    uint64_t timeout_ns;           /* PL_EV_RUN: killed (and the plan fails) after this */
    int want_status;               /* PL_EV_RUN: -1 any exit status, else this one */
    unsigned line, col;            /* where it was given */
};

/* A capacity search (RFC 9411 7.2 / 7.5): the runner runs short trials of
 * the plan at increasing load and bisects for the highest load the cluster
 * carries cleanly, then compares it with the capacity the cluster's
 * configuration implies (pl_capacity_model). */
enum pl_ramp_kind { PL_RAMP_NONE = 0, PL_RAMP_CPS, PL_RAMP_CONCURRENT };

struct pl_ramp {
    enum pl_ramp_kind kind;
    double from, to;               /* search interval (cps, or concurrent connections) */
    uint64_t trial_ns;             /* virtual time of one trial */
    unsigned trials;               /* bisection steps */
    double tolerance_pct;          /* found within this much of the model (5) */
};

/* `live:` how --live reaches an external device (docs/plans.md). Strings
 * are owned by the plan; NULL when not given (the command line may give
 * them: pl_live_opts). */
#define PL_LIVE_MAX_SGM 64
struct pl_live {
    bool given;                    /* the plan has a live: section */
    char *client, *server;         /* port SPECs: an interface, a DPDK vdev, a PCI address */
    char *eal;                     /* EAL arguments, separated by spaces */
    char *tgen_args;               /* more baton-tgen options, separated by spaces */
    uint64_t timeout_ns;           /* bound on the whole run (0: the default) */
    double capacity;               /* with ramp: the device's rated capacity (cps, or
                                    * connections) the search must find (0: not given) */
    char *capset;                  /* member captures taken by a lab tap (a capture set) */
    unsigned nsgm;                 /* member captures by hand */
    int sgm_id[PL_LIVE_MAX_SGM];
    char *sgm_path[PL_LIVE_MAX_SGM];
    unsigned line, col;            /* where the section is */
    /* what the loader keeps for --live (not part of the section) */
    char *profile_path;            /* traffic: profile: PATH, resolved */
    const struct bt_ydoc *doc;     /* the plan's document (owned by the plan) */
    const struct bt_ynode *traffic;/* its traffic: mapping (inline profile) */
};

struct pl_plan {
    char *file;
    char *name;
    uint32_t seed;
    struct gw_sim_opts sim;        /* cluster (both paths) + gateway-endpoint traffic */
    bool tgen;                     /* traffic: a tgen profile, co-simulated */
    struct tg_profile *prof;       /* when tgen (owned) */
    uint64_t link_delay_ns;        /* one way, each link (co-sim; sim: link_delay) */
    uint64_t max_sim_ns;           /* stop the co-sim there (sim: duration; default 600 s) */
    uint32_t snaplen;              /* bytes of each packet captured (sim: snaplen; 0: all) */
    bool no_links;                 /* sim: links: false: no client/server pcaps (loss unjudged) */
    unsigned nevents;
    struct pl_event ev[PL_MAX_EVENTS];
    struct pl_ramp ramp;
    struct vf_thresholds th;       /* verify expectations */
    double max_failed_flows;       /* failed conversations allowed (-1: unjudged) */
    double min_cps;                /* tgen: completed connections per second at least (-1) */
    double max_rst_pct;            /* tgen: unexpected RSTs, % of flows (default 0.001, RFC 9411) */
    uint64_t max_latency_p99_ns;   /* tgen: p99 latency through the cluster (0: unjudged) */
    unsigned nexpect_fail;
    const char *expect_fail[PL_MAX_EXPECT_FAIL]; /* names from pl_check_names */
    struct pl_live live;
};

/* The unexpected RSTs a ramp's step may see and still be clean, % of its
 * flows: expect.rst_pct, else RFC 9411's 0.001 % (--sim and --live alike). */
static inline double pl_step_rst_pct(const struct pl_plan *p)
{
    return p->max_rst_pct >= 0 ? p->max_rst_pct : 0.001;
}

/* Loads and checks path. NULL with e = "file:line:col: field: problem". */
struct pl_plan *pl_plan_load(const char *path, struct bt_err *e);
/* Same from memory; name stands for the file in messages (and relative
 * paths are taken from its directory). */
struct pl_plan *pl_plan_load_mem(const char *name, const char *buf, size_t len, struct bt_err *e);
struct pl_plan *pl_plan_free(struct pl_plan *p);
/* What loading leaves for the run, checked now so that a bad input stops a
 * run before any plan runs: the traffic's templates are read (pcaps opened
 * and parsed, synthetic ones built). 0, or -errno with e = "file: traffic:
 * problem". */
int pl_plan_check_inputs(const struct pl_plan *p, struct bt_err *e);

struct pl_check {
    const char *name;
    bool judged, pass, expected_fail;
    bool not_applicable;           /* --live: nothing it needs was there (no member captures) */
    char message[512];
};

/* What a co-simulation measured (pl_cosim_run). */
struct pl_cosim_result {
    struct tg_summary tg;
    struct gw_stats gw;
    uint64_t end_ns;
    uint64_t link_pkts;            /* packets that crossed either link */
    unsigned members;              /* members ever in the cluster */
    unsigned policy_installs;
    uint32_t policy_version;       /* the last version installed */
    unsigned policy_stale;         /* live members without it at the end */
    unsigned runs, runs_failed, runs_timeout;
    char run_report[512];          /* "t=1.000s 'cmd': exit 0; ..." */
    uint64_t bad_events;           /* control calls the cluster refused */
    bool overloaded;               /* a ramp trial stopped at the first drop or failed flow */
    double pkts_per_conn;          /* packets the members handled per connection */
    double sync_per_conn;          /* sync records sent + applied per connection */
    double work_ns_per_conn;       /* cost-model work charged per connection created,
                                    * heartbeats left out (sum of busy_ns / connections) */
};

struct pl_result {
    bool pass;
    unsigned nchecks;
    struct pl_check check[PL_MAX_CHECKS];
    struct gw_sim_result sim;      /* gateway-endpoint path */
    struct pl_cosim_result co;     /* tgen path */
    double ramp_found, ramp_model; /* capacity search: found and expected */
    unsigned ramp_trials;
    double ramp_pkts, ramp_sync;   /* per connection at the low load (the model's terms) */
    uint64_t ramp_sim_ns;          /* virtual time of all the search's trials */
    double wall_s;
    double sim_wall_s, verify_wall_s; /* wall time of the simulation (capture set written) and of the checks */
    /* --live (pl_live.c) */
    bool live;
    int tgen_exit;                 /* baton-tgen's exit status (0 or 1) */
    double start_s;                /* baton-tgen's launch to its traffic's start (EAL, ports) */
    uint64_t foreign[2];           /* frames the device sent of its own (ARP, ICMPv6...) left
                                    * out of client.pcap and server.pcap */
    unsigned member_captures;      /* live.sgm captures, 1 for a live.capset (0: member checks n/a) */
    bool interrupted;              /* a signal to baton-plan stopped the run (the plan fails) */
    void *verify_json;             /* json_t *, owned by the result */
    void *tgen_json;               /* json_t *, owned by the result */
    void *ramp_json;               /* --live ramp: its steps (json_t array), owned by the result */
};

/* Co-simulates p's tgen traffic through its cluster. out: capture set
 * directory, or NULL to write none (trials). 0 with *res, or -errno with e. */
int pl_cosim_run(const struct pl_plan *p, const struct tg_profile *prof, const char *out,
                 struct pl_cosim_result *res, struct bt_err *e);

/* The capacity a cluster configuration implies (the gateway's cost model):
 * PL_RAMP_CPS: connections per second = members x (cores x 1 s - heartbeat
 * work) / work_ns_per_conn, the work the cost model charges for one
 * connection (its packets x ns_per_pkt + ns_per_setup + its sync records x
 * ns_per_sync, encoded and applied); PL_RAMP_CONCURRENT: members x
 * max_conns, halved with HyperSync on (each connection holds an owner and a
 * backup entry). */
double pl_capacity_model(const struct gw_config *c, enum pl_ramp_kind kind, double work_ns_per_conn);

/* Runs p in simulation, writing its capture set under out (created).
 * 0 with *res filled, or -errno with e (bad plan / I/O: exit 2). */
int pl_run_sim(const struct pl_plan *p, const char *out, struct pl_result *res, struct bt_err *e);
void pl_result_clear(struct pl_result *res);

/* The judging both runners share (pl_run.c): verify's five checks from
 * rep, the tgen figures and run hooks from res->co, then expect_fail over
 * every check (sets res->pass). */
void pl_verify_checks(const struct vf_report *rep, struct pl_result *res);
void pl_tgen_checks(const struct pl_plan *p, struct pl_result *res);
void pl_verdict(const struct pl_plan *p, struct pl_result *res);

#endif
