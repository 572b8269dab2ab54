/* SPDX-License-Identifier: BSD-3-Clause */
#include "bt_test.h"
#include "bt_dist.h"
#include "bt_hash.h"

#include <math.h>

static struct bt_dist *equal(int n, uint32_t nb)
{
    struct bt_dist *d = bt_dist_new(nb, 42);
    for (int i = 1; i <= n; i++)
        bt_dist_set(d, i, 100, true);
    bt_dist_build(d);
    return d;
}

TEST(primary_death_moves_its_buckets_to_their_backups_only)
{
    for (int n = 2; n <= 64; n *= 2) {
        struct bt_dist *d = equal(n, 16384);
        uint32_t nb = bt_dist_nbuckets(d);
        static uint8_t p0[16384], b0[16384];
        for (uint32_t b = 0; b < nb; b++) {
            p0[b] = (uint8_t)bt_dist_primary(d, b);
            b0[b] = (uint8_t)bt_dist_backup(d, b);
            CHECK(p0[b] != b0[b]);
            CHECK(p0[b] >= 1 && b0[b] >= 1);
        }
        int dead = 1 + n / 2;
        bt_dist_set(d, dead, 100, false);
        int moved = bt_dist_build(d);
        uint32_t owned = 0;
        for (uint32_t b = 0; b < nb; b++) {
            int p = bt_dist_primary(d, b);
            if (p0[b] == dead) {
                owned++;
                CHECK_EQ_INT(p, b0[b]);
            } else {
                CHECK_EQ_INT(p, p0[b]);
            }
            CHECK(p != dead);
        }
        CHECK_EQ_INT(moved, owned);
        bt_dist_free(d);
        if (bt_test_failed)
            return;
    }
}

TEST(join_moves_only_what_the_new_member_wins_near_ideal_fraction)
{
    for (int n = 2; n <= 63; n = n * 2 + 1) {
        struct bt_dist *d = equal(n, 16384);
        uint32_t nb = bt_dist_nbuckets(d);
        static uint8_t p0[16384];
        for (uint32_t b = 0; b < nb; b++)
            p0[b] = (uint8_t)bt_dist_primary(d, b);
        bt_dist_set(d, n + 1, 100, true);
        int moved = bt_dist_build(d);
        for (uint32_t b = 0; b < nb; b++) {
            int p = bt_dist_primary(d, b);
            if (p != p0[b])
                CHECK_EQ_INT(p, n + 1);
        }
        double ideal = nb / (double)(n + 1);
        /* binomial sd = sqrt(nb p (1-p)) <= 64: allow 5 sd */
        CHECK_NEAR(moved, ideal, 320);
        bt_dist_free(d);
    }
}

/*
 * Balance. Rendezvous hashing assigns each bucket independently, so a
 * member's bucket count is binomial(B, 1/n): relative sd sigma_n =
 * sqrt((1 - 1/n) / (B / n)), 6.2 % for 64 members of 16384 buckets. No table
 * with this failover property can do better than that noise (rebalancing
 * would move buckets between survivors), so the bounds are in sigmas:
 *  - every member within 4 sigma_n (max over 64 members of |Z| exceeds 4
 *    with probability 0.4 %): 24.8 % at 64 members, 7.7 % at 8;
 *  - the spread is that of a random assignment, not worse (a weak or
 *    correlated hash would show here): the RMS of the members' z-scores
 *    over several sizes and seeds is 1 +- 15 % (~5 sd of the estimate).
 * Measured (seed 42): 12.5 % at 64 members, 13.0 % at 52 (docs/benchmarks.md).
 */
/* The bound lib/bt_dist.h states for the default table: every member within
 * 4 sd (11.2 % at 52 members), whatever the seed; one sample is no bound. */
TEST(default_table_within_4_sigma_at_52_members)
{
    const double nb = BT_DIST_DEFAULT_BUCKETS;
    const int n = 52;
    double sigma = sqrt((1 - 1.0 / n) / (nb / n)) * 100;

    CHECK(fabs(4 * sigma - 11.2) < 0.05); /* the figure the header gives */
    for (uint32_t seed = 1; seed <= 4; seed++) {
        struct bt_dist *d = bt_dist_new(BT_DIST_DEFAULT_BUCKETS, seed);
        REQUIRE(d);
        for (int id = 1; id <= n; id++)
            bt_dist_set(d, id, 100, true);
        REQUIRE(bt_dist_build(d) >= 0);
        double dev = bt_dist_max_deviation_pct(d);
        if (dev >= 4 * sigma)
            BT_FAIL_AT("seed %u: max deviation %.2f%% >= 4 sigma %.2f%%", seed, dev, 4 * sigma);
        bt_dist_free(d);
    }
}

