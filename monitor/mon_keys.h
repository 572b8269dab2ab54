/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The keys of the live view as a state machine over a small view state:
 * cursor and scrolling over the sorted member rows, sort order, pause,
 * help, and the commands that change the cluster (f fail, r restore,
 * a add, w weight), each of which asks for confirmation before it is
 * handed to the driver. No terminal here: the front end maps its key codes
 * to these.
 */
#ifndef MON_KEYS_H
#define MON_KEYS_H

#include <stdbool.h>

#include "mon_ctl.h"
#include "mon_model.h"

enum mon_key {
    MON_KEY_ENTER = '\n',
    MON_KEY_ESC = 27,
    MON_KEY_UP = 0x1000,
    MON_KEY_DOWN,
    MON_KEY_LEFT,
    MON_KEY_RIGHT,
    MON_KEY_PGUP,
    MON_KEY_PGDN,
    MON_KEY_HOME,
    MON_KEY_END,
    MON_KEY_BACKSPACE,
};

enum mon_mode {
    MON_MODE_NORMAL,
    MON_MODE_HELP,
    MON_MODE_INPUT,     /* typing a number: the id to add, or a weight */
    MON_MODE_CONFIRM,   /* y sends the pending command, anything else cancels */
};

enum mon_action {
    MON_ACT_NONE,       /* key ignored */
    MON_ACT_REDRAW,     /* the view changed */
    MON_ACT_QUIT,
    MON_ACT_SEND,       /* *cmd is confirmed: send it */
};

struct mon_view {
    enum mon_mode mode;
    enum mon_sort sort;
    bool paused;
    bool control;            /* commands allowed (live, --connect) */
    int cursor;              /* row index in sorted order */
    int cursor_id;           /* member under the cursor: kept as new lines reorder rows */
    int top;                 /* first row shown */
    int page;                /* member rows that fit (set by the layout) */
    struct mon_cmd pending;
    char input[8];
    unsigned ninput;
    bool input_prefilled;    /* the first digit typed replaces the suggestion */
    char msg[120];           /* status message (replies, refusals); "" none */
};

/* Zeroes v; control: whether f/r/a/w may send commands. */
void mon_view_init(struct mon_view *v, bool control);
/* Handles one key. m is the model shown (member ids, weights, states for
 * the prompts). On MON_ACT_SEND *cmd (caller's) is the confirmed command. */
enum mon_action mon_view_key(struct mon_view *v, const struct mon_model *m, int key,
                             struct mon_cmd *cmd);
/* Re-finds the cursor's member after the rows changed (new line, new sort)
 * and keeps cursor and top inside [0, nrows) and the page. idx: rows in
 * sorted order (from mon_model_order). */
void mon_view_clamp(struct mon_view *v, const struct mon_model *m, const unsigned *idx,
                    unsigned nrows);
/* The prompt line while in INPUT or CONFIRM mode ("" otherwise). */
const char *mon_view_prompt(const struct mon_view *v, char *buf, unsigned len);

#endif
