/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Plans: one YAML file holding a cluster, traffic, a timeline of events and
 * expectations (docs/plans.md). The loader checks every field (file:line:col,
 * unknown fields are errors); the runner co-simulates and judges.
 *
 * Interim: the traffic engine core (tgen/tg_api.h) has not landed, so the sim
 * runner drives the gateway's closed-loop sim driver (gw_api.h) instead.
 */
#ifndef PL_API_H
#define PL_API_H

#include <stdbool.h>
#include <stdint.h>

#include "gw_api.h"
#include "vf_api.h"

struct bt_err;

#define PL_MAX_EXPECT_FAIL 8

struct pl_plan {
    char *file;
    char *name;
    uint32_t seed;
    struct gw_sim_opts sim;        /* cluster + traffic + fail events */
    struct vf_thresholds th;       /* verify expectations */
    double max_failed_flows;       /* tgen figure: failed conversations allowed (-1: unjudged) */
    unsigned nexpect_fail;
    const char *expect_fail[PL_MAX_EXPECT_FAIL]; /* names from vf_check_names */
};

/* Loads and checks path. NULL with e = "file:line:col: field: problem". */
struct pl_plan *pl_plan_load(const char *path, struct bt_err *e);
struct pl_plan *pl_plan_free(struct pl_plan *p);

struct pl_result {
    bool pass;
    unsigned nchecks;
    struct {
        const char *name;
        bool judged, pass, expected_fail;
        char message[512];
    } check[VF_NCHECKS + 1];
    struct gw_sim_result sim;
    double wall_s;
    void *verify_json;             /* json_t *, owned by the result */
};

/* Runs p in simulation, writing its capture set under out (created).
 * 0 with *res filled, or -errno with e (bad plan / I/O: exit 2). */
int pl_run_sim(const struct pl_plan *p, const char *out, struct pl_result *res, struct bt_err *e);
void pl_result_clear(struct pl_result *res);

#endif
