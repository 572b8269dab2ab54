/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The distribution table: a bucket table mapping a flow hash to a primary
 * member (who owns the flow) and a backup member (who holds its HyperSync
 * copy), with weights 0..512 per member (share = weight / sum of weights).
 *
 * Built with weighted rendezvous hashing per bucket: the primary is the
 * highest-scoring member that is up, the backup the second. So when a primary
 * dies, each of its buckets goes exactly to its backup, and no other bucket
 * moves; adding a member moves only the buckets it wins (the ideal fraction
 * w_new / sum w).
 *
 * Member ids are 1..BT_DIST_MAX_MEMBERS; 0 means "none".
 */
#ifndef BT_DIST_H
#define BT_DIST_H

#include <stdint.h>
#include <stdbool.h>

#define BT_DIST_MAX_MEMBERS 64
#define BT_DIST_MAX_WEIGHT 512
/* Each bucket goes to a member independently, so a member's share has the
 * binomial sd sqrt((1 - 1/n) * n / B): 2.8 % at 52 members of the default
 * 65,536 buckets, 3.1 % at 64. The worst member's deviation depends on the
 * seed (4.4 % and 7.96 % have been measured at 52 members, docs/benchmarks.md);
 * what holds, and tests/lib/test-bt_dist.c checks, is every member within
 * 4 sd: 11.2 % at 52 members, 12.4 % at 64. */
#define BT_DIST_DEFAULT_BUCKETS 65536

struct bt_dist;

/* nbuckets: a power of two (e.g. BT_DIST_DEFAULT_BUCKETS). NULL on ENOMEM/EINVAL. */
struct bt_dist *bt_dist_new(uint32_t nbuckets, uint32_t seed);
struct bt_dist *bt_dist_free(struct bt_dist *d);

/* Adds or updates member id with weight (0..512) and up/down state. Takes
 * effect at the next bt_dist_build(). -EINVAL on bad id or weight. */
int bt_dist_set(struct bt_dist *d, int id, unsigned weight, bool up);
/* Forgets member id. */
int bt_dist_remove(struct bt_dist *d, int id);
/* Recomputes the bucket table from the members. Returns the number of
 * buckets whose primary changed since the previous build. */
int bt_dist_build(struct bt_dist *d);

/* Lookups (after a build). 0 when no member is up with weight > 0. */
uint32_t bt_dist_bucket(const struct bt_dist *d, uint32_t hash);
int bt_dist_primary(const struct bt_dist *d, uint32_t hash);
int bt_dist_backup(const struct bt_dist *d, uint32_t hash);
/* The member that would own hash if `dead` were down too (used to pick a new
 * backup after a failover): the best-scoring up member other than `dead` and
 * `exclude`. */
int bt_dist_choice(const struct bt_dist *d, uint32_t hash, int exclude1, int exclude2);

/* The bucket table's arrays, for inline lookups on a hot path (one per
 * packet or connection: a call each into this file cost more than the
 * lookup). Valid for d's lifetime (bt_dist_build rewrites them in place);
 * the same answers as bt_dist_bucket, bt_dist_primary and bt_dist_backup. */
struct bt_dist_tab {
    const uint8_t *primary, *backup;
    uint32_t mask;               /* nbuckets - 1 */
};
void bt_dist_tab(const struct bt_dist *d, struct bt_dist_tab *t);
static inline uint32_t bt_dist_tab_bucket(const struct bt_dist_tab *t, uint32_t hash)
{
    return (hash ^ (hash >> 16)) & t->mask;
}

uint32_t bt_dist_nbuckets(const struct bt_dist *d);
/* Number of buckets whose primary is id. */
uint32_t bt_dist_count(const struct bt_dist *d, int id);
unsigned bt_dist_weight(const struct bt_dist *d, int id);
bool bt_dist_is_up(const struct bt_dist *d, int id);
/* Largest |share - expected| / expected * 100 over members up with weight > 0,
 * share measured in buckets. */
double bt_dist_max_deviation_pct(const struct bt_dist *d);

#endif
