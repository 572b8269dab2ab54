/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Event scheduler: a binary min-heap keyed by (time, sequence). The sequence
 * number is the insertion order, so equal times fire first-in first-out and
 * a simulation is deterministic. Cancelled entries are marked and skipped
 * lazily (cancel is O(n) to find, which the drivers use rarely).
 */
#include "bt_sched.h"

#include <errno.h>
#include <stdlib.h>

struct ent {
    uint64_t t;
    int64_t id;   /* also the sequence; < 0 when cancelled */
    bt_sched_fn fn;
    void *arg;
};

struct bt_sched {
    struct ent *h;
    uint64_t n, cap;
    uint64_t live;
    int64_t next_id;
    uint64_t now;
};

static int before(const struct ent *a, const struct ent *b)
{
    if (a->t != b->t)
        return a->t < b->t;
    /* ids are positive and increasing; cancelled ones are negated */
    int64_t ia = a->id < 0 ? -a->id : a->id, ib = b->id < 0 ? -b->id : b->id;
    return ia < ib;
}

static void swap(struct ent *a, struct ent *b)
{
    struct ent t = *a;
    *a = *b;
    *b = t;
}

static void sift_up(struct bt_sched *s, uint64_t i)
{
    while (i > 0) {
        uint64_t p = (i - 1) / 2;
        if (!before(&s->h[i], &s->h[p]))
            break;
        swap(&s->h[i], &s->h[p]);
        i = p;
    }
}

static void sift_down(struct bt_sched *s, uint64_t i)
{
    for (;;) {
        uint64_t l = 2 * i + 1, r = l + 1, m = i;
        if (l < s->n && before(&s->h[l], &s->h[m]))
            m = l;
        if (r < s->n && before(&s->h[r], &s->h[m]))
            m = r;
        if (m == i)
            return;
        swap(&s->h[i], &s->h[m]);
        i = m;
    }
}

static void pop_top(struct bt_sched *s)
{
    s->h[0] = s->h[--s->n];
    if (s->n)
        sift_down(s, 0);
}

/* Drops cancelled entries from the top so that h[0] is live (or empty). */
static void skip_cancelled(struct bt_sched *s)
{
    while (s->n && s->h[0].id < 0)
        pop_top(s);
}

struct bt_sched *bt_sched_new(void)
{
    struct bt_sched *s = calloc(1, sizeof(*s));

    if (!s)
        return NULL;
    s->next_id = 1;
    return s;
}

struct bt_sched *bt_sched_free(struct bt_sched *s)
{
    if (s) {
        free(s->h);
        free(s);
    }
    return NULL;
}

int64_t bt_sched_at(struct bt_sched *s, uint64_t t_ns, bt_sched_fn fn, void *arg)
{
    if (s->n == s->cap) {
        uint64_t cap = s->cap ? s->cap * 2 : 64;
        struct ent *h = realloc(s->h, cap * sizeof(*h));
        if (!h)
            return -ENOMEM;
        s->h = h;
        s->cap = cap;
    }
    struct ent *e = &s->h[s->n];
    e->t = t_ns < s->now ? s->now : t_ns;
    e->id = s->next_id++;
    e->fn = fn;
    e->arg = arg;
    sift_up(s, s->n++);
    s->live++;
    return s->next_id - 1;
}

void bt_sched_cancel(struct bt_sched *s, int64_t id)
{
    if (id <= 0)
        return;
    for (uint64_t i = 0; i < s->n; i++) {
        if (s->h[i].id == id) {
            s->h[i].id = -id;
            s->live--;
            break;
        }
    }
    skip_cancelled(s);
}

uint64_t bt_sched_next_ns(const struct bt_sched *s)
{
    return s->n ? s->h[0].t : UINT64_MAX;
}

int bt_sched_step(struct bt_sched *s)
{
    struct ent e;

    skip_cancelled(s);
    if (!s->n)
        return 0;
    e = s->h[0];
    pop_top(s);
    s->live--;
    if (e.t > s->now)
        s->now = e.t;
    e.fn(e.arg, s->now);
    skip_cancelled(s);
    return 1;
}

uint64_t bt_sched_run_until(struct bt_sched *s, uint64_t until_ns)
{
    uint64_t ran = 0;

    skip_cancelled(s);
    while (s->n && s->h[0].t <= until_ns)
        ran += (uint64_t)bt_sched_step(s);
    if (until_ns > s->now && until_ns != UINT64_MAX)
        s->now = until_ns;
    return ran;
}

uint64_t bt_sched_now(const struct bt_sched *s)
{
    return s->now;
}

uint64_t bt_sched_pending(const struct bt_sched *s)
{
    return s->live;
}
