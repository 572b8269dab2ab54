/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Joining hide-NAT halves (nat.jsonl): a packet whose tuple is the
 * translated (server-side) tuple of a connection is given the original
 * (client-side) tuple in the same direction, so that both halves are one
 * flow for the checks and for loss between the links. Internal to verify.
 */
#ifndef VF_NAT_H
#define VF_NAT_H

#include <stddef.h>
#include <stdint.h>

struct bt_err;
struct bt_flow_key;
struct bt_nat_map;
struct vf_nat;

/* From n lines of nat.jsonl (copied; maps stays the caller's). NULL on ENOMEM. */
struct vf_nat *vf_nat_new(const struct bt_nat_map *maps, size_t n);
/* Reads path (nat.jsonl). NULL with e filled ("path:line: problem"). */
struct vf_nat *vf_nat_load(const char *path, struct bt_err *e);
struct vf_nat *vf_nat_free(struct vf_nat *n);
size_t vf_nat_count(const struct vf_nat *n);
/* k: a packet's directional key, seen at ts. When k is, in either direction,
 * the translated tuple of a connection, k becomes that connection's
 * original tuple in the same direction and 1 is returned; otherwise 0 and k
 * is left alone. A translated tuple listed more than once (a port reused)
 * means the latest connection that started at or before ts (the first one
 * for a packet before them all). */
int vf_nat_untranslate(const struct vf_nat *n, struct bt_flow_key *k, uint64_t ts);

#endif
