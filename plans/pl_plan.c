/* SPDX-License-Identifier: BSD-3-Clause */
/* The plan loader (docs/plans.md). Every field is checked; errors carry
 * file:line:col and the field, and unknown fields are errors. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "bt_capset.h"
#include "bt_dist.h"
#include "bt_err.h"
#include "bt_yaml.h"
#include "pl_api.h"

struct pl_plan_priv {
    struct pl_plan p;
    struct bt_ydoc *doc;           /* expect_fail names point into it */
};

/* The cluster section belongs to the gateway's loader (docs/formats.md);
 * the plan's seed is the cluster's unless the cluster names its own. */
static int load_cluster(const struct bt_ydoc *d, const struct bt_ynode *c, struct pl_plan *p,
                        struct bt_err *e)
{
    int r;

    if ((r = gw_config_load(d, c, &p->sim.cluster, e)) < 0)
        return r;
    if (!bt_y_get(c, "seed"))
        p->sim.cluster.seed = p->seed;
    return 0;
}

/* A tgen profile, inline (`templates:` and the other keys of docs/tgen.md)
 * or by path (`profile: PATH`, relative to the plan's directory). Plans run
 * closed loop with a large packet pool unless the profile says otherwise. */
static int load_profile(const struct bt_ydoc *d, const struct bt_ynode *t, struct pl_plan *p,
                        struct bt_err *e)
{
    const struct bt_ynode *pf = bt_y_get(t, "profile");
    int r;

    if (!(p->prof = malloc(sizeof(*p->prof))))
        return bt_err_setr(e, -ENOMEM, "out of memory");
    tg_profile_default(p->prof);
    p->prof->mode = TG_MODE_CLOSED;
    p->prof->pool_pkts = 1u << 16;
    p->tgen = true;
    p->max_rst_pct = 0.001;        /* RFC 9411: unexpected RSTs under 0.001 % */
    if (!pf)
        return tg_profile_load(d, t, p->prof, e);
    const char *path;
    char buf[4096];
    if (t->n != 1)
        return bt_y_error(d, t->keynodes[pf == t->items[0] ? 1 : 0], e,
                          "traffic: with 'profile: PATH' give no other field (put them in the profile)");
    if ((r = bt_y_str(d, pf, "traffic.profile", &path, e)) < 0)
        return r;
    if (path[0] == '/' || !strchr(d->path, '/')) {
        snprintf(buf, sizeof(buf), "%s", path);
    } else {
        int dl = (int)(strrchr(d->path, '/') - d->path);
        snprintf(buf, sizeof(buf), "%.*s/%s", dl, d->path, path);
    }
    if (access(buf, R_OK) < 0)
        return bt_y_error(d, pf, e, "traffic.profile: cannot read '%s': %s", buf, strerror(errno));
    if (!(p->live.profile_path = strdup(buf)))     /* --live hands it to baton-tgen */
        return bt_err_setr(e, -ENOMEM, "out of memory");
    return tg_profile_load_file(buf, p->prof, e);
}

static int load_traffic(const struct bt_ydoc *d, const struct bt_ynode *t, struct pl_plan *p,
                        struct bt_err *e)
{
    static const char *const keys[] = {"flows", "cps", "exchanges", "interval", "rto",
                                       "server_delay", "request_bytes", "response_bytes", NULL};
    struct gw_sim_opts *o = &p->sim;
    const struct bt_ynode *n;
    int64_t v;
    int r;

    if (t->kind == BT_Y_MAP && (bt_y_get(t, "templates") || bt_y_get(t, "profile")))
        return load_profile(d, t, p, e);
    if ((r = bt_y_check_keys(d, t, "traffic", keys, e)) < 0) {
        size_t l = strlen(e->msg);
        snprintf(e->msg + l, sizeof(e->msg) - l, "; a tgen profile needs templates: or profile:");
        return r;
    }
    if ((n = bt_y_get(t, "flows")) && (r = bt_y_whole(d, n, "traffic.flows", 1, 1e7, &o->flows, e)) < 0)
        return r;
    if ((n = bt_y_get(t, "cps")) && (r = bt_y_quantity(d, n, "traffic.cps", 1, 1e8, &o->cps, e)) < 0)
        return r;
    if ((n = bt_y_get(t, "exchanges"))) {
        if ((r = bt_y_int(d, n, "traffic.exchanges", 1, 100000, &v, e)) < 0)
            return r;
        o->exchanges = (unsigned)v;
    }
    if ((n = bt_y_get(t, "interval")) && (r = bt_y_duration_ns(d, n, "traffic.interval", &o->interval_ns, e)) < 0)
        return r;
    if ((n = bt_y_get(t, "rto")) && (r = bt_y_duration_ns(d, n, "traffic.rto", &o->rto_ns, e)) < 0)
        return r;
    if ((n = bt_y_get(t, "server_delay")) &&
        (r = bt_y_duration_ns(d, n, "traffic.server_delay", &o->server_delay_ns, e)) < 0)
        return r;
    if ((n = bt_y_get(t, "request_bytes"))) {
        if ((r = bt_y_int(d, n, "traffic.request_bytes", 1, 1400, &v, e)) < 0)
            return r;
        o->req_bytes = (unsigned)v;
    }
    if ((n = bt_y_get(t, "response_bytes"))) {
        if ((r = bt_y_int(d, n, "traffic.response_bytes", 1, 1400, &v, e)) < 0)
            return r;
        o->resp_bytes = (unsigned)v;
    }
    return 0;
}