TEST(balance_within_bound_up_to_64_members)
{
    const double nb = 16384;
    double z2 = 0;
    unsigned nz = 0;
    for (int n = 2; n <= 64; n++) {
        struct bt_dist *d = equal(n, 16384);
        double sigma = sqrt((1 - 1.0 / n) / (nb / n)) * 100;
        double dev = bt_dist_max_deviation_pct(d);
        if (dev >= 4 * sigma)
            BT_FAIL_AT("%d members: max deviation %.2f%% >= 4 sigma %.2f%%", n, dev, 4 * sigma);
        bt_dist_free(d);
    }
    for (uint32_t seed = 1; seed <= 4; seed++) {
        static const int sizes[] = {8, 16, 32, 52, 64};
        for (unsigned i = 0; i < 5; i++) {
            int n = sizes[i];
            struct bt_dist *d = bt_dist_new(16384, seed);
            for (int id = 1; id <= n; id++)
                bt_dist_set(d, id, 100, true);
            bt_dist_build(d);
            double mean = nb / n, sd = sqrt(nb / n * (1 - 1.0 / n));
            for (int id = 1; id <= n; id++) {
                double z = (bt_dist_count(d, id) - mean) / sd;
                z2 += z * z;
                nz++;
            }
            bt_dist_free(d);
        }
    }
    double rms = sqrt(z2 / nz);
    fprintf(stderr, "balance: RMS z over %u members = %.3f\n", nz, rms);
    CHECK(rms > 0.85 && rms < 1.15);
}

TEST(weights_70_15_15_and_zero_weight)
{
    struct bt_dist *d = bt_dist_new(65536, 7);
    bt_dist_set(d, 1, 70 * 4, true);
    bt_dist_set(d, 2, 15 * 4, true);
    bt_dist_set(d, 3, 15 * 4, true);
    bt_dist_set(d, 4, 0, true);
    bt_dist_build(d);
    double nb = bt_dist_nbuckets(d);
    CHECK_NEAR(bt_dist_count(d, 1) / nb * 100, 70, 1);
    CHECK_NEAR(bt_dist_count(d, 2) / nb * 100, 15, 1);
    CHECK_NEAR(bt_dist_count(d, 3) / nb * 100, 15, 1);
    CHECK_EQ_INT(bt_dist_count(d, 4), 0);
    for (uint32_t b = 0; b < 65536; b++)
        CHECK(bt_dist_backup(d, b) != 4);
    bt_dist_free(d);
}

TEST(choice_excludes_and_deterministic_for_seed)
{
    struct bt_dist *a = equal(8, 1024), *b = equal(8, 1024);
    for (uint32_t h = 0; h < 1024; h++) {
        CHECK_EQ_INT(bt_dist_primary(a, h), bt_dist_primary(b, h));
        int p = bt_dist_primary(a, h), s = bt_dist_backup(a, h);
        CHECK_EQ_INT(bt_dist_choice(a, h, 0, 0), p);
        CHECK_EQ_INT(bt_dist_choice(a, h, p, 0), s);
        int third = bt_dist_choice(a, h, p, s);
        CHECK(third != p && third != s && third >= 1);
    }
    bt_dist_free(a);
    bt_dist_free(b);
}

TEST(no_member_up_gives_zero_and_bad_input_rejected)
{
    struct bt_dist *d = bt_dist_new(64, 1);
    CHECK(bt_dist_new(100, 1) == NULL);
    CHECK(bt_dist_set(d, 0, 1, true) < 0);
    CHECK(bt_dist_set(d, 65, 1, true) < 0);
    CHECK(bt_dist_set(d, 1, 513, true) < 0);
    bt_dist_set(d, 1, 10, false);
    bt_dist_build(d);
    CHECK_EQ_INT(bt_dist_primary(d, 5), 0);
    bt_dist_set(d, 1, 10, true);
    bt_dist_build(d);
    CHECK_EQ_INT(bt_dist_primary(d, 5), 1);
    CHECK_EQ_INT(bt_dist_backup(d, 5), 0); /* no second member */
    CHECK(bt_dist_remove(d, 1) == 0);
    CHECK(bt_dist_remove(d, 1) < 0);
    bt_dist_free(d);
    CHECK(bt_dist_free(NULL) == NULL);
}

/* The documented score, every member scored with libm's log, no pruning:
 * the table bt_dist_build makes (which skips most logs) must be identical. */
static double ref_score(uint32_t seed, uint32_t b, int id, unsigned w)
{
    uint64_t h = bt_mix64(((uint64_t)seed << 32 | b) ^ bt_mix64(0xa0761d6478bd642fULL * (uint64_t)id));
    double u = ((double)(h >> 11) + 0.5) * (1.0 / 9007199254740992.0);
    return (double)w / -log(u);
}

