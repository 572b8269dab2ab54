/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Hashed timer wheel: nslots lists, a timer goes in slot
 * (deadline / tick) % nslots. Advancing walks the occupied slots between the
 * last tick and now (none when the earliest deadline, which next_ns keeps,
 * is later than now); a timer whose deadline is more than one turn away
 * stays in its slot until its turn (checked on each pass). Timers due in the same
 * advance fire in deadline order, equal deadlines in the order they were
 * armed: they are moved to a "firing" list and merge-sorted there (stable,
 * no allocation). Equal deadlines always share a slot, where timers sit in
 * arm order, so the stable sort keeps arm order.
 *
 * A timer on the firing list is still armed: a callback that cancels or
 * re-arms it takes it off that list, so it does not fire in this advance.
 *
 * Each occupied slot keeps the earliest deadline of its timers in a dense
 * array (smin), so that next_ns reads one word of the first occupied slot
 * instead of its sentinel and its timers (two cache misses that were most
 * of its time). A timer leaving a slot with that deadline marks the slot
 * stale (a bit); next_ns then walks that one slot again.
 */
#include "bt_timer_wheel.h"

#include <stdlib.h>

struct bt_twheel {
    struct bt_timer *slots;   /* sentinel heads, circular lists */
    uint32_t nslots;
    uint64_t tick_ns;
    uint64_t cur_tick;        /* every tick < cur_tick has been processed; cur_tick is partly */
    unsigned count;           /* armed, including the firing list */
    struct bt_timer firing;   /* sentinel: due in the current advance, in order */
    uint64_t *occ;            /* bit per slot: its list is not empty (next_ns skips empty ones) */
    uint64_t *smin;           /* per occupied slot: at most its earliest deadline, */
    uint64_t *stale;          /* ...exactly that unless the slot's bit is set here */
    /* next_ns's answer, kept until the earliest timer leaves (a cache, not
     * state: next_ns fills it through a const pointer) */
    uint64_t min_ns;
    bool min_valid;
    int tick_shift;           /* log2(tick_ns) when a power of two, else -1 */
};

static void occ_set(struct bt_twheel *w, uint32_t i)
{
    w->occ[i >> 6] |= 1ULL << (i & 63);
}

static bool occ_test(const struct bt_twheel *w, uint32_t i)
{
    return (w->occ[i >> 6] >> (i & 63)) & 1;
}

/* h: a list node whose list is empty now; if it is a slot's sentinel,
 * clear the slot's bit. */
static void occ_clear(struct bt_twheel *w, const struct bt_timer *h)
{
    if (h >= w->slots && h < w->slots + w->nslots) {
        uint32_t i = (uint32_t)(h - w->slots);
        w->occ[i >> 6] &= ~(1ULL << (i & 63));
    }
}

/* h: a list node whose list may just have become empty; if it is a slot's
 * sentinel and the slot is empty, clear its bit. */
static void occ_update(struct bt_twheel *w, const struct bt_timer *h)
{
    if (h->next == h)
        occ_clear(w, h);
}

/* The earliest deadline of slot i's timers, from its list (UINT64_MAX: empty). */
static uint64_t slot_walk(const struct bt_twheel *w, uint32_t i)
{
    const struct bt_timer *h = &w->slots[i];
    uint64_t m = UINT64_MAX;

    for (const struct bt_timer *t = h->next; t != h; t = t->next)
        m = t->deadline_ns < m ? t->deadline_ns : m;
    return m;
}

/* The earliest deadline of occupied slot i, walking it again if stale. */
static uint64_t slot_min(const struct bt_twheel *w, uint32_t i)
{
    struct bt_twheel *cw = (struct bt_twheel *)w;  /* the cache only */

    if ((w->stale[i >> 6] >> (i & 63)) & 1) {
        cw->smin[i] = slot_walk(w, i);
        cw->stale[i >> 6] &= ~(1ULL << (i & 63));
    }
    return w->smin[i];
}

/* The slot a timer still in a list of several sits in: a neighbour is the
 * sentinel (compared by address, not loaded) in lists of two, else the walk. */
