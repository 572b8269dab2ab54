/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * What the drivers (sim, replay, live: library gateway_sim) share about the
 * capture set: the cluster's taps and callbacks written into it, and the
 * capset.json that describes the cluster a run had.
 */
#ifndef GW_SINK_H
#define GW_SINK_H

struct bt_capset_meta;
struct bt_capset_writer;
struct bt_err;
struct gw_cluster;
struct gw_config;
struct gw_sim_opts;

struct gw_sink {
    struct bt_capset_writer *w;
    int err;                   /* the first write error (-errno), 0 */
};

/* Opens the capture set in dir with both link captures (even if a side
 * gets nothing: 100 % loss, not a missing file). -errno with e filled. */
int gw_sink_open(struct gw_sink *k, const char *dir, struct bt_err *e);
/* The cluster's per-member tap, events, corrections and hide-NAT maps go
 * to k->w from now on; a failed write is kept in k->err. */
void gw_sink_attach(struct gw_cluster *g, struct gw_sink *k);
/* capset.json of a run: members 1..nmembers with c's weights (a member that
 * joins on timeline t, NULL for none, with the weight it joins with), the
 * distribution mode, L4 and the NAT pool, and who wrote it. */
void gw_sink_meta(const struct gw_config *c, unsigned nmembers, const struct gw_sim_opts *t,
                  const char *generator, struct bt_capset_meta *m);

#endif
