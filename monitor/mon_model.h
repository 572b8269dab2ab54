/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * What the monitor knows about the cluster: the latest stats line, the
 * figures derived from it (each member's expected and actual share, whether
 * it is off its weight share, drops per second), a history of the cluster's
 * packet rate for the sparkline, a log of events, the count of bad lines and
 * the state of the link. Time is explicit (now_ns from the driver's clock);
 * no I/O.
 */
#ifndef MON_MODEL_H
#define MON_MODEL_H

#include <stdbool.h>
#include <stdint.h>

#include "mon_frame.h"

#define MON_HIST 512        /* cluster pps samples kept for the sparkline */
#define MON_EVLOG 128       /* events kept for the event pane */

enum mon_link {
    MON_LINK_CONNECTING,    /* live: not connected yet */
    MON_LINK_LIVE,          /* live: lines arriving */
    MON_LINK_STALE,         /* live: connected, but no line for a while */
    MON_LINK_DOWN,          /* live: connection lost, reconnecting */
    MON_LINK_REPLAY,        /* replaying a file */
    MON_LINK_ENDED,         /* the replayed file is finished */
};

/* Figures computed from a frame, per member (same index as frame.m). */
struct mon_derived {
    struct mon_val exp_pct;   /* weight / sum of the weights of the members up */
    struct mon_val act_pct;   /* the member's share of the members' packets per second */
    struct mon_val drops_ps;  /* drops over the interval, per second */
    bool off;                 /* up, and its actual share is off the expected one */
    bool down;                /* state down (or any state but up, joining, syncing) */
};

struct mon_logged_event {
    struct mon_event ev;
    uint64_t seq;             /* 1, 2, ... over the whole run */
};

enum mon_sort {
    MON_SORT_ID,        /* ascending member id */
    MON_SORT_PPS,       /* busiest first */
    MON_SORT_OFF,       /* furthest off its share first */
    MON_SORT_CONNS,     /* most connections first */
    MON_SORT_CPU,       /* busiest CPU first */
    MON_SORT_STATE,     /* down first, then joining/syncing, then up; by id */
    MON_SORT_N,
};

struct mon_model {
    struct mon_frame cur;
    struct mon_derived d[MON_MAX_MEMBERS];
    bool have;                      /* a stats line arrived */
    struct mon_val dt;              /* cur.t - previous t, when both known and > 0 */

    struct mon_val hist[MON_HIST];  /* cluster pps, oldest first once full (ring) */
    unsigned hist_len, hist_next;

    struct mon_logged_event evlog[MON_EVLOG];  /* ring, like hist */
    unsigned evlog_len, evlog_next;
    uint64_t events;                /* events seen in total (some may not be kept) */

    uint64_t lines, lines_stats, lines_bad, replies;
    char last_bad[160];             /* "line 17: not JSON: col 1: ..." */

    enum mon_link link;
    uint64_t link_since_ns;
    uint64_t last_rx_ns;            /* last line of any kind */
    uint64_t last_stats_ns;         /* last stats line (0: none yet) */
    uint64_t interval_ns;           /* smoothed time between stats lines (0 unknown) */
    unsigned reconnects;
};

/* Zeroes m; link is the initial state (MON_LINK_CONNECTING or _REPLAY). */
void mon_model_init(struct mon_model *m, enum mon_link link, uint64_t now_ns);
/* Feeds one line (len bytes, no '\n' needed). Stats lines update the model;
 * replies are copied to *reply (caller's; may be NULL) and counted; bad
 * lines are counted with their reason. Returns MON_LINE_STATS,
 * MON_LINE_REPLY, or -EINVAL (bad, skipped). Blank lines are ignored (0) but
 * counted in `lines`, so that bad lines are named by their line number. */
int mon_model_feed(struct mon_model *m, uint64_t now_ns, const char *line, size_t len,
                   struct mon_reply *reply);
/* Counts a line the driver could not even hand over (too long, cut off by a
 * closed socket); reason is a short text. */
void mon_model_bad(struct mon_model *m, const char *reason);
/* The driver's view of the link changed (connected, lost, replay ended). */
void mon_model_set_link(struct mon_model *m, enum mon_link link, uint64_t now_ns);
/* Marks a live link stale when no line came for 3 intervals (at least 2 s)
 * and live again when lines come back. Call on every loop turn. */
void mon_model_tick(struct mon_model *m, uint64_t now_ns);
/* ns after which a live link turns stale. */
uint64_t mon_model_stale_after(const struct mon_model *m);

/* Fills idx[0..n) with member indexes (into cur.m) in the given order;
 * returns n = cur.nmembers. idx holds MON_MAX_MEMBERS (caller's). */
unsigned mon_model_order(const struct mon_model *m, enum mon_sort by, unsigned *idx);
const char *mon_sort_name(enum mon_sort by);
/* Cluster pps sample i (0 = oldest kept) of hist_len. */
struct mon_val mon_model_hist(const struct mon_model *m, unsigned i);
/* Event i (0 = oldest kept) of mon_model_nevents(); NULL past the end. */
const struct mon_logged_event *mon_model_event(const struct mon_model *m, unsigned i);
unsigned mon_model_nevents(const struct mon_model *m);
/* One event as text: "sgm_down SGM 3", "weight SGM 1 -> 300", "policy v2". */
char *mon_event_text(const struct mon_event *e, char *buf, unsigned len);

#endif