static bool is_sentinel(const struct bt_twheel *w, const struct bt_timer *h)
{
    return h >= w->slots && h < w->slots + w->nslots;
}

static int32_t slot_of(const struct bt_twheel *w, const struct bt_timer *t)
{
    const struct bt_timer *h = t->next;

    if (is_sentinel(w, t->prev))
        return (int32_t)(t->prev - w->slots);
    while (!is_sentinel(w, h) && h != &w->firing)
        h = h->next;
    return h == &w->firing ? -1 : (int32_t)(h - w->slots);
}

/* The tick of time t (a shift for tgen's power-of-two tick). */
static uint64_t tick_of(const struct bt_twheel *w, uint64_t t)
{
    return w->tick_shift >= 0 ? t >> w->tick_shift : t / w->tick_ns;
}

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
    w->occ = calloc((nslots + 63) / 64, sizeof(*w->occ));
    w->stale = calloc((nslots + 63) / 64, sizeof(*w->stale));
    w->smin = malloc(nslots * sizeof(*w->smin));
    if (!w->slots || !w->occ || !w->stale || !w->smin)
        return bt_twheel_free(w);
    for (uint32_t i = 0; i < nslots; i++)
        list_init(&w->slots[i]);
    w->nslots = nslots;
    w->tick_ns = tick_ns;
    w->tick_shift = (tick_ns & (tick_ns - 1)) ? -1 : __builtin_ctzll(tick_ns);
    w->cur_tick = start_ns / tick_ns;
    list_init(&w->firing);
    return w;
}

struct bt_twheel *bt_twheel_free(struct bt_twheel *w)
{
    if (w) {
        free(w->slots);
        free(w->occ);
        free(w->stale);
        free(w->smin);
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
    struct bt_timer *prev, *next;

    if (!bt_timer_armed(t))
        return;
    prev = t->prev;
    next = t->next;
    if (t->deadline_ns <= w->min_ns)
        w->min_valid = false;
    /* t was alone with the sentinel: its slot is empty now (known from
     * t, without loading the sentinel, often a cache miss); else a slot
     * whose earliest deadline leaves is stale */
    if (prev == next) {
        unlink_t(t);
        occ_clear(w, prev);
    } else {
        int32_t i = slot_of(w, t);
        if (i >= 0 && t->deadline_ns <= w->smin[i])
            w->stale[i >> 6] |= 1ULL << (i & 63);
        unlink_t(t);
    }
    w->count--;
}

void bt_twheel_arm(struct bt_twheel *w, struct bt_timer *t, uint64_t deadline_ns)
{
    uint64_t tick;
    uint32_t i;
    struct bt_timer *h;

    bt_twheel_cancel(w, t);
    t->deadline_ns = deadline_ns;
    tick = tick_of(w, deadline_ns);
    /* a deadline in an already processed tick fires at the next advance */
    if (tick < w->cur_tick)
        tick = w->cur_tick;
    i = (uint32_t)(tick & (w->nslots - 1));
    h = &w->slots[i];
    if (!occ_test(w, i)) {
        /* an empty slot (most are): its sentinel is only written, not
         * read (a load there is a cache miss the arm would wait for) */
        t->next = t->prev = h;
        h->next = h->prev = t;
        w->smin[i] = deadline_ns;
        w->stale[i >> 6] &= ~(1ULL << (i & 63));
    } else {
        t->next = h;
        t->prev = h->prev;
        h->prev->next = t;
        h->prev = t;
        if (deadline_ns < w->smin[i])
            w->smin[i] = deadline_ns;   /* stale or not, still at most the earliest */
    }
    occ_set(w, i);
    w->count++;
    if (w->min_valid && deadline_ns < w->min_ns)
        w->min_ns = deadline_ns;
}

/* Stable merge sort of a NULL-terminated list (linked by next) by deadline. */
static struct bt_timer *sort_by_deadline(struct bt_timer *head, unsigned n)
{
    struct bt_timer *a, *b, **tail, *out;
    unsigned half = n / 2;

