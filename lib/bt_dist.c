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

/* The members that can own buckets, gathered once per build or lookup. */
struct cand {
    int n;
    uint8_t id[BT_DIST_MAX_MEMBERS];
    double w[BT_DIST_MAX_MEMBERS];
    uint64_t key[BT_DIST_MAX_MEMBERS];
    double wmax;
};

struct bt_dist {
    uint32_t nbuckets;
    uint32_t seed;
    uint8_t *primary;
    uint8_t *backup;
    uint32_t count[BT_DIST_MAX_MEMBERS + 1];
    struct member m[BT_DIST_MAX_MEMBERS + 1];
    uint64_t key[BT_DIST_MAX_MEMBERS + 1]; /* per-id hash input, fixed */
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
    for (int id = 1; id <= BT_DIST_MAX_MEMBERS; id++)
        d->key[id] = bt_mix64(0xa0761d6478bd642fULL * (uint64_t)id);
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

static void gather(const struct bt_dist *d, int ex1, int ex2, struct cand *c)
{
    c->n = 0;
    c->wmax = 0;
    for (int id = 1; id <= BT_DIST_MAX_MEMBERS; id++) {
        if (!eligible(d, id) || id == ex1 || id == ex2)
            continue;
        c->id[c->n] = (uint8_t)id;
        c->w[c->n] = (double)d->m[id].weight;
        c->key[c->n] = d->key[id];
        if (c->w[c->n] > c->wmax)
            c->wmax = c->w[c->n];
        c->n++;
    }
}

/*
 * The largest x = h >> 11 for which no member of weight <= wmax can beat a
 * second-best score s2, or -1 when every member must be scored. A member
 * scores w / -ln(u) with u = (x + 0.5) / 2^53, and -ln(u) > 1 - u on (0, 1),
 * so 1 - u > (wmax / s2) (1 + 1e-9) implies a true score below s2 by more
 * than the rounding of log and the division. The 1e-9 and the 8 units of
 * slack keep the result bit-identical to scoring every member.
 */
static int64_t prune_limit(double wmax, double s2)
{
    double t;

    if (s2 <= 0)
        return -1;
    t = wmax / s2 * (1.0 + 1e-9);
    if (t >= 1.0)
        return -1;
    return (int64_t)(9007199254740992.0 * (1.0 - t)) - 8;
}

/*
 * Best and second-best candidates for bucket b. The score of member m is
 * w_m / -ln(u) with u = (h >> 11 + 0.5) / 2^53, h = mix64((seed << 32 | b)
 * ^ key_m): u is uniform in (0, 1), never 0 or 1. Highest score wins.
 *
 * The log dominates the cost, so it is skipped, on the integer hash alone,
 * for members that cannot beat the current second best (prune_limit); once
 * two members are seen only ~2 ln(n) logs per bucket remain.
 */
static void rank(const struct bt_dist *d, const struct cand *c, uint32_t b, int *first, int *second)
{
    const uint64_t base = (uint64_t)d->seed << 32 | b;
    double s1 = -1, s2 = -1;
    int64_t lim = -1;
    int m1 = 0, m2 = 0;

    for (int i = 0; i < c->n; i++) {
        uint64_t h = bt_mix64(base ^ c->key[i]);
        int64_t x = (int64_t)(h >> 11);
        if (x <= lim)
            continue;
        double u = ((double)x + 0.5) * (1.0 / 9007199254740992.0);
        double s = c->w[i] / -log(u);
        if (s > s1) {
            s2 = s1; m2 = m1;
            s1 = s; m1 = c->id[i];
        } else if (s > s2) {
            s2 = s; m2 = c->id[i];
        } else {
            continue;
        }
        lim = prune_limit(c->wmax, s2);
    }
    *first = m1;
    *second = m2;
}

int bt_dist_build(struct bt_dist *d)
{
    struct cand c;
    int moved = 0;

    gather(d, 0, 0, &c);
    memset(d->count, 0, sizeof(d->count));
    for (uint32_t b = 0; b < d->nbuckets; b++) {
        int p, s;
        rank(d, &c, b, &p, &s);
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
    struct cand c;
    int p, s;

    gather(d, exclude1, exclude2, &c);
    rank(d, &c, bt_dist_bucket(d, hash), &p, &s);
    return p;
}

void bt_dist_tab(const struct bt_dist *d, struct bt_dist_tab *t)
{
    t->primary = d->primary;
    t->backup = d->backup;
    t->mask = d->nbuckets - 1;
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
