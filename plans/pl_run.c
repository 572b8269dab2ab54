/* SPDX-License-Identifier: BSD-3-Clause */
/* The sim runner: simulate the plan (tgen traffic co-simulated with the
 * cluster, or the gateway's own endpoints), judge the capture set with the
 * verify checks, judge the traffic figures and the runner's own checks
 * (policy reach, run hooks, capacity search), then apply expect_fail. Time
 * is virtual; the wall clock is the caller's business. */
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

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

static struct pl_check *add_check(struct pl_result *res, const char *name, bool judged, bool pass)
{
    struct pl_check *c = &res->check[res->nchecks++];

    c->name = name;
    c->judged = judged;
    c->pass = pass;
    return c;
}

#define MSG(c, ...) snprintf((c)->message, sizeof((c)->message), __VA_ARGS__)

double pl_capacity_model(const struct gw_config *c, enum pl_ramp_kind kind, double work_ns_per_conn)
{
    if (kind == PL_RAMP_CONCURRENT)
        return (double)c->nmembers * c->max_conns / ((c->faults & GW_FAULT_NO_SYNC) ? 1 : 2);
    if (!(work_ns_per_conn > 0))
        return 0;
    double hb = c->heartbeat_ns ? 1e9 / (double)c->heartbeat_ns * c->cost.ns_per_pkt : 0;
    return (double)c->nmembers * ((double)c->cost.cores * 1e9 - hb) / work_ns_per_conn;
}

/* ---------------------------------------------------------------- ramps */

/* One trial of the capacity search at load x; true when the cluster
 * carried it cleanly (every flow completed, no drop of any kind, no RST). */
static int trial(const struct pl_plan *p, double x, struct pl_cosim_result *co, bool *clean,
                 struct bt_err *e)
{
    struct tg_profile prof = *p->prof;
    int r;

    if (p->ramp.kind == PL_RAMP_CPS) {
        prof.cps = x;
        prof.cps_mult = 1;
        prof.flows = 0;
        prof.duration_ns = p->ramp.trial_ns;
    } else {
        prof.flows = (uint64_t)x;
        prof.duration_ns = 0;
    }
    /* every template shares the rate by weight */
    for (unsigned i = 0; i < prof.ntemplates; i++)
        prof.tmpl[i].cps = 0;
    if ((r = pl_cosim_run(p, &prof, NULL, co, e)) < 0)
        return r;
    const struct gw_stats *g = &co->gw;
    if (p->ramp.kind == PL_RAMP_CONCURRENT)   /* the table's capacity: no connection refused */
        *clean = g->drops_full == 0 && g->backups_full == 0 && g->drops_queue == 0 &&
                 co->tg.flows_failed == 0 && co->tg.flows_aborted == 0;
    else
        *clean = !co->overloaded && co->tg.flows_failed == 0 && co->tg.flows_aborted == 0 &&
                 /* expect.rst_pct as a live step honours it (RFC 9411: 0.001 %) */
                 (double)co->tg.rsts_seen * 100 <= pl_step_rst_pct(p) * (double)co->tg.flows_started &&
                 g->drops_queue == 0 && g->drops_full == 0 && g->backups_full == 0 && g->drops_state == 0 &&
                 g->drops_dead == 0;
    return 0;
}

