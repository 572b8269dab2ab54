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

/* Random schedules, cancels (of pending, already run and already cancelled
 * ids) and runs against a model: a list of (time, insertion order, tag)
 * that fires by (max(time, now), order). Some callbacks cancel another
 * event and schedule a new one, as retransmission timers do. */
enum { MAXEV = 6000 };
static struct bt_sched *m_s;
static int64_t m_id[MAXEV];
static uint64_t m_t[MAXEV];
static int m_live[MAXEV], m_fired[MAXEV], m_nfired, m_nev;
static uint64_t m_x = 0x0123456789abcdefULL;

static uint64_t m_rnd(void)
{
    m_x ^= m_x << 13; m_x ^= m_x >> 7; m_x ^= m_x << 17;
    return m_x;
}

static void m_add(uint64_t t);
static int m_next(void);

static void m_cb(void *arg, uint64_t now)
{
    int tag = (int)(intptr_t)arg;
    CHECK(m_live[tag]);
    CHECK_EQ_INT(tag, m_next()); /* the model's earliest (time, order) */
    CHECK_EQ_INT(now, m_t[tag] > bt_sched_now(m_s) ? m_t[tag] : bt_sched_now(m_s));
    m_live[tag] = 0;
    m_fired[m_nfired++] = tag;
    if (tag % 5 == 0 && m_nev < MAXEV - 1) {
        int victim = (int)(m_rnd() % (uint64_t)m_nev);
        bt_sched_cancel(m_s, m_id[victim]);
        m_live[victim] = 0;
        m_add(now + m_rnd() % 200);
    }
}

static void m_add(uint64_t t)
{
    int tag = m_nev++;
    uint64_t now = bt_sched_now(m_s);
    m_t[tag] = t < now ? now : t;
    m_live[tag] = 1;
    m_id[tag] = bt_sched_at(m_s, t, m_cb, (void *)(intptr_t)tag);
    CHECK(m_id[tag] > 0);
}

/* the model's next event: least (time, tag); tags are insertion order */
static int m_next(void)
{
    int best = -1;
    for (int i = 0; i < m_nev; i++)
        if (m_live[i] && (best < 0 || m_t[i] < m_t[best]))
            best = i;
    return best;
}

TEST(random_with_cancel_against_model)
{
    m_s = bt_sched_new();
    REQUIRE(m_s);
    m_nev = 0;
    unsigned cancelled = 0, total = 0;
    while (m_nev < MAXEV - 10 && !bt_test_failed) {
        uint64_t r = m_rnd();
        switch (r % 4) {
        case 0: case 1:
            m_add(bt_sched_now(m_s) + (r >> 8) % 1000 - 100); /* some in the past */
            break;
        case 2: {
            if (!m_nev)
                break;
            /* mostly recent events (likely pending), sometimes any */
            uint64_t back = (r >> 8) % ((r >> 40) % 2 ? (uint64_t)m_nev : 40);
            int i = m_nev - 1 - (int)(back < (uint64_t)m_nev ? back : 0);
            cancelled += m_live[i];
            bt_sched_cancel(m_s, m_id[i]);
            m_live[i] = 0;
            break;
        }
        default: {
            uint64_t until = bt_sched_now(m_s) + (r >> 8) % 300;
            /* the model fires one at a time, because callbacks change it */
            m_nfired = 0;
            uint64_t ran = bt_sched_run_until(m_s, until);
            CHECK_EQ_INT(ran, m_nfired);
            total += (unsigned)ran;
            CHECK_EQ_INT(bt_sched_now(m_s), until);
            int pending = 0;
            for (int i = 0; i < m_nev; i++)
                pending += m_live[i];
            CHECK_EQ_INT(bt_sched_pending(m_s), pending);
            int nx = m_next();
            CHECK_EQ_INT(bt_sched_next_ns(m_s), nx < 0 ? UINT64_MAX : m_t[nx]);
            CHECK(nx < 0 || m_t[nx] > until);
        }
        }
    }
    /* the order of a final drain, checked against the model event by event */
    int ne = 0, left = 0;
    for (int i = 0; i < m_nev; i++)
        left += m_live[i];
    CHECK_EQ_INT(bt_sched_pending(m_s), left);
    while (bt_sched_pending(m_s) && !bt_test_failed) {
        int nx = m_next();
        REQUIRE(nx >= 0);
        ne++;
        m_nfired = 0;
        CHECK_EQ_INT(bt_sched_step(m_s), 1);
        REQUIRE(m_nfired == 1);
        CHECK_EQ_INT(m_fired[0], nx);
    }
    fprintf(stderr, "events %d, fired %u + drained %d, cancelled %u\n", m_nev, total, ne, cancelled);
    CHECK(total > 1000 && cancelled > 150); /* the model was exercised */
    CHECK_EQ_INT(bt_sched_step(m_s), 0);
    m_s = bt_sched_free(m_s);
}

TEST(stale_ids_cancel_nothing)
{
    struct bt_sched *s = bt_sched_new();
    static struct rec r;
    struct call a = {&r, 1}, b = {&r, 2};
    r.n = 0;
    int64_t ia = bt_sched_at(s, 5, note, &a);
    bt_sched_run_until(s, 10);
    /* b probably reuses a's slot: a's old id must not cancel it */
    int64_t ib = bt_sched_at(s, 20, note, &b);
    CHECK(ia != ib);
    bt_sched_cancel(s, ia);
    bt_sched_cancel(s, 0);
    bt_sched_cancel(s, -5);
    bt_sched_cancel(s, ib + 12345);
    CHECK_EQ_INT(bt_sched_pending(s), 1);
    bt_sched_run_until(s, 30);
    CHECK_EQ_INT(r.n, 2);
    CHECK_EQ_INT(r.tag[1], 2);
    bt_sched_free(s);
}