/* Fills the gateway sim driver's timeline from the plan's (the
 * gateway-endpoint path takes fail, restore, add and weight only). */
static int legacy_timeline(const struct bt_ydoc *d, const struct bt_ynode *ev, struct pl_plan *p,
                           struct bt_err *e)
{
    static const int kinds[] = {BT_EV_SGM_DOWN, BT_EV_SGM_UP, BT_EV_SGM_JOIN, BT_EV_WEIGHT};

    if (p->nevents > GW_SIM_MAX_FAILS)
        return bt_y_error(d, ev, e, "events: at most %d events with this traffic (a tgen profile takes %d)",
                          GW_SIM_MAX_FAILS, PL_MAX_EVENTS);
    for (unsigned k = 0; k < p->nevents; k++) {
        const struct pl_event *x = &p->ev[k];
        if (x->kind == PL_EV_POLICY || x->kind == PL_EV_RUN)
            return bt_y_error(d, ev->items[k], e,
                              "events: '%s' needs tgen traffic (traffic: with templates: or profile:); "
                              "the gateway's built-in endpoints take fail, restore, add, set_weight",
                              x->kind == PL_EV_POLICY ? "policy" : "run");
        p->sim.fail_ns[k] = x->at_ns;
        p->sim.fail_kind[k] = kinds[x->kind];
        p->sim.fail_sgm[k] = x->sgm;
        p->sim.fail_weight[k] = x->weight;
    }
    p->sim.nfails = p->nevents;
    return 0;
}

static int load_run(const struct bt_ydoc *d, const struct bt_ynode *it, const struct bt_ynode *run,
                    struct pl_event *x, struct bt_err *e)
{
    const struct bt_ynode *n;
    const char *s;
    int64_t v;
    int r;

    if ((r = bt_y_str(d, run, "events.run", &s, e)) < 0)
        return r;
    if (!*s)
        return bt_y_error(d, run, e, "events.run: an empty command");
    if (!(x->cmd = strdup(s)))
        return bt_err_setr(e, -ENOMEM, "out of memory");
    x->kind = PL_EV_RUN;
    x->timeout_ns = 10000000000ULL;
    x->want_status = -1;
    if ((n = bt_y_get(it, "timeout"))) {
        if ((r = bt_y_duration_ns(d, n, "events.timeout", &x->timeout_ns, e)) < 0)
            return r;
        if (x->timeout_ns < 1000000ULL || x->timeout_ns > 3600000000000ULL)
            return bt_y_error(d, n, e, "events.timeout: give 1ms..1h");
    }
    if ((n = bt_y_get(it, "status"))) {
        if ((r = bt_y_int(d, n, "events.status", 0, 255, &v, e)) < 0)
            return r;
        x->want_status = (int)v;
    }
    return 0;
}

static int load_events(const struct bt_ydoc *d, const struct bt_ynode *ev, struct pl_plan *p,
                       struct bt_err *e)
{
    static const char *const keys[] = {"at", "fail", "restore", "add", "set_weight", "weight",
                                       "policy", "run", "timeout", "status", NULL};
    static const char *const acts[] = {"fail", "restore", "add", "set_weight", "policy", "run"};
    const struct bt_ynode *n, *w;
    int64_t v, wv = 100;
    int r;
    unsigned members = p->sim.cluster.nmembers;
    uint64_t last = 0;
    /* each member's state along the timeline, as the cluster will see it
     * (only fail takes a member down, only restore brings it back), so an
     * event it would refuse is a bad plan before anything runs */
    bool down[GW_MAX_MEMBERS + 1] = {false};