static int ramp(const struct pl_plan *p, struct pl_result *res, struct bt_err *e)
{
    struct pl_cosim_result co;
    double lo = p->ramp.from, hi = p->ramp.to, work = 0;
    bool clean;

    if (p->ramp.kind == PL_RAMP_CONCURRENT) {
        lo = floor(lo);
        hi = floor(hi);
    }
    int r;
    struct pl_check *c;
    const char *what = p->ramp.kind == PL_RAMP_CPS ? "connections/s" : "concurrent connections";

    /* res->co ends up holding the trial at the load found (the last clean
     * one), or the trial that ended the search at either end */
    if ((r = trial(p, lo, &co, &clean, e)) < 0)
        return r;
    res->ramp_trials = 1;
    res->ramp_sim_ns = co.end_ns;
    /* the cost model's work per connection, as charged at the low load */
    work = co.work_ns_per_conn;
    res->ramp_pkts = co.pkts_per_conn;
    res->ramp_sync = co.sync_per_conn;
    res->co = co;
    if (!clean) {
        c = add_check(res, "capacity", true, false);
        MSG(c, "the search's lower end %.0f %s is not carried cleanly (%llu failed flows, %llu RSTs, "
               "drops: %llu queue, %llu table full, %llu out of state, %llu dead member): lower "
               "ramp.from", lo, what, (unsigned long long)co.tg.flows_failed,
            (unsigned long long)co.tg.rsts_seen, (unsigned long long)co.gw.drops_queue,
            (unsigned long long)co.gw.drops_full, (unsigned long long)co.gw.drops_state,
            (unsigned long long)co.gw.drops_dead);
        return 0;
    }
    if ((r = trial(p, hi, &co, &clean, e)) < 0)
        return r;
    res->ramp_trials++;
    res->ramp_sim_ns += co.end_ns;
    if (clean) {
        res->co = co;
        c = add_check(res, "capacity", true, false);
        MSG(c, "the search's upper end %.0f %s is still carried cleanly: raise ramp.to", hi, what);
        return 0;
    }
    /* find: concurrent runs whole connection counts: integer midpoints,
     * down to a bracket of one, the count found one a trial ran */
    bool whole = p->ramp.kind == PL_RAMP_CONCURRENT;
    for (unsigned i = 0; i < p->ramp.trials; i++) {
        if (whole && hi - lo <= 1)
            break;
        double mid = whole ? floor((lo + hi) / 2) : (lo + hi) / 2;
        if ((r = trial(p, mid, &co, &clean, e)) < 0)
            return r;
        res->ramp_trials++;
        res->ramp_sim_ns += co.end_ns;
        if (clean) {
            lo = mid;
            res->co = co;
        } else
            hi = mid;
    }
    res->ramp_found = lo;
    res->ramp_model = pl_capacity_model(&p->sim.cluster, p->ramp.kind, work);
    double dev = res->ramp_model > 0 ? fabs(lo - res->ramp_model) * 100 / res->ramp_model : 100;
    c = add_check(res, "capacity", true, dev <= p->ramp.tolerance_pct);
    if (p->ramp.kind == PL_RAMP_CPS)
        MSG(c, "expected the configured capacity %.0f %s (%u members x %u cores / %.0f ns of work "
               "a connection: %.1f packets x %u ns + %u ns setup + %.1f sync records x %u ns) within "
               "%.1f%%; found %.0f (%.2f%% off, %u trials, bracket %.0f..%.0f)",
            res->ramp_model, what, p->sim.cluster.nmembers, p->sim.cluster.cost.cores, work,
            res->ramp_pkts, p->sim.cluster.cost.ns_per_pkt, p->sim.cluster.cost.ns_per_setup,
            res->ramp_sync, p->sim.cluster.cost.ns_per_sync, p->ramp.tolerance_pct, lo, dev,
            res->ramp_trials, lo, hi);
    else
        MSG(c, "expected the configured capacity %.0f %s (%u members x max_conns %u%s) within "
               "%.1f%%; found %.0f (%.2f%% off, %u trials, bracket %.0f..%.0f)",
            res->ramp_model, what, p->sim.cluster.nmembers, p->sim.cluster.max_conns,
            (p->sim.cluster.faults & GW_FAULT_NO_SYNC) ? "" : " / 2 with HyperSync",
            p->ramp.tolerance_pct, lo, dev, res->ramp_trials, lo, hi);
    return 0;
}

/* ---------------------------------------------------------------- checks */

