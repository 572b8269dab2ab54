/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Batch frames (like top -b): plain text for scripts and logs, every
 * column at full width, one frame per call, appended to a text buffer.
 */
#ifndef MON_BATCH_H
#define MON_BATCH_H

#include <stdint.h>

#include "mon_fmt.h"
#include "mon_model.h"

/* Appends one frame for m to out (caller's): a header (stream time, members
 * up, policy, link, bad lines), the cluster totals, one row per member in
 * `by` order, then the events logged after *ev_seen (the caller's cursor,
 * advanced to the last one printed; start it at 0). */
void mon_batch_frame(const struct mon_model *m, enum mon_sort by, uint64_t *ev_seen,
                     struct mon_buf *out);
/* "live", "stale", "disconnected", "connecting", "replay", "replay ended" */
const char *mon_link_name(enum mon_link link);

#endif
