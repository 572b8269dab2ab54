/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The sim driver of baton-gateway: the cluster core on a virtual clock with
 * closed-loop TCP endpoints, writing a capture set (DESIGN.md contract 1).
 */
#ifndef GW_SIM_H
#define GW_SIM_H

#include <stdint.h>

#include "gw_api.h"

struct bt_err;

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
