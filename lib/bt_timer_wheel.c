/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Hashed timer wheel: nslots lists, a timer goes in slot
 * (deadline / tick) % nslots. Advancing walks the slots between the last
 * tick and now; a timer whose deadline is more than one turn away stays in
 * its slot until its turn (checked on each pass). Timers due in the same
 * advance fire in deadline order (collected, then sorted), so the order is
 * deterministic and does not depend on the slot walk.
 */
#include "bt_timer_wheel.h"

#include <stdlib.h>

struct bt_twheel {
    struct bt_timer *slots;   /* sentinel heads, circular lists */
    uint32_t nslots;
    uint64_t tick_ns;
    uint64_t cur_tick;        /* every tick < cur_tick has been processed; cur_tick is partly */
    unsigned count;
    struct bt_timer **due;    /* scratch for one advance */
    unsigned due_cap;
};

static void list_init(struct bt_timer *h)
{
    h->next = h->prev = h;
}

static void unlink_t(struct bt_timer *t)
{
    t->prev->next = t->next;
    t->next->prev = t->prev;
    t->next = t->prev = NULL;
}

struct bt_twheel *bt_twheel_new(uint64_t tick_ns, uint32_t nslots, uint64_t start_ns)
{
    struct bt_twheel *w;

    if (tick_ns == 0 || nslots == 0 || (nslots & (nslots - 1)))
        return NULL;
    w = calloc(1, sizeof(*w));
    if (!w)
        return NULL;
    w->slots = calloc(nslots, sizeof(*w->slots));
    if (!w->slots)
        return bt_twheel_free(w);
    for (uint32_t i = 0; i < nslots; i++)
        list_init(&w->slots[i]);
    w->nslots = nslots;
    w->tick_ns = tick_ns;
    w->cur_tick = start_ns / tick_ns;
    return w;
}

struct bt_twheel *bt_twheel_free(struct bt_twheel *w)
{
    if (w) {
        free(w->slots);
        free(w->due);
        free(w);
    }
    return NULL;
}

void bt_timer_init(struct bt_timer *t, bt_timer_fn fn, void *arg)
{
    t->next = t->prev = NULL;
    t->deadline_ns = 0;
    t->fn = fn;
    t->arg = arg;
}

bool bt_timer_armed(const struct bt_timer *t)
{
    return t->next != NULL;
}

void bt_twheel_cancel(struct bt_twheel *w, struct bt_timer *t)
{
    if (!bt_timer_armed(t))
        return;
    unlink_t(t);
    w->count--;
}

void bt_twheel_arm(struct bt_twheel *w, struct bt_timer *t, uint64_t deadline_ns)
{
    uint64_t tick;
    struct bt_timer *h;

    bt_twheel_cancel(w, t);
    t->deadline_ns = deadline_ns;
    tick = deadline_ns / w->tick_ns;
    /* a deadline in an already processed tick fires at the next advance */
    if (tick < w->cur_tick)
        tick = w->cur_tick;
    h = &w->slots[tick & (w->nslots - 1)];
    t->next = h;
    t->prev = h->prev;
    h->prev->next = t;
    h->prev = t;
    w->count++;
}

static int cmp_deadline(const void *a, const void *b)
{
    const struct bt_timer *x = *(struct bt_timer *const *)a, *y = *(struct bt_timer *const *)b;

    if (x->deadline_ns != y->deadline_ns)
        return x->deadline_ns < y->deadline_ns ? -1 : 1;
    return 0;
}

unsigned bt_twheel_advance(struct bt_twheel *w, uint64_t now_ns)
{
    uint64_t now_tick = now_ns / w->tick_ns, span;
    unsigned fired = 0, ndue = 0;

    if (now_tick < w->cur_tick)
        return 0;
    /* Walk the slots of the ticks not yet processed, but never more than one
     * full turn: after a turn every slot has been seen once. */
    span = now_tick - w->cur_tick + 1;
    if (span > w->nslots)
        span = w->nslots;
    for (uint64_t k = 0; k < span; k++) {
        struct bt_timer *h = &w->slots[(w->cur_tick + k) & (w->nslots - 1)];
        for (struct bt_timer *t = h->next, *nx; t != h; t = nx) {
            nx = t->next;
            if (t->deadline_ns > now_ns)
                continue;  /* a later turn */
            if (ndue == w->due_cap) {
                unsigned cap = w->due_cap ? w->due_cap * 2 : 64;
                struct bt_timer **d = realloc(w->due, cap * sizeof(*d));
                if (!d)
                    goto fire;  /* the rest stay armed for the next advance */
                w->due = d;
                w->due_cap = cap;
            }
            unlink_t(t);
            w->count--;
            w->due[ndue++] = t;
        }
    }
    /* the current tick may still get timers later in it: keep it open */
    w->cur_tick = now_tick;
fire:
    /* Deadline order; equal deadlines in slot-walk order, which depends only
     * on the inputs, so runs are repeatable. Timers that callbacks arm at or
     * before now fire at the next advance. */
    if (ndue > 1)
        qsort(w->due, ndue, sizeof(*w->due), cmp_deadline);
    for (unsigned i = 0; i < ndue; i++) {
        struct bt_timer *t = w->due[i];
        t->fn(t, now_ns, t->arg);
        fired++;
    }
    return fired;
}

uint64_t bt_twheel_next_ns(const struct bt_twheel *w)
{
    uint64_t best = UINT64_MAX;

    if (!w->count)
        return best;
    /* Slots in tick order for one turn: the first slot holding a timer of
     * its own turn (or an overdue one) has the earliest deadline. */
    for (uint32_t k = 0; k < w->nslots; k++) {
        uint64_t tick = w->cur_tick + k;
        const struct bt_timer *h = &w->slots[tick & (w->nslots - 1)];
        for (const struct bt_timer *t = h->next; t != h; t = t->next)
            if (t->deadline_ns / w->tick_ns <= tick && t->deadline_ns < best)
                best = t->deadline_ns;
        if (best != UINT64_MAX)
            return best;
    }
    /* every timer is more than a turn away */
    for (uint32_t i = 0; i < w->nslots; i++) {
        const struct bt_timer *h = &w->slots[i];
        for (const struct bt_timer *t = h->next; t != h; t = t->next)
            if (t->deadline_ns < best)
                best = t->deadline_ns;
    }
    return best;
}

unsigned bt_twheel_count(const struct bt_twheel *w)
{
    return w->count;
}