    if (ev->kind != BT_Y_SEQ)
        return bt_y_error(d, ev, e, "events: expected a list");
    if (ev->n > PL_MAX_EVENTS)
        return bt_y_error(d, ev, e, "events: at most %d events", PL_MAX_EVENTS);
    for (unsigned i = 0; i < ev->n; i++) {
        const struct bt_ynode *it = ev->items[i], *act[6];
        struct pl_event *x = &p->ev[p->nevents];
        unsigned nact = 0, which = 0;
        if ((r = bt_y_check_keys(d, it, "an event", keys, e)) < 0)
            return r;
        if (!(n = bt_y_get(it, "at")))
            return bt_y_error(d, it, e, "events: an event needs 'at'");
        if ((r = bt_y_duration_ns(d, n, "events.at", &x->at_ns, e)) < 0)
            return r;
        if (x->at_ns < last)
            return bt_y_error(d, n, e, "events.at: events go in time order (this one is before the one above)");
        last = x->at_ns;
        x->line = it->line;
        x->col = it->col;
        for (unsigned k = 0; k < 6; k++)
            if ((act[k] = bt_y_get(it, acts[k]))) {
                nact++;
                which = k;
            }
        w = bt_y_get(it, "weight");
        if (nact != 1)
            return bt_y_error(d, it, e,
                              "events: an event needs exactly one action ('fail: MEMBER', "
                              "'restore: MEMBER', 'add: MEMBER' [weight: W], "
                              "'set_weight: MEMBER' weight: W, 'policy: {rules...}', 'run: COMMAND')");
        if (w && which != 2 && which != 3)
            return bt_y_error(d, w, e, "events.weight: goes with add or set_weight, not %s", acts[which]);
        if ((n = bt_y_get(it, "timeout")) && which != 5)
            return bt_y_error(d, n, e, "events.timeout: goes with run");
        if ((n = bt_y_get(it, "status")) && which != 5)
            return bt_y_error(d, n, e, "events.status: goes with run");
        if (w && (r = bt_y_int(d, w, "events.weight", 0, 512, &wv, e)) < 0)
            return r;
        switch (which) {
        case 0:
            if ((r = bt_y_int(d, act[0], "events.fail", 1, members, &v, e)) < 0)
                return r;
            if (down[v])
                return bt_y_error(d, act[0], e, "events.fail: member %d is already down here "
                                  "(failed above, not restored)", (int)v);
            down[v] = true;
            x->kind = PL_EV_FAIL;
            x->sgm = (int)v;
            break;
        case 1:
            if ((r = bt_y_int(d, act[1], "events.restore", 1, members, &v, e)) < 0)
                return r;
            if (!down[v])
                return bt_y_error(d, act[1], e, "events.restore: member %d is up here (restore "
                                  "brings back a member failed above)", (int)v);
            down[v] = false;
            x->kind = PL_EV_RESTORE;
            x->sgm = (int)v;
            break;
        case 2:
            /* members join in order: the next id */
            if (members >= GW_MAX_MEMBERS)
                return bt_y_error(d, act[2], e, "events.add: the group has %d members here, the "
                                  "most it can have", GW_MAX_MEMBERS);
            if ((r = bt_y_int(d, act[2], "events.add", members + 1, members + 1, &v, e)) < 0)
                return r;
            members++;
            x->kind = PL_EV_ADD;
            x->sgm = (int)v;
            x->weight = (unsigned)(w ? wv : 100);
            break;
        case 3:
            if (!w)
                return bt_y_error(d, it, e, "events: set_weight needs 'weight: W'");
            if ((r = bt_y_int(d, act[3], "events.set_weight", 1, members, &v, e)) < 0)
                return r;
            x->kind = PL_EV_WEIGHT;
            x->sgm = (int)v;
            x->weight = (unsigned)wv;
            break;
        case 4:
            if (!(x->policy = malloc(sizeof(*x->policy))))
                return bt_err_setr(e, -ENOMEM, "out of memory");
            gw_policy_default(x->policy);
            x->kind = PL_EV_POLICY;
            if ((r = gw_policy_load(d, act[4], x->policy, e)) < 0)
                return r;
            break;
        default:
            if ((r = load_run(d, it, act[5], x, e)) < 0)
                return r;
            break;
        }
        p->nevents++;
    }
    return p->tgen ? 0 : legacy_timeline(d, ev, p, e);
}

const char *const pl_check_names[] = {
    VF_CHECK_AFFINITY, VF_CHECK_SYMMETRY, VF_CHECK_FAILOVER, VF_CHECK_BALANCE, VF_CHECK_LOSS,
    "failed_flows", "cps", "rsts", "latency", "policy", "run", "capacity",
};
const unsigned pl_ncheck_names = sizeof(pl_check_names) / sizeof(pl_check_names[0]);

static int need_tgen(const struct bt_ydoc *d, const struct bt_ynode *n, const struct pl_plan *p,
                     const char *field, struct bt_err *e)
{
    if (p->tgen)
        return 0;
    return bt_y_error(d, n, e, "%s: %s: needs tgen traffic (traffic: with templates: or "
                               "profile:)", field,
                      !strncmp(field, "expect.", 7) ? "a tgen figure"
                                                    : "a setting of the co-simulation with tgen");
}

