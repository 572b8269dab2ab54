/* SPDX-License-Identifier: BSD-3-Clause */
/* The sim runner: simulate the plan, judge the capture set with the verify
 * checks, then apply expect / expect_fail. Time is virtual (the sim driver's);
 * the wall clock is the caller's business. */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include <jansson.h>

#include "bt_err.h"
#include "pl_api.h"

static bool expected_to_fail(const struct pl_plan *p, const char *name)
{
    for (unsigned i = 0; i < p->nexpect_fail; i++)
        if (!strcmp(p->expect_fail[i], name))
            return true;
    return false;
}

int pl_run_sim(const struct pl_plan *p, const char *out, struct pl_result *res, struct bt_err *e)
{
    struct gw_sim_opts o = p->sim;
    struct vf_input in;
    struct vf_report *rep = NULL;
    int r;

    memset(res, 0, sizeof(*res));
    o.out = out;
    if ((r = gw_sim_run(&o, &res->sim, e)) < 0) {
        bt_err_prefix(e, p->file);
        goto out;
    }
    memset(&in, 0, sizeof(in));
    in.capset = out;
    if ((r = vf_check(&in, &p->th, &rep, e)) < 0)
        goto out;
    res->verify_json = vf_report_json(rep);
    for (unsigned k = 0; k < VF_NCHECKS; k++) {
        const char *msg = NULL;
        bool pass = true;
        res->check[k].name = vf_check_names[k];
        res->check[k].judged = vf_report_check(rep, vf_check_names[k], &pass, &msg) == 1;
        res->check[k].pass = pass;
        snprintf(res->check[k].message, sizeof(res->check[k].message), "%s", msg ? msg : "");
    }
    res->nchecks = VF_NCHECKS;
    /* tgen figure: failed conversations (judged only when the plan asks). */
    if (p->max_failed_flows >= 0) {
        unsigned k = res->nchecks++;
        res->check[k].name = "failed_flows";
        res->check[k].judged = true;
        res->check[k].pass = (double)res->sim.flows_failed <= p->max_failed_flows;
        snprintf(res->check[k].message, sizeof(res->check[k].message),
                 "failed conversations: expected at most %.0f, saw %llu of %llu", p->max_failed_flows,
                 (unsigned long long)res->sim.flows_failed, (unsigned long long)res->sim.flows);
    }
    /* A plan passes when exactly the checks named in expect_fail fail. */
    res->pass = true;
    for (unsigned k = 0; k < res->nchecks; k++) {
        bool want_fail = expected_to_fail(p, res->check[k].name);
        bool failed = res->check[k].judged && !res->check[k].pass;
        res->check[k].expected_fail = want_fail;
        if (want_fail != failed)
            res->pass = false;
    }
    r = 0;
out:
    vf_report_free(rep);
    return r;
}

void pl_result_clear(struct pl_result *res)
{
    if (res->verify_json)
        json_decref((json_t *)res->verify_json);
    res->verify_json = NULL;
}
