/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * A hashed timer wheel with explicit time: timers are intrusive nodes the
 * caller embeds in its own structures (no allocation per timer). Expiry is
 * driven by bt_twheel_advance(now_ns); timers fire in deadline order within
 * one tick granularity, deterministic for the same inputs.
 */
#ifndef BT_TIMER_WHEEL_H
#define BT_TIMER_WHEEL_H

#include <stdint.h>
#include <stdbool.h>

struct bt_timer;
typedef void (*bt_timer_fn)(struct bt_timer *t, uint64_t now_ns, void *arg);

struct bt_timer {
    struct bt_timer *next, *prev;
    uint64_t deadline_ns;
    bt_timer_fn fn;
    void *arg;
};

struct bt_twheel;

/* tick_ns: granularity; nslots: power of two. start_ns: the wheel's "now". */
struct bt_twheel *bt_twheel_new(uint64_t tick_ns, uint32_t nslots, uint64_t start_ns);
struct bt_twheel *bt_twheel_free(struct bt_twheel *w);
void bt_timer_init(struct bt_timer *t, bt_timer_fn fn, void *arg);
/* (Re)arms t at deadline_ns (a past deadline fires at the next advance). */
void bt_twheel_arm(struct bt_twheel *w, struct bt_timer *t, uint64_t deadline_ns);
void bt_twheel_cancel(struct bt_twheel *w, struct bt_timer *t);
bool bt_timer_armed(const struct bt_timer *t);
/* Fires every timer with deadline <= now_ns; returns how many fired. A
 * callback may re-arm or cancel any timer. */
unsigned bt_twheel_advance(struct bt_twheel *w, uint64_t now_ns);
/* Earliest armed deadline, or UINT64_MAX if none. */
uint64_t bt_twheel_next_ns(const struct bt_twheel *w);
unsigned bt_twheel_count(const struct bt_twheel *w);

#endif
