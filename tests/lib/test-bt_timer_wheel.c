/* SPDX-License-Identifier: BSD-3-Clause */
#include "bt_test.h"
#include "bt_timer_wheel.h"

struct fired {
    uint64_t at[20000];
    uint64_t deadline[20000];
    unsigned n;
};
static struct fired F;

static void on_fire(struct bt_timer *t, uint64_t now, void *arg)
{
    (void)arg;
    F.at[F.n] = now;
    F.deadline[F.n++] = t->deadline_ns;
}

TEST(fires_due_timers_in_deadline_order)
{
    struct bt_twheel *w = bt_twheel_new(1000, 64, 0);
    struct bt_timer t[3];
    REQUIRE(w);
    F.n = 0;
    for (int i = 0; i < 3; i++)
        bt_timer_init(&t[i], on_fire, NULL);
    bt_twheel_arm(w, &t[0], 5500);
    bt_twheel_arm(w, &t[1], 2500);
    bt_twheel_arm(w, &t[2], 2400);
    CHECK_EQ_INT(bt_twheel_count(w), 3);
    CHECK_EQ_INT(bt_twheel_next_ns(w), 2400);
    CHECK_EQ_INT(bt_twheel_advance(w, 2000), 0);
    CHECK_EQ_INT(bt_twheel_advance(w, 3000), 2);
    REQUIRE(F.n == 2);
    CHECK_EQ_INT(F.deadline[0], 2400);
    CHECK_EQ_INT(F.deadline[1], 2500);
    CHECK(!bt_timer_armed(&t[1]));
    CHECK_EQ_INT(bt_twheel_next_ns(w), 5500);
    bt_twheel_cancel(w, &t[0]);
    CHECK_EQ_INT(bt_twheel_count(w), 0);
    CHECK_EQ_INT(bt_twheel_next_ns(w), UINT64_MAX);
    CHECK_EQ_INT(bt_twheel_advance(w, 100000), 0);
    bt_twheel_free(w);
}

TEST(far_deadlines_wait_for_their_turn_and_past_ones_fire_next)
{
    struct bt_twheel *w = bt_twheel_new(10, 8, 0); /* one turn = 80 ns */
    struct bt_timer far, past;
    F.n = 0;
    bt_timer_init(&far, on_fire, NULL);
    bt_timer_init(&past, on_fire, NULL);
    bt_twheel_arm(w, &far, 1005);
    CHECK_EQ_INT(bt_twheel_next_ns(w), 1005);
    for (uint64_t now = 0; now < 1000; now += 7)
        CHECK_EQ_INT(bt_twheel_advance(w, now), 0);
    bt_twheel_arm(w, &past, 3); /* in the past */
    CHECK_EQ_INT(bt_twheel_advance(w, 1004), 1);
    CHECK_EQ_INT(F.deadline[0], 3);
    CHECK_EQ_INT(bt_twheel_advance(w, 1010), 1);
    CHECK_EQ_INT(F.deadline[1], 1005);
    CHECK_EQ_INT(F.at[1], 1010);
    bt_twheel_free(w);
}

TEST(random_against_reference_model)
{
    static struct bt_timer t[2000];
    static uint64_t dl[2000];
    static int armed[2000];
    struct bt_twheel *w = bt_twheel_new(100, 256, 0);
    uint64_t x = 0x9E3779B97F4A7C15ULL, now = 0;
    F.n = 0;
    for (int i = 0; i < 2000; i++)
        bt_timer_init(&t[i], on_fire, NULL);
    memset(armed, 0, sizeof(armed));
    for (int step = 0; step < 20000; step++) {
        x ^= x << 13; x ^= x >> 7; x ^= x << 17;
        int i = (int)(x % 2000);
        switch ((x >> 20) % 4) {
        case 0: case 1:
            dl[i] = now + (x >> 32) % 100000;
            bt_twheel_arm(w, &t[i], dl[i]);
            armed[i] = 1;
            break;
        case 2:
            bt_twheel_cancel(w, &t[i]);
            armed[i] = 0;
            break;
        default: {
            uint64_t next = now + (x >> 40) % 3000;
            unsigned before = F.n, expect = 0;
            uint64_t min_left = UINT64_MAX;
            for (int j = 0; j < 2000; j++)
                if (armed[j] && dl[j] <= next)
                    expect++;
            unsigned got = bt_twheel_advance(w, next);
            CHECK_EQ_INT(got, expect);
            for (unsigned k = before; k < F.n; k++) {
                CHECK(F.deadline[k] <= next);
                if (k > before)
                    CHECK(F.deadline[k - 1] <= F.deadline[k]);
            }
            for (int j = 0; j < 2000; j++) {
                if (armed[j] && dl[j] <= next)
                    armed[j] = 0;
                if (armed[j] && dl[j] < min_left)
                    min_left = dl[j];
            }
            CHECK_EQ_INT(bt_twheel_next_ns(w), min_left);
            now = next;
            F.n = 0;
        }
        }
    }
    unsigned left = 0;
    for (int j = 0; j < 2000; j++)
        left += armed[j];
    CHECK_EQ_INT(bt_twheel_count(w), left);
    bt_twheel_free(w);
}

TEST(bad_parameters)
{
    CHECK(bt_twheel_new(0, 64, 0) == NULL);
    CHECK(bt_twheel_new(10, 63, 0) == NULL);
}
