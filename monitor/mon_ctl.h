/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Control commands (DESIGN.md contract 3): encoded as one JSON line each,
 * {"id": n, "cmd": "fail"|"restore"|"add"|"weight", "sgm": <id>, ...},
 * and matched with their replies {"id": n, "ok": ...} by id, so the screen
 * can say what became of each. No I/O: the driver writes the bytes.
 */
#ifndef MON_CTL_H
#define MON_CTL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "mon_frame.h"

enum mon_cmd_kind {
    MON_CMD_FAIL,
    MON_CMD_RESTORE,
    MON_CMD_ADD,
    MON_CMD_WEIGHT,
};

struct mon_cmd {
    enum mon_cmd_kind kind;
    int sgm;       /* 1..64 */
    int weight;    /* MON_CMD_WEIGHT: 0..512; MON_CMD_ADD: 0..512 or -1 (gateway default) */
};

#define MON_CTL_PENDING 8

struct mon_ctl {
    uint64_t next_id;
    struct {
        bool used;
        uint64_t id, sent_ns;
        struct mon_cmd cmd;
    } pend[MON_CTL_PENDING];
};

void mon_ctl_init(struct mon_ctl *c);
/* Checks cmd, encodes it as one line ending in '\n' into buf (cap bytes,
 * caller's) and records it as waiting for a reply. Returns the line's length,
 * -EINVAL (sgm or weight out of range), -ENOSPC (buf too small) or -EBUSY
 * (MON_CTL_PENDING commands are still waiting). *id (may be NULL) gets the
 * command's id. */
int mon_ctl_encode(struct mon_ctl *c, const struct mon_cmd *cmd, uint64_t now_ns, char *buf,
                   size_t cap, uint64_t *id);
/* Forgets a command whose line could not be sent. */
void mon_ctl_forget(struct mon_ctl *c, uint64_t id);
/* Matches a reply with its command and writes what happened into msg
 * ("fail SGM 7: ok", "weight SGM 3 200: refused: no such member").
 * 0, or -ENOENT when no command of this id is waiting (msg says so too). */
int mon_ctl_reply(struct mon_ctl *c, const struct mon_reply *r, char *msg, size_t len);
/* The oldest command waiting longer than timeout_ns is given up: 1 with msg
 * ("fail SGM 7: no reply"), else 0. */
int mon_ctl_expire(struct mon_ctl *c, uint64_t now_ns, uint64_t timeout_ns, char *msg,
                   size_t len);
/* The connection is gone: every waiting command is given up; returns how many. */
unsigned mon_ctl_drop_all(struct mon_ctl *c);
/* "fail SGM 7", "restore SGM 7", "add SGM 53", "weight SGM 3 200". */
char *mon_cmd_text(const struct mon_cmd *cmd, char *buf, size_t len);

#endif