static int load_expect(const struct bt_ydoc *d, const struct bt_ynode *x, struct pl_plan *p,
                       struct bt_err *e)
{
    static const char *const mine[] = {"failed_flows", "cps", "rst_pct", "latency_p99", NULL};
    const struct bt_ynode *n;
    int r;

    /* a ramp judges its capacity alone (and rst_pct: the RSTs a step may
     * see); a threshold it would not judge is refused, not ignored (found
     * in review: `latency_p99: 1ns` passed) */
    if (p->ramp.kind != PL_RAMP_NONE && x && x->kind == BT_Y_MAP)
        for (unsigned i = 0; i < x->n; i++)
            if (strcmp(x->keys[i], "rst_pct") != 0)
                return bt_y_error(d, x->keynodes[i], e,
                                  "expect.%s: a ramp: judges its capacity alone (and expect.rst_pct, "
                                  "the RSTs a step may see), so this would not be judged; give it in a "
                                  "plan without a ramp", x->keys[i]);
    if ((r = vf_thresholds_load(d, x, mine, &p->th, e)) < 0)
        return r;
    if (p->no_links && (n = bt_y_get(x, "loss_pct")))
        return bt_y_error(d, n, e, "expect.loss_pct: loss is judged from the link captures, which "
                                   "sim.links: false leaves out");
    if ((n = bt_y_get(x, "failed_flows")) &&
        (r = bt_y_quantity(d, n, "expect.failed_flows", 0, 1e12, &p->max_failed_flows, e)) < 0)
        return r;
    if ((n = bt_y_get(x, "cps")) &&
        ((r = need_tgen(d, n, p, "expect.cps", e)) < 0 ||
         (r = bt_y_quantity(d, n, "expect.cps", 0, 1e10, &p->min_cps, e)) < 0))
        return r;
    if ((n = bt_y_get(x, "rst_pct")) &&
        ((r = need_tgen(d, n, p, "expect.rst_pct", e)) < 0 ||
         (r = bt_y_double(d, n, "expect.rst_pct", 0, 100, &p->max_rst_pct, e)) < 0))
        return r;
    if ((n = bt_y_get(x, "latency_p99")) &&
        ((r = need_tgen(d, n, p, "expect.latency_p99", e)) < 0 ||
         (r = bt_y_duration_ns(d, n, "expect.latency_p99", &p->max_latency_p99_ns, e)) < 0))
        return r;
    if (n && p->max_latency_p99_ns == 0)
        return bt_y_error(d, n, e, "expect.latency_p99: give a duration > 0");
    return 0;
}

/* A check named in expect_fail that the plan's own fields leave unjudged
 * can never fail, so the plan could never pass: say so at load time. Only
 * checks whose judging the plan decides alone (thresholds, a ramp, a run
 * hook); verify's checks depend on the capture set. */
static int expect_fail_judged(const struct bt_ydoc *d, const struct bt_ynode *x,
                              const struct pl_plan *p, struct bt_err *e)
{
    for (unsigned i = 0; i < x->n; i++) {
        const char *s = x->items[i]->str, *need = NULL;
        bool runs = false, policies = false;
        if (p->ramp.kind != PL_RAMP_NONE && strcmp(s, "capacity") != 0)
            return bt_y_error(d, x->items[i], e,
                              "expect_fail: '%s' is not judged by a plan with a ramp: (only capacity is), "
                              "so it could never fail", s);
        for (unsigned k = 0; k < p->nevents; k++) {
            runs |= p->ev[k].kind == PL_EV_RUN;
            policies |= p->ev[k].kind == PL_EV_POLICY;
        }
        if (!strcmp(s, "latency") && p->max_latency_p99_ns == 0)
            need = "expect.latency_p99";
        else if (!strcmp(s, "cps") && p->min_cps < 0)
            need = "expect.cps";
        else if (!strcmp(s, "failed_flows") && p->max_failed_flows < 0)
            need = "expect.failed_flows";
        else if (!strcmp(s, "capacity") && p->ramp.kind == PL_RAMP_NONE)
            need = "a ramp: section";
        else if (!strcmp(s, "run") && !runs)
            need = "a run: event";
        else if (!strcmp(s, "policy") && !policies)
            need = "a policy event";
        else if (!strcmp(s, "rsts") && !p->tgen)
            need = "tgen traffic";
        else if (!strcmp(s, "loss") && p->th.max_loss_pct < 0)  /* (with links off it is refused) */
            need = "expect.loss_pct";
        if (need)
            return bt_y_error(d, x->items[i], e,
                              "expect_fail: '%s' is not judged by this plan (it needs %s), so it "
                              "could never fail", s, need);
    }
    return 0;
}

