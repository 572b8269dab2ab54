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
 * flow's packets last left the cluster, per direction: what the failover
 * check asks of a flow that seems to go on on its new member (sgm-<id>.pcap
 * is what the distributor delivered, before the member judged it). */
struct bt_flow_key;
struct vf_delivered;
int vf_loss_delivered(const char *client, const char *server, const struct vf_nat *nat, void **json_out,
                      struct vf_delivered **dl, struct bt_err *e);
/* Flow ck (canonical, the original tuple): when a packet of it last left
 * on the far link, each direction (0: never) in out[2]; false when neither
 * link saw the flow. */
bool vf_delivered_last(const struct vf_delivered *d, const struct bt_flow_key *ck, uint64_t out[2]);
struct vf_delivered *vf_delivered_free(struct vf_delivered *d);

#endif
