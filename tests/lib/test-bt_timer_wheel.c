/* SPDX-License-Identifier: BSD-3-Clause */
#include "bt_test.h"
#include "bt_timer_wheel.h"

/* (the hot path of a module allocates nothing after its constructor:
 * bt_allocs before and after) */
#include "bt_alloc_count.h"

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

/* Reference model: armed timers with (deadline, arm sequence); an advance
 * fires every armed deadline <= now in (deadline, sequence) order. */
static struct bt_timer rt[2000];
static uint64_t rdl[2000], rseq[2000], rnext_seq;
static int rarmed[2000];
static int fired_idx[20000];
static unsigned nfired_idx;

static void on_fire_idx(struct bt_timer *t, uint64_t now, void *arg)
{
    (void)now;
    (void)t;
    fired_idx[nfired_idx++] = (int)(intptr_t)arg;
}

/* Random arms, cancels and advances against a reference model: deadlines
 * up to `ahead` ns on, advances of up to `step` ns. */
static void random_model(uint64_t tick, uint32_t nslots, uint64_t ahead, uint64_t step_max)
{
    struct bt_twheel *w = bt_twheel_new(tick, nslots, 0);
    uint64_t x = 0x9E3779B97F4A7C15ULL, now = 0;
    unsigned total = 0;
    REQUIRE(w);
    for (int i = 0; i < 2000; i++)
        bt_timer_init(&rt[i], on_fire_idx, (void *)(intptr_t)i);
    memset(rarmed, 0, sizeof(rarmed));
    for (int step = 0; step < 20000 && !bt_test_failed; step++) {
        x ^= x << 13; x ^= x >> 7; x ^= x << 17;
        int i = (int)(x % 2000);
        switch ((x >> 20) % 4) {
        case 0: case 1:
            /* deadlines up to 4 turns ahead, some in the past, many ties
             * (multiples of 50 ns) */
            rdl[i] = now + (x >> 32) % ahead / 50 * 50;
            if ((x >> 50) % 16 == 0 && now > 500)
                rdl[i] = now - 500;
            bt_twheel_arm(w, &rt[i], rdl[i]);
            rarmed[i] = 1;
            rseq[i] = rnext_seq++;
            break;
        case 2:
            bt_twheel_cancel(w, &rt[i]);
            rarmed[i] = 0;
            break;
        default: {
            uint64_t next = now + (x >> 40) % step_max;
            /* expected: armed with deadline <= next, by (deadline, seq) */
            static int exp[2000];
            unsigned ne = 0;
            for (int j = 0; j < 2000; j++)
                if (rarmed[j] && rdl[j] <= next)
                    exp[ne++] = j;
            for (unsigned a2 = 1; a2 < ne; a2++) /* insertion sort */
                for (unsigned b2 = a2; b2 > 0; b2--) {
                    int p = exp[b2 - 1], q = exp[b2];
                    if (rdl[p] < rdl[q] || (rdl[p] == rdl[q] && rseq[p] < rseq[q]))
                        break;
                    exp[b2 - 1] = q;
                    exp[b2] = p;
                }
            nfired_idx = 0;
            CHECK_EQ_INT(bt_twheel_advance(w, next), ne);
            REQUIRE(nfired_idx == ne);
            for (unsigned k = 0; k < ne; k++)
                if (fired_idx[k] != exp[k]) {
                    BT_FAIL_AT("step %d: fired #%u is timer %d, expected %d", step, k, fired_idx[k], exp[k]);
                    break;
                }
            uint64_t min_left = UINT64_MAX;
            for (unsigned k = 0; k < ne; k++)
                rarmed[exp[k]] = 0;
            for (int j = 0; j < 2000; j++) {
                CHECK(bt_timer_armed(&rt[j]) == (rarmed[j] != 0));
                if (rarmed[j] && rdl[j] < min_left)
                    min_left = rdl[j];
            }
            CHECK_EQ_INT(bt_twheel_next_ns(w), min_left);
            total += ne;
            now = next;
        }
        }
        /* half the steps ask next_ns after an arm or a cancel too (a
         * slot's earliest deadline leaving it, a later one arriving) */
        if ((x >> 61) & 1) {
            uint64_t m = UINT64_MAX;
            for (int j = 0; j < 2000; j++)
                if (rarmed[j] && rdl[j] < m)
                    m = rdl[j];
            if (bt_twheel_next_ns(w) != m) {
                BT_FAIL_AT("step %d: next_ns %llu, expected %llu", step,
                           (unsigned long long)bt_twheel_next_ns(w), (unsigned long long)m);
                break;
            }
        }
    }
    unsigned left = 0;
    for (int j = 0; j < 2000; j++)
        left += rarmed[j];
    CHECK_EQ_INT(bt_twheel_count(w), left);
    CHECK(total > 1000); /* the model was exercised */
    bt_twheel_free(w);
}

TEST(random_against_reference_model)
{
    /* 4 slot words, deadlines up to 4 turns ahead, advances of up to 30 slots */
    random_model(100, 256, 100000, 3000);
}

