/* SPDX-License-Identifier: BSD-3-Clause */
#include "mon_keys.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void mon_view_init(struct mon_view *v, bool control)
{
    memset(v, 0, sizeof(*v));
    v->control = control;
    v->page = 1;
    v->cursor_id = -1;
}

void mon_view_clamp(struct mon_view *v, const struct mon_model *m, const unsigned *idx,
                    unsigned nrows)
{
    int n = (int)nrows, page = v->page > 0 ? v->page : 1;

    if (v->cursor_id > 0)
        for (int r = 0; r < n; r++)
            if (m->cur.m[idx[r]].id == v->cursor_id)
                v->cursor = r;
    if (v->cursor >= n)
        v->cursor = n - 1;
    if (v->cursor < 0)
        v->cursor = 0;
    v->cursor_id = n ? m->cur.m[idx[v->cursor]].id : -1;
    if (v->cursor < v->top)
        v->top = v->cursor;
    if (v->cursor >= v->top + page)
        v->top = v->cursor - page + 1;
    if (v->top > n - page)
        v->top = n - page;
    if (v->top < 0)
        v->top = 0;
}

static const struct mon_member *find(const struct mon_model *m, int id)
{
    for (unsigned i = 0; i < m->cur.nmembers; i++)
        if (m->cur.m[i].id == id)
            return &m->cur.m[i];
    return NULL;
}

static void start_input(struct mon_view *v, enum mon_cmd_kind kind, int sgm, int prefill)
{
    v->pending = (struct mon_cmd){kind, sgm, kind == MON_CMD_ADD ? -1 : 0};
    v->mode = MON_MODE_INPUT;
    v->ninput = 0;
    v->input[0] = '\0';
    v->input_prefilled = prefill >= 0;
    if (prefill >= 0)
        v->ninput = (unsigned)snprintf(v->input, sizeof(v->input), "%d", prefill);
}

/* f, r, a, w in normal mode */
static enum mon_action command_key(struct mon_view *v, const struct mon_model *m, int key)
{
    const struct mon_member *x = v->cursor_id > 0 ? find(m, v->cursor_id) : NULL;

    if (!v->control) {
        snprintf(v->msg, sizeof(v->msg), "commands need a live cluster (--connect)");
        return MON_ACT_REDRAW;
    }
    if (key == 'a') {
        int id = 1;
        while (id <= MON_MAX_MEMBERS && find(m, id))
            id++;
        if (id > MON_MAX_MEMBERS) {
            snprintf(v->msg, sizeof(v->msg), "the cluster has %d members already", MON_MAX_MEMBERS);
            return MON_ACT_REDRAW;
        }
        start_input(v, MON_CMD_ADD, 0, id);
        return MON_ACT_REDRAW;
    }
    if (!x) {
        snprintf(v->msg, sizeof(v->msg), "no member selected");
        return MON_ACT_REDRAW;
    }
    v->msg[0] = '\0';
    if (key == 'w') {
        /* the current weight is suggested only when it is one the command
         * takes: a stream's weight is any number (1e300 does not fit an int,
         * 1e9 not the input) */
        bool ok = x->weight.present && x->weight.v >= 0 && x->weight.v <= 512;
        start_input(v, MON_CMD_WEIGHT, x->id, ok ? (int)x->weight.v : -1);
        return MON_ACT_REDRAW;
    }
    v->pending = (struct mon_cmd){key == 'f' ? MON_CMD_FAIL : MON_CMD_RESTORE, x->id, 0};
    v->mode = MON_MODE_CONFIRM;
    return MON_ACT_REDRAW;
}

/* INPUT mode: the id of a member to add (pending.sgm still 0), then the
 * weight (of the member to add, or of the selected one). */
static enum mon_action input_key(struct mon_view *v, const struct mon_model *m, int key)
{
    bool add = v->pending.kind == MON_CMD_ADD && v->pending.sgm == 0;

    if (key >= '0' && key <= '9') {
        if (v->input_prefilled)
            v->ninput = 0;
        v->input_prefilled = false;
        if (v->ninput < (add ? 2u : 3u)) {
            v->input[v->ninput++] = (char)key;
            v->input[v->ninput] = '\0';
        }
        return MON_ACT_REDRAW;
    }
    if (key == MON_KEY_BACKSPACE || key == 127 || key == 8) {
        v->input_prefilled = false;
        if (v->ninput)
            v->input[--v->ninput] = '\0';
        return MON_ACT_REDRAW;
    }
    if (key == MON_KEY_ESC) {
        v->mode = MON_MODE_NORMAL;
        snprintf(v->msg, sizeof(v->msg), "cancelled");
        return MON_ACT_REDRAW;
    }
    if (key != MON_KEY_ENTER && key != '\r')
        return MON_ACT_NONE;
    int n = v->ninput ? atoi(v->input) : -1;
    if (add && (n < 1 || n > MON_MAX_MEMBERS)) {
        snprintf(v->msg, sizeof(v->msg), "member id: 1..%d", MON_MAX_MEMBERS);
        return MON_ACT_REDRAW;
    }
    if (add && find(m, n)) {
        snprintf(v->msg, sizeof(v->msg), "SGM %d is already a member", n);
        return MON_ACT_REDRAW;
    }
    if (!add && (n < 0 || n > 512)) {
        snprintf(v->msg, sizeof(v->msg), "weight: 0..512");
        return MON_ACT_REDRAW;
    }
    v->msg[0] = '\0';
    if (add) {
        /* next: the new member's weight, 100 suggested */
        start_input(v, MON_CMD_ADD, n, 100);
        return MON_ACT_REDRAW;
    }
    v->pending.weight = n;
    v->mode = MON_MODE_CONFIRM;
    return MON_ACT_REDRAW;
}

