/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The event scheduler of the sim drivers: a min-heap of (time, sequence)
 * ordered callbacks on a virtual clock. Ties fire in insertion order, so a
 * simulation is deterministic.
 */
#ifndef BT_SCHED_H
#define BT_SCHED_H

#include <stdint.h>

struct bt_sched;
typedef void (*bt_sched_fn)(void *arg, uint64_t now_ns);

struct bt_sched *bt_sched_new(void);
struct bt_sched *bt_sched_free(struct bt_sched *s);
/* Schedules fn(arg, t_ns). Returns an id > 0, or -ENOMEM. */
int64_t bt_sched_at(struct bt_sched *s, uint64_t t_ns, bt_sched_fn fn, void *arg);
/* Cancels a scheduled id (no-op if it already ran). */
void bt_sched_cancel(struct bt_sched *s, int64_t id);
/* Time of the next pending callback, UINT64_MAX if none. */
uint64_t bt_sched_next_ns(const struct bt_sched *s);
/* Runs every callback with t <= until_ns in order, advancing now; callbacks
 * may schedule more. Returns how many ran. */
uint64_t bt_sched_run_until(struct bt_sched *s, uint64_t until_ns);
/* Runs the single earliest callback; 0 if none pending, else 1. */
int bt_sched_step(struct bt_sched *s);
uint64_t bt_sched_now(const struct bt_sched *s);
uint64_t bt_sched_pending(const struct bt_sched *s);

#endif
