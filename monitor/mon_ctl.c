/* SPDX-License-Identifier: BSD-3-Clause */
#include "mon_ctl.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>

static const char *const cmd_names[] = {
    [MON_CMD_FAIL] = "fail",
    [MON_CMD_RESTORE] = "restore",
    [MON_CMD_ADD] = "add",
    [MON_CMD_WEIGHT] = "weight",
};

void mon_ctl_init(struct mon_ctl *c)
{
    memset(c, 0, sizeof(*c));
    c->next_id = 1;
}

char *mon_cmd_text(const struct mon_cmd *cmd, char *buf, size_t len)
{
    const char *name = (unsigned)cmd->kind < sizeof(cmd_names) / sizeof(cmd_names[0])
                           ? cmd_names[cmd->kind] : "?";

    if (cmd->kind == MON_CMD_WEIGHT || (cmd->kind == MON_CMD_ADD && cmd->weight >= 0))
        snprintf(buf, len, "%s SGM %d %s%d", name, cmd->sgm,
                 cmd->kind == MON_CMD_ADD ? "weight " : "", cmd->weight);
    else
        snprintf(buf, len, "%s SGM %d", name, cmd->sgm);
    return buf;
}

int mon_ctl_encode(struct mon_ctl *c, const struct mon_cmd *cmd, uint64_t now_ns, char *buf,
                   size_t cap, uint64_t *id)
{
    int slot = -1, n;

    if ((unsigned)cmd->kind >= sizeof(cmd_names) / sizeof(cmd_names[0]) || cmd->sgm < 1 ||
        cmd->sgm > MON_MAX_MEMBERS)
        return -EINVAL;
    if ((cmd->kind == MON_CMD_WEIGHT && (cmd->weight < 0 || cmd->weight > 512)) ||
        (cmd->kind == MON_CMD_ADD && cmd->weight > 512))
        return -EINVAL;
    for (int i = 0; i < MON_CTL_PENDING && slot < 0; i++)
        if (!c->pend[i].used)
            slot = i;
    if (slot < 0)
        return -EBUSY;
    if (cmd->kind == MON_CMD_WEIGHT || (cmd->kind == MON_CMD_ADD && cmd->weight >= 0))
        n = snprintf(buf, cap, "{\"id\":%llu,\"cmd\":\"%s\",\"sgm\":%d,\"weight\":%d}\n",
                     (unsigned long long)c->next_id, cmd_names[cmd->kind], cmd->sgm, cmd->weight);
    else
        n = snprintf(buf, cap, "{\"id\":%llu,\"cmd\":\"%s\",\"sgm\":%d}\n",
                     (unsigned long long)c->next_id, cmd_names[cmd->kind], cmd->sgm);
    if (n < 0 || (size_t)n >= cap)
        return -ENOSPC;
    c->pend[slot].used = true;
    c->pend[slot].id = c->next_id;
    c->pend[slot].sent_ns = now_ns;
    c->pend[slot].cmd = *cmd;
    if (id)
        *id = c->next_id;
    c->next_id++;
    return n;
}

void mon_ctl_forget(struct mon_ctl *c, uint64_t id)
{
    for (int i = 0; i < MON_CTL_PENDING; i++)
        if (c->pend[i].used && c->pend[i].id == id)
            c->pend[i].used = false;
}

int mon_ctl_reply(struct mon_ctl *c, const struct mon_reply *r, char *msg, size_t len)
{
    char what[48];

    for (int i = 0; i < MON_CTL_PENDING; i++) {
        if (!c->pend[i].used || c->pend[i].id != r->id)
            continue;
        c->pend[i].used = false;
        mon_cmd_text(&c->pend[i].cmd, what, sizeof(what));
        if (r->ok)
            snprintf(msg, len, "%s: ok", what);
        else
            snprintf(msg, len, "%s: refused: %s", what, r->error);
        return 0;
    }
    snprintf(msg, len, "reply to unknown command id %llu (%s)", (unsigned long long)r->id,
             r->ok ? "ok" : r->error);
    return -ENOENT;
}

int mon_ctl_expire(struct mon_ctl *c, uint64_t now_ns, uint64_t timeout_ns, char *msg,
                   size_t len)
{
    int oldest = -1;
    char what[48];

    for (int i = 0; i < MON_CTL_PENDING; i++)
        if (c->pend[i].used && now_ns > c->pend[i].sent_ns + timeout_ns &&
            (oldest < 0 || c->pend[i].id < c->pend[oldest].id))
            oldest = i;
    if (oldest < 0)
        return 0;
    c->pend[oldest].used = false;
    snprintf(msg, len, "%s: no reply", mon_cmd_text(&c->pend[oldest].cmd, what, sizeof(what)));
    return 1;
}

unsigned mon_ctl_drop_all(struct mon_ctl *c)
{
    unsigned n = 0;

    for (int i = 0; i < MON_CTL_PENDING; i++) {
        n += c->pend[i].used;
        c->pend[i].used = false;
    }
    return n;
}
