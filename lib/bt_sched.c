/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Event scheduler: a binary min-heap keyed by (time, sequence). The sequence
 * number is the insertion order, so equal times fire first-in first-out and
 * a simulation is deterministic.
 *
 * Callbacks live in a slab of slots; the heap holds (time, sequence, slot).
 * Cancel is O(1): it marks the slot, and a cancelled entry is dropped when
 * it reaches the top of the heap (the top is never a cancelled entry, so
 * next_ns stays exact). Keeping heap positions for an eager removal made
 * every push and pop slower in a sim-like load (a position write per move);
 * lazy removal costs nothing there. An id is the slot plus a generation that changes on every reuse of
 * the slot, so a stale id (already run or cancelled) matches nothing.
 */
#include "bt_sched.h"

#include <errno.h>
#include <stdlib.h>

#define FREE_POS UINT32_MAX

struct node {
    uint64_t t;
    uint64_t seq;
    uint32_t slot;
};

enum { SLOT_FREE, SLOT_PENDING, SLOT_CANCELLED };

struct slot {
    bt_sched_fn fn;
    void *arg;
    uint32_t gen;    /* 1..2^31-1, bumped on reuse */
    uint16_t state;
    uint32_t next_free;
};

struct bt_sched {
    struct node *h;
    struct slot *sl;
    uint32_t n, cap;        /* heap entries; slots allocated */
    uint32_t free_head;     /* FREE_POS: none */
    uint64_t live;          /* pending, not cancelled */
    uint64_t next_seq;
    uint64_t now;
};

static inline int before(const struct node *a, const struct node *b)
{
    return a->t != b->t ? a->t < b->t : a->seq < b->seq;
}

static void sift_up(struct bt_sched *s, uint32_t i)
{
    struct node nd = s->h[i];

    while (i > 0) {
        uint32_t p = (i - 1) / 2;
        if (!before(&nd, &s->h[p]))
            break;
        s->h[i] = s->h[p];
        i = p;
    }
    s->h[i] = nd;
}

static void sift_down(struct bt_sched *s, uint32_t i)
{
    struct node nd = s->h[i];

    for (;;) {
        uint32_t l = 2 * i + 1, r = l + 1, m;
        if (l >= s->n)
            break;
        m = r < s->n && before(&s->h[r], &s->h[l]) ? r : l;
        if (!before(&s->h[m], &nd))
            break;
        s->h[i] = s->h[m];
        i = m;
    }
    s->h[i] = nd;
}

/* Pops the top entry and frees its slot. */
static void pop_top(struct bt_sched *s)
{
    uint32_t slot = s->h[0].slot;

    s->sl[slot].state = SLOT_FREE;
    s->sl[slot].next_free = s->free_head;
    s->free_head = slot;
    s->h[0] = s->h[--s->n];
    if (s->n)
        sift_down(s, 0);
}

/* Keeps the top live: drops cancelled entries that reached it. */
static void skip_cancelled(struct bt_sched *s)
{
    while (s->n && s->sl[s->h[0].slot].state == SLOT_CANCELLED)
        pop_top(s);
}

struct bt_sched *bt_sched_new(void)
{
    struct bt_sched *s = calloc(1, sizeof(*s));

    if (!s)
        return NULL;
    s->free_head = FREE_POS;
    return s;
}

struct bt_sched *bt_sched_free(struct bt_sched *s)
{
    if (s) {
        free(s->h);
        free(s->sl);
        free(s);
    }
    return NULL;
}

static int grow(struct bt_sched *s)
{
    uint32_t cap = s->cap ? s->cap * 2 : 64;
    struct node *h;
    struct slot *sl;

    if (s->cap >= (1U << 30))
        return -ENOMEM;
    h = realloc(s->h, (size_t)cap * sizeof(*h));
    if (!h)
        return -ENOMEM;
    s->h = h;
    sl = realloc(s->sl, (size_t)cap * sizeof(*sl));
    if (!sl)
        return -ENOMEM;
    s->sl = sl;
    for (uint32_t i = cap; i-- > s->cap;) {
        sl[i].state = SLOT_FREE;
        sl[i].gen = 0;
        sl[i].next_free = s->free_head;
        s->free_head = i;
    }
    s->cap = cap;
    return 0;
}

int64_t bt_sched_at(struct bt_sched *s, uint64_t t_ns, bt_sched_fn fn, void *arg)
{
    uint32_t slot;
    struct slot *e;

    if (s->free_head == FREE_POS && grow(s) < 0)
        return -ENOMEM;
    slot = s->free_head;
    e = &s->sl[slot];
    s->free_head = e->next_free;
    e->fn = fn;
    e->arg = arg;
    e->gen = e->gen % 0x7fffffffU + 1;
    e->state = SLOT_PENDING;
    s->h[s->n] = (struct node){t_ns < s->now ? s->now : t_ns, s->next_seq++, slot};
    sift_up(s, s->n++);
    s->live++;
    return (int64_t)e->gen << 32 | slot;
}

void bt_sched_cancel(struct bt_sched *s, int64_t id)
{
    uint64_t slot = (uint64_t)id & 0xffffffffU, gen = (uint64_t)id >> 32;

    if (id <= 0 || slot >= s->cap || s->sl[slot].gen != gen || s->sl[slot].state != SLOT_PENDING)
        return;
    s->sl[slot].state = SLOT_CANCELLED;
    s->live--;
    skip_cancelled(s);
}

uint64_t bt_sched_next_ns(const struct bt_sched *s)
{
    return s->n ? s->h[0].t : UINT64_MAX;
}

int bt_sched_step(struct bt_sched *s)
{
    bt_sched_fn fn;
    void *arg;

    if (!s->n)
        return 0;
    if (s->h[0].t > s->now)
        s->now = s->h[0].t;
    fn = s->sl[s->h[0].slot].fn;
    arg = s->sl[s->h[0].slot].arg;
    pop_top(s);
    s->live--;
    skip_cancelled(s);
    fn(arg, s->now);
    return 1;
}

uint64_t bt_sched_run_until(struct bt_sched *s, uint64_t until_ns)
{
    uint64_t ran = 0;

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
