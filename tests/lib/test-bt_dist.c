/* SPDX-License-Identifier: BSD-3-Clause */
#include "bt_test.h"
#include "bt_dist.h"

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

TEST(balance_within_bound_up_to_64_members)
{
    /* With 16384 buckets a member of 64 expects 256 buckets (sd 16, 6%):
     * the max over 64 members stays under 25% (4 sd). */
    for (int n = 2; n <= 64; n++) {
        struct bt_dist *d = equal(n, 16384);
        double dev = bt_dist_max_deviation_pct(d);
        CHECK(dev < 25.0);
        if (n <= 8)
            CHECK(dev < 8.0);
        bt_dist_free(d);
    }
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
