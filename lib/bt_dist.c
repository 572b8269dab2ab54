/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Distribution table by weighted rendezvous hashing (Schindelhauer and
 * Schomaker's "weighted distributed hash tables"; also what Maestro-like
 * orchestrators need): for bucket b and member m, score = w_m / -ln(u(b, m))
 * with u uniform in (0, 1) from a hash of (seed, b, m). The highest score
 * among members that are up is the primary, the second the backup.
 * Properties that follow (and that the tests check):
 *  - P(m wins b) = w_m / sum(w): shares follow weights;
 *  - a member going down hands each of its buckets to that bucket's backup
 *    and no other bucket changes hands;
 *  - a member joining takes only the buckets it now wins (w_new / sum).
 */
#include "bt_dist.h"
#include "bt_hash.h"

#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

struct member {
    unsigned weight;
    bool present;
    bool up;
};

struct bt_dist {
    uint32_t nbuckets;
    uint32_t seed;
    uint8_t *primary;
    uint8_t *backup;
    uint32_t count[BT_DIST_MAX_MEMBERS + 1];
    struct member m[BT_DIST_MAX_MEMBERS + 1];
};

struct bt_dist *bt_dist_new(uint32_t nbuckets, uint32_t seed)
{
    struct bt_dist *d;

    if (nbuckets == 0 || (nbuckets & (nbuckets - 1)) || nbuckets > (1U << 24))
        return NULL;
    d = calloc(1, sizeof(*d));
    if (!d)
        return NULL;
    d->primary = calloc(nbuckets, 1);
    d->backup = calloc(nbuckets, 1);
    if (!d->primary || !d->backup)
        return bt_dist_free(d);
    d->nbuckets = nbuckets;
    d->seed = seed;
    return d;
}

struct bt_dist *bt_dist_free(struct bt_dist *d)
{
    if (d) {
        free(d->primary);
        free(d->backup);
        free(d);
    }
    return NULL;
}

static bool valid_id(int id)
{
    return id >= 1 && id <= BT_DIST_MAX_MEMBERS;
}

int bt_dist_set(struct bt_dist *d, int id, unsigned weight, bool up)
{
    if (!valid_id(id) || weight > BT_DIST_MAX_WEIGHT)
        return -EINVAL;
    d->m[id].present = true;
    d->m[id].weight = weight;
    d->m[id].up = up;
    return 0;
}

int bt_dist_remove(struct bt_dist *d, int id)
{
    if (!valid_id(id) || !d->m[id].present)
        return -ENOENT;
    memset(&d->m[id], 0, sizeof(d->m[id]));
    return 0;
}

static inline bool eligible(const struct bt_dist *d, int id)
{
    return d->m[id].present && d->m[id].up && d->m[id].weight > 0;
}

/* The rendezvous score of member id for bucket b (higher wins). */
static inline double score(const struct bt_dist *d, uint32_t b, int id)
{
    uint64_t h = bt_mix64(((uint64_t)d->seed << 32 | b) ^ bt_mix64(0xa0761d6478bd642fULL * (uint64_t)id));
    /* 53 random bits, never 0 or 1 */
    double u = ((double)(h >> 11) + 0.5) * (1.0 / 9007199254740992.0);
    return (double)d->m[id].weight / -log(u);
}

/* Best and second-best eligible members for bucket b, skipping ex1/ex2. */
static void rank(const struct bt_dist *d, uint32_t b, int ex1, int ex2, int *first, int *second)
{
    double s1 = -1, s2 = -1;
    int m1 = 0, m2 = 0;

    for (int id = 1; id <= BT_DIST_MAX_MEMBERS; id++) {
        if (!eligible(d, id) || id == ex1 || id == ex2)
            continue;
        double s = score(d, b, id);
        if (s > s1) {
            s2 = s1; m2 = m1;
            s1 = s; m1 = id;
        } else if (s > s2) {
            s2 = s; m2 = id;
        }
    }
    *first = m1;
    *second = m2;
}

int bt_dist_build(struct bt_dist *d)
{
    int moved = 0;

    memset(d->count, 0, sizeof(d->count));
    for (uint32_t b = 0; b < d->nbuckets; b++) {
        int p, s;
        rank(d, b, 0, 0, &p, &s);
        if (d->primary[b] != p)
            moved++;
        d->primary[b] = (uint8_t)p;
        d->backup[b] = (uint8_t)s;
        d->count[p]++;
    }
    return moved;
}

uint32_t bt_dist_bucket(const struct bt_dist *d, uint32_t hash)
{
    /* fold the high half in, so hashes weak in their low bits still spread */
    return (hash ^ (hash >> 16)) & (d->nbuckets - 1);
}

int bt_dist_primary(const struct bt_dist *d, uint32_t hash)
{
    return d->primary[bt_dist_bucket(d, hash)];
}

int bt_dist_backup(const struct bt_dist *d, uint32_t hash)
{
    return d->backup[bt_dist_bucket(d, hash)];
}

int bt_dist_choice(const struct bt_dist *d, uint32_t hash, int exclude1, int exclude2)
{
    int p, s;

    rank(d, bt_dist_bucket(d, hash), exclude1, exclude2, &p, &s);
    return p;
}

uint32_t bt_dist_nbuckets(const struct bt_dist *d)
{
    return d->nbuckets;
}

uint32_t bt_dist_count(const struct bt_dist *d, int id)
{
    return valid_id(id) ? d->count[id] : 0;
}

unsigned bt_dist_weight(const struct bt_dist *d, int id)
{
    return valid_id(id) ? d->m[id].weight : 0;
}

bool bt_dist_is_up(const struct bt_dist *d, int id)
{
    return valid_id(id) && d->m[id].present && d->m[id].up;
}

double bt_dist_max_deviation_pct(const struct bt_dist *d)
{
    double sum = 0, worst = 0;

    for (int id = 1; id <= BT_DIST_MAX_MEMBERS; id++)
        if (eligible(d, id))
            sum += d->m[id].weight;
    if (sum == 0)
        return 0;
    for (int id = 1; id <= BT_DIST_MAX_MEMBERS; id++) {
        if (!eligible(d, id))
            continue;
        double expected = d->nbuckets * d->m[id].weight / sum;
        double dev = fabs(d->count[id] - expected) / expected * 100.0;
        if (dev > worst)
            worst = dev;
    }
    return worst;
}