void pl_verify_checks(const struct vf_report *rep, struct pl_result *res)
{
    for (unsigned k = 0; k < VF_NCHECKS; k++) {
        const char *msg = NULL;
        bool pass = true;
        bool judged = vf_report_check(rep, vf_check_names[k], &pass, &msg) == 1;
        struct pl_check *c = add_check(res, vf_check_names[k], judged, pass);
        MSG(c, "%s", msg ? msg : "");
    }
}

void pl_tgen_checks(const struct pl_plan *p, struct pl_result *res)
{
    const struct tg_summary *t = &res->co.tg;
    const struct pl_cosim_result *co = &res->co;
    struct pl_check *c;

    if (p->max_failed_flows >= 0) {
        /* a flow still unfinished when the run ended (aborted) did not
         * complete either: with a policy dropping everything, every flow
         * is stuck in retransmissions at the end, and none "failed" yet */
        uint64_t bad = t->flows_failed + t->flows_aborted;
        c = add_check(res, "failed_flows", true, (double)bad <= p->max_failed_flows);
        MSG(c, "flows that did not complete: expected at most %.0f, saw %llu of %llu started "
               "(%llu failed, %llu still unfinished when the run ended; %llu completed)",
            p->max_failed_flows, (unsigned long long)bad, (unsigned long long)t->flows_started,
            (unsigned long long)t->flows_failed, (unsigned long long)t->flows_aborted,
            (unsigned long long)t->flows_completed);
    }
    if (p->min_cps >= 0) {
        c = add_check(res, "cps", true, t->completed_cps >= p->min_cps);
        MSG(c, "connections per second: expected at least %.0f completed/s, saw %.1f (%.1f started/s)",
            p->min_cps, t->completed_cps, t->cps);
    }
    if (p->max_rst_pct >= 0) {
        double pct = t->flows_started ? (double)t->rsts_seen * 100 / (double)t->flows_started : 0;
        c = add_check(res, "rsts", true, pct <= p->max_rst_pct);
        MSG(c, "unexpected RSTs: expected at most %g%% of flows (RFC 9411: 0.001%%), saw %.4f%% "
               "(%llu in %llu flows)", p->max_rst_pct, pct, (unsigned long long)t->rsts_seen,
            (unsigned long long)t->flows_started);
    }
    if (p->max_latency_p99_ns) {
        bool judged = t->lat_samples > 0;
        c = add_check(res, "latency", judged, t->lat_p99_ns <= p->max_latency_p99_ns);
        if (judged)
            MSG(c, "latency through the cluster: expected p99 at most %.3f ms, saw p99 %.3f ms "
                   "(p50 %.3f, max %.3f, %llu samples)", p->max_latency_p99_ns / 1e6,
                t->lat_p99_ns / 1e6, t->lat_p50_ns / 1e6, t->lat_max_ns / 1e6,
                (unsigned long long)t->lat_samples);
        else
            MSG(c, "not judged: no latency sample (closed loop measures it)");
    }
    if (co->policy_installs) {
        /* (a refused policy install stops the run: bad plan, exit 2) */
        c = add_check(res, "policy", true, co->policy_stale == 0);
        MSG(c, "policy: expected every live member (joined ones too) on version %u, %u of %u are "
               "not (%u installs)", co->policy_version, co->policy_stale, co->members,
            co->policy_installs);
    }
    if (co->runs) {
        c = add_check(res, "run", true, co->runs_failed == 0 && co->runs_timeout == 0);
        MSG(c, "run hooks: expected each to finish in its timeout (and with its status when given): "
               "%s", co->run_report);
    }
}

static void legacy_checks(const struct pl_plan *p, struct pl_result *res)
{
    if (p->max_failed_flows >= 0) {
        struct pl_check *c = add_check(res, "failed_flows", true,
                                       (double)res->sim.flows_failed <= p->max_failed_flows);
        MSG(c, "failed conversations: expected at most %.0f, saw %llu of %llu", p->max_failed_flows,
            (unsigned long long)res->sim.flows_failed, (unsigned long long)res->sim.flows);
    }
}

