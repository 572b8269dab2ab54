/* SPDX-License-Identifier: BSD-3-Clause */
/* Loss, latency and injected RSTs between the client and server links. */
#ifndef VF_LOSS_H
#define VF_LOSS_H

struct bt_err;
struct vf_nat;

/* *json_out: {"c2s": {in, out, lost, loss_pct}, "s2c": {...},
 * "latency_us": {p50, p99, max}, "injected_rsts", "unmatched_out",
 * "offenders": [flows with lost packets]} (a json_t * the caller decrefs).
 * nat (may be NULL): hide-NAT connections, so that a packet that leaves
 * translated matches the one that entered. 0, or -errno with e filled. */
int vf_loss(const char *client, const char *server, const struct vf_nat *nat, void **json_out,
            struct bt_err *e);

#endif