static int load_expect_fail(const struct bt_ydoc *d, const struct bt_ynode *x, struct pl_plan *p,
                            struct bt_err *e)
{
    char list[256] = "";
    const char *s;
    int r;

    for (unsigned k = 0; k < pl_ncheck_names; k++)
        snprintf(list + strlen(list), sizeof(list) - strlen(list), "%s%s", k ? ", " : "",
                 pl_check_names[k]);
    if (x->kind != BT_Y_SEQ || x->n == 0 || x->n > PL_MAX_EXPECT_FAIL)
        return bt_y_error(d, x, e, "expect_fail: expected a list of 1..%d check names (%s)",
                          PL_MAX_EXPECT_FAIL, list);
    for (unsigned i = 0; i < x->n; i++) {
        bool known = false;
        if ((r = bt_y_str(d, x->items[i], "expect_fail", &s, e)) < 0)
            return r;
        for (unsigned k = 0; k < pl_ncheck_names; k++)
            known |= !strcmp(s, pl_check_names[k]);
        if (!known)
            return bt_y_error(d, x->items[i], e, "expect_fail: '%s' is not a check (%s)", s, list);
        for (unsigned k = 0; k < p->nexpect_fail; k++)
            if (!strcmp(p->expect_fail[k], s))
                return bt_y_error(d, x->items[i], e, "expect_fail: '%s' named twice", s);
        p->expect_fail[p->nexpect_fail++] = s;
    }
    return 0;
}

/* `sim:` the co-simulation's own settings. */
static int load_simsec(const struct bt_ydoc *d, const struct bt_ynode *x, struct pl_plan *p,
                       struct bt_err *e)
{
    static const char *const keys[] = {"link_delay", "duration", "snaplen", "links", NULL};
    const struct bt_ynode *n;
    int r;

    if ((r = bt_y_check_keys(d, x, "sim", keys, e)) < 0)
        return r;
    if ((n = bt_y_get(x, "link_delay")) &&
        ((r = need_tgen(d, n, p, "sim.link_delay", e)) < 0 ||
         (r = bt_y_duration_ns(d, n, "sim.link_delay", &p->link_delay_ns, e)) < 0))
        return r;
    if (n && p->link_delay_ns > 1000000000ULL)
        return bt_y_error(d, n, e, "sim.link_delay: at most 1s");
    if ((n = bt_y_get(x, "duration")) &&
        ((r = need_tgen(d, n, p, "sim.duration", e)) < 0 ||
         (r = bt_y_duration_ns(d, n, "sim.duration", &p->max_sim_ns, e)) < 0))
        return r;
    if (n && p->max_sim_ns == 0)
        return bt_y_error(d, n, e, "sim.duration: give a duration > 0");
    if ((n = bt_y_get(x, "snaplen"))) {
        int64_t v;
        /* verify needs the headers: Ethernet + VLAN + IPv6 + TCP with options */
        if ((r = need_tgen(d, n, p, "sim.snaplen", e)) < 0 ||
            (r = bt_y_int(d, n, "sim.snaplen", 128, 65535, &v, e)) < 0)
            return r;
        p->snaplen = (uint32_t)v;
    }
    if ((n = bt_y_get(x, "links"))) {
        bool on;
        if ((r = need_tgen(d, n, p, "sim.links", e)) < 0 || (r = bt_y_bool(d, n, "sim.links", &on, e)) < 0)
            return r;
        p->no_links = !on;
    }
    return 0;
}

/* `ramp:` RFC 9411 7.2 (find: cps) and 7.5 (find: concurrent). */
static int load_ramp(const struct bt_ydoc *d, const struct bt_ynode *x, struct pl_plan *p,
                     struct bt_err *e)
{
    static const char *const keys[] = {"find", "from", "to", "trial", "steps", "tolerance", NULL};
    struct pl_ramp *m = &p->ramp;
    const struct bt_ynode *n;
    const char *s;
    int64_t v;
    int r;

