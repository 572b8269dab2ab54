/* SPDX-License-Identifier: BSD-3-Clause */
/* The plan loader (docs/plans.md). Every field is checked; errors carry
 * file:line:col and the field, and unknown fields are errors. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

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

static int load_traffic(const struct bt_ydoc *d, const struct bt_ynode *t, struct pl_plan *p,
                        struct bt_err *e)
{
    static const char *const keys[] = {"flows", "cps", "exchanges", "interval", "rto",
                                       "server_delay", "request_bytes", "response_bytes", NULL};
    struct gw_sim_opts *o = &p->sim;
    const struct bt_ynode *n;
    double q;
    int64_t v;
    int r;

    if ((r = bt_y_check_keys(d, t, "traffic", keys, e)) < 0)
        return r;
    if ((n = bt_y_get(t, "flows"))) {
        if ((r = bt_y_quantity(d, n, "traffic.flows", 1, 1e7, &q, e)) < 0)
            return r;
        o->flows = (uint64_t)q;
    }
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

static int load_events(const struct bt_ydoc *d, const struct bt_ynode *ev, struct pl_plan *p,
                       struct bt_err *e)
{
    static const char *const keys[] = {"at", "fail", "restore", "add", "set_weight", "weight", NULL};
    const struct bt_ynode *n, *w;
    int64_t v, wv = 100;
    int r;
    unsigned members = p->sim.cluster.nmembers;

    if (ev->kind != BT_Y_SEQ)
        return bt_y_error(d, ev, e, "events: expected a list");
    for (unsigned i = 0; i < ev->n; i++) {
        const struct bt_ynode *it = ev->items[i];
        const struct bt_ynode *fail, *add, *setw, *rest;
        unsigned k = p->sim.nfails;
        if ((r = bt_y_check_keys(d, it, "an event", keys, e)) < 0)
            return r;
        if (k >= GW_SIM_MAX_FAILS)
            return bt_y_error(d, it, e, "events: at most %d events", GW_SIM_MAX_FAILS);
        if (!(n = bt_y_get(it, "at")))
            return bt_y_error(d, it, e, "events: an event needs 'at'");
        if ((r = bt_y_duration_ns(d, n, "events.at", &p->sim.fail_ns[k], e)) < 0)
            return r;
        fail = bt_y_get(it, "fail");
        add = bt_y_get(it, "add");
        setw = bt_y_get(it, "set_weight");
        rest = bt_y_get(it, "restore");
        w = bt_y_get(it, "weight");
        if (!!fail + !!add + !!setw + !!rest != 1)
            return bt_y_error(d, it, e,
                              "events: an event needs exactly one action ('fail: MEMBER', "
                              "'restore: MEMBER', 'add: MEMBER' [weight: W], "
                              "'set_weight: MEMBER' weight: W)");
        if (rest) {
            if (w)
                return bt_y_error(d, w, e, "events.weight: goes with add or set_weight");
            if ((r = bt_y_int(d, rest, "events.restore", 1, members, &v, e)) < 0)
                return r;
            p->sim.fail_kind[k] = BT_EV_SGM_UP;
            p->sim.fail_sgm[k] = (int)v;
            p->sim.nfails++;
            continue;
        }
        if (w && (r = bt_y_int(d, w, "events.weight", 0, 512, &wv, e)) < 0)
            return r;
        if (fail) {
            if (w)
                return bt_y_error(d, w, e, "events.weight: goes with add or set_weight, not fail");
            if ((r = bt_y_int(d, fail, "events.fail", 1, members, &v, e)) < 0)
                return r;
            p->sim.fail_kind[k] = BT_EV_SGM_DOWN;
        } else if (add) {
            /* members join in order: the next id */
            if ((r = bt_y_int(d, add, "events.add", members + 1, members + 1, &v, e)) < 0)
                return r;
            members++;
            p->sim.fail_kind[k] = BT_EV_SGM_JOIN;
            p->sim.fail_weight[k] = (unsigned)(w ? wv : 100);
        } else {
            if (!w)
                return bt_y_error(d, it, e, "events: set_weight needs 'weight: W'");
            if ((r = bt_y_int(d, setw, "events.set_weight", 1, members, &v, e)) < 0)
                return r;
            p->sim.fail_kind[k] = BT_EV_WEIGHT;
            p->sim.fail_weight[k] = (unsigned)wv;
        }
        p->sim.fail_sgm[k] = (int)v;
        p->sim.nfails++;
    }
    return 0;
}

static int load_expect(const struct bt_ydoc *d, const struct bt_ynode *x, struct pl_plan *p,
                       struct bt_err *e)
{
    static const char *const mine[] = {"failed_flows", NULL};
    const struct bt_ynode *n;
    int r;

    if ((r = vf_thresholds_load(d, x, mine, &p->th, e)) < 0)
        return r;
    if ((n = bt_y_get(x, "failed_flows")) &&
        (r = bt_y_quantity(d, n, "expect.failed_flows", 0, 1e12, &p->max_failed_flows, e)) < 0)
        return r;
    return 0;
}

static int load_expect_fail(const struct bt_ydoc *d, const struct bt_ynode *x, struct pl_plan *p,
                            struct bt_err *e)
{
    const char *s;
    int r;

    if (x->kind != BT_Y_SEQ || x->n == 0 || x->n > PL_MAX_EXPECT_FAIL)
        return bt_y_error(d, x, e, "expect_fail: expected a list of 1..%d check names", PL_MAX_EXPECT_FAIL);
    for (unsigned i = 0; i < x->n; i++) {
        bool known = false;
        if ((r = bt_y_str(d, x->items[i], "expect_fail", &s, e)) < 0)
            return r;
        for (unsigned k = 0; k < VF_NCHECKS; k++)
            known |= !strcmp(s, vf_check_names[k]);
        known |= !strcmp(s, "failed_flows");
        if (!known)
            return bt_y_error(d, x->items[i], e,
                              "expect_fail: '%s' is not a check (affinity, symmetry, failover, balance, loss, failed_flows)",
                              s);
        p->expect_fail[p->nexpect_fail++] = s;
    }
    return 0;
}

struct pl_plan *pl_plan_load(const char *path, struct bt_err *e)
{
    static const char *const keys[] = {"name", "seed", "cluster", "traffic", "events",
                                       "expect", "expect_fail", NULL};
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
    p->file = strdup(path);
    if (!(pp->doc = bt_yaml_load(path, e)) || !p->file)
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
    if (bt_y_str(pp->doc, n, "name", &s, e) < 0 || !(p->name = strdup(s)))
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
    if ((n = bt_y_get(root, "events")) && load_events(pp->doc, n, p, e) < 0)
        goto bad;
    if ((n = bt_y_get(root, "expect")) && load_expect(pp->doc, n, p, e) < 0)
        goto bad;
    if ((n = bt_y_get(root, "expect_fail")) && load_expect_fail(pp->doc, n, p, e) < 0)
        goto bad;
    return p;
bad:
    pl_plan_free(p);
    return NULL;
}

struct pl_plan *pl_plan_free(struct pl_plan *p)
{
    struct pl_plan_priv *pp = (struct pl_plan_priv *)p;

    if (!pp)
        return NULL;
    bt_yaml_free(pp->doc);
    free(p->file);
    free(p->name);
    free(pp);
    return NULL;
}
