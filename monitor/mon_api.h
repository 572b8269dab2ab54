/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * baton-monitor's core: the stats stream (DESIGN.md contract 2) parsed into a
 * model in which a missing figure is absent, never zero, and rendered into
 * text frames (the batch mode; the ncurses front end draws the same rows).
 */
#ifndef MON_API_H
#define MON_API_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#define MON_MAX_MEMBERS 64
#define MON_MAX_EVENTS 16

/* A figure that may be missing from the stream. */
struct mon_val {
    double v;
    bool present;
};

struct mon_member {
    int id;
    char state[12];           /* "up", "down", "joining", "syncing", or "" */
    struct mon_val weight, pps, bps, conns, backup_conns, cps, sync_tx_pps, sync_tx_bps,
        sync_rx_pps, sync_rx_bps, corrections_pps, drops, cpu;
};

struct mon_event {
    double t;
    char event[16];
    int sgm;
};

struct mon_frame {
    struct mon_val t, seq;
    struct mon_val pps, bps, conns, cps, sync_bps, members_up, members_total, policy_version;
    unsigned nmembers;
    struct mon_member m[MON_MAX_MEMBERS];
    unsigned nevents;
    struct mon_event ev[MON_MAX_EVENTS];
};

/* Parses one stats line. 0, or -EINVAL (not JSON, not an object, schema
 * other than 1): the caller skips and counts it. Unknown keys are ignored. */
int mon_frame_parse(const char *line, size_t len, struct mon_frame *f);
/* "12.3K", "4.56M", "1.20G"; "-" when absent. buf >= 16. */
char *mon_fmt_si(struct mon_val v, char *buf, unsigned len);
/* One batch frame (like top -b): a header with the cluster totals, then one
 * row per member with its expected and actual share of traffic, and the
 * events of the frame. bad_lines: malformed lines skipped so far. */
void mon_frame_print(const struct mon_frame *f, uint64_t bad_lines, FILE *out);

#endif
