/* SPDX-License-Identifier: BSD-3-Clause */
/* Loss, latency and injected RSTs between the client and server links. */
#ifndef VF_LOSS_H
#define VF_LOSS_H

#include <stdbool.h>
#include <stdint.h>

struct bt_err;
struct vf_nat;

/* *json_out: {"c2s": {in, out, lost, loss_pct}, "s2c": {...},
 * "latency_us": {p50, p99, max}, "injected_rsts", "unmatched_out",
 * "offenders": [flows with lost packets]} (a json_t * the caller decrefs).
 * nat (may be NULL): hide-NAT connections, so that a packet that leaves
 * translated matches the one that entered. 0, or -errno with e filled. */
int vf_loss(const char *client, const char *server, const struct vf_nat *nat, void **json_out,
            struct bt_err *e);

/* The same, also keeping in *dl (freed with vf_delivered_free) when each
 * flow's packets last left the cluster, per direction, and, for each of the
 * failover events at ev_t[0..nev) (ascending; the first
 * VF_DELIVERED_MAX_EV of them), the earliest entry of a packet that left
 * after it: what the failover check asks of a flow that seems to go on on
 * its new member (sgm-<id>.pcap is what the distributor delivered, before
 * the member judged it). */
struct bt_flow_key;
struct vf_delivered;
#define VF_DELIVERED_MAX_EV 16
int vf_loss_delivered(const char *client, const char *server, const struct vf_nat *nat, void **json_out,
                      struct vf_delivered **dl, const uint64_t *ev_t, unsigned nev, struct bt_err *e);
/* Flow ck (canonical, the original tuple): when a packet of it last left
 * on the far link, each direction (0: never) in out[2]; false when neither
 * link saw the flow. */
bool vf_delivered_last(const struct vf_delivered *d, const struct bt_flow_key *ck, uint64_t out[2]);
/* Flow ck and failover event ev (its index in ev_t): in[d] = 1 + the
 * earliest entry time of a packet of direction d that left after the
 * event's time (0: none). 1; 0 when neither link saw the flow; -1 when the
 * event is not one kept (ev >= the events kept). The entry time tells a
 * connection's own packets (entered by its last packet on a member) from
 * a later connection's on the same 5-tuple. */
int vf_delivered_after(const struct vf_delivered *d, const struct bt_flow_key *ck, unsigned ev, uint64_t in[2]);
struct vf_delivered *vf_delivered_free(struct vf_delivered *d);

#endif