    if ((r = bt_y_check_keys(d, x, "ramp", keys, e)) < 0 || (r = need_tgen(d, x, p, "ramp", e)) < 0)
        return r;
    if (p->nevents)
        return bt_y_error(d, x, e, "ramp: a capacity search runs the traffic alone; give no events");
    if (!(n = bt_y_get(x, "find")))
        return bt_y_error(d, x, e, "ramp: needs 'find: cps' (RFC 9411 7.2) or 'find: concurrent' (7.5)");
    if ((r = bt_y_str(d, n, "ramp.find", &s, e)) < 0)
        return r;
    if (!strcmp(s, "cps"))
        m->kind = PL_RAMP_CPS;
    else if (!strcmp(s, "concurrent"))
        m->kind = PL_RAMP_CONCURRENT;
    else
        return bt_y_error(d, n, e, "ramp.find: '%s' is neither cps nor concurrent", s);
    if (!(n = bt_y_get(x, "from")) || (r = bt_y_quantity(d, n, "ramp.from", 1, 1e9, &m->from, e)) < 0)
        return n ? r : bt_y_error(d, x, e, "ramp: needs 'from: LOAD' (below the capacity)");
    if (!(n = bt_y_get(x, "to")) || (r = bt_y_quantity(d, n, "ramp.to", 1, 1e9, &m->to, e)) < 0)
        return n ? r : bt_y_error(d, x, e, "ramp: needs 'to: LOAD' (above the capacity)");
    if (m->to <= m->from)
        return bt_y_error(d, n, e, "ramp.to: must be above ramp.from (%g)", m->from);
    m->trial_ns = 500000000ULL;
    if ((n = bt_y_get(x, "trial")) && (r = bt_y_duration_ns(d, n, "ramp.trial", &m->trial_ns, e)) < 0)
        return r;
    if (n && (m->trial_ns < 1000000ULL || m->trial_ns > 60000000000ULL))
        return bt_y_error(d, n, e, "ramp.trial: give 1ms..60s");
    m->trials = 8;
    if ((n = bt_y_get(x, "steps"))) {
        if ((r = bt_y_int(d, n, "ramp.steps", 1, 30, &v, e)) < 0)
            return r;
        m->trials = (unsigned)v;
    }
    m->tolerance_pct = 5;
    if ((n = bt_y_get(x, "tolerance")) &&
        (r = bt_y_double(d, n, "ramp.tolerance", 0.01, 100, &m->tolerance_pct, e)) < 0)
        return r;
    return 0;
}

/* A path of the live: section, relative to the plan's directory. */
static int live_path(const struct bt_ydoc *d, const struct bt_ynode *n, const char *field, char **out,
                     struct bt_err *e)
{
    const char *s;
    char buf[4096];
    int r;

    if ((r = bt_y_str(d, n, field, &s, e)) < 0)
        return r;
    if (!*s)
        return bt_y_error(d, n, e, "%s: an empty path", field);
    if (s[0] == '/' || !strchr(d->path, '/'))
        snprintf(buf, sizeof(buf), "%s", s);
    else
        snprintf(buf, sizeof(buf), "%.*s/%s", (int)(strrchr(d->path, '/') - d->path), d->path, s);
    if (access(buf, R_OK) < 0)
        return bt_y_error(d, n, e, "%s: cannot read '%s': %s", field, buf, strerror(errno));
    if (!(*out = strdup(buf)))
        return bt_err_setr(e, -ENOMEM, "out of memory");
    return 0;
}

/* Arguments: one string (split at spaces by the runner) or a list of
 * strings without spaces; kept as one string. */
static int live_args(const struct bt_ydoc *d, const struct bt_ynode *n, const char *field, char **out,
                     struct bt_err *e)
{
    const char *s;
    size_t len = 1;
    int r;

    if (n->kind == BT_Y_SCALAR) {
        if ((r = bt_y_str(d, n, field, &s, e)) < 0)
            return r;
        if (!(*out = strdup(s)))
            return bt_err_setr(e, -ENOMEM, "out of memory");
        return 0;
    }
    if (n->kind != BT_Y_SEQ)
        return bt_y_error(d, n, e, "%s: expected a string of arguments or a list of them", field);
    for (unsigned i = 0; i < n->n; i++) {
        if ((r = bt_y_str(d, n->items[i], field, &s, e)) < 0)
            return r;
        if (!*s || strpbrk(s, " \t"))
            return bt_y_error(d, n->items[i], e, "%s: '%s': one argument an item, without spaces",
                              field, s);
        len += strlen(s) + 1;
    }
    if (!(*out = calloc(1, len)))
        return bt_err_setr(e, -ENOMEM, "out of memory");
    for (unsigned i = 0; i < n->n; i++) {
        if (i)
            strcat(*out, " ");
        strcat(*out, n->items[i]->str);
    }
    return 0;
}

/* `live:` the external device --live runs the traffic through. */
static int load_live(const struct bt_ydoc *d, const struct bt_ynode *x, struct pl_plan *p,
                     struct bt_err *e)
{
    static const char *const keys[] = {"client", "server", "eal", "tgen_args", "timeout",
                                       "capset", "sgm", "capacity", NULL};
    struct pl_live *l = &p->live;
    const struct bt_ynode *n;
    const char *s;
    int r;