static json_t *legacy_json(const struct gw_sim_result *s)
{
    json_t *tg = json_object();

    json_object_set_new(tg, "flows", json_integer((json_int_t)s->flows));
    json_object_set_new(tg, "flows_completed", json_integer((json_int_t)s->flows_completed));
    json_object_set_new(tg, "flows_failed", json_integer((json_int_t)s->flows_failed));
    json_object_set_new(tg, "retransmits", json_integer((json_int_t)s->retransmits));
    return tg;
}

static double wall_now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

int pl_run_sim(const struct pl_plan *p, const char *out, struct pl_result *res, struct bt_err *e)
{
    double t0 = wall_now();
    struct vf_input in;
    struct vf_report *rep = NULL;
    int r;

    memset(res, 0, sizeof(*res));
    if (p->ramp.kind != PL_RAMP_NONE) {
        /* the search's trials write nothing; the verdict is the capacity */
        if ((r = ramp(p, res, e)) < 0)
            goto out;
        res->sim_wall_s = wall_now() - t0;   /* no capture set, no checks: all simulation */
        res->tgen_json = tg_summary_json(&res->co.tg);
        goto verdict;
    }
    if (p->tgen) {
        if ((r = pl_cosim_run(p, p->prof, out, &res->co, e)) < 0)
            goto out;
        res->tgen_json = tg_summary_json(&res->co.tg);
    } else {
        struct gw_sim_opts o = p->sim;
        o.out = out;
        if ((r = gw_sim_run(&o, &res->sim, e)) < 0) {
            /* the sim's timeline is the plan's events, one for one */
            unsigned k = res->sim.refused_event;
            if (k >= 1 && k <= p->nevents) {
                char msg[sizeof(e->msg)];
                snprintf(msg, sizeof(msg), "%s:%u:%u: %s", p->file, p->ev[k - 1].line,
                         p->ev[k - 1].col, e->msg);
                memcpy(e->msg, msg, sizeof(msg));
            } else {
                bt_err_prefix(e, p->file);
            }
            goto out;
        }
        res->tgen_json = legacy_json(&res->sim);
    }
    res->sim_wall_s = wall_now() - t0;
    t0 = wall_now();
    memset(&in, 0, sizeof(in));
    in.capset = out;
    if ((r = vf_check(&in, &p->th, &rep, e)) < 0)
        goto out;
    res->verify_wall_s = wall_now() - t0;
    res->verify_json = vf_report_json(rep);
    pl_verify_checks(rep, res);
    if (p->tgen)
        pl_tgen_checks(p, res);
    else
        legacy_checks(p, res);
verdict:
    pl_verdict(p, res);
    r = 0;
out:
    vf_report_free(rep);
    return r;
}

void pl_verdict(const struct pl_plan *p, struct pl_result *res)
{
    /* A plan passes when exactly the checks named in expect_fail fail; a
     * named check that was never judged fails the plan too. */
    res->pass = true;
    for (unsigned k = 0; k < p->nexpect_fail; k++) {
        bool seen = false;
        for (unsigned j = 0; j < res->nchecks; j++)
            seen |= !strcmp(res->check[j].name, p->expect_fail[k]);
        if (!seen && res->nchecks < PL_MAX_CHECKS) {
            struct pl_check *c = add_check(res, p->expect_fail[k], false, true);
            MSG(c, "not judged by this plan (nothing it does measures it)");
        }
    }
    for (unsigned k = 0; k < res->nchecks; k++) {
        bool want_fail = expected_to_fail(p, res->check[k].name);
        bool failed = res->check[k].judged && !res->check[k].pass;
        res->check[k].expected_fail = want_fail;
        if (want_fail != failed)
            res->pass = false;
    }
}

void pl_result_clear(struct pl_result *res)
{
    if (res->verify_json)
        json_decref((json_t *)res->verify_json);
    if (res->tgen_json)
        json_decref((json_t *)res->tgen_json);
    if (res->ramp_json)
        json_decref((json_t *)res->ramp_json);
    res->verify_json = res->tgen_json = res->ramp_json = NULL;
}
