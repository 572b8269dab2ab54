/* SPDX-License-Identifier: BSD-3-Clause */
#include "gw_sink.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "bt_capset.h"
#include "bt_cidr.h"
#include "bt_err.h"
#include "bt_hash.h"
#include "bt_pkt.h"
#include "gw_api.h"

static void keep(struct gw_sink *k, int r)
{
    if (r < 0 && !k->err)
        k->err = r;
}

static void tap(void *arg, int sgm, const struct bt_pkt *p)
{
    struct gw_sink *k = arg;

    keep(k, bt_capset_writer_sgm(k->w, sgm, p->ts_ns, p->data, p->len, p->wire_len));
}

static void on_event(void *arg, const struct bt_event *ev)
{
    struct gw_sink *k = arg;

    keep(k, bt_capset_writer_event(k->w, ev));
}

static void on_correction(void *arg, const struct bt_correction *c)
{
    struct gw_sink *k = arg;

    keep(k, bt_capset_writer_correction(k->w, c));
}

static void on_nat(void *arg, const struct bt_nat_map *m)
{
    struct gw_sink *k = arg;

    keep(k, bt_capset_writer_nat(k->w, m));
}

int gw_sink_open(struct gw_sink *k, const char *dir, struct bt_err *e)
{
    int r;

    k->err = 0;
    if (!(k->w = bt_capset_writer_open(dir, e)))
        return -EIO;
    if ((r = bt_capset_writer_links(k->w)) < 0)
        return bt_err_setr(e, r, "%s: cannot create the link captures: %s", dir, strerror(-r));
    return 0;
}

void gw_sink_attach(struct gw_cluster *g, struct gw_sink *k)
{
    gw_set_tap(g, tap, k);
    gw_set_event_cb(g, on_event, k);
    gw_set_correction_cb(g, on_correction, k);
    gw_set_nat_cb(g, on_nat, k);
}

void gw_sink_meta(const struct gw_config *c, unsigned nmembers, const struct gw_sim_opts *t,
                  const char *generator, struct bt_capset_meta *m)
{
    memset(m, 0, sizeof(*m));
    /* every member that was ever in the cluster, with its initial weight
     * (joins and weight changes are in events.jsonl) */
    m->nmembers = nmembers;
    for (unsigned i = 0; i < nmembers; i++) {
        m->ids[i] = (int)i + 1;
        m->weights[i] = c->weight[i + 1];
        for (unsigned k = 0; t && k < t->nfails; k++)
            if (t->fail_kind[k] == BT_EV_SGM_JOIN && t->fail_sgm[k] == (int)i + 1)
                m->weights[i] = t->fail_weight[k];
    }
    snprintf(m->mode, sizeof(m->mode), "%s", bt_dist_mode_name(c->mode));
    m->l4 = c->l4;
    if (c->nat) {
        m->npools = 1;
        bt_cidr_fmt(&c->nat_pool, m->nat_pools[0], sizeof(m->nat_pools[0]));
    }
    snprintf(m->generator, sizeof(m->generator), "%s", generator);
}