static enum mon_action view_key(struct mon_view *v, const struct mon_model *m, int key,
                                struct mon_cmd *cmd)
{
    unsigned idx[MON_MAX_MEMBERS], n;
    int page = v->page > 0 ? v->page : 1;

    switch (v->mode) {
    case MON_MODE_HELP:
        v->mode = MON_MODE_NORMAL;
        return MON_ACT_REDRAW;
    case MON_MODE_INPUT:
        return input_key(v, m, key);
    case MON_MODE_CONFIRM:
        v->mode = MON_MODE_NORMAL;
        if (key == 'y' || key == 'Y') {
            *cmd = v->pending;
            return MON_ACT_SEND;
        }
        snprintf(v->msg, sizeof(v->msg), "cancelled");
        return MON_ACT_REDRAW;
    case MON_MODE_NORMAL:
        break;
    }
    /* the rows may have changed since the last key (new line, first key) */
    n = mon_model_order(m, v->sort, idx);
    mon_view_clamp(v, m, idx, n);
    switch (key) {
    case 'q':
    case 'Q':
        return MON_ACT_QUIT;
    case 'p':
    case ' ':
        v->paused = !v->paused;
        return MON_ACT_REDRAW;
    case 's':
        /* a new order is read from its top: the cursor goes there too */
        v->sort = (enum mon_sort)((v->sort + 1) % MON_SORT_N);
        v->cursor = v->top = 0;
        v->cursor_id = -1;
        break;
    case 'h':
    case '?':
        v->mode = MON_MODE_HELP;
        return MON_ACT_REDRAW;
    case 'f':
    case 'r':
    case 'a':
    case 'w':
        return command_key(v, m, key);
    case MON_KEY_ESC:
        v->msg[0] = '\0';
        return MON_ACT_REDRAW;
    case MON_KEY_UP:
    case 'k':
        v->cursor--;
        v->cursor_id = -1;
        break;
    case MON_KEY_DOWN:
    case 'j':
        v->cursor++;
        v->cursor_id = -1;
        break;
    case MON_KEY_PGUP:
        v->cursor -= page;
        v->top -= page;
        v->cursor_id = -1;
        break;
    case MON_KEY_PGDN:
        v->cursor += page;
        v->top += page;
        v->cursor_id = -1;
        break;
    case MON_KEY_HOME:
        v->cursor = v->top = 0;
        v->cursor_id = -1;
        break;
    case MON_KEY_END:
        v->cursor = MON_MAX_MEMBERS;
        v->cursor_id = -1;
        break;
    default:
        return MON_ACT_NONE;
    }
    return MON_ACT_REDRAW;   /* the move is clamped by mon_view_key */
}

enum mon_action mon_view_key(struct mon_view *v, const struct mon_model *m, int key,
                             struct mon_cmd *cmd)
{
    enum mon_action a = view_key(v, m, key, cmd);

    /* whenever the view is (back) in the list: after a move, and back from
     * a prompt, a confirmation or the help, whose rows may be fewer than
     * when it opened (stats lines came in meanwhile); the cursor and the
     * first row are put inside the rows at once, not at the next draw */
    if (v->mode == MON_MODE_NORMAL) {
        unsigned idx[MON_MAX_MEMBERS], n = mon_model_order(m, v->sort, idx);
        mon_view_clamp(v, m, idx, n);
    }
    return a;
}

const char *mon_view_prompt(const struct mon_view *v, char *buf, unsigned len)
{
    const struct mon_cmd *c = &v->pending;

    buf[0] = '\0';
    if (v->mode == MON_MODE_INPUT && c->kind == MON_CMD_ADD && c->sgm == 0)
        snprintf(buf, len, "Add member, SGM id (1-%d): %s_   Enter: next, Esc: cancel",
                 MON_MAX_MEMBERS, v->input);
    else if (v->mode == MON_MODE_INPUT && c->kind == MON_CMD_ADD)
        snprintf(buf, len, "Weight of the new SGM %d (0-512): %s_   Enter: next, Esc: cancel",
                 c->sgm, v->input);
    else if (v->mode == MON_MODE_INPUT)
        snprintf(buf, len, "Weight of SGM %d (0-512): %s_   Enter: next, Esc: cancel", c->sgm,
                 v->input);
    else if (v->mode == MON_MODE_CONFIRM && c->kind == MON_CMD_FAIL)
        snprintf(buf, len, "Fail SGM %d? (y/n)", c->sgm);
    else if (v->mode == MON_MODE_CONFIRM && c->kind == MON_CMD_RESTORE)
        snprintf(buf, len, "Restore SGM %d? (y/n)", c->sgm);
    else if (v->mode == MON_MODE_CONFIRM && c->kind == MON_CMD_ADD)
        snprintf(buf, len, "Add SGM %d with weight %d? (y/n)", c->sgm, c->weight);
    else if (v->mode == MON_MODE_CONFIRM && c->kind == MON_CMD_WEIGHT)
        snprintf(buf, len, "Set the weight of SGM %d to %d? (y/n)", c->sgm, c->weight);
    return buf;
}