    if (n < 2)
        return head;
    a = head;
    for (unsigned i = 1; i < half; i++)
        head = head->next;
    b = head->next;
    head->next = NULL;
    a = sort_by_deadline(a, half);
    b = sort_by_deadline(b, n - half);
    tail = &out;
    while (a && b) {
        /* <=: on equal deadlines the earlier (left) one goes first */
        if (a->deadline_ns <= b->deadline_ns) {
            *tail = a;
            a = a->next;
        } else {
            *tail = b;
            b = b->next;
        }
        tail = &(*tail)->next;
    }
    *tail = a ? a : b;
    return out;
}

/* sort_by_deadline for the few timers most advances take (a driver
 * advances often): a stable insertion sort, each timer appended when it is
 * not earlier than the last (timers mostly come in order), without the
 * recursion and its calls. */
static struct bt_timer *sort_few(struct bt_timer *head)
{
    struct bt_timer *out = head, *last = head, *t = head->next;

    last->next = NULL;
    while (t) {
        struct bt_timer *nx = t->next;
        if (t->deadline_ns >= last->deadline_ns) {
            last->next = t;
            last = t;
            t->next = NULL;
        } else {
            /* before the first one later than t: after its equals (stable) */
            struct bt_timer **pp = &out;
            while ((*pp)->deadline_ns <= t->deadline_ns)
                pp = &(*pp)->next;
            t->next = *pp;
            *pp = t;
        }
        t = nx;
    }
    return out;
}

static uint64_t scan_next(const struct bt_twheel *w);

unsigned bt_twheel_advance(struct bt_twheel *w, uint64_t now_ns)
{
    uint64_t now_tick = tick_of(w, now_ns), span;
    struct bt_timer *chain = NULL, **tail = &chain, *prev;
    unsigned fired = 0, ndue = 0;

    if (now_tick < w->cur_tick)
        return 0;
    /* Nothing due (the earliest deadline is later, and no advance is under
     * way): the walk below would take nothing, so only the clock moves. A
     * driver calls this after every packet, mostly with nothing due. */
    if (w->firing.next == &w->firing && bt_twheel_next_ns(w) > now_ns) {
        w->cur_tick = now_tick;
        return 0;
    }
    /* Walk the occupied slots (the bitmap, a word at a time) of the ticks
     * not yet processed, in tick order, but never more than one full turn:
     * after a turn every slot has been seen once. */
    span = now_tick - w->cur_tick + 1;
    if (span > w->nslots)
        span = w->nslots;
    for (uint64_t k = 0; k < span;) {
        uint32_t i = (uint32_t)((w->cur_tick + k) & (w->nslots - 1));
        uint32_t room = 64 - (i & 63);          /* slots i.. in i's word */
        uint64_t bits;
        if (room > w->nslots - i)
            room = w->nslots - i;               /* a wheel of fewer than 64 slots */
        if (room > span - k)
            room = (uint32_t)(span - k);
        bits = w->occ[i >> 6] >> (i & 63);
        if (room < 64)
            bits &= (1ULL << room) - 1;
        for (; bits; bits &= bits - 1) {
            uint32_t si = i + (uint32_t)__builtin_ctzll(bits);
            struct bt_timer *h = &w->slots[si];
            uint64_t m = UINT64_MAX;
            /* (its list, not its smin word: one cache miss fewer when it is due) */
            for (struct bt_timer *t = h->next, *nx; t != h; t = nx) {
                nx = t->next;
                if (t->deadline_ns > now_ns) {
                    m = t->deadline_ns < m ? t->deadline_ns : m;
                    continue;  /* a later turn */
                }
                t->prev->next = t->next;
                t->next->prev = t->prev;
                t->next = NULL;
                *tail = t;
                tail = &t->next;
                ndue++;
            }
            w->smin[si] = m;   /* what stays: exact, the slot is not stale now */
            w->stale[si >> 6] &= ~(1ULL << (si & 63));
            occ_update(w, h);
        }
        k += room;
    }
    /* the current tick may still get timers later in it: keep it open */
    w->cur_tick = now_tick;
    /* onto the firing list, in deadline order */
    if (ndue > 1)
        chain = ndue <= 16 ? sort_few(chain) : sort_by_deadline(chain, ndue);
    prev = &w->firing;
    for (struct bt_timer *t = chain; t; t = t->next) {
        t->prev = prev;
        prev = t;
    }
    prev->next = &w->firing;
    w->firing.prev = prev;
    w->firing.next = chain ? chain : &w->firing;
    /* Fire from the head: a callback may cancel or re-arm timers still on
     * the list (they leave it). Timers armed at or before now by a callback
     * go to the wheel and fire at the next advance. */
    if (ndue)
        w->min_valid = false;
    while (w->firing.next != &w->firing) {
        struct bt_timer *t = w->firing.next;
        if (t->deadline_ns <= w->min_ns)
            w->min_valid = false;   /* a callback may have asked next_ns meanwhile */
        unlink_t(t);
        w->count--;
        t->fn(t, now_ns, t->arg);
        fired++;
    }
    return fired;
}

uint64_t bt_twheel_next_ns(const struct bt_twheel *w)
{
    struct bt_twheel *cw = (struct bt_twheel *)w;  /* the cache only */

    if (!w->min_valid) {
        cw->min_ns = scan_next(w);
        cw->min_valid = true;
    }
    return w->min_ns;
}

static uint64_t scan_next(const struct bt_twheel *w)
{
    uint64_t best = UINT64_MAX;

    if (!w->count)
        return best;
    /* during an advance (from a callback): the rest of the firing list is due now */
    if (w->firing.next != &w->firing)
        best = w->firing.next->deadline_ns;
    /* Slots in tick order for one turn: the first slot holding a timer of
     * its own turn (or an overdue one) has the earliest deadline. Only
     * occupied slots are visited (the bitmap), a word of 64 at a time. */
    uint32_t mask = w->nslots - 1, start = (uint32_t)(w->cur_tick & mask);
    uint32_t nwords = (w->nslots + 63) / 64;
    for (uint32_t k = 0; k <= nwords; k++) {
        uint32_t wi = ((start >> 6) + k) % nwords;
        uint64_t bits = w->occ[wi];
        if (k == 0)
            bits &= ~0ULL << (start & 63);           /* slots before start: a turn later */
        else if (k == nwords)
            bits &= (start & 63) ? ~(~0ULL << (start & 63)) : 0;
        while (bits) {
            uint32_t i = wi * 64 + (uint32_t)__builtin_ctzll(bits);
            uint64_t tick = w->cur_tick + ((i - start) & mask), end;
            const struct bt_timer *h = &w->slots[i];
            bits &= bits - 1;
            /* a timer of this turn (or overdue): deadline / tick_ns <= tick,
             * i.e. deadline < end, without a division per timer; the other
             * timers of the slot are a turn later or more (deadline >=
             * end), so the slot's earliest is this turn's when below end */
            if (__builtin_mul_overflow(tick + 1, w->tick_ns, &end))
                end = UINT64_MAX;
            if (end != UINT64_MAX) {
                uint64_t m = slot_min(w, i);
                if (m < end && m < best)
                    best = m;
                /* the advance that fires it walks this slot: its sentinel
                 * on the way meanwhile */
                __builtin_prefetch(h);
            } else {
                for (const struct bt_timer *t = h->next; t != h; t = t->next)
                    if (t->deadline_ns / w->tick_ns <= tick && t->deadline_ns < best)
                        best = t->deadline_ns;
            }
            if (best != UINT64_MAX)
                return best;
        }
    }
    /* every timer is more than a turn away */
    for (uint32_t wi = 0; wi < nwords; wi++) {
        for (uint64_t bits = w->occ[wi]; bits; bits &= bits - 1) {
            uint64_t m = slot_min(w, wi * 64 + (uint32_t)__builtin_ctzll(bits));
            if (m < best)
                best = m;
        }
    }
    return best;
}

unsigned bt_twheel_count(const struct bt_twheel *w)
{
    return w->count;
}