TEST(random_small_wheel_and_long_advances)
{
    /* fewer slots than a bitmap word; advances of several turns at once */
    random_model(100, 16, 20000, 5000);
    /* tgen's wheel (1024 ns ticks, 65,536 slots): advances over many words */
    random_model(1024, 65536, 200000000, 3000000);
}

/* A callback that cancels one timer and re-arms another, both due in the
 * same advance: neither fires now; the re-armed one fires at its new time. */
static struct bt_timer cb_t[4];
static struct bt_twheel *cb_w;
static int cb_order[8], cb_n;

static void on_cb(struct bt_timer *t, uint64_t now, void *arg)
{
    int i = (int)(intptr_t)arg;
    (void)t;
    (void)now;
    cb_order[cb_n++] = i;
    if (i == 0) {
        bt_twheel_cancel(cb_w, &cb_t[1]);
        bt_twheel_arm(cb_w, &cb_t[2], 5000);
        CHECK_EQ_INT(bt_twheel_next_ns(cb_w), 300); /* timer 3, still due now */
    }
}

TEST(callback_cancels_and_rearms_timers_due_in_the_same_advance)
{
    cb_w = bt_twheel_new(100, 16, 0);
    REQUIRE(cb_w);
    for (int i = 0; i < 4; i++)
        bt_timer_init(&cb_t[i], on_cb, (void *)(intptr_t)i);
    bt_twheel_arm(cb_w, &cb_t[0], 100);
    bt_twheel_arm(cb_w, &cb_t[1], 200);
    bt_twheel_arm(cb_w, &cb_t[2], 250);
    bt_twheel_arm(cb_w, &cb_t[3], 300);
    cb_n = 0;
    CHECK_EQ_INT(bt_twheel_advance(cb_w, 1000), 2);
    REQUIRE(cb_n == 2);
    CHECK_EQ_INT(cb_order[0], 0);
    CHECK_EQ_INT(cb_order[1], 3);
    CHECK(!bt_timer_armed(&cb_t[1]));
    CHECK(bt_timer_armed(&cb_t[2]));
    CHECK_EQ_INT(bt_twheel_count(cb_w), 1);
    CHECK_EQ_INT(bt_twheel_next_ns(cb_w), 5000);
    cb_n = 0;
    CHECK_EQ_INT(bt_twheel_advance(cb_w, 5000), 1);
    CHECK_EQ_INT(cb_order[0], 2);
    cb_w = bt_twheel_free(cb_w);
}

TEST(equal_deadlines_fire_in_arm_order)
{
    struct bt_twheel *w = bt_twheel_new(1000, 8, 0);
    static struct bt_timer t[50];
    REQUIRE(w);
    /* arm 50 timers at 3 deadlines in a scrambled order; re-arming moves a
     * timer behind the others of its deadline */
    for (int i = 0; i < 50; i++) {
        bt_timer_init(&t[i], on_fire_idx, (void *)(intptr_t)i);
        bt_twheel_arm(w, &t[i], 20000 + (uint64_t)((i * 7) % 3) * 100);
    }
    bt_twheel_arm(w, &t[0], 20000);
    nfired_idx = 0;
    CHECK_EQ_INT(bt_twheel_advance(w, 30000), 50);
    for (unsigned k = 1; k < nfired_idx; k++) {
        int a = fired_idx[k - 1], b = fired_idx[k];
        uint64_t da = t[a].deadline_ns, db = t[b].deadline_ns;
        int sa = a == 0 ? 50 : a, sb = b == 0 ? 50 : b; /* arm sequence */
        CHECK(da < db || (da == db && sa < sb));
    }
    CHECK_EQ_INT(fired_idx[0], 3); /* first of deadline 20000 after re-arm of 0 */
    bt_twheel_free(w);
}

TEST(bad_parameters)
{
    CHECK(bt_twheel_new(0, 64, 0) == NULL);
    CHECK(bt_twheel_new(10, 63, 0) == NULL);
}

TEST(arm_advance_cancel_allocate_nothing)
{
    static struct bt_timer t[3000];
    unsigned long at_new = bt_allocs;
    struct bt_twheel *w = bt_twheel_new(10, 64, 0);
    REQUIRE(w);
    CHECK(bt_allocs > at_new); /* the counter sees libbaton's allocations */
    unsigned long before = bt_allocs;
    unsigned fired = 0;
    for (int i = 0; i < 3000; i++) {
        bt_timer_init(&t[i], on_fire_idx, (void *)(intptr_t)i);
        bt_twheel_arm(w, &t[i], (uint64_t)(i % 700) * 3);
    }
    for (int i = 0; i < 3000; i += 7)
        bt_twheel_cancel(w, &t[i]);
    /* one advance fires ~2570 timers at once: the sort needs no scratch */
    nfired_idx = 0;
    fired += bt_twheel_advance(w, 100000);
    CHECK_EQ_INT(fired, 3000 - (3000 + 6) / 7);
    CHECK_EQ_INT(bt_allocs - before, 0);
    bt_twheel_free(w);
}
