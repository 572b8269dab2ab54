/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * One line of the gateway's socket, parsed: a stats line (DESIGN.md
 * contract 2, docs/formats.md section 2) or a reply to a control command
 * (contract 3). A figure missing from the line is absent, never zero;
 * unknown keys are ignored; a line of the wrong shape is rejected whole
 * with the reason, so the caller can skip it, count it and show why.
 */
#ifndef MON_FRAME_H
#define MON_FRAME_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "mon_fmt.h"

#define MON_MAX_MEMBERS 64     /* member ids are 1..64 (contract 1) */
#define MON_MAX_FRAME_EVENTS 32

enum mon_state {
    MON_ST_ABSENT,   /* no "state" key */
    MON_ST_UP,
    MON_ST_DOWN,
    MON_ST_JOINING,
    MON_ST_SYNCING,
    MON_ST_OTHER,    /* a state this monitor does not know: shown as given */
};

struct mon_member {
    int id;
    enum mon_state state;
    char state_name[12];
    struct mon_val weight, pps, bps, conns, backup_conns, cps, sync_tx_pps, sync_tx_bps,
        sync_rx_pps, sync_rx_bps, corrections_pps, drops, cpu;
};

struct mon_event {
    struct mon_val t;
    char name[16];          /* sgm_down, sgm_up, sgm_join, weight, policy, or as given */
    struct mon_val sgm, weight, version;
};

struct mon_frame {
    struct mon_val t, seq;
    struct mon_val pps, bps, conns, cps, sync_bps, members_up, members_total, policy_version;
    unsigned nmembers;
    struct mon_member m[MON_MAX_MEMBERS];
    unsigned nevents;
    unsigned events_dropped;   /* beyond MON_MAX_FRAME_EVENTS in one line */
    struct mon_event ev[MON_MAX_FRAME_EVENTS];
};

/* A control reply: {"id": n, "ok": true} or {"id": n, "ok": false, "error": "..."} */
struct mon_reply {
    uint64_t id;
    bool ok;
    char error[120];
};

enum mon_line_kind {
    MON_LINE_STATS = 1,
    MON_LINE_REPLY = 2,
};

/* Parses one line (without or with its '\n'; need not be NUL-terminated).
 * Returns MON_LINE_STATS (f filled), MON_LINE_REPLY (r filled), or -EINVAL
 * with a short reason in why (e.g. "not JSON: col 7: ...", "schema 2, this
 * monitor reads 1", "sgms[3].pps: not a number"); f and r are then
 * unspecified. f, r and why (why_len bytes) belong to the caller. */
int mon_line_parse(const char *line, size_t len, struct mon_frame *f, struct mon_reply *r,
                   char *why, size_t why_len);
/* "up", "down", ... for a member's state; "-" when absent. */
const char *mon_state_name(const struct mon_member *m);

#endif
