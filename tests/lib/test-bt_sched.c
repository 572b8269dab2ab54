/* SPDX-License-Identifier: BSD-3-Clause */
#include "bt_test.h"
#include "bt_sched.h"

struct rec {
    uint64_t t[4096];
    int tag[4096];
    unsigned n;
};

struct call {
    struct rec *r;
    int tag;
};

static void note(void *arg, uint64_t now)
{
    struct call *c = arg;
    c->r->t[c->r->n] = now;
    c->r->tag[c->r->n++] = c->tag;
}

TEST(fires_in_time_order_and_ties_in_insertion_order)
{
    struct bt_sched *s = bt_sched_new();
    static struct rec r;
    struct call c[5] = {{&r, 0}, {&r, 1}, {&r, 2}, {&r, 3}, {&r, 4}};
    REQUIRE(s);
    r.n = 0;
    bt_sched_at(s, 30, note, &c[0]);
    bt_sched_at(s, 10, note, &c[1]);
    bt_sched_at(s, 20, note, &c[2]);
    bt_sched_at(s, 10, note, &c[3]);
    bt_sched_at(s, 10, note, &c[4]);
    CHECK_EQ_INT(bt_sched_next_ns(s), 10);
    CHECK_EQ_INT(bt_sched_run_until(s, 25), 4);
    CHECK_EQ_INT(bt_sched_now(s), 25);
    REQUIRE(r.n == 4);
    CHECK_EQ_INT(r.tag[0], 1);
    CHECK_EQ_INT(r.tag[1], 3);
    CHECK_EQ_INT(r.tag[2], 4);
    CHECK_EQ_INT(r.tag[3], 2);
    CHECK_EQ_INT(r.t[3], 20);
    CHECK_EQ_INT(bt_sched_pending(s), 1);
    CHECK_EQ_INT(bt_sched_step(s), 1);
    CHECK_EQ_INT(r.tag[4], 0);
    CHECK_EQ_INT(bt_sched_step(s), 0);
    CHECK_EQ_INT(bt_sched_next_ns(s), UINT64_MAX);
    bt_sched_free(s);
}

TEST(cancel_skips_the_callback)
{
    struct bt_sched *s = bt_sched_new();
    static struct rec r;
    struct call a = {&r, 1}, b = {&r, 2};
    r.n = 0;
    int64_t ia = bt_sched_at(s, 5, note, &a);
    int64_t ib = bt_sched_at(s, 6, note, &b);
    CHECK(ia > 0 && ib > 0 && ia != ib);
    bt_sched_cancel(s, ia);
    CHECK_EQ_INT(bt_sched_pending(s), 1);
    CHECK_EQ_INT(bt_sched_next_ns(s), 6);
    bt_sched_run_until(s, 100);
    CHECK_EQ_INT(r.n, 1);
    CHECK_EQ_INT(r.tag[0], 2);
    bt_sched_cancel(s, ib); /* already ran: no effect */
    CHECK_EQ_INT(bt_sched_pending(s), 0);
    bt_sched_free(s);
}

/* Callbacks that schedule more work: a past time runs at "now", never earlier. */
static struct bt_sched *g_s;
static struct rec g_r;
static void chain(void *arg, uint64_t now)
{
    uintptr_t left = (uintptr_t)arg;
    g_r.t[g_r.n++] = now;
    if (left)
        bt_sched_at(g_s, now - 1 /* in the past */, chain, (void *)(left - 1));
}

TEST(callbacks_may_schedule_and_time_never_goes_back)
{
    g_s = bt_sched_new();
    g_r.n = 0;
    bt_sched_at(g_s, 1000, chain, (void *)(uintptr_t)3);
    bt_sched_run_until(g_s, 2000);
    REQUIRE(g_r.n == 4);
    for (unsigned i = 0; i < 4; i++)
        CHECK_EQ_INT(g_r.t[i], 1000);
    bt_sched_free(g_s);
}

TEST(random_against_sorted_reference)
{
    struct bt_sched *s = bt_sched_new();
    static struct rec r;
    static struct call c[3000];
    static uint64_t want[3000];
    uint64_t x = 88172645463325252ULL;
    r.n = 0;
    for (int i = 0; i < 3000; i++) {
        x ^= x << 13; x ^= x >> 7; x ^= x << 17;
        want[i] = x % 500;
        c[i].r = &r;
        c[i].tag = i;
        bt_sched_at(s, want[i], note, &c[i]);
    }
    bt_sched_run_until(s, UINT64_MAX - 1);
    REQUIRE(r.n == 3000);
    for (unsigned i = 1; i < r.n; i++) {
        CHECK(r.t[i - 1] <= r.t[i]);
        if (r.t[i - 1] == r.t[i])
            CHECK(r.tag[i - 1] < r.tag[i]);
    }
    for (unsigned i = 0; i < r.n; i++)
        CHECK_EQ_INT(r.t[i], want[r.tag[i]]);
    bt_sched_free(s);
}