    if ((r = bt_y_check_keys(d, x, "live", keys, e)) < 0)
        return r;
    l->given = true;
    l->line = x->line;
    l->col = x->col;
    for (unsigned k = 0; k < 2; k++) {
        const char *key = k ? "server" : "client";
        if (!(n = bt_y_get(x, key)))
            continue;
        if ((r = bt_y_str(d, n, k ? "live.server" : "live.client", &s, e)) < 0)
            return r;
        if (!*s || strpbrk(s, " \t"))
            return bt_y_error(d, n, e, "live.%s: '%s': give an interface name, a DPDK vdev "
                                       "(net_...) or a PCI address, without spaces", key, s);
        if (!(*(k ? &l->server : &l->client) = strdup(s)))
            return bt_err_setr(e, -ENOMEM, "out of memory");
    }
    if ((n = bt_y_get(x, "eal")) && (r = live_args(d, n, "live.eal", &l->eal, e)) < 0)
        return r;
    if ((n = bt_y_get(x, "tgen_args")) && (r = live_args(d, n, "live.tgen_args", &l->tgen_args, e)) < 0)
        return r;
    if ((n = bt_y_get(x, "timeout"))) {
        if ((r = bt_y_duration_ns(d, n, "live.timeout", &l->timeout_ns, e)) < 0)
            return r;
        if (l->timeout_ns < 1000000000ULL || l->timeout_ns > 86400000000000ULL)
            return bt_y_error(d, n, e, "live.timeout: give 1s..24h");
    }
    if ((n = bt_y_get(x, "capacity"))) {
        if (p->ramp.kind == PL_RAMP_NONE)
            return bt_y_error(d, n, e, "live.capacity: goes with a ramp: (the capacity the "
                                       "search must find)");
        if ((r = bt_y_quantity(d, n, "live.capacity", 1, 1e9, &l->capacity, e)) < 0)
            return r;
    }
    if ((n = bt_y_get(x, "capset")) && (r = live_path(d, n, "live.capset", &l->capset, e)) < 0)
        return r;
    if ((n = bt_y_get(x, "sgm"))) {
        if (n->kind != BT_Y_MAP || n->n == 0)
            return bt_y_error(d, n, e, "live.sgm: expected a mapping of member id to capture file "
                                       "({1: sgm-1.pcap, 2: sgm-2.pcap})");
        for (unsigned i = 0; i < n->n; i++) {
            int64_t id;
            if ((r = bt_y_int(d, n->keynodes[i], "live.sgm", 1, 64, &id, e)) < 0)
                return r;
            for (unsigned k = 0; k < l->nsgm; k++)
                if (l->sgm_id[k] == (int)id)
                    return bt_y_error(d, n->keynodes[i], e, "live.sgm: member %d named twice", (int)id);
            if ((r = live_path(d, n->items[i], "live.sgm", &l->sgm_path[l->nsgm], e)) < 0)
                return r;
            l->sgm_id[l->nsgm++] = (int)id;
        }
    }
    return 0;
}

/* path names the plan in messages; buf (len bytes) is its text, or NULL
 * to read path. */
static struct pl_plan *plan_load(const char *path, const char *buf, size_t len, struct bt_err *e)
{
    static const char *const keys[] = {"name", "seed", "cluster", "traffic", "sim", "events",
                                       "ramp", "expect", "expect_fail", "live", NULL};
    struct pl_plan_priv *pp = calloc(1, sizeof(*pp));
    struct pl_plan *p = pp ? &pp->p : NULL;
    const struct bt_ynode *root, *n;
    const char *s;
    int64_t v;