static void ref_rank(uint32_t seed, uint32_t b, const unsigned *w, const int *up, int ex1, int ex2,
                     int *first, int *second)
{
    double s1 = -1, s2 = -1;
    *first = *second = 0;
    for (int id = 1; id <= BT_DIST_MAX_MEMBERS; id++) {
        if (!up[id] || w[id] == 0 || id == ex1 || id == ex2)
            continue;
        double s = ref_score(seed, b, id, w[id]);
        if (s > s1) {
            s2 = s1; *second = *first;
            s1 = s; *first = id;
        } else if (s > s2) {
            s2 = s; *second = id;
        }
    }
}

TEST(table_equals_unpruned_reference_on_random_configs)
{
    uint64_t r = 0x9e3779b97f4a7c15ULL;
    unsigned mismatches = 0;
    for (int cfg = 0; cfg < 60; cfg++) {
        unsigned w[BT_DIST_MAX_MEMBERS + 1] = {0};
        int up[BT_DIST_MAX_MEMBERS + 1] = {0};
        uint32_t seed = (uint32_t)(r >> 40), nb = 1024;
        struct bt_dist *d = bt_dist_new(nb, seed);
        REQUIRE(d);
        int n = 1 + cfg % BT_DIST_MAX_MEMBERS;
        for (int id = 1; id <= n; id++) {
            r ^= r << 13; r ^= r >> 7; r ^= r << 17;
            /* a third equal weights, the rest random 0..512 (0 a few times) */
            w[id] = cfg % 3 == 0 ? 100 : (unsigned)(r % 513);
            if (r % 29 == 0)
                w[id] = 0;
            up[id] = (r >> 32) % 6 != 0;
            REQUIRE(bt_dist_set(d, id, w[id], up[id]) == 0);
        }
        bt_dist_build(d);
        for (uint32_t b = 0; b < nb; b++) {
            int p, s, t, u;
            ref_rank(seed, b, w, up, 0, 0, &p, &s);
            mismatches += bt_dist_primary(d, b) != p;
            mismatches += bt_dist_backup(d, b) != s;
            ref_rank(seed, b, w, up, p, s, &t, &u);
            mismatches += bt_dist_choice(d, b, p, s) != t;
        }
        bt_dist_free(d);
    }
    CHECK_EQ_INT(mismatches, 0);
}

TEST(unequal_weights_join_and_leave_move_the_ideal_fraction)
{
    /* 12 members of weights 10..120; a member of weight 300 joins, then
     * member 5 (weight 50) leaves. Moved fractions: w_new / sum(w) and the
     * leaver's share, within 5 binomial sd of 65536 buckets. */
    struct bt_dist *d = bt_dist_new(65536, 99);
    static uint8_t p0[65536];
    double sum = 0, nb = 65536;
    for (int id = 1; id <= 12; id++) {
        bt_dist_set(d, id, 10u * (unsigned)id, true);
        sum += 10.0 * id;
    }
    bt_dist_build(d);
    for (uint32_t b = 0; b < 65536; b++)
        p0[b] = (uint8_t)bt_dist_primary(d, b);
    bt_dist_set(d, 13, 300, true);
    int moved = bt_dist_build(d);
    double f = 300 / (sum + 300);
    CHECK_NEAR(moved, nb * f, 5 * sqrt(nb * f * (1 - f)));
    for (uint32_t b = 0; b < 65536; b++)
        if (bt_dist_primary(d, b) != p0[b])
            CHECK_EQ_INT(bt_dist_primary(d, b), 13);
    uint32_t owned5 = bt_dist_count(d, 5);
    CHECK_NEAR(owned5, nb * 50 / (sum + 300), 5 * sqrt(nb * 50 / (sum + 300)));
    bt_dist_remove(d, 5);
    CHECK_EQ_INT(bt_dist_build(d), owned5);
    CHECK_EQ_INT(bt_dist_count(d, 5), 0);
    CHECK(bt_dist_max_deviation_pct(d) < 10.0);
    bt_dist_free(d);
}

/* The inline view answers as the calls do, for any 32-bit hash (high bits
 * folded in), and follows a rebuild (the arrays are rewritten in place). */
TEST(tab_view_matches_lookups_across_rebuilds)
{
    struct bt_dist *d = equal(5, 1024);
    struct bt_dist_tab t;
    uint64_t x = 12345;
    unsigned bad = 0;

    bt_dist_tab(d, &t);
    CHECK_EQ_INT(t.mask, 1023);
    for (int round = 0; round < 2; round++) {
        for (int i = 0; i < 100000; i++) {
            x = bt_mix64(x + 1);
            uint32_t h = (uint32_t)x, b = bt_dist_tab_bucket(&t, h);
            bad += b != bt_dist_bucket(d, h);
            bad += t.primary[b] != bt_dist_primary(d, h);
            bad += t.backup[b] != bt_dist_backup(d, h);
        }
        CHECK_EQ_INT(bad, 0);
        bt_dist_set(d, 2, 10, false);
        bt_dist_build(d);
    }
    bt_dist_free(d);
}
