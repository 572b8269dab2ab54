/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The stats stream (DESIGN.md contract 2): rates over the interval since the
 * previous sample, from the members' counters, and the line as JSON. Every
 * key of the contract is written (the model has a figure for each).
 */
#include "gw_priv.h"

#include <jansson.h>
#include <stdlib.h>
#include <string.h>

void gw_stats_sample(struct gw_cluster *g, uint64_t now_ns, struct gw_stats_line *l)
{
    double dt;
    unsigned n = 0;

    gw_advance(g, now_ns);
    now_ns = g->now;
    dt = (double)(now_ns - g->sample_t) / 1e9;
    if (dt <= 0)
        dt = 1e-9;
    memset(l, 0, offsetof(struct gw_stats_line, sgm));
    l->t_ns = now_ns;
    l->seq = g->sample_seq++;
    for (unsigned id = 1; id <= g->nmembers; id++) {
        struct gw_member_stats s, *p = &g->sample_prev[id];
        struct gw_sgm_stats *o = &l->sgm[n];
        double cores = g->cfg.cost.cores ? g->cfg.cost.cores : 1;
        if (gw_member_stats(g, (int)id, &s) < 0)
            continue;
        memset(o, 0, sizeof(*o));
        o->id = (int)id;
        o->state = s.state;
        o->weight = s.weight;
        o->pps = (double)(s.pkts - p->pkts) / dt;
        o->bps = (double)(s.bytes - p->bytes) * 8 / dt;
        o->conns = s.owner_conns;
        o->backup_conns = s.backup_conns;
        o->cps = (double)(s.conns_created - p->conns_created) / dt;
        o->sync_tx_pps = (double)(s.sync_tx_msgs - p->sync_tx_msgs) / dt;
        o->sync_tx_bps = (double)(s.sync_tx_bytes - p->sync_tx_bytes) * 8 / dt;
        o->sync_rx_pps = (double)(s.sync_rx_msgs - p->sync_rx_msgs) / dt;
        o->sync_rx_bps = (double)(s.sync_rx_bytes - p->sync_rx_bytes) * 8 / dt;
        o->corrections_pps = (double)(s.corrections - p->corrections) / dt;
        o->drops = s.drops - p->drops;
        o->cpu = (double)(s.busy_ns - p->busy_ns) / (dt * 1e9 * cores) * 100;
        if (o->cpu > 100)
            o->cpu = 100;
        o->policy_version = s.policy_version;
        l->cluster.pps += o->pps;
        l->cluster.bps += o->bps;
        l->cluster.cps += o->cps;
        l->cluster.sync_bps += o->sync_tx_bps;
        l->cluster.conns += o->conns;
        l->cluster.members_up += s.alive;
        l->cluster.members_total++;
        *p = s;
        n++;
    }
    l->nsgms = n;
    l->cluster.policy_version = g->pol_version;
    l->nevents = g->evq_n;
    memcpy(l->events, g->evq, g->evq_n * sizeof(g->evq[0]));
    g->evq_n = 0;
    g->sample_t = now_ns;
}

static json_t *event_json(const struct bt_event *ev)
{
    json_t *o = json_pack("{s:f, s:s, s:i}", "t", (double)ev->t_ns / 1e9, "event",
                          bt_event_name(ev->kind), "sgm", ev->sgm);

    if (o && ev->weight >= 0)
        json_object_set_new(o, "weight", json_integer(ev->weight));
    if (o && ev->version >= 0)
        json_object_set_new(o, "version", json_integer(ev->version));
    if (o && ev->detail[0])
        json_object_set_new(o, "detail", json_string(ev->detail));
    return o;
}

char *gw_stats_line_json(const struct gw_stats_line *l)
{
    json_t *line = json_object(), *sg = json_array(), *evs = json_array(), *cl;
    char *txt = NULL;

    if (!line || !sg || !evs)
        goto out;
    for (unsigned i = 0; i < l->nsgms; i++) {
        const struct gw_sgm_stats *s = &l->sgm[i];
        json_array_append_new(sg, json_pack(
            "{s:i, s:s, s:i, s:f, s:f, s:I, s:I, s:f, s:f, s:f, s:f, s:f, s:f, s:I, s:f, s:i}",
            "id", s->id, "state", gw_member_state_name(s->state), "weight", (int)s->weight,
            "pps", s->pps, "bps", s->bps, "conns", (json_int_t)s->conns, "backup_conns",
            (json_int_t)s->backup_conns, "cps", s->cps, "sync_tx_pps", s->sync_tx_pps,
            "sync_tx_bps", s->sync_tx_bps, "sync_rx_pps", s->sync_rx_pps, "sync_rx_bps",
            s->sync_rx_bps, "corrections_pps", s->corrections_pps, "drops", (json_int_t)s->drops,
            "cpu", s->cpu, "policy_version", (int)s->policy_version));
    }
    for (unsigned i = 0; i < l->nevents; i++)
        json_array_append_new(evs, event_json(&l->events[i]));
    cl = json_pack("{s:f, s:f, s:I, s:f, s:f, s:i, s:i, s:i}", "pps", l->cluster.pps, "bps",
                   l->cluster.bps, "conns", (json_int_t)l->cluster.conns, "cps", l->cluster.cps,
                   "sync_bps", l->cluster.sync_bps, "members_up", (int)l->cluster.members_up,
                   "members_total", (int)l->cluster.members_total, "policy_version",
                   (int)l->cluster.policy_version);
    json_object_set_new(line, "schema", json_integer(1));
    json_object_set_new(line, "t", json_real((double)l->t_ns / 1e9));
    json_object_set_new(line, "seq", json_integer((json_int_t)l->seq));
    json_object_set_new(line, "cluster", cl);
    json_object_set_new(line, "sgms", sg);
    json_object_set_new(line, "events", evs);
    sg = evs = NULL;
    txt = json_dumps(line, JSON_COMPACT | JSON_PRESERVE_ORDER);
out:
    json_decref(sg);
    json_decref(evs);
    json_decref(line);
    return txt;
}