    if (!pp) {
        bt_err_set(e, "%s: out of memory", path);
        return NULL;
    }
    gw_sim_opts_default(&p->sim);
    vf_thresholds_default(&p->th);
    p->max_failed_flows = -1;
    p->min_cps = -1;
    p->max_rst_pct = -1;
    p->link_delay_ns = 50000ULL;          /* 50 us each way: a 200 us round trip */
    p->max_sim_ns = 600000000000ULL;      /* 10 virtual minutes */
    p->file = strdup(path);
    if (!(pp->doc = buf ? bt_yaml_load_mem(path, buf, len, e) : bt_yaml_load(path, e)) || !p->file)
        goto bad;
    root = pp->doc->root;
    if (!root) {
        bt_err_set(e, "%s:1:1: empty plan (expected a mapping with name, cluster, traffic, expect)", path);
        goto bad;
    }
    if (bt_y_check_keys(pp->doc, root, "the plan", keys, e) < 0)
        goto bad;
    if (!(n = bt_y_get(root, "name"))) {
        bt_y_error(pp->doc, root, e, "name: a plan needs a name");
        goto bad;
    }
    if (bt_y_str(pp->doc, n, "name", &s, e) < 0)
        goto bad;
    /* the name is the capture set's directory under --out */
    if (!s[0] || strchr(s, '/') || !strcmp(s, ".") || !strcmp(s, "..")) {
        bt_y_error(pp->doc, n, e, "name: '%s' must be a file name (not empty, no '/', not '.' or '..'): "
                   "it names the plan's directory under --out", s);
        goto bad;
    }
    if (strlen(s) > PL_NAME_MAX) {
        bt_y_error(pp->doc, n, e, "name: %zu characters, at most %d (it names the plan's directory "
                   "under --out)", strlen(s), PL_NAME_MAX);
        goto bad;
    }
    if (!(p->name = strdup(s)))
        goto bad;
    if ((n = bt_y_get(root, "seed"))) {
        if (bt_y_int(pp->doc, n, "seed", 0, UINT32_MAX, &v, e) < 0)
            goto bad;
        p->seed = (uint32_t)v;
    }
    p->sim.cluster.seed = p->seed;
    if ((n = bt_y_get(root, "cluster")) && load_cluster(pp->doc, n, p, e) < 0)
        goto bad;
    if ((n = bt_y_get(root, "traffic")) && load_traffic(pp->doc, n, p, e) < 0)
        goto bad;
    p->live.doc = pp->doc;
    p->live.traffic = n;
    if ((n = bt_y_get(root, "sim")) && load_simsec(pp->doc, n, p, e) < 0)
        goto bad;
    if ((n = bt_y_get(root, "events")) && load_events(pp->doc, n, p, e) < 0)
        goto bad;
    if ((n = bt_y_get(root, "ramp")) && load_ramp(pp->doc, n, p, e) < 0)
        goto bad;
    if ((n = bt_y_get(root, "expect")) && load_expect(pp->doc, n, p, e) < 0)
        goto bad;
    /* every conversation completes unless the plan says otherwise: a plan
     * whose traffic all failed must not pass on its other checks alone (a
     * ramp's steps overload on purpose: its capacity check judges them) */
    if (p->max_failed_flows < 0 && p->ramp.kind == PL_RAMP_NONE)
        p->max_failed_flows = 0;
    if ((n = bt_y_get(root, "expect_fail")) && load_expect_fail(pp->doc, n, p, e) < 0)
        goto bad;
    if (n && expect_fail_judged(pp->doc, n, p, e) < 0)
        goto bad;
    if ((n = bt_y_get(root, "live")) && load_live(pp->doc, n, p, e) < 0)
        goto bad;
    return p;
bad:
    pl_plan_free(p);
    return NULL;
}

struct pl_plan *pl_plan_load(const char *path, struct bt_err *e)
{
    return plan_load(path, NULL, 0, e);
}

struct pl_plan *pl_plan_load_mem(const char *name, const char *buf, size_t len, struct bt_err *e)
{
    return plan_load(name, buf ? buf : "", buf ? len : 0, e);
}

struct pl_plan *pl_plan_free(struct pl_plan *p)
{
    struct pl_plan_priv *pp = (struct pl_plan_priv *)p;

    if (!pp)
        return NULL;
    bt_yaml_free(pp->doc);
    for (unsigned k = 0; k < PL_MAX_EVENTS; k++) {
        free(p->ev[k].cmd);
        free(p->ev[k].policy);
    }
    free(p->live.client);
    free(p->live.server);
    free(p->live.eal);
    free(p->live.tgen_args);
    free(p->live.capset);
    free(p->live.profile_path);
    for (unsigned k = 0; k < p->live.nsgm; k++)
        free(p->live.sgm_path[k]);
    free(p->prof);
    free(p->file);
    free(p->name);
    free(pp);
    return NULL;
}

int pl_plan_check_inputs(const struct pl_plan *p, struct bt_err *e)
{
    struct bt_err te = {""};
    struct tg_engine *g;

    if (!p->tgen)
        return 0;
    if (!(g = tg_engine_new(p->prof, p->seed, &te))) {
        /* a template of the plan's own names its place in the plan */
        size_t fl = strlen(p->file);
        tg_profile_template_at(p->prof, &te);
        if (!strncmp(te.msg, p->file, fl) && te.msg[fl] == ':')
            return bt_err_setr(e, -EINVAL, "%s", te.msg);
        /* else where the traffic is (the engine's error names the fields
         * to change; found in review without a position) */
        if (p->live.traffic)
            return bt_err_setr(e, -EINVAL, "%s:%u:%u: traffic: %s", p->file, p->live.traffic->line,
                               p->live.traffic->col, te.msg);
        return bt_err_setr(e, -EINVAL, "%s: traffic: %s", p->file, te.msg);
    }
    tg_engine_free(g);
    return 0;
}
